create or replace package websocket_pkg
authid definer
as
  /*
   * websocket_pkg: push events from Oracle PL/SQL to browsers through Switchboard.
   *
   * The database cannot speak the WebSocket protocol: it calls Switchboard's REST API over
   * HTTP(S) and Switchboard delivers over WebSocket (docs/API.md, "REST calls"). The interface of
   * the original package is kept as it was (types, constants, register, unregister,
   * emit_to_user, emit_to_room), with emit_to_all, configure, mint_token, open_client and
   * close_client added.
   *
   * How it calls the server: with APEX_WEB_SERVICE when Oracle APEX is installed, with UTL_HTTP
   * otherwise (decided at run time, see configure's p_use_apex). p_data is checked to be JSON
   * (JSON_ELEMENT_T.parse) before anything is sent and is forwarded as the text given. Every
   * answer but 2xx raises ORA-20001 with the server's own message. Setup (install.sql, the
   * network ACL in acl.sql, https wallets): docs/oracle.md.
   *
   * Needs Oracle Database 12.2 or later (JSON_ELEMENT_T; DBMS_CRYPTO.HMAC_SH256 for mint_token).
   */

  -- Data Types
  subtype t_room is varchar2(4000);
  subtype t_token is varchar2(32767);
  subtype t_event is varchar2(130); -- same as DA Custom Event Name in APEX 5.1

  -- Global Variables
  c_prefix constant varchar2(20) := 'websocket:';
  c_separator constant varchar2(1) := ':';
  -- Predefined websocket event names
  c_message constant t_event := c_prefix || c_separator || 'message';
  c_refresh constant t_event := c_prefix || c_separator || 'refresh';

  -- Errors. Each carries a sentence that says what went wrong and, for e_http_error, the
  -- server's message: "websocket_pkg: HTTP 401 unauthorized: missing or wrong API key ...".
  e_http_error exception;       -- the server answered, but not with 2xx
  pragma exception_init(e_http_error, -20001);
  e_invalid_json exception;     -- p_data is not valid JSON: nothing was sent
  pragma exception_init(e_invalid_json, -20002);
  e_not_configured exception;   -- configure was never called (or p_jwt_secret is missing)
  pragma exception_init(e_not_configured, -20003);
  e_unreachable exception;      -- no answer: network, ACL (ORA-24247), wallet, timeout
  pragma exception_init(e_unreachable, -20004);
  e_invalid_argument exception; -- a parameter of configure, mint_token or close_client is wrong
  pragma exception_init(e_invalid_argument, -20005);
  e_not_owner exception;        -- configure was called by someone but the package's owner
  pragma exception_init(e_not_owner, -20006);

  /*
   * Stores the settings for every session (table websocket_config; committed at once in an
   * autonomous transaction). Only the package's owner may call it, logged in as itself (or
   * through a proxy connection to it), from an anonymous block or its own code: anyone else
   * gets e_not_owner (ORA-20006) and nothing changes. A grantee of EXECUTE could otherwise
   * point p_base_url at a host of its own and receive the API key with the next call, or
   * replace the key (docs/oracle.md, "3. Configure").
   *   p_base_url         the server, e.g. 'https://switchboard.example.com' or
   *                      'http://10.0.0.5:8080' (no path; a trailing / is dropped)
   *   p_api_key          the server's api_key (sent as X-API-Key, or as the Basic password
   *                      through APEX_WEB_SERVICE)
   *   p_wallet_path      for https: 'file:/u01/app/oracle/wallets/switchboard' (UTL_HTTP
   *                      set_wallet / APEX p_wallet_path); null uses the database's default
   *   p_wallet_password  the wallet's password; null for an auto-login wallet
   *   p_transfer_timeout seconds to wait for an answer (1..3600)
   *   p_jwt_secret       the server's jwt_secret, only for mint_token
   *   p_use_apex         'AUTO' (APEX_WEB_SERVICE when APEX is installed), 'YES' or 'NO'
   */
  procedure configure (
    p_base_url         in varchar2,
    p_api_key          in varchar2,
    p_wallet_path      in varchar2 default null,
    p_wallet_password  in varchar2 default null,
    p_transfer_timeout in pls_integer default 10,
    p_jwt_secret       in varchar2 default null,
    p_use_apex         in varchar2 default 'AUTO'
  );

  -- Register a user session for a websocket room and return JSON Web Token (JWT). The token
  -- can be used by the client later to actually join the room (POST /api/register).
  procedure register (
    p_room       in t_room,
    p_user_name  in varchar2,
    p_session_id in varchar2,
    p_token      out t_token
  );

  -- Removes the user access for a room: connections of (room, user, session) leave it at once
  -- and tokens issued for them before are refused (POST /api/unregister).
  procedure unregister (
    p_room       in t_room,
    p_user_name  in varchar2,
    p_session_id in varchar2
  );

  -- Send a message to a single user (all of the user's connections) to trigger a JavaScript
  -- event. p_data must be valid JSON.
  procedure emit_to_user (
    p_user_name in varchar2,
    p_event     in t_event,
    p_data      in clob default null
  );

  -- Send a message to all users in a websocket room. A good name for a room is
  -- 'prefix:entity:id' (for example 'hr:emp:1234'). p_data must be valid JSON.
  procedure emit_to_room (
    p_room  in varchar2,
    p_event in t_event,
    p_data  in clob default null
  );

  -- Send a message to every connection that has joined a room.
  procedure emit_to_all (
    p_event in t_event,
    p_data  in clob default null
  );

  -- A token signed in the database (HS256 with the p_jwt_secret of configure, DBMS_CRYPTO),
  -- with no round trip to the server: claims sub, room, sid, iat, exp and, with p_publish,
  -- pub. The server accepts it like one of register. p_ttl_seconds: 1..604800 (the server's
  -- token_max_ttl may be lower).
  function mint_token (
    p_room        in t_room,
    p_user_name   in varchar2,
    p_session_id  in varchar2,
    p_ttl_seconds in pls_integer default 86400,
    p_publish     in boolean default false
  ) return t_token;

  -- Opens an outbound WebSocket client on the server (POST /api/clients, docs/endpoints.md,
  -- "Outbound clients"): the server connects to p_uri (ws:// or wss://) and emits each text
  -- message it receives to room p_room as event p_event. The client reconnects by itself
  -- after a loss and survives a restart of the server, until close_client. Returns the
  -- client's id given by the server, such as 'w1'. A bad p_uri (not ws/wss, no host) or more
  -- than the server's max_clients raise e_http_error (ORA-20001) with the server's message.
  function open_client (
    p_uri   in varchar2,
    p_room  in varchar2,
    p_event in varchar2
  ) return varchar2;

  -- Closes the outbound client p_id for good (DELETE /api/clients/{id}). An unknown id (404)
  -- raises e_http_error (ORA-20001) with the server's message.
  procedure close_client (
    p_id in varchar2
  );

  -- The id the server gave the last emit of this session (null before the first).
  function last_message_id return number;

  -- How many connections the last unregister of this session took out of the room.
  function last_removed_count return pls_integer;

end websocket_pkg;
/

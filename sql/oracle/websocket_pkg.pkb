create or replace package body websocket_pkg
as
  /*
   * How the requests look on the wire (tests/integration/data/*.http replay them byte for byte
   * against switchboardd, see tests/integration/tst_database_http.cpp):
   *
   * UTL_HTTP (http_utl below), a body of at most c_max_inline_bytes UTF-8 bytes:
   *   POST /api/emit/room HTTP/1.1
   *   Host: <host>:<port>                              (set by UTL_HTTP for HTTP/1.1)
   *   Content-Type: application/json; charset=utf-8
   *   Accept: application/json
   *   X-API-Key: <api key>
   *   User-Agent: websocket_pkg/1
   *   Content-Length: <bytes>
   *
   *   {"room":"...","event":"...","data":...}
   * A larger body is sent with "Transfer-Encoding: chunked" instead of Content-Length, in
   * pieces of c_piece_bytes (UTL_HTTP writes the chunk framing). The body is converted to
   * UTF-8 once (DBMS_LOB.CONVERTTOBLOB) and written with WRITE_RAW: WRITE_TEXT converts each
   * piece on its own, and a piece that ends inside a character (a surrogate pair of the CLOB)
   * would be corrupted. See utl-content-length.http and utl-chunked.http.
   *
   * APEX_WEB_SERVICE.MAKE_REST_REQUEST (http_apex below): the same body and Content-Type (in
   * g_request_headers), the key as the password of HTTP Basic (p_scheme => 'Basic', user
   * c_basic_user), which the server accepts for every /api call (docs/API.md, "Authentication"). See apex-basic.http and
   * apex-basic-chunked.http.
   *
   * close_client sends DELETE /api/clients/<id> the same way with no body: no Content-Type,
   * no Content-Length (UTL_HTTP), and the method in p_http_method (APEX).
   */

  c_basic_user constant varchar2(30) := 'switchboard';
  c_user_agent constant varchar2(30) := 'websocket_pkg/1';
  c_max_inline_bytes constant pls_integer := 32767; -- one WRITE_RAW with Content-Length
  c_piece_bytes constant pls_integer := 32000;      -- WRITE_RAW pieces of a chunked body
  c_max_error_text constant pls_integer := 1500;    -- of the server's message in ORA-20001

  g_last_message_id number;
  g_last_removed pls_integer;
  g_apex_available varchar2(1); -- 'Y' / 'N' once looked up in this session

  type t_settings is record (
    base_url         websocket_config.base_url%type,
    api_key          websocket_config.api_key%type,
    wallet_path      websocket_config.wallet_path%type,
    wallet_password  websocket_config.wallet_password%type,
    transfer_timeout websocket_config.transfer_timeout%type,
    jwt_secret       websocket_config.jwt_secret%type,
    use_apex         websocket_config.use_apex%type
  );

  ------------------------------------------------------------------------------------------
  -- Helpers
  ------------------------------------------------------------------------------------------

  -- A JSON string literal for p_text (RFC 8259: ", \ and the control characters escaped).
  function json_string (p_text in varchar2) return varchar2
  is
    l_text varchar2(32767) := p_text;
  begin
    if p_text is null then
      return 'null';
    end if;
    l_text := replace(l_text, '\', '\\');
    l_text := replace(l_text, '"', '\"');
    l_text := replace(l_text, chr(8), '\b');
    l_text := replace(l_text, chr(9), '\t');
    l_text := replace(l_text, chr(10), '\n');
    l_text := replace(l_text, chr(12), '\f');
    l_text := replace(l_text, chr(13), '\r');
    for i in 0 .. 31 loop
      if i not in (8, 9, 10, 12, 13) then
        l_text := replace(l_text, chr(i), '\u' || lpad(to_char(i, 'fmXX'), 4, '0'));
      end if;
    end loop;
    return '"' || l_text || '"';
  end json_string;

  -- Raises e_invalid_json unless p_data is null (or empty) or valid JSON.
  procedure check_json (p_data in clob)
  is
    l_element json_element_t;
  begin
    if p_data is null or dbms_lob.getlength(p_data) = 0 then
      return;
    end if;
    l_element := json_element_t.parse(p_data);
  exception
    when others then
      raise_application_error(-20002,
        'websocket_pkg: p_data is not valid JSON, nothing was sent: ' || sqlerrm);
  end check_json;

  -- {<p_fields>,"data":<p_data>} with p_data as given (numbers keep their digits). Built by
  -- concatenation: DBMS_LOB amounts count UTF-16 code units, LENGTH does not.
  function json_body (p_fields in varchar2, p_data in clob) return clob
  is
    l_body clob;
  begin
    l_body := to_clob('{' || p_fields);
    if p_data is not null and dbms_lob.getlength(p_data) > 0 then
      l_body := l_body || ',"data":' || p_data;
    end if;
    return l_body || '}';
  end json_body;

  function settings return t_settings
  is
    l_settings t_settings;
  begin
    select base_url, api_key, wallet_path, wallet_password, transfer_timeout, jwt_secret,
           use_apex
      into l_settings
      from websocket_config
     where id = 1;
    return l_settings;
  exception
    when no_data_found then
      raise_application_error(-20003,
        'websocket_pkg is not configured: call websocket_pkg.configure(p_base_url, p_api_key) '
        || 'first');
  end settings;

  -- APEX_WEB_SERVICE is used when configure said so, or (AUTO) when it exists here.
  function use_apex (p_setting in varchar2) return boolean
  is
    l_count pls_integer;
  begin
    if p_setting = 'YES' then
      return true;
    elsif p_setting = 'NO' then
      return false;
    end if;
    if g_apex_available is null then
      select count(*)
        into l_count
        from all_objects
       where object_name = 'APEX_WEB_SERVICE'
         and object_type in ('PACKAGE', 'SYNONYM');
      g_apex_available := case when l_count > 0 then 'Y' else 'N' end;
    end if;
    return g_apex_available = 'Y';
  end use_apex;

  -- ORA-20004 for a call that got no answer, with a hint for the usual causes; the original
  -- error stays on the stack (keep_error_stack => true).
  procedure raise_unreachable (p_url in varchar2, p_error in varchar2)
  is
    l_hint varchar2(400);
  begin
    if instr(p_error, 'ORA-24247') > 0 then
      l_hint := ' - the network ACL does not let this schema connect: run sql/oracle/acl.sql';
    elsif instr(p_error, 'ORA-29024') > 0 or instr(p_error, 'ORA-28759') > 0
          or instr(p_error, 'ORA-28860') > 0 or instr(p_error, 'ORA-29106') > 0 then
      l_hint := ' - https: the wallet is missing, unreadable or lacks the server''s CA '
                || 'certificate (configure p_wallet_path)';
    elsif instr(p_error, 'ORA-12541') > 0 or instr(p_error, 'ORA-12535') > 0
          or instr(p_error, 'ORA-12170') > 0 then
      l_hint := ' - is switchboardd running and listening at that address?';
    elsif instr(p_error, 'ORA-29276') > 0 then
      l_hint := ' - no answer within the transfer timeout';
    end if;
    raise_application_error(-20004,
      substr('websocket_pkg: cannot reach ' || p_url || ': ' || p_error || l_hint, 1, 2000),
      true);
  end raise_unreachable;

  ------------------------------------------------------------------------------------------
  -- HTTP
  ------------------------------------------------------------------------------------------

  -- UTL_HTTP's own account of the last failure (ORA-29273 hides the cause below it).
  function detailed_sqlerrm return varchar2
  is
  begin
    return utl_http.get_detailed_sqlerrm;
  exception
    when others then
      return null;
  end detailed_sqlerrm;

  -- Ends whatever is open of a failed exchange; the connection may be gone already.
  procedure close_quietly (
    p_state    in varchar2,
    p_request  in out nocopy utl_http.req,
    p_response in out nocopy utl_http.resp
  )
  is
  begin
    if p_state = 'response' then
      utl_http.end_response(p_response);
    elsif p_state = 'request' then
      utl_http.end_request(p_request);
    end if;
  exception
    when others then
      null;
  end close_quietly;

  -- POST (or p_method) with UTL_HTTP; a null p_body sends no body at all.
  procedure http_utl (
    p_settings in t_settings,
    p_method   in varchar2,
    p_url      in varchar2,
    p_body     in clob,
    p_status   out pls_integer,
    p_answer   out clob
  )
  is
    l_request utl_http.req;
    l_response utl_http.resp;
    l_state varchar2(10) := 'none'; -- none, request, response
    l_bytes blob;
    l_length pls_integer;
    l_offset pls_integer := 1;
    l_piece raw(32767);
    l_amount pls_integer;
    l_text varchar2(32767);
    l_old_timeout pls_integer;
    l_dest_offset integer := 1;
    l_src_offset integer := 1;
    l_lang_context integer := dbms_lob.default_lang_ctx;
    l_warning integer;
    l_error varchar2(4000);
    l_detail varchar2(4000);
    l_location varchar2(4000);
  begin
    -- The body as UTF-8 bytes, converted once.
    dbms_lob.createtemporary(l_bytes, true, dbms_lob.call);
    if p_body is not null then
      dbms_lob.converttoblob(
        dest_lob     => l_bytes,
        src_clob     => p_body,
        amount       => dbms_lob.lobmaxsize,
        dest_offset  => l_dest_offset,
        src_offset   => l_src_offset,
        blob_csid    => nls_charset_id('AL32UTF8'),
        lang_context => l_lang_context,
        warning      => l_warning);
    end if;
    l_length := dbms_lob.getlength(l_bytes);

    if p_settings.wallet_path is not null then
      utl_http.set_wallet(p_settings.wallet_path, p_settings.wallet_password);
    end if;
    utl_http.get_transfer_timeout(l_old_timeout);
    utl_http.set_transfer_timeout(p_settings.transfer_timeout);

    l_request := utl_http.begin_request(
      url          => p_url,
      method       => p_method,
      http_version => utl_http.http_version_1_1);
    l_state := 'request';
    -- Never follow a redirect (UTL_HTTP follows 3 by default, a 303 even after a POST, and
    -- would send X-API-Key to the new host): a 3xx is an error naming the Location.
    utl_http.set_follow_redirect(l_request, 0);
    if p_body is not null then
      utl_http.set_header(l_request, 'Content-Type', 'application/json; charset=utf-8');
    end if;
    utl_http.set_header(l_request, 'Accept', 'application/json');
    utl_http.set_header(l_request, 'X-API-Key', p_settings.api_key);
    utl_http.set_header(l_request, 'User-Agent', c_user_agent);
    if p_body is null then
      null; -- DELETE: no body, so neither Content-Length nor Transfer-Encoding
    elsif l_length <= c_max_inline_bytes then
      utl_http.set_header(l_request, 'Content-Length', to_char(l_length));
      if l_length > 0 then
        utl_http.write_raw(l_request, dbms_lob.substr(l_bytes, l_length, 1));
      end if;
    else
      utl_http.set_header(l_request, 'Transfer-Encoding', 'chunked');
      while l_offset <= l_length loop
        l_amount := least(c_piece_bytes, l_length - l_offset + 1);
        l_piece := dbms_lob.substr(l_bytes, l_amount, l_offset);
        utl_http.write_raw(l_request, l_piece);
        l_offset := l_offset + l_amount;
      end loop;
    end if;

    l_response := utl_http.get_response(l_request);
    l_state := 'response';
    p_status := l_response.status_code;
    if p_status between 300 and 399 then
      begin
        utl_http.get_header_by_name(l_response, 'Location', l_location);
      exception
        when others then
          l_location := '(no Location)';
      end;
    end if;
    -- Switchboard answers UTF-8 JSON; without this, a charset-less type reads as ISO-8859-1.
    utl_http.set_body_charset(l_response, 'UTF-8');
    p_answer := null; -- the concatenation below makes it a temporary CLOB
    begin
      loop
        utl_http.read_text(l_response, l_text, 8000);
        p_answer := p_answer || l_text;
      end loop;
    exception
      when utl_http.end_of_body then
        null;
    end;
    if l_location is not null then -- the message of ORA-20001 (api_call)
      p_answer := to_clob('redirect to ' || substr(l_location, 1, 2000) || ' not followed: the '
                          || 'API key is sent only to the p_base_url of configure');
    end if;
    utl_http.end_response(l_response);
    l_state := 'none';
    utl_http.set_transfer_timeout(l_old_timeout);
    dbms_lob.freetemporary(l_bytes);
  exception
    when others then
      l_error := sqlerrm;
      l_detail := detailed_sqlerrm;
      close_quietly(l_state, l_request, l_response);
      if l_old_timeout is not null then
        utl_http.set_transfer_timeout(l_old_timeout);
      end if;
      raise_unreachable(p_url, l_error
        || case when l_detail is not null and l_detail <> l_error then ' (' || l_detail || ')' end);
  end http_utl;

  -- POST (or p_method) with APEX_WEB_SERVICE, called through dynamic PL/SQL: the package
  -- compiles and runs where APEX is not installed.
  procedure http_apex (
    p_settings in t_settings,
    p_method   in varchar2,
    p_url      in varchar2,
    p_body     in clob,
    p_status   out pls_integer,
    p_answer   out clob
  )
  is
    l_status number;
    l_user varchar2(30) := c_basic_user;
    l_timeout number := p_settings.transfer_timeout;
    l_wallet_path varchar2(4000) := p_settings.wallet_path;
    l_wallet_password varchar2(4000) := p_settings.wallet_password;
    l_password varchar2(4000) := p_settings.api_key;
    l_body clob := p_body;
    l_method varchar2(10) := p_method;
  begin
    execute immediate
      'begin '
      || 'apex_web_service.g_request_headers.delete; '
      || 'apex_web_service.g_request_headers(1).name := ''Content-Type''; '
      || 'apex_web_service.g_request_headers(1).value := ''application/json; charset=utf-8''; '
      || 'apex_web_service.g_request_headers(2).name := ''Accept''; '
      || 'apex_web_service.g_request_headers(2).value := ''application/json''; '
      || ':answer := apex_web_service.make_rest_request('
      || 'p_url => :url, '
      || 'p_http_method => :method, '
      || 'p_username => :username, '
      || 'p_password => :password, '
      || 'p_scheme => ''Basic'', '
      || 'p_transfer_timeout => :timeout, '
      || 'p_body => :body, '
      || 'p_wallet_path => :wallet_path, '
      || 'p_wallet_pwd => :wallet_password); '
      || ':status := apex_web_service.g_status_code; '
      || 'apex_web_service.g_request_headers.delete; '
      || 'end;'
      using out p_answer, in p_url, in l_method, in l_user, in l_password, in l_timeout, in l_body,
            in l_wallet_path, in l_wallet_password, out l_status;
    p_status := l_status;
  exception
    when others then
      -- Network failures (ORA-29273, ORA-24247 below it) and APEX's own refusals (ORA-20987,
      -- e.g. a URL the instance prohibits).
      raise_unreachable(p_url, sqlerrm);
  end http_apex;

  -- Sends p_method (POST or DELETE) with p_body (null: none) to base_url || p_path and
  -- returns the answer's JSON object (an empty one for a DELETE answered without a body);
  -- raises e_http_error (ORA-20001) with the server's message on any answer but 2xx.
  function api_request (p_method in varchar2, p_path in varchar2, p_body in clob)
    return json_object_t
  is
    l_settings t_settings := settings;
    l_url varchar2(4000) := l_settings.base_url || p_path;
    l_status pls_integer;
    l_answer clob;
    l_json json_object_t;
    l_error json_object_t;
    l_code varchar2(200);
    l_message varchar2(4000);
  begin
    if use_apex(l_settings.use_apex) then
      http_apex(l_settings, p_method, l_url, p_body, l_status, l_answer);
    else
      http_utl(l_settings, p_method, l_url, p_body, l_status, l_answer);
    end if;

    begin
      l_json := json_object_t.parse(l_answer);
    exception
      when others then
        l_json := null;
    end;

    if l_status between 200 and 299 then
      if l_json is null and p_method = 'DELETE'
         and (l_answer is null or dbms_lob.getlength(l_answer) = 0) then
        return json_object_t(); -- 204 No Content
      end if;
      if l_json is null then
        raise_application_error(-20001,
          'websocket_pkg: HTTP ' || l_status || ' without a JSON object from ' || p_method
          || ' ' || l_url || ': ' || dbms_lob.substr(l_answer, 200, 1));
      end if;
      return l_json;
    end if;

    -- {"error": {"code": C, "message": M}} (REST), {"message": M} (compatibility routes), or
    -- whatever text came.
    if l_json is not null then
      begin
        if l_json.has('error') and l_json.get('error').is_object() then
          l_error := treat(l_json.get('error') as json_object_t);
          l_code := substr(l_error.get_string('code'), 1, 200);
          l_message := substr(l_error.get_string('message'), 1, 4000);
        elsif l_json.has('message') then
          l_message := substr(l_json.get_string('message'), 1, 4000);
        end if;
      exception
        when others then
          l_message := null; -- not the expected shape: the raw text below
      end;
    end if;
    if l_message is null then
      l_message := nvl(dbms_lob.substr(l_answer, c_max_error_text, 1), 'no message');
    end if;
    raise_application_error(-20001,
      substr('websocket_pkg: HTTP ' || l_status
             || case when l_code is not null then ' ' || l_code end
             || ': ' || substr(l_message, 1, c_max_error_text)
             || ' (' || p_method || ' ' || p_path || ')', 1, 2000));
  end api_request;

  -- POSTs p_body to base_url || p_path (api_request).
  function api_call (p_path in varchar2, p_body in clob) return json_object_t
  is
  begin
    return api_request('POST', p_path, p_body);
  end api_call;

  procedure emit (p_path in varchar2, p_fields in varchar2, p_data in clob)
  is
    l_answer json_object_t;
  begin
    check_json(p_data);
    l_answer := api_call(p_path, json_body(p_fields, p_data));
    g_last_message_id := l_answer.get_number('id');
  end emit;

  -- base64url without padding (RFC 7515), of at most 24000 bytes.
  function base64url (p_bytes in raw) return varchar2
  is
    l_text varchar2(32767);
  begin
    l_text := utl_raw.cast_to_varchar2(utl_encode.base64_encode(p_bytes));
    l_text := replace(replace(l_text, chr(13), ''), chr(10), '');
    l_text := replace(replace(l_text, '+', '-'), '/', '_');
    return rtrim(l_text, '=');
  end base64url;

  -- Raises e_not_owner (ORA-20006) unless the package's owner itself is calling: logged in
  -- as the owner (SESSION_USER; a proxy connection to the owner counts), and the caller of
  -- p_what an anonymous block or a unit of the owner (so that code of a grantee that the
  -- owner happens to run cannot configure either). In this definer's rights package
  -- CURRENT_USER is the owner. The dynamic depth: 1 is this procedure, 2 p_what, 3 its caller.
  procedure require_owner (p_what in varchar2)
  is
    l_owner varchar2(128) := sys_context('USERENV', 'CURRENT_USER');
    l_session varchar2(128) := sys_context('USERENV', 'SESSION_USER');
    l_caller varchar2(128);
  begin
    if utl_call_stack.dynamic_depth >= 3 then
      l_caller := utl_call_stack.owner(3);
    end if;
    if l_session is null or l_session <> l_owner
       or (l_caller is not null and l_caller <> l_owner) then
      raise_application_error(-20006,
        'websocket_pkg.' || p_what || ': only ' || l_owner || ', the owner of websocket_pkg, '
        || 'may call it, not ' || nvl(l_caller, l_session) || '; nothing was changed');
    end if;
  end require_owner;

  ------------------------------------------------------------------------------------------
  -- Public
  ------------------------------------------------------------------------------------------

  procedure configure (
    p_base_url         in varchar2,
    p_api_key          in varchar2,
    p_wallet_path      in varchar2 default null,
    p_wallet_password  in varchar2 default null,
    p_transfer_timeout in pls_integer default 10,
    p_jwt_secret       in varchar2 default null,
    p_use_apex         in varchar2 default 'AUTO'
  )
  is
    pragma autonomous_transaction;
    l_url varchar2(4000) := rtrim(trim(p_base_url), '/');
    l_use_apex varchar2(4) := upper(nvl(p_use_apex, 'AUTO'));
  begin
    require_owner('configure'); -- before anything is looked at or stored
    if l_url is null or not regexp_like(l_url, '^https?://[^/]+$', 'i') then
      raise_application_error(-20005,
        'websocket_pkg.configure: p_base_url must be the server''s http(s)://host:port, not "'
        || substr(p_base_url, 1, 200) || '"');
    end if;
    if p_api_key is null then
      raise_application_error(-20005,
        'websocket_pkg.configure: p_api_key is required (the server''s api_key)');
    end if;
    if p_transfer_timeout is null or p_transfer_timeout not between 1 and 3600 then
      raise_application_error(-20005,
        'websocket_pkg.configure: p_transfer_timeout must be 1 to 3600 seconds');
    end if;
    if l_use_apex not in ('AUTO', 'YES', 'NO') then
      raise_application_error(-20005,
        'websocket_pkg.configure: p_use_apex must be AUTO, YES or NO');
    end if;
    merge into websocket_config c
    using (select 1 as id from dual) s
       on (c.id = s.id)
     when matched then
       update set c.base_url = l_url,
                  c.api_key = p_api_key,
                  c.wallet_path = p_wallet_path,
                  c.wallet_password = p_wallet_password,
                  c.transfer_timeout = p_transfer_timeout,
                  c.jwt_secret = p_jwt_secret,
                  c.use_apex = l_use_apex,
                  c.updated_at = systimestamp
     when not matched then
       insert (id, base_url, api_key, wallet_path, wallet_password, transfer_timeout,
               jwt_secret, use_apex, updated_at)
       values (1, l_url, p_api_key, p_wallet_path, p_wallet_password, p_transfer_timeout,
               p_jwt_secret, l_use_apex, systimestamp);
    commit;
    g_apex_available := null; -- looked up again on the next call
  exception
    when others then
      rollback;
      raise;
  end configure;

  procedure register (
    p_room       in t_room,
    p_user_name  in varchar2,
    p_session_id in varchar2,
    p_token      out t_token
  )
  is
    l_answer json_object_t;
  begin
    l_answer := api_call('/api/register',
      json_body('"room":' || json_string(p_room)
                || ',"user":' || json_string(p_user_name)
                || ',"session":' || json_string(p_session_id), null));
    p_token := l_answer.get_string('token');
  end register;

  procedure unregister (
    p_room       in t_room,
    p_user_name  in varchar2,
    p_session_id in varchar2
  )
  is
    l_answer json_object_t;
  begin
    l_answer := api_call('/api/unregister',
      json_body('"room":' || json_string(p_room)
                || ',"user":' || json_string(p_user_name)
                || ',"session":' || json_string(p_session_id), null));
    g_last_removed := l_answer.get_number('removed');
  end unregister;

  procedure emit_to_user (
    p_user_name in varchar2,
    p_event     in t_event,
    p_data      in clob default null
  )
  is
  begin
    emit('/api/emit/user',
         '"user":' || json_string(p_user_name) || ',"event":' || json_string(p_event), p_data);
  end emit_to_user;

  procedure emit_to_room (
    p_room  in varchar2,
    p_event in t_event,
    p_data  in clob default null
  )
  is
  begin
    emit('/api/emit/room',
         '"room":' || json_string(p_room) || ',"event":' || json_string(p_event), p_data);
  end emit_to_room;

  procedure emit_to_all (
    p_event in t_event,
    p_data  in clob default null
  )
  is
  begin
    emit('/api/emit/all', '"event":' || json_string(p_event), p_data);
  end emit_to_all;

  function mint_token (
    p_room        in t_room,
    p_user_name   in varchar2,
    p_session_id  in varchar2,
    p_ttl_seconds in pls_integer default 86400,
    p_publish     in boolean default false
  ) return t_token
  is
    l_settings t_settings := settings;
    l_now number;
    l_header varchar2(100);
    l_claims varchar2(32767);
    l_signing_input varchar2(32767);
    l_signature raw(32);
  begin
    if l_settings.jwt_secret is null then
      raise_application_error(-20003,
        'websocket_pkg.mint_token: no JWT secret: call configure with p_jwt_secret (the '
        || 'server''s jwt_secret)');
    end if;
    if p_room is null or p_user_name is null or p_session_id is null then
      raise_application_error(-20005,
        'websocket_pkg.mint_token: p_room, p_user_name and p_session_id are required');
    end if;
    if p_ttl_seconds is null or p_ttl_seconds not between 1 and 604800 then
      raise_application_error(-20005,
        'websocket_pkg.mint_token: p_ttl_seconds must be 1 to 604800');
    end if;
    -- Unix seconds, UTC.
    l_now := trunc((cast(sys_extract_utc(systimestamp) as date) - date '1970-01-01') * 86400);
    l_header := base64url(utl_i18n.string_to_raw('{"alg":"HS256","typ":"JWT"}', 'AL32UTF8'));
    l_claims := '{"sub":' || json_string(p_user_name)
                || ',"room":' || json_string(p_room)
                || ',"sid":' || json_string(p_session_id)
                || ',"iat":' || to_char(l_now)
                || ',"exp":' || to_char(l_now + p_ttl_seconds)
                || case when p_publish then ',"pub":true' end
                || '}';
    l_signing_input := l_header || '.' || base64url(utl_i18n.string_to_raw(l_claims, 'AL32UTF8'));
    -- HMAC-SHA256 over the ASCII signing input, keyed with the secret's UTF-8 bytes as given.
    l_signature := dbms_crypto.mac(
      src => utl_i18n.string_to_raw(l_signing_input, 'AL32UTF8'),
      typ => dbms_crypto.hmac_sh256,
      key => utl_i18n.string_to_raw(l_settings.jwt_secret, 'AL32UTF8'));
    return l_signing_input || '.' || base64url(l_signature);
  end mint_token;

  function open_client (
    p_uri   in varchar2,
    p_room  in varchar2,
    p_event in varchar2
  ) return varchar2
  is
    l_answer json_object_t;
  begin
    l_answer := api_call('/api/clients',
      json_body('"uri":' || json_string(p_uri)
                || ',"room":' || json_string(p_room)
                || ',"event":' || json_string(p_event), null));
    return l_answer.get_string('id');
  end open_client;

  procedure close_client (
    p_id in varchar2
  )
  is
    l_answer json_object_t;
  begin
    if p_id is null then
      raise_application_error(-20005, 'websocket_pkg.close_client: p_id is required');
    end if;
    -- The id as one path segment: every reserved character escaped (UTF-8).
    l_answer := api_request('DELETE',
      '/api/clients/' || utl_url.escape(p_id, true, 'AL32UTF8'), null);
  end close_client;

  function last_message_id return number
  is
  begin
    return g_last_message_id;
  end last_message_id;

  function last_removed_count return pls_integer
  is
  begin
    return g_last_removed;
  end last_removed_count;

end websocket_pkg;
/

-- Switchboard for PostgreSQL: push events from SQL (docs/postgresql.md; docs/API.md, "Database notifications (LISTEN/NOTIFY)").
--
--   psql -v ON_ERROR_STOP=1 -d "postgresql://admin@dbhost/appdb" -f sql/postgresql/install.sql
--
-- Run it as a superuser (plpython3u is an untrusted language: only a superuser may create the
-- extension and functions in it), once per database; running it again upgrades the functions
-- and keeps the settings. Needs Debian's postgresql-plpython3-15 (or your platform's
-- PL/Python 3 package) on the database server. Plain SQL, no psql meta-commands: any client
-- can run it. Everything happens in one transaction: a failure leaves nothing behind.
--
-- What it creates, all in schema switchboard:
--   configure(p_base_url text, p_api_key text, p_channel text default 'switchboard',
--             p_timeout_s double precision default 10)                      -> void
--   register(p_room text, p_user text, p_session text, p_ttl integer default null,
--            p_publish boolean default false)                              -> text (the token)
--   unregister(p_room text, p_user text, p_session text)                   -> integer (removed)
--   emit_to_room(p_room text, p_event text, p_data jsonb default null)     -> bigint (the id)
--   emit_to_user(p_user text, p_event text, p_data jsonb default null)     -> bigint
--   emit_to_all(p_event text, p_data jsonb default null)                   -> bigint
--   emit_to_connection(p_connection text, p_event text, p_data jsonb default null) -> bigint
--   open_client(p_uri text, p_room text, p_event text)                     -> text (the id)
--   close_client(p_id text)                                                -> void
--   notify(p_payload jsonb)                                                -> void
--   settings (table; one row), api_call(p_path text, p_body text), api_request(p_method,
--   p_path, p_body), http_post(...), http_request(...) and url_segment(p_text): the REST
--   client underneath; notify_envelope(...): the signature of notify()
--
-- register, unregister, emit_*, open_client and close_client call the REST API of switchboardd over HTTP(S) at once,
-- whatever becomes of the calling transaction. A non-2xx answer raises an exception whose
-- message carries the server's (SQLSTATE SB + the HTTP status, e.g. SB401; SB000 when the
-- server cannot be reached). Redirects are never followed, so the API key goes only to the
-- configured base_url: a 3xx raises SB301, SB302, ... naming the Location. notify() is the
-- transactional way: it sends a NOTIFY on the configured channel, which PostgreSQL delivers
-- only when the transaction commits, to a switchboardd started with --pg-listen
-- (docs/postgresql.md). It signs each notification with the API key (HMAC-SHA256, with a
-- timestamp and a nonce): the server drops every notification that does not verify, so a
-- role that may NOTIFY (any role that may connect) but not call notify() cannot emit.
--
-- The functions run with the installer's rights (SECURITY DEFINER, fixed search_path) so that
-- the API key in switchboard.settings stays readable by no one else. Nothing is granted to
-- PUBLIC: grant what an application role may call, for example
--   GRANT USAGE ON SCHEMA switchboard TO app;
--   GRANT EXECUTE ON FUNCTION switchboard.emit_to_room(text, text, jsonb),
--                             switchboard.notify(jsonb) TO app;

BEGIN;
-- Quiet re-runs: no "already exists, skipping" notices.
SET LOCAL client_min_messages = warning;

CREATE EXTENSION IF NOT EXISTS plpython3u;

CREATE SCHEMA IF NOT EXISTS switchboard;
REVOKE ALL ON SCHEMA switchboard FROM PUBLIC;

-- One row: where the server is, its API key, the NOTIFY channel. Valid for every session.
CREATE TABLE IF NOT EXISTS switchboard.settings (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    base_url text NOT NULL CHECK (base_url ~ '^https?://[^/]+'),
    api_key text NOT NULL,
    channel text NOT NULL DEFAULT 'switchboard'
        CHECK (channel ~ '^[A-Za-z0-9_]{1,63}$'),
    timeout_s double precision NOT NULL DEFAULT 10 CHECK (timeout_s > 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON TABLE switchboard.settings FROM PUBLIC;

CREATE OR REPLACE FUNCTION switchboard.configure(
    p_base_url text,
    p_api_key text,
    p_channel text DEFAULT 'switchboard',
    p_timeout_s double precision DEFAULT 10)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    l_url text := rtrim(btrim(p_base_url), '/');
BEGIN
    IF l_url IS NULL OR l_url !~ '^https?://[^/]+' THEN
        RAISE EXCEPTION 'switchboard.configure: p_base_url must be the server''s http(s)://host:port, not %',
            coalesce(quote_literal(p_base_url), 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF p_api_key IS NULL OR p_api_key = '' THEN
        RAISE EXCEPTION 'switchboard.configure: p_api_key is required (the server''s api_key)'
            USING ERRCODE = '22023';
    END IF;
    IF p_channel IS NULL OR p_channel !~ '^[A-Za-z0-9_]{1,63}$' THEN
        RAISE EXCEPTION 'switchboard.configure: p_channel must be 1 to 63 letters, digits or underscores, not %',
            coalesce(quote_literal(p_channel), 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF p_timeout_s IS NULL OR p_timeout_s <= 0 THEN
        RAISE EXCEPTION 'switchboard.configure: p_timeout_s must be a positive number of seconds'
            USING ERRCODE = '22023';
    END IF;
    INSERT INTO switchboard.settings (id, base_url, api_key, channel, timeout_s, updated_at)
    VALUES (true, l_url, p_api_key, p_channel, p_timeout_s, now())
    ON CONFLICT (id) DO UPDATE
        SET base_url = EXCLUDED.base_url,
            api_key = EXCLUDED.api_key,
            channel = EXCLUDED.channel,
            timeout_s = EXCLUDED.timeout_s,
            updated_at = EXCLUDED.updated_at;
END;
$$;

-- The HTTP client: sends p_method (POST, DELETE) with p_body (JSON text, sent as UTF-8; NULL
-- sends no body and no Content-Type) to p_url with the API key and returns
-- {"status": <HTTP status>, "body": <answer text>}, or {"status": 0, "error": <why>}
-- when no answer came (refused, timed out, TLS failure). Python's urllib only: nothing to
-- install but PL/Python. https:// URLs are checked against the system's CA certificates.
-- Redirects are never followed (urllib would follow 301, 302 and 303 to any host, the API key
-- with them): a 3xx is returned as it came, with its Location ({"status": 302, "location":
-- "..."}), so the key goes only to the base_url given to configure (docs/postgresql.md).
CREATE OR REPLACE FUNCTION switchboard.http_request(p_method text, p_url text, p_api_key text,
                                                    p_body text, p_timeout_s double precision)
RETURNS jsonb
LANGUAGE plpython3u
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
import json
import urllib.error
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # not followed: urlopen raises HTTPError with the 3xx


headers = {
    "Accept": "application/json",
    "X-API-Key": p_api_key,
    "User-Agent": "switchboard-postgresql/1",
}
if p_body is not None:
    headers["Content-Type"] = "application/json; charset=utf-8"
request = urllib.request.Request(
    p_url,
    data=None if p_body is None else p_body.encode("utf-8"),
    method=p_method,
    headers=headers)
opener = urllib.request.build_opener(NoRedirect)
try:
    with opener.open(request, timeout=p_timeout_s) as response:
        return json.dumps({"status": response.status,
                           "body": response.read().decode("utf-8", "replace")})
except urllib.error.HTTPError as e:
    answer = {"status": e.code, "body": e.read().decode("utf-8", "replace")}
    if e.headers is not None and e.headers.get("Location") is not None:
        answer["location"] = e.headers.get("Location")
    return json.dumps(answer)
except Exception as e:  # URLError, timeouts, refused connections, TLS failures
    return json.dumps({"status": 0, "error": str(getattr(e, "reason", e))})
$$;

-- POST with http_request (kept for callers of earlier versions).
CREATE OR REPLACE FUNCTION switchboard.http_post(p_url text, p_api_key text, p_body text,
                                                 p_timeout_s double precision)
RETURNS jsonb
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT switchboard.http_request('POST', p_url, p_api_key, p_body, p_timeout_s);
$$;

-- Sends p_method (POST, DELETE) with p_body (NULL: none) to base_url || p_path
-- (switchboard.settings) and returns the answer's JSON object ('{}' for a DELETE answered
-- without a body). Any answer but 2xx raises "switchboard: HTTP <status> <code>: <the
-- server's message>" with SQLSTATE SB<status> (SB401, SB400, SB404, ...); no answer at all
-- raises SQLSTATE SB000.
CREATE OR REPLACE FUNCTION switchboard.api_request(p_method text, p_path text, p_body text)
RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    l_settings switchboard.settings%ROWTYPE;
    l_url text;
    l_result jsonb;
    l_status integer;
    l_body text;
    l_answer jsonb;
    l_code text;
    l_message text;
BEGIN
    SELECT * INTO l_settings FROM switchboard.settings WHERE id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'switchboard is not configured'
            USING ERRCODE = 'SB000',
                  HINT = 'call switchboard.configure(base_url, api_key) first';
    END IF;
    l_url := l_settings.base_url || p_path;
    l_result := switchboard.http_request(p_method, l_url, l_settings.api_key, p_body,
                                         l_settings.timeout_s);
    l_status := (l_result ->> 'status')::integer;
    IF l_status = 0 THEN
        RAISE EXCEPTION 'switchboard: cannot reach %: %', l_url, l_result ->> 'error'
            USING ERRCODE = 'SB000',
                  HINT = 'is switchboardd running there, and is the base_url given to switchboard.configure right?';
    END IF;
    IF l_status BETWEEN 300 AND 399 THEN
        -- Never followed (http_post): the API key goes to the configured base_url only.
        RAISE EXCEPTION 'switchboard: HTTP % redirect to % not followed: the API key is sent only to the base_url given to switchboard.configure',
            l_status, coalesce(l_result ->> 'location', '(no Location)')
            USING ERRCODE = 'SB' || l_status::text,
                  DETAIL = format('%s %s answered %s', p_method, l_url, l_status),
                  HINT = 'configure the server''s own URL (https:// when it redirects http to https)';
    END IF;
    l_body := l_result ->> 'body';
    BEGIN
        l_answer := l_body::jsonb;
    EXCEPTION WHEN invalid_text_representation THEN
        l_answer := NULL;
    END;
    IF l_status BETWEEN 200 AND 299 THEN
        IF l_answer IS NULL AND p_method = 'DELETE' AND coalesce(l_body, '') = '' THEN
            RETURN '{}'::jsonb; -- 204 No Content
        END IF;
        IF l_answer IS NULL OR jsonb_typeof(l_answer) <> 'object' THEN
            RAISE EXCEPTION 'switchboard: % % answered % with no JSON object: %',
                p_method, l_url, l_status, left(l_body, 200)
                USING ERRCODE = 'SB000';
        END IF;
        RETURN l_answer;
    END IF;
    -- The REST error shape {"error": {"code", "message"}}, or {"message"} of the
    -- compatibility routes, or whatever text came.
    IF jsonb_typeof(l_answer -> 'error') = 'object' THEN
        l_code := l_answer -> 'error' ->> 'code';
        l_message := l_answer -> 'error' ->> 'message';
    ELSIF jsonb_typeof(l_answer) = 'object' THEN
        l_message := l_answer ->> 'message';
    END IF;
    l_message := coalesce(l_message, nullif(btrim(left(l_body, 1000)), ''), 'no message');
    RAISE EXCEPTION USING
        MESSAGE = format('switchboard: HTTP %s%s: %s', l_status,
                         CASE WHEN l_code IS NULL THEN '' ELSE ' ' || l_code END, l_message),
        ERRCODE = 'SB' || lpad(least(l_status, 999)::text, 3, '0'),
              DETAIL = format('%s %s answered %s: %s', p_method, l_url, l_status,
                              left(l_body, 1000)),
              HINT = CASE l_status
                         WHEN 401 THEN 'check the API key given to switchboard.configure'
                         WHEN 404 THEN 'no such thing on the server (or a server too old for this route)'
                         WHEN 429 THEN 'the server is rate limiting: retry later'
                         WHEN 503 THEN 'the server is busy: retry later'
                         ELSE 'see the server''s message'
                     END;
END;
$$;

-- POSTs p_body to base_url || p_path (api_request).
CREATE OR REPLACE FUNCTION switchboard.api_call(p_path text, p_body text)
RETURNS jsonb
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT switchboard.api_request('POST', p_path, p_body);
$$;

CREATE OR REPLACE FUNCTION switchboard.register(
    p_room text,
    p_user text,
    p_session text,
    p_ttl integer DEFAULT NULL,
    p_publish boolean DEFAULT false)
RETURNS text
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT switchboard.api_call('/api/register',
        (jsonb_build_object('room', p_room, 'user', p_user, 'session', p_session,
                            'publish', coalesce(p_publish, false))
         || CASE WHEN p_ttl IS NULL THEN '{}'::jsonb
                 ELSE jsonb_build_object('ttl', p_ttl) END)::text) ->> 'token';
$$;

CREATE OR REPLACE FUNCTION switchboard.unregister(p_room text, p_user text, p_session text)
RETURNS integer
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (switchboard.api_call('/api/unregister',
        jsonb_build_object('room', p_room, 'user', p_user, 'session', p_session)::text)
        ->> 'removed')::integer;
$$;

CREATE OR REPLACE FUNCTION switchboard.emit_to_room(p_room text, p_event text, p_data jsonb DEFAULT NULL)
RETURNS bigint
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (switchboard.api_call('/api/emit/room',
        jsonb_build_object('room', p_room, 'event', p_event, 'data', p_data)::text)
        ->> 'id')::bigint;
$$;

CREATE OR REPLACE FUNCTION switchboard.emit_to_user(p_user text, p_event text, p_data jsonb DEFAULT NULL)
RETURNS bigint
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (switchboard.api_call('/api/emit/user',
        jsonb_build_object('user', p_user, 'event', p_event, 'data', p_data)::text)
        ->> 'id')::bigint;
$$;

CREATE OR REPLACE FUNCTION switchboard.emit_to_all(p_event text, p_data jsonb DEFAULT NULL)
RETURNS bigint
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (switchboard.api_call('/api/emit/all',
        jsonb_build_object('event', p_event, 'data', p_data)::text)
        ->> 'id')::bigint;
$$;

CREATE OR REPLACE FUNCTION switchboard.emit_to_connection(p_connection text, p_event text, p_data jsonb DEFAULT NULL)
RETURNS bigint
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (switchboard.api_call('/api/emit/connection',
        jsonb_build_object('connection', p_connection, 'event', p_event, 'data', p_data)::text)
        ->> 'id')::bigint;
$$;

-- An outbound WebSocket client of the server (POST /api/clients, docs/endpoints.md,
-- "Outbound clients"): the server connects to p_uri (ws:// or wss://) and emits each text
-- message it receives to room p_room as event p_event. It reconnects by itself after a loss
-- and survives a restart of the server, until close_client. Returns the client's id, such as
-- 'w1'. A bad p_uri or more than the server's max_clients raise SB400 / SB503 with the
-- server's message. Like emit_*, it acts at once, whatever becomes of the transaction.
CREATE OR REPLACE FUNCTION switchboard.open_client(p_uri text, p_room text, p_event text)
RETURNS text
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT switchboard.api_call('/api/clients',
        jsonb_build_object('uri', p_uri, 'room', p_room, 'event', p_event)::text) ->> 'id';
$$;

-- p_text as one segment of a URL path: every character but A-Z a-z 0-9 - . _ ~
-- percent-encoded as UTF-8 (RFC 3986).
CREATE OR REPLACE FUNCTION switchboard.url_segment(p_text text)
RETURNS text
LANGUAGE plpython3u
IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
import urllib.parse
return urllib.parse.quote(p_text, safe="")
$$;

-- Closes the outbound client p_id for good (DELETE /api/clients/{id}); an unknown id raises
-- SB404 with the server's message.
CREATE OR REPLACE FUNCTION switchboard.close_client(p_id text)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_id IS NULL OR p_id = '' THEN
        RAISE EXCEPTION 'switchboard.close_client: p_id is required (the id open_client returned)'
            USING ERRCODE = '22023';
    END IF;
    PERFORM switchboard.api_request('DELETE',
        '/api/clients/' || switchboard.url_segment(p_id), NULL);
END;
$$;

-- The signed text of one notification (docs/postgresql.md, "How notifications are signed"):
--   sb1.<ts>.<nonce>.<sig>.<payload>
-- sig is HMAC-SHA256 keyed with the API key over sb1|<channel>|<ts>|<nonce>|<payload> (UTF-8),
-- in lowercase hex; the server checks it with its api_key and refuses what is older than 60 s
-- or seen before. Called by notify() only (never granted): the key is passed in, not read.
CREATE OR REPLACE FUNCTION switchboard.notify_envelope(p_api_key text, p_channel text,
                                                       p_ts bigint, p_nonce text, p_payload text)
RETURNS text
LANGUAGE plpython3u
SET search_path = pg_catalog, pg_temp
AS $$
import hashlib
import hmac

message = "|".join(("sb1", p_channel, str(p_ts), p_nonce, p_payload)).encode("utf-8")
sig = hmac.new(p_api_key.encode("utf-8"), message, hashlib.sha256).hexdigest()
return ".".join(("sb1", str(p_ts), p_nonce, sig, p_payload))
$$;

-- Transactional publishing: NOTIFY on the configured channel (default switchboard). The
-- payload is {"room":R | "user":U | "connection":C | "all":true, "event":E, "data":D}; it is
-- delivered when the transaction commits, and never when it rolls back. It is signed with the
-- API key that configure stored (notify_envelope), so the server can tell it from a NOTIFY that
-- any role able to connect may send. The timestamp is the transaction's first call of notify
-- and the nonce is derived from a random value of the transaction and the payload, so the
-- same payload twice in one transaction is the same text, which PostgreSQL folds into one
-- notification as it did before the signature. NOTIFY carries at most 7999 bytes, of which
-- the signature takes 116: larger data goes through emit_to_*.
CREATE OR REPLACE FUNCTION switchboard.notify(p_payload jsonb)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    l_channel text;
    l_api_key text;
    l_text text := p_payload::text;
    l_tx text;
    l_envelope text;
BEGIN
    IF p_payload IS NULL OR jsonb_typeof(p_payload) <> 'object' THEN
        RAISE EXCEPTION 'switchboard.notify: p_payload must be a JSON object such as {"room": "r", "event": "e", "data": {}}'
            USING ERRCODE = '22023';
    END IF;
    SELECT channel, api_key INTO l_channel, l_api_key FROM switchboard.settings WHERE id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'switchboard is not configured: notify signs with the API key'
            USING ERRCODE = 'SB000',
                  HINT = 'call switchboard.configure(base_url, api_key) first';
    END IF;
    -- "<ts>.<random>" of this transaction, set by its first notify (transaction-local).
    l_tx := current_setting('switchboard.notify_tx', true);
    IF l_tx IS NULL OR l_tx !~ '^[0-9]{1,15}\.[0-9a-f]{32}$' THEN
        l_tx := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint::text || '.'
                || replace(gen_random_uuid()::text, '-', '');
        PERFORM set_config('switchboard.notify_tx', l_tx, true);
    END IF;
    l_envelope := switchboard.notify_envelope(
        l_api_key, l_channel, split_part(l_tx, '.', 1)::bigint,
        left(encode(sha256(convert_to(split_part(l_tx, '.', 2) || '|' || l_text, 'UTF8')), 'hex'), 32),
        l_text);
    IF octet_length(l_envelope) > 7999 THEN
        RAISE EXCEPTION 'switchboard.notify: the payload is % bytes; NOTIFY carries at most %, with the % bytes of the signature',
            octet_length(l_text), 7999 - (octet_length(l_envelope) - octet_length(l_text)),
            octet_length(l_envelope) - octet_length(l_text)
            USING ERRCODE = '22023',
                  HINT = 'send large data with switchboard.emit_to_room/emit_to_user/emit_to_all';
    END IF;
    PERFORM pg_notify(l_channel, l_envelope);
END;
$$;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA switchboard FROM PUBLIC;

COMMIT;

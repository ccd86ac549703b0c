-- An HTTP handler of an endpoint in PostgreSQL behind PostgREST (docs/endpoints.md, "HTTP
-- handlers"): PostgREST exposes it as POST /rpc/ws_handler, and takes the keys of the JSON
-- body Switchboard POSTs (method, endpoint, session, user, message, error) as the function's
-- named arguments. The descriptor's handler: http://postgrest:3000/rpc/ws_handler.
-- Schema api is PostgREST's db-schemas, role web_anon its db-anon-role.
CREATE SCHEMA IF NOT EXISTS api;

CREATE OR REPLACE FUNCTION api.ws_handler(
    method text,
    endpoint text,
    session text,
    "user" text,
    message text,
    error text)
RETURNS json
LANGUAGE plpgsql
AS $$
BEGIN
    -- The key Switchboard sends (handler_key); PostgREST passes the request's headers, their
    -- names in lower case, in the setting request.headers.
    IF coalesce(current_setting('request.headers', true)::json ->> 'x-switchboard-key', '')
       <> 'the-handler-key' THEN
        RAISE EXCEPTION 'wrong handler key' USING ERRCODE = '42501'; -- PostgREST: 403
    END IF;

    IF method = 'onopen' THEN
        RETURN json_build_object('send', json_build_array(
            'Welcome, ' || coalesce("user", 'anonymous') || '!'));
    ELSIF method = 'onmessage' THEN
        RETURN json_build_object(
            'send', json_build_array('You said: ' || message),
            'emit', json_build_array(json_build_object(
                'room', 'chat:lobby',
                'event', 'ChatMessage',
                'data', json_build_object('user', "user", 'text', message))));
    END IF;
    RETURN '{}'::json; -- onerror, onclose: nothing to do
END;
$$;

REVOKE ALL ON FUNCTION api.ws_handler(text, text, text, text, text, text) FROM PUBLIC;
GRANT USAGE ON SCHEMA api TO web_anon;
GRANT EXECUTE ON FUNCTION api.ws_handler(text, text, text, text, text, text) TO web_anon;

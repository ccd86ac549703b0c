-- An HTTP handler of an endpoint in Oracle REST Data Services (docs/endpoints.md, "HTTP
-- handlers"): POST https://ords.example.com/ords/hr/switchboard/ws. Run it as the REST-enabled
-- schema (here HR), then set "handler" of the descriptor to that URL and the server's
-- handler_key to the key checked below.
begin
  ords.define_module(
    p_module_name    => 'switchboard',
    p_base_path      => '/switchboard/',
    p_items_per_page => 0);

  ords.define_template(
    p_module_name => 'switchboard',
    p_pattern     => 'ws');

  ords.define_handler(
    p_module_name => 'switchboard',
    p_pattern     => 'ws',
    p_method      => 'POST',
    p_source_type => ords.source_type_plsql,
    p_source      => q'[
declare
  l_event   json_object_t;
  l_answer  json_object_t := json_object_t();
  l_send    json_array_t := json_array_t();
  l_emit    json_array_t := json_array_t();
  l_item    json_object_t;
  l_data    json_object_t;
  l_method  varchar2(20);
  l_user    varchar2(4000);
  l_message varchar2(32767);
begin
  -- The key Switchboard sends (handler_key): anyone else gets 401.
  if :switchboard_key is null or :switchboard_key <> 'the-handler-key' then
    :status_code := 401;
    return;
  end if;

  l_event := json_object_t.parse(:body_text); -- read :body_text once only
  l_method := l_event.get_string('method');
  l_user := nvl(l_event.get_string('user'), 'anonymous');

  if l_method = 'onopen' then
    l_send.append('Welcome, ' || l_user || '!');
  elsif l_method = 'onmessage' then
    l_message := l_event.get_string('message');
    -- Answer the session ...
    l_send.append('You said: ' || l_message);
    -- ... and tell the room "chat:lobby" (pages with switchboard.js get it).
    l_data := json_object_t();
    l_data.put('user', l_user);
    l_data.put('text', l_message);
    l_item := json_object_t();
    l_item.put('room', 'chat:lobby');
    l_item.put('event', 'ChatMessage');
    l_item.put('data', l_data);
    l_emit.append(l_item);
  end if;

  l_answer.put('send', l_send);
  l_answer.put('emit', l_emit);
  owa_util.mime_header('application/json', true);
  htp.p(l_answer.to_string);
end;
]');

  -- The request header X-Switchboard-Key as the bind variable :switchboard_key.
  ords.define_parameter(
    p_module_name        => 'switchboard',
    p_pattern            => 'ws',
    p_method             => 'POST',
    p_name               => 'X-Switchboard-Key',
    p_bind_variable_name => 'switchboard_key',
    p_source_type        => 'HEADER',
    p_param_type         => 'STRING',
    p_access_method      => 'IN');

  commit;
end;
/

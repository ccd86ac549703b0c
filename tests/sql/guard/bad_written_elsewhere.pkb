-- configure is guarded, but another procedure writes the settings with no check.
create or replace package body guarded_pkg
as
  procedure require_owner (p_what in varchar2)
  is
  begin
    if sys_context('USERENV', 'SESSION_USER') <> sys_context('USERENV', 'CURRENT_USER') then
      raise_application_error(-20006, p_what || ': only the owner may call it');
    end if;
  end require_owner;

  procedure configure (p_base_url in varchar2, p_api_key in varchar2)
  is
  begin
    require_owner('configure');
    update websocket_config set base_url = p_base_url, api_key = p_api_key where id = 1;
  end configure;

  procedure set_key (p_api_key in varchar2)
  is
  begin
    update websocket_config set api_key = p_api_key where id = 1;
  end set_key;
end guarded_pkg;
/

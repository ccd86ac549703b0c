-- require_owner is called, but compares nothing that tells the owner from a grantee.
create or replace package body guarded_pkg
as
  procedure require_owner (p_what in varchar2)
  is
  begin
    if p_what is null then
      raise_application_error(-20006, 'no name');
    end if;
  end require_owner;

  procedure configure (p_base_url in varchar2, p_api_key in varchar2)
  is
  begin
    require_owner('configure');
    update websocket_config set base_url = p_base_url, api_key = p_api_key where id = 1;
  end configure;
end guarded_pkg;
/

-- configure stores whatever any grantee gives it (the finding this check is for).
create or replace package body guarded_pkg
as
  procedure configure (p_base_url in varchar2, p_api_key in varchar2)
  is
    pragma autonomous_transaction;
  begin
    merge into websocket_config c
    using (select 1 as id from dual) s
       on (c.id = s.id)
     when matched then update set c.base_url = p_base_url, c.api_key = p_api_key
     when not matched then insert (id, base_url, api_key) values (1, p_base_url, p_api_key);
    commit;
  end configure;
end guarded_pkg;
/

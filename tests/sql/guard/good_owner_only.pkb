-- The shape websocket_pkg.pkb has: configure checks its caller first; only it writes the table.
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
    pragma autonomous_transaction;
    l_url varchar2(4000) := rtrim(p_base_url, '/');
  begin
    require_owner('configure');
    merge into websocket_config c
    using (select 1 as id from dual) s
       on (c.id = s.id)
     when matched then update set c.base_url = l_url, c.api_key = p_api_key
     when not matched then insert (id, base_url, api_key) values (1, l_url, p_api_key);
    commit;
  end configure;

  procedure emit (p_event in varchar2)
  is
    l_url varchar2(4000);
  begin
    select base_url into l_url from websocket_config where id = 1;
  end emit;
end guarded_pkg;
/

-- Removes websocket_pkg and its settings table (the API key with it) from the current schema.
-- The network ACL entries of acl.sql stay: a DBA removes them with
-- DBMS_NETWORK_ACL_ADMIN.REMOVE_HOST_ACE (docs/oracle.md).
--
--   sql app_owner@//dbhost:1521/FREEPDB1 @uninstall.sql

whenever sqlerror exit failure rollback
set feedback off

prompt websocket_pkg: dropping the package and table websocket_config
declare
  procedure drop_if_exists (p_statement in varchar2)
  is
    e_no_such_object exception;
    pragma exception_init(e_no_such_object, -4043);  -- object does not exist
    e_no_such_table exception;
    pragma exception_init(e_no_such_table, -942);    -- table or view does not exist
  begin
    execute immediate p_statement;
  exception
    when e_no_such_object or e_no_such_table then
      null;
  end drop_if_exists;
begin
  drop_if_exists('drop package websocket_pkg');
  drop_if_exists('drop table websocket_config purge');
end;
/

prompt websocket_pkg: removed

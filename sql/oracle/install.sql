-- Installs websocket_pkg (docs/oracle.md) into the current schema.
--
--   cd sql/oracle
--   sql app_owner@//dbhost:1521/FREEPDB1 @install.sql          (SQLcl, or sqlplus)
--
-- Run it as the schema that will own the package. That schema needs:
--   CREATE TABLE and CREATE PROCEDURE (and quota on its tablespace),
--   EXECUTE on SYS.UTL_HTTP (granted to PUBLIC by default; some sites revoke it) and
--   EXECUTE on SYS.DBMS_CRYPTO (for mint_token only), granted by a DBA:
--     grant execute on sys.utl_http to app_owner;
--     grant execute on sys.dbms_crypto to app_owner;
--   network access to the server: a DBA runs acl.sql (ORA-24247 otherwise).
-- Then, once, still as the owner (configure refuses every other caller with ORA-20006, so
-- that a grantee can neither redirect the API key to a host of its own nor replace it):
--   exec websocket_pkg.configure(p_base_url => 'http://switchboard.example.com:8080', p_api_key => '...')
-- and grant the package to the application schemas that call it:
--   grant execute on websocket_pkg to app_user;
-- Grant nothing on table websocket_config: it holds the API key.
--
-- Running it again replaces the package and keeps the settings. Oracle Database 12.2 or later
-- (JSON_ELEMENT_T, DBMS_CRYPTO.HMAC_SH256). The how-to: docs/oracle.md.

whenever sqlerror exit failure rollback
set define off
set feedback off

prompt websocket_pkg: table websocket_config (the settings, one row)
declare
  l_count pls_integer;
begin
  select count(*) into l_count from user_tables where table_name = 'WEBSOCKET_CONFIG';
  if l_count = 0 then
    execute immediate q'[
      create table websocket_config (
        id               number(1) default 1 not null
                         constraint websocket_config_pk primary key
                         constraint websocket_config_one_row check (id = 1),
        base_url         varchar2(4000) not null,
        api_key          varchar2(4000) not null,
        wallet_path      varchar2(4000),
        wallet_password  varchar2(4000),
        transfer_timeout number(4) default 10 not null,
        jwt_secret       varchar2(4000),
        use_apex         varchar2(4) default 'AUTO' not null
                         constraint websocket_config_use_apex
                         check (use_apex in ('AUTO', 'YES', 'NO')),
        updated_at       timestamp default systimestamp not null
      )]';
    execute immediate q'[
      comment on table websocket_config is
        'websocket_pkg settings (websocket_pkg.configure); holds the Switchboard API key: grant it to no one']';
  end if;
end;
/

prompt websocket_pkg: package specification
@@websocket_pkg.pks

prompt websocket_pkg: package body
@@websocket_pkg.pkb

-- Fails the script (whenever sqlerror) when the package did not compile: see show errors.
declare
  l_invalid varchar2(4000);
begin
  for r in (select object_type, status
              from user_objects
             where object_name = 'WEBSOCKET_PKG'
               and object_type in ('PACKAGE', 'PACKAGE BODY')
               and status <> 'VALID') loop
    l_invalid := l_invalid || ' ' || r.object_type || ' is ' || r.status || ';';
  end loop;
  if l_invalid is not null then
    raise_application_error(-20000,
      'websocket_pkg did not compile:' || l_invalid
      || ' run "show errors package body websocket_pkg" to see why');
  end if;
end;
/

prompt websocket_pkg: installed; next, as this schema: exec websocket_pkg.configure(p_base_url => ..., p_api_key => ...)

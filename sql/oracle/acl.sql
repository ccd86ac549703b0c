-- Lets the database connect to the Switchboard server (fixes ORA-24247: network access denied
-- by access control list). Run it as a DBA (SYS, or a user with EXECUTE on
-- DBMS_NETWORK_ACL_ADMIN), Oracle Database 12c or later:
--
--   sql sys@//dbhost:1521/FREEPDB1 as sysdba @acl.sql
--
-- Edit the three values first: the server's host name or IP address exactly as it appears in
-- websocket_pkg.configure's p_base_url, its port, and the schema that owns websocket_pkg.
-- The package runs with its owner's rights (AUTHID DEFINER), so the owner is the principal,
-- not the application users who call it. When Oracle APEX is installed, the package calls
-- through APEX_WEB_SERVICE, which connects as APEX's own schema (APEX_240200 and so on): that
-- schema gets the same entry.
--
-- For https nothing more is needed here: the server's certificate is checked against the
-- wallet given to configure (p_wallet_path), see docs/oracle.md.

set serveroutput on
whenever sqlerror exit failure rollback

declare
  -- Edit these:
  c_host   constant varchar2(1000) := 'switchboard.example.com'; -- or '10.0.0.5'
  c_port   constant pls_integer := 8080;                         -- 443 for https
  c_schema constant varchar2(128) := 'APP_OWNER';                -- owner of websocket_pkg

  procedure allow (p_principal in varchar2)
  is
  begin
    dbms_network_acl_admin.append_host_ace(
      host       => c_host,
      lower_port => c_port,
      upper_port => c_port,
      ace        => xs$ace_type(
                      privilege_list => xs$name_list('connect'),
                      principal_name => p_principal,
                      principal_type => xs_acl.ptype_db));
    dbms_output.put_line('acl: ' || p_principal || ' may connect to ' || c_host || ':' || c_port);
  end allow;
begin
  allow(upper(c_schema));
  for apex in (select schema from dba_registry where comp_id = 'APEX') loop
    allow(apex.schema);
  end loop;
  commit;
end;
/

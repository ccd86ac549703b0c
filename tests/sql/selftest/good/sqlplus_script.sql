-- Things a SQL*Plus script holds that are not SQL, between statements that are.
rem A remark
set define off
set serveroutput on size unlimited
whenever sqlerror exit failure rollback
prompt installing; this line ends with a ; that is no statement;
define owner = APP_OWNER
spool install.log
@@other_file.sql
@/abs/path/file.sql
/* a comment
   over lines */
create table t (
  a varchar2(10),
  b varchar2(100) default 'x;y'
);
-- "set" at the start of a line inside an UPDATE is SQL, not SQL*Plus
update t
set a = 'q'
where b = q'[it's; here]';
insert into t (a, b) values ('/', 'a''b;c');
set transaction read only;
begin
  dbms_output.put_line('a / in a string; and a ;');
end;
/
exec dbms_output.put_line('exec is a block')
execute dbms_output.put_line( -
  'continued')
create or replace procedure p (p_x in varchar2)
is
begin
  null;
end p;
/
show errors procedure p
select 1 from dual
/
spool off
exit

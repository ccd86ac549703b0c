set define off
prompt the statement below is broken: skipping the commands must not hide it
whenever sqlerror exit failure
-- expect error at line 5
selec 1 from dual;

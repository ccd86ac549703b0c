create or replace package demo_pkg
as
  e_failed exception;
  pragma exception_init(e_failed, -20001); -- in the spec: the grammar takes it here
  procedure run (p_data in clob default null);
end demo_pkg;
/

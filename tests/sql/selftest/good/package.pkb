create or replace package body demo_pkg
as
  procedure run (p_data in clob default null)
  is
    e_timeout exception;
    pragma exception_init(e_timeout, -29276); -- inside a subprogram: fine too
    l_json json_element_t;
  begin
    l_json := json_element_t.parse(p_data);
  exception
    when e_timeout then
      raise;
  end run;
end demo_pkg;
/

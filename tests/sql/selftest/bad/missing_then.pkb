-- expect error at line 7
create or replace package body demo_pkg
as
  procedure run
  is
  begin
    if 1 = 1 null;
    end if;
  end run;
end demo_pkg;
/

-- The grammar refuses conditional compilation.
create or replace package body demo_pkg
as
  procedure run
  is
  begin
    $if dbms_db_version.ver_le_12 $then
      null;
    $end
    null;
  end run;
end demo_pkg;
/

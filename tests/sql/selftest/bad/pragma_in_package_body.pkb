-- The grammar refuses PRAGMA EXCEPTION_INIT among a package body's own declarations.
-- expect error at line 6
create or replace package body demo_pkg
as
  e_failed exception;
  pragma exception_init(e_failed, -20001);
  procedure run is begin null; end run;
end demo_pkg;
/

-- The grammar refuses the IS JSON condition.
-- expect error at line 6
declare
  l_data clob := '{}';
begin
  if l_data is json then
    null;
  end if;
end;
/

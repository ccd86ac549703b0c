-- expect error at line 2
begin
  null;
end;

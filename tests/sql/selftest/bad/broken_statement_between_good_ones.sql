select 1 from dual;
-- expect error at line 3
update t set = 1 where a = 2;
select 2 from dual;

-- Removes what sql/postgresql/install.sql created: schema switchboard with its functions and
-- its settings (the API key included). Run it as the installer (a superuser).
--
--   psql -v ON_ERROR_STOP=1 -d "postgresql://admin@dbhost/appdb" -f sql/postgresql/uninstall.sql
--
-- Trigger functions of yours that call switchboard.notify() or switchboard.emit_*() are not
-- dropped (PostgreSQL does not track calls inside function bodies): they fail when they fire
-- afterwards, so drop or change them first. The plpython3u extension stays, since other code
-- may use it (DROP EXTENSION plpython3u; removes it when nothing does).

BEGIN;
DROP SCHEMA IF EXISTS switchboard CASCADE;
COMMIT;

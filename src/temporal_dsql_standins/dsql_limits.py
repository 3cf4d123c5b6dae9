"""Aurora DSQL's per-transaction limits, enforced on the PostgreSQL stand-in for every table.

DSQL refuses a transaction that modifies more than 3,000 rows or runs longer than 5 minutes
(SQLSTATE 54000). PostgreSQL has neither limit, so a write path that would fail on DSQL passes
on the stand-in unless the stand-in refuses it too. ``PostgresServer`` installs this SQL in
``template1`` and in its default database: a row trigger counts the rows a transaction writes (a
transaction-local setting) and raises 54000 beyond the limit, and an event trigger attaches that
row trigger to every table any store creates (``CREATE TABLE``), so no store can opt out.

Bulk seeding (benchmarks, fixtures of 100k rows) is not a store's write path: such a session runs
``SET session_replication_role = replica``, which skips row triggers for that session only.
"""

from __future__ import annotations

__all__ = ["DSQL_LIMITS_SQL", "DSQL_MAX_ROWS_PER_TRANSACTION", "DSQL_MAX_TRANSACTION_SECONDS"]

DSQL_MAX_ROWS_PER_TRANSACTION = 3000
"""Rows one DSQL transaction may modify (Aurora DSQL quotas: "rows modified per transaction")."""
DSQL_MAX_TRANSACTION_SECONDS = 300
"""Longest a DSQL transaction may run (5 minutes)."""

DSQL_LIMITS_SQL = f"""
CREATE OR REPLACE FUNCTION dsql_limits() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE written int := coalesce(nullif(current_setting('dsql.rows_written', true), ''), '0')::int + 1;
BEGIN
  PERFORM set_config('dsql.rows_written', written::text, true);
  IF written > {DSQL_MAX_ROWS_PER_TRANSACTION} THEN
    RAISE EXCEPTION 'transaction writes more than {DSQL_MAX_ROWS_PER_TRANSACTION} rows (Aurora DSQL limit)'
      USING ERRCODE = '54000';
  END IF;
  IF clock_timestamp() - now() > interval '{DSQL_MAX_TRANSACTION_SECONDS} seconds' THEN
    RAISE EXCEPTION 'transaction older than {DSQL_MAX_TRANSACTION_SECONDS} s (Aurora DSQL limit)'
      USING ERRCODE = '54000';
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION dsql_limits_attach() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE created record;
BEGIN
  FOR created IN SELECT objid, object_identity FROM pg_event_trigger_ddl_commands()
                 WHERE command_tag = 'CREATE TABLE' AND object_type = 'table' LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = created.objid AND tgname = 'dsql_limits') THEN
      EXECUTE format('CREATE TRIGGER dsql_limits AFTER INSERT OR UPDATE OR DELETE ON %s '
                     'FOR EACH ROW EXECUTE FUNCTION dsql_limits()', created.object_identity);
    END IF;
  END LOOP;
END $$;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'dsql_limits_attach') THEN
    CREATE EVENT TRIGGER dsql_limits_attach ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
      EXECUTE FUNCTION dsql_limits_attach();
  END IF;
END $$;
"""

// The alarm store's SQLite schema, as migration steps: one table of alarms (the columns `dsiem alarms`
// filters and sorts on, plus the alarm line itself), indexed for those filters.

/**
 * Schema steps, applied in order inside one transaction; the count is stored in PRAGMA user_version
 * (the schema version), so a newer file is refused instead of misread.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE alarms (
     alarm_id     TEXT PRIMARY KEY NOT NULL,
     directive_id INTEGER NOT NULL,
     title        TEXT NOT NULL,
     status       TEXT NOT NULL,
     tag          TEXT NOT NULL,
     risk         INTEGER NOT NULL,
     risk_class   TEXT NOT NULL,
     created_time INTEGER NOT NULL,
     update_time  INTEGER NOT NULL,
     src_ips      TEXT NOT NULL,
     dst_ips      TEXT NOT NULL,
     json         TEXT NOT NULL
   );
   CREATE INDEX alarms_status ON alarms (status);
   CREATE INDEX alarms_tag ON alarms (tag);
   CREATE INDEX alarms_risk_class ON alarms (risk_class);
   CREATE INDEX alarms_update_time ON alarms (update_time);`,
]

export const ALARM_STORE_SCHEMA_VERSION = MIGRATIONS.length

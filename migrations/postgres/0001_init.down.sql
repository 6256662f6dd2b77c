-- The pg_trgm extension is left installed: it is database-wide and may serve other schemas.
DROP TABLE IF EXISTS outbox;
DROP TABLE IF EXISTS activity_logs;
DROP TABLE IF EXISTS reminders;
DROP TABLE IF EXISTS task_tags;
DROP TABLE IF EXISTS tags;
DROP TABLE IF EXISTS tasks;

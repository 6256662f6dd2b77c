-- The todo schema (SQLite). Timestamps are INTEGER microseconds since the Unix epoch (UTC):
-- exact and sortable. `search_text`, `title_key` and `name_key` are computed in Rust
-- (todo_core::query::search_text / title_key, TagName::key) and compared bytewise (BINARY).
-- `parent_task_id`, `next_task_id` and `activity_logs.task_id` are plain references, not
-- foreign keys: they outlive the tasks they name. AUTOINCREMENT: ids are never reused.

CREATE TABLE tasks (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id             TEXT    NOT NULL,
    title               TEXT    NOT NULL,
    description         TEXT,
    completed           INTEGER NOT NULL DEFAULT 0 CHECK (completed IN (0, 1)),
    completed_at        INTEGER,
    due_datetime        INTEGER,
    priority            TEXT    NOT NULL CHECK (priority IN ('High', 'Medium', 'Low')),
    priority_rank       INTEGER NOT NULL CHECK (priority_rank BETWEEN 1 AND 3),
    recurrence_pattern  TEXT    NOT NULL DEFAULT 'none'
                        CHECK (recurrence_pattern IN ('none', 'daily', 'weekly', 'monthly')),
    rrule               TEXT,
    recurrence_end_date INTEGER,
    series_start        INTEGER,
    timezone            TEXT    NOT NULL DEFAULT 'UTC',
    parent_task_id      INTEGER,
    next_task_id        INTEGER,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    search_text         TEXT    NOT NULL,
    title_key           TEXT    NOT NULL
);
-- The "next instance is created once" guard.
CREATE UNIQUE INDEX tasks_parent_task_id_key ON tasks (parent_task_id) WHERE parent_task_id IS NOT NULL;
CREATE INDEX tasks_user_created_idx ON tasks (user_id, created_at);
CREATE INDEX tasks_user_due_idx ON tasks (user_id, due_datetime);

CREATE TABLE tags (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    name_key   TEXT    NOT NULL,
    color      TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX tags_user_name_key ON tags (user_id, name_key);

CREATE TABLE task_tags (
    task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    tag_id  INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (task_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX task_tags_tag_idx ON task_tags (tag_id);

CREATE TABLE reminders (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id       INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    user_id       TEXT    NOT NULL,
    reminder_time INTEGER NOT NULL,
    reminder_type TEXT    NOT NULL CHECK (reminder_type IN ('due_date', 'custom')),
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'cancelled')),
    created_at    INTEGER NOT NULL,
    sent_at       INTEGER,
    cancelled_at  INTEGER
);
-- At most one pending reminder per task.
CREATE UNIQUE INDEX reminders_one_pending_key ON reminders (task_id) WHERE status = 'pending';
CREATE INDEX reminders_task_idx ON reminders (task_id);
CREATE INDEX reminders_status_time_idx ON reminders (status, reminder_time);

CREATE TABLE activity_logs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT    NOT NULL,
    task_id    INTEGER,
    action     TEXT    NOT NULL,
    old_values TEXT,
    new_values TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX activity_logs_user_created_idx ON activity_logs (user_id, created_at, id);

CREATE TABLE outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     TEXT    NOT NULL UNIQUE,
    user_id      TEXT    NOT NULL,
    event_type   TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    delivered_at INTEGER
);
CREATE INDEX outbox_undelivered_idx ON outbox (seq) WHERE delivered_at IS NULL;

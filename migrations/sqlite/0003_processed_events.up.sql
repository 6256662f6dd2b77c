-- Idempotent consumers: the events each consumer has applied, recorded in the same transaction
-- as the event's effect, so a redelivered event has no second effect. `processed_at` is INTEGER
-- microseconds since the epoch, like every timestamp of this schema.
CREATE TABLE processed_events (
    consumer     TEXT    NOT NULL,
    event_id     TEXT    NOT NULL,
    processed_at INTEGER NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

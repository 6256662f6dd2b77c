-- Idempotent consumers: the events each consumer has applied, recorded in the same transaction
-- as the event's effect, so a redelivered event has no second effect.
CREATE TABLE processed_events (
    consumer     TEXT        NOT NULL,
    event_id     UUID        NOT NULL,
    processed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (consumer, event_id)
);

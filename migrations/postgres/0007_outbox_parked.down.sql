-- Parked events become undelivered again (the relay offers them to the publisher once more).
DROP INDEX outbox_parked_idx;
DROP INDEX outbox_undelivered_idx;
ALTER TABLE outbox DROP COLUMN park_reason, DROP COLUMN parked_at;
CREATE INDEX outbox_undelivered_idx ON outbox (seq) WHERE delivered_at IS NULL;

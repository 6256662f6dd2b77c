-- Dead-lettered outbox events: the relay parks an event that the publisher refused for good (too
-- large, cannot be encoded, invalid) so that the events after it go on. A parked event is neither
-- undelivered nor replayed; it is kept, with when and why, for an operator.
ALTER TABLE outbox ADD COLUMN parked_at INTEGER;
ALTER TABLE outbox ADD COLUMN park_reason TEXT;
DROP INDEX outbox_undelivered_idx;
CREATE INDEX outbox_undelivered_idx ON outbox (seq) WHERE delivered_at IS NULL AND parked_at IS NULL;
CREATE INDEX outbox_parked_idx ON outbox (seq) WHERE parked_at IS NOT NULL;

-- Real-time replay: a user's events after a given one (`?since=` / `Last-Event-ID`), delivered or not.
CREATE INDEX outbox_user_seq_idx ON outbox (user_id, seq);

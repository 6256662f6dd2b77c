-- Idempotency keys (`Idempotency-Key` on POST): per user and key, the fingerprint of the request
-- that first used the key (method, path, body hash) and, once it ran, its response: `status`
-- NULL marks a request still in progress. Records older than the TTL (from `created_at`, the
-- first use) count as absent and are pruned in the background by `created_at`.
CREATE TABLE idempotency_keys (
    user_id     TEXT        NOT NULL,
    idem_key    TEXT        NOT NULL,
    fingerprint TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    status      INTEGER,
    headers     TEXT,
    body        BYTEA,
    PRIMARY KEY (user_id, idem_key)
);

CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

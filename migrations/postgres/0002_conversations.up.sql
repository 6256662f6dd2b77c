-- Conversation state (the chatbot's memory): one JSON document per user and conversation id.
-- `version` is the optimistic-concurrency version (the ETag is `v<version>`).
CREATE TABLE conversations (
    user_id         TEXT        NOT NULL,
    conversation_id TEXT        NOT NULL,
    doc             JSONB       NOT NULL,
    version         BIGINT      NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, conversation_id)
);

CREATE INDEX conversations_user_updated ON conversations (user_id, updated_at);

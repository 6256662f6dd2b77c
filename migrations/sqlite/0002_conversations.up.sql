-- Conversation state (the chatbot's memory): one JSON document per user and conversation id.
-- `version` is the optimistic-concurrency version (the ETag is `v<version>`); `updated_at` is
-- INTEGER microseconds since the epoch, like every timestamp of this schema.
CREATE TABLE conversations (
    user_id         TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    doc             TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (user_id, conversation_id)
);

CREATE INDEX conversations_user_updated ON conversations (user_id, updated_at);

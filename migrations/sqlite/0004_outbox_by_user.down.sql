DROP INDEX outbox_user_seq_idx;

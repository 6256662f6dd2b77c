//! What the outbox relays of the broker adapters share.

use todo_core::ports::OutboxEntry;

use crate::envelope::EventEnvelope;

/// The envelopes of an outbox batch, in order. A domain event that breaks the contract is a bug
/// of this server; publishing the rest must not wait for it: it is logged and skipped (it stays
/// in the outbox table for inspection).
pub fn envelopes(batch: &[OutboxEntry]) -> Vec<EventEnvelope> {
    let mut envelopes = Vec::with_capacity(batch.len());
    for entry in batch {
        match EventEnvelope::from_domain(&entry.event) {
            Ok(e) => envelopes.push(e),
            Err(e) => tracing::error!(
                seq = entry.seq,
                event_id = %entry.event.id.get(),
                error = %e,
                "relay: an outbox event breaks the contract; skipped"
            ),
        }
    }
    envelopes
}

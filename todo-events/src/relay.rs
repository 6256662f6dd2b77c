//! What the outbox relays of the broker adapters (and the server's in-process bus) share: turning
//! an outbox batch into envelopes, and refusing for good, before anything is sent, the events
//! that no publisher can take (one that breaks the contract, one larger than the limit). The
//! relay parks those ([`todo_core::ports::Store::park_event`]) and goes on with the rest.

use std::io::Write;

use todo_core::error::{PublishError, RejectReason, Rejection};
use todo_core::ports::OutboxEntry;

use crate::envelope::EventEnvelope;

/// An outbox entry ready to send: its envelope and its encoding ([`crate::codec::encode`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    /// The entry's position in the outbox.
    pub seq: u64,
    /// The contract event.
    pub envelope: EventEnvelope,
    /// Its encoding, as sent (at most the limit it was checked against).
    pub payload: Vec<u8>,
}

/// The envelopes of a batch and their encodings, in order, each at most `max_bytes` long.
///
/// # Errors
/// [`PublishError::Rejected`] naming every event of the batch that cannot be published: one
/// that breaks the contract or cannot be serialized ([`RejectReason::Unencodable`]), one whose
/// encoding is longer than `max_bytes` ([`RejectReason::TooLarge`]).
pub fn encode_batch(batch: &[OutboxEntry], max_bytes: usize) -> Result<Vec<Encoded>, PublishError> {
    let checked = check_batch(batch, max_bytes, |envelope| {
        crate::codec::encode(envelope).map(|payload| (payload.len(), payload))
    })?;
    Ok(checked
        .into_iter()
        .map(|(seq, envelope, payload)| Encoded {
            seq,
            envelope,
            payload,
        })
        .collect())
}

/// The envelopes of a batch, in order, with the checks of [`encode_batch`] but without keeping
/// the encodings: for a publisher that hands the envelopes on as they are (the in-process bus),
/// so that an event behaves the same whichever publisher the server runs with. The size is
/// counted while serializing, without allocating the encoding.
///
/// # Errors
/// As [`encode_batch`].
pub fn checked_envelopes(
    batch: &[OutboxEntry],
    max_bytes: usize,
) -> Result<Vec<(u64, EventEnvelope)>, PublishError> {
    let checked = check_batch(batch, max_bytes, |envelope| {
        let mut counter = Counter(0);
        serde_json::to_writer(&mut counter, envelope).map(|()| (counter.0, ()))
    })?;
    Ok(checked
        .into_iter()
        .map(|(seq, envelope, ())| (seq, envelope))
        .collect())
}

/// The checks both share: each entry's envelope, `encode`d into (its length, what to keep);
/// every entry that breaks the contract, cannot be encoded or is longer than `max_bytes` is
/// named in one [`PublishError::Rejected`].
fn check_batch<T, E: std::fmt::Display>(
    batch: &[OutboxEntry],
    max_bytes: usize,
    mut encode: impl FnMut(&EventEnvelope) -> Result<(usize, T), E>,
) -> Result<Vec<(u64, EventEnvelope, T)>, PublishError> {
    let mut out = Vec::with_capacity(batch.len());
    let mut refused = Vec::new();
    for entry in batch {
        let envelope = match EventEnvelope::from_domain(&entry.event) {
            Ok(e) => e,
            Err(e) => {
                refused.push(unencodable(entry.seq, &e));
                continue;
            }
        };
        match encode(&envelope) {
            Ok((len, _)) if len > max_bytes => refused.push(too_large(entry.seq, len, max_bytes)),
            Ok((_, kept)) => out.push((entry.seq, envelope, kept)),
            Err(e) => refused.push(unencodable(entry.seq, &e)),
        }
    }
    if refused.is_empty() {
        Ok(out)
    } else {
        Err(PublishError::Rejected(refused))
    }
}

fn unencodable(seq: u64, e: &dyn std::fmt::Display) -> Rejection {
    Rejection {
        seq,
        reason: RejectReason::Unencodable,
        detail: format!("the event cannot be encoded: {e}"),
        bytes: None,
    }
}

fn too_large(seq: u64, bytes: usize, max_bytes: usize) -> Rejection {
    Rejection {
        seq,
        reason: RejectReason::TooLarge,
        detail: format!("the encoded event is {bytes} bytes, over the limit of {max_bytes}"),
        bytes: Some(bytes),
    }
}

/// Counts what is written to it.
struct Counter(usize);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::{TimeZone, Utc};
    use todo_core::events::{DomainEvent, EventPayload, TaskChange};
    use todo_core::ids::{EventId, TaskId, UserId};
    use todo_core::model::Values;

    use super::*;

    fn entry(seq: u64, title_len: usize) -> OutboxEntry {
        let mut new_values = Values::new();
        new_values.insert("title".into(), serde_json::json!("x".repeat(title_len)));
        OutboxEntry {
            seq,
            event: DomainEvent {
                id: EventId::new(uuid::Uuid::from_u128(u128::from(seq))),
                occurred_at: Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap(),
                user_id: UserId::parse("u").unwrap(),
                payload: EventPayload::TaskUpdated(TaskChange {
                    task_id: TaskId::new(1),
                    changed_fields: vec!["title".into()],
                    old_values: Values::new(),
                    new_values,
                }),
            },
        }
    }

    #[test]
    fn events_over_the_limit_are_refused_and_both_checks_agree() {
        let batch = [entry(1, 10), entry(2, 5000), entry(3, 10), entry(4, 6000)];
        let small = crate::codec::encode(&EventEnvelope::from_domain(&batch[0].event).unwrap())
            .unwrap()
            .len();
        let max = small + 100;
        for result in [
            encode_batch(&batch, max).map(|v| v.len()),
            checked_envelopes(&batch, max).map(|v| v.len()),
        ] {
            let Err(PublishError::Rejected(refused)) = result else {
                panic!("expected a rejection, got {result:?}");
            };
            assert_eq!(refused.iter().map(|r| r.seq).collect::<Vec<_>>(), [2, 4]);
            assert!(refused.iter().all(|r| r.reason == RejectReason::TooLarge));
            assert!(refused[0].bytes.unwrap() > 5000);
        }
        // Exactly at the limit passes, one byte under refuses: both count the same bytes.
        assert_eq!(encode_batch(&batch[..1], small).unwrap().len(), 1);
        assert_eq!(checked_envelopes(&batch[..1], small).unwrap().len(), 1);
        assert!(encode_batch(&batch[..1], small - 1).is_err());
        assert!(checked_envelopes(&batch[..1], small - 1).is_err());
        let ok = encode_batch(&[entry(1, 10), entry(3, 10)], max).unwrap();
        assert_eq!(ok.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 3]);
    }
}

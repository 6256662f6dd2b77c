//! Encoding and decoding of envelopes, with the version rules of [`crate::version`].

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use todo_core::ids::EventId;

use crate::envelope::EventEnvelope;
use crate::error::Error;
use crate::event_type::EventType;
use crate::payload::{
    ActivityLogCreated, Data, EventData, ReminderTriggered, TaskCompleted, TaskCreated,
    TaskDeleted, TaskUpdated,
};
use crate::version::{Compatibility, SchemaVersion};

/// The keys of the envelope, in the order they are written.
pub const ENVELOPE_FIELDS: [&str; 5] = ["event_type", "event_id", "timestamp", "version", "data"];

/// Used in [`Error::Malformed`] before the event type is known.
const UNKNOWN: &str = "event";

/// Serializes an event as compact JSON.
pub fn encode(event: &EventEnvelope) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(event).map_err(|e| Error::Encode {
        reason: e.to_string(),
    })
}

/// Parses and checks an event.
///
/// In order: the bytes must be a JSON object ([`Error::NotJson`]); `version` must be
/// `MAJOR.MINOR[.PATCH]` ([`Error::InvalidVersion`]) with the supported major
/// ([`Error::UnsupportedVersion`], checked before anything else since another major may have
/// another shape); `event_type` must be known ([`Error::UnknownEventType`]); then the envelope
/// and `data` must have the contract's shape and rules ([`Error::Malformed`]). Unknown keys are
/// errors, except in an event of a newer minor version, where they are dropped.
pub fn decode(bytes: &[u8]) -> Result<EventEnvelope, Error> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| Error::NotJson {
        reason: e.to_string(),
    })?;
    decode_value(value)
}

/// [`decode`] for an already parsed JSON value.
pub fn decode_value(value: Value) -> Result<EventEnvelope, Error> {
    let Value::Object(mut obj) = value else {
        return Err(Error::NotJson {
            reason: format!("expected a JSON object, got {}", kind(&value)),
        });
    };

    let version = match obj.get("version") {
        Some(Value::String(s)) => SchemaVersion::parse(s)?,
        other => {
            return Err(Error::InvalidVersion {
                found: found(other),
            });
        }
    };
    let compat = version.compatibility()?;

    let event_type = match obj.get("event_type") {
        Some(Value::String(s)) => EventType::parse(s)?,
        Some(other) => {
            return Err(Error::UnknownEventType {
                found: other.to_string(),
            });
        }
        None => return Err(Error::malformed(UNKNOWN, "missing field `event_type`")),
    };
    let et = event_type.as_str();

    drop_or_reject_unknown(&mut obj, &ENVELOPE_FIELDS, compat, et, "")?;

    let event_id = match obj.get("event_id") {
        Some(Value::String(s)) => parse_event_id(s).ok_or_else(|| {
            Error::malformed(et, format!("event_id must be a hyphenated UUID, got {s:?}"))
        })?,
        _ => return Err(Error::malformed(et, "event_id must be a string (a UUID)")),
    };
    let timestamp = match obj.get("timestamp") {
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                Error::malformed(
                    et,
                    format!("timestamp must be an RFC 3339 date-time, got {s:?}"),
                )
            })?,
        _ => {
            return Err(Error::malformed(
                et,
                "timestamp must be a string (an RFC 3339 date-time)",
            ));
        }
    };
    let data = match obj.remove("data") {
        Some(Value::Object(m)) => m,
        other => {
            return Err(Error::malformed(
                et,
                format!(
                    "data must be an object, got {}",
                    other.as_ref().map_or("nothing", kind)
                ),
            ));
        }
    };

    let data = match event_type {
        EventType::TaskCreated => typed::<TaskCreated>(data, compat, et)?,
        EventType::TaskUpdated => typed::<TaskUpdated>(data, compat, et)?,
        EventType::TaskCompleted => typed::<TaskCompleted>(data, compat, et)?,
        EventType::TaskDeleted => typed::<TaskDeleted>(data, compat, et)?,
        EventType::ReminderTriggered => typed::<ReminderTriggered>(data, compat, et)?,
        EventType::ActivityLogCreated => typed::<ActivityLogCreated>(data, compat, et)?,
    };
    data.check()?;

    Ok(EventEnvelope {
        event_id,
        timestamp,
        version,
        data,
    })
}

/// Deserializes `data`; unknown keys are dropped first when the event is of a newer minor.
/// In strict mode `deny_unknown_fields` on the struct rejects them.
fn typed<T: Data>(
    mut data: Map<String, Value>,
    compat: Compatibility,
    et: &'static str,
) -> Result<EventData, Error> {
    drop_or_reject_unknown(&mut data, T::FIELDS, compat, et, "data.")?;
    serde_json::from_value::<T>(Value::Object(data))
        .map(T::into_data)
        .map_err(|e| Error::malformed(et, format!("data: {e}")))
}

fn drop_or_reject_unknown(
    obj: &mut Map<String, Value>,
    known: &[&str],
    compat: Compatibility,
    et: &'static str,
    prefix: &str,
) -> Result<(), Error> {
    match compat {
        Compatibility::IgnoreUnknownFields => {
            obj.retain(|k, _| known.contains(&k.as_str()));
            Ok(())
        }
        Compatibility::Strict => match obj.keys().find(|k| !known.contains(&k.as_str())) {
            Some(k) => Err(Error::malformed(et, format!("unknown field `{prefix}{k}`"))),
            None => Ok(()),
        },
    }
}

/// A UUID in the hyphenated 8-4-4-4-12 form only (what JSON Schema's `uuid` format accepts), not
/// the other forms the `uuid` crate also parses.
fn parse_event_id(s: &str) -> Option<EventId> {
    let b = s.as_bytes();
    let shape_ok = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    if !shape_ok {
        return None;
    }
    uuid::Uuid::parse_str(s).ok().map(EventId::new)
}

fn found(v: Option<&Value>) -> String {
    v.map_or_else(|| "null".to_owned(), Value::to_string)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

//! Version rules of `decode`: same major any minor, unknown keys only for a newer minor.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::{Value, json};
use todo_events::{Compatibility, Error, EventType, SchemaVersion, decode, decode_value, encode};

fn with_version(et: EventType, version: &str) -> Value {
    let mut json = common::sample_json(et);
    json["version"] = version.into();
    json
}

#[test]
fn produced_events_carry_version_1_0() {
    for e in common::envelopes() {
        assert_eq!(e.version, SchemaVersion::CURRENT);
        assert_eq!(serde_json::to_value(&e).unwrap()["version"], "1.0");
    }
}

#[test]
fn major_2_is_unsupported_with_the_version_found() {
    let err = decode_value(with_version(EventType::TaskCreated, "2.0")).unwrap_err();
    assert_eq!(
        err,
        Error::UnsupportedVersion {
            found: "2.0".into(),
            supported: 1
        }
    );
    assert_eq!(err.code(), "UNSUPPORTED_VERSION");
    // before anything else: a v2 event of unknown type and shape is still UnsupportedVersion
    let v2 = json!({"version": "2.5.1", "kind": "task-archived", "payload": 1});
    assert!(
        matches!(decode_value(v2), Err(Error::UnsupportedVersion { found, .. }) if found == "2.5.1")
    );
}

#[test]
fn newer_minor_is_accepted_and_drops_unknown_keys() {
    for et in EventType::ALL {
        let mut json = with_version(et, "1.3");
        json["trace_id"] = "abc".into();
        json["data"]["added_in_1_3"] = json!({"nested": [1, 2]});
        let e = decode_value(json).unwrap_or_else(|err| panic!("{et}: {err}"));
        assert_eq!(e.version.to_string(), "1.3", "the received version is kept");
        assert_eq!(
            SchemaVersion::parse("1.3")
                .unwrap()
                .compatibility()
                .unwrap(),
            Compatibility::IgnoreUnknownFields
        );
        let out: Value = serde_json::from_slice(&encode(&e).unwrap()).unwrap();
        assert!(out.get("trace_id").is_none() && out["data"].get("added_in_1_3").is_none());
        // apart from the dropped keys and the version, it is the produced event
        let mut expected = common::sample_json(et);
        expected["version"] = "1.3".into();
        assert_eq!(out, expected, "{et}");
    }
}

#[test]
fn current_minor_rejects_unknown_keys_in_envelope_and_data() {
    for version in ["1.0", "1.0.0", "1.0.7"] {
        let mut json = with_version(EventType::TaskDeleted, version);
        json["data"]["color"] = "red".into();
        let err = decode_value(json).unwrap_err();
        assert!(
            matches!(&err, Error::Malformed { reason, .. } if reason.contains("color")),
            "{version}: {err}"
        );

        let mut json = with_version(EventType::TaskDeleted, version);
        json["trace_id"] = "abc".into();
        let err = decode_value(json).unwrap_err();
        assert!(
            matches!(&err, Error::Malformed { reason, .. } if reason.contains("trace_id")),
            "{version}: {err}"
        );
    }
}

#[test]
fn same_major_any_minor_or_patch_is_accepted() {
    for v in ["1.0", "1.0.0", "1.0.12", "1.1", "1.3", "1.3.1", "1.999"] {
        let e = decode_value(with_version(EventType::ReminderTriggered, v))
            .unwrap_or_else(|err| panic!("{v}: {err}"));
        assert_eq!(e.version.to_string(), v);
    }
}

#[test]
fn malformed_versions_are_invalid_not_unsupported() {
    for v in [
        json!("1"),
        json!("v1.0"),
        json!("1.0-beta"),
        json!(""),
        json!(1.0),
        json!(null),
        json!(["1.0"]),
    ] {
        let mut json = common::sample_json(EventType::TaskDeleted);
        json["version"] = v.clone();
        let err = decode_value(json).unwrap_err();
        assert!(matches!(err, Error::InvalidVersion { .. }), "{v}: {err}");
    }
    let mut json = common::sample_json(EventType::TaskDeleted);
    json.as_object_mut().unwrap().remove("version");
    assert!(matches!(decode_value(json), Err(Error::InvalidVersion { found }) if found == "null"));
}

#[test]
fn not_json_and_not_objects() {
    for bytes in [&b"{"[..], b"", b"\xff\xfe", b"{\"version\": \"1.0\",}"] {
        assert_eq!(decode(bytes).unwrap_err().code(), "NOT_JSON");
    }
    for v in ["[]", "\"task-created\"", "null", "42"] {
        assert_eq!(decode(v.as_bytes()).unwrap_err().code(), "NOT_JSON", "{v}");
    }
}

#[test]
fn unknown_event_type_is_its_own_error() {
    let mut json = common::sample_json(EventType::TaskDeleted);
    json["event_type"] = "task-archived".into();
    assert_eq!(
        decode_value(json).unwrap_err(),
        Error::UnknownEventType {
            found: "\"task-archived\"".into()
        }
    );
    let mut json = common::sample_json(EventType::TaskDeleted);
    json.as_object_mut().unwrap().remove("event_type");
    assert_eq!(decode_value(json).unwrap_err().code(), "MALFORMED");
}

//! The JSON Schemas: well-formed, in step with the structs, and satisfied by every produced event.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use serde_json::Value;
use todo_core::model::ActivityAction;
use todo_events::{ENVELOPE_FIELDS, EventType, schema};

fn schema_value(et: EventType) -> Value {
    serde_json::from_str(schema(et)).unwrap()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn schemas_are_valid_draft_2020_12_documents_named_for_their_type() {
    for et in EventType::ALL {
        let s = schema_value(et);
        assert_eq!(
            s["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{et}"
        );
        assert_eq!(s["title"], et.as_str());
        assert_eq!(s["properties"]["event_type"]["const"], et.as_str());
        jsonschema::meta::validate(&s).unwrap_or_else(|e| panic!("{et}: {e}"));
        // the embedded text is the file in schemas/
        let path = format!(
            "{}/schemas/{}",
            env!("CARGO_MANIFEST_DIR"),
            todo_events::schema::schema_file_name(et)
        );
        assert_eq!(std::fs::read_to_string(path).unwrap(), schema(et));
    }
}

#[test]
fn every_produced_event_validates_against_its_schema() {
    let mut seen = BTreeSet::new();
    for e in common::envelopes() {
        let json = serde_json::to_value(&e).unwrap();
        let errors = common::schema_errors(e.event_type(), &json);
        assert!(
            errors.is_empty(),
            "{}: {errors:?}\n{json:#}",
            e.event_type()
        );
        seen.insert(e.event_type());
    }
    assert_eq!(
        seen.len(),
        EventType::ALL.len(),
        "a realistic event of every type"
    );
}

#[test]
fn a_produced_event_fails_the_other_types_schemas() {
    for e in common::envelopes() {
        let json = serde_json::to_value(&e).unwrap();
        for other in EventType::ALL.into_iter().filter(|t| *t != e.event_type()) {
            assert!(
                !common::validator(other).is_valid(&json),
                "{} passed {other}",
                e.event_type()
            );
        }
    }
}

#[test]
fn schema_keys_match_what_the_crate_writes() {
    for et in EventType::ALL {
        let s = schema_value(et);
        let produced = common::sample_json(et);
        let envelope: BTreeSet<String> = ENVELOPE_FIELDS.iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(keys(&s["properties"]), envelope, "{et} envelope properties");
        assert_eq!(
            strings(&s["then"]["propertyNames"]["enum"]),
            envelope,
            "{et} envelope strict keys"
        );
        assert_eq!(keys(&produced), envelope);

        let data_props = keys(&s["properties"]["data"]["properties"]);
        assert_eq!(
            data_props,
            keys(&produced["data"]),
            "{et}: schema properties vs produced data keys"
        );
        assert_eq!(
            strings(&s["then"]["properties"]["data"]["propertyNames"]["enum"]),
            data_props,
            "{et}: strict key list vs properties"
        );
        let required = strings(&s["properties"]["data"]["required"]);
        assert!(
            required.is_subset(&data_props),
            "{et}: required keys are properties"
        );
    }
}

#[test]
fn schema_enums_match_core() {
    let s = schema_value(EventType::ActivityLogCreated);
    let actions: BTreeSet<String> = ActivityAction::ALL
        .iter()
        .map(|a| a.as_str().to_owned())
        .collect();
    assert_eq!(strings(&s["$defs"]["action"]["enum"]), actions);
    let s = schema_value(EventType::TaskCreated);
    let priorities: BTreeSet<String> = todo_core::model::Priority::ALL
        .iter()
        .map(|p| p.as_str().to_owned())
        .collect();
    assert_eq!(strings(&s["$defs"]["priority"]["enum"]), priorities);
}

#[test]
fn optional_keys_of_task_created_may_be_absent() {
    // the plan's example has only the plan's keys; the keys this crate added are optional
    let mut json = common::sample_json(EventType::TaskCreated);
    let data = json["data"].as_object_mut().unwrap();
    for k in [
        "rrule",
        "timezone",
        "series_start",
        "parent_task_id",
        "tag_ids",
        "created_at",
    ] {
        data.remove(k).unwrap();
    }
    assert!(common::schema_errors(EventType::TaskCreated, &json).is_empty());
    let e = todo_events::decode_value(json).unwrap();
    let todo_events::EventData::TaskCreated(d) = e.data else {
        panic!()
    };
    assert_eq!((d.rrule, d.tag_ids.len(), d.created_at), (None, 0, None));
    assert_eq!(d.timezone, todo_core::model::TimeZone::UTC);
}

#[test]
fn format_validation_is_on() {
    // guards the helpers: without format validation a bad date-time would pass
    let mut json = common::sample_json(EventType::ReminderTriggered);
    json["data"]["reminder_time"] = "not a date".into();
    assert!(!common::validator(EventType::ReminderTriggered).is_valid(&json));
    let mut json = common::sample_json(EventType::ReminderTriggered);
    json["event_id"] = "not-a-uuid".into();
    assert!(!common::validator(EventType::ReminderTriggered).is_valid(&json));
}

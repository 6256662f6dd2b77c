//! The shared test vectors of `test-vectors/events/`: the plan's examples and the accept/reject cases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::{Value, json};
use todo_core::model::{Priority, RecurrencePattern};
use todo_events::{EventData, EventType, decode, decode_value};

#[test]
fn the_plans_examples_decode_and_validate() {
    for et in [
        EventType::TaskCreated,
        EventType::TaskUpdated,
        EventType::ReminderTriggered,
        EventType::ActivityLogCreated,
    ] {
        let json = common::vector(&format!("plan/{et}.json"));
        assert!(
            common::schema_errors(et, &json).is_empty(),
            "{et}: {:?}",
            common::schema_errors(et, &json)
        );
        let e = decode(json.to_string().as_bytes()).unwrap_or_else(|err| panic!("{et}: {err}"));
        assert_eq!(e.event_type(), et);
        assert_eq!(e.key(), "user-uuid");
        assert_eq!(e.version.to_string(), "1.0");
        assert_eq!(e.data.task_id().map(|t| t.get()), Some(123));
        match e.data {
            EventData::TaskCreated(d) => {
                assert_eq!(d.title.as_str(), "Complete project report");
                assert_eq!(d.priority, Priority::High);
                assert_eq!(d.recurrence_pattern, Some(RecurrencePattern::Weekly));
                let tags: Vec<&str> = d.tags.iter().map(|t| t.as_str()).collect();
                assert_eq!(tags, ["work", "urgent"]);
                assert_eq!(d.due_datetime, Some(common::at("2026-02-20T15:00:00Z")));
            }
            EventData::TaskUpdated(d) => {
                assert_eq!(d.changed_fields, ["completed", "priority"]);
                assert_eq!(
                    Value::Object(d.new_values),
                    json!({"completed": true, "priority": "Medium"})
                );
            }
            EventData::ReminderTriggered(d) => {
                assert_eq!(d.reminder_id.get(), 456);
                assert_eq!(d.task_title.as_str(), "Complete project report");
            }
            EventData::ActivityLogCreated(d) => {
                assert_eq!(d.log_id.get(), 789);
                assert_eq!(d.action, todo_core::model::ActivityAction::TaskCompleted);
                assert_eq!(d.created_at, None);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn cases_are_accepted_or_rejected_by_decode_and_schema_as_listed() {
    let cases = common::vector("cases.json");
    let cases = cases["cases"].as_array().unwrap();
    assert!(cases.len() >= 40);
    let mut failures = Vec::new();
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let event = &c["event"];
        let et = EventType::parse(c["schema"].as_str().unwrap()).unwrap();

        let expected = c["decode"].as_str().unwrap();
        let got = match decode(event.to_string().as_bytes()) {
            Ok(_) => "ok".to_owned(),
            Err(e) => e.code().to_owned(),
        };
        if got != expected {
            failures.push(format!("{name}: decode gave {got}, expected {expected}"));
        }
        let via_value =
            decode_value(event.clone()).map_or_else(|e| e.code().to_owned(), |_| "ok".to_owned());
        if via_value != got {
            failures.push(format!(
                "{name}: decode_value gave {via_value}, decode {got}"
            ));
        }

        let schema_valid = common::validator(et).is_valid(event);
        if schema_valid != c["schema_valid"].as_bool().unwrap() {
            failures.push(format!(
                "{name}: schema_valid is {schema_valid}; errors {:?}",
                common::schema_errors(et, event)
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn cases_cover_both_outcomes_and_every_error_routing_code() {
    let cases = common::vector("cases.json");
    let codes: std::collections::BTreeSet<&str> = cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["decode"].as_str().unwrap())
        .collect();
    for code in [
        "ok",
        "MALFORMED",
        "UNSUPPORTED_VERSION",
        "INVALID_VERSION",
        "UNKNOWN_EVENT_TYPE",
    ] {
        assert!(codes.contains(code), "{code}");
    }
}

//! Validation never panics, whatever the strings, and errors always name a field.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};
use todo_core::input::{InputKind, validate_json};
use todo_core::model::{
    Color, Description, Priority, RRuleText, Recurrence, TagName, TaskTitle, TimeZone as Zone,
};
use todo_core::query::TaskQuery;

fn any_json_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<String>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
        prop::collection::vec(any::<i64>(), 0..4).prop_map(Value::from),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn newtypes_never_panic(s in any::<String>()) {
        let _ = TaskTitle::parse(&s);
        let _ = Description::parse(&s);
        let _ = TagName::parse(&s);
        let _ = Color::parse(&s);
        let _ = Zone::parse(&s);
        let _ = RRuleText::parse(&s);
        let _ = Recurrence::parse_pattern(&s);
        let _ = Priority::parse("priority", &s);
        let _ = todo_core::model::parse_instant("due_datetime", &s);
    }

    #[test]
    fn a_valid_title_is_trimmed_and_within_limits(s in "\\PC{0,250}") {
        match TaskTitle::parse(&s) {
            Ok(t) => {
                prop_assert_eq!(t.as_str(), s.trim());
                let n = t.as_str().chars().count();
                prop_assert!((1..=200).contains(&n));
            }
            Err(e) => prop_assert_eq!(e.field, "title"),
        }
    }

    #[test]
    fn rrule_like_strings_never_panic(parts in prop::collection::vec(
        prop_oneof![
            Just("FREQ=DAILY".to_owned()), Just("FREQ=WEEKLY".to_owned()), Just("FREQ=MONTHLY".to_owned()),
            Just("FREQ=YEARLY".to_owned()), Just("COUNT=3".to_owned()), Just("INTERVAL=2".to_owned()),
            Just("BYDAY=MO,WE".to_owned()), Just("BYMONTHDAY=-1".to_owned()), Just("BYMONTHDAY=31".to_owned()),
            Just("BYSETPOS=-1".to_owned()), Just("UNTIL=20300101T000000Z".to_owned()), Just("BYHOUR=25".to_owned()),
            "[A-Z]{1,8}=[A-Z0-9,-]{0,8}",
        ], 0..6)) {
        let rule = parts.join(";");
        let now = Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap();
        let body = json!({"title": "t", "due_datetime": "2030-01-02T10:00:00Z", "rrule": rule});
        if let Err(e) = validate_json(InputKind::TaskCreate, &body, now) {
            prop_assert!(!e.first().field.is_empty());
        }
    }

    #[test]
    fn inputs_never_panic(
        fields in prop::collection::btree_map(
            prop_oneof![Just("title"), Just("description"), Just("due_datetime"), Just("priority"),
                        Just("recurrence_pattern"), Just("rrule"), Just("recurrence_end_date"),
                        Just("timezone"), Just("tag_ids"), Just("completed"), Just("name"), Just("color"),
                        Just("reminder_time"), Just("reminder_type"), Just("bogus")],
            any_json_scalar(), 0..8),
    ) {
        let body: serde_json::Map<String, Value> = fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let body = Value::Object(body);
        let now = Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap();
        for kind in [InputKind::TaskCreate, InputKind::TaskUpdate, InputKind::TagCreate, InputKind::TagUpdate, InputKind::Reminder] {
            if let Err(e) = validate_json(kind, &body, now) {
                prop_assert!(!e.first().field.is_empty());
                prop_assert!(!e.first().message.is_empty());
            }
        }
    }

    #[test]
    fn query_parsing_never_panics(pairs in prop::collection::vec((
        prop_oneof![Just("search".to_owned()), Just("status".to_owned()), Just("priority".to_owned()),
                    Just("due_date_start".to_owned()), Just("due_date_end".to_owned()), Just("tags".to_owned()),
                    Just("tags_mode".to_owned()), Just("sort_by".to_owned()), Just("sort_order".to_owned()),
                    Just("limit".to_owned()), Just("offset".to_owned()), any::<String>()],
        any::<String>()), 0..6)) {
        let r = TaskQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if let Err(e) = r {
            // An unknown parameter is named as given, even when its name is empty.
            prop_assert!(!e.first().message.is_empty());
            prop_assert!(pairs.iter().any(|(k, _)| *k == e.first().field) || !e.first().field.is_empty());
        }
    }
}

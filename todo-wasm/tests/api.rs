//! The JS-facing behaviour beyond the vectors: parameter forms, live updates, error shapes.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use js_sys::{Array, Reflect};
use serde_json::json;
use todo_wasm::{TaskSet, next_occurrences, parse_query, validate};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

fn js(v: &serde_json::Value) -> JsValue {
    serde::Serialize::serialize(v, &serde_wasm_bindgen::Serializer::json_compatible()).unwrap()
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap()
}

fn ids(page: &JsValue) -> Vec<f64> {
    let a: Array = get(page, "ids").unchecked_into();
    a.iter().map(|v| v.as_f64().unwrap()).collect()
}

fn tasks() -> JsValue {
    js(&json!([
        {"id": 1, "title": "Pay rent", "priority": "High", "completed": false,
         "due_datetime": "2030-01-31T17:00:00Z", "created_at": "2026-01-01T00:00:00Z",
         "tags": [{"id": 5, "name": "home", "color": "#00FF00"}]},
        {"id": 2, "title": "Buy milk", "description": "and bread", "priority": "Low",
         "completed": true, "due_datetime": null, "created_at": "2026-01-02T00:00:00Z", "tags": []},
        {"id": 3, "title": "rent a car", "priority": "Medium", "completed": false,
         "created_at": "2026-01-03T00:00:00Z", "tag_ids": [5, 6]}
    ]))
}

#[wasm_bindgen_test]
fn every_parameter_form_gives_the_same_page() {
    let set = TaskSet::new(tasks()).unwrap();
    let from_string = set
        .query_ids(JsValue::from_str(
            "?search=RENT&sort_by=title&sort_order=asc",
        ))
        .unwrap();
    let from_object = set
        .query_ids(js(
            &json!({"search": "rent", "sort_by": "title", "sort_order": "asc", "tags": null}),
        ))
        .unwrap();
    let from_pairs = set
        .query_ids(js(&json!([
            ["search", "rent"],
            ["sort_by", "title"],
            ["sort_order", "asc"]
        ])))
        .unwrap();
    assert_eq!(ids(&from_string), vec![1.0, 3.0]);
    assert_eq!(ids(&from_object), ids(&from_string));
    assert_eq!(ids(&from_pairs), ids(&from_string));
    let repeated = set
        .query_ids(js(&json!({"priority": ["High", "Low"], "limit": 1})))
        .unwrap();
    assert_eq!(get(&repeated, "total").as_f64(), Some(2.0));
    assert_eq!(get(&repeated, "limit").as_f64(), Some(1.0));
    assert_eq!(
        ids(&set
            .query_ids(js(&json!({"tags": "5", "tags_mode": "all"})))
            .unwrap()),
        vec![3.0, 1.0]
    );
    assert_eq!(
        ids(&set.query_ids(JsValue::UNDEFINED).unwrap()),
        vec![3.0, 2.0, 1.0]
    );
}

#[wasm_bindgen_test]
fn the_page_holds_the_callers_objects() {
    let input = tasks();
    let set = TaskSet::new(input.clone()).unwrap();
    let page = set.query(js(&json!({"status": "completed"}))).unwrap();
    let items: Array = get(&page, "items").unchecked_into();
    let first = Array::from(&input).get(1);
    assert!(
        JsValue::eq(&items.get(0), &first),
        "the same object, not a copy"
    );
}

#[wasm_bindgen_test]
fn upsert_and_remove_keep_the_set_current() {
    let mut set = TaskSet::new(tasks()).unwrap();
    set.upsert(js(&json!({"id": 2, "title": "Buy oat milk", "completed": false, "created_at": "2026-01-02T00:00:00Z"})))
        .unwrap();
    assert_eq!(set.size(), 3);
    assert_eq!(
        ids(&set.query_ids(JsValue::from_str("status=pending")).unwrap()),
        vec![3.0, 2.0, 1.0]
    );
    assert!(set.remove(1.0));
    assert!(!set.remove(1.0));
    assert_eq!(
        ids(&set.query_ids(JsValue::from_str("search=rent")).unwrap()),
        vec![3.0]
    );
    set.upsert(js(
        &json!({"id": 9, "title": "New", "created_at": "2026-02-01T00:00:00Z"}),
    ))
    .unwrap();
    assert_eq!(
        ids(&set.query_ids(JsValue::UNDEFINED).unwrap()),
        vec![9.0, 3.0, 2.0]
    );
    assert!(set.get(9.0).is_object());
    assert!(set.get(1.0).is_undefined());
}

#[wasm_bindgen_test]
fn a_bad_row_is_a_validation_error_and_leaves_the_set_as_it_was() {
    let mut set = TaskSet::new(tasks()).unwrap();
    // A field of the wrong JS type is a rejected field like any other (the core's row reader).
    let err = TaskSet::new(js(
        &json!([{"id": 1, "title": 5, "created_at": "2026-01-01T00:00:00Z"}]),
    ))
    .err()
    .unwrap();
    assert_eq!(get(&err, "name").as_string().unwrap(), "ValidationError");
    assert_eq!(get(&err, "field").as_string().unwrap(), "tasks[0].title");
    assert_eq!(get(&err, "code").as_string().unwrap(), "invalid_format");
    let err = set
        .upsert(js(
            &json!({"id": 1, "title": "  ", "created_at": "2026-01-01T00:00:00Z"}),
        ))
        .unwrap_err();
    assert_eq!(get(&err, "code").as_string().unwrap(), "required");
    assert_eq!(set.size(), 3);
    assert_eq!(get(&set.get(1.0), "title").as_string().unwrap(), "Pay rent");
    // A title is trimmed as the server trims it; the object itself is returned untouched.
    set.upsert(js(
        &json!({"id": 4, "title": "  Zebra ", "created_at": "2026-01-04T00:00:00Z"}),
    ))
    .unwrap();
    let page = set
        .query_ids(JsValue::from_str("sort_by=title&sort_order=desc&limit=1"))
        .unwrap();
    assert_eq!(ids(&page), vec![4.0]);
    assert_eq!(get(&set.get(4.0), "title").as_string().unwrap(), "  Zebra ");
}

#[wasm_bindgen_test]
fn errors_are_js_errors_with_field_and_code() {
    let set = TaskSet::new(tasks()).unwrap();
    let err = set
        .query(js(&json!({"limit": "500", "sort_by": "size"})))
        .unwrap_err();
    assert!(err.is_instance_of::<js_sys::Error>());
    assert_eq!(get(&err, "name").as_string().unwrap(), "ValidationError");
    let all: Array = get(&err, "errors").unchecked_into();
    assert_eq!(all.length(), 2);
    assert!(get(&err, "field").as_string().is_some());
    assert!(get(&err, "code").as_string().is_some());
    let err = TaskSet::new(js(&json!([{"id": 1, "title": "x", "created_at": "soon"}])))
        .err()
        .unwrap();
    assert_eq!(
        get(&err, "field").as_string().unwrap(),
        "tasks[0].created_at"
    );
    assert_eq!(get(&err, "code").as_string().unwrap(), "invalid_format");
    let err = TaskSet::new(JsValue::from_f64(3.0)).err().unwrap();
    assert!(err.is_instance_of::<js_sys::TypeError>());
    let err = validate(
        "task_create",
        js(&json!({"title": "  "})),
        JsValue::UNDEFINED,
    )
    .unwrap_err();
    assert_eq!(get(&err, "field").as_string().unwrap(), "title");
    let err = validate(
        "tag_create",
        js(&json!({"name": "x", "color": "red"})),
        JsValue::UNDEFINED,
    )
    .unwrap_err();
    assert_eq!(get(&err, "field").as_string().unwrap(), "color");
    assert!(
        validate("nope", js(&json!({})), JsValue::UNDEFINED)
            .unwrap_err()
            .is_instance_of::<js_sys::TypeError>()
    );
}

#[wasm_bindgen_test]
fn parse_query_and_next_occurrences() {
    let q = parse_query(JsValue::from_str("priority=high,low&search=A++B")).unwrap();
    assert_eq!(get(&q, "priority").as_string().unwrap(), "High,Low");
    assert_eq!(get(&q, "search").as_string().unwrap(), "a b");
    let dates = next_occurrences(
        js(
            &json!({"recurrence_pattern": "monthly", "timezone": "Europe/Berlin",
                   "due_datetime": "2030-01-31T17:00:00Z", "recurrence_end_date": null}),
        ),
        "2030-01-31T17:00:00Z",
        2,
    )
    .unwrap();
    let dates: Vec<String> = serde_wasm_bindgen::from_value(dates).unwrap();
    assert_eq!(dates, vec!["2030-02-28T17:00:00Z", "2030-03-31T16:00:00Z"]);
    let err = next_occurrences(
        js(&json!({"rrule": "FREQ=SOMETIMES", "start": "2030-01-01T00:00:00Z"})),
        "2030-01-01T00:00:00Z",
        3,
    )
    .unwrap_err();
    assert_eq!(get(&err, "field").as_string().unwrap(), "rrule");
}

//! Input validation with the server's rules and field errors (`todo_core::input::validate_json`).

use chrono::{DateTime, Utc};
use serde::Serialize;
use todo_core::input::{InputKind, validate_json};
use todo_core::model::parse_instant;
use wasm_bindgen::prelude::*;

use crate::errors;

fn kind_of(kind: &str) -> Result<InputKind, JsValue> {
    serde_json::from_value(serde_json::Value::String(kind.to_owned())).map_err(|_| {
        errors::type_error(
            "kind must be task_create, task_update, tag_create, tag_update or reminder",
        )
    })
}

fn now_of(now: &JsValue) -> Result<DateTime<Utc>, JsValue> {
    if now.is_undefined() || now.is_null() {
        return Ok(crate::js_now());
    }
    if let Some(s) = now.as_string() {
        return parse_instant("now", &s).map_err(errors::field);
    }
    if let Some(d) = now.dyn_ref::<js_sys::Date>() {
        let ms = d.get_time();
        if ms.is_finite() {
            #[allow(clippy::cast_possible_truncation)]
            if let Some(t) = DateTime::from_timestamp_millis(ms as i64) {
                return Ok(t);
            }
        }
    }
    Err(errors::type_error(
        "now must be an RFC 3339 string or a valid Date",
    ))
}

/// Checks `input` (a request body as a JS object) of the given `kind` (`task_create`,
/// `task_update`, `tag_create`, `tag_update`, `reminder`) as the server would at time `now`
/// (default: the JS clock), and returns the normalized body (trimmed title, canonical
/// priority, UTC instants, ...). Throws a `ValidationError` with every field error otherwise.
#[wasm_bindgen(unchecked_return_type = "Record<string, unknown>")]
pub fn validate(
    #[wasm_bindgen(unchecked_param_type = "InputKind")] kind: &str,
    #[wasm_bindgen(unchecked_param_type = "object")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string | Date | undefined")] now: JsValue,
) -> Result<JsValue, JsValue> {
    let kind = kind_of(kind)?;
    let now = now_of(&now)?;
    let value: serde_json::Value = serde_wasm_bindgen::from_value(input)
        .map_err(|e| errors::type_error(&format!("input is not a JSON-like object: {e}")))?;
    let out = validate_json(kind, &value, now).map_err(|e| errors::validation(&e))?;
    out.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| errors::type_error(&e.to_string()))
}

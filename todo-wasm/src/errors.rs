//! Errors as JavaScript values: a rejected input becomes an `Error` whose `name` is
//! `ValidationError`, with `field`, `code` and `message` of the first field error and `errors`,
//! every `{field, code, message}` in the order the core checked them (as the server's
//! `details`). A value of the wrong JavaScript type becomes a `TypeError`.

use js_sys::{Array, Object, Reflect};
use todo_core::{FieldError, ValidationErrors};
use wasm_bindgen::JsValue;

fn set(target: &JsValue, key: &str, value: &JsValue) {
    // Setting a property of a fresh, ordinary object cannot fail.
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

fn field_object(e: &FieldError) -> JsValue {
    let o: JsValue = Object::new().into();
    set(&o, "field", &JsValue::from_str(&e.field));
    set(&o, "code", &JsValue::from_str(e.code.as_str()));
    set(&o, "message", &JsValue::from_str(&e.message));
    o
}

/// The JS `Error` for rejected fields.
pub fn validation(errors: &ValidationErrors) -> JsValue {
    let first = errors.first();
    let err = js_sys::Error::new(&first.message);
    err.set_name("ValidationError");
    let v: JsValue = err.into();
    set(&v, "field", &JsValue::from_str(&first.field));
    set(&v, "code", &JsValue::from_str(first.code.as_str()));
    let all: Array = errors.errors().iter().map(field_object).collect();
    set(&v, "errors", &all.into());
    v
}

/// The JS `Error` for one rejected field.
pub fn field(e: FieldError) -> JsValue {
    validation(&ValidationErrors::from(e))
}

/// A JS `TypeError` with this message.
pub fn type_error(message: &str) -> JsValue {
    js_sys::TypeError::new(message).into()
}

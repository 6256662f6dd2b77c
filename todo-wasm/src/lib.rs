//! WebAssembly bindings of the todo core (wasm-bindgen), for the browser and Node.
//!
//! Every rule lives in `todo-core`; this crate only converts between JavaScript values and the
//! core's types:
//! - [`TaskSet`]: a user's tasks loaded once (each read by the core's row reader,
//!   `todo_core::query::row`, as the Python bindings read theirs), then searched, filtered, sorted
//!   and paged with the HTTP API's query parameters (`TaskQuery::from_pairs` and the engine's
//!   `apply`);
//! - [`parse_query`]: the normalized parameters of a list query;
//! - `validate`: an input body checked exactly as the server checks it;
//! - `next_occurrences`: the next dates of a recurring series.
//!
//! Without the default feature `full`, only the list query is built (no time zone database,
//! no RRULE parser): the small module a page loads first.
//!
//! Arguments and results are plain JS objects (serde-wasm-bindgen). A rejected input throws a JS
//! `Error` with `field`, `code` (of the first error) and `errors` (all of them), see [`errors`].
//! The functions compile on any target so that the workspace builds and lints on the host, but
//! they call into JavaScript and only run inside wasm32.

pub mod errors;
mod params;
#[cfg(feature = "full")]
mod recurrence;
mod taskset;
mod types;
#[cfg(feature = "full")]
mod validate;

pub use params::decode_query_string;
#[cfg(feature = "full")]
pub use recurrence::next_occurrences;
pub use taskset::{TaskSet, parse_query};
#[cfg(feature = "full")]
pub use validate::validate;

/// The crate's version (the workspace's).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

/// Whether this build has validation and recurrence (the `full` feature); the query-only
/// module answers `false`.
#[wasm_bindgen::prelude::wasm_bindgen(js_name = hasValidation)]
pub fn has_validation() -> bool {
    cfg!(feature = "full")
}

/// The current instant from JavaScript's clock (chrono's `Utc::now` has no clock on
/// wasm32-unknown-unknown).
#[cfg(feature = "full")]
fn js_now() -> chrono::DateTime<chrono::Utc> {
    let ms = js_sys::Date::now();
    // A JS date is an integral number of milliseconds within +-8.64e15: it fits an i64.
    #[allow(clippy::cast_possible_truncation)]
    chrono::DateTime::from_timestamp_millis(ms as i64).unwrap_or(chrono::DateTime::UNIX_EPOCH)
}

//! A user's tasks held in the module: loaded once, then queried with the HTTP API's list
//! parameters as often as the user types, and kept current with `upsert` / `remove` (e.g. from
//! the WebSocket's task events).

use std::collections::HashMap;

use js_sys::{Array, Object, Reflect};
use todo_core::query::row::{Raw, RawInstant};
use todo_core::query::{Fields, Page, QueryRow, Queryable, RowInput, TaskQuery, apply};
use wasm_bindgen::prelude::*;

use crate::errors;
use crate::params;

/// One loaded task: what the engine reads (read by the core's row reader, with its search text
/// kept), and the caller's object, returned as is.
type Entry = QueryRow<JsValue>;

/// A user's tasks, queried in memory by the core's engine with the server's semantics.
#[wasm_bindgen]
pub struct TaskSet {
    entries: Vec<Entry>,
    /// Task id -> position in `entries`.
    index: HashMap<i64, usize>,
}

/// The property names read from every task, as JS strings made once per load (reading the
/// properties straight from the object is much faster than deserializing every field of the
/// API's task with serde).
struct Keys {
    id: JsValue,
    title: JsValue,
    description: JsValue,
    completed: JsValue,
    due_datetime: JsValue,
    priority: JsValue,
    tag_ids: JsValue,
    tags: JsValue,
    created_at: JsValue,
}

impl Keys {
    fn new() -> Keys {
        let k = JsValue::from_str;
        Keys {
            id: k("id"),
            title: k("title"),
            description: k("description"),
            completed: k("completed"),
            due_datetime: k("due_datetime"),
            priority: k("priority"),
            tag_ids: k("tag_ids"),
            tags: k("tags"),
            created_at: k("created_at"),
        }
    }
}

/// What a JS value is, for the message of a value of the wrong type.
fn found(v: &JsValue) -> String {
    if Array::is_array(v) {
        return "an array".to_owned();
    }
    v.js_typeof().as_string().unwrap_or_default()
}

/// A raw field: `undefined` and `null` are missing, else `f` reads the value (`None`: a value of
/// another type).
fn raw<T>(v: JsValue, f: impl FnOnce(&JsValue) -> Option<T>) -> Raw<T> {
    if v.is_undefined() || v.is_null() {
        return Raw::Missing;
    }
    match f(&v) {
        Some(x) => Raw::Value(x),
        None => Raw::WrongType(found(&v)),
    }
}

/// A JS number that is an integer within the safe range (exactly an i64).
fn int(v: &JsValue) -> Option<i64> {
    let n = v.as_f64()?;
    // Exact: an integral f64 within the safe range is an i64.
    #[allow(clippy::cast_possible_truncation)]
    (n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0).then_some(n as i64)
}

fn instant(v: &JsValue) -> Option<RawInstant> {
    v.as_string().map(RawInstant::Text)
}

/// An array of integers, or with `key`, of objects whose `key` property is an integer.
fn ids(v: &JsValue, key: Option<&JsValue>) -> Result<Option<Vec<i64>>, JsValue> {
    if !Array::is_array(v) {
        return Ok(None);
    }
    let list: &Array = v.unchecked_ref();
    let mut out = Vec::with_capacity(list.length() as usize);
    for item in list.iter() {
        let id = match key {
            None => item,
            Some(_) if !item.is_object() => return Ok(None),
            Some(k) => Reflect::get(&item, k)?,
        };
        match int(&id) {
            Some(n) => out.push(n),
            None => return Ok(None),
        }
    }
    Ok(Some(out))
}

/// A raw list of ids (see [`ids`]); a getter that throws is rethrown.
fn raw_ids(v: JsValue, key: Option<&JsValue>) -> Result<Raw<Vec<i64>>, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(Raw::Missing);
    }
    Ok(match ids(&v, key)? {
        Some(list) => Raw::Value(list),
        None => Raw::WrongType(found(&v)),
    })
}

/// Reads `tasks[position]` with the core's row reader (every field: the set answers any query).
fn read(keys: &Keys, position: usize, object: JsValue) -> Result<Entry, JsValue> {
    if !object.is_object() {
        return Err(errors::type_error(&format!(
            "tasks[{position}] must be a task object"
        )));
    }
    let get = |key: &JsValue| Reflect::get(&object, key);
    let text = |v: &JsValue| v.as_string();
    let input = RowInput {
        id: raw(get(&keys.id)?, int),
        title: raw(get(&keys.title)?, text),
        description: raw(get(&keys.description)?, text),
        completed: raw(get(&keys.completed)?, JsValue::as_bool),
        due_datetime: raw(get(&keys.due_datetime)?, instant),
        priority: raw(get(&keys.priority)?, text),
        tag_ids: raw_ids(get(&keys.tag_ids)?, None)?,
        tags: raw_ids(get(&keys.tags)?, Some(&keys.id))?,
        created_at: raw(get(&keys.created_at)?, instant),
    };
    input
        .read(position, Fields::ALL, object)
        .map_err(|e| errors::validation(&e))
}

fn query_of(params: &JsValue) -> Result<TaskQuery, JsValue> {
    let pairs = params::pairs(params)?;
    TaskQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|e| errors::validation(&e))
}

fn set(o: &JsValue, key: &str, value: JsValue) {
    let _ = Reflect::set(o, &JsValue::from_str(key), &value);
}

fn page_object<T>(page: &Page<T>, key: &str, items: Array) -> JsValue {
    let o: JsValue = Object::new().into();
    set(&o, key, items.into());
    // Totals beyond 2^53 cannot occur in memory.
    #[allow(clippy::cast_precision_loss)]
    {
        set(&o, "total", JsValue::from_f64(page.total as f64));
        set(&o, "limit", JsValue::from_f64(f64::from(page.limit)));
        set(&o, "offset", JsValue::from_f64(page.offset as f64));
    }
    o
}

impl TaskSet {
    /// The engine's page for `q`, over every loaded task.
    fn run(&self, q: &TaskQuery) -> Page<&Entry> {
        apply(q, &self.entries)
    }
}

#[wasm_bindgen]
impl TaskSet {
    /// Loads `tasks` (an array or iterable of task objects as `GET /tasks` returns them, or rows
    /// with `tag_ids`). Throws a `ValidationError` naming `tasks[i].<field>` for a bad row and a
    /// `TypeError` for a value that is not a task object. A later task with the same id
    /// replaces an earlier one.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Iterable<TaskRow>")] tasks: JsValue,
    ) -> Result<TaskSet, JsValue> {
        let mut set = TaskSet {
            entries: Vec::new(),
            index: HashMap::new(),
        };
        let iter = js_sys::try_iter(&tasks)?
            .ok_or_else(|| errors::type_error("tasks must be an array of task objects"))?;
        let keys = Keys::new();
        for (position, object) in iter.enumerate() {
            set.put(read(&keys, position, object?)?);
        }
        Ok(set)
    }

    fn put(&mut self, entry: Entry) {
        let id = entry.id().get();
        match self.index.get(&id) {
            Some(&i) => self.entries[i] = entry,
            None => {
                self.index.insert(id, self.entries.len());
                self.entries.push(entry);
            }
        }
    }

    /// How many tasks are loaded.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.entries.len()
    }

    /// Adds the task, or replaces the one with its id.
    pub fn upsert(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "TaskRow")] task: JsValue,
    ) -> Result<(), JsValue> {
        let entry = read(&Keys::new(), 0, task)?;
        self.put(entry);
        Ok(())
    }

    /// Removes the task with this id; whether it was there.
    pub fn remove(&mut self, id: f64) -> bool {
        #[allow(clippy::cast_possible_truncation)]
        let id = id as i64;
        let Some(i) = self.index.remove(&id) else {
            return false;
        };
        self.entries.swap_remove(i);
        if let Some(moved) = self.entries.get(i) {
            self.index.insert(moved.id().get(), i);
        }
        true
    }

    /// The task object with this id, or `undefined`.
    #[wasm_bindgen(unchecked_return_type = "TaskRow | undefined")]
    pub fn get(&self, id: f64) -> JsValue {
        #[allow(clippy::cast_possible_truncation)]
        let id = id as i64;
        self.index
            .get(&id)
            .and_then(|&i| self.entries.get(i))
            .map_or(JsValue::UNDEFINED, |e| e.extra.clone())
    }

    /// Searches, filters, sorts and pages the tasks with the list parameters of
    /// `GET /api/v1/{user_id}/tasks` (`search`, `status`, `priority`, `due_date_start`,
    /// `due_date_end`, `tags`, `tags_mode`, `sort_by`, `sort_order`, `limit`, `offset`):
    /// `{items, total, limit, offset}` with the loaded objects themselves as items. Throws the
    /// server's field errors for invalid parameters.
    #[wasm_bindgen(unchecked_return_type = "Page")]
    pub fn query(
        &self,
        #[wasm_bindgen(unchecked_param_type = "QueryParams")] params: JsValue,
    ) -> Result<JsValue, JsValue> {
        let q = query_of(&params)?;
        let page = self.run(&q);
        let items: Array = page.items.iter().map(|e| e.extra.clone()).collect();
        Ok(page_object(&page, "items", items))
    }

    /// Like [`TaskSet::query`], with the ids of the page instead of the objects:
    /// `{ids, total, limit, offset}`.
    #[wasm_bindgen(js_name = queryIds, unchecked_return_type = "IdPage")]
    pub fn query_ids(
        &self,
        #[wasm_bindgen(unchecked_param_type = "QueryParams")] params: JsValue,
    ) -> Result<JsValue, JsValue> {
        let q = query_of(&params)?;
        let page = self.run(&q);
        #[allow(clippy::cast_precision_loss)]
        let ids: Array = page
            .items
            .iter()
            .map(|e| JsValue::from_f64(e.id().get() as f64))
            .collect();
        Ok(page_object(&page, "ids", ids))
    }
}

/// The normalized form of list parameters, as `{name: value}` in the server's canonical
/// spelling (defaults left out), or the server's field errors.
#[wasm_bindgen(js_name = parseQuery, unchecked_return_type = "Record<string, string>")]
pub fn parse_query(
    #[wasm_bindgen(unchecked_param_type = "QueryParams")] params: JsValue,
) -> Result<JsValue, JsValue> {
    let q = query_of(&params)?;
    let o: JsValue = Object::new().into();
    for (k, v) in q.to_pairs() {
        set(&o, &k, JsValue::from_str(&v));
    }
    Ok(o)
}

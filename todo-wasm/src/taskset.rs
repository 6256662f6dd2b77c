//! A user's tasks held in the module: loaded once, then queried with the HTTP API's list
//! parameters as often as the user types, and kept current with `upsert` / `remove` (e.g. from
//! the WebSocket's task events).

use std::collections::HashMap;

use js_sys::{Array, Object, Reflect};
use memchr::memmem::Finder;
use todo_core::query::{Page, QueryRow, TaskQuery, apply, search_text};
use wasm_bindgen::prelude::*;

use crate::errors;
use crate::params;
use crate::rows::{RowInput, TagRef};

/// One loaded task: what the engine reads, with the caller's object (returned as is) and the
/// core's [`search_text`] of the task, computed once for the search prefilter.
type Entry = QueryRow<Loaded>;

/// What a loaded task keeps beside its fields.
struct Loaded {
    object: JsValue,
    search: Box<str>,
}

/// A user's tasks, queried in memory by the core's engine with the server's semantics.
#[wasm_bindgen]
pub struct TaskSet {
    entries: Vec<Entry>,
    /// Task id -> position in `entries`.
    index: HashMap<i64, usize>,
}

/// Reads the fields the engine needs straight from the object (much faster than deserializing
/// every field of the API's task with serde).
/// The property names read from every task, as JS strings made once per load.
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

fn read(keys: &Keys, position: usize, object: JsValue) -> Result<Entry, JsValue> {
    if !object.is_object() {
        return Err(errors::type_error(&format!(
            "tasks[{position}] must be a task object"
        )));
    }
    let bad = |field: &str, what: &str| {
        errors::type_error(&format!("tasks[{position}].{field} must be {what}"))
    };
    let get = |key: &JsValue| Reflect::get(&object, key);
    let opt_string = |key: &JsValue, field: &str| -> Result<Option<String>, JsValue> {
        let v = get(key)?;
        if v.is_undefined() || v.is_null() {
            return Ok(None);
        }
        v.as_string()
            .map(Some)
            .ok_or_else(|| bad(field, "a string"))
    };
    let int = |v: &JsValue, field: &str| -> Result<i64, JsValue> {
        match v.as_f64() {
            // Exact: an integral f64 within the safe range is an i64.
            #[allow(clippy::cast_possible_truncation)]
            Some(n) if n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0 => Ok(n as i64),
            _ => Err(bad(field, "an integer")),
        }
    };
    let ids = |key: &JsValue, field: &str, of_objects: bool| -> Result<Option<Vec<i64>>, JsValue> {
        let v = get(key)?;
        if v.is_undefined() || v.is_null() {
            return Ok(None);
        }
        if !Array::is_array(&v) {
            return Err(bad(field, "an array"));
        }
        let list: Array = v.unchecked_into();
        let mut out = Vec::with_capacity(list.length() as usize);
        for item in list.iter() {
            let id = if of_objects {
                Reflect::get(&item, &keys.id)?
            } else {
                item
            };
            out.push(int(&id, field)?);
        }
        Ok(Some(out))
    };
    let completed = get(&keys.completed)?;
    let input = RowInput {
        id: int(&get(&keys.id)?, "id")?,
        title: opt_string(&keys.title, "title")?.ok_or_else(|| bad("title", "a string"))?,
        description: opt_string(&keys.description, "description")?,
        completed: if completed.is_undefined() || completed.is_null() {
            false
        } else {
            completed
                .as_bool()
                .ok_or_else(|| bad("completed", "a boolean"))?
        },
        due_datetime: opt_string(&keys.due_datetime, "due_datetime")?,
        priority: opt_string(&keys.priority, "priority")?,
        tag_ids: ids(&keys.tag_ids, "tag_ids", false)?,
        tags: ids(&keys.tags, "tags", true)?
            .map(|v| v.into_iter().map(|id| TagRef { id }).collect()),
        created_at: opt_string(&keys.created_at, "created_at")?
            .ok_or_else(|| bad("created_at", "a string"))?,
    };
    let row = input.parse(position).map_err(errors::field)?;
    let search = search_text(&row.title, row.description.as_deref()).into_boxed_str();
    Ok(row.with_extra(Loaded { object, search }))
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
    /// The engine's page for `q`. A search first keeps the tasks whose precomputed
    /// [`search_text`] contains every word as a substring (the engine's definition of a search
    /// match, with each word's searcher built once instead of once per task); the engine then
    /// applies the other filters, sorts and pages those. The page is `apply(q, all tasks)`: the
    /// shared query vectors check it.
    fn run(&self, q: &TaskQuery) -> Page<&Entry> {
        // One instantiation of the engine (over `&Entry`) keeps the module small.
        let finders: Vec<Finder<'_>> = q.search.iter().map(Finder::new).collect();
        let candidates: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| {
                finders
                    .iter()
                    .all(|f| f.find(e.extra.search.as_bytes()).is_some())
            })
            .collect();
        // The candidates match the words already: the engine need not search them again.
        let rest = TaskQuery {
            search: Vec::new(),
            ..q.clone()
        };
        apply(&rest, &candidates).map(|e| *e)
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
        let id = entry.id.get();
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
            self.index.insert(moved.id.get(), i);
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
            .map_or(JsValue::UNDEFINED, |e| e.extra.object.clone())
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
        let items: Array = page.items.iter().map(|e| e.extra.object.clone()).collect();
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
            .map(|e| JsValue::from_f64(e.id.get() as f64))
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

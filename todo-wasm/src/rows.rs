//! One task as the query engine reads it, from the API's task object (`GET .../tasks`) or a
//! row of the shared query vectors.

use serde::Deserialize;
use todo_core::ids::{TagId, TaskId};
use todo_core::model::{Priority, parse_instant};
use todo_core::query::QueryRow;
use todo_core::{ErrorCode, FieldError};

/// The fields of a task object that the engine reads; other fields are ignored. Tags come as
/// `tag_ids` (numbers) or as the API's `tags` (`{id, ...}` objects).
#[derive(Debug, Clone, Deserialize)]
pub struct RowInput {
    /// Task id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Completed?
    #[serde(default)]
    pub completed: bool,
    /// Due instant (RFC 3339).
    #[serde(default)]
    pub due_datetime: Option<String>,
    /// `High`, `Medium` or `Low` (default `Medium`).
    #[serde(default)]
    pub priority: Option<String>,
    /// Attached tag ids.
    #[serde(default)]
    pub tag_ids: Option<Vec<i64>>,
    /// Attached tags as the API returns them.
    #[serde(default)]
    pub tags: Option<Vec<TagRef>>,
    /// Creation instant (RFC 3339).
    pub created_at: String,
}

/// A tag reference of the API's task object; only the id matters here.
#[derive(Debug, Clone, Deserialize)]
pub struct TagRef {
    /// Tag id.
    pub id: i64,
}

impl RowInput {
    /// The engine's row; errors name the field as `tasks[<position>].<field>`.
    pub fn parse(self, position: usize) -> Result<QueryRow, FieldError> {
        let r = self;
        let name = |f: &str| format!("tasks[{position}].{f}");
        let due = match &r.due_datetime {
            Some(d) => Some(parse_instant(&name("due_datetime"), d)?),
            None => None,
        };
        let priority = match &r.priority {
            Some(p) => Priority::parse(&name("priority"), p)?,
            None => Priority::default(),
        };
        let mut tag_ids: Vec<TagId> = match (&r.tag_ids, &r.tags) {
            (Some(ids), _) => ids.iter().copied().map(TagId::new).collect(),
            (None, Some(tags)) => tags.iter().map(|t| TagId::new(t.id)).collect(),
            (None, None) => Vec::new(),
        };
        tag_ids.sort_unstable();
        tag_ids.dedup();
        if r.title.is_empty() {
            return Err(FieldError::new(
                name("title"),
                ErrorCode::Required,
                format!("{} must not be empty", name("title")),
            ));
        }
        Ok(QueryRow {
            id: TaskId::new(r.id),
            title: r.title,
            description: r.description,
            completed: r.completed,
            due,
            priority,
            tag_ids,
            created_at: parse_instant(&name("created_at"), &r.created_at)?,
            extra: (),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn input(v: serde_json::Value) -> RowInput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn reads_the_api_task_object() {
        let r = input(serde_json::json!({
            "id": 7, "user_id": "alice", "title": "Pay rent", "description": null,
            "completed": false, "due_datetime": "2030-01-31T17:00:00Z", "priority": "High",
            "tags": [{"id": 3, "name": "home", "color": "#FF0000"}, {"id": 1, "name": "x", "color": "#000000"}],
            "created_at": "2026-01-01T00:00:00Z", "reminder": null
        }));
        let row = r.parse(0).unwrap();
        assert_eq!(row.id, TaskId::new(7));
        assert_eq!(row.tag_ids, [TagId::new(1), TagId::new(3)]);
        assert_eq!(row.priority, Priority::High);
    }

    #[test]
    fn a_bad_field_is_named_with_its_position() {
        let r = input(serde_json::json!({
            "id": 1, "title": "t", "priority": "Urgent", "created_at": "2026-01-01T00:00:00Z"
        }));
        let e = r.parse(4).unwrap_err();
        assert_eq!(e.field, "tasks[4].priority");
        let r = input(serde_json::json!({"id": 1, "title": "t", "created_at": "yesterday"}));
        assert_eq!(r.parse(0).unwrap_err().field, "tasks[0].created_at");
    }
}

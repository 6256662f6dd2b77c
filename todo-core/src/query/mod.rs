//! The list query: parsed from the HTTP API's query parameters into a typed [`TaskQuery`], and
//! applied to tasks in memory by [`apply`]. SQL adapters must return exactly what [`apply`] returns.

mod engine;
mod parse;
pub mod row;
pub mod vectors;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{TagId, TaskId};
use crate::model::{Priority, Task};

pub use engine::{apply, fold_case, matches, search_text, title_key};
pub use parse::{PARAMETERS, SEARCH_MAX_CHARS, SEARCH_MAX_WORDS};
pub use row::{Fields, QueryRow, RowInput};

/// Which tasks by completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    /// Every task (default).
    #[default]
    All,
    /// Tasks not completed.
    Pending,
    /// Completed tasks.
    Completed,
}

impl StatusFilter {
    /// The API name: `all`, `pending` or `completed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            StatusFilter::All => "all",
            StatusFilter::Pending => "pending",
            StatusFilter::Completed => "completed",
        }
    }
}

/// The sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// Creation time (default).
    #[default]
    CreatedAt,
    /// Due date; tasks without one come last in both orders.
    DueDatetime,
    /// Priority rank (High > Medium > Low).
    Priority,
    /// Title, case-insensitively ([`title_key`]).
    Title,
}

impl SortKey {
    /// The API name: `created_at`, `due_datetime`, `priority` or `title`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SortKey::CreatedAt => "created_at",
            SortKey::DueDatetime => "due_datetime",
            SortKey::Priority => "priority",
            SortKey::Title => "title",
        }
    }
}

/// The sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Smallest first.
    Asc,
    /// Largest first (default).
    #[default]
    Desc,
}

impl SortOrder {
    /// The API name: `asc` or `desc`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SortOrder::Asc => "asc",
            SortOrder::Desc => "desc",
        }
    }
}

/// How a tag filter with several ids matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TagsMode {
    /// The task has at least one of the tags (default).
    #[default]
    Any,
    /// The task has every one of the tags.
    All,
}

impl TagsMode {
    /// The API name: `any` or `all`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TagsMode::Any => "any",
            TagsMode::All => "all",
        }
    }
}

/// A tag filter: a non-empty, ascending, duplicate-free set of ids and how to match them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TagFilter {
    ids: Vec<TagId>,
    mode: TagsMode,
}

impl TagFilter {
    /// A filter on these ids (sorted and deduplicated here); `None` when `ids` is empty.
    pub fn new(mut ids: Vec<TagId>, mode: TagsMode) -> Option<Self> {
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            None
        } else {
            Some(TagFilter { ids, mode })
        }
    }

    /// The ids, ascending.
    pub fn ids(&self) -> &[TagId] {
        &self.ids
    }

    /// How they match.
    pub fn mode(&self) -> TagsMode {
        self.mode
    }
}

/// A page size: 1-100, default 50.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Limit(u32);

impl Limit {
    /// The largest page.
    pub const MAX: u32 = 100;
    /// The default page.
    pub const DEFAULT: Limit = Limit(50);

    /// A limit in 1..=100, else `None`.
    pub const fn new(n: u32) -> Option<Self> {
        if n >= 1 && n <= Self::MAX {
            Some(Limit(n))
        } else {
            None
        }
    }

    /// The number.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl Default for Limit {
    fn default() -> Self {
        Limit::DEFAULT
    }
}

impl TryFrom<u32> for Limit {
    type Error = String;
    fn try_from(n: u32) -> Result<Self, Self::Error> {
        Limit::new(n).ok_or_else(|| format!("limit must be between 1 and {}", Limit::MAX))
    }
}

impl From<Limit> for u32 {
    fn from(l: Limit) -> u32 {
        l.0
    }
}

/// A validated list query. Build it with [`TaskQuery::from_pairs`] (HTTP query parameters) or
/// field by field starting from [`TaskQuery::default`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TaskQuery {
    /// Lowercased search words; every one must occur in the title or the description. Empty: no search.
    pub search: Vec<String>,
    /// Completion filter.
    pub status: StatusFilter,
    /// Allowed priorities, without duplicates; empty: any.
    pub priorities: Vec<Priority>,
    /// Inclusive lower bound on the due date; tasks without one do not match a bounded range.
    pub due_start: Option<DateTime<Utc>>,
    /// Inclusive upper bound on the due date.
    pub due_end: Option<DateTime<Utc>>,
    /// Tag filter.
    pub tags: Option<TagFilter>,
    /// Sort key.
    pub sort_by: SortKey,
    /// Sort direction; ties are broken by id in the same direction.
    pub sort_order: SortOrder,
    /// Page size.
    pub limit: Limit,
    /// Items skipped before the page.
    pub offset: u64,
}

/// The activity log's page: `limit` 1-100 (default 20, as in the plan), `offset` >= 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityQuery {
    /// Page size.
    pub limit: Limit,
    /// Entries skipped before the page.
    pub offset: u64,
}

impl ActivityQuery {
    /// The default page size of the activity log.
    pub const DEFAULT_LIMIT: Limit = match Limit::new(20) {
        Some(l) => l,
        None => Limit::DEFAULT,
    };
}

impl Default for ActivityQuery {
    fn default() -> Self {
        ActivityQuery {
            limit: Self::DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

/// One page of results and the number of all matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items of this page, in order.
    pub items: Vec<T>,
    /// How many items match in all.
    pub total: u64,
    /// The page size asked for.
    pub limit: u32,
    /// The offset asked for.
    pub offset: u64,
}

impl<T> Page<T> {
    /// Maps the items, keeping the counts.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            limit: self.limit,
            offset: self.offset,
        }
    }
}

/// What the engine reads of a task. Implemented for [`Task`] and for the rows that hosts (Python,
/// WASM) hand over ([`QueryRow`], read by [`row`]).
pub trait Queryable {
    /// The id (the final tie-breaker).
    fn id(&self) -> TaskId;
    /// The title.
    fn title(&self) -> &str;
    /// The description, if any.
    fn description(&self) -> Option<&str>;
    /// Whether completed.
    fn completed(&self) -> bool;
    /// The due date.
    fn due(&self) -> Option<DateTime<Utc>>;
    /// The priority.
    fn priority(&self) -> Priority;
    /// Attached tag ids (any order).
    fn tag_ids(&self) -> &[TagId];
    /// Creation time.
    fn created_at(&self) -> DateTime<Utc>;
    /// [`search_text`](fn@search_text) of the title and description, when the value keeps it
    /// (computed once, as [`QueryRow`] does); `None` (the default) makes the engine fold the
    /// text for every query. A kept text must equal `search_text(self.title(),
    /// self.description())`.
    fn search_text(&self) -> Option<&str> {
        None
    }
}

/// Engines that hand out references query them as the values.
impl<T: Queryable + ?Sized> Queryable for &T {
    fn id(&self) -> TaskId {
        (**self).id()
    }
    fn title(&self) -> &str {
        (**self).title()
    }
    fn description(&self) -> Option<&str> {
        (**self).description()
    }
    fn completed(&self) -> bool {
        (**self).completed()
    }
    fn due(&self) -> Option<DateTime<Utc>> {
        (**self).due()
    }
    fn priority(&self) -> Priority {
        (**self).priority()
    }
    fn tag_ids(&self) -> &[TagId] {
        (**self).tag_ids()
    }
    fn created_at(&self) -> DateTime<Utc> {
        (**self).created_at()
    }
    fn search_text(&self) -> Option<&str> {
        (**self).search_text()
    }
}

impl Queryable for Task {
    fn id(&self) -> TaskId {
        self.id
    }
    fn title(&self) -> &str {
        self.title.as_str()
    }
    fn description(&self) -> Option<&str> {
        self.description.as_ref().map(|d| d.as_str())
    }
    fn completed(&self) -> bool {
        self.completed
    }
    fn due(&self) -> Option<DateTime<Utc>> {
        self.due_datetime
    }
    fn priority(&self) -> Priority {
        self.priority
    }
    fn tag_ids(&self) -> &[TagId] {
        &self.tag_ids
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

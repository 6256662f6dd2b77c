// TEMPORARY STUB: the query helper replaces this file.
use super::{Page, Queryable, TaskQuery};

pub fn apply<'a, T: Queryable>(q: &TaskQuery, _items: &'a [T]) -> Page<&'a T> {
    Page { items: Vec::new(), total: 0, limit: q.limit.get(), offset: q.offset }
}
pub fn matches<T: Queryable>(_q: &TaskQuery, _item: &T) -> bool {
    false
}
pub fn search_text(title: &str, description: Option<&str>) -> String {
    format!("{}\n{}", title, description.unwrap_or("")).to_lowercase()
}
pub fn title_key(title: &str) -> String {
    title.to_lowercase()
}

// TEMPORARY STUB: the query helper replaces this file.
use super::TaskQuery;
use crate::error::ValidationErrors;

impl TaskQuery {
    pub fn from_pairs<'a, I: IntoIterator<Item = (&'a str, &'a str)>>(_pairs: I) -> Result<TaskQuery, ValidationErrors> {
        Ok(TaskQuery::default())
    }
}

// TEMPORARY STUB: the recurrence helper replaces this file.
use chrono::{DateTime, Utc};
use crate::error::FieldError;
use crate::model::{Recurrence, Task, TimeZone};

#[derive(Debug, Clone)]
pub struct Series { pub recurrence: Recurrence, pub timezone: TimeZone, pub start: DateTime<Utc>, pub end: Option<DateTime<Utc>> }

impl Series {
    pub fn new(recurrence: Recurrence, timezone: TimeZone, start: DateTime<Utc>, end: Option<DateTime<Utc>>) -> Result<Series, FieldError> {
        Ok(Series { recurrence, timezone, start, end })
    }
    pub fn for_task(task: &Task) -> Result<Option<Series>, FieldError> {
        match (task.recurrence.is_recurring(), task.series_start.or(task.due_datetime)) {
            (true, Some(s)) => Series::new(task.recurrence.clone(), task.timezone, s, task.recurrence_end_date).map(Some),
            _ => Ok(None),
        }
    }
    pub fn next_after(&self, _after: DateTime<Utc>) -> Option<DateTime<Utc>> { None }
    pub fn upcoming(&self, _after: DateTime<Utc>, _n: usize) -> Vec<DateTime<Utc>> { Vec::new() }
}

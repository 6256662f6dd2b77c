//! Recurrence answers computed before a unit of work begins, so that no rule is expanded while
//! the store's writer is held.
//!
//! Expanding a rule costs up to tens of milliseconds for the most expensive rules the limits
//! accept (see [`crate::model::recurrence`]); inside a unit of work that time is spent holding
//! the store's writer, and on SQLite every other writer waits for it. So the use cases read the
//! task first, compute what they will need from it here ([`Forecast::checking`],
//! [`Forecast::completing`]), then begin the unit, read the task again and take the answer only
//! if the fields it depends on ([`Schedule`]) are unchanged. When another writer changed them in
//! between, the answer is computed again inside the unit: rare, and bounded by the same limits.

use chrono::{DateTime, Utc};

use super::Series;
use crate::error::{FieldError, ValidationErrors};
use crate::input::check_task_schedule;
use crate::model::{Recurrence, Task, TimeZone};

/// The fields of a task that its recurrence answers depend on.
#[derive(Debug, Clone, PartialEq)]
struct Schedule {
    recurrence: Recurrence,
    timezone: TimeZone,
    due: Option<DateTime<Utc>>,
    series_start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
}

impl Schedule {
    fn of(task: &Task) -> Self {
        Schedule {
            recurrence: task.recurrence.clone(),
            timezone: task.timezone,
            due: task.due_datetime,
            series_start: task.series_start,
            end: task.recurrence_end_date,
        }
    }
}

/// The due date of a completed task's next instance (`None`: its series has ended), or why its
/// series cannot be built.
type NextDue = Result<Option<DateTime<Utc>>, FieldError>;

/// Answers about a task's recurrence, each kept with the schedule it was computed from. The
/// default has none: every answer is computed when asked.
#[derive(Debug, Clone, Default)]
pub(crate) struct Forecast {
    /// [`check_schedule`] of an updated task.
    check: Option<(Schedule, Result<(), ValidationErrors>)>,
    /// [`next_due`] of a task being completed.
    next: Option<(Schedule, NextDue)>,
}

impl Forecast {
    /// Computes now the schedule check of `task`, a task as an update would leave it.
    pub(crate) fn checking(mut self, task: &Task) -> Self {
        self.check = Some((Schedule::of(task), check_schedule(task)));
        self
    }

    /// Computes now the due date of the next instance that completing `task` creates, unless
    /// completing it creates none whatever its rule says, or the schedule check computed before
    /// failed (the unit of work stops there).
    pub(crate) fn completing(mut self, task: &Task) -> Self {
        let checked_bad = matches!(&self.check, Some((_, Err(_))));
        if !checked_bad && creates_next(task) {
            self.next = Some((Schedule::of(task), next_due(task)));
        }
        self
    }

    /// The schedule check of `task`: the one computed before when its schedule is unchanged,
    /// else computed now.
    pub(crate) fn check(&self, task: &Task) -> Result<(), ValidationErrors> {
        match &self.check {
            Some((s, r)) if *s == Schedule::of(task) => r.clone(),
            _ => check_schedule(task),
        }
    }

    /// The due date of the next instance of the completed task `done` (`None`: its series has
    /// ended): the one computed before when its schedule is unchanged, else computed now.
    pub(crate) fn next_due(&self, done: &Task) -> NextDue {
        match &self.next {
            Some((s, r)) if *s == Schedule::of(done) => r.clone(),
            _ => next_due(done),
        }
    }
}

/// Whether completing `task` may create a next instance: it repeats and never had one (its
/// `next_task_id` is kept even after that instance is deleted).
pub(crate) fn creates_next(task: &Task) -> bool {
    task.next_task_id.is_none() && task.is_recurring()
}

/// The schedule rules of a task after an update ([`check_task_schedule`]).
fn check_schedule(task: &Task) -> Result<(), ValidationErrors> {
    check_task_schedule(
        &task.recurrence,
        task.timezone,
        task.due_datetime,
        task.series_start,
        task.recurrence_end_date,
    )
}

/// The due date of the next instance of the completed task `done`: the first occurrence of its
/// series after its due date. `None` when its series has ended, or it has no due date or
/// series (against its invariants).
fn next_due(done: &Task) -> NextDue {
    let Some(series) = Series::for_task(done)? else {
        return Ok(None);
    };
    Ok(done.due_datetime.and_then(|due| series.next_after(due)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conformance::t0;
    use crate::ids::{TaskId, UserId};
    use crate::model::{RRuleText, RecurrencePattern, TaskTitle, parse_instant};

    fn at(s: &str) -> DateTime<Utc> {
        parse_instant("t", s).unwrap()
    }

    /// Weekly from 2030-03-01 09:00 UTC (a Friday), which is also its series start.
    fn weekly() -> Task {
        let (user, title) = (UserId::parse("u").unwrap(), TaskTitle::parse("t").unwrap());
        Task::builder(TaskId::new(0), user, title, t0())
            .recurrence(Recurrence::Pattern(RecurrencePattern::Weekly))
            .due_datetime(at("2030-03-01T09:00:00Z"))
            .build()
    }

    #[test]
    fn answers_are_computed_ahead_and_reused_while_the_schedule_is_unchanged() {
        let task = weekly();
        let f = Forecast::default().checking(&task).completing(&task);
        assert_eq!(f.next_due(&task), Ok(Some(at("2030-03-08T09:00:00Z"))));
        assert_eq!(f.check(&task), Ok(()));
        // A forged answer shows which one is used: the precomputed one, while the schedule is
        // the same (other fields may change: the title, the completion).
        let forged = Some(at("2031-01-01T00:00:00Z"));
        let mut f = f;
        f.next = Some((Schedule::of(&task), Ok(forged)));
        let mut renamed = task.clone();
        renamed.completed = true;
        renamed.title = crate::model::TaskTitle::parse("other").unwrap();
        assert_eq!(f.next_due(&renamed), Ok(forged));
        // Another due date, zone, end or rule: computed again.
        let mut moved = task.clone();
        moved.due_datetime = Some(at("2030-03-02T09:00:00Z"));
        // The series keeps its start (a Friday): the next is the Friday after.
        assert_eq!(f.next_due(&moved), Ok(Some(at("2030-03-08T09:00:00Z"))));
        let mut ruled = task.clone();
        ruled.recurrence = Recurrence::Rule(RRuleText::parse("FREQ=DAILY").unwrap());
        assert_eq!(f.next_due(&ruled), Ok(Some(at("2030-03-02T09:00:00Z"))));
        let mut ended = task;
        ended.recurrence_end_date = ended.due_datetime;
        assert_eq!(f.next_due(&ended), Ok(None));
    }

    #[test]
    fn nothing_is_computed_for_a_task_that_creates_no_next_instance() {
        let mut once = weekly();
        once.recurrence = Recurrence::None;
        once.series_start = None;
        assert!(Forecast::default().completing(&once).next.is_none());
        let mut had_one = weekly();
        had_one.next_task_id = Some(crate::ids::TaskId::new(9));
        assert!(Forecast::default().completing(&had_one).next.is_none());
        // An update that breaks the schedule stops before completing.
        let mut broken = weekly();
        broken.due_datetime = None;
        let f = Forecast::default().checking(&broken).completing(&broken);
        assert!(f.check(&broken).is_err());
        assert!(f.next.is_none());
    }
}

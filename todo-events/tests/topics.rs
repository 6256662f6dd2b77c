//! Topics, dead-letter topics and message keys.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use todo_events::topic::{
    ACTIVITY_LOGS, ACTIVITY_LOGS_DLQ, DLQ_SUFFIX, REMINDERS, REMINDERS_DLQ, TASK_EVENTS,
    TASK_EVENTS_DLQ, TASK_UPDATES, TASK_UPDATES_DLQ,
};
use todo_events::{EventType, Topic, topics_for};

#[test]
fn topic_names_are_the_contracts() {
    assert_eq!(
        [TASK_EVENTS, TASK_UPDATES, REMINDERS, ACTIVITY_LOGS],
        ["task-events", "task-updates", "reminders", "activity-logs"]
    );
    let names: Vec<&str> = Topic::ALL.iter().map(|t| t.name()).collect();
    assert_eq!(names, [TASK_EVENTS, TASK_UPDATES, REMINDERS, ACTIVITY_LOGS]);
    for t in Topic::ALL {
        assert_eq!(Topic::parse(t.name()).unwrap(), t);
        assert_eq!(t.to_string(), t.name());
    }
    assert_eq!(
        Topic::parse("task-events.dlq").unwrap_err().code(),
        "UNKNOWN_TOPIC"
    );
}

#[test]
fn dead_letter_topics_are_name_dot_dlq() {
    assert_eq!(DLQ_SUFFIX, ".dlq");
    assert_eq!(
        Topic::ALL.map(Topic::dlq_name),
        [
            TASK_EVENTS_DLQ,
            TASK_UPDATES_DLQ,
            REMINDERS_DLQ,
            ACTIVITY_LOGS_DLQ
        ]
    );
    for t in Topic::ALL {
        assert_eq!(t.dlq_name(), format!("{}{DLQ_SUFFIX}", t.name()));
    }
    assert_eq!(TASK_EVENTS_DLQ, "task-events.dlq");
}

#[test]
fn events_go_to_their_topics() {
    use EventType::*;
    for et in [TaskCreated, TaskUpdated, TaskCompleted, TaskDeleted] {
        assert_eq!(
            topics_for(et),
            [Topic::TaskEvents, Topic::TaskUpdates],
            "{et}"
        );
    }
    assert_eq!(topics_for(ReminderTriggered), [Topic::Reminders]);
    assert_eq!(topics_for(ActivityLogCreated), [Topic::ActivityLogs]);
    let on = |t: Topic| t.event_types().collect::<Vec<_>>();
    assert_eq!(
        on(Topic::TaskEvents),
        [TaskCreated, TaskUpdated, TaskCompleted, TaskDeleted]
    );
    assert_eq!(on(Topic::TaskUpdates), on(Topic::TaskEvents));
    assert_eq!(on(Topic::Reminders), [ReminderTriggered]);
    assert_eq!(on(Topic::ActivityLogs), [ActivityLogCreated]);
}

#[test]
fn the_key_is_the_user_id() {
    for (d, e) in common::domain_events().iter().zip(common::envelopes()) {
        assert_eq!(e.key(), d.user_id.as_str());
        assert_eq!(e.user_id(), &d.user_id);
        assert_eq!(e.topics(), topics_for(e.event_type()));
    }
}

#[test]
fn event_type_names_round_trip() {
    for et in EventType::ALL {
        assert_eq!(EventType::parse(et.as_str()).unwrap(), et);
        assert_eq!(et.as_str().parse::<EventType>().unwrap(), et);
    }
    assert_eq!(
        EventType::parse("Task-Created").unwrap_err().code(),
        "UNKNOWN_EVENT_TYPE"
    );
}

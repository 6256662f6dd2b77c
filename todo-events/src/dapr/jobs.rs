//! Reminders as Dapr jobs: one job per task with a pending reminder (a task has at most one),
//! due at the reminder's time; Dapr calls the app back at `POST /job/<name>` (see
//! [`ReminderJob::of_callback`]).

use chrono::{DateTime, SecondsFormat, Utc};
use dapr::dapr::proto::common::v1::{
    JobFailurePolicy, JobFailurePolicyConstant, job_failure_policy,
};
use dapr::dapr::proto::runtime::v1::{DeleteJobRequest, Job, ScheduleJobRequest};
use prost::Message;
use serde::{Deserialize, Serialize};
use todo_core::ids::{ReminderId, TaskId, UserId};

use super::client::Sidecar;
use super::error::DaprError;

/// The prefix of the reminder jobs' names: `reminder-<task id>`.
pub const REMINDER_JOB_PREFIX: &str = "reminder-";

/// How often Dapr calls a failing job callback again (the plan: 3 retries, 1 s apart).
pub const JOB_RETRIES: u32 = 3;

/// `type_url` of the job data: a `google.protobuf.StringValue` holding the JSON of
/// [`ReminderJob`], which Dapr hands to an HTTP app as `{"@type": ..., "value": "<json>"}`.
const STRING_VALUE: &str = "type.googleapis.com/google.protobuf.StringValue";

/// What a reminder job carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderJob {
    /// The reminder's owner.
    pub user_id: UserId,
    /// The reminder's task (the job is the task's).
    pub task_id: TaskId,
    /// The reminder.
    pub reminder_id: ReminderId,
}

impl ReminderJob {
    /// The job's name.
    pub fn name(&self) -> String {
        job_name(self.task_id)
    }

    /// The reminder job of a callback `POST /job/<name>` with this body: the data in the JSON
    /// form Dapr gives an `Any` (`{"@type", "value"}`: the JSON text for a `StringValue`, base64
    /// for bytes), or the bare JSON. The name must be the job's own.
    ///
    /// # Errors
    /// The name is not a reminder job's, or the body holds no reminder job of that name.
    pub fn of_callback(name: &str, body: &[u8]) -> Result<Self, DaprError> {
        let corrupt = |reason: String| DaprError::Corrupt {
            what: format!("job {name}"),
            reason,
        };
        if !name.starts_with(REMINDER_JOB_PREFIX) {
            return Err(corrupt("not a reminder job".to_owned()));
        }
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| corrupt(format!("body is not JSON: {e}")))?;
        let job: ReminderJob = match value.get("value") {
            Some(serde_json::Value::String(inner)) => serde_json::from_str(inner)
                .or_else(|_| {
                    let bytes = super::base64_decode(inner).map_err(|e| e.to_string())?;
                    // A StringValue's bytes, or the JSON itself.
                    let text = String::decode(bytes.as_slice())
                        .ok()
                        .filter(|t| t.starts_with('{'))
                        .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
                    serde_json::from_str(&text).map_err(|e| e.to_string())
                })
                .map_err(|e| corrupt(format!("data: {e}")))?,
            _ => serde_json::from_value(value).map_err(|e| corrupt(format!("data: {e}")))?,
        };
        if job.name() != name {
            return Err(corrupt(format!("data names job {}", job.name())));
        }
        Ok(job)
    }
}

/// The name of the reminder job of a task.
pub fn job_name(task: TaskId) -> String {
    format!("{REMINDER_JOB_PREFIX}{}", task.get())
}

/// Schedules and deletes reminder jobs through the sidecar's Jobs API.
#[derive(Debug, Clone)]
pub struct DaprJobs {
    sidecar: Sidecar,
}

impl DaprJobs {
    /// Jobs through this sidecar.
    pub fn new(sidecar: Sidecar) -> Self {
        DaprJobs { sidecar }
    }

    /// Schedules the reminder's job at `at`, replacing the task's job if it has one (a moved
    /// or replaced reminder is scheduled again). A failing callback is retried [`JOB_RETRIES`] times, 1 s
    /// apart.
    ///
    /// # Errors
    /// The sidecar refused it.
    pub async fn schedule(&self, job: &ReminderJob, at: DateTime<Utc>) -> Result<(), DaprError> {
        let data = serde_json::to_string(job).map_err(|e| DaprError::Corrupt {
            what: job.name(),
            reason: e.to_string(),
        })?;
        let request = ScheduleJobRequest {
            job: Some(Job {
                name: job.name(),
                due_time: Some(at.to_rfc3339_opts(SecondsFormat::Millis, true)),
                data: Some(prost_types::Any {
                    type_url: STRING_VALUE.to_owned(),
                    value: data.encode_to_vec(),
                }),
                failure_policy: Some(JobFailurePolicy {
                    policy: Some(job_failure_policy::Policy::Constant(
                        JobFailurePolicyConstant {
                            interval: Some(prost_types::Duration {
                                seconds: 1,
                                nanos: 0,
                            }),
                            max_retries: Some(JOB_RETRIES),
                        },
                    )),
                }),
                ..Default::default()
            }),
            overwrite: true,
        };
        self.sidecar
            .raw()
            .schedule_job(request)
            .await
            .map_err(|s| DaprError::call("ScheduleJob", &s))?;
        Ok(())
    }

    /// Deletes the task's reminder job; deleting a job that is gone (fired, or never
    /// scheduled) is not an error.
    ///
    /// # Errors
    /// The sidecar refused it.
    pub async fn delete(&self, task: TaskId) -> Result<(), DaprError> {
        match self
            .sidecar
            .raw()
            .delete_job(DeleteJobRequest {
                name: job_name(task),
            })
            .await
        {
            Ok(_) => Ok(()),
            Err(s) if s.code() == tonic::Code::NotFound => Ok(()),
            Err(s) => Err(DaprError::call("DeleteJob", &s)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use base64::Engine;
    use serde_json::json;

    use super::*;

    fn job() -> ReminderJob {
        ReminderJob {
            user_id: UserId::parse("ann").unwrap(),
            task_id: TaskId::new(7),
            reminder_id: ReminderId::new(42),
        }
    }

    #[test]
    fn the_callback_body_gives_the_job_back_in_each_form() {
        let data = serde_json::to_string(&job()).unwrap();
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        for body in [
            json!({"@type": STRING_VALUE, "value": data}),
            json!({"@type": "type.googleapis.com/google.protobuf.BytesValue", "value": b64(data.as_bytes())}),
            json!({"@type": "type.googleapis.com/x", "value": b64(&data.encode_to_vec())}),
            json!({"user_id": "ann", "task_id": 7, "reminder_id": 42}),
        ] {
            let got = ReminderJob::of_callback("reminder-7", body.to_string().as_bytes());
            assert_eq!(got.unwrap(), job(), "{body}");
        }
    }

    #[test]
    fn a_callback_that_is_not_this_jobs_is_refused() {
        let body = json!({"user_id": "ann", "task_id": 7, "reminder_id": 42}).to_string();
        for (name, body) in [
            ("reminder-42", body.as_str()),
            ("cleanup", body.as_str()),
            ("reminder-7", "not json"),
            ("reminder-7", r#"{"value": "nope"}"#),
            (
                "reminder-7",
                r#"{"user_id": "", "task_id": 7, "reminder_id": 42}"#,
            ),
        ] {
            assert!(
                ReminderJob::of_callback(name, body.as_bytes()).is_err(),
                "{name} {body}"
            );
        }
        assert_eq!(job().name(), "reminder-7");
    }
}

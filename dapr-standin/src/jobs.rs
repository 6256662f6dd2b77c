//! Jobs: one-shot jobs at a due time, a timer each, the app called back at `POST /job/{name}`,
//! failed callbacks retried per the failure policy.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use dapr::dapr::proto::common::v1::job_failure_policy::Policy;
use dapr::dapr::proto::runtime::v1::{
    DeleteJobRequest, DeleteJobResponse, DeleteJobsByPrefixRequest,
    DeleteJobsByPrefixRequestAlpha1, DeleteJobsByPrefixResponse, DeleteJobsByPrefixResponseAlpha1,
    GetJobRequest, GetJobResponse, Job, ListJobsRequest, ListJobsRequestAlpha1, ListJobsResponse,
    ListJobsResponseAlpha1, ScheduleJobRequest, ScheduleJobResponse,
};
use http::Method;
use prost::Message as _;
use serde_json::json;
use tokio::task::AbortHandle;
use tonic::{Request, Response, Status};

use crate::app_client;
use crate::inner::Inner;
use crate::options::Retry;
use crate::records::{JobInfo, JobTrigger};

/// A scheduled job and its timer.
pub(crate) struct ScheduledJob {
    pub(crate) job: Job,
    pub(crate) due: DateTime<Utc>,
    generation: u64,
    pub(crate) timer: AbortHandle,
}

/// `ScheduleJob` (and its alpha1 twin).
pub(crate) async fn schedule_job(
    inner: &Arc<Inner>,
    request: Request<ScheduleJobRequest>,
) -> Result<Response<ScheduleJobResponse>, Status> {
    let req = request.into_inner();
    let job = req
        .job
        .ok_or_else(|| Status::invalid_argument("job is missing"))?;
    if job.name.is_empty() {
        return Err(Status::invalid_argument("job name is empty"));
    }
    let due_time = job.due_time.as_deref().filter(|d| !d.is_empty());
    let schedule = job.schedule.as_deref().filter(|s| !s.is_empty());
    let due = match (due_time, schedule) {
        (Some(due_time), _) => parse_due_time(due_time, Utc::now())?,
        (None, Some(_)) => {
            return Err(Status::unimplemented(
                "schedule expressions are not implemented by the stand-in",
            ));
        }
        (None, None) => {
            return Err(Status::invalid_argument(format!(
                "job {} has neither a due time nor a schedule",
                job.name
            )));
        }
    };
    let retry = failure_policy(inner.opts.job_retry, &job);
    let body = callback_body(job.data.as_ref());
    let mut shared = inner.lock();
    if let Some(existing) = shared.jobs.get(&job.name) {
        if !req.overwrite {
            return Err(Status::already_exists(format!(
                "job {} already exists",
                job.name
            )));
        }
        existing.timer.abort();
    }
    shared.job_generation += 1;
    let generation = shared.job_generation;
    let timer = tokio::spawn(fire(
        Arc::clone(inner),
        job.name.clone(),
        generation,
        due,
        body,
        retry,
    ))
    .abort_handle();
    if inner.is_stopped() {
        timer.abort();
    }
    tracing::debug!(job = %job.name, %due, "job scheduled");
    shared.jobs.insert(
        job.name.clone(),
        ScheduledJob {
            job,
            due,
            generation,
            timer,
        },
    );
    Ok(Response::new(ScheduleJobResponse {}))
}

/// The retry policy of a job: its own failure policy if it has one, else the stand-in's.
fn failure_policy(default: Retry, job: &Job) -> Retry {
    match job.failure_policy.and_then(|p| p.policy) {
        Some(Policy::Drop(_)) => Retry {
            attempts: 1,
            interval: Duration::ZERO,
        },
        Some(Policy::Constant(constant)) => Retry {
            attempts: constant
                .max_retries
                .map_or(default.attempts, |r| r.saturating_add(1)),
            interval: constant
                .interval
                .and_then(|d| Duration::try_from(d).ok())
                .unwrap_or(default.interval),
        },
        None => default,
    }
}

/// A due time: an RFC 3339 timestamp or a Go duration from now.
fn parse_due_time(due_time: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, Status> {
    if let Ok(at) = DateTime::parse_from_rfc3339(due_time) {
        return Ok(at.with_timezone(&Utc));
    }
    let after = parse_go_duration(due_time).ok_or_else(|| {
        Status::invalid_argument(format!(
            "invalid due time {due_time:?}: neither an RFC 3339 timestamp nor a duration"
        ))
    })?;
    chrono::Duration::from_std(after)
        .ok()
        .and_then(|after| now.checked_add_signed(after))
        .ok_or_else(|| Status::invalid_argument(format!("due time {due_time:?} is out of range")))
}

/// A Go `time.ParseDuration` string without sign: `1h30m`, `500ms`, `1.5s`, `10us`.
fn parse_go_duration(text: &str) -> Option<Duration> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    if rest == "0" {
        return Some(Duration::ZERO);
    }
    let mut total = 0.0_f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * seconds_per_unit;
    }
    Duration::try_from_secs_f64(total).ok()
}

/// The callback body: the JSON form daprd gives the job's `Any`.
fn callback_body(data: Option<&prost_types::Any>) -> Vec<u8> {
    let Some(any) = data else {
        return Vec::new();
    };
    let value = if any.type_url.ends_with("google.protobuf.StringValue") {
        String::decode(any.value.as_slice())
            .map_or_else(|_| json!(STANDARD.encode(&any.value)), |text| json!(text))
    } else if any.type_url.ends_with("google.protobuf.BytesValue") {
        let bytes = Vec::<u8>::decode(any.value.as_slice()).unwrap_or_else(|_| any.value.clone());
        json!(STANDARD.encode(bytes))
    } else {
        json!(STANDARD.encode(&any.value))
    };
    json!({ "@type": any.type_url, "value": value })
        .to_string()
        .into_bytes()
}

/// The job's timer: wait for the due time, then call the app back in a task of its own, so that
/// replacing or deleting the job (which aborts the timer) while its callback runs, e.g. from
/// the callback itself, cancels only a later call, never the one under way (as with daprd).
async fn fire(
    inner: Arc<Inner>,
    name: String,
    generation: u64,
    due: DateTime<Utc>,
    body: Vec<u8>,
    retry: Retry,
) {
    let wait = (due - Utc::now()).to_std().unwrap_or(Duration::ZERO);
    tokio::time::sleep_until(tokio::time::Instant::now() + wait).await;
    if !inner.is_stopped() {
        tokio::spawn(call_back(inner, name, generation, due, body, retry));
    }
}

/// The job's callbacks: call the app, retry, then forget the job (unless it was replaced).
async fn call_back(
    inner: Arc<Inner>,
    name: String,
    generation: u64,
    due: DateTime<Utc>,
    body: Vec<u8>,
    retry: Retry,
) {
    let attempts = retry.attempts.max(1);
    for attempt in 1..=attempts {
        let app = inner.lock().app;
        let fired_at = Utc::now();
        let result = match app {
            None => Err("no app attached".to_owned()),
            Some(app) => app_client::request(
                app,
                inner.opts.app_api_token.as_deref(),
                Method::POST,
                &format!("/job/{name}"),
                app_client::content_type("application/json"),
                body.clone(),
            )
            .await
            .map(|response| response.status.as_u16()),
        };
        let succeeded = matches!(result, Ok(200..=299));
        let last = succeeded || attempt == attempts;
        {
            let mut shared = inner.lock();
            if !succeeded {
                tracing::warn!(job = %name, attempt, ?result, "job callback failed");
            }
            shared.job_triggers.push(JobTrigger {
                name: name.clone(),
                due,
                fired_at,
                attempt,
                result,
            });
            let current = shared.jobs.get(&name).map(|job| job.generation);
            if current != Some(generation) {
                return;
            }
            if last {
                shared.jobs.remove(&name);
                return;
            }
        }
        tokio::time::sleep(retry.interval).await;
        if inner.is_stopped() {
            return;
        }
    }
}

/// `StandIn::jobs`.
pub(crate) fn scheduled(inner: &Inner) -> Vec<JobInfo> {
    inner
        .lock()
        .jobs
        .values()
        .map(|job| JobInfo {
            name: job.job.name.clone(),
            due: job.due,
            data: job.job.data.clone(),
        })
        .collect()
}

/// `GetJob` (and its alpha1 twin).
pub(crate) async fn get_job(
    inner: &Arc<Inner>,
    request: Request<GetJobRequest>,
) -> Result<Response<GetJobResponse>, Status> {
    let req = request.into_inner();
    let job = inner
        .lock()
        .jobs
        .get(&req.name)
        .map(|job| job.job.clone())
        .ok_or_else(|| Status::not_found(format!("job {} not found", req.name)))?;
    Ok(Response::new(GetJobResponse { job: Some(job) }))
}

/// `DeleteJob` (and its alpha1 twin): deleting a missing job is fine.
pub(crate) async fn delete_job(
    inner: &Arc<Inner>,
    request: Request<DeleteJobRequest>,
) -> Result<Response<DeleteJobResponse>, Status> {
    let req = request.into_inner();
    if req.name.is_empty() {
        return Err(Status::invalid_argument("job name is empty"));
    }
    if let Some(job) = inner.lock().jobs.remove(&req.name) {
        job.timer.abort();
    }
    Ok(Response::new(DeleteJobResponse {}))
}

fn all_jobs(inner: &Inner) -> Vec<Job> {
    inner
        .lock()
        .jobs
        .values()
        .map(|job| job.job.clone())
        .collect()
}

/// `ListJobs`.
pub(crate) async fn list_jobs(
    inner: &Arc<Inner>,
    request: Request<ListJobsRequest>,
) -> Result<Response<ListJobsResponse>, Status> {
    let _ = request;
    Ok(Response::new(ListJobsResponse {
        jobs: all_jobs(inner),
    }))
}

/// `ListJobsAlpha1`.
pub(crate) async fn list_jobs_alpha1(
    inner: &Arc<Inner>,
    request: Request<ListJobsRequestAlpha1>,
) -> Result<Response<ListJobsResponseAlpha1>, Status> {
    let _ = request;
    Ok(Response::new(ListJobsResponseAlpha1 {
        jobs: all_jobs(inner),
    }))
}

fn delete_by_prefix(inner: &Inner, prefix: Option<&str>) {
    let prefix = prefix.unwrap_or_default();
    inner.lock().jobs.retain(|name, job| {
        let keep = !name.starts_with(prefix);
        if !keep {
            job.timer.abort();
        }
        keep
    });
}

/// `DeleteJobsByPrefix`: no prefix deletes every job.
pub(crate) async fn delete_jobs_by_prefix(
    inner: &Arc<Inner>,
    request: Request<DeleteJobsByPrefixRequest>,
) -> Result<Response<DeleteJobsByPrefixResponse>, Status> {
    delete_by_prefix(inner, request.into_inner().name_prefix.as_deref());
    Ok(Response::new(DeleteJobsByPrefixResponse {}))
}

/// `DeleteJobsByPrefixAlpha1`.
pub(crate) async fn delete_jobs_by_prefix_alpha1(
    inner: &Arc<Inner>,
    request: Request<DeleteJobsByPrefixRequestAlpha1>,
) -> Result<Response<DeleteJobsByPrefixResponseAlpha1>, Status> {
    delete_by_prefix(inner, request.into_inner().name_prefix.as_deref());
    Ok(Response::new(DeleteJobsByPrefixResponseAlpha1 {}))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn go_durations_parse() {
        assert_eq!(parse_go_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_go_duration("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_go_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_go_duration("10"), None);
        assert_eq!(parse_go_duration("abc"), None);
        assert_eq!(parse_go_duration(""), None);
    }

    #[test]
    fn due_time_accepts_timestamps_and_durations() {
        let now = Utc::now();
        let at = parse_due_time("2030-01-31T17:00:00Z", now).unwrap();
        assert_eq!(at.to_rfc3339(), "2030-01-31T17:00:00+00:00");
        let later = parse_due_time("2s", now).unwrap();
        assert_eq!((later - now).num_milliseconds(), 2000);
        assert!(parse_due_time("tomorrow", now).is_err());
    }

    #[test]
    fn callback_body_renders_any_like_daprd() {
        let string = prost_types::Any {
            type_url: "type.googleapis.com/google.protobuf.StringValue".into(),
            value: "hello".to_owned().encode_to_vec(),
        };
        let body: serde_json::Value =
            serde_json::from_slice(&callback_body(Some(&string))).unwrap();
        assert_eq!(
            body,
            json!({"@type": "type.googleapis.com/google.protobuf.StringValue", "value": "hello"})
        );
        let bytes = prost_types::Any {
            type_url: "type.googleapis.com/google.protobuf.BytesValue".into(),
            value: b"\x00\x01".to_vec().encode_to_vec(),
        };
        let body: serde_json::Value = serde_json::from_slice(&callback_body(Some(&bytes))).unwrap();
        assert_eq!(body["value"], json!("AAE="));
        let other = prost_types::Any {
            type_url: "type.googleapis.com/todo.Reminder".into(),
            value: vec![1, 2, 3],
        };
        let body: serde_json::Value = serde_json::from_slice(&callback_body(Some(&other))).unwrap();
        assert_eq!(body["value"], json!("AQID"));
        assert!(callback_body(None).is_empty());
    }
}

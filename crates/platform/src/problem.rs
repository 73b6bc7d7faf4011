//! RFC 9457 problem details: the `application/problem+json` body every error response of both
//! services carries. Each service keeps its own error enum and decides the status, the stable
//! `code` and the detail; the shape and the headers are decided here once.

use std::time::Duration;

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

/// How long a client should wait after a temporary failure ([`crate::db::is_temporary`]):
/// deadlocks and serialization failures clear at once, and a restarting database or a full pool
/// takes seconds, so one second is a retry soon enough to be useful and late enough not to pile on.
pub const TEMPORARY_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The RFC 9457 body every error response carries.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI reference naming the problem type; `/problems/{code}`.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable, machine-readable error code, e.g. `validation_failed`, `not_found`.
    pub code: String,
    /// For `validation_failed`: each invalid field and what is wrong with it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProblemField {
    /// JSON path of the field, e.g. `title`, `recurrence.interval`, `tags[2]`.
    pub field: String,
    pub message: String,
}

impl Problem {
    /// A problem of `status` named by `code`, titled with the status's reason phrase.
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        Self {
            problem_type: format!("/problems/{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code: code.to_owned(),
            errors: Vec::new(),
        }
    }

    /// The same problem listing the invalid fields.
    #[must_use]
    pub fn with_errors(mut self, errors: Vec<ProblemField>) -> Self {
        self.errors = errors;
        self
    }

    /// The response, with `Retry-After` when the client should try again later (whole seconds,
    /// rounded up, at least one: zero would invite an immediate retry).
    pub fn response(self, retry_after: Option<Duration>) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(self)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(after) = retry_after {
            let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        self.response(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
        serde_json::from_slice(&bytes).expect("JSON")
    }

    #[tokio::test]
    async fn a_problem_is_problem_json_with_every_field_and_no_empty_list() {
        let response = Problem::new(StatusCode::NOT_FOUND, "not_found", "not found").into_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/problem+json");
        assert!(!response.headers().contains_key(header::RETRY_AFTER));
        assert_eq!(
            body(response).await,
            serde_json::json!({
                "type": "/problems/not_found",
                "title": "Not Found",
                "status": 404,
                "detail": "not found",
                "code": "not_found",
            })
        );
    }

    #[tokio::test]
    async fn field_errors_are_listed() {
        let problem = Problem::new(StatusCode::BAD_REQUEST, "validation_failed", "title: empty")
            .with_errors(vec![ProblemField { field: "title".into(), message: "empty".into() }]);
        let json = body(problem.into_response()).await;
        assert_eq!(json["errors"], serde_json::json!([{ "field": "title", "message": "empty" }]));
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up_and_never_zero() {
        let retry_after = |after: Duration| {
            let response =
                Problem::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "later").response(Some(after));
            response.headers()[header::RETRY_AFTER].to_str().expect("ASCII").to_owned()
        };
        assert_eq!(retry_after(TEMPORARY_RETRY_AFTER), "1");
        assert_eq!(retry_after(Duration::from_millis(1500)), "2");
        assert_eq!(retry_after(Duration::ZERO), "1");
        assert_eq!(retry_after(Duration::from_secs(30)), "30");
    }
}

//! The service's one error type. Every failure a handler can meet ends here and leaves as an
//! RFC 9457 `application/problem+json` body with a stable `code`; internal details are logged,
//! never sent.

use std::time::Duration;

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::FieldError;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),

    /// A request that is malformed as a whole (unparseable JSON, wrong content type, bad
    /// cursor); `code` is stable, `detail` says what to fix.
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },

    #[error("authentication required")]
    Unauthenticated,

    /// Sign-in failed. One message for an unknown email and a wrong password, so the answer
    /// does not reveal which accounts exist.
    #[error("email or password is incorrect")]
    InvalidCredentials,

    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },

    /// Missing, or owned by someone else: the two are indistinguishable on purpose.
    #[error("not found")]
    NotFound,

    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },

    /// Well-formed but unacceptable as a whole, e.g. an idempotency key reused for another body.
    #[error("{detail}")]
    Unprocessable { code: &'static str, detail: String },

    /// Fields that are well-formed but unacceptable, e.g. a chat message over the length limit.
    #[error("the request has fields this server cannot accept")]
    UnprocessableFields { code: &'static str, errors: Vec<FieldError> },

    /// The chat assistant's model provider failed or did not answer in time.
    #[error("{detail}")]
    Provider { timed_out: bool, detail: String },

    #[error("the request body is larger than this server accepts")]
    PayloadTooLarge,

    #[error("{detail}")]
    UnsupportedMediaType { detail: String },

    #[error("too many attempts; retry in {} seconds", retry_after.as_secs().max(1))]
    RateLimited { retry_after: Duration },

    #[error("the service is temporarily unavailable")]
    Unavailable(#[source] sqlx::Error),

    #[error("database error")]
    Database(#[source] sqlx::Error),

    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            // A saturated pool or a database that is restarting is a transient condition
            // the client may retry, not a bug.
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                Self::Unavailable(error)
            }
            error => Self::Database(error),
        }
    }
}

impl From<Vec<FieldError>> for AppError {
    fn from(errors: Vec<FieldError>) -> Self {
        Self::Validation(errors)
    }
}

impl From<FieldError> for AppError {
    fn from(error: FieldError) -> Self {
        Self::Validation(vec![error])
    }
}

impl AppError {
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::BadRequest { code, detail: detail.into() }
    }

    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthenticated | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Unprocessable { .. } | Self::UnprocessableFields { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Provider { timed_out: true, .. } => StatusCode::GATEWAY_TIMEOUT,
            Self::Provider { timed_out: false, .. } => StatusCode::BAD_GATEWAY,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::BadRequest { code, .. }
            | Self::Forbidden { code, .. }
            | Self::Conflict { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::UnprocessableFields { code, .. } => code,
            Self::Provider { timed_out: true, .. } => "assistant_timeout",
            Self::Provider { timed_out: false, .. } => "assistant_unavailable",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidCredentials => "invalid_credentials",
            Self::NotFound => "not_found",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::Database(_) | Self::Internal(_) => "internal_error",
        }
    }
}

/// The RFC 9457 body every error response carries.
#[derive(Debug, Serialize, ToSchema)]
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

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    /// JSON path of the field, e.g. `title`, `recurrence.interval`, `tags[2]`.
    pub field: String,
    pub message: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status_code();
        match &self {
            Self::Database(e) | Self::Unavailable(e) => {
                tracing::error!(error.message = %e, error.cause_chain = ?e, "request failed");
            }
            Self::Internal(e) => {
                tracing::error!(error.message = %e, error.cause_chain = ?e, "request failed");
            }
            other => tracing::debug!(error.message = %other, "request rejected"),
        }
        let errors = match &self {
            Self::Validation(fields) | Self::UnprocessableFields { errors: fields, .. } => fields
                .iter()
                .map(|f| ProblemField { field: f.field.clone(), message: f.message.clone() })
                .collect(),
            _ => Vec::new(),
        };
        let detail = match &self {
            Self::Validation(fields) | Self::UnprocessableFields { errors: fields, .. } => {
                fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; ")
            }
            other => other.to_string(),
        };
        let problem = Problem {
            problem_type: format!("/problems/{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: self.code().to_owned(),
            errors,
        };
        let mut response = (status, axum::Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Self::RateLimited { retry_after } = &self {
            let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}

/// Maps a unique- or check-constraint violation to a client error by constraint name, so the
/// database (not a check-then-insert) enforces the invariant.
pub trait ResultExt<T> {
    fn on_constraint(self, name: &str, map: impl FnOnce() -> AppError) -> Result<T>;
}

impl<T> ResultExt<T> for std::result::Result<T, sqlx::Error> {
    fn on_constraint(self, name: &str, map: impl FnOnce() -> AppError) -> Result<T> {
        self.map_err(|e| match &e {
            sqlx::Error::Database(db) if db.constraint() == Some(name) => map(),
            _ => e.into(),
        })
    }
}

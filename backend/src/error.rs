//! The service's one error type. Every failure a handler can meet ends here and leaves as an
//! RFC 9457 `application/problem+json` body with a stable `code`; internal details are logged,
//! never sent.

use std::time::Duration;

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
pub use platform::problem::{Problem, ProblemField};

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

    /// A cap on what one client holds or spends (429), or on what the whole service spends
    /// (`service_wide`: 503); `code` says which, `retry_after` when it frees up.
    #[error("{detail}")]
    LimitReached { code: &'static str, detail: String, retry_after: Duration, service_wide: bool },

    #[error("the service is temporarily unavailable")]
    Unavailable(#[source] sqlx::Error),

    /// More work is waiting than the server takes on (e.g. the password hashing queue is full).
    #[error("the server is busy; retry in {} seconds", retry_after.as_secs().max(1))]
    Overloaded { retry_after: Duration },

    #[error("database error")]
    Database(#[source] sqlx::Error),

    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        if let Some(quota) = exceeded_quota(&error) {
            return quota;
        }
        if platform::db::is_temporary(&error) { Self::Unavailable(error) } else { Self::Database(error) }
    }
}

/// The per-user quotas, enforced by triggers (see the `user_quotas` migration) whatever code
/// path inserts the row: each fails its insert with a check violation of this name.
const QUOTAS: [(&str, &str); 3] = [
    ("task_quota", "task_quota_exceeded"),
    ("conversation_quota", "conversation_quota_exceeded"),
    ("message_quota", "message_quota_exceeded"),
];

fn exceeded_quota(error: &sqlx::Error) -> Option<AppError> {
    let sqlx::Error::Database(db) = error else { return None };
    let &(_, code) = QUOTAS.iter().find(|&&(constraint, _)| db.constraint() == Some(constraint))?;
    // The trigger's message says which quota and its size; it holds nothing else.
    Some(AppError::Forbidden { code, detail: db.message().to_owned() })
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
            Self::RateLimited { .. } | Self::LimitReached { service_wide: false, .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::LimitReached { service_wide: true, .. }
            | Self::Unavailable(_)
            | Self::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
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
            | Self::UnprocessableFields { code, .. }
            | Self::LimitReached { code, .. } => code,
            Self::Provider { timed_out: true, .. } => "assistant_timeout",
            Self::Provider { timed_out: false, .. } => "assistant_unavailable",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidCredentials => "invalid_credentials",
            Self::NotFound => "not_found",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::Overloaded { .. } => "overloaded",
            Self::Database(_) | Self::Internal(_) => "internal_error",
        }
    }

    /// When the client should try again, for failures that pass.
    fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after }
            | Self::Overloaded { retry_after }
            | Self::LimitReached { retry_after, .. } => Some(*retry_after),
            Self::Unavailable(_) => Some(platform::problem::TEMPORARY_RETRY_AFTER),
            _ => None,
        }
    }
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
        Problem::new(status, self.code(), detail).with_errors(errors).response(self.retry_after())
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

#[cfg(test)]
mod tests {
    use axum::http::header;
    use sqlx::PgPool;

    use super::*;

    /// The error PostgreSQL sends for a statement failing with `sqlstate`.
    async fn database_error(pool: &PgPool, sqlstate: &str) -> sqlx::Error {
        let raise = format!("do $$ begin raise exception 'provoked' using errcode = '{sqlstate}'; end $$");
        sqlx::raw_sql(sqlx::AssertSqlSafe(raise)).execute(pool).await.expect_err("the statement raises")
    }

    async fn problem(response: Response) -> serde_json::Value {
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/problem+json");
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("body");
        serde_json::from_slice(&bytes).expect("JSON")
    }

    #[sqlx::test(migrations = false)]
    async fn a_deadlock_or_serialization_failure_is_503_with_retry_after(pool: PgPool) {
        for sqlstate in ["40P01", "40001"] {
            let response = AppError::from(database_error(&pool, sqlstate).await).into_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{sqlstate}");
            assert_eq!(response.headers()[header::RETRY_AFTER], "1", "{sqlstate}");
            let body = problem(response).await;
            assert_eq!(body["code"], "unavailable");
            assert_eq!(body["status"], 503);
            assert_eq!(body["detail"], "the service is temporarily unavailable");
        }
    }

    #[test]
    fn an_exhausted_pool_is_503_with_retry_after() {
        let response = AppError::from(sqlx::Error::PoolTimedOut).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(response.headers().contains_key(header::RETRY_AFTER));
    }

    #[tokio::test]
    async fn an_overload_is_503_with_retry_after_as_a_problem() {
        let response = AppError::Overloaded { retry_after: Duration::from_secs(1) }.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let body = problem(response).await;
        assert_eq!(body["code"], "overloaded");
        assert_eq!(body["status"], 503);
    }

    #[sqlx::test(migrations = false)]
    async fn an_unmapped_constraint_violation_stays_an_internal_error(pool: PgPool) {
        let response = AppError::from(database_error(&pool, "23505").await).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!response.headers().contains_key(header::RETRY_AFTER));
        let body = problem(response).await;
        assert_eq!(body["code"], "internal_error");
        assert_eq!(body["detail"], "database error");
    }
}

//! The service's one error type.
//!
//! Most failures never become an HTTP error: a delivery is always answered 200 with a Dapr
//! status, and [`AppError::is_transient`] is what picks `RETRY`. The HTTP mapping below serves
//! the few real HTTP errors (a missing app token, an unknown path) as RFC 9457 problem bodies,
//! like the backend's.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// `dapr-api-token` missing or wrong while `APP_API_TOKEN` is configured.
    #[error("missing or wrong dapr-api-token")]
    Unauthorized,

    #[error("not found")]
    NotFound,

    /// The database could not be reached or asked us to try again: worth retrying as is.
    #[error("the database is temporarily unavailable")]
    Unavailable(#[source] sqlx::Error),

    #[error("database error")]
    Database(#[source] sqlx::Error),

    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        if is_transient(&error) { Self::Unavailable(error) } else { Self::Database(error) }
    }
}

/// Failures that say nothing about the statement, only about the moment: the server is down,
/// restarting or overloaded, the pool is exhausted, or PostgreSQL aborted the transaction for
/// a conflict with another one.
fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exception; 53: insufficient resources; 40001/40P01: serialization
            // failure and deadlock; 57014: statement timeout; 57P01–57P03: the server is
            // shutting down or starting.
            code.starts_with("08")
                || code.starts_with("53")
                || matches!(&*code, "40001" | "40P01" | "57014" | "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

impl AppError {
    /// True when the same work may well succeed if tried again later.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }

    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthenticated",
            Self::NotFound => "not_found",
            Self::Unavailable(_) => "unavailable",
            Self::Database(_) | Self::Internal(_) => "internal_error",
        }
    }
}

/// The RFC 9457 body every error response carries.
#[derive(Debug, Serialize)]
struct Problem {
    #[serde(rename = "type")]
    problem_type: String,
    title: &'static str,
    status: u16,
    detail: String,
    code: &'static str,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status_code();
        match &self {
            Self::Database(e) | Self::Unavailable(e) => {
                tracing::error!(error.message = %e, error.cause_chain = ?e, "request failed");
            }
            Self::Internal(e) => {
                tracing::error!(error.message = %e, error.cause_chain = ?e, "request failed")
            }
            other => tracing::debug!(error.message = %other, "request rejected"),
        }
        let problem = Problem {
            problem_type: format!("/problems/{}", self.code()),
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: self.to_string(),
            code: self.code(),
        };
        let mut response = (status, axum::Json(problem)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_are_transient_and_bugs_are_not() {
        assert!(AppError::from(sqlx::Error::PoolTimedOut).is_transient());
        assert!(AppError::from(sqlx::Error::Io(std::io::ErrorKind::ConnectionRefused.into())).is_transient());
        assert!(!AppError::from(sqlx::Error::RowNotFound).is_transient());
        assert!(!AppError::from(sqlx::Error::ColumnNotFound("x".into())).is_transient());
        assert!(!AppError::Internal(anyhow::anyhow!("bug")).is_transient());
    }
}

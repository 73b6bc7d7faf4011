//! The service's one error type.
//!
//! Most failures never become an HTTP error: a delivery is always answered 200 with a Dapr
//! status, and [`AppError::is_transient`] is what picks `RETRY`. The HTTP mapping below serves
//! the few real HTTP errors (a missing app token, an unknown path) as RFC 9457 problem bodies,
//! like the backend's.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use platform::problem::{Problem, TEMPORARY_RETRY_AFTER};

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
        if platform::db::is_temporary(&error) { Self::Unavailable(error) } else { Self::Database(error) }
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
        let retry_after = self.is_transient().then_some(TEMPORARY_RETRY_AFTER);
        Problem::new(status, self.code(), self.to_string()).response(retry_after)
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

    #[sqlx::test(migrations = false)]
    async fn deadlocks_and_serialization_failures_are_retried_and_violations_are_not(pool: sqlx::PgPool) {
        for (sqlstate, transient) in [("40P01", true), ("40001", true), ("23505", false), ("23503", false)] {
            let raise =
                format!("do $$ begin raise exception 'provoked' using errcode = '{sqlstate}'; end $$");
            let error = sqlx::raw_sql(sqlx::AssertSqlSafe(raise))
                .execute(&pool)
                .await
                .expect_err("the statement raises");
            assert_eq!(AppError::from(error).is_transient(), transient, "{sqlstate}");
        }
    }
}

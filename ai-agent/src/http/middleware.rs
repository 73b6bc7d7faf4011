//! Cross-cutting request handling: the request span and log line, and the app token check.

use axum::{
    extract::{Request, State},
    http::HeaderValue,
    middleware::Next,
    response::{IntoResponse, Response},
};
use events::dapr::API_TOKEN_HEADER;
use platform::{request::Endpoint, trace::TraceParent};
use secrecy::ExposeSecret;
use tracing::Level;

use super::AppState;
use crate::error::AppError;

/// Opens the request span and logs one line per response.
pub async fn trace_request(req: Request, next: Next) -> Response {
    let endpoint = Endpoint::of(&req);
    // The sidecar forwards the publisher's trace; its id goes on every line of the handling.
    let trace = TraceParent::from_headers(req.headers());
    let span = tracing::info_span!(
        "http_request",
        method = %endpoint.method,
        route = endpoint.route.as_str(),
        trace_id = trace.as_ref().map(|t| t.trace_id.as_str())
    );
    if let Some(trace) = &trace {
        platform::trace::join(&span, trace);
    }
    endpoint.serve(req, next, span, log_level).await
}

/// Deliveries log their own line with the event's fields (see `consumer`), so successful
/// requests log at debug only.
fn log_level(_route: &str, status: u16) -> Level {
    if status >= 500 {
        Level::ERROR
    } else if status >= 400 {
        Level::WARN
    } else {
        Level::DEBUG
    }
}

/// With `APP_API_TOKEN` configured, lets through only requests carrying it in
/// `dapr-api-token` (§5); everyone else gets 401.
pub async fn require_app_token(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(expected) = &state.config.app_api_token {
        let given = req.headers().get(API_TOKEN_HEADER).map(HeaderValue::as_bytes);
        if !given.is_some_and(|given| same_secret(given, expected.expose_secret().as_bytes())) {
            return AppError::Unauthorized.into_response();
        }
    }
    next.run(req).await
}

/// Compares without stopping at the first difference, so response timing does not reveal how
/// much of a guessed token was right. (The length may leak; it is not the secret.)
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len() && given.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn secrets_match_only_when_identical() {
        assert!(same_secret(b"token", b"token"));
        assert!(!same_secret(b"token", b"tokem"));
        assert!(!same_secret(b"token", b"token2"));
        assert!(!same_secret(b"", b"token"));
    }
}

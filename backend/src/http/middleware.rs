//! Cross-cutting request handling: the correlation id and request span, the cross-site
//! request forgery guard, the per-user write rate, and waking the outbox relay after a change.

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use platform::{request::Endpoint, trace::TraceParent};
use tracing::Level;

use super::AppState;
use crate::{auth::AuthUser, error::AppError};

pub static CORRELATION_ID: HeaderName = HeaderName::from_static("x-correlation-id");

/// The id that ties a request to every log line and every event it causes. Taken from the
/// caller when it sent a sensible one (so a chain of services shares it), generated otherwise.
#[derive(Debug, Clone)]
pub struct CorrelationId(pub String);

fn acceptable_correlation_id(value: &HeaderValue) -> Option<&str> {
    let id = value.to_str().ok()?;
    let ok = (1..=128).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then_some(id)
}

/// Opens the request span (with the correlation id), logs one line per response, and echoes
/// the correlation id.
pub async fn trace_request(mut req: Request, next: Next) -> Response {
    let correlation_id = req
        .headers()
        .get(&CORRELATION_ID)
        .and_then(acceptable_correlation_id)
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    req.extensions_mut().insert(CorrelationId(correlation_id.clone()));
    // Continue the caller's trace, or start one, so every event this request causes (and
    // whatever the assistants do about it) shares one trace id.
    let trace = TraceParent::from_headers(req.headers()).unwrap_or_else(|| {
        let trace = TraceParent::generate();
        if let Ok(value) = HeaderValue::from_str(&trace.header()) {
            req.headers_mut().insert(platform::trace::HEADER, value);
        }
        trace
    });

    let endpoint = Endpoint::of(&req);
    let span = tracing::info_span!(
        "http_request",
        method = %endpoint.method,
        route = endpoint.route.as_str(),
        correlation_id,
        trace_id = %trace.trace_id,
        user_id = tracing::field::Empty
    );
    // The exported span joins the same trace id the outbox rows carry.
    platform::trace::join(&span, &trace);
    let mut response = endpoint.serve(req, next, span, log_level).await;
    if let Ok(value) = HeaderValue::from_str(&correlation_id) {
        response.headers_mut().insert(CORRELATION_ID.clone(), value);
    }
    response
}

fn log_level(route: &str, status: u16) -> Level {
    // Probes and scrapes hit every few seconds; keep them out of the default log level.
    if matches!(route, "/health" | "/ready" | "/metrics") {
        Level::DEBUG
    } else if status >= 500 {
        Level::ERROR
    } else {
        Level::INFO
    }
}

/// Refuses state-changing requests that a browser sent on behalf of another site.
///
/// The session cookie is `SameSite=Lax`, so browsers already withhold it from cross-site
/// POST/PATCH/DELETE; this guard is the second, independent layer: a request whose
/// `Sec-Fetch-Site` says `cross-site`, or whose `Origin` is neither ours nor an allowed
/// origin, is refused. Requests without either header do not come from a browser page (curl,
/// other services), so they cannot carry a victim's ambient cookie and are let through. JSON
/// bodies must also be sent as `application/json`, which a cross-site HTML form cannot do.
pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    match cross_site_reason(req.headers(), &state.config.allowed_origins, state.config.trust_proxy_headers) {
        Some(detail) => AppError::Forbidden { code: "cross_site_request", detail }.into_response(),
        None => next.run(req).await,
    }
}

fn cross_site_reason(headers: &HeaderMap, allowed: &[String], trust_proxy: bool) -> Option<String> {
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site") {
        return Some("cross-site requests may not change data".into());
    }
    let origin = headers.get(header::ORIGIN)?.to_str().ok()?;
    if allowed.iter().any(|a| !a.is_empty() && a.trim_end_matches('/') == origin) {
        return None;
    }
    let host_header = if trust_proxy { headers.get("x-forwarded-host") } else { None }
        .or_else(|| headers.get(header::HOST))
        .and_then(|v| v.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    if origin_host.is_some() && origin_host == host_header {
        None
    } else {
        Some(format!("requests from origin {origin} may not change data"))
    }
}

/// Counts every state-changing request of a signed-in user against their write budget
/// (`WRITE_RATE_LIMIT_PER_MINUTE`, shared by all replicas), so one account cannot flood the
/// database and the event broker. Requests without a session pass: the handler refuses them.
pub async fn write_rate_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let user = AuthUser::from_request_parts(&mut parts, &state).await;
    if let Ok(user) = user
        && let Err(refused) = state.write_limiter.check(&state.db, &format!("write:{}", user.user_id)).await
    {
        return refused.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Wakes this replica's outbox relay after a request that may have committed a change, so its
/// event goes out at once rather than at the relay's next poll. A change answers with a 2xx to
/// a non-GET request; a spurious wake-up costs the relay one look at an empty backlog.
pub async fn wake_relay(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let reads_only = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let response = next.run(req).await;
    if !reads_only && response.status().is_success() {
        state.relay_wake.notify_one();
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn same_origin_and_non_browser_requests_pass() {
        let same = headers(&[("host", "localhost:8080"), ("origin", "http://localhost:8080")]);
        assert_eq!(cross_site_reason(&same, &[], false), None);
        assert_eq!(cross_site_reason(&headers(&[("host", "localhost:8080")]), &[], false), None);
    }

    #[test]
    fn foreign_origins_and_cross_site_fetches_are_refused() {
        let foreign = headers(&[("host", "localhost:8080"), ("origin", "https://evil.example")]);
        assert!(cross_site_reason(&foreign, &[], false).is_some());
        let fetch = headers(&[("host", "localhost:8080"), ("sec-fetch-site", "cross-site")]);
        assert!(cross_site_reason(&fetch, &[], false).is_some());
    }

    #[test]
    fn configured_origins_are_allowed() {
        let h = headers(&[("host", "api.internal"), ("origin", "https://todo.example.com")]);
        assert_eq!(cross_site_reason(&h, &["https://todo.example.com/".into()], false), None);
    }

    #[test]
    fn correlation_ids_are_bounded_and_plain() {
        assert!(acceptable_correlation_id(&HeaderValue::from_static("req-1:a.b_c")).is_some());
        assert!(acceptable_correlation_id(&HeaderValue::from_static("has space")).is_none());
        let long = HeaderValue::from_str(&"a".repeat(129)).unwrap();
        assert!(acceptable_correlation_id(&long).is_none());
    }
}

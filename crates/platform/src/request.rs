//! The request-trace middleware's common part: every request runs inside a span named
//! `http_request`, is timed, counted in the HTTP metrics and logged once when its response is
//! ready, by route template (low cardinality, free of ids), never by raw path.
//!
//! Each service opens the span itself, because its fields differ (the backend adds the
//! correlation id and the user, and always has a trace; the agent continues the sidecar's trace
//! when there is one), and picks how loudly a finished request is logged.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request},
    http::Method,
    middleware::Next,
    response::Response,
};
use tracing::{Instrument as _, Level};

/// How loudly a service logs a finished request, from its route template and status.
pub type LogLevel = fn(route: &str, status: u16) -> Level;

/// What a request is counted and logged by: its method and route template.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub method: Method,
    /// The matched route template, or `unmatched` for the fallback.
    pub route: String,
}

impl Endpoint {
    pub fn of(req: &Request) -> Self {
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
        Self { method: req.method().clone(), route }
    }

    /// Runs the rest of the stack inside `span`, then records the request's metrics and logs
    /// `request finished` with its status and duration, in the span, at the level `level` picks.
    pub async fn serve(self, req: Request, next: Next, span: tracing::Span, level: LogLevel) -> Response {
        let started = Instant::now();
        let response = next.run(req).instrument(span.clone()).await;
        let status = response.status().as_u16();
        let elapsed = started.elapsed();
        let duration_ms = elapsed.as_secs_f64() * 1000.0;
        crate::metrics::record_http(self.method.as_str(), &self.route, status, elapsed);
        span.in_scope(|| match level(&self.route, status) {
            Level::ERROR => tracing::error!(status, duration_ms, "request finished"),
            Level::WARN => tracing::warn!(status, duration_ms, "request finished"),
            Level::INFO => tracing::info!(status, duration_ms, "request finished"),
            Level::DEBUG => tracing::debug!(status, duration_ms, "request finished"),
            _ => tracing::trace!(status, duration_ms, "request finished"),
        });
        response
    }
}

#[cfg(test)]
mod tests {
    use axum::{Router, body::Body, middleware::from_fn, routing::get};
    use tower::ServiceExt as _;

    use super::*;

    async fn traced(req: Request, next: Next) -> Response {
        let endpoint = Endpoint::of(&req);
        let span = tracing::info_span!("http_request", route = endpoint.route.as_str());
        endpoint.serve(req, next, span, |_, _| Level::INFO).await
    }

    #[tokio::test]
    #[expect(clippy::float_cmp, reason = "a counter's value is a whole number, which f64 holds exactly")]
    async fn requests_are_counted_by_route_template_and_unmatched_ones_as_such() {
        let app = Router::new()
            .route("/items/{id}", get(|| async { "item" }))
            .fallback(|| async { (axum::http::StatusCode::NOT_FOUND, "none") })
            .layer(from_fn(traced));
        let handle = crate::metrics::handle();
        let count = |route: &str, status: &str| {
            crate::metrics::sample(
                &handle.render(),
                crate::metrics::HTTP_REQUESTS,
                &[("method", "GET"), ("route", route), ("status", status)],
            )
        };
        let (items, unmatched) = (count("/items/{id}", "200"), count("unmatched", "404"));
        for uri in ["/items/42", "/nowhere"] {
            let req = Request::get(uri).body(Body::empty()).expect("request");
            app.clone().oneshot(req).await.expect("response");
        }
        assert_eq!(count("/items/{id}", "200"), items + 1.0);
        assert_eq!(count("unmatched", "404"), unmatched + 1.0);
    }
}

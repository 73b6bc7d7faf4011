//! Serves the built web app (`WEB_DIR`) at `/` for the local one-command product. In
//! Kubernetes NGINX serves it instead, and the backend is reached under `/api` only.

use std::{path::Path, sync::LazyLock};

use axum::{
    Router,
    extract::Request,
    http::{HeaderName, HeaderValue, header},
    middleware::{self, Next},
    response::Response,
    routing::any,
};
use tower_http::{
    compression::CompressionLayer,
    services::{ServeDir, ServeFile},
};

use crate::{error::AppError, http::AppState};

/// Files that exist are served as they are; any other path gets `index.html`, so the web
/// app's own routes survive a reload. Unknown `/api` paths stay problem+json 404s, and so do
/// the sidecar's discovery calls (`/dapr/subscribe`, `/dapr/config`): a 404 there means "no
/// subscriptions", while the app's page would be a JSON error in daprd's log on every start.
pub fn router(dir: &Path) -> Router<AppState> {
    // A malformed headers file stops the start-up, not the first request.
    LazyLock::force(&SECURITY_HEADERS);
    let files = ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")));
    Router::new()
        .route("/api/{*rest}", any(|| async { AppError::NotFound }))
        .route("/dapr/{*rest}", any(|| async { AppError::NotFound }))
        .fallback_service(files)
        .layer(middleware::from_fn(response_headers))
        .layer(CompressionLayer::new())
}

/// The web app's security headers (the Content-Security-Policy and the rest), written once in
/// `docker/security-headers.conf` for the frontend image's NGINX and read from it at build
/// time, so the product sends the same headers whoever serves the app.
const SECURITY_HEADERS_CONF: &str = include_str!("../../docker/security-headers.conf");

static SECURITY_HEADERS: LazyLock<Vec<(HeaderName, HeaderValue)>> =
    LazyLock::new(|| parse_security_headers(SECURITY_HEADERS_CONF));

/// Each `add_header NAME "VALUE" always;` line of the NGINX include; comments and blank lines
/// are skipped, and anything else is a mistake in the file.
fn parse_security_headers(conf: &'static str) -> Vec<(HeaderName, HeaderValue)> {
    conf.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (name, value) = line
                .strip_prefix("add_header ")
                .and_then(|rest| rest.strip_suffix("\" always;"))
                .and_then(|rest| rest.split_once(" \""))
                .unwrap_or_else(|| {
                    panic!("security-headers.conf: not `add_header NAME \"VALUE\" always;`: {line}")
                });
            let name = HeaderName::from_bytes(name.as_bytes()).expect("security-headers.conf: a header name");
            (name, HeaderValue::from_static(value))
        })
        .collect()
}

/// The security headers on every response, and the cache policy: Vite puts a content hash in
/// every file name under `assets/`, so those never change and may be cached for good;
/// everything else (`index.html`) is revalidated on each load so a new release is picked up at
/// once.
async fn response_headers(request: Request, next: Next) -> Response {
    let immutable = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS.iter() {
        headers.insert(name.clone(), value.clone());
    }
    let policy = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nginx_security_headers_file_parses_into_every_header() {
        let headers = parse_security_headers(SECURITY_HEADERS_CONF);
        let names: Vec<&str> = headers.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            ["content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options"]
        );
        let csp = headers[0].1.to_str().unwrap();
        assert!(csp.starts_with("default-src 'self'; script-src 'self';"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    }

    #[test]
    #[should_panic(expected = "not `add_header NAME")]
    fn a_line_that_is_not_an_add_header_is_refused() {
        parse_security_headers("add_header X-Frame-Options DENY always;");
    }
}

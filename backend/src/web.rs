//! Serves the built web app (`WEB_DIR`) at `/` for the local one-command product. In
//! Kubernetes NGINX serves it instead, and the backend is reached under `/api` only.

use std::path::Path;

use axum::{
    Router,
    extract::Request,
    http::{HeaderValue, header},
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
    let files = ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")));
    Router::new()
        .route("/api/{*rest}", any(|| async { AppError::NotFound }))
        .route("/dapr/{*rest}", any(|| async { AppError::NotFound }))
        .fallback_service(files)
        .layer(middleware::from_fn(cache_policy))
        .layer(CompressionLayer::new())
}

/// Vite puts a content hash in every file name under `assets/`, so those never change and
/// may be cached for good; everything else (`index.html`) is revalidated on each load so a
/// new release is picked up at once.
async fn cache_policy(request: Request, next: Next) -> Response {
    let immutable = request.uri().path().starts_with("/assets/");
    let mut response = next.run(request).await;
    let policy = if immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}

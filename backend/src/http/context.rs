//! What a handler needs to know about the request it serves beyond its body: the [`Origin`]
//! of the changes it makes (how they are traced and correlated), and the client's address.

use std::{
    convert::Infallible,
    net::{IpAddr, SocketAddr},
};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::request::Parts,
};

use super::{AppState, middleware::CorrelationId};
use crate::domain::origin::Origin;

#[derive(Debug, Clone)]
pub struct RequestContext {
    /// What the services write into every event this request causes.
    pub origin: Origin,
    pub client_ip: Option<IpAddr>,
}

impl FromRequestParts<AppState> for RequestContext {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let correlation_id = parts
            .extensions
            .get::<CorrelationId>()
            .map_or_else(|| uuid::Uuid::now_v7().to_string(), |c| c.0.clone());
        let traceparent = parts
            .headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .filter(|v| v.len() == 55 && v.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'))
            .map(str::to_owned);
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let forwarded = state.config.trust_proxy_headers.then(|| forwarded_ip(parts)).flatten();
        Ok(Self { origin: Origin { correlation_id, traceparent }, client_ip: forwarded.or(peer) })
    }
}

/// The client address as the trusted proxy saw it: `X-Real-IP`, else the right-most
/// `X-Forwarded-For` entry (the one the proxy itself appended; those left of it are the
/// client's own claims).
fn forwarded_ip(parts: &Parts) -> Option<IpAddr> {
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    header("x-real-ip")
        .and_then(|v| v.trim().parse().ok())
        .or_else(|| header("x-forwarded-for")?.rsplit(',').next()?.trim().parse().ok())
}

//! Where a change comes from, as far as the events it causes must tell: the correlation id that
//! ties them to the log lines of whatever caused them, and the trace they continue. Services
//! take this, not the transport's request type; the HTTP layer builds it from each request.

/// Carried into every event a change causes.
#[derive(Debug, Clone)]
pub struct Origin {
    pub correlation_id: String,
    /// The caller's W3C trace context, forwarded to the sidecar with the event so one trace
    /// spans request, event and reaction.
    pub traceparent: Option<String>,
}

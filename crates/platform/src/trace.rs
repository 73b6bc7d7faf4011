//! W3C Trace Context (`traceparent`) without a tracing SDK: enough to carry one trace id from
//! the HTTP request through the outbox row, the sidecar publish and the agent's handling, and
//! to put that id on every log line. When trace export is on (see [`crate::telemetry`]), the
//! exported spans join the same trace through [`join`].

use axum::http::HeaderMap;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState};
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

/// The W3C Trace Context header.
pub const HEADER: &str = "traceparent";

/// A parsed `traceparent`: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: String,
    pub parent_id: String,
    pub flags: String,
}

impl TraceParent {
    /// Parses a version-00 header; `None` for anything malformed or all-zero ids, which the
    /// spec says to ignore (a new trace starts instead).
    pub fn parse(header: &str) -> Option<Self> {
        let mut parts = header.trim().split('-');
        let (version, trace_id, parent_id, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let hex = |s: &str, len: usize| {
            s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        };
        let valid = version == "00"
            && parts.next().is_none()
            && hex(trace_id, 32)
            && hex(parent_id, 16)
            && hex(flags, 2)
            && trace_id.bytes().any(|b| b != b'0')
            && parent_id.bytes().any(|b| b != b'0');
        valid.then(|| Self {
            trace_id: trace_id.to_owned(),
            parent_id: parent_id.to_owned(),
            flags: flags.to_owned(),
        })
    }

    /// The caller's trace, when it sent a valid `traceparent`.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        headers.get(HEADER).and_then(|value| value.to_str().ok()).and_then(Self::parse)
    }

    /// A new sampled trace with a random trace id and span id.
    pub fn generate() -> Self {
        Self {
            trace_id: format!("{:032x}", rand::random::<u128>().max(1)),
            parent_id: format!("{:016x}", rand::random::<u64>().max(1)),
            flags: "01".to_owned(),
        }
    }

    pub fn header(&self) -> String {
        format!("00-{}-{}-{}", self.trace_id, self.parent_id, self.flags)
    }

    /// The same trace as an OpenTelemetry remote parent.
    pub fn otel_context(&self) -> opentelemetry::Context {
        let flags = u8::from_str_radix(&self.flags, 16).unwrap_or(0);
        let span_context = SpanContext::new(
            TraceId::from_hex(&self.trace_id).unwrap_or(TraceId::INVALID),
            SpanId::from_hex(&self.parent_id).unwrap_or(SpanId::INVALID),
            TraceFlags::new(flags),
            true,
            TraceState::default(),
        );
        opentelemetry::Context::new().with_remote_span_context(span_context)
    }
}

/// Makes `parent` the exported parent of `span`, so the span lands in the trace whose id is on
/// the log lines and in the outbox. Call it before the span is first entered. Without trace
/// export this does nothing (the layer is absent).
pub fn join(span: &tracing::Span, parent: &TraceParent) {
    // The only failures are "no exporter installed" and "span already started or disabled";
    // neither is worth a log line per request.
    let _ = span.set_parent(parent.otel_context());
}

#[cfg(test)]
mod tests {
    use super::TraceParent;

    #[test]
    fn parses_valid_headers_and_refuses_the_rest() {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let parsed = TraceParent::parse(header).expect("valid");
        assert_eq!(parsed.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(parsed.header(), header);
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_otel_parent_carries_the_same_ids() {
        use opentelemetry::trace::TraceContextExt as _;
        let parent =
            TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").expect("valid");
        let cx = parent.otel_context();
        let span_context = cx.span().span_context().clone();
        assert!(span_context.is_valid() && span_context.is_remote() && span_context.is_sampled());
        assert_eq!(span_context.trace_id().to_string(), parent.trace_id);
        assert_eq!(span_context.span_id().to_string(), parent.parent_id);
    }

    #[test]
    fn the_callers_trace_is_read_from_the_headers() {
        let mut headers = axum::http::HeaderMap::new();
        assert_eq!(TraceParent::from_headers(&headers), None);
        headers.insert(super::HEADER, "not a trace".parse().expect("header value"));
        assert_eq!(TraceParent::from_headers(&headers), None);
        let generated = TraceParent::generate();
        headers.insert(super::HEADER, generated.header().parse().expect("header value"));
        assert_eq!(TraceParent::from_headers(&headers), Some(generated));
    }

    #[test]
    fn generated_headers_parse() {
        let generated = TraceParent::generate();
        assert_eq!(TraceParent::parse(&generated.header()), Some(generated));
    }
}

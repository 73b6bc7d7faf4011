//! W3C trace context the way the sidecar's spans produce it (§9).
//!
//! The emulator records no spans, but it writes the same shapes daprd does: with tracing on
//! (the product's Configuration samples at 0.1), the CloudEvent of a publish carries the
//! sidecar's own span, a child of the caller's `traceparent` or a new trace without one, and a
//! delivery carries a callback span under the CloudEvent's.

/// A new span under `parent`: same version, trace id and flags, a fresh span id. `None` when
/// `parent` is not a valid `traceparent`.
pub(crate) fn child_of(parent: &str) -> Option<String> {
    let [version, trace_id, span_id, flags] = parent.split('-').collect::<Vec<_>>()[..] else {
        return None;
    };
    let is_hex = |text: &str, len: usize| text.len() == len && text.bytes().all(|b| b.is_ascii_hexdigit());
    if !is_hex(version, 2) || !is_hex(trace_id, 32) || !is_hex(span_id, 16) || !is_hex(flags, 2) {
        return None;
    }
    Some(format!("{version}-{trace_id}-{}-{flags}", new_span_id()))
}

/// The span of the sidecar's publish handler: a child of the caller's `traceparent` header, or
/// the root of a new, unsampled trace when there is none (daprd samples most of those out).
pub(crate) fn publish_span(incoming: Option<&str>) -> String {
    incoming.and_then(child_of).unwrap_or_else(|| {
        let trace_id = uuid::Uuid::new_v4().simple();
        format!("00-{trace_id}-{}-00", new_span_id())
    })
}

fn new_span_id() -> String {
    let (span_id, _) = uuid::Uuid::new_v4().as_u64_pair();
    format!("{span_id:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    #[test]
    fn a_child_keeps_trace_and_flags_with_a_new_span() {
        let child = child_of(PARENT).expect("valid parent");
        assert!(child.starts_with("00-0af7651916cd43dd8448eb211c80319c-"));
        assert!(child.ends_with("-01"));
        assert_ne!(child, PARENT);
        assert_eq!(child.len(), 55);
    }

    #[test]
    fn an_invalid_parent_has_no_child() {
        for parent in ["", "garbage", "00-0af7651916cd43dd8448eb211c80319c-01", "00-xyz-b7ad6b7169203331-01"]
        {
            assert_eq!(child_of(parent), None, "{parent}");
        }
    }

    #[test]
    fn a_publish_without_a_parent_starts_an_unsampled_trace() {
        let span = publish_span(None);
        assert_eq!(child_of(&span).map(|c| c.len()), Some(55), "{span}");
        assert!(span.starts_with("00-") && span.ends_with("-00"), "{span}");
        assert_ne!(publish_span(None)[3..35], span[3..35], "a new trace each time");
        assert_eq!(publish_span(Some(PARENT))[..36], PARENT[..36]);
        assert_eq!(publish_span(Some("garbage")).len(), 55);
    }
}

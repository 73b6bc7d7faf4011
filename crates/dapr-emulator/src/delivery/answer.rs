//! How the sidecar reads the app's answer to a delivery (§3.3).

use reqwest::StatusCode;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer {
    Success,
    /// Retriable: RETRY, an unknown status, a non-2xx other than 404, or no answer at all.
    Retry(String),
    Drop,
    /// 404 is its own case because its meaning changed in 1.17 (§0); we emulate our daprd,
    /// 1.16, which acks it without a dead-letter copy.
    NotFound,
}

pub(crate) fn classify(status: StatusCode, body: &[u8]) -> Answer {
    if status == StatusCode::NOT_FOUND {
        return Answer::NotFound;
    }
    if !status.is_success() {
        return Answer::Retry(format!("the app answered HTTP {status}"));
    }
    match status_field(body).as_deref() {
        // No readable status: Dapr logs "skipping status check" and counts it as success.
        None | Some("" | "SUCCESS") => Answer::Success,
        Some("RETRY") => Answer::Retry("the app answered RETRY".into()),
        Some("DROP") => Answer::Drop,
        Some(other) => Answer::Retry(format!("the app answered the unknown status {other:?}")),
    }
}

/// The `status` string of a JSON object body, the way Go's `encoding/json` fills a struct from it:
/// keys match case-insensitively, and a non-string value is a decode error (so: no status).
fn status_field(body: &[u8]) -> Option<String> {
    let Ok(Value::Object(object)) = serde_json::from_slice(body) else {
        return None;
    };
    let value = object.get("status").or_else(|| {
        object.iter().find(|(key, _)| key.eq_ignore_ascii_case("status")).map(|(_, value)| value)
    })?;
    value.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &str) -> Answer {
        classify(StatusCode::OK, body.as_bytes())
    }

    #[test]
    fn empty_unknown_or_success_bodies_are_success() {
        for body in [
            "",
            "OK",
            "[]",
            "{}",
            r#"{"status":1}"#,
            r#"{"status":null}"#,
            r#"{"status":""}"#,
            r#"{"status":"SUCCESS"}"#,
            r#"{"Status":"SUCCESS"}"#,
        ] {
            assert_eq!(ok(body), Answer::Success, "{body:?}");
        }
        assert_eq!(classify(StatusCode::NO_CONTENT, b""), Answer::Success);
    }

    #[test]
    fn uppercase_retry_and_drop_are_honoured() {
        assert!(matches!(ok(r#"{"status":"RETRY"}"#), Answer::Retry(_)));
        assert_eq!(ok(r#"{"status":"DROP"}"#), Answer::Drop);
        assert_eq!(ok(r#"{"STATUS":"DROP"}"#), Answer::Drop);
    }

    #[test]
    fn lowercase_or_unknown_statuses_are_retried() {
        for body in [r#"{"status":"success"}"#, r#"{"status":"drop"}"#, r#"{"status":"DONE"}"#] {
            assert!(matches!(ok(body), Answer::Retry(_)), "{body}");
        }
    }

    #[test]
    fn not_found_is_its_own_answer_and_other_errors_retry() {
        assert_eq!(classify(StatusCode::NOT_FOUND, b"{}"), Answer::NotFound);
        for status in [
            StatusCode::BAD_REQUEST,
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::MOVED_PERMANENTLY,
            StatusCode::UNAUTHORIZED,
        ] {
            assert!(matches!(classify(status, br#"{"status":"SUCCESS"}"#), Answer::Retry(_)), "{status}");
        }
    }
}

//! Extractors whose rejections are our problem responses, so malformed input gets the same
//! shape as any other client error and names the field at fault.

use axum::{
    body::Bytes,
    extract::{
        FromRequest, FromRequestParts, OptionalFromRequest, Request, rejection::BytesRejection,
        rejection::PathRejection,
    },
    http::{header, request::Parts},
};
use serde::de::DeserializeOwned;

use crate::{domain::FieldError, error::AppError};

/// `axum::Json`, but: only `application/json` (or a `+json` type) is accepted, a body over the
/// limit is 413, and a body of the wrong shape is a validation error naming the JSON path.
pub struct AppJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for AppJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers().get(header::CONTENT_TYPE)) {
            return Err(AppError::UnsupportedMediaType {
                detail: "expected a JSON body with `Content-Type: application/json`".into(),
            });
        }
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        parse_json(&bytes).map(Self)
    }
}

/// `Option<AppJson<T>>`: an empty body (whatever its content type, as some clients label a
/// bodyless POST) is `None`; anything else must be JSON of the right shape.
impl<T: DeserializeOwned, S: Send + Sync> OptionalFromRequest<S> for AppJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        let json = is_json(req.headers().get(header::CONTENT_TYPE));
        let bytes = Bytes::from_request(req, state).await.map_err(body_error)?;
        if bytes.is_empty() {
            return Ok(None);
        }
        if !json {
            return Err(AppError::UnsupportedMediaType {
                detail: "expected a JSON body with `Content-Type: application/json`".into(),
            });
        }
        parse_json(&bytes).map(|t| Some(Self(t)))
    }
}

fn is_json(content_type: Option<&axum::http::HeaderValue>) -> bool {
    let Some(mime) = content_type.and_then(|v| v.to_str().ok()) else { return false };
    let essence = mime.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[expect(
    clippy::needless_pass_by_value,
    reason = "used as `map_err(body_error)`, which hands over the rejection"
)]
fn body_error(rejection: BytesRejection) -> AppError {
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge
    } else {
        AppError::bad_request("unreadable_body", rejection.body_text())
    }
}

/// Deserialises JSON, reporting a syntax error as `malformed_json` and a shape error as a
/// validation error at the JSON path where it happened.
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    refuse_nul_characters(bytes)?;
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            return AppError::bad_request("malformed_json", format!("the body is not valid JSON: {inner}"));
        }
        let path = e.path().to_string();
        let message = strip_position(&inner.to_string());
        // serde reports a missing key at the enclosing object; name the key itself.
        let named = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .map(|key| if path == "." { key.to_owned() } else { format!("{path}.{key}") });
        let field = named.unwrap_or_else(|| if path == "." { "body".to_owned() } else { path });
        AppError::Validation(vec![FieldError::new(field, message)])
    })
}

/// PostgreSQL text cannot hold NUL (`\u0000`), so a string containing one would fail in the
/// database as a 500; refuse it as invalid input instead. Found by fuzzing the API. The
/// precise check (parse and walk the strings) runs only when the escape appears at all.
fn refuse_nul_characters(bytes: &[u8]) -> Result<(), AppError> {
    fn has_nul(value: &serde_json::Value) -> bool {
        match value {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(items) => items.iter().any(has_nul),
            serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
            _ => false,
        }
    }
    if !bytes.windows(6).any(|w| w == b"\\u0000") {
        return Ok(());
    }
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(value) if has_nul(&value) => Err(AppError::Validation(vec![FieldError::new(
            "body",
            "strings must not contain NUL characters",
        )])),
        // Valid without NUL, or not JSON at all: the normal parse reports it.
        _ => Ok(()),
    }
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// `axum::extract::Path` with a problem response naming the parameter that did not parse.
pub struct AppPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for AppPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(path_error)
    }
}

fn path_error(rejection: PathRejection) -> AppError {
    use axum::extract::path::ErrorKind;
    match rejection {
        PathRejection::FailedToDeserializePathParams(e) => match e.into_kind() {
            ErrorKind::ParseErrorAtKey { key, expected_type, .. } => {
                let expected = if expected_type.contains("Uuid") { "a UUID" } else { expected_type };
                FieldError::new(key, format!("must be {expected}")).into()
            }
            ErrorKind::DeserializeError { key, message, .. } => {
                let message = if message.contains("UUID") { "must be a UUID".to_owned() } else { message };
                FieldError::new(key, message).into()
            }
            kind => AppError::bad_request("invalid_path", kind.to_string()),
        },
        other => AppError::bad_request("invalid_path", other.body_text()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(
        dead_code,
        reason = "the fields exist to be deserialised, and the tests only look at the errors"
    )]
    struct Body {
        title: String,
        nested: Option<Nested>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[expect(
        dead_code,
        reason = "the field exists to be deserialised, and the tests only look at the errors"
    )]
    struct Nested {
        count: u8,
    }

    fn fields(err: AppError) -> Vec<String> {
        match err {
            AppError::Validation(f) => f.into_iter().map(|f| f.field).collect(),
            other => vec![format!("not a validation error: {other:?}")],
        }
    }

    #[test]
    fn a_wrong_type_is_reported_at_its_path() {
        let err = parse_json::<Body>(br#"{"title":"x","nested":{"count":"many"}}"#).unwrap_err();
        assert_eq!(fields(err), ["nested.count"]);
    }

    #[test]
    fn missing_and_unknown_keys_name_the_key() {
        assert_eq!(fields(parse_json::<Body>(b"{}").unwrap_err()), ["title"]);
        assert_eq!(fields(parse_json::<Body>(br#"{"title":"x","colour":1}"#).unwrap_err()), ["colour"]);
    }

    #[test]
    fn broken_json_is_malformed_not_a_field_error() {
        let err = parse_json::<Body>(br#"{"title": "#).unwrap_err();
        assert!(matches!(err, AppError::BadRequest { code: "malformed_json", .. }));
    }

    #[test]
    fn deeply_nested_json_is_refused_without_overflowing_the_stack() {
        let deep = "[".repeat(100_000);
        assert!(parse_json::<serde_json::Value>(deep.as_bytes()).is_err());
    }
}

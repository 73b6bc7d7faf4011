//! Session tokens and the cookie that carries them, and the extractor that turns the cookie
//! back into a signed-in user.

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, HeaderValue, header, request::Parts},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{db, error::AppError, http::AppState};

pub const COOKIE_NAME: &str = "todo_session";

/// A fresh session secret: 256 random bits, sent to the browser once and stored only hashed.
pub struct SessionToken(String);

impl SessionToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    pub fn hash(&self) -> [u8; 32] {
        hash_token(&self.0)
    }

    /// `Set-Cookie` for this session: unreadable by scripts, withheld from cross-site
    /// sub-requests and form posts, HTTPS-only when configured.
    pub fn cookie(&self, max_age_secs: u64, secure: bool) -> HeaderValue {
        let secure = if secure { "; Secure" } else { "" };
        let value = format!(
            "{COOKIE_NAME}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}",
            self.0
        );
        HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}

pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// `Set-Cookie` that makes the browser forget the session.
pub fn clearing_cookie(secure: bool) -> HeaderValue {
    if secure {
        HeaderValue::from_static("todo_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure")
    } else {
        HeaderValue::from_static("todo_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
    }
}

/// The session token the request carries, if any.
pub fn token_from(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE_NAME && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

/// A signed-in user. Every rejection (no cookie, unknown or expired session) is the same 401.
/// Sessions found are kept in the replica's cache (`AppState::sessions`) for a few seconds:
/// signing out removes the entry here at once, other replicas drop theirs when it expires.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    pub user_id: Uuid,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(token) = token_from(&parts.headers) else {
            tracing::debug!("no session cookie");
            return Err(AppError::Unauthenticated);
        };
        let hash = hash_token(&token);
        let user_id = match state.sessions.get(&hash) {
            Some(user_id) => Some(user_id),
            None => {
                let found = db::sessions::find_user(&state.db, &hash).await?;
                if let Some((user_id, expires_at)) = found {
                    let left = (expires_at - chrono::Utc::now()).to_std().unwrap_or_default();
                    state.sessions.insert(hash, user_id, Some(left));
                }
                found.map(|(user_id, _)| user_id)
            }
        };
        match user_id {
            Some(user_id) => {
                tracing::Span::current().record("user_id", tracing::field::display(user_id));
                Ok(Self { user_id })
            }
            None => {
                tracing::debug!("unknown or expired session");
                Err(AppError::Unauthenticated)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_the_cookie_is_locked_down() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_ne!(a.0, b.0);
        assert_ne!(a.hash(), b.hash());
        let cookie = a.cookie(60, true);
        let cookie = cookie.to_str().unwrap();
        for part in ["todo_session=", "HttpOnly", "SameSite=Lax", "Max-Age=60", "Secure", "Path=/"] {
            assert!(cookie.contains(part), "{cookie} lacks {part}");
        }
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("theme=dark; todo_session=abc; x=y"));
        assert_eq!(token_from(&headers).as_deref(), Some("abc"));
        headers.insert(header::COOKIE, HeaderValue::from_static("todo_session="));
        assert_eq!(token_from(&headers), None);
    }
}

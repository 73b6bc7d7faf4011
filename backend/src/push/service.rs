//! Push subscriptions: parsing what the browser sent, registering it (one row per browser, at
//! most [`MAX_PER_USER`] per user), listing and removing them. The ai-agent sends.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::dto::{CreatePushSubscriptionRequest, PushConfigResponse, PushSubscriptionResponse};
use crate::{
    config::PushConfig,
    db::{self, push::PushSubscriptionRow},
    domain::{FieldError, name::Name},
    error::{AppError, Result},
};

/// Browsers one user may register; a further one replaces the oldest. Enough for every device
/// someone uses, and a bound on the pushes one reminder costs.
pub const MAX_PER_USER: i64 = 10;

/// A subscription as the sender needs it, every part checked.
#[derive(Debug)]
pub struct NewSubscription {
    endpoint: String,
    p256dh: [u8; 65],
    auth: [u8; 16],
    label: Option<Name>,
    expires_at: Option<DateTime<Utc>>,
}

impl NewSubscription {
    /// Every problem at once, each naming its field.
    pub fn parse(config: &PushConfig, body: CreatePushSubscriptionRequest) -> Result<Self> {
        let mut errors = Vec::new();
        let endpoint = match body.endpoint.as_deref() {
            None => Err(FieldError::new("endpoint", "is required")),
            Some(raw) => config
                .endpoints
                .check(raw)
                .map(|_| raw.to_owned())
                .map_err(|message| FieldError::new("endpoint", message)),
        };
        let (p256dh, auth) = match body.keys {
            None => (Err(FieldError::new("keys", "is required")), None),
            Some(keys) => (
                decode::<65>("keys.p256dh", keys.p256dh.as_deref(), "the 65-byte uncompressed P-256 point")
                    .and_then(|point| {
                        if point[0] == 4 {
                            Ok(point)
                        } else {
                            Err(FieldError::new(
                                "keys.p256dh",
                                "must be an uncompressed P-256 point (0x04 …)",
                            ))
                        }
                    }),
                Some(decode::<16>("keys.auth", keys.auth.as_deref(), "16 bytes")),
            ),
        };
        let label = body.label.as_deref().map(|raw| Name::parse("label", raw)).transpose();
        let expires_at = match body.expiration_time {
            None => Ok(None),
            Some(ms) => DateTime::from_timestamp_millis(ms)
                .map(Some)
                .ok_or_else(|| FieldError::new("expirationTime", "must be milliseconds since the epoch")),
        };
        let endpoint = endpoint.map_err(|e| errors.push(e));
        let p256dh = p256dh.map_err(|e| errors.push(e));
        let auth = auth.map(|auth| auth.map_err(|e| errors.push(e)));
        let label = label.map_err(|e| errors.push(e));
        let expires_at = expires_at.map_err(|e| errors.push(e));
        match (endpoint, p256dh, auth, label, expires_at) {
            (Ok(endpoint), Ok(p256dh), Some(Ok(auth)), Ok(label), Ok(expires_at)) if errors.is_empty() => {
                Ok(Self { endpoint, p256dh, auth, label, expires_at })
            }
            _ => Err(AppError::Validation(errors)),
        }
    }
}

/// Base64url (padding tolerated: browsers differ) of exactly `N` bytes.
fn decode<const N: usize>(field: &str, raw: Option<&str>, what: &str) -> Result<[u8; N], FieldError> {
    let raw = raw.ok_or_else(|| FieldError::new(field, "is required"))?;
    URL_SAFE_NO_PAD
        .decode(raw.trim_end_matches('='))
        .ok()
        .and_then(|bytes| <[u8; N]>::try_from(bytes).ok())
        .ok_or_else(|| FieldError::new(field, format!("must be base64url of {what}")))
}

fn response(row: PushSubscriptionRow) -> PushSubscriptionResponse {
    PushSubscriptionResponse {
        id: row.push_subscription_id,
        endpoint: row.endpoint,
        label: row.label,
        created_at: row.created_at,
    }
}

pub fn config(config: &PushConfig) -> PushConfigResponse {
    PushConfigResponse {
        enabled: config.vapid_public_key.is_some(),
        public_key: config.vapid_public_key.clone(),
    }
}

/// Registers the browser for `user_id`: the same endpoint again replaces its row (and moves it
/// to this user if another had it, dropping what was queued for the other); beyond
/// [`MAX_PER_USER`] the user's oldest go.
pub async fn register(
    tx: &mut PgConnection,
    user_id: Uuid,
    new: NewSubscription,
) -> Result<PushSubscriptionResponse> {
    db::push::remove_others_endpoint(&mut *tx, user_id, &new.endpoint).await?;
    let row = db::push::upsert(
        &mut *tx,
        &db::push::NewRow {
            id: Uuid::now_v7(),
            user_id,
            endpoint: &new.endpoint,
            p256dh: &new.p256dh,
            auth: &new.auth,
            label: new.label.as_ref().map(Name::as_str),
            expires_at: new.expires_at,
        },
    )
    .await?;
    db::push::keep_newest(&mut *tx, user_id, MAX_PER_USER).await?;
    Ok(response(row))
}

pub async fn list(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<Vec<PushSubscriptionResponse>> {
    Ok(db::push::list(db, user_id).await?.into_iter().map(response).collect())
}

/// Another user's subscription is [`AppError::NotFound`], as a missing one is.
pub async fn remove(db: impl PgExecutor<'_>, user_id: Uuid, id: Uuid) -> Result<()> {
    if db::push::delete(db, user_id, id).await? { Ok(()) } else { Err(AppError::NotFound) }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::{
        config::{Cli, Command},
        push::dto::PushSubscriptionKeys,
    };

    fn config() -> PushConfig {
        match Cli::parse_from(["backend", "serve", "--database-url", "postgres://x/y"]).command {
            Command::Serve(config) => config.push,
            _ => unreachable!("the serve subcommand was given"),
        }
    }

    fn request(
        endpoint: &str,
        p256dh: &[u8],
        auth: &[u8],
        label: Option<&str>,
    ) -> CreatePushSubscriptionRequest {
        CreatePushSubscriptionRequest {
            endpoint: Some(endpoint.into()),
            expiration_time: None,
            keys: Some(PushSubscriptionKeys {
                p256dh: Some(URL_SAFE_NO_PAD.encode(p256dh)),
                auth: Some(URL_SAFE_NO_PAD.encode(auth)),
            }),
            label: label.map(Into::into),
        }
    }

    fn fields(result: Result<NewSubscription>) -> Vec<String> {
        match result {
            Err(AppError::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let body = request("https://example.com/push", &[4; 3], &[0; 15], Some(" "));
        assert_eq!(
            fields(NewSubscription::parse(&config(), body)),
            ["endpoint", "keys.p256dh", "keys.auth", "label"]
        );
    }

    #[test]
    fn a_compressed_point_is_not_a_browser_key() {
        let mut point = [7u8; 65];
        point[0] = 2;
        let body = request("https://fcm.googleapis.com/fcm/send/x", &point, &[1; 16], None);
        assert_eq!(fields(NewSubscription::parse(&config(), body)), ["keys.p256dh"]);
    }

    #[test]
    fn a_browser_subscription_parses_with_its_keys() {
        let mut point = [7u8; 65];
        point[0] = 4;
        let body = request("https://fcm.googleapis.com/fcm/send/x", &point, &[1; 16], Some(" Laptop "));
        let parsed = NewSubscription::parse(&config(), body).unwrap();
        assert_eq!((parsed.p256dh, parsed.auth), (point, [1; 16]));
        assert_eq!(parsed.label.unwrap().as_str(), "Laptop");
    }
}

//! The JSON shapes of the Web Push API.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PushConfigResponse {
    /// Whether this server sends Web Push notifications at all.
    pub enabled: bool,
    /// The VAPID application server key to subscribe with (`applicationServerKey`): base64url
    /// without padding, a 65-byte uncompressed P-256 point. `null` when push is off.
    pub public_key: Option<String>,
}

/// The browser's `PushSubscription.toJSON()`, plus an optional label. Unknown fields are
/// ignored rather than refused: the object is the browser's, and it may grow.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatePushSubscriptionRequest {
    /// The push service's URL for this browser: absolute https, at most 2048 characters, at a
    /// push service this server knows (`PUSH_ENDPOINT_HOSTS`). Required.
    #[schema(example = "https://fcm.googleapis.com/fcm/send/cXx0:APA91b")]
    pub endpoint: Option<String>,
    /// When the push service ends the subscription (milliseconds since the epoch), if it says.
    pub expiration_time: Option<i64>,
    /// Required.
    pub keys: Option<PushSubscriptionKeys>,
    /// What the user calls this browser, e.g. "Chromium on Linux": 1–100 characters, one line.
    #[schema(example = "Chromium on Linux")]
    pub label: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PushSubscriptionKeys {
    /// The browser's P-256 public key: base64url of the 65-byte uncompressed point. Required.
    pub p256dh: Option<String>,
    /// The browser's authentication secret: base64url of 16 bytes. Required.
    pub auth: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PushSubscriptionResponse {
    pub id: Uuid,
    pub endpoint: String,
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PushSubscriptionList {
    /// Oldest first.
    pub items: Vec<PushSubscriptionResponse>,
}

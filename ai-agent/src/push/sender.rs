//! The push sender: claims due deliveries, encrypts each for its browser, sends it to the
//! browser's push service with VAPID, and records what the service answered.
//!
//! One pass ([`send_once`]) claims a batch with `for update skip locked` and commits only after
//! the pushes went out, so concurrent senders (replicas) never send the same row, and a crash
//! mid-pass sends the batch again: at-least-once, which the `Topic` header (a retried push
//! replaces the one still queued at the push service) and the payload's `tag` (the browser
//! replaces a shown notification with the same tag) absorb.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, TimeDelta, Utc};
use reqwest::{StatusCode, header};
use secrecy::ExposeSecret;
use serde_json::json;
use sqlx::PgPool;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::crypto::{self, VapidKey};
use crate::{
    config::PushConfig,
    db::{self, push::DueDelivery},
    error::Result,
};

/// Largest payload before encryption: RFC 8030 services must accept 4096 bytes of encrypted
/// body; 3 KiB of JSON leaves room for the header, padding and tag with any service.
pub const MAX_PAYLOAD_BYTES: usize = 3 * 1024;
/// Longest wait between two tries.
const MAX_RETRY_WAIT: Duration = Duration::from_hours(1);
/// VAPID tokens are signed for this long (RFC 8292 allows at most 24 h).
const TOKEN_LIFETIME: TimeDelta = TimeDelta::hours(12);

/// Everything a pass needs: the HTTP client, the VAPID key and the policies.
#[derive(Debug)]
pub struct Sender {
    client: reqwest::Client,
    vapid: VapidKey,
    subject: String,
    endpoints: platform::push::PushEndpointConfig,
    batch_size: i64,
    max_attempts: i32,
    retry_base: Duration,
    pub poll_interval: Duration,
}

impl Sender {
    /// The sender `config` describes, or `None` when push is off (no `VAPID_PRIVATE_KEY`). A key
    /// that does not parse, or one without a usable subject, is an error: a deployment that
    /// meant to push fails at start rather than silently not pushing.
    pub fn from_config(config: &PushConfig) -> anyhow::Result<Option<Self>> {
        let Some(private) = &config.vapid_private_key else { return Ok(None) };
        let vapid = VapidKey::from_base64(private.expose_secret()).context("VAPID_PRIVATE_KEY")?;
        let subject = config.vapid_subject.clone().unwrap_or_default();
        anyhow::ensure!(
            subject.starts_with("mailto:") || subject.starts_with("https:"),
            "VAPID_SUBJECT must be a mailto: or https: URL saying who runs this server \
             (push services contact it about problems); it is required with VAPID_PRIVATE_KEY"
        );
        // No redirects: a push service answers, it does not send the push elsewhere, and
        // following one would let it point the sender at any host.
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.push_timeout_secs))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("cannot build the push HTTP client")?;
        Ok(Some(Self {
            client,
            vapid,
            subject,
            endpoints: config.endpoints.clone(),
            batch_size: i64::from(config.push_batch_size.max(1)),
            max_attempts: i32::try_from(config.push_max_attempts.max(1)).unwrap_or(i32::MAX),
            retry_base: Duration::from_secs(config.push_retry_base_secs),
            poll_interval: Duration::from_millis(config.push_poll_interval_ms),
        }))
    }

    pub fn public_key(&self) -> &str {
        self.vapid.public_key()
    }
}

/// What one pass did, by outcome (the `outcome` label of `agent_push_deliveries_total`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SendReport {
    /// 201/202: the push service took it.
    pub delivered: usize,
    /// 404/410: the subscription is gone, and was removed.
    pub expired: usize,
    /// Another 4xx (400, 413, …), or a payload that cannot be encrypted: dropped.
    pub rejected: usize,
    /// 429, 5xx or a network error: tried again later.
    pub retried: usize,
    /// Failed temporarily `PUSH_MAX_ATTEMPTS` times: dropped.
    pub gave_up: usize,
    /// The suggestion was already acted on, or the endpoint is no longer allowed: not sent.
    pub skipped: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    /// Nothing was due.
    Idle,
    Sent(SendReport),
}

/// What became of one push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Delivered,
    Expired,
    Rejected,
    Retry(Option<Duration>),
    Skipped,
}

impl Answer {
    fn of(status: StatusCode, retry_after: Option<Duration>) -> Self {
        match status.as_u16() {
            200..=299 => Self::Delivered,
            404 | 410 => Self::Expired,
            429 | 500..=599 => Self::Retry(retry_after),
            _ => Self::Rejected,
        }
    }
}

/// Sends up to a batch of due pushes (`now` decides which are due) and records each answer.
#[tracing::instrument(name = "push_pass", skip_all)]
pub async fn send_once(pool: &PgPool, sender: &Sender, now: DateTime<Utc>) -> Result<SendOutcome> {
    let mut tx = pool.begin().await?;
    let due = db::push::claim_due(&mut tx, now, sender.batch_size).await?;
    if due.is_empty() {
        return Ok(SendOutcome::Idle);
    }
    // Concurrently: a slow push service must not hold up the rest of the batch.
    let mut sends = JoinSet::new();
    for (index, delivery) in due.iter().enumerate() {
        let request = prepare(sender, delivery);
        let client = sender.client.clone();
        sends.spawn(async move { (index, send(&client, request).await) });
    }
    let mut answers = vec![Answer::Retry(None); due.len()];
    while let Some(joined) = sends.join_next().await {
        let (index, answer) = joined.map_err(anyhow::Error::from)?;
        answers[index] = answer;
    }

    let mut report = SendReport::default();
    for (delivery, answer) in due.iter().zip(answers) {
        let outcome = match answer {
            Answer::Delivered => {
                db::push::remove(&mut *tx, delivery.push_delivery_id).await?;
                report.delivered += 1;
                "delivered"
            }
            Answer::Expired => {
                tracing::info!(push_subscription.id = %delivery.push_subscription_id, "the push service says the subscription is gone; removed");
                db::push::remove_subscription(&mut *tx, delivery.push_subscription_id).await?;
                report.expired += 1;
                "expired"
            }
            Answer::Rejected => {
                db::push::remove(&mut *tx, delivery.push_delivery_id).await?;
                report.rejected += 1;
                "rejected"
            }
            Answer::Skipped => {
                db::push::remove(&mut *tx, delivery.push_delivery_id).await?;
                report.skipped += 1;
                "skipped"
            }
            Answer::Retry(_) if delivery.attempts + 1 >= sender.max_attempts => {
                tracing::warn!(push_delivery.id = %delivery.push_delivery_id, attempts = delivery.attempts + 1, "a push kept failing; dropped");
                db::push::remove(&mut *tx, delivery.push_delivery_id).await?;
                report.gave_up += 1;
                "gave_up"
            }
            Answer::Retry(retry_after) => {
                let wait = backoff(sender.retry_base, delivery.attempts).max(retry_after.unwrap_or_default());
                let next = now + TimeDelta::from_std(wait).unwrap_or(TimeDelta::hours(1));
                db::push::postpone(&mut *tx, delivery.push_delivery_id, next).await?;
                report.retried += 1;
                "retried"
            }
        };
        metrics::counter!("agent_push_deliveries_total", "outcome" => outcome).increment(1);
    }
    tx.commit().await?;
    Ok(SendOutcome::Sent(report))
}

/// `base` doubled for each earlier failure, at most an hour.
fn backoff(base: Duration, attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts).unwrap_or(0).min(16);
    base.saturating_mul(1 << doublings).min(MAX_RETRY_WAIT)
}

/// A push ready to go, or the answer it gets without being sent.
enum Prepared {
    Request(Box<reqwest::Request>),
    Answered(Answer),
}

fn prepare(sender: &Sender, delivery: &DueDelivery) -> Prepared {
    if delivery.status != "open" {
        return Prepared::Answered(Answer::Skipped);
    }
    // Checked again: the allow-list may have shrunk since the browser registered.
    let url = match sender.endpoints.check(&delivery.endpoint) {
        Ok(url) => url,
        Err(why) => {
            tracing::warn!(push_subscription.id = %delivery.push_subscription_id, why, "push endpoint not allowed; not sent");
            return Prepared::Answered(Answer::Skipped);
        }
    };
    let body = match crypto::encrypt(&delivery.p256dh, &delivery.auth, &payload(delivery)) {
        Ok(body) => body,
        Err(e) => {
            tracing::warn!(push_delivery.id = %delivery.push_delivery_id, error.message = %e, "cannot encrypt a push; dropped");
            return Prepared::Answered(Answer::Rejected);
        }
    };
    let audience = url.origin().ascii_serialization();
    let expires = (Utc::now() + TOKEN_LIFETIME).timestamp();
    let authorization = match sender.vapid.authorization(&audience, &sender.subject, expires) {
        Ok(value) => value,
        Err(e) => {
            tracing::warn!(error.message = %e, "cannot sign a VAPID token; will retry");
            return Prepared::Answered(Answer::Retry(None));
        }
    };
    let (ttl, urgency) = match delivery.kind.as_str() {
        // A reminder is about a time: hours late it is noise, and it should wake the device.
        "reminder" => (TimeDelta::hours(4), "high"),
        _ => (TimeDelta::hours(12), "normal"),
    };
    let request = sender
        .client
        .post(url)
        .header(header::AUTHORIZATION, authorization)
        .header(header::CONTENT_ENCODING, "aes128gcm")
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header("TTL", ttl.num_seconds())
        .header("Urgency", urgency)
        // 32 characters of the base64url alphabet, as RFC 8030 §5.4 asks.
        .header("Topic", delivery.suggestion_id.simple().to_string())
        .body(body)
        .build();
    match request {
        Ok(request) => Prepared::Request(Box::new(request)),
        Err(e) => {
            tracing::warn!(error.message = %e, "cannot build a push request; dropped");
            Prepared::Answered(Answer::Rejected)
        }
    }
}

async fn send(client: &reqwest::Client, prepared: Prepared) -> Answer {
    let request = match prepared {
        Prepared::Request(request) => request,
        Prepared::Answered(answer) => return answer,
    };
    match client.execute(*request).await {
        Ok(response) => {
            let status = response.status();
            let answer = Answer::of(status, retry_after(response.headers()));
            if answer == Answer::Rejected {
                let detail = response.text().await.unwrap_or_default();
                tracing::warn!(%status, detail = %detail.chars().take(300).collect::<String>(), "the push service refused a push; dropped");
            }
            answer
        }
        Err(e) => {
            tracing::warn!(error.message = %e, "cannot reach a push service; will retry");
            Answer::Retry(None)
        }
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &header::HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    (at.with_timezone(&Utc) - Utc::now()).to_std().ok()
}

/// The notification as the service worker reads it. The body is shortened when the whole
/// would pass [`MAX_PAYLOAD_BYTES`].
fn payload(delivery: &DueDelivery) -> Vec<u8> {
    let id = delivery.suggestion_id;
    let encode = |body: &str| {
        json!({
            "title": delivery.title,
            "body": body,
            "tag": id,
            "url": format!("/?suggestion={id}"),
            "kind": delivery.kind,
        })
        .to_string()
        .into_bytes()
    };
    // Each character takes at most 6 bytes in JSON (`\u00XX`), so dropping a sixth of the
    // excess in characters never cuts more than needed; a few rounds at most.
    let chars: Vec<char> = delivery.message.chars().collect();
    let mut keep = chars.len();
    loop {
        let body: String = if keep == chars.len() {
            delivery.message.clone()
        } else {
            chars[..keep].iter().chain(std::iter::once(&'…')).collect()
        };
        let encoded = encode(&body);
        if encoded.len() <= MAX_PAYLOAD_BYTES || keep == 0 {
            return encoded;
        }
        keep -= ((encoded.len() - MAX_PAYLOAD_BYTES) / 6).clamp(1, keep);
    }
}

/// Sends until `shutdown`: a pass, then a pass again at once while the batch was full, else a
/// pause of the poll interval. A failed pass is logged and retried after the pause.
pub async fn run(pool: PgPool, sender: Sender, shutdown: CancellationToken) -> anyhow::Result<()> {
    tracing::info!(public_key = sender.public_key(), "sending Web Push notifications");
    loop {
        let outcome = tokio::select! {
            () = shutdown.cancelled() => break,
            outcome = send_once(&pool, &sender, Utc::now()) => outcome,
        };
        let busy = match outcome {
            Ok(SendOutcome::Sent(report)) => {
                tracing::debug!(?report, "push pass");
                true
            }
            Ok(SendOutcome::Idle) => false,
            Err(e) => {
                tracing::warn!(error.message = %e, error.cause_chain = ?e, "a push pass failed");
                false
            }
        };
        if !busy {
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(sender.poll_interval) => {}
            }
        }
    }
    tracing::info!("push sender stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    fn delivery(message: &str) -> DueDelivery {
        DueDelivery {
            push_delivery_id: Uuid::nil(),
            attempts: 0,
            suggestion_id: Uuid::max(),
            kind: "reminder".into(),
            title: "Reminder: Call Anna".into(),
            message: message.into(),
            status: "open".into(),
            push_subscription_id: Uuid::nil(),
            endpoint: String::new(),
            p256dh: Vec::new(),
            auth: Vec::new(),
        }
    }

    #[test]
    fn the_payload_names_the_suggestion_for_the_service_worker() {
        let value: serde_json::Value = serde_json::from_slice(&payload(&delivery("Due at 9:00."))).unwrap();
        let id = Uuid::max();
        assert_eq!(
            value,
            json!({"title": "Reminder: Call Anna", "body": "Due at 9:00.", "tag": id, "url": format!("/?suggestion={id}"), "kind": "reminder"})
        );
    }

    #[test]
    fn a_long_body_is_shortened_to_fit_the_payload_limit() {
        let bytes = payload(&delivery(&"é".repeat(4000)));
        assert!(bytes.len() <= MAX_PAYLOAD_BYTES, "{}", bytes.len());
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert!(value["body"].as_str().unwrap().ends_with('…'));
    }

    #[test]
    fn answers_follow_the_push_service_status() {
        assert_eq!(Answer::of(StatusCode::CREATED, None), Answer::Delivered);
        assert_eq!(Answer::of(StatusCode::GONE, None), Answer::Expired);
        assert_eq!(Answer::of(StatusCode::NOT_FOUND, None), Answer::Expired);
        assert_eq!(Answer::of(StatusCode::PAYLOAD_TOO_LARGE, None), Answer::Rejected);
        assert_eq!(Answer::of(StatusCode::BAD_REQUEST, None), Answer::Rejected);
        let wait = Some(Duration::from_secs(7));
        assert_eq!(Answer::of(StatusCode::TOO_MANY_REQUESTS, wait), Answer::Retry(wait));
        assert_eq!(Answer::of(StatusCode::BAD_GATEWAY, None), Answer::Retry(None));
    }

    #[test]
    fn waits_double_up_to_an_hour() {
        let base = Duration::from_secs(30);
        assert_eq!(backoff(base, 0), base);
        assert_eq!(backoff(base, 3), Duration::from_mins(4));
        assert_eq!(backoff(base, 30), MAX_RETRY_WAIT);
    }
}

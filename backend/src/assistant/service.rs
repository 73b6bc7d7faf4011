//! The feedback a user's answers gave the assistants, per kind of advice, and resetting it.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use super::dto::KindFeedback;
use crate::{
    db::{self, assistant::FeedbackRow},
    domain::advice_kind::AdviceKind,
    error::Result,
};

/// Every kind of advice, with zeros for kinds the user never answered. A pause that ended is
/// shown as none: the trigger leaves the instant in place until the next answer.
pub async fn feedback(db: &PgPool, user_id: Uuid, now: DateTime<Utc>) -> Result<Vec<KindFeedback>> {
    let rows = db::assistant::feedback(db, user_id).await?;
    Ok(AdviceKind::ALL
        .into_iter()
        .map(|kind| match rows.iter().find(|row| row.kind == kind.as_str()) {
            Some(row) => response(row, now),
            None => untouched(kind),
        })
        .collect())
}

/// Lifts the pause of `kind` and starts its count of dismissals in a row again.
pub async fn reset(db: &PgPool, user_id: Uuid, kind: AdviceKind, now: DateTime<Utc>) -> Result<KindFeedback> {
    Ok(db::assistant::reset(db, user_id, kind.as_str())
        .await?
        .map_or_else(|| untouched(kind), |row| response(&row, now)))
}

fn response(row: &FeedbackRow, now: DateTime<Utc>) -> KindFeedback {
    KindFeedback {
        kind: row.kind.clone(),
        dismissed_in_a_row: row.dismissed_in_a_row,
        paused_until: row.paused_until.filter(|until| *until > now),
        accepted: row.accepted,
        dismissed: row.dismissed,
    }
}

fn untouched(kind: AdviceKind) -> KindFeedback {
    KindFeedback {
        kind: kind.as_str().to_owned(),
        dismissed_in_a_row: 0,
        paused_until: None,
        accepted: 0,
        dismissed: 0,
    }
}

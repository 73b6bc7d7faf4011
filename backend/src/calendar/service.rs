//! The calendar feed's token and the calendar it serves.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use sqlx::PgPool;
use uuid::Uuid;

use super::{
    dto::CalendarFeedResponse,
    feed::{self, FeedTask, Series},
};
use crate::{
    cache::TtlCache,
    db::{
        self,
        calendar::{FeedRow, FeedTaskRow},
    },
    domain::recurrence::{Basis, Recurrence},
    error::{AppError, Result},
    preferences::Preferences,
};

/// The feed's file name ends in this, for calendar apps that look at it.
const SUFFIX: &str = ".ics";

/// A feed address's secret: 256 bits from the operating system's CSPRNG, URL-safe base64.
/// Only [`FeedToken::generate`] and [`FeedToken::from_file_name`] make one, so a lookup never
/// sends the database a string that could not be a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedToken(String);

impl FeedToken {
    fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The token of a feed file name (`<token>.ics`), if it has the shape of one.
    #[must_use]
    pub fn from_file_name(file: &str) -> Option<Self> {
        let token = file.strip_suffix(SUFFIX)?;
        let well_formed = URL_SAFE_NO_PAD.decode(token).is_ok_and(|bytes| bytes.len() == 32);
        well_formed.then(|| Self(token.to_owned()))
    }

    fn as_str(&self) -> &str {
        &self.0
    }
}

/// The path calendar apps subscribe to.
fn path(token: &str) -> String {
    format!("/api/v1/calendar/{token}{SUFFIX}")
}

fn response(row: Option<FeedRow>) -> CalendarFeedResponse {
    match row {
        Some(row) => CalendarFeedResponse {
            enabled: true,
            url: Some(path(&row.token)),
            created_at: Some(row.created_at),
        },
        None => CalendarFeedResponse { enabled: false, url: None, created_at: None },
    }
}

pub async fn status(db: &PgPool, user_id: Uuid) -> Result<CalendarFeedResponse> {
    Ok(response(db::calendar::find(db, user_id).await?))
}

/// Turns the feed on with a new address; an address it had stops working.
pub async fn reset(db: &PgPool, user_id: Uuid) -> Result<CalendarFeedResponse> {
    let token = FeedToken::generate();
    Ok(response(Some(db::calendar::replace(db, user_id, token.as_str()).await?)))
}

pub async fn turn_off(db: &PgPool, user_id: Uuid) -> Result<()> {
    db::calendar::delete(db, user_id).await?;
    Ok(())
}

/// The calendar behind a feed address, read afresh on every fetch, so it follows every change
/// to the tasks. An unknown address is [`AppError::NotFound`], like one that never existed.
pub async fn calendar(
    db: &PgPool,
    preferences: &TtlCache<Uuid, Preferences>,
    token: &FeedToken,
) -> Result<String> {
    let user_id = db::calendar::owner(db, token.as_str()).await?.ok_or(AppError::NotFound)?;
    let prefs = Preferences::load(db, preferences, user_id).await?;
    let rows = db::calendar::open_dated_tasks(db, user_id).await?;
    let tasks = rows.into_iter().map(feed_task).collect::<anyhow::Result<Vec<_>>>()?;
    Ok(feed::render(&tasks, prefs.time_zone))
}

/// Stored fields were valid when written; a failure here is a bug or a manual edit.
fn feed_task(row: FeedTaskRow) -> anyhow::Result<FeedTask> {
    let series = match (&row.recurrence_rule, &row.recurrence_basis) {
        (Some(rule), Some(basis)) => {
            let basis: Basis = basis.parse().map_err(|e: String| anyhow::anyhow!(e))?;
            Some(Series {
                rule: Recurrence::from_rrule(rule, basis).map_err(|e| anyhow::anyhow!(e))?,
                start: row.series_start_at.unwrap_or(row.due_at),
                number: u32::try_from(row.occurrence_number)?,
            })
        }
        _ => None,
    };
    Ok(FeedTask {
        id: row.task_id,
        title: row.title,
        description: row.description,
        priority: row.priority.parse()?,
        tags: row.tags,
        due_at: row.due_at,
        series,
        updated_at: row.updated_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_random_bits_in_url_safe_base64() {
        let (a, b) = (FeedToken::generate(), FeedToken::generate());
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 43);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_eq!(FeedToken::from_file_name(&format!("{}.ics", a.as_str())), Some(a));
    }

    #[test]
    fn only_the_shape_of_a_token_with_its_suffix_is_looked_up() {
        let token = FeedToken::generate();
        assert_eq!(FeedToken::from_file_name(token.as_str()), None, "no suffix");
        assert_eq!(FeedToken::from_file_name("feed.ics"), None);
        assert_eq!(FeedToken::from_file_name(&format!("{}x.ics", token.as_str())), None);
        assert_eq!(FeedToken::from_file_name(&format!("{}=.ics", &token.as_str()[..42])), None);
    }
}

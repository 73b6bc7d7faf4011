//! The JSON shapes of the calendar feed's settings.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// The user's calendar feed: on with its address, or off.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CalendarFeedResponse {
    pub enabled: bool,
    /// The feed's secret address as an absolute path
    /// (`/api/v1/calendar/<token>.ics`); the web app prefixes its own origin. Null when off.
    #[schema(example = "/api/v1/calendar/q3Jb0y3T0m0Jk2n5uXH8e9wB4s7dZp1aLf6cVr2KgQ8.ics")]
    pub url: Option<String>,
    /// When this address was made (turning the feed on, or the last reset). Null when off.
    pub created_at: Option<DateTime<Utc>>,
}

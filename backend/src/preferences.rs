//! A user's preferences: whether the assistants may act, the default reminder offset, and the
//! time zone that gives dates their meaning.

use axum::extract::State;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::AuthUser,
    cache::TtlCache,
    db::{self, preferences::PreferencesRow},
    domain::{FieldError, task::Reminders, time_zone::parse_time_zone},
    error::{AppError, Problem, Result},
    http::{AppJson, AppState},
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_preferences, update_preferences))
}

#[derive(Debug, Clone)]
pub struct Preferences {
    pub agents_enabled: bool,
    pub reminder_offset_minutes: u32,
    pub time_zone: Tz,
    /// Where new tasks go unless they name a project.
    pub inbox_id: Uuid,
}

impl Preferences {
    /// The user's preferences, from `cache` when it has them (see [`TtlCache`] for how stale
    /// another replica's change can be).
    pub async fn load(db: &sqlx::PgPool, cache: &TtlCache<Uuid, Self>, user_id: Uuid) -> Result<Self> {
        if let Some(prefs) = cache.get(&user_id) {
            return Ok(prefs);
        }
        let prefs: Self = db::preferences::get(db, user_id).await?.try_into()?;
        cache.insert(user_id, prefs.clone(), None);
        Ok(prefs)
    }
}

impl TryFrom<PreferencesRow> for Preferences {
    type Error = AppError;

    fn try_from(row: PreferencesRow) -> Result<Self> {
        Ok(Self {
            agents_enabled: row.autonomous_agents_enabled,
            reminder_offset_minutes: u32::try_from(row.reminder_offset_minutes)
                .map_err(|e| anyhow::anyhow!("stored reminder offset is negative: {e}"))?,
            time_zone: parse_time_zone("timeZone", &row.time_zone)
                .map_err(|e| anyhow::anyhow!("stored time zone is invalid: {}", e.message))?,
            inbox_id: row.inbox_id,
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreferencesResponse {
    /// Whether the assistants may create suggestions for this user.
    autonomous_agents_enabled: bool,
    /// Minutes before the due time that a task without reminders reminds.
    reminder_offset_minutes: u32,
    /// IANA time zone name.
    #[schema(example = "Europe/Berlin")]
    time_zone: String,
}

impl From<Preferences> for PreferencesResponse {
    fn from(p: Preferences) -> Self {
        Self {
            autonomous_agents_enabled: p.agents_enabled,
            reminder_offset_minutes: p.reminder_offset_minutes,
            time_zone: p.time_zone.name().to_owned(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdatePreferencesRequest {
    autonomous_agents_enabled: Option<bool>,
    #[schema(minimum = 0, maximum = 40320)]
    reminder_offset_minutes: Option<i64>,
    time_zone: Option<String>,
}

/// The signed-in user's preferences.
#[utoipa::path(get, path = "/user/preferences", tag = "preferences",
    responses(
        (status = 200, body = PreferencesResponse),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
async fn get_preferences(
    State(state): State<AppState>,
    auth: AuthUser,
) -> Result<axum::Json<PreferencesResponse>> {
    Ok(axum::Json(Preferences::load(&state.db, &state.preferences, auth.user_id).await?.into()))
}

/// Change some preferences; absent fields stay as they are.
#[utoipa::path(patch, path = "/user/preferences", tag = "preferences", request_body = UpdatePreferencesRequest,
    responses(
        (status = 200, body = PreferencesResponse),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    ))]
async fn update_preferences(
    State(state): State<AppState>,
    auth: AuthUser,
    AppJson(body): AppJson<UpdatePreferencesRequest>,
) -> Result<axum::Json<PreferencesResponse>> {
    let mut errors = Vec::new();
    let offset = body.reminder_offset_minutes.and_then(|m| {
        let max = i64::from(Reminders::MAX_OFFSET_MINUTES);
        if (0..=max).contains(&m) {
            i32::try_from(m).ok()
        } else {
            errors.push(FieldError::new("reminderOffsetMinutes", format!("must be between 0 and {max}")));
            None
        }
    });
    let time_zone = body
        .time_zone
        .as_deref()
        .and_then(|z| parse_time_zone("timeZone", z).map_err(|e| errors.push(e)).ok());
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let row = db::preferences::update(
        &state.db,
        auth.user_id,
        body.autonomous_agents_enabled,
        offset,
        time_zone.map(Tz::name),
    )
    .await?;
    let prefs = Preferences::try_from(row)?;
    state.preferences.insert(auth.user_id, prefs.clone(), None);
    Ok(axum::Json(prefs.into()))
}

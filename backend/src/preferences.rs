//! A user's preferences: whether the assistants may act, the default reminder offset, the
//! time zone that gives dates their meaning, and the working days and hours the assistants
//! plan within.

use axum::extract::State;
use chrono::NaiveTime;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use crate::{
    auth::AuthUser,
    cache::TtlCache,
    db::{
        self,
        preferences::{PreferencesRow, PreferencesUpdate, WORK_HOURS_CHECK},
    },
    domain::{
        FieldError,
        recurrence::Weekday,
        task::Reminders,
        time_zone::parse_time_zone,
        working_hours::{PlanSize, WorkDays, format_clock, parse_clock},
    },
    error::{AppError, Problem, Result, ResultExt},
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
    pub work_days: WorkDays,
    pub work_start: NaiveTime,
    pub work_end: NaiveTime,
    pub daily_plan_size: PlanSize,
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
            work_days: WorkDays::from_bits(row.work_days)
                .ok_or_else(|| anyhow::anyhow!("stored working days {} are invalid", row.work_days))?,
            work_start: row.work_start,
            work_end: row.work_end,
            daily_plan_size: PlanSize::parse(row.daily_plan_size.into())
                .map_err(|e| anyhow::anyhow!("stored daily plan size is invalid: {}", e.message))?,
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
    /// The days the user works, Monday first; the assistants plan on these days only.
    work_days: Vec<Weekday>,
    /// When the working day starts and ends, `HH:MM` in `timeZone`.
    #[schema(example = "09:00")]
    work_start: String,
    #[schema(example = "17:00")]
    work_end: String,
    /// How many tasks the daily plan proposes at most; 0 turns the plan off.
    daily_plan_size: u8,
}

impl From<Preferences> for PreferencesResponse {
    fn from(p: Preferences) -> Self {
        Self {
            autonomous_agents_enabled: p.agents_enabled,
            reminder_offset_minutes: p.reminder_offset_minutes,
            time_zone: p.time_zone.name().to_owned(),
            work_days: p.work_days.days(),
            work_start: format_clock(p.work_start),
            work_end: format_clock(p.work_end),
            daily_plan_size: p.daily_plan_size.get(),
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
    /// The working days, in any order; `[]` means none.
    work_days: Option<Vec<Weekday>>,
    /// `HH:MM`, before `workEnd`.
    #[schema(example = "08:30", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    work_start: Option<String>,
    /// `HH:MM`, after `workStart`.
    #[schema(example = "16:30", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    work_end: Option<String>,
    #[schema(minimum = 0, maximum = 20)]
    daily_plan_size: Option<i64>,
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
    let work_start =
        body.work_start.as_deref().and_then(|t| parse_clock("workStart", t).map_err(|e| errors.push(e)).ok());
    let work_end =
        body.work_end.as_deref().and_then(|t| parse_clock("workEnd", t).map_err(|e| errors.push(e)).ok());
    if let (Some(start), Some(end)) = (work_start, work_end)
        && start >= end
    {
        errors.push(FieldError::new("workEnd", "must be after workStart"));
    }
    let plan_size = body.daily_plan_size.and_then(|n| PlanSize::parse(n).map_err(|e| errors.push(e)).ok());
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let change = PreferencesUpdate {
        autonomous_agents_enabled: body.autonomous_agents_enabled,
        reminder_offset_minutes: offset,
        time_zone: time_zone.map(Tz::name),
        work_days: body.work_days.as_deref().map(|days| WorkDays::from_days(days).bits()),
        work_start,
        work_end,
        daily_plan_size: plan_size.map(|n| n.get().into()),
    };
    // One end alone can still cross the stored other end; the table's check is the judge.
    let row = db::preferences::update(&state.db, auth.user_id, &change).await.on_constraint(
        WORK_HOURS_CHECK,
        || {
            let field = if work_end.is_some() { "workEnd" } else { "workStart" };
            FieldError::new(field, "the working day must end after it starts").into()
        },
    )?;
    let prefs = Preferences::try_from(row)?;
    state.preferences.insert(auth.user_id, prefs.clone(), None);
    Ok(axum::Json(prefs.into()))
}

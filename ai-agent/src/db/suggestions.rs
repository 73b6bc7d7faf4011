//! Writing suggestions: the per-user gate (assistants enabled, hourly limit), de-duplication by
//! the database, dismissal and expiry.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    db::locks,
    suggestion::{Inserted, Kind, NewSuggestion},
};

/// The SQL spelling of the de-duplication keys of `suggestion::dedupe`, over a `task t` row.
/// Macros rather than constants so the queries stay `&'static str` via `concat!`.
macro_rules! overdue_key_sql {
    () => {
        "'overdue:' || t.task_id || ':' || to_char(t.due_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    };
}
macro_rules! priority_key_sql {
    () => {
        "'priority:' || t.task_id || ':' || to_char(t.due_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
    };
}
macro_rules! stale_key_sql {
    () => {
        "'stale:' || t.task_id || ':' || to_char(t.updated_at at time zone 'UTC', 'YYYY-MM-DD')"
    };
}
pub(crate) use {overdue_key_sql, priority_key_sql, stale_key_sql};

#[derive(sqlx::FromRow)]
struct Gate {
    enabled: bool,
    recent: i64,
    suggestion_id: Option<Uuid>,
}

/// Inserts `suggestion` unless the user turned the assistants off, already got `per_hour`
/// suggestions in the hour before `now`, or has the same advice already (its dedupe key).
///
/// The user's suggestion lock is taken first, so the count and the insert are one atomic step
/// per user however many deliveries and cron passes race. The whole decision is one statement:
/// the gate and the insert cannot disagree about what they saw. The task is locked against
/// deletion in the same statement: one deleted since the handler read it gets no suggestion
/// (answered as a duplicate: nothing new) instead of a foreign-key error and a redelivery.
#[tracing::instrument(skip_all, fields(user.id = %suggestion.user_id, kind = suggestion.kind.as_str()))]
pub async fn insert(
    conn: &mut PgConnection,
    suggestion: &NewSuggestion,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    per_hour: i64,
) -> sqlx::Result<Inserted> {
    locks::lock_user_suggestions(conn, suggestion.user_id).await?;
    let gate: Gate = sqlx::query_as(
        "with gate as (
             select coalesce((select autonomous_agents_enabled from user_preference where user_id = $2), true)
                        as enabled,
                    (select count(*) from suggestion
                     where user_id = $2 and created_at > $11 - interval '1 hour') as recent
         ), inserted as (
             insert into suggestion (suggestion_id, user_id, task_id, kind, title, message, proposed_change,
                                     source_event, correlation_id, dedupe_key, expires_at, created_at, updated_at)
             select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $12, $11, $11
             from gate where gate.enabled and gate.recent < $13
               and ($3::uuid is null or exists (select 1 from task where task_id = $3 for key share))
             on conflict (user_id, dedupe_key) do nothing
             returning suggestion_id
         )
         select gate.enabled, gate.recent, (select suggestion_id from inserted) as suggestion_id from gate",
    )
    .bind(Uuid::now_v7())
    .bind(suggestion.user_id)
    .bind(suggestion.task_id)
    .bind(suggestion.kind.as_str())
    .bind(&suggestion.title)
    .bind(&suggestion.message)
    .bind(&suggestion.proposed_change)
    .bind(&suggestion.source_event)
    .bind(&suggestion.correlation_id)
    .bind(&suggestion.dedupe_key)
    .bind(now)
    .bind(expires_at)
    .bind(per_hour)
    .fetch_one(conn)
    .await?;
    Ok(match gate {
        Gate { suggestion_id: Some(id), .. } => Inserted::Created(id),
        Gate { enabled: false, .. } => Inserted::Disabled,
        Gate { recent, .. } if recent >= per_hour => Inserted::RateLimited,
        Gate { .. } => Inserted::Duplicate,
    })
}

/// [`insert`] for many suggestions at once, with the same outcome for each as if they were
/// inserted one by one in slice order: the gate of a user's later suggestion counts the ones
/// created before it in the batch. Three statements whatever the batch's size.
///
/// The users' suggestion locks are taken first, in user order (the rule for every multi-user
/// transaction, so two of them never wait for each other in a cycle), in a statement of their
/// own so the decision after them sees everything their previous holders committed.
#[tracing::instrument(skip_all, fields(suggestions = suggestions.len()))]
pub async fn insert_many(
    conn: &mut PgConnection,
    suggestions: &[NewSuggestion],
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    per_hour: i64,
) -> sqlx::Result<Vec<Inserted>> {
    if suggestions.is_empty() {
        return Ok(Vec::new());
    }
    let mut users: Vec<Uuid> = suggestions.iter().map(|s| s.user_id).collect();
    users.sort_unstable();
    users.dedup();
    locks::lock_many_user_suggestions(conn, &users).await?;

    let ids: Vec<Uuid> = suggestions.iter().map(|_| Uuid::now_v7()).collect();
    let user_ids: Vec<Uuid> = suggestions.iter().map(|s| s.user_id).collect();
    let task_ids: Vec<Option<Uuid>> = suggestions.iter().map(|s| s.task_id).collect();
    let kinds: Vec<&str> = suggestions.iter().map(|s| s.kind.as_str()).collect();
    let titles: Vec<&str> = suggestions.iter().map(|s| s.title.as_str()).collect();
    let messages: Vec<&str> = suggestions.iter().map(|s| s.message.as_str()).collect();
    let changes: Vec<Option<&serde_json::Value>> =
        suggestions.iter().map(|s| s.proposed_change.as_ref()).collect();
    let source_events: Vec<Option<&str>> = suggestions.iter().map(|s| s.source_event.as_deref()).collect();
    let correlation_ids: Vec<Option<&str>> =
        suggestions.iter().map(|s| s.correlation_id.as_deref()).collect();
    let keys: Vec<&str> = suggestions.iter().map(|s| s.dedupe_key.as_str()).collect();
    // Per user, in slice order (`n`): a suggestion whose advice exists (in the table, or earlier
    // in the batch) is a duplicate and takes no slot; the others take the hour's free slots in
    // turn. Whoever finds the user at the limit is rate limited, duplicate or not, as in `insert`.
    let outcomes: Vec<(Uuid, String)> = sqlx::query_as(
        "with input as (
             select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[],
                                  $7::jsonb[], $8::text[], $9::text[], $10::text[])
                 with ordinality as i(suggestion_id, user_id, task_id, kind, title, message, proposed_change,
                                      source_event, correlation_id, dedupe_key, n)
         ), gate as (
             select u.user_id,
                    coalesce((select autonomous_agents_enabled from user_preference p where p.user_id = u.user_id),
                             true) as enabled,
                    (select count(*) from suggestion s
                     where s.user_id = u.user_id and s.created_at > $11 - interval '1 hour') as recent
             from (select distinct user_id from input) u
         ), duplicates as (
             select i.*, g.enabled, g.recent,
                    exists (select 1 from suggestion s where s.user_id = i.user_id and s.dedupe_key = i.dedupe_key)
                    or row_number() over (partition by i.user_id, i.dedupe_key order by i.n) > 1 as duplicate
             from input i join gate g on g.user_id = i.user_id
         ), ranked as (
             select d.*,
                    d.recent + count(*) filter (where not d.duplicate)
                        over (partition by d.user_id order by d.n rows unbounded preceding) as taken
             from duplicates d
         ), decided as (
             select r.*,
                    case when not r.enabled then 'disabled'
                         when r.duplicate and r.taken >= $13 then 'rate_limited'
                         when r.duplicate then 'duplicate'
                         when r.taken > $13 then 'rate_limited'
                         else 'created' end as outcome
             from ranked r
         ), inserted as (
             insert into suggestion (suggestion_id, user_id, task_id, kind, title, message, proposed_change,
                                     source_event, correlation_id, dedupe_key, expires_at, created_at, updated_at)
             select suggestion_id, user_id, task_id, kind, title, message, proposed_change,
                    source_event, correlation_id, dedupe_key, $12, $11, $11
             from decided where outcome = 'created'
             order by n
             on conflict (user_id, dedupe_key) do nothing
             returning suggestion_id
         )
         select d.suggestion_id,
                case when d.outcome = 'created' and i.suggestion_id is null then 'duplicate' else d.outcome end
         from decided d left join inserted i on i.suggestion_id = d.suggestion_id
         order by d.n",
    )
    .bind(&ids)
    .bind(&user_ids)
    .bind(&task_ids)
    .bind(&kinds)
    .bind(&titles)
    .bind(&messages)
    .bind(&changes)
    .bind(&source_events)
    .bind(&correlation_ids)
    .bind(&keys)
    .bind(now)
    .bind(expires_at)
    .bind(per_hour)
    .fetch_all(conn)
    .await?;
    Ok(outcomes
        .into_iter()
        .map(|(id, outcome)| match outcome.as_str() {
            "created" => Inserted::Created(id),
            "disabled" => Inserted::Disabled,
            "rate_limited" => Inserted::RateLimited,
            _ => Inserted::Duplicate,
        })
        .collect())
}

/// Whether `user_id` already has a suggestion with `dedupe_key`, whatever its status. Served by
/// the `suggestion_dedupe_key` unique index.
pub async fn exists(conn: &mut PgConnection, user_id: Uuid, dedupe_key: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("select exists (select 1 from suggestion where user_id = $1 and dedupe_key = $2)")
        .bind(user_id)
        .bind(dedupe_key)
        .fetch_one(conn)
        .await
}

/// Dismisses the task's open suggestions of `kinds`, except the one whose key is `keep` (the
/// advice that is still right after a reschedule). Served by `suggestion_task_open_idx`.
pub async fn dismiss_open_for_task(
    conn: &mut PgConnection,
    task_id: Uuid,
    kinds: &[Kind],
    keep: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let result = sqlx::query(
        "update suggestion set status = 'dismissed', resolved_at = $4
         where task_id = $1 and status = 'open' and kind = any($2) and ($3::text is null or dedupe_key <> $3)",
    )
    .bind(task_id)
    .bind(&kinds)
    .bind(keep)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(result.rows_affected())
}

/// Marks up to `limit` open suggestions whose time ran out as expired. Served by
/// `suggestion_open_expiry_idx`; `skip locked` leaves rows a delivery is dismissing right now
/// to the next pass instead of waiting for it.
pub async fn expire_open(conn: &mut PgConnection, now: DateTime<Utc>, limit: i64) -> sqlx::Result<u64> {
    let result = sqlx::query(
        "update suggestion set status = 'expired', resolved_at = $1
         where suggestion_id in (
             select suggestion_id from suggestion
             where status = 'open' and expires_at <= $1
             order by expires_at
             limit $2
             for update skip locked)",
    )
    .bind(now)
    .bind(limit)
    .execute(conn)
    .await?;
    Ok(result.rows_affected())
}

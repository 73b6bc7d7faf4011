//! Writing suggestions: the per-user gate (assistants enabled, kind not paused by the user's
//! dismissals, hourly limit), de-duplication by the database, dismissal and expiry.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    db::locks,
    suggestion::{Inserted, Kind, NewItem, NewSuggestion},
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
        "'priority:' || t.task_id || ':' || to_char(t.due_at at time zone 'UTC', 'YYYY-MM-DD') || ':' || t.priority::text"
    };
}
/// The week's overload key prefix of `t.user_id`, for the ISO week text bound at `$week`.
macro_rules! overload_prefix_sql {
    ($week:literal) => {
        concat!("'overload:' || t.user_id || ':' || ", $week, " || ':'")
    };
}
/// The count in the overload key `s.dedupe_key`; a key of the days before counts (which had
/// none) reads as the largest count, so a week warned under the old keys stays warned.
macro_rules! overload_count_sql {
    () => {
        "coalesce(nullif(split_part(s.dedupe_key, ':', 4), '')::bigint, 9223372036854775807)"
    };
}
macro_rules! stale_key_sql {
    () => {
        "'stale:' || t.task_id || ':' || to_char(t.updated_at at time zone 'UTC', 'YYYY-MM-DD')"
    };
}
pub(crate) use {overdue_key_sql, overload_count_sql, overload_prefix_sql, priority_key_sql, stale_key_sql};

#[derive(sqlx::FromRow)]
struct Gate {
    enabled: bool,
    paused: bool,
    recent: i64,
    suggestion_id: Option<Uuid>,
}

/// Whether the user's dismissals paused `kind` at `now` (`suggestion_feedback`, kept by a
/// trigger on the user's answers); over `$user` and `$kind` text columns and the `$now` instant.
/// Reminders are never paused: the trigger keeps no row for them.
macro_rules! kind_paused_sql {
    ($user:literal, $kind:literal, $now:literal) => {
        concat!(
            "coalesce((select f.paused_until > ",
            $now,
            " from suggestion_feedback f where f.user_id = ",
            $user,
            " and f.kind = ",
            $kind,
            "), false)"
        )
    };
}
pub(crate) use kind_paused_sql;

/// Inserts `suggestion` unless the user turned the assistants off, paused its kind by
/// dismissing it repeatedly, already got `per_hour` suggestions in the hour before `now`, or
/// has the same advice already (its dedupe key). The outcomes rank in that order.
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
    let gate: Gate = sqlx::query_as(concat!(
        "with gate as (
             select coalesce((select autonomous_agents_enabled from user_preference where user_id = $2), true)
                        as enabled,
                    ",
        kind_paused_sql!("$2", "$4", "$11"),
        " as paused,
                    (select count(*) from suggestion
                     where user_id = $2 and created_at > $11 - interval '1 hour') as recent
         ), inserted as (
             insert into suggestion (suggestion_id, user_id, task_id, kind, title, message, proposed_change,
                                     source_event, correlation_id, dedupe_key, expires_at, created_at, updated_at,
                                     reason)
             select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $12, $11, $11, $14
             from gate where gate.enabled and not gate.paused and gate.recent < $13
               and ($3::uuid is null or exists (select 1 from task where task_id = $3 for key share))
             on conflict (user_id, dedupe_key) do nothing
             returning suggestion_id
         )
         select gate.enabled, gate.paused, gate.recent, (select suggestion_id from inserted) as suggestion_id
         from gate"
    ))
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
    .bind(&suggestion.reason)
    .fetch_one(conn)
    .await?;
    Ok(match gate {
        Gate { suggestion_id: Some(id), .. } => Inserted::Created(id),
        Gate { enabled: false, .. } => Inserted::Disabled,
        Gate { paused: true, .. } => Inserted::BackedOff,
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
    let reasons: Vec<&str> = suggestions.iter().map(|s| s.reason.as_str()).collect();
    let changes: Vec<Option<&serde_json::Value>> =
        suggestions.iter().map(|s| s.proposed_change.as_ref()).collect();
    let source_events: Vec<Option<&str>> = suggestions.iter().map(|s| s.source_event.as_deref()).collect();
    let correlation_ids: Vec<Option<&str>> =
        suggestions.iter().map(|s| s.correlation_id.as_deref()).collect();
    let keys: Vec<&str> = suggestions.iter().map(|s| s.dedupe_key.as_str()).collect();
    // Per user, in slice order (`n`): a suggestion of a kind the user paused is backed off, and
    // one whose advice exists (in the table, or earlier in the batch) is a duplicate; neither
    // takes a slot. The others take the hour's free slots in turn. Whoever finds the user at the
    // limit is rate limited, duplicate or not, as in `insert`.
    let outcomes: Vec<(Uuid, String)> = sqlx::query_as(concat!(
        "with input as (
             select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[],
                                  $7::jsonb[], $8::text[], $9::text[], $10::text[], $14::text[])
                 with ordinality as i(suggestion_id, user_id, task_id, kind, title, message, proposed_change,
                                      source_event, correlation_id, dedupe_key, reason, n)
         ), gate as (
             select u.user_id,
                    coalesce((select autonomous_agents_enabled from user_preference p where p.user_id = u.user_id),
                             true) as enabled,
                    (select count(*) from suggestion s
                     where s.user_id = u.user_id and s.created_at > $11 - interval '1 hour') as recent
             from (select distinct user_id from input) u
         ), duplicates as (
             select i.*, g.enabled, g.recent,
                    ",
        kind_paused_sql!("i.user_id", "i.kind", "$11"),
        " as paused,
                    exists (select 1 from suggestion s where s.user_id = i.user_id and s.dedupe_key = i.dedupe_key)
                    or row_number() over (partition by i.user_id, i.dedupe_key order by i.n) > 1 as duplicate
             from input i join gate g on g.user_id = i.user_id
         ), ranked as (
             select d.*,
                    d.recent + count(*) filter (where not d.duplicate and not d.paused)
                        over (partition by d.user_id order by d.n rows unbounded preceding) as taken
             from duplicates d
         ), decided as (
             select r.*,
                    case when not r.enabled then 'disabled'
                         when r.paused then 'backed_off'
                         when r.duplicate and r.taken >= $13 then 'rate_limited'
                         when r.duplicate then 'duplicate'
                         when r.taken > $13 then 'rate_limited'
                         else 'created' end as outcome
             from ranked r
         ), inserted as (
             insert into suggestion (suggestion_id, user_id, task_id, kind, title, message, proposed_change,
                                     source_event, correlation_id, dedupe_key, expires_at, created_at, updated_at,
                                     reason)
             select suggestion_id, user_id, task_id, kind, title, message, proposed_change,
                    source_event, correlation_id, dedupe_key, $12, $11, $11, reason
             from decided where outcome = 'created'
             order by n
             on conflict (user_id, dedupe_key) do nothing
             returning suggestion_id
         )
         select d.suggestion_id,
                case when d.outcome = 'created' and i.suggestion_id is null then 'duplicate' else d.outcome end
         from decided d left join inserted i on i.suggestion_id = d.suggestion_id
         order by d.n"
    ))
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
    .bind(&reasons)
    .fetch_all(conn)
    .await?;
    Ok(outcomes
        .into_iter()
        .map(|(id, outcome)| match outcome.as_str() {
            "created" => Inserted::Created(id),
            "disabled" => Inserted::Disabled,
            "rate_limited" => Inserted::RateLimited,
            "backed_off" => Inserted::BackedOff,
            _ => Inserted::Duplicate,
        })
        .collect())
}

/// The count of the user's last overload advice of the week that began at `week_start` (any
/// status), `None` if there is none. Served by `suggestion_user_created_idx`: every key of the
/// week was written since its start.
pub async fn last_overload_count(
    conn: &mut PgConnection,
    user_id: Uuid,
    week_start: DateTime<Utc>,
    prefix: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(concat!(
        "select max(",
        overload_count_sql!(),
        ") from suggestion s
         where s.user_id = $1 and s.created_at >= $2 and starts_with(s.dedupe_key, $3)"
    ))
    .bind(user_id)
    .bind(week_start)
    .bind(prefix)
    .fetch_one(conn)
    .await
}

/// Withdraws the task's open suggestions of `kinds`, except the one whose key is `keep` (the
/// advice that is still right after a reschedule). Served by `suggestion_task_open_idx`.
/// Marked resolved by the assistant: advice that became moot is not the user's dismissal and
/// does not count towards pausing its kind.
pub async fn dismiss_open_for_task(
    conn: &mut PgConnection,
    task_id: Uuid,
    kinds: &[Kind],
    keep: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let result = sqlx::query(
        "update suggestion set status = 'dismissed', resolved_by = 'assistant', resolved_at = $4
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

/// Withdraws the user's open suggestions of `kind` (advice about the whole list) except the one
/// whose key is `keep`, marked resolved by the assistant like [`dismiss_open_for_task`]'s.
/// Served by `suggestion_user_open_idx`.
pub async fn withdraw_open_of_user(
    conn: &mut PgConnection,
    user_id: Uuid,
    kind: Kind,
    keep: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let result = sqlx::query(
        "update suggestion set status = 'dismissed', resolved_by = 'assistant', resolved_at = $4
         where user_id = $1 and status = 'open' and kind = $2 and dedupe_key <> $3",
    )
    .bind(user_id)
    .bind(kind.as_str())
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
        "update suggestion set status = 'expired', resolved_by = 'assistant', resolved_at = $1
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

/// Writes the items of suggestions just created, `(suggestion_id, user_id, item)` each, in one
/// statement, and returns the `(suggestion_id, task_id)` of those written. Call it in the
/// transaction that created the suggestions, so it holds their users' suggestion locks.
///
/// An item is left out when its task is gone, when the same task and due time is an item of
/// another proposal already (its key, `on conflict`), or when a single proposal has its key:
/// an event delivery may have proposed the task alone between the caller's scan and its locks.
#[tracing::instrument(skip_all, fields(items = items.len()))]
pub async fn insert_items(
    conn: &mut PgConnection,
    items: &[(Uuid, Uuid, &NewItem)],
) -> sqlx::Result<Vec<(Uuid, Uuid)>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let suggestion_ids: Vec<Uuid> = items.iter().map(|(s, _, _)| *s).collect();
    let user_ids: Vec<Uuid> = items.iter().map(|(_, u, _)| *u).collect();
    let task_ids: Vec<Uuid> = items.iter().map(|(_, _, i)| i.task_id).collect();
    let ordinals: Vec<i16> = items.iter().map(|(_, _, i)| i.ordinal).collect();
    let changes: Vec<&serde_json::Value> = items.iter().map(|(_, _, i)| &i.proposed_change).collect();
    let reasons: Vec<&str> = items.iter().map(|(_, _, i)| i.reason.as_str()).collect();
    let keys: Vec<Option<&str>> = items.iter().map(|(_, _, i)| i.dedupe_key.as_deref()).collect();
    sqlx::query_as(
        "insert into suggestion_item (suggestion_id, task_id, ordinal, proposed_change, reason, dedupe_key)
         select i.suggestion_id, i.task_id, i.ordinal, i.proposed_change, i.reason, i.dedupe_key
         from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::smallint[], $5::jsonb[], $6::text[], $7::text[])
              as i(suggestion_id, user_id, task_id, ordinal, proposed_change, reason, dedupe_key)
         where exists (select 1 from task t where t.task_id = i.task_id for key share)
           and (i.dedupe_key is null
                or not exists (select 1 from suggestion s where s.user_id = i.user_id and s.dedupe_key = i.dedupe_key))
         on conflict (task_id, dedupe_key) do nothing
         returning suggestion_id, task_id",
    )
    .bind(&suggestion_ids)
    .bind(&user_ids)
    .bind(&task_ids)
    .bind(&ordinals)
    .bind(&changes)
    .bind(&reasons)
    .bind(&keys)
    .fetch_all(conn)
    .await
}

/// Whether the task's overdue `dedupe_key` is an item of some proposal. The event path asks
/// under the user's suggestion lock, before proposing the task alone. Served by
/// `suggestion_item_dedupe_key`.
pub async fn item_exists(conn: &mut PgConnection, task_id: Uuid, dedupe_key: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("select exists (select 1 from suggestion_item where task_id = $1 and dedupe_key = $2)")
        .bind(task_id)
        .bind(dedupe_key)
        .fetch_one(conn)
        .await
}

/// Sets each suggestion's expiry: a daily plan ends with its user's working day.
pub async fn set_expiry(conn: &mut PgConnection, expiries: &[(Uuid, DateTime<Utc>)]) -> sqlx::Result<()> {
    let ids: Vec<Uuid> = expiries.iter().map(|(id, _)| *id).collect();
    let at: Vec<DateTime<Utc>> = expiries.iter().map(|(_, at)| *at).collect();
    sqlx::query(
        "update suggestion s set expires_at = e.expires_at
         from unnest($1::uuid[], $2::timestamptz[]) as e(suggestion_id, expires_at)
         where s.suggestion_id = e.suggestion_id",
    )
    .bind(&ids)
    .bind(&at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Skips the task's open items, except those whose key is `keep` (the proposal still right
/// after a reschedule), and resolves every suggestion this leaves without an open item:
/// `accepted` if the user accepted any of its items, `dismissed` otherwise. One statement; the
/// resolution cannot see the skip's own writes, so it counts the other tasks' open items
/// (a suggestion has one item per task). Returns the items skipped. Served by
/// `suggestion_item_task_idx` and the items' primary key.
pub async fn skip_open_items(
    conn: &mut PgConnection,
    task_id: Uuid,
    keep: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let skipped: i64 = sqlx::query_scalar(
        "with skipped as (
             update suggestion_item set status = 'skipped', resolved_at = $3
             where task_id = $1 and status = 'open' and ($2::text is null or dedupe_key is distinct from $2)
             returning suggestion_id
         ), resolved as (
             update suggestion s
             set status = case when exists (select 1 from suggestion_item i
                                             where i.suggestion_id = s.suggestion_id and i.status = 'accepted')
                               then 'accepted' else 'dismissed' end,
                 resolved_at = $3
             where s.suggestion_id in (select suggestion_id from skipped) and s.status = 'open'
               and not exists (select 1 from suggestion_item i
                               where i.suggestion_id = s.suggestion_id and i.status = 'open' and i.task_id <> $1)
         )
         select count(*) from skipped",
    )
    .bind(task_id)
    .bind(keep)
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok(u64::try_from(skipped).unwrap_or(0))
}

/// Resolves the user's open suggestions that have items but no open one left, as
/// [`skip_open_items`] does: after a task's deletion took its items with it (by cascade), so
/// they cannot be found through the task. Served by `suggestion_user_open_idx`.
pub async fn resolve_emptied(
    conn: &mut PgConnection,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let result = sqlx::query(
        "update suggestion s
         set status = case when exists (select 1 from suggestion_item i
                                         where i.suggestion_id = s.suggestion_id and i.status = 'accepted')
                           then 'accepted' else 'dismissed' end,
             resolved_at = $2
         where s.user_id = $1 and s.status = 'open' and s.task_id is null
           and s.kind in ('schedule_adjustment', 'daily_plan')
           and not exists (select 1 from suggestion_item i where i.suggestion_id = s.suggestion_id and i.status = 'open')",
    )
    .bind(user_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(result.rows_affected())
}

//! The daily plan's reads: the users whose working day has started and who have no plan for
//! their local date yet, and the open tasks a plan picks from.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// A user due for a plan, with their calendar and the local date the plan is for.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlanUser {
    pub user_id: Uuid,
    pub time_zone: String,
    pub work_days: i16,
    pub work_start: NaiveTime,
    pub work_end: NaiveTime,
    pub daily_plan_size: i16,
    pub local_date: NaiveDate,
}

/// Users, after `after` in id order, with the assistants on and a plan size, whose local time
/// at `now` is within working hours on a working day, who have no plan (open or answered) for
/// that local date and have an open top-level task. The hourly limit on suggestions does not
/// hold a plan back: there is one a day, asked for by its size, and it is due when the day
/// starts, not an hour later because other advice came first.
///
/// Walks `user_preference` by its primary key (every account has a row, created with it); the
/// probes use `suggestion_dedupe_key` and `task_user_open_due_idx`. The zone arithmetic is PostgreSQL's; a zone its tz database
/// does not know (one newer than the server's) reads as no working time rather than failing
/// the whole pass, and the agent re-checks every user with its own zone rules.
pub async fn due_users(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
    after: Option<Uuid>,
) -> sqlx::Result<Vec<PlanUser>> {
    sqlx::query_as(
        "with u as (
             select p.user_id, p.time_zone, p.work_days, p.work_start, p.work_end, p.daily_plan_size,
                    case when p.time_zone in (select name from pg_timezone_names)
                         then $1::timestamptz at time zone p.time_zone end as local_now
             from user_preference p
             where p.autonomous_agents_enabled and p.daily_plan_size > 0 and p.work_days <> 0
               and ($3::uuid is null or p.user_id > $3)
         )
         select u.user_id, u.time_zone, u.work_days, u.work_start, u.work_end, u.daily_plan_size,
                u.local_now::date as local_date
         from u
         where u.local_now is not null
           and u.work_days::int & (1 << (extract(isodow from u.local_now)::int - 1)) <> 0
           and u.local_now::time >= u.work_start and u.local_now::time < u.work_end
           and not exists (select 1 from suggestion s
                           where s.user_id = u.user_id and s.dedupe_key = 'plan:' || to_char(u.local_now, 'YYYY-MM-DD'))
           and exists (select 1 from task t
                       where t.user_id = u.user_id and t.completed_at is null and t.parent_id is null)
         order by u.user_id
         limit $2",
    )
    .bind(now)
    .bind(limit)
    .bind(after)
    .fetch_all(conn)
    .await
}

/// An open top-level task a plan may pick.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlanCandidate {
    pub user_id: Uuid,
    pub task_id: Uuid,
    pub title: String,
    /// The enum's text.
    pub priority: String,
    pub due_at: Option<DateTime<Utc>>,
    pub estimate_minutes: Option<i32>,
    pub created_at: DateTime<Utc>,
}

/// Up to `per_user` open top-level tasks of each of `users`, best first: overdue or due before
/// the user's `today_ends` (the end of their local day), then higher priority, sooner due,
/// longer waiting. One statement for the batch; each user's part is served by
/// `task_user_open_due_idx` (their open tasks) and sorted.
pub async fn candidates(
    conn: &mut PgConnection,
    users: &[Uuid],
    today_ends: &[DateTime<Utc>],
    per_user: i64,
) -> sqlx::Result<Vec<PlanCandidate>> {
    sqlx::query_as(
        "select c.*
         from unnest($1::uuid[], $2::timestamptz[]) as u(user_id, today_end)
         cross join lateral (
             select t.user_id, t.task_id, t.title, t.priority::text as priority, t.due_at, t.estimate_minutes,
                    t.created_at
             from task t
             where t.user_id = u.user_id and t.completed_at is null and t.parent_id is null
             order by coalesce(t.due_at < u.today_end, false) desc, t.priority desc, t.due_at nulls last,
                      t.created_at, t.task_id
             limit $3
         ) c",
    )
    .bind(users)
    .bind(today_ends)
    .bind(per_user)
    .fetch_all(conn)
    .await
}

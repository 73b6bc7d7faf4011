//! Reading tasks: the current row behind an event, and the cron passes' scans.
//!
//! An event says what changed, but by the time it arrives the task may have changed again;
//! the agents therefore decide on the row as it is now, which is the truth.
//!
//! Every scan skips what cannot produce a suggestion (users with the assistants off or at their
//! hourly limit, tasks whose advice exists), so a full batch is always work and a pass makes
//! progress however many stale candidates there are.

use chrono::{DateTime, NaiveTime, Utc};
use events::Priority;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db::suggestions::{
    kind_paused_sql, overdue_key_sql, overload_count_sql, overload_prefix_sql, priority_key_sql,
    stale_key_sql,
};

/// A task as the agents see it, with its owner's time zone for the messages.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskRow {
    pub task_id: Uuid,
    pub user_id: Uuid,
    pub title: String,
    /// The enum's text; see [`TaskRow::priority`].
    #[sqlx(rename = "priority")]
    pub priority_text: String,
    pub due_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub project_id: Uuid,
    pub estimate_minutes: Option<i32>,
    pub time_zone: String,
    pub work_days: i16,
    pub work_start: NaiveTime,
    pub work_end: NaiveTime,
}

impl TaskRow {
    /// `None` only if the database grew a priority this build does not know; such a task is
    /// left alone rather than advised about.
    pub fn priority(&self) -> Option<Priority> {
        self.priority_text.parse().ok()
    }

    pub fn is_open(&self) -> bool {
        self.completed_at.is_none()
    }
}

/// Columns of [`TaskRow`] over `task t left join user_preference p`.
macro_rules! task_columns {
    () => {
        "t.task_id, t.user_id, t.title, t.priority::text as priority, t.due_at, t.completed_at, t.updated_at,
         t.project_id, t.estimate_minutes, coalesce(p.time_zone, 'UTC') as time_zone,
         coalesce(p.work_days, 31::smallint) as work_days, coalesce(p.work_start, '09:00'::time) as work_start,
         coalesce(p.work_end, '17:00'::time) as work_end
         from task t left join user_preference p on p.user_id = t.user_id"
    };
}

pub(crate) use task_columns;

/// The gate of `db::suggestions::insert` for advice of `$kind`, as a scan filter: `$1` is now,
/// `$2` the hourly limit.
macro_rules! user_can_receive {
    ($kind:literal) => {
        concat!(
            "coalesce(p.autonomous_agents_enabled, true) and not ",
            kind_paused_sql!("t.user_id", $kind, "$1"),
            " and (select count(*) from suggestion s
              where s.user_id = t.user_id and s.created_at > $1 - interval '1 hour') < $2"
        )
    };
}

/// The task's current row, or `None` if it was deleted.
pub async fn find(conn: &mut PgConnection, task_id: Uuid) -> sqlx::Result<Option<TaskRow>> {
    sqlx::query_as(concat!("select ", task_columns!(), " where t.task_id = $1"))
        .bind(task_id)
        .fetch_optional(conn)
        .await
}

/// A delivered event's task as it is now, read at most once however many handlers ask: they
/// share the delivery's transaction, and none of them changes the task.
#[derive(Debug, Default)]
pub struct CurrentTask(tokio::sync::OnceCell<Option<TaskRow>>);

impl CurrentTask {
    /// Keeps the row the delivery's first statement read with the event id's record (a row
    /// already kept stays).
    pub fn fill(&self, row: Option<TaskRow>) {
        let _ = self.0.set(row);
    }

    /// The row of `task_id` (the event's task), or `None` if it was deleted.
    pub async fn get(&self, conn: &mut PgConnection, task_id: Uuid) -> sqlx::Result<Option<&TaskRow>> {
        Ok(self.0.get_or_try_init(|| find(conn, task_id)).await?.as_ref())
    }
}

/// A place in a due-date scan: candidates after it come later in `(due_at, task_id)` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanPoint {
    pub due_at: DateTime<Utc>,
    pub task_id: Uuid,
}

/// Open tasks past due without a proposal for their current due time (alone, or as an item of
/// a grouped one: `suggestion_item_dedupe_key`), oldest first
/// (ties by id), after `after` when given. Served by `task_open_due_idx` (`due_at < now` over
/// open, dated tasks); `after` starts the index range at its due time, so a drain's later
/// passes do not walk again over the tasks its earlier passes flagged.
pub async fn overdue_candidates(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    per_hour: i64,
    limit: i64,
    after: Option<ScanPoint>,
) -> sqlx::Result<Vec<TaskRow>> {
    sqlx::query_as(concat!(
        "select ",
        task_columns!(),
        " where t.completed_at is null and t.due_at is not null and t.due_at < $1
           and ($4::timestamptz is null or (t.due_at >= $4 and (t.due_at, t.task_id) > ($4, $5)))
           and not exists (select 1 from suggestion s where s.user_id = t.user_id and s.dedupe_key = ",
        overdue_key_sql!(),
        ") and not exists (select 1 from suggestion_item i where i.task_id = t.task_id and i.dedupe_key = ",
        overdue_key_sql!(),
        ") and ",
        user_can_receive!("'schedule_adjustment'"),
        " order by t.due_at, t.task_id limit $3"
    ))
    .bind(now)
    .bind(per_hour)
    .bind(limit)
    .bind(after.map(|point| point.due_at))
    .bind(after.map(|point| point.task_id))
    .fetch_all(conn)
    .await
}

/// Open tasks of `users` due in `[from, to)` (owner, id, due time, estimate): the days' load a reschedule
/// spreads over. A task with an open reschedule proposal (alone or as an open item of a group)
/// counts on the day proposed, not on its own due day: otherwise two tasks falling overdue a
/// minute apart would both be proposed for the same empty day, and a group split across two
/// sweep batches would pile onto the days the first half took.
///
/// The proposals come from `suggestion_user_open_idx` (the users' open suggestions) and the
/// items' primary key; the tasks from `task_user_open_due_idx` (the user, then a range of its
/// expression).
pub async fn load_between(
    conn: &mut PgConnection,
    users: &[Uuid],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<Vec<(Uuid, Uuid, DateTime<Utc>, Option<i32>)>> {
    sqlx::query_as(
        "with proposal as (
             select s.task_id, s.proposed_change ->> 'dueAt' as due_text
             from suggestion s
             where s.user_id = any($1) and s.status = 'open' and s.kind = 'schedule_adjustment'
               and s.task_id is not null
             union all
             select i.task_id, i.proposed_change ->> 'dueAt'
             from suggestion s join suggestion_item i on i.suggestion_id = s.suggestion_id
             where s.user_id = any($1) and s.status = 'open' and s.kind = 'schedule_adjustment'
               and i.status = 'open'
         ), proposed as (
             select distinct on (p.task_id) t.user_id, t.task_id, p.due_text::timestamptz as due_at,
                    t.estimate_minutes
             from proposal p join task t on t.task_id = p.task_id
             where t.completed_at is null and p.due_text is not null
             order by p.task_id, p.due_text::timestamptz desc
         )
         select user_id, task_id, due_at, estimate_minutes from proposed where due_at >= $2 and due_at < $3
         union all
         select t.user_id, t.task_id, t.due_at, t.estimate_minutes
         from task t
         where t.user_id = any($1) and t.completed_at is null
           and coalesce(t.due_at, 'infinity') >= $2 and coalesce(t.due_at, 'infinity') < $3
           and not exists (select 1 from proposed p where p.task_id = t.task_id)",
    )
    .bind(users)
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await
}

/// Open low/medium tasks due in `(now, due_before]` without priority advice for their due
/// time, soonest first. Served by `task_open_due_idx` (a `due_at` range over open tasks).
pub async fn priority_candidates(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    per_hour: i64,
    limit: i64,
    due_before: DateTime<Utc>,
) -> sqlx::Result<Vec<TaskRow>> {
    sqlx::query_as(concat!(
        "select ",
        task_columns!(),
        " where t.completed_at is null and t.due_at is not null and t.due_at > $1 and t.due_at <= $4
           and t.priority in ('low', 'medium')
           and not exists (select 1 from suggestion s where s.user_id = t.user_id and s.dedupe_key = ",
        priority_key_sql!(),
        ") and ",
        user_can_receive!("'priority'"),
        " order by t.due_at limit $3"
    ))
    .bind(now)
    .bind(per_hour)
    .bind(limit)
    .bind(due_before)
    .fetch_all(conn)
    .await
}

/// Open tasks not updated since `updated_before` and not yet asked about for that update,
/// least recently touched first. Served by `task_open_updated_idx`.
pub async fn stale_candidates(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    per_hour: i64,
    limit: i64,
    updated_before: DateTime<Utc>,
) -> sqlx::Result<Vec<TaskRow>> {
    sqlx::query_as(concat!(
        "select ",
        task_columns!(),
        " where t.completed_at is null and t.updated_at < $4
           and not exists (select 1 from suggestion s where s.user_id = t.user_id and s.dedupe_key = ",
        stale_key_sql!(),
        ") and ",
        user_can_receive!("'stale'"),
        " order by t.updated_at limit $3"
    ))
    .bind(now)
    .bind(per_hour)
    .bind(limit)
    .bind(updated_before)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OverloadedUser {
    pub user_id: Uuid,
    pub time_zone: String,
    /// The due times of the user's important tasks in the window, soonest first: the count
    /// and the reason's busiest day come from them.
    pub due: Vec<DateTime<Utc>>,
}

/// Users with at least `min_tasks` open high/urgent tasks due in `[now, due_before]`, whose
/// count is new advice after the week's last (`dedupe::overload_is_new`, with `growth`; `week`
/// the ISO week text, `week_start` its Monday), with the assistants on and overload not
/// paused. Served by `task_open_due_idx`; the memory check by `suggestion_user_created_idx`.
#[expect(clippy::too_many_arguments, reason = "one scan's bind parameters, each named at the call")]
pub async fn overloaded_users(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    per_hour: i64,
    limit: i64,
    due_before: DateTime<Utc>,
    min_tasks: i64,
    week: &str,
    week_start: DateTime<Utc>,
    growth: i64,
) -> sqlx::Result<Vec<OverloadedUser>> {
    sqlx::query_as(concat!(
        "select t.user_id, coalesce(p.time_zone, 'UTC') as time_zone, array_agg(t.due_at order by t.due_at) as due
         from task t left join user_preference p on p.user_id = t.user_id
         where t.completed_at is null and t.due_at is not null and t.due_at >= $1 and t.due_at <= $4
           and t.priority in ('high', 'urgent')
           and ",
        user_can_receive!("'overload'"),
        "
         group by t.user_id, p.time_zone
         having count(*) >= $5
            and coalesce(count(*) - $8 >= (select max(",
        overload_count_sql!(),
        ") from suggestion s
                where s.user_id = t.user_id and s.created_at >= $7
                  and starts_with(s.dedupe_key, ",
        overload_prefix_sql!("$6"),
        ")), true)
         order by t.user_id
         limit $3"
    ))
    .bind(now)
    .bind(per_hour)
    .bind(limit)
    .bind(due_before)
    .bind(min_tasks)
    .bind(week)
    .bind(week_start)
    .bind(growth)
    .fetch_all(conn)
    .await
}

/// The due times of `user_id`'s open high/urgent tasks due in `[now, due_before]`, soonest
/// first. Served by `task_open_important_due_idx`.
pub async fn important_due(
    conn: &mut PgConnection,
    user_id: Uuid,
    now: DateTime<Utc>,
    due_before: DateTime<Utc>,
) -> sqlx::Result<Vec<DateTime<Utc>>> {
    sqlx::query_scalar(
        "select due_at from task
         where user_id = $1 and completed_at is null and priority in ('high', 'urgent')
           and due_at >= $2 and due_at <= $3
         order by due_at",
    )
    .bind(user_id)
    .bind(now)
    .bind(due_before)
    .fetch_all(conn)
    .await
}

/// How many open urgent tasks `user_id` has due in `[from, to)` (the user's day), for the
/// reason of priority advice. Served by `task_open_important_due_idx` (`urgent` implies its
/// predicate).
pub async fn count_urgent_due(
    conn: &mut PgConnection,
    user_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "select count(*) from task
         where user_id = $1 and completed_at is null and priority = 'urgent' and due_at >= $2 and due_at < $3",
    )
    .bind(user_id)
    .bind(from)
    .bind(to)
    .fetch_one(conn)
    .await
}

/// The de-duplication keys as SQL spells them (overload's as its prefix for `week`, over the
/// task's owner), for the test that proves they match Rust's.
pub async fn sql_keys(
    conn: &mut PgConnection,
    task_id: Uuid,
    week: &str,
) -> sqlx::Result<(String, String, String, String)> {
    sqlx::query_as(concat!(
        "select ",
        overdue_key_sql!(),
        ", ",
        priority_key_sql!(),
        ", ",
        stale_key_sql!(),
        ", ",
        overload_prefix_sql!("$2"),
        " from task t where t.task_id = $1"
    ))
    .bind(task_id)
    .bind(week)
    .fetch_one(conn)
    .await
}

//! Reschedule proposals: a concrete new due time from the user's working calendar and load,
//! one grouped proposal for several overdue tasks, de-duplication by task and due time, and
//! what a reschedule, completion or deletion does to open proposals and items.

use ai_agent::{
    agents::{PassReport, Resume, overdue},
    config::Settings,
};
use chrono::{DateTime, Utc};
use events::{Change, EventPayload, TaskChanges, TaskEvent};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::{
    SuggestionRow, TaskSeed, ago, completed, created, deliver_event, incomplete, items, outbox,
    proposed_tasks, settings, state, suggestions, task, updated, user, working_hours,
};

const MON_TO_FRI: i16 = 31;
const EVERY_DAY: i16 = 127;

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

async fn sweep(db: &PgPool, now: DateTime<Utc>) -> PassReport {
    overdue::sweep_once(db, &settings(), now, None).await.unwrap().report().unwrap()
}

async fn only(db: &PgPool, user: Uuid) -> SuggestionRow {
    let mut rows = suggestions(db, user).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    rows.pop().unwrap()
}

fn due_at(change: Option<&serde_json::Value>) -> DateTime<Utc> {
    change.unwrap()["dueAt"].as_str().unwrap().parse().unwrap()
}

async fn set_due(db: &PgPool, task: Uuid, due: DateTime<Utc>) {
    sqlx::query("update task set due_at = $2 where task_id = $1")
        .bind(task)
        .bind(due)
        .execute(db)
        .await
        .unwrap();
}

fn rescheduled(task: Uuid, user: Uuid, to: DateTime<Utc>) -> TaskEvent {
    updated(
        task,
        user,
        TaskChanges { due_date: Change::if_changed(None, Some(to)), ..TaskChanges::default() },
    )
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_proposal_keeps_the_time_of_day_in_the_users_zone_avoids_the_busy_day_and_names_the_facts(
    db: PgPool,
) {
    let user = user(&db).await;
    working_hours(&db, user, MON_TO_FRI, ("09:00", "17:00"), "Europe/Paris", 5).await;
    // Due Monday 7 Dec, 10:00 in Paris; Wednesday already holds four tasks.
    let late = task(&db, user, TaskSeed::due(at("2026-12-07T09:00:00Z")).titled("Submit report")).await;
    for _ in 0..4 {
        task(&db, user, TaskSeed::due(at("2026-12-09T10:00:00Z"))).await;
    }

    // Tuesday 8 Dec, 17:00 in Paris: today's 10:00 has passed.
    let report = sweep(&db, at("2026-12-08T16:00:00Z")).await;
    assert_eq!((report.suggestions_created, report.events_published), (1, 1));
    let proposal = only(&db, user).await;
    assert_eq!((proposal.kind.as_str(), proposal.task_id), ("schedule_adjustment", Some(late)));
    assert_eq!(
        proposal.proposed_change,
        Some(json!({ "dueAt": "2026-12-10T09:00:00Z" })),
        "Thursday 10:00 Paris"
    );
    assert_eq!(proposal.message, "Move “Submit report” to Thu 10 Dec, 10:00?");
    let reason: String = sqlx::query_scalar("select reason from suggestion where suggestion_id = $1")
        .bind(proposal.suggestion_id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(reason, "Due Mon 7 Dec 10:00, 1 day ago; Wednesday has 4 tasks, Thursday 0, Friday 0.");
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_time_outside_working_hours_moves_to_their_start_after_the_weekend(db: PgPool) {
    let user = user(&db).await;
    working_hours(&db, user, MON_TO_FRI, ("09:00", "17:00"), "UTC", 5).await;
    task(&db, user, TaskSeed::due(at("2026-12-11T20:00:00Z"))).await;
    // Saturday 12 Dec.
    sweep(&db, at("2026-12-12T10:00:00Z")).await;
    assert_eq!(
        due_at(only(&db, user).await.proposed_change.as_ref()),
        at("2026-12-14T09:00:00Z"),
        "Monday 09:00"
    );
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn a_time_the_spring_forward_skips_lands_after_the_gap_and_quarter_hour_zones_keep_theirs(db: PgPool) {
    // Berlin, every day 02:00–04:00; Saturday 27 March 2027 05:00 local, so Sunday is next,
    // whose 02:30 does not exist (clocks jump from 02:00 to 03:00).
    let night = user(&db).await;
    working_hours(&db, night, EVERY_DAY, ("02:00", "04:00"), "Europe/Berlin", 5).await;
    task(&db, night, TaskSeed::due(at("2027-03-26T01:30:00Z"))).await; // Friday 02:30 CET
    sweep(&db, at("2027-03-27T04:00:00Z")).await;
    let proposed = due_at(only(&db, night).await.proposed_change.as_ref());
    assert_eq!(proposed, at("2027-03-28T01:30:00Z"), "03:30 CEST, an hour after the gap began");

    let kathmandu = user(&db).await;
    working_hours(&db, kathmandu, MON_TO_FRI, ("09:00", "17:00"), "Asia/Kathmandu", 5).await;
    task(&db, kathmandu, TaskSeed::due(at("2026-12-07T04:15:00Z"))).await; // Monday 10:00 at +05:45
    sweep(&db, at("2026-12-08T06:00:00Z")).await; // Tuesday 11:45
    let proposal = only(&db, kathmandu).await;
    assert_eq!(
        due_at(proposal.proposed_change.as_ref()),
        at("2026-12-09T04:15:00Z"),
        "Wednesday 10:00 local"
    );
    assert_eq!(proposal.message, "Move “Write the report” to Wed 9 Dec, 10:00?");
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn several_overdue_tasks_become_one_group_spread_over_the_next_days(db: PgPool) {
    let user = user(&db).await;
    working_hours(&db, user, MON_TO_FRI, ("09:00", "17:00"), "UTC", 5).await;
    // Tomorrow (Tuesday) holds two tasks already.
    for _ in 0..2 {
        task(&db, user, TaskSeed::due(at("2026-12-08T12:00:00Z"))).await;
    }
    let mut late = Vec::new();
    for day in 1..=6 {
        late.push(task(&db, user, TaskSeed::due(at(&format!("2026-12-0{day}T10:00:00Z")))).await);
    }

    // Monday 7 Dec, 18:00.
    let report = sweep(&db, at("2026-12-07T18:00:00Z")).await;
    assert_eq!((report.examined, report.suggestions_created, report.events_published), (6, 1, 6));
    let group = only(&db, user).await;
    assert_eq!(
        (group.kind.as_str(), group.task_id, group.proposed_change.as_ref()),
        ("schedule_adjustment", None, None)
    );
    assert_eq!(group.title, "Spread 6 overdue tasks over the next 4 days");
    assert_eq!(
        group.message,
        "Wed 9 Dec: 2, Thu 10 Dec: 2, Fri 11 Dec: 1, Mon 14 Dec: 1. Accept them all, or one by one."
    );

    let rows = items(&db, group.suggestion_id).await;
    assert_eq!(rows.iter().map(|i| i.ordinal).collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5]);
    let times: Vec<DateTime<Utc>> = rows.iter().map(|i| due_at(Some(&i.proposed_change))).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "in the order of their new times");
    assert!(times.iter().all(|t| t.format("%H:%M").to_string() == "10:00"), "the time of day kept");
    assert!(times.iter().all(|t| *t != at("2026-12-08T10:00:00Z")), "nothing onto the busy Tuesday");
    // The oldest goes first, to the first empty day.
    let oldest = rows.iter().find(|i| i.task_id == late[0]).unwrap();
    assert_eq!(oldest.proposed_change, json!({ "dueAt": "2026-12-09T10:00:00Z" }));
    assert_eq!(oldest.reason, "Due Tue 1 Dec 10:00, 6 days ago; Wednesday had 0 tasks.");
    assert!(
        rows.iter().all(|i| i.status == "open" && i.dedupe_key.as_deref().unwrap().starts_with("overdue:"))
    );
    let mut announced: Vec<Uuid> = outbox(&db).await.iter().map(|e| e.task_id).collect();
    announced.sort();
    late.sort();
    assert_eq!(announced, late, "each task announced once");
}

/// Every new due time proposed to `user`, alone or as an item, earliest first.
async fn proposed_times(db: &PgPool, user: Uuid) -> Vec<DateTime<Utc>> {
    let mut times = Vec::new();
    for proposal in suggestions(db, user).await.into_iter().filter(|s| s.kind == "schedule_adjustment") {
        match proposal.proposed_change {
            Some(change) => times.push(due_at(Some(&change))),
            None => times.extend(
                items(db, proposal.suggestion_id).await.iter().map(|i| due_at(Some(&i.proposed_change))),
            ),
        }
    }
    times.sort();
    times
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn an_open_proposal_counts_as_load_for_the_next_one_on_either_path(db: PgPool) {
    // Events: two tasks falling overdue one after the other, each proposed alone. Every day
    // is a working day, so the days are the next ones whatever the weekday.
    let user = user(&db).await;
    working_hours(&db, user, EVERY_DAY, ("00:00", "23:59"), "UTC", 5).await;
    let state = state(&db);
    for minutes in [60 * 24, 60 * 24 + 5] {
        let due = ago(minutes);
        let late = task(&db, user, TaskSeed::due(due)).await;
        assert_eq!(deliver_event(&state, &created(late, user, Some(due))).await, "SUCCESS");
    }
    let days: Vec<_> = proposed_times(&db, user).await.iter().map(DateTime::date_naive).collect();
    assert_eq!(days.len(), 2, "{days:?}");
    assert_ne!(days[0], days[1], "the second proposal sees the first one's day as taken");

    // The sweep, one task per batch: a user's overdue work split across passes still spreads.
    let other = crate::helpers::user(&db).await;
    working_hours(&db, other, MON_TO_FRI, ("09:00", "17:00"), "UTC", 5).await;
    for day in 1..=3 {
        task(&db, other, TaskSeed::due(at(&format!("2026-12-0{day}T10:00:00Z")))).await;
    }
    let one_at_a_time = Settings { batch_size: 1, ..settings() };
    let now = at("2026-12-07T18:00:00Z");
    let mut after = None;
    for _ in 0..3 {
        let report = overdue::sweep_once(&db, &one_at_a_time, now, after).await.unwrap().report().unwrap();
        assert_eq!(report.suggestions_created, 1);
        after = match report.resume_after {
            Some(Resume::Due(point)) => Some(point),
            _ => None,
        };
    }
    assert_eq!(
        proposed_times(&db, other).await,
        [at("2026-12-08T10:00:00Z"), at("2026-12-09T10:00:00Z"), at("2026-12-10T10:00:00Z")],
        "Tuesday, Wednesday, Thursday: one each"
    );
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn the_same_facts_are_proposed_once_and_a_new_due_time_again(db: PgPool) {
    let user = user(&db).await;
    let state = state(&db);
    let a = task(&db, user, TaskSeed::due(at("2026-12-01T10:00:00Z"))).await;
    task(&db, user, TaskSeed::due(at("2026-12-02T10:00:00Z"))).await;
    let now = at("2026-12-07T18:00:00Z");
    assert_eq!(sweep(&db, now).await.suggestions_created, 1, "a group of two");
    let group = only(&db, user).await;

    // Dismissed: the same facts are not proposed again, by the sweep or an event.
    sqlx::query("update suggestion set status = 'dismissed' where suggestion_id = $1")
        .bind(group.suggestion_id)
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(sweep(&db, now).await.examined, 0);
    assert_eq!(deliver_event(&state, &incomplete(a, user)).await, "SUCCESS");
    assert_eq!(suggestions(&db, user).await.len(), 1, "a task inside a group is not proposed alone");

    // A new due time, missed again: a new proposal, alone, and a new announcement.
    set_due(&db, a, at("2026-12-03T10:00:00Z")).await;
    assert_eq!(deliver_event(&state, &rescheduled(a, user, at("2026-12-03T10:00:00Z"))).await, "SUCCESS");
    let rows = suggestions(&db, user).await;
    assert_eq!(rows.len(), 2);
    let alone = rows.iter().find(|s| s.task_id == Some(a)).unwrap();
    assert_eq!(alone.status, "open");
    assert_eq!(
        items(&db, group.suggestion_id).await.iter().find(|i| i.task_id == a).unwrap().status,
        "skipped"
    );
    assert_eq!(outbox(&db).await.len(), 3, "two in the group, one for the new due time");
    assert_eq!(proposed_tasks(&db, user).await.len(), 3);
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn completing_or_rescheduling_skips_items_and_an_answered_group_resolves(db: PgPool) {
    let user = user(&db).await;
    let state = state(&db);
    let mut tasks = Vec::new();
    for day in 1..=3 {
        tasks.push(task(&db, user, TaskSeed::due(at(&format!("2026-12-0{day}T10:00:00Z")))).await);
    }
    sweep(&db, at("2026-12-07T18:00:00Z")).await;
    let group = only(&db, user).await;
    // The user accepted the first item (the backend's answer).
    sqlx::query("update suggestion_item set status = 'accepted' where suggestion_id = $1 and task_id = $2")
        .bind(group.suggestion_id)
        .bind(tasks[0])
        .execute(&db)
        .await
        .unwrap();

    sqlx::query("update task set completed_at = now() where task_id = $1")
        .bind(tasks[1])
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(deliver_event(&state, &completed(tasks[1], user)).await, "SUCCESS");
    let status = |task: Uuid| {
        let db = db.clone();
        let id = group.suggestion_id;
        async move { items(&db, id).await.into_iter().find(|i| i.task_id == task).unwrap().status }
    };
    assert_eq!(status(tasks[1]).await, "skipped");
    assert_eq!(only(&db, user).await.status, "open", "one item still open");

    // Moved into the future by the user: nothing is overdue, the last item is moot.
    let future = Utc::now() + chrono::TimeDelta::days(3);
    set_due(&db, tasks[2], future).await;
    assert_eq!(deliver_event(&state, &rescheduled(tasks[2], user, future)).await, "SUCCESS");
    assert_eq!(status(tasks[2]).await, "skipped");
    let resolved = only(&db, user).await;
    assert_eq!(resolved.status, "accepted", "an item was accepted");
    assert!(resolved.resolved_at.is_some());
}

#[sqlx::test(migrator = "ai_agent::MIGRATOR")]
async fn deleting_every_task_of_a_group_dismisses_it(db: PgPool) {
    let user = user(&db).await;
    let state = state(&db);
    let a = task(&db, user, TaskSeed::due(at("2026-12-01T10:00:00Z"))).await;
    let b = task(&db, user, TaskSeed::due(at("2026-12-02T10:00:00Z"))).await;
    sweep(&db, at("2026-12-07T18:00:00Z")).await;
    for task in [a, b] {
        sqlx::query("delete from task where task_id = $1").bind(task).execute(&db).await.unwrap();
        let deleted =
            TaskEvent::new(task, user, "corr-deleted", EventPayload::Deleted { title: "Gone".into() });
        assert_eq!(deliver_event(&state, &deleted).await, "SUCCESS");
    }
    assert_eq!(only(&db, user).await.status, "dismissed");
}

//! Checks that only mean something with two backends and two ai-agents on one database (the
//! `two-of-each` scenario): a sign-out reaches the other replica, the sign-in throttle counts
//! failures from both, each cron period runs once, and each user's events arrive in order.

use std::{
    collections::{BTreeMap, HashMap},
    path::Path,
    time::{Duration, Instant},
};

use anyhow::{Context, ensure};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::PgPool;

/// Settings the twins run with, so the checks know what to expect.
pub const CACHE_SECONDS: u64 = 2;
pub const FREE_SIGN_IN_FAILURES: u32 = 4;
/// The housekeeping job's schedule and period; the other claimed jobs never fire during a run
/// (their passes would race the events this harness counts).
pub const HOUSEKEEPING_SCHEDULE: &str = "*/4 * * * * *";
const HOUSEKEEPING_PERIOD_SECS: i64 = 4;
pub const NEVER: &str = "0 0 0 1 1 *";
const PASSWORD: &str = "correct horse battery";

fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?)
}

/// Signs up a fresh account on `base`; returns its email (the password is the harness's).
async fn new_account(http: &reqwest::Client, base: &str, label: &str) -> anyhow::Result<String> {
    let email = format!("faults-{label}-{}@example.com", rand::random::<u64>());
    http.post(format!("{base}/api/v1/auth/signup"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await?
        .error_for_status()?;
    Ok(email)
}

/// Signs `email` in on `base` and returns the session's cookie, sent by hand from then on so
/// that a sign-out's clearing cookie cannot hide a session that still works.
async fn session_cookie(http: &reqwest::Client, base: &str, email: &str) -> anyhow::Result<String> {
    let res = http
        .post(format!("{base}/api/v1/auth/signin"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await?
        .error_for_status()?;
    let cookie = res.headers().get("set-cookie").context("a session cookie")?.to_str()?;
    Ok(cookie.split(';').next().unwrap_or_default().to_owned())
}

async fn status(http: &reqwest::Client, base: &str, cookie: &str) -> anyhow::Result<u16> {
    let res = http.get(format!("{base}/api/v1/tasks")).header("cookie", cookie).send().await?;
    Ok(res.status().as_u16())
}

/// Rounds of: sign in on one replica, use the session on both, sign out on the other; the
/// session must fail there at once and on the first within the cache's lifetime (and a
/// second). Returns the slowest revocation seen on the first replica.
pub async fn sign_outs_reach_both(bases: &[String], rounds: usize) -> anyhow::Result<String> {
    let http = client()?;
    let email = new_account(&http, &bases[0], "sessions").await?;
    let mut slowest = Duration::ZERO;
    for round in 0..rounds {
        let (here, there) = (&bases[round % 2], &bases[(round + 1) % 2]);
        let cookie = session_cookie(&http, here, &email).await?;
        ensure!(
            status(&http, here, &cookie).await? == 200,
            "round {round}: a new session refused where it began"
        );
        ensure!(
            status(&http, there, &cookie).await? == 200,
            "round {round}: a new session refused on the other replica"
        );
        http.post(format!("{there}/api/v1/auth/signout"))
            .header("cookie", &cookie)
            .send()
            .await?
            .error_for_status()?;
        ensure!(
            status(&http, there, &cookie).await? == 401,
            "round {round}: a session still works on the replica that ended it"
        );
        let ended = Instant::now();
        let limit = Duration::from_secs(CACHE_SECONDS + 1);
        while status(&http, here, &cookie).await? != 401 {
            ensure!(
                ended.elapsed() < limit,
                "round {round}: a signed-out session still works on the other replica after {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        slowest = slowest.max(ended.elapsed());
    }
    Ok(format!(
        "{rounds} sign-outs: at once on their replica, within {:.1} s on the other",
        slowest.as_secs_f64()
    ))
}

/// Wrong passwords for one account from one address, alternating between the replicas: the
/// throttle must answer 429 after the free failures counted on both together, where a limit
/// kept per replica would allow twice as many.
pub async fn sign_in_throttle_is_shared(bases: &[String]) -> anyhow::Result<String> {
    let http = client()?;
    let email = new_account(&http, &bases[0], "throttle").await?;
    let mut refused = Vec::new();
    for attempt in 0..2 * (FREE_SIGN_IN_FAILURES as usize + 2) {
        let res = http
            .post(format!("{}/api/v1/auth/signin", bases[attempt % 2]))
            .json(&json!({"email": email, "password": "not the password"}))
            .send()
            .await?;
        match res.status().as_u16() {
            401 => refused.push(attempt),
            429 => {
                // Failures beyond the free ones start the back-off; the next attempt meets it.
                let expected = FREE_SIGN_IN_FAILURES as usize + 1;
                ensure!(
                    refused.len() == expected,
                    "429 after {} failures across both replicas, expected after {expected}",
                    refused.len()
                );
                return Ok(format!("sign-in throttled after {expected} failures spread over both replicas"));
            }
            other => anyhow::bail!("a wrong password answered {other}"),
        }
    }
    anyhow::bail!("{} wrong passwords over two replicas and no 429", refused.len())
}

/// One JSON log line's fields (the subscriber nests them under `fields`).
fn fields(line: &Value) -> &Value {
    line.get("fields").unwrap_or(line)
}

fn agent_logs(dir: &Path) -> anyhow::Result<Vec<Vec<Value>>> {
    let mut logs = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.starts_with("ai-agent") && path.extension().is_some_and(|e| e == "log") {
            let text = std::fs::read_to_string(&path)?;
            logs.push(text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect());
        }
    }
    Ok(logs)
}

/// Housekeeping passes since `since`, by period, over every ai-agent's log: none may run twice
/// in one period, and the replicas must both have tried (one saw the other's claim).
pub fn cron_runs_once_per_period(dir: &Path, since: DateTime<Utc>) -> anyhow::Result<String> {
    let mut passes: BTreeMap<i64, usize> = BTreeMap::new();
    let mut skipped = 0;
    for log in agent_logs(dir)? {
        for line in &log {
            let f = fields(line);
            let at =
                line.get("timestamp").and_then(Value::as_str).and_then(|t| t.parse::<DateTime<Utc>>().ok());
            let (Some(at), Some("housekeeping")) = (at, f.get("job").and_then(Value::as_str)) else {
                continue;
            };
            if at < since {
                continue;
            }
            match f.get("message").and_then(Value::as_str) {
                Some("cron pass finished") => {
                    *passes.entry(at.timestamp().div_euclid(HOUSEKEEPING_PERIOD_SECS)).or_default() += 1;
                }
                Some("another replica ran this period") => skipped += 1,
                _ => {}
            }
        }
    }
    let twice = passes.values().filter(|&&n| n > 1).count();
    ensure!(twice == 0, "{twice} housekeeping periods ran on both replicas");
    ensure!(passes.len() >= 2, "only {} housekeeping periods ran", passes.len());
    ensure!(skipped > 0, "no replica ever found a period already claimed: were both running cron?");
    Ok(format!(
        "{} housekeeping periods, each run once; {skipped} ticks left to the other replica",
        passes.len()
    ))
}

/// Per task, the order in which its changes first reached an ai-agent must be the order they
/// were committed in (the outbox's). Returns the events checked.
///
/// What the outbox id orders is what holds a lock until commit: a task's changes (its row is
/// locked; a new task is invisible until committed). Two writes of one user that overlap in
/// time (two requests at once, or the ai-agent's announcements, `tasks.overdue` and
/// `tasks.reminder`, written while the user's next change is in flight) may commit in either
/// order, and the id, taken before the commit, does not tell which committed first.
pub async fn order_per_task_kept(db: &PgPool, users: &[String], dir: &Path) -> anyhow::Result<String> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "select event_id::text, task_id::text, outbox_id from outbox
         where user_id = any($1::uuid[]) and event_type not in ('tasks.overdue', 'tasks.reminder')",
    )
    .bind(users)
    .fetch_all(db)
    .await?;
    let outbox: HashMap<String, (String, i64)> = rows.into_iter().map(|(e, t, o)| (e, (t, o))).collect();
    let (mut checked, mut out_of_order) = (0, 0);
    for log in agent_logs(dir)? {
        let mut last: HashMap<&str, i64> = HashMap::new();
        let mut seen = std::collections::HashSet::new();
        for line in &log {
            let Some(id) = fields(line).get("eventId").and_then(Value::as_str) else { continue };
            let Some((task, position)) = outbox.get(id) else { continue };
            if !seen.insert(id) {
                continue;
            }
            checked += 1;
            let previous = last.insert(task.as_str(), *position);
            out_of_order += usize::from(previous.is_some_and(|p| p > *position));
        }
    }
    ensure!(
        out_of_order == 0,
        "{out_of_order} of {checked} changes reached the agent before an earlier change of their task"
    );
    Ok(format!("{checked} changes in commit order per task"))
}

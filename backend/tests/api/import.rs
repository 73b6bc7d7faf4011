//! Todoist CSV import: the dry run writes nothing, the import creates the project, its
//! sections and its tasks (each with one `tasks.created` event) or nothing at all, and every
//! row it could not take whole is reported.

use chrono::{DateTime, Datelike, Utc, Weekday};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, User, json, problem, problem_fields};

/// A Todoist export of a project named "Work", exercising every rule once. Line numbers (the
/// header is line 1) are what the report names.
const WORK_CSV: &str = "\u{feff}TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE,DURATION,DURATION_UNIT
task,Inbox zero @admin,,4,1,Ann (1),,,en,,,
,,,,,,,,,,,
section,Doing,,,,,,,,,,
task,Write report @writing @Q1,\"Draft first,
then polish\",1,1,Ann (1),,2030-03-01,en,,,
note,Ask Bob for the numbers,,,,Ann (1),,,en,,,
task,Review slides,,2,2,Ann (1),,Mar 1 2030 10:00,en,Europe/Berlin,45,minute
,,,,,,,,,,,
section,Later,,,,,,,,,,
task,Weekly sync,,3,1,Ann (1),,every monday,en,,,
task,Water plants,,3,1,Ann (1),,when the soil is dry,en,,,
task,@orphaned,,4,1,Ann (1),,,en,,,
";

fn body(csv: &str, project: &Value, dry_run: bool) -> Value {
    json!({"csv": csv, "fileName": "Work.csv", "project": project, "dryRun": dry_run})
}

async fn import(user: &User, body: &Value, expected: StatusCode) -> Value {
    let res = user.client.post("/api/v1/import/todoist", body).await;
    let status = res.status();
    let report = json(res).await;
    assert_eq!(status, expected, "{report}");
    report
}

async fn project_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from project").fetch_one(&app.db).await.unwrap()
}

fn rows(list: &Value) -> Vec<u64> {
    list.as_array().unwrap().iter().map(|r| r["row"].as_u64().unwrap()).collect()
}

fn due(task: &Value) -> DateTime<Utc> {
    task["dueAt"].as_str().unwrap().parse().unwrap()
}

fn by_title<'a>(tasks: &'a [Value], title: &str) -> &'a Value {
    tasks.iter().find(|t| t["title"] == title).unwrap_or_else(|| panic!("no task {title:?}"))
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_dry_run_reports_the_import_and_writes_nothing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let report = import(&user, &body(WORK_CSV, &json!({}), true), StatusCode::OK).await;
    assert_eq!(report["dryRun"], true);
    assert_eq!(report["project"], json!({"name": "Work", "created": true}), "no id for a project not made");
    assert_eq!(report["sections"], json!(["Doing", "Later"]));
    assert_eq!(rows(&report["tasks"]), [2, 5, 8, 11, 12]);
    assert!(report["tasks"].as_array().unwrap().iter().all(|t| t.get("id").is_none()), "{report}");
    assert_eq!(rows(&report["skipped"]), [13]);

    assert!(user.tasks().await.is_empty(), "no task");
    assert_eq!(project_count(&app).await, 1, "no project besides the Inbox");
    assert_eq!(app.outbox_count().await, 0, "no event");
    // Nothing was taken either: the real import can follow.
    import(&user, &body(WORK_CSV, &json!({}), false), StatusCode::CREATED).await;
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn an_import_creates_the_project_its_sections_and_tasks_with_their_fields(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let preview = import(&user, &body(WORK_CSV, &json!({}), true), StatusCode::OK).await;
    let report = import(&user, &body(WORK_CSV, &json!({}), false), StatusCode::CREATED).await;
    assert_eq!(report["dryRun"], false);
    assert_eq!((&report["project"]["name"], &report["project"]["created"]), (&json!("Work"), &json!(true)));
    for key in ["sections", "skipped", "notes"] {
        assert_eq!(report[key], preview[key], "the preview said the same about {key}");
    }

    let project_id = report["project"]["id"].as_str().unwrap();
    let project = json(user.client.get(&format!("/api/v1/projects/{project_id}")).await).await;
    let sections: Vec<_> =
        project["sections"].as_array().unwrap().iter().map(|s| s["name"].clone()).collect();
    assert_eq!(sections, [json!("Doing"), json!("Later")], "in file order");
    let section_id = |name: &str| {
        project["sections"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap()["id"].clone()
    };

    let tasks = user.tasks().await;
    assert_eq!(tasks.len(), 5);
    assert!(tasks.iter().all(|t| t["projectId"] == project_id));
    let placed: Vec<_> = ["Inbox zero", "Write report", "Review slides", "Weekly sync", "Water plants"]
        .iter()
        .map(|title| {
            (by_title(&tasks, title)["sectionId"].clone(), by_title(&tasks, title)["priority"].clone())
        })
        .collect();
    assert_eq!(
        placed,
        [
            (Value::Null, json!("low")),
            (section_id("Doing"), json!("urgent")),
            (section_id("Doing"), json!("high")),
            (section_id("Later"), json!("medium")),
            (section_id("Later"), json!("medium")),
        ],
        "sections hold the tasks after them; Todoist p1..p4 map to urgent..low"
    );
    let report_task = by_title(report["tasks"].as_array().unwrap(), "Write report");
    assert_eq!(report_task["sectionName"], "Doing");
    assert_eq!(report_task["id"], by_title(&tasks, "Write report")["id"]);

    let write = by_title(&tasks, "Write report");
    assert_eq!(write["tags"], json!(["writing", "Q1"]), "@labels become tags");
    assert_eq!(
        write["description"], "Draft first,\nthen polish\n\nAsk Bob for the numbers",
        "a note is appended"
    );
    assert_eq!(by_title(&tasks, "Inbox zero")["tags"], json!(["admin"]));
    assert_eq!(
        by_title(&tasks, "Review slides")["estimateMinutes"],
        45,
        "a duration in minutes is the estimate"
    );
    assert_eq!(write["estimateMinutes"], Value::Null);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn due_dates_and_repeats_are_read_and_a_date_not_understood_is_reported(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let report = import(&user, &body(WORK_CSV, &json!({}), false), StatusCode::CREATED).await;
    let tasks = user.tasks().await;

    // The user's zone is UTC: a date alone is the end of that day there.
    assert_eq!(due(by_title(&tasks, "Write report")).to_rfc3339(), "2030-03-01T23:59:59+00:00");
    // A time is read in the row's TIMEZONE.
    assert_eq!(due(by_title(&tasks, "Review slides")).to_rfc3339(), "2030-03-01T09:00:00+00:00");

    let weekly = by_title(&tasks, "Weekly sync");
    assert_eq!(weekly["recurrence"]["frequency"], "weekly");
    assert_eq!(weekly["recurrence"]["weekdays"], json!(["mon"]));
    assert_eq!(due(weekly).weekday(), Weekday::Mon, "first due on a Monday");

    let plants = by_title(&tasks, "Water plants");
    assert_eq!(plants["dueAt"], Value::Null, "imported without a due date");
    let note = report["notes"].as_array().unwrap().iter().find(|n| n["row"] == 12).unwrap();
    assert!(note["message"].as_str().unwrap().contains("when the soil is dry"), "{note}");
    assert_eq!(
        by_title(report["tasks"].as_array().unwrap(), "Weekly sync")["recurrence"],
        weekly["recurrence"]
    );
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn blank_rows_are_ignored_indented_tasks_become_subtasks_and_untitled_rows_skipped(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let report = import(&user, &body(WORK_CSV, &json!({}), false), StatusCode::CREATED).await;
    // Blank lines 3 and 9 appear nowhere.
    assert_eq!(rows(&report["skipped"]), [13], "{report}");
    assert!(report["skipped"][0]["reason"].as_str().unwrap().contains("title"), "{report}");
    assert_eq!(rows(&report["notes"]), [12], "{report}");
    let tasks = user.tasks().await;
    let subtask = by_title(&tasks, "Review slides");
    assert_eq!(subtask["projectId"], report["project"]["id"]);
    assert_eq!(
        subtask["parentId"],
        by_title(&tasks, "Write report")["id"],
        "INDENT 2 under the task above it"
    );
    let reported =
        report["tasks"].as_array().unwrap().iter().find(|t| t["title"] == "Review slides").unwrap();
    assert_eq!(reported["parentRow"], 5);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn indented_tasks_that_cannot_be_subtasks_stay_tasks_of_their_own_with_a_note(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let csv = "TYPE,CONTENT,PRIORITY,INDENT,DATE
task,Orphan,4,2,
task,Parent,4,1,
task,Deep,4,3,
task,Repeats,4,2,every monday
section,Next,,,
task,Across a section,4,2,
";
    let report = import(&user, &body(csv, &json!({}), false), StatusCode::CREATED).await;
    assert_eq!(rows(&report["notes"]), [2, 4, 5, 7], "{report}");
    let tasks = user.tasks().await;
    let parent = by_title(&tasks, "Parent")["id"].clone();
    assert_eq!(by_title(&tasks, "Deep")["parentId"], parent, "deeper levels go under the top-level task");
    for own in ["Orphan", "Repeats", "Across a section"] {
        assert!(by_title(&tasks, own)["parentId"].is_null(), "{own}");
    }
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn each_imported_task_has_exactly_one_created_event(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    import(&user, &body(WORK_CSV, &json!({}), false), StatusCode::CREATED).await;
    let tasks = user.tasks().await;
    for task in &tasks {
        let events = app.outbox_events(task["id"].as_str().unwrap()).await;
        let types: Vec<_> = events.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(types, ["tasks.created"], "{}", task["title"]);
        assert_eq!(events[0].1["projectId"], task["projectId"]);
    }
    assert_eq!(app.outbox_count().await, i64::try_from(tasks.len()).unwrap());
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn an_import_into_an_existing_project_reuses_its_sections(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let res =
        user.client.post("/api/v1/projects", &json!({"name": "Job", "sections": [{"name": "later"}]})).await;
    let existing = json(res).await;
    let id = existing["id"].as_str().unwrap();

    let report = import(&user, &body(WORK_CSV, &json!({"id": id}), false), StatusCode::CREATED).await;
    assert_eq!(report["project"], json!({"id": id, "name": "Job", "created": false}));
    assert_eq!(report["sections"], json!(["Doing"]), "Later matches the existing section, ignoring case");
    let project = json(user.client.get(&format!("/api/v1/projects/{id}")).await).await;
    let names: Vec<_> = project["sections"].as_array().unwrap().iter().map(|s| s["name"].clone()).collect();
    assert_eq!(names, [json!("later"), json!("Doing")]);
    assert_eq!(by_title(&user.tasks().await, "Weekly sync")["sectionId"], project["sections"][0]["id"]);
    assert_eq!(project_count(&app).await, 2);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn another_users_project_is_not_found_and_nothing_is_written(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let owner = app.signed_up().await;
    let theirs = json(owner.client.post("/api/v1/projects", &json!({"name": "Private"})).await).await;
    let intruder = app.signed_up().await;
    let res = intruder
        .client
        .post("/api/v1/import/todoist", &body(WORK_CSV, &json!({"id": theirs["id"]}), false))
        .await;
    problem(res, StatusCode::NOT_FOUND, "not_found").await;
    assert!(intruder.tasks().await.is_empty());
    assert_eq!(app.outbox_count().await, 0);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_file_that_is_not_a_todoist_csv_is_refused_naming_csv(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    for csv in ["", "name,notes\nMilk,2 litres\n", "TYPE,DESCRIPTION\ntask,x\n"] {
        let res = user.client.post("/api/v1/import/todoist", &body(csv, &json!({}), true)).await;
        let problem = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(problem_fields(&problem), ["csv"], "{csv:?}");
    }
    let res = user.client.post("/api/v1/import/todoist", &json!({"fileName": "Work.csv"})).await;
    let problem = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(problem_fields(&problem), ["csv", "dryRun"]);
    assert_eq!(project_count(&app).await, 1);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_file_too_large_is_refused_naming_csv(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let header = "TYPE,CONTENT\n";
    let big = format!("{header}task,{}\n", "x".repeat(1024 * 1024));
    let many = format!("{header}{}", "task,Again\n".repeat(2001));
    for csv in [big, many] {
        let res = user.client.post("/api/v1/import/todoist", &body(&csv, &json!({}), false)).await;
        let problem = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
        assert_eq!(problem_fields(&problem), ["csv"], "{problem}");
    }
    // Past the route's own body limit (over the app-wide one, which is smaller).
    let huge = format!("{header}task,{}\n", "x".repeat(5 * 1024 * 1024));
    let res = user.client.post("/api/v1/import/todoist", &body(&huge, &json!({}), false)).await;
    problem(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert_eq!((project_count(&app).await, app.outbox_count().await), (1, 0));
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_quota_reached_midway_writes_nothing(db: PgPool) {
    let app = TestApp::spawn_with(db, |c| c.quotas.max_tasks_per_user = 3).await;
    let user = app.signed_up().await;
    // The dry run says so too.
    let res = user.client.post("/api/v1/import/todoist", &body(WORK_CSV, &json!({}), true)).await;
    problem(res, StatusCode::FORBIDDEN, "task_quota_exceeded").await;
    let res = user.client.post("/api/v1/import/todoist", &body(WORK_CSV, &json!({}), false)).await;
    problem(res, StatusCode::FORBIDDEN, "task_quota_exceeded").await;
    assert!(user.tasks().await.is_empty(), "no task");
    assert_eq!(project_count(&app).await, 1, "no project");
    assert_eq!(app.outbox_count().await, 0, "no event");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn more_sections_than_a_project_holds_are_refused_naming_csv(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let sections = (1..=51).fold(String::new(), |rows, i| rows + &format!("section,S{i}\ntask,T{i}\n"));
    let res = user
        .client
        .post("/api/v1/import/todoist", &body(&format!("TYPE,CONTENT\n{sections}"), &json!({}), false))
        .await;
    let problem = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(problem_fields(&problem), ["csv"]);
    assert_eq!((project_count(&app).await, app.outbox_count().await), (1, 0));
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_new_projects_name_is_checked(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let taken =
        user.client.post("/api/v1/import/todoist", &body(WORK_CSV, &json!({"name": "inbox"}), false)).await;
    let problem_body = problem(taken, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(problem_fields(&problem_body), ["project.name"]);

    let unnamed = json!({"csv": WORK_CSV, "dryRun": true});
    let res = user.client.post("/api/v1/import/todoist", &unnamed).await;
    assert_eq!(
        problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
        ["project.name"]
    );

    let both = body(WORK_CSV, &json!({"name": "Work", "id": user.id}), true);
    let res = user.client.post("/api/v1/import/todoist", &both).await;
    assert_eq!(
        problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
        ["project"]
    );

    let named = import(&user, &body(WORK_CSV, &json!({"name": "Q1 plans"}), true), StatusCode::OK).await;
    assert_eq!(named["project"]["name"], "Q1 plans", "a given name wins over the file's");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_file_at_the_row_limit_is_imported_whole(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let rows: String =
        (1..=2000).map(|i| format!("task,Task {i},,3,1,,,every monday,en,\n")).collect::<Vec<_>>().concat();
    let csv = format!(
        "TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE\n{rows}"
    );
    // One transaction of 2,000 single-statement inserts: about 2 s here, well inside the
    // request timeout.
    let report = import(&user, &body(&csv, &json!({}), false), StatusCode::CREATED).await;
    assert_eq!(report["tasks"].as_array().unwrap().len(), 2000);
    let created: i64 = sqlx::query_scalar("select count(*) from outbox where event_type = 'tasks.created'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(created, 2000);
}

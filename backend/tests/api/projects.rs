//! Projects and sections: the Inbox, validation, ownership, tasks in projects, and deleting a
//! project both ways, each moved or deleted task with its event.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, User, json, problem, problem_fields};

async fn projects(user: &User) -> Vec<Value> {
    let res = user.client.get("/api/v1/projects").await;
    assert_eq!(res.status(), StatusCode::OK);
    json(res).await["items"].as_array().cloned().unwrap()
}

async fn create_project(user: &User, body: Value) -> Value {
    let res = user.client.post("/api/v1/projects", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "creating {body}");
    json(res).await
}

fn id(value: &Value) -> &str {
    value["id"].as_str().unwrap()
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn every_account_starts_with_an_inbox_where_new_tasks_land(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let list = projects(&user).await;
    assert_eq!(list.len(), 1);
    let inbox = &list[0];
    assert_eq!((inbox["name"].as_str(), inbox["isInbox"].as_bool()), (Some("Inbox"), Some(true)));
    assert_eq!((inbox["color"].as_str(), inbox["sections"].clone()), (Some("grey"), json!([])));

    let task = user.create_task(json!({"title": "Unfiled"})).await;
    assert_eq!(task["projectId"], inbox["id"]);
    assert_eq!(task["sectionId"], Value::Null);
    let events = app.outbox_events(task["id"].as_str().unwrap()).await;
    assert_eq!(events[0].1["projectId"], inbox["id"], "the created event names the project");
    let inbox = json(user.client.get(&format!("/api/v1/projects/{}", id(inbox))).await).await;
    assert_eq!(inbox["openTaskCount"], 1);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn projects_are_created_with_sections_listed_by_name_and_refused_when_invalid(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let work = create_project(
        &user,
        json!({"name": " Work ", "color": "blue", "sections": [{"name": "Doing"}, {"name": "Done"}]}),
    )
    .await;
    assert_eq!((work["name"].as_str(), work["color"].as_str()), (Some("Work"), Some("blue")));
    let names: Vec<&str> =
        work["sections"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Doing", "Done"]);
    create_project(&user, json!({"name": "errands"})).await;
    let listed: Vec<String> =
        projects(&user).await.iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(listed, ["Inbox", "errands", "Work"], "the Inbox first, then by name ignoring case");

    let res = user.client.post("/api/v1/projects", &json!({"name": "WORK"})).await;
    let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(problem_fields(&body), ["name"], "names are unique ignoring case");
    let res = user.client.post("/api/v1/projects", &json!({"name": "inbox"})).await;
    assert_eq!(problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await), ["name"]);
    let res = user
        .client
        .post(
            "/api/v1/projects",
            &json!({"name": " ", "sections": [{"name": "ok"}, {"name": "x".repeat(101)}, {}]}),
        )
        .await;
    let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(
        problem_fields(&body),
        ["name", "sections[1].name", "sections[2].name"],
        "every problem at once"
    );
    let res = user.client.post("/api/v1/projects", &json!({"name": "Art", "color": "magenta"})).await;
    assert_eq!(problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await), ["color"]);
    let sections: Vec<Value> = (0..51).map(|i| json!({"name": format!("s{i}")})).collect();
    let res = user.client.post("/api/v1/projects", &json!({"name": "Big", "sections": sections})).await;
    assert_eq!(
        problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
        ["sections"]
    );
    assert_eq!(projects(&user).await.len(), 3, "nothing half-made");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn other_users_projects_are_not_found_and_cannot_hold_my_tasks(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (me, other) = (app.signed_up().await, app.signed_up().await);
    let theirs = create_project(&other, json!({"name": "Secret", "sections": [{"name": "A"}]})).await;
    let path = format!("/api/v1/projects/{}", id(&theirs));
    problem(me.client.get(&path).await, StatusCode::NOT_FOUND, "not_found").await;
    problem(me.client.patch(&path, &json!({"name": "Mine"})).await, StatusCode::NOT_FOUND, "not_found").await;
    problem(me.client.delete(&format!("{path}?tasks=delete")).await, StatusCode::NOT_FOUND, "not_found")
        .await;

    let res = me.client.post("/api/v1/tasks", &json!({"title": "x", "projectId": id(&theirs)})).await;
    assert_eq!(
        problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
        ["projectId"]
    );
    let mine = create_project(&me, json!({"name": "Mine"})).await;
    let section = theirs["sections"][0]["id"].as_str().unwrap();
    let res = me
        .client
        .post("/api/v1/tasks", &json!({"title": "x", "projectId": id(&mine), "sectionId": section}))
        .await;
    assert_eq!(
        problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
        ["sectionId"]
    );
    assert!(me.tasks().await.is_empty(), "nothing written");
    let res = me.client.get(&format!("/api/v1/tasks?projectId={}", id(&theirs))).await;
    assert_eq!(json(res).await["items"], json!([]), "their project's filter matches none of my tasks");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn tasks_move_between_projects_and_sections_with_their_events(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let work = create_project(&user, json!({"name": "Work", "sections": [{"name": "Doing"}]})).await;
    let home = create_project(&user, json!({"name": "Home"})).await;
    let doing = work["sections"][0]["id"].clone();
    let task = user.create_task(json!({"title": "Report", "projectId": id(&work), "sectionId": doing})).await;
    assert_eq!((&task["projectId"], &task["sectionId"]), (&work["id"], &doing));
    let other = user.create_task(json!({"title": "Other"})).await;

    let res = user.client.get(&format!("/api/v1/tasks?projectId={}", id(&work))).await;
    let listed: Vec<Value> =
        json(res).await["items"].as_array().unwrap().iter().map(|t| t["id"].clone()).collect();
    assert_eq!(listed, [task["id"].clone()]);
    let res = user.client.get("/api/v1/tasks?projectId=nope").await;
    assert_eq!(
        problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
        ["projectId"]
    );

    // Moving to another project leaves the old project's section.
    let path = format!("/api/v1/tasks/{}", id(&task));
    let moved = json(user.client.patch(&path, &json!({"projectId": id(&home)})).await).await;
    assert_eq!((&moved["projectId"], &moved["sectionId"]), (&home["id"], &Value::Null));
    let events = app.outbox_events(id(&task)).await;
    let (kind, event) = events.last().unwrap();
    assert_eq!(kind, "tasks.updated");
    assert_eq!(event["projectId"], home["id"]);
    assert_eq!(event["changes"]["projectId"], json!({"from": work["id"], "to": home["id"]}));
    assert_eq!(event["changes"]["sectionId"], json!({"from": doing, "to": null}));

    let res = user.client.patch(&path, &json!({"sectionId": doing})).await;
    assert_eq!(
        problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
        ["sectionId"]
    );
    let res = user.client.patch(&path, &json!({"projectId": null})).await;
    assert_eq!(
        problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
        ["projectId"]
    );
    let back =
        json(user.client.patch(&path, &json!({"projectId": id(&work), "sectionId": doing})).await).await;
    assert_eq!((&back["projectId"], &back["sectionId"]), (&work["id"], &doing));
    assert_eq!(app.outbox_events(id(&other)).await.len(), 1, "other tasks untouched");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn sections_are_renamed_reordered_and_removed_with_their_tasks_kept(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let work =
        create_project(&user, json!({"name": "Work", "sections": [{"name": "A"}, {"name": "B"}]})).await;
    let (a, b) = (work["sections"][0]["id"].clone(), work["sections"][1]["id"].clone());
    let in_a = user.create_task(json!({"title": "in A", "projectId": id(&work), "sectionId": a})).await;
    let path = format!("/api/v1/projects/{}", id(&work));

    let res = user
        .client
        .patch(&path, &json!({"sections": [{"id": b, "name": "B2"}, {"name": "C"}], "color": "green"}))
        .await;
    let changed = json(res).await;
    let names: Vec<&str> =
        changed["sections"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["B2", "C"]);
    assert_eq!((&changed["sections"][0]["id"], changed["color"].as_str()), (&b, Some("green")));
    let task = json(user.client.get(&format!("/api/v1/tasks/{}", id(&in_a))).await).await;
    assert_eq!(
        (&task["projectId"], &task["sectionId"]),
        (&work["id"], &Value::Null),
        "kept, out of the section"
    );
    let (_, event) = app.outbox_events(id(&in_a)).await.pop().unwrap();
    assert_eq!(event["changes"], json!({"sectionId": {"from": a, "to": null}}));

    let res = user
        .client
        .patch(
            &path,
            &json!({"sections": [{"id": a, "name": "gone"}, {"id": b, "name": "x"}, {"id": b, "name": "y"}]}),
        )
        .await;
    let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(problem_fields(&body), ["sections[0].id", "sections[2].id"]);
    let res = user.client.patch(&path, &json!({"archived": true})).await;
    assert_eq!(json(res).await["archived"], true);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_inbox_cannot_be_renamed_archived_or_deleted(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let inbox = projects(&user).await.remove(0);
    let path = format!("/api/v1/projects/{}", id(&inbox));
    let res = user.client.patch(&path, &json!({"name": "Mine", "archived": true})).await;
    let body = problem(res, StatusCode::BAD_REQUEST, "validation_failed").await;
    assert_eq!(problem_fields(&body), ["name", "archived"]);
    problem(
        user.client.delete(&format!("{path}?tasks=delete")).await,
        StatusCode::CONFLICT,
        "inbox_protected",
    )
    .await;
    let res = user.client.patch(&path, &json!({"color": "red", "sections": [{"name": "Later"}]})).await;
    assert_eq!(json(res).await["sections"][0]["name"], "Later", "its colour and sections may change");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn deleting_a_project_says_what_happens_to_its_tasks(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let inbox = projects(&user).await.remove(0);
    let keep = create_project(&user, json!({"name": "Keep", "sections": [{"name": "S"}]})).await;
    let drop = create_project(&user, json!({"name": "Drop"})).await;
    let section = keep["sections"][0]["id"].clone();
    let kept = user.create_task(json!({"title": "kept", "projectId": id(&keep), "sectionId": section})).await;
    let dropped = user.create_task(json!({"title": "dropped", "projectId": id(&drop)})).await;

    let path = format!("/api/v1/projects/{}", id(&keep));
    let res = user.client.delete(&path).await;
    assert_eq!(problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await), ["tasks"]);
    let res = user.client.delete(&format!("{path}?tasks=archive")).await;
    assert_eq!(problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await), ["tasks"]);
    assert_eq!(projects(&user).await.len(), 3, "nothing deleted without a choice");

    let res = user.client.delete(&format!("{path}?tasks=moveToInbox")).await;
    assert_eq!(json(res).await, json!({"tasksMoved": 1, "tasksDeleted": 0}));
    let task = json(user.client.get(&format!("/api/v1/tasks/{}", id(&kept))).await).await;
    assert_eq!((&task["projectId"], &task["sectionId"]), (&inbox["id"], &Value::Null));
    let (kind, event) = app.outbox_events(id(&kept)).await.pop().unwrap();
    assert_eq!(kind, "tasks.updated");
    assert_eq!(event["changes"]["projectId"], json!({"from": keep["id"], "to": inbox["id"]}));

    let res = user.client.delete(&format!("/api/v1/projects/{}?tasks=delete", id(&drop))).await;
    assert_eq!(json(res).await, json!({"tasksMoved": 0, "tasksDeleted": 1}));
    problem(
        user.client.get(&format!("/api/v1/tasks/{}", id(&dropped))).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let (kind, event) = app.outbox_events(id(&dropped)).await.pop().unwrap();
    assert_eq!((kind.as_str(), &event["projectId"]), ("tasks.deleted", &drop["id"]));
    let left: Vec<String> =
        projects(&user).await.iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect();
    assert_eq!(left, ["Inbox"]);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_deleted_account_takes_its_projects_with_it(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let work = create_project(&user, json!({"name": "Work", "sections": [{"name": "S"}]})).await;
    user.create_task(json!({"title": "x", "projectId": id(&work), "sectionId": work["sections"][0]["id"]}))
        .await;
    sqlx::query("delete from app_user where user_id = $1").bind(user.id).execute(&app.db).await.unwrap();
    let left: i64 = sqlx::query_scalar(
        "select (select count(*) from project) + (select count(*) from project_section) + (select count(*) from task)",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(left, 0);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn an_account_holds_a_bounded_number_of_projects(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    // 299 besides the Inbox, made directly: the bound is what is tested, not 299 requests.
    sqlx::query(
        "insert into project (project_id, user_id, name)
         select gen_random_uuid(), $1, 'p' || i from generate_series(1, 299) i",
    )
    .bind(user.id)
    .execute(&app.db)
    .await
    .unwrap();
    let res = user.client.post("/api/v1/projects", &json!({"name": "One more"})).await;
    problem(res, StatusCode::FORBIDDEN, "project_quota_exceeded").await;
}

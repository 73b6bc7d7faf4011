//! The account's lifecycle: display name, password change, signing out everywhere, the
//! export, and deleting the account with everything it holds.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, User, eventually, json, problem, problem_fields};

/// A second browser signed in to the same account.
async fn second_session(app: &TestApp, user: &User) -> crate::helpers::Client {
    let client = app.client();
    let res = client
        .post("/api/v1/auth/signin", &json!({"email": user.email, "password": "correct horse battery"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    client
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_display_name_is_set_cleared_and_checked(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let me = json(user.client.get("/api/v1/auth/me").await).await;
    assert_eq!(me["displayName"], Value::Null);
    let res = user.client.patch("/api/v1/account", &json!({"displayName": "  Ada Lovelace "})).await;
    assert_eq!(json(res).await["displayName"], "Ada Lovelace");
    assert_eq!(json(user.client.get("/api/v1/auth/me").await).await["displayName"], "Ada Lovelace");
    let res = user.client.patch("/api/v1/account", &json!({"displayName": "x".repeat(101)})).await;
    assert_eq!(
        problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
        ["displayName"]
    );
    let res = user.client.patch("/api/v1/account", &json!({"displayName": " "})).await;
    assert_eq!(json(res).await["displayName"], Value::Null, "blank removes it");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn changing_the_password_ends_every_other_session(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let other = second_session(&app, &user).await;
    assert_eq!(other.get("/api/v1/auth/me").await.status(), StatusCode::OK);

    let wrong = json!({"currentPassword": "not it at all", "newPassword": "a brand new secret"});
    let res = user.client.post("/api/v1/account/password", &wrong).await;
    assert_eq!(
        problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
        ["currentPassword"]
    );
    let short = json!({"currentPassword": "correct horse battery", "newPassword": "short"});
    let res = user.client.post("/api/v1/account/password", &short).await;
    assert_eq!(
        problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
        ["newPassword"]
    );
    assert_eq!(other.get("/api/v1/auth/me").await.status(), StatusCode::OK, "a refused change ends nothing");

    let change = json!({"currentPassword": "correct horse battery", "newPassword": "a brand new secret"});
    assert_eq!(user.client.post("/api/v1/account/password", &change).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(user.client.get("/api/v1/auth/me").await.status(), StatusCode::OK, "this session stays");
    problem(other.get("/api/v1/auth/me").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let fresh = app.client();
    let old = fresh
        .post("/api/v1/auth/signin", &json!({"email": user.email, "password": "correct horse battery"}))
        .await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = fresh
        .post("/api/v1/auth/signin", &json!({"email": user.email, "password": "a brand new secret"}))
        .await;
    assert_eq!(new.status(), StatusCode::OK);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn signing_out_everywhere_ends_every_session(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let other = second_session(&app, &user).await;
    let res = user.client.post_empty("/api/v1/account/signout-everywhere").await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for client in [&user.client, &other] {
        problem(client.get("/api/v1/auth/me").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_export_holds_everything_the_account_has(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let work = json(
        user.client.post("/api/v1/projects", &json!({"name": "Work", "sections": [{"name": "S"}]})).await,
    )
    .await;
    let task = user.create_task(json!({"title": "Report", "projectId": work["id"], "tags": ["q4"]})).await;
    user.say("add buy milk tomorrow", None).await;
    let other = app.signed_up().await;
    other.create_task(json!({"title": "Not mine"})).await;

    let res = user.client.get("/api/v1/account/export").await;
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(disposition.starts_with("attachment; filename=\"todo-export-"), "{disposition}");
    let export = json(res).await;
    assert_eq!(export["account"]["email"], user.email.as_str());
    assert_eq!(export["preferences"]["timeZone"], "UTC");
    let projects: Vec<&str> =
        export["projects"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(projects, ["Inbox", "Work"]);
    let titles: Vec<&str> =
        export["tasks"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(titles.contains(&"Report") && !titles.contains(&"Not mine"), "{titles:?}");
    let report = export["tasks"].as_array().unwrap().iter().find(|t| t["id"] == task["id"]).unwrap();
    assert_eq!((&report["projectId"], &report["tags"]), (&work["id"], &json!(["q4"])));
    let conversation = &export["conversations"][0];
    assert_eq!(conversation["messages"][0]["content"], "add buy milk tomorrow");
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_deleted_account_leaves_no_row_of_its_user_but_its_unsent_events(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let work = json(user.client.post("/api/v1/projects", &json!({"name": "Work"})).await).await;
    user.create_task(json!({"title": "Report", "projectId": work["id"], "dueAt": "2099-01-01T10:00:00Z"}))
        .await;
    user.say("add buy milk tomorrow", None).await;
    let other = second_session(&app, &user).await;
    let survivor = app.signed_up().await;
    survivor.create_task(json!({"title": "Still here"})).await;

    let res = user.client.delete_json("/api/v1/account", &json!({"password": "wrong guess"})).await;
    assert_eq!(
        problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
        ["password"]
    );
    let res = user.client.delete_json("/api/v1/account", &json!({})).await;
    assert_eq!(
        problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
        ["password"]
    );
    assert_eq!(user.client.get("/api/v1/auth/me").await.status(), StatusCode::OK, "nothing deleted yet");

    let res = user.client.delete_json("/api/v1/account", &json!({"password": "correct horse battery"})).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for client in [&user.client, &other] {
        problem(client.get("/api/v1/auth/me").await, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }
    // Every table with a user column, but the outbox: its events still go out.
    let tables: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.columns
         where table_schema = 'public' and column_name = 'user_id' and table_name <> 'outbox'",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert!(tables.len() >= 10, "{tables:?}");
    for table in tables {
        let left: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select count(*) from {table} where user_id = $1"
        )))
        .bind(user.id)
        .fetch_one(&app.db)
        .await
        .unwrap();
        assert_eq!(left, 0, "{table} still holds rows of the deleted user");
    }
    assert_eq!(survivor.tasks().await.len(), 1, "other accounts untouched");
    let unsent = || async {
        let left: i64 =
            sqlx::query_scalar("select count(*) from outbox where user_id = $1 and published_at is null")
                .bind(user.id)
                .fetch_one(&app.db)
                .await
                .unwrap();
        (left == 0).then_some(())
    };
    let sent: i64 = sqlx::query_scalar("select count(*) from outbox where user_id = $1")
        .bind(user.id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(sent >= 2, "the account's events were kept to go out");
    assert!(
        eventually(Duration::from_secs(10), unsent).await.is_some(),
        "the deleted account's events went out"
    );
    let signin = app
        .client()
        .post("/api/v1/auth/signin", &json!({"email": user.email, "password": "correct horse battery"}))
        .await;
    assert_eq!(signin.status(), StatusCode::UNAUTHORIZED);
}

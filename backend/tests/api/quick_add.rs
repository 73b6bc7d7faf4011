//! The parse endpoint among the user's projects: `#Project`, `/Section`, `@label`, and the
//! rule that keeps older `#tag` lines meaning what they meant.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, User, json, problem, problem_fields};

async fn create_project(user: &User, body: Value) -> Value {
    let res = user.client.post("/api/v1/projects", &body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "creating {body}");
    json(res).await
}

async fn parse(user: &User, body: Value) -> Value {
    let res = user.client.post("/api/v1/tasks/parse", &body).await;
    assert_eq!(res.status(), StatusCode::OK, "parsing {body}");
    json(res).await
}

/// (kind, text) of each span, in order.
fn spans(parsed: &Value) -> Vec<(String, String)> {
    parsed["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["kind"].as_str().unwrap().to_owned(), s["text"].as_str().unwrap().to_owned()))
        .collect()
}

fn kinds_and_texts(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, t)| ((*k).to_owned(), (*t).to_owned())).collect()
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_hash_picks_a_project_and_a_slash_one_of_its_sections(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let work =
        create_project(&user, json!({"name": "Work", "sections": [{"name": "Doing"}, {"name": "Next up"}]}))
            .await;
    let home = create_project(&user, json!({"name": "Home Office"})).await;

    let parsed = parse(&user, json!({"text": "Review PR #work /doing fri !high"})).await;
    assert_eq!(parsed["task"]["title"], "Review PR");
    assert_eq!(parsed["task"]["projectId"], work["id"]);
    assert_eq!(parsed["task"]["sectionId"], work["sections"][0]["id"]);
    assert_eq!(parsed["task"]["tags"], Value::Null);
    assert_eq!(
        spans(&parsed),
        kinds_and_texts(&[
            ("project", "#work"),
            ("section", "/doing"),
            ("date", "fri"),
            ("priority", "!high")
        ])
    );
    // The proposal is a create body as is: the task lands in that project and section.
    let task = user.create_task(parsed["task"].clone()).await;
    assert_eq!((&task["projectId"], &task["sectionId"]), (&work["id"], &work["sections"][0]["id"]));

    // Quoted names hold spaces, and names ignore case.
    let parsed = parse(&user, json!({"text": r#"Buy a lamp #"home office" /"NEXT UP" #Work"#})).await;
    assert_eq!(parsed["task"]["projectId"], home["id"]);
    // "Next up" is Work's section, not Home Office's: it stays in the title; the second
    // project name is a tag.
    assert_eq!(parsed["task"]["sectionId"], Value::Null);
    assert_eq!(parsed["task"]["title"], r#"Buy a lamp /"NEXT UP""#);
    assert_eq!(parsed["task"]["tags"], json!(["Work"]));
    let parsed = parse(&user, json!({"text": r#"Plan /"next up" #work"#})).await;
    assert_eq!(parsed["task"]["sectionId"], work["sections"][1]["id"]);
    assert_eq!(spans(&parsed), kinds_and_texts(&[("section", r#"/"next up""#), ("project", "#work")]));
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_hash_naming_no_project_stays_a_tag_until_a_project_takes_the_name(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let other = app.signed_up().await;
    create_project(&other, json!({"name": "Errands"})).await;

    // Another user's project is not a name this user can use.
    let parsed = parse(&user, json!({"text": "Buy milk #errands"})).await;
    assert_eq!(parsed["task"]["tags"], json!(["errands"]));
    assert_eq!(parsed["task"]["projectId"], Value::Null);
    assert_eq!(spans(&parsed), kinds_and_texts(&[("tag", "#errands")]));

    let errands = create_project(&user, json!({"name": "Errands"})).await;
    let parsed = parse(&user, json!({"text": "Buy milk #errands"})).await;
    assert_eq!(parsed["task"]["projectId"], errands["id"]);
    assert_eq!(parsed["task"]["tags"], Value::Null);
    assert_eq!(spans(&parsed), kinds_and_texts(&[("project", "#errands")]));

    // `@label` is a tag whatever projects exist.
    let parsed = parse(&user, json!({"text": "Buy milk @errands"})).await;
    assert_eq!(parsed["task"]["tags"], json!(["errands"]));
    assert_eq!(parsed["task"]["projectId"], Value::Null);
    assert_eq!(spans(&parsed), kinds_and_texts(&[("tag", "@errands")]));
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_slash_alone_names_a_section_of_the_project_on_screen_or_the_inbox(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let work = create_project(&user, json!({"name": "Work", "sections": [{"name": "Doing"}]})).await;

    let parsed = parse(&user, json!({"text": "Write notes /Doing", "projectId": work["id"]})).await;
    assert_eq!(parsed["task"]["projectId"], work["id"]);
    assert_eq!(parsed["task"]["sectionId"], work["sections"][0]["id"]);
    assert_eq!(parsed["task"]["title"], "Write notes");

    // Without the project on screen it is the Inbox's, which has no such section.
    let parsed = parse(&user, json!({"text": "Write notes /Doing"})).await;
    assert_eq!(parsed["task"]["title"], "Write notes /Doing");
    assert_eq!((&parsed["task"]["projectId"], &parsed["task"]["sectionId"]), (&Value::Null, &Value::Null));
    assert!(spans(&parsed).is_empty());

    // A slash inside a word or before a digit is text.
    for text in ["Split 1/2 of the bill", "Decide and/or delegate"] {
        let parsed = parse(&user, json!({"text": text, "projectId": work["id"]})).await;
        assert_eq!(parsed["task"]["title"], text);
        assert!(spans(&parsed).is_empty(), "{text}");
    }
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_project_on_screen_must_be_one_of_the_users(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let other = app.signed_up().await;
    let theirs = create_project(&other, json!({"name": "Theirs", "sections": [{"name": "Doing"}]})).await;
    for project_id in [theirs["id"].clone(), json!("not-a-uuid"), json!(5)] {
        let body = problem(
            user.client
                .post("/api/v1/tasks/parse", &json!({"text": "x /Doing", "projectId": project_id}))
                .await,
            StatusCode::BAD_REQUEST,
            "validation_failed",
        )
        .await;
        assert_eq!(problem_fields(&body), ["projectId"], "{project_id}");
    }
}

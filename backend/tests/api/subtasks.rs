//! Subtasks (one level deep, in their parent's project and section, counted on the parent,
//! completed, moved, deleted and carried forward with it) and the manual order (a move writes
//! one row, between its neighbours, with its event).

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, User, json, problem, problem_fields};

fn id(value: &Value) -> &str {
    value["id"].as_str().unwrap()
}

async fn get(user: &User, task_id: &str) -> Value {
    let res = user.client.get(&format!("/api/v1/tasks/{task_id}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    json(res).await
}

async fn project_with_section(user: &User, name: &str) -> (String, String) {
    let res =
        user.client.post("/api/v1/projects", &json!({"name": name, "sections": [{"name": "Doing"}]})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let project = json(res).await;
    (id(&project).to_owned(), project["sections"][0]["id"].as_str().unwrap().to_owned())
}

/// Titles of a list in manual order.
async fn ordered(user: &User, query: &str) -> Vec<String> {
    let res = user.client.get(&format!("/api/v1/tasks?sort=position&order=asc&limit=200&{query}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    json(res).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect()
}

async fn move_task(user: &User, task_id: &str, body: Value) -> reqwest::Response {
    user.client.post(&format!("/api/v1/tasks/{task_id}/move"), &body).await
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_subtask_sits_in_its_parents_project_and_section_and_is_counted_on_it(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let (project, section) = project_with_section(&user, "Home").await;
    let parent = user
        .create_task(json!({"title": "Paint the hall", "projectId": project, "sectionId": section}))
        .await;
    let first = user.create_task(json!({"title": "Buy paint", "parentId": id(&parent)})).await;
    assert_eq!(first["parentId"], parent["id"]);
    assert_eq!(first["projectId"], json!(project));
    assert_eq!(first["sectionId"], json!(section));
    let second = user.create_task(json!({"title": "Tape edges", "parentId": id(&parent)})).await;
    let res = user.client.post_empty(&format!("/api/v1/tasks/{}/complete", id(&second))).await;
    assert_eq!(res.status(), StatusCode::OK);

    assert_eq!(get(&user, id(&parent)).await["subtasks"], json!({"total": 2, "done": 1}));
    let listed = user.tasks().await;
    let listed_parent = listed.iter().find(|t| t["id"] == parent["id"]).unwrap();
    assert_eq!(listed_parent["subtasks"], json!({"total": 2, "done": 1}));
    assert_eq!(
        listed.iter().find(|t| t["id"] == first["id"]).unwrap()["subtasks"],
        json!({"total": 0, "done": 0})
    );
    // A PATCH's answer keeps the counts.
    let res = user
        .client
        .patch(&format!("/api/v1/tasks/{}", id(&parent)), &json!({"title": "Paint the hallway"}))
        .await;
    assert_eq!(json(res).await["subtasks"], json!({"total": 2, "done": 1}));
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn subtasks_are_one_level_deep_and_only_under_the_users_own_tasks(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let other = app.signed_up().await;
    let parent = user.create_task(json!({"title": "Parent"})).await;
    let child = user.create_task(json!({"title": "Child", "parentId": id(&parent)})).await;
    let theirs = other.create_task(json!({"title": "Theirs"})).await;

    let res =
        user.client.post("/api/v1/tasks", &json!({"title": "Grandchild", "parentId": id(&child)})).await;
    assert_eq!(
        problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
        ["parentId"]
    );
    let res = user.client.post("/api/v1/tasks", &json!({"title": "Sneaky", "parentId": id(&theirs)})).await;
    assert_eq!(
        problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
        ["parentId"]
    );
    let res =
        user.client.post("/api/v1/tasks", &json!({"title": "Ghost", "parentId": uuid::Uuid::now_v7()})).await;
    assert_eq!(
        problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
        ["parentId"]
    );
    // A parent cannot become a subtask, a task cannot be its own parent, a subtask does not repeat.
    let other_parent = user.create_task(json!({"title": "Other parent"})).await;
    let res = user
        .client
        .patch(&format!("/api/v1/tasks/{}", id(&parent)), &json!({"parentId": id(&other_parent)}))
        .await;
    assert_eq!(
        problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
        ["parentId"]
    );
    let res = user
        .client
        .patch(&format!("/api/v1/tasks/{}", id(&other_parent)), &json!({"parentId": id(&other_parent)}))
        .await;
    assert_eq!(
        problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
        ["parentId"]
    );
    let res = user
        .client
        .patch(
            &format!("/api/v1/tasks/{}", id(&child)),
            &json!({"dueAt": "2030-01-01T09:00:00Z", "recurrence": {"frequency": "daily"}}),
        )
        .await;
    assert_eq!(
        problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
        ["recurrence"]
    );
    // A subtask takes its parent's place: naming another is refused, on create and on PATCH.
    let (project, _) = project_with_section(&user, "Elsewhere").await;
    let res = user
        .client
        .post("/api/v1/tasks", &json!({"title": "X", "parentId": id(&parent), "projectId": project}))
        .await;
    assert_eq!(
        problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
        ["parentId"]
    );
    let res =
        user.client.patch(&format!("/api/v1/tasks/{}", id(&child)), &json!({"projectId": project})).await;
    assert_eq!(
        problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
        ["projectId"]
    );
    // Nothing of the refused requests was written.
    assert_eq!(get(&user, id(&parent)).await["subtasks"], json!({"total": 1, "done": 0}));
    assert!(get(&user, id(&parent)).await["parentId"].is_null());

    // Attaching an existing task moves it into the parent's project; detaching keeps it there.
    let loose = user.create_task(json!({"title": "Loose", "projectId": project})).await;
    let res =
        user.client.patch(&format!("/api/v1/tasks/{}", id(&loose)), &json!({"parentId": id(&parent)})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let attached = json(res).await;
    assert_eq!(
        (attached["parentId"].clone(), attached["projectId"].clone()),
        (parent["id"].clone(), parent["projectId"].clone())
    );
    let events = app.outbox_events(id(&loose)).await;
    let (kind, payload) = events.last().unwrap();
    assert_eq!(kind, "tasks.updated");
    assert_eq!(payload["changes"]["parentId"], json!({"from": null, "to": parent["id"]}));
    assert_eq!(payload["changes"]["projectId"]["to"], parent["projectId"]);
    let res = user.client.patch(&format!("/api/v1/tasks/{}", id(&loose)), &json!({"parentId": null})).await;
    let detached = json(res).await;
    assert!(detached["parentId"].is_null());
    assert_eq!(detached["projectId"], parent["projectId"]);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn completing_moving_and_deleting_a_parent_takes_its_subtasks_along_each_with_its_event(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let parent = user.create_task(json!({"title": "Trip"})).await;
    let open = user
        .create_task(json!({"title": "Pack", "parentId": id(&parent), "dueAt": "2030-01-01T08:00:00Z"}))
        .await;
    let done = user.create_task(json!({"title": "Book", "parentId": id(&parent)})).await;
    user.client.post_empty(&format!("/api/v1/tasks/{}/complete", id(&done))).await;

    // Moving the parent to another project and section moves its subtasks.
    let (project, section) = project_with_section(&user, "Travel").await;
    let res = user
        .client
        .patch(
            &format!("/api/v1/tasks/{}", id(&parent)),
            &json!({"projectId": project, "sectionId": section}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    for child in [&open, &done] {
        let now = get(&user, id(child)).await;
        assert_eq!(
            (now["projectId"].as_str(), now["sectionId"].as_str()),
            (Some(project.as_str()), Some(section.as_str()))
        );
        let (kind, payload) = app.outbox_events(id(child)).await.last().cloned().unwrap();
        assert_eq!(kind, "tasks.updated");
        assert_eq!(payload["changes"]["projectId"]["to"], json!(project));
        assert_eq!(payload["changes"]["sectionId"]["to"], json!(section));
    }

    // Completing the parent completes its open subtask, with an event, and drops its reminders.
    let res = user.client.post_empty(&format!("/api/v1/tasks/{}/complete", id(&parent))).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(get(&user, id(&open)).await["completed"], json!(true));
    let completions =
        app.outbox_events(id(&open)).await.into_iter().filter(|(k, _)| k == "tasks.completed").count();
    assert_eq!(completions, 1);
    let done_completions =
        app.outbox_events(id(&done)).await.into_iter().filter(|(k, _)| k == "tasks.completed").count();
    assert_eq!(done_completions, 1, "a subtask done before is not completed again");
    let pending: i64 =
        sqlx::query_scalar("select count(*) from reminder where task_id = $1::uuid and fired_at is null")
            .bind(id(&open))
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(pending, 0);

    // Deleting the parent deletes both subtasks, each with its event.
    let res = user.client.delete(&format!("/api/v1/tasks/{}", id(&parent))).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    for child in [&open, &done] {
        let res = user.client.get(&format!("/api/v1/tasks/{}", id(child))).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(app.outbox_events(id(child)).await.last().unwrap().0, "tasks.deleted");
    }
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_recurring_parents_next_occurrence_gets_copies_of_its_open_subtasks(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let parent = user
        .create_task(json!({"title": "Weekly review", "dueAt": "2030-01-07T09:00:00Z", "recurrence": {"frequency": "weekly"}}))
        .await;
    let inbox = user
        .create_task(
            json!({"title": "Empty the inbox", "parentId": id(&parent), "dueAt": "2030-01-07T08:00:00Z"}),
        )
        .await;
    let plan = user.create_task(json!({"title": "Plan the week", "parentId": id(&parent)})).await;
    let done = user.create_task(json!({"title": "Done already", "parentId": id(&parent)})).await;
    user.client.post_empty(&format!("/api/v1/tasks/{}/complete", id(&done))).await;

    let res = user.client.post_empty(&format!("/api/v1/tasks/{}/complete", id(&parent))).await;
    let next = json(res).await["nextTask"].clone();
    assert_eq!(next["subtasks"], json!({"total": 0, "done": 0}), "the answer's counts predate the copies");
    let copies: Vec<Value> = user.tasks().await.into_iter().filter(|t| t["parentId"] == next["id"]).collect();
    let mut titles: Vec<&str> = copies.iter().map(|t| t["title"].as_str().unwrap()).collect();
    titles.sort_unstable();
    assert_eq!(titles, ["Empty the inbox", "Plan the week"]);
    assert!(copies.iter().all(|c| c["completed"] == json!(false)));
    let copied_inbox = copies.iter().find(|c| c["title"] == "Empty the inbox").unwrap();
    // Due a week later, as the parent is.
    assert_eq!(copied_inbox["dueAt"], json!("2030-01-14T08:00:00Z"));
    assert_eq!(app.outbox_events(id(copied_inbox)).await[0].0, "tasks.created");
    assert_eq!(get(&user, next["id"].as_str().unwrap()).await["subtasks"], json!({"total": 2, "done": 0}));
    // The originals are completed with the occurrence they belong to.
    for original in [&inbox, &plan] {
        assert_eq!(get(&user, id(original)).await["completed"], json!(true));
    }
    // Completing again changes nothing and copies nothing more.
    user.client.post_empty(&format!("/api/v1/tasks/{}/complete", id(&parent))).await;
    assert_eq!(user.tasks().await.iter().filter(|t| t["parentId"] == next["id"]).count(), 2);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_move_puts_the_task_between_its_new_neighbours_writing_only_its_row(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let (project, section) = project_with_section(&user, "Work").await;
    let mut ids = Vec::new();
    for title in ["a", "b", "c", "d"] {
        let task = user.create_task(json!({"title": title, "projectId": project})).await;
        ids.push(id(&task).to_owned());
    }
    let filter = format!("projectId={project}");
    assert_eq!(ordered(&user, &filter).await, ["a", "b", "c", "d"], "new tasks go last");

    let before: Vec<(String, String)> =
        sqlx::query_as("select task_id::text, position from task order by task_id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    // d after a; then c first; then a last (after b, which is last by then).
    let res = move_task(&user, &ids[3], json!({"afterId": ids[0]})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(ordered(&user, &filter).await, ["a", "d", "b", "c"]);
    let after: Vec<(String, String)> =
        sqlx::query_as("select task_id::text, position from task order by task_id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let changed: Vec<&String> =
        before.iter().zip(&after).filter(|(b, a)| b.1 != a.1).map(|(_, a)| &a.0).collect();
    assert_eq!(changed, [&ids[3]], "only the moved task's key changes");
    let (kind, payload) = app.outbox_events(&ids[3]).await.last().cloned().unwrap();
    assert_eq!(kind, "tasks.updated");
    assert!(payload["changes"]["position"]["to"].is_string());

    move_task(&user, &ids[2], json!({})).await;
    assert_eq!(ordered(&user, &filter).await, ["c", "a", "d", "b"]);
    move_task(&user, &ids[0], json!({"afterId": ids[1]})).await;
    assert_eq!(ordered(&user, &filter).await, ["c", "d", "b", "a"]);
    // Moving to where it already is writes nothing.
    let events = app.outbox_count().await;
    move_task(&user, &ids[0], json!({"afterId": ids[1]})).await;
    assert_eq!(app.outbox_count().await, events);

    // Into a section, after nothing: first there; the project's list holds it after the rest
    // of its key order, and the section is a list of its own.
    let res = move_task(&user, &ids[1], json!({"sectionId": section})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await["sectionId"], json!(section));
    let res = move_task(&user, &ids[3], json!({"sectionId": section, "afterId": ids[1]})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let in_section: Vec<String> = user
        .tasks()
        .await
        .into_iter()
        .filter(|t| t["sectionId"] == json!(section))
        .map(|t| (t["position"].as_str().unwrap().to_owned(), t["title"].as_str().unwrap().to_owned()))
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_values()
        .collect();
    assert_eq!(in_section, ["b", "d"]);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_move_is_refused_with_the_field_named_when_its_neighbour_is_not_in_the_list(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    let other = app.signed_up().await;
    let (project, section) = project_with_section(&user, "Work").await;
    let task = user.create_task(json!({"title": "Task", "projectId": project})).await;
    let in_inbox = user.create_task(json!({"title": "Inbox task"})).await;
    let theirs = other.create_task(json!({"title": "Theirs"})).await;
    let parent = user.create_task(json!({"title": "Parent", "projectId": project})).await;
    let child = user.create_task(json!({"title": "Child", "parentId": id(&parent)})).await;

    for (body, field) in [
        (json!({"afterId": id(&in_inbox)}), "afterId"),
        (json!({"afterId": id(&theirs)}), "afterId"),
        (json!({"afterId": id(&task)}), "afterId"),
        (json!({"afterId": id(&child)}), "afterId"),
        (json!({"sectionId": uuid::Uuid::now_v7()}), "sectionId"),
    ] {
        let res = move_task(&user, id(&task), body.clone()).await;
        assert_eq!(
            problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
            [field],
            "{body}"
        );
    }
    // A subtask moves among its siblings, not into a section of its own.
    let res = move_task(&user, id(&child), json!({"sectionId": section})).await;
    assert_eq!(
        problem_fields(&problem(res, StatusCode::BAD_REQUEST, "validation_failed").await),
        ["sectionId"]
    );
    let res = move_task(&user, id(&theirs), json!({})).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = move_task(&user, id(&task), json!({"before": id(&child)})).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn a_cursor_pages_through_the_manual_order(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let user = app.signed_up().await;
    for n in 0..5 {
        user.create_task(json!({"title": format!("t{n}")})).await;
    }
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let res =
            user.client.get(&format!("/api/v1/tasks?sort=position&order=asc&limit=2&cursor={cursor}")).await;
        let page = json(res).await;
        seen.extend(
            page["items"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap().to_owned()),
        );
        match page["nextCursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, ["t0", "t1", "t2", "t3", "t4"]);
}

#[sqlx::test(migrator = "backend::MIGRATOR")]
async fn the_documented_sort_pattern_admits_the_manual_order(db: PgPool) {
    // The web app's types and any generated client follow the document: a pattern that left
    // out `position` would make the manual order look invalid to them.
    let app = TestApp::spawn(db).await;
    let doc = json(app.client().get("/api/v1/openapi.json").await).await;
    let sort = doc["paths"]["/api/v1/tasks"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "sort")
        .expect("the list documents its sort parameter");
    let pattern = sort["schema"]["pattern"].as_str().unwrap();
    for field in ["createdAt", "updatedAt", "dueAt", "priority", "title", "position"] {
        assert!(pattern.contains(field), "{field} missing from {pattern}");
    }
}

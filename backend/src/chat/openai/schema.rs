//! The tools offered to the model. Their parameters are the API's own schemas (the `utoipa`
//! ones the OpenAPI document is made of), with every `$ref` inlined because a tool schema
//! stands alone: a priority, a frequency or a weekday the model may send is, by construction,
//! one the API accepts. Only what is the tool's own is written here: the task ids, which fields
//! a call needs, and where the list tool differs from the list endpoint. The project fields
//! (`projectId`, `sectionId`) are offered as the API has them: `list_projects` tells the model
//! the ids, and an id that is not the user's is refused like any API call's.

use async_openai::types::chat::{ChatCompletionTool, ChatCompletionTools, FunctionObject};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use super::dispatch::{LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX};
use crate::tasks::dto::{CreateTaskRequest, ListParams, UpdateTaskRequest};

pub fn tool_definitions() -> Vec<ChatCompletionTools> {
    let task_id = json!({ "type": "string", "description": "The task's id, from list_tasks" });
    let task_ids = json!({
        "type": "object",
        "properties": { "taskIds": { "type": "array", "items": task_id } },
        "required": ["taskIds"]
    });

    let mut create = schema_of::<CreateTaskRequest>();
    create["required"] = json!(["title"]);

    let mut list = schema_of::<ListParams>();
    if let Some(properties) = list["properties"].as_object_mut() {
        // The tool pages by its limit alone and sorts by itself (see `dispatch::list_query`).
        for own in ["sort", "order", "cursor"] {
            properties.remove(own);
        }
        properties.insert(
            "limit".to_owned(),
            json!({
                "type": "integer",
                "minimum": 1,
                "maximum": LIST_LIMIT_MAX,
                "description": format!("1–{LIST_LIMIT_MAX}, default {LIST_LIMIT_DEFAULT}")
            }),
        );
    }

    let mut update = schema_of::<UpdateTaskRequest>();
    if let Some(properties) = update["properties"].as_object_mut() {
        properties.insert("taskId".to_owned(), task_id.clone());
    }
    update["required"] = json!(["taskId"]);

    vec![
        tool(
            "list_projects",
            "List the user's projects (the Inbox first) with their sections: the ids that \
             projectId and sectionId take.",
            json!({ "type": "object", "properties": {} }),
        ),
        tool("create_task", "Create a task; without projectId it goes to the Inbox.", create),
        tool("list_tasks", "List or search the user's tasks.", list),
        tool(
            "update_task",
            "Change some fields of one task; null clears dueAt, description or recurrence.",
            update,
        ),
        tool(
            "complete_task",
            "Mark tasks done. One task is done at once; several need the user's confirmation.",
            task_ids.clone(),
        ),
        tool(
            "reopen_task",
            "Mark a completed task not done.",
            json!({ "type": "object", "properties": { "taskId": task_id }, "required": ["taskId"] }),
        ),
        tool(
            "delete_task",
            "Propose deleting tasks. Nothing is deleted until the user confirms in their next message.",
            task_ids,
        ),
        tool(
            "list_suggestions",
            "List the assistants' open suggestions for the user (overdue tasks, priorities, reminders).",
            json!({ "type": "object", "properties": {} }),
        ),
    ]
}

fn tool(name: &str, description: &str, parameters: Value) -> ChatCompletionTools {
    ChatCompletionTools::Function(ChatCompletionTool {
        function: FunctionObject {
            name: name.to_owned(),
            description: Some(description.to_owned()),
            parameters: Some(parameters),
            strict: None,
        },
    })
}

/// `T`'s schema as JSON, with the schemas it refers to inlined. The type's own description
/// goes: it speaks to the API's readers, and the tool has its own.
fn schema_of<T: ToSchema>() -> Value {
    let mut referenced = Vec::new();
    T::schemas(&mut referenced);
    let components: Map<String, Value> =
        referenced.into_iter().map(|(name, schema)| (name, to_json(&schema))).collect();
    let mut schema = inline(to_json(&T::schema()), &components);
    if let Some(object) = schema.as_object_mut() {
        object.remove("description");
    }
    schema
}

fn to_json(schema: &impl serde::Serialize) -> Value {
    // A schema is plain data; it always serializes.
    serde_json::to_value(schema).unwrap_or_default()
}

/// Replaces each `{"$ref": "#/components/schemas/Name"}` with that schema, recursively.
fn inline(schema: Value, components: &Map<String, Value>) -> Value {
    match schema {
        Value::Object(object) => {
            let target = object
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .and_then(|name| components.get(name));
            match target {
                Some(target) => inline(target.clone(), components),
                None => Value::Object(object.into_iter().map(|(k, v)| (k, inline(v, components))).collect()),
            }
        }
        Value::Array(items) => Value::Array(items.into_iter().map(|v| inline(v, components)).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parameters(name: &str) -> Value {
        tool_definitions()
            .into_iter()
            .find_map(|tool| match tool {
                ChatCompletionTools::Function(t) if t.function.name == name => t.function.parameters,
                _ => None,
            })
            .expect("the tool exists")
    }

    fn no_refs_left(value: &Value) -> bool {
        match value {
            Value::Object(o) => !o.contains_key("$ref") && o.values().all(no_refs_left),
            Value::Array(a) => a.iter().all(no_refs_left),
            _ => true,
        }
    }

    #[test]
    fn every_tool_schema_stands_alone() {
        for name in
            ["list_projects", "create_task", "list_tasks", "update_task", "complete_task", "delete_task"]
        {
            let schema = parameters(name);
            assert!(no_refs_left(&schema), "{name}: {schema}");
            assert_eq!(schema["type"], "object", "{name}");
        }
    }

    #[test]
    fn the_list_tool_offers_the_endpoints_filters_but_its_own_paging() {
        let list = parameters("list_tasks");
        let properties = list["properties"].as_object().expect("properties");
        let mut names: Vec<&str> = properties.keys().map(String::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            ["dueAfter", "dueBefore", "limit", "overdue", "priority", "projectId", "search", "status", "tag"]
        );
        assert_eq!(properties["limit"]["maximum"], LIST_LIMIT_MAX);
        assert_eq!(parameters("update_task")["required"], json!(["taskId"]));
    }

    #[test]
    fn the_task_tools_offer_the_project_fields_list_projects_gives_ids_for() {
        for name in ["create_task", "update_task"] {
            let properties = parameters(name)["properties"].clone();
            for field in ["projectId", "sectionId"] {
                assert_eq!(properties[field]["format"], "uuid", "{name}.{field}: {properties}");
            }
        }
        assert_eq!(parameters("list_tasks")["properties"]["projectId"]["format"], "uuid");
    }
}

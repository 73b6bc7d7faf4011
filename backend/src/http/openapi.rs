//! Responses every operation can give, added to the document in one place so it states what
//! the server really does (found by fuzzing the API against its own document): malformed input
//! is 400, a missing session 401, a cross-site write 403, a body too large 413, a body that is
//! not JSON 415, a signed-in user's write beyond their write rate 429, and a request that
//! outlives the timeout 503. Each operation's own entry for a status wins over these.

use utoipa::{
    Modify,
    openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder, path::Operation},
};

/// Operations anyone may call; everything else under `/api/v1` needs the session cookie. (The
/// calendar feed's secret address is its own credential.)
pub const PUBLIC_OPERATIONS: &[(&str, &str)] = &[
    ("post", "/api/v1/auth/signup"),
    ("post", "/api/v1/auth/signin"),
    ("post", "/api/v1/auth/signout"),
    ("get", "/api/v1/calendar/{file}"),
];

pub struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        for (path, item) in &mut openapi.paths.paths {
            if !path.starts_with("/api/v1/") {
                continue;
            }
            let operations = [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("put", &mut item.put),
                ("patch", &mut item.patch),
                ("delete", &mut item.delete),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation else { continue };
                let public = PUBLIC_OPERATIONS.contains(&(method, path.as_str()));
                add(operation, "400", "Malformed input: a path or query parameter or the body is invalid");
                if !public {
                    add(operation, "401", "Not signed in");
                }
                if method != "get" {
                    add(operation, "403", "Refused as a cross-site request");
                    if !public {
                        add(
                            operation,
                            "429",
                            "Too many writes from this account (`WRITE_RATE_LIMIT_PER_MINUTE`, counted over \
                             every replica); `Retry-After` says when to try again",
                        );
                    }
                }
                if operation.request_body.is_some() {
                    add(operation, "413", "The body is larger than the limit");
                    add(operation, "415", "The body is not `application/json`");
                }
                add(operation, "503", "The request did not finish within the server's timeout");
            }
        }
    }
}

fn add(operation: &mut Operation, status: &str, description: &str) {
    operation.responses.responses.entry(status.to_owned()).or_insert_with(|| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
                )
                .build(),
        )
    });
}

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use utoipa_axum::router::OpenApiRouter;

    /// Every `enum` in `value`, with its JSON path.
    fn enums(value: &Value, path: &str, found: &mut Vec<(String, Value)>) {
        match value {
            Value::Object(object) => {
                for (key, inner) in object {
                    if key == "enum" {
                        found.push((path.to_owned(), inner.clone()));
                    } else {
                        enums(inner, &format!("{path}/{key}"), found);
                    }
                }
            }
            Value::Array(items) => {
                for (i, inner) in items.iter().enumerate() {
                    enums(inner, &format!("{path}/{i}"), found);
                }
            }
            _ => {}
        }
    }

    /// The values offered for property `name` of a tool (the first enum under it).
    fn offered(tools: &[(String, Value)], tool: &str, name: &str) -> Value {
        tools
            .iter()
            .find(|(path, _)| {
                path.starts_with(&format!("/{tool}/"))
                    && (path.contains(&format!("/{name}/")) || path.ends_with(&format!("/{name}")))
            })
            .map_or_else(|| panic!("{tool} offers no values for {name}"), |(_, values)| values.clone())
    }

    #[test]
    fn the_assistants_tools_offer_exactly_the_values_the_api_documents() {
        let (_, doc) = OpenApiRouter::new().nest("/api/v1", super::super::api_v1()).split_for_parts();
        let doc = serde_json::to_value(doc).expect("the document is JSON");
        let components = doc["components"]["schemas"].as_object().expect("components");
        let component = |name: &str| components[name]["enum"].clone();
        let list_patterns: Vec<&str> = doc["paths"]["/api/v1/tasks"]["get"]["parameters"]
            .as_array()
            .expect("the list endpoint's parameters")
            .iter()
            .filter_map(|p| p["schema"]["pattern"].as_str())
            .collect();
        let mut tools = Vec::new();
        for tool in crate::chat::openai::schema::tool_definitions() {
            let tool = serde_json::to_value(tool).expect("JSON");
            let name = tool["function"]["name"].as_str().unwrap_or_default().to_owned();
            enums(&tool["function"]["parameters"], &format!("/{name}"), &mut tools);
        }

        for (path, values) in &tools {
            let names: Vec<&str> =
                values.as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            let a_component = components.values().any(|schema| &schema["enum"] == values);
            // The list endpoint documents its enums as patterns of the names (spaces allowed).
            let a_list_parameter =
                list_patterns.iter().any(|p| p.contains(&format!("({})", names.join("|"))));
            assert!(
                a_component || a_list_parameter,
                "tool schema {path}: {values} is not an enum of the API"
            );
        }
        for tool in ["create_task", "update_task", "list_tasks"] {
            assert_eq!(offered(&tools, tool, "priority"), component("Priority"), "{tool}");
        }
        for tool in ["create_task", "update_task"] {
            assert_eq!(offered(&tools, tool, "frequency"), component("Frequency"), "{tool}");
            assert_eq!(offered(&tools, tool, "weekdays"), component("Weekday"), "{tool}");
        }
        let status = offered(&tools, "list_tasks", "status");
        assert!(list_patterns.contains(&r"^\s*(open|completed|all)\s*$"), "{list_patterns:?}");
        assert_eq!(status, serde_json::json!(["open", "completed", "all"]));
    }

    /// The create and update tools take every field their endpoints do (the project fields
    /// included, now that `list_projects` gives the model their ids), and no other but the
    /// task id.
    #[test]
    fn the_assistants_task_tools_take_the_fields_of_the_api_bodies() {
        let (_, doc) = OpenApiRouter::new().nest("/api/v1", super::super::api_v1()).split_for_parts();
        let doc = serde_json::to_value(doc).expect("the document is JSON");
        let fields = |schema: &Value| {
            let mut names: Vec<String> =
                schema["properties"].as_object().expect("properties").keys().cloned().collect();
            names.retain(|n| n != "taskId");
            names.sort();
            names
        };
        let tools: Vec<Value> = crate::chat::openai::schema::tool_definitions()
            .into_iter()
            .map(|t| serde_json::to_value(t).expect("JSON"))
            .collect();
        for (tool, body) in [("create_task", "CreateTaskRequest"), ("update_task", "UpdateTaskRequest")] {
            let parameters = &tools
                .iter()
                .find(|t| t["function"]["name"] == tool)
                .unwrap_or_else(|| panic!("no tool {tool}"))["function"]["parameters"];
            let api = fields(&doc["components"]["schemas"][body]);
            assert_eq!(fields(parameters), api, "{tool}");
            assert!(api.contains(&"projectId".to_owned()) && api.contains(&"sectionId".to_owned()));
        }
    }
}

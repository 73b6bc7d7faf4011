//! Responses every operation can give, added to the document in one place so it states what
//! the server really does (found by fuzzing the API against its own document): malformed input
//! is 400, a missing session 401, a cross-site write 403, a body too large 413, a body that is
//! not JSON 415, and a request that outlives the timeout 503. Each operation's own entry for a
//! status wins over these.

use utoipa::{
    Modify,
    openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder, path::Operation},
};

/// Operations anyone may call; everything else under `/api/v1` needs the session cookie.
pub const PUBLIC_OPERATIONS: &[(&str, &str)] =
    &[("post", "/api/v1/auth/signup"), ("post", "/api/v1/auth/signin"), ("post", "/api/v1/auth/signout")];

pub struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
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

//! Choosing the app path for a message (§2.2): routing rules first, then the default route.
//!
//! Dapr evaluates rules with CEL. Embedding a CEL interpreter in a test double is not worth it,
//! so only the form our services use is understood: `event.<path> == "literal"` (or `!=`, either
//! quote style). Anything else is reported as an evaluation error, which Dapr handles like a
//! processing failure, so an unsupported rule is loud rather than silently misrouted.

use events::dapr::Subscription;
use serde_json::Value;

/// The path to post to; `Ok(None)` when no rule matches and there is no default.
pub(crate) fn route(subscription: &Subscription, event: &Value) -> Result<Option<String>, String> {
    for rule in subscription.routes.iter().flat_map(|routes| &routes.rules) {
        if matches(&rule.r#match, event)? {
            return Ok(Some(rule.path.clone()));
        }
    }
    Ok(subscription.default_route().map(str::to_owned))
}

fn matches(expression: &str, event: &Value) -> Result<bool, String> {
    let expression = expression.trim();
    if expression.is_empty() {
        return Ok(true);
    }
    let unsupported = || format!("unsupported routing expression (emulator): {expression}");
    let (left, right, negated) = if let Some((left, right)) = expression.split_once("!=") {
        (left, right, true)
    } else if let Some((left, right)) = expression.split_once("==") {
        (left, right, false)
    } else {
        return Err(unsupported());
    };
    let path = left.trim().strip_prefix("event.").ok_or_else(unsupported)?;
    let literal = string_literal(right.trim()).ok_or_else(unsupported)?;

    let mut value = event;
    for key in path.split('.') {
        // CEL fails on a missing key rather than comparing to null.
        value = value.get(key).ok_or_else(|| format!("no such key: {key} (in {expression})"))?;
    }
    match value {
        Value::String(actual) => Ok((actual == literal) != negated),
        _ => Err(format!("no matching overload for {expression}")),
    }
}

fn string_literal(text: &str) -> Option<&str> {
    ['"', '\''].into_iter().find_map(|quote| {
        let inner = text.strip_prefix(quote)?.strip_suffix(quote)?;
        (!inner.contains(quote)).then_some(inner)
    })
}

/// Dapr adds a leading `/` and cleans the path (`path.Clean`).
pub(crate) fn clean_path(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            segment => parts.push(segment),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use events::dapr::{RouteRule, Routes};
    use serde_json::json;

    fn subscription(rules: &[(&str, &str)], default: Option<&str>) -> Subscription {
        let mut subscription = Subscription::new("p", "t", "");
        subscription.route = None;
        subscription.routes = Some(Routes {
            rules: rules
                .iter()
                .map(|(m, p)| RouteRule { r#match: (*m).to_owned(), path: (*p).to_owned() })
                .collect(),
            default: default.map(str::to_owned),
        });
        subscription
    }

    #[test]
    fn first_matching_rule_wins() {
        let subscription = subscription(
            &[
                (r#"event.type == "tasks.deleted""#, "/deleted"),
                (r"event.type == 'tasks.created'", "/created"),
                ("", "/catch-all"),
            ],
            Some("/default"),
        );
        let created = json!({ "type": "tasks.created" });
        assert_eq!(route(&subscription, &created), Ok(Some("/created".into())));
        let other = json!({ "type": "tasks.updated" });
        assert_eq!(route(&subscription, &other), Ok(Some("/catch-all".into())));
    }

    #[test]
    fn nested_paths_and_inequality() {
        let subscription = subscription(&[(r#"event.data.eventType != "x""#, "/not-x")], None);
        let event = json!({ "data": { "eventType": "y" } });
        assert_eq!(route(&subscription, &event), Ok(Some("/not-x".into())));
    }

    #[test]
    fn no_match_and_no_default_is_unroutable() {
        let subscription = subscription(&[(r#"event.type == "a""#, "/a")], None);
        assert_eq!(route(&subscription, &json!({ "type": "b" })), Ok(None));
    }

    #[test]
    fn evaluation_errors_are_reported() {
        for rule in ["event.type == order", "event.data.x == \"1\"", "size(event.type) > 2"] {
            let subscription = subscription(&[(rule, "/r")], Some("/d"));
            let event = json!({ "type": "t", "data": "a string" });
            assert!(route(&subscription, &event).is_err(), "{rule}");
        }
    }

    #[test]
    fn paths_are_cleaned_like_dapr() {
        assert_eq!(clean_path("events"), "/events");
        assert_eq!(clean_path("//a/./b/../c/"), "/a/c");
        assert_eq!(clean_path(""), "/");
    }
}

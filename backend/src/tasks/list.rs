//! The task list's query language: filters, sort order and keyset cursors, parsed from the
//! query string into values the SQL layer can trust.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Days, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{
    FieldError, Priority,
    task::{Tags, start_of_day},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusFilter {
    Open,
    Completed,
    #[default]
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum SortField {
    #[default]
    CreatedAt,
    UpdatedAt,
    DueAt,
    Priority,
    Title,
}

impl SortField {
    /// The SQL expression each sort orders by; every one has a matching index that ends in
    /// `task_id`, the tie-breaker.
    pub fn sql(self) -> &'static str {
        match self {
            Self::CreatedAt => "created_at",
            Self::UpdatedAt => "updated_at",
            Self::DueAt => "coalesce(due_at, 'infinity'::timestamptz)",
            // Qualified: the select list turns `priority` into text under the same name.
            Self::Priority => "task.priority",
            Self::Title => "lower(title)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    Asc,
    #[default]
    Desc,
}

/// The position after which the next page starts: the last row's sort value and id. It names
/// its sort so a cursor cannot silently be reused with another one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "s")]
    pub sort: SortField,
    #[serde(rename = "o")]
    pub order: SortOrder,
    /// The sort value as text: RFC 3339 for the time sorts, the priority name, or the
    /// case-folded title.
    #[serde(rename = "v")]
    pub value: String,
    #[serde(rename = "i")]
    pub task_id: Uuid,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(raw: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ListQuery {
    pub status: StatusFilter,
    pub priorities: Vec<Priority>,
    pub tag_keys: Vec<String>,
    pub search: Option<String>,
    pub due_before: Option<DateTime<Utc>>,
    pub due_after: Option<DateTime<Utc>>,
    pub overdue: Option<bool>,
    pub sort: SortField,
    pub order: SortOrder,
    pub after: Option<Cursor>,
    pub limit: u32,
}

impl ListQuery {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 200;

    /// Parses a raw query string. Repeated keys and comma-separated values both give lists
    /// (`priority=high&priority=urgent`, `priority=high,urgent`); unknown keys are errors, so a
    /// typo is reported instead of silently ignored. Dates alone are whole days in `tz`.
    pub fn parse(raw: Option<&str>, tz: Tz) -> Result<Self, Vec<FieldError>> {
        let mut query = Self { limit: Self::DEFAULT_LIMIT, ..Self::default() };
        let mut errors = Vec::new();
        let mut cursor = None;
        for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            let value = value.trim();
            // PostgreSQL text cannot hold NUL; refuse it here rather than fail in the query.
            if value.contains('\0') {
                errors.push(FieldError::new(key.as_ref(), "must not contain NUL characters"));
                continue;
            }
            let result = match key.as_ref() {
                "status" => parse_status(value).map(|s| query.status = s),
                "priority" => split(value)
                    .map(|p| {
                        p.parse::<Priority>()
                            .map_err(|_| bad("priority", "must be low, medium, high or urgent"))
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(|mut p| query.priorities.append(&mut p)),
                "tag" => {
                    query.tag_keys.extend(split(value).map(Tags::key));
                    Ok(())
                }
                "search" => parse_search(value).map(|s| query.search = s),
                "dueBefore" => {
                    parse_bound("dueBefore", value, tz, Bound::Before).map(|d| query.due_before = Some(d))
                }
                "dueAfter" => {
                    parse_bound("dueAfter", value, tz, Bound::After).map(|d| query.due_after = Some(d))
                }
                "overdue" => parse_bool("overdue", value).map(|b| query.overdue = Some(b)),
                "sort" => parse_sort(value).map(|s| query.sort = s),
                "order" => parse_order(value).map(|o| query.order = o),
                "limit" => parse_limit(value).map(|l| query.limit = l),
                "cursor" => {
                    cursor = Some(value.to_owned());
                    Ok(())
                }
                other => Err(bad(
                    other,
                    "is not a known parameter (status, priority, tag, search, dueBefore, dueAfter, overdue, sort, order, limit, cursor)",
                )),
            };
            if let Err(e) = result {
                errors.push(e);
            }
        }
        if let Some(raw_cursor) = cursor.filter(|c| !c.is_empty()) {
            match Cursor::decode(&raw_cursor) {
                Some(c) if c.sort == query.sort && c.order == query.order && c.is_well_formed() => {
                    query.after = Some(c);
                }
                Some(_) => {
                    errors.push(bad("cursor", "belongs to a different sort or order; start again without it"))
                }
                None => errors.push(bad("cursor", "is not a cursor returned by this API")),
            }
        }
        query.priorities.dedup();
        query.tag_keys.dedup();
        if errors.is_empty() { Ok(query) } else { Err(errors) }
    }
}

impl Cursor {
    /// Undated tasks sort as if due at `infinity`, so a cursor may stand among them.
    pub const NO_DUE_DATE: &'static str = "infinity";

    fn is_well_formed(&self) -> bool {
        let is_time = DateTime::parse_from_rfc3339(&self.value).is_ok();
        match self.sort {
            SortField::CreatedAt | SortField::UpdatedAt => is_time,
            SortField::DueAt => is_time || self.value == Self::NO_DUE_DATE,
            SortField::Priority => self.value.parse::<Priority>().is_ok(),
            SortField::Title => true,
        }
    }
}

fn bad(field: &str, message: &str) -> FieldError {
    FieldError::new(field, message)
}

fn split(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|v| !v.is_empty())
}

fn parse_status(value: &str) -> Result<StatusFilter, FieldError> {
    match value {
        "open" => Ok(StatusFilter::Open),
        "completed" => Ok(StatusFilter::Completed),
        "all" => Ok(StatusFilter::All),
        _ => Err(bad("status", "must be open, completed or all")),
    }
}

fn parse_search(value: &str) -> Result<Option<String>, FieldError> {
    match value.chars().count() {
        0 => Ok(None),
        1..=200 => Ok(Some(value.to_owned())),
        _ => Err(bad("search", "must be at most 200 characters")),
    }
}

enum Bound {
    Before,
    After,
}

/// `dueBefore=2026-12-01` includes all of December 1st; `dueAfter=2026-12-01` starts at its
/// first instant.
fn parse_bound(field: &str, value: &str, tz: Tz, bound: Bound) -> Result<DateTime<Utc>, FieldError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(value) {
        return Ok(at.with_timezone(&Utc));
    }
    let date = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| bad(field, "must be an RFC 3339 date-time or a date (2026-12-01)"))?;
    Ok(match bound {
        Bound::After => start_of_day(date, tz),
        Bound::Before => start_of_day(date.checked_add_days(Days::new(1)).unwrap_or(date), tz),
    })
}

fn parse_bool(field: &str, value: &str) -> Result<bool, FieldError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad(field, "must be true or false")),
    }
}

fn parse_sort(value: &str) -> Result<SortField, FieldError> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .map_err(|_| bad("sort", "must be createdAt, updatedAt, dueAt, priority or title"))
}

fn parse_order(value: &str) -> Result<SortOrder, FieldError> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .map_err(|_| bad("order", "must be asc or desc"))
}

fn parse_limit(value: &str) -> Result<u32, FieldError> {
    value
        .parse::<u32>()
        .ok()
        .filter(|l| (1..=ListQuery::MAX_LIMIT).contains(l))
        .ok_or_else(|| bad("limit", "must be a whole number from 1 to 200"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> Result<ListQuery, Vec<FieldError>> {
        ListQuery::parse(Some(raw), Tz::UTC)
    }

    fn fields(raw: &str) -> Vec<String> {
        parse(raw).unwrap_err().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn defaults_are_all_tasks_newest_first_fifty_per_page() {
        let q = ListQuery::parse(None, Tz::UTC).unwrap();
        assert_eq!(
            (q.status, q.sort, q.order, q.limit),
            (StatusFilter::All, SortField::CreatedAt, SortOrder::Desc, 50)
        );
    }

    #[test]
    fn lists_accept_repeats_and_commas_and_tags_fold_case() {
        let q = parse("priority=high&priority=urgent,low&tag=Work,home").unwrap();
        assert_eq!(q.priorities, [Priority::High, Priority::Urgent, Priority::Low]);
        assert_eq!(q.tag_keys, ["work", "home"]);
    }

    #[test]
    fn every_bad_value_names_its_parameter() {
        assert_eq!(
            fields(
                "status=done&priority=meh&sort=colour&order=up&limit=0&overdue=yes&dueBefore=friday&bogus=1"
            ),
            ["status", "priority", "sort", "order", "limit", "overdue", "dueBefore", "bogus"]
        );
        assert_eq!(fields("limit=201"), ["limit"]);
        assert_eq!(fields("cursor=not-a-cursor"), ["cursor"]);
    }

    #[test]
    fn a_date_bound_covers_whole_days_in_the_users_zone() {
        let q =
            ListQuery::parse(Some("dueBefore=2026-12-01&dueAfter=2026-11-30"), Tz::Europe__Berlin).unwrap();
        assert_eq!(q.due_before.unwrap().to_rfc3339(), "2026-12-01T23:00:00+00:00");
        assert_eq!(q.due_after.unwrap().to_rfc3339(), "2026-11-29T23:00:00+00:00");
    }

    #[test]
    fn a_cursor_round_trips_and_is_bound_to_its_sort() {
        let cursor = Cursor {
            sort: SortField::Title,
            order: SortOrder::Asc,
            value: "buy milk".into(),
            task_id: Uuid::nil(),
        };
        let q = parse(&format!("sort=title&order=asc&cursor={}", cursor.encode())).unwrap();
        assert_eq!(q.after, Some(cursor.clone()));
        assert_eq!(fields(&format!("sort=dueAt&order=asc&cursor={}", cursor.encode())), ["cursor"]);
    }
}

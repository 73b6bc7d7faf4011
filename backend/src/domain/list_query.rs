//! The task list's query: filters, sort order and keyset cursors as values the SQL layer can
//! trust, and the query language they are read from (`status=open&priority=high,urgent`).
//!
//! [`ListQuery::from_filters`] is the one way from typed [`ListFilters`] to a query: the list
//! endpoint reads its query string into filters ([`ListQuery::parse`]), the assistant's list
//! tool reads its arguments the same way ([`ListFilters::read`]), and the offline assistant
//! fills them in directly.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Days, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    FieldError, Priority,
    position::Position,
    task::{DateInput, Tags, is_supported_time, start_of_day},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    Open,
    Completed,
    #[default]
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum SortField {
    #[default]
    CreatedAt,
    UpdatedAt,
    DueAt,
    Priority,
    Title,
    /// The user's manual order (`domain::position`): drag and drop within a project.
    Position,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, ToSchema)]
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

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListQuery {
    pub status: StatusFilter,
    pub priorities: Vec<Priority>,
    pub tag_keys: Vec<String>,
    pub project_id: Option<Uuid>,
    pub search: Option<String>,
    pub due_before: Option<DateTime<Utc>>,
    pub due_after: Option<DateTime<Utc>>,
    pub overdue: Option<bool>,
    pub sort: SortField,
    pub order: SortOrder,
    pub after: Option<After>,
    pub limit: u32,
}

/// Where the next page starts, read from a cursor into values the SQL layer binds as they are:
/// a cursor edited by hand is refused here, never handed to the database as text to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct After {
    pub key: SortKey,
    pub task_id: Uuid,
}

/// The last row's sort value, typed by the sort it was made for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    Time(DateTime<Utc>),
    /// Undated tasks sort as if due at `infinity`, so a cursor may stand among them.
    NoDueDate,
    Priority(Priority),
    /// The case-folded title.
    Title(String),
    Position(Position),
}

/// A task list's filters, sort and page as typed values, before the rules that span them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListFilters {
    pub status: StatusFilter,
    pub priorities: Vec<Priority>,
    /// As the user wrote them; tags match ignoring case.
    pub tags: Vec<String>,
    /// Only the tasks of this project (a project of another user matches nothing).
    pub project_id: Option<Uuid>,
    pub search: Option<String>,
    pub due_before: Option<DateTime<Utc>>,
    pub due_after: Option<DateTime<Utc>>,
    pub overdue: Option<bool>,
    pub sort: SortField,
    pub order: SortOrder,
    /// [`ListQuery::DEFAULT_LIMIT`] when absent.
    pub limit: Option<u32>,
    /// The `nextCursor` of the previous page, as the client sent it.
    pub cursor: Option<String>,
}

impl ListFilters {
    /// Reads one parameter of the query language into these filters. Lists may repeat the
    /// parameter or separate values by commas (`priority=high&priority=urgent`,
    /// `priority=high,urgent`); unknown names are errors, so a typo is reported instead of
    /// silently ignored. Dates alone are whole days in `tz`.
    pub fn read(&mut self, key: &str, value: &str, tz: Tz) -> Result<(), FieldError> {
        let value = value.trim();
        // PostgreSQL text cannot hold NUL; refuse it here rather than fail in the query.
        if value.contains('\0') {
            return Err(FieldError::new(key, "must not contain NUL characters"));
        }
        match key {
            "status" => self.status = parse_name("status", value, "must be open, completed or all")?,
            "priority" => {
                let mut parsed = split(value)
                    .map(|p| {
                        p.parse::<Priority>()
                            .map_err(|_| bad("priority", "must be low, medium, high or urgent"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                self.priorities.append(&mut parsed);
            }
            "tag" => self.tags.extend(split(value).map(str::to_owned)),
            "projectId" => {
                self.project_id =
                    Some(value.parse().map_err(|_| bad("projectId", "must be a project id (a UUID)"))?);
            }
            "search" => self.search = parse_search(value)?,
            "dueBefore" => self.due_before = Some(parse_bound("dueBefore", value, tz, Bound::Before)?),
            "dueAfter" => self.due_after = Some(parse_bound("dueAfter", value, tz, Bound::After)?),
            "overdue" => self.overdue = Some(parse_bool("overdue", value)?),
            "sort" => {
                self.sort = parse_name(
                    "sort",
                    value,
                    "must be createdAt, updatedAt, dueAt, priority, title or position",
                )?;
            }
            "order" => self.order = parse_name("order", value, "must be asc or desc")?,
            "limit" => self.limit = Some(parse_limit(value)?),
            "cursor" => self.cursor = Some(value.to_owned()),
            other => {
                return Err(bad(
                    other,
                    "is not a known parameter (status, priority, tag, projectId, search, dueBefore, dueAfter, overdue, sort, order, limit, cursor)",
                ));
            }
        }
        Ok(())
    }
}

impl ListQuery {
    pub const DEFAULT_LIMIT: u32 = 50;
    pub const MAX_LIMIT: u32 = 200;
    pub const MAX_SEARCH_CHARS: usize = 200;

    /// The query for `filters`: tags folded to the keys they match by, repeats dropped, and a
    /// cursor taken only with the sort and order it was made for.
    pub fn from_filters(filters: ListFilters) -> Result<Self, FieldError> {
        let after = match filters.cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(raw) => match Cursor::decode(&raw) {
                Some(c) if c.sort != filters.sort || c.order != filters.order => {
                    return Err(bad(
                        "cursor",
                        "belongs to a different sort or order; start again without it",
                    ));
                }
                Some(c) => match c.key() {
                    Some(key) => Some(After { key, task_id: c.task_id }),
                    None => return Err(not_a_cursor()),
                },
                None => return Err(not_a_cursor()),
            },
        };
        let mut priorities = filters.priorities;
        priorities.dedup();
        let mut tag_keys: Vec<String> = filters.tags.iter().map(|t| Tags::key(t)).collect();
        tag_keys.dedup();
        Ok(Self {
            status: filters.status,
            priorities,
            tag_keys,
            project_id: filters.project_id,
            search: filters.search,
            due_before: filters.due_before,
            due_after: filters.due_after,
            overdue: filters.overdue,
            sort: filters.sort,
            order: filters.order,
            after,
            limit: filters.limit.unwrap_or(Self::DEFAULT_LIMIT),
        })
    }

    /// The query for filters read from text, or every problem at once: `read_errors` (those
    /// [`ListFilters::read`] met, in the order of the parameters), then the query's own.
    pub fn from_read(
        filters: ListFilters,
        mut read_errors: Vec<FieldError>,
    ) -> Result<Self, Vec<FieldError>> {
        match Self::from_filters(filters) {
            Ok(query) if read_errors.is_empty() => Ok(query),
            Ok(_) => Err(read_errors),
            Err(e) => {
                read_errors.push(e);
                Err(read_errors)
            }
        }
    }

    /// Parses the list endpoint's query string, each parameter with [`ListFilters::read`].
    pub fn parse(raw: Option<&str>, tz: Tz) -> Result<Self, Vec<FieldError>> {
        let mut filters = ListFilters::default();
        let mut errors = Vec::new();
        for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            if let Err(e) = filters.read(&key, &value, tz) {
                errors.push(e);
            }
        }
        Self::from_read(filters, errors)
    }
}

impl Cursor {
    /// How a cursor spells [`SortKey::NoDueDate`].
    pub const NO_DUE_DATE: &'static str = "infinity";

    /// The sort value, if it is one this API could have written: times within the years tasks
    /// may have, and no character a title cannot hold (PostgreSQL refuses NUL in text).
    fn key(&self) -> Option<SortKey> {
        let time = || {
            DateTime::parse_from_rfc3339(&self.value)
                .ok()
                .map(|t| t.with_timezone(&Utc))
                .filter(|t| is_supported_time(*t))
                .map(SortKey::Time)
        };
        match self.sort {
            SortField::DueAt if self.value == Self::NO_DUE_DATE => Some(SortKey::NoDueDate),
            SortField::CreatedAt | SortField::UpdatedAt | SortField::DueAt => time(),
            SortField::Priority => self.value.parse().ok().map(SortKey::Priority),
            SortField::Title => {
                (!self.value.chars().any(char::is_control)).then(|| SortKey::Title(self.value.clone()))
            }
            SortField::Position => Position::parse(&self.value).map(SortKey::Position),
        }
    }
}

fn not_a_cursor() -> FieldError {
    bad("cursor", "is not a cursor returned by this API")
}

fn bad(field: &str, message: &str) -> FieldError {
    FieldError::new(field, message)
}

fn split(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|v| !v.is_empty())
}

/// One of an enum's names as its JSON spells them.
fn parse_name<T: DeserializeOwned>(field: &str, value: &str, message: &str) -> Result<T, FieldError> {
    serde_json::from_value(serde_json::Value::String(value.to_owned())).map_err(|_| bad(field, message))
}

fn parse_search(value: &str) -> Result<Option<String>, FieldError> {
    match value.chars().count() {
        0 => Ok(None),
        n if n <= ListQuery::MAX_SEARCH_CHARS => Ok(Some(value.to_owned())),
        _ => Err(bad("search", &format!("must be at most {} characters", ListQuery::MAX_SEARCH_CHARS))),
    }
}

enum Bound {
    Before,
    After,
}

/// `dueBefore=2026-12-01` includes all of December 1st; `dueAfter=2026-12-01` starts at its
/// first instant.
fn parse_bound(field: &str, value: &str, tz: Tz, bound: Bound) -> Result<DateTime<Utc>, FieldError> {
    match (DateInput::parse(value), bound) {
        (Some(DateInput::Instant(at)), _) => Ok(at),
        (Some(DateInput::Date(date)), Bound::After) => Ok(start_of_day(date, tz)),
        (Some(DateInput::Date(date)), Bound::Before) => {
            Ok(start_of_day(date.checked_add_days(Days::new(1)).unwrap_or(date), tz))
        }
        (None, _) => Err(bad(field, "must be an RFC 3339 date-time or a date (2026-12-01)")),
    }
}

fn parse_bool(field: &str, value: &str) -> Result<bool, FieldError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(bad(field, "must be true or false")),
    }
}

fn parse_limit(value: &str) -> Result<u32, FieldError> {
    value
        .parse::<u32>()
        .ok()
        .filter(|l| (1..=ListQuery::MAX_LIMIT).contains(l))
        .ok_or_else(|| bad("limit", &format!("must be a whole number from 1 to {}", ListQuery::MAX_LIMIT)))
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
        assert_eq!(q.after, Some(After { key: SortKey::Title("buy milk".into()), task_id: Uuid::nil() }));
        assert_eq!(fields(&format!("sort=dueAt&order=asc&cursor={}", cursor.encode())), ["cursor"]);
    }

    #[test]
    fn typed_filters_get_the_same_rules_as_the_query_string() {
        let filters = ListFilters {
            priorities: vec![Priority::High, Priority::High],
            tags: vec!["Work".into(), "work".into()],
            ..ListFilters::default()
        };
        let q = ListQuery::from_filters(filters).unwrap();
        assert_eq!((q.priorities, q.tag_keys, q.limit), (vec![Priority::High], vec!["work".to_owned()], 50));
        assert_eq!(parse("priority=high,high&tag=Work,work").unwrap().tag_keys, ["work"]);
        let foreign =
            Cursor { sort: SortField::Title, order: SortOrder::Asc, value: "a".into(), task_id: Uuid::nil() };
        let filters = ListFilters { cursor: Some(foreign.encode()), ..ListFilters::default() };
        assert_eq!(ListQuery::from_filters(filters).unwrap_err().field, "cursor");
    }
}

//! Reading a Todoist CSV export (one file per project) into what an import would create: the
//! sections in file order, the tasks with their fields parsed, and every row that could not be
//! taken whole, with the reason. Pure: no database, so every mapping rule is unit-tested here.
//!
//! The format: a header row naming the columns (`TYPE`, `CONTENT`, `DESCRIPTION`, `PRIORITY`,
//! `INDENT`, `DATE`, `TIMEZONE`, `DURATION`, `DURATION_UNIT`, …, in any order and case, unknown
//! ones ignored), then one row per
//! `task`, `section` (its tasks follow it) or `note` (a comment on the task before it), with
//! blank rows between groups.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::{
    FieldError, Priority,
    name::Name,
    quick_add,
    recurrence::Recurrence,
    task::{Estimate, Tags, TaskDescription, TaskTitle, parse_due},
};

/// The largest file accepted, and the most rows: one request holds one transaction, so this
/// bounds how long it runs and locks (Todoist itself caps a project at a few hundred tasks).
pub const MAX_CSV_BYTES: usize = 1024 * 1024;
pub const MAX_ROWS: usize = 2000;

/// A file's row that is reported: its line in the file, the header being line 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowMessage {
    pub row: u64,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedTask {
    pub row: u64,
    pub title: TaskTitle,
    /// The task's description followed by its comments (note rows), one paragraph each.
    pub description: Option<TaskDescription>,
    pub priority: Priority,
    pub tags: Tags,
    pub due_at: Option<DateTime<Utc>>,
    pub recurrence: Option<Recurrence>,
    /// An index into [`Plan::sections`].
    pub section: Option<usize>,
    /// The task this one is a subtask of: an index into [`Plan::tasks`], an earlier one.
    pub parent: Option<usize>,
    /// Todoist's duration in minutes, which is what an estimate is here.
    pub estimate: Option<Estimate>,
}

/// What the file asks for. `skipped` rows create nothing; `notes` are rows imported with
/// something left out or changed.
#[derive(Debug, Default)]
pub struct Plan {
    /// Section names in file order, each once (ignoring case).
    pub sections: Vec<Name>,
    pub tasks: Vec<PlannedTask>,
    pub skipped: Vec<RowMessage>,
    pub notes: Vec<RowMessage>,
}

/// Todoist's priority column counts as its UI does, p1 (1) the most urgent to p4 (4, Todoist's
/// "no priority"). The four levels map to our four in order, so sorting by priority keeps
/// Todoist's order; an empty cell is our default. `None`: not a Todoist priority.
pub fn map_priority(cell: &str) -> Option<Priority> {
    match cell.trim() {
        "1" => Some(Priority::Urgent),
        "2" => Some(Priority::High),
        "3" => Some(Priority::Medium),
        "4" => Some(Priority::Low),
        "" => Some(Priority::default()),
        _ => None,
    }
}

fn csv_error(message: impl Into<String>) -> FieldError {
    FieldError::new("csv", message)
}

/// The columns this import reads, found by header name.
struct Columns {
    kind: usize,
    content: usize,
    description: Option<usize>,
    priority: Option<usize>,
    indent: Option<usize>,
    date: Option<usize>,
    timezone: Option<usize>,
    duration: Option<usize>,
    duration_unit: Option<usize>,
    /// Columns whose content has no place here, with how the report names them.
    dropped: Vec<(usize, &'static str)>,
}

impl Columns {
    fn find(header: &csv::StringRecord) -> Result<Self, FieldError> {
        let position = |name: &str| header.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
        let (Some(kind), Some(content)) = (position("TYPE"), position("CONTENT")) else {
            return Err(csv_error("is not a Todoist export: the header row needs TYPE and CONTENT columns"));
        };
        let dropped = [("RESPONSIBLE", "the assignee"), ("DEADLINE", "the deadline")]
            .into_iter()
            .filter_map(|(name, what)| position(name).map(|i| (i, what)))
            .collect();
        Ok(Self {
            kind,
            content,
            description: position("DESCRIPTION"),
            priority: position("PRIORITY"),
            indent: position("INDENT"),
            date: position("DATE"),
            timezone: position("TIMEZONE"),
            duration: position("DURATION"),
            duration_unit: position("DURATION_UNIT"),
            dropped,
        })
    }
}

fn cell(record: &csv::StringRecord, column: Option<usize>) -> &str {
    column.and_then(|i| record.get(i)).unwrap_or("").trim()
}

/// Reads the file. Only a file that is not a Todoist CSV at all is an error (naming `csv`);
/// a bad row is skipped and reported.
pub fn read(text: &str, now: DateTime<Utc>, user_tz: Tz) -> Result<Plan, FieldError> {
    if text.len() > MAX_CSV_BYTES {
        return Err(csv_error(format!("must be at most {} KiB", MAX_CSV_BYTES / 1024)));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| csv_error(format!("cannot be read as CSV: {e}")))?.clone();
    if header.iter().all(|h| h.trim().is_empty()) {
        return Err(csv_error("has no header row"));
    }
    let columns = Columns::find(&header)?;
    let mut reading =
        Reading { plan: Plan::default(), section: None, last_task: None, last_parent: None, now, user_tz };
    let mut lines = Lines { text, offset: 0, line: 1 };
    let mut rows = 0;
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(format!("cannot be read as CSV: {e}")))?;
        rows += 1;
        if rows > MAX_ROWS {
            return Err(csv_error(format!("must have at most {MAX_ROWS} rows")));
        }
        let start = record.position().map_or(0, csv::Position::byte);
        let row = lines.of(usize::try_from(start).unwrap_or(usize::MAX));
        reading.row(&columns, &record, row);
    }
    Ok(reading.plan)
}

/// Line numbers as an editor or a spreadsheet shows them. The reader's own count starts a
/// record at the empty lines it skipped before it, so lines are counted here from byte offsets,
/// moving forward only (records come in order).
struct Lines<'a> {
    text: &'a str,
    offset: usize,
    line: u64,
}

impl Lines<'_> {
    /// The line of the record whose reading began at byte `start`.
    fn of(&mut self, start: usize) -> u64 {
        let start = start.clamp(self.offset, self.text.len());
        let before = &self.text[self.offset..start];
        self.line += before.bytes().filter(|&b| b == b'\n').count() as u64;
        let rest = &self.text[start..];
        let blank = rest.len() - rest.trim_start_matches(['\r', '\n']).len();
        self.line += rest[..blank].bytes().filter(|&b| b == b'\n').count() as u64;
        self.offset = start + blank;
        self.line
    }
}

struct Reading {
    plan: Plan,
    /// The section the next task goes in: the last section row's, once it was taken.
    section: Option<usize>,
    /// The last task taken, which a note row comments on (`None` after a skipped task, so its
    /// comments are not put on the task before it).
    last_task: Option<usize>,
    /// The last top-level task of the current section, which indented tasks are subtasks of.
    last_parent: Option<usize>,
    now: DateTime<Utc>,
    user_tz: Tz,
}

impl Reading {
    fn skip(&mut self, row: u64, message: impl Into<String>) {
        self.plan.skipped.push(RowMessage { row, message: message.into() });
    }

    fn note(&mut self, row: u64, message: impl Into<String>) {
        self.plan.notes.push(RowMessage { row, message: message.into() });
    }

    fn row(&mut self, columns: &Columns, record: &csv::StringRecord, row: u64) {
        let content = cell(record, Some(columns.content));
        match cell(record, Some(columns.kind)).to_ascii_lowercase().as_str() {
            "" if record.iter().all(|c| c.trim().is_empty()) => {}
            "task" => self.task(columns, record, row),
            "section" => self.section(content, row),
            "note" => self.comment(content, row),
            "" => self.skip(row, "has no TYPE (task, section or note)"),
            other => self.skip(row, format!("TYPE {other:?} is not imported (only task, section and note)")),
        }
    }

    fn section(&mut self, content: &str, row: u64) {
        self.last_task = None;
        self.last_parent = None;
        match Name::parse("section", content) {
            Ok(name) => {
                let existing =
                    self.plan.sections.iter().position(|s| s.as_str().eq_ignore_ascii_case(name.as_str()));
                self.section = Some(existing.unwrap_or_else(|| {
                    self.plan.sections.push(name);
                    self.plan.sections.len() - 1
                }));
            }
            Err(e) => {
                self.section = None;
                self.skip(
                    row,
                    format!("section name {}; its tasks are imported outside any section", e.message),
                );
            }
        }
    }

    fn comment(&mut self, content: &str, row: u64) {
        let Some(index) = self.last_task else {
            return self.skip(row, "is a comment with no imported task before it");
        };
        if content.is_empty() {
            return;
        }
        let task = &mut self.plan.tasks[index];
        let joined = match &task.description {
            Some(d) => format!("{}\n\n{content}", d.clone().into_inner()),
            None => content.to_owned(),
        };
        match TaskDescription::parse(&joined) {
            Ok(description) => task.description = description,
            Err(e) => {
                let row_of_task = task.row;
                self.skip(
                    row,
                    format!(
                        "comment not added to the task of row {row_of_task}: its description {}",
                        e.message
                    ),
                );
            }
        }
    }

    fn task(&mut self, columns: &Columns, record: &csv::StringRecord, row: u64) {
        self.last_task = None;
        let (title, labels) = split_labels(cell(record, Some(columns.content)));
        let title = match TaskTitle::parse(&title) {
            Ok(title) => title,
            Err(e) => return self.skip(row, format!("title {}", e.message)),
        };
        let description = match TaskDescription::parse(cell(record, columns.description)) {
            Ok(description) => description,
            Err(e) => return self.skip(row, format!("description {}", e.message)),
        };
        let priority = map_priority(cell(record, columns.priority)).unwrap_or_else(|| {
            let raw = cell(record, columns.priority);
            self.note(row, format!("PRIORITY {raw:?} is not 1–4; imported with the default priority"));
            Priority::default()
        });
        let tags = self.tags(labels, row);
        let tz = self.zone(cell(record, columns.timezone), row);
        let (due_at, recurrence) = self.schedule(cell(record, columns.date), tz, row);
        let indent = cell(record, columns.indent);
        let parent = match indent.parse::<u32>() {
            Ok(n) if n > 1 => self.parent(n, recurrence.is_some(), row),
            _ => None,
        };
        let estimate =
            self.estimate(cell(record, columns.duration), cell(record, columns.duration_unit), row);
        for &(i, what) in &columns.dropped {
            if !cell(record, Some(i)).is_empty() {
                self.note(row, format!("{what} is not imported"));
            }
        }
        self.plan.tasks.push(PlannedTask {
            row,
            title,
            description,
            priority,
            tags,
            due_at,
            recurrence,
            section: self.section,
            parent,
            estimate,
        });
        self.last_task = Some(self.plan.tasks.len() - 1);
        if parent.is_none() {
            self.last_parent = self.last_task;
        }
    }

    /// A duration in minutes becomes the estimate (Todoist writes the unit beside it; a file
    /// without the unit column counts minutes, Todoist's only unit for a timed task). A duration
    /// in days marks an all-day span, not effort, so it is left out with a note, as is one
    /// longer than an estimate can be.
    fn estimate(&mut self, amount: &str, unit: &str, row: u64) -> Option<Estimate> {
        if amount.is_empty() {
            return None;
        }
        if !(unit.is_empty() || unit.eq_ignore_ascii_case("minute")) {
            self.note(
                row,
                format!("a DURATION in {unit:?} units is not imported (estimates are in minutes)"),
            );
            return None;
        }
        let parsed = amount.parse::<i64>().ok().map(Estimate::parse);
        if let Some(Ok(estimate)) = parsed {
            return Some(estimate);
        }
        self.note(
            row,
            format!(
                "DURATION {amount:?} is not 1 to {} minutes; imported without an estimate",
                Estimate::MAX_MINUTES
            ),
        );
        None
    }

    /// The parent of a task at INDENT `indent` (2 or more): the last top-level task of its
    /// section. Subtasks are one level deep and do not repeat here, so deeper ones go under
    /// the same task, and one that repeats or has no task above it stays a task of its own.
    fn parent(&mut self, indent: u32, repeats: bool, row: u64) -> Option<usize> {
        let Some(parent) = self.last_parent else {
            self.note(
                row,
                format!("a subtask (INDENT {indent}) with no task above it; imported as a task of its own"),
            );
            return None;
        };
        if repeats {
            self.note(
                row,
                "a repeating subtask; imported as a task of its own (subtasks do not repeat here)",
            );
            return None;
        }
        if indent > 2 {
            let parent_row = self.plan.tasks[parent].row;
            self.note(row, format!("INDENT {indent}: subtasks are one level deep here; imported under row {parent_row}'s task"));
        }
        Some(parent)
    }

    /// Labels that are valid tags, each once; the rest are reported.
    fn tags(&mut self, labels: Vec<String>, row: u64) -> Tags {
        let mut kept: Vec<String> = Vec::new();
        for label in labels {
            let fits = kept.len() < Tags::MAX_TAGS && Tags::parse(std::slice::from_ref(&label)).is_ok();
            if kept.iter().any(|k| Tags::same(k, &label)) {
                continue;
            }
            if fits {
                kept.push(label);
            } else {
                self.note(
                    row,
                    format!(
                        "label @{label} is not imported: not a valid tag, or past the {} a task may have",
                        Tags::MAX_TAGS
                    ),
                );
            }
        }
        Tags::parse(&kept).unwrap_or_default()
    }

    fn zone(&mut self, raw: &str, row: u64) -> Tz {
        if raw.is_empty() {
            return self.user_tz;
        }
        raw.parse().unwrap_or_else(|_| {
            self.note(row, format!("TIMEZONE {raw:?} is not an IANA time zone; your own was used"));
            self.user_tz
        })
    }

    fn schedule(&mut self, date: &str, tz: Tz, row: u64) -> (Option<DateTime<Utc>>, Option<Recurrence>) {
        if date.is_empty() {
            return (None, None);
        }
        let not_understood = |why: &str| format!("DATE {date:?} {why}; imported without a due date");
        let Some(schedule) = quick_add::parse_schedule(date, self.now, tz) else {
            self.note(row, not_understood("is not understood"));
            return (None, None);
        };
        let due = match parse_due("dueAt", &schedule.due_at, tz) {
            Ok(due) => due,
            Err(e) => {
                self.note(row, not_understood(&e.message));
                return (None, None);
            }
        };
        match schedule.recurrence.map(Recurrence::parse).transpose() {
            Ok(recurrence) => (Some(due), recurrence),
            Err(errors) => {
                let why = errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join("; ");
                self.note(row, format!("the repeat in DATE {date:?} is not imported ({why}); imported with its first due date"));
                (Some(due), None)
            }
        }
    }
}

/// Todoist's `@label` words taken out of a task's content: (the title, the labels).
fn split_labels(content: &str) -> (String, Vec<String>) {
    let mut words = Vec::new();
    let mut labels = Vec::new();
    for word in content.split_whitespace() {
        match word.strip_prefix('@') {
            Some(label) if !label.is_empty() => labels.push(label.to_owned()),
            _ => words.push(word),
        }
    }
    (words.join(" "), labels)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const HEADER: &str =
        "TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE\n";

    /// Friday 27 November 2026, 10:00 in Berlin.
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap()
    }

    fn plan(rows: &str) -> Plan {
        read(&format!("{HEADER}{rows}"), now(), Tz::Europe__Berlin).unwrap()
    }

    #[test]
    fn priorities_map_p1_to_urgent_and_p4_to_low() {
        let mapped: Vec<_> = ["1", "2", "3", "4", ""].iter().map(|p| map_priority(p)).collect();
        let expected = [Priority::Urgent, Priority::High, Priority::Medium, Priority::Low, Priority::Medium];
        assert_eq!(mapped, expected.map(Some));
        assert_eq!(map_priority("5"), None);
        assert_eq!(map_priority("high"), None);
    }

    #[test]
    fn labels_become_tags_and_leave_the_title() {
        let (title, labels) = split_labels("Buy milk @errands  @home @");
        assert_eq!(title, "Buy milk @");
        assert_eq!(labels, ["errands", "home"]);
    }

    #[test]
    fn sections_hold_the_tasks_after_them() {
        let p = plan(
            "task,Loose,,4,1,,,,,\nsection,Doing,,,,,,,,\ntask,A,,1,1,,,,,\nsection,doing,,,,,,,,\ntask,B,,2,1,,,,,\n",
        );
        assert_eq!(p.sections.iter().map(Name::as_str).collect::<Vec<_>>(), ["Doing"]);
        let placed: Vec<_> = p.tasks.iter().map(|t| (t.title.as_str(), t.section, t.row)).collect();
        assert_eq!(placed, [("Loose", None, 2), ("A", Some(0), 4), ("B", Some(0), 6)]);
    }

    #[test]
    fn comments_join_the_description_and_orphans_are_skipped() {
        let p = plan("note,Orphan,,,,,,,,\ntask,A,Desc,4,1,,,,,\nnote,First,,,,,,,,\nnote,Second,,,,,,,,\n");
        assert_eq!(p.tasks[0].description.clone().unwrap().into_inner(), "Desc\n\nFirst\n\nSecond");
        assert_eq!(p.skipped.iter().map(|s| s.row).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn a_date_is_read_in_the_rows_zone_else_the_users() {
        let p =
            plan("task,A,,4,1,,,tomorrow 5pm,en,America/New_York\ntask,B,,4,1,,,tomorrow 5pm,en,Mars/Base\n");
        assert_eq!(p.tasks[0].due_at, Some(Utc.with_ymd_and_hms(2026, 11, 28, 22, 0, 0).unwrap()));
        assert_eq!(p.tasks[1].due_at, Some(Utc.with_ymd_and_hms(2026, 11, 28, 16, 0, 0).unwrap()));
        assert_eq!(p.notes.iter().map(|n| n.row).collect::<Vec<_>>(), [3]);
    }

    #[test]
    fn a_date_not_understood_leaves_the_task_undated_with_a_note() {
        let p = plan("task,A,,4,1,,,whenever I feel like it,en,\n");
        assert_eq!(p.tasks[0].due_at, None);
        assert!(p.notes[0].message.contains("not understood"), "{:?}", p.notes);
    }

    #[test]
    fn a_duration_in_minutes_becomes_the_estimate_and_others_are_noted() {
        let p = read(
            "TYPE,CONTENT,DURATION,DURATION_UNIT\ntask,A,45,minute\ntask,B,,\ntask,C,2,day\ntask,D,1441,minute\ntask,E,soon,minute\n",
            now(),
            Tz::UTC,
        )
        .unwrap();
        let estimates: Vec<_> = p.tasks.iter().map(|t| t.estimate.map(Estimate::minutes)).collect();
        assert_eq!(estimates, [Some(45), None, None, None, None]);
        assert_eq!(p.notes.iter().map(|n| n.row).collect::<Vec<_>>(), [4, 5, 6]);
        assert!(p.notes[0].message.contains("\"day\" units"), "{:?}", p.notes);
        assert!(p.skipped.is_empty(), "the tasks themselves are imported");
        let without_unit = read("TYPE,CONTENT,DURATION\ntask,A,30\n", now(), Tz::UTC).unwrap();
        assert_eq!(without_unit.tasks[0].estimate.map(Estimate::minutes), Some(30));
    }

    #[test]
    fn rows_that_cannot_be_tasks_are_skipped_and_blank_rows_ignored() {
        let p = plan(",,,,,,,,,\n\ntask,,,4,1,,,,,\ntask,@only,,4,1,,,,,\nmeta,view_style=list,,,,,,,,\n");
        assert!(p.tasks.is_empty());
        assert_eq!(p.skipped.iter().map(|s| s.row).collect::<Vec<_>>(), [4, 5, 6]);
    }

    #[test]
    fn columns_are_found_by_name_in_any_order_and_case() {
        let text = "\u{feff}content,Type,extra\n\"Call \"\"Bob\"\"\nback\",task,x\n";
        let p = read(text, now(), Tz::UTC).unwrap();
        assert_eq!(p.tasks[0].title.as_str(), "Call \"Bob\" back", "a line break in a title is a space");
        let p = read("content,Type,extra\n\"Call, \"\"Bob\"\"\",task,x\n", now(), Tz::UTC).unwrap();
        assert_eq!(p.tasks[0].title.as_str(), "Call, \"Bob\"");
    }

    #[test]
    fn a_file_without_type_and_content_is_refused() {
        for text in ["", "a,b\n1,2\n", "TYPE,DESCRIPTION\ntask,x\n"] {
            assert_eq!(read(text, now(), Tz::UTC).unwrap_err().field, "csv", "{text:?}");
        }
    }
}

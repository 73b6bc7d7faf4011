//! The quick-add parser: one line of text ("Submit report fri 5pm !high #work every week") into
//! the fields of a new task plus the spans it recognised, so a UI can highlight them. The chat
//! assistant's offline engine uses the same parser for the task part of "add …" messages, and
//! its date phrases for "move X to friday".
//!
//! Projects and sections are named the way Todoist users expect: `#Work` (or `#"Two words"`)
//! picks the user's project of that name and `/Doing` a section of it. So that lines written
//! before projects existed keep their meaning, a `#word` that names none of the user's projects
//! is a tag, as it always was; `@word` is always a tag. The parser stays a pure function: the
//! caller passes the user's projects in ([`Places`]).
//!
//! Relative dates ("tomorrow", "fri", "in 3 days") are resolved against `now` in the user's time
//! zone; a date without a time is sent as a plain date, which the task API reads as the end of
//! that day. Span offsets are UTF-16 code units, the indices a browser's JavaScript strings use.

use chrono::{DateTime, Datelike, Days, Duration, LocalResult, Months, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    Priority,
    recurrence::{Frequency, RecurrenceInput, Weekday},
    task::Tags,
};

// A domain value of its own, so this parser needs nothing of the task API; the API turns it
// into its create request (`From<ProposedTask> for CreateTaskRequest`).
/// The task a line proposes, shaped like a create request so a client can send it as is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProposedTask {
    /// What is left of the line once the recognised parts are taken out; absent when nothing is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// A date (end of that day) or an RFC 3339 date-time with the user's offset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<RecurrenceInput>,
    /// The project a `#Name` named, or the one a recognised `/Section` belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<Uuid>,
    /// The section a `/Name` named, one of `projectId`'s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section_id: Option<Uuid>,
}

/// One of the user's projects, as a line may name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownProject {
    pub id: Uuid,
    pub name: String,
    pub is_inbox: bool,
    pub sections: Vec<KnownSection>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownSection {
    pub id: Uuid,
    pub name: String,
}

impl KnownProject {
    /// The project called `name` among `projects`; names are unique per user ignoring case.
    pub fn named<'p>(projects: &'p [Self], name: &str) -> Option<&'p Self> {
        projects.iter().find(|p| same_name(&p.name, name))
    }

    pub fn section(&self, name: &str) -> Option<&KnownSection> {
        self.sections.iter().find(|s| same_name(&s.name, name))
    }
}

/// Project and section names match ignoring case, as the database keeps them unique.
pub fn same_name(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// Where a line is typed: the user's projects and the one on screen, which a `/Section`
/// without a `#Project` refers to (the Inbox when there is none).
#[derive(Debug, Clone, Copy, Default)]
pub struct Places<'a> {
    pub projects: &'a [KnownProject],
    pub on_screen: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SpanKind {
    Date,
    Time,
    Priority,
    Tag,
    Recurrence,
    Project,
    Section,
}

/// A recognised part of the line. `start`/`end` are UTF-16 code-unit offsets (end exclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub kind: SpanKind,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct QuickAdd {
    pub task: ProposedTask,
    pub spans: Vec<Span>,
}

/// Parses one line that names no projects: every `#word` is a tag.
pub fn parse(text: &str, now: DateTime<Utc>, tz: Tz) -> QuickAdd {
    parse_in(text, now, tz, Places::default())
}

/// Parses one line typed among the user's projects.
pub fn parse_in(text: &str, now: DateTime<Utc>, tz: Tz, places: Places<'_>) -> QuickAdd {
    Parser::new(text, now, tz, places).run()
}

/// Just the due time in `text` ("friday 5pm", "tomorrow", "in 2 days"), as `dueAt` would take it.
pub fn parse_due_phrase(text: &str, now: DateTime<Utc>, tz: Tz) -> Option<String> {
    let parsed = parse(text, now, tz);
    let only_time = parsed.spans.iter().all(|s| matches!(s.kind, SpanKind::Date | SpanKind::Time));
    (only_time && !parsed.spans.is_empty()).then_some(parsed.task.due_at).flatten()
}

/// When a task is due and how it repeats, as a whole phrase says it ("every monday",
/// "tomorrow 5pm", "Mar 1 2024 10:00").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// As `dueAt` takes it: a plain date (end of that day) or an RFC 3339 date-time.
    pub due_at: String,
    pub recurrence: Option<RecurrenceInput>,
}

/// `text` read as a due date with an optional repeat and nothing else: a word left over means
/// the phrase was not understood, so the caller can say so instead of guessing part of it.
pub fn parse_schedule(text: &str, now: DateTime<Utc>, tz: Tz) -> Option<Schedule> {
    let parsed = parse(text, now, tz);
    let only_schedule =
        parsed.spans.iter().all(|s| matches!(s.kind, SpanKind::Date | SpanKind::Time | SpanKind::Recurrence));
    if !only_schedule || parsed.task.title.is_some() {
        return None;
    }
    Some(Schedule { due_at: parsed.task.due_at?, recurrence: parsed.task.recurrence })
}

struct Token<'a> {
    raw: &'a str,
    /// Lowercase, without trailing punctuation.
    word: String,
    start: usize,
    end: usize,
}

#[derive(Clone, Copy)]
enum When {
    Date(NaiveDate),
    /// A date that also implies a time ("tonight").
    DateTime(NaiveDate, NaiveTime),
    Instant(DateTime<Utc>),
}

enum Found {
    Priority(Priority),
    Tags(Vec<String>),
    /// A `#Name` naming one of the user's projects; `typed` is the name as written, a tag
    /// when a project was already picked.
    Project {
        id: Uuid,
        typed: String,
    },
    Recurrence(RecurrenceInput),
    When(When),
    Time(NaiveTime),
}

struct Parser<'a> {
    text: &'a str,
    places: Places<'a>,
    tokens: Vec<Token<'a>>,
    used: Vec<bool>,
    today: NaiveDate,
    now: DateTime<Utc>,
    tz: Tz,
}

const CONNECTORS_WHEN: [&str; 6] = ["due", "by", "on", "at", "before", "until"];

impl<'a> Parser<'a> {
    fn new(text: &'a str, now: DateTime<Utc>, tz: Tz, places: Places<'a>) -> Self {
        let mut tokens = Vec::new();
        let mut start = None;
        for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
            match (c.is_whitespace(), start) {
                (true, Some(s)) => {
                    let raw = &text[s..i];
                    let word = raw.trim_end_matches([',', '.', ';', ':', '?']).to_lowercase();
                    tokens.push(Token { raw, word, start: s, end: i });
                    start = None;
                }
                (false, None) => start = Some(i),
                _ => {}
            }
        }
        let used = vec![false; tokens.len()];
        Self { text, places, tokens, used, today: now.with_timezone(&tz).date_naive(), now, tz }
    }

    fn word(&self, i: usize) -> &str {
        self.tokens.get(i).map_or("", |t| t.word.as_str())
    }

    fn run(mut self) -> QuickAdd {
        let mut task = ProposedTask::default();
        let mut spans = Vec::new();
        let (mut when, mut time, mut tags) = (None, None, Vec::new());
        let mut i = 0;
        while i < self.tokens.len() {
            if self.used[i] {
                i += 1;
                continue;
            }
            let Some((len, found)) = self.recognise(i, when.is_none(), time.is_none()) else {
                i += 1;
                continue;
            };
            let kind = match found {
                Found::Priority(p) if task.priority.is_none() => {
                    task.priority = Some(p);
                    SpanKind::Priority
                }
                Found::Tags(mut t) => {
                    tags.append(&mut t);
                    SpanKind::Tag
                }
                Found::Project { id, .. } if task.project_id.is_none() => {
                    task.project_id = Some(id);
                    SpanKind::Project
                }
                // One project per task: a second `#Name` is read as a tag, as before projects.
                Found::Project { typed, .. } => {
                    tags.push(typed);
                    SpanKind::Tag
                }
                Found::Recurrence(r) if task.recurrence.is_none() => {
                    task.recurrence = Some(r);
                    SpanKind::Recurrence
                }
                Found::When(w) => {
                    when = Some(w);
                    SpanKind::Date
                }
                Found::Time(t) => {
                    time = Some(t);
                    SpanKind::Time
                }
                _ => {
                    i += 1;
                    continue;
                }
            };
            let mut first = i;
            let connectors: &[&str] = match kind {
                SpanKind::Date | SpanKind::Time => &CONNECTORS_WHEN,
                SpanKind::Priority => &["with", "at"],
                SpanKind::Tag | SpanKind::Recurrence | SpanKind::Project | SpanKind::Section => &[],
            };
            if first > 0 && !self.used[first - 1] && connectors.contains(&self.word(first - 1)) {
                first -= 1;
            }
            spans.push(self.take(first, i + len, kind));
            i += len;
        }
        if let Some((project_id, section_id, span)) = self.section(task.project_id) {
            task.project_id = Some(project_id);
            task.section_id = Some(section_id);
            spans.push(span);
        }
        if !tags.is_empty() {
            let mut unique: Vec<String> = Vec::new();
            for t in tags {
                if !unique.iter().any(|u| Tags::same(u, &t)) {
                    unique.push(t);
                }
            }
            task.tags = Some(unique);
        }
        task.due_at = self.due(when, time, task.recurrence.as_ref());
        task.title = self.title();
        spans.sort_by_key(|s| s.start);
        QuickAdd { task, spans }
    }

    /// Marks tokens `from..to` as recognised and returns their span.
    fn take(&mut self, from: usize, to: usize, kind: SpanKind) -> Span {
        for u in &mut self.used[from..to] {
            *u = true;
        }
        let (start, end) = (self.tokens[from].start, self.tokens[to - 1].end);
        let end = start + self.text[start..end].trim_end_matches([',', '.', ';']).len();
        Span {
            start: utf16_len(&self.text[..start]),
            end: utf16_len(&self.text[..end]),
            kind,
            text: self.text[start..end].to_owned(),
        }
    }

    /// The first `/Name` naming a section of the task's project: the one `#Project` picked,
    /// else the one on screen, else the Inbox. Runs after everything else, since the
    /// `#Project` may come later in the line. A `/word` that names no section stays in the
    /// title, and only a `/` that starts a word and is followed by a letter (or a quoted
    /// name) counts, so "1/2" and "and/or" are never taken.
    fn section(&mut self, picked: Option<Uuid>) -> Option<(Uuid, Uuid, Span)> {
        let projects = self.places.projects;
        let project = match picked.or(self.places.on_screen) {
            Some(id) => projects.iter().find(|p| p.id == id)?,
            None => projects.iter().find(|p| p.is_inbox)?,
        };
        for i in 0..self.tokens.len() {
            let Some(rest) = self.tokens[i].raw.strip_prefix('/') else { continue };
            let starts_name =
                rest.strip_prefix('"').unwrap_or(rest).chars().next().is_some_and(char::is_alphabetic);
            if self.used[i] || !starts_name {
                continue;
            }
            let Some((n, name)) = self.name_at(i, '/', rest) else { continue };
            if let Some(section) = project.section(&name)
                && (i..i + n).all(|k| !self.used[k])
            {
                return Some((project.id, section.id, self.take(i, i + n, SpanKind::Section)));
            }
        }
        None
    }

    /// The name written at token `i` after its sigil (`rest` is the token without it): a
    /// quoted name, which may run over several tokens (`"Two words"`), or the rest of the
    /// token without trailing punctuation and without a second `sigil`. Returns (tokens
    /// taken, name).
    fn name_at(&self, i: usize, sigil: char, rest: &str) -> Option<(usize, String)> {
        let Some(quoted) = rest.strip_prefix('"') else {
            let name = rest.trim_end_matches([',', '.', ';', ':', '?', '!']);
            return (!name.is_empty() && !name.contains(sigil)).then(|| (1, name.to_owned()));
        };
        let open = self.tokens[i].end - quoted.len();
        let close = open + self.text[open..].find('"')?;
        let name = self.text[open..close].trim();
        let last = self.tokens.iter().position(|t| t.end > close)?;
        // The closing quote ends its word (punctuation aside): `#"a b"c` is not a name.
        let after = &self.text[close + 1..self.tokens[last].end];
        if name.is_empty() || !after.chars().all(|c| matches!(c, ',' | '.' | ';' | ':' | '?' | '!')) {
            return None;
        }
        Some((last + 1 - i, name.to_owned()))
    }

    fn title(&self) -> Option<String> {
        let words: Vec<&str> =
            self.tokens.iter().zip(&self.used).filter(|(_, used)| !**used).map(|(t, _)| t.raw).collect();
        let mut title = words.join(" ");
        loop {
            let trimmed = title.trim_end_matches([',', ';', ':', '-', ' ']).to_owned();
            let lower = trimmed.to_lowercase();
            let dangling = ["due", "by", "on", "at", "with", "and", "tagged"]
                .iter()
                .find(|w| lower.ends_with(&format!(" {w}")));
            match dangling {
                Some(w) => {
                    title = trimmed;
                    title.truncate(title.len() - w.len() - 1);
                }
                None => {
                    title = trimmed;
                    break;
                }
            }
        }
        let title = title.trim().trim_start_matches([',', ';', ':', '-']).trim().to_owned();
        (!title.is_empty()).then_some(title)
    }

    fn due(
        &self,
        when: Option<When>,
        time: Option<NaiveTime>,
        recurrence: Option<&RecurrenceInput>,
    ) -> Option<String> {
        let when = when.or_else(|| {
            let first = recurrence.map(|r| self.first_occurrence(r))?;
            Some(When::Date(first))
        });
        match (when, time) {
            (Some(When::Instant(at)), _) => Some(at.with_timezone(&self.tz).to_rfc3339()),
            (Some(When::DateTime(d, t)), None) | (Some(When::Date(d) | When::DateTime(d, _)), Some(t)) => {
                self.local(d, t)
            }
            (Some(When::Date(d)), None) => Some(d.format("%Y-%m-%d").to_string()),
            (None, Some(t)) => {
                let today = self.local_instant(self.today, t);
                let date = if today.is_some_and(|at| at > self.now) {
                    self.today
                } else {
                    self.today + Days::new(1)
                };
                self.local(date, t)
            }
            (None, None) => None,
        }
    }

    fn first_occurrence(&self, rule: &RecurrenceInput) -> NaiveDate {
        match rule.weekdays.as_deref() {
            Some(days) if !days.is_empty() => (0..7)
                .map(|n| self.today + Days::new(n))
                .find(|d| days.contains(&Weekday::from(d.weekday())))
                .unwrap_or(self.today),
            _ => self.today,
        }
    }

    fn local_instant(&self, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
        match self.tz.from_local_datetime(&date.and_time(time)) {
            LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => Some(at.with_timezone(&Utc)),
            // In a spring-forward gap: an hour later is the same wall-clock intent.
            LocalResult::None => self
                .tz
                .from_local_datetime(&(date.and_time(time) + Duration::hours(1)))
                .earliest()
                .map(|at| at.with_timezone(&Utc)),
        }
    }

    fn local(&self, date: NaiveDate, time: NaiveTime) -> Option<String> {
        self.local_instant(date, time).map(|at| at.with_timezone(&self.tz).to_rfc3339())
    }

    /// The longest thing recognised at token `i`: (tokens taken, what it is).
    fn recognise(&self, i: usize, want_when: bool, want_time: bool) -> Option<(usize, Found)> {
        let free = |n: usize| (i..i + n).all(|k| k < self.tokens.len() && !self.used[k]);
        let hit = |found: Option<(usize, Found)>| found.filter(|(n, _)| free(*n));
        hit(self.priority(i))
            .or_else(|| hit(self.tag(i)))
            .or_else(|| hit(self.recurrence(i)))
            .or_else(|| if want_when { hit(self.when(i)) } else { None })
            .or_else(|| if want_time { hit(self.time(i)) } else { None })
    }

    fn priority(&self, i: usize) -> Option<(usize, Found)> {
        let w = self.word(i);
        if let Some(name) = w.strip_prefix('!') {
            return priority_word(name).map(|p| (1, Found::Priority(p)));
        }
        if let Some(name) = w.strip_suffix("-priority") {
            return priority_word(name).map(|p| (1, Found::Priority(p)));
        }
        if w == "priority" {
            return priority_word(self.word(i + 1)).map(|p| (2, Found::Priority(p)));
        }
        let p = priority_word(w)?;
        (self.word(i + 1) == "priority").then_some((2, Found::Priority(p)))
    }

    fn tag(&self, i: usize) -> Option<(usize, Found)> {
        let t = &self.tokens[i];
        if let Some(rest) = t.raw.strip_prefix('#') {
            let (n, name) = self.name_at(i, '#', rest)?;
            return Some(match KnownProject::named(self.places.projects, &name) {
                Some(project) => (n, Found::Project { id: project.id, typed: name }),
                None => (n, Found::Tags(vec![name])),
            });
        }
        if let Some(rest) = t.raw.strip_prefix('@') {
            return self.name_at(i, '@', rest).map(|(n, name)| (n, Found::Tags(vec![name])));
        }
        if t.word != "tagged" {
            return None;
        }
        let mut tags = Vec::new();
        let mut n = 1;
        while let Some(next) = self.tokens.get(i + n) {
            if next.word.is_empty() || CONNECTORS_WHEN.contains(&next.word.as_str()) {
                break;
            }
            let tag = next.raw.trim_start_matches('#').trim_end_matches([',', '.', ';', ':']);
            tags.push(tag.to_owned());
            n += 1;
            let continues = next.raw.ends_with(',')
                || (self.word(i + n) == "and" && self.tokens.get(i + n + 1).is_some() && {
                    n += 1;
                    true
                });
            if !continues {
                break;
            }
        }
        (!tags.is_empty()).then_some((n, Found::Tags(tags)))
    }

    fn recurrence(&self, i: usize) -> Option<(usize, Found)> {
        let rule = |frequency, interval: i64| RecurrenceInput {
            frequency,
            interval: (interval > 1).then_some(interval),
            weekdays: None,
            nth_weekday: None,
            until: None,
            count: None,
            basis: None,
        };
        let w = self.word(i);
        let single = match w {
            "daily" => Some(Frequency::Daily),
            "weekly" => Some(Frequency::Weekly),
            "monthly" => Some(Frequency::Monthly),
            "yearly" | "annually" => Some(Frequency::Yearly),
            _ => None,
        };
        if let Some(f) = single {
            return Some((1, Found::Recurrence(rule(f, 1))));
        }
        if !matches!(w, "every" | "each") {
            return None;
        }
        let (mut n, interval) = match self.word(i + 1) {
            "other" => (2, 2),
            word => match word.parse::<i64>() {
                Ok(k) if (1..=999).contains(&k) => (2, k),
                _ => (1, 1),
            },
        };
        let unit = self.word(i + n);
        let frequency = match unit.trim_end_matches('s') {
            "day" => Some(Frequency::Daily),
            "week" => Some(Frequency::Weekly),
            "month" => Some(Frequency::Monthly),
            "year" => Some(Frequency::Yearly),
            _ => None,
        };
        if let Some(f) = frequency {
            return Some((n + 1, Found::Recurrence(rule(f, interval))));
        }
        let days: Option<Vec<Weekday>> = match unit {
            "weekday" | "weekdays" => Some(Weekday::ALL[..5].to_vec()),
            "weekend" | "weekends" => Some(Weekday::ALL[5..].to_vec()),
            _ => None,
        };
        if let Some(days) = days {
            let mut r = rule(Frequency::Weekly, interval);
            r.weekdays = Some(days);
            return Some((n + 1, Found::Recurrence(r)));
        }
        let mut days = Vec::new();
        while let Some(day) = weekday_word(self.word(i + n)) {
            if !days.contains(&day) {
                days.push(day);
            }
            n += 1;
            if self.word(i + n) == "and" && weekday_word(self.word(i + n + 1)).is_some() {
                n += 1;
            }
        }
        if days.is_empty() {
            return None;
        }
        days.sort();
        let mut r = rule(Frequency::Weekly, interval);
        r.weekdays = Some(days);
        Some((n, Found::Recurrence(r)))
    }

    fn when(&self, i: usize) -> Option<(usize, Found)> {
        let date = |d: NaiveDate| Found::When(When::Date(d));
        let w = self.word(i);
        let today = self.today;
        let found = match w {
            "today" | "tod" => Some((1, date(today))),
            "tonight" => Some((1, Found::When(When::DateTime(today, hm(20, 0))))),
            "tomorrow" | "tmrw" | "tmr" | "tomorow" => Some((1, date(today + Days::new(1)))),
            "yesterday" => Some((1, date(today - Days::new(1)))),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
        if let Some(day) = weekday_word(w) {
            return Some((1, date(self.coming(day, false))));
        }
        let next = self.word(i + 1);
        match (w, next) {
            ("next" | "this", day) if weekday_word(day).is_some() => {
                let day = weekday_word(day)?;
                return Some((2, date(self.coming(day, w == "next"))));
            }
            ("next", "week") => return Some((2, date(self.coming(Weekday::Mon, true)))),
            ("this", "week" | "weekend") => {
                let target = if next == "week" { Weekday::Sun } else { Weekday::Sat };
                return Some((2, date(self.coming(target, false))));
            }
            ("next", "month") => {
                let first = today.with_day(1)?.checked_add_months(Months::new(1))?;
                return Some((2, date(first)));
            }
            ("end", "of") => {
                let third = self.word(i + 2);
                let (n, unit) = if third == "the" { (4, self.word(i + 3)) } else { (3, third) };
                let d = match unit {
                    "week" => self.coming(Weekday::Sun, false),
                    "month" => today.with_day(1)?.checked_add_months(Months::new(1))? - Days::new(1),
                    _ => return None,
                };
                return Some((n, date(d)));
            }
            ("in", amount) => {
                let count = match amount {
                    "a" | "an" | "one" => 1,
                    other => other.parse::<u32>().ok().filter(|n| (1..=1000).contains(n))?,
                };
                let unit = self.word(i + 2);
                let found = match unit.trim_end_matches('s') {
                    "day" => date(today + Days::new(u64::from(count))),
                    "week" => date(today + Days::new(7 * u64::from(count))),
                    "month" => date(today.checked_add_months(Months::new(count))?),
                    "hour" => Found::When(When::Instant(self.now + Duration::hours(i64::from(count)))),
                    "minute" | "min" => {
                        Found::When(When::Instant(self.now + Duration::minutes(i64::from(count))))
                    }
                    _ => return None,
                };
                return Some((3, found));
            }
            _ => {}
        }
        if let Ok(d) = NaiveDate::parse_from_str(w, "%Y-%m-%d") {
            return Some((1, date(d)));
        }
        // "dec 1", "december 1st", "1 dec", "1st december", each optionally followed by a year
        // ("dec 1 2027", as exports and pasted text write dates).
        let month_then_day = month_word(w).zip(day_number(next));
        let day_then_month = day_number(w).zip(month_word(next)).map(|(d, m)| (m, d));
        let (month, day) = month_then_day.or(day_then_month)?;
        match year_number(self.word(i + 2)) {
            Some(year) => Some((3, date(NaiveDate::from_ymd_opt(year, month, day)?))),
            None => Some((2, date(self.month_day(month, day)?))),
        }
    }

    /// The next `month`/`day` from today (today included).
    fn month_day(&self, month: u32, day: u32) -> Option<NaiveDate> {
        let this_year = NaiveDate::from_ymd_opt(self.today.year(), month, day)?;
        if this_year >= self.today {
            Some(this_year)
        } else {
            NaiveDate::from_ymd_opt(self.today.year() + 1, month, day)
        }
    }

    /// The coming `day`: today counts unless `strictly_after`.
    fn coming(&self, day: Weekday, strictly_after: bool) -> NaiveDate {
        let from = self.today.weekday().num_days_from_monday();
        let to = chrono::Weekday::from(day).num_days_from_monday();
        let mut ahead = (7 + to - from) % 7;
        if ahead == 0 && strictly_after {
            ahead = 7;
        }
        self.today + Days::new(u64::from(ahead))
    }

    fn time(&self, i: usize) -> Option<(usize, Found)> {
        let w = self.word(i);
        match w {
            "noon" | "midday" => return Some((1, Found::Time(hm(12, 0)))),
            "midnight" => return Some((1, Found::Time(hm(23, 59)))),
            _ => {}
        }
        if let Some(t) = clock_time(w) {
            return Some((1, Found::Time(t)));
        }
        // "5 pm"
        if let Some(suffix) =
            matches!(self.word(i + 1), "am" | "pm" | "a.m" | "p.m").then(|| self.word(i + 1))
            && let Some(t) = clock_time(&format!("{w}{}", suffix.replace('.', "")))
        {
            return Some((2, Found::Time(t)));
        }
        // "at 9": a bare hour only after "at".
        if w == "at" {
            let hour = self.word(i + 1).parse::<u32>().ok().filter(|h| *h <= 23)?;
            let hour = if (1..=6).contains(&hour) { hour + 12 } else { hour };
            return Some((2, Found::Time(hm(hour, 0))));
        }
        None
    }
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap_or(NaiveTime::MIN)
}

/// "5pm", "5:30pm", "11am", "17:00", "9:15".
fn clock_time(w: &str) -> Option<NaiveTime> {
    let (digits, meridiem) = if let Some(d) = w.strip_suffix("pm") {
        (d, Some(true))
    } else if let Some(d) = w.strip_suffix("am") {
        (d, Some(false))
    } else {
        (w, None)
    };
    let (h, m) = match digits.split_once(':') {
        Some((h, m)) if m.len() == 2 => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
        None if meridiem.is_some() => (digits.parse::<u32>().ok()?, 0),
        _ => return None,
    };
    let hours = digits.split(':').next()?;
    if m > 59 || hours.is_empty() || hours.len() > 2 || !hours.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h = match meridiem {
        Some(pm) if (1..=12).contains(&h) => (h % 12) + if pm { 12 } else { 0 },
        None if h <= 23 => h,
        _ => return None,
    };
    NaiveTime::from_hms_opt(h, m, 0)
}

pub(crate) fn priority_word(w: &str) -> Option<Priority> {
    match w {
        "low" => Some(Priority::Low),
        "medium" | "med" | "normal" => Some(Priority::Medium),
        "high" => Some(Priority::High),
        "urgent" | "top" | "highest" => Some(Priority::Urgent),
        _ => None,
    }
}

fn weekday_word(w: &str) -> Option<Weekday> {
    let w = w.trim_end_matches('s');
    Some(match w {
        "mon" | "monday" => Weekday::Mon,
        "tue" | "tues" | "tuesday" => Weekday::Tue,
        "wed" | "weds" | "wednesday" => Weekday::Wed,
        "thu" | "thur" | "thurs" | "thursday" => Weekday::Thu,
        "fri" | "friday" => Weekday::Fri,
        // Not "sat" and "sun": as words they are far more common than as days.
        "saturday" => Weekday::Sat,
        "sunday" => Weekday::Sun,
        _ => return None,
    })
}

fn month_word(w: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let w = w.trim_end_matches('.');
    if w.len() < 3 {
        return None;
    }
    MONTHS.iter().position(|m| m.starts_with(w)).and_then(|i| u32::try_from(i + 1).ok())
}

fn day_number(w: &str) -> Option<u32> {
    let digits = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &w[digits.len()..];
    if !matches!(suffix, "" | "st" | "nd" | "rd" | "th") {
        return None;
    }
    digits.parse::<u32>().ok().filter(|d| (1..=31).contains(d))
}

/// A four-digit year in the range task times may have.
fn year_number(w: &str) -> Option<i32> {
    (w.len() == 4).then(|| w.parse::<i32>().ok()).flatten().filter(|y| (1970..=2200).contains(y))
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Friday 27 November 2026, 10:00 in Berlin.
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap()
    }

    fn p(text: &str) -> QuickAdd {
        parse(text, now(), Tz::Europe__Berlin)
    }

    #[test]
    fn the_headline_line_is_taken_apart() {
        let q = p("Submit report fri 5pm !high #work every week");
        assert_eq!(q.task.title.as_deref(), Some("Submit report"));
        assert_eq!(q.task.priority, Some(Priority::High));
        assert_eq!(q.task.tags, Some(vec!["work".to_owned()]));
        assert_eq!(q.task.due_at.as_deref(), Some("2026-11-27T17:00:00+01:00"));
        assert_eq!(q.task.recurrence.as_ref().map(|r| r.frequency), Some(Frequency::Weekly));
        let kinds: Vec<_> = q.spans.iter().map(|s| (s.kind, s.text.as_str(), s.start, s.end)).collect();
        assert_eq!(
            kinds,
            [
                (SpanKind::Date, "fri", 14, 17),
                (SpanKind::Time, "5pm", 18, 21),
                (SpanKind::Priority, "!high", 22, 27),
                (SpanKind::Tag, "#work", 28, 33),
                (SpanKind::Recurrence, "every week", 34, 44),
            ]
        );
    }

    #[test]
    fn offsets_count_utf16_units() {
        let q = p("Café 😀 tomorrow");
        assert_eq!(q.task.title.as_deref(), Some("Café 😀"));
        assert_eq!((q.spans[0].start, q.spans[0].end), (8, 16));
        assert_eq!(q.task.due_at.as_deref(), Some("2026-11-28"));
    }

    #[test]
    fn clock_times() {
        assert_eq!(clock_time("5pm"), Some(hm(17, 0)));
        assert_eq!(clock_time("12am"), Some(hm(0, 0)));
        assert_eq!(clock_time("12pm"), Some(hm(12, 0)));
        assert_eq!(clock_time("5:30pm"), Some(hm(17, 30)));
        assert_eq!(clock_time("17:00"), Some(hm(17, 0)));
        assert_eq!(clock_time("2026"), None);
        assert_eq!(clock_time("13pm"), None);
        assert_eq!(clock_time("5"), None);
    }

    #[test]
    fn a_time_alone_is_today_or_tomorrow() {
        assert_eq!(p("call 11am").task.due_at.as_deref(), Some("2026-11-27T11:00:00+01:00"));
        assert_eq!(p("call 9am").task.due_at.as_deref(), Some("2026-11-28T09:00:00+01:00"));
    }

    #[test]
    fn dates_resolve_in_the_users_zone() {
        let due = |t: &str| p(t).task.due_at;
        assert_eq!(due("x next friday").as_deref(), Some("2026-12-04"));
        assert_eq!(due("x monday").as_deref(), Some("2026-11-30"));
        assert_eq!(due("x dec 3").as_deref(), Some("2026-12-03"));
        assert_eq!(due("x 1st march").as_deref(), Some("2027-03-01"));
        assert_eq!(due("x in 3 days").as_deref(), Some("2026-11-30"));
        assert_eq!(due("x end of month").as_deref(), Some("2026-11-30"));
        assert_eq!(due("x next month").as_deref(), Some("2026-12-01"));
        assert_eq!(due("x 2027-01-05").as_deref(), Some("2027-01-05"));
        assert_eq!(due("x tonight").as_deref(), Some("2026-11-27T20:00:00+01:00"));
        assert_eq!(due("x in 2 hours").as_deref(), Some("2026-11-27T12:00:00+01:00"));
    }

    #[test]
    fn a_date_may_name_its_year() {
        let due = |t: &str| p(t).task.due_at;
        assert_eq!(due("x dec 3 2027").as_deref(), Some("2027-12-03"));
        assert_eq!(due("x 1 march 2024").as_deref(), Some("2024-03-01"));
        assert_eq!(due("x Mar 1 2024 10:00").as_deref(), Some("2024-03-01T10:00:00+01:00"));
        // Not a year: the number stays in the title.
        assert_eq!(p("x dec 3 12345").task.title.as_deref(), Some("x 12345"));
    }

    #[test]
    fn a_schedule_is_the_whole_phrase_or_nothing() {
        let s = |t: &str| parse_schedule(t, now(), Tz::Europe__Berlin);
        let monday = s("every monday").unwrap();
        assert_eq!(monday.due_at, "2026-11-30");
        assert_eq!(monday.recurrence.unwrap().weekdays, Some(vec![Weekday::Mon]));
        assert_eq!(s("tomorrow 5pm").unwrap().due_at, "2026-11-28T17:00:00+01:00");
        let fortnightly = s("every 2 weeks").unwrap();
        assert_eq!(
            (fortnightly.due_at.as_str(), fortnightly.recurrence.unwrap().interval),
            ("2026-11-27", Some(2))
        );
        assert_eq!(s("2024-03-01").unwrap().due_at, "2024-03-01");
        assert_eq!(s("someday maybe"), None);
        assert_eq!(s("tomorrow-ish #work"), None);
        assert_eq!(s(""), None);
    }

    #[test]
    fn plain_words_stay_in_the_title() {
        let q = p("Read may report and buy 3 apples");
        assert_eq!(q.task.title.as_deref(), Some("Read may report and buy 3 apples"));
        assert!(q.spans.is_empty());
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    /// Inbox (1, section "Later" 11), Work (2, sections "Doing" 21 and "Next up" 22) and
    /// "Home Office" (3, section "Doing" 31).
    fn projects() -> Vec<KnownProject> {
        let section = |n, name: &str| KnownSection { id: id(n), name: name.to_owned() };
        let project = |n, name: &str, is_inbox, sections| KnownProject {
            id: id(n),
            name: name.to_owned(),
            is_inbox,
            sections,
        };
        vec![
            project(1, "Inbox", true, vec![section(11, "Later")]),
            project(2, "Work", false, vec![section(21, "Doing"), section(22, "Next up")]),
            project(3, "Home Office", false, vec![section(31, "Doing")]),
        ]
    }

    fn among(text: &str, on_screen: Option<Uuid>) -> QuickAdd {
        let projects = projects();
        parse_in(text, now(), Tz::Europe__Berlin, Places { projects: &projects, on_screen })
    }

    fn spans(q: &QuickAdd) -> Vec<(SpanKind, &str)> {
        q.spans.iter().map(|s| (s.kind, s.text.as_str())).collect()
    }

    #[test]
    fn a_hash_naming_a_project_picks_it_ignoring_case() {
        let q = among("Submit report #work fri", None);
        assert_eq!(q.task.project_id, Some(id(2)));
        assert_eq!(q.task.tags, None);
        assert_eq!(q.task.title.as_deref(), Some("Submit report"));
        assert_eq!(spans(&q), [(SpanKind::Project, "#work"), (SpanKind::Date, "fri")]);
    }

    #[test]
    fn a_quoted_name_may_hold_spaces() {
        let q = among(r#"Buy desk #"home office", tomorrow"#, None);
        assert_eq!(q.task.project_id, Some(id(3)));
        assert_eq!(q.task.title.as_deref(), Some("Buy desk"));
        assert_eq!(spans(&q), [(SpanKind::Project, r#"#"home office""#), (SpanKind::Date, "tomorrow")]);
        // A quoted name no project has is a tag, spaces and all.
        assert_eq!(among(r#"x #"two words""#, None).task.tags, Some(vec!["two words".to_owned()]));
        // Without its closing quote it is no name at all.
        assert_eq!(among(r#"x #"open"#, None).task.title.as_deref(), Some(r#"x #"open"#));
    }

    #[test]
    fn a_hash_naming_no_project_stays_a_tag() {
        let q = among("Call Sam #errands #Work", None);
        assert_eq!(q.task.tags, Some(vec!["errands".to_owned()]));
        assert_eq!(q.task.project_id, Some(id(2)));
        assert_eq!(spans(&q), [(SpanKind::Tag, "#errands"), (SpanKind::Project, "#Work")]);
        // Without projects (or before any was made) every `#word` is a tag, as it always was.
        assert_eq!(p("Call Sam #work").task.tags, Some(vec!["work".to_owned()]));
        // One project per task: a second project name is a tag.
        let twice = among(r#"x #work #"Home Office""#, None);
        assert_eq!(twice.task.project_id, Some(id(2)));
        assert_eq!(twice.task.tags, Some(vec!["Home Office".to_owned()]));
    }

    #[test]
    fn an_at_sign_is_always_a_tag() {
        let q = among("Pack bag @work @gym, tomorrow", None);
        assert_eq!(q.task.tags, Some(vec!["work".to_owned(), "gym".to_owned()]));
        assert_eq!(q.task.project_id, None);
        assert_eq!(q.task.title.as_deref(), Some("Pack bag"));
        assert_eq!(spans(&q)[..2], [(SpanKind::Tag, "@work"), (SpanKind::Tag, "@gym")]);
        // Neither an address nor a lone sign is a tag.
        let mail = among("mail bob@example.com @ noon", None);
        assert_eq!(mail.task.tags, None);
        assert_eq!(mail.task.title.as_deref(), Some("mail bob@example.com @"));
    }

    #[test]
    fn a_slash_names_a_section_of_the_picked_project() {
        let q = among(r#"Review PR /"next up" #Work"#, None);
        assert_eq!((q.task.project_id, q.task.section_id), (Some(id(2)), Some(id(22))));
        assert_eq!(q.task.title.as_deref(), Some("Review PR"));
        assert_eq!(spans(&q), [(SpanKind::Section, r#"/"next up""#), (SpanKind::Project, "#Work")]);
        // The same name in another project is that project's section.
        let home = among("Paint /doing #\"Home Office\"", None);
        assert_eq!(home.task.section_id, Some(id(31)));
    }

    #[test]
    fn without_a_project_a_slash_names_a_section_of_the_one_on_screen_or_the_inbox() {
        let q = among("Review PR /Doing", Some(id(2)));
        assert_eq!((q.task.project_id, q.task.section_id), (Some(id(2)), Some(id(21))));
        let inbox = among("Read book /later", None);
        assert_eq!((inbox.task.project_id, inbox.task.section_id), (Some(id(1)), Some(id(11))));
        // Not a section of the project meant: it stays in the title, unhighlighted.
        let q = among("Review PR /Later", Some(id(2)));
        assert_eq!((q.task.project_id, q.task.section_id), (None, None));
        assert_eq!(q.task.title.as_deref(), Some("Review PR /Later"));
        assert!(q.spans.is_empty());
    }

    #[test]
    fn a_slash_inside_a_word_or_before_a_digit_is_text() {
        for text in ["Split 1/2 of the bill", "Decide and/or delegate", "Read /2 pages", "see a/Doing"] {
            let q = among(text, Some(id(2)));
            assert_eq!(q.task.section_id, None, "{text}");
            assert_eq!(q.task.title.as_deref(), Some(text), "{text}");
        }
    }

    #[test]
    fn project_and_section_offsets_count_utf16_units() {
        let q = among("🎉 Party #work /Doing", None);
        let found: Vec<_> = q.spans.iter().map(|s| (s.kind, s.start, s.end)).collect();
        // "🎉" is two UTF-16 units: "#work" starts at 9, "/Doing" at 15.
        assert_eq!(found, [(SpanKind::Project, 9, 14), (SpanKind::Section, 15, 21)]);
        assert_eq!(q.task.title.as_deref(), Some("🎉 Party"));
    }
}

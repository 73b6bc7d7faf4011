//! A task's editable fields as one parsed value: how requests become it, how it is stored,
//! and what changed between two of them.

use chrono::{DateTime, Utc};
use events::{Change, Priority, TaskChanges};
use uuid::Uuid;

use super::dto::{CreateTaskRequest, UpdateTaskRequest};
use crate::{
    db::tasks::{TaskRow, TaskWrite},
    domain::{
        FieldError,
        recurrence::{Basis, Recurrence},
        task::{Estimate, Reminders, Tags, TaskDescription, TaskTitle, check_recurrence_is_dated, parse_due},
    },
    preferences::Preferences,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFields {
    pub title: TaskTitle,
    pub description: Option<TaskDescription>,
    pub priority: Priority,
    pub tags: Tags,
    pub due_at: Option<DateTime<Utc>>,
    pub recurrence: Option<Recurrence>,
    pub reminders: Reminders,
    /// Which project the task is in (its foreign key makes it one of the user's).
    pub project_id: Uuid,
    /// Which section of that project, if any (its foreign key makes it one of the project's).
    pub section_id: Option<Uuid>,
    /// The task this one is a subtask of; the service keeps it one level deep and in the
    /// parent's project and section.
    pub parent_id: Option<Uuid>,
    pub estimate: Option<Estimate>,
}

/// Keeps a field's value, or its problems for the combined report.
fn keep<T>(errors: &mut Vec<FieldError>, result: Result<T, Vec<FieldError>>) -> Option<T> {
    result.map_err(|mut e| errors.append(&mut e)).ok()
}

fn one<T>(result: Result<T, FieldError>) -> Result<T, Vec<FieldError>> {
    result.map_err(|e| vec![e])
}

fn not_null(field: &str) -> Vec<FieldError> {
    vec![FieldError::new(field, "cannot be null")]
}

/// A nullable field under a PATCH: absent keeps `current`, `null` clears it, a value is parsed.
#[expect(clippy::option_option, reason = "a PATCH body tells an absent field from an explicit null")]
fn patch_nullable<T: Clone, R>(
    current: Option<&T>,
    patch: Option<Option<R>>,
    parse: impl FnOnce(R) -> Result<T, Vec<FieldError>>,
) -> Result<Option<T>, Vec<FieldError>> {
    match patch {
        None => Ok(current.cloned()),
        Some(None) => Ok(None),
        Some(Some(raw)) => parse(raw).map(Some),
    }
}

impl TaskFields {
    /// A new task from a create request; every invalid field is reported at once.
    pub fn parse_new(req: CreateTaskRequest, prefs: &Preferences) -> Result<Self, Vec<FieldError>> {
        let e = &mut Vec::new();
        let title = keep(
            e,
            one(req.title.ok_or_else(|| FieldError::new("title", "is required")))
                .and_then(|t| one(TaskTitle::parse(&t))),
        );
        let description = keep(e, one(req.description.map_or(Ok(None), |d| TaskDescription::parse(&d))));
        let tags = keep(e, Tags::parse(&req.tags.unwrap_or_default()));
        let due_at = keep(e, one(req.due_at.map(|d| parse_due("dueAt", &d, prefs.time_zone)).transpose()));
        let recurrence = keep(e, req.recurrence.map(Recurrence::parse).transpose());
        let reminders = keep(e, Reminders::parse(req.reminders.unwrap_or_default()));
        let estimate = keep(e, one(req.estimate_minutes.map(Estimate::parse).transpose()));
        let (
            Some(title),
            Some(description),
            Some(tags),
            Some(due_at),
            Some(recurrence),
            Some(reminders),
            Some(estimate),
        ) = (title, description, tags, due_at, recurrence, reminders, estimate)
        else {
            return Err(std::mem::take(e));
        };
        if req.parent_id.is_some() && (req.project_id.is_some() || req.section_id.is_some()) {
            return Err(vec![FieldError::new(
                "parentId",
                "cannot be given with projectId or sectionId: a subtask is in its parent's project and section",
            )]);
        }
        let priority = req.priority.unwrap_or_default();
        let project_id = req.project_id.unwrap_or(prefs.inbox_id);
        Self {
            title,
            description,
            priority,
            tags,
            due_at,
            recurrence,
            reminders,
            project_id,
            section_id: req.section_id,
            parent_id: req.parent_id,
            estimate,
        }
        .finish(prefs)
    }

    /// These fields with a PATCH applied: absent fields stay, `null` clears a nullable field.
    pub fn apply(&self, patch: UpdateTaskRequest, prefs: &Preferences) -> Result<Self, Vec<FieldError>> {
        let e = &mut Vec::new();
        let title = keep(
            e,
            match patch.title {
                None => Ok(self.title.clone()),
                Some(None) => Err(not_null("title")),
                Some(Some(t)) => one(TaskTitle::parse(&t)),
            },
        );
        let description = keep(
            e,
            match patch.description {
                None => Ok(self.description.clone()),
                Some(None) => Ok(None),
                Some(Some(d)) => one(TaskDescription::parse(&d)),
            },
        );
        let priority = keep(
            e,
            match patch.priority {
                None => Ok(self.priority),
                Some(None) => Err(not_null("priority")),
                Some(Some(p)) => Ok(p),
            },
        );
        let tags = keep(
            e,
            match patch.tags {
                None => Ok(self.tags.clone()),
                Some(None) => Ok(Tags::default()),
                Some(Some(t)) => Tags::parse(&t),
            },
        );
        let due_at = keep(
            e,
            patch_nullable(self.due_at.as_ref(), patch.due_at, |d| {
                one(parse_due("dueAt", &d, prefs.time_zone))
            }),
        );
        let recurrence =
            keep(e, patch_nullable(self.recurrence.as_ref(), patch.recurrence, Recurrence::parse));
        let reminders = keep(
            e,
            match patch.reminders {
                None => Ok(self.reminders.clone()),
                Some(None) => Ok(Reminders::default()),
                Some(Some(r)) => Reminders::parse(r),
            },
        );
        let project_id = keep(
            e,
            match patch.project_id {
                None => Ok(self.project_id),
                Some(None) => Err(not_null("projectId")),
                Some(Some(p)) => Ok(p),
            },
        );
        let estimate = keep(
            e,
            patch_nullable(self.estimate.as_ref(), patch.estimate_minutes, |m| one(Estimate::parse(m))),
        );
        let (
            Some(title),
            Some(description),
            Some(priority),
            Some(tags),
            Some(due_at),
            Some(recurrence),
            Some(reminders),
            Some(project_id),
            Some(estimate),
        ) = (title, description, priority, tags, due_at, recurrence, reminders, project_id, estimate)
        else {
            return Err(std::mem::take(e));
        };
        // A section belongs to its project: moving the task leaves the old one's section.
        let section_id = match patch.section_id {
            Some(section_id) => section_id,
            None if project_id == self.project_id => self.section_id,
            None => None,
        };
        let parent_id = patch.parent_id.unwrap_or(self.parent_id);
        Self {
            title,
            description,
            priority,
            tags,
            due_at,
            recurrence,
            reminders,
            project_id,
            section_id,
            parent_id,
            estimate,
        }
        .finish(prefs)
    }

    /// Rules that span fields (each in `domain::task`), applied after each field parsed on its own.
    fn finish(mut self, prefs: &Preferences) -> Result<Self, Vec<FieldError>> {
        check_recurrence_is_dated(self.recurrence.is_some(), self.due_at).map_err(|e| vec![e])?;
        // A recurring parent carries its open subtasks to its next occurrence; a subtask that
        // repeated on its own would multiply under each one.
        if self.parent_id.is_some() && self.recurrence.is_some() {
            return Err(vec![FieldError::new("recurrence", "a subtask cannot repeat; its parent can")]);
        }
        self.reminders = self.reminders.effective(self.due_at, prefs.reminder_offset_minutes);
        Ok(self)
    }

    /// Reads stored fields back. They were valid when written, so a failure here is a bug or
    /// a manual edit, reported as an internal error.
    pub fn from_row(row: &TaskRow) -> anyhow::Result<Self> {
        let invalid = |e: Vec<FieldError>| anyhow::anyhow!("stored task {} is invalid: {e:?}", row.task_id);
        let recurrence = match (&row.recurrence_rule, &row.recurrence_basis) {
            (Some(rule), Some(basis)) => {
                let basis: Basis = basis.parse().map_err(|e: String| anyhow::anyhow!(e))?;
                Some(Recurrence::from_rrule(rule, basis).map_err(|e| anyhow::anyhow!(e))?)
            }
            _ => None,
        };
        Ok(Self {
            title: TaskTitle::parse(&row.title).map_err(|e| invalid(vec![e]))?,
            description: row
                .description
                .as_deref()
                .map(TaskDescription::parse)
                .transpose()
                .map_err(|e| invalid(vec![e]))?
                .flatten(),
            priority: row.priority.parse()?,
            tags: Tags::parse(&row.tags).map_err(invalid)?,
            due_at: row.due_at,
            recurrence,
            reminders: Reminders::parse(row.reminders.0.clone()).map_err(invalid)?,
            project_id: row.project_id,
            section_id: row.section_id,
            parent_id: row.parent_id,
            estimate: row
                .estimate_minutes
                .map(|m| Estimate::parse(m.into()))
                .transpose()
                .map_err(|e| invalid(vec![e]))?,
        })
    }

    pub fn to_write(&self) -> TaskWrite {
        TaskWrite {
            title: self.title.as_str().to_owned(),
            description: self.description.clone().map(TaskDescription::into_inner),
            priority: self.priority.as_str(),
            tags: self.tags.as_slice().to_vec(),
            tag_keys: self.tags.keys(),
            due_at: self.due_at,
            recurrence_rule: self.recurrence.as_ref().map(Recurrence::to_rrule),
            recurrence_basis: self.recurrence.as_ref().map(|r| r.basis().as_str()),
            reminders: self.reminders.as_slice().to_vec(),
            project_id: self.project_id,
            section_id: self.section_id,
            parent_id: self.parent_id,
            estimate_minutes: self.estimate.map(|e| e.minutes().into()),
        }
    }

    /// What a `tasks.updated` event reports: only the fields whose values differ.
    pub fn changes_to(&self, new: &Self) -> TaskChanges {
        TaskChanges {
            title: Change::if_changed(self.title.as_str().to_owned(), new.title.as_str().to_owned()),
            description: Change::if_changed(
                self.description.clone().map(TaskDescription::into_inner),
                new.description.clone().map(TaskDescription::into_inner),
            ),
            priority: Change::if_changed(self.priority, new.priority),
            tags: Change::if_changed(self.tags.as_slice().to_vec(), new.tags.as_slice().to_vec()),
            due_date: Change::if_changed(self.due_at, new.due_at),
            recurrence: Change::if_changed(
                self.recurrence.as_ref().map(event_rule),
                new.recurrence.as_ref().map(event_rule),
            ),
            reminders: Change::if_changed(
                self.reminders.as_slice().to_vec(),
                new.reminders.as_slice().to_vec(),
            ),
            project_id: Change::if_changed(self.project_id, new.project_id),
            section_id: Change::if_changed(self.section_id, new.section_id),
            parent_id: Change::if_changed(self.parent_id, new.parent_id),
            position: None,
            estimate_minutes: Change::if_changed(
                self.estimate.map(Estimate::minutes),
                new.estimate.map(Estimate::minutes),
            ),
        }
    }
}

/// The rule as events carry it: the stored RRULE, plus an `X-BASIS` part when the next due
/// date counts from completion, which RRULE itself cannot say (consumers that only know
/// RFC 5545 may ignore the extension part).
pub fn event_rule(recurrence: &Recurrence) -> String {
    match recurrence.basis() {
        Basis::DueDate => recurrence.to_rrule(),
        Basis::Completion => format!("{};X-BASIS=COMPLETION", recurrence.to_rrule()),
    }
}

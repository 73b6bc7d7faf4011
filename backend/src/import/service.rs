//! Runs an import: the project (new or existing), its missing sections and every task, each
//! task through the task service so it gets its `tasks.created` event, all in the caller's
//! transaction. A dry run is the same work in a transaction the handler rolls back, so its
//! report (quotas and name clashes included) is exactly what the import would do.

use chrono::Utc;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{
    dto::{
        ImportReport, ImportTarget, ImportedProject, ImportedTask, RowNote, SkippedRow, TodoistImportRequest,
    },
    todoist::{self, Plan},
};
use crate::{
    domain::{FieldError, name::Name, origin::Origin, recurrence::RecurrenceInput, task::Reminders},
    error::{AppError, Result},
    preferences::Preferences,
    projects::{self, dto::CreateProjectRequest},
    tasks::{self, model::TaskFields},
};

pub enum Target {
    Existing(Uuid),
    New(Name),
}

/// A request with its fields parsed and its file read.
pub struct TodoistImport {
    pub plan: Plan,
    pub target: Target,
    pub dry_run: bool,
}

impl TodoistImport {
    /// Every invalid field at once; a file that is not a Todoist CSV names `csv`.
    pub fn parse(req: TodoistImportRequest, prefs: &Preferences) -> Result<Self> {
        let mut errors = Vec::new();
        let plan = match req.csv {
            None => Err(FieldError::new("csv", "is required")),
            Some(text) => todoist::read(&text, Utc::now(), prefs.time_zone),
        };
        let target = target(req.project, req.file_name.as_deref());
        let dry_run = req.dry_run.ok_or_else(|| FieldError::new("dryRun", "is required (true or false)"));
        match (plan, target, dry_run) {
            (Ok(plan), Ok(target), Ok(dry_run)) => Ok(Self { plan, target, dry_run }),
            (plan, target, dry_run) => {
                errors.extend(plan.err().into_iter().chain(target.err()).chain(dry_run.err()));
                Err(AppError::Validation(errors))
            }
        }
    }
}

fn target(project: Option<ImportTarget>, file_name: Option<&str>) -> Result<Target, FieldError> {
    match project {
        Some(ImportTarget { id: Some(_), name: Some(_) }) => {
            Err(FieldError::new("project", "names an existing project (id) or a new one (name), not both"))
        }
        Some(ImportTarget { id: Some(id), name: None }) => Ok(Target::Existing(id)),
        Some(ImportTarget { id: None, name: Some(name) }) => {
            Name::parse("project.name", &name).map(Target::New)
        }
        Some(ImportTarget { id: None, name: None }) | None => {
            let stem = file_name.map(file_stem).filter(|s| !s.trim().is_empty()).ok_or_else(|| {
                FieldError::new("project.name", "is required when fileName does not name the project")
            })?;
            Name::parse("project.name", stem).map(Target::New)
        }
    }
}

/// "Work.csv" → "Work"; a path's folders go too.
fn file_stem(file_name: &str) -> &str {
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    base.strip_suffix(".csv").or_else(|| base.strip_suffix(".CSV")).unwrap_or(base)
}

/// A new project's problems name the request's `project.name`, not the project API's `name`.
fn for_project_name(error: AppError) -> AppError {
    match error {
        AppError::Validation(errors) => AppError::Validation(
            errors
                .into_iter()
                .map(|e| if e.field == "name" { FieldError { field: "project.name".into(), ..e } } else { e })
                .collect(),
        ),
        other => other,
    }
}

pub async fn run(
    conn: &mut PgConnection,
    origin: &Origin,
    user_id: Uuid,
    import: TodoistImport,
    prefs: &Preferences,
) -> Result<ImportReport> {
    let TodoistImport { plan, target, dry_run } = import;
    let (project, created) = match target {
        Target::Existing(id) => (projects::service::get(conn, user_id, id).await?, false),
        Target::New(name) => {
            let req =
                CreateProjectRequest { name: Some(name.as_str().to_owned()), color: None, sections: None };
            (projects::service::create(conn, user_id, req).await.map_err(for_project_name)?, true)
        }
    };
    let project_id = project.row.project_id;
    let added = projects::service::add_sections(conn, user_id, project_id, &plan.sections, "csv").await?;
    let sections = projects::service::get(conn, user_id, project_id).await?.sections;
    let section_ids: Vec<Option<Uuid>> = plan
        .sections
        .iter()
        .map(|name| {
            let key = name.as_str().to_lowercase();
            sections.iter().find(|s| s.name.to_lowercase() == key).map(|s| s.section_id)
        })
        .collect();
    let mut tasks: Vec<ImportedTask> = Vec::with_capacity(plan.tasks.len());
    let mut ids: Vec<Uuid> = Vec::with_capacity(plan.tasks.len());
    for planned in plan.tasks {
        let section = planned.section.and_then(|i| Some((plan.sections.get(i)?, section_ids[i]?)));
        let fields = TaskFields {
            title: planned.title,
            description: planned.description,
            priority: planned.priority,
            tags: planned.tags,
            due_at: planned.due_at,
            recurrence: planned.recurrence,
            // What a task created without reminders gets: the user's default offset.
            reminders: Reminders::default().effective(planned.due_at, prefs.reminder_offset_minutes),
            project_id,
            section_id: section.map(|(_, id)| id),
            // The plan only names earlier tasks as parents.
            parent_id: planned.parent.and_then(|i| ids.get(i).copied()),
            estimate: planned.estimate,
        };
        let task = tasks::service::create(conn, origin, user_id, fields, prefs).await?;
        ids.push(task.row.task_id);
        tasks.push(ImportedTask {
            row: planned.row,
            id: (!dry_run).then_some(task.row.task_id),
            title: task.fields.title.as_str().to_owned(),
            section_name: section.map(|(name, _)| name.as_str().to_owned()),
            priority: task.fields.priority,
            due_at: task.fields.due_at,
            recurrence: task.fields.recurrence.as_ref().map(RecurrenceInput::from),
            tags: task.fields.tags.as_slice().to_vec(),
            parent_row: planned.parent.and_then(|i| tasks.get(i)).map(|parent| parent.row),
        });
    }
    Ok(ImportReport {
        dry_run,
        project: ImportedProject {
            id: (!(dry_run && created)).then_some(project_id),
            name: project.row.name,
            created,
        },
        sections: added,
        tasks,
        skipped: plan.skipped.into_iter().map(|s| SkippedRow { row: s.row, reason: s.message }).collect(),
        notes: plan.notes.into_iter().map(|n| RowNote { row: n.row, message: n.message }).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_names_the_project_without_its_extension_or_folders() {
        assert_eq!(file_stem("Work.csv"), "Work");
        assert_eq!(file_stem("C:\\exports\\Home Stuff.CSV"), "Home Stuff");
        assert_eq!(file_stem("notes"), "notes");
    }
}

//! Projects: reading, creating, changing and deleting them. A change that moves tasks (a
//! section removed, a project deleted) moves them through the task service, with their events,
//! in the caller's transaction.

use std::collections::HashSet;

use sqlx::PgConnection;
use uuid::Uuid;

use super::dto::{
    CreateProjectRequest, ProjectResponse, SectionInput, SectionResponse, UpdateProjectRequest,
};
use crate::{
    db::{
        self,
        projects::{ProjectRow, SectionRow},
    },
    domain::{
        FieldError,
        name::Name,
        origin::Origin,
        project::TasksOnDelete,
        quick_add::{KnownProject, KnownSection},
    },
    error::{AppError, Result, ResultExt},
    tasks,
};

/// At most this many projects per account and sections per project: enough for anyone's
/// organisation, and a bound on what one account can make the sidebar and the database hold.
pub const MAX_PROJECTS: i64 = 300;
pub const MAX_SECTIONS: usize = 50;

#[derive(Debug)]
pub struct Project {
    pub row: ProjectRow,
    pub sections: Vec<SectionRow>,
}

impl Project {
    pub fn response(self) -> Result<ProjectResponse> {
        Ok(ProjectResponse {
            id: self.row.project_id,
            color: self.row.color.parse().map_err(|e: String| anyhow::anyhow!(e))?,
            name: self.row.name,
            is_inbox: self.row.is_inbox,
            archived: self.row.archived,
            sections: self
                .sections
                .into_iter()
                .map(|s| SectionResponse { id: s.section_id, name: s.name })
                .collect(),
            open_task_count: self.row.open_task_count,
            created_at: self.row.created_at,
            updated_at: self.row.updated_at,
        })
    }
}

/// The user's projects with their sections: the Inbox first, then by name.
pub async fn list(db: &sqlx::PgPool, user_id: Uuid) -> Result<Vec<Project>> {
    let rows = db::projects::list(db, user_id).await?;
    let ids: Vec<Uuid> = rows.iter().map(|p| p.project_id).collect();
    let mut sections = db::projects::sections(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let (own, rest) = sections.drain(..).partition(|s| s.project_id == row.project_id);
            sections = rest;
            Project { row, sections: own }
        })
        .collect())
}

/// The names of the user's projects and their sections, as a quick-add line or a chat message
/// may use them.
pub async fn known(db: impl sqlx::PgExecutor<'_>, user_id: Uuid) -> Result<Vec<KnownProject>> {
    let mut projects: Vec<KnownProject> = Vec::new();
    for row in db::projects::names(db, user_id).await? {
        if projects.last().is_none_or(|p| p.id != row.project_id) {
            projects.push(KnownProject {
                id: row.project_id,
                name: row.name,
                is_inbox: row.is_inbox,
                sections: Vec::new(),
            });
        }
        if let (Some(id), Some(name), Some(project)) = (row.section_id, row.section_name, projects.last_mut())
        {
            project.sections.push(KnownSection { id, name });
        }
    }
    Ok(projects)
}

pub async fn get(conn: &mut PgConnection, user_id: Uuid, project_id: Uuid) -> Result<Project> {
    let row = db::projects::find(&mut *conn, user_id, project_id).await?.ok_or(AppError::NotFound)?;
    let sections = db::projects::sections(&mut *conn, &[project_id]).await?;
    Ok(Project { row, sections })
}

fn name_taken() -> AppError {
    FieldError::new("name", "is already the name of another of your projects").into()
}

/// Sections as requested: names parsed, ids known to `existing` (a new section gets one),
/// none twice. Every problem is reported at once.
fn parse_sections(input: Vec<SectionInput>, existing: &[SectionRow]) -> Result<Vec<(Uuid, String)>> {
    let mut errors = Vec::new();
    if input.len() > MAX_SECTIONS {
        errors.push(FieldError::new("sections", format!("must have at most {MAX_SECTIONS} sections")));
    }
    let known: HashSet<Uuid> = existing.iter().map(|s| s.section_id).collect();
    let mut seen = HashSet::new();
    let mut sections = Vec::with_capacity(input.len());
    for (i, section) in input.into_iter().enumerate() {
        let name = match section.name {
            None => Err(FieldError::new(format!("sections[{i}].name"), "is required")),
            Some(name) => Name::parse(&format!("sections[{i}].name"), &name),
        };
        let id = match section.id {
            None => Ok(Uuid::now_v7()),
            Some(id) if !known.contains(&id) => {
                Err(FieldError::new(format!("sections[{i}].id"), "is not a section of this project"))
            }
            Some(id) if !seen.insert(id) => {
                Err(FieldError::new(format!("sections[{i}].id"), "names a section listed earlier"))
            }
            Some(id) => Ok(id),
        };
        match (id, name) {
            (Ok(id), Ok(name)) => sections.push((id, name.as_str().to_owned())),
            (id, name) => errors.extend(id.err().into_iter().chain(name.err())),
        }
    }
    if errors.is_empty() { Ok(sections) } else { Err(AppError::Validation(errors)) }
}

pub async fn create(conn: &mut PgConnection, user_id: Uuid, req: CreateProjectRequest) -> Result<Project> {
    let name =
        req.name.ok_or_else(|| FieldError::new("name", "is required")).and_then(|n| Name::parse("name", &n));
    let sections = parse_sections(req.sections.unwrap_or_default(), &[]);
    let (name, sections) = match (name, sections) {
        (Ok(name), Ok(sections)) => (name, sections),
        (name, sections) => {
            let mut errors: Vec<FieldError> = name.err().into_iter().collect();
            if let Err(AppError::Validation(mut more)) = sections {
                errors.append(&mut more);
            }
            return Err(AppError::Validation(errors));
        }
    };
    let color = req.color.unwrap_or_default();
    let project_id = Uuid::now_v7();
    let row =
        db::projects::insert(&mut *conn, project_id, user_id, name.as_str(), color.as_str(), MAX_PROJECTS)
            .await
            .on_constraint(db::projects::NAME_KEY, name_taken)?
            .ok_or_else(|| AppError::Forbidden {
                code: "project_quota_exceeded",
                detail: format!("this account already holds {MAX_PROJECTS} projects, its quota"),
            })?;
    db::projects::replace_sections(conn, project_id, user_id, &sections).await?;
    let sections = db::projects::sections(&mut *conn, &[project_id]).await?;
    Ok(Project { row, sections })
}

/// Appends the sections named in `names` that the project lacks (by name, ignoring case) and
/// returns the names added, in order. Refused, naming `field`, when the project would hold more
/// than [`MAX_SECTIONS`].
pub async fn add_sections(
    conn: &mut PgConnection,
    user_id: Uuid,
    project_id: Uuid,
    names: &[Name],
    field: &str,
) -> Result<Vec<String>> {
    db::projects::find_for_update(conn, user_id, project_id).await?.ok_or(AppError::NotFound)?;
    let mut sections: Vec<(Uuid, String)> = db::projects::sections(&mut *conn, &[project_id])
        .await?
        .into_iter()
        .map(|s| (s.section_id, s.name))
        .collect();
    let mut added = Vec::new();
    for name in names {
        if !sections.iter().any(|(_, n)| n.to_lowercase() == name.as_str().to_lowercase()) {
            sections.push((Uuid::now_v7(), name.as_str().to_owned()));
            added.push(name.as_str().to_owned());
        }
    }
    if sections.len() > MAX_SECTIONS {
        let message = format!(
            "would give the project {} sections; a project holds at most {MAX_SECTIONS}",
            sections.len()
        );
        return Err(FieldError::new(field, message).into());
    }
    if !added.is_empty() {
        db::projects::replace_sections(conn, project_id, user_id, &sections).await?;
    }
    Ok(added)
}

/// Applies a PATCH. Sections left out of a new section list are removed, their tasks first
/// taken out of them (each with its event).
pub async fn update(
    conn: &mut PgConnection,
    origin: &Origin,
    user_id: Uuid,
    project_id: Uuid,
    patch: UpdateProjectRequest,
) -> Result<Project> {
    let current =
        db::projects::find_for_update(conn, user_id, project_id).await?.ok_or(AppError::NotFound)?;
    let existing = db::projects::sections(&mut *conn, &[project_id]).await?;
    let mut errors = Vec::new();
    let name = match patch.name.as_deref().map(|n| Name::parse("name", n)) {
        None => Some(current.name.clone()),
        Some(Ok(name)) if current.is_inbox && name.as_str() != current.name => {
            errors.push(FieldError::new("name", "the Inbox cannot be renamed"));
            None
        }
        Some(Ok(name)) => Some(name.as_str().to_owned()),
        Some(Err(e)) => {
            errors.push(e);
            None
        }
    };
    let archived = patch.archived.unwrap_or(current.archived);
    if current.is_inbox && archived {
        errors.push(FieldError::new("archived", "the Inbox cannot be archived"));
    }
    let sections = match patch.sections.map(|s| parse_sections(s, &existing)).transpose() {
        Ok(sections) => sections,
        Err(AppError::Validation(mut more)) => {
            errors.append(&mut more);
            None
        }
        Err(other) => return Err(other),
    };
    let Some(name) = name.filter(|_| errors.is_empty()) else {
        return Err(AppError::Validation(errors));
    };
    let color = match patch.color {
        Some(color) => color.as_str(),
        None => &current.color,
    };
    db::projects::update(conn, project_id, &name, color, archived)
        .await
        .on_constraint(db::projects::NAME_KEY, name_taken)?;
    if let Some(sections) = sections {
        let kept: HashSet<Uuid> = sections.iter().map(|(id, _)| *id).collect();
        let removed: Vec<Uuid> =
            existing.iter().map(|s| s.section_id).filter(|id| !kept.contains(id)).collect();
        if !removed.is_empty() {
            tasks::service::move_all(conn, origin, project_id, Some(&removed), project_id).await?;
        }
        db::projects::replace_sections(conn, project_id, user_id, &sections).await?;
    }
    get(conn, user_id, project_id).await
}

/// Deletes a project after moving its tasks to the Inbox or deleting them, as the request
/// says. Returns how many tasks moved and how many were deleted.
pub async fn delete(
    conn: &mut PgConnection,
    origin: &Origin,
    user_id: Uuid,
    project_id: Uuid,
    tasks_on_delete: TasksOnDelete,
    inbox_id: Uuid,
) -> Result<(usize, usize)> {
    let project =
        db::projects::find_for_update(conn, user_id, project_id).await?.ok_or(AppError::NotFound)?;
    if project.is_inbox {
        return Err(AppError::Conflict {
            code: "inbox_protected",
            detail: "the Inbox cannot be deleted; delete its tasks instead".into(),
        });
    }
    let counts = match tasks_on_delete {
        TasksOnDelete::MoveToInbox => {
            (tasks::service::move_all(conn, origin, project_id, None, inbox_id).await?, 0)
        }
        TasksOnDelete::Delete => (0, tasks::service::delete_all(conn, origin, project_id).await?),
    };
    db::projects::delete(conn, project_id).await?;
    Ok(counts)
}

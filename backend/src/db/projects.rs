//! Projects and their sections.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// The unique index that makes names unique per user, ignoring case.
pub const NAME_KEY: &str = "project_user_name_key";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProjectRow {
    pub project_id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub color: String,
    pub is_inbox: bool,
    pub archived: bool,
    /// Open tasks in the project, for the sidebar's counts.
    pub open_task_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SectionRow {
    pub section_id: Uuid,
    pub project_id: Uuid,
    pub name: String,
}

/// A project's name with one of its sections (none for a project without sections).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NameRow {
    pub project_id: Uuid,
    pub name: String,
    pub is_inbox: bool,
    pub section_id: Option<Uuid>,
    pub section_name: Option<String>,
}

/// The columns of [`ProjectRow`] over `project p`; the count reads `task_project_idx`.
macro_rules! project_columns {
    () => {
        "p.project_id, p.user_id, p.name, p.color, p.is_inbox, p.archived, p.created_at, p.updated_at,
         (select count(*) from task t where t.project_id = p.project_id and t.completed_at is null) as open_task_count"
    };
}

/// The user's projects: the Inbox first, then by name.
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn list(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Vec<ProjectRow>> {
    sqlx::query_as(concat!(
        "select ",
        project_columns!(),
        " from project p where p.user_id = $1 order by p.is_inbox desc, lower(p.name)"
    ))
    .bind(user_id)
    .fetch_all(db)
    .await
}

/// The names of the user's projects and of their sections, one row per section: the Inbox
/// first, then by name, each project's rows together and in section order. One query, which finds the projects by
/// `project_user_name_key` (its leading column) and their sections by
/// `project_section_project_idx`.
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn names(db: impl PgExecutor<'_>, user_id: Uuid) -> sqlx::Result<Vec<NameRow>> {
    sqlx::query_as(
        "select p.project_id, p.name, p.is_inbox, s.section_id, s.name as section_name
         from project p left join project_section s on s.project_id = p.project_id
         where p.user_id = $1
         order by p.is_inbox desc, lower(p.name), p.project_id, s.position",
    )
    .bind(user_id)
    .fetch_all(db)
    .await
}

#[tracing::instrument(skip_all, fields(project.id = %project_id))]
pub async fn find(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    project_id: Uuid,
) -> sqlx::Result<Option<ProjectRow>> {
    sqlx::query_as(concat!(
        "select ",
        project_columns!(),
        " from project p where p.project_id = $1 and p.user_id = $2"
    ))
    .bind(project_id)
    .bind(user_id)
    .fetch_optional(db)
    .await
}

/// Loads and locks a project, so changes to its sections and its deletion are serialised.
#[tracing::instrument(skip_all, fields(project.id = %project_id))]
pub async fn find_for_update(
    conn: &mut PgConnection,
    user_id: Uuid,
    project_id: Uuid,
) -> sqlx::Result<Option<ProjectRow>> {
    sqlx::query_as(concat!(
        "select ",
        project_columns!(),
        " from project p where p.project_id = $1 and p.user_id = $2 for update of p"
    ))
    .bind(project_id)
    .bind(user_id)
    .fetch_optional(conn)
    .await
}

/// The sections of the given projects, each project's in order.
#[tracing::instrument(skip_all)]
pub async fn sections(db: impl PgExecutor<'_>, project_ids: &[Uuid]) -> sqlx::Result<Vec<SectionRow>> {
    sqlx::query_as(
        "select section_id, project_id, name from project_section
         where project_id = any($1) order by project_id, position",
    )
    .bind(project_ids)
    .fetch_all(db)
    .await
}

/// Inserts a project unless the user already holds `max` of them (`None` then).
#[tracing::instrument(skip_all, fields(user.id = %user_id))]
pub async fn insert(
    db: impl PgExecutor<'_>,
    project_id: Uuid,
    user_id: Uuid,
    name: &str,
    color: &str,
    max: i64,
) -> sqlx::Result<Option<ProjectRow>> {
    sqlx::query_as(
        "insert into project (project_id, user_id, name, color)
         select $1, $2, $3, $4 where (select count(*) from project where user_id = $2) < $5
         returning project_id, user_id, name, color, is_inbox, archived, created_at, updated_at,
                   0::bigint as open_task_count",
    )
    .bind(project_id)
    .bind(user_id)
    .bind(name)
    .bind(color)
    .bind(max)
    .fetch_optional(db)
    .await
}

/// Sets a project's own fields (the caller holds the row).
#[tracing::instrument(skip_all, fields(project.id = %project_id))]
pub async fn update(
    conn: &mut PgConnection,
    project_id: Uuid,
    name: &str,
    color: &str,
    archived: bool,
) -> sqlx::Result<()> {
    sqlx::query("update project set name = $2, color = $3, archived = $4 where project_id = $1")
        .bind(project_id)
        .bind(name)
        .bind(color)
        .bind(archived)
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes a project's sections exactly `sections` (id, name), positioned in that order: other
/// sections go (their tasks must have left them), new ids are added, kept ones renamed.
#[tracing::instrument(skip_all, fields(project.id = %project_id))]
pub async fn replace_sections(
    conn: &mut PgConnection,
    project_id: Uuid,
    user_id: Uuid,
    sections: &[(Uuid, String)],
) -> sqlx::Result<()> {
    let (ids, names): (Vec<Uuid>, Vec<String>) = sections.iter().cloned().unzip();
    sqlx::query(
        "with dropped as (
             delete from project_section where project_id = $1 and section_id <> all($3)
         )
         insert into project_section (section_id, project_id, user_id, name, position)
         select s.id, $1, $2, s.name, s.position - 1
         from unnest($3::uuid[], $4::text[]) with ordinality as s(id, name, position)
         on conflict (section_id) do update set name = excluded.name, position = excluded.position
         where project_section.project_id = excluded.project_id",
    )
    .bind(project_id)
    .bind(user_id)
    .bind(ids)
    .bind(names)
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(project.id = %project_id))]
pub async fn delete(conn: &mut PgConnection, project_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("delete from project where project_id = $1").bind(project_id).execute(conn).await?;
    Ok(())
}

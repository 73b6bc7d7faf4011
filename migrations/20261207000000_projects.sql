-- Projects: every task belongs to exactly one. Each account has an Inbox (created with the
-- account, never deleted) where tasks land unless they name another project. A project may
-- have ordered sections; a task in a project may sit in one of its sections.
create table project (
    project_id  uuid primary key,
    user_id     uuid not null references app_user on delete cascade,
    name        text not null check (char_length(name) between 1 and 100),
    -- One of the web app's palette names (`domain::project::ProjectColor`).
    color       text not null default 'grey'
                check (color in ('grey', 'red', 'orange', 'yellow', 'green', 'teal', 'blue', 'purple', 'pink')),
    is_inbox    boolean not null default false,
    archived    boolean not null default false,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    -- The target of the (project, user) foreign keys below: a task or section can only sit in
    -- a project of its own user.
    constraint project_user_key unique (project_id, user_id),
    constraint project_inbox_not_archived check (not (is_inbox and archived))
);
select trigger_updated_at('project');
-- Names are unique per user ignoring case. Also serves the project list, which is one user's
-- projects by name: `select … from project where user_id = $1 order by is_inbox desc, lower(name)`.
create unique index project_user_name_key on project (user_id, lower(name));
-- One Inbox per user; the default project of a new task: `select project_id from project
-- where user_id = $1 and is_inbox`.
create unique index project_user_inbox_key on project (user_id) where is_inbox;

create table project_section (
    section_id  uuid primary key,
    project_id  uuid not null,
    user_id     uuid not null,
    name        text not null check (char_length(name) between 1 and 100),
    -- 0, 1, 2… in the order the user gave; rewritten whole when the sections change.
    position    integer not null check (position >= 0),
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    constraint project_section_project_fkey foreign key (project_id, user_id)
        references project (project_id, user_id) on delete cascade,
    -- The target of the task's (section, project) foreign key: a task's section is one of
    -- its own project's.
    constraint project_section_project_key unique (section_id, project_id)
);
select trigger_updated_at('project_section');
-- A project's sections in order: `select … from project_section where project_id = any($1)
-- order by project_id, position`.
create index project_section_project_idx on project_section (project_id, position);

-- Every account gets its Inbox in the statement that creates it.
create function create_user_inbox() returns trigger language plpgsql as $$
begin
    insert into project (project_id, user_id, name, is_inbox) values (gen_random_uuid(), new.user_id, 'Inbox', true);
    return new;
end $$;
create trigger app_user_inbox after insert on app_user for each row execute function create_user_inbox();
insert into project (project_id, user_id, name, is_inbox)
select gen_random_uuid(), user_id, 'Inbox', true from app_user;

alter table task add column project_id uuid, add column section_id uuid;
-- Existing tasks move into their owner's Inbox; moving is not an edit, so `updated_at` stays.
alter table task disable trigger set_updated_at;
update task t set project_id = p.project_id from project p where p.user_id = t.user_id and p.is_inbox;
alter table task enable trigger set_updated_at;
alter table task
    alter column project_id set not null,
    -- The project's key carries its user's, and the project references the account: this one
    -- check stands for the task's own foreign key to `app_user`, which goes (one check per
    -- insert fewer). The cascade reaches tasks only when their account goes: deleting a
    -- project moves or deletes its tasks first, each with its event, while it holds the
    -- project's row, so a task inserted meanwhile fails this check instead of vanishing.
    add constraint task_project_fkey foreign key (project_id, user_id)
        references project (project_id, user_id) on delete cascade,
    add constraint task_section_fkey foreign key (section_id, project_id)
        references project_section (section_id, project_id),
    drop constraint task_user_id_fkey;
-- `GET /tasks?projectId=` in the default order (`… where user_id = $1 and project_id = $2
-- order by created_at desc, task_id desc`), and deleting a project (`… where project_id = $1`),
-- which the foreign key checks too.
create index task_project_idx on task (project_id, created_at, task_id);

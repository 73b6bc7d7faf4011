-- Subtasks and manual order.
--
-- A subtask names its parent. Subtasks are one level deep and sit in their parent's project
-- and section; the task service keeps both rules, under a lock on the parent row (see
-- `tasks::service`). No cascade: deleting or completing a parent deletes or completes its
-- subtasks through the service, each with its own event, and this key makes a path that
-- forgot them fail instead of leaving orphans behind. Rows go together, in one statement,
-- only when their project or account goes.
alter table task add column parent_id uuid references task (task_id);
-- A parent's subtasks (`… where parent_id = $1`, `… where parent_id = any($1)`): the count on
-- each listed task, completing, moving and deleting a parent. Partial, because most tasks
-- have no parent and the index would otherwise hold a null for each.
create index task_parent_idx on task (parent_id) where parent_id is not null;

-- Manual order: a fractional key (`domain::position`), hexadecimal digits compared bytewise,
-- so a move writes one row, between its new neighbours' keys. A new task's key comes from
-- its creation time, which puts it last among its siblings without reading them.
alter table task add column position text collate "C";
alter table task disable trigger set_updated_at;
update task set position = lpad(to_hex((extract(epoch from created_at) * 1000000)::bigint), 16, '0') || '8';
alter table task enable trigger set_updated_at;
-- The same key as a default, for rows written by hand (the backend passes its own).
alter table task alter column position set not null,
    alter column position set default lpad(to_hex((extract(epoch from now()) * 1000000)::bigint), 16, '0') || '8',
    add constraint task_position_digits check (position ~ '^[0-9a-f]*[1-9a-f]$');
-- A project's tasks in manual order (`GET /tasks?projectId=…&sort=position`: `… where
-- user_id = $1 and project_id = $2 order by position, task_id`), and the neighbours of a
-- moved task. It replaces `task_project_idx`, which served the project filter in creation
-- order: that order now sorts one project's rows (bounded by the task quota), and project
-- deletion and the project's foreign key use this index's leading column the same way.
create index task_project_position_idx on task (project_id, position, task_id);
drop index task_project_idx;

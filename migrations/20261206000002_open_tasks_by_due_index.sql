-- The task list's main view, open tasks soonest due first (the web app's default and the
-- assistants' chat "what is due"):
--   select … from task where user_id = $1 and completed_at is null
--   order by coalesce(due_at, 'infinity'), task_id limit $2
-- `task_user_due_idx` serves the order but not the filter, so it walked past every completed
-- task of the user: 5.2 ms per call once users had a few thousand tasks, the costliest list
-- query in the benchmark. Partial, so completing a task takes it out of this index.
create index task_user_open_due_idx on task (user_id, coalesce(due_at, 'infinity'::timestamptz), task_id)
    where completed_at is null;

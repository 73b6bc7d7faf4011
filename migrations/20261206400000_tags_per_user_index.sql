-- The `tag=` filter is always one user's:
--   select … from task where user_id = $1 and task_tag_scope(user_id, tag_keys) && task_tag_scope($1, $2)
--   order by created_at desc, task_id desc limit $3
-- A GIN index over `tag_keys` alone holds every user's tasks under a common tag in one
-- posting list, so the filter read all of them: 3.5 ms per call once the table held a few
-- hundred thousand tasks, most of PostgreSQL's time in the benchmark's list rows. Keys scoped
-- by user (`<user id>/<tag key>`: the id has a fixed length, so a pair reads one way) make
-- each posting list one user's tasks with that tag.
create function task_tag_scope(user_id uuid, tag_keys text[]) returns text[]
    language sql immutable strict parallel safe
    as $$ select array(select user_id::text || '/' || k from unnest(tag_keys) as k) $$;

create index task_user_tag_idx on task using gin (task_tag_scope(user_id, tag_keys));
drop index task_tag_keys_idx;

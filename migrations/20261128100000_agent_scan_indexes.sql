-- Indexes for the ai-agent's scans that the existing ones do not serve. (Its overdue sweep and
-- the prioritisation pass's due-soon and overload scans are `due_at` ranges over open tasks,
-- which `task_open_due_idx` already serves.)

-- The prioritisation pass's stale scan, across all users, least recently touched first:
--   where completed_at is null and updated_at < now() - interval '14 days' order by updated_at
-- (`task_user_updated_idx` leads with user_id, so it cannot serve a scan over every user).
create index task_open_updated_idx on task (updated_at) where completed_at is null;

-- The per-user suggestion rate limit, counted at every insert whatever the status:
--   select count(*) from suggestion where user_id = $1 and created_at > now() - interval '1 hour'
-- (`suggestion_user_open_idx` covers open suggestions only).
create index suggestion_user_created_idx on suggestion (user_id, created_at);

-- The prioritisation assistant's overload check, run when an important task due this week is
-- created or changed:
--   select count(*) from task where user_id = $1 and completed_at is null
--     and priority in ('high', 'urgent') and due_at >= $2 and due_at <= $3
-- It was served by `task_user_priority_idx`, which reads every high and urgent task the user
-- ever had (completed ones and those due years away included) and was the ai-agent's costliest
-- statement. Partial, so only open important tasks pay for it on write.
create index task_open_important_due_idx on task (user_id, due_at)
    where completed_at is null and priority in ('high', 'urgent');

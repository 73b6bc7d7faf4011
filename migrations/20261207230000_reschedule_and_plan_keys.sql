-- Reschedule proposals and daily plans: which task a grouped proposal already covers.
--
-- A task overdue at a given due time is proposed once, alone (`suggestion.dedupe_key`
-- `overdue:<task>:<due>`) or as an item of a grouped proposal. The item carries the same key,
-- so "is this task and due time proposed already?" is one probe in each table, both made
-- under the user's suggestion lock. Null on items whose suggestion's own key is enough (the
-- items of a daily plan, one plan per user and local date).
alter table suggestion_item add column dedupe_key text check (char_length(dedupe_key) between 1 and 200);
-- Unique per task rather than per user: the key names its task, and a task has one owner, so
-- the two are the same rule without copying `user_id` into every item. Serves the overdue
-- sweep's and the event path's probe (`… where i.task_id = t.task_id and i.dedupe_key = …`)
-- and the items insert's `on conflict (task_id, dedupe_key) do nothing`. Nulls are distinct,
-- so plan items never conflict.
create unique index suggestion_item_dedupe_key on suggestion_item (task_id, dedupe_key);
-- The daily plan's user scan needs no index of its own: it walks `user_preference` by its
-- primary key (`order by user_id`, keyset `user_id > $after`), and its probes use
-- `suggestion_dedupe_key` (a plan for the local date), `suggestion_user_created_idx` (the
-- hourly limit) and `task_user_open_due_idx` (an open task to plan).

-- Assistants that act: working hours, effort estimates, reschedule proposals, daily plans,
-- and a reason on every suggestion.

-- Working hours, in the user's time zone: the days (a bit per ISO weekday, Monday = bit 0;
-- 31 = Monday to Friday) and the hours the assistants plan within. `daily_plan_size` caps the
-- daily plan; 0 turns the plan off.
alter table user_preference
    add column work_days smallint not null default 31 check (work_days between 0 and 127),
    add column work_start time not null default '09:00',
    add column work_end time not null default '17:00',
    add column daily_plan_size smallint not null default 5 check (daily_plan_size between 0 and 20),
    add constraint user_preference_work_hours check (work_start < work_end);

-- How long a task is expected to take, which the daily plan fits into the working day.
alter table task add column estimate_minutes integer check (estimate_minutes between 1 and 1440);

-- Two new kinds: a concrete new due time for overdue work, and the plan for the day.
-- `overdue` stays valid for the warnings written before proposals existed.
alter table suggestion drop constraint suggestion_kind_check,
    add constraint suggestion_kind_check check (kind in
        ('overdue', 'priority', 'overload', 'stale', 'reminder', 'schedule_adjustment', 'daily_plan'));

-- Why the assistant says it, in one line built from the facts it used. Null only on rows
-- written before reasons existed.
alter table suggestion add column reason text check (char_length(reason) between 1 and 500);

-- The tasks of a suggestion that covers several (a grouped reschedule, a daily plan), each
-- with its own change, reason and answer, so a user can accept some and skip others.
create table suggestion_item (
    suggestion_id   uuid not null references suggestion on delete cascade,
    task_id         uuid not null references task on delete cascade,
    -- Display order within the suggestion.
    ordinal         smallint not null check (ordinal >= 0),
    -- The task change accepting this item applies (a PATCH body).
    proposed_change jsonb not null,
    reason          text not null check (char_length(reason) between 1 and 500),
    status          text not null default 'open' check (status in ('open', 'accepted', 'skipped')),
    resolved_at     timestamptz,
    primary key (suggestion_id, task_id)
);
-- A task's items: the foreign key's cascade when a task is deleted, and skipping a completed
-- task's open items.
create index suggestion_item_task_idx on suggestion_item (task_id);

-- Tasks and their scheduled reminders.

-- An enum sorts by declaration order, which is the order users mean by "sort by priority".
create type task_priority as enum ('low', 'medium', 'high', 'urgent');

create table task (
    task_id           uuid primary key,
    user_id           uuid not null references app_user on delete cascade,
    title             text not null check (char_length(title) between 1 and 200),
    description       text check (char_length(description) <= 5000),
    priority          task_priority not null default 'medium',
    -- Display spelling as the user typed it; `tag_keys` is the case-folded form that
    -- filters and the uniqueness rule use.
    tags              text[] not null default '{}' check (cardinality(tags) <= 20),
    tag_keys          text[] not null default '{}',
    due_at            timestamptz,
    -- An RFC 5545 RRULE; whether the next due date counts from the due date or from the
    -- completion is not expressible in RRULE, hence its own column.
    recurrence_rule   text,
    recurrence_basis  text check (recurrence_basis in ('due_date', 'completion')),
    -- The user's reminder settings (at most five); `reminder` below holds their schedule.
    reminders         jsonb not null default '[]' check (jsonb_typeof(reminders) = 'array'),
    -- Every task belongs to a series: itself, or the recurring task it was generated from.
    series_id         uuid not null,
    -- Due time of the series' first task: its day of month is the intent a monthly series
    -- returns to after a short month clamps it (31st -> 28th -> 31st).
    series_start_at   timestamptz,
    occurrence_number integer not null default 1 check (occurrence_number >= 1),
    -- The local calendar date this occurrence was generated for; with the series it is the
    -- occurrence's identity, so a series can never get the same occurrence twice.
    occurrence_on     date,
    previous_task_id  uuid references task on delete set null,
    completed_at      timestamptz,
    search_text       text generated always as (lower(title || ' ' || coalesce(description, ''))) stored,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    constraint task_recurrence_complete check ((recurrence_rule is null) = (recurrence_basis is null)),
    constraint task_recurrence_needs_due check (recurrence_rule is null or due_at is not null),
    constraint task_series_occurrence_key unique (series_id, occurrence_on),
    -- Completing a recurring task spawns its successor at most once, however often it is
    -- completed, un-completed and completed again, and however many requests race.
    constraint task_previous_task_key unique (previous_task_id)
);
select trigger_updated_at('task');

-- List views: one index per sort order, each led by the owner and ending in the key so the
-- keyset pagination (`(sort_value, task_id) > (cursor)`) is an index range scan.
create index task_user_created_idx  on task (user_id, created_at, task_id);
create index task_user_updated_idx  on task (user_id, updated_at, task_id);
-- Undated tasks sort after every dated one; `infinity` keeps the keyset comparison total.
create index task_user_due_idx      on task (user_id, coalesce(due_at, 'infinity'), task_id);
create index task_user_priority_idx on task (user_id, priority, task_id);
create index task_user_title_idx    on task (user_id, lower(title), task_id);
-- `tag=` filter (any of the given tags).
create index task_tag_keys_idx on task using gin (tag_keys);
-- `search=`: case-insensitive substring over title and description.
create index task_search_idx on task using gin (search_text gin_trgm_ops);
-- The overdue agent's sweep: open tasks by due time, across all users.
create index task_open_due_idx on task (due_at) where completed_at is null and due_at is not null;

-- Reminder firings derived from each task's reminder settings and due time. The backend
-- rewrites a task's unfired rows whenever its due time, reminders or completion change; the
-- reminder agent claims rows whose time has come.
create table reminder (
    reminder_id uuid primary key,
    task_id     uuid not null references task on delete cascade,
    user_id     uuid not null references app_user on delete cascade,
    fire_at     timestamptz not null,
    fired_at    timestamptz,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    -- Two settings that land on the same instant fire once; a rescheduled reminder that
    -- already fired at that instant does not fire again.
    constraint reminder_task_fire_at_key unique (task_id, fire_at)
);
select trigger_updated_at('reminder');
-- The reminder agent's scan: due, unfired reminders.
create index reminder_pending_idx on reminder (fire_at) where fired_at is null;

-- Idempotency-Key support for `POST /tasks`: the first response is kept and replayed.
create table idempotency_key (
    user_id         uuid not null references app_user on delete cascade,
    idempotency_key text not null check (char_length(idempotency_key) between 1 and 255),
    -- SHA-256 of the request body: the same key with a different body is a client error.
    request_hash    bytea not null,
    response_status smallint not null,
    response_body   jsonb not null,
    created_at      timestamptz not null default now(),
    primary key (user_id, idempotency_key)
);
-- The periodic purge of expired keys.
create index idempotency_key_created_at_idx on idempotency_key (created_at);

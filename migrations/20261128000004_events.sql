-- The transactional outbox and the consumer-side bookkeeping.

-- Every task change writes its event here in the same transaction as the change; the relay
-- publishes rows in `outbox_id` order. No foreign keys: the event of a deleted task or user
-- must still go out.
create table outbox (
    outbox_id      bigint generated always as identity primary key,
    event_id       uuid not null constraint outbox_event_id_key unique,
    user_id        uuid not null,
    task_id        uuid not null,
    event_type     text not null check (event_type like 'tasks.%'),
    topic          text not null,
    payload        jsonb not null,
    correlation_id text not null,
    traceparent    text,
    attempts       integer not null default 0,
    last_error     text,
    created_at     timestamptz not null default now(),
    published_at   timestamptz
);
-- The relay's scan: unpublished rows in order. Stays tiny when the sidecar is up.
create index outbox_unpublished_idx on outbox (outbox_id) where published_at is null;
-- The retention purge of published rows.
create index outbox_published_at_idx on outbox (published_at) where published_at is not null;

-- Wakes the relay at commit instead of making it poll. Per statement, with an empty payload,
-- so a burst of inserts costs one notification per transaction (PostgreSQL folds identical
-- notifications within a transaction).
create function outbox_notify() returns trigger as $$
begin
    perform pg_notify('outbox_inserted', '');
    return null;
end;
$$ language plpgsql;
create trigger outbox_notify after insert on outbox for each statement execute function outbox_notify();

-- Consumer idempotency: a CloudEvent id is recorded in the same transaction as its effect.
create table processed_event (
    consumer     text not null,
    event_id     text not null,
    event_type   text not null,
    processed_at timestamptz not null default now(),
    primary key (consumer, event_id)
);
-- The retention purge.
create index processed_event_processed_at_idx on processed_event (processed_at);

-- Events a consumer could never process (malformed, unknown version) or that exhausted their
-- retries, kept for inspection and replay.
create table dead_letter (
    dead_letter_id bigint generated always as identity primary key,
    event_id       text,
    topic          text not null,
    event_type     text,
    payload        jsonb not null,
    reason         text not null,
    created_at     timestamptz not null default now()
);
create index dead_letter_created_at_idx on dead_letter (created_at);

-- What the assistants propose to a user.
create table suggestion (
    suggestion_id   uuid primary key,
    user_id         uuid not null references app_user on delete cascade,
    task_id         uuid references task on delete cascade,
    kind            text not null check (kind in ('overdue', 'priority', 'overload', 'stale', 'reminder')),
    status          text not null default 'open'
                    check (status in ('open', 'accepted', 'dismissed', 'expired')),
    title           text not null,
    message         text not null,
    -- For suggestions that can be accepted: the change to apply, e.g. {"priority": "high"}.
    proposed_change jsonb,
    -- The event that caused it (null when a cron pass did), and the chain it belongs to.
    source_event    text,
    correlation_id  text,
    -- Chosen by the agent (e.g. task + kind + window); the database, not a check-then-insert,
    -- is what keeps concurrent deliveries and the cron path from creating duplicates.
    dedupe_key      text not null,
    expires_at      timestamptz not null,
    resolved_at     timestamptz,
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now(),
    constraint suggestion_dedupe_key unique (user_id, dedupe_key)
);
select trigger_updated_at('suggestion');
-- The suggestions panel: a user's open suggestions, newest first.
create index suggestion_user_open_idx on suggestion (user_id, created_at desc) where status = 'open';
-- Dismissing a task's open suggestions when it is completed or deleted.
create index suggestion_task_open_idx on suggestion (task_id) where status = 'open';
-- The expiry sweep.
create index suggestion_open_expiry_idx on suggestion (expires_at) where status = 'open';

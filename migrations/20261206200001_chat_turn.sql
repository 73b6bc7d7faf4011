-- One chat message being answered, keyed by the client's idempotency key (or a fresh one), so a
-- retried message gets the first attempt's reply instead of running its tools again.
create table chat_turn (
    turn_id                   uuid primary key,
    user_id                   uuid not null references app_user on delete cascade,
    idempotency_key           text not null check (char_length(idempotency_key) between 1 and 255),
    -- What was asked, to refuse the same key with another message.
    message                   text not null,
    requested_conversation_id uuid,
    -- The conversation the turn went to (a new one when none was requested).
    conversation_id           uuid references chat_conversation on delete cascade,
    -- Until then the first attempt may still be running; afterwards a retry recovers its reply
    -- from `progress`.
    lease_until               timestamptz not null,
    -- What the turn did so far, saved after each tool call (the reply's `actions`).
    progress                  jsonb not null default '[]' check (jsonb_typeof(progress) = 'array'),
    -- The reply as sent, once the turn finished.
    response                  jsonb,
    created_at                timestamptz not null default now(),
    constraint chat_turn_key unique (user_id, idempotency_key)
);

-- Housekeeping drops turns after a day, like the task API's idempotency keys.
create index chat_turn_created on chat_turn (created_at);

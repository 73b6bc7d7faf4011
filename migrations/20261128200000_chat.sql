-- The chat assistant's conversations and their messages, per user.

create table chat_conversation (
    conversation_id    uuid primary key,
    user_id            uuid not null references app_user on delete cascade,
    title              text not null check (char_length(title) between 1 and 200),
    -- The tasks the last reply was about, so "delete that one" and "make it high priority"
    -- resolve against the conversation.
    last_task_ids      uuid[] not null default '{}',
    -- A deletion or bulk change waiting for the user's "yes"; it lapses at
    -- `pending_expires_at` and nothing happens.
    pending_action     jsonb,
    pending_expires_at timestamptz,
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now(),
    constraint chat_conversation_pending_complete check ((pending_action is null) = (pending_expires_at is null))
);

-- `updated_at` is the conversation's last activity: every turn touches the row.
select trigger_updated_at('chat_conversation');

-- The conversation list: a user's conversations, most recently active first.
create index chat_conversation_user_recent on chat_conversation (user_id, updated_at desc, conversation_id desc);

create table chat_message (
    message_id      uuid primary key,
    conversation_id uuid not null references chat_conversation on delete cascade,
    role            text not null check (role in ('user', 'assistant')),
    content         text not null,
    -- For assistant messages: what was done, as returned by the chat endpoint.
    actions         jsonb not null default '[]' check (jsonb_typeof(actions) = 'array'),
    created_at      timestamptz not null default now()
);

-- Messages are never edited, so they have no `updated_at`.
-- A conversation's messages in order (message ids are UUIDv7, so they sort by creation).
create index chat_message_conversation on chat_message (conversation_id, message_id);

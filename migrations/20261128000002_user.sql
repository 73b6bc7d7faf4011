-- Accounts, their preferences and their sign-in sessions.

create table app_user (
    user_id       uuid primary key,
    -- Stored trimmed and lower-cased by the application, so a plain unique constraint is
    -- case-insensitive in effect.
    email         text not null constraint app_user_email_key unique
                  check (email = lower(btrim(email)) and char_length(email) between 3 and 254),
    password_hash text not null,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now()
);
select trigger_updated_at('app_user');

create table user_preference (
    user_id                   uuid primary key references app_user on delete cascade,
    autonomous_agents_enabled boolean not null default true,
    reminder_offset_minutes   integer not null default 30
                              check (reminder_offset_minutes between 0 and 40320),
    -- An IANA zone name, checked by the application against the tz database it ships.
    time_zone                 text not null default 'UTC' check (char_length(time_zone) between 1 and 64),
    created_at                timestamptz not null default now(),
    updated_at                timestamptz not null default now()
);
select trigger_updated_at('user_preference');

-- Server-side sessions: they survive restarts and are shared by every backend replica.
-- The cookie holds a random token; only its SHA-256 is stored, so a leaked table cannot be
-- replayed as cookies.
create table session (
    session_hash  bytea primary key check (octet_length(session_hash) = 32),
    user_id       uuid not null references app_user on delete cascade,
    expires_at    timestamptz not null,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now()
);
select trigger_updated_at('session');
-- Sign-out-everywhere and account deletion.
create index session_user_id_idx on session (user_id);
-- The periodic purge of expired sessions.
create index session_expires_at_idx on session (expires_at);

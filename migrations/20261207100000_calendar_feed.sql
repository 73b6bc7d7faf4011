-- The calendar feed: one secret address per user (`GET /api/v1/calendar/{token}.ics`) that
-- calendar apps subscribe to.
--
-- The token is stored as it is, not hashed like session tokens: the address is a capability
-- URL the user can see and copy in Settings at any time (as with Google Calendar's and
-- Todoist's secret addresses), and a hash could not be shown again. It grants read access to
-- the user's open, dated tasks only, which a leak of this database would expose anyway; a
-- session token, by contrast, grants writes and stays hashed. Resetting replaces the token,
-- so the old address stops working at once; turning the feed off deletes the row.
create table calendar_feed (
    user_id    uuid primary key references app_user on delete cascade,
    -- 256 random bits, URL-safe base64 without padding (43 characters).
    token      text not null check (token ~ '^[A-Za-z0-9_-]{43}$'),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- Serves the feed's lookup by address: `select user_id from calendar_feed where token = $1`.
    constraint calendar_feed_token_key unique (token)
);
select trigger_updated_at('calendar_feed');

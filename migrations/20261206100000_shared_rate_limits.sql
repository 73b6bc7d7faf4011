-- Rate limits shared by every replica: one row per key (a client address, a user, an email at
-- an address), updated with one statement per check. Unlogged: the counts are worth nothing
-- after a crash (the worst case is a fresh budget), and they are written on every attempt, so
-- they skip the WAL. Expired rows are deleted by the backend's hourly housekeeping.

-- Fixed windows: `hits` attempts since `window_ends_at - window`; the first hit after the
-- window ends starts a new one.
create unlogged table rate_limit (
    rate_limit_key text primary key,
    hits           integer not null,
    window_ends_at timestamptz not null
);

-- Failed sign-ins per (email, client address): after a few, each further failure doubles how
-- long that pair must wait. A success deletes the row; `expires_at` is when it can be forgotten.
create unlogged table sign_in_failure (
    email          text not null,
    client         text not null,
    failures       integer not null,
    blocked_until  timestamptz not null,
    expires_at     timestamptz not null,
    primary key (email, client)
);

-- Housekeeping: expired rows.
create index rate_limit_window_idx on rate_limit (window_ends_at);
create index sign_in_failure_expiry_idx on sign_in_failure (expires_at);

-- The wait after a pair's `failures`-th failure: none for the first `free`, then `base_secs`
-- doubling per failure, at most `cap_secs` (the exponent is bounded so it cannot overflow).
create function sign_in_backoff(failures integer, free integer, base_secs float8, cap_secs float8)
returns interval language sql immutable as $$
    select make_interval(secs => case when failures > free
        then least(base_secs * 2 ^ least(failures - free - 1, 40), cap_secs) else 0 end)
$$;

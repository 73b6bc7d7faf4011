-- Web Push: the browsers a user asked to be notified on (their push subscriptions), and the
-- queue of notifications waiting to be sent to them by the ai-agent's sender.
--
-- A subscription's endpoint is a capability URL at the browser vendor's push service; the
-- keys are the browser's: `p256dh` its P-256 public key (65 bytes, uncompressed) and `auth`
-- its 16-byte secret, both needed to encrypt a message only that browser can read (RFC 8291).
create table push_subscription (
    push_subscription_id uuid primary key,
    user_id              uuid not null references app_user on delete cascade,
    endpoint             text not null check (length(endpoint) <= 2048),
    p256dh               bytea not null check (octet_length(p256dh) = 65),
    auth                 bytea not null check (octet_length(auth) = 16),
    -- What the user calls this browser, e.g. "Chromium on Linux".
    label                text check (length(label) <= 100),
    -- The push service's own end of the subscription, when the browser reported one.
    expires_at           timestamptz,
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    -- One row per browser: subscribing again replaces it (`on conflict (endpoint)`).
    constraint push_subscription_endpoint_key unique (endpoint)
);
select trigger_updated_at('push_subscription');
-- A user's subscriptions, oldest first: the list, the 10-per-user cap, and the trigger below.
create index push_subscription_user_idx on push_subscription (user_id, created_at);

-- One row per (suggestion, subscription) still to send. Sent, expired or given-up rows are
-- deleted; a suggestion or subscription deleted takes its rows with it.
create table push_delivery (
    push_delivery_id     uuid primary key default gen_random_uuid(),
    suggestion_id        uuid not null references suggestion on delete cascade,
    push_subscription_id uuid not null references push_subscription on delete cascade,
    -- Failed tries so far (429, 5xx, network errors); the sender gives up after its maximum.
    attempts             integer not null default 0,
    next_attempt_at      timestamptz not null default now(),
    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),
    -- Also serves the cascade from `suggestion` (its leading column).
    constraint push_delivery_key unique (suggestion_id, push_subscription_id)
);
select trigger_updated_at('push_delivery');
-- The sender's claim: deliveries due now, earliest first (`for update skip locked`).
create index push_delivery_due_idx on push_delivery (next_attempt_at);
-- The cascade from `push_subscription` (an expired or removed subscription).
create index push_delivery_subscription_idx on push_delivery (push_subscription_id);

-- Reminders and the daily plan reach the user's browsers even when no tab is open. A trigger
-- rather than the agent's code: every path that writes such a suggestion queues its pushes in
-- the same transaction, and a user without subscriptions costs one index probe
-- (`push_subscription_user_idx`).
create function queue_push_deliveries() returns trigger as $$
begin
    insert into push_delivery (suggestion_id, push_subscription_id)
    select new.suggestion_id, s.push_subscription_id
    from push_subscription s
    where s.user_id = new.user_id
    on conflict do nothing;
    return null;
end;
$$ language plpgsql;

create trigger suggestion_push_delivery
    after insert on suggestion
    for each row
    when (new.kind in ('reminder', 'daily_plan'))
    execute function queue_push_deliveries();

-- Events the broker refuses (not an unreachable sidecar: nothing is counted then) wait a
-- growing delay before their next try, during which their user's later events wait too and
-- every other user's go out; after a number of refusals the row is parked, so one
-- unpublishable event neither blocks its user for ever nor costs every relay pass a try.
-- `backend replay-parked` puts parked rows back in line.
alter table outbox
    add column refusals integer not null default 0,
    add column retry_at timestamptz,
    add column parked_at timestamptz;

-- The relay's "whose events wait for a retry" lookup on every pass. Rows enter it only when
-- refused (new rows have no retry_at), so it stays tiny and costs the write path nothing.
create index outbox_retry_idx on outbox (user_id) where published_at is null and retry_at is not null;

-- Dead letters can be replayed once the cause is fixed (`ai-agent replay-dead-letters`).
alter table dead_letter add column replayed_at timestamptz;
-- The replay's scan: letters not replayed yet, oldest first.
create index dead_letter_pending_idx on dead_letter (dead_letter_id) where replayed_at is null;

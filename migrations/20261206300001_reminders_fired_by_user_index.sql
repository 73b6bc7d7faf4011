-- The reminder pass counts each user's reminders fired in the last hour, to cap the events
-- one account's reminders can put on the broker.
create index reminder_fired_by_user_idx on reminder (user_id, fired_at) where fired_at is not null;

-- Restraint: the assistants learn from a user's answers. A kind of advice dismissed three
-- times in a row is paused for a day, twice as long with each further dismissal in a row
-- (at most 30 days); an accept ends the run. Reminders, which the user asked for, are never
-- paused. Rule and reasoning: specs/spec.md, "Restraint".

-- Who resolved a suggestion: the user (accept or dismiss, through the API) or the assistant
-- (advice it withdrew because it became moot: the task was completed or rescheduled). Only the
-- user's answers teach the back-off. The default is the user's, so every path that resolves a
-- suggestion on a user's behalf (the backend's handlers, present and future) counts without
-- knowing about this column; the agent's own statements say 'assistant'. Expiry is neither an
-- accept nor a dismissal (status 'expired') and teaches nothing.
alter table suggestion add column resolved_by text not null default 'user'
    check (resolved_by in ('user', 'assistant'));

-- A user's answers per kind of advice. Written only by the trigger below, so its kinds are the
-- suggestion table's (checked there) minus 'reminder'.
create table suggestion_feedback (
    user_id            uuid not null references app_user on delete cascade,
    kind               text not null,
    -- Dismissals since the last accept (or the user's reset).
    dismissed_in_a_row integer not null default 0 check (dismissed_in_a_row >= 0),
    -- No new advice of this kind before this instant; null when not paused.
    paused_until       timestamptz,
    -- Totals, for the user's Settings page; a reset leaves them.
    accepted           bigint not null default 0 check (accepted >= 0),
    dismissed          bigint not null default 0 check (dismissed >= 0),
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now(),
    -- Also serves the suggestion gate's lookup, `where user_id = $1 and kind = $2`, the
    -- scans' "kind not paused" filter, and the Settings page's `where user_id = $1`.
    primary key (user_id, kind)
);
select trigger_updated_at('suggestion_feedback');

-- One user answer to one suggestion, counted when its status leaves 'open' for 'accepted' or
-- 'dismissed'. The pause starts at the answer (`resolved_at`), so a late-applied row cannot
-- pause the kind in the past. 2^(n-3) days for the n-th dismissal in a row, capped at 30 days
-- (the exponent is capped first, so a long run cannot overflow the interval).
create function suggestion_feedback_count() returns trigger as $$
declare
    at timestamptz := coalesce(new.resolved_at, now());
    accept boolean := new.status = 'accepted';
begin
    insert into suggestion_feedback as f (user_id, kind, dismissed_in_a_row, paused_until, accepted, dismissed)
    values (new.user_id, new.kind, case when accept then 0 else 1 end, null,
            case when accept then 1 else 0 end, case when accept then 0 else 1 end)
    on conflict (user_id, kind) do update set
        dismissed_in_a_row = case when accept then 0 else f.dismissed_in_a_row + 1 end,
        paused_until = case
            when accept then null
            when f.dismissed_in_a_row + 1 >= 3 then
                at + least(interval '1 day' * power(2, least(f.dismissed_in_a_row + 1 - 3, 5)), interval '30 days')
            else f.paused_until end,
        accepted = f.accepted + case when accept then 1 else 0 end,
        dismissed = f.dismissed + case when accept then 0 else 1 end;
    return null;
end;
$$ language plpgsql;

create trigger suggestion_feedback_count after update of status on suggestion
    for each row
    when (old.status = 'open' and new.status in ('accepted', 'dismissed')
          and new.resolved_by = 'user' and new.kind <> 'reminder')
    execute function suggestion_feedback_count();

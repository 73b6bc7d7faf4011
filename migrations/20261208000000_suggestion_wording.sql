-- Explanations in the model's words. When an OpenAI-compatible engine is configured, the
-- backend rephrases each new suggestion's rule-based reason (the facts the assistant used) as
-- one friendly sentence, after the suggestion exists: the event path never waits for the
-- model, and the reason stays as written, the fallback whenever the model is off, slow,
-- refuses, is over budget or answers something that does not hold up (specs/spec.md,
-- "Explanations").

-- The model's sentence; null until then, and for good when the wording failed.
alter table suggestion add column explanation text check (char_length(explanation) between 1 and 200);
-- When a replica took the suggestion for wording: one attempt per suggestion, whichever
-- replica is first, and none once taken, even if that replica died (the reason still shows).
alter table suggestion add column wording_claimed_at timestamptz;

-- The wording queue: `where status = 'open' and wording_claimed_at is null and reason is not
-- null and created_at > $since order by created_at limit $n for update skip locked`. Only
-- open suggestions waiting for a first attempt, so it stays small whether or not a model is
-- configured (without one, nothing claims, and suggestions leave it when they are answered
-- or expire).
create index suggestion_wording_queue on suggestion (created_at)
    where status = 'open' and wording_claimed_at is null and reason is not null;

-- The panel learns of the new sentence like of any other change of the suggestion.
create or replace function suggestion_user_stream() returns trigger as $$
begin
    if tg_op = 'UPDATE' and new.status = old.status
        and new.explanation is not distinct from old.explanation then
        return null;
    end if;
    perform user_stream_notify(new.user_id, 'suggestion', jsonb_build_object(
        'suggestionId', new.suggestion_id,
        'kind', new.kind,
        'status', new.status,
        'taskId', new.task_id,
        'title', left(new.title, 200)));
    return null;
end;
$$ language plpgsql;
drop trigger suggestion_user_stream on suggestion;
create trigger suggestion_user_stream after insert or update of status, explanation on suggestion
    for each row execute function suggestion_user_stream();

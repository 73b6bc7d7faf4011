-- Live updates for open browser tabs. Every backend replica LISTENs on `user_stream` and
-- forwards each notification to that user's Server-Sent-Event streams. Notifying from
-- triggers (rather than from application code) covers every writer, the ai-agent included,
-- and PostgreSQL delivers a notification only when its transaction commits, so a tab never
-- hears of a change that was rolled back.
--
-- Payload: {"userId": ..., "event": "task" | "suggestion" | "reminder", "data": {...}}. It
-- carries identifiers and short labels only (NOTIFY payloads are limited to 8000 bytes);
-- the browser fetches the rest through the API, which checks ownership.

create function user_stream_notify(user_id uuid, event text, data jsonb) returns void as $$
begin
    perform pg_notify('user_stream',
        jsonb_build_object('userId', user_id, 'event', event, 'data', data)::text);
end;
$$ language plpgsql;

-- Task changes, from the outbox row each change writes in its own transaction.
create function outbox_user_stream() returns trigger as $$
begin
    perform user_stream_notify(new.user_id, 'task',
        jsonb_build_object('eventType', new.event_type, 'taskId', new.task_id));
    if new.event_type = 'tasks.reminder' then
        perform user_stream_notify(new.user_id, 'reminder', jsonb_build_object(
            'taskId', new.task_id,
            'title', left(new.payload ->> 'title', 200),
            'dueAt', new.payload ->> 'dueDate'));
    end if;
    return null;
end;
$$ language plpgsql;
create trigger outbox_user_stream after insert on outbox
    for each row execute function outbox_user_stream();

-- New suggestions and every change of a suggestion's status.
create function suggestion_user_stream() returns trigger as $$
begin
    if tg_op = 'UPDATE' and new.status = old.status then
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
create trigger suggestion_user_stream after insert or update of status on suggestion
    for each row execute function suggestion_user_stream();

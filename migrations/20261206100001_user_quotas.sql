-- Per-user quotas: how many tasks and conversations an account holds, and messages per
-- conversation. Counters are kept by triggers in the statement that inserts or deletes the
-- row, so a create costs no extra round trip and no count(*) over the user's rows, and every
-- writer (the backend, the ai-agent) is counted alike.

-- The limits in force. One row, written by the backend at start-up from its configuration
-- (`MAX_TASKS_PER_USER` and friends); 0 means no limit.
create table quota_setting (
    quota_setting_id              boolean primary key default true check (quota_setting_id),
    max_tasks_per_user            integer not null check (max_tasks_per_user >= 0),
    max_conversations_per_user    integer not null check (max_conversations_per_user >= 0),
    max_messages_per_conversation integer not null check (max_messages_per_conversation >= 0),
    created_at                    timestamptz not null default now(),
    updated_at                    timestamptz not null default now()
);
select trigger_updated_at('quota_setting');
insert into quota_setting (max_tasks_per_user, max_conversations_per_user, max_messages_per_conversation)
values (10000, 200, 1000);

-- What each account holds; one row per user, created with the account.
create table user_usage (
    user_id            uuid primary key references app_user on delete cascade,
    task_count         integer not null default 0,
    conversation_count integer not null default 0
);
insert into user_usage (user_id, task_count, conversation_count)
select u.user_id,
       (select count(*) from task t where t.user_id = u.user_id),
       (select count(*) from chat_conversation c where c.user_id = u.user_id)
from app_user u;

create function create_user_usage() returns trigger language plpgsql as $$
begin
    insert into user_usage (user_id) values (new.user_id);
    return new;
end $$;
create trigger app_user_usage after insert on app_user for each row execute function create_user_usage();

-- A new task past the quota fails the insert with a check violation named `task_quota`, which
-- the backend answers with 403 `task_quota_exceeded`. The next occurrence of a recurring task
-- is counted but never refused: completing a task must not fail on a quota.
create function count_task() returns trigger language plpgsql as $$
declare
    quota integer;
begin
    if tg_op = 'DELETE' then
        update user_usage set task_count = task_count - 1 where user_id = old.user_id;
        return old;
    end if;
    select max_tasks_per_user into quota from quota_setting;
    update user_usage set task_count = task_count + 1
     where user_id = new.user_id
       and (coalesce(quota, 0) = 0 or task_count < quota or new.previous_task_id is not null);
    if not found then
        raise exception 'this account already holds % tasks, its quota', quota
            using errcode = 'check_violation', constraint = 'task_quota';
    end if;
    return new;
end $$;
-- After, not before: an insert skipped by `on conflict do nothing` must not count.
create trigger task_count after insert or delete on task for each row execute function count_task();

create function count_conversation() returns trigger language plpgsql as $$
declare
    quota integer;
begin
    if tg_op = 'DELETE' then
        update user_usage set conversation_count = conversation_count - 1 where user_id = old.user_id;
        return old;
    end if;
    select max_conversations_per_user into quota from quota_setting;
    update user_usage set conversation_count = conversation_count + 1
     where user_id = new.user_id and (coalesce(quota, 0) = 0 or conversation_count < quota);
    if not found then
        raise exception 'this account already holds % conversations, its quota', quota
            using errcode = 'check_violation', constraint = 'conversation_quota';
    end if;
    return new;
end $$;
create trigger chat_conversation_count after insert or delete on chat_conversation
    for each row execute function count_conversation();

-- Messages of a conversation. Messages are only ever deleted with their conversation, so the
-- count only grows.
create table chat_conversation_usage (
    conversation_id uuid primary key references chat_conversation on delete cascade,
    message_count   integer not null
);
insert into chat_conversation_usage (conversation_id, message_count)
select c.conversation_id, (select count(*) from chat_message m where m.conversation_id = c.conversation_id)
from chat_conversation c;

-- A user's message is refused when the conversation has no room for it and its reply; the
-- assistant's reply is always stored, so a turn never ends half-written.
create function count_message() returns trigger language plpgsql as $$
declare
    quota integer;
begin
    select max_messages_per_conversation into quota from quota_setting;
    insert into chat_conversation_usage as u (conversation_id, message_count)
    values (new.conversation_id, 1)
    on conflict (conversation_id) do update set message_count = u.message_count + 1
     where coalesce(quota, 0) = 0 or new.role = 'assistant' or u.message_count + 2 <= quota;
    if not found then
        raise exception 'this conversation already holds % messages, its quota', quota
            using errcode = 'check_violation', constraint = 'message_quota';
    end if;
    return new;
end $$;
create trigger chat_message_count after insert on chat_message for each row execute function count_message();

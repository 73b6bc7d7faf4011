-- What the chat assistant's model has cost per UTC day: per account, and for the whole
-- service. The backend reserves each model call here before making it (one statement that
-- counts the call against both rows, or neither when either is spent) and adds the tokens
-- the provider reports afterwards, so the daily budgets hold across replicas.

create table chat_usage (
    user_id uuid   not null references app_user on delete cascade,
    day     date   not null,
    calls   integer not null default 0 check (calls >= 0),
    tokens  bigint  not null default 0 check (tokens >= 0),
    primary key (user_id, day)
);

create table chat_usage_total (
    day    date    primary key,
    calls  integer not null default 0 check (calls >= 0),
    tokens bigint  not null default 0 check (tokens >= 0)
);

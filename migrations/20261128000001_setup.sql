-- Shared helpers every later migration relies on.

-- Trigram indexes back the case-insensitive task search (`ilike '%term%'`).
create extension if not exists pg_trgm;

-- Keeps `updated_at` honest without every update statement having to remember it.
create or replace function set_updated_at() returns trigger as $$
begin
    new.updated_at = now();
    return new;
end;
$$ language plpgsql;

-- One call per table attaches the trigger above. No `when (old is distinct from new)` guard:
-- it cannot see generated columns; the application skips no-op updates instead.
create or replace function trigger_updated_at(tablename regclass) returns void as $$
begin
    execute format(
        'create trigger set_updated_at before update on %s for each row '
        'execute function set_updated_at();',
        tablename);
end;
$$ language plpgsql;

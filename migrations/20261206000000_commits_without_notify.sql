-- Task writes commit without NOTIFY. PostgreSQL serialises the commits of transactions that
-- sent a notification (they queue on one lock held until their commit record is flushed), so a
-- NOTIFY in every task change capped writes at one WAL flush at a time: dropping the outbox
-- triggers raised create-only throughput by half in the benchmark.
--
-- Instead, the relay wakes in-process after each change the API commits and polls for rows
-- written elsewhere (another replica, the ai-agent), and it announces the events it publishes
-- to the open tabs with one notification per batch (see backend/src/relay.rs).
drop trigger outbox_notify on outbox;
drop function outbox_notify();
drop trigger outbox_user_stream on outbox;
drop function outbox_user_stream();

-- A notification now carries a list of updates: the relay sends a batch's in one; the
-- suggestion trigger, which still notifies per change (suggestions change far less often than
-- tasks), sends a list of one.
create or replace function user_stream_notify(user_id uuid, event text, data jsonb) returns void as $$
begin
    perform pg_notify('user_stream', jsonb_build_array(
        jsonb_build_object('userId', user_id, 'event', event, 'data', data))::text);
end;
$$ language plpgsql;

-- The last period each cron job ran for. Every ai-agent replica schedules every job; the first
-- to claim a tick's period runs it and the others skip it, so each pass runs once per period
-- however many replicas there are (an advisory lock alone only keeps passes from overlapping:
-- a replica whose tick fires after another's pass finished would run it again).
create table cron_period (
    job    text primary key,
    period timestamptz not null
);

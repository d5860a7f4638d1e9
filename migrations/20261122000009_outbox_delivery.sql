-- Delivery bookkeeping for the outbox (the relay and the consumers in `switchyard worker`):
-- `attempts` counts relay publish attempts that failed, with the last failure in `last_error`;
-- `handled_at` is stamped by the topic's consumer when a job finished, so redeliveries (the relay
-- may publish twice, Redis redelivers after a crash) are recognised and skipped.
-- `dead_at`/`dead_reason` record that a job gave up (dead-lettered), for inspection.
alter table outbox
    add column attempts integer not null default 0,
    add column last_error text,
    add column handled_at timestamptz,
    add column dead_at timestamptz,
    add column dead_reason text;

-- Indexes for the billing scans that read whole tables: the builds of an hour for every project
-- (the sweep's `builds_between` without a project), and the reconciliation's checks that a
-- resource has no usage event still in the outbox (`topic`, `aggregate_id`, undelivered only)
-- and its list of running deployments. Partial, so they stay as small as what they find.
create index usage_events_builds_idx on usage_events (occurred_at)
    where event_type = 'build.completed';
create index outbox_pending_aggregate_idx on outbox (topic, aggregate_id)
    where handled_at is null and dead_at is null;
create index deployments_running_idx on deployments (phase_changed_at)
    where phase = 'running';

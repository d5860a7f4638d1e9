-- What the reconciler last saw of a deployment: ready pods (the CLI's `--wait` reads
-- `ready_replicas`), and when its phase last changed (the deadline of each phase counts from it).
alter table deployments add column ready_replicas integer not null default 0;
alter table deployments add column phase_changed_at timestamptz not null default now();
-- Rollback's default target: the newest deployment that ran, per service and environment.
create index deployments_environment_service_idx
    on deployments (environment_id, service_id, sequence desc);

-- The usage ledger (DESIGN.md §12): every usage event once (its id is deterministic per fact, so
-- a replayed producer cannot add a second row), the per-resource intervals derived from them,
-- hourly aggregates, and the hours a late event made stale. Usage rows reference no project:
-- bills are history and outlive a deleted project (no foreign key, so no ON DELETE to choose).

create table usage_events (
    id uuid primary key,
    project_id uuid not null,
    team_id uuid,
    event_type text not null,
    resource_type text not null,
    resource_id uuid not null,
    resource_name text not null default '',
    -- Waybill's `metrics` (map of numbers) and `metadata` (map of strings; `reason` lives here).
    metrics jsonb not null default '{}',
    metadata jsonb not null default '{}',
    occurred_at timestamptz not null,
    recorded_at timestamptz not null default now()
);

create index usage_events_resource_idx on usage_events (resource_id, occurred_at);
create index usage_events_project_idx on usage_events (project_id, occurred_at);

-- One row per stretch of time a resource was billable at one rate: compute (GB per hour:
-- max(memory GB, vCPU) x replicas), storage (GB) or custom domains (count). `ended_at` null =
-- still open. Rebuilt from the resource's events whenever one of them is recorded.
create table usage_intervals (
    resource_id uuid not null,
    started_at timestamptz not null,
    project_id uuid not null,
    resource_type text not null,
    resource_name text not null default '',
    metric text not null check (metric in ('compute_gb_hours', 'storage_gb_hours', 'custom_domains')),
    rate numeric(20, 6) not null check (rate >= 0),
    ended_at timestamptz check (ended_at is null or ended_at >= started_at),
    start_event uuid not null,
    end_event uuid,
    primary key (resource_id, started_at, start_event)
);

create index usage_intervals_project_idx on usage_intervals (project_id, started_at);
create index usage_intervals_open_idx on usage_intervals (resource_type) where ended_at is null;

create table usage_hourly (
    project_id uuid not null,
    metric text not null,
    hour timestamptz not null check (date_trunc('hour', hour at time zone 'UTC') = hour at time zone 'UTC'),
    quantity numeric(20, 6) not null,
    aggregated_at timestamptz not null default now(),
    primary key (project_id, metric, hour)
);

create index usage_hourly_hour_idx on usage_hourly (hour);

-- Hours from `from_hour` on must be aggregated again for the project (a late event);
-- `version` lets the aggregator delete the mark only if no newer event moved it meanwhile.
create table usage_dirty (
    project_id uuid primary key,
    from_hour timestamptz not null,
    version bigint not null default 1
);

-- The last hour the periodic aggregation finished for every project (one row).
create table usage_watermark (
    id boolean primary key default true check (id),
    aggregated_through timestamptz not null
);

-- What a deployment was billed as when it reached `running`: replicas, cpu millicores, memory
-- MB and volumes (null before then, and for deployments that ran before this migration).
alter table deployments add column usage jsonb;

-- Plans (reference original-internals.md §5.4). Money is numeric dollars; the code computes in
-- integer micro-dollars and rounds each line to cents. -1 in an `included_*` column = unlimited.
create table billing_plans (
    id text primary key,
    name text not null,
    base_price numeric(12, 2) not null check (base_price >= 0),
    included_compute_gb_hours numeric(20, 6) not null,
    included_build_minutes numeric(20, 6) not null,
    included_storage_gb numeric(20, 6) not null,
    included_bandwidth_gb numeric(20, 6) not null,
    included_custom_domains integer not null,
    price_compute_gb_hour numeric(12, 6) not null check (price_compute_gb_hour >= 0),
    price_build_minute numeric(12, 6) not null check (price_build_minute >= 0),
    price_storage_gb_month numeric(12, 6) not null check (price_storage_gb_month >= 0),
    price_bandwidth_gb numeric(12, 6) not null check (price_bandwidth_gb >= 0),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- Seed data, idempotent: an operator's changed prices are kept (`do nothing`).
insert into billing_plans (id, name, base_price, included_compute_gb_hours, included_build_minutes,
                           included_storage_gb, included_bandwidth_gb, included_custom_domains,
                           price_compute_gb_hour, price_build_minute, price_storage_gb_month,
                           price_bandwidth_gb)
values ('hobby', 'Hobby', 5, 500, 500, 1, 100, 1, 0.000463, 0.01, 0.25, 0.10),
       ('pro', 'Pro', 20, 2000, 2000, 10, 500, -1, 0.000463, 0.01, 0.20, 0.08),
       ('team', 'Team', 50, 5000, 5000, 50, 1000, -1, 0.0004, 0.008, 0.15, 0.05)
on conflict (id) do nothing;

-- A project's plan; a project without a row is on the configured default plan.
create table billing_subscriptions (
    project_id uuid primary key references projects (id) on delete cascade,
    plan_id text not null references billing_plans (id) on delete restrict,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

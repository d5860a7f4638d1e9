-- Releases (one build of a service at a commit) and deployments (a release placed in an
-- environment). A deployment has a per-environment sequence number instead of the original's
-- UNIQUE(release_id, environment_id), so redeploying or rolling back to an old release works.

create table releases (
    id uuid primary key,
    service_id uuid not null references services (id) on delete cascade,
    version text not null,
    image_uri text not null,
    git_sha text not null check (git_sha ~ '^[0-9a-f]{7,40}$'),
    git_branch text not null,
    status text not null default 'building' check (status in ('building', 'ready', 'failed')),
    -- Machine-readable cause of a failure (BuildFailed, BuildTimedOut, RoundhouseRejected, ...).
    reason text,
    error_message text,
    -- Roundhouse's job id: set when the enqueue is answered, or by the first callback.
    job_id text,
    image_digest text,
    image_size_mb double precision,
    sbom text,
    sbom_format text,
    image_signature text,
    build_duration_secs double precision,
    logs_url text,
    triggered_by uuid references users (id) on delete set null,
    completed_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint releases_job_id_key unique (job_id)
);

create index releases_service_idx on releases (service_id, created_at desc, id desc);
create index releases_building_idx on releases (created_at) where status = 'building';

create table deployments (
    id uuid primary key,
    service_id uuid not null references services (id) on delete cascade,
    environment_id uuid not null references environments (id) on delete cascade,
    release_id uuid not null references releases (id) on delete cascade,
    -- 1, 2, 3, ... per environment: the order in which deployments were requested.
    sequence bigint not null,
    replicas integer not null check (replicas between 0 and 50),
    phase text not null default 'pending' check (phase in
        ('pending', 'applying', 'rolling_out', 'running', 'failed', 'timed_out', 'superseded')),
    reason text,
    error_message text,
    health text not null default 'unknown' check (health in ('unknown', 'healthy', 'unhealthy')),
    rolled_back_from uuid references deployments (id) on delete set null,
    -- A user, or null for the system (auto-deploy).
    triggered_by uuid references users (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint deployments_environment_sequence_key unique (environment_id, sequence)
);

create index deployments_service_idx on deployments (service_id, created_at desc, id desc);
create index deployments_release_idx on deployments (release_id);

-- Services: the whole validated `ServiceSpec` (name, repository, build, port, probes, resources,
-- replicas, autoscaling, volumes) is one JSON document, so a PATCH is a merge patch validated as a
-- whole; the columns queries need are generated from it and cannot drift. `version` is the ETag.
create table services (
    id uuid primary key,
    project_id uuid not null references projects (id) on delete cascade,
    spec jsonb not null check (jsonb_typeof(spec) = 'object'),
    name text generated always as (spec ->> 'name') stored not null,
    git_repo text generated always as (spec ->> 'git_repo') stored not null,
    app_path text generated always as (spec ->> 'app_path') stored not null,
    version bigint not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint services_project_name_key unique (project_id, name)
);

-- Webhooks find services by repository (and app path).
create index services_git_repo_idx on services (git_repo, app_path);

-- GitHub webhook deliveries: one row per `X-GitHub-Delivery`, so a redelivery is answered from
-- here instead of building again, and project admins can see what a push did (`matched`,
-- `action`). `project_ids` lists the projects whose services the delivery matched.
create table github_deliveries (
    delivery_id text primary key check (char_length(delivery_id) between 1 and 200),
    event text not null,
    repository text,
    git_ref text,
    git_sha text,
    -- ignored | built | no_match
    action text not null,
    matched integer not null default 0,
    release_ids uuid[] not null default '{}',
    project_ids uuid[] not null default '{}',
    received_at timestamptz not null default now()
);

create index github_deliveries_received_idx on github_deliveries (received_at desc);
create index github_deliveries_projects_idx on github_deliveries using gin (project_ids);

-- The audit log: one row per mutation (and per secret reveal), written by core in the same
-- transaction as the change. Append-only: a trigger refuses UPDATE, DELETE and TRUNCATE for everyone, so
-- neither a bug nor a compromised application role can rewrite history. Rows outlive what they
-- describe: no foreign keys, ids are kept as values and names are copied.
create table audit_log (
    id uuid primary key,
    occurred_at timestamptz not null default now(),
    actor_id uuid,
    actor_email text not null,
    actor_role text not null,
    action text not null,
    resource_type text not null,
    resource_id text not null,
    resource_name text not null default '',
    project_id uuid,
    environment_id uuid,
    request_id text,
    ip_address text,
    user_agent text,
    outcome text not null check (outcome in ('success', 'failure', 'denied')),
    -- Redacted field changes: `{field: {from, to}}`; secret values are never written.
    changes jsonb not null default '{}',
    metadata jsonb not null default '{}'
);

create index audit_log_project_idx on audit_log (project_id, occurred_at desc, id desc);
create index audit_log_actor_idx on audit_log (actor_id, occurred_at desc, id desc);
create index audit_log_occurred_idx on audit_log (occurred_at desc, id desc);

create function audit_log_append_only() returns trigger
language plpgsql as $$
begin
    raise exception 'audit_log is append-only (% refused)', tg_op
        using errcode = 'insufficient_privilege';
end;
$$;

create trigger audit_log_append_only
    before update or delete or truncate on audit_log
    for each statement execute function audit_log_append_only();

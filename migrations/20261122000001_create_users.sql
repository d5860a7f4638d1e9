-- Users of the platform. Rows are created just in time from OIDC or by local registration
-- (identity issue); this table exists from the start so the schema has a stable root.
-- Hard delete: a removed user's history lives in the audit log, not here.
create table users (
    id uuid primary key,
    email text not null,
    name text not null default '',
    role text not null default 'developer' check (role in ('admin', 'developer', 'viewer')),
    oidc_issuer text,
    oidc_subject text,
    password_hash text,
    active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    last_login_at timestamptz,
    constraint users_oidc_identity_both_or_neither
        check ((oidc_issuer is null) = (oidc_subject is null))
);

create unique index users_email_key on users (lower(email));
create unique index users_oidc_identity_key on users (oidc_issuer, oidc_subject)
    where oidc_issuer is not null;

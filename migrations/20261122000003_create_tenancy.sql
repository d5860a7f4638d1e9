-- Tenancy: teams (with members and invitations), projects, their environments, and who may do
-- what in a project. One policy function in `switchyard-core` reads `project_access` and team
-- membership; nothing else grants access.

create table teams (
    id uuid primary key,
    name text not null check (char_length(name) between 2 and 100),
    slug text not null check (slug ~ '^[a-z0-9][a-z0-9-]*[a-z0-9]$' and char_length(slug) between 2 and 50),
    description text,
    avatar_url text,
    billing_email text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint teams_slug_key unique (slug)
);

-- Team roles: owner > admin > member > viewer. A team's projects grant its members the matching
-- project role (owner/admin → admin, member → developer, viewer → viewer).
create table team_members (
    team_id uuid not null references teams (id) on delete cascade,
    user_id uuid not null references users (id) on delete cascade,
    role text not null check (role in ('owner', 'admin', 'member', 'viewer')),
    joined_at timestamptz not null default now(),
    primary key (team_id, user_id)
);

create index team_members_user_id_idx on team_members (user_id);

-- Invitations are found by the SHA-256 of their token (the token itself is only in the link);
-- single use: `status` leaves `pending` exactly once.
create table team_invitations (
    id uuid primary key,
    team_id uuid not null references teams (id) on delete cascade,
    email text not null,
    role text not null check (role in ('admin', 'member', 'viewer')),
    token_hash text not null,
    status text not null default 'pending'
        check (status in ('pending', 'accepted', 'declined', 'revoked')),
    inviter_id uuid references users (id) on delete set null,
    expires_at timestamptz not null,
    created_at timestamptz not null default now(),
    responded_at timestamptz,
    constraint team_invitations_token_hash_key unique (token_hash)
);

-- One open invitation per (team, e-mail).
create unique index team_invitations_pending_key on team_invitations (team_id, lower(email))
    where status = 'pending';

create table projects (
    id uuid primary key,
    name text not null check (char_length(name) between 1 and 100),
    slug text not null check (slug ~ '^[a-z0-9][a-z0-9-]*[a-z0-9]$' and char_length(slug) between 3 and 50),
    description text not null default '',
    team_id uuid references teams (id) on delete set null,
    created_by uuid references users (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint projects_slug_key unique (slug)
);

create index projects_team_id_idx on projects (team_id) where team_id is not null;

create table environments (
    id uuid primary key,
    project_id uuid not null references projects (id) on delete cascade,
    name text not null check (char_length(name) between 1 and 63),
    kube_namespace text not null
        check (kube_namespace ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$' and char_length(kube_namespace) <= 63),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint environments_project_name_key unique (project_id, name),
    constraint environments_kube_namespace_key unique (kube_namespace)
);

-- Direct grants. `environment_id` null: the whole project; set: that environment only (and
-- read access to the project itself).
create table project_access (
    id uuid primary key,
    user_id uuid not null references users (id) on delete cascade,
    project_id uuid not null references projects (id) on delete cascade,
    environment_id uuid references environments (id) on delete cascade,
    role text not null check (role in ('admin', 'developer', 'viewer')),
    granted_by uuid references users (id) on delete set null,
    created_at timestamptz not null default now()
);

create unique index project_access_grant_key
    on project_access (user_id, project_id, coalesce(environment_id, '00000000-0000-0000-0000-000000000000'));
create index project_access_project_id_idx on project_access (project_id);

-- An invitation with what every view of it shows: its team and the inviter's name.
create view team_invitation_details as
select i.id, i.team_id, t.name as team_name, t.slug as team_slug, i.email, i.role, i.status,
       i.token_hash, i.inviter_id, u.name as inviter_name, i.expires_at, i.created_at
from team_invitations i
join teams t on t.id = i.team_id
left join users u on u.id = i.inviter_id;

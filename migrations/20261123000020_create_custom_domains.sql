-- Custom domains: a host name routed to one service in one environment (reference §1.7). A host
-- can route to one place only, so names are unique across every tenant, case-insensitively
-- (`custom_domains_domain_key`); they are stored lower-case, in punycode when internationalized.
-- `verified_at` set means verified (a platform domain is verified when it is created; another
-- when its TXT record was found). `version` is the ETag. Hard-deleted: history is in audit_log.
create table custom_domains (
    id uuid primary key,
    service_id uuid not null references services (id) on delete cascade,
    environment_id uuid not null references environments (id) on delete cascade,
    domain text not null check (domain = lower(domain) and char_length(domain) between 3 and 253),
    is_platform_domain boolean not null default false,
    tls_enabled boolean not null default true,
    verified_at timestamptz,
    version bigint not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint custom_domains_platform_verified check (not is_platform_domain or verified_at is not null)
);

create unique index custom_domains_domain_key on custom_domains (lower(domain));
-- A service's domains (lists, and the renderer's verified domains of one environment).
create index custom_domains_service_environment_idx on custom_domains (service_id, environment_id);
-- Cascades from a deleted environment.
create index custom_domains_environment_id_idx on custom_domains (environment_id);

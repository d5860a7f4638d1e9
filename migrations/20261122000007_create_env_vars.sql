-- Environment variables of services, sealed by envelope encryption. Every value, secret or not,
-- is stored only as AES-256-GCM ciphertext under a data key (DEK); data keys are stored wrapped
-- (AES-256-GCM) by the key-encryption key from ENCLII_ENVVAR_ENCRYPTION_KEY, which never reaches
-- the database. `kek_id` is the fingerprint of the key that wrapped a data key, not the key.
-- New values use the newest data key wrapped by the current key; `switchyard secrets rotate-key`
-- adds a version and re-seals every row under it. A data key is removed only when no row uses it.
create table env_var_keys (
    version integer primary key check (version > 0),
    kek_id text not null,
    nonce bytea not null check (octet_length(nonce) = 12),
    wrapped bytea not null,
    created_at timestamptz not null default now()
);

-- `environment_id` null: every environment of the service; set: that environment only, where it
-- overrides a global variable with the same key. The ciphertext's associated data is the row id
-- and the key, so a ciphertext moved onto another row does not decrypt. `version` is the ETag
-- (re-sealing under a new data key does not change it). Hard-deleted: history is in audit_log.
create table env_vars (
    id uuid primary key,
    service_id uuid not null references services (id) on delete cascade,
    environment_id uuid references environments (id) on delete cascade,
    key text not null check (key ~ '^[A-Za-z_][A-Za-z0-9_]*$' and char_length(key) <= 255),
    is_secret boolean not null default false,
    key_version integer not null references env_var_keys (version) on delete restrict,
    nonce bytea not null check (octet_length(nonce) = 12),
    ciphertext bytea not null,
    version bigint not null default 1,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint env_vars_service_environment_key_key
        unique nulls not distinct (service_id, environment_id, key)
);

-- Cascades from a deleted environment, and rotation's search for rows under older data keys.
create index env_vars_environment_id_idx on env_vars (environment_id) where environment_id is not null;
create index env_vars_key_version_idx on env_vars (key_version);

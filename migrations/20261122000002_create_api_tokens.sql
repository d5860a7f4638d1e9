-- API tokens for the CLI and CI (`enclii_` + 64 hex). Only the SHA-256 of a token is stored; the
-- first 16 characters identify it in lists. Revocation is a timestamp, so history is kept and
-- `revoked` can be listed (`?include_revoked=true`). Rows go with their user.
create table api_tokens (
    id uuid primary key,
    user_id uuid not null references users (id) on delete cascade,
    name text not null check (char_length(name) between 1 and 100),
    prefix text not null,
    token_hash text not null,
    scopes text[] not null default '{}',
    expires_at timestamptz,
    last_used_at timestamptz,
    revoked_at timestamptz,
    created_at timestamptz not null default now(),
    constraint api_tokens_token_hash_key unique (token_hash)
);

create index api_tokens_user_id_idx on api_tokens (user_id, created_at desc);

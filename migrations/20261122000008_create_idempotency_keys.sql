-- Idempotency keys (DESIGN.md §6): the first response to a `POST` that creates, kept so a retry
-- with the same `Idempotency-Key` gets it again instead of creating twice. `scope` is the SHA-256
-- of the caller's bearer token (no token is stored), so keys of different callers never meet.
-- A row is `pending` while its request runs, `done` with the response once it succeeded, or
-- `withheld` when the response carried a secret (a new API token, an invitation token) that must
-- not be at rest: then only the status is kept. Refusals and failures delete the row, so the
-- client may retry. Rows past `expires_at` (24 h after completion; the lease of a `pending` row
-- is the request timeout and a margin) count as absent and are deleted opportunistically.
create table idempotency_keys (
    scope text not null check (scope ~ '^[0-9a-f]{64}$'),
    key text not null check (length(key) between 1 and 255),
    method text not null,
    -- The concrete path, e.g. `/v1/projects/shop/services`.
    path text not null,
    -- SHA-256 of method, path and body: a different request under the same key is refused.
    request_hash text not null check (request_hash ~ '^[0-9a-f]{64}$'),
    status text not null check (status in ('pending', 'done', 'withheld')),
    response_status smallint,
    -- Only `content-type`, `location` and `etag`.
    response_headers jsonb not null default '{}',
    response_body bytea,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    primary key (scope, key),
    check ((status = 'pending') = (response_status is null)),
    check (status = 'done' or response_body is null)
);

create index idempotency_keys_expires_idx on idempotency_keys (expires_at);

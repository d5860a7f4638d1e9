-- The transactional outbox: a use-case that must cause work elsewhere (cluster changes, builds,
-- billing events) inserts a row here in the same transaction as its change. The relay in the
-- worker publishes unpublished rows to Redis Streams `enclii:<topic>` and stamps `published_at`;
-- consumers dedupe by `id`, so republishing after a crash is harmless.
create table outbox (
    id uuid primary key,
    topic text not null check (topic ~ '^[a-z][a-z0-9_.-]*$'),
    -- What the event is about (e.g. a project id), for ordering and inspection.
    aggregate_id text not null,
    payload jsonb not null,
    -- W3C trace context of the request that wrote the row.
    trace_context jsonb not null default '{}',
    created_at timestamptz not null default now(),
    published_at timestamptz
);

create index outbox_unpublished_idx on outbox (created_at, id) where published_at is null;

-- A row id for GitHub deliveries, so the delivery log pages with the same opaque cursor as every
-- other list (the delivery id is GitHub's text and cannot be trusted to be a UUID).
alter table github_deliveries add column id uuid not null default gen_random_uuid();
alter table github_deliveries add constraint github_deliveries_id_key unique (id);
create index github_deliveries_page_idx on github_deliveries (received_at desc, id desc);

-- When the ledger started tracking usage: the time migration 20261123000030 (the ledger) was
-- applied, or now when its history row is not there. Reconciliation never dates a correcting
-- `deployment.started` before it, so a deployment running since before billing existed is billed
-- from this instant, not from when it started running. One row.
create table usage_tracking (
    id boolean primary key default true check (id),
    since timestamptz not null
);

do $$
declare
    ledger_applied timestamptz;
begin
    if to_regclass('switchyard_migrations') is not null then
        execute 'select applied_at from switchyard_migrations where version = 20261123000030'
            into ledger_applied;
    end if;
    insert into usage_tracking (since) values (coalesce(ledger_applied, now()))
    on conflict (id) do nothing;
end
$$;

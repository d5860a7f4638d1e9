-- `usage_dirty.version` was a per-row counter: a mark deleted by one sweep and inserted again by
-- a later event restarted at 1, so a slower concurrent sweep that had read the old mark at 1
-- deleted the new one and its hours were never aggregated again. Versions now come from one
-- sequence that never restarts: a sweep deletes a mark only if it is exactly the mark it read.
create sequence usage_dirty_version_seq owned by usage_dirty.version;
select setval('usage_dirty_version_seq', coalesce((select max(version) from usage_dirty), 0) + 1, false);
alter table usage_dirty alter column version set default nextval('usage_dirty_version_seq');

-- Build status by commit (`GET /v1/builds/:sha/status`, `.../builds/:sha/status`) matches a full
-- or abbreviated SHA as a prefix; text_pattern_ops lets `git_sha like 'abc1234%'` use the index.
create index releases_git_sha_idx on releases (git_sha text_pattern_ops, created_at desc);

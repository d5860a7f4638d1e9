//! `/v1/teams` (teams and their members), `/v1/teams/{slug}/invitations` and `/v1/invitations`.

pub(crate) mod dto;
pub(crate) mod handlers;
pub(crate) mod invitations;

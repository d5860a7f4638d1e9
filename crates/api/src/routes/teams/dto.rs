//! Bodies of `/v1/teams` and `/v1/invitations`, with the original field names (`Team`,
//! `TeamMember`, `TeamInvitation`, `InvitationDetails`) and RFC 3339 UTC timestamps.

use serde::{Deserialize, Serialize};
use switchyard_core::{InvitationRow, MemberRow, TeamRow};
use utoipa::ToSchema;

use crate::routes::auth::dto::rfc3339;

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct TeamCreate {
    /// 2 to 100 characters.
    pub(crate) name: String,
    /// 2 to 50 lower-case letters, digits or '-', starting and ending with a letter or digit.
    pub(crate) slug: String,
    /// At most 1000 characters.
    pub(crate) description: Option<String>,
    pub(crate) billing_email: Option<String>,
}

/// Absent fields are left as they are.
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct TeamUpdateBody {
    pub(crate) name: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) billing_email: Option<String>,
    /// An http(s) URL.
    pub(crate) avatar_url: Option<String>,
}

/// A team as the caller sees it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TeamView {
    id: String,
    name: String,
    slug: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    avatar_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    billing_email: Option<String>,
    member_count: i64,
    /// The caller's role (`owner`, `admin`, `member`, `viewer`); absent for a platform admin
    /// who is not a member.
    #[serde(skip_serializing_if = "Option::is_none")]
    user_role: Option<String>,
    created_at: String,
    updated_at: String,
}

impl From<TeamRow> for TeamView {
    fn from(t: TeamRow) -> Self {
        let present = |s: Option<String>| s.filter(|s| !s.is_empty());
        Self {
            id: t.id.to_string(),
            name: t.name,
            slug: t.slug,
            description: present(t.description),
            avatar_url: present(t.avatar_url),
            billing_email: present(t.billing_email),
            member_count: t.member_count,
            user_role: t.user_role,
            created_at: rfc3339(t.created_at),
            updated_at: rfc3339(t.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TeamList {
    pub(crate) teams: Vec<TeamView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_cursor: Option<String>,
}

/// A member of a team. `id` is the user id (members have no id of their own), the one
/// `/members/{member_id}` takes.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MemberView {
    id: String,
    user_id: String,
    email: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    role: String,
    joined_at: String,
}

impl From<MemberRow> for MemberView {
    fn from(m: MemberRow) -> Self {
        Self {
            id: m.user_id.to_string(),
            user_id: m.user_id.to_string(),
            email: m.email,
            name: Some(m.name).filter(|n| !n.is_empty()),
            role: m.role,
            joined_at: rfc3339(m.joined_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MemberList {
    pub(crate) members: Vec<MemberView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct MemberRoleUpdate {
    /// `owner`, `admin`, `member` or `viewer`.
    pub(crate) role: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct InvitationCreate {
    pub(crate) email: String,
    /// `admin`, `member` or `viewer`.
    pub(crate) role: String,
}

/// An invitation as its team's managers see it (never its token).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InvitationView {
    id: String,
    email: String,
    role: String,
    /// `pending`, `accepted`, `declined`, `revoked` or `expired`.
    status: String,
    expires_at: String,
    /// Null once the inviter's account is deleted.
    inviter_id: Option<String>,
    created_at: String,
}

impl From<InvitationRow> for InvitationView {
    fn from(i: InvitationRow) -> Self {
        Self {
            id: i.id.to_string(),
            email: i.email,
            role: i.role,
            status: i.status,
            expires_at: rfc3339(i.expires_at),
            inviter_id: i.inviter_id.map(|id| id.to_string()),
            created_at: rfc3339(i.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InvitationList {
    pub(crate) invitations: Vec<InvitationView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_cursor: Option<String>,
}

/// The created invitation with its token, shown this once: hand it (or a link the UI builds
/// from it) to the invitee, who accepts with `POST /v1/invitations/{token}/accept`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InvitationCreated {
    #[serde(flatten)]
    invitation: InvitationView,
    token: String,
}

impl InvitationCreated {
    pub(crate) fn new(row: InvitationRow, token: String) -> Self {
        Self {
            invitation: row.into(),
            token,
        }
    }
}

/// An invitation as its invitee sees it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InvitationDetails {
    id: String,
    email: String,
    role: String,
    /// `pending`, `accepted`, `declined`, `revoked` or `expired`.
    status: String,
    team_name: String,
    team_slug: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    inviter_name: Option<String>,
    expires_at: String,
    created_at: String,
}

impl From<InvitationRow> for InvitationDetails {
    fn from(i: InvitationRow) -> Self {
        Self {
            id: i.id.to_string(),
            email: i.email,
            role: i.role,
            status: i.status,
            team_name: i.team_name,
            team_slug: i.team_slug,
            inviter_name: i.inviter_name.filter(|n| !n.is_empty()),
            expires_at: rfc3339(i.expires_at),
            created_at: rfc3339(i.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InvitationDetailsList {
    pub(crate) invitations: Vec<InvitationDetails>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct InvitationAccepted {
    pub(crate) message: &'static str,
    pub(crate) team_slug: String,
    pub(crate) team_name: String,
}

//! Typed IDs: a `UserId` can never be passed where an `ApiTokenId` is expected. Bare `Uuid`s only
//! appear inside database row structs.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered id (UUID v7).
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

typed_id!(
    /// A platform user.
    UserId
);
typed_id!(
    /// An API token (not the token itself).
    ApiTokenId
);
typed_id!(
    /// A login session (shared by its access and refresh tokens).
    SessionId
);
typed_id!(
    /// A project.
    ProjectId
);
typed_id!(
    /// An environment of a project (one Kubernetes namespace).
    EnvironmentId
);
typed_id!(
    /// A team.
    TeamId
);
typed_id!(
    /// An invitation to a team (not its token).
    InvitationId
);
typed_id!(
    /// An audit log row.
    AuditId
);
typed_id!(
    /// A service of a project.
    ServiceId
);
typed_id!(
    /// A release (one build of a service).
    ReleaseId
);
typed_id!(
    /// A deployment of a release to an environment.
    DeploymentId
);
typed_id!(
    /// An environment variable of a service.
    EnvVarId
);
typed_id!(
    /// A custom domain routed to a service in one environment.
    DomainId
);

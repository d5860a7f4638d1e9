//! Janua access tokens (sent by the CLI): verified by `switchyard-auth`, then mapped to a user —
//! by (issuer, subject), else by a *verified* e-mail (and linked), else created just in time with
//! the default role (admin for `ENCLII_ADMIN_EMAILS`).

use switchyard_auth::ExternalClaims;
use switchyard_db::repo::users;
use switchyard_domain::{Email, Error, UserId};

use crate::{ControlPlane, UserRow, auth::db_unavailable};

const BAD_TOKEN: &str = "Invalid or expired token";

impl ControlPlane {
    pub(crate) async fn user_for_external(
        &self,
        claims: &ExternalClaims,
    ) -> Result<UserRow, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        if let Some(user) = users::find_by_identity(&mut conn, &claims.iss, &claims.sub).await? {
            return Ok(user);
        }
        // Without a verified address an unknown account could claim someone else's e-mail.
        let email = match (&claims.email, claims.email_verified) {
            (Some(email), Some(true)) => {
                Email::parse(email).map_err(|_| Error::unauthenticated(BAD_TOKEN))?
            }
            _ => return Err(Error::unauthenticated(BAD_TOKEN)),
        };
        if let Some(existing) = users::find_by_email(&mut conn, email.as_str()).await? {
            tracing::info!(user.id = %existing.id, "linked identity {} to user {}", claims.iss, existing.id);
            return users::link_identity(&mut conn, existing.id(), &claims.iss, &claims.sub).await;
        }
        let role = self.inner.auth.role_for(&email);
        let name = claims.name.as_deref().unwrap_or_default();
        let user = users::insert_identity(
            &mut conn,
            &users::NewIdentityUser {
                id: UserId::new(),
                email: email.as_str(),
                name: &name.chars().take(100).collect::<String>(),
                role,
                issuer: &claims.iss,
                subject: &claims.sub,
            },
        )
        .await?;
        tracing::info!(user.id = %user.id, "created user {} from {}", user.id, claims.iss);
        Ok(user)
    }
}

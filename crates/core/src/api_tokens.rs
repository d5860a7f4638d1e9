//! API tokens of the signed-in user: create (plaintext shown once), list, view, revoke. Scopes
//! name roles and can only narrow the owner's role.

use secrecy::SecretString;
use switchyard_auth::api_token;
use switchyard_db::repo::api_tokens;
use switchyard_domain::{ApiTokenId, Error, ResourceKind, Role};
use time::{Duration, OffsetDateTime};

use crate::{ApiTokenRow, ControlPlane, Principal, auth::db_unavailable};

/// At most this many live tokens per user (the original's limit).
pub const MAX_ACTIVE_TOKENS: i64 = 10;

/// A created token: the row and the plaintext, which is never available again.
#[derive(Debug)]
pub struct NewToken {
    pub row: ApiTokenRow,
    pub plaintext: SecretString,
}

/// The role a token grants: its owner's, lowered to the highest role its scopes name.
pub(crate) fn effective_role(owner: Role, scopes: &[String]) -> Role {
    scopes
        .iter()
        .filter_map(|s| s.parse::<Role>().ok())
        .max()
        .map_or(owner, |scope| scope.min(owner))
}

fn parse_scopes(scopes: &[String], owner: Role) -> Result<Vec<String>, Error> {
    let mut parsed = Vec::new();
    for scope in scopes {
        let role: Role = scope.parse().map_err(|_| {
            Error::invalid(
                "scopes",
                format!("unknown scope {scope:?}: use viewer, developer or admin"),
            )
        })?;
        if role > owner {
            return Err(Error::Forbidden);
        }
        parsed.push(role.as_str().to_owned());
    }
    parsed.sort();
    parsed.dedup();
    Ok(parsed)
}

impl ControlPlane {
    /// `POST /v1/user/tokens`.
    pub async fn api_token_create(
        &self,
        principal: &Principal,
        name: &str,
        scopes: &[String],
        expires_in_days: Option<i64>,
    ) -> Result<NewToken, Error> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid("name", "must be 1 to 100 characters"));
        }
        let expires_at = match expires_in_days {
            None => None,
            Some(days @ 1..=3650) => Some(OffsetDateTime::now_utc() + Duration::days(days)),
            Some(_) => {
                return Err(Error::invalid(
                    "expires_in_days",
                    "must be between 1 and 3650",
                ));
            }
        };
        let scopes = parse_scopes(scopes, principal.role)?;
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        if api_tokens::count_active(&mut tx, principal.user_id).await? >= MAX_ACTIVE_TOKENS {
            return Err(Error::invalid(
                "name",
                format!("you already have {MAX_ACTIVE_TOKENS} active tokens; revoke one first"),
            ));
        }
        let token = api_token::generate();
        let row = api_tokens::insert(
            &mut tx,
            &api_tokens::NewApiToken {
                id: ApiTokenId::new(),
                user_id: principal.user_id,
                name,
                prefix: &token.prefix,
                token_hash: &token.hash,
                scopes: &scopes,
                expires_at,
            },
        )
        .await?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing an API token", e))?;
        tracing::info!(api_token.id = %row.id, user.id = %principal.user_id, "created API token {}", row.id);
        Ok(NewToken {
            row,
            plaintext: token.plaintext,
        })
    }

    /// `GET /v1/user/tokens`.
    pub async fn api_token_list(
        &self,
        principal: &Principal,
        include_revoked: bool,
        page: crate::PageRequest,
    ) -> Result<crate::Page<ApiTokenRow>, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let rows = api_tokens::list(
            &mut conn,
            principal.user_id,
            include_revoked,
            page.after,
            page.fetch(),
        )
        .await?;
        Ok(page.finish(rows, |t| t.id))
    }

    /// `GET /v1/user/tokens/:id`: another user's token is 404.
    pub async fn api_token_view(
        &self,
        principal: &Principal,
        id: ApiTokenId,
    ) -> Result<ApiTokenRow, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        api_tokens::find(&mut conn, principal.user_id, id)
            .await?
            .ok_or_else(|| Error::not_found(ResourceKind::ApiToken, id.to_string()))
    }

    /// `DELETE /v1/user/tokens/:id`.
    pub async fn api_token_revoke(
        &self,
        principal: &Principal,
        id: ApiTokenId,
    ) -> Result<(), Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        if api_tokens::revoke(&mut conn, principal.user_id, id).await? {
            tracing::info!(api_token.id = %id, "revoked API token {id}");
            Ok(())
        } else {
            Err(Error::not_found(ResourceKind::ApiToken, id.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_only_narrow() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(effective_role(Role::Admin, &s(&["viewer"])), Role::Viewer);
        assert_eq!(
            effective_role(Role::Developer, &s(&["admin"])),
            Role::Developer
        );
        assert_eq!(effective_role(Role::Developer, &[]), Role::Developer);
        assert_eq!(
            effective_role(Role::Admin, &s(&["viewer", "developer"])),
            Role::Developer
        );
        assert_eq!(
            parse_scopes(&s(&["admin"]), Role::Developer)
                .unwrap_err()
                .code(),
            "forbidden"
        );
        assert_eq!(
            parse_scopes(&s(&["root"]), Role::Admin).unwrap_err().code(),
            "invalid_input"
        );
        assert_eq!(
            parse_scopes(&s(&["viewer", "viewer"]), Role::Developer).unwrap(),
            s(&["viewer"])
        );
    }
}

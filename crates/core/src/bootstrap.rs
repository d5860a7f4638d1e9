//! The first admin of a fresh `switchyard dev`: `admin@localhost` holding an API token, so the CLI
//! works before anyone has registered.

use secrecy::{ExposeSecret, SecretString};
use switchyard_auth::api_token;
use switchyard_db::repo::{api_tokens, users};
use switchyard_domain::{ApiTokenId, Error, UserId};

use crate::{ControlPlane, auth::db_unavailable};

pub const BOOTSTRAP_EMAIL: &str = "admin@localhost";

impl ControlPlane {
    /// Ensures `admin@localhost` is an admin holding `token` (from `ENCLII_BOOTSTRAP_TOKEN`), or,
    /// without one, a generated token when the admin has no live token yet. Returns a generated
    /// token so the caller can show it once.
    pub async fn ensure_bootstrap_admin(
        &self,
        token: Option<&SecretString>,
    ) -> Result<Option<SecretString>, Error> {
        if let Some(token) = token
            && !api_token::is_well_formed(token.expose_secret())
        {
            return Err(Error::invalid(
                "ENCLII_BOOTSTRAP_TOKEN",
                "must be enclii_ followed by 64 lower-case hex characters",
            ));
        }
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let admin = users::upsert_admin(&mut tx, UserId::new(), BOOTSTRAP_EMAIL).await?;
        let (plaintext, generated) = match token {
            Some(token) => (token.clone(), false),
            None if api_tokens::count_active(&mut tx, admin.id()).await? > 0 => return Ok(None),
            None => (api_token::generate().plaintext, true),
        };
        let hash = api_token::hash_secret(&plaintext);
        if !api_tokens::exists_by_hash(&mut tx, &hash).await? {
            let text = plaintext.expose_secret();
            api_tokens::insert(
                &mut tx,
                &api_tokens::NewApiToken {
                    id: ApiTokenId::new(),
                    user_id: admin.id(),
                    name: "bootstrap",
                    prefix: &text[..api_token::DISPLAY_PREFIX_LEN],
                    token_hash: &hash,
                    scopes: &[],
                    expires_at: None,
                },
            )
            .await?;
        }
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing the bootstrap admin", e))?;
        Ok(generated.then_some(plaintext))
    }
}

//! Pending browser sign-ins: `login:<key>` holds what the callback needs (PKCE verifier, nonce,
//! flow) for the lifetime of the state cookie, and is read at most once (`GETDEL`), so a replayed
//! callback finds nothing.

use std::time::Duration;

use switchyard_domain::Error;

use crate::Redis;

impl Redis {
    fn login_state_key(&self, key: &str) -> String {
        self.key(&format!("login:{key}"))
    }

    /// Stores `value` under `key` for `ttl`; an existing entry is never overwritten.
    pub async fn login_state_put(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
    ) -> Result<(), Error> {
        let mut conn = self.manager();
        let stored: Option<String> = redis::cmd("SET")
            .arg(self.login_state_key(key))
            .arg(value)
            .arg("NX")
            .arg("EX")
            .arg(ttl.as_secs().max(1))
            .query_async(&mut conn)
            .await
            .map_err(|e| Error::unavailable("sign-in state store (redis) unavailable", e))?;
        match stored {
            Some(_) => Ok(()),
            None => Err(Error::Conflict {
                message: "a sign-in with this state is already pending".to_owned(),
            }),
        }
    }

    /// Removes and returns the entry under `key`: `None` when it expired or was already taken.
    pub async fn login_state_take(&self, key: &str) -> Result<Option<String>, Error> {
        let mut conn = self.manager();
        redis::cmd("GETDEL")
            .arg(self.login_state_key(key))
            .query_async(&mut conn)
            .await
            .map_err(|e| Error::unavailable("sign-in state store (redis) unavailable", e))
    }
}

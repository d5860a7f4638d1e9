//! Live login sessions in Redis: `session:<id>` holds the `jti` of the session's current refresh
//! token and expires with it. No key means the session ended (logout, reuse detected, expiry, or
//! Redis lost its data): access and refresh tokens of that session are refused.

use std::time::Duration;

use switchyard_domain::{Error, SessionId};
use uuid::Uuid;

use crate::Redis;

/// What happened to a refresh attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The presented token was current; the session now expects the new one.
    Rotated,
    /// The presented token was already rotated away: someone replayed it. The session is ended.
    Reused,
    /// The session does not exist (ended or expired).
    Unknown,
}

/// Compare-and-set in one step, so two refreshes racing with the same token cannot both win.
const ROTATE: &str = r"
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
redis.call('DEL', KEYS[1])
return -1
";

impl Redis {
    fn session_key(&self, session: SessionId) -> String {
        self.key(&format!("session:{session}"))
    }

    fn unavailable(e: redis::RedisError) -> Error {
        Error::unavailable("session store (redis) unavailable", e)
    }

    /// Records a new session whose current refresh token is `jti`.
    pub async fn session_start(
        &self,
        session: SessionId,
        jti: Uuid,
        ttl: Duration,
    ) -> Result<(), Error> {
        let mut conn = self.manager();
        redis::cmd("SET")
            .arg(self.session_key(session))
            .arg(jti.to_string())
            .arg("EX")
            .arg(ttl.as_secs().max(1))
            .query_async::<()>(&mut conn)
            .await
            .map_err(Self::unavailable)
    }

    /// Replaces refresh token `presented` by `next`, or reports reuse (and ends the session).
    pub async fn session_rotate(
        &self,
        session: SessionId,
        presented: Uuid,
        next: Uuid,
        ttl: Duration,
    ) -> Result<Rotation, Error> {
        let mut conn = self.manager();
        let outcome: i64 = redis::cmd("EVAL")
            .arg(ROTATE)
            .arg(1)
            .arg(self.session_key(session))
            .arg(presented.to_string())
            .arg(next.to_string())
            .arg(ttl.as_secs().max(1))
            .query_async(&mut conn)
            .await
            .map_err(Self::unavailable)?;
        Ok(match outcome {
            1 => Rotation::Rotated,
            -1 => Rotation::Reused,
            _ => Rotation::Unknown,
        })
    }

    /// Whether the session is live.
    pub async fn session_live(&self, session: SessionId) -> Result<bool, Error> {
        let mut conn = self.manager();
        redis::cmd("EXISTS")
            .arg(self.session_key(session))
            .query_async::<i64>(&mut conn)
            .await
            .map(|n| n == 1)
            .map_err(Self::unavailable)
    }

    /// Ends the session (logout).
    pub async fn session_end(&self, session: SessionId) -> Result<(), Error> {
        let mut conn = self.manager();
        redis::cmd("DEL")
            .arg(self.session_key(session))
            .query_async::<i64>(&mut conn)
            .await
            .map(drop)
            .map_err(Self::unavailable)
    }
}

//! Fixed-window rate counters in Redis, shared by every replica: `rate:<bucket>:<who>` counts
//! hits in the current window and expires with it.

use std::time::Duration;

use switchyard_domain::Error;

use crate::Redis;

/// The counter after one more hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateCount {
    /// Hits in this window, including this one.
    pub hits: u64,
    /// Seconds until the window resets.
    pub reset_in: u64,
}

/// Increment and, for the first hit of a window, start its expiry, in one step.
const HIT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
return {n, ttl}
";

impl Redis {
    /// Counts one hit of `who` in `bucket` for a window of `window`.
    pub async fn rate_hit(
        &self,
        bucket: &str,
        who: &str,
        window: Duration,
    ) -> Result<RateCount, Error> {
        let mut conn = self.manager();
        let (hits, reset_in): (u64, i64) = redis::cmd("EVAL")
            .arg(HIT)
            .arg(1)
            .arg(self.key(&format!("rate:{bucket}:{who}")))
            .arg(window.as_secs().max(1))
            .query_async(&mut conn)
            .await
            .map_err(|e| Error::unavailable("rate limiter (redis) unavailable", e))?;
        Ok(RateCount {
            hits,
            reset_in: u64::try_from(reset_in).unwrap_or(0),
        })
    }
}

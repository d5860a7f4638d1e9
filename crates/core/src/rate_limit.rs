//! Rate limits: fixed windows counted in Redis, so every replica shares them. Without Redis (or
//! while it is down) requests pass and a warning is logged: a limiter must not take the API down.

use std::time::Duration;

use switchyard_domain::Error;

use crate::ControlPlane;

/// One limit: at most `limit` hits per `window` for each caller, counted in `bucket`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub bucket: &'static str,
    pub limit: u64,
    pub window: Duration,
}

/// Registration and password login, per client IP (the original's strict limiter).
pub const SIGN_IN: RateLimit = RateLimit {
    bucket: "sign-in",
    limit: 5,
    window: Duration::from_secs(60),
};

/// Refresh and logout, per client IP (the original's auth limiter).
pub const SESSION: RateLimit = RateLimit {
    bucket: "session",
    limit: 10,
    window: Duration::from_secs(60),
};

/// Browser sign-in (`GET /v1/auth/login`, `/v1/auth/callback`), per client IP.
pub const BROWSER_SIGN_IN: RateLimit = RateLimit {
    bucket: "browser-sign-in",
    limit: 10,
    window: Duration::from_secs(60),
};

/// Revealing a secret environment variable, per principal.
pub const ENV_VAR_REVEAL: RateLimit = RateLimit {
    bucket: "env-var-reveal",
    limit: 30,
    window: Duration::from_secs(60),
};

/// Every authenticated request, per principal.
pub const PRINCIPAL: RateLimit = RateLimit {
    bucket: "principal",
    limit: 600,
    window: Duration::from_secs(60),
};

/// Where a caller stands after a request was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateState {
    pub limit: u64,
    pub remaining: u64,
    /// Unix seconds when the window resets.
    pub reset_at: i64,
}

impl ControlPlane {
    /// Counts one request of `who` against `limit`: `Ok` with the remaining allowance, or
    /// `RateLimited` once the window is used up.
    pub async fn rate_limit(&self, limit: &RateLimit, who: &str) -> Result<RateState, Error> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let full = RateState {
            limit: limit.limit,
            remaining: limit.limit,
            reset_at: now + i64::try_from(limit.window.as_secs()).unwrap_or(60),
        };
        let Some(redis) = self.inner.redis.as_ref() else {
            return Ok(full);
        };
        match redis.rate_hit(limit.bucket, who, limit.window).await {
            Ok(count) if count.hits > limit.limit => Err(Error::RateLimited {
                retry_after_secs: count.reset_in.max(1),
            }),
            Ok(count) => Ok(RateState {
                limit: limit.limit,
                remaining: limit.limit - count.hits,
                reset_at: now + i64::try_from(count.reset_in).unwrap_or(0),
            }),
            Err(e) => {
                tracing::warn!(error = %e, bucket = limit.bucket, "rate limiter unavailable; letting the request through");
                Ok(full)
            }
        }
    }
}

//! Exponential backoff with full jitter: the delay before attempt `n + 1` is drawn uniformly
//! from `[0, min(max, base · 2^(n-1))]`, so retries of many failed jobs spread out instead of
//! arriving together.

use std::time::Duration;

/// The retry schedule of a consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling after the first failed attempt.
    pub base: Duration,
    /// The ceiling never grows past this.
    pub max: Duration,
}

impl Backoff {
    /// The ceiling of the delay after failed attempt `attempt` (1-based).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        self.base.saturating_mul(1u32 << doublings).min(self.max)
    }

    /// A delay after failed attempt `attempt`, drawn with `rng` (full jitter).
    pub fn delay(&self, attempt: u32, rng: &mut fastrand::Rng) -> Duration {
        let ceiling = u64::try_from(self.ceiling(attempt).as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rng.u64(0..=ceiling))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKOFF: Backoff = Backoff {
        base: Duration::from_millis(500),
        max: Duration::from_secs(60),
    };

    #[test]
    fn ceiling_doubles_then_caps() {
        let ceilings: Vec<u64> = (1..=10)
            .map(|n| u64::try_from(BACKOFF.ceiling(n).as_millis()).unwrap())
            .collect();
        assert_eq!(
            ceilings,
            [
                500, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000
            ]
        );
        assert_eq!(BACKOFF.ceiling(u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn delays_are_jittered_within_the_ceiling() {
        let mut rng = fastrand::Rng::with_seed(7);
        let delays: Vec<Duration> = (0..200).map(|_| BACKOFF.delay(4, &mut rng)).collect();
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(4)));
        let distinct: std::collections::BTreeSet<_> = delays.iter().collect();
        assert!(distinct.len() > 100, "full jitter spreads the delays");
        assert!(delays.iter().any(|d| *d < Duration::from_secs(1)));
        assert!(delays.iter().any(|d| *d > Duration::from_secs(3)));
    }
}

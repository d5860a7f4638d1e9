//! Where a deployment is (`DeploymentPhase`, DESIGN.md §10) and how that reads in the original's
//! three `status` values, which the CLI and the web UI still decide on.

/// The reconciler's phases. Terminal: `running` (until superseded), `failed`, `timed_out`,
/// `superseded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentPhase {
    Pending,
    Applying,
    RollingOut,
    Running,
    Failed,
    TimedOut,
    Superseded,
}

/// The reason a deployment superseded before it reached `running` carries: it was cancelled.
pub const CANCELLED: &str = "Cancelled";

impl DeploymentPhase {
    pub const ALL: [Self; 7] = [
        Self::Pending,
        Self::Applying,
        Self::RollingOut,
        Self::Running,
        Self::Failed,
        Self::TimedOut,
        Self::Superseded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Applying => "applying",
            Self::RollingOut => "rolling_out",
            Self::Running => "running",
            Self::Failed => "failed",
            Self::TimedOut => "timed_out",
            Self::Superseded => "superseded",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw)
    }

    /// Still on its way to `running`.
    pub fn in_progress(self) -> bool {
        matches!(self, Self::Pending | Self::Applying | Self::RollingOut)
    }

    /// The original's `status` (`pending|running|failed`). A superseded deployment reads as
    /// `running` if it ran (what it did until replaced; `phase` says it is over) and as `failed`
    /// if it was cancelled on the way (`reason` [`CANCELLED`]).
    pub fn legacy_status(self, reason: Option<&str>) -> &'static str {
        match self {
            Self::Pending | Self::Applying | Self::RollingOut => "pending",
            Self::Running => "running",
            Self::Failed | Self::TimedOut => "failed",
            Self::Superseded if reason == Some(CANCELLED) => "failed",
            Self::Superseded => "running",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_round_trip() {
        for phase in DeploymentPhase::ALL {
            assert_eq!(DeploymentPhase::parse(phase.as_str()), Some(phase));
        }
        assert_eq!(DeploymentPhase::parse("Running"), None);
    }

    #[test]
    fn legacy_status_has_only_the_original_values() {
        use DeploymentPhase::*;
        assert_eq!(Pending.legacy_status(None), "pending");
        assert_eq!(RollingOut.legacy_status(None), "pending");
        assert_eq!(Running.legacy_status(None), "running");
        assert_eq!(
            TimedOut.legacy_status(Some("ProgressDeadlineExceeded")),
            "failed"
        );
        assert_eq!(Superseded.legacy_status(Some("Superseded")), "running");
        assert_eq!(Superseded.legacy_status(Some(CANCELLED)), "failed");
        for phase in DeploymentPhase::ALL {
            for reason in [None, Some(CANCELLED)] {
                assert!(["pending", "running", "failed"].contains(&phase.legacy_status(reason)));
            }
        }
    }
}

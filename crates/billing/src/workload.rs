//! What a running deployment is billed as: replicas, CPU and memory **limits** (what a tenant may
//! use, and the defaults' 512Mi is what the original's estimate assumed), and its volumes. Taken
//! from the service's spec when the deployment reaches `running` and kept on the deployment row,
//! so its `deployment.stopped` event, however late, reports what was billed.
//!
//! An autoscaled service starts billed at `autoscaling.min_replicas`, the floor its
//! HorizontalPodAutoscaler always keeps (the deployment's own replica count is ignored by the
//! cluster then); the worker's status sync bills the autoscaler's later choices with
//! `deployment.scaled`.

use serde::{Deserialize, Serialize};
use switchyard_domain::ServiceSpec;

use crate::{MICRO, quantity};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workload {
    pub replicas: u32,
    pub cpu_millicores: u64,
    pub memory_mb: u64,
    #[serde(default)]
    pub volumes: Vec<VolumeSize>,
}

/// A volume and its size in MiB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeSize {
    pub name: String,
    pub size_mb: u64,
}

impl VolumeSize {
    /// The size in GB (1 GB = 1024 MiB), in millionths.
    pub fn size_gb_micro(&self) -> i64 {
        mb_to_gb_micro(self.size_mb)
    }
}

/// MiB → GB in millionths, rounded half up.
pub(crate) fn mb_to_gb_micro(mb: u64) -> i64 {
    let micro = (i128::from(mb) * i128::from(MICRO) + 512) / 1024;
    i64::try_from(micro).unwrap_or(i64::MAX)
}

impl Workload {
    /// What `spec` running with `replicas` is billed as: `replicas`, or the autoscaler's
    /// `min_replicas` when the service autoscales. The spec was validated when it was saved; an
    /// unreadable quantity (never expected) counts as 0.
    pub fn from_spec(spec: &ServiceSpec, replicas: i32) -> Self {
        let r = &spec.resources;
        let replicas = match &spec.autoscaling {
            Some(autoscaling) => autoscaling.min_replicas,
            None => u32::try_from(replicas).unwrap_or(0),
        };
        Self {
            replicas,
            cpu_millicores: quantity::millicores(&r.cpu_limit).unwrap_or(0),
            memory_mb: quantity::mebibytes(&r.memory_limit).unwrap_or(0),
            volumes: spec
                .volumes
                .iter()
                .map(|v| VolumeSize {
                    name: v.name.clone(),
                    size_mb: quantity::mebibytes(&v.size).unwrap_or(0),
                })
                .collect(),
        }
    }

    /// GB billed per hour, in millionths: max(memory GB, vCPU) × replicas, as Waybill defines
    /// it (one vCPU counts as one GB).
    pub fn rate_micro(&self) -> i64 {
        compute_rate_micro(self.replicas, self.cpu_millicores, self.memory_mb)
    }
}

/// max(memory_mb / 1024, cpu_millicores / 1000) × replicas, in millionths of a GB.
pub fn compute_rate_micro(replicas: u32, cpu_millicores: u64, memory_mb: u64) -> i64 {
    let memory = mb_to_gb_micro(memory_mb);
    let cpu = i64::try_from(cpu_millicores)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000);
    memory.max(cpu).saturating_mul(i64::from(replicas))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_the_larger_of_memory_and_cpu_times_replicas() {
        assert_eq!(compute_rate_micro(2, 500, 512), 1_000_000, "2 × 0.5 GB");
        assert_eq!(
            compute_rate_micro(1, 2000, 512),
            2_000_000,
            "2 vCPU beat 0.5 GB"
        );
        assert_eq!(compute_rate_micro(3, 50, 100), 292_968, "3 × 0.097656 GB");
        assert_eq!(compute_rate_micro(0, 500, 512), 0);
    }

    #[test]
    fn a_default_spec_is_billed_by_its_limits() {
        let spec = ServiceSpec::from_json(serde_json::json!({
            "name": "web", "git_repo": "https://github.com/acme/web",
            "volumes": [{"name": "data", "mount_path": "/data", "size": "1Gi"}],
        }))
        .unwrap();
        let w = Workload::from_spec(&spec, 2);
        assert_eq!((w.replicas, w.cpu_millicores, w.memory_mb), (2, 500, 512));
        assert_eq!(w.volumes[0].size_gb_micro(), 1_000_000);
        assert_eq!(w.rate_micro(), 1_000_000);
    }

    #[test]
    fn an_autoscaled_spec_is_billed_at_its_minimum_replicas() -> Result<(), String> {
        let spec = ServiceSpec::from_json(serde_json::json!({
            "name": "web", "git_repo": "https://github.com/acme/web",
            "autoscaling": {"min_replicas": 3, "max_replicas": 10},
        }))
        .map_err(|e| format!("{e:?}"))?;
        let w = Workload::from_spec(&spec, 1);
        assert_eq!(w.replicas, 3, "the HPA's floor, not the deployment's 1");
        assert_eq!(w.rate_micro(), 1_500_000, "3 × 0.5 GB");
        Ok(())
    }
}

//! `classify`: where a Deployment's rollout stands, from the Deployment and the pods of the
//! deployment being rolled out. Pure; `Cluster::observe` feeds it what it read.

use serde_json::Value;

use crate::labels::DEPLOYMENT_LABEL;

/// Container waiting reasons that fail a rollout at once: the pod cannot start without a
/// change on our side (image, credentials, configuration).
pub const FATAL_WAITING_REASONS: [&str; 4] = [
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
];

/// A crash-looping container fails the rollout once it has restarted this often. The original
/// waited for 5; 3 restarts (about a minute of kubelet back-off) already rule out a slow start
/// that a readiness probe would otherwise cover, and report a broken release sooner.
pub const CRASH_LOOP_RESTARTS: i64 = 3;

/// The state of the rollout of one deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rollout {
    /// No Deployment (yet).
    Missing,
    /// Pods are being replaced or are not ready yet.
    Progressing {
        desired: u32,
        updated: u32,
        ready: u32,
        available: u32,
    },
    /// The controller saw the latest spec and every desired replica is updated, ready and
    /// available, with no old pod left.
    Complete { replicas: u32, ready: u32 },
    /// Will not finish without a change: `reason` is one of `FATAL_WAITING_REASONS`,
    /// `CrashLoopBackOff` or `ProgressDeadlineExceeded`; `message` names the pod and container.
    Failed { reason: String, message: String },
}

/// Classifies a live Deployment (as JSON) and its pods. Only pods labelled with the
/// `enclii.dev/deployment` of the Deployment's pod template count, so pods of an older
/// deployment still crash-looping in the old ReplicaSet do not fail the new one. Failures win
/// over completeness: a fatal container state, then a passed progress deadline, then the counts.
pub fn classify(deployment: &Value, pods: &[Value]) -> Rollout {
    let current = deployment
        .pointer("/spec/template/metadata/labels")
        .and_then(|labels| labels.get(DEPLOYMENT_LABEL))
        .and_then(Value::as_str);
    let ours = pods.iter().filter(|pod| {
        current.is_none_or(|id| {
            pod.pointer("/metadata/labels")
                .and_then(|labels| labels.get(DEPLOYMENT_LABEL))
                .and_then(Value::as_str)
                == Some(id)
        })
    });
    for pod in ours {
        if let Some(failed) = failed_pod(pod) {
            return failed;
        }
    }
    if let Some(message) = deadline_exceeded(deployment) {
        return Rollout::Failed {
            reason: "ProgressDeadlineExceeded".into(),
            message,
        };
    }
    let status = |field: &str| count(deployment.pointer(&format!("/status/{field}")));
    let desired = deployment
        .pointer("/spec/replicas")
        .map_or(1, |n| count(Some(n)));
    let (updated, ready, available) = (
        status("updatedReplicas"),
        status("readyReplicas"),
        status("availableReplicas"),
    );
    let generation = deployment
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let observed = deployment
        .pointer("/status/observedGeneration")
        .and_then(Value::as_i64)
        .unwrap_or(-1);
    let complete = observed >= generation
        && updated == desired
        && ready == desired
        && available == desired
        && status("replicas") == desired;
    if complete {
        Rollout::Complete {
            replicas: desired,
            ready,
        }
    } else {
        Rollout::Progressing {
            desired,
            updated,
            ready,
            available,
        }
    }
}

/// The first fatal container state of a pod, init containers first.
fn failed_pod(pod: &Value) -> Option<Rollout> {
    let name = pod
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("?");
    let statuses = ["initContainerStatuses", "containerStatuses"]
        .into_iter()
        .filter_map(|field| pod.pointer(&format!("/status/{field}"))?.as_array())
        .flatten();
    for container in statuses {
        let Some(waiting) = container.pointer("/state/waiting") else {
            continue;
        };
        let reason = waiting
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let restarts = container
            .get("restartCount")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let fatal = FATAL_WAITING_REASONS.contains(&reason)
            || (reason == "CrashLoopBackOff" && restarts >= CRASH_LOOP_RESTARTS);
        if fatal {
            let container_name = container.get("name").and_then(Value::as_str).unwrap_or("?");
            let detail = waiting
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or(reason);
            return Some(Rollout::Failed {
                reason: reason.to_owned(),
                message: format!(
                    "pod {name} container {container_name} ({restarts} restarts): {detail}"
                ),
            });
        }
    }
    None
}

/// The message of a `Progressing` condition whose reason is `ProgressDeadlineExceeded`.
fn deadline_exceeded(deployment: &Value) -> Option<String> {
    deployment
        .pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| {
            c.get("type").and_then(Value::as_str) == Some("Progressing")
                && c.get("reason").and_then(Value::as_str) == Some("ProgressDeadlineExceeded")
        })
        .map(|c| {
            c.get("message")
                .and_then(Value::as_str)
                .unwrap_or("the rollout made no progress before its deadline")
                .to_owned()
        })
}

/// A replica count; absent, negative or malformed counts are 0.
fn count(value: Option<&Value>) -> u32 {
    value
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NEW: &str = "0190-new";
    const OLD: &str = "0190-old";

    /// A Deployment of `replicas` rolling out deployment `NEW`, at generation 2.
    fn deployment(replicas: u32, status: Value) -> Value {
        json!({
            "metadata": {"name": "web", "generation": 2},
            "spec": {"replicas": replicas, "template": {"metadata": {"labels": {
                "app": "web", "enclii.dev/deployment": NEW}}}},
            "status": status
        })
    }

    fn done(replicas: u32) -> Value {
        json!({"observedGeneration": 2, "replicas": replicas, "updatedReplicas": replicas,
               "readyReplicas": replicas, "availableReplicas": replicas})
    }

    fn pod(deployment: &str, container: Value) -> Value {
        json!({
            "metadata": {"name": format!("web-{deployment}-x1"), "labels": {"enclii.dev/deployment": deployment}},
            "status": {"phase": "Pending", "containerStatuses": [container]}
        })
    }

    fn waiting(reason: &str, restarts: i64) -> Value {
        json!({"name": "web", "restartCount": restarts,
               "state": {"waiting": {"reason": reason, "message": format!("{reason} detail")}}})
    }

    fn reason(rollout: &Rollout) -> Option<&str> {
        match rollout {
            Rollout::Failed { reason, .. } => Some(reason),
            _ => None,
        }
    }

    #[test]
    fn all_replicas_updated_ready_and_available_is_complete() {
        assert_eq!(
            classify(&deployment(3, done(3)), &[]),
            Rollout::Complete {
                replicas: 3,
                ready: 3
            }
        );
        assert_eq!(
            classify(&deployment(0, json!({"observedGeneration": 2})), &[]),
            Rollout::Complete {
                replicas: 0,
                ready: 0
            }
        );
    }

    #[test]
    fn a_stale_generation_or_old_pods_are_still_progressing() {
        let mut stale = done(3);
        stale["observedGeneration"] = json!(1);
        assert_eq!(
            classify(&deployment(3, stale), &[]),
            Rollout::Progressing {
                desired: 3,
                updated: 3,
                ready: 3,
                available: 3
            }
        );
        let mut surplus = done(3);
        surplus["replicas"] = json!(4);
        assert!(matches!(
            classify(&deployment(3, surplus), &[]),
            Rollout::Progressing { .. }
        ));
        let partial = json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 2,
                             "readyReplicas": 1, "availableReplicas": 1});
        assert_eq!(
            classify(&deployment(3, partial), &[]),
            Rollout::Progressing {
                desired: 3,
                updated: 2,
                ready: 1,
                available: 1
            }
        );
        assert_eq!(
            classify(&deployment(1, json!({})), &[]),
            Rollout::Progressing {
                desired: 1,
                updated: 0,
                ready: 0,
                available: 0
            }
        );
    }

    #[test]
    fn fatal_waiting_reasons_fail_at_once() {
        for fatal in FATAL_WAITING_REASONS {
            let rollout = classify(&deployment(1, json!({})), &[pod(NEW, waiting(fatal, 0))]);
            assert_eq!(reason(&rollout), Some(fatal));
            let Rollout::Failed { message, .. } = rollout else {
                unreachable!()
            };
            assert!(
                message.contains("web-0190-new-x1") && message.contains(&format!("{fatal} detail")),
                "{message}"
            );
        }
        let init = json!({"metadata": {"name": "p", "labels": {"enclii.dev/deployment": NEW}},
                          "status": {"initContainerStatuses": [waiting("ErrImagePull", 0)]}});
        assert_eq!(
            reason(&classify(&deployment(1, json!({})), &[init])),
            Some("ErrImagePull")
        );
    }

    #[test]
    fn a_crash_loop_fails_after_three_restarts() {
        let young = classify(
            &deployment(1, json!({})),
            &[pod(NEW, waiting("CrashLoopBackOff", 2))],
        );
        assert!(matches!(young, Rollout::Progressing { .. }), "{young:?}");
        let looping = classify(
            &deployment(1, json!({})),
            &[pod(NEW, waiting("CrashLoopBackOff", 3))],
        );
        assert_eq!(reason(&looping), Some("CrashLoopBackOff"));
    }

    #[test]
    fn benign_waiting_reasons_keep_progressing() {
        for benign in ["ContainerCreating", "PodInitializing"] {
            let rollout = classify(&deployment(1, json!({})), &[pod(NEW, waiting(benign, 0))]);
            assert!(matches!(rollout, Rollout::Progressing { .. }), "{benign}");
        }
        let running = json!({"name": "web", "restartCount": 9, "state": {"running": {}}});
        assert!(matches!(
            classify(&deployment(1, json!({})), &[pod(NEW, running)]),
            Rollout::Progressing { .. }
        ));
    }

    #[test]
    fn pods_of_an_older_deployment_are_ignored() {
        let old = [
            pod(OLD, waiting("CrashLoopBackOff", 40)),
            pod(OLD, waiting("ImagePullBackOff", 0)),
        ];
        assert_eq!(
            classify(&deployment(2, done(2)), &old),
            Rollout::Complete {
                replicas: 2,
                ready: 2
            }
        );
        let unlabelled = json!({"metadata": {"name": "p"}, "status": {"containerStatuses": [waiting("ImagePullBackOff", 0)]}});
        assert!(matches!(
            classify(&deployment(1, json!({})), std::slice::from_ref(&unlabelled)),
            Rollout::Progressing { .. }
        ));
        // A Deployment without our label counts every pod it is given.
        let foreign = json!({"spec": {"replicas": 1}, "status": {}});
        assert_eq!(
            reason(&classify(&foreign, &[unlabelled])),
            Some("ImagePullBackOff")
        );
    }

    #[test]
    fn a_passed_progress_deadline_fails() {
        let status = json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 1, "conditions": [
            {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"},
            {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
             "message": "ReplicaSet \"web-5d\" has timed out progressing."}
        ]});
        assert_eq!(
            classify(&deployment(2, status), &[]),
            Rollout::Failed {
                reason: "ProgressDeadlineExceeded".into(),
                message: "ReplicaSet \"web-5d\" has timed out progressing.".into()
            }
        );
        let progressing = json!({"conditions": [
            {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}]});
        assert!(matches!(
            classify(&deployment(1, progressing), &[]),
            Rollout::Progressing { .. }
        ));
    }

    #[test]
    fn a_fatal_pod_wins_over_counts() {
        let rollout = classify(
            &deployment(1, done(1)),
            &[pod(NEW, waiting("ImagePullBackOff", 0))],
        );
        assert_eq!(reason(&rollout), Some("ImagePullBackOff"));
    }
}

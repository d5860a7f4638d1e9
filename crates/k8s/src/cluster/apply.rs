//! Writing a deployment's objects: `apply` (server-side, skipping objects that already hold
//! every desired field), `prune` (our labelled objects that are no longer desired) and
//! `live_objects` (what `drift` and `prune` compare against).

use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use serde_json::Value;

use super::{
    Cluster, ClusterError, FIELD_MANAGER,
    plan::{Change, Ownership, change},
    resources::{self, Kind},
};
use crate::{
    Desired, Object,
    labels::{MANAGED_BY, SERVICE_LABEL},
    prune_candidates, reconcile_disabled,
};

/// How many times one object's apply is tried when the API server answers 409 Conflict (a
/// race with another writer), before the conflict fails the step and the job retries it.
const CONFLICT_ATTEMPTS: u32 = 4;
/// The pause before the second try; the third waits twice as long, and so on.
const CONFLICT_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

/// What `apply` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// `(kind, name)` of every object written, in apply order.
    pub applied: Vec<(String, String)>,
    /// Objects that already held every desired field and were ours: not written.
    pub unchanged: usize,
    /// `(kind, name)` of objects annotated `enclii.dev/reconcile: disabled`: left alone.
    pub skipped: Vec<(String, String)>,
    /// The service's live Deployment is annotated `enclii.dev/reconcile: disabled`: nothing
    /// was written at all.
    pub disabled: bool,
}

impl Cluster {
    /// Server-side applies every object of `desired` in order (field manager `switchyard`,
    /// `force` so objects the original's reconciler created are adopted rather than refused
    /// with a conflict). An object is not written when its live state already contains every
    /// desired field (`contains`) and lists our field manager, so a reconcile with nothing to
    /// change issues no write, and an object that merely looks right is still adopted once.
    /// When the live Deployment of the service is annotated `enclii.dev/reconcile: disabled`,
    /// nothing is written; other objects carrying the annotation are skipped one by one.
    /// Stops at the first failure: what was applied before it stays applied (the next apply
    /// resumes), as with `kubectl apply`.
    pub async fn apply(&self, desired: &Desired) -> Result<ApplyReport, ClusterError> {
        let mut report = ApplyReport::default();
        let workload = self
            .get(
                known("apps/v1", "Deployment")?,
                &desired.namespace,
                &desired.service,
            )
            .await?;
        if workload.as_ref().is_some_and(reconcile_disabled) {
            tracing::info!(
                k8s.namespace = %desired.namespace,
                service = %desired.service,
                "the Deployment of {} is annotated enclii.dev/reconcile: disabled; nothing applied",
                desired.service
            );
            report.disabled = true;
            return Ok(report);
        }
        for object in &desired.objects {
            let kind = known(&object.api_version, &object.kind)?;
            let namespace = object.namespace.as_deref().unwrap_or(&desired.namespace);
            let live = if object.kind == "Deployment" && object.name == desired.service {
                workload.clone()
            } else {
                self.get(kind, namespace, &object.name).await?
            };
            let entry = (object.kind.clone(), object.name.clone());
            match change(object, live.as_ref(), Ownership::FieldManager) {
                Change::Skipped => report.skipped.push(entry),
                Change::Unchanged => report.unchanged += 1,
                Change::Create | Change::Update | Change::Delete => {
                    self.patch(kind, namespace, object).await?;
                    report.applied.push(entry);
                }
            }
        }
        Ok(report)
    }

    /// Deletes the live objects of `desired.service` that `prune_candidates` names: labelled
    /// `enclii.dev/managed-by=switchyard` and `enclii.dev/service=<service>` in
    /// `desired.namespace`, not desired, never the Namespace or a PersistentVolumeClaim.
    /// Returns `(kind, namespace, name)` of each deleted object (one already gone counts too).
    pub async fn prune(
        &self,
        desired: &Desired,
    ) -> Result<Vec<(String, String, String)>, ClusterError> {
        let selector = format!(
            "{}={},{SERVICE_LABEL}={}",
            MANAGED_BY.0, MANAGED_BY.1, desired.service
        );
        let live = self.list_labelled(&desired.namespace, &selector).await?;
        let candidates = prune_candidates(desired, &live);
        for (kind, namespace, name) in &candidates {
            let known = resources::by_kind(kind).ok_or_else(|| ClusterError::UnknownKind {
                api_version: String::new(),
                kind: kind.clone(),
            })?;
            self.delete(known, namespace, name).await?;
            tracing::info!(k8s.namespace = %namespace, "pruned {kind} {name}");
        }
        Ok(candidates)
    }

    /// The live objects of `service` in `namespace`: every namespaced kind we render labelled
    /// `enclii.dev/service=<service>` (ours or not), plus the Namespace itself when it exists.
    /// Each carries `apiVersion` and `kind`, which list answers leave out.
    pub async fn live_objects(
        &self,
        namespace: &str,
        service: &str,
    ) -> Result<Vec<Value>, ClusterError> {
        let mut live = Vec::new();
        live.extend(
            self.get(known("v1", "Namespace")?, namespace, namespace)
                .await?,
        );
        live.extend(
            self.list_labelled(namespace, &format!("{SERVICE_LABEL}={service}"))
                .await?,
        );
        Ok(live)
    }

    /// One object as JSON, `None` when absent.
    pub(super) async fn get(
        &self,
        kind: &Kind,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, ClusterError> {
        let found = self
            .api(kind, namespace)
            .get_opt(name)
            .await
            .map_err(|e| ClusterError::from_kube(format!("get {} {name}", kind.kind), e))?;
        found.map(|o| to_json(kind, o)).transpose()
    }

    /// Objects of `kind` in `namespace` matching the label `selector`, as JSON with their type.
    pub(super) async fn list(
        &self,
        kind: &Kind,
        namespace: &str,
        selector: &str,
    ) -> Result<Vec<Value>, ClusterError> {
        let list = self
            .api(kind, namespace)
            .list(&ListParams::default().labels(selector))
            .await
            .map_err(|e| ClusterError::from_kube(format!("list {}", kind.plural), e))?;
        list.items.into_iter().map(|o| to_json(kind, o)).collect()
    }

    /// `list` over every namespaced kind a service owns.
    async fn list_labelled(
        &self,
        namespace: &str,
        selector: &str,
    ) -> Result<Vec<Value>, ClusterError> {
        let mut all = Vec::new();
        for kind in resources::service_kinds() {
            all.extend(self.list(kind, namespace, selector).await?);
        }
        Ok(all)
    }

    async fn patch(
        &self,
        kind: &Kind,
        namespace: &str,
        object: &Object,
    ) -> Result<(), ClusterError> {
        let params = PatchParams::apply(FIELD_MANAGER).force();
        let api = self.api(kind, namespace);
        let mut attempt = 1;
        loop {
            match api
                .patch(&object.name, &params, &Patch::Apply(&object.body))
                .await
            {
                Ok(_) => break,
                // A race with another writer: the same forced apply succeeds once it is done.
                Err(kube::Error::Api(status))
                    if status.code == 409 && attempt < CONFLICT_ATTEMPTS =>
                {
                    tracing::debug!(k8s.namespace = %namespace, attempt, "conflict applying {} {}; again", object.kind, object.name);
                    tokio::time::sleep(CONFLICT_PAUSE * attempt).await;
                    attempt += 1;
                }
                Err(e) => {
                    let action = format!("apply {} {}", object.kind, object.name);
                    return Err(ClusterError::from_kube(action, e));
                }
            }
        }
        tracing::debug!(k8s.namespace = %namespace, "applied {} {}", object.kind, object.name);
        Ok(())
    }

    /// Deletes one object in the background (its dependents follow). `false` when it was
    /// already gone.
    pub(super) async fn delete(
        &self,
        kind: &Kind,
        namespace: &str,
        name: &str,
    ) -> Result<bool, ClusterError> {
        match self
            .api(kind, namespace)
            .delete(name, &DeleteParams::background())
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
            Err(e) => Err(ClusterError::from_kube(
                format!("delete {} {name}", kind.kind),
                e,
            )),
        }
    }
}

/// The table entry of a kind; an unknown one is a bug in the caller or the renderer.
pub(super) fn known(api_version: &str, kind: &str) -> Result<&'static Kind, ClusterError> {
    resources::lookup(api_version, kind).ok_or_else(|| ClusterError::UnknownKind {
        api_version: api_version.to_owned(),
        kind: kind.to_owned(),
    })
}

/// Whether our field manager has applied to the live object.
/// A dynamic object as JSON, with the `apiVersion` and `kind` list items lack.
fn to_json(kind: &Kind, object: kube::api::DynamicObject) -> Result<Value, ClusterError> {
    let mut value = serde_json::to_value(object).map_err(|e| ClusterError::Unavailable {
        action: format!("read {}", kind.kind),
        message: e.to_string(),
    })?;
    if let Value::Object(map) = &mut value {
        map.insert("apiVersion".into(), kind.api_version.into());
        map.insert("kind".into(), kind.kind.into());
    }
    Ok(value)
}

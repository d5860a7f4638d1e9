//! An in-memory Kubernetes API server on a loopback port, for tests: the real `kube::Client`
//! (through `switchyard_k8s::cluster::Cluster::for_url`) talks HTTP to it. It implements what
//! the cluster layer uses — GET, LIST with equality label selectors, server-side apply PATCH,
//! DELETE (a Namespace takes its contents), a Pod's `log` (with `follow=true`, a stream of the
//! lines appended later), `/version` — answers errors with the API server's `Status` bodies,
//! checks applied objects against the typed Kubernetes structs, and refuses anything else with
//! 405/501. Tests seed and inspect it through `FakeApiServer`. A dev-dependency only.

mod follow;
mod http;
mod resources;
mod store;

use std::{
    fmt,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use axum::Router;
use serde_json::{Value, json};
use tokio::{sync::watch, task::JoinHandle};

pub use follow::TIMESTAMP as LOG_TIMESTAMP;

use crate::{resources::by_kind, store::Store};

/// One mutating request the fake received (POST, PUT, PATCH or DELETE), failed ones included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub method: String,
    pub path: String,
}

impl fmt::Display for Write {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// A running fake API server; stops when dropped.
pub struct FakeApiServer {
    url: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

pub(crate) struct Shared {
    pub(crate) state: Mutex<Inner>,
    /// Bumped after every change (a write, new log text, the server stopping), so followed
    /// logs look again.
    pub(crate) changes: watch::Sender<u64>,
}

impl Shared {
    /// Wakes every followed log.
    pub(crate) fn changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }
}

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) writes: Vec<Write>,
    /// `(requests left to fail, status code)`.
    pub(crate) failures: Option<(u32, u16)>,
    /// `(every how many writes one fails, status code, writes counted)`.
    pub(crate) periodic: Option<(u32, u16, u32)>,
    /// Set when the `FakeApiServer` is dropped: followed logs end.
    pub(crate) stopped: bool,
}

impl FakeApiServer {
    /// Starts the server on `127.0.0.1:<free port>` in the current Tokio runtime. Panics when no
    /// loopback port can be bound (nothing a test could do about it).
    pub async fn start() -> Self {
        let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
            Ok(listener) => listener,
            Err(e) => panic!("the fake API server cannot bind a loopback port: {e}"),
        };
        let url = match listener.local_addr() {
            Ok(addr) => format!("http://{addr}"),
            Err(e) => panic!("the fake API server has no local address: {e}"),
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(Inner::default()),
            changes: watch::Sender::new(0),
        });
        let app = Router::new()
            .fallback(http::handle)
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                panic!("the fake API server stopped: {e}");
            }
        });
        Self { url, shared, task }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every mutating request so far, in order.
    pub fn writes(&self) -> Vec<Write> {
        self.lock().writes.clone()
    }

    /// Forgets the writes recorded so far (to look at the next step's alone).
    pub fn clear_writes(&self) {
        self.lock().writes.clear();
    }

    /// The stored object of `kind` named `name` (in `namespace`; ignored for cluster-scoped kinds).
    pub fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let resource = known(kind);
        self.lock()
            .store
            .objects
            .get(&store::key(&resource, namespace, name))
            .cloned()
    }

    /// Every stored object of `kind` in `namespace` (all namespaces for `""`).
    pub fn list(&self, kind: &str, namespace: &str) -> Vec<Value> {
        let resource = known(kind);
        let namespace = (!namespace.is_empty()).then_some(namespace);
        self.lock()
            .store
            .list(&resource, namespace, &store::Selector::default())
    }

    /// Seeds an object as another client created it (no managed fields of ours), e.g. as the
    /// original's reconciler did. Its `kind` must be one the fake serves.
    pub fn put_object(&self, object: Value) {
        let kind = store::text(&object, "/kind");
        let namespace = store::text(&object, "/metadata/namespace");
        let resource = known(&kind);
        self.lock().store.insert(&resource, &namespace, object);
        self.shared.changed();
    }

    /// Deletes an object as another client would (a Namespace takes its contents); a deleted
    /// Pod's followed logs end. `false` when there was no such object.
    pub fn delete(&self, kind: &str, namespace: &str, name: &str) -> bool {
        let resource = known(kind);
        let removed = self
            .lock()
            .store
            .delete(&resource, namespace, name)
            .is_some();
        self.shared.changed();
        removed
    }

    /// Replaces the `status` of an existing object, as its controller would.
    pub fn set_status(&self, kind: &str, namespace: &str, name: &str, status: Value) {
        if !self.lock().store.set_status(kind, namespace, name, status) {
            panic!("set_status: no {kind} {namespace}/{name} in the fake API server");
        }
    }

    /// Adds a Pod with these labels (a JSON object) and status, one container named `app`'s
    /// label value (or `main`).
    pub fn add_pod(&self, namespace: &str, name: &str, labels: Value, status: Value) {
        let container = labels
            .get("app")
            .and_then(Value::as_str)
            .unwrap_or("main")
            .to_owned();
        self.put_object(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"containers": [{"name": container, "image": "registry.invalid/fake"}]},
            "status": status
        }));
    }

    /// The log text of a pod (lines separated by `\n`); `tailLines` is applied when read.
    pub fn set_logs(&self, namespace: &str, pod: &str, text: &str) {
        self.lock()
            .store
            .logs
            .insert((namespace.to_owned(), pod.to_owned()), text.to_owned());
        self.shared.changed();
    }

    /// Appends `text` (whole lines ending in `\n`) to a pod's log, as its container writing
    /// more: a follower receives it.
    pub fn append_logs(&self, namespace: &str, pod: &str, text: &str) {
        self.lock()
            .store
            .logs
            .entry((namespace.to_owned(), pod.to_owned()))
            .or_default()
            .push_str(text);
        self.shared.changed();
    }

    /// Answers the next `n` requests (reads and writes alike) with `status_code` and a `Status`
    /// body, as an API server that is restarting or overloaded would.
    pub fn fail_next(&self, n: u32, status_code: u16) {
        self.lock().failures = Some((n, status_code));
    }

    /// From now on answers every `every`-th write (apply or delete) with `status_code`, e.g.
    /// `(10, 409)`: one write in ten conflicts with another writer. `every` 0 stops it.
    pub fn fail_writes_every(&self, every: u32, status_code: u16) {
        self.lock().periodic = (every > 0).then_some((every, status_code, 0));
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        self.lock().stopped = true;
        self.shared.changed();
        self.task.abort();
    }
}

fn known(kind: &str) -> resources::Resource {
    by_kind(kind).unwrap_or_else(|| panic!("the fake API server does not serve {kind:?}"))
}

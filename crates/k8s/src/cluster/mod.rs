//! The cluster I/O of a deployment (DESIGN.md §11): server-side apply of what `render` produced
//! under one field manager, pruning by label, the live objects for `drift`, the rollout's state
//! (`observe`, classified by the pure `classify`), namespace deletion and pod logs (read once or
//! followed). The only
//! module of this crate that talks to an API server; its pure parts (`contains`, `classify`)
//! are unit-tested, the rest runs against `switchyard-kube-fake` in `tests/cluster/`.

mod apply;
mod contains;
mod error;
mod logs;
mod plan;
mod read;
mod reader;
mod resources;
mod rollout;

use std::{fmt, path::Path, time::Duration};

use kube::{
    Api, Client, Config,
    api::DynamicObject,
    config::{KubeConfigOptions, Kubeconfig},
};

pub use apply::ApplyReport;
pub use contains::contains;
pub use error::ClusterError;
pub use logs::{LogEvent, LogFollow, LogLine, LogOptions, LogSource};
pub use plan::{Change, Ownership, Plan, Planned, change, plan};
pub use read::NamespaceRemoval;
pub use reader::ClusterReader;
pub use rollout::{CRASH_LOOP_RESTARTS, FATAL_WAITING_REASONS, Rollout, classify};

use resources::Kind;

/// The field manager of every server-side apply; objects we own list it in `managedFields`.
pub const FIELD_MANAGER: &str = "switchyard";

/// How long one API call may wait for an answer before it counts as `Unavailable`.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// A connection to one cluster's API server. Cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    client: Client,
    /// The same server without the read timeout, for followed logs (a quiet pod may write
    /// nothing for longer than any timeout).
    streams: Client,
}

impl Cluster {
    /// Connects with the kubeconfig at `kubeconfig`, or else as `kubectl` would: `KUBECONFIG`,
    /// `~/.kube/config`, then the in-cluster service account. Must run inside a Tokio runtime.
    ///
    /// kube's own retry of 429/503/504 (up to 15 times, minutes of back-off) is turned off: an
    /// outage surfaces at once as `ClusterError::Unavailable` and the job queue, which owns
    /// retries and their back-off, tries again.
    pub async fn connect(kubeconfig: Option<&Path>) -> Result<Self, ClusterError> {
        let config = match kubeconfig {
            Some(path) => {
                let file = Kubeconfig::read_from(path).map_err(config_error)?;
                Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
                    .await
                    .map_err(config_error)?
            }
            None => Config::infer().await.map_err(config_error)?,
        };
        Self::from_config(config)
    }

    /// Wraps a client built elsewhere (its retry and timeout settings are kept, for followed
    /// logs too).
    pub fn from_client(client: Client) -> Self {
        Self {
            streams: client.clone(),
            client,
        }
    }

    /// Plain HTTP to `url` without authentication: a fake or test API server. Must run inside a
    /// Tokio runtime.
    pub fn for_url(url: &str) -> Result<Self, ClusterError> {
        let uri = url.parse::<http::Uri>().map_err(config_error)?;
        Self::from_config(Config::new(uri))
    }

    fn from_config(mut config: Config) -> Result<Self, ClusterError> {
        config.default_retry = false;
        let mut streams = config.clone();
        streams.read_timeout = None;
        config.read_timeout = Some(READ_TIMEOUT);
        Ok(Self {
            client: Client::try_from(config).map_err(config_error)?,
            streams: Client::try_from(streams).map_err(config_error)?,
        })
    }

    /// The dynamic API of `kind`, in `namespace` when the kind is namespaced.
    fn api(&self, kind: &Kind, namespace: &str) -> Api<DynamicObject> {
        let resource = kind.resource();
        if kind.namespaced {
            Api::namespaced_with(self.client.clone(), namespace, &resource)
        } else {
            Api::all_with(self.client.clone(), &resource)
        }
    }
}

/// The client holds no printable state; callers can still derive `Debug` on what holds a `Cluster`.
impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster").finish_non_exhaustive()
    }
}

fn config_error(error: impl std::fmt::Display) -> ClusterError {
    ClusterError::Config {
        message: error.to_string(),
    }
}

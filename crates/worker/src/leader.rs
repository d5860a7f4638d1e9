//! Leadership: the loops that one worker replica at a time should run (the janitor, status
//! sync, billing) run only on the holder of a Postgres session lock ([`LeaderLock`]). Every
//! replica campaigns every [`Leadership::campaign`] seconds; the holder confirms its session on
//! the same beat and stops its loops the moment it cannot. A crashed holder's lock is released
//! with its connection, so another replica takes over within one campaign interval (plus the
//! server's keepalive timeout, about 11 s, when the holder vanished from the network).

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use switchyard_db::{LeaderLock, PgPool};
use tokio::{sync::watch, task::JoinSet};
use tokio_util::sync::CancellationToken;

/// The advisory lock key of worker leadership (any constant shared by every replica).
pub const LEADER_KEY: i64 = 0x5357_4c45_4144_4552; // "SWLEADER"

/// A loop run only while leading: given a token cancelled when leadership ends.
pub type LeaderLoop =
    Arc<dyn Fn(CancellationToken) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// How a replica campaigns for leadership.
#[derive(Clone)]
pub struct Leadership {
    pub pool: PgPool,
    /// How often a follower tries to take the lock and the leader confirms it holds it.
    pub campaign: Duration,
}

impl Leadership {
    /// Campaigns until `shutdown`, running `loops` whenever this replica leads. Publishes
    /// whether it leads on `leading`.
    pub async fn run(
        self,
        loops: Vec<LeaderLoop>,
        leading: watch::Sender<bool>,
        shutdown: CancellationToken,
    ) {
        let mut lock: Option<LeaderLock> = None;
        let mut term: Option<(CancellationToken, JoinSet<()>)> = None;
        loop {
            let leads = self.keep_or_take(&mut lock).await;
            match (leads, term.is_some()) {
                (true, false) => {
                    tracing::info!(
                        "this worker leads: running the janitor, status sync and billing"
                    );
                    let token = shutdown.child_token();
                    let mut tasks = JoinSet::new();
                    for run in &loops {
                        tasks.spawn(run(token.clone()));
                    }
                    term = Some((token, tasks));
                    leading.send_replace(true);
                }
                (false, true) => {
                    tracing::warn!("this worker lost leadership: its leader loops stop");
                    end(term.take()).await;
                    leading.send_replace(false);
                }
                _ => {}
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(self.campaign) => {}
            }
        }
        end(term.take()).await;
        leading.send_replace(false);
        if let Some(lock) = lock {
            lock.release().await;
        }
    }

    /// Whether this replica holds the lock after one round: confirms a held lock, else tries
    /// to take it (opening the lock's session when there is none). A session that fails is
    /// dropped, which releases whatever it held.
    async fn keep_or_take(&self, lock: &mut Option<LeaderLock>) -> bool {
        if lock.is_none() {
            match LeaderLock::connect(&self.pool, LEADER_KEY).await {
                Ok(session) => *lock = Some(session),
                Err(e) => {
                    tracing::debug!(error = %e, "cannot open the leader lock's session");
                    return false;
                }
            }
        }
        let Some(session) = lock.as_mut() else {
            return false;
        };
        let result = if session.is_held() {
            session.confirm(self.campaign).await.map(|()| true)
        } else {
            session.try_acquire().await
        };
        match result {
            Ok(leads) => leads,
            Err(e) => {
                tracing::warn!(error = %e, "leader lock session failed; campaigning again");
                *lock = None;
                false
            }
        }
    }
}

async fn end(term: Option<(CancellationToken, JoinSet<()>)>) {
    if let Some((token, mut tasks)) = term {
        token.cancel();
        while tasks.join_next().await.is_some() {}
    }
}

//! `LeaderLock`: one holder at a time across processes, for the loops only one worker replica
//! should run. A session-level advisory lock held on a dedicated connection outside the pool:
//! it lasts exactly as long as that session. A holder that crashes closes its socket and
//! PostgreSQL releases the lock at once; one that vanishes from the network is dropped by the
//! server's TCP keepalives ([`KEEPALIVE`]), so a replica waiting for the lock gets it within
//! seconds either way.

use std::time::Duration;

use sqlx::{Connection, PgPool, postgres::PgConnection};
use switchyard_domain::Error;

/// The server's TCP keepalive on the lock's session: first probe after 5 s idle, then every
/// 2 s, given up after 3 misses. A holder cut off from the database loses the lock within
/// about 11 s.
pub const KEEPALIVE: (u32, u32, u32) = (5, 2, 3);

/// A session that may hold the lock `key`.
pub struct LeaderLock {
    conn: PgConnection,
    key: i64,
    held: bool,
}

fn unavailable(e: sqlx::Error) -> Error {
    Error::unavailable("database unavailable for the leader lock", e)
}

impl LeaderLock {
    /// Opens the lock's own session with the pool's connection settings (not a pooled
    /// connection: the pool could hand it back and let another task end the session).
    pub async fn connect(pool: &PgPool, key: i64) -> Result<Self, Error> {
        let (idle, interval, count) = KEEPALIVE;
        let options = pool.connect_options().as_ref().clone().options([
            ("tcp_keepalives_idle", idle.to_string()),
            ("tcp_keepalives_interval", interval.to_string()),
            ("tcp_keepalives_count", count.to_string()),
        ]);
        let conn = PgConnection::connect_with(&options)
            .await
            .map_err(unavailable)?;
        Ok(Self {
            conn,
            key,
            held: false,
        })
    }

    /// Whether this session took the lock (and has not seen it lost since).
    pub fn is_held(&self) -> bool {
        self.held
    }

    /// Takes the lock if nobody holds it; true when this session holds it (now or already).
    pub async fn try_acquire(&mut self) -> Result<bool, Error> {
        if self.held {
            return Ok(true);
        }
        self.held =
            sqlx::query_scalar!(r#"select pg_try_advisory_lock($1) as "locked!""#, self.key)
                .fetch_one(&mut self.conn)
                .await
                .map_err(unavailable)?;
        Ok(self.held)
    }

    /// Proves the session, and with it the lock, is still alive, within `timeout`. An error
    /// means the lock may be gone: stop acting as the holder.
    pub async fn confirm(&mut self, timeout: Duration) -> Result<(), Error> {
        let probe = sqlx::query_scalar!(
            r#"select count(*) as "held!" from pg_locks
               where locktype = 'advisory' and pid = pg_backend_pid() and granted and objsubid = 1
                 and objid = ($1::bigint & 4294967295)::oid and classid = ($1::bigint >> 32)::oid"#,
            self.key
        )
        .fetch_one(&mut self.conn);
        match tokio::time::timeout(timeout, probe).await {
            Ok(Ok(n)) if n > 0 => Ok(()),
            Ok(Ok(_)) => {
                self.held = false;
                Err(Error::Unavailable {
                    message: "the leader lock is no longer held".to_owned(),
                    source: None,
                })
            }
            Ok(Err(e)) => Err(unavailable(e)),
            Err(_) => Err(Error::no_answer("database (leader lock)", timeout)),
        }
    }

    /// Lets go of the lock and ends the session.
    pub async fn release(mut self) {
        if self.held {
            let unlocked =
                sqlx::query_scalar!(r#"select pg_advisory_unlock($1) as "unlocked!""#, self.key)
                    .fetch_one(&mut self.conn)
                    .await;
            if let Err(e) = unlocked {
                tracing::warn!(error = %e, "releasing the leader lock; closing its session releases it");
            }
        }
        if let Err(e) = self.conn.close().await {
            tracing::debug!(error = %e, "closing the leader lock's session");
        }
    }
}

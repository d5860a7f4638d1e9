//! The migration runner: applies the embedded migrations so that a failure can never leave the
//! database marked at a version whose objects do not exist (the migration-23 outage).
//!
//! Guarantees (DESIGN.md §8): each migration and its history row commit in one transaction; one
//! runner at a time (advisory lock with a bounded wait); applied migrations are checked against
//! their SHA-384 checksum and an edited one is refused by name; a database that is *ahead* of the
//! binary is reported, not fatal.
//!
//! The statements here are runtime-checked (`sqlx::query`) on purpose: the history table is
//! created by this module before any migration exists, so the offline query cache cannot describe
//! it; the outage tests in `crates/server/tests` exercise every statement against PostgreSQL.
#![expect(
    clippy::disallowed_methods,
    reason = "bootstrap SQL, see the module comment"
)]

use std::{collections::BTreeMap, time::Duration};

use sqlx::{Connection, PgConnection, Row, migrate::Migration, migrate::Migrator};
use time::OffsetDateTime;

/// Every migration in `migrations/`, embedded at compile time.
pub static MIGRATOR: Migrator = sqlx::migrate!("../../migrations");

/// `pg_advisory_lock` key that serialises runners: "SWTCHYRD" as a big-endian i64.
const LOCK_KEY: i64 = 0x5357_5443_4859_5244;

const CREATE_HISTORY: &str = "create table if not exists switchyard_migrations (
    version bigint primary key,
    name text not null,
    checksum bytea not null,
    applied_at timestamptz not null default now(),
    duration_ms bigint not null,
    app_version text not null
)";

/// Bounds for one `migrate up` run.
#[derive(Debug, Clone)]
pub struct MigrateOptions {
    /// How long to wait for another runner to finish before giving up.
    pub lock_wait: Duration,
    /// `lock_timeout` for the migration statements, so a blocked `ALTER` fails instead of hanging.
    pub statement_lock_timeout: Duration,
    /// `statement_timeout` for each statement.
    pub statement_timeout: Duration,
    /// Recorded in the history row.
    pub app_version: String,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        Self {
            lock_wait: Duration::from_secs(60),
            statement_lock_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(600),
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "migration {file} was edited after it was applied (checksum differs from the database); \
         migrations are append-only: restore the file and add a new migration instead"
    )]
    Edited { version: i64, file: String },
    #[error("migration {file} failed and was rolled back; nothing from it was kept")]
    Failed {
        version: i64,
        file: String,
        #[source]
        source: sqlx::Error,
    },
    #[error(
        "migration {file} opts out of transactions (`-- no-transaction`), which this runner refuses \
         because it could leave a half-applied schema"
    )]
    NoTransaction { version: i64, file: String },
    #[error("{} migration(s) not applied yet ({}); run `switchyard migrate up`", .pending.len(), files(.pending))]
    Pending { pending: Vec<String> },
    #[error("another migration runner held the lock for more than {} s", .waited.as_secs())]
    LockTimeout { waited: Duration },
    #[error("database error while {context}")]
    Database {
        context: &'static str,
        #[source]
        source: sqlx::Error,
    },
}

fn files(names: &[String]) -> String {
    names.join(", ")
}

fn db(context: &'static str) -> impl FnOnce(sqlx::Error) -> MigrateError {
    move |source| MigrateError::Database { context, source }
}

/// The file name a migration was embedded from (`<version>_<description>.sql`).
pub fn file_name(migration: &Migration) -> String {
    format!(
        "{}_{}.sql",
        migration.version,
        migration.description.replace(' ', "_")
    )
}

/// One row of the history table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: i64,
    pub name: String,
    pub checksum: Vec<u8>,
    pub applied_at: OffsetDateTime,
    pub duration_ms: i64,
    pub app_version: String,
}

/// How the database's schema relates to the migrations this binary knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaState {
    /// Every known migration is applied and nothing else is.
    UpToDate,
    /// Known migrations are missing: the schema is older than this binary needs.
    Behind { pending: Vec<i64> },
    /// The database has migrations this binary does not know (an older image after a newer
    /// migration ran). Safe under expand/contract, so serving continues.
    Ahead { unknown: Vec<i64> },
    /// An applied migration's file was changed after it ran.
    Edited { version: i64, file: String },
}

impl SchemaState {
    /// The `schema.status` string of `/health` and the label of the schema metric.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::UpToDate => "up_to_date",
            Self::Behind { .. } => "behind",
            Self::Ahead { .. } => "ahead",
            Self::Edited { .. } => "edited",
        }
    }

    /// Whether the API may serve traffic on this schema.
    pub fn is_compatible(&self) -> bool {
        matches!(self, Self::UpToDate | Self::Ahead { .. })
    }
}

/// The embedded migrations next to the database's history.
#[derive(Debug, Clone)]
pub struct SchemaReport {
    pub known: Vec<Migration>,
    pub applied: Vec<AppliedMigration>,
}

impl SchemaReport {
    pub fn state(&self) -> SchemaState {
        let applied: BTreeMap<i64, &AppliedMigration> =
            self.applied.iter().map(|a| (a.version, a)).collect();
        for known in &self.known {
            if let Some(row) = applied.get(&known.version)
                && row.checksum.as_slice() != &*known.checksum
            {
                return SchemaState::Edited {
                    version: known.version,
                    file: file_name(known),
                };
            }
        }
        let pending: Vec<i64> = self
            .known
            .iter()
            .filter(|k| !applied.contains_key(&k.version))
            .map(|k| k.version)
            .collect();
        if !pending.is_empty() {
            return SchemaState::Behind { pending };
        }
        let unknown: Vec<i64> = self
            .applied
            .iter()
            .filter(|a| !self.known.iter().any(|k| k.version == a.version))
            .map(|a| a.version)
            .collect();
        if unknown.is_empty() {
            SchemaState::UpToDate
        } else {
            SchemaState::Ahead { unknown }
        }
    }

    /// Whether the applied migration `version` matches the binary's file (`None` if unknown).
    pub fn checksum_ok(&self, version: i64) -> Option<bool> {
        let known = self.known.iter().find(|k| k.version == version)?;
        let applied = self.applied.iter().find(|a| a.version == version)?;
        Some(applied.checksum.as_slice() == &*known.checksum)
    }

    fn file(&self, version: i64) -> String {
        self.known
            .iter()
            .find(|k| k.version == version)
            .map(file_name)
            .unwrap_or_else(|| version.to_string())
    }
}

/// Reads the history without changing anything. A database never migrated has no history.
pub async fn status(
    conn: &mut PgConnection,
    migrator: &Migrator,
) -> Result<SchemaReport, MigrateError> {
    let exists: bool =
        sqlx::query_scalar("select to_regclass('switchyard_migrations') is not null")
            .fetch_one(&mut *conn)
            .await
            .map_err(db("looking for the migration history"))?;
    let applied = if exists {
        read_history(conn).await?
    } else {
        Vec::new()
    };
    Ok(SchemaReport {
        known: migrator.iter().cloned().collect(),
        applied,
    })
}

/// What `serve` runs at start: fine when the schema is up to date or ahead; an error that names
/// the file when an applied migration was edited or known migrations are pending.
pub async fn verify(
    conn: &mut PgConnection,
    migrator: &Migrator,
) -> Result<SchemaReport, MigrateError> {
    let report = status(conn, migrator).await?;
    match report.state() {
        SchemaState::UpToDate | SchemaState::Ahead { .. } => Ok(report),
        SchemaState::Edited { version, file } => Err(MigrateError::Edited { version, file }),
        SchemaState::Behind { pending } => Err(MigrateError::Pending {
            pending: pending.iter().map(|v| report.file(*v)).collect(),
        }),
    }
}

async fn read_history(conn: &mut PgConnection) -> Result<Vec<AppliedMigration>, MigrateError> {
    let rows = sqlx::query(
        "select version, name, checksum, applied_at, duration_ms, app_version
         from switchyard_migrations order by version",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db("reading the migration history"))?;
    rows.iter()
        .map(|row| {
            Ok(AppliedMigration {
                version: row.try_get("version")?,
                name: row.try_get("name")?,
                checksum: row.try_get("checksum")?,
                applied_at: row.try_get("applied_at")?,
                duration_ms: row.try_get("duration_ms")?,
                app_version: row.try_get("app_version")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(db("decoding the migration history"))
}

/// Applies every pending migration in version order and returns the ones it applied.
///
/// `conn` should be a dedicated connection: the advisory lock and timeouts are session state.
pub async fn up(
    conn: &mut PgConnection,
    migrator: &Migrator,
    options: &MigrateOptions,
) -> Result<Vec<AppliedMigration>, MigrateError> {
    for known in migrator.iter() {
        if known.no_tx {
            return Err(MigrateError::NoTransaction {
                version: known.version,
                file: file_name(known),
            });
        }
    }
    acquire_lock(conn, options.lock_wait).await?;
    let result = apply_pending(conn, migrator, options).await;
    // Release even when applying failed; closing the connection would release it too.
    let unlocked = sqlx::query("select pg_advisory_unlock($1)")
        .bind(LOCK_KEY)
        .execute(&mut *conn)
        .await;
    let applied = result?;
    unlocked.map_err(db("releasing the migration lock"))?;
    Ok(applied)
}

async fn acquire_lock(conn: &mut PgConnection, wait: Duration) -> Result<(), MigrateError> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let locked: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)")
            .bind(LOCK_KEY)
            .fetch_one(&mut *conn)
            .await
            .map_err(db("taking the migration lock"))?;
        if locked {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(MigrateError::LockTimeout { waited: wait });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn apply_pending(
    conn: &mut PgConnection,
    migrator: &Migrator,
    options: &MigrateOptions,
) -> Result<Vec<AppliedMigration>, MigrateError> {
    for (setting, value) in [
        ("lock_timeout", options.statement_lock_timeout),
        ("statement_timeout", options.statement_timeout),
    ] {
        sqlx::query("select set_config($1, $2, false)")
            .bind(setting)
            .bind(format!("{}ms", value.as_millis()))
            .execute(&mut *conn)
            .await
            .map_err(db("setting session timeouts"))?;
    }
    sqlx::query(CREATE_HISTORY)
        .execute(&mut *conn)
        .await
        .map_err(db("creating the migration history table"))?;
    let report = status(conn, migrator).await?;
    if let SchemaState::Edited { version, file } = report.state() {
        return Err(MigrateError::Edited { version, file });
    }
    let mut applied = Vec::new();
    for migration in migrator.iter() {
        if report
            .applied
            .iter()
            .any(|a| a.version == migration.version)
        {
            continue;
        }
        applied.push(apply_one(conn, migration, &options.app_version).await?);
    }
    Ok(applied)
}

async fn apply_one(
    conn: &mut PgConnection,
    migration: &Migration,
    app_version: &str,
) -> Result<AppliedMigration, MigrateError> {
    let file = file_name(migration);
    let failed = |source| MigrateError::Failed {
        version: migration.version,
        file: file.clone(),
        source,
    };
    let started = std::time::Instant::now();
    let mut tx = conn.begin().await.map_err(failed)?;
    sqlx::raw_sql(migration.sql.clone())
        .execute(&mut *tx)
        .await
        .map_err(failed)?;
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let applied_at: OffsetDateTime = sqlx::query_scalar(
        "insert into switchyard_migrations (version, name, checksum, duration_ms, app_version)
         values ($1, $2, $3, $4, $5) returning applied_at",
    )
    .bind(migration.version)
    .bind(migration.description.as_ref())
    .bind(migration.checksum.as_ref())
    .bind(duration_ms)
    .bind(app_version)
    .fetch_one(&mut *tx)
    .await
    .map_err(failed)?;
    tx.commit().await.map_err(failed)?;
    tracing::info!(migration.version = migration.version, migration.file = %file, duration_ms, "applied migration {file}");
    Ok(AppliedMigration {
        version: migration.version,
        name: migration.description.to_string(),
        checksum: migration.checksum.to_vec(),
        applied_at,
        duration_ms,
        app_version: app_version.to_owned(),
    })
}

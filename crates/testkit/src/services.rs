//! The shared private servers. The first test process of a run starts them (detached, data under
//! `$TMPDIR/switchyard-testkit`); the others find them through a state file, all behind a file
//! lock. They stay up after the run, so the next run starts at once.

use std::{
    fs::File,
    io::{Read as _, Write as _},
    path::PathBuf,
    time::Duration,
};

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use switchyard::local::{self, Lifetime, LocalPostgres, LocalRedis, PostgresOptions};
use switchyard_db::{MIGRATOR, MigrateOptions, admin, migrate};
use switchyard_queue::{Redis, RedisConfig};
use tokio::sync::OnceCell;

/// Where the shared servers are and the template every test database is cloned from.
#[derive(Debug)]
pub struct Services {
    /// Admin URL without a database name (`postgres://user:pass@host:port`).
    server_url: SecretString,
    pub redis_url: SecretString,
    /// `tpl_<hash of the migrations>`: rebuilt when a migration changes.
    pub template: String,
}

impl Services {
    /// A URL for `database` on the shared server.
    pub fn database_url(&self, database: &str) -> SecretString {
        SecretString::from(format!("{}/{database}", self.server_url.expose_secret()))
    }
}

static SERVICES: OnceCell<Services> = OnceCell::const_new();

/// The shared services, started or found on first use in this process.
pub async fn services() -> &'static Services {
    SERVICES
        .get_or_init(|| async { start().await.expect("test services could not start") })
        .await
}

fn harness_dir() -> PathBuf {
    std::env::temp_dir().join("switchyard-testkit")
}

/// Names of test databases kept because their test failed.
pub(crate) fn keep_file() -> PathBuf {
    harness_dir().join("keep")
}

async fn start() -> anyhow::Result<Services> {
    let vars = switchyard::config::process_env();
    let dir = harness_dir();
    std::fs::create_dir_all(&dir)?;
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("lock"))?;
    lock.lock()?;
    let (server_url, redis_url) = match (vars.get("TEST_DATABASE_URL"), vars.get("TEST_REDIS_URL"))
    {
        (Some(db), Some(redis)) => (
            SecretString::from(strip_database(db)),
            SecretString::from(redis.clone()),
        ),
        (db, redis) => {
            let (pg, rd) = private_servers(&dir).await?;
            let server_url = db.map_or_else(
                || SecretString::from(pg.url("").expose_secret().trim_end_matches('/').to_owned()),
                |db| SecretString::from(strip_database(db)),
            );
            let redis_url = redis.map_or_else(|| rd.url(), |r| SecretString::from(r.clone()));
            (server_url, redis_url)
        }
    };
    let template = ensure_template(&server_url).await?;
    reap_finished_databases(&server_url).await?;
    lock.unlock()?;
    Ok(Services {
        server_url,
        redis_url,
        template,
    })
}

/// `postgres://u:p@h:5432/db?x` → `postgres://u:p@h:5432`.
fn strip_database(url: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    match url[scheme_end..].find(['/', '?']) {
        Some(i) => url[..scheme_end + i].to_owned(),
        None => url.to_owned(),
    }
}

/// Finds the servers recorded in the state file, or starts new ones and records them.
async fn private_servers(dir: &std::path::Path) -> anyhow::Result<(LocalPostgres, LocalRedis)> {
    let state_file = dir.join("state");
    let mut state = String::new();
    if let Ok(mut f) = File::open(&state_file) {
        f.read_to_string(&mut state)?;
    }
    let mut ports = state
        .split_whitespace()
        .filter_map(|p| p.parse::<u16>().ok());
    let pg_dir = dir.join("postgres");
    if let (Some(pg_port), Some(redis_port)) = (ports.next(), ports.next()) {
        let pg = LocalPostgres::attach(pg_port, &pg_dir);
        let rd = LocalRedis::attach(redis_port);
        if let Ok(pg) = pg
            && alive(&pg, &rd).await
        {
            return Ok((pg, rd));
        }
    }
    let pg = local::postgres::start(&PostgresOptions {
        dir: pg_dir,
        port: local::free_port()?,
        durable: false,
        lifetime: Lifetime::Detached,
    })
    .await?;
    let rd =
        local::redis::start(dir.join("redis"), local::free_port()?, Lifetime::Detached).await?;
    File::create(&state_file)?.write_all(format!("{} {}\n", pg.port, rd.port).as_bytes())?;
    Ok((pg, rd))
}

async fn alive(pg: &LocalPostgres, rd: &LocalRedis) -> bool {
    let pg_ok = admin::wait_for(&pg.url("postgres"), Duration::from_millis(500))
        .await
        .is_ok();
    let redis = Redis::connect_lazy(&RedisConfig {
        url: rd.url(),
        key_prefix: String::new(),
    });
    let redis_ok = match redis {
        Ok(redis) => redis.ping(Duration::from_millis(500)).await.is_ok(),
        Err(_) => false,
    };
    pg_ok && redis_ok
}

/// Drops `t_<pid>_…` databases whose test process has exited, except those kept after a failure.
async fn reap_finished_databases(server_url: &SecretString) -> anyhow::Result<()> {
    let admin_url = SecretString::from(format!("{}/postgres", server_url.expose_secret()));
    let mut conn = admin::wait_for(&admin_url, Duration::from_secs(10)).await?;
    let kept = std::fs::read_to_string(keep_file()).unwrap_or_default();
    for name in admin::list_databases(&mut conn, "t_").await? {
        let pid = name.split('_').nth(1).and_then(|p| p.parse::<u32>().ok());
        let running = pid.is_some_and(|pid| std::path::Path::new(&format!("/proc/{pid}")).exists());
        if !running && !kept.lines().any(|k| k == name) {
            admin::drop_database(&mut conn, &name).await?;
        }
    }
    sqlx_close(conn).await;
    Ok(())
}

/// Closes a connection politely, so the server forgets it before we rename or clone.
async fn sqlx_close(conn: switchyard_db::PgConnection) {
    use switchyard_db::Connection as _;
    let _ = conn.close().await;
}

/// Builds `tpl_<hash>` once: migrated into a scratch database, then renamed, so a run killed
/// halfway never leaves a half-migrated template behind.
async fn ensure_template(server_url: &SecretString) -> anyhow::Result<String> {
    let mut hasher = Sha256::new();
    for m in MIGRATOR.iter() {
        hasher.update(m.version.to_be_bytes());
        hasher.update(&*m.checksum);
    }
    let hash = hex::encode(hasher.finalize());
    let template = format!("tpl_{}", &hash[..16]);
    let admin_url = SecretString::from(format!("{}/postgres", server_url.expose_secret()));
    let mut conn = admin::wait_for(&admin_url, Duration::from_secs(10)).await?;
    if admin::database_exists(&mut conn, &template).await? {
        return Ok(template);
    }
    let scratch = format!("tplb_{}", &hash[..16]);
    admin::drop_database(&mut conn, &scratch).await?;
    admin::create_database(&mut conn, &scratch, None).await?;
    let scratch_url = SecretString::from(format!("{}/{scratch}", server_url.expose_secret()));
    let mut scratch_conn = admin::wait_for(&scratch_url, Duration::from_secs(10)).await?;
    migrate::up(&mut scratch_conn, &MIGRATOR, &MigrateOptions::default()).await?;
    sqlx_close(scratch_conn).await;
    admin::rename_database(&mut conn, &scratch, &template).await?;
    Ok(template)
}

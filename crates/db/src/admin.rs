//! Cluster-level chores for the private PostgreSQL of `switchyard dev` and the test harness:
//! waiting for a server to accept connections and creating or cloning databases.
//!
//! Runtime-checked SQL on purpose: these statements take identifiers (database names), which
//! cannot be bind parameters, and they run against databases without our schema.
#![expect(
    clippy::disallowed_methods,
    reason = "identifier SQL, see the module comment"
)]

use std::{str::FromStr, time::Duration};

use secrecy::{ExposeSecret, SecretString};
use sqlx::{AssertSqlSafe, Connection, PgConnection, postgres::PgConnectOptions};

/// A database name we generate ourselves: lower-case letters, digits and `_`, so it can be
/// quoted into SQL safely.
fn checked_name(name: &str) -> Result<&str, sqlx::Error> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(name)
    } else {
        Err(sqlx::Error::Protocol(format!(
            "refusing database name {name:?}"
        )))
    }
}

/// Connects to `url`, retrying until `timeout` passes (a server that is still starting refuses
/// connections for a moment).
pub async fn wait_for(url: &SecretString, timeout: Duration) -> Result<PgConnection, sqlx::Error> {
    let options = PgConnectOptions::from_str(url.expose_secret())?;
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match PgConnection::connect_with(&options).await {
            Ok(conn) => return Ok(conn),
            Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

pub async fn database_exists(conn: &mut PgConnection, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
        .bind(name)
        .fetch_one(conn)
        .await
}

/// `CREATE DATABASE name [TEMPLATE template]`.
pub async fn create_database(
    conn: &mut PgConnection,
    name: &str,
    template: Option<&str>,
) -> Result<(), sqlx::Error> {
    let name = checked_name(name)?;
    let sql = match template {
        Some(template) => format!(
            "create database \"{name}\" template \"{}\"",
            checked_name(template)?
        ),
        None => format!("create database \"{name}\""),
    };
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(conn)
        .await
        .map(drop)
}

/// `DROP DATABASE IF EXISTS name WITH (FORCE)`.
pub async fn drop_database(conn: &mut PgConnection, name: &str) -> Result<(), sqlx::Error> {
    let sql = format!(
        "drop database if exists \"{}\" with (force)",
        checked_name(name)?
    );
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(conn)
        .await
        .map(drop)
}

/// `ALTER DATABASE from RENAME TO to`.
pub async fn rename_database(
    conn: &mut PgConnection,
    from: &str,
    to: &str,
) -> Result<(), sqlx::Error> {
    let sql = format!(
        "alter database \"{}\" rename to \"{}\"",
        checked_name(from)?,
        checked_name(to)?
    );
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(conn)
        .await
        .map(drop)
}

/// Names of the databases starting with `prefix`.
pub async fn list_databases(
    conn: &mut PgConnection,
    prefix: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "select datname from pg_database where starts_with(datname, $1) order by datname",
    )
    .bind(prefix)
    .fetch_all(conn)
    .await
}

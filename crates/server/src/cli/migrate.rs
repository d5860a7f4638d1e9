//! `switchyard migrate up|status|verify`: the only code path that changes the schema.

use std::{fmt::Write as _, time::Duration};

use anyhow::Context;
use secrecy::SecretString;
use switchyard_db::{MigrateOptions, Migrator, PgConnection, SchemaReport, admin, migrate};
use time::format_description::well_known::Rfc3339;

async fn connect(url: &SecretString) -> anyhow::Result<PgConnection> {
    admin::wait_for(url, Duration::from_secs(10))
        .await
        .context("cannot connect to PostgreSQL (ENCLII_DATABASE_URL)")
}

/// Applies pending migrations; prints what it applied.
pub async fn up(
    url: &SecretString,
    migrator: &Migrator,
    options: &MigrateOptions,
) -> anyhow::Result<String> {
    let mut conn = connect(url).await?;
    let applied = migrate::up(&mut conn, migrator, options).await?;
    let mut out = String::new();
    if applied.is_empty() {
        out.push_str("nothing to apply: the schema is up to date\n");
    }
    for m in &applied {
        let _ = writeln!(
            out,
            "applied {} {} ({} ms)",
            m.version, m.name, m.duration_ms
        );
    }
    let report = migrate::status(&mut conn, migrator).await?;
    let _ = writeln!(out, "{}", summary(&report));
    Ok(out)
}

/// Prints the history table.
pub async fn status(url: &SecretString, migrator: &Migrator) -> anyhow::Result<String> {
    let mut conn = connect(url).await?;
    Ok(table(&migrate::status(&mut conn, migrator).await?))
}

/// Succeeds when `serve` would serve and be ready.
pub async fn verify(url: &SecretString, migrator: &Migrator) -> anyhow::Result<String> {
    let mut conn = connect(url).await?;
    let report = migrate::verify(&mut conn, migrator).await?;
    Ok(format!("ok: {}\n", summary(&report)))
}

fn summary(report: &SchemaReport) -> String {
    format!(
        "schema: {} ({} applied, {} known to this binary)",
        report.state().as_str(),
        report.applied.len(),
        report.known.len()
    )
}

/// `VERSION  NAME  APPLIED AT  CHECKSUM` for every migration known or applied, in version order.
pub fn table(report: &SchemaReport) -> String {
    let mut versions: Vec<i64> = report
        .known
        .iter()
        .map(|k| k.version)
        .chain(report.applied.iter().map(|a| a.version))
        .collect();
    versions.sort_unstable();
    versions.dedup();
    let mut rows = vec![[
        "VERSION".to_owned(),
        "NAME".to_owned(),
        "APPLIED AT".to_owned(),
        "CHECKSUM".to_owned(),
    ]];
    for version in versions {
        let known = report.known.iter().find(|k| k.version == version);
        let applied = report.applied.iter().find(|a| a.version == version);
        let name = known
            .map(|k| k.description.to_string())
            .or_else(|| applied.map(|a| a.name.clone()))
            .unwrap_or_default();
        let applied_at = applied.map_or_else(
            || "pending".to_owned(),
            |a| a.applied_at.format(&Rfc3339).unwrap_or_default(),
        );
        let checksum = match report.checksum_ok(version) {
            Some(true) => "ok",
            Some(false) => "EDITED",
            None if applied.is_some() => "unknown to this binary",
            None => "-",
        };
        rows.push([version.to_string(), name, applied_at, checksum.to_owned()]);
    }
    let widths: Vec<usize> = (0..4)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    let _ = writeln!(out, "{}", summary(report));
    out
}

//! `POST /v1/services/:id/domains/:domain_id/verify`: looks up the TXT record at
//! `_enclii-verification.<domain>` — exactly the name the instructions print (the original printed
//! that name but looked at the bare domain) — and marks the domain verified when one of the
//! records there is `enclii-verification=<domain id>`. The lookup happens outside any transaction;
//! the row is re-read and locked only to record success.

use switchyard_db::repo::domains;
use switchyard_domain::{DomainId, Error, ServiceId};

use crate::{
    ControlPlane, CustomDomain, Need, Principal,
    audit::{self, Changes, Entry},
    auth::db_unavailable,
    dns,
    domains::{DnsInstructions, instructions, view},
};

/// What a verification found.
#[derive(Debug, Clone)]
pub enum Verification {
    /// The record is there: the domain is now verified.
    Verified(CustomDomain),
    /// Verified before (or a platform domain): nothing was looked up.
    AlreadyVerified(CustomDomain),
    /// The record is not there (yet); `found` are the TXT values at that name.
    NotVerified {
        instructions: DnsInstructions,
        found: Vec<String>,
    },
}

impl ControlPlane {
    /// Checks the TXT record of domain `key` (developers of its environment).
    pub async fn domain_verify(
        &self,
        principal: &Principal,
        key: (ServiceId, DomainId),
    ) -> Result<Verification, Error> {
        let settings = self.domain_settings();
        let row = {
            let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
            self.domain_authorized(&mut conn, principal, key, Need::Write, false)
                .await?
                .1
        };
        if row.verified_at.is_some() {
            return Ok(Verification::AlreadyVerified(view(settings, row)));
        }
        let expected = instructions(settings, &row);
        let found = dns::txt_records(&settings.dns, &expected.verification_name).await?;
        if !found
            .iter()
            .any(|txt| txt.trim() == expected.verification_value)
        {
            tracing::info!(domain.id = %row.id, records = found.len(), "domain {} not verified", row.domain);
            return Ok(Verification::NotVerified {
                instructions: expected,
                found,
            });
        }
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let (service, row) = self
            .domain_authorized(&mut tx, principal, key, Need::Write, true)
            .await?;
        if row.verified_at.is_some() {
            return Ok(Verification::AlreadyVerified(view(settings, row)));
        }
        let verified = domains::set_verified(&mut tx, row.id()).await?;
        // A custom domain is billed from the moment it serves (platform names are free).
        if !row.is_platform_domain {
            let added = switchyard_billing::UsageEvent::domain_added(
                service.project.id(),
                row.id,
                &row.domain,
                switchyard_db::repo::usage_checks::now(&mut tx).await?,
            );
            crate::usage::record(&mut tx, &added).await?;
        }
        audit::record(
            &mut tx,
            principal,
            Entry::new("domain.verify", "domain", row.id, &row.domain)
                .project(service.project.id())
                .environment(Some(row.environment_id()))
                .changes(Changes::new().flag("verified", Some(false), true))
                .metadata("txt_name", expected.verification_name),
        )
        .await?;
        crate::deployments::refresh_applied(&mut tx, row.service_id(), Some(row.environment_id()))
            .await?;
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a domain verification", e))?;
        tracing::info!(domain.id = %row.id, "verified domain {}", row.domain);
        Ok(Verification::Verified(view(settings, verified)))
    }
}

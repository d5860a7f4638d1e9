//! Custom domains of a service: add, list, view, change TLS (guarded by `If-Match`), delete.
//! Verification lives in `domain_verify`, the cross-project list and counts in `domain_lists`.
//!
//! Rules: a name routes to one place, so it is unique across every tenant (409 that does not say
//! where). Platform domains are exactly one label under `ENCLII_PLATFORM_DOMAIN` (at a label
//! boundary, never the platform's own name or a reserved one) and are verified at once; any other
//! name under the platform's domain is refused, so nobody takes over a platform name. Readers need
//! project viewer, changes need developer on the domain's environment; a non-member gets 404
//! naming the service, a domain of another service is 404 under this one.

use switchyard_db::PgConnection;
use switchyard_db::repo::{
    domains::{self, DomainRow, NewDomain},
    environments::{self, EnvironmentRow},
};
use switchyard_domain::{
    DomainCreate, DomainId, DomainName, DomainUpdate, EnvironmentChoice, Error, Hostname,
    ResourceKind, ServiceId,
};
use time::OffsetDateTime;

use crate::{
    ControlPlane, Need, Page, PageRequest, Principal, ServiceInProject,
    audit::{self, Changes, Entry},
    auth::db_unavailable,
    dns::DnsSettings,
};

/// Labels under the platform's domain that name the platform itself, never a tenant's app.
pub const RESERVED_PLATFORM_LABELS: &[&str] = &[
    "admin",
    "api",
    "app",
    "auth",
    "dashboard",
    "docs",
    "mail",
    "status",
    "tunnel",
    "www",
];

/// The TXT record that proves control of a domain lives at this label below it.
pub const VERIFICATION_LABEL: &str = "_enclii-verification";

/// How custom domains behave here.
#[derive(Debug, Clone, Default)]
pub struct DomainSettings {
    /// `ENCLII_PLATFORM_DOMAIN`; `None`: platform domains answer 503 naming it.
    pub platform_domain: Option<Hostname>,
    /// The cert-manager `ClusterIssuer` the renderer puts on Ingresses (what `tls_issuer` shows).
    pub tls_issuer: Option<String>,
    pub dns: DnsSettings,
}

/// A custom domain as callers see it.
#[derive(Debug, Clone)]
pub struct CustomDomain {
    pub id: DomainId,
    pub service_id: ServiceId,
    pub environment_id: switchyard_domain::EnvironmentId,
    pub domain: String,
    pub is_platform_domain: bool,
    pub tls_enabled: bool,
    pub verified_at: Option<OffsetDateTime>,
    /// The issuer of its certificate when TLS is on (the cluster's).
    pub tls_issuer: Option<String>,
    /// Where a custom domain's CNAME should point (`tunnel.<platform domain>`), when known.
    pub dns_cname: Option<String>,
    /// The ETag.
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// The records to create for a new custom domain.
#[derive(Debug, Clone)]
pub struct DnsInstructions {
    /// `_enclii-verification.<domain>`: where the TXT record is looked up, exactly.
    pub verification_name: String,
    /// `enclii-verification=<domain id>`.
    pub verification_value: String,
    /// The CNAME target (`tunnel.<platform domain>`), when the platform domain is configured.
    pub cname_target: Option<String>,
}

/// A new domain and, for a custom one, what to put in DNS.
#[derive(Debug, Clone)]
pub struct AddedDomain {
    pub domain: CustomDomain,
    pub instructions: Option<DnsInstructions>,
}

/// The TXT record expected for `row`.
pub(crate) fn instructions(settings: &DomainSettings, row: &DomainRow) -> DnsInstructions {
    DnsInstructions {
        verification_name: format!("{VERIFICATION_LABEL}.{}", row.domain),
        verification_value: format!("enclii-verification={}", row.id),
        cname_target: cname_target(settings),
    }
}

fn cname_target(settings: &DomainSettings) -> Option<String> {
    settings
        .platform_domain
        .as_ref()
        .map(|p| format!("tunnel.{p}"))
}

pub(crate) fn view(settings: &DomainSettings, row: DomainRow) -> CustomDomain {
    CustomDomain {
        id: row.id(),
        service_id: row.service_id(),
        environment_id: row.environment_id(),
        tls_issuer: settings.tls_issuer.clone().filter(|_| row.tls_enabled),
        dns_cname: cname_target(settings).filter(|_| !row.is_platform_domain),
        domain: row.domain,
        is_platform_domain: row.is_platform_domain,
        tls_enabled: row.tls_enabled,
        verified_at: row.verified_at,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

/// The name a request asks for, checked against the platform's domain.
fn choose_name(
    settings: &DomainSettings,
    new: &DomainCreate,
    service: &str,
    environment: &str,
) -> Result<Hostname, Error> {
    if !new.is_platform_domain {
        let DomainName::Host(host) = &new.name else {
            return Err(Error::invalid("domain", "is required"));
        };
        if let Some(platform) = settings.platform_domain.as_ref().filter(|p| p.covers(host)) {
            return Err(Error::invalid(
                "domain",
                format!(
                    "{host} is under the platform's domain {platform}: add it as a platform \
                     domain (is_platform_domain: true)"
                ),
            ));
        }
        return Ok(host.clone());
    }
    let platform = settings
        .platform_domain
        .as_ref()
        .ok_or_else(|| Error::not_configured("platform domains", "ENCLII_PLATFORM_DOMAIN"))?;
    let host = match &new.name {
        DomainName::Host(host) => host.clone(),
        DomainName::Label(label) => Hostname::parse(&format!("{label}.{platform}"), "domain")?,
        DomainName::Default => {
            let env = environment.to_ascii_lowercase().replace('_', "-");
            Hostname::parse(&format!("{service}-{env}.{platform}"), "domain")?
        }
    };
    if !host.is_strictly_under(platform) || host.labels() != platform.labels() + 1 {
        return Err(Error::invalid(
            "domain",
            format!("a platform domain is one label under {platform}, like shop.{platform}"),
        ));
    }
    if RESERVED_PLATFORM_LABELS.contains(&host.first_label()) {
        return Err(Error::invalid(
            "domain",
            format!("{host} is reserved by the platform"),
        ));
    }
    Ok(host)
}

fn not_found(id: DomainId) -> Error {
    Error::not_found(ResourceKind::Domain, id.to_string())
}

impl ControlPlane {
    /// The domain settings (platform domain, issuer, resolver).
    pub(crate) fn domain_settings(&self) -> &DomainSettings {
        &self.inner.domains
    }

    /// The environment a new domain goes to, which must be in the service's project, and the
    /// check that `principal` is a developer there.
    async fn domain_environment(
        &self,
        conn: &mut PgConnection,
        principal: &Principal,
        found: &ServiceInProject,
        choice: &EnvironmentChoice,
    ) -> Result<EnvironmentRow, Error> {
        let project = found.project.id();
        let env = match choice {
            EnvironmentChoice::Id(id) => environments::find(conn, *id)
                .await?
                .filter(|e| e.project_id == project.as_uuid())
                .ok_or_else(|| {
                    Error::invalid(
                        "environment_id",
                        format!("{id} is not an environment of this service's project"),
                    )
                })?,
            EnvironmentChoice::Name(name) => environments::find_by_name(conn, project, name)
                .await?
                .ok_or_else(|| {
                    Error::invalid(
                        "environment",
                        format!("this service's project has no environment {name:?}"),
                    )
                })?,
        };
        let id = found.service.id();
        let hidden = || Error::not_found(ResourceKind::Service, id.to_string());
        self.authorize_row(
            conn,
            principal,
            found.project.clone(),
            Some(env.id()),
            Need::Write,
            hidden,
        )
        .await?;
        Ok(env)
    }

    /// The domain `domain` of service `id` (locked when `lock`), if `principal` may do `need` to
    /// it: 404 for a non-member or a domain of another service, 403 below the role.
    pub(crate) async fn domain_authorized(
        &self,
        conn: &mut PgConnection,
        principal: &Principal,
        (id, domain): (ServiceId, DomainId),
        need: Need,
        lock: bool,
    ) -> Result<(ServiceInProject, DomainRow), Error> {
        let found = self
            .service_authorized(conn, principal, id, Need::Read, false)
            .await?;
        let row = if lock {
            domains::find_for_update(conn, id, domain).await?
        } else {
            domains::find(conn, id, domain).await?
        }
        .ok_or_else(|| not_found(domain))?;
        if need != Need::Read {
            let hidden = || Error::not_found(ResourceKind::Service, id.to_string());
            let env = Some(row.environment_id());
            self.authorize_row(conn, principal, found.project.clone(), env, need, hidden)
                .await?;
        }
        Ok((found, row))
    }

    /// `POST /v1/services/:id/domains` (developers of the environment).
    pub async fn domain_create(
        &self,
        principal: &Principal,
        id: ServiceId,
        new: DomainCreate,
    ) -> Result<AddedDomain, Error> {
        let settings = self.domain_settings();
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let found = self
            .service_authorized(&mut tx, principal, id, Need::Read, false)
            .await?;
        let env = self
            .domain_environment(&mut tx, principal, &found, &new.environment)
            .await?;
        if let Some(asked) = new.tls_issuer.as_deref() {
            check_issuer(settings, asked)?;
        }
        let host = choose_name(settings, &new, &found.service.spec.0.name, &env.name)?;
        let domain = DomainId::new();
        let row = domains::insert(
            &mut tx,
            &NewDomain {
                id: domain,
                service_id: id,
                environment_id: env.id(),
                domain: host.as_str(),
                is_platform_domain: new.is_platform_domain,
                tls_enabled: new.tls_enabled,
                verified: new.is_platform_domain,
            },
        )
        .await?;
        let changes = Changes::new()
            .set("environment_id", env.id())
            .flag("is_platform_domain", None, new.is_platform_domain)
            .flag("tls_enabled", None, new.tls_enabled);
        audit::record(
            &mut tx,
            principal,
            Entry::new("domain.create", "domain", domain, host.as_str())
                .project(found.project.id())
                .environment(Some(env.id()))
                .changes(changes),
        )
        .await?;
        if row.verified_at.is_some() {
            // A platform name serves at once: into the Ingress now.
            crate::deployments::refresh_applied(&mut tx, id, Some(env.id())).await?;
        }
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a custom domain", e))?;
        tracing::info!(domain.id = %domain, service.id = %id, "added domain {host}");
        let instructions = (!row.is_platform_domain).then(|| instructions(settings, &row));
        Ok(AddedDomain {
            domain: view(settings, row),
            instructions,
        })
    }

    /// `GET /v1/services/:id/domains` (viewers).
    pub async fn domain_list(
        &self,
        principal: &Principal,
        id: ServiceId,
        page: PageRequest,
    ) -> Result<Page<CustomDomain>, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        self.service_authorized(&mut conn, principal, id, Need::Read, false)
            .await?;
        let rows = domains::list(&mut conn, id, page.after, page.fetch()).await?;
        let rows = page.finish(rows, |r| r.id);
        Ok(Page {
            items: rows
                .items
                .into_iter()
                .map(|r| view(self.domain_settings(), r))
                .collect(),
            next_cursor: rows.next_cursor,
        })
    }

    /// `GET /v1/services/:id/domains/:domain_id` (viewers).
    pub async fn domain_view(
        &self,
        principal: &Principal,
        key: (ServiceId, DomainId),
    ) -> Result<CustomDomain, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let (_, row) = self
            .domain_authorized(&mut conn, principal, key, Need::Read, false)
            .await?;
        Ok(view(self.domain_settings(), row))
    }

    /// `PATCH /v1/services/:id/domains/:domain_id`: TLS on or off; `if_match` (the version of an
    /// `ETag`) must still be current.
    pub async fn domain_update(
        &self,
        principal: &Principal,
        key: (ServiceId, DomainId),
        update: DomainUpdate,
        if_match: Option<i64>,
    ) -> Result<CustomDomain, Error> {
        let settings = self.domain_settings();
        if let Some(asked) = update.tls_issuer.as_deref() {
            check_issuer(settings, asked)?;
        }
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let (found, row) = self
            .domain_authorized(&mut tx, principal, key, Need::Write, true)
            .await?;
        if if_match.is_some_and(|v| v != row.version) {
            return Err(Error::PreconditionFailed);
        }
        let tls_enabled = update.tls_enabled.unwrap_or(row.tls_enabled);
        if tls_enabled == row.tls_enabled {
            return Ok(view(settings, row));
        }
        let updated = domains::set_tls(&mut tx, row.id(), tls_enabled).await?;
        audit::record(
            &mut tx,
            principal,
            Entry::new("domain.update", "domain", row.id, &row.domain)
                .project(found.project.id())
                .environment(Some(row.environment_id()))
                .changes(Changes::new().flag("tls_enabled", Some(row.tls_enabled), tls_enabled)),
        )
        .await?;
        if updated.verified_at.is_some() {
            crate::deployments::refresh_applied(&mut tx, key.0, Some(row.environment_id())).await?;
        }
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a custom domain update", e))?;
        Ok(view(settings, updated))
    }

    /// `DELETE /v1/services/:id/domains/:domain_id`.
    pub async fn domain_delete(
        &self,
        principal: &Principal,
        key: (ServiceId, DomainId),
    ) -> Result<(), Error> {
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        let (found, row) = self
            .domain_authorized(&mut tx, principal, key, Need::Write, true)
            .await?;
        domains::delete(&mut tx, row.id()).await?;
        if row.verified_at.is_some() && !row.is_platform_domain {
            let removed = switchyard_billing::UsageEvent::domain_removed(
                found.project.id(),
                row.id,
                &row.domain,
                switchyard_db::repo::usage_checks::now(&mut tx).await?,
            );
            crate::usage::record(&mut tx, &removed).await?;
        }
        let changes = Changes::new()
            .set("environment_id", row.environment_id)
            .flag("verified", None, row.verified_at.is_some());
        audit::record(
            &mut tx,
            principal,
            Entry::new("domain.delete", "domain", row.id, &row.domain)
                .project(found.project.id())
                .environment(Some(row.environment_id()))
                .changes(changes),
        )
        .await?;
        if row.verified_at.is_some() {
            crate::deployments::refresh_applied(&mut tx, key.0, Some(row.environment_id())).await?;
        }
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a custom domain deletion", e))?;
        tracing::info!(domain.id = %row.id, service.id = %key.0, "deleted domain {}", row.domain);
        Ok(())
    }
}

/// Certificates come from the cluster's one issuer: asking for another is refused, not ignored.
fn check_issuer(settings: &DomainSettings, asked: &str) -> Result<(), Error> {
    match settings.tls_issuer.as_deref() {
        Some(issuer) if issuer == asked => Ok(()),
        Some(issuer) => Err(Error::invalid(
            "tls_issuer",
            format!(
                "certificates come from the cluster's issuer {issuer}; another cannot be chosen"
            ),
        )),
        None => Err(Error::invalid(
            "tls_issuer",
            "no cert-manager issuer is configured for this cluster",
        )),
    }
}

//! `GET /v1/domains` and `/v1/domains/stats`: the domains of every project the caller can see
//! (every project for platform admins), in a bounded number of statements whatever their number.

use switchyard_db::repo::{
    domains::{self, DomainCounts, VisibleFilter},
    projects,
};
use switchyard_domain::Error;

use crate::{
    ControlPlane, CustomDomain, Page, PageRequest, Principal, auth::db_unavailable, domains::view,
};

/// A domain with what it routes to.
#[derive(Debug, Clone)]
pub struct ListedDomain {
    pub domain: CustomDomain,
    pub service_name: String,
    pub environment_name: String,
    pub project_slug: String,
}

/// Filters of `GET /v1/domains`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DomainFilter {
    pub verified: Option<bool>,
    pub tls_enabled: Option<bool>,
    /// The original's `offset` (still honoured; `cursor` is preferred).
    pub offset: i64,
}

/// One page and how many rows match in all.
#[derive(Debug, Clone)]
pub struct DomainPage {
    pub page: Page<ListedDomain>,
    pub total: i64,
}

impl ControlPlane {
    /// The project ids `principal` can see; `None` for platform admins (every project).
    async fn visible_projects(
        &self,
        conn: &mut switchyard_db::PgConnection,
        principal: &Principal,
    ) -> Result<Option<Vec<uuid::Uuid>>, Error> {
        if principal.is_platform_admin() {
            Ok(None)
        } else {
            Ok(Some(projects::visible_ids(conn, principal.user_id).await?))
        }
    }

    /// `GET /v1/domains`.
    pub async fn domain_list_visible(
        &self,
        principal: &Principal,
        filter: DomainFilter,
        page: PageRequest,
    ) -> Result<DomainPage, Error> {
        if filter.offset < 0 {
            return Err(Error::invalid("offset", "must not be negative"));
        }
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let visible = self.visible_projects(&mut conn, principal).await?;
        let scope = VisibleFilter {
            projects: visible.as_deref(),
            verified: filter.verified,
            tls_enabled: filter.tls_enabled,
        };
        let rows = domains::list_visible(&mut conn, scope, page.after, filter.offset, page.fetch())
            .await?;
        let total = domains::count_visible(&mut conn, scope).await?.total;
        let rows = page.finish(rows, |r| r.domain.id);
        let settings = self.domain_settings();
        Ok(DomainPage {
            page: Page {
                items: rows
                    .items
                    .into_iter()
                    .map(|r| ListedDomain {
                        domain: view(settings, r.domain),
                        service_name: r.service_name,
                        environment_name: r.environment_name,
                        project_slug: r.project_slug,
                    })
                    .collect(),
                next_cursor: rows.next_cursor,
            },
            total,
        })
    }

    /// `GET /v1/domains/stats`: counts over the domains the caller can see.
    pub async fn domain_stats(&self, principal: &Principal) -> Result<DomainCounts, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let visible = self.visible_projects(&mut conn, principal).await?;
        domains::count_visible(
            &mut conn,
            VisibleFilter {
                projects: visible.as_deref(),
                verified: None,
                tls_enabled: None,
            },
        )
        .await
    }
}

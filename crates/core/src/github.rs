//! GitHub's push webhook: verified (HMAC, constant time), recorded once per `X-GitHub-Delivery`
//! (a redelivery answers what the first did), and turned into a build of every service whose
//! repository, `auto_deploy_branch` and `app_path`/`watch_paths` match the push.

use serde::Deserialize;
use switchyard_auth::callback;
use switchyard_db::repo::{github, projects};
use switchyard_domain::{Error, GitSha};
use uuid::Uuid;

use crate::{
    ControlPlane, Need, Page, PageRequest, Principal, ServiceInProject,
    audit::{self, Changes, Entry},
    auth::db_unavailable,
};

pub use switchyard_db::repo::github::DeliveryRow;

/// The audit actor of builds a push started.
const WEBHOOK_ACTOR: &str = "github-webhook@system.enclii.dev";

/// What a delivery did.
#[derive(Debug, Clone)]
pub struct DeliveryOutcome {
    /// `pong`, `ignored`, `no_match` or `built`.
    pub action: String,
    pub release_ids: Vec<Uuid>,
    /// This delivery id was handled before; nothing was done again.
    pub duplicate: bool,
}

#[derive(Debug, Deserialize)]
struct Push {
    #[serde(rename = "ref")]
    git_ref: String,
    after: String,
    #[serde(default)]
    deleted: bool,
    repository: Repository,
    #[serde(default)]
    commits: Vec<Commit>,
}

#[derive(Debug, Deserialize)]
struct Repository {
    full_name: String,
    clone_url: Option<String>,
    html_url: Option<String>,
    ssh_url: Option<String>,
    git_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Commit {
    #[serde(default)]
    added: Vec<String>,
    #[serde(default)]
    modified: Vec<String>,
    #[serde(default)]
    removed: Vec<String>,
}

/// Every spelling of the repository a service may have stored (with and without `.git`).
fn repo_variants(repo: &Repository) -> Vec<String> {
    let mut urls = Vec::new();
    for url in [
        &repo.clone_url,
        &repo.html_url,
        &repo.ssh_url,
        &repo.git_url,
    ]
    .into_iter()
    .flatten()
    {
        let bare = url.trim_end_matches('/').trim_end_matches(".git");
        urls.push(bare.to_owned());
        urls.push(format!("{bare}.git"));
    }
    urls.sort();
    urls.dedup();
    urls
}

/// Whether a push touching `files` concerns a service at `app_path` watching `watch_paths`.
/// An empty file list (GitHub truncates large pushes) concerns everyone.
fn touches(files: &[&str], app_path: &str, watch_paths: &[String]) -> bool {
    let under = |dir: &str, file: &str| {
        let dir = dir.trim_start_matches("./").trim_end_matches('/');
        dir.is_empty() || dir == "." || file == dir || file.starts_with(&format!("{dir}/"))
    };
    files.is_empty()
        || files
            .iter()
            .any(|file| under(app_path, file) || watch_paths.iter().any(|watch| under(watch, file)))
}

impl ControlPlane {
    /// `POST /v1/webhooks/github`.
    pub async fn github_delivery(
        &self,
        delivery_id: &str,
        event: &str,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<DeliveryOutcome, Error> {
        let secret = self
            .inner
            .builds
            .github_webhook_secret
            .as_ref()
            .ok_or_else(|| {
                Error::not_configured("the GitHub webhook", "ENCLII_GITHUB_WEBHOOK_SECRET")
            })?;
        callback::verify_github(secret, signature, body)
            .map_err(|_| Error::unauthenticated("Invalid webhook signature"))?;
        if delivery_id.is_empty() || delivery_id.len() > 200 {
            return Err(Error::invalid(
                "X-GitHub-Delivery",
                "must be 1 to 200 characters",
            ));
        }
        if event == "ping" {
            return Ok(DeliveryOutcome {
                action: "pong".into(),
                release_ids: Vec::new(),
                duplicate: false,
            });
        }
        let mut tx = self.pool().begin().await.map_err(db_unavailable)?;
        if let Some(seen) = github::find(&mut tx, delivery_id).await? {
            return Ok(DeliveryOutcome {
                action: seen.action,
                release_ids: seen.release_ids,
                duplicate: true,
            });
        }
        let push = if event == "push" {
            Some(
                serde_json::from_slice::<Push>(body)
                    .map_err(|e| Error::invalid("body", format!("not a push event: {e}")))?,
            )
        } else {
            None
        };
        let (mut releases, mut project_ids) = (Vec::new(), Vec::new());
        let action = match &push {
            None => "ignored",
            Some(p) if p.deleted || !p.git_ref.starts_with("refs/heads/") => "ignored",
            Some(p) => {
                let branch = p.git_ref.trim_start_matches("refs/heads/");
                let sha = GitSha::parse(&p.after)?;
                let files: Vec<&str> = p
                    .commits
                    .iter()
                    .flat_map(|c| c.added.iter().chain(&c.modified).chain(&c.removed))
                    .map(String::as_str)
                    .collect();
                let candidates =
                    github::services_of_repos(&mut tx, &repo_variants(&p.repository)).await?;
                for service in candidates {
                    let spec = &service.spec.0;
                    if spec.auto_deploy_branch != branch
                        || !touches(&files, &spec.app_path, &spec.watch_paths)
                    {
                        continue;
                    }
                    let Some(project) = projects::find(&mut tx, service.project_id()).await? else {
                        continue;
                    };
                    let found = ServiceInProject { service, project };
                    let release = self.new_build(&mut tx, &found, &sha, branch, None).await?;
                    audit::record_system(
                        &mut tx,
                        WEBHOOK_ACTOR,
                        Entry::new("release.build", "release", release.id, &release.version)
                            .project(found.project.id())
                            .changes(
                                Changes::new()
                                    .set("git_sha", sha.as_str())
                                    .set("delivery", delivery_id),
                            ),
                    )
                    .await?;
                    releases.push(release.id);
                    project_ids.push(found.project.id);
                }
                if releases.is_empty() {
                    "no_match"
                } else {
                    "built"
                }
            }
        };
        project_ids.sort();
        project_ids.dedup();
        let recorded = github::insert(
            &mut tx,
            &github::NewDelivery {
                delivery_id,
                event,
                repository: push.as_ref().map(|p| p.repository.full_name.as_str()),
                git_ref: push.as_ref().map(|p| p.git_ref.as_str()),
                git_sha: push.as_ref().map(|p| p.after.as_str()),
                action,
                release_ids: &releases,
                project_ids: &project_ids,
            },
        )
        .await?;
        if !recorded {
            // A concurrent delivery of the same id won; this transaction's builds are discarded.
            return Err(Error::Conflict {
                message: format!("delivery {delivery_id} is being handled"),
            });
        }
        tx.commit()
            .await
            .map_err(|e| Error::internal("committing a GitHub delivery", e))?;
        tracing::info!(
            delivery = delivery_id,
            action,
            builds = releases.len(),
            "GitHub {event}"
        );
        Ok(DeliveryOutcome {
            action: action.to_owned(),
            release_ids: releases,
            duplicate: false,
        })
    }

    /// `GET /v1/services?git_repo=` for Roundhouse (its key as a bearer): the services built
    /// from `git_repo`, however its URL is spelled (`.git` or not).
    pub async fn services_of_repo(
        &self,
        authorization: Option<&str>,
        git_repo: &str,
    ) -> Result<Vec<crate::ServiceRow>, Error> {
        let key = self.inner.builds.callback_key.as_ref().ok_or_else(|| {
            Error::not_configured("Roundhouse access", "ENCLII_ROUNDHOUSE_API_KEY")
        })?;
        let credentials = callback::CallbackCredentials {
            authorization,
            ..callback::CallbackCredentials::default()
        };
        callback::verify(key, credentials, b"", 0)
            .map_err(|_| Error::unauthenticated("Invalid Roundhouse key"))?;
        let bare = git_repo
            .trim()
            .trim_end_matches('/')
            .trim_end_matches(".git");
        if bare.is_empty() {
            return Err(Error::invalid("git_repo", "is required"));
        }
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        github::services_of_repos(&mut conn, &[bare.to_owned(), format!("{bare}.git")]).await
    }

    /// `GET /v1/projects/:slug/webhook-deliveries` (project admins): newest first, paged.
    pub async fn github_deliveries(
        &self,
        principal: &Principal,
        slug: &str,
        page: PageRequest,
    ) -> Result<Page<DeliveryRow>, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let project = self
            .authorize(&mut conn, principal, slug, None, Need::Manage)
            .await?
            .project;
        let rows =
            github::list_for_project(&mut conn, project.id(), page.after, page.fetch()).await?;
        Ok(page.finish(rows, |d| d.id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_decide_which_services_build() {
        let watch = vec!["libs/shared".to_owned()];
        assert!(touches(&["apps/web/index.ts"], "apps/web", &[]));
        assert!(
            !touches(&["apps/webby/x"], "apps/web", &[]),
            "a prefix is not a directory"
        );
        assert!(!touches(&["apps/api/main.rs"], "apps/web", &[]));
        assert!(touches(&["libs/shared/a.ts"], "apps/web", &watch));
        assert!(touches(&["anything"], ".", &[]));
        assert!(touches(&[], "apps/web", &[]), "unknown files: build");
    }

    #[test]
    fn repositories_match_with_and_without_dot_git() {
        let repo = Repository {
            full_name: "acme/shop".into(),
            clone_url: Some("https://github.com/acme/shop.git".into()),
            html_url: Some("https://github.com/acme/shop".into()),
            ssh_url: Some("git@github.com:acme/shop.git".into()),
            git_url: None,
        };
        let urls = repo_variants(&repo);
        for url in [
            "https://github.com/acme/shop",
            "https://github.com/acme/shop.git",
            "git@github.com:acme/shop",
            "git@github.com:acme/shop.git",
        ] {
            assert!(urls.contains(&url.to_owned()), "{url}");
        }
    }
}

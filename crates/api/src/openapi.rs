//! The root of the OpenAPI document: info, tags, the bearer scheme and the shared error body.

use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use crate::Problem;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchyard API",
        description = "Control plane of Enclii, a self-hosted PaaS on K3s. Every non-2xx response \
                       (except a 503 from `/health`, which keeps its report) is a `Problem`.",
        license(name = "AGPL-3.0-only"),
    ),
    servers((url = "http://localhost:4200", description = "switchyard dev")),
    tags(
        (name = "health", description = "Probes and metrics"),
        (name = "auth", description = "Sign-in, sessions and session keys"),
        (name = "tokens", description = "API tokens of the signed-in user"),
        (name = "projects", description = "Projects you can see; creating one makes you its admin"),
        (name = "environments", description = "Environments (one Kubernetes namespace each) of a project"),
        (name = "services", description = "Services of a project and their settings"),
        (name = "env-vars", description = "Environment variables and secrets of a service, sealed at rest"),
        (name = "activity", description = "The audit log of what you can see"),
        (name = "teams", description = "Teams and their members"),
        (name = "invitations", description = "Invitations to join a team"),
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
)]
pub(crate) struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT or enclii_ API token")
                    .build(),
            ),
        );
    }
}

//! The root of the OpenAPI document: info, tags, the bearer scheme, the shared error body, and the
//! `Idempotency-Key` of creating operations.

use std::collections::HashSet;

use utoipa::{
    Modify, OpenApi,
    openapi::{
        Content, ObjectBuilder, Ref, RefOr, Required, ResponseBuilder, Type,
        header::HeaderBuilder,
        path::{Operation, ParameterBuilder, ParameterIn},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
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
        (name = "builds", description = "Builds, releases and Roundhouse's callback"),
        (name = "deployments", description = "Deploying releases to environments, status and rollback"),
        (name = "logs", description = "Pod logs of a deployment or service: read, followed as server-sent events, or over a WebSocket"),
        (name = "env-vars", description = "Environment variables and secrets of a service, sealed at rest"),
        (name = "domains", description = "Custom and platform domains of a service, verified by a DNS TXT record"),
        (name = "activity", description = "The audit log of what you can see"),
        (name = "teams", description = "Teams and their members"),
        (name = "invitations", description = "Invitations to join a team"),
        (name = "usage", description = "Usage, costs and the hourly usage ledger of your projects"),
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

/// The operations that create for a signed-in caller: a `POST` with a bearer security requirement
/// documented as answering 201. These take `Idempotency-Key` (`middleware::idempotency`); keys
/// belong to a bearer token, so sign-up, which has none, is not one of them.
fn creating_posts(
    openapi: &mut utoipa::openapi::OpenApi,
) -> impl Iterator<Item = (&String, &mut Operation)> {
    openapi.paths.paths.iter_mut().filter_map(|(path, item)| {
        item.post
            .as_mut()
            .filter(|op| {
                op.responses.responses.contains_key("201")
                    && op.security.as_ref().is_some_and(|s| !s.is_empty())
            })
            .map(|op| (path, op))
    })
}

/// The route templates that take `Idempotency-Key`.
pub(crate) fn creating_routes(mut openapi: utoipa::openapi::OpenApi) -> HashSet<String> {
    creating_posts(&mut openapi)
        .map(|(path, _)| path.clone())
        .collect()
}

/// Documents `Idempotency-Key` on every creating operation: the header, the replay marker on its
/// successes, and the 400, 409 and 422 it can cause.
pub(crate) struct IdempotencyKey;

const KEY_DESCRIPTION: &str = "Makes a retry safe: the same key with the same request (method, \
    path, body) within 24 h answers the first success again, with `Idempotent-Replayed: true`, \
    instead of creating twice. Keys belong to the bearer token; refusals and failures are not \
    kept, so a retry runs. 1–255 visible ASCII characters, e.g. a UUID.";

impl Modify for IdempotencyKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let parameter = ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(KEY_DESCRIPTION))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(255))
                    .pattern(Some("^[\\x21-\\x7E]+$")),
            ))
            .build();
        let replayed = HeaderBuilder::new()
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .description(Some(
                "`true` when this is the replay of an earlier response",
            ))
            .build();
        for (_, operation) in creating_posts(openapi) {
            operation
                .parameters
                .get_or_insert_with(Vec::new)
                .push(parameter.clone().into());
            for (status, response) in &mut operation.responses.responses {
                if let RefOr::T(response) = response
                    && status.starts_with('2')
                {
                    response
                        .headers
                        .insert("Idempotent-Replayed".to_owned(), replayed.clone().into());
                }
            }
            let responses = &mut operation.responses.responses;
            for (status, text) in [
                ("400", "A malformed `Idempotency-Key`"),
                (
                    "409",
                    "A request with this `Idempotency-Key` is in progress, or its response held \
                     a secret that cannot be shown again",
                ),
                (
                    "422",
                    "This `Idempotency-Key` was used for a different request",
                ),
            ] {
                match responses.get_mut(status) {
                    Some(RefOr::T(response)) => {
                        let mut text = text.chars();
                        let first = text.next().map(|c| c.to_ascii_lowercase());
                        response.description = format!(
                            "{}; or {}{}",
                            response.description,
                            first.unwrap_or_default(),
                            text.as_str()
                        );
                    }
                    Some(RefOr::Ref(_)) => {}
                    None => {
                        let response = ResponseBuilder::new()
                            .description(text)
                            .content(
                                "application/json",
                                Content::new(Some(Ref::from_schema_name("Problem"))),
                            )
                            .build();
                        responses.insert(status.to_owned(), response.into());
                    }
                }
            }
        }
    }
}

//! The HTTP side of the fake: routes Kubernetes API paths to the store and answers with the
//! bodies and `Status` errors the real API server sends. Anything it does not implement is a
//! 405 or 501 naming what was asked, so a test relying on it fails loudly.

use std::{
    collections::BTreeMap,
    sync::{Arc, PoisonError},
};

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use crate::{
    Shared, Write, follow,
    resources::{Resource, by_plural},
    store::{Failure, Selector, Store, fail, key, text},
};

/// What a path names.
struct Route {
    resource: Resource,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let query: BTreeMap<String, String> =
        form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let mut state = shared.state.lock().unwrap_or_else(PoisonError::into_inner);
    if method != Method::GET {
        state.writes.push(Write {
            method: method.to_string(),
            path: path.clone(),
        });
    }
    if let Some((remaining, code)) = state.failures.as_mut()
        && *remaining > 0
    {
        *remaining -= 1;
        let code = *code;
        return status(&fail(code, format!("simulated outage ({code})")));
    }
    if let Some((every, code, seen)) = state.periodic.as_mut().filter(|_| method != Method::GET) {
        *seen += 1;
        if *seen % *every == 0 {
            let code = *code;
            return status(&fail(code, format!("simulated failure ({code})")));
        }
    }
    if method == Method::GET && path == "/version" {
        return json_response(200, version());
    }
    let result = match route(&path) {
        None => Err(fail(
            404,
            "the server could not find the requested resource",
        )),
        Some(route) if followed_log(&method, &route, &query) => {
            let namespace = route.namespace.unwrap_or_default();
            let pod = route.name.unwrap_or_default();
            logs(&state.store, &namespace, &pod, &query).map(|first| {
                drop(state);
                follow::response(Arc::clone(&shared), namespace, pod, first, &query)
            })
        }
        Some(route) => {
            let result = dispatch(&mut state.store, &method, &route, &query, &headers, &body);
            drop(state);
            if method != Method::GET {
                shared.changed();
            }
            result
        }
    };
    match result {
        Ok(response) => response,
        Err(failure) => status(&failure),
    }
}

/// `GET …/pods/<name>/log?follow=true`.
fn followed_log(method: &Method, route: &Route, query: &BTreeMap<String, String>) -> bool {
    method == Method::GET
        && route.resource.kind == "Pod"
        && route.subresource.as_deref() == Some("log")
        && query.get("follow").is_some_and(|f| f == "true")
}

/// `/version`: the server a health probe reads.
fn version() -> Value {
    json!({
        "major": "1", "minor": "33", "gitVersion": "v1.33.0-fake", "gitCommit": "",
        "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.24",
        "compiler": "gc", "platform": "linux/amd64",
    })
}

fn dispatch(
    store: &mut Store,
    method: &Method,
    route: &Route,
    query: &BTreeMap<String, String>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, Failure> {
    let namespace = route.namespace.as_deref().unwrap_or("");
    let resource = &route.resource;
    match (method, route.name.as_deref(), route.subresource.as_deref()) {
        (&Method::GET, None, None) => list(store, route, query),
        (&Method::GET, Some(name), None) => store
            .objects
            .get(&key(resource, namespace, name))
            .map(|o| json_response(200, o.clone()))
            .ok_or_else(|| not_found(resource, name)),
        (&Method::PATCH, Some(name), None) => {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if content_type != "application/apply-patch+yaml" {
                return Err(fail(
                    415,
                    format!(
                        "the fake API server implements server-side apply only, not PATCH with {content_type:?}"
                    ),
                ));
            }
            apply(store, route, name, query, body)
        }
        (&Method::DELETE, Some(name), None) => store
            .delete(resource, namespace, name)
            .map(|o| json_response(200, o))
            .ok_or_else(|| not_found(resource, name)),
        (&Method::GET, Some(name), Some("log")) if resource.kind == "Pod" => {
            logs(store, namespace, name, query)
                .map(|text| ([(header::CONTENT_TYPE, "text/plain")], text.tail).into_response())
        }
        (method, name, subresource) => Err(fail(
            if matches!(*method, Method::GET | Method::PATCH | Method::DELETE) {
                501
            } else {
                405
            },
            format!(
                "the fake API server does not implement {method} on {}{}{}",
                resource.plural,
                name.map(|n| format!("/{n}")).unwrap_or_default(),
                subresource.map(|s| format!("/{s}")).unwrap_or_default()
            ),
        )),
    }
}

fn list(
    store: &Store,
    route: &Route,
    query: &BTreeMap<String, String>,
) -> Result<Response, Failure> {
    for unsupported in ["watch", "fieldSelector", "continue"] {
        if query
            .get(unsupported)
            .is_some_and(|v| !v.is_empty() && v != "false")
        {
            return Err(fail(
                501,
                format!("the fake API server does not implement {unsupported} on lists"),
            ));
        }
    }
    let selector = Selector::parse(query.get("labelSelector").map_or("", String::as_str))
        .map_err(|message| fail(501, message))?;
    let items: Vec<Value> = store
        .list(&route.resource, route.namespace.as_deref(), &selector)
        .into_iter()
        .map(|mut item| {
            // List items come without their type, as from the real API server.
            if let Value::Object(map) = &mut item {
                map.remove("apiVersion");
                map.remove("kind");
            }
            item
        })
        .collect();
    Ok(json_response(
        200,
        json!({
            "apiVersion": route.resource.group_version,
            "kind": format!("{}List", route.resource.kind),
            "metadata": {"resourceVersion": "1"},
            "items": items
        }),
    ))
}

fn apply(
    store: &mut Store,
    route: &Route,
    name: &str,
    query: &BTreeMap<String, String>,
    body: &Bytes,
) -> Result<Response, Failure> {
    let resource = &route.resource;
    let namespace = route.namespace.as_deref().unwrap_or("");
    let manager = query
        .get("fieldManager")
        .filter(|m| !m.is_empty())
        .ok_or_else(|| {
            fail(
                400,
                "PATCH with application/apply-patch+yaml requires fieldManager",
            )
        })?;
    let force = query.get("force").is_some_and(|f| f == "true");
    let applied: Value = serde_json::from_slice(body).map_err(|e| {
        fail(
            400,
            format!("the fake API server reads apply patches as JSON: {e}"),
        )
    })?;
    if text(&applied, "/apiVersion") != resource.group_version
        || text(&applied, "/kind") != resource.kind
    {
        return Err(fail(
            400,
            format!(
                "the apply patch is a {} {} but the URL names {}",
                text(&applied, "/apiVersion"),
                text(&applied, "/kind"),
                resource.qualified()
            ),
        ));
    }
    if text(&applied, "/metadata/name") != name {
        return Err(fail(
            400,
            "the name of the object does not match the name on the URL",
        ));
    }
    let body_namespace = text(&applied, "/metadata/namespace");
    if resource.namespaced && !body_namespace.is_empty() && body_namespace != namespace {
        return Err(fail(
            400,
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    let namespaces = by_plural("v1", "namespaces").ok_or_else(|| fail(500, "no Namespace kind"))?;
    if resource.namespaced && !store.objects.contains_key(&key(&namespaces, "", namespace)) {
        return Err(fail(404, format!("namespaces {namespace:?} not found")));
    }
    resource
        .validate(name, &applied)
        .map_err(|(code, message)| fail(code, message))?;
    let (code, object) = store.apply(resource, namespace, name, applied, manager, force)?;
    Ok(json_response(code, object))
}

/// What a pod's `log` read answers at first: the last `tailLines` lines (all by default),
/// stamped when `timestamps=true`, and how much of the stored text that covers.
pub(crate) struct FirstRead {
    pub(crate) tail: String,
    pub(crate) offset: usize,
}

fn logs(
    store: &Store,
    namespace: &str,
    pod: &str,
    query: &BTreeMap<String, String>,
) -> Result<FirstRead, Failure> {
    let pods = by_plural("v1", "pods").ok_or_else(|| fail(500, "no Pod kind"))?;
    let object = store
        .objects
        .get(&key(&pods, namespace, pod))
        .ok_or_else(|| not_found(&pods, pod))?;
    if let Some(waiting) = object.pointer("/status/containerStatuses/0/state/waiting") {
        return Err(fail(
            400,
            format!(
                "container {:?} in pod {pod:?} is waiting to start: {}",
                text(object, "/status/containerStatuses/0/name"),
                text(waiting, "/reason")
            ),
        ));
    }
    let text = store
        .logs
        .get(&(namespace.to_owned(), pod.to_owned()))
        .cloned()
        .unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = query
        .get("tailLines")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(lines.len())
        .min(lines.len());
    let mut out = String::new();
    for line in &lines[lines.len() - tail..] {
        out.push_str(&follow::stamped(line, query));
    }
    Ok(FirstRead {
        tail: out,
        offset: text.len(),
    })
}

/// `/api/v1/...` or `/apis/<group>/<version>/...`, then `[namespaces/<ns>/]<plural>[/<name>[/<sub>]]`.
fn route(path: &str) -> Option<Route> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group_version, rest) = match segments.as_slice() {
        ["api", version, rest @ ..] => ((*version).to_owned(), rest),
        ["apis", group, version, rest @ ..] => (format!("{group}/{version}"), rest),
        _ => return None,
    };
    let owned = |s: &&str| (*s).to_owned();
    let (namespace, rest) = match rest {
        ["namespaces", namespace, plural, rest @ ..] => {
            (Some((*namespace).to_owned()), [&[*plural], rest].concat())
        }
        _ => (None, rest.to_vec()),
    };
    let resource = by_plural(&group_version, rest.first()?)?;
    let scoped = match (resource.namespaced, namespace.is_some()) {
        // Listing a namespaced kind across namespaces is allowed; naming one object is not.
        (true, false) => rest.len() == 1,
        (false, true) => false,
        _ => true,
    };
    (scoped && rest.len() <= 3).then(|| Route {
        resource,
        namespace,
        name: rest.get(1).map(owned),
        subresource: rest.get(2).map(owned),
    })
}

fn not_found(resource: &Resource, name: &str) -> Failure {
    fail(404, format!("{} {name:?} not found", resource.qualified()))
}

fn json_response(code: u16, body: Value) -> Response {
    let code = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
    (code, Json(body)).into_response()
}

/// A `Status` body as the API server sends it with an error.
fn status(failure: &Failure) -> Response {
    let reason = match failure.code {
        400 => "BadRequest",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        501 => "NotImplemented",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "InternalError",
    };
    json_response(
        failure.code,
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": failure.message, "reason": reason, "code": failure.code
        }),
    )
}

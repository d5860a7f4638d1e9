//! The stack around routes that only tests have: panics, JSON and path rejections.

use std::sync::Arc;

use axum::{
    Router,
    body::Body,
    routing::{get, post},
};
use http::{Request, StatusCode, header};
use serde_json::Value;
use time::OffsetDateTime;
use tower::ServiceExt as _;

use crate::{
    ApiState, HttpConfig,
    extract::{Json, Path},
    health::{ComponentHealth, Components, HealthSnapshot, SchemaHealth},
};

fn state(http: HttpConfig) -> ApiState {
    let component = ComponentHealth {
        status: "healthy",
        latency_ms: None,
        error: None,
    };
    let snapshot = HealthSnapshot {
        components: Components {
            database: component.clone(),
            cache: component.clone(),
            kubernetes: component,
        },
        schema: SchemaHealth {
            status: "up_to_date",
            applied: 0,
            known: 0,
        },
        schema_compatible: true,
        checked_at: OffsetDateTime::UNIX_EPOCH,
    };
    let (_tx, rx) = tokio::sync::watch::channel(Arc::new(snapshot));
    // The routes here never reach the control plane; its pool never connects.
    let pool = switchyard_db::connect_lazy(&switchyard_db::DbConfig::new(
        "postgres://unused@127.0.0.1:1/unused".to_owned().into(),
    ))
    .unwrap();
    let key = include_str!("../../../auth/testdata/test-key-1.pem")
        .to_owned()
        .into();
    let keys = switchyard_auth::KeySet::from_pem(&key, "").unwrap();
    let auth = switchyard_core::AuthSettings {
        sessions: switchyard_auth::SessionIssuer::new(
            Arc::new(keys),
            time::Duration::minutes(1),
            time::Duration::days(1),
        ),
        default_role: switchyard_domain::Role::Developer,
        admin_emails: Vec::new(),
        external: None,
        oidc: None,
    };
    let cp = switchyard_core::ControlPlane::new(pool.clone(), None, auth);
    ApiState::new(http, rx, cp)
}

#[derive(serde::Deserialize)]
struct Named {
    name: String,
}

async fn panics() -> &'static str {
    panic!("secret internals")
}

async fn echo_name(Json(body): Json<Named>) -> String {
    body.name
}

async fn number(Path(n): Path<u32>) -> String {
    n.to_string()
}

async fn slow() -> &'static str {
    tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    "done"
}

fn app() -> Router {
    let routes = Router::new()
        .route("/panic", get(panics))
        .route("/json", post(echo_name))
        .route("/n/{n}", get(number))
        .route("/slow", get(slow));
    super::stack(
        routes,
        &state(HttpConfig {
            body_limit_bytes: 64,
            request_timeout: std::time::Duration::from_millis(50),
            ..HttpConfig::default()
        }),
        super::CreatingRoutes::default(),
    )
}

async fn send(request: Request<Body>) -> (StatusCode, Value) {
    let response = app().oneshot(request).await.unwrap();
    let status = response.status();
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["request_id"], request_id.as_str());
    assert_eq!(body["status"], status.as_u16());
    (status, body)
}

fn json(body: &'static str, content_type: Option<&str>) -> Request<Body> {
    let mut request = Request::post("/json");
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    request.body(Body::from(body)).unwrap()
}

#[tokio::test]
async fn a_panic_is_a_500_problem_without_the_panic_text() {
    let (status, body) = send(Request::get("/panic").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["code"], "internal");
    assert!(!body.to_string().contains("secret internals"), "{body}");
}

#[tokio::test]
async fn malformed_json_is_a_400_problem() {
    let (status, body) = send(json("{not json", Some("application/json"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("json"),
        "{body}"
    );
}

#[tokio::test]
async fn json_of_the_wrong_shape_is_a_422_problem() {
    let (status, body) = send(json(r#"{"nom":"x"}"#, Some("application/json"))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"].as_str().unwrap().contains("name"), "{body}");
}

#[tokio::test]
async fn a_body_without_json_content_type_is_a_415_problem() {
    let (status, body) = send(json(r#"{"name":"x"}"#, None)).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(body["code"], "unsupported_media_type");
}

#[tokio::test]
async fn a_json_body_over_the_limit_is_a_413_problem() {
    let big = Box::leak(format!(r#"{{"name":"{}"}}"#, "x".repeat(200)).into_boxed_str());
    let (status, body) = send(json(big, Some("application/json"))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["code"], "payload_too_large");
}

#[tokio::test]
async fn a_bad_path_parameter_is_a_400_problem() {
    let (status, body) = send(Request::get("/n/abc").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("parse"), "{body}");
}

#[tokio::test]
async fn a_request_over_the_timeout_is_a_504_problem() {
    let (status, body) = send(Request::get("/slow").body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(body["code"], "timeout");
}

#[tokio::test]
async fn a_valid_request_passes_through_untouched() {
    let request = json(r#"{"name":"web"}"#, Some("application/json"));
    let response = app().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 10)
        .await
        .unwrap();
    assert_eq!(&bytes[..], b"web");
}

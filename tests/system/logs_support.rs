//! Helpers of the log tests: an app reading pods from the fake cluster with a deployment of
//! `shop/api`, pods seeded as the deployment's, a reader of server-sent events, and a
//! WebSocket client that reports a refused upgrade's status and body.

use std::time::Duration;

use futures::StreamExt as _;
use serde_json::{Value, json};
use switchyard_core::{ClusterView, DeploySettings};
use switchyard_k8s::{DEPLOYMENT_LABEL, SERVICE_LABEL, cluster::Cluster};
use switchyard_kube_fake::FakeApiServer;
use switchyard_testkit::TestApp;
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Error as WsError, Message, client::IntoClientRequest as _, http},
};

use crate::{builds::service, deployments::shipped};

/// The namespace of `shop`'s `production` environment (where auto-deploy puts `api`).
pub(crate) const NS: &str = "enclii-shop-production";

/// How long one read may wait before the test fails (a hang, not a slow run).
const PATIENCE: Duration = Duration::from_secs(20);

/// The API reading pods from `fake`.
pub(crate) fn cluster_of(fake: &FakeApiServer) -> DeploySettings {
    DeploySettings {
        view: ClusterView::Cluster(Cluster::for_url(fake.url()).unwrap().reader()),
        render: Default::default(),
    }
}

/// An app on a fake cluster, and `shop/api` built once: its deployment to production.
pub(crate) struct LogsApp {
    pub(crate) app: TestApp,
    pub(crate) fake: FakeApiServer,
    pub(crate) owner: String,
    pub(crate) service: String,
    pub(crate) deployment: String,
}

pub(crate) async fn logs_app() -> LogsApp {
    let fake = FakeApiServer::start().await;
    let app = TestApp::builder().deploys(cluster_of(&fake)).spawn().await;
    let (owner, service) = service(&app).await;
    let (_, deployment) = shipped(&app, &owner, &service, "1111111a").await;
    LogsApp {
        app,
        fake,
        owner,
        service,
        deployment,
    }
}

/// A running pod of `api` made by `deployment` in `namespace`, with `logs` written so far.
pub(crate) fn pod(fake: &FakeApiServer, namespace: &str, name: &str, deployment: &str, logs: &str) {
    fake.add_pod(
        namespace,
        name,
        json!({"app": "api", SERVICE_LABEL: "api", DEPLOYMENT_LABEL: deployment}),
        json!({"phase": "Running", "containerStatuses": [{"name": "api", "state": {"running": {}}}]}),
    );
    fake.set_logs(namespace, name, logs);
}

/// A `text/event-stream` response, read event by event.
pub(crate) struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    pub(crate) fn new(response: reqwest::Response) -> Self {
        Self {
            response,
            buffer: String::new(),
        }
    }

    /// The next event as `(name, data)` (`message` when unnamed); comments are skipped. `None`
    /// when the stream has ended.
    pub(crate) async fn next(&mut self) -> Option<(String, String)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut name, mut data) = ("message".to_owned(), Vec::new());
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event: ") {
                        value.clone_into(&mut name);
                    } else if let Some(value) = line.strip_prefix("data: ") {
                        data.push(value.to_owned());
                    }
                }
                if data.is_empty() && name == "message" {
                    continue; // a keep-alive comment
                }
                return Some((name, data.join("\n")));
            }
            let chunk = tokio::time::timeout(PATIENCE, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("no event within {PATIENCE:?}"))
                .unwrap()?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens a WebSocket to `path` with `headers`; a refused upgrade gives its status and body.
pub(crate) async fn ws(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<Socket, (u16, Value)> {
    let mut request = format!("ws://{}{path}", app.addr)
        .into_client_request()
        .unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            http::HeaderValue::from_str(value).unwrap(),
        );
    }
    match connect_async(request).await {
        Ok((socket, response)) => {
            assert_eq!(response.status().as_u16(), 101);
            Ok(socket)
        }
        Err(WsError::Http(response)) => {
            let body = response
                .body()
                .as_deref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(Value::Null);
            Err((response.status().as_u16(), body))
        }
        Err(e) => panic!("WebSocket to {path}: {e}"),
    }
}

/// The status of a WebSocket upgrade to `path` (101 when it was accepted), with `bearer` in
/// the `Authorization` header when given.
pub(crate) async fn ws_status(app: &TestApp, path: &str, bearer: Option<&str>) -> (u16, Value) {
    let header = bearer.map(|b| format!("Bearer {b}"));
    let headers: Vec<(&str, &str)> = header
        .as_deref()
        .map(|h| vec![("authorization", h)])
        .unwrap_or_default();
    match ws(app, path, &headers).await {
        Ok(_) => (101, Value::Null),
        Err(refused) => refused,
    }
}

/// The next JSON message; `None` once the server closed the socket.
pub(crate) async fn message(socket: &mut Socket) -> Option<Value> {
    loop {
        let next = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .unwrap_or_else(|_| panic!("no message within {PATIENCE:?}"))?;
        match next.unwrap() {
            Message::Text(text) => return Some(serde_json::from_str(&text).unwrap()),
            Message::Close(_) => return None,
            _ => {}
        }
    }
}

/// `(type, pod, message)` of a message, to compare at a glance.
pub(crate) fn brief(message: &Value) -> (String, String, String) {
    let text = |key: &str| message[key].as_str().unwrap_or_default().to_owned();
    (text("type"), text("pod"), text("message"))
}

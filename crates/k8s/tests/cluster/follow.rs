//! `follow_logs`: the last lines of each pod, then every line written later, merged across the
//! service's pods; a pod that cannot be read says why; the stream ends when the pods are
//! deleted or the API server goes away.

use std::time::Duration;

use futures::StreamExt as _;
use serde_json::json;
use switchyard_k8s::cluster::{LogEvent, LogFollow, LogLine, LogOptions};
use switchyard_kube_fake::{FakeApiServer, LOG_TIMESTAMP};

use crate::{
    cluster,
    logs::{NS, lines, running, source},
};

/// The next event; a hang fails the test instead of blocking it forever.
async fn next(follow: &mut LogFollow) -> Option<LogEvent> {
    tokio::time::timeout(Duration::from_secs(20), follow.next())
        .await
        .expect("the followed log yields or ends")
}

fn line(pod: &str, text: &str) -> LogEvent {
    LogEvent::Line(LogLine {
        pod: pod.to_owned(),
        container: "web".to_owned(),
        timestamp: None,
        text: text.to_owned(),
    })
}

fn web_pod(fake: &FakeApiServer, name: &str, logs: &str) {
    fake.add_pod(
        NS,
        name,
        json!({"app": "web", "enclii.dev/service": "web"}),
        running(),
    );
    fake.set_logs(NS, name, logs);
}

#[tokio::test]
async fn lines_written_later_arrive_from_every_pod_until_the_pods_are_gone() {
    let (fake, cluster) = cluster().await;
    web_pod(&fake, "web-a", "a1\na2\na3\n");
    web_pod(&fake, "web-b", "b1\n");
    let mut follow = cluster
        .follow_logs(&source("web", None), lines(2))
        .await
        .unwrap();
    assert_eq!(follow.pods(), ["web-a", "web-b"]);
    let mut first = vec![
        next(&mut follow).await.unwrap(),
        next(&mut follow).await.unwrap(),
        next(&mut follow).await.unwrap(),
    ];
    // Each pod's lines in order; the pods interleave as they come.
    first.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(
        first,
        [
            line("web-a", "a2"),
            line("web-a", "a3"),
            line("web-b", "b1")
        ]
    );

    fake.append_logs(NS, "web-b", "b2\n");
    assert_eq!(next(&mut follow).await, Some(line("web-b", "b2")));
    fake.append_logs(NS, "web-a", "a4\na5\n");
    assert_eq!(next(&mut follow).await, Some(line("web-a", "a4")));
    assert_eq!(next(&mut follow).await, Some(line("web-a", "a5")));

    assert!(fake.delete("Pod", NS, "web-a"));
    fake.append_logs(NS, "web-b", "b3\n");
    assert_eq!(next(&mut follow).await, Some(line("web-b", "b3")));
    assert!(fake.delete("Pod", NS, "web-b"));
    assert_eq!(next(&mut follow).await, None, "every pod is gone");
}

#[tokio::test]
async fn timestamps_are_split_off_and_a_waiting_pod_says_why() {
    let (fake, cluster) = cluster().await;
    web_pod(&fake, "web-a", "hello\n");
    fake.add_pod(
        NS,
        "web-b",
        json!({"app": "web", "enclii.dev/service": "web"}),
        json!({"containerStatuses": [{"name": "web",
            "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}),
    );
    let options = LogOptions {
        lines: 10,
        timestamps: true,
    };
    let mut follow = cluster
        .follow_logs(&source("web", None), options)
        .await
        .unwrap();
    let mut events = vec![
        next(&mut follow).await.unwrap(),
        next(&mut follow).await.unwrap(),
    ];
    events.sort_by_key(|e| format!("{e:?}"));
    assert_eq!(
        events,
        [
            LogEvent::Line(LogLine {
                pod: "web-a".into(),
                container: "web".into(),
                timestamp: Some(LOG_TIMESTAMP.into()),
                text: "hello".into(),
            }),
            LogEvent::PodFailed {
                pod: "web-b".into(),
                message: "container \"web\" in pod \"web-b\" is waiting to start: ImagePullBackOff"
                    .into(),
            },
        ]
    );
    drop(fake);
    assert_eq!(next(&mut follow).await, None, "the API server stopped");
}

#[tokio::test]
async fn no_pods_is_an_empty_stream_and_other_deployments_are_not_followed() {
    let (fake, cluster) = cluster().await;
    web_pod(&fake, "web-a", "a1\n");
    let mut follow = cluster
        .follow_logs(&source("api", None), lines(10))
        .await
        .unwrap();
    assert!(follow.pods().is_empty());
    assert_eq!(next(&mut follow).await, None);
    let mut follow = cluster
        .follow_logs(&source("web", Some("d9")), lines(10))
        .await
        .unwrap();
    assert_eq!(next(&mut follow).await, None, "web-a is of no deployment");
}

#[tokio::test]
async fn an_outage_while_listing_pods_is_an_error() {
    let (fake, cluster) = cluster().await;
    fake.fail_next(1, 503);
    let error = cluster
        .follow_logs(&source("web", None), lines(10))
        .await
        .unwrap_err();
    assert!(error.is_retryable(), "{error}");
}

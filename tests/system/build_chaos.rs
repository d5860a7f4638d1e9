//! Builds against a local Roundhouse while things break: workers killed at random points across
//! 50 builds, and Redis stopped for 30 s while the API keeps accepting builds. Every build reaches
//! Roundhouse, none twice after its dedupe, and each release records the job it got.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::Duration,
};

use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::json;
use switchyard::local::{self, Lifetime};
use switchyard_core::BuildDispatch;
use switchyard_queue::Redis;
use switchyard_testkit::{TEST_ROUNDHOUSE_KEY, TestApp};
use switchyard_worker::{
    Worker, WorkerSettings,
    jobs::builds::{BuildsJob, Roundhouse},
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{
    builds::service,
    jobs_support::{crash_settings, eventually, quick_settings, redis},
    roundhouse::{Received, fake_roundhouse},
    support::{expect, get_ok},
};

struct Replica {
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), switchyard_domain::Error>>,
}

fn replica(app: &TestApp, redis: &Redis, roundhouse: &str, settings: WorkerSettings) -> Replica {
    let dispatch = BuildDispatch::new(app.db.pool.clone(), format!("http://{}", app.addr));
    let job = BuildsJob::new(
        dispatch,
        Some(Roundhouse {
            url: roundhouse.to_owned(),
            key: Some(SecretString::from(TEST_ROUNDHOUSE_KEY.to_owned())),
        }),
    )
    .unwrap();
    let worker = Worker::new(app.db.pool.clone(), redis.clone(), settings).with_job(Arc::new(job));
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(worker.run(shutdown.clone()));
    Replica { shutdown, task }
}

async fn build(app: &TestApp, bearer: &str, service: &str, n: usize) -> String {
    let release = expect(
        app,
        Method::POST,
        &format!("/v1/services/{service}/build"),
        bearer,
        Some(json!({"git_sha": format!("{n:040x}")})),
        StatusCode::CREATED,
    )
    .await;
    release["id"].as_str().unwrap().to_owned()
}

/// Release id → job id, for every release of the service that has one.
async fn job_ids(app: &TestApp, bearer: &str, service: &str) -> BTreeMap<String, String> {
    let list = get_ok(
        app,
        &format!("/v1/services/{service}/releases?limit=100"),
        bearer,
    )
    .await;
    list["releases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            Some((
                r["id"].as_str()?.to_owned(),
                r["job_id"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// Release id → the enqueue requests Roundhouse received for it.
fn requests_per_release(received: &Received) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (_, body) in received.lock().unwrap().iter() {
        *counts
            .entry(body["release_id"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_builds_reach_roundhouse_once_each_while_workers_are_killed() {
    let app = TestApp::spawn().await;
    let (bearer, id) = service(&app).await;
    let (url, received) = fake_roundhouse(Vec::new()).await;
    let redis = redis(switchyard_testkit::services().await.redis_url.clone());
    // Crashes count as attempts; do not let them dead-letter a build here.
    let mut settings = crash_settings();
    settings.consumer.max_attempts = 1_000;
    let mut replicas = [
        replica(&app, &redis, &url, settings.clone()),
        replica(&app, &redis, &url, settings.clone()),
    ];
    let mut rng = fastrand::Rng::with_seed(0x00b0_11d5);
    let mut releases = BTreeSet::new();
    let mut kills = 0;
    // Builds arrive while replicas are killed (aborted wherever they are, as kill -9 would) and
    // replaced; then the killing goes on until every build has its job or 40 kills.
    for n in 0..50 {
        releases.insert(build(&app, &bearer, &id, n + 1).await);
        if rng.bool() {
            let victim = rng.usize(0..replicas.len());
            let fresh = replica(&app, &redis, &url, settings.clone());
            let old = std::mem::replace(&mut replicas[victim], fresh);
            old.task.abort();
            let _ = old.task.await;
            kills += 1;
        }
    }
    while kills < 40 && job_ids(&app, &bearer, &id).await.len() < releases.len() {
        tokio::time::sleep(Duration::from_millis(rng.u64(0..150))).await;
        let victim = rng.usize(0..replicas.len());
        let fresh = replica(&app, &redis, &url, settings.clone());
        let old = std::mem::replace(&mut replicas[victim], fresh);
        old.task.abort();
        let _ = old.task.await;
        kills += 1;
    }
    eventually("every build has its Roundhouse job", || async {
        job_ids(&app, &bearer, &id).await.len() == releases.len()
    })
    .await;
    for replica in replicas {
        replica.shutdown.cancel();
        replica.task.await.unwrap().unwrap();
    }

    let requests = requests_per_release(&received);
    assert_eq!(
        requests.keys().cloned().collect::<BTreeSet<_>>(),
        releases,
        "every build reached Roundhouse, and nothing else did"
    );
    // After Roundhouse's dedupe each release is one job, and the release records that job.
    let jobs = job_ids(&app, &bearer, &id).await;
    let distinct: BTreeSet<_> = jobs.values().collect();
    assert_eq!(
        distinct.len(),
        releases.len(),
        "one job per build: {jobs:?}"
    );
    let repeats: usize = requests.values().map(|n| n - 1).sum();
    println!("50 builds, {kills} kills, {repeats} repeated enqueue requests (deduped)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builds_are_accepted_while_redis_is_down_and_enqueued_after() {
    let dir = tempfile::tempdir().unwrap();
    let port = local::free_port().unwrap();
    let server = local::redis::start(dir.path().join("redis"), port, Lifetime::Owned)
        .await
        .unwrap();
    let app = TestApp::builder()
        .redis_url(Some(server.url()))
        .spawn()
        .await;
    let (bearer, id) = service(&app).await;
    let (url, received) = fake_roundhouse(Vec::new()).await;
    let worker_redis = redis(server.url());
    let worker = replica(&app, &worker_redis, &url, quick_settings());

    let mut before = BTreeSet::new();
    for n in 0..3 {
        before.insert(build(&app, &bearer, &id, n + 1).await);
    }
    eventually("the first builds enqueued", || async {
        requests_per_release(&received).len() == before.len()
    })
    .await;

    // Redis is gone for 30 s; builds keep being accepted, one every 3 s.
    server.stop().await;
    let mut during = BTreeSet::new();
    for n in 0..10 {
        during.insert(build(&app, &bearer, &id, 100 + n).await);
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    let reached = requests_per_release(&received);
    assert!(
        during.iter().all(|r| !reached.contains_key(r)),
        "nothing can reach Roundhouse without the queue"
    );
    let releases = get_ok(&app, &format!("/v1/services/{id}/releases"), &bearer).await;
    for release in releases["releases"].as_array().unwrap() {
        if during.contains(release["id"].as_str().unwrap()) {
            assert_eq!(release["status"], "building", "waiting, not failed");
        }
    }

    let server = local::redis::start(dir.path().join("redis"), port, Lifetime::Owned)
        .await
        .unwrap();
    let all: BTreeSet<_> = before.union(&during).cloned().collect();
    eventually("every build enqueued after Redis returned", || async {
        job_ids(&app, &bearer, &id).await.len() == all.len()
    })
    .await;
    assert_eq!(
        requests_per_release(&received)
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>(),
        all
    );
    worker.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(30), worker.task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    server.stop().await;
}

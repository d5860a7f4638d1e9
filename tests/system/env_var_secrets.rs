//! Secrets at rest and in the audit log: no table holds a plaintext value after creating,
//! revealing and bulk-upserting secrets; ciphertext moved onto another row does not decrypt;
//! `secrets rotate-key` re-seals every value (also under a new key-encryption key); reveals are
//! audited with actor and reason and rate limited; the renderer's decrypted effective set.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};
use sqlx::Row as _;
use switchyard_core::{ControlPlane, rotate_envvar_key};
use switchyard_domain::{EnvironmentId, ServiceId};
use switchyard_testkit::{TEST_ENVVAR_KEY, TestApp, auth_settings, envvar_keys, test_auth_config};

use crate::env_var_support::{Shop, id};

const NEW_KEY: &str = "c2Vjb25kIHRlc3Qga2V5LWVuY3J5cHRpb24ga2V5ISE=";

/// Every text, bytea, json(b) and array value of every table, as bytes.
#[expect(
    clippy::disallowed_methods,
    reason = "the columns are only known at run time"
)]
async fn every_stored_value(app: &TestApp) -> Vec<(String, Vec<u8>)> {
    let mut conn = app.db.connect().await;
    let columns = sqlx::query(
        "select table_name::text, column_name::text, data_type::text
         from information_schema.columns
         where table_schema = 'public'
           and data_type in ('text', 'character varying', 'bytea', 'json', 'jsonb', 'ARRAY')",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut values = Vec::new();
    for column in columns {
        let (table, name, kind): (String, String, String) =
            (column.get(0), column.get(1), column.get(2));
        let value = if kind == "bytea" {
            format!(r#""{name}""#)
        } else {
            format!(r#"convert_to("{name}"::text, 'UTF8')"#)
        };
        // The names come from information_schema: our own tables and columns.
        let select = format!(r#"select {value} from "{table}" where "{name}" is not null"#);
        let select = sqlx::AssertSqlSafe(select);
        for row in sqlx::query(select).fetch_all(&mut conn).await.unwrap() {
            values.push((format!("{table}.{name}"), row.get::<Vec<u8>, _>(0)));
        }
    }
    values
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn no_table_holds_a_secret_in_plaintext() {
    let shop = Shop::spawn().await;
    let secrets = [
        "hunter2-püñçtüated-Ω",
        "sk_live_4f1c2a9e77",
        "postgres://u:Pa55w0rd!@db/x",
        "plain-but-sealed-88",
    ];
    let var = shop
        .create(json!({"key": "DB_PASSWORD", "value": secrets[0], "is_secret": true}))
        .await;
    shop.create(json!({"key": "LOG_TAG", "value": secrets[3]}))
        .await;
    let bulk = json!({"environment_id": shop.staging, "variables": [
        {"key": "STRIPE_KEY", "value": secrets[1], "is_secret": true},
        {"key": "DATABASE_URL", "value": secrets[2], "is_secret": true},
    ]});
    shop.bulk(bulk.clone()).await;
    shop.bulk(bulk).await;
    assert_eq!(shop.reveal(&var).await["value"], secrets[0]);
    let body = json!({"value": format!("{}-v2", secrets[0])});
    let path = shop.vars(&format!("/{}", id(&var)));
    shop.expect(Method::PUT, &path, Some(body), StatusCode::OK)
        .await;

    let stored = every_stored_value(&shop.app).await;
    let tables: std::collections::BTreeSet<&str> = stored
        .iter()
        .map(|(column, _)| column.split('.').next().unwrap())
        .collect();
    for table in ["env_vars", "env_var_keys", "audit_log"] {
        assert!(tables.contains(table), "{table} was scanned: {tables:?}");
    }
    for secret in secrets {
        let encodings = [
            secret.as_bytes().to_vec(),
            STANDARD.encode(secret).into_bytes(),
            hex::encode(secret).into_bytes(),
        ];
        for (column, value) in &stored {
            for encoding in &encodings {
                assert!(!contains(value, encoding), "{secret:?} found in {column}");
            }
        }
    }
    let kek = STANDARD.decode(TEST_ENVVAR_KEY).unwrap();
    assert!(
        stored.iter().all(|(_, v)| !contains(v, &kek)),
        "the key-encryption key is not stored"
    );
}

fn control_plane(app: &TestApp, current: &str, previous: Option<&str>) -> ControlPlane {
    let auth = auth_settings(&test_auth_config());
    ControlPlane::new(app.db.pool.clone(), None, auth)
        .with_envvar_keys(envvar_keys(current, previous))
}

/// `(key, value, is_secret)` of the set the renderer gets for `api` in `environment`.
async fn rendered(
    cp: &ControlPlane,
    shop: &Shop,
    environment: &str,
) -> Vec<(String, String, bool)> {
    let service = ServiceId::from_uuid(shop.api.parse().unwrap());
    let environment = EnvironmentId::from_uuid(environment.parse().unwrap());
    let vars = cp.effective_env(service, environment).await.unwrap();
    vars.into_iter()
        .map(|v| (v.key, v.value.expose_secret().to_owned(), v.is_secret))
        .collect()
}

#[tokio::test]
#[expect(
    clippy::disallowed_methods,
    reason = "test SQL that tampers with a row on purpose"
)]
async fn ciphertext_moved_onto_another_row_does_not_decrypt() {
    let shop = Shop::spawn().await;
    // Same service, same key: only the row id tells them apart.
    let global = shop
        .create(json!({"key": "DB_PASSWORD", "value": "global-pw", "is_secret": true}))
        .await;
    let staging = json!({"key": "DB_PASSWORD", "value": "staging-pw", "is_secret": true,
                         "environment_id": shop.staging});
    let staging = shop.create(staging).await;
    let mut conn = shop.app.db.connect().await;
    sqlx::query(
        "update env_vars
         set nonce = src.nonce, ciphertext = src.ciphertext, key_version = src.key_version
         from (select nonce, ciphertext, key_version from env_vars where id = $1) src
         where env_vars.id = $2",
    )
    .bind(uuid::Uuid::parse_str(id(&global)).unwrap())
    .bind(uuid::Uuid::parse_str(id(&staging)).unwrap())
    .execute(&mut conn)
    .await
    .unwrap();
    let path = shop.vars(&format!("/{}/reveal", id(&staging)));
    let (status, body) = shop.call(Method::POST, &path, None, None).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert!(!body.to_string().contains("global-pw"), "{body}");
    assert_eq!(
        shop.reveal(&global).await["value"],
        "global-pw",
        "the source is intact"
    );
    let cp = control_plane(&shop.app, TEST_ENVVAR_KEY, None);
    let service = ServiceId::from_uuid(shop.api.parse().unwrap());
    let environment = EnvironmentId::from_uuid(shop.staging.parse().unwrap());
    assert!(
        cp.effective_env(service, environment).await.is_err(),
        "the renderer refuses too"
    );
}

#[expect(
    clippy::disallowed_methods,
    reason = "test SQL reading the key versions"
)]
async fn key_versions(app: &TestApp) -> (Vec<i32>, Vec<i32>) {
    let mut conn = app.db.connect().await;
    let rows = sqlx::query_scalar("select key_version from env_vars order by id")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    let keys = sqlx::query_scalar("select version from env_var_keys order by version")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    (rows, keys)
}

#[tokio::test]
async fn rotation_reseals_every_value_and_survives_a_new_key_encryption_key() {
    let shop = Shop::spawn().await;
    let mut vars = Vec::new();
    for (i, env) in [None, Some(&shop.staging), Some(&shop.production)]
        .into_iter()
        .enumerate()
    {
        let value = format!("value-{i}");
        let body =
            json!({"key": "SECRET", "value": value, "is_secret": true, "environment_id": env});
        vars.push(shop.create(body).await);
    }
    assert_eq!(key_versions(&shop.app).await, (vec![1, 1, 1], vec![1]));

    // A new data key under the same key-encryption key, two rows per transaction.
    let pool = &shop.app.db.pool;
    let keys = envvar_keys(TEST_ENVVAR_KEY, None);
    let rotation = rotate_envvar_key(pool, &keys, 2, false).await.unwrap();
    assert_eq!(
        (rotation.version, rotation.resealed, rotation.removed_keys),
        (2, 3, 1)
    );
    assert_eq!(key_versions(&shop.app).await, (vec![2, 2, 2], vec![2]));
    for (i, var) in vars.iter().enumerate() {
        assert_eq!(shop.reveal(var).await["value"], format!("value-{i}"));
    }
    let again = rotate_envvar_key(pool, &keys, 2, true).await.unwrap();
    assert_eq!(
        (again.version, again.resealed),
        (2, 0),
        "resuming a finished rotation"
    );

    // A new key-encryption key with the old one as previous: values still open; the rotation
    // (resuming finds no data key under the new key, so it makes one) re-seals them all.
    let both = control_plane(&shop.app, NEW_KEY, Some(TEST_ENVVAR_KEY));
    assert_eq!(rendered(&both, &shop, &shop.staging).await.len(), 1);
    let keys = envvar_keys(NEW_KEY, Some(TEST_ENVVAR_KEY));
    let rotation = rotate_envvar_key(pool, &keys, 100, true).await.unwrap();
    assert_eq!(
        (rotation.version, rotation.resealed, rotation.removed_keys),
        (3, 3, 1)
    );
    assert_ne!(rotation.kek_id, again.kek_id);

    // Only the new key is needed now; the app still holding the old one says what to set.
    let new_only = control_plane(&shop.app, NEW_KEY, None);
    let staging = rendered(&new_only, &shop, &shop.staging).await;
    assert_eq!(staging, [("SECRET".to_owned(), "value-1".to_owned(), true)]);
    let path = shop.vars(&format!("/{}/reveal", id(&vars[0])));
    let (status, body) = shop.call(Method::POST, &path, None, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let message = body["error"].as_str().unwrap();
    assert!(
        message.contains("ENCLII_ENVVAR_ENCRYPTION_KEY_PREVIOUS"),
        "{body}"
    );
}

#[tokio::test]
async fn the_renderer_gets_the_effective_set_decrypted() {
    let shop = Shop::spawn().await;
    shop.create(json!({"key": "REGION", "value": "eu"})).await;
    shop.create(json!({"key": "API_KEY", "value": "global-key", "is_secret": true}))
        .await;
    let body = json!({"key": "API_KEY", "value": "staging-key", "is_secret": true,
                      "environment_id": shop.staging});
    shop.create(body).await;
    shop.create_in(&shop.worker, json!({"key": "OTHER", "value": "x"}))
        .await;
    let cp = control_plane(&shop.app, TEST_ENVVAR_KEY, None);
    let row = |k: &str, v: &str, secret| (k.to_owned(), v.to_owned(), secret);
    assert_eq!(
        rendered(&cp, &shop, &shop.staging).await,
        [
            row("API_KEY", "staging-key", true),
            row("REGION", "eu", false)
        ]
    );
    assert_eq!(
        rendered(&cp, &shop, &shop.production).await,
        [
            row("API_KEY", "global-key", true),
            row("REGION", "eu", false)
        ]
    );
}

#[tokio::test]
async fn reveals_are_audited_with_actor_and_reason_and_rate_limited() {
    let shop = Shop::spawn().await;
    let var = shop
        .create(json!({"key": "TOKEN", "value": "t0ps3cret", "is_secret": true}))
        .await;
    shop.reveal(&var).await;
    let activity = |action: &str| format!("/v1/activity?action={action}&limit=200");
    let audit = shop.get(&activity("env_var.reveal")).await;
    let row = &audit["activities"][0];
    assert_eq!(row["actor_email"], "owner@example.com");
    assert_eq!(
        (row["resource_type"].clone(), row["resource_name"].clone()),
        (json!("env_var"), json!("TOKEN"))
    );
    assert_eq!(row["resource_id"], var["id"]);
    assert_eq!(row["metadata"]["reason"], "checking the value");
    assert!(row["request_id"].is_string() && row["ip_address"].is_string());
    let created = shop.get(&activity("env_var.create")).await;
    let changes = &created["activities"][0]["context"];
    assert_eq!(
        (changes["is_secret"].clone(), changes["value"].clone()),
        (json!(true), json!("[redacted]"))
    );
    for body in [&audit, &created] {
        assert!(!body.to_string().contains("t0ps3cret"));
    }

    let path = shop.vars(&format!("/{}/reveal", id(&var)));
    for _ in 1..30 {
        shop.expect(Method::POST, &path, None, StatusCode::OK).await;
    }
    let response = shop
        .app
        .client
        .post(shop.app.url(&path))
        .bearer_auth(&shop.owner);
    let response = response.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.unwrap();
    assert!(!body.to_string().contains("t0ps3cret"));
    let reveals = shop.get(&activity("env_var.reveal")).await["activities"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(reveals, 30, "a refused reveal reveals nothing");
}

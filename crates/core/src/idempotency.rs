//! Idempotency keys (DESIGN.md §6): claim a key for a request, then keep its response, withhold it
//! (a secret was in it), or release the key (the request failed). Knows nothing of HTTP: the
//! caller hashes the request and decides what a response is.

use std::time::Duration;

use serde_json::Value;
use switchyard_db::repo::idempotency_keys::{self, Completion, IdempotencyKeyRow, KeyRef};
use switchyard_domain::Error;

use crate::{ControlPlane, auth::db_unavailable};

/// How long a completed key answers with its first response. Afterwards the key is free again.
pub const IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// At most this many expired rows are deleted each time a key is claimed.
const CLEANUP_BATCH: i64 = 100;

/// One request under an `Idempotency-Key`.
#[derive(Debug, Clone)]
pub struct IdempotentRequest {
    /// Hex SHA-256 of the caller's credential: keys of different callers never meet.
    pub scope: String,
    /// The `Idempotency-Key` value, already validated.
    pub key: String,
    pub method: String,
    pub path: String,
    /// Hex SHA-256 of method, path and body.
    pub request_hash: String,
}

impl IdempotentRequest {
    fn key_ref(&self) -> KeyRef<'_> {
        KeyRef {
            scope: &self.scope,
            key: &self.key,
            request_hash: &self.request_hash,
        }
    }
}

/// A kept response: status, the few headers worth replaying, and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptResponse {
    pub status: u16,
    /// Lower-case header names and their values.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What to do with a request after its key was looked at.
#[derive(Debug)]
pub enum Claim {
    /// The key is this request's now: run it, then `idempotency_complete` or `_release`.
    Run,
    /// The same request already succeeded: answer this instead of running it again.
    Replay(KeptResponse),
}

/// How a claimed request ended, from the caller's point of view.
#[derive(Debug)]
pub enum Outcome {
    /// Keep this response for replays.
    Keep(KeptResponse),
    /// It succeeded with `status`, but the response carried a secret that must not be at rest.
    Withhold { status: u16 },
    /// It failed or was refused: free the key so the client can retry.
    Release,
}

const IN_PROGRESS: &str =
    "a request with this Idempotency-Key is in progress; retry when it has finished";
const WITHHELD: &str = "the request with this Idempotency-Key succeeded, but its response \
                        contained a secret that is not kept and cannot be shown again";

impl ControlPlane {
    /// Claims `request.key` for this request, or says how to answer instead. `lease` bounds how
    /// long a `pending` claim blocks the key if its request never finishes (a crash).
    ///
    /// Errors: `IdempotencyKeyReused` when the key belongs to a different request, `Conflict`
    /// while it is in progress or when its response was withheld, `Unavailable` without a
    /// database (fail closed: never run without the guarantee).
    #[tracing::instrument(skip_all, fields(idempotency.key = %request.key))]
    pub async fn idempotency_claim(
        &self,
        request: &IdempotentRequest,
        lease: Duration,
    ) -> Result<Claim, Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        // A row that disappears between the two statements (its request failed) is claimed on
        // the second round.
        for _ in 0..2 {
            let claimed = idempotency_keys::claim(
                &mut conn,
                request.key_ref(),
                &request.method,
                &request.path,
                lease.as_secs_f64(),
            )
            .await?;
            if claimed {
                if let Err(e) = idempotency_keys::delete_expired(&mut conn, CLEANUP_BATCH).await {
                    tracing::warn!(
                        error = &e as &dyn std::error::Error,
                        "could not delete expired idempotency keys"
                    );
                }
                return Ok(Claim::Run);
            }
            if let Some(row) =
                idempotency_keys::find(&mut conn, &request.scope, &request.key).await?
            {
                return answer(request, row);
            }
        }
        Err(Error::Conflict {
            message: IN_PROGRESS.to_owned(),
        })
    }

    /// Records how the claimed `request` ended.
    #[tracing::instrument(skip_all, fields(idempotency.key = %request.key))]
    pub async fn idempotency_complete(
        &self,
        request: &IdempotentRequest,
        outcome: Outcome,
    ) -> Result<(), Error> {
        let mut conn = self.pool().acquire().await.map_err(db_unavailable)?;
        let key = request.key_ref();
        let ttl_secs = IDEMPOTENCY_TTL.as_secs_f64();
        let held = match outcome {
            Outcome::Release => idempotency_keys::release(&mut conn, key).await?,
            Outcome::Withhold { status } => {
                let completion = Completion {
                    response_status: status_column(status)?,
                    response: None,
                    ttl_secs,
                };
                idempotency_keys::complete(&mut conn, key, &completion).await?
            }
            Outcome::Keep(response) => {
                let headers: serde_json::Map<String, Value> = response
                    .headers
                    .into_iter()
                    .map(|(name, value)| (name, Value::String(value)))
                    .collect();
                let headers = Value::Object(headers);
                let completion = Completion {
                    response_status: status_column(response.status)?,
                    response: Some((&headers, &response.body)),
                    ttl_secs,
                };
                idempotency_keys::complete(&mut conn, key, &completion).await?
            }
        };
        if !held {
            tracing::warn!(
                idempotency.key = %request.key,
                "idempotency key {} was no longer held by its request (its lease ran out)",
                request.key
            );
        }
        Ok(())
    }
}

fn status_column(status: u16) -> Result<i16, Error> {
    i16::try_from(status).map_err(|e| Error::internal("storing a response status", e))
}

/// The answer for a request whose key is held by `row`.
fn answer(request: &IdempotentRequest, row: IdempotencyKeyRow) -> Result<Claim, Error> {
    if row.request_hash != request.request_hash {
        return Err(Error::IdempotencyKeyReused);
    }
    match (row.status.as_str(), row.response_status) {
        ("done", Some(status)) => Ok(Claim::Replay(KeptResponse {
            status: u16::try_from(status)
                .map_err(|e| Error::internal("reading a kept response status", e))?,
            headers: headers_of(&row.response_headers),
            body: row.response_body.unwrap_or_default(),
        })),
        ("withheld", _) => Err(Error::Conflict {
            message: WITHHELD.to_owned(),
        }),
        _ => Err(Error::Conflict {
            message: IN_PROGRESS.to_owned(),
        }),
    }
}

fn headers_of(value: &Value) -> Vec<(String, String)> {
    value
        .as_object()
        .map(|map| {
            map.iter()
                .filter_map(|(name, value)| Some((name.clone(), value.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(hash: &str) -> IdempotentRequest {
        IdempotentRequest {
            scope: "s".repeat(64),
            key: "k".into(),
            method: "POST".into(),
            path: "/v1/projects".into(),
            request_hash: hash.into(),
        }
    }

    fn row(hash: &str, status: &str, response_status: Option<i16>) -> IdempotencyKeyRow {
        IdempotencyKeyRow {
            method: "POST".into(),
            path: "/v1/projects".into(),
            request_hash: hash.into(),
            status: status.into(),
            response_status,
            response_headers: serde_json::json!({"content-type": "application/json"}),
            response_body: (status == "done").then(|| b"{}".to_vec()),
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            expires_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_different_request_under_the_key_is_refused_whatever_its_state() {
        for status in ["pending", "done", "withheld"] {
            let held = row("a", status, (status != "pending").then_some(201));
            let answer = answer(&request("b"), held);
            assert!(
                matches!(answer, Err(Error::IdempotencyKeyReused)),
                "{status}: {answer:?}"
            );
        }
    }

    #[test]
    fn the_same_request_is_replayed_refused_while_pending_or_told_it_was_withheld() {
        let replay = answer(&request("a"), row("a", "done", Some(201))).unwrap();
        let Claim::Replay(kept) = replay else {
            panic!("expected a replay, got {replay:?}")
        };
        assert_eq!(kept.status, 201);
        assert_eq!(kept.body, b"{}");
        assert_eq!(
            kept.headers,
            [("content-type".to_owned(), "application/json".to_owned())]
        );
        let pending = answer(&request("a"), row("a", "pending", None));
        assert!(
            matches!(&pending, Err(Error::Conflict { message }) if message.contains("in progress")),
            "{pending:?}"
        );
        let withheld = answer(&request("a"), row("a", "withheld", Some(201)));
        assert!(
            matches!(&withheld, Err(Error::Conflict { message }) if message.contains("secret")),
            "{withheld:?}"
        );
    }
}

//! The `outbox` table: events written in the transaction of the change that causes them.

use serde_json::Value;
use sqlx::PgConnection;
use switchyard_domain::Error;
use uuid::Uuid;

use super::translate;

pub struct NewEvent<'a> {
    pub topic: &'a str,
    pub aggregate_id: &'a str,
    pub payload: &'a Value,
}

/// Appends an event; returns its id (the dedupe key consumers see).
pub async fn insert(conn: &mut PgConnection, event: &NewEvent<'_>) -> Result<Uuid, Error> {
    let id = Uuid::now_v7();
    sqlx::query!(
        "insert into outbox (id, topic, aggregate_id, payload) values ($1, $2, $3, $4)",
        id,
        event.topic,
        event.aggregate_id,
        event.payload,
    )
    .execute(conn)
    .await
    .map_err(translate("writing an outbox event", &[]))?;
    Ok(id)
}

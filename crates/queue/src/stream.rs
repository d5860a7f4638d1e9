//! Redis Streams primitives for the durable jobs: one stream per topic (`<prefix><topic>`, so
//! `enclii:builds` in production), a consumer group per stream, a retry sorted set
//! (`<stream>:retry`, scored by the due time in milliseconds) and a dead-letter stream
//! (`<stream>:dead`). Each entry carries the fields `id` (the outbox id, the dedupe key), `topic`,
//! `payload` (JSON), `attempt` (1-based) and `trace` (W3C trace context as JSON).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::Value;
use serde_json::json;
use switchyard_domain::Error;
use uuid::Uuid;

use crate::{Message, Redis};

/// The keys of one topic.
#[derive(Debug, Clone)]
pub struct StreamKeys {
    pub stream: String,
    pub retry: String,
    pub dead: String,
}

/// What waits in one topic for a consumer group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamBacklog {
    /// Delivered to a consumer, not yet acknowledged.
    pub pending: u64,
    /// In the stream, not yet delivered to the group (Redis' `lag`).
    pub undelivered: u64,
    /// Failed attempts waiting for their next try.
    pub retries: u64,
}

/// An event the relay publishes: one outbox row.
#[derive(Debug)]
pub struct Outgoing<'a> {
    pub outbox_id: Uuid,
    pub topic: &'a str,
    pub payload: &'a serde_json::Value,
    pub trace_context: &'a serde_json::Value,
}

/// One stream entry as read: its stream id and field/value pairs.
#[derive(Debug, Clone)]
pub(crate) struct RawEntry {
    pub(crate) id: String,
    pub(crate) fields: Vec<(String, String)>,
}

/// Moves due retries back onto the stream, oldest first, in one step (a crash cannot lose or
/// duplicate them). Members are JSON arrays of the entry's field/value pairs.
const PROMOTE: &str = r"
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, member in ipairs(due) do
  local fields = cjson.decode(member)
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', unpack(fields))
  redis.call('ZREM', KEYS[1], member)
end
return #due
";

/// Schedules a retry and acknowledges the failed delivery in one step.
const RETRY: &str = r"
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
return redis.call('XACK', KEYS[2], ARGV[3], ARGV[4])
";

/// Appends to the dead-letter stream and acknowledges the delivery in one step.
const BURY: &str = r"
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', unpack(cjson.decode(ARGV[4])))
return redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
";

/// `EVAL script 2 first second`, for the caller to add the script's arguments.
fn eval(script: &str, first: &str, second: &str) -> redis::Cmd {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(script).arg(2).arg(first).arg(second);
    cmd
}

pub(crate) fn unavailable(e: redis::RedisError) -> Error {
    Error::unavailable("job queue (redis) unavailable", e)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The fields of an entry for `message` at `attempt`, as a flat list.
fn fields(message: &Message, attempt: u32) -> Vec<String> {
    vec![
        "id".into(),
        message.outbox_id.to_string(),
        "topic".into(),
        message.topic.clone(),
        "payload".into(),
        message.payload.to_string(),
        "attempt".into(),
        attempt.to_string(),
        "trace".into(),
        message.trace_context.to_string(),
    ]
}

impl Redis {
    /// The keys of `topic`.
    pub fn stream_keys(&self, topic: &str) -> StreamKeys {
        let stream = self.key(topic);
        StreamKeys {
            retry: format!("{stream}:retry"),
            dead: format!("{stream}:dead"),
            stream,
        }
    }

    /// `XADD <stream> MAXLEN ~ max_len * id … topic … payload … attempt 1 trace …`.
    pub async fn publish(&self, event: &Outgoing<'_>, max_len: usize) -> Result<(), Error> {
        let mut conn = self.manager();
        redis::cmd("XADD")
            .arg(self.key(event.topic))
            .arg("MAXLEN")
            .arg("~")
            .arg(max_len)
            .arg("*")
            .arg("id")
            .arg(event.outbox_id.to_string())
            .arg("topic")
            .arg(event.topic)
            .arg("payload")
            .arg(event.payload.to_string())
            .arg("attempt")
            .arg(1)
            .arg("trace")
            .arg(event.trace_context.to_string())
            .query_async::<String>(&mut conn)
            .await
            .map(drop)
            .map_err(unavailable)
    }

    /// Creates the consumer group `group` on the topic's stream (and the stream), reading from
    /// its beginning; an existing group is left as it is.
    pub async fn ensure_group(&self, keys: &StreamKeys, group: &str) -> Result<(), Error> {
        let mut conn = self.manager();
        let created = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&keys.stream)
            .arg(group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async::<()>(&mut conn)
            .await;
        match created {
            Err(e) if e.code() != Some("BUSYGROUP") => Err(unavailable(e)),
            _ => Ok(()),
        }
    }

    /// `XREADGROUP … COUNT count BLOCK block STREAMS <stream> >`: new entries for `consumer`.
    /// Blocks its connection, so call it on a [`Redis::dedicated`] one.
    pub(crate) async fn read_new(
        &self,
        keys: &StreamKeys,
        group: &str,
        consumer: &str,
        count: usize,
        block: Duration,
    ) -> Result<Vec<RawEntry>, Error> {
        let mut conn = self.manager();
        let reply: Value = redis::cmd("XREADGROUP")
            .arg("GROUP")
            .arg(group)
            .arg(consumer)
            .arg("COUNT")
            .arg(count)
            .arg("BLOCK")
            .arg(u64::try_from(block.as_millis()).unwrap_or(u64::MAX))
            .arg("STREAMS")
            .arg(&keys.stream)
            .arg(">")
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(read_reply(&reply))
    }

    /// `XAUTOCLAIM`: takes over up to `count` entries that other consumers (crashed, or this one
    /// before a restart) left unacknowledged for longer than `min_idle`. Entries deleted by
    /// trimming meanwhile are dropped from the group by Redis itself.
    pub(crate) async fn claim_idle(
        &self,
        keys: &StreamKeys,
        group: &str,
        consumer: &str,
        min_idle: Duration,
        count: usize,
    ) -> Result<Vec<RawEntry>, Error> {
        let mut conn = self.manager();
        let reply: Value = redis::cmd("XAUTOCLAIM")
            .arg(&keys.stream)
            .arg(group)
            .arg(consumer)
            .arg(u64::try_from(min_idle.as_millis()).unwrap_or(u64::MAX))
            .arg("0-0")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let entries = match &reply {
            Value::Array(parts) => parts.get(1).map(entries).unwrap_or_default(),
            _ => Vec::new(),
        };
        Ok(entries)
    }

    /// How many times the group delivered entry `id` (1 for a first delivery).
    pub(crate) async fn deliveries(
        &self,
        keys: &StreamKeys,
        group: &str,
        id: &str,
    ) -> Result<u32, Error> {
        let mut conn = self.manager();
        let reply: Value = redis::cmd("XPENDING")
            .arg(&keys.stream)
            .arg(group)
            .arg(id)
            .arg(id)
            .arg(1)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let count = match &reply {
            Value::Array(rows) => match rows.first() {
                Some(Value::Array(row)) => row.get(3).and_then(integer),
                _ => None,
            },
            _ => None,
        };
        Ok(count.and_then(|n| u32::try_from(n).ok()).unwrap_or(1))
    }

    /// `XACK`: the delivery is done.
    pub(crate) async fn ack(&self, keys: &StreamKeys, group: &str, id: &str) -> Result<(), Error> {
        let mut conn = self.manager();
        redis::cmd("XACK")
            .arg(&keys.stream)
            .arg(group)
            .arg(id)
            .query_async::<i64>(&mut conn)
            .await
            .map(drop)
            .map_err(unavailable)
    }

    /// Acknowledges delivery `id` and schedules `message` again as attempt `attempt` after
    /// `delay`.
    pub(crate) async fn retry_later(
        &self,
        keys: &StreamKeys,
        group: &str,
        id: &str,
        message: &Message,
        attempt: u32,
        delay: Duration,
    ) -> Result<(), Error> {
        let due = now_ms().saturating_add(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX));
        let member = serde_json::to_string(&fields(message, attempt))
            .map_err(|e| Error::internal("encoding a retry", e))?;
        let mut conn = self.manager();
        eval(RETRY, &keys.retry, &keys.stream)
            .arg(due)
            .arg(member)
            .arg(group)
            .arg(id)
            .query_async::<i64>(&mut conn)
            .await
            .map(drop)
            .map_err(unavailable)
    }

    /// Moves up to `limit` retries that are due onto the stream; returns how many moved.
    pub(crate) async fn promote_due(
        &self,
        keys: &StreamKeys,
        limit: usize,
        max_len: usize,
    ) -> Result<u64, Error> {
        let mut conn = self.manager();
        eval(PROMOTE, &keys.retry, &keys.stream)
            .arg(now_ms())
            .arg(limit)
            .arg(max_len)
            .query_async::<u64>(&mut conn)
            .await
            .map_err(unavailable)
    }

    /// Appends `message` with `reason` to the dead-letter stream and acknowledges delivery `id`.
    pub(crate) async fn bury(
        &self,
        keys: &StreamKeys,
        group: &str,
        id: &str,
        message: &Message,
        reason: &str,
        max_len: usize,
    ) -> Result<(), Error> {
        let mut entry = fields(message, message.attempt);
        entry.extend(["reason".to_owned(), reason.to_owned()]);
        let entry = json!(entry).to_string();
        let mut conn = self.manager();
        eval(BURY, &keys.dead, &keys.stream)
            .arg(group)
            .arg(id)
            .arg(max_len)
            .arg(entry)
            .query_async::<i64>(&mut conn)
            .await
            .map(drop)
            .map_err(unavailable)
    }

    /// What is waiting in the topic for `group`: delivered but unacknowledged entries, entries
    /// not yet delivered, and scheduled retries. Zero for a topic nobody published to yet.
    pub async fn backlog(&self, keys: &StreamKeys, group: &str) -> Result<StreamBacklog, Error> {
        let mut conn = self.manager();
        let groups: Value = redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(&keys.stream)
            .query_async(&mut conn)
            .await
            .or_else(|e| match e.detail() {
                // No stream yet: nothing waits.
                Some(detail) if detail.contains("no such key") => Ok(Value::Nil),
                _ => Err(unavailable(e)),
            })?;
        let retries: i64 = redis::cmd("ZCARD")
            .arg(&keys.retry)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let mut backlog = StreamBacklog {
            retries: u64::try_from(retries).unwrap_or(0),
            ..StreamBacklog::default()
        };
        let rows = match &groups {
            Value::Array(rows) => rows.as_slice(),
            _ => &[],
        };
        for row in rows {
            let pairs: Vec<(String, &Value)> = match row {
                Value::Array(flat) => flat
                    .chunks_exact(2)
                    .filter_map(|p| Some((text(&p[0])?, &p[1])))
                    .collect(),
                Value::Map(map) => map
                    .iter()
                    .filter_map(|(k, v)| Some((text(k)?, v)))
                    .collect(),
                _ => Vec::new(),
            };
            let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
            if get("name").and_then(text).as_deref() != Some(group) {
                continue;
            }
            let count = |name: &str| {
                get(name)
                    .and_then(integer)
                    .and_then(|n| u64::try_from(n).ok())
            };
            backlog.pending = count("pending").unwrap_or(0);
            backlog.undelivered = count("lag").unwrap_or(0);
        }
        Ok(backlog)
    }

    /// The newest `count` dead letters of a topic, newest first: each entry's fields (`id`,
    /// `topic`, `payload`, `attempt`, `trace`, `reason`).
    pub async fn dead_letters(
        &self,
        keys: &StreamKeys,
        count: usize,
    ) -> Result<Vec<Vec<(String, String)>>, Error> {
        let mut conn = self.manager();
        let reply: Value = redis::cmd("XREVRANGE")
            .arg(&keys.dead)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(count)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        Ok(entries(&reply).into_iter().map(|e| e.fields).collect())
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Int(i) => Some(*i),
        other => text(other)?.parse().ok(),
    }
}

/// The entries of an `XREADGROUP` reply (RESP2 array or RESP3 map of streams).
fn read_reply(reply: &Value) -> Vec<RawEntry> {
    match reply {
        Value::Array(streams) => streams
            .iter()
            .filter_map(|s| match s {
                Value::Array(parts) => parts.get(1),
                _ => None,
            })
            .flat_map(entries)
            .collect(),
        Value::Map(streams) => streams.iter().flat_map(|(_, v)| entries(v)).collect(),
        _ => Vec::new(),
    }
}

/// `[[id, [field, value, …]], …]`; an entry whose data is gone has no fields.
fn entries(value: &Value) -> Vec<RawEntry> {
    let Value::Array(items) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let Value::Array(parts) = item else {
                return None;
            };
            let id = text(parts.first()?)?;
            let flat: Vec<String> = match parts.get(1) {
                Some(Value::Array(values)) => values.iter().filter_map(text).collect(),
                Some(Value::Map(pairs)) => pairs
                    .iter()
                    .flat_map(|(k, v)| [text(k), text(v)])
                    .flatten()
                    .collect(),
                _ => Vec::new(),
            };
            let fields = flat
                .chunks_exact(2)
                .map(|pair| (pair[0].clone(), pair[1].clone()))
                .collect();
            Some(RawEntry { id, fields })
        })
        .collect()
}

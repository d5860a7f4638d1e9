//! The one audit writer: every mutation records who did what to which resource, from where, in
//! the transaction of the change. Field changes pass through `Changes`, which redacts secrets by
//! construction (`secret`) and by name (any field that looks like a password, token or key), so
//! no value of a secret can reach a row.

use serde::Serialize;
use serde_json::{Map, Value, json};
use switchyard_db::PgConnection;
use switchyard_db::repo::audit;
use switchyard_domain::{AuditId, EnvironmentId, Error, ProjectId};

use crate::Principal;

/// What is written in place of a secret value.
pub const REDACTED: &str = "[redacted]";

/// Field names whose values are never recorded, whatever the caller passes.
const SENSITIVE: [&str; 7] = [
    "password",
    "secret",
    "token",
    "key",
    "credential",
    "private",
    "value",
];

fn is_sensitive(field: &str) -> bool {
    let field = field.to_ascii_lowercase();
    SENSITIVE.iter().any(|s| field.contains(s))
}

/// Field changes of one mutation: `{field: {from, to}}` or `{field: value}` for creations.
#[derive(Debug, Default)]
pub(crate) struct Changes(Map<String, Value>);

impl Changes {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A plain field's value (redacted anyway when its name looks sensitive).
    pub(crate) fn set(mut self, field: &str, value: impl Serialize) -> Self {
        let value = if is_sensitive(field) {
            Value::from(REDACTED)
        } else {
            serde_json::to_value(value).unwrap_or(Value::Null)
        };
        self.0.insert(field.to_owned(), value);
        self
    }

    /// A field that changed from `from` to `to`; recorded only when they differ.
    pub(crate) fn diff<T: Serialize + PartialEq>(self, field: &str, from: &T, to: &T) -> Self {
        if from == to {
            return self;
        }
        if is_sensitive(field) {
            return self.secret(field);
        }
        self.set(field, json!({ "from": from, "to": to }))
    }

    /// A yes/no field (recorded whatever its name: a `bool` cannot carry a secret); `from` is
    /// `None` for a creation, and an unchanged flag is left out.
    pub(crate) fn flag(mut self, field: &str, from: Option<bool>, to: bool) -> Self {
        match from {
            None => {
                self.0.insert(field.to_owned(), Value::from(to));
            }
            Some(from) if from != to => {
                self.0
                    .insert(field.to_owned(), json!({ "from": from, "to": to }));
            }
            Some(_) => {}
        }
        self
    }

    /// A secret field: the row says it changed, never to what.
    pub(crate) fn secret(mut self, field: &str) -> Self {
        self.0.insert(field.to_owned(), Value::from(REDACTED));
        self
    }
}

/// One audit row about to be written.
pub(crate) struct Entry<'a> {
    pub(crate) action: &'static str,
    pub(crate) resource_type: &'static str,
    pub(crate) resource_id: String,
    pub(crate) resource_name: &'a str,
    pub(crate) project_id: Option<ProjectId>,
    pub(crate) environment_id: Option<EnvironmentId>,
    pub(crate) changes: Changes,
    /// Facts beyond the field changes (e.g. why a secret was revealed), written into
    /// `metadata`. Never a secret value.
    pub(crate) metadata: Map<String, Value>,
}

impl<'a> Entry<'a> {
    pub(crate) fn new(
        action: &'static str,
        resource_type: &'static str,
        resource_id: impl ToString,
        resource_name: &'a str,
    ) -> Self {
        Self {
            action,
            resource_type,
            resource_id: resource_id.to_string(),
            resource_name,
            project_id: None,
            environment_id: None,
            changes: Changes::new(),
            metadata: Map::new(),
        }
    }

    pub(crate) fn project(mut self, id: ProjectId) -> Self {
        self.project_id = Some(id);
        self
    }

    pub(crate) fn environment(mut self, id: Option<EnvironmentId>) -> Self {
        self.environment_id = id;
        self
    }

    pub(crate) fn metadata(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.metadata.insert(name.to_owned(), value.into());
        self
    }

    pub(crate) fn changes(mut self, changes: Changes) -> Self {
        self.changes = changes;
        self
    }
}

/// Who an audit row names.
struct Actor<'a> {
    id: Option<uuid::Uuid>,
    email: &'a str,
    role: &'a str,
    origin: Option<&'a crate::Origin>,
    auth: &'static str,
}

/// Writes `entry` as a success by `principal`, on `conn` (the change's transaction).
pub(crate) async fn record(
    conn: &mut PgConnection,
    principal: &Principal,
    entry: Entry<'_>,
) -> Result<(), Error> {
    let actor = Actor {
        id: Some(principal.user_id.as_uuid()),
        email: &principal.email,
        role: principal.role.as_str(),
        origin: Some(&principal.origin),
        auth: auth_kind(principal),
    };
    write(conn, &actor, entry).await
}

/// Writes `entry` as done by the platform itself (`actor` names which part, e.g.
/// `auto-deploy@system.enclii.dev`, the original's actor), with role `system`.
pub(crate) async fn record_system(
    conn: &mut PgConnection,
    actor: &str,
    entry: Entry<'_>,
) -> Result<(), Error> {
    let actor = Actor {
        id: None,
        email: actor,
        role: "system",
        origin: None,
        auth: "system",
    };
    write(conn, &actor, entry).await
}

async fn write(conn: &mut PgConnection, actor: &Actor<'_>, entry: Entry<'_>) -> Result<(), Error> {
    let changes = Value::Object(entry.changes.0);
    let mut metadata = entry.metadata;
    metadata.insert("auth".to_owned(), actor.auth.into());
    let metadata = Value::Object(metadata);
    let origin = actor.origin;
    audit::insert(
        conn,
        &audit::NewAudit {
            id: AuditId::new(),
            actor_id: actor.id,
            actor_email: actor.email,
            actor_role: actor.role,
            action: entry.action,
            resource_type: entry.resource_type,
            resource_id: &entry.resource_id,
            resource_name: entry.resource_name,
            project_id: entry.project_id.map(|p| p.as_uuid()),
            environment_id: entry.environment_id.map(|e| e.as_uuid()),
            request_id: origin.and_then(|o| o.request_id.as_deref()),
            ip_address: origin.and_then(|o| o.ip.as_deref()),
            user_agent: origin.and_then(|o| o.user_agent.as_deref()),
            outcome: "success",
            changes: &changes,
            metadata: &metadata,
        },
    )
    .await
}

fn auth_kind(principal: &Principal) -> &'static str {
    match principal.kind {
        crate::PrincipalKind::Session(_) => "session",
        crate::PrincipalKind::ApiToken(_) => "api_token",
        crate::PrincipalKind::External => "external",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_reach_changes() {
        let changes = Changes::new()
            .set("name", "shop")
            .set("password", "hunter2")
            .set("API_KEY", "abc")
            .diff("db_password", &"old", &"new")
            .diff("replicas", &1, &3)
            .diff("branch", &"main", &"main")
            .secret("DATABASE_URL")
            .flag("is_secret", None, true)
            .flag("was_secret", Some(true), true)
            .flag("secret_now", Some(false), true);
        let text = Value::Object(changes.0).to_string();
        for secret in ["hunter2", "abc", "old", "new"] {
            assert!(
                !text.contains(&format!("\"{secret}\"")),
                "{secret} leaked: {text}"
            );
        }
        assert!(text.contains(r#""name":"shop""#), "{text}");
        assert!(text.contains(r#""replicas":{"from":1,"to":3}"#), "{text}");
        assert!(
            !text.contains("branch"),
            "unchanged fields are left out: {text}"
        );
        assert!(text.contains(r#""DATABASE_URL":"[redacted]""#), "{text}");
        assert!(text.contains(r#""is_secret":true"#), "{text}");
        assert!(
            !text.contains("was_secret"),
            "unchanged flags are left out: {text}"
        );
        assert!(
            text.contains(r#""secret_now":{"from":false,"to":true}"#),
            "{text}"
        );
    }
}

//! The `teams` and `team_members` tables.

use sqlx::PgConnection;
use switchyard_domain::{Error, ResourceKind, TeamId, TeamRole, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use super::translate;

/// A team as one member sees it: with its member count and that member's role.
#[derive(Debug, Clone)]
pub struct TeamRow {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub avatar_url: Option<String>,
    pub billing_email: Option<String>,
    pub member_count: i64,
    pub user_role: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl TeamRow {
    pub fn id(&self) -> TeamId {
        TeamId::from_uuid(self.id)
    }

    /// The viewer's role; `None` when they are not a member.
    pub fn role(&self) -> Option<TeamRole> {
        self.user_role.as_deref().and_then(|r| r.parse().ok())
    }
}

pub struct NewTeam<'a> {
    pub id: TeamId,
    pub name: &'a str,
    pub slug: &'a str,
    pub description: Option<&'a str>,
    pub billing_email: Option<&'a str>,
}

pub async fn insert(conn: &mut PgConnection, new: &NewTeam<'_>) -> Result<(), Error> {
    sqlx::query!(
        "insert into teams (id, name, slug, description, billing_email) values ($1, $2, $3, $4, $5)",
        new.id.as_uuid(),
        new.name,
        new.slug,
        new.description,
        new.billing_email,
    )
    .execute(conn)
    .await
    .map_err(translate(
        "creating a team",
        &[("teams_slug_key", ResourceKind::Team, "with this slug")],
    ))?;
    Ok(())
}

/// The team with `slug` as `viewer` sees it (`user_role` null when not a member).
pub async fn find_by_slug(
    conn: &mut PgConnection,
    slug: &str,
    viewer: UserId,
) -> Result<Option<TeamRow>, Error> {
    sqlx::query_as!(
        TeamRow,
        r#"select t.id, t.name, t.slug, t.description, t.avatar_url, t.billing_email,
                  (select count(*) from team_members c where c.team_id = t.id) as "member_count!",
                  m.role as "user_role?", t.created_at, t.updated_at
           from teams t left join team_members m on m.team_id = t.id and m.user_id = $2
           where t.slug = $1"#,
        slug,
        viewer.as_uuid(),
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading a team", &[]))
}

/// One page of the teams `user` belongs to, by slug, after the team `after`.
pub async fn list_for_member(
    conn: &mut PgConnection,
    user: UserId,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<TeamRow>, Error> {
    sqlx::query_as!(
        TeamRow,
        r#"select t.id, t.name, t.slug, t.description, t.avatar_url, t.billing_email,
                  (select count(*) from team_members c where c.team_id = t.id) as "member_count!",
                  m.role as "user_role?", t.created_at, t.updated_at
           from teams t join team_members m on m.team_id = t.id and m.user_id = $1
           where ($2::uuid is null or t.slug > (select c.slug from teams c where c.id = $2))
           order by t.slug
           limit $3"#,
        user.as_uuid(),
        after,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("listing teams", &[]))
}

pub struct TeamChanges<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub billing_email: Option<&'a str>,
    pub avatar_url: Option<&'a str>,
}

pub async fn update(conn: &mut PgConnection, id: TeamId, c: &TeamChanges<'_>) -> Result<(), Error> {
    sqlx::query!(
        "update teams set name = coalesce($2, name), description = coalesce($3, description),
             billing_email = coalesce($4, billing_email), avatar_url = coalesce($5, avatar_url),
             updated_at = now()
         where id = $1",
        id.as_uuid(),
        c.name,
        c.description,
        c.billing_email,
        c.avatar_url,
    )
    .execute(conn)
    .await
    .map_err(translate("updating a team", &[]))?;
    Ok(())
}

pub async fn delete(conn: &mut PgConnection, id: TeamId) -> Result<(), Error> {
    sqlx::query!("delete from teams where id = $1", id.as_uuid())
        .execute(conn)
        .await
        .map_err(translate("deleting a team", &[]))?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct MemberRow {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    pub joined_at: OffsetDateTime,
}

impl MemberRow {
    pub fn role(&self) -> TeamRole {
        self.role.parse().unwrap_or(TeamRole::Viewer)
    }
}

/// Adds a member, or changes the role of an existing one.
pub async fn upsert_member(
    conn: &mut PgConnection,
    team: TeamId,
    user: UserId,
    role: TeamRole,
) -> Result<(), Error> {
    sqlx::query!(
        "insert into team_members (team_id, user_id, role) values ($1, $2, $3)
         on conflict (team_id, user_id) do update set role = excluded.role",
        team.as_uuid(),
        user.as_uuid(),
        role.as_str(),
    )
    .execute(conn)
    .await
    .map_err(translate("adding a team member", &[]))?;
    Ok(())
}

/// Adds `user` with `role`; false when they are already a member (their role is left alone).
pub async fn insert_member(
    conn: &mut PgConnection,
    team: TeamId,
    user: UserId,
    role: TeamRole,
) -> Result<bool, Error> {
    let done = sqlx::query!(
        "insert into team_members (team_id, user_id, role) values ($1, $2, $3)
         on conflict (team_id, user_id) do nothing",
        team.as_uuid(),
        user.as_uuid(),
        role.as_str(),
    )
    .execute(conn)
    .await
    .map_err(translate("adding a team member", &[]))?;
    Ok(done.rows_affected() == 1)
}

/// Whether someone with `email` (compared case-insensitively) is a member of `team`.
pub async fn has_member_email(
    conn: &mut PgConnection,
    team: TeamId,
    email: &str,
) -> Result<bool, Error> {
    sqlx::query_scalar!(
        r#"select exists (
               select 1 from team_members m join users u on u.id = m.user_id
               where m.team_id = $1 and lower(u.email) = lower($2)
           ) as "exists!""#,
        team.as_uuid(),
        email,
    )
    .fetch_one(conn)
    .await
    .map_err(translate("reading team members", &[]))
}

/// One page of a team's members in joining order, after the member (user id) `after`.
pub async fn members(
    conn: &mut PgConnection,
    team: TeamId,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<MemberRow>, Error> {
    sqlx::query_as!(
        MemberRow,
        "select m.user_id, u.email, u.name, m.role, m.joined_at
         from team_members m join users u on u.id = m.user_id
         where m.team_id = $1
           and ($2::uuid is null or (m.joined_at, m.user_id) >
                (select c.joined_at, c.user_id from team_members c where c.team_id = $1 and c.user_id = $2))
         order by m.joined_at, m.user_id
         limit $3",
        team.as_uuid(),
        after,
        limit,
    )
    .fetch_all(conn)
    .await
    .map_err(translate("listing team members", &[]))
}

/// The member's role, locking the row (role changes and removals check the owner count).
pub async fn member_role_for_update(
    conn: &mut PgConnection,
    team: TeamId,
    user: UserId,
) -> Result<Option<TeamRole>, Error> {
    let role = sqlx::query_scalar!(
        "select role from team_members where team_id = $1 and user_id = $2 for update",
        team.as_uuid(),
        user.as_uuid(),
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("reading a team member", &[]))?;
    Ok(role.and_then(|r| r.parse().ok()))
}

/// How many owners the team has (locks them, so two demotions cannot both pass).
pub async fn count_owners(conn: &mut PgConnection, team: TeamId) -> Result<i64, Error> {
    let owners = sqlx::query_scalar!(
        "select user_id from team_members where team_id = $1 and role = 'owner' for update",
        team.as_uuid(),
    )
    .fetch_all(conn)
    .await
    .map_err(translate("counting team owners", &[]))?;
    Ok(i64::try_from(owners.len()).unwrap_or(i64::MAX))
}

pub async fn remove_member(
    conn: &mut PgConnection,
    team: TeamId,
    user: UserId,
) -> Result<bool, Error> {
    let done = sqlx::query!(
        "delete from team_members where team_id = $1 and user_id = $2",
        team.as_uuid(),
        user.as_uuid(),
    )
    .execute(conn)
    .await
    .map_err(translate("removing a team member", &[]))?;
    Ok(done.rows_affected() == 1)
}

/// Locks the team's row until the transaction ends and returns when it last changed (its
/// version), so a conditional update cannot race another.
pub async fn lock(conn: &mut PgConnection, id: TeamId) -> Result<Option<OffsetDateTime>, Error> {
    sqlx::query_scalar!(
        "select updated_at from teams where id = $1 for update",
        id.as_uuid(),
    )
    .fetch_optional(conn)
    .await
    .map_err(translate("locking a team", &[]))
}

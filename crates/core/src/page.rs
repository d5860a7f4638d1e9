//! List paging (DESIGN.md §6): `limit` (default 50, at most 200) and an opaque `cursor` naming the
//! last row of the previous page; a page returns `next_cursor` when more may follow.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use switchyard_domain::Error;
use uuid::Uuid;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// A parsed page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: i64,
    /// The id of the last row already seen.
    pub after: Option<Uuid>,
}

impl PageRequest {
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<Self, Error> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(n @ 1..=MAX_LIMIT) => n,
            Some(_) => {
                return Err(Error::invalid(
                    "limit",
                    format!("must be between 1 and {MAX_LIMIT}"),
                ));
            }
        };
        let after = match cursor.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(
                decode(c)
                    .ok_or_else(|| Error::invalid("cursor", "is not a cursor this API returned"))?,
            ),
        };
        Ok(Self { limit, after })
    }

    /// One more than the page, to know whether another page follows.
    pub(crate) fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Cuts the extra row off and makes the cursor of the next page from the last row kept.
    pub(crate) fn finish<T>(&self, mut rows: Vec<T>, id: impl Fn(&T) -> Uuid) -> Page<T> {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = more.then(|| rows.last().map(|r| encode(id(r)))).flatten();
        Page {
            items: rows,
            next_cursor,
        }
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            after: None,
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

fn encode(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode(cursor: &str) -> Option<Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    Uuid::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_and_cursors() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, DEFAULT_LIMIT);
        for bad in [0, -1, MAX_LIMIT + 1] {
            assert_eq!(
                PageRequest::parse(Some(bad), None).unwrap_err().code(),
                "invalid_input"
            );
        }
        assert!(PageRequest::parse(None, Some("not a cursor!")).is_err());
        let ids: Vec<Uuid> = (0..5).map(|_| Uuid::now_v7()).collect();
        let request = PageRequest::parse(Some(2), None).unwrap();
        let page = request.finish(ids[..3].to_vec(), |id| *id);
        assert_eq!(page.items, ids[..2]);
        let next = PageRequest::parse(Some(2), page.next_cursor.as_deref()).unwrap();
        assert_eq!(next.after, Some(ids[1]));
        let last = request.finish(ids[..2].to_vec(), |id| *id);
        assert_eq!(last.next_cursor, None, "no extra row: last page");
    }
}

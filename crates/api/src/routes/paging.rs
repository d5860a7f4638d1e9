//! The list parameters every list route takes (`limit`, `cursor`), parsed into a `PageRequest`.

use serde::Deserialize;
use switchyard_core::PageRequest;
use utoipa::IntoParams;

use crate::ApiError;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// 1 to 200; default 50.
    pub(crate) limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub(crate) cursor: Option<String>,
}

impl ListQuery {
    pub(crate) fn page(&self) -> Result<PageRequest, ApiError> {
        Ok(PageRequest::parse(self.limit, self.cursor.as_deref())?)
    }
}

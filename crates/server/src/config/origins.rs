//! Browser origins: `ENCLII_ALLOWED_ORIGINS` (CORS) and `ENCLII_WEBSOCKET_ALLOWED_ORIGINS` (the
//! log WebSockets; unset, the CORS origins). Comma-separated `http(s)://host[:port]`, no path.

use http::HeaderValue;

use super::Reader;

/// The original's CORS defaults: the UI's development origins.
const DEFAULT_ORIGINS: &str = "http://localhost:3000,http://127.0.0.1:3000,http://localhost:8030,\
http://127.0.0.1:8030,http://localhost:8080,http://127.0.0.1:8080,http://localhost:8001,http://127.0.0.1:8001";

/// `ENCLII_ALLOWED_ORIGINS`, default the UI's development origins.
pub(super) fn cors(r: &mut Reader<'_>) -> Vec<HeaderValue> {
    let raw = r
        .get("ENCLII_ALLOWED_ORIGINS")
        .unwrap_or(DEFAULT_ORIGINS)
        .to_owned();
    parse(r, "ENCLII_ALLOWED_ORIGINS", &raw)
}

/// `ENCLII_WEBSOCKET_ALLOWED_ORIGINS`; `None` when unset (then the CORS origins apply).
pub(super) fn websocket(r: &mut Reader<'_>) -> Option<Vec<HeaderValue>> {
    let name = "ENCLII_WEBSOCKET_ALLOWED_ORIGINS";
    let raw = r.get(name)?.to_owned();
    Some(parse(r, name, &raw))
}

fn parse(r: &mut Reader<'_>, name: &str, raw: &str) -> Vec<HeaderValue> {
    raw.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .filter_map(|origin| {
            let valid = (origin.starts_with("http://") || origin.starts_with("https://"))
                && !origin.ends_with('/');
            match HeaderValue::from_str(origin) {
                Ok(v) if valid => Some(v),
                _ => {
                    r.errors.push(format!(
                        "{name}: {origin:?} is not an origin like https://app.enclii.dev"
                    ));
                    None
                }
            }
        })
        .collect()
}

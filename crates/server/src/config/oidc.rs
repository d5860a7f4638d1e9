//! Janua browser sign-in settings: the OpenID Connect client (`ENCLII_OIDC_*`, read in oidc
//! mode only) and where the browser goes afterwards (`ENCLII_POST_LOGIN_REDIRECT_*`,
//! `ENCLII_UI_ORIGIN`).

use secrecy::SecretString;
use switchyard_api::{BrowserLoginConfig, RedirectMode};
use switchyard_auth::OidcConfig;

use super::Reader;

/// The client of `ENCLII_AUTH_MODE=oidc`; issuer, client id and secret are required.
pub(super) fn client(r: &mut Reader<'_>) -> Option<OidcConfig> {
    let issuer = required(r, "ENCLII_OIDC_ISSUER");
    let client_id = required(r, "ENCLII_OIDC_CLIENT_ID");
    let client_secret = secret(r);
    let port = r.get("ENCLII_PORT").unwrap_or("4200");
    let redirect_url = r.get("ENCLII_OIDC_REDIRECT_URL").map_or_else(
        || format!("http://localhost:{port}/v1/auth/callback"),
        str::to_owned,
    );
    if !is_http_url(&redirect_url) || !redirect_url.ends_with("/callback") {
        r.errors.push(format!(
            "ENCLII_OIDC_REDIRECT_URL: expected an http(s) URL ending in /callback (the silent \
             callback is that URL + /silent), got {redirect_url:?}"
        ));
        return None;
    }
    if let Some(issuer) = &issuer
        && !is_http_url(issuer)
    {
        r.errors.push(format!(
            "ENCLII_OIDC_ISSUER: expected an http(s) URL, got {issuer:?}"
        ));
        return None;
    }
    Some(OidcConfig {
        issuer: issuer?,
        client_id: client_id?,
        client_secret: client_secret?,
        silent_redirect_url: format!("{redirect_url}/silent"),
        redirect_url,
    })
}

fn required(r: &mut Reader<'_>, name: &str) -> Option<String> {
    let value = r.get(name).map(str::to_owned);
    if value.is_none() {
        r.errors
            .push(format!("{name}: required when ENCLII_AUTH_MODE=oidc"));
    }
    value
}

fn secret(r: &mut Reader<'_>) -> Option<SecretString> {
    match (
        r.get("ENCLII_OIDC_CLIENT_SECRET"),
        r.get("ENCLII_OIDC_CLIENT_SECRET_FILE"),
    ) {
        (Some(secret), _) => Some(SecretString::from(secret.to_owned())),
        (None, Some(path)) => match std::fs::read_to_string(path) {
            Ok(secret) if !secret.trim().is_empty() => {
                Some(SecretString::from(secret.trim().to_owned()))
            }
            Ok(_) => {
                r.errors
                    .push(format!("ENCLII_OIDC_CLIENT_SECRET_FILE: {path} is empty"));
                None
            }
            Err(e) => {
                r.errors.push(format!(
                    "ENCLII_OIDC_CLIENT_SECRET_FILE: cannot read {path}: {e}"
                ));
                None
            }
        },
        (None, None) => {
            r.errors.push(
                "ENCLII_OIDC_CLIENT_SECRET: required when ENCLII_AUTH_MODE=oidc (or set \
                 ENCLII_OIDC_CLIENT_SECRET_FILE)"
                    .into(),
            );
            None
        }
    }
}

/// Where the callback sends the browser and which origin the silent page may post to.
pub(super) fn browser_login(r: &mut Reader<'_>) -> BrowserLoginConfig {
    let post_login_redirect = r
        .get("ENCLII_POST_LOGIN_REDIRECT_URL")
        .map(str::to_owned)
        .filter(|url| {
            let valid = is_http_url(url) && !url.contains('#');
            if !valid {
                r.errors.push(format!(
                    "ENCLII_POST_LOGIN_REDIRECT_URL: expected an http(s) URL without a #fragment, got {url:?}"
                ));
            }
            valid
        });
    let redirect_mode = match r.get("ENCLII_POST_LOGIN_REDIRECT_MODE") {
        None | Some("query") => RedirectMode::Query,
        Some("fragment") => RedirectMode::Fragment,
        Some(other) => {
            r.errors.push(format!(
                "ENCLII_POST_LOGIN_REDIRECT_MODE: expected query or fragment, got {other:?}"
            ));
            RedirectMode::Query
        }
    };
    let ui_origin = match r.get("ENCLII_UI_ORIGIN") {
        Some(origin) if is_origin(origin) => Some(origin.to_owned()),
        Some(origin) => {
            r.errors.push(format!(
                "ENCLII_UI_ORIGIN: expected an origin like https://app.enclii.dev, got {origin:?}"
            ));
            None
        }
        None => post_login_redirect.as_deref().map(origin_of),
    };
    BrowserLoginConfig {
        post_login_redirect,
        redirect_mode,
        ui_origin,
    }
}

fn is_http_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/') && !r.contains(char::is_whitespace))
}

/// `scheme://host[:port]`, nothing after.
fn is_origin(origin: &str) -> bool {
    is_http_url(origin) && origin_of(origin) == origin
}

/// The origin of an http(s) URL.
fn origin_of(url: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    url[..end].to_owned()
}

/// Lines of `config check` (the secret redacted).
pub(crate) fn report(config: &super::Config) -> Vec<(&'static str, String)> {
    let unset = || "(not set)".to_owned();
    let login = &config.http.browser_login;
    let mut lines = vec![(
        "ENCLII_AUTH_MODE",
        if config.auth.oidc.is_some() {
            "oidc"
        } else {
            "local"
        }
        .to_owned(),
    )];
    if let Some(oidc) = &config.auth.oidc {
        lines.extend([
            ("ENCLII_OIDC_ISSUER", oidc.issuer.clone()),
            ("ENCLII_OIDC_CLIENT_ID", oidc.client_id.clone()),
            ("ENCLII_OIDC_CLIENT_SECRET", "(set, redacted)".to_owned()),
            ("ENCLII_OIDC_REDIRECT_URL", oidc.redirect_url.clone()),
        ]);
    }
    lines.extend([
        (
            "ENCLII_POST_LOGIN_REDIRECT_URL",
            login.post_login_redirect.clone().unwrap_or_else(unset),
        ),
        (
            "ENCLII_POST_LOGIN_REDIRECT_MODE",
            match login.redirect_mode {
                RedirectMode::Query => "query",
                RedirectMode::Fragment => "fragment",
            }
            .to_owned(),
        ),
        (
            "ENCLII_UI_ORIGIN",
            login.ui_origin.clone().unwrap_or_else(unset),
        ),
    ]);
    lines
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use secrecy::ExposeSecret as _;

    use crate::config::Config;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, Vec<String>> {
        let vars: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_vars(&vars).map_err(|e| e.0)
    }

    const OIDC: &[(&str, &str)] = &[
        ("ENCLII_AUTH_MODE", "oidc"),
        ("ENCLII_OIDC_ISSUER", "https://auth.madfam.io"),
        ("ENCLII_OIDC_CLIENT_ID", "enclii"),
        ("ENCLII_OIDC_CLIENT_SECRET", "s3cret"),
    ];

    #[test]
    fn oidc_mode_needs_issuer_client_id_and_secret_each_named() {
        let errors = config(&[("ENCLII_AUTH_MODE", "oidc")]).unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        for name in [
            "ENCLII_OIDC_ISSUER",
            "ENCLII_OIDC_CLIENT_ID",
            "ENCLII_OIDC_CLIENT_SECRET",
        ] {
            assert!(errors.iter().any(|e| e.starts_with(name)), "{errors:?}");
        }
    }

    #[test]
    fn oidc_mode_with_defaults() {
        let config = config(OIDC).unwrap();
        let oidc = config.auth.oidc.unwrap();
        assert_eq!(oidc.client_secret.expose_secret(), "s3cret");
        assert_eq!(oidc.redirect_url, "http://localhost:4200/v1/auth/callback");
        assert_eq!(
            oidc.silent_redirect_url,
            "http://localhost:4200/v1/auth/callback/silent"
        );
        let login = config.http.browser_login;
        assert_eq!(login.post_login_redirect, None);
        assert_eq!(login.redirect_mode, switchyard_api::RedirectMode::Query);
        assert_eq!(login.ui_origin, None);
    }

    #[test]
    fn the_ui_origin_defaults_to_the_post_login_url_origin() {
        let mut pairs = OIDC.to_vec();
        pairs.push((
            "ENCLII_POST_LOGIN_REDIRECT_URL",
            "https://app.enclii.dev:8443/auth/callback?x=1",
        ));
        pairs.push(("ENCLII_POST_LOGIN_REDIRECT_MODE", "fragment"));
        let login = config(&pairs).unwrap().http.browser_login;
        assert_eq!(
            login.ui_origin.as_deref(),
            Some("https://app.enclii.dev:8443")
        );
        assert_eq!(login.redirect_mode, switchyard_api::RedirectMode::Fragment);
        pairs.push(("ENCLII_UI_ORIGIN", "https://ui.example"));
        let login = config(&pairs).unwrap().http.browser_login;
        assert_eq!(login.ui_origin.as_deref(), Some("https://ui.example"));
    }

    #[test]
    fn the_secret_can_come_from_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "from-file\n").unwrap();
        let path = path.to_string_lossy().into_owned();
        let mut pairs = OIDC[..3].to_vec();
        pairs.push(("ENCLII_OIDC_CLIENT_SECRET_FILE", &path));
        let oidc = config(&pairs).unwrap().auth.oidc.unwrap();
        assert_eq!(oidc.client_secret.expose_secret(), "from-file");
    }

    #[test]
    fn each_invalid_value_is_reported_with_its_variable() {
        let cases = [
            ("ENCLII_OIDC_ISSUER", "auth.madfam.io"),
            (
                "ENCLII_OIDC_REDIRECT_URL",
                "https://api.enclii.dev/v1/auth/cb",
            ),
            ("ENCLII_OIDC_CLIENT_SECRET_FILE", "/nonexistent/secret"),
            ("ENCLII_POST_LOGIN_REDIRECT_URL", "app.enclii.dev/auth"),
            (
                "ENCLII_POST_LOGIN_REDIRECT_URL",
                "https://app.enclii.dev/#x",
            ),
            ("ENCLII_POST_LOGIN_REDIRECT_MODE", "cookie"),
            ("ENCLII_UI_ORIGIN", "https://app.enclii.dev/"),
        ];
        for (name, value) in cases {
            let mut pairs: Vec<_> = OIDC
                .iter()
                .copied()
                .filter(|(k, _)| {
                    *k != name
                        && !(name == "ENCLII_OIDC_CLIENT_SECRET_FILE"
                            && *k == "ENCLII_OIDC_CLIENT_SECRET")
                })
                .collect();
            pairs.push((name, value));
            let errors = config(&pairs).unwrap_err();
            assert_eq!(errors.len(), 1, "{name}={value}: {errors:?}");
            assert!(errors[0].starts_with(name), "{name}={value}: {errors:?}");
        }
    }

    #[test]
    fn local_mode_ignores_the_client_settings() {
        let config = config(&[("ENCLII_OIDC_ISSUER", "not a url")]).unwrap();
        assert!(config.auth.oidc.is_none());
    }
}

//! [`Challenge`] is what a registry's `WWW-Authenticate` header asks for, and [`fetch_token`]
//! runs the Bearer token flow of Docker's token authentication: `GET realm?service=&scope=` with
//! the user's Basic credentials (or an OAuth2 `POST` with an identity token), yielding a token
//! that expires after `expires_in` seconds (60 when the issuer does not say).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde::Deserialize;

use crate::credentials::AuthConfig;
use crate::error::RegistryError;

/// How a registry wants requests authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// No authentication needed (or not asked yet).
    None,
    /// HTTP Basic on every request.
    Basic,
    /// A token from `realm` for `service`.
    Bearer {
        /// The token issuer's URL.
        realm: String,
        /// The `service` parameter to pass on.
        service: String,
    },
}

/// Parses one `WWW-Authenticate` value (`Bearer realm="…",service="…",scope="…"`).
pub fn parse_challenge(header: &str) -> Challenge {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let params = parse_params(rest);
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Challenge::Basic,
        "bearer" => Challenge::Bearer {
            realm: params.get("realm").cloned().unwrap_or_default(),
            service: params.get("service").cloned().unwrap_or_default(),
        },
        _ => Challenge::None,
    }
}

/// `key="quoted, value",key2=token` → map (keys lower-cased).
fn parse_params(s: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if chars.next().is_none() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    out
}

/// The `Authorization: Basic` value of `auth`.
pub fn basic_header(auth: &AuthConfig) -> String {
    let raw = format!("{}:{}", auth.username, auth.password);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// A bearer token and when to stop using it.
#[derive(Debug, Clone)]
pub struct Token {
    /// The token.
    pub token: String,
    /// When it should be refreshed (a little before it expires).
    pub refresh_at: Instant,
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    token: String,
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Bound on a token answer's size.
const MAX_TOKEN_ANSWER: u64 = 1 << 20;

/// Fetches a token for `scopes` from the issuer at `realm`.
pub fn fetch_token(
    http: &reqwest::blocking::Client,
    realm: &str,
    service: &str,
    scopes: &[String],
    auth: Option<&AuthConfig>,
) -> Result<Token, RegistryError> {
    let transport = |verb: &'static str, e: reqwest::Error| RegistryError::Transport {
        verb,
        url: realm.to_string(),
        reason: crate::client::describe(&e),
    };
    let with_token = auth.filter(|a| !a.identity_token.is_empty());
    let response = match with_token {
        Some(a) => {
            let mut form: Vec<(&str, &str)> = vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", &a.identity_token),
                ("service", service),
                ("client_id", "berth"),
            ];
            let joined = scopes.join(" ");
            if !scopes.is_empty() {
                form.push(("scope", &joined));
            }
            let body = form
                .iter()
                .map(|(k, v)| format!("{k}={}", url_encode(v)))
                .collect::<Vec<_>>()
                .join("&");
            http.post(realm)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .map_err(|e| transport("Post", e))?
        }
        None => {
            let mut url = format!("{realm}{}", if realm.contains('?') { '&' } else { '?' });
            url.push_str(&format!("service={}", url_encode(service)));
            for s in scopes {
                url.push_str(&format!("&scope={}", url_encode(s)));
            }
            let mut req = http.get(&url);
            if let Some(a) = auth.filter(|a| !a.username.is_empty()) {
                url.push_str(&format!("&account={}", url_encode(&a.username)));
                req = http.get(&url).header("Authorization", basic_header(a));
            }
            req.send().map_err(|e| transport("Get", e))?
        }
    };
    let status = response.status();
    let mut body = Vec::new();
    use std::io::Read;
    response
        .take(MAX_TOKEN_ANSWER)
        .read_to_end(&mut body)
        .map_err(RegistryError::Io)?;
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        let detail = crate::client::error_text(&body)
            .unwrap_or_else(|| "incorrect username or password".to_string());
        return Err(RegistryError::Unauthorized(format!(
            "Get \"{realm}\": unauthorized: {detail}"
        )));
    }
    if !status.is_success() {
        return Err(RegistryError::Api(format!(
            "token issuer {realm} answered {status}: {}",
            String::from_utf8_lossy(&body).trim()
        )));
    }
    let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| {
        RegistryError::Invalid(format!("token issuer {realm}: invalid answer: {e}"))
    })?;
    let token = if answer.token.is_empty() {
        answer.access_token
    } else {
        answer.token
    };
    if token.is_empty() {
        return Err(RegistryError::Invalid(format!(
            "token issuer {realm} answered without a token"
        )));
    }
    let lifetime = answer.expires_in.unwrap_or(60).max(10);
    Ok(Token {
        token,
        refresh_at: Instant::now() + Duration::from_secs(lifetime - lifetime / 10),
    })
}

/// Percent-encodes a query value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push""#
            ),
            Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: "registry.docker.io".into()
            }
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Challenge::Basic
        );
        assert_eq!(parse_challenge("Negotiate"), Challenge::None);
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(
            url_encode("repository:a/b:pull,push"),
            "repository%3Aa%2Fb%3Apull%2Cpush"
        );
    }
}

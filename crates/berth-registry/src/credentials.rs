//! [`CredentialStore`] reads and writes the docker CLI's credentials file,
//! `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`), so that `docker login` and
//! `berth login` share what they store: `auths` entries (base64 `user:password`, or an identity
//! token), and credential helpers named by `credsStore` (all registries) or `credHelpers`
//! (per registry), run as `docker-credential-<name> get|store|erase` with Docker's JSON protocol.
//!
//! Registries are keyed as the docker CLI keys them: `https://index.docker.io/v1/` for Docker Hub,
//! `host[:port]` for the rest; stored keys with a scheme or path (`https://host:5000/v2/`) match
//! their host. The file is rewritten atomically (mode 0600), keeping every key berth does not use.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::RegistryError;

/// The key Docker Hub's credentials are stored under.
pub const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// Credentials for one registry (the Engine API's `AuthConfig`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthConfig {
    /// User name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username: String,
    /// Password (or a personal access token).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password: String,
    /// An OAuth refresh token a registry issued at login, used instead of a password.
    #[serde(
        default,
        rename = "identitytoken",
        skip_serializing_if = "String::is_empty"
    )]
    pub identity_token: String,
    /// The registry these are for.
    #[serde(
        default,
        rename = "serveraddress",
        skip_serializing_if = "String::is_empty"
    )]
    pub server_address: String,
}

impl AuthConfig {
    /// True when there is nothing to authenticate with.
    pub fn is_empty(&self) -> bool {
        self.username.is_empty() && self.password.is_empty() && self.identity_token.is_empty()
    }
}

/// The key `docker login SERVER` stores credentials under for `server` (a registry host, a URL,
/// or empty for Docker Hub).
pub fn server_key(server: &str) -> String {
    let host = hostname_of(server);
    if host.is_empty()
        || host == "docker.io"
        || host == "index.docker.io"
        || host == "registry-1.docker.io"
    {
        return DOCKER_HUB_KEY.to_string();
    }
    host
}

/// `host[:port]` of a key or URL: the scheme and any path are dropped.
fn hostname_of(key: &str) -> String {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    rest.split('/').next().unwrap_or("").to_string()
}

/// The credentials file and its helpers.
#[derive(Debug, Clone)]
pub struct CredentialStore {
    path: PathBuf,
}

#[derive(Debug, Default, Deserialize)]
struct FileEntry {
    #[serde(default)]
    auth: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    identitytoken: String,
}

#[derive(Debug, Deserialize, Serialize)]
struct HelperCredentials {
    #[serde(rename = "ServerURL", default)]
    server_url: String,
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// The user name a helper stores identity tokens under.
const TOKEN_USERNAME: &str = "<token>";

impl CredentialStore {
    /// The docker CLI's file: `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
    pub fn default_location() -> CredentialStore {
        let dir = match std::env::var_os("DOCKER_CONFIG") {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => {
                let home = std::env::var_os("HOME")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| PathBuf::from("/root"));
                home.join(".docker")
            }
        };
        CredentialStore {
            path: dir.join("config.json"),
        }
    }

    /// A store over the file at `path`.
    pub fn at(path: &Path) -> CredentialStore {
        CredentialStore {
            path: path.to_path_buf(),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<serde_json::Map<String, serde_json::Value>, RegistryError> {
        match std::fs::read(&self.path) {
            Ok(bytes) if bytes.iter().all(|b| b.is_ascii_whitespace()) => Ok(Default::default()),
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                RegistryError::Credentials(format!(
                    "loading config file {}: {e}",
                    self.path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
            Err(e) => Err(RegistryError::Credentials(format!(
                "loading config file {}: {e}",
                self.path.display()
            ))),
        }
    }

    fn write(&self, doc: &serde_json::Map<String, serde_json::Value>) -> Result<(), RegistryError> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let fail = |e: std::io::Error| {
            RegistryError::Credentials(format!("saving config file {}: {e}", self.path.display()))
        };
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(fail)?;
        let tmp = dir.join(format!(".config.json.{}", std::process::id()));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(fail)?;
        let text = serde_json::to_string_pretty(doc).expect("JSON values serialize");
        f.write_all(text.as_bytes())
            .and_then(|_| f.sync_all())
            .map_err(fail)?;
        std::fs::rename(&tmp, &self.path).map_err(fail)
    }

    /// The helper that holds credentials for `key`, if any (`credHelpers`, then `credsStore`).
    fn helper_for(doc: &serde_json::Map<String, serde_json::Value>, key: &str) -> Option<String> {
        let host = hostname_of(key);
        if let Some(helpers) = doc.get("credHelpers").and_then(|h| h.as_object()) {
            for (k, v) in helpers {
                if (k == key || hostname_of(k) == host) && v.as_str().is_some_and(|s| !s.is_empty())
                {
                    return v.as_str().map(str::to_string);
                }
            }
        }
        doc.get("credsStore")
            .and_then(|s| s.as_str())
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }

    /// The credentials stored for registry `server` (a host, `host:port`, or Docker Hub's key),
    /// or `None` when nothing is stored.
    pub fn get(&self, server: &str) -> Result<Option<AuthConfig>, RegistryError> {
        let key = server_key(server);
        let doc = self.read()?;
        if let Some(helper) = Self::helper_for(&doc, &key) {
            return helper_get(&helper, &key);
        }
        let Some(auths) = doc.get("auths").and_then(|a| a.as_object()) else {
            return Ok(None);
        };
        let host = hostname_of(&key);
        let entry = auths
            .get(&key)
            .or_else(|| {
                auths
                    .iter()
                    .find(|(k, _)| server_key(k) == key || hostname_of(k) == host)
                    .map(|(_, v)| v)
            })
            .cloned();
        let Some(entry) = entry else { return Ok(None) };
        let entry: FileEntry = serde_json::from_value(entry).unwrap_or_default();
        let mut auth = AuthConfig {
            username: entry.username,
            password: entry.password,
            identity_token: entry.identitytoken,
            server_address: key.clone(),
        };
        if !entry.auth.is_empty() {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(entry.auth.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    RegistryError::Credentials(format!(
                        "invalid auth configuration file {}: the auth of {key} is not base64 user:password",
                        self.path.display()
                    ))
                })?;
            let (u, p) = decoded.split_once(':').unwrap_or((decoded.as_str(), ""));
            auth.username = u.to_string();
            auth.password = p.to_string();
        }
        Ok((!auth.is_empty()).then_some(auth))
    }

    /// Stores `auth` for `server`: through the helper if one is configured (the file then only
    /// lists the registry), else base64 in `auths`. Returns whether a helper was used.
    pub fn store(&self, server: &str, auth: &AuthConfig) -> Result<bool, RegistryError> {
        let key = server_key(server);
        let mut doc = self.read()?;
        let helper = Self::helper_for(&doc, &key);
        let entry = match &helper {
            Some(h) => {
                let (username, secret) = if auth.identity_token.is_empty() {
                    (auth.username.clone(), auth.password.clone())
                } else {
                    (TOKEN_USERNAME.to_string(), auth.identity_token.clone())
                };
                helper_run(
                    h,
                    "store",
                    &serde_json::to_vec(&HelperCredentials {
                        server_url: key.clone(),
                        username,
                        secret,
                    })
                    .expect("serializes"),
                )?;
                serde_json::json!({})
            }
            None => {
                let mut e = serde_json::Map::new();
                if auth.identity_token.is_empty() {
                    let raw = format!("{}:{}", auth.username, auth.password);
                    e.insert(
                        "auth".into(),
                        base64::engine::general_purpose::STANDARD.encode(raw).into(),
                    );
                } else {
                    let raw = format!("{}:", auth.username);
                    e.insert(
                        "auth".into(),
                        base64::engine::general_purpose::STANDARD.encode(raw).into(),
                    );
                    e.insert("identitytoken".into(), auth.identity_token.clone().into());
                }
                serde_json::Value::Object(e)
            }
        };
        let auths = doc.entry("auths").or_insert_with(|| serde_json::json!({}));
        if !auths.is_object() {
            *auths = serde_json::json!({});
        }
        let map = auths.as_object_mut().expect("an object");
        map.retain(|k, _| server_key(k) != key);
        map.insert(key, entry);
        self.write(&doc)?;
        Ok(helper.is_some())
    }

    /// Removes what is stored for `server`. Returns false when nothing was stored.
    pub fn erase(&self, server: &str) -> Result<bool, RegistryError> {
        let key = server_key(server);
        let mut doc = self.read()?;
        let mut found = false;
        if let Some(helper) = Self::helper_for(&doc, &key) {
            found = helper_run(&helper, "erase", key.as_bytes()).is_ok();
        }
        if let Some(auths) = doc.get_mut("auths").and_then(|a| a.as_object_mut()) {
            let before = auths.len();
            auths.retain(|k, _| server_key(k) != key);
            if auths.len() != before {
                found = true;
                self.write(&doc)?;
            }
        }
        Ok(found)
    }
}

/// Runs `docker-credential-<helper> <action>` with `input` on stdin; its stdout on success.
fn helper_run(helper: &str, action: &str, input: &[u8]) -> Result<Vec<u8>, RegistryError> {
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            RegistryError::Credentials(format!(
                "error getting credentials - err: exec: \"{program}\": {}, out: ``",
                if e.kind() == std::io::ErrorKind::NotFound {
                    "executable file not found in $PATH".to_string()
                } else {
                    e.to_string()
                }
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input);
    }
    let out = child.wait_with_output()?;
    if out.status.success() {
        return Ok(out.stdout);
    }
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let text = if text.is_empty() {
        String::from_utf8_lossy(&out.stderr).trim().to_string()
    } else {
        text
    };
    Err(RegistryError::Credentials(text))
}

/// `get` through a helper; "credentials not found" is not an error.
fn helper_get(helper: &str, key: &str) -> Result<Option<AuthConfig>, RegistryError> {
    match helper_run(helper, "get", key.as_bytes()) {
        Ok(out) => {
            let c: HelperCredentials = serde_json::from_slice(&out).map_err(|e| {
                RegistryError::Credentials(format!(
                    "docker-credential-{helper} get: invalid answer: {e}"
                ))
            })?;
            let mut auth = AuthConfig {
                server_address: key.to_string(),
                ..Default::default()
            };
            if c.username == TOKEN_USERNAME {
                auth.identity_token = c.secret;
            } else {
                auth.username = c.username;
                auth.password = c.secret;
            }
            Ok((!auth.is_empty()).then_some(auth))
        }
        Err(RegistryError::Credentials(t)) if t.contains("credentials not found") => Ok(None),
        Err(RegistryError::Credentials(t)) => Err(RegistryError::Credentials(format!(
            "error getting credentials - err: exit status 1, out: `{t}`"
        ))),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_docker_cli() {
        assert_eq!(server_key(""), DOCKER_HUB_KEY);
        assert_eq!(server_key("docker.io"), DOCKER_HUB_KEY);
        assert_eq!(server_key("https://index.docker.io/v1/"), DOCKER_HUB_KEY);
        assert_eq!(server_key("localhost:5000"), "localhost:5000");
        assert_eq!(server_key("https://localhost:5000/v2/"), "localhost:5000");
    }

    #[test]
    fn store_get_erase_in_the_file_keeps_other_keys() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("d/config.json");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            r#"{"auths":{"https://reg.example:5000/v2/":{"auth":"b2xkOnB3"}},"psFormat":"x"}"#,
        )
        .unwrap();
        let s = CredentialStore::at(&path);
        let old = s.get("reg.example:5000").unwrap().unwrap();
        assert_eq!(
            (old.username.as_str(), old.password.as_str()),
            ("old", "pw")
        );
        let auth = AuthConfig {
            username: "u".into(),
            password: "p:w".into(),
            ..Default::default()
        };
        assert!(!s.store("reg.example:5000", &auth).unwrap());
        let got = s.get("reg.example:5000").unwrap().unwrap();
        assert_eq!((got.username.as_str(), got.password.as_str()), ("u", "p:w"));
        let doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(doc["psFormat"], "x");
        assert_eq!(doc["auths"].as_object().unwrap().len(), 1, "{doc}");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(s.erase("reg.example:5000").unwrap());
        assert!(s.get("reg.example:5000").unwrap().is_none());
        assert!(!s.erase("reg.example:5000").unwrap());
    }

    #[test]
    fn a_missing_helper_is_a_clear_error() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("config.json");
        std::fs::write(&path, r#"{"credsStore":"berth-test-absent"}"#).unwrap();
        let e = CredentialStore::at(&path).get("localhost:1").unwrap_err();
        assert!(
            e.to_string()
                .contains("docker-credential-berth-test-absent\": executable file not found"),
            "{e}"
        );
    }
}

//! [`ImageConfig`] is the image configuration JSON (the blob whose sha256 is the image ID) and
//! [`ContainerConfig`] the `Config` object inside it, which containers and `inspect` share. Field
//! names, order and `null`-versus-omitted rules follow Docker's JSON, so `inspect` output matches
//! what Docker prints and configs we write load in Docker unchanged.

use std::collections::BTreeMap;

use berth_store::digest::Digest;
use serde::{Deserialize, Deserializer, Serialize};

/// An empty JSON object, the value type of Docker's `Volumes` and `ExposedPorts` maps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

/// Docker's `container.Config`: what a container runs and how.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerConfig {
    /// Container hostname.
    pub hostname: String,
    /// Container domain name.
    pub domainname: String,
    /// User (name or uid, optionally `:group`).
    pub user: String,
    /// Whether stdin is attached.
    pub attach_stdin: bool,
    /// Whether stdout is attached.
    pub attach_stdout: bool,
    /// Whether stderr is attached.
    pub attach_stderr: bool,
    /// Exposed ports (`80/tcp` → `{}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, Empty>>,
    /// Whether a pseudo-terminal is allocated.
    pub tty: bool,
    /// Whether stdin stays open.
    pub open_stdin: bool,
    /// Whether stdin closes after the first attach ends.
    pub stdin_once: bool,
    /// Environment, `K=V`.
    #[serde(deserialize_with = "str_or_seq")]
    pub env: Option<Vec<String>>,
    /// Command.
    #[serde(deserialize_with = "str_or_seq")]
    pub cmd: Option<Vec<String>>,
    /// Health check, kept verbatim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<serde_json::Value>,
    /// Whether `Cmd` is already escaped (Windows).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub args_escaped: bool,
    /// Image the container was created from.
    pub image: String,
    /// Anonymous volume destinations (`/data` → `{}`).
    pub volumes: Option<BTreeMap<String, Empty>>,
    /// Working directory.
    pub working_dir: String,
    /// Entrypoint.
    #[serde(deserialize_with = "str_or_seq")]
    pub entrypoint: Option<Vec<String>>,
    /// Whether networking is disabled.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub network_disabled: bool,
    /// MAC address.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mac_address: String,
    /// ONBUILD triggers.
    pub on_build: Option<Vec<String>>,
    /// Labels.
    pub labels: Option<BTreeMap<String, String>>,
    /// Stop signal.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stop_signal: String,
    /// Stop timeout in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
    /// Shell for shell-form commands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
}

/// Docker's `StrSlice`: a JSON string or array of strings (or null).
fn str_or_seq<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum StrOrSeq {
        Str(String),
        Seq(Vec<String>),
    }
    Ok(match Option::<StrOrSeq>::deserialize(d)? {
        None => None,
        Some(StrOrSeq::Str(s)) => Some(vec![s]),
        Some(StrOrSeq::Seq(v)) => Some(v),
    })
}

/// One entry of an image's history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct History {
    /// When the step ran (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The command that produced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Author.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// True when the step added no layer.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

/// The image's layer list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Diff IDs of the layers, bottom first.
    #[serde(default)]
    pub diff_ids: Vec<Digest>,
}

impl Default for RootFs {
    fn default() -> Self {
        RootFs {
            kind: "layers".into(),
            diff_ids: Vec::new(),
        }
    }
}

/// The image configuration blob.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageConfig {
    /// CPU architecture (`amd64`).
    pub architecture: String,
    /// Author (`commit -a`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Comment (`import -m`, `commit -m`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Default container configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<ContainerConfig>,
    /// Container the image was committed from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// That container's configuration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_config: Option<ContainerConfig>,
    /// Creation time (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Version of the engine that built it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docker_version: Option<String>,
    /// Build history, one entry per step.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
    /// Operating system (`linux`).
    pub os: String,
    /// Layers.
    pub rootfs: RootFs,
    /// CPU variant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Fields berth does not interpret (kept when read, for inspection).
    #[serde(flatten, skip_serializing)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A config blob that is not valid JSON of the expected shape.
#[derive(Debug, thiserror::Error)]
#[error("invalid image config: {0}")]
pub struct ConfigError(#[from] serde_json::Error);

impl ImageConfig {
    /// Parses config bytes.
    pub fn parse(bytes: &[u8]) -> Result<ImageConfig, ConfigError> {
        Ok(serde_json::from_slice(bytes)?)
    }

    /// The canonical bytes berth writes for a config it builds (its digest is the image ID).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("image configs always serialize")
    }

    /// The config's `Created` time, or the Unix epoch when absent.
    pub fn created_time(&self) -> chrono::DateTime<chrono::Utc> {
        self.created
            .as_deref()
            .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_default()
    }
}

/// The engine version berth reports as `docker_version` in configs it writes.
pub const ENGINE_VERSION: &str = concat!("berth-", env!("CARGO_PKG_VERSION"));

#[cfg(test)]
mod tests {
    use super::*;

    /// The config of an image `docker import`ed by Docker 20.10 (verbatim).
    const DOCKER_IMPORT: &str = r#"{"architecture":"amd64","comment":"Imported from -","config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"container_config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"created":"2026-11-24T10:36:55.486129894Z","docker_version":"20.10.24+dfsg1","history":[{"created":"2026-11-24T10:36:55.486129894Z","comment":"Imported from -"}],"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:c53672ab7d4078905d26fabbd91931e64e901606b0bc71c499c405c7f40f081e"]}}"#;

    #[test]
    fn docker_config_round_trips_byte_for_byte() {
        let c = ImageConfig::parse(DOCKER_IMPORT.as_bytes()).unwrap();
        assert_eq!(String::from_utf8(c.to_bytes()).unwrap(), DOCKER_IMPORT);
    }

    #[test]
    fn cmd_may_be_a_string() {
        let c: ContainerConfig = serde_json::from_str(r#"{"Cmd":"sh","Entrypoint":null}"#).unwrap();
        assert_eq!(c.cmd, Some(vec!["sh".to_string()]));
        assert_eq!(c.entrypoint, None);
    }
}

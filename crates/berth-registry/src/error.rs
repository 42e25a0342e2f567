//! [`RegistryError`] is every failure of talking to a registry. Its `Display` is the text
//! Docker's daemon reports for the same failure (`manifest for x:1 not found: manifest unknown:
//! manifest unknown`), so the engine can pass it on unchanged.

use berth_store::ErrorKind;

/// One entry of a registry's `{"errors": [...]}` answer (distribution spec error codes).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ApiErrorEntry {
    /// `MANIFEST_UNKNOWN`, `UNAUTHORIZED`, `DENIED`, `NAME_UNKNOWN`...
    #[serde(default)]
    pub code: String,
    /// The registry's message.
    #[serde(default)]
    pub message: String,
}

/// A failure while talking to a registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The tag or digest does not exist in the repository (or the repository does not).
    #[error("manifest for {reference} not found: {detail}")]
    ManifestUnknown {
        /// The reference asked for, in familiar form.
        reference: String,
        /// The registry's error: `manifest unknown: manifest unknown`.
        detail: String,
    },
    /// The registry refused a pull (anonymous access denied, or no such repository).
    #[error("pull access denied for {repository}, repository does not exist or may require 'docker login': {detail}")]
    PullDenied {
        /// The repository, in familiar form.
        repository: String,
        /// `denied: requested access to the resource is denied` or the registry's words.
        detail: String,
    },
    /// The credentials were refused (login, or a push/pull with wrong credentials).
    #[error("{0}")]
    Unauthorized(String),
    /// Any other error answer of the registry: `<code>: <message>` as Docker prints it.
    #[error("{0}")]
    Api(String),
    /// The registry could not be reached or broke the connection, with the request that failed:
    /// `Get "https://host/v2/": dial tcp ...` in Docker's words.
    #[error("{verb} \"{url}\": {reason}")]
    Transport {
        /// `Get`, `Head`, `Post`, `Put`, `Patch`.
        verb: &'static str,
        /// The URL asked for.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// A manifest or blob did not hash to the digest it was fetched by.
    #[error("{what} verification failed: digest {actual} does not match the expected {expected}")]
    DigestMismatch {
        /// `manifest`, `config blob`, `layer`...
        what: String,
        /// The digest asked for.
        expected: String,
        /// The digest of what arrived.
        actual: String,
    },
    /// Content the registry sent is not what the protocol allows.
    #[error("{0}")]
    Invalid(String),
    /// A Docker image manifest, schema 1: no longer supported (Docker's text).
    #[error("[DEPRECATION NOTICE] Docker Image Format v1 and Docker Image manifest version 2, schema 1 support is disabled by default and will be removed in an upcoming release. Suggest the author of {0} to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2. More information at https://docs.docker.com/go/deprecated-image-specs/")]
    Schema1(String),
    /// No entry of a manifest list / index matches the platform asked for.
    #[error("no matching manifest for {wanted} in the manifest list entries")]
    NoMatchingPlatform {
        /// `linux/amd64` and the like.
        wanted: String,
    },
    /// A credential helper or the credentials file failed.
    #[error("{0}")]
    Credentials(String),
    /// The TLS set-up for a registry (certs.d) is broken.
    #[error("{0}")]
    Tls(String),
    /// A local I/O failure (a source of an upload, an ingest file).
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl RegistryError {
    /// The class of the failure, for exit codes and HTTP statuses.
    pub fn kind(&self) -> ErrorKind {
        match self {
            RegistryError::ManifestUnknown { .. } => ErrorKind::NotFound,
            RegistryError::PullDenied { .. } => ErrorKind::NotFound,
            RegistryError::Unauthorized(_) => ErrorKind::Unauthorized,
            RegistryError::Schema1(_)
            | RegistryError::NoMatchingPlatform { .. }
            | RegistryError::DigestMismatch { .. }
            | RegistryError::Invalid(_) => ErrorKind::InvalidArgument,
            RegistryError::Api(_)
            | RegistryError::Transport { .. }
            | RegistryError::Credentials(_)
            | RegistryError::Tls(_)
            | RegistryError::Io(_) => ErrorKind::Internal,
        }
    }

    /// True for failures worth another try: the connection broke or the registry answered 5xx.
    pub fn is_transient(&self) -> bool {
        matches!(self, RegistryError::Transport { .. })
    }
}

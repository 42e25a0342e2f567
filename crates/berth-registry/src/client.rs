//! [`Registry`] opens [`Repository`] sessions on a registry and logs in; a [`Repository`] speaks
//! the distribution API for one repository on one endpoint: manifests (verified against their
//! digest), blobs (streamed, resumable from any offset with `Range`), existence checks,
//! cross-repository mounts, monolithic and streamed uploads (chunked ones: [`crate::upload`]),
//! tag lists.
//!
//! Every request carries the credentials the registry asked for (Basic, or a Bearer token
//! fetched for the session's scopes and refreshed before it expires or when a 401 says so), and
//! is retried with back-off when the connection fails or the registry answers 5xx. Answers that
//! are read whole (manifests, error bodies, token answers) are bounded in size.

use std::io::Read;
use std::sync::Mutex;
use std::time::Duration;

use berth_store::digest::Digest;
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::{Method, StatusCode};

use crate::auth::{self, Challenge, Token};
use crate::credentials::AuthConfig;
use crate::endpoint::{Endpoint, RegistryOptions};
use crate::error::{ApiErrorEntry, RegistryError};
use crate::manifest::ACCEPTED;

/// Attempts for one request when the connection fails or the registry answers 5xx.
pub const ATTEMPTS: u32 = 5;
/// Largest manifest accepted (Docker's limit).
pub const MAX_MANIFEST: u64 = 4 << 20;
/// Largest error body read.
const MAX_ERROR_BODY: u64 = 64 << 10;
/// How long a read may stall before the connection is given up (and the request retried).
const STALL: Duration = Duration::from_secs(60);

/// The back-off before attempt `n` (1-based; 0 s before the first): 0.5 s, 1 s, 2 s, 4 s.
pub fn backoff(n: u32) -> Duration {
    if n <= 1 {
        Duration::ZERO
    } else {
        Duration::from_millis(500 << (n - 2).min(3))
    }
}

/// Docker-like words for a transport failure: `connect: connection refused`, `EOF`...
pub fn describe(e: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    let mut io_kind = None;
    let mut deepest = e.to_string();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            io_kind = Some(io.kind());
        }
        // A plain-HTTP server answered the TLS handshake (rustls's error, wrapped in layers of
        // io::Error that do not expose it as a source): Go's words for it.
        if s.to_string().contains("InvalidContentType") {
            return "http: server gave HTTP response to HTTPS client".into();
        }
        deepest = s.to_string();
        source = s.source();
    }
    if e.is_timeout() {
        return "net/http: timeout awaiting response headers".into();
    }
    match io_kind {
        Some(std::io::ErrorKind::ConnectionRefused) => "connect: connection refused".into(),
        Some(std::io::ErrorKind::ConnectionReset) => "read: connection reset by peer".into(),
        Some(std::io::ErrorKind::UnexpectedEof) => "EOF".into(),
        _ => deepest,
    }
}

/// `code: message` of a registry's `{"errors": [...]}` body, as Docker prints errcode errors
/// (`MANIFEST_UNKNOWN` → `manifest unknown`).
pub fn error_text(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Errors {
        #[serde(default)]
        errors: Vec<ApiErrorEntry>,
    }
    let errors: Errors = serde_json::from_slice(body).ok()?;
    let first = errors.errors.first()?;
    let code = first.code.to_ascii_lowercase().replace('_', " ");
    Some(if first.message.is_empty() {
        code
    } else {
        format!("{code}: {}", first.message)
    })
}

/// Reads at most `limit` bytes of a response body; more is an error.
pub(crate) fn read_bounded(r: Response, limit: u64, what: &str) -> Result<Vec<u8>, RegistryError> {
    let mut body = Vec::new();
    r.take(limit + 1).read_to_end(&mut body)?;
    if body.len() as u64 > limit {
        return Err(RegistryError::Invalid(format!(
            "{what} is larger than {limit} bytes"
        )));
    }
    Ok(body)
}

/// Builds the HTTP client for one endpoint.
pub(crate) fn http_client(
    endpoint: &Endpoint,
    opts: &RegistryOptions,
) -> Result<Client, RegistryError> {
    let tls = crate::tls::tls_config(&endpoint.host, &opts.certs_dirs, endpoint.verify_tls)?;
    Client::builder()
        .tls_backend_preconfigured(tls)
        .connect_timeout(Duration::from_secs(30))
        .timeout(STALL)
        .no_proxy()
        .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| RegistryError::Tls(format!("{}: {}", endpoint.host, describe(&e))))
}

/// Where credentials come from.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// Exactly these (the Engine API's `X-Registry-Auth`), or none.
    Given(Option<AuthConfig>),
    /// The docker CLI's credentials file and helpers.
    Store(crate::credentials::CredentialStore),
    /// One set per registry, keyed as the docker CLI keys them (`X-Registry-Config` of
    /// `POST /build`: every registry the CLI holds credentials for).
    PerRegistry(std::collections::BTreeMap<String, AuthConfig>),
}

impl Credentials {
    /// The credentials for registry `host` (`name[:port]`, or `docker.io`).
    pub fn for_registry(&self, host: &str) -> Result<Option<AuthConfig>, RegistryError> {
        match self {
            Credentials::Given(a) => Ok(a.clone().filter(|a| !a.is_empty())),
            Credentials::Store(s) => s.get(host),
            Credentials::PerRegistry(map) => {
                let key = crate::credentials::server_key(host);
                Ok(map
                    .iter()
                    .find(|(k, _)| crate::credentials::server_key(k) == key)
                    .map(|(_, a)| a.clone())
                    .filter(|a| !a.is_empty()))
            }
        }
    }
}

/// A registry client: options plus where credentials come from.
#[derive(Debug, Clone)]
pub struct Registry {
    opts: RegistryOptions,
    credentials: Credentials,
}

/// The access a session asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `pull`.
    Pull,
    /// `pull,push`.
    Push,
}

impl Registry {
    /// A client with these options and credentials.
    pub fn new(opts: RegistryOptions, credentials: Credentials) -> Registry {
        Registry { opts, credentials }
    }

    /// The options.
    pub fn options(&self) -> &RegistryOptions {
        &self.opts
    }

    /// Where credentials come from.
    pub(crate) fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// The endpoints of registry `domain`, in the order to try them.
    pub fn endpoints(&self, domain: &str) -> Vec<Endpoint> {
        self.opts.endpoints(domain)
    }

    /// Opens a session for repository `path` (e.g. `library/busybox`) on the first endpoint of
    /// `domain` that answers `GET /v2/`. `extra_pull` lists other repositories of the same
    /// registry to be granted pull on (cross-repository mounts).
    pub fn repository(
        &self,
        domain: &str,
        path: &str,
        access: Access,
        extra_pull: &[String],
    ) -> Result<Repository, RegistryError> {
        let mut last = None;
        for endpoint in self.endpoints(domain) {
            match self.connect(&endpoint, domain, path, access, extra_pull) {
                Ok(r) => return Ok(r),
                Err(e) => {
                    log::debug!("registry endpoint {} failed: {e}", endpoint.base);
                    last = Some(e);
                }
            }
        }
        Err(last.expect("every registry has an endpoint"))
    }

    /// Opens a session on one endpoint.
    pub fn connect(
        &self,
        endpoint: &Endpoint,
        domain: &str,
        path: &str,
        access: Access,
        extra_pull: &[String],
    ) -> Result<Repository, RegistryError> {
        let http = http_client(endpoint, &self.opts)?;
        let challenge = ping(&http, endpoint)?;
        let creds_host = if endpoint.mirror {
            &endpoint.host
        } else {
            domain
        };
        let credentials = self.credentials.for_registry(creds_host)?;
        let mut scopes = vec![format!(
            "repository:{path}:{}",
            match access {
                Access::Pull => "pull",
                Access::Push => "pull,push",
            }
        )];
        scopes.extend(
            extra_pull
                .iter()
                .filter(|p| p.as_str() != path)
                .map(|p| format!("repository:{p}:pull")),
        );
        Ok(Repository {
            endpoint: endpoint.clone(),
            http,
            path: path.to_string(),
            credentials,
            scopes,
            auth: Mutex::new(AuthState {
                challenge,
                token: None,
            }),
        })
    }

    /// Checks `auth` against registry `server` (`host[:port]`, or empty for Docker Hub) the way
    /// `docker login` does: `GET /v2/` with the credentials, through the token issuer when the
    /// registry uses tokens. Ok when the registry accepts them (or needs none).
    pub fn login(&self, server: &str, auth: &AuthConfig) -> Result<(), RegistryError> {
        let domain = if crate::credentials::server_key(server) == crate::credentials::DOCKER_HUB_KEY
        {
            crate::endpoint::DOCKER_HUB
        } else {
            server
        };
        let mut last = None;
        for endpoint in self.endpoints(domain).into_iter().filter(|e| !e.mirror) {
            let result = (|| {
                let http = http_client(&endpoint, &self.opts)?;
                let url = format!("{}/v2/", endpoint.base);
                match ping(&http, &endpoint)? {
                    Challenge::None => Ok(()),
                    Challenge::Basic => {
                        let r = http
                            .get(&url)
                            .header("Authorization", auth::basic_header(auth))
                            .send()
                            .map_err(|e| RegistryError::Transport {
                                verb: "Get",
                                url: url.clone(),
                                reason: describe(&e),
                            })?;
                        if r.status().is_success() {
                            return Ok(());
                        }
                        let status = r.status();
                        let body = read_bounded(r, MAX_ERROR_BODY, "an error answer")?;
                        let detail = error_text(&body)
                            .unwrap_or_else(|| status.to_string().to_ascii_lowercase());
                        Err(RegistryError::Unauthorized(format!(
                            "Get \"{url}\": {detail}"
                        )))
                    }
                    Challenge::Bearer { realm, service } => {
                        auth::fetch_token(&http, &realm, &service, &[], Some(auth)).map(|_| ())
                    }
                }
            })();
            match result {
                Ok(()) => return Ok(()),
                Err(e @ RegistryError::Unauthorized(_)) => return Err(e),
                Err(e) => last = Some(e),
            }
        }
        Err(last.expect("every registry has an endpoint"))
    }
}

/// `GET /v2/`: what authentication the registry asks for. Transport failures are retried.
fn ping(http: &Client, endpoint: &Endpoint) -> Result<Challenge, RegistryError> {
    let url = format!("{}/v2/", endpoint.base);
    let mut attempt = 0;
    loop {
        attempt += 1;
        std::thread::sleep(backoff(attempt));
        let r = match http.get(&url).send() {
            Ok(r) => r,
            Err(e) => {
                let err = RegistryError::Transport {
                    verb: "Get",
                    url: url.clone(),
                    reason: describe(&e),
                };
                // A refused connection or a TLS mismatch will not change: no retries.
                if attempt >= ATTEMPTS || e.is_connect() || e.is_builder() {
                    return Err(err);
                }
                continue;
            }
        };
        let status = r.status();
        if status.is_server_error() && attempt < ATTEMPTS {
            continue;
        }
        if status == StatusCode::UNAUTHORIZED {
            let header = r
                .headers()
                .get_all("www-authenticate")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(auth::parse_challenge)
                .find(|c| *c != Challenge::None);
            return Ok(header.unwrap_or(Challenge::Basic));
        }
        if status.is_success() {
            return Ok(Challenge::None);
        }
        if status == StatusCode::NOT_FOUND {
            return Err(RegistryError::Api(format!(
                "Get \"{url}\": the server does not speak the registry API v2 (404)"
            )));
        }
        let body = read_bounded(r, MAX_ERROR_BODY, "an error answer").unwrap_or_default();
        return Err(RegistryError::Api(format!(
            "Get \"{url}\": {}",
            error_text(&body).unwrap_or_else(|| format!("unexpected status {status}"))
        )));
    }
}

#[derive(Debug)]
struct AuthState {
    challenge: Challenge,
    token: Option<Token>,
}

/// A fetched manifest.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    /// The bytes exactly as served (their sha256 is the digest).
    pub bytes: Vec<u8>,
    /// The `Content-Type` served.
    pub content_type: String,
    /// sha256 of the bytes.
    pub digest: Digest,
}

/// A blob being downloaded.
pub struct BlobStream {
    /// The body, positioned at the offset asked for.
    pub reader: Box<dyn Read + Send>,
    /// Bytes left from the offset to the end, when the registry says.
    pub remaining: Option<u64>,
}

/// What starting an upload gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadStart {
    /// The blob was mounted from another repository: nothing to upload.
    Mounted,
    /// Upload to this session.
    Location(crate::upload::Upload),
}

/// A session on one repository of one registry endpoint. `Sync`: layer workers share it.
#[derive(Debug)]
pub struct Repository {
    endpoint: Endpoint,
    http: Client,
    path: String,
    credentials: Option<AuthConfig>,
    scopes: Vec<String>,
    auth: Mutex<AuthState>,
}

impl Repository {
    /// The endpoint this session talks to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The repository path (`library/busybox`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The URL of blob `digest` in this repository.
    pub fn blob_url(&self, digest: &str) -> String {
        self.url(&format!("blobs/{digest}"))
    }

    fn url(&self, tail: &str) -> String {
        format!("{}/v2/{}/{tail}", self.endpoint.base, self.path)
    }

    /// An absolute URL for a `Location` header (which may be relative).
    pub(crate) fn absolute(&self, location: &str) -> String {
        if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else if location.starts_with('/') {
            format!("{}{location}", self.endpoint.base)
        } else {
            format!("{}/{location}", self.endpoint.base)
        }
    }

    /// The `Authorization` header for the next request (fetching a token if needed).
    fn authorization(&self, force_refresh: bool) -> Result<Option<String>, RegistryError> {
        let mut state = self.auth.lock().expect("auth lock");
        match state.challenge.clone() {
            Challenge::None => Ok(None),
            Challenge::Basic => Ok(self.credentials.as_ref().map(auth::basic_header)),
            Challenge::Bearer { realm, service } => {
                let fresh = state
                    .token
                    .as_ref()
                    .filter(|t| !force_refresh && t.refresh_at > std::time::Instant::now());
                if let Some(t) = fresh {
                    return Ok(Some(format!("Bearer {}", t.token)));
                }
                let token = auth::fetch_token(
                    &self.http,
                    &realm,
                    &service,
                    &self.scopes,
                    self.credentials.as_ref(),
                )?;
                let header = format!("Bearer {}", token.token);
                state.token = Some(token);
                Ok(Some(header))
            }
        }
    }

    /// Sends the request `build` makes (called again for every attempt), authenticated and
    /// retried; returns the first answer that is not a 5xx (or the last one).
    pub(crate) fn send(
        &self,
        method: Method,
        url: &str,
        build: &dyn Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response, RegistryError> {
        self.send_with(method, url, ATTEMPTS, build)
    }

    /// [`Repository::send`] with at most `attempts` tries on failed connections and 5xx.
    pub(crate) fn send_with(
        &self,
        method: Method,
        url: &str,
        attempts: u32,
        build: &dyn Fn(RequestBuilder) -> RequestBuilder,
    ) -> Result<Response, RegistryError> {
        let verb = match method.as_str() {
            "GET" => "Get",
            "HEAD" => "Head",
            "POST" => "Post",
            "PUT" => "Put",
            "PATCH" => "Patch",
            _ => "Do",
        };
        let mut refreshed = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            std::thread::sleep(backoff(attempt));
            let mut req = build(self.http.request(method.clone(), url));
            if let Some(h) = self.authorization(false)? {
                req = req.header("Authorization", h);
            }
            let r = match req.send() {
                Ok(r) => r,
                Err(e) => {
                    if attempt < attempts {
                        log::debug!("{verb} {url}: {}; retrying", describe(&e));
                        continue;
                    }
                    return Err(RegistryError::Transport {
                        verb,
                        url: url.to_string(),
                        reason: describe(&e),
                    });
                }
            };
            let status = r.status();
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                // A new challenge (the registry switched to tokens) or an expired token.
                if let Some(c) = r
                    .headers()
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .map(auth::parse_challenge)
                    .filter(|c| *c != Challenge::None)
                {
                    let mut state = self.auth.lock().expect("auth lock");
                    state.challenge = c;
                    state.token = None;
                }
                // Basic auth without credentials: nothing to retry with (Docker's words).
                if self.credentials.is_none()
                    && self.auth.lock().expect("auth lock").challenge == Challenge::Basic
                {
                    return Err(RegistryError::Unauthorized(format!(
                        "{verb} \"{url}\": no basic auth credentials"
                    )));
                }
                refreshed = true;
                self.authorization(true)?;
                attempt = 0;
                continue;
            }
            if status.is_server_error() && attempt < attempts {
                log::debug!("{verb} {url}: {status}; retrying");
                continue;
            }
            return Ok(r);
        }
    }

    /// An error for an answer that was not what the protocol promises.
    pub(crate) fn answer_error(&self, verb: &str, url: &str, r: Response) -> RegistryError {
        let status = r.status();
        let body = read_bounded(r, MAX_ERROR_BODY, "an error answer").unwrap_or_default();
        let text = error_text(&body).unwrap_or_else(|| {
            let b = String::from_utf8_lossy(&body).trim().to_string();
            if b.is_empty() {
                format!("unexpected status {status}")
            } else {
                format!("unexpected status {status}: {b}")
            }
        });
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                RegistryError::Unauthorized(format!("{verb} \"{url}\": {text}"))
            }
            _ => RegistryError::Api(format!("{verb} \"{url}\": {text}")),
        }
    }

    /// Fetches the manifest for `reference` (a tag or a digest); `display` names it in errors
    /// (`localhost:5000/team/app:1`). A manifest fetched by digest must hash to it.
    pub fn manifest(
        &self,
        reference: &str,
        display: &str,
    ) -> Result<FetchedManifest, RegistryError> {
        let url = self.url(&format!("manifests/{reference}"));
        let accept = ACCEPTED.join(", ");
        let r = self.send(Method::GET, &url, &|b| b.header("Accept", accept.as_str()))?;
        let status = r.status();
        if status == StatusCode::NOT_FOUND {
            let body = read_bounded(r, MAX_ERROR_BODY, "an error answer").unwrap_or_default();
            return Err(RegistryError::ManifestUnknown {
                reference: display.to_string(),
                detail: error_text(&body)
                    .unwrap_or_else(|| "manifest unknown: manifest unknown".into()),
            });
        }
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            let body = read_bounded(r, MAX_ERROR_BODY, "an error answer").unwrap_or_default();
            let repository = display.rsplit_once('@').map(|(n, _)| n).unwrap_or(display);
            let repository = match repository.rsplit_once(':') {
                Some((n, t)) if !t.contains('/') => n,
                _ => repository,
            };
            return Err(RegistryError::PullDenied {
                repository: repository.to_string(),
                detail: error_text(&body)
                    .unwrap_or_else(|| "denied: requested access to the resource is denied".into()),
            });
        }
        if !status.is_success() {
            return Err(self.answer_error("Get", &url, r));
        }
        let content_type = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let announced = r
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = read_bounded(r, MAX_MANIFEST, "the manifest")?;
        // A signed schema 1 manifest's digest is its payload's, not its bytes': it is refused
        // for what it is, not as a digest mismatch.
        let media = content_type.split(';').next().unwrap_or("").trim();
        if media == crate::manifest::DOCKER_SCHEMA1
            || media == crate::manifest::DOCKER_SCHEMA1_SIGNED
        {
            return Err(RegistryError::Schema1(display.to_string()));
        }
        let digest = Digest::of_bytes(&bytes);
        // By digest, the bytes must hash to it; by tag, to what the registry says they are.
        let expected = if reference.contains(':') {
            Some(reference.to_string())
        } else {
            announced.filter(|d| d.starts_with("sha256:"))
        };
        if let Some(expected) = expected {
            if digest.to_string() != expected {
                return Err(RegistryError::DigestMismatch {
                    what: format!("manifest of {display}"),
                    expected,
                    actual: digest.to_string(),
                });
            }
        }
        Ok(FetchedManifest {
            bytes,
            content_type,
            digest,
        })
    }

    /// Starts downloading blob `digest` from byte `offset` (`Range`); a registry that ignores
    /// the range has the skipped bytes read and dropped here.
    pub fn blob(&self, digest: &str, offset: u64) -> Result<BlobStream, RegistryError> {
        let url = self.url(&format!("blobs/{digest}"));
        let range = format!("bytes={offset}-");
        let r = self.send(Method::GET, &url, &|b| {
            if offset > 0 {
                b.header("Range", range.as_str())
            } else {
                b
            }
        })?;
        let status = r.status();
        if !(status == StatusCode::OK || status == StatusCode::PARTIAL_CONTENT) {
            return Err(self.answer_error("Get", &url, r));
        }
        let len = r.content_length();
        if offset > 0 && status == StatusCode::OK {
            let mut reader: Box<dyn Read + Send> = Box::new(r);
            std::io::copy(&mut (&mut reader).take(offset), &mut std::io::sink())?;
            return Ok(BlobStream {
                reader,
                remaining: len.map(|l| l.saturating_sub(offset)),
            });
        }
        Ok(BlobStream {
            reader: Box::new(r),
            remaining: len,
        })
    }

    /// Fetches a small blob (a config) whole and verifies it against `digest`.
    pub fn blob_bytes(&self, digest: &str, limit: u64) -> Result<Vec<u8>, RegistryError> {
        let stream = self.blob(digest, 0)?;
        let mut bytes = Vec::new();
        stream.reader.take(limit + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > limit {
            return Err(RegistryError::Invalid(format!(
                "blob {digest} is larger than {limit} bytes"
            )));
        }
        let actual = Digest::of_bytes(&bytes);
        if actual.to_string() != digest {
            return Err(RegistryError::DigestMismatch {
                what: "config blob".into(),
                expected: digest.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(bytes)
    }

    /// `HEAD` of a blob: its size when the repository has it.
    pub fn blob_exists(&self, digest: &str) -> Result<Option<u64>, RegistryError> {
        let url = self.url(&format!("blobs/{digest}"));
        let r = self.send(Method::HEAD, &url, &|b| b)?;
        match r.status() {
            s if s.is_success() => Ok(Some(r.content_length().unwrap_or(0))),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(self.answer_error("Head", &url, r)),
        }
    }

    /// Starts an upload, first asking the registry to mount `mount` (digest, source repository)
    /// from another repository of the same registry.
    pub fn start_upload(&self, mount: Option<(&str, &str)>) -> Result<UploadStart, RegistryError> {
        let tail = match mount {
            Some((digest, from)) => format!(
                "blobs/uploads/?mount={}&from={}",
                auth::url_encode(digest),
                auth::url_encode(from)
            ),
            None => "blobs/uploads/".to_string(),
        };
        let url = self.url(&tail);
        let r = self.send(Method::POST, &url, &|b| b.header("Content-Length", "0"))?;
        match r.status() {
            StatusCode::CREATED if mount.is_some() => Ok(UploadStart::Mounted),
            StatusCode::ACCEPTED | StatusCode::CREATED => {
                let header = |name: &str| r.headers().get(name).and_then(|v| v.to_str().ok());
                let loc = header("location").ok_or_else(|| {
                    RegistryError::Invalid(format!("Post \"{url}\": no Location in the answer"))
                })?;
                Ok(UploadStart::Location(crate::upload::Upload {
                    url: self.absolute(loc),
                    min_chunk: header("oci-chunk-min-length").and_then(|v| v.trim().parse().ok()),
                }))
            }
            _ => Err(self.answer_error("Post", &url, r)),
        }
    }

    /// Monolithic upload: `PUT location?digest=` with the whole blob.
    pub fn put_blob(&self, location: &str, digest: &str, data: &[u8]) -> Result<(), RegistryError> {
        let url = with_query(location, "digest", digest);
        let r = self.send(Method::PUT, &url, &|b| {
            b.header("Content-Type", "application/octet-stream")
                .body(data.to_vec())
        })?;
        if r.status() == StatusCode::CREATED || r.status().is_success() {
            return Ok(());
        }
        Err(self.answer_error("Put", &url, r))
    }

    /// Streamed upload: one `PATCH` whose body is `body` (chunked transfer), then
    /// `PUT ?digest=` to commit it. Not retried here (the body cannot be replayed); the caller
    /// starts over.
    pub fn upload_stream(
        &self,
        location: &str,
        body: impl Read + Send + 'static,
        digest: impl FnOnce() -> String,
    ) -> Result<(), RegistryError> {
        let mut req = self
            .http
            .patch(location)
            .header("Content-Type", "application/octet-stream")
            .timeout(Duration::from_secs(24 * 3600))
            .body(reqwest::blocking::Body::new(body));
        if let Some(h) = self.authorization(false)? {
            req = req.header("Authorization", h);
        }
        let r = req.send().map_err(|e| RegistryError::Transport {
            verb: "Patch",
            url: location.to_string(),
            reason: describe(&e),
        })?;
        if r.status() != StatusCode::ACCEPTED && !r.status().is_success() {
            return Err(self.answer_error("Patch", location, r));
        }
        let next = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(|l| self.absolute(l))
            .unwrap_or_else(|| location.to_string());
        let digest = Digest::parse(&digest())
            .map_err(|e| RegistryError::Invalid(format!("the uploaded blob's digest: {e}")))?;
        self.commit_upload(&next, &digest)
    }

    /// Stores a manifest under `reference` (a tag or its digest); returns its digest.
    pub fn put_manifest(
        &self,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Digest, RegistryError> {
        let url = self.url(&format!("manifests/{reference}"));
        let r = self.send(Method::PUT, &url, &|b| {
            b.header("Content-Type", media_type).body(bytes.to_vec())
        })?;
        if !(r.status() == StatusCode::CREATED || r.status().is_success()) {
            return Err(self.answer_error("Put", &url, r));
        }
        Ok(Digest::of_bytes(bytes))
    }

    /// Every tag of the repository (following `Link` pagination).
    pub fn tags(&self, display: &str) -> Result<Vec<String>, RegistryError> {
        #[derive(serde::Deserialize)]
        struct Tags {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let mut out = Vec::new();
        let mut url = self.url("tags/list");
        for _ in 0..1000 {
            let r = self.send(Method::GET, &url, &|b| b)?;
            if r.status() == StatusCode::NOT_FOUND {
                return Err(RegistryError::ManifestUnknown {
                    reference: display.to_string(),
                    detail: "name unknown: repository name not known to registry".into(),
                });
            }
            if !r.status().is_success() {
                return Err(self.answer_error("Get", &url, r));
            }
            let next = r
                .headers()
                .get("link")
                .and_then(|v| v.to_str().ok())
                .and_then(|l| l.split(';').next())
                .map(|l| {
                    l.trim()
                        .trim_start_matches('<')
                        .trim_end_matches('>')
                        .to_string()
                });
            let body = read_bounded(r, MAX_MANIFEST, "the tag list")?;
            let tags: Tags = serde_json::from_slice(&body)
                .map_err(|e| RegistryError::Invalid(format!("tag list of {display}: {e}")))?;
            out.extend(tags.tags.unwrap_or_default());
            match next {
                Some(n) if !n.is_empty() => url = self.absolute(&n),
                _ => break,
            }
        }
        Ok(out)
    }
}

pub(crate) fn with_query(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={}", auth::url_encode(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_registry_credentials_match_the_clis_keys() {
        let auth = |u: &str| AuthConfig {
            username: u.into(),
            password: "p".into(),
            ..Default::default()
        };
        let map = std::collections::BTreeMap::from([
            ("https://index.docker.io/v1/".to_string(), auth("hub")),
            ("127.0.0.1:5000".to_string(), auth("local")),
            ("other:1".to_string(), AuthConfig::default()),
        ]);
        let c = Credentials::PerRegistry(map);
        let user = |h: &str| c.for_registry(h).unwrap().map(|a| a.username);
        assert_eq!(user("docker.io").as_deref(), Some("hub"));
        assert_eq!(user("127.0.0.1:5000").as_deref(), Some("local"));
        assert_eq!(user("127.0.0.1:5001"), None);
        assert_eq!(user("other:1"), None, "an empty entry is anonymous");
    }

    #[test]
    fn registry_errors_read_like_dockers() {
        let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}"#;
        assert_eq!(
            error_text(body).unwrap(),
            "manifest unknown: manifest unknown"
        );
        assert!(error_text(b"not json").is_none());
    }

    #[test]
    fn backoff_grows_and_stops_growing() {
        assert_eq!(backoff(1), Duration::ZERO);
        assert_eq!(backoff(2), Duration::from_millis(500));
        assert_eq!(backoff(3), Duration::from_secs(1));
        assert_eq!(backoff(5), Duration::from_secs(4));
        assert_eq!(backoff(9), Duration::from_secs(4));
    }
}

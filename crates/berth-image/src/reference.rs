//! [`Reference`] parses and normalizes image references (`[registry[:port]/]path[:tag][@digest]`)
//! exactly as Docker does, so `busybox`, `library/busybox` and `index.docker.io/library/busybox`
//! all become `docker.io/library/busybox` and every rejection carries Docker's error text.
//!
//! The grammar is distribution/reference's; normalization is its `ParseNormalizedNamed` (what both
//! the docker CLI and the daemon call on user input):
//!
//! * the first `/`-separated component is a registry when it contains `.` or `:`, equals
//!   `localhost`, or contains upper case (registries may; paths may not); otherwise the registry is
//!   `docker.io` (`index.docker.io` is the same registry);
//! * a single-component path on `docker.io` gets the `library/` namespace;
//! * a tag, a digest, both or neither may follow; `latest` is only added on request
//!   ([`Reference::with_default_tag`]), so callers can tell `busybox` from `busybox:latest`;
//! * the full name `registry/path` is at most 255 characters (the reference daemon's rule).
//!
//! [`ImageLookup`] classifies what `docker image inspect X` and friends accept: an image ID
//! (`sha256:<64 hex>` or bare 64 hex), or a name that may also be a short ID prefix.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use berth_store::ErrorKind;
use regex::Regex;

/// The registry that names without one belong to.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// The legacy name of Docker Hub, normalized to [`DEFAULT_DOMAIN`].
pub const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// The namespace of official images on Docker Hub.
pub const OFFICIAL_REPO_PREFIX: &str = "library/";
/// The tag given to a reference that has neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";
/// Longest allowed repository name, registry included.
pub const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// Why a string is not a valid image reference. Every `Display` text is Docker's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// Anything that does not fit the grammar (bad characters, separators, empty tag...).
    #[error("invalid reference format")]
    InvalidFormat,
    /// Upper case in the repository path, as the docker CLI reports it (with the path, which
    /// includes `library/` for official images). See [`ReferenceError::daemon_message`].
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    UppercaseName(String),
    /// Upper case in the repository path, as the reference daemon reports it (no path).
    #[error("invalid reference format: repository name must be lowercase")]
    NameContainsUppercase,
    /// `registry/path` is longer than [`NAME_TOTAL_LENGTH_MAX`].
    #[error("repository name must not be more than 255 characters")]
    NameTooLong,
    /// A 64-hex string where a repository name was expected.
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    HexRepositoryName(String),
    /// A tag given on its own (daemon tag endpoint) that does not fit the tag grammar.
    #[error("invalid tag format")]
    InvalidTag,
    /// The digest's hex part has the wrong length for its algorithm.
    #[error("invalid checksum digest length")]
    DigestLength,
    /// The digest is malformed (upper-case hex, bad algorithm spelling...).
    #[error("invalid checksum digest format")]
    DigestFormat,
    /// The digest algorithm is well formed but not one of sha256, sha384, sha512.
    #[error("unsupported digest algorithm")]
    DigestUnsupported,
    /// `docker tag SRC NAME@DIGEST`.
    #[error("refusing to create a tag with a digest reference")]
    TagWithDigest,
    /// `docker tag SRC sha256:x`: the repository would be named like the digest algorithm.
    #[error("refusing to create an ambiguous tag using digest algorithm as name")]
    AmbiguousTag,
}

impl ReferenceError {
    /// Every reference error is the caller's mistake.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }

    /// The text the reference daemon (moby 20.10) sends for this error: the same as `Display`
    /// except that upper case in the path is reported without the path.
    pub fn daemon_message(&self) -> String {
        match self {
            ReferenceError::UppercaseName(_) => ReferenceError::NameContainsUppercase.to_string(),
            other => other.to_string(),
        }
    }

    /// The docker CLI's text for a reference it could not parse in `docker tag`:
    /// `Error parsing reference: "<input>" is not a valid repository/tag: <reason>`. The two
    /// `refusing to ...` errors are not parse errors and come back unwrapped.
    pub fn cli_message(&self, input: &str) -> String {
        match self {
            ReferenceError::TagWithDigest | ReferenceError::AmbiguousTag => self.to_string(),
            other => format!(
                "Error parsing reference: {} is not a valid repository/tag: {other}",
                berth_go::quote(input)
            ),
        }
    }
}

/// A normalized image reference: registry, repository path, and an optional tag and digest.
///
/// `Display` prints the full form (`docker.io/library/busybox:latest`);
/// [`Reference::familiar_string`] prints what `docker images` shows (`busybox:latest`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

static REFERENCE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        "^({})(?::({TAG}))?(?:@({DIGEST}))?$",
        name_pattern()
    ))
    .expect("reference regex")
});

static ANCHORED_NAME_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        "^(?:({})/)?({})$",
        domain_and_port(),
        remote_name()
    ))
    .expect("name regex")
});

static TAG_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("^{TAG}$")).expect("tag regex"));

static IDENTIFIER_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("^[a-f0-9]{64}$").expect("identifier regex"));

/// go-digest's own (looser) digest shape, used only to choose between "format" and
/// "unsupported" for algorithms it does not know.
static GO_DIGEST_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new("^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$").expect("digest regex")
});

const ALPHANUMERIC: &str = "[a-z0-9]+";
const SEPARATOR: &str = "(?:[._]|__|[-]+)";
const DOMAIN_COMPONENT: &str = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const OPTIONAL_PORT: &str = "(?::[0-9]+)?";
const IPV6_ADDRESS: &str = r"\[(?:[a-fA-F0-9:]+)\]";
const TAG: &str = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}";
const DIGEST: &str = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[[:xdigit:]]{32,}";

fn domain_and_port() -> String {
    let domain_name = format!(r"{DOMAIN_COMPONENT}(?:\.{DOMAIN_COMPONENT})*");
    format!("(?:{domain_name}|{IPV6_ADDRESS}){OPTIONAL_PORT}")
}

fn remote_name() -> String {
    let component = format!("{ALPHANUMERIC}(?:{SEPARATOR}{ALPHANUMERIC})*");
    format!("{component}(?:/{component})*")
}

fn name_pattern() -> String {
    format!("(?:{}/)?{}", domain_and_port(), remote_name())
}

/// Digest algorithms Docker can verify, with the length of their hex encoding.
const DIGEST_ALGORITHMS: [(&str, usize); 3] = [("sha256", 64), ("sha384", 96), ("sha512", 128)];

/// Validates `algorithm:hex` the way go-digest does.
fn validate_digest(s: &str) -> Result<(), ReferenceError> {
    let Some((algorithm, encoded)) = s.split_once(':') else {
        return Err(ReferenceError::DigestFormat);
    };
    if algorithm.is_empty() || encoded.is_empty() {
        return Err(ReferenceError::DigestFormat);
    }
    let Some(&(_, len)) = DIGEST_ALGORITHMS.iter().find(|(a, _)| *a == algorithm) else {
        return Err(if GO_DIGEST_RE.is_match(s) {
            ReferenceError::DigestUnsupported
        } else {
            ReferenceError::DigestFormat
        });
    };
    if encoded.len() != len {
        return Err(ReferenceError::DigestLength);
    }
    if !encoded
        .bytes()
        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(ReferenceError::DigestFormat);
    }
    Ok(())
}

/// Splits user input into registry and remainder (path plus tag/digest), applying Docker Hub's
/// defaults.
fn split_docker_domain(name: &str) -> (String, String) {
    let (domain, remainder) = match name.split_once('/') {
        None => {
            return (
                DEFAULT_DOMAIN.into(),
                format!("{OFFICIAL_REPO_PREFIX}{name}"),
            )
        }
        Some((first, rest)) => {
            if first == "localhost" {
                (first.to_string(), rest.to_string())
            } else if first == LEGACY_DEFAULT_DOMAIN {
                (DEFAULT_DOMAIN.to_string(), rest.to_string())
            } else if first.contains(['.', ':']) || first.to_lowercase() != first {
                (first.to_string(), rest.to_string())
            } else {
                (DEFAULT_DOMAIN.to_string(), name.to_string())
            }
        }
    };
    if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        return (domain, format!("{OFFICIAL_REPO_PREFIX}{remainder}"));
    }
    (domain, remainder)
}

impl Reference {
    /// Parses and normalizes a reference as Docker does for user input (`ParseNormalizedNamed`).
    /// No default tag is added: see [`Reference::with_default_tag`].
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        if IDENTIFIER_RE.is_match(s) {
            return Err(ReferenceError::HexRepositoryName(s.to_string()));
        }
        let (domain, remainder) = split_docker_domain(s);
        let remote = remainder.split(':').next().unwrap_or_default();
        if remote.to_lowercase() != remote {
            return Err(ReferenceError::UppercaseName(remote.to_string()));
        }
        Self::parse_full(&format!("{domain}/{remainder}"))
    }

    /// Parses like [`Reference::parse`] and adds the `latest` tag when neither a tag nor a
    /// digest was given (what `docker run`/`pull`/`create` do).
    pub fn parse_with_default_tag(s: &str) -> Result<Reference, ReferenceError> {
        Self::parse(s).map(Reference::with_default_tag)
    }

    /// Parses the target of `docker tag SOURCE TARGET`: a name with an optional tag (default
    /// `latest`), never a digest, and never a repository called like the digest algorithm.
    pub fn parse_tag_target(s: &str) -> Result<Reference, ReferenceError> {
        let reference = Self::parse(s)?;
        if reference.digest.is_some() {
            return Err(ReferenceError::TagWithDigest);
        }
        if reference.familiar_name() == "sha256" {
            return Err(ReferenceError::AmbiguousTag);
        }
        Ok(reference.with_default_tag())
    }

    /// distribution/reference's `Parse` on an already complete `domain/path[:tag][@digest]`.
    fn parse_full(s: &str) -> Result<Reference, ReferenceError> {
        let Some(caps) = REFERENCE_RE.captures(s) else {
            let lower = s.to_lowercase();
            if lower != s && REFERENCE_RE.is_match(&lower) {
                return Err(ReferenceError::NameContainsUppercase);
            }
            return Err(ReferenceError::InvalidFormat);
        };
        let name = caps.get(1).map_or("", |m| m.as_str());
        if name.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::NameTooLong);
        }
        let name_caps = ANCHORED_NAME_RE
            .captures(name)
            .ok_or(ReferenceError::InvalidFormat)?;
        let domain = name_caps.get(1).map_or("", |m| m.as_str()).to_string();
        let path = name_caps.get(2).map_or("", |m| m.as_str()).to_string();
        let tag = caps.get(2).map(|m| m.as_str().to_string());
        let digest = caps.get(3).map(|m| m.as_str().to_string());
        if let Some(digest) = &digest {
            validate_digest(digest)?;
        }
        Ok(Reference {
            domain,
            path,
            tag,
            digest,
        })
    }

    /// Adds the `latest` tag if the reference has neither tag nor digest (`TagNameOnly`).
    pub fn with_default_tag(mut self) -> Reference {
        if self.is_name_only() {
            self.tag = Some(DEFAULT_TAG.to_string());
        }
        self
    }

    /// The same repository with `tag` (any digest is kept). Fails with `invalid tag format`.
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        if !TAG_RE.is_match(tag) {
            return Err(ReferenceError::InvalidTag);
        }
        Ok(Reference {
            tag: Some(tag.to_string()),
            ..self.clone()
        })
    }

    /// The reference used to look an image up (`ParseDockerRef`): with both a tag and a digest
    /// the digest wins and the tag is dropped; with neither, `latest` is added.
    pub fn lookup_reference(&self) -> Reference {
        if self.digest.is_some() {
            return Reference {
                tag: None,
                ..self.clone()
            };
        }
        self.clone().with_default_tag()
    }

    /// True when there is neither a tag nor a digest.
    pub fn is_name_only(&self) -> bool {
        self.tag.is_none() && self.digest.is_none()
    }

    /// The registry, e.g. `docker.io` or `localhost:5000` (case as given). Empty in Docker's one
    /// odd case: a first component that looks like a registry (it has a `.`) but is not a valid
    /// host name, such as `spec.x_y-z/a`, is kept as part of the path.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path inside the registry, e.g. `library/busybox`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The full repository name, e.g. `docker.io/library/busybox`.
    pub fn name(&self) -> String {
        if self.domain.is_empty() {
            return self.path.clone();
        }
        format!("{}/{}", self.domain, self.path)
    }

    /// The repository name as Docker shows it: `busybox`, `user/x`, `localhost:5000/x`.
    pub fn familiar_name(&self) -> String {
        if self.domain != DEFAULT_DOMAIN {
            return self.name();
        }
        match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
            Some(rest) if !rest.contains('/') => rest.to_string(),
            _ => self.path.clone(),
        }
    }

    /// The tag, if any.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest (`algorithm:hex`), if any.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// The reference as `docker images` and `RepoTags` show it: `busybox:latest`,
    /// `myrepo/x:1`, `localhost:5000/x@sha256:...`.
    pub fn familiar_string(&self) -> String {
        let mut out = self.familiar_name();
        self.push_suffix(&mut out);
        out
    }

    fn push_suffix(&self, out: &mut String) {
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(digest);
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = self.name();
        self.push_suffix(&mut out);
        f.write_str(&out)
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

impl serde::Serialize for Reference {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Reference {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Reference::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// What a user-supplied image argument (`docker rmi X`, `docker inspect X`, `docker run X`)
/// designates, following the daemon's `GetImage`: IDs first, then names, then ID prefixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageLookup {
    /// A full image ID, always normalized to `sha256:<64 hex>` (from `sha256:<64 hex>` or bare
    /// 64 hex). Never a name.
    Id(String),
    /// A repository reference. When the name is not found, `id_prefix` (the hex digits of inputs
    /// such as `adb5` or `sha256:adb5`) is to be matched against image IDs; it must be unique.
    Name {
        /// The normalized reference, without a default tag (apply
        /// [`Reference::lookup_reference`] before looking it up).
        reference: Reference,
        /// Lower-case hex digits the input may abbreviate an image ID with.
        id_prefix: Option<String>,
    },
}

impl ImageLookup {
    /// Classifies `s` as Docker's `ParseAnyReference` does.
    pub fn parse(s: &str) -> Result<ImageLookup, ReferenceError> {
        if IDENTIFIER_RE.is_match(s) {
            return Ok(ImageLookup::Id(format!("sha256:{s}")));
        }
        if let Some(hex) = s.strip_prefix("sha256:") {
            if IDENTIFIER_RE.is_match(hex) {
                return Ok(ImageLookup::Id(s.to_string()));
            }
        }
        let reference = Reference::parse(s)?;
        let hex = s.strip_prefix("sha256:").unwrap_or(s);
        let id_prefix = (!hex.is_empty()
            && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| hex.to_string());
        Ok(ImageLookup::Name {
            reference,
            id_prefix,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HEX64: &str = "adb5f1ec7e9b5b8c3ad8d0c6bb2ff2c2c9b5b8e2f6e1b7d4c2a9f3e8d7c6b5a4";

    fn parse_err(s: &str) -> String {
        Reference::parse(s).unwrap_err().to_string()
    }

    /// Every row of spec §1.8: the input, then `Ok(full normalized form)` or `Err(text)`.
    #[test]
    fn spec_1_8_table() {
        let d64 = format!("sha256:{HEX64}");
        let long_tag = "t".repeat(128);
        let too_long_tag = "t".repeat(129);
        let cases: Vec<(String, Result<String, String>)> = vec![
            // Default registry, namespace (tags are not added by `parse`).
            ("busybox".into(), Ok("docker.io/library/busybox".into())),
            ("library/busybox".into(), Ok("docker.io/library/busybox".into())),
            ("docker.io/busybox".into(), Ok("docker.io/library/busybox".into())),
            ("docker.io/library/busybox".into(), Ok("docker.io/library/busybox".into())),
            ("index.docker.io/library/busybox".into(), Ok("docker.io/library/busybox".into())),
            ("index.docker.io/busybox".into(), Ok("docker.io/library/busybox".into())),
            ("user/x".into(), Ok("docker.io/user/x".into())),
            // Registry detection: `.`, `:`, `localhost`, upper case allowed in the registry.
            ("localhost/spec-a".into(), Ok("localhost/spec-a".into())),
            ("localhost:5000/spec-a".into(), Ok("localhost:5000/spec-a".into())),
            ("Localhost:5000/spec-a".into(), Ok("Localhost:5000/spec-a".into())),
            ("spec-UPPER.io/x".into(), Ok("spec-UPPER.io/x".into())),
            // distribution/reference >= 0.5 (docker CLI 28): an upper-case first component can
            // only be a registry, since paths are lower case.
            ("Spec/x".into(), Ok("Spec/x".into())),
            ("example.com/a/b/c:1.0".into(), Ok("example.com/a/b/c:1.0".into())),
            ("10.0.0.1:5000/x".into(), Ok("10.0.0.1:5000/x".into())),
            ("[::1]:5000/x".into(), Ok("[::1]:5000/x".into())),
            ("myhost:5000/x".into(), Ok("myhost:5000/x".into())),
            ("localhost:5000".into(), Ok("docker.io/library/localhost:5000".into())),
            ("reg.io:port/x".into(), Err("invalid reference format".into())),
            // Path components.
            ("spec--x".into(), Ok("docker.io/library/spec--x".into())),
            ("spec__x".into(), Ok("docker.io/library/spec__x".into())),
            ("spec.x_y-z/a".into(), Ok("spec.x_y-z/a".into())),
            ("spec---x".into(), Ok("docker.io/library/spec---x".into())),
            ("spec___x".into(), Err("invalid reference format".into())),
            ("spec..x".into(), Err("invalid reference format".into())),
            ("spec_-x".into(), Err("invalid reference format".into())),
            ("-spec".into(), Err("invalid reference format".into())),
            ("spec-".into(), Err("invalid reference format".into())),
            ("spec/".into(), Err("invalid reference format".into())),
            ("spec a".into(), Err("invalid reference format".into())),
            ("".into(), Err("invalid reference format".into())),
            ("spec//x".into(), Err("invalid reference format".into())),
            // Upper case in the path (CLI text).
            (
                "Spec-Upper".into(),
                Err("invalid reference format: repository name (library/Spec-Upper) must be lowercase".into()),
            ),
            (
                "user/Spec".into(),
                Err("invalid reference format: repository name (user/Spec) must be lowercase".into()),
            ),
            (
                "localhost:5000/Spec:tag".into(),
                Err("invalid reference format: repository name (Spec) must be lowercase".into()),
            ),
            // Tags.
            ("busybox:latest".into(), Ok("docker.io/library/busybox:latest".into())),
            ("busybox:_tag".into(), Ok("docker.io/library/busybox:_tag".into())),
            ("busybox:Tag.1-x".into(), Ok("docker.io/library/busybox:Tag.1-x".into())),
            ("busybox:-tag".into(), Err("invalid reference format".into())),
            ("busybox:.tag".into(), Err("invalid reference format".into())),
            ("busybox:".into(), Err("invalid reference format".into())),
            ("busybox:a:b".into(), Err("invalid reference format".into())),
            (format!("busybox:{long_tag}"), Ok(format!("docker.io/library/busybox:{long_tag}"))),
            (format!("busybox:{too_long_tag}"), Err("invalid reference format".into())),
            // Digests.
            (format!("busybox@{d64}"), Ok(format!("docker.io/library/busybox@{d64}"))),
            (format!("busybox:1@{d64}"), Ok(format!("docker.io/library/busybox:1@{d64}"))),
            ("busybox@sha256:abc".into(), Err("invalid reference format".into())),
            (format!("busybox@sha256:{}", &HEX64[..32]), Err("invalid checksum digest length".into())),
            (format!("busybox@sha256:{HEX64}00"), Err("invalid checksum digest length".into())),
            (format!("busybox@md5:{}", &HEX64[..32]), Err("unsupported digest algorithm".into())),
            (format!("busybox@foo+bar:{HEX64}"), Err("unsupported digest algorithm".into())),
            (
                format!("busybox@sha256:{}", HEX64.to_uppercase()),
                Err("invalid checksum digest format".into()),
            ),
            (format!("busybox@SHA256:{HEX64}"), Err(
                "invalid reference format: repository name (library/busybox@SHA256) must be lowercase".into(),
            )),
            (format!("x@sha512:{}", "a".repeat(128)), Ok(format!("docker.io/library/x@sha512:{}", "a".repeat(128)))),
            (format!("x@sha384:{}", "a".repeat(64)), Err("invalid checksum digest length".into())),
            (format!("busybox@{d64}:tag"), Err("invalid reference format".into())),
            // 64-hex names.
            (
                HEX64.into(),
                Err(format!("invalid repository name ({HEX64}), cannot specify 64-byte hexadecimal strings")),
            ),
            (format!("{HEX64}:1"), Ok(format!("docker.io/library/{HEX64}:1"))),
            (format!("user/{HEX64}"), Ok(format!("docker.io/user/{HEX64}"))),
        ];
        for (input, want) in cases {
            let got = Reference::parse(&input)
                .map(|r| r.to_string())
                .map_err(|e| e.to_string());
            assert_eq!(got, want, "input {input:?}");
        }

        // The rows about what happens around parsing: default tag, the daemon's text, the tag
        // endpoint, `docker tag` (with the CLI's wrapper) and image-ID forms.
        #[derive(Debug, Clone, Copy)]
        enum Op {
            DefaultTag,
            Daemon,
            WithTag,
            TagCli,
            Lookup,
        }
        let run = |op: Op, input: &str| -> Result<String, String> {
            match op {
                Op::DefaultTag => Reference::parse_with_default_tag(input)
                    .map(|r| r.to_string())
                    .map_err(|e| e.to_string()),
                Op::Daemon => Reference::parse(input)
                    .map(|r| r.to_string())
                    .map_err(|e| e.daemon_message()),
                Op::WithTag => Reference::parse("busybox")
                    .and_then(|r| r.with_tag(input))
                    .map(|r| r.to_string())
                    .map_err(|e| e.to_string()),
                Op::TagCli => Reference::parse_tag_target(input)
                    .map(|r| r.familiar_string())
                    .map_err(|e| e.cli_message(input)),
                Op::Lookup => match ImageLookup::parse(input) {
                    Ok(ImageLookup::Id(id)) => Ok(format!("id {id}")),
                    Ok(ImageLookup::Name {
                        reference,
                        id_prefix,
                    }) => Ok(format!("name {reference} prefix {id_prefix:?}")),
                    Err(e) => Err(e.to_string()),
                },
            }
        };
        let ops: Vec<(Op, String, Result<String, String>)> = vec![
            (Op::DefaultTag, "busybox".into(), Ok("docker.io/library/busybox:latest".into())),
            (Op::DefaultTag, "x:1".into(), Ok("docker.io/library/x:1".into())),
            (Op::DefaultTag, format!("x@{d64}"), Ok(format!("docker.io/library/x@{d64}"))),
            (
                Op::Daemon,
                "Spec-Upper".into(),
                Err("invalid reference format: repository name must be lowercase".into()),
            ),
            (Op::WithTag, "-tag".into(), Err("invalid tag format".into())),
            (Op::WithTag, too_long_tag.clone(), Err("invalid tag format".into())),
            (Op::WithTag, "_tag".into(), Ok("docker.io/library/busybox:_tag".into())),
            (
                Op::TagCli,
                format!("x@{d64}"),
                Err("refusing to create a tag with a digest reference".into()),
            ),
            (
                Op::TagCli,
                "sha256:aaa".into(),
                Err("refusing to create an ambiguous tag using digest algorithm as name".into()),
            ),
            (
                Op::TagCli,
                "Spec-Upper".into(),
                Err("Error parsing reference: \"Spec-Upper\" is not a valid repository/tag: invalid reference format: repository name (library/Spec-Upper) must be lowercase".into()),
            ),
            (Op::TagCli, "docker.io/library/x".into(), Ok("x:latest".into())),
            (Op::Lookup, d64.clone(), Ok(format!("id {d64}"))),
            (Op::Lookup, HEX64.into(), Ok(format!("id {d64}"))),
            (
                Op::Lookup,
                "adb5".into(),
                Ok("name docker.io/library/adb5 prefix Some(\"adb5\")".into()),
            ),
        ];
        for (op, input, want) in ops {
            assert_eq!(run(op, &input), want, "{op:?} {input:?}");
        }
    }

    #[test]
    fn normalization_equivalences() {
        let forms = [
            "busybox",
            "library/busybox",
            "docker.io/busybox",
            "docker.io/library/busybox",
            "index.docker.io/library/busybox",
            "index.docker.io/busybox",
        ];
        let first = Reference::parse(forms[0]).unwrap();
        for form in forms {
            let r = Reference::parse(form).unwrap();
            assert_eq!(r, first, "{form}");
            assert_eq!(r.domain(), "docker.io");
            assert_eq!(r.path(), "library/busybox");
            assert_eq!(r.name(), "docker.io/library/busybox");
            assert_eq!(r.familiar_name(), "busybox");
            assert_eq!(r.with_default_tag().familiar_string(), "busybox:latest");
        }
    }

    #[test]
    fn accessors_and_familiar_forms() {
        let d64 = format!("sha256:{HEX64}");
        // input, familiar_name, familiar_string, tag, digest
        type Case = (
            String,
            &'static str,
            String,
            Option<&'static str>,
            Option<String>,
        );
        let cases: Vec<Case> = vec![
            ("busybox".into(), "busybox", "busybox".into(), None, None),
            (
                "busybox:1".into(),
                "busybox",
                "busybox:1".into(),
                Some("1"),
                None,
            ),
            ("docker.io/library/x".into(), "x", "x".into(), None, None),
            // Docker keeps a dotted first component that is not a valid host name in the path.
            (
                "spec.x_y-z/a".into(),
                "spec.x_y-z/a",
                "spec.x_y-z/a".into(),
                None,
                None,
            ),
            (
                "myrepo/x:1".into(),
                "myrepo/x",
                "myrepo/x:1".into(),
                Some("1"),
                None,
            ),
            (
                "library/a/b".into(),
                "library/a/b",
                "library/a/b".into(),
                None,
                None,
            ),
            (
                "localhost:5000/x:2".into(),
                "localhost:5000/x",
                "localhost:5000/x:2".into(),
                Some("2"),
                None,
            ),
            (
                format!("busybox:v@{d64}"),
                "busybox",
                format!("busybox:v@{d64}"),
                Some("v"),
                Some(d64.clone()),
            ),
        ];
        for (input, name, string, tag, digest) in cases {
            let r = Reference::parse(&input).unwrap();
            assert_eq!(r.familiar_name(), name, "{input}");
            assert_eq!(r.familiar_string(), string, "{input}");
            assert_eq!(r.tag(), tag, "{input}");
            assert_eq!(r.digest().map(str::to_string), digest, "{input}");
        }
    }

    #[test]
    fn default_tag_only_on_request() {
        let d64 = format!("sha256:{HEX64}");
        let cases = [
            (
                "busybox".to_string(),
                "docker.io/library/busybox:latest".to_string(),
            ),
            ("busybox:1".into(), "docker.io/library/busybox:1".into()),
            (
                format!("busybox@{d64}"),
                format!("docker.io/library/busybox@{d64}"),
            ),
            (
                format!("busybox:1@{d64}"),
                format!("docker.io/library/busybox:1@{d64}"),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                Reference::parse_with_default_tag(&input)
                    .unwrap()
                    .to_string(),
                want
            );
        }
        let plain = Reference::parse("busybox").unwrap();
        assert!(plain.is_name_only());
        assert_eq!(plain.tag(), None);
    }

    #[test]
    fn lookup_reference_prefers_digest() {
        let d64 = format!("sha256:{HEX64}");
        let r = Reference::parse(&format!("busybox:1@{d64}")).unwrap();
        assert_eq!(
            r.lookup_reference().to_string(),
            format!("docker.io/library/busybox@{d64}")
        );
        let r = Reference::parse("busybox").unwrap();
        assert_eq!(
            r.lookup_reference().to_string(),
            "docker.io/library/busybox:latest"
        );
    }

    #[test]
    fn name_length_limit_counts_registry_and_path() {
        // "example.com/" is 12 characters.
        let ok = format!("example.com/{}", "a".repeat(243));
        let too_long = format!("example.com/{}", "a".repeat(244));
        assert_eq!(ok.len(), 255);
        assert!(Reference::parse(&ok).is_ok());
        assert_eq!(too_long.len(), 256);
        assert_eq!(
            parse_err(&too_long),
            "repository name must not be more than 255 characters"
        );
        // Official images count their implicit "docker.io/library/" too.
        let bare = "a".repeat(237);
        assert!(Reference::parse(&bare).is_ok());
        let bare = "a".repeat(238);
        assert_eq!(
            parse_err(&bare),
            "repository name must not be more than 255 characters"
        );
        // A long tag does not count.
        assert!(Reference::parse(&format!("{ok}:{}", "t".repeat(128))).is_ok());
    }

    #[test]
    fn tagging_rules() {
        let d64 = format!("sha256:{HEX64}");
        let cases: Vec<(String, Result<&str, String>)> = vec![
            ("x".into(), Ok("x:latest")),
            ("docker.io/library/x".into(), Ok("x:latest")),
            ("myrepo/x:1".into(), Ok("myrepo/x:1")),
            (format!("x@{d64}"), Err("refusing to create a tag with a digest reference".into())),
            (format!("x:1@{d64}"), Err("refusing to create a tag with a digest reference".into())),
            ("sha256:aaa".into(), Err("refusing to create an ambiguous tag using digest algorithm as name".into())),
            ("sha256".into(), Err("refusing to create an ambiguous tag using digest algorithm as name".into())),
            ("localhost/sha256:1".into(), Ok("localhost/sha256:1")),
            (
                "Spec-Upper".into(),
                Err("Error parsing reference: \"Spec-Upper\" is not a valid repository/tag: invalid reference format: repository name (library/Spec-Upper) must be lowercase".into()),
            ),
            (
                "spec a".into(),
                Err("Error parsing reference: \"spec a\" is not a valid repository/tag: invalid reference format".into()),
            ),
        ];
        for (input, want) in cases {
            let got = Reference::parse_tag_target(&input)
                .map(|r| r.familiar_string())
                .map_err(|e| e.cli_message(&input));
            assert_eq!(got, want.map(str::to_string), "{input}");
        }
    }

    #[test]
    fn daemon_and_tag_texts() {
        let err = Reference::parse("Spec-Upper").unwrap_err();
        assert_eq!(
            err.daemon_message(),
            "invalid reference format: repository name must be lowercase"
        );
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        let r = Reference::parse("busybox").unwrap();
        assert_eq!(
            r.with_tag("-x").unwrap_err().to_string(),
            "invalid tag format"
        );
        assert_eq!(
            r.with_tag("v1").unwrap().to_string(),
            "docker.io/library/busybox:v1"
        );
        assert_eq!(
            r.with_tag(&"t".repeat(129)).unwrap_err(),
            ReferenceError::InvalidTag
        );
    }

    #[test]
    fn image_lookup_forms() {
        let full = format!("sha256:{HEX64}");
        let cases: Vec<(String, Result<ImageLookup, String>)> = vec![
            (full.clone(), Ok(ImageLookup::Id(full.clone()))),
            (HEX64.into(), Ok(ImageLookup::Id(full.clone()))),
            (
                "adb5".into(),
                Ok(ImageLookup::Name {
                    reference: Reference::parse("adb5").unwrap(),
                    id_prefix: Some("adb5".into()),
                }),
            ),
            (
                "sha256:adb5".into(),
                Ok(ImageLookup::Name {
                    reference: Reference::parse("sha256:adb5").unwrap(),
                    id_prefix: Some("adb5".into()),
                }),
            ),
            (
                "busybox".into(),
                Ok(ImageLookup::Name {
                    reference: Reference::parse("busybox").unwrap(),
                    id_prefix: None,
                }),
            ),
            (
                "ADB5".into(),
                Err(
                    "invalid reference format: repository name (library/ADB5) must be lowercase"
                        .into(),
                ),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                ImageLookup::parse(&input).map_err(|e| e.to_string()),
                want,
                "{input}"
            );
        }
    }

    #[test]
    fn serde_round_trip() {
        let r = Reference::parse("busybox:1").unwrap();
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, "\"docker.io/library/busybox:1\"");
        let back: Reference = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }

    fn reference_input() -> impl Strategy<Value = String> {
        let domain = prop_oneof![
            Just(String::new()),
            Just("docker.io/".to_string()),
            Just("index.docker.io/".to_string()),
            Just("localhost/".to_string()),
            Just("Localhost:5000/".to_string()),
            Just("spec-UPPER.io/".to_string()),
            Just("reg.example.com:443/".to_string()),
            Just("[::1]:5000/".to_string()),
        ];
        // The first component has no `.`: `docker.io/a.b/c` familiarizes to `a.b/c`, which
        // Docker itself would read back as registry `a.b`.
        let first = "[a-z0-9]{1,6}((_|__|-{1,3})[a-z0-9]{1,6}){0,2}";
        let component = "[a-z0-9]{1,6}((\\.|_|__|-{1,3})[a-z0-9]{1,6}){0,2}";
        let path = (first, prop::collection::vec(component, 0..3))
            .prop_map(|(f, rest)| std::iter::once(f).chain(rest).collect::<Vec<_>>().join("/"));
        let tag = prop::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}");
        let digest = prop::option::of("[a-f0-9]{64}");
        (domain, path, tag, digest).prop_map(|(d, p, t, g)| {
            let mut s = format!("{d}{p}");
            if let Some(t) = t {
                s.push(':');
                s.push_str(&t);
            }
            if let Some(g) = g {
                s.push_str("@sha256:");
                s.push_str(&g);
            }
            s
        })
    }

    proptest! {
        #[test]
        fn parse_display_round_trip(input in reference_input()) {
            let r = Reference::parse(&input).unwrap();
            prop_assert_eq!(&Reference::parse(&r.to_string()).unwrap(), &r);
            prop_assert_eq!(&Reference::parse(&r.familiar_string()).unwrap(), &r);
        }
    }
}

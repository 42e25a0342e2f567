//! berth's OCI distribution client. [`client::Registry`] opens [`client::Repository`] sessions
//! (references → manifests → blobs) over the endpoints [`endpoint::RegistryOptions`] gives for a
//! registry (mirrors, insecure registries, TLS per host from certs.d), authenticating as the
//! registry asks ([`auth`]: Basic, or Bearer tokens) with credentials from the docker CLI's
//! file and helpers ([`credentials`]). [`manifest`] parses and selects manifests; [`search`] asks an
//! index's v1 search API (`docker search`). What to do
//! with the bytes (verify, unpack, record) is the engine's business: this crate only talks.
//!
//! Why our own small distribution layer on `reqwest` rather than `oci-client`: berth's store and
//! engine are synchronous and a pull streams each layer from the socket through its digest,
//! decompression and tar extraction in one worker thread. `oci-client` is async-only and hands
//! out whole blobs or async streams, has no `Range` resume from an arbitrary offset, does not
//! read Docker's credential helpers or `certs.d`, and words errors its own way; adapting it would
//! take more code than the ~1,000 lines here. `reqwest`'s blocking client gives a `Read` per
//! response, connection pooling, redirects (blob storage), and takes a `rustls` configuration we
//! build per host (system roots + `certs.d` CAs and client certificates, or no verification for
//! an insecure registry). Protocol knowledge kept by hand here: the token flow, `Range`, mount
//! and upload URLs, and Docker's error texts.
#![warn(missing_docs)]

pub mod auth;
pub mod client;
pub mod credentials;
pub mod endpoint;
pub mod error;
pub mod manifest;
pub mod search;
mod tls;
pub mod upload;

pub use client::{Access, Credentials, Registry, Repository};
pub use credentials::{AuthConfig, CredentialStore};
pub use endpoint::RegistryOptions;
pub use error::RegistryError;
pub use manifest::DescriptorPlatform;

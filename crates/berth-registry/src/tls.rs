//! [`tls_config`] builds the TLS client configuration for one registry host the way Docker's
//! daemon does: the system's trusted roots plus every `*.crt` in `<certs.d>/<host>/` (Docker's
//! `/etc/docker/certs.d`), a client certificate from a `*.cert` / `*.key` pair there, and, for an
//! insecure registry, no verification at all.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::RegistryError;

/// rustls with *ring*: it builds with a C compiler alone (aws-lc needs cmake); the deprecation
/// is about post-quantum key exchange, which registries do not need.
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The system's trusted roots, read once per process.
fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let loaded = rustls_native_certs::load_native_certs();
        for e in &loaded.errors {
            log::debug!("system trust store: {e}");
        }
        loaded.certs
    })
}

/// Files of `dir` whose names end in `suffix`, sorted (a missing dir has none).
fn files_with_suffix(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(suffix))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The TLS configuration for `host` (`name[:port]`) given the certs.d directories to look in.
pub fn tls_config(
    host: &str,
    certs_dirs: &[PathBuf],
    verify: bool,
) -> Result<rustls::ClientConfig, RegistryError> {
    let tls_err = |e: String| RegistryError::Tls(e);
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(e.to_string()))?;
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(system_roots().iter().cloned());
    log::debug!("{added} system roots trusted for {host}");
    let mut client_pair: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> = None;
    for base in certs_dirs {
        let dir = base.join(host);
        for ca in files_with_suffix(&dir, ".crt") {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&ca)
                .map_err(|e| tls_err(format!("{}: {e}", ca.display())))?
                .collect::<Result<_, _>>()
                .map_err(|e| tls_err(format!("{}: {e}", ca.display())))?;
            for c in certs {
                roots
                    .add(c)
                    .map_err(|e| tls_err(format!("{}: {e}", ca.display())))?;
            }
        }
        for cert in files_with_suffix(&dir, ".cert") {
            let key = cert.with_extension("key");
            if !key.exists() {
                return Err(tls_err(format!(
                    "missing key {} for client certificate {}. CA certificates must use the extension .crt",
                    key.file_name().unwrap_or_default().to_string_lossy(),
                    cert.file_name().unwrap_or_default().to_string_lossy()
                )));
            }
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert)
                .map_err(|e| tls_err(format!("{}: {e}", cert.display())))?
                .collect::<Result<_, _>>()
                .map_err(|e| tls_err(format!("{}: {e}", cert.display())))?;
            let key = PrivateKeyDer::from_pem_file(&key)
                .map_err(|e| tls_err(format!("{}: {e}", key.display())))?;
            client_pair = Some((chain, key));
        }
        for key in files_with_suffix(&dir, ".key") {
            if !key.with_extension("cert").exists() {
                return Err(tls_err(format!(
                    "missing client certificate {} for key {}",
                    key.with_extension("cert")
                        .file_name()
                        .unwrap_or_default()
                        .to_string_lossy(),
                    key.file_name().unwrap_or_default().to_string_lossy()
                )));
            }
        }
    }
    let builder = if verify {
        builder.with_root_certificates(roots)
    } else {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnything(provider())))
    };
    let config = match client_pair {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| tls_err(format!("client certificate for {host}: {e}")))?,
        None => builder.with_no_client_auth(),
    };
    Ok(config)
}

/// The verifier of an insecure registry: any certificate is accepted (Docker's
/// `InsecureSkipVerify`), signatures are still checked so the handshake is well formed.
#[derive(Debug)]
struct AcceptAnything(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

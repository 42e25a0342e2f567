//! [`Client`]: one plugin's HTTP endpoint. Each call is a `POST /Method` with a JSON body and
//! Docker's plugin media type; like dockerd, a call that cannot reach the plugin is retried with
//! exponential back-off (1 s, 2 s, 4 s, ...) until 30 seconds would have passed, so a plugin that
//! is still starting is waited for; a non-200 answer becomes `METHOD: Err` from the body's `Err`
//! field or the body itself. Answers are read up to a fixed size, and every call has a deadline.

use std::io::Read;
use std::time::{Duration, Instant};

use super::discovery::Address;
use super::PluginError;

/// The media type of plugin requests and answers (protocol version 1.2).
pub const MEDIA_TYPE: &str = "application/vnd.docker.plugins.v1.2+json";

/// dockerd's retry budget for a call that cannot reach the plugin.
const RETRY_BUDGET: Duration = Duration::from_secs(30);

/// Largest answer read from a plugin (a `List` of many volumes fits easily).
const ANSWER_LIMIT: u64 = 16 << 20;

/// A plugin's HTTP endpoint.
pub struct Client {
    http: reqwest::blocking::Client,
    /// `http://host` for TCP; a placeholder host for unix sockets (the socket decides).
    base: String,
    /// The URL's host as Go prints it in errors (`%2Frun%2Fdocker%2Fplugins%2Fx.sock`).
    go_host: String,
    /// Go's dial target for connect errors (`unix /run/docker/plugins/x.sock`).
    dial: String,
}

impl Client {
    /// A client of the plugin at `addr`.
    pub fn new(addr: &Address) -> Result<Client, PluginError> {
        let builder = reqwest::blocking::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(10))
            // Per-call deadlines are set on each request.
            .timeout(None)
            .tls_backend_preconfigured(plain_tls());
        let dial = match addr {
            Address::Unix(p) => format!("unix {}", p.display()),
            Address::Tcp(h) => format!("tcp {h}"),
        };
        let (builder, base, go_host) = match addr {
            Address::Unix(path) => {
                let host = percent_encoding::utf8_percent_encode(
                    &path.to_string_lossy(),
                    percent_encoding::NON_ALPHANUMERIC,
                )
                .to_string()
                .replace("%2E", ".")
                .replace("%2D", "-")
                .replace("%5F", "_");
                (
                    builder.unix_socket(path.clone()),
                    "http://plugin".to_string(),
                    host,
                )
            }
            Address::Tcp(hostport) => (builder, format!("http://{hostport}"), hostport.clone()),
        };
        let http = builder.build().map_err(|e| PluginError::Transport {
            url: format!("http://{go_host}"),
            detail: describe(&e),
        })?;
        Ok(Client {
            http,
            base,
            go_host,
            dial,
        })
    }

    /// Calls `method` with `body` (`None`: an empty body, as dockerd sends `Plugin.Activate`)
    /// and returns the parsed answer; `timeout` bounds each attempt.
    pub fn call(
        &self,
        method: &str,
        body: Option<&serde_json::Value>,
        timeout: Duration,
    ) -> Result<serde_json::Value, PluginError> {
        let payload = match body {
            Some(v) => {
                let mut b = serde_json::to_vec(v).expect("JSON values serialize");
                b.push(b'\n');
                b
            }
            None => Vec::new(),
        };
        let start = Instant::now();
        let mut retries = 0u32;
        loop {
            let sent = self
                .http
                .post(format!("{}/{method}", self.base))
                .header(reqwest::header::ACCEPT, MEDIA_TYPE)
                .header(reqwest::header::CONTENT_TYPE, MEDIA_TYPE)
                .timeout(timeout)
                .body(payload.clone())
                .send();
            let resp = match sent {
                Ok(r) => r,
                Err(e) => {
                    let detail = if e.is_connect() {
                        format!("dial {}: connect: {}", self.dial, describe(&e))
                    } else {
                        describe(&e)
                    };
                    let pause = backoff(retries);
                    if start.elapsed() + pause >= RETRY_BUDGET {
                        return Err(PluginError::Transport {
                            url: format!("http://{}/{method}", self.go_host),
                            detail,
                        });
                    }
                    // dockerd logs this in its own log, not to the client: berth's CLI
                    // shows it with --log-level debug.
                    log::debug!(
                        "Unable to connect to plugin: {}/{method}: {detail}, retrying in {}s",
                        self.go_host,
                        pause.as_secs()
                    );
                    retries += 1;
                    std::thread::sleep(pause);
                    continue;
                }
            };
            let status = resp.status().as_u16();
            let mut bytes = Vec::new();
            let read = resp.take(ANSWER_LIMIT).read_to_end(&mut bytes);
            if status != 200 {
                let message = match read {
                    Err(e) => e.to_string(),
                    Ok(_) => serde_json::from_slice::<serde_json::Value>(&bytes)
                        .ok()
                        .and_then(|v| v.get("Err").and_then(|e| e.as_str()).map(str::to_string))
                        .filter(|e| !e.is_empty())
                        .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned()),
                };
                return Err(PluginError::Status {
                    status,
                    method: method.to_string(),
                    message,
                });
            }
            read.map_err(|e| PluginError::Decode {
                method: method.to_string(),
                reason: e.to_string(),
            })?;
            return serde_json::from_slice(&bytes).map_err(|e| PluginError::Decode {
                method: method.to_string(),
                reason: e.to_string(),
            });
        }
    }
}

/// dockerd's back-off: 1 s doubled per retry, at most 30 s.
fn backoff(retries: u32) -> Duration {
    Duration::from_secs(1u64 << retries.min(5)).min(RETRY_BUDGET)
}

/// A reqwest error: the innermost errno in Go's words where there is one (`connection
/// refused`), else the error with its causes.
fn describe(e: &reqwest::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io.raw_os_error().is_some() {
                return berth_go::errno_text(io);
            }
        }
        source = s.source();
    }
    if e.is_timeout() {
        return "context deadline exceeded (Client.Timeout exceeded while awaiting headers)".into();
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// reqwest is built without a default TLS provider (berth-registry configures its own); plugin
/// addresses are plain HTTP, so an empty-root configuration that can never verify a server is
/// enough to build the client (with *ring*, as berth-registry; the deprecation is about
/// post-quantum key exchange, which plain HTTP never reaches).
#[allow(deprecated)]
fn plain_tls() -> rustls::ClientConfig {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_budget() {
        let secs: Vec<u64> = (0..7).map(|r| backoff(r).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30]);
    }
}

//! `POST /build` and `POST /build/prune`: Docker's classic-builder endpoint. The request body is
//! the context tar (plain or compressed), read as it arrives; the answer streams Docker's JSON
//! messages (`{"stream":"Step 1/3 : ..."}`, `{"aux":{"ID":...}}`, and `{"errorDetail":...}` for
//! a failure after the first step), so `DOCKER_BUILDKIT=0 docker build` and docker-py's
//! `images.build` print what they print against dockerd. A failure before any output (a bad
//! parameter, an unparsable Dockerfile) is an ordinary error answer.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io;
use std::sync::mpsc as std_mpsc;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use berth_build::builder::{BuildOptions, Output};
use berth_engine::build::{BuildRequest, ContextSource, DockerfileSource};
use berth_engine::image::RegistryAuth;
use berth_engine::{Engine, EngineError, EngineOptions};
use tokio::sync::mpsc;

use crate::request::ApiError;

/// Writes the builder's progress as Docker's JSON messages into the answer.
struct JsonOutput {
    tx: mpsc::Sender<Bytes>,
    quiet: bool,
    /// Told once, when the first message goes out (the answer's headers then go too).
    started: Option<std_mpsc::Sender<Result<(), EngineError>>>,
}

impl JsonOutput {
    fn send(&mut self, v: serde_json::Value) {
        if let Some(s) = self.started.take() {
            let _ = s.send(Ok(()));
        }
        let mut line = serde_json::to_vec(&v).expect("JSON");
        line.extend_from_slice(b"\r\n");
        let _ = self.tx.blocking_send(Bytes::from(line));
    }
}

impl Output for JsonOutput {
    fn stdout(&mut self, text: &str) {
        if !self.quiet {
            self.send(serde_json::json!({ "stream": text }));
        }
    }

    fn image_id(&mut self, id: &str) {
        self.send(serde_json::json!({ "aux": { "ID": id } }));
    }

    /// As dockerd: the pull's messages go into the build's stream as they are.
    fn pull_progress(&mut self, message: &serde_json::Value, _plain: Option<&str>) {
        if !self.quiet {
            self.send(message.clone());
        }
    }
}

fn json_map(
    query: &BTreeMap<String, String>,
    key: &str,
) -> Result<BTreeMap<String, Option<String>>, ApiError> {
    match query.get(key).map(String::as_str) {
        None | Some("") | Some("null") => Ok(BTreeMap::new()),
        Some(raw) => serde_json::from_str(raw)
            .map_err(|e| ApiError::bad_request(format!("failed to parse {key}: {e}"))),
    }
}

/// Parameters berth does not act on: refused unless they hold the value meaning "unset".
const UNSUPPORTED: &[(&str, &[&str])] = &[
    ("remote", &[""]),
    ("cpusetcpus", &[""]),
    ("cpusetmems", &[""]),
    ("cpushares", &["", "0"]),
    ("cpuquota", &["", "0"]),
    ("cpuperiod", &["", "0"]),
    ("memory", &["", "0"]),
    ("memswap", &["", "0"]),
    ("shmsize", &["", "0"]),
    ("cgroupparent", &[""]),
    ("isolation", &["", "default"]),
    ("squash", &["", "0", "false"]),
    ("extrahosts", &["", "[]", "null"]),
    ("ulimits", &["", "[]", "null"]),
    ("securityopt", &["", "[]", "null"]),
    ("cachefrom", &["", "[]", "null"]),
    ("outputs", &["", "[]", "null"]),
    ("session", &[""]),
    ("version", &["", "1"]),
];

/// `X-Registry-Config`: base64url JSON of credentials per registry (the docker CLI sends every
/// set it holds), for the pulls of base images.
fn registry_configs(
    header: Option<&str>,
) -> Result<BTreeMap<String, berth_registry::AuthConfig>, ApiError> {
    let configs: Option<BTreeMap<String, berth_registry::AuthConfig>> =
        crate::request::decode_header_json(header, "X-Registry-Config")?;
    Ok(configs.unwrap_or_default())
}

/// `POST /build`: `body` is the context.
pub fn build(
    opts: EngineOptions,
    raw_query: &str,
    query: BTreeMap<String, String>,
    registry_config: Option<&str>,
    body: Body,
) -> Result<Response, ApiError> {
    let flag = |name: &str| {
        query.get(name).is_some_and(|v| {
            !matches!(
                v.to_ascii_lowercase().as_str(),
                "" | "0" | "no" | "false" | "none"
            )
        })
    };
    for (key, ok) in UNSUPPORTED {
        if let Some(v) = query.get(*key) {
            if !ok.contains(&v.as_str()) {
                return Err(ApiError::bad_request(format!(
                    "berth's builder does not support the {key} parameter ({v})"
                )));
            }
        }
    }
    // `t` may be given several times (one per -t); the parsed query keeps only the last.
    let tags: Vec<String> = crate::request::url_pairs(raw_query)
        .into_iter()
        .filter(|(k, _)| k == "t")
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
        .collect();
    let dockerfile = query
        .get("dockerfile")
        .cloned()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "Dockerfile".into());
    let labels: BTreeMap<String, String> = json_map(&query, "labels")?
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect();
    if let Some(p) = query.get("platform").filter(|p| !p.is_empty()) {
        let host = berth_image::import::host_architecture();
        if p != "linux" && p != &format!("linux/{host}") {
            return Err(ApiError::bad_request(format!(
                "berth builds only for this machine's platform (linux/{host}), not {p}"
            )));
        }
    }
    let request = BuildRequest {
        context: ContextSource::Tar(Box::new(io::empty())),
        dockerfile: DockerfileSource::InContext(dockerfile),
        tags,
        options: BuildOptions {
            build_args: json_map(&query, "buildargs")?,
            target: query.get("target").cloned().filter(|t| !t.is_empty()),
            no_cache: flag("nocache"),
            labels,
            keep_containers: query.get("rm").is_some_and(|v| v == "0" || v == "false"),
        },
        network: query.get("networkmode").cloned().unwrap_or_default(),
        pull: flag("pull"),
        auth: RegistryAuth::PerRegistry(registry_configs(registry_config)?),
    };
    let quiet = flag("q");

    // The body, read as the build consumes it.
    let body = crate::upload::BodyReader::spawn(body);
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let (started_tx, started_rx) = std_mpsc::channel();
    let producer = move || {
        let mut out = JsonOutput {
            tx,
            quiet,
            started: Some(started_tx),
        };
        let mut request = request;
        request.context = ContextSource::Tar(Box::new(body));
        let result = Engine::open(opts).and_then(|mut e| e.build(request, &mut out));
        match result {
            Ok(built) => {
                if quiet {
                    out.send(serde_json::json!({ "stream": format!("{}\n", built.id) }));
                }
            }
            Err(e) => match out.started.take() {
                Some(s) => {
                    let _ = s.send(Err(e));
                }
                None => {
                    let code = match &e {
                        EngineError::BuildFailed(_, code) => *code,
                        _ => 1,
                    };
                    out.send(serde_json::json!({
                        "errorDetail": { "code": code, "message": e.to_string() },
                        "error": e.to_string(),
                    }));
                }
            },
        }
    };
    std::thread::Builder::new()
        .name(crate::body::PRODUCER_THREAD.into())
        .spawn(producer)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    // Headers go out with the first message; an error before it is an ordinary error answer.
    if let Ok(Err(e)) = started_rx.recv() {
        return Err(e.into());
    }
    let body = Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    }));
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// `POST /build/prune`.
pub fn prune(ctx: &mut crate::routes::Ctx) -> crate::request::ApiResult {
    let until = match ctx.req.query.get("filters").map(String::as_str) {
        None | Some("") | Some("{}") => None,
        Some(_) => {
            let filters = ctx.req.filters()?;
            filters
                .first("until")
                .map(|v| {
                    berth_go::parse_timestamp(v, chrono::Utc::now())
                        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
                        .map_err(|e| ApiError::bad_request(e.to_string()))
                })
                .transpose()?
        }
    };
    let (deleted, freed) = ctx.engine()?.prune_build_cache(until.as_deref())?;
    let ids: Vec<String> = deleted
        .iter()
        .map(|d| d.strip_prefix("sha256:").unwrap_or(d).to_string())
        .collect();
    Ok(crate::request::json(
        StatusCode::OK,
        &serde_json::json!({ "CachesDeleted": ids, "SpaceReclaimed": freed }),
    ))
}

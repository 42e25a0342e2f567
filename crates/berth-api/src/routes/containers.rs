//! `/containers`: list, create, inspect, start, stop, restart, kill, pause, unpause, rename,
//! top, stats, wait, resize, update and remove (attach, logs and the container's files have modules of
//! their own).

use std::io::Write;

use axum::http::StatusCode;
use berth_engine::container::{ListOptions, Started, Stopped};
use berth_engine::types::{CreateRequest, HostConfig, NetworkingConfig, UpdateRequest};
use berth_image::config::ContainerConfig;
use serde::Deserialize;
use serde_json::json;

use super::Ctx;
use crate::request::{empty, json, ApiError, ApiResult};
use crate::{body, compat};

/// The body of `POST /containers/create`: Docker's `Config` with the `HostConfig` inside it.
#[derive(Debug, Default, Deserialize)]
struct CreateBody {
    #[serde(flatten)]
    config: ContainerConfig,
    #[serde(rename = "HostConfig", default)]
    host_config: Option<HostConfig>,
    #[serde(rename = "NetworkingConfig", default)]
    networking_config: Option<NetworkingConfig>,
}

/// `POST /containers/create?name=`: 201 with the new ID.
pub fn create(ctx: &mut Ctx) -> ApiResult {
    let body: CreateBody = ctx.req.json()?;
    if body.config.image.is_empty() {
        return Err(ApiError::bad_request("No image was specified"));
    }
    let mut host_config = body.host_config.unwrap_or_default();
    let raw: serde_json::Value = serde_json::from_slice(&ctx.req.body).unwrap_or_default();
    compat::create_host_config(ctx.req.version, &raw["HostConfig"], &mut host_config);
    if raw["HostConfig"].get("LogConfig").is_none() {
        // No LogConfig at all (docker-py without log_config): the engine's default applies.
        host_config.log_config.kind.clear();
    }
    take_top_level_runtime(&raw, &mut host_config);
    let req = CreateRequest {
        name: ctx.req.query.get("name").filter(|n| !n.is_empty()).cloned(),
        config: body.config,
        host_config,
        networking_config: body.networking_config,
        platform: ctx.req.query.get("platform").cloned(),
        api_version: Some(ctx.req.version),
        ..Default::default()
    };
    let c = ctx.engine()?.create_container(req)?;
    Ok(json(
        StatusCode::CREATED,
        &json!({"Id": c.id, "Warnings": []}),
    ))
}

/// docker-py's `create_container(runtime=...)` sends `Runtime` beside `HostConfig`, not in it.
/// dockerd has no such field there and drops it (its inspect then shows its default, `runc`);
/// berth's default is another runtime, so it applies the asked one instead of ignoring it.
/// `HostConfig.Runtime`, when given, wins.
fn take_top_level_runtime(raw: &serde_json::Value, host_config: &mut HostConfig) {
    if let Some(r) = raw["Runtime"].as_str().filter(|r| !r.is_empty()) {
        if host_config.runtime.is_empty() {
            host_config.runtime = r.to_string();
        }
    }
}

/// `GET /containers/{id}/json?size=`.
pub fn inspect(ctx: &mut Ctx) -> ApiResult {
    let size = ctx.req.flag("size");
    let id = ctx.param.clone();
    let inspect = ctx.engine()?.inspect_container(&id, size)?;
    let value = serde_json::to_value(inspect).expect("inspect types serialize");
    Ok(json(
        StatusCode::OK,
        &compat::container_inspect(ctx.req.version, value),
    ))
}

/// `DELETE /containers/{id}?force=&v=&link=`: 204 (with `link`, `{id}` is `parent/alias` and
/// only that legacy link goes).
pub fn remove(ctx: &mut Ctx) -> ApiResult {
    let id = ctx.param.clone();
    if ctx.req.flag("link") {
        ctx.engine()?.remove_link(&id)?;
        return Ok(empty(StatusCode::NO_CONTENT));
    }
    let (force, volumes) = (ctx.req.flag("force"), ctx.req.flag("v"));
    ctx.engine()?.remove_container(&id, force, volumes)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `GET /containers/json?all=&limit=&size=&filters=`.
pub fn list(ctx: &mut Ctx) -> ApiResult {
    let opts = ListOptions {
        all: ctx.req.flag("all"),
        limit: ctx
            .req
            .query
            .get("limit")
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|n| *n > 0),
        latest: false,
        size: ctx.req.flag("size"),
        filters: ctx.req.filters()?,
    };
    let list = ctx.engine()?.list_containers(&opts)?;
    Ok(json(StatusCode::OK, &list))
}

/// `POST /containers/{id}/start`: 204, or 304 when it already runs. The shim runs it: the
/// container outlives the server.
pub fn start(ctx: &mut Ctx) -> ApiResult {
    // Any JSON object longer than `{}` and a little whitespace is a HostConfig.
    if ctx.req.body.len() > 7 {
        return Err(ApiError::bad_request(compat::start_body_refusal(
            ctx.req.version,
        )));
    }
    let id = ctx.param.clone();
    let c = ctx.engine()?.inspect_container(&id, false)?;
    if let Some(failed) = crate::attach::take_failed_launch(&c.id) {
        // The attach's launch failed: this start reports it, and a --rm container goes now.
        if c.host_config.auto_remove {
            let _ = ctx.engine()?.remove_container(&c.id, true, true);
        }
        return Err(failed);
    }
    let (_, started) = ctx.engine()?.start_container(&id, false, None)?;
    Ok(empty(if started == Started::AlreadyRunning {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::NO_CONTENT
    }))
}

/// The `t` parameter of stop and restart: seconds, `None` for the container's own default.
fn timeout(ctx: &Ctx) -> Result<Option<i64>, ApiError> {
    match ctx.req.query.get("t").filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => t
            .parse()
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("invalid value for t: {t:?}"))),
    }
}

/// `POST /containers/{id}/stop?t=`: 204, or 304 when it was not running.
pub fn stop(ctx: &mut Ctx) -> ApiResult {
    let id = ctx.param.clone();
    let t = timeout(ctx)?;
    let (_, stopped) = ctx.engine()?.stop_container(&id, t)?;
    Ok(empty(if stopped == Stopped::NotRunning {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::NO_CONTENT
    }))
}

/// `POST /containers/{id}/restart?t=`: 204.
pub fn restart(ctx: &mut Ctx) -> ApiResult {
    let id = ctx.param.clone();
    let t = timeout(ctx)?;
    ctx.engine()?.restart_container(&id, t)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `POST /containers/{id}/kill?signal=`: 204.
pub fn kill(ctx: &mut Ctx) -> ApiResult {
    let id = ctx.param.clone();
    let signal = ctx
        .req
        .query
        .get("signal")
        .filter(|s| !s.is_empty())
        .cloned()
        .unwrap_or_else(|| "KILL".into());
    ctx.engine()?.kill_container(&id, &signal)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `POST /containers/{id}/pause`: 204.
pub fn pause(ctx: &mut Ctx) -> ApiResult {
    let id = ctx.param.clone();
    ctx.engine()?.pause_container(&id)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `POST /containers/{id}/unpause`: 204.
pub fn unpause(ctx: &mut Ctx) -> ApiResult {
    let id = ctx.param.clone();
    ctx.engine()?.unpause_container(&id)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `POST /containers/{id}/rename?name=`: 204.
pub fn rename(ctx: &mut Ctx) -> ApiResult {
    let id = ctx.param.clone();
    let name = ctx.req.query.get("name").cloned().unwrap_or_default();
    ctx.engine()?.rename_container(&id, &name)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `GET /containers/{id}/top?ps_args=`: `ps` of its processes (`-ef` by default).
pub fn top(ctx: &mut Ctx) -> ApiResult {
    let args: Vec<String> = ctx
        .req
        .query
        .get("ps_args")
        .map(|a| a.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    ctx.answer(|e, id| e.container_top(id, &args))
}

/// `GET /containers/{id}/stats?stream=&one-shot=`: the container's usage from its cgroups, a
/// sample a second while `stream` (the default), else one (with a previous sample unless
/// `one-shot`).
pub fn stats(ctx: &mut Ctx) -> ApiResult {
    let stream = match ctx.req.query.get("stream") {
        None => true,
        Some(_) => ctx.req.flag("stream"),
    };
    let query = berth_engine::container::StatsQuery {
        stream,
        one_shot: ctx.req.flag("one-shot"),
    };
    if query.one_shot && query.stream {
        return Err(ApiError::bad_request(
            "cannot have stream=true and one-shot=true",
        ));
    }
    let name = ctx.param.clone();
    // Unknown containers are a 404 before the answer starts.
    let id = ctx.engine()?.inspect_container(&name, false)?.id;
    Ok(body::streamed(
        ctx.engine_options(),
        "application/json",
        move |e, mut w| {
            let gone = {
                let w = w.clone();
                move || w.client_gone()
            };
            let mut sink = |s: &berth_engine::container::StatsJson| {
                let mut line = serde_json::to_vec(s).expect("stats serialize");
                line.push(b'\n');
                w.write_all(&line)
            };
            if let Err(err) = e.container_stats(&id, query, &gone, &mut sink) {
                log::debug!("stats of {id}: {err}");
            }
        },
    ))
}

/// `POST /containers/{id}/wait?condition=`: waits until the container stops (`not-running`,
/// the default), exits next (`next-exit`, even if it has not started yet) or is removed
/// (`removed`), and answers its exit code. The headers go out at once, as Docker's do: the
/// docker CLI starts the container only once it has them.
pub fn wait(ctx: &mut Ctx) -> ApiResult {
    let condition = match compat::wait_has_condition(ctx.req.version) {
        true => ctx.req.query.get("condition").cloned().unwrap_or_default(),
        false => String::new(),
    };
    if !matches!(
        condition.as_str(),
        "" | "not-running" | "next-exit" | "removed"
    ) {
        return Err(ApiError::bad_request(format!(
            "invalid condition: {condition:?}"
        )));
    }
    let name = ctx.param.clone();
    let id = ctx.engine()?.inspect_container(&name, false)?.id;
    Ok(body::streamed(
        ctx.engine_options(),
        "application/json",
        move |e, mut w| {
            let gone = {
                let w = w.clone();
                move || w.client_gone()
            };
            let code = match condition.as_str() {
                "next-exit" => e.wait_next_exit(&id, false, &gone),
                "removed" => e.wait_next_exit(&id, true, &gone),
                _ => e.wait_container(&id),
            };
            let answer = match code {
                Ok(code) => json!({"StatusCode": code, "Error": null}),
                Err(err) => json!({"StatusCode": -1, "Error": {"Message": err.to_string()}}),
            };
            let _ = writeln!(w, "{answer}");
        },
    ))
}

/// `POST /containers/{id}/resize?h=&w=`: the size of its terminal.
pub fn resize(ctx: &mut Ctx) -> ApiResult {
    let (rows, cols) = ctx.req.terminal_size()?;
    let id = ctx.param.clone();
    ctx.engine()?.resize_container(&id, rows, cols)?;
    Ok(empty(StatusCode::OK))
}

/// `POST /containers/{id}/update`: new resource limits and restart policy; 200 with warnings.
pub fn update(ctx: &mut Ctx) -> ApiResult {
    let req: UpdateRequest = ctx.req.json()?;
    let id = ctx.param.clone();
    let warnings = ctx.engine()?.update_container(&id, &req)?;
    Ok(json(StatusCode::OK, &json!({"Warnings": warnings})))
}

/// `POST /containers/prune?filters=`: removes the stopped containers the filters select.
pub fn prune(ctx: &mut Ctx) -> ApiResult {
    let filters = ctx.req.filters()?;
    let (deleted, space) = ctx.engine()?.prune_containers(&filters)?;
    // Docker sends `null` when nothing was deleted.
    let deleted = (!deleted.is_empty()).then_some(deleted);
    Ok(json(
        StatusCode::OK,
        &json!({"ContainersDeleted": deleted, "SpaceReclaimed": space}),
    ))
}

#[cfg(test)]
mod tests {
    use super::{take_top_level_runtime, CreateBody};
    use crate::request::go_nulls::{assert_accepts_go_nulls, go_body};
    use serde_json::{json, Value};

    #[test]
    fn docker_pys_top_level_runtime_is_applied_unless_host_config_names_one() {
        let mut hc = berth_engine::types::HostConfig::default();
        take_top_level_runtime(&json!({"Runtime": "runc", "HostConfig": {}}), &mut hc);
        assert_eq!(hc.runtime, "runc");
        take_top_level_runtime(&json!({"Runtime": "crun"}), &mut hc);
        assert_eq!(hc.runtime, "runc", "HostConfig.Runtime wins");
        let mut hc = berth_engine::types::HostConfig::default();
        take_top_level_runtime(&json!({"Runtime": ""}), &mut hc);
        take_top_level_runtime(&json!({}), &mut hc);
        assert_eq!(hc.runtime, "", "the engine's default fills it at create");
    }

    /// How berth takes a field of Docker's create request.
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Takes {
        /// Applied to the container (or refused by the engine's checks where this host or berth
        /// cannot apply the value: `container::runconfig`, `network::plan`).
        Applied,
        /// Refused whenever set: Windows-only settings and what berth has no way to apply.
        Refused,
        /// Recorded and reported by inspect, and used by nothing at create, exactly as dockerd
        /// does (the client's business, image-build settings, output-only endpoint fields).
        Recorded,
    }
    use Takes::*;

    /// The no-silent-drops table: every field of Docker's container `Config`, `HostConfig` (with
    /// `Resources`) and `EndpointSettings` up to API 1.43, with a value to send and what berth
    /// does with it. Every one is read into berth's model and reported back (so none is parsed
    /// and lost); `Refused` ones are proven refused with a 400 through the API by the e2e test
    /// `api_verbs::create_fields_are_applied_or_refused`. (`VolumeDriver` and the mounts'
    /// `DriverConfig` belong to the volume plugins' work.)
    const CONFIG: &[(&str, &str, Takes)] = &[
        ("Hostname", r#""h""#, Applied),
        ("Domainname", r#""example.org""#, Applied),
        ("User", r#""1:2""#, Applied),
        ("AttachStdin", "true", Applied),
        ("AttachStdout", "true", Applied),
        ("AttachStderr", "true", Applied),
        ("ExposedPorts", r#"{"80/tcp":{}}"#, Applied),
        ("Tty", "true", Applied),
        ("OpenStdin", "true", Applied),
        ("StdinOnce", "true", Applied),
        ("Env", r#"["A=1"]"#, Applied),
        ("Cmd", r#"["true"]"#, Applied),
        ("Healthcheck", r#"{"Test":["CMD","true"]}"#, Applied),
        ("ArgsEscaped", "true", Recorded),
        ("Image", r#""busybox""#, Applied),
        ("Volumes", r#"{"/data":{}}"#, Applied),
        ("WorkingDir", r#""/tmp""#, Applied),
        ("Entrypoint", r#"["sh"]"#, Applied),
        ("NetworkDisabled", "true", Applied),
        ("MacAddress", r#""02:42:ac:11:00:09""#, Applied),
        ("OnBuild", r#"["RUN true"]"#, Recorded),
        ("Labels", r#"{"a":"b"}"#, Applied),
        ("StopSignal", r#""SIGUSR1""#, Applied),
        ("StopTimeout", "7", Applied),
        ("Shell", r#"["/bin/sh","-c"]"#, Recorded),
    ];

    /// See [`CONFIG`].
    const HOST_CONFIG: &[(&str, &str, Takes)] = &[
        ("Binds", r#"["/tmp:/t"]"#, Applied),
        ("ContainerIDFile", r#""/tmp/cid""#, Recorded),
        (
            "LogConfig",
            r#"{"Type":"json-file","Config":{"max-size":"1m"}}"#,
            Applied,
        ),
        ("NetworkMode", r#""none""#, Applied),
        (
            "PortBindings",
            r#"{"80/tcp":[{"HostIp":"","HostPort":"8080"}]}"#,
            Applied,
        ),
        (
            "RestartPolicy",
            r#"{"Name":"always","MaximumRetryCount":0}"#,
            Applied,
        ),
        ("AutoRemove", "true", Applied),
        ("VolumesFrom", r#"["other"]"#, Applied),
        ("ConsoleSize", "[30,100]", Applied),
        ("Annotations", r#"{"org.example/a":"b"}"#, Applied),
        ("CapAdd", r#"["NET_ADMIN"]"#, Applied),
        ("CapDrop", r#"["CHOWN"]"#, Applied),
        ("CgroupnsMode", r#""private""#, Applied),
        ("Dns", r#"["9.9.9.9"]"#, Applied),
        ("DnsOptions", r#"["ndots:2"]"#, Applied),
        ("DnsSearch", r#"["example.org"]"#, Applied),
        ("ExtraHosts", r#"["h:10.0.0.1"]"#, Applied),
        ("GroupAdd", r#"["wheel"]"#, Applied),
        ("IpcMode", r#""shareable""#, Applied),
        ("Cgroup", r#""container:other""#, Refused),
        ("Links", r#"["other:alias"]"#, Applied),
        ("OomScoreAdj", "100", Applied),
        ("PidMode", r#""host""#, Applied),
        ("Privileged", "true", Applied),
        ("PublishAllPorts", "true", Applied),
        ("ReadonlyRootfs", "true", Applied),
        ("SecurityOpt", r#"["no-new-privileges"]"#, Applied),
        ("StorageOpt", r#"{"size":"1G"}"#, Applied),
        ("Tmpfs", r#"{"/run":"size=1m"}"#, Applied),
        ("UTSMode", r#""host""#, Applied),
        ("UsernsMode", r#""host""#, Applied),
        ("ShmSize", "1048576", Applied),
        ("Sysctls", r#"{"net.ipv4.ip_forward":"1"}"#, Applied),
        ("Runtime", r#""runc""#, Applied),
        ("Isolation", r#""hyperv""#, Refused),
        ("CpuShares", "512", Applied),
        ("Memory", "67108864", Applied),
        ("NanoCpus", "500000000", Applied),
        ("CgroupParent", r#""mine""#, Applied),
        ("BlkioWeight", "300", Applied),
        (
            "BlkioWeightDevice",
            r#"[{"Path":"/dev/sda","Weight":300}]"#,
            Applied,
        ),
        (
            "BlkioDeviceReadBps",
            r#"[{"Path":"/dev/sda","Rate":1024}]"#,
            Applied,
        ),
        (
            "BlkioDeviceWriteBps",
            r#"[{"Path":"/dev/sda","Rate":1024}]"#,
            Applied,
        ),
        (
            "BlkioDeviceReadIOps",
            r#"[{"Path":"/dev/sda","Rate":10}]"#,
            Applied,
        ),
        (
            "BlkioDeviceWriteIOps",
            r#"[{"Path":"/dev/sda","Rate":10}]"#,
            Applied,
        ),
        ("CpuPeriod", "100000", Applied),
        ("CpuQuota", "50000", Applied),
        ("CpuRealtimePeriod", "1000000", Applied),
        ("CpuRealtimeRuntime", "950000", Applied),
        ("CpusetCpus", r#""0""#, Applied),
        ("CpusetMems", r#""0""#, Applied),
        (
            "Devices",
            r#"[{"PathOnHost":"/dev/null","PathInContainer":"/dev/n","CgroupPermissions":"rwm"}]"#,
            Applied,
        ),
        ("DeviceCgroupRules", r#"["c 1:3 rwm"]"#, Applied),
        (
            "DeviceRequests",
            r#"[{"Driver":"nvidia","Count":-1,"Capabilities":[["gpu"]]}]"#,
            Refused,
        ),
        ("KernelMemory", "67108864", Applied),
        ("KernelMemoryTCP", "67108864", Applied),
        ("MemoryReservation", "33554432", Applied),
        ("MemorySwap", "134217728", Applied),
        ("MemorySwappiness", "10", Applied),
        ("OomKillDisable", "true", Applied),
        ("PidsLimit", "64", Applied),
        (
            "Ulimits",
            r#"[{"Name":"nofile","Soft":1024,"Hard":2048}]"#,
            Applied,
        ),
        ("CpuCount", "2", Refused),
        ("CpuPercent", "50", Refused),
        ("IOMaximumIOps", "100", Refused),
        ("IOMaximumBandwidth", "1000", Refused),
        ("Mounts", r#"[{"Type":"tmpfs","Target":"/m"}]"#, Applied),
        ("MaskedPaths", r#"["/proc/kcore"]"#, Applied),
        ("ReadonlyPaths", r#"["/proc/sys"]"#, Applied),
        ("Init", "true", Applied),
    ];

    /// See [`CONFIG`].
    const ENDPOINT: &[(&str, &str, Takes)] = &[
        ("IPAMConfig", r#"{"IPv4Address":"10.9.0.5"}"#, Applied),
        ("Links", r#"["other:alias"]"#, Applied),
        ("Aliases", r#"["web"]"#, Applied),
        ("MacAddress", r#""02:42:ac:11:00:09""#, Applied),
        ("DriverOpts", r#"{"k":"v"}"#, Applied),
        ("NetworkID", r#""abc""#, Recorded),
        ("EndpointID", r#""abc""#, Recorded),
        ("Gateway", r#""10.9.0.1""#, Recorded),
        ("IPAddress", r#""10.9.0.5""#, Recorded),
        ("IPPrefixLen", "16", Recorded),
        ("IPv6Gateway", r#""fd00::1""#, Recorded),
        ("GlobalIPv6Address", r#""fd00::5""#, Recorded),
        ("GlobalIPv6PrefixLen", "64", Recorded),
    ];

    /// Every field of the table is read into berth's model and comes back as sent: none is
    /// accepted and thrown away by the parser.
    #[test]
    fn every_docker_create_field_is_read_not_dropped() {
        let read = |body: Value| -> CreateBody {
            let req = crate::request::Request {
                version: berth_engine::io::ApiVersion::V1_41,
                query: Default::default(),
                body: serde_json::to_vec(&body).unwrap().into(),
                upload: None,
                raw_query: String::new(),
                registry_auth: None,
            };
            req.json().unwrap_or_else(|e| panic!("{body}: {e:?}"))
        };
        for (field, sample, _) in CONFIG {
            let sample: Value = serde_json::from_str(sample).unwrap();
            let body = read(json!({ "Image": "busybox", *field: sample.clone() }));
            let back = serde_json::to_value(&body.config).unwrap();
            assert_eq!(back[field], sample, "Config.{field}");
        }
        for (field, sample, _) in HOST_CONFIG {
            let sample: Value = serde_json::from_str(sample).unwrap();
            let body =
                read(json!({ "Image": "busybox", "HostConfig": { *field: sample.clone() } }));
            let back = serde_json::to_value(body.host_config.unwrap()).unwrap();
            let got = match *field {
                // The mounts are kept as sent and reported with Docker's zero values filled in.
                "Mounts" => {
                    json!([{"Type": back[field][0]["Type"], "Target": back[field][0]["Target"]}])
                }
                _ => back[field].clone(),
            };
            assert_eq!(got, sample, "HostConfig.{field}");
        }
        for (field, sample, _) in ENDPOINT {
            let sample: Value = serde_json::from_str(sample).unwrap();
            let body = read(json!({ "Image": "busybox",
                "NetworkingConfig": { "EndpointsConfig": { "n": { *field: sample.clone() } } } }));
            let ep = &body.networking_config.unwrap().endpoints_config.unwrap()["n"];
            let back = serde_json::to_value(ep).unwrap();
            let got = match *field {
                "IPAMConfig" => json!({"IPv4Address": back[field]["IPv4Address"]}),
                _ => back[field].clone(),
            };
            assert_eq!(got, sample, "EndpointSettings.{field}");
        }
        // Each list is complete: no Docker field is missing from the table (HostConfig: 40
        // of its own less VolumeDriver, and the 31 of Resources).
        assert_eq!(
            (CONFIG.len(), HOST_CONFIG.len(), ENDPOINT.len()),
            (25, 70, 13)
        );
        assert_eq!(
            HOST_CONFIG.iter().filter(|f| f.2 == Refused).count()
                + CONFIG.iter().filter(|f| f.2 == Refused).count(),
            7
        );
    }

    /// Issue 21: moby's Go client sends `"LogConfig":{"Type":"","Config":null}` and nulls for
    /// every unset slice, map and pointer.
    #[test]
    fn create_accepts_what_the_go_client_sends() {
        assert_accepts_go_nulls::<CreateBody>(&go_body("container_create_zero"));
        assert_accepts_go_nulls::<CreateBody>(&go_body("container_create_full"));
    }
}

//! Container commands: `run`, `create`, `start`, `stop`, `restart`, `kill`, `rm`, `ps`, `logs`,
//! `exec`, `attach`, `wait`, `container inspect`, `container prune`, printed and exiting the way
//! the docker CLI does (125 for engine errors of `run`, 126/127 when the command cannot be
//! invoked or found, otherwise the container's own code).

use std::collections::BTreeMap;
use std::io::{self, IsTerminal};

use berth_engine::container::{AttachRequest, ListOptions, LogsRequest, Started};
use berth_engine::types::{
    CreateRequest, EndpointIpamConfig, EndpointSettings, ExecConfig, HostConfig, NetworkingConfig,
    PullPolicy, Resources, RestartPolicy, UpdateRequest,
};
use berth_engine::{Engine, EngineError};
use berth_image::config::ContainerConfig;
use berth_runtime::attach::{AttachIo, AttachOutcome, DetachKeys};
use berth_runtime::logs::{parse_tail, parse_time, LogOptions};
use berth_volume::mount_spec::{CliMountError, CliMountFlags, CliMounts};

use super::resources;
use crate::cli::{
    AttachArgs, ContainerInspectArgs, ExecArgs, ForceArg, KillArgs, LogsArgs, NamesArg, PsArgs,
    RenameArgs, RmArgs, RunArgs, StartArgs, StopArgs, TopArgs, UpdateArgs,
};
use berth_image::reference::ImageLookup;

use crate::error::{CliError, CliResult};
use crate::exit::Exit;
use crate::format::{self, units, Row};
use crate::output;

/// `berth: <text>` + docker's help pointer, as `docker run` prints CLI-side failures.
fn run_usage_error(text: &str) -> CliError {
    CliError {
        message: format!(
            "berth: {text}\n\nRun '{} --help' for more information",
            crate::parse::command_path()
        ),
        exit: Exit::Engine,
    }
}

/// An engine error during `run`: `berth: Error response from daemon: ...`, exit 125/126/127.
fn run_engine_error(e: EngineError) -> CliError {
    engine_error_with_code(&e, e.run_exit_code())
}

/// A failed start in `run`: like docker's CLI, the text decides 127 (`no such file or
/// directory`, `executable file not found`) and 126 (`permission denied`), else 125.
fn run_start_error(e: EngineError) -> CliError {
    let text = e.to_string();
    let code = if matches!(e, EngineError::RunConfig(_)) {
        // A configuration the engine refused before any process existed (a missing
        // `--device`): the daemon's error, 125, whatever its words.
        125
    } else if text.contains("executable file not found")
        || text.contains("no such file or directory")
    {
        127
    } else if text.contains("permission denied") {
        126
    } else {
        e.run_exit_code()
    };
    engine_error_with_code(&e, code)
}

fn engine_error_with_code(e: &EngineError, code: i32) -> CliError {
    CliError {
        message: format!(
            "berth: Error response from daemon: {e}\n\nRun 'berth run --help' for more information"
        ),
        exit: match code {
            126 => Exit::CannotInvoke,
            127 => Exit::NotFound,
            _ => Exit::Engine,
        },
    }
}

fn detach_keys(spec: Option<&str>) -> Result<DetachKeys, CliError> {
    match spec {
        None => Ok(DetachKeys::default()),
        Some(s) => DetachKeys::parse(s).map_err(|e| CliError::usage(e.to_string())),
    }
}

/// `-e K=V`, `-e K` (taken from berth's own environment when set, else kept as the bare name,
/// as the docker CLI does) and `--env-file` lines.
fn collect_env(args: &RunArgs) -> Result<Vec<String>, CliError> {
    let mut out = Vec::new();
    let mut push = |item: &str| {
        if item.contains('=') {
            out.push(item.to_string());
        } else if let Ok(v) = std::env::var(item) {
            out.push(format!("{item}={v}"));
        } else {
            out.push(item.to_string());
        }
    };
    for file in &args.env_file {
        let text = std::fs::read_to_string(file).map_err(|e| {
            run_usage_error(&format!("open {}: {}", file.display(), output::io_text(&e)))
        })?;
        for line in text.lines() {
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            push(line);
        }
    }
    for e in &args.env {
        push(e);
    }
    Ok(out)
}

/// `--restart NAME[:COUNT]`'s format (the docker CLI's check; the text is its error).
fn parse_restart(s: &str) -> Result<RestartPolicy, String> {
    let (name, count) = match s.split_once(':') {
        Some((n, c)) => (
            n,
            c.parse::<i64>().map_err(|_| {
                "invalid restart policy format: maximum retry count must be an integer".to_string()
            })?,
        ),
        None => (s, 0),
    };
    // The name is the engine's to check (dockerd's words, after the CLI's own checks).
    Ok(RestartPolicy {
        name: name.to_string(),
        maximum_retry_count: count,
    })
}

/// `--security-opt` as the docker CLI sends it: a `seccomp=FILE` becomes `seccomp=<the file's
/// compacted JSON>`, and `systempaths=unconfined` is taken out (it empties the masked and
/// read-only paths instead). Returns the options and whether system paths are unconfined.
fn security_opts(opts: &[String]) -> Result<(Vec<String>, bool), CliError> {
    let mut out = Vec::new();
    let mut unconfined_paths = false;
    for opt in opts {
        let (key, value) = match opt.split_once('=') {
            Some(kv) => kv,
            None if opt == "no-new-privileges" => (opt.as_str(), ""),
            None => opt
                .split_once(':')
                .ok_or_else(|| run_usage_error(&format!("Invalid --security-opt: {opt:?}")))?,
        };
        if key == "systempaths" && value == "unconfined" {
            unconfined_paths = true;
            continue;
        }
        if key == "seccomp" && value != "unconfined" {
            let bytes = std::fs::read(value).map_err(|e| {
                run_usage_error(&format!(
                    "opening seccomp profile ({value}) failed: open {value}: {}",
                    output::io_text(&e)
                ))
            })?;
            let json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
                run_usage_error(&format!(
                    "compacting json for seccomp profile ({value}) failed: {e}"
                ))
            })?;
            out.push(format!("seccomp={json}"));
            continue;
        }
        out.push(opt.clone());
    }
    Ok((out, unconfined_paths))
}

/// Which streams `-a` names (all three without `-a`).
#[derive(Debug, Clone, Copy)]
struct Streams {
    stdin: bool,
    stdout: bool,
    stderr: bool,
}

fn attach_streams(list: &[String]) -> Result<Streams, CliError> {
    if list.is_empty() {
        return Ok(Streams {
            stdin: false,
            stdout: true,
            stderr: true,
        });
    }
    let mut s = Streams {
        stdin: false,
        stdout: false,
        stderr: false,
    };
    for name in list {
        match name.to_ascii_lowercase().as_str() {
            "stdin" => s.stdin = true,
            "stdout" => s.stdout = true,
            "stderr" => s.stderr = true,
            _ => {
                return Err(run_usage_error(&format!(
                    "invalid argument \"{name}\" for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR"
                )))
            }
        }
    }
    Ok(s)
}

/// The docker CLI's own checks of the namespace modes (the engine checks them again).
/// The docker CLI's `Healthcheck` from `--health-*` and `--no-healthcheck` (only the settings
/// given; the engine fills the rest from the image and Docker's defaults).
fn healthcheck(args: &RunArgs) -> Result<Option<serde_json::Value>, CliError> {
    let duration = |flag: &str, v: &Option<String>| -> Result<i64, CliError> {
        let Some(v) = v else { return Ok(0) };
        let n = berth_go::parse_go_duration(v).ok_or_else(|| {
            let why = if !v.is_empty()
                && v.trim_start_matches(['-', '+']).parse::<f64>().is_ok()
                && v != "0"
            {
                format!("time: missing unit in duration {v:?}")
            } else {
                format!("time: invalid duration {v:?}")
            };
            run_usage_error(&format!(
                "invalid argument \"{v}\" for \"--{flag}\" flag: {why}"
            ))
        })?;
        if n < 0 {
            return Err(run_usage_error(&format!("--{flag} cannot be negative")));
        }
        Ok(n)
    };
    let retries = match &args.health_retries {
        None => 0,
        Some(v) => v.parse::<i64>().map_err(|_| {
            run_usage_error(&format!(
                "invalid argument \"{v}\" for \"--health-retries\" flag: strconv.ParseInt: parsing \"{v}\": invalid syntax"
            ))
        })?,
    };
    let given = args.health_cmd.as_deref().is_some_and(|c| !c.is_empty())
        || [
            &args.health_interval,
            &args.health_timeout,
            &args.health_start_period,
            &args.health_start_interval,
        ]
        .iter()
        .any(|v| v.is_some())
        || retries != 0;
    if args.no_healthcheck {
        if given {
            return Err(run_usage_error(
                "--no-healthcheck conflicts with --health-* options",
            ));
        }
        return Ok(Some(serde_json::json!({"Test": ["NONE"]})));
    }
    if !given {
        return Ok(None);
    }
    let mut h = serde_json::Map::new();
    if let Some(cmd) = args.health_cmd.as_deref().filter(|c| !c.is_empty()) {
        h.insert("Test".into(), serde_json::json!(["CMD-SHELL", cmd]));
    }
    for (key, flag, v) in [
        ("Interval", "health-interval", &args.health_interval),
        ("Timeout", "health-timeout", &args.health_timeout),
        (
            "StartPeriod",
            "health-start-period",
            &args.health_start_period,
        ),
        (
            "StartInterval",
            "health-start-interval",
            &args.health_start_interval,
        ),
    ] {
        let n = duration(flag, v)?;
        if n != 0 {
            h.insert(key.into(), n.into());
        }
    }
    if retries < 0 {
        return Err(run_usage_error("--health-retries cannot be negative"));
    }
    if retries != 0 {
        h.insert("Retries".into(), retries.into());
    }
    Ok(Some(serde_json::Value::Object(h)))
}

fn check_modes(args: &RunArgs) -> Result<(), CliError> {
    let container = |m: &str| m.strip_prefix("container:").is_some_and(|t| !t.is_empty());
    if let Some(m) = &args.uts {
        if !matches!(m.as_str(), "" | "host") {
            return Err(run_usage_error("--uts: invalid UTS mode"));
        }
    }
    if let Some(m) = &args.pid {
        if !matches!(m.as_str(), "" | "host") && !container(m) {
            return Err(run_usage_error("--pid: invalid PID mode"));
        }
    }
    if let Some(m) = &args.userns {
        if !matches!(m.as_str(), "" | "host") {
            return Err(run_usage_error("--userns: invalid USER mode"));
        }
    }
    if let Some(m) = &args.cgroupns {
        if !matches!(m.as_str(), "" | "host" | "private") {
            return Err(run_usage_error("--cgroupns: invalid CGROUP mode"));
        }
    }
    Ok(())
}

/// `--cidfile`: refused if the file exists, created before the container, removed again if the
/// create fails, and holding the ID once it succeeded (the docker CLI's rules).
struct CidFile(Option<std::path::PathBuf>);

impl CidFile {
    fn create(path: Option<&std::path::Path>) -> Result<CidFile, CliError> {
        let Some(path) = path else {
            return Ok(CidFile(None));
        };
        if path.exists() {
            return Err(run_usage_error(&format!(
                "container ID file found, make sure the other container isn't running or delete {}",
                path.display()
            )));
        }
        std::fs::File::create(path).map_err(|e| {
            run_usage_error(&format!(
                "failed to create the container ID file: open {}: {}",
                path.display(),
                output::io_text(&e)
            ))
        })?;
        Ok(CidFile(Some(path.to_path_buf())))
    }

    fn write(mut self, id: &str) -> Result<(), CliError> {
        if let Some(path) = self.0.take() {
            std::fs::write(&path, id).map_err(|e| {
                run_usage_error(&format!(
                    "failed to write the container ID to the file: {}",
                    output::io_text(&e)
                ))
            })?;
        }
        Ok(())
    }
}

impl Drop for CidFile {
    fn drop(&mut self) {
        if let Some(path) = &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// `--gpus all|N|device=...`, as the request's `DeviceRequests` entry the docker CLI builds.
fn gpu_request(spec: &str) -> serde_json::Value {
    let mut count: i64 = 0;
    let mut ids: Vec<String> = Vec::new();
    let mut caps = vec!["gpu".to_string()];
    let mut driver = String::new();
    for field in spec.split(',') {
        match field.split_once('=') {
            Some(("count", "all")) => count = -1,
            Some(("count", n)) => count = n.parse().unwrap_or(0),
            Some(("device", d)) => ids.push(d.to_string()),
            Some(("driver", d)) => driver = d.to_string(),
            Some(("capabilities", c)) => caps.push(c.to_string()),
            _ if field == "all" => count = -1,
            _ => count = field.parse().unwrap_or(count),
        }
    }
    serde_json::json!({
        "Driver": driver,
        "Count": count,
        "DeviceIDs": if ids.is_empty() { serde_json::Value::Null } else { serde_json::json!(ids) },
        "Capabilities": [caps],
        "Options": {}
    })
}

/// Turns `run`/`create` flags into the request docker's CLI would send.
fn create_request(args: &RunArgs, detach: bool) -> Result<CreateRequest, CliError> {
    let pull = match args.pull.as_str() {
        "missing" => PullPolicy::Missing,
        "never" => PullPolicy::Never,
        "always" => PullPolicy::Always,
        other => {
            return Err(run_usage_error(&format!(
            "invalid pull option: '{other}': must be one of \"always\", \"missing\" or \"never\""
        )))
        }
    };
    // The docker CLI reads the restart policy's format before it checks the conflict.
    let restart_policy = match &args.restart {
        Some(r) => parse_restart(r).map_err(|e| run_usage_error(&e))?,
        None => RestartPolicy::default(),
    };
    if args.rm && args.restart.as_deref().is_some_and(|r| r != "no") {
        return Err(run_usage_error(
            "conflicting options: cannot specify both --restart and --rm",
        ));
    }
    let mut labels = BTreeMap::new();
    let mut label_lines = Vec::new();
    for file in &args.label_file {
        let text = std::fs::read_to_string(file).map_err(|e| {
            run_usage_error(&format!("open {}: {}", file.display(), output::io_text(&e)))
        })?;
        label_lines.extend(
            text.lines()
                .map(str::trim_start)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_string),
        );
    }
    for l in label_lines.iter().chain(&args.label) {
        let (k, v) = l.split_once('=').unwrap_or((l.as_str(), ""));
        labels.insert(k.to_string(), v.to_string());
    }
    let log_driver = args.log_driver.clone().unwrap_or_default();
    if log_driver == "none" && !args.log_opt.is_empty() {
        return Err(run_usage_error("invalid logging opts for driver none"));
    }
    let log_opts: BTreeMap<String, String> = args
        .log_opt
        .iter()
        .map(|o| {
            let (k, v) = o.split_once('=').unwrap_or((o.as_str(), ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    let env = collect_env(args)?;
    let cwd = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "/".into());
    let mounts = CliMounts::parse(
        &CliMountFlags {
            volumes: args.volume.clone(),
            mounts: args.mount.clone(),
            tmpfs: args.tmpfs.clone(),
            volumes_from: args.volumes_from.clone(),
            volume_driver: args.volume_driver.clone(),
        },
        &cwd,
    )
    .map_err(|e| match e {
        CliMountError::Mount(f) => crate::parse::flag_error(f),
        other => run_usage_error(&other.to_string()),
    })?;
    for w in &mounts.warnings {
        eprintln!("{w}");
    }
    let host_mounts = mounts.host_config();
    let streams = attach_streams(&args.attach)?;
    if !args.attach.is_empty() && args.detach {
        return Err(CliError::usage("Conflicting options: -a and -d"));
    }
    check_modes(args)?;
    if let Some(v) = &args.disable_content_trust {
        match berth_go::parse_bool(v) {
            Some(true) => {}
            Some(false) => {
                return Err(run_usage_error(
                    "--disable-content-trust=false: berth has no image signature verification",
                ))
            }
            None => {
                return Err(run_usage_error(&format!(
                    "invalid argument \"{v}\" for \"--disable-content-trust\" flag: strconv.ParseBool: parsing \"{v}\": invalid syntax"
                )))
            }
        }
    }
    let storage_opt: BTreeMap<String, String> = args
        .storage_opt
        .iter()
        .map(|o| {
            o.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| {
                    run_usage_error(&format!(
                        "invalid argument \"{o}\" for \"--storage-opt\" flag: invalid storage option"
                    ))
                })
        })
        .collect::<Result<_, _>>()?;
    let sysctls = args
        .sysctl
        .iter()
        .map(|s| {
            let (k, v) = s.split_once('=').unwrap_or((s.as_str(), ""));
            berth_engine::container::runconfig::namespaces::check_sysctl(k, v)
                .map_err(|why| {
                    let why = if s.contains('=') {
                        why
                    } else {
                        format!("sysctl '{s}' is not whitelisted")
                    };
                    run_usage_error(&format!(
                        "invalid argument \"{s}\" for \"--sysctl\" flag: {why}"
                    ))
                })
                .map(|()| (k.to_string(), v.to_string()))
        })
        .collect::<Result<std::collections::BTreeMap<_, _>, _>>()?;
    let shm_size = match &args.shm_size {
        None => 0,
        Some(s) => berth_go::ram_in_bytes(s).map_err(|e| {
            run_usage_error(&format!(
                "invalid argument \"{s}\" for \"--shm-size\" flag: {e}"
            ))
        })?,
    };
    let (security_opt, unconfined_paths) = security_opts(&args.security_opt)?;
    let devices = args
        .device
        .iter()
        .map(|d| {
            berth_engine::container::runconfig::security::parse_device(d).map_err(|e| {
                run_usage_error(&format!(
                    "invalid argument \"{d}\" for \"--device\" flag: {e}"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let net = network_flags(args)?;
    let config = ContainerConfig {
        hostname: args.hostname.clone().unwrap_or_default(),
        domainname: args.domainname.clone().unwrap_or_default(),
        mac_address: args.mac_address.clone().unwrap_or_default(),
        exposed_ports: net.exposed,
        user: args.user.clone().unwrap_or_default(),
        attach_stdin: (args.interactive || streams.stdin) && !detach,
        attach_stdout: streams.stdout && !detach,
        attach_stderr: streams.stderr && !detach,
        tty: args.tty,
        open_stdin: args.interactive,
        stdin_once: args.interactive && !detach,
        env: (!env.is_empty()).then_some(env),
        cmd: (!args.command.is_empty()).then(|| args.command.clone()),
        image: args.image.clone(),
        working_dir: args.workdir.clone().unwrap_or_default(),
        entrypoint: args.entrypoint.as_ref().map(|e| {
            if e.is_empty() {
                Vec::new()
            } else {
                vec![e.clone()]
            }
        }),
        labels: Some(labels),
        volumes: (!mounts.volumes.is_empty()).then(|| {
            mounts
                .volumes
                .iter()
                .map(|v| (v.clone(), Default::default()))
                .collect()
        }),
        stop_signal: args.stop_signal.clone().unwrap_or_default(),
        stop_timeout: args.stop_timeout,
        healthcheck: healthcheck(args)?,
        ..Default::default()
    };
    let host_config = HostConfig {
        network_mode: args.network.clone().unwrap_or_else(|| "default".into()),
        port_bindings: net.port_bindings,
        publish_all_ports: args.publish_all,
        links: (!args.link.is_empty()).then(|| args.link.clone()),
        extra_hosts: (!args.add_host.is_empty()).then(|| args.add_host.clone()),
        dns: args.dns.clone(),
        dns_search: args.dns_search.clone(),
        dns_options: args.dns_option.clone(),
        restart_policy,
        auto_remove: args.rm,
        log_config: berth_engine::types::LogConfig {
            kind: log_driver,
            config: log_opts,
        },
        readonly_rootfs: args.read_only,
        init: args.init.then_some(true),
        // Empty: the engine's default runtime (`default-runtime`).
        runtime: args.runtime.clone().unwrap_or_default(),
        resources: Resources {
            devices: Some(devices),
            device_cgroup_rules: (!args.device_cgroup_rule.is_empty())
                .then(|| args.device_cgroup_rule.clone()),
            device_requests: args.gpus.as_deref().map(|g| vec![gpu_request(g)]),
            ..resources::from_run_args(args).map_err(|e| run_usage_error(&e))?
        },
        oom_score_adj: match &args.oom_score_adj {
            None => 0,
            Some(s) => s.parse().map_err(|_| {
                run_usage_error(&format!(
                    "invalid argument \"{s}\" for \"--oom-score-adj\" flag: strconv.ParseInt: parsing \"{s}\": invalid syntax"
                ))
            })?,
        },
        group_add: (!args.group_add.is_empty()).then(|| args.group_add.clone()),
        cap_add: (!args.cap_add.is_empty()).then(|| args.cap_add.clone()),
        cap_drop: (!args.cap_drop.is_empty()).then(|| args.cap_drop.clone()),
        privileged: args.privileged,
        pid_mode: args.pid.clone().unwrap_or_default(),
        ipc_mode: args.ipc.clone().unwrap_or_default(),
        uts_mode: args.uts.clone().unwrap_or_default(),
        userns_mode: args.userns.clone().unwrap_or_default(),
        cgroupns_mode: args.cgroupns.clone().unwrap_or_default(),
        sysctls: (!sysctls.is_empty()).then_some(sysctls),
        shm_size,
        isolation: args.isolation.clone().unwrap_or_default(),
        storage_opt: (!storage_opt.is_empty()).then_some(storage_opt),
        container_id_file: args
            .cidfile
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        security_opt: (!security_opt.is_empty()).then_some(security_opt),
        masked_paths: unconfined_paths.then(Vec::new),
        readonly_paths: unconfined_paths.then(Vec::new),
        binds: host_mounts.binds,
        volumes_from: host_mounts.volumes_from,
        volume_driver: host_mounts.volume_driver,
        tmpfs: (!host_mounts.tmpfs.is_empty()).then_some(host_mounts.tmpfs),
        mounts: (!host_mounts.mounts.is_empty()).then_some(host_mounts.mounts),
        ..Default::default()
    };
    Ok(CreateRequest {
        name: args.name.clone(),
        config,
        host_config,
        pull,
        networking_config: net.networking,
        platform: args.platform.clone(),
        api_version: None,
    })
}

/// What `-p`, `--expose`, `--network-alias`, `--ip`, `--add-host` and `--dns` become, checked
/// as docker's CLI checks them.
struct NetworkFlags {
    exposed: Option<BTreeMap<String, berth_image::config::Empty>>,
    port_bindings: BTreeMap<String, Option<Vec<berth_network::ports::PortBinding>>>,
    networking: Option<NetworkingConfig>,
}

fn network_flags(args: &RunArgs) -> Result<NetworkFlags, CliError> {
    use berth_network::ports::{parse_expose, parse_publish};
    let flag_error = |flag: &str, value: &str, e: &dyn std::fmt::Display| {
        run_usage_error(&format!(
            "invalid argument {value:?} for \"{flag}\" flag: {e}"
        ))
    };
    let mut exposed = BTreeMap::new();
    let mut port_bindings: BTreeMap<String, Option<Vec<_>>> = BTreeMap::new();
    for p in &args.publish {
        for spec in parse_publish(p).map_err(|e| run_usage_error(&e.to_string()))? {
            exposed.insert(spec.key.to_string(), Default::default());
            port_bindings
                .entry(spec.key.to_string())
                .or_default()
                .get_or_insert_with(Vec::new)
                .push(spec.binding);
        }
    }
    for e in &args.expose {
        for key in parse_expose(e).map_err(|e| run_usage_error(&e.to_string()))? {
            exposed.insert(key.to_string(), Default::default());
        }
    }
    for h in &args.add_host {
        berth_network::etc::parse_extra_host(h, Some(std::net::Ipv4Addr::UNSPECIFIED))
            .map_err(|e| flag_error("--add-host", h, &e))?;
    }
    for d in &args.dns {
        if d.parse::<std::net::IpAddr>().is_err() {
            return Err(flag_error("--dns", d, &format!("{d} is not an ip address")));
        }
    }
    if let Some(ip) = &args.ip {
        if ip.parse::<std::net::Ipv4Addr>().is_err() {
            return Err(flag_error(
                "--ip",
                ip,
                &format!("{ip} is not an ip address"),
            ));
        }
    }
    let mode = args.network.clone().unwrap_or_else(|| "default".into());
    if !args.network_alias.is_empty()
        && matches!(mode.as_str(), "host" | "none" | "bridge" | "default")
    {
        return Err(run_usage_error(
            "network-scoped aliases are only supported for user-defined networks",
        ));
    }
    if mode == "host" && !args.publish.is_empty() {
        eprintln!("WARNING: Published ports are discarded when using host network mode");
    }
    if let Some(ip) = &args.ip6 {
        if ip.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(flag_error(
                "--ip6",
                ip,
                &format!("{ip} is not an ip address"),
            ));
        }
    }
    let ipam = args.ip.is_some() || args.ip6.is_some() || !args.link_local_ip.is_empty();
    let networking = (!args.network_alias.is_empty() || ipam).then(|| {
        let ep = EndpointSettings {
            aliases: (!args.network_alias.is_empty()).then(|| args.network_alias.clone()),
            ipam_config: ipam.then(|| EndpointIpamConfig {
                ipv4_address: args.ip.clone().unwrap_or_default(),
                ipv6_address: args.ip6.clone().unwrap_or_default(),
                link_local_ips: (!args.link_local_ip.is_empty())
                    .then(|| args.link_local_ip.clone()),
            }),
            ..Default::default()
        };
        NetworkingConfig {
            endpoints_config: Some(BTreeMap::from([(mode.clone(), ep)])),
        }
    });
    Ok(NetworkFlags {
        exposed: (!exposed.is_empty()).then_some(exposed),
        port_bindings,
        networking,
    })
}

/// `berth create`.
pub fn create(engine: &mut Engine, args: &RunArgs) -> CliResult {
    // `create` records the attach settings a later `start -a` uses, as if run in the foreground.
    let req = create_request(args, false)?;
    // The docker CLI reads the image reference before it asks the daemon.
    ImageLookup::parse(&args.image).map_err(|e| CliError::usage(e.to_string()))?;
    let cid = CidFile::create(args.cidfile.as_deref())?;
    super::registry::ensure_image(engine, &req).map_err(run_engine_error)?;
    let c = engine.create_container(req)?;
    cid.write(&c.id)?;
    println!("{}", c.id);
    Ok(Exit::Ok)
}

/// `berth run`.
pub fn run(engine: &mut Engine, args: &RunArgs) -> CliResult {
    let req = create_request(args, args.detach)?;
    ImageLookup::parse(&args.image).map_err(|e| run_usage_error(&e.to_string()))?;
    if args.tty && args.interactive && !args.detach && !io::stdin().is_terminal() {
        return Err(CliError::usage("the input device is not a TTY"));
    }
    let keys = detach_keys(args.detach_keys.as_deref())?;
    let cid = CidFile::create(args.cidfile.as_deref())?;
    super::registry::ensure_image(engine, &req).map_err(run_engine_error)?;
    // The kernel's wait at the runtime's first cgroup move runs while the container is
    // created too, not only during its launch (which would start one: this one serves it).
    let cgroup_lock = berth_runtime::cgroup_lock::Warmup::start();
    let c = engine.create_container(req).map_err(run_engine_error)?;
    berth_runtime::phases::mark("cli.created");
    cid.write(&c.id)?;
    if args.detach {
        engine
            .start_container(&c.id, false, None)
            .map_err(run_start_error)?;
        println!("{}", c.id);
        return Ok(Exit::Ok);
    }
    let console = if args.tty {
        berth_runtime::term::window_size(std::os::fd::AsFd::as_fd(&io::stdout()))
    } else {
        None
    };
    // On a terminal, `--rm` lists what the removal discarded (issue 19); the shim records it.
    let report = args.rm
        && super::storage::run_rm_wants_report(engine)
        && engine.want_discard_report(&c.id).is_ok();
    let (_, started) = engine
        .start_container(&c.id, true, console)
        .map_err(run_start_error)?;
    drop(cgroup_lock);
    let outcome = engine
        .attach_container(
            &c.id,
            &AttachRequest {
                stdin: c.config.attach_stdin,
                stdout: c.config.attach_stdout,
                stderr: c.config.attach_stderr,
                detach_keys: keys,
                start: started == Started::AwaitingAttach,
            },
        )
        .map_err(run_engine_error)?;
    berth_runtime::phases::mark("cli.attach_done");
    if report && matches!(outcome, AttachOutcome::Exited(_)) {
        super::storage::run_rm_report(engine, &c.id);
    }
    Ok(match outcome {
        AttachOutcome::Exited(code) => Exit::Container(code),
        AttachOutcome::Detached => Exit::Ok,
    })
}

/// `berth start`.
pub fn start(engine: &mut Engine, args: &StartArgs) -> CliResult {
    if args.attach || args.interactive {
        if args.names.len() > 1 {
            return Err(CliError::usage(
                "you cannot start and attach multiple containers at once",
            ));
        }
        let keys = detach_keys(args.detach_keys.as_deref())?;
        let name = &args.names[0];
        let (c, started) = engine
            .start_container(name, true, None)
            .map_err(start_error)?;
        let outcome = engine.attach_container(
            &c.id,
            &AttachRequest {
                stdin: args.interactive,
                stdout: true,
                stderr: true,
                detach_keys: keys,
                start: started == Started::AwaitingAttach,
            },
        )?;
        return Ok(match outcome {
            AttachOutcome::Exited(code) => Exit::Container(code),
            AttachOutcome::Detached => Exit::Ok,
        });
    }
    let mut failed = Vec::new();
    for name in &args.names {
        match engine.start_container(name, false, None) {
            Ok(_) => println!("{name}"),
            Err(e) => {
                eprintln!("Error response from daemon: {e}");
                failed.push(name.clone());
            }
        }
    }
    if failed.is_empty() {
        Ok(Exit::Ok)
    } else {
        Err(CliError::usage(format!(
            "Error: failed to start containers: {}",
            failed.join(", ")
        )))
    }
}

/// `start -a` prints the daemon's error alone (only `start` without `-a` names the failed
/// containers afterwards).
fn start_error(e: EngineError) -> CliError {
    CliError::usage(format!("Error response from daemon: {e}"))
}

/// Runs `f` on every name, printing the name on success and docker's error otherwise.
fn each(names: &[String], mut f: impl FnMut(&str) -> Result<(), EngineError>) -> CliResult {
    let mut exit = Exit::Ok;
    for name in names {
        match f(name) {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("{}", CliError::from(e).message);
                exit = Exit::Failure;
            }
        }
    }
    Ok(exit)
}

/// `berth stop`.
pub fn stop(engine: &mut Engine, args: &StopArgs) -> CliResult {
    each(&args.names, |n| {
        engine.stop_container(n, args.time).map(|_| ())
    })
}

/// `berth update`: each container's limits (and restart policy), its name printed once done.
pub fn update(engine: &mut Engine, args: &UpdateArgs) -> CliResult {
    if !resources::any_set(&args.resources) && args.restart.is_none() {
        return Err(CliError::usage(
            "you must provide one or more flags when using this command",
        ));
    }
    let req = UpdateRequest {
        resources: resources::from_flags(&args.resources).map_err(CliError::usage)?,
        restart_policy: args
            .restart
            .as_deref()
            .map(parse_restart)
            .transpose()
            .map_err(CliError::usage)?,
    };
    each(&args.names, |n| engine.update_container(n, &req).map(drop))
}

/// `berth restart`.
pub fn restart(engine: &mut Engine, args: &StopArgs) -> CliResult {
    each(&args.names, |n| {
        engine.restart_container(n, args.time).map(|_| ())
    })
}

/// `berth kill`.
pub fn kill(engine: &mut Engine, args: &KillArgs) -> CliResult {
    each(&args.names, |n| {
        engine.kill_container(n, &args.signal).map(|_| ())
    })
}

/// `berth rm`.
pub fn rm(engine: &mut Engine, args: &RmArgs) -> CliResult {
    super::storage::rm(engine, args)
}

/// `berth wait`.
pub fn wait(engine: &mut Engine, args: &NamesArg) -> CliResult {
    let mut exit = Exit::Ok;
    for name in &args.names {
        match engine.wait_container(name) {
            Ok(code) => println!("{code}"),
            Err(e) => {
                eprintln!("{}", CliError::from(e).message);
                exit = Exit::Failure;
            }
        }
    }
    Ok(exit)
}

/// `berth ps`.
pub fn ps(engine: &mut Engine, args: &PsArgs) -> CliResult {
    let filters = super::parse_filters(&args.filter, "-f, --filter")?;
    let opts = ListOptions {
        all: args.all,
        limit: args.last.filter(|n| *n > 0).map(|n| n as usize),
        latest: args.latest,
        // A format that shows `.Size` needs the sizes even without `-s` (docker).
        // So does `{{json .}}`, which prints every field.
        size: args.size
            || args
                .format
                .as_deref()
                .is_some_and(|f| f.contains(".Size") || f == "json" || f.contains("json .}}")),

        filters,
    };
    let list = engine.list_containers(&opts)?;
    let now = chrono::Utc::now();
    let rows: Vec<Row> = list
        .iter()
        .map(|c| {
            let created = chrono::DateTime::from_timestamp(c.created, 0).unwrap_or_default();
            let id = if args.no_trunc {
                c.id.clone()
            } else {
                c.id[..12].to_string()
            };
            let mut row = Row::new("*formatter.ContainerContext")
                .field("ID", id)
                .field(
                    "Image",
                    format::text::ps_image(&c.image, &c.image_id, !args.no_trunc),
                )
                .field(
                    "Command",
                    format::text::ps_command(&c.command, args.no_trunc),
                )
                .field("CreatedAt", output::docker_time(&created))
                .field("RunningFor", units::created_since_at(created, now))
                .field("Ports", super::network::displayable_ports(&c.ports))
                .field("State", c.state.clone())
                .field("Status", c.status.clone())
                .field(
                    "Names",
                    c.names
                        .iter()
                        .map(|n| n.trim_start_matches('/'))
                        .collect::<Vec<_>>()
                        .join(","),
                )
                .field(
                    "Mounts",
                    c.mounts
                        .iter()
                        .map(|m| {
                            let name = if m.name.is_empty() {
                                &m.source
                            } else {
                                &m.name
                            };
                            if args.no_trunc {
                                name.clone()
                            } else {
                                format::text::truncate_with_ellipsis(name, 15)
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(","),
                )
                .field(
                    "LocalVolumes",
                    c.mounts
                        .iter()
                        .filter(|m| m.kind == "volume")
                        .count()
                        .to_string(),
                )
                .field(
                    "Networks",
                    c.network_settings
                        .networks
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(","),
                )
                .field("Size", "0B")
                // A Docker 20.10 daemon reports no platform: the CLI's nil pointer.
                .field("Platform", serde_json::Value::Null)
                .labels(c.labels.clone());
            if let (Some(rw), Some(total)) = (c.size_rw, c.size_root_fs) {
                row.set("Size", format::text::container_size(rw, total));
            }
            row
        })
        .collect();
    let mut spec = format::CONTAINERS;
    if args.size {
        spec.table = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.Size}}";
    }
    if args.quiet && args.format.is_some() {
        eprintln!("{}", format::IGNORING_CUSTOM_FORMAT_WARNING);
    }
    // `docker ps` words its template errors unlike the other listings.
    let ps_words = |e: format::FormatError| match e {
        format::FormatError::Template(format::TemplateError::Parse(t)) => {
            CliError::usage(format!("failed to parse template: {t}"))
        }
        format::FormatError::Template(format::TemplateError::Exec(t)) => {
            CliError::usage(format!("failed to execute template: {t}"))
        }
        other => other.into(),
    };
    let f = format::Formatter::new(args.format.as_deref().unwrap_or(""), args.quiet, &spec)
        .map_err(ps_words)?;
    f.write(&mut std::io::stdout().lock(), &rows)
        .map_err(ps_words)?;
    Ok(Exit::Ok)
}

/// `berth logs`.
pub fn logs(engine: &mut Engine, args: &LogsArgs) -> CliResult {
    let now = chrono::Utc::now();
    let time = |field: &'static str, v: &Option<String>| -> Result<_, CliError> {
        v.as_deref()
            .map(|s| parse_time(field, s, now))
            .transpose()
            .map_err(|e| CliError::usage(e.to_string()))
    };
    let options = LogOptions {
        stdout: true,
        stderr: true,
        tail: parse_tail(&args.tail),
        since: time("since", &args.since)?,
        until: time("until", &args.until)?,
        timestamps: args.timestamps,
        follow: args.follow,
        details: args.details,
    };
    let mut out = io::stdout().lock();
    let mut err = io::stderr().lock();
    engine.container_logs(&args.name, &LogsRequest { options }, &mut out, &mut err)?;
    Ok(Exit::Ok)
}

/// `berth exec`.
pub fn exec(engine: &mut Engine, args: &ExecArgs) -> CliResult {
    if args.tty && args.interactive && !io::stdin().is_terminal() {
        return Err(CliError::usage("the input device is not a TTY"));
    }
    let config = ExecConfig {
        cmd: args.command.clone(),
        env: args.env.clone(),
        working_dir: args.workdir.clone().unwrap_or_default(),
        user: args.user.clone().unwrap_or_default(),
        tty: args.tty,
        attach_stdin: args.interactive && !args.detach,
        attach_stdout: !args.detach,
        attach_stderr: !args.detach,
        ..ExecConfig::default()
    };
    let result = if args.detach {
        engine
            .create_exec(&args.name, config)
            .and_then(|id| engine.start_exec_detached(&id))
            .map(|_| Exit::Ok)
    } else {
        engine
            .exec(&args.name, config, AttachIo::stdio())
            .map(Exit::Container)
    };
    match result {
        Ok(exit) => Ok(exit),
        // A process that cannot start (no such user, command or directory): dockerd writes the
        // reason into the exec's output stream, so the docker CLI prints it on stdout, once,
        // and the exec's exit code is 126.
        Err(e)
            if !args.detach
                && (matches!(e.run_exit_code(), 126 | 127)
                    || matches!(
                        e,
                        EngineError::Process(berth_runtime::error::ProcessError::User(_))
                    )) =>
        {
            println!("{e}");
            Ok(Exit::CannotInvoke)
        }
        Err(e) => {
            let code = e.run_exit_code();
            let mut err = CliError::from(e);
            // `exec -d` gets the daemon's error response: the docker CLI exits 1.
            if !args.detach && (code == 126 || code == 127) {
                err.exit = if code == 126 {
                    Exit::CannotInvoke
                } else {
                    Exit::NotFound
                };
            }
            Err(err)
        }
    }
}

/// `berth attach`.
pub fn attach(engine: &mut Engine, args: &AttachArgs) -> CliResult {
    let keys = detach_keys(args.detach_keys.as_deref())?;
    let c = engine.container(&args.name)?;
    c.can_attach().map_err(|e| CliError::usage(e.to_string()))?;
    if c.config.tty && !io::stdin().is_terminal() && !args.no_stdin && c.config.open_stdin {
        return Err(CliError::usage("the input device is not a TTY"));
    }
    let outcome = engine.attach_container(
        &c.id,
        &AttachRequest {
            stdin: !args.no_stdin && c.config.open_stdin,
            stdout: true,
            stderr: true,
            detach_keys: keys,
            start: false,
        },
    )?;
    Ok(match outcome {
        AttachOutcome::Exited(code) => Exit::Container(code),
        AttachOutcome::Detached => Exit::Ok,
    })
}

/// `berth container inspect`.
pub fn inspect(engine: &mut Engine, args: &ContainerInspectArgs) -> CliResult {
    output::inspect_each(
        &args.names,
        args.format.as_deref(),
        crate::format::gotypes::CONTAINER,
        true,
        |name| {
            engine
                .inspect_container(name, args.size)
                .map(|i| serde_json::to_value(i).expect("inspect types serialize"))
                .map_err(|e| CliError::from(e).message)
        },
    )
}

/// `berth container prune`.
pub fn prune(engine: &mut Engine, args: &ForceArg) -> CliResult {
    let filters = super::parse_filters(&args.filter, "--filter")?;
    if args.dry_run {
        return super::storage::prune_dry_run(engine, &filters);
    }
    if !args.force && !super::confirm("WARNING! This will remove all stopped containers.") {
        return Ok(Exit::Ok);
    }
    let (removed, space) = engine.prune_containers(&filters)?;
    if !removed.is_empty() {
        println!("Deleted Containers:");
        for id in &removed {
            println!("{id}");
        }
        println!();
    }
    println!("Total reclaimed space: {}", units::human_size(space as f64));
    Ok(Exit::Ok)
}

/// `berth top`.
pub fn top(engine: &mut Engine, args: &TopArgs) -> CliResult {
    let t = engine.container_top(&args.name, &args.ps_args)?;
    let mut tw = format::TabWriter::new(20, 3);
    tw.write_str(&t.titles.join("\t"));
    tw.write_str("\n");
    for p in &t.processes {
        tw.write_str(&p.join("\t"));
        tw.write_str("\n");
    }
    print!("{}", tw.finish());
    Ok(Exit::Ok)
}

/// `berth rename`.
pub fn rename(engine: &mut Engine, args: &RenameArgs) -> CliResult {
    engine.rename_container(&args.old, &args.new).map_err(|e| {
        CliError::usage(format!(
            "Error response from daemon: {e}\nError: failed to rename container named {}",
            args.old
        ))
    })?;
    Ok(Exit::Ok)
}

/// `berth pause`.
pub fn pause(engine: &mut Engine, args: &NamesArg) -> CliResult {
    each(&args.names, |n| engine.pause_container(n).map(|_| ()))
}

/// `berth unpause`.
pub fn unpause(engine: &mut Engine, args: &NamesArg) -> CliResult {
    each(&args.names, |n| engine.unpause_container(n).map(|_| ()))
}

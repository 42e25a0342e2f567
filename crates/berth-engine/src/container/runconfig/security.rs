//! How a container is confined, from its `HostConfig`: `--cap-add/--cap-drop` (with `ALL`),
//! `--security-opt` (`seccomp=`, `no-new-privileges`, `apparmor=`, `label=`), `--privileged`,
//! `--device` and `--device-cgroup-rule`, masked and read-only paths. [`validate`] runs at
//! create with Docker's error texts; [`security`] builds the runtime's
//! [`Security`](berth_runtime::security::Security) at start, resolving the seccomp profile for the
//! container's capability set.
//!
//! `--privileged` does what Podman does: every capability the engine itself holds (this host's
//! bounding set may lack some, where Docker 20.10 fails to start the container), every host
//! device, no masked or read-only paths, no seccomp filter, and `/sys` writable.

use std::path::Path;
use std::sync::OnceLock;

use berth_runtime::seccomp::{Host, SeccompProfile};
use berth_runtime::security::{
    host_devices, Device, DeviceRule, Security, DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS,
};

use super::RunConfigError;
use crate::types::{DeviceMapping, HostConfig};

/// Which seccomp filter a container runs under.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SeccompChoice {
    /// The engine's default profile.
    Default,
    /// No filter (`seccomp=unconfined`).
    Unconfined,
    /// A profile's JSON, as the CLI sent it.
    Profile(String),
}

/// What `--security-opt` asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SecurityOpts {
    no_new_privileges: bool,
    seccomp: SeccompChoice,
    apparmor: Option<String>,
}

fn apparmor_enabled() -> bool {
    std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .is_ok_and(|s| s.trim() == "Y")
}

fn selinux_enabled() -> bool {
    Path::new("/sys/fs/selinux/enforce").exists()
}

/// Parses `--security-opt` values the way Docker's daemon does (`key=value`, or the deprecated
/// `key:value`; a bare `no-new-privileges`), refusing options for security modules this host
/// does not run.
fn parse_security_opts(opts: &[String]) -> Result<SecurityOpts, RunConfigError> {
    let mut out = SecurityOpts {
        no_new_privileges: false,
        seccomp: SeccompChoice::Default,
        apparmor: None,
    };
    let invalid = |which, opt: &str| RunConfigError::SecurityOpt {
        which,
        opt: opt.to_string(),
    };
    for opt in opts {
        if opt == "no-new-privileges" {
            out.no_new_privileges = true;
            continue;
        }
        if opt == "disable" {
            // The legacy form of label=disable: no labels, which is what this host has.
            continue;
        }
        let (key, value) = opt
            .split_once('=')
            .or_else(|| opt.split_once(':'))
            .ok_or_else(|| invalid(1, opt))?;
        match key {
            "label" => {
                if value != "disable" {
                    // SELinux labels: berth applies none, and this host does not run SELinux.
                    return Err(RunConfigError::SecurityModuleDisabled {
                        opt: opt.clone(),
                        module: if selinux_enabled() {
                            "SELinux labeling by berth"
                        } else {
                            "SELinux"
                        },
                    });
                }
            }
            "apparmor" => {
                if value != "unconfined" && !apparmor_enabled() {
                    return Err(RunConfigError::SecurityModuleDisabled {
                        opt: opt.clone(),
                        module: "AppArmor",
                    });
                }
                out.apparmor = Some(value.to_string());
            }
            "seccomp" => {
                out.seccomp = match value {
                    "unconfined" => SeccompChoice::Unconfined,
                    json => {
                        SeccompProfile::parse(json.as_bytes())?;
                        SeccompChoice::Profile(json.to_string())
                    }
                };
            }
            "no-new-privileges" => {
                out.no_new_privileges =
                    berth_go::parse_bool(value).ok_or_else(|| invalid(2, opt))?;
            }
            _ => return Err(invalid(2, opt)),
        }
    }
    Ok(out)
}

/// Every capability the kernel knows, as `CAP_*` names in bit order.
fn known_capabilities() -> &'static [(String, rustix::thread::CapabilitySet)] {
    static KNOWN: OnceLock<Vec<(String, rustix::thread::CapabilitySet)>> = OnceLock::new();
    KNOWN.get_or_init(|| {
        let mut v: Vec<_> = rustix::thread::CapabilitySet::all()
            .iter_names()
            .map(|(name, flag)| (format!("CAP_{name}"), flag))
            .collect();
        v.sort_by_key(|(_, f)| f.bits());
        v
    })
}

/// The capabilities berth itself holds in its bounding set: what `--privileged` and
/// `--cap-add ALL` give (Podman's rule).
fn engine_capabilities() -> &'static [String] {
    static HELD: OnceLock<Vec<String>> = OnceLock::new();
    HELD.get_or_init(|| {
        known_capabilities()
            .iter()
            .filter(|(_, flag)| {
                rustix::thread::capability_is_in_bounding_set(*flag).unwrap_or(false)
            })
            .map(|(name, _)| name.clone())
            .collect()
    })
}

/// Whether berth holds capability `cap` (`CAP_*`) in its bounding set.
pub(crate) fn engine_holds(cap: &str) -> bool {
    engine_capabilities().iter().any(|c| c == cap)
}

/// Docker's normalization: upper case, `CAP_` prefixed, `ALL` kept; unknown names refused.
fn normalize_capabilities(
    field: &'static str,
    caps: Option<&Vec<String>>,
) -> Result<Vec<String>, RunConfigError> {
    let mut out = Vec::new();
    for c in caps.into_iter().flatten() {
        let mut c = c.to_ascii_uppercase();
        if c != "ALL" {
            if !c.starts_with("CAP_") {
                c = format!("CAP_{c}");
            }
            if !known_capabilities().iter().any(|(n, _)| *n == c) {
                return Err(RunConfigError::UnknownCapability { field, name: c });
            }
        }
        out.push(c);
    }
    Ok(out)
}

/// The container's capability set: Docker's default set, less `--cap-drop`, plus `--cap-add`
/// (`ALL` on either side as Docker reads it); with `--privileged` or `--cap-add ALL`, every
/// capability the engine holds.
pub(crate) fn capabilities(hc: &HostConfig) -> Result<Vec<String>, RunConfigError> {
    if hc.privileged {
        return Ok(engine_capabilities().to_vec());
    }
    let add = normalize_capabilities("CapAdd", hc.cap_add.as_ref())?;
    let drop = normalize_capabilities("CapDrop", hc.cap_drop.as_ref())?;
    let all = |v: &[String]| v.iter().any(|c| c == "ALL");
    let mut caps: Vec<String> = if all(&add) {
        engine_capabilities()
            .iter()
            .filter(|c| !drop.contains(c))
            .cloned()
            .collect()
    } else if all(&drop) {
        add.clone()
    } else {
        DEFAULT_CAPABILITIES
            .iter()
            .map(|c| c.to_string())
            .filter(|c| !drop.contains(c))
            .chain(add.iter().cloned())
            .collect()
    };
    let mut seen = std::collections::HashSet::new();
    caps.retain(|c| seen.insert(c.clone()));
    if let Some(missing) = add
        .iter()
        .find(|c| *c != "ALL" && !engine_capabilities().contains(c))
    {
        return Err(RunConfigError::CapabilityUnavailable(missing.clone()));
    }
    Ok(caps)
}

fn valid_device_mode(mode: &str) -> bool {
    !mode.is_empty() && mode.len() <= 3 && mode.chars().all(|c| matches!(c, 'r' | 'w' | 'm')) && {
        let mut seen = [false; 3];
        mode.chars().all(|c| {
            let i = match c {
                'r' => 0,
                'w' => 1,
                _ => 2,
            };
            !std::mem::replace(&mut seen[i], true)
        })
    }
}

/// `--device HOST[:CONTAINER][:PERMISSIONS]`, checked as the docker CLI checks it.
pub fn parse_device(spec: &str) -> Result<DeviceMapping, RunConfigError> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (host, container, perms) = match parts.as_slice() {
        [h] => (*h, *h, "rwm"),
        [h, x] if valid_device_mode(x) => (*h, *h, *x),
        [h, c] => (*h, *c, "rwm"),
        [h, c, p] => (*h, *c, *p),
        _ => {
            return Err(RunConfigError::Device(format!(
                "invalid device specification: {spec}"
            )))
        }
    };
    let mapping = DeviceMapping {
        path_on_host: host.to_string(),
        path_in_container: container.to_string(),
        cgroup_permissions: perms.to_string(),
    };
    check_device(&mapping)?;
    Ok(mapping)
}

fn check_device(d: &DeviceMapping) -> Result<(), RunConfigError> {
    if d.path_on_host.is_empty() {
        return Err(RunConfigError::Device(format!(
            "bad format for path: {}",
            d.path_on_host
        )));
    }
    if !d.path_in_container.starts_with('/') {
        return Err(RunConfigError::Device(format!(
            "{} is not an absolute path",
            d.path_in_container
        )));
    }
    if !valid_device_mode(&d.cgroup_permissions) {
        return Err(RunConfigError::Device(format!(
            "bad mode specified: {}",
            d.cgroup_permissions
        )));
    }
    Ok(())
}

/// `--device-cgroup-rule 'TYPE MAJOR:MINOR ACCESS'` (`*` for any number).
fn parse_device_rule(rule: &str) -> Result<DeviceRule, RunConfigError> {
    let bad = || RunConfigError::DeviceCgroupRule(rule.to_string());
    let fields: Vec<&str> = rule.split(' ').collect();
    let [kind, numbers, access] = fields.as_slice() else {
        return Err(bad());
    };
    let kind = match *kind {
        "a" => 'a',
        "b" => 'b',
        "c" => 'c',
        _ => return Err(bad()),
    };
    let (major, minor) = numbers.split_once(':').ok_or_else(bad)?;
    let number = |n: &str| -> Result<Option<i64>, RunConfigError> {
        if n == "*" {
            Ok(None)
        } else if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
            n.parse().map(Some).map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    if !access.chars().all(|c| matches!(c, 'r' | 'w' | 'm')) || !(1..=3).contains(&access.len()) {
        return Err(bad());
    }
    Ok(DeviceRule {
        allow: true,
        kind,
        major: number(major)?,
        minor: number(minor)?,
        access: access.to_string(),
    })
}

/// Docker's text for a `--gpus` request it cannot serve.
fn device_request_error(req: &serde_json::Value) -> RunConfigError {
    let driver = req["Driver"].as_str().unwrap_or_default().to_string();
    let caps = req["Capabilities"]
        .as_array()
        .map(|sets| {
            let inner: Vec<String> = sets
                .iter()
                .map(|set| {
                    let names: Vec<&str> = set
                        .as_array()
                        .map(|a| a.iter().filter_map(|c| c.as_str()).collect())
                        .unwrap_or_default();
                    format!("[{}]", names.join(" "))
                })
                .collect();
            format!("[{}]", inner.join(" "))
        })
        .unwrap_or_else(|| "[]".into());
    RunConfigError::DeviceRequest { driver, caps }
}

/// Create-time checks, and Docker's defaults filled in.
pub(crate) fn validate(hc: &mut HostConfig) -> Result<(), RunConfigError> {
    parse_security_opts(hc.security_opt.as_deref().unwrap_or_default())?;
    capabilities(hc)?;
    for d in hc.resources.devices.iter().flatten() {
        check_device(d)?;
    }
    for r in hc.resources.device_cgroup_rules.iter().flatten() {
        parse_device_rule(r)?;
    }
    if let Some(req) = hc.resources.device_requests.iter().flatten().next() {
        return Err(device_request_error(req));
    }
    if !hc.privileged {
        if hc.masked_paths.is_none() {
            hc.masked_paths = Some(MASKED_PATHS.iter().map(|s| s.to_string()).collect());
        }
        if hc.readonly_paths.is_none() {
            hc.readonly_paths = Some(READONLY_PATHS.iter().map(|s| s.to_string()).collect());
        }
    }
    Ok(())
}

/// The devices of `--device` mappings (a directory brings every device under it).
fn mapped_devices(
    maps: &[DeviceMapping],
) -> Result<(Vec<Device>, Vec<DeviceRule>), RunConfigError> {
    let mut devices = Vec::new();
    let mut rules = Vec::new();
    for m in maps {
        let unavailable = |reason: String| RunConfigError::DeviceUnavailable {
            path: m.path_on_host.clone(),
            reason,
        };
        let io_reason = |e: std::io::Error| berth_go::errno_text(&e);
        let host = Path::new(&m.path_on_host);
        let found = if std::fs::metadata(host)
            .map_err(|e| unavailable(io_reason(e)))?
            .is_dir()
        {
            host_devices(host, &m.path_in_container).map_err(|e| unavailable(io_reason(e)))?
        } else {
            match Device::from_host(host, &m.path_in_container)
                .map_err(|e| unavailable(io_reason(e)))?
            {
                Some(d) => vec![d],
                None => return Err(unavailable("not a device node".into())),
            }
        };
        for d in found {
            rules.push(DeviceRule::allowing(&d, &m.cgroup_permissions));
            devices.push(d);
        }
    }
    Ok((devices, rules))
}

/// The container's confinement at start. `default_profile` is the engine's seccomp profile.
pub(crate) fn security(
    hc: &HostConfig,
    default_profile: &Path,
) -> Result<Security, RunConfigError> {
    let opts = parse_security_opts(hc.security_opt.as_deref().unwrap_or_default())?;
    let caps = capabilities(hc)?;
    let seccomp = match (&opts.seccomp, hc.privileged) {
        (_, true) | (SeccompChoice::Unconfined, _) => None,
        (SeccompChoice::Default, false) => {
            Some(SeccompProfile::load(default_profile)?.for_container(&caps, &Host::current())?)
        }
        (SeccompChoice::Profile(json), false) => {
            Some(SeccompProfile::parse(json.as_bytes())?.for_container(&caps, &Host::current())?)
        }
    };
    let (mut devices, mut device_rules) =
        mapped_devices(hc.resources.devices.as_deref().unwrap_or_default())?;
    if hc.privileged {
        let all = host_devices(Path::new("/dev"), "/dev").map_err(|e| {
            RunConfigError::DeviceUnavailable {
                path: "/dev".into(),
                reason: e.to_string(),
            }
        })?;
        devices.retain(|d| !all.iter().any(|a| a.path == d.path));
        devices.extend(all);
        device_rules = vec![DeviceRule::allow_all()];
    } else {
        for r in hc.resources.device_cgroup_rules.iter().flatten() {
            device_rules.push(parse_device_rule(r)?);
        }
    }
    let paths = |v: &Option<Vec<String>>, defaults: &[&str]| -> Vec<String> {
        if hc.privileged {
            return Vec::new();
        }
        match v {
            Some(v) => v.clone(),
            None => defaults.iter().map(|s| s.to_string()).collect(),
        }
    };
    Ok(Security {
        capabilities: caps,
        no_new_privileges: opts.no_new_privileges,
        seccomp,
        apparmor_profile: opts.apparmor.filter(|_| apparmor_enabled()),
        masked_paths: paths(&hc.masked_paths, &MASKED_PATHS),
        readonly_paths: paths(&hc.readonly_paths, &READONLY_PATHS),
        writable_sysfs: hc.privileged,
        devices,
        device_rules,
    })
}

/// Whether the container's processes run with `no_new_privs` (execs too).
pub(crate) fn no_new_privileges(hc: &HostConfig) -> bool {
    parse_security_opts(hc.security_opt.as_deref().unwrap_or_default())
        .is_ok_and(|o| o.no_new_privileges)
}

/// The AppArmor profile inspect reports (`""` when none was asked for).
pub(crate) fn apparmor_profile(hc: &HostConfig) -> String {
    parse_security_opts(hc.security_opt.as_deref().unwrap_or_default())
        .ok()
        .and_then(|o| o.apparmor)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hc(add: &[&str], drop: &[&str]) -> HostConfig {
        let v = |s: &[&str]| (!s.is_empty()).then(|| s.iter().map(|c| c.to_string()).collect());
        HostConfig {
            cap_add: v(add),
            cap_drop: v(drop),
            ..Default::default()
        }
    }

    #[test]
    fn capabilities_follow_dockers_rules() {
        let defaults: Vec<String> = DEFAULT_CAPABILITIES.iter().map(|s| s.to_string()).collect();
        assert_eq!(capabilities(&hc(&[], &[])).unwrap(), defaults);
        assert_eq!(
            capabilities(&hc(&["chown"], &["ALL"])).unwrap(),
            ["CAP_CHOWN"]
        );
        let tweaked = capabilities(&hc(&["cap_Sys_Admin", "CHOWN"], &["net_raw"])).unwrap();
        assert!(tweaked.contains(&"CAP_SYS_ADMIN".to_string()));
        assert!(!tweaked.contains(&"CAP_NET_RAW".to_string()));
        assert_eq!(tweaked.iter().filter(|c| *c == "CAP_CHOWN").count(), 1);
        let all = capabilities(&hc(&["ALL"], &["chown"])).unwrap();
        assert!(!all.contains(&"CAP_CHOWN".to_string()));
        assert_eq!(all.len(), engine_capabilities().len() - 1);
        assert_eq!(
            capabilities(&hc(&["FOO"], &[])).unwrap_err().to_string(),
            "invalid CapAdd: unknown capability: \"CAP_FOO\""
        );
        assert_eq!(
            capabilities(&hc(&[], &["foo"])).unwrap_err().to_string(),
            "invalid CapDrop: unknown capability: \"CAP_FOO\""
        );
        let privileged = HostConfig {
            privileged: true,
            ..hc(&[], &["ALL"])
        };
        assert_eq!(capabilities(&privileged).unwrap(), engine_capabilities());
    }

    #[test]
    fn security_opts_parse_like_dockers_daemon() {
        let p =
            |o: &[&str]| parse_security_opts(&o.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let o = p(&["no-new-privileges", "seccomp=unconfined", "label=disable"]).unwrap();
        assert!(o.no_new_privileges);
        assert_eq!(o.seccomp, SeccompChoice::Unconfined);
        assert!(!p(&["no-new-privileges:false"]).unwrap().no_new_privileges);
        assert_eq!(
            p(&["foo"]).unwrap_err().to_string(),
            "invalid --security-opt 1: \"foo\""
        );
        assert_eq!(
            p(&["no-new-privileges=maybe"]).unwrap_err().to_string(),
            "invalid --security-opt 2: \"no-new-privileges=maybe\""
        );
        assert_eq!(
            p(&["systempaths=unconfined"]).unwrap_err().to_string(),
            "invalid --security-opt 2: \"systempaths=unconfined\""
        );
        assert!(p(&["seccomp={bad"])
            .unwrap_err()
            .to_string()
            .starts_with("Decoding seccomp profile failed"));
        assert_eq!(
            p(&["apparmor=unconfined"]).unwrap().apparmor.as_deref(),
            Some("unconfined")
        );
        if !apparmor_enabled() {
            assert_eq!(
                p(&["apparmor=docker-default"]).unwrap_err().to_string(),
                "apparmor=docker-default: AppArmor is not enabled on this host, so berth cannot apply it"
            );
        }
        if !selinux_enabled() {
            assert_eq!(
                p(&["label=type:svirt_t"]).unwrap_err().to_string(),
                "label=type:svirt_t: SELinux is not enabled on this host, so berth cannot apply it"
            );
        }
    }

    #[test]
    fn devices_parse_like_the_docker_cli() {
        let d = parse_device("/dev/fuse:/dev/myfuse:r").unwrap();
        assert_eq!(
            (
                d.path_on_host.as_str(),
                d.path_in_container.as_str(),
                d.cgroup_permissions.as_str()
            ),
            ("/dev/fuse", "/dev/myfuse", "r")
        );
        let d = parse_device("/dev/fuse:rw").unwrap();
        assert_eq!(
            (d.path_in_container.as_str(), d.cgroup_permissions.as_str()),
            ("/dev/fuse", "rw")
        );
        assert_eq!(parse_device("/dev/fuse").unwrap().cgroup_permissions, "rwm");
        assert_eq!(
            parse_device("/dev/fuse:rel").unwrap_err().to_string(),
            "rel is not an absolute path"
        );
        assert_eq!(
            parse_device("/dev/fuse:/x:rwx").unwrap_err().to_string(),
            "bad mode specified: rwx"
        );
        assert_eq!(
            parse_device("a:b:c:d").unwrap_err().to_string(),
            "invalid device specification: a:b:c:d"
        );
        let r = parse_device_rule("c 42:* rm").unwrap();
        assert_eq!((r.kind, r.major, r.minor), ('c', Some(42), None));
        for bad in ["c 1:2", "x 1:2 r", "c 1:2 rwmx", "c a:2 r", "c 1-2 r"] {
            assert_eq!(
                parse_device_rule(bad).unwrap_err().to_string(),
                format!("invalid device cgroup format '{bad}'")
            );
        }
    }

    #[test]
    fn gpus_are_refused_with_dockers_text() {
        let req = serde_json::json!({"Driver": "", "Count": -1, "Capabilities": [["gpu"]]});
        assert_eq!(
            device_request_error(&req).to_string(),
            "could not select device driver \"\" with capabilities: [[gpu]]"
        );
    }

    #[test]
    fn missing_devices_fail_with_dockers_text() {
        let err = mapped_devices(&[DeviceMapping {
            path_on_host: "/dev/nonexistent-berth".into(),
            path_in_container: "/dev/x".into(),
            cgroup_permissions: "rwm".into(),
        }])
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "error gathering device information while adding custom device \"/dev/nonexistent-berth\": no such file or directory"
        );
        let err = mapped_devices(&[DeviceMapping {
            path_on_host: "/etc/hostname".into(),
            path_in_container: "/x".into(),
            cgroup_permissions: "rwm".into(),
        }])
        .unwrap_err();
        assert!(err.to_string().ends_with("not a device node"));
    }
}

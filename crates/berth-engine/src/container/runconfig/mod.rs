//! `RunConfigError` and the run configuration of a container: what `create` checks in a
//! `HostConfig` (with Docker's error texts) and what `start` derives from it for the runtime.
//! Each concern has a module: [`security`] (capabilities, `--security-opt`, `--privileged`,
//! devices), [`resources`] (cgroup limits, ulimits, the OOM score) over what [`cgroups`] finds
//! this host can enforce, [`namespaces`] (`--pid`, `--ipc`, `--uts`, `--userns`, `--cgroupns`,
//! `--sysctl`, `--shm-size`), [`logging`] (`--log-driver`, `--log-opt`).
//!
//! Everything a create request carries is either applied or refused here; nothing is dropped.

pub mod cgroups;
pub mod logging;
pub mod namespaces;
pub(crate) mod resources;
pub mod security;

use berth_store::ErrorKind;

use crate::types::HostConfig;

/// A run configuration that cannot be applied.
#[derive(Debug, thiserror::Error)]
pub enum RunConfigError {
    /// `--cap-add`/`--cap-drop` names a capability that does not exist.
    #[error("invalid {field}: unknown capability: {name:?}")]
    UnknownCapability {
        /// `CapAdd` or `CapDrop`.
        field: &'static str,
        /// The normalized name (`CAP_FOO`).
        name: String,
    },
    /// A capability the engine itself does not hold (this host's bounding set lacks it), so no
    /// container can be given it.
    #[error(
        "capability {0} is not in berth's bounding set on this host, so no container can hold it"
    )]
    CapabilityUnavailable(String),
    /// A `--security-opt` that is not `key=value` (Docker's "1") or has an unknown key or value
    /// (Docker's "2").
    #[error("invalid --security-opt {which}: {opt:?}")]
    SecurityOpt {
        /// 1 or 2, as Docker numbers them.
        which: u8,
        /// The option.
        opt: String,
    },
    /// A security option for a Linux security module this host does not run.
    #[error("{opt}: {module} is not enabled on this host, so berth cannot apply it")]
    SecurityModuleDisabled {
        /// The option as given.
        opt: String,
        /// `AppArmor` or `SELinux`.
        module: &'static str,
    },
    /// A seccomp profile that does not parse or resolve.
    #[error(transparent)]
    Seccomp(#[from] berth_runtime::seccomp::SeccompError),
    /// A `--device` that is malformed.
    #[error("{0}")]
    Device(String),
    /// A `--device` whose host side cannot be used.
    #[error("error gathering device information while adding custom device {path:?}: {reason}")]
    DeviceUnavailable {
        /// The host path.
        path: String,
        /// Why (`no such file or directory`, `not a device node`).
        reason: String,
    },
    /// A `--device-cgroup-rule` that is malformed.
    #[error("invalid device cgroup format '{0}'")]
    DeviceCgroupRule(String),
    /// A value Docker refuses; the text is Docker's.
    #[error("{0}")]
    Invalid(String),
    /// A limit this host's cgroups cannot enforce (dockerd warns and drops it; berth refuses).
    #[error("{0}")]
    Unenforceable(String),
    /// `logs` of a container whose log driver keeps nothing.
    #[error("configured logging driver does not support reading")]
    LogsNotReadable,
    /// `--gpus`: berth has no device drivers.
    #[error("could not select device driver {driver:?} with capabilities: {caps}")]
    DeviceRequest {
        /// The requested driver (often empty).
        driver: String,
        /// The requested capabilities, as Docker prints them.
        caps: String,
    },
}

impl RunConfigError {
    /// The error's class.
    pub fn kind(&self) -> ErrorKind {
        match self {
            RunConfigError::Seccomp(e) => e.kind(),
            RunConfigError::LogsNotReadable => ErrorKind::NotImplemented,
            _ => ErrorKind::InvalidArgument,
        }
    }
}

/// Checks `hc` as Docker's daemon does at create and fills in what Docker fills in (the default
/// masked and read-only paths, `label=disable` for the host's pid or ipc namespace).
/// `hostname` is the one the request asked for.
pub(crate) fn validate(hc: &mut HostConfig, hostname: &str) -> Result<(), RunConfigError> {
    // (The zero values a client leaves are dockerd's defaults by now: `fill_defaults`.)
    super::quota::layer_size(hc.storage_opt.as_ref())?;
    namespaces::validate(hc, hostname)?;
    logging::settings(&hc.log_config)?;
    security::validate(hc)?;
    resources::validate(hc)?;
    unmodelled(hc)?;
    if hc.pid_mode == "host" || hc.ipc_mode == "host" || hc.privileged {
        let opts = hc.security_opt.get_or_insert_with(Vec::new);
        if !opts.iter().any(|o| o == "label=disable") {
            opts.push("label=disable".into());
        }
    }
    Ok(())
}

/// Fields Docker's API has that berth cannot apply, refused rather than kept and ignored, and
/// values no terminal or runtime can take.
fn unmodelled(hc: &HostConfig) -> Result<(), RunConfigError> {
    if !hc.cgroup.is_empty() {
        return Err(RunConfigError::Invalid(format!(
            "HostConfig.Cgroup is not supported by berth ({:?}); it would be ignored, so the container is not created (use CgroupnsMode or CgroupParent)",
            hc.cgroup
        )));
    }
    if hc.console_size.iter().any(|d| *d > u32::from(u16::MAX)) {
        return Err(RunConfigError::Invalid(format!(
            "invalid ConsoleSize {:?}: a terminal has at most 65535 rows and columns",
            hc.console_size
        )));
    }
    for key in hc.annotations.iter().flatten().map(|(k, _)| k) {
        if key.is_empty() {
            return Err(RunConfigError::Invalid(
                "invalid Annotations: annotation keys must not be empty".into(),
            ));
        }
    }
    Ok(())
}

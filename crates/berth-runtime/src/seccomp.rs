//! `SeccompProfile` is a seccomp profile in Docker's JSON format (`defaultAction`, `archMap`,
//! `syscalls` whose `includes`/`excludes` name capabilities, architectures and a minimum
//! kernel), read at run time as data; [`SeccompProfile::for_container`] turns it into the OCI
//! `linux.seccomp` for one container: only the rules that apply to its capability set, the host's
//! architecture and the running kernel, exactly as dockerd resolves its default profile.
//!
//! berth's default profile is Docker's own `default.json`, as Debian ships it in
//! `golang-github-docker-docker-dev` ([`DEFAULT_PROFILE`]), so a container gets the verdicts a
//! Docker container gets; `--security-opt seccomp=PATH` and the engine setting `seccomp-profile`
//! name another file in the same format (containers-common's, Podman's default, works too).

use std::path::{Path, PathBuf};

use oci_spec::runtime::{
    Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArgBuilder, LinuxSeccompFilterFlag,
    LinuxSeccompOperator, LinuxSyscall,
};
use serde::Deserialize;

/// The default profile: moby's `profiles/seccomp/default.json`, which Debian's
/// `golang-github-docker-docker-dev` installs.
pub const DEFAULT_PROFILE: &str =
    "/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json";

/// Podman's default profile, from Debian's `golang-github-containers-common`.
pub const CONTAINERS_COMMON_PROFILE: &str = "/usr/share/containers/seccomp.json";

/// A profile that cannot be read or applied.
#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    /// The file cannot be read.
    #[error("opening seccomp profile ({}) failed: {source}", .path.display())]
    Read {
        /// The profile.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The default profile is not installed.
    #[error("the default seccomp profile {DEFAULT_PROFILE} is missing: install Debian's golang-github-docker-docker-dev, or name another profile with the engine setting seccomp-profile")]
    MissingDefault,
    /// The JSON does not parse.
    #[error("Decoding seccomp profile failed: {0}")]
    Decode(String),
    /// The profile contradicts itself or names something unknown.
    #[error("{0}")]
    Invalid(String),
}

impl SeccompError {
    /// The error's class.
    pub fn kind(&self) -> berth_store::ErrorKind {
        match self {
            SeccompError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                berth_store::ErrorKind::NotFound
            }
            SeccompError::MissingDefault => berth_store::ErrorKind::Internal,
            _ => berth_store::ErrorKind::InvalidArgument,
        }
    }
}

/// One `archMap` entry: an architecture and the ones its kernel also runs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ArchMap {
    architecture: String,
    sub_architectures: Vec<String>,
}

/// When a rule applies (`includes`) or does not (`excludes`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Filter {
    /// Capabilities: `includes` needs all of them, `excludes` any one.
    caps: Vec<String>,
    /// Go architecture names (`amd64`, `arm64`, ...).
    arches: Vec<String>,
    /// `major.minor`: `includes` needs at least this kernel, `excludes` less.
    min_kernel: Option<String>,
}

/// A syscall argument comparison.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Arg {
    index: usize,
    value: u64,
    value_two: u64,
    op: String,
}

/// One rule of the profile.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct Rule {
    /// The legacy single name.
    name: String,
    names: Vec<String>,
    action: String,
    errno_ret: Option<u32>,
    args: Option<Vec<Arg>>,
    includes: Filter,
    excludes: Filter,
}

/// A seccomp profile in Docker's format.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SeccompProfile {
    default_action: String,
    default_errno_ret: Option<u32>,
    /// The legacy flat architecture list.
    architectures: Vec<String>,
    arch_map: Vec<ArchMap>,
    syscalls: Vec<Rule>,
    flags: Vec<String>,
    listener_path: String,
    listener_metadata: String,
}

/// What the rules are resolved against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Go's name for the architecture (`amd64`), which the profile's `arches` use.
    pub arch: String,
    /// The running kernel as (major, minor).
    pub kernel: (u32, u32),
}

impl Host {
    /// This machine.
    pub fn current() -> Host {
        let release = rustix::system::uname()
            .release()
            .to_string_lossy()
            .into_owned();
        Host {
            arch: go_arch(std::env::consts::ARCH).to_string(),
            kernel: parse_kernel(&release).unwrap_or((0, 0)),
        }
    }
}

/// Go's `GOARCH` for a Rust target architecture.
fn go_arch(rust: &str) -> &str {
    match rust {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "powerpc64" => "ppc64",
        "loongarch64" => "loong64",
        other => other,
    }
}

/// The seccomp architecture libseccomp calls the native one for a Go architecture.
fn native_seccomp_arch(go: &str) -> Option<&'static str> {
    Some(match go {
        "amd64" => "SCMP_ARCH_X86_64",
        "386" => "SCMP_ARCH_X86",
        "arm64" => "SCMP_ARCH_AARCH64",
        "arm" => "SCMP_ARCH_ARM",
        "ppc64le" => "SCMP_ARCH_PPC64LE",
        "ppc64" => "SCMP_ARCH_PPC64",
        "s390x" => "SCMP_ARCH_S390X",
        "riscv64" => "SCMP_ARCH_RISCV64",
        "mips64le" => "SCMP_ARCH_MIPSEL64",
        "mips64" => "SCMP_ARCH_MIPS64",
        "loong64" => "SCMP_ARCH_LOONGARCH64",
        _ => return None,
    })
}

/// `6.1.0-13-amd64` → (6, 1).
fn parse_kernel(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// A JSON string value (`"SCMP_ACT_ALLOW"`) as one of oci-spec's enums.
fn parse_enum<T: serde::de::DeserializeOwned>(what: &str, value: &str) -> Result<T, SeccompError> {
    serde_json::from_value(serde_json::Value::String(value.to_string()))
        .map_err(|_| SeccompError::Invalid(format!("unknown seccomp {what}: {value:?}")))
}

impl SeccompProfile {
    /// Reads a profile file.
    pub fn load(path: &Path) -> Result<SeccompProfile, SeccompError> {
        let bytes = std::fs::read(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound && path == Path::new(DEFAULT_PROFILE) {
                return SeccompError::MissingDefault;
            }
            SeccompError::Read {
                path: path.to_path_buf(),
                source,
            }
        })?;
        SeccompProfile::parse(&bytes)
    }

    /// Parses a profile's JSON (what `--security-opt seccomp=` carries after the CLI read the
    /// file).
    pub fn parse(json: &[u8]) -> Result<SeccompProfile, SeccompError> {
        let profile: SeccompProfile =
            serde_json::from_slice(json).map_err(|e| SeccompError::Decode(e.to_string()))?;
        if !profile.architectures.is_empty() && !profile.arch_map.is_empty() {
            return Err(SeccompError::Invalid(
                "'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'".into(),
            ));
        }
        if profile
            .syscalls
            .iter()
            .any(|r| !r.name.is_empty() && !r.names.is_empty())
        {
            return Err(SeccompError::Invalid(
                "'name' and 'names' were specified in the seccomp profile, use either 'name' or 'names'".into(),
            ));
        }
        Ok(profile)
    }

    /// The OCI seccomp section for a container holding `caps` (`CAP_*` names, its bounding
    /// set) on `host`.
    pub fn for_container(
        &self,
        caps: &[String],
        host: &Host,
    ) -> Result<LinuxSeccomp, SeccompError> {
        let has = |c: &String| caps.iter().any(|x| x.eq_ignore_ascii_case(c));
        let at_least = |v: &Option<String>| -> Result<Option<bool>, SeccompError> {
            match v {
                None => Ok(None),
                Some(s) => parse_kernel(s)
                    .map(|min| Some(host.kernel >= min))
                    .ok_or_else(|| {
                        SeccompError::Invalid(format!("invalid minKernel version: {s:?}"))
                    }),
            }
        };
        let mut syscalls = Vec::new();
        for rule in &self.syscalls {
            let ex = &rule.excludes;
            if ex.arches.contains(&host.arch)
                || ex.caps.iter().any(has)
                || at_least(&ex.min_kernel)? == Some(true)
            {
                continue;
            }
            let inc = &rule.includes;
            if (!inc.arches.is_empty() && !inc.arches.contains(&host.arch))
                || !inc.caps.iter().all(has)
                || at_least(&inc.min_kernel)? == Some(false)
            {
                continue;
            }
            let mut names = rule.names.clone();
            if !rule.name.is_empty() {
                names.push(rule.name.clone());
            }
            let mut s = LinuxSyscall::default();
            s.set_names(names)
                .set_action(parse_enum::<LinuxSeccompAction>("action", &rule.action)?)
                .set_errno_ret(rule.errno_ret);
            if let Some(args) = &rule.args {
                let mut out = Vec::new();
                for a in args {
                    let mut arg = LinuxSeccompArgBuilder::default()
                        .index(a.index)
                        .value(a.value)
                        .op(parse_enum::<LinuxSeccompOperator>("operator", &a.op)?);
                    if a.value_two != 0 {
                        arg = arg.value_two(a.value_two);
                    }
                    out.push(
                        arg.build()
                            .map_err(|e| SeccompError::Invalid(e.to_string()))?,
                    );
                }
                s.set_args((!out.is_empty()).then_some(out));
            }
            syscalls.push(s);
        }

        let arch_names: Vec<String> = if !self.arch_map.is_empty() {
            let native = native_seccomp_arch(&host.arch);
            self.arch_map
                .iter()
                .filter(|m| Some(m.architecture.as_str()) == native)
                .flat_map(|m| {
                    std::iter::once(m.architecture.clone()).chain(m.sub_architectures.clone())
                })
                .collect()
        } else {
            self.architectures.clone()
        };
        let architectures = arch_names
            .iter()
            .map(|a| parse_enum::<Arch>("architecture", a))
            .collect::<Result<Vec<_>, _>>()?;
        let flags = self
            .flags
            .iter()
            .map(|f| parse_enum::<LinuxSeccompFilterFlag>("flag", f))
            .collect::<Result<Vec<_>, _>>()?;

        let mut out = LinuxSeccomp::default();
        out.set_default_action(parse_enum("action", &self.default_action)?)
            .set_default_errno_ret(self.default_errno_ret)
            .set_architectures((!architectures.is_empty()).then_some(architectures))
            .set_flags((!flags.is_empty()).then_some(flags))
            .set_listener_path(
                (!self.listener_path.is_empty()).then(|| PathBuf::from(&self.listener_path)),
            )
            .set_listener_metadata(
                (!self.listener_metadata.is_empty()).then(|| self.listener_metadata.clone()),
            )
            .set_syscalls(Some(syscalls));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROFILE: &str = r#"{
        "defaultAction": "SCMP_ACT_ERRNO",
        "defaultErrnoRet": 38,
        "archMap": [
            {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
            {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}
        ],
        "syscalls": [
            {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
             "args": [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ"}]},
            {"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64"]}},
            {"names": ["chroot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_CHROOT"]}},
            {"names": ["chroot"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "excludes": {"caps": ["CAP_SYS_CHROOT"]}},
            {"names": ["newer"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.0"}},
            {"names": ["older"], "action": "SCMP_ACT_ERRNO", "excludes": {"minKernel": "4.8"}}
        ]
    }"#;

    fn host() -> Host {
        Host {
            arch: "amd64".into(),
            kernel: (6, 1),
        }
    }

    fn names(s: &LinuxSeccomp) -> Vec<String> {
        s.syscalls()
            .as_ref()
            .unwrap()
            .iter()
            .map(|r| format!("{}:{:?}", r.names().join(","), r.action()))
            .collect()
    }

    #[test]
    fn rules_are_resolved_for_caps_arch_and_kernel() {
        let p = SeccompProfile::parse(PROFILE.as_bytes()).unwrap();
        let with = p
            .for_container(&["CAP_SYS_CHROOT".to_string()], &host())
            .unwrap();
        assert_eq!(
            names(&with),
            [
                "read,write:ScmpActAllow",
                "personality:ScmpActAllow",
                "arch_prctl:ScmpActAllow",
                "chroot:ScmpActAllow"
            ]
        );
        let without = p.for_container(&[], &host()).unwrap();
        assert_eq!(names(&without)[3], "chroot:ScmpActErrno");
        assert_eq!(without.syscalls().as_ref().unwrap()[3].errno_ret(), Some(1));
        let arm = p
            .for_container(
                &[],
                &Host {
                    arch: "arm64".into(),
                    kernel: (4, 4),
                },
            )
            .unwrap();
        assert!(names(&arm).iter().all(|n| !n.starts_with("arch_prctl")));
        assert!(names(&arm).iter().any(|n| n.starts_with("older")));
        assert_eq!(
            arm.architectures().as_ref().unwrap(),
            &[Arch::ScmpArchAarch64, Arch::ScmpArchArm]
        );

        let j = serde_json::to_value(&with).unwrap();
        assert_eq!(j["defaultAction"], "SCMP_ACT_ERRNO");
        assert_eq!(j["defaultErrnoRet"], 38);
        assert_eq!(
            j["architectures"],
            serde_json::json!(["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"])
        );
        assert_eq!(
            j["syscalls"][1]["args"],
            serde_json::json!([{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}])
        );
    }

    #[test]
    fn bad_profiles_are_refused_with_dockers_words() {
        let both = r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86"],"archMap":[{"architecture":"SCMP_ARCH_X86_64"}]}"#;
        assert_eq!(
            SeccompProfile::parse(both.as_bytes()).unwrap_err().to_string(),
            "'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'"
        );
        let names = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"name":"a","names":["b"],"action":"SCMP_ACT_ALLOW"}]}"#;
        assert!(SeccompProfile::parse(names.as_bytes())
            .unwrap_err()
            .to_string()
            .starts_with("'name' and 'names'"));
        let action = r#"{"defaultAction":"SCMP_ACT_MAYBE"}"#;
        let p = SeccompProfile::parse(action.as_bytes()).unwrap();
        assert_eq!(
            p.for_container(&[], &host()).unwrap_err().to_string(),
            "unknown seccomp action: \"SCMP_ACT_MAYBE\""
        );
        assert!(SeccompProfile::parse(b"{not json")
            .unwrap_err()
            .to_string()
            .starts_with("Decoding seccomp profile failed"));
        assert_eq!(
            SeccompProfile::load(Path::new("/nonexistent/p.json"))
                .unwrap_err()
                .to_string(),
            "opening seccomp profile (/nonexistent/p.json) failed: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn kernel_releases_parse() {
        assert_eq!(parse_kernel("6.18.44-fc-v1252"), Some((6, 18)));
        assert_eq!(parse_kernel("4.8"), Some((4, 8)));
        assert_eq!(parse_kernel("x"), None);
    }

    /// The profiles Debian ships parse and resolve for Docker's default capabilities.
    #[test]
    fn the_installed_profiles_resolve() {
        for path in [DEFAULT_PROFILE, CONTAINERS_COMMON_PROFILE] {
            installed_profile_resolves(Path::new(path));
        }
    }

    fn installed_profile_resolves(path: &Path) {
        let p = SeccompProfile::load(path).unwrap();
        let caps: Vec<String> = crate::spec::DEFAULT_CAPABILITIES
            .iter()
            .map(|s| s.to_string())
            .collect();
        let s = p.for_container(&caps, &Host::current()).unwrap();
        let rules = s.syscalls().as_ref().unwrap();
        let allowed = |name: &str| {
            rules.iter().any(|r| {
                r.names().iter().any(|n| n == name)
                    && r.action() == LinuxSeccompAction::ScmpActAllow
                    && r.args().is_none()
            })
        };
        assert!(allowed("read") && allowed("chroot"));
        assert!(!allowed("init_module") && !allowed("kexec_load"));
    }
}

//! [`CliMounts::parse`] is the docker CLI's half of mount parsing, what `docker run/create` does
//! before it calls the API: `-v` strings become `HostConfig.Binds` entries or `Config.Volumes`
//! keys, `--mount` CSV becomes [`ApiMount`] objects, `--tmpfs` becomes the `HostConfig.Tmpfs` map
//! and `--volumes-from` passes through. Errors are the CLI's own (`invalid spec: …`,
//! `invalid argument "…" for "--mount" flag: …`); everything else is checked by the daemon side,
//! [`parse_mounts`](super::daemon::parse_mounts).
//!
//! Behaviour follows docker CLI 28 (`opts/mount.go`, `cli/compose/loader/volume.go`,
//! `cli/command/container/opts.go`), including its quirks: `--mount` keys and the `type` value
//! are case-insensitive, a leading-`.` source is made absolute against the working directory, and
//! repeated identical `-v` strings count once.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use berth_store::ErrorKind;

use super::api::{
    ApiMount, ApiVersion, BindOptions, Driver, HostConfigMounts, ImageOptions, TmpfsOptions,
    VolumeOptions,
};
use super::daemon::MountRequest;
use berth_go as go;

/// The CLI's warning for `bind-nonrecursive` (printed as a log warning by docker).
pub const BIND_NONRECURSIVE_DEPRECATED: &str =
    "bind-nonrecursive is deprecated, use bind-recursive=disabled instead";

/// A `-v`/`--volume` value the CLI refuses (printed as `docker: <text>`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VolumeFlagError {
    /// `-v ''`.
    #[error("invalid empty volume spec")]
    Empty,
    /// `:/x`, `/x:`, `a::/x`.
    #[error("invalid spec: {0}: empty section between colons")]
    EmptySection(String),
    /// `a:/x:ro:z`.
    #[error("invalid spec: {0}: too many colons")]
    TooManyColons(String),
}

/// Why a `--mount` value is refused: the text after `invalid argument "…" for "--mount" flag: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MountFlagError {
    /// The value is not valid CSV (Go's `encoding/csv` text, or `EOF` for an empty value).
    #[error("{0}")]
    Csv(String),
    /// A field without `=` that is not a flag (`readonly`, `ro`, `volume-nocopy`,
    /// `bind-nonrecursive`).
    #[error("invalid field '{0}' must be a key=value pair")]
    NotKeyValue(String),
    /// An unknown key (shown lower-cased) and its field.
    #[error("unexpected key '{key}' in '{field}'")]
    UnexpectedKey {
        /// The key, lower-cased.
        key: String,
        /// The whole field as given.
        field: String,
    },
    /// A value that does not parse (booleans, `tmpfs-size`, `tmpfs-mode`).
    #[error("invalid value for {key}: {value}")]
    InvalidValue {
        /// The key, lower-cased.
        key: String,
        /// The value as given.
        value: String,
    },
    /// A `bind-recursive` value outside the four modes.
    #[error(
        "invalid value for {key}: {value} (must be \"enabled\", \"disabled\", \"writable\", or \"readonly\")"
    )]
    InvalidRecursiveMode {
        /// The key, lower-cased.
        key: String,
        /// The value as given.
        value: String,
    },
    /// `type=` with an empty value.
    #[error("type is required")]
    TypeRequired,
    /// No `target`/`dst`/`destination`.
    #[error("target is required")]
    TargetRequired,
    /// `volume-*`, `image-*`, `bind-*` or `tmpfs-*` options on another type.
    #[error("cannot mix '{options}-*' options with mount type '{kind}'")]
    MixedOptions {
        /// `volume`, `image`, `bind` or `tmpfs`.
        options: &'static str,
        /// The mount's type.
        kind: String,
    },
    /// `bind-recursive=writable` without `readonly`.
    #[error("option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction")]
    WritableNeedsReadonly,
    /// `bind-recursive=readonly` without `readonly`.
    #[error("option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction")]
    RecursiveReadonlyNeedsReadonly,
    /// `bind-recursive=readonly` without `bind-propagation=rprivate`.
    #[error(
        "option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction"
    )]
    RecursiveReadonlyNeedsRprivate,
}

/// A refused `--mount` value as the CLI reports it:
/// `invalid argument "<csv>" for "--mount" flag: <reason>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid argument {} for \"--mount\" flag: {reason}", go::quote(.value))]
pub struct MountFlagArgError {
    /// The flag value as given.
    pub value: String,
    /// Why it is refused.
    #[source]
    pub reason: MountFlagError,
}

impl VolumeFlagError {
    /// Always [`ErrorKind::InvalidArgument`] (the CLI exits 125).
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }
}

impl MountFlagError {
    /// Always [`ErrorKind::InvalidArgument`] (the CLI exits 125).
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }
}

impl MountFlagArgError {
    /// Always [`ErrorKind::InvalidArgument`] (the CLI exits 125).
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }
}

/// A refused mount flag of `docker run/create`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliMountError {
    /// A bad `--mount` (a flag-parsing error, reported before any `-v` error).
    #[error(transparent)]
    Mount(#[from] MountFlagArgError),
    /// A bad `-v`.
    #[error(transparent)]
    Volume(#[from] VolumeFlagError),
}

impl CliMountError {
    /// Always [`ErrorKind::InvalidArgument`] (the CLI exits 125).
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }
}

/// What one `-v` value becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeFlag {
    /// A `HostConfig.Binds` entry: the value, with a leading-`.` host path made absolute.
    Bind(String),
    /// A `Config.Volumes` key (`-v /data`): the value as given.
    Anonymous(String),
}

/// Parses one `-v`/`--volume` value like docker CLI 28. `cwd` makes `./src` absolute.
pub fn parse_volume_flag(spec: &str, cwd: &str) -> Result<VolumeFlag, VolumeFlagError> {
    let (source, _target) = split_volume_spec(spec)?;
    if source.is_empty() {
        return Ok(VolumeFlag::Anonymous(spec.to_string()));
    }
    if is_file_path(&source) {
        if let Some((host, rest)) = spec.split_once(':') {
            if !host.starts_with('/') && host.starts_with('.') {
                return Ok(VolumeFlag::Bind(format!("{}:{rest}", go::abs(cwd, host))));
            }
        }
    }
    Ok(VolumeFlag::Bind(spec.to_string()))
}

/// The compose loader's `ParseVolume`, as far as the CLI uses it: the source and target, or the
/// error. Options are not validated here (the daemon does).
fn split_volume_spec(spec: &str) -> Result<(String, String), VolumeFlagError> {
    match spec.len() {
        0 => return Err(VolumeFlagError::Empty),
        1 | 2 => return Ok((String::new(), spec.to_string())),
        _ => {}
    }
    const END: char = '\0';
    let mut source = String::new();
    let mut target = String::new();
    let mut buffer = String::new();
    let mut buffer_runes = 0usize;
    for c in spec.chars().chain(std::iter::once(END)) {
        let windows_drive =
            c == ':' && buffer_runes == 1 && buffer.chars().next().is_some_and(is_go_letter);
        if windows_drive {
            buffer.push(c);
            buffer_runes += 1;
        } else if c == ':' || c == END {
            if buffer.is_empty() {
                return Err(VolumeFlagError::EmptySection(spec.to_string()));
            }
            if source.is_empty() && c == END {
                target = buffer.clone();
            } else if source.is_empty() {
                source = buffer.clone();
            } else if target.is_empty() {
                target = buffer.clone();
            } else if c == ':' {
                return Err(VolumeFlagError::TooManyColons(spec.to_string()));
            }
            // A third section at the end holds options: not validated by the CLI.
            buffer.clear();
            buffer_runes = 0;
        } else {
            buffer.push(c);
            buffer_runes += 1;
        }
    }
    Ok((source, target))
}

/// Go's `unicode.IsLetter`, approximated (Rust's `Alphabetic` minus letter-numbers).
fn is_go_letter(c: char) -> bool {
    c.is_alphabetic() && !c.is_numeric()
}

/// The compose loader's `isFilePath`: sources starting with `.`, `/`, `~`, `\\`, or a Windows
/// drive letter are paths (binds), anything else is a volume name.
fn is_file_path(source: &str) -> bool {
    match source.as_bytes().first() {
        Some(b'.' | b'/' | b'~') => return true,
        None => return false,
        _ => {}
    }
    let mut chars = source.chars();
    let first = chars.next().unwrap_or_default();
    if chars.next().is_none() {
        return false;
    }
    if source.starts_with("\\\\") {
        return true;
    }
    source.as_bytes()[first.len_utf8()] == b':' && is_go_letter(first)
}

/// Parses one `--mount` value like docker CLI 28; `cwd` makes a `.`-relative source absolute.
/// The error is the reason only; [`CliMounts::parse`] wraps it in the flag error.
pub fn parse_mount_flag(csv: &str, cwd: &str) -> Result<ApiMount, MountFlagError> {
    parse_mount_fields(csv, cwd).map(|(mount, _)| mount)
}

fn volume_options(mount: &mut ApiMount) -> &mut VolumeOptions {
    let options = mount
        .volume_options
        .get_or_insert_with(VolumeOptions::default);
    options.driver_config.get_or_insert_with(Driver::default);
    options
}

fn driver_config(mount: &mut ApiMount) -> &mut Driver {
    volume_options(mount)
        .driver_config
        .get_or_insert_with(Driver::default)
}

fn bind_options(mount: &mut ApiMount) -> &mut BindOptions {
    mount.bind_options.get_or_insert_with(BindOptions::default)
}

fn tmpfs_options(mount: &mut ApiMount) -> &mut TmpfsOptions {
    mount
        .tmpfs_options
        .get_or_insert_with(TmpfsOptions::default)
}

/// `k=v` into a map; an empty key is ignored, a missing `=` means an empty value.
fn set_value_on_map(map: &mut BTreeMap<String, String>, value: &str) {
    let (key, value) = value.split_once('=').unwrap_or((value, ""));
    if !key.is_empty() {
        map.insert(key.to_string(), value.to_string());
    }
}

/// The mount and whether the deprecated `bind-nonrecursive=<bool>` was used.
fn parse_mount_fields(csv: &str, cwd: &str) -> Result<(ApiMount, bool), MountFlagError> {
    let fields = go::csv_first_record(csv).map_err(MountFlagError::Csv)?;
    let mut mount = ApiMount {
        kind: "volume".to_string(),
        ..ApiMount::default()
    };
    let mut deprecated = false;
    for field in &fields {
        let (key, value) = match field.split_once('=') {
            Some((key, value)) => (go::to_lower(key), Some(value)),
            None => (go::to_lower(field), None),
        };
        let Some(value) = value else {
            match key.as_str() {
                "readonly" | "ro" => mount.read_only = true,
                "volume-nocopy" => volume_options(&mut mount).no_copy = true,
                "bind-nonrecursive" => bind_options(&mut mount).non_recursive = true,
                _ => return Err(MountFlagError::NotKeyValue(field.clone())),
            }
            continue;
        };
        let invalid = |key: &str| MountFlagError::InvalidValue {
            key: key.to_string(),
            value: value.to_string(),
        };
        match key.as_str() {
            "type" => mount.kind = go::to_lower(value),
            "source" | "src" => {
                mount.source = if !value.starts_with('/') && value.starts_with('.') {
                    go::abs(cwd, value)
                } else {
                    value.to_string()
                };
            }
            "target" | "dst" | "destination" => mount.target = value.to_string(),
            "readonly" | "ro" => mount.read_only = go::parse_bool(value).ok_or(invalid(&key))?,
            "consistency" => mount.consistency = go::to_lower(value),
            "bind-propagation" => bind_options(&mut mount).propagation = go::to_lower(value),
            "bind-nonrecursive" => {
                let options = bind_options(&mut mount);
                options.non_recursive = go::parse_bool(value).ok_or(invalid(&key))?;
                deprecated = true;
            }
            "bind-recursive" => match value {
                "enabled" => {}
                "disabled" => bind_options(&mut mount).non_recursive = true,
                "writable" => bind_options(&mut mount).read_only_non_recursive = true,
                "readonly" => bind_options(&mut mount).read_only_force_recursive = true,
                _ => {
                    return Err(MountFlagError::InvalidRecursiveMode {
                        key,
                        value: value.to_string(),
                    })
                }
            },
            "volume-subpath" => volume_options(&mut mount).subpath = value.to_string(),
            "volume-nocopy" => {
                let options = volume_options(&mut mount);
                options.no_copy = go::parse_bool(value).ok_or(invalid("volume-nocopy"))?;
            }
            "volume-label" => set_value_on_map(&mut volume_options(&mut mount).labels, value),
            "volume-driver" => driver_config(&mut mount).name = value.to_string(),
            "volume-opt" => set_value_on_map(&mut driver_config(&mut mount).options, value),
            "image-subpath" => {
                mount
                    .image_options
                    .get_or_insert_with(ImageOptions::default)
                    .subpath = value.to_string();
            }
            "tmpfs-size" => {
                tmpfs_options(&mut mount).size_bytes =
                    go::ram_in_bytes(value).map_err(|_| invalid(&key))?;
            }
            "tmpfs-mode" => {
                tmpfs_options(&mut mount).mode = go::parse_octal_u32(value).ok_or(invalid(&key))?;
            }
            _ => {
                return Err(MountFlagError::UnexpectedKey {
                    key,
                    field: field.clone(),
                })
            }
        }
    }

    if mount.kind.is_empty() {
        return Err(MountFlagError::TypeRequired);
    }
    if mount.target.is_empty() {
        return Err(MountFlagError::TargetRequired);
    }
    let mixed = |options: &'static str| MountFlagError::MixedOptions {
        options,
        kind: mount.kind.clone(),
    };
    if mount.volume_options.is_some() && mount.kind != "volume" {
        return Err(mixed("volume"));
    }
    if mount.image_options.is_some() && mount.kind != "image" {
        return Err(mixed("image"));
    }
    if mount.bind_options.is_some() && mount.kind != "bind" {
        return Err(mixed("bind"));
    }
    if mount.tmpfs_options.is_some() && mount.kind != "tmpfs" {
        return Err(mixed("tmpfs"));
    }
    if let Some(options) = &mount.bind_options {
        if options.read_only_non_recursive && !mount.read_only {
            return Err(MountFlagError::WritableNeedsReadonly);
        }
        if options.read_only_force_recursive {
            if !mount.read_only {
                return Err(MountFlagError::RecursiveReadonlyNeedsReadonly);
            }
            if options.propagation != "rprivate" {
                return Err(MountFlagError::RecursiveReadonlyNeedsRprivate);
            }
        }
    }
    Ok((mount, deprecated))
}

/// Splits a `--tmpfs` value at its first `:` into destination and options (not validated here).
pub fn parse_tmpfs_flag(value: &str) -> (String, String) {
    match value.split_once(':') {
        Some((destination, options)) => (destination.to_string(), options.to_string()),
        None => (value.to_string(), String::new()),
    }
}

/// The mount flags of `docker run/create`, each list in command-line order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CliMountFlags {
    /// `-v`/`--volume` values.
    pub volumes: Vec<String>,
    /// `--mount` values.
    pub mounts: Vec<String>,
    /// `--tmpfs` values.
    pub tmpfs: Vec<String>,
    /// `--volumes-from` values.
    pub volumes_from: Vec<String>,
    /// `--volume-driver`.
    pub volume_driver: Option<String>,
}

/// What the CLI sends: the mount fields of `Config` and `HostConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CliMounts {
    /// `HostConfig.Binds`: `-v` values with a source, first occurrence order, duplicates once.
    pub binds: Vec<String>,
    /// `Config.Volumes` keys from `-v` values without a source.
    pub volumes: BTreeSet<String>,
    /// `HostConfig.Mounts`.
    pub mounts: Vec<ApiMount>,
    /// `HostConfig.Tmpfs`: a later `--tmpfs` for one destination replaces an earlier one.
    pub tmpfs: BTreeMap<String, String>,
    /// `HostConfig.VolumesFrom`, as given.
    pub volumes_from: Vec<String>,
    /// `HostConfig.VolumeDriver`.
    pub volume_driver: Option<String>,
    /// Warnings the CLI prints (deprecated options), in order.
    pub warnings: Vec<String>,
}

impl CliMounts {
    /// Parses the mount flags like `docker run/create`: every `--mount` first (they fail at flag
    /// parsing), then every `-v`. `cwd` is the directory `.`-relative paths are made absolute
    /// against.
    pub fn parse(flags: &CliMountFlags, cwd: &str) -> Result<CliMounts, CliMountError> {
        let mut parsed = CliMounts {
            volumes_from: flags.volumes_from.clone(),
            volume_driver: flags.volume_driver.clone().filter(|d| !d.is_empty()),
            ..CliMounts::default()
        };
        for csv in &flags.mounts {
            let (mount, deprecated) =
                parse_mount_fields(csv, cwd).map_err(|reason| MountFlagArgError {
                    value: csv.clone(),
                    reason,
                })?;
            if deprecated {
                parsed
                    .warnings
                    .push(BIND_NONRECURSIVE_DEPRECATED.to_string());
            }
            parsed.mounts.push(mount);
        }
        let mut seen = HashSet::new();
        for spec in &flags.volumes {
            if !seen.insert(spec.as_str()) {
                continue;
            }
            match parse_volume_flag(spec, cwd)? {
                VolumeFlag::Bind(bind) => parsed.binds.push(bind),
                VolumeFlag::Anonymous(path) => {
                    parsed.volumes.insert(path);
                }
            }
        }
        for value in &flags.tmpfs {
            let (destination, options) = parse_tmpfs_flag(value);
            parsed.tmpfs.insert(destination, options);
        }
        Ok(parsed)
    }

    /// The daemon-side request: `image_volumes` (the image's `VOLUME`s) join the `-v` paths in
    /// `Config.Volumes`.
    pub fn into_request(
        self,
        image_volumes: impl IntoIterator<Item = String>,
        api_version: ApiVersion,
    ) -> MountRequest {
        let mut config_volumes = self.volumes;
        config_volumes.extend(image_volumes);
        MountRequest {
            binds: self.binds,
            mounts: self.mounts,
            tmpfs: self.tmpfs,
            volumes_from: self.volumes_from,
            config_volumes,
            volume_driver: self.volume_driver,
            api_version,
            daemon_root: None,
        }
    }

    /// The `HostConfig` fields the CLI sends (`Binds`/`VolumesFrom` `null` when empty).
    pub fn host_config(&self) -> HostConfigMounts {
        HostConfigMounts {
            binds: (!self.binds.is_empty()).then(|| self.binds.clone()),
            volume_driver: self.volume_driver.clone().unwrap_or_default(),
            volumes_from: (!self.volumes_from.is_empty()).then(|| self.volumes_from.clone()),
            tmpfs: self.tmpfs.clone(),
            mounts: self.mounts.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_flag_windows_drive_letters() {
        assert_eq!(split_volume_spec("c:/x:/y").unwrap().0, "c:/x");
        assert_eq!(
            parse_volume_flag("/a:/b:c:d", "/").unwrap(),
            VolumeFlag::Bind("/a:/b:c:d".into())
        );
        assert!(is_file_path("c:/x"));
        assert!(is_file_path("\\\\pipe"));
        assert!(!is_file_path("c"));
        assert!(!is_file_path("cx"));
    }

    #[test]
    fn set_value_on_map_like_go() {
        let mut map = BTreeMap::new();
        set_value_on_map(&mut map, "k=v=w");
        set_value_on_map(&mut map, "bare");
        set_value_on_map(&mut map, "=ignored");
        assert_eq!(
            map,
            BTreeMap::from([("k".into(), "v=w".into()), ("bare".into(), "".into())])
        );
    }
}

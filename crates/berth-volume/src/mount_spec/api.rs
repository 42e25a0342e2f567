//! [`ApiMount`] is the Docker Engine API's mount object (`HostConfig.Mounts[]`, what `--mount`
//! becomes) and [`MountPoint`] the report `inspect` shows in `Mounts[]`; both serialize to the
//! exact JSON Docker uses, empty fields omitted the way Go's `omitempty` omits them.
//!
//! [`HostConfigMounts`] and [`ConfigVolumes`] carry the mount-related configuration fields as
//! Docker stores and reports them (`HostConfig.Binds/Mounts/Tmpfs/VolumesFrom/VolumeDriver`,
//! `Config.Volumes`), and [`ApiVersion`] is the request's API version that gates newer behaviour.
//!
//! Decoding follows Go's `encoding/json`: a `null` leaves a field at its zero value and unknown
//! fields are ignored. (Go also matches field names case-insensitively; serde does not, so only
//! Docker's canonical spelling is recognised.)

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Go's zero-value-on-`null` decoding for a field that is not a pointer.
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

/// One entry of `HostConfig.Mounts`: Docker's `mount.Mount`.
///
/// `kind` is a string, not an enum, because the daemon must report unknown types by name
/// (`invalid mount config for type "image": mount type unknown`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiMount {
    /// `volume`, `bind`, `tmpfs` (anything else is rejected by the daemon).
    #[serde(
        rename = "Type",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub kind: String,
    /// Volume name (empty: anonymous) or absolute host path.
    #[serde(
        rename = "Source",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub source: String,
    /// Absolute path in the container.
    #[serde(
        rename = "Target",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub target: String,
    /// Mount read-only.
    #[serde(
        rename = "ReadOnly",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_false"
    )]
    pub read_only: bool,
    /// `consistent`, `cached`, `delegated`, `default`: accepted and ignored on Linux.
    #[serde(
        rename = "Consistency",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub consistency: String,
    /// Options of `bind` mounts.
    #[serde(
        rename = "BindOptions",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub bind_options: Option<BindOptions>,
    /// Options of `volume` mounts.
    #[serde(
        rename = "VolumeOptions",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub volume_options: Option<VolumeOptions>,
    /// Options of `image` mounts (parsed by the CLI; the daemon rejects the type).
    #[serde(
        rename = "ImageOptions",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub image_options: Option<ImageOptions>,
    /// Options of `tmpfs` mounts.
    #[serde(
        rename = "TmpfsOptions",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub tmpfs_options: Option<TmpfsOptions>,
}

/// Docker's `mount.BindOptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindOptions {
    /// `private`, `rprivate`, `shared`, `rshared`, `slave`, `rslave` (empty: `rprivate`).
    #[serde(
        rename = "Propagation",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub propagation: String,
    /// Plain bind instead of rbind: submounts of the source are not visible.
    #[serde(
        rename = "NonRecursive",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_false"
    )]
    pub non_recursive: bool,
    /// Create a missing source instead of failing (API ≥ 1.42).
    #[serde(
        rename = "CreateMountpoint",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_false"
    )]
    pub create_mountpoint: bool,
    /// Read-only only at the top, submounts stay writable (API ≥ 1.44).
    #[serde(
        rename = "ReadOnlyNonRecursive",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_false"
    )]
    pub read_only_non_recursive: bool,
    /// Recursively read-only or fail (API ≥ 1.44).
    #[serde(
        rename = "ReadOnlyForceRecursive",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_false"
    )]
    pub read_only_force_recursive: bool,
}

/// Docker's `mount.VolumeOptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeOptions {
    /// Do not populate the volume from the image.
    #[serde(
        rename = "NoCopy",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_false"
    )]
    pub no_copy: bool,
    /// Labels for the volume if this mount creates it.
    #[serde(
        rename = "Labels",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    /// Mount only this directory of the volume (API ≥ 1.45).
    #[serde(
        rename = "Subpath",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub subpath: String,
    /// Driver and driver options for the volume if this mount creates it.
    #[serde(
        rename = "DriverConfig",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub driver_config: Option<Driver>,
}

/// Docker's `mount.Driver`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Driver {
    /// Volume driver name (empty: the default, `local`).
    #[serde(
        rename = "Name",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub name: String,
    /// Driver options (`-o` of `volume create`).
    #[serde(
        rename = "Options",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub options: BTreeMap<String, String>,
}

/// Docker's `mount.ImageOptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageOptions {
    /// Mount only this directory of the image.
    #[serde(
        rename = "Subpath",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub subpath: String,
}

/// Docker's `mount.TmpfsOptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TmpfsOptions {
    /// Size limit in bytes (0: the kernel default, half of RAM).
    #[serde(
        rename = "SizeBytes",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero_i64"
    )]
    pub size_bytes: i64,
    /// Mode of the tmpfs root (`tmpfs-mode=1770` is stored as its decimal value, 1016).
    #[serde(
        rename = "Mode",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_zero_u32"
    )]
    pub mode: u32,
    /// Extra options, `[["exec"]]` or `[["key", "value"]]` (API ≥ 1.46; `exec`/`noexec` only).
    #[serde(
        rename = "Options",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub options: Vec<Vec<String>>,
}

/// One entry of `inspect`'s `Mounts[]`: Docker's `types.MountPoint`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountPoint {
    /// `volume`, `bind` or `tmpfs`.
    #[serde(
        rename = "Type",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub kind: String,
    /// Volume name; omitted for binds and tmpfs.
    #[serde(
        rename = "Name",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub name: String,
    /// Host path: the volume's mountpoint or the cleaned bind source; `""` for tmpfs.
    #[serde(rename = "Source", default, deserialize_with = "nullable")]
    pub source: String,
    /// Cleaned path in the container.
    #[serde(rename = "Destination", default, deserialize_with = "nullable")]
    pub destination: String,
    /// Volume driver; omitted for binds and tmpfs.
    #[serde(
        rename = "Driver",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub driver: String,
    /// `z` for volumes from `-v`/`--mount` on the local driver, the raw `-v` mode otherwise.
    #[serde(rename = "Mode", default, deserialize_with = "nullable")]
    pub mode: String,
    /// Writable.
    #[serde(rename = "RW", default, deserialize_with = "nullable")]
    pub rw: bool,
    /// Bind propagation (`rprivate` by default); `""` for volumes and tmpfs.
    #[serde(rename = "Propagation", default, deserialize_with = "nullable")]
    pub propagation: String,
}

/// The mount fields of `HostConfig`, as the client sent them and `inspect` reports them:
/// `Binds` and `VolumesFrom` are `null` when absent, `Tmpfs` and `Mounts` are omitted when empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostConfigMounts {
    /// `-v` specs that have a source, as sent (after the CLI's `.`-path absolutization).
    #[serde(rename = "Binds", default)]
    pub binds: Option<Vec<String>>,
    /// Default driver for `-v` volumes and `Config.Volumes` (`""`: local).
    #[serde(rename = "VolumeDriver", default, deserialize_with = "nullable")]
    pub volume_driver: String,
    /// `--volumes-from` specs as given.
    #[serde(rename = "VolumesFrom", default)]
    pub volumes_from: Option<Vec<String>>,
    /// `--tmpfs` destinations and their option strings.
    #[serde(
        rename = "Tmpfs",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub tmpfs: BTreeMap<String, String>,
    /// `--mount` objects as sent.
    #[serde(
        rename = "Mounts",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub mounts: Vec<ApiMount>,
}

/// `Config.Volumes`: the anonymous-volume destinations (image `VOLUME`s ∪ `-v /path`), serialized
/// as `{"/data":{}}`, or `null` when there are none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigVolumes(pub Option<BTreeSet<String>>);

impl ConfigVolumes {
    /// `null` for an empty set, the set otherwise.
    pub fn from_set(set: &BTreeSet<String>) -> Self {
        ConfigVolumes((!set.is_empty()).then(|| set.clone()))
    }

    /// The destinations (empty when `null`).
    pub fn paths(&self) -> BTreeSet<String> {
        self.0.clone().unwrap_or_default()
    }
}

impl Serialize for ConfigVolumes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match &self.0 {
            None => serializer.serialize_none(),
            Some(set) => {
                let mut map = serializer.serialize_map(Some(set.len()))?;
                for path in set {
                    map.serialize_entry(path, &BTreeMap::<String, String>::new())?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for ConfigVolumes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct VolumesVisitor;
        impl<'de> Visitor<'de> for VolumesVisitor {
            type Value = ConfigVolumes;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of paths or null")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(ConfigVolumes(None))
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(ConfigVolumes(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut set = BTreeSet::new();
                while let Some((key, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                    set.insert(key);
                }
                Ok(ConfigVolumes(Some(set)))
            }
        }
        deserializer.deserialize_any(VolumesVisitor)
    }
}

/// A Docker Engine API version (`1.41`), compared numerically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    /// Always 1 so far.
    pub major: u32,
    /// The number that moves.
    pub minor: u32,
}

impl ApiVersion {
    /// A version from its two numbers.
    pub const fn new(major: u32, minor: u32) -> Self {
        ApiVersion { major, minor }
    }
    /// Docker 20.10, the reference engine of the spec.
    pub const V1_41: ApiVersion = ApiVersion::new(1, 41);
    /// `BindOptions.CreateMountpoint`.
    pub const V1_42: ApiVersion = ApiVersion::new(1, 42);
    /// Recursive read-only binds (`ReadOnlyNonRecursive`, `ReadOnlyForceRecursive`).
    pub const V1_44: ApiVersion = ApiVersion::new(1, 44);
    /// `VolumeOptions.Subpath`.
    pub const V1_45: ApiVersion = ApiVersion::new(1, 45);
    /// `TmpfsOptions.Options`.
    pub const V1_46: ApiVersion = ApiVersion::new(1, 46);
    /// The newest version this parser knows (Docker 28's).
    pub const LATEST: ApiVersion = ApiVersion::new(1, 50);
}

impl Default for ApiVersion {
    fn default() -> Self {
        ApiVersion::LATEST
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// A string that is not `MAJOR.MINOR`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid API version: {0}")]
pub struct ApiVersionError(pub String);

impl FromStr for ApiVersion {
    type Err = ApiVersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ApiVersionError(s.to_string());
        let (major, minor) = s.split_once('.').ok_or_else(err)?;
        Ok(ApiVersion {
            major: major.parse().map_err(|_| err())?,
            minor: minor.parse().map_err(|_| err())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn api_mount_json_omits_empty_fields_like_go() {
        let anon = ApiMount {
            kind: "volume".into(),
            target: "/anon2".into(),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&anon).unwrap(),
            r#"{"Type":"volume","Target":"/anon2"}"#
        );
        let tmpfs = ApiMount {
            kind: "tmpfs".into(),
            target: "/t1".into(),
            tmpfs_options: Some(TmpfsOptions {
                size_bytes: 1_048_576,
                mode: 0o700,
                options: vec![],
            }),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&tmpfs).unwrap(),
            r#"{"Type":"tmpfs","Target":"/t1","TmpfsOptions":{"SizeBytes":1048576,"Mode":448}}"#
        );
        let with_empty_options = ApiMount {
            kind: "volume".into(),
            target: "/x".into(),
            volume_options: Some(VolumeOptions {
                no_copy: true,
                driver_config: Some(Driver::default()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&with_empty_options).unwrap(),
            r#"{"Type":"volume","Target":"/x","VolumeOptions":{"NoCopy":true,"DriverConfig":{}}}"#
        );
    }

    #[test]
    fn api_mount_decodes_nulls_and_ignores_unknown_fields() {
        let m: ApiMount = serde_json::from_value(json!({
            "Type": "bind", "Source": null, "Target": "/x", "ReadOnly": null,
            "BindOptions": null, "VolumeOptions": {"Labels": null, "DriverConfig": null},
            "ClusterOptions": {}, "Whatever": 1
        }))
        .unwrap();
        assert_eq!(m.kind, "bind");
        assert_eq!(m.source, "");
        assert!(m.bind_options.is_none());
        assert_eq!(m.volume_options, Some(VolumeOptions::default()));
        let round: ApiMount = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(round, m);
    }

    #[test]
    fn mount_point_json_matches_inspect() {
        let volume = MountPoint {
            kind: "volume".into(),
            name: "spec-named1".into(),
            source: "/var/lib/docker/volumes/spec-named1/_data".into(),
            destination: "/named".into(),
            driver: "local".into(),
            mode: "z".into(),
            rw: true,
            propagation: String::new(),
        };
        assert_eq!(
            serde_json::to_string(&volume).unwrap(),
            r#"{"Type":"volume","Name":"spec-named1","Source":"/var/lib/docker/volumes/spec-named1/_data","Destination":"/named","Driver":"local","Mode":"z","RW":true,"Propagation":""}"#
        );
        let tmpfs = MountPoint {
            kind: "tmpfs".into(),
            destination: "/t1".into(),
            rw: true,
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_string(&tmpfs).unwrap(),
            r#"{"Type":"tmpfs","Source":"","Destination":"/t1","Mode":"","RW":true,"Propagation":""}"#
        );
    }

    #[test]
    fn host_config_fields_are_null_or_omitted_like_docker() {
        assert_eq!(
            serde_json::to_string(&HostConfigMounts::default()).unwrap(),
            r#"{"Binds":null,"VolumeDriver":"","VolumesFrom":null}"#
        );
        let full = HostConfigMounts {
            binds: Some(vec!["/srv:/b".into()]),
            volume_driver: String::new(),
            volumes_from: Some(vec!["spec-src".into()]),
            tmpfs: BTreeMap::from([("/t2".into(), "size=2m,noexec".into())]),
            mounts: vec![ApiMount {
                kind: "volume".into(),
                target: "/anon2".into(),
                ..Default::default()
            }],
        };
        let text = serde_json::to_string(&full).unwrap();
        assert_eq!(
            text,
            r#"{"Binds":["/srv:/b"],"VolumeDriver":"","VolumesFrom":["spec-src"],"Tmpfs":{"/t2":"size=2m,noexec"},"Mounts":[{"Type":"volume","Target":"/anon2"}]}"#
        );
        assert_eq!(
            serde_json::from_str::<HostConfigMounts>(&text).unwrap(),
            full
        );
    }

    #[test]
    fn config_volumes_json() {
        assert_eq!(
            serde_json::to_string(&ConfigVolumes::default()).unwrap(),
            "null"
        );
        let set = BTreeSet::from(["/data".to_string(), "/anon1".to_string()]);
        let v = ConfigVolumes::from_set(&set);
        let text = serde_json::to_string(&v).unwrap();
        assert_eq!(text, r#"{"/anon1":{},"/data":{}}"#);
        assert_eq!(serde_json::from_str::<ConfigVolumes>(&text).unwrap(), v);
        assert_eq!(
            serde_json::from_str::<ConfigVolumes>("null").unwrap(),
            ConfigVolumes(None)
        );
        assert_eq!(
            ConfigVolumes::from_set(&BTreeSet::new()),
            ConfigVolumes(None)
        );
    }

    #[test]
    fn api_versions_compare_numerically() {
        let v: ApiVersion = "1.9".parse().unwrap();
        assert!(v < ApiVersion::V1_41);
        assert!("1.44".parse::<ApiVersion>().unwrap() >= ApiVersion::V1_44);
        assert_eq!(ApiVersion::V1_41.to_string(), "1.41");
        assert!("v1.41".parse::<ApiVersion>().is_err());
        assert!("1".parse::<ApiVersion>().is_err());
    }
}

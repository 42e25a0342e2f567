//! Docker's API structs as the docker CLI (28.x) decodes `inspect` JSON into them before running a
//! `--format` template: for each struct, its fields in declaration order, the JSON key each is read
//! from and its Go type. [`root`] gives the type an inspect template starts from
//! (`container.InspectResponse`, `image.InspectResponse`, `volume.Volume`, `network.Inspect`).
//!
//! Why a table: berth's JSON omits empty fields (`omitempty`) that Docker's structs always have, so
//! the JSON alone cannot tell an unknown field (`{{.Config.Nope}}`, a template error in Docker)
//! from a known one that is absent (`{{.HostConfig.Mounts}}`, which prints `[]`), nor a struct
//! from a map (whose missing key prints `<no value>`). The table was written from moby's
//! `api/types` at the version the 28.x CLI vendors and checked field by field against the CLI
//! (`docker inspect -f '{{printf "%#v" .HostConfig}}'`). Named scalar types are written as
//! their underlying type (`NetworkMode string`); types a template cannot usefully walk into are
//! `interface {}`.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::gofmt::{sprint_value, GoKind};

/// The type `docker container inspect` decodes into.
pub const CONTAINER: &str = "container.InspectResponse";
/// The type `docker image inspect` decodes into.
pub const IMAGE: &str = "image.InspectResponse";
/// The type `docker volume inspect` decodes into.
pub const VOLUME: &str = "volume.Volume";
/// The type `docker network inspect` decodes into.
pub const NETWORK: &str = "network.Inspect";

/// The structs: `type NAME` then one field per line, `Field[=jsonKey] TYPE`; `^` marks an
/// embedded struct, whose fields are promoted and whose JSON is the enclosing object's.
const TYPES: &str = r"
type container.InspectResponse
^ContainerJSONBase *container.ContainerJSONBase
Mounts []container.MountPoint
Config *container.Config
NetworkSettings *container.NetworkSettings
ImageManifestDescriptor *v1.Descriptor

type container.ContainerJSONBase
ID=Id string
Created string
Path string
Args []string
State *container.State
Image string
ResolvConfPath string
HostnamePath string
HostsPath string
LogPath string
Name string
RestartCount int
Driver string
Platform string
MountLabel string
ProcessLabel string
AppArmorProfile string
ExecIDs []string
HostConfig *container.HostConfig
GraphDriver storage.DriverData
SizeRw *int64
SizeRootFs *int64

type container.State
Status string
Running bool
Paused bool
Restarting bool
OOMKilled bool
Dead bool
Pid int
ExitCode int
Error string
StartedAt string
FinishedAt string
Health *container.Health

type container.Health
Status string
FailingStreak int
Log []*container.HealthcheckResult

type container.HealthcheckResult
Start time.Time
End time.Time
ExitCode int
Output string

type container.HostConfig
Binds []string
ContainerIDFile string
LogConfig container.LogConfig
NetworkMode string
PortBindings map[string][]nat.PortBinding
RestartPolicy container.RestartPolicy
AutoRemove bool
VolumeDriver string
VolumesFrom []string
ConsoleSize [2]uint
Annotations map[string]string
CapAdd []string
CapDrop []string
CgroupnsMode string
DNS=Dns []string
DNSOptions=DnsOptions []string
DNSSearch=DnsSearch []string
ExtraHosts []string
GroupAdd []string
IpcMode string
Cgroup string
Links []string
OomScoreAdj int
PidMode string
Privileged bool
PublishAllPorts bool
ReadonlyRootfs bool
SecurityOpt []string
StorageOpt map[string]string
Tmpfs map[string]string
UTSMode string
UsernsMode string
ShmSize int64
Sysctls map[string]string
Runtime string
Isolation string
^Resources container.Resources
Mounts []mount.Mount
MaskedPaths []string
ReadonlyPaths []string
Init *bool

type container.Resources
CPUShares=CpuShares int64
Memory int64
NanoCPUs=NanoCpus int64
CgroupParent string
BlkioWeight uint16
BlkioWeightDevice []*blkiodev.WeightDevice
BlkioDeviceReadBps []*blkiodev.ThrottleDevice
BlkioDeviceWriteBps []*blkiodev.ThrottleDevice
BlkioDeviceReadIOps []*blkiodev.ThrottleDevice
BlkioDeviceWriteIOps []*blkiodev.ThrottleDevice
CPUPeriod=CpuPeriod int64
CPUQuota=CpuQuota int64
CPURealtimePeriod=CpuRealtimePeriod int64
CPURealtimeRuntime=CpuRealtimeRuntime int64
CpusetCpus string
CpusetMems string
Devices []container.DeviceMapping
DeviceCgroupRules []string
DeviceRequests []container.DeviceRequest
KernelMemory int64
KernelMemoryTCP int64
MemoryReservation int64
MemorySwap int64
MemorySwappiness *int64
OomKillDisable *bool
PidsLimit *int64
Ulimits []*units.Ulimit
CPUCount=CpuCount int64
CPUPercent=CpuPercent int64
IOMaximumIOps uint64
IOMaximumBandwidth uint64

type container.LogConfig
Type string
Config map[string]string

type container.RestartPolicy
Name string
MaximumRetryCount int

type container.DeviceMapping
PathOnHost string
PathInContainer string
CgroupPermissions string

type container.DeviceRequest
Driver string
Count int
DeviceIDs []string
Capabilities [][]string
Options map[string]string

type mount.Mount
Type string
Source string
Target string
ReadOnly bool
Consistency string
BindOptions *mount.BindOptions
VolumeOptions *mount.VolumeOptions
ImageOptions *mount.ImageOptions
TmpfsOptions *mount.TmpfsOptions
ClusterOptions *mount.ClusterOptions

type mount.BindOptions
Propagation string
NonRecursive bool
CreateMountpoint bool
ReadOnlyNonRecursive bool
ReadOnlyForceRecursive bool

type mount.VolumeOptions
NoCopy bool
Labels map[string]string
Subpath string
DriverConfig *mount.Driver

type mount.Driver
Name string
Options map[string]string

type mount.ImageOptions
Subpath string

type mount.TmpfsOptions
SizeBytes int64
Mode uint32
Options [][]string

type mount.ClusterOptions

type units.Ulimit
Name string
Hard int64
Soft int64

type blkiodev.WeightDevice
Path string
Weight uint16

type blkiodev.ThrottleDevice
Path string
Rate uint64

type container.MountPoint
Type string
Name string
Source string
Destination string
Driver string
Mode string
RW bool
Propagation string

type container.Config
Hostname string
Domainname string
User string
AttachStdin bool
AttachStdout bool
AttachStderr bool
ExposedPorts map[string]struct {}
Tty bool
OpenStdin bool
StdinOnce bool
Env []string
Cmd []string
Healthcheck *v1.HealthcheckConfig
ArgsEscaped bool
Image string
Volumes map[string]struct {}
WorkingDir string
Entrypoint []string
NetworkDisabled bool
MacAddress string
OnBuild []string
Labels map[string]string
StopSignal string
StopTimeout *int
Shell []string

type v1.HealthcheckConfig
Test []string
Interval time.Duration
Timeout time.Duration
StartPeriod time.Duration
StartInterval time.Duration
Retries int

type container.NetworkSettings
^NetworkSettingsBase container.NetworkSettingsBase
^DefaultNetworkSettings container.DefaultNetworkSettings
Networks map[string]*network.EndpointSettings

type container.NetworkSettingsBase
Bridge string
SandboxID string
SandboxKey string
Ports map[string][]nat.PortBinding
HairpinMode bool
LinkLocalIPv6Address string
LinkLocalIPv6PrefixLen int
SecondaryIPAddresses []network.Address
SecondaryIPv6Addresses []network.Address

type container.DefaultNetworkSettings
EndpointID string
Gateway string
GlobalIPv6Address string
GlobalIPv6PrefixLen int
IPAddress string
IPPrefixLen int
IPv6Gateway string
MacAddress string

type network.EndpointSettings
IPAMConfig *network.EndpointIPAMConfig
Links []string
Aliases []string
MacAddress string
DriverOpts map[string]string
GwPriority int
NetworkID string
EndpointID string
Gateway string
IPAddress string
IPPrefixLen int
IPv6Gateway string
GlobalIPv6Address string
GlobalIPv6PrefixLen int
DNSNames []string

type network.EndpointIPAMConfig
IPv4Address string
IPv6Address string
LinkLocalIPs []string

type network.Address
Addr string
PrefixLen int

type nat.PortBinding
HostIP=HostIp string
HostPort string

type storage.DriverData
Data map[string]string
Name string

type v1.Descriptor
MediaType=mediaType string
Digest=digest string
Size=size int64
URLs=urls []string
Annotations=annotations map[string]string
Data=data interface {}
Platform=platform *v1.Platform
ArtifactType=artifactType string

type v1.Platform
Architecture=architecture string
OS=os string
OSVersion=os.version string
OSFeatures=os.features []string
Variant=variant string

type image.InspectResponse
ID=Id string
RepoTags []string
RepoDigests []string
Parent string
Comment string
Created string
Container string
ContainerConfig *container.Config
DockerVersion string
Author string
Config *v1.DockerOCIImageConfig
Architecture string
Variant string
Os string
OsVersion string
Size int64
VirtualSize int64
GraphDriver storage.DriverData
RootFS image.RootFS
Metadata image.Metadata
Descriptor *v1.Descriptor
Manifests []image.ManifestSummary

type v1.DockerOCIImageConfig
^ImageConfig v1.ImageConfig
^DockerOCIImageConfigExt v1.DockerOCIImageConfigExt

type v1.ImageConfig
User string
ExposedPorts map[string]struct {}
Env []string
Entrypoint []string
Cmd []string
Volumes map[string]struct {}
WorkingDir string
Labels map[string]string
StopSignal string
ArgsEscaped bool

type v1.DockerOCIImageConfigExt
Healthcheck *v1.HealthcheckConfig
OnBuild []string
Shell []string

type image.RootFS
Type string
Layers []string

type image.Metadata
LastTagTime time.Time

type image.ManifestSummary
ID string
Descriptor v1.Descriptor
Available bool
Size interface {}
Kind string
AttestationData interface {}
ImageData interface {}

type volume.Volume
ClusterVolume *volume.ClusterVolume
CreatedAt string
Driver string
Labels map[string]string
Mountpoint string
Name string
Options map[string]string
Scope string
Status map[string]interface {}
UsageData *volume.UsageData

type volume.UsageData
RefCount int64
Size int64

type volume.ClusterVolume
ID string
Version interface {}
CreatedAt interface {}
UpdatedAt interface {}
Spec interface {}
PublishStatus interface {}
Info interface {}

type network.Inspect
Name string
ID=Id string
Created time.Time
Scope string
Driver string
EnableIPv4 bool
EnableIPv6 bool
IPAM network.IPAM
Internal bool
Attachable bool
Ingress bool
ConfigFrom network.ConfigReference
ConfigOnly bool
Containers map[string]network.EndpointResource
Options map[string]string
Labels map[string]string
Peers []network.PeerInfo
Services map[string]network.ServiceInfo

type network.IPAM
Driver string
Options map[string]string
Config []network.IPAMConfig

type network.IPAMConfig
Subnet string
IPRange string
Gateway string
AuxAddress=AuxiliaryAddresses map[string]string

type network.ConfigReference
Network string

type network.EndpointResource
Name string
EndpointID string
MacAddress string
IPv4Address string
IPv6Address string

type network.PeerInfo
Name string
IP string

type network.ServiceInfo
VIP string
Ports []string
LocalLBIndex int
Tasks []network.Task

type network.Task
Name string
EndpointID string
EndpointIP string
Info map[string]string
";

/// A Go type of the table.
#[derive(Debug, PartialEq, Eq)]
pub struct Ty {
    /// Go's name for it (`*container.State`, `[]string`), as errors print it.
    pub name: &'static str,
    /// What the type is made of.
    pub kind: TyKind,
}

/// What a [`Ty`] is.
#[derive(Debug, PartialEq, Eq)]
pub enum TyKind {
    /// `bool`.
    Bool,
    /// Any integer type.
    Int,
    /// `float64`.
    Float,
    /// `string` and the named string types (`NetworkMode`...).
    String,
    /// `time.Duration`: nanoseconds in JSON, `1m30s` when printed.
    Duration,
    /// `time.Time`: RFC 3339 in JSON, `2026-12-06 10:53:38.25 +0000 UTC` when printed.
    Time,
    /// `interface {}`: whatever the JSON holds, with map semantics.
    Interface,
    /// `struct {}` (the values of `ExposedPorts` and `Volumes`).
    EmptyStruct,
    /// `*T`: `<nil>` when null, followed once when printed.
    Pointer(Box<Ty>),
    /// `[]T` and arrays.
    Slice(Box<Ty>),
    /// A map with string keys.
    Map(Box<Ty>),
    /// A struct of the table, by name.
    Struct(&'static str),
}

/// A field of a struct.
#[derive(Debug)]
pub struct Field {
    /// Its Go name, as templates use it.
    pub name: &'static str,
    /// Its key in the JSON object.
    pub json: &'static str,
    /// Its type.
    pub ty: Ty,
    /// An embedded struct: its fields are promoted, its JSON is the enclosing object.
    pub embedded: bool,
}

struct Table {
    structs: HashMap<&'static str, Vec<Field>>,
    /// `Struct(name)` for each struct, to start a template from.
    roots: HashMap<&'static str, Ty>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut structs = HashMap::new();
        let mut current: Option<(&'static str, Vec<Field>)> = None;
        for line in TYPES.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if let Some(name) = line.strip_prefix("type ") {
                if let Some((n, fields)) = current.take() {
                    structs.insert(n, fields);
                }
                current = Some((name, Vec::new()));
                continue;
            }
            let (decl, ty) = line.split_once(' ').expect("field lines are `Name TYPE`");
            let (decl, embedded) = match decl.strip_prefix('^') {
                Some(d) => (d, true),
                None => (decl, false),
            };
            let (name, json) = decl.split_once('=').unwrap_or((decl, decl));
            let field = Field {
                name,
                json,
                ty: parse_ty(ty),
                embedded,
            };
            current
                .as_mut()
                .expect("fields follow a type line")
                .1
                .push(field);
        }
        if let Some((n, fields)) = current.take() {
            structs.insert(n, fields);
        }
        let roots = structs
            .keys()
            .map(|&n| {
                (
                    n,
                    Ty {
                        name: n,
                        kind: TyKind::Struct(n),
                    },
                )
            })
            .collect();
        Table { structs, roots }
    })
}

fn parse_ty(s: &'static str) -> Ty {
    let kind = if let Some(rest) = s.strip_prefix('*') {
        TyKind::Pointer(Box::new(parse_ty(rest)))
    } else if let Some(rest) = s.strip_prefix("map[") {
        let close = rest.find(']').expect("map types have a key");
        TyKind::Map(Box::new(parse_ty(&rest[close + 1..])))
    } else if let Some(rest) = s.strip_prefix('[') {
        // `[]T` and arrays `[2]T` alike.
        let close = rest.find(']').expect("slice types close");
        TyKind::Slice(Box::new(parse_ty(&rest[close + 1..])))
    } else {
        match s {
            "bool" => TyKind::Bool,
            "int" | "int64" | "uint" | "uint16" | "uint32" | "uint64" => TyKind::Int,
            "float64" => TyKind::Float,
            "string" => TyKind::String,
            "time.Duration" => TyKind::Duration,
            "time.Time" => TyKind::Time,
            "interface {}" => TyKind::Interface,
            "struct {}" => TyKind::EmptyStruct,
            named => TyKind::Struct(named),
        }
    };
    Ty { name: s, kind }
}

/// The struct type `name` (`container.InspectResponse`...), if the table has it.
pub fn root(name: &str) -> Option<&'static Ty> {
    table().roots.get(name)
}

/// The fields of struct `name`.
fn fields(name: &str) -> &'static [Field] {
    table().structs.get(name).map_or(&[], Vec::as_slice)
}

/// Go's `FieldByName`: a field of struct `name`, or one promoted from an embedded struct.
pub fn field(name: &str, field: &str) -> Option<&'static Field> {
    let own = fields(name);
    if let Some(f) = own.iter().find(|f| f.name == field) {
        return Some(f);
    }
    own.iter()
        .filter(|f| f.embedded)
        .find_map(|f| self::field(struct_of(&f.ty)?, field))
}

/// The struct a type is or points to.
pub fn struct_of(ty: &Ty) -> Option<&'static str> {
    match &ty.kind {
        TyKind::Struct(n) => table().structs.get_key_value(n).map(|(k, _)| *k),
        TyKind::Pointer(inner) => struct_of(inner),
        _ => None,
    }
}

/// The value of field `f` of a struct held in `obj`: the JSON's, or the Go zero value of the
/// field's type when berth's JSON omits it.
pub fn field_value(obj: &Map<String, Value>, f: &Field) -> Value {
    if f.embedded {
        return Value::Object(obj.clone());
    }
    obj.get(f.json).cloned().unwrap_or_else(|| zero(&f.ty))
}

/// Go's zero value of a type, as JSON.
pub fn zero(ty: &Ty) -> Value {
    match &ty.kind {
        TyKind::Bool => Value::Bool(false),
        TyKind::Int | TyKind::Float | TyKind::Duration => Value::from(0),
        TyKind::String => Value::String(String::new()),
        TyKind::Time => Value::String("0001-01-01T00:00:00Z".into()),
        TyKind::Struct(_) | TyKind::EmptyStruct => Value::Object(Map::new()),
        TyKind::Interface | TyKind::Pointer(_) | TyKind::Slice(_) | TyKind::Map(_) => Value::Null,
    }
}

/// The printing hint for a value of `ty` handed to code that only knows JSON.
pub fn kind_hint(ty: &Ty) -> GoKind {
    match &ty.kind {
        TyKind::Slice(_) => GoKind::Slice,
        TyKind::Map(elem) if elem.kind == TyKind::String => GoKind::StringMap,
        TyKind::Map(_) => GoKind::Map,
        _ => GoKind::Any,
    }
}

/// Go's truth of a value of `ty` (`if`, `with`, `and`, `or`): a struct is always true.
pub fn truth(v: &Value, ty: &Ty) -> bool {
    match (&ty.kind, v) {
        (TyKind::Struct(_) | TyKind::EmptyStruct, Value::Object(_)) => true,
        (TyKind::Duration, Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        (TyKind::Time, Value::String(s)) => !s.starts_with("0001-01-01T00:00:00"),
        (_, Value::Null) => false,
        (_, Value::Bool(b)) => *b,
        (_, Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        (_, Value::String(s)) => !s.is_empty(),
        (_, Value::Array(a)) => !a.is_empty(),
        (_, Value::Object(o)) => !o.is_empty(),
    }
}

/// How a template prints a value of `ty` (`fmt.Fprint` after one pointer is followed, as
/// `text/template` does): structs as `{a b}`, slices `[a b]`, maps `map[k:v]`, durations and
/// times by their `String` methods, nil pointers `<nil>`.
pub fn sprint(v: &Value, ty: &Ty) -> String {
    let mut out = String::new();
    let ty = match (&ty.kind, v) {
        (TyKind::Pointer(inner), v) if !v.is_null() => inner,
        _ => ty,
    };
    write(&mut out, v, ty);
    out
}

fn write(out: &mut String, v: &Value, ty: &Ty) {
    match (&ty.kind, v) {
        (TyKind::Pointer(_), Value::Null) => out.push_str("<nil>"),
        // fmt prints a pointer inside a struct, slice or map as its address (`&{…}` only at the
        // top, which a template has already followed); berth's values have none, so a fixed one
        // of Go's shape stands in for it.
        (TyKind::Pointer(_), _) => out.push_str("0xc000010000"),
        (TyKind::Duration, Value::Number(n)) => out.push_str(&go_duration(n.as_i64().unwrap_or(0))),
        (TyKind::Time, Value::String(s)) => out.push_str(&go_time(s)),
        (TyKind::Slice(_), Value::Null) => out.push_str("[]"),
        (TyKind::Slice(elem), Value::Array(items)) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write(out, item, elem);
            }
            out.push(']');
        }
        (TyKind::Map(_), Value::Null) => out.push_str("map[]"),
        (TyKind::Map(elem), Value::Object(map)) => {
            out.push_str("map[");
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(key);
                out.push(':');
                write(out, &map[key.as_str()], elem);
            }
            out.push(']');
        }
        (TyKind::EmptyStruct, _) => out.push_str("{}"),
        (TyKind::Struct(name), Value::Object(map)) => {
            out.push('{');
            for (i, f) in fields(name).iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write(out, &field_value(map, f), &f.ty);
            }
            out.push('}');
        }
        (TyKind::Interface, Value::Null) => out.push_str("<nil>"),
        (_, other) => out.push_str(&sprint_value(other, kind_hint(ty))),
    }
}

/// Go's `time.Duration.String()`: `0s`, `1.5s`, `1m30s`, `2h0m0s`, `500ms`, `1µs`, `10ns`.
fn go_duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let neg = ns < 0;
    let u = ns.unsigned_abs();
    let body = if u < 1_000_000_000 {
        let (unit, div) = match u {
            0..=999 => ("ns", 1),
            1_000..=999_999 => ("µs", 1_000),
            _ => ("ms", 1_000_000),
        };
        format!("{}{unit}", fraction(u, div))
    } else {
        let (h, rest) = (u / 3_600_000_000_000, u % 3_600_000_000_000);
        let (m, s) = (rest / 60_000_000_000, rest % 60_000_000_000);
        let secs = format!("{}s", fraction(s, 1_000_000_000));
        match (h, m) {
            (0, 0) => secs,
            (0, m) => format!("{m}m{secs}"),
            (h, m) => format!("{h}h{m}m{secs}"),
        }
    };
    if neg {
        format!("-{body}")
    } else {
        body
    }
}

/// `n / div` with the remainder as decimals, trailing zeros dropped.
fn fraction(n: u64, div: u64) -> String {
    let (whole, rem) = (n / div, n % div);
    if rem == 0 {
        return whole.to_string();
    }
    let width = div.to_string().len() - 1;
    let decimals = format!("{rem:0width$}");
    format!("{whole}.{}", decimals.trim_end_matches('0'))
}

/// Go's `time.Time.String()` of an RFC 3339 time: `2026-12-06 10:53:38.253258134 +0000 UTC`.
fn go_time(s: &str) -> String {
    let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) else {
        return s.to_string();
    };
    let mut out = t.format("%Y-%m-%d %H:%M:%S").to_string();
    let nanos = t.timestamp_subsec_nanos();
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    let offset = t.format("%z").to_string();
    let zone = if t.offset().local_minus_utc() == 0 {
        "UTC".to_string()
    } else {
        offset.clone()
    };
    format!("{out} {offset} {zone}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every struct a field names is in the table, and every root an inspect starts from.
    #[test]
    fn table_is_closed() {
        fn check(ty: &Ty, owner: &str) {
            match &ty.kind {
                TyKind::Struct(n) => assert!(
                    table().structs.contains_key(n),
                    "{owner} names {n}, which the table lacks"
                ),
                TyKind::Pointer(t) | TyKind::Slice(t) | TyKind::Map(t) => check(t, owner),
                _ => {}
            }
        }
        for (name, fields) in &table().structs {
            for f in fields {
                check(&f.ty, name);
            }
        }
        for r in [CONTAINER, IMAGE, VOLUME, NETWORK] {
            assert!(root(r).is_some(), "{r}");
        }
    }

    #[test]
    fn promoted_fields_and_json_keys() {
        let f = field("container.InspectResponse", "ID").unwrap();
        assert_eq!((f.json, f.ty.name), ("Id", "string"));
        assert!(field("container.InspectResponse", "Id").is_none());
        assert_eq!(
            field("container.HostConfig", "NanoCPUs").unwrap().json,
            "NanoCpus"
        );
        assert!(field("container.NetworkSettings", "IPAddress").is_some());
        assert!(field("v1.DockerOCIImageConfig", "Shell").is_some());
        assert!(field("v1.DockerOCIImageConfig", "Hostname").is_none());
    }

    #[test]
    fn go_strings() {
        for (ns, want) in [
            (0, "0s"),
            (30_000_000_000, "30s"),
            (1_500_000_000, "1.5s"),
            (90_000_000_000, "1m30s"),
            (7_200_000_000_000, "2h0m0s"),
            (500_000_000, "500ms"),
            (1_000, "1µs"),
            (10, "10ns"),
        ] {
            assert_eq!(go_duration(ns), want);
        }
        assert_eq!(
            go_time("2026-12-06T10:53:38.253258134Z"),
            "2026-12-06 10:53:38.253258134 +0000 UTC"
        );
        assert_eq!(
            go_time("0001-01-01T00:00:00Z"),
            "0001-01-01 00:00:00 +0000 UTC"
        );
    }
}

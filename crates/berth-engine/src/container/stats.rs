//! `stats`: a running container's resource usage in Docker's `StatsJSON` shape, read from the
//! cgroups its init process is in (cgroup v1 controllers, or the v2 unified hierarchy when
//! there is no v1 memory controller — runc's rule) and from its network namespace's interface
//! counters (`/proc/<pid>/net/dev`). One sample per second when streaming; `precpu_stats` is
//! the previous sample, as Docker's collector sends it.
//!
//! The reading is hand-written: it is a dozen small text files whose fields map one to one onto
//! Docker's JSON, and the cgroup crates manage cgroups rather than report in this shape.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::{Engine, EngineError};

/// How often a streamed answer samples (Docker's collector interval).
const INTERVAL: Duration = Duration::from_secs(1);

/// Docker's `ThrottlingData`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Throttling {
    /// Periods with throttling active.
    pub periods: u64,
    /// Periods in which the container hit its limit.
    pub throttled_periods: u64,
    /// Nanoseconds throttled.
    pub throttled_time: u64,
}

/// Docker's `CPUUsage`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CpuUsage {
    /// Nanoseconds of CPU time.
    pub total_usage: u64,
    /// Per CPU (cgroup v1 only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub percpu_usage: Vec<u64>,
    /// Nanoseconds in kernel mode.
    pub usage_in_kernelmode: u64,
    /// Nanoseconds in user mode.
    pub usage_in_usermode: u64,
}

/// Docker's `CPUStats`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CpuStats {
    /// The container's usage.
    pub cpu_usage: CpuUsage,
    /// The host's CPU time in nanoseconds (`/proc/stat`).
    #[serde(skip_serializing_if = "is_zero")]
    pub system_cpu_usage: u64,
    /// Online CPUs.
    #[serde(skip_serializing_if = "is_zero32")]
    pub online_cpus: u32,
    /// CFS throttling.
    pub throttling_data: Throttling,
}

/// Docker's `MemoryStats`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MemoryStats {
    /// Bytes in use.
    #[serde(skip_serializing_if = "is_zero")]
    pub usage: u64,
    /// The most ever used (cgroup v1 only).
    #[serde(skip_serializing_if = "is_zero")]
    pub max_usage: u64,
    /// The controller's `memory.stat`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub stats: BTreeMap<String, u64>,
    /// Times the limit was hit (cgroup v1 only).
    #[serde(skip_serializing_if = "is_zero")]
    pub failcnt: u64,
    /// The limit, or the host's memory when there is none.
    #[serde(skip_serializing_if = "is_zero")]
    pub limit: u64,
}

/// Docker's `BlkioStatEntry`.
#[derive(Debug, Clone, Serialize)]
pub struct BlkioEntry {
    /// Device major number.
    pub major: u64,
    /// Device minor number.
    pub minor: u64,
    /// `Read`, `Write`, `Sync`, `Async`, `Discard`, `Total`.
    pub op: String,
    /// The counter.
    pub value: u64,
}

/// Docker's `BlkioStats` (the lists it fills are `null` when empty, as Go sends nil slices).
#[derive(Debug, Clone, Default, Serialize)]
pub struct BlkioStats {
    /// Bytes read and written per device.
    pub io_service_bytes_recursive: Option<Vec<BlkioEntry>>,
    /// Operations per device.
    pub io_serviced_recursive: Option<Vec<BlkioEntry>>,
    /// Not kept by berth's cgroups (CFQ only); always `null`.
    pub io_queue_recursive: Option<Vec<BlkioEntry>>,
    /// As above.
    pub io_service_time_recursive: Option<Vec<BlkioEntry>>,
    /// As above.
    pub io_wait_time_recursive: Option<Vec<BlkioEntry>>,
    /// As above.
    pub io_merged_recursive: Option<Vec<BlkioEntry>>,
    /// As above.
    pub io_time_recursive: Option<Vec<BlkioEntry>>,
    /// As above.
    pub sectors_recursive: Option<Vec<BlkioEntry>>,
}

/// Docker's `PidsStats`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PidsStats {
    /// Processes in the container.
    #[serde(skip_serializing_if = "is_zero")]
    pub current: u64,
    /// Its pids limit (none: left out).
    #[serde(skip_serializing_if = "is_zero")]
    pub limit: u64,
}

/// Docker's `NetworkStats`, per interface.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NetworkStats {
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Incoming packets dropped.
    pub rx_dropped: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Send errors.
    pub tx_errors: u64,
    /// Outgoing packets dropped.
    pub tx_dropped: u64,
}

/// Docker's `StatsJSON`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StatsJson {
    /// When this sample was read (RFC 3339 with nanoseconds; Go's zero time before any).
    pub read: String,
    /// When the previous one was.
    pub preread: String,
    /// Processes.
    pub pids_stats: PidsStats,
    /// Block I/O.
    pub blkio_stats: BlkioStats,
    /// Always 0 on Linux.
    pub num_procs: u32,
    /// Always empty on Linux.
    pub storage_stats: serde_json::Map<String, serde_json::Value>,
    /// This sample's CPU.
    pub cpu_stats: CpuStats,
    /// The previous sample's CPU.
    pub precpu_stats: CpuStats,
    /// Memory.
    pub memory_stats: MemoryStats,
    /// `/NAME`.
    pub name: String,
    /// The container's ID.
    pub id: String,
    /// Per interface; left out without a network of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networks: Option<BTreeMap<String, NetworkStats>>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

fn is_zero32(v: &u32) -> bool {
    *v == 0
}

/// Go's zero `time.Time` as Docker prints it.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Where a process's cgroups are: v1 controller directories by controller name, or the v2
/// directory.
#[derive(Debug, Default)]
struct Cgroups {
    v1: BTreeMap<String, PathBuf>,
    v2: Option<PathBuf>,
}

impl Cgroups {
    /// The cgroups of `pid`, from `/proc/<pid>/cgroup` and this process's mount table.
    fn of(pid: i64) -> Cgroups {
        let own = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
        let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let mut v1_mounts: Vec<(Vec<String>, PathBuf)> = Vec::new();
        let mut v2_mount = None;
        for line in info.lines() {
            let Some((left, right)) = line.split_once(" - ") else {
                continue;
            };
            let mut r = right.split(' ');
            let (Some(fstype), Some(_), Some(options)) = (r.next(), r.next(), r.next()) else {
                continue;
            };
            let Some(target) = left.split(' ').nth(4) else {
                continue;
            };
            match fstype {
                "cgroup" => v1_mounts.push((
                    options.split(',').map(str::to_string).collect(),
                    PathBuf::from(target),
                )),
                "cgroup2" => v2_mount = Some(PathBuf::from(target)),
                _ => {}
            }
        }
        let mut found = Cgroups::default();
        for line in own.lines() {
            let mut parts = line.splitn(3, ':');
            let (Some(_), Some(controllers), Some(path)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let rel = path.trim_start_matches('/');
            if controllers.is_empty() {
                found.v2 = v2_mount.as_ref().map(|m| m.join(rel));
                continue;
            }
            for controller in controllers.split(',') {
                if let Some((_, mount)) = v1_mounts
                    .iter()
                    .find(|(opts, _)| opts.iter().any(|o| o == controller))
                {
                    found.v1.insert(controller.to_string(), mount.join(rel));
                }
            }
        }
        found
    }

    /// runc's rule: v1 when the memory controller is mounted as v1 (v1 or hybrid hosts).
    fn is_v1(&self) -> bool {
        self.v1.contains_key("memory")
    }

    fn v1_file(&self, controller: &str, file: &str) -> Option<String> {
        std::fs::read_to_string(self.v1.get(controller)?.join(file)).ok()
    }

    fn v2_file(&self, file: &str) -> Option<String> {
        std::fs::read_to_string(self.v2.as_ref()?.join(file)).ok()
    }
}

fn number(s: Option<String>) -> u64 {
    s.and_then(|s| s.trim().parse().ok()).unwrap_or(0)
}

/// `key value` lines (`memory.stat`, `cpu.stat`, `cpuacct.stat`).
fn key_values(s: Option<String>) -> BTreeMap<String, u64> {
    s.unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

/// Clock ticks per second (`USER_HZ`), the unit of `cpuacct.stat` and `/proc/stat`.
fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no memory effects.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

/// The host's CPU time in nanoseconds, as Docker's `getSystemCPUUsage` sums the `cpu` line.
fn system_cpu_usage() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return 0;
    };
    let ticks: u64 = line
        .split_whitespace()
        .skip(1)
        .take(7)
        .filter_map(|v| v.parse::<u64>().ok())
        .sum();
    ticks.saturating_mul(1_000_000_000) / clock_ticks()
}

fn online_cpus() -> u32 {
    // SAFETY: sysconf has no memory effects.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    u32::try_from(n).unwrap_or(0)
}

/// The host's memory in bytes (the limit Docker shows for an unlimited container).
pub(crate) fn host_memory() -> u64 {
    let info = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    info.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// `blkio.throttle.*` lines (`8:0 Read 4096`; the closing `Total N` has no device).
fn v1_blkio(text: Option<String>) -> Option<Vec<BlkioEntry>> {
    let entries: Vec<BlkioEntry> = text
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (dev, op, value) = (f.next()?, f.next()?, f.next()?);
            let (major, minor) = dev.split_once(':')?;
            Some(BlkioEntry {
                major: major.parse().ok()?,
                minor: minor.parse().ok()?,
                op: op.to_string(),
                value: value.parse().ok()?,
            })
        })
        .collect();
    (!entries.is_empty()).then_some(entries)
}

/// `io.stat` (`8:0 rbytes=1 wbytes=2 rios=3 wios=4 ...`) as Docker maps it: bytes and
/// operations, each as `read` and `write` entries.
fn v2_blkio(text: Option<String>) -> (Option<Vec<BlkioEntry>>, Option<Vec<BlkioEntry>>) {
    let mut bytes = Vec::new();
    let mut ios = Vec::new();
    for line in text.unwrap_or_default().lines() {
        let mut f = line.split_whitespace();
        let Some((major, minor)) = f.next().and_then(|d| d.split_once(':')) else {
            continue;
        };
        let (Ok(major), Ok(minor)) = (major.parse::<u64>(), minor.parse::<u64>()) else {
            continue;
        };
        for kv in f {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            let Ok(value) = v.parse::<u64>() else {
                continue;
            };
            let (list, op) = match k {
                "rbytes" => (&mut bytes, "read"),
                "wbytes" => (&mut bytes, "write"),
                "rios" => (&mut ios, "read"),
                "wios" => (&mut ios, "write"),
                _ => continue,
            };
            list.push(BlkioEntry {
                major,
                minor,
                op: op.to_string(),
                value,
            });
        }
    }
    (
        (!bytes.is_empty()).then_some(bytes),
        (!ios.is_empty()).then_some(ios),
    )
}

/// The interfaces of `pid`'s network namespace but `lo`.
fn networks(pid: i64) -> BTreeMap<String, NetworkStats> {
    let dev = std::fs::read_to_string(format!("/proc/{pid}/net/dev")).unwrap_or_default();
    dev.lines()
        .skip(2)
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let name = name.trim();
            if name == "lo" {
                return None;
            }
            let v: Vec<u64> = rest
                .split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect();
            if v.len() < 12 {
                return None;
            }
            Some((
                name.to_string(),
                NetworkStats {
                    rx_bytes: v[0],
                    rx_packets: v[1],
                    rx_errors: v[2],
                    rx_dropped: v[3],
                    tx_bytes: v[8],
                    tx_packets: v[9],
                    tx_errors: v[10],
                    tx_dropped: v[11],
                },
            ))
        })
        .collect()
}

/// One reading of `pid`'s cgroups and network. `own_network`: whether the container has a
/// network namespace of its own (not the host's).
fn sample(pid: i64, own_network: bool) -> StatsJson {
    let cg = Cgroups::of(pid);
    let mut s = StatsJson {
        read: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        preread: ZERO_TIME.into(),
        ..Default::default()
    };
    let host_mem = host_memory();
    let cap = |limit: u64| {
        if limit == 0 || (host_mem > 0 && limit > host_mem) {
            host_mem
        } else {
            limit
        }
    };
    if cg.is_v1() {
        let ns_per_tick = 1_000_000_000 / clock_ticks();
        let acct = key_values(cg.v1_file("cpuacct", "cpuacct.stat"));
        let percpu = cg
            .v1_file("cpuacct", "cpuacct.usage_percpu")
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
        let throttle = key_values(cg.v1_file("cpu", "cpu.stat"));
        s.cpu_stats.cpu_usage = CpuUsage {
            total_usage: number(cg.v1_file("cpuacct", "cpuacct.usage")),
            percpu_usage: percpu,
            usage_in_kernelmode: acct.get("system").copied().unwrap_or(0) * ns_per_tick,
            usage_in_usermode: acct.get("user").copied().unwrap_or(0) * ns_per_tick,
        };
        s.cpu_stats.throttling_data = Throttling {
            periods: throttle.get("nr_periods").copied().unwrap_or(0),
            throttled_periods: throttle.get("nr_throttled").copied().unwrap_or(0),
            throttled_time: throttle.get("throttled_time").copied().unwrap_or(0),
        };
        s.memory_stats = MemoryStats {
            usage: number(cg.v1_file("memory", "memory.usage_in_bytes")),
            max_usage: number(cg.v1_file("memory", "memory.max_usage_in_bytes")),
            stats: key_values(cg.v1_file("memory", "memory.stat")),
            failcnt: number(cg.v1_file("memory", "memory.failcnt")),
            limit: cap(number(cg.v1_file("memory", "memory.limit_in_bytes"))),
        };
        s.blkio_stats.io_service_bytes_recursive =
            v1_blkio(cg.v1_file("blkio", "blkio.throttle.io_service_bytes_recursive"))
                .or_else(|| v1_blkio(cg.v1_file("blkio", "blkio.throttle.io_service_bytes")));
        s.blkio_stats.io_serviced_recursive =
            v1_blkio(cg.v1_file("blkio", "blkio.throttle.io_serviced_recursive"))
                .or_else(|| v1_blkio(cg.v1_file("blkio", "blkio.throttle.io_serviced")));
        s.pids_stats = PidsStats {
            current: number(cg.v1_file("pids", "pids.current")),
            limit: number(cg.v1_file("pids", "pids.max")),
        };
    } else {
        let cpu = key_values(cg.v2_file("cpu.stat"));
        let get = |k: &str| cpu.get(k).copied().unwrap_or(0);
        s.cpu_stats.cpu_usage = CpuUsage {
            total_usage: get("usage_usec") * 1000,
            percpu_usage: Vec::new(),
            usage_in_kernelmode: get("system_usec") * 1000,
            usage_in_usermode: get("user_usec") * 1000,
        };
        s.cpu_stats.throttling_data = Throttling {
            periods: get("nr_periods"),
            throttled_periods: get("nr_throttled"),
            throttled_time: get("throttled_usec") * 1000,
        };
        s.memory_stats = MemoryStats {
            usage: number(cg.v2_file("memory.current")),
            max_usage: 0,
            stats: key_values(cg.v2_file("memory.stat")),
            failcnt: 0,
            limit: cap(number(cg.v2_file("memory.max"))),
        };
        let (bytes, ios) = v2_blkio(cg.v2_file("io.stat"));
        s.blkio_stats.io_service_bytes_recursive = bytes;
        s.blkio_stats.io_serviced_recursive = ios;
        s.pids_stats = PidsStats {
            current: number(cg.v2_file("pids.current")),
            limit: number(cg.v2_file("pids.max")),
        };
    }
    s.cpu_stats.system_cpu_usage = system_cpu_usage();
    s.cpu_stats.online_cpus = online_cpus();
    if own_network {
        s.networks = Some(networks(pid));
    }
    s
}

/// What `GET /containers/{id}/stats` and `berth stats` ask for.
#[derive(Debug, Clone, Copy)]
pub struct StatsQuery {
    /// A sample a second until the reader leaves (or the container stops).
    pub stream: bool,
    /// Without streaming: answer at once, without a previous sample (`one-shot`).
    pub one_shot: bool,
}

impl Engine {
    /// Sends `sink` the stats of container `name` (see [`StatsQuery`]). A container that is not
    /// running gets one empty sample (its name and ID) without streaming, as Docker's; when
    /// streaming, samples stop when it stops, `gone()` says the reader left, or `sink` fails.
    pub fn container_stats(
        &mut self,
        name: &str,
        query: StatsQuery,
        gone: &dyn Fn() -> bool,
        sink: &mut dyn FnMut(&StatsJson) -> std::io::Result<()>,
    ) -> Result<(), EngineError> {
        let c = self.container(name)?;
        let empty = StatsJson {
            read: ZERO_TIME.into(),
            preread: ZERO_TIME.into(),
            name: format!("/{}", c.name),
            id: c.id.clone(),
            ..Default::default()
        };
        let pid = c.state.pid;
        if !c.state.status.is_running() || pid <= 0 {
            if !query.stream {
                let _ = sink(&empty);
            }
            return Ok(());
        }
        let mode = c.host_config.network_mode.as_str();
        let own_network = !(mode == "host" || mode.starts_with("container:"));
        let named = |mut s: StatsJson, prev: Option<&StatsJson>| {
            s.name = empty.name.clone();
            s.id = empty.id.clone();
            if let Some(p) = prev {
                s.precpu_stats = p.cpu_stats.clone();
                s.preread = p.read.clone();
            }
            s
        };
        let alive = || Path::new(&format!("/proc/{pid}")).exists();
        let mut prev = if query.stream || query.one_shot {
            None
        } else {
            // A one-off answer carries a previous sample, as Docker's (which waits for two).
            let first = sample(pid, own_network);
            std::thread::sleep(INTERVAL);
            Some(first)
        };
        loop {
            if !alive() {
                return Ok(());
            }
            let now = named(sample(pid, own_network), prev.as_ref());
            if sink(&now).is_err() || !query.stream {
                return Ok(());
            }
            prev = Some(now);
            let deadline = std::time::Instant::now() + INTERVAL;
            while std::time::Instant::now() < deadline {
                if gone() {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let c = self.container(name)?;
            if !c.state.status.is_running() || c.state.pid != pid {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blkio_lines_parse_as_runc_reads_them() {
        let v1 = v1_blkio(Some("8:0 Read 4096\n8:0 Write 0\nTotal 4096\n".into())).unwrap();
        assert_eq!(v1.len(), 2);
        assert_eq!(
            (v1[0].major, v1[0].minor, v1[0].op.as_str()),
            (8, 0, "Read")
        );
        assert_eq!(v1[0].value, 4096);
        assert!(v1_blkio(Some("Total 0\n".into())).is_none());
        let (bytes, ios) = v2_blkio(Some(
            "259:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0\n".into(),
        ));
        let bytes = bytes.unwrap();
        assert_eq!(bytes.len(), 2);
        assert_eq!((bytes[1].op.as_str(), bytes[1].value), ("write", 20));
        assert_eq!(ios.unwrap()[0].value, 1);
    }

    #[test]
    fn an_empty_sample_has_dockers_keys() {
        let v = serde_json::to_value(StatsJson {
            read: ZERO_TIME.into(),
            preread: ZERO_TIME.into(),
            ..Default::default()
        })
        .unwrap();
        for key in [
            "read",
            "preread",
            "pids_stats",
            "blkio_stats",
            "num_procs",
            "storage_stats",
            "cpu_stats",
            "precpu_stats",
            "memory_stats",
            "name",
            "id",
        ] {
            assert!(v.get(key).is_some(), "{key} missing: {v}");
        }
        assert!(v["blkio_stats"]["io_service_bytes_recursive"].is_null());
        assert_eq!(v["cpu_stats"]["throttling_data"]["periods"], 0);
    }

    #[test]
    fn this_process_has_cgroups_and_a_sample() {
        let cg = Cgroups::of(std::process::id() as i64);
        assert!(cg.is_v1() || cg.v2.is_some(), "{cg:?}");
        let s = sample(std::process::id() as i64, true);
        assert!(s.cpu_stats.system_cpu_usage > 0);
        assert!(s.cpu_stats.online_cpus > 0);
        assert!(s.memory_stats.limit > 0);
    }
}

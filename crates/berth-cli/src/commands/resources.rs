//! The resource flags of `run`, `create` and `update` (`--memory`, `--cpus`, `--pids-limit`,
//! `--ulimit`, the block-I/O device lists ...) parsed into the request's `Resources` the way the
//! docker CLI parses them, with its error texts (`invalid argument "x" for "-m, --memory" flag:
//! ...`). Range and host checks are the engine's, so the API gets them too.

use berth_engine::types::{Resources, ThrottleDevice, Ulimit, WeightDevice};
use berth_go as units;

use crate::cli::{ResourceFlags, RunArgs};

/// `invalid argument "VALUE" for "FLAG" flag: WHY`.
fn bad_flag(flag: &str, value: &str, why: impl std::fmt::Display) -> String {
    format!("invalid argument \"{value}\" for \"{flag}\" flag: {why}")
}

fn bytes(flag: &str, v: &Option<String>) -> Result<i64, String> {
    match v {
        None => Ok(0),
        Some(s) => units::ram_in_bytes(s).map_err(|e| bad_flag(flag, s, e)),
    }
}

fn int(flag: &str, v: &Option<String>) -> Result<Option<i64>, String> {
    v.as_ref()
        .map(|s| {
            s.parse::<i64>().map_err(|_| {
                bad_flag(
                    flag,
                    s,
                    format!("strconv.ParseInt: parsing \"{s}\": invalid syntax"),
                )
            })
        })
        .transpose()
}

/// `--cpus 1.5` in billionths of a CPU (Go's `big.Rat` accepts decimals and fractions).
fn nano_cpus(v: &Option<String>) -> Result<i64, String> {
    let Some(s) = v else { return Ok(0) };
    let bad = || {
        bad_flag(
            "--cpus",
            s,
            format!("failed to parse {s} as a rational number"),
        )
    };
    let value: f64 = match s.split_once('/') {
        Some((a, b)) => {
            let (a, b): (f64, f64) = (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
            if b == 0.0 {
                return Err(bad());
            }
            a / b
        }
        None => s.parse().map_err(|_| bad())?,
    };
    if !value.is_finite() {
        return Err(bad());
    }
    let nano = (value * 1e9).round();
    if nano.fract() != 0.0 || nano.abs() > i64::MAX as f64 {
        return Err(bad_flag("--cpus", s, "value is too precise"));
    }
    Ok(nano as i64)
}

/// The limits `run`, `create` and `update` share.
pub fn from_flags(f: &ResourceFlags) -> Result<Resources, String> {
    let memory_swap = match &f.memory_swap {
        Some(s) if s == "-1" => -1,
        other => bytes("--memory-swap", other)?,
    };
    let blkio_weight = match &f.blkio_weight {
        None => 0,
        Some(s) => s.parse::<u16>().map_err(|_| {
            bad_flag(
                "--blkio-weight",
                s,
                format!("strconv.ParseUint: parsing \"{s}\": invalid syntax"),
            )
        })?,
    };
    Ok(Resources {
        memory: bytes("-m, --memory", &f.memory)?,
        memory_swap,
        memory_reservation: bytes("--memory-reservation", &f.memory_reservation)?,
        kernel_memory: bytes("--kernel-memory", &f.kernel_memory)?,
        nano_cpus: nano_cpus(&f.cpus)?,
        cpu_shares: int("-c, --cpu-shares", &f.cpu_shares)?.unwrap_or(0),
        cpu_period: int("--cpu-period", &f.cpu_period)?.unwrap_or(0),
        cpu_quota: int("--cpu-quota", &f.cpu_quota)?.unwrap_or(0),
        cpu_realtime_period: int("--cpu-rt-period", &f.cpu_rt_period)?.unwrap_or(0),
        cpu_realtime_runtime: int("--cpu-rt-runtime", &f.cpu_rt_runtime)?.unwrap_or(0),
        cpuset_cpus: f.cpuset_cpus.clone().unwrap_or_default(),
        cpuset_mems: f.cpuset_mems.clone().unwrap_or_default(),
        pids_limit: int("--pids-limit", &f.pids_limit)?,
        blkio_weight,
        ..Default::default()
    })
}

/// `--blkio-weight-device /dev/sda:200`.
fn weight_device(s: &str) -> Result<WeightDevice, String> {
    let flag = "--blkio-weight-device";
    let (path, weight) = s
        .split_once(':')
        .filter(|(_, w)| !w.contains(':'))
        .ok_or_else(|| bad_flag(flag, s, format!("bad format: {s}")))?;
    if !path.starts_with("/dev/") {
        return Err(bad_flag(
            flag,
            s,
            format!("bad format for device path: {s}"),
        ));
    }
    let weight: u16 = weight
        .parse()
        .ok()
        .filter(|w| (10..=1000).contains(w))
        .ok_or_else(|| bad_flag(flag, s, format!("invalid weight for device: {s}")))?;
    Ok(WeightDevice {
        path: path.to_string(),
        weight,
    })
}

/// `--device-read-bps /dev/sda:1mb` (`bps`) or `--device-read-iops /dev/sda:1000`.
fn throttle_device(flag: &str, s: &str, bps: bool) -> Result<ThrottleDevice, String> {
    let (path, rate) = s
        .split_once(':')
        .filter(|(_, r)| !r.contains(':'))
        .ok_or_else(|| bad_flag(flag, s, format!("bad format: {s}")))?;
    if !path.starts_with("/dev/") {
        return Err(bad_flag(
            flag,
            s,
            format!("bad format for device path: {s}"),
        ));
    }
    let rate = if bps {
        units::ram_in_bytes(rate).ok().filter(|r| *r >= 0)
    } else {
        rate.parse::<i64>().ok().filter(|r| *r >= 0)
    }
    .ok_or_else(|| {
        bad_flag(
            flag,
            s,
            if bps {
                format!("invalid rate for device: {s}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb")
            } else {
                format!("invalid rate for device: {s}. The correct format is <device-path>:<number>. Number must be a positive integer")
            },
        )
    })?;
    Ok(ThrottleDevice {
        path: path.to_string(),
        rate: rate as u64,
    })
}

/// `--ulimit name=soft[:hard]` (go-units' `ParseUlimit`).
pub fn ulimit(s: &str) -> Result<Ulimit, String> {
    let bad = |why: String| bad_flag("--ulimit", s, why);
    let (name, values) = s
        .split_once('=')
        .ok_or_else(|| bad(format!("invalid ulimit argument: {s}")))?;
    if berth_runtime::spec::rlimit_resource(name).is_none() {
        return Err(bad(format!("invalid ulimit type: {name}")));
    }
    let parse = |v: &str| {
        v.parse::<i64>()
            .map_err(|_| bad(format!("strconv.ParseInt: parsing \"{v}\": invalid syntax")))
    };
    let (soft, hard) = match values.split_once(':') {
        Some((a, b)) => (parse(a)?, parse(b)?),
        None => {
            let v = parse(values)?;
            (v, v)
        }
    };
    if hard != -1 && soft > hard {
        return Err(bad(format!(
            "ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}"
        )));
    }
    Ok(Ulimit {
        name: name.to_string(),
        soft,
        hard,
    })
}

/// Every resource flag of `run`/`create`, as the request the docker CLI sends: `Devices` and
/// `BlkioWeightDevice` as empty lists, `OomKillDisable` false.
pub fn from_run_args(args: &RunArgs) -> Result<Resources, String> {
    let mut r = from_flags(&args.resources)?;
    r.memory_swappiness = match int("--memory-swappiness", &args.memory_swappiness)? {
        None | Some(-1) => None,
        Some(s) if !(0..=100).contains(&s) => {
            return Err(format!(
                "invalid value: {s}. Valid memory swappiness range is 0-100"
            ))
        }
        Some(s) => Some(s),
    };
    r.oom_kill_disable = Some(args.oom_kill_disable);
    r.cgroup_parent = args.cgroup_parent.clone().unwrap_or_default();
    r.blkio_weight_device = Some(
        args.blkio_weight_device
            .iter()
            .map(|s| weight_device(s))
            .collect::<Result<_, _>>()?,
    );
    let throttles = |flag: &str, list: &[String], bps: bool| {
        (!list.is_empty())
            .then(|| {
                list.iter()
                    .map(|s| throttle_device(flag, s, bps))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()
    };
    r.blkio_device_read_bps = throttles("--device-read-bps", &args.device_read_bps, true)?;
    r.blkio_device_write_bps = throttles("--device-write-bps", &args.device_write_bps, true)?;
    r.blkio_device_read_iops = throttles("--device-read-iops", &args.device_read_iops, false)?;
    r.blkio_device_write_iops = throttles("--device-write-iops", &args.device_write_iops, false)?;
    r.ulimits = (!args.ulimit.is_empty())
        .then(|| args.ulimit.iter().map(|u| ulimit(u)).collect())
        .transpose()?;
    Ok(r)
}

/// Whether any flag `update` can change was given.
pub fn any_set(f: &ResourceFlags) -> bool {
    [
        &f.memory,
        &f.memory_swap,
        &f.memory_reservation,
        &f.kernel_memory,
        &f.cpus,
        &f.cpu_shares,
        &f.cpu_period,
        &f.cpu_quota,
        &f.cpu_rt_period,
        &f.cpu_rt_runtime,
        &f.cpuset_cpus,
        &f.cpuset_mems,
        &f.pids_limit,
        &f.blkio_weight,
    ]
    .iter()
    .any(|v| v.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_like_the_docker_cli() {
        assert_eq!(nano_cpus(&Some("1.5".into())).unwrap(), 1_500_000_000);
        assert_eq!(nano_cpus(&Some("1/4".into())).unwrap(), 250_000_000);
        assert_eq!(
            nano_cpus(&Some("abc".into())).unwrap_err(),
            "invalid argument \"abc\" for \"--cpus\" flag: failed to parse abc as a rational number"
        );
        let f = ResourceFlags {
            memory: Some("64m".into()),
            memory_swap: Some("-1".into()),
            pids_limit: Some("-1".into()),
            ..Default::default()
        };
        let r = from_flags(&f).unwrap();
        assert_eq!(
            (r.memory, r.memory_swap, r.pids_limit),
            (64 << 20, -1, Some(-1))
        );
        let f = ResourceFlags {
            memory: Some("abc".into()),
            ..Default::default()
        };
        assert_eq!(
            from_flags(&f).unwrap_err(),
            "invalid argument \"abc\" for \"-m, --memory\" flag: invalid size: 'abc'"
        );
        assert_eq!(
            ulimit("nofile=200:100").unwrap_err(),
            "invalid argument \"nofile=200:100\" for \"--ulimit\" flag: ulimit soft limit must be less than or equal to hard limit: 200 > 100"
        );
        assert_eq!(
            ulimit("foo=1").unwrap_err(),
            "invalid argument \"foo=1\" for \"--ulimit\" flag: invalid ulimit type: foo"
        );
        assert_eq!(ulimit("nproc=10:-1").unwrap().hard, -1);
        assert_eq!(
            throttle_device("--device-read-bps", "/dev/loop0", true).unwrap_err(),
            "invalid argument \"/dev/loop0\" for \"--device-read-bps\" flag: bad format: /dev/loop0"
        );
        assert_eq!(
            throttle_device("--device-read-bps", "loop0:1", true).unwrap_err(),
            "invalid argument \"loop0:1\" for \"--device-read-bps\" flag: bad format for device path: loop0:1"
        );
        assert_eq!(
            throttle_device("--device-read-bps", "/dev/loop0:1mb", true)
                .unwrap()
                .rate,
            1 << 20
        );
        assert!(
            throttle_device("--device-read-iops", "/dev/loop0:1mb", false)
                .unwrap_err()
                .ends_with("Number must be a positive integer")
        );
        assert_eq!(
            weight_device("/dev/loop0:5").unwrap_err(),
            "invalid argument \"/dev/loop0:5\" for \"--blkio-weight-device\" flag: invalid weight for device: /dev/loop0:5"
        );
    }
}

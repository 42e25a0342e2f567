//! Resource limits: every `run` flag lands in the container's cgroup (read from inside it),
//! inspect reports it as Docker does, bad values get Docker's words, `update` changes a running
//! container, and the docker CLI gets the same through `berth serve`. Expected inspect values were
//! recorded from a private dockerd 20.10.24 given the same flags (cgroup v1+v2 hybrid, cgroupfs).

use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use crate::api::DockerCli;
use crate::harness::*;

/// A block device of this host, for the block I/O throttles.
fn block_device() -> String {
    let mut names: Vec<_> = std::fs::read_dir("/dev")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_block_device()))
        .map(|e| e.path().display().to_string())
        .collect();
    names.sort();
    names
        .into_iter()
        .next()
        .expect("the host has a block device")
}

/// `sh -c SCRIPT` in a container run with `flags`: its stdout lines.
fn run_lines(b: &Berth, flags: &[&str], script: &str) -> Vec<String> {
    let mut args = vec!["run", "--rm"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["busybox", "sh", "-c", script]);
    b.run(&args)
        .ok()
        .stdout
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn limits_land_in_the_cgroup_and_inspect_reports_them() {
    let b = Berth::new();
    b.busybox("busybox");
    let dev = block_device();
    let read_bps = format!("{dev}:1mb");
    let write_iops = format!("{dev}:100");
    let flags = [
        "-m",
        "64m",
        "--memory-reservation",
        "32m",
        "--memory-swappiness",
        "10",
        "--oom-kill-disable",
        "--oom-score-adj",
        "10",
        "--cpus",
        "0.5",
        "-c",
        "512",
        "--cpuset-cpus",
        "0",
        "--cpuset-mems",
        "0",
        "--pids-limit",
        "50",
        "--ulimit",
        "nofile=100:200",
        "--device-read-bps",
        &read_bps,
        "--device-write-iops",
        &write_iops,
    ];
    let got = run_lines(
        &b,
        &flags,
        "cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes \
         memory/memory.soft_limit_in_bytes memory/memory.swappiness; \
         grep oom_kill_disable memory/memory.oom_control; \
         cat cpu/cpu.shares cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us cpuset/cpuset.cpus \
         pids/pids.max blkio/blkio.throttle.read_bps_device blkio/blkio.throttle.write_iops_device \
         /proc/self/oom_score_adj; ulimit -n; ulimit -Hn",
    );
    let meta = std::fs::metadata(&dev).unwrap();
    let rdev = std::os::unix::fs::MetadataExt::rdev(&meta);
    let numbers = format!("{}:{}", libc::major(rdev), libc::minor(rdev));
    assert_eq!(
        got,
        [
            "67108864".to_string(),
            "134217728".into(),
            "33554432".into(),
            "10".into(),
            "oom_kill_disable 1".into(),
            "512".into(),
            "50000".into(),
            "100000".into(),
            "0".into(),
            "50".into(),
            format!("{numbers} 1048576"),
            format!("{numbers} 100"),
            "10".into(),
            "100".into(),
            "200".into(),
        ]
    );

    // A parent of this test's own, removed again at the end (also when the test fails).
    let parent = CgroupParent::new();
    let mut create = vec!["create", "--name", "limits", "--cgroup-parent", &parent.0];
    create.extend_from_slice(&flags);
    create.extend_from_slice(&["busybox", "grep", "pids", "/proc/self/cgroup"]);
    b.run(&create).ok();
    let hc = &b.inspect("limits")["HostConfig"];
    let pick = |keys: &[&str]| -> serde_json::Value {
        keys.iter()
            .map(|k| (k.to_string(), hc[*k].clone()))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    assert_eq!(
        pick(&[
            "CpuShares",
            "Memory",
            "NanoCpus",
            "CgroupParent",
            "BlkioWeight",
            "BlkioWeightDevice",
            "BlkioDeviceWriteBps",
            "CpuPeriod",
            "CpusetCpus",
            "CpusetMems",
            "Devices",
            "DeviceCgroupRules",
            "KernelMemory",
            "MemoryReservation",
            "MemorySwap",
            "MemorySwappiness",
            "OomKillDisable",
            "PidsLimit",
            "Ulimits",
            "OomScoreAdj",
        ]),
        serde_json::json!({
            "CpuShares": 512, "Memory": 67108864, "NanoCpus": 500000000,
            "CgroupParent": parent.0, "BlkioWeight": 0, "BlkioWeightDevice": [],
            "BlkioDeviceWriteBps": null, "CpuPeriod": 0, "CpusetCpus": "0", "CpusetMems": "0",
            "Devices": [], "DeviceCgroupRules": null, "KernelMemory": 0,
            "MemoryReservation": 33554432, "MemorySwap": 134217728, "MemorySwappiness": 10,
            "OomKillDisable": true, "PidsLimit": 50,
            "Ulimits": [{"Name": "nofile", "Hard": 200, "Soft": 100}], "OomScoreAdj": 10
        })
    );
    assert_eq!(
        hc["BlkioDeviceReadBps"],
        serde_json::json!([{"Path": dev, "Rate": 1048576}])
    );
    // Its cgroup is under the parent it named.
    let out = b.run(&["start", "-a", "limits"]).ok();
    let id = b.id_of("limits");
    assert!(
        out.stdout
            .trim_end()
            .ends_with(&format!(":pids:{}/{id}", parent.0)),
        "{out:?}"
    );
    b.run(&["rm", "limits"]).ok();
    let defaults = &inspect_created(&b, &["busybox", "true"])["HostConfig"];
    assert_eq!(
        (
            defaults["PidsLimit"].clone(),
            defaults["MemorySwappiness"].clone(),
            defaults["OomKillDisable"].clone(),
            defaults["Ulimits"].clone(),
            defaults["MemorySwap"].clone()
        ),
        (
            serde_json::Value::Null,
            serde_json::Value::Null,
            serde_json::json!(false),
            serde_json::Value::Null,
            serde_json::json!(0)
        )
    );
    let unlimited = &inspect_created(&b, &["--pids-limit", "-1", "busybox", "true"])["HostConfig"];
    assert_eq!(unlimited["PidsLimit"], serde_json::Value::Null);
}

/// A `--cgroup-parent` unique to one test, whose directories in every hierarchy are removed
/// when it is dropped.
struct CgroupParent(String);

impl CgroupParent {
    fn new() -> CgroupParent {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        CgroupParent(format!("/berth-e2e-{}-{n}", std::process::id()))
    }
}

impl Drop for CgroupParent {
    fn drop(&mut self) {
        for dir in std::fs::read_dir("/sys/fs/cgroup")
            .into_iter()
            .flatten()
            .flatten()
        {
            let _ = std::fs::remove_dir(dir.path().join(self.0.trim_start_matches('/')));
        }
    }
}

/// `inspect` of a container created with `args` (removed again).
fn inspect_created(b: &Berth, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["create"];
    all.extend_from_slice(args);
    let id = b.run(&all).ok().stdout.trim().to_string();
    let c = b.inspect(&id);
    b.run(&["rm", &id]).ok();
    c
}

#[test]
fn limits_are_enforced() {
    let b = Berth::new();
    b.busybox("busybox");
    // Memory: the OOM killer ends what outgrows the limit.
    let out = b
        .run(&[
            "run",
            "--name",
            "hog",
            "-m",
            "8m",
            "--memory-swap",
            "8m",
            "busybox",
            "sh",
            "-c",
            "head -c 64m /dev/zero | tail > /dev/null",
        ])
        .fails(137);
    assert_eq!(out.stdout, "");
    assert_eq!(b.inspect("hog")["State"]["OOMKilled"], true);
    // Pids: forks beyond the limit fail.
    let out = b.run(&[
        "run",
        "--rm",
        "--pids-limit",
        "5",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3 4 5 6 7 8; do sleep 2 & done; wait",
    ]);
    assert!(
        out.stderr
            .contains("can't fork: Resource temporarily unavailable"),
        "{out:?}"
    );
    // Ulimits.
    assert_eq!(
        run_lines(&b, &["--ulimit", "nproc=30:40"], "ulimit -u; ulimit -Hu"),
        ["30", "40"]
    );
    // The OOM score.
    assert_eq!(
        run_lines(
            &b,
            &["--oom-score-adj", "500"],
            "cat /proc/self/oom_score_adj"
        ),
        ["500"]
    );
}

#[test]
fn bad_values_get_dockers_words() {
    let b = Berth::new();
    b.busybox("busybox");
    let ncpu = std::thread::available_parallelism().unwrap().get();
    let too_many = format!("{}", ncpu + 1);
    let cpus_text =
        format!("Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--memory", "1k"], "Error response from daemon: Minimum memory limit allowed is 6MB"),
        (
            vec!["--memory-swap", "100m"],
            "You should always set the Memory limit when using Memoryswap limit, see usage",
        ),
        (
            vec!["-m", "100m", "--memory-swap", "50m"],
            "Minimum memoryswap limit should be larger than memory limit, see usage",
        ),
        (
            vec!["--memory-swappiness", "101"],
            "berth: invalid value: 101. Valid memory swappiness range is 0-100",
        ),
        (vec!["--memory-reservation", "1m"], "Minimum memory reservation allowed is 6MB"),
        (
            vec!["-m", "10m", "--memory-reservation", "20m"],
            "Minimum memory limit can not be less than memory reservation limit, see usage",
        ),
        (vec!["--kernel-memory", "1m"], "Minimum kernel memory limit allowed is 6MB"),
        (vec!["--kernel-memory", "64m"], "berth refuses --kernel-memory rather than ignore it"),
        (
            vec!["--cpus", "0.5", "--cpu-period", "1000"],
            "Conflicting options: Nano CPUs and CPU Period cannot both be set",
        ),
        (
            vec!["--cpus", "0.5", "--cpu-quota", "1000"],
            "Conflicting options: Nano CPUs and CPU Quota cannot both be set",
        ),
        (vec!["--cpus", &too_many], &cpus_text),
        (
            vec!["--cpus", "abc"],
            "invalid argument \"abc\" for \"--cpus\" flag: failed to parse abc as a rational number",
        ),
        (
            vec!["--cpu-period", "100"],
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
        ),
        (vec!["--cpu-quota", "100"], "CPU cfs quota can not be less than 1ms (i.e. 1000)"),
        (
            vec!["--cpuset-cpus", "x"],
            "Invalid value x for cpuset cpus: invalid format: x",
        ),
        (
            vec!["--cpuset-cpus", "999"],
            "Requested CPUs are not available - requested 999, available: ",
        ),
        (
            vec!["--cpu-rt-period", "1000", "--cpu-rt-runtime", "10000"],
            "cpu real-time runtime cannot be higher than cpu real-time period",
        ),
        (
            vec!["--oom-score-adj", "1001"],
            "Invalid value 1001, range for oom score adj is [-1000, 1000]",
        ),
        (
            vec!["-m", "abc"],
            "invalid argument \"abc\" for \"-m, --memory\" flag: invalid size: 'abc'",
        ),
        (
            vec!["--ulimit", "foo=1"],
            "invalid argument \"foo=1\" for \"--ulimit\" flag: invalid ulimit type: foo",
        ),
        (
            vec!["--ulimit", "nofile=200:100"],
            "ulimit soft limit must be less than or equal to hard limit: 200 > 100",
        ),
        (
            vec!["--device-read-bps", "/dev/null"],
            "invalid argument \"/dev/null\" for \"--device-read-bps\" flag: bad format: /dev/null",
        ),
        (
            vec!["--device-read-bps", "/dev/nonexistent-berth:1mb"],
            "stat /dev/nonexistent-berth: no such file or directory",
        ),
        (
            vec!["--blkio-weight-device", "/dev/null:5"],
            "invalid weight for device: /dev/null:5",
        ),
    ];
    for (flags, text) in cases {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(&flags);
        args.extend_from_slice(&["busybox", "true"]);
        let out = b.run(&args).fails(125);
        assert!(out.stderr.contains(text), "{flags:?}: {out:?}");
    }
    assert_eq!(
        b.run(&["ps", "-aq"]).ok().stdout,
        "",
        "no container is left"
    );

    // What this host's cgroups cannot enforce is refused, where dockerd warns and drops it.
    let weight = Path::new("/sys/fs/cgroup/blkio/blkio.weight").exists()
        || Path::new("/sys/fs/cgroup/io.bfq.weight").exists();
    let out = b.run(&["run", "--rm", "--blkio-weight", "500", "busybox", "true"]);
    if weight {
        out.ok();
    } else {
        assert!(out.fails(125).stderr.contains(
            "Your kernel does not support Block I/O weight or the cgroup is not mounted"
        ));
    }
    // Real-time budgets: berth gives its parent cgroup one, so the container gets its own.
    let rt = Path::new("/sys/fs/cgroup/cpu/cpu.rt_runtime_us").exists();
    let out = b.run(&[
        "run",
        "--rm",
        "--cpu-rt-runtime",
        "10000",
        "busybox",
        "cat",
        "/sys/fs/cgroup/cpu/cpu.rt_runtime_us",
    ]);
    if rt {
        assert_eq!(out.ok().stdout, "10000\n");
    } else {
        assert!(out
            .fails(125)
            .stderr
            .contains("Your kernel does not support CPU real-time scheduler"));
    }
}

#[test]
fn update_changes_a_running_container() {
    let b = Berth::new();
    b.busybox("busybox");
    b.run_d(&["--name", "up", "busybox", "sleep", "1000"]);
    let read = || {
        b.run(&[
            "exec",
            "up",
            "cat",
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
            "/sys/fs/cgroup/pids/pids.max",
            "/sys/fs/cgroup/cpu/cpu.shares",
        ])
        .ok()
        .stdout
    };
    // Docker's rule: a new memory limit above the recorded swap limit needs --memory-swap too.
    let out = b.run(&["update", "-m", "64m", "up"]).fails(1);
    assert!(out.stderr.contains(
        "Cannot update container ", 
    ) && out.stderr.contains(
        "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time"
    ), "{out:?}");
    let out = b
        .run(&[
            "update",
            "-m",
            "64m",
            "--memory-swap",
            "128m",
            "--cpus",
            "0.5",
            "--pids-limit",
            "10",
            "-c",
            "256",
            "--restart",
            "on-failure:3",
            "up",
        ])
        .ok();
    assert_eq!(out.stdout, "up\n");
    assert_eq!(read(), "67108864\n50000\n10\n256\n");
    let hc = &b.inspect("up")["HostConfig"];
    assert_eq!(
        (
            hc["Memory"].clone(),
            hc["MemorySwap"].clone(),
            hc["NanoCpus"].clone(),
            hc["PidsLimit"].clone(),
            hc["RestartPolicy"].clone()
        ),
        (
            serde_json::json!(67108864),
            serde_json::json!(134217728),
            serde_json::json!(500000000),
            serde_json::json!(10),
            serde_json::json!({"Name": "on-failure", "MaximumRetryCount": 3})
        )
    );
    b.run(&["update", "--pids-limit", "-1", "up"]).ok();
    assert!(read().contains("\nmax\n"));
    let out = b.run(&["update", "--cpu-period", "1000", "up"]).fails(1);
    assert!(
        out.stderr.contains(
            "Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set"
        ),
        "{out:?}"
    );
    let out = b.run(&["update", "-m", "1k", "up"]).fails(1);
    assert!(
        out.stderr.contains("Minimum memory limit allowed is 6MB"),
        "{out:?}"
    );
    let out = b.run(&["update", "up"]).fails(1);
    assert!(out
        .stderr
        .contains("you must provide one or more flags when using this command"));
    let out = b
        .run(&["update", "--pids-limit", "20", "up", "nonexistent"])
        .fails(1);
    assert_eq!(out.stdout, "up\n");
    assert!(
        out.stderr.contains("No such container: nonexistent"),
        "{out:?}"
    );
    // A refused update leaves the container as it was.
    assert!(read().starts_with("67108864\n50000\n20\n"));

    // A stopped container's new limits apply at its next start.
    b.run(&["stop", "-t", "0", "up"]).ok();
    b.run(&["update", "-m", "32m", "--memory-swap", "64m", "up"])
        .ok();
    b.run(&["start", "up"]).ok();
    assert!(read().starts_with("33554432\n"));
    b.run(&["rm", "-f", "up"]).ok();

    b.run_d(&["--name", "gone", "--rm", "busybox", "sleep", "100"]);
    let out = b.run(&["update", "--restart", "always", "gone"]).fails(1);
    assert!(
        out.stderr.contains(
            "Restart policy cannot be updated because AutoRemove is enabled for the container"
        ),
        "{out:?}"
    );
    // (Not checked: `rm -f` races the shim's own removal of an --rm container.)
    b.run(&["rm", "-f", "gone"]);
}

#[test]
fn the_docker_cli_sets_and_updates_limits() {
    let d = DockerCli::start();
    let docker = |args: &[&str]| d.run(args);
    let (code, out, err) = docker(&[
        "run",
        "--rm",
        "-m",
        "64m",
        "--cpus",
        "0.5",
        "--pids-limit",
        "20",
        "--ulimit",
        "nofile=50:60",
        "busybox",
        "sh",
        "-c",
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us \
         /sys/fs/cgroup/pids/pids.max; ulimit -n",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "67108864\n50000\n20\n50\n");
    let (code, _, err) = docker(&["run", "--rm", "--memory", "1k", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(err.contains("Minimum memory limit allowed is 6MB"), "{err}");
    let (code, _, err) = docker(&[
        "run", "-d", "--name", "web", "-m", "64m", "busybox", "sleep", "100",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = docker(&[
        "update",
        "-m",
        "128m",
        "--memory-swap",
        "256m",
        "--cpu-shares",
        "300",
        "web",
    ]);
    assert_eq!((code, out.as_str()), (0, "web\n"), "{err}");
    let (_, out, _) = docker(&[
        "exec",
        "web",
        "cat",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
        "/sys/fs/cgroup/cpu/cpu.shares",
    ]);
    assert_eq!(out, "134217728\n300\n");
    let (_, out, _) = docker(&[
        "inspect",
        "-f",
        "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.CpuShares}}",
        "web",
    ]);
    assert_eq!(out, "134217728 268435456 300\n");
    let (code, _, err) = docker(&["update", "--cpus", "0.5", "--cpu-quota", "2000", "web"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Conflicting options: Nano CPUs and CPU Quota cannot both be set"),
        "{err}"
    );
    docker(&["rm", "-f", "web"]);
}

#[test]
fn the_api_applies_or_refuses_every_resource_field() {
    let b = Berth::new();
    b.busybox("busybox");
    let api = crate::api::Server::start(&b);
    let create = |host_config: &str| {
        api.call(
            "POST",
            "/v1.41/containers/create",
            Some(&format!(
                r#"{{"Image":"busybox","Cmd":["true"],"HostConfig":{host_config}}}"#
            )),
        )
    };
    for (hc, message) in [
        (r#"{"Memory":1024}"#, "Minimum memory limit allowed is 6MB"),
        (r#"{"CpuPercent":20}"#, "linux does not support CPU percent"),
        (r#"{"CpuCount":2}"#, "linux does not support CPU count"),
        (
            r#"{"IOMaximumIOps":20}"#,
            "Invalid QoS settings: linux does not support configuration of maximum IOPs",
        ),
        (
            r#"{"Isolation":"hyperv"}"#,
            "Invalid isolation: \"hyperv\" - linux only supports 'default'",
        ),
        (
            r#"{"MemorySwappiness":101}"#,
            "Invalid value: 101, valid memory swappiness range is 0-100",
        ),
        (
            r#"{"Ulimits":[{"Name":"nofile","Soft":10,"Hard":5}]}"#,
            "ulimit soft limit must be less than or equal to hard limit: 10 > 5",
        ),
        (
            r#"{"DeviceRequests":[{"Driver":"","Count":-1,"Capabilities":[["gpu"]]}]}"#,
            "could not select device driver \"\" with capabilities: [[gpu]]",
        ),
    ] {
        let (code, body) = create(hc);
        assert_eq!(code, 400, "{hc}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["message"], message, "{hc}");
    }
    assert_eq!(b.run(&["ps", "-aq"]).ok().stdout, "");

    let (code, body) = create(r#"{"Memory":67108864,"PidsLimit":0,"ShmSize":0}"#);
    assert_eq!(code, 201, "{body}");
    let id = serde_json::from_str::<serde_json::Value>(&body).unwrap()["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let hc = &b.inspect(&id)["HostConfig"];
    assert_eq!(
        (
            hc["MemorySwap"].clone(),
            hc["PidsLimit"].clone(),
            hc["ShmSize"].clone(),
            hc["OomKillDisable"].clone(),
            hc["LogConfig"].clone(),
            hc["Devices"].clone(),
        ),
        (
            serde_json::json!(134217728),
            serde_json::Value::Null,
            serde_json::json!(67108864),
            serde_json::json!(false),
            serde_json::json!({"Type": "json-file", "Config": {}}),
            serde_json::Value::Null,
        )
    );
    let (code, body) = api.call(
        "POST",
        &format!("/v1.41/containers/{id}/update"),
        Some(r#"{"Memory":134217728,"MemorySwap":268435456,"RestartPolicy":{"Name":"always"}}"#),
    );
    assert_eq!((code, body.as_str()), (200, r#"{"Warnings":[]}"#));
    let hc = &b.inspect(&id)["HostConfig"];
    assert_eq!(
        (hc["Memory"].clone(), hc["RestartPolicy"]["Name"].clone()),
        (serde_json::json!(134217728), serde_json::json!("always"))
    );
    let (code, body) = api.call(
        "POST",
        &format!("/v1.41/containers/{id}/update"),
        Some(r#"{"Devices":[{"PathOnHost":"/dev/null","PathInContainer":"/dev/x","CgroupPermissions":"r"}]}"#),
    );
    assert_eq!(code, 400, "{body}");
    assert!(
        body.contains("Devices cannot be changed by an update"),
        "{body}"
    );
    let (code, _) = api.call("POST", "/v1.41/containers/nonexistent/update", Some("{}"));
    assert_eq!(code, 404);
}

/// daemon.json's `exec-opts` `native.cgroupdriver=`: `info` reports the driver; under `systemd`
/// a `--cgroup-parent` must be a slice (dockerd's words), and where systemd does not run this
/// host containers are refused before anything is made, in runc's words (as dockerd's runc
/// refuses them at start); a container made under cgroupfs is refused at start once the driver
/// changed. (Where systemd runs, containers run: see
/// `the_systemd_driver_gives_each_container_a_scope_with_its_limits`.) Unknown drivers stop every
/// command with dockerd's words.
#[test]
fn the_cgroup_driver_setting_is_reported_and_systemd_is_refused_clearly() {
    let b = Berth::new();
    b.busybox("busybox");
    let driver = |b: &Berth| {
        b.run(&["info", "--format", "{{.CgroupDriver}}"])
            .ok()
            .stdout
            .trim()
            .to_string()
    };
    assert_eq!(driver(&b), "cgroupfs");
    b.run(&["create", "--name", "before", "busybox", "true"])
        .ok();

    b.set_setting(
        "exec-opts",
        serde_json::json!(["native.cgroupdriver=systemd"]),
    );
    assert_eq!(driver(&b), "systemd");
    {
        let api = crate::api::Server::start(&b);
        let (code, body) = api.call("GET", "/info", None);
        assert_eq!(code, 200, "{body}");
        let info: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(info["CgroupDriver"], "systemd");
    }
    let systemd = Path::new("/run/systemd/system").is_dir();
    let words = "systemd not running on this host, cannot use systemd cgroups manager";
    if !systemd {
        let r = b.run(&["run", "--rm", "busybox", "true"]).fails(125);
        assert!(r.stderr.contains(words), "{}", r.stderr);
    }
    let r = b
        .run(&["run", "--rm", "--cgroup-parent", "foo", "busybox", "true"])
        .fails(125);
    assert!(
        r.stderr.contains(
            r#"cgroup-parent for systemd cgroup should be a valid slice named as "xxx.slice""#
        ),
        "{}",
        r.stderr
    );
    if !systemd {
        let r = b.run(&["start", "before"]).fails(1);
        assert!(r.stderr.contains(words), "{}", r.stderr);
        assert_eq!(b.status_of("before"), "created");
        assert_eq!(b.run(&["ps", "-aq"]).ok().lines().len(), 1);
    }

    b.set_setting(
        "exec-opts",
        serde_json::json!(["native.cgroupdriver=cgroupfs"]),
    );
    assert_eq!(driver(&b), "cgroupfs");
    b.run(&["start", "before"]).ok();
    b.set_setting("exec-opts", serde_json::json!(["native.cgroupdriver=foo"]));
    let r = b.run(&["ps"]).fails(125);
    assert!(
        r.stderr
            .contains("native.cgroupdriver option foo not supported"),
        "{}",
        r.stderr
    );
}

/// The host's systemd booted in its own namespaces by `scripts/systemd-sandbox.sh` (PID 1 here
/// and on CI is not systemd, and systemd over the host's own root is not safe); stopped, with
/// everything in it, when dropped.
struct SystemdSandbox {
    name: String,
}

impl SystemdSandbox {
    fn script() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/systemd-sandbox.sh")
    }

    /// Boots it with `dir` bound in read-write.
    fn start(dir: &Path) -> SystemdSandbox {
        let sandbox = SystemdSandbox {
            name: format!("e2e-{}", std::process::id()),
        };
        let mut cmd = std::process::Command::new(Self::script());
        cmd.args(["start", &sandbox.name]).arg(dir);
        output_timeout(cmd, None, std::time::Duration::from_secs(120)).ok();
        sandbox
    }

    /// `CMD ARGS` run inside it.
    fn exec(&self, args: &[&str]) -> Run {
        let mut cmd = std::process::Command::new(Self::script());
        cmd.args(["exec", &self.name]).args(args);
        output_timeout(cmd, None, CMD_TIMEOUT)
    }

    /// `berth ARGS` with `b`'s root and settings, run inside it.
    fn berth(&self, b: &Berth, args: &[&str]) -> Run {
        let root = format!("BERTH_ROOT={}", b.root().display());
        let config = format!("BERTH_CONFIG_FILE={}", b.config_file().display());
        let mut all = vec!["env", &root, &config, berth_bin()];
        all.extend_from_slice(args);
        self.exec(&all)
    }

    /// `systemctl show UNIT -p PROPERTY --value`.
    fn property(&self, unit: &str, property: &str) -> String {
        self.exec(&["systemctl", "show", unit, "-p", property, "--value"])
            .ok()
            .stdout
            .trim()
            .to_string()
    }
}

impl Drop for SystemdSandbox {
    fn drop(&mut self) {
        let _ = std::process::Command::new(Self::script())
            .args(["stop", &self.name])
            .status();
    }
}

/// Under `native.cgroupdriver=systemd` where systemd runs (its sandbox here): each container is
/// a transient `berth-<id>.scope` in `system.slice` (or its `--cgroup-parent` slice) holding the
/// spec's limits, as systemd reports them and as the container reads them from its cgroup files;
/// `update` changes the unit, `stats`, `top`, `pause` work, `info` says `systemd`, and the scope
/// goes away with the container (`kill`, `rm`, `run --rm`). The in-process runtime cannot make
/// scopes: a container that names it is refused, the others get runc.
#[test]
#[ignore = "needs root"]
fn the_systemd_driver_gives_each_container_a_scope_with_its_limits() {
    let b = Berth::new();
    b.busybox("busybox");
    b.set_setting(
        "exec-opts",
        serde_json::json!(["native.cgroupdriver=systemd"]),
    );
    let sd = SystemdSandbox::start(b.root().parent().unwrap());
    let berth = |args: &[&str]| sd.berth(&b, args);
    assert_eq!(
        berth(&["info", "--format", "{{.CgroupDriver}}"])
            .ok()
            .stdout
            .trim(),
        "systemd"
    );

    let id = berth(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "none",
        "-m",
        "64m",
        "--cpus",
        "0.5",
        "--pids-limit",
        "20",
        "busybox",
        "sleep",
        "1000",
    ])
    .ok()
    .stdout
    .trim()
    .to_string();
    let scope = format!("berth-{id}.scope");
    assert_eq!(sd.property(&scope, "ActiveState"), "active");
    assert_eq!(sd.property(&scope, "Slice"), "system.slice");
    assert_eq!(sd.property(&scope, "MemoryLimit"), "67108864");
    assert_eq!(sd.property(&scope, "CPUQuotaPerSecUSec"), "500ms");
    assert_eq!(sd.property(&scope, "TasksMax"), "20");
    let cgroups = berth(&["exec", "web", "cat", "/proc/self/cgroup"])
        .ok()
        .stdout;
    assert!(
        cgroups
            .lines()
            .any(|l| l.starts_with("0::") || l.contains(":memory:"))
            && cgroups
                .lines()
                .filter(|l| l.contains(":memory:") || l.starts_with("0::"))
                .all(|l| l.ends_with(&format!("/system.slice/{scope}"))),
        "{cgroups}"
    );
    let limits = |via: &[&str]| -> Vec<String> {
        let script = if Path::new("/sys/fs/cgroup/memory").is_dir() {
            "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us"
        } else {
            "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; cut -d' ' -f1 /sys/fs/cgroup/cpu.max"
        };
        let mut args = via.to_vec();
        args.extend_from_slice(&["sh", "-c", script]);
        berth(&args)
            .ok()
            .stdout
            .lines()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(limits(&["exec", "web"]), ["67108864", "20", "50000"]);

    berth(&["update", "-m", "128m", "--pids-limit", "30", "web"]).ok();
    assert_eq!(sd.property(&scope, "MemoryLimit"), "134217728");
    assert_eq!(sd.property(&scope, "TasksMax"), "30");
    assert_eq!(limits(&["exec", "web"]), ["134217728", "30", "50000"]);
    let stats = berth(&[
        "stats",
        "--no-stream",
        "--format",
        "{{.MemUsage}} {{.PIDs}}",
        "web",
    ])
    .ok()
    .stdout;
    assert!(stats.contains("/ 128MiB 1"), "{stats}");
    let top = berth(&["top", "web"]).ok().stdout;
    assert!(top.contains("sleep 1000"), "{top}");
    berth(&["pause", "web"]).ok();
    assert_eq!(
        berth(&["inspect", "-f", "{{.State.Status}}", "web"])
            .ok()
            .stdout
            .trim(),
        "paused"
    );
    berth(&["unpause", "web"]).ok();
    assert_eq!(
        berth(&["inspect", "-f", "{{.HostConfig.Runtime}}", "web"])
            .ok()
            .stdout
            .trim(),
        "runc",
        "the in-process default hands systemd-driver containers to runc"
    );
    berth(&["kill", "web"]).ok();
    wait_for("the scope to go with its container", SOON, || {
        sd.property(&scope, "ActiveState") == "inactive"
    });
    berth(&["rm", "web"]).ok();
    assert_eq!(sd.property(&scope, "LoadState"), "not-found");

    // A parent slice: systemd nests `app-web.slice` in `app.slice`; inspect shows the parent.
    let out = berth(&[
        "run",
        "--name",
        "sliced",
        "--network",
        "none",
        "--cgroup-parent",
        "app-web.slice",
        "-m",
        "32m",
        "busybox",
        "cat",
        "/proc/self/cgroup",
    ])
    .ok()
    .stdout;
    assert!(
        out.lines()
            .filter(|l| l.contains(":memory:") || l.starts_with("0::"))
            .all(|l| l.contains("/app.slice/app-web.slice/berth-")),
        "{out}"
    );
    assert_eq!(
        berth(&["inspect", "-f", "{{.HostConfig.CgroupParent}}", "sliced"])
            .ok()
            .stdout
            .trim(),
        "app-web.slice"
    );
    let sliced = berth(&["inspect", "-f", "{{.Id}}", "sliced"])
        .ok()
        .stdout
        .trim()
        .to_string();
    berth(&["rm", "sliced"]).ok();
    assert_eq!(
        sd.property(&format!("berth-{sliced}.scope"), "LoadState"),
        "not-found"
    );

    // `run --rm` leaves no unit behind.
    berth(&[
        "run",
        "--rm",
        "--network",
        "none",
        "-m",
        "32m",
        "busybox",
        "true",
    ])
    .ok();
    let units = sd
        .exec(&[
            "systemctl",
            "list-units",
            "--all",
            "--no-legend",
            "berth-*.scope",
        ])
        .ok()
        .stdout;
    assert!(units.trim().is_empty(), "{units}");

    let r = berth(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--runtime",
        "berth",
        "busybox",
        "true",
    ])
    .fails(125);
    assert!(
        r.stderr
            .contains("the in-process runtime (berth) cannot use the systemd cgroup driver"),
        "{}",
        r.stderr
    );
}

//! Containers are confined like Docker's: the same capability sets, masked and read-only paths,
//! and seccomp verdicts, checked from inside the container (`/proc/self/status`, `/proc/mounts`,
//! a probe that calls syscalls); `--cap-add/--cap-drop`, `--privileged`, `--security-opt`,
//! `--device`, `--device-cgroup-rule` and `--gpus` through berth's CLI and the docker CLI.
//!
//! The expected values were recorded by hand from a private dockerd 20.10.24 (runc 1.1.5) on the
//! development VM (Debian 12, kernel 6.18, cgroup v1+v2 hybrid) running the same probe.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::api::DockerCli;
use crate::harness::*;

/// Docker's default capability set as `/proc/self/status` prints it (CapPrm, CapEff, CapBnd).
const DOCKER_CAPS: &str = "00000000a80425fb";

/// For each probe: what a container of Docker 20.10.24 saw (its built-in profile), which is what a
/// berth container sees under its default profile (Docker's own `default.json`), and what a berth
/// container sees under Debian's containers-common 0.50.1 profile
/// (`/usr/share/containers/seccomp.json`, the profile Podman applies), which an engine setting can
/// choose. Where the two differ, containers-common's profile is the more permissive one (user
/// namespaces, keyctl, open_tree, process_vm_readv) or answers ENOSYS where Docker answers EPERM;
/// docs/run-flags.md lists them. Only probes whose verdict the profile and the capability set
/// decide (not the kernel's configuration or the CPU) are listed.
const VERDICTS: &[(&str, &str, &str)] = &[
    ("unshare_user", "EPERM", "ok"),
    ("unshare_mnt", "EPERM", "EPERM"),
    ("clone_user", "EPERM", "ok"),
    ("clone3", "ENOSYS", "EINVAL"),
    ("mount", "EPERM", "ENOENT"),
    ("umount2", "EPERM", "ENOENT"),
    ("pivot_root", "EPERM", "EPERM"),
    ("setns", "EPERM", "EBADF"),
    ("open_tree", "EPERM", "ok"),
    ("fsopen", "EPERM", "EPERM"),
    ("reboot", "EPERM", "EPERM"),
    ("keyctl", "EPERM", "ok"),
    ("add_key", "EPERM", "ENOSYS"),
    ("request_key", "EPERM", "ENOSYS"),
    ("ptrace", "ESRCH", "ESRCH"),
    ("personality_query", "ok", "ok"),
    ("personality_norandom", "EPERM", "ENOSYS"),
    ("io_uring_setup", "EFAULT", "ENOSYS"),
    ("vmsplice", "EBADF", "EPERM"),
    ("swapon", "EPERM", "EPERM"),
    ("kexec_load", "EPERM", "EPERM"),
    ("init_module", "EPERM", "EPERM"),
    ("delete_module", "EPERM", "EPERM"),
    ("bpf", "EPERM", "EPERM"),
    ("perf_event_open", "EPERM", "EPERM"),
    ("userfaultfd", "EPERM", "EPERM"),
    ("open_by_handle_at", "EPERM", "EPERM"),
    ("acct", "EPERM", "EPERM"),
    ("settimeofday", "EPERM", "EPERM"),
    ("clock_settime", "EPERM", "EPERM"),
    ("sethostname", "EPERM", "EPERM"),
    ("setdomainname", "EPERM", "EPERM"),
    ("move_pages", "EPERM", "EPERM"),
    ("process_vm_readv", "EPERM", "ok"),
    ("kcmp", "EPERM", "EPERM"),
    ("chroot", "ok", "ok"),
    ("quotactl", "EPERM", "EPERM"),
    ("ioperm", "EPERM", "EPERM"),
    ("iopl", "EPERM", "EPERM"),
    ("fanotify_init", "EPERM", "EPERM"),
    ("futex_waitv", "EINVAL", "ENOSYS"),
    ("socket_audit", "ok", "ok"),
    ("unknown_1000", "ENOSYS", "ENOSYS"),
];

/// The syscall probe (`fixtures/syscalls.c`), built static once per test run.
fn probe() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let src =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e/fixtures/syscalls.c");
            let out = scratch_dir().join(format!("syscalls-probe-{}", std::process::id()));
            let status = Command::new("gcc")
                .args(["-static", "-O1", "-o"])
                .arg(&out)
                .arg(&src)
                .status()
                .expect("gcc (Debian packages gcc, libc6-dev) is installed");
            assert!(status.success(), "the probe compiles");
            out
        })
        .clone()
}

/// The probe's verdicts in a container run with `flags`: syscall → verdict.
fn verdicts(b: &Berth, flags: &[&str]) -> Vec<(String, String)> {
    let bind = format!("{}:/probe:ro", probe().display());
    let mut args = vec!["run", "--rm", "-v", &bind];
    args.extend_from_slice(flags);
    args.push("busybox");
    args.push("/probe");
    let names: Vec<&str> = VERDICTS.iter().map(|v| v.0).collect();
    args.extend_from_slice(&names);
    b.run(&args)
        .ok()
        .stdout
        .lines()
        .map(|l| {
            let (n, v) = l.split_once(' ').unwrap();
            (n.to_string(), v.to_string())
        })
        .collect()
}

/// `/proc/self/status` lines `Field:\tvalue` of a container run with `flags`, as a map.
fn status(b: &Berth, flags: &[&str]) -> std::collections::BTreeMap<String, String> {
    let mut args = vec!["run", "--rm"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["busybox", "cat", "/proc/self/status"]);
    parse_status(&b.run(&args).ok().stdout)
}

fn parse_status(text: &str) -> std::collections::BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

/// This test process's bounding set: what berth itself holds.
fn own_bounding_set() -> String {
    parse_status(&std::fs::read_to_string("/proc/self/status").unwrap())["CapBnd"].clone()
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

fn hex_caps(bits: &[u32]) -> String {
    let mask = bits.iter().fold(0u64, |m, b| m | (1 << b));
    format!("{mask:016x}")
}

#[test]
fn default_confinement_is_dockers() {
    let b = Berth::new();
    b.busybox("busybox");
    assert_eq!(verdicts(&b, &[]), want(DOCKER));

    let s = status(&b, &[]);
    for field in ["CapPrm", "CapEff", "CapBnd"] {
        assert_eq!(s[field], DOCKER_CAPS, "{field}");
    }
    assert_eq!(s["CapInh"], "0000000000000000");
    assert_eq!(s["Seccomp"], "2");
    assert_eq!(s["NoNewPrivs"], "0");
    // Another user gets the bounding set only (Docker 20.10).
    let s = status(&b, &["-u", "1000"]);
    assert_eq!(
        (s["CapEff"].as_str(), s["CapBnd"].as_str()),
        ("0000000000000000", DOCKER_CAPS)
    );

    // Masked paths read as empty, read-only paths are mounted read-only.
    let out = b
        .run(&[
            "run",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "cat /proc/keys /proc/timer_list | wc -c; ls -A /sys/firmware | wc -l; \
             grep -E '^[^ ]+ /proc/(bus|fs|irq|sys) ' /proc/mounts | cut -d' ' -f2,4 | cut -d, -f1; \
             echo 1 > /proc/sys/kernel/domainname || echo denied",
        ])
        .ok();
    assert_eq!(
        out.lines(),
        [
            "0",
            "0",
            "/proc/bus ro",
            "/proc/fs ro",
            "/proc/irq ro",
            "/proc/sys ro",
            "denied"
        ]
    );
    let hc = &inspect_created(&b, &["busybox", "true"])["HostConfig"];
    assert_eq!(hc["MaskedPaths"].as_array().unwrap().len(), 10);
    assert_eq!(hc["ReadonlyPaths"][3], "/proc/sys");
    assert_eq!(hc["CapAdd"], serde_json::Value::Null);
    assert_eq!(hc["SecurityOpt"], serde_json::Value::Null);
    assert_eq!(hc["Privileged"], false);
}

/// Columns of [`VERDICTS`].
const DOCKER: usize = 1;
const CONTAINERS_COMMON: usize = 2;

/// The probes' expected verdicts, from one column of [`VERDICTS`].
fn want(column: usize) -> Vec<(String, String)> {
    VERDICTS
        .iter()
        .map(|v| {
            let verdict = if column == DOCKER { v.1 } else { v.2 };
            (v.0.to_string(), verdict.to_string())
        })
        .collect()
}

/// Docker's own profile, as Debian's `golang-github-docker-docker-dev` ships it (moby 20.10.24's
/// `profiles/seccomp/default.json`): berth's default.
const DOCKER_PROFILE: &str =
    "/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json";

/// The engine setting `seccomp-profile` (daemon.json's key) changes the default profile: Podman's,
/// from containers-common, gives its own verdicts; `--security-opt seccomp=` still overrides it; a
/// setting naming a missing file is refused before anything runs.
#[test]
fn the_engine_setting_chooses_the_default_profile() {
    let b = Berth::new();
    b.busybox("busybox");
    let set = |profile: &str| b.set_setting("seccomp-profile", profile.into());
    set("/usr/share/containers/seccomp.json");
    assert_eq!(verdicts(&b, &[]), want(CONTAINERS_COMMON));
    let opt = format!("seccomp={DOCKER_PROFILE}");
    assert_eq!(verdicts(&b, &["--security-opt", &opt]), want(DOCKER));

    let missing = b.scratch("no-such-profile.json");
    set(missing.to_str().unwrap());
    let e = b.run(&["run", "--rm", "busybox", "true"]).fails(125).stderr;
    assert!(
        e.contains("unable to configure the berth engine with file")
            && e.contains("opening seccomp profile"),
        "{e}"
    );
    set(DOCKER_PROFILE);
    assert!(b.ps_all().is_empty());
}

#[test]
fn capabilities_are_added_and_dropped_like_docker() {
    let b = Berth::new();
    b.busybox("busybox");
    let s = status(&b, &["--cap-drop", "ALL", "--cap-add", "chown"]);
    assert_eq!(
        (s["CapEff"].as_str(), s["CapBnd"].as_str()),
        ("0000000000000001", "0000000000000001")
    );
    // CAP_SYS_ADMIN is 21, CAP_NET_RAW 13.
    let s = status(&b, &["--cap-add", "cap_sys_Admin", "--cap-drop", "NET_RAW"]);
    let want = u64::from_str_radix(DOCKER_CAPS, 16).unwrap() | (1 << 21);
    assert_eq!(s["CapEff"], format!("{:016x}", want & !(1 << 13)));
    // ALL is whatever berth holds itself (this VM's bounding set lacks CAP_SYS_RESOURCE).
    let s = status(&b, &["--cap-add", "ALL", "--cap-drop", "chown"]);
    let own = u64::from_str_radix(&own_bounding_set(), 16).unwrap();
    assert_eq!(s["CapEff"], format!("{:016x}", own & !1));

    let out = b
        .run(&["run", "--rm", "--cap-add", "FOO", "busybox", "true"])
        .fails(125);
    assert!(
        out.stderr.contains(
            "Error response from daemon: invalid CapAdd: unknown capability: \"CAP_FOO\""
        ),
        "{out:?}"
    );
    let out = b
        .run(&["create", "--cap-drop", "bogus", "busybox", "true"])
        .fails(1);
    assert!(
        out.stderr
            .contains("invalid CapDrop: unknown capability: \"CAP_BOGUS\""),
        "{out:?}"
    );
    assert_eq!(
        b.run(&["ps", "-aq"]).ok().stdout,
        "",
        "nothing is left of a refused create"
    );

    // A capability berth does not hold cannot be given: refused at create, not a runc failure.
    let out = Command::new("setpriv")
        .args(["--bounding-set", "-sys_boot", "--"])
        .arg(berth_bin())
        .args(["run", "--rm", "--cap-add", "SYS_BOOT", "busybox", "true"])
        .env("BERTH_ROOT", b.root())
        .output()
        .expect("setpriv (util-linux) runs");
    assert_eq!(out.status.code(), Some(125));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "capability CAP_SYS_BOOT is not in berth's bounding set on this host, so no container can hold it"
        ),
        "{out:?}"
    );

    // An exec gets the container's capabilities.
    b.run_d(&[
        "--name",
        "few",
        "--cap-drop",
        "ALL",
        "--cap-add",
        "kill",
        "busybox",
        "sleep",
        "100",
    ]);
    let s = parse_status(
        &b.run(&["exec", "few", "cat", "/proc/self/status"])
            .ok()
            .stdout,
    );
    assert_eq!(s["CapEff"], hex_caps(&[5]));
    let hc = &b.inspect("few")["HostConfig"];
    assert_eq!(hc["CapAdd"], serde_json::json!(["kill"]));
    assert_eq!(hc["CapDrop"], serde_json::json!(["ALL"]));
    b.run(&["rm", "-f", "few"]).ok();
}

#[test]
fn privileged_gets_everything_the_engine_holds() {
    let b = Berth::new();
    b.busybox("busybox");
    let s = status(&b, &["--privileged"]);
    let own = own_bounding_set();
    assert_eq!(
        (s["CapEff"].as_str(), s["CapBnd"].as_str()),
        (own.as_str(), own.as_str())
    );
    assert_eq!(s["Seccomp"], "0");
    let mounts = b
        .run(&[
            "run",
            "--rm",
            "--privileged",
            "busybox",
            "cat",
            "/proc/mounts",
        ])
        .ok()
        .stdout;
    assert!(
        mounts
            .lines()
            .any(|l| l.starts_with("sysfs /sys sysfs rw,")),
        "{mounts}"
    );
    for path in [
        "/proc/keys",
        "/proc/timer_list",
        "/proc/sys",
        "/proc/bus",
        "/sys/firmware",
    ] {
        assert!(
            !mounts.lines().any(|l| l.split(' ').nth(1) == Some(path)),
            "{path} is neither masked nor read-only: {mounts}"
        );
    }
    // Every host device: one Docker's default /dev does not have.
    let host_only = [
        "/dev/kmsg",
        "/dev/mem",
        "/dev/loop-control",
        "/dev/tty0",
        "/dev/fuse",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists())
    .expect("the host has one of these devices");
    b.run(&[
        "run",
        "--rm",
        "--privileged",
        "busybox",
        "test",
        "-c",
        host_only,
    ])
    .ok();
    b.run(&["run", "--rm", "busybox", "test", "-e", host_only])
        .fails(1);
    let hc = &inspect_created(&b, &["--privileged", "busybox", "true"])["HostConfig"];
    assert_eq!(hc["Privileged"], true);
    assert_eq!(hc["MaskedPaths"], serde_json::Value::Null);
}

#[test]
fn security_opts_set_seccomp_no_new_privileges_and_system_paths() {
    let b = Berth::new();
    b.busybox("busybox");
    assert_eq!(
        status(&b, &["--security-opt", "no-new-privileges"])["NoNewPrivs"],
        "1"
    );
    assert_eq!(
        status(&b, &["--security-opt", "no-new-privileges=false"])["NoNewPrivs"],
        "0"
    );
    assert_eq!(
        status(&b, &["--security-opt", "seccomp=unconfined"])["Seccomp"],
        "0"
    );
    b.run_d(&[
        "--name",
        "nnp",
        "--security-opt",
        "no-new-privileges:true",
        "busybox",
        "sleep",
        "100",
    ]);
    let s = parse_status(
        &b.run(&["exec", "nnp", "cat", "/proc/self/status"])
            .ok()
            .stdout,
    );
    assert_eq!(
        (s["NoNewPrivs"].as_str(), s["Seccomp"].as_str()),
        ("1", "2")
    );
    b.run(&["rm", "-f", "nnp"]).ok();
    // An exec'd process is confined like the container's init, with and without
    // no-new-privileges: the same filter, the same capabilities.
    b.run_d(&["--name", "plain", "busybox", "sleep", "100"]);
    let s = parse_status(
        &b.run(&["exec", "plain", "cat", "/proc/self/status"])
            .ok()
            .stdout,
    );
    assert_eq!(
        (
            s["NoNewPrivs"].as_str(),
            s["Seccomp"].as_str(),
            s["CapEff"].as_str(),
            s["CapBnd"].as_str()
        ),
        ("0", "2", DOCKER_CAPS, DOCKER_CAPS)
    );
    let s = parse_status(
        &b.run(&["exec", "-u", "1000", "plain", "cat", "/proc/self/status"])
            .ok()
            .stdout,
    );
    assert_eq!(
        (
            s["Seccomp"].as_str(),
            s["CapEff"].as_str(),
            s["CapBnd"].as_str()
        ),
        ("2", "0000000000000000", DOCKER_CAPS)
    );
    b.run(&["rm", "-f", "plain"]).ok();

    // A profile file: the CLI sends its JSON, as the docker CLI does.
    let profile = b.scratch("no-chmod.json");
    std::fs::write(
        &profile,
        r#"{
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["chmod", "fchmodat", "fchmodat2"], "action": "SCMP_ACT_ERRNO"}]
        }"#,
    )
    .unwrap();
    let opt = format!("seccomp={}", profile.display());
    let out = b
        .run(&[
            "run",
            "--name",
            "nochmod",
            "--security-opt",
            &opt,
            "busybox",
            "chmod",
            "777",
            "/tmp",
        ])
        .fails(1);
    assert!(out.stderr.contains("Operation not permitted"), "{out:?}");
    assert_eq!(
        b.inspect("nochmod")["HostConfig"]["SecurityOpt"],
        serde_json::json!([
            r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["chmod","fchmodat","fchmodat2"],"action":"SCMP_ACT_ERRNO"}]}"#
        ])
    );
    let out = b
        .run(&[
            "run",
            "--rm",
            "--security-opt",
            "seccomp=/nonexistent/p.json",
            "busybox",
            "true",
        ])
        .fails(125);
    assert!(
        out.stderr.contains(
            "opening seccomp profile (/nonexistent/p.json) failed: open /nonexistent/p.json: no such file or directory"
        ),
        "{out:?}"
    );
    std::fs::write(&profile, "{bad").unwrap();
    let out = b
        .run(&["run", "--rm", "--security-opt", &opt, "busybox", "true"])
        .fails(125);
    assert!(
        out.stderr.contains("compacting json for seccomp profile"),
        "{out:?}"
    );

    // systempaths=unconfined: nothing masked, nothing read-only.
    let out = b
        .run(&[
            "run",
            "--name",
            "open",
            "--security-opt",
            "systempaths=unconfined",
            "busybox",
            "sh",
            "-c",
            "grep -cE ' /proc/(keys|timer_list|sys|bus) ' /proc/mounts",
        ])
        .fails(1);
    assert_eq!(out.stdout, "0\n");
    let hc = &b.inspect("open")["HostConfig"];
    assert_eq!(
        (hc["MaskedPaths"].clone(), hc["ReadonlyPaths"].clone()),
        (serde_json::json!([]), serde_json::json!([]))
    );

    for (opt, text) in [
        ("foo", "berth: Invalid --security-opt: \"foo\""),
        ("foo=bar", "invalid --security-opt 2: \"foo=bar\""),
        (
            "no-new-privileges=maybe",
            "invalid --security-opt 2: \"no-new-privileges=maybe\"",
        ),
        (
            "label=type:svirt_t",
            "label=type:svirt_t: SELinux is not enabled on this host, so berth cannot apply it",
        ),
    ] {
        let out = b
            .run(&["run", "--rm", "--security-opt", opt, "busybox", "true"])
            .fails(125);
        assert!(out.stderr.contains(text), "{opt}: {out:?}");
    }
    // label=disable is what a host without SELinux has anyway.
    b.run(&[
        "run",
        "--rm",
        "--security-opt",
        "label=disable",
        "busybox",
        "true",
    ])
    .ok();
    let apparmor = std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .is_ok_and(|s| s.trim() == "Y");
    let out = b.run(&[
        "run",
        "--rm",
        "--security-opt",
        "apparmor=docker-default",
        "busybox",
        "true",
    ]);
    if apparmor {
        assert!(!out.stderr.contains("AppArmor is not enabled"), "{out:?}");
    } else {
        assert!(
            out.fails(125).stderr.contains(
                "apparmor=docker-default: AppArmor is not enabled on this host, so berth cannot apply it"
            )
        );
    }
    let c = inspect_created(
        &b,
        &["--security-opt", "apparmor=unconfined", "busybox", "true"],
    );
    assert_eq!(c["AppArmorProfile"], "unconfined");
    assert_eq!(
        b.run(&["ps", "-aq", "--filter", "status=created"])
            .ok()
            .stdout,
        ""
    );
}

#[test]
fn devices_and_device_cgroup_rules() {
    let b = Berth::new();
    b.busybox("busybox");
    // A read-only mapping: the device opens for reading, and the device cgroup refuses
    // writes (/dev/loop-control has no write: with "rw" the write fails otherwise).
    let script =
        "ls -l /dev/lc | cut -c1; dd if=/dev/lc of=/dev/null count=0 2>/dev/null && echo read; \
                  echo x > /dev/lc || echo refused";
    let out = b
        .run(&[
            "run",
            "--rm",
            "--device",
            "/dev/loop-control:/dev/lc:r",
            "busybox",
            "sh",
            "-c",
            script,
        ])
        .ok();
    assert_eq!(out.lines(), ["c", "read", "refused"], "{out:?}");
    assert!(out.stderr.contains("Operation not permitted"), "{out:?}");
    let out = b
        .run(&[
            "run",
            "--rm",
            "--device",
            "/dev/loop-control:/dev/lc:rw",
            "busybox",
            "sh",
            "-c",
            script,
        ])
        .ok();
    assert!(!out.stderr.contains("Operation not permitted"), "{out:?}");
    // A rule lets a node made with mknod be opened.
    let script = "mknod /tmp/lc c 10 237 && dd if=/tmp/lc of=/dev/null count=0 2>&1 && echo opened";
    let out = b.run(&["run", "--rm", "busybox", "sh", "-c", script]);
    assert!(out.stdout.contains("Operation not permitted"), "{out:?}");
    let out = b
        .run(&[
            "run",
            "--rm",
            "--device-cgroup-rule",
            "c 10:237 r",
            "busybox",
            "sh",
            "-c",
            script,
        ])
        .ok();
    assert!(out.stdout.ends_with("opened\n"), "{out:?}");
    let c = inspect_created(
        &b,
        &[
            "--device",
            "/dev/null:/dev/mynull:r",
            "--device-cgroup-rule",
            "c 10:237 r",
            "busybox",
            "true",
        ],
    );
    assert_eq!(
        c["HostConfig"]["Devices"],
        serde_json::json!([{"PathOnHost": "/dev/null", "PathInContainer": "/dev/mynull", "CgroupPermissions": "r"}])
    );
    assert_eq!(
        c["HostConfig"]["DeviceCgroupRules"],
        serde_json::json!(["c 10:237 r"])
    );

    let out = b
        .run(&[
            "run",
            "--rm",
            "--device",
            "/dev/nonexistent-berth",
            "busybox",
            "true",
        ])
        .fails(125);
    assert!(
        out.stderr.contains(
            "error gathering device information while adding custom device \"/dev/nonexistent-berth\": no such file or directory"
        ),
        "{out:?}"
    );
    let out = b
        .run(&[
            "run",
            "--rm",
            "--device",
            "/dev/null:/x:rwx",
            "busybox",
            "true",
        ])
        .fails(125);
    assert!(out.stderr.contains("bad mode specified: rwx"), "{out:?}");
    let out = b
        .run(&[
            "run",
            "--rm",
            "--device-cgroup-rule",
            "c 1-3 r",
            "busybox",
            "true",
        ])
        .fails(125);
    assert!(
        out.stderr
            .contains("invalid device cgroup format 'c 1-3 r'"),
        "{out:?}"
    );
    let out = b
        .run(&["run", "--rm", "--gpus", "all", "busybox", "true"])
        .fails(125);
    assert!(
        out.stderr
            .contains("could not select device driver \"\" with capabilities: [[gpu]]"),
        "{out:?}"
    );
}

#[test]
fn the_docker_cli_gets_the_same_confinement() {
    let d = DockerCli::start();
    let docker = |args: &[&str]| d.run(args);
    let (code, out, err) = docker(&["run", "--rm", "busybox", "cat", "/proc/self/status"]);
    assert_eq!(code, 0, "{err}");
    let s = parse_status(&out);
    assert_eq!(
        (s["CapEff"].as_str(), s["Seccomp"].as_str()),
        (DOCKER_CAPS, "2")
    );
    // Docker's verdicts where containers-common's profile would differ.
    let bind = format!("{}:/probe:ro", probe().display());
    let (code, out, err) = docker(&[
        "run",
        "--rm",
        "-v",
        &bind,
        "busybox",
        "/probe",
        "unshare_user",
        "keyctl",
        "clone3",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "unshare_user EPERM\nkeyctl EPERM\nclone3 ENOSYS\n");
    let (_, out, _) = docker(&[
        "run",
        "--rm",
        "--cap-drop",
        "ALL",
        "--cap-add",
        "chown",
        "--security-opt",
        "no-new-privileges",
        "busybox",
        "cat",
        "/proc/self/status",
    ]);
    let s = parse_status(&out);
    assert_eq!(
        (s["CapEff"].as_str(), s["NoNewPrivs"].as_str()),
        ("0000000000000001", "1")
    );
    let (_, out, _) = docker(&[
        "run",
        "--rm",
        "--privileged",
        "busybox",
        "cat",
        "/proc/self/status",
    ]);
    let s = parse_status(&out);
    assert_eq!(
        (s["CapEff"].clone(), s["Seccomp"].as_str()),
        (own_bounding_set(), "0")
    );
    let (_, out, _) = docker(&[
        "run",
        "--rm",
        "--security-opt",
        "seccomp=unconfined",
        "--device",
        "/dev/null:/dev/mynull",
        "busybox",
        "sh",
        "-c",
        "grep Seccomp: /proc/self/status; test -c /dev/mynull && echo dev",
    ]);
    assert_eq!(out, "Seccomp:\t0\ndev\n");
    let (code, _, err) = docker(&["run", "--rm", "--cap-add", "foo", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(
        err.contains("invalid CapAdd: unknown capability: \"CAP_FOO\""),
        "{err}"
    );
    let (code, _, err) = docker(&["run", "--rm", "--gpus", "all", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(err.contains("could not select device driver"), "{err}");
    let (code, _, err) = docker(&[
        "create",
        "--name",
        "caps",
        "--cap-add",
        "sys_admin",
        "busybox",
        "true",
    ]);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = docker(&[
        "inspect",
        "-f",
        "{{json .HostConfig.CapAdd}} {{json .HostConfig.MaskedPaths}}",
        "caps",
    ]);
    assert!(
        out.starts_with("[\"CAP_SYS_ADMIN\"] [\"/proc/asound\""),
        "{out}"
    );
}

/// `--group-add` gives the process supplementary groups, after the primary one (recorded from
/// dockerd 20.10.24: a name the image's `/etc/group` lacks is refused at start with a capital,
/// the container left created).
#[test]
fn group_add_gives_supplementary_groups_with_dockers_words_for_unknown_names() {
    let b = Berth::new();
    b.busybox("busybox");
    let out = b
        .run(&[
            "run",
            "--rm",
            "--group-add",
            "1234",
            "--group-add",
            "55",
            "busybox",
            "id",
        ])
        .ok()
        .stdout;
    assert_eq!(out, "uid=0(root) gid=0(root) groups=0(root),55,1234\n");
    let status = status(&b, &["-u", "7:8", "--group-add", "1234"]);
    assert_eq!(status["Groups"], "8 1234", "{status:?}");
    b.run(&[
        "create",
        "--name",
        "ga",
        "--group-add",
        "nosuchgroup",
        "busybox",
        "id",
    ])
    .ok();
    let r = b.run(&["start", "ga"]).fails(1);
    assert!(
        r.stderr.contains(
            "Error response from daemon: Unable to find group nosuchgroup: no matching entries in group file"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(b.status_of("ga"), "created");
}

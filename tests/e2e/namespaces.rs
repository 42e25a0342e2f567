//! Namespaces and the rest of `run`'s process settings: `--pid`, `--ipc` (private, shareable,
//! `container:`, host, none), `--uts`, `--cgroupns`, `--sysctl`, `--shm-size`, `--domainname`,
//! `--cidfile` and `-a`, each checked from inside the container and through the docker CLI.
//! Expected values and texts recorded from a private dockerd 20.10.24.

use crate::api::DockerCli;
use crate::harness::*;

fn sh(b: &Berth, flags: &[&str], script: &str) -> Run {
    let mut args = vec!["run", "--rm"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["busybox", "sh", "-c", script]);
    b.run(&args)
}

#[test]
fn pid_uts_cgroup_namespaces() {
    let b = Berth::new();
    b.busybox("busybox");
    let count = "ls /proc | grep -c '^[0-9]'";
    let own: usize = sh(&b, &[], count).ok().stdout.trim().parse().unwrap();
    let host: usize = sh(&b, &["--pid", "host"], count)
        .ok()
        .stdout
        .trim()
        .parse()
        .unwrap();
    assert!(own <= 3 && host > own + 5, "own {own}, host {host}");
    b.run_d(&["--name", "donor", "busybox", "sleep", "1000"]);
    let out = sh(&b, &["--pid", "container:donor"], "ps -o args").ok();
    assert!(out.stdout.contains("sleep 1000"), "{out:?}");
    b.run(&["stop", "-t", "0", "donor"]).ok();
    let donor = b.id_of("donor");
    let out = b
        .run(&["run", "--rm", "--pid", "container:donor", "busybox", "true"])
        .fails(125);
    assert!(
        out.stderr.contains(&format!(
            "cannot join PID of a non running container: donor: Container {donor} is not running"
        )),
        "{out:?}"
    );
    let out = b
        .run(&[
            "run",
            "--rm",
            "--pid",
            "container:nonexistent",
            "busybox",
            "true",
        ])
        .fails(125);
    assert!(
        out.stderr.contains("No such container: nonexistent"),
        "{out:?}"
    );

    // The host's UTS namespace: the host's name, though /etc/hostname keeps the container's.
    let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let out = sh(&b, &["--uts", "host"], "hostname; cat /etc/hostname").ok();
    assert_eq!(out.lines()[0], host_name.trim());
    assert_eq!(out.lines()[1].len(), 12);
    let out = b
        .run(&[
            "run", "--rm", "--uts", "host", "-h", "foo", "busybox", "true",
        ])
        .fails(125);
    assert!(
        out.stderr
            .contains("conflicting options: hostname and the UTS mode"),
        "{out:?}"
    );
    let out = b
        .run(&["run", "--rm", "--uts", "bogus", "busybox", "true"])
        .fails(125);
    assert!(out.stderr.contains("--uts: invalid UTS mode"), "{out:?}");

    // A private cgroup namespace sees its own cgroup as the root.
    let out = sh(
        &b,
        &["--cgroupns", "private"],
        "grep pids /proc/self/cgroup",
    )
    .ok();
    assert!(out.stdout.trim_end().ends_with(":pids:/"), "{out:?}");
    let out = sh(&b, &[], "grep pids /proc/self/cgroup").ok();
    assert!(out.stdout.contains(":pids:/berth/"), "{out:?}");

    let c = &b.inspect_created(&["--pid", "host", "--uts", "host", "--cgroupns", "private"]);
    let hc = &c["HostConfig"];
    assert_eq!(
        (
            hc["PidMode"].clone(),
            hc["UTSMode"].clone(),
            hc["CgroupnsMode"].clone(),
            hc["IpcMode"].clone(),
            hc["SecurityOpt"].clone()
        ),
        (
            serde_json::json!("host"),
            serde_json::json!("host"),
            serde_json::json!("private"),
            serde_json::json!("private"),
            serde_json::json!(["label=disable"])
        )
    );
}

trait Created {
    fn inspect_created(&self, flags: &[&str]) -> serde_json::Value;
}

impl Created for Berth {
    /// `inspect` of a container created with `flags` (removed again).
    fn inspect_created(&self, flags: &[&str]) -> serde_json::Value {
        let mut all = vec!["create"];
        all.extend_from_slice(flags);
        all.extend_from_slice(&["busybox", "true"]);
        let id = self.run(&all).ok().stdout.trim().to_string();
        let c = self.inspect(&id);
        self.run(&["rm", &id]).ok();
        c
    }
}

#[test]
fn ipc_modes_and_shm() {
    let b = Berth::new();
    b.busybox("busybox");
    let out = sh(&b, &["--shm-size", "1m"], "df -k /dev/shm | tail -1").ok();
    assert!(
        out.stdout.starts_with("shm") && out.stdout.contains(" 1024 "),
        "{out:?}"
    );
    let out = sh(&b, &["--ipc", "none"], "ls /dev/shm");
    assert!(
        out.stderr.contains("/dev/shm: No such file or directory"),
        "{out:?}"
    );

    // A shareable container's /dev/shm and IPC namespace are joined by another.
    b.run_d(&[
        "--name",
        "share",
        "--ipc",
        "shareable",
        "--shm-size",
        "2m",
        "busybox",
        "sleep",
        "1000",
    ]);
    let script = "echo hi > /dev/shm/x; df -k /dev/shm | tail -1; readlink /proc/self/ns/ipc";
    let out = sh(&b, &["--ipc", "container:share"], script).ok();
    assert!(out.lines()[0].contains(" 2048 "), "{out:?}");
    let theirs = b
        .run(&["exec", "share", "readlink", "/proc/self/ns/ipc"])
        .ok();
    assert_eq!(out.lines()[1], theirs.stdout.trim());
    assert_eq!(
        b.run(&["exec", "share", "cat", "/dev/shm/x"]).ok().stdout,
        "hi\n"
    );
    b.run_d(&["--name", "private", "busybox", "sleep", "1000"]);
    let out = b
        .run(&[
            "run",
            "--rm",
            "--ipc",
            "container:private",
            "busybox",
            "true",
        ])
        .fails(125);
    assert!(
        out.stderr.contains(
            "can't join IPC of container private: non-shareable IPC (hint: use IpcMode:shareable for the donor container)"
        ),
        "{out:?}"
    );
    // Its tmpfs is gone with it.
    let dir = b
        .root()
        .join("containers")
        .join(b.id_of("share"))
        .join("mounts/shm");
    assert!(
        mounts_under(&dir).len() == 1,
        "{:?}",
        mounts_under(&b.root())
    );
    b.run(&["stop", "-t", "0", "share"]).ok();
    assert!(mounts_under(&dir).is_empty());

    // The host's IPC namespace and /dev/shm.
    let name = format!("berth-e2e-{}", std::process::id());
    let out = sh(
        &b,
        &["--ipc", "host"],
        &format!("echo host > /dev/shm/{name}; readlink /proc/self/ns/ipc"),
    )
    .ok();
    let host_file = std::path::Path::new("/dev/shm").join(&name);
    let written = std::fs::read_to_string(&host_file);
    let _ = std::fs::remove_file(&host_file);
    assert_eq!(written.unwrap(), "host\n");
    assert_eq!(
        out.stdout.trim(),
        std::fs::read_link("/proc/self/ns/ipc")
            .unwrap()
            .display()
            .to_string()
    );
    let out = b
        .run(&["run", "--rm", "--ipc", "bogus", "busybox", "true"])
        .fails(125);
    assert!(out.stderr.contains("Invalid IPC mode: bogus"), "{out:?}");
    let out = b
        .run(&["run", "--rm", "--shm-size", "-1", "busybox", "true"])
        .fails(125);
    assert!(
        out.stderr
            .contains("invalid argument \"-1\" for \"--shm-size\" flag: invalid size: '-1'"),
        "{out:?}"
    );
    let hc = &b.inspect_created(&["--ipc", "shareable", "--shm-size", "128m"])["HostConfig"];
    assert_eq!(
        (hc["IpcMode"].clone(), hc["ShmSize"].clone()),
        (serde_json::json!("shareable"), serde_json::json!(134217728))
    );
}

#[test]
fn sysctls_and_domainname() {
    let b = Berth::new();
    b.busybox("busybox");
    let out = sh(
        &b,
        &[
            "--sysctl",
            "net.ipv4.ip_forward=1",
            "--sysctl",
            "kernel.msgmax=1000",
            "--domainname",
            "example.com",
        ],
        "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax /proc/sys/kernel/domainname",
    )
    .ok();
    assert_eq!(out.stdout, "1\n1000\nexample.com\n");
    for (flags, text) in [
        (
            vec!["--sysctl", "kernel.foo=1"],
            "invalid argument \"kernel.foo=1\" for \"--sysctl\" flag: sysctl 'kernel.foo=1' is not whitelisted",
        ),
        (
            vec!["--sysctl", "foo"],
            "invalid argument \"foo\" for \"--sysctl\" flag: sysctl 'foo' is not whitelisted",
        ),
        (
            vec!["--network", "host", "--sysctl", "net.ipv4.ip_forward=1"],
            "sysctl \"net.ipv4.ip_forward\" not allowed in host network namespace",
        ),
        (
            vec!["--ipc", "host", "--sysctl", "kernel.msgmax=1"],
            "sysctl \"kernel.msgmax\" is not allowed in the hosts ipc namespace",
        ),
    ] {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(&flags);
        args.extend_from_slice(&["busybox", "true"]);
        let out = b.run(&args).fails(125);
        assert!(out.stderr.contains(text), "{flags:?}: {out:?}");
    }
    let c = b.inspect_created(&[
        "--sysctl",
        "net.ipv4.ip_forward=1",
        "--domainname",
        "example.com",
    ]);
    assert_eq!(
        c["HostConfig"]["Sysctls"],
        serde_json::json!({"net.ipv4.ip_forward": "1"})
    );
    assert_eq!(c["Config"]["Domainname"], "example.com");
}

#[test]
fn cidfile_and_attach() {
    let b = Berth::new();
    b.busybox("busybox");
    let cid = b.scratch("cid");
    let cid_s = cid.to_str().unwrap();
    b.run(&["run", "--rm", "--cidfile", cid_s, "busybox", "true"])
        .ok();
    assert!(is_full_id(&std::fs::read_to_string(&cid).unwrap()));
    let out = b
        .run(&["run", "--rm", "--cidfile", cid_s, "busybox", "true"])
        .fails(125);
    assert!(
        out.stderr.contains(&format!(
            "container ID file found, make sure the other container isn't running or delete {cid_s}"
        )),
        "{out:?}"
    );
    std::fs::remove_file(&cid).unwrap();
    b.run(&[
        "run",
        "--rm",
        "--cidfile",
        cid_s,
        "nonexistent-image",
        "true",
    ])
    .fails(125);
    assert!(!cid.exists(), "a failed create leaves no ID file");
    let id = b
        .run(&["create", "--cidfile", cid_s, "busybox", "true"])
        .ok()
        .stdout;
    assert_eq!(std::fs::read_to_string(&cid).unwrap(), id.trim());
    assert_eq!(b.inspect(id.trim())["HostConfig"]["ContainerIDFile"], cid_s);

    let both = "echo out; echo err >&2; exit 3";
    let out = b
        .run(&["run", "--rm", "-a", "stderr", "busybox", "sh", "-c", both])
        .fails(3);
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", "err\n"));
    let out = b
        .run(&["run", "--rm", "-a", "STDOUT", "busybox", "sh", "-c", both])
        .fails(3);
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("out\n", ""));
    let out = b
        .run_stdin(
            &["run", "--rm", "-i", "-a", "stdout", "busybox", "cat"],
            b"in\n",
        )
        .ok();
    assert_eq!(out.stdout, "in\n");
    let out = b
        .run(&["run", "--rm", "-a", "x", "busybox", "true"])
        .fails(125);
    assert!(
        out.stderr.contains(
            "invalid argument \"x\" for \"-a, --attach\" flag: valid streams are STDIN, STDOUT and STDERR"
        ),
        "{out:?}"
    );
    let out = b
        .run(&["run", "-d", "-a", "stdout", "busybox", "true"])
        .fails(1);
    assert!(
        out.stderr.contains("Conflicting options: -a and -d"),
        "{out:?}"
    );
    let c = b.inspect_created(&["-a", "stdout"]);
    assert_eq!(
        (
            c["Config"]["AttachStdin"].clone(),
            c["Config"]["AttachStdout"].clone(),
            c["Config"]["AttachStderr"].clone()
        ),
        (
            serde_json::json!(false),
            serde_json::json!(true),
            serde_json::json!(false)
        )
    );
}

#[test]
fn the_docker_cli_sets_namespaces_sysctls_and_shm() {
    let d = DockerCli::start();
    let docker = |args: &[&str]| d.run(args);
    let (code, out, err) = docker(&[
        "run", "--rm", "--sysctl", "net.ipv4.ip_forward=1", "--shm-size", "1m", "--domainname",
        "example.com", "--pid", "host", "busybox", "sh", "-c",
        "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/domainname; \
         df -k /dev/shm | tail -1 | awk '{print $2}'; test -d /proc/1/ns && ls /proc | grep -c '^[0-9]'",
    ]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..3], ["1", "example.com", "1024"], "{out}");
    assert!(lines[3].parse::<usize>().unwrap() > 5, "{out}");
    let (code, _, err) = docker(&[
        "run",
        "-d",
        "--name",
        "share",
        "--ipc",
        "shareable",
        "busybox",
        "sleep",
        "100",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = docker(&[
        "run",
        "--rm",
        "--ipc",
        "container:share",
        "busybox",
        "sh",
        "-c",
        "echo x > /dev/shm/f && echo ok",
    ]);
    assert_eq!((code, out.as_str()), (0, "ok\n"), "{err}");
    let (_, out, _) = docker(&["exec", "share", "cat", "/dev/shm/f"]);
    assert_eq!(out, "x\n");
    docker(&["rm", "-f", "share"]);
    let (code, _, err) = docker(&["run", "--rm", "--ipc", "bogus", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(err.contains("Invalid IPC mode: bogus"), "{err}");
    let (code, out, _) = docker(&[
        "run",
        "--rm",
        "-a",
        "stderr",
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2",
    ]);
    assert_eq!((code, out.as_str()), (0, ""));
}

/// `--platform` is checked against the image (normalized as Docker does: `linux`, `x86_64` ...):
/// a match runs, another platform is Docker's "does not match" text (with `--pull never`; by
/// default the CLI would pull that platform's image, as docker's does), a bad specifier is
/// refused; the same through the docker CLI's `platform` parameter.
#[test]
fn platform_must_match_the_image() {
    let b = Berth::new();
    b.busybox("busybox");
    let host = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let this = format!("linux/{host}");
    for p in ["linux", this.as_str(), std::env::consts::ARCH] {
        let out = b.run(&["run", "--rm", "--platform", p, "busybox", "echo", "ran"]);
        assert_eq!(out.ok().stdout, "ran\n", "--platform {p}");
    }
    let other = if host == "arm64" {
        "linux/amd64"
    } else {
        "linux/arm64"
    };
    let e = b
        .run(&[
            "create",
            "--name",
            "arm",
            "--pull",
            "never",
            "--platform",
            other,
            "busybox",
            "true",
        ])
        .fails(1)
        .stderr;
    assert!(
        e.contains(&format!(
            "image with reference busybox was found but does not match the specified platform: wanted {other}, actual: {this}"
        )),
        "{e}"
    );
    let e = b
        .run(&["create", "--platform", "beos/68k", "busybox", "true"])
        .fails(1)
        .stderr;
    assert!(
        e.contains("unknown operating system or architecture"),
        "{e}"
    );
    assert!(b.ps_all().is_empty());

    let d = DockerCli::start();
    let (code, out, err) = d.run(&["run", "--rm", "--platform", &this, "busybox", "echo", "ok"]);
    assert_eq!((code, out.as_str()), (0, "ok\n"), "{err}");
    // The image is not of that platform, so the docker CLI goes to pull it, as with dockerd
    // (from Docker Hub, which this machine may not reach: the create fails either way).
    let (code, _, err) = d.run(&["create", "--platform", other, "busybox", "true"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("Unable to find image 'busybox:latest' locally"),
        "{err}"
    );
    let (_, out, _) = d.run(&["ps", "-aq"]);
    assert_eq!(out, "");
}

/// Flags berth cannot honour are refused, not dropped: `--ip6` and `--link-local-ip` (IPv4-only
/// networks).
#[test]
fn flags_berth_cannot_honour_are_refused() {
    let b = Berth::new();
    b.busybox("busybox");
    b.run(&["network", "create", "refuse-net"]).ok();
    let cases: [(&[&str], &str); 3] = [
        (
            &["--network", "refuse-net", "--ip6", "fd00::5"],
            "IPv4 only",
        ),
        (
            &["--ip6", "nope"],
            "invalid argument \"nope\" for \"--ip6\" flag",
        ),
        (
            &["--network", "refuse-net", "--link-local-ip", "169.254.1.1"],
            "link-local",
        ),
    ];
    for (flags, text) in cases {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["busybox", "true"]);
        let e = b.run(&args).fails(125).stderr;
        assert!(e.contains(text), "{flags:?}: {e}");
    }
    assert!(b.ps_all().is_empty());
    b.run(&["network", "rm", "refuse-net"]).ok();
}

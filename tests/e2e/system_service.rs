//! berth as a system service: `berth system boot` after a simulated reboot, and the Debian
//! package (`packaging/deb.sh`) with its units, completions and man pages.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::*;

const SOON: Duration = Duration::from_secs(30);

/// What a reboot does to a data root, without rebooting: every shim and container process
/// killed, every mount under the root gone, the exec root's run directories and runtime state
/// (on tmpfs at /run) cleared.
fn simulate_reboot(b: &Berth, running: &[&str]) {
    let pids: Vec<i64> = running
        .iter()
        .map(|n| b.inspect(n)["State"]["Pid"].as_i64().unwrap())
        .collect();
    kill_processes_of(&b.root());
    for &pid in &pids {
        kill9(pid);
    }
    for &pid in &pids {
        wait_for("a container process to die", SOON, || process_gone(pid));
    }
    unmount_under(&b.root());
    // The runtimes' cgroup directories go too (a reboot leaves none).
    delete_runtime_containers(&b.exec_root());
    for dir in ["containers", "runtime", "runtime-berth"] {
        let _ = std::fs::remove_dir_all(b.exec_root().join(dir));
    }
}

#[test]
#[ignore = "needs root"]
fn system_boot_starts_what_the_restart_policies_ask_for_after_a_reboot() {
    let b = Berth::new();
    b.busybox("busybox");
    let none = ["--network", "none"];
    let run = |name: &str, extra: &[&str], cmd: &[&str]| {
        let mut args = vec!["--name", name];
        args.extend_from_slice(extra);
        args.extend_from_slice(&none);
        args.push("busybox");
        args.extend_from_slice(cmd);
        b.run_d(&args);
    };
    let sleep: &[&str] = &["sleep", "1000"];
    run(
        "always",
        &["--restart", "always", "-v", "keep:/data"],
        &["sh", "-c", "echo kept > /data/f; exec sleep 1000"],
    );
    wait_for("the volume to be written", SOON, || {
        b.run(&["exec", "always", "cat", "/data/f"]).stdout == "kept\n"
    });
    // Needs `always` running (its network namespace) and mounts its volumes.
    let mut sidecar = vec![
        "--name",
        "sidecar",
        "--restart",
        "always",
        "--network",
        "container:always",
        "--volumes-from",
        "always",
        "busybox",
    ];
    sidecar.extend_from_slice(sleep);
    b.run_d(&sidecar);
    run("unless", &["--restart", "unless-stopped"], sleep);
    run("stopped", &["--restart", "unless-stopped"], sleep);
    b.run(&["stop", "-t", "0", "stopped"]).ok();
    run("onfail", &["--restart", "on-failure"], sleep);
    run("never", &[], sleep);
    b.run(&[
        "create",
        "--name",
        "created",
        "--restart",
        "always",
        "--network",
        "none",
        "busybox",
        "true",
    ])
    .ok();

    simulate_reboot(&b, &["always", "sidecar", "unless", "onfail", "never"]);

    let boot = b.run(&["system", "boot"]).ok();
    let started = boot.lines();
    let mut sorted = started.clone();
    sorted.sort();
    assert_eq!(sorted, ["always", "sidecar", "unless"], "{boot:?}");
    let pos = |n: &str| started.iter().position(|s| *s == n).unwrap();
    assert!(pos("always") < pos("sidecar"), "dependency first: {boot:?}");
    for (name, status) in [
        ("always", "running"),
        ("sidecar", "running"),
        ("unless", "running"),
        ("stopped", "exited"),
        ("onfail", "exited"),
        ("never", "exited"),
        ("created", "created"),
    ] {
        assert_eq!(b.status_of(name), status, "{name}");
    }
    // The volume's data came through the reboot, seen through --volumes-from.
    assert_eq!(
        b.run(&["exec", "sidecar", "cat", "/data/f"]).ok().stdout,
        "kept\n"
    );

    // Idempotent: the second run starts nothing and leaves the running ones alone.
    let pid = b.inspect("always")["State"]["Pid"].as_i64();
    assert_eq!(b.run(&["system", "boot"]).ok().stdout, "");
    assert_eq!(b.inspect("always")["State"]["Pid"].as_i64(), pid);
}

/// `packaging/deb.sh` with the binary under test; returns the .deb.
fn build_deb(out: &Path) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging/deb.sh");
    let built = Command::new("bash")
        .arg(script)
        .arg(out)
        .env("BERTH_BINARY", berth_bin())
        .env("DEB_COMPRESSION", "gzip")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(built.status.success(), "deb.sh: {built:?}");
    PathBuf::from(String::from_utf8(built.stdout).unwrap().trim())
}

fn sh(cmd: &mut Command) -> Run {
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
    }
}

#[test]
#[ignore = "needs root"]
fn the_debian_package_carries_berth_its_units_completions_and_man_pages() {
    let b = Berth::new();
    let deb = build_deb(&b.scratch("deb"));
    let field = |f: &str| sh(Command::new("dpkg-deb").args(["-f"]).arg(&deb).arg(f)).ok();
    assert_eq!(field("Package").stdout.trim(), "berth");
    let depends = field("Depends").stdout;
    for dep in [
        "runc",
        "tini",
        "e2fsprogs",
        "netavark",
        "aardvark-dns",
        "iptables",
        // The in-process runtime's seccomp filters.
        "libseccomp2",
    ] {
        assert!(depends.contains(dep), "{dep} in {depends}");
    }

    // What dpkg would put on the machine, under a scratch root.
    let root = b.scratch("pkgroot");
    sh(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root)).ok();
    let bin = root.join("usr/bin/berth");
    for file in [
        "etc/berth/daemon.json",
        "lib/systemd/system/berth.socket",
        "lib/systemd/system/berth.service",
        "lib/systemd/system/berth-restart.service",
        "usr/share/bash-completion/completions/berth",
        "usr/share/zsh/vendor-completions/_berth",
        "usr/share/fish/vendor_completions.d/berth.fish",
        "usr/share/man/man1/berth.1.gz",
        "usr/share/man/man1/berth-run.1.gz",
        "usr/share/man/man1/berth-serve.1.gz",
        "usr/share/man/man1/berth-system-boot.1.gz",
        "usr/share/man/man1/berth-volume-create.1.gz",
    ] {
        assert!(root.join(file).is_file(), "{file} is in the package");
    }
    assert!(
        !root.join("usr/share/man/man1/berth-shim.1.gz").exists(),
        "internal commands have no man page"
    );
    let page = sh(Command::new("sh").arg("-c").arg(format!(
        "gzip -dc {}",
        root.join("usr/share/man/man1/berth-run.1.gz").display()
    )))
    .ok();
    assert!(page.stdout.starts_with(".ie") || page.stdout.contains(".TH berth-run"));
    assert!(
        page.stdout.contains("publish"),
        "run's page lists its flags"
    );

    // The units verify against the package's files and this machine's systemd units.
    let units = root.join("lib/systemd/system");
    std::fs::create_dir_all(&units).unwrap();
    for e in std::fs::read_dir("/lib/systemd/system").unwrap().flatten() {
        let to = units.join(e.file_name());
        if !to.exists() && e.path().is_file() {
            std::fs::copy(e.path(), to).unwrap();
        }
    }
    let verify = sh(Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(format!("--root={}", root.display()))
        .args([
            "/lib/systemd/system/berth.socket",
            "/lib/systemd/system/berth.service",
            "/lib/systemd/system/berth-restart.service",
        ]))
    .ok();
    assert_eq!(verify.stderr, "", "systemd-analyze verify warns");

    // The completions load in their shells and complete berth's commands.
    let bash = sh(Command::new("bash").arg("-c").arg(format!(
        "source {}; complete -p berth; COMP_WORDS=(berth volu); COMP_CWORD=1; _berth berth volu berth; echo \"${{COMPREPLY[@]}}\"",
        root.join("usr/share/bash-completion/completions/berth").display()
    )))
    .ok();
    assert!(
        has_line(&bash.stdout, "complete ", "-F _berth berth"),
        "{bash:?}"
    );
    assert!(
        bash.stdout.lines().last().unwrap().contains("volume"),
        "{bash:?}"
    );
    sh(Command::new("zsh")
        .arg("-n")
        .arg(root.join("usr/share/zsh/vendor-completions/_berth")))
    .ok();
    let fish = sh(Command::new("fish").arg("-c").arg(format!(
        "source {}; complete -C 'berth volu'",
        root.join("usr/share/fish/vendor_completions.d/berth.fish")
            .display()
    )))
    .ok();
    assert!(fish.stdout.contains("volume"), "{fish:?}");

    // The packaged binary runs containers.
    b.busybox("busybox");
    let mut run = Command::new(&bin);
    run.env("BERTH_ROOT", b.root())
        .env("BERTH_CONFIG_FILE", b.config_file())
        .args([
            "run",
            "--rm",
            "--network",
            "none",
            "busybox",
            "echo",
            "from the package",
        ]);
    assert_eq!(sh(&mut run).ok().stdout, "from the package\n");
}

/// Whether a line of `out` starts with `start` and ends with `end`.
fn has_line(out: &str, start: &str, end: &str) -> bool {
    out.lines()
        .any(|l| l.starts_with(start) && l.ends_with(end))
}

#[test]
fn completion_refuses_shells_it_cannot_write_for() {
    let b = Berth::new();
    let r = b.run(&["completion", "powershell"]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("invalid value 'powershell'"), "{r:?}");
    assert!(b
        .run(&["completion", "bash"])
        .ok()
        .stdout
        .contains("_berth()"));
}

/// A child process killed (and reaped) when dropped, also when the test fails.
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn curl_ping(sock: &Path) -> Run {
    sh(Command::new("curl")
        .args(["-s", "--max-time", "20", "--unix-socket"])
        .arg(sock)
        .arg("http://berth/_ping"))
}

#[test]
#[ignore = "needs root"]
fn serve_takes_its_socket_from_systemd_or_gives_it_to_a_group() {
    let b = Berth::new();
    // berth.service's command line, under systemd's own socket activator.
    let sock = b.scratch("activated.sock");
    let mut activated = Command::new("systemd-socket-activate");
    activated
        .arg("-l")
        .arg(&sock)
        // The activator gives its child only the variables named with -E: without them the
        // server opened the default data root (and failed on whatever schema was there).
        .arg("-E")
        .arg(format!("BERTH_ROOT={}", b.root().display()))
        .arg("-E")
        .arg(format!("BERTH_CONFIG_FILE={}", b.config_file().display()))
        .args([berth_bin(), "serve", "-H", "fd://"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let _activator = Killed(activated.spawn().unwrap());
    wait_for("the activation socket", SOON, || sock.exists());
    assert_eq!(curl_ping(&sock).ok().stdout, "OK");
    assert_eq!(
        curl_ping(&sock).ok().stdout,
        "OK",
        "the server keeps serving"
    );

    // fd:// outside systemd is refused with Docker's words.
    let out = b.run(&["serve", "-H", "fd://"]).fails(1);
    assert!(
        out.stderr
            .contains("no sockets found via socket activation"),
        "{out:?}"
    );

    // A socket berth binds itself goes to --group, and an unknown group is an error.
    let own = b.scratch("grouped.sock");
    let host = format!("unix://{}", own.display());
    let out = b
        .run(&["serve", "-H", &host, "-G", "berth-no-such-group"])
        .fails(1);
    assert!(
        out.stderr
            .contains("group \"berth-no-such-group\" not found"),
        "{out:?}"
    );
    assert!(!own.exists(), "nothing is left behind");
    let _server = Killed(
        b.command(&["serve", "-H", &host, "--group", "daemon"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for("the server's socket", SOON, || own.exists());
    use std::os::unix::fs::MetadataExt;
    let md = std::fs::metadata(&own).unwrap();
    assert_eq!(
        (md.mode() & 0o777, md.gid()),
        (0o660, 1),
        "root:daemon 0660"
    );
    assert_eq!(curl_ping(&own).ok().stdout, "OK");
}

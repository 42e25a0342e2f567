//! The container lifecycle end to end, as a user sees it: `run` (output, exit codes, flags),
//! `create/start/stop/restart/kill/rm/wait`, `ps` (flags, filters, formats, Docker's Status
//! wording), `container inspect`, `logs`, `exec`, `container prune`, IDs and names, and
//! copy-on-write on disk (two containers of one image, image layers untouched, stop/start keeps
//! the writable layer, `rm` removes it). Expected texts were checked against Docker 20.10 with
//! the docker 28 CLI. `docker run` prefixes its own errors with `docker:`; berth prints its own
//! name there (`berth: ...`, `Run 'berth run --help' ...`), which these tests expect.

use std::time::{Duration, Instant};

use regex::Regex;

use crate::harness::*;

/// Docker's `units.HumanDuration` wording as `ps` uses it (short durations only: tests are fast).
const SINCE: &str = r"(Less than a second|1 second|\d+ seconds|About a minute|\d+ minutes)";

fn up_status() -> Regex {
    Regex::new(&format!("^Up {SINCE}$")).unwrap()
}

fn exited_status(code: i32) -> Regex {
    Regex::new(&format!(r"^Exited \({code}\) {SINCE} ago$")).unwrap()
}

/// What `berth run` prints on stderr for an engine error (exit 125/126/127).
fn run_daemon_error(text: &str) -> String {
    format!("berth: Error response from daemon: {text}\n\nRun 'berth run --help' for more information\n")
}

/// A root with the busybox rootfs imported as `busybox`.
fn with_busybox() -> Berth {
    let b = Berth::new();
    b.busybox("busybox");
    b
}

/// The shared init layers (`<cache_id>-init`) over the layers among `image_layers`.
fn shared_init_layers(b: &Berth, image_layers: &[String]) -> Vec<String> {
    b.layer_dirs()
        .into_iter()
        .filter(|d| {
            d.strip_suffix("-init")
                .is_some_and(|l| image_layers.iter().any(|i| i == l))
        })
        .collect()
}

/// Snapshot of every image layer's `diff` tree: layer dir name → tree.
fn image_layer_snapshot(
    b: &Berth,
    layers: &[String],
) -> Vec<(String, std::collections::BTreeMap<String, String>)> {
    layers
        .iter()
        .map(|l| {
            (
                l.clone(),
                tree_snapshot(&b.root().join("layers").join(l).join("diff")),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// run: output and exit codes

#[test]
fn run_prints_output_and_exits_with_the_containers_code() {
    let b = with_busybox();
    let out = b.run(&["run", "busybox", "echo", "hello", "world"]).ok();
    assert_eq!(out.stdout, "hello world\n");
    assert_eq!(out.stderr, "");

    let out = b
        .run(&[
            "run",
            "busybox",
            "sh",
            "-c",
            "echo to-out; echo to-err >&2; exit 3",
        ])
        .fails(3);
    assert_eq!(out.stdout, "to-out\n");
    assert_eq!(out.stderr, "to-err\n");

    // Docker: `Exited (3)` and the same code in inspect.
    let all = b.ps_all();
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(exited_status(3).is_match(&all[0].1), "{all:?}");
    assert!(exited_status(0).is_match(&all[1].1), "{all:?}");
}

#[test]
fn run_engine_errors_exit_125_with_dockers_text() {
    let b = with_busybox();
    // The imported image has no CMD.
    let out = b.run(&["run", "busybox"]).fails(125);
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr, run_daemon_error("No command specified"));

    let out = b.run(&["run", "--pull", "never", "nosuch"]).fails(125);
    assert_eq!(out.stderr, run_daemon_error("No such image: nosuch:latest"));

    let out = b
        .run(&["run", "--pull", "bogus", "busybox", "true"])
        .fails(125);
    assert_eq!(
        out.stderr,
        "berth: invalid pull option: 'bogus': must be one of \"always\", \"missing\" or \"never\"\n\nRun 'berth run --help' for more information\n"
    );

    let out = b
        .run(&["run", "--rm", "--restart", "always", "busybox", "true"])
        .fails(125);
    assert_eq!(
        out.stderr,
        "berth: conflicting options: cannot specify both --restart and --rm\n\nRun 'berth run --help' for more information\n"
    );
    // None of these left a container behind.
    assert_eq!(b.run(&["ps", "-aq"]).ok().stdout, "");
}

#[test]
fn run_of_a_missing_image_announces_the_pull_first() {
    let b = with_busybox();
    for args in [
        &["run", "nosuch", "true"][..],
        &["run", "--pull", "missing", "nosuch:latest", "true"][..],
        &["create", "nosuch"][..],
    ] {
        let out = b.run(args);
        assert_ne!(out.code, 0, "{out:?}");
        assert_eq!(
            out.stderr.lines().next(),
            Some("Unable to find image 'nosuch:latest' locally"),
            "{args:?}: {out:?}"
        );
        assert_eq!(out.stdout, "");
    }
    assert_eq!(b.run(&["ps", "-aq"]).ok().stdout, "");
}

#[test]
fn log_level_debug_shows_runtime_calls_and_mounts_and_info_shows_nothing() {
    let b = Berth::new();
    let img = b.busybox("bb");
    let quiet = b.run(&["run", "--rm", &img, "echo", "hi"]).ok();
    assert_eq!((quiet.stdout.as_str(), quiet.stderr.as_str()), ("hi\n", ""));

    let loud = b
        .run(&[
            "--log-level",
            "debug",
            "run",
            "-v",
            "dv:/data",
            &img,
            "echo",
            "hi",
        ])
        .ok();
    assert_eq!(loud.stdout, "hi\n", "diagnostics never go to stdout");
    let lines: Vec<&str> = loud.stderr.lines().collect();
    assert!(lines.iter().all(|l| l.starts_with("DEBU[")), "{lines:#?}");
    assert!(
        lines.iter().any(|l| l.contains("mount overlay on ")),
        "{lines:#?}"
    );
    let id = b.run(&["ps", "-lq", "--no-trunc"]).ok().stdout;
    let shim_log = b.root().join("containers").join(id.trim()).join("shim.log");
    let shim_log = std::fs::read_to_string(&shim_log).unwrap_or_default();
    assert!(
        shim_log.contains("runtime: ") && shim_log.contains(" \"create\" "),
        "the shim's runc calls are in {shim_log}"
    );

    // The docker CLI's words and exit code; logrus's level names are all accepted.
    let bad = b.run(&["--log-level", "loud", "ps"]).fails(1);
    assert_eq!(bad.stderr, "Unable to parse logging level: loud\n");
    for level in ["trace", "warning", "ERROR", "panic"] {
        assert_eq!(b.run(&["--log-level", level, "ps", "-q"]).ok().stderr, "");
    }
}

#[test]
fn run_exit_127_for_a_missing_executable_and_126_for_a_non_executable_file() {
    let b = with_busybox();
    // The runtime names itself in the message (runc, or berth's in-process runtime).
    let rt = crate::harness::e2e_runtime().unwrap_or_else(|| "berth".into());
    let out = b
        .run(&["run", "--name", "nf", "busybox", "nosuchcmd"])
        .fails(127);
    assert_eq!(
        out.stderr,
        run_daemon_error(
            &format!("failed to create shim task: OCI runtime create failed: {rt} create failed: unable to start container process: exec: \"nosuchcmd\": executable file not found in $PATH: unknown")
        )
    );
    let out = b
        .run(&["run", "--name", "nx", "busybox", "/etc/passwd"])
        .fails(126);
    assert_eq!(
        out.stderr,
        run_daemon_error(
            &format!("failed to create shim task: OCI runtime create failed: {rt} create failed: unable to start container process: exec: \"/etc/passwd\": permission denied: unknown")
        )
    );
    // Docker leaves both `Created`, with the code and the error recorded; nothing mounted.
    assert_eq!(b.ps_status("nf").as_deref(), Some("Created"));
    assert_eq!(b.ps_status("nx").as_deref(), Some("Created"));
    let st = &b.inspect("nf")["State"];
    assert_eq!(st["Status"], "created");
    assert_eq!(st["ExitCode"], 127);
    assert_eq!(st["Running"], false);
    assert!(
        st["Error"]
            .as_str()
            .unwrap()
            .contains("executable file not found in $PATH"),
        "{st}"
    );
    assert_eq!(b.inspect("nx")["State"]["ExitCode"], 126);
    assert_eq!(mounts_under(&b.root()), Vec::<String>::new());
    // `--rm` removes a container whose start failed.
    b.run(&["run", "--rm", "--name", "gone", "busybox", "nosuchcmd"])
        .fails(127);
    assert_eq!(b.ps_status("gone"), None);
}

#[test]
fn run_rm_removes_the_container_and_its_layers() {
    let b = with_busybox();
    let before = b.layer_dirs();
    let out = b
        .run(&[
            "run",
            "--rm",
            "--name",
            "tmp",
            "busybox",
            "sh",
            "-c",
            "echo bye; exit 4",
        ])
        .fails(4);
    assert_eq!(out.stdout, "bye\n");
    assert_eq!(b.ps_status("tmp"), None);
    // The image's layer gained its shared init layer, which stays; nothing else is left.
    let init = shared_init_layers(&b, &before);
    assert_eq!(init.len(), 1, "{:?}", b.layer_dirs());
    let mut want = before.clone();
    want.extend(init);
    want.sort();
    assert_eq!(b.layer_dirs(), want, "writable/init layers left behind");
    assert_eq!(
        std::fs::read_dir(b.root().join("containers"))
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );
    assert_eq!(mounts_under(&b.root()), Vec::<String>::new());

    // `run -d --rm`: removed once it ends, by the shim (the CLI is long gone).
    let id = b.run_d(&["--rm", "--name", "bg", "busybox", "sh", "-c", "sleep 1"]);
    wait_for("the --rm container to remove itself", SOON, || {
        b.ps_status("bg").is_none()
    });
    // The row goes first, then the files (the shim may still be deleting them).
    wait_for("the --rm container's files to go", SOON, || {
        !b.root().join("layers").join(&id).exists()
            && !b.root().join("containers").join(&id).exists()
    });
    assert_eq!(b.mounts_of(&id), Vec::<String>::new());
}

#[test]
fn run_detached_returns_at_once_with_the_container_running() {
    let b = with_busybox();
    let started = Instant::now();
    let out = b
        .run(&["run", "-d", "--name", "svc", "busybox", "sleep", "1000"])
        .ok();
    let took = started.elapsed();
    let id = out.stdout.trim();
    assert!(is_full_id(id), "{out:?}");
    assert_eq!(out.stdout, format!("{id}\n"));
    assert_eq!(out.stderr, "");
    assert!(took < Duration::from_secs(100), "run -d took {took:?}");
    // Right after `run -d` returned, it is up.
    let st = b.inspect("svc");
    assert_eq!(st["State"]["Status"], "running", "{st}");
    assert_eq!(st["State"]["Running"], true);
    let pid = st["State"]["Pid"].as_i64().unwrap();
    assert!(pid > 0 && !process_gone(pid), "{st}");
    assert!(up_status().is_match(&b.ps_status("svc").unwrap()));
    // Its rootfs is mounted while it runs.
    assert!(!b.mounts_of(id).is_empty(), "{:?}", mounts_under(&b.root()));
    b.run(&["rm", "-f", "svc"]).ok();
    assert!(process_gone(pid));
    assert_eq!(b.mounts_of(id), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// run: flags

#[test]
fn run_env_and_env_file() {
    let b = with_busybox();
    let envf = b.scratch("env.list");
    std::fs::write(&envf, "A=1\n# comment\nB=two words\n\n  C\n").unwrap();
    let mut cmd = b.command(&[
        "run",
        "--name",
        "envy",
        "--env-file",
        envf.to_str().unwrap(),
        "-e",
        "D=4",
        "--env",
        "A=override",
        "-e",
        "UNSET_IN_HOST",
        "busybox",
        "env",
    ]);
    cmd.env("C", "from host").env_remove("UNSET_IN_HOST");
    let out = output_timeout(cmd, None, CMD_TIMEOUT).ok();
    let mut env: Vec<&str> = out.stdout.lines().collect();
    env.sort();
    let id = b.id_of("envy");
    assert_eq!(
        env,
        [
            "A=override".to_string(),
            "B=two words".into(),
            "C=from host".into(),
            "D=4".into(),
            "HOME=/root".into(),
            format!("HOSTNAME={}", &id[..12]),
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
        ]
    );

    let out = b
        .run(&["run", "--env-file", "/nonexistent/env", "busybox", "true"])
        .fails(125);
    assert_eq!(
        out.stderr,
        "berth: open /nonexistent/env: no such file or directory\n\nRun 'berth run --help' for more information\n"
    );
}

#[test]
fn run_workdir_is_created_when_missing() {
    let b = with_busybox();
    assert_eq!(
        b.run(&["run", "-w", "/new/dir", "busybox", "pwd"])
            .ok()
            .stdout,
        "/new/dir\n"
    );
    assert_eq!(
        b.run(&["run", "--workdir", "/tmp", "busybox", "pwd"])
            .ok()
            .stdout,
        "/tmp\n"
    );
    // Docker creates it owned by root (the daemon's root identity), whatever `-u` says.
    let out = b
        .run(&[
            "run",
            "-u",
            "nobody",
            "-w",
            "/made/here",
            "busybox",
            "sh",
            "-c",
            "pwd; stat -c '%U:%G %a' /made /made/here",
        ])
        .ok();
    assert_eq!(out.stdout, "/made/here\nroot:root 755\nroot:root 755\n");
}

#[test]
fn run_user_by_name_and_uid_gid() {
    let b = with_busybox();
    assert_eq!(
        b.run(&["run", "-u", "nobody", "busybox", "id"]).ok().stdout,
        "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n"
    );
    assert_eq!(
        b.run(&["run", "--user", "1000:2000", "busybox", "id"])
            .ok()
            .stdout,
        "uid=1000 gid=2000 groups=2000\n"
    );
    assert_eq!(
        b.run(&["run", "-u", "0", "busybox", "id"]).ok().stdout,
        "uid=0(root) gid=0(root) groups=0(root)\n"
    );
    let out = b
        .run(&["run", "-u", "nosuchuser", "busybox", "id"])
        .fails(125);
    assert_eq!(
        out.stderr,
        run_daemon_error("unable to find user nosuchuser: no matching entries in passwd file")
    );
}

#[test]
fn run_entrypoint_and_hostname() {
    let b = with_busybox();
    assert_eq!(
        b.run(&["run", "--entrypoint", "echo", "busybox", "hi", "there"])
            .ok()
            .stdout,
        "hi there\n"
    );
    assert_eq!(
        b.run(&["run", "--entrypoint", "", "busybox", "echo", "empty"])
            .ok()
            .stdout,
        "empty\n"
    );
    let out = b
        .run(&[
            "run",
            "--name",
            "ep",
            "--entrypoint",
            "/bin/echo",
            "busybox",
            "x",
        ])
        .ok();
    assert_eq!(out.stdout, "x\n");
    let i = b.inspect("ep");
    assert_eq!(i["Path"], "/bin/echo");
    assert_eq!(i["Args"], serde_json::json!(["x"]));
    assert_eq!(i["Config"]["Entrypoint"], serde_json::json!(["/bin/echo"]));
    assert_eq!(i["Config"]["Cmd"], serde_json::json!(["x"]));

    assert_eq!(
        b.run(&["run", "--hostname", "myhost", "busybox", "hostname"])
            .ok()
            .stdout,
        "myhost\n"
    );
    assert_eq!(
        b.run(&["run", "-h", "other", "busybox", "cat", "/etc/hostname"])
            .ok()
            .stdout,
        "other\n"
    );
    // Without --hostname: the short ID.
    let out = b.run(&["run", "--name", "hn", "busybox", "hostname"]).ok();
    assert_eq!(out.stdout, format!("{}\n", &b.id_of("hn")[..12]));
}

#[test]
fn run_read_only_rootfs_refuses_writes() {
    let b = with_busybox();
    let out = b
        .run(&["run", "--read-only", "busybox", "touch", "/x"])
        .fails(1);
    assert_eq!(out.stderr, "touch: /x: Read-only file system\n");
    let out = b
        .run(&["run", "--read-only", "busybox", "touch", "/tmp/x"])
        .fails(1);
    assert_eq!(out.stderr, "touch: /tmp/x: Read-only file system\n");
    // Reading works, and so do the engine's own mounts.
    b.run(&[
        "run",
        "--read-only",
        "busybox",
        "cat",
        "/etc/passwd",
        "/etc/hosts",
    ])
    .ok();
    // (A writable /tmp through --tmpfs belongs to the volumes work.)
}

#[test]
fn run_init_makes_docker_init_pid_1() {
    let b = with_busybox();
    let out = b
        .run(&[
            "run",
            "--init",
            "busybox",
            "sh",
            "-c",
            "tr '\\0' ' ' < /proc/1/cmdline; echo; readlink /proc/1/exe; echo $$",
        ])
        .ok();
    let lines = out.lines();
    assert_eq!(
        lines[0],
        "/sbin/docker-init -- sh -c tr '\\0' ' ' < /proc/1/cmdline; echo; readlink /proc/1/exe; echo $$ ",
        "{out:?}"
    );
    assert_eq!(lines[1], "/sbin/docker-init");
    assert_ne!(lines[2], "1", "the shell is not pid 1 under --init");
    // Without --init the command is pid 1.
    assert_eq!(
        b.run(&["run", "busybox", "sh", "-c", "echo $$"])
            .ok()
            .stdout,
        "1\n"
    );
    // docker-init forwards SIGTERM to `sleep`, which is not pid 1 and so dies of it: 143.
    b.run_d(&["--init", "--name", "in", "busybox", "sleep", "1000"]);
    let t = Instant::now();
    b.run(&["stop", "-t", "30", "in"]).ok();
    assert!(t.elapsed() < Duration::from_secs(25), "{:?}", t.elapsed());
    assert_eq!(b.inspect("in")["State"]["ExitCode"], 143);
}

#[test]
fn run_network_none_and_host() {
    let b = with_busybox();
    assert_eq!(
        b.run(&[
            "run",
            "--network",
            "none",
            "busybox",
            "ls",
            "/sys/class/net"
        ])
        .ok()
        .stdout,
        "lo\n"
    );
    // Other tests (and other engines) add and remove interfaces while this one runs, and reuse
    // names (veth2 deleted and made again): the container must see every interface that existed
    // throughout, known by name and index (a re-made one has a new index).
    let host_links = || -> std::collections::BTreeSet<(String, String)> {
        std::fs::read_dir("/sys/class/net")
            .unwrap()
            .filter_map(|e| {
                let e = e.ok()?;
                let index = std::fs::read_to_string(e.path().join("ifindex")).ok()?;
                Some((e.file_name().to_string_lossy().to_string(), index))
            })
            .collect()
    };
    let before = host_links();
    let out = b
        .run(&[
            "run",
            "--network",
            "host",
            "busybox",
            "ls",
            "/sys/class/net",
        ])
        .ok();
    let after = host_links();
    let seen: std::collections::BTreeSet<String> =
        out.lines().iter().map(|s| s.to_string()).collect();
    let throughout: std::collections::BTreeSet<String> = before
        .intersection(&after)
        .map(|(name, _)| name.clone())
        .collect();
    assert!(
        seen.is_superset(&throughout),
        "{seen:?} lacks some of {throughout:?}"
    );
    b.run(&["run", "--name", "nh", "--net", "host", "busybox", "true"])
        .ok();
    assert_eq!(b.inspect("nh")["HostConfig"]["NetworkMode"], "host");
    // Host network: the host's hostname too, as Docker does.
    let out = b
        .run(&["run", "--network", "host", "busybox", "hostname"])
        .ok();
    let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(out.stdout.trim(), host_name.trim());
}

#[test]
fn run_labels_show_in_inspect_and_ps() {
    let b = with_busybox();
    b.run(&[
        "create", "--name", "lab", "--label", "app=web", "-l", "tier", "-l", "k=v=w", "busybox",
        "true",
    ])
    .ok();
    assert_eq!(
        b.inspect("lab")["Config"]["Labels"],
        serde_json::json!({"app": "web", "k": "v=w", "tier": ""})
    );
    assert_eq!(
        b.run(&["ps", "-a", "--format", "{{.Labels}}"]).ok().stdout,
        "app=web,k=v=w,tier=\n"
    );
    assert_eq!(
        b.run(&["ps", "-a", "--format", "{{.Label \"app\"}}"])
            .ok()
            .stdout,
        "web\n"
    );
}

// ---------------------------------------------------------------------------------------------
// IDs and names

#[test]
fn ids_are_64_hex_and_unique_prefixes_find_containers() {
    let b = with_busybox();
    let mut ids = Vec::new();
    for _ in 0..19 {
        let out = b.run(&["create", "busybox", "true"]).ok();
        let id = out.stdout.trim().to_string();
        assert!(is_full_id(&id), "{out:?}");
        ids.push(id);
    }
    // The shortest unique prefix of every ID finds it.
    for id in &ids {
        let n = (1..=64)
            .find(|n| ids.iter().filter(|o| o.starts_with(&id[..*n])).count() == 1)
            .unwrap();
        let prefix = &id[..n];
        let out = b
            .run(&["container", "inspect", "-f", "{{.Id}}", prefix])
            .ok();
        assert_eq!(out.stdout.trim(), id, "prefix {prefix}");
    }
    // Full and short IDs in `rm`, which prints them as given.
    assert_eq!(b.run(&["rm", &ids[0]]).ok().stdout, format!("{}\n", ids[0]));
    assert_eq!(
        b.run(&["rm", &ids[1][..12]]).ok().stdout,
        format!("{}\n", &ids[1][..12])
    );
    let out = b.run(&["rm", &ids[0]]).fails(1);
    assert_eq!(
        out.stderr,
        format!(
            "Error response from daemon: No such container: {}\n",
            ids[0]
        )
    );
    // 17 IDs left over 16 hex digits: some first digit is shared, so that prefix is ambiguous.
    let left = &ids[2..];
    let ambiguous = (0..16)
        .map(|d| format!("{d:x}"))
        .find(|p| left.iter().filter(|i| i.starts_with(p.as_str())).count() > 1)
        .unwrap();
    let text = format!(
        "Error response from daemon: Multiple IDs found with provided prefix: {ambiguous}\n"
    );
    let out = b.run(&["rm", &ambiguous]).fails(1);
    assert_eq!(out.stderr, text);
    let out = b.run(&["start", &ambiguous]).fails(1);
    assert_eq!(
        out.stderr,
        format!("{text}Error: failed to start containers: {ambiguous}\n")
    );
    assert_eq!(
        b.run(&["ps", "-aq"]).ok().lines().len(),
        17,
        "nothing removed"
    );
    let out = b.run(&["container", "inspect", &ambiguous]).fails(1);
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("[]\n", text.as_str())
    );
}

#[test]
fn generated_names_are_adjective_surname() {
    let b = with_busybox();
    for _ in 0..6 {
        b.run(&["create", "busybox", "true"]).ok();
    }
    let names = b.run(&["ps", "-a", "--format", "{{.Names}}"]).ok();
    let re = Regex::new("^[a-z]+_[a-z]+[0-9]?$").unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for n in names.lines() {
        assert!(re.is_match(n), "{n}");
        assert!(seen.insert(n.to_string()), "duplicate name {n}");
        assert_eq!(b.inspect(n)["Name"], format!("/{n}"));
    }
    assert_eq!(seen.len(), 6);
}

#[test]
fn names_conflict_and_invalid_names_like_docker() {
    let b = with_busybox();
    let id = b.run(&["create", "--name", "web", "busybox", "true"]).ok();
    let id = id.stdout.trim();
    let conflict = format!(
        "Conflict. The container name \"/web\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name."
    );
    let out = b
        .run(&["run", "--name", "web", "busybox", "true"])
        .fails(125);
    assert_eq!(out.stderr, run_daemon_error(&conflict));
    let out = b
        .run(&["run", "--name", "/web", "busybox", "true"])
        .fails(125);
    assert_eq!(out.stderr, run_daemon_error(&conflict));
    let out = b
        .run(&["create", "--name", "web", "busybox", "true"])
        .fails(1);
    assert_eq!(
        out.stderr,
        format!("Error response from daemon: {conflict}\n")
    );
    // The name finds the container, with or without the slash.
    assert_eq!(
        b.run(&["container", "inspect", "-f", "{{.Name}}", "/web"])
            .ok()
            .stdout,
        "/web\n"
    );

    for bad in ["a b", "x", "x/y", "é", ".x"] {
        let text =
            format!("Invalid container name ({bad}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
        let out = b.run(&["run", "--name", bad, "busybox", "true"]).fails(125);
        assert_eq!(out.stderr, run_daemon_error(&text), "{bad}");
        let out = b
            .run(&["create", "--name", bad, "busybox", "true"])
            .fails(1);
        assert_eq!(out.stderr, format!("Error response from daemon: {text}\n"));
    }
    assert_eq!(b.run(&["ps", "-aq"]).ok().lines().len(), 1);
    // After rm the name is free again.
    b.run(&["rm", "web"]).ok();
    b.run(&["create", "--name", "web", "busybox", "true"]).ok();

    // docker's flag parser takes `-x` as the value of `--name`; the daemon then rejects it.
    let text = "Invalid container name (-x), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed";
    let out = b
        .run(&["run", "--name", "-x", "busybox", "true"])
        .fails(125);
    assert_eq!(out.stderr, run_daemon_error(text));
}

// ---------------------------------------------------------------------------------------------
// create, start, stop, kill, restart, wait, rm

#[test]
fn create_then_start_and_start_attached() {
    let b = with_busybox();
    let out = b
        .run(&[
            "create",
            "--name",
            "cc",
            "busybox",
            "sh",
            "-c",
            "echo hi; exit 2",
        ])
        .ok();
    assert!(is_full_id(out.stdout.trim()));
    assert_eq!(b.ps_status("cc").as_deref(), Some("Created"));
    assert_eq!(
        b.run(&["ps", "-q"]).ok().stdout,
        "",
        "created is not running"
    );
    let st = &b.inspect("cc")["State"];
    assert_eq!(st["Status"], "created");
    assert_eq!(st["StartedAt"], "0001-01-01T00:00:00Z");
    assert_eq!(st["FinishedAt"], "0001-01-01T00:00:00Z");
    assert_eq!(st["Pid"], 0);

    // `start` prints the name as given and returns; the container runs on its own.
    assert_eq!(b.run(&["start", "cc"]).ok().stdout, "cc\n");
    assert_eq!(b.run(&["wait", "cc"]).ok().stdout, "2\n");
    assert!(exited_status(2).is_match(&b.ps_status("cc").unwrap()));
    assert_eq!(b.run(&["logs", "cc"]).ok().stdout, "hi\n");
    // `start -a` runs it again, attached: output and exit code.
    let out = b.run(&["start", "-a", "cc"]).fails(2);
    assert_eq!(out.stdout, "hi\n");
    assert_eq!(b.run(&["logs", "cc"]).ok().stdout, "hi\nhi\n");
    // `create` records the attach settings of a foreground run, as docker's CLI does...
    b.run(&["create", "-i", "--name", "cat", "busybox", "cat"])
        .ok();
    let config = &b.inspect("cat")["Config"];
    assert_eq!(
        [
            &config["AttachStdin"],
            &config["AttachStdout"],
            &config["AttachStderr"]
        ],
        [true, true, true],
        "{config}"
    );
    assert_eq!(config["OpenStdin"], true);
    assert_eq!(config["StdinOnce"], true, "{config}");
    // ... so `start -a -i` feeds stdin and closes it at EOF: `cat` ends.
    let out = output_timeout(
        b.command(&["start", "-a", "-i", "cat"]),
        Some(b"piped in\n"),
        SOON,
    )
    .ok();
    assert_eq!(out.stdout, "piped in\n");

    let out = b.run(&["start", "nosuch"]).fails(1);
    assert_eq!(
        out.stderr,
        "Error response from daemon: No such container: nosuch\nError: failed to start containers: nosuch\n"
    );
}

#[test]
fn run_interactive_without_tty_pipes_stdin() {
    let b = with_busybox();
    let out = b
        .run_stdin(
            &["run", "-i", "busybox", "sh", "-c", "tr a-z A-Z; exit 6"],
            b"shout\n",
        )
        .fails(6);
    assert_eq!(out.stdout, "SHOUT\n");
    // Without -i the container's stdin is empty.
    let out = b.run_stdin(&["run", "busybox", "cat"], b"ignored\n").ok();
    assert_eq!(out.stdout, "");
    // -t without a terminal on stdin.
    let out = b.run(&["run", "-it", "busybox", "true"]).fails(1);
    assert_eq!(out.stderr, "the input device is not a TTY\n");
    assert_eq!(
        b.run(&["ps", "-aq"]).ok().lines().len(),
        2,
        "nothing created"
    );
    // ... but with -d nothing is attached, so no terminal is needed (scripts do this).
    let id = b.run_d(&["-it", "--name", "dit", "busybox", "sh"]);
    assert_eq!(b.status_of("dit"), "running");
    let i = b.inspect("dit");
    assert_eq!(i["Config"]["Tty"], true);
    assert_eq!(i["Config"]["OpenStdin"], true);
    assert_eq!(i["Config"]["AttachStdin"], false);
    assert_eq!(
        b.run(&["exec", "dit", "sh", "-c", "[ -t 0 ] && echo tty"])
            .fails(1)
            .stdout,
        "",
        "exec without -t has no tty"
    );
    b.run(&["rm", "-f", &id]).ok();
}

#[test]
fn stop_with_timeout_kills_and_stop_of_a_cooperative_container_is_quick() {
    let b = with_busybox();
    // `sleep` as pid 1 ignores SIGTERM: `stop -t 1` waits a second, then kills (137).
    b.run_d(&["--name", "stubborn", "busybox", "sleep", "1000"]);
    let t = Instant::now();
    assert_eq!(
        b.run(&["stop", "-t", "1", "stubborn"]).ok().stdout,
        "stubborn\n"
    );
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "stop -t 1 took {took:?}"
    );
    assert!(took < Duration::from_secs(30), "stop -t 1 took {took:?}");
    let st = &b.inspect("stubborn")["State"];
    assert_eq!(st["Status"], "exited");
    assert_eq!(st["ExitCode"], 137);
    assert_eq!(st["Pid"], 0);
    assert_ne!(st["FinishedAt"], "0001-01-01T00:00:00Z");
    assert!(exited_status(137).is_match(&b.ps_status("stubborn").unwrap()));
    let id = b.id_of("stubborn");
    assert_eq!(
        b.mounts_of(&id),
        Vec::<String>::new(),
        "stop unmounts the rootfs"
    );

    // A container that exits on SIGTERM stops at once with its own code.
    b.run_d(&[
        "--name",
        "polite",
        "busybox",
        "sh",
        "-c",
        "trap 'exit 0' TERM; while true; do sleep 0.1; done",
    ]);
    let t = Instant::now();
    b.run(&["stop", "--time", "60", "polite"]).ok();
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    assert_eq!(b.inspect("polite")["State"]["ExitCode"], 0);

    // Stopping what is not running succeeds quietly, as Docker does; unknown names fail.
    assert_eq!(b.run(&["stop", "polite"]).ok().stdout, "polite\n");
    b.run(&["create", "--name", "fresh", "busybox", "true"])
        .ok();
    assert_eq!(b.run(&["stop", "fresh"]).ok().stdout, "fresh\n");
    let out = b.run(&["stop", "nosuch", "polite"]).fails(1);
    assert_eq!(out.stdout, "polite\n");
    assert_eq!(
        out.stderr,
        "Error response from daemon: No such container: nosuch\n"
    );
}

#[test]
fn kill_sends_the_named_signal() {
    let b = with_busybox();
    let trap =
        |sig: &str, code: u8| format!("trap 'exit {code}' {sig}; while true; do sleep 0.1; done");
    for (name, spec, trapped, code) in [
        ("k1", "USR1", "USR1", 42),
        ("k2", "SIGUSR2", "USR2", 43),
        ("k3", "10", "USR1", 44),
        ("k4", "hup", "HUP", 45),
    ] {
        b.run_d(&["--name", name, "busybox", "sh", "-c", &trap(trapped, code)]);
        // The trap is set once the shell runs its loop: give it a moment by checking `ps` in
        // the container (the loop's sleep shows up).
        wait_for("the trap to be set", SOON, || {
            b.run(&["exec", name, "ps"]).stdout.contains("sleep")
        });
        assert_eq!(
            b.run(&["kill", "-s", spec, name]).ok().stdout,
            format!("{name}\n")
        );
        assert_eq!(
            b.run(&["wait", name]).ok().stdout,
            format!("{code}\n"),
            "{spec}"
        );
    }
    // Default signal: KILL.
    b.run_d(&["--name", "k5", "busybox", "sleep", "1000"]);
    assert_eq!(b.run(&["kill", "k5"]).ok().stdout, "k5\n");
    assert_eq!(b.run(&["wait", "k5"]).ok().stdout, "137\n");
    let id = b.id_of("k5");
    let out = b.run(&["kill", "k5"]).fails(1);
    assert_eq!(
        out.stderr,
        format!("Error response from daemon: Cannot kill container: k5: Container {id} is not running\n")
    );
    b.run_d(&["--name", "k6", "busybox", "sleep", "1000"]);
    let out = b.run(&["kill", "-s", "BOGUS", "k6"]).fails(1);
    assert_eq!(
        out.stderr,
        "Error response from daemon: Invalid signal: BOGUS\n"
    );
    assert_eq!(b.status_of("k6"), "running");
}

#[test]
fn restart_runs_the_container_again() {
    let b = with_busybox();
    b.run_d(&[
        "--name",
        "rs",
        "busybox",
        "sh",
        "-c",
        "echo run; sleep 1000",
    ]);
    wait_for("first output", SOON, || {
        b.run(&["logs", "rs"]).stdout == "run\n"
    });
    let before = b.inspect("rs");
    let t = Instant::now();
    assert_eq!(b.run(&["restart", "-t", "1", "rs"]).ok().stdout, "rs\n");
    assert!(t.elapsed() < Duration::from_secs(60));
    let after = b.inspect("rs");
    assert_eq!(after["State"]["Status"], "running");
    assert_ne!(after["State"]["Pid"], before["State"]["Pid"]);
    assert_ne!(after["State"]["StartedAt"], before["State"]["StartedAt"]);
    assert!(process_gone(before["State"]["Pid"].as_i64().unwrap()));
    wait_for("second output", SOON, || {
        b.run(&["logs", "rs"]).stdout == "run\nrun\n"
    });
    // Restart of an exited container starts it.
    b.run(&["stop", "-t", "0", "rs"]).ok();
    b.run(&["restart", "rs"]).ok();
    assert_eq!(b.status_of("rs"), "running");
    let out = b.run(&["restart", "nosuch"]).fails(1);
    assert_eq!(
        out.stderr,
        "Error response from daemon: No such container: nosuch\n"
    );
    // Docker counts only restarts by a restart policy.
    assert_eq!(after["RestartCount"], 0);
}

#[test]
fn wait_prints_exit_codes_and_blocks_until_exit() {
    let b = with_busybox();
    b.run(&["run", "--name", "w3", "busybox", "sh", "-c", "exit 3"])
        .fails(3);
    b.run(&["run", "--name", "w0", "busybox", "true"]).ok();
    assert_eq!(b.run(&["wait", "w3", "w0"]).ok().stdout, "3\n0\n");
    let out = b.run(&["wait", "nosuch"]).fails(1);
    assert_eq!(
        out.stderr,
        "Error response from daemon: No such container: nosuch\n"
    );

    b.run_d(&[
        "--name",
        "later",
        "busybox",
        "sh",
        "-c",
        "while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 9",
    ]);
    let mut w = b.spawn(&["wait", "later"]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(w.running(), "wait returned early: {:?}", w.stdout());
    b.run(&["exec", "later", "touch", "/tmp/go"]).ok();
    let out = w.wait(SOON);
    assert_eq!((out.code, out.stdout.as_str()), (0, "9\n"), "{out:?}");
}

#[test]
fn rm_of_a_running_container_is_refused_and_rm_f_works() {
    let b = with_busybox();
    let id = b.run_d(&["--name", "busy", "busybox", "sleep", "1000"]);
    let pid = b.inspect("busy")["State"]["Pid"].as_i64().unwrap();
    let out = b.run(&["rm", "busy"]).fails(1);
    assert_eq!(
        out.stderr,
        format!("Error response from daemon: You cannot remove a running container {id}. Stop the container before attempting removal or force remove\n")
    );
    assert_eq!(b.status_of("busy"), "running");
    assert_eq!(b.run(&["rm", "-f", "busy"]).ok().stdout, "busy\n");
    assert!(process_gone(pid), "rm -f left the process running");
    assert_eq!(b.ps_status("busy"), None);
    assert_eq!(b.mounts_of(&id), Vec::<String>::new());
    assert!(!b.root().join("containers").join(&id).exists());
    // Several at once: each name printed, errors reported, exit 1.
    b.run(&["create", "--name", "one", "busybox", "true"]).ok();
    b.run(&["create", "--name", "two", "busybox", "true"]).ok();
    let out = b.run(&["rm", "one", "nosuch", "two"]).fails(1);
    assert_eq!(out.stdout, "one\ntwo\n");
    assert_eq!(
        out.stderr,
        "Error response from daemon: No such container: nosuch\n"
    );
}

#[test]
fn container_prune_removes_stopped_containers_only() {
    let b = with_busybox();
    let c = b.run(&["create", "--name", "made", "busybox", "true"]).ok();
    let created = c.stdout.trim().to_string();
    b.run(&[
        "run",
        "--name",
        "big",
        "busybox",
        "dd",
        "if=/dev/zero",
        "of=/big",
        "bs=1000",
        "count=1000",
    ])
    .ok();
    let big = b.id_of("big");
    let running = b.run_d(&["--name", "up", "busybox", "sleep", "1000"]);
    let out = b.run(&["container", "prune", "-f"]).ok();
    let lines = out.lines();
    assert_eq!(lines.len(), 5, "{out:?}");
    assert_eq!(lines[0], "Deleted Containers:");
    let mut deleted = lines[1..3].to_vec();
    deleted.sort();
    let mut want = [big.as_str(), created.as_str()];
    want.sort();
    assert_eq!(deleted, want);
    assert_eq!(lines[3..], ["", "Total reclaimed space: 1MB"]);
    assert_eq!(
        b.ps_all().into_iter().map(|(n, _)| n).collect::<Vec<_>>(),
        ["up"]
    );
    assert!(!b.root().join("layers").join(&big).exists());
    assert_eq!(
        b.run(&["container", "prune", "--force"]).ok().stdout,
        "Total reclaimed space: 0B\n"
    );
    assert_eq!(b.status_of(&running), "running");
    // Docker lists them newest first.
    assert_eq!(lines[1..3], [big.as_str(), created.as_str()], "{out:?}");
}

// ---------------------------------------------------------------------------------------------
// ps

/// Four containers, oldest first: `c1` created (labels app=web, tier), `e0` exited 0, `r1`
/// running (app=web), `e3` exited 3 (app=db).
fn ps_fixture() -> Berth {
    let b = with_busybox();
    b.run(&[
        "create", "--name", "c1", "--label", "app=web", "--label", "tier", "busybox", "true",
    ])
    .ok();
    b.run(&["run", "--name", "e0", "busybox", "true"]).ok();
    b.run_d(&[
        "--name", "r1", "--label", "app=web", "busybox", "sleep", "1000",
    ]);
    b.run(&[
        "run", "--name", "e3", "--label", "app=db", "busybox", "sh", "-c", "exit 3",
    ])
    .fails(3);
    b
}

fn names(out: &Run) -> Vec<&str> {
    out.stdout.lines().collect()
}

#[test]
fn ps_table_and_flags() {
    let b = ps_fixture();
    let ids: Vec<String> = ["e3", "r1", "e0", "c1"]
        .iter()
        .map(|n| b.id_of(n))
        .collect();
    let short: Vec<&str> = ids.iter().map(|i| &i[..12]).collect();

    let out = b.run(&["ps"]).ok();
    let lines = out.lines();
    assert_eq!(lines.len(), 2, "{out:?}");
    let columns: Vec<&str> = Regex::new(" {2,}").unwrap().split(lines[0]).collect();
    assert_eq!(
        columns,
        [
            "CONTAINER ID",
            "IMAGE",
            "COMMAND",
            "CREATED",
            "STATUS",
            "PORTS",
            "NAMES"
        ]
    );
    let row = Regex::new(&format!(
        r#"^{}   busybox   "sleep 1000"   .+ ago +Up {SINCE} +r1$"#,
        short[1]
    ))
    .unwrap();
    assert!(row.is_match(lines[1]), "{:?}", lines[1]);
    // Columns line up under the header.
    let col = |l: &str, word: &str| l.find(word).unwrap();
    assert_eq!(col(lines[0], "STATUS"), col(lines[1], "Up "));
    assert_eq!(col(lines[0], "NAMES"), col(lines[1], "r1"));

    let out = b.run(&["ps", "-a"]).ok();
    let lines = out.lines();
    assert_eq!(lines.len(), 5, "{out:?}");
    for (line, (id, name)) in lines[1..]
        .iter()
        .zip(short.iter().zip(["e3", "r1", "e0", "c1"]))
    {
        assert!(line.starts_with(id) && line.ends_with(name), "{line:?}");
    }
    assert!(lines[1].contains(r#""sh -c 'exit 3'""#), "{:?}", lines[1]);
    assert!(Regex::new(&format!("Exited \\(3\\) {SINCE} ago"))
        .unwrap()
        .is_match(lines[1]));
    assert!(lines[4].contains("   Created   "), "{:?}", lines[4]);

    assert_eq!(b.run(&["ps", "-q"]).ok().stdout, format!("{}\n", short[1]));
    assert_eq!(b.run(&["ps", "-aq"]).ok().stdout, short.join("\n") + "\n");
    assert_eq!(
        b.run(&["ps", "-a", "-q", "--no-trunc"]).ok().stdout,
        ids.join("\n") + "\n"
    );
    // -n and -l include every state.
    assert_eq!(
        b.run(&["ps", "-n", "2", "-q"]).ok().stdout,
        format!("{}\n{}\n", short[0], short[1])
    );
    assert_eq!(
        b.run(&["ps", "--last", "3", "--format", "{{.Names}}"])
            .ok()
            .stdout,
        "e3\nr1\ne0\n"
    );
    assert_eq!(
        b.run(&["ps", "-l", "-q"]).ok().stdout,
        format!("{}\n", short[0])
    );
    assert_eq!(
        b.run(&["ps", "--latest", "--format", "{{.Names}}"])
            .ok()
            .stdout,
        "e3\n"
    );
    // -q and --format: docker's warning, IDs printed.
    let out = b.run(&["ps", "-q", "--format", "{{.Names}}"]).ok();
    assert_eq!(out.stdout, format!("{}\n", short[1]));
    assert_eq!(
        out.stderr,
        "WARNING: Ignoring custom format, because both --format and --quiet are set.\n"
    );
}

#[test]
fn ps_filters() {
    let b = ps_fixture();
    let r1 = b.id_of("r1");
    let cases: &[(&[&str], &[&str])] = &[
        (&["-a", "--filter", "status=exited"], &["e3", "e0"]),
        (&["--filter", "status=exited"], &["e3", "e0"]),
        (&["-f", "status=created"], &["c1"]),
        (&["-a", "-f", "status=running"], &["r1"]),
        (
            &["-a", "-f", "status=exited", "-f", "status=created"],
            &["e3", "e0", "c1"],
        ),
        (&["-a", "-f", "name=e"], &["e3", "e0"]),
        (&["-a", "-f", "name=^e3$"], &["e3"]),
        (&["-a", "-f", "name=1"], &["r1", "c1"]),
        (&["-a", "-f", "label=app"], &["e3", "r1", "c1"]),
        (&["-a", "-f", "label=app=web"], &["r1", "c1"]),
        (&["-a", "-f", "label=tier"], &["c1"]),
        (&["-a", "-f", "label=app=web", "-f", "label=tier"], &["c1"]),
        (&["-a", "-f", "exited=3"], &["e3"]),
        (&["-a", "-f", "exited=0"], &["e0"]),
        (&["-a", "-f", "ancestor=busybox"], &["e3", "r1", "e0", "c1"]),
        (
            &["-a", "-f", "ancestor=busybox:latest"],
            &["e3", "r1", "e0", "c1"],
        ),
        (&["-a", "-f", "status=exited", "-f", "label=app"], &["e3"]),
    ];
    for (args, want) in cases {
        let mut all = vec!["ps"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--format", "{{.Names}}"]);
        let out = b.run(&all).ok();
        assert_eq!(names(&out), *want, "{args:?}");
    }
    for prefix in [&r1[..5], &r1[..12], r1.as_str()] {
        let out = b
            .run(&[
                "ps",
                "-a",
                "-f",
                &format!("id={prefix}"),
                "--format",
                "{{.Names}}",
            ])
            .ok();
        assert_eq!(names(&out), ["r1"], "id={prefix}");
    }
    let image_id = b.inspect("r1")["Image"].as_str().unwrap().to_string();
    let out = b
        .run(&[
            "ps",
            "-a",
            "-f",
            &format!("ancestor={}", &image_id[7..19]),
            "--format",
            "{{.Names}}",
        ])
        .ok();
    assert_eq!(names(&out).len(), 4, "ancestor by image ID: {out:?}");

    let out = b.run(&["ps", "--filter", "status=bogus"]).fails(1);
    assert_eq!(
        out.stderr,
        "Error response from daemon: Invalid filter 'status=bogus'\n"
    );
    let out = b.run(&["ps", "--filter", "foo=bar"]).fails(1);
    assert_eq!(
        out.stderr,
        "Error response from daemon: Invalid filter 'foo'\n"
    );
    let out = b.run(&["ps", "--filter", "exited=x"]).fails(1);
    assert_eq!(
        out.stderr,
        "Error response from daemon: strconv.Atoi: parsing \"x\": invalid syntax\n"
    );
}

#[test]
fn ps_format_no_trunc_and_status_wording() {
    let b = ps_fixture();
    let out = b
        .run(&[
            "ps",
            "-a",
            "--format",
            "table {{.Names}}\t{{.Status}}\t{{.Label \"app\"}}",
        ])
        .ok();
    let lines = out.lines();
    assert!(
        Regex::new(r"^NAMES +STATUS +app$")
            .unwrap()
            .is_match(lines[0]),
        "{out:?}"
    );
    let status: Vec<(&str, &str)> = lines[1..]
        .iter()
        .map(|l| {
            let cols: Vec<&str> = Regex::new(" {3,}").unwrap().split(l.trim_end()).collect();
            (cols[0], cols[1])
        })
        .collect();
    assert_eq!(status[0].0, "e3");
    assert!(exited_status(3).is_match(status[0].1), "{status:?}");
    assert!(up_status().is_match(status[1].1), "{status:?}");
    assert!(exited_status(0).is_match(status[2].1), "{status:?}");
    assert_eq!(status[3], ("c1", "Created"));
    assert!(
        lines[2].ends_with("web") && lines[1].ends_with("db"),
        "{out:?}"
    );

    let out = b
        .run(&[
            "ps",
            "-a",
            "--format",
            "{{.ID}} {{.State}} {{.Image}} {{.Command}}",
        ])
        .ok();
    let r1 = b.id_of("r1");
    assert_eq!(
        out.lines()[1],
        format!("{} running busybox \"sleep 1000\"", &r1[..12])
    );
    assert_eq!(out.lines()[3].split(' ').nth(1), Some("created"));
    assert_eq!(out.lines()[0].split(' ').nth(1), Some("exited"));

    // json: one object per line with docker's keys.
    let out = b.run(&["ps", "--format", "json"]).ok();
    let v: serde_json::Value = serde_json::from_str(out.lines()[0]).unwrap();
    for key in [
        "Command",
        "CreatedAt",
        "ID",
        "Image",
        "Labels",
        "LocalVolumes",
        "Mounts",
        "Names",
        "Ports",
        "RunningFor",
        "State",
        "Status",
    ] {
        assert!(v.get(key).is_some(), "{key} missing in {v}");
    }
    assert_eq!(v["Names"], "r1");
    assert_eq!(v["State"], "running");
    assert_eq!(v["Labels"], "app=web");
    assert_eq!(v["Command"], "\"sleep 1000\"");
    assert!(
        Regex::new(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4} \w+$")
            .unwrap()
            .is_match(v["CreatedAt"].as_str().unwrap()),
        "{v}"
    );

    // Commands are cut at 20 characters with an ellipsis, IDs at 12; --no-trunc shows both.
    let long = "while false; do echo aaaaaaaaaaaaaaaaa; done";
    b.run(&["run", "--name", "lc", "busybox", "sh", "-c", long])
        .ok();
    let lc = b.id_of("lc");
    assert_eq!(
        b.run(&["ps", "-l", "--format", "{{.ID}} {{.Command}}"])
            .ok()
            .stdout,
        format!("{} \"sh -c 'while false;…\"\n", &lc[..12])
    );
    assert_eq!(
        b.run(&["ps", "-l", "--no-trunc", "--format", "{{.ID}} {{.Command}}"])
            .ok()
            .stdout,
        format!("{lc} \"sh -c '{long}'\"\n")
    );
    let out = b.run(&["ps", "-l", "--no-trunc"]).ok();
    assert!(out.lines()[1].starts_with(&lc), "{out:?}");
    assert!(
        out.lines()[1].contains(&format!("\"sh -c '{long}'\"")),
        "{out:?}"
    );

    // docker's json prints every field, so it asks for the sizes (`Size` as with `-s`), and
    // names the networks (here `bridge`, the default network); `Platform` is null.
    assert_eq!(
        (&v["Size"], &v["Networks"], &v["Platform"]),
        (
            &serde_json::json!("0B (virtual 1.98MB)"),
            &serde_json::json!("bridge"),
            &serde_json::Value::Null
        ),
        "{v}"
    );
}

#[test]
fn ps_size() {
    let b = with_busybox();
    b.run(&["create", "--name", "clean", "busybox", "true"])
        .ok();
    b.run(&[
        "run",
        "--name",
        "big",
        "busybox",
        "dd",
        "if=/dev/zero",
        "of=/big",
        "bs=1000",
        "count=1000",
    ])
    .ok();
    let out = b.run(&["ps", "-as"]).ok();
    let lines = out.lines();
    assert!(lines[0].ends_with("   NAMES     SIZE"), "{out:?}");
    let size = Regex::new(r"(\S+) \(virtual (\S+)\)$").unwrap();
    let big = size.captures(lines[1]).unwrap_or_else(|| panic!("{out:?}"));
    let clean = size.captures(lines[2]).unwrap_or_else(|| panic!("{out:?}"));
    assert_eq!(&big[1], "1MB");
    assert_eq!(&clean[1], "0B");
    // Virtual = the image (~1.98MB for this busybox) + the writable layer.
    let image_size: f64 = clean[2].trim_end_matches("MB").parse().unwrap();
    let big_virtual: f64 = big[2].trim_end_matches("MB").parse().unwrap();
    assert!((big_virtual - image_size - 1.0).abs() < 0.015, "{out:?}");
    // `{{.Size}}` in a format asks for sizes without -s, as docker's CLI does.
    assert_eq!(
        b.run(&["ps", "-a", "--format", "{{.Names}} {{.Size}}"])
            .ok()
            .stdout,
        format!(
            "big {} (virtual {})\nclean 0B (virtual {})\n",
            "1MB", &big[2], &clean[2]
        )
    );
}

// ---------------------------------------------------------------------------------------------
// inspect

#[test]
fn inspect_has_dockers_fields_and_state_values() {
    let b = ps_fixture();
    let e3 = b.inspect("e3");
    let keys: Vec<&str> = e3.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    for k in [
        "Id",
        "Created",
        "Path",
        "Args",
        "State",
        "Image",
        "ResolvConfPath",
        "HostnamePath",
        "HostsPath",
        "LogPath",
        "Name",
        "RestartCount",
        "Driver",
        "Platform",
        "MountLabel",
        "ProcessLabel",
        "AppArmorProfile",
        "ExecIDs",
        "HostConfig",
        "GraphDriver",
        "Mounts",
        "Config",
        "NetworkSettings",
    ] {
        assert!(keys.contains(&k), "{k} missing: {keys:?}");
    }
    assert!(is_full_id(e3["Id"].as_str().unwrap()));
    assert_eq!(e3["Name"], "/e3");
    assert_eq!(e3["Path"], "sh");
    assert_eq!(e3["Args"], serde_json::json!(["-c", "exit 3"]));
    assert_eq!(e3["Mounts"], serde_json::json!([]));
    assert_eq!(e3["Platform"], "linux");
    let time = Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$").unwrap();
    assert!(
        time.is_match(e3["Created"].as_str().unwrap()),
        "{}",
        e3["Created"]
    );
    let image = b
        .run(&["image", "inspect", "-f", "{{.Id}}", "busybox"])
        .ok();
    assert_eq!(e3["Image"], image.stdout.trim());
    assert_eq!(e3["Config"]["Image"], "busybox");
    assert_eq!(
        e3["Config"]["Cmd"],
        serde_json::json!(["sh", "-c", "exit 3"])
    );
    assert_eq!(e3["Config"]["Labels"], serde_json::json!({"app": "db"}));
    assert_eq!(e3["HostConfig"]["AutoRemove"], false);
    assert_eq!(e3["HostConfig"]["ReadonlyRootfs"], false);
    let log = e3["LogPath"].as_str().unwrap();
    let id = e3["Id"].as_str().unwrap();
    assert!(log.ends_with(&format!("/{id}/{id}-json.log")), "{log}");

    let state_keys: Vec<&str> = e3["State"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        state_keys,
        [
            "Status",
            "Running",
            "Paused",
            "Restarting",
            "OOMKilled",
            "Dead",
            "Pid",
            "ExitCode",
            "Error",
            "StartedAt",
            "FinishedAt"
        ]
    );
    let s = &e3["State"];
    assert_eq!(
        (
            s["Status"].as_str(),
            s["Running"].as_bool(),
            s["Pid"].as_i64(),
            s["ExitCode"].as_i64()
        ),
        (Some("exited"), Some(false), Some(0), Some(3))
    );
    assert_eq!(s["Error"], "");
    assert!(time.is_match(s["StartedAt"].as_str().unwrap()), "{s}");
    assert!(time.is_match(s["FinishedAt"].as_str().unwrap()), "{s}");
    assert!(s["FinishedAt"].as_str() >= s["StartedAt"].as_str(), "{s}");

    let r = &b.inspect("r1")["State"];
    assert_eq!(r["Status"], "running");
    assert_eq!(r["Running"], true);
    assert!(r["Pid"].as_i64().unwrap() > 0);
    assert_eq!(r["FinishedAt"], "0001-01-01T00:00:00Z");
    let c = &b.inspect("c1")["State"];
    assert_eq!(c["Status"], "created");
    assert_eq!(c["StartedAt"], "0001-01-01T00:00:00Z");

    // GraphDriver: the writable layer over the init layer over the image.
    let gd = &e3["GraphDriver"];
    assert_eq!(gd["Name"], "overlay2");
    let layers = b.root().join("layers");
    let data = &gd["Data"];
    assert_eq!(
        data["UpperDir"],
        layers.join(id).join("diff").to_str().unwrap()
    );
    assert_eq!(
        data["WorkDir"],
        layers.join(id).join("work").to_str().unwrap()
    );
    assert_eq!(
        data["MergedDir"],
        layers.join(id).join("merged").to_str().unwrap()
    );
    let lower: Vec<&str> = data["LowerDir"].as_str().unwrap().split(':').collect();
    assert_eq!(lower.len(), 2, "init layer + one image layer: {lower:?}");
    assert!(std::path::Path::new(lower[1]).join("bin/busybox").exists());
    // The init layer (shared by the containers on the image's top layer) first, as Docker's
    // `<id>-init/diff`.
    let image_layer = std::path::Path::new(lower[1]).parent().unwrap();
    assert_eq!(
        lower[0],
        layers
            .join(format!(
                "{}-init",
                image_layer.file_name().unwrap().to_str().unwrap()
            ))
            .join("diff")
            .to_str()
            .unwrap()
    );
    assert!(std::path::Path::new(lower[0]).join(".dockerenv").exists());

    // -f templates.
    assert_eq!(
        b.run(&[
            "container",
            "inspect",
            "-f",
            "{{.State.Status}} {{.State.ExitCode}}",
            "e3",
            "r1"
        ])
        .ok()
        .stdout,
        "exited 3\nrunning 0\n"
    );
    // The generic inspect finds containers too.
    assert_eq!(
        b.run(&["inspect", "--format", "{{.Name}}", "e3"])
            .ok()
            .stdout,
        "/e3\n"
    );
    assert_eq!(
        b.run(&["inspect", "--type", "container", "-f", "{{.Name}}", "c1"])
            .ok()
            .stdout,
        "/c1\n"
    );
}

#[test]
fn inspect_size_and_missing_containers() {
    let b = with_busybox();
    b.run(&[
        "run",
        "--name",
        "big",
        "busybox",
        "dd",
        "if=/dev/zero",
        "of=/big",
        "bs=1000",
        "count=1000",
    ])
    .ok();
    let plain = b.inspect("big");
    assert!(plain.get("SizeRw").is_none(), "SizeRw only with --size");
    assert!(plain.get("SizeRootFs").is_none());
    let out = b.run(&["container", "inspect", "--size", "big"]).ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let rw = v[0]["SizeRw"].as_i64().unwrap();
    let total = v[0]["SizeRootFs"].as_i64().unwrap();
    assert_eq!(rw, 1_000_000);
    assert!(total > rw + 1_900_000 && total < rw + 2_100_000, "{total}");
    assert_eq!(
        b.run(&["container", "inspect", "-s", "-f", "{{.SizeRw}}", "big"])
            .ok()
            .stdout,
        "1000000\n"
    );

    let out = b.run(&["container", "inspect", "nosuch"]).fails(1);
    assert_eq!(out.stdout, "[]\n");
    assert_eq!(
        out.stderr,
        "Error response from daemon: No such container: nosuch\n"
    );
    let out = b.run(&["inspect", "nosuch"]).fails(1);
    assert_eq!(out.stdout, "[]\n");
    assert_eq!(out.stderr, "Error: No such object: nosuch\n");
    // One found, one not: the found one printed, exit 1.
    let out = b
        .run(&["container", "inspect", "-f", "{{.Name}}", "big", "nosuch"])
        .fails(1);
    assert_eq!(out.stdout, "/big\n");
}

// ---------------------------------------------------------------------------------------------
// logs

#[test]
fn logs_tail_timestamps_since() {
    let b = with_busybox();
    b.run(&[
        "run",
        "--name",
        "lg",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3 4 5; do echo line$i; done; echo err >&2",
    ])
    .ok();
    let all = b.run(&["logs", "lg"]).ok();
    assert_eq!(all.stdout, "line1\nline2\nline3\nline4\nline5\n");
    assert_eq!(all.stderr, "err\n");
    // --tail counts entries of both streams.
    let out = b.run(&["logs", "--tail", "2", "lg"]).ok();
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("line5\n", "err\n")
    );
    let out = b.run(&["logs", "-n", "0", "lg"]).ok();
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
    let out = b.run(&["logs", "--tail", "all", "lg"]).ok();
    assert_eq!(out.stdout, all.stdout);

    let out = b.run(&["logs", "-t", "lg"]).ok();
    let ts = Regex::new(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (line\d)$").unwrap();
    let stamps: Vec<String> = out
        .lines()
        .iter()
        .map(|l| {
            let c = ts.captures(l).unwrap_or_else(|| panic!("{l:?}"));
            c[1].to_string()
        })
        .collect();
    assert_eq!(stamps.len(), 5);
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "{stamps:?}");
    assert!(
        Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z err\n$")
            .unwrap()
            .is_match(&out.stderr),
        "{out:?}"
    );

    // --since: inclusive, at full precision; relative durations; the future shows nothing.
    if stamps[1] < stamps[2] {
        let out = b.run(&["logs", "--since", &stamps[2], "lg"]).ok();
        assert_eq!(out.stdout, "line3\nline4\nline5\n");
    }
    let out = b.run(&["logs", "--since", "1h", "lg"]).ok();
    assert_eq!(out.stdout, all.stdout);
    let out = b
        .run(&["logs", "--since", "2099-01-01T00:00:00Z", "lg"])
        .ok();
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));

    let out = b.run(&["logs", "nosuch"]).fails(1);
    assert_eq!(
        out.stderr,
        "Error response from daemon: No such container: nosuch\n"
    );
}

#[test]
fn logs_follow_stops_when_the_container_stops() {
    let b = with_busybox();
    b.run_d(&[
        "--name",
        "fl",
        "busybox",
        "sh",
        "-c",
        "echo first; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo last",
    ]);
    let mut f = b.spawn(&["logs", "-f", "fl"]);
    f.wait_stdout("first\n", SOON);
    assert!(f.running(), "logs -f ended while the container runs");
    b.run(&["exec", "fl", "touch", "/tmp/go"]).ok();
    let out = f.wait(SOON);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (0, "first\nlast\n"),
        "{out:?}"
    );

    // -f on a stopped container prints everything and returns.
    let out = b.run(&["logs", "--follow", "fl"]).ok();
    assert_eq!(out.stdout, "first\nlast\n");

    // -f with --tail 0 on a running container sees only new lines; `stop` ends it.
    b.run_d(&[
        "--name",
        "ticker",
        "busybox",
        "sh",
        "-c",
        "echo old; while [ ! -e /tmp/go ]; do sleep 0.1; done; while true; do echo new; sleep 0.2; done",
    ]);
    wait_for("old output", SOON, || {
        b.run(&["logs", "ticker"]).stdout == "old\n"
    });
    let mut f = b.spawn(&["logs", "-f", "--tail", "0", "ticker"]);
    b.run(&["exec", "ticker", "touch", "/tmp/go"]).ok();
    f.wait_stdout("new\n", SOON);
    b.run(&["stop", "-t", "1", "ticker"]).ok();
    let out = f.wait(SOON);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.lines().all(|l| l == "new"),
        "only new lines: {out:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// exec

#[test]
fn exec_env_workdir_user_and_exit_code() {
    let b = with_busybox();
    let id = b.run_d(&["--name", "ex", "busybox", "sleep", "1000"]);
    assert_eq!(
        b.run(&["exec", "-e", "FOO=bar", "ex", "sh", "-c", "echo $FOO"])
            .ok()
            .stdout,
        "bar\n"
    );
    assert_eq!(
        b.run(&["exec", "-w", "/tmp", "ex", "pwd"]).ok().stdout,
        "/tmp\n"
    );
    assert_eq!(
        b.run(&["exec", "-u", "nobody", "ex", "id"]).ok().stdout,
        "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n"
    );
    assert_eq!(
        b.run(&["exec", "--user", "1000:2000", "ex", "id"])
            .ok()
            .stdout,
        "uid=1000 gid=2000 groups=2000\n"
    );
    let out = b
        .run(&["exec", "ex", "sh", "-c", "echo out; echo err >&2; exit 7"])
        .fails(7);
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("out\n", "err\n")
    );
    // Exec sees the container's environment and filesystem.
    b.run(&["exec", "ex", "sh", "-c", "echo shared > /tmp/f"])
        .ok();
    assert_eq!(
        b.run(&["exec", "ex", "cat", "/tmp/f"]).ok().stdout,
        "shared\n"
    );
    assert_eq!(
        b.run(&["exec", "ex", "hostname"]).ok().stdout,
        format!("{}\n", &id[..12])
    );
    // stdin with -i.
    let out = b
        .run_stdin(&["exec", "-i", "ex", "cat"], b"via stdin\n")
        .ok();
    assert_eq!(out.stdout, "via stdin\n");
    // -d returns at once.
    b.run(&[
        "exec",
        "-d",
        "ex",
        "sh",
        "-c",
        "sleep 0.5; touch /tmp/detached",
    ])
    .ok();
    wait_for("the detached exec", SOON, || {
        b.run(&["exec", "ex", "ls", "/tmp/detached"]).code == 0
    });
    // -d -t: the process gets a terminal of its own and outlives the CLI.
    let out = b
        .run(&[
            "exec",
            "-dt",
            "ex",
            "sh",
            "-c",
            "tty > /tmp/dtty; exec sleep 1234",
        ])
        .ok();
    assert_eq!(out.stdout, "");
    wait_for("the detached exec with a tty", SOON, || {
        b.run(&["exec", "ex", "cat", "/tmp/dtty"])
            .stdout
            .starts_with("/dev/pts/")
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        b.run(&["exec", "ex", "ps"])
            .ok()
            .stdout
            .contains("sleep 1234"),
        "the detached process's terminal was not hung up"
    );

    // A missing command: docker 20.10 reports it with 126.
    let out = b.run(&["exec", "ex", "nosuch"]).fails(126);
    // Docker prints the runtime's refusal on stdout.
    assert!(
        out.stdout
            .contains("exec: \"nosuch\": executable file not found in $PATH"),
        "{out:?}"
    );
    assert_eq!(
        b.status_of("ex"),
        "running",
        "a failed exec leaves the container alone"
    );
}

#[test]
fn exec_in_a_stopped_or_created_container_fails() {
    let b = with_busybox();
    b.run(&["run", "--name", "done", "busybox", "true"]).ok();
    let id = b.id_of("done");
    let out = b.run(&["exec", "done", "true"]).fails(1);
    assert_eq!(
        out.stderr,
        format!("Error response from daemon: Container {id} is not running\n")
    );
    let c = b.run(&["create", "--name", "new", "busybox", "true"]).ok();
    let out = b.run(&["exec", "new", "true"]).fails(1);
    assert_eq!(
        out.stderr,
        format!(
            "Error response from daemon: Container {} is not running\n",
            c.stdout.trim()
        )
    );
    let out = b.run(&["exec", "nosuch", "true"]).fails(1);
    assert_eq!(
        out.stderr,
        "Error response from daemon: No such container: nosuch\n"
    );
}

// ---------------------------------------------------------------------------------------------
// copy-on-write, end to end

#[test]
fn copy_on_write_two_containers_one_image() {
    let b = Berth::new();
    let (archive, _) = three_layer_archive("spec:latest");
    let tar = b.scratch("spec.tar");
    std::fs::write(&tar, archive).unwrap();
    b.run(&["load", "-i", tar.to_str().unwrap()]).ok();
    let image_layers = b.layer_dirs();
    assert_eq!(image_layers.len(), 3, "{image_layers:?}");
    let before = image_layer_snapshot(&b, &image_layers);

    let one = b.run_d(&["--name", "one", "spec", "sleep", "1000"]);
    let two = b.run_d(&["--name", "two", "spec", "sleep", "1000"]);
    b.run(&[
        "exec",
        "one",
        "sh",
        "-c",
        "echo one >> /data/a.txt; echo x > /new-one",
    ])
    .ok();
    b.run(&[
        "exec",
        "two",
        "sh",
        "-c",
        "echo two >> /data/a.txt; rm /etcx/n.conf",
    ])
    .ok();
    assert_eq!(
        b.run(&["exec", "one", "cat", "/data/a.txt"]).ok().stdout,
        "hello\none\n"
    );
    assert_eq!(
        b.run(&["exec", "two", "cat", "/data/a.txt"]).ok().stdout,
        "hello\ntwo\n"
    );
    assert_eq!(
        b.run(&["exec", "one", "ls", "/etcx"]).ok().stdout,
        "n.conf\n"
    );
    assert_eq!(b.run(&["exec", "two", "ls", "/etcx"]).ok().stdout, "");
    b.run(&["exec", "two", "test", "!", "-e", "/new-one"]).ok();
    // A third container sees the image as it was.
    assert_eq!(
        b.run(&["run", "--rm", "spec", "cat", "/data/a.txt"])
            .ok()
            .stdout,
        "hello\n"
    );

    // On disk: each change is in its own writable layer; copy-up kept owner and mode.
    let upper = |id: &str| b.root().join("layers").join(id).join("diff");
    assert_eq!(
        std::fs::read_to_string(upper(&one).join("data/a.txt")).unwrap(),
        "hello\none\n"
    );
    assert_eq!(
        std::fs::read_to_string(upper(&two).join("data/a.txt")).unwrap(),
        "hello\ntwo\n"
    );
    use std::os::unix::fs::MetadataExt;
    let md = std::fs::metadata(upper(&one).join("data/a.txt")).unwrap();
    assert_eq!(
        (md.uid(), md.gid(), md.mode() & 0o7777),
        (1000, 2000, 0o644)
    );
    // The ancestor directory copied up with it has the top image layer's owner and mode.
    let md = std::fs::metadata(upper(&one).join("data")).unwrap();
    assert_eq!((md.uid(), md.gid(), md.mode() & 0o7777), (0, 0, 0o750));
    assert!(upper(&one).join("new-one").exists());
    assert!(!upper(&two).join("new-one").exists());
    use std::os::unix::fs::FileTypeExt;
    let wh = std::fs::symlink_metadata(upper(&two).join("etcx/n.conf")).unwrap();
    assert!(
        wh.file_type().is_char_device() && wh.rdev() == 0,
        "whiteout"
    );
    assert_eq!(
        image_layer_snapshot(&b, &image_layers),
        before,
        "image layers changed"
    );

    // stop/start keeps the writable layer.
    b.run(&["stop", "-t", "0", "one"]).ok();
    assert_eq!(
        b.mounts_of(&one),
        Vec::<String>::new(),
        "stopped: unmounted"
    );
    assert_eq!(
        std::fs::read_to_string(upper(&one).join("data/a.txt")).unwrap(),
        "hello\none\n"
    );
    b.run(&["start", "one"]).ok();
    assert_eq!(
        b.run(&["exec", "one", "cat", "/data/a.txt", "/new-one"])
            .ok()
            .stdout,
        "hello\none\nx\n"
    );
    b.run(&["restart", "-t", "0", "two"]).ok();
    assert_eq!(b.run(&["exec", "two", "ls", "/etcx"]).ok().stdout, "");

    // rm removes the writable and init layers, the container dir and every mount.
    let link = std::fs::read_to_string(b.root().join("layers").join(&one).join("link")).ok();
    b.run(&["rm", "-f", "one"]).ok();
    for dir in [
        b.root().join("layers").join(&one),
        b.root().join("layers").join(format!("{one}-init")),
        b.root().join("containers").join(&one),
        b.exec_root().join("containers").join(&one),
        b.exec_root().join("runtime-berth").join(&one),
    ] {
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
    if let Some(link) = link {
        let l = b.root().join("layers/l").join(link.trim());
        assert!(
            std::fs::symlink_metadata(&l).is_err(),
            "{} left behind",
            l.display()
        );
    }
    assert_eq!(b.mounts_of(&one), Vec::<String>::new());
    // The other container is untouched.
    assert_eq!(
        b.run(&["exec", "two", "cat", "/data/a.txt"]).ok().stdout,
        "hello\ntwo\n"
    );
    b.run(&["rm", "-f", "two"]).ok();
    // What stays beside the image layers is the init layer both shared.
    let init = shared_init_layers(&b, &image_layers);
    assert_eq!(init.len(), 1, "{:?}", b.layer_dirs());
    let mut want = image_layers.clone();
    want.extend(init);
    want.sort();
    assert_eq!(b.layer_dirs(), want);
    assert_eq!(mounts_under(&b.root()), Vec::<String>::new());
    assert_eq!(
        image_layer_snapshot(&b, &image_layers),
        before,
        "image layers changed"
    );
}

#[test]
fn writable_layer_of_an_exited_container_survives_until_rm() {
    let b = with_busybox();
    let image_layers = b.layer_dirs();
    let before = image_layer_snapshot(&b, &image_layers);
    b.run(&[
        "run",
        "--name",
        "wr",
        "busybox",
        "sh",
        "-c",
        "echo changed > /etc/passwd; chmod 700 /tmp; rm /bin/vi",
    ])
    .ok();
    let id = b.id_of("wr");
    let upper = b.root().join("layers").join(&id).join("diff");
    assert_eq!(
        std::fs::read_to_string(upper.join("etc/passwd")).unwrap(),
        "changed\n"
    );
    assert_eq!(b.mounts_of(&id), Vec::<String>::new(), "exited: unmounted");
    // Starting it again runs the same command on the same layer (the file is already changed,
    // /bin/vi already gone: rm fails, so the shell exits 1).
    let out = b.run(&["start", "-a", "wr"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("/bin/vi"), "{out:?}");
    assert_eq!(image_layer_snapshot(&b, &image_layers), before);
    b.run(&["rm", "wr"]).ok();
    assert!(!upper.exists());
    assert!(!b.root().join("layers").join(format!("{id}-init")).exists());
    let mut want = image_layers.clone();
    want.extend(shared_init_layers(&b, &image_layers));
    want.sort();
    assert_eq!(b.layer_dirs(), want);
}

/// Spec §10.3: pause → unpause keeps everything, tmpfs content included; Docker's errors for
/// pausing twice and unpausing a running container; a paused container still stops.
#[test]
fn pause_and_unpause_keep_tmpfs_content() {
    let b = Berth::new();
    b.busybox("busybox");
    b.run(&[
        "run",
        "-d",
        "--name",
        "pz",
        "--tmpfs",
        "/t",
        "busybox",
        "sh",
        "-c",
        "echo keep > /t/x; sleep 1000",
    ])
    .ok();
    wait_for("the tmpfs file", SOON, || {
        b.run(&["exec", "pz", "cat", "/t/x"]).stdout == "keep\n"
    });
    assert_eq!(b.run(&["pause", "pz"]).ok().stdout, "pz\n");
    assert_eq!(b.inspect("pz")["State"]["Status"], "paused");
    assert!(b.ps_status("pz").unwrap().ends_with("(Paused)"));
    let e = b.run(&["pause", "pz"]).fails(1);
    assert!(e.stderr.trim().ends_with("is already paused"), "{e:?}");
    b.run(&["unpause", "pz"]).ok();
    assert_eq!(b.run(&["exec", "pz", "cat", "/t/x"]).ok().stdout, "keep\n");
    let e = b.run(&["unpause", "pz"]).fails(1);
    assert!(e.stderr.trim().ends_with("is not paused"), "{e:?}");
    b.run(&["pause", "pz"]).ok();
    b.run(&["stop", "-t", "1", "pz"]).ok();
    assert_eq!(b.inspect("pz")["State"]["Status"], "exited");
}

/// Issue 21: the container's `--ulimit` holds for the processes `exec` runs in it too (they
/// used to get berth's own limits), and a detached exec shows in `ExecIDs` while it runs.
#[test]
fn exec_gets_the_containers_ulimits_and_shows_in_exec_ids() {
    let b = with_busybox();
    b.run(&[
        "run",
        "-d",
        "--name",
        "lim",
        "--ulimit",
        "nofile=511:511",
        "busybox",
        "sleep",
        "1000",
    ])
    .ok();
    assert_eq!(
        b.run(&["exec", "lim", "sh", "-c", "ulimit -n"]).ok().stdout,
        "511\n"
    );
    assert_eq!(b.inspect("lim")["ExecIDs"], serde_json::Value::Null);
    b.run(&["exec", "-d", "lim", "sleep", "1000"]).ok();
    let ids = b.inspect("lim")["ExecIDs"].clone();
    assert_eq!(ids.as_array().map(Vec::len), Some(1), "{ids}");
    b.run(&["rm", "-f", "lim"]).ok();
}

/// A paused container refuses exec, start, attach and rm with Docker's words (issue 14: one
/// state type decides every verb), and still takes top and kill.
#[test]
fn a_paused_container_gates_each_verb_with_dockers_words() {
    let b = with_busybox();
    b.run(&["run", "-d", "--name", "pp", "busybox", "sleep", "1000"])
        .ok();
    let id = b.id_of("pp");
    b.run(&["pause", "pp"]).ok();
    let daemon = |args: &[&str]| b.run(args).fails(1).stderr;
    assert_eq!(
        daemon(&["exec", "pp", "true"]),
        format!(
            "Error response from daemon: Container pp is paused, unpause the container before exec\n"
        )
    );
    assert!(
        daemon(&["start", "pp"]).contains("cannot start a paused container, try unpause instead"),
    );
    assert!(daemon(&["attach", "pp"])
        .contains("You cannot attach to a paused container, unpause it first"));
    assert!(daemon(&["rm", "pp"]).contains(&format!(
        "You cannot remove a paused container {id}. Unpause and then stop the container before attempting removal or force remove"
    )));
    assert!(b.run(&["top", "pp"]).ok().stdout.contains("sleep 1000"));
    b.run(&["kill", "pp"]).ok();
    assert_eq!(b.inspect("pp")["State"]["Status"], "exited");
    assert_eq!(
        daemon(&["kill", "pp"]),
        format!("Error response from daemon: Cannot kill container: pp: Container {id} is not running\n")
    );
}

#[test]
#[ignore = "needs root"]
fn a_relative_config_file_is_the_same_file_for_the_shim() {
    let b = with_busybox();
    let dir = b.scratch("cwd");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(b.config_file(), dir.join("settings.json")).unwrap();
    let mut cmd = b.command(&["run", "--rm", "--network", "none", "busybox", "true"]);
    cmd.current_dir(&dir)
        .env("BERTH_CONFIG_FILE", "settings.json");
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    // The shim removed the container: it found the settings the CLI named.
    wait_for(
        "run --rm to remove the container",
        Duration::from_secs(30),
        || b.run(&["ps", "-a", "-q"]).ok().stdout.is_empty(),
    );
}

/// `--stop-signal` is what `stop` sends (the container's trap sees it) and `--stop-timeout` how
/// long `stop` waits before SIGKILL; inspect shows both as Docker does; a signal that does not
/// exist is refused at create with dockerd's words (exit 1, as `docker create`) and nothing is
/// made.
#[test]
#[ignore = "needs root"]
fn stop_signal_and_stop_timeout_are_what_stop_uses() {
    let b = Berth::new();
    b.busybox("busybox");
    b.run_d(&[
        "--name",
        "trapper",
        "--stop-signal",
        "SIGUSR1",
        "busybox",
        "sh",
        "-c",
        "trap 'echo got usr1; exit 3' USR1; echo ready; while true; do sleep 0.1; done",
    ]);
    wait_for("the trap", SOON, || {
        b.run(&["logs", "trapper"]).stdout.contains("ready")
    });
    b.run(&["stop", "trapper"]).ok();
    assert_eq!(b.inspect("trapper")["State"]["ExitCode"], 3);
    assert!(b.run(&["logs", "trapper"]).ok().stdout.contains("got usr1"));
    assert_eq!(b.inspect("trapper")["Config"]["StopSignal"], "SIGUSR1");

    // A process that ignores SIGTERM is killed once the stop timeout has passed.
    b.run_d(&[
        "--name",
        "stubborn",
        "--stop-timeout",
        "1",
        "busybox",
        "sh",
        "-c",
        "trap '' TERM; echo ready; while true; do sleep 0.1; done",
    ]);
    wait_for("the trap", SOON, || {
        b.run(&["logs", "stubborn"]).stdout.contains("ready")
    });
    assert_eq!(b.inspect("stubborn")["Config"]["StopTimeout"], 1);
    b.run(&["stop", "stubborn"]).ok();
    assert_eq!(b.inspect("stubborn")["State"]["ExitCode"], 137);

    for bad in ["FOO", "SIGFOO", "0"] {
        let r = b
            .run(&["create", "--stop-signal", bad, "busybox", "true"])
            .fails(1);
        assert!(
            r.stderr.contains(&format!("Invalid signal: {bad}")),
            "{bad}: {}",
            r.stderr
        );
    }
    assert_eq!(b.run(&["ps", "-aq"]).ok().lines().len(), 2);
}

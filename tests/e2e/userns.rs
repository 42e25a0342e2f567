//! User-namespace remapping (issue 13 item 2): daemon.json's `userns-remap`, and `--userns=host`
//! to opt one container out. Expected values were recorded from a private dockerd 20.10.24
//! started with `--userns-remap=default` (runc 1.1.5, Linux 6.18): the container's root is the
//! first id of dockremap's ranges, its maps read `0 100000 65536`, image files read as root's
//! inside, a file root makes in a volume is the remapped uid's on the host, and dockerd refuses
//! `--privileged`, `--network host` and `--pid host` with the words below (`--ipc host` fails
//! inside runc there; berth refuses it first).

use std::os::unix::fs::MetadataExt;
use std::process::Command;

use crate::api::{docker_cli, Server};
use crate::harness::*;

/// A data root with busybox whose engine remaps with `default`.
fn remapped_berth() -> Berth {
    let b = Berth::new();
    b.busybox("busybox");
    b.set_setting("userns-remap", "default".into());
    b
}

/// dockremap's first subordinate uid and gid (what `default` made, or found).
fn remapped_root() -> (u32, u32) {
    let first = |file: &str| -> u32 {
        std::fs::read_to_string(file)
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("dockremap:"))
            .and_then(|rest| rest.split(':').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no dockremap range in {file}"))
    };
    (first("/etc/subuid"), first("/etc/subgid"))
}

/// Issue 20: a plain volume's directories are not flushed at create, so a power loss may keep
/// its row without them; made again at its next use, they are the remapped root's as create
/// made them, and the container's root can write there.
#[test]
#[ignore = "needs root"]
fn a_remapped_volume_a_power_loss_took_comes_back_the_remapped_roots() {
    let b = remapped_berth();
    b.run(&["volume", "create", "lost"]).ok();
    let (uid, gid) = remapped_root();
    let data = b.root().join("volumes/lost/_data");
    let md = std::fs::metadata(&data).unwrap();
    assert_eq!((md.uid(), md.gid()), (uid, gid), "as created");
    std::fs::remove_dir_all(b.root().join("volumes/lost")).unwrap();
    let out = b
        .run_rm_sh(
            &["-v", "lost:/d"],
            "stat -c '%u:%g' /d && touch /d/f && ls /d",
        )
        .ok();
    assert_eq!(out.stdout, "0:0\nf\n");
    let md = std::fs::metadata(&data).unwrap();
    assert_eq!((md.uid(), md.gid()), (uid, gid), "made again");
}

#[test]
#[ignore = "needs root"]
fn a_remapped_root_owns_its_volume_files_and_reads_layers_as_root() {
    let b = remapped_berth();
    let out = b
        .run(&[
            "run",
            "--rm",
            "-v",
            "vol:/data",
            "-w",
            "/made",
            "busybox",
            "sh",
            "-c",
            "cat /proc/self/uid_map /proc/self/gid_map; \
             stat -c '%u:%g %n' /bin/busybox / /made /etc/hosts; id -u; \
             touch /data/by-root; mkdir /data/dir; ls -ln /data",
        ])
        .ok()
        .stdout;
    let (uid, gid) = remapped_root();
    let lines: Vec<&str> = out.lines().collect();
    let words = |l: &str| l.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(words(lines[0]), ["0", &uid.to_string(), "65536"], "{out}");
    assert_eq!(words(lines[1]), ["0", &gid.to_string(), "65536"], "{out}");
    assert_eq!(
        &lines[2..7],
        [
            "0:0 /bin/busybox",
            "0:0 /",
            "0:0 /made",
            "0:0 /etc/hosts",
            "0"
        ],
        "{out}"
    );
    assert!(
        out.contains(" 0        0 ") || out.contains(" 0 0 "),
        "{out}"
    );
    // On the host: the volume and what the container's root made in it are the remapped root's.
    let vol = b.root().join("volumes/vol/_data");
    for p in [vol.clone(), vol.join("by-root"), vol.join("dir")] {
        let md = std::fs::metadata(&p).unwrap();
        assert_eq!((md.uid(), md.gid()), (uid, gid), "{}", p.display());
    }
    // The image's layer is stored as its tar says, shared with unmapped containers.
    let on_disk = Command::new("find")
        .arg(b.root().join("layers"))
        .args(["-path", "*/diff/bin/busybox", "-printf", "%U:%G\n"])
        .output()
        .unwrap();
    let owners = String::from_utf8_lossy(&on_disk.stdout).into_owned();
    assert!(
        !owners.is_empty() && owners.lines().all(|l| l == "0:0"),
        "{owners}"
    );

    // exec joins the container's user namespace; its writes land with host ids in the upper dir.
    b.run(&["run", "-d", "--name", "keep", "busybox", "sleep", "600"])
        .ok();
    let exec = b
        .run(&["exec", "keep", "sh", "-c", "head -1 /proc/self/uid_map; touch /made-by-exec; cat /proc/sys/net/ipv4/ip_unprivileged_port_start"])
        .ok()
        .stdout;
    assert_eq!(
        words(exec.lines().next().unwrap())[1],
        uid.to_string(),
        "{exec}"
    );
    assert_eq!(exec.lines().nth(1), Some("0"), "{exec}");
    let upper = b.upper_dir("keep");
    let md = std::fs::metadata(upper.join("made-by-exec")).unwrap();
    assert_eq!((md.uid(), md.gid()), (uid, gid));
    // An exec'd process is confined as the container is (Docker's capabilities, its seccomp
    // filter), as root and as another user, whose ids are mapped too.
    let confined = |user: &[&str]| {
        let mut args = vec!["exec"];
        args.extend_from_slice(user);
        args.extend_from_slice(&[
            "keep",
            "sh",
            "-c",
            "id -u; id -g; id -G; grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status; touch /tmp/by-$(id -u)",
        ]);
        b.run(&args).ok().stdout
    };
    assert_eq!(
        confined(&[]),
        "0\n0\n0\nCapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nNoNewPrivs:\t0\nSeccomp:\t2\n"
    );
    assert_eq!(
        confined(&["-u", "1000:1000"]),
        "1000\n1000\n1000\nCapEff:\t0000000000000000\nCapBnd:\t00000000a80425fb\nNoNewPrivs:\t0\nSeccomp:\t2\n"
    );
    let md = std::fs::metadata(upper.join("tmp/by-1000")).unwrap();
    assert_eq!((md.uid(), md.gid()), (uid + 1000, gid + 1000));
    // commit and export write what the container made with the owners it sees, as dockerd.
    b.run(&["commit", "keep", "kept"]).ok();
    let committed = b
        .run(&[
            "run",
            "--rm",
            "--userns",
            "host",
            "kept",
            "stat",
            "-c",
            "%u:%g",
            "/made-by-exec",
        ])
        .ok()
        .stdout;
    assert_eq!(committed, "0:0\n");
    let export = b.command(&["export", "keep"]).output().unwrap();
    assert!(export.status.success());
    let mut listing = tar::Archive::new(&export.stdout[..]);
    let mut owners: Vec<(String, u64, u64)> = listing
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let h = e.header();
            (
                e.path().unwrap().display().to_string(),
                h.uid().unwrap(),
                h.gid().unwrap(),
            )
        })
        .filter(|(p, _, _)| p == "made-by-exec" || p == "bin/busybox")
        .collect();
    owners.sort();
    assert_eq!(
        owners,
        [
            ("bin/busybox".to_string(), 0, 0),
            ("made-by-exec".to_string(), 0, 0)
        ]
    );
    // cp into it gives the container's root what it copies (dockerd: 100000 on the host).
    std::fs::write(b.scratch("cp-in"), "x").unwrap();
    b.run(&["cp", b.scratch("cp-in").to_str().unwrap(), "keep:/cp-in"])
        .ok();
    let md = std::fs::metadata(upper.join("cp-in")).unwrap();
    assert_eq!((md.uid(), md.gid()), (uid, gid));
    let inside = b
        .run(&["exec", "keep", "stat", "-c", "%u:%g", "/cp-in"])
        .ok()
        .stdout;
    assert_eq!(inside, "0:0\n");
    // Another container joins its network namespace, and with it its user namespace.
    let joined = b
        .run(&[
            "run",
            "--rm",
            "--network",
            "container:keep",
            "busybox",
            "head",
            "-1",
            "/proc/self/uid_map",
        ])
        .ok()
        .stdout;
    assert_eq!(words(&joined)[1], uid.to_string());
    b.run(&["rm", "-f", "keep"]).ok();
    let ns_files = Command::new("find")
        .arg(b.exec_root())
        .args(["-name", "*.user"])
        .output()
        .unwrap();
    assert!(
        ns_files.stdout.is_empty(),
        "user namespace files left behind"
    );
    assert!(
        mounts_under(&b.root()).is_empty(),
        "{:?}",
        mounts_under(&b.root())
    );
}

#[test]
#[ignore = "needs root"]
fn userns_host_opts_out_and_host_namespaces_are_refused_with_dockers_words() {
    let b = remapped_berth();
    let out = b
        .run_rm_sh(
            &["--userns", "host"],
            "cat /proc/self/uid_map; stat -c %u:%g /bin/busybox",
        )
        .ok()
        .stdout;
    let words: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(words, ["0", "0", "4294967295", "0:0"], "{out}");
    for (flags, text) in [
        (
            &["--privileged"][..],
            "privileged mode is incompatible with user namespaces.  You must run the container in the host namespace when running privileged mode",
        ),
        (
            &["--network", "host"][..],
            "cannot share the host's network namespace when user namespaces are enabled",
        ),
        (
            &["--pid", "host"][..],
            "cannot share the host PID namespace when user namespaces are enabled",
        ),
        (
            &["--ipc", "host"][..],
            "cannot share the host IPC namespace when user namespaces are enabled",
        ),
    ] {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(flags);
        args.extend(["busybox", "true"]);
        let r = b.run(&args).fails(125);
        assert!(
            r.stderr
                .starts_with(&format!("berth: Error response from daemon: {text}\n")),
            "{flags:?}: {}",
            r.stderr
        );
        // With --userns=host the same flags are fine.
        let mut args = vec!["run", "--rm", "--userns", "host"];
        args.extend_from_slice(flags);
        args.extend(["busybox", "true"]);
        b.run(&args).ok();
    }
    assert!(b.ps_all().is_empty(), "refused containers are not created");
    // A user without subordinate ranges gets dockerd's words, from every command.
    b.set_setting("userns-remap", "nobody:nogroup".into());
    let r = b.run(&["ps"]).fails(125);
    assert!(
        r.stderr
            .contains(r#"Can't create ID mappings: no subuid ranges found for user "nobody""#),
        "{}",
        r.stderr
    );
}

#[test]
#[ignore = "needs root"]
fn the_docker_cli_runs_remapped_containers_through_the_api() {
    let cli = docker_cli().expect("no docker CLI on PATH: apt install docker.io");
    let b = remapped_berth();
    let api = Server::start(&b);
    let docker = |args: &[&str]| {
        let out = Command::new(&cli)
            .env("DOCKER_CONFIG", b.scratch("docker-config"))
            .env_remove("DOCKER_CONTEXT")
            .arg("-H")
            .arg(format!("unix://{}", api.sock.display()))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = docker(&[
        "run",
        "--rm",
        "-v",
        "dv:/data",
        "busybox",
        "sh",
        "-c",
        "head -1 /proc/self/uid_map; stat -c %u /bin/busybox; touch /data/f",
    ]);
    assert_eq!(code, 0, "{err}");
    let (uid, _) = remapped_root();
    let words: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(words, ["0", &uid.to_string(), "65536", "0"], "{out}");
    let md = std::fs::metadata(b.root().join("volumes/dv/_data/f")).unwrap();
    assert_eq!(md.uid(), uid);
    let (code, _, err) = docker(&["run", "--rm", "--privileged", "busybox", "true"]);
    assert_eq!(code, 125);
    assert!(
        err.contains("privileged mode is incompatible with user namespaces."),
        "{err}"
    );
}

/// A tar of empty files and one directory with the given owners.
fn owned_tar(entries: &[(&str, u64, u64)]) -> Vec<u8> {
    let mut t = tar::Builder::new(Vec::new());
    for (name, uid, gid) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_uid(*uid);
        h.set_gid(*gid);
        if let Some(dir) = name.strip_suffix('/') {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_mode(0o755);
            h.set_size(0);
            t.append_data(&mut h, dir, &[][..]).unwrap();
        } else {
            h.set_mode(0o644);
            h.set_size(1);
            t.append_data(&mut h, name, &b"x"[..]).unwrap();
        }
    }
    t.into_inner().unwrap()
}

/// `PUT /containers/{id}/archive` into a remapped container shifts each entry's owner into the
/// container's range, as a private dockerd 20.10 with `userns-remap: default` does (0 →
/// 100000, 1000:1001 → 101000:101001, a directory 5:6 → 100005:100006), so the container sees
/// the archive's owners; an owner outside the range is refused with dockerd's words; with
/// `copyUIDGID` and a user, everything is that user's.
#[test]
#[ignore = "needs root"]
fn the_apis_copy_into_a_remapped_container_shifts_each_owner_into_its_range() {
    let b = remapped_berth();
    let api = Server::start(&b);
    b.run(&["create", "--name", "cpt", "busybox", "sleep", "1000"])
        .ok();
    let (uid, gid) = remapped_root();
    let put = |container: &str, query: &str, tar: &[u8]| {
        let file = b.scratch("put.tar");
        std::fs::write(&file, tar).unwrap();
        let out = Command::new("curl")
            .args(["-s", "-w", "\n%{http_code}", "--unix-socket"])
            .arg(&api.sock)
            .args(["-X", "PUT", "-H", "Content-Type: application/x-tar"])
            .arg("--data-binary")
            .arg(format!("@{}", file.display()))
            .arg(format!(
                "http://berth/containers/{container}/archive?path=/{query}"
            ))
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let (body, code) = text.rsplit_once('\n').unwrap();
        (code.parse::<u16>().unwrap(), body.to_string())
    };
    let tar = owned_tar(&[
        ("root0", 0, 0),
        ("u1000", 1000, 1001),
        ("nob", 65534, 65534),
        ("dir1/", 5, 6),
    ]);
    let (code, body) = put("cpt", "", &tar);
    assert_eq!(code, 200, "{body}");
    let upper = b.upper_dir("cpt");
    let host_owner = |name: &str| {
        let md = std::fs::metadata(upper.join(name)).unwrap();
        (md.uid(), md.gid())
    };
    assert_eq!(host_owner("root0"), (uid, gid));
    assert_eq!(host_owner("u1000"), (uid + 1000, gid + 1001));
    assert_eq!(host_owner("nob"), (uid + 65534, gid + 65534));
    assert_eq!(host_owner("dir1"), (uid + 5, gid + 6));
    b.run(&["start", "cpt"]).ok();
    let inside = b
        .run(&[
            "exec", "cpt", "stat", "-c", "%n %u:%g", "/root0", "/u1000", "/nob", "/dir1",
        ])
        .ok()
        .stdout;
    assert_eq!(
        inside,
        "/root0 0:0\n/u1000 1000:1001\n/nob 65534:65534\n/dir1 5:6\n"
    );

    // dockerd answers 500 ("Error processing tar file(exit status 1): ..."); the archive is
    // the client's mistake, so berth's is 400.
    let (code, body) = put("cpt", "", &owned_tar(&[("big", 70000, 70000)]));
    assert_eq!(code, 400, "{body}");
    assert!(
        body.contains("Container ID 70000 cannot be mapped to a host ID"),
        "{body}"
    );
    assert!(!upper.join("big").exists());

    // copyUIDGID: the container's user owns everything, wherever its ids are on the host.
    b.run(&[
        "create",
        "--name",
        "cpu",
        "--user",
        "1234:4321",
        "busybox",
        "true",
    ])
    .ok();
    let (code, body) = put("cpu", "&copyUIDGID=1", &tar);
    assert_eq!(code, 200, "{body}");
    let upper = b.upper_dir("cpu");
    let md = std::fs::metadata(upper.join("u1000")).unwrap();
    assert_eq!((md.uid(), md.gid()), (uid + 1234, gid + 4321));
}

/// Sharing namespaces between remapped and `--userns=host` containers, as a private dockerd
/// 20.10 with `userns-remap: default` does: a `--userns=host` container joins a remapped one's
/// network, PID and IPC namespaces and stays in the host's user namespace; a remapped one
/// joins another remapped one's (and with them its user namespace, which then also owns the
/// network namespace berth makes for one that joins only PID or IPC); a remapped one cannot join
/// a `--userns=host` one's (dockerd's runc fails with "can't get final child's PID from pipe:
/// EOF"; berth refuses clearly, before anything runs).
#[test]
#[ignore = "needs root"]
fn remapped_and_host_userns_containers_share_namespaces_as_with_dockerd() {
    let b = remapped_berth();
    let (uid, _) = remapped_root();
    b.run_d(&[
        "--name",
        "rmp",
        "--ipc",
        "shareable",
        "busybox",
        "sleep",
        "1000",
    ]);
    b.run_d(&[
        "--name",
        "hst",
        "--userns",
        "host",
        "--ipc",
        "shareable",
        "busybox",
        "sleep",
        "1000",
    ]);
    let first_map = "head -1 /proc/self/uid_map";
    let rmp_ip = b
        .run(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "rmp"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let words = |l: &str| l.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    for ns in ["--network", "--pid", "--ipc"] {
        let out = b
            .run(&[
                "run",
                "--rm",
                "--userns",
                "host",
                ns,
                "container:rmp",
                "busybox",
                "sh",
                "-c",
                first_map,
            ])
            .ok()
            .stdout;
        assert_eq!(words(&out), ["0", "0", "4294967295"], "{ns}");
        // A remapped joiner is in the donor's user namespace; one that joins PID or IPC has a
        // network of its own, with its own address, made in that user namespace (its root may
        // set the network's sysctls).
        let mut args = vec!["run", "--rm", ns, "container:rmp"];
        if ns != "--network" {
            args.extend(["--sysctl", "net.ipv4.ip_forward=1"]);
        }
        let script = format!(
            "{first_map}; hostname -i; pidof sleep || echo no-sleep; cat /proc/sys/net/ipv4/ip_forward"
        );
        let out = b
            .run(&[&args[..], &["busybox", "sh", "-c", &script]].concat())
            .ok()
            .stdout;
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 4, "{ns}: {out}");
        assert_eq!(words(lines[0]), ["0", &uid.to_string(), "65536"], "{ns}");
        let own_ip = lines[1].trim();
        if ns == "--network" {
            assert_eq!(own_ip, rmp_ip, "{ns}");
        } else {
            assert!(
                own_ip.parse::<std::net::Ipv4Addr>().is_ok() && own_ip != rmp_ip,
                "{ns}: {out}"
            );
        }
        // The donor's `sleep` is visible in its PID namespace only.
        assert_eq!(lines[2] == "no-sleep", ns != "--pid", "{ns}: {out}");
        if ns != "--network" {
            assert_eq!(lines[3], "1", "{ns}: {out}");
        }
        let r = b
            .run(&[
                "run",
                "--rm",
                "--name",
                "joiner",
                ns,
                "container:hst",
                "busybox",
                "true",
            ])
            .fails(125);
        assert!(
            r.stderr.contains("it runs in the host's user namespace (--userns=host) and this container is remapped"),
            "{ns}: {}",
            r.stderr
        );
        assert_eq!(b.run(&["ps", "-aq"]).ok().lines().len(), 2, "{ns}");
    }
    b.run(&["rm", "-f", "rmp", "hst"]).ok();
}

//! Issue 15: hostile input meets bounded work and Docker's refusals. A tar holding one file
//! 32,768 directories deep made `volume import` and `cp - CTR:DIR` grow memory with the square
//! of the depth (1 GiB and 3.5 s for a 64 KiB name, the kernel's OOM killer for an 8 MiB tar);
//! every extraction now shares the bounded extractor and refuses it at once.

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::*;

/// A seed of the tar fuzz corpus.
fn corpus(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus/apply_tar")
        .join(name)
}

/// Runs `cmd` with `stdin` to its end: its output, how long it took and its peak RSS in KiB
/// (`wait4`).
/// The `VmHWM` (peak resident set, KiB) line of `/proc/<pid>/status`, while that process lives.
fn vm_hwm_kib(pid: &str) -> Option<i64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `cmd` and returns what it printed, how long it took and its peak RSS in KiB.
///
/// A child's `ru_maxrss` starts from the peak of the process it was spawned from (the kernel
/// carries the old memory map's high-water mark across exec), and this test binary grows large
/// while hundreds of tests run beside it. So when `ru_maxrss` does not exceed our own peak, the
/// child's own peak is what sampling its `VmHWM` every few milliseconds saw.
fn measured(mut cmd: Command, stdin: Option<std::fs::File>) -> (Run, Duration, i64) {
    let ours = vm_hwm_kib("self").unwrap_or(0);
    let started = Instant::now();
    // Reaped by the wait4 below, which also gives its peak RSS.
    #[allow(clippy::zombie_processes)]
    let child = cmd
        .stdin(stdin.map_or_else(Stdio::null, Stdio::from))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let stdout = child.stdout;
    let stderr = child.stderr;
    let out = std::thread::spawn(move || {
        use std::io::Read;
        let mut s = String::new();
        stdout.unwrap().read_to_string(&mut s).unwrap();
        s
    });
    let err = std::thread::spawn(move || {
        use std::io::Read;
        let mut s = String::new();
        stderr.unwrap().read_to_string(&mut s).unwrap();
        s
    });
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if let Some(kib) = vm_hwm_kib(&pid.to_string()) {
                    peak = peak.max(kib);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            peak
        })
    };
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child's pid with valid pointers to locals.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid);
    let took = started.elapsed();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let sampled = sampler.join().unwrap();
    let peak = if usage.ru_maxrss > ours {
        usage.ru_maxrss
    } else {
        sampled
    };
    let code = std::process::ExitStatus::from_raw(status)
        .code()
        .unwrap_or(-1);
    (
        Run {
            stdout: out.join().unwrap(),
            stderr: err.join().unwrap(),
            code,
        },
        took,
        peak,
    )
}

/// A `docker save` archive of one image whose only layer is `layer`.
fn save_archive_of(layer: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    let diff_id = hex::encode(sha2::Sha256::digest(layer));
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{}},"rootfs":{{"type":"layers","diff_ids":["sha256:{diff_id}"]}}}}"#
    );
    let config_id = hex::encode(sha2::Sha256::digest(config.as_bytes()));
    let manifest = format!(
        r#"[{{"Config":"{config_id}.json","RepoTags":["deep:load"],"Layers":["{diff_id}/layer.tar"]}}]"#
    );
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |path: &str, data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, path, data).unwrap();
    };
    add(&format!("{diff_id}/layer.tar"), layer);
    add(&format!("{config_id}.json"), config.as_bytes());
    add("manifest.json", manifest.as_bytes());
    b.into_inner().unwrap()
}

/// The four extractions (`volume import`, `cp -`, `import`, `load`) refuse the 32,768-deep tar
/// at once, in bounded memory (issue 15 item 1).
#[test]
fn r15_a_deep_path_tar_is_refused_at_once_by_every_extraction() {
    let b = Berth::new();
    b.busybox("busybox");
    b.run(&["create", "--name", "cc", "busybox", "true"]).ok();
    let deep = corpus("deep-path-32768");
    let tar = || std::fs::File::open(&deep).unwrap();
    let want = "paths are limited to 4095 bytes and 1024 levels";
    let saved = b.scratch("deep-save.tar");
    std::fs::write(&saved, save_archive_of(&std::fs::read(&deep).unwrap())).unwrap();
    for args in [
        &["volume", "import", "vdeep", deep.to_str().unwrap()][..],
        &["cp", "-", "cc:/tmp"][..],
        &["import", deep.to_str().unwrap(), "deep:1"][..],
        &["load", "-i", saved.to_str().unwrap()][..],
    ] {
        let stdin = (args[0] == "cp").then(tar);
        let (run, took, rss_kib) = measured(b.command(args), stdin);
        assert_ne!(run.code, 0, "{args:?}: {run:?}");
        assert!(run.stderr.contains(want), "{args:?}: {run:?}");
        assert!(
            run.stderr.len() < 1024,
            "{args:?}: the message names the path briefly: {} bytes",
            run.stderr.len()
        );
        assert!(took < Duration::from_secs(10), "{args:?} took {took:?}");
        assert!(rss_kib < 200 * 1024, "{args:?} peaked at {rss_kib} KiB");
    }
    assert_eq!(b.run(&["volume", "ls", "-q"]).ok().stdout, "");
    assert_eq!(b.run(&["images", "-q", "deep"]).ok().stdout, "");
    // A deep path within the limits is extracted.
    let ok = corpus("deep-path-1000");
    b.run(&["volume", "import", "fine", ok.to_str().unwrap()])
        .ok();
    let out = b
        .run(&[
            "run",
            "--rm",
            "-v",
            "fine:/v",
            "busybox",
            "sh",
            "-c",
            "cd /v/a && find . -type f | wc -l",
        ])
        .ok();
    assert_eq!(out.stdout.trim(), "1");
}

/// `--tmpfs` sizes and the API's `HostConfig.Tmpfs` are checked at create (the CLI's own
/// refusals are in `mounts::`); nothing is left behind.
#[test]
fn r15_tmpfs_sizes_are_refused_at_create_through_the_api() {
    let b = Berth::new();
    b.busybox("busybox");
    let api = crate::api::Server::start(&b);
    for size in ["abc", "-1", "1e9", "99999999999999999999"] {
        let body = format!(
            r#"{{"Image":"busybox","Cmd":["true"],"HostConfig":{{"Tmpfs":{{"/t":"size={size}"}}}}}}"#
        );
        let (code, out) = api.call("POST", "/v1.43/containers/create", Some(&body));
        assert_eq!(
            (code, out),
            (
                400,
                format!(r#"{{"message":"invalid value for tmpfs size: {size}"}}"#)
            )
        );
    }
    assert_eq!(b.run(&["ps", "-aq"]).ok().stdout, "");
    let (code, out) = api.call(
        "POST",
        "/v1.43/containers/create",
        Some(r#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"Tmpfs":{"/t":"size=50%"}}}"#),
    );
    assert_eq!(code, 201, "{out}");
}

/// Whether the server has closed this client connection (read without waiting).
fn closed(s: &mut std::os::unix::net::UnixStream) -> bool {
    use std::io::Read;
    s.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            // An answer (a 408 or 400) before the close is still a close to come.
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

/// Issue 15: half-open and idle connections no longer stay open forever, and no more than
/// `MAX_CONNECTIONS` are held at once; the server keeps answering meanwhile.
#[test]
fn r15_the_api_closes_half_open_and_idle_connections_and_caps_them() {
    use std::io::Write;
    let b = Berth::new();
    let api = crate::api::Server::start(&b);
    let cap = berth_api::MAX_CONNECTIONS;
    let mut conns = Vec::new();
    for i in 0..cap + 100 {
        let mut s = std::os::unix::net::UnixStream::connect(&api.sock).unwrap();
        if i % 2 == 0 {
            // Half-open: a request line and part of the headers.
            s.write_all(b"GET /_ping HTTP/1.1\r\nHost: berth\r\n")
                .unwrap();
        }
        conns.push(s);
    }
    std::thread::sleep(Duration::from_secs(2));
    let open_now = conns.iter_mut().map(closed).filter(|c| !c).count();
    assert!(open_now <= cap, "{open_now} connections held (cap {cap})");
    assert!(open_now >= cap - 10, "only {open_now} held");
    // A client that goes away frees its slot at once for others.
    conns.truncate(conns.len() - 150);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(api.call("GET", "/_ping", None).0, 200, "the server answers");
    // Past the header-read timeout every one of them is closed.
    let deadline = Instant::now() + berth_api::HEADER_READ_TIMEOUT + Duration::from_secs(15);
    loop {
        let open = conns.iter_mut().map(closed).filter(|c| !c).count();
        if open == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{open} connections still open");
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(api.call("GET", "/_ping", None).0, 200);
}

/// A tar with a character device, a block device, a fifo and a file, made with the tar crate.
fn tar_with_devices() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |path: &str, kind: tar::EntryType, dev: (u32, u32), data: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_entry_type(kind);
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_device_major(dev.0).unwrap();
        h.set_device_minor(dev.1).unwrap();
        h.set_mtime(1_700_000_000);
        b.append_data(&mut h, path, data).unwrap();
    };
    add("kept.txt", tar::EntryType::Regular, (0, 0), b"kept\n");
    add("dev/mem", tar::EntryType::Char, (1, 1), b"");
    add("dev/sda", tar::EntryType::Block, (8, 0), b"");
    add("dev/pipe", tar::EntryType::Fifo, (0, 0), b"");
    b.into_inner().unwrap()
}

/// Issue 15 item 10: `volume import` leaves an archive's device nodes out unless asked with
/// `--devices`, and says which it left out; files and fifos are imported either way.
#[test]
#[ignore = "needs root"]
fn r15_volume_import_leaves_device_nodes_out_unless_asked() {
    use std::os::unix::fs::FileTypeExt;
    let b = Berth::new();
    let tar = tar_with_devices();
    for (name, existing) in [("devnew", false), ("devold", true)] {
        if existing {
            b.run(&["volume", "create", name]).ok();
        }
        let out = b.run_stdin(&["volume", "import", name, "-"], &tar).ok();
        assert_eq!(out.stdout, format!("{name}\n"));
        assert_eq!(
            out.stderr,
            "WARNING: left out 2 device nodes of the archive (use --devices to create them):\n  /dev/mem\n  /dev/sda\n"
        );
        let data = b.root().join("volumes").join(name).join("_data");
        assert_eq!(
            std::fs::read_to_string(data.join("kept.txt")).unwrap(),
            "kept\n"
        );
        assert!(std::fs::symlink_metadata(data.join("dev/pipe"))
            .unwrap()
            .file_type()
            .is_fifo());
        assert!(!data.join("dev/mem").exists() && !data.join("dev/sda").exists());

        // Asked: the devices are created, and nothing is said.
        let out = b
            .run_stdin(&["volume", "import", "--devices", name, "-"], &tar)
            .ok();
        assert_eq!(
            (out.stdout.as_str(), out.stderr.as_str()),
            (format!("{name}\n").as_str(), "")
        );
        let mem = std::fs::symlink_metadata(data.join("dev/mem")).unwrap();
        assert!(mem.file_type().is_char_device());
        assert_eq!(
            std::os::unix::fs::MetadataExt::rdev(&mem),
            libc::makedev(1, 1)
        );
        let sda = std::fs::symlink_metadata(data.join("dev/sda")).unwrap();
        assert!(sda.file_type().is_block_device());
        b.run(&["volume", "rm", name]).ok();
    }
}

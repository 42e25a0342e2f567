//! Faults (issue 3, item 6): `kill -9` of the CLI during a foreground `run`, of a container's
//! shim, and of the container's own process each leave a consistent state — the container
//! keeps running or shows `Exited` with a code, nothing stays mounted, `rm` works — and `rmi`
//! of an image a container uses is refused with Docker's conflict messages unless forced.

use regex::Regex;

use crate::harness::*;

fn with_busybox() -> Berth {
    let b = Berth::new();
    b.busybox("busybox");
    b
}

fn exited(code: i32) -> Regex {
    Regex::new(&format!(
        r"^Exited \({code}\) (Less than a second|1 second|\d+ seconds|About a minute|\d+ minutes) ago$"
    ))
    .unwrap()
}

/// Nothing of container `id` is mounted, and its process `pid` is gone.
#[track_caller]
fn nothing_left_running(b: &Berth, id: &str, pid: i64) {
    wait_for(
        &format!("the container's process {pid} to end"),
        SOON,
        || process_gone(pid),
    );
    assert_eq!(b.mounts_of(id), Vec::<String>::new(), "rootfs left mounted");
}

/// `rm` (without -f) removes the container and all its files.
#[track_caller]
fn rm_cleans_up(b: &Berth, name: &str, id: &str) {
    assert_eq!(b.run(&["rm", name]).ok().stdout, format!("{name}\n"));
    assert_eq!(b.ps_status(name), None);
    for dir in [
        b.root().join("layers").join(id),
        b.root().join("layers").join(format!("{id}-init")),
        b.root().join("containers").join(id),
        // Its run directory and runtime state, under the exec root.
        b.exec_root().join("containers").join(id),
        b.exec_root().join("runtime-berth").join(id),
        b.exec_root().join("runtime").join(id),
    ] {
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
    assert_eq!(mounts_under(&b.root()), Vec::<String>::new());
}

#[test]
fn kill_9_of_the_cli_during_run_leaves_the_container_running() {
    let b = with_busybox();
    let mut cli = b.spawn(&[
        "run",
        "--name",
        "fg",
        "busybox",
        "sh",
        "-c",
        "echo started; i=0; while [ ! -e /tmp/go ]; do echo tick $i; i=$((i+1)); sleep 0.05; done; echo finishing; exit 7",
    ]);
    cli.wait_stdout("started\n", SOON);
    cli.child.kill().unwrap(); // SIGKILL
    cli.child.wait().unwrap();
    let id = b.id_of("fg");

    // The container did not notice: still up, still writing its log through the shim.
    assert_eq!(b.status_of("fg"), "running");
    let ticks = |b: &Berth| b.run(&["logs", "fg"]).ok().stdout.matches("tick").count();
    let seen = ticks(&b);
    wait_for("the log to keep growing after the CLI died", SOON, || {
        ticks(&b) > seen + 5
    });
    let status = b.ps_status("fg").unwrap();
    assert!(status.starts_with("Up "), "{status}");
    assert!(
        !b.mounts_of(&id).is_empty(),
        "a running container has its rootfs"
    );

    // It ends normally, with its own code, recorded by the shim.
    b.run(&["exec", "fg", "touch", "/tmp/go"]).ok();
    assert_eq!(b.run(&["wait", "fg"]).ok().stdout, "7\n");
    assert!(exited(7).is_match(&b.ps_status("fg").unwrap()));
    let logs = b.run(&["logs", "fg"]).ok().stdout;
    assert!(
        logs.starts_with("started\ntick 0\n") && logs.ends_with("finishing\n"),
        "{logs}"
    );
    assert_eq!(b.mounts_of(&id), Vec::<String>::new());
    rm_cleans_up(&b, "fg", &id);
}

#[test]
fn kill_9_of_the_cli_then_rm_f_of_the_running_container() {
    let b = with_busybox();
    let mut cli = b.spawn(&[
        "run",
        "-i",
        "--name",
        "fg2",
        "busybox",
        "sh",
        "-c",
        "echo started; sleep 1000",
    ]);
    cli.wait_stdout("started\n", SOON);
    cli.child.kill().unwrap();
    cli.child.wait().unwrap();
    let i = b.inspect("fg2");
    let id = i["Id"].as_str().unwrap().to_string();
    let pid = i["State"]["Pid"].as_i64().unwrap();
    assert_eq!(i["State"]["Status"], "running");
    assert_eq!(b.run(&["rm", "-f", "fg2"]).ok().stdout, "fg2\n");
    nothing_left_running(&b, &id, pid);
    assert_eq!(b.ps_status("fg2"), None);
    assert!(!b.root().join("layers").join(&id).exists());
    assert_eq!(mounts_under(&b.root()), Vec::<String>::new());
}

#[test]
fn kill_9_of_the_shim_shows_exited_137_and_rm_works() {
    let b = with_busybox();
    let id = b.run_d(&["--name", "orphan", "busybox", "sleep", "1000"]);
    let pid = b.inspect("orphan")["State"]["Pid"].as_i64().unwrap();
    let shims = shim_pids(&id);
    assert_eq!(shims.len(), 1, "one shim per container: {shims:?}");
    let stamp =
        std::fs::read_to_string(b.exec_root().join("containers").join(&id).join("shim.pid"))
            .unwrap_or_default();
    assert!(
        stamp.contains(&shims[0].to_string()),
        "shim.pid {stamp:?} names the shim {}",
        shims[0]
    );
    kill9(shims[0] as i64);

    // The next `ps -a` shows what happened: Exited (137), as if the container was killed.
    let status = b.ps_status("orphan").unwrap();
    assert!(exited(137).is_match(&status), "{status}");
    let st = &b.inspect("orphan")["State"];
    assert_eq!(st["Status"], "exited", "{st}");
    assert_eq!(st["Running"], false);
    assert_eq!(st["ExitCode"], 137);
    assert_eq!(st["Pid"], 0);
    assert_ne!(st["FinishedAt"], "0001-01-01T00:00:00Z");
    nothing_left_running(&b, &id, pid);
    assert_eq!(b.run(&["ps", "-q"]).ok().stdout, "");
    // It can even be started again.
    b.run(&["start", "orphan"]).ok();
    assert_eq!(b.status_of("orphan"), "running");
    b.run(&["stop", "-t", "0", "orphan"]).ok();
    rm_cleans_up(&b, "orphan", &id);
}

#[test]
fn kill_9_of_the_shim_of_a_foreground_run() {
    let b = with_busybox();
    let mut cli = b.spawn(&[
        "run",
        "--name",
        "fg3",
        "busybox",
        "sh",
        "-c",
        "echo started; sleep 1000",
    ]);
    cli.wait_stdout("started\n", SOON);
    let i = b.inspect("fg3");
    let id = i["Id"].as_str().unwrap().to_string();
    let pid = i["State"]["Pid"].as_i64().unwrap();
    let shims = shim_pids(&id);
    assert_eq!(shims.len(), 1, "{shims:?}");
    kill9(shims[0] as i64);
    // The attached CLI notices and ends (Docker's CLI would print an error and exit non-zero;
    // what matters is that it does not hang).
    let out = cli.wait(SOON);
    assert_ne!(out.code, 0, "{out:?}");
    let status = b.ps_status("fg3").unwrap();
    assert!(exited(137).is_match(&status), "{status}");
    nothing_left_running(&b, &id, pid);
    rm_cleans_up(&b, "fg3", &id);
}

#[test]
fn kill_9_of_the_container_process_shows_exited_137() {
    let b = with_busybox();
    let id = b.run_d(&["--name", "victim", "busybox", "sleep", "1000"]);
    let pid = b.inspect("victim")["State"]["Pid"].as_i64().unwrap();
    assert!(pid > 0);
    kill9(pid);
    wait_for("the shim to record the exit", SOON, || {
        b.status_of("victim") == "exited"
    });
    let st = &b.inspect("victim")["State"];
    assert_eq!(st["ExitCode"], 137, "{st}");
    assert_eq!(st["Pid"], 0);
    assert!(exited(137).is_match(&b.ps_status("victim").unwrap()));
    assert_eq!(b.run(&["wait", "victim"]).ok().stdout, "137\n");
    nothing_left_running(&b, &id, pid);
    // The shim is gone too.
    wait_for("the shim to exit", SOON, || shim_pids(&id).is_empty());
    rm_cleans_up(&b, "victim", &id);

    // Same with --rm: the shim removes it.
    let id = b.run_d(&["--rm", "--name", "victim2", "busybox", "sleep", "1000"]);
    let pid = b.inspect("victim2")["State"]["Pid"].as_i64().unwrap();
    kill9(pid);
    wait_for("--rm removal", SOON, || b.ps_status("victim2").is_none());
    wait_for("the --rm container's layer to go", SOON, || {
        !b.root().join("layers").join(&id).exists()
    });
    assert_eq!(mounts_under(&b.root()), Vec::<String>::new());
}

#[test]
fn kill_9_of_a_process_under_init_ends_the_container_through_docker_init() {
    let b = with_busybox();
    let id = b.run_d(&["--init", "--name", "tini", "busybox", "sleep", "1000"]);
    let init = b.inspect("tini")["State"]["Pid"].as_i64().unwrap();
    kill9(init);
    wait_for("the exit to be recorded", SOON, || {
        b.status_of("tini") == "exited"
    });
    assert_eq!(b.inspect("tini")["State"]["ExitCode"], 137);
    // Once `wait` returns, the exit is fully handled.
    assert_eq!(b.run(&["wait", "tini"]).ok().stdout, "137\n");
    nothing_left_running(&b, &id, init);
    rm_cleans_up(&b, "tini", &id);
}

// ---------------------------------------------------------------------------------------------
// rmi of an image in use

#[test]
fn rmi_of_an_image_used_by_a_stopped_container() {
    let b = with_busybox();
    let image = b
        .run(&["image", "inspect", "-f", "{{.Id}}", "busybox"])
        .ok();
    let image = image
        .stdout
        .trim()
        .trim_start_matches("sha256:")
        .to_string();
    let c = b.run(&["create", "--name", "user", "busybox", "true"]).ok();
    let cid = c.stdout.trim().to_string();

    let out = b.run(&["rmi", "busybox"]).fails(1);
    assert_eq!(
        out.stderr,
        format!(
            "Error response from daemon: conflict: unable to remove repository reference \"busybox\" (must force) - container {} is using its referenced image {}\n",
            &cid[..12],
            &image[..12]
        )
    );
    let out = b.run(&["rmi", &image[..12]]).fails(1);
    assert_eq!(
        out.stderr,
        format!(
            "Error response from daemon: conflict: unable to delete {} (must be forced) - image is being used by stopped container {}\n",
            &image[..12],
            &cid[..12]
        )
    );
    // Nothing was removed.
    assert_eq!(
        b.run(&["images", "-q"]).ok().stdout,
        format!("{}\n", &image[..12])
    );
    b.run(&["start", "-a", "user"]).ok();

    // Forced: untagged and deleted, as Docker does; the container stays and can be removed,
    // and then no layer is left.
    let out = b.run(&["rmi", "-f", "busybox"]).ok();
    assert_eq!(
        out.stdout,
        format!("Untagged: busybox:latest\nDeleted: sha256:{image}\n")
    );
    assert_eq!(b.run(&["images", "-aq"]).ok().stdout, "");
    assert_eq!(
        b.run(&["ps", "-aq"]).ok().stdout,
        format!("{}\n", &cid[..12])
    );
    b.run(&["rm", "user"]).ok();
    let left: Vec<_> = std::fs::read_dir(b.root().join("layers"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n != "l")
        .collect();
    assert_eq!(left, Vec::<String>::new(), "layers leaked");
    assert_eq!(mounts_under(&b.root()), Vec::<String>::new());
}

#[test]
fn rmi_of_an_image_used_by_a_running_container() {
    let b = with_busybox();
    let image = b
        .run(&["image", "inspect", "-f", "{{.Id}}", "busybox"])
        .ok();
    let image = image
        .stdout
        .trim()
        .trim_start_matches("sha256:")
        .to_string();
    let cid = b.run_d(&["--name", "runner", "busybox", "sleep", "1000"]);

    let out = b.run(&["rmi", "busybox"]).fails(1);
    assert_eq!(
        out.stderr,
        format!(
            "Error response from daemon: conflict: unable to remove repository reference \"busybox\" (must force) - container {} is using its referenced image {}\n",
            &cid[..12],
            &image[..12]
        )
    );
    let running = format!(
        "Error response from daemon: conflict: unable to delete {} (cannot be forced) - image is being used by running container {}\n",
        &image[..12],
        &cid[..12]
    );
    assert_eq!(b.run(&["rmi", &image[..12]]).fails(1).stderr, running);
    assert_eq!(b.run(&["rmi", "-f", &image[..12]]).fails(1).stderr, running);
    // Forcing the name only untags: the image stays (dangling) under the running container.
    let out = b.run(&["rmi", "-f", "busybox"]).ok();
    assert_eq!(out.stdout, "Untagged: busybox:latest\n");
    let images = b
        .run(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"])
        .ok();
    assert_eq!(images.stdout, format!("<none>:<none> {}\n", &image[..12]));
    assert_eq!(b.status_of("runner"), "running");
    b.run(&["exec", "runner", "true"]).ok();
    b.run(&["rm", "-f", "runner"]).ok();
    assert_eq!(mounts_under(&b.root()), Vec::<String>::new());
}

/// Issue 15 item 5: the shim of a container using a size-limited volume (an ext4 image on a
/// loop device) is killed; `rm -f` releases the volume's mount and its loop device, and the
/// volume works again.
#[test]
fn kill_9_of_the_shim_then_rm_f_releases_a_size_limited_volume_and_its_loop_device() {
    let b = with_busybox();
    b.run(&["volume", "create", "-o", "size=4m", "sized"]).ok();
    let id = b.run_d(&[
        "--name",
        "sv",
        "-v",
        "sized:/d",
        "busybox",
        "sh",
        "-c",
        "echo kept > /d/f; sleep 1000",
    ]);
    let data = b.root().join("volumes/sized/_data");
    let image = b.root().join("volumes/sized/fs.img").display().to_string();
    let data_mounted = || mounts_under(&b.root()).contains(&data.display().to_string());
    let loop_attached = || {
        std::fs::read_dir("/sys/block").unwrap().flatten().any(|e| {
            std::fs::read_to_string(e.path().join("loop/backing_file"))
                .is_ok_and(|f| f.trim() == image)
        })
    };
    wait_for("the volume's file", SOON, || data.join("f").exists());
    assert!(data_mounted() && loop_attached());
    let pid = b.inspect("sv")["State"]["Pid"].as_i64().unwrap();
    let shims = shim_pids(&id);
    assert_eq!(shims.len(), 1, "{shims:?}");
    kill9(shims[0] as i64);
    wait_for("the shim to go", SOON, || shim_pids(&id).is_empty());
    b.run(&["rm", "-f", "sv"]).ok();
    nothing_left_running(&b, &id, pid);
    assert!(!data_mounted(), "{:?}", mounts_under(&b.root()));
    // The kernel frees an autoclear loop device once its mount is gone (udev may lag).
    wait_for("the loop device to be freed", SOON, || !loop_attached());
    let out = b
        .run(&["run", "--rm", "-v", "sized:/d", "busybox", "cat", "/d/f"])
        .ok();
    assert_eq!(out.stdout, "kept\n");
    assert!(!data_mounted());
    b.run(&["volume", "rm", "sized"]).ok();
}

/// Issue 16: a `--rm` container's writable layer is mounted `volatile`, so its unmount does not
/// sync the whole filesystem holding the data root (a kept container's layer is not). The
/// marker such a mount leaves makes the kernel refuse any later mount of that layer, even after
/// a clean unmount: a `--rm` container whose shim was killed still starts again, and `stop`
/// answers with its name although its shim removes it on the way.
#[test]
fn a_rm_containers_layer_is_volatile_and_mounts_again_after_its_shim_died() {
    let b = with_busybox();
    let root_mount = "grep ' / ' /proc/mounts";
    let out = b.run_rm_sh(&[], root_mount).ok();
    // Shown as `volatile`, or `fsync=volatile` by newer kernels.
    assert!(out.stdout.contains("volatile"), "{}", out.stdout);
    let out = b
        .run(&["run", "--name", "kept", "busybox", "sh", "-c", root_mount])
        .ok();
    assert!(
        out.stdout.contains("upperdir=") && !out.stdout.contains("volatile"),
        "{}",
        out.stdout
    );

    let id = b.run_d(&["--rm", "--name", "gone", "busybox", "sleep", "1000"]);
    let pid = b.inspect("gone")["State"]["Pid"].as_i64().unwrap();
    let shims = shim_pids(&id);
    assert_eq!(shims.len(), 1, "one shim per container: {shims:?}");
    kill9(shims[0] as i64);
    let status = b.ps_status("gone").unwrap();
    assert!(exited(137).is_match(&status), "{status}");
    nothing_left_running(&b, &id, pid);
    b.run(&["start", "gone"]).ok();
    assert_eq!(b.status_of("gone"), "running");
    assert_eq!(b.run(&["stop", "-t", "0", "gone"]).ok().stdout, "gone\n");
    assert_eq!(b.ps_status("gone"), None);
    assert_eq!(mounts_under(&b.root()), Vec::<String>::new());
}

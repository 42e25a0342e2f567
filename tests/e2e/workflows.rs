//! The seeds' storage workflows (issue 4 item 10), as stories a user would live through: a
//! database-like writer on a host directory, a volume container shared with `--volumes-from`
//! (and the backup/restore pattern), named volume data surviving `rm` and an image upgrade,
//! container-layer data lost on `rm`, two running containers sharing one volume, `--rm` cleaning
//! anonymous volumes, and read-only mounts refusing writes.

use crate::harness::*;
use crate::vol_harness::*;

/// `app:vN`: busybox + `/app/version` = N and a default `/data/defaults.conf`; `VOLUME /data`.
fn app_image(b: &Berth, version: &str) {
    let version_file = format!("{version}\n");
    let layer = tar_of(&[
        Entry::Dir("app", 0o755),
        Entry::File("app/version", version_file.as_bytes(), 0o644),
        Entry::Dir("data", 0o755),
        Entry::File("data/defaults.conf", b"default=1\n", 0o644),
    ]);
    load_image(b, &format!("app:v{version}"), &[layer], &["/data"]);
}

#[test]
fn database_like_writer_on_a_host_directory() {
    let b = vb();
    let db = b.scratch("host/db");
    assert!(!db.exists());
    let bind = format!("{}:/var/lib/mysql", db.display());
    // A "database" that appends one row per write request and serves reads from its files.
    b.run_d(&[
        "--name", "db", "-v", &bind, "busybox", "sh", "-c",
        "i=0; while [ $i -lt 5 ]; do echo row$i >> /var/lib/mysql/table; i=$((i+1)); done; exec sleep 1000",
    ]);
    // The directory was created for it (0755 root:root), and the data is visible on the host.
    wait_for("the rows to reach the host", SOON, || {
        std::fs::read_to_string(db.join("table")).is_ok_and(|t| t.lines().count() == 5)
    });
    assert_eq!(perms(&db), (0o755, 0, 0));
    // A file the host writes is visible inside at once.
    std::fs::write(db.join("my.cnf"), "[mysqld]\n").unwrap();
    let out = b.run(&["exec", "db", "cat", "/var/lib/mysql/my.cnf"]).ok();
    assert_eq!(out.stdout, "[mysqld]\n");
    b.run(&[
        "exec",
        "db",
        "sh",
        "-c",
        "echo row5 >> /var/lib/mysql/table",
    ])
    .ok();
    assert_eq!(
        std::fs::read_to_string(db.join("table"))
            .unwrap()
            .lines()
            .count(),
        6
    );
    // The container goes; the data stays on the host, and a new server picks it up.
    b.run(&["rm", "-f", "-v", "db"]).ok();
    assert_eq!(
        std::fs::read_to_string(db.join("table"))
            .unwrap()
            .lines()
            .last(),
        Some("row5")
    );
    let out = b
        .run(&[
            "run",
            "--rm",
            "-v",
            &bind,
            "busybox",
            "tail",
            "-n",
            "1",
            "/var/lib/mysql/table",
        ])
        .ok();
    assert_eq!(out.stdout, "row5\n");
    assert!(volume_names(&b).is_empty(), "a bind makes no volume");
}

#[test]
fn volume_container_shared_with_volumes_from_backup_and_restore() {
    let b = vb();
    // The data-only container: created, never started.
    b.run(&[
        "create", "--name", "dbstore", "-v", "/dbdata", "busybox", "true",
    ])
    .ok();
    b.run(&[
        "run",
        "--rm",
        "--volumes-from",
        "dbstore",
        "busybox",
        "sh",
        "-c",
        "echo precious > /dbdata/f; mkdir /dbdata/sub; echo deep > /dbdata/sub/g",
    ])
    .ok();
    let out = b
        .run(&[
            "run",
            "--rm",
            "--volumes-from",
            "dbstore",
            "busybox",
            "cat",
            "/dbdata/f",
            "/dbdata/sub/g",
        ])
        .ok();
    assert_eq!(out.stdout, "precious\ndeep\n");
    // Back up through a bind, restore into a new volume container.
    let backup = b.scratch("backup");
    let bflag = format!("{}:/backup", backup.display());
    b.run(&[
        "run",
        "--rm",
        "--volumes-from",
        "dbstore",
        "-v",
        &bflag,
        "busybox",
        "tar",
        "cf",
        "/backup/backup.tar",
        "/dbdata",
    ])
    .ok();
    let entries = tar_entries(&std::fs::read(backup.join("backup.tar")).unwrap());
    assert_eq!(
        entries.get("dbdata/f").map(Vec::as_slice),
        Some(&b"precious\n"[..])
    );
    b.run(&[
        "create", "--name", "dbstore2", "-v", "/dbdata", "busybox", "true",
    ])
    .ok();
    b.run(&[
        "run",
        "--rm",
        "--volumes-from",
        "dbstore2",
        "-v",
        &bflag,
        "busybox",
        "sh",
        "-c",
        "cd /dbdata && tar xf /backup/backup.tar --strip 1",
    ])
    .ok();
    let out = b
        .run(&[
            "run",
            "--rm",
            "--volumes-from",
            "dbstore2",
            "busybox",
            "cat",
            "/dbdata/sub/g",
        ])
        .ok();
    assert_eq!(out.stdout, "deep\n");
    // The two stores are separate volumes.
    let v1 = mounts_by_dest(&b.inspect("dbstore"))["/dbdata"]["Name"].clone();
    let v2 = mounts_by_dest(&b.inspect("dbstore2"))["/dbdata"]["Name"].clone();
    assert_ne!(v1, v2);
    // Cleaning up with rm -v removes the anonymous volumes (no --rm container holds them).
    b.run(&["rm", "-v", "dbstore", "dbstore2"]).ok();
    assert!(volume_names(&b).is_empty(), "{:?}", volume_names(&b));
    assert!(backup.join("backup.tar").is_file(), "the bind source stays");
}

#[test]
fn named_volume_data_survives_rm_and_an_upgrade_from_v1_to_v2() {
    let b = Berth::new();
    app_image(&b, "1");
    app_image(&b, "2");
    b.run(&[
        "run",
        "--name",
        "app",
        "-v",
        "appdata:/data",
        "app:v1",
        "sh",
        "-c",
        "echo \"written by v$(cat /app/version)\" > /data/state",
    ])
    .ok();
    // Populated from v1's image, plus what v1 wrote.
    let data = volume_data(&b, "appdata");
    assert_eq!(
        std::fs::read_to_string(data.join("defaults.conf")).unwrap(),
        "default=1\n"
    );
    b.run(&["rm", "-v", "app"]).ok();
    assert_eq!(volume_names(&b), ["appdata"], "rm -v keeps named volumes");
    // The upgrade: v2 with the same volume reads v1's data.
    let out = b
        .run(&[
            "run",
            "--rm",
            "--name",
            "app",
            "-v",
            "appdata:/data",
            "app:v2",
            "sh",
            "-c",
            "cat /app/version /data/state; ls /data",
        ])
        .ok();
    assert_eq!(out.stdout, "2\nwritten by v1\ndefaults.conf\nstate\n");
    assert_eq!(volume_names(&b), ["appdata"]);
}

#[test]
fn container_layer_data_survives_stop_and_is_lost_on_rm() {
    let b = vb();
    let script = "if [ -e /root/f ]; then cat /root/f; else echo mine > /root/f; fi";
    let out = b
        .run(&["run", "--name", "cl", "busybox", "sh", "-c", script])
        .ok();
    assert_eq!(out.stdout, "");
    let id = b.id_of("cl");
    // Still in the container's own layer after it stopped and ran again; not in another
    // container of the same image.
    let out = b.run(&["start", "-a", "cl"]).ok();
    assert_eq!(out.stdout, "mine\n");
    b.run(&["commit", "cl", "snap"]).ok();
    let out = b.run(&["run", "--rm", "snap", "cat", "/root/f"]).ok();
    assert_eq!(out.stdout, "mine\n");
    let out = b.run(&["run", "--rm", "busybox", "ls", "-A", "/root"]).ok();
    assert_eq!(out.stdout, "");
    let upper_dirs = |b: &Berth| -> usize {
        std::fs::read_dir(b.root().join("layers"))
            .map(|d| {
                d.filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .contains(&id)
                })
                .count()
            })
            .unwrap_or(0)
            + usize::from(b.root().join("containers").join(&id).exists())
    };
    assert!(upper_dirs(&b) > 0);
    b.run(&["rm", "cl"]).ok();
    assert_eq!(
        upper_dirs(&b),
        0,
        "the writable layer and container dir are gone"
    );
    let out = b.run(&["run", "--rm", "busybox", "ls", "-A", "/root"]).ok();
    assert_eq!(out.stdout, "");
}

#[test]
fn two_running_containers_share_one_volume_live() {
    let b = vb();
    b.run_d(&[
        "--name", "writer", "-v", "shared:/shared", "busybox", "sh", "-c",
        "i=0; while true; do echo $i > /shared/counter.tmp; mv /shared/counter.tmp /shared/counter; i=$((i+1)); sleep 0.2; done",
    ]);
    b.run_d(&[
        "--name",
        "reader",
        "-v",
        "shared:/shared:ro",
        "busybox",
        "sleep",
        "1000",
    ]);
    // The reader sees the counter move while both run.
    let first: u64 = wait_until("the reader to see the counter", SOON, || {
        b.run(&["exec", "reader", "cat", "/shared/counter"])
            .stdout
            .trim()
            .parse()
            .ok()
    });
    wait_until("the counter to move", SOON, || {
        let now: u64 = b
            .run(&["exec", "reader", "cat", "/shared/counter"])
            .stdout
            .trim()
            .parse()
            .ok()?;
        (now > first).then_some(())
    });
    assert_eq!(b.status_of("writer"), "running");
    assert_eq!(b.status_of("reader"), "running");
    // The read-only user cannot write; a third, read-write one can, and the writer sees it.
    let out = b.run(&["exec", "reader", "touch", "/shared/x"]).fails(1);
    assert_eq!(out.stderr, "touch: /shared/x: Read-only file system\n");
    b.run(&[
        "run",
        "--rm",
        "-v",
        "shared:/s",
        "busybox",
        "sh",
        "-c",
        "echo hello > /s/msg",
    ])
    .ok();
    let out = b.run(&["exec", "writer", "cat", "/shared/msg"]).ok();
    assert_eq!(out.stdout, "hello\n");
    let out = b.run(&["volume", "rm", "shared"]).fails(1);
    assert!(out.stderr.contains("volume is in use"), "{out:?}");
    b.run(&["rm", "-f", "writer", "reader"]).ok();
    b.run(&["volume", "rm", "shared"]).ok();
}

#[test]
fn run_rm_cleans_anonymous_volumes_but_keeps_named_ones() {
    let b = Berth::new();
    app_image(&b, "1");
    let out = b
        .run(&[
            "run",
            "--rm",
            "-v",
            "/scratch",
            "-v",
            "keep:/keep",
            "app:v1",
            "sh",
            "-c",
            "ls /data; echo tmp > /scratch/x; echo kept > /keep/x",
        ])
        .ok();
    assert_eq!(
        out.stdout, "defaults.conf\n",
        "the image VOLUME was populated"
    );
    assert_eq!(volume_names(&b), ["keep"]);
    assert_eq!(volume_dirs(&b), ["keep"]);
    assert_eq!(
        std::fs::read_to_string(volume_data(&b, "keep").join("x")).unwrap(),
        "kept\n"
    );
    // Without --rm, the anonymous ones stay dangling until pruned.
    b.run(&["run", "-v", "/scratch", "app:v1", "true"]).ok();
    assert_eq!(anonymous_volumes(&b).len(), 2);
    b.run(&["container", "prune", "-f"]).ok();
    let out = b.run(&["volume", "prune", "-f"]).ok();
    assert!(
        out.stdout.starts_with("Deleted Volumes:\n"),
        "{}",
        out.stdout
    );
    assert_eq!(volume_names(&b), ["keep"]);
}

#[test]
fn read_only_mounts_refuse_writes_with_erofs() {
    let b = vb();
    // Configuration seeded by one container, read by the app through a read-only mount, with a
    // read-only root and a tmpfs for scratch space.
    b.run(&[
        "run",
        "--rm",
        "-v",
        "appcfg:/cfg",
        "busybox",
        "sh",
        "-c",
        "echo port=80 > /cfg/app.conf",
    ])
    .ok();
    let host = b.scratch("certs");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("cert.pem"), "CERT\n").unwrap();
    let out = b
        .run(&[
            "run",
            "--rm",
            "--read-only",
            "--tmpfs",
            "/tmp",
            "-v",
            "appcfg:/etc/app:ro",
            "--mount",
            &format!("type=bind,src={},dst=/certs,readonly", host.display()),
            "busybox",
            "sh",
            "-c",
            "cat /etc/app/app.conf /certs/cert.pem; echo ok > /tmp/ok && cat /tmp/ok; \
             echo port=81 > /etc/app/app.conf; rm /certs/cert.pem; touch /etc/new",
        ])
        .fails(1);
    assert_eq!(out.stdout, "port=80\nCERT\nok\n");
    assert_eq!(
        out.stderr,
        "sh: can't create /etc/app/app.conf: Read-only file system\n\
         rm: can't remove '/certs/cert.pem': Read-only file system\n\
         touch: /etc/new: Read-only file system\n"
    );
    assert_eq!(
        std::fs::read_to_string(volume_data(&b, "appcfg").join("app.conf")).unwrap(),
        "port=80\n"
    );
    assert!(host.join("cert.pem").exists());
}

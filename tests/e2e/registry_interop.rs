//! Interop through a real registry: an image berth pushes pulls into a private dockerd and into
//! Podman with the same image ID, and images they push pull into berth with the same ID.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::harness::*;
use crate::registry_harness::*;

/// A private dockerd on a socket of the test's own (vfs storage, no bridge, no iptables).
struct Dockerd {
    child: Child,
    sock: PathBuf,
    exec_root: PathBuf,
    _dir: tempfile::TempDir,
}

impl Dockerd {
    fn start() -> Dockerd {
        let dir = tempfile::Builder::new()
            .prefix("berth-dockerd-")
            .tempdir_in(scratch_dir())
            .unwrap();
        let sock = dir.path().join("d.sock");
        // The exec root holds containerd's sockets: keep its path short.
        let exec_root = PathBuf::from(format!("/run/berth-e2e-dref-{}", free_port()));
        let log = std::fs::File::create(dir.path().join("dockerd.log")).unwrap();
        let child = Command::new("dockerd")
            .arg("--data-root")
            .arg(dir.path().join("root"))
            .arg("--exec-root")
            .arg(&exec_root)
            .arg("--pidfile")
            .arg(dir.path().join("d.pid"))
            .arg("-H")
            .arg(format!("unix://{}", sock.display()))
            .args([
                "--iptables=false",
                "--bridge=none",
                "--storage-driver",
                "vfs",
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("dockerd (Debian package docker.io) is installed");
        let d = Dockerd {
            child,
            sock,
            exec_root,
            _dir: dir,
        };
        wait_for("dockerd to answer", Duration::from_secs(60), || {
            d.docker(&["version"]).code == 0
        });
        d
    }

    fn docker(&self, args: &[&str]) -> Run {
        let mut c = Command::new("docker");
        c.env_remove("DOCKER_CONTEXT")
            .env("DOCKER_CONFIG", self._dir.path().join("config"))
            .arg("-H")
            .arg(format!("unix://{}", self.sock.display()))
            .args(args);
        output_timeout(c, None, Duration::from_secs(120))
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while matches!(self.child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        unmount_under(&self.exec_root);
        let _ = std::fs::remove_dir_all(&self.exec_root);
        unmount_under(self._dir.path());
    }
}

/// Podman with a storage of the test's own.
struct Podman {
    dir: tempfile::TempDir,
    /// Podman wants its run root under 50 characters.
    run_root: PathBuf,
}

impl Podman {
    fn new() -> Podman {
        Podman {
            dir: tempfile::Builder::new()
                .prefix("berth-podman-")
                .tempdir_in(scratch_dir())
                .unwrap(),
            run_root: PathBuf::from(format!("/run/berth-e2e-podman-{}", free_port())),
        }
    }

    fn run(&self, args: &[&str]) -> Run {
        let conf = self.dir.path().join("containers.conf");
        std::fs::write(
            &conf,
            "[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n",
        )
        .unwrap();
        let auth = self.dir.path().join("auth.json");
        if !auth.exists() {
            std::fs::write(&auth, "{}").unwrap();
        }
        let mut c = Command::new("podman");
        c.env("CONTAINERS_CONF", &conf)
            .env("REGISTRY_AUTH_FILE", self.dir.path().join("auth.json"))
            .arg("--root")
            .arg(self.dir.path().join("root"))
            .arg("--runroot")
            .arg(&self.run_root)
            .args(["--storage-driver", "vfs"])
            .args(args);
        output_timeout(c, None, Duration::from_secs(120))
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        unmount_under(&self.run_root);
        let _ = std::fs::remove_dir_all(&self.run_root);
        unmount_under(self.dir.path());
    }
}

#[test]
#[ignore = "needs root"]
fn berth_docker_and_podman_exchange_images_with_the_same_ids() {
    let reg = Registry::start(Kind::Plain);
    let host = reg.host();
    let b = Berth::new();
    let (archive, _) = three_layer_archive("x:1");
    let path = b.scratch("three.tar");
    std::fs::write(&path, archive).unwrap();
    let from_berth = format!("{host}/interop/berth:1");
    b.run(&["load", "-q", "-i", path.to_str().unwrap()]).ok();
    b.run(&["tag", "x:1", &from_berth]).ok();
    b.run(&["push", &from_berth]).ok();
    let berth_id = b
        .run(&["image", "inspect", "--format", "{{.Id}}", &from_berth])
        .ok()
        .stdout
        .trim()
        .to_string();

    // berth → dockerd
    let d = Dockerd::start();
    d.docker(&["pull", &from_berth]).ok();
    let id = d
        .docker(&["image", "inspect", "--format", "{{.Id}}", &from_berth])
        .ok();
    assert_eq!(id.stdout.trim(), berth_id, "dockerd sees berth's image ID");
    // berth → podman
    let p = Podman::new();
    p.run(&["pull", "--tls-verify=false", &from_berth]).ok();
    let id = p
        .run(&["image", "inspect", "--format", "{{.Id}}", &from_berth])
        .ok();
    assert_eq!(
        format!("sha256:{}", id.stdout.trim()),
        berth_id,
        "podman sees berth's image ID"
    );

    // dockerd → berth
    let from_docker = format!("{host}/interop/docker:1");
    let bb = b.busybox_tar_path();
    d.docker(&["import", bb.to_str().unwrap(), &from_docker])
        .ok();
    d.docker(&["push", &from_docker]).ok();
    let docker_id = d
        .docker(&["image", "inspect", "--format", "{{.Id}}", &from_docker])
        .ok();
    b.run(&["pull", &from_docker]).ok();
    let id = b
        .run(&["image", "inspect", "--format", "{{.Id}}", &from_docker])
        .ok();
    assert_eq!(
        id.stdout.trim(),
        docker_id.stdout.trim(),
        "berth sees docker's image ID"
    );
    let run = b.run(&["run", "--rm", &from_docker, "echo", "ok"]).ok();
    assert_eq!(run.stdout, "ok\n");

    // podman → berth
    let from_podman = format!("{host}/interop/podman:1");
    p.run(&["import", bb.to_str().unwrap(), &from_podman]).ok();
    p.run(&["push", "--tls-verify=false", &from_podman]).ok();
    let podman_id = p
        .run(&["image", "inspect", "--format", "{{.Id}}", &from_podman])
        .ok();
    b.run(&["pull", &from_podman]).ok();
    let id = b
        .run(&["image", "inspect", "--format", "{{.Id}}", &from_podman])
        .ok();
    assert_eq!(
        id.stdout.trim(),
        format!("sha256:{}", podman_id.stdout.trim()),
        "berth sees podman's image ID"
    );
    let run = b.run(&["run", "--rm", &from_podman, "echo", "ok"]).ok();
    assert_eq!(run.stdout, "ok\n");
}

/// The `PATCH` requests of the pushes logged by `proxy` to repository `repo`, with their
/// `Content-Range`.
fn patches(proxy: &Proxy, repo: &str) -> Vec<String> {
    proxy
        .requests()
        .into_iter()
        .filter(|l| l.method == "PATCH" && l.path.contains(&format!("/v2/{repo}/blobs/uploads/")))
        .map(|l| l.content_range.unwrap_or_default())
        .collect()
}

fn upload_sessions(proxy: &Proxy, repo: &str) -> usize {
    proxy
        .requests()
        .iter()
        .filter(|l| l.method == "POST" && l.path.contains(&format!("/v2/{repo}/blobs/uploads/")))
        .count()
}

/// `a-b` for chunk `n` (0-based) of `chunk` bytes.
fn chunk_range(n: u64, chunk: u64) -> String {
    format!("{}-{}", n * chunk, (n + 1) * chunk - 1)
}

#[test]
#[ignore = "needs root"]
fn a_chunked_push_cut_mid_blob_resumes_and_pulls_into_dockerd() {
    let reg = Registry::start(Kind::Plain);
    let proxy = Proxy::start(reg.port);
    let b = Berth::new();
    const MIB: u64 = 1 << 20;
    b.set_setting("upload-chunk-size", "1MiB".into());
    // Incompressible layers of 5 MiB: six chunks each once gzipped.
    let image = |repo: &str, seed: u64| {
        let path = b.scratch(&format!("{seed}.tar"));
        std::fs::write(&path, random_layer("big.bin", 5 << 20, seed)).unwrap();
        let name = format!("{}/{repo}:1", proxy.host());
        b.run(&["import", path.to_str().unwrap(), &name]).ok();
        name
    };

    // A buffering proxy drops the connection 300 KiB into the third chunk: the registry holds
    // two chunks, and the push goes on from there in the same upload session.
    let resumed = image("team/resumed", 7);
    proxy.cut_upload(UploadCut {
        skip: 2,
        after: 300 << 10,
        forward: false,
    });
    let push = b.run(&["push", &resumed]).ok();
    assert!(push.stdout.contains(": Pushed"), "{push:?}");
    assert!(proxy.upload_cut_done(), "the upload was cut");
    let sent = patches(&proxy, "team/resumed");
    assert!(sent.len() >= 7, "six chunks and the one cut: {sent:?}");
    assert_eq!(
        sent[..4],
        [
            chunk_range(0, MIB),
            chunk_range(1, MIB),
            chunk_range(2, MIB),
            chunk_range(2, MIB)
        ],
        "the cut chunk is sent again, and only it: {sent:?}"
    );
    assert!(
        sent.iter().all(|r| !r.is_empty()),
        "every PATCH has a Content-Range: {sent:?}"
    );
    let statuses = proxy
        .requests()
        .iter()
        .filter(|l| l.method == "GET" && l.path.contains("/v2/team/resumed/blobs/uploads/"))
        .count();
    assert_eq!(statuses, 1, "one status request after the cut");
    // One session for the layer and one for the config: nothing started over.
    assert_eq!(upload_sessions(&proxy, "team/resumed"), 2);

    // A proxy that passes part of the chunk on: distribution 2.8 then drops the session (its
    // state no longer matches the bytes it holds), and the push starts a new one.
    let restarted = image("team/restarted", 8);
    proxy.cut_upload(UploadCut {
        skip: 3,
        after: 200 << 10,
        forward: true,
    });
    let push = b.run(&["push", &restarted]).ok();
    assert!(push.stdout.contains(": Pushed"), "{push:?}");
    assert!(proxy.upload_cut_done(), "the upload was cut");
    assert_eq!(
        upload_sessions(&proxy, "team/restarted"),
        3,
        "a new session for the layer after the registry dropped the first"
    );

    // Both pull into a real dockerd (which checks every layer against the config's diff IDs)
    // as the same images, with the same manifest digests.
    let d = Dockerd::start();
    for name in [&resumed, &restarted] {
        let direct = name.replace(&proxy.host(), &reg.host());
        d.docker(&["pull", &direct]).ok();
        let theirs = d
            .docker(&[
                "image",
                "inspect",
                "--format",
                "{{.Id}} {{index .RepoDigests 0}}",
                &direct,
            ])
            .ok();
        let ours = b
            .run(&[
                "image",
                "inspect",
                "--format",
                "{{.Id}} {{index .RepoDigests 0}}",
                name,
            ])
            .ok();
        assert_eq!(
            theirs.stdout.trim(),
            ours.stdout.trim().replace(&proxy.host(), &reg.host()),
            "dockerd pulls what berth pushed"
        );
    }
}

//! `TestEnv` gives a test a temporary data root (deliberately long, to exercise the `sun_path`
//! limit), a busybox root filesystem, an isolated `runc --root`, and cleanup of every
//! container and shim it started, even when the test fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::inproc::InProcess;
use crate::runtime::{Runc, Runtime};
use crate::shim::ProcessStamp;
use crate::spec::{write_bundle, ContainerSpec, EtcFiles, User};

pub(crate) struct TestEnv {
    _tmp: tempfile::TempDir,
    pub(crate) base: PathBuf,
    pub(crate) rootfs: PathBuf,
    runc_root: PathBuf,
    prefix: String,
    ids: Mutex<Vec<String>>,
    shims: Mutex<Vec<ProcessStamp>>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn have(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Fills `rootfs` with busybox and its applets, a passwd/group pair and a few test files.
pub(crate) fn busybox_rootfs(rootfs: &Path) {
    let bin = rootfs.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy("/bin/busybox", bin.join("busybox")).unwrap();
    let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" {
            let _ = std::os::unix::fs::symlink("busybox", bin.join(applet));
        }
    }
    for d in ["etc", "proc", "sys", "dev", "tmp", "root", "sbin"] {
        std::fs::create_dir_all(rootfs.join(d)).unwrap();
    }
    std::fs::write(
        rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/tmp:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(
        rootfs.join("etc/group"),
        "root:x:0:\nalice:x:1000:\nwheel:x:10:alice\n",
    )
    .unwrap();
    std::fs::write(rootfs.join("etc/notexec"), "not a program\n").unwrap();
}

impl TestEnv {
    /// A fresh environment. Tests using it are `#[ignore = "needs root"]`; run without root,
    /// runc or busybox they fail here, saying what is missing.
    pub(crate) fn new(prefix: &str) -> TestEnv {
        assert!(
            rustix::process::geteuid().is_root(),
            "needs root (run with --include-ignored as root)"
        );
        assert!(have("runc"), "needs runc on PATH (apt install runc)");
        assert!(
            Path::new("/bin/busybox").exists(),
            "needs /bin/busybox (apt install busybox-static)"
        );
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join(format!("data-root-{}", "x".repeat(90)));
        let rootfs = base.join("rootfs");
        busybox_rootfs(&rootfs);
        let runc_root = base.join("runc");
        std::fs::create_dir_all(&runc_root).unwrap();
        TestEnv {
            _tmp: tmp,
            base,
            rootfs,
            runc_root,
            prefix: prefix.to_string(),
            ids: Mutex::new(Vec::new()),
            shims: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn runc(&self) -> Runc {
        Runc::new("runc", &self.runc_root)
    }

    /// The in-process runtime with its state in this environment.
    pub(crate) fn inproc(&self) -> InProcess {
        InProcess::new(self.base.join("inproc"))
    }

    /// A unique container ID, deleted from runc when the environment is dropped.
    pub(crate) fn id(&self, name: &str) -> String {
        let id = format!(
            "{}-{name}-{}-{}",
            self.prefix,
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        self.ids.lock().unwrap().push(id.clone());
        id
    }

    /// The container's directory, with its hosts, hostname and resolv.conf files.
    pub(crate) fn container_dir(&self, id: &str) -> PathBuf {
        let dir = self.base.join("containers").join(id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("hosts"), "127.0.0.1\tlocalhost\n").unwrap();
        std::fs::write(dir.join("hostname"), "testhost\n").unwrap();
        std::fs::write(dir.join("resolv.conf"), "nameserver 127.0.0.1\n").unwrap();
        dir
    }

    /// Docker's defaults for running `args` in this environment's rootfs.
    pub(crate) fn spec(&self, id: &str, args: &[&str]) -> ContainerSpec {
        let dir = self.container_dir(id);
        ContainerSpec {
            id: id.to_string(),
            rootfs: self.rootfs.clone(),
            args: args.iter().map(|s| s.to_string()).collect(),
            hostname: "testhost".into(),
            user: User::root(),
            etc_files: Some(EtcFiles::in_dir(&dir)),
            cgroup_parent: Some("/berth-test".into()),
            ..Default::default()
        }
    }

    /// Writes the bundle for `args` (after `customize`) and returns its directory.
    pub(crate) fn bundle(
        &self,
        id: &str,
        args: &[&str],
        customize: impl FnOnce(&mut ContainerSpec),
    ) -> PathBuf {
        let mut spec = self.spec(id, args);
        customize(&mut spec);
        let bundle = self.container_dir(id).join("bundle");
        write_bundle(&bundle, &spec.to_oci().unwrap()).unwrap();
        bundle
    }

    /// Remembers a shim to kill on drop.
    pub(crate) fn track_shim(&self, stamp: ProcessStamp) {
        self.shims.lock().unwrap().push(stamp);
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        for s in self.shims.lock().unwrap().iter() {
            if s.is_alive() {
                let _ = rustix::process::kill_process(
                    rustix::process::Pid::from_raw(s.pid).unwrap(),
                    rustix::process::Signal::KILL,
                );
            }
        }
        let (runc, inproc) = (self.runc(), self.inproc());
        for id in self.ids.lock().unwrap().iter() {
            let _ = runc.delete(id, true);
            let _ = inproc.delete(id, true);
        }
        // The containers' parent cgroup, once no test uses it any more (busy otherwise).
        if let Ok(controllers) = std::fs::read_dir("/sys/fs/cgroup") {
            for c in controllers.flatten() {
                let _ = std::fs::remove_dir(c.path().join("berth-test"));
            }
        }
    }
}

impl TestEnv {
    /// Creates containers whose command is missing or not executable on `rt` and checks each
    /// is refused as runc refuses it: runc's words (with `runtime` named in them) and the exit
    /// code 127 or 126 that `docker run` ends with; `after` then checks or cleans up each ID.
    pub(crate) fn assert_bad_commands_refused<R: Runtime + ?Sized>(
        &self,
        rt: &R,
        runtime: &str,
        after: impl Fn(&str),
    ) {
        for (args, code, needle) in [
            (
                &["nosuch"][..],
                127,
                "exec: \"nosuch\": executable file not found in $PATH",
            ),
            (
                &["/etc/passwd"][..],
                126,
                "exec: \"/etc/passwd\": permission denied",
            ),
            (&["/nosuch"][..], 127, "no such file or directory"),
        ] {
            let id = self.id("bad");
            let bundle = self.bundle(&id, args, |_| {});
            let err = rt
                .create(
                    &id,
                    &bundle,
                    crate::runtime::CreateOptions {
                        pid_file: bundle.join("init.pid"),
                        ..Default::default()
                    },
                )
                .unwrap_err();
            after(&id);
            let crate::runtime::RuntimeError::Failed { message, .. } = &err else {
                panic!("{err:?}")
            };
            let f = crate::runtime::StartFailure::create(message);
            let prefix = format!("failed to create shim task: OCI runtime create failed: {runtime} create failed: unable to start container process: ");
            assert!(f.message.contains(needle), "{}", f.message);
            assert!(f.message.starts_with(&prefix), "{}", f.message);
            assert_eq!(f.exit_code, code, "{}", f.message);
        }
    }
}

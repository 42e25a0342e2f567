//! Issue 21: Go programs (compose v2, anything built on moby's `client` package) drive `berth
//! serve`. `tests/goclient/main.go` is built here in GOPATH mode against Debian's
//! golang-github-docker-docker-dev (moby 20.10's client as source in /usr/share/gocode) with
//! Debian's Go, and run against a server on this test's root. The Go client sends `null` for
//! every unset slice, map and pointer (`"LogConfig":{"Type":"","Config":null}`), which berth
//! used to refuse ("missing field `Config`"). A detached exec is polled with exec inspect until
//! it has finished, as Go tools do.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use sha2::Digest as _;

use crate::api::Server;
use crate::harness::*;

/// The goclient binary, built once per test run.
fn goclient() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/goclient/main.go");
        let out_dir = scratch_dir().join("goclient");
        std::fs::create_dir_all(&out_dir).unwrap();
        // One binary per version of the source, built under a temporary name and renamed, so
        // concurrent runs share it and old ones do not pile up.
        let hash = hex::encode(&sha2::Sha256::digest(std::fs::read(&src).unwrap())[..8]);
        let bin = out_dir.join(format!("goclient-{hash}"));
        if bin.exists() {
            return bin;
        }
        for old in std::fs::read_dir(&out_dir).unwrap().flatten() {
            if old.file_name().to_string_lossy().starts_with("goclient-") {
                let _ = std::fs::remove_file(old.path());
            }
        }
        let tmp = out_dir.join(format!("build-{}", std::process::id()));
        let out = Command::new("go")
            .args(["build", "-o"])
            .arg(&tmp)
            .arg(&src)
            .env("GOPATH", "/usr/share/gocode")
            .env("GO111MODULE", "off")
            .env("GOCACHE", out_dir.join("cache"))
            .env("GOFLAGS", "")
            .output()
            .expect("the go command (Debian: golang-go; .ci/run installs it)");
        assert!(
            out.status.success(),
            "go build of tests/goclient failed (Debian: golang-github-docker-docker-dev): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::rename(&tmp, &bin).unwrap();
        bin
    })
}

/// Runs the Go client's `steps` against `api`: its transcript, and whether it succeeded.
fn run_go(api: &Server, steps: &str) -> (bool, String) {
    let out = output_timeout(
        {
            let mut c = Command::new(goclient());
            c.arg(format!("unix://{}", api.sock.display())).arg(steps);
            c
        },
        None,
        CMD_TIMEOUT,
    );
    (out.code == 0, out.stdout + &out.stderr)
}

#[test]
fn r21_the_go_sdk_creates_starts_execs_waits_and_removes() {
    let b = Berth::new();
    b.busybox("busybox");
    let api = Server::start(&b);
    let (ok, out) = run_go(&api, "lifecycle,exec,volumes,lists");
    assert!(ok, "{out}");
    assert_eq!(
        out,
        "version: 1.41\n\
         create: 0 warnings\n\
         start: ok\n\
         wait: 3\n\
         inspect: exited 3 /golife\n\
         remove: ok\n\
         exec: exit 7\n\
         exec remove: ok\n\
         volume create: govol local\n\
         volume remove: ok\n\
         container list: 0\n\
         container list bogus: Error response from daemon: Invalid filter 'bogus'\n\
         image list: 1\n"
    );
    // The anonymous volume of the `Mounts` entry went with `RemoveVolumes`.
    assert_eq!(b.run(&["volume", "ls", "-q"]).ok().stdout, "");
    assert_eq!(b.run(&["ps", "-aq"]).ok().stdout, "");
}

/// The zero values the Go client sends mean the daemon's defaults, as in Docker's inspect.
#[test]
fn r21_go_zero_values_are_dockers_defaults() {
    let b = Berth::new();
    b.busybox("busybox");
    let api = Server::start(&b);
    let body = r#"{"Image":"busybox","Cmd":["true"],"Env":null,"Labels":null,"Volumes":null,
        "HostConfig":{"Binds":null,"LogConfig":{"Type":"","Config":null},"NetworkMode":"",
        "RestartPolicy":{"Name":"","MaximumRetryCount":0},"ShmSize":0,"IpcMode":"",
        "CgroupnsMode":"","Ulimits":null,"Mounts":null,"MaskedPaths":null,"ReadonlyPaths":null,
        "ConsoleSize":[0,0]},"NetworkingConfig":null}"#;
    let (code, out) = api.call("POST", "/v1.41/containers/create?name=zero", Some(body));
    assert_eq!(code, 201, "{out}");
    let hc = &b.inspect("zero")["HostConfig"];
    assert_eq!(hc["LogConfig"]["Type"], "json-file");
    assert_eq!(hc["ShmSize"], 67_108_864);
    assert_eq!(hc["IpcMode"], "private");
    assert_eq!(hc["CgroupnsMode"], "host");
    assert!(hc["MaskedPaths"].as_array().is_some_and(|p| !p.is_empty()));
    b.run(&["start", "-a", "zero"]).ok();
}

//! The container and image verbs the docker CLI reaches through `berth serve`: `cp` (the
//! archive endpoints), `diff`, `export`, `top`, `pause`/`unpause`, `rename`, `commit`, `save`,
//! `load` and `import`, each checked by what a user sees.

use std::process::Command;

use crate::api::DockerCli;
use crate::harness::*;

#[test]
#[ignore = "needs root"]
fn docker_cp_copies_both_ways_through_the_archive_endpoints() {
    let d = DockerCli::start();
    let docker = |args: &[&str]| d.run(args);
    let (code, _, err) = docker(&["run", "-d", "--name", "cc", "busybox", "sleep", "300"]);
    assert_eq!(code, 0, "{err}");
    let src = d.b.scratch("in");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("sub/a.txt"), "alpha\n").unwrap();
    std::fs::write(src.join("top.txt"), "top\n").unwrap();
    let (code, _, err) = docker(&["cp", src.to_str().unwrap(), "cc:/tmp/"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        docker(&["exec", "cc", "cat", "/tmp/in/sub/a.txt", "/tmp/in/top.txt"]).1,
        "alpha\ntop\n"
    );
    // Out again, a directory and a single file.
    let out = d.b.scratch("out");
    std::fs::create_dir_all(&out).unwrap();
    let (code, _, err) = docker(&["cp", "cc:/tmp/in", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(out.join("in/sub/a.txt")).unwrap(),
        "alpha\n"
    );
    let (code, _, err) = docker(&["cp", "cc:/etc/hostname", out.join("hn").to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(out.join("hn")).unwrap().trim(),
        docker(&["inspect", "-f", "{{.Config.Hostname}}", "cc"])
            .1
            .trim()
    );
    // A path that is not there: Docker's 404 words.
    let (code, _, err) = docker(&["cp", "cc:/nope", out.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(
        err.contains("Could not find the file /nope in container cc"),
        "{err}"
    );
    // The stat header of HEAD, and noOverwriteDirNonDir: a directory may not replace a file.
    let head = Command::new("curl")
        .args(["-s", "-I", "--unix-socket"])
        .arg(&d.api.sock)
        .arg("http://berth/containers/cc/archive?path=/tmp/in/top.txt")
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&head.stdout).into_owned();
    let stat = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(": ")?;
            k.eq_ignore_ascii_case("x-docker-container-path-stat")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no stat header: {head}"));
    let decoded = Command::new("sh")
        .args(["-c", "printf %s \"$1\" | base64 -d", "sh", &stat])
        .output()
        .unwrap();
    let stat: serde_json::Value = serde_json::from_slice(&decoded.stdout).unwrap();
    assert_eq!(stat["name"], "top.txt");
    assert_eq!(stat["size"], 4);
    // Go's os.FileMode: a regular file's mode is its permission bits.
    assert_eq!(stat["mode"], 0o644);
    assert_eq!(stat["linkTarget"], "");
    let tar = d.b.scratch("dir.tar");
    let staging = d.b.scratch("staging");
    std::fs::create_dir_all(staging.join("top.txt")).unwrap();
    assert!(Command::new("tar")
        .arg("-C")
        .arg(&staging)
        .arg("-cf")
        .arg(&tar)
        .arg("top.txt")
        .status()
        .unwrap()
        .success());
    let put = Command::new("curl")
        .args(["-s", "-w", "\n%{http_code}", "-X", "PUT", "--unix-socket"])
        .arg(&d.api.sock)
        .arg("-T")
        .arg(&tar)
        .arg("http://berth/containers/cc/archive?path=/tmp/in&noOverwriteDirNonDir=true")
        .output()
        .unwrap();
    let put = String::from_utf8_lossy(&put.stdout).into_owned();
    assert!(
        put.contains(r#"cannot overwrite non-directory \"top.txt\" with directory \"top.txt\""#)
            && put.ends_with("400"),
        "{put}"
    );
    assert_eq!(docker(&["exec", "cc", "cat", "/tmp/in/top.txt"]).1, "top\n");
    docker(&["rm", "-f", "cc"]);
}

#[test]
#[ignore = "needs root"]
fn docker_diff_top_pause_rename_and_commit_through_the_api() {
    let d = DockerCli::start();
    let docker = |args: &[&str]| d.run(args);
    let (code, _, err) = docker(&[
        "run",
        "-d",
        "--name",
        "ww",
        "busybox",
        "sh",
        "-c",
        "touch /made; exec sleep 300",
    ]);
    assert_eq!(code, 0, "{err}");
    wait_for("/made", SOON, || {
        docker(&["diff", "ww"]).1.contains("A /made")
    });
    let top = docker(&["top", "ww"]).1;
    assert!(top.starts_with("UID") && top.contains("sleep 300"), "{top}");
    let top = docker(&["top", "ww", "-o", "pid,comm"]).1;
    assert!(top.starts_with("PID") && top.contains("sleep"), "{top}");
    assert_eq!(docker(&["pause", "ww"]).0, 0);
    assert_eq!(
        docker(&["inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "ww"]).1,
        "paused true\n"
    );
    let (code, _, err) = docker(&["exec", "ww", "true"]);
    assert_ne!(code, 0);
    assert!(err.contains("is paused"), "{err}");
    assert_eq!(docker(&["unpause", "ww"]).0, 0);
    assert_eq!(
        docker(&["inspect", "-f", "{{.State.Status}}", "ww"]).1,
        "running\n"
    );
    let (code, _, err) = docker(&["unpause", "ww"]);
    assert_ne!(code, 0);
    assert!(err.contains("is not paused"), "{err}");
    assert_eq!(docker(&["rename", "ww", "w2"]).0, 0);
    assert_eq!(docker(&["ps", "--format", "{{.Names}}"]).1, "w2\n");
    let (code, _, err) = docker(&["rename", "nope", "x"]);
    assert_ne!(code, 0);
    assert!(err.contains("No such container: nope"), "{err}");
    // commit with a change and a message, then run the new image.
    let (code, id, err) = docker(&[
        "commit",
        "-c",
        "ENV MADE=yes",
        "-m",
        "a message",
        "-a",
        "me",
        "w2",
        "mine:1",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(id.trim().starts_with("sha256:"), "{id}");
    assert_eq!(
        docker(&[
            "image",
            "inspect",
            "-f",
            "{{.Author}} {{.Comment}}",
            "mine:1"
        ])
        .1,
        "me a message\n"
    );
    assert_eq!(
        docker(&[
            "run",
            "--rm",
            "mine:1",
            "sh",
            "-c",
            "ls /made && echo $MADE"
        ])
        .1,
        "/made\nyes\n"
    );
    docker(&["rm", "-f", "w2"]);
}

#[test]
#[ignore = "needs root"]
fn docker_save_load_export_and_import_through_the_api() {
    let d = DockerCli::start();
    let docker = |args: &[&str]| d.run(args);
    assert_eq!(docker(&["tag", "busybox", "keep:1"]).0, 0);
    let saved = d.b.scratch("saved.tar");
    let (code, _, err) = docker(&["save", "-o", saved.to_str().unwrap(), "keep:1", "busybox"]);
    assert_eq!(code, 0, "{err}");
    let entries = tar_entries(&std::fs::read(&saved).unwrap());
    assert!(
        entries.contains_key("manifest.json"),
        "{:?}",
        entries.keys()
    );
    assert_eq!(docker(&["rmi", "keep:1"]).0, 0);
    let (code, out, err) = docker(&["load", "-i", saved.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Loaded image: keep:1"), "{out}");
    let (code, out, err) = docker(&["load", "-q", "-i", saved.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Loaded image: keep:1"), "{out}");
    // An archive that is not one: an error, nothing loaded.
    let junk = d.b.scratch("junk.tar");
    std::fs::write(&junk, b"not a tar").unwrap();
    let (code, _, err) = docker(&["load", "-i", junk.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(
        err.contains("Error processing tar file(exit status 1): unexpected EOF"),
        "{err}"
    );
    // dockerd answers a failed load with a 200 whose stream ends in the error (docker-py raises
    // its ImageLoadError from that message).
    let (status, body) = d.api.call_file("POST", "/images/load", &junk);
    assert_eq!(status, 200, "{body}");
    let last: serde_json::Value = serde_json::from_str(body.lines().last().unwrap()).unwrap();
    assert_eq!(
        last["errorDetail"]["message"],
        "Error processing tar file(exit status 1): unexpected EOF"
    );
    let (code, _, err) = docker(&["save", "nope:1"]);
    assert_ne!(code, 0);
    assert!(err.contains("nope:1"), "{err}");
    // export | import with a change.
    let (code, _, err) = docker(&["create", "--name", "ee", "busybox", "true"]);
    assert_eq!(code, 0, "{err}");
    let exported = d.b.scratch("e.tar");
    let (code, _, err) = docker(&["export", "-o", exported.to_str().unwrap(), "ee"]);
    assert_eq!(code, 0, "{err}");
    assert!(tar_entries(&std::fs::read(&exported).unwrap()).contains_key("bin/busybox"));
    let (code, id, err) = docker(&[
        "import",
        "-c",
        "CMD [\"echo\", \"imported\"]",
        "-m",
        "from a test",
        exported.to_str().unwrap(),
        "imp:1",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(id.trim().starts_with("sha256:"), "{id}");
    assert_eq!(docker(&["run", "--rm", "imp:1"]).1, "imported\n");
    assert_eq!(
        docker(&["history", "--format", "{{.Comment}}", "imp:1"]).1,
        "from a test\n"
    );
    let (code, _, err) = docker(&["import", "http://example.invalid/x.tar"]);
    assert_ne!(code, 0);
    assert!(err.contains("fromSrc=-"), "{err}");
    docker(&["rm", "-f", "ee"]);
}

#[test]
#[ignore = "needs root"]
fn docker_stats_reads_the_containers_cgroups() {
    let d = DockerCli::start();
    let docker = |args: &[&str]| d.run(args);
    let (code, _, err) = docker(&[
        "run", "-d", "--name", "st", "--memory", "64m", "busybox", "sleep", "300",
    ]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = docker(&[
        "stats",
        "--no-stream",
        "--format",
        "{{.Name}}|{{.MemUsage}}|{{.PIDs}}",
        "st",
    ]);
    assert_eq!(code, 0, "{err}");
    let fields: Vec<&str> = out.trim().split('|').collect();
    assert_eq!(fields[0], "st", "{out}");
    assert!(fields[1].ends_with("/ 64MiB"), "{out}");
    assert_eq!(fields[2], "1", "{out}");
    // One answer with a previous sample, in Docker's shape.
    let (status, body) = d.api.call("GET", "/containers/st/stats?stream=false", None);
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["name"], "/st");
    assert_eq!(v["memory_stats"]["limit"], 64 << 20);
    assert!(v["memory_stats"]["usage"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(v["pids_stats"]["current"], 1);
    assert!(v["cpu_stats"]["system_cpu_usage"].as_u64().unwrap() > 0);
    assert!(v["precpu_stats"]["system_cpu_usage"].as_u64().unwrap() > 0);
    assert_ne!(v["preread"], "0001-01-01T00:00:00Z");
    assert!(v["networks"]["eth0"]["rx_bytes"].is_u64(), "{v}");
    for key in ["blkio_stats", "num_procs", "storage_stats", "id", "read"] {
        assert!(v.get(key).is_some(), "{key}: {v}");
    }
    // one-shot: no previous sample.
    let (_, body) = d.api.call(
        "GET",
        "/containers/st/stats?stream=false&one-shot=true",
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["preread"], "0001-01-01T00:00:00Z");
    // A stream: a sample a second until the client leaves.
    let out = Command::new("curl")
        .args(["-s", "--max-time", "3", "--unix-socket"])
        .arg(&d.api.sock)
        .arg("http://berth/containers/st/stats")
        .output()
        .unwrap();
    let lines = String::from_utf8_lossy(&out.stdout).lines().count();
    assert!(lines >= 2, "{out:?}");
    // A stopped container: one empty sample.
    docker(&["stop", "-t", "0", "st"]);
    let (status, body) = d.api.call("GET", "/containers/st/stats?stream=false", None);
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["read"], "0001-01-01T00:00:00Z");
    assert_eq!(v["name"], "/st");
    assert_eq!(
        d.api
            .call("GET", "/containers/nope/stats?stream=false", None)
            .0,
        404
    );
    docker(&["rm", "-f", "st"]);
}

/// Issue 12 (no silent drops): create fields berth cannot apply are refused with a 400 and
/// leave no container behind (the representative set of `routes::containers`' table: the
/// Windows-only resources, another isolation, GPUs, joining another container's cgroup, a
/// console no terminal can have), while `ConsoleSize` sizes the terminal of a container the API
/// starts and `Annotations` reach the runtime's bundle and inspect.
#[test]
#[ignore = "needs root"]
fn create_fields_are_applied_or_refused() {
    let b = Berth::new();
    b.busybox("busybox");
    let api = crate::api::Server::start(&b);
    let refused = [
        (r#""CpuCount":2"#, "linux does not support CPU count"),
        (r#""CpuPercent":50"#, "linux does not support CPU percent"),
        (r#""IOMaximumIOps":100"#, "maximum IOPs"),
        (r#""IOMaximumBandwidth":1000"#, "maximum bandwidth"),
        (r#""Isolation":"hyperv""#, "linux only supports 'default'"),
        (
            r#""DeviceRequests":[{"Driver":"nvidia","Count":-1,"Capabilities":[["gpu"]]}]"#,
            "could not select device driver",
        ),
        (
            r#""Cgroup":"container:other""#,
            "HostConfig.Cgroup is not supported",
        ),
        (r#""ConsoleSize":[70000,80]"#, "invalid ConsoleSize"),
    ];
    for (field, words) in refused {
        let body = format!(r#"{{"Image":"busybox","Cmd":["true"],"HostConfig":{{{field}}}}}"#);
        let (code, answer) = api.call("POST", "/v1.43/containers/create", Some(&body));
        assert_eq!(code, 400, "{field}: {answer}");
        assert!(answer.contains(words), "{field}: {answer}");
    }
    let (_, list) = api.call("GET", "/v1.43/containers/json?all=1", None);
    assert_eq!(list, "[]", "a refused create leaves nothing");

    // Applied: the terminal has the size the create asked for, the annotation is in the
    // runtime's config and in inspect.
    let body = r#"{"Image":"busybox","Tty":true,"Cmd":["stty","size"],
        "HostConfig":{"ConsoleSize":[33,101],"Annotations":{"org.example/a":"b"}}}"#;
    let (code, answer) = api.call("POST", "/v1.43/containers/create?name=sized", Some(body));
    assert_eq!(code, 201, "{answer}");
    let (code, answer) = api.call("POST", "/v1.43/containers/sized/start", None);
    assert_eq!(code, 204, "{answer}");
    let (code, answer) = api.call("POST", "/v1.43/containers/sized/wait", None);
    assert_eq!(code, 200, "{answer}");
    let (_, logs) = api.call("GET", "/v1.43/containers/sized/logs?stdout=1", None);
    assert_eq!(logs.trim(), "33 101");
    let (_, inspect) = api.call("GET", "/v1.43/containers/sized/json", None);
    let inspect: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    assert_eq!(
        inspect["HostConfig"]["ConsoleSize"],
        serde_json::json!([33, 101])
    );
    assert_eq!(
        inspect["HostConfig"]["Annotations"],
        serde_json::json!({"org.example/a": "b"})
    );
    let id = inspect["Id"].as_str().unwrap();
    let oci = std::fs::read_to_string(
        b.exec_root()
            .join("containers")
            .join(id)
            .join("bundle/config.json"),
    )
    .unwrap();
    let oci: serde_json::Value = serde_json::from_str(&oci).unwrap();
    assert_eq!(oci["annotations"]["org.example/a"], "b", "{oci}");
}

/// Issue 12: `berth stats` prints what `docker stats` prints for the same containers (through
/// `berth serve` on the same data root): the table's title row, the stable columns (ID, name,
/// memory limit, pids, zeros of a stopped container with `-a`), `--no-trunc`, `--format`, and
/// Docker's error for a container that does not exist.
#[test]
#[ignore = "needs root"]
fn berth_stats_prints_what_docker_stats_prints() {
    let d = DockerCli::start();
    let b = &d.b;
    b.run(&[
        "run", "-d", "--name", "web", "--memory", "64m", "busybox", "sleep", "300",
    ])
    .ok();
    b.run(&["create", "--name", "idle", "busybox", "true"]).ok();
    let stable = "{{.ID}}|{{.Name}}|{{.PIDs}}|{{.Container}}";
    for args in [
        vec!["stats", "--no-stream", "--format", stable],
        vec![
            "stats",
            "--no-stream",
            "--no-trunc",
            "--format",
            stable,
            "web",
        ],
        vec![
            "stats",
            "--no-stream",
            "-a",
            "--format",
            "{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.NetIO}} {{.BlockIO}} {{.PIDs}}",
            "idle",
        ],
        vec![
            "stats",
            "--no-stream",
            "--format",
            "{{.Name}}|{{ index (split .MemUsage \" / \") 1 }}",
            "web",
        ],
    ] {
        let ours = b.run(&args).ok().stdout;
        let (code, theirs, err) = d.run(&args);
        assert_eq!(code, 0, "{err}");
        assert_eq!(ours, theirs, "{args:?}");
    }
    // The default table: Docker's title row, one row per running container.
    let out = b.run(&["stats", "--no-stream"]).ok().stdout;
    let (_, theirs, _) = d.run(&["stats", "--no-stream"]);
    assert_eq!(out.lines().next(), theirs.lines().next());
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.contains(" / 64MiB "), "{out}");
    let out = b.run(&["stats", "--no-stream", "nosuch"]).fails(1);
    let (code, _, theirs) = d.run(&["stats", "--no-stream", "nosuch"]);
    assert_eq!(code, 1);
    assert!(theirs.contains("No such container: nosuch"), "{theirs}");
    assert!(out.stderr.contains("No such container: nosuch"), "{out:?}");
}

/// `docker rm --link PARENT/ALIAS` (docker-py's `remove_container(link=True)`): the legacy link
/// goes, both containers stay; a name that is no link and a container's own name are refused in
/// dockerd's words.
#[test]
#[ignore = "needs root"]
fn docker_rm_link_removes_only_the_link() {
    let d = DockerCli::start();
    let docker = |args: &[&str]| d.run(args);
    for args in [
        &["create", "--name", "db", "busybox", "true"][..],
        &[
            "create", "--name", "web", "--link", "db:mydb", "busybox", "true",
        ],
    ] {
        let (code, _, err) = docker(args);
        assert_eq!(code, 0, "{err}");
    }
    let names = || docker(&["ps", "-a", "--no-trunc", "--format", "{{.Names}}"]).1;
    assert!(names().contains("web/mydb"), "{}", names());
    let (code, out, err) = docker(&["rm", "--link", "web/mydb"]);
    assert_eq!((code, out.trim()), (0, "web/mydb"), "{err}");
    assert!(!names().contains("web/mydb"), "{}", names());
    let links = docker(&["inspect", "-f", "{{json .HostConfig.Links}}", "web"]).1;
    assert_eq!(links.trim(), "null");
    let (code, _, err) = docker(&["rm", "--link", "web/mydb"]);
    assert_eq!(code, 1);
    assert!(err.contains("No such container: web/mydb"), "{err}");
    let (code, _, err) = docker(&["rm", "--link", "db"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Conflict, cannot remove the default link name of the container"),
        "{err}"
    );
    // Both containers are still there.
    let mut left: Vec<String> = names().lines().map(str::to_string).collect();
    left.sort();
    assert_eq!(left, ["db", "web"]);
}

/// A v1 search index on a free loopback port (Python's http.server), standing in for Docker
/// Hub's index (`index.docker.io/v1/search`), which a real registry:2 does not serve. It logs
/// each search's `q` and `n`; the child is killed when dropped.
struct SearchIndex {
    child: std::process::Child,
    port: u16,
    log: std::path::PathBuf,
}

const SEARCH_INDEX: &str = r#"
import http.server, json, sys, urllib.parse
LOG = sys.argv[1]
RESULTS = [
    {"name": "busybox", "description": "Busybox base image.", "star_count": 3000,
     "is_official": True, "is_automated": False},
    {"name": "someone/busybox-tools",
     "description": "Tools on busybox,\nwith a description long enough to be cut at 45",
     "star_count": 12, "is_official": False, "is_automated": True},
    {"name": "other/busybox", "description": "", "star_count": 3,
     "is_official": False, "is_automated": False},
]
class Index(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/v1/_ping":
            body = b"true"
        elif url.path == "/v1/search":
            q = urllib.parse.parse_qs(url.query)
            term, n = q["q"][0], int(q["n"][0])
            with open(LOG, "a") as f:
                f.write(f"{term} {n}\n")
            found = [r for r in RESULTS if term in r["name"]][:n]
            body = json.dumps({"query": term, "num_results": len(found), "results": found}).encode()
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Index)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

impl SearchIndex {
    fn start(b: &Berth) -> SearchIndex {
        use std::io::BufRead;
        let log = b.scratch("searches.log");
        let mut child = Command::new("python3")
            .args(["-c", SEARCH_INDEX])
            .arg(&log)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().unwrap();
        SearchIndex { child, port, log }
    }

    fn searches(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for SearchIndex {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `docker search` through `berth serve` (`GET /images/search`) and `berth search`: the index
/// the term names (here a loopback one, so HTTPS is tried and plain HTTP used, as dockerd does
/// for an insecure registry) is asked with the limit; the filters, `--no-trunc` and `--format`
/// shape what is printed; a bad limit or filter is refused in dockerd's words.
#[test]
#[ignore = "needs root"]
fn docker_search_asks_the_index_the_term_names() {
    let d = DockerCli::start();
    let index = SearchIndex::start(&d.b);
    let term = format!("127.0.0.1:{}/busybox", index.port);
    let search = |extra: &[&str]| {
        let mut args = vec!["search"];
        args.extend_from_slice(extra);
        args.push(&term);
        let (code, out, err) = d.run(&args);
        assert_eq!(code, 0, "{err}");
        out
    };
    let table = search(&[]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(lines[0].starts_with("NAME"), "{table}");
    assert!(
        lines[1].starts_with("busybox ") && lines[1].contains("[OK]"),
        "{table}"
    );
    // Descriptions are cut at 45 characters, their newlines made spaces.
    assert!(
        lines[2].contains("Tools on busybox, with a description long en…"),
        "{table}"
    );
    assert!(search(&["--no-trunc"]).contains("long enough to be cut at 45"));
    let format = "{{.Name}}:{{.StarCount}}:{{.IsOfficial}}";
    assert_eq!(
        search(&["--format", format]),
        "busybox:3000:[OK]\nsomeone/busybox-tools:12:\nother/busybox:3:\n"
    );
    assert_eq!(
        search(&["--limit", "2", "--format", "{{.Name}}"]),
        "busybox\nsomeone/busybox-tools\n"
    );
    assert_eq!(
        search(&[
            "--filter",
            "is-official=false",
            "--filter",
            "stars=10",
            "--format",
            "{{.Name}}"
        ]),
        "someone/busybox-tools\n"
    );
    assert_eq!(
        search(&["--filter", "is-automated=true", "--format", "{{.Name}}"]),
        "someone/busybox-tools\n"
    );
    // The index got the term without its host, and the limits (25 unless given).
    let asked = index.searches();
    assert!(asked.starts_with("busybox 25\n"), "{asked}");
    assert!(asked.contains("busybox 2\n"), "{asked}");
    // The berth CLI prints what the docker CLI prints through the API.
    let own = d.b.run(&["search", "--format", format, &term]).ok().stdout;
    assert_eq!(own, search(&["--format", format]));
    for (args, words) in [
        (
            vec!["--limit", "101"],
            "Limit 101 is outside the range of [1, 100]",
        ),
        (vec!["--filter", "foo=bar"], "Invalid filter 'foo'"),
        (
            vec!["--filter", "is-official=maybe"],
            "Invalid filter 'is-official=[maybe]'",
        ),
        (
            vec!["--filter", "stars=many"],
            "Invalid filter 'stars=many'",
        ),
    ] {
        let mut all = vec!["search"];
        all.extend(args);
        all.push(&term);
        let (code, _, err) = d.run(&all);
        assert_eq!(code, 1, "{all:?}");
        assert!(err.contains(words), "{all:?}: {err}");
        let own = d.b.run(&all);
        assert_ne!(own.code, 0, "{all:?}");
        assert!(own.stderr.contains(words), "{all:?}: {}", own.stderr);
    }
    // No index there: dockerd's words for both attempts.
    let (code, _, err) = d.run(&["search", "127.0.0.1:1/busybox"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("invalid registry endpoint \"http://127.0.0.1:1/v1/\". HTTPS attempt: Get \"https://127.0.0.1:1/v1/_ping\""),
        "{err}"
    );
}

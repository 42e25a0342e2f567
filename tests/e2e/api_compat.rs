//! Issue 21 items 4 and 5: `berth serve` speaks every API version a Docker 20.10 daemon speaks
//! (1.12 to the newest) with the shapes that differ by version, and behaves as a careful HTTP
//! server: a request it cannot route still has its body read before the answer, an empty body
//! where JSON is required is a 400. Also `logs --details`, committed images' `Parent`, and the
//! `IMAGE` column as the docker CLI prints it.

use std::process::Command;

use crate::api::Server;
use crate::harness::*;

/// The parsed JSON of a 2xx answer.
#[track_caller]
fn ok_json(answer: (u16, String)) -> serde_json::Value {
    assert!((200..300).contains(&answer.0), "{answer:?}");
    serde_json::from_str(&answer.1).unwrap_or_else(|e| panic!("{e}: {answer:?}"))
}

fn keys(v: &serde_json::Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn r21_api_versions_down_to_1_12_with_their_shapes() {
    let b = Berth::new();
    b.busybox("busybox");
    let vol_dir = b.scratch("bound");
    std::fs::create_dir_all(&vol_dir).unwrap();
    let bind = format!("{}:/h:ro", vol_dir.display());
    b.run(&[
        "create", "--name", "old", "-v", "/data", "-v", &bind, "busybox", "true",
    ])
    .ok();
    let api = Server::start(&b);

    assert_eq!(
        api.call("GET", "/v1.11/_ping", None),
        (
            400,
            r#"{"message":"client version 1.11 is too old. Minimum supported API version is 1.12, please upgrade your client to a newer version"}"#
                .into()
        )
    );
    assert_eq!(api.call("GET", "/v1.12/_ping", None), (200, "OK".into()));
    let version = ok_json(api.call("GET", "/v1.12/version", None));
    assert_eq!(version["MinAPIVersion"], "1.12");

    // Inspect: before 1.20 `Volumes` and `VolumesRW` instead of `Mounts`; up to 1.20 the config
    // carries host settings and the network settings have no `Networks` (the keys a Docker
    // 20.10 daemon answers with).
    let v119 = ok_json(api.call("GET", "/v1.19/containers/old/json", None));
    let k = keys(&v119);
    assert!(!k.contains(&"Mounts".to_string()), "{k:?}");
    let data = v119["Volumes"]["/data"].as_str().unwrap();
    assert!(data.ends_with("/_data"), "{v119:#}");
    assert_eq!(v119["Volumes"]["/h"], vol_dir.display().to_string());
    assert_eq!(
        v119["VolumesRW"],
        serde_json::json!({"/data": true, "/h": false})
    );
    for key in [
        "MacAddress",
        "NetworkDisabled",
        "ExposedPorts",
        "VolumeDriver",
        "Memory",
        "MemorySwap",
        "CpuShares",
        "Cpuset",
    ] {
        assert!(
            v119["Config"].get(key).is_some(),
            "{key}: {:#}",
            v119["Config"]
        );
    }
    assert!(v119["NetworkSettings"].get("Networks").is_none());
    let v120 = ok_json(api.call("GET", "/v1.20/containers/old/json", None));
    assert!(v120.get("Volumes").is_none() && v120["Mounts"].as_array().unwrap().len() == 2);
    assert!(v120["Config"].get("VolumeDriver").is_some());
    assert!(v120["Config"].get("Cpuset").is_none());
    let v121 = ok_json(api.call("GET", "/v1.21/containers/old/json", None));
    assert!(v121["Config"].get("VolumeDriver").is_none());
    assert!(v121["NetworkSettings"].get("Networks").is_some());

    // /info before 1.25.
    let info = ok_json(api.call("GET", "/v1.24/info", None));
    assert_eq!(info["ExecutionDriver"], "<not supported>");
    assert!(ok_json(api.call("GET", "/v1.25/info", None))
        .get("ExecutionDriver")
        .is_none());

    // Create before 1.25: the client removes the container, AutoRemove is not the daemon's.
    let body = r#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"AutoRemove":true}}"#;
    ok_json(api.call("POST", "/v1.24/containers/create?name=oldrm", Some(body)));
    assert_eq!(b.inspect("oldrm")["HostConfig"]["AutoRemove"], false);
    assert_eq!(b.inspect("oldrm")["HostConfig"]["IpcMode"], "shareable");
    ok_json(api.call("POST", "/v1.25/containers/create?name=newrm", Some(body)));
    assert_eq!(b.inspect("newrm")["HostConfig"]["AutoRemove"], true);

    // Wait before 1.30 has no condition: a created container is "not running" at once.
    let out = Command::new("curl")
        .args(["-s", "-m", "20", "-X", "POST", "--unix-socket"])
        .arg(&api.sock)
        .arg("http://berth/v1.29/containers/old/wait?condition=next-exit")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"{"StatusCode":0,"Error":null}"#,
        "{out:?}"
    );

    // Images before 1.41: `filter=NAME` is a reference filter.
    b.run(&["tag", "busybox", "other:1"]).ok();
    let imgs = ok_json(api.call("GET", "/v1.40/images/json?filter=other", None));
    assert_eq!(
        imgs[0]["RepoTags"],
        serde_json::json!(["other:1"]),
        "{imgs:#}"
    );
    let imgs = ok_json(api.call("GET", "/v1.41/images/json?filter=other", None));
    assert_eq!(imgs[0]["RepoTags"].as_array().unwrap().len(), 2, "{imgs:#}");

    // A HostConfig sent with start is refused, not ignored.
    let (code, body) = api.call(
        "POST",
        "/v1.43/containers/old/start",
        Some(r#"{"Binds":["/x:/y"]}"#),
    );
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            r#"{"message":"starting container with non-empty request body was deprecated since API v1.22 and removed in v1.24"}"#
        )
    );
    let (code, _) = api.call(
        "POST",
        "/v1.23/containers/old/start",
        Some(r#"{"Binds":["/x:/y"]}"#),
    );
    assert_eq!(code, 400);
    assert_eq!(b.status_of("old"), "created");
}

#[test]
fn r21_a_request_is_read_before_it_is_refused() {
    let b = Berth::new();
    let api = Server::start(&b);
    // An unknown route, an unsupported version: the whole body is read, then the answer.
    // A client that sends its whole body before it reads the answer (Python's http.client,
    // like Go's transport, gets "broken pipe" if the server answers and closes first).
    let script = r#"
import http.client, socket, sys
class C(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(sys.argv[1])
c = C("berth")
try:
    c.request("POST", sys.argv[2], body=b" " * (8 << 20), headers={"Content-Type": "application/json"})
    r = c.getresponse()
    print(r.status, r.read().decode().strip())
except OSError as e:
    print("error:", e)
"#;
    for (path, want) in [
        (
            "/v1.43/no/such/route",
            r#"404 {"message":"page not found"}"#,
        ),
        (
            "/v1.99/volumes/create",
            r#"400 {"message":"client version 1.99 is too new. Maximum supported API version is 1.43"}"#,
        ),
    ] {
        for _ in 0..3 {
            let out = Command::new("python3")
                .args(["-c", script])
                .arg(&api.sock)
                .arg(path)
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), want, "{out:?}");
        }
    }

    // Docker needs a body where it reads JSON; `null` is an empty request.
    assert_eq!(
        api.call("POST", "/v1.43/volumes/create", None),
        (
            400,
            r#"{"message":"got EOF while reading request body"}"#.into()
        )
    );
    assert_eq!(
        api.call("POST", "/v1.43/volumes/create", Some(" ")),
        (
            400,
            r#"{"message":"got EOF while reading request body"}"#.into()
        )
    );
    assert_eq!(b.run(&["volume", "ls", "-q"]).ok().stdout, "");
    let v = ok_json(api.call("POST", "/v1.43/volumes/create", Some("null")));
    assert_eq!(v["Name"].as_str().map(str::len), Some(64));
}

#[test]
fn r21_logs_details() {
    let b = Berth::new();
    b.busybox("busybox");
    b.run(&[
        "run",
        "--name",
        "lg",
        "busybox",
        "sh",
        "-c",
        "echo a; echo b >&2",
    ])
    .ok();
    // Without attributes an entry's details are empty: a space before the line, as Docker.
    let out = b.run(&["logs", "--details", "lg"]).ok();
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), (" a\n", " b\n"));
    let out = b.run(&["logs", "lg"]).ok();
    assert_eq!(out.stdout, "a\n");
    let api = Server::start(&b);
    let (code, body) = api.call("GET", "/v1.43/containers/lg/logs?stdout=1&details=1", None);
    assert_eq!(code, 200);
    // One multiplexed frame: stdout, 3 bytes.
    assert_eq!(body.as_bytes(), b"\x01\0\0\0\0\0\0\x03 a");
}

#[test]
fn r21_commit_has_a_parent_and_ps_shows_what_the_container_was_created_from() {
    let b = Berth::new();
    let id = b.busybox("busybox");
    b.run(&[
        "run",
        "--name",
        "c1",
        "library/busybox",
        "sh",
        "-c",
        "echo x > /x",
    ])
    .ok();
    b.run(&[
        "create",
        "--name",
        "c2",
        "docker.io/library/busybox:latest",
        "true",
    ])
    .ok();
    let snap = b
        .run(&["commit", "c1", "snap:1"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let api = Server::start(&b);
    let parent = b
        .run(&["image", "inspect", "-f", "{{.Parent}}", "snap:1"])
        .ok()
        .stdout;
    assert_eq!(parent.trim(), id);
    let inspect = ok_json(api.call("GET", "/v1.43/images/snap:1/json", None));
    assert_eq!(inspect["Parent"], id.as_str());
    assert_eq!(inspect["Id"], snap.as_str());
    let imgs = ok_json(api.call("GET", "/v1.43/images/json", None));
    let listed = imgs
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["Id"] == snap.as_str())
        .unwrap();
    assert_eq!(listed["ParentId"], id.as_str());

    // The docker CLI prints the familiar reference the container was created from.
    b.run(&["run", "--name", "c3", "snap:1", "true"]).ok();
    let ps = b
        .run(&["ps", "-a", "--format", "{{.Names}} {{.Image}}"])
        .ok();
    assert_eq!(ps.stdout, "c3 snap:1\nc2 busybox:latest\nc1 busybox\n");
    // Once the name points elsewhere: the image ID, full in the API, short in the table.
    b.run(&["tag", "busybox", "snap:1"]).ok();
    let ps = b
        .run(&["ps", "-a", "-n", "1", "--format", "{{.Image}}"])
        .ok();
    assert_eq!(ps.stdout, format!("{}\n", &snap[7..19]));
    let list = ok_json(api.call("GET", "/v1.43/containers/json?all=1&limit=1", None));
    assert_eq!(list[0]["Image"], snap.as_str());
}

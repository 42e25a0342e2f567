//! Registries through `berth serve`: the real docker CLI's `pull`, `push` and `login`, and
//! docker-py's `images.pull` / `images.push`, against real registries. Credentials reach the
//! engine only as `X-Registry-Auth`, as with Docker's daemon.

use std::process::Command;

use crate::api::{docker_cli, docker_py, Server};
use crate::harness::*;
use crate::registry_harness::*;

/// `docker -H <sock> ARGS` with a credentials dir of the test's own.
fn docker(b: &Berth, api: &Server, args: &[&str]) -> Run {
    output_timeout(
        docker_cmd(b, api, args),
        None,
        std::time::Duration::from_secs(120),
    )
}

fn docker_cmd(b: &Berth, api: &Server, args: &[&str]) -> Command {
    let cli = docker_cli().expect("no docker CLI on PATH: apt install docker.io");
    let mut c = Command::new(cli);
    c.env("DOCKER_CONFIG", b.scratch("docker-config"))
        .env_remove("DOCKER_CONTEXT")
        .arg("-H")
        .arg(format!("unix://{}", api.sock.display()))
        .args(args);
    c
}

#[test]
#[ignore = "needs root"]
fn the_docker_cli_logs_in_pushes_and_pulls_through_berth_serve() {
    let mut plain = Registry::start(Kind::Plain);
    let reg = plain.behind_basic_auth();
    // `localhost:PORT`, as users name a local registry.
    let host = format!("localhost:{}", reg.port);
    let b = Berth::new();
    b.busybox("busybox");
    let api = Server::start(&b);
    let name = format!("{host}/team/app:1");
    b.run(&["tag", "busybox", &name]).ok();
    let denied = docker(&b, &api, &["push", &name]);
    assert_ne!(denied.code, 0, "{denied:?}");
    let bad = docker(&b, &api, &["login", "-u", "berth", "-p", "wrong", &host]);
    assert_ne!(bad.code, 0, "{bad:?}");
    assert!(bad.stderr.contains("unauthorized"), "{bad:?}");
    let ok = docker(&b, &api, &["login", "-u", "berth", "-p", "s3cret", &host]);
    assert_eq!(ok.code, 0, "{ok:?}");
    assert!(ok.stdout.contains("Login Succeeded"), "{ok:?}");
    let push = docker(&b, &api, &["push", &name]);
    assert_eq!(push.code, 0, "{push:?}");
    assert!(
        push.stdout.contains("Pushed") && push.stdout.contains("1: digest: sha256:"),
        "{push:?}"
    );
    // Pull into an empty root through the API: `docker pull` and `docker run` of a missing image.
    b.run(&["rmi", &name]).ok();
    b.run(&["rmi", "busybox"]).ok();
    let pull = docker(&b, &api, &["pull", &name]);
    assert_eq!(pull.code, 0, "{pull:?}");
    assert!(
        pull.stdout
            .contains(&format!("Status: Downloaded newer image for {name}")),
        "{pull:?}"
    );
    b.run(&["rmi", &name]).ok();
    let run = docker(
        &b,
        &api,
        &["run", "--rm", &name, "echo", "from the registry"],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "from the registry\n");
    assert!(
        run.stderr
            .contains(&format!("Unable to find image '{name}' locally")),
        "{run:?}"
    );
    // Errors come back as docker prints them.
    let missing = docker(&b, &api, &["pull", &format!("{host}/team/app:nope")]);
    assert_eq!(missing.code, 1, "{missing:?}");
    assert!(
        missing
            .stderr
            .contains(&format!("manifest for {host}/team/app:nope not found")),
        "{missing:?}"
    );
    // /distribution answers what the registry has.
    let (code, body) = api.call("GET", &format!("/distribution/{name}/json"), None);
    assert_eq!(code, 401, "anonymous: {body}");
    assert!(body.contains("no basic auth credentials"), "{body}");
}

#[test]
#[ignore = "needs root"]
fn docker_py_pulls_and_pushes_through_berth_serve() {
    let reg = Registry::start(Kind::Plain);
    let host = reg.host();
    let b = Berth::new();
    b.busybox("busybox");
    let api = Server::start(&b);
    let name = format!("{host}/py/app");
    b.run(&["tag", "busybox", &format!("{name}:1")]).ok();
    let out = docker_py(
        &api,
        &format!(
            r#"
import sys, docker
c = docker.DockerClient(base_url="unix://" + sys.argv[1])
lines = list(c.images.push("{name}", tag="1", stream=True, decode=True))
assert any("aux" in l for l in lines), lines
assert not any("error" in l for l in lines), lines
c.images.remove("{name}:1")
img = c.images.pull("{name}", tag="1")
print(img.id, sorted(img.tags))
"#
        ),
    );
    let id = b
        .run(&["image", "inspect", "--format", "{{.Id}}", "busybox"])
        .ok();
    assert_eq!(
        out.trim(),
        format!("{} ['{name}:1', 'busybox:latest']", id.stdout.trim())
    );
    let (code, body) = api.call("GET", &format!("/distribution/{name}:1/json"), None);
    assert_eq!(code, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["Descriptor"]["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(v["Platforms"][0]["architecture"], "amd64");
}

#[test]
#[ignore = "needs root"]
fn the_docker_cli_and_berth_share_a_credential_helper() {
    let reg = Registry::start(Kind::Basic {
        user: "berth".into(),
        password: "s3cret".into(),
    });
    let host = reg.host();
    let b = Berth::new();
    b.busybox("busybox");
    let api = Server::start(&b);
    let bin = b.scratch("helpers");
    let kept = credential_helper(&bin, "berthshared");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let config = b.scratch("docker-config");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("config.json"),
        r#"{"credsStore": "berthshared"}"#,
    )
    .unwrap();
    // The docker CLI logs in through berth serve; its helper keeps the secret.
    let mut login = docker_cmd(
        &b,
        &api,
        &["login", "-u", "berth", "--password-stdin", &host],
    );
    login.env("PATH", &path);
    let out = output_timeout(login, Some(b"s3cret"), std::time::Duration::from_secs(120));
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("Login Succeeded"), "{out:?}");
    assert!(kept.join(host.replace(':', "_")).exists());
    // berth's own CLI finds it there and pushes, then pulls into an empty store.
    let name = format!("{host}/team/app:1");
    b.run(&["tag", "busybox", &name]).ok();
    let berth = |args: &[&str]| {
        let mut c = b.command(args);
        c.env("DOCKER_CONFIG", &config).env("PATH", &path);
        output_timeout(c, None, std::time::Duration::from_secs(120))
    };
    berth(&["push", &name]).ok();
    b.run(&["rmi", &name]).ok();
    b.run(&["rmi", "busybox"]).ok();
    let pull = berth(&["pull", &name]).ok();
    assert!(
        pull.stdout
            .contains(&format!("Status: Downloaded newer image for {name}")),
        "{pull:?}"
    );
    // berth logout erases it; without it the registry is asked with nothing, in Docker's words.
    berth(&["logout", &host]).ok();
    assert!(!kept.join(host.replace(':', "_")).exists());
    b.run(&["rmi", &name]).ok();
    let denied = berth(&["pull", &name]).fails(1);
    assert!(
        denied.stderr.contains(&format!(
            "Error response from daemon: Get \"http://{host}/v2/team/app/manifests/1\": no basic auth credentials"
        )),
        "{denied:?}"
    );
}

/// `DOCKER_BUILDKIT=0 docker build` through berth serve pulls a missing base image, and
/// `--pull` (`pull=1`) pulls it again, with the credentials the CLI sends in
/// `X-Registry-Config`; the pull's messages reach the CLI inside the build's stream.
#[test]
#[ignore = "needs root"]
fn the_docker_cli_builds_on_a_pulled_base_through_berth_serve() {
    let mut plain = Registry::start(Kind::Plain);
    Seed::new(&plain).image(
        "team/base",
        "1",
        &[busybox_tar()],
        Compression::Gzip,
        "amd64",
        serde_json::json!({"Cmd": ["sh"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}),
    );
    let reg = plain.behind_basic_auth();
    let host = reg.host();
    let base = format!("{host}/team/base:1");
    let b = Berth::new();
    let api = Server::start(&b);
    let ctx = b.scratch("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("FROM {base}\nRUN echo built > /made\n"),
    )
    .unwrap();
    let ctx = ctx.to_str().unwrap();
    let build = |args: &[&str]| {
        let cli = docker_cli().expect("no docker CLI on PATH: apt install docker.io");
        let mut c = Command::new(cli);
        c.env("DOCKER_CONFIG", b.scratch("docker-config"))
            .env("DOCKER_BUILDKIT", "0")
            .env_remove("DOCKER_CONTEXT")
            .arg("-H")
            .arg(format!("unix://{}", api.sock.display()))
            .arg("build")
            .args(args)
            .arg(ctx);
        output_timeout(c, None, std::time::Duration::from_secs(120))
    };
    // Without credentials the registry refuses, and the build stops at its FROM.
    let denied = build(&["-t", "built:1"]);
    assert_eq!(denied.code, 1, "{denied:?}");
    assert!(
        denied.stderr.contains("no basic auth credentials"),
        "{denied:?}"
    );
    assert!(b.run(&["images", "-q"]).ok().stdout.is_empty());
    let login = docker(&b, &api, &["login", "-u", "berth", "-p", "s3cret", &host]);
    assert_eq!(login.code, 0, "{login:?}");
    let out = build(&["-t", "built:1"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains(&format!(
            "Step 1/2 : FROM {base}\n1: Pulling from team/base\n"
        )),
        "{out:?}"
    );
    assert!(
        out.stdout
            .contains(&format!("Status: Downloaded newer image for {base}")),
        "{out:?}"
    );
    let run = b.run(&["run", "--rm", "built:1", "cat", "/made"]).ok();
    assert_eq!(run.stdout, "built\n");
    let again = build(&["--pull", "-t", "built:1"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert!(
        again
            .stdout
            .contains(&format!("Status: Image is up to date for {base}")),
        "{again:?}"
    );
    assert!(again.stdout.contains(" ---> Using cache"), "{again:?}");
}

//! Pulls from real registries (Debian's `docker-registry`, one per test on a loopback port):
//! plain HTTP, TLS with a client certificate from certs.d, Basic and token auth, mirrors; what
//! users see (Docker's progress lines and errors), what lands in the store, and what is left when
//! a pull fails, is interrupted, or is killed.

use std::time::Duration;

use crate::harness::*;
use crate::registry_harness::*;

const PULL: Duration = Duration::from_secs(120);

/// A berth with a credentials dir of its own (DOCKER_CONFIG), so nothing global is touched.
struct Client {
    b: Berth,
}

impl Client {
    fn new() -> Client {
        Client { b: Berth::new() }
    }

    fn docker_config(&self) -> std::path::PathBuf {
        self.b.scratch("docker-config")
    }

    fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = self.b.command(args);
        c.env("DOCKER_CONFIG", self.docker_config());
        c
    }

    fn run(&self, args: &[&str]) -> Run {
        output_timeout(self.cmd(args), None, PULL)
    }

    fn run_stdin(&self, args: &[&str], input: &[u8]) -> Run {
        output_timeout(self.cmd(args), Some(input), PULL)
    }

    /// Nothing of a pull is left: no image, no layer directory, no staging files.
    #[track_caller]
    fn assert_store_empty(&self) {
        let images = self.run(&["images", "-q", "-a"]).ok();
        assert_eq!(images.stdout.trim(), "", "{images:?}");
        let layers: Vec<String> = std::fs::read_dir(self.b.root().join("layers"))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n != "l")
                    .collect()
            })
            .unwrap_or_default();
        assert!(layers.is_empty(), "layer dirs left: {layers:?}");
        let tmp: Vec<_> = std::fs::read_dir(self.b.root().join("tmp"))
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(tmp.is_empty(), "staging left: {tmp:?}");
    }
}

/// The three-layer test image (busybox, a data layer, a whiteout layer) seeded as `repo:tag`.
fn seed_three_layers(reg: &Registry, repo: &str, tag: &str, c: Compression) -> Seeded {
    let layers = three_layers();
    Seed::new(reg).image(
        repo,
        tag,
        &layers,
        c,
        "amd64",
        serde_json::json!({"Cmd": ["sh"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}),
    )
}

fn three_layers() -> Vec<Vec<u8>> {
    vec![
        busybox_tar(),
        tar_of(&[
            Entry::OwnedDir("data", 0o750, 1000, 2000),
            Entry::Owned("data/a.txt", b"hello\n", 0o644, 1000, 2000),
            Entry::Dir("data/sub", 0o755),
            Entry::File("data/sub/b.txt", b"bee\n", 0o644),
        ]),
        tar_of(&[
            Entry::Dir("data", 0o750),
            Entry::Dir("data/sub", 0o755),
            Entry::File("data/sub/.wh.b.txt", b"", 0o600),
            Entry::File("data/c.txt", b"sea\n", 0o644),
        ]),
    ]
}

#[test]
#[ignore = "needs root"]
fn pull_prints_dockers_lines_and_the_image_runs() {
    let reg = Registry::start(Kind::Plain);
    let seeded = seed_three_layers(&reg, "team/app", "1", Compression::Gzip);
    let c = Client::new();
    let name = format!("{}/team/app:1", reg.host());
    let out = c.run(&["pull", &name]).ok();
    let short: Vec<String> = seeded
        .layer_digests
        .iter()
        .map(|d| d[7..19].to_string())
        .collect();
    let lines = out.lines();
    assert_eq!(lines[0], "1: Pulling from team/app", "{out:?}");
    for s in &short {
        for status in ["Pulling fs layer", "Download complete", "Pull complete"] {
            assert!(
                lines.contains(&format!("{s}: {status}").as_str()),
                "{s} {status}: {out:?}"
            );
        }
    }
    assert!(
        !out.stdout.contains("Downloading"),
        "no bars in a pipe: {out:?}"
    );
    let n = lines.len();
    assert_eq!(lines[n - 3], format!("Digest: {}", seeded.manifest_digest));
    assert_eq!(
        lines[n - 2],
        format!("Status: Downloaded newer image for {name}")
    );
    assert_eq!(lines[n - 1], name);
    // The image ID is the config digest; RepoDigests and images --digests show the manifest.
    let inspect = c.run(&["image", "inspect", &name]).ok();
    let v: serde_json::Value = serde_json::from_str(&inspect.stdout).unwrap();
    assert_eq!(v[0]["Id"], seeded.config_digest);
    assert_eq!(
        v[0]["RepoDigests"],
        serde_json::json!([format!(
            "{}/team/app@{}",
            reg.host(),
            seeded.manifest_digest
        )])
    );
    assert_eq!(v[0]["RootFS"]["Layers"], serde_json::json!(seeded.diff_ids));
    let digests = c
        .run(&[
            "images",
            "--digests",
            "--format",
            "{{.Repository}} {{.Tag}} {{.Digest}}",
        ])
        .ok();
    assert_eq!(
        digests.stdout.trim(),
        format!("{}/team/app 1 {}", reg.host(), seeded.manifest_digest)
    );
    // Layers, whiteouts and owners arrived intact.
    let run = c
        .run(&[
            "run",
            "--rm",
            &name,
            "sh",
            "-c",
            "cat /data/a.txt /data/c.txt; ls /data/sub | wc -l; stat -c %u:%g /data/a.txt",
        ])
        .ok();
    assert_eq!(run.stdout, "hello\nsea\n0\n1000:2000\n");
    // Again: nothing to fetch.
    let again = c.run(&["pull", &name]).ok();
    assert_eq!(
        again.lines(),
        [
            "1: Pulling from team/app".to_string(),
            format!("Digest: {}", seeded.manifest_digest),
            format!("Status: Image is up to date for {name}"),
            name.clone(),
        ]
    );
    // -q prints the name only; by digest works too.
    let by_digest = format!("{}/team/app@{}", reg.host(), seeded.manifest_digest);
    let q = c.run(&["pull", "-q", &by_digest]).ok();
    assert_eq!(q.stdout, format!("{by_digest}\n"));
    // Each pull is an image event naming the reference pulled, as dockerd records it.
    let repo = format!("{}/team/app", reg.host());
    assert_eq!(
        image_events(&c),
        [
            format!("pull {name} {repo}"),
            format!("pull {name} {repo}"),
            format!("pull {by_digest} {repo}"),
        ]
    );
    // rmi of the repository's last tag takes its digest name along, and the image goes, as
    // with dockerd.
    let rmi = c.run(&["rmi", &name]).ok();
    assert_eq!(
        rmi.lines()[..2],
        [
            format!("Untagged: {name}").as_str(),
            format!("Untagged: {by_digest}").as_str()
        ],
        "{rmi:?}"
    );
    assert!(
        rmi.stdout
            .contains(&format!("Deleted: {}", seeded.config_digest)),
        "{rmi:?}"
    );
    c.assert_store_empty();
}

/// `berth events` of type image so far: `ACTION ID NAME` lines.
fn image_events(c: &Client) -> Vec<String> {
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    let out = c
        .run(&[
            "events",
            "--since",
            "0",
            "--until",
            &until.to_string(),
            "--filter",
            "type=image",
            "--format",
            "{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}",
        ])
        .ok();
    out.stdout.lines().map(str::to_string).collect()
}

#[test]
#[ignore = "needs root"]
fn run_pulls_a_missing_image_and_pull_policies_hold() {
    let reg = Registry::start(Kind::Plain);
    seed_three_layers(&reg, "team/app", "1", Compression::Gzip);
    let c = Client::new();
    // `localhost:PORT`, as users name a local registry (insecure by default, as in Docker).
    let name = format!("localhost:{}/team/app:1", reg.port);
    let never = c
        .run(&["run", "--rm", "--pull", "never", &name, "true"])
        .fails(125);
    assert!(
        never.stderr.contains(&format!("No such image: {name}")),
        "{never:?}"
    );
    assert!(!never.stderr.contains("Unable to find image"), "{never:?}");
    let out = c.run(&["run", "--rm", &name, "cat", "/data/a.txt"]).ok();
    assert_eq!(out.stdout, "hello\n");
    assert!(
        out.stderr.starts_with(&format!(
            "Unable to find image '{name}' locally\n1: Pulling from team/app\n"
        )),
        "{out:?}"
    );
    assert!(out
        .stderr
        .contains(&format!("Status: Downloaded newer image for {name}")));
    // Present: no pull; --pull always: pulls again (up to date).
    let quiet = c.run(&["run", "--rm", &name, "true"]).ok();
    assert_eq!(quiet.stderr, "");
    let always = c
        .run(&["run", "--rm", "--pull", "always", &name, "true"])
        .ok();
    assert!(
        always
            .stderr
            .contains(&format!("Status: Image is up to date for {name}")),
        "{always:?}"
    );
    let bad = c
        .run(&["run", "--rm", "--pull", "sometimes", &name, "true"])
        .fails(125);
    assert!(
        bad.stderr.contains("invalid pull option: 'sometimes'"),
        "{bad:?}"
    );
    // A missing tag: docker's words, exit 125, nothing created.
    let missing = format!("localhost:{}/team/app:nope", reg.port);
    let err = c.run(&["run", "--rm", &missing, "true"]).fails(125);
    assert!(
        err.stderr.contains(&format!(
            "Error response from daemon: manifest for {missing} not found: manifest unknown: manifest unknown"
        )),
        "{err:?}"
    );
    assert!(c.b.ps_all().is_empty());
}

#[test]
#[ignore = "needs root"]
fn failed_pulls_say_why_and_leave_nothing() {
    let mut reg = Registry::start(Kind::Plain);
    let seeded = seed_three_layers(&reg, "team/app", "1", Compression::Gzip);
    let c = Client::new();
    let host = reg.host();
    let err = c.run(&["pull", &format!("{host}/team/app:nope")]).fails(1);
    assert_eq!(
        err.stderr.trim(),
        format!("Error response from daemon: manifest for {host}/team/app:nope not found: manifest unknown: manifest unknown")
    );
    assert_eq!(err.stdout, "");
    let err = c.run(&["pull", &format!("{host}/nobody/here")]).fails(1);
    assert!(
        err.stdout.starts_with("Using default tag: latest\n"),
        "{err:?}"
    );
    assert!(
        err.stderr
            .contains(&format!("manifest for {host}/nobody/here:latest not found")),
        "{err:?}"
    );
    let err = c.run(&["pull", "team/UPPER"]).fails(1);
    assert_eq!(
        err.stderr.trim(),
        "invalid reference format: repository name (team/UPPER) must be lowercase"
    );
    c.assert_store_empty();

    // A corrupted layer (same size, other bytes): the digest check refuses it.
    let blob = reg.blob_file(&seeded.layer_digests[1]);
    let good = std::fs::read(&blob).unwrap();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0xff;
    std::fs::write(&blob, &bad).unwrap();
    let err = c.run(&["pull", &format!("{host}/team/app:1")]).fails(1);
    assert!(err.stderr.contains("verification failed"), "{err:?}");
    assert!(err.stderr.contains(&seeded.layer_digests[1]), "{err:?}");
    c.assert_store_empty();
    // A truncated layer.
    std::fs::write(&blob, &good[..good.len() / 2]).unwrap();
    let err = c.run(&["pull", &format!("{host}/team/app:1")]).fails(1);
    assert!(
        err.stderr.contains("Error response from daemon:"),
        "{err:?}"
    );
    c.assert_store_empty();
    std::fs::write(&blob, &good).unwrap();
    // A manifest whose bytes do not match its digest.
    let mblob = reg.blob_file(&seeded.manifest_digest);
    let mut m = std::fs::read(&mblob).unwrap();
    let pos = m.iter().position(|b| *b == b'\n').unwrap();
    m[pos] = b' ';
    std::fs::write(&mblob, &m).unwrap();
    let err = c.run(&["pull", &format!("{host}/team/app:1")]).fails(1);
    assert!(err.stderr.contains("manifest of"), "{err:?}");
    assert!(err.stderr.contains("verification failed"), "{err:?}");
    c.assert_store_empty();
    // No registry at all.
    reg.stop();
    let err = c.run(&["pull", &format!("{host}/team/app:1")]).fails(1);
    assert!(
        err.stderr.contains(&format!("Get \"http://{host}/v2/\""))
            && err.stderr.contains("connection refused"),
        "{err:?}"
    );
    c.assert_store_empty();
}

#[test]
#[ignore = "needs root"]
fn zstd_and_plain_layers_and_foreign_layers() {
    let reg = Registry::start(Kind::Plain);
    let layers = three_layers();
    let seed = Seed::new(&reg);
    let z = seed.image(
        "team/z",
        "1",
        &layers,
        Compression::Zstd,
        "amd64",
        serde_json::json!({"Cmd": ["sh"]}),
    );
    let p = seed.image(
        "team/p",
        "1",
        &layers,
        Compression::None,
        "amd64",
        serde_json::json!({"Cmd": ["sh"]}),
    );
    assert_eq!(z.config_digest, p.config_digest, "same layers, same image");
    let c = Client::new();
    c.run(&["pull", &format!("{}/team/z:1", reg.host())]).ok();
    let out = c
        .run(&[
            "run",
            "--rm",
            &format!("{}/team/z:1", reg.host()),
            "cat",
            "/data/c.txt",
        ])
        .ok();
    assert_eq!(out.stdout, "sea\n");
    // The plain one is the same image: nothing new to fetch.
    let again = c.run(&["pull", &format!("{}/team/p:1", reg.host())]).ok();
    assert!(!again.stdout.contains("Pulling fs layer"), "{again:?}");
    let ids = c.run(&["images", "-q", "--no-trunc"]).ok();
    assert_eq!(ids.stdout.trim(), z.config_digest);

    // A foreign (non-distributable) layer is refused before anything is fetched.
    let cfg = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:".to_string() + &"a".repeat(64)]},
    }))
    .unwrap();
    let cfg_digest = seed.blob("team/f", &cfg);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": cfg.len(), "digest": cfg_digest},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "size": 10,
                    "digest": "sha256:".to_string() + &"b".repeat(64), "urls": ["https://example.invalid/layer"]}],
    });
    assert_eq!(
        seed.manifest(
            "team/f",
            "1",
            "application/vnd.docker.distribution.manifest.v2+json",
            manifest.to_string().as_bytes()
        ),
        201
    );
    let c2 = Client::new();
    let err = c2
        .run(&["pull", &format!("{}/team/f:1", reg.host())])
        .fails(1);
    assert!(
        err.stderr.contains("foreign (non-distributable) layer"),
        "{err:?}"
    );
    c2.assert_store_empty();
}

#[test]
#[ignore = "needs root"]
fn an_oci_image_manifest_pulls_runs_and_pushes_back_as_the_same_image() {
    let reg = Registry::start(Kind::Plain);
    let host = reg.host();
    let seed = Seed::new(&reg);
    let oci = seed.image_as(
        ManifestFormat::Oci,
        "team/oci",
        "1",
        &three_layers(),
        Compression::Gzip,
        "amd64",
        serde_json::json!({"Cmd": ["sh"]}),
    );
    let c = Client::new();
    let name = format!("{host}/team/oci:1");
    let out = c.run(&["pull", &name]).ok();
    assert!(
        out.stdout
            .contains(&format!("Digest: {}", oci.manifest_digest)),
        "{out:?}"
    );
    let seen = c
        .run(&[
            "image",
            "inspect",
            "--format",
            "{{.Id}} {{json .RepoDigests}}",
            &name,
        ])
        .ok();
    assert_eq!(
        seen.stdout.trim(),
        format!(
            "{} [\"{host}/team/oci@{}\"]",
            oci.config_digest, oci.manifest_digest
        )
    );
    let run = c.run(&["run", "--rm", &name, "cat", "/data/c.txt"]).ok();
    assert_eq!(run.stdout, "sea\n");
    // Pushed elsewhere and pulled by another store, it is the same image.
    let copy = format!("{host}/team/oci-copy:1");
    c.run(&["tag", &name, &copy]).ok();
    c.run(&["push", &copy]).ok();
    let other = Client::new();
    other.run(&["pull", &copy]).ok();
    let id = other
        .run(&["image", "inspect", "--format", "{{.Id}}", &copy])
        .ok();
    assert_eq!(id.stdout.trim(), oci.config_digest);
}

#[test]
#[ignore = "needs root"]
fn pull_all_tags_rides_out_a_busy_registry_and_refuses_schema1() {
    let reg = Registry::start(Kind::Plain);
    let one = seed_three_layers(&reg, "team/app", "1", Compression::Gzip);
    let two = Seed::new(&reg).image(
        "team/app",
        "2",
        &three_layers()[..2],
        Compression::Gzip,
        "amd64",
        serde_json::json!({"Cmd": ["true"]}),
    );
    let proxy = Proxy::start(reg.port);
    let c = Client::new();
    let repo = format!("{}/team/app", proxy.host());
    // A tag with -a: refused by the CLI before anything is asked, in the docker CLI's words.
    let err = c.run(&["pull", "-a", &format!("{repo}:1")]).fails(1);
    assert_eq!(err.stderr, "tag can't be used with --all-tags/-a\n");
    assert!(proxy.requests().is_empty(), "{:?}", proxy.requests());
    // The registry answers 503 to the first two downloads of a layer: retried with back-off.
    let busy = &one.layer_digests[2];
    proxy.answer(Canned {
        method: "GET",
        path_suffix: format!("/blobs/{busy}"),
        status: 503,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: br#"{"errors":[{"code":"UNAVAILABLE","message":"service unavailable"}]}"#.to_vec(),
        times: 2,
    });
    // -a: every tag in the registry's order, one Status line for the repository, as dockerd.
    let out = c.run(&["pull", "-a", &repo]).ok();
    let tags: serde_json::Value = serde_json::from_str(
        &std::process::Command::new("curl")
            .args([
                "-sf",
                &format!("http://{}/v2/team/app/tags/list", reg.host()),
            ])
            .output()
            .unwrap()
            .stdout
            .iter()
            .map(|b| *b as char)
            .collect::<String>(),
    )
    .unwrap();
    let order: Vec<&str> = tags["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let pulling: Vec<&str> = out
        .lines()
        .into_iter()
        .filter(|l| l.ends_with(": Pulling from team/app"))
        .collect();
    let want: Vec<String> = order
        .iter()
        .map(|t| format!("{t}: Pulling from team/app"))
        .collect();
    assert_eq!(pulling, want, "{out:?}");
    let lines = out.lines();
    let n = lines.len();
    let status = format!("Status: Downloaded newer image for {repo}");
    assert_eq!(lines[n - 2..], [status.as_str(), repo.as_str()], "{out:?}");
    assert_eq!(
        out.stdout.matches("Status:").count(),
        1,
        "one status line: {out:?}"
    );
    for digest in [&one.manifest_digest, &two.manifest_digest] {
        assert!(
            lines.contains(&format!("Digest: {digest}").as_str()),
            "{out:?}"
        );
    }
    assert_eq!(proxy.blob_gets(busy).len(), 3, "{:?}", proxy.requests());
    let images = c
        .run(&["images", "--format", "{{.Tag}} {{.ID}}", &repo])
        .ok();
    let mut got: Vec<&str> = images.stdout.lines().collect();
    got.sort();
    assert_eq!(
        got,
        [
            format!("1 {}", &one.config_digest[7..19]),
            format!("2 {}", &two.config_digest[7..19]),
        ]
    );
    let again = c.run(&["pull", "-a", &repo]).ok();
    assert!(
        again
            .stdout
            .ends_with(&format!("Status: Image is up to date for {repo}\n{repo}\n")),
        "{again:?}"
    );
    assert!(!again.stdout.contains("Pulling fs layer"), "{again:?}");
    assert_eq!(
        image_events(&c),
        [format!("pull {repo} {repo}"), format!("pull {repo} {repo}")]
    );

    // A registry that stays unavailable: a few tries, then its words; nothing stored.
    proxy.answer(Canned {
        method: "GET",
        path_suffix: "/manifests/3".into(),
        status: 503,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: br#"{"errors":[{"code":"UNAVAILABLE","message":"service unavailable"}]}"#.to_vec(),
        times: 100,
    });
    let err = c.run(&["pull", &format!("{repo}:3")]).fails(1);
    assert!(
        err.stderr.starts_with("Error response from daemon:")
            && err.stderr.contains("service unavailable"),
        "{err:?}"
    );
    let tries = proxy
        .requests()
        .iter()
        .filter(|l| l.path.ends_with("/manifests/3"))
        .count();
    assert!(tries > 1, "retried: {:?}", proxy.requests());

    // A schema 1 manifest (which distribution 2.8 would want signed to store): Docker's notice.
    let s1 = br#"{"schemaVersion":1,"name":"team/app","tag":"old","architecture":"amd64","fsLayers":[],"history":[],"signatures":[]}"#;
    proxy.answer(Canned {
        method: "GET",
        path_suffix: "/manifests/old".into(),
        status: 200,
        headers: vec![
            (
                "Content-Type".into(),
                "application/vnd.docker.distribution.manifest.v1+prettyjws".into(),
            ),
            (
                "Docker-Content-Digest".into(),
                format!("sha256:{}", "0".repeat(64)),
            ),
        ],
        body: s1.to_vec(),
        times: 1,
    });
    let err = c.run(&["pull", &format!("{repo}:old")]).fails(1);
    assert_eq!(
        err.stderr.trim(),
        format!(
            "Error response from daemon: [DEPRECATION NOTICE] Docker Image Format v1 and Docker Image manifest version 2, schema 1 support is disabled by default and will be removed in an upcoming release. Suggest the author of {repo}:old to upgrade the image to the OCI Format or Docker Image manifest v2, schema 2. More information at https://docs.docker.com/go/deprecated-image-specs/"
        )
    );
    let ids = c.run(&["images", "-q"]).ok();
    assert_eq!(ids.stdout.lines().count(), 2, "{ids:?}");
}

#[test]
#[ignore = "needs root"]
fn an_index_gives_this_machines_platform_or_the_one_asked_for() {
    let reg = Registry::start(Kind::Plain);
    let seed = Seed::new(&reg);
    let amd = seed.image(
        "team/multi",
        "amd64",
        &three_layers(),
        Compression::Gzip,
        "amd64",
        serde_json::json!({"Cmd": ["sh"]}),
    );
    let arm_layer = tar_of(&[Entry::File("arch", b"arm64\n", 0o644)]);
    let arm = seed.image(
        "team/multi",
        "arm64",
        &[arm_layer],
        Compression::Gzip,
        "arm64",
        serde_json::json!({"Cmd": ["sh"]}),
    );
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": arm.manifest.len(), "digest": arm.manifest_digest,
             "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
            {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": amd.manifest.len(), "digest": amd.manifest_digest,
             "platform": {"architecture": "amd64", "os": "linux"}},
        ],
    });
    let index_bytes = index.to_string().into_bytes();
    assert_eq!(
        seed.manifest(
            "team/multi",
            "1",
            "application/vnd.oci.image.index.v1+json",
            &index_bytes
        ),
        201
    );
    let index_digest = format!("sha256:{}", sha256_hex(&index_bytes));
    let c = Client::new();
    let name = format!("{}/team/multi:1", reg.host());
    let out = c.run(&["pull", &name]).ok();
    assert!(
        out.stdout.contains(&format!("Digest: {index_digest}")),
        "{out:?}"
    );
    let id = c
        .run(&[
            "image",
            "inspect",
            "--format",
            "{{.Id}} {{.Architecture}}",
            &name,
        ])
        .ok();
    assert_eq!(id.stdout.trim(), format!("{} amd64", amd.config_digest));
    // Another platform can be pulled and stored, not run.
    c.run(&["pull", "--platform", "linux/arm64", &name]).ok();
    let id = c
        .run(&[
            "image",
            "inspect",
            "--format",
            "{{.Id}} {{.Architecture}}",
            &name,
        ])
        .ok();
    assert_eq!(id.stdout.trim(), format!("{} arm64", arm.config_digest));
    let err = c
        .run(&["run", "--rm", "--platform", "linux/arm64", &name, "true"])
        .fails(125);
    assert!(
        err.stderr.contains("cannot run linux/arm64 containers"),
        "{err:?}"
    );
    let err = c
        .run(&["pull", "--platform", "linux/s390x", &name])
        .fails(1);
    assert!(
        err.stderr
            .contains("no matching manifest for linux/s390x in the manifest list entries"),
        "{err:?}"
    );
    let err = c.run(&["pull", "--platform", "plan9/x", &name]).fails(1);
    assert!(
        err.stderr
            .contains("unknown operating system or architecture"),
        "{err:?}"
    );
    // --platform on run picks the matching image again.
    let run = c
        .run(&[
            "run",
            "--rm",
            "--platform",
            "linux/amd64",
            &name,
            "cat",
            "/data/a.txt",
        ])
        .ok();
    assert_eq!(run.stdout, "hello\n");
}

#[test]
#[ignore = "needs root"]
fn basic_auth_login_pull_logout() {
    // Seed without auth, then serve the same storage with htpasswd.
    let mut plain = Registry::start(Kind::Plain);
    seed_three_layers(&plain, "team/app", "1", Compression::Gzip);
    let reg = plain.behind_basic_auth();
    let c = Client::new();
    let host = reg.host();
    let name = format!("{host}/team/app:1");
    let err = c.run(&["pull", &name]).fails(1);
    assert!(
        err.stderr.contains(&format!(
            "Error response from daemon: Get \"http://{host}/v2/team/app/manifests/1\": no basic auth credentials"
        )),
        "{err:?}"
    );
    c.assert_store_empty();
    let err = c
        .run(&["login", "-u", "berth", "-p", "wrong", &host])
        .fails(1);
    assert!(err.stderr.contains("unauthorized"), "{err:?}");
    assert!(!c.docker_config().join("config.json").exists());
    let err = c.run(&["login", "-u", "berth", &host]).fails(1);
    assert!(
        err.stderr
            .contains("Cannot perform an interactive login from a non TTY device"),
        "{err:?}"
    );
    let ok = c
        .run_stdin(
            &["login", "-u", "berth", "--password-stdin", &host],
            b"s3cret\n",
        )
        .ok();
    assert!(ok.stdout.ends_with("Login Succeeded\n"), "{ok:?}");
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(c.docker_config().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(cfg["auths"][&host]["auth"], "YmVydGg6czNjcmV0");
    c.run(&["pull", &name]).ok();
    let out = c.run(&["logout", &host]).ok();
    assert_eq!(
        out.stdout,
        format!("Removing login credentials for {host}\n")
    );
    let out = c.run(&["logout", &host]).ok();
    assert_eq!(out.stdout, format!("Not logged in to {host}\n"));
    c.run(&["rmi", &name]).ok();
    c.run(&["pull", &name]).fails(1);
}

#[test]
#[ignore = "needs root"]
fn token_auth_asks_the_issuer_with_the_repositorys_scope() {
    let mut plain = Registry::start(Kind::Plain);
    let seeded = seed_three_layers(&plain, "team/app", "1", Compression::Gzip);
    plain.stop();
    let issuer = TokenIssuer::start("berth", "t0ken", 300);
    let reg = Registry::start_on(issuer.kind(), &plain.dir, &plain.storage, free_port());
    let c = Client::new();
    let host = reg.host();
    let name = format!("{host}/team/app:1");
    let err = c
        .run(&["login", "-u", "berth", "-p", "nope", &host])
        .fails(1);
    assert!(err.stderr.contains("unauthorized"), "{err:?}");
    c.run_stdin(
        &["login", "-u", "berth", "--password-stdin", &host],
        b"t0ken",
    )
    .ok();
    let out = c.run(&["pull", &name]).ok();
    assert!(
        out.stdout
            .contains(&format!("Digest: {}", seeded.manifest_digest)),
        "{out:?}"
    );
    assert!(
        issuer
            .scopes
            .lock()
            .unwrap()
            .iter()
            .any(|s| s == "repository:team/app:pull"),
        "{:?}",
        issuer.scopes.lock().unwrap()
    );
    let run = c.run(&["run", "--rm", &name, "cat", "/data/c.txt"]).ok();
    assert_eq!(run.stdout, "sea\n");
}

#[test]
#[ignore = "needs root"]
fn tls_with_a_client_certificate_from_certs_d() {
    let reg = Registry::start(Kind::Tls { client_ca: true });
    // Seed through a plain registry on the same storage.
    let mut plain = Registry::start_on(Kind::Plain, &reg.dir, &reg.storage, free_port());
    seed_three_layers(&plain, "team/app", "1", Compression::Gzip);
    plain.stop();
    let c = Client::new();
    let host = reg.host();
    let name = format!("{host}/team/app:1");
    // Without a client certificate the TLS registry refuses (and plain HTTP is not there).
    let err = c.run(&["pull", &name]).fails(1);
    assert!(
        err.stderr.contains("Error response from daemon:"),
        "{err:?}"
    );
    let tls = reg.tls.as_ref().unwrap();
    let certs = CertsDir::new(&host);
    std::fs::write(certs.path.join("ca.crt"), &tls.ca_pem).unwrap();
    std::fs::write(certs.path.join("client.cert"), &tls.client_cert_pem).unwrap();
    std::fs::write(certs.path.join("client.key"), &tls.client_key_pem).unwrap();
    c.run(&["pull", &name]).ok();
    let run = c.run(&["run", "--rm", &name, "cat", "/data/a.txt"]).ok();
    assert_eq!(run.stdout, "hello\n");
    // A key without its certificate is a clear error.
    std::fs::remove_file(certs.path.join("client.cert")).unwrap();
    let err = c.run(&["pull", &name]).fails(1);
    assert!(
        err.stderr
            .contains("missing client certificate client.cert for key client.key"),
        "{err:?}"
    );
}

#[test]
#[ignore = "needs root"]
fn mirrors_serve_docker_hub_names_and_the_config_file_is_checked() {
    let reg = Registry::start(Kind::Plain);
    let seeded = seed_three_layers(&reg, "library/busybox", "latest", Compression::Gzip);
    let c = Client::new();
    // The harness's settings (bridge, exec root, runtime) with the mirror: a file of its own.
    let cfg = c.b.scratch("daemon.json");
    let mut settings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(c.b.config_file()).unwrap()).unwrap();
    settings["registry-mirrors"] = serde_json::json!([format!("http://{}", reg.host())]);
    std::fs::write(&cfg, settings.to_string()).unwrap();
    let cfg_s = cfg.to_str().unwrap();
    let out = c.run(&["--config-file", cfg_s, "pull", "busybox"]).ok();
    assert_eq!(out.lines()[0], "Using default tag: latest");
    assert!(
        out.stdout.ends_with("docker.io/library/busybox:latest\n"),
        "{out:?}"
    );
    let v = c
        .run(&[
            "image",
            "inspect",
            "--format",
            "{{.Id}} {{json .RepoTags}}",
            "busybox",
        ])
        .ok();
    assert_eq!(
        v.stdout.trim(),
        format!("{} [\"busybox:latest\"]", seeded.config_digest)
    );
    // Bad values are refused, naming the file.
    std::fs::write(&cfg, r#"{"registry-mirrors": ["ftp://x"]}"#).unwrap();
    let err = c.run(&["--config-file", cfg_s, "images"]).fails(125);
    assert!(err.stderr.contains("unsupported scheme \"ftp\""), "{err:?}");
    let err = c
        .run(&["--config-file", "/nonexistent/daemon.json", "images"])
        .fails(125);
    assert!(
        err.stderr.contains("unable to configure the berth engine"),
        "{err:?}"
    );
}

#[test]
#[ignore = "needs root"]
fn a_dropped_connection_resumes_with_range() {
    let reg = Registry::start(Kind::Plain);
    let big = random_layer("big.bin", 3 << 20, 7);
    let seeded = Seed::new(&reg).image(
        "team/big",
        "1",
        &[busybox_tar(), big],
        Compression::Gzip,
        "amd64",
        serde_json::json!({"Cmd": ["sh"]}),
    );
    let proxy = Proxy::start(reg.port);
    proxy
        .cut_blobs
        .store(1, std::sync::atomic::Ordering::SeqCst);
    proxy
        .cut_after
        .store(1 << 20, std::sync::atomic::Ordering::SeqCst);
    // Only the big blob is fetched through the cutting proxy first... both are blobs: the
    // first blob request is cut, whichever it is.
    let c = Client::new();
    let name = format!("{}/team/big:1", proxy.host());
    c.run(&["pull", &name]).ok();
    let ranged: Vec<Logged> = proxy
        .requests()
        .into_iter()
        .filter(|l| l.range.is_some())
        .collect();
    assert_eq!(ranged.len(), 1, "{:?}", proxy.requests());
    let range = ranged[0].range.clone().unwrap();
    let from: u64 = range
        .trim_start_matches("bytes=")
        .trim_end_matches('-')
        .parse()
        .unwrap();
    assert!(from >= 1 << 20, "resumed from {range}");
    assert!(seeded
        .layer_digests
        .iter()
        .any(|d| ranged[0].path.ends_with(d.as_str())));
    let run = c
        .run(&["run", "--rm", &name, "sh", "-c", "wc -c < /big.bin"])
        .ok();
    assert_eq!(run.stdout.trim(), (3 << 20).to_string());
}

#[test]
#[ignore = "needs root"]
fn a_registry_that_dies_mid_pull_and_a_killed_pull_resume_later() {
    let mut reg = Registry::start(Kind::Plain);
    let seeded = Seed::new(&reg).image(
        "team/big",
        "1",
        &[busybox_tar(), random_layer("big.bin", 4 << 20, 11)],
        Compression::Gzip,
        "amd64",
        serde_json::json!({"Cmd": ["sh"]}),
    );
    let digest = seeded.layer_digests[1].clone();
    let proxy = Proxy::start(reg.port);
    proxy
        .rate
        .store(1 << 20, std::sync::atomic::Ordering::SeqCst);
    let c = Client::new();
    let name = format!("{}/team/big:1", proxy.host());
    // SIGKILL in the middle of the download.
    let mut bg = c.b.spawn(&["pull", &name]);
    let part =
        c.b.root()
            .join("ingest")
            .join(format!("{}.part", &digest[7..]));
    wait_for("some bytes to arrive", Duration::from_secs(30), || {
        std::fs::metadata(&part)
            .map(|m| m.len() > 512 << 10)
            .unwrap_or(false)
    });
    bg.child.kill().unwrap(); // SIGKILL
    bg.child.wait().unwrap();
    let kept = std::fs::metadata(&part).unwrap().len();
    c.assert_store_empty(); // opening the store finishes what the killed pull left
    assert!(part.exists(), "the bytes received are kept");
    // The registry dies while a pull runs: a clear error after the retries, nothing half done.
    let mut bg = c.b.spawn(&["pull", &name]);
    std::thread::sleep(Duration::from_millis(700));
    reg.stop();
    proxy.sever();
    let out = bg.wait(Duration::from_secs(90));
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr.contains("Error response from daemon:"),
        "{out:?}"
    );
    c.assert_store_empty();
    // Back up: the pull resumes from what it kept.
    let _reg = Registry::start_on(Kind::Plain, &reg.dir, &reg.storage, reg.port);
    proxy.rate.store(0, std::sync::atomic::Ordering::SeqCst);
    c.run(&["pull", &name]).ok();
    let last = proxy.blob_gets(&digest).last().cloned().unwrap();
    let from: u64 = last
        .range
        .expect("a Range request")
        .trim_start_matches("bytes=")
        .trim_end_matches('-')
        .parse()
        .unwrap();
    assert!(from >= kept, "resumed at {from}, {kept} bytes were kept");
    assert!(
        !part.exists(),
        "the ingest file is gone once the layer is stored"
    );
    let run = c
        .run(&["run", "--rm", &name, "sh", "-c", "wc -c < /big.bin"])
        .ok();
    assert_eq!(run.stdout.trim(), (4 << 20).to_string());
}

#[test]
#[ignore = "needs root"]
fn two_pulls_at_once_fetch_each_blob_once() {
    let reg = Registry::start(Kind::Plain);
    let layers = vec![
        random_layer("a.bin", 2 << 20, 1),
        random_layer("b.bin", 2 << 20, 2),
        random_layer("c.bin", 2 << 20, 3),
        random_layer("d.bin", 2 << 20, 4),
    ];
    let seeded = Seed::new(&reg).image(
        "team/four",
        "1",
        &layers,
        Compression::Gzip,
        "amd64",
        serde_json::json!({"Cmd": ["sh"]}),
    );
    let proxy = Proxy::start(reg.port);
    proxy
        .rate
        .store(4 << 20, std::sync::atomic::Ordering::SeqCst);
    let c = Client::new();
    let name = format!("{}/team/four:1", proxy.host());
    let mut first = c.b.spawn(&["pull", &name]);
    let mut second = c.b.spawn(&["pull", &name]);
    let a = first.wait(PULL);
    let b = second.wait(PULL);
    assert_eq!((a.code, b.code), (0, 0), "{a:?} {b:?}");
    for d in &seeded.layer_digests {
        let gets = proxy.blob_gets(d);
        assert_eq!(gets.len(), 1, "{d} fetched {} times: {gets:?}", gets.len());
    }
    let ids = c.run(&["images", "-q", "--no-trunc"]).ok();
    assert_eq!(ids.stdout.trim(), seeded.config_digest);
    assert!(!c.b.root().join("ingest").read_dir().unwrap().any(|e| {
        let n = e.unwrap().file_name().to_string_lossy().into_owned();
        n.ends_with(".part") || n.ends_with(".done")
    }));
}

/// Loads the three-layer image into `c` as `name`.
fn load_three_layers(c: &Client, name: &str) -> String {
    let (archive, _) = three_layer_archive(name);
    let path = c.b.scratch("three.tar");
    std::fs::write(&path, archive).unwrap();
    c.run(&["load", "-q", "-i", path.to_str().unwrap()]).ok();
    c.run(&["image", "inspect", "--format", "{{.Id}}", name])
        .ok()
        .stdout
        .trim()
        .to_string()
}

#[test]
#[ignore = "needs root"]
fn push_uploads_skips_and_mounts_like_docker() {
    let reg = Registry::start(Kind::Plain);
    let host = reg.host();
    let c = Client::new();
    let name = format!("{host}/team/app:1");
    let id = load_three_layers(&c, &name);
    let diff_ids: Vec<String> = serde_json::from_str(
        &c.run(&[
            "image",
            "inspect",
            "--format",
            "{{json .RootFS.Layers}}",
            &name,
        ])
        .ok()
        .stdout,
    )
    .unwrap();
    let out = c.run(&["push", &name]).ok();
    let lines = out.lines();
    assert_eq!(
        lines[0],
        format!("The push refers to repository [{host}/team/app]")
    );
    for d in &diff_ids {
        assert!(
            lines.contains(&format!("{}: Preparing", &d[7..19]).as_str()),
            "{out:?}"
        );
        assert!(
            lines.contains(&format!("{}: Pushed", &d[7..19]).as_str()),
            "{out:?}"
        );
    }
    let last = lines.last().unwrap();
    assert!(
        last.starts_with("1: digest: sha256:") && last.contains(" size: "),
        "{out:?}"
    );
    let digest = last.split(' ').nth(2).unwrap().to_string();
    // Again: nothing to upload.
    let again = c.run(&["push", &name]).ok();
    assert_eq!(
        again.stdout.matches("Layer already exists").count(),
        3,
        "{again:?}"
    );
    assert!(again.stdout.ends_with(&format!(
        "1: digest: {digest} size: {}\n",
        last.rsplit(' ').next().unwrap()
    )));
    // Another repository of the same registry: mounted, same manifest digest.
    let copy = format!("{host}/team/copy:2");
    c.run(&["tag", &name, &copy]).ok();
    let mounted = c.run(&["push", &copy]).ok();
    assert_eq!(
        mounted.stdout.matches("Mounted from team/app").count(),
        3,
        "{mounted:?}"
    );
    assert!(
        mounted.stdout.contains(&format!("2: digest: {digest} ")),
        "{mounted:?}"
    );
    // The pushed digest is a repository digest of the image.
    let digests = c
        .run(&[
            "image",
            "inspect",
            "--format",
            "{{json .RepoDigests}}",
            &name,
        ])
        .ok();
    assert!(
        digests
            .stdout
            .contains(&format!("{host}/team/app@{digest}")),
        "{digests:?}"
    );
    // Another berth pulls it: same image, same content.
    let other = Client::new();
    other.run(&["pull", &copy]).ok();
    let got = other
        .run(&["image", "inspect", "--format", "{{.Id}}", &copy])
        .ok();
    assert_eq!(got.stdout.trim(), id);
    let run = other
        .run(&[
            "run",
            "--rm",
            &copy,
            "sh",
            "-c",
            "cat /data/a.txt /etcx/n.conf; ls /etcx",
        ])
        .ok();
    assert_eq!(run.stdout, "hello\nnew\nn.conf\n");
    // Errors in docker's words.
    let err = c.run(&["push", &format!("{host}/team/nope:1")]).fails(1);
    assert_eq!(
        err.stderr.trim(),
        format!("Error response from daemon: An image does not exist locally with the tag: {host}/team/nope")
    );
    // -a pushes every tag of the repository; -q prints only the name.
    c.run(&["tag", &name, &format!("{host}/team/app:2")]).ok();
    let all = c.run(&["push", "-a", &format!("{host}/team/app")]).ok();
    assert!(
        all.stdout.contains("1: digest:") && all.stdout.contains("2: digest:"),
        "{all:?}"
    );
    let q = c.run(&["push", "-q", &name]).ok();
    assert_eq!(q.stdout, format!("{name}\n"));
    // Every tag pushed is an image event, as dockerd records it.
    let repo = format!("{host}/team/app");
    let pushes: Vec<String> = image_events(&c)
        .into_iter()
        .filter(|l| l.starts_with("push ") && l.ends_with(&format!(" {repo}")))
        .collect();
    assert_eq!(
        pushes,
        [
            format!("push {name} {repo}"),
            format!("push {name} {repo}"),
            format!("push {repo} {repo}"),
            format!("push {name} {repo}"),
        ],
        "the first push, again, -a (one event for the repository), then -q"
    );
}

#[test]
#[ignore = "needs root"]
fn push_needs_the_credentials_the_registry_asks_for() {
    let issuer = TokenIssuer::start("berth", "t0ken", 300);
    let reg = Registry::start(issuer.kind());
    let host = reg.host();
    let c = Client::new();
    let name = format!("{host}/team/app:1");
    load_three_layers(&c, &name);
    let err = c.run(&["push", &name]).fails(1);
    assert!(err.stderr.contains("unauthorized"), "{err:?}");
    c.run_stdin(
        &["login", "-u", "berth", "--password-stdin", &host],
        b"t0ken",
    )
    .ok();
    c.run(&["push", &name]).ok();
    assert!(
        issuer
            .scopes
            .lock()
            .unwrap()
            .iter()
            .any(|s| s == "repository:team/app:pull,push"),
        "{:?}",
        issuer.scopes.lock().unwrap()
    );
    let other = Client::new();
    std::fs::create_dir_all(other.docker_config()).unwrap();
    std::fs::copy(
        c.docker_config().join("config.json"),
        other.docker_config().join("config.json"),
    )
    .unwrap();
    other.run(&["pull", &name]).ok();
}

#[test]
#[ignore = "needs root"]
fn credential_helpers_hold_the_login() {
    let mut plain = Registry::start(Kind::Plain);
    seed_three_layers(&plain, "team/app", "1", Compression::Gzip);
    let reg = plain.behind_basic_auth();
    let host = reg.host();
    let name = format!("{host}/team/app:1");
    let c = Client::new();
    let bin = c.b.scratch("helpers");
    let store = credential_helper(&bin, "berthstore");
    let per_host = credential_helper(&bin, "berthhost");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |args: &[&str], input: &[u8]| {
        let mut cmd = c.cmd(args);
        cmd.env("PATH", &path);
        output_timeout(cmd, Some(input), PULL)
    };
    let cfg_path = c.docker_config().join("config.json");
    std::fs::create_dir_all(c.docker_config()).unwrap();
    // credsStore: login hands the secret to the helper; the file only names the registry.
    std::fs::write(&cfg_path, r#"{"credsStore": "berthstore"}"#).unwrap();
    run(
        &["login", "-u", "berth", "--password-stdin", &host],
        b"s3cret\n",
    )
    .ok();
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cfg_path).unwrap()).unwrap();
    assert_eq!(cfg["auths"][&host], serde_json::json!({}), "{cfg}");
    assert_eq!(cfg["credsStore"], "berthstore", "{cfg}");
    let kept: serde_json::Value =
        serde_json::from_slice(&std::fs::read(store.join(host.replace(':', "_"))).unwrap())
            .unwrap();
    assert_eq!(
        kept,
        serde_json::json!({"ServerURL": host, "Username": "berth", "Secret": "s3cret"})
    );
    // The pull asks the helper.
    run(&["pull", &name], b"").ok();
    let log = std::fs::read_to_string(store.join("log")).unwrap();
    assert!(log.contains(&format!("get {host}\n")), "{log}");
    // logout erases it from the helper and the file.
    let out = run(&["logout", &host], b"").ok();
    assert_eq!(
        out.stdout,
        format!("Removing login credentials for {host}\n")
    );
    assert!(!store.join(host.replace(':', "_")).exists());
    run(&["rmi", &name], b"").ok();
    let err = run(&["pull", &name], b"").fails(1);
    assert!(err.stderr.contains("no basic auth credentials"), "{err:?}");

    // credHelpers: the registry's own helper wins over credsStore.
    std::fs::write(
        &cfg_path,
        format!(r#"{{"credsStore": "berthstore", "credHelpers": {{"{host}": "berthhost"}}}}"#),
    )
    .unwrap();
    run(
        &["login", "-u", "berth", "--password-stdin", &host],
        b"s3cret\n",
    )
    .ok();
    assert!(per_host.join(host.replace(':', "_")).exists());
    assert!(!store.join(host.replace(':', "_")).exists());
    run(&["pull", &name], b"").ok();
    // A helper that is not installed: the docker CLI's words.
    std::fs::write(
        &cfg_path,
        format!(r#"{{"credHelpers": {{"{host}": "berth-absent"}}}}"#),
    )
    .unwrap();
    run(&["rmi", &name], b"").ok();
    let err = run(&["pull", &name], b"").fails(1);
    assert!(
        err.stderr.contains(
            "error getting credentials - err: exec: \"docker-credential-berth-absent\": executable file not found in $PATH"
        ),
        "{err:?}"
    );
    c.assert_store_empty();
}

/// This machine's first global IPv4 address: a registry there is not insecure by default.
fn global_address() -> String {
    let out = std::process::Command::new("ip")
        .args(["-4", "-o", "addr", "show", "scope", "global"])
        .output()
        .expect("ip (iproute2) runs");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter_map(|l| l.split_whitespace().nth(3))
        .filter_map(|a| a.split('/').next())
        .next()
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no global IPv4 address on this machine: {text}"))
}

#[test]
#[ignore = "needs root"]
fn insecure_registries_from_the_config_file() {
    let reg = Registry::start_at(Kind::Plain, &global_address());
    let seeded = seed_three_layers(&reg, "team/app", "1", Compression::Gzip);
    let host = reg.host();
    let name = format!("{host}/team/app:1");
    let c = Client::new();
    // Not listed: HTTPS only, and the registry speaks plain HTTP.
    let err = c.run(&["pull", &name]).fails(1);
    assert!(
        err.stderr.contains(&format!(
            "Error response from daemon: Get \"https://{host}/v2/\": http: server gave HTTP response to HTTPS client"
        )),
        "{err:?}"
    );
    c.assert_store_empty();
    // Listed by host:port in the engine's config file: plain HTTP is allowed.
    let insecure = |entry: String| {
        c.b.set_setting("insecure-registries", serde_json::json!([entry]))
    };
    insecure(host.clone());
    let out = c.run(&["pull", &name]).ok();
    assert!(
        out.stdout
            .contains(&format!("Digest: {}", seeded.manifest_digest)),
        "{out:?}"
    );
    c.run(&["rmi", &name]).ok();
    // Listed by a CIDR that holds the address.
    insecure(format!("{}/32", reg.addr));
    c.run(&["pull", &name]).ok();
    let run = c.run(&["run", "--rm", &name, "cat", "/data/a.txt"]).ok();
    assert_eq!(run.stdout, "hello\n");
    // Push goes the same way.
    let copy = format!("{host}/team/copy:1");
    c.run(&["tag", &name, &copy]).ok();
    let push = c.run(&["push", &copy]).ok();
    assert!(push.stdout.contains("Mounted from team/app"), "{push:?}");
    // A bad entry is refused, naming the file.
    insecure("http://x/y".into());
    let err = c.run(&["images"]).fails(125);
    assert!(
        err.stderr.contains("unable to configure the berth engine"),
        "{err:?}"
    );
}

#[test]
#[ignore = "needs root"]
fn an_expired_token_is_refreshed() {
    let mut plain = Registry::start(Kind::Plain);
    let seeded = seed_three_layers(&plain, "team/app", "1", Compression::Gzip);
    plain.stop();
    let issuer = TokenIssuer::start("berth", "t0ken", 300);
    let reg = Registry::start_on(issuer.kind(), &plain.dir, &plain.storage, free_port());
    let host = reg.host();
    let name = format!("{host}/team/app:1");
    let c = Client::new();
    c.run_stdin(
        &["login", "-u", "berth", "--password-stdin", &host],
        b"t0ken",
    )
    .ok();
    // The next token the issuer hands out has expired already though it claims 300 s: the
    // registry answers 401, and the pull gets a new token and goes on.
    let before = issuer.issued.load(std::sync::atomic::Ordering::SeqCst);
    issuer.stale.store(1, std::sync::atomic::Ordering::SeqCst);
    let out = c.run(&["pull", &name]).ok();
    assert!(
        out.stdout
            .contains(&format!("Digest: {}", seeded.manifest_digest)),
        "{out:?}"
    );
    assert_eq!(issuer.stale.load(std::sync::atomic::Ordering::SeqCst), 0);
    let after = issuer.issued.load(std::sync::atomic::Ordering::SeqCst);
    assert!(after >= before + 2, "{before} then {after} tokens");
    // Push too.
    let copy = format!("{host}/team/copy:1");
    c.run(&["tag", &name, &copy]).ok();
    issuer.stale.store(1, std::sync::atomic::Ordering::SeqCst);
    let push = c.run(&["push", &copy]).ok();
    assert!(push.stdout.contains("1: digest: "), "{push:?}");
    assert_eq!(issuer.stale.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[test]
#[ignore = "needs root"]
fn a_terminal_gets_bars_redrawn_in_place() {
    let reg = Registry::start(Kind::Plain);
    let seeded = Seed::new(&reg).image(
        "team/big",
        "1",
        &[busybox_tar(), random_layer("big.bin", 3 << 20, 5)],
        Compression::Gzip,
        "amd64",
        serde_json::json!({"Cmd": ["sh"]}),
    );
    // Slow enough that bars are drawn while the big layer arrives.
    let proxy = Proxy::start(reg.port);
    proxy
        .rate
        .store(1 << 20, std::sync::atomic::Ordering::SeqCst);
    let c = Client::new();
    let name = format!("{}/team/big:1", proxy.host());
    let mut t = Pty::spawn(c.cmd(&["pull", &name]), format!("pull {name}"));
    assert_eq!(t.wait_exit(PULL), 0, "{}", t.output());
    let raw = t.output();
    assert!(raw.contains("Downloading ["), "{raw:?}");
    assert!(
        raw.contains("\x1b[2K"),
        "lines are rewritten in place: {raw:?}"
    );
    // What the screen shows at the end: one line per layer, in its final state.
    let mut screen = vt100::Parser::new(200.try_into().unwrap(), 120.try_into().unwrap(), 0);
    screen.process(t.output().as_bytes());
    let lines: Vec<String> = screen
        .screen()
        .contents()
        .lines()
        .map(|l| l.trim_end().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    let mut want = vec!["1: Pulling from team/big".to_string()];
    for d in &seeded.layer_digests {
        want.push(format!("{}: Pull complete", &d[7..19]));
    }
    want.push(format!("Digest: {}", seeded.manifest_digest));
    want.push(format!("Status: Downloaded newer image for {name}"));
    want.push(name.clone());
    assert_eq!(lines, want, "{raw:?}");
    // A login on a terminal asks for the password without echoing it.
    let basic = Registry::start(Kind::Basic {
        user: "berth".into(),
        password: "s3cret".into(),
    });
    let mut t = Pty::spawn(
        c.cmd(&["login", "-u", "berth", &basic.host()]),
        "login".into(),
    );
    t.expect("Password: ", Duration::from_secs(60));
    t.send(b"s3cret\n");
    t.expect("Login Succeeded", Duration::from_secs(60));
    assert_eq!(t.wait_exit(PULL), 0);
    assert!(!t.output().contains("s3cret"), "{}", t.output());
}

/// The image the base of `build_pulls_…` is replaced with: one layer more, another `a.txt`.
fn changed_layers() -> Vec<Vec<u8>> {
    let mut layers = three_layers();
    layers.push(tar_of(&[
        Entry::Dir("data", 0o750),
        Entry::File("data/a.txt", b"changed\n", 0o644),
    ]));
    layers
}

#[test]
#[ignore = "needs root"]
fn build_pulls_a_missing_base_image_and_build_pull_pulls_it_again() {
    let reg = Registry::start(Kind::Plain);
    seed_three_layers(&reg, "team/app", "1", Compression::Gzip);
    let c = Client::new();
    let base = format!("{}/team/app:1", reg.host());
    let ctx = c.b.scratch("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("FROM {base}\nRUN cat /data/a.txt > /copied\n"),
    )
    .unwrap();
    let ctx = ctx.to_str().unwrap();
    // Missing here: pulled, its progress between the step and the step's image, as dockerd does.
    let out = c.run(&["build", "-t", "built:1", ctx]).ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], format!("Step 1/2 : FROM {base}"), "{out:?}");
    assert_eq!(lines[1], "1: Pulling from team/app", "{out:?}");
    let status = lines
        .iter()
        .position(|l| *l == format!("Status: Downloaded newer image for {base}"))
        .unwrap_or_else(|| panic!("no Status line: {out:?}"));
    assert!(lines[status - 1].starts_with("Digest: sha256:"), "{out:?}");
    assert!(lines[status + 1].starts_with(" ---> "), "{out:?}");
    assert!(c.run(&["image", "inspect", &base]).code == 0);
    let run = c.run(&["run", "--rm", "built:1", "cat", "/copied"]).ok();
    assert_eq!(run.stdout, "hello\n");
    // Here now: no pull, every step from the cache.
    let again = c.run(&["build", "-t", "built:1", ctx]).ok();
    assert!(!again.stdout.contains("Pulling from"), "{again:?}");
    assert_eq!(again.stdout.matches(" ---> Using cache").count(), 1);
    // --pull asks the registry again: up to date, so the cache still holds.
    let up = c.run(&["build", "--pull", "-t", "built:1", ctx]).ok();
    assert!(
        up.stdout
            .contains(&format!("Status: Image is up to date for {base}")),
        "{up:?}"
    );
    assert_eq!(up.stdout.matches(" ---> Using cache").count(), 1, "{up:?}");
    // The tag moves in the registry: only --pull sees it, and the RUN step runs on the new base.
    Seed::new(&reg).image(
        "team/app",
        "1",
        &changed_layers(),
        Compression::Gzip,
        "amd64",
        serde_json::json!({"Cmd": ["sh"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}),
    );
    let stale = c.run(&["build", "-t", "built:1", ctx]).ok();
    assert!(!stale.stdout.contains("Pulling from"), "{stale:?}");
    let newer = c.run(&["build", "--pull", "-t", "built:2", ctx]).ok();
    assert!(
        newer
            .stdout
            .contains(&format!("Status: Downloaded newer image for {base}")),
        "{newer:?}"
    );
    assert_eq!(newer.stdout.matches(" ---> Using cache").count(), 0);
    let run = c.run(&["run", "--rm", "built:2", "cat", "/copied"]).ok();
    assert_eq!(run.stdout, "changed\n");
    // A base image the registry does not have: the registry's words, no image, no container.
    let missing = format!("{}/team/app:nope", reg.host());
    std::fs::write(
        std::path::Path::new(ctx).join("Dockerfile"),
        format!("FROM {missing}\nRUN true\n"),
    )
    .unwrap();
    let err = c.run(&["build", "-t", "never:1", ctx]).fails(1);
    assert!(
        err.stderr.contains(&format!(
            "manifest for {missing} not found: manifest unknown: manifest unknown"
        )),
        "{err:?}"
    );
    assert_ne!(c.run(&["image", "inspect", "never:1"]).code, 0);
    assert!(c.b.ps_all().is_empty());
}

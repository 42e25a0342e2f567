//! Issue 21 item 1: prune filters decide what is deleted, so what a filter does not select must
//! be KEPT — through the berth CLI and through `berth serve`'s prune endpoints — and a filter
//! berth does not know is refused before anything is deleted (`Invalid filter 'bogus'`, as a
//! Docker 20.10 daemon answers). The list verbs share the same parser.

use std::time::Duration;

use crate::api::Server;
use crate::harness::*;

/// Names of all containers, sorted.
fn containers(b: &Berth) -> Vec<String> {
    let mut n: Vec<String> = b.ps_all().into_iter().map(|(n, _)| n).collect();
    n.sort();
    n
}

/// `REPO:TAG` of all images, sorted.
fn images(b: &Berth) -> Vec<String> {
    let out = b
        .run(&["images", "--format", "{{.Repository}}:{{.Tag}}"])
        .ok();
    let mut v: Vec<String> = out.lines().iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// Names of all volumes, sorted.
fn volumes(b: &Berth) -> Vec<String> {
    let mut v: Vec<String> = b
        .run(&["volume", "ls", "-q"])
        .ok()
        .lines()
        .iter()
        .map(|s| s.to_string())
        .collect();
    v.sort();
    v
}

/// A Unix time strictly between two creations: created, one second, the time, one second.
fn instant_between() -> String {
    std::thread::sleep(Duration::from_millis(1100));
    let t = chrono::Utc::now().timestamp().to_string();
    std::thread::sleep(Duration::from_millis(1100));
    t
}

/// Four stopped containers: `plain`, `a1` (a=1), `a2` (a=2), `a1b1` (a=1, b=1).
fn four_containers(b: &Berth) {
    b.busybox("busybox");
    for (name, labels) in [
        ("plain", &[][..]),
        ("a1", &["a=1"][..]),
        ("a2", &["a=2"][..]),
        ("a1b1", &["a=1", "b=1"][..]),
    ] {
        let mut args = vec!["create", "--name", name];
        for l in labels {
            args.extend(["--label", l]);
        }
        args.extend(["busybox", "true"]);
        b.run(&args).ok();
    }
}

#[test]
fn r21_container_prune_keeps_what_the_filters_do_not_select() {
    let b = Berth::new();
    four_containers(&b);
    let all = ["a1", "a1b1", "a2", "plain"];

    // Unknown keys and bad values are refused, and nothing is removed.
    let out = b
        .run(&["container", "prune", "-f", "--filter", "bogus=1"])
        .fails(1);
    assert_eq!(
        out.stderr,
        "Error response from daemon: Invalid filter 'bogus'\n"
    );
    for (bad, err) in [
        (
            "until=abc",
            "failed to parse value as time or duration: \"abc\"",
        ),
        (
            "until=2020-13-01",
            "parsing time \"2020-13-01\": month out of range",
        ),
        ("dangling=true", "Invalid filter 'dangling'"),
    ] {
        let out = b
            .run(&[
                "container",
                "prune",
                "-f",
                "--filter",
                "label=a",
                "--filter",
                bad,
            ])
            .fails(1);
        assert_eq!(out.stderr, format!("Error response from daemon: {err}\n"));
    }
    let out = b
        .run(&[
            "container",
            "prune",
            "-f",
            "--filter",
            "until=1h",
            "--filter",
            "until=2h",
        ])
        .fails(1);
    assert_eq!(
        out.stderr,
        "Error response from daemon: more than one until filter specified\n"
    );
    let out = b
        .run(&["container", "prune", "-f", "--filter", "label"])
        .fails(125);
    assert!(
        out.stderr
            .contains("bad format of filter (expected name=value)"),
        "{out:?}"
    );
    assert_eq!(containers(&b), all);

    // Matching nothing removes nothing.
    let out = b
        .run(&["container", "prune", "-f", "--filter", "label=nomatch=1"])
        .ok();
    assert_eq!(out.stdout, "Total reclaimed space: 0B\n");
    // Two values of `label` must both match (Docker's rule): nothing has a=1 and a=2.
    b.run(&[
        "container",
        "prune",
        "-f",
        "--filter",
        "label=a=1",
        "--filter",
        "label=a=2",
    ])
    .ok();
    // Created in the last hour: `until=1h` selects nothing older than an hour.
    b.run(&["container", "prune", "-f", "--filter", "until=1h"])
        .ok();
    assert_eq!(containers(&b), all);

    // `label=a=1` takes exactly the two with a=1.
    let out = b
        .run(&["container", "prune", "-f", "--filter", "label=a=1"])
        .ok();
    assert!(out.stdout.starts_with("Deleted Containers:\n"), "{out:?}");
    assert_eq!(out.lines().len(), 5, "{out:?}");
    assert_eq!(containers(&b), ["a2", "plain"]);

    // `label!=a` keeps the labelled one.
    b.run(&["container", "prune", "-f", "--filter", "label!=a"])
        .ok();
    assert_eq!(containers(&b), ["a2"]);
}

#[test]
fn r21_container_prune_label_not_and_until() {
    let b = Berth::new();
    four_containers(&b);
    // Docker excludes what matches every `label!` value: a1b1 stays, a1 goes.
    b.run(&[
        "container",
        "prune",
        "-f",
        "--filter",
        "label!=a=1",
        "--filter",
        "label!=b=1",
    ])
    .ok();
    assert_eq!(containers(&b), ["a1b1"]);

    let t = instant_between();
    b.run(&["create", "--name", "newer", "busybox", "true"])
        .ok();
    b.run(&[
        "container",
        "prune",
        "-f",
        "--filter",
        &format!("until={t}"),
    ])
    .ok();
    assert_eq!(
        containers(&b),
        ["newer"],
        "only what was created before {t} goes"
    );
}

#[test]
fn r21_image_prune_keeps_what_the_filters_do_not_select() {
    let b = Berth::new();
    let tar = b.busybox_tar_path();
    let tar = tar.to_str().unwrap();
    b.run(&["import", tar, "plain:1"]).ok();
    b.run(&["import", "-c", "LABEL a=1", tar, "lab:1"]).ok();
    let t = instant_between();
    b.run(&["import", "-c", "LABEL a=1", tar, "newer:1"]).ok();
    let all = ["lab:1", "newer:1", "plain:1"];

    let out = b
        .run(&["image", "prune", "-a", "-f", "--filter", "bogus=1"])
        .fails(1);
    assert_eq!(
        out.stderr,
        "Error response from daemon: Invalid filter 'bogus'\n"
    );
    b.run(&["image", "prune", "-a", "-f", "--filter", "until=abc"])
        .fails(1);
    // The reported case: every unused image went.
    let out = b
        .run(&["image", "prune", "-a", "-f", "--filter", "label=nomatch=1"])
        .ok();
    assert_eq!(out.stdout, "Total reclaimed space: 0B\n");
    b.run(&["image", "prune", "-a", "-f", "--filter", "until=1h"])
        .ok();
    // Without -a only dangling images go, whatever the labels.
    b.run(&["image", "prune", "-f", "--filter", "label=a=1"])
        .ok();
    assert_eq!(images(&b), all);

    // until: the older labelled one only.
    b.run(&[
        "image",
        "prune",
        "-a",
        "-f",
        "--filter",
        "label=a=1",
        "--filter",
        &format!("until={t}"),
    ])
    .ok();
    assert_eq!(images(&b), ["newer:1", "plain:1"]);
    // label!: the unlabelled one only.
    let out = b
        .run(&["image", "prune", "-a", "-f", "--filter", "label!=a"])
        .ok();
    assert!(out.stdout.contains("untagged: plain:1\n"), "{out:?}");
    assert_eq!(images(&b), ["newer:1"]);
}

#[test]
fn r21_volume_prune_and_lists_share_the_parser() {
    let b = Berth::new();
    b.busybox("busybox");
    for (name, labels) in [
        ("v0", &[][..]),
        ("v1", &["a=1"][..]),
        ("v2", &["a=1", "b=1"][..]),
    ] {
        let mut args = vec!["volume", "create"];
        for l in labels {
            args.extend(["--label", l]);
        }
        args.push(name);
        b.run(&args).ok();
    }
    let out = b
        .run(&["volume", "prune", "-a", "-f", "--filter", "until=1h"])
        .fails(1);
    assert_eq!(
        out.stderr,
        "Error response from daemon: Invalid filter 'until'\n"
    );
    b.run(&[
        "volume",
        "prune",
        "-a",
        "-f",
        "--filter",
        "label!=a=1",
        "--filter",
        "label!=b=1",
    ])
    .ok();
    // As a Docker 20.10 daemon does: only v2 matches both, so only v2 stays.
    assert_eq!(
        volumes(&b),
        ["v2"],
        "label! excludes what matches all its values"
    );

    // Every list verb refuses an unknown key and a bad boolean, with Docker's words.
    for args in [
        &["ps", "--filter", "bogus=1"][..],
        &["images", "--filter", "bogus=1"][..],
        &["volume", "ls", "--filter", "bogus=1"][..],
    ] {
        let out = b.run(args).fails(1);
        assert_eq!(
            out.stderr, "Error response from daemon: Invalid filter 'bogus'\n",
            "{args:?}"
        );
    }
    let out = b.run(&["images", "--filter", "dangling=1"]).fails(1);
    assert_eq!(
        out.stderr,
        "Error response from daemon: Invalid filter 'dangling=[1]'\n"
    );
    b.run(&["volume", "ls", "--filter", "dangling=1"]).ok();
    let out = b
        .run(&["volume", "ls", "--filter", "dangling=maybe"])
        .fails(1);
    assert_eq!(
        out.stderr,
        "Error response from daemon: Invalid filter 'dangling=[maybe]'\n"
    );
    let out = b.run(&["ps", "-a", "--filter", "label!=a"]).fails(1);
    assert_eq!(
        out.stderr,
        "Error response from daemon: Invalid filter 'label!'\n"
    );
}

/// `filters` as the API takes it, URL-encoded.
fn query(filters: &str) -> String {
    let mut out = String::new();
    for b in filters.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    format!("filters={out}")
}

#[test]
fn r21_prune_endpoints_keep_what_the_filters_do_not_select() {
    let b = Berth::new();
    four_containers(&b);
    let tar = b.busybox_tar_path();
    b.run(&["import", "-c", "LABEL a=1", tar.to_str().unwrap(), "lab:1"])
        .ok();
    b.run(&["volume", "create", "--label", "a=1", "va"]).ok();
    b.run(&["volume", "create", "vn"]).ok();
    let api = Server::start(&b);
    let post = |path: &str, filters: &str| {
        api.call("POST", &format!("/v1.43/{path}?{}", query(filters)), None)
    };

    for path in ["containers/prune", "images/prune", "volumes/prune"] {
        let (code, body) = post(path, r#"{"bogus":["1"]}"#);
        assert_eq!(
            (code, body.as_str()),
            (400, r#"{"message":"Invalid filter 'bogus'"}"#),
            "{path}"
        );
        let (code, body) = post(path, r#"{"label":"x"}"#);
        assert_eq!(
            (code, body.as_str()),
            (
                400,
                r#"{"message":"json: cannot unmarshal string into Go value of type map[string]bool"}"#
            ),
            "{path}"
        );
    }
    for path in ["containers/json", "images/json", "volumes"] {
        let (code, body) = api.call(
            "GET",
            &format!("/v1.43/{path}?{}", query(r#"{"bogus":["1"]}"#)),
            None,
        );
        assert_eq!(
            (code, body.as_str()),
            (400, r#"{"message":"Invalid filter 'bogus'"}"#),
            "{path}"
        );
    }
    let (code, body) = post("images/prune", r#"{"dangling":["maybe"]}"#);
    assert_eq!(
        (code, body.as_str()),
        (400, r#"{"message":"Invalid filter 'dangling=[maybe]'"}"#)
    );
    let (code, body) = post("containers/prune", r#"{"until":["abc"]}"#);
    assert_eq!(
        (code, body.as_str()),
        (
            400,
            r#"{"message":"failed to parse value as time or duration: \"abc\""}"#
        )
    );
    assert_eq!(containers(&b), ["a1", "a1b1", "a2", "plain"]);

    // Nothing matches: nothing goes.
    let (code, body) = post("containers/prune", r#"{"label":{"nomatch=1":true}}"#);
    assert_eq!(
        (code, body.as_str()),
        (200, r#"{"ContainersDeleted":null,"SpaceReclaimed":0}"#)
    );
    let (code, _) = post(
        "images/prune",
        r#"{"dangling":["false"],"label":["nomatch=1"]}"#,
    );
    assert_eq!(code, 200);
    post("images/prune", r#"{"dangling":["false"],"until":["1h"]}"#);
    post("volumes/prune", r#"{"all":["true"],"label":["nomatch"]}"#);
    assert_eq!(containers(&b), ["a1", "a1b1", "a2", "plain"]);
    assert_eq!(images(&b), ["busybox:latest", "lab:1"]);
    assert_eq!(volumes(&b), ["va", "vn"]);

    // What matches goes, the rest stays.
    let (code, body) = post("containers/prune", r#"{"label":["a=1"],"label!":["b"]}"#);
    assert_eq!(code, 200, "{body}");
    assert_eq!(containers(&b), ["a1b1", "a2", "plain"]);
    let (code, body) = post("images/prune", r#"{"dangling":["0"],"label":["a=1"]}"#);
    assert_eq!(code, 200, "{body}");
    assert!(body.contains(r#"{"Untagged":"lab:1"}"#), "{body}");
    assert_eq!(images(&b), ["busybox:latest"]);
    let (code, _) = post("volumes/prune", r#"{"all":["1"],"label!":["a"]}"#);
    assert_eq!(code, 200);
    assert_eq!(volumes(&b), ["va"]);
}

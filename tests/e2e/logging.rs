//! Log drivers and options: `--log-driver json-file|local|none`, `--log-opt max-size/max-file/
//! compress` with rotation done by the container's shim, `logs` across the rotated (and gzipped)
//! files, inspect's `LogConfig` and `LogPath`, Docker's texts for bad options; the same through
//! the docker CLI. Expected values were recorded from a private dockerd 20.10.24 fed the same
//! output (100 lines of 49 bytes: with `max-size=1k, max-file=3`, 19 lines are left).

use crate::api::DockerCli;
use crate::harness::*;

/// 100 lines of output, `line-N-xxx…`.
const HUNDRED: &str = "i=0; while [ $i -lt 100 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done";

fn files_of(b: &Berth, name: &str) -> Vec<String> {
    let id = b.id_of(name);
    let dir = b.root().join("containers").join(&id);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("log") && n != "shim.log")
        .map(|n| n.replace(&id, "ID"))
        .collect();
    names.sort();
    names
}

#[test]
fn json_file_rotates_and_logs_reads_every_file() {
    let b = Berth::new();
    b.busybox("busybox");
    b.run(&[
        "run",
        "--name",
        "rot",
        "--log-opt",
        "max-size=1k",
        "--log-opt",
        "max-file=3",
        "--log-opt",
        "compress=true",
        "busybox",
        "sh",
        "-c",
        HUNDRED,
    ])
    .ok();
    assert_eq!(
        files_of(&b, "rot"),
        ["ID-json.log", "ID-json.log.1.gz", "ID-json.log.2.gz"]
    );
    // Docker kept 19 lines (ten entries of about 105 bytes fill 1k; the length of each entry's
    // time varies, so a file may take one entry more or less).
    let all = b.run(&["logs", "rot"]).ok().stdout;
    let n = all.lines().count();
    assert!((15..=25).contains(&n), "{n}: {all}");
    let want: String = (100 - n..100)
        .map(|i| format!("line-{i}-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"))
        .collect();
    assert_eq!(all, want);
    let tail = b.run(&["logs", "--tail", "5", "rot"]).ok().stdout;
    assert_eq!(
        tail,
        want.lines()
            .skip(14)
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    );
    let c = b.inspect("rot");
    assert_eq!(
        c["HostConfig"]["LogConfig"],
        serde_json::json!({"Type": "json-file", "Config": {"compress": "true", "max-file": "3", "max-size": "1k"}})
    );
    assert!(c["LogPath"].as_str().unwrap().ends_with("-json.log"));

    // Uncompressed rotation keeps plain files.
    b.run(&[
        "run",
        "--name",
        "plain",
        "--log-opt",
        "max-size=2k",
        "--log-opt",
        "max-file=2",
        "busybox",
        "sh",
        "-c",
        HUNDRED,
    ])
    .ok();
    assert_eq!(files_of(&b, "plain"), ["ID-json.log", "ID-json.log.1"]);
    // What is left is the end of the output, whole: the current file and one rotated.
    let out = b.run(&["logs", "plain"]).ok().stdout;
    let n = out.lines().count();
    assert!((20..=40).contains(&n), "{n}");
    let want: String = (100 - n..100)
        .map(|i| format!("line-{i}-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n"))
        .collect();
    assert_eq!(out, want);
}

#[test]
fn local_and_none_drivers() {
    let b = Berth::new();
    b.busybox("busybox");
    b.run(&[
        "run",
        "--name",
        "loc",
        "--log-driver",
        "local",
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2",
    ])
    .ok();
    let out = b.run(&["logs", "loc"]).ok();
    assert_eq!(
        (out.stdout.as_str(), out.stderr.as_str()),
        ("out\n", "err\n")
    );
    let c = b.inspect("loc");
    assert_eq!(c["LogPath"], "");
    assert_eq!(
        c["HostConfig"]["LogConfig"],
        serde_json::json!({"Type": "local", "Config": {}})
    );
    let id = b.id_of("loc");
    assert!(b
        .root()
        .join("containers")
        .join(&id)
        .join("local-logs/container.log")
        .is_file());

    // none: an attached run still sees the output; nothing is kept for `logs`.
    let out = b
        .run(&[
            "run",
            "--name",
            "quiet",
            "--log-driver",
            "none",
            "busybox",
            "echo",
            "seen",
        ])
        .ok();
    assert_eq!(out.stdout, "seen\n");
    let out = b.run(&["logs", "quiet"]).fails(1);
    assert!(
        out.stderr.contains(
            "Error response from daemon: configured logging driver does not support reading"
        ),
        "{out:?}"
    );
    assert_eq!(files_of(&b, "quiet"), Vec::<String>::new());
    assert_eq!(b.inspect("quiet")["LogPath"], "");
    // The default is json-file, never an empty LogConfig.
    b.run(&["create", "--name", "dflt", "busybox", "true"]).ok();
    assert_eq!(
        b.inspect("dflt")["HostConfig"]["LogConfig"],
        serde_json::json!({"Type": "json-file", "Config": {}})
    );
}

#[test]
fn bad_log_settings_get_dockers_words() {
    let b = Berth::new();
    b.busybox("busybox");
    for (flags, text) in [
        (vec!["--log-driver", "foo"], "error looking up logging plugin foo: plugin \"foo\" not found"),
        (
            vec!["--log-opt", "max-size=abc"],
            "failed to initialize logging driver: invalid size: 'abc'",
        ),
        (
            vec!["--log-opt", "max-size=1x"],
            "failed to initialize logging driver: invalid size: '1x'",
        ),
        (
            vec!["--log-driver", "local", "--log-opt", "max-size=1e3"],
            "failed to initialize logging driver: invalid size: '1e3'",
        ),
        (
            vec!["--log-opt", "max-size=0"],
            "failed to initialize logging driver: max-size must be a positive number",
        ),
        (
            vec!["--log-opt", "max-size=1k", "--log-opt", "max-file=0"],
            "failed to initialize logging driver: max-file cannot be less than 1",
        ),
        (vec!["--log-opt", "foo=bar"], "unknown log opt 'foo' for json-file log driver"),
        (
            vec!["--log-opt", "compress=maybe"],
            "failed to initialize logging driver: strconv.ParseBool: parsing \"maybe\": invalid syntax",
        ),
        (
            vec!["--log-opt", "compress=true"],
            "failed to initialize logging driver: compress cannot be true when max-file is less than 2 or max-size is not set",
        ),
        (
            vec!["--log-driver", "none", "--log-opt", "max-size=1k"],
            "invalid logging opts for driver none",
        ),
        (vec!["--log-driver", "local", "--log-opt", "foo=1"], "unknown log opt 'foo' for local log driver"),
        (vec!["--log-driver", "syslog"], "the syslog log driver is not supported by berth"),
        (vec!["--log-opt", "mode=non-blocking"], "mode=non-blocking is not supported by berth"),
        (vec!["--log-opt", "max-file=3"], "log opt max-file has no effect without max-size"),
    ] {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(&flags);
        args.extend_from_slice(&["busybox", "true"]);
        let out = b.run(&args).fails(125);
        assert!(out.stderr.contains(text), "{flags:?}: {out:?}");
    }
    assert_eq!(b.run(&["ps", "-aq"]).ok().stdout, "");
}

#[test]
fn the_docker_cli_reads_rotated_logs_and_is_told_none_cannot_be_read() {
    let d = DockerCli::start();
    let docker = |args: &[&str]| d.run(args);
    let (code, _, err) = docker(&[
        "run",
        "--name",
        "rot",
        "--log-opt",
        "max-size=1k",
        "--log-opt",
        "max-file=3",
        "--log-opt",
        "compress=true",
        "busybox",
        "sh",
        "-c",
        HUNDRED,
    ]);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = docker(&["logs", "rot"]);
    let n = out.lines().count();
    assert!((15..=25).contains(&n), "{out}");
    assert!(out.starts_with(&format!("line-{}-", 100 - n)), "{out}");
    let (_, out, _) = docker(&["logs", "--tail", "2", "rot"]);
    assert!(
        out.starts_with("line-98-") && out.lines().count() == 2,
        "{out}"
    );
    let (code, out, _) = docker(&[
        "run",
        "--name",
        "none",
        "--log-driver",
        "none",
        "busybox",
        "echo",
        "x",
    ]);
    assert_eq!((code, out.as_str()), (0, "x\n"));
    let (code, _, err) = docker(&["logs", "none"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("configured logging driver does not support reading"),
        "{err}"
    );
    let id = d.b.id_of("none");
    let (status, _) = d.api.call(
        "GET",
        &format!("/v1.41/containers/{id}/logs?stdout=1"),
        None,
    );
    assert_eq!(status, 501);
    let (_, out, _) = docker(&[
        "inspect",
        "-f",
        "{{.HostConfig.LogConfig.Type}} {{json .LogPath}}",
        "none",
    ]);
    assert_eq!(out, "none \"\"\n");
    // A size dockerd 20.10's parser does not read: its words and exit code, and nothing left
    // behind (dockerd creates the container and fails its start with the same words).
    let (code, _, err) = docker(&["run", "--log-opt", "max-size=1x", "busybox", "true"]);
    assert_eq!(code, 125, "{err}");
    assert!(
        err.contains(
            "Error response from daemon: failed to initialize logging driver: invalid size: '1x'"
        ),
        "{err}"
    );
    let (status, body) = d.api.call(
        "POST",
        "/v1.41/containers/create",
        Some(
            r#"{"Image":"busybox","Cmd":["true"],"HostConfig":{"LogConfig":{"Type":"json-file","Config":{"max-size":"1x"}}}}"#,
        ),
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["message"],
        "failed to initialize logging driver: invalid size: '1x'"
    );
    let (_, out, _) = docker(&["ps", "-aq", "--filter", "status=created"]);
    assert_eq!(out, "");
}

/// daemon.json's `log-driver` and `log-opts` are the defaults of containers that name no driver
/// (merged as dockerd merges them: the container's own options win, and another driver gets
/// none of them); dockerd's container settings berth does not apply are refused, not dropped.
#[test]
fn engine_settings_give_the_default_log_config_and_refuse_what_berth_lacks() {
    let b = Berth::new();
    b.busybox("busybox");
    let set = |key: &str, value: serde_json::Value| b.set_setting(key, value);
    set("log-driver", "local".into());
    set(
        "log-opts",
        serde_json::json!({"max-size": "1k", "max-file": "2", "compress": "false"}),
    );
    b.run(&["run", "--name", "dflt", "busybox", "sh", "-c", HUNDRED])
        .ok();
    let lc = &b.inspect("dflt")["HostConfig"]["LogConfig"];
    assert_eq!(lc["Type"], "local");
    assert_eq!(
        lc["Config"],
        serde_json::json!({"compress": "false", "max-file": "2", "max-size": "1k"})
    );
    let n = b.run(&["logs", "dflt"]).ok().stdout.lines().count();
    assert!((5..=20).contains(&n), "rotated at 1k, two files: {n} lines");
    b.run(&[
        "create",
        "--name",
        "own",
        "--log-opt",
        "max-size=5k",
        "busybox",
        "true",
    ])
    .ok();
    assert_eq!(
        b.inspect("own")["HostConfig"]["LogConfig"]["Config"]["max-size"],
        "5k"
    );
    b.run(&[
        "create",
        "--name",
        "other",
        "--log-driver",
        "json-file",
        "busybox",
        "true",
    ])
    .ok();
    assert_eq!(
        b.inspect("other")["HostConfig"]["LogConfig"],
        serde_json::json!({"Type": "json-file", "Config": {}})
    );

    set("log-opts", serde_json::json!({"max-size": "lots"}));
    let e = b.run(&["ps"]).fails(125).stderr;
    assert!(
        e.contains("unable to configure the berth engine with file"),
        "{e}"
    );
    set("log-opts", serde_json::json!({}));
    set("init", true.into());
    let e = b.run(&["run", "--rm", "busybox", "true"]).fails(125).stderr;
    assert!(
        e.contains("berth does not support the setting \"init\""),
        "{e}"
    );
    // dockerd's defaults are accepted: berth does the same.
    set("init", false.into());
    set("exec-opts", serde_json::json!([]));
    set("no-new-privileges", false.into());
    b.run(&["run", "--rm", "busybox", "true"]).ok();
}

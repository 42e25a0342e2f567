//! `berth build` end to end (issue 11): the classic builder's steps and output, image configs and
//! history as Docker writes them, the layer cache across CLI calls (a rebuild with nothing
//! changed is fully cached; a changed file invalidates exactly the steps from its COPY on),
//! failing steps that leave nothing behind, multi-stage builds, contexts from directories and
//! STDIN, `.dockerignore`, ownership and modes, and the seeds' app upgrade on built images.

use std::path::{Path, PathBuf};

use crate::harness::*;

fn context(b: &Berth, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = b.scratch(name);
    for (path, content) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    dir
}

fn build(b: &Berth, args: &[&str], dir: &Path) -> Run {
    let mut all = vec!["build"];
    all.extend_from_slice(args);
    all.push(dir.to_str().unwrap());
    b.run(&all)
}

fn cached(out: &Run) -> usize {
    out.stdout.matches(" ---> Using cache").count()
}

fn image(b: &Berth, name: &str) -> serde_json::Value {
    let out = b.run(&["image", "inspect", name]).ok();
    serde_json::from_str::<serde_json::Value>(&out.stdout).unwrap()[0].clone()
}

fn history(b: &Berth, image: &str) -> Vec<String> {
    b.run(&["history", "--no-trunc", "--format", "{{.CreatedBy}}", image])
        .ok()
        .stdout
        .lines()
        .map(str::to_string)
        .collect()
}

const APP: &str = r#"FROM busybox
ARG V=1
ENV A=hello B="x y"
LABEL org.test=yes
WORKDIR /app
COPY top.txt .
COPY src/ /app/src/
RUN echo "running $A $V" && mkdir -p /data && echo $V > /data/v && rm -rf /etc/group
USER nobody
EXPOSE 8080 53/udp
VOLUME /data
HEALTHCHECK --interval=5s CMD true
STOPSIGNAL SIGUSR1
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["echo hi"]
"#;

fn app_context(b: &Berth) -> PathBuf {
    context(
        b,
        "app",
        &[
            ("Dockerfile", APP),
            ("top.txt", "top\n"),
            ("src/a.txt", "hello\n"),
        ],
    )
}

#[test]
fn build_runs_each_step_like_dockers_classic_builder() {
    let b = Berth::new();
    let base = b.busybox("busybox");
    let ctx = app_context(&b);
    let out = build(&b, &["-t", "app:v1", "--build-arg", "V=2"], &ctx).ok();
    let lines = out.lines();
    assert_eq!(lines[0], "Step 1/15 : FROM busybox");
    assert_eq!(lines[1], format!(" ---> {}", &base[7..19]));
    assert_eq!(lines[2], "Step 2/15 : ARG V=1");
    assert!(
        lines[3].starts_with(" ---> Running in ") && lines[3].len() == 29,
        "{lines:?}"
    );
    assert!(
        lines[4].starts_with("Removing intermediate container "),
        "{lines:?}"
    );
    assert!(out.stdout.contains("Step 6/15 : COPY top.txt .\n ---> "));
    assert!(out
        .stdout
        .contains("\nrunning hello 2\nRemoving intermediate container "));
    let id = b
        .run(&["images", "-q", "app:v1"])
        .ok()
        .stdout
        .trim()
        .to_string();
    assert!(
        out.stdout.ends_with(&format!(
            "Successfully built {id}\nSuccessfully tagged app:v1\n"
        )),
        "{}",
        out.stdout
    );

    // The config and history Docker 20.10's classic builder writes for this Dockerfile
    // (recorded from dockerd, COPY content sums included).
    let config = &image(&b, "app:v1")["Config"];
    assert_eq!(config["User"], "nobody");
    assert_eq!(config["WorkingDir"], "/app");
    assert_eq!(
        config["Env"],
        serde_json::json!([
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "A=hello",
            "B=x y"
        ])
    );
    assert_eq!(config["Cmd"], serde_json::json!(["echo hi"]));
    assert_eq!(config["Entrypoint"], serde_json::json!(["/bin/sh", "-c"]));
    assert_eq!(
        config["ExposedPorts"],
        serde_json::json!({"53/udp": {}, "8080/tcp": {}})
    );
    assert_eq!(config["Volumes"], serde_json::json!({"/data": {}}));
    assert_eq!(config["Labels"], serde_json::json!({"org.test": "yes"}));
    assert_eq!(
        config["Healthcheck"],
        serde_json::json!({"Test": ["CMD-SHELL", "true"], "Interval": 5000000000u64})
    );
    assert_eq!(config["StopSignal"], "SIGUSR1");
    assert_eq!(config["OnBuild"], serde_json::Value::Null);
    let h = history(&b, "app:v1");
    assert_eq!(
        h[..14],
        [
            r#"/bin/sh -c #(nop)  CMD ["echo hi"]"#,
            r#"/bin/sh -c #(nop)  ENTRYPOINT ["/bin/sh" "-c"]"#,
            "/bin/sh -c #(nop)  STOPSIGNAL SIGUSR1",
            r#"/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "true"] "5s" "0s" "0s" '\x00'}"#,
            "/bin/sh -c #(nop)  VOLUME [/data]",
            "/bin/sh -c #(nop)  EXPOSE 53/udp 8080",
            "/bin/sh -c #(nop)  USER nobody",
            r#"|1 V=2 /bin/sh -c echo "running $A $V" && mkdir -p /data && echo $V > /data/v && rm -rf /etc/group"#,
            "/bin/sh -c #(nop) COPY dir:f209079242e00ea33671e30a6d1ab41094e51f2f23c609f7d61d0447aef8ca46 in /app/src/ ",
            "/bin/sh -c #(nop) COPY file:b25b434f1282275d9e471024f349617d20c1882023a9c70feb09a40065ed12f5 in . ",
            "/bin/sh -c #(nop) WORKDIR /app",
            "/bin/sh -c #(nop)  LABEL org.test=yes",
            "/bin/sh -c #(nop)  ENV A=hello B=x y",
            "/bin/sh -c #(nop)  ARG V=1",
        ]
    );
    // busybox + WORKDIR + 2 COPY + RUN: metadata steps add no layer.
    assert_eq!(
        image(&b, "app:v1")["RootFS"]["Layers"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    // What the steps wrote, and the RUN's deletion (a whiteout) took effect.
    let out = b
        .run(&[
            "run",
            "--rm",
            "app:v1",
            "cat /data/v /app/top.txt /app/src/a.txt; ls /etc/group; stat -c '%U %a' /app/top.txt",
        ])
        .ok();
    assert!(out.stdout.starts_with("2\ntop\nhello\n"), "{out:?}");
    assert!(out.stdout.ends_with("root 644\n"), "{out:?}");
    assert!(out.stderr.contains("/etc/group"), "{out:?}");
    assert_eq!(b.run(&["run", "--rm", "app:v1"]).ok().stdout, "hi\n");
    // Nothing of the build is left running or mounted.
    assert!(b.ps_all().is_empty(), "{:?}", b.ps_all());
    assert!(
        mounts_under(&b.root()).is_empty(),
        "{:?}",
        mounts_under(&b.root())
    );
}

#[test]
fn rebuild_is_fully_cached_and_a_changed_file_invalidates_from_its_copy() {
    let b = Berth::new();
    b.busybox("busybox");
    let ctx = app_context(&b);
    let first = build(&b, &["-t", "app"], &ctx).ok();
    assert_eq!(cached(&first), 0);
    let id = image(&b, "app")["Id"].clone();
    // Nothing changed: every step after FROM comes from the cache, in a new process.
    let again = build(&b, &["-t", "app"], &ctx).ok();
    assert_eq!(cached(&again), 14, "{}", again.stdout);
    assert!(!again.stdout.contains("Running in"));
    assert_eq!(image(&b, "app")["Id"], id);
    // A new modification time alone keeps the cache (Docker hashes content, mode and owner).
    let f = std::fs::File::options()
        .write(true)
        .open(ctx.join("src/a.txt"))
        .unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(100))
        .unwrap();
    assert_eq!(cached(&build(&b, &["-t", "app"], &ctx).ok()), 14);
    // Changing the file of step 7 (COPY src/) keeps steps 2-6 and rebuilds 7-15.
    std::fs::write(ctx.join("src/a.txt"), "changed\n").unwrap();
    let changed = build(&b, &["-t", "app"], &ctx).ok();
    assert_eq!(cached(&changed), 5, "{}", changed.stdout);
    let step7 = changed.stdout.split("Step 7/15").nth(1).unwrap();
    assert!(!step7.contains("Using cache"));
    assert_ne!(image(&b, "app")["Id"], id);
    assert_eq!(
        b.run(&[
            "run",
            "--rm",
            "--entrypoint",
            "cat",
            "app",
            "/app/src/a.txt"
        ])
        .ok()
        .stdout,
        "changed\n"
    );
    // A build argument in scope is part of a RUN step's key.
    let arg = build(&b, &["-t", "app", "--build-arg", "V=9"], &ctx).ok();
    assert_eq!(cached(&arg), 6, "{}", arg.stdout);
    // --no-cache runs everything.
    assert_eq!(
        cached(&build(&b, &["--no-cache", "-t", "app"], &ctx).ok()),
        0
    );
    // builder prune forgets the cache; the tagged image and its parents stay.
    b.run(&["builder", "prune", "-f"]).ok();
    assert_eq!(cached(&build(&b, &["-t", "app2"], &ctx).ok()), 0);
    b.run(&["run", "--rm", "app"]).ok();
}

#[test]
fn a_failing_step_reports_its_code_and_leaves_nothing_behind() {
    let b = Berth::new();
    b.busybox("busybox");
    let layer_names = |b: &Berth| -> std::collections::BTreeSet<String> {
        std::fs::read_dir(b.root().join("layers"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    let layers_before = layer_names(&b);
    let ctx = context(
        &b,
        "fail",
        &[(
            "Dockerfile",
            "FROM busybox\nRUN echo partial > /f && echo oops >&2 && exit 3\n",
        )],
    );
    let out = build(&b, &["-t", "x"], &ctx).fails(3);
    assert!(out.stdout.contains("oops"), "{out:?}");
    assert_eq!(
        out.stderr.trim(),
        "The command '/bin/sh -c echo partial > /f && echo oops >&2 && exit 3' returned a non-zero code: 3"
    );
    assert!(b.ps_all().is_empty(), "{:?}", b.ps_all());
    assert_eq!(
        std::fs::read_dir(b.root().join("containers"))
            .map(|d| d.count())
            .unwrap_or(0),
        0
    );
    assert!(mounts_under(&b.root()).is_empty());
    // Only the base image's init layer, shared by the containers on it, stays.
    let mut after = layer_names(&b);
    after.retain(|n| {
        !n.strip_suffix("-init")
            .is_some_and(|l| layers_before.contains(l))
    });
    assert_eq!(after, layers_before);
    assert!(b.run(&["images", "-q", "x"]).ok().stdout.is_empty());
    // Bad Dockerfiles get Docker's words, before any step runs.
    let bad = context(&b, "bad", &[("Dockerfile", "FROM busybox\nFOO bar\n")]);
    let out = build(&b, &[], &bad).fails(1);
    assert_eq!(
        out.stderr.trim(),
        "Error response from daemon: dockerfile parse error line 2: unknown instruction: FOO"
    );
    let missing = context(
        &b,
        "missing",
        &[("Dockerfile", "FROM busybox\nCOPY nope /x\n")],
    );
    let out = build(&b, &[], &missing).fails(1);
    assert_eq!(out.stderr.trim(), "COPY failed: file not found in build context or excluded by .dockerignore: stat nope: file does not exist");
    let out = build(&b, &["--target", "nope"], &missing).fails(1);
    assert_eq!(
        out.stderr.trim(),
        "Error response from daemon: failed to reach build target nope in Dockerfile"
    );
}

#[test]
fn multi_stage_builds_run_only_what_the_target_needs() {
    let b = Berth::new();
    b.busybox("busybox");
    let ctx = context(
        &b,
        "ms",
        &[(
            "Dockerfile",
            "FROM busybox AS build\nRUN echo built > /out.txt\n\
             FROM busybox AS unused\nRUN exit 1\n\
             FROM busybox\nCOPY --from=build /out.txt /res/\nCOPY --from=0 /out.txt /res/again\nCMD [\"cat\", \"/res/out.txt\", \"/res/again\"]\n",
        )],
    );
    let out = build(&b, &["-t", "ms"], &ctx).ok();
    assert!(
        out.stdout.starts_with("Step 1/6 : FROM busybox AS build\n"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("unused"));
    assert_eq!(b.run(&["run", "--rm", "ms"]).ok().stdout, "built\nbuilt\n");
    // --target stops at a stage; -q prints only the ID; --iidfile writes it.
    let iid = b.scratch("iid");
    let out = build(
        &b,
        &[
            "--target",
            "build",
            "-q",
            "--iidfile",
            iid.to_str().unwrap(),
        ],
        &ctx,
    )
    .ok();
    let id = out.stdout.trim().to_string();
    assert!(id.starts_with("sha256:") && id.len() == 71, "{out:?}");
    assert_eq!(std::fs::read_to_string(iid).unwrap(), id);
}

#[test]
fn contexts_from_stdin_and_dockerignore() {
    let b = Berth::new();
    b.busybox("busybox");
    let ctx = context(
        &b,
        "ign",
        &[
            (
                "Dockerfile",
                "FROM busybox\nCOPY . /ctx/\nRUN find /ctx | sort\n",
            ),
            (".dockerignore", "*.log\n**/secret\n!keep.log\n"),
            ("a.txt", "a"),
            ("x.log", "x"),
            ("keep.log", "k"),
            ("d/secret", "s"),
            ("d/ok", "o"),
        ],
    );
    let out = build(&b, &[], &ctx).ok();
    for present in [
        "/ctx/a.txt",
        "/ctx/keep.log",
        "/ctx/d/ok",
        "/ctx/Dockerfile",
        "/ctx/.dockerignore",
    ] {
        assert!(
            out.stdout.contains(&format!("{present}\n")),
            "{present}: {}",
            out.stdout
        );
    }
    for absent in ["/ctx/x.log", "/ctx/d/secret"] {
        assert!(!out.stdout.contains(absent), "{absent}: {}", out.stdout);
    }
    // A Dockerfile alone on STDIN: no context.
    let out = b
        .run_stdin(
            &["build", "-t", "fromstdin", "-"],
            b"FROM busybox\nLABEL via=stdin\n",
        )
        .ok();
    assert!(
        out.stdout.contains("Successfully tagged fromstdin:latest"),
        "{out:?}"
    );
    // A gzipped context tar on STDIN, and -f naming a Dockerfile in it.
    let tar = tar_of(&[
        Entry::File(
            "build.df",
            b"FROM busybox\nCOPY f /f\nCMD [\"cat\", \"/f\"]\n",
            0o644,
        ),
        Entry::File("f", b"from tar\n", 0o644),
    ]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &tar).unwrap();
    let gz = gz.finish().unwrap();
    b.run_stdin(&["build", "-t", "fromtar", "-f", "build.df", "-"], &gz)
        .ok();
    assert_eq!(b.run(&["run", "--rm", "fromtar"]).ok().stdout, "from tar\n");
    let out = b.run_stdin(&["build", "-f", "nope.df", "-"], &gz).fails(1);
    assert_eq!(
        out.stderr.trim(),
        "Error response from daemon: Cannot locate specified Dockerfile: nope.df"
    );
    // A tar's .dockerignore was the client's to apply: dockerd only drops the Dockerfile and
    // .dockerignore when it names them (recorded from dockerd 20.10).
    let tar = tar_of(&[
        Entry::File(
            "build.df",
            b"FROM busybox\nCOPY . /ctx/\nRUN find /ctx | sort\n",
            0o644,
        ),
        Entry::File("Dockerfile", b"FROM scratch\n", 0o644),
        Entry::File(
            ".dockerignore",
            b"Dockerfile\n.dockerignore\nbuild.df\nx.log\n",
            0o644,
        ),
        Entry::File("a.txt", b"a\n", 0o644),
        Entry::File("x.log", b"x\n", 0o644),
    ]);
    let out = b
        .run_stdin(&["build", "--no-cache", "-f", "build.df", "-"], &tar)
        .ok();
    assert!(
        out.stdout
            .contains("\n/ctx\n/ctx/Dockerfile\n/ctx/a.txt\n/ctx/x.log\nRemoving"),
        "{}",
        out.stdout
    );
    // -f is relative to the working directory, and a missing one is named in full.
    let out = b
        .run(&["build", "-f", "nope.df", ctx.to_str().unwrap()])
        .fails(1);
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(
        out.stderr.trim(),
        format!(
            "unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat {}/nope.df: no such file or directory",
            cwd.display()
        )
    );
}

#[test]
fn copy_owners_modes_and_add_archives() {
    let b = Berth::new();
    b.busybox("busybox");
    let tar = tar_of(&[
        Entry::Dir("pkg", 0o755),
        Entry::File("pkg/lib.txt", b"lib\n", 0o640),
    ]);
    let dir = context(
        &b,
        "own",
        &[
            ("Dockerfile", "FROM busybox\nCOPY --chown=nobody:nogroup f /owned\nCOPY --chmod=600 f /private\nCOPY --chown=65534 d /dir/\nADD pkg.tar /opt/\nCOPY *.txt /globbed/\n"),
            ("f", "f\n"),
            ("d/inner", "i\n"),
            ("one.txt", "1"),
            ("two.txt", "2"),
        ],
    );
    std::fs::write(dir.join("pkg.tar"), tar).unwrap();
    b.run(&["build", "-t", "own", dir.to_str().unwrap()]).ok();
    let out = b
        .run(&[
            "run",
            "--rm",
            "own",
            "sh",
            "-c",
            "stat -c '%n %u:%g %a' /owned /private /dir /dir/inner /opt/pkg/lib.txt; ls /globbed",
        ])
        .ok();
    assert_eq!(
        out.stdout,
        "/owned 65534:65534 644\n/private 0:0 600\n/dir 65534:65534 755\n/dir/inner 65534:65534 644\n/opt/pkg/lib.txt 0:0 640\none.txt\ntwo.txt\n"
    );
    let bad = context(
        &b,
        "badown",
        &[
            ("Dockerfile", "FROM busybox\nCOPY --chown=bob f /f\n"),
            ("f", ""),
        ],
    );
    let out = build(&b, &[], &bad).fails(1);
    assert!(
        out.stderr
            .contains("can't find uid for user bob: no such user: bob"),
        "{out:?}"
    );
    let url = context(
        &b,
        "url",
        &[("Dockerfile", "FROM busybox\nADD https://example.com/x /x\n")],
    );
    let out = build(&b, &[], &url).fails(1);
    assert!(out.stderr.contains("needs the network"), "{out:?}");
}

#[test]
fn the_seed_app_upgrade_runs_on_built_images() {
    let b = Berth::new();
    b.busybox("busybox");
    for v in ["1", "2"] {
        let df = format!(
            "FROM busybox\nRUN mkdir -p /app /data && echo {v} > /app/version && echo default=1 > /data/defaults.conf\nVOLUME /data\nCMD [\"sh\", \"-c\", \"cat /app/version; ls /data\"]\n"
        );
        let ctx = context(&b, &format!("todo{v}"), &[("Dockerfile", &df)]);
        build(&b, &["-t", &format!("todo:v{v}")], &ctx).ok();
    }
    b.run(&[
        "run",
        "--name",
        "todo",
        "-v",
        "tododata:/data",
        "todo:v1",
        "sh",
        "-c",
        "echo item > /data/items",
    ])
    .ok();
    b.run(&["rm", "todo"]).ok();
    let out = b
        .run(&["run", "--rm", "-v", "tododata:/data", "todo:v2"])
        .ok();
    assert_eq!(out.stdout, "2\ndefaults.conf\nitems\n");
    // An anonymous volume from the image's VOLUME is populated from the image.
    let out = b.run(&["run", "--rm", "todo:v2"]).ok();
    assert_eq!(out.stdout, "2\ndefaults.conf\n");
}

#[test]
fn heredocs_in_run_and_copy() {
    let b = Berth::new();
    b.busybox("busybox");
    let ctx = context(
        &b,
        "heredoc",
        &[(
            "Dockerfile",
            "FROM busybox\nENV WHO=berth\nRUN <<EOF\necho \"one $WHO\" > /one\necho two >> /one\nEOF\n\
             COPY <<-'EOT' /raw.txt\n\tno $WHO here\n\tEOT\nCOPY <<EOT /expanded.txt\nhello $WHO\nEOT\n\
             RUN cat <<A > /two && cat <<B >> /two\nfirst\nA\nsecond\nB\n",
        )],
    );
    b.run(&["image", "build", "-t", "hd", ctx.to_str().unwrap()])
        .ok();
    let out = b
        .run(&[
            "run",
            "--rm",
            "hd",
            "cat",
            "/one",
            "/raw.txt",
            "/expanded.txt",
            "/two",
        ])
        .ok();
    assert_eq!(
        out.stdout,
        "one berth\ntwo\nno $WHO here\nhello berth\nfirst\nsecond\n"
    );
}

#[test]
fn run_steps_join_the_network_build_names() {
    let b = Berth::new();
    b.busybox("busybox");
    let ctx = context(
        &b,
        "net",
        &[(
            "Dockerfile",
            "FROM busybox\nRUN echo \"nics: $(ls /sys/class/net | sort | tr '\\n' ' ')\"\n",
        )],
    );
    // Docker's default: RUN steps are on the bridge network.
    let out = build(&b, &["--no-cache"], &ctx).ok();
    assert!(out.stdout.contains("\nnics: eth0 lo \n"), "{}", out.stdout);
    let out = build(&b, &["--no-cache", "--network", "none"], &ctx).ok();
    assert!(out.stdout.contains("\nnics: lo \n"), "{}", out.stdout);
    let out = build(&b, &["--no-cache", "--network", "nope"], &ctx).fails(1);
    assert!(
        out.stderr.contains("network nope not found"),
        "{}",
        out.stderr
    );
    assert!(b.ps_all().is_empty(), "{:?}", b.ps_all());
    assert!(mounts_under(&b.root()).is_empty());
}

/// What a terminal shows after `raw` (an 80-column terminal tall enough that nothing scrolls
/// away), line by line, trailing blanks trimmed.
fn screen_lines(raw: &[u8]) -> Vec<String> {
    let mut term = vt100::Parser::new(2000.try_into().unwrap(), 80.try_into().unwrap(), 0);
    term.process(raw);
    term.screen()
        .rows(0, 80)
        .map(|l| l.trim_end().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn a_terminal_gets_the_compact_view() {
    let b = Berth::new();
    b.busybox("busybox");
    let ctx = context(
        &b,
        "tty",
        &[(
            "Dockerfile",
            "FROM busybox\nCOPY f /f\nRUN echo first line; echo last line\nCMD [\"cat\", \"/f\"]\n",
        ), ("f", "f\n")],
    );
    let dir = ctx.to_str().unwrap();
    let mut t = b.spawn_pty(&["build", "-t", "tty", dir]);
    assert_eq!(t.wait_exit(std::time::Duration::from_secs(120)), 0);
    let lines = screen_lines(t.output().as_bytes());
    let steps: Vec<&String> = lines.iter().filter(|l| l.starts_with(" => ")).collect();
    assert_eq!(steps.len(), 4, "{lines:?}");
    assert!(steps[0].starts_with(" => [1/4] FROM busybox "), "{lines:?}");
    assert!(steps[2].starts_with(" => [3/4] RUN echo first line; echo last line "));
    assert!(steps[3].ends_with('s'), "{lines:?}");
    // One line per step: no classic-builder chatter, the RUN's output only while it runs.
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("Step ") || l.contains("--->")),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l == "first line"), "{lines:?}");
    let id = b
        .run(&["images", "-q", "tty"])
        .ok()
        .stdout
        .trim()
        .to_string();
    assert!(
        lines.contains(&format!("Successfully built {id}")),
        "{lines:?}"
    );
    assert!(lines.contains(&"Successfully tagged tty:latest".to_string()));
    // A rebuild: every step after FROM is CACHED.
    let mut t = b.spawn_pty(&["build", "-t", "tty", dir]);
    assert_eq!(t.wait_exit(std::time::Duration::from_secs(120)), 0);
    let lines = screen_lines(t.output().as_bytes());
    let cached = lines
        .iter()
        .filter(|l| l.starts_with(" => CACHED ["))
        .count();
    assert_eq!(cached, 3, "{lines:?}");
    // A failing step is shown with everything it printed, then the error.
    std::fs::write(
        ctx.join("Dockerfile"),
        "FROM busybox\nRUN echo partial; echo oops >&2; exit 3\n",
    )
    .unwrap();
    let mut t = b.spawn_pty(&["build", dir]);
    assert_eq!(t.wait_exit(std::time::Duration::from_secs(120)), 3);
    let lines = screen_lines(t.output().as_bytes());
    let at = lines
        .iter()
        .position(|l| l == " => ERROR [2/2] RUN echo partial; echo oops >&2; exit 3")
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert_eq!(
        lines[at + 1..at + 3],
        ["    partial", "    oops"],
        "{lines:?}"
    );
    assert!(t.output().ends_with(
        "The command '/bin/sh -c echo partial; echo oops >&2; exit 3' returned a non-zero code: 3\r\n"
    ));
    // --progress plain keeps the classic text on a terminal; tty refuses a pipe.
    let mut t = b.spawn_pty(&["build", "--progress", "plain", dir]);
    assert_eq!(t.wait_exit(std::time::Duration::from_secs(120)), 3);
    assert!(
        t.output().contains("Step 2/2 : RUN echo partial"),
        "{}",
        t.output()
    );
    let out = build(&b, &["--progress", "tty"], &ctx).fails(1);
    assert!(
        out.stderr.contains("--progress tty needs a terminal"),
        "{out:?}"
    );
    assert!(b.ps_all().is_empty(), "{:?}", b.ps_all());
}

//! End-to-end tables for mount parsing: docker-style flag lists go through the CLI stage and the
//! daemon stage, and the result (error text, `MountSpec`s, `Mounts[]` entries) is compared with
//! the spec (`storage-semantics.md` §3, §5–§9, §11). Property tests at the end.

use std::collections::{BTreeMap, BTreeSet};
use std::io;

use proptest::prelude::*;

use super::*;
use berth_go as go;

const CWD: &str = "/work/dir";

/// Docker-style arguments: `-v X`, `--mount X`, `--tmpfs X`, `--volumes-from X`,
/// `--volume-driver X`, plus `VOLUME X` for an image volume.
fn flags(args: &[&str]) -> (CliMountFlags, Vec<String>) {
    let mut flags = CliMountFlags::default();
    let mut image = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().expect("flag value").to_string();
        match *flag {
            "-v" => flags.volumes.push(value),
            "--mount" => flags.mounts.push(value),
            "--tmpfs" => flags.tmpfs.push(value),
            "--volumes-from" => flags.volumes_from.push(value),
            "--volume-driver" => flags.volume_driver = Some(value),
            "VOLUME" => image.push(value),
            other => panic!("unknown flag {other}"),
        }
    }
    (flags, image)
}

/// Bind sources exist unless their path mentions `missing`.
fn host(path: &str) -> io::Result<bool> {
    Ok(!path.contains("missing"))
}

const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// `spec-src`: a named volume, an anonymous (image) volume, a read-only bind, a `--mount` tmpfs
/// and a `--tmpfs`, as the engine records them after create.
fn containers() -> BTreeMap<String, Vec<MountSpec>> {
    let src = create_with(
        &[
            "-v",
            "spec-named1:/named",
            "VOLUME",
            "/data",
            "-v",
            "/srv/ex/b/src:/b1:ro",
            "--mount",
            "type=tmpfs,dst=/t1,tmpfs-size=1m",
            "--tmpfs",
            "/t2:size=2m",
        ],
        ApiVersion::V1_41,
        &BTreeMap::new(),
    )
    .unwrap();
    let recorded = src.into_iter().map(engine_names).collect();
    BTreeMap::from([("spec-src".to_string(), recorded)])
}

/// What the engine does after parsing: name anonymous volumes, record the driver.
fn engine_names(mut spec: MountSpec) -> MountSpec {
    if spec.kind == MountKind::Volume {
        let name = spec.source.clone().unwrap_or_else(|| HEX.to_string());
        let driver = spec
            .volume
            .driver
            .clone()
            .unwrap_or_else(|| "local".to_string());
        spec.set_volume(name, driver);
    }
    spec
}

fn create_with(
    args: &[&str],
    api: ApiVersion,
    containers: &BTreeMap<String, Vec<MountSpec>>,
) -> Result<Vec<MountSpec>, String> {
    let (flags, image) = flags(args);
    let cli = CliMounts::parse(&flags, CWD).map_err(|e| e.to_string())?;
    let request = cli.into_request(image, api);
    parse_mounts(&request, containers, &host).map_err(|e| e.to_string())
}

/// `docker create` with API 1.41 (the reference daemon) and the `spec-src` container.
fn create(args: &[&str]) -> Result<Vec<MountSpec>, String> {
    create_with(args, ApiVersion::V1_41, &containers())
}

fn create_err(args: &[&str]) -> String {
    match create(args) {
        Ok(specs) => panic!("{args:?} parsed: {specs:#?}"),
        Err(e) => e,
    }
}

/// `inspect`'s `Mounts[]`, by destination.
fn report(specs: Vec<MountSpec>) -> BTreeMap<String, MountPoint> {
    specs
        .into_iter()
        .map(engine_names)
        .filter_map(|spec| {
            let path = format!(
                "/var/lib/docker/volumes/{}/_data",
                spec.source.clone().unwrap_or_default()
            );
            spec.mount_point(&path)
        })
        .map(|point| (point.destination.clone(), point))
        .collect()
}

/// The single `Mounts[]` entry of `args`.
fn one(args: &[&str]) -> MountPoint {
    let points = report(create(args).unwrap());
    assert_eq!(points.len(), 1, "{points:#?}");
    points.into_values().next().unwrap()
}

/// A `Mounts[]` entry; `name` is both the volume name and its `_data` path's directory.
fn point(
    kind: &str,
    name: &str,
    source: &str,
    destination: &str,
    mode: &str,
    rw: bool,
    propagation: &str,
) -> MountPoint {
    let volume = kind == "volume";
    MountPoint {
        kind: kind.into(),
        name: name.into(),
        source: if volume {
            format!("/var/lib/docker/volumes/{name}/_data")
        } else {
            source.into()
        },
        destination: destination.into(),
        driver: if volume { "local".into() } else { "".into() },
        mode: mode.into(),
        rw,
        propagation: propagation.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// §9.1: Mounts[] shapes per origin

#[test]
fn mounts_report_per_origin() {
    let table: Vec<(Vec<&str>, MountPoint)> = vec![
        (
            vec!["-v", "spec-named1:/named"],
            point("volume", "spec-named1", "", "/named", "z", true, ""),
        ),
        (
            vec!["-v", "spec-iv1:/v1:ro"],
            point("volume", "spec-iv1", "", "/v1", "ro", false, ""),
        ),
        (
            vec!["-v", "spec-iv2:/v2:nocopy"],
            point("volume", "spec-iv2", "", "/v2", "nocopy", true, ""),
        ),
        (
            vec!["-v", "/anon1"],
            point("volume", HEX, "", "/anon1", "", true, ""),
        ),
        (
            vec!["VOLUME", "/data"],
            point("volume", HEX, "", "/data", "", true, ""),
        ),
        (
            vec!["--mount", "type=volume,src=spec-iv3,dst=/v3,readonly"],
            point("volume", "spec-iv3", "", "/v3", "z", false, ""),
        ),
        (
            vec!["--mount", "type=volume,dst=/anon2"],
            point("volume", HEX, "", "/anon2", "z", true, ""),
        ),
        (
            vec!["-v", "/srv/ex/b/src:/b1"],
            point("bind", "", "/srv/ex/b/src", "/b1", "", true, "rprivate"),
        ),
        (
            vec!["-v", "/srv/ex/b/src:/b2:ro,Z"],
            point(
                "bind",
                "",
                "/srv/ex/b/src",
                "/b2",
                "ro,Z",
                false,
                "rprivate",
            ),
        ),
        (
            vec!["-v", "/srv/ex/b/src:/b3:rprivate,ro"],
            point(
                "bind",
                "",
                "/srv/ex/b/src",
                "/b3",
                "rprivate,ro",
                false,
                "rprivate",
            ),
        ),
        (
            vec!["--mount", "type=bind,src=/srv/ex/b/src,dst=/b4,readonly"],
            point("bind", "", "/srv/ex/b/src", "/b4", "", false, "rprivate"),
        ),
        (
            vec![
                "--mount",
                "type=bind,src=/srv/ex/b/src,dst=/b5,bind-propagation=rshared",
            ],
            point("bind", "", "/srv/ex/b/src", "/b5", "", true, "rshared"),
        ),
        (
            vec![
                "--mount",
                "type=tmpfs,dst=/t1,tmpfs-size=1m,tmpfs-mode=0700",
            ],
            point("tmpfs", "", "", "/t1", "", true, ""),
        ),
        // §5.2: sources are cleaned for use and reporting.
        (
            vec!["-v", "/srv/./ex//b/:/x"],
            point("bind", "", "/srv/ex/b", "/x", "", true, "rprivate"),
        ),
        // §8.2: destinations are cleaned.
        (
            vec!["-v", "spec-a:/x//y/../z"],
            point("volume", "spec-a", "", "/x/z", "z", true, ""),
        ),
        // §5.7: z/Z is recorded in Mode.
        (
            vec!["-v", "/srv/ex/b/src:/b6:Z"],
            point("bind", "", "/srv/ex/b/src", "/b6", "Z", true, "rprivate"),
        ),
    ];
    for (args, want) in table {
        assert_eq!(one(&args), want, "{args:?}");
    }
}

#[test]
fn tmpfs_flag_is_not_reported() {
    let specs = create(&["--tmpfs", "/t2:size=2m,noexec"]).unwrap();
    assert_eq!(specs.len(), 1);
    assert_eq!(specs[0].kind, MountKind::Tmpfs);
    assert!(report(specs).is_empty());
}

#[test]
fn mount_point_json_examples() {
    let named = one(&["-v", "spec-named1:/named"]);
    assert_eq!(
        serde_json::to_string(&named).unwrap(),
        r#"{"Type":"volume","Name":"spec-named1","Source":"/var/lib/docker/volumes/spec-named1/_data","Destination":"/named","Driver":"local","Mode":"z","RW":true,"Propagation":""}"#
    );
    let bind = one(&["-v", "/srv/ex/b/src:/b2:ro,Z"]);
    assert_eq!(
        serde_json::to_string(&bind).unwrap(),
        r#"{"Type":"bind","Source":"/srv/ex/b/src","Destination":"/b2","Mode":"ro,Z","RW":false,"Propagation":"rprivate"}"#
    );
    let tmpfs = one(&["--mount", "type=tmpfs,dst=/t1"]);
    assert_eq!(
        serde_json::to_string(&tmpfs).unwrap(),
        r#"{"Type":"tmpfs","Source":"","Destination":"/t1","Mode":"","RW":true,"Propagation":""}"#
    );
}

// ---------------------------------------------------------------------------------------------
// §8.1, §8.4, §6: CLI-side errors and forms

#[test]
fn cli_errors() {
    let mount_err = |csv: &str, reason: &str| {
        (
            vec!["--mount".to_string(), csv.to_string()],
            format!(
                "invalid argument {} for \"--mount\" flag: {reason}",
                go::quote(csv)
            ),
        )
    };
    let volume_err =
        |spec: &str, text: &str| (vec!["-v".to_string(), spec.to_string()], text.to_string());
    let table = vec![
        volume_err("", "invalid empty volume spec"),
        volume_err(":/x", "invalid spec: :/x: empty section between colons"),
        volume_err("/x:", "invalid spec: /x:: empty section between colons"),
        volume_err("spec-a::/x", "invalid spec: spec-a::/x: empty section between colons"),
        volume_err("spec-a:/x:ro:z", "invalid spec: spec-a:/x:ro:z: too many colons"),
        mount_err("type=bind,src=/a", "target is required"),
        mount_err("foo=bar,dst=/x", "unexpected key 'foo' in 'foo=bar'"),
        mount_err("FOO=bar,dst=/x", "unexpected key 'foo' in 'FOO=bar'"),
        mount_err("bogus,dst=/x", "invalid field 'bogus' must be a key=value pair"),
        mount_err("dst=/x,bind-recursive", "invalid field 'bind-recursive' must be a key=value pair"),
        mount_err(
            "type=bind,src=/a,dst=/x,volume-nocopy",
            "cannot mix 'volume-*' options with mount type 'bind'",
        ),
        mount_err(
            "type=volume,dst=/x,bind-propagation=shared",
            "cannot mix 'bind-*' options with mount type 'volume'",
        ),
        mount_err(
            "type=bind,src=/a,dst=/x,tmpfs-size=1m",
            "cannot mix 'tmpfs-*' options with mount type 'bind'",
        ),
        mount_err(
            "type=volume,dst=/x,tmpfs-mode=700",
            "cannot mix 'tmpfs-*' options with mount type 'volume'",
        ),
        mount_err(
            "type=tmpfs,dst=/x,volume-opt=a=b",
            "cannot mix 'volume-*' options with mount type 'tmpfs'",
        ),
        mount_err(
            "type=tmpfs,dst=/x,bind-nonrecursive",
            "cannot mix 'bind-*' options with mount type 'tmpfs'",
        ),
        mount_err(
            "type=TMPFS,dst=/x,volume-label=a=b",
            "cannot mix 'volume-*' options with mount type 'tmpfs'",
        ),
        mount_err(
            "type=volume,dst=/x,image-subpath=a",
            "cannot mix 'image-*' options with mount type 'volume'",
        ),
        mount_err("dst=/x,readonly=yes", "invalid value for readonly: yes"),
        mount_err("dst=/x,ro=maybe", "invalid value for ro: maybe"),
        mount_err("dst=/x,RO=maybe", "invalid value for ro: maybe"),
        mount_err("dst=/x,volume-nocopy=sure", "invalid value for volume-nocopy: sure"),
        mount_err(
            "type=bind,src=/a,dst=/x,bind-nonrecursive=2",
            "invalid value for bind-nonrecursive: 2",
        ),
        mount_err("type=tmpfs,dst=/t,tmpfs-mode=999", "invalid value for tmpfs-mode: 999"),
        mount_err("type=tmpfs,dst=/t,tmpfs-size=abc", "invalid value for tmpfs-size: abc"),
        mount_err("type=tmpfs,dst=/t,tmpfs-size=-1", "invalid value for tmpfs-size: -1"),
        mount_err(
            "type=bind,src=/a,dst=/x,bind-recursive=bogus",
            r#"invalid value for bind-recursive: bogus (must be "enabled", "disabled", "writable", or "readonly")"#,
        ),
        mount_err(
            "type=bind,src=/a,dst=/x,bind-recursive=readonly",
            "option 'bind-recursive=readonly' requires 'readonly' to be specified in conjunction",
        ),
        mount_err(
            "type=bind,src=/a,dst=/x,bind-recursive=readonly,readonly",
            "option 'bind-recursive=readonly' requires 'bind-propagation=rprivate' to be specified in conjunction",
        ),
        mount_err(
            "type=bind,src=/a,dst=/x,bind-recursive=writable",
            "option 'bind-recursive=writable' requires 'readonly' to be specified in conjunction",
        ),
        mount_err("type=,dst=/x", "type is required"),
        mount_err("", "EOF"),
        mount_err(
            "type=bind,src=\"a",
            "parse error on line 1, column 15: bare \" in non-quoted-field",
        ),
        mount_err(
            "type=bind,\"src=a",
            "parse error on line 1, column 17: extraneous or missing \" in quoted-field",
        ),
        mount_err(
            "type=bind,src=a\"b",
            "parse error on line 1, column 16: bare \" in non-quoted-field",
        ),
    ];
    for (args, want) in table {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(create_err(&args), want, "{args:?}");
    }
    // The wrapper quotes the value the way Go's %q does.
    assert_eq!(
        create_err(&["--mount", "foo=\"x\"\t"]),
        r#"invalid argument "foo=\"x\"\t" for "--mount" flag: parse error on line 1, column 5: bare " in non-quoted-field"#
    );
    // --mount errors are flag errors: they come before -v errors.
    assert_eq!(
        create_err(&["-v", "", "--mount", "dst=/x,ro=maybe"]),
        r#"invalid argument "dst=/x,ro=maybe" for "--mount" flag: invalid value for ro: maybe"#
    );
}

#[test]
fn cli_volume_forms() {
    let parse = |specs: &[&str]| {
        let flags = CliMountFlags {
            volumes: specs.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        CliMounts::parse(&flags, CWD).unwrap()
    };
    // One section → Config.Volumes; 1–2 characters verbatim; ≥ 2 sections → Binds.
    let cli = parse(&["/data", "rel", ":", "/", "spec-a:/x", "/srv:/b:ro"]);
    assert_eq!(
        cli.volumes,
        BTreeSet::from(["/data", "rel", ":", "/"].map(String::from))
    );
    assert_eq!(cli.binds, ["spec-a:/x", "/srv:/b:ro"]);
    // A leading-. host part is made absolute; other relative forms are kept.
    let cli = parse(&[
        "./src:/data",
        "../b/src:/x:ro",
        ".hidden:/h",
        "src/:/s",
        "~/x:/t",
    ]);
    assert_eq!(
        cli.binds,
        [
            "/work/dir/src:/data",
            "/work/b/src:/x:ro",
            "/work/dir/.hidden:/h",
            "src/:/s",
            "~/x:/t"
        ]
    );
    // Identical values count once (the CLI keeps a set).
    let cli = parse(&["a1:/x", "a1:/x", "/p", "/p"]);
    assert_eq!(cli.binds, ["a1:/x"]);
    assert_eq!(cli.volumes.len(), 1);
    // Windows drive letters: `/a:/b:c:d` passes the CLI (and fails in the daemon).
    assert_eq!(parse(&["/a:/b:c:d"]).binds, ["/a:/b:c:d"]);
    assert_eq!(
        create_err(&["-v", "/a:/b:c:d"]),
        "invalid volume specification: '/a:/b:c:d'"
    );
    assert_eq!(create_err(&["-v", "c:/foo:/bar"]), "invalid mode: /bar");
}

#[test]
fn cli_mount_forms() {
    let mount = |csv: &str| parse_mount_flag(csv, CWD).unwrap();
    // Type defaults to volume; keys and aliases are case-insensitive; type is lower-cased.
    assert_eq!(
        serde_json::to_string(&mount("dst=/anon2")).unwrap(),
        r#"{"Type":"volume","Target":"/anon2"}"#
    );
    assert_eq!(
        mount("TYPE=BIND,SRC=/a,Destination=/x"),
        ApiMount {
            kind: "bind".into(),
            source: "/a".into(),
            target: "/x".into(),
            ..Default::default()
        }
    );
    assert_eq!(
        serde_json::to_string(&mount(
            "type=tmpfs,destination=/t1,tmpfs-size=1m,tmpfs-mode=0700"
        ))
        .unwrap(),
        r#"{"Type":"tmpfs","Target":"/t1","TmpfsOptions":{"SizeBytes":1048576,"Mode":448}}"#
    );
    assert_eq!(
        mount("type=tmpfs,dst=/t,tmpfs-mode=1770")
            .tmpfs_options
            .unwrap()
            .mode,
        1016
    );
    // Read-only: bare flag, Go bools.
    for csv in [
        "dst=/x,src=v1,ro",
        "dst=/x,src=v1,readonly",
        "dst=/x,src=v1,ro=true",
        "dst=/x,src=v1,readonly=1",
        "dst=/x,src=v1,Readonly=T",
    ] {
        assert!(mount(csv).read_only, "{csv}");
    }
    for csv in [
        "dst=/x,ro=false",
        "dst=/x,readonly=0",
        "dst=/x,ro=F",
        "dst=/x,ro,ro=False",
    ] {
        assert!(!mount(csv).read_only, "{csv}");
    }
    // Leading-. sources are made absolute, others kept.
    assert_eq!(mount("type=bind,src=./src,dst=/x").source, "/work/dir/src");
    assert_eq!(mount("type=bind,src=src,dst=/x").source, "src");
    // Volume options: repeatable labels and driver options, nocopy flag, driver.
    let m = mount("type=volume,src=v1,dst=/x,volume-label=a=1,volume-label=b,volume-label==z,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-driver=local,volume-nocopy");
    let options = m.volume_options.unwrap();
    assert!(options.no_copy);
    assert_eq!(
        options.labels,
        BTreeMap::from([("a".into(), "1".into()), ("b".into(), "".into())])
    );
    let driver = options.driver_config.unwrap();
    assert_eq!(driver.name, "local");
    assert_eq!(
        driver.options,
        BTreeMap::from([
            ("type".into(), "tmpfs".into()),
            ("device".into(), "tmpfs".into())
        ])
    );
    // Any volume-* key creates VolumeOptions with an empty DriverConfig, as the CLI sends it.
    assert_eq!(
        serde_json::to_string(&mount("dst=/x,volume-nocopy=1")).unwrap(),
        r#"{"Type":"volume","Target":"/x","VolumeOptions":{"NoCopy":true,"DriverConfig":{}}}"#
    );
    // Bind options.
    let m = mount(
        "type=bind,src=/a,dst=/x,bind-propagation=RSHARED,bind-nonrecursive,consistency=Cached",
    );
    assert_eq!(m.consistency, "cached");
    assert_eq!(
        m.bind_options.unwrap(),
        BindOptions {
            propagation: "rshared".into(),
            non_recursive: true,
            ..Default::default()
        }
    );
    assert!(
        mount("type=bind,src=/a,dst=/x,bind-recursive=disabled")
            .bind_options
            .unwrap()
            .non_recursive
    );
    assert!(mount("type=volume,dst=/x,bind-recursive=enabled")
        .bind_options
        .is_none());
    let m =
        mount("type=bind,src=/a,dst=/x,readonly,bind-recursive=readonly,bind-propagation=rprivate");
    assert!(m.bind_options.unwrap().read_only_force_recursive);
    let m = mount("type=bind,src=/a,dst=/x,readonly,bind-recursive=writable");
    assert!(m.bind_options.unwrap().read_only_non_recursive);
    // Quoted CSV fields.
    assert_eq!(mount(r#"type=bind,"src=/a,b",dst=/x"#).source, "/a,b");
    // consistency is not validated.
    assert_eq!(mount("dst=/x,consistency=bogus").consistency, "bogus");
    // The deprecated bind-nonrecursive=<bool> warns.
    let flags = CliMountFlags {
        mounts: vec!["type=bind,src=/a,dst=/x,bind-nonrecursive=true".into()],
        ..Default::default()
    };
    assert_eq!(
        CliMounts::parse(&flags, CWD).unwrap().warnings,
        ["bind-nonrecursive is deprecated, use bind-recursive=disabled instead"]
    );
}

#[test]
fn cli_tmpfs_and_volumes_from() {
    let flags = CliMountFlags {
        tmpfs: vec![
            "/t:size=1m".into(),
            "/u".into(),
            "/t:size=2m,mode=700".into(),
        ],
        volumes_from: vec!["spec-src:ro".into(), "".into()],
        ..Default::default()
    };
    let cli = CliMounts::parse(&flags, CWD).unwrap();
    assert_eq!(
        cli.tmpfs,
        BTreeMap::from([
            ("/t".into(), "size=2m,mode=700".into()),
            ("/u".into(), "".into())
        ])
    );
    assert_eq!(cli.volumes_from, ["spec-src:ro", ""]);
    assert_eq!(parse_tmpfs_flag("/a:b:c"), ("/a".into(), "b:c".into()));
}

// ---------------------------------------------------------------------------------------------
// §8.2, §8.4, §6, §7: daemon-side errors

#[test]
fn daemon_errors() {
    let table: Vec<(Vec<&str>, &str)> = vec![
        // §8.2 Binds
        (
            vec!["-v", "/a:/b:c:d"],
            "invalid volume specification: '/a:/b:c:d'",
        ),
        (vec!["-v", "/x:ro"], "invalid volume specification: '/x:ro'"),
        (vec!["-v", "/x:rw"], "invalid volume specification: '/x:rw'"),
        (
            vec!["-v", "/x:nocopy"],
            "invalid volume specification: '/x:nocopy'",
        ),
        (vec!["-v", "spec-a:/x:bogus"], "invalid mode: bogus"),
        (vec!["-v", "spec-a:/x:ro,rw"], "invalid mode: ro,rw"),
        (vec!["-v", "spec-a:/x:z,Z"], "invalid mode: z,Z"),
        (
            vec!["-v", "spec-a:/x:shared,slave"],
            "invalid mode: shared,slave",
        ),
        (
            vec!["-v", "spec-a:rel"],
            r#"invalid volume specification: 'spec-a:rel': invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute"#,
        ),
        (
            vec!["-v", "spec-a:/"],
            r#"invalid volume specification: 'spec-a:/': invalid mount config for type "volume": invalid specification: destination can't be '/'"#,
        ),
        (
            vec!["-v", "/srv/ex/b/src:/"],
            r#"invalid volume specification: '/srv/ex/b/src:/': invalid mount config for type "bind": invalid specification: destination can't be '/'"#,
        ),
        (
            vec!["-v", "spec-a:/x/..:ro"],
            r#"invalid volume specification: 'spec-a:/x/..:ro': invalid mount config for type "volume": invalid specification: destination can't be '/'"#,
        ),
        (
            vec!["-v", "spec-a:/x:rshared"],
            r#"invalid volume specification: 'spec-a:/x:rshared': invalid mount config for type "volume": field BindOptions must not be specified"#,
        ),
        (
            vec!["-v", "/srv/ex/b/src:/x:nocopy"],
            r#"invalid volume specification: '/srv/ex/b/src:/x:nocopy': invalid mount config for type "bind": field VolumeOptions must not be specified"#,
        ),
        (
            vec!["-v", "src/:/data"],
            r#"create src/: "src/" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path"#,
        ),
        (
            vec!["-v", "~/x:/data"],
            r#"create ~/x: "~/x" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path"#,
        ),
        // Duplicates (after cleaning)
        (
            vec!["-v", "spec-a:/x", "-v", "spec-b:/x"],
            "Duplicate mount point: /x",
        ),
        (
            vec!["-v", "spec-a:/x//y/../z", "-v", "spec-b:/x/z/"],
            "Duplicate mount point: /x/z",
        ),
        (
            vec![
                "-v",
                "spec-a:/x",
                "--mount",
                "type=volume,src=spec-b,dst=/x/",
            ],
            "Duplicate mount point: /x/",
        ),
        (
            vec![
                "--mount",
                "type=tmpfs,dst=/t",
                "--mount",
                "type=tmpfs,dst=/t",
            ],
            "Duplicate mount point: /t",
        ),
        (
            vec!["--tmpfs", "/t", "-v", "xy:/t"],
            "Duplicate mount point: /t",
        ),
        // §11 #8: a --tmpfs and any --mount at one target
        (
            vec!["--tmpfs", "/t", "--mount", "type=volume,src=spec-v,dst=/t"],
            "Duplicate mount point: /t",
        ),
        (
            vec![
                "--tmpfs",
                "/t:size=1m",
                "--mount",
                "type=tmpfs,dst=/t,tmpfs-size=2m",
            ],
            "Duplicate mount point: /t",
        ),
        (
            vec!["--tmpfs", "/t", "--mount", "type=bind,src=/srv,dst=/t"],
            "Duplicate mount point: /t",
        ),
        (
            vec!["--tmpfs", "/t", "--tmpfs", "/t/"],
            "Duplicate mount point: /t",
        ),
        // §8.4 Mounts
        (
            vec!["--mount", "type=bind,dst=/x"],
            r#"invalid mount config for type "bind": field Source must not be empty"#,
        ),
        (
            vec!["--mount", "type=bind,src=/srv/ex/b/missing2,dst=/x"],
            r#"invalid mount config for type "bind": bind source path does not exist: /srv/ex/b/missing2"#,
        ),
        (
            vec!["--mount", "type=bind,src=src,dst=/x"],
            r#"invalid mount config for type "bind": invalid mount path: 'src' mount path must be absolute"#,
        ),
        (
            vec![
                "--mount",
                "type=bind,src=/srv,dst=/x,bind-propagation=bogus",
            ],
            r#"invalid mount config for type "bind": invalid propagation mode: bogus"#,
        ),
        (
            vec!["--mount", "type=volume,src=v1,dst=rel"],
            r#"invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute"#,
        ),
        (
            vec!["--mount", "type=volume,src=v1,dst=/"],
            r#"invalid mount config for type "volume": invalid specification: destination can't be '/'"#,
        ),
        (
            vec!["--mount", "type=volume,dst=/x,readonly"],
            r#"invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes"#,
        ),
        (
            vec!["--mount", "type=tmpfs,src=foo,dst=/t"],
            r#"invalid mount config for type "tmpfs": field Source must not be specified"#,
        ),
        (
            vec!["--mount", "type=image,src=busybox,dst=/x"],
            r#"invalid mount config for type "image": mount type unknown"#,
        ),
        (
            vec!["--mount", "type=npipe,src=/x,dst=/x"],
            r#"invalid mount config for type "npipe": mount type unknown"#,
        ),
        (
            vec!["--mount", "type=volume,src=/abs,dst=/x"],
            r#"create /abs: "/abs" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path"#,
        ),
        (
            vec!["--mount", "type=volume,src=spec v,dst=/x"],
            r#"create spec v: "spec v" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path"#,
        ),
        // §6 tmpfs
        (
            vec!["--tmpfs", "rel"],
            "invalid mount path: 'rel' mount path must be absolute",
        ),
        (
            vec!["--tmpfs", "/"],
            "invalid specification: destination can't be '/'",
        ),
        (
            vec!["--tmpfs", "/t:bogus=1"],
            r#"invalid tmpfs option ["bogus" "1"]"#,
        ),
        // §7 volumes-from
        (
            vec!["--volumes-from", "spec-nonexist"],
            "No such container: spec-nonexist",
        ),
        (
            vec!["--volumes-from", "spec-src:ro:rw"],
            "invalid mode: ro:rw",
        ),
        (
            vec!["--volumes-from", "spec-src:rslave"],
            "invalid mode: rslave",
        ),
        (
            vec!["--volumes-from", "spec-src:nocopy"],
            "invalid mode: nocopy",
        ),
        (
            vec!["--volumes-from", "spec-src:ro,rw"],
            "invalid mode: ro,rw",
        ),
        (
            vec!["--volumes-from", ""],
            "volumes-from specification cannot be an empty string",
        ),
        // §11 #9: Config.Volumes keys are validated like mount targets.
        (
            vec!["-v", "rel"],
            r#"invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute"#,
        ),
        (
            vec!["-v", ":"],
            r#"invalid mount config for type "volume": invalid mount path: ':' mount path must be absolute"#,
        ),
        (
            vec!["-v", "/"],
            r#"invalid mount config for type "volume": invalid specification: destination can't be '/'"#,
        ),
        (
            vec!["VOLUME", "data"],
            r#"invalid mount config for type "volume": invalid mount path: 'data' mount path must be absolute"#,
        ),
    ];
    for (args, want) in table {
        assert_eq!(create_err(&args), want, "{args:?}");
    }
}

#[test]
fn one_letter_sources() {
    // The CLI takes a one-letter source for a Windows drive: `-v a:/x` is one anonymous path...
    let flags = CliMountFlags {
        volumes: vec!["a:/x".into()],
        ..Default::default()
    };
    let cli = CliMounts::parse(&flags, CWD).unwrap();
    assert_eq!(cli.volumes, BTreeSet::from(["a:/x".to_string()]));
    assert_eq!(
        create_err(&["-v", "a:/x"]),
        r#"invalid mount config for type "volume": invalid mount path: 'a:/x' mount path must be absolute"#
    );
    // ...while an API client's `Binds: ["a:/x"]` names a volume that is too short.
    let request = MountRequest {
        binds: vec!["a:/x".into()],
        ..Default::default()
    };
    assert_eq!(
        parse_mounts(&request, &NoContainers, &host)
            .unwrap_err()
            .to_string(),
        "create a: volume name is too short, names should be at least two alphanumeric characters"
    );
    // Other drivers are not held to the local driver's naming rule.
    let request = MountRequest {
        binds: vec!["a:/x".into()],
        volume_driver: Some("plug".into()),
        ..Default::default()
    };
    let specs = parse_mounts(&request, &NoContainers, &host).unwrap();
    assert_eq!(specs[0].volume.driver.as_deref(), Some("plug"));
}

#[test]
fn error_kinds_are_400_except_engine_failures() {
    let err = parse_volumes_from("").unwrap_err();
    assert_eq!(err.kind(), berth_store::ErrorKind::InvalidArgument);
    assert_eq!(err.kind().http_status(), 400);
    let request = MountRequest {
        volumes_from: vec!["spec-nonexist".into()],
        ..Default::default()
    };
    let err = parse_mounts(&request, &NoContainers, &host).unwrap_err();
    assert_eq!(err.kind().http_status(), 400);
    let request = MountRequest {
        binds: vec!["/x:ro".into()],
        ..Default::default()
    };
    assert_eq!(
        parse_mounts(&request, &NoContainers, &host)
            .unwrap_err()
            .kind()
            .http_status(),
        400
    );
    let lookup = MountSpecError::Lookup("database is locked".into());
    assert_eq!(lookup.kind(), berth_store::ErrorKind::Internal);
    assert_eq!(lookup.to_string(), "database is locked");
    let flag = CliMounts::parse(
        &CliMountFlags {
            volumes: vec!["".into()],
            ..Default::default()
        },
        CWD,
    )
    .unwrap_err();
    assert_eq!(flag.kind(), berth_store::ErrorKind::InvalidArgument);
}

// ---------------------------------------------------------------------------------------------
// Accepted forms: specs

fn spec_at<'a>(specs: &'a [MountSpec], destination: &str) -> &'a MountSpec {
    specs
        .iter()
        .find(|s| s.destination == destination)
        .unwrap_or_else(|| panic!("no mount at {destination}: {specs:#?}"))
}

#[test]
fn binds_accepted_forms() {
    let specs = create(&[
        "-v",
        "spec-a:/a",
        "-v",
        "spec-b:/b:ro,z,nocopy,cached",
        "-v",
        "/srv:/c:rslave,Z",
        "-v",
        "/srv:/d:consistent",
    ])
    .unwrap();
    let a = spec_at(&specs, "/a");
    assert_eq!(
        (a.kind, a.source.as_deref(), a.anonymous, a.read_only),
        (MountKind::Volume, Some("spec-a"), false, false)
    );
    assert!(a.populates_from_image());
    let b = spec_at(&specs, "/b");
    assert!(b.read_only && b.volume.nocopy && !b.populates_from_image());
    assert_eq!(b.mode, "ro,z,nocopy,cached");
    let c = spec_at(&specs, "/c");
    assert_eq!(c.propagation, Some(Propagation::Rslave));
    assert!(c.bind.create_host_path);
    assert_eq!(
        c.host_checks(),
        vec![
            HostCheck::CreateBindSource {
                path: "/srv".into()
            },
            HostCheck::SharedOrSlaveMount {
                path: "/srv".into()
            }
        ]
    );
    assert_eq!(
        spec_at(&specs, "/d").propagation,
        Some(Propagation::Rprivate)
    );
    // A bare Binds entry (API clients) is an anonymous volume.
    let request = MountRequest {
        binds: vec!["/anon".into()],
        ..Default::default()
    };
    let specs = parse_mounts(&request, &NoContainers, &host).unwrap();
    assert!(specs[0].anonymous && specs[0].source.is_none());
    assert_eq!(report(specs)["/anon"].mode, "z");
}

#[test]
fn volume_driver_applies_to_binds_and_config_volumes_not_mounts() {
    let specs = create(&[
        "--volume-driver",
        "plug",
        "-v",
        "ab:/named",
        "-v",
        "/anon",
        "--mount",
        "type=volume,src=m1,dst=/m",
    ])
    .unwrap();
    assert_eq!(
        spec_at(&specs, "/named").volume.driver.as_deref(),
        Some("plug")
    );
    assert_eq!(
        spec_at(&specs, "/anon").volume.driver.as_deref(),
        Some("plug")
    );
    assert_eq!(spec_at(&specs, "/m").volume.driver, None);
    let mut named = spec_at(&specs, "/named").clone();
    named.set_volume("ab", "plug");
    let point = named.mount_point("/plug/ab").unwrap();
    assert_eq!((point.driver.as_str(), point.mode.as_str()), ("plug", ""));
}

#[test]
fn mount_volume_options_reach_the_spec() {
    let specs = create(&[
        "--mount",
        "type=volume,src=v1,dst=/x,volume-label=a=1,volume-opt=type=tmpfs,volume-driver=local,volume-nocopy",
    ])
    .unwrap();
    let x = &specs[0];
    assert!(x.volume.nocopy && x.may_create_volume());
    assert_eq!(x.volume.labels["a"], "1");
    assert_eq!(x.volume.driver_opts["type"], "tmpfs");
    assert_eq!(x.volume.driver.as_deref(), Some("local"));
    assert_eq!(x.origin, MountOrigin::Mount);
}

#[test]
fn tmpfs_options_table() {
    let options = |args: &[&str]| {
        let specs = create(args).unwrap();
        (specs[0].tmpfs.options.join(","), specs[0].read_only)
    };
    for (args, want, read_only) in [
        (vec!["--tmpfs", "/t"], "noexec,nosuid,nodev,rprivate", false),
        (
            vec!["--tmpfs", "/t:size=1m,mode=0700"],
            "noexec,nosuid,nodev,rprivate,size=1m,mode=0700",
            false,
        ),
        (
            vec!["--tmpfs", "/t:ro,exec,suid,dev"],
            "rprivate,ro,exec,suid,dev",
            true,
        ),
        (
            vec!["--tmpfs", "/t:rw,noexec,uid=1000,gid=1000,nr_inodes=100"],
            "nosuid,nodev,rprivate,rw,noexec,uid=1000,gid=1000,nr_inodes=100",
            false,
        ),
        (
            vec!["--mount", "type=tmpfs,destination=/t"],
            "noexec,nosuid,nodev,rprivate",
            false,
        ),
        (
            vec!["--mount", "type=tmpfs,dst=/t,tmpfs-size=2m,tmpfs-mode=1770"],
            "noexec,nosuid,nodev,rprivate,mode=1770,size=2m",
            false,
        ),
        (
            vec!["--mount", "type=tmpfs,dst=/t,tmpfs-size=2m,readonly"],
            "noexec,nosuid,nodev,rprivate,ro,size=2m",
            true,
        ),
        (
            vec!["--mount", "type=tmpfs,dst=/t,tmpfs-size=1k"],
            "noexec,nosuid,nodev,rprivate,size=1k",
            false,
        ),
        (
            vec!["--mount", "type=tmpfs,dst=/t,tmpfs-size=10"],
            "noexec,nosuid,nodev,rprivate,size=10",
            false,
        ),
        (
            vec!["--tmpfs", "/t:size=1m", "--tmpfs", "/t:size=2m"],
            "noexec,nosuid,nodev,rprivate,size=2m",
            false,
        ),
    ] {
        assert_eq!(options(&args), (want.to_string(), read_only), "{args:?}");
    }
    let specs = create(&["--mount", "type=tmpfs,dst=/t,tmpfs-size=2m,tmpfs-mode=1770"]).unwrap();
    assert_eq!(
        (specs[0].tmpfs.size_bytes, specs[0].tmpfs.mode),
        (2 << 20, 0o1770)
    );
}

#[test]
fn processing_order_and_suppression() {
    // Config.Volumes: covered destinations get no anonymous volume.
    let specs = create(&[
        "VOLUME",
        "/data",
        "VOLUME",
        "/cache",
        "VOLUME",
        "/t",
        "VOLUME",
        "/m/",
        "VOLUME",
        "/m",
        "-v",
        "spec-a:/data",
        "--tmpfs",
        "/t",
        "--mount",
        "type=bind,src=/srv,dst=/cache",
    ])
    .unwrap();
    assert_eq!(specs.len(), 4, "{specs:#?}");
    assert_eq!(spec_at(&specs, "/data").source.as_deref(), Some("spec-a"));
    assert_eq!(spec_at(&specs, "/cache").kind, MountKind::Bind);
    assert_eq!(spec_at(&specs, "/t").kind, MountKind::Tmpfs);
    let m = spec_at(&specs, "/m");
    assert_eq!(
        (m.origin.clone(), m.anonymous, m.source.clone()),
        (MountOrigin::ConfigVolume, true, None)
    );
    // Config.Volumes from -v /path and the image merge.
    let specs = create(&["-v", "/anon1", "VOLUME", "/anon1", "VOLUME", "/data"]).unwrap();
    assert_eq!(specs.len(), 2);
    // Nothing is created by parsing, so a later failure leaves nothing behind (§11 #7): the
    // result is all or nothing.
    assert!(create(&[
        "--mount",
        "type=volume,dst=/anon",
        "-v",
        "spec-a:/x",
        "-v",
        "spec-b:/x"
    ])
    .is_err());
}

// ---------------------------------------------------------------------------------------------
// §7 --volumes-from

#[test]
fn volumes_from_inherits_mounts_but_not_tmpfs_flags() {
    let specs = create(&["--volumes-from", "spec-src"]).unwrap();
    let destinations: BTreeSet<&str> = specs.iter().map(|s| s.destination.as_str()).collect();
    assert_eq!(
        destinations,
        BTreeSet::from(["/named", "/data", "/b1", "/t1"])
    );
    for spec in &specs {
        assert_eq!(
            spec.origin,
            MountOrigin::VolumesFrom {
                container: "spec-src".into()
            }
        );
        assert!(!spec.populates_from_image());
        assert_eq!(spec.mode, "");
    }
    assert!(spec_at(&specs, "/data").anonymous);
    let points = report(specs);
    assert_eq!(
        points["/named"],
        point("volume", "spec-named1", "", "/named", "", true, "")
    );
    assert_eq!(
        points["/data"],
        point("volume", HEX, "", "/data", "", true, "")
    );
    assert_eq!(
        points["/b1"],
        point("bind", "", "/srv/ex/b/src", "/b1", "", false, "rprivate")
    );
    // §11 #5: the source's --mount tmpfs is inherited, not a 404.
    assert_eq!(points["/t1"], point("tmpfs", "", "", "/t1", "", true, ""));
}

#[test]
fn volumes_from_modes() {
    // :ro forces read-only everywhere, tmpfs included.
    let specs = create(&["--volumes-from", "spec-src:ro"]).unwrap();
    assert!(specs.iter().all(|s| s.read_only));
    assert!(spec_at(&specs, "/t1")
        .tmpfs
        .options
        .iter()
        .any(|o| o == "ro"));
    // :rw cannot make the read-only bind writable; z/Z and ro,z are accepted.
    for mode in ["rw", "z", "Z", "ro,z", "cached"] {
        let specs = create(&["--volumes-from", &format!("spec-src:{mode}")]).unwrap();
        assert!(spec_at(&specs, "/b1").read_only, "{mode}");
        assert_eq!(
            spec_at(&specs, "/named").read_only,
            mode.contains("ro"),
            "{mode}"
        );
    }
}

#[test]
fn explicit_mounts_replace_inherited_ones() {
    let specs = create(&[
        "--volumes-from",
        "spec-src",
        "-v",
        "spec-x:/named",
        "--mount",
        "type=volume,dst=/b1",
        "--tmpfs",
        "/data",
        "VOLUME",
        "/t1",
    ])
    .unwrap();
    assert_eq!(specs.len(), 4);
    assert_eq!(spec_at(&specs, "/named").source.as_deref(), Some("spec-x"));
    assert_eq!(spec_at(&specs, "/b1").kind, MountKind::Volume);
    assert_eq!(spec_at(&specs, "/data").kind, MountKind::Tmpfs);
    // An inherited mount at an image VOLUME path suppresses the anonymous volume.
    let t1 = spec_at(&specs, "/t1");
    assert!(matches!(t1.origin, MountOrigin::VolumesFrom { .. }));
}

#[test]
fn later_volumes_from_replace_earlier_and_chains_work() {
    let mut table = containers();
    let mut other = MountSpec::new(MountKind::Volume, "/named", MountOrigin::Bind);
    other.set_volume("other-vol", "local");
    table.insert("spec-other".into(), vec![other]);
    let specs = create_with(
        &["--volumes-from", "spec-src", "--volumes-from", "spec-other"],
        ApiVersion::V1_41,
        &table,
    )
    .unwrap();
    assert_eq!(
        spec_at(&specs, "/named").source.as_deref(),
        Some("other-vol")
    );
    // C --volumes-from B, where B got its mounts from A.
    table.insert(
        "b".into(),
        create_with(&["--volumes-from", "spec-src"], ApiVersion::V1_41, &table).unwrap(),
    );
    let c = create_with(&["--volumes-from", "b"], ApiVersion::V1_41, &table).unwrap();
    assert_eq!(c.len(), 4);
    assert!(c.iter().all(|s| s.origin
        == MountOrigin::VolumesFrom {
            container: "b".into()
        }));
    // A recorded volume without a name is an engine bug, not a user error.
    let mut unnamed = MountSpec::new(MountKind::Volume, "/v", MountOrigin::ConfigVolume);
    unnamed.anonymous = true;
    table.insert("broken".into(), vec![unnamed]);
    let request = MountRequest {
        volumes_from: vec!["broken".into()],
        ..Default::default()
    };
    let err = parse_mounts(&request, &table, &host).unwrap_err();
    assert_eq!(err.kind(), berth_store::ErrorKind::Internal);
}

// ---------------------------------------------------------------------------------------------
// API-version-gated behaviour (§5.3, §5.5, §8.4)

fn api_mount(json: &str, api: ApiVersion) -> Result<MountSpec, String> {
    let mount: ApiMount = serde_json::from_str(json).unwrap();
    let request = MountRequest {
        mounts: vec![mount],
        api_version: api,
        ..Default::default()
    };
    parse_mounts(&request, &NoContainers, &host)
        .map(|mut specs| specs.remove(0))
        .map_err(|e| e.to_string())
}

#[test]
fn recursive_read_only_is_gated_on_1_44() {
    let ro_bind = r#"{"Type":"bind","Source":"/srv","Target":"/x","ReadOnly":true}"#;
    let old = api_mount(ro_bind, ApiVersion::V1_41).unwrap();
    assert_eq!(
        old.read_only_recursion(),
        Some(ReadOnlyRecursion::NonRecursive)
    );
    assert!(old.host_checks().is_empty());
    let new = api_mount(ro_bind, ApiVersion::V1_44).unwrap();
    assert_eq!(
        new.read_only_recursion(),
        Some(ReadOnlyRecursion::IfSupported)
    );
    assert_eq!(
        new.host_checks(),
        vec![HostCheck::RecursiveReadOnly { forced: false }]
    );

    let forced = r#"{"Type":"bind","Source":"/srv","Target":"/x","ReadOnly":true,"BindOptions":{"Propagation":"rprivate","ReadOnlyForceRecursive":true}}"#;
    assert_eq!(
        api_mount(forced, ApiVersion::new(1, 43)).unwrap_err(),
        "BindOptions.ReadOnlyForceRecursive needs API v1.44 or newer"
    );
    assert_eq!(
        api_mount(forced, ApiVersion::V1_44)
            .unwrap()
            .read_only_recursion(),
        Some(ReadOnlyRecursion::Forced)
    );
    let writable = r#"{"Type":"bind","Source":"/srv","Target":"/x","ReadOnly":true,"BindOptions":{"ReadOnlyNonRecursive":true}}"#;
    assert_eq!(
        api_mount(writable, ApiVersion::LATEST)
            .unwrap()
            .read_only_recursion(),
        Some(ReadOnlyRecursion::NonRecursive)
    );
    let both = r#"{"Type":"bind","Source":"/srv","Target":"/x","ReadOnly":true,"BindOptions":{"ReadOnlyNonRecursive":true,"ReadOnlyForceRecursive":true}}"#;
    assert_eq!(
        api_mount(both, ApiVersion::LATEST).unwrap_err(),
        "mount options conflict: ReadOnlyNonRecursive && ReadOnlyForceRecursive"
    );
    // -v ro binds follow the same gate.
    let request = |api| MountRequest {
        binds: vec!["/srv:/x:ro".into()],
        api_version: api,
        ..Default::default()
    };
    let old = parse_mounts(&request(ApiVersion::V1_41), &NoContainers, &host).unwrap();
    assert_eq!(
        old[0].read_only_recursion(),
        Some(ReadOnlyRecursion::NonRecursive)
    );
    let new = parse_mounts(&request(ApiVersion::LATEST), &NoContainers, &host).unwrap();
    assert_eq!(
        new[0].read_only_recursion(),
        Some(ReadOnlyRecursion::IfSupported)
    );
}

#[test]
fn create_mountpoint_is_gated_on_1_42() {
    let json = r#"{"Type":"bind","Source":"/srv/missing","Target":"/x","BindOptions":{"CreateMountpoint":true}}"#;
    assert_eq!(
        api_mount(json, ApiVersion::V1_41).unwrap_err(),
        r#"invalid mount config for type "bind": bind source path does not exist: /srv/missing"#
    );
    let spec = api_mount(json, ApiVersion::V1_42).unwrap();
    assert!(spec.bind.create_host_path);
    let plain = api_mount(
        r#"{"Type":"bind","Source":"/srv","Target":"/x","BindOptions":{"NonRecursive":true}}"#,
        ApiVersion::V1_42,
    )
    .unwrap();
    assert!(!plain.bind.create_host_path && plain.bind.non_recursive);
}

#[test]
fn subpath_is_gated_on_1_45() {
    let json = r#"{"Type":"volume","Source":"v1","Target":"/x","VolumeOptions":{"Subpath":"a/b"}}"#;
    assert_eq!(
        api_mount(json, ApiVersion::V1_44).unwrap().volume.subpath,
        None
    );
    assert_eq!(
        api_mount(json, ApiVersion::V1_45)
            .unwrap()
            .volume
            .subpath
            .as_deref(),
        Some("a/b")
    );
    assert_eq!(
        api_mount(
            r#"{"Type":"volume","Target":"/x","VolumeOptions":{"Subpath":"a"}}"#,
            ApiVersion::V1_45
        )
        .unwrap_err(),
        r#"invalid mount config for type "volume": must not set Subpath when using anonymous volumes"#
    );
    assert_eq!(
        api_mount(
            r#"{"Type":"volume","Source":"v1","Target":"/x","VolumeOptions":{"Subpath":"../a"}}"#,
            ApiVersion::V1_45
        )
        .unwrap_err(),
        r#"invalid mount config for type "volume": subpath must be a relative path within the volume"#
    );
}

#[test]
fn tmpfs_options_field_is_gated_on_1_46() {
    let json = r#"{"Type":"tmpfs","Target":"/t","TmpfsOptions":{"Options":[["exec"]]}}"#;
    assert_eq!(
        api_mount(json, ApiVersion::new(1, 45))
            .unwrap()
            .tmpfs
            .options,
        ["noexec", "nosuid", "nodev", "rprivate"]
    );
    assert_eq!(
        api_mount(json, ApiVersion::V1_46).unwrap().tmpfs.options,
        ["nosuid", "nodev", "rprivate", "exec"]
    );
    assert_eq!(
        api_mount(
            r#"{"Type":"tmpfs","Target":"/t","TmpfsOptions":{"Options":[["uid","1"]]}}"#,
            ApiVersion::V1_46
        )
        .unwrap_err(),
        r#"invalid mount config for type "tmpfs": invalid option: uid"#
    );
}

#[test]
fn api_only_errors() {
    for (json, want) in [
        (
            r#"{"Type":"volume","Source":"v1"}"#,
            r#"invalid mount config for type "volume": field Target must not be empty"#,
        ),
        (
            r#"{"Target":"/x"}"#,
            r#"invalid mount config for type "": mount type unknown"#,
        ),
        (
            r#"{"Type":"volume","Source":"v1","Target":"/x","BindOptions":{}}"#,
            r#"invalid mount config for type "volume": field BindOptions must not be specified"#,
        ),
        (
            r#"{"Type":"tmpfs","Target":"/x","BindOptions":{}}"#,
            r#"invalid mount config for type "tmpfs": field BindOptions must not be specified"#,
        ),
        (
            r#"{"Type":"bind","Source":"/srv","Target":"/x","VolumeOptions":{}}"#,
            r#"invalid mount config for type "bind": field VolumeOptions must not be specified"#,
        ),
        (
            r#"{"Type":"bind","Source":"/srv","Target":"\\x"}"#,
            r#"invalid mount config for type "bind": invalid mount path: '\x' mount path must be absolute"#,
        ),
        (
            r#"{"Type":"volume","Source":"v1","Target":"/a\\b/.."}"#,
            r#"invalid mount config for type "volume": invalid specification: destination can't be '/'"#,
        ),
    ] {
        assert_eq!(
            api_mount(json, ApiVersion::LATEST).unwrap_err(),
            want,
            "{json}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// §9.2 configuration fields

#[test]
fn inspect_configuration_fields() {
    let (flags, image) = flags(&[
        "-v",
        "./src:/b",
        "-v",
        "/anon1",
        "--mount",
        "type=volume,dst=/anon2",
        "--mount",
        "type=tmpfs,dst=/t1,tmpfs-size=1m,tmpfs-mode=0700",
        "--tmpfs",
        "/t2:size=2m,noexec",
        "--volumes-from",
        "spec-src",
        "VOLUME",
        "/data",
    ]);
    let cli = CliMounts::parse(&flags, CWD).unwrap();
    let request = cli.into_request(image, ApiVersion::V1_41);
    assert_eq!(
        serde_json::to_string(&request.inspect_host_config()).unwrap(),
        r#"{"Binds":["/work/dir/src:/b"],"VolumeDriver":"","VolumesFrom":["spec-src"],"Tmpfs":{"/t2":"size=2m,noexec"},"Mounts":[{"Type":"volume","Target":"/anon2"},{"Type":"tmpfs","Target":"/t1","TmpfsOptions":{"SizeBytes":1048576,"Mode":448}}]}"#
    );
    assert_eq!(
        serde_json::to_string(&request.inspect_config_volumes()).unwrap(),
        r#"{"/anon1":{},"/data":{}}"#
    );
    let empty = CliMounts::parse(&CliMountFlags::default(), CWD).unwrap();
    assert_eq!(
        serde_json::to_string(&empty.host_config()).unwrap(),
        r#"{"Binds":null,"VolumeDriver":"","VolumesFrom":null}"#
    );
    assert_eq!(
        serde_json::to_string(
            &empty
                .into_request(Vec::new(), ApiVersion::V1_41)
                .inspect_config_volumes()
        )
        .unwrap(),
        "null"
    );
}

#[test]
fn depth_sort_for_start() {
    let mut specs = create(&[
        "-v",
        "spec-a:/a/b/c",
        "-v",
        "spec-b:/a",
        "--tmpfs",
        "/a/b",
        "VOLUME",
        "/z",
    ])
    .unwrap();
    sort_by_depth(&mut specs);
    let order: Vec<&str> = specs.iter().map(|s| s.destination.as_str()).collect();
    assert_eq!(order, ["/a", "/z", "/a/b", "/a/b/c"]);
}

// ---------------------------------------------------------------------------------------------
// Property tests

fn path_segment() -> impl Strategy<Value = String> {
    "[a-z0-9_.-]{1,6}".prop_filter("not a dot segment", |s| s != "." && s != "..")
}

fn abs_path() -> impl Strategy<Value = String> {
    proptest::collection::vec(path_segment(), 1..4)
        .prop_map(|parts| format!("/{}", parts.join("/")))
}

/// The same path with `//`, `/./`, `x/..` and trailing `/` noise.
fn noisy(path: &str, noise: &[u8]) -> String {
    let mut out = String::new();
    for (i, part) in path.split('/').filter(|p| !p.is_empty()).enumerate() {
        match noise.get(i).copied().unwrap_or(0) % 4 {
            0 => out.push('/'),
            1 => out.push_str("//"),
            2 => out.push_str("/./"),
            _ => out.push_str("/junk/../"),
        }
        out.push_str(part);
    }
    if noise.last().is_some_and(|n| n % 2 == 1) {
        out.push('/');
    }
    out
}

fn valid_mode() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just(""), Just("ro"), Just("rw")],
        prop_oneof![Just(""), Just("z"), Just("Z")],
        prop_oneof![Just(""), Just("rprivate"), Just("rslave"), Just("shared")],
        prop_oneof![Just(""), Just("cached"), Just("delegated")],
    )
        .prop_map(|(a, b, c, d)| {
            [a, b, c, d]
                .into_iter()
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join(",")
        })
}

fn mode_has_propagation(mode: &str) -> bool {
    mode.split(',').any(|t| Propagation::parse(t).is_some())
}

proptest! {
    #[test]
    fn random_specs_never_panic(spec in "\\PC{0,40}", csv in "[-a-zA-Z=,/\". :]{0,40}") {
        let _ = parse_volume_flag(&spec, CWD);
        let _ = parse_bind(&spec, None, ApiVersion::LATEST);
        let _ = parse_mount_flag(&csv, CWD);
        let _ = parse_tmpfs(&spec, &csv);
        let _ = parse_volumes_from(&spec);
        let _ = validate_volume_name(&spec);
    }

    #[test]
    fn report_then_reparse_is_stable(
        named in proptest::bool::ANY,
        name in "[a-z][a-z0-9_.-]{1,8}",
        source in abs_path(),
        target in abs_path(),
        noise in proptest::collection::vec(any::<u8>(), 0..5),
        mode in valid_mode(),
    ) {
        let kind_source = if named { name.clone() } else { noisy(&source, &noise) };
        let raw = if mode.is_empty() {
            format!("{kind_source}:{}", noisy(&target, &noise))
        } else {
            format!("{kind_source}:{}:{mode}", noisy(&target, &noise))
        };
        let parsed = match parse_bind(&raw, None, ApiVersion::LATEST) {
            Ok(spec) => spec,
            // Propagation on a volume is refused; that is not what this property is about.
            Err(_) if named && mode_has_propagation(&mode) => return Ok(()),
            Err(e) => panic!("{raw}: {e}"),
        };
        let first = engine_names(parsed).mount_point("/vol").unwrap();
        let again_raw = if first.mode.is_empty() {
            format!("{}:{}", if named { &first.name } else { &first.source }, first.destination)
        } else {
            format!("{}:{}:{}", if named { &first.name } else { &first.source }, first.destination, first.mode)
        };
        let again = engine_names(parse_bind(&again_raw, None, ApiVersion::LATEST).unwrap())
            .mount_point("/vol")
            .unwrap();
        prop_assert_eq!(&again, &first);
        prop_assert_eq!(&first.destination, &target);
        if !named {
            prop_assert_eq!(&first.source, &source);
        }
    }

    #[test]
    fn cleaning_makes_duplicates_detectable(
        target in abs_path(),
        noise_a in proptest::collection::vec(any::<u8>(), 0..5),
        noise_b in proptest::collection::vec(any::<u8>(), 0..5),
        second_is_mount in proptest::bool::ANY,
    ) {
        let a = noisy(&target, &noise_a);
        let b = noisy(&target, &noise_b);
        let args: Vec<String> = if second_is_mount {
            vec!["-v".into(), format!("spec-a:{a}"), "--mount".into(), format!("src=spec-b,dst={b}")]
        } else {
            vec!["-v".into(), format!("spec-a:{a}"), "-v".into(), format!("spec-b:{b}")]
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let want = if second_is_mount { b.clone() } else { target.clone() };
        prop_assert_eq!(create_err(&args), format!("Duplicate mount point: {want}"));
        // A tmpfs at the same cleaned path collides too (§11 #8).
        let tmpfs_args = ["--tmpfs", a.as_str(), "--mount", &format!("type=tmpfs,dst={b}")];
        prop_assert!(create_err(&tmpfs_args).starts_with("Duplicate mount point: "));
    }

    #[test]
    fn destinations_are_unique_and_clean(
        targets in proptest::collection::vec((abs_path(), proptest::collection::vec(any::<u8>(), 0..5), 0u8..4), 0..6),
    ) {
        let mut args: Vec<String> = Vec::new();
        for (i, (target, noise, how)) in targets.iter().enumerate() {
            let t = noisy(target, noise);
            match how {
                0 => { args.push("-v".into()); args.push(format!("vol{i}:{t}")); }
                1 => { args.push("--tmpfs".into()); args.push(t); }
                2 => { args.push("VOLUME".into()); args.push(t); }
                _ => { args.push("--mount".into()); args.push(format!("type=bind,src=/srv,dst={t}")); }
            }
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        if let Ok(specs) = create(&args) {
            let mut seen = BTreeSet::new();
            for spec in &specs {
                prop_assert_eq!(&spec.destination, &go::clean(&spec.destination));
                prop_assert!(seen.insert(spec.destination.clone()));
            }
        }
    }
}

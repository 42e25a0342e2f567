//! CI entry point: every scenario against the berth binary alone, compared with the expectations
//! recorded from Docker (plus the expected differences). A scenario that needs a berth command or
//! flag that does not exist yet is skipped and listed; everything else must pass.
//!
//! `BERTH_BIN` overrides the binary (default: `berth` next to this test's target dir, i.e. the
//! one `cargo test --workspace` just built); `CONFORMANCE_STRICT=1` turns skips into failures;
//! `CONFORMANCE_FILTER=06,volume` selects scenarios. berth's own program name is accepted where
//! Docker prints `docker` (`berth: Error…`); `CONFORMANCE_DOCKER_NAME=1` requires `docker`.

use std::path::PathBuf;
use std::time::Duration;

use berth_conformance::engine::Engine;
use berth_conformance::{fixtures, load_suite, Mode};

fn berth_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("BERTH_BIN") {
        return PathBuf::from(p);
    }
    // target/<profile>/deps/conformance-<hash> → target/<profile>/berth
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>")
        .join("berth")
}

#[test]
#[ignore = "needs root"]
fn scenarios_against_berth() {
    let bin = berth_bin();
    assert!(
        bin.is_file(),
        "no berth binary at {}: run `cargo build -p berth-cli` first (or set BERTH_BIN)",
        bin.display()
    );
    let filters: Vec<String> = std::env::var("CONFORMANCE_FILTER")
        .map(|f| f.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let strict = std::env::var("CONFORMANCE_STRICT").is_ok_and(|v| v == "1");
    let suite = load_suite(&filters, strict, Duration::from_secs(120)).expect("scenarios load");

    let work = bin.parent().unwrap().join("../tmp/conformance");
    std::fs::create_dir_all(&work).expect("work dir");
    let work = std::fs::canonicalize(&work).expect("work dir");
    let fixtures_dir = work.join("fixtures");
    fixtures::build(&fixtures_dir, std::path::Path::new("/bin/busybox")).expect("fixtures");
    let mut berth = Engine::berth(&bin, &work, &fixtures_dir).expect("berth engine");
    berth.allow_berth_name = !std::env::var("CONFORMANCE_DOCKER_NAME").is_ok_and(|v| v == "1");
    berth.set_harness(std::path::Path::new(env!(
        "CARGO_BIN_EXE_berth-conformance"
    )));

    println!(
        "conformance: {} scenarios against {}",
        suite.scenarios.len(),
        bin.display()
    );
    let report = suite.run(Mode::Check, &berth, None, |line| println!("{line}"));
    print!("{}", report.details());
    assert_eq!(report.failed(), 0, "{}", report.summary());
}

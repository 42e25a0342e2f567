//! Layers end to end: the hostile-tar corpus imported through the CLI under both storage
//! drivers changes nothing outside the data root's layer directories, and a refused import
//! leaves no layer, blob or staging file behind.

use berth_store::archive::hostile::{hostile_corpus, HostileExpect, HOST_CANARIES};

use crate::harness::*;

fn hostile_imports(driver: &'static str) {
    let passwd = std::fs::read("/etc/passwd").unwrap();
    let b = Berth::with_driver(Some(driver));
    b.run(&["images"]).ok();
    let decoys = b.scratch("decoys");
    std::fs::create_dir_all(decoys.join("sub")).unwrap();
    std::fs::write(decoys.join("victim"), b"victim\n").unwrap();
    let decoys_before = tree_snapshot(&decoys);
    std::fs::create_dir_all(b.scratch("tars")).unwrap();
    for h in hostile_corpus() {
        let path = b.scratch("tars").join(format!("{}.tar", h.name));
        std::fs::write(&path, &h.tar).unwrap();
        let out = b.run(&[
            "import",
            path.to_str().unwrap(),
            &format!("hostile:{}", h.name.len()),
        ]);
        match h.expect {
            HostileExpect::Escape | HostileExpect::Rejected => {
                assert_ne!(
                    out.code, 0,
                    "{} under {driver} was accepted: {out:?}",
                    h.name
                );
                assert!(!out.stderr.is_empty(), "{}: no error message", h.name);
            }
            HostileExpect::Contained => {
                assert_eq!(out.code, 0, "{} under {driver}: {out:?}", h.name)
            }
        }
        for canary in HOST_CANARIES {
            assert!(
                !std::path::Path::new(canary).exists(),
                "{} under {driver} created {canary}",
                h.name
            );
        }
        assert_eq!(
            std::fs::read("/etc/passwd").unwrap(),
            passwd,
            "{} changed /etc/passwd",
            h.name
        );
        assert_eq!(
            std::fs::read_dir(b.root().join("tmp")).unwrap().count(),
            0,
            "{}: staging left behind",
            h.name
        );
    }
    // Only the contained tars left layers; every refused one was removed with its blob.
    let contained = hostile_corpus()
        .iter()
        .filter(|h| h.expect == HostileExpect::Contained)
        .count();
    let layers = std::fs::read_dir(b.root().join("layers"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name() != "l")
        .count();
    assert!(
        layers <= contained,
        "{layers} layer dirs for {contained} accepted tars"
    );
    let blobs = std::fs::read_dir(b.root().join("blobs/sha256"))
        .unwrap()
        .count();
    assert_eq!(blobs, layers, "a blob per layer, none from refused imports");
    // Files next to the root are untouched, and inside the root nothing but berth's own
    // layout appeared (no escaped file in a layer's directory next to its tree).
    assert_eq!(tree_snapshot(&decoys), decoys_before);
    for layer in std::fs::read_dir(b.root().join("layers")).unwrap() {
        let layer = layer.unwrap();
        if layer.file_name() == "l" {
            continue;
        }
        for e in std::fs::read_dir(layer.path()).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().to_string();
            assert!(
                ["diff", "work", "merged", "link", "lower", "fs"].contains(&name.as_str()),
                "unexpected {name} in {}",
                layer.path().display()
            );
        }
    }
    let mut top: Vec<String> = std::fs::read_dir(b.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    top.retain(|n| !n.starts_with("berth.db"));
    top.sort();
    assert_eq!(top, ["blobs", "layers", "tmp", "volumes"]);
}

#[test]
fn hostile_tars_change_nothing_outside_the_root_overlay() {
    hostile_imports("overlay");
}

#[test]
fn hostile_tars_change_nothing_outside_the_root_vfs() {
    hostile_imports("vfs");
}

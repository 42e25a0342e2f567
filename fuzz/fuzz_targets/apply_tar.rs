//! Fuzzes tar extraction: arbitrary bytes are applied as a layer or volume tar in both whiteout
//! modes inside a sandbox; nothing may escape the root, panic, or take time out of proportion
//! to the input (see `berth_store::archive::fuzz::apply_tar`). Seeds: `fuzz/corpus/apply_tar`,
//! with the deep-path and long-name tars of issue 15.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    berth_store::archive::fuzz::apply_tar(data);
});

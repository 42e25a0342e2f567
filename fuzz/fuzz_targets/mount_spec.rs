//! Fuzzes mount-spec parsing end to end: arbitrary bytes become `-v`/`--mount`/`--tmpfs`/
//! `--volumes-from` flags, image volumes and raw API fields, go through the CLI stage and the
//! daemon stage, and every successful parse is checked for unique, clean destinations and a
//! lossless JSON round trip (see `berth_volume::mount_spec::fuzz::mount_spec` for the input format).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    berth_volume::mount_spec::fuzz::mount_spec(data);
});

//! Master-file loading through dnslab's reader and checks: any octets as a
//! zone file, read with and without a given origin. Asserts only that
//! nothing panics (and, through libFuzzer's limits, that nothing hangs or
//! exhausts memory): every problem must come back as an error.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use dnslab_authoritative::load_zone;
use hickory_proto::rr::Name;
use libfuzzer_sys::fuzz_target;

/// The reader takes a path (for `$INCLUDE` and `file:line` errors), so each
/// input is written to one scratch file per fuzzing process.
fn scratch() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("dnslab-fuzz-zone-{}.zone", std::process::id()))
    })
}

fuzz_target!(|text: &[u8]| {
    let path = scratch();
    std::fs::write(path, text).expect("write scratch zone file");
    let origin = Name::from_ascii("example.com.").expect("static name");
    let _ = load_zone(path, Some(&origin));
    let _ = load_zone(path, None);
});

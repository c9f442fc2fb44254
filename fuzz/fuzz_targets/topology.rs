//! The `dnslab up` topology parser: any text as a topology file beside the
//! built-in one (so relative zone files resolve to real files). Asserts
//! only that nothing panics, including rendering every problem. The zone
//! files themselves are not read here: a topology may name any path, and
//! reading them is the zone_file target's job.
#![no_main]

use std::path::PathBuf;

use dnslab::topology::spec::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../zones/default/topology.yaml");
    match parse(text, &source) {
        Ok(topology) => {
            let _ = topology.root_hints();
        }
        Err(problems) => {
            for problem in problems {
                let _ = problem.to_string();
            }
        }
    }
});

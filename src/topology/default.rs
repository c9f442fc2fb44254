//! The built-in hierarchy of `zones/default/`, compiled into the binary so
//! that `dnslab up` works from any directory. The zone loader reads files,
//! so [`DefaultTopology::write`] puts them into a fresh directory under the
//! system temp dir for the lifetime of the value.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Every file of `zones/default/`, as (file name, contents).
pub const FILES: &[(&str, &str)] = &[
    (
        "topology.yaml",
        include_str!("../../zones/default/topology.yaml"),
    ),
    ("root.zone", include_str!("../../zones/default/root.zone")),
    ("com.zone", include_str!("../../zones/default/com.zone")),
    ("net.zone", include_str!("../../zones/default/net.zone")),
    ("edu.zone", include_str!("../../zones/default/edu.zone")),
    ("org.zone", include_str!("../../zones/default/org.zone")),
    ("uk.zone", include_str!("../../zones/default/uk.zone")),
    (
        "umass.edu.zone",
        include_str!("../../zones/default/umass.edu.zone"),
    ),
    (
        "cs.umass.edu.zone",
        include_str!("../../zones/default/cs.umass.edu.zone"),
    ),
    (
        "networkutopia.com.zone",
        include_str!("../../zones/default/networkutopia.com.zone"),
    ),
    (
        "enterprise.com.zone",
        include_str!("../../zones/default/enterprise.com.zone"),
    ),
    (
        "hosting.net.zone",
        include_str!("../../zones/default/hosting.net.zone"),
    ),
    (
        "netcinema.com.zone",
        include_str!("../../zones/default/netcinema.com.zone"),
    ),
    (
        "kingcdn.com.zone",
        include_str!("../../zones/default/kingcdn.com.zone"),
    ),
    (
        "kingcdn.net.zone",
        include_str!("../../zones/default/kingcdn.net.zone"),
    ),
    (
        "busy-site.org.zone",
        include_str!("../../zones/default/busy-site.org.zone"),
    ),
    (
        "tea-shop.co.uk.zone",
        include_str!("../../zones/default/tea-shop.co.uk.zone"),
    ),
    (
        "newstartup.com.zone",
        include_str!("../../zones/default/newstartup.com.zone"),
    ),
];

/// Names worth asking the resolver about, one per story of
/// `topology.yaml`'s header, printed by `dnslab up`.
pub const EXAMPLES: &[&str] = &[
    "gaia.cs.umass.edu",
    "www.networkutopia.com",
    "networkutopia.com MX",
    "www.enterprise.com",
    "enterprise.com MX",
    "www.busy-site.org",
    "video.netcinema.com",
    "anything.tea-shop.co.uk",
];

/// What to ask each other local DNS server too: the CDN answers each ISP's
/// resolver with its own cluster.
pub const EXAMPLES_EVERY_RESOLVER: &[&str] = &["video.netcinema.com"];

/// The default hierarchy written out to a temporary directory, removed
/// again when this value is dropped.
#[derive(Debug)]
pub struct DefaultTopology {
    dir: PathBuf,
}

impl DefaultTopology {
    /// Writes [`FILES`] into a new directory unique to this process and call.
    pub fn write() -> io::Result<DefaultTopology> {
        // Unique per call, so two tests in one process never share a dir.
        static CALLS: AtomicU32 = AtomicU32::new(0);
        let call = CALLS.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("dnslab-default-{}-{call}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let written = DefaultTopology { dir };
        for (name, contents) in FILES {
            std::fs::write(written.dir.join(name), contents)?;
        }
        Ok(written)
    }

    /// The topology file to pass to [`super::load`].
    pub fn path(&self) -> PathBuf {
        self.dir.join("topology.yaml")
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for DefaultTopology {
    fn drop(&mut self) {
        // Best effort: a leftover temp dir is harmless.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every zone file the default topology names is compiled in, and every
    /// compiled-in file is used.
    #[test]
    fn every_default_file_is_compiled_in_and_used() {
        let yaml = FILES[0].1;
        for (name, _) in &FILES[1..] {
            // Flow style (`file: x.zone }`, `file: x.zone, ...`) or block
            // style (line end).
            let used = [" ", ",", "\n"]
                .iter()
                .any(|after| yaml.contains(&format!("file: {name}{after}")));
            assert!(used, "{name} is not in topology.yaml");
        }
        let on_disk = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/zones/default"))
            .unwrap()
            .count();
        assert_eq!(
            on_disk,
            FILES.len(),
            "zones/default/ has files missing from FILES"
        );
    }
}

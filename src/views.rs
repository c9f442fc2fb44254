//! A zone's `rrset_order:` and `views:` as the YAML files write them (the
//! topologies of `dnslab up`, the configuration of `dnslab auth
//! --config`), into the authoritative server's [`View`]s (see
//! `dnslab_authoritative`'s views for what they do):
//!
//! ```yaml
//! - zone: kingcdn.com.
//!   file: kingcdn.com.zone
//!   rrset_order: cyclic          # fixed, cyclic (the default) or random
//!   views:
//!     - name: east               # in the query log
//!       clients: [127.0.0.0/24]  # prefixes; the longest holding the client wins
//!       records:                 # RRsets replacing the zone's at these names
//!         a1105: [A 203.0.113.105, A 203.0.113.106]
//!     - name: west
//!       clients: [127.0.1.0/24]
//!       file: kingcdn.com.west.zone   # or a whole master file of the zone
//! ```
//!
//! Each view has `records:` or `file:`, not both; a `file:` is relative
//! to the YAML file. Views are a primary's (a zone with a `file:`): a
//! secondary's data comes by transfer. Each format reports what is wrong
//! at the view's line, in its own terms; whether the views' data load is
//! checked with the zone files.

use std::collections::BTreeMap;
use std::path::Path;

use dnslab_authoritative::{View, ViewData, ViewRecords};
use dnslab_wire::Cidr;
use serde::Deserialize;

/// One view as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewSpec {
    /// Its name, in the query log.
    pub name: String,
    /// Client prefixes (`127.0.0.0/24`; a bare address is one host).
    pub clients: Vec<String>,
    /// A master file of the zone for this view.
    pub file: Option<String>,
    /// Owner (relative to the zone, or absolute) to master-file lines.
    pub records: Option<BTreeMap<String, Vec<String>>>,
}

/// Why a view's entry cannot be used, for the message at its line.
pub const SECONDARY_VIEWS: &str =
    "a secondary's data comes by transfer; views need the zone's file (a primary)";

impl ViewSpec {
    /// The view, its `file:` relative to `base`; what is wrong otherwise.
    pub fn view(&self, base: &Path) -> Result<View, String> {
        let clients = self
            .clients
            .iter()
            .map(|text| text.parse::<Cidr>().map_err(|e| e.to_string()))
            .collect::<Result<Vec<Cidr>, String>>()?;
        if clients.is_empty() {
            return Err("`clients:` is empty; list the prefixes this view answers".into());
        }
        let data = match (&self.file, &self.records) {
            (Some(file), None) => ViewData::File(base.join(file)),
            (None, Some(records)) => ViewData::Records(
                records
                    .iter()
                    .map(|(owner, records)| ViewRecords {
                        owner: owner.clone(),
                        records: records.clone(),
                    })
                    .collect(),
            ),
            _ => return Err("give either `file:` or `records:`".into()),
        };
        Ok(View {
            name: self.name.clone(),
            clients,
            data,
        })
    }
}

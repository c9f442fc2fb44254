//! A zone's `rrset_order:` and `views:` in a topology, as written, into
//! the authoritative server's [`View`]s (see `dnslab_authoritative`'s
//! views for what they do):
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
//! to the topology file. Whether the views' data load is checked with the
//! zone files (`super::check`).

use std::collections::BTreeMap;
use std::path::Path;

use dnslab_authoritative::{View, ViewData, ViewRecords};
use dnslab_wire::{Cidr, RrsetOrder};
use hickory_proto::rr::Name;
use serde::Deserialize;

use super::problem::{Place, Problem, ProblemKind};

/// One view as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ViewSpec {
    name: String,
    /// Client prefixes (`127.0.0.0/24`; a bare address is one host).
    clients: Vec<String>,
    /// A master file of the zone for this view.
    file: Option<String>,
    /// Owner (relative to the zone, or absolute) to master-file lines.
    records: Option<BTreeMap<String, Vec<String>>>,
}

/// A zone's `rrset_order:`, or a problem at `line`.
pub(super) fn rrset_order(
    text: Option<&str>,
    line: Option<usize>,
    at: &dyn Fn(Option<usize>) -> Option<Place>,
    problems: &mut Vec<Problem>,
) -> Option<RrsetOrder> {
    match text?.parse() {
        Ok(order) => Some(order),
        Err(error) => {
            let kind = ProblemKind::BadRrsetOrder(error.to_string());
            problems.push(Problem::new(at(line), kind));
            None
        }
    }
}

/// The views of `zone` as written, each with the line of its `name:`;
/// a view with a mistake is reported at that line and left out.
pub(super) fn views(
    specs: &[ViewSpec],
    zone: &Name,
    base: &Path,
    line_of: &mut dyn FnMut(&'static str, &str) -> Option<usize>,
    at: &dyn Fn(Option<usize>) -> Option<Place>,
    problems: &mut Vec<Problem>,
) -> Vec<(View, usize)> {
    let mut views = Vec::new();
    for spec in specs {
        let line = line_of("name", &spec.name);
        match view(spec, base) {
            Ok(view) => views.push((view, line.unwrap_or(0))),
            Err(reason) => problems.push(Problem::new(
                at(line),
                ProblemKind::BadView {
                    zone: zone.clone(),
                    view: spec.name.clone(),
                    reason,
                },
            )),
        }
    }
    views
}

fn view(spec: &ViewSpec, base: &Path) -> Result<View, String> {
    let clients = spec
        .clients
        .iter()
        .map(|text| text.parse::<Cidr>().map_err(|e| e.to_string()))
        .collect::<Result<Vec<Cidr>, String>>()?;
    if clients.is_empty() {
        return Err("`clients:` is empty; list the prefixes this view answers".into());
    }
    let data = match (&spec.file, &spec.records) {
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
        name: spec.name.clone(),
        clients,
        data,
    })
}

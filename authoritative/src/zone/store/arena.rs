//! The name arena: every owner name of a zone once, in wire format as
//! spelled in the file, in one byte vector; the nodes that refer to their
//! names by offset; and the hash table of node indices that finds a node
//! by the hash of its lowercased wire name ([`super::WireName`]).
//!
//! Inserting a name inserts its missing ancestors down from the origin as
//! empty non-terminals, so that "does this name exist" is one hash lookup.
//! What a node holds is in [`super::node`]; [`super::Zone`] builds the
//! arena and answers from it.

use std::hash::BuildHasher;

use hickory_proto::rr::Name;
use smallvec::SmallVec;

use super::node::{Node, NodeData};
use super::{WireName, Zone};

impl Zone {
    /// The node at `wire`, inserted (with its missing ancestors down from
    /// the origin as empty non-terminals) if absent; `name` spells it.
    pub(super) fn node_or_insert(
        &mut self,
        wire: &WireName,
        origin_labels: usize,
        name: &Name,
    ) -> usize {
        let hash = self.hasher.hash_one(wire.bytes());
        if let Some(at) = self.find_wire(hash, wire.bytes()) {
            return at;
        }
        // Insert the missing ancestors first, top-down, so that parents come
        // before children in `nodes()`.
        let mut missing_from = wire.labels();
        let mut parent_at = None;
        while missing_from > origin_labels {
            let parent = wire.ancestor(missing_from - 1);
            parent_at = self.find_wire(self.hasher.hash_one(parent), parent);
            if parent_at.is_some() {
                break;
            }
            missing_from -= 1;
        }
        for n in missing_from..wire.labels() {
            let ancestor = wire.ancestor(n);
            let labels = name.iter().skip(wire.labels() - n);
            parent_at = Some(self.insert(self.hasher.hash_one(ancestor), labels, parent_at));
        }
        self.insert(hash, name.iter(), parent_at)
    }

    /// Appends a node for the name made of `labels` (as spelled), below
    /// the node at `parent`; counted among its children when the zone
    /// counts them (a patched zone, `super::patch`).
    fn insert<'a>(
        &mut self,
        hash: u64,
        labels: impl Iterator<Item = &'a [u8]>,
        parent: Option<usize>,
    ) -> usize {
        if !self.children.is_empty() {
            self.children.push(0);
            if let Some(count) = parent.and_then(|up| self.children.get_mut(up)) {
                *count += 1;
            }
        }
        let name_at = self.names.len();
        for label in labels {
            self.names.push(label.len() as u8);
            self.names.extend_from_slice(label);
        }
        self.names.push(0);
        let at = self.nodes.len();
        self.nodes.push(NodeData {
            name_at: name_at as u32,
            name_len: (self.names.len() - name_at) as u8,
            rrsets: SmallVec::new(),
        });
        let (names, nodes, hasher) = (&self.names, &self.nodes, &self.hasher);
        self.index.insert_unique(hash, at as u32, |&i| {
            let wire = name_wire(names, &nodes[i as usize]);
            hasher.hash_one(WireName::from_wire(wire).bytes())
        });
        at
    }

    pub(super) fn find_wire(&self, hash: u64, wire: &[u8]) -> Option<usize> {
        self.index
            .find(hash, |&i| {
                name_wire(&self.names, &self.nodes[i as usize]).eq_ignore_ascii_case(wire)
            })
            .map(|&i| i as usize)
    }

    pub(super) fn view(&self, at: usize) -> Node<'_> {
        let data = &self.nodes[at];
        Node {
            wire: name_wire(&self.names, data),
            data,
        }
    }

    /// The node at `wire` (lowercased wire form, see [`WireName`]).
    pub(crate) fn node_at_wire(&self, wire: &[u8]) -> Option<Node<'_>> {
        self.find_wire(self.hasher.hash_one(wire), wire)
            .map(|at| self.view(at))
    }
}

/// The wire-format name of `node` in the arena `names`.
pub(super) fn name_wire<'a>(names: &'a [u8], node: &NodeData) -> &'a [u8] {
    let start = node.name_at as usize;
    names
        .get(start..start + node.name_len as usize)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::testing::{name, texts, zone, SOA};
    use hickory_proto::rr::RecordType;

    #[test]
    fn ancestors_up_to_the_origin_exist_as_empty_non_terminals() {
        let zone = zone("example.", &format!("{SOA}\na.b.c 300 IN A 192.0.2.1"));
        for ent in ["b.c.example.", "c.example."] {
            let node = zone.node(&name(ent)).expect(ent);
            assert!(node.is_empty_non_terminal(), "{ent}");
        }
        assert!(!zone
            .node(&name("a.b.c.example."))
            .unwrap()
            .is_empty_non_terminal());
        assert!(zone.node(&name("example.")).is_some());
        assert!(
            zone.node(&name("com.")).is_none(),
            "nothing above the origin"
        );
        let order: Vec<String> = zone.nodes().map(|node| node.name().to_string()).collect();
        assert_eq!(
            order,
            ["example.", "c.example.", "b.c.example.", "a.b.c.example."]
        );
    }

    #[test]
    fn names_match_ignoring_case_and_keep_their_first_spelling() {
        let zone = zone(
            "example.",
            &format!("{SOA}\nMixed.Case 300 IN A 192.0.2.1\nmixed.case 300 IN A 192.0.2.2"),
        );
        let node = zone.node(&name("MIXED.case.EXAMPLE.")).unwrap();
        assert!(node.name().eq_case(&name("Mixed.Case.example.")));
        let set = node.rrset(RecordType::A).unwrap();
        assert_eq!(
            texts(&set.records(&node.name()).collect::<Vec<_>>()),
            [
                "Mixed.Case.example. 300 IN A 192.0.2.1",
                "Mixed.Case.example. 300 IN A 192.0.2.2"
            ]
        );
    }
}

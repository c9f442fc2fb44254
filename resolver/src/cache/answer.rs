//! Answering from the cache: the one place that does it, for the handler
//! (a client's question, before any resolution) and for the walk (each
//! name it reaches, and what the servers concluded about it).
//!
//! A question is followed through cached CNAMEs, and through a cached
//! DNAME above a name (RFC 6672 3.4), to its RRset or negative answer, or
//! to the first name the cache cannot answer. An RD=0 question that ends
//! there gets the closest cached delegation as a referral. What the servers
//! conclude is stored, and handed to the client as the cache will give it
//! from then on (TTLs clamped, the negative SOA's TTL capped), so that a
//! fresh answer and a cached one read alike.
//!
//! With `--ecs`, the answer is for a client network: what is tied to it
//! (`super::tailored`) is looked up first, a conclusion whose scope is not
//! 0 is tied to it, and the answer remembers the longest network it used,
//! the scope of the client's answer.

use dnslab_wire::{dname_target, substitute_dname, Cidr, ClientSubnet};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::{CNAME, NS};
use hickory_proto::rr::{Name, RData, Record, RecordType};

use super::{tie, Cache, Lookup};
use crate::classify::{synthesising_dname, Conclusion, Restart};
use crate::{Resolution, ResolveError};

/// What the cache alone says about a question.
pub(crate) enum CacheAnswer {
    /// The whole answer: the chain, then the RRset or the negative answer
    /// at its end.
    Done(Resolution),
    /// The chain (if any) leads to this name, which the cache cannot answer.
    Miss(Name),
}

/// The CNAME chain of one answer, with the DNAMEs that synthesised its
/// CNAMEs, as the client will get it: at most `max_cnames` CNAMEs
/// (`limits.max_cname_chain`), and no target that is already an owner in
/// the chain (a loop). With `--ecs`, also the client network the answer
/// is for, and the longest network of it the answer's records were tied
/// to.
pub(crate) struct Chain {
    records: Vec<Record>,
    max_cnames: u32,
    client: Option<ClientSubnet>,
    scope: u8,
}

impl Chain {
    /// The chain of an answer for no client network in particular.
    pub(crate) fn new(max_cnames: u32) -> Chain {
        Chain::for_client(max_cnames, None)
    }

    /// The chain of an answer for the client network `client` (`--ecs`).
    pub(crate) fn for_client(max_cnames: u32, client: Option<ClientSubnet>) -> Chain {
        Chain {
            records: Vec::new(),
            max_cnames,
            client,
            scope: 0,
        }
    }

    /// The network an answer of SCOPE PREFIX-LENGTH `scope` to this
    /// chain's client holds for ([`tie`]), remembered as the answer's scope.
    fn tie(&mut self, scope: u8) -> Option<Cidr> {
        let network = tie(self.client.as_ref(), scope)?;
        self.scope = self.scope.max(network.prefix_len());
        Some(network)
    }

    /// Appends `records`, enforcing the length limit and refusing a CNAME
    /// whose target is already an owner in the chain.
    fn extend(&mut self, records: Vec<Record>) -> Result<(), ResolveError> {
        for record in records {
            if let Some(target) = cname_target(&record) {
                if self.records.iter().any(|r| r.name == target) || record.name == target {
                    return Err(ResolveError::CnameLoop { name: target });
                }
            }
            self.records.push(record);
        }
        let cnames = self
            .records
            .iter()
            .filter(|r| r.record_type() == RecordType::CNAME)
            .count();
        if cnames > self.max_cnames as usize {
            return Err(ResolveError::CnameChainTooLong {
                limit: self.max_cnames,
            });
        }
        Ok(())
    }
}

impl Cache {
    /// Answers (`qname`, `qtype`) from the cache alone, following cached
    /// CNAMEs and DNAMEs and appending them to `chain`. On
    /// [`CacheAnswer::Done`] the chain has moved into the answer.
    pub(crate) fn answer(
        &self,
        qname: &Name,
        qtype: RecordType,
        chain: &mut Chain,
    ) -> Result<CacheAnswer, ResolveError> {
        let mut current = qname.clone();
        loop {
            let (rcode, soa) = match self.lookup_for(&current, qtype, chain) {
                Lookup::Hit(records) => {
                    chain.records.extend(records);
                    (ResponseCode::NoError, None)
                }
                Lookup::NxDomain { soa } => (ResponseCode::NXDomain, soa),
                Lookup::NoData { soa } => (ResponseCode::NoError, soa),
                Lookup::Cname(cname) => {
                    let Some(target) = cname_target(&cname) else {
                        return Ok(CacheAnswer::Miss(current));
                    };
                    chain.records.extend(self.cached_dname(&current, &target));
                    chain.extend(vec![cname])?;
                    current = target;
                    continue;
                }
                Lookup::Miss => match self.synthesise_from_dname(&current) {
                    // RFC 6672 3.4: a cached DNAME above the name answers for
                    // it, as Unbound and BIND answer, without asking its zone.
                    Some((dname, cname, target)) => {
                        chain.records.push(dname);
                        chain.extend(vec![cname])?;
                        current = target;
                        continue;
                    }
                    None => return Ok(CacheAnswer::Miss(current)),
                },
            };
            return Ok(CacheAnswer::Done(Resolution {
                rcode,
                answers: std::mem::take(&mut chain.records),
                authorities: soa.into_iter().collect(),
                scope: chain.scope,
            }));
        }
    }

    /// What the cache holds about (`name`, `qtype`) for `chain`'s client:
    /// what is tied to its network, else everyone's.
    fn lookup_for(&self, name: &Name, qtype: RecordType, chain: &mut Chain) -> Lookup {
        if let Some(client) = chain.client {
            if let Some((found, len)) =
                self.lookup_tied(name, qtype, client.addr(), client.source())
            {
                chain.scope = chain.scope.max(len);
                return found;
            }
        }
        self.lookup(name, qtype)
    }

    /// The answer to an RD=0 question the cache cannot answer whole, as
    /// Unbound answers clients allowed to snoop: the chain cached so far,
    /// and the NS set of the closest cached delegation of `end` (where the
    /// chain ends) as a referral; nobody is asked.
    pub(crate) fn referral(&self, chain: Chain, end: &Name) -> Resolution {
        let referral = self.closest_delegation(end).map(|cut| {
            cut.servers
                .iter()
                .map(|server| {
                    Record::from_rdata(cut.zone.clone(), cut.ttl, RData::NS(NS(server.clone())))
                })
                .collect()
        });
        Resolution {
            rcode: ResponseCode::NoError,
            answers: chain.records,
            authorities: referral.unwrap_or_default(),
            scope: chain.scope,
        }
    }

    /// Caches the chain of a restart (of SCOPE PREFIX-LENGTH `scope`) and
    /// appends it to `chain` as the client will get it; returns the name
    /// to ask about next.
    pub(crate) fn follow(
        &self,
        restart: Restart,
        scope: u8,
        chain: &mut Chain,
    ) -> Result<Name, ResolveError> {
        match chain.tie(scope) {
            Some(network) => self.store_tied_records(&restart.records, &network),
            None => self.store_records(&restart.records),
        }
        chain.extend(self.clamped(restart.records))?;
        Ok(restart.target)
    }

    /// Caches what the servers concluded about (`qname`, `qtype`), in a
    /// response of SCOPE PREFIX-LENGTH `scope`, and returns the client's
    /// answer: `chain`, then the conclusion's records with the TTLs the
    /// cache keeps them for, and the SOA of a negative answer with its
    /// negative TTL.
    pub(crate) fn conclude(
        &self,
        qname: &Name,
        qtype: RecordType,
        conclusion: Conclusion,
        scope: u8,
        mut chain: Chain,
    ) -> Result<Resolution, ResolveError> {
        let network = chain.tie(scope);
        let soa = self.store_conclusion(qname, qtype, &conclusion, network.as_ref());
        let (rcode, records) = match conclusion {
            Conclusion::Answer { records } | Conclusion::NoData { records, .. } => {
                (ResponseCode::NoError, records)
            }
            Conclusion::NxDomain { records, .. } => (ResponseCode::NXDomain, records),
        };
        chain.extend(self.clamped(records))?;
        Ok(Resolution {
            rcode,
            answers: chain.records,
            authorities: soa.into_iter().collect(),
            scope: chain.scope,
        })
    }

    /// Caches what the servers concluded about (`qname`, `qtype`): the
    /// records, and a negative answer at the end of their CNAME chain;
    /// for the client network `network` only, when given. Returns the SOA
    /// of a negative answer as clients should see it.
    pub(crate) fn store_conclusion(
        &self,
        qname: &Name,
        qtype: RecordType,
        conclusion: &Conclusion,
        network: Option<&Cidr>,
    ) -> Option<Record> {
        let store = |records: &[Record]| match network {
            Some(network) => self.store_tied_records(records, network),
            None => self.store_records(records),
        };
        let (records, nx, soa) = match conclusion {
            Conclusion::Answer { records } => {
                store(records);
                return None;
            }
            Conclusion::NxDomain { records, soa } => (records, true, soa),
            Conclusion::NoData { records, soa } => (records, false, soa),
        };
        store(records);
        let end = records
            .iter()
            .rev()
            .find_map(cname_target)
            .unwrap_or_else(|| qname.clone());
        match network {
            Some(network) => self.store_tied_negative(&end, qtype, nx, soa.clone(), network),
            None => self.store_negative(&end, qtype, nx, soa.clone()),
        }
    }

    /// Records with the TTL the cache keeps them for, as a client should
    /// see them.
    fn clamped(&self, mut records: Vec<Record>) -> Vec<Record> {
        for record in &mut records {
            record.ttl = self.clamp(record.ttl);
        }
        records
    }

    /// The cached DNAME that synthesised the cached CNAME `owner` ->
    /// `target`: a cached answer carries it as the first one did (see
    /// [`synthesising_dname`]).
    fn cached_dname(&self, owner: &Name, target: &Name) -> Option<Record> {
        let dname = self.dname_above(owner)?;
        synthesising_dname([&dname], owner, target)
            .is_some()
            .then_some(dname)
    }

    /// The DNAME cached above `name`, the CNAME it synthesises for `name`
    /// (with the DNAME's remaining TTL) and that CNAME's target.
    fn synthesise_from_dname(&self, name: &Name) -> Option<(Record, Record, Name)> {
        let dname = self.dname_above(name)?;
        let target = substitute_dname(name, &dname.name, &dname_target(&dname.data)?)?;
        let cname =
            Record::from_rdata(name.clone(), dname.ttl, RData::CNAME(CNAME(target.clone())));
        Some((dname, cname, target))
    }
}

fn cname_target(record: &Record) -> Option<Name> {
    match &record.data {
        RData::CNAME(target) => Some(target.0.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::A;

    fn n(s: &str) -> Name {
        Name::from_ascii(s).unwrap()
    }

    fn cname(from: &str, to: &str) -> Record {
        Record::from_rdata(n(from), 300, RData::CNAME(CNAME(n(to))))
    }

    #[test]
    fn chain_limits_length_and_loops() {
        let mut chain = Chain::new(2);
        chain
            .extend(vec![cname("a.", "b."), cname("b.", "c.")])
            .unwrap();
        assert_eq!(
            chain.extend(vec![cname("c.", "d.")]),
            Err(ResolveError::CnameChainTooLong { limit: 2 })
        );
        let mut chain = Chain::new(12);
        chain.extend(vec![cname("a.", "b.")]).unwrap();
        assert_eq!(
            chain.extend(vec![cname("b.", "a.")]),
            Err(ResolveError::CnameLoop { name: n("a.") })
        );
        assert_eq!(
            Chain::new(12).extend(vec![cname("self.", "self.")]),
            Err(ResolveError::CnameLoop { name: n("self.") })
        );
    }

    #[test]
    fn cache_follows_cached_cnames_to_the_answer_or_the_first_gap() {
        let cache = Cache::new(100, 0, 86400, crate::Clock::frozen());
        let target = Record::from_rdata(n("c.example."), 300, RData::A(A::new(192, 0, 2, 3)));
        cache.store_records(&[
            cname("a.example.", "b.example."),
            cname("b.example.", "c.example."),
        ]);
        let mut chain = Chain::new(12);
        let Ok(CacheAnswer::Miss(gap)) = cache.answer(&n("a.example."), RecordType::A, &mut chain)
        else {
            panic!("c.example. is not cached yet");
        };
        assert_eq!((gap, chain.records.len()), (n("c.example."), 2));
        cache.store_records(std::slice::from_ref(&target));
        let Ok(CacheAnswer::Done(resolution)) =
            cache.answer(&n("a.example."), RecordType::A, &mut Chain::new(12))
        else {
            panic!("the whole chain is cached");
        };
        assert_eq!(resolution.rcode, ResponseCode::NoError);
        assert_eq!(resolution.answers.len(), 3);
        assert_eq!(resolution.answers[2], target);
    }
}

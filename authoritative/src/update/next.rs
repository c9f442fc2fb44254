//! The next version of a zone after a batch of updates, at the cost of
//! what the batch changed rather than of the zone's size.
//!
//! A version being served is shared (`Arc<Zone>`) and never changes:
//! readers see the zone before or after a batch, never half of one. The
//! next version is therefore a second zone. Copying the served one for
//! every batch ([`Zone::patched`]) costs the zone's size: some 100 ms for
//! a zone of 1,000,000 records, where the journal's flush takes well
//! under one. So the writer keeps a spare: the version served before the
//! last batch, which the readers give up once the new one is swapped in,
//! with the changesets that lead from it to the version served now. The
//! next batch brings the spare up to date and patches its own changes on
//! it ([`Zone::patch`], in place, once `Arc::try_unwrap` proves nobody else
//! holds it), and the version it replaces becomes the next spare: two
//! copies of the zone take turns, as in a left-right scheme, each batch
//! paying its own changes twice and nothing in proportion to the zone.
//!
//! The spare costs a second copy of the zone in memory while updates
//! come; it is dropped after [`SPARE_IDLE`] without any. Where it cannot
//! be used (the first batch, a reload replaced the version, a zone
//! transfer still reads the old one), the served version is copied and
//! patched; where a patch does not apply (the NSEC3 chain changed) or the
//! result has become mostly empty nodes (`Zone::is_sparse`), the zone is
//! built from its records, checks of a load included.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::rr::Record;
use tracing::warn;

use crate::zone::diff::{Changeset, RecordSet};
use crate::zone::{PatchError, Zone};

/// How long the spare copy is kept without updates.
pub(crate) const SPARE_IDLE: Duration = Duration::from_secs(10);

/// How long a batch waits for the readers of the spare to let it go
/// before it copies the served version instead: a query holds a version
/// for microseconds, a zone transfer for as long as it sends.
const READERS_GONE: Duration = Duration::from_millis(2);

/// How a next version was made, for the writer's log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Made {
    /// The spare copy, brought level and patched in place.
    Spare,
    /// A copy of the version served, patched.
    Copy,
    /// Built from its records.
    Build,
}

/// A zone's versions as its writer sees them.
#[derive(Default)]
pub(crate) struct Versions {
    spare: Option<Spare>,
}

/// The version served before the last batch, and how to bring it level
/// with the version served now.
struct Spare {
    zone: Arc<Zone>,
    /// The version served after the last batch: the spare is only of use
    /// while that is still the one served.
    level_with: Arc<Zone>,
    /// The last batch's changesets, from `zone` to `level_with`.
    behind: Vec<Changeset>,
    since: Instant,
}

impl Versions {
    /// `base`, the version served, with `changesets` applied: a new zone,
    /// `base` unchanged.
    pub(crate) fn next(
        &mut self,
        base: &Arc<Zone>,
        changesets: &[Changeset],
    ) -> Result<(Zone, Made), String> {
        if let Some(spare) = self.take_spare(base) {
            match level_and_patch(spare, changesets) {
                Ok(zone) if !zone.is_sparse() => return Ok((zone, Made::Spare)),
                // Mostly empty names: built afresh from the patched records
                // (a copy of the version served would patch as sparse).
                Ok(zone) => {
                    let built = build(base, Some(&zone), changesets)?;
                    return Ok((built, Made::Build));
                }
                // Built afresh below.
                Err(PatchError::Nsec3) => {}
                Err(error) => {
                    warn!(zone = %base.origin(), %error, "the spare copy of the zone does not take the changes; copying the version served instead (a bug)");
                }
            }
        }
        let patched = match base.patched(changesets) {
            Ok(zone) if !zone.is_sparse() => return Ok((zone, Made::Copy)),
            Ok(zone) => Some(zone),
            Err(PatchError::Nsec3) => None,
            Err(error) => return Err(error.to_string()),
        };
        let zone = build(base, patched.as_ref(), changesets)?;
        Ok((zone, Made::Build))
    }

    /// `next`, made from `base` by `changesets`, is served now: `base`
    /// becomes the spare.
    pub(crate) fn served(&mut self, base: Arc<Zone>, next: &Arc<Zone>, changesets: Vec<Changeset>) {
        self.spare = Some(Spare {
            zone: base,
            level_with: Arc::clone(next),
            behind: changesets,
            since: Instant::now(),
        });
    }

    /// When the spare is to be dropped if no update comes before.
    pub(crate) fn idle_deadline(&self) -> Option<Instant> {
        self.spare.as_ref().map(|spare| spare.since + SPARE_IDLE)
    }

    /// Drops the spare if no update came for [`SPARE_IDLE`].
    pub(crate) fn drop_if_idle(&mut self) {
        if self
            .idle_deadline()
            .is_some_and(|deadline| Instant::now() >= deadline)
        {
            self.spare = None;
        }
    }

    /// The spare, owned (nobody else holds it) with its changesets, if it
    /// can become the version after `base`; it is gone either way.
    fn take_spare(&mut self, base: &Arc<Zone>) -> Option<(Zone, Vec<Changeset>)> {
        let Spare {
            mut zone,
            level_with,
            behind,
            ..
        } = self.spare.take()?;
        if !Arc::ptr_eq(&level_with, base) {
            return None;
        }
        let waiting = Instant::now();
        loop {
            match Arc::try_unwrap(zone) {
                Ok(owned) => return Some((owned, behind)),
                Err(shared) => zone = shared,
            }
            if waiting.elapsed() >= READERS_GONE {
                return None;
            }
            std::thread::sleep(Duration::from_micros(50));
        }
    }
}

/// The spare brought level with the version served, then patched with
/// `changesets`.
fn level_and_patch(
    (mut zone, behind): (Zone, Vec<Changeset>),
    changesets: &[Changeset],
) -> Result<Zone, PatchError> {
    zone.patch(&behind)?;
    zone.patch(changesets)?;
    Ok(zone)
}

/// The zone built from `patched`'s records, or from `base`'s with
/// `changesets` applied when there is no patched version.
fn build(base: &Zone, patched: Option<&Zone>, changesets: &[Changeset]) -> Result<Zone, String> {
    let records: Vec<Record> = match patched {
        Some(zone) => zone.records().collect(),
        None => {
            let mut set = RecordSet::new(base.records().collect()).map_err(|e| e.to_string())?;
            for changeset in changesets {
                set.apply(changeset).map_err(|e| e.to_string())?;
            }
            set.into_records()
        }
    };
    let label = format!("updates to {}", base.origin());
    crate::transfer::secondary::build(base.origin().clone(), records, label).map_err(|problems| {
        let first = problems
            .first()
            .map(ToString::to_string)
            .unwrap_or_default();
        format!("the zone fails the checks of a load: {first}")
    })
}

#[cfg(test)]
mod tests;

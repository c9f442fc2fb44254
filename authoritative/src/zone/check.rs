//! The checks of `named-checkzone`. (Interface stub; being written.)

use std::fmt;

use hickory_proto::rr::Name;

use super::{Location, SourcedRecord};

/// One broken rule, with where it was found.
#[derive(Clone, Debug)]
pub struct Problem {
    pub location: Option<Location>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(loc) => write!(f, "{loc}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

/// Every problem of the zone `origin` made of `records`; empty when clean.
pub fn check_zone(origin: &Name, records: &[SourcedRecord]) -> Vec<Problem> {
    let _ = (origin, records);
    Vec::new()
}

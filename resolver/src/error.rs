//! Why a client question could not be resolved.

use std::time::Duration;

use hickory_proto::rr::Name;

/// Why a question could not be resolved; every variant ends in SERVFAIL.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("resolution took longer than {limit:?}: servers too slow or unreachable")]
    Timeout { limit: Duration },
    #[error("more than {limit} upstream queries needed; raise limits.max_upstream_queries if the hierarchy is really this deep")]
    TooManyQueries { limit: u32 },
    #[error("more than {limit} referrals followed; a delegation loop?")]
    TooManyReferrals { limit: u32 },
    #[error("CNAME chain longer than {limit} records")]
    CnameChainTooLong { limit: u32 },
    #[error("CNAME loop through {name}")]
    CnameLoop { name: Name },
    #[error("finding the address of name server {server} needs more than {limit} nested lookups")]
    NsDepthExceeded { server: Name, limit: u32 },
    #[error("finding the address of name server {server} depends on itself (a delegation loop)")]
    NsDependencyLoop { server: Name },
    #[error("no address known or found for any name server of {zone}")]
    NoServerAddress { zone: Name },
    #[error("no server for {zone} answered (all dead or timing out)")]
    NoServerAnswered { zone: Name },
    #[error("every server for {zone} that answered was lame ({reason})")]
    LameDelegation { zone: Name, reason: String },
    #[error("the identical question this one was waiting for was abandoned")]
    Abandoned,
}

impl ResolveError {
    /// Errors that end the whole client question, not only one branch of it
    /// (one name server's address lookup).
    pub(crate) fn is_budget(&self) -> bool {
        matches!(
            self,
            ResolveError::Timeout { .. }
                | ResolveError::TooManyQueries { .. }
                | ResolveError::TooManyReferrals { .. }
        )
    }
}

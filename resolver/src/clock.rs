//! Cache time: the clock every TTL in the cache is counted on.
//!
//! A TTL is a promise about real elapsed time (RFC 1035 3.2.1, RFC 2181
//! 8), including time the machine spent suspended: a laptop closed
//! overnight must not answer from yesterday's cache as if the records were
//! fresh. `Instant` (CLOCK_MONOTONIC) stops during suspend on Linux, so the
//! cache reads CLOCK_BOOTTIME instead, which counts suspended time and,
//! unlike the wall clock Unbound and Knot Resolver read, never jumps when
//! NTP or an administrator sets the time: it cannot run backwards, so the
//! rule those resolvers need ("a clock that jumps backwards counts as no
//! time passing") holds by construction. Every elapsed time is computed
//! saturating at zero all the same ([`Stamp::until`]). Elsewhere than on
//! Linux the clock is `Instant`.
//!
//! Reading it costs what `Instant::now()` costs: CLOCK_BOOTTIME is served
//! by the vDSO like CLOCK_MONOTONIC (no system call), plus one relaxed
//! load of [`Clock::jump_forward`]'s offset, which production never
//! writes, so it stays in every core's cache.
//!
//! The clock is injectable: a [`Clock`] is shared by the resolver's cache
//! and its encoded answers, and tests (or an operator's tool) jump it
//! forward by hours with [`Clock::jump_forward`] to stand for a suspended
//! machine. Round-trip times, lameness and the walk's deadlines are not
//! cache time and stay on tokio's `Instant`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The cache's clock; clones share one time (and one offset).
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Nanoseconds added by [`Clock::jump_forward`]; only ever grows.
    jumped: Arc<AtomicU64>,
    /// Stands still but for jumps ([`Clock::frozen`]).
    frozen: bool,
}

/// A point in cache time: nanoseconds since boot (plus any jump).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Stamp(u64);

impl Clock {
    /// The real clock: CLOCK_BOOTTIME.
    pub fn new() -> Clock {
        Clock::default()
    }

    /// A clock that stands still but for [`Clock::jump_forward`], for tests
    /// that read exact TTLs: a TTL read right after it was stored is the
    /// TTL, not a second less.
    pub fn frozen() -> Clock {
        Clock {
            frozen: true,
            ..Clock::default()
        }
    }

    /// Now, in cache time.
    #[inline]
    pub(crate) fn now(&self) -> Stamp {
        let jumped = self.jumped.load(Ordering::Relaxed);
        if self.frozen {
            return Stamp(jumped);
        }
        Stamp(boot_nanos().saturating_add(jumped))
    }

    /// Moves this clock (and every clone of it) forward by `by`, as if the
    /// machine had been suspended that long: what expired meanwhile is
    /// gone, what is left counts down from there. There is no way back.
    pub fn jump_forward(&self, by: Duration) {
        self.jumped.fetch_add(nanos(by), Ordering::Relaxed);
    }
}

impl Stamp {
    /// This point plus `by`.
    pub(crate) fn after(self, by: Duration) -> Stamp {
        Stamp(self.0.saturating_add(nanos(by)))
    }

    /// The time from this point to `later`, zero if `later` is not later.
    pub(crate) fn until(self, later: Stamp) -> Duration {
        Duration::from_nanos(later.0.saturating_sub(self.0))
    }
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// CLOCK_BOOTTIME in nanoseconds: monotonic, and counting suspend.
#[cfg(target_os = "linux")]
fn boot_nanos() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec for the call to fill; the clock id
    // is one Linux has had since 2.6.39, so the call cannot fail, and on
    // failure `now` stays zero (no time passes), never garbage.
    unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut now) };
    let secs = u64::try_from(now.tv_sec).unwrap_or(0);
    let sub = u64::try_from(now.tv_nsec).unwrap_or(0);
    secs.saturating_mul(1_000_000_000).saturating_add(sub)
}

/// Elsewhere: `Instant` since the first reading (it may stop in suspend).
#[cfg(not(target_os = "linux"))]
fn boot_nanos() -> u64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    nanos(START.get_or_init(std::time::Instant::now).elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jump_moves_every_clone_forward_and_elapsed_never_goes_negative() {
        let clock = Clock::new();
        let other = clock.clone();
        let frozen = Clock::frozen();
        let (then, again) = (frozen.now(), frozen.now());
        assert_eq!(then, again, "a frozen clock stands still");
        frozen.jump_forward(Duration::from_secs(2));
        assert_eq!(then.until(frozen.now()), Duration::from_secs(2));
        let before = clock.now();
        other.jump_forward(Duration::from_secs(8 * 3600));
        let after = clock.now();
        assert!(before.until(after) >= Duration::from_secs(8 * 3600));
        assert_eq!(
            after.until(before),
            Duration::ZERO,
            "a point before counts as no time passing"
        );
        assert_eq!(
            before.after(Duration::from_secs(1)).until(before),
            Duration::ZERO
        );
    }
}

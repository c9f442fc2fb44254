//! Serial number arithmetic (RFC 1982) for SOA serials: which version of a
//! zone is newer, even after the 32-bit serial wraps around.
//!
//! Used wherever two serials are compared: the journal (a changeset must
//! move the serial forward), and a secondary's SOA checks (is the
//! primary's copy newer than ours?). Comparing serials with `<` is wrong
//! once a zone's serial has wrapped past 2^32 - 1: RFC 1982 3.2 compares
//! them on a circle instead.

use std::cmp::Ordering;

/// RFC 1982 2: SERIAL_BITS is 32 for SOA serials; half the circle.
const HALF: u32 = 1 << 31;

/// RFC 1982 3.2: `a` compared with `b`. `None` when the comparison is
/// undefined, which happens for exactly one pair distance: `a` and `b`
/// 2^31 apart, where neither is greater ("such comparisons are
/// undefined"). Callers treat undefined as "not newer", as BIND does.
pub(crate) fn serial_cmp(a: u32, b: u32) -> Option<Ordering> {
    // The forward distance from b to a, on the circle of 2^32.
    let ahead = a.wrapping_sub(b);
    match ahead {
        0 => Some(Ordering::Equal),
        d if d < HALF => Some(Ordering::Greater),
        d if d > HALF => Some(Ordering::Less),
        _ => None,
    }
}

/// RFC 1982 3.2: `a` is greater (newer) than `b`.
pub(crate) fn serial_gt(a: u32, b: u32) -> bool {
    serial_cmp(a, b) == Some(Ordering::Greater)
}

/// RFC 1982 3.1: `serial + n`, defined for `n` up to 2^31 - 1; a larger
/// increment is clamped to that, the furthest a serial may move in one step
/// and still compare as greater.
pub(crate) fn serial_add(serial: u32, n: u32) -> u32 {
    serial.wrapping_add(n.min(HALF - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_compare_on_a_circle() {
        assert_eq!(serial_cmp(2, 1), Some(Ordering::Greater));
        assert_eq!(serial_cmp(1, 2), Some(Ordering::Less));
        assert_eq!(serial_cmp(7, 7), Some(Ordering::Equal));
        // Wrap-around: 0 and 5 come after u32::MAX.
        assert!(serial_gt(0, u32::MAX));
        assert!(serial_gt(5, u32::MAX - 5));
        assert!(!serial_gt(u32::MAX, 0));
        // The furthest "greater" is 2^31 - 1 ahead.
        assert!(serial_gt(HALF - 1, 0));
        assert!(serial_gt(0, HALF + 1));
        // Exactly half way round: undefined, never greater either way.
        assert_eq!(serial_cmp(HALF, 0), None);
        assert_eq!(serial_cmp(0, HALF), None);
        assert!(!serial_gt(HALF, 0) && !serial_gt(0, HALF));
        assert_eq!(serial_cmp(HALF + 10, 10), None);
    }

    #[test]
    fn serial_add_wraps_and_clamps() {
        assert_eq!(serial_add(u32::MAX, 1), 0);
        assert_eq!(serial_add(10, 5), 15);
        assert_eq!(serial_add(0, u32::MAX), HALF - 1);
        assert!(serial_gt(serial_add(12345, u32::MAX), 12345));
    }
}

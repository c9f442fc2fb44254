//! Counters every worker thread writes without sharing a cache line: one
//! copy per stripe, a thread always writing the same stripe, and readers
//! (`/metrics`, a few times a minute) adding the stripes up.
//!
//! A relaxed atomic add is a few cycles on a cache line the core owns, and
//! a hundred when another core wrote it last: two UDP workers counting
//! every cache hit in one shared counter would bounce its line on every
//! query. With a stripe per thread (up to [`STRIPES`] threads; more share)
//! each worker keeps its lines. Neighbours: the resolver counts hits and
//! misses in [`Striped`] counters, the web crate's query counters are
//! striped arrays.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Copies kept of each striped value: the worker threads of a busy server
/// on a machine of a few cores; beyond that threads share stripes.
pub const STRIPES: usize = 8;

/// One value per stripe, each on cache lines of its own.
pub struct Striped<T> {
    stripes: Box<[Padded<T>]>,
}

/// 128 bytes: two cache lines, as the adjacent-line prefetcher of x86
/// pulls them in pairs.
#[repr(align(128))]
struct Padded<T>(T);

impl<T> Striped<T> {
    /// [`STRIPES`] values made by `make`.
    pub fn new(make: impl Fn() -> T) -> Striped<T> {
        Striped {
            stripes: (0..STRIPES).map(|_| Padded(make())).collect(),
        }
    }

    /// The calling thread's stripe.
    #[inline]
    pub fn local(&self) -> &T {
        // `stripe()` is below STRIPES, the length.
        &self.stripes[stripe() % self.stripes.len()].0
    }

    /// Every stripe, for a reader adding them up.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.stripes.iter().map(|padded| &padded.0)
    }
}

impl<T: Default> Default for Striped<T> {
    fn default() -> Self {
        Striped::new(T::default)
    }
}

impl Striped<AtomicU64> {
    /// Adds one in the calling thread's stripe.
    #[inline]
    pub fn increment(&self) {
        self.local().fetch_add(1, Ordering::Relaxed);
    }

    /// The sum over every stripe.
    pub fn sum(&self) -> u64 {
        self.iter().map(|count| count.load(Ordering::Relaxed)).sum()
    }
}

impl<T> std::fmt::Debug for Striped<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Striped").finish_non_exhaustive()
    }
}

/// The calling thread's stripe, given round-robin at its first count.
#[inline]
fn stripe() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static STRIPE: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    STRIPE.with(|stripe| {
        let mut index = stripe.get();
        if index == usize::MAX {
            index = NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES;
            stripe.set(index);
        }
        index
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_many_threads_add_up() {
        let count = std::sync::Arc::new(Striped::<AtomicU64>::default());
        let threads: Vec<_> = (0..12)
            .map(|_| {
                let count = count.clone();
                std::thread::spawn(move || (0..1000).for_each(|_| count.increment()))
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(count.sum(), 12_000);
        assert!(
            count
                .iter()
                .filter(|c| c.load(Ordering::Relaxed) > 0)
                .count()
                > 1
        );
    }
}

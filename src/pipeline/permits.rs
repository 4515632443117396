//! A ceiling shared by threads: originals on disk with `--discard-downloads --overlap` (one
//! each), bytes of thumbnails waiting for the writer threads (their length each).

use std::sync::{Condvar, Mutex};

/// Counts what is held against a ceiling; taking waits while it would go over. One take is
/// always let through when nothing is held, so a single item larger than the ceiling still
/// goes (alone).
pub(super) struct Permits {
    taken: Mutex<usize>,
    freed: Condvar,
    most: usize,
}

impl Permits {
    pub(super) fn new(most: usize) -> Self {
        Permits {
            taken: Mutex::new(0),
            freed: Condvar::new(),
            most: most.max(1),
        }
    }

    pub(super) fn take(&self, n: usize) {
        let mut taken = self.taken.lock().expect("permits lock");
        while *taken > 0 && *taken + n > self.most {
            taken = self.freed.wait(taken).expect("permits lock");
        }
        *taken += n;
    }

    pub(super) fn give_back(&self, n: usize) {
        let mut taken = self.taken.lock().expect("permits lock");
        *taken = taken.saturating_sub(n);
        self.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::Permits;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn holders_never_exceed_the_ceiling_and_an_oversized_take_goes_alone() {
        let permits = Permits::new(10);
        let (held, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        std::thread::scope(|scope| {
            for n in [3, 4, 6, 20, 1, 5, 7, 2] {
                let (permits, held, most) = (&permits, &held, &most);
                scope.spawn(move || {
                    permits.take(n);
                    let now = held.fetch_add(n, Ordering::SeqCst) + n;
                    most.fetch_max(if n > 10 { 0 } else { now }, Ordering::SeqCst);
                    assert!(n > 10 || now <= 10, "{now} held");
                    assert!(n <= 10 || now == n, "an oversized take shared the ceiling");
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    held.fetch_sub(n, Ordering::SeqCst);
                    permits.give_back(n);
                });
            }
        });
        assert!(most.into_inner() <= 10);
    }
}

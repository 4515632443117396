//! Whether an image's decode fits in the memory this process may still use, decided from its
//! header before any pixel buffer exists.
//!
//! Rust aborts the whole process when an allocation fails: with `--max-pixels` raised, one
//! 65536x65536 PNG (a 12.9 GB buffer) under an 8 GB address-space limit ended the run with
//! SIGABRT, no report, and the later images never made. An image that cannot fit now fails
//! alone, naming what it needs and what limits it. The limits read (Linux; elsewhere none is
//! known and nothing is refused): the address-space limit (`ulimit -v`, RLIMIT_AS) less what
//! the process has mapped, the cgroup's memory limit (containers, Kubernetes, Slurm) less its
//! usage, and the memory the kernel says is available.
//!
//! Those limits count what is allocated, not what another resize thread has just decided to
//! allocate: two 5 GB decodes under an 8 GB limit would each pass alone and abort together. So
//! a large decode also holds a reservation until its pixels are dropped; one that does not fit
//! beside the reservations of others waits for them to end, and fails only if it would not fit
//! alone. Small decodes (under [`UNCHECKED`]) neither check nor wait.

use std::cell::RefCell;
use std::sync::{Condvar, Mutex};

use super::DecodeError;

/// Images needing less than this are not checked: reading the limits costs a few file reads,
/// and no machine that runs us lacks this much.
const UNCHECKED: u64 = 256 << 20;

/// What one decode needs besides its pixel buffer: the 8-bit or colour-converted copy and the
/// resizer's working rows, at most the buffer again.
const COPIES: u64 = 2;

/// Refuses a decode whose pixel buffer of `buffer` bytes (with its working copy) does not fit
/// in what the process may still allocate; waits while it fits only once other large decodes
/// end. The reservation it takes is held by this thread until [`take`] hands it to the
/// decoded image (so the decoders need not carry it through their many return paths).
pub fn check(buffer: u64) -> Result<(), DecodeError> {
    let need = buffer.saturating_mul(COPIES);
    if need < UNCHECKED {
        return Ok(());
    }
    let reservation = reserve(need, room)?;
    HELD.with(|held| *held.borrow_mut() = Some(reservation));
    Ok(())
}

/// The reservation this thread's last [`check`] took, if any, for the decoded image to hold.
pub fn take() -> Option<Reservation> {
    HELD.with(|held| held.borrow_mut().take())
}

thread_local! {
    static HELD: RefCell<Option<Reservation>> = const { RefCell::new(None) };
}

/// Bytes reserved by large decodes in progress, and the signal that some were released.
static RESERVED: Mutex<u64> = Mutex::new(0);
static RELEASED: Condvar = Condvar::new();

/// Memory a decode has counted on, given back when dropped (with the pixels it was for).
#[derive(Debug)]
pub struct Reservation(u64);

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut reserved = RESERVED.lock().unwrap_or_else(|e| e.into_inner());
        *reserved -= self.0;
        RELEASED.notify_all();
    }
}

/// Reserves `need` bytes if they fit in `room()` beside the reservations of others (counted
/// as not yet allocated, which may wait needlessly but never overcommits); waits while others
/// hold some; refuses when it does not fit with none held.
fn reserve(
    need: u64,
    room: impl Fn() -> Option<(u64, &'static str)>,
) -> Result<Reservation, DecodeError> {
    let mut reserved = RESERVED.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        match room() {
            Some((room, limit)) if need.saturating_add(*reserved) > room => {
                if *reserved == 0 {
                    return Err(DecodeError::TooBigForMemory { need, room, limit });
                }
                reserved = RELEASED.wait(reserved).unwrap_or_else(|e| e.into_inner());
            }
            _ => {
                *reserved += need;
                return Ok(Reservation(need));
            }
        }
    }
}

/// The fewest bytes any limit still allows, and which limit that is.
pub fn room() -> Option<(u64, &'static str)> {
    [
        address_space_room().map(|r| (r, "the address-space limit (ulimit -v)")),
        cgroup_room().map(|r| (r, "the cgroup's memory limit")),
        available().map(|r| (r, "the machine's available memory")),
    ]
    .into_iter()
    .flatten()
    .min_by_key(|&(room, _)| room)
}

/// RLIMIT_AS less the process's mapped size.
fn address_space_room() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max address space"))?;
    let soft: u64 = line
        .trim_start_matches("Max address space")
        .split_whitespace()
        .next()?
        .parse()
        .ok()?; // "unlimited" does not parse: no limit
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let mapped = kilobytes(&status, "VmSize:")?;
    Some(soft.saturating_sub(mapped))
}

/// The cgroup v2 limit of this process's group (or the root's) less its usage.
fn cgroup_room() -> Option<u64> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = own.lines().find_map(|l| l.strip_prefix("0::"))?.trim();
    let dir = std::path::Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/'));
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
    let max: u64 = read("memory.max")?.trim().parse().ok()?; // "max" does not parse
    let current: u64 = read("memory.current")?.trim().parse().ok()?;
    Some(max.saturating_sub(current))
}

/// MemAvailable plus free swap.
fn available() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let swap = kilobytes(&meminfo, "SwapFree:").unwrap_or(0);
    Some(kilobytes(&meminfo, "MemAvailable:")?.saturating_add(swap))
}

/// The value of a `Name:   123 kB` line, in bytes.
fn kilobytes(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with(name))?;
    let kb: u64 = line[name.len()..].split_whitespace().next()?.parse().ok()?;
    Some(kb.saturating_mul(1024))
}

#[cfg(test)]
mod tests {
    use super::{check, kilobytes, reserve, room, take};
    use std::sync::{mpsc, Mutex};

    #[test]
    fn small_decodes_pass_and_impossible_ones_name_their_limit() {
        assert!(check(100 << 20).is_ok());
        assert_eq!(kilobytes("VmSize:\t  2048 kB\n", "VmSize:"), Some(2 << 20));
        // Linux always reports available memory; a 2^62-byte buffer fits nowhere.
        if room().is_some() {
            let error = check(1 << 62).unwrap_err().to_string();
            assert!(error.contains("memory"), "{error}");
        }
    }

    #[test]
    fn a_large_decode_waits_for_anothers_reservation_and_fails_only_alone() {
        const GB: u64 = 1 << 30;
        let room = || Some((10 * GB, "a test's 10 GB"));
        let first = reserve(6 * GB, room).unwrap();
        let order = Mutex::new(Vec::new());
        let (started, wait_start) = mpsc::channel();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                started.send(()).unwrap();
                // 6 + 6 > 10: this waits until the first is dropped, then fits.
                let second = reserve(6 * GB, room).unwrap();
                order.lock().unwrap().push("second reserved");
                drop(second);
            });
            wait_start.recv().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(100));
            order.lock().unwrap().push("first released");
            drop(first);
        });
        assert_eq!(
            *order.lock().unwrap(),
            ["first released", "second reserved"]
        );
        // Too large with nothing else held: refused at once, naming the limit.
        let error = reserve(11 * GB, room).unwrap_err().to_string();
        assert!(error.contains("a test's 10 GB"), "{error}");
        // check() leaves its reservation for take(); small ones take none.
        check(1 << 20).unwrap();
        assert!(take().is_none());
    }
}

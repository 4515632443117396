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

use super::DecodeError;

/// Images needing less than this are not checked: reading the limits costs a few file reads,
/// and no machine that runs us lacks this much.
const UNCHECKED: u64 = 256 << 20;

/// What one decode needs besides its pixel buffer: the 8-bit or colour-converted copy and the
/// resizer's working rows, at most the buffer again.
const COPIES: u64 = 2;

/// Refuses a decode whose pixel buffer of `buffer` bytes (with its working copy) does not fit
/// in what the process may still allocate.
pub fn check(buffer: u64) -> Result<(), DecodeError> {
    let need = buffer.saturating_mul(COPIES);
    if need < UNCHECKED {
        return Ok(());
    }
    match room() {
        Some((room, limit)) if need > room => {
            Err(DecodeError::TooBigForMemory { need, room, limit })
        }
        _ => Ok(()),
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
    use super::{check, kilobytes, room};

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
}

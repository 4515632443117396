//! Shards of one input list, for running a job on many machines: which inputs are whose.
//!
//! Every shard reads the same list and keeps the inputs whose stable hash falls in it, so the
//! assignment depends on neither the order of the list nor the machine. The hash is fixed here
//! (FNV-1a, 64 bits, then a multiplicative mix) and pinned by a test: changing it would move
//! inputs between the shards of a job already half done.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// FNV-1a's starting value, for [`fnv1a_more`].
pub const FNV1A_START: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a, 64 bits: a hash that is the same on every machine and Rust version, unlike std's.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    fnv1a_more(FNV1A_START, bytes)
}

/// FNV-1a continued over more bytes: a file hashed block by block gives what [`fnv1a`] gives
/// its whole content.
pub fn fnv1a_more(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(hash, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One of N shards, `K/N` on the command line with K from 0 (so Kubernetes'
/// `JOB_COMPLETION_INDEX` fits directly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Whether `input` is this shard's: a stable hash of the input string, so the answer does
    /// not depend on the order or position of lines, and every input is in exactly one shard.
    pub fn contains(&self, input: &str) -> bool {
        // FNV's low bits are weak; a multiplicative mix spreads them before the modulo.
        let mixed = fnv1a(input.as_bytes()).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        mixed % u64::from(self.count) == u64::from(self.index)
    }
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let err = || format!("'{text}' is not a shard K/N with 0 <= K < N (example: 0/4)");
        let (k, n) = text.split_once('/').ok_or_else(err)?;
        let (index, count) = (
            k.trim().parse().map_err(|_| err())?,
            n.trim().parse().map_err(|_| err())?,
        );
        if count == 0 || index >= count {
            return Err(err());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::{fnv1a, Shard};

    /// The values of today's hash, computed independently (Python, FNV-1a 64 and the mix): a
    /// refactor that moved inputs between shards would fail here.
    #[test]
    fn the_hash_and_the_assignment_are_pinned() {
        let cases = [
            ("", 0xcbf2_9ce4_8422_2325, 1, 0),
            ("a", 0xaf63_dc4c_8601_ec8c, 3, 2),
            ("http://h/x.jpg", 0xf8cb_f3e5_01ca_9277, 1, 5),
            ("photos/IMG_0001.JPG", 0x17bb_af0b_7406_b77f, 3, 3),
            ("s3://bucket/k/\u{e9}.png", 0xad4d_1012_14ca_a7b3, 3, 4),
        ];
        for (input, hash, of_4, of_7) in cases {
            assert_eq!(fnv1a(input.as_bytes()), hash, "{input}");
            for (count, index) in [(4, of_4), (7, of_7)] {
                for k in 0..count {
                    let shard = Shard { index: k, count };
                    assert_eq!(shard.contains(input), k == index, "{input} in {shard}");
                }
            }
        }
    }

    #[test]
    fn shard_syntax_is_checked() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["4/4", "1/0", "-1/3", "a/b", "3", "1/2/3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}

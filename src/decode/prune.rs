//! Progressive JPEG scan pruning: at 1/8 scale, skip the AC scans whose coefficients the
//! decoder would read and then never use.
//!
//! At scale 1/8 libjpeg gives a component a 1x1 inverse DCT (it reads the DC coefficient alone)
//! unless the component is subsampled in both directions (jdmaster.c: the IDCT size doubles
//! while `max_h % (2 h) == 0 && max_v % (2 v) == 0`). In a progressive file every AC scan holds
//! one component, so an AC scan (Ss > 0) of such a component is Huffman-decoded for nothing; in
//! a typical camera file those scans are most of the bytes and most of the decode time. This
//! module reads a JPEG's headers to decide ([`plan`]) and hands libjpeg the stream without those
//! scans ([`Pruner`]), everything else byte for byte: tables defined between scans, restart
//! markers, stray bytes. The caller turns libjpeg's block smoothing off for the pruned stream:
//! smoothing guesses the AC coefficients of blocks whose AC bits are unknown, and with the whole
//! file every bit is known, so it does nothing there. A decode is pixel-identical either way
//! (tests/it/prune.rs holds that over sampling shapes, scan scripts and the corpus).
//!
//! Everything here reads untrusted bytes: lengths are bounded by the segment format (at most
//! 65,535), nothing is allocated from a declared size, and anything unexpected passes through
//! untouched for libjpeg to judge.

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use image::metadata::Orientation;

use super::meta;

/// What the headers say, as far as pruning needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub width: u32,
    pub height: u32,
    /// The EXIF orientation, read from the first `Exif` APP1 as the decoder reads it.
    pub orientation: Orientation,
    /// Component ids whose AC scans a 1/8 decode never uses.
    pub dc_only: Vec<u8>,
}

/// Reads the segments before the first scan. `None` unless the file is a baseline-Huffman
/// progressive JPEG (SOF2) with at least one component that a 1/8 decode reads as DC only.
pub fn plan(bytes: &[u8]) -> Option<Header> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut i = 2;
    // The first Exif APP1, read only once the frame says the file is progressive: every baseline
    // JPEG passes through here too, and copying its EXIF to find an orientation was wasted.
    let mut exif = None;
    let mut frame = None;
    while i + 4 <= bytes.len() {
        if bytes[i] != 0xFF {
            return None;
        }
        let marker = bytes[i + 1];
        if marker == 0xFF {
            i += 1;
            continue;
        }
        let length = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        let body = bytes.get(i + 4..i + 2 + length.max(2))?;
        match marker {
            0xDA => break,
            // Any other frame type (baseline, extended, lossless, arithmetic): not pruned.
            0xC0 | 0xC1 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            0xC2 => frame = Some(body),
            0xE1 if exif.is_none() && body.starts_with(b"Exif\0\0") => exif = Some(body),
            _ => {}
        }
        i += 2 + length;
    }
    let frame = frame?;
    // SOF: precision, height, width, component count, then (id, sampling, table) each.
    let (height, width, count) = (
        u32::from(u16::from_be_bytes([*frame.get(1)?, *frame.get(2)?])),
        u32::from(u16::from_be_bytes([*frame.get(3)?, *frame.get(4)?])),
        usize::from(*frame.get(5)?),
    );
    let components = frame.get(6..6 + 3 * count)?;
    let sampling: Vec<(u8, u8, u8)> = components
        .chunks_exact(3)
        .map(|c| (c[0], c[1] >> 4, c[1] & 15))
        .collect();
    if sampling
        .iter()
        .any(|&(_, h, v)| !(1..=4).contains(&h) || !(1..=4).contains(&v))
    {
        return None;
    }
    let max_h = sampling.iter().map(|s| s.1).max()?;
    let max_v = sampling.iter().map(|s| s.2).max()?;
    // jdmaster.c at scale 1/8 (min DCT size 1): the size doubles only while both hold.
    let dc_only: Vec<u8> = sampling
        .iter()
        .filter(|&&(_, h, v)| !(max_h % (2 * h) == 0 && max_v % (2 * v) == 0))
        .map(|&(id, _, _)| id)
        .collect();
    (!dc_only.is_empty() && width > 0 && height > 0).then(|| Header {
        width,
        height,
        orientation: exif
            .and_then(|body| meta::upright_exif(body).1)
            .unwrap_or(Orientation::NoTransforms),
        dc_only,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between segments: stray bytes pass through until an FF.
    Between,
    /// Read FF (and fill bytes); the next byte is the marker code.
    Marker,
    /// Reading the two length bytes (and, for SOS, the header) into `header`.
    Header { sos: bool },
    /// Passing this many bytes of a segment's body straight through.
    Body(usize),
    /// In a scan's entropy-coded data, kept or dropped.
    Entropy { keep: bool },
    /// Read an FF inside entropy-coded data.
    EntropyFf { keep: bool },
    /// After EOI, or anything we do not follow: the rest passes through as it is.
    Raw,
}

/// `inner` without the AC scans of the components in `dc_only`, as a reader.
pub struct Pruner<R> {
    inner: R,
    machine: Machine,
}

/// The pruner's state, apart from its source so both can be borrowed at once.
struct Machine {
    dc_only: Vec<u8>,
    state: State,
    /// A segment's first bytes (FF, fill, code, length, SOS header) until we know their fate.
    header: Vec<u8>,
    /// Bytes decided on and not yet handed out, and how far they have been.
    out: Vec<u8>,
    at: usize,
    /// Entropy-coded bytes of the scans dropped so far: what pruning saved. Shared, because
    /// the decoder owns the reader until it is done.
    skipped: Arc<AtomicU64>,
}

impl<R: BufRead> Pruner<R> {
    pub fn new(inner: R, dc_only: Vec<u8>) -> Self {
        Pruner {
            inner,
            machine: Machine {
                dc_only,
                state: State::Between,
                header: Vec::with_capacity(32),
                out: Vec::with_capacity(64 * 1024),
                at: 0,
                skipped: Arc::default(),
            },
        }
    }

    /// Entropy-coded bytes of the scans dropped so far, readable after the pruner is gone.
    pub fn skipped(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.machine.skipped)
    }
}

impl Machine {
    /// Whether the SOS header in `self.header` (FF.. DA, length, body) is an AC scan of only
    /// DC-only components. A malformed header is kept, for libjpeg to refuse.
    fn drops_scan(&self) -> bool {
        let start = self
            .header
            .iter()
            .position(|&b| b == 0xDA)
            .map_or(0, |p| p + 3);
        let body = &self.header[start..];
        let Some(&count) = body.first() else {
            return false;
        };
        let count = usize::from(count);
        let (Some(ids), Some(&ss)) = (body.get(1..1 + 2 * count), body.get(1 + 2 * count)) else {
            return false;
        };
        count > 0 && ss > 0 && ids.chunks_exact(2).all(|c| self.dc_only.contains(&c[0]))
    }

    /// Moves what `input` decides into `self.out`; returns how many bytes it consumed.
    fn feed(&mut self, input: &[u8]) -> usize {
        let mut skipped = 0;
        let consumed = self.feed_counting(input, &mut skipped);
        self.skipped.fetch_add(skipped, Ordering::Relaxed);
        consumed
    }

    fn feed_counting(&mut self, input: &[u8], skipped: &mut u64) -> usize {
        let mut i = 0;
        while i < input.len() {
            let b = input[i];
            match self.state {
                State::Raw => {
                    self.out.extend_from_slice(&input[i..]);
                    return input.len();
                }
                State::Between => match input[i..].iter().position(|&b| b == 0xFF) {
                    Some(n) => {
                        self.out.extend_from_slice(&input[i..i + n]);
                        self.header.push(0xFF);
                        self.state = State::Marker;
                        i += n + 1;
                        continue;
                    }
                    None => {
                        self.out.extend_from_slice(&input[i..]);
                        return input.len();
                    }
                },
                State::Marker => {
                    self.header.push(b);
                    self.state = match b {
                        0xFF => State::Marker,
                        // EOI: what follows is not ours to judge.
                        0xD9 => {
                            self.out.append(&mut self.header);
                            State::Raw
                        }
                        0xD8 | 0xD0..=0xD7 | 0x01 => {
                            self.out.append(&mut self.header);
                            State::Between
                        }
                        0xDA => State::Header { sos: true },
                        _ => State::Header { sos: false },
                    };
                }
                State::Header { sos } => {
                    self.header.push(b);
                    let code = self.header.iter().position(|&b| b != 0xFF).unwrap_or(0);
                    let have = self.header.len() - code - 1;
                    if have < 2 {
                        i += 1;
                        continue;
                    }
                    let length = usize::from(u16::from_be_bytes([
                        self.header[code + 1],
                        self.header[code + 2],
                    ]));
                    if length < 2 {
                        self.out.append(&mut self.header);
                        self.state = State::Raw;
                    } else if !sos {
                        self.out.append(&mut self.header);
                        self.state = State::Body(length - 2);
                    } else if have == length {
                        let keep = !self.drops_scan();
                        if keep {
                            self.out.append(&mut self.header);
                        } else {
                            self.header.clear();
                        }
                        self.state = State::Entropy { keep };
                    }
                }
                State::Body(0) => {
                    self.state = State::Between;
                    continue;
                }
                State::Body(left) => {
                    let n = left.min(input.len() - i);
                    self.out.extend_from_slice(&input[i..i + n]);
                    self.state = State::Body(left - n);
                    i += n;
                    continue;
                }
                State::Entropy { keep } => {
                    let n = input[i..]
                        .iter()
                        .position(|&b| b == 0xFF)
                        .unwrap_or(input.len() - i);
                    if keep {
                        self.out.extend_from_slice(&input[i..i + n]);
                    } else {
                        *skipped += n as u64;
                    }
                    i += n;
                    if i < input.len() {
                        self.state = State::EntropyFf { keep };
                        i += 1;
                    }
                    continue;
                }
                State::EntropyFf { keep } => match b {
                    // A stuffed FF or a restart marker: still the scan's data.
                    0x00 | 0xD0..=0xD7 => {
                        if keep {
                            self.out.extend_from_slice(&[0xFF, b]);
                        } else {
                            *skipped += 2;
                        }
                        self.state = State::Entropy { keep };
                    }
                    // A fill byte before a marker.
                    0xFF => {
                        if keep {
                            self.out.push(0xFF);
                        }
                    }
                    // A marker: the scan is over, and this segment is judged on its own.
                    _ => {
                        self.header.push(0xFF);
                        self.state = State::Marker;
                        continue;
                    }
                },
            }
            i += 1;
        }
        input.len()
    }
}

impl<R: BufRead> BufRead for Pruner<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let m = &mut self.machine;
        while m.at == m.out.len() {
            m.out.clear();
            m.at = 0;
            let input = self.inner.fill_buf()?;
            if input.is_empty() {
                // The source ended: hand on what was held back, as the whole stream had it.
                match m.state {
                    State::EntropyFf { keep: true } => m.out.push(0xFF),
                    State::Entropy { keep: false } | State::EntropyFf { keep: false } => {}
                    _ => m.out.append(&mut m.header),
                }
                m.header.clear();
                // Said once: the next call finds the source empty again and ends.
                m.state = State::Raw;
                break;
            }
            let consumed = m.feed(input);
            self.inner.consume(consumed);
        }
        Ok(&m.out[m.at..])
    }

    fn consume(&mut self, amount: usize) {
        let m = &mut self.machine;
        m.at = (m.at + amount).min(m.out.len());
    }
}

impl<R: BufRead> Read for Pruner<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = buf.len().min(available.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::{plan, Pruner};
    use std::io::Read;

    /// A tiny progressive-shaped stream: SOI, SOF2 (Y 2x2, Cb 1x1, Cr 1x1), a DC scan of all
    /// three, a Y AC scan (dropped), a DHT between scans, a Cb AC scan (kept) with a restart
    /// marker and a stuffed FF, EOI.
    fn stream() -> Vec<u8> {
        let mut j = vec![0xFF, 0xD8];
        j.extend([
            0xFF, 0xC2, 0, 17, 8, 0, 16, 0, 32, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1,
        ]);
        j.extend([0xFF, 0xDA, 0, 12, 3, 1, 0, 2, 0, 3, 0, 0, 0, 1, 0xAA, 0xBB]);
        j.extend([
            0xFF, 0xDA, 0, 8, 1, 1, 0, 1, 63, 0, 0x11, 0xFF, 0x00, 0x22, 0xFF, 0xD0, 0x33,
        ]);
        j.extend([0xFF, 0xC4, 0, 3, 0x77]);
        j.extend([
            0xFF, 0xDA, 0, 8, 1, 2, 0, 1, 63, 0, 0x44, 0xFF, 0x00, 0xFF, 0xD1, 0x55,
        ]);
        j.extend([0xFF, 0xFF, 0xD9, 0x99]);
        j
    }

    fn pruned(bytes: &[u8], chunk: usize) -> (Vec<u8>, u64) {
        let header = plan(bytes).unwrap();
        // A reader that hands out `chunk` bytes at a time, to cross every boundary.
        let inner = std::io::BufReader::with_capacity(chunk, bytes);
        let mut pruner = Pruner::new(inner, header.dc_only);
        let skipped = pruner.skipped();
        let mut out = Vec::new();
        pruner.read_to_end(&mut out).unwrap();
        (out, skipped.load(std::sync::atomic::Ordering::Relaxed))
    }

    #[test]
    fn only_the_ac_scans_of_dc_only_components_go() {
        let j = stream();
        let header = plan(&j).unwrap();
        assert_eq!((header.width, header.height), (32, 16));
        assert_eq!(header.dc_only, [1], "luma of 4:2:0; chroma gets a 2x2 IDCT");
        let mut expected = j.clone();
        let start = expected
            .windows(4)
            .position(|w| w == [0xFF, 0xDA, 0, 8])
            .unwrap();
        let end = expected.windows(2).position(|w| w == [0xFF, 0xC4]).unwrap();
        expected.drain(start..end);
        for chunk in [1, 2, 3, 5, 7, 64] {
            let (out, skipped) = pruned(&j, chunk);
            assert_eq!(out, expected, "chunk {chunk}");
            assert_eq!(skipped, 7, "chunk {chunk}");
        }
    }

    #[test]
    fn four_four_four_and_four_two_two_chroma_are_dc_only_too() {
        let mut j = stream();
        j[13] = 0x11; // Y 1x1: 4:4:4
        assert_eq!(plan(&j).unwrap().dc_only, [1, 2, 3]);
        j[13] = 0x21; // Y 2x1: 4:2:2, whose chroma is not subsampled vertically
        assert_eq!(plan(&j).unwrap().dc_only, [1, 2, 3]);
        j[3] = 0xC0; // baseline: nothing to prune
        assert_eq!(plan(&j), None);
    }

    #[test]
    fn a_stream_cut_anywhere_never_panics_and_keeps_its_head() {
        let j = stream();
        for cut in 0..j.len() {
            let mut pruner = Pruner::new(&j[..cut], vec![1]);
            let mut out = Vec::new();
            pruner.read_to_end(&mut out).unwrap();
            assert!(out.len() <= cut);
            assert_eq!(out[..out.len().min(2)], j[..out.len().min(2)]);
        }
    }
}

//! Lists too long to hold: sorted in memory-sized runs on disk, or queued in a file.
//!
//! A shard may have millions of inputs, and a run must not need memory in proportion (the
//! planner's repeat and collision checks, failures kept for the report, images waiting for phase
//! two). Whatever would grow with the list goes through here instead: [`Sorter`] sorts records
//! of any count in runs of a few megabytes and merges them back, [`Queue`] keeps records in
//! arrival order. Both write unnamed temporary files (`O_TMPFILE` on Linux) in a folder the
//! caller names, so nothing is left behind even after SIGKILL and nothing lands outside the
//! places the user chose; a run that stays under the limit never touches the disk.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// Buffer of each run being merged.
const READ_BUFFER: usize = 32 * 1024;

/// Runs merged at once. More runs are first merged in groups of this many into longer runs, so
/// the merge's buffers stay the same size however long the list.
const FAN_IN: usize = 16;

/// Something that can be written to a spill file and read back.
pub trait Record: Sized {
    /// What [`Sorter`] orders records by.
    type Key: Ord + Copy;
    fn key(&self) -> Self::Key;
    fn write_to(&self, out: &mut impl Write) -> io::Result<()>;
    /// The next record, or `None` at the end of the file.
    fn read_from(input: &mut impl BufRead) -> io::Result<Option<Self>>;
}

/// Sorts any number of records in at most about `limit` bytes of memory.
///
/// Records are held encoded, end to end in one buffer that is reused run after run, beside an
/// index of their keys: no allocation per record, and nothing that one thread allocates and
/// another frees. (Holding the records themselves, from dozens of download threads, let glibc's
/// per-thread arenas grow with the list: 2,000,000 failures peaked 40% above 1,000,000.)
pub struct Sorter<T: Record> {
    bytes: Vec<u8>,
    /// Each record's key and where its bytes start and end.
    index: Vec<(T::Key, usize, usize)>,
    limit: usize,
    dir: PathBuf,
    runs: Vec<File>,
}

impl<T: Record> Sorter<T> {
    /// Runs spill to `dir` (created if missing) once `limit` bytes of records are held.
    pub fn new(dir: &Path, limit: usize) -> Self {
        Sorter {
            bytes: Vec::new(),
            index: Vec::new(),
            limit,
            dir: dir.to_path_buf(),
            runs: Vec::new(),
        }
    }

    pub fn push(&mut self, record: &T) -> io::Result<()> {
        let start = self.bytes.len();
        record.write_to(&mut self.bytes)?;
        self.index.push((record.key(), start, self.bytes.len()));
        let entry = std::mem::size_of::<(T::Key, usize, usize)>();
        let held = self.bytes.len() + self.index.len() * entry;
        if held >= self.limit {
            self.spill()?;
        }
        Ok(())
    }

    /// Whether any run went to disk.
    pub fn spilled(&self) -> bool {
        !self.runs.is_empty()
    }

    /// The held records' byte ranges, in order; equal keys keep the order they came in.
    fn sorted_ranges(&mut self) -> Vec<Range<usize>> {
        self.index
            .sort_unstable_by_key(|&(key, start, _)| (key, start));
        self.index
            .iter()
            .map(|&(_, start, end)| start..end)
            .collect()
    }

    fn spill(&mut self) -> io::Result<()> {
        let ranges = self.sorted_ranges();
        let mut out = BufWriter::new(unnamed_file(&self.dir)?);
        for range in ranges {
            out.write_all(&self.bytes[range])?;
        }
        self.runs.push(rewound(out)?);
        // The buffers keep their capacity: the next run fills the same memory.
        self.bytes.clear();
        self.index.clear();
        Ok(())
    }

    /// Every record pushed, in order.
    pub fn finish(mut self) -> io::Result<Sorted<T>> {
        if self.runs.is_empty() {
            let ranges = self.sorted_ranges();
            return Ok(Sorted::Held {
                bytes: self.bytes,
                ranges: ranges.into_iter(),
            });
        }
        if !self.index.is_empty() {
            self.spill()?;
        }
        let mut runs = std::mem::take(&mut self.runs);
        while runs.len() > FAN_IN {
            let group: Vec<File> = runs.drain(..FAN_IN).collect();
            runs.push(write_run(&self.dir, merge::<T>(group)?)?);
        }
        merge(runs)
    }

    /// Every record pushed, in order, in one unnamed file in the sorter's folder: for a list
    /// to be read more than once.
    pub fn into_file(self) -> io::Result<File> {
        let dir = self.dir.clone();
        write_run(&dir, self.finish()?)
    }
}

/// `records`, written to an unnamed file in `dir` and rewound for reading.
fn write_run<T: Record>(
    dir: &Path,
    records: impl Iterator<Item = io::Result<T>>,
) -> io::Result<File> {
    let mut out = BufWriter::new(unnamed_file(dir)?);
    for record in records {
        record?.write_to(&mut out)?;
    }
    rewound(out)
}

/// The file behind `out`, flushed and rewound to its start.
fn rewound(out: BufWriter<File>) -> io::Result<File> {
    let mut file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
    file.rewind()?;
    Ok(file)
}

/// Merges sorted runs into one order.
fn merge<T: Record>(runs: Vec<File>) -> io::Result<Sorted<T>> {
    let mut readers: Vec<BufReader<File>> = runs
        .into_iter()
        .map(|f| BufReader::with_capacity(READ_BUFFER, f))
        .collect();
    let mut heads = Vec::with_capacity(readers.len());
    let mut heap = BinaryHeap::with_capacity(readers.len());
    for (run, reader) in readers.iter_mut().enumerate() {
        let head = T::read_from(reader)?;
        if let Some(record) = &head {
            heap.push(Reverse((record.key(), run)));
        }
        heads.push(head);
    }
    Ok(Sorted::Merged {
        readers,
        heads,
        heap,
    })
}

/// The records of a [`Sorter`], smallest first.
pub enum Sorted<T: Record> {
    Held {
        bytes: Vec<u8>,
        ranges: std::vec::IntoIter<Range<usize>>,
    },
    Merged {
        readers: Vec<BufReader<File>>,
        /// The next record of each run.
        heads: Vec<Option<T>>,
        heap: BinaryHeap<Reverse<(T::Key, usize)>>,
    },
}

impl<T: Record> Iterator for Sorted<T> {
    type Item = io::Result<T>;

    fn next(&mut self) -> Option<io::Result<T>> {
        match self {
            Sorted::Held { bytes, ranges } => {
                let range = ranges.next()?;
                T::read_from(&mut &bytes[range])
                    .and_then(|r| r.ok_or_else(|| io::ErrorKind::UnexpectedEof.into()))
                    .into()
            }
            Sorted::Merged {
                readers,
                heads,
                heap,
            } => {
                let Reverse((_, run)) = heap.pop()?;
                let record = heads[run].take()?;
                match T::read_from(&mut readers[run]) {
                    Ok(Some(next)) => {
                        heap.push(Reverse((next.key(), run)));
                        heads[run] = Some(next);
                    }
                    Ok(None) => {}
                    Err(e) => return Some(Err(e)),
                }
                Some(Ok(record))
            }
        }
    }
}

/// Records kept in arrival order in an unnamed file, to be read back once, in that order.
pub struct Queue<T> {
    out: BufWriter<File>,
    count: usize,
    _records: std::marker::PhantomData<T>,
}

impl<T: Record> Queue<T> {
    pub fn new(dir: &Path) -> io::Result<Self> {
        Ok(Queue {
            out: BufWriter::new(unnamed_file(dir)?),
            count: 0,
            _records: std::marker::PhantomData,
        })
    }

    pub fn push(&mut self, record: &T) -> io::Result<()> {
        self.count += 1;
        record.write_to(&mut self.out)
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The records, first pushed first.
    pub fn drain(self) -> io::Result<impl Iterator<Item = io::Result<T>>> {
        let mut reader = BufReader::with_capacity(READ_BUFFER, rewound(self.out)?);
        Ok(std::iter::from_fn(move || {
            T::read_from(&mut reader).transpose()
        }))
    }
}

/// A file with no name in `dir`: it disappears when closed, or when the process dies.
fn unnamed_file(dir: &Path) -> io::Result<File> {
    std::fs::create_dir_all(dir)?;
    tempfile::tempfile_in(dir)
}

/// A pair of keys, as the planner sorts them.
impl Record for (u64, u64) {
    type Key = (u64, u64);

    fn key(&self) -> (u64, u64) {
        *self
    }

    fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(&self.0.to_le_bytes())?;
        out.write_all(&self.1.to_le_bytes())
    }

    fn read_from(input: &mut impl BufRead) -> io::Result<Option<Self>> {
        let mut bytes = [0u8; 16];
        if input.fill_buf()?.is_empty() {
            return Ok(None);
        }
        input.read_exact(&mut bytes)?;
        let (a, b) = bytes.split_at(8);
        Ok(Some((
            u64::from_le_bytes(a.try_into().expect("8 bytes")),
            u64::from_le_bytes(b.try_into().expect("8 bytes")),
        )))
    }
}

/// Writes a length-prefixed field.
pub fn write_field(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    let len = u32::try_from(bytes.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "field over 4 GiB"))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(bytes)
}

/// Reads a field written by [`write_field`]; `None` at the end of the file.
pub fn read_field(input: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    if input.fill_buf()?.is_empty() {
        return Ok(None);
    }
    let mut len = [0u8; 4];
    input.read_exact(&mut len)?;
    let mut bytes = vec![0u8; u32::from_le_bytes(len) as usize];
    input.read_exact(&mut bytes)?;
    Ok(Some(bytes))
}

/// Reads a field that must be there: the end of the file in the middle of a record is an error.
pub fn read_more(input: &mut impl BufRead) -> io::Result<Vec<u8>> {
    read_field(input)?.ok_or_else(|| io::ErrorKind::UnexpectedEof.into())
}

/// Reads a field of text that must be there.
pub fn read_text(input: &mut impl BufRead) -> io::Result<String> {
    String::from_utf8(read_more(input)?).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Writes a number as a field: how records start, with their place in the list.
pub fn write_u64(out: &mut impl Write, n: u64) -> io::Result<()> {
    write_field(out, &n.to_le_bytes())
}

/// Reads a number written by [`write_u64`]; `None` at the end of the file, between records.
pub fn read_u64(input: &mut impl BufRead) -> io::Result<Option<u64>> {
    let Some(bytes) = read_field(input)? else {
        return Ok(None);
    };
    let bytes = bytes
        .try_into()
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
    Ok(Some(u64::from_le_bytes(bytes)))
}

#[cfg(test)]
mod tests {
    use super::{Queue, Sorter};

    #[test]
    fn sorts_many_runs_back_into_one_order() {
        let dir = tempfile::tempdir().unwrap();
        // 16 bytes a record, 1,000 bytes a run: 100,000 records make 1,600 runs.
        let mut sorter = Sorter::new(dir.path(), 1000);
        let mut expected = Vec::new();
        for i in 0..100_000u64 {
            let pair = (i.wrapping_mul(0x9e37_79b9_7f4a_7c15) % 5000, i);
            expected.push(pair);
            sorter.push(&pair).unwrap();
        }
        assert!(sorter.spilled());
        expected.sort_unstable();
        let sorted: Vec<(u64, u64)> = sorter.finish().unwrap().map(Result::unwrap).collect();
        assert_eq!(sorted, expected);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "the runs have no names"
        );
    }

    #[test]
    fn small_sorts_stay_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let mut sorter = Sorter::new(&dir.path().join("never"), 1 << 20);
        for i in (0..100u64).rev() {
            sorter.push(&(i, 0)).unwrap();
        }
        assert!(!sorter.spilled());
        let first: Vec<_> = sorter
            .finish()
            .unwrap()
            .take(2)
            .map(Result::unwrap)
            .collect();
        assert_eq!(first, [(0, 0), (1, 0)]);
        assert!(!dir.path().join("never").exists(), "no folder was made");
    }

    #[test]
    fn a_queue_gives_back_what_it_took_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut queue = Queue::new(dir.path()).unwrap();
        for i in 0..10_000u64 {
            queue.push(&(i, i * 2)).unwrap();
        }
        assert_eq!(queue.len(), 10_000);
        let back: Vec<(u64, u64)> = queue.drain().unwrap().map(Result::unwrap).collect();
        assert_eq!(back.len(), 10_000);
        assert!(back
            .iter()
            .enumerate()
            .all(|(i, p)| *p == (i as u64, i as u64 * 2)));
    }
}

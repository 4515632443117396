//! Jobs waiting their turn, kept on disk rather than in memory, and the window that hands the
//! largest of them to phase two first.

use std::collections::BinaryHeap;
use std::io::{self, BufRead, Write};
use std::path::PathBuf;

use crate::download::Task;
use crate::inputs::Origin;
use crate::plan::Job;
use crate::recipe::Source;
use crate::spill::{self, Record};

/// A job that is to be fetched or resized, its bytes' place on disk (where a download goes, or
/// where the file already is) and its place in the list, for the report's order.
#[derive(Debug)]
pub(crate) struct Queued {
    pub order: u64,
    pub job: Job,
    pub path: PathBuf,
    /// The bytes' identity (`recipe::Source`): for a URL, before the download the validator to
    /// send, after it what the server said of the bytes that landed; for a local file, what
    /// planning found (its stat, or its hash with `--checksum`), so phase two need not hash
    /// it again.
    pub source: Option<Source>,
    /// Fetched by this run and holding one of `--discard-downloads`' permits until deleted.
    /// Only set on the way from phase one to phase two with `--overlap`; never spilled.
    pub holds_permit: bool,
}

impl Queued {
    /// The download of a URL job.
    pub fn task(&self) -> Option<Task> {
        match &self.job.origin {
            Origin::Url(url) => Some(Task {
                input: self.job.input.clone(),
                url: url.clone(),
                dest: self.path.clone(),
                validator: self.source.clone(),
            }),
            Origin::File(_) => None,
        }
    }
}

#[cfg(unix)]
fn path_bytes(path: &std::path::Path) -> &[u8] {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes()
}

#[cfg(unix)]
fn path_from(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn path_bytes(path: &std::path::Path) -> &[u8] {
    // Paths that are not Unicode cannot be listed on these systems in the first place.
    path.to_str().unwrap_or_default().as_bytes()
}

#[cfg(not(unix))]
fn path_from(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}

impl Record for Queued {
    type Key = u64;

    fn key(&self) -> u64 {
        self.order
    }

    /// The order, the input, the origin (a tag, then the URL or the path), the stem, the
    /// incoming name (a tag, then the name if there is one) and the path.
    fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        spill::write_u64(out, self.order)?;
        spill::write_field(out, self.job.input.as_bytes())?;
        match &self.job.origin {
            Origin::Url(url) => {
                spill::write_field(out, b"u")?;
                spill::write_field(out, url.as_bytes())?;
            }
            Origin::File(path) => {
                spill::write_field(out, b"f")?;
                spill::write_field(out, path_bytes(path))?;
            }
        }
        spill::write_field(out, self.job.stem.as_bytes())?;
        match &self.job.incoming_name {
            Some(name) => {
                spill::write_field(out, b"s")?;
                spill::write_field(out, name.as_bytes())?;
            }
            None => spill::write_field(out, b"n")?,
        }
        spill::write_field(out, path_bytes(&self.path))?;
        let source = self.source.as_ref().map(Source::text).unwrap_or_default();
        spill::write_field(out, source.as_bytes())
    }

    fn read_from(input: &mut impl BufRead) -> io::Result<Option<Self>> {
        let Some(order) = spill::read_u64(input)? else {
            return Ok(None);
        };
        let bad = || io::Error::from(io::ErrorKind::InvalidData);
        let job_input = spill::read_text(input)?;
        let origin = match spill::read_more(input)?.as_slice() {
            b"u" => Origin::Url(spill::read_text(input)?),
            b"f" => Origin::File(path_from(spill::read_more(input)?)),
            _ => return Err(bad()),
        };
        let stem = spill::read_text(input)?;
        let incoming_name = match spill::read_more(input)?.as_slice() {
            b"s" => Some(spill::read_text(input)?),
            b"n" => None,
            _ => return Err(bad()),
        };
        let path = path_from(spill::read_more(input)?);
        let source = spill::read_text(input)?;
        Ok(Some(Queued {
            holds_permit: false,
            source: Source::parse(&source),
            order,
            job: Job {
                input: job_input,
                origin,
                stem,
                incoming_name,
                listed: None,
            },
            path,
        }))
    }
}

/// Images that a thread waiting for its next one can pick from: the largest first.
const WINDOW: usize = 1024;

/// Hands on `items` largest first within a window of the next [`WINDOW`] items, so memory stays
/// bounded; the window drains in size order at the end. One big progressive JPEG started last
/// would otherwise leave the other cores idle at the end of the phase.
pub(crate) fn largest_first(items: impl Iterator<Item = Queued>) -> impl Iterator<Item = Queued> {
    let mut items = items.fuse();
    let mut window: BinaryHeap<BySize> = BinaryHeap::with_capacity(WINDOW);
    std::iter::from_fn(move || {
        while window.len() < WINDOW {
            let Some(item) = items.next() else { break };
            let size = std::fs::metadata(&item.path).map_or(0, |m| m.len());
            window.push(BySize(size, item));
        }
        window.pop().map(|BySize(_, item)| item)
    })
}

struct BySize(u64, Queued);

impl PartialEq for BySize {
    fn eq(&self, other: &Self) -> bool {
        (self.0, self.1.order) == (other.0, other.1.order)
    }
}
impl Eq for BySize {}
impl PartialOrd for BySize {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for BySize {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // Equal sizes go in list order.
        (self.0, std::cmp::Reverse(self.1.order)).cmp(&(other.0, std::cmp::Reverse(other.1.order)))
    }
}

#[cfg(test)]
mod tests {
    use super::{largest_first, Queued};
    use crate::inputs::Origin;
    use crate::plan::Job;
    use crate::recipe::Source;
    use crate::spill::Queue;

    fn queued(order: u64, path: std::path::PathBuf, url: bool) -> Queued {
        let origin = if url {
            Origin::Url(format!("http://h/{order}.jpg"))
        } else {
            Origin::File(path.clone())
        };
        Queued {
            order,
            job: Job {
                input: format!("in {order} ✓"),
                incoming_name: url.then(|| format!("{order}.jpg")),
                origin,
                stem: format!("{order}"),
                listed: None,
            },
            path,
            source: url.then(|| Source::Etag(format!("\"v{order}\""))),
            holds_permit: false,
        }
    }

    #[test]
    fn jobs_come_back_from_disk_as_they_went_in() {
        let dir = tempfile::tempdir().unwrap();
        let mut queue = Queue::new(dir.path()).unwrap();
        let items: Vec<Queued> = (0..50)
            .map(|i| queued(i, dir.path().join(format!("{i}.jpg")), i % 2 == 0))
            .collect();
        for item in &items {
            queue.push(item).unwrap();
        }
        let back: Vec<Queued> = queue.drain().unwrap().map(Result::unwrap).collect();
        assert_eq!(back.len(), 50);
        for (a, b) in items.iter().zip(&back) {
            assert_eq!((a.order, &a.job, &a.path), (b.order, &b.job, &b.path));
        }
        assert_eq!(back[0].task().unwrap().url, "http://h/0.jpg");
        assert!(back[1].task().is_none());
    }

    #[test]
    fn the_window_drains_largest_first() {
        let dir = tempfile::tempdir().unwrap();
        let items: Vec<Queued> = [3usize, 1, 4, 1, 5]
            .iter()
            .enumerate()
            .map(|(i, &size)| {
                let path = dir.path().join(format!("{i}"));
                std::fs::write(&path, vec![0u8; size]).unwrap();
                queued(i as u64, path, false)
            })
            .collect();
        let orders: Vec<u64> = largest_first(items.into_iter()).map(|q| q.order).collect();
        assert_eq!(orders, [4, 2, 0, 1, 3]);
    }
}

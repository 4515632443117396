//! Inputs that reach past the local disk while planning: an `s3://` prefix is listed here, a
//! page at a time, into the same entries a folder gives (`inputs::expand_one`).
//!
//! Its own module because listing needs phase one's client (`download`), which `inputs` must
//! not import: `download` writes through `output`, which names files through `inputs`.

use std::path::Path;

use crate::download::{Fetcher, NetOptions};
use crate::failure::{Failure, Stage};
use crate::inputs::{expand_one, is_image_name, Origin};
use crate::recipe::Source;
use crate::s3;
use crate::safety::Fence;

/// What expanding an input may reach beyond its own text: the fence around the output folder,
/// and an S3 client for listing prefixes (made at the first `s3://` input).
pub struct Reach {
    pub fence: Fence,
    net: Option<NetOptions>,
    lister: std::sync::OnceLock<Fetcher>,
}

impl Reach {
    /// Local inputs and URLs only: an `s3://` input is refused.
    pub fn local(fence: Fence) -> Self {
        Reach {
            fence,
            net: None,
            lister: std::sync::OnceLock::new(),
        }
    }

    /// Everything, S3 prefixes listed with `net`'s limits, endpoint and credentials.
    pub fn with_s3(fence: Fence, net: &NetOptions) -> Self {
        Reach {
            net: Some(net.clone()),
            ..Reach::local(fence)
        }
    }

    fn lister(&self) -> Option<&Fetcher> {
        let net = self.net.as_ref()?;
        Some(self.lister.get_or_init(|| Fetcher::new(net)))
    }
}

/// One input an argument or a list line gave.
pub struct Entry {
    pub input: String,
    pub origin: Origin,
    /// What the listing said the object is (its ETag): enough to tell, with no request, that
    /// its thumbnails are current.
    pub listed: Option<Source>,
}

/// The entries of one input, as they come: an S3 prefix is listed a page at a time, never held.
pub type Entries<'a> = Box<dyn Iterator<Item = Result<Entry, Failure>> + 'a>;

/// [`expand_one`], with `s3://` objects and prefixes too.
pub fn expand<'a>(input: &str, reach: &'a Reach) -> Entries<'a> {
    if !s3::is_s3(input) {
        let entries = expand_one(input, &reach.fence).into_iter();
        return Box::new(entries.map(|entry| {
            entry.map(|(input, origin)| Entry {
                input,
                origin,
                listed: None,
            })
        }));
    }
    let refuse = |why: String| -> Entries<'a> {
        Box::new(std::iter::once(Err(Failure {
            input: input.to_string(),
            stage: Stage::Input,
            error: why,
        })))
    };
    let (bucket, key) = match s3::split(input) {
        Ok(parts) => parts,
        Err(e) => return refuse(e.to_string()),
    };
    if !key.is_empty() && !key.ends_with('/') {
        return Box::new(std::iter::once(Ok(Entry {
            input: input.to_string(),
            origin: Origin::Url(input.to_string()),
            listed: None,
        })));
    }
    let Some(lister) = reach.lister() else {
        return refuse("S3 prefixes cannot be listed here".to_string());
    };
    Box::new(Listing {
        lister,
        input: input.to_string(),
        bucket,
        prefix: key,
        page: Vec::new().into_iter(),
        next: Some(None),
        images: 0,
        keys: 0,
    })
}

/// The image keys under an S3 prefix, a page (1,000 keys) at a time.
struct Listing<'a> {
    lister: &'a Fetcher,
    input: String,
    bucket: String,
    prefix: String,
    page: std::vec::IntoIter<s3::Listed>,
    /// The next page to ask for: `Some(None)` the first, `Some(Some(token))` a later one,
    /// `None` when the listing is over.
    next: Option<Option<String>>,
    images: usize,
    /// Keys listed so far (`usize::MAX` once a failed or empty listing was reported).
    keys: usize,
}

impl Iterator for Listing<'_> {
    type Item = Result<Entry, Failure>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(s3::Listed { key, etag, .. }) = self.page.next() {
                if !is_image_name(Path::new(&key)) {
                    continue;
                }
                self.images += 1;
                let object = format!("s3://{}/{key}", self.bucket);
                return Some(match s3::check_key(&key) {
                    Ok(()) => Ok(Entry {
                        input: object.clone(),
                        origin: Origin::Url(object),
                        listed: etag.map(Source::Etag),
                    }),
                    Err(e) => Err(Failure {
                        input: object.escape_default().to_string(),
                        stage: Stage::Input,
                        error: e.to_string(),
                    }),
                });
            }
            let Some(token) = self.next.take() else {
                // Over: a prefix that gave no image at all says so, once, as a folder of no
                // images would be a mistake worth a line.
                if self.images > 0 || self.keys == usize::MAX {
                    return None;
                }
                let error = match self.keys {
                    0 => "no objects under this prefix".to_string(),
                    n => format!("no images under this prefix ({n} objects, none named as one)"),
                };
                self.keys = usize::MAX;
                return Some(Err(Failure {
                    input: self.input.clone(),
                    stage: Stage::Input,
                    error,
                }));
            };
            match self
                .lister
                .list_page(&self.bucket, &self.prefix, token.as_deref())
            {
                Ok((keys, next)) => {
                    self.keys += keys.len();
                    self.page = keys.into_iter();
                    self.next = next.map(Some);
                }
                Err(e) => {
                    // Said once; the listing is over.
                    self.keys = usize::MAX;
                    let failure = Failure::new(&self.input, Stage::Input, &e);
                    return Some(Err(Failure {
                        error: format!("listing failed: {}", failure.error),
                        ..failure
                    }));
                }
            }
        }
    }
}

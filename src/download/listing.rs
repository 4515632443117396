//! S3 listings, fetched by phase one's client while planning (`reach.rs` asks, and `upload.rs`
//! for an output prefix), and the writes: thumbnails and their records under `-o s3://...`,
//! and `--report s3://...`.

use super::{status_error, DownloadError, Fetcher};
use crate::s3;

impl Fetcher {
    /// One page of an S3 listing: its objects and the next page's token.
    pub fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        token: Option<&str>,
    ) -> Result<(Vec<s3::Listed>, Option<String>), DownloadError> {
        let what = format!("s3://{bucket}/{prefix}");
        let body = self.retrying(&what, &|_, _| {}, || {
            let signed = self.s3.list(bucket, prefix, token)?;
            self.get_text(&signed)
        })?;
        Ok(s3::parse_listing(&body)?)
    }

    /// A small text object (a record), retrying transient failures.
    pub fn get_text_object(&self, bucket: &str, key: &str) -> Result<String, DownloadError> {
        let what = format!("s3://{bucket}/{key}");
        self.retrying(&what, &|_, _| {}, || {
            let signed = self.s3.get(bucket, key)?;
            self.get_text(&signed)
        })
    }

    /// A small text body (a listing page), capped at `max_bytes`.
    fn get_text(&self, signed: &s3::Signed) -> Result<String, DownloadError> {
        let request = with_signature(self.agent.get(&signed.url), signed);
        let response = request.call().map_err(DownloadError::Transport)?;
        accepted(response, false)?
            .body_mut()
            .with_config()
            .limit(self.max_bytes)
            .read_to_string()
            .map_err(DownloadError::Transport)
    }

    /// Uploads `body` to `s3://bucket/key` with `content_type`, retrying transient failures.
    pub fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: &[u8],
        content_type: &str,
    ) -> Result<(), DownloadError> {
        let what = format!("s3://{bucket}/{key}");
        let sha = s3::sha256_hex(body);
        self.retrying(&what, &|_, _| {}, || {
            let signed = self.s3.put(bucket, key, &sha)?;
            let request = self
                .agent
                .put(&signed.url)
                .header("content-type", content_type);
            let response = with_signature(request, &signed)
                .send(body)
                .map_err(DownloadError::Transport)?;
            accepted(response, false).map(drop)
        })
    }

    /// Removes `s3://bucket/key`, retrying transient failures; a key already gone is no error
    /// (S3 answers 204 either way).
    pub fn delete_object(&self, bucket: &str, key: &str) -> Result<(), DownloadError> {
        let what = format!("s3://{bucket}/{key}");
        self.retrying(&what, &|_, _| {}, || {
            let signed = self.s3.delete(bucket, key)?;
            let request = with_signature(self.agent.delete(&signed.url), &signed);
            let response = request.call().map_err(DownloadError::Transport)?;
            accepted(response, true).map(drop)
        })
    }
}

/// `request` with the signer's headers.
fn with_signature<B>(
    mut request: ureq::RequestBuilder<B>,
    signed: &s3::Signed,
) -> ureq::RequestBuilder<B> {
    for (name, value) in &signed.headers {
        request = request.header(name, value);
    }
    request
}

/// The response if the store accepted the request (a 2xx, or with `gone_is_fine` a 404),
/// else the refusal with the store's own reason.
fn accepted(
    mut response: ureq::http::Response<ureq::Body>,
    gone_is_fine: bool,
) -> Result<ureq::http::Response<ureq::Body>, DownloadError> {
    let status = response.status().as_u16();
    if (200..300).contains(&status) || (gone_is_fine && status == 404) {
        Ok(response)
    } else {
        Err(status_error(&mut response))
    }
}

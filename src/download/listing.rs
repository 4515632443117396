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
        let mut request = self.agent.get(&signed.url);
        for (name, value) in &signed.headers {
            request = request.header(name, value);
        }
        let mut response = request.call().map_err(DownloadError::Transport)?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(status_error(&mut response));
        }
        response
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
            let mut request = self
                .agent
                .put(&signed.url)
                .header("content-type", content_type);
            for (name, value) in &signed.headers {
                request = request.header(name, value);
            }
            let mut response = request.send(body).map_err(DownloadError::Transport)?;
            let status = response.status().as_u16();
            if !(200..300).contains(&status) {
                return Err(status_error(&mut response));
            }
            Ok(())
        })
    }

    /// Removes `s3://bucket/key`, retrying transient failures; a key already gone is no error
    /// (S3 answers 204 either way).
    pub fn delete_object(&self, bucket: &str, key: &str) -> Result<(), DownloadError> {
        let what = format!("s3://{bucket}/{key}");
        self.retrying(&what, &|_, _| {}, || {
            let signed = self.s3.delete(bucket, key)?;
            let mut request = self.agent.delete(&signed.url);
            for (name, value) in &signed.headers {
                request = request.header(name, value);
            }
            let mut response = request.call().map_err(DownloadError::Transport)?;
            let status = response.status().as_u16();
            if !(200..300).contains(&status) && status != 404 {
                return Err(status_error(&mut response));
            }
            Ok(())
        })
    }
}

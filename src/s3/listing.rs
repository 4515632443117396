//! ListObjectsV2 answers, read for what a listing needs: the keys, their sizes and the next page.

use super::S3Error;

/// One listed object: its key, its length in bytes, and its ETag as a GET would give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    pub size: u64,
    pub etag: Option<String>,
}

/// One page of a ListObjectsV2 answer: its objects, and the token of the next page if there is
/// one. Only the tags that matter are read (`<Contents><Key>`, `<Size>` and `<ETag>`,
/// `<NextContinuationToken>` when `<IsTruncated>` is true), their text unescaped; anything that
/// is not such an answer fails.
pub fn parse_listing(xml: &str) -> Result<(Vec<Listed>, Option<String>), S3Error> {
    if !xml.contains("<ListBucketResult") {
        let start: String = xml.chars().take(60).collect();
        return Err(S3Error::Listing(format!(
            "no ListBucketResult in {start:?}"
        )));
    }
    let mut keys = Vec::new();
    let mut rest = xml;
    while let Some(at) = rest.find("<Contents>") {
        let block = &rest[at..];
        let end = block
            .find("</Contents>")
            .ok_or_else(|| S3Error::Listing("a <Contents> is not closed".into()))?;
        let key = text_of(&block[..end], "Key")?
            .ok_or_else(|| S3Error::Listing("a <Contents> has no <Key>".into()))?;
        // A store that leaves the size out lists it as 0: never taken for a thumbnail made.
        let size = text_of(&block[..end], "Size")?
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        let etag = text_of(&block[..end], "ETag")?.filter(|e| !e.is_empty());
        keys.push(Listed { key, size, etag });
        rest = &block[end..];
    }
    let truncated = text_of(xml, "IsTruncated")?.is_some_and(|t| t == "true");
    let token =
        if truncated {
            Some(text_of(xml, "NextContinuationToken")?.ok_or_else(|| {
                S3Error::Listing("truncated without a NextContinuationToken".into())
            })?)
        } else {
            None
        };
    Ok((keys, token))
}

/// The unescaped text of the first `<tag>` in `xml`.
fn text_of(xml: &str, tag: &str) -> Result<Option<String>, S3Error> {
    let open = format!("<{tag}>");
    let Some(start) = xml.find(&open).map(|i| i + open.len()) else {
        return Ok(None);
    };
    let end = xml[start..]
        .find(&format!("</{tag}>"))
        .ok_or_else(|| S3Error::Listing(format!("<{tag}> is not closed")))?;
    unescape(&xml[start..start + end]).map(Some)
}

/// XML's five entities and character references.
fn unescape(text: &str) -> Result<String, S3Error> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..]
            .find(';')
            .ok_or_else(|| S3Error::Listing("an & without its ;".into()))?;
        let entity = &rest[at + 1..at + end];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .map(|hex| u32::from_str_radix(hex, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        out.push(c.ok_or_else(|| S3Error::Listing(format!("unknown entity &{entity};")))?);
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::{parse_listing, Listed};

    #[test]
    fn listings_are_read_unescaped_and_anything_else_refused() {
        let page = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><IsTruncated>true</IsTruncated>
<Contents><Key>a &amp; b/x&#233;.jpg</Key><ETag>&quot;e&quot;</ETag><Size>3</Size></Contents>
<Contents><Key>c.png</Key></Contents><NextContinuationToken>t+k=</NextContinuationToken></ListBucketResult>"#;
        let (keys, token) = parse_listing(page).unwrap();
        let listed = |key: &str, size, etag: Option<&str>| Listed {
            key: key.to_string(),
            size,
            etag: etag.map(str::to_string),
        };
        assert_eq!(
            keys,
            [
                listed("a & b/x\u{e9}.jpg", 3, Some("\"e\"")),
                listed("c.png", 0, None)
            ]
        );
        assert_eq!(token.as_deref(), Some("t+k="));
        let last = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";
        assert_eq!(parse_listing(last).unwrap(), (vec![], None));
        assert!(parse_listing("<html>oops</html>").is_err());
        assert!(parse_listing("<ListBucketResult><Contents><Key>a").is_err());
        assert!(
            parse_listing("<ListBucketResult><Contents><Key>&bogus;</Key></Contents>").is_err()
        );
    }
}

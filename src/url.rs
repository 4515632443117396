//! What an http(s) URL must look like before we send it anywhere, how it is shown, and where a
//! redirect leads.
//!
//! The HTTP client is forgiving in ways that hurt: a port of 99999 became port 80, and a redirect
//! to `file:///etc/passwd` became a request for `/file:///etc/passwd` on the same host. So every
//! URL, given or redirected to, is checked here first. Passwords never leave this module in
//! clear: [`redact`] is what reports, logs and messages print. This module does no I/O.

use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("unsupported URL scheme {0}: (only http and https)")]
    Scheme(String),
    #[error("malformed URL: {0}")]
    Malformed(&'static str),
    #[error("malformed URL: port {0} is not a number from 1 to 65535")]
    Port(String),
}

/// The parts of `scheme://userinfo@host:port/rest` we need, borrowed from the text.
struct Parts<'a> {
    scheme: &'a str,
    userinfo: Option<&'a str>,
    /// `host` or `host:port`, brackets of an IPv6 address included.
    host_port: &'a str,
    /// From the first `/`, `?` or `#` on (may be empty).
    rest: &'a str,
}

/// The scheme of `text` if it starts like a URL (`letters:`), lower-cased. Single letters are
/// not schemes, so a Windows drive (`C:`) is not taken for one.
pub fn scheme_of(text: &str) -> Option<String> {
    let (scheme, _) = text.split_once(':')?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    let valid = first.is_ascii_alphabetic()
        && scheme.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then(|| scheme.to_ascii_lowercase())
}

fn split(url: &str) -> Result<Parts<'_>, UrlError> {
    let scheme = scheme_of(url).ok_or(UrlError::Malformed("no scheme"))?;
    if scheme != "http" && scheme != "https" {
        return Err(UrlError::Scheme(scheme));
    }
    let after = &url[scheme.len() + 1..];
    let Some(after) = after.strip_prefix("//") else {
        return Err(UrlError::Malformed(
            "the scheme must be followed by // and a host",
        ));
    };
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(end);
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((user, host)) => (Some(user), host),
        None => (None, authority),
    };
    Ok(Parts {
        scheme: &url[..scheme.len()],
        userinfo,
        host_port,
        rest,
    })
}

/// Checks that `url` is an http(s) URL with a host and, if it names one, a valid port.
pub fn check(url: &str) -> Result<(), UrlError> {
    let parts = split(url)?;
    let (host, port) = if let Some(v6) = parts.host_port.strip_prefix('[') {
        let (addr, after) = v6
            .split_once(']')
            .ok_or(UrlError::Malformed("an IPv6 address without its closing ]"))?;
        if addr.is_empty() {
            return Err(UrlError::Malformed("no host"));
        }
        match after {
            "" => (addr, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (addr, Some(port)),
                None => return Err(UrlError::Malformed("text after the IPv6 address")),
            },
        }
    } else {
        match parts.host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (parts.host_port, None),
        }
    };
    if host.is_empty() {
        return Err(UrlError::Malformed("no host"));
    }
    if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(UrlError::Malformed(
            "a space or control character in the host",
        ));
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && (1..=65535).contains(&port.parse::<u32>().unwrap_or(0));
        if !valid {
            return Err(UrlError::Port(port.to_string()));
        }
    }
    Ok(())
}

/// `url` with its password replaced by `***`: what we print and store. A URL that cannot be
/// split is returned whole (it will fail as malformed, and holds no host to protect).
pub fn redact(url: &str) -> Cow<'_, str> {
    let Ok(parts) = split(url) else {
        return Cow::Borrowed(url);
    };
    match parts.userinfo.and_then(|u| u.split_once(':')) {
        Some((user, _password)) => Cow::Owned(format!(
            "{}://{user}:***@{}{}",
            parts.scheme, parts.host_port, parts.rest
        )),
        None => Cow::Borrowed(url),
    }
}

/// Whether `a` and `b` name the same scheme, host and port: credentials given for one (an
/// `Authorization` or `Cookie` header) are not sent to the other after a redirect, as curl
/// does.
pub fn same_origin(a: &str, b: &str) -> bool {
    match (split(a), split(b)) {
        (Ok(a), Ok(b)) => {
            a.scheme.eq_ignore_ascii_case(b.scheme) && a.host_port.eq_ignore_ascii_case(b.host_port)
        }
        _ => false,
    }
}

/// Where a redirect from `base` to `location` (a `Location` header) leads, checked like any
/// URL: other schemes (`file:`, `ftp:`, `data:`) are refused, never requested as a path.
pub fn resolve(base: &str, location: &str) -> Result<String, UrlError> {
    let location = location.trim();
    let target = if scheme_of(location).is_some() {
        location.to_string()
    } else {
        let parts = split(base)?;
        let origin = match parts.userinfo {
            Some(user) => format!("{}://{user}@{}", parts.scheme, parts.host_port),
            None => format!("{}://{}", parts.scheme, parts.host_port),
        };
        if location.starts_with("//") {
            format!("{}:{location}", parts.scheme)
        } else if location.starts_with('/') {
            format!("{origin}{location}")
        } else {
            // Relative to the base's folder; the server resolves any dot segments.
            let path = parts.rest.split(['?', '#']).next().unwrap_or("");
            let folder = path.rsplit_once('/').map_or("", |(dir, _)| dir);
            format!("{origin}{folder}/{location}")
        }
    };
    check(&target)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::{check, redact, resolve, scheme_of, UrlError};

    #[test]
    fn ports_hosts_and_schemes_are_checked() {
        for good in [
            "http://h/x.jpg",
            "https://h:8443/x.jpg",
            "http://127.0.0.1:65535",
            "http://[::1]:8080/a",
            "HTTP://h?x",
            "http://u:p@h:1/x",
        ] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
        assert_eq!(
            check("http://h:99999/x"),
            Err(UrlError::Port("99999".into()))
        );
        assert_eq!(
            check("http://h:65536/x"),
            Err(UrlError::Port("65536".into()))
        );
        assert_eq!(check("http://h:0/x"), Err(UrlError::Port("0".into())));
        assert_eq!(check("http://h:/x"), Err(UrlError::Port(String::new())));
        assert_eq!(check("http://h:8o/x"), Err(UrlError::Port("8o".into())));
        assert_eq!(check("http://"), Err(UrlError::Malformed("no host")));
        assert_eq!(check("http://u:p@/x"), Err(UrlError::Malformed("no host")));
        assert_eq!(check("http://[]/x"), Err(UrlError::Malformed("no host")));
        assert!(check("http:/host/x.jpg")
            .unwrap_err()
            .to_string()
            .contains("followed by //"));
        assert_eq!(
            check("data:image/png;base64,AA"),
            Err(UrlError::Scheme("data".into()))
        );
        assert_eq!(scheme_of("C:\\x.jpg"), None);
        assert_eq!(scheme_of("photo.jpg"), None);
    }

    #[test]
    fn passwords_are_redacted_users_kept() {
        assert_eq!(
            redact("http://alice:s3cret@h:81/a/b.jpg?q"),
            "http://alice:***@h:81/a/b.jpg?q"
        );
        assert_eq!(redact("https://alice@h/x"), "https://alice@h/x");
        assert_eq!(redact("http://h/a@b.jpg"), "http://h/a@b.jpg");
        assert_eq!(redact("not a url"), "not a url");
    }

    #[test]
    fn redirects_resolve_like_a_browser_and_refuse_other_schemes() {
        let base = "http://u:p@h:8/a/b/c.jpg?x=1";
        assert_eq!(resolve(base, "/d.jpg").unwrap(), "http://u:p@h:8/d.jpg");
        assert_eq!(resolve(base, "d.jpg").unwrap(), "http://u:p@h:8/a/b/d.jpg");
        assert_eq!(resolve(base, "//o/e.jpg").unwrap(), "http://o/e.jpg");
        assert_eq!(resolve(base, "https://o/f").unwrap(), "https://o/f");
        assert_eq!(
            resolve(base, "file:///etc/passwd"),
            Err(UrlError::Scheme("file".into()))
        );
        assert_eq!(
            resolve(base, "http://o:70000/"),
            Err(UrlError::Port("70000".into()))
        );
    }
}

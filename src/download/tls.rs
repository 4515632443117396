//! Which certificate authorities HTTPS downloads trust, decided as curl decides: the bundle of
//! `--cacert FILE`, else that of `SSL_CERT_FILE`, else the platform's store (on Linux the
//! distribution's bundle, where a company adds its own CA; on macOS and Windows the system's),
//! and only on a machine that has none, such as a scratch container, the Mozilla roots built
//! into the binary. Before this, only the built-in roots were trusted, so a company's CA or an
//! intercepting proxy's could not be.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ureq::tls::{parse_pem, Certificate, PemItem, RootCerts};

/// The authorities to trust.
#[derive(Debug, Clone, Default)]
pub enum Trust {
    /// The platform's store, else the built-in roots.
    #[default]
    Platform,
    /// Exactly the certificates of a PEM bundle (`--cacert`, `SSL_CERT_FILE`).
    Bundle {
        file: PathBuf,
        certs: Arc<Vec<Certificate<'static>>>,
    },
}

impl Trust {
    /// `--cacert`'s file if given, else `SSL_CERT_FILE`'s (`ssl_cert_file`, read by the caller
    /// from the environment), else the platform's store. A bundle that cannot be read or holds
    /// no certificate is an error naming it, not a silent fall back to other roots.
    pub fn choose(cacert: Option<&Path>, ssl_cert_file: Option<&Path>) -> Result<Trust, String> {
        let (file, whence) = match (cacert, ssl_cert_file) {
            (Some(file), _) => (file, "--cacert"),
            (None, Some(file)) if !file.as_os_str().is_empty() => (file, "SSL_CERT_FILE"),
            _ => return Ok(Trust::Platform),
        };
        let pem = std::fs::read(file).map_err(|e| format!("{whence} {}: {e}", file.display()))?;
        let certs = certificates(&pem);
        if certs.is_empty() {
            return Err(format!(
                "{whence} {}: no PEM certificate in it (-----BEGIN CERTIFICATE-----)",
                file.display()
            ));
        }
        Ok(Trust::Bundle {
            file: file.to_path_buf(),
            certs: Arc::new(certs),
        })
    }

    /// The roots for ureq. The platform's store is read here, once per run's HTTP client.
    pub fn roots(&self) -> RootCerts {
        match self {
            Trust::Bundle { certs, .. } => RootCerts::Specific(Arc::clone(certs)),
            Trust::Platform => {
                // Unreadable entries are skipped, as every client does; `SSL_CERT_DIR` is
                // honoured here too.
                let found = rustls_native_certs::load_native_certs();
                if found.certs.is_empty() {
                    log::debug!(
                        "no certificates in the platform's store; using the built-in roots"
                    );
                    RootCerts::WebPki
                } else {
                    log::debug!(
                        "{} certificates from the platform's store",
                        found.certs.len()
                    );
                    found
                        .certs
                        .iter()
                        .map(|der| Certificate::from_der(der.as_ref()).to_owned())
                        .into()
                }
            }
        }
    }
}

/// The certificates of a PEM bundle; keys and unparsable blocks are left out.
fn certificates(pem: &[u8]) -> Vec<Certificate<'static>> {
    parse_pem(pem)
        .filter_map(|item| match item {
            Ok(PemItem::Certificate(cert)) => Some(cert),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Trust;
    use std::path::Path;

    #[test]
    fn the_bundle_named_first_wins_and_a_useless_one_is_named() {
        assert!(matches!(Trust::choose(None, None), Ok(Trust::Platform)));
        assert!(matches!(
            Trust::choose(None, Some(Path::new(""))),
            Ok(Trust::Platform)
        ));
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").unwrap();
        let error = Trust::choose(Some(&empty), None).unwrap_err();
        assert!(
            error.starts_with("--cacert ") && error.contains("no PEM certificate"),
            "{error}"
        );
        let missing = dir.path().join("missing.pem");
        // --cacert is read before SSL_CERT_FILE is looked at.
        let error = Trust::choose(Some(&missing), Some(&empty)).unwrap_err();
        assert!(error.contains("missing.pem"), "{error}");
        let error = Trust::choose(None, Some(&missing)).unwrap_err();
        assert!(error.starts_with("SSL_CERT_FILE "), "{error}");
    }
}

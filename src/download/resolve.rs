//! Host lookup for phase one's agent: an IP address needs none.

use std::net::{IpAddr, SocketAddr};

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// ureq's resolver looks every host up on a thread of its own (so the lookup can time out), an
/// IP address too: at `-d 2000` against 127.0.0.1 that was 2,000 more threads to create while
/// the downloads ramp up (the last of 2,000 requests started 0.42 s into the phase; with this,
/// 0.21-0.27 s). An address needs no lookup; names still go to ureq's resolver. The resolver
/// trait is in ureq's `unversioned` module, so Cargo.toml keeps ureq to 3.5.x.
#[derive(Debug, Default)]
pub(super) struct LiteralsFirst(DefaultResolver);

impl Resolver for LiteralsFirst {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        if let Some(authority) = uri.authority() {
            let host = authority
                .host()
                .trim_start_matches('[')
                .trim_end_matches(']');
            if let Ok(ip) = host.parse::<IpAddr>() {
                let default_port = if uri.scheme_str() == Some("https") {
                    443
                } else {
                    80
                };
                let mut addrs = self.empty();
                addrs.push(SocketAddr::new(
                    ip,
                    authority.port_u16().unwrap_or(default_port),
                ));
                return Ok(addrs);
            }
        }
        self.0.resolve(uri, config, timeout)
    }
}

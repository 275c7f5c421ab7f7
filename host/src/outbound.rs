//! Requests kefu makes to addresses its tenants give it: IM egress (a channel's IM base
//! URL) and webhooks. A tenant chooses the address, so each request is treated as
//! hostile to the network kefu runs in:
//!
//! - only `http` and `https`;
//! - no redirects followed (a public address must not bounce kefu to a private one);
//! - every address a name resolves to must be public — loopback, private, link-local
//!   (cloud metadata lives there), shared, multicast, documentation and reserved
//!   ranges are refused, for IP literals and for names alike, at connection time so a
//!   name that changes its answer cannot slip through — unless the operator allows
//!   them (`outbound.allow_private_addresses`, for test benches and IM servers on the
//!   same network);
//! - no proxy from the environment (it would resolve names where kefu cannot check);
//! - bounded time and a bounded response body.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::config::OutboundConfig;

/// An error and its causes, joined by `: `, which say why a request failed.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Why an outbound request was not made or not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("{0} is not an http(s) URL")]
    Scheme(String),
    #[error("{0} is not a public address (set outbound.allow_private_addresses to allow it)")]
    Private(IpAddr),
    #[error("the URL is not valid: {0}")]
    Url(String),
    #[error("the response is larger than {0} bytes")]
    TooLarge(usize),
}

/// A client for tenant-given addresses, with the checks above.
pub fn client(config: &OutboundConfig, timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(PublicOnly {
            allow_private: config.allow_private_addresses,
        }))
        .build()
}

/// Checks a URL before a request: its scheme, and its host when that is an IP address
/// (names are checked when they are resolved).
pub fn check_url(url: &str, config: &OutboundConfig) -> Result<reqwest::Url, Refused> {
    let parsed = reqwest::Url::parse(url).map_err(|e| Refused::Url(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Refused::Scheme(parsed.scheme().to_owned()));
    }
    let ip = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(url::Host::Domain(_)) => None,
        None => return Err(Refused::Url("the URL has no host".into())),
    };
    if let Some(ip) = ip
        && !config.allow_private_addresses
        && !is_public(ip)
    {
        return Err(Refused::Private(ip));
    }
    Ok(parsed)
}

/// Reads at most `max` bytes of a response body; a longer one is refused.
pub async fn read_limited(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, String> {
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(Refused::TooLarge(max).to_string());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > max {
            return Err(Refused::TooLarge(max).to_string());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Resolves names with the system resolver and keeps only public addresses.
struct PublicOnly {
    allow_private: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if allowed.is_empty() {
                let reason: Box<dyn std::error::Error + Send + Sync> = match found.first() {
                    Some(a) => Box::new(Refused::Private(a.ip())),
                    None => format!("{host} has no address").into(),
                };
                return Err(reason);
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
            Ok(addrs)
        })
    }
}

/// Whether `ip` is an address of the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link-local
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64 of IPv4 addresses
                || s[0] == 0x2002 // 6to4 of IPv4 addresses
                || v6 == Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared (carrier-grade NAT)
        || (a == 192 && b == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:a00:1::",
        ] {
            let ip: IpAddr = private.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
            assert!(!is_public(ip), "{private} must not be public");
        }
        for public in [
            "1.1.1.1",
            "203.0.112.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = public.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
            assert!(is_public(ip), "{public} is public");
        }
    }

    #[test]
    fn urls_are_checked_for_scheme_and_literal_addresses() {
        let strict = OutboundConfig::default();
        let open = OutboundConfig {
            allow_private_addresses: true,
            ..OutboundConfig::default()
        };
        assert!(matches!(
            check_url("ftp://example.com/x", &strict),
            Err(Refused::Scheme(_))
        ));
        assert!(matches!(
            check_url("http://169.254.169.254/latest/meta-data", &strict),
            Err(Refused::Private(_))
        ));
        assert!(matches!(
            check_url("http://[::1]:8080/", &strict),
            Err(Refused::Private(_))
        ));
        assert!(check_url("http://127.0.0.1:9/", &open).is_ok());
        assert!(check_url("https://im.example.com/v4", &strict).is_ok());
        assert!(matches!(
            check_url("not a url", &strict),
            Err(Refused::Url(_))
        ));
    }
}

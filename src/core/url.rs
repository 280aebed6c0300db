//! Just enough URL handling for origins: the bearer's destination rule and the
//! https-unless-loopback rule. Full resolution of relative URLs is the browser's job.

use crate::prelude::*;

/// Byte offset of `needle` in `hay`. A plain scan: these strings are short, and
/// `str::find` with a string pattern links a two-way searcher (~1.5 KB of wasm).
pub fn find(hay: &str, needle: &str) -> Option<usize> {
    scan(hay, needle, false)
}

/// The first window of `hay` equal to `needle` (ASCII case ignored if asked).
fn scan(hay: &str, needle: &str, ignore_case: bool) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    // A loop, not `(0..).find(..)`: the iterator's closure is a function of its own.
    let mut i = 0;
    while let Some(window) = h.get(i..i + n.len()) {
        if window == n || (ignore_case && window.eq_ignore_ascii_case(n)) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Split at the first `://`.
fn split_scheme(url: &str) -> Option<(&str, &str)> {
    let at = find(url, "://")?;
    Some((url.get(..at)?, url.get(at + 3..)?))
}

/// `scheme://host[:port]` with scheme and host lowercased and default ports dropped.
/// None for anything that is not an absolute http(s) URL.
///
/// Byte scans: `split_once(char)`, `rfind(char)` and `to_ascii_lowercase` each link a
/// generic searcher or a copy.
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = split_scheme(trim(url))?;
    let (prefix, default_port) = if scheme.eq_ignore_ascii_case("https") {
        ("https://", "443")
    } else if scheme.eq_ignore_ascii_case("http") {
        ("http://", "80")
    } else {
        return None;
    };
    let authority = rest.get(..position(rest, |b| matches!(b, b'/' | b'?' | b'#')))?;
    // Credentials in the URL are not part of the origin: the host follows the last `@`.
    let mut at = authority.len();
    while at > 0 && authority.as_bytes().get(at - 1).copied() != Some(b'@') {
        at -= 1;
    }
    let (host, port) = split_host_port(authority.get(at..)?)?;
    let mut origin = String::from(prefix);
    origin.push_str(host);
    origin.make_ascii_lowercase();
    if let Some(port) = port.filter(|p| *p != default_port) {
        origin.push(':');
        origin.push_str(port);
    }
    Some(origin)
}

/// Offset of the first byte matching `stop`, or the length. These scans are plain
/// loops: `Iterator::position` and `rposition` over bytes are unrolled, several times
/// the code.
fn position(text: &str, stop: impl Fn(u8) -> bool) -> usize {
    let mut i = 0;
    while let Some(&b) = text.as_bytes().get(i) {
        if stop(b) {
            break;
        }
        i += 1;
    }
    i
}

/// The host (non-empty; an IPv6 literal with its brackets) and the port, if any.
fn split_host_port(host_port: &str) -> Option<(&str, Option<&str>)> {
    let end = host_end(host_port)?;
    let (host, rest) = (host_port.get(..end)?, host_port.get(end..)?);
    if host.is_empty() {
        return None;
    }
    // A `&str` pattern, not a `char`: a `char` pattern links `encode_utf8_raw` for it.
    match rest.strip_prefix(":") {
        Some(port) => valid_port(port).then_some((host, Some(port))),
        None if rest.is_empty() => Some((host, None)),
        None => None,
    }
}

fn valid_port(port: &str) -> bool {
    let mut i = 0;
    while let Some(b) = port.as_bytes().get(i).copied() {
        if !b.is_ascii_digit() {
            return false;
        }
        i += 1;
    }
    (1..=5).contains(&i)
}

/// Host of an origin produced by `origin_of`.
fn host_of(origin: &str) -> &str {
    // Matches, not `map_or`/`and_then` with closures: each a monomorph of its own.
    let rest = match split_scheme(origin) {
        Some((_, rest)) => rest,
        None => origin,
    };
    match host_end(rest) {
        Some(end) => rest.get(..end).unwrap_or(rest),
        None => rest,
    }
}

/// Where the host of `host[:port]` ends: after an IPv6 literal's `]` (None when it is
/// not closed), else at the first `:` or the end.
fn host_end(host_port: &str) -> Option<usize> {
    let b = host_port.as_bytes();
    let literal = b.first().copied() == Some(b'[');
    let stop = if literal { b']' } else { b':' };
    // One loop for both forms; `get` by the caller, not indexing: no panic path (and
    // its formatting) in the wasm.
    let mut end = 0;
    while let Some(&c) = b.get(end) {
        if c == stop {
            return Some(end + usize::from(literal));
        }
        end += 1;
    }
    (!literal).then_some(end)
}

/// localhost, 127.0.0.0/8 and [::1]: where plain http is acceptable.
pub fn is_loopback_origin(origin: &str) -> bool {
    let host = host_of(origin);
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "[::1]"
        || (host.starts_with("127.") && is_ipv4(host))
}

/// Four dot-separated decimal octets (leading zeros allowed, as before). A byte scan:
/// `str::split` links a searcher and an iterator per call site.
fn is_ipv4(host: &str) -> bool {
    let (mut octets, mut value, mut digits) = (0, 0u32, 0);
    // Indices, not `bytes().chain(once(b'.'))`: the chain's `next` is a function.
    for i in 0..=host.len() {
        let b = host.as_bytes().get(i).copied().unwrap_or(b'.');
        if b == b'.' {
            if digits == 0 || value > 255 {
                return false;
            }
            octets += 1;
            (value, digits) = (0, 0);
        } else if b.is_ascii_digit() {
            value = (value * 10 + u32::from(b - b'0')).min(1000);
            digits += 1;
        } else {
            return false;
        }
    }
    octets == 4
}

/// `base` joined with an endpoint path (`/auth/login`) or used as-is for an absolute URL.
pub fn join(base: &str, path: &str) -> String {
    if find(path, "://").is_some() {
        return path.to_owned();
    }
    let mut out = trim_end_slashes(base).to_owned();
    if !path.starts_with("/") {
        out.push('/');
    }
    out.push_str(path);
    out
}

/// `base` without its trailing slashes; `trim_end_matches('/')` links a reverse
/// UTF-8 decoder for what is a byte scan.
pub fn trim_end_slashes(base: &str) -> &str {
    let mut end = base.len();
    while end > 0 && base.as_bytes().get(end - 1).copied() == Some(b'/') {
        end -= 1;
    }
    base.get(..end).unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised() {
        assert_eq!(
            origin_of("HTTP://LocalHost:80/x?y#z").as_deref(),
            Some("http://localhost")
        );
        assert_eq!(
            origin_of("https://api.example.com:443").as_deref(),
            Some("https://api.example.com")
        );
        assert_eq!(
            origin_of("https://api.example.com:8443/a").as_deref(),
            Some("https://api.example.com:8443")
        );
        assert_eq!(
            origin_of("http://user:pw@127.0.0.1:8000/").as_deref(),
            Some("http://127.0.0.1:8000")
        );
        assert_eq!(
            origin_of("http://h:00080/").as_deref(),
            Some("http://h:00080")
        );
        assert_eq!(
            origin_of("http://[::1]:3000/").as_deref(),
            Some("http://[::1]:3000")
        );
        assert_eq!(
            origin_of("http://evil.com?@127.0.0.1/").as_deref(),
            Some("http://evil.com")
        );
        // Surrounding whitespace goes, Unicode spaces included (`prelude::trim`, as `str::trim`).
        assert_eq!(
            origin_of(" \u{a0}https://A.example\t\n").as_deref(),
            Some("https://a.example")
        );
    }

    #[test]
    fn non_http_or_relative_urls_have_no_origin() {
        for url in [
            "/auth/login",
            "auth",
            "ftp://x",
            "javascript:alert(1)",
            "http://",
            "http://:80",
            "http://h:x",
            "http://h:",
            "http://h:123456",
            "http://h:8o",
            "http://[::1",
        ] {
            assert_eq!(origin_of(url), None, "{url}");
        }
    }

    #[test]
    fn loopback_detection() {
        for o in [
            "http://localhost:8000",
            "http://127.0.0.1",
            "http://127.1.2.3:9",
            "http://[::1]:3000",
            "http://app.localhost",
        ] {
            assert!(is_loopback_origin(o), "{o}");
        }
        for o in [
            "http://example.com",
            "http://127.0.0.1.evil.com",
            "http://localhost.evil.com",
            "http://10.0.0.1",
        ] {
            assert!(!is_loopback_origin(o), "{o}");
        }
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn ipv4_is_the_splitting_rule(host in "[0-9.a]{0,18}") {
            let splitting = host.split('.').count() == 4
                && host.split('.').all(|o| o.parse::<u8>().is_ok());
            proptest::prop_assert_eq!(is_ipv4(&host), splitting, "{}", host);
        }
    }

    #[test]
    fn finds_substrings() {
        assert_eq!(find("http://x", "://"), Some(4));
        assert_eq!(find("abc", "abcd"), None);
        assert_eq!(find("aab", "ab"), Some(1));
        assert_eq!(find("", ""), Some(0));
        assert_eq!(find("é://", "://"), Some(2));
    }

    #[test]
    fn trims_trailing_slashes_only() {
        assert_eq!(trim_end_slashes("http://a//"), "http://a");
        assert_eq!(trim_end_slashes("/"), "");
        assert_eq!(trim_end_slashes("http://a/b"), "http://a/b");
    }

    #[test]
    fn joins_paths() {
        assert_eq!(join("http://a/", "/auth/login"), "http://a/auth/login");
        assert_eq!(join("http://a/api", "token"), "http://a/api/token");
        assert_eq!(join("http://a", "https://b/x"), "https://b/x");
    }
}

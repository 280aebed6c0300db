//! Just enough URL handling for origins: the bearer's destination rule and the
//! https-unless-loopback rule. Full resolution of relative URLs is the browser's job.

use crate::prelude::*;

/// Byte offset of `needle` in `hay`. A plain scan: these strings are short, and
/// `str::find` with a string pattern links a two-way searcher (~1.5 KB of wasm).
/// Inlined: at its callers the `Option` is a test of `scan`'s offset (`is_some()` one
/// comparison), not a value answered through memory (measured -50 B gzip).
#[inline(always)]
pub fn find(hay: &str, needle: &str) -> Option<usize> {
    match scan(hay, needle) {
        NOT_FOUND => None,
        at => Some(at),
    }
}

/// `scan`'s answer when `needle` is not in `hay` (no offset is this large).
const NOT_FOUND: usize = usize::MAX;

/// The offset of the first window of `hay` equal to `needle`, or `NOT_FOUND`: an
/// offset, not an `Option`, which is answered through memory.
pub(super) fn scan(hay: &str, needle: &str) -> usize {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    // A loop, not `(0..).find(..)`: the iterator's closure is a function of its own.
    let mut i = 0;
    while let Some(window) = h.get(i..i + n.len()) {
        if window == n {
            return i;
        }
        i += 1;
    }
    NOT_FOUND
}

/// `scheme://host[:port]` with scheme and host lowercased and default ports dropped.
/// None for anything that is not an absolute http(s) URL.
///
/// Byte scans: `split_once(char)`, `rfind(char)` and `to_ascii_lowercase` each link a
/// generic searcher or a copy.
///
/// `push_origin` into a text of its own.
pub fn origin_of(url: &str) -> Option<String> {
    let mut origin = String::new();
    if push_origin(&mut origin, url) != Origin::None {
        Some(origin)
    } else {
        None
    }
}

/// What `push_origin` found in a URL: no origin (nothing appended), or one, judged by
/// the W3C Secure Contexts rule (potentially trustworthy: https, or plain http on
/// localhost, 127.0.0.0/8 or [::1]). Judged where the origin is written: the host and
/// scheme are at hand there, where a judge of the written text took it back from the
/// list by two `str::get`s (config's `baseUrl` and `allowedOrigins`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    None,
    Plain,
    Trustworthy,
}

/// `url`'s origin (as `origin_of` writes it) appended to `out`, and what it is;
/// `Origin::None` (nothing appended) when it has none. Whoever keeps origins in one
/// text writes them there directly (`Config`'s allowed origins), and whoever only asks
/// whether there is one gives an empty text (no allocation when there is none).
///
/// `out` before the origin must be lower case already (it is lowercased whole with
/// it): empty, or `Config`'s list of origins and their `#`s.
pub fn push_origin(out: &mut String, url: &str) -> Origin {
    let url = trim(url);
    // The scheme ends at the first `://`; the rest is scanned by offsets in `url`.
    // `scan` itself: its offset, not `find`'s `Option` answered through memory.
    let at = scan(url, "://");
    if at == NOT_FOUND {
        return Origin::None;
    }
    // Its bytes: no `str::get` (and its char boundary check) for ASCII compared as such.
    // `at` is inside the text (`scan` found `://` there): the slice is always there, and
    // an empty one would be neither scheme (no refusal written for it).
    let scheme = url.as_bytes().get(..at).unwrap_or_default();
    // The default ports 443 and 80 as `port_number` reads them.
    let (prefix, default_port) = if scheme.eq_ignore_ascii_case(b"https") {
        ("https://", 1443)
    } else if scheme.eq_ignore_ascii_case(b"http") {
        ("http://", 180)
    } else {
        return Origin::None;
    };
    // One scan for the authority's end (the first `/`, `?` or `#`) and the host's
    // start: credentials are not part of the origin, the host follows the last `@`.
    let (mut start, mut end) = (at + 3, at + 3);
    while let Some(&b) = url.as_bytes().get(end) {
        match b {
            b'/' | b'?' | b'#' => break,
            b'@' => start = end + 1,
            _ => {}
        }
        end += 1;
    }
    let Some(host_port) = url.get(start..end) else {
        return Origin::None;
    };
    // The host's end found once, for the authority kept and the host judged.
    let host_len = host_end(host_port.as_bytes());
    let kept = origin_authority_len(host_port, host_len, default_port);
    if kept == 0 {
        return Origin::None;
    }
    // The authority as written, less a default port: no host and port taken apart
    // and put back together with a `:` (two `str::get`s and a `push(char)` fewer).
    let Some(authority) = host_port.get(0..kept) else {
        return Origin::None;
    };
    out.push_str(prefix);
    let host_start = out.len();
    out.push_str(authority);
    out.make_ascii_lowercase();
    // https is trustworthy whatever its host; plain http by its host, read lowercased
    // from `out` (where `authority` was written) by one `str::get`.
    if default_port == 1443 {
        return Origin::Trustworthy;
    }
    let host = out
        .get(host_start..host_start + host_len)
        .unwrap_or_default();
    if is_loopback_host(host) {
        Origin::Trustworthy
    } else {
        Origin::Plain
    }
}

/// How much of `host[:port]` an origin keeps, its host ending at `end` (`host_end`'s
/// answer, which the caller also judges the host by): all of it, or the host alone
/// when the port is the scheme's `default_port`. 0 (no origin keeps nothing) when the host is
/// empty (an IPv6 literal's brackets included) or the port is not 1 to 5 digits. An
/// offset with a sentinel, not an `Option`: that is answered through memory.
///
/// The port is read as bytes, and the caller takes the kept part by one `str::get`
/// of a `Range` (`0..kept`): every `str::get` of the crate takes a `Range`, so the wasm
/// has that form alone, not also a `RangeTo` (61 B) and a `RangeFrom` (80 B) one.
fn origin_authority_len(host_port: &str, end: usize, default_port: u32) -> usize {
    let b = host_port.as_bytes();
    // The byte after the host matched, not `strip_prefix(":")`: no `strip_prefix` in
    // the wasm for this and `is_loopback_host` (nor `encode_utf8_raw`, for a `char`).
    match b.get(end) {
        None => end,
        Some(b':') if end > 0 => match port_number(b, end + 1) {
            0 => 0,
            port if port == default_port => end,
            _ => b.len(),
        },
        Some(_) => 0,
    }
}

/// The port's digits (from `at` in `b` to its end) read after a leading 1: `443` is
/// 1443, `0443` 10443, one number per text, so that a port is the scheme's default as
/// written (leading zeros count, as before) when the numbers are equal; no slice
/// comparison linked for it. 0 when the port is not 1 to 5 digits.
fn port_number(b: &[u8], mut at: usize) -> u32 {
    let mut n = 1;
    while let Some(&digit) = b.get(at) {
        if !digit.is_ascii_digit() || n >= 100_000 {
            return 0;
        }
        n = n * 10 + u32::from(digit - b'0');
        at += 1;
    }
    if n < 10 {
        0
    } else {
        n
    }
}

/// Where the host of `host[:port]` ends: after an IPv6 literal's `]` (0, no host,
/// when it is not closed), else at the first `:` or the end. An offset, not an
/// `Option`: that is answered through memory.
fn host_end(b: &[u8]) -> usize {
    let literal = b.first().copied() == Some(b'[');
    let stop = if literal { b']' } else { b':' };
    // One loop for both forms; `get` by the caller, not indexing: no panic path (and
    // its formatting) in the wasm.
    let mut end = 0;
    while let Some(&c) = b.get(end) {
        if c == stop {
            return end + usize::from(literal);
        }
        end += 1;
    }
    if literal {
        0
    } else {
        end
    }
}

/// Whether a host (lower case) of a plain http origin makes it potentially
/// trustworthy: localhost (and its subdomains), 127.0.0.0/8 or [::1].
fn is_loopback_host(host: &str) -> bool {
    // A match, not `host == "localhost"`: no `<&str as PartialEq<&str>>` call per text.
    match host {
        "localhost" | "[::1]" => true,
        _ => host.ends_with(".localhost") || (host.starts_with("127.") && is_ipv4(host)),
    }
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
/// `base` is `Config::base_url`, which has no trailing slash (`Config` trims them once,
/// not every join).
pub fn join(base: &str, path: &str) -> String {
    // `scan` itself: its offset, not `find`'s `Option` answered through memory.
    if scan(path, "://") != NOT_FOUND {
        return path.to_owned();
    }
    let mut out = base.to_owned();
    // Its first byte matched: no `str::starts_with` call (nor `!= Some(&b'/')`, which
    // linked `Option`'s `PartialEq`: +75 B gzip).
    if !matches!(path.as_bytes().first(), Some(b'/')) {
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
    // `0..end`: one `str::get` form (see `origin_authority_len`).
    base.get(0..end).unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_pushed_after_the_text_or_nothing_is() {
        let mut list = String::from("http://a#");
        assert_eq!(
            push_origin(&mut list, " HTTPS://B.example:443/x"),
            Origin::Trustworthy
        );
        assert_eq!(list, "http://a#https://b.example");
        for url in ["", "b.example", "ftp://b", "http://", "http://h:0x/"] {
            assert_eq!(push_origin(&mut list, url), Origin::None, "{url}");
            assert_eq!(list, "http://a#https://b.example", "{url}");
        }
    }

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
        // A port is dropped when it is the scheme's default as written: leading
        // zeros keep it, another scheme's default is kept.
        for (url, origin) in [
            ("http://h:080", "http://h:080"),
            ("https://h:0443/", "https://h:0443"),
            ("https://h:80", "https://h:80"),
            ("http://h:443", "http://h:443"),
            ("HTTPS://H:443#x", "https://h"),
            ("http://h:99999", "http://h:99999"),
            ("http://h:0", "http://h:0"),
        ] {
            assert_eq!(origin_of(url).as_deref(), Some(origin), "{url}");
        }
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
            "http://h:000080",
            "http://[::1]x",
            "http://[::1]:",
            "http://h:8o",
            "http://[::1",
        ] {
            assert_eq!(origin_of(url), None, "{url}");
        }
    }

    /// `push_origin`'s judgement of `url`, the origin written into an empty text.
    fn judged(url: &str) -> Origin {
        push_origin(&mut String::new(), url)
    }

    #[test]
    fn https_or_loopback_is_trustworthy() {
        for o in [
            "https://example.com",
            "https://example.com:8443",
            "http://localhost:8000",
            "http://127.0.0.1",
            "http://127.1.2.3:9",
            "http://[::1]:3000",
            "http://app.localhost",
        ] {
            assert_eq!(judged(o), Origin::Trustworthy, "{o}");
        }
        for o in [
            "http://example.com",
            "http://127.0.0.1.evil.com",
            "http://localhost.evil.com",
            "http://10.0.0.1",
            "http://[::2]:3000",
        ] {
            assert_eq!(judged(o), Origin::Plain, "{o}");
        }
        // What `config` asks: any URL, the scheme and host in any case, credentials,
        // ports and paths around the host.
        for (url, trustworthy) in [
            ("HTTPS://Example.com/x", true),
            ("https://h:80", true),
            ("HTTP://LOCALHOST:1/", true),
            ("http://user@127.0.0.1/", true),
            ("http://127.0.0.1@s.example/", false),
            ("http://s.example", false),
            ("http://[::1]:443", true),
            ("http://App.LocalHost:80/a", true),
        ] {
            let judgement = if trustworthy {
                Origin::Trustworthy
            } else {
                Origin::Plain
            };
            assert_eq!(judged(url), judgement, "{url}");
        }
        // After a list's text (config's allowed origins): the host judged is the one
        // just written.
        let mut list = String::from("http://localhost#");
        assert_eq!(push_origin(&mut list, "http://a.example"), Origin::Plain);
        assert_eq!(list, "http://localhost#http://a.example");
        assert_eq!(
            push_origin(&mut list, "http://x.localhost/"),
            Origin::Trustworthy
        );
        assert_eq!(judged("ftp://localhost"), Origin::None);
        // No scheme, or one that is not ASCII, before the `://`: none, nothing written.
        for url in ["://localhost", "é://localhost", "httpé://a.example"] {
            let mut out = String::new();
            assert_eq!(push_origin(&mut out, url), Origin::None, "{url}");
            assert_eq!(out, "", "{url}");
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
        assert_eq!(join("http://a", "/auth/login"), "http://a/auth/login");
        assert_eq!(join("http://a/api", "token"), "http://a/api/token");
        assert_eq!(join("http://a", "https://b/x"), "https://b/x");
    }
}

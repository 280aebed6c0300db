//! Time: the client's clock corrected by the server's (`Date` header), and
//! HTTP-date parsing for `Date` and `Retry-After`.

/// Milliseconds since the epoch.
pub type Millis = f64;

/// Skew below this is indistinguishable from latency plus the Date header's
/// one-second resolution, so it is not corrected.
const MIN_CORRECTED_SKEW_MS: f64 = 2_000.0;

/// The estimated offset `server - client`; every expiry decision uses `now()`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Clock {
    pub offset_ms: f64,
    /// Whether a `Date` header was seen; it outranks the cruder `iat` estimate.
    pub from_date: bool,
}

impl Clock {
    /// Server time estimated from the local time.
    pub fn now(&self, local: Millis) -> Millis {
        local + self.offset_ms
    }

    /// Learn from a response's `Date` header received at local time `local`.
    /// Returns true when the estimate changed.
    pub fn observe_date(&mut self, date_header: &str, local: Millis) -> bool {
        let server_secs = http_date_secs(date_header);
        if server_secs.is_nan() {
            return false;
        }
        self.from_date = true;
        self.adopt_estimate(server_secs, local)
    }

    /// Take `server_secs` (a whole-second server time seen at `local`) as the new
    /// estimate when it moves the offset by a second or more.
    fn adopt_estimate(&mut self, server_secs: f64, local: Millis) -> bool {
        // Whole seconds are truncated: the server's time is on average half a second
        // later than they say.
        let raw = server_secs * 1000.0 + 500.0 - local;
        let next = if raw.abs() < MIN_CORRECTED_SKEW_MS {
            0.0
        } else {
            raw
        };
        let changed = (next - self.offset_ms).abs() >= 1000.0;
        if changed {
            self.offset_ms = next;
        }
        changed
    }
}

impl Clock {
    /// Learn from a fresh token's `iat` when no `Date` header is readable (a
    /// cross-origin backend that does not expose it). Returns true when changed.
    pub fn observe_iat(&mut self, iat_secs: i64, local: Millis) -> bool {
        !self.from_date && self.adopt_estimate(iat_secs as f64, local)
    }
}

/// `http_date_secs` as an `Option` of whole seconds, for the tests.
#[cfg(test)]
pub fn parse_http_date(text: &str) -> Option<i64> {
    let secs = http_date_secs(text);
    (!secs.is_nan()).then_some(secs as i64)
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110 5.6.7) to epoch seconds, NaN
/// for anything else: both callers compute in milliseconds, and an `f64` comes back in a
/// register (an `Option<i64>` came through memory). The obsolete formats are not produced
/// by any current server and are refused. Read by fixed positions (the format has one
/// length): no generic splitting or number parsing in the wasm.
fn http_date_secs(text: &str) -> f64 {
    const SHAPE: &[u8; 29] = b"aaa, 00 aaa 0000 00:00:00 GMT";
    // From March, as the days are counted below: February's leap day ends the year.
    const MONTHS: &[u8; 36] = b"MarAprMayJunJulAugSepOctNovDecJanFeb";
    let b = text.as_bytes();
    if b.len() != SHAPE.len() {
        return f64::NAN;
    }
    // Loops by index, not iterator adapters (`zip`, `all`, `skip`, `take`, `fold`):
    // each adapter's `next` can be a function of its own.
    for (i, s) in SHAPE.iter().enumerate() {
        let c = b.get(i).copied().unwrap_or(0);
        let fits = match s {
            b'a' => c.is_ascii_alphabetic(),
            b'0' => c.is_ascii_digit(),
            _ => c == *s,
        };
        if !fits {
            return f64::NAN;
        }
    }
    // Months since March; the name's three letters compared as bytes (a slice
    // comparison is a function of its own, also linked by url.rs).
    let mut month = 0;
    while let Some(&[x, y, z]) = MONTHS.get(month * 3..month * 3 + 3) {
        if [x, y, z]
            == [
                b.get(8).copied().unwrap_or(0),
                b.get(9).copied().unwrap_or(0),
                b.get(10).copied().unwrap_or(0),
            ]
        {
            break;
        }
        month += 1;
    }
    if month == 12 {
        return f64::NAN;
    }
    let (day, year) = (field(b, 5, 2), field(b, 12, 4));
    let (h, m, s) = (field(b, 17, 2), field(b, 20, 2), field(b, 23, 2));
    if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 || year < 1970 {
        return f64::NAN;
    }
    // Days since 1970-01-01 by Howard Hinnant's `days_from_civil`, its years counted
    // from March (January and February belong to the year before). The year is 1969 or
    // later, so its 400-year eras need no rounding towards minus infinity: the leap days
    // are the year's quarters less its centuries plus its fourth centuries; 719,468 days
    // from 0000-03-01 to 1970-01-01.
    let y = year - i64::from(month >= 10);
    let days = y * 365 + y / 4 - y / 100 + y / 400 + (153 * month as i64 + 2) / 5 + day - 719_469;
    // Exact: whole seconds up to the year 9999 are far below 2^53.
    (days * 86_400 + h * 3600 + m * 60 + s) as f64
}

/// The `len` digits of `b` from `at`, where the HTTP-date's shape has digits (checked
/// first): read without further checks. A function, not a closure over `b`: the text's
/// pointer and length are passed, not the address of a reference to them.
fn field(b: &[u8], at: usize, len: usize) -> i64 {
    let mut n = 0i64;
    for i in at..at + len {
        n = n * 10 + i64::from(b.get(i).copied().unwrap_or(b'0').wrapping_sub(b'0'));
    }
    n
}

/// A non-empty run of ASCII digits as a number; None for anything else or beyond u32.
/// A loop on a `u64` that stops past u32, not `try_fold` with `to_digit(10)` (a general
/// radix conversion) and checked arithmetic.
pub(crate) fn decimal(text: &str) -> Option<u32> {
    let (b, mut i, mut n) = (text.as_bytes(), 0, 0u64);
    while let Some(&c) = b.get(i) {
        let digit = c.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n = n * 10 + u64::from(digit);
        if n > u64::from(u32::MAX) {
            return None;
        }
        i += 1;
    }
    // None for the empty text.
    if i == 0 {
        None
    } else {
        u32::try_from(n).ok()
    }
}

/// `Retry-After` as seconds from now: delta-seconds or an HTTP-date (RFC 9110 10.2.3).
pub fn parse_retry_after(value: &str, now: Millis) -> Option<u32> {
    let value = crate::prelude::trim(value);
    if let Some(secs) = decimal(value) {
        return Some(secs);
    }
    let at = http_date_secs(value) * 1000.0;
    if at.is_nan() {
        return None;
    }
    // `as` saturates: a date past is 0, one beyond u32's seconds u32::MAX.
    Some(super::float::ceil((at - now) / 1000.0) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_imf_fixdate() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            parse_http_date("Fri, 31 Dec 1999 23:59:59 GMT"),
            Some(946_684_799)
        );
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2028 23:59:59 GMT"),
            Some(1_835_481_599)
        );
    }

    #[test]
    fn every_day_from_1970_to_2400_is_a_day_after_the_one_before() {
        // Leap years by the Gregorian rule (2000 and 2400 are, 2100 is not): each date
        // counted from the one before, from 1970-01-01 on (0 s), against the parser.
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let mut expected = 0;
        for year in 1970..=2400 {
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
            for (m, month) in MONTHS.iter().enumerate() {
                let days = match m {
                    1 if leap => 29,
                    1 => 28,
                    3 | 5 | 8 | 10 => 30,
                    _ => 31,
                };
                for day in 1..=days {
                    let text = std::format!("Mon, {day:02} {month} {year} 00:00:00 GMT");
                    assert_eq!(parse_http_date(&text), Some(expected), "{text}");
                    expected += 86_400;
                }
            }
        }
    }

    #[test]
    fn refuses_other_date_shapes() {
        for bad in [
            "",
            "yesterday",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun,  06 Nov 1994 08:49:37 GMT",
            "Sun, +6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT ",
            "Sun, 06 Nov 1969 23:59:59 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:60:37 GMT",
            "Sun, 06 nov 1994 08:49:37 GMT",
            "Sun; 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMTX",
            "Sun, 06 Nov 1994 08:49:37 gmt",
            "Sün, 06 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn decimals_are_digits_only() {
        assert_eq!(decimal("0"), Some(0));
        assert_eq!(decimal("0042"), Some(42));
        assert_eq!(decimal("4294967295"), Some(u32::MAX));
        // Leading zeros past ten digits are no overflow.
        assert_eq!(decimal("000000000000000000000042"), Some(42));
        for bad in [
            "",
            "4294967296",
            "99999999999999999999999",
            "+1",
            "-1",
            " 1",
            "1 ",
            "1.0",
            "١",
            "/",
            ":",
        ] {
            assert_eq!(decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn retry_after_in_both_forms() {
        assert_eq!(parse_retry_after("120", 0.0), Some(120));
        assert_eq!(parse_retry_after(" 2 ", 0.0), Some(2));
        let now = 784_111_777_000.0;
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(10)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(0)
        );
        // Waits beyond u32's seconds saturate (a cast, not a comparison of its own).
        assert_eq!(
            parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", 0.0),
            Some(u32::MAX)
        );
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", 1.0),
            Some(0)
        );
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn skew_is_learned_from_date_headers() {
        let server = 784_111_777_000.0;
        let mut clock = Clock::default();
        // Client 10 minutes fast.
        assert!(clock.observe_date("Sun, 06 Nov 1994 08:49:37 GMT", server + 600_000.0));
        assert!((clock.now(server + 600_000.0) - server).abs() <= 1000.0);
        // Client 10 minutes slow.
        assert!(clock.observe_date("Sun, 06 Nov 1994 08:49:37 GMT", server - 600_000.0));
        assert!((clock.now(server - 600_000.0) - server).abs() <= 1000.0);
        // Within latency: no correction.
        assert!(clock.observe_date("Sun, 06 Nov 1994 08:49:37 GMT", server + 300.0));
        assert_eq!(clock.offset_ms, 0.0);
        assert!(!clock.observe_date("garbage", server));
    }

    #[test]
    fn iat_estimates_skew_only_without_a_date_header() {
        let mut clock = Clock::default();
        assert!(clock.observe_iat(1000, 1_000_000.0 + 600_000.0));
        assert!((clock.now(1_600_000.0) - 1_000_500.0).abs() < 1.0);
        clock.observe_date("Thu, 01 Jan 1970 00:16:40 GMT", 1_000_000.0);
        assert!(!clock.observe_iat(5000, 1_000_000.0), "Date outranks iat");
    }
}

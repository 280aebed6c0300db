//! Property tests (proptest): the core's round trips hold and its parsers never
//! panic for any input; the refresh scheduler keeps its invariants for any times.

// Test-only (native: proptest is a dev-dependency), so unwrap and panic are the point.
#![cfg(all(test, not(target_arch = "wasm32")))]
#![allow(clippy::unwrap_used, clippy::panic)]

use proptest::prelude::*;

use crate::core::clock::{parse_http_date, parse_retry_after};
use crate::core::config::{Config, RawConfig};
use crate::core::engine::{Engine, Reply};
use crate::core::fields::{lookup, Fields};
use crate::core::json::{self, Json};
use crate::core::persist;
use crate::core::protocol::{self, HttpResponse, Op};
use crate::core::schedule::{
    next_wake, refresh_now, Backoff, Page, RetryState, Wake, MIN_RETRY_MS, NO_WAIT,
};
use crate::core::session::{tests::jwt, Session};
use crate::core::{jwt as jwt_mod, url};
use crate::prelude::*;

/// Any JSON number text (RFC 8259's grammar) that is a finite double, as read.
fn json_number() -> impl Strategy<Value = Json> {
    prop_oneof![
        "-?(0|[1-9][0-9]{0,24})(\\.[0-9]{1,24})?([eE][+-]?[0-9]{1,2})?",
        any::<f64>().prop_map(|n| format!("{n}")),
        any::<f64>().prop_map(|n| format!("{n:e}")),
    ]
    .prop_filter_map("beyond a double", |text| json::parse(&text))
}

/// JSON values of bounded depth, numbers of every form as read from text.
fn json_value() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        json_number(),
        ".{0,12}".prop_map(Json::Str),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Arr),
            prop::collection::vec(("[a-z]{1,6}", inner), 0..6).prop_map(Json::Obj),
        ]
    })
}

fn config(protocol: &str) -> Config {
    Config::validate(RawConfig {
        base_url: Some("http://127.0.0.1:8000"),
        protocol: Some(protocol),
        ..RawConfig::default()
    })
    .unwrap()
}

/// The HTTP-date parser before it read by fixed positions (str::split and str::parse):
/// the oracle the new one must agree with wherever it accepts.
fn http_date_by_splitting(text: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut it = text.split_ascii_whitespace();
    let _weekday = it.next().filter(|w| w.len() == 4 && w.ends_with(','))?;
    let day: i64 = it.next()?.parse().ok()?;
    let month = it.next()?;
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let year: i64 = it.next()?.parse().ok()?;
    let mut hms = it.next()?.split(':');
    let h: i64 = hms.next()?.parse().ok()?;
    let m: i64 = hms.next()?.parse().ok()?;
    let s: i64 = hms.next()?.parse().ok()?;
    if it.next()? != "GMT" || it.next().is_some() || hms.next().is_some() {
        return None;
    }
    if !(1..=31).contains(&day) || h > 23 || m > 59 || s > 60 || !(1970..=9999).contains(&year) {
        return None;
    }
    // Days since 1970-01-01 (Howard Hinnant's algorithm), as core::clock computes them.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

/// IMF-fixdates with any field in or out of range (two-digit day, four-digit year).
fn http_date_text() -> impl Strategy<Value = String> {
    (
        "[A-Z][a-z]{2}",
        0u32..40,
        prop::sample::select(vec!["Jan", "Feb", "Mar", "Jun", "Sep", "Dec", "Foo"]),
        1960u32..10000,
        (0u32..26, 0u32..62, 0u32..62),
    )
        .prop_map(|(weekday, day, month, year, (h, m, s))| {
            format!("{weekday}, {day:02} {month} {year:04} {h:02}:{m:02}:{s:02} GMT")
        })
}

const PROTOCOLS: [&str; 3] = ["json", "oauth2-password", "better-auth"];
const OPS: [Op; 5] = [Op::Login, Op::Register, Op::Refresh, Op::Logout, Op::Me];

/// Text in pieces: ASCII runs, stray bytes, and two-, three- and four-byte forms from every
/// lead (overlong, surrogate and out-of-range ones included) with mostly continuation bytes.
fn utf8_like() -> impl Strategy<Value = Vec<u8>> {
    let cont = || prop_oneof![15 => 0x80u8..0xC0, 1 => any::<u8>()];
    let piece = prop_oneof![
        prop::collection::vec(0x00u8..0x80, 1..9),
        any::<u8>().prop_map(|b| vec![b]),
        (0xC0u8..0xE0, cont()).prop_map(|(a, b)| vec![a, b]),
        (0xE0u8..0xF0, cont(), cont()).prop_map(|(a, b, c)| vec![a, b, c]),
        (0xF0u8..=0xFF, cont(), cont(), cont()).prop_map(|(a, b, c, d)| vec![a, b, c, d]),
    ];
    prop::collection::vec(piece, 0..8).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]
    #[test]
    fn the_utf8_check_accepts_exactly_what_std_accepts(bytes in utf8_like()) {
        // prelude::utf8 (the wasm's own check, ending in from_utf8_unchecked) against core's.
        prop_assert_eq!(utf8(&bytes), ::core::str::from_utf8(&bytes).ok(), "{:x?}", bytes);
    }
}

proptest! {
    #[test]
    fn http_dates_read_as_the_splitting_parser_read_them(text in http_date_text()) {
        prop_assert_eq!(parse_http_date(&text), http_date_by_splitting(&text), "{}", text);
    }

    #[test]
    fn what_the_http_date_parser_accepts_the_old_one_did(text in ".{0,40}") {
        if let Some(at) = parse_http_date(&text) {
            prop_assert_eq!(Some(at), http_date_by_splitting(&text));
        }
    }

    #[test]
    fn json_text_round_trips(value in json_value()) {
        // Read -> write -> read keeps every number exactly, and the text is stable.
        let text = value.to_text();
        let again = json::parse(&text).unwrap();
        prop_assert_eq!(again.to_text(), text);
        prop_assert_eq!(again, value);
    }

    #[test]
    fn computed_integers_are_written_exactly(n in -(1i64 << 53)..=(1i64 << 53)) {
        let text = Json::Num((n as f64).into()).to_text();
        prop_assert_eq!(&text, &n.to_string());
        prop_assert_eq!(json::parse(&text).and_then(|v| v.as_f64()), Some(n as f64));
    }

    #[test]
    fn the_parsers_never_panic(text in ".{0,200}", status in 0u16..700, now in 0f64..4e12) {
        let _ = json::parse(&text);
        let _ = jwt_mod::decode(&text);
        let _ = persist::decode(&text, now);
        let _ = url::origin_of(&text);
        let _ = parse_retry_after(&text, now);
        let _ = Config::from_json(&text);
        for protocol in PROTOCOLS {
            let cfg = config(protocol);
            for op in OPS {
                let resp = HttpResponse { status, body: &text, date: "", retry_after: &text, auth_token: "", now };
                let parsed = json::parse(&text);
                let _ = protocol::parse_tokens(&cfg, op, &resp, parsed.as_ref());
                let _ = protocol::parse_session_token(op, &resp, &text, parsed.as_ref());
                let _ = protocol::parse_user(cfg.protocol, &resp);
                let _ = protocol::error_from_response(op, &resp);
            }
        }
    }

    #[test]
    fn a_token_at_any_valid_path_is_read_there(
        names in prop::collection::vec("[A-Za-z_$-][A-Za-z0-9_$-]{0,7}", 1..=8),
        token in "[A-Za-z0-9._-]{1,40}",
        decoy in json_value(),
    ) {
        let path = names.join(".");
        let fields = Fields::from_pairs(&[("accessToken".to_owned(), crate::core::json::Json::Str(path.clone()))]).unwrap();
        // {"n1": {"n2": ... {"nk": token}}} beside a decoy member.
        let mut body = Json::Str(token.clone());
        for name in names.iter().rev() {
            body = Json::Obj(vec![("decoy".to_owned(), decoy.clone()), (name.clone(), body)]);
        }
        prop_assert_eq!(lookup(&body, &fields.access_token).and_then(Json::as_str), Some(token.as_str()));
        let cfg = Config { fields, ..config("json") };
        let text = body.to_text();
        let resp = HttpResponse { status: 200, body: &text, date: "", retry_after: "", auth_token: "", now: 0.0 };
        prop_assert_eq!(protocol::parse_tokens(&cfg, Op::Login, &resp, Some(&body)).unwrap().access_token, token);
    }

    #[test]
    fn any_fields_value_is_a_path_or_a_config_error(key in "accessToken|refreshToken|expiresIn|user|refreshBody|other", value in ".{0,40}") {
        match Fields::from_pairs(&[(key, crate::core::json::Json::Str(value.clone()))]) {
            Ok(_) => prop_assert!(!value.is_empty() && !value.starts_with('.') && !value.ends_with('.') && !value.contains("..")),
            Err(e) => prop_assert_eq!(e.code, crate::core::error::ErrorCode::Config),
        }
    }

    #[test]
    fn a_jwt_shaped_string_of_anything_never_panics(a in "[A-Za-z0-9_-]{0,40}", b in "[A-Za-z0-9_-]{0,80}") {
        let _ = jwt_mod::decode(&[a.as_str(), ".", b.as_str(), ".sig"].concat());
    }

    /// decodeJwt's fast path (`skim`) judges every text as the full reader does (an
    /// object or not), and sees the members it is asked for as the full reader reads them.
    #[test]
    fn skimming_agrees_with_parsing(value in json_value(), noise in "[\\[\\]{}\",:0-9a-z.eE+-]{0,12}") {
        let text = value.to_text();
        for text in [text.clone(), [text.as_str(), noise.as_str()].concat(), [noise.as_str(), text.as_str()].concat(), noise.clone()] {
            let (full, skimmed) = (json::parse(&text), json::skim(&text, &["a", "exp"]));
            prop_assert_eq!(full.as_ref().is_some_and(Json::is_object), skimmed.is_some(), "{}", text);
            if let (Some(full), Some(skimmed)) = (full, skimmed) {
                for (key, seen) in ["a", "exp"].iter().zip(skimmed) {
                    prop_assert_eq!(json::Seen::of(full.get(key)), seen, "{}", text);
                }
                prop_assert_eq!(skimmed[2], json::Seen::NOTHING);
            }
        }
    }

    #[test]
    fn claims_survive_decoding(sub in "[a-z0-9]{1,20}", iat in 0i64..4_000_000_000, life in 1i64..1_000_000) {
        let token = jwt(&format!(r#"{{"sub":"{sub}","iat":{iat},"exp":{}}}"#, iat + life));
        let claims = jwt_mod::decode(&token).unwrap();
        prop_assert_eq!(claims.sub.as_deref(), Some(sub.as_str()));
        prop_assert_eq!((claims.iat, claims.exp), (Some(iat), Some(iat + life)));
    }

    #[test]
    fn a_stored_session_round_trips(
        sub in "[a-z0-9]{1,20}",
        iat in 1_000_000i64..4_000_000_000,
        life in 1i64..1_000_000,
        refresh in proptest::option::of("[A-Za-z0-9_-]{1,40}"),
        user in proptest::option::of(json_value()),
    ) {
        let token = jwt(&format!(r#"{{"sub":"{sub}","iat":{iat},"exp":{}}}"#, iat + life));
        let user = user.map(|u| Json::Obj(vec![("u".to_owned(), u)]).to_text());
        let session = Session::restore(token, refresh, None, None, user, iat as f64 * 1000.0).unwrap();
        let back = persist::decode(&persist::encode(&session), 0.0).unwrap();
        prop_assert_eq!(back, session);
    }

    #[test]
    fn origins_are_idempotent(host in "[a-z]{1,10}(\\.[a-z]{1,5}){0,2}", port in proptest::option::of(1u16..65535), path in "(/[a-z]{0,5}){0,3}") {
        let url = match port {
            Some(p) => format!("https://{host}:{p}{path}"),
            None => format!("https://{host}{path}"),
        };
        let origin = url::origin_of(&url).unwrap();
        prop_assert_eq!(url::origin_of(&origin), Some(origin.clone()));
        prop_assert!(!origin.ends_with('/'));
    }

    #[test]
    fn backoff_stays_between_the_floor_and_the_cap(base in 1f64..10_000.0, cap in 1f64..600_000.0, attempt in 0u32..100, random in 0f64..1.0) {
        let delay = Backoff { base_ms: base, cap_ms: cap }.delay(attempt, random);
        prop_assert!(delay >= MIN_RETRY_MS);
        prop_assert!(delay <= cap.max(MIN_RETRY_MS));
    }

    #[test]
    fn the_scheduler_never_wakes_before_it_may_nor_after_expiry(
        iat in 1_000_000i64..4_000_000_000,
        life in 1i64..100_000,
        margin in 0i64..10_000,
        not_before in proptest::option::of(0f64..5e12),
        now in 0f64..5e12,
        hidden in any::<bool>(),
        online in any::<bool>(),
    ) {
        let token = jwt(&format!(r#"{{"sub":"s","iat":{iat},"exp":{}}}"#, iat + life));
        let session = Session::restore(token, Some("r".into()), None, None, None, 0.0).unwrap();
        let exp = (iat + life) as f64 * 1000.0;
        let retry = RetryState { failures: 1, not_before: not_before.unwrap_or(NO_WAIT) };
        let page = Page { hidden, online };
        match next_wake(Some(&session), margin, &retry, page) {
            Wake::At(at) => {
                prop_assert!(!hidden && online);
                prop_assert!(not_before.is_none_or(|t| at >= t), "never before the backoff allows");
                prop_assert!(at <= exp.max(not_before.unwrap_or(0.0)), "never after expiry unless backing off");
                prop_assert!(at >= exp - (margin as f64 * 1000.0) - 1.0, "not earlier than the margin");
            }
            Wake::WhenOnline => prop_assert!(!online && !hidden),
            Wake::Idle => prop_assert!(hidden),
        }
        if refresh_now(Some(&session), now, margin, &retry, page) {
            prop_assert!(online && not_before.is_none_or(|t| now >= t));
            prop_assert!(session.refresh_due(now, margin));
        }
    }

    #[test]
    fn the_engine_answers_any_response_without_panicking(
        protocol in 0usize..3,
        status in 0u16..700,
        body in ".{0,120}",
        date in proptest::option::of(".{0,40}"),
    ) {
        let mut engine = Engine::new(config(PROTOCOLS[protocol]));
        let reply = Reply { status, body: &body, date: date.as_deref().unwrap_or(""), retry_after: &body, auth_token: &body, now: 1e12 };
        let _ = engine.sign_in_answer(Op::Login, &reply, 1e12);
        let _ = engine.refresh_answer(&reply, 1e12);
        let _ = engine.me_answer(&reply);
        let _ = engine.view(1e12);
    }
}

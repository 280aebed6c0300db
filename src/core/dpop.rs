//! DPoP (RFC 9449) decisions for the shell that signs: what a proof claims, which
//! server nonce goes in it, and what an answer means for it (retry once with the new
//! nonce, or not). The key and the signature are the shell's (js/dpop.js): WebCrypto
//! holds a key that cannot be exported, and signing is an effect.

use crate::prelude::*;

use super::clock::{Clock, Millis};
use super::json::{self, Json};
use super::object::Object;
use super::protocol::member_text;
use super::url::{find, origin_of};

/// What an answer means for DPoP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing to do with DPoP: the caller reads the answer as usual.
    Done,
    /// Send again, once, with a fresh proof: `use_dpop_nonce` (RFC 9449 8, 9) with
    /// the nonce it carried, or a proof refused while this device's clock was off
    /// (the answer's `Date` corrected it, so the next `iat` is the server's time).
    Retry,
    /// Tokens issued without binding (`token_type` not DPoP): the backend ignored the
    /// proof. With `dpop: true` that is refused, never used as a bearer (no silent downgrade).
    Unbound,
}

/// The last server nonce per origin (RFC 9449 8: a nonce is the server's, and a
/// proof for another server must not carry it).
#[derive(Debug, Clone, Default)]
pub struct Dpop {
    nonces: Vec<(String, String)>,
    /// The slot a new origin takes once `nonces` is full: the oldest, as they are
    /// replaced in turn (first in, first out).
    oldest: usize,
    /// The server's clock, from answers' `Date`: a proof's `iat` is checked against it
    /// within a minute, tighter than the clock of many devices.
    clock: Clock,
}

/// Most origins a client talks to: its backend and a few APIs.
const MAX_ORIGINS: usize = 16;

/// `htu` (RFC 9449 4.2): the URL without query and fragment, for a URL `origin_of`
/// accepts (the caller asks it too: its origin names the nonce).
fn htu(url: &str) -> Option<&str> {
    let url = trim(url);
    // A plain loop: a char-pattern search links a searcher, and `bytes().position`
    // is unrolled (both larger in the wasm).
    let bytes = url.as_bytes();
    let mut end = 0;
    while end < bytes.len() && bytes[end] != b'?' && bytes[end] != b'#' {
        end += 1;
    }
    // `0..end`: one `str::get` form in the wasm (see url.rs's `origin_authority_len`).
    url.get(0..end)
}

impl Dpop {
    pub fn new() -> Dpop {
        Dpop::default()
    }

    /// `Option<&String>`: one word answered (0 for none), not `Option<&str>`'s two
    /// through memory.
    fn nonce_for(&self, origin: &str) -> Option<&String> {
        // A loop, not `iter().find(..).map(..)` (smaller in the wasm). `str` with `str`
        // (`**o`): `String == str` linked a `PartialEq` monomorph for these two alone.
        for (o, n) in &self.nonces {
            if **o == *origin {
                return Some(n);
            }
        }
        None
    }

    /// The claims of a proof for `method` `url`, as JSON text: `jti` (the shell's
    /// random id), `htm`, `htu`, `iat` (seconds, from `now_ms` on the server's clock
    /// as the engine corrects it), the origin's nonce when one is known, and `ath`
    /// (base64url SHA-256 of the access token, the shell's hash) for a resource
    /// request. "" when `url` is no absolute http(s) URL (no proof can name it): a text,
    /// not an `Option`, as the boundary answers it (an `Option<String>` went through
    /// memory to be copied into the answer). `ath` "" for none, as the boundary has it.
    pub fn claims(&self, method: &str, url: &str, jti: &str, now_ms: Millis, ath: &str) -> String {
        // `htu` first: nothing owned yet at its early return.
        let Some(htu) = htu(url) else {
            return String::new();
        };
        let Some(origin) = origin_of(url) else {
            return String::new();
        };
        let mut proof = Object::new();
        proof
            .str("jti", jti)
            .str("htm", method)
            .str("htu", htu)
            .int("iat", (self.clock.now(now_ms) / 1000.0) as i64);
        if let Some(nonce) = self.nonce_for(&origin) {
            proof.str("nonce", nonce);
        }
        if !ath.is_empty() {
            proof.str("ath", ath);
        }
        proof.end()
    }

    /// An answer from `url`: remember its `DPoP-Nonce` for the origin, and say
    /// whether the request must go again with it. `use_dpop_nonce` comes as a 400
    /// with `{"error":"use_dpop_nonce"}` from a token endpoint (RFC 9449 8) or as a
    /// 401 whose `WWW-Authenticate` says so from a resource (RFC 9449 9); without a
    /// new nonce there is nothing a retry could change. `said`: a 401's
    /// `WWW-Authenticate`, else the body (one text: the status says which). `nonce`
    /// and `date`: the headers, "" for none, as the boundary has them (no `Option`
    /// made of each: "" is no valid nonce and no HTTP-date).
    pub fn answer(
        &mut self,
        url: &str,
        status: u16,
        nonce: &str,
        said: &str,
        date: &str,
        now_ms: Millis,
    ) -> Verdict {
        let Some(origin) = origin_of(url) else {
            return Verdict::Done;
        };
        let clock_moved = self.clock.observe_date(date, now_ms);
        // Trimmed once, checked once: whether it is one to remember and retry with
        // (a flag, not an `Option` made of the text and matched twice).
        let nonce = trim(nonce);
        let new_nonce = valid_nonce(nonce);
        if new_nonce {
            self.remember(&origin, nonce);
        }
        // The body read once: a 400's `error`, a token answer's `token_type`. One
        // expression, no early return (nothing to drop at each). A 401's header is
        // parsed too (no test of the status first): nothing reads what that gives.
        let parsed = json::parse(said);
        // What the refusal says: a 401's `WWW-Authenticate` or a 400's `error`, each
        // searched for the two codes (the `error` member holds exactly one when it
        // names it: one search for both, not a second comparison of the member).
        let said = match status {
            401 => said,
            // protocol's `member_text` ("" for none; no `str_of`: its `Option` went
            // through memory).
            _ => match &parsed {
                Some(b) => member_text(b, "error"),
                None => "",
            },
        };
        let (bad_proof, use_nonce) = (
            find(said, "invalid_dpop_proof").is_some(),
            find(said, "use_dpop_nonce").is_some(),
        );
        match status {
            400 | 401 if (clock_moved && bad_proof) || (new_nonce && use_nonce) => Verdict::Retry,
            200..=299 => match &parsed {
                Some(b) if b.get("access_token").is_some() && !token_type_is_dpop(b) => {
                    Verdict::Unbound
                }
                _ => Verdict::Done,
            },
            _ => Verdict::Done,
        }
    }

    /// `nonce` as `origin`'s last, copied once into its slot or a new one (the oldest
    /// goes past `MAX_ORIGINS`). `origin` borrowed and copied for a new slot only: the
    /// `String` moved in was carried through the stack three times on its way.
    fn remember(&mut self, origin: &str, nonce: &str) {
        // A loop, not `iter_mut().find(..)` (smaller in the wasm).
        let mut slot = None;
        for (o, n) in &mut self.nonces {
            if **o == *origin {
                slot = Some(n);
            }
        }
        match slot {
            // Written over the old one (its buffer kept).
            Some(n) => {
                n.clear();
                n.push_str(nonce);
            }
            None => {
                let entry = (origin.to_owned(), nonce.to_owned());
                let full = self.nonces.len() >= MAX_ORIGINS;
                // One match, so `entry` is moved on every path (no drop of it left for
                // a path that cannot be taken).
                match self.nonces.get_mut(self.oldest) {
                    // Written over in place: no `retain` or `remove(0)` shifting the
                    // list (each linked a function of its own; `remove` a panic path).
                    Some(oldest) if full => {
                        *oldest = entry;
                        self.oldest = (self.oldest + 1) % MAX_ORIGINS;
                    }
                    _ => self.nonces.push(entry),
                }
            }
        }
    }

    /// Forget every nonce (signed out: the next key starts afresh).
    pub fn clear(&mut self) {
        self.nonces.clear();
        self.oldest = 0;
    }
}

/// RFC 9449 8.1: `nonce = 1*NQCHAR` (printable ASCII but `"` and `\`); bounded.
fn valid_nonce(n: &str) -> bool {
    // A plain loop: `bytes().all(..)` is unrolled (larger in the wasm).
    let mut ok = !n.is_empty() && n.len() <= 512;
    for &b in n.as_bytes() {
        ok &= (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\';
    }
    ok
}

/// A token answer's `token_type` (RFC 9449 5: "DPoP" when the token is bound).
fn token_type_is_dpop(body: &Json) -> bool {
    matches!(body.text_of("token_type"), Some(t) if t.eq_ignore_ascii_case("dpop"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(d: &Dpop, url: &str, ath: Option<&str>) -> Json {
        json::parse(&d.claims("GET", url, "id-1", 1_700_000_000_500.0, ath.unwrap_or(""))).unwrap()
    }

    #[test]
    fn a_proof_names_the_request_without_query_or_fragment() {
        let d = Dpop::new();
        let c = claims(&d, "https://api.example.com/notes?x=1#top", None);
        assert_eq!(c.str_of("htu"), Some("https://api.example.com/notes"));
        assert_eq!(c.str_of("htm"), Some("GET"));
        assert_eq!(c.str_of("jti"), Some("id-1"));
        assert_eq!(c.num_of("iat"), Some(1_700_000_000.0));
        assert_eq!(c.get("nonce"), None);
        assert_eq!(c.get("ath"), None);
        assert_eq!(d.claims("GET", "/relative", "id", 0.0, ""), "");
        assert_eq!(d.claims("GET", "ftp://x.example/", "id", 0.0, ""), "");
    }

    #[test]
    fn a_resource_proof_carries_the_token_hash() {
        let c = claims(&Dpop::new(), "https://api.example.com/notes", Some("hash"));
        assert_eq!(c.str_of("ath"), Some("hash"));
    }

    #[test]
    fn nonces_are_remembered_per_origin_and_go_only_there() {
        let mut d = Dpop::new();
        assert_eq!(
            d.answer("https://a.example/auth/login", 200, "n1", "", "", 0.0),
            Verdict::Done
        );
        assert_eq!(
            claims(&d, "https://a.example/notes", None).str_of("nonce"),
            Some("n1")
        );
        assert_eq!(
            claims(&d, "https://A.example:443/x", None).str_of("nonce"),
            Some("n1")
        );
        assert_eq!(
            claims(&d, "https://b.example/notes", None).get("nonce"),
            None
        );
        d.answer("https://a.example/", 200, "n2", "", "", 0.0);
        assert_eq!(
            claims(&d, "https://a.example/notes", None).str_of("nonce"),
            Some("n2")
        );
        d.clear();
        assert_eq!(
            claims(&d, "https://a.example/notes", None).get("nonce"),
            None
        );
    }

    #[test]
    fn use_dpop_nonce_is_retried_only_with_a_new_nonce() {
        let mut d = Dpop::new();
        let body = r#"{"error":"use_dpop_nonce"}"#;
        assert_eq!(
            d.answer("https://a.example/token", 400, "n", body, "", 0.0),
            Verdict::Retry
        );
        assert_eq!(
            d.answer("https://a.example/token", 400, "", body, "", 0.0),
            Verdict::Done
        );
        // The member is searched as the 401's header is: the code with text around it
        // is still the code.
        let padded = r#"{"error":" use_dpop_nonce"}"#;
        assert_eq!(
            d.answer("https://a.example/token", 400, "n2", padded, "", 0.0),
            Verdict::Retry
        );
        let challenge = r#"DPoP error="use_dpop_nonce", algs="ES256""#;
        assert_eq!(
            d.answer("https://a.example/notes", 401, "m", challenge, "", 0.0),
            Verdict::Retry
        );
        // Another error, or a 400 that is a wrong password: the caller's answer.
        assert_eq!(
            d.answer(
                "https://a.example/notes",
                401,
                "m",
                r#"DPoP error="invalid_dpop_proof""#,
                "",
                0.0
            ),
            Verdict::Done
        );
        assert_eq!(
            d.answer(
                "https://a.example/token",
                400,
                "n",
                r#"{"error":"invalid_grant"}"#,
                "",
                0.0
            ),
            Verdict::Done
        );
        assert_eq!(
            d.answer("https://a.example/token", 400, "n", "not json", "", 0.0),
            Verdict::Done
        );
    }

    #[test]
    fn iat_is_the_servers_time_and_a_clock_fix_earns_one_retry() {
        let mut d = Dpop::new();
        // The device is 10 minutes behind the server (Sun, 06 Nov 1994 08:49:37 GMT).
        let server_ms = 784_111_777_000.0;
        let local = server_ms - 600_000.0;
        let refused = r#"DPoP error="invalid_dpop_proof""#;
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(
            d.answer("https://a.example/x", 401, "", refused, date, local),
            Verdict::Retry
        );
        let c = json::parse(&d.claims("GET", "https://a.example/x", "j", local, "")).unwrap();
        assert!((c.num_of("iat").unwrap() - server_ms / 1000.0).abs() <= 1.0);
        // The clock already right: the refusal is the caller's answer (no loop).
        assert_eq!(
            d.answer("https://a.example/x", 401, "", refused, date, local),
            Verdict::Done
        );
    }

    #[test]
    fn a_nonce_that_cannot_go_in_a_proof_is_ignored() {
        let mut d = Dpop::new();
        let body = r#"{"error":"use_dpop_nonce"}"#;
        assert_eq!(
            d.answer("https://a.example/t", 400, "a\"b", body, "", 0.0),
            Verdict::Done
        );
        assert_eq!(
            d.answer("https://a.example/t", 400, "", body, "", 0.0),
            Verdict::Done
        );
        assert_eq!(
            claims(&d, "https://a.example/notes", None).get("nonce"),
            None
        );
    }

    #[test]
    fn the_origins_remembered_are_bounded() {
        let mut d = Dpop::new();
        for i in 0..40 {
            d.answer(
                &["https://h", &i.to_string(), ".example/"].concat(),
                200,
                "n",
                "",
                "",
                0.0,
            );
        }
        assert_eq!(d.nonces.len(), MAX_ORIGINS);
        assert_eq!(
            claims(&d, "https://h39.example/", None).str_of("nonce"),
            Some("n")
        );
        // The last sixteen new origins are kept, the ones before forgotten oldest first.
        for i in [24, 25, 39] {
            let origin = ["https://h", &i.to_string(), ".example/"].concat();
            assert_eq!(claims(&d, &origin, None).str_of("nonce"), Some("n"), "{i}");
        }
        assert_eq!(
            claims(&d, "https://h23.example/", None).str_of("nonce"),
            None
        );
        assert_eq!(
            claims(&d, "https://h0.example/", None).str_of("nonce"),
            None
        );
    }

    #[test]
    fn tokens_the_backend_did_not_bind_are_refused() {
        let mut d = Dpop::new();
        let url = "https://a.example/auth/login";
        assert_eq!(
            d.answer(
                url,
                200,
                "",
                r#"{"access_token":"t","token_type":"DPoP"}"#,
                "",
                0.0
            ),
            Verdict::Done
        );
        assert_eq!(
            d.answer(
                url,
                201,
                "",
                r#"{"access_token":"t","token_type":"bearer"}"#,
                "",
                0.0
            ),
            Verdict::Unbound
        );
        assert_eq!(
            d.answer(url, 200, "", r#"{"access_token":"t"}"#, "", 0.0),
            Verdict::Unbound
        );
        // Not a token answer (a two-factor challenge, a user): nothing to say.
        assert_eq!(
            d.answer(url, 200, "", r#"{"challenge":"c"}"#, "", 0.0),
            Verdict::Done
        );
    }
}

//! The constructor's options, validated. The shell passes the JS object as
//! `JSON.stringify` wrote it (`Config::from_json`); every rule lives here.

use crate::prelude::*;

use super::error::AuthError;
use super::fields::Fields;
use super::json::{self, Json};
use super::schedule::Backoff;
use super::url::{find, push_origin, trim_end_slashes, Origin};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Json,
    OAuth2Password,
    BetterAuth,
}

/// Paths (or absolute URLs) per operation, read by one method each (`login()`, ...).
/// Empty: the protocol has no such call (`path` answers None for it). Texts, not
/// `Option<String>`s: no tag to test, write and drop around each (no configured path
/// is empty: `check` refuses one). An array in the methods' order (`slot`'s indices):
/// the defaults are written by one loop from one text per protocol, where a struct of
/// eleven members took 33 calls for the three protocols, and its drop is one loop
/// (-47 B gzip).
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoints([String; ENDPOINTS]);

/// How many endpoints a protocol has (`Endpoints`' places).
const ENDPOINTS: usize = 11;

/// Each protocol's default paths in `Endpoints`' order, the protocols in `Protocol`'s
/// order (json, oauth2-password, better-auth), separated by spaces (no path has one);
/// an empty path (no such call) is nothing between two. One text, not one per
/// protocol: no table of their pointers and lengths in the data.
/// Better Auth's `mfa` is the two-factor plugin's base path (verify-totp,
/// verify-backup-code).
const DEFAULT_PATHS: &str = concat!(
    "/auth/login /auth/register /auth/refresh /auth/logout /auth/me /auth/mfa/verify /auth/sessions /auth/oauth /auth/verify-email /auth/identities /auth/passkeys ",
    "/token  /token         ",
    "/api/auth/sign-in/email /api/auth/sign-up/email /api/auth/token /api/auth/sign-out /api/auth/get-session /api/auth/two-factor  /api/auth/sign-in/social",
);

impl Endpoints {
    /// `protocol`'s paths, pushed byte by byte (ASCII) into their places: the paths
    /// before them (the protocols before it) fall at places past the end, skipped.
    fn defaults(protocol: Protocol) -> Self {
        let first = ENDPOINTS * protocol as usize;
        // `from_fn`, not `Default::default()`: that wrote the eleven empty texts as 17
        // unrolled 8-byte stores, this is one loop (-20 B gzip).
        let mut endpoints = Endpoints(core::array::from_fn(|_| String::new()));
        let mut at: usize = 0;
        for &b in DEFAULT_PATHS.as_bytes() {
            if b == b' ' {
                at += 1;
            } else if let Some(path) = endpoints.0.get_mut(at.wrapping_sub(first)) {
                path.push(char::from(b));
            }
        }
        endpoints
    }

    /// The path of the `endpoints` option's key `key` (to be written over), None for no
    /// such key.
    pub fn slot(&mut self, key: &str) -> Option<&mut String> {
        let at = match key {
            "login" => 0,
            "register" => 1,
            "refresh" => 2,
            "logout" => 3,
            "me" => 4,
            "mfa" => 5,
            "sessions" => 6,
            "social" => 7,
            "verifyEmail" => 8,
            "identities" => 9,
            "passkeys" => 10,
            _ => return None,
        };
        self.0.get_mut(at)
    }

    #[inline(always)]
    pub fn login(&self) -> &str {
        &self.0[0]
    }

    #[inline(always)]
    pub fn register(&self) -> &str {
        &self.0[1]
    }

    #[inline(always)]
    pub fn refresh(&self) -> &str {
        &self.0[2]
    }

    #[inline(always)]
    pub fn logout(&self) -> &str {
        &self.0[3]
    }

    #[inline(always)]
    pub fn me(&self) -> &str {
        &self.0[4]
    }

    /// The second step of a two-factor sign-in (the reference backend's).
    #[inline(always)]
    pub fn mfa(&self) -> &str {
        &self.0[5]
    }

    /// The user's sessions (devices): list, revoke one, revoke all.
    #[inline(always)]
    pub fn sessions(&self) -> &str {
        &self.0[6]
    }

    /// Social sign-in: `{social}/{provider}/start` and `/callback`.
    #[inline(always)]
    pub fn social(&self) -> &str {
        &self.0[7]
    }

    /// Email verification: POST the link's token here; `{verify_email}/resend`.
    #[inline(always)]
    pub fn verify_email(&self) -> &str {
        &self.0[8]
    }

    /// The user's linked providers; `{identities}/{provider}` unlinks one.
    #[inline(always)]
    pub fn identities(&self) -> &str {
        &self.0[9]
    }

    /// Passkeys (WebAuthn): `{passkeys}/signin/options`, `/signin`, `/signup...`,
    /// `/register...`, the list, and `{passkeys}/{id}` to rename or remove one.
    #[inline(always)]
    pub fn passkeys(&self) -> &str {
        &self.0[10]
    }
}

/// Options as plain values, for other modules' tests and the fuzz target
/// (`Config::validate`); the package reads the options object itself (`Options`).
/// `validate` judges each option where `Config` has it and copies what it keeps, once.
/// The options other modules' tests do not build are kept as given (`&Json`).
#[derive(Debug, Clone, Default)]
pub struct RawConfig<'a> {
    pub base_url: Option<&'a str>,
    pub protocol: Option<&'a str>,
    pub storage: Option<&'a str>,
    /// `storageKey` as given (`validate` checks it).
    pub storage_key: Option<&'a Json>,
    /// The number options as given (`validate` checks them), seconds.
    pub refresh_margin: Option<&'a Json>,
    pub leeway: Option<&'a Json>,
    /// `allowedOrigins` as given (`validate` checks it).
    pub allowed_origins: Option<&'a Json>,
    /// `endpoints` as given (`validate` checks it): operation -> path.
    pub endpoints: Option<&'a Json>,
    /// `retry.baseDelay` / `retry.maxDelay`, ms.
    pub retry_base_delay: Option<&'a Json>,
    pub retry_max_delay: Option<&'a Json>,
    /// `lockTimeout`, ms.
    pub lock_timeout: Option<&'a Json>,
    /// `timeout`, ms: the longest wait for the backend on the client's own requests.
    pub timeout: Option<&'a Json>,
    /// `refreshTransport`: "body" (default) or "cookie".
    pub refresh_transport: Option<&'a str>,
    /// `dpop` as given (`validate` checks it): bind tokens to a key of this browser
    /// (RFC 9449).
    pub dpop: Option<&'a Json>,
    /// `fields`' members as given, every value a text (the options object's reader
    /// checks it).
    pub fields: &'a [(String, Json)],
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub base_url: String,
    pub protocol: Protocol,
    /// Where the shell keeps the session: "local", "session" or "memory", the
    /// option's own text (`check` accepts no other), which the shell's settings carry.
    /// A text, not an enum: nothing here tells them apart, and an enum's names were a
    /// table of pointers and lengths in the data for the one place that wrote them.
    pub storage: &'static str,
    pub storage_key: String,
    /// Seconds before `exp` at which a refresh is due.
    pub refresh_margin: i64,
    /// Seconds of tolerance on `exp`/`nbf`.
    pub leeway: i64,
    /// Origins (normalised) that may receive the bearer, the base URL's first, each
    /// followed by `ORIGIN_END` (see `bearer_allowed`). One text, not a `Vec<String>`:
    /// that linked its own `push` and drop for this one list.
    pub allowed_origins: String,
    pub endpoints: Endpoints,
    /// Backoff of failed refreshes.
    pub backoff: Backoff,
    /// How long a tab waits for another tab's refresh lock before going ahead (a
    /// hung tab must not block the others; a closed one releases it at once).
    pub lock_timeout_ms: f64,
    /// How long the client's own requests (sign-in, refresh, me, logout) wait for
    /// the backend before failing with `network`.
    pub timeout_ms: f64,
    /// The refresh token is an httpOnly cookie the client never sees
    /// (`refreshTransport: "cookie"`): auth requests carry credentials and the CSRF
    /// header, refresh and logout send no token.
    pub refresh_cookie: bool,
    /// DPoP (RFC 9449): every auth request and every request with the access token
    /// carries a proof signed by the browser's key; the token goes as `DPoP`, never
    /// as `Bearer`.
    pub dpop: bool,
    /// Where the token answers keep the tokens, expiry and user; the refresh body's field.
    pub fields: Fields,
}

/// Where `check` reads the options: the parsed options object (`Config::from_json`,
/// the package's one path) or a `RawConfig` (other modules' tests, the fuzz target).
/// `check` is generic over it, so the wasm links the object's reading alone: each
/// option read where it is judged, no `RawConfig` written and read back (-69 B gzip).
trait Options<'a>: Copy {
    /// A text option (`baseUrl`, `protocol`, `storage`, `storageKey`,
    /// `refreshTransport`), or `default` when it is absent.
    fn text(self, key: &str, default: &'static str) -> &'a str;
    /// Any other option, as given.
    fn value(self, key: &str) -> Option<&'a Json>;
    /// `retry.baseDelay` and `retry.maxDelay`.
    fn retry(self) -> (Option<&'a Json>, Option<&'a Json>);
    /// `fields`' members, every value a text, or its one refusal when it is of the
    /// wrong shape. Borrowed (no pairs copied): `Fields::from_pairs` reads them.
    fn fields(self) -> Result<&'a [(String, Json)], AuthError>;
}

/// The options object (`JSON.stringify`'s text, parsed). Absent or null members take
/// their defaults; a wrong member is refused by `check`.
impl<'a> Options<'a> for &'a Json {
    // Inlined with `text` and `as_text` (all three, or nothing changes): out of line,
    // its `&str` came back through memory to each of its five callers in `check`
    // (-21 B gzip).
    #[inline(always)]
    fn text(self, key: &str, default: &'static str) -> &'a str {
        text(self, key, default)
    }

    fn value(self, key: &str) -> Option<&'a Json> {
        present(self, key)
    }

    // Inlined into `check`, its one caller, as `fields`: its answer is not written to
    // memory and read back (-4 B gzip; `fields` -12).
    #[inline(always)]
    fn retry(self) -> (Option<&'a Json>, Option<&'a Json>) {
        // One match for both members, not a closure or `and_then(..)`: a function each.
        match present(self, "retry") {
            Some(retry) => (retry.get("baseDelay"), retry.get("maxDelay")),
            None => (None, None),
        }
    }

    #[inline(always)]
    fn fields(self) -> Result<&'a [(String, Json)], AuthError> {
        // An object of texts, or one refusal. A loop, not `collect::<Result<..>>`:
        // that adapter costs half a KB of wasm.
        let members: &[(String, Json)] = match present(self, "fields") {
            None => &[],
            Some(Json::Obj(members)) => members,
            Some(_) => return Err(wrong_pairs("fields")),
        };
        for (_, v) in members {
            if !matches!(v, Json::Str(_)) {
                return Err(wrong_pairs("fields"));
            }
        }
        Ok(members)
    }
}

/// The options as other modules' tests and the fuzz target build them.
impl<'a> Options<'a> for &RawConfig<'a> {
    fn text(self, key: &str, default: &'static str) -> &'a str {
        let text = match key {
            "baseUrl" => self.base_url,
            "protocol" => self.protocol,
            "storage" => self.storage,
            "refreshTransport" => self.refresh_transport,
            "storageKey" => return as_text(self.storage_key, default),
            _ => None,
        };
        text.unwrap_or(default)
    }

    fn value(self, key: &str) -> Option<&'a Json> {
        match key {
            "refreshMargin" => self.refresh_margin,
            "leeway" => self.leeway,
            "lockTimeout" => self.lock_timeout,
            "timeout" => self.timeout,
            "dpop" => self.dpop,
            "allowedOrigins" => self.allowed_origins,
            "endpoints" => self.endpoints,
            _ => None,
        }
    }

    fn retry(self) -> (Option<&'a Json>, Option<&'a Json>) {
        (self.retry_base_delay, self.retry_max_delay)
    }

    fn fields(self) -> Result<&'a [(String, Json)], AuthError> {
        Ok(self.fields)
    }
}

/// The member `key` of the options, None when absent or null. Functions, not
/// closures: a closure read the options through its environment (a pointer to the
/// stack slot holding them), `text` through `present`'s (-32 B gzip).
fn present<'a>(options: &'a Json, key: &str) -> Option<&'a Json> {
    options.get(key).filter(|v| !matches!(v, Json::Null))
}

/// The text option `key`, borrowed (`check` copies what it keeps), or its `default`
/// when absent or null: a text, not an `Option` to match again (-41 B gzip). One that
/// is no text reads as the empty text, which `check` refuses for each text option
/// saying what it must be: one refusal per option, no `Result` per read.
#[inline(always)]
fn text<'a>(options: &'a Json, key: &str, default: &'a str) -> &'a str {
    as_text(present(options, key), default)
}

/// An option's value read as `text` reads it.
#[inline(always)]
fn as_text<'a>(value: Option<&'a Json>, default: &'a str) -> &'a str {
    match value {
        None => default,
        Some(Json::Str(s)) => s,
        Some(_) => "",
    }
}

/// The refusal of `endpoints` or `fields` when it is no object of texts.
const WRONG_PAIRS: &str = " must be an object of paths";

fn wrong_pairs(name: &str) -> AuthError {
    AuthError::config_named(name, WRONG_PAIRS)
}

fn wrong_origins() -> AuthError {
    AuthError::config("allowedOrigins must be an array of http(s) origins")
}

/// `value` (or `default`, absent or null) when it is a number from 0 to `max`; else
/// (no number, or out of range: one refusal that says what it must be) a config
/// error naming the option. One function for both units: each copy costs the wasm.
/// Inlined over its judge (`in_range`): the judge answers an `f64` in a register, where
/// the `Result<f64, _>` came back through memory to each of the six reads.
#[inline(always)]
fn bounded(
    value: Option<&Json>,
    default: f64,
    max: f64,
    name: &str,
    rule: &str,
) -> Result<f64, AuthError> {
    let n = in_range(value, default, max);
    if n.is_nan() {
        Err(AuthError::config_named(name, rule))
    } else {
        Ok(n)
    }
}

/// `bounded`'s judge: the number, or NaN (which no JSON number is) for a refusal.
fn in_range(value: Option<&Json>, default: f64, max: f64) -> f64 {
    match value {
        None | Some(Json::Null) => default,
        Some(Json::Num(n)) if (0.0..=max).contains(&n.value()) => n.value(),
        Some(_) => f64::NAN,
    }
}

/// Inlined, as `seconds`: out of line, each wrapper cost more than the two constants
/// it passes (measured: -28 B gzip inlined).
#[inline(always)]
fn millis(value: Option<&Json>, default: f64, name: &str) -> Result<f64, AuthError> {
    bounded(
        value,
        default,
        3_600_000.0,
        name,
        " must be 0 to 3600000 milliseconds",
    )
}

/// Whole seconds are taken by the caller (`as i64`).
#[inline(always)]
fn seconds(value: Option<&Json>, default: f64, name: &str) -> Result<f64, AuthError> {
    bounded(
        value,
        default,
        86_400.0,
        name,
        " must be 0 to 86400 seconds",
    )
}

/// An endpoint's path (an `Endpoints` member), None when the protocol has no such
/// call (empty).
#[inline(always)]
pub fn path(endpoint: &str) -> Option<&str> {
    if endpoint.is_empty() {
        None
    } else {
        Some(endpoint)
    }
}

impl Config {
    /// The options as `JSON.stringify` wrote them, read and validated.
    pub fn from_json(text: &str) -> Result<Config, AuthError> {
        // `let .. else`, not `ok_or_else(..)?`: that monomorph is this module's alone.
        // Borrowed where it was answered (bound by value, it was moved first).
        let parsed = json::object(text);
        let Some(value) = &parsed else {
            return Err(AuthError::config(
                "AuthClient needs a config object with baseUrl",
            ));
        };
        Config::check(value)
    }

    pub fn validate(raw: RawConfig) -> Result<Config, AuthError> {
        // `raw` dropped here, once, whatever `check` answers (taken by value, it
        // was dropped at each of the refusals').
        Config::check(&raw)
    }

    fn check<'a>(raw: impl Options<'a>) -> Result<Config, AuthError> {
        // Every refusal leaves by one exit: the `Result` (a `Config`'s size) is written
        // once, not at each of its 25 refusals (-35 B gzip).
        let refusal = 'refused: {
            // `fields` of the wrong shape is reported first.
            let pairs = ok_or_break!(raw.fields(), 'refused);
            // Absent or empty, it is no absolute URL either: one refusal says what it
            // must be.
            let base_url = trim(raw.text("baseUrl", ""));
            // The allowed origins' text starts with the base's origin, written there.
            let mut allowed_origins = String::new();
            match push_origin(&mut allowed_origins, base_url) {
                Origin::Trustworthy => {}
                Origin::Plain => break 'refused not_https("baseUrl"),
                Origin::None => {
                    break 'refused AuthError::config("baseUrl must be an absolute http(s) URL")
                }
            }
            let protocol = match raw.text("protocol", "json") {
                "json" => Protocol::Json,
                "oauth2-password" => Protocol::OAuth2Password,
                "better-auth" => Protocol::BetterAuth,
                _ => {
                    break 'refused AuthError::config(
                        "protocol must be \"json\", \"oauth2-password\" or \"better-auth\"",
                    )
                }
            };
            let storage = match raw.text("storage", "local") {
                "local" => "local",
                "session" => "session",
                "memory" => "memory",
                _ => {
                    break 'refused AuthError::config(
                        "storage must be \"local\", \"session\" or \"memory\"",
                    )
                }
            };
            // Next to storage, as in `Config` (and before anything below owns memory).
            // A text: one that is none reads as empty, refused as such.
            let storage_key = raw.text("storageKey", "auth-wasm");
            if storage_key.is_empty() {
                break 'refused AuthError::config("storageKey must be a non-empty string");
            }
            let refresh_cookie = match raw.text("refreshTransport", "body") {
                "body" => false,
                "cookie" if protocol == Protocol::Json => true,
                "cookie" => {
                    break 'refused AuthError::config(
                        "refreshTransport \"cookie\" works with protocol \"json\"",
                    )
                }
                _ => {
                    break 'refused AuthError::config(
                        "refreshTransport must be \"body\" or \"cookie\"",
                    )
                }
            };
            let dpop = match raw.value("dpop") {
                None => false,
                Some(Json::Bool(on)) => *on,
                Some(_) => break 'refused AuthError::config("dpop must be true or false"),
            };
            if dpop && protocol == Protocol::BetterAuth {
                // Better Auth issues no DPoP-bound tokens: the proof would be ignored and
                // the tokens bearer tokens after all.
                break 'refused AuthError::config(
                    "dpop works with protocol \"json\" or \"oauth2-password\"",
                );
            }
            allowed_origins.push_str(ORIGIN_END);
            // One refusal for a value that is no list, an item that is no text and one that
            // is no absolute http(s) URL: what the list must be.
            let origins: &[Json] = match raw.value("allowedOrigins") {
                None => &[],
                Some(Json::Arr(items)) => items,
                Some(_) => break 'refused wrong_origins(),
            };
            for item in origins {
                let Json::Str(url) = item else {
                    break 'refused wrong_origins();
                };
                // Written onto the list where it is judged (duplicates kept:
                // `bearer_allowed` answers the same).
                match push_origin(&mut allowed_origins, url) {
                    Origin::Trustworthy => {}
                    Origin::Plain => break 'refused not_https("allowedOrigins"),
                    Origin::None => break 'refused wrong_origins(),
                }
                allowed_origins.push_str(ORIGIN_END);
            }
            let members: &[(String, Json)] = match raw.value("endpoints") {
                None => &[],
                Some(Json::Obj(members)) => members,
                Some(_) => break 'refused wrong_pairs("endpoints"),
            };
            let mut endpoints = Endpoints::defaults(protocol);
            for (op, path) in members {
                // One refusal for a value that is no text and an empty one (no path either).
                let path = match path {
                    Json::Str(path) if !path.is_empty() => path,
                    _ => break 'refused wrong_pairs("endpoints"),
                };
                // The slot chosen first, then written (one drop of the default it replaces).
                let Some(slot) = endpoints.slot(op) else {
                    break 'refused AuthError::config(
                        "endpoints keys are login, register, refresh, logout, me, mfa, sessions, social, verifyEmail, identities and passkeys",
                    );
                };
                // Written into the slot's own text (no clone allocated and the old one
                // dropped), as `Fields::from_pairs` does.
                slot.clear();
                slot.push_str(path);
            }
            // Better Auth's answers have one shape (its session token and `{token}`).
            if protocol == Protocol::BetterAuth && !pairs.is_empty() {
                break 'refused AuthError::config(
                    "fields works with protocol \"json\" or \"oauth2-password\"",
                );
            }
            // The defaults, the option's paths written over them in place.
            let mut fields = Fields::default();
            ok_or_break!(fields.read(pairs), 'refused);
            // The numbers last, where their refusals are reported (after every option
            // before them in `Config`): checked first, their error had to be kept alive
            // across every other refusal.
            let refresh_margin =
                ok_or_break!(seconds(raw.value("refreshMargin"), 60.0, "refreshMargin"), 'refused);
            let leeway = ok_or_break!(seconds(raw.value("leeway"), 30.0, "leeway"), 'refused);
            let (retry_base_delay, retry_max_delay) = raw.retry();
            let base_ms = ok_or_break!(
                millis(retry_base_delay, Backoff::default().base_ms, "retry.baseDelay"),
                'refused
            );
            let cap_ms = ok_or_break!(
                millis(retry_max_delay, Backoff::default().cap_ms, "retry.maxDelay"),
                'refused
            );
            let lock_timeout_ms =
                ok_or_break!(millis(raw.value("lockTimeout"), 10_000.0, "lockTimeout"), 'refused);
            let timeout_ms =
                ok_or_break!(millis(raw.value("timeout"), 15_000.0, "timeout"), 'refused);
            return Ok(Config {
                base_url: trim_end_slashes(base_url).to_owned(),
                protocol,
                storage,
                storage_key: storage_key.to_owned(),
                refresh_margin: refresh_margin as i64,
                leeway: leeway as i64,
                allowed_origins,
                endpoints,
                backoff: Backoff { base_ms, cap_ms },
                lock_timeout_ms,
                timeout_ms,
                refresh_cookie,
                dpop,
                fields,
            });
        };
        Err(refusal)
    }

    /// The storage key of the session record.
    pub fn session_key(&self) -> String {
        [self.storage_key.as_str(), ":session"].concat()
    }

    /// Whether a request to `url` (absolute) may carry the bearer: its origin followed
    /// by `ORIGIN_END` is in the list. That text is found only where it is a whole
    /// listed origin: an origin is `http://` or `https://` and a host[:port] without
    /// `/` or `#`, so the text's `://` can only be a listed origin's (the scheme before
    /// it the same, `http` being no `ttps` and `https` no `#http`) and its `#` the end
    /// of that one.
    pub fn bearer_allowed(&self, url: &str) -> bool {
        // A match, not `is_some_and(..)`: that monomorph would be this closure's alone.
        let mut origin = String::new();
        push_origin(&mut origin, url) != Origin::None && {
            origin.push_str(ORIGIN_END);
            find(&self.allowed_origins, &origin).is_some()
        }
    }
}

/// What follows each origin in `Config::allowed_origins`: no origin has it (`origin_of`
/// ends the authority at the first `/`, `?` or `#`).
const ORIGIN_END: &str = "#";

/// The refusal of an origin (`name`'s) that is not potentially trustworthy.
fn not_https(name: &str) -> AuthError {
    AuthError::config_named(name, " must use https: unless it is localhost or 127.0.0.1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::error::ErrorCode;
    use crate::core::url::origin_of;

    fn raw(base: &str) -> RawConfig<'_> {
        RawConfig {
            base_url: Some(base),
            ..RawConfig::default()
        }
    }

    fn from_json(text: &str) -> Result<Config, AuthError> {
        Config::from_json(text)
    }

    /// Every protocol's default paths, each at its own name (`Endpoints` reads them from
    /// one text per protocol), and every key of the option writing its own path.
    #[test]
    fn each_protocol_has_its_paths_and_each_key_sets_its_own() {
        let all = |e: &Endpoints| {
            [
                e.login(),
                e.register(),
                e.refresh(),
                e.logout(),
                e.me(),
                e.mfa(),
                e.sessions(),
                e.social(),
                e.verify_email(),
                e.identities(),
                e.passkeys(),
            ]
            .map(str::to_owned)
        };
        assert_eq!(
            all(&Endpoints::defaults(Protocol::Json)),
            [
                "/auth/login",
                "/auth/register",
                "/auth/refresh",
                "/auth/logout",
                "/auth/me",
                "/auth/mfa/verify",
                "/auth/sessions",
                "/auth/oauth",
                "/auth/verify-email",
                "/auth/identities",
                "/auth/passkeys"
            ]
        );
        assert_eq!(
            all(&Endpoints::defaults(Protocol::BetterAuth)),
            [
                "/api/auth/sign-in/email",
                "/api/auth/sign-up/email",
                "/api/auth/token",
                "/api/auth/sign-out",
                "/api/auth/get-session",
                "/api/auth/two-factor",
                "",
                "/api/auth/sign-in/social",
                "",
                "",
                ""
            ]
        );
        assert_eq!(
            all(&Endpoints::defaults(Protocol::OAuth2Password)),
            ["/token", "", "/token", "", "", "", "", "", "", "", ""]
        );
        let keys = [
            "login",
            "register",
            "refresh",
            "logout",
            "me",
            "mfa",
            "sessions",
            "social",
            "verifyEmail",
            "identities",
            "passkeys",
        ];
        let members: String = keys.iter().map(|k| format!(r#","{k}":"/{k}""#)).collect();
        let c = from_json(&format!(
            r#"{{"baseUrl":"http://localhost","endpoints":{{{}}}}}"#,
            &members[1..]
        ))
        .unwrap();
        assert_eq!(all(&c.endpoints), keys.map(|k| format!("/{k}")));
    }

    #[test]
    fn the_first_wrong_option_is_the_one_reported() {
        // The numbers are checked and reported after the options before them.
        let message = |text: &str| from_json(text).unwrap_err().message.clone();
        assert_eq!(
            message(r#"{"baseUrl":"http://localhost","endpoints":{"x":"/x"},"leeway":-1}"#),
            "endpoints keys are login, register, refresh, logout, me, mfa, sessions, social, verifyEmail, identities and passkeys"
        );
        assert_eq!(
            message(r#"{"baseUrl":"http://example.com","leeway":-1}"#),
            "baseUrl must use https: unless it is localhost or 127.0.0.1"
        );
        assert_eq!(
            message(r#"{"baseUrl":"http://localhost","leeway":-1,"timeout":-1}"#),
            "leeway must be 0 to 86400 seconds"
        );
        assert_eq!(
            message(r#"{"baseUrl":1,"protocol":2}"#),
            "baseUrl must be an absolute http(s) URL"
        );
        // storageKey next to storage, before the options after it in `Config`.
        assert_eq!(
            message(r#"{"baseUrl":"http://localhost","storageKey":"","fields":{"x":"y"}}"#),
            "storageKey must be a non-empty string"
        );
        // allowedOrigins is judged in its place in `Config`, after storage.
        assert_eq!(
            message(r#"{"baseUrl":"http://localhost","allowedOrigins":[1],"storage":"x"}"#),
            "storage must be \"local\", \"session\" or \"memory\""
        );
    }

    #[test]
    fn dpop_is_a_boolean_for_the_protocols_that_bind_tokens() {
        assert!(!from_json(r#"{"baseUrl":"http://localhost"}"#).unwrap().dpop);
        assert!(
            from_json(r#"{"baseUrl":"http://localhost","dpop":true}"#)
                .unwrap()
                .dpop
        );
        assert!(
            from_json(r#"{"baseUrl":"http://localhost","protocol":"oauth2-password","dpop":true}"#)
                .unwrap()
                .dpop
        );
        for (bad, message) in [
            (
                r#"{"baseUrl":"http://localhost","dpop":"yes"}"#,
                "dpop must be true or false",
            ),
            (
                r#"{"baseUrl":"http://localhost","protocol":"better-auth","dpop":true}"#,
                "dpop works with protocol \"json\" or \"oauth2-password\"",
            ),
        ] {
            let err = from_json(bad).unwrap_err();
            assert_eq!(
                (err.code, err.message.as_str()),
                (ErrorCode::Config, message),
                "{bad}"
            );
        }
    }

    #[test]
    fn read_from_the_json_of_the_options_object() {
        let c = from_json(
            r#"{"baseUrl":"http://127.0.0.1:8000","protocol":"better-auth","storage":null,
               "refreshMargin":90,"allowedOrigins":["https://files.example.com"],
               "endpoints":{"me":"/me"},"retry":{"baseDelay":500,"maxDelay":4000},"lockTimeout":2000,
               "leeway":5,"dpop":false,"storageKey":"k","refreshTransport":"body"}"#,
        )
        .unwrap();
        assert_eq!(c.protocol, Protocol::BetterAuth);
        assert_eq!(c.storage, "local");
        assert_eq!(c.refresh_margin, 90);
        assert_eq!(c.endpoints.me(), "/me");
        assert_eq!((c.backoff.base_ms, c.backoff.cap_ms), (500.0, 4000.0));
        assert_eq!(c.lock_timeout_ms, 2000.0);
        assert_eq!(c.timeout_ms, 15_000.0, "the default");
        assert_eq!((c.leeway, c.storage_key.as_str()), (5, "k"));
        assert!(!c.dpop && !c.refresh_cookie);
        let timed = from_json(r#"{"baseUrl":"http://localhost","timeout":2500}"#).unwrap();
        assert_eq!(timed.timeout_ms, 2500.0);
        assert!(c.bearer_allowed("https://files.example.com/x"));
    }

    /// Each storage is kept as its own name (the shell's settings carry it), "local"
    /// when absent or null.
    #[test]
    fn each_storage_keeps_its_name() {
        for (given, kept) in [
            (r#""local""#, "local"),
            (r#""session""#, "session"),
            (r#""memory""#, "memory"),
            ("null", "local"),
        ] {
            let text = format!(r#"{{"baseUrl":"http://localhost","storage":{given}}}"#);
            assert_eq!(from_json(&text).unwrap().storage, kept, "{given}");
        }
        assert_eq!(
            from_json(r#"{"baseUrl":"http://localhost"}"#)
                .unwrap()
                .storage,
            "local"
        );
    }

    #[test]
    fn the_cookie_transport_is_for_the_json_protocol() {
        let c = from_json(
            r#"{"baseUrl":"http://localhost","storage":"memory","refreshTransport":"cookie"}"#,
        )
        .unwrap();
        assert!(c.refresh_cookie);
        assert!(
            !from_json(r#"{"baseUrl":"http://localhost"}"#)
                .unwrap()
                .refresh_cookie
        );
        for (text, message) in [
            (
                r#"{"baseUrl":"http://localhost","protocol":"better-auth","refreshTransport":"cookie"}"#,
                "refreshTransport \"cookie\" works with protocol \"json\"",
            ),
            (
                r#"{"baseUrl":"http://localhost","refreshTransport":"header"}"#,
                "refreshTransport must be \"body\" or \"cookie\"",
            ),
        ] {
            let err = from_json(text).unwrap_err();
            assert_eq!(
                (err.code, err.message.as_str()),
                (ErrorCode::Config, message),
                "{text}"
            );
        }
    }

    #[test]
    fn wrong_types_in_the_options_object_are_config_errors() {
        for (text, message) in [
            ("[]", "AuthClient needs a config object with baseUrl"),
            ("not json", "AuthClient needs a config object with baseUrl"),
            (
                r#"{"baseUrl":8000}"#,
                "baseUrl must be an absolute http(s) URL",
            ),
            // A text option that is no text has the one refusal of its wrong values.
            (
                r#"{"baseUrl":"http://localhost","protocol":1}"#,
                "protocol must be \"json\", \"oauth2-password\" or \"better-auth\"",
            ),
            (
                r#"{"baseUrl":"http://localhost","storage":true}"#,
                "storage must be \"local\", \"session\" or \"memory\"",
            ),
            (
                r#"{"baseUrl":"http://localhost","storageKey":1}"#,
                "storageKey must be a non-empty string",
            ),
            (
                r#"{"baseUrl":"http://localhost","refreshTransport":{}}"#,
                "refreshTransport must be \"body\" or \"cookie\"",
            ),
            (
                r#"{"baseUrl":"http://localhost","leeway":"30"}"#,
                "leeway must be 0 to 86400 seconds",
            ),
            (
                r#"{"baseUrl":"http://localhost","allowedOrigins":"x"}"#,
                "allowedOrigins must be an array of http(s) origins",
            ),
            (
                r#"{"baseUrl":"http://localhost","allowedOrigins":[1]}"#,
                "allowedOrigins must be an array of http(s) origins",
            ),
            (
                r#"{"baseUrl":"http://localhost","allowedOrigins":["cdn.example.com"]}"#,
                "allowedOrigins must be an array of http(s) origins",
            ),
            (
                r#"{"baseUrl":"http://localhost","allowedOrigins":["http://cdn.example.com"]}"#,
                "allowedOrigins must use https: unless it is localhost or 127.0.0.1",
            ),
            (
                r#"{"baseUrl":"http://localhost","endpoints":{"me":1}}"#,
                "endpoints must be an object of paths",
            ),
            (
                r#"{"baseUrl":"http://localhost","endpoints":"/auth"}"#,
                "endpoints must be an object of paths",
            ),
            (
                r#"{"baseUrl":"http://localhost","endpoints":{"me":""}}"#,
                "endpoints must be an object of paths",
            ),
            (
                r#"{"baseUrl":"http://localhost","retry":{"baseDelay":"x"}}"#,
                "retry.baseDelay must be 0 to 3600000 milliseconds",
            ),
        ] {
            let err = from_json(text).unwrap_err();
            assert_eq!(
                (err.code, err.message.as_str()),
                (ErrorCode::Config, message),
                "{text}"
            );
        }
    }

    #[test]
    fn fields_are_read_from_the_options_object() {
        let c = from_json(
            r#"{"baseUrl":"http://localhost","fields":{"accessToken":"access","refreshToken":"refresh",
               "refreshBody":"refresh","user":"data.user","expiresIn":"data.ttl"}}"#,
        )
        .unwrap();
        assert_eq!(
            (
                c.fields.access_token.as_str(),
                c.fields.refresh_token.as_str(),
                c.fields.refresh_body.as_str(),
                c.fields.user.as_str(),
                c.fields.expires_in.as_str()
            ),
            ("access", "refresh", "refresh", "data.user", "data.ttl")
        );
        for text in [
            r#"{"baseUrl":"http://localhost","fields":null}"#,
            r#"{"baseUrl":"http://localhost","fields":{}}"#,
        ] {
            assert_eq!(from_json(text).unwrap().fields, Fields::default(), "{text}");
        }
        let c = from_json(
            r#"{"baseUrl":"http://localhost","protocol":"oauth2-password","fields":{"refreshBody":"refresh"}}"#,
        )
        .unwrap();
        assert_eq!(
            c.fields.refresh_body, "refresh",
            "oauth2-password takes fields too"
        );
    }

    #[test]
    fn bad_fields_are_config_errors_at_construction() {
        for (text, message) in [
            (
                r#"{"baseUrl":"http://localhost","fields":"access"}"#,
                "fields must be an object of paths",
            ),
            (
                r#"{"baseUrl":"http://localhost","fields":["access"]}"#,
                "fields must be an object of paths",
            ),
            (
                r#"{"baseUrl":"http://localhost","fields":{"accessToken":["data","token"]}}"#,
                "fields must be an object of paths",
            ),
            (
                r#"{"baseUrl":"http://localhost","fields":{"accessToken":null}}"#,
                "fields must be an object of paths",
            ),
            (
                r#"{"baseUrl":"http://localhost","fields":{"accessToken":"data..token"}}"#,
                "fields.accessToken must be member names joined by dots, like \"data.token\"",
            ),
            (
                r#"{"baseUrl":"http://localhost","fields":{"access":"access"}}"#,
                "fields keys are accessToken, refreshToken, expiresIn, user and refreshBody",
            ),
            (
                r#"{"baseUrl":"http://localhost","protocol":"better-auth","fields":{"accessToken":"token"}}"#,
                "fields works with protocol \"json\" or \"oauth2-password\"",
            ),
        ] {
            let err = from_json(text).unwrap_err();
            assert_eq!(
                (err.code, err.message.as_str()),
                (ErrorCode::Config, message),
                "{text}"
            );
        }
    }

    #[test]
    fn defaults() {
        let c = Config::validate(raw("http://localhost:8000/")).unwrap();
        assert_eq!(c.base_url, "http://localhost:8000");
        // Trimmed once here: `url::join` takes the base as `Config` holds it.
        let api = Config::validate(raw("http://localhost:8000/api//")).unwrap();
        assert_eq!(
            crate::core::url::join(&api.base_url, "/auth/login"),
            "http://localhost:8000/api/auth/login"
        );
        assert_eq!(c.protocol, Protocol::Json);
        assert_eq!(c.storage, "local");
        assert_eq!(c.session_key(), "auth-wasm:session");
        assert_eq!((c.refresh_margin, c.leeway), (60, 30));
        assert_eq!(c.endpoints.login(), "/auth/login");
        assert_eq!(c.backoff, Backoff::default());
        assert_eq!(c.lock_timeout_ms, 10_000.0);
        let tuned = Config::validate(RawConfig {
            retry_base_delay: Some(&Json::Num(200.0.into())),
            retry_max_delay: Some(&Json::Num(800.0.into())),
            lock_timeout: Some(&Json::Num(500.0.into())),
            ..raw("http://localhost")
        })
        .unwrap();
        assert_eq!(
            (
                tuned.backoff.base_ms,
                tuned.backoff.cap_ms,
                tuned.lock_timeout_ms
            ),
            (200.0, 800.0, 500.0)
        );
    }

    #[test]
    fn base_url_rules() {
        for bad in [
            None,
            Some(""),
            Some("/api"),
            Some("localhost:8000"),
            Some("http://api.example.com"),
            Some("ftp://x"),
        ] {
            let r = RawConfig {
                base_url: bad,
                ..RawConfig::default()
            };
            assert_eq!(
                Config::validate(r).unwrap_err().code,
                ErrorCode::Config,
                "{bad:?}"
            );
        }
        for good in [
            "https://api.example.com",
            "http://127.0.0.1:8000",
            "http://[::1]:1",
        ] {
            assert!(Config::validate(raw(good)).is_ok(), "{good}");
        }
    }

    #[test]
    fn unknown_protocol_storage_and_endpoint_are_config_errors() {
        for r in [
            RawConfig {
                protocol: Some("soap"),
                ..raw("http://localhost")
            },
            RawConfig {
                storage: Some("cookie"),
                ..raw("http://localhost")
            },
            RawConfig {
                endpoints: Some(&Json::Obj(vec![("signin".into(), Json::Str("/x".into()))])),
                ..raw("http://localhost")
            },
            RawConfig {
                refresh_margin: Some(&Json::Num((-1.0).into())),
                ..raw("http://localhost")
            },
            RawConfig {
                leeway: Some(&Json::Num(f64::NAN.into())),
                ..raw("http://localhost")
            },
            RawConfig {
                allowed_origins: Some(&Json::Arr(vec![Json::Str("http://cdn.example.com".into())])),
                ..raw("http://localhost")
            },
            RawConfig {
                storage_key: Some(&Json::Str(String::new())),
                ..raw("http://localhost")
            },
        ] {
            assert_eq!(Config::validate(r).unwrap_err().code, ErrorCode::Config);
        }
    }

    #[test]
    fn a_raw_config_is_read_as_the_options_object() {
        // Each option `check` reads by its key, set wrong in a `RawConfig`: refused as
        // in the options object (the key matched to its field).
        let wrong = Json::Str("x".into());
        let unknown_field = crate::core::fields::tests::pairs(&[("x", "y")]);
        for (r, message) in [
            (
                RawConfig {
                    base_url: None,
                    ..raw("")
                },
                "baseUrl must be an absolute http(s) URL",
            ),
            (
                RawConfig {
                    protocol: Some("x"),
                    ..raw("http://localhost")
                },
                "protocol must be \"json\", \"oauth2-password\" or \"better-auth\"",
            ),
            (
                RawConfig {
                    storage: Some("x"),
                    ..raw("http://localhost")
                },
                "storage must be \"local\", \"session\" or \"memory\"",
            ),
            (
                RawConfig {
                    storage_key: Some(&Json::Null),
                    ..raw("http://localhost")
                },
                "storageKey must be a non-empty string",
            ),
            (
                RawConfig {
                    refresh_transport: Some("x"),
                    ..raw("http://localhost")
                },
                "refreshTransport must be \"body\" or \"cookie\"",
            ),
            (
                RawConfig {
                    dpop: Some(&wrong),
                    ..raw("http://localhost")
                },
                "dpop must be true or false",
            ),
            (
                RawConfig {
                    allowed_origins: Some(&wrong),
                    ..raw("http://localhost")
                },
                "allowedOrigins must be an array of http(s) origins",
            ),
            (
                RawConfig {
                    endpoints: Some(&wrong),
                    ..raw("http://localhost")
                },
                "endpoints must be an object of paths",
            ),
            (
                RawConfig {
                    fields: &unknown_field,
                    ..raw("http://localhost")
                },
                "fields keys are accessToken, refreshToken, expiresIn, user and refreshBody",
            ),
            (
                RawConfig {
                    refresh_margin: Some(&wrong),
                    ..raw("http://localhost")
                },
                "refreshMargin must be 0 to 86400 seconds",
            ),
            (
                RawConfig {
                    leeway: Some(&wrong),
                    ..raw("http://localhost")
                },
                "leeway must be 0 to 86400 seconds",
            ),
            (
                RawConfig {
                    retry_base_delay: Some(&wrong),
                    ..raw("http://localhost")
                },
                "retry.baseDelay must be 0 to 3600000 milliseconds",
            ),
            (
                RawConfig {
                    retry_max_delay: Some(&wrong),
                    ..raw("http://localhost")
                },
                "retry.maxDelay must be 0 to 3600000 milliseconds",
            ),
            (
                RawConfig {
                    lock_timeout: Some(&wrong),
                    ..raw("http://localhost")
                },
                "lockTimeout must be 0 to 3600000 milliseconds",
            ),
            (
                RawConfig {
                    timeout: Some(&wrong),
                    ..raw("http://localhost")
                },
                "timeout must be 0 to 3600000 milliseconds",
            ),
        ] {
            assert_eq!(Config::validate(r).unwrap_err().message, message);
        }
    }

    #[test]
    fn oauth2_defaults_and_overrides() {
        let c = Config::validate(RawConfig {
            protocol: Some("oauth2-password"),
            endpoints: Some(&Json::Obj(vec![
                ("login".into(), Json::Str("/auth/token".into())),
                ("refresh".into(), Json::Str("/auth/token".into())),
                ("me".into(), Json::Str("/auth/me".into())),
            ])),
            ..raw("http://localhost:8000")
        })
        .unwrap();
        assert_eq!(c.endpoints.login(), "/auth/token");
        assert_eq!(c.endpoints.me(), "/auth/me");
        assert_eq!(path(c.endpoints.register()), None);
        assert_eq!(path(c.endpoints.logout()), None);
    }

    #[test]
    fn the_origin_list_answers_as_a_list_of_origins() {
        // Every URL of a pool against every list of two of its origins (after the base's):
        // allowed exactly when its origin is one of the list's.
        let mut pool = Vec::new();
        for scheme in ["http://", "https://", "HTTPS://"] {
            for host in ["a", "a.b", "b.a", "ab", "localhost", "127.0.0.1", "[::1]"] {
                for port in ["", ":80", ":443", ":8443", ":1", ":080"] {
                    pool.push([scheme, host, port, "/p"].concat());
                }
            }
        }
        let origins: Vec<String> = pool.iter().filter_map(|u| origin_of(u)).collect();
        for first in (0..origins.len()).step_by(5) {
            for second in (0..origins.len()).step_by(7) {
                let list = [origins[first].as_str(), origins[second].as_str()];
                let options = format!(
                    r#"{{"baseUrl":"http://localhost:3000","allowedOrigins":["{}","{}"]}}"#,
                    list[0], list[1]
                );
                let Ok(c) = from_json(&options) else {
                    continue; // an http origin that is not loopback
                };
                for url in &pool {
                    let origin = origin_of(url).unwrap();
                    let expected = origin == "http://localhost:3000" || list.contains(&&*origin);
                    assert_eq!(c.bearer_allowed(url), expected, "{url} {list:?}");
                }
            }
        }
    }

    #[test]
    fn bearer_goes_only_to_allowed_origins() {
        let c = Config::validate(RawConfig {
            allowed_origins: Some(&Json::Arr(vec![Json::Str(
                "https://files.example.com/ignored/path".into(),
            )])),
            ..raw("http://127.0.0.1:8000")
        })
        .unwrap();
        assert!(c.bearer_allowed("http://127.0.0.1:8000/notes"));
        assert!(c.bearer_allowed("https://files.example.com:443/x"));
        assert!(
            !c.bearer_allowed("http://localhost:8000/notes"),
            "another origin, same server"
        );
        assert!(!c.bearer_allowed("http://127.0.0.1:8001/"));
        assert!(!c.bearer_allowed("https://127.0.0.1:8000/"));
        assert!(!c.bearer_allowed("http://127.0.0.1:8000.evil.com/"));
        assert!(!c.bearer_allowed("/relative"));
        // An origin listed twice (or the base's again) is kept twice: the same answers.
        let twice = from_json(
            r#"{"baseUrl":"http://localhost","allowedOrigins":["http://localhost/","https://a.example","https://a.example/x"]}"#,
        )
        .unwrap();
        assert_eq!(
            twice.allowed_origins,
            "http://localhost#http://localhost#https://a.example#https://a.example#"
        );
        assert!(twice.bearer_allowed("https://a.example/y"));
        assert!(twice.bearer_allowed("http://localhost/y"));
        assert!(!twice.bearer_allowed("https://b.example/"));
        // Found only as a whole listed origin: not another scheme's, nor a host's end
        // or start, nor a listed origin with a port.
        for (url, allowed) in [
            ("https://localhost/", false),
            ("http://a.example/", false),
            ("https://example/", false),
            ("https://a.exampl/", false),
            ("https://a.example:8443/", false),
            ("https://b.a.example/", false),
            ("https://a.example:443/", true),
            ("HTTPS://A.EXAMPLE/", true),
        ] {
            assert_eq!(twice.bearer_allowed(url), allowed, "{url}");
        }
    }
}

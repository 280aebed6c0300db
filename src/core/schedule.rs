//! When to refresh: the proactive timer, backoff with full jitter, Retry-After,
//! offline and hidden tabs, as pure functions of time and events (the shell
//! supplies `now`, a random number and the page's visibility/online state).

use super::clock::Millis;
use super::error::ErrorCode;
use super::session::Session;

/// Exponential backoff with full jitter (the AWS architecture blog's variant):
/// the n-th retry waits uniformly in [0, min(cap, base * 2^n)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub base_ms: f64,
    pub cap_ms: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base_ms: 1_000.0,
            cap_ms: 60_000.0,
        }
    }
}

impl Backoff {
    /// `random` in [0, 1). Never below `MIN_RETRY_MS`: a retry is never immediate.
    pub fn delay(&self, attempt: u32, random: f64) -> Millis {
        let ceiling = (self.base_ms * (1u32 << attempt.min(30)) as f64).min(self.cap_ms);
        (ceiling * random.clamp(0.0, 1.0)).max(MIN_RETRY_MS)
    }
}

/// The shortest wait between two refresh attempts of one tab: even a token that is
/// due again at once (a server issuing already-expired tokens) cannot cause a loop.
pub const MIN_RETRY_MS: Millis = 1_000.0;

/// Failure memory between attempts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryState {
    /// Consecutive transient failures.
    pub failures: u32,
    /// No attempt before this time (server clock); `NO_WAIT` (minus infinity) when any
    /// time will do. A plain `f64`, not an `Option`: every test of it is one comparison
    /// (`allows`) or a `max` (`next_wake`), no tag written and read.
    pub not_before: Millis,
}

/// `RetryState::not_before` when nothing was failed or succeeded yet: before every time.
pub const NO_WAIT: Millis = f64::NEG_INFINITY;

impl Default for RetryState {
    fn default() -> Self {
        RetryState {
            failures: 0,
            not_before: NO_WAIT,
        }
    }
}

impl RetryState {
    /// After a refresh at `now` failed with `code` (and the answer's Retry-After in
    /// seconds). Returns whether to retry at all. The two parts it reads, not an
    /// `AuthError`: the shell's failure is made into no error just for this.
    pub fn failed(
        &mut self,
        code: ErrorCode,
        retry_after: Option<u32>,
        now: Millis,
        backoff: &Backoff,
        random: f64,
    ) -> bool {
        // One path for both kinds of retry (`delay` is never below `MIN_RETRY_MS`).
        let wait = match (code, retry_after) {
            (ErrorCode::RateLimited, Some(s)) => f64::from(s) * 1000.0,
            (
                ErrorCode::Network
                | ErrorCode::Server
                | ErrorCode::InvalidResponse
                | ErrorCode::RateLimited,
                _,
            ) => backoff.delay(self.failures, random),
            // refresh_failed / session_expired: signed out, nothing to retry.
            _ => {
                *self = RetryState::default();
                return false;
            }
        };
        self.not_before = now + wait.max(MIN_RETRY_MS);
        self.failures = self.failures.saturating_add(1);
        true
    }

    pub fn succeeded(&mut self, now: Millis) {
        // Keep a floor between refreshes even on success (see MIN_RETRY_MS).
        *self = RetryState {
            failures: 0,
            not_before: now + MIN_RETRY_MS,
        };
    }

    /// May an attempt start at `now`?
    pub fn allows(&self, now: Millis) -> bool {
        now >= self.not_before
    }
}

/// What the page is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub hidden: bool,
    pub online: bool,
}

/// What the shell should arrange next.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Wake {
    /// Set a timer for this time (server clock).
    At(Millis),
    /// Do nothing until the browser says it is online again.
    WhenOnline,
    /// No timer: nothing to refresh, or the tab is hidden (visibility/focus wake it).
    Idle,
}

/// The proactive schedule: refresh at `exp - margin`, not before `retry.not_before`.
pub fn next_wake(
    session: Option<&Session>,
    refresh_margin: i64,
    retry: &RetryState,
    page: Page,
) -> Wake {
    let Some(at) = session.and_then(|s| s.refresh_at(refresh_margin)) else {
        return Wake::Idle;
    };
    if page.hidden {
        return Wake::Idle;
    }
    if !page.online {
        return Wake::WhenOnline;
    }
    Wake::At(at.max(retry.not_before))
}

/// Should a refresh start now (timer fired, tab became visible, came online)?
pub fn refresh_now(
    session: Option<&Session>,
    now: Millis,
    refresh_margin: i64,
    retry: &RetryState,
    page: Page,
) -> bool {
    page.online && retry.allows(now) && session.is_some_and(|s| s.refresh_due(now, refresh_margin))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::clock::Clock;
    use crate::core::session::tests::jwt;
    use crate::prelude::*;

    const S: f64 = 1000.0;
    const VISIBLE: Page = Page {
        hidden: false,
        online: true,
    };

    fn session(iat: i64, exp: i64) -> Session {
        Session::restore(
            jwt(&format!(r#"{{"iat":{iat},"exp":{exp}}}"#)),
            Some("r".into()),
            None,
            None,
            None,
            0.0,
        )
        .unwrap()
    }

    #[test]
    fn backoff_grows_exponentially_with_full_jitter_and_a_cap() {
        let b = Backoff {
            base_ms: 1000.0,
            cap_ms: 8000.0,
        };
        assert_eq!(b.delay(0, 0.999_999).round(), 1000.0);
        assert_eq!(b.delay(1, 0.5), 1000.0);
        assert_eq!(b.delay(2, 0.5), 2000.0);
        assert_eq!(b.delay(3, 0.5), 4000.0);
        assert_eq!(b.delay(10, 0.5), 4000.0, "capped at 8 s before jitter");
        assert_eq!(b.delay(3, 0.0), MIN_RETRY_MS, "never immediate");
        assert_eq!(b.delay(u32::MAX, 1.0), 8000.0);
    }

    #[test]
    fn timer_at_exp_minus_margin() {
        let s = session(0, 900);
        assert_eq!(
            next_wake(Some(&s), 60, &RetryState::default(), VISIBLE),
            Wake::At(840.0 * S)
        );
        assert_eq!(
            next_wake(None, 60, &RetryState::default(), VISIBLE),
            Wake::Idle
        );
    }

    #[test]
    fn hidden_tabs_have_no_timer_and_offline_waits_for_online() {
        let s = session(0, 900);
        assert_eq!(
            next_wake(
                Some(&s),
                60,
                &RetryState::default(),
                Page {
                    hidden: true,
                    online: true
                }
            ),
            Wake::Idle
        );
        assert_eq!(
            next_wake(
                Some(&s),
                60,
                &RetryState::default(),
                Page {
                    hidden: false,
                    online: false
                }
            ),
            Wake::WhenOnline
        );
        assert!(!refresh_now(
            Some(&s),
            899.0 * S,
            60,
            &RetryState::default(),
            Page {
                hidden: false,
                online: false
            }
        ));
    }

    #[test]
    fn transient_failures_back_off_and_keep_retrying() {
        let s = session(0, 900);
        let b = Backoff::default();
        let mut r = RetryState::default();
        let now = 850.0 * S;
        assert!(r.failed(ErrorCode::Server, None, now, &b, 0.5));
        assert_eq!(r.failures, 1);
        assert_eq!(
            next_wake(Some(&s), 60, &r, VISIBLE),
            Wake::At(now + MIN_RETRY_MS)
        );
        assert!(!refresh_now(Some(&s), now + 500.0, 60, &r, VISIBLE));
        assert!(refresh_now(Some(&s), now + MIN_RETRY_MS, 60, &r, VISIBLE));
        assert!(r.failed(ErrorCode::Network, None, now, &b, 0.5));
        assert!(r.failed(ErrorCode::Network, None, now, &b, 0.5));
        assert_eq!(r.not_before, now + 2000.0, "third try: half of 4 s");
        r.succeeded(now);
        assert_eq!(r.failures, 0);
    }

    #[test]
    fn rate_limits_wait_retry_after() {
        let mut r = RetryState::default();
        assert!(r.failed(
            ErrorCode::RateLimited,
            Some(2),
            100.0 * S,
            &Backoff::default(),
            0.0
        ));
        assert_eq!(r.not_before, 102.0 * S);
        assert!(!r.allows(101.9 * S));
        assert!(r.allows(102.0 * S));
    }

    #[test]
    fn no_failure_yet_allows_any_time_and_moves_no_wake() {
        let r = RetryState::default();
        assert_eq!(r.not_before, NO_WAIT);
        assert!(r.allows(-1e300) && r.allows(0.0));
        // A token due before the epoch on the server's clock: the wake is its own time.
        let s = session(-1000, -900);
        assert!(matches!(next_wake(Some(&s), 60, &r, VISIBLE), Wake::At(at) if at < 0.0));
    }

    #[test]
    fn a_rejected_refresh_is_never_retried() {
        let mut r = RetryState {
            failures: 3,
            not_before: 5.0,
        };
        assert!(!r.failed(
            ErrorCode::RefreshFailed,
            None,
            0.0,
            &Backoff::default(),
            0.5
        ));
        assert_eq!(r, RetryState::default());
    }

    #[test]
    fn no_refresh_loop_when_new_tokens_are_due_at_once() {
        // A server whose tokens are already inside the margin when issued.
        let s = session(0, 10);
        let mut r = RetryState::default();
        r.succeeded(9.0 * S);
        assert!(!refresh_now(Some(&s), 9.5 * S, 60, &r, VISIBLE));
        assert_eq!(next_wake(Some(&s), 60, &r, VISIBLE), Wake::At(10.0 * S));
    }

    /// A client clock 10 minutes off either way, corrected from the Date header.
    #[test]
    fn skewed_client_clocks_decide_on_server_time() {
        let server_now = 784_111_777.0 * S; // Sun, 06 Nov 1994 08:49:37 GMT
        let s = session(784_111_777, 784_111_777 + 300);
        for skew in [600.0 * S, -600.0 * S] {
            let local = server_now + skew;
            let mut clock = Clock::default();
            clock.observe_date("Sun, 06 Nov 1994 08:49:37 GMT", local);
            let now = clock.now(local);
            assert!(
                !s.is_expired(now, 0),
                "fresh token is not expired (skew {skew})"
            );
            assert!(!refresh_now(
                Some(&s),
                now,
                60,
                &RetryState::default(),
                VISIBLE
            ));
            // Uncorrected, a fast clock would see the token expired at once (a refresh
            // loop), a slow one would keep sending it 10 minutes past its expiry.
            assert_eq!(s.is_expired(local, 0), skew > 0.0);
            assert!(skew > 0.0 || !s.is_expired(local + 400.0 * S, 0));
            let later = clock.now(local + 245.0 * S);
            assert!(refresh_now(
                Some(&s),
                later,
                60,
                &RetryState::default(),
                VISIBLE
            ));
        }
    }
}

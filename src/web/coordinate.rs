//! Refresh coordination: one refresh per tab (the shared flight), one across tabs
//! (Web Locks, or a claim round on a BroadcastChannel where locks are missing),
//! the proactive timer with backoff, page events, and state sync between tabs.
//!
//! Why the "spent" markers: localStorage reaches other tabs asynchronously, so a tab
//! that takes the lock right after another released it may still read the old
//! refresh token. The refreshing tab therefore also holds a lock named after the
//! token it spent, taken before it releases the refresh lock; the lock manager is
//! one sequential authority, so the next tab sees the marker even when its storage
//! is stale, and waits for the new tokens instead of spending a dead one.

use crate::prelude::*;

use ::core::cell::{Cell, RefCell};
use alloc::rc::{Rc, Weak};

use js_sys::{Function, Object, Promise};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{future_to_promise, spawn_local, JsFuture};
use web_sys::{BroadcastChannel, EventTarget, MessageEvent};

use super::client::{run, Call, Event, Inner};
use super::sync::{self, fingerprint, LockOutcome, Timer};
use super::{error, js};
use crate::core::config::StorageKind;
use crate::core::error::{AuthError, ErrorCode};
use crate::core::persist;
use crate::core::protocol::{self, Op};
use crate::core::schedule::{next_wake, refresh_now, Page, Wake};
use crate::core::session::Status;

/// How long losers of a claim round (no Web Locks) listen for competing claims.
const CLAIM_WINDOW_MS: f64 = 150.0;
/// How long a tab waits for the tokens another tab refreshed to reach it.
const SUCCESSOR_WAIT_MS: f64 = 5_000.0;
/// Refresh waits longer than this (Retry-After, backoff) fail fast instead.
const MAX_INLINE_WAIT_MS: f64 = 60_000.0;
/// Spent fingerprints remembered from other tabs.
const SPENT_MEMORY: usize = 16;

type PageListener = (EventTarget, &'static str, Closure<dyn FnMut()>);
type Channel = (BroadcastChannel, Closure<dyn FnMut(MessageEvent)>);

#[derive(Default)]
pub struct Coordination {
    retry: Cell<crate::core::schedule::RetryState>,
    timer: RefCell<Option<Timer>>,
    page_listeners: RefCell<Vec<PageListener>>,
    channel: RefCell<Option<Channel>>,
    /// Release functions of the spent-token markers this tab holds.
    markers: RefCell<Vec<Function>>,
    /// Fingerprints of refresh tokens known to be spent (this tab or others).
    spent: RefCell<Vec<String>>,
    /// Fallback claim round: (fingerprint, our id) while claiming; lost when a
    /// lower id or a busy tab answered.
    claim: RefCell<Option<(String, f64)>>,
    lost: Cell<bool>,
    /// The fingerprint this tab is refreshing right now (fallback protocol).
    busy: RefCell<Option<String>>,
    tab_id: Cell<f64>,
    stopped: Cell<bool>,
}

fn message(kind: &str) -> Object {
    let m = Object::new();
    js::set(&m, "t", &JsValue::from_str(kind));
    m
}

impl Inner {
    fn lock_name(&self, suffix: &str) -> String {
        [self.cfg.storage_key.as_str(), ":", suffix].concat()
    }

    fn spent_name(&self, refresh_token: &str) -> String {
        self.lock_name(&["spent:", &fingerprint(refresh_token)].concat())
    }

    fn page(&self) -> Page {
        Page {
            hidden: sync::page_hidden(),
            online: sync::online(),
        }
    }

    // ---- set-up and tear-down ------------------------------------------------

    pub(super) fn start_coordination(inner: &Rc<Inner>) {
        let Some(window) = web_sys::window() else {
            return;
        };
        inner.tabs.tab_id.set(js_sys::Math::random());
        let weak = Rc::downgrade(inner);
        let wake = |weak: Weak<Inner>| {
            Closure::<dyn FnMut()>::new(move || {
                if let Some(inner) = weak.upgrade() {
                    inner.wake();
                }
            })
        };
        let mut listeners: Vec<PageListener> = Vec::new();
        if let Some(document) = window.document() {
            listeners.push((document.into(), "visibilitychange", wake(weak.clone())));
        }
        for kind in ["focus", "online", "offline"] {
            listeners.push((window.clone().into(), kind, wake(weak.clone())));
        }
        for (target, kind, closure) in &listeners {
            let _ = target.add_event_listener_with_callback(kind, closure.as_ref().unchecked_ref());
        }
        *inner.tabs.page_listeners.borrow_mut() = listeners;

        if let Ok(channel) = BroadcastChannel::new(&inner.lock_name("sync")) {
            let weak = weak.clone();
            let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                if let Some(inner) = weak.upgrade() {
                    inner.on_message(&event.data());
                }
            });
            channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            *inner.tabs.channel.borrow_mut() = Some((channel, on_message));
        }
        inner.schedule();
    }

    pub(super) fn stop_coordination(&self) {
        self.tabs.stopped.set(true);
        self.tabs.timer.borrow_mut().take();
        for (target, kind, closure) in self.tabs.page_listeners.borrow_mut().drain(..) {
            let _ =
                target.remove_event_listener_with_callback(kind, closure.as_ref().unchecked_ref());
        }
        if let Some((channel, _)) = self.tabs.channel.borrow_mut().take() {
            channel.set_onmessage(None);
            channel.close();
        }
        for release in self.tabs.markers.borrow_mut().drain(..) {
            let _ = release.call0(&JsValue::NULL);
        }
    }

    // ---- the proactive timer ---------------------------------------------------

    /// Arm (or clear) the timer for the next refresh, as core's schedule says.
    pub(super) fn schedule(self: &Rc<Self>) {
        self.tabs.timer.borrow_mut().take();
        if self.tabs.stopped.get() || web_sys::window().is_none() {
            return;
        }
        let session = self.session.borrow().clone();
        if let Wake::At(at) = next_wake(
            session.as_ref(),
            self.cfg.refresh_margin,
            &self.tabs.retry.get(),
            self.page(),
        ) {
            let weak = Rc::downgrade(self);
            let fire = Closure::<dyn FnMut()>::new(move || {
                // Deferred: the timer (this closure) is replaced inside wake().
                let weak = weak.clone();
                spawn_local(async move {
                    if let Some(inner) = weak.upgrade() {
                        inner.wake();
                    }
                });
            });
            *self.tabs.timer.borrow_mut() = Some(Timer::start(at - self.now(), fire));
        }
    }

    /// Timer fired, tab shown or focused, network back: refresh if due, else re-arm.
    fn wake(self: &Rc<Self>) {
        let session = self.session.borrow().clone();
        if refresh_now(
            session.as_ref(),
            self.now(),
            self.cfg.refresh_margin,
            &self.tabs.retry.get(),
            self.page(),
        ) {
            let inner = self.clone();
            spawn_local(async move {
                let _ = inner.refresh_shared().await;
            });
        } else {
            self.schedule();
        }
    }

    // ---- one refresh per tab ----------------------------------------------------

    /// Join the refresh in flight, or start it.
    pub(super) async fn refresh_shared(self: &Rc<Self>) -> Result<(), AuthError> {
        let existing = self.flight.borrow().clone();
        let promise = match existing {
            Some(p) => p,
            None => {
                let p = future_to_promise(run(self.clone(), Call::Flight));
                *self.flight.borrow_mut() = Some(p.clone());
                p
            }
        };
        JsFuture::from(promise)
            .await
            .map(|_| ())
            .map_err(|e| error::from_js(&e))
    }

    /// The flight: wait out backoff, coordinate with other tabs, record the outcome.
    pub(super) async fn refresh_request(self: &Rc<Self>) -> Result<(), AuthError> {
        if let Some(postponed) = self.postponed() {
            // Backing off: nothing was attempted, so the retry state stays as it is.
            self.flight.borrow_mut().take();
            return Err(postponed);
        }
        let result = self.refresh_coordinated().await;
        self.flight.borrow_mut().take();
        let mut retry = self.tabs.retry.get();
        let retrying = match &result {
            Ok(()) => {
                retry.succeeded(self.now());
                false
            }
            Err(e) => retry.failed(e, self.now(), &self.cfg.backoff, js_sys::Math::random()),
        };
        self.tabs.retry.set(retry);
        // Still refreshing while a retry is pending: the snapshot says so.
        self.set_refreshing(retrying && self.session.borrow().is_some());
        self.schedule();
        result
    }

    /// Remaining backoff (after failures; the floor after a success only paces the
    /// timer, explicit calls pass it).
    fn backoff_wait(&self) -> Option<f64> {
        let retry = self.tabs.retry.get();
        let now = self.now();
        retry
            .not_before
            .filter(|_| retry.failures > 0 && !retry.allows(now))
            .map(|t| t - now)
    }

    /// During backoff or Retry-After, the error to answer at once instead of a
    /// request: the last one while the token is still usable (callers keep using
    /// it), `rate_limited` when the wait is too long to sit out.
    fn postponed(&self) -> Option<AuthError> {
        let wait = self.backoff_wait()?;
        let usable = self
            .session
            .borrow()
            .as_ref()
            .is_some_and(|s| !s.is_expired(self.now(), self.cfg.leeway));
        if usable {
            if let Some(last) = self.error.borrow().clone() {
                return Some(last);
            }
        }
        (wait > MAX_INLINE_WAIT_MS).then(|| {
            let mut err = AuthError::new(
                ErrorCode::RateLimited,
                "Refreshing is paused; try again later",
            );
            err.retry_after = Some(libm::ceil(wait / 1000.0) as u32);
            err
        })
    }

    async fn refresh_coordinated(self: &Rc<Self>) -> Result<(), AuthError> {
        let Some(refresh_token) = self
            .session
            .borrow()
            .as_ref()
            .and_then(|s| s.refresh_token.clone())
        else {
            let err = AuthError::new(ErrorCode::SessionExpired, "The session cannot be refreshed");
            if self.session.borrow().is_some() && self.status() == Status::Expired {
                self.sign_out(Event::SessionExpired, Some(err.clone()));
            }
            return Err(err);
        };
        // A caller that cannot use its token any more waits out a short backoff.
        if let Some(wait) = self.backoff_wait() {
            sync::sleep(wait).await;
        }
        if !sync::online() {
            return Err(AuthError::new(ErrorCode::Network, "The browser is offline"));
        }
        match sync::lock_manager() {
            Some(locks) => {
                let inner = self.clone();
                let token = refresh_token.clone();
                let callback =
                    Closure::<dyn FnMut(JsValue) -> Promise>::new(move |_lock: JsValue| {
                        future_to_promise(run(inner.clone(), Call::Locked(token.clone())))
                    });
                match sync::with_lock(
                    &locks,
                    &self.lock_name("refresh"),
                    self.cfg.lock_timeout_ms,
                    callback,
                )
                .await
                {
                    LockOutcome::Ran(result) => result.map(|_| ()).map_err(|e| error::from_js(&e)),
                    // A hung tab holds the lock: go ahead rather than block forever.
                    LockOutcome::TimedOut => self.refresh_locked(&refresh_token).await,
                }
            }
            None => self.refresh_claimed(&refresh_token).await,
        }
    }

    // ---- one refresh across tabs ---------------------------------------------------

    /// Under the lock: use another tab's result when there is one, else refresh.
    pub(super) async fn refresh_locked(
        self: &Rc<Self>,
        refresh_token: &str,
    ) -> Result<(), AuthError> {
        if self.superseded(refresh_token) {
            return Ok(());
        }
        if let Some(locks) = sync::lock_manager() {
            if sync::is_held(&locks, &self.spent_name(refresh_token)).await {
                return self.await_successor(refresh_token).await;
            }
        }
        self.refresh_with(refresh_token).await
    }

    /// Without Web Locks: announce a claim, listen briefly; the lowest id wins and
    /// a tab already refreshing that token always wins. Losers wait for the result.
    async fn refresh_claimed(self: &Rc<Self>, refresh_token: &str) -> Result<(), AuthError> {
        if self.superseded(refresh_token) {
            return Ok(());
        }
        let fp = fingerprint(refresh_token);
        if self.tabs.spent.borrow().contains(&fp) {
            return self.await_successor(refresh_token).await;
        }
        let id = self.tabs.tab_id.get();
        *self.tabs.claim.borrow_mut() = Some((fp.clone(), id));
        self.tabs.lost.set(false);
        let claim = message("claim");
        js::set(&claim, "fp", &JsValue::from_str(&fp));
        js::set(&claim, "id", &JsValue::from_f64(id));
        self.post(&claim);
        sync::sleep(CLAIM_WINDOW_MS).await;
        self.tabs.claim.borrow_mut().take();
        if self.superseded(refresh_token) {
            return Ok(());
        }
        if self.tabs.lost.get() || self.tabs.spent.borrow().contains(&fp) {
            return self.await_successor(refresh_token).await;
        }
        *self.tabs.busy.borrow_mut() = Some(fp);
        let result = self.refresh_with(refresh_token).await;
        self.tabs.busy.borrow_mut().take();
        result
    }

    /// Whether another tab's refresh already replaced `refresh_token` (as far as
    /// this tab can see now).
    fn superseded(&self, refresh_token: &str) -> bool {
        self.adopt_stored();
        self.session
            .borrow()
            .as_ref()
            .and_then(|s| s.refresh_token.as_deref())
            != Some(refresh_token)
    }

    /// Wait until the tokens another tab obtained reach this one.
    async fn await_successor(&self, refresh_token: &str) -> Result<(), AuthError> {
        let deadline = js::now() + SUCCESSOR_WAIT_MS;
        while js::now() < deadline {
            if self.superseded(refresh_token) {
                return Ok(());
            }
            sync::sleep(50.0).await;
        }
        Err(AuthError::new(
            ErrorCode::Network,
            "Another tab's refresh did not arrive",
        ))
    }

    /// The refresh request itself.
    async fn refresh_with(&self, refresh_token: &str) -> Result<(), AuthError> {
        self.set_refreshing(true);
        let req = protocol::refresh_request(&self.cfg, refresh_token);
        // Better Auth's exchange takes the session token as its bearer.
        let bearer = (req.credential == protocol::Credential::Refresh).then_some(refresh_token);
        let outcome = match self.send(&req, bearer).await {
            Ok(reply) => {
                protocol::parse_tokens(self.cfg.protocol, Op::Refresh, &Self::response(&reply))
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(tokens) => {
                // The marker first (lock manager), then the new tokens (storage and
                // channel): a tab that gets the lock next sees one or the other.
                self.remember_spent(refresh_token);
                self.sign_in(tokens, Event::TokenRefreshed)
            }
            Err(e) if e.code == ErrorCode::RefreshFailed => {
                self.sign_out(Event::SessionExpired, Some(e.clone()));
                Err(e)
            }
            // Network, server, rate limit: keep the session; backoff decides when again.
            Err(e) => self.fail(e),
        }
    }

    fn remember_spent(&self, refresh_token: &str) {
        let fp = fingerprint(refresh_token);
        let mut spent = self.tabs.spent.borrow_mut();
        if !spent.contains(&fp) {
            spent.push(fp);
            if spent.len() > SPENT_MEMORY {
                spent.remove(0);
            }
        }
        drop(spent);
        if let Some(locks) = sync::lock_manager() {
            let mut markers = self.tabs.markers.borrow_mut();
            if let Some(release) = sync::hold_marker(&locks, &self.spent_name(refresh_token)) {
                markers.push(release);
            }
            // Older markers name tokens no tab can still hold.
            while markers.len() > 2 {
                let release = markers.remove(0);
                let _ = release.call0(&JsValue::NULL);
            }
        }
    }

    // ---- state between tabs ---------------------------------------------------------

    fn post(&self, message: &Object) {
        if let Some((channel, _)) = self.tabs.channel.borrow().as_ref() {
            let _ = channel.post_message(message);
        }
    }

    /// Tell other tabs the new state (sign-in, refresh, sign-out); the last spent
    /// token rides along so they never spend it.
    pub(super) fn broadcast_session(&self, text: Option<&str>) {
        let m = message("session");
        js::set(&m, "text", &text.map_or(JsValue::NULL, JsValue::from_str));
        if let Some(fp) = self.tabs.spent.borrow().last() {
            js::set(&m, "spent", &JsValue::from_str(fp));
        }
        self.post(&m);
    }

    fn on_message(self: &Rc<Self>, data: &JsValue) {
        let kind = js::get_string(data, "t").unwrap_or_default();
        let fp = js::get_string(data, "fp");
        match kind.as_str() {
            "claim" => {
                let (Some(fp), Some(id)) = (fp, js::get_f64(data, "id")) else {
                    return;
                };
                if self.tabs.busy.borrow().as_deref() == Some(fp.as_str())
                    || self.tabs.spent.borrow().contains(&fp)
                {
                    let busy = message("busy");
                    js::set(&busy, "fp", &JsValue::from_str(&fp));
                    self.post(&busy);
                }
                if let Some((mine, my_id)) = self.tabs.claim.borrow().as_ref() {
                    if *mine == fp && id < *my_id {
                        self.tabs.lost.set(true);
                    }
                }
            }
            "busy"
                if self
                    .tabs
                    .claim
                    .borrow()
                    .as_ref()
                    .is_some_and(|(mine, _)| Some(mine) == fp.as_ref()) =>
            {
                self.tabs.lost.set(true);
            }
            "session" => {
                if let Some(spent) = js::get_string(data, "spent") {
                    let mut known = self.tabs.spent.borrow_mut();
                    if !known.contains(&spent) {
                        known.push(spent);
                        if known.len() > SPENT_MEMORY {
                            known.remove(0);
                        }
                    }
                }
                self.adopt_text(js::get_string(data, "text").as_deref());
            }
            _ => {}
        }
    }

    /// Adopt a session another tab sent (its storage may not have reached us yet).
    fn adopt_text(self: &Rc<Self>, text: Option<&str>) {
        if !self.adopt(text.and_then(|t| persist::decode(t, self.now()).ok())) {
            return;
        }
        // sessionStorage and memory are per tab: keep our copy current. localStorage
        // is shared: the sender already wrote it.
        if self.store.in_use() != StorageKind::Local {
            self.store.write(text);
        }
        self.schedule();
    }
}

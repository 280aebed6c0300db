//! `AuthClient`: the JS API. Every method delegates decisions to `core`; this file
//! only moves values between JS, fetch, storage and the listeners.
//!
//! All async methods go through one `run` future (one state machine in the wasm
//! instead of one per method), and every refresh goes through one shared promise
//! (`flight`), so concurrent callers in a tab send a single refresh request.

use crate::prelude::*;

use ::core::cell::{Cell, RefCell};
use alloc::rc::{Rc, Weak};

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::future_to_promise;
use web_sys::{Request, Response, StorageEvent};

use super::coordinate::Coordination;
use super::http::{self, Reply};
use super::storage::Store;
use super::{error, js};
use crate::core::clock::Clock;
use crate::core::config::Protocol;
use crate::core::config::{Config, RawConfig, StorageKind};
use crate::core::error::{AuthError, ErrorCode};
use crate::core::persist;
use crate::core::protocol::{self, Credential, HttpRequest, HttpResponse, Op, TokenSet};
use crate::core::session::{same_state, status_of, Session, Status};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Event {
    SignedIn,
    SignedOut,
    TokenRefreshed,
    SessionExpired,
    UserUpdated,
    Synced,
    StorageFallback,
}

impl Event {
    fn as_str(self) -> &'static str {
        match self {
            Event::SignedIn => "signed_in",
            Event::SignedOut => "signed_out",
            Event::TokenRefreshed => "token_refreshed",
            Event::SessionExpired => "session_expired",
            Event::UserUpdated => "user_updated",
            Event::Synced => "synced",
            Event::StorageFallback => "storage_fallback",
        }
    }
}

/// The async operations, run by one future.
pub(super) enum Call {
    Login(JsValue),
    Register(JsValue),
    Logout,
    Refresh,
    AccessToken,
    AuthHeader,
    Fetch(JsValue, JsValue),
    Me,
    /// The shared refresh request itself (see `Inner::refresh_shared`).
    Flight,
    /// The refresh, run while holding the cross-tab lock.
    Locked(String),
}

/// The `storage` event handler, kept so `free()` can remove it.
type StorageListener = Closure<dyn FnMut(StorageEvent)>;

pub(super) struct Inner {
    pub(super) cfg: Config,
    pub(super) store: Store,
    pub(super) session: RefCell<Option<Session>>,
    pub(super) clock: Cell<Clock>,
    pub(super) error: RefCell<Option<AuthError>>,
    pub(super) refreshing: Cell<bool>,
    pub(super) flight: RefCell<Option<Promise>>,
    listeners: RefCell<Vec<(u32, Function)>>,
    next_listener: Cell<u32>,
    snapshot: RefCell<Option<(Status, JsValue)>>,
    on_storage: RefCell<Option<StorageListener>>,
    /// Timers, page events, the channel and lock markers (web/coordinate.rs).
    pub(super) tabs: Coordination,
}

#[wasm_bindgen]
pub struct AuthClient {
    inner: Rc<Inner>,
}

fn raw_config(value: &JsValue) -> Result<RawConfig, AuthError> {
    if !value.is_object() {
        return Err(AuthError::config(
            "AuthClient needs a config object with baseUrl",
        ));
    }
    let strings = |key: &str| -> Result<Vec<String>, AuthError> {
        let v = js::get(value, key);
        if v.is_undefined() || v.is_null() {
            return Ok(Vec::new());
        }
        if !Array::is_array(&v) {
            return Err(AuthError::config(
                "allowedOrigins must be an array of origins",
            ));
        }
        Array::from(&v)
            .iter()
            .map(|s| {
                s.as_string()
                    .ok_or_else(|| AuthError::config("allowedOrigins must contain strings"))
            })
            .collect()
    };
    let endpoints_value = js::get(value, "endpoints");
    let mut endpoints = Vec::new();
    if endpoints_value.is_object() {
        for key in Object::keys(endpoints_value.unchecked_ref::<Object>()).iter() {
            let name = key.as_string().unwrap_or_default();
            let path = js::get_string(&endpoints_value, &name)
                .ok_or_else(|| AuthError::config("endpoints values must be strings"))?;
            endpoints.push((name, path));
        }
    }
    let text = |key: &str| -> Result<Option<String>, AuthError> {
        let v = js::get(value, key);
        if v.is_undefined() || v.is_null() {
            return Ok(None);
        }
        v.as_string()
            .map(Some)
            .ok_or_else(|| AuthError::config(&[key, " must be a string"].concat()))
    };
    let number = |key: &str| -> Result<Option<f64>, AuthError> {
        let v = js::get(value, key);
        if v.is_undefined() || v.is_null() {
            return Ok(None);
        }
        v.as_f64()
            .map(Some)
            .ok_or_else(|| AuthError::config(&[key, " must be a number"].concat()))
    };
    Ok(RawConfig {
        base_url: text("baseUrl")?,
        protocol: text("protocol")?,
        storage: text("storage")?,
        storage_key: text("storageKey")?,
        refresh_margin: number("refreshMargin")?,
        leeway: number("leeway")?,
        allowed_origins: strings("allowedOrigins")?,
        endpoints,
        retry_base_delay: js::get_f64(&js::get(value, "retry"), "baseDelay"),
        retry_max_delay: js::get_f64(&js::get(value, "retry"), "maxDelay"),
        lock_timeout: number("lockTimeout")?,
    })
}

#[wasm_bindgen]
impl AuthClient {
    /// Never throws for what is in storage (garbage is removed); throws AuthError
    /// `config` for an invalid config.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "AuthConfig")] config: JsValue,
    ) -> Result<AuthClient, JsValue> {
        let cfg = raw_config(&config)
            .and_then(Config::validate)
            .map_err(|e| error::to_js(&e))?;
        let store = Store::open(cfg.storage, cfg.session_key());
        let inner = Rc::new(Inner {
            cfg,
            store,
            session: RefCell::new(None),
            clock: Cell::new(Clock::default()),
            error: RefCell::new(None),
            refreshing: Cell::new(false),
            flight: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
            next_listener: Cell::new(0),
            snapshot: RefCell::new(None),
            on_storage: RefCell::new(None),
            tabs: Coordination::default(),
        });
        inner.load();
        Inner::listen_to_other_tabs(&inner);
        Inner::start_coordination(&inner);
        Ok(AuthClient { inner })
    }

    /// Sign in with `{ username, password }` or `{ email, password }`.
    #[wasm_bindgen(unchecked_return_type = "Promise<AuthSnapshot>")]
    pub fn login(
        &self,
        #[wasm_bindgen(unchecked_param_type = "LoginCredentials")] credentials: JsValue,
    ) -> Promise {
        self.spawn(Call::Login(credentials))
    }

    /// Create an account and sign in (logging in when the response has no tokens).
    #[wasm_bindgen(unchecked_return_type = "Promise<AuthSnapshot>")]
    pub fn register(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RegisterInput")] input: JsValue,
    ) -> Promise {
        self.spawn(Call::Register(input))
    }

    /// Sign out here, and revoke the session at the backend when it can.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn logout(&self) -> Promise {
        self.spawn(Call::Logout)
    }

    /// Refresh now; concurrent calls share one request.
    #[wasm_bindgen(unchecked_return_type = "Promise<AuthSnapshot>")]
    pub fn refresh(&self) -> Promise {
        self.spawn(Call::Refresh)
    }

    /// A usable access token, refreshed first when due; null when signed out or expired.
    #[wasm_bindgen(js_name = getAccessToken, unchecked_return_type = "Promise<string | null>")]
    pub fn get_access_token(&self) -> Promise {
        match self.inner.ready_token() {
            Some(token) => Promise::resolve(&JsValue::from_str(&token)),
            None => self.spawn(Call::AccessToken),
        }
    }

    /// `{ Authorization: "Bearer ..." }`, or `{}` when there is no usable token.
    #[wasm_bindgen(js_name = authHeader, unchecked_return_type = "Promise<AuthHeader>")]
    pub fn auth_header(&self) -> Promise {
        self.spawn(Call::AuthHeader)
    }

    /// `fetch` with the bearer for allowed origins; on 401 one refresh and one replay.
    #[wasm_bindgen(unchecked_return_type = "Promise<Response>")]
    pub fn fetch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RequestInfo | URL")] input: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "RequestInit")] init: Option<Object>,
    ) -> Promise {
        self.spawn(Call::Fetch(
            input,
            init.map_or(JsValue::UNDEFINED, JsValue::from),
        ))
    }

    /// The user from the backend's `me` endpoint (or the claims when it has none).
    #[wasm_bindgen(unchecked_return_type = "Promise<User>")]
    pub fn me(&self) -> Promise {
        self.spawn(Call::Me)
    }

    /// The current state: the identical object until something changes.
    #[wasm_bindgen(js_name = getSnapshot, unchecked_return_type = "AuthSnapshot")]
    pub fn get_snapshot(&self) -> JsValue {
        self.inner.snapshot()
    }

    /// Call `listener(snapshot, event)` on every change; returns the unsubscribe function.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn subscribe(
        &self,
        #[wasm_bindgen(unchecked_param_type = "AuthListener")] listener: Function,
    ) -> JsValue {
        let id = self.inner.next_listener.get();
        self.inner.next_listener.set(id + 1);
        self.inner.listeners.borrow_mut().push((id, listener));
        let weak = Rc::downgrade(&self.inner);
        Closure::once_into_js(move || {
            if let Some(inner) = weak.upgrade() {
                inner.listeners.borrow_mut().retain(|(i, _)| *i != id);
            }
        })
    }
}

impl AuthClient {
    fn spawn(&self, call: Call) -> Promise {
        future_to_promise(run(self.inner.clone(), call))
    }
}

impl Drop for AuthClient {
    /// `free()`: listeners, the storage listener and any pending flight are released.
    fn drop(&mut self) {
        self.inner.listeners.borrow_mut().clear();
        if let Some(closure) = self.inner.on_storage.borrow_mut().take() {
            if let Some(window) = web_sys::window() {
                let _ = window.remove_event_listener_with_callback(
                    "storage",
                    closure.as_ref().unchecked_ref(),
                );
            }
        }
        self.inner.flight.borrow_mut().take();
        self.inner.stop_coordination();
    }
}

pub(super) async fn run(inner: Rc<Inner>, call: Call) -> Result<JsValue, JsValue> {
    let result = match call {
        Call::Login(credentials) => inner.login(&credentials).await,
        Call::Register(input) => inner.register(&input).await,
        Call::Logout => inner.logout().await.map(|_| JsValue::UNDEFINED),
        Call::Refresh => match inner.refresh_shared().await {
            Ok(()) => Ok(inner.snapshot()),
            Err(e) => Err(e),
        },
        Call::AccessToken => inner
            .access_token()
            .await
            .map(|t| t.map_or(JsValue::NULL, |t| JsValue::from_str(&t))),
        Call::AuthHeader => inner.access_token().await.map(|t| {
            let header = Object::new();
            if let Some(t) = t {
                js::set(
                    &header,
                    "Authorization",
                    &JsValue::from_str(&http::bearer_value(&t)),
                );
            }
            header.into()
        }),
        Call::Fetch(input, init) => inner.fetch(&input, &init).await.map(JsValue::from),
        Call::Me => inner.me().await,
        Call::Flight => inner.refresh_request().await.map(|_| JsValue::TRUE),
        Call::Locked(refresh_token) => inner
            .refresh_locked(&refresh_token)
            .await
            .map(|_| JsValue::TRUE),
    };
    // Whatever changed (signed in, out, refreshed), the proactive timer follows.
    inner.schedule();
    result.map_err(|e| error::to_js(&e))
}

impl Inner {
    pub(super) fn now(&self) -> f64 {
        self.clock.get().now(js::now())
    }

    pub(super) fn status(&self) -> Status {
        status_of(self.session.borrow().as_ref(), self.now(), self.cfg.leeway)
    }

    // ---- state changes -------------------------------------------------------

    /// Restore the stored session; unreadable values are removed.
    fn load(&self) {
        let (text, _) = self.store.read();
        let session = text.and_then(|t| match persist::decode(&t, self.now()) {
            Ok(s) => Some(s),
            Err(_) => {
                self.store.write(None);
                None
            }
        });
        *self.session.borrow_mut() = session;
    }

    pub(super) fn save(&self) {
        let text = self.session.borrow().as_ref().map(persist::encode);
        if self.store.write(text.as_deref()) {
            self.emit(Event::StorageFallback);
        }
        self.broadcast_session(text.as_deref());
    }

    pub(super) fn set_error(&self, err: Option<AuthError>) {
        *self.error.borrow_mut() = err;
        self.snapshot.borrow_mut().take();
    }

    pub(super) fn sign_in(&self, tokens: TokenSet, event: Event) -> Result<(), AuthError> {
        let mut session = Session::from_tokens(tokens, self.now()).map_err(|e| {
            AuthError::new(
                ErrorCode::InvalidResponse,
                ["The server sent a malformed token: ", &e.message].concat(),
            )
        })?;
        if let Some(iat) = session
            .claims
            .as_ref()
            .map(|_| (session.issued_at / 1000.0) as i64)
        {
            let mut clock = self.clock.get();
            if clock.observe_iat(iat, js::now()) {
                self.clock.set(clock);
            }
        }
        let previous = self.session.borrow_mut().take();
        if let Some(previous) = previous {
            // A refresh keeps who the user is and, when not rotated, the refresh token.
            if event == Event::TokenRefreshed {
                session.user = previous.user;
                if session.refresh_token.is_none() {
                    session.refresh_token = previous.refresh_token;
                }
            }
        }
        *self.session.borrow_mut() = Some(session);
        self.set_error(None);
        self.save();
        self.emit(event);
        Ok(())
    }

    pub(super) fn sign_out(&self, event: Event, err: Option<AuthError>) {
        *self.session.borrow_mut() = None;
        self.set_error(err);
        self.save();
        self.emit(event);
    }

    // ---- snapshot and listeners ----------------------------------------------

    fn build_snapshot(&self, status: Status) -> JsValue {
        let obj: JsValue = Object::new().into();
        let session = self.session.borrow();
        let claims = js::parse_json(session.as_ref().and_then(|s| s.claims.as_deref()));
        let user = match session.as_ref().and_then(|s| s.user.as_deref()) {
            Some(u) => js::parse_json(Some(u)),
            None => claims.clone(),
        };
        let expires_at = session
            .as_ref()
            .and_then(|s| s.expires_at)
            .map_or(JsValue::NULL, |e| {
                JsValue::from_f64(libm::round(e - self.clock.get().offset_ms))
            });
        js::set(&obj, "status", &JsValue::from_str(status.as_str()));
        js::set(&obj, "user", &user);
        js::set(&obj, "claims", &claims);
        js::set(&obj, "expiresAt", &expires_at);
        js::set(
            &obj,
            "refreshing",
            &JsValue::from_bool(self.refreshing.get()),
        );
        js::set(
            &obj,
            "storage",
            &JsValue::from_str(self.store.in_use().as_str()),
        );
        let err = self
            .error
            .borrow()
            .as_ref()
            .map_or(JsValue::NULL, error::to_js);
        js::set(&obj, "error", &err);
        Object::freeze(obj.unchecked_ref::<Object>()).into()
    }

    /// The cached snapshot, rebuilt when state changed or time moved the status.
    pub(super) fn snapshot(&self) -> JsValue {
        let status = self.status();
        if let Some((cached_status, value)) = self.snapshot.borrow().as_ref() {
            if *cached_status == status {
                return value.clone();
            }
        }
        let value = self.build_snapshot(status);
        *self.snapshot.borrow_mut() = Some((status, value.clone()));
        value
    }

    pub(super) fn emit(&self, event: Event) {
        self.snapshot.borrow_mut().take();
        let snapshot = self.snapshot();
        let name = JsValue::from_str(event.as_str());
        // A copy: a listener may unsubscribe (or subscribe) while we iterate.
        let listeners: Vec<Function> = self
            .listeners
            .borrow()
            .iter()
            .map(|(_, f)| f.clone())
            .collect();
        for f in &listeners {
            js::call_listener(f, &snapshot, &name);
        }
    }

    pub(super) fn set_refreshing(&self, on: bool) {
        self.refreshing.set(on);
        self.snapshot.borrow_mut().take();
    }

    // ---- other tabs ----------------------------------------------------------

    /// Adopt what another tab wrote to localStorage (sign-in, refresh, sign-out).
    fn listen_to_other_tabs(inner: &Rc<Inner>) {
        if inner.store.in_use() != StorageKind::Local {
            return;
        }
        let Some(window) = web_sys::window() else {
            return;
        };
        let weak: Weak<Inner> = Rc::downgrade(inner);
        let closure = Closure::<dyn FnMut(StorageEvent)>::new(move |event: StorageEvent| {
            let Some(inner) = weak.upgrade() else { return };
            // key null: storage.clear() in another tab.
            let ours = event.key().is_none_or(|k| k == inner.store.key());
            if ours && inner.adopt_stored() {
                inner.schedule();
            }
        });
        if window
            .add_event_listener_with_callback("storage", closure.as_ref().unchecked_ref())
            .is_ok()
        {
            *inner.on_storage.borrow_mut() = Some(closure);
        }
    }

    /// Take a session another tab produced; true when it differed (listeners told).
    pub(super) fn adopt(&self, incoming: Option<Session>) -> bool {
        if same_state(incoming.as_ref(), self.session.borrow().as_ref()) {
            return false;
        }
        *self.session.borrow_mut() = incoming;
        self.set_error(None);
        self.emit(Event::Synced);
        true
    }

    /// Re-read storage and adopt what another tab wrote. Never writes back.
    pub(super) fn adopt_stored(&self) -> bool {
        let (text, _) = self.store.read();
        self.adopt(text.and_then(|t| persist::decode(&t, self.now()).ok()))
    }

    // ---- network ---------------------------------------------------------------

    /// Send an auth request and learn the server's clock from its `Date`.
    pub(super) async fn send(
        &self,
        req: &HttpRequest,
        token: Option<&str>,
    ) -> Result<Reply, AuthError> {
        let reply = http::send(req, token).await?;
        self.observe(&reply);
        Ok(reply)
    }

    fn observe(&self, reply: &Reply) {
        if let Some(date) = &reply.date {
            let mut clock = self.clock.get();
            if clock.observe_date(date, js::now()) {
                self.clock.set(clock);
                self.snapshot.borrow_mut().take();
            }
        }
    }

    pub(super) fn response<'a>(reply: &'a Reply) -> HttpResponse<'a> {
        HttpResponse {
            status: reply.status,
            body: &reply.body,
            retry_after: reply.retry_after.as_deref(),
            now: js::now(),
        }
    }

    /// Remember a failure in the snapshot and pass it on.
    pub(super) fn fail<T>(&self, err: AuthError) -> Result<T, AuthError> {
        self.set_error(Some(err.clone()));
        Err(err)
    }

    // ---- operations ------------------------------------------------------------

    async fn login(&self, credentials: &JsValue) -> Result<JsValue, AuthError> {
        let (key, identifier) = match (
            js::get_string(credentials, "username"),
            js::get_string(credentials, "email"),
        ) {
            (Some(u), _) => ("username", u),
            (None, Some(e)) => ("email", e),
            (None, None) => {
                return self.fail(missing_field("username", "Enter your email or username"))
            }
        };
        let Some(password) = js::get_string(credentials, "password") else {
            return self.fail(missing_field("password", "Enter your password"));
        };
        let req = protocol::login_request(&self.cfg, key, &identifier, &password);
        self.sign_in_with(&req, Op::Login).await
    }

    async fn sign_in_with(&self, req: &HttpRequest, op: Op) -> Result<JsValue, AuthError> {
        let result = match self.send(req, None).await {
            Ok(reply) => self.tokens_from(op, &reply).await,
            Err(e) => Err(e),
        };
        match result.and_then(|t| self.sign_in(t, Event::SignedIn)) {
            Ok(()) => Ok(self.snapshot()),
            Err(e) => self.fail(e),
        }
    }

    /// The tokens of a sign-in or sign-up answer. Better Auth answers with a session
    /// token, exchanged at once for the JWT the API takes.
    async fn tokens_from(&self, op: Op, reply: &Reply) -> Result<TokenSet, AuthError> {
        let resp = Self::response(reply);
        if self.cfg.protocol != Protocol::BetterAuth {
            return protocol::parse_tokens(self.cfg.protocol, op, &resp);
        }
        let session_token = protocol::parse_session_token(op, &resp, reply.auth_token.as_deref())?;
        let exchange = protocol::refresh_request(&self.cfg, &session_token);
        let reply = self.send(&exchange, Some(&session_token)).await?;
        let mut tokens = protocol::parse_tokens(self.cfg.protocol, op, &Self::response(&reply))?;
        tokens.refresh_token = Some(session_token);
        Ok(tokens)
    }

    /// The bearer a request built by the core asks for.
    pub(super) fn credential(&self, credential: Credential) -> Option<String> {
        let session = self.session.borrow();
        let session = session.as_ref()?;
        match credential {
            Credential::None => None,
            Credential::Access => Some(session.access_token.clone()),
            Credential::Refresh => session.refresh_token.clone(),
        }
    }

    async fn register(&self, input: &JsValue) -> Result<JsValue, AuthError> {
        let (Some(email), Some(password)) = (
            js::get_string(input, "email"),
            js::get_string(input, "password"),
        ) else {
            return self.fail(missing_field(
                if js::get_string(input, "email").is_none() {
                    "email"
                } else {
                    "password"
                },
                "This field is required",
            ));
        };
        let name = js::get_string(input, "name");
        let req = match protocol::register_request(&self.cfg, &email, &password, name.as_deref()) {
            Ok(r) => r,
            Err(e) => return self.fail(e),
        };
        let reply = match self.send(&req, None).await {
            Ok(r) => r,
            Err(e) => return self.fail(e),
        };
        if (200..300).contains(&reply.status)
            && !protocol::has_tokens(self.cfg.protocol, &reply.body, reply.auth_token.as_deref())
        {
            // The backend created the account without signing in: log in now.
            let login = protocol::login_request(&self.cfg, "email", &email, &password);
            return self.sign_in_with(&login, Op::Login).await;
        }
        match self
            .tokens_from(Op::Register, &reply)
            .await
            .and_then(|t| self.sign_in(t, Event::SignedIn))
        {
            Ok(()) => Ok(self.snapshot()),
            Err(e) => self.fail(e),
        }
    }

    async fn logout(&self) -> Result<(), AuthError> {
        let session = self.session.borrow().clone();
        if let Some(session) = &session {
            if let Some(req) = protocol::logout_request(&self.cfg, session.refresh_token.as_deref())
            {
                // Best effort: signing out here must not depend on the server answering.
                let _ = self
                    .send(&req, self.credential(req.credential).as_deref())
                    .await;
            }
        }
        self.sign_out(Event::SignedOut, None);
        Ok(())
    }

    /// The token when it can be used as it is (not due for a refresh, not
    /// expired): the common case answers without starting the async machinery.
    fn ready_token(&self) -> Option<String> {
        let now = self.now();
        self.session
            .borrow()
            .as_ref()
            .filter(|s| {
                !s.refresh_due(now, self.cfg.refresh_margin) && !s.is_expired(now, self.cfg.leeway)
            })
            .map(|s| s.access_token.clone())
    }

    /// The token to send now, refreshing first when it is due.
    async fn access_token(self: &Rc<Self>) -> Result<Option<String>, AuthError> {
        let (due, expired) = match self.session.borrow().as_ref() {
            None => return Ok(None),
            Some(s) => (
                s.refresh_due(self.now(), self.cfg.refresh_margin),
                s.is_expired(self.now(), self.cfg.leeway),
            ),
        };
        if due {
            if let Err(e) = self.refresh_shared().await {
                let still_usable = self
                    .session
                    .borrow()
                    .as_ref()
                    .is_some_and(|s| !s.is_expired(self.now(), self.cfg.leeway));
                if !still_usable {
                    return match e.code {
                        ErrorCode::RefreshFailed | ErrorCode::SessionExpired => Ok(None),
                        _ => Err(e),
                    };
                }
            }
        } else if expired {
            // Nothing can renew it: say so once, keep the session visible as expired.
            if self.error.borrow().as_ref().map(|e| e.code) != Some(ErrorCode::SessionExpired) {
                self.set_error(Some(AuthError::new(
                    ErrorCode::SessionExpired,
                    "The session has expired",
                )));
                self.emit(Event::SessionExpired);
            }
            return Ok(None);
        }
        Ok(self
            .session
            .borrow()
            .as_ref()
            .filter(|s| !s.is_expired(self.now(), self.cfg.leeway))
            .map(|s| s.access_token.clone()))
    }

    /// fetch with the bearer rules and the 401 refresh-and-replay.
    async fn fetch(
        self: &Rc<Self>,
        input: &JsValue,
        init: &JsValue,
    ) -> Result<Response, AuthError> {
        let request = new_request(input, init)?;
        self.authorized(request).await
    }

    async fn authorized(self: &Rc<Self>, request: Request) -> Result<Response, AuthError> {
        let headers = request.headers();
        let caller_set_auth = headers.has("Authorization").unwrap_or(false);
        if caller_set_auth || !self.cfg.bearer_allowed(&request.url()) {
            return http::fetch(&request).await;
        }
        let Some(token) = self.access_token().await? else {
            return http::fetch(&request).await;
        };
        // Kept unsent (its body unread) for the one replay.
        let replay = request
            .clone()
            .map_err(|_| AuthError::config("The request body cannot be replayed"))?;
        set_bearer(&request, &token)?;
        let response = http::fetch(&request).await?;
        if response.status() != 401 {
            return Ok(response);
        }
        // The token may already have been replaced by a concurrent refresh.
        let current = self
            .session
            .borrow()
            .as_ref()
            .map(|s| s.access_token.clone());
        if current.as_deref() == Some(token.as_str()) {
            if let Err(e) = self.refresh_shared().await {
                return Err(match e.code {
                    ErrorCode::RefreshFailed | ErrorCode::SessionExpired => unauthorized(),
                    _ => e,
                });
            }
        }
        let fresh = self
            .session
            .borrow()
            .as_ref()
            .map(|s| s.access_token.clone());
        let Some(fresh) = fresh else {
            return Err(unauthorized());
        };
        set_bearer(&replay, &fresh)?;
        let response = http::fetch(&replay).await?;
        if response.status() == 401 {
            return self.fail(unauthorized());
        }
        Ok(response)
    }

    async fn me(self: &Rc<Self>) -> Result<JsValue, AuthError> {
        let Some(req) = protocol::me_request(&self.cfg) else {
            let claims = self
                .session
                .borrow()
                .as_ref()
                .and_then(|s| s.claims.clone());
            return match claims {
                Some(c) => Ok(js::parse_json(Some(&c))),
                None => self.fail(AuthError::new(ErrorCode::SessionExpired, "Not signed in")),
            };
        };
        if self.session.borrow().is_none() {
            return self.fail(AuthError::new(ErrorCode::SessionExpired, "Not signed in"));
        }
        let reply = if req.credential == Credential::Refresh {
            // Better Auth's get-session takes the session token, not the JWT.
            self.send(&req, self.credential(Credential::Refresh).as_deref())
                .await?
        } else {
            let reply = http::read(self.authorized(http::build(&req, None)?).await?).await?;
            self.observe(&reply);
            reply
        };
        let user = match protocol::parse_user(self.cfg.protocol, &Self::response(&reply)) {
            Ok(u) => u,
            Err(e) if e.code == ErrorCode::SessionExpired => {
                // The session was revoked (signed out elsewhere): sign out here too.
                self.sign_out(Event::SessionExpired, Some(e.clone()));
                return Err(e);
            }
            Err(e) => return self.fail(e),
        };
        if let Some(session) = self.session.borrow_mut().as_mut() {
            session.user = Some(user.clone());
        }
        self.save();
        self.set_error(None);
        self.emit(Event::UserUpdated);
        Ok(js::parse_json(Some(&user)))
    }
}

fn missing_field(field: &str, message: &str) -> AuthError {
    let mut err = AuthError::new(ErrorCode::Validation, message);
    err.fields.push((field.to_owned(), message.to_owned()));
    err
}

fn unauthorized() -> AuthError {
    AuthError::new(ErrorCode::Unauthorized, "Not authorized").with_status(401)
}

fn set_bearer(request: &Request, token: &str) -> Result<(), AuthError> {
    request
        .headers()
        .set("Authorization", &http::bearer_value(token))
        .map_err(|_| AuthError::config("Could not set the Authorization header"))
}

/// `new Request(input, init)`, exactly as fetch would interpret its arguments.
fn new_request(input: &JsValue, init: &JsValue) -> Result<Request, AuthError> {
    let bad = |_| AuthError::config("Invalid fetch input");
    if let Some(request) = input.dyn_ref::<Request>() {
        if init.is_undefined() || init.is_null() {
            return request.clone().map_err(bad);
        }
    }
    let ctor: Function = Reflect::get(&js_sys::global(), &JsValue::from_str("Request"))
        .map_err(bad)?
        .dyn_into()
        .map_err(bad)?;
    // Request's constructor turns a URL object (or anything else) into a string itself.
    let undefined = JsValue::UNDEFINED;
    let args = Array::of2(
        input,
        if init.is_undefined() || init.is_null() {
            &undefined
        } else {
            init
        },
    );
    Reflect::construct(&ctor, &args)
        .map_err(bad)?
        .dyn_into::<Request>()
        .map_err(bad)
}

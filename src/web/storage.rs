//! Where the session is kept: localStorage, sessionStorage or memory. Storage that
//! throws (disabled, private mode, quota) falls back to memory, and says so.

use crate::prelude::*;

use ::core::cell::{Cell, RefCell};

use crate::core::config::StorageKind;

pub struct Store {
    key: String,
    web: RefCell<Option<web_sys::Storage>>,
    /// The value when in memory (and a copy of the last write, kept on fallback).
    memory: RefCell<Option<String>>,
    kind: Cell<StorageKind>,
}

fn open_web(kind: StorageKind) -> Option<web_sys::Storage> {
    let window = web_sys::window()?;
    let storage = match kind {
        StorageKind::Local => window.local_storage(),
        StorageKind::Session => window.session_storage(),
        StorageKind::Memory => return None,
    };
    let storage = storage.ok().flatten()?;
    // Some browsers hand out a storage object whose every access throws: probe once.
    storage.get_item("auth-wasm:probe").ok()?;
    Some(storage)
}

impl Store {
    /// Open the requested storage; `fell_back()` tells whether memory is used instead.
    pub fn open(kind: StorageKind, key: String) -> Store {
        let web = open_web(kind);
        let in_use = if web.is_some() {
            kind
        } else {
            StorageKind::Memory
        };
        Store {
            key,
            web: RefCell::new(web),
            memory: RefCell::new(None),
            kind: Cell::new(in_use),
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn in_use(&self) -> StorageKind {
        self.kind.get()
    }

    /// Switch to memory. Returns true when this call changed the storage in use.
    fn fall_back(&self) -> bool {
        let was_web = self.web.borrow_mut().take().is_some();
        self.kind.set(StorageKind::Memory);
        was_web
    }

    /// The stored text. Second value: storage just fell back to memory.
    pub fn read(&self) -> (Option<String>, bool) {
        let result = self.web.borrow().as_ref().map(|s| s.get_item(&self.key));
        match result {
            Some(Ok(value)) => (value, false),
            Some(Err(_)) => {
                let fell = self.fall_back();
                (self.memory.borrow().clone(), fell)
            }
            None => (self.memory.borrow().clone(), false),
        }
    }

    /// Store `value` (None removes). Returns true when storage fell back to memory.
    pub fn write(&self, value: Option<&str>) -> bool {
        *self.memory.borrow_mut() = value.map(str::to_owned);
        let result = self.web.borrow().as_ref().map(|s| match value {
            Some(v) => s.set_item(&self.key, v),
            None => s.remove_item(&self.key),
        });
        matches!(result, Some(Err(_))) && self.fall_back()
    }

    /// The web storage object in use, for matching `storage` events to it.
    pub fn web(&self) -> Option<web_sys::Storage> {
        self.web.borrow().clone()
    }
}

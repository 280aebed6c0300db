//! JSON objects written member by member: the one path for the engine's answers (its
//! requests, errors, settings, the view, DPoP claims, passkeys). One out-of-line writer
//! per kind of value instead of a comma, a quoted key and a colon pushed at every member.

// ASCII is pushed as one-byte texts, as in json.rs (`String::push` tests its char for
// UTF-8 encoding first).
#![allow(clippy::single_char_add_str)]

use crate::prelude::*;

use super::json::{write_int, write_str};

/// An object being written; `end` closes it.
pub struct Object(String);

impl Object {
    pub fn new() -> Object {
        Object(String::from("{"))
    }

    #[inline(never)]
    fn key(&mut self, key: &str) -> &mut String {
        if self.0.len() > 1 {
            self.0.push_str(",");
        }
        write_str(&mut self.0, key);
        self.0.push_str(":");
        &mut self.0
    }

    /// `key`, its value to be written by the caller (JSON text) into the text returned.
    pub fn member(&mut self, key: &str) -> &mut String {
        self.key(key)
    }

    /// `key` with `value` as a JSON string.
    #[inline(never)]
    pub fn str(&mut self, key: &str, value: &str) -> &mut Object {
        write_str(self.key(key), value);
        self
    }

    /// `key` with `json`, already JSON text (a number, `true`, `null`, an object).
    #[inline(never)]
    pub fn raw(&mut self, key: &str, json: &str) -> &mut Object {
        self.key(key).push_str(json);
        self
    }

    pub fn int(&mut self, key: &str, n: i64) -> &mut Object {
        write_int(self.key(key), n);
        self
    }

    /// `key` with `value` as a string, when there is one.
    pub fn opt_str(&mut self, key: &str, value: Option<&str>) -> &mut Object {
        if let Some(value) = value {
            self.str(key, value);
        }
        self
    }

    /// The object's text.
    pub fn end(&mut self) -> String {
        // Closed in place, then taken: no copy of the text's handle to push on.
        self.0.push_str("}");
        core::mem::take(&mut self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_separated_and_values_written_as_json() {
        assert_eq!(Object::new().end(), "{}");
        let text = Object::new()
            .str("a", "x\"y")
            .raw("b", "true")
            .int("c", -12)
            .opt_str("d", None)
            .opt_str("e", Some("z"))
            .str("f\n", "")
            .end();
        assert_eq!(text, r#"{"a":"x\"y","b":true,"c":-12,"e":"z","f\n":""}"#);
    }
}

//! A JSON tree whose strings and keys are borrowed from the file's bytes where they have no
//! escapes, for snapshot files read by walking their structure (`nft.json`).
//!
//! It behaves as `serde_json::Value` does for everything the walkers ask: an object keeps one
//! entry per key, the last of repeated keys, in key order; numbers are serde_json's; the parser
//! and its errors (with line and column) are serde_json's. Only the allocations differ: no
//! `String` per key or text, one `Vec` per object or array.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;

/// A JSON value borrowing from the text it was read from.
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    /// Entries sorted by key, one per key.
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

/// `null`, for a missing value.
pub const NULL: Json<'static> = Json::Null;

impl<'a> Json<'a> {
    /// Reads a whole document.
    pub fn from_slice(bytes: &'a [u8]) -> serde_json::Result<Json<'a>> {
        serde_json::from_slice(bytes)
    }

    /// The value of `key` when this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        let entries = self.as_object()?;
        let i = entries.binary_search_by(|(k, _)| (**k).cmp(key)).ok()?;
        Some(&entries[i].1)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json<'a>]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The entries of an object, in key order.
    pub fn as_object(&self) -> Option<&[(Cow<'a, str>, Json<'a>)]> {
        match self {
            Json::Object(entries) => Some(entries),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Json<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor(std::marker::PhantomData))
    }
}

struct JsonVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for JsonVisitor<'a> {
    type Value = Json<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_unit<E>(self) -> Result<Json<'a>, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json<'a>, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json<'a>, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json<'a>, E> {
        Ok(Json::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Json<'a>, E> {
        Ok(Number::from_f64(v).map_or(Json::Null, Json::Number))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Json<'a>, E> {
        Ok(Json::String(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Json<'a>, E> {
        Ok(Json::String(Cow::Owned(v.to_string())))
    }

    fn visit_string<E>(self, v: String) -> Result<Json<'a>, E> {
        Ok(Json::String(Cow::Owned(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'a>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'a>, A::Error> {
        let mut entries: Vec<(Cow<'a, str>, Json<'a>)> = Vec::new();
        while let Some(Key(key)) = map.next_key()? {
            entries.push((key, map.next_value()?));
        }
        // As a map would keep them: in key order, the last value of a repeated key. The sort
        // is stable, so of equal keys the last read is the last of its run.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut unique: Vec<(Cow<'a, str>, Json<'a>)> = Vec::with_capacity(entries.len());
        for entry in entries {
            match unique.last_mut() {
                Some(last) if last.0 == entry.0 => *last = entry,
                _ => unique.push(entry),
            }
        }
        Ok(Json::Object(unique))
    }
}

/// An object key, borrowed when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Key<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for KeyVisitor<'a> {
            type Value = Key<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'a>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(KeyVisitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The same tree as serde_json's, for comparison.
    fn to_value(json: &Json) -> Value {
        match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.clone()),
            Json::String(s) => Value::String(s.to_string()),
            Json::Array(items) => Value::Array(items.iter().map(to_value).collect()),
            Json::Object(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_string(), to_value(v)))
                    .collect(),
            ),
        }
    }

    #[test]
    fn reads_what_serde_json_reads_and_fails_where_it_fails() {
        let docs = [
            r#"{"b": 1, "a": [true, false, null], "c": {"z": "x", "y": -3}}"#,
            r#"{"k": 1, "k": 2, "a": 0, "k": 3}"#,
            r#"{"esc\"aped": "tab\tand \u00e9 and \ud83d\ude00", "plain": "text"}"#,
            r#"[0, -0, 1.5, -2.5e3, 18446744073709551615, -9223372036854775808, 1e400]"#,
            r#"{"nested": [[[{"deep": [1, {"x": null}]}]]]}"#,
            r#""just a string""#,
            r#"{"a": 1,}"#,
            r#"{"a" 1}"#,
            r#"[1, 2"#,
            "{\"a\": \"\u{1}\"}",
            r#"{"a": "\ud800"}"#,
            "[1]\n  x",
        ];
        for doc in docs {
            let ours = Json::from_slice(doc.as_bytes());
            let theirs: serde_json::Result<Value> = serde_json::from_slice(doc.as_bytes());
            match (ours, theirs) {
                (Ok(ours), Ok(theirs)) => assert_eq!(to_value(&ours), theirs, "{doc}"),
                (Err(ours), Err(theirs)) => {
                    assert_eq!(ours.to_string(), theirs.to_string(), "{doc}");
                    assert_eq!(
                        (ours.line(), ours.column()),
                        (theirs.line(), theirs.column())
                    );
                }
                (ours, theirs) => panic!("{doc}: ours {ours:?}, serde_json {theirs:?}"),
            }
        }
    }

    #[test]
    fn texts_without_escapes_are_borrowed_and_lookups_find_the_last_of_a_key() {
        let doc = br#"{"key": "plain", "k\u0065y2": "a\nb", "dup": 1, "dup": 2}"#;
        let json = Json::from_slice(doc).unwrap();
        let entries = json.as_object().unwrap();
        let keys: Vec<&str> = entries.iter().map(|(k, _)| &**k).collect();
        assert_eq!(keys, ["dup", "key", "key2"]);
        assert!(matches!(entries[1].0, Cow::Borrowed(_)));
        assert!(matches!(entries[2].0, Cow::Owned(_)));
        assert!(matches!(
            json.get("key"),
            Some(Json::String(Cow::Borrowed("plain")))
        ));
        assert!(matches!(json.get("key2"), Some(Json::String(Cow::Owned(s))) if s == "a\nb"));
        assert_eq!(json.get("dup").and_then(Json::as_u64), Some(2));
        assert_eq!(json.get("missing"), None);
        assert_eq!(NULL.get("key"), None);
    }
}

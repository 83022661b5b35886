//! registry.pol (PReg version 1): a typed writer and a strict reader.
//!
//! Layout (MS-GPREG 2.2.1): the 8-byte header `PReg` + u32 LE 1, then instructions
//! `[key NUL ; value NUL ; type(u32 LE) ; size(u32 LE) ; data ]` where the brackets and
//! semicolons are UTF-16LE code units and type and size are raw little-endian integers.

/// The data of one registry.pol instruction.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PolData {
    /// REG_NONE with no data: "create the key only".
    None,
    Sz(String),
    ExpandSz(String),
    Binary(Vec<u8>),
    Dword(u32),
    MultiSz(Vec<String>),
    Qword(u64),
}

/// One instruction: a key (without hive), a value name and its data.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PolEntry {
    pub key: String,
    pub value: String,
    pub data: PolData,
}

impl PolEntry {
    pub fn new(key: impl Into<String>, value: impl Into<String>, data: PolData) -> Self {
        PolEntry {
            key: key.into(),
            value: value.into(),
            data,
        }
    }

    /// `**delvals.`: delete every value under `key` before the values that follow are set.
    pub fn delete_values(key: impl Into<String>) -> Self {
        PolEntry::new(key, "**delvals.", PolData::Sz(" ".into()))
    }

    /// `**del.NAME`: delete one value.
    pub fn delete(key: impl Into<String>, name: &str) -> Self {
        PolEntry::new(key, format!("**del.{name}"), PolData::Sz(" ".into()))
    }
}

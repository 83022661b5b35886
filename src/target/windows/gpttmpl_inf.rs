//! GptTmpl.inf (security template, MS-GPSB): a typed writer and an order-independent reader.
//!
//! Written as UTF-16LE with a BOM and CRLF line ends, `[Unicode]` and `[Version]` first.

/// A `[System Access]` value: a number, or a string written in double quotes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum InfValue {
    Number(i64),
    Text(String),
}

/// A `[Registry Values]` line: `MACHINE\path\name=type,data`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct InfRegistryValue {
    /// The fully qualified path with the value name, starting with `MACHINE\`.
    pub path: String,
    /// REG_* type code: 1 string, 2 expand string, 3 binary, 4 DWORD, 7 multi-string.
    pub reg_type: u32,
    /// The data as written after the comma (strings already in their INF form).
    pub data: String,
}

/// A `[Service General Setting]` line: `"name",mode,"sddl"` (2 automatic, 3 manual, 4 disabled).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct InfService {
    pub name: String,
    pub mode: u32,
    pub sddl: String,
}

/// The sections hardbase writes (and the reader returns; other known sections are kept as raw lines).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecurityTemplate {
    pub system_access: Vec<(String, InfValue)>,
    pub event_audit: Vec<(String, i64)>,
    pub registry_values: Vec<InfRegistryValue>,
    /// Right name → principals as written (`*S-1-5-32-544`, or a plain account name in exports).
    pub privilege_rights: Vec<(String, Vec<String>)>,
    pub services: Vec<InfService>,
    /// Lines of other sections the reader met, by section name (for secedit exports).
    pub other: Vec<(String, Vec<String>)>,
}

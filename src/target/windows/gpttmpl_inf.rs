//! GptTmpl.inf (security template, MS-GPSB): a typed writer and an order-independent reader.
//!
//! Written as UTF-16LE with a BOM and CRLF line ends, `[Unicode]` and `[Version]` first, then
//! only the non-empty sections hardbase fills, with no blank lines (Samba's parser, one of the
//! consumers tests use, fails on them).
//!
//! INF has no escape for a double quote inside a quoted value, `;` outside quotes starts a
//! comment, `,` separates list items and `=` separates keys (Samba splits on every `=`), so
//! the writer refuses, naming the key, the values these would change: a `"` in any quoted
//! value, `=` in a `[System Access]` text, `,` `;` `=` `"` in a principal, line breaks and
//! control characters anywhere, and duplicate keys. The reader takes what `secedit /export`
//! and GPMC write: sections in any order (`[Version]` last), plain account names among the
//! `*SID` principals, empty right-hand sides, and keeps sections it does not model in `other`.

use super::format_error::FormatError;

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

impl InfRegistryValue {
    /// A REG_DWORD: `path=4,n`.
    pub fn dword(path: impl Into<String>, n: u32) -> Self {
        InfRegistryValue {
            path: path.into(),
            reg_type: 4,
            data: n.to_string(),
        }
    }

    /// A REG_SZ: `path=1,"text"`.
    pub fn string(path: impl Into<String>, text: &str) -> Self {
        InfRegistryValue {
            path: path.into(),
            reg_type: 1,
            data: format!("\"{text}\""),
        }
    }

    /// A REG_EXPAND_SZ: `path=2,"text"`.
    pub fn expand_string(path: impl Into<String>, text: &str) -> Self {
        InfRegistryValue {
            reg_type: 2,
            ..InfRegistryValue::string(path, text)
        }
    }

    /// A REG_MULTI_SZ: `path=7,a,b`, with a comma inside an item written as `","`.
    ///
    /// Refuses an item INF cannot carry: empty (it would vanish), with surrounding spaces, or
    /// containing `"`, `;` or a control character.
    pub fn multi_sz<S: AsRef<str>>(path: impl Into<String>, items: &[S]) -> Result<Self, String> {
        let path = path.into();
        for item in items {
            multi_sz_item(item.as_ref()).map_err(|why| refuse(REGISTRY_VALUES, &path, &why))?;
        }
        let data = items
            .iter()
            .map(|i| i.as_ref().replace(',', "\",\""))
            .collect::<Vec<_>>()
            .join(",");
        Ok(InfRegistryValue {
            path,
            reg_type: 7,
            data,
        })
    }

    /// The text of a REG_SZ or REG_EXPAND_SZ (without its quotes).
    pub fn text(&self) -> Option<&str> {
        if !matches!(self.reg_type, 1 | 2) {
            return None;
        }
        Some(
            self.data
                .strip_prefix('"')
                .and_then(|d| d.strip_suffix('"'))
                .unwrap_or(&self.data),
        )
    }

    /// The items of a REG_MULTI_SZ: split on `,`, except where it is written `","`.
    pub fn items(&self) -> Option<Vec<String>> {
        if self.reg_type != 7 {
            return None;
        }
        if self.data.is_empty() {
            return Some(Vec::new());
        }
        let mut items = Vec::new();
        let mut current = String::new();
        let mut rest = self.data.as_str();
        while let Some(c) = rest.chars().next() {
            if let Some(after) = rest.strip_prefix("\",\"") {
                current.push(',');
                rest = after;
            } else if c == ',' {
                items.push(std::mem::take(&mut current));
                rest = &rest[1..];
            } else {
                current.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        items.push(current);
        Some(items)
    }
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

impl SecurityTemplate {
    /// Whether the template sets nothing.
    pub fn is_empty(&self) -> bool {
        self.system_access.is_empty()
            && self.event_audit.is_empty()
            && self.registry_values.is_empty()
            && self.privilege_rights.is_empty()
            && self.services.is_empty()
            && self.other.iter().all(|(_, lines)| lines.is_empty())
    }
}

const SYSTEM_ACCESS: &str = "System Access";
const EVENT_AUDIT: &str = "Event Audit";
const REGISTRY_VALUES: &str = "Registry Values";
const PRIVILEGE_RIGHTS: &str = "Privilege Rights";
const SERVICES: &str = "Service General Setting";

/// Characters that end a line for some reader (Python's `splitlines`, which Samba uses,
/// includes the C1 NEL and the Unicode separators), and other control characters.
fn breaks_lines(c: char) -> bool {
    c.is_control() || c == '\u{2028}' || c == '\u{2029}'
}

fn is_key(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn refuse(section: &str, key: &str, why: &str) -> String {
    format!(
        "GptTmpl.inf: cannot write [{section}] `{}`: {why}",
        key.escape_debug()
    )
}

fn no_duplicates<'a>(section: &str, keys: impl Iterator<Item = &'a str>) -> Result<(), String> {
    let mut seen = std::collections::BTreeSet::new();
    for key in keys {
        if !seen.insert(key.to_lowercase()) {
            return Err(refuse(section, key, "it appears twice"));
        }
    }
    Ok(())
}

fn check_key(section: &str, key: &str) -> Result<(), String> {
    if is_key(key) {
        Ok(())
    } else {
        Err(refuse(
            section,
            key,
            "a key here is letters, digits and `_` only",
        ))
    }
}

fn check_quoted(section: &str, key: &str, what: &str, text: &str) -> Result<(), String> {
    if text.contains('"') {
        return Err(refuse(
            section,
            key,
            &format!("{what} contains `\"`, which INF cannot carry inside quotes"),
        ));
    }
    if text.chars().any(breaks_lines) {
        return Err(refuse(
            section,
            key,
            &format!("{what} contains a line break or control character"),
        ));
    }
    Ok(())
}

fn check_registry_value(v: &InfRegistryValue) -> Result<(), String> {
    let path = v.path.as_str();
    let fail = |why: &str| Err(refuse(REGISTRY_VALUES, path, why));
    if path.is_empty() || path.starts_with(['[', ';']) || path.trim() != path {
        return fail("the path is empty or starts or ends with a reserved character");
    }
    if path.contains(['=', ';', '"']) || path.chars().any(breaks_lines) {
        return fail("the path contains `=`, `;`, `\"` or a control character");
    }
    if v.data.chars().any(breaks_lines) {
        return fail("the data contains a line break or control character");
    }
    let data = v.data.as_str();
    match v.reg_type {
        4 if data.parse::<u32>().is_ok() && data.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
        4 => fail("REG_DWORD data must be a decimal number"),
        1 | 2 => match data.strip_prefix('"').and_then(|d| d.strip_suffix('"')) {
            Some(inner) if !inner.contains('"') => Ok(()),
            _ => fail("string data must be one double-quoted value without `\"` inside"),
        },
        3 if data.bytes().all(|b| b.is_ascii_hexdigit() || b == b',') => Ok(()),
        3 => fail("REG_BINARY data must be hexadecimal digits and commas"),
        7 => {
            if data.replace("\",\"", ",").contains('"') {
                return fail("a multi-string item contains `\"`");
            }
            let items = v.items().unwrap_or_default();
            for item in items.iter().filter(|_| !data.is_empty()) {
                if let Err(why) = multi_sz_item(item) {
                    return fail(&why);
                }
            }
            Ok(())
        }
        other => fail(&format!(
            "type {other} cannot be written in a security template"
        )),
    }
}

fn multi_sz_item(item: &str) -> Result<(), String> {
    if item.is_empty() || item.trim() != item {
        return Err("a multi-string item is empty or starts or ends with a space".into());
    }
    if item.contains(['"', ';']) || item.chars().any(breaks_lines) {
        return Err(format!(
            "multi-string item `{}` contains `\"`, `;` (an INF comment) or a control character",
            item.escape_debug()
        ));
    }
    Ok(())
}

fn check(t: &SecurityTemplate) -> Result<(), String> {
    if let Some((name, _)) = t.other.iter().find(|(_, lines)| !lines.is_empty()) {
        return Err(format!(
            "GptTmpl.inf: cannot write [{}]: hardbase reads that section but does not write it",
            name.escape_debug()
        ));
    }
    no_duplicates(
        SYSTEM_ACCESS,
        t.system_access.iter().map(|(k, _)| k.as_str()),
    )?;
    for (key, value) in &t.system_access {
        check_key(SYSTEM_ACCESS, key)?;
        if let InfValue::Text(text) = value {
            check_quoted(SYSTEM_ACCESS, key, "the value", text)?;
            if text.contains('=') {
                return Err(refuse(
                    SYSTEM_ACCESS,
                    key,
                    "the value contains `=`, which breaks readers that split on it",
                ));
            }
        }
    }
    no_duplicates(EVENT_AUDIT, t.event_audit.iter().map(|(k, _)| k.as_str()))?;
    for (key, _) in &t.event_audit {
        check_key(EVENT_AUDIT, key)?;
    }
    no_duplicates(
        REGISTRY_VALUES,
        t.registry_values.iter().map(|v| v.path.as_str()),
    )?;
    for v in &t.registry_values {
        check_registry_value(v)?;
    }
    no_duplicates(
        PRIVILEGE_RIGHTS,
        t.privilege_rights.iter().map(|(k, _)| k.as_str()),
    )?;
    for (right, principals) in &t.privilege_rights {
        check_key(PRIVILEGE_RIGHTS, right)?;
        for p in principals {
            let bad = p.is_empty()
                || p.trim() != p
                || p.contains([',', ';', '=', '"'])
                || p.chars().any(breaks_lines);
            if bad {
                return Err(refuse(
                    PRIVILEGE_RIGHTS,
                    right,
                    &format!(
                        "principal `{}` is empty, has surrounding spaces, or contains `,` `;` `=` `\"` or a control character",
                        p.escape_debug()
                    ),
                ));
            }
        }
    }
    no_duplicates(SERVICES, t.services.iter().map(|s| s.name.as_str()))?;
    for s in &t.services {
        if s.name.is_empty() {
            return Err(refuse(SERVICES, &s.name, "the service name is empty"));
        }
        check_quoted(SERVICES, &s.name, "the service name", &s.name)?;
        check_quoted(SERVICES, &s.name, "the SDDL", &s.sddl)?;
    }
    Ok(())
}

/// Writes the template: UTF-16LE with a BOM, CRLF, no blank lines.
///
/// Refuses, naming the key, a value INF cannot carry (see the module notes).
pub fn write(t: &SecurityTemplate) -> Result<Vec<u8>, String> {
    check(t)?;
    let mut text = String::from(
        "[Unicode]\r\nUnicode=yes\r\n[Version]\r\nsignature=\"$CHICAGO$\"\r\nRevision=1\r\n",
    );
    let mut section = |name: &str, lines: Vec<String>| {
        if !lines.is_empty() {
            text.push_str(&format!("[{name}]\r\n"));
            for line in lines {
                text.push_str(&line);
                text.push_str("\r\n");
            }
        }
    };
    section(
        SYSTEM_ACCESS,
        t.system_access
            .iter()
            .map(|(k, v)| match v {
                InfValue::Number(n) => format!("{k} = {n}"),
                InfValue::Text(s) => format!("{k} = \"{s}\""),
            })
            .collect(),
    );
    section(
        EVENT_AUDIT,
        t.event_audit
            .iter()
            .map(|(k, n)| format!("{k} = {n}"))
            .collect(),
    );
    section(
        REGISTRY_VALUES,
        t.registry_values
            .iter()
            .map(|v| format!("{}={},{}", v.path, v.reg_type, v.data))
            .collect(),
    );
    section(
        PRIVILEGE_RIGHTS,
        t.privilege_rights
            .iter()
            .map(|(right, principals)| {
                if principals.is_empty() {
                    format!("{right} =")
                } else {
                    format!("{right} = {}", principals.join(","))
                }
            })
            .collect(),
    );
    section(
        SERVICES,
        t.services
            .iter()
            .map(|s| format!("\"{}\",{},\"{}\"", s.name, s.mode, s.sddl))
            .collect(),
    );
    let mut out = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    Ok(out)
}

/// Reads a security template (GPO GptTmpl.inf or `secedit /export` output).
///
/// The text must be UTF-16LE, with or without a BOM; the error names the line.
pub fn parse(bytes: &[u8]) -> Result<SecurityTemplate, FormatError> {
    let (units, base) = utf16_units(bytes)?;
    let text = String::from_utf16(&units).map_err(|_| {
        let index = units
            .iter()
            .enumerate()
            .position(|(i, &u)| match u {
                0xD800..=0xDBFF => !matches!(units.get(i + 1), Some(0xDC00..=0xDFFF)),
                0xDC00..=0xDFFF => i == 0 || !matches!(units[i - 1], 0xD800..=0xDBFF),
                _ => false,
            })
            .unwrap_or(0);
        let line = 1 + units[..index]
            .iter()
            .filter(|&&u| u == u16::from(b'\n'))
            .count();
        FormatError::at_line(line, base + 2 * index, "invalid UTF-16: unpaired surrogate")
    })?;
    if base == 0 {
        let first = text
            .trim_start_matches([' ', '\t', '\r', '\n'])
            .chars()
            .next();
        if first.is_some_and(|c| c != '[' && c != ';') {
            return Err(FormatError::at_line(
                1,
                0,
                "not UTF-16LE text: a security template without a BOM must start with a section header",
            ));
        }
    }
    let mut template = SecurityTemplate::default();
    let mut current: Option<Section> = None;
    let mut offset = base;
    for (index, raw) in lines(&text).enumerate() {
        let number = index + 1;
        let at = offset;
        offset += 2 * raw.encode_utf16().count();
        let line = raw.trim_end_matches(['\r', '\n']).trim_matches([' ', '\t']);
        let err = |message: String| FormatError::at_line(number, at, message);
        if line.is_empty() || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim_matches([' ', '\t']);
            current = Some(Section::named(name, &mut template));
            continue;
        }
        let Some(section) = &current else {
            return Err(err("a line before the first [section] header".into()));
        };
        match section {
            Section::Ignored => {}
            Section::SystemAccess => {
                let (key, value) = key_value(line).ok_or_else(|| err(expected("Key = Value")))?;
                let value = if let Some(inner) =
                    value.strip_prefix('"').and_then(|v| v.strip_suffix('"'))
                {
                    InfValue::Text(inner.to_string())
                } else if let Ok(n) = value.parse::<i64>() {
                    InfValue::Number(n)
                } else {
                    InfValue::Text(value.to_string())
                };
                template.system_access.push((key.to_string(), value));
            }
            Section::EventAudit => {
                let (key, value) = key_value(line).ok_or_else(|| err(expected("Key = n")))?;
                let n = value.parse::<i64>().map_err(|_| {
                    err(format!("[Event Audit] `{key}`: `{value}` is not a number"))
                })?;
                template.event_audit.push((key.to_string(), n));
            }
            Section::RegistryValues => {
                let (path, rest) = line
                    .split_once('=')
                    .ok_or_else(|| err(expected("path=type,data")))?;
                let (reg_type, data) = rest
                    .split_once(',')
                    .ok_or_else(|| err(expected("path=type,data")))?;
                let reg_type = reg_type
                    .trim_matches([' ', '\t'])
                    .parse::<u32>()
                    .map_err(|_| {
                        err(format!("registry value type `{reg_type}` is not a number"))
                    })?;
                template.registry_values.push(InfRegistryValue {
                    path: path.trim_matches([' ', '\t']).to_string(),
                    reg_type,
                    data: data.to_string(),
                });
            }
            Section::PrivilegeRights => {
                let (right, principals) =
                    key_value(line).ok_or_else(|| err(expected("Right = *SID,*SID")))?;
                let principals = if principals.is_empty() {
                    Vec::new()
                } else {
                    principals
                        .split(',')
                        .map(|p| p.trim_matches([' ', '\t']).to_string())
                        .collect()
                };
                template
                    .privilege_rights
                    .push((right.to_string(), principals));
            }
            Section::Services => {
                let fields =
                    quoted_fields(line).ok_or_else(|| err(expected("\"name\",mode,\"sddl\"")))?;
                let [name, mode, sddl] = fields.as_slice() else {
                    return Err(err(format!(
                        "{} fields where `\"name\",mode,\"sddl\"` has 3",
                        fields.len()
                    )));
                };
                let mode = mode
                    .parse::<u32>()
                    .map_err(|_| err(format!("service `{name}`: mode `{mode}` is not a number")))?;
                template.services.push(InfService {
                    name: name.clone(),
                    mode,
                    sddl: sddl.clone(),
                });
            }
            Section::Other(i) => template.other[*i].1.push(line.to_string()),
        }
    }
    Ok(template)
}

enum Section {
    Ignored,
    SystemAccess,
    EventAudit,
    RegistryValues,
    PrivilegeRights,
    Services,
    Other(usize),
}

impl Section {
    fn named(name: &str, template: &mut SecurityTemplate) -> Section {
        let known = [
            ("Unicode", Section::Ignored),
            ("Version", Section::Ignored),
            (SYSTEM_ACCESS, Section::SystemAccess),
            (EVENT_AUDIT, Section::EventAudit),
            (REGISTRY_VALUES, Section::RegistryValues),
            (PRIVILEGE_RIGHTS, Section::PrivilegeRights),
            (SERVICES, Section::Services),
        ];
        for (known_name, section) in known {
            if known_name.eq_ignore_ascii_case(name) {
                return section;
            }
        }
        let index = match template
            .other
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(i) => i,
            None => {
                template.other.push((name.to_string(), Vec::new()));
                template.other.len() - 1
            }
        };
        Section::Other(index)
    }
}

fn expected(form: &str) -> String {
    format!("expected `{form}`")
}

fn key_value(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once('=')?;
    let key = key.trim_matches([' ', '\t']);
    (!key.is_empty()).then_some((key, value.trim_matches([' ', '\t'])))
}

/// Splits `"a",2,"b"` on commas outside double quotes and removes the quotes.
fn quoted_fields(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut rest = line;
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        let field;
        if let Some(after) = rest.strip_prefix('"') {
            let end = after.find('"')?;
            field = after[..end].to_string();
            rest = after[end + 1..].trim_start_matches([' ', '\t']);
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            field = rest[..end].trim_end_matches([' ', '\t']).to_string();
            rest = &rest[end..];
        }
        fields.push(field);
        match rest.strip_prefix(',') {
            Some(after) => rest = after,
            None if rest.is_empty() => return Some(fields),
            None => return None,
        }
    }
}

/// Lines with their terminators (CRLF, LF or CR), so offsets can be counted.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = match rest.find(['\r', '\n']) {
            Some(i) if rest[i..].starts_with("\r\n") => i + 2,
            Some(i) => i + 1,
            None => rest.len(),
        };
        let (line, after) = rest.split_at(end);
        rest = after;
        Some(line)
    })
}

/// The UTF-16LE code units of the file and the byte offset where they start.
fn utf16_units(bytes: &[u8]) -> Result<(Vec<u16>, usize), FormatError> {
    let base = match bytes {
        [0xFF, 0xFE, ..] => 2,
        [0xFE, 0xFF, ..] => {
            return Err(FormatError::at_line(
                1,
                0,
                "UTF-16 big-endian is not supported: a security template is UTF-16LE",
            ))
        }
        [0xEF, 0xBB, 0xBF, ..] => {
            return Err(FormatError::at_line(
                1,
                0,
                "this is UTF-8 (it has a UTF-8 BOM): a security template is UTF-16LE",
            ))
        }
        _ => 0,
    };
    let body = &bytes[base..];
    if body.len() % 2 != 0 {
        return Err(FormatError::at_line(
            1,
            bytes.len() - 1,
            "not UTF-16LE text: the file has an odd number of bytes",
        ));
    }
    let units = body
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    Ok((units, base))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { vec![] };
        for u in text.encode_utf16() {
            out.extend_from_slice(&u.to_le_bytes());
        }
        out
    }

    fn sample() -> SecurityTemplate {
        SecurityTemplate {
            system_access: vec![
                ("LockoutBadCount".into(), InfValue::Number(5)),
                ("LockoutDuration".into(), InfValue::Number(-1)),
                ("NewGuestName".into(), InfValue::Text("Visitor".into())),
            ],
            event_audit: vec![("AuditLogonEvents".into(), 3)],
            registry_values: vec![
                InfRegistryValue::dword(
                    r"MACHINE\System\CurrentControlSet\Control\Lsa\NoLMHash",
                    1,
                ),
                InfRegistryValue::string(
                    r"MACHINE\System\CurrentControlSet\Control\Lsa\RestrictRemoteSAM",
                    "O:BAG:BAD:(A;;RC;;;BA)",
                ),
                InfRegistryValue::multi_sz(r"MACHINE\Software\X\LegalNoticeText", &["a, b", "c"])
                    .unwrap(),
            ],
            privilege_rights: vec![
                ("SeTcbPrivilege".into(), vec![]),
                (
                    "SeNetworkLogonRight".into(),
                    vec!["*S-1-5-32-544".into(), "*S-1-5-32-555".into()],
                ),
            ],
            services: vec![InfService {
                name: "XboxGipSvc".into(),
                mode: 4,
                sddl: String::new(),
            }],
            other: vec![],
        }
    }

    #[test]
    fn writes_the_expected_text() {
        let bytes = write(&sample()).unwrap();
        assert_eq!(&bytes[..2], &[0xFF, 0xFE]);
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let text = String::from_utf16(&units).unwrap();
        assert_eq!(
            text,
            "[Unicode]\r\nUnicode=yes\r\n[Version]\r\nsignature=\"$CHICAGO$\"\r\nRevision=1\r\n\
             [System Access]\r\nLockoutBadCount = 5\r\nLockoutDuration = -1\r\nNewGuestName = \"Visitor\"\r\n\
             [Event Audit]\r\nAuditLogonEvents = 3\r\n\
             [Registry Values]\r\nMACHINE\\System\\CurrentControlSet\\Control\\Lsa\\NoLMHash=4,1\r\n\
             MACHINE\\System\\CurrentControlSet\\Control\\Lsa\\RestrictRemoteSAM=1,\"O:BAG:BAD:(A;;RC;;;BA)\"\r\n\
             MACHINE\\Software\\X\\LegalNoticeText=7,a\",\" b,c\r\n\
             [Privilege Rights]\r\nSeTcbPrivilege =\r\nSeNetworkLogonRight = *S-1-5-32-544,*S-1-5-32-555\r\n\
             [Service General Setting]\r\n\"XboxGipSvc\",4,\"\"\r\n"
        );
        assert_eq!(parse(&bytes).unwrap(), sample());
    }

    #[test]
    fn empty_sections_are_left_out() {
        let bytes = write(&SecurityTemplate::default()).unwrap();
        assert_eq!(
            bytes,
            utf16(
                "[Unicode]\r\nUnicode=yes\r\n[Version]\r\nsignature=\"$CHICAGO$\"\r\nRevision=1\r\n",
                true
            )
        );
    }

    #[test]
    fn multi_sz_items_keep_their_commas() {
        let v = InfRegistryValue::multi_sz("MACHINE\\X", &["a, b", "c"]).unwrap();
        assert_eq!(
            v.items().unwrap(),
            vec!["a, b".to_string(), "c".to_string()]
        );
        let empty = InfRegistryValue::multi_sz::<&str>("MACHINE\\X", &[]).unwrap();
        assert!(InfRegistryValue::multi_sz("MACHINE\\X", &[""]).is_err());
        assert!(InfRegistryValue::multi_sz("MACHINE\\X", &["a;b"]).is_err());
        assert_eq!(empty.items().unwrap(), Vec::<String>::new());
    }

    #[test]
    fn reads_secedit_quirks() {
        let text = "[Unicode]\r\nUnicode=yes\r\n[System Access]\r\nNewGuestName = \"Gast\"\r\n\
                    [Privilege Rights]\r\nSeDenyNetworkLogonRight = Gast\r\nSeTcbPrivilege =\r\n\
                    [Kerberos Policy]\r\nMaxTicketAge = 10\r\n\
                    [Service General Setting]\r\nSpooler,4,D:AR(A;;RP;;;AU)\r\n\
                    [Version]\r\nsignature=\"$CHICAGO$\"\r\nRevision=1\r\n";
        for bom in [true, false] {
            let t = parse(&utf16(text, bom)).unwrap();
            assert_eq!(
                t.system_access,
                vec![("NewGuestName".into(), InfValue::Text("Gast".into()))]
            );
            assert_eq!(t.privilege_rights[0].1, vec!["Gast".to_string()]);
            assert!(t.privilege_rights[1].1.is_empty());
            assert_eq!(
                t.other,
                vec![("Kerberos Policy".into(), vec!["MaxTicketAge = 10".into()])]
            );
            assert_eq!(t.services[0].sddl, "D:AR(A;;RP;;;AU)");
        }
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse(&utf16(
            "[Unicode]\r\nUnicode=yes\r\n[Event Audit]\r\nAuditLogonEvents = x\r\n",
            true,
        ))
        .unwrap_err();
        assert_eq!(e.line, 4);
        assert!(e.to_string().starts_with("line 4: "));
        let e = parse(b"[Unicode]\r\nUnicode=yes\r\n").unwrap_err();
        assert!(e.message.contains("UTF-16LE"), "{e}");
        let e = parse(&[0xEF, 0xBB, 0xBF, b'[']).unwrap_err();
        assert!(e.message.contains("UTF-8"));
    }

    fn template_with(f: impl FnOnce(&mut SecurityTemplate)) -> SecurityTemplate {
        let mut t = SecurityTemplate::default();
        f(&mut t);
        t
    }

    #[test]
    fn the_writer_refuses_what_inf_cannot_carry() {
        let text = |s: &str| vec![("NewGuestName".to_string(), InfValue::Text(s.into()))];
        let refused = [
            template_with(|t| t.system_access = text("a\"b")),
            template_with(|t| t.system_access = text("a=b")),
            template_with(|t| t.system_access = text("a\r\nb")),
            template_with(|t| t.system_access = text("a\u{2028}b")),
            template_with(|t| {
                t.system_access
                    .push(("New Guest".into(), InfValue::Number(1)))
            }),
            template_with(|t| {
                t.privilege_rights
                    .push(("SeTcbPrivilege".into(), vec!["a,b".into()]))
            }),
            template_with(|t| {
                t.privilege_rights
                    .push(("SeTcbPrivilege".into(), vec!["".into()]))
            }),
            template_with(|t| {
                t.privilege_rights
                    .push(("SeTcbPrivilege".into(), vec!["\u{3000}a".into()]))
            }),
            template_with(|t| {
                t.services.push(InfService {
                    name: "a\"".into(),
                    mode: 4,
                    sddl: String::new(),
                })
            }),
            template_with(|t| {
                t.registry_values
                    .push(InfRegistryValue::string("MACHINE\\X", "a\"b"))
            }),
            template_with(|t| {
                t.registry_values.push(InfRegistryValue {
                    path: "MACHINE\\X".into(),
                    reg_type: 7,
                    data: "a,,b".into(),
                })
            }),
            template_with(|t| {
                t.other
                    .push(("Kerberos Policy".into(), vec!["MaxTicketAge = 10".into()]))
            }),
            template_with(|t| {
                t.event_audit.push(("AuditLogonEvents".into(), 1));
                t.event_audit.push(("auditlogonevents".into(), 2));
            }),
        ];
        for t in refused {
            let e = write(&t).unwrap_err();
            assert!(e.starts_with("GptTmpl.inf: cannot write ["), "{e}");
        }
    }
}

//! A fast reader for the long lists of `registry.json`, `firewall-rules.json` and
//! `services.json` as Windows PowerShell 5.1 writes them: an array of flat objects whose fields
//! are strings, integers, booleans, `null` or arrays of strings.
//!
//! It reads only what it fully understands and gives up (`false`) at anything else: another
//! shape, an unknown or repeated field, a number that is not a plain integer, a `\u` escape of a
//! surrogate, or anything malformed. The serde reader then reads the file from the start and
//! finds the same rows, or the error to report with its line and column.

use std::borrow::Cow;

use super::{FeatureRow, FirewallRuleRow, ProtocolText, RegistryValueRow, ServiceRow, Str};
use crate::live::Texts;
use crate::snapshot::TextArena;

/// A position in a file's text.
pub(super) struct Reader<'a> {
    text: &'a str,
    pos: usize,
    /// Where unescaped texts are kept, so that every text borrows for as long as the file.
    texts: &'a TextArena,
    /// The text being unescaped.
    scratch: String,
}

/// Reads `bytes` as an array of rows with `row`, handing each to `each`, and tells whether it
/// read the whole file. When it did not, `each` may have had some of the rows.
pub(super) fn rows<'a, T>(
    bytes: &'a [u8],
    texts: &'a TextArena,
    mut row: impl FnMut(&mut Reader<'a>) -> Option<T>,
    mut each: impl FnMut(T),
) -> bool {
    let bytes = super::strip_bom(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let mut r = Reader {
        text,
        pos: 0,
        texts,
        scratch: String::new(),
    };
    let mut read = || -> Option<()> {
        r.eat(b'[')?;
        if r.peek()? == b']' {
            r.pos += 1;
        } else {
            loop {
                each(row(&mut r)?);
                if !r.next_item(b']')? {
                    break;
                }
            }
        }
        r.ws();
        (r.pos == r.text.len()).then_some(())
    };
    read().is_some()
}

impl<'a> Reader<'a> {
    fn ws(&mut self) {
        let b = self.text.as_bytes();
        let mut i = self.pos;
        loop {
            // PowerShell indents with runs of spaces.
            if b.get(i..i + 8) == Some(b"        ") {
                i += 8;
                continue;
            }
            match b.get(i) {
                Some(b' ' | b'\n' | b'\r' | b'\t') => i += 1,
                _ => break,
            }
        }
        self.pos = i;
    }

    /// The next byte after whitespace.
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.text.as_bytes().get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.pos += 1)
    }

    fn word(&mut self, word: &str) -> Option<()> {
        self.ws();
        self.text[self.pos..]
            .starts_with(word)
            .then(|| self.pos += word.len())
    }

    /// After an item of an array or object: `true` at a comma (another item follows), `false`
    /// at `close`.
    fn next_item(&mut self, close: u8) -> Option<bool> {
        match self.peek()? {
            b',' => {
                self.pos += 1;
                Some(true)
            }
            c if c == close => {
                self.pos += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// A string, borrowed from the file when it has no escapes, else from the arena.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        self.eat(b'"')?;
        let b = self.text.as_bytes();
        let start = self.pos;
        let mut i = special(b, start);
        match *b.get(i)? {
            b'"' => {
                self.pos = i + 1;
                return Some(Cow::Borrowed(&self.text[start..i]));
            }
            b'\\' => {}
            _ => return None,
        }
        // The end first, for the capacity: an escape's second byte is never a quote.
        let mut end = i;
        loop {
            match *b.get(end)? {
                b'"' => break,
                b'\\' => end = special(b, end + 2),
                _ => return None,
            }
        }
        let out = &mut self.scratch;
        out.clear();
        out.push_str(&self.text[start..i]);
        while i < end {
            if b[i] != b'\\' {
                let run = i;
                i = special(b, i).min(end);
                out.push_str(&self.text[run..i]);
                continue;
            }
            let c = match *b.get(i + 1)? {
                b'"' => '"',
                b'\\' => '\\',
                b'/' => '/',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'n' => '\n',
                b'r' => '\r',
                b't' => '\t',
                b'u' => {
                    let hex = b.get(i + 2..i + 6)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    let n = hex
                        .iter()
                        .fold(0u32, |n, h| n * 16 + (*h as char).to_digit(16).unwrap_or(0));
                    i += 4;
                    // Surrogates (pairs or lone) are left to serde_json.
                    char::from_u32(n)?
                }
                _ => return None,
            };
            out.push(c);
            i += 2;
        }
        self.pos = end + 1;
        Some(Cow::Borrowed(self.texts.keep(out)))
    }

    /// A key: a string without escapes.
    fn key(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.pos;
        let end = special(self.text.as_bytes(), start);
        (self.text.as_bytes().get(end) == Some(&b'"')).then_some(())?;
        self.pos = end + 1;
        self.eat(b':')?;
        Some(&self.text[start..end])
    }

    /// An integer as JSON writes it, without fraction or exponent.
    fn integer(&mut self) -> Option<i64> {
        self.ws();
        let b = self.text.as_bytes();
        let mut i = self.pos;
        let negative = b.get(i) == Some(&b'-');
        if negative {
            i += 1;
        }
        let start = i;
        let mut n: i64 = 0;
        while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            n = n.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || (digits > 1 && b[start] == b'0') {
            return None;
        }
        if let Some(b'.' | b'e' | b'E') = b.get(i) {
            return None;
        }
        // serde_json reads -0 as a float.
        if negative && n == 0 {
            return None;
        }
        self.pos = i;
        Some(if negative { -n } else { n })
    }

    fn boolean(&mut self) -> Option<bool> {
        match self.peek()? {
            b't' => self.word("true").map(|_| true),
            b'f' => self.word("false").map(|_| false),
            _ => None,
        }
    }

    /// `null` as `None`, else what `value` reads.
    fn nullable<T>(&mut self, value: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.peek()? == b'n' {
            self.word("null")?;
            return Some(None);
        }
        value(self).map(Some)
    }

    /// An array of strings and nulls (nulls left out).
    fn texts(&mut self) -> Option<Texts<'a>> {
        self.eat(b'[')?;
        let mut out = Texts::default();
        if self.peek()? == b']' {
            self.pos += 1;
            return Some(out);
        }
        loop {
            if self.peek()? == b'n' {
                self.word("null")?;
            } else {
                out.push(self.string()?);
            }
            if !self.next_item(b']')? {
                return Some(out);
            }
        }
    }

    /// An object, each field handed to `field` with its key.
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.pos += 1;
            return Some(());
        }
        loop {
            let key = self.key()?;
            field(self, key)?;
            if !self.next_item(b'}')? {
                return Some(());
            }
        }
    }
}

/// The index of the first `"`, `\\` or control character of `b` from `i` (`b.len()` if none),
/// eight bytes at a time.
fn special(b: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte of `x` below `n` (exact up to the first such byte).
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    while let Some(chunk) = b.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        let hits = below(v ^ (ONES * u64::from(b'"')), 1)
            | below(v ^ (ONES * u64::from(b'\\')), 1)
            | below(v, 0x20);
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

/// Sets a field read once; a repeated field gives up.
fn set<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    slot.is_none().then(|| *slot = Some(value))
}

fn u32_field(r: &mut Reader<'_>) -> Option<u32> {
    u32::try_from(r.integer()?).ok()
}

pub(super) fn registry_row<'a>(r: &mut Reader<'a>) -> Option<RegistryValueRow<'a>> {
    let (mut hive, mut key, mut name, mut present) = (None, None, None, None);
    let (mut kind, mut kind_name, mut data) = (None, None, None);
    r.object(|r, field| match field {
        "Hive" => set(&mut hive, r.string()?),
        "Key" => set(&mut key, r.string()?),
        "Name" => set(&mut name, r.string()?),
        "Present" => set(&mut present, r.boolean()?),
        "Type" => set(&mut kind, i32::try_from(r.integer()?).ok()?),
        "TypeName" => set(&mut kind_name, r.nullable(Reader::string)?),
        "Data" => set(&mut data, r.nullable(Reader::texts)?),
        _ => None,
    })?;
    Some(RegistryValueRow {
        hive: hive.map_or_else(super::hklm, Str),
        key: Str(key.unwrap_or_default()),
        name: Str(name?),
        present: present?,
        kind: kind.unwrap_or_default(),
        kind_name: kind_name.flatten().map(Str),
        data: data.flatten(),
    })
}

pub(super) fn firewall_rule_row<'a>(r: &mut Reader<'a>) -> Option<FirewallRuleRow<'a>> {
    let (mut id, mut display_name, mut group) = (None, None, None);
    let (mut enabled, mut direction, mut action, mut profiles) = (None, None, None, None);
    let (mut store, mut protocol, mut program, mut service) = (None, None, None, None);
    let (mut local_port, mut remote_port, mut icmp_type, mut remote_address) =
        (None, None, None, None);
    r.object(|r, field| match field {
        "InstanceID" => set(&mut id, r.string()?),
        "DisplayName" => set(&mut display_name, r.nullable(Reader::string)?),
        "Group" => set(&mut group, r.nullable(Reader::string)?),
        "Enabled" => set(&mut enabled, u32_field(r)?),
        "Direction" => set(&mut direction, u32_field(r)?),
        "Action" => set(&mut action, u32_field(r)?),
        "Profiles" => set(&mut profiles, r.nullable(u32_field)?),
        "PolicyStoreSource" => set(&mut store, r.nullable(Reader::string)?),
        "Protocol" => set(
            &mut protocol,
            r.nullable(|r| match r.peek()? {
                b'"' => r.string(),
                _ => Some(Cow::Owned(r.integer()?.to_string())),
            })?,
        ),
        "LocalPort" => set(&mut local_port, r.nullable(Reader::texts)?),
        "RemotePort" => set(&mut remote_port, r.nullable(Reader::texts)?),
        "IcmpType" => set(&mut icmp_type, r.nullable(Reader::texts)?),
        "RemoteAddress" => set(&mut remote_address, r.nullable(Reader::texts)?),
        "Program" => set(&mut program, r.nullable(Reader::string)?),
        "Service" => set(&mut service, r.nullable(Reader::string)?),
        _ => None,
    })?;
    Some(FirewallRuleRow {
        instance_id: Str(id?),
        display_name: display_name.flatten().map(Str),
        group: group.flatten().map(Str),
        enabled: enabled?,
        direction: direction?,
        action: action?,
        profiles: profiles.flatten(),
        policy_store_source: store.flatten().map(Str),
        protocol: protocol.flatten().map(|p| ProtocolText(Some(p))),
        local_port: local_port.flatten(),
        remote_port: remote_port.flatten(),
        icmp_type: icmp_type.flatten(),
        remote_address: remote_address.flatten(),
        program: program.flatten().map(Str),
        service: service.flatten().map(Str),
    })
}

pub(super) fn service_row<'a>(r: &mut Reader<'a>) -> Option<ServiceRow<'a>> {
    let (mut name, mut start_mode, mut state, mut delayed) = (None, None, None, None);
    r.object(|r, field| match field {
        "Name" => set(&mut name, r.string()?),
        "StartMode" => set(&mut start_mode, r.string()?),
        "State" => set(&mut state, r.nullable(Reader::string)?),
        "DelayedAutoStart" => set(&mut delayed, r.nullable(Reader::boolean)?),
        _ => None,
    })?;
    Some(ServiceRow {
        name: Str(name?),
        start_mode: Str(start_mode?),
        state: state.flatten().map(Str),
        delayed_auto_start: delayed.flatten(),
    })
}

pub(super) fn feature_row<'a>(r: &mut Reader<'a>) -> Option<FeatureRow<'a>> {
    let (mut name, mut state, mut state_name) = (None, None, None);
    r.object(|r, field| match field {
        "FeatureName" => set(&mut name, r.string()?),
        "State" => set(&mut state, r.integer()?),
        "StateName" => set(&mut state_name, r.nullable(Reader::string)?),
        _ => None,
    })?;
    Some(FeatureRow {
        feature_name: Str(name?),
        state: state?,
        state_name: state_name.flatten().map(Cow::into_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::super::{json_each, registry_hash, WindowsState};
    use super::*;

    /// The facts the fast reader finds, or `None` where it gives up; and those of serde_json.
    fn both(file: &str, json: &str) -> (Option<WindowsState<'static>>, WindowsState<'static>) {
        let bytes = json.as_bytes();
        let texts = TextArena::new();
        let mut fast = WindowsState::default();
        let read = match file {
            "registry.json" => {
                let mut v = Vec::new();
                let ok = rows(bytes, &texts, registry_row, |r| v.push(r.fact()));
                fast.registry = Some(v);
                ok
            }
            "firewall-rules.json" => {
                let mut v = Vec::new();
                let ok = rows(bytes, &texts, firewall_rule_row, |r| v.push(r.fact()));
                fast.firewall_rules = Some(v);
                ok
            }
            _ => {
                let mut v = Vec::new();
                let ok = rows(bytes, &texts, service_row, |s| v.push(s.fact()));
                fast.services = Some(v.into_iter().collect());
                ok
            }
        };
        let mut slow = WindowsState::default();
        let parsed = match file {
            "registry.json" => {
                let mut v = Vec::new();
                let r = json_each(file, bytes, |r: RegistryValueRow| v.push(r.fact()));
                slow.registry = Some(v);
                r
            }
            "firewall-rules.json" => {
                let mut v = Vec::new();
                let r = json_each(file, bytes, |r: FirewallRuleRow| v.push(r.fact()));
                slow.firewall_rules = Some(v);
                r
            }
            _ => {
                let mut v = Vec::new();
                let r = json_each(file, bytes, |s: ServiceRow| v.push(s.fact()));
                slow.services = Some(v.into_iter().collect());
                r
            }
        };
        let (fast, slow) = (fast.into_owned(), slow.into_owned());
        if read {
            assert!(
                parsed.is_ok(),
                "{file}: the fast reader read what serde refuses: {json}"
            );
        }
        (read.then_some(fast), slow)
    }

    /// Read by the fast reader, with the facts serde_json finds.
    fn same(file: &str, json: &str) {
        let (fast, slow) = both(file, json);
        assert_eq!(fast.as_ref(), Some(&slow), "{file}: {json}");
    }

    /// Left to serde_json.
    fn left(file: &str, json: &str) {
        assert!(both(file, json).0.is_none(), "{file}: {json}");
    }

    #[test]
    fn reads_what_powershell_writes_as_serde_does() {
        same(
            "registry.json",
            "\u{feff}[\r\n    {\r\n        \"Data\":  [\r\n            \"542\"\r\n        ],\r\n        \"Hive\":  \"HKLM\",\r\n        \"Key\":  \"SOFTWARE\\\\Policies\\\\Microsoft\",\r\n        \"Name\":  \"PolicyVersion\",\r\n        \"Present\":  true,\r\n        \"Type\":  4,\r\n        \"TypeName\":  \"DWord\"\r\n    }\r\n]\r\n",
        );
        same("registry.json", "[]");
        same("registry.json", " [ ] ");
        same(
            "registry.json",
            r#"[{"Key":"K","Name":"","Present":false,"Data":null,"TypeName":null},
               {"Name":"n","Present":true,"Type":-7,"Data":["a",null,"\u00e9\n\"q\" \/ \t"]},
               {"Hive":"HKCU","Key":"a\\b","Name":"c","Present":true,"Data":[]}]"#,
        );
        same(
            "firewall-rules.json",
            r#"[{"Action":2,"Direction":1,"DisplayName":"Bob's <rule>","Enabled":1,"Group":null,
                 "IcmpType":["Any"],"InstanceID":"{5A4B-it's}","LocalPort":["80","443"],
                 "PolicyStoreSource":"GroupPolicy (LGPO)","Profiles":0,"Program":"C:\\x.exe",
                 "Protocol":"TCP","RemoteAddress":["10.0.0.0/255.0.0.0"],"RemotePort":null,
                 "Service":"Any"},
                {"Action":4,"Direction":2,"Enabled":2,"InstanceID":"x","Protocol":6},
                {"Action":4,"Direction":2,"Enabled":2,"InstanceID":"y","Protocol":null,"Profiles":null}]"#,
        );
        same(
            "services.json",
            r#"[{"DelayedAutoStart":false,"Name":"MpsSvc","StartMode":"Auto","State":"Running"},
                {"Name":"x","StartMode":"Disabled","State":null,"DelayedAutoStart":null},
                {"Name":"y","StartMode":"Manual"}]"#,
        );
    }

    #[test]
    fn leaves_everything_else_to_serde() {
        for json in [
            "",
            "null",
            "{}",
            r#"{"Name":"n","Present":true}"#,
            r#"{"value":[{"Name":"n","Present":true}],"Count":1}"#,
            r#"[{"Name":"n","Present":true},]"#,
            r#"[{"Name":"n","Present":true,}]"#,
            r#"[{"Name":"n","Present":true}] x"#,
            r#"[{"Name":"n","Present":true}"#,
            r#"[{"Name":"n"}]"#,
            r#"[{"Name":"n","Name":"m","Present":true}]"#,
            r#"[{"Name":"n","Present":true,"Extra":1}]"#,
            r#"[{"Na\u006de":"n","Present":true}]"#,
            r#"[{"Name":"n","Present":1}]"#,
            r#"[{"Name":"n","Present":truex}]"#,
            r#"[{"Name":"n","Present":true,"Type":4.0}]"#,
            r#"[{"Name":"n","Present":true,"Type":1e2}]"#,
            r#"[{"Name":"n","Present":true,"Type":04}]"#,
            r#"[{"Name":"n","Present":true,"Type":-0}]"#,
            r#"[{"Name":"n","Present":true,"Type":2147483648}]"#,
            r#"[{"Name":"n","Present":true,"Type":99999999999999999999}]"#,
            r#"[{"Name":"n","Present":true,"Data":"one"}]"#,
            r#"[{"Name":"n","Present":true,"Data":[1]}]"#,
            r#"[{"Name":"n","Present":true,"Data":[["a"]]}]"#,
            r#"[{"Name":"n","Present":true,"Data":{"value":["a"],"Count":1}}]"#,
            r#"[{"Name":"\ud83d\ude00","Present":true}]"#,
            r#"[{"Name":"\ud800","Present":true}]"#,
            r#"[{"Name":"\x","Present":true}]"#,
            r#"[{"Name":"\u12","Present":true}]"#,
            r#"[{"Name":"\u+123","Present":true}]"#,
            "[{\"Name\":\"a\tb\",\"Present\":true}]",
            "[{\"Name\":\"a\\\u{1}\",\"Present\":true}]",
            "[{\"Name\":\"n\",\"Present\":true}]\u{c}",
        ] {
            left("registry.json", json);
        }
        for json in [
            r#"[{"Action":2,"Direction":1,"Enabled":1}]"#,
            r#"[{"Action":2,"Direction":1,"Enabled":-1,"InstanceID":"x"}]"#,
            r#"[{"Action":2,"Direction":1,"Enabled":1,"InstanceID":"x","Protocol":true}]"#,
            r#"[{"Action":2,"Direction":1,"Enabled":1,"InstanceID":"x","Protocol":1.5}]"#,
            r#"[{"Action":2,"Direction":1,"Enabled":1,"InstanceID":"x","Protocol":{"x":[1]}}]"#,
            r#"[{"Action":2,"Direction":1,"Enabled":"1","InstanceID":"x"}]"#,
            r#"[{"Action":2,"Direction":1,"Enabled":1,"InstanceID":null}]"#,
        ] {
            left("firewall-rules.json", json);
        }
        for json in [
            r#"[{"Name":"x"}]"#,
            r#"[{"Name":"x","StartMode":null}]"#,
            r#"[{"Name":"x","StartMode":"Auto","DelayedAutoStart":0}]"#,
        ] {
            left("services.json", json);
        }
        // Not UTF-8.
        assert!(!rows(
            b"[{\"Name\":\"\xff\",\"Present\":true}]",
            &TextArena::new(),
            registry_row,
            |_| {}
        ));
    }

    #[test]
    fn plain_auditpol_files_read_as_the_csv_reader_reads_them() {
        use super::super::{auditpol_plain, parse_auditpol};
        let header = "Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,Exclusion Setting,Setting Value";
        let row = "ATM01,System,Credential Validation,{0cce923f-69ae-11d9-bed3-505054503030},Success and Failure,,3";
        let option = "ATM01,,Option:CrashOnAuditFail,,Disabled,,0";
        for (text, read) in [
            (format!("{header}\r\n{row}\r\n{option}\r\n"), true),
            (format!("{header}\n{row}\n"), true),
            (format!("{header}\r\n"), true),
            (format!("{header}\r\n{row}"), false),
            (format!("{header}\r\n\r\n{row}\r\n"), false),
            (format!("{header}\r\n{row}\r\r\n"), false),
            (format!("\u{feff}{header}\r\n{row}\r\n"), false),
            (format!("{header}\r\n\"{row}\"\r\n"), false),
            (format!("{header}\r\n{row},\r\n"), false),
            (
                format!("{header}\r\n{}\r\n", row.replace(",3", ",5")),
                false,
            ),
            (
                format!("{header}\r\n{}\r\n", row.replace(",3", ", 3")),
                false,
            ),
            (
                format!("{header}\r\n{}\r\n", row.replace("{0cce", "0cce")),
                false,
            ),
            (format!("{header}\r\nx,y\r\n"), false),
            (format!("{},x\r\n{row}\r\n", header), false),
            (String::new(), false),
        ] {
            let plain = auditpol_plain(text.as_bytes());
            assert_eq!(plain.is_some(), read, "{text:?}");
            if let Some(plain) = plain {
                assert_eq!(Ok(plain), parse_auditpol(text.as_bytes()), "{text:?}");
            }
        }
        assert!(auditpol_plain(b"\xff\xfeM\x00").is_none());
        assert!(auditpol_plain(b"Machine Name\xff\n").is_none());
    }

    #[test]
    fn feature_rows_read_as_serde_reads_them() {
        use super::super::{json_list, FeatureRow};
        let view = |r: &FeatureRow| (r.feature_name.0.to_string(), r.state, r.state_name.clone());
        for json in [
            r#"[{"FeatureName":"SMB1Protocol","State":2,"StateName":"Disabled"}]"#,
            r#"[{"FeatureName":"a","State":-1,"StateName":null},{"State":4,"FeatureName":"b"}]"#,
        ] {
            let mut fast = Vec::new();
            assert!(rows(json.as_bytes(), &TextArena::new(), feature_row, |r| {
                fast.push(view(&r))
            }));
            let slow: Vec<FeatureRow> = json_list("features.json", json.as_bytes()).unwrap();
            assert_eq!(fast, slow.iter().map(view).collect::<Vec<_>>());
        }
        for json in [
            r#"[{"FeatureName":"a","State":1.0}]"#,
            r#"[{"FeatureName":"a","State":1,"StateName":2}]"#,
            r#"[{"FeatureName":"a"}]"#,
            r#"{"FeatureName":"a","State":1}"#,
        ] {
            assert!(
                !rows(json.as_bytes(), &TextArena::new(), feature_row, |_| {}),
                "{json}"
            );
        }
    }

    #[test]
    fn the_special_byte_search_finds_the_first() {
        let text = "abcdefghijklmnop\"qrs\\tuv\u{1}wxyz";
        for start in 0..text.len() {
            let want = text.as_bytes()[start..]
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                .map_or(text.len(), |p| start + p);
            assert_eq!(special(text.as_bytes(), start), want, "from {start}");
        }
        assert_eq!(special("é\u{7f}\u{80}ÿ \"".as_bytes(), 0), 8);
    }

    #[test]
    fn registry_hashes_ignore_ascii_case_and_the_split() {
        for b in 0..=255u8 {
            let word =
                u64::from_le_bytes([b, b'A', b'z', b'@', b'[', b'`', b'{', b.wrapping_add(1)]);
            let want = word.to_le_bytes().map(|c| c.to_ascii_lowercase());
            assert_eq!(
                super::super::ascii_lowercase8(word).to_le_bytes(),
                want,
                "{b}"
            );
        }
        let long = "SOFTWARE\\Policies\\".repeat(20);
        for (key, name) in [
            ("SOFTWARE\\Policies\\Microsoft", "PolicyVersion"),
            ("", ""),
            ("ä", "É"),
            (long.as_str(), "N"),
        ] {
            let lower = registry_hash(&key.to_ascii_lowercase(), &name.to_ascii_lowercase());
            assert_eq!(registry_hash(key, name), lower);
            let joined = format!("{key}\\{name}");
            let (a, b) = joined.split_at(joined.len() / 2);
            if let Some(a) = a.strip_suffix('\\') {
                assert_eq!(registry_hash(a, b), registry_hash(key, name));
            }
        }
        assert_ne!(registry_hash("a", "b"), registry_hash("a", "c"));
    }
}

//! Parsers for the files `windows/Collect-Hardbase.ps1` writes (see the table in [`super`]).
//!
//! The native exports are read by the same readers the build uses for its own artefacts:
//! `secedit.inf` by [`gpttmpl_inf::parse`], `auditpol.csv` by [`audit_csv::parse`]. The JSON
//! files are Windows PowerShell 5.1 `ConvertTo-Json` output, so the readers take what 5.1
//! writes and nothing the collector does not: any indentation, `\u0027`-style escapes, an
//! optional UTF-8 BOM, a single object where an array was written (5.1 unrolls one-element
//! pipelines), and the `{"value": [...], "Count": n}` wrapper 5.1 writes for some arrays.
//! Enums are numbers; the numbers are interpreted in `drift`, not here. Every other surprise
//! (a missing field, a string where a number belongs, a truncated file) is an error naming the
//! file and line.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hasher;

use serde::de::DeserializeSeed;
use serde::Deserialize;

use super::{error, SnapshotError, TextArena};
use crate::live;
use crate::live::{
    AssignedAccessFact, BitLockerFact, BootElementFact, DeviceGuardFact, FeatureFact,
    FirewallProfileFact, FirewallRuleFact, KeyboardKeyFact, KeyboardSettingFact, Listener,
    LocalGroupFact, LocalUserFact, LockdownState, RegistryKeyFact, RegistryValueFact, ServiceFact,
    ShellAccountFact, ShellLauncherConfigFact, ShellLauncherFact, ShellProfileFact, UwfFilterFact,
    UwfOverlayConfigFact, UwfRegistryFilterFact, UwfVolumeFact, WdacPolicyFact, WindowsState,
};
use crate::target::windows::gpttmpl_inf::{self, InfValue};
use crate::target::windows::{audit_csv, format_error::FormatError};

mod fast;

/// The files of the Windows contract, in the order they are parsed.
pub const FILES: &[&str] = &[
    "secedit.inf",
    "auditpol.csv",
    "registry.json",
    "registry-keys.json",
    "firewall-profiles.json",
    "firewall-rules.json",
    "services.json",
    "group-members.json",
    "listening.json",
    "features.json",
    "lockdown.json",
];

/// The lookup hash of a registry value: of `key\\name` in lower case (Windows compares both
/// without case). Equal hashes are confirmed with [`same_registry_path`].
pub fn registry_hash(key: &str, name: &str) -> u64 {
    // Of the joined text, whatever the split between key and name (as the lookup compares).
    let len = key.len() + 1 + name.len();
    let mut stack = [0u8; 256];
    let mut heap = Vec::new();
    let joined: &mut [u8] = if len <= stack.len() {
        &mut stack[..len]
    } else {
        heap.resize(len, 0);
        &mut heap
    };
    joined[..key.len()].copy_from_slice(key.as_bytes());
    joined[key.len()] = b'\\';
    joined[key.len() + 1..].copy_from_slice(name.as_bytes());
    // Eight bytes at a time, lower-cased together, then a final mix so every bit depends on
    // the input.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ len as u64;
    for chunk in joined.chunks(8) {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        h = (h ^ ascii_lowercase8(u64::from_le_bytes(word)))
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .rotate_left(31);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h
}

/// The eight bytes of `word`, each as [`u8::to_ascii_lowercase`] makes it.
fn ascii_lowercase8(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low7 = word & !HIGH;
    // The high bit of each byte from `A` up, and of each byte past `Z` (no carries: every
    // byte stays below 0x100).
    let from_a = low7 + ONES * (0x80 - u64::from(b'A'));
    let past_z = low7 + ONES * (0x80 - u64::from(b'Z') - 1);
    let upper = from_a & !past_z & !word & HIGH;
    word | (upper >> 2)
}

/// Whether `key\\name` of a value equals the wanted `key\\name`, without ASCII case.
fn same_registry_path(v: &RegistryValueFact<'_>, key: &str, name: &str) -> bool {
    if v.key.len() == key.len() {
        // Usually spelled alike: the plain comparison first.
        return (*v.key == *key || v.key.eq_ignore_ascii_case(key))
            && (*v.name == *name || v.name.eq_ignore_ascii_case(name));
    }
    let have = v.key.bytes().chain(*b"\\").chain(v.name.bytes());
    let want = key.bytes().chain(*b"\\").chain(name.bytes());
    v.key.len() + v.name.len() == key.len() + name.len()
        && have.zip(want).all(|(a, b)| a.eq_ignore_ascii_case(&b))
}

/// The index of [`WindowsState::registry_index`]: its keys are already hashes.
pub type RegistryIndex = HashMap<u64, usize, std::hash::BuildHasherDefault<HashedKey>>;

/// A hasher for keys that are hashes themselves.
#[derive(Default)]
pub struct HashedKey(u64);

impl Hasher for HashedKey {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

fn registry_index(facts: &[RegistryValueFact<'_>]) -> RegistryIndex {
    let mut index = RegistryIndex::with_capacity_and_hasher(facts.len(), Default::default());
    for (i, v) in facts.iter().enumerate() {
        if v.hive.eq_ignore_ascii_case("HKLM") {
            index.entry(registry_hash(&v.key, &v.name)).or_insert(i);
        }
    }
    index
}

/// The first HKLM value of `values` whose `key\\name` equals `key\\name` without ASCII case,
/// found through `index` (built by [`parse`] from the same values).
pub fn find_registry<'a, 'b>(
    values: &'a [RegistryValueFact<'b>],
    index: &RegistryIndex,
    key: &str,
    name: &str,
) -> Option<&'a RegistryValueFact<'b>> {
    find_registry_hashed(values, index, registry_hash(key, name), key, name)
}

/// [`find_registry`] with `hash`, the [`registry_hash`] of `key` and `name`, already known.
pub fn find_registry_hashed<'a, 'b>(
    values: &'a [RegistryValueFact<'b>],
    index: &RegistryIndex,
    hash: u64,
    key: &str,
    name: &str,
) -> Option<&'a RegistryValueFact<'b>> {
    let matches = |v: &RegistryValueFact<'_>| {
        v.hive.eq_ignore_ascii_case("HKLM") && same_registry_path(v, key, name)
    };
    let i = *index.get(&hash)?;
    match values.get(i) {
        Some(v) if matches(v) => Some(v),
        // Another path with the same hash: look through all of them.
        _ => values.iter().find(|v| matches(v)),
    }
}

/// A text field read without a copy where the JSON string has no escapes.
#[derive(Debug, Default)]
struct Str<'a>(Cow<'a, str>);

impl Str<'_> {
    /// The text as one of the `known` words when it is one (no allocation), else a copy.
    fn known(self, known: &[&'static str]) -> Cow<'static, str> {
        match known.iter().find(|k| **k == self.0) {
            Some(k) => Cow::Borrowed(k),
            None => Cow::Owned(self.0.into_owned()),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        d.deserialize_string(Visitor)
    }
}

/// The words the collector's sources write for a closed set of values, kept without a copy.
const HIVES: &[&str] = &["HKLM"];
const KIND_NAMES: &[&str] = &[
    "String",
    "ExpandString",
    "Binary",
    "DWord",
    "MultiString",
    "QWord",
    "Unknown",
    "None",
    "",
];
const START_MODES: &[&str] = &["Boot", "System", "Auto", "Manual", "Disabled"];
const SERVICE_STATES: &[&str] = &[
    "Running",
    "Stopped",
    "Start Pending",
    "Stop Pending",
    "Continue Pending",
    "Pause Pending",
    "Paused",
    "Unknown",
];
const STORE_SOURCES: &[&str] = &[
    "PersistentStore",
    "GroupPolicy (LGPO)",
    "GroupPolicy",
    "Local",
    "Dynamic",
    "",
];

/// Parses one file of the contract into `state`.
/// Texts that need unescaping are kept in `texts`.
pub fn parse<'a>(
    name: &str,
    bytes: &'a [u8],
    texts: &'a TextArena,
    state: &mut WindowsState<'a>,
) -> Result<(), SnapshotError> {
    match name {
        "secedit.inf" => parse_secedit(bytes, state),
        "auditpol.csv" => {
            state.audit = Some(match auditpol_plain(bytes) {
                Some(audit) => audit,
                None => parse_auditpol(bytes)?,
            });
            Ok(())
        }
        "registry.json" => {
            let mut facts: Vec<RegistryValueFact<'a>> = Vec::new();
            if !fast::rows(bytes, texts, fast::registry_row, |row| {
                facts.push(row.fact())
            }) {
                facts.clear();
                json_each(name, bytes, |row: RegistryValueRow| facts.push(row.fact()))?;
            }
            state.registry_index = registry_index(&facts);
            state.registry = Some(facts);
            Ok(())
        }
        "registry-keys.json" => {
            let rows: Vec<RegistryKeyRow> = json_list(name, bytes)?;
            state.registry_keys = Some(
                rows.into_iter()
                    .map(|k| RegistryKeyFact {
                        hive: k.hive.known(HIVES),
                        key: k.key.0,
                        present: k.present,
                        values: k.values.0.into_iter().map(RegistryValueRow::fact).collect(),
                    })
                    .collect(),
            );
            Ok(())
        }
        "firewall-profiles.json" => {
            let rows: Vec<FirewallProfileRow> = json_list(name, bytes)?;
            state.firewall_profiles = Some(
                rows.into_iter()
                    .map(|p| FirewallProfileFact {
                        name: p.name,
                        enabled: p.enabled,
                        default_inbound: p.default_inbound_action,
                        default_outbound: p.default_outbound_action,
                        allow_local_rules: p.allow_local_firewall_rules,
                        allow_local_ipsec_rules: p.allow_local_ipsec_rules,
                        notify_on_listen: p.notify_on_listen,
                        log_blocked: p.log_blocked,
                    })
                    .collect(),
            );
            Ok(())
        }
        "firewall-rules.json" => {
            let mut rules = Vec::new();
            if !fast::rows(bytes, texts, fast::firewall_rule_row, |row| {
                rules.push(row.fact())
            }) {
                rules.clear();
                json_each(name, bytes, |row: FirewallRuleRow| rules.push(row.fact()))?;
            }
            state.firewall_rules = Some(rules);
            Ok(())
        }
        "services.json" => {
            let mut services = Vec::new();
            if !fast::rows(bytes, texts, fast::service_row, |s| services.push(s.fact())) {
                services.clear();
                json_each(name, bytes, |s: ServiceRow| services.push(s.fact()))?;
            }
            state.services = Some(services.into_iter().collect());
            Ok(())
        }
        "group-members.json" => {
            let doc: GroupMembers = json_value(name, bytes)?;
            state.groups = Some(
                doc.groups
                    .0
                    .into_iter()
                    .map(|g| LocalGroupFact {
                        sid: g.sid.0.to_ascii_uppercase(),
                        name: g.name.unwrap_or_default(),
                        members: g
                            .members
                            .0
                            .into_iter()
                            .map(|m| m.sid.0.to_ascii_uppercase())
                            .collect(),
                    })
                    .collect(),
            );
            state.users = Some(
                doc.users
                    .0
                    .into_iter()
                    .map(|u| LocalUserFact {
                        sid: u.sid.0.to_ascii_uppercase(),
                        name: u.name,
                        disabled: u.disabled.unwrap_or(false),
                    })
                    .collect(),
            );
            Ok(())
        }
        "listening.json" => {
            let rows: Vec<ListenerRow> = json_list(name, bytes)?;
            let mut listening: Vec<Listener> = rows
                .into_iter()
                .map(|l| Listener {
                    protocol: l.protocol.0.to_ascii_lowercase(),
                    address: l.address,
                    port: l.port,
                    process: l.process.filter(|p| !p.is_empty()),
                })
                .collect();
            listening.sort();
            listening.dedup();
            state.listening = Some(listening);
            Ok(())
        }
        "features.json" => {
            let mut rows = Vec::new();
            if !fast::rows(bytes, texts, fast::feature_row, |row| rows.push(row)) {
                rows = json_list(name, bytes)?;
            }
            state.features = Some(
                rows.into_iter()
                    .map(|f| {
                        (
                            f.feature_name.0.to_ascii_lowercase(),
                            FeatureFact {
                                state: f.state,
                                state_name: f.state_name.filter(|s| !s.is_empty()),
                            },
                        )
                    })
                    .collect(),
            );
            Ok(())
        }
        "lockdown.json" => {
            let doc: LockdownDoc = json_value(name, bytes)?;
            state.lockdown = Some(doc.fact());
            Ok(())
        }
        _ => Ok(()),
    }
}

/// `not_collected` of `snapshot.json`: file → the collector's reason (absent: none).
pub fn not_collected(info: &[u8]) -> BTreeMap<String, String> {
    serde_json::from_slice::<serde_json::Value>(strip_bom(info))
        .map(|v| not_collected_in(&v))
        .unwrap_or_default()
}

/// [`not_collected`] of `snapshot.json` already read as JSON.
pub fn not_collected_in(info: &serde_json::Value) -> BTreeMap<String, String> {
    info.get("not_collected")
        .and_then(|n| n.as_object())
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let reason = v.as_str().map(str::to_string).unwrap_or(v.to_string());
                    (k.clone(), reason)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn format_error(file: &str, e: FormatError) -> SnapshotError {
    error(file, e.line, e.message)
}

/// `secedit /export` output: UTF-16LE as secedit writes it.
fn parse_secedit(bytes: &[u8], state: &mut WindowsState) -> Result<(), SnapshotError> {
    let template = gpttmpl_inf::parse(bytes).map_err(|e| format_error("secedit.inf", e))?;
    state.system_access = Some(
        template
            .system_access
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    InfValue::Number(n) => n.to_string(),
                    InfValue::Text(t) => t,
                };
                (k, text)
            })
            .collect(),
    );
    state.privilege_rights = Some(template.privilege_rights.into_iter().collect());
    state.security_registry_values = Some(
        template
            .registry_values
            .into_iter()
            .map(|r| (r.path, format!("{},{}", r.reg_type, r.data)))
            .collect(),
    );
    Ok(())
}

/// `auditpol /backup` output: subcategory GUID → setting value. The names in it are localized
/// (and, on a Japanese machine, may be in the ANSI code page): only GUIDs and values are read,
/// so a UTF-16 file is transcoded and bytes that are not UTF-8 are replaced before parsing.
pub fn parse_auditpol(bytes: &[u8]) -> Result<BTreeMap<String, u8>, SnapshotError> {
    const FILE: &str = "auditpol.csv";
    let text: Vec<u8> = if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        let units: Vec<u16> = rest
            .chunks(2)
            .map(|c| u16::from_le_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        String::from_utf16_lossy(&units).into_bytes()
    } else {
        String::from_utf8_lossy(bytes).into_owned().into_bytes()
    };
    let rows = audit_csv::parse(&text).map_err(|e| format_error(FILE, e))?;
    let mut out = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        if !row.is_subcategory() {
            continue;
        }
        let value: u8 = row
            .value
            .trim()
            .parse()
            .ok()
            .filter(|v| *v <= 4)
            .ok_or_else(|| {
                error(
                    FILE,
                    i + 2,
                    format!("setting value `{}` is not 0 to 4", row.value),
                )
            })?;
        out.insert(row.guid.to_ascii_uppercase(), value);
    }
    Ok(out)
}

/// [`parse_auditpol`] of what auditpol writes: UTF-8 without a BOM, no quotes, no empty lines,
/// every line ended. `None` for anything else or any problem, which [`parse_auditpol`] then
/// reads or reports.
fn auditpol_plain(bytes: &[u8]) -> Option<BTreeMap<String, u8>> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(b"\xEF\xBB\xBF") {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    if text.contains('"') {
        return None;
    }
    let mut lines = text.strip_suffix('\n')?.split('\n').map(|line| {
        let line = line.strip_suffix('\r').unwrap_or(line);
        (!line.is_empty() && !line.contains('\r')).then_some(line)
    });
    if !lines.next()??.split(',').eq(audit_csv::HEADER) {
        return None;
    }
    let mut out = BTreeMap::new();
    for line in lines {
        let mut fields = line?.split(',');
        let mut field = || fields.next();
        let (_, _, subcategory, guid, _, _, value) = (
            field()?,
            field()?,
            field()?,
            field()?,
            field()?,
            field()?,
            field()?,
        );
        if fields.next().is_some() {
            return None;
        }
        let is_subcategory = !subcategory.starts_with("Option:")
            && subcategory != "FileGlobalSacl"
            && subcategory != "RegistryGlobalSacl";
        if !is_subcategory {
            continue;
        }
        if !audit_csv::is_braced_guid(guid) || value.parse::<u32>().is_err() {
            return None;
        }
        let value: u8 = value.trim().parse().ok().filter(|v| *v <= 4)?;
        out.insert(guid.to_ascii_uppercase(), value);
    }
    Some(out)
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

fn json_error(file: &str, e: serde_json::Error) -> SnapshotError {
    let what = if e.is_eof() {
        "truncated JSON"
    } else if e.is_syntax() {
        "not valid JSON"
    } else {
        "unexpected JSON"
    };
    error(file, e.line(), format!("{what}: {e}"))
}

/// Valid UTF-8 is checked once for the whole file rather than string by string; a file that
/// is not UTF-8 is read byte by byte, which names the line of the first bad string.
fn json_value<'a, T: Deserialize<'a>>(file: &str, bytes: &'a [u8]) -> Result<T, SnapshotError> {
    let bytes = strip_bom(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    }
    .map_err(|e| json_error(file, e))
}

/// A JSON list as 5.1 writes it: an array, one object, `null`, or `{"value": [...], "Count": n}`.
fn json_list<'a, T: Deserialize<'a>>(file: &str, bytes: &'a [u8]) -> Result<Vec<T>, SnapshotError> {
    json_value::<PsList<T>>(file, bytes).map(|l| l.0)
}

/// Like [`json_list`], but hands each item to `each` as it is read instead of collecting them.
fn json_each<'a, T: Deserialize<'a>>(
    file: &str,
    bytes: &'a [u8],
    mut each: impl FnMut(T),
) -> Result<(), SnapshotError> {
    fn read<'a, R: serde_json::de::Read<'a>, T: Deserialize<'a>>(
        mut de: serde_json::Deserializer<R>,
        each: &mut impl FnMut(T),
    ) -> Result<(), serde_json::Error> {
        ListSeed {
            each,
            item: std::marker::PhantomData,
        }
        .deserialize(&mut de)?;
        de.end()
    }
    let bytes = strip_bom(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => read(serde_json::Deserializer::from_str(text), &mut each),
        Err(_) => read(serde_json::Deserializer::from_slice(bytes), &mut each),
    }
    .map_err(|e| json_error(file, e))
}

/// A list that Windows PowerShell 5.1 may have written in any of its shapes.
#[derive(Debug)]
struct PsList<T>(Vec<T>);

impl<T> Default for PsList<T> {
    fn default() -> Self {
        PsList(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for PsList<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut out = Vec::new();
        ListSeed {
            each: &mut |item| out.push(item),
            item: std::marker::PhantomData,
        }
        .deserialize(d)?;
        Ok(PsList(out))
    }
}

/// Reads a list in any of 5.1's shapes and hands each item to `each`.
struct ListSeed<'f, T, F> {
    each: &'f mut F,
    item: std::marker::PhantomData<T>,
}

impl<'de, T: Deserialize<'de>, F: FnMut(T)> DeserializeSeed<'de> for ListSeed<'_, T, F> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(T)> serde::de::Visitor<'de> for ListSeed<'_, T, F> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    /// Elements are read from the stream, so an error in one names its line.
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element()? {
            (self.each)(item);
        }
        Ok(())
    }

    /// One object, or the `{"value": [...], "Count": n}` wrapper.
    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        use serde::de::Error;
        let value =
            serde_json::Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        let wrapped = value.as_object().is_some_and(|m| {
            m.get("value").is_some_and(|v| v.is_array())
                && m.keys().all(|k| k == "value" || k == "Count")
        });
        if wrapped {
            let inner = value.get("value").cloned().unwrap_or_default();
            let items = Vec::<T>::deserialize(inner).map_err(A::Error::custom)?;
            items.into_iter().for_each(self.each);
            return Ok(());
        }
        let item = T::deserialize(value).map_err(A::Error::custom)?;
        (self.each)(item);
        Ok(())
    }
}

/// A string list: strings, numbers (5.1 may write a port as a number) or `null` items.
#[derive(Debug, Default)]
struct Texts(Vec<String>);

impl<'de> Deserialize<'de> for Texts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut out = Vec::new();
        ListSeed {
            each: &mut |item: TextItem| out.extend(item.0),
            item: std::marker::PhantomData,
        }
        .deserialize(d)?;
        Ok(Texts(out))
    }
}

/// One item of a string list: a string, a number (as its text) or `null` (`None`).
struct TextItem(Option<String>);

impl<'de> Deserialize<'de> for TextItem {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = TextItem;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<TextItem, E> {
                Ok(TextItem(Some(v.to_string())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<TextItem, E> {
                Ok(TextItem(Some(v)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<TextItem, E> {
                Ok(TextItem(Some(v.to_string())))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<TextItem, E> {
                Ok(TextItem(Some(v.to_string())))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<TextItem, E> {
                Ok(TextItem(Some(
                    serde_json::Number::from_f64(v)
                        .map_or_else(|| v.to_string(), |n| n.to_string()),
                )))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<TextItem, E> {
                Ok(TextItem(None))
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<TextItem, E> {
                Ok(TextItem(None))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// [`Texts`] whose strings borrow from the file where they have no escapes.
struct BorrowedTexts<'a>(live::Texts<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for BorrowedTexts<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut out = live::Texts::default();
        ListSeed {
            each: &mut |item: BorrowedTextItem<'a>| {
                if let Some(text) = item.0 {
                    out.push(text);
                }
            },
            item: std::marker::PhantomData,
        }
        .deserialize(d)?;
        Ok(BorrowedTexts(out))
    }
}

/// [`TextItem`] borrowing from the file.
struct BorrowedTextItem<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for BorrowedTextItem<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = BorrowedTextItem<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<BorrowedTextItem<'de>, E> {
                Ok(BorrowedTextItem(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<BorrowedTextItem<'de>, E> {
                Ok(BorrowedTextItem(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_string<E: serde::de::Error>(
                self,
                v: String,
            ) -> Result<BorrowedTextItem<'de>, E> {
                Ok(BorrowedTextItem(Some(Cow::Owned(v))))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<BorrowedTextItem<'de>, E> {
                Ok(BorrowedTextItem(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<BorrowedTextItem<'de>, E> {
                Ok(BorrowedTextItem(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<BorrowedTextItem<'de>, E> {
                Ok(BorrowedTextItem(Some(Cow::Owned(
                    serde_json::Number::from_f64(v)
                        .map_or_else(|| v.to_string(), |n| n.to_string()),
                ))))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<BorrowedTextItem<'de>, E> {
                Ok(BorrowedTextItem(None))
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<BorrowedTextItem<'de>, E> {
                Ok(BorrowedTextItem(None))
            }
        }
        d.deserialize_any(Visitor)
    }
}

fn borrowed_texts<'de: 'a, 'a, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<live::Texts<'a>>, D::Error> {
    Option::<BorrowedTexts<'a>>::deserialize(d).map(|o| o.map(|t| t.0))
}

/// A firewall rule's `Protocol` as text: a string as it is, a number in decimal; anything else
/// (read and dropped) is no protocol.
struct ProtocolText<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for ProtocolText<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ProtocolText<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any valid JSON value")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<ProtocolText<'de>, E> {
                Ok(ProtocolText(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ProtocolText<'de>, E> {
                Ok(ProtocolText(Some(Cow::Owned(v.to_string()))))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<ProtocolText<'de>, E> {
                Ok(ProtocolText(Some(Cow::Owned(v))))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ProtocolText<'de>, E> {
                Ok(ProtocolText(Some(Cow::Owned(
                    serde_json::Number::from(v).to_string(),
                ))))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ProtocolText<'de>, E> {
                Ok(ProtocolText(Some(Cow::Owned(
                    serde_json::Number::from(v).to_string(),
                ))))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<ProtocolText<'de>, E> {
                Ok(ProtocolText(
                    serde_json::Number::from_f64(v).map(|n| Cow::Owned(n.to_string())),
                ))
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<ProtocolText<'de>, E> {
                Ok(ProtocolText(None))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<ProtocolText<'de>, E> {
                Ok(ProtocolText(None))
            }
            fn visit_none<E: serde::de::Error>(self) -> Result<ProtocolText<'de>, E> {
                Ok(ProtocolText(None))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<ProtocolText<'de>, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(ProtocolText(None))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<ProtocolText<'de>, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(ProtocolText(None))
            }
        }
        d.deserialize_any(Visitor)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RegistryValueRow<'a> {
    #[serde(borrow, default = "hklm")]
    hive: Str<'a>,
    #[serde(borrow, default)]
    key: Str<'a>,
    #[serde(borrow)]
    name: Str<'a>,
    present: bool,
    #[serde(rename = "Type", default)]
    kind: i32,
    #[serde(rename = "TypeName", borrow, default)]
    kind_name: Option<Str<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed_texts")]
    data: Option<live::Texts<'a>>,
}

fn hklm<'a>() -> Str<'a> {
    Str(Cow::Borrowed("HKLM"))
}

impl<'a> RegistryValueRow<'a> {
    fn fact(self) -> RegistryValueFact<'a> {
        RegistryValueFact {
            hive: self.hive.known(HIVES),
            key: self.key.0,
            name: self.name.0,
            present: self.present,
            kind: self.kind,
            kind_name: self
                .kind_name
                .map(|t| t.known(KIND_NAMES))
                .unwrap_or_default(),
            data: self.data.unwrap_or_default(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RegistryKeyRow<'a> {
    #[serde(borrow)]
    hive: Str<'a>,
    #[serde(borrow)]
    key: Str<'a>,
    present: bool,
    #[serde(borrow, default)]
    values: PsList<RegistryValueRow<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FirewallProfileRow {
    name: String,
    enabled: Option<u32>,
    default_inbound_action: Option<u32>,
    default_outbound_action: Option<u32>,
    #[serde(default)]
    allow_local_firewall_rules: Option<u32>,
    #[serde(rename = "AllowLocalIPsecRules", default)]
    allow_local_ipsec_rules: Option<u32>,
    #[serde(default)]
    notify_on_listen: Option<u32>,
    #[serde(default)]
    log_blocked: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FirewallRuleRow<'a> {
    #[serde(rename = "InstanceID", borrow)]
    instance_id: Str<'a>,
    #[serde(borrow, default)]
    display_name: Option<Str<'a>>,
    #[serde(borrow, default)]
    group: Option<Str<'a>>,
    enabled: u32,
    direction: u32,
    action: u32,
    #[serde(default)]
    profiles: Option<u32>,
    #[serde(borrow, default)]
    policy_store_source: Option<Str<'a>>,
    #[serde(borrow, default)]
    protocol: Option<ProtocolText<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed_texts")]
    local_port: Option<live::Texts<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed_texts")]
    remote_port: Option<live::Texts<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed_texts")]
    icmp_type: Option<live::Texts<'a>>,
    #[serde(borrow, default, deserialize_with = "borrowed_texts")]
    remote_address: Option<live::Texts<'a>>,
    #[serde(borrow, default)]
    program: Option<Str<'a>>,
    #[serde(borrow, default)]
    service: Option<Str<'a>>,
}

impl<'a> FirewallRuleRow<'a> {
    fn fact(self) -> FirewallRuleFact<'a> {
        FirewallRuleFact {
            id: self.instance_id.0,
            display_name: self.display_name.map(|t| t.0).unwrap_or_default(),
            group: self.group.map(|t| t.0).unwrap_or_default(),
            enabled: self.enabled,
            direction: self.direction,
            action: self.action,
            profiles: self.profiles.unwrap_or(0),
            store_source: self
                .policy_store_source
                .map(|t| t.known(STORE_SOURCES))
                .unwrap_or_default(),
            protocol: self.protocol.and_then(|p| p.0),
            local_ports: self.local_port,
            remote_ports: self.remote_port,
            icmp_types: self.icmp_type,
            remote_addresses: self.remote_address,
            program: self.program.map(|t| t.0),
            service: self.service.map(|t| t.0),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ServiceRow<'a> {
    #[serde(borrow)]
    name: Str<'a>,
    #[serde(borrow)]
    start_mode: Str<'a>,
    #[serde(borrow, default)]
    state: Option<Str<'a>>,
    #[serde(default)]
    delayed_auto_start: Option<bool>,
}

impl<'a> ServiceRow<'a> {
    /// The service keyed by its lowercase name.
    fn fact(self) -> ServiceFact<'a> {
        ServiceFact {
            name: self.name.0,
            start_mode: self.start_mode.known(START_MODES),
            state: self
                .state
                .map(|t| t.known(SERVICE_STATES))
                .unwrap_or_default(),
            delayed_auto_start: self.delayed_auto_start,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupMembers<'a> {
    #[serde(borrow)]
    groups: PsList<GroupRow<'a>>,
    #[serde(borrow)]
    users: PsList<UserRow<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupRow<'a> {
    #[serde(borrow)]
    sid: Str<'a>,
    #[serde(default)]
    name: Option<String>,
    #[serde(borrow, default)]
    members: PsList<MemberRow<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MemberRow<'a> {
    #[serde(borrow)]
    sid: Str<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserRow<'a> {
    #[serde(borrow)]
    sid: Str<'a>,
    name: String,
    #[serde(default)]
    disabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListenerRow<'a> {
    #[serde(borrow)]
    protocol: Str<'a>,
    address: String,
    port: u16,
    #[serde(default)]
    process: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FeatureRow<'a> {
    #[serde(borrow)]
    feature_name: Str<'a>,
    state: i64,
    #[serde(default)]
    state_name: Option<String>,
}

// ---------------------------------------------------------------- lockdown.json

/// `lockdown.json`: one optional section per source; `null` or absent means not read, and
/// `NotCollected` says why.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LockdownDoc {
    #[serde(default)]
    uwf_filter: Option<UwfFilterRow>,
    #[serde(default)]
    uwf_volumes: Option<PsList<UwfVolumeRow>>,
    #[serde(default)]
    uwf_overlay_config: Option<PsList<UwfOverlayConfigRow>>,
    #[serde(default)]
    uwf_registry_filter: Option<PsList<UwfRegistryFilterRow>>,
    #[serde(default)]
    shell_launcher: Option<PsList<ShellLauncherRow>>,
    #[serde(default)]
    shell_launcher_enabled: Option<bool>,
    #[serde(default)]
    keyboard_filter: Option<PsList<KeyboardKeyRow>>,
    #[serde(default)]
    keyboard_filter_settings: Option<PsList<KeyboardSettingRow>>,
    #[serde(default)]
    assigned_access: Option<AssignedAccessRow>,
    #[serde(rename = "BitLocker", default)]
    bitlocker: Option<BitLockerRow>,
    #[serde(default)]
    boot: Option<PsList<BootElementRow>>,
    #[serde(default)]
    device_guard: Option<DeviceGuardRow>,
    #[serde(default)]
    wdac_policies: Option<PsList<WdacPolicyRow>>,
    #[serde(default)]
    not_collected: Option<BTreeMap<String, serde_json::Value>>,
}

impl LockdownDoc {
    fn fact(self) -> LockdownState {
        fn list<R, F>(rows: Option<PsList<R>>, f: impl Fn(R) -> F) -> Option<Vec<F>> {
            rows.map(|l| l.0.into_iter().map(f).collect())
        }
        LockdownState {
            uwf_filter: self.uwf_filter.map(|f| UwfFilterFact {
                current_enabled: f.current_enabled,
                next_enabled: f.next_enabled,
            }),
            uwf_volumes: list(self.uwf_volumes, |v| UwfVolumeFact {
                current_session: v.current_session,
                drive_letter: v.drive_letter.unwrap_or_default(),
                protected: v.protected,
                exclusions: v.exclusions.map(|t| t.0),
            }),
            uwf_overlay_configs: list(self.uwf_overlay_config, |o| UwfOverlayConfigFact {
                current_session: o.current_session,
                overlay_type: o.overlay_type,
                maximum_size: o.maximum_size,
            }),
            uwf_registry_filters: list(self.uwf_registry_filter, |r| UwfRegistryFilterFact {
                current_session: r.current_session,
                exclusions: r.exclusions.map(|t| t.0),
            }),
            shell_launcher: list(self.shell_launcher, |s| ShellLauncherFact {
                sid: s.sid.to_ascii_uppercase(),
                shell: s.shell.unwrap_or_default(),
                default_action: s.default_action,
            }),
            shell_launcher_enabled: self.shell_launcher_enabled,
            keyboard_keys: list(self.keyboard_filter, |k| KeyboardKeyFact {
                id: k.id,
                enabled: k.enabled,
            }),
            keyboard_settings: list(self.keyboard_filter_settings, |k| KeyboardSettingFact {
                name: k.name,
                value: k.value.unwrap_or_default(),
            }),
            assigned_access: self.assigned_access.map(|a| AssignedAccessFact {
                shell_launcher: a.shell_launcher.unwrap_or_default(),
                shell_launcher_config: a.shell_launcher_config.map(|c| ShellLauncherConfigFact {
                    profiles: c
                        .profiles
                        .0
                        .into_iter()
                        .map(|p| ShellProfileFact {
                            id: p.id.unwrap_or_default(),
                            default: p.default.unwrap_or(false),
                            shell: p.shell.unwrap_or_default(),
                            default_action: p.default_action.unwrap_or_default(),
                        })
                        .collect(),
                    accounts: c
                        .accounts
                        .0
                        .into_iter()
                        .map(|a| ShellAccountFact {
                            name: a.name.unwrap_or_default(),
                            sid: a.sid.unwrap_or_default().to_ascii_uppercase(),
                            auto_logon: a.auto_logon.unwrap_or(false),
                            profile_id: a.profile_id.unwrap_or_default(),
                        })
                        .collect(),
                }),
                kiosk_mode_app: a.kiosk_mode_app.filter(|t| !t.is_empty()),
                configuration: a.configuration.filter(|t| !t.is_empty()),
            }),
            bitlocker: self.bitlocker.map(|b| BitLockerFact {
                drive_letter: b.drive_letter.unwrap_or_default(),
                protection_status: b.protection_status,
                encryption_method: b.encryption_method,
                key_protector_types: b.key_protector_types.0,
            }),
            boot: list(self.boot, |b| BootElementFact {
                object: b.object,
                element: b.element,
                value: b.value.unwrap_or_default(),
                desired: b.desired.unwrap_or_default(),
                present: b.present,
                actual: b.actual.unwrap_or_default(),
            }),
            device_guard: self.device_guard.map(|d| DeviceGuardFact {
                code_integrity: d.code_integrity_policy_enforcement_status,
                usermode_code_integrity: d.usermode_code_integrity_policy_enforcement_status,
            }),
            wdac_policies: list(self.wdac_policies, |p| WdacPolicyFact {
                policy_id: p.policy_id.to_ascii_uppercase(),
                destination: p.destination,
                present: p.present,
                sha256: p.sha256.unwrap_or_default().to_ascii_lowercase(),
            }),
            not_collected: self
                .not_collected
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| {
                    let reason = v.as_str().map(str::to_string).unwrap_or(v.to_string());
                    (k, reason)
                })
                .collect(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UwfFilterRow {
    current_enabled: bool,
    next_enabled: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UwfVolumeRow {
    current_session: bool,
    #[serde(default)]
    drive_letter: Option<String>,
    protected: bool,
    #[serde(default)]
    exclusions: Option<Texts>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UwfOverlayConfigRow {
    current_session: bool,
    #[serde(rename = "Type", default)]
    overlay_type: Option<u32>,
    #[serde(default)]
    maximum_size: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UwfRegistryFilterRow {
    current_session: bool,
    #[serde(default)]
    exclusions: Option<Texts>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ShellLauncherRow {
    sid: String,
    #[serde(default)]
    shell: Option<String>,
    #[serde(default)]
    default_action: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyboardKeyRow {
    id: String,
    enabled: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct KeyboardSettingRow {
    name: String,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssignedAccessRow {
    #[serde(default)]
    shell_launcher: Option<String>,
    #[serde(default)]
    shell_launcher_config: Option<ShellLauncherConfigRow>,
    #[serde(default)]
    kiosk_mode_app: Option<String>,
    #[serde(default)]
    configuration: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ShellLauncherConfigRow {
    #[serde(default)]
    profiles: PsList<ShellProfileRow>,
    #[serde(default)]
    accounts: PsList<ShellAccountRow>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ShellProfileRow {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    default: Option<bool>,
    #[serde(default)]
    shell: Option<String>,
    #[serde(default)]
    default_action: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ShellAccountRow {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    sid: Option<String>,
    #[serde(default)]
    auto_logon: Option<bool>,
    #[serde(default)]
    profile_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BitLockerRow {
    #[serde(default)]
    drive_letter: Option<String>,
    #[serde(default)]
    protection_status: Option<u32>,
    #[serde(default)]
    encryption_method: Option<u32>,
    #[serde(default)]
    key_protector_types: PsList<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BootElementRow {
    object: String,
    element: String,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    desired: Option<String>,
    present: bool,
    #[serde(default)]
    actual: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeviceGuardRow {
    #[serde(default)]
    code_integrity_policy_enforcement_status: Option<u32>,
    #[serde(default)]
    usermode_code_integrity_policy_enforcement_status: Option<u32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WdacPolicyRow {
    policy_id: String,
    destination: String,
    present: bool,
    #[serde(default)]
    sha256: Option<String>,
}

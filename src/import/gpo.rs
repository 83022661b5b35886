//! `hardbase import gpo`: a GPO backup turned into a profile layer that reproduces it.
//!
//! Catalog controls take parameters, not arbitrary settings, so a layer alone cannot carry a
//! GPO's values. The importer therefore writes two files:
//!
//! * `<dir>/baselines/imported-<name>.toml`, a catalog override folder (load it with
//!   `--baselines <dir>/baselines`): one control `IMP-<NAME>-NNN` per group of entries (the
//!   values under one registry key; the `[System Access]` keys; the user rights; the
//!   services; the audit subcategories), tier `easy`, every Windows role, `platforms =
//!   ["windows"]`, a category guessed from the key area, and English and Japanese titles and
//!   criteria generated from the entries (「HKLM\…\Name が 1（REG_DWORD）であること」);
//! * `<name>.toml` (or `--output FILE`), a layer with no role or platform whose `include`
//!   lists those controls, to be `extends`-ed by a profile.
//!
//! Where a catalog control sets exactly what some entries set (every Windows setting of the
//! control, without parameters or conditions, equals one entry in target and value), the layer
//! includes that control instead and the entries get no `IMP` control.
//!
//! Each entry becomes a setting of an existing kind:
//!
//! | entry | setting |
//! |---|---|
//! | registry.pol value (REG_SZ, REG_EXPAND_SZ, REG_DWORD, REG_QWORD, REG_MULTI_SZ) | `registry` |
//! | registry.pol `**del.NAME` | `registry` with `absent = true` |
//! | registry.pol `**delvals.` and the numbered REG_SZ values `1`, `2`, … after it | `registry_list` |
//! | GptTmpl.inf `[System Access]` (the MS-GPSB keys, numbers 0 or more, text) | `security_option` |
//! | GptTmpl.inf `[Registry Values]` | `registry`: hardbase delivers it in registry.pol, as the built-in catalog does for `LmCompatibilityLevel` (the value on the machine is the same; the report counts these as *moved*) |
//! | GptTmpl.inf `[Privilege Rights]` naming well-known SIDs (or no one) | `user_right`, `mode = "replace"` |
//! | GptTmpl.inf `[Service General Setting]` with an empty security descriptor | `service` |
//! | audit.csv subcategory row for `System`, value 0 to 3 | `audit_subcategory` |
//!
//! Everything else is left out and listed, each entry with its reason: REG_BINARY and REG_NONE
//! ("create the key") records, other `**` directives, negative `[System Access]` numbers (the
//! security_option kind holds numbers 0 or more), `[Event Audit]`, principals that are plain
//! account names or machine-specific SIDs (resolve them to `*SID` or `local:NAME` by hand),
//! services with a security descriptor, audit options and global SACLs, per-user audit rows,
//! sections hardbase does not model, User policy, and entries a later entry of the same file
//! overrides (registry.pol is applied in order; only the last value takes effect).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use super::{
    audit_entry, inf_entry, inf_value, pol_entry, printable, Entry, GpoFiles, REGISTRY_POL,
};
use crate::catalog::setting::{
    AuditSetting, AuditSubcategory, Hive, ListMode, Principal, RegData, RegType, Registry,
    RegistryList, SecurityOption, Service, SettingKind, StartMode, UserRight, SYSTEM_ACCESS_KEYS,
};
use crate::catalog::taxonomy::{Category, Family};
use crate::catalog::Catalog;
use crate::target::windows::registry_pol::{PolData, PolEntry};

/// The Windows roles every imported control is declared for.
const ROLES: &[&str] = &[
    "atm-terminal",
    "relay-server",
    "monitoring-server",
    "management-server",
];

/// One setting made from one or more entries.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub setting: SettingKind,
    pub entries: Vec<Entry>,
    /// A `[Registry Values]` line of GptTmpl.inf that hardbase delivers in registry.pol.
    pub moved: bool,
}

/// An entry the importer could not represent, and why.
#[derive(Clone, Debug, Serialize)]
pub struct LeftOut {
    #[serde(flatten)]
    pub entry: Entry,
    pub reason: String,
}

/// A generated control.
#[derive(Clone, Debug)]
pub struct ImportedControl {
    pub id: String,
    pub category: Category,
    pub title: (String, String),
    pub criterion: (String, String),
    pub settings: Vec<Candidate>,
}

/// Entries carried by an existing catalog control.
#[derive(Clone, Debug, Serialize)]
pub struct Mapping {
    pub control: String,
    pub entries: Vec<Entry>,
}

/// The result of an import, before anything is written.
#[derive(Clone, Debug)]
pub struct Import {
    pub name: String,
    pub source: String,
    pub display_name: Option<String>,
    pub entries_in: usize,
    pub mapped: Vec<Mapping>,
    pub controls: Vec<ImportedControl>,
    pub left_out: Vec<LeftOut>,
}

impl Import {
    pub fn mapped_entries(&self) -> usize {
        self.mapped.iter().map(|m| m.entries.len()).sum()
    }

    pub fn explicit_entries(&self) -> usize {
        self.candidates().map(|c| c.entries.len()).sum()
    }

    pub fn moved_entries(&self) -> usize {
        self.candidates()
            .filter(|c| c.moved)
            .map(|c| c.entries.len())
            .sum()
    }

    fn candidates(&self) -> impl Iterator<Item = &Candidate> {
        self.controls.iter().flat_map(|c| &c.settings)
    }

    /// The ids the layer includes: mapped catalog controls, then the imported ones.
    pub fn includes(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.mapped.iter().map(|m| m.control.clone()).collect();
        ids.extend(self.controls.iter().map(|c| c.id.clone()));
        ids
    }
}

/// A file-name-safe name: lower case letters, digits and `-`.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out: String = out.trim_end_matches('-').chars().take(40).collect();
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "gpo".into()
    } else {
        out
    }
}

/// The `<NAME>` part of `IMP-<NAME>-NNN`: up to eight letters and digits of the name and a
/// short hash of all of it, so two GPOs imported into one catalog folder do not collide.
fn id_part(name: &str) -> String {
    let letters: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .take(8)
        .collect();
    // FNV-1a: stable across runs and platforms.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let letters = if letters.is_empty() {
        "GPO".into()
    } else {
        letters
    };
    format!("{letters}{:04X}", hash & 0xFFFF)
}

fn left(entry: Entry, reason: impl Into<String>) -> LeftOut {
    LeftOut {
        entry,
        reason: reason.into(),
    }
}

/// Whether two settings set the same target to the same value (names compared as Windows does).
fn same_value(a: &SettingKind, b: &SettingKind) -> bool {
    use SettingKind as K;
    if a.target().to_lowercase() != b.target().to_lowercase() {
        return false;
    }
    match (a, b) {
        (K::Registry(x), K::Registry(y)) => {
            x.absent == y.absent && x.reg_type == y.reg_type && x.data == y.data
        }
        (K::RegistryList(x), K::RegistryList(y)) => x.items == y.items,
        (K::SecurityOption(x), K::SecurityOption(y)) => x.value == y.value,
        (K::UserRight(x), K::UserRight(y)) => {
            let mut p = x.principals.clone();
            let mut q = y.principals.clone();
            p.sort();
            q.sort();
            x.mode == y.mode && p == q
        }
        (K::AuditSubcategory(x), K::AuditSubcategory(y)) => x.setting == y.setting,
        (K::Service(x), K::Service(y)) => x.start == y.start,
        _ => false,
    }
}

/// A candidate, or the entries left out with the reason the model refused it.
fn candidate(
    setting: SettingKind,
    entries: Vec<Entry>,
    moved: bool,
    out: &mut Vec<Candidate>,
    left_out: &mut Vec<LeftOut>,
) {
    match setting.validate() {
        Ok(()) => out.push(Candidate {
            setting,
            entries,
            moved,
        }),
        Err(why) => left_out.extend(entries.into_iter().map(|e| left(e, why.clone()))),
    }
}

fn registry(key: &str, value: &str, data: Option<(RegType, RegData)>) -> SettingKind {
    let absent = data.is_none();
    let (reg_type, data) = data.map_or((None, None), |(t, d)| (Some(t), Some(d)));
    SettingKind::Registry(Registry {
        hive: Hive::LocalMachine,
        key: key.to_string(),
        value: value.to_string(),
        reg_type,
        data,
        absent,
    })
}

/// The registry setting data of a registry.pol value, or why there is none.
fn pol_data(data: &PolData) -> Result<(RegType, RegData), &'static str> {
    Ok(match data {
        PolData::Sz(s) => (RegType::Sz, RegData::Text(s.clone())),
        PolData::ExpandSz(s) => (RegType::ExpandSz, RegData::Text(s.clone())),
        PolData::Dword(n) => (RegType::Dword, RegData::Number(u64::from(*n))),
        PolData::Qword(n) if i64::try_from(*n).is_ok() => (RegType::Qword, RegData::Number(*n)),
        PolData::Qword(_) => return Err("a REG_QWORD above 2^63-1 cannot be written in TOML"),
        PolData::MultiSz(items) => (RegType::MultiSz, RegData::List(items.clone())),
        PolData::Binary(_) => return Err("REG_BINARY: the registry setting kind carries REG_SZ, REG_EXPAND_SZ, REG_DWORD, REG_QWORD and REG_MULTI_SZ"),
        PolData::None => return Err("REG_NONE \"create the key\" record: no setting kind only creates a key (the values under it create it)"),
    })
}

fn from_registry_pol(entries: &[PolEntry], out: &mut Vec<Candidate>, left_out: &mut Vec<LeftOut>) {
    let directive_data = PolData::Sz(" ".into());
    let mut i = 0;
    while i < entries.len() {
        let e = &entries[i];
        let entry = pol_entry(e);
        i += 1;
        let lower = e.value.to_ascii_lowercase();
        if lower == "**delvals." && e.data == directive_data {
            let mut items = Vec::new();
            let mut covered = vec![entry];
            while let Some(next) = entries.get(i).filter(|n| {
                n.key.eq_ignore_ascii_case(&e.key)
                    && n.value == (items.len() + 1).to_string()
                    && matches!(n.data, PolData::Sz(_))
            }) {
                if let PolData::Sz(s) = &next.data {
                    items.push(s.clone());
                }
                covered.push(pol_entry(next));
                i += 1;
            }
            let list = SettingKind::RegistryList(RegistryList {
                hive: Hive::LocalMachine,
                key: e.key.clone(),
                items,
            });
            candidate(list, covered, false, out, left_out);
        } else if lower.starts_with("**del.") && e.data == directive_data {
            let setting = registry(&e.key, &e.value["**del.".len()..], None);
            candidate(setting, vec![entry], false, out, left_out);
        } else if e.value.starts_with("**") {
            left_out.push(left(
                entry,
                format!(
                    "the directive `{}` has no setting kind (only `**del.` and `**delvals.` with data \" \" do)",
                    printable(&e.value)
                ),
            ));
        } else {
            match pol_data(&e.data) {
                Ok(data) => {
                    let setting = registry(&e.key, &e.value, Some(data));
                    candidate(setting, vec![entry], false, out, left_out);
                }
                Err(why) => left_out.push(left(entry, why)),
            }
        }
    }
}

fn from_template(files: &GpoFiles, out: &mut Vec<Candidate>, left_out: &mut Vec<LeftOut>) {
    let t = &files.template;
    for (key, value) in &t.system_access {
        let entry = inf_entry("System Access", key, inf_value(value));
        let Some(known) = SYSTEM_ACCESS_KEYS
            .iter()
            .find(|k| k.eq_ignore_ascii_case(key))
        else {
            left_out.push(left(
                entry,
                "not one of the [System Access] keys of MS-GPSB that the security_option kind knows",
            ));
            continue;
        };
        let value = match value {
            crate::target::windows::gpttmpl_inf::InfValue::Number(n) if *n >= 0 => {
                RegData::Number(*n as u64)
            }
            crate::target::windows::gpttmpl_inf::InfValue::Number(_) => {
                left_out.push(left(
                    entry,
                    "a negative number (-1 = never): the security_option kind holds numbers 0 or more",
                ));
                continue;
            }
            crate::target::windows::gpttmpl_inf::InfValue::Text(s) => RegData::Text(s.clone()),
        };
        let setting = SettingKind::SecurityOption(SecurityOption {
            key: known.to_string(),
            value,
        });
        candidate(setting, vec![entry], false, out, left_out);
    }
    for (key, n) in &t.event_audit {
        left_out.push(left(
            inf_entry("Event Audit", key, n.to_string()),
            "legacy audit categories have no setting kind; hardbase sets advanced audit subcategories (audit_subcategory) instead",
        ));
    }
    for r in &t.registry_values {
        let entry = inf_entry(
            "Registry Values",
            &r.path,
            format!("{},{}", r.reg_type, r.data),
        );
        let Some((key, value)) = r
            .path
            .get(..8)
            .filter(|p| p.eq_ignore_ascii_case("MACHINE\\"))
            .and_then(|_| r.path[8..].rsplit_once('\\'))
        else {
            left_out.push(left(entry, "not a MACHINE\\ registry path"));
            continue;
        };
        let data = match r.reg_type {
            1 => (
                RegType::Sz,
                RegData::Text(r.text().unwrap_or("").to_string()),
            ),
            2 => (
                RegType::ExpandSz,
                RegData::Text(r.text().unwrap_or("").to_string()),
            ),
            4 => match r.data.trim().parse::<u32>() {
                Ok(n) => (RegType::Dword, RegData::Number(u64::from(n))),
                Err(_) => {
                    left_out.push(left(entry, "REG_DWORD data that is not a number"));
                    continue;
                }
            },
            7 => (
                RegType::MultiSz,
                RegData::List(r.items().unwrap_or_default()),
            ),
            3 => {
                left_out.push(left(entry, "REG_BINARY: the registry setting kind carries REG_SZ, REG_EXPAND_SZ, REG_DWORD, REG_QWORD and REG_MULTI_SZ"));
                continue;
            }
            other => {
                left_out.push(left(
                    entry,
                    format!("registry type {other} is not supported"),
                ));
                continue;
            }
        };
        candidate(
            registry(key, value, Some(data)),
            vec![entry],
            true,
            out,
            left_out,
        );
    }
    for (right, principals) in &t.privilege_rights {
        let mut sorted = principals.clone();
        sorted.sort_by_key(|s| s.to_ascii_uppercase());
        let entry = inf_entry("Privilege Rights", right, sorted.join(","));
        let parsed: Result<Vec<Principal>, String> = principals
            .iter()
            .map(|p| {
                if p.starts_with('*') || p.to_ascii_uppercase().starts_with("S-1-") {
                    Principal::parse(p)
                } else {
                    Err(format!(
                        "`{}` is a plain account name; name it as *SID or `local:NAME` by hand",
                        printable(p)
                    ))
                }
            })
            .collect();
        match parsed {
            Ok(principals) => {
                let setting = SettingKind::UserRight(UserRight {
                    right: right.clone(),
                    principals,
                    mode: ListMode::Replace,
                });
                candidate(setting, vec![entry], false, out, left_out);
            }
            Err(why) => left_out.push(left(entry, why)),
        }
    }
    for s in &t.services {
        let entry = inf_entry(
            "Service General Setting",
            &s.name,
            format!("{},{:?}", s.mode, s.sddl),
        );
        let start = match s.mode {
            2 => StartMode::Automatic,
            3 => StartMode::Manual,
            4 => StartMode::Disabled,
            _ => {
                left_out.push(left(entry, "start mode other than 2, 3 or 4"));
                continue;
            }
        };
        if !s.sddl.is_empty() {
            left_out.push(left(
                entry,
                "the service kind sets the start mode only; this line also sets a security descriptor",
            ));
            continue;
        }
        let setting = SettingKind::Service(Service {
            name: s.name.clone(),
            start,
        });
        candidate(setting, vec![entry], false, out, left_out);
    }
    for (section, lines) in &t.other {
        for line in lines {
            let (name, value) = line.split_once('=').unwrap_or((line.as_str(), ""));
            left_out.push(left(
                inf_entry(section, name.trim(), value.trim().to_string()),
                format!("section [{section}] has no setting kind"),
            ));
        }
    }
}

/// The auditpol name of a GPMC subcategory name (the client reads only the GUID).
fn auditpol_name(gpmc: &str) -> String {
    match gpmc {
        "Audit PNP Activity" => "Plug and Play Events".into(),
        "Audit Central Access Policy Staging" => "Central Policy Staging".into(),
        n => n.strip_prefix("Audit ").unwrap_or(n).to_string(),
    }
}

fn from_audit(files: &GpoFiles, out: &mut Vec<Candidate>, left_out: &mut Vec<LeftOut>) {
    for row in &files.audit {
        let entry = audit_entry(row);
        if !row.is_subcategory() {
            left_out.push(left(
                entry,
                "audit options and global SACLs have no setting kind",
            ));
            continue;
        }
        if !row.policy_target.eq_ignore_ascii_case("System") {
            left_out.push(left(entry, "per-user audit policy has no setting kind"));
            continue;
        }
        let setting = match row.value.trim() {
            "0" => AuditSetting::None,
            "1" => AuditSetting::Success,
            "2" => AuditSetting::Failure,
            "3" => AuditSetting::SuccessAndFailure,
            _ => {
                left_out.push(left(
                    entry,
                    "setting value other than 0 to 3 (hardbase writes \"No Auditing\" as 0)",
                ));
                continue;
            }
        };
        let kind = SettingKind::AuditSubcategory(AuditSubcategory {
            guid: row.guid.clone(),
            name: auditpol_name(&row.subcategory),
            setting,
        });
        candidate(kind, vec![entry], false, out, left_out);
    }
}

/// Keeps the last of several candidates for one target (earlier ones are left out).
fn last_wins(candidates: Vec<Candidate>, left_out: &mut Vec<LeftOut>) -> Vec<Candidate> {
    let mut slots: Vec<Option<Candidate>> = Vec::new();
    let mut by_target: BTreeMap<String, usize> = BTreeMap::new();
    for c in candidates {
        let target = c.setting.target().to_lowercase();
        if let Some(&i) = by_target.get(&target) {
            let earlier = slots[i].take().expect("a kept candidate");
            let reason = if same_value(&earlier.setting, &c.setting) {
                "repeats a later entry with the same value"
            } else {
                "overridden by a later entry for the same setting"
            };
            left_out.extend(earlier.entries.into_iter().map(|e| left(e, reason)));
        }
        by_target.insert(target, slots.len());
        slots.push(Some(c));
    }
    slots.into_iter().flatten().collect()
}

/// Maps candidates onto catalog controls that set exactly the same; returns the mappings
/// and marks the candidates used.
fn map_to_catalog(catalog: &Catalog, candidates: &[Candidate], used: &mut [bool]) -> Vec<Mapping> {
    let list_keys: Vec<String> = candidates
        .iter()
        .filter_map(|c| match &c.setting {
            SettingKind::RegistryList(l) => Some(l.key.to_lowercase()),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for control in catalog.controls.values() {
        if !control.claims(Family::Windows) || control.params.iter().any(|p| p.required()) {
            continue;
        }
        let windows: Vec<_> = control
            .settings
            .iter()
            .filter(|s| s.family == Family::Windows)
            .collect();
        let plain = windows.iter().all(|s| {
            s.uses.is_empty()
                && s.when.is_none()
                && s.roles.is_empty()
                && s.membership.is_none()
                && s.min_build.is_none()
                && s.max_build.is_none()
        });
        if windows.is_empty() || !plain {
            continue;
        }
        let Ok(settings) = windows
            .iter()
            .map(|s| s.instantiate(&|_| None))
            .collect::<Result<Vec<_>, _>>()
        else {
            continue;
        };
        let mut matched = Vec::new();
        for s in &settings {
            // A value in a key whose list is replaced (`**delvals.`) keeps its place in the
            // file only inside the imported control.
            if let SettingKind::Registry(r) = s {
                if list_keys.contains(&r.key.to_lowercase()) {
                    break;
                }
            }
            match (0..candidates.len()).find(|&i| {
                !used[i] && !matched.contains(&i) && same_value(s, &candidates[i].setting)
            }) {
                Some(i) => matched.push(i),
                None => break,
            }
        }
        if matched.len() != settings.len() {
            continue;
        }
        let mut entries = Vec::new();
        for i in matched {
            used[i] = true;
            entries.extend(candidates[i].entries.iter().cloned());
        }
        out.push(Mapping {
            control: control.id.clone(),
            entries,
        });
    }
    out
}

fn group_key(s: &SettingKind) -> String {
    match s {
        SettingKind::Registry(r) => format!("registry {}", r.key.to_lowercase()),
        SettingKind::RegistryList(r) => format!("registry {}", r.key.to_lowercase()),
        SettingKind::SecurityOption(_) => "system access".into(),
        SettingKind::UserRight(_) => "user rights".into(),
        SettingKind::Service(_) => "services".into(),
        _ => "audit".into(),
    }
}

fn category(s: &SettingKind) -> Category {
    let key = match s {
        SettingKind::Registry(r) => r.key.to_lowercase(),
        SettingKind::RegistryList(r) => r.key.to_lowercase(),
        SettingKind::SecurityOption(_) | SettingKind::UserRight(_) => return Category::Privilege,
        SettingKind::AuditSubcategory(_) => return Category::Detection,
        _ => return Category::Function,
    };
    let any = |words: &[&str]| words.iter().any(|w| key.contains(w));
    if any(&["eventlog", "audit", "logging", "transcription"]) {
        Category::Detection
    } else if any(&[
        "windowsfirewall",
        "tcpip",
        "netbt",
        "dnsclient",
        "lanman",
        "winrm",
        "terminal services",
        "networkprovider",
        "wcmsvc",
    ]) {
        Category::Communication
    } else if any(&[
        "\\lsa",
        "policies\\system",
        "credssp",
        "credentialsdelegation",
        "winlogon",
        "netlogon",
        "kerberos",
        "samr",
    ]) {
        Category::Privilege
    } else {
        Category::Function
    }
}

fn attack_step(c: Category) -> &'static str {
    match c {
        Category::Communication => "NW",
        Category::Detection => "LT",
        _ => "LM",
    }
}

fn reg_text(t: Option<RegType>, d: Option<&RegData>) -> String {
    let data = match d {
        Some(RegData::Number(n)) => n.to_string(),
        Some(RegData::Text(s)) => format!("\"{s}\""),
        Some(RegData::List(l)) => format!("[{}]", l.join(", ")),
        None => String::new(),
    };
    match t {
        Some(t) => format!("{data} ({})", crate::catalog::setting::reg_type_name(t)),
        None => data,
    }
}

fn start_ja(s: StartMode) -> &'static str {
    match s {
        StartMode::Automatic => "自動",
        StartMode::AutomaticDelayed => "自動（遅延開始）",
        StartMode::Manual => "手動",
        StartMode::Disabled => "無効",
    }
}

fn audit_texts(s: AuditSetting) -> (&'static str, &'static str) {
    match s {
        AuditSetting::None => ("no auditing", "監査しない"),
        AuditSetting::Success => ("success", "成功"),
        AuditSetting::Failure => ("failure", "失敗"),
        AuditSetting::SuccessAndFailure => ("success and failure", "成功と失敗"),
    }
}

fn principals_text(p: &[Principal]) -> String {
    p.iter()
        .map(Principal::display)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The English and Japanese criterion of one setting.
fn criterion(s: &SettingKind) -> (String, String) {
    match s {
        SettingKind::Registry(r) => {
            let path = format!("HKLM\\{}\\{}", r.key, r.value);
            if r.absent {
                (
                    format!("{path} is absent"),
                    format!("{path} が存在しないこと"),
                )
            } else {
                let v = reg_text(r.reg_type, r.data.as_ref());
                (
                    format!("{path} is {v}"),
                    format!("{path} が {v} であること"),
                )
            }
        }
        SettingKind::RegistryList(l) => {
            let items = l.items.join(", ");
            (
                format!("HKLM\\{} holds exactly the values [{items}]", l.key),
                format!("HKLM\\{} の値が [{items}] のみであること", l.key),
            )
        }
        SettingKind::SecurityOption(o) => {
            let v = crate::catalog::setting::reg_data_text(&o.value);
            (
                format!("[System Access] {} is {v}", o.key),
                format!("[System Access] の {} が {v} であること", o.key),
            )
        }
        SettingKind::UserRight(u) if u.principals.is_empty() => (
            format!("{} is granted to no one", u.right),
            format!("{} が誰にも割り当てられていないこと", u.right),
        ),
        SettingKind::UserRight(u) => {
            let p = principals_text(&u.principals);
            (
                format!("{} is granted to exactly {p}", u.right),
                format!("{} が {p} のみに割り当てられていること", u.right),
            )
        }
        SettingKind::Service(svc) => (
            format!("service {} starts {:?}", svc.name, svc.start).to_lowercase(),
            format!(
                "サービス {} のスタートアップの種類が{}であること",
                svc.name,
                start_ja(svc.start)
            ),
        ),
        SettingKind::AuditSubcategory(a) => {
            let (en, ja) = audit_texts(a.setting);
            (
                format!("audit subcategory {} ({}) records {en}", a.name, a.guid),
                format!("監査サブカテゴリ {}（{}）が{ja}であること", a.name, a.guid),
            )
        }
        other => (other.summary(), other.summary()),
    }
}

fn titles(group: &str, settings: &[Candidate], gpo: &str) -> (String, String) {
    let n = settings.len();
    let (en, ja) = match &settings[0].setting {
        SettingKind::Registry(r) if n == 1 => (
            format!("Policy value HKLM\\{}\\{}", r.key, r.value),
            format!("ポリシー値 HKLM\\{}\\{}", r.key, r.value),
        ),
        SettingKind::Registry(r) => (
            format!("Policy values under HKLM\\{} ({n} settings)", r.key),
            format!("HKLM\\{} のポリシー値（{n} 件）", r.key),
        ),
        SettingKind::RegistryList(r) => (
            format!("Policy values under HKLM\\{} ({n} settings)", r.key),
            format!("HKLM\\{} のポリシー値（{n} 件）", r.key),
        ),
        SettingKind::SecurityOption(_) => (
            "Account policies ([System Access])".to_string(),
            "アカウントポリシー（[System Access]）".to_string(),
        ),
        SettingKind::UserRight(_) => (
            "User rights assignment".to_string(),
            "ユーザー権利の割り当て".to_string(),
        ),
        SettingKind::Service(_) => (
            "Service start modes".to_string(),
            "サービスのスタートアップの種類".to_string(),
        ),
        _ if group == "audit" => (
            "Advanced audit policy".to_string(),
            "監査ポリシーの詳細な構成".to_string(),
        ),
        other => (other.summary(), other.summary()),
    };
    (
        format!("{en} (imported from {gpo})"),
        format!("{ja}（{gpo} から取り込み）"),
    )
}

/// Turns the files of a backup into controls, mappings and the entries left out.
pub fn import(files: &GpoFiles, name: &str, catalog: &Catalog) -> Import {
    let mut candidates = Vec::new();
    let mut left_out = Vec::new();
    from_registry_pol(&files.registry, &mut candidates, &mut left_out);
    from_template(files, &mut candidates, &mut left_out);
    from_audit(files, &mut candidates, &mut left_out);
    for e in &files.user_registry {
        let mut entry = pol_entry(e);
        entry.section = format!("User\\{}", entry.section);
        left_out.push(left(entry, "User policy is not imported yet"));
    }
    let entries_in = candidates.iter().map(|c| c.entries.len()).sum::<usize>() + left_out.len();
    let candidates = last_wins(candidates, &mut left_out);
    let mut used = vec![false; candidates.len()];
    let mapped = map_to_catalog(catalog, &candidates, &mut used);
    let gpo = files
        .display_name
        .clone()
        .unwrap_or_else(|| name.to_string());
    let mut groups: Vec<(String, Vec<Candidate>)> = Vec::new();
    for (c, used) in candidates.into_iter().zip(used) {
        if used {
            continue;
        }
        let key = group_key(&c.setting);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(c),
            None => groups.push((key, vec![c])),
        }
    }
    let prefix = id_part(name);
    let controls = groups
        .into_iter()
        .enumerate()
        .map(|(i, (group, settings))| {
            let category = category(&settings[0].setting);
            let (en, ja): (Vec<String>, Vec<String>) =
                settings.iter().map(|c| criterion(&c.setting)).unzip();
            ImportedControl {
                id: format!("IMP-{prefix}-{:03}", i + 1),
                category,
                title: titles(&group, &settings, &gpo),
                criterion: (
                    format!("{}.", en.join("; ")),
                    format!("{}。", ja.join("、")),
                ),
                settings,
            }
        })
        .collect();
    Import {
        name: name.to_string(),
        source: files.folder.display().to_string(),
        display_name: files.display_name.clone(),
        entries_in,
        mapped,
        controls,
        left_out,
    }
}

/// A TOML string: a literal string when it can be one (Windows paths stay readable).
fn toml_str(s: &str) -> String {
    if !s.contains('\'') && !s.chars().any(char::is_control) {
        format!("'{s}'")
    } else {
        toml::Value::String(s.to_string()).to_string()
    }
}

fn toml_list(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|s| toml_str(s)).collect();
    format!("[{}]", items.join(", "))
}

fn toml_data(d: &RegData) -> String {
    match d {
        RegData::Number(n) => n.to_string(),
        RegData::Text(s) => toml_str(s),
        RegData::List(l) => toml_list(l),
    }
}

fn setting_toml(s: &SettingKind) -> String {
    let mut out = format!(
        "\n[[control.setting]]\nplatform = \"windows\"\nkind = \"{}\"\n",
        s.kind_name()
    );
    let mut line = |k: &str, v: String| out.push_str(&format!("{k} = {v}\n"));
    match s {
        SettingKind::Registry(r) => {
            line("hive", "\"HKLM\"".into());
            line("key", toml_str(&r.key));
            line("value", toml_str(&r.value));
            if r.absent {
                line("absent", "true".into());
            }
            if let Some(t) = r.reg_type {
                line(
                    "type",
                    format!("\"{}\"", crate::catalog::setting::reg_type_name(t)),
                );
            }
            if let Some(d) = &r.data {
                line("data", toml_data(d));
            }
        }
        SettingKind::RegistryList(l) => {
            line("hive", "\"HKLM\"".into());
            line("key", toml_str(&l.key));
            line("items", toml_list(&l.items));
        }
        SettingKind::SecurityOption(o) => {
            line("key", toml_str(&o.key));
            line("value", toml_data(&o.value));
        }
        SettingKind::UserRight(u) => {
            line("right", toml_str(&u.right));
            let p: Vec<String> = u
                .principals
                .iter()
                .map(|p| match p {
                    Principal::WellKnownSid { sid, .. } => format!("*{sid}"),
                    Principal::LocalAccount { name } => format!("local:{name}"),
                })
                .collect();
            line("principals", toml_list(&p));
            line("mode", "\"replace\"".into());
        }
        SettingKind::Service(svc) => {
            line("name", toml_str(&svc.name));
            let start = serde_json::to_value(svc.start)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            line("start", format!("\"{start}\""));
        }
        SettingKind::AuditSubcategory(a) => {
            line("guid", toml_str(&a.guid));
            line("name", toml_str(&a.name));
            let setting = serde_json::to_value(a.setting)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            line("setting", format!("\"{setting}\""));
        }
        _ => {}
    }
    out
}

fn inline_text((en, ja): &(String, String)) -> String {
    format!("{{ en = {}, ja = {} }}", toml_str(en), toml_str(ja))
}

/// The catalog file: one `[[control]]` per imported control.
pub fn catalog_toml(import: &Import) -> String {
    let mut out = format!(
        "# Generated by `hardbase import gpo` from {}.\n# The settings of the GPO that no catalog control carries; review titles and criteria before use.\n",
        printable(&import.source)
    );
    for c in &import.controls {
        out.push_str(&format!(
            "\n[[control]]\nid = \"{}\"\ncategory = \"{}\"\ntier = \"easy\"\ninclude_only = true\nroles = [{}]\nplatforms = [\"windows\"]\nattack_steps = [\"{}\"]\ntitle = {}\ncriterion = {}\n",
            c.id,
            c.category.id(),
            ROLES.iter().map(|r| format!("\"{r}\"")).collect::<Vec<_>>().join(", "),
            attack_step(c.category),
            inline_text(&c.title),
            inline_text(&c.criterion),
        ));
        for s in &c.settings {
            out.push_str(&setting_toml(&s.setting));
        }
    }
    out
}

/// The layer: `include` of the mapped and imported controls; what was left out as comments.
pub fn layer_toml(import: &Import, catalog_file: &str) -> String {
    let mut out = format!(
        "# Imported by `hardbase import gpo` from {}.\n# {} entries: {} mapped onto catalog controls, {} imported as explicit settings ({} of them\n# GptTmpl.inf [Registry Values] delivered in registry.pol) in {catalog_file}, {} left out (listed below).\n# Build with `--baselines` naming the folder of {catalog_file}; extend this layer from a profile.\n\n[profile]\ndescription = {}\ninclude = [\n",
        printable(&import.source),
        import.entries_in,
        import.mapped_entries(),
        import.explicit_entries(),
        import.moved_entries(),
        import.left_out.len(),
        toml_str(&printable(&format!(
            "Imported from GPO {}",
            import.display_name.as_deref().unwrap_or(&import.name)
        ))),
    );
    for m in &import.mapped {
        out.push_str(&format!(
            "  \"{}\", # catalog control for {}\n",
            m.control,
            m.entries
                .iter()
                .map(Entry::label)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for c in &import.controls {
        out.push_str(&format!("  \"{}\",\n", c.id));
    }
    out.push_str("]\n");
    if !import.left_out.is_empty() {
        out.push_str(
            "\n# Left out (hardbase cannot represent these; set them another way or drop them):\n",
        );
        for l in &import.left_out {
            out.push_str(&format!(
                "# - {} = {}: {}\n",
                l.entry.label(),
                printable(&l.entry.value),
                printable(&l.reason)
            ));
        }
    }
    out
}

/// The import report as JSON (stable keys).
pub fn report_json(import: &Import, layer: &str, catalog_file: &str) -> serde_json::Value {
    json!({
        "source": import.source,
        "name": import.name,
        "layer": layer,
        "catalog": catalog_file,
        "entries_in": import.entries_in,
        "mapped": import.mapped_entries(),
        "explicit": import.explicit_entries(),
        "moved_to_registry_pol": import.moved_entries(),
        "left_out_count": import.left_out.len(),
        "mappings": import.mapped,
        "controls": import.controls.iter().map(|c| json!({
            "id": c.id,
            "category": c.category.id(),
            "title": c.title.0,
            "entries": c.settings.iter().flat_map(|s| &s.entries).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "left_out": import.left_out,
    })
}

/// The import report as text: counts, then each entry left out.
pub fn report_text(import: &Import, layer: &str, catalog_file: &str) -> String {
    let mut out = format!(
        "imported {} -> {} (controls in {})\n{} entries: {} mapped onto {} catalog controls, {} as explicit settings in {} controls ({} moved from GptTmpl.inf to registry.pol), {} left out\n",
        printable(&import.source),
        printable(layer),
        printable(catalog_file),
        import.entries_in,
        import.mapped_entries(),
        import.mapped.len(),
        import.explicit_entries(),
        import.controls.len(),
        import.moved_entries(),
        import.left_out.len()
    );
    for l in &import.left_out {
        out.push_str(&format!(
            "left out: {} = {}: {}\n",
            l.entry.label(),
            printable(&l.entry.value),
            printable(&l.reason)
        ));
    }
    out
}

/// Whether `e` is an entry of the Machine registry.pol.
pub fn is_machine_pol(e: &Entry) -> bool {
    e.file == REGISTRY_POL && !e.section.starts_with("User\\")
}

//! Windows comparisons: a desired Windows setting against what `Collect-Hardbase.ps1` found.
//!
//! The collector writes enums as numbers (Windows PowerShell 5.1 `ConvertTo-Json`); their
//! meaning is fixed here, in one place, from the CIM class documentation:
//! `MSFT_NetFirewallRule` Action 2 Allow / 3 AllowBypass / 4 Block (documented), Enabled 1 / 2
//! (CIM_PolicyRule), Direction 1 inbound / 2 outbound (as the COM API; not confirmed for the
//! CIM class), `MSFT_NetFirewallProfile` GpoBoolean 0 False / 1 True / 2 NotConfigured and the
//! same Action numbers (not confirmed on a machine). Features are compared by the enum *name*
//! the collector writes beside the number (`Enabled`, `Disabled` …, not localized).
//!
//! Only what the tools are known to rewrite is normalized: registry key and value names and
//! service and feature names compare without case (Windows does), account names in
//! `[System Access]` too; `secedit /export` writes `*SID` or a plain account name in
//! `[Privilege Rights]`, and a plain name is resolved through the collected local accounts
//! and groups (or the English well-known names); the firewall writes `Any` for "no
//! condition" and a subnet as `address/mask`.

use std::collections::BTreeSet;

use super::{
    control_of, inbound_flows, reg_data_text, squash, unexpected_listeners, Outcome, Status,
    Unexpected,
};
use crate::catalog::setting::{
    well_known_sid, AuditSetting, AuditSubcategory, Direction, FeatureState, FirewallAction,
    FirewallProfile, FirewallRule, Hive, ListMode, OptionalFeature, Principal, Protocol, RegData,
    RegType, Registry, RegistryList, SecurityOption, Service, SettingKind, StartMode, UserRight,
    WELL_KNOWN_SIDS,
};
use crate::live::{FirewallRuleFact, RegistryValueFact, WindowsState};
use crate::model::DesiredState;

/// `None` for kinds that are not compared on Windows (yet): they are not-collected.
pub(super) fn compare(kind: &SettingKind, w: &WindowsState) -> Option<Outcome> {
    use SettingKind::*;
    Some(match kind {
        Registry(r) => registry(r, w),
        RegistryList(l) => registry_list(l, w),
        SecurityOption(o) => security_option(o, w),
        UserRight(u) => user_right(u, w),
        AuditSubcategory(a) => audit_subcategory(a, w),
        Service(s) => service(s, w),
        FirewallProfile(p) => firewall_profile(p, w),
        FirewallRule(r) => firewall_rule(r, w),
        OptionalFeature(f) => optional_feature(f, w),
        _ => return None,
    })
}

/// The expected value of a compared Windows setting, in the words its actual value is given in.
pub(super) fn expected_text(kind: &SettingKind) -> Option<String> {
    use SettingKind::*;
    Some(match kind {
        Registry(r) if r.absent => "absent".into(),
        Registry(r) => format!(
            "{} ({})",
            r.data.as_ref().map(reg_data_text).unwrap_or_default(),
            r.reg_type.map(kind_name).unwrap_or("?")
        ),
        RegistryList(l) => l.items.join(", "),
        SecurityOption(o) => reg_data_text(&o.value),
        UserRight(u) => format!(
            "{}{}",
            if u.mode == ListMode::Add {
                "includes "
            } else {
                ""
            },
            if u.principals.is_empty() {
                "no one".to_string()
            } else {
                u.principals
                    .iter()
                    .map(principal_text)
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ),
        AuditSubcategory(a) => audit_name(audit_value(a.setting)).into(),
        Service(s) => start_text(s.start).into(),
        FirewallProfile(p) => profile_text(
            Some(p.enabled),
            Some(p.default_inbound == FirewallAction::Block),
            Some(p.default_outbound == FirewallAction::Block),
            Some(p.allow_local_rules),
            Some(p.allow_local_ipsec_rules),
        ),
        FirewallRule(r) => rule_expected(r),
        OptionalFeature(f) => feature_name(f.state).into(),
        _ => return None,
    })
}

fn not_collected(w: &WindowsState, file: &str) -> Outcome {
    match w.not_collected.get(file) {
        Some(reason) => Outcome::new(Status::NotCollected, None)
            .note(format!("{file} was not collected: {}", squash(reason))),
        None => Outcome::not_collected(file),
    }
}

// ---------------------------------------------------------------- registry

/// `RegistryValueKind` names, as the collector writes them beside the number.
fn kind_name(t: RegType) -> &'static str {
    match t {
        RegType::Sz => "String",
        RegType::ExpandSz => "ExpandString",
        RegType::Dword => "DWord",
        RegType::Qword => "QWord",
        RegType::MultiSz => "MultiString",
    }
}

/// `RegistryValueKind` numbers.
fn kind_number(t: RegType) -> i32 {
    match t {
        RegType::Sz => 1,
        RegType::ExpandSz => 2,
        RegType::Dword => 4,
        RegType::Qword => 11,
        RegType::MultiSz => 7,
    }
}

fn value_text(v: &RegistryValueFact) -> String {
    format!("{} ({})", v.data.join(" "), v.kind_name)
}

fn data_equal(t: RegType, want: &RegData, have: &RegistryValueFact) -> bool {
    if have.kind != kind_number(t) {
        return false;
    }
    match (t, want) {
        (RegType::Dword | RegType::Qword, RegData::Number(n)) => {
            have.data.len() == 1 && have.data[0].trim().parse::<u64>().ok() == Some(*n)
        }
        (RegType::Sz | RegType::ExpandSz, RegData::Text(text)) => {
            have.data.len() == 1 && have.data[0] == *text
        }
        (RegType::MultiSz, RegData::List(items)) => have.data == *items,
        _ => false,
    }
}

fn user_hive_note() -> Outcome {
    Outcome::new(Status::NotCollected, None)
        .note("user policy (HKCU) is per user; the collector reads machine policy (HKLM) only")
}

fn registry(r: &Registry, w: &WindowsState) -> Outcome {
    if r.hive == Hive::CurrentUser {
        return user_hive_note();
    }
    let Some(values) = &w.registry else {
        return not_collected(w, "registry.json");
    };
    let found = values.iter().find(|v| {
        v.hive.eq_ignore_ascii_case("HKLM")
            && v.key.eq_ignore_ascii_case(&r.key)
            && v.name.eq_ignore_ascii_case(&r.value)
    });
    let Some(v) = found else {
        return Outcome::new(Status::NotCollected, None).note(format!(
            "registry.json has no entry for HKLM\\{}\\{} (collected for another version of the profile?)",
            r.key, r.value
        ));
    };
    if r.absent {
        return if v.present {
            Outcome::drift(value_text(v)).note("the value must not exist")
        } else {
            Outcome::compliant("absent")
        };
    }
    if !v.present {
        return Outcome::missing().note("the value does not exist");
    }
    match (r.reg_type, &r.data) {
        (Some(t), Some(data)) => Outcome::matches(data_equal(t, data, v), value_text(v)),
        _ => Outcome::new(Status::NotCollected, Some(value_text(v)))
            .note("the setting has no type and data to compare"),
    }
}

fn registry_list(l: &RegistryList, w: &WindowsState) -> Outcome {
    if l.hive == Hive::CurrentUser {
        return user_hive_note();
    }
    let Some(keys) = &w.registry_keys else {
        return not_collected(w, "registry-keys.json");
    };
    let Some(key) = keys
        .iter()
        .find(|k| k.hive.eq_ignore_ascii_case("HKLM") && k.key.eq_ignore_ascii_case(&l.key))
    else {
        return Outcome::new(Status::NotCollected, None).note(format!(
            "registry-keys.json has no entry for HKLM\\{}",
            l.key
        ));
    };
    if !key.present {
        return Outcome::missing().note("the key does not exist");
    }
    // The list is the numbered values `1`, `2` … in order; any other value is drift.
    let mut values: Vec<&RegistryValueFact> = key.values.iter().collect();
    values.sort_by_key(|v| (v.name.parse::<u64>().unwrap_or(u64::MAX), v.name.clone()));
    let actual = values
        .iter()
        .map(|v| format!("{}={}", v.name, v.data.join(" ")))
        .collect::<Vec<_>>()
        .join(", ");
    let same = values.len() == l.items.len()
        && values
            .iter()
            .zip(&l.items)
            .enumerate()
            .all(|(i, (v, item))| {
                v.name == (i + 1).to_string()
                    && v.kind == 1
                    && v.data.len() == 1
                    && v.data[0] == *item
            });
    if same {
        Outcome::compliant(l.items.join(", "))
    } else {
        Outcome::drift(actual)
    }
}

// ---------------------------------------------------------------- security template

fn security_option(o: &SecurityOption, w: &WindowsState) -> Outcome {
    let Some(map) = &w.system_access else {
        return not_collected(w, "secedit.inf");
    };
    let Some(have) = map.get(&o.key) else {
        return Outcome::missing().note(format!("`secedit /export` has no {}", o.key));
    };
    let want = match &o.value {
        RegData::Number(n) => SystemAccess::Number(*n as i64),
        other => SystemAccess::Text(reg_data_text(other)),
    };
    Outcome::matches(system_access_same(&o.key, &want, have), have.clone())
}

/// A `[System Access]` value the profile asks for.
pub(super) enum SystemAccess {
    Number(i64),
    Text(String),
}

/// Whether `secedit /export` wrote the value the profile asks for: numbers as numbers, account
/// names (`NewAdministratorName`, `NewGuestName`) without case, as Windows compares them.
pub(super) fn system_access_same(key: &str, want: &SystemAccess, have: &str) -> bool {
    match want {
        SystemAccess::Number(n) => have.trim().parse::<i64>().ok() == Some(*n),
        SystemAccess::Text(t) if key.starts_with("New") => have.eq_ignore_ascii_case(t),
        SystemAccess::Text(t) => have == t,
    }
}

fn principal_text(p: &Principal) -> String {
    match p {
        Principal::WellKnownSid { sid, .. } => sid.clone(),
        Principal::LocalAccount { name } => format!("local:{name}"),
    }
}

/// A principal as `secedit /export` writes it, as a SID: `*SID`, or a name resolved through
/// the collected local accounts and groups and the English well-known names.
pub(super) fn exported_sid(text: &str, w: &WindowsState) -> Option<String> {
    let t = text.trim();
    if let Some(sid) = t.strip_prefix('*') {
        return Some(sid.to_ascii_uppercase());
    }
    if t.to_ascii_uppercase().starts_with("S-1-") {
        return Some(t.to_ascii_uppercase());
    }
    let bare = t.rsplit('\\').next().unwrap_or(t);
    w.users
        .iter()
        .flatten()
        .find(|u| u.name.eq_ignore_ascii_case(bare))
        .map(|u| u.sid.clone())
        .or_else(|| {
            w.groups
                .iter()
                .flatten()
                .find(|g| g.name.eq_ignore_ascii_case(bare))
                .map(|g| g.sid.clone())
        })
        .or_else(|| {
            WELL_KNOWN_SIDS
                .iter()
                .find(|(_, n)| n.eq_ignore_ascii_case(bare))
                .map(|(s, _)| s.to_string())
        })
}

fn sid_text(sid: &str) -> String {
    match well_known_sid(sid) {
        Some(name) => format!("{sid} ({name})"),
        None => sid.to_string(),
    }
}

fn user_right(u: &UserRight, w: &WindowsState) -> Outcome {
    let Some(rights) = &w.privilege_rights else {
        return not_collected(w, "secedit.inf");
    };
    // secedit leaves an empty right out of the export.
    let exported: Vec<String> = rights.get(&u.right).cloned().unwrap_or_default();
    let mut have = BTreeSet::new();
    let mut unresolved = Vec::new();
    for p in &exported {
        match exported_sid(p, w) {
            Some(sid) => {
                have.insert(sid);
            }
            None => unresolved.push(p.clone()),
        }
    }
    let mut want = BTreeSet::new();
    for p in &u.principals {
        match p {
            Principal::WellKnownSid { sid, .. } => {
                want.insert(sid.to_ascii_uppercase());
            }
            Principal::LocalAccount { name } => {
                let Some(users) = &w.users else {
                    return not_collected(w, "group-members.json")
                        .note(format!("the SID of local account {name} is needed, and group-members.json was not collected"));
                };
                match users.iter().find(|x| x.name.eq_ignore_ascii_case(name)) {
                    Some(user) => {
                        want.insert(user.sid.clone());
                    }
                    None => {
                        return Outcome::drift(describe(&have, &unresolved)).note(format!(
                            "local account {name} does not exist on the machine"
                        ))
                    }
                }
            }
        }
    }
    let actual = describe(&have, &unresolved);
    let lacking: Vec<&String> = want.difference(&have).collect();
    let extra: Vec<&String> = have.difference(&want).collect();
    match u.mode {
        ListMode::Add if lacking.is_empty() => Outcome::compliant(actual),
        ListMode::Replace if lacking.is_empty() && extra.is_empty() && unresolved.is_empty() => {
            Outcome::compliant(actual)
        }
        ListMode::Replace if lacking.is_empty() && extra.is_empty() => {
            Outcome::new(Status::NotCollected, Some(actual)).note(format!(
                "secedit names {} by name, which no collected account or group resolves",
                unresolved.join(", ")
            ))
        }
        _ => {
            let mut why = Vec::new();
            if !lacking.is_empty() {
                why.push(format!(
                    "lacks {}",
                    lacking
                        .iter()
                        .map(|s| sid_text(s))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if u.mode == ListMode::Replace && !extra.is_empty() {
                why.push(format!(
                    "also holds {}",
                    extra
                        .iter()
                        .map(|s| sid_text(s))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            Outcome::drift(actual).note(why.join("; "))
        }
    }
}

fn describe(have: &BTreeSet<String>, unresolved: &[String]) -> String {
    if have.is_empty() && unresolved.is_empty() {
        return "no one".into();
    }
    have.iter()
        .cloned()
        .chain(unresolved.iter().map(|n| format!("{n} (unresolved name)")))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---------------------------------------------------------------- audit policy

fn audit_value(s: AuditSetting) -> u8 {
    match s {
        AuditSetting::None => 0,
        AuditSetting::Success => 1,
        AuditSetting::Failure => 2,
        AuditSetting::SuccessAndFailure => 3,
    }
}

fn audit_name(v: u8) -> &'static str {
    match v {
        0 => "no auditing (0)",
        1 => "success (1)",
        2 => "failure (2)",
        3 => "success and failure (3)",
        _ => "none (4)",
    }
}

fn audit_subcategory(a: &AuditSubcategory, w: &WindowsState) -> Outcome {
    let Some(map) = &w.audit else {
        return not_collected(w, "auditpol.csv");
    };
    let want = audit_value(a.setting);
    match map.get(&a.guid.to_ascii_uppercase()) {
        None => Outcome::missing().note(format!("`auditpol /backup` has no row for {}", a.guid)),
        // 0 and 4 both mean that nothing is audited.
        Some(&have) => Outcome::matches(have == want || (want == 0 && have == 4), audit_name(have)),
    }
}

// ---------------------------------------------------------------- services and features

fn start_text(s: StartMode) -> &'static str {
    match s {
        StartMode::Automatic => "Auto",
        StartMode::AutomaticDelayed => "Auto (delayed)",
        StartMode::Manual => "Manual",
        StartMode::Disabled => "Disabled",
    }
}

fn service(s: &Service, w: &WindowsState) -> Outcome {
    let Some(services) = &w.services else {
        return not_collected(w, "services.json");
    };
    let Some(have) = services.get(&s.name.to_ascii_lowercase()) else {
        // A service that is not installed cannot run.
        return if s.start == StartMode::Disabled {
            Outcome::compliant("not installed")
        } else {
            Outcome::missing().note(format!("{} is not installed", s.name))
        };
    };
    let mode = have.start_mode.as_str();
    let actual = match (mode, have.delayed_auto_start) {
        ("Auto", Some(true)) => "Auto (delayed)".to_string(),
        _ => mode.to_string(),
    };
    let actual = format!("{actual}, {}", have.state);
    match s.start {
        StartMode::Manual => Outcome::matches(mode == "Manual", actual),
        StartMode::Disabled => Outcome::matches(mode == "Disabled", actual),
        StartMode::Automatic | StartMode::AutomaticDelayed if mode != "Auto" => {
            Outcome::drift(actual)
        }
        _ => match have.delayed_auto_start {
            None => Outcome::new(Status::NotCollected, Some(actual))
                .note("Win32_Service does not report DelayedAutoStart on this machine"),
            Some(d) => Outcome::matches(d == (s.start == StartMode::AutomaticDelayed), actual),
        },
    }
}

fn feature_name(s: FeatureState) -> &'static str {
    match s {
        FeatureState::Enabled => "Enabled",
        FeatureState::Disabled => "Disabled",
    }
}

fn optional_feature(f: &OptionalFeature, w: &WindowsState) -> Outcome {
    let Some(features) = &w.features else {
        return not_collected(w, "features.json");
    };
    let Some(have) = features.get(&f.name.to_ascii_lowercase()) else {
        // A feature this edition does not have cannot be enabled.
        return if f.state == FeatureState::Disabled {
            Outcome::compliant("not present")
        } else {
            Outcome::missing().note(format!("{} is not a feature of this Windows", f.name))
        };
    };
    let Some(name) = &have.state_name else {
        return Outcome::new(Status::NotCollected, Some(have.state.to_string()))
            .note("features.json has the state number only");
    };
    let same = match f.state {
        FeatureState::Enabled => name == "Enabled",
        FeatureState::Disabled => {
            matches!(name.as_str(), "Disabled" | "DisabledWithPayloadRemoved")
        }
    };
    let pending = matches!(name.as_str(), "EnablePending" | "DisablePending");
    let o = Outcome::matches(same, name.clone());
    if pending {
        o.note("a restart is pending")
    } else {
        o
    }
}

// ---------------------------------------------------------------- firewall

const ACTION_ALLOW: u32 = 2;
const ACTION_BLOCK: u32 = 4;

fn word(b: Option<bool>, yes: &str, no: &str) -> String {
    match b {
        Some(true) => yes.into(),
        Some(false) => no.into(),
        None => "(not configured)".into(),
    }
}

fn profile_text(
    enabled: Option<bool>,
    inbound_block: Option<bool>,
    outbound_block: Option<bool>,
    local_rules: Option<bool>,
    local_ipsec: Option<bool>,
) -> String {
    format!(
        "enabled={}, inbound={}, outbound={}, local rules merged={}, local IPsec rules merged={}",
        word(enabled, "true", "false"),
        word(inbound_block, "block", "allow"),
        word(outbound_block, "block", "allow"),
        word(local_rules, "true", "false"),
        word(local_ipsec, "true", "false")
    )
}

fn gpo_bool(v: Option<u32>) -> Option<bool> {
    match v {
        Some(0) => Some(false),
        Some(1) => Some(true),
        _ => None,
    }
}

fn action_block(v: Option<u32>) -> Option<bool> {
    match v {
        Some(ACTION_BLOCK) => Some(true),
        Some(ACTION_ALLOW) => Some(false),
        _ => None,
    }
}

fn firewall_profile(p: &FirewallProfile, w: &WindowsState) -> Outcome {
    let Some(profiles) = &w.firewall_profiles else {
        return not_collected(w, "firewall-profiles.json");
    };
    let name = format!("{:?}", p.profile);
    let Some(have) = profiles.iter().find(|x| x.name.eq_ignore_ascii_case(&name)) else {
        return Outcome::missing().note(format!("the active store has no {name} profile"));
    };
    let got = (
        gpo_bool(have.enabled),
        action_block(have.default_inbound),
        action_block(have.default_outbound),
        gpo_bool(have.allow_local_rules),
        gpo_bool(have.allow_local_ipsec_rules),
    );
    let want = (
        Some(p.enabled),
        Some(p.default_inbound == FirewallAction::Block),
        Some(p.default_outbound == FirewallAction::Block),
        Some(p.allow_local_rules),
        Some(p.allow_local_ipsec_rules),
    );
    let mut actual = profile_text(got.0, got.1, got.2, got.3, got.4);
    let mut same = got == want;
    if p.notifications_off {
        let n = gpo_bool(have.notify_on_listen);
        actual.push_str(&format!(", notify on listen={}", word(n, "true", "false")));
        same &= n == Some(false);
    }
    if p.log_dropped {
        let l = gpo_bool(have.log_blocked);
        actual.push_str(&format!(", log dropped={}", word(l, "true", "false")));
        same &= l == Some(true);
    }
    Outcome::matches(same, actual)
}

fn protocol_words(p: Protocol) -> &'static [&'static str] {
    match p {
        Protocol::Tcp => &["tcp", "6"],
        Protocol::Udp => &["udp", "17"],
        Protocol::Icmpv4 => &["icmpv4", "1"],
        Protocol::Icmpv6 => &["icmpv6", "58"],
        Protocol::Any => &["any", "256", ""],
    }
}

/// A firewall list condition as a set: `Any` (or nothing) is the empty set.
fn condition(items: &[String]) -> BTreeSet<String> {
    items
        .iter()
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty() && s != "any" && s != "*")
        .collect()
}

/// `10.0.0.0/255.255.255.0` → `10.0.0.0/24`; a single address without a prefix.
fn address(text: &str) -> String {
    let t = text.trim().to_ascii_lowercase();
    let Some((ip, mask)) = t.split_once('/') else {
        return t;
    };
    let len = match mask.parse::<std::net::Ipv4Addr>() {
        Ok(m) => u32::from(m).count_ones(),
        Err(_) => match mask.parse::<u32>() {
            Ok(n) => n,
            Err(_) => return t,
        },
    };
    let full = if ip.contains(':') { 128 } else { 32 };
    if len == full {
        ip.to_string()
    } else {
        format!("{ip}/{len}")
    }
}

fn rule_expected(r: &FirewallRule) -> String {
    let list = |v: Vec<String>| {
        if v.is_empty() {
            "any".to_string()
        } else {
            v.join(",")
        }
    };
    let mut out = format!(
        "{} {} {:?} local ports {} remote ports {} remote {}",
        match r.direction {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        },
        match r.action {
            FirewallAction::Allow => "allow",
            FirewallAction::Block => "block",
        },
        r.protocol,
        list(r.local_ports.iter().map(u16::to_string).collect()),
        list(r.remote_ports.iter().map(u16::to_string).collect()),
        list(r.remote_addresses.clone()),
    )
    .to_ascii_lowercase();
    if let Some(p) = &r.program {
        out.push_str(&format!(" program {p}"));
    }
    if let Some(s) = &r.service {
        out.push_str(&format!(" service {s}"));
    }
    out
}

fn rule_actual(f: &FirewallRuleFact) -> String {
    let list = |v: &Option<Vec<String>>| match v {
        None => "(not collected)".to_string(),
        Some(items) if condition(items).is_empty() => "any".to_string(),
        Some(items) => items.join(","),
    };
    let mut out = format!(
        "{}{} {} {} local ports {} remote ports {} remote {}",
        if f.enabled == 1 { "" } else { "disabled " },
        match f.direction {
            1 => "inbound".to_string(),
            2 => "outbound".to_string(),
            n => format!("direction {n}"),
        },
        match f.action {
            ACTION_ALLOW => "allow".to_string(),
            ACTION_BLOCK => "block".to_string(),
            n => format!("action {n}"),
        },
        f.protocol
            .as_deref()
            .unwrap_or("(not collected)")
            .to_ascii_lowercase(),
        list(&f.local_ports),
        list(&f.remote_ports),
        list(&f.remote_addresses),
    );
    if let Some(p) = f
        .program
        .as_deref()
        .filter(|p| !p.is_empty() && *p != "Any")
    {
        out.push_str(&format!(" program {p}"));
    }
    if let Some(s) = f
        .service
        .as_deref()
        .filter(|s| !s.is_empty() && *s != "Any")
    {
        out.push_str(&format!(" service {s}"));
    }
    if !f.store_source.is_empty() {
        out.push_str(&format!(" (from {})", f.store_source));
    }
    out
}

/// Compares one rule with the rule of the same name (InstanceID) in the active store: enabled,
/// direction, action, protocol, ports, remote addresses, program and service. A filter the
/// collector did not find for the rule makes the comparison not-collected, not compliant.
fn firewall_rule(r: &FirewallRule, w: &WindowsState) -> Outcome {
    let Some(rules) = &w.firewall_rules else {
        return not_collected(w, "firewall-rules.json");
    };
    let Some(f) = rules.iter().find(|f| f.id == r.name) else {
        return Outcome::missing().note(format!("the active store has no rule {}", r.name));
    };
    let actual = rule_actual(f);
    let mut differs = Vec::new();
    let mut unknown = Vec::new();
    if f.enabled != 1 {
        differs.push("enabled");
    }
    let direction = match r.direction {
        Direction::Inbound => 1,
        Direction::Outbound => 2,
    };
    if f.direction != direction {
        differs.push("direction");
    }
    let action = match r.action {
        FirewallAction::Allow => ACTION_ALLOW,
        FirewallAction::Block => ACTION_BLOCK,
    };
    if f.action != action {
        differs.push("action");
    }
    match &f.protocol {
        None => unknown.push("protocol"),
        Some(p)
            if !protocol_words(r.protocol).contains(&p.trim().to_ascii_lowercase().as_str()) =>
        {
            differs.push("protocol")
        }
        Some(_) => {}
    }
    let ports = |want: &[u16]| -> BTreeSet<String> { want.iter().map(u16::to_string).collect() };
    for (what, want, have) in [
        ("local ports", ports(&r.local_ports), &f.local_ports),
        ("remote ports", ports(&r.remote_ports), &f.remote_ports),
    ] {
        match have {
            None => unknown.push(what),
            Some(items) if condition(items) != want => differs.push(what),
            Some(_) => {}
        }
    }
    if matches!(r.protocol, Protocol::Icmpv4 | Protocol::Icmpv6) && !r.icmp_types.is_empty() {
        let want: BTreeSet<String> = r.icmp_types.iter().map(u8::to_string).collect();
        match &f.icmp_types {
            None => unknown.push("ICMP types"),
            Some(items) => {
                let have: BTreeSet<String> = condition(items)
                    .into_iter()
                    .map(|t| t.split(':').next().unwrap_or_default().to_string())
                    .collect();
                if have != want {
                    differs.push("ICMP types");
                }
            }
        }
    }
    match &f.remote_addresses {
        None => unknown.push("remote addresses"),
        Some(items) => {
            let have: BTreeSet<String> = condition(items).iter().map(|a| address(a)).collect();
            let want: BTreeSet<String> = r.remote_addresses.iter().map(|a| address(a)).collect();
            if have != want {
                differs.push("remote addresses");
            }
        }
    }
    let named = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("any"))
            .map(str::to_ascii_lowercase)
    };
    for (what, want, have) in [
        ("program", &r.program, &f.program),
        ("service", &r.service, &f.service),
    ] {
        let want = named(want);
        if have.is_none() && want.is_some() {
            unknown.push(what);
        } else if named(have) != want {
            differs.push(what);
        }
    }
    if !differs.is_empty() {
        Outcome::drift(actual).note(format!("differs in {}", differs.join(", ")))
    } else if !unknown.is_empty() {
        Outcome::new(Status::NotCollected, Some(actual))
            .note(format!("not collected: {}", unknown.join(", ")))
    } else {
        Outcome::compliant(actual)
    }
}

// ---------------------------------------------------------------- unexpected

/// The local Administrators group.
const ADMINISTRATORS: &str = "S-1-5-32-544";

/// The built-in Administrator account: the machine's SID with RID 500.
fn is_builtin_administrator(sid: &str) -> bool {
    sid.starts_with("S-1-5-21-") && sid.ends_with("-500")
}

/// What is on the machine but in no profile setting:
///
/// * enabled inbound allow rules of the active store whose InstanceID no `firewall_rule`
///   setting names, when the profile manages the firewall (any firewall setting);
/// * listening TCP and UDP ports, not on loopback, that no inbound flow and no inbound allow
///   rule of the profile opens;
/// * members of the local Administrators group other than the built-in Administrator (RID
///   500). No setting kind declares administrators (a `local_account` says what an account
///   must *not* belong to), so every other member is unexpected, and says so.
pub(super) fn unexpected(state: &DesiredState, w: &WindowsState) -> Vec<Unexpected> {
    let mut out = Vec::new();
    let firewall_control = control_of(state, |k| {
        matches!(k, SettingKind::FirewallProfile(_))
            || matches!(k, SettingKind::FirewallRule(r) if r.direction == Direction::Inbound)
    })
    .or_else(|| control_of(state, |k| matches!(k, SettingKind::FirewallRule(_))));
    let rules: Vec<&FirewallRule> = state
        .settings()
        .filter_map(|s| match &s.kind {
            SettingKind::FirewallRule(r) => Some(r),
            _ => None,
        })
        .collect();

    // Inbound allow rules the profile does not declare.
    if firewall_control.is_some() {
        for f in w.firewall_rules.iter().flatten() {
            let allows_inbound =
                f.enabled == 1 && f.direction == 1 && matches!(f.action, ACTION_ALLOW | 3);
            if allows_inbound && !rules.iter().any(|r| r.name == f.id) {
                out.push(Unexpected {
                    kind: "firewall-allow-rule",
                    what: format!("{} \"{}\": {}", f.id, f.display_name, rule_actual(f)),
                    control: firewall_control.clone(),
                    note: None,
                });
            }
        }
    }

    // Listening ports: allowed when an inbound flow or an inbound allow rule opens the port.
    let mut allowed = inbound_flows(state);
    for r in &rules {
        if r.direction == Direction::Inbound && r.action == FirewallAction::Allow {
            allowed.push((r.protocol, r.local_ports.clone()));
        }
    }
    out.extend(unexpected_listeners(
        w.listening.iter().flatten(),
        &allowed,
        &firewall_control,
    ));

    // Local administrators.
    let admins = w
        .groups
        .iter()
        .flatten()
        .find(|g| g.sid.eq_ignore_ascii_case(ADMINISTRATORS));
    if let Some(group) = admins {
        let account_control = control_of(state, |k| matches!(k, SettingKind::LocalAccount(_)))
            .or_else(|| control_of(state, |k| matches!(k, SettingKind::UserRight(_))));
        for sid in &group.members {
            if is_builtin_administrator(sid) {
                continue;
            }
            out.push(Unexpected {
                kind: "administrator",
                what: format!(
                    "{} in Administrators ({ADMINISTRATORS})",
                    member_text(sid, w)
                ),
                control: account_control.clone(),
                note: Some("no administrators declared by the profile".into()),
            });
        }
    }
    out
}

/// A group member by SID, with its name when a collected account, group or well-known SID has it.
fn member_text(sid: &str, w: &WindowsState) -> String {
    let name = w
        .users
        .iter()
        .flatten()
        .find(|u| u.sid.eq_ignore_ascii_case(sid))
        .map(|u| u.name.clone())
        .or_else(|| {
            w.groups
                .iter()
                .flatten()
                .find(|g| g.sid.eq_ignore_ascii_case(sid))
                .map(|g| g.name.clone())
        })
        .or_else(|| well_known_sid(sid).map(str::to_string));
    match name {
        Some(n) if !n.is_empty() => format!("{sid} ({n})"),
        _ => sid.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firewall_addresses_are_normalized() {
        assert_eq!(address("10.0.0.0/255.255.255.0"), "10.0.0.0/24");
        assert_eq!(address("10.20.0.10/255.255.255.255"), "10.20.0.10");
        assert_eq!(address("10.20.0.10"), "10.20.0.10");
        assert_eq!(address("2001:DB8::/32"), "2001:db8::/32");
        assert!(condition(&["Any".into()]).is_empty());
    }
}

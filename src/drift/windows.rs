//! Windows comparisons: a desired Windows setting against what `Collect-Hardbase.ps1` found.
//!
//! The collector writes enums as numbers (Windows PowerShell 5.1 `ConvertTo-Json`); their
//! meaning is fixed here, in one place, from the CIM class documentation:
//! `MSFT_NetFirewallRule` Action 2 Allow / 3 AllowBypass / 4 Block (documented), Enabled 1 / 2
//! (CIM_PolicyRule), Direction 1 inbound / 2 outbound (as the COM API; not confirmed for the
//! CIM class), `MSFT_NetFirewallProfile` GpoBoolean 0 False / 1 True / 2 NotConfigured and the
//! same Action numbers (not confirmed on a machine). Features are compared by the enum *name*
//! the collector writes beside the number (`Enabled`, `Disabled` …, not localized). The
//! lockdown numbers: `WESL_UserSetting` actions 0 restart shell … 3 do nothing, `UWF_OverlayConfig`
//! Type 0 RAM / 1 disk, `Win32_DeviceGuard` 0 off / 1 audit / 2 enforced (documented);
//! `Win32_EncryptableVolume` protection status 0 off / 1 on, encryption methods 6 XTS-AES 128 /
//! 7 XTS-AES 256 and key protector types 1 TPM / 4 TPM and PIN (4 documented; the others as
//! the method documentation gives them, not confirmed on a machine).
//!
//! How each kind is compared:
//!
//! | kind | facts |
//! |---|---|
//! | registry, registry_list | `registry.json`, `registry-keys.json` |
//! | device_install, removable_storage, event_log, applocker (in registry.pol) | the registry.pol values `target::windows::policy` writes for the setting, through the same registry comparisons |
//! | bitlocker | those values, plus the system volume in `lockdown.json`: protection on, method, protector type |
//! | wdac_policy | the deployed binary's SHA-256 against the profile's policy file, and `Win32_DeviceGuard` enforcement |
//! | boot_setting | the BCD element in `lockdown.json` |
//! | kiosk_shell | v1: `WESL_UserSetting` entries of the account's SID and of BUILTIN\Administrators, `IsEnabled`; v2: the `MDM_AssignedAccess.ShellLauncher` XML |
//! | keyboard_filter | `WEKF_PredefinedKey` per blocked Id, `WEKF_Settings` DisableKeyboardFilterForAdministrators |
//! | write_filter | the next-session UWF configuration (filter, volume, overlay, exclusions) |
//! | local_account | `group-members.json`: enabled state, name, groups it must not be in |
//! | assigned_access | `MDM_AssignedAccess.KioskModeApp` |
//!
//! A lockdown source the collector could not read (a namespace that does not exist because the
//! feature is not installed, the MDM bridge when not run as SYSTEM) is not-collected with the
//! collector's reason; no lockdown kind here can hold with its feature absent.
//!
//! Only what the tools are known to rewrite is normalized: registry key and value names and
//! service and feature names compare without case (Windows does), account names in
//! `[System Access]` too; `secedit /export` writes `*SID` or a plain account name in
//! `[Privilege Rights]`, and a plain name is resolved through the collected local accounts
//! and groups (or the English well-known names); the firewall writes `Any` for "no
//! condition" and a subnet as `address/mask`. Each lockdown kind says what it normalizes.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

use super::{
    control_of, inbound_flows, reg_data_text, squash, unexpected_listeners, Outcome, Status,
    Unexpected,
};
use crate::catalog::setting::{
    well_known_sid, AssignedAccess, AuditSetting, AuditSubcategory, Bitlocker, BootObject,
    BootSetting, BuiltinAccount, Direction, EncryptionMethod, EnforcementMode, FeatureState,
    FirewallAction, FirewallProfile, FirewallRule, Hive, KeyboardFilter, KioskShell, ListMode,
    LocalAccount, OptionalFeature, OsProtector, OverlayType, Principal, Protocol, RegData, RegType,
    Registry, RegistryList, SecurityOption, Service, SettingKind, ShellExitAction,
    ShellLauncherVersion, StartMode, UserRight, WdacPolicy, WriteFilter, WELL_KNOWN_SIDS,
};
use crate::live::{FirewallRuleFact, LockdownState, RegistryValueFact, Text, Texts, WindowsState};
use crate::model::{DesiredSetting, DesiredState};
use crate::target::windows::policy;
use crate::target::windows::registry_pol::PolData;

/// Compares one Windows setting; `None` for kinds that have no Windows comparison (they are
/// reported as not-collected). With `lean`, a compliant registry value or service may come
/// without its actual text (for callers that keep only findings). `registry_hash` is the
/// lookup hash of a registry setting's value ([`crate::snapshot::windows::registry_hash`]).
pub(super) fn compare(
    s: &DesiredSetting,
    parts: &[PolPart],
    w: &WindowsState,
    lean: bool,
    registry_hash: u64,
) -> Option<Outcome> {
    use SettingKind::*;
    Some(match &s.kind {
        Registry(r) => registry(r, w, lean, Some(registry_hash)),
        RegistryList(l) => registry_list(l, w),
        SecurityOption(o) => security_option(o, w),
        UserRight(u) => user_right(u, w),
        AuditSubcategory(a) => audit_subcategory(a, w),
        Service(svc) => service(svc, w, lean),
        FirewallProfile(p) => firewall_profile(p, w),
        FirewallRule(r) => firewall_rule(r, w),
        OptionalFeature(f) => optional_feature(f, w),
        LocalAccount(a) => local_account(a, w),
        Applocker(_) | DeviceInstall(_) | RemovableStorage(_) | EventLog(_) => {
            combine(policy_outcomes(s, parts, w))
        }
        Bitlocker(b) => {
            let mut parts = policy_outcomes(s, parts, w);
            parts.push(("BitLocker on the system volume".into(), bitlocker(b, w)));
            combine(parts)
        }
        WdacPolicy(p) => {
            let mut parts = policy_outcomes(s, parts, w);
            parts.retain(|(_, o)| o.status != Status::NotCollected || o.actual.is_some());
            parts.push(("policy binary".into(), wdac_binary(p, w)));
            parts.push(("enforcement".into(), wdac_enforcement(p, w)));
            combine(parts)
        }
        BootSetting(b) => boot_setting(b, w),
        KioskShell(k) => kiosk_shell(k, w),
        KeyboardFilter(k) => keyboard_filter(k, w),
        WriteFilter(f) => write_filter(f, w),
        AssignedAccess(a) => assigned_access(a, w),
        _ => return None,
    })
}

/// The expected value of a compared Windows setting, in the words its actual value is given in.
pub(super) fn expected_text(s: &DesiredSetting, parts: &[PolPart]) -> Option<String> {
    use SettingKind::*;
    Some(match &s.kind {
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
        Service(svc) => start_text(svc.start).into(),
        FirewallProfile(p) => profile_text(
            Some(p.enabled),
            Some(p.default_inbound == FirewallAction::Block),
            Some(p.default_outbound == FirewallAction::Block),
            Some(p.allow_local_rules),
            Some(p.allow_local_ipsec_rules),
        ),
        FirewallRule(r) => rule_expected(r),
        OptionalFeature(f) => feature_name(f.state).into(),
        LocalAccount(a) => account_expected(a),
        Applocker(_) | DeviceInstall(_) | RemovableStorage(_) | EventLog(_) => {
            if parts.is_empty() {
                return None;
            }
            parts
                .iter()
                .map(PolPart::expected)
                .collect::<Vec<_>>()
                .join("; ")
        }
        Bitlocker(b) => {
            let mut parts: Vec<String> = parts.iter().map(PolPart::expected).collect();
            parts.push(format!(
                "BitLocker on the system volume: {}",
                bitlocker_text(
                    Some(1),
                    Some(encryption_method_number(b.encryption_method)),
                    &[protector_number(b.os_protector)]
                )
            ));
            parts.join("; ")
        }
        WdacPolicy(p) => format!(
            "policy binary: the same bytes as {}; enforcement: {}",
            p.policy_file,
            match p.mode {
                EnforcementMode::Enforce => device_guard_text(Some(2), Some(2)),
                EnforcementMode::AuditOnly =>
                    format!("code integrity {}", enforcement_name(Some(1))),
            }
        ),
        BootSetting(b) => match &b.value {
            Some(v) => v.clone(),
            None => "absent".into(),
        },
        KioskShell(k) => kiosk_expected(k),
        KeyboardFilter(k) => format!(
            "blocked: {}; DisableKeyboardFilterForAdministrators = {}",
            k.blocked_keys.join(", "),
            k.disable_for_administrators
        ),
        WriteFilter(f) => uwf_text(
            true,
            Some(true),
            Some(overlay_number(f.overlay_type)),
            Some(u64::from(f.overlay_size_mb)),
            Some(&f.file_exclusions),
            &f.registry_exclusions,
        ),
        AssignedAccess(a) => format!(
            "{} runs {}",
            principal_text(&a.account),
            a.app_user_model_id
        ),
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

/// `DATA (KIND)`, the data items joined by spaces.
fn value_text(v: &RegistryValueFact) -> String {
    let data: usize = v.data.iter().map(|d| d.len() + 1).sum();
    let mut out = String::with_capacity(data + v.kind_name.len() + 3);
    for (i, d) in v.data.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(d);
    }
    out.push_str(" (");
    out.push_str(&v.kind_name);
    out.push(')');
    out
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
        (RegType::MultiSz, RegData::List(items)) => *have.data == **items,
        _ => false,
    }
}

fn user_hive_note() -> Outcome {
    Outcome::new(Status::NotCollected, None)
        .note("user policy (HKCU) is per user; the collector reads machine policy (HKLM) only")
}

/// `hash`: the lookup hash of the value when the caller knows it.
fn registry(r: &Registry, w: &WindowsState, lean: bool, hash: Option<u64>) -> Outcome {
    if r.hive == Hive::CurrentUser {
        return user_hive_note();
    }
    let Some(values) = &w.registry else {
        return not_collected(w, "registry.json");
    };
    let found = if w.registry_index.is_empty() {
        values.iter().find(|v| {
            v.hive.eq_ignore_ascii_case("HKLM")
                && v.key.eq_ignore_ascii_case(&r.key)
                && v.name.eq_ignore_ascii_case(&r.value)
        })
    } else {
        let hash =
            hash.unwrap_or_else(|| crate::snapshot::windows::registry_hash(&r.key, &r.value));
        crate::snapshot::windows::find_registry_hashed(
            values,
            &w.registry_index,
            hash,
            &r.key,
            &r.value,
        )
    };
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
        (Some(t), Some(data)) if lean && data_equal(t, data, v) => {
            Outcome::new(Status::Compliant, None)
        }
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

fn service(s: &Service, w: &WindowsState, lean: bool) -> Outcome {
    let Some(services) = &w.services else {
        return not_collected(w, "services.json");
    };
    let Some(have) = services.get(&s.name) else {
        // A service that is not installed cannot run.
        return if s.start == StartMode::Disabled {
            Outcome::compliant("not installed")
        } else {
            Outcome::missing().note(format!("{} is not installed", s.name))
        };
    };
    let mode: &str = &have.start_mode;
    if lean {
        let compliant = match s.start {
            StartMode::Manual => mode == "Manual",
            StartMode::Disabled => mode == "Disabled",
            StartMode::Automatic | StartMode::AutomaticDelayed if mode != "Auto" => false,
            _ => have.delayed_auto_start == Some(s.start == StartMode::AutomaticDelayed),
        };
        if compliant {
            return Outcome::new(Status::Compliant, None);
        }
    }
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
fn condition(items: &[Text<'_>]) -> BTreeSet<String> {
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

fn rule_actual(f: &FirewallRuleFact<'_>) -> String {
    let list = |v: &Option<Texts<'_>>| match v {
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
    let named = |v: Option<&str>| {
        v.map(str::trim)
            .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("any"))
            .map(str::to_ascii_lowercase)
    };
    for (what, want, have) in [
        ("program", r.program.as_deref(), f.program.as_deref()),
        ("service", r.service.as_deref(), f.service.as_deref()),
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

// ---------------------------------------------------------------- several facts, one setting

/// Several comparisons of one setting as one outcome: the worst status (known drift wins over
/// unknowns), every part's actual value after its label and, for the parts that are not
/// compliant, their notes.
fn combine(parts: Vec<(String, Outcome)>) -> Outcome {
    let status = parts
        .iter()
        .map(|(_, o)| o.status)
        .max()
        .unwrap_or(Status::NotCollected);
    let actual = parts
        .iter()
        .map(|(label, o)| {
            let value = match (&o.actual, o.status) {
                (Some(a), _) => a.clone(),
                (None, Status::Missing) => "(absent)".to_string(),
                (None, _) => "(not collected)".to_string(),
            };
            format!("{label}: {value}")
        })
        .collect::<Vec<_>>()
        .join("; ");
    let notes = parts
        .iter()
        .filter(|(_, o)| o.status != Status::Compliant)
        .filter_map(|(label, o)| o.note.as_ref().map(|n| format!("{label}: {n}")))
        .collect::<Vec<_>>();
    let outcome = Outcome::new(status, Some(actual));
    if notes.is_empty() {
        outcome
    } else {
        outcome.note(notes.join("; "))
    }
}

// ---------------------------------------------------------------- registry.pol kinds

/// One registry fact a registry.pol instruction sets: a value (or its absence) or a key
/// replaced as a whole by `**delvals.` and its numbered values.
pub(super) enum PolPart {
    Value(Registry),
    List(RegistryList),
}

impl PolPart {
    fn label(&self) -> String {
        match self {
            PolPart::Value(r) => format!("HKLM\\{}\\{}", r.key, r.value),
            PolPart::List(l) => format!("HKLM\\{}", l.key),
        }
    }

    fn expected(&self) -> String {
        let text = match self {
            PolPart::Value(r) if r.absent => "absent".to_string(),
            PolPart::Value(r) => format!(
                "{} ({})",
                r.data.as_ref().map(reg_data_text).unwrap_or_default(),
                r.reg_type.map(kind_name).unwrap_or("?")
            ),
            PolPart::List(l) => format!("[{}]", l.items.join(", ")),
        };
        format!("{}: {text}", self.label())
    }

    fn compare(&self, w: &WindowsState) -> Outcome {
        match self {
            PolPart::Value(r) => registry(r, w, false, None),
            PolPart::List(l) => registry_list(l, w),
        }
    }
}

/// The machine registry.pol instructions `target::windows::policy` writes for this one
/// setting, as registry comparisons: the key paths are never restated here, so drift reads
/// exactly what the build writes (and `registry.json` / `registry-keys.json` hold, since the
/// collector reads every entry of the same registry.pol).
/// Whether a setting kind is compared through the registry.pol values it writes.
pub(super) fn writes_policy_parts(kind: &SettingKind) -> bool {
    use SettingKind::*;
    matches!(
        kind,
        Applocker(_)
            | DeviceInstall(_)
            | RemovableStorage(_)
            | EventLog(_)
            | Bitlocker(_)
            | WdacPolicy(_)
    )
}

pub(super) fn policy_parts(s: &DesiredSetting, build: u32) -> Vec<PolPart> {
    let entries = policy::build_from(build, std::iter::once(s)).machine;
    let mut parts = Vec::new();
    let mut i = 0;
    while i < entries.len() {
        let e = &entries[i];
        i += 1;
        if e.value.eq_ignore_ascii_case("**delvals.") {
            let mut items = Vec::new();
            while let Some(item) = entries
                .get(i)
                .filter(|n| n.key.eq_ignore_ascii_case(&e.key) && !n.value.starts_with("**"))
            {
                if let PolData::Sz(text) = &item.data {
                    items.push(text.clone());
                }
                i += 1;
            }
            parts.push(PolPart::List(RegistryList {
                hive: Hive::LocalMachine,
                key: e.key.clone(),
                items,
            }));
            continue;
        }
        if let Some(name) = e.value.strip_prefix("**del.") {
            parts.push(PolPart::Value(Registry {
                hive: Hive::LocalMachine,
                key: e.key.clone(),
                value: name.to_string(),
                reg_type: None,
                data: None,
                absent: true,
            }));
            continue;
        }
        if e.value.starts_with("**") {
            continue;
        }
        let (reg_type, data) = match &e.data {
            PolData::Dword(n) => (Some(RegType::Dword), Some(RegData::Number(u64::from(*n)))),
            PolData::Qword(n) => (Some(RegType::Qword), Some(RegData::Number(*n))),
            PolData::Sz(t) => (Some(RegType::Sz), Some(RegData::Text(t.clone()))),
            PolData::ExpandSz(t) => (Some(RegType::ExpandSz), Some(RegData::Text(t.clone()))),
            PolData::MultiSz(l) => (Some(RegType::MultiSz), Some(RegData::List(l.clone()))),
            // Not written for any of these kinds; compared as "no type and data".
            PolData::Binary(_) | PolData::None => (None, None),
        };
        parts.push(PolPart::Value(Registry {
            hive: Hive::LocalMachine,
            key: e.key.clone(),
            value: e.value.clone(),
            reg_type,
            data,
            absent: false,
        }));
    }
    parts
}

/// The registry.pol values of a setting compared one by one (registry key and value names
/// without case, as Windows compares them; data exactly). A setting that policy.rs leaves to
/// Apply has no values here and is not-collected: an AppLocker collection that names a local
/// account is set with `Set-AppLockerPolicy`, whose rule ids the collector does not read.
fn policy_outcomes(
    s: &DesiredSetting,
    parts: &[PolPart],
    w: &WindowsState,
) -> Vec<(String, Outcome)> {
    if parts.is_empty() {
        let why = match &s.kind {
            SettingKind::Applocker(_) => "the collection names a local account, so Apply sets it with Set-AppLockerPolicy (not through registry.pol); the collector does not read the effective AppLocker policy",
            _ => "the build writes no registry.pol value for this setting",
        };
        return vec![(
            "registry policy".into(),
            Outcome::new(Status::NotCollected, None).note(why),
        )];
    }
    parts.iter().map(|p| (p.label(), p.compare(w))).collect()
}

// ---------------------------------------------------------------- lockdown.json

/// A section of `lockdown.json`, or the not-collected outcome that says why there is none:
/// the collector's reason for `source` (a WMI class whose namespace does not exist because the
/// feature is not installed, access denied, …), or the file's own reason.
fn section<'a, T>(
    w: &'a WindowsState,
    source: &str,
    get: impl Fn(&'a LockdownState) -> Option<&'a T>,
) -> Result<&'a T, Outcome> {
    let Some(lockdown) = &w.lockdown else {
        return Err(not_collected(w, "lockdown.json"));
    };
    if let Some(found) = get(lockdown) {
        return Ok(found);
    }
    Err(match lockdown.not_collected.get(source) {
        Some(reason) => Outcome::new(Status::NotCollected, None)
            .note(format!("{source} was not collected: {}", squash(reason))),
        None => Outcome::new(Status::NotCollected, None).note(format!(
            "lockdown.json has no {source} data (written by another version of the collector?)"
        )),
    })
}

/// The SID of a principal: a well-known SID as it is, a local account's from the collected
/// accounts (`group-members.json`).
fn principal_sid(p: &Principal, w: &WindowsState) -> Result<String, Outcome> {
    match p {
        Principal::WellKnownSid { sid, .. } => Ok(sid.to_ascii_uppercase()),
        Principal::LocalAccount { name } => {
            let Some(users) = &w.users else {
                return Err(not_collected(w, "group-members.json").note(format!(
                    "the SID of local account {name} is needed, and group-members.json was not collected"
                )));
            };
            users
                .iter()
                .find(|u| u.name.eq_ignore_ascii_case(name))
                .map(|u| u.sid.clone())
                .ok_or_else(|| {
                    Outcome::missing().note(format!("local account {name} does not exist"))
                })
        }
    }
}

/// Whether an account name as Windows writes it (`name`, `.\name`, `HOST\name`) is `name`;
/// Windows compares account names without case.
fn same_account(written: &str, name: &str) -> bool {
    let bare = written.rsplit('\\').next().unwrap_or(written);
    bare.eq_ignore_ascii_case(name)
}

// ---------------------------------------------------------------- local accounts

fn account_expected(a: &LocalAccount) -> String {
    let mut out = String::from(if a.enabled { "enabled" } else { "disabled" });
    if let Some(n) = &a.rename_to {
        out.push_str(&format!(", named {n}"));
    }
    if !a.not_member_of.is_empty() {
        out.push_str(&format!(
            ", member of none of {}",
            a.not_member_of
                .iter()
                .map(principal_text)
                .map(|s| sid_text(&s))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out
}

/// The account by RID (built-in accounts: their names are localized and may be renamed) or by
/// name (its current name or the one it is renamed to), without case as Windows compares
/// names. Enabled state, name and the groups it must not be in come from
/// `group-members.json`; the password is a secret and never collected.
fn local_account(a: &LocalAccount, w: &WindowsState) -> Outcome {
    let (Some(users), Some(groups)) = (&w.users, &w.groups) else {
        return not_collected(w, "group-members.json");
    };
    let found = users.iter().find(|u| match (&a.builtin, &a.name) {
        (Some(b), _) => {
            let rid = match b {
                BuiltinAccount::Administrator => "-500",
                BuiltinAccount::Guest => "-501",
            };
            u.sid.starts_with("S-1-5-21-") && u.sid.ends_with(rid)
        }
        (None, Some(name)) => {
            u.name.eq_ignore_ascii_case(name)
                || a.rename_to
                    .as_ref()
                    .is_some_and(|r| u.name.eq_ignore_ascii_case(r))
        }
        (None, None) => false,
    });
    let Some(user) = found else {
        let who = a
            .name
            .clone()
            .or_else(|| a.builtin.map(|b| format!("the built-in {b:?} account")))
            .unwrap_or_default();
        // A disabled account that does not exist cannot sign in either.
        return if !a.enabled && a.not_member_of.is_empty() && a.rename_to.is_none() {
            Outcome::compliant("does not exist")
        } else {
            Outcome::missing().note(format!("{who} does not exist on the machine"))
        };
    };
    let member_of: Vec<&str> = groups
        .iter()
        .filter(|g| g.members.iter().any(|m| m.eq_ignore_ascii_case(&user.sid)))
        .map(|g| g.sid.as_str())
        .collect();
    let mut actual = format!(
        "{} ({}), {}",
        user.name,
        user.sid,
        if user.disabled { "disabled" } else { "enabled" }
    );
    if !member_of.is_empty() {
        actual.push_str(&format!(
            ", member of {}",
            member_of
                .iter()
                .map(|s| sid_text(s))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut why = Vec::new();
    if user.disabled == a.enabled {
        why.push(format!(
            "the account is {}",
            if user.disabled { "disabled" } else { "enabled" }
        ));
    }
    if let Some(n) = &a.rename_to {
        if !user.name.eq_ignore_ascii_case(n) {
            why.push(format!("the account is not named {n}"));
        }
    }
    for p in &a.not_member_of {
        let sid = principal_text(p);
        if member_of.iter().any(|m| m.eq_ignore_ascii_case(&sid)) {
            why.push(format!("member of {}", sid_text(&sid)));
        }
    }
    let outcome = if why.is_empty() {
        Outcome::compliant(actual)
    } else {
        Outcome::drift(actual).note(why.join("; "))
    };
    if a.password.is_some() && outcome.status == Status::Compliant {
        outcome.note("the password is supplied at apply time and never collected")
    } else {
        outcome
    }
}

// ---------------------------------------------------------------- BitLocker

fn encryption_method_number(m: EncryptionMethod) -> u32 {
    match m {
        EncryptionMethod::XtsAes128 => 6,
        EncryptionMethod::XtsAes256 => 7,
    }
}

/// The key protector type the OS protector needs: TPM (1), or TPM and PIN (4), which Network
/// Unlock supplements.
fn protector_number(p: OsProtector) -> u32 {
    match p {
        OsProtector::Tpm => 1,
        OsProtector::TpmAndPin | OsProtector::NetworkUnlock => 4,
    }
}

fn encryption_method_name(n: u32) -> String {
    let name = match n {
        0 => "not encrypted",
        1 => "AES 128 with diffuser",
        2 => "AES 256 with diffuser",
        3 => "AES-CBC 128",
        4 => "AES-CBC 256",
        5 => "hardware encryption",
        6 => "XTS-AES 128",
        7 => "XTS-AES 256",
        _ => "unknown",
    };
    format!("{name} ({n})")
}

fn protector_name(n: u32) -> String {
    let name = match n {
        1 => "TPM",
        2 => "external key",
        3 => "numerical password",
        4 => "TPM and PIN",
        5 => "TPM and startup key",
        6 => "TPM, PIN and startup key",
        7 => "public key",
        8 => "passphrase",
        9 => "TPM certificate",
        10 => "CNG",
        _ => "unknown",
    };
    format!("{name} ({n})")
}

fn bitlocker_text(protection: Option<u32>, method: Option<u32>, protectors: &[u32]) -> String {
    format!(
        "protection {}, {}, key protectors {}",
        match protection {
            Some(0) => "off (0)".to_string(),
            Some(1) => "on (1)".to_string(),
            Some(n) => format!("unknown ({n})"),
            None => "(not reported)".to_string(),
        },
        method
            .map(encryption_method_name)
            .unwrap_or_else(|| "encryption method (not reported)".into()),
        if protectors.is_empty() {
            "none".to_string()
        } else {
            protectors
                .iter()
                .map(|n| protector_name(*n))
                .collect::<Vec<_>>()
                .join(", ")
        }
    )
}

/// The runtime facts of the system volume: protection on, the encryption method, and a key
/// protector of the profile's type. A TPM-only profile also refuses protectors that need a
/// PIN or a startup key at boot (an unattended terminal would stop at the prompt). Recovery
/// escrow is not visible on the machine and is not compared.
fn bitlocker(b: &Bitlocker, w: &WindowsState) -> Outcome {
    let v = match section(w, "Win32_EncryptableVolume", |l| l.bitlocker.as_ref()) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let actual = format!(
        "{} {}",
        v.drive_letter,
        bitlocker_text(
            v.protection_status,
            v.encryption_method,
            &v.key_protector_types
        )
    );
    let mut why = Vec::new();
    if v.protection_status != Some(1) {
        why.push("protection is not on".to_string());
    }
    let method = encryption_method_number(b.encryption_method);
    if v.encryption_method != Some(method) {
        why.push(format!(
            "the volume is not encrypted with {}",
            encryption_method_name(method)
        ));
    }
    let protector = protector_number(b.os_protector);
    if !v.key_protector_types.contains(&protector) {
        why.push(format!("no {} key protector", protector_name(protector)));
    }
    if b.os_protector == OsProtector::Tpm {
        for t in v.key_protector_types.iter().filter(|t| matches!(t, 4..=6)) {
            why.push(format!(
                "a {} key protector needs input at every boot",
                protector_name(*t)
            ));
        }
    }
    if why.is_empty() {
        Outcome::compliant(actual)
    } else {
        Outcome::drift(actual).note(why.join("; "))
    }
}

// ---------------------------------------------------------------- App Control (WDAC)

fn enforcement_name(n: Option<u32>) -> String {
    match n {
        Some(0) => "off (0)".into(),
        Some(1) => "audit (1)".into(),
        Some(2) => "enforced (2)".into(),
        Some(n) => format!("unknown ({n})"),
        None => "(not reported)".into(),
    }
}

fn device_guard_text(kernel: Option<u32>, user: Option<u32>) -> String {
    format!(
        "code integrity {}, user-mode code integrity {}",
        enforcement_name(kernel),
        enforcement_name(user)
    )
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The deployed binary at its destination has the SHA-256 of the profile's policy file. That
/// file is an input of the profile (resolve found it, the build ships it), read here to hash it.
fn wdac_binary(p: &WdacPolicy, w: &WindowsState) -> Outcome {
    let policies = match section(w, "CodeIntegrity", |l| l.wdac_policies.as_ref()) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let id = p.policy_id.to_ascii_uppercase();
    let Some(have) = policies.iter().find(|f| f.policy_id == id) else {
        return Outcome::new(Status::NotCollected, None).note(format!(
            "lockdown.json has no policy {id} (collected for another version of the profile?)"
        ));
    };
    if !have.present {
        return Outcome::missing().note(format!(
            "no policy binary at %windir%\\System32\\CodeIntegrity\\{}",
            have.destination
        ));
    }
    let actual = format!("{} SHA-256 {}", have.destination, have.sha256);
    match std::fs::read(&p.policy_file) {
        Ok(bytes) => {
            let want = sha256_hex(&bytes);
            let o = Outcome::matches(have.sha256 == want, actual);
            if o.status == Status::Drift {
                o.note(format!("{} has SHA-256 {want}", p.policy_file))
            } else {
                o
            }
        }
        Err(e) => Outcome::new(Status::NotCollected, Some(actual)).note(format!(
            "the profile's policy binary {} cannot be read to compare: {e}",
            p.policy_file
        )),
    }
}

/// `Win32_DeviceGuard` reports the machine's enforcement (all policies together): an enforced
/// policy needs kernel and user-mode code integrity enforced (2), an audit-mode one code
/// integrity in audit (1).
fn wdac_enforcement(p: &WdacPolicy, w: &WindowsState) -> Outcome {
    let dg = match section(w, "Win32_DeviceGuard", |l| l.device_guard.as_ref()) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let actual = device_guard_text(dg.code_integrity, dg.usermode_code_integrity);
    let ok = match p.mode {
        EnforcementMode::Enforce => {
            dg.code_integrity == Some(2) && dg.usermode_code_integrity == Some(2)
        }
        EnforcementMode::AuditOnly => dg.code_integrity == Some(1),
    };
    Outcome::matches(ok, actual)
}

// ---------------------------------------------------------------- boot configuration

fn boot_object(o: BootObject) -> &'static str {
    match o {
        BootObject::Bootmgr => "{bootmgr}",
        BootObject::Default => "{default}",
        BootObject::Globalsettings => "{globalsettings}",
    }
}

/// One BCD element. The collector carries the profile's bcdedit value together with the form
/// the BCD WMI provider reports it in (`true`/`false`, or the number of a named value) and
/// writes both beside what it read, all in its own words: they are compared exactly. An
/// element collected for another value is not evidence.
fn boot_setting(b: &BootSetting, w: &WindowsState) -> Outcome {
    let elements = match section(w, "BcdStore", |l| l.boot.as_ref()) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let object = boot_object(b.object);
    let Some(e) = elements.iter().find(|e| {
        e.object.eq_ignore_ascii_case(object) && e.element.eq_ignore_ascii_case(&b.element)
    }) else {
        return Outcome::new(Status::NotCollected, None).note(format!(
            "lockdown.json has no BCD element {object} {} (collected for another version of the profile?)",
            b.element
        ));
    };
    let want = b.value.clone().unwrap_or_default();
    if !e.value.eq_ignore_ascii_case(&want) {
        return Outcome::new(Status::NotCollected, None).note(format!(
            "the collector compared {object} {} with `{}`, not `{want}` (collected for another version of the profile?)",
            b.element, e.value
        ));
    }
    if b.value.is_none() {
        return if e.present {
            Outcome::drift(e.actual.clone()).note("the element must not exist")
        } else {
            Outcome::compliant("absent")
        };
    }
    if !e.present {
        return Outcome::missing().note("the element does not exist");
    }
    if e.actual == e.desired {
        Outcome::compliant(format!("{want} ({})", e.actual))
    } else {
        Outcome::drift(e.actual.clone()).note(format!("`{want}` reads as {}", e.desired))
    }
}

// ---------------------------------------------------------------- Shell Launcher

/// The action numbers of `WESL_UserSetting` and the action names of the v2 XML.
fn exit_action(a: ShellExitAction) -> (i64, &'static str) {
    match a {
        ShellExitAction::RestartShell => (0, "RestartShell"),
        ShellExitAction::RestartDevice => (1, "RestartDevice"),
        ShellExitAction::ShutdownDevice => (2, "ShutdownDevice"),
        ShellExitAction::DoNothing => (3, "DoNothing"),
    }
}

fn v1_action_text(n: Option<i64>) -> String {
    match n {
        Some(0) => "restart shell (0)".into(),
        Some(1) => "restart device (1)".into(),
        Some(2) => "shut down (2)".into(),
        Some(3) => "do nothing (3)".into(),
        Some(n) => format!("action {n}"),
        None => "no default action".into(),
    }
}

fn kiosk_expected(k: &KioskShell) -> String {
    let (number, name) = exit_action(k.on_exit);
    match k.launcher {
        ShellLauncherVersion::V1 => format!(
            "{}: {} on exit {}; {ADMINISTRATORS}: {} on exit {}; Shell Launcher enabled",
            principal_text(&k.account),
            k.shell,
            v1_action_text(Some(number)),
            k.admin_shell,
            v1_action_text(Some(0))
        ),
        ShellLauncherVersion::V2 => format!(
            "{}: {} on exit {name}; {ADMINISTRATORS}: {} on exit RestartShell",
            principal_text(&k.account),
            k.shell,
            k.admin_shell
        ),
    }
}

/// Shell Launcher, v1 or v2 as the setting says. Shells compare without case (a Windows path;
/// Apply compares them with PowerShell's case-insensitive `-eq` too), actions exactly.
fn kiosk_shell(k: &KioskShell, w: &WindowsState) -> Outcome {
    match k.launcher {
        ShellLauncherVersion::V1 => kiosk_v1(k, w),
        ShellLauncherVersion::V2 => kiosk_v2(k, w),
    }
}

/// v1: the `WESL_UserSetting` entries of the account's SID and of BUILTIN\Administrators,
/// and `IsEnabled()`.
fn kiosk_v1(k: &KioskShell, w: &WindowsState) -> Outcome {
    let shells = match section(w, "WESL_UserSetting", |l| l.shell_launcher.as_ref()) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let entry = |sid: &str, shell: &str, action: i64| -> Outcome {
        match shells.iter().find(|e| e.sid.eq_ignore_ascii_case(sid)) {
            None => Outcome::missing().note(format!("no Shell Launcher shell for {sid}")),
            Some(e) => Outcome::matches(
                e.shell.eq_ignore_ascii_case(shell) && e.default_action == Some(action),
                format!("{} on exit {}", e.shell, v1_action_text(e.default_action)),
            ),
        }
    };
    let mut parts = Vec::new();
    let label = principal_text(&k.account);
    parts.push(match principal_sid(&k.account, w) {
        Ok(sid) => (
            format!("{label} ({sid})"),
            entry(&sid, &k.shell, exit_action(k.on_exit).0),
        ),
        Err(o) => (label, o),
    });
    parts.push((
        ADMINISTRATORS.to_string(),
        entry(ADMINISTRATORS, &k.admin_shell, 0),
    ));
    let enabled = match section(w, "WESL_UserSetting.IsEnabled", |l| {
        l.shell_launcher_enabled.as_ref()
    }) {
        Ok(true) => Outcome::compliant("enabled"),
        Ok(false) => Outcome::drift("disabled"),
        Err(o) => o,
    };
    parts.push(("Shell Launcher".into(), enabled));
    combine(parts)
}

/// v2: the XML of `MDM_AssignedAccess.ShellLauncher`, as the collector's XML parser read it:
/// the profile the account's configuration names (account by name as `name`, `.\name` or
/// `HOST\name`, or by SID), its shell and `DefaultAction`; and BUILTIN\Administrators' shell.
fn kiosk_v2(k: &KioskShell, w: &WindowsState) -> Outcome {
    let bridge = match section(w, "MDM_AssignedAccess", |l| l.assigned_access.as_ref()) {
        Ok(v) => v,
        Err(o) => return o,
    };
    if bridge.shell_launcher.trim().is_empty() {
        return Outcome::missing().note("MDM_AssignedAccess holds no Shell Launcher configuration");
    }
    let Some(config) = &bridge.shell_launcher_config else {
        let why = w
            .lockdown
            .as_ref()
            .and_then(|l| l.not_collected.get("MDM_AssignedAccess.ShellLauncher"))
            .map(|r| squash(r))
            .unwrap_or_else(|| "it was not parsed".into());
        return Outcome::new(Status::NotCollected, Some(bridge.shell_launcher.clone()))
            .note(format!("the Shell Launcher XML cannot be read: {why}"));
    };
    let sid = principal_sid(&k.account, w).ok();
    let shell_of = |is_account: &dyn Fn(&crate::live::ShellAccountFact) -> bool,
                    shell: &str,
                    action: &str|
     -> Outcome {
        let Some(account) = config.accounts.iter().find(|a| is_account(a)) else {
            return Outcome::missing().note("no configuration for the account");
        };
        let Some(profile) = config
            .profiles
            .iter()
            .find(|p| !p.default && p.id.eq_ignore_ascii_case(&account.profile_id))
        else {
            return Outcome::missing().note(format!(
                "the configuration names profile {}, which the XML does not define",
                account.profile_id
            ));
        };
        let action_text = if profile.default_action.is_empty() {
            "no DefaultAction".to_string()
        } else {
            profile.default_action.clone()
        };
        Outcome::matches(
            profile.shell.eq_ignore_ascii_case(shell) && profile.default_action == action,
            format!("{} on exit {action_text}", profile.shell),
        )
    };
    let is_kiosk = |a: &crate::live::ShellAccountFact| match &k.account {
        Principal::LocalAccount { name } => {
            (!a.name.is_empty() && same_account(&a.name, name))
                || sid.as_ref().is_some_and(|s| a.sid.eq_ignore_ascii_case(s))
        }
        Principal::WellKnownSid { sid, .. } => a.sid.eq_ignore_ascii_case(sid),
    };
    let is_admins = |a: &crate::live::ShellAccountFact| a.sid.eq_ignore_ascii_case(ADMINISTRATORS);
    combine(vec![
        (
            principal_text(&k.account),
            shell_of(&is_kiosk, &k.shell, exit_action(k.on_exit).1),
        ),
        (
            ADMINISTRATORS.to_string(),
            shell_of(&is_admins, &k.admin_shell, "RestartShell"),
        ),
    ])
}

// ---------------------------------------------------------------- Assigned Access

/// The single-app kiosk of `MDM_AssignedAccess.KioskModeApp`, a JSON object with `Account`
/// (`name`, `.\name` or `HOST\name`) and `AUMID`. The account compares without case, as
/// Windows compares names; the AppUserModelId exactly.
fn assigned_access(a: &AssignedAccess, w: &WindowsState) -> Outcome {
    let bridge = match section(w, "MDM_AssignedAccess", |l| l.assigned_access.as_ref()) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let Some(text) = &bridge.kiosk_mode_app else {
        return Outcome::missing().note("MDM_AssignedAccess holds no KioskModeApp");
    };
    let parsed: Option<(String, String)> = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| {
            Some((
                v.get("Account")?.as_str()?.to_string(),
                v.get("AUMID")?.as_str()?.to_string(),
            ))
        });
    let Some((account, aumid)) = parsed else {
        return Outcome::drift(text.clone())
            .note("KioskModeApp is not a JSON object with Account and AUMID");
    };
    let actual = format!("{account} runs {aumid}");
    let same_user = match &a.account {
        Principal::LocalAccount { name } => same_account(&account, name),
        Principal::WellKnownSid { sid, .. } => account.eq_ignore_ascii_case(sid),
    };
    Outcome::matches(same_user && aumid == a.app_user_model_id, actual)
}

// ---------------------------------------------------------------- Keyboard Filter

/// Every blocked combination is a `WEKF_PredefinedKey` with `Enabled` true (Ids compare without
/// case, as Apply's `-eq` does), and `DisableKeyboardFilterForAdministrators` holds the
/// profile's `true`/`false` (a string; without case).
fn keyboard_filter(k: &KeyboardFilter, w: &WindowsState) -> Outcome {
    let keys_part = match section(w, "WEKF_PredefinedKey", |l| l.keyboard_keys.as_ref()) {
        Err(o) => o,
        Ok(keys) => {
            let mut blocked = Vec::new();
            let mut open = Vec::new();
            let mut unknown = Vec::new();
            for id in &k.blocked_keys {
                match keys.iter().find(|x| x.id.eq_ignore_ascii_case(id)) {
                    Some(x) if x.enabled => blocked.push(x.id.as_str()),
                    Some(x) => open.push(x.id.as_str()),
                    None => unknown.push(id.as_str()),
                }
            }
            let mut actual = format!("blocked: {}", list_or_none(&blocked));
            if !open.is_empty() {
                actual.push_str(&format!("; not blocked: {}", open.join(", ")));
            }
            if !unknown.is_empty() {
                actual.push_str(&format!("; no such predefined key: {}", unknown.join(", ")));
            }
            if !open.is_empty() {
                Outcome::drift(actual)
            } else if !unknown.is_empty() {
                Outcome::new(Status::Missing, Some(actual))
                    .note("WEKF_PredefinedKey has no such Id on this machine")
            } else {
                Outcome::compliant(actual)
            }
        }
    };
    let name = "DisableKeyboardFilterForAdministrators";
    let setting_part = match section(w, "WEKF_Settings", |l| l.keyboard_settings.as_ref()) {
        Err(o) => o,
        Ok(settings) => match settings.iter().find(|s| s.name.eq_ignore_ascii_case(name)) {
            None => Outcome::missing().note(format!("WEKF_Settings has no {name}")),
            Some(s) => Outcome::matches(
                s.value
                    .trim()
                    .eq_ignore_ascii_case(if k.disable_for_administrators {
                        "true"
                    } else {
                        "false"
                    }),
                s.value.clone(),
            ),
        },
    };
    combine(vec![
        ("keys".into(), keys_part),
        (name.into(), setting_part),
    ])
}

fn list_or_none(items: &[&str]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

// ---------------------------------------------------------------- Unified Write Filter

fn overlay_number(t: OverlayType) -> u32 {
    match t {
        OverlayType::Ram => 0,
        OverlayType::Disk => 1,
    }
}

fn overlay_text(t: Option<u32>, size: Option<u64>) -> String {
    let kind = match t {
        Some(0) => "RAM overlay (0)".to_string(),
        Some(1) => "disk overlay (1)".to_string(),
        Some(n) => format!("overlay type {n}"),
        None => "overlay type (not reported)".to_string(),
    };
    match size {
        Some(mb) => format!("{kind} of {mb} MB"),
        None => format!("{kind}, size not reported"),
    }
}

fn uwf_text(
    enabled: bool,
    protected: Option<bool>,
    overlay_type: Option<u32>,
    size: Option<u64>,
    files: Option<&[String]>,
    keys: &[String],
) -> String {
    format!(
        "next session: {}, volume {}, {}, file exclusions [{}], registry exclusions include [{}]",
        if enabled { "enabled" } else { "disabled" },
        match protected {
            Some(true) => "protected",
            Some(false) => "not protected",
            None => "(not reported)",
        },
        overlay_text(overlay_type, size),
        files
            .map(|f| f.join(", "))
            .unwrap_or_else(|| "(not collected)".into()),
        keys.join(", ")
    )
}

/// UWF reports file exclusions relative to the volume: compared without the drive letter and
/// a trailing `\`, without case (NTFS paths), as Apply compares them.
fn volume_path(path: &str) -> String {
    let p = path.trim();
    let p = match p.as_bytes() {
        [d, b':', ..] if d.is_ascii_alphabetic() => &p[2..],
        _ => p,
    };
    p.trim_end_matches('\\').to_lowercase()
}

/// The next-session configuration (what UWF does after the next restart, which every change
/// waits for): the filter on, the volume protected, the overlay's type and size, the file
/// exclusions exactly the declared list (the criterion says so; an extra exclusion is a
/// persistent write path), and every declared registry exclusion present (UWF keeps its own
/// registry exclusions beside them; key names compare without case, as Apply's `-contains`).
fn write_filter(f: &WriteFilter, w: &WindowsState) -> Outcome {
    let filter = match section(w, "UWF_Filter", |l| l.uwf_filter.as_ref()) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let mut parts = vec![(
        "filter".to_string(),
        if filter.next_enabled {
            Outcome::compliant("enabled")
        } else {
            Outcome::drift("disabled")
        },
    )];
    let volume = f.volume.to_ascii_uppercase();
    let vol = section(w, "UWF_Volume", |l| l.uwf_volumes.as_ref()).map(|vols| {
        vols.iter()
            .find(|v| !v.current_session && v.drive_letter.eq_ignore_ascii_case(&volume))
    });
    parts.push((
        format!("volume {volume}"),
        match &vol {
            Err(o) => clone_outcome(o),
            Ok(None) => Outcome::missing().note("no next-session UWF_Volume for the volume"),
            Ok(Some(v)) if v.protected => Outcome::compliant("protected"),
            Ok(Some(_)) => Outcome::drift("not protected"),
        },
    ));
    parts.push((
        "overlay".into(),
        match section(w, "UWF_OverlayConfig", |l| l.uwf_overlay_configs.as_ref()) {
            Err(o) => o,
            Ok(configs) => match configs.iter().find(|c| !c.current_session) {
                None => Outcome::missing().note("no next-session UWF_OverlayConfig"),
                Some(c) => Outcome::matches(
                    c.overlay_type == Some(overlay_number(f.overlay_type))
                        && c.maximum_size == Some(u64::from(f.overlay_size_mb)),
                    overlay_text(c.overlay_type, c.maximum_size),
                ),
            },
        },
    ));
    parts.push((
        "file exclusions".into(),
        match &vol {
            Err(o) => clone_outcome(o),
            Ok(None) => Outcome::missing().note("no next-session UWF_Volume for the volume"),
            Ok(Some(v)) => match &v.exclusions {
                None => Outcome::new(Status::NotCollected, None)
                    .note("the next-session exclusions were not read"),
                Some(have) => {
                    let have_set: BTreeSet<String> = have.iter().map(|p| volume_path(p)).collect();
                    let want_set: BTreeSet<String> =
                        f.file_exclusions.iter().map(|p| volume_path(p)).collect();
                    let actual = format!("[{}]", have.join(", "));
                    let lacking: Vec<&String> = f
                        .file_exclusions
                        .iter()
                        .filter(|p| !have_set.contains(&volume_path(p)))
                        .collect();
                    let extra: Vec<&String> = have
                        .iter()
                        .filter(|p| !want_set.contains(&volume_path(p)))
                        .collect();
                    let mut why = Vec::new();
                    if !lacking.is_empty() {
                        why.push(format!("lacks {}", join_refs(&lacking)));
                    }
                    if !extra.is_empty() {
                        why.push(format!("also excludes {}", join_refs(&extra)));
                    }
                    if why.is_empty() {
                        Outcome::compliant(actual)
                    } else if extra.is_empty()
                        && lacking.len() == f.file_exclusions.len()
                        && have.is_empty()
                    {
                        Outcome::new(Status::Missing, Some(actual)).note(why.join("; "))
                    } else {
                        Outcome::drift(actual).note(why.join("; "))
                    }
                }
            },
        },
    ));
    if !f.registry_exclusions.is_empty() {
        parts.push((
            "registry exclusions".into(),
            match section(w, "UWF_RegistryFilter", |l| l.uwf_registry_filters.as_ref()) {
                Err(o) => o,
                Ok(filters) => match filters.iter().find(|r| !r.current_session) {
                    None => Outcome::missing().note("no next-session UWF_RegistryFilter"),
                    Some(r) => match &r.exclusions {
                        None => Outcome::new(Status::NotCollected, None)
                            .note("the next-session registry exclusions were not read"),
                        Some(have) => {
                            let lacking: Vec<&String> = f
                                .registry_exclusions
                                .iter()
                                .filter(|k| {
                                    !have.iter().any(|h| h.trim().eq_ignore_ascii_case(k.trim()))
                                })
                                .collect();
                            let actual = format!("[{}]", have.join(", "));
                            if lacking.is_empty() {
                                Outcome::compliant(actual)
                            } else {
                                Outcome::drift(actual)
                                    .note(format!("lacks {}", join_refs(&lacking)))
                            }
                        }
                    },
                },
            },
        ));
    }
    let outcome = combine(parts);
    if filter.current_enabled != filter.next_enabled {
        let now = if filter.current_enabled { "on" } else { "off" };
        let note = format!(
            "the filter is {now} in the current session; the next-session configuration takes effect after a restart"
        );
        let note = match outcome.note.clone() {
            Some(n) => format!("{n}; {note}"),
            None => note,
        };
        return Outcome {
            note: Some(note),
            ..outcome
        };
    }
    outcome
}

fn join_refs(items: &[&String]) -> String {
    items
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn clone_outcome(o: &Outcome) -> Outcome {
    Outcome {
        status: o.status,
        actual: o.actual.clone(),
        note: o.note.clone(),
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

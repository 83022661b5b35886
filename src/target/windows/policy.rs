//! From the desired state to Windows policy: registry.pol instructions, the security template
//! and the audit policy, plus the settings only Apply can make.
//!
//! Registry policy travels through Group Policy (the generated backup, or the local GPO that
//! Apply writes); this module decides, per setting kind, which channel carries it:
//!
//! | kind | channel |
//! |---|---|
//! | registry, registry_list, firewall_profile, firewall_rule, event_log, device_install, removable_storage, bitlocker | Machine registry.pol |
//! | applocker whose rules name only well-known SIDs | Machine registry.pol (`SrpV2`) |
//! | registry under HKCU | User registry.pol |
//! | security_option, user_right (well-known SIDs, replace), service | GptTmpl.inf |
//! | audit_subcategory | audit.csv |
//! | everything else, user rights that name local accounts or only add principals, AppLocker collections with a local account | Apply |

use uuid::Uuid;

use crate::catalog::setting::{
    AppLocker, AppLockerCollection, AppLockerRule, AuditSetting, Bitlocker, DeviceInstall,
    EncryptionMethod, EnforcementMode, FirewallAction, FirewallProfileName, Hive, ListMode,
    OsProtector, Principal, RegData, RegType, Registry, RemovableStorage, SettingKind, StartMode,
    StorageClass,
};
use crate::model::{DesiredSetting, DesiredState};

use super::audit_csv::AuditRow;
use super::firewall;
use super::gpttmpl_inf::{InfService, InfValue, SecurityTemplate};
use super::registry_pol::{PolData, PolEntry};

/// Everything the Windows artefacts are made from.
#[derive(Clone, Debug, Default)]
pub struct WindowsPolicy {
    /// Machine registry.pol instructions, in order.
    pub machine: Vec<PolEntry>,
    /// User registry.pol instructions (HKCU settings), in order.
    pub user: Vec<PolEntry>,
    pub template: SecurityTemplate,
    pub audit: Vec<AuditRow>,
    /// Settings that only Apply can make, in apply-phase order.
    pub apply_only: Vec<DesiredSetting>,
    /// The firewall schema version written as `PolicyVersion` and in rule strings.
    pub firewall_version: u32,
}

const FIREWALL: &str = r"SOFTWARE\Policies\Microsoft\WindowsFirewall";
const EVENT_LOG: &str = r"SOFTWARE\Policies\Microsoft\Windows\EventLog";
const DEVICE_INSTALL: &str = r"SOFTWARE\Policies\Microsoft\Windows\DeviceInstall\Restrictions";
const REMOVABLE: &str = r"SOFTWARE\Policies\Microsoft\Windows\RemovableStorageDevices";
const FVE: &str = r"SOFTWARE\Policies\Microsoft\FVE";
const SRP_V2: &str = r"Software\Policies\Microsoft\Windows\SrpV2";

/// The namespace of every GUID hardbase derives (the one `gpo_backup` uses).
const NAMESPACE: Uuid = Uuid::from_u128(0x2518e9f5_8cbe_4047_b1a8_65565452faf2);

fn dword(key: &str, value: &str, data: u32) -> PolEntry {
    PolEntry::new(key, value, PolData::Dword(data))
}

fn flag(b: bool) -> u32 {
    u32::from(b)
}

/// Builds the Windows policy of a resolved profile.
pub fn build(state: &DesiredState) -> WindowsPolicy {
    build_from(state.profile.platform.build, state.settings())
}

/// Builds the Windows policy of some settings for an OS build (one setting, when validating).
pub fn build_from<'a>(build: u32, all: impl Iterator<Item = &'a DesiredSetting>) -> WindowsPolicy {
    let mut policy = WindowsPolicy {
        firewall_version: firewall::schema_version(build),
        ..WindowsPolicy::default()
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut settings: Vec<&DesiredSetting> = all
        .filter(|s| {
            s.min_build.is_none_or(|m| build >= m) && s.max_build.is_none_or(|m| build <= m)
        })
        // Several controls may ask for the same thing; it is written once.
        .filter(|s| seen.insert((s.target.clone(), s.kind.value_text())))
        .collect();
    settings.sort_by_key(|s| s.phase);
    let mut firewall_used = false;
    for s in settings {
        match &s.kind {
            SettingKind::Registry(r) => {
                let target = if r.hive == Hive::CurrentUser {
                    &mut policy.user
                } else {
                    &mut policy.machine
                };
                target.push(registry_entry(r));
            }
            SettingKind::RegistryList(l) => {
                let target = if l.hive == Hive::CurrentUser {
                    &mut policy.user
                } else {
                    &mut policy.machine
                };
                target.push(PolEntry::delete_values(&l.key));
                for (i, item) in l.items.iter().enumerate() {
                    target.push(PolEntry::new(
                        &l.key,
                        (i + 1).to_string(),
                        PolData::Sz(item.clone()),
                    ));
                }
            }
            SettingKind::FirewallProfile(p) => {
                firewall_used = true;
                let key = format!(
                    r"{FIREWALL}\{}",
                    match p.profile {
                        FirewallProfileName::Domain => "DomainProfile",
                        FirewallProfileName::Private => "PrivateProfile",
                        FirewallProfileName::Public => "PublicProfile",
                    }
                );
                let block = |a: FirewallAction| flag(a == FirewallAction::Block);
                policy
                    .machine
                    .push(dword(&key, "EnableFirewall", flag(p.enabled)));
                policy.machine.push(dword(
                    &key,
                    "DefaultInboundAction",
                    block(p.default_inbound),
                ));
                policy.machine.push(dword(
                    &key,
                    "DefaultOutboundAction",
                    block(p.default_outbound),
                ));
                policy.machine.push(dword(
                    &key,
                    "AllowLocalPolicyMerge",
                    flag(p.allow_local_rules),
                ));
                policy.machine.push(dword(
                    &key,
                    "AllowLocalIPsecPolicyMerge",
                    flag(p.allow_local_ipsec_rules),
                ));
                policy.machine.push(dword(
                    &key,
                    "DisableNotifications",
                    flag(p.notifications_off),
                ));
                if p.log_dropped {
                    let logging = format!(r"{key}\Logging");
                    policy.machine.push(dword(&logging, "LogDroppedPackets", 1));
                    policy.machine.push(dword(&logging, "LogFileSize", 16384));
                }
            }
            SettingKind::FirewallRule(r) => {
                firewall_used = true;
                policy.machine.push(PolEntry::new(
                    format!(r"{FIREWALL}\FirewallRules"),
                    &r.name,
                    PolData::Sz(firewall::rule_string(r, build)),
                ));
            }
            SettingKind::EventLog(e) => {
                policy.machine.push(dword(
                    &format!(r"{EVENT_LOG}\{}", e.log),
                    "MaxSize",
                    e.max_size_kb,
                ));
            }
            SettingKind::DeviceInstall(d) => device_install(d, &mut policy.machine),
            SettingKind::RemovableStorage(r) => removable_storage(r, &mut policy.machine),
            SettingKind::Bitlocker(b) => bitlocker(b, &mut policy.machine),
            // A rule that names a local account needs its SID, which only exists on the machine:
            // the whole collection then stays with Apply (Set-AppLockerPolicy), which resolves it.
            SettingKind::Applocker(a) if applocker_in_pol(a) => applocker(a, &mut policy.machine),
            SettingKind::SecurityOption(o) => {
                let value = match &o.value {
                    RegData::Number(n) => InfValue::Number(*n as i64),
                    RegData::Text(t) => InfValue::Text(t.clone()),
                    RegData::List(l) => InfValue::Text(l.join(",")),
                };
                policy.template.system_access.push((o.key.clone(), value));
            }
            SettingKind::UserRight(u)
                if u.mode == ListMode::Replace
                    && u.principals
                        .iter()
                        .all(|p| matches!(p, Principal::WellKnownSid { .. })) =>
            {
                let sids = u
                    .principals
                    .iter()
                    .map(|p| match p {
                        Principal::WellKnownSid { sid, .. } => format!("*{sid}"),
                        Principal::LocalAccount { name } => name.clone(),
                    })
                    .collect();
                policy
                    .template
                    .privilege_rights
                    .push((u.right.clone(), sids));
            }
            SettingKind::Service(svc) => {
                let mode = match svc.start {
                    StartMode::Automatic | StartMode::AutomaticDelayed => 2,
                    StartMode::Manual => 3,
                    StartMode::Disabled => 4,
                };
                policy.template.services.push(InfService {
                    name: svc.name.clone(),
                    mode,
                    sddl: String::new(),
                });
                if svc.start == StartMode::AutomaticDelayed {
                    policy.apply_only.push(s.clone());
                }
            }
            SettingKind::AuditSubcategory(a) => {
                let (inclusion, value) = match a.setting {
                    AuditSetting::None => ("No Auditing", 0),
                    AuditSetting::Success => ("Success", 1),
                    AuditSetting::Failure => ("Failure", 2),
                    AuditSetting::SuccessAndFailure => ("Success and Failure", 3),
                };
                policy.audit.push(AuditRow {
                    machine_name: String::new(),
                    policy_target: "System".into(),
                    subcategory: gpmc_audit_name(&a.name),
                    guid: a.guid.to_ascii_lowercase(),
                    inclusion: inclusion.into(),
                    exclusion: String::new(),
                    value: value.to_string(),
                });
            }
            _ => policy.apply_only.push(s.clone()),
        }
    }
    if firewall_used {
        policy
            .machine
            .insert(0, dword(FIREWALL, "PolicyVersion", policy.firewall_version));
    }
    policy
}

/// GPMC writes "Audit " before the auditpol name, with two names of its own.
fn gpmc_audit_name(name: &str) -> String {
    match name {
        "Plug and Play Events" => "Audit PNP Activity".into(),
        "Central Policy Staging" => "Audit Central Access Policy Staging".into(),
        // Even "Audit Policy Change" becomes "Audit Audit Policy Change", as GPMC writes it.
        n => format!("Audit {n}"),
    }
}

fn registry_entry(r: &Registry) -> PolEntry {
    if r.absent {
        return PolEntry::delete(&r.key, &r.value);
    }
    let data = match (r.reg_type, &r.data) {
        (Some(RegType::Dword), Some(RegData::Number(n))) => PolData::Dword(*n as u32),
        (Some(RegType::Qword), Some(RegData::Number(n))) => PolData::Qword(*n),
        (Some(RegType::Sz), Some(RegData::Text(t))) => PolData::Sz(t.clone()),
        (Some(RegType::ExpandSz), Some(RegData::Text(t))) => PolData::ExpandSz(t.clone()),
        (Some(RegType::MultiSz), Some(RegData::List(l))) => PolData::MultiSz(l.clone()),
        // The model validated type and data together; nothing else reaches here.
        _ => PolData::None,
    };
    PolEntry::new(&r.key, &r.value, data)
}

fn list(key: &str, flag_name: &str, items: &[String], out: &mut Vec<PolEntry>) {
    if items.is_empty() {
        return;
    }
    out.push(dword(DEVICE_INSTALL, flag_name, 1));
    let sub = format!(r"{key}\{flag_name}");
    out.push(PolEntry::delete_values(&sub));
    for (i, item) in items.iter().enumerate() {
        out.push(PolEntry::new(
            &sub,
            (i + 1).to_string(),
            PolData::Sz(item.clone()),
        ));
    }
}

fn device_install(d: &DeviceInstall, out: &mut Vec<PolEntry>) {
    if d.layered {
        out.push(dword(DEVICE_INSTALL, "AllowDenyLayered", 1));
    }
    if d.deny_unspecified {
        out.push(dword(DEVICE_INSTALL, "DenyUnspecified", 1));
    }
    if d.deny_removable {
        out.push(dword(DEVICE_INSTALL, "DenyRemovableDevices", 1));
    }
    list(DEVICE_INSTALL, "AllowDeviceIDs", &d.allow_device_ids, out);
    list(DEVICE_INSTALL, "AllowDeviceClasses", &d.allow_classes, out);
    list(DEVICE_INSTALL, "DenyDeviceClasses", &d.deny_classes, out);
}

fn removable_storage(r: &RemovableStorage, out: &mut Vec<PolEntry>) {
    let classes: &[&str] = match r.class {
        StorageClass::All if r.deny_read && r.deny_write => {
            out.push(dword(REMOVABLE, "Deny_All", 1));
            return;
        }
        // A partial denial for every class is written class by class.
        StorageClass::All => &[
            "{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}",
            "{53f56308-b6bf-11d0-94f2-00a0c91efb8b}",
            "{53f56311-b6bf-11d0-94f2-00a0c91efb8b}",
            "{53f5630b-b6bf-11d0-94f2-00a0c91efb8b}",
            "{6AC27878-A6FA-4155-BA85-F98F491D4F33}",
            "{F33FDC04-D1AC-4E8E-9A30-19BBD4B108AE}",
        ],
        StorageClass::RemovableDisk => &["{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}"],
        StorageClass::CdDvd => &["{53f56308-b6bf-11d0-94f2-00a0c91efb8b}"],
        StorageClass::Floppy => &["{53f56311-b6bf-11d0-94f2-00a0c91efb8b}"],
        StorageClass::Tape => &["{53f5630b-b6bf-11d0-94f2-00a0c91efb8b}"],
        // The ADMX writes both WPD keys; WPD has no execute denial.
        StorageClass::Wpd => &[
            "{6AC27878-A6FA-4155-BA85-F98F491D4F33}",
            "{F33FDC04-D1AC-4E8E-9A30-19BBD4B108AE}",
        ],
    };
    for class in classes {
        let key = format!(r"{REMOVABLE}\{class}");
        if r.deny_read {
            out.push(dword(&key, "Deny_Read", 1));
        }
        if r.deny_write {
            out.push(dword(&key, "Deny_Write", 1));
        }
        let wpd = class.starts_with("{6AC27878") || class.starts_with("{F33FDC04");
        if r.deny_execute && !wpd {
            out.push(dword(&key, "Deny_Execute", 1));
        }
    }
}

fn bitlocker(b: &Bitlocker, out: &mut Vec<PolEntry>) {
    out.push(dword(
        FVE,
        "EncryptionMethodWithXtsOs",
        match b.encryption_method {
            EncryptionMethod::XtsAes128 => 6,
            EncryptionMethod::XtsAes256 => 7,
        },
    ));
    // "Require additional authentication at startup": only one option may be required (1);
    // the others are not allowed (0).
    let (tpm, tpm_pin) = match b.os_protector {
        OsProtector::Tpm => (1, 0),
        OsProtector::TpmAndPin | OsProtector::NetworkUnlock => (0, 1),
    };
    out.push(dword(FVE, "UseAdvancedStartup", 1));
    out.push(dword(FVE, "EnableBDEWithNoTPM", 0));
    out.push(dword(FVE, "UseTPM", tpm));
    out.push(dword(FVE, "UseTPMPIN", tpm_pin));
    out.push(dword(FVE, "UseTPMKey", 0));
    out.push(dword(FVE, "UseTPMKeyPIN", 0));
}

fn collection_name(c: AppLockerCollection) -> &'static str {
    match c {
        AppLockerCollection::Exe => "Exe",
        AppLockerCollection::Dll => "Dll",
        AppLockerCollection::Script => "Script",
        AppLockerCollection::Msi => "Msi",
        AppLockerCollection::Appx => "Appx",
    }
}

/// Whether registry.pol can carry the collection: every principal is a well-known SID and every
/// text is a valid XML 1.0 character sequence.
fn applocker_in_pol(a: &AppLocker) -> bool {
    let xml_char = |c: char| {
        (c >= ' ' || matches!(c, '\t' | '\n' | '\r')) && !matches!(c, '\u{FFFE}' | '\u{FFFF}')
    };
    a.rules.iter().all(|r| {
        matches!(r.principal, Principal::WellKnownSid { .. })
            && [Some(&r.description), r.path.as_ref(), r.publisher.as_ref()]
                .into_iter()
                .flatten()
                .all(|t| t.chars().all(xml_char))
    })
}

/// `SrpV2\<Collection>`: `EnforcementMode` (0 AuditOnly, 1 Enabled), `AllowWindows` 0, and per
/// rule a subkey named by the rule id whose `Value` holds the rule XML
/// (windows-lockdown.md section 7).
fn applocker(a: &AppLocker, out: &mut Vec<PolEntry>) {
    let collection = collection_name(a.collection);
    let key = format!(r"{SRP_V2}\{collection}");
    let mode = match a.mode {
        EnforcementMode::AuditOnly => 0,
        EnforcementMode::Enforce => 1,
    };
    out.push(dword(&key, "EnforcementMode", mode));
    out.push(dword(&key, "AllowWindows", 0));
    for rule in &a.rules {
        let id = applocker_rule_id(collection, rule);
        out.push(PolEntry::new(
            format!(r"{key}\{id}"),
            "Value",
            PolData::Sz(applocker_rule_xml(&id, rule)),
        ));
    }
}

/// The rule id: UUID v5 of the collection and the rule's own fields, so the same rule has the
/// same id in every profile and on every run. Lower case without braces, as AppLocker writes it.
fn applocker_rule_id(collection: &str, rule: &AppLockerRule) -> String {
    let sid = match &rule.principal {
        Principal::WellKnownSid { sid, .. } => sid.as_str(),
        Principal::LocalAccount { name } => name.as_str(),
    };
    let action = match rule.action {
        FirewallAction::Allow => "Allow",
        FirewallAction::Block => "Deny",
    };
    let seed = [
        "applocker-rule",
        collection,
        action,
        sid,
        rule.path.as_deref().unwrap_or(""),
        rule.publisher.as_deref().unwrap_or(""),
        &rule.description,
    ]
    .join("\0");
    Uuid::new_v5(&NAMESPACE, seed.as_bytes())
        .hyphenated()
        .to_string()
}

/// An XML attribute value: the five markup characters and the white space that attribute-value
/// normalization would turn into spaces, as character references.
fn xml_attr(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
    out
}

/// One rule as AppLocker stores it under `SrpV2\<Collection>\<id>` `Value`.
fn applocker_rule_xml(id: &str, rule: &AppLockerRule) -> String {
    let sid = match &rule.principal {
        Principal::WellKnownSid { sid, .. } => sid.as_str(),
        Principal::LocalAccount { .. } => "",
    };
    let action = match rule.action {
        FirewallAction::Allow => "Allow",
        FirewallAction::Block => "Deny",
    };
    let (element, condition) = match (&rule.path, &rule.publisher) {
        (Some(path), _) => (
            "FilePathRule",
            format!(r#"<FilePathCondition Path="{}"/>"#, xml_attr(path)),
        ),
        (None, publisher) => (
            "FilePublisherRule",
            format!(
                r#"<FilePublisherCondition PublisherName="{}" ProductName="*" BinaryName="*"><BinaryVersionRange LowSection="*" HighSection="*"/></FilePublisherCondition>"#,
                xml_attr(publisher.as_deref().unwrap_or_default())
            ),
        ),
    };
    format!(
        r#"<{element} Id="{id}" Name="{name}" Description="{name}" UserOrGroupSid="{sid}" Action="{action}"><Conditions>{condition}</Conditions></{element}>"#,
        name = xml_attr(&rule.description),
        sid = xml_attr(sid),
    )
}

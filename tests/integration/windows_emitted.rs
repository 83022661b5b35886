//! The Windows files `hardbase build` writes, read back by Samba's parsers and compared with what
//! the profile asked for.
//!
//! The expected entries are computed here from the typed settings in `desired-state.json`, with
//! an oracle written from the Microsoft facts (../shared/reference/windows-formats.md sections a,
//! b, c and e; windows-lockdown.md sections 5 and 8), never by calling hardbase's policy code.
//! Hostile parameter values must be rejected at their line or come out of the files unchanged.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use hardbase::target::windows::registry_pol::{self, PolData, PolEntry};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Value};

use crate::util::{python_with, root, run, run_in, run_python, TempDir};

const SAMBA_MODULES: [&str; 4] = [
    "samba.ndr",
    "samba.dcerpc.preg",
    "samba.gp_parse.gp_inf",
    "samba.gp_parse.gp_csv",
];

/// Reads `KIND PATH` pairs (`pol`, `inf` or `csv`) with Samba and prints one JSON value per file.
const SAMBA_READ: &str = r#"
import json, sys
from samba.ndr import ndr_unpack
from samba.dcerpc import preg
from samba.gp_parse.gp_inf import GptTmplInfParser
from samba.gp_parse.gp_csv import GPAuditCsvParser

def pol(data):
    # Keep the unpacked file referenced while its entries are read: the entries live in its
    # memory, and entries of a collected temporary read back garbage (an empty value name).
    f = ndr_unpack(preg.file, data)
    out = []
    for e in f.entries:
        t, d = e.type, e.data
        if t == 0:
            v = None
        elif t in (1, 2, 4, 5, 11):
            v = d
        elif t == 7:
            s = bytes(d).decode('utf-16-le').rstrip('\0')
            v = s.split('\0') if s else []
        else:
            v = bytes(d).hex()
        out.append([e.keyname, e.valuename, t, v])
    return out

def inf(data):
    p = GptTmplInfParser()
    p.parse(data)
    out = {}
    for name, section in p.sections.items():
        if name in ('Unicode', 'Version'):
            continue
        rows = []
        for row in section.param_list:
            row = list(row)
            if name == 'Privilege Rights' and row[1] == ['']:
                row[1] = []
            rows.append(row)
        out[name] = rows
    return out

def csv(data):
    p = GPAuditCsvParser()
    p.parse(data)
    return {'header': p.header, 'rows': [dict(line) for line in p.lines]}

args = sys.argv[1:]
print(json.dumps([globals()[k](open(p, 'rb').read()) for k, p in zip(args[::2], args[1::2])]))
"#;

/// Python with Samba's parsers, looked up once (`None` outside CI when missing; panics in CI).
fn samba() -> Option<PathBuf> {
    static PYTHON: OnceLock<Option<PathBuf>> = OnceLock::new();
    PYTHON.get_or_init(|| python_with(&SAMBA_MODULES)).clone()
}

fn samba_read(python: &Path, files: &[(&str, &Path)]) -> Vec<Value> {
    let args: Vec<String> = files
        .iter()
        .flat_map(|(kind, path)| [kind.to_string(), path.display().to_string()])
        .collect();
    let out = run_python(python, SAMBA_READ, &args);
    serde_json::from_slice(&out).expect("the Samba dump is JSON")
}

// ---------------------------------------------------------------- the built folder

/// `DIR/<profile>/windows/gpo/{BackupId}/DomainSysvol/GPO`.
fn gpo_dir(profile_dir: &Path) -> PathBuf {
    let gpo = profile_dir.join("windows").join("gpo");
    let backups: Vec<PathBuf> = std::fs::read_dir(&gpo)
        .unwrap_or_else(|e| panic!("{}: {e}", gpo.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && p.file_name().unwrap().to_string_lossy().starts_with('{'))
        .collect();
    assert_eq!(
        backups.len(),
        1,
        "{}: one backup folder {{BackupId}} expected, found {backups:?}",
        gpo.display()
    );
    backups[0].join("DomainSysvol").join("GPO")
}

struct PolicyFiles {
    machine_pol: PathBuf,
    user_pol: PathBuf,
    gpttmpl: PathBuf,
    audit: PathBuf,
}

fn policy_files(profile_dir: &Path) -> PolicyFiles {
    let gpo = gpo_dir(profile_dir);
    let nt = gpo.join("Machine").join("microsoft").join("windows nt");
    PolicyFiles {
        machine_pol: gpo.join("Machine").join("registry.pol"),
        user_pol: gpo.join("User").join("registry.pol"),
        gpttmpl: nt.join("SecEdit").join("GptTmpl.inf"),
        audit: nt.join("Audit").join("audit.csv"),
    }
}

/// The resolved profile in `desired-state.json` (the document `check --format json` prints for
/// each profile; accepted with or without the `profiles` wrapper).
fn desired_state(profile_dir: &Path) -> Value {
    let path = profile_dir.join("desired-state.json");
    let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    match doc.get("profiles") {
        Some(profiles) => profiles[0].clone(),
        None => doc,
    }
}

// ---------------------------------------------------------------- the oracle

const REG_SZ: u32 = 1;
const REG_EXPAND_SZ: u32 = 2;
const REG_DWORD: u32 = 4;
const REG_MULTI_SZ: u32 = 7;
const REG_QWORD: u32 = 11;

const FIREWALL: &str = r"SOFTWARE\Policies\Microsoft\WindowsFirewall";
const EVENT_LOG: &str = r"SOFTWARE\Policies\Microsoft\Windows\EventLog";
const DEVICE_INSTALL: &str = r"SOFTWARE\Policies\Microsoft\Windows\DeviceInstall\Restrictions";
const REMOVABLE_STORAGE: &str = r"SOFTWARE\Policies\Microsoft\Windows\RemovableStorageDevices";
const FVE: &str = r"SOFTWARE\Policies\Microsoft\FVE";
const SUBSCRIPTION_MANAGER: &str =
    r"SOFTWARE\Policies\Microsoft\Windows\EventLog\EventForwarding\SubscriptionManager";

/// The spec header of audit.csv (MS-GPAC 2.2).
const AUDIT_HEADER: [&str; 7] = [
    "Machine Name",
    "Policy Target",
    "Subcategory",
    "Subcategory GUID",
    "Inclusion Setting",
    "Exclusion Setting",
    "Setting Value",
];

/// Kinds that no registry.pol, GptTmpl.inf or audit.csv carries: Apply makes them.
const APPLY_ONLY_KINDS: [&str; 7] = [
    "optional_feature",
    "local_account",
    "wdac_policy",
    "boot_setting",
    "kiosk_shell",
    "keyboard_filter",
    "write_filter",
];

/// One registry.pol instruction the profile asks for.
#[derive(Clone, Debug)]
struct Want {
    key: String,
    value: String,
    ty: u32,
    data: WantData,
}

#[derive(Clone, Debug)]
enum WantData {
    Exact(Value),
    /// The REG_SZ rule string (MS-GPFAS 2.2.2.19) of this `firewall_rule` setting.
    Rule(Value),
    /// The AppLocker rule XML of this rule, in a subkey named by its lower-case GUID, which
    /// is also the rule's `Id` (`key` is the collection key).
    AppLockerRule(Value),
}

/// What the profile asks each file to hold.
#[derive(Default)]
struct Expected {
    build: u32,
    machine: Vec<Want>,
    user: Vec<Want>,
    system_access: Vec<Value>,
    privilege_rights: Vec<Value>,
    services: Vec<Value>,
    /// audit.csv rows without the (informational) subcategory name.
    audit: Vec<Value>,
}

fn text<'a>(v: &'a Value, field: &str) -> &'a str {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("`{field}` is not a string in {v}"))
}

fn number(v: &Value, field: &str) -> u64 {
    v[field]
        .as_u64()
        .unwrap_or_else(|| panic!("`{field}` is not a number in {v}"))
}

fn flag(v: &Value, field: &str, default: bool) -> bool {
    v.get(field).and_then(Value::as_bool).unwrap_or(default)
}

fn list<'a>(v: &'a Value, field: &str) -> Vec<&'a Value> {
    v.get(field)
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn strings(v: &Value, field: &str) -> Vec<String> {
    list(v, field)
        .into_iter()
        .map(|x| x.as_str().expect("a string item").to_string())
        .collect()
}

fn exact(key: &str, value: &str, ty: u32, data: Value) -> Want {
    Want {
        key: key.to_string(),
        value: value.to_string(),
        ty,
        data: WantData::Exact(data),
    }
}

fn dword(key: &str, value: &str, data: u64) -> Want {
    exact(key, value, REG_DWORD, json!(data))
}

fn sz(key: &str, value: &str, data: &str) -> Want {
    exact(key, value, REG_SZ, json!(data))
}

/// A `**del.`/`**delvals.` directive: REG_SZ whose data MUST be a space (MS-GPREG 3.2.5.1).
fn directive(key: &str, name: &str) -> Want {
    sz(key, name, " ")
}

/// A list policy (ADMX `<list>`, not additive): `**delvals.` then values `1`…`n`, REG_SZ.
fn numbered_list(key: &str, items: &[String], out: &mut Vec<Want>) {
    out.push(directive(key, "**delvals."));
    for (i, item) in items.iter().enumerate() {
        out.push(sz(key, &(i + 1).to_string(), item));
    }
}

fn registry_data(ty: &str, data: &Value) -> (u32, Value) {
    let code = match ty {
        "REG_SZ" => REG_SZ,
        "REG_EXPAND_SZ" => REG_EXPAND_SZ,
        "REG_DWORD" => REG_DWORD,
        "REG_QWORD" => REG_QWORD,
        "REG_MULTI_SZ" => REG_MULTI_SZ,
        other => panic!("the oracle does not know registry type {other}"),
    };
    (code, data.clone())
}

/// Storage interface GUIDs of the per-class RemovableStorage policies; WPD writes both keys.
fn storage_classes(class: &str) -> &'static [&'static str] {
    match class {
        "removable-disk" => &["{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}"],
        "cd-dvd" => &["{53f56308-b6bf-11d0-94f2-00a0c91efb8b}"],
        "floppy" => &["{53f56311-b6bf-11d0-94f2-00a0c91efb8b}"],
        "tape" => &["{53f5630b-b6bf-11d0-94f2-00a0c91efb8b}"],
        "wpd" => &[
            "{6AC27878-A6FA-4155-BA85-F98F491D4F33}",
            "{F33FDC04-D1AC-4E8E-9A30-19BBD4B108AE}",
        ],
        other => panic!("the oracle does not know storage class {other}"),
    }
}

fn removable_storage(v: &Value, out: &mut Vec<Want>) {
    let class = text(v, "class");
    let (read, write, execute) = (
        flag(v, "deny_read", false),
        flag(v, "deny_write", false),
        flag(v, "deny_execute", false),
    );
    if class == "all" && read && write {
        // "All Removable Storage classes: Deny all access", above every per-class value.
        out.push(dword(REMOVABLE_STORAGE, "Deny_All", 1));
        return;
    }
    let classes: Vec<&str> = if class == "all" {
        vec!["removable-disk", "cd-dvd", "floppy", "tape", "wpd"]
    } else {
        vec![class]
    };
    for class in classes {
        for guid in storage_classes(class) {
            let key = format!(r"{REMOVABLE_STORAGE}\{guid}");
            if read {
                out.push(dword(&key, "Deny_Read", 1));
            }
            if write {
                out.push(dword(&key, "Deny_Write", 1));
            }
            // Execute denial exists for the disk classes only.
            if execute && class != "wpd" {
                out.push(dword(&key, "Deny_Execute", 1));
            }
        }
    }
}

fn device_install(v: &Value, out: &mut Vec<Want>) {
    for (field, name) in [
        ("layered", "AllowDenyLayered"),
        ("deny_unspecified", "DenyUnspecified"),
        ("deny_removable", "DenyRemovableDevices"),
    ] {
        if flag(v, field, false) {
            out.push(dword(DEVICE_INSTALL, name, 1));
        }
    }
    for (field, name) in [
        ("allow_device_ids", "AllowDeviceIDs"),
        ("allow_classes", "AllowDeviceClasses"),
        ("deny_classes", "DenyDeviceClasses"),
    ] {
        let items = strings(v, field);
        if !items.is_empty() {
            out.push(dword(DEVICE_INSTALL, name, 1));
            numbered_list(&format!(r"{DEVICE_INSTALL}\{name}"), &items, out);
        }
    }
}

fn bitlocker(v: &Value, out: &mut Vec<Want>) {
    let method = match text(v, "encryption_method") {
        "xts-aes-128" => 6,
        "xts-aes-256" => 7,
        other => panic!("the oracle does not know encryption method {other}"),
    };
    out.push(dword(FVE, "EncryptionMethodWithXtsOs", method));
    // "Require additional authentication at startup": 1 = require, 0 = do not allow; only one
    // option may be required. Network Unlock stands in for the PIN of a TPM+PIN protector.
    let (tpm, tpm_pin) = match text(v, "os_protector") {
        "tpm" => (1, 0),
        "tpm-and-pin" | "network-unlock" => (0, 1),
        other => panic!("the oracle does not know protector {other}"),
    };
    out.push(dword(FVE, "UseAdvancedStartup", 1));
    out.push(dword(FVE, "EnableBDEWithNoTPM", 0));
    out.push(dword(FVE, "UseTPM", tpm));
    out.push(dword(FVE, "UseTPMPIN", tpm_pin));
    out.push(dword(FVE, "UseTPMKey", 0));
    out.push(dword(FVE, "UseTPMKeyPIN", 0));
}

fn firewall_profile(v: &Value, out: &mut Vec<Want>) {
    let profile = match text(v, "profile") {
        "domain" => "DomainProfile",
        "private" => "PrivateProfile",
        "public" => "PublicProfile",
        other => panic!("the oracle does not know firewall profile {other}"),
    };
    let key = format!(r"{FIREWALL}\{profile}");
    // DefaultInboundAction / DefaultOutboundAction: 0 = allow, 1 = block.
    let block = |field: &str| u64::from(text(v, field) == "block");
    let on = |field: &str, default: bool| u64::from(flag(v, field, default));
    out.push(dword(&key, "EnableFirewall", on("enabled", false)));
    out.push(dword(
        &key,
        "DefaultInboundAction",
        block("default_inbound"),
    ));
    out.push(dword(
        &key,
        "DefaultOutboundAction",
        block("default_outbound"),
    ));
    out.push(dword(
        &key,
        "AllowLocalPolicyMerge",
        on("allow_local_rules", false),
    ));
    out.push(dword(
        &key,
        "AllowLocalIPsecPolicyMerge",
        on("allow_local_ipsec_rules", false),
    ));
    out.push(dword(
        &key,
        "DisableNotifications",
        on("notifications_off", true),
    ));
    if flag(v, "log_dropped", false) {
        let logging = format!(r"{key}\Logging");
        out.push(dword(&logging, "LogDroppedPackets", 1));
        out.push(dword(&logging, "LogFileSize", 16384));
    }
}

/// AppLocker in registry.pol (windows-lockdown.md section 7): `SrpV2\<Collection>` with
/// `EnforcementMode` (0 AuditOnly, 1 Enabled) and `AllowWindows` 0, and per rule a subkey named
/// by the rule id whose `Value` is the rule XML.
fn applocker(v: &Value, out: &mut Vec<Want>) {
    let collection = match text(v, "collection") {
        "exe" => "Exe",
        "dll" => "Dll",
        "script" => "Script",
        "msi" => "Msi",
        "appx" => "Appx",
        other => panic!("the oracle does not know AppLocker collection {other}"),
    };
    let key = format!(r"Software\Policies\Microsoft\Windows\SrpV2\{collection}");
    let mode = match text(v, "mode") {
        "audit_only" => 0,
        "enforce" => 1,
        other => panic!("the oracle does not know AppLocker mode {other}"),
    };
    out.push(dword(&key, "EnforcementMode", mode));
    out.push(dword(&key, "AllowWindows", 0));
    for rule in list(v, "rules") {
        out.push(Want {
            key: key.clone(),
            value: "Value".into(),
            ty: REG_SZ,
            data: WantData::AppLockerRule(rule.clone()),
        });
    }
}

/// XML attribute text: markup characters and attribute white space as references.
fn xml_attribute(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
        .replace('\t', "&#9;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
}

/// The rule XML AppLocker stores for `rule` under the id `id`.
fn applocker_rule_xml(id: &str, rule: &Value) -> String {
    let name = xml_attribute(text(rule, "description"));
    let sid = text(&rule["principal"], "sid");
    let action = if text(rule, "action") == "allow" {
        "Allow"
    } else {
        "Deny"
    };
    let (element, condition) = match rule.get("path").and_then(Value::as_str) {
        Some(path) => (
            "FilePathRule",
            format!(r#"<FilePathCondition Path="{}"/>"#, xml_attribute(path)),
        ),
        None => (
            "FilePublisherRule",
            format!(
                r#"<FilePublisherCondition PublisherName="{}" ProductName="*" BinaryName="*"><BinaryVersionRange LowSection="*" HighSection="*"/></FilePublisherCondition>"#,
                xml_attribute(text(rule, "publisher"))
            ),
        ),
    };
    format!(
        r#"<{element} Id="{id}" Name="{name}" Description="{name}" UserOrGroupSid="{sid}" Action="{action}"><Conditions>{condition}</Conditions></{element}>"#
    )
}

/// The rule id in `<collection key>\<id>`: a lower-case GUID without braces.
fn applocker_rule_id<'a>(collection_key: &str, key: &'a str) -> Option<&'a str> {
    let id = key
        .get(..collection_key.len())
        .filter(|k| k.eq_ignore_ascii_case(collection_key))
        .and_then(|_| key[collection_key.len()..].strip_prefix('\\'))?;
    let shape = id.len() == 36
        && id.char_indices().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_digit() || ('a'..='f').contains(&c)
            }
        });
    shape.then_some(id)
}

/// The firewall schema version for a build: 0x021E (v2.30) from 1903 (18362), else 0x021D.
fn firewall_version(build: u32) -> u64 {
    if build >= 18362 {
        0x021E
    } else {
        0x021D
    }
}

fn expected(state: &Value) -> Expected {
    let build = number(&state["platform"], "build") as u32;
    let mut e = Expected {
        build,
        ..Expected::default()
    };
    let mut seen = BTreeSet::new();
    let mut firewall = false;
    for control in state["controls"].as_array().expect("controls") {
        for setting in control["settings"].as_array().expect("settings") {
            let applies = setting["min_build"]
                .as_u64()
                .is_none_or(|m| u64::from(build) >= m)
                && setting["max_build"]
                    .as_u64()
                    .is_none_or(|m| u64::from(build) <= m);
            let v = &setting["value"];
            // The same setting from several controls is one instruction.
            if !applies || !seen.insert(v.to_string()) {
                continue;
            }
            let user = v.get("hive").and_then(Value::as_str) == Some("HKCU");
            let kind = text(setting, "kind");
            match kind {
                "registry" => {
                    let (key, name) = (text(v, "key"), text(v, "value"));
                    let want = if flag(v, "absent", false) {
                        directive(key, &format!("**del.{name}"))
                    } else {
                        let (ty, data) = registry_data(text(v, "type"), &v["data"]);
                        exact(key, name, ty, data)
                    };
                    if user {
                        e.user.push(want);
                    } else {
                        e.machine.push(want);
                    }
                }
                "registry_list" => {
                    let side = if user { &mut e.user } else { &mut e.machine };
                    numbered_list(text(v, "key"), &strings(v, "items"), side);
                }
                "firewall_profile" => {
                    firewall = true;
                    firewall_profile(v, &mut e.machine);
                }
                "firewall_rule" => {
                    firewall = true;
                    e.machine.push(Want {
                        key: format!(r"{FIREWALL}\FirewallRules"),
                        value: text(v, "name").to_string(),
                        ty: REG_SZ,
                        data: WantData::Rule(v.clone()),
                    });
                }
                "event_log" => e.machine.push(dword(
                    &format!(r"{EVENT_LOG}\{}", text(v, "log")),
                    "MaxSize",
                    number(v, "max_size_kb"),
                )),
                "device_install" => device_install(v, &mut e.machine),
                // A rule naming a local account needs its SID: Apply sets that collection.
                "applocker"
                    if list(v, "rules")
                        .iter()
                        .all(|r| r["principal"]["type"] == "well-known-sid") =>
                {
                    applocker(v, &mut e.machine)
                }
                "applocker" => {}
                "removable_storage" => removable_storage(v, &mut e.machine),
                "bitlocker" => bitlocker(v, &mut e.machine),
                "security_option" => {
                    let value = match &v["value"] {
                        Value::Number(n) => n.to_string(),
                        Value::String(s) => format!("\"{s}\""),
                        other => panic!("the oracle does not know security option value {other}"),
                    };
                    e.system_access.push(json!([text(v, "key"), value]));
                }
                "user_right" => {
                    let principals = list(v, "principals");
                    let well_known = principals
                        .iter()
                        .all(|p| p["type"].as_str() == Some("well-known-sid"));
                    // Only a complete list of SIDs that exist on every machine can be written;
                    // additions and local accounts are Apply's.
                    if text(v, "mode") == "replace" && well_known {
                        let sids: Vec<String> = principals
                            .iter()
                            .map(|p| format!("*{}", text(p, "sid")))
                            .collect();
                        e.privilege_rights.push(json!([text(v, "right"), sids]));
                    }
                }
                "service" => {
                    let mode = match text(v, "start") {
                        "automatic" | "automatic_delayed" => 2,
                        "manual" => 3,
                        "disabled" => 4,
                        other => panic!("the oracle does not know start mode {other}"),
                    };
                    e.services
                        .push(json!([text(v, "name"), mode.to_string(), ""]));
                }
                "audit_subcategory" => {
                    let (inclusion, value) = match text(v, "setting") {
                        "success" => ("Success", 1),
                        "failure" => ("Failure", 2),
                        "success_and_failure" => ("Success and Failure", 3),
                        "none" => ("No Auditing", 0),
                        other => panic!("the oracle does not know audit setting {other}"),
                    };
                    e.audit.push(json!({
                        "Machine Name": "",
                        "Policy Target": "System",
                        "Subcategory GUID": text(v, "guid").to_ascii_lowercase(),
                        "Inclusion Setting": inclusion,
                        "Exclusion Setting": "",
                        "Setting Value": value.to_string(),
                    }));
                }
                k if APPLY_ONLY_KINDS.contains(&k) => {}
                other => panic!(
                    "the oracle does not know setting kind `{other}`; teach it which file carries it"
                ),
            }
        }
    }
    if firewall {
        e.machine
            .push(dword(FIREWALL, "PolicyVersion", firewall_version(build)));
    }
    e
}

/// What is wrong with a firewall rule string, against the rule setting (empty when right).
///
/// `v<major>.<minor>|` for the build, `|` at the end, and exactly the tokens the rule asks for:
/// Action, Active=TRUE (absent means inactive), Dir, Protocol, ports (only with TCP/UDP), ICMP
/// types, every remote address as RA4/RA6, App, Svc and Name. Only `Desc` may be added.
fn rule_problems(rule: &Value, build: u32, rule_text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let version = firewall_version(build);
    let prefix = format!("v{}.{}|", version >> 8, version & 0xFF);
    if !rule_text.starts_with(&prefix) {
        problems.push(format!("does not start with `{prefix}`"));
    }
    let Some(body) = rule_text.strip_suffix('|') else {
        problems.push("does not end with `|`".into());
        return problems;
    };
    let mut want = vec![
        format!(
            "Action={}",
            if text(rule, "action") == "allow" {
                "Allow"
            } else {
                "Block"
            }
        ),
        "Active=TRUE".to_string(),
        format!(
            "Dir={}",
            if text(rule, "direction") == "inbound" {
                "In"
            } else {
                "Out"
            }
        ),
    ];
    match text(rule, "protocol") {
        "tcp" => want.push("Protocol=6".into()),
        "udp" => want.push("Protocol=17".into()),
        "icmpv4" => want.push("Protocol=1".into()),
        "icmpv6" => want.push("Protocol=58".into()),
        "any" => {}
        other => panic!("the oracle does not know protocol {other}"),
    }
    for p in list(rule, "local_ports") {
        want.push(format!("LPort={p}"));
    }
    for p in list(rule, "remote_ports") {
        want.push(format!("RPort={p}"));
    }
    let icmp = if text(rule, "protocol") == "icmpv6" {
        "ICMP6"
    } else {
        "ICMP4"
    };
    for t in list(rule, "icmp_types") {
        want.push(format!("{icmp}={t}:*"));
    }
    for a in strings(rule, "remote_addresses") {
        let token = if a.contains(':') { "RA6" } else { "RA4" };
        want.push(format!("{token}={a}"));
    }
    if let Some(app) = rule.get("program").and_then(Value::as_str) {
        want.push(format!("App={app}"));
    }
    if let Some(svc) = rule.get("service").and_then(Value::as_str) {
        want.push(format!("Svc={svc}"));
    }
    want.push(format!("Name={}", text(rule, "name")));
    let mut have: Vec<String> = body
        .split('|')
        .skip(1)
        .filter(|t| !t.starts_with("Desc="))
        .map(str::to_string)
        .collect();
    want.sort();
    have.sort();
    let (missing, extra) = multiset_diff(&want, &have);
    if !missing.is_empty() {
        problems.push(format!("lacks the tokens {missing:?}"));
    }
    if !extra.is_empty() {
        problems.push(format!("has tokens the rule did not ask for: {extra:?}"));
    }
    problems
}

/// Items of `want` not in `got`, and items of `got` not in `want`, counting repeats.
fn multiset_diff<T: Ord + Clone>(want: &[T], got: &[T]) -> (Vec<T>, Vec<T>) {
    let mut rest: Vec<Option<&T>> = got.iter().map(Some).collect();
    let mut missing = Vec::new();
    for w in want {
        match rest.iter_mut().find(|g| g.is_some_and(|g| g == w)) {
            Some(slot) => *slot = None,
            None => missing.push(w.clone()),
        }
    }
    (missing, rest.into_iter().flatten().cloned().collect())
}

fn json_diff(want: &[Value], got: &[Value]) -> (Vec<String>, Vec<String>) {
    let strings = |v: &[Value]| v.iter().map(Value::to_string).collect::<Vec<_>>();
    multiset_diff(&strings(want), &strings(got))
}

/// Value names compare exactly, except the `**` directives, whose names are case-insensitive.
fn same_value_name(a: &str, b: &str) -> bool {
    if a.starts_with("**") {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

impl Want {
    fn matches(&self, build: u32, got: &Value) -> bool {
        let (key, value, ty, data) = (
            got[0].as_str().unwrap_or_default(),
            got[1].as_str().unwrap_or_default(),
            got[2].as_u64().unwrap_or_default(),
            &got[3],
        );
        if let WantData::AppLockerRule(rule) = &self.data {
            return applocker_rule_id(&self.key, key).is_some_and(|id| {
                value == self.value
                    && u64::from(self.ty) == ty
                    && data.as_str() == Some(applocker_rule_xml(id, rule).as_str())
            });
        }
        self.key.eq_ignore_ascii_case(key)
            && same_value_name(&self.value, value)
            && u64::from(self.ty) == ty
            && match &self.data {
                WantData::Exact(want) => want == data,
                WantData::Rule(rule) => data
                    .as_str()
                    .is_some_and(|t| rule_problems(rule, build, t).is_empty()),
                WantData::AppLockerRule(_) => false,
            }
    }

    fn describe(&self, build: u32, got: &[Value]) -> String {
        match &self.data {
            WantData::Exact(data) => {
                format!(
                    "[{} ; {} ; type {} ; {data}]",
                    self.key, self.value, self.ty
                )
            }
            WantData::Rule(rule) => {
                let found = got.iter().find(|g| {
                    g[0].as_str()
                        .is_some_and(|k| k.eq_ignore_ascii_case(&self.key))
                        && g[1].as_str() == Some(self.value.as_str())
                });
                let why = match found.and_then(|g| g[3].as_str()) {
                    Some(t) => format!("{:?} in {t:?}", rule_problems(rule, build, t)),
                    None => "no such value".to_string(),
                };
                format!(
                    "[{} ; {} ; REG_SZ firewall rule string]: {why}",
                    self.key, self.value
                )
            }
            WantData::AppLockerRule(rule) => format!(
                "[{}\\<rule GUID> ; Value ; REG_SZ {}]",
                self.key,
                applocker_rule_xml("<rule GUID>", rule)
            ),
        }
    }
}

/// Missing and extra instructions of a registry.pol, as Samba read it.
fn pol_diff(build: u32, want: &[Want], got: &[Value]) -> (Vec<String>, Vec<String>) {
    let mut rest: Vec<Option<&Want>> = want.iter().map(Some).collect();
    let mut extra = Vec::new();
    for g in got {
        match rest
            .iter_mut()
            .find(|w| w.is_some_and(|w| w.matches(build, g)))
        {
            Some(slot) => *slot = None,
            None => extra.push(g.to_string()),
        }
    }
    let missing = rest
        .into_iter()
        .flatten()
        .map(|w| w.describe(build, got))
        .collect();
    (missing, extra)
}

/// `**delvals.`, `**del.` and any other directive kind, by the name's prefix.
fn directive_kind(name: &str) -> Option<String> {
    let rest = name.strip_prefix("**")?;
    let kind = match rest.find('.') {
        Some(i) => &rest[..=i],
        None => rest,
    };
    Some(format!("**{}", kind.to_ascii_lowercase()))
}

fn directive_counts<'a>(names: impl Iterator<Item = &'a str>) -> Vec<(String, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for kind in names.filter_map(directive_kind) {
        *counts.entry(kind).or_insert(0) += 1;
    }
    counts.into_iter().collect()
}

// ---------------------------------------------------------------- 1. the examples

/// The Windows profiles among the examples.
const WINDOWS_EXAMPLES: [&str; 4] = [
    "examples/regional-bank/branch-atm-shinjuku.toml",
    "examples/regional-bank/branch-atm-umeda.toml",
    "examples/regional-bank/monitoring-wec.toml",
    "examples/regional-bank/relay-windows.toml",
];

#[test]
fn samba_reads_exactly_what_the_profile_asked_for() {
    // Every example profile whose platform is Windows is checked here (layers are not profiles).
    let check = run(&["check", "examples/regional-bank", "--format", "json"]);
    assert_eq!(check.status, 0, "{}", check.stderr);
    let check: Value = serde_json::from_str(&check.stdout).unwrap();
    let mut windows: Vec<String> = check["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["platform"]["family"] == "windows")
        .map(|p| {
            p["layers"]
                .as_array()
                .unwrap()
                .last()
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    windows.sort();
    let mut listed = WINDOWS_EXAMPLES.to_vec();
    listed.sort();
    assert_eq!(
        windows, listed,
        "the Windows examples changed; list them here"
    );

    let tmp = TempDir::new("windows-emitted-examples");
    let out = tmp.path().join("dist");
    let out_arg = out.display().to_string();
    let mut args = vec!["build"];
    args.extend(WINDOWS_EXAMPLES);
    args.extend(["--out", &out_arg]);
    let r = run(&args);
    assert_eq!(r.status, 0, "build failed:\n{}", r.stderr);
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    assert_eq!(folders.len(), WINDOWS_EXAMPLES.len(), "{folders:?}");

    let Some(python) = samba() else { return };
    let mut directives_seen = BTreeSet::new();
    for folder in &folders {
        let name = folder.file_name().unwrap().to_string_lossy().to_string();
        let state = desired_state(folder);
        assert_eq!(state["platform"]["family"], "windows", "{name}");
        let want = expected(&state);
        assert!(
            !want.machine.is_empty(),
            "{name}: the oracle expects nothing"
        );
        let files = policy_files(folder);
        assert!(
            files.machine_pol.is_file(),
            "{name}: no Machine registry.pol"
        );
        let present: Vec<(&str, &Path)> = [
            ("pol", files.machine_pol.as_path()),
            ("pol", files.user_pol.as_path()),
            ("inf", files.gpttmpl.as_path()),
            ("csv", files.audit.as_path()),
        ]
        .into_iter()
        .filter(|(_, p)| p.is_file())
        .collect();
        let read = samba_read(&python, &present);
        let read_of = |path: &Path| {
            present
                .iter()
                .position(|(_, p)| *p == path)
                .map(|i| read[i].clone())
        };

        // registry.pol, Machine and User.
        for (side, path, wants) in [
            ("Machine", &files.machine_pol, &want.machine),
            ("User", &files.user_pol, &want.user),
        ] {
            let got: Vec<Value> = read_of(path)
                .map(|v| v.as_array().unwrap().clone())
                .unwrap_or_default();
            let (missing, extra) = pol_diff(want.build, wants, &got);
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{name}: {side} registry.pol as Samba reads it differs from what the profile asks for\n\
                 missing ({}):\n  {}\nextra ({}):\n  {}",
                missing.len(),
                missing.join("\n  "),
                extra.len(),
                extra.join("\n  ")
            );
            let wanted = directive_counts(wants.iter().map(|w| w.value.as_str()));
            let found = directive_counts(got.iter().map(|g| g[1].as_str().unwrap_or_default()));
            for (kind, count) in &wanted {
                let read = found.iter().find(|(k, _)| k == kind).map_or(0, |(_, n)| *n);
                assert_eq!(
                    read, *count,
                    "{name}: Samba read {read} `{kind}` directives in the {side} registry.pol, the profile asks for {count}"
                );
                directives_seen.insert(kind.clone());
            }
            eprintln!(
                "{name}: {side} registry.pol: {} entries as asked, directives {found:?}",
                got.len()
            );
        }

        // GptTmpl.inf: [System Access], [Privilege Rights], [Service General Setting], nothing else.
        let inf = read_of(&files.gpttmpl).unwrap_or_else(|| json!({}));
        let sections = inf.as_object().unwrap();
        for (section, wants) in [
            ("System Access", &want.system_access),
            ("Privilege Rights", &want.privilege_rights),
            ("Service General Setting", &want.services),
        ] {
            let got = sections
                .get(section)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let (missing, extra) = json_diff(wants, &got);
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{name}: GptTmpl.inf [{section}] as Samba reads it differs\nmissing: {missing:#?}\nextra: {extra:#?}"
            );
        }
        for (section, rows) in sections {
            let known = [
                "System Access",
                "Privilege Rights",
                "Service General Setting",
            ];
            assert!(
                known.contains(&section.as_str()) || rows.as_array().is_none_or(|r| r.is_empty()),
                "{name}: GptTmpl.inf has [{section}] entries the profile did not ask for: {rows}"
            );
        }

        // audit.csv: one System row per subcategory, by lower-case GUID and setting value.
        let csv = read_of(&files.audit);
        let rows: Vec<Value> = match &csv {
            Some(csv) => {
                assert_eq!(
                    csv["header"],
                    json!(AUDIT_HEADER),
                    "{name}: audit.csv header"
                );
                csv["rows"].as_array().unwrap().clone()
            }
            None => Vec::new(),
        };
        let rows: Vec<Value> = rows
            .into_iter()
            .map(|mut row| {
                let sub = row
                    .as_object_mut()
                    .unwrap()
                    .remove("Subcategory")
                    .unwrap_or_default();
                assert!(
                    sub.as_str().is_some_and(|s| s.starts_with("Audit ")),
                    "{name}: audit.csv subcategory {sub} is not a GPMC name"
                );
                row
            })
            .collect();
        let (missing, extra) = json_diff(&want.audit, &rows);
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{name}: audit.csv as Samba reads it differs\nmissing: {missing:#?}\nextra: {extra:#?}"
        );
        eprintln!(
            "{name}: GptTmpl.inf {} + {} + {} entries, audit.csv {} rows, as asked",
            want.system_access.len(),
            want.privilege_rights.len(),
            want.services.len(),
            want.audit.len()
        );
    }
    for kind in ["**delvals.", "**del."] {
        assert!(
            directives_seen.contains(kind),
            "no example asks for a `{kind}` directive, so Samba's reading of it is untested"
        );
    }
}

// ---------------------------------------------------------------- 2. hostile values

/// Every quote kind, PowerShell and INF metacharacters, the rule-string separator, line breaks,
/// NUL, a character outside the BMP, Japanese and spaces.
const HOSTILE: [&str; 27] = [
    "'",
    "\"",
    "‘",
    "’",
    "‚",
    "‛",
    "“",
    "”",
    "$(",
    ")",
    "`",
    "'@",
    "@'",
    "]",
    "[",
    "|",
    ";",
    "=",
    "%",
    "\\",
    "\r",
    "\n",
    "\0",
    "😀",
    "日本語",
    " ",
    "  ",
];

fn hostile() -> impl Strategy<Value = String> {
    let printable: Vec<&str> = HOSTILE
        .iter()
        .copied()
        .filter(|s| !s.chars().any(char::is_control))
        .collect();
    prop_oneof![
        2 => proptest::collection::vec(proptest::sample::select(printable), 1..8)
            .prop_map(|v| v.concat()),
        1 => proptest::collection::vec(proptest::sample::select(HOSTILE.to_vec()), 1..8)
            .prop_map(|v| v.concat()),
    ]
}

fn hostile_app_path() -> impl Strategy<Value = String> {
    prop_oneof![
        hostile(),
        hostile().prop_map(|s| format!(r"C:\ATMApp{s}\bin\atmapp.exe")),
    ]
}

fn hostile_wef() -> impl Strategy<Value = String> {
    prop_oneof![
        hostile(),
        hostile().prop_map(|s| format!(
            "Server=https://wec.example-bank.internal:5986/wsman/SubscriptionManager/WEC{s},Refresh=60"
        )),
    ]
}

const HOST_RULE: &str = "HB-ATM-HOST-OUT";

fn firewall_rule_text(entries: &[PolEntry], name: &str) -> Option<String> {
    entries.iter().find_map(|e| {
        let key = format!(r"{FIREWALL}\FirewallRules");
        match &e.data {
            PolData::Sz(s) if e.key.eq_ignore_ascii_case(&key) && e.value == name => {
                Some(s.clone())
            }
            _ => None,
        }
    })
}

/// The tokens of the example ATM's host rule, as built from the unchanged example.
fn baseline_host_rule() -> &'static [String] {
    static TOKENS: OnceLock<Vec<String>> = OnceLock::new();
    TOKENS.get_or_init(|| {
        let tmp = TempDir::new("windows-emitted-baseline");
        let out = tmp.path().join("out").display().to_string();
        let r = run(&["build", WINDOWS_EXAMPLES[0], "--out", &out]);
        assert_eq!(r.status, 0, "{}", r.stderr);
        let files = policy_files(&tmp.path().join("out").join("branch-atm-shinjuku"));
        let entries = registry_pol::parse(&std::fs::read(files.machine_pol).unwrap()).unwrap();
        let rule = firewall_rule_text(&entries, HOST_RULE).expect("the example has the host rule");
        let tokens: Vec<String> = rule.split('|').map(str::to_string).collect();
        assert_eq!(
            tokens.iter().filter(|t| t.starts_with("App=")).count(),
            1,
            "{rule}"
        );
        tokens
    })
}

/// The primary `-->` location of each `error[` diagnostic in check's text output.
fn error_locations(stderr: &str) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    let mut open = false;
    for line in stderr.lines() {
        if line.starts_with("error[") {
            out.push((line.to_string(), None));
            open = true;
        } else if line.starts_with("error") || line.starts_with("warning") {
            open = false;
        } else if let Some(location) = line.trim_start().strip_prefix("--> ") {
            if open {
                let last = out.last_mut().unwrap();
                if last.1.is_none() {
                    last.1 = Some(location.to_string());
                }
            }
        }
    }
    out
}

fn line_of(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(&format!("{key} =")))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("`{key}` is not in\n{text}"))
}

/// One profile that extends the example ATM with these two values: rejected at their line, or
/// built so that both parsers read them back unchanged.
fn hostile_case(wef: &str, app: &str) -> Result<(), TestCaseError> {
    let tmp = TempDir::new("windows-emitted-hostile");
    let parent = root().join(WINDOWS_EXAMPLES[0]);
    let mut profile = toml::Table::new();
    profile.insert("name".into(), "hostile-atm".into());
    profile.insert(
        "extends".into(),
        toml::Value::Array(vec![parent.display().to_string().into()]),
    );
    let mut params = toml::Table::new();
    params.insert("atm_app_path".into(), app.into());
    params.insert("wef_subscription_manager".into(), wef.into());
    let mut doc = toml::Table::new();
    doc.insert("profile".into(), toml::Value::Table(profile));
    doc.insert("params".into(), toml::Value::Table(params.clone()));
    let text = toml::to_string(&doc).unwrap();
    // The test's own escaping must be exact before hardbase is judged.
    let back: toml::Table = toml::from_str(&text).unwrap();
    prop_assert_eq!(&back["params"], &toml::Value::Table(params), "{}", text);
    std::fs::write(tmp.path().join("profile.toml"), &text).unwrap();
    let lines = [
        line_of(&text, "atm_app_path"),
        line_of(&text, "wef_subscription_manager"),
    ];

    let check = run_in(tmp.path(), &["check", "profile.toml"]);
    match check.status {
        0 => {}
        2 => {
            let errors = error_locations(&check.stderr);
            prop_assert!(
                !errors.is_empty(),
                "check exited 2 without an error[ diagnostic:\n{}",
                check.stderr
            );
            let at_value = errors.iter().any(|(_, at)| {
                at.as_deref().is_some_and(|at| {
                    lines
                        .iter()
                        .any(|l| at.starts_with(&format!("profile.toml:{l}:")))
                })
            });
            prop_assert!(
                at_value,
                "no error points at the hostile value (profile.toml:{} or :{}):\n{}",
                lines[0],
                lines[1],
                check.stderr
            );
            let elsewhere: Vec<&(String, Option<String>)> = errors
                .iter()
                .filter(|(_, at)| {
                    !at.as_deref()
                        .is_some_and(|a| a.starts_with("profile.toml:"))
                })
                .collect();
            prop_assert!(
                elsewhere.is_empty(),
                "only profile.toml's two values differ from a valid profile, yet errors point \
                 elsewhere (lines the profile did not write): {:#?}\n{}",
                elsewhere,
                check.stderr
            );
            return Ok(());
        }
        other => prop_assert!(false, "check exited {}:\n{}", other, check.stderr),
    }

    let build = run_in(tmp.path(), &["build", "profile.toml", "--out", "out"]);
    prop_assert_eq!(
        build.status,
        0,
        "check accepted the profile but build failed:\n{}",
        build.stderr
    );
    let files = policy_files(&tmp.path().join("out").join("hostile-atm"));
    let bytes = std::fs::read(&files.machine_pol).unwrap();
    let ours = registry_pol::parse(&bytes)
        .map_err(|e| TestCaseError::fail(format!("our reader refuses the file: {e}")))?;

    // The subscription manager is the one item of its list, exactly.
    let subscription: Vec<(String, PolData)> = ours
        .iter()
        .filter(|e| e.key.eq_ignore_ascii_case(SUBSCRIPTION_MANAGER))
        .map(|e| (e.value.clone(), e.data.clone()))
        .collect();
    prop_assert_eq!(
        &subscription,
        &vec![
            ("**delvals.".to_string(), PolData::Sz(" ".into())),
            ("1".to_string(), PolData::Sz(wef.to_string())),
        ],
        "our reader: the subscription manager does not round-trip"
    );

    // The host rule carries `App=<path>` as one token and nothing else changes.
    let rule = firewall_rule_text(&ours, HOST_RULE)
        .ok_or_else(|| TestCaseError::fail(format!("no {HOST_RULE} rule")))?;
    let wanted: Vec<String> = baseline_host_rule()
        .iter()
        .map(|t| {
            if t.starts_with("App=") {
                format!("App={app}")
            } else {
                t.clone()
            }
        })
        .collect();
    let tokens: Vec<String> = rule.split('|').map(str::to_string).collect();
    prop_assert!(rule.contains(&format!("|App={app}|")), "{}", rule);
    prop_assert_eq!(
        &tokens,
        &wanted,
        "the rule string's tokens changed: {}",
        rule
    );

    let Some(python) = samba() else {
        return Ok(());
    };
    let read = samba_read(&python, &[("pol", files.machine_pol.as_path())]);
    let entries = read[0].as_array().unwrap();
    let samba_subscription: Vec<Value> = entries
        .iter()
        .filter(|e| {
            e[0].as_str()
                .is_some_and(|k| k.eq_ignore_ascii_case(SUBSCRIPTION_MANAGER))
        })
        .map(|e| json!([e[1], e[2], e[3]]))
        .collect();
    prop_assert_eq!(
        samba_subscription,
        vec![
            json!(["**delvals.", REG_SZ, " "]),
            json!(["1", REG_SZ, wef])
        ],
        "Samba: the subscription manager does not round-trip"
    );
    let samba_rule = entries
        .iter()
        .find(|e| e[1].as_str() == Some(HOST_RULE))
        .and_then(|e| e[3].as_str())
        .map(str::to_string);
    prop_assert_eq!(
        samba_rule.as_deref(),
        Some(rule.as_str()),
        "Samba reads another rule string"
    );
    Ok(())
}

#[test]
fn hostile_parameter_values_are_inert_or_rejected() {
    let wef =
        "Server=https://wec.example-bank.internal:5986/wsman/SubscriptionManager/WEC,Refresh=60";
    let app = r"C:\ATMApp\bin\atmapp.exe";
    // Hand-picked first: everything printable, then one unrepresentable value at a time.
    let fixed = [
        (
            "Server=https://wec/‘’‚‛“”'\"$(x)`'@@'[]|;=%PATH%\\😀 日本語,Refresh=60",
            r#"C:\ATM ‘’‚‛“”'$(calc)`'@@'[x];=%PATH%\日本語😀\atm.exe"#,
        ),
        (wef, r"C:\ATMApp\bin\atmapp.exe|Action=Block"),
        (wef, "C:\\ATMApp\r\n\\atmapp.exe"),
        ("Server=https://wec/\0,Refresh=60", app),
    ];
    let mut failures = Vec::new();
    for (wef, app) in fixed {
        if let Err(e) = hostile_case(wef, app) {
            failures.push(format!("wef {wef:?}, atm_app_path {app:?}: {e}"));
        }
    }
    let mut runner = TestRunner::new(Config {
        cases: 24,
        max_shrink_iters: 64,
        failure_persistence: None,
        ..Config::default()
    });
    if let Err(e) = runner.run(&(hostile_wef(), hostile_app_path()), |(wef, app)| {
        hostile_case(&wef, &app)
    }) {
        failures.push(format!("proptest: {e}"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

//! Drift of the Windows lockdown kinds (local accounts, AppLocker, WDAC, BitLocker, boot
//! settings, device installation, removable storage, kiosk shell, Keyboard Filter, UWF, event
//! logs, Assigned Access): the example ATM against a snapshot folder written as Windows
//! PowerShell 5.1 writes JSON, built here from the reference's facts (windows-lockdown.md), not
//! from the program's own output. A matching machine is compliant; one changed fact makes
//! exactly its setting drift or go missing, with the machine's value; a lockdown feature that is
//! not installed is not-collected with the collector's reason; a broken lockdown.json is an
//! error at its line; hostile machine values stay inert in every report format.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hardbase::catalog::setting::SettingKind;
use hardbase::catalog::Catalog;
use hardbase::diag::Diagnostics;
use hardbase::drift::{self, DriftReport, SettingResult, Status};
use hardbase::load::document::Date;
use hardbase::model::DesiredState;
use hardbase::resolve::{self, Options};
use hardbase::snapshot;
use hardbase::source::SourceMap;
use hardbase::target::windows::policy;
use serde_json::{json, Value};

use crate::util::{self, TempDir};
use crate::windows_collect::{ps51_json, write_snapshot};

/// The kinds this module is about.
const LOCKDOWN_KINDS: &[&str] = &[
    "local_account",
    "applocker",
    "wdac_policy",
    "bitlocker",
    "boot_setting",
    "device_install",
    "removable_storage",
    "kiosk_shell",
    "keyboard_filter",
    "write_filter",
    "event_log",
    "assigned_access",
];

const KIOSK_SID: &str = "S-1-5-21-1111-2222-3333-1001";
const ADMIN_SID: &str = "S-1-5-21-1111-2222-3333-500";
const GUEST_SID: &str = "S-1-5-21-1111-2222-3333-501";
const ATM_APP: &str = r"C:\ATMApp\bin\atmapp.exe";

fn atm_path() -> PathBuf {
    util::root().join("examples/regional-bank/branch-atm-shinjuku.toml")
}

/// Resolves a profile for an audit (expired waivers are findings), with the built-in catalog
/// and, optionally, a folder of controls that override it.
fn resolve_audit(path: &Path, extra: Option<&Path>) -> DesiredState {
    let mut sources = SourceMap::new();
    let mut diags = Diagnostics::new();
    let dirs: Vec<&Path> = extra.into_iter().collect();
    let catalog = Catalog::load(&mut sources, true, &dirs, &mut diags);
    let options = Options {
        at: Date::parse("2026-11-27").unwrap(),
        expired_waivers_are_findings: true,
    };
    let state = resolve::resolve(path, &catalog, &mut sources, &options, &mut diags);
    if diags.has_errors() {
        let mut out = codespan_reporting::term::termcolor::NoColor::new(Vec::new());
        let _ = diags.render_text(&sources, &mut out);
        panic!("{}", String::from_utf8_lossy(&out.into_inner()));
    }
    state.expect("a resolved profile")
}

// ---------------------------------------------------------------- the machine

/// BCD values as the BCD WMI provider reports them: booleans as `true`/`false`, named values
/// by their number (bootmenupolicy Legacy 0 / Standard 1; bootstatuspolicy DisplayAllFailures
/// 0 / IgnoreAllFailures 1), numbers as they are.
fn bcd_reading(element: &str, value: &str) -> String {
    match (element, value) {
        ("bootmenupolicy", "legacy") => "0".into(),
        ("bootmenupolicy", "standard") => "1".into(),
        ("bootstatuspolicy", "displayallfailures") => "0".into(),
        ("bootstatuspolicy", "ignoreallfailures") => "1".into(),
        ("timeout", n) => n.into(),
        (_, "yes" | "on" | "true") => "true".into(),
        (_, "no" | "off" | "false") => "false".into(),
        (e, v) => panic!("no BCD reading for {e} {v}"),
    }
}

/// A machine as the collector describes it, one JSON document per snapshot file.
#[derive(Clone)]
struct Machine {
    files: BTreeMap<&'static str, Value>,
}

impl Machine {
    fn lockdown(&mut self) -> &mut Value {
        self.files.get_mut("lockdown.json").unwrap()
    }

    /// The registry.json record of `key`\`name` (key and name compared without case).
    fn registry_value(&mut self, key: &str, name: &str) -> &mut Value {
        self.files
            .get_mut("registry.json")
            .unwrap()
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .find(|r| {
                r["Key"].as_str().unwrap().eq_ignore_ascii_case(key)
                    && r["Name"].as_str().unwrap().eq_ignore_ascii_case(name)
            })
            .unwrap_or_else(|| panic!("registry.json has no {key}\\{name}"))
    }

    fn bytes(&self) -> Vec<(&'static str, Vec<u8>)> {
        self.files
            .iter()
            .map(|(name, doc)| (*name, ps51_json(doc).into_bytes()))
            .collect()
    }
}

fn registry_record(key: &str, name: &str, kind: (i32, &str), data: Vec<String>) -> Value {
    json!({"Hive": "HKLM", "Key": key, "Name": name, "Present": true, "Type": kind.0, "TypeName": kind.1, "Data": data})
}

/// A machine on which every lockdown setting of `state` holds.
fn compliant_machine(state: &DesiredState) -> Machine {
    // Registry: every value the build's registry.pol sets, as the collector reads it back.
    let mut values = Vec::new();
    let mut keys: Vec<Value> = Vec::new();
    for e in policy::build(state).machine {
        use hardbase::target::windows::registry_pol::PolData;
        if e.value.eq_ignore_ascii_case("**delvals.") {
            keys.push(json!({"Hive": "HKLM", "Key": e.key, "Present": true, "Values": []}));
            continue;
        }
        if let Some(name) = e.value.strip_prefix("**del.") {
            values.push(json!({"Hive": "HKLM", "Key": e.key, "Name": name, "Present": false, "Type": 0, "TypeName": "", "Data": []}));
            continue;
        }
        let (kind, data) = match &e.data {
            PolData::Dword(n) => ((4, "DWord"), vec![n.to_string()]),
            PolData::Qword(n) => ((11, "QWord"), vec![n.to_string()]),
            PolData::Sz(t) => ((1, "String"), vec![t.clone()]),
            PolData::ExpandSz(t) => ((2, "ExpandString"), vec![t.clone()]),
            PolData::MultiSz(l) => ((7, "MultiString"), l.clone()),
            other => panic!("unexpected {other:?}"),
        };
        let record = registry_record(&e.key, &e.value, kind, data);
        match keys
            .iter_mut()
            .find(|k| k["Key"].as_str().unwrap().eq_ignore_ascii_case(&e.key))
        {
            Some(k) => k["Values"].as_array_mut().unwrap().push(record),
            None => values.push(record),
        }
    }

    let mut shells = Vec::new();
    let mut keyboard_keys = vec![json!({"Id": "Alt+Esc", "Enabled": false})];
    let mut keyboard_settings = vec![json!({"Name": "ForceOffAccessibility", "Value": "false"})];
    let mut volumes = Vec::new();
    let mut overlays = Vec::new();
    let mut registry_filters = Vec::new();
    let mut boot = Vec::new();
    let mut bitlocker = Value::Null;
    let mut uwf_filter = Value::Null;
    for s in state.settings() {
        match &s.kind {
            SettingKind::KioskShell(k) => {
                shells.push(json!({"Sid": KIOSK_SID, "Shell": k.shell, "DefaultAction": 0}));
                shells.push(
                    json!({"Sid": "S-1-5-32-544", "Shell": k.admin_shell, "DefaultAction": 0}),
                );
            }
            SettingKind::KeyboardFilter(k) => {
                for id in &k.blocked_keys {
                    keyboard_keys.push(json!({"Id": id, "Enabled": true}));
                }
                keyboard_settings.push(json!({"Name": "DisableKeyboardFilterForAdministrators", "Value": if k.disable_for_administrators { "true" } else { "false" }}));
            }
            SettingKind::WriteFilter(f) => {
                uwf_filter = json!({"CurrentEnabled": true, "NextEnabled": true});
                // UWF reports file exclusions relative to the volume.
                let files: Vec<String> = f
                    .file_exclusions
                    .iter()
                    .map(|p| p[2..].to_string())
                    .collect();
                volumes.push(json!({"CurrentSession": true, "DriveLetter": f.volume, "Protected": true, "Exclusions": null}));
                volumes.push(json!({"CurrentSession": false, "DriveLetter": f.volume, "Protected": true, "Exclusions": files}));
                let kind = if format!("{:?}", f.overlay_type) == "Disk" {
                    1
                } else {
                    0
                };
                for current in [true, false] {
                    overlays.push(json!({"CurrentSession": current, "Type": kind, "MaximumSize": f.overlay_size_mb}));
                }
                let mut keys = f.registry_exclusions.clone();
                keys.push(r"HKLM\SYSTEM\CurrentControlSet\Control\BitlockerStatus".into());
                registry_filters.push(json!({"CurrentSession": false, "Exclusions": keys}));
            }
            SettingKind::Bitlocker(_) => {
                // A TPM protector and the escrowed recovery password (numerical password, 3).
                bitlocker = json!({"DriveLetter": "C:", "ProtectionStatus": 1, "EncryptionMethod": 7, "KeyProtectorTypes": [1, 3]});
            }
            SettingKind::BootSetting(b) => {
                let object = format!("{{{}}}", format!("{:?}", b.object).to_lowercase());
                let (value, desired) = match &b.value {
                    Some(v) => (v.clone(), bcd_reading(&b.element, v)),
                    None => (String::new(), String::new()),
                };
                boot.push(json!({"Object": object, "Element": b.element, "Value": value, "Desired": desired,
                    "Present": b.value.is_some(), "Actual": desired}));
            }
            _ => {}
        }
    }
    let lockdown = json!({
        "UwfFilter": uwf_filter, "UwfVolumes": volumes, "UwfOverlayConfig": overlays, "UwfRegistryFilter": registry_filters,
        "ShellLauncher": shells, "ShellLauncherEnabled": true,
        "KeyboardFilter": keyboard_keys, "KeyboardFilterSettings": keyboard_settings,
        "AssignedAccess": null, "BitLocker": bitlocker, "Boot": boot,
        "DeviceGuard": {"CodeIntegrityPolicyEnforcementStatus": 2, "UsermodeCodeIntegrityPolicyEnforcementStatus": 2},
        "WdacPolicies": [],
        "NotCollected": {"MDM_AssignedAccess": "the MDM Bridge WMI provider (root\\cimv2\\mdm\\dmmap) answers to SYSTEM only"}
    });
    let groups = json!({
        "Groups": [
            {"Sid": "S-1-5-32-544", "Name": "Administrators", "Members": [{"Sid": ADMIN_SID, "Name": "Administrator"}]},
            {"Sid": "S-1-5-32-545", "Name": "Users", "Members": [{"Sid": KIOSK_SID, "Name": "atmkiosk"}]},
            {"Sid": "S-1-5-32-547", "Name": "Power Users", "Members": []},
            {"Sid": "S-1-5-32-555", "Name": "Remote Desktop Users", "Members": []}
        ],
        "Users": [
            {"Sid": ADMIN_SID, "Name": "Administrator", "Disabled": true},
            {"Sid": GUEST_SID, "Name": "Guest", "Disabled": true},
            {"Sid": KIOSK_SID, "Name": "atmkiosk", "Disabled": false}
        ]
    });
    Machine {
        files: BTreeMap::from([
            ("registry.json", Value::Array(values)),
            ("registry-keys.json", Value::Array(keys)),
            ("group-members.json", groups),
            ("lockdown.json", lockdown),
        ]),
    }
}

/// Writes the machine as a snapshot folder, loads it and compares it with the profile.
fn diff(state: &DesiredState, machine: &Machine, dir: &Path) -> DriftReport {
    write_snapshot(dir, &machine.bytes(), json!({}));
    let live = snapshot::load(dir).unwrap_or_else(|e| panic!("{e}"));
    drift::diff(state, &live)
}

/// The one setting of `kind` compared with the machine.
fn result_of(state: &DesiredState, machine: &Machine, dir: &Path, kind: &str) -> SettingResult {
    let report = diff(state, machine, dir);
    lockdown_results(&report)
        .into_iter()
        .find(|s| s.kind == kind)
        .cloned()
        .unwrap_or_else(|| panic!("no {kind} setting"))
}

fn lockdown_results(report: &DriftReport) -> Vec<&SettingResult> {
    report
        .controls
        .iter()
        .flat_map(|c| &c.settings)
        .filter(|s| LOCKDOWN_KINDS.contains(&s.kind))
        .collect()
}

/// Every setting whose status or actual value differs between two reports.
fn changed<'a>(before: &DriftReport, after: &'a DriftReport) -> Vec<&'a SettingResult> {
    let all = |r: &'a DriftReport| -> Vec<&'a SettingResult> {
        r.controls.iter().flat_map(|c| &c.settings).collect()
    };
    let old: Vec<&SettingResult> = before.controls.iter().flat_map(|c| &c.settings).collect();
    all(after)
        .into_iter()
        .filter(|s| {
            !old.iter().any(|o| {
                o.target == s.target
                    && o.control == s.control
                    && o.status == s.status
                    && o.actual == s.actual
            })
        })
        .collect()
}

#[test]
fn a_machine_as_the_profile_says_is_compliant_in_every_lockdown_kind() {
    let state = resolve_audit(&atm_path(), None);
    let dir = TempDir::new("lockdown-compliant");
    let report = diff(&state, &compliant_machine(&state), dir.path());
    let results = lockdown_results(&report);
    for kind in [
        "local_account",
        "applocker",
        "bitlocker",
        "boot_setting",
        "device_install",
        "removable_storage",
        "kiosk_shell",
        "keyboard_filter",
        "write_filter",
        "event_log",
    ] {
        assert!(
            results.iter().any(|s| s.kind == kind),
            "the example ATM has a {kind} setting"
        );
    }
    for s in &results {
        let waived = report
            .controls
            .iter()
            .any(|c| c.status == Status::Waived && c.settings.iter().any(|x| x.target == s.target));
        if waived {
            continue;
        }
        assert_eq!(
            s.status,
            Status::Compliant,
            "{} {}: {:?} / {:?}",
            s.kind,
            s.target,
            s.actual,
            s.note
        );
        assert!(
            s.actual.is_some(),
            "{}: the actual value is shown",
            s.target
        );
    }
    // The reference's facts are what made them compliant: the values are shown as read.
    let find = |kind: &str| results.iter().find(|s| s.kind == kind).unwrap();
    assert!(find("bitlocker")
        .actual
        .as_deref()
        .unwrap()
        .contains("XTS-AES 256 (7)"));
    assert!(find("kiosk_shell")
        .actual
        .as_deref()
        .unwrap()
        .contains(ATM_APP));
    assert!(find("write_filter")
        .actual
        .as_deref()
        .unwrap()
        .contains("2048 MB"));
}

/// The registry.pol facts of windows-lockdown.md sections 5, 7 and 8 that the example ATM's
/// settings stand for, independent of the build: each one changed drifts its own setting.
#[test]
fn one_changed_fact_drifts_exactly_its_setting() {
    let state = resolve_audit(&atm_path(), None);
    let base = compliant_machine(&state);
    let tmp = TempDir::new("lockdown-mutations");
    let before = diff(&state, &base, &tmp.path().join("base"));

    type Mutation = (
        &'static str,
        &'static str,
        Status,
        &'static str,
        fn(&mut Machine),
    );
    let mutations: Vec<Mutation> = vec![
        (
            "local_account",
            "local account atmkiosk",
            Status::Drift,
            "member of S-1-5-32-544",
            |m| {
                m.files.get_mut("group-members.json").unwrap()["Groups"][0]["Members"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"Sid": KIOSK_SID, "Name": "atmkiosk"}));
            },
        ),
        (
            "applocker",
            "applocker Script",
            Status::Drift,
            "EnforcementMode: 0 (DWord)",
            |m| {
                m.registry_value(
                    r"Software\Policies\Microsoft\Windows\SrpV2\Script",
                    "EnforcementMode",
                )["Data"] = json!(["0"]);
            },
        ),
        (
            "bitlocker",
            "bitlocker os volume",
            Status::Drift,
            "protection off (0)",
            |m| {
                m.lockdown()["BitLocker"]["ProtectionStatus"] = json!(0);
            },
        ),
        (
            "bitlocker",
            "bitlocker os volume",
            Status::Drift,
            "UseTPMPIN: 1 (DWord)",
            |m| {
                m.registry_value(r"SOFTWARE\Policies\Microsoft\FVE", "UseTPMPIN")["Data"] =
                    json!(["1"]);
            },
        ),
        (
            "boot_setting",
            "boot Default safeboot",
            Status::Drift,
            "0",
            |m| {
                let boot = m.lockdown()["Boot"].as_array_mut().unwrap();
                let e = boot
                    .iter_mut()
                    .find(|e| e["Element"] == "safeboot")
                    .unwrap();
                e["Present"] = json!(true);
                e["Actual"] = json!("0");
            },
        ),
        (
            "boot_setting",
            "boot Default bootmenupolicy",
            Status::Drift,
            "0",
            |m| {
                let boot = m.lockdown()["Boot"].as_array_mut().unwrap();
                let e = boot
                    .iter_mut()
                    .find(|e| e["Element"] == "bootmenupolicy")
                    .unwrap();
                e["Actual"] = json!("0");
            },
        ),
        (
            "device_install",
            "device installation restrictions",
            Status::Missing,
            "DenyUnspecified: (absent)",
            |m| {
                let r = m.registry_value(
                    r"SOFTWARE\Policies\Microsoft\Windows\DeviceInstall\Restrictions",
                    "DenyUnspecified",
                );
                r["Present"] = json!(false);
                r["Data"] = json!([]);
            },
        ),
        (
            "removable_storage",
            "removable storage All",
            Status::Drift,
            "Deny_All: 0 (DWord)",
            |m| {
                m.registry_value(
                    r"SOFTWARE\Policies\Microsoft\Windows\RemovableStorageDevices",
                    "Deny_All",
                )["Data"] = json!(["0"]);
            },
        ),
        (
            "kiosk_shell",
            "kiosk shell",
            Status::Drift,
            r"C:\Windows\explorer.exe on exit restart shell (0)",
            |m| {
                m.lockdown()["ShellLauncher"][0]["Shell"] = json!(r"C:\Windows\explorer.exe");
            },
        ),
        (
            "kiosk_shell",
            "kiosk shell",
            Status::Drift,
            "Shell Launcher: disabled",
            |m| {
                m.lockdown()["ShellLauncherEnabled"] = json!(false);
            },
        ),
        (
            "keyboard_filter",
            "keyboard filter",
            Status::Drift,
            "not blocked: Ctrl+Alt+Del",
            |m| {
                let keys = m.lockdown()["KeyboardFilter"].as_array_mut().unwrap();
                keys.iter_mut().find(|k| k["Id"] == "Ctrl+Alt+Del").unwrap()["Enabled"] =
                    json!(false);
            },
        ),
        (
            "keyboard_filter",
            "keyboard filter",
            Status::Drift,
            "DisableKeyboardFilterForAdministrators: true",
            |m| {
                let settings = m.lockdown()["KeyboardFilterSettings"]
                    .as_array_mut()
                    .unwrap();
                settings
                    .iter_mut()
                    .find(|k| k["Name"] == "DisableKeyboardFilterForAdministrators")
                    .unwrap()["Value"] = json!("true");
            },
        ),
        (
            "write_filter",
            "write filter C:",
            Status::Drift,
            "disk overlay (1) of 1024 MB",
            |m| {
                let overlays = m.lockdown()["UwfOverlayConfig"].as_array_mut().unwrap();
                overlays
                    .iter_mut()
                    .find(|o| o["CurrentSession"] == false)
                    .unwrap()["MaximumSize"] = json!(1024);
            },
        ),
        (
            "write_filter",
            "write filter C:",
            Status::Drift,
            r"\Users",
            |m| {
                let vols = m.lockdown()["UwfVolumes"].as_array_mut().unwrap();
                let next = vols
                    .iter_mut()
                    .find(|v| v["CurrentSession"] == false)
                    .unwrap();
                next["Exclusions"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!(r"\Users"));
            },
        ),
        (
            "event_log",
            "event log security",
            Status::Drift,
            "MaxSize: 20480 (DWord)",
            |m| {
                m.registry_value(
                    r"SOFTWARE\Policies\Microsoft\Windows\EventLog\Security",
                    "MaxSize",
                )["Data"] = json!(["20480"]);
            },
        ),
    ];
    for (i, (kind, target, status, shown, mutate)) in mutations.into_iter().enumerate() {
        let mut machine = base.clone();
        mutate(&mut machine);
        let after = diff(&state, &machine, &tmp.path().join(i.to_string()));
        let changed = changed(&before, &after);
        let label = format!("{kind} / {shown}");
        assert!(!changed.is_empty(), "{label}: nothing changed");
        for s in &changed {
            assert_eq!(s.kind, kind, "{label}: {} changed too", s.target);
            assert!(s.target.starts_with(target), "{label}: {}", s.target);
            assert_eq!(s.status, status, "{label}: {:?} {:?}", s.actual, s.note);
            let actual = s.actual.as_deref().unwrap_or_default();
            assert!(actual.contains(shown), "{label}: actual {actual:?}");
        }
        assert_eq!(changed.len(), 1, "{label}: exactly one setting");
        assert!(after.exit_code() == 1);
    }
}

#[test]
fn a_feature_that_is_not_installed_is_not_collected_with_the_reason() {
    let state = resolve_audit(&atm_path(), None);
    let mut machine = compliant_machine(&state);
    let reason = "Invalid namespace \"root\\standardcimv2\\embedded\"";
    {
        let l = machine.lockdown();
        for key in [
            "UwfFilter",
            "UwfVolumes",
            "UwfOverlayConfig",
            "UwfRegistryFilter",
            "ShellLauncher",
            "ShellLauncherEnabled",
            "KeyboardFilter",
            "KeyboardFilterSettings",
        ] {
            l[key] = Value::Null;
        }
        for class in [
            "UWF_Filter",
            "UWF_Volume",
            "UWF_OverlayConfig",
            "UWF_RegistryFilter",
            "WESL_UserSetting",
            "WESL_UserSetting.IsEnabled",
            "WEKF_PredefinedKey",
            "WEKF_Settings",
        ] {
            l["NotCollected"][class] = json!(reason);
        }
        l["BitLocker"] = Value::Null;
        l["NotCollected"]["Win32_EncryptableVolume"] = json!("Invalid namespace");
    }
    let dir = TempDir::new("lockdown-namespace");
    let report = diff(&state, &machine, dir.path());
    for s in lockdown_results(&report)
        .into_iter()
        .filter(|s| matches!(s.kind, "kiosk_shell" | "keyboard_filter" | "write_filter"))
    {
        assert_eq!(s.status, Status::NotCollected, "{}", s.target);
        let note = s.note.as_deref().unwrap_or_default();
        assert!(note.contains("Invalid namespace"), "{}: {note}", s.target);
    }
    // BitLocker: the registry policy holds, the volume's state is unknown: never compliant.
    let b = lockdown_results(&report)
        .into_iter()
        .find(|s| s.kind == "bitlocker")
        .unwrap();
    assert_eq!(b.status, Status::NotCollected);
    assert!(b
        .note
        .as_deref()
        .unwrap()
        .contains("Win32_EncryptableVolume was not collected"));

    // Without lockdown.json at all, the lockdown kinds are not-collected too.
    machine.files.remove("lockdown.json");
    let report = diff(&state, &machine, &dir.path().join("no-file"));
    for s in lockdown_results(&report).into_iter().filter(|s| {
        matches!(
            s.kind,
            "kiosk_shell" | "keyboard_filter" | "write_filter" | "boot_setting"
        )
    }) {
        assert_eq!(s.status, Status::NotCollected, "{}", s.target);
    }
}

#[test]
fn a_malformed_lockdown_file_is_an_error_at_its_line() {
    let state = resolve_audit(&atm_path(), None);
    let machine = compliant_machine(&state);
    let good = ps51_json(&machine.files["lockdown.json"]);
    let tmp = TempDir::new("lockdown-malformed");

    // A string where the boolean belongs: the error names the file and that value's line.
    let needle = "\"ShellLauncherEnabled\":  true";
    let line = good[..good.find(needle).unwrap()].matches('\n').count() + 1;
    let bad = good.replace(needle, "\"ShellLauncherEnabled\":  \"True\"");
    write_snapshot(
        &tmp.path().join("type"),
        &[("lockdown.json", bad.into_bytes())],
        json!({}),
    );
    let e = snapshot::load(&tmp.path().join("type")).unwrap_err();
    assert_eq!(e.file, "lockdown.json");
    assert_eq!(e.line, line, "{e}");

    // Truncated mid-write.
    let cut = good.len() / 2;
    write_snapshot(
        &tmp.path().join("cut"),
        &[("lockdown.json", good.as_bytes()[..cut].to_vec())],
        json!({}),
    );
    let e = snapshot::load(&tmp.path().join("cut")).unwrap_err();
    assert_eq!(e.file, "lockdown.json");
    assert!(e.line >= 1 && e.message.contains("truncated"), "{e}");

    // A required field of a section missing.
    let bad = good.replacen("\"NextEnabled\":  true", "\"Next\":  true", 1);
    write_snapshot(
        &tmp.path().join("field"),
        &[("lockdown.json", bad.into_bytes())],
        json!({}),
    );
    let e = snapshot::load(&tmp.path().join("field")).unwrap_err();
    assert_eq!(e.file, "lockdown.json");
    assert!(e.message.contains("NextEnabled"), "{e}");
}

/// Strings a hostile machine could hold: quotes, a newline, markup, terminal escapes.
const HOSTILE: &str = "C:\\x\" '\n<script>alert(1)</script>\u{1b}[31m\u{7}=cmd|' /C calc'!A0";

#[test]
fn hostile_machine_values_stay_exact_and_inert() {
    let state = resolve_audit(&atm_path(), None);
    let mut machine = compliant_machine(&state);
    machine.lockdown()["ShellLauncher"][0]["Shell"] = json!(HOSTILE);
    machine.lockdown()["KeyboardFilterSettings"][1]["Value"] = json!(HOSTILE);
    let tmp = TempDir::new("lockdown-hostile");
    let dir = tmp.path().join("snapshot");
    write_snapshot(&dir, &machine.bytes(), json!({}));

    // Parsed exactly.
    let live = snapshot::load(&dir).unwrap();
    let l = live.windows.lockdown.as_ref().unwrap();
    assert_eq!(l.shell_launcher.as_ref().unwrap()[0].shell, HOSTILE);

    let profile = atm_path();
    let run = |format: &str| {
        let out = tmp.path().join(format!("report.{format}"));
        let r = util::run(&[
            "diff",
            profile.to_str().unwrap(),
            "--live",
            dir.to_str().unwrap(),
            "--at",
            "2026-11-27",
            "--format",
            format,
            "--output",
            out.to_str().unwrap(),
        ]);
        assert_eq!(r.status, 1, "{format}: {}", r.stderr);
        std::fs::read(&out).unwrap()
    };
    // JSON keeps the value exactly.
    let doc: Value = serde_json::from_slice(&run("json")).unwrap();
    let kiosk = doc["controls"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["settings"].as_array().unwrap())
        .find(|s| s["kind"] == "kiosk_shell")
        .unwrap();
    assert_eq!(kiosk["status"], "drift");
    assert!(kiosk["actual"].as_str().unwrap().contains(HOSTILE));
    // No other format carries a raw control character, markup or a live formula.
    for format in ["text", "junit", "sarif", "md", "csv"] {
        let bytes = run(format);
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{format}"
        );
        assert!(text.contains("alert(1)"), "{format}: the value is shown");
        if format == "junit" {
            assert!(!text.contains("<script>"), "{format}");
        }
        if format == "csv" {
            assert!(!text.lines().any(|l| l.starts_with('=')), "{format}");
        }
    }
}

// ---------------------------------------------------------------- WDAC, v2, Assigned Access

/// The example bank copied to a temporary folder, with the ATM's profile changed by `edit`.
fn bank_copy(tmp: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let from = util::root().join("examples/regional-bank");
    for e in std::fs::read_dir(&from).unwrap().filter_map(Result::ok) {
        if e.path().is_file() {
            std::fs::copy(e.path(), tmp.join(e.file_name())).unwrap();
        }
    }
    // The fleet layer holds what every ATM shares (the WDAC exclusion and its waiver too).
    let fleet = tmp.join("atm-fleet.toml");
    let text = std::fs::read_to_string(&fleet).unwrap();
    std::fs::write(&fleet, edit(text)).unwrap();
    tmp.join("branch-atm-shinjuku.toml")
}

#[test]
fn wdac_compares_the_deployed_binary_and_the_enforcement() {
    let tmp = TempDir::new("lockdown-wdac");
    let profile = bank_copy(tmp.path(), |t| {
        let t = t.replace("exclude = [\"FUN-APP-001\"]", "");
        let at = t.find("[waivers.\"FUN-APP-001\"]").unwrap();
        t[..at].to_string()
    });
    std::fs::create_dir_all(tmp.path().join("policies")).unwrap();
    let binary = b"\x07\x00\x00\x00 compiled App Control policy".to_vec();
    std::fs::write(tmp.path().join("policies/atm-wdac.cip"), &binary).unwrap();
    let state = resolve_audit(&profile, None);
    let id = "{4E7A1C52-9D3B-4F0A-8C61-2B7D5E9A0F13}";
    let hash: String = {
        use sha2::{Digest, Sha256};
        Sha256::digest(&binary)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let mut machine = compliant_machine(&state);
    machine.lockdown()["WdacPolicies"] = json!([{"PolicyId": id, "Destination": format!("CIPolicies\\Active\\{id}.cip"), "Present": true, "Sha256": hash}]);
    let wdac =
        |m: &Machine, name: &str| result_of(&state, m, &tmp.path().join(name), "wdac_policy");
    let s = wdac(&machine, "same");
    assert_eq!(s.status, Status::Compliant, "{:?} {:?}", s.actual, s.note);

    let mut other = machine.clone();
    other.lockdown()["WdacPolicies"][0]["Sha256"] = json!("00".repeat(32));
    let s = wdac(&other, "hash");
    assert_eq!(s.status, Status::Drift);
    assert!(s.note.as_deref().unwrap().contains(&hash));

    let mut audit = machine.clone();
    audit.lockdown()["DeviceGuard"]["UsermodeCodeIntegrityPolicyEnforcementStatus"] = json!(1);
    let s = wdac(&audit, "audit");
    assert_eq!(s.status, Status::Drift);
    assert!(s
        .actual
        .as_deref()
        .unwrap()
        .contains("user-mode code integrity audit (1)"));

    let mut gone = machine.clone();
    gone.lockdown()["WdacPolicies"][0]["Present"] = json!(false);
    gone.lockdown()["WdacPolicies"][0]["Sha256"] = json!("");
    assert_eq!(wdac(&gone, "gone").status, Status::Missing);

    let mut unknown = machine.clone();
    unknown.lockdown()["DeviceGuard"] = Value::Null;
    unknown.lockdown()["NotCollected"]["Win32_DeviceGuard"] = json!("Invalid namespace");
    let s = wdac(&unknown, "unknown");
    assert_eq!(s.status, Status::NotCollected);
    assert!(s.note.as_deref().unwrap().contains("Invalid namespace"));
}

/// A control folder that replaces FUN-KIO-001 with `setting` (TOML).
fn kiosk_catalog(dir: &Path, setting: &str) -> PathBuf {
    let baselines = dir.join("baselines");
    std::fs::create_dir_all(&baselines).unwrap();
    let toml = format!(
        r#"[[control]]
id = "FUN-KIO-001"
category = "function"
tier = "easy"
roles = ["atm-terminal"]
platforms = ["windows"]
attack_steps = ["PA", "USB"]
title = {{ en = "Kiosk", ja = "キオスク" }}
criterion = {{ en = "The kiosk account runs the front end.", ja = "キオスク用アカウントがフロントエンドを実行すること。" }}

[[control.setting]]
platform = "windows"
{setting}
"#
    );
    std::fs::write(baselines.join("kiosk.toml"), toml).unwrap();
    baselines
}

#[test]
fn shell_launcher_v2_is_compared_through_the_mdm_bridge() {
    let tmp = TempDir::new("lockdown-v2");
    let catalog = kiosk_catalog(
        tmp.path(),
        "kind = \"kiosk_shell\"\naccount = \"local:atmkiosk\"\nshell = 'C:\\ATMApp\\bin\\atmapp.exe'\non_exit = \"restart-device\"\nadmin_shell = \"explorer.exe\"\nlauncher = \"v2\"\n\n[[control.setting]]\nplatform = \"windows\"\nkind = \"optional_feature\"\nname = \"Client-EmbeddedShellLauncher\"\nstate = \"enabled\"",
    );
    let state = resolve_audit(&atm_path(), Some(&catalog));
    let mut machine = compliant_machine(&state);
    let parsed = json!({
        "Profiles": [
            {"Id": "{A1}", "Default": false, "Shell": ATM_APP, "DefaultAction": "RestartDevice"},
            {"Id": "{B2}", "Default": false, "Shell": "explorer.exe", "DefaultAction": "RestartShell"}
        ],
        "Accounts": [
            {"Name": ".\\ATMKIOSK", "Sid": "", "AutoLogon": false, "ProfileId": "{a1}"},
            {"Name": "", "Sid": "S-1-5-32-544", "AutoLogon": false, "ProfileId": "{B2}"}
        ]
    });
    machine.lockdown()["AssignedAccess"] = json!({"ShellLauncher": "<ShellLauncherConfiguration/>", "ShellLauncherConfig": parsed, "KioskModeApp": null, "Configuration": null});
    let kiosk =
        |m: &Machine, name: &str| result_of(&state, m, &tmp.path().join(name), "kiosk_shell");
    let s = kiosk(&machine, "same");
    assert_eq!(s.status, Status::Compliant, "{:?} {:?}", s.actual, s.note);

    let mut other = machine.clone();
    other.lockdown()["AssignedAccess"]["ShellLauncherConfig"]["Profiles"][0]["DefaultAction"] =
        json!("RestartShell");
    let s = kiosk(&other, "action");
    assert_eq!(s.status, Status::Drift);
    assert!(s
        .actual
        .as_deref()
        .unwrap()
        .contains("on exit RestartShell"));

    // Run as an administrator, the bridge is not read: not-collected, with the reason.
    let mut admin = machine.clone();
    admin.lockdown()["AssignedAccess"] = Value::Null;
    let s = kiosk(&admin, "admin");
    assert_eq!(s.status, Status::NotCollected);
    assert!(s.note.as_deref().unwrap().contains("SYSTEM only"));
}

#[test]
fn assigned_access_is_compared_through_kiosk_mode_app() {
    let tmp = TempDir::new("lockdown-aa");
    let catalog = kiosk_catalog(
        tmp.path(),
        "kind = \"assigned_access\"\naccount = \"local:atmkiosk\"\napp_user_model_id = \"Contoso.AtmFrontEnd_8wekyb3d8bbwe!App\"",
    );
    let state = resolve_audit(&atm_path(), Some(&catalog));
    let mut machine = compliant_machine(&state);
    let app = |account: &str, aumid: &str| json!({"Account": account, "AUMID": aumid}).to_string();
    machine.lockdown()["AssignedAccess"] = json!({"ShellLauncher": "", "ShellLauncherConfig": null,
        "KioskModeApp": app("ATM-01\\atmkiosk", "Contoso.AtmFrontEnd_8wekyb3d8bbwe!App"), "Configuration": null});
    let aa =
        |m: &Machine, name: &str| result_of(&state, m, &tmp.path().join(name), "assigned_access");
    let s = aa(&machine, "same");
    assert_eq!(s.status, Status::Compliant, "{:?} {:?}", s.actual, s.note);

    let mut other = machine.clone();
    other.lockdown()["AssignedAccess"]["KioskModeApp"] =
        json!(app("atmkiosk", "Contoso.Other_8wekyb3d8bbwe!App"));
    let s = aa(&other, "other");
    assert_eq!(s.status, Status::Drift);
    assert!(s
        .actual
        .as_deref()
        .unwrap()
        .contains("Contoso.Other_8wekyb3d8bbwe!App"));

    let mut none = machine.clone();
    none.lockdown()["AssignedAccess"]["KioskModeApp"] = Value::Null;
    assert_eq!(aa(&none, "none").status, Status::Missing);
}

// ---------------------------------------------------------------- the collector

/// The collector carries the BCD table drift compares with: each governed element with its
/// bcdedit value and the reading the BCD WMI provider gives for it.
#[test]
fn the_collector_reads_each_governed_boot_element_and_the_lockdown_sources() {
    let state = util::resolve_profile(&atm_path()).unwrap();
    let files = hardbase::target::windows::emit::emit(&state).unwrap();
    let (_, bytes) = files
        .iter()
        .find(|(p, _)| p == "windows/Collect-Hardbase.ps1")
        .expect("the build ships the collector");
    let text = String::from_utf8(bytes[3..].to_vec())
        .unwrap()
        .replace("\r\n", "\n");
    for s in state.settings() {
        let SettingKind::BootSetting(b) = &s.kind else {
            continue;
        };
        let line = text
            .lines()
            .find(|l| l.contains(&format!("Element = '{}';", b.element)))
            .unwrap_or_else(|| panic!("no BCD row for {}", b.element));
        let desired = b
            .value
            .as_ref()
            .map(|v| bcd_reading(&b.element, v))
            .unwrap_or_default();
        assert!(line.contains(&format!("Desired = '{desired}'")), "{line}");
    }
    for class in [
        "UWF_Filter",
        "UWF_Volume",
        "UWF_OverlayConfig",
        "UWF_RegistryFilter",
        "WESL_UserSetting",
        "WEKF_PredefinedKey",
        "WEKF_Settings",
        "MDM_AssignedAccess",
        "Win32_EncryptableVolume",
        "Win32_DeviceGuard",
    ] {
        assert!(
            text.contains(&format!("Invoke-LockdownPart -Name '{class}'")),
            "{class} is read as its own part"
        );
    }
    // Key material is never asked for.
    for method in [
        "GetKeyProtectorNumericalPassword",
        "GetExternalKeyFromFile",
        "GetKeyPackage",
    ] {
        assert!(!text.contains(method), "{method}");
    }
}

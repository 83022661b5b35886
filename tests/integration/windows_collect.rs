//! The Windows collector (`windows/Collect-Hardbase.ps1`) and the snapshot it writes: the
//! script passes Apply's checks (tree-sitter-powershell, 5.1 only, exit codes, quoted values)
//! and is read-only; the parsers read the real `secedit /export` and `auditpol /backup` samples
//! and a snapshot folder written as Windows PowerShell 5.1 writes JSON; a broken file is an
//! error at its line; `hardbase diff` compares registry and audit values end to end.

use std::path::Path;

use hardbase::catalog::setting::{Hive, RegData, RegType, SettingKind};
use hardbase::live::WindowsState;
use hardbase::model::DesiredState;
use hardbase::snapshot;
use hardbase::target::windows::{collect, gpo_backup, policy, powershell};

use crate::util::{self, resolve_profile, samples_dir, TempDir};
use crate::windows_powershell::{
    all_nodes, check_file_bytes, command_name, examples, hostile_state, native_wrapper_targets,
    parse, ps7_constructs, shape, string_values, syntax_problems, text, unchecked_native_calls,
    NATIVE,
};

fn collector(state: &DesiredState) -> (String, Vec<u8>) {
    let policy = policy::build(state);
    let backup_id = gpo_backup::backup_id(&state.profile.name);
    let input = powershell::ScriptInput {
        state,
        policy: &policy,
        backup_id: &backup_id,
    };
    let text = collect::collect(&input).expect("the collector renders");
    let bytes = powershell::encode(&text);
    (text, bytes)
}

#[test]
fn the_collector_passes_applys_checks_and_is_read_only() {
    for (profile, state) in examples() {
        let (text_lf, bytes) = collector(&state);
        check_file_bytes("Collect-Hardbase.ps1", &bytes);
        let source = std::str::from_utf8(&bytes[3..]).unwrap();
        let tree = parse(source);
        let problems = syntax_problems(&tree, source);
        assert!(problems.is_empty(), "{profile}:\n{}", problems.join("\n"));
        let ps7 = ps7_constructs(&tree, source);
        assert!(ps7.is_empty(), "{profile}:\n{}", ps7.join("\n"));

        let tree = parse(&text_lf);
        assert!(text_lf.contains("Set-StrictMode -Version Latest"));
        assert!(text_lf.contains("$ErrorActionPreference = 'Stop'"));
        let (checked, unchecked) = unchecked_native_calls(&tree, &text_lf);
        // `& $Read` and `& $Query` run script blocks the collector passes itself, not programs.
        let unchecked: Vec<&String> = unchecked
            .iter()
            .filter(|u| !["`& $Read`", "`& $Query`"].iter().any(|b| u.ends_with(b)))
            .collect();
        assert!(unchecked.is_empty(), "{profile}: {unchecked:?}");
        assert!(
            text_lf.contains("[scriptblock] $Read") && text_lf.contains("[scriptblock] $Query")
        );
        assert!(
            checked > 0,
            "{profile}: the native-command runner was not found"
        );
        let targets = native_wrapper_targets(&tree, &text_lf);
        assert_eq!(targets, ["'secedit.exe'", "'auditpol.exe'"], "{profile}");
        for t in &targets {
            let t = t.trim_matches('\'').trim_end_matches(".exe");
            assert!(NATIVE.contains(&t));
        }

        // Preflight: 64-bit, elevation by SID, 5.1.
        assert!(text_lf.contains("[Environment]::Is64BitProcess"));
        assert!(text_lf.contains("'S-1-5-32-544'"));
        assert!(text_lf.contains("$PSVersionTable.PSVersion.Major -ne 5"));

        // Read-only: no command or method that changes the machine.
        for n in all_nodes(&tree) {
            if n.kind() != "command" {
                continue;
            }
            let name = command_name(n, &text_lf)
                .unwrap_or_default()
                .to_ascii_lowercase();
            for verb in [
                "set-",
                "remove-",
                "new-item",
                "new-net",
                "enable-",
                "disable-",
                "add-",
                "rename-",
                "invoke-cimmethod",
                "restart-",
                "stop-",
                "start-",
            ] {
                assert!(
                    !name.starts_with(verb) || name == "set-strictmode",
                    "{profile}: `{}` changes the machine",
                    text(n, &text_lf)
                );
            }
        }
        for forbidden in [
            ".SetValue(",
            ".DeleteValue(",
            "CreateSubKey",
            "'/configure'",
            "'/set'",
            "'/restore'",
            "ShouldProcess",
            "Out-File",
            "Set-Content",
            "Add-Content",
            " > ",
        ] {
            assert!(!text_lf.contains(forbidden), "{profile}: {forbidden}");
        }

        // Every ConvertTo-Json has an explicit -Depth; every file is explicit UTF-8 without a BOM.
        for line in text_lf.lines().filter(|l| l.contains("ConvertTo-Json")) {
            assert!(line.contains("-Depth "), "{profile}: {line}");
        }
        for line in text_lf.lines().filter(|l| l.contains("WriteAllText")) {
            assert!(
                line.contains("(New-Object System.Text.UTF8Encoding -ArgumentList $false)"),
                "{profile}: {line}"
            );
        }
        // The firewall is read from the active store, filters in one bulk query each.
        for cmdlet in [
            "Get-NetFirewallProfile",
            "Get-NetFirewallRule",
            "Get-NetFirewallPortFilter",
            "Get-NetFirewallAddressFilter",
            "Get-NetFirewallApplicationFilter",
            "Get-NetFirewallServiceFilter",
        ] {
            let uses: Vec<&str> = text_lf.lines().filter(|l| l.contains(cmdlet)).collect();
            assert_eq!(uses.len(), 1, "{profile}: {cmdlet} once");
            assert!(
                uses[0].contains("-PolicyStore ActiveStore"),
                "{profile}: {cmdlet}"
            );
            assert!(!uses[0].contains("-AssociatedNetFirewallRule"));
        }

        // The registry table carries every HKLM value of the policy as quoted literals.
        let values = string_values(&tree, &text_lf).unwrap();
        let policy = policy::build(&state);
        for e in policy.machine.iter().filter(|e| !e.value.starts_with("**")) {
            assert!(values.contains(&e.key), "{profile}: {}", e.key);
            assert!(values.contains(&e.value), "{profile}: {}", e.value);
        }
    }
}

#[test]
fn hostile_profile_values_do_not_change_the_collector() {
    let dir = TempDir::new("collect-hostile");
    let benign = hostile_state(dir.path(), r"C:\ATMApp\bin\atmapp.exe", "atmkiosk", "w")
        .expect("the benign profile resolves");
    let (benign_text, _) = collector(&benign);
    for wef in [
        "Server=x'\u{2018};$(y)",
        "Server=`n'@ \"@ #> <# ${env:x} | ; ] [ 日本語😀",
        "Server=''\u{2019}'\u{201B}",
    ] {
        let state = hostile_state(dir.path(), r"C:\ATMApp\bin\atmapp.exe", "atmkiosk", wef)
            .expect("accepted by check");
        let (text_lf, bytes) = collector(&state);
        let source = std::str::from_utf8(&bytes[3..]).unwrap();
        let tree = parse(source);
        assert!(syntax_problems(&tree, source).is_empty(), "{wef}");
        assert_eq!(
            shape(&tree),
            shape(&parse(&benign_text)),
            "{wef}: a value changed the syntax tree"
        );
        // The collector carries registry keys and value names, never the data it reads.
        let values = string_values(&tree, source).unwrap();
        assert!(
            !values.iter().any(|v| v.contains(wef)),
            "{wef} reached the collector"
        );
        assert!(!text_lf.contains('\r'));
    }
}

#[test]
fn the_build_ships_the_collector() {
    let dir = util::root().join("examples/regional-bank");
    let state = resolve_profile(&dir.join("branch-atm-shinjuku.toml")).unwrap();
    let files = hardbase::target::windows::emit::emit(&state).unwrap();
    let (_, bytes) = files
        .iter()
        .find(|(p, _)| p == "windows/Collect-Hardbase.ps1")
        .expect("windows/Collect-Hardbase.ps1 is emitted");
    assert_eq!(*bytes, collector(&state).1);
}

// ---------------------------------------------------------------- parsers on real exports

#[test]
fn the_real_secedit_export_and_auditpol_backup_parse() {
    let Some(samples) = samples_dir() else { return };
    let texts = snapshot::TextArena::new();
    let mut state = WindowsState::default();
    let inf = std::fs::read(samples.join("secedit-export-jebr/secpol.inf")).unwrap();
    snapshot::windows::parse("secedit.inf", &inf, &texts, &mut state).unwrap();
    let access = state.system_access.as_ref().unwrap();
    assert_eq!(access["MaximumPasswordAge"], "42");
    assert_eq!(access["MinimumPasswordLength"], "0");
    assert_eq!(
        access["NewGuestName"], "Gast",
        "the Dutch guest name, quotes removed"
    );
    let rights = state.privilege_rights.as_ref().unwrap();
    assert_eq!(
        rights["SeBackupPrivilege"],
        ["*S-1-5-32-544", "*S-1-5-32-551"]
    );
    let registry = state.security_registry_values.as_ref().unwrap();
    assert_eq!(
        registry[r"MACHINE\System\CurrentControlSet\Control\Lsa\NoLMHash"],
        "4,1"
    );

    let csv = std::fs::read(samples.join("auditpol-backup-sos/auditbaseline.csv")).unwrap();
    snapshot::windows::parse("auditpol.csv", &csv, &texts, &mut state).unwrap();
    let audit = state.audit.as_ref().unwrap();
    assert_eq!(audit.len(), 59, "every subcategory, no option or SACL row");
    assert!(audit.values().all(|v| *v == 3));
    assert_eq!(audit["{0CCE922B-69AE-11D9-BED3-505054503030}"], 3);

    // The same backup as UTF-16LE, and with a name in CP932 bytes, reads the same.
    let mut utf16 = vec![0xFF, 0xFE];
    for u in String::from_utf8(csv.clone()).unwrap().encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    assert_eq!(snapshot::windows::parse_auditpol(&utf16).unwrap(), *audit);
    let mut ansi = csv.clone();
    let at = ansi.windows(12).position(|w| w == b"IPsec Driver").unwrap();
    ansi.splice(
        at..at + 12,
        [0x83, 0x56, 0x83, 0x58, 0x83, 0x65, 0x83, 0x80],
    );
    assert_eq!(snapshot::windows::parse_auditpol(&ansi).unwrap(), *audit);
}

// ---------------------------------------------------------------- a snapshot folder

/// JSON as Windows PowerShell 5.1 `ConvertTo-Json` writes it: CRLF, four-space indentation,
/// two spaces after the colon, `'` `<` `>` `&` as `\u0027` `\u003c` `\u003e` `\u0026`.
pub(crate) fn ps51_json(value: &serde_json::Value) -> String {
    let pretty = serde_json::to_string_pretty(value).unwrap();
    let mut out = String::new();
    for line in pretty.lines() {
        let indent = line.len() - line.trim_start().len();
        let body = line.trim_start().replacen("\": ", "\":  ", 1);
        out.push_str(&" ".repeat(indent * 2));
        out.push_str(&body);
        out.push_str("\r\n");
    }
    out.trim_end()
        .replace('\'', "\\u0027")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Writes the files and a snapshot.json that records them, as the collector does.
pub(crate) fn write_snapshot(
    dir: &Path,
    files: &[(&str, Vec<u8>)],
    not_collected: serde_json::Value,
) {
    use sha2::{Digest, Sha256};
    std::fs::create_dir_all(dir).unwrap();
    let mut listed = serde_json::Map::new();
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
        let hash: String = Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        listed.insert(name.to_string(), hash.into());
    }
    let info = serde_json::json!({
        "host": "ATM-SHINJUKU-01",
        "collected_at": "2026-11-27T00:00:00Z",
        "collector": "hardbase 0.1.0 Collect-Hardbase.ps1",
        "family": "windows",
        "profile": "branch-atm-shinjuku",
        "files": listed,
        "not_collected": not_collected,
    });
    std::fs::write(dir.join("snapshot.json"), ps51_json(&info)).unwrap();
}

fn type_of(t: RegType) -> (i32, &'static str) {
    match t {
        RegType::Sz => (1, "String"),
        RegType::ExpandSz => (2, "ExpandString"),
        RegType::Dword => (4, "DWord"),
        RegType::Qword => (11, "QWord"),
        RegType::MultiSz => (7, "MultiString"),
    }
}

/// registry.json for a machine that holds exactly the profile's HKLM registry settings.
fn registry_records(state: &DesiredState) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for s in state.settings() {
        let SettingKind::Registry(r) = &s.kind else {
            continue;
        };
        if r.hive != Hive::LocalMachine {
            continue;
        }
        if r.absent {
            out.push(serde_json::json!({"Hive": "HKLM", "Key": r.key, "Name": r.value, "Present": false, "Type": 0, "TypeName": "", "Data": []}));
            continue;
        }
        let (n, name) = type_of(r.reg_type.unwrap());
        let data: Vec<String> = match r.data.as_ref().unwrap() {
            RegData::Number(x) => vec![x.to_string()],
            RegData::Text(t) => vec![t.clone()],
            RegData::List(l) => l.clone(),
        };
        out.push(serde_json::json!({"Hive": "HKLM", "Key": r.key, "Name": r.value, "Present": true, "Type": n, "TypeName": name, "Data": data}));
    }
    out
}

/// auditpol.csv (backup form) for a machine that audits exactly as the profile says.
fn auditpol_backup(state: &DesiredState) -> String {
    let mut out = String::from("Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,Exclusion Setting,Setting Value\r\n");
    for row in policy::build(state).audit {
        out.push_str(&format!(
            "ATM-SHINJUKU-01,System,{},{},{},,{}\r\n",
            row.subcategory.trim_start_matches("Audit "),
            row.guid.to_ascii_uppercase(),
            row.inclusion,
            row.value
        ));
    }
    out.push_str(
        "ATM-SHINJUKU-01,,Option:CrashOnAuditFail,,Disabled,,0\r\n,,FileGlobalSacl,,,,\r\n",
    );
    out
}

pub(crate) fn sample_files() -> Vec<(&'static str, Vec<u8>)> {
    let rules = serde_json::json!([
        {"InstanceID": "HB-NTP-OUT", "DisplayName": "NTP", "Group": "", "Enabled": 1, "Direction": 2, "Action": 2, "Profiles": 0,
         "PolicyStoreSource": "GroupPolicy (LGPO)", "Protocol": "UDP", "LocalPort": ["Any"], "RemotePort": ["123"], "IcmpType": ["Any"],
         "RemoteAddress": ["10.30.0.5"], "Program": "%SystemRoot%\\System32\\svchost.exe", "Service": "W32Time"},
        {"InstanceID": "{5A4B-it's}", "DisplayName": "Bob's <rule> & co", "Group": "@FirewallAPI.dll,-28502", "Enabled": 2, "Direction": 1, "Action": 4, "Profiles": 6,
         "PolicyStoreSource": "PersistentStore", "Protocol": null, "LocalPort": null, "RemotePort": null, "IcmpType": null,
         "RemoteAddress": null, "Program": null, "Service": null}
    ]);
    let profiles = serde_json::json!([
        {"Name": "Domain", "Enabled": 1, "DefaultInboundAction": 4, "DefaultOutboundAction": 4, "AllowLocalFirewallRules": 0, "AllowLocalIPsecRules": 0, "NotifyOnListen": 0, "LogBlocked": 1}
    ]);
    let services = serde_json::json!([
        {"Name": "MpsSvc", "StartMode": "Auto", "State": "Running", "DelayedAutoStart": false},
        {"Name": "RemoteRegistry", "StartMode": "Disabled", "State": "Stopped", "DelayedAutoStart": null}
    ]);
    let groups = serde_json::json!({
        "Groups": [{"Sid": "S-1-5-32-544", "Name": "Administrators", "Members": [{"Sid": "S-1-5-21-1-2-3-500", "Name": "Administrator"}]}],
        "Users": {"value": [{"Sid": "S-1-5-21-1-2-3-1001", "Name": "atmkiosk", "Disabled": false}], "Count": 1}
    });
    let listening = serde_json::json!({"Protocol": "tcp", "Address": "0.0.0.0", "Port": 135, "Pid": 900, "Process": "svchost"});
    let features = serde_json::json!([
        {"FeatureName": "SMB1Protocol", "State": 2, "StateName": "Disabled"},
        {"FeatureName": "Client-UnifiedWriteFilter", "State": 4, "StateName": "Enabled"}
    ]);
    let lockdown = serde_json::json!({"UwfFilter": {"CurrentEnabled": false, "NextEnabled": true}, "ShellLauncher": null, "KeyboardFilter": [], "NotCollected": {"WESL_UserSetting": "Invalid namespace"}});
    let keys = serde_json::json!([{"Hive": "HKLM", "Key": "SOFTWARE\\Policies\\X", "Present": true, "Values": [
        {"Hive": "HKLM", "Key": "SOFTWARE\\Policies\\X", "Name": "1", "Present": true, "Type": 1, "TypeName": "String", "Data": ["a"]}]}]);
    vec![
        ("firewall-rules.json", ps51_json(&rules).into_bytes()),
        ("firewall-profiles.json", ps51_json(&profiles).into_bytes()),
        ("services.json", ps51_json(&services).into_bytes()),
        ("group-members.json", ps51_json(&groups).into_bytes()),
        ("listening.json", ps51_json(&listening).into_bytes()),
        ("features.json", ps51_json(&features).into_bytes()),
        ("lockdown.json", ps51_json(&lockdown).into_bytes()),
        ("registry-keys.json", ps51_json(&keys).into_bytes()),
    ]
}

#[test]
fn a_snapshot_folder_in_the_collectors_format_loads() {
    let dir = TempDir::new("win-snapshot");
    let mut files = sample_files();
    files.push((
        "registry.json",
        b"\xEF\xBB\xBF[\r\n    {\r\n        \"Hive\":  \"HKLM\",\r\n        \"Key\":  \"SOFTWARE\\\\Policies\\\\Microsoft\\\\Windows\\\\EventLog\\\\Security\",\r\n        \"Name\":  \"MaxSize\",\r\n        \"Present\":  true,\r\n        \"Type\":  4,\r\n        \"TypeName\":  \"DWord\",\r\n        \"Data\":  [\r\n                     \"196608\"\r\n                 ]\r\n    }\r\n]".to_vec(),
    ));
    write_snapshot(
        dir.path(),
        &files,
        serde_json::json!({"secedit.inf": "Zugriff verweigert"}),
    );
    let live = snapshot::load(dir.path()).unwrap();
    assert_eq!(live.info.family, "windows");
    let w = &live.windows;
    assert_eq!(w.not_collected["secedit.inf"], "Zugriff verweigert");
    assert!(w.system_access.is_none(), "absent file: not collected");
    let reg = &w.registry.as_ref().unwrap()[0];
    assert_eq!((reg.kind, &*reg.kind_name), (4, "DWord"));
    assert_eq!(*reg.data, ["196608"]);
    let rules = w.firewall_rules.as_ref().unwrap();
    assert_eq!(rules[0].remote_ports.as_deref(), Some(&["123".into()][..]));
    assert_eq!(rules[1].id, "{5A4B-it's}");
    assert_eq!(rules[1].display_name, "Bob's <rule> & co");
    assert!(
        rules[1].local_ports.is_none(),
        "a filter not found stays None"
    );
    assert_eq!(
        w.users.as_ref().unwrap()[0].name,
        "atmkiosk",
        "the value/Count wrapper"
    );
    assert_eq!(
        w.listening.as_ref().unwrap().len(),
        1,
        "one object for a list"
    );
    assert_eq!(
        w.services
            .as_ref()
            .unwrap()
            .get("mpssvc")
            .unwrap()
            .delayed_auto_start,
        Some(false)
    );
    assert_eq!(
        w.features.as_ref().unwrap()["smb1protocol"]
            .state_name
            .as_deref(),
        Some("Disabled")
    );
    assert_eq!(*w.registry_keys.as_ref().unwrap()[0].values[0].data, ["a"]);
    assert!(w.lockdown.is_some());
}

#[test]
fn malformed_and_truncated_files_are_errors_at_their_line() {
    let good = sample_files();
    let cases: Vec<(&str, Vec<u8>, usize, &str)> = vec![
        // Truncated: the collector stopped mid-write.
        ("services.json", good[2].1[..60].to_vec(), 4, "truncated"),
        // A string where the CIM number belongs, on line 6.
        (
            "firewall-profiles.json",
            String::from_utf8(good[1].1.clone())
                .unwrap()
                .replace("\"Enabled\":  1", "\"Enabled\":  \"True\"")
                .into_bytes(),
            7,
            "\"True\"",
        ),
        // A required field missing.
        (
            "features.json",
            b"[\r\n    {\r\n        \"FeatureName\":  \"SMB1Protocol\"\r\n    }\r\n]".to_vec(),
            4,
            "State",
        ),
        // Not UTF-16 and no section header.
        ("secedit.inf", b"MinimumPasswordAge = 0\r\n".to_vec(), 1, ""),
        // A value auditpol never writes.
        (
            "auditpol.csv",
            b"Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,Exclusion Setting,Setting Value\r\nM,System,Logon,{0CCE9215-69AE-11D9-BED3-505054503030},Success,,x\r\n".to_vec(),
            2,
            "",
        ),
    ];
    for (name, bytes, line, word) in cases {
        let dir = TempDir::new(&format!("win-bad-{}", name.replace('.', "-")));
        write_snapshot(dir.path(), &[(name, bytes)], serde_json::json!({}));
        let e = snapshot::load(dir.path()).unwrap_err();
        assert_eq!(e.file, name, "{e}");
        assert!(e.line >= 1, "{name}: no line in {e}");
        assert!(e.line <= line + 1, "{name}: line {} for {e}", e.line);
        assert!(e.message.contains(word), "{name}: {e}");
    }
}

#[test]
fn hardbase_diff_compares_registry_and_audit_values() {
    let profile = util::root().join("examples/regional-bank/branch-atm-shinjuku.toml");
    let state = resolve_profile(&profile).unwrap();
    let records = registry_records(&state);
    assert!(records.len() > 10);
    let changed_key = records[0]["Key"].as_str().unwrap().to_string();
    let changed_name = records[0]["Name"].as_str().unwrap().to_string();
    let dir = TempDir::new("win-diff");
    let run_diff = |dir: &Path, records: &[serde_json::Value]| {
        write_snapshot(
            dir,
            &[
                (
                    "registry.json",
                    ps51_json(&serde_json::json!(records)).into_bytes(),
                ),
                ("auditpol.csv", auditpol_backup(&state).into_bytes()),
            ],
            serde_json::json!({}),
        );
        let run = util::run(&[
            "diff",
            profile.to_str().unwrap(),
            "--live",
            dir.to_str().unwrap(),
            "--at",
            "2026-11-27",
            "--format",
            "json",
        ]);
        assert_eq!(run.status, 1, "{}", run.stderr);
        let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        doc["controls"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["settings"].as_array().unwrap().clone())
            .collect::<Vec<serde_json::Value>>()
    };
    let hklm = |s: &serde_json::Value| {
        s["kind"] == "registry" && s["target"].as_str().unwrap().starts_with("registry HKLM")
    };

    // Exactly as the profile says: every HKLM registry and audit setting is compliant.
    let settings = run_diff(&dir.path().join("same"), &records);
    for s in settings
        .iter()
        .filter(|s| hklm(s) || s["kind"] == "audit_subcategory")
    {
        assert_eq!(s["status"], "compliant", "{s}");
    }
    assert!(
        settings
            .iter()
            .filter(|s| s["kind"] == "audit_subcategory")
            .count()
            > 10
    );
    // Sources that were not collected are never compliant.
    for s in settings
        .iter()
        .filter(|s| s["kind"] == "service" || s["kind"] == "firewall_rule")
    {
        assert_eq!(s["status"], "not-collected", "{s}");
    }

    // One value changed: that setting alone drifts, with expected and actual.
    let mut changed = records.clone();
    let was = changed[0]["Data"][0].as_str().unwrap_or("0").to_string();
    let now = if was == "1" { "0" } else { "1" };
    changed[0]["Data"] = serde_json::json!([now]);
    let settings = run_diff(&dir.path().join("changed"), &changed);
    let target = format!(
        "registry HKLM\\{}\\{}",
        changed_key.to_ascii_lowercase(),
        changed_name.to_ascii_lowercase()
    );
    let drifted: Vec<&serde_json::Value> = settings
        .iter()
        .filter(|s| hklm(s) && s["status"] != "compliant")
        .collect();
    assert!(!drifted.is_empty());
    for s in &drifted {
        assert_eq!(s["target"], target.as_str(), "{s}");
        assert_eq!(s["status"], "drift");
        assert_eq!(s["actual"], format!("{now} (DWord)"));
        assert_eq!(s["expected"], format!("{was} (DWord)"));
    }
}

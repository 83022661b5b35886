//! AppLocker in registry.pol (`SrpV2`, windows-lockdown.md section 7), read back with Samba and
//! Python's XML parser, and the `check` refusals of lockdowns that break the terminal.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{
    atm_profile, override_baseline, python_with, root, run, run_in, run_python, TempDir,
};

/// Prints the Machine registry.pol's SrpV2 entries; rule XML is parsed by xml.etree.
const SRPV2_READ: &str = r#"
import json, sys
import xml.etree.ElementTree as ET
from samba.ndr import ndr_unpack
from samba.dcerpc import preg

f = ndr_unpack(preg.file, open(sys.argv[1], 'rb').read())
out = []
for e in f.entries:
    if '\\srpv2' not in e.keyname.lower():
        continue
    row = {'key': e.keyname, 'name': e.valuename, 'type': e.type, 'data': e.data}
    if e.type == 1:
        rule = ET.fromstring(e.data)
        cond = rule.find('Conditions')[0]
        row['xml'] = {'tag': rule.tag, 'attrib': rule.attrib,
                      'condition': cond.tag, 'condition_attrib': cond.attrib}
    out.append(row)
print(json.dumps(out))
"#;

fn machine_pol(profile_dir: &Path) -> PathBuf {
    let gpo = profile_dir.join("windows").join("gpo");
    let backup = std::fs::read_dir(&gpo)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .expect("a GPO backup folder");
    backup.join("DomainSysvol/GPO/Machine/registry.pol")
}

/// FUN-APP-003 as the catalog declares it: (description, SID, path).
const SCRIPT_RULES: [(&str, &str, &str); 3] = [
    (
        "Administrators may run scripts from any location",
        "S-1-5-32-544",
        "*",
    ),
    ("Scripts in the Windows folder", "S-1-1-0", r"%WINDIR%\*"),
    (
        "Scripts in the Program Files folder",
        "S-1-1-0",
        r"%PROGRAMFILES%\*",
    ),
];

#[test]
fn example_atm_script_rules_are_in_registry_pol() {
    let tmp = TempDir::new("applocker-srpv2");
    let out = tmp.path().join("dist");
    let r = run(&[
        "build",
        "examples/regional-bank/branch-atm-shinjuku.toml",
        "--out",
        &out.display().to_string(),
    ]);
    assert_eq!(r.status, 0, "build failed:\n{}", r.stderr);
    let pol = machine_pol(&out.join("branch-atm-shinjuku"));
    let Some(python) = python_with(&["samba.ndr", "samba.dcerpc.preg"]) else {
        return;
    };
    let read: Vec<Value> = serde_json::from_slice(&run_python(
        &python,
        SRPV2_READ,
        [pol.display().to_string()],
    ))
    .unwrap();
    let collection = r"Software\Policies\Microsoft\Windows\SrpV2\Script";
    let summary: Vec<(String, String, u64)> = read
        .iter()
        .map(|e| {
            (
                e["key"].as_str().unwrap().to_string(),
                e["name"].as_str().unwrap().to_string(),
                e["type"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(read.len(), 2 + SCRIPT_RULES.len(), "{summary:#?}");
    assert_eq!(
        summary[..2],
        [
            (collection.to_string(), "EnforcementMode".to_string(), 4),
            (collection.to_string(), "AllowWindows".to_string(), 4),
        ]
    );
    assert_eq!(read[0]["data"], 1, "enforce is EnforcementMode 1");
    assert_eq!(read[1]["data"], 0);
    let mut ids = Vec::new();
    for (entry, (description, sid, path)) in read[2..].iter().zip(SCRIPT_RULES) {
        let key = entry["key"].as_str().unwrap();
        let id = key
            .strip_prefix(collection)
            .and_then(|k| k.strip_prefix('\\'))
            .unwrap_or_else(|| panic!("{key} is not a rule subkey of {collection}"));
        assert_eq!(entry["name"], "Value");
        assert_eq!(entry["type"], 1, "REG_SZ");
        let xml = &entry["xml"];
        assert_eq!(xml["tag"], "FilePathRule");
        assert_eq!(xml["condition"], "FilePathCondition");
        assert_eq!(
            xml["attrib"],
            serde_json::json!({
                "Id": id, "Name": description, "Description": description,
                "UserOrGroupSid": sid, "Action": "Allow",
            })
        );
        assert_eq!(xml["condition_attrib"], serde_json::json!({ "Path": path }));
        ids.push(id.to_string());
    }
    // Ids are GUIDs (lower case, no braces) and distinct.
    for id in &ids {
        assert!(
            uuid::Uuid::parse_str(id).is_ok() && id.len() == 36 && *id == id.to_ascii_lowercase(),
            "{id}"
        );
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), SCRIPT_RULES.len());
}

/// The rule ids do not depend on the profile: a second profile has the same subkeys.
#[test]
fn rule_ids_are_profile_independent() {
    let tmp = TempDir::new("applocker-ids");
    let example = root().join("examples/regional-bank/branch-atm-shinjuku.toml");
    std::fs::write(
        tmp.path().join("other-atm.toml"),
        format!(
            "[profile]\nname = \"other-atm\"\nextends = [{:?}]\n",
            example.display().to_string()
        ),
    )
    .unwrap();
    let out = tmp.path().join("dist");
    let out_arg = out.display().to_string();
    let r = run_in(
        tmp.path(),
        &[
            "build",
            "other-atm.toml",
            example.to_str().unwrap(),
            "--out",
            &out_arg,
        ],
    );
    assert_eq!(r.status, 0, "build failed:\n{}", r.stderr);
    let srp = |name: &str| -> Vec<String> {
        let text = std::fs::read(machine_pol(&out.join(name))).unwrap();
        let entries = hardbase::target::windows::registry_pol::parse(&text).unwrap();
        entries
            .into_iter()
            .filter(|e| e.key.contains("SrpV2"))
            .map(|e| format!("{}|{}", e.key, e.value))
            .collect()
    };
    let a = srp("branch-atm-shinjuku");
    assert_eq!(a.len(), 5, "{a:?}");
    assert_eq!(a, srp("other-atm"));
}

/// A profile extending the example ATM, with an override of FUN-DEV-002 under `--baselines`.
fn device_fixture(tmp: &TempDir, setting: &str) -> Vec<String> {
    atm_profile(
        tmp.path(),
        "\n[params]\nperipheral_device_ids = [\n  'USB\\VID_0B00&PID_0001',\n  'USB\\VID_0B00&PID_0009',\n]\n",
    );
    override_baseline(
        tmp.path(),
        "function.toml",
        "FUN-DEV-002",
        "kind = \"device_install\"",
        setting,
    );
    vec![
        "--baselines".into(),
        tmp.path().join("baselines").display().to_string(),
        "check".into(),
        "atm.toml".into(),
    ]
}

#[test]
fn peripheral_missing_from_the_allow_list_is_refused() {
    let tmp = TempDir::new("applocker-peripheral-allow");
    let args = device_fixture(
        &tmp,
        "kind = \"device_install\"\nlayered = false\ndeny_unspecified = true\nallow_device_ids = ['USB\\VID_0B00&PID_0001']",
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run_in(tmp.path(), &args);
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("error[lockdown-conflict]"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("lacks the peripherals `USB\\VID_0B00&PID_0009`"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("PID_0001`"), "{}", r.stderr);
    assert!(r.stderr.contains("--> atm.toml:6:25"), "{}", r.stderr);
}

#[test]
fn unlayered_removable_denial_is_refused() {
    let tmp = TempDir::new("applocker-peripheral-removable");
    let args = device_fixture(
        &tmp,
        "kind = \"device_install\"\nlayered = false\ndeny_unspecified = false\ndeny_removable = true\nallow_device_ids = [\"${peripheral_device_ids}\"]",
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run_in(tmp.path(), &args);
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("without layered evaluation"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--> atm.toml:6:25"), "{}", r.stderr);
}

#[test]
fn allowed_peripherals_pass() {
    let tmp = TempDir::new("applocker-peripheral-ok");
    let args = device_fixture(
        &tmp,
        "kind = \"device_install\"\nlayered = true\ndeny_unspecified = true\ndeny_removable = true\nallow_device_ids = [\"${peripheral_device_ids}\"]",
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run_in(tmp.path(), &args);
    assert_eq!(r.status, 0, "{}", r.stderr);
}

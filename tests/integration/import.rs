//! `hardbase import gpo` and `import compare-gpo` on the real GPO backups beside the repository:
//! each backup is imported, a Windows profile extending the imported layer is built, and
//! Samba reads the built registry.pol, GptTmpl.inf and audit.csv and sees the backup's entries,
//! minus exactly those the importer reported as left out.

use std::path::{Path, PathBuf};

use hardbase::target::windows::registry_pol::{self, PolData};
use serde_json::Value;

use crate::util::{python_with, run, run_python, samples_dir, TempDir};

/// What Samba reads from the three Machine files of a GPO folder, as JSON.
const SAMBA_READ: &str = r#"
import json, os, sys
from samba.ndr import ndr_unpack
from samba.dcerpc import preg
from samba.gp_parse.gp_inf import GptTmplInfParser
from samba.gp_parse.gp_csv import GPAuditCsvParser

def find(root, parts):
    for part in parts:
        names = [n for n in os.listdir(root) if n.lower() == part.lower()] if os.path.isdir(root) else []
        if not names:
            return None
        root = os.path.join(root, names[0])
    return root

machine = find(sys.argv[1], ['DomainSysvol', 'GPO', 'Machine'])
out = {'pol': [], 'inf': {}, 'csv': []}
pol = find(machine, ['registry.pol'])
if pol:
    # Keep the unpacked file alive: its entries point into its memory.
    f = ndr_unpack(preg.file, open(pol, 'rb').read())
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
        out['pol'].append([e.keyname, e.valuename, t, v])
inf = find(machine, ['Microsoft', 'Windows NT', 'SecEdit', 'GptTmpl.inf'])
if inf:
    p = GptTmplInfParser()
    p.parse(open(inf, 'rb').read())
    for name, section in p.sections.items():
        if name not in ('Unicode', 'Version') and section.param_list:
            out['inf'][name] = section.param_list
csv = find(machine, ['Microsoft', 'Windows NT', 'Audit', 'audit.csv'])
if csv:
    p = GPAuditCsvParser()
    p.parse(open(csv, 'rb').read())
    out['csv'] = [[l.get('Subcategory'), l.get('Subcategory GUID'), l.get('Setting Value')] for l in p.lines]
print(json.dumps(out))
"#;

/// One setting as Samba reads it: (what, identity, value). A `[Registry Values]` line of
/// GptTmpl.inf and a registry.pol value are the same kind of thing: hardbase delivers both in
/// registry.pol, so both are `reg` with the key path (case-insensitive) and `type:data`.
type Canon = (String, String, String);

fn reg_id(path: &str) -> String {
    path.to_lowercase()
}

/// The items of an INF REG_MULTI_SZ, where `","` is a comma inside an item.
fn inf_items(data: &str) -> Vec<String> {
    if data.is_empty() {
        return Vec::new();
    }
    data.replace("\",\"", "\u{1}")
        .split(',')
        .map(|s| s.replace('\u{1}', ","))
        .collect()
}

fn canon(samba: &Value) -> Vec<Canon> {
    let mut out = Vec::new();
    for e in samba["pol"].as_array().unwrap() {
        let (key, name, t) = (
            e[0].as_str().unwrap(),
            e[1].as_str().unwrap(),
            e[2].as_u64().unwrap(),
        );
        out.push((
            "reg".into(),
            reg_id(&format!("{key}\\{name}")),
            format!("{t}:{}", e[3]),
        ));
    }
    for (section, rows) in samba["inf"].as_object().unwrap() {
        for row in rows.as_array().unwrap() {
            match section.as_str() {
                "Registry Values" => {
                    let line = row.as_str().unwrap();
                    let (path, rest) = line.split_once('=').unwrap();
                    let (t, data) = rest.split_once(',').unwrap();
                    let path = &path.trim()[8..];
                    let value = match t.trim() {
                        "1" | "2" => Value::from(data.trim_matches('"')),
                        "4" => Value::from(data.trim().parse::<u64>().unwrap()),
                        "7" => Value::from(inf_items(data)),
                        _ => Value::from(data),
                    };
                    out.push(("reg".into(), reg_id(path), format!("{}:{value}", t.trim())));
                }
                "Privilege Rights" => {
                    let mut sids: Vec<String> = row[1]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| s.as_str().unwrap().to_ascii_uppercase())
                        .filter(|s| !s.is_empty())
                        .collect();
                    sids.sort();
                    out.push((
                        format!("inf {section}"),
                        row[0].as_str().unwrap().to_lowercase(),
                        sids.join(","),
                    ));
                }
                _ => {
                    let fields = row.as_array().unwrap();
                    out.push((
                        format!("inf {section}"),
                        fields[0].as_str().unwrap_or_default().to_lowercase(),
                        serde_json::to_string(&fields[1..]).unwrap(),
                    ));
                }
            }
        }
    }
    for row in samba["csv"].as_array().unwrap() {
        let guid = row[1].as_str().unwrap_or_default();
        let value = row[2].as_str().unwrap_or_default().to_string();
        if guid.is_empty() {
            let name = row[0].as_str().unwrap_or_default().to_string();
            out.push(("audit option".into(), name, value));
        } else {
            out.push(("audit".into(), guid.to_ascii_uppercase(), value));
        }
    }
    out.sort();
    out
}

/// The (what, identity) of an entry the importer reported as left out.
fn left_out_id(e: &Value) -> (String, String) {
    let (file, section, name) = (
        e["file"].as_str().unwrap(),
        e["section"].as_str().unwrap(),
        e["name"].as_str().unwrap(),
    );
    match (file, section) {
        ("registry.pol", _) => ("reg".into(), reg_id(&format!("{section}\\{name}"))),
        ("GptTmpl.inf", "Registry Values") => ("reg".into(), reg_id(&name[8..])),
        ("GptTmpl.inf", _) => (format!("inf {section}"), name.to_lowercase()),
        (_, _) if name.starts_with('{') => ("audit".into(), name.to_ascii_uppercase()),
        _ => ("audit option".into(), name.to_string()),
    }
}

/// Every GPO backup (a `{BackupID}` folder with DomainSysvol) under the sample folder.
fn backups(samples: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(samples)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_dir() && e.file_name().to_string_lossy().starts_with('{'))
        .filter(|e| e.path().join("DomainSysvol").is_dir())
        .map(|e| e.into_path())
        .collect();
    out.sort();
    out
}

/// The entries each backup is expected to leave out, by backup folder name, and why.
fn expected_left_out(folder: &str) -> Vec<&'static str> {
    // (UNC hardened-path values named `\\*\NETLOGON` and `\\*\SYSVOL` are imported: value
    // names end at a NUL in registry.pol, so a backslash is carried intact.)
    match folder {
        // Firewall profile values only: all of them are imported.
        "{3AD8D9F1-7CD7-4A0B-955A-8BBB76E51E23}" => vec![],
        // LockoutDuration = -1 ("until an administrator unlocks"): security_option numbers
        // are 0 or more.
        "{A2A38432-E322-437F-9975-B7CC7F16F4AA}" => {
            vec!["GptTmpl.inf [System Access] LockoutDuration"]
        }
        // Three REG_NONE "create the key" records for the firewall Logging keys: no setting
        // kind only creates a key.
        "{70CF3C23-9F4D-4E50-8D2A-DEAD79D5A724}" => vec![
            r"registry.pol Software\Policies\Microsoft\WindowsFirewall\DomainProfile\Logging\",
            r"registry.pol Software\Policies\Microsoft\WindowsFirewall\PrivateProfile\Logging\",
            r"registry.pol Software\Policies\Microsoft\WindowsFirewall\PublicProfile\Logging\",
        ],
        other => panic!("no expectation for the backup {other}; add one"),
    }
}

fn label(e: &Value) -> String {
    let (file, section, name) = (
        e["file"].as_str().unwrap(),
        e["section"].as_str().unwrap(),
        e["name"].as_str().unwrap(),
    );
    match file {
        "registry.pol" => format!("{file} {section}\\{name}"),
        "GptTmpl.inf" => format!("{file} [{section}] {name}"),
        _ => format!("{file} {name}"),
    }
}

fn built_gpo(dist: &Path) -> PathBuf {
    let gpo = dist.join("windows").join("gpo");
    std::fs::read_dir(&gpo)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.is_dir())
        .expect("the built GPO backup folder")
}

#[test]
fn every_sample_backup_imports_and_builds_back_to_the_same_entries() {
    let Some(samples) = samples_dir() else { return };
    let Some(python) = python_with(&[
        "samba.ndr",
        "samba.dcerpc.preg",
        "samba.gp_parse.gp_inf",
        "samba.gp_parse.gp_csv",
    ]) else {
        return;
    };
    let all = backups(&samples);
    assert_eq!(all.len(), 3, "the sample folder holds three GPO backups");
    for (i, backup) in all.iter().enumerate() {
        let folder = backup.file_name().unwrap().to_string_lossy().into_owned();
        let tmp = TempDir::new(&format!("import-{i}"));
        let layer = tmp.path().join("imported.toml");
        let r = run(&[
            "import",
            "gpo",
            backup.to_str().unwrap(),
            "--output",
            layer.to_str().unwrap(),
            "--format",
            "json",
        ]);
        assert_eq!(r.status, 0, "{}", r.stderr);
        let report: Value = serde_json::from_str(&r.stdout).unwrap();
        let left_out = report["left_out"].as_array().unwrap();
        let mut labels: Vec<String> = left_out.iter().map(label).collect();
        labels.sort();
        let mut expected: Vec<String> = expected_left_out(&folder)
            .into_iter()
            .map(String::from)
            .collect();
        expected.sort();
        assert_eq!(labels, expected, "left out of {folder}");
        eprintln!(
            "{folder}: {} entries in, {} mapped to catalog controls ({}), {} imported as explicit settings ({} moved from GptTmpl.inf to registry.pol), {} left out",
            report["entries_in"],
            report["mapped"],
            report["mappings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["control"].as_str().unwrap())
                .collect::<Vec<_>>()
                .join(", "),
            report["explicit"],
            report["moved_to_registry_pol"],
            report["left_out_count"],
        );
        let counted = report["mapped"].as_u64().unwrap()
            + report["explicit"].as_u64().unwrap()
            + report["left_out_count"].as_u64().unwrap();
        assert_eq!(counted, report["entries_in"].as_u64().unwrap());

        // A Windows terminal profile with no role baseline (`tiers = []`): only the layer's
        // controls, with the built-in catalog loaded beside the imported one.
        let profile = tmp.path().join("terminal.toml");
        std::fs::write(
            &profile,
            "[profile]\nname = \"imported-terminal\"\nrole = \"atm-terminal\"\nplatform = \"windows-10-iot-ltsc-2021\"\nmembership = \"workgroup\"\nextends = [\"imported.toml\"]\ntiers = []\n",
        )
        .unwrap();
        let dist = tmp.path().join("dist");
        let baselines = tmp.path().join("baselines");
        let r = run(&[
            "build",
            profile.to_str().unwrap(),
            "--out",
            dist.to_str().unwrap(),
            "--baselines",
            baselines.to_str().unwrap(),
        ]);
        assert_eq!(r.status, 0, "{}", r.stderr);
        let built = built_gpo(&dist.join("imported-terminal"));

        let read = |dir: &Path| -> Value {
            serde_json::from_slice(&run_python(&python, SAMBA_READ, [dir])).unwrap()
        };
        let original = canon(&read(backup));
        let rebuilt = canon(&read(&built));
        let mut expected = original.clone();
        for e in left_out {
            let (what, id) = left_out_id(e);
            let at = expected
                .iter()
                .position(|(w, i, _)| *w == what && *i == id)
                .unwrap_or_else(|| panic!("left-out entry {what} {id} is not in {folder}"));
            expected.remove(at);
        }
        let missing: Vec<&Canon> = expected.iter().filter(|e| !rebuilt.contains(e)).collect();
        let extra: Vec<&Canon> = rebuilt.iter().filter(|e| !expected.contains(e)).collect();
        assert!(
            missing.is_empty() && extra.is_empty() && expected.len() == rebuilt.len(),
            "{folder}: Samba sees a difference\nmissing: {missing:#?}\nextra: {extra:#?}"
        );
        eprintln!(
            "{folder}: Samba reads the {} expected entries in the built registry.pol, GptTmpl.inf and audit.csv",
            rebuilt.len()
        );
    }
}

#[test]
fn import_finds_the_backup_inside_its_parent_folder() {
    let Some(samples) = samples_dir() else { return };
    let tmp = TempDir::new("import-parent");
    let parent = samples.join("nsa-shb").join("firewall");
    let layer = tmp.path().join("fw.toml");
    let r = run(&[
        "import",
        "gpo",
        parent.to_str().unwrap(),
        "--output",
        layer.to_str().unwrap(),
        "--name",
        "Firewall",
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(r.stdout.contains("24 entries"), "{}", r.stdout);
    let catalog =
        std::fs::read_to_string(tmp.path().join("baselines/imported-firewall.toml")).unwrap();
    assert!(catalog.contains("id = \"IMP-FIREWALL"), "{catalog}");
    assert!(catalog.contains("ja = 'HKLM\\"), "{catalog}");
    let text = std::fs::read_to_string(&layer).unwrap();
    assert!(!text.contains("role"), "a layer names no role: {text}");

    let r = run(&["import", "gpo", samples.to_str().unwrap()]);
    assert_eq!(r.status, 2);
    assert!(r.stderr.contains("is not a GPO backup"), "{}", r.stderr);
}

fn copy_dir(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from)
        .into_iter()
        .filter_map(Result::ok)
    {
        let target = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

#[test]
fn compare_gpo_reports_equal_and_the_one_change() {
    let Some(samples) = samples_dir() else { return };
    let backup = backups(&samples)
        .into_iter()
        .find(|b| b.to_string_lossy().contains("{A2A38432"))
        .unwrap();
    let b = backup.to_str().unwrap();
    let r = run(&["import", "compare-gpo", b, b]);
    assert_eq!(r.status, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("equal: 189 same, 0 only in A, 0 only in B, 0 changed"),
        "{}",
        r.stdout
    );

    let tmp = TempDir::new("compare-gpo");
    let copy = tmp.path().join("copy");
    copy_dir(&backup, &copy);
    let pol = copy.join("DomainSysvol/GPO/Machine/registry.pol");
    let mut entries = registry_pol::parse(&std::fs::read(&pol).unwrap()).unwrap();
    let changed = entries
        .iter_mut()
        .find(|e| matches!(e.data, PolData::Dword(_)))
        .unwrap();
    let PolData::Dword(n) = changed.data else {
        unreachable!()
    };
    changed.data = PolData::Dword(n + 1);
    let (key, name) = (changed.key.clone(), changed.value.clone());
    std::fs::write(&pol, registry_pol::write(&entries).unwrap()).unwrap();

    let r = run(&[
        "import",
        "compare-gpo",
        b,
        copy.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(r.status, 1, "{}{}", r.stdout, r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["equal"], false);
    assert_eq!(doc["same"], 188);
    assert_eq!(doc["only_in_a"].as_array().unwrap().len(), 0);
    assert_eq!(doc["only_in_b"].as_array().unwrap().len(), 0);
    let changes = doc["changed"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(changes[0]["a"]["section"], key.as_str());
    assert_eq!(changes[0]["a"]["name"], name.as_str());
    assert_eq!(changes[0]["a"]["value"], format!("REG_DWORD {n}"));
    assert_eq!(changes[0]["b"]["value"], format!("REG_DWORD {}", n + 1));

    let r = run(&["import", "compare-gpo", b, copy.to_str().unwrap()]);
    assert_eq!(r.status, 1);
    let line = format!(
        "changed    registry.pol {key}\\{name}: REG_DWORD {n} -> REG_DWORD {}",
        n + 1
    );
    assert!(r.stdout.contains(&line), "{}", r.stdout);
}

/// Imported controls are include-only: loading their catalog folder adds nothing to a profile
/// that does not include them (the example ATM checks exactly as before).
#[test]
fn imported_controls_join_only_the_profiles_that_include_them() {
    let Some(samples) = samples_dir() else { return };
    let backup = backups(&samples).into_iter().next().unwrap();
    let tmp = TempDir::new("import-include-only");
    let layer = tmp.path().join("imported.toml");
    let r = run(&[
        "import",
        "gpo",
        backup.to_str().unwrap(),
        "--output",
        layer.to_str().unwrap(),
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let baselines = tmp.path().join("baselines");
    let catalog = std::fs::read_to_string(
        std::fs::read_dir(&baselines)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
    )
    .unwrap();
    assert!(catalog.contains("include_only = true"));
    let args = [
        "check",
        "examples/regional-bank/branch-atm-shinjuku.toml",
        "--format",
        "json",
        "--at",
        "2026-11-27",
    ];
    let plain = run(&args);
    let mut with = vec!["--baselines", baselines.to_str().unwrap()];
    with.extend_from_slice(&args);
    let loaded = run(&with);
    assert_eq!(loaded.status, 0, "{}", loaded.stdout);
    let ids = |out: &str| -> Vec<String> {
        let v: Value = serde_json::from_str(out).unwrap();
        v["profiles"][0]["controls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(&plain.stdout), ids(&loaded.stdout));
    assert!(ids(&loaded.stdout).iter().all(|id| !id.starts_with("IMP-")));
}

/// `hardbase diff --gpo A B` is `hardbase import compare-gpo A B`: the same output and exit
/// status, text and JSON; it excludes a profile and --live, and takes exactly two folders.
#[test]
fn diff_gpo_is_compare_gpo() {
    let Some(samples) = samples_dir() else { return };
    let backup = backups(&samples)
        .into_iter()
        .find(|b| b.to_string_lossy().contains("{A2A38432"))
        .unwrap();
    let tmp = TempDir::new("diff-gpo");
    let copy = tmp.path().join("copy");
    copy_dir(&backup, &copy);
    let pol = copy.join("DomainSysvol/GPO/Machine/registry.pol");
    let mut entries = registry_pol::parse(&std::fs::read(&pol).unwrap()).unwrap();
    entries.pop();
    std::fs::write(&pol, registry_pol::write(&entries).unwrap()).unwrap();
    let (a, b) = (backup.to_str().unwrap(), copy.to_str().unwrap());
    for (x, y, status) in [(a, a, 0), (a, b, 1)] {
        for format in ["text", "json"] {
            let compare = run(&["import", "compare-gpo", x, y, "--format", format]);
            let diff = run(&["diff", "--gpo", x, y, "--format", format]);
            assert_eq!(compare.status, status, "{}", compare.stderr);
            assert_eq!(diff.status, status, "{}", diff.stderr);
            assert_eq!(diff.stdout, compare.stdout);
        }
    }
    let r = run(&["diff", "--gpo", a, b]);
    assert!(
        r.stdout.contains("1 only in A, 0 only in B"),
        "{}",
        r.stdout
    );
    let out = tmp.path().join("gpo-diff.json");
    let r = run(&[
        "diff",
        "--gpo",
        a,
        b,
        "--format",
        "json",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.status, 1);
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(doc["only_in_a"].as_array().unwrap().len(), 1);

    let profile = "examples/regional-bank/branch-atm-shinjuku.toml";
    for (args, message) in [
        (vec!["diff", profile, "--gpo", a, b], "cannot be used with"),
        (
            vec!["diff", "--gpo", a, b, "--live", b],
            "cannot be used with",
        ),
        (vec!["diff", "--gpo", a], "2 values required"),
        (vec!["diff", profile], "--live <SNAPSHOT>"),
        (vec!["diff"], "<PROFILE>"),
        (
            vec!["diff", "--gpo", a, b, "--format", "sarif"],
            "`diff --gpo` writes text or json, not `--format sarif`",
        ),
    ] {
        let r = run(&args);
        assert_eq!(r.status, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(message), "{args:?}: {}", r.stderr);
    }
}

//! registry.pol, GptTmpl.inf, audit.csv and the GPO backup folder, checked against real files
//! (`../shared/samples/windows` beside the repository) and read back with Samba's parsers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use hardbase::target::windows::audit_csv::{self, AuditRow};
use hardbase::target::windows::gpo_backup::{self, BackupInput};
use hardbase::target::windows::gpttmpl_inf::{
    self, InfRegistryValue, InfService, InfValue, SecurityTemplate,
};
use hardbase::target::windows::registry_pol::{self, PolData, PolEntry};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{json, Value};

use crate::util::{python_with, run_python, samples_dir, TempDir};

const SAMBA_MODULES: [&str; 4] = [
    "samba.ndr",
    "samba.dcerpc.preg",
    "samba.gp_parse.gp_inf",
    "samba.gp_parse.gp_csv",
];

/// Prints, as JSON, what Samba reads from each file: `pol`, `inf` or `csv`, then paths.
const SAMBA_DUMP: &str = r#"
import json, sys
from samba.ndr import ndr_unpack
from samba.dcerpc import preg
from samba.gp_parse.gp_inf import GptTmplInfParser
from samba.gp_parse.gp_csv import GPAuditCsvParser

def pol(data):
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
    return {'count': f.num_entries, 'entries': out}

def inf(data):
    p = GptTmplInfParser()
    p.parse(data)
    out = {}
    for name, section in p.sections.items():
        if name in ('Unicode', 'Version') or not section.param_list:
            continue
        rows = []
        for row in section.param_list:
            if name == 'Privilege Rights':
                key, sids = row
                row = [key, [] if sids == [''] else sids]
            rows.append(row)
        out[name] = rows
    return out

def csv(data):
    p = GPAuditCsvParser()
    p.parse(data)
    return {'header': p.header,
            'rows': [[line.get(h) for h in p.header] for line in p.lines]}

kind = sys.argv[1]
print(json.dumps([globals()[kind](open(path, 'rb').read()) for path in sys.argv[2:]]))
"#;

/// Prints each XML file's element paths (`/{ns}a/{ns}b`, `…@attribute`) and namespace
/// declarations, as JSON.
const XML_SHAPE: &str = r#"
import json, sys
import xml.etree.ElementTree as ET

def shape(path):
    root = ET.parse(path).getroot()
    paths = set()
    def walk(e, parent):
        p = parent + '/' + e.tag
        paths.add(p)
        for a in e.attrib:
            paths.add(p + '@' + a)
        for c in e:
            walk(c, p)
    walk(root, '')
    namespaces = sorted({'%s=%s' % ns for _, ns in ET.iterparse(path, events=('start-ns',))})
    return {'paths': sorted(paths), 'namespaces': namespaces}

print(json.dumps([shape(p) for p in sys.argv[1:]]))
"#;

pub(crate) fn samba() -> Option<PathBuf> {
    python_with(&SAMBA_MODULES)
}

pub(crate) fn samba_dump(python: &Path, kind: &str, paths: &[PathBuf]) -> Vec<Value> {
    let mut args = vec![kind.to_string()];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    let out = run_python(python, SAMBA_DUMP, &args);
    serde_json::from_slice(&out).expect("the Samba dump is JSON")
}

/// The files under the sample folder whose name matches `pred`, sorted.
fn sample_files(dir: &Path, pred: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.expect("the sample folder can be walked"))
        .filter(|e| e.file_type().is_file())
        .filter(|e| pred(&e.file_name().to_string_lossy().to_lowercase()))
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

fn is_pol(name: &str) -> bool {
    name.ends_with(".pol")
}

fn is_inf(name: &str) -> bool {
    name.ends_with(".inf")
}

fn is_csv(name: &str) -> bool {
    name.ends_with(".csv")
}

fn relative(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir).unwrap_or(path).display().to_string()
}

// What Samba would report for our own values, in the shape of SAMBA_DUMP.

fn pol_json(entries: &[PolEntry]) -> Value {
    let rows: Vec<Value> = entries
        .iter()
        .map(|e| {
            let data = match &e.data {
                PolData::None => Value::Null,
                PolData::Sz(s) | PolData::ExpandSz(s) => json!(s),
                PolData::Binary(b) => {
                    json!(b.iter().map(|x| format!("{x:02x}")).collect::<String>())
                }
                PolData::Dword(n) => json!(n),
                PolData::Qword(n) => json!(n),
                PolData::MultiSz(items) => json!(items),
            };
            json!([e.key, e.value, e.data.type_code(), data])
        })
        .collect();
    json!({"count": entries.len(), "entries": rows})
}

fn inf_json(t: &SecurityTemplate) -> Value {
    let mut out = serde_json::Map::new();
    let mut put = |name: &str, rows: Vec<Value>| {
        if !rows.is_empty() {
            out.insert(name.to_string(), Value::Array(rows));
        }
    };
    put(
        "System Access",
        t.system_access
            .iter()
            .map(|(k, v)| match v {
                InfValue::Number(n) => json!([k, n.to_string()]),
                InfValue::Text(s) => json!([k, format!("\"{s}\"")]),
            })
            .collect(),
    );
    put(
        "Event Audit",
        t.event_audit
            .iter()
            .map(|(k, n)| json!([k, n.to_string()]))
            .collect(),
    );
    put(
        "Registry Values",
        t.registry_values
            .iter()
            .map(|v| json!(format!("{}={},{}", v.path, v.reg_type, v.data)))
            .collect(),
    );
    put(
        "Privilege Rights",
        t.privilege_rights
            .iter()
            .map(|(k, p)| json!([k, p]))
            .collect(),
    );
    put(
        "Service General Setting",
        t.services
            .iter()
            .map(|s| json!([s.name, s.mode.to_string(), s.sddl]))
            .collect(),
    );
    Value::Object(out)
}

fn csv_json(rows: &[AuditRow]) -> Value {
    json!({
        "header": audit_csv::HEADER,
        "rows": rows.iter().map(|r| json!([
            r.machine_name, r.policy_target, r.subcategory, r.guid, r.inclusion, r.exclusion, r.value
        ])).collect::<Vec<_>>(),
    })
}

// 1. Every real file is read, with the counts Samba sees.

#[test]
fn readers_take_every_sample_file() {
    let Some(dir) = samples_dir() else { return };
    let pols = sample_files(&dir, is_pol);
    let infs = sample_files(&dir, is_inf);
    let csvs = sample_files(&dir, is_csv);
    assert!(
        pols.len() >= 5 && infs.len() >= 5 && csvs.len() >= 3,
        "samples are missing"
    );
    let mut ours = BTreeMap::new();
    for path in &pols {
        let entries = registry_pol::parse(&std::fs::read(path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        ours.insert(path.clone(), pol_json(&entries));
    }
    let mut templates = BTreeMap::new();
    for path in &infs {
        let t = gpttmpl_inf::parse(&std::fs::read(path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            t.other.is_empty(),
            "{}: unexpected sections {:?}",
            path.display(),
            t.other
        );
        templates.insert(path.clone(), inf_json(&t));
    }
    let mut audits = BTreeMap::new();
    for path in &csvs {
        let rows = audit_csv::parse(&std::fs::read(path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        audits.insert(path.clone(), csv_json(&rows));
    }
    for (path, value) in ours.iter().chain(&templates).chain(&audits) {
        eprintln!("read {}: {}", relative(&dir, path), summary(value));
    }
    let Some(python) = samba() else { return };
    for (paths, kind, ours) in [
        (&pols, "pol", &ours),
        (&infs, "inf", &templates),
        (&csvs, "csv", &audits),
    ] {
        let theirs = samba_dump(&python, kind, paths);
        for (path, samba) in paths.iter().zip(theirs) {
            assert_eq!(
                ours[path],
                samba,
                "{}: our reader and Samba's disagree",
                relative(&dir, path)
            );
        }
    }
}

fn summary(value: &Value) -> String {
    if let Some(count) = value.get("count") {
        return format!("{count} entries");
    }
    if let Some(rows) = value.get("rows") {
        return format!("{} rows", rows.as_array().map_or(0, Vec::len));
    }
    let sections: Vec<String> = value
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| format!("{k}: {}", v.as_array().map_or(0, Vec::len)))
                .collect()
        })
        .unwrap_or_default();
    format!("[{}]", sections.join(", "))
}

// 2. Real data round-trips: parse → write → Samba reads the same as from the original.

#[test]
fn real_files_round_trip_through_our_writers() {
    let Some(dir) = samples_dir() else { return };
    let tmp = TempDir::new("windows-roundtrip");
    let mut originals = BTreeMap::<&str, Vec<PathBuf>>::new();
    let mut rewritten = BTreeMap::<&str, Vec<PathBuf>>::new();
    for (i, path) in sample_files(&dir, is_pol).into_iter().enumerate() {
        let bytes = std::fs::read(&path).unwrap();
        let entries = registry_pol::parse(&bytes).unwrap();
        let out = registry_pol::write(&entries).unwrap();
        assert_eq!(
            out,
            bytes,
            "{} is not byte-identical",
            relative(&dir, &path)
        );
        assert_eq!(registry_pol::parse(&out).unwrap(), entries);
        let copy = tmp.path().join(format!("{i}.pol"));
        std::fs::write(&copy, out).unwrap();
        originals.entry("pol").or_default().push(path);
        rewritten.entry("pol").or_default().push(copy);
    }
    for (i, path) in sample_files(&dir, is_inf).into_iter().enumerate() {
        let t = gpttmpl_inf::parse(&std::fs::read(&path).unwrap()).unwrap();
        let out = gpttmpl_inf::write(&t).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(gpttmpl_inf::parse(&out).unwrap(), t);
        let copy = tmp.path().join(format!("{i}.inf"));
        std::fs::write(&copy, out).unwrap();
        originals.entry("inf").or_default().push(path);
        rewritten.entry("inf").or_default().push(copy);
    }
    for (i, path) in sample_files(&dir, is_csv).into_iter().enumerate() {
        let rows = audit_csv::parse(&std::fs::read(&path).unwrap()).unwrap();
        let out = audit_csv::write(&rows);
        assert!(!out.starts_with(b"\xEF\xBB\xBF"));
        assert_eq!(audit_csv::parse(&out).unwrap(), rows);
        let copy = tmp.path().join(format!("{i}.csv"));
        std::fs::write(&copy, out).unwrap();
        originals.entry("csv").or_default().push(path);
        rewritten.entry("csv").or_default().push(copy);
    }
    let Some(python) = samba() else { return };
    for kind in ["pol", "inf", "csv"] {
        let before = samba_dump(&python, kind, &originals[kind]);
        let after = samba_dump(&python, kind, &rewritten[kind]);
        for ((path, b), a) in originals[kind].iter().zip(before).zip(after) {
            assert_eq!(
                a,
                b,
                "Samba reads our rewrite of {} differently",
                relative(&dir, path)
            );
        }
    }
}

// 3. Samba reads hand-built files of every data type, directive, section and row kind.

fn every_pol_entry() -> Vec<PolEntry> {
    let key = r"Software\Policies\Hardbase\Test";
    vec![
        PolEntry::new(key, "", PolData::None),
        PolEntry::new(key, "Sz", PolData::Sz("Block".into())),
        PolEntry::new(key, "EmptySz", PolData::Sz(String::new())),
        PolEntry::new(
            key,
            "ExpandSz",
            PolData::ExpandSz(r"%SystemRoot%\x.log".into()),
        ),
        PolEntry::new(key, "Binary", PolData::Binary(vec![0, 1, 0x7f, 0xff])),
        PolEntry::new(key, "Dword", PolData::Dword(u32::MAX)),
        PolEntry::new(
            key,
            "MultiSz",
            PolData::MultiSz(vec!["a".into(), "b c".into()]),
        ),
        PolEntry::new(key, "EmptyMultiSz", PolData::MultiSz(vec![])),
        PolEntry::new(key, "Qword", PolData::Qword(u64::MAX)),
        PolEntry::new(
            r"Software\Policies\Microsoft\WindowsFirewall\FirewallRules",
            "{0DE40C8E-C126-4A27-9371-A27DAB1039F7}",
            PolData::Sz("v2.30|Action=Block|Active=TRUE|Dir=Out|Name=Block “x”|".into()),
        ),
    ]
}

/// Every directive of MS-GPREG 3.2.5.1 under its own name.
fn every_directive() -> Vec<(&'static str, PolEntry)> {
    let key = r"Software\Policies\Hardbase\Directives";
    vec![
        ("**delvals.", PolEntry::delete_values(key)),
        ("**del.Value", PolEntry::delete(key, "Value")),
        (
            "**DeleteValues",
            PolEntry::new(key, "**DeleteValues", PolData::Sz("A;B".into())),
        ),
        (
            "**DeleteKeys",
            PolEntry::new(key, "**DeleteKeys", PolData::Sz("Sub1;Sub2".into())),
        ),
        (
            "**SecureKey",
            PolEntry::new(key, "**SecureKey", PolData::Dword(1)),
        ),
        (
            "**soft.Value",
            PolEntry::new(key, "**soft.Value", PolData::Dword(7)),
        ),
    ]
}

fn every_section() -> SecurityTemplate {
    SecurityTemplate {
        system_access: vec![
            ("MinimumPasswordLength".into(), InfValue::Number(14)),
            ("LockoutDuration".into(), InfValue::Number(-1)),
            ("NewGuestName".into(), InfValue::Text("Visitor ‘x’ $(y) `z`".into())),
            ("NewAdministratorName".into(), InfValue::Text(String::new())),
        ],
        event_audit: vec![
            ("AuditLogonEvents".into(), 3),
            ("AuditSystemEvents".into(), 0),
        ],
        registry_values: vec![
            InfRegistryValue::dword(r"MACHINE\System\CurrentControlSet\Control\Lsa\NoLMHash", 1),
            InfRegistryValue::string(
                r"MACHINE\System\CurrentControlSet\Control\Lsa\RestrictRemoteSAM",
                "O:BAG:BAD:(A;;RC;;;BA)",
            ),
            InfRegistryValue::expand_string(r"MACHINE\Software\Hardbase\Path", "%SystemRoot%"),
            InfRegistryValue {
                path: r"MACHINE\System\CurrentControlSet\Control\Lsa\FullPrivilegeAuditing".into(),
                reg_type: 3,
                data: "0".into(),
            },
            InfRegistryValue::multi_sz(
                r"MACHINE\Software\Microsoft\Windows\CurrentVersion\Policies\System\LegalNoticeText",
                &["If you are unauthorized, terminate access now", "Second line"],
            )
            .unwrap(),
            InfRegistryValue::multi_sz::<&str>(
                r"MACHINE\System\CurrentControlSet\Services\LanManServer\Parameters\NullSessionPipes",
                &[],
            )
            .unwrap(),
        ],
        privilege_rights: vec![
            ("SeTcbPrivilege".into(), vec![]),
            (
                "SeNetworkLogonRight".into(),
                vec!["*S-1-5-32-544".into(), "*S-1-5-32-555".into()],
            ),
            ("SeDenyNetworkLogonRight".into(), vec!["Gast".into()]),
        ],
        services: vec![
            InfService {
                name: "XboxGipSvc".into(),
                mode: 4,
                sddl: String::new(),
            },
            InfService {
                name: "Spooler, the printer".into(),
                mode: 3,
                sddl: "D:AR(A;;CCLCSWRPWPDTLOCRRC;;;SY)".into(),
            },
        ],
        other: vec![],
    }
}

fn subcategory(name: &str, guid: &str, inclusion: &str, value: &str) -> AuditRow {
    AuditRow {
        machine_name: String::new(),
        policy_target: "System".into(),
        subcategory: name.into(),
        guid: guid.into(),
        inclusion: inclusion.into(),
        exclusion: String::new(),
        value: value.into(),
    }
}

fn every_row_kind() -> Vec<AuditRow> {
    let option = |name: &str, text: &str, value: &str| AuditRow {
        machine_name: "ATM01".into(),
        policy_target: String::new(),
        subcategory: format!("Option:{name}"),
        guid: String::new(),
        inclusion: text.into(),
        exclusion: String::new(),
        value: value.into(),
    };
    vec![
        subcategory(
            "Audit Logon",
            "{0cce9215-69ae-11d9-bed3-505054503030}",
            "Success and Failure",
            "3",
        ),
        subcategory(
            "Audit PNP Activity",
            "{0cce9248-69ae-11d9-bed3-505054503030}",
            "Success",
            "1",
        ),
        subcategory(
            "Audit Logoff",
            "{0cce9216-69ae-11d9-bed3-505054503030}",
            "Failure",
            "2",
        ),
        subcategory(
            "Audit DPAPI Activity",
            "{0cce922d-69ae-11d9-bed3-505054503030}",
            "No Auditing",
            "0",
        ),
        AuditRow {
            policy_target: "S-1-5-21-1-2-3-1001".into(),
            exclusion: "Failure".into(),
            value: "9".into(),
            ..subcategory(
                "Audit Logon",
                "{0CCE9215-69AE-11D9-BED3-505054503030}",
                "Success",
                "",
            )
        },
        subcategory(
            "Audit \"quoted\", with comma",
            "{0cce9217-69ae-11d9-bed3-505054503030}",
            "Success",
            "1",
        ),
        option("CrashOnAuditFail", "Disabled", "0"),
        option("AuditBaseObjects", "Enabled", "1"),
        AuditRow {
            subcategory: "RegistryGlobalSacl".into(),
            value: "S:(AU;FA;KA;;;WD)".into(),
            ..option("", "", "")
        },
        AuditRow {
            subcategory: "FileGlobalSacl".into(),
            ..option("", "", "")
        },
    ]
}

#[test]
fn samba_reads_every_type_directive_section_and_row_kind() {
    let directives = every_directive();
    let mut entries = every_pol_entry();
    entries.extend(directives.iter().map(|(_, e)| e.clone()));
    let pol = registry_pol::write(&entries).unwrap();
    assert_eq!(registry_pol::parse(&pol).unwrap(), entries);
    let template = every_section();
    let inf = gpttmpl_inf::write(&template).unwrap();
    assert_eq!(gpttmpl_inf::parse(&inf).unwrap(), template);
    let rows = every_row_kind();
    let csv = audit_csv::write(&rows);
    assert_eq!(audit_csv::parse(&csv).unwrap(), rows);

    let Some(python) = samba() else { return };
    let tmp = TempDir::new("windows-every-kind");
    let write = |name: &str, bytes: &[u8]| {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        vec![path]
    };
    let samba_pol = samba_dump(&python, "pol", &write("registry.pol", &pol)).remove(0);
    assert_eq!(samba_pol, pol_json(&entries));
    let names: Vec<&str> = samba_pol["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[1].as_str().unwrap())
        .collect();
    for (directive, entry) in &directives {
        assert!(
            names.contains(&entry.value.as_str()),
            "Samba did not read directive {directive}"
        );
    }
    let samba_inf = samba_dump(&python, "inf", &write("GptTmpl.inf", &inf)).remove(0);
    assert_eq!(samba_inf, inf_json(&template));
    let samba_csv = samba_dump(&python, "csv", &write("audit.csv", &csv)).remove(0);
    assert_eq!(samba_csv, csv_json(&rows));
}

// 4. Hostile strings: each round-trips exactly, or the writer refuses it.

const HOSTILE: [&str; 34] = [
    "'",
    "\"",
    "‘",
    "’",
    "‚",
    "‛",
    "“",
    "”",
    "$(whoami)",
    "`calc`",
    "'@",
    "@'",
    "]",
    "[",
    "|",
    ";",
    "=",
    ",",
    "\0",
    "😀",
    "\\",
    " ",
    "\t",
    "\r\n",
    "\u{2028}",
    "\u{85}",
    "%PATH%",
    "]]>",
    "&<>",
    "\u{feff}",
    "a",
    "Z9",
    "日本語",
    "-1",
];

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::collection::vec(proptest::sample::select(HOSTILE.to_vec()), 0..6)
            .prop_map(|v| v.concat()),
        1 => any::<String>(),
    ]
}

/// Hostile strings, half of them without the few characters INF cannot carry, so that most
/// generated templates are written (and checked) rather than refused.
fn inf_text() -> impl Strategy<Value = String> {
    let writable: Vec<&str> = HOSTILE
        .iter()
        .copied()
        .filter(|s| {
            !s.contains(['"', '=', ',', ';', ' ', '\t']) && !s.chars().any(char::is_control)
        })
        .filter(|s| !s.contains('\u{2028}'))
        .collect();
    prop_oneof![
        proptest::collection::vec(proptest::sample::select(writable), 1..6)
            .prop_map(|v| v.concat()),
        hostile(),
    ]
}

fn pol_data() -> impl Strategy<Value = PolData> {
    prop_oneof![
        Just(PolData::None),
        hostile().prop_map(PolData::Sz),
        hostile().prop_map(PolData::ExpandSz),
        proptest::collection::vec(any::<u8>(), 0..16).prop_map(PolData::Binary),
        any::<u32>().prop_map(PolData::Dword),
        proptest::collection::vec(hostile(), 0..4).prop_map(PolData::MultiSz),
        any::<u64>().prop_map(PolData::Qword),
    ]
}

fn pol_entry() -> impl Strategy<Value = PolEntry> {
    (
        prop_oneof![
            hostile(),
            hostile().prop_map(|s| format!(r"Software\Policies\{s}")),
        ],
        hostile(),
        pol_data(),
    )
        .prop_map(|(key, value, data)| PolEntry::new(key, value, data))
}

fn inf_value() -> impl Strategy<Value = InfValue> {
    prop_oneof![
        any::<i64>().prop_map(InfValue::Number),
        inf_text().prop_map(InfValue::Text),
    ]
}

fn template() -> impl Strategy<Value = SecurityTemplate> {
    let key = prop_oneof![3 => "[A-Za-z][A-Za-z0-9_]{0,12}", 1 => inf_text()];
    let registry_value = prop_oneof![
        (inf_text(), any::<u32>())
            .prop_map(|(p, n)| InfRegistryValue::dword(format!(r"MACHINE\{p}"), n)),
        (inf_text(), inf_text())
            .prop_map(|(p, s)| InfRegistryValue::string(format!(r"MACHINE\{p}"), &s)),
        (inf_text(), proptest::collection::vec(inf_text(), 0..4)).prop_map(|(p, items)| {
            InfRegistryValue::multi_sz(format!(r"MACHINE\{p}"), &items).unwrap_or(
                InfRegistryValue {
                    path: format!(r"MACHINE\{p}"),
                    reg_type: 7,
                    data: items.join(","),
                },
            )
        }),
    ];
    (
        proptest::collection::vec((key.clone(), inf_value()), 0..4),
        proptest::collection::vec((key.clone(), any::<i64>()), 0..3),
        proptest::collection::vec(registry_value, 0..4),
        proptest::collection::vec(
            (
                key,
                proptest::collection::vec(prop_oneof![inf_text(), "\\*S-1-5-32-[0-9]{3}"], 0..4),
            ),
            0..4,
        ),
        proptest::collection::vec(
            (inf_text(), 2u32..5, inf_text()).prop_map(|(name, mode, sddl)| InfService {
                name,
                mode,
                sddl,
            }),
            0..3,
        ),
    )
        .prop_map(
            |(system_access, event_audit, registry_values, privilege_rights, services)| {
                SecurityTemplate {
                    system_access,
                    event_audit,
                    registry_values,
                    privilege_rights,
                    services,
                    other: vec![],
                }
            },
        )
}

fn audit_row() -> impl Strategy<Value = AuditRow> {
    let guid = "\\{[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\\}";
    prop_oneof![
        (
            hostile(),
            hostile(),
            hostile(),
            guid,
            hostile(),
            hostile(),
            0u32..20
        )
            .prop_filter_map(
                "an option or SACL name",
                |(machine_name, policy_target, subcategory, guid, inclusion, exclusion, value)| {
                    let row = AuditRow {
                        machine_name,
                        policy_target,
                        subcategory,
                        guid,
                        inclusion,
                        exclusion,
                        value: value.to_string(),
                    };
                    row.is_subcategory().then_some(row)
                }
            ),
        (hostile(), hostile(), hostile(), hostile()).prop_map(
            |(machine_name, name, inclusion, value)| {
                AuditRow {
                    machine_name,
                    policy_target: String::new(),
                    subcategory: format!("Option:{name}"),
                    guid: String::new(),
                    inclusion,
                    exclusion: String::new(),
                    value,
                }
            }
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn registry_pol_round_trips_or_refuses(entries in proptest::collection::vec(pol_entry(), 0..5)) {
        match registry_pol::write(&entries) {
            Ok(bytes) => prop_assert_eq!(registry_pol::parse(&bytes).unwrap(), entries),
            Err(e) => prop_assert!(e.starts_with("registry.pol: cannot write ["), "{}", e),
        }
    }

    #[test]
    fn gpttmpl_inf_round_trips_or_refuses(t in template()) {
        match gpttmpl_inf::write(&t) {
            Ok(bytes) => prop_assert_eq!(gpttmpl_inf::parse(&bytes).unwrap(), t),
            Err(e) => prop_assert!(e.starts_with("GptTmpl.inf: cannot write ["), "{}", e),
        }
    }

    #[test]
    fn audit_csv_round_trips(rows in proptest::collection::vec(audit_row(), 0..5)) {
        prop_assert_eq!(audit_csv::parse(&audit_csv::write(&rows)).unwrap(), rows);
    }

    #[test]
    fn readers_never_panic_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut pol = registry_pol::HEADER.to_vec();
        pol.extend_from_slice(&bytes);
        let _ = registry_pol::parse(&pol);
        let _ = registry_pol::parse(&bytes);
        let _ = gpttmpl_inf::parse(&bytes);
        let _ = audit_csv::parse(&bytes);
    }
}

#[test]
fn representable_hostile_strings_are_accepted() {
    for s in HOSTILE
        .iter()
        .filter(|s| !s.chars().any(|c| c.is_control() || c == '\u{2028}'))
    {
        let entry = PolEntry::new(
            format!(r"Software\Policies\x{s}y"),
            *s,
            PolData::MultiSz(if s.is_empty() {
                vec![]
            } else {
                vec![s.to_string()]
            }),
        );
        let entries = vec![
            entry,
            PolEntry::new(r"Software\P", *s, PolData::Sz(s.to_string())),
        ];
        let bytes = registry_pol::write(&entries).unwrap_or_else(|e| panic!("{s:?}: {e}"));
        assert_eq!(registry_pol::parse(&bytes).unwrap(), entries);

        let t = SecurityTemplate {
            system_access: vec![("NewGuestName".into(), InfValue::Text(s.to_string()))],
            ..SecurityTemplate::default()
        };
        let inf_ok = !s.contains(['"', '=']);
        assert_eq!(gpttmpl_inf::write(&t).is_ok(), inf_ok, "{s:?}");
    }
}

/// Writes accepted generated values and checks that Samba reads what was meant.
fn samba_agrees<T, S: Strategy<Value = T>>(
    python: &Path,
    kind: &str,
    strategy: S,
    write: impl Fn(&T) -> Option<Vec<u8>>,
    expected: impl Fn(&T) -> Value,
) {
    let tmp = TempDir::new(&format!("windows-samba-{kind}"));
    let mut runner = TestRunner::deterministic();
    let mut paths = Vec::new();
    let mut wanted = Vec::new();
    for attempt in 0..5000 {
        if paths.len() == 64 {
            break;
        }
        let value = strategy.new_tree(&mut runner).unwrap().current();
        if let Some(bytes) = write(&value) {
            let path = tmp.path().join(format!("{attempt}.{kind}"));
            std::fs::write(&path, bytes).unwrap();
            paths.push(path);
            wanted.push(expected(&value));
        }
    }
    assert!(paths.len() >= 32, "too few {kind} cases were accepted");
    let theirs = samba_dump(python, kind, &paths);
    for ((path, wanted), samba) in paths.iter().zip(wanted).zip(theirs) {
        assert_eq!(samba, wanted, "Samba reads {} differently", path.display());
    }
}

#[test]
fn samba_reads_generated_hostile_files_as_meant() {
    let Some(python) = samba() else { return };
    samba_agrees(
        &python,
        "pol",
        proptest::collection::vec(pol_entry(), 1..4),
        |e| registry_pol::write(e).ok(),
        |e| pol_json(e),
    );
    samba_agrees(
        &python,
        "inf",
        template(),
        |t| gpttmpl_inf::write(t).ok(),
        inf_json,
    );
    samba_agrees(
        &python,
        "csv",
        proptest::collection::vec(audit_row(), 1..4),
        |r| Some(audit_csv::write(r)),
        |r| csv_json(r),
    );
}

// 5. The GPO backup folder.

fn backup_inputs() -> (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>) {
    let mut machine = every_pol_entry();
    machine.extend(every_directive().into_iter().map(|(_, e)| e));
    let user = vec![PolEntry::new(
        r"Software\Policies\Microsoft\Windows\Explorer",
        "NoAutoplayfornonVolume",
        PolData::Dword(1),
    )];
    (
        registry_pol::write(&machine).unwrap(),
        registry_pol::write(&user).unwrap(),
        gpttmpl_inf::write(&every_section()).unwrap(),
        audit_csv::write(&every_row_kind()),
    )
}

fn input<'a>(
    machine: &'a [u8],
    user: Option<&'a [u8]>,
    inf: Option<&'a [u8]>,
    csv: Option<&'a [u8]>,
) -> BackupInput<'a> {
    BackupInput {
        display_name: "hardbase branch-atm <&> ‘ATM’",
        profile_name: "branch-atm-shinjuku",
        description: "Generated by hardbase from branch-atm-shinjuku.toml\nline 2",
        backup_time: "2026-11-27T00:00:00",
        machine_registry_pol: machine,
        user_registry_pol: user,
        gpttmpl_inf: inf,
        audit_csv: csv,
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn gpo_backup_layout_is_deterministic() {
    let (machine, user, inf, csv) = backup_inputs();
    let full = input(&machine, Some(&user), Some(&inf), Some(&csv));
    let files = gpo_backup::files(&full).unwrap();
    assert_eq!(files, gpo_backup::files(&full).unwrap(), "two calls differ");
    let id = gpo_backup::backup_id("branch-atm-shinjuku");
    assert_eq!(id, gpo_backup::backup_id("branch-atm-shinjuku"));
    assert_ne!(id, gpo_backup::gpo_id("branch-atm-shinjuku"));
    let guid_shape = |g: &str| audit_csv::is_braced_guid(g) && g == g.to_uppercase();
    assert!(guid_shape(&id) && guid_shape(&gpo_backup::gpo_id("x")));
    let names: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    let sysvol = format!("{id}/DomainSysvol/GPO");
    assert_eq!(
        names,
        vec![
            "manifest.xml".to_string(),
            format!("{id}/Backup.xml"),
            format!("{id}/bkupInfo.xml"),
            format!("{id}/gpreport.xml"),
            format!("{sysvol}/Machine/registry.pol"),
            format!("{sysvol}/Machine/microsoft/windows nt/SecEdit/GptTmpl.inf"),
            format!("{sysvol}/Machine/microsoft/windows nt/Audit/audit.csv"),
            format!("{sysvol}/User/registry.pol"),
        ]
    );
    let file = |name: &str| &files.iter().find(|(p, _)| p.ends_with(name)).unwrap().1;
    assert_eq!(file("Machine/registry.pol"), &machine);
    assert_eq!(file("User/registry.pol"), &user);
    let backup = text(file("Backup.xml"));
    assert!(backup.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"));
    assert!(backup.contains(&format!(
        "<ID><![CDATA[{}]]></ID>",
        gpo_backup::gpo_id("branch-atm-shinjuku")
    )));
    assert!(backup.contains(
        "<MachineExtensionGuids><![CDATA[\
         [{35378EAC-683F-11D2-A89A-00C04FBBCFA2}{0F6B957D-509E-11D1-A7CC-0000F87571E3}{B05566AC-FE9C-4368-BE01-7A4CBB6CBA11}]\
         [{827D319E-6EAC-11D2-A4EA-00C04F79F83A}{803E14A0-B4FB-11D0-A0D0-00A0C90F574B}]\
         [{F3CCC681-B74C-4060-9F26-CD84525DCA2A}{0F3F3735-573D-9804-99E4-AB2A69BA5FD4}]]]>"
    ));
    assert!(backup.contains(
        "<UserExtensionGuids><![CDATA[[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}{0F6B957E-509E-11D1-A7CC-0000F87571E3}]]]></UserExtensionGuids>"
    ));
    // Every file Backup.xml lists is in the folder.
    for location in backup.split("bkp:Location=\"").skip(1) {
        let location = &location[..location.find('"').unwrap()];
        let path = format!("{id}/{}", location.replace('\\', "/"));
        let listed = names
            .iter()
            .any(|n| n == &path || n.starts_with(&format!("{path}/")));
        assert!(listed, "Backup.xml lists {location}, which is not written");
    }
    let info = text(file("bkupInfo.xml"));
    assert!(info.ends_with("</BackupInst>\r\n"));
    assert!(info.contains(&format!("<ID><![CDATA[{id}]]></ID>")));
    assert!(info.contains("<BackupTime><![CDATA[2026-11-27T00:00:00]]></BackupTime>"));

    // Only the parts present are announced.
    let minimal = gpo_backup::files(&input(&machine, None, None, None)).unwrap();
    assert_eq!(minimal.len(), 5);
    let backup = text(&minimal[1].1);
    assert!(backup.contains("<MachineExtensionGuids><![CDATA[[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}{0F6B957D-509E-11D1-A7CC-0000F87571E3}{B05566AC-FE9C-4368-BE01-7A4CBB6CBA11}]]]></MachineExtensionGuids>"));
    assert!(backup.contains("<UserExtensionGuids/>"));
    assert!(!backup.contains("DescName=\"Security\"") && !backup.contains("Unknown Extension"));
}

#[test]
fn gpo_backup_refuses_broken_inputs() {
    let (machine, _, inf, _) = backup_inputs();
    let truncated = &inf[..inf.len() - 1];
    let e = gpo_backup::files(&input(&machine, None, Some(truncated), None)).unwrap_err();
    assert!(e.starts_with("GptTmpl.inf: line 1: "), "{e}");
    let e = gpo_backup::files(&input(&machine, None, None, Some(b"x,y\r\n"))).unwrap_err();
    assert!(e.starts_with("audit.csv: line 1: "), "{e}");
    for name in ["]]>", "a\u{7}b", "a\r\nb"] {
        let i = BackupInput {
            display_name: name,
            ..input(&machine, None, None, None)
        };
        assert!(gpo_backup::files(&i).is_err(), "{name:?}");
    }
    let i = BackupInput {
        description: "a\r\nb",
        ..input(&machine, None, None, None)
    };
    assert!(
        gpo_backup::files(&i).is_err(),
        "a CR in CDATA would be read back as LF"
    );
}

/// Element paths and namespace declarations of XML files, read by Python's xml.etree.
fn xml_shapes(python: &Path, paths: &[PathBuf]) -> Vec<(BTreeSet<String>, BTreeSet<String>)> {
    let out = run_python(python, XML_SHAPE, paths);
    let shapes: Vec<Value> = serde_json::from_slice(&out).unwrap();
    shapes
        .into_iter()
        .map(|s| {
            let set = |key: &str| {
                s[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect::<BTreeSet<String>>()
            };
            (set("paths"), set("namespaces"))
        })
        .collect()
}

#[test]
fn gpo_backup_xml_has_the_shape_of_real_backups() {
    let Some(python) = python_with(&["xml.etree.ElementTree"]) else {
        return;
    };
    let Some(dir) = samples_dir() else { return };
    let (machine, user, inf, csv) = backup_inputs();
    let tmp = TempDir::new("windows-gpo-shape");
    let mut inputs = vec![(
        "hand-built".to_string(),
        machine.clone(),
        Some(user),
        Some(inf),
        Some(csv),
    )];
    // Backups of the real GPOs' own policy files.
    for backup in sample_files(&dir, |n| n == "backup.xml") {
        let sysvol = backup.parent().unwrap().join("DomainSysvol/GPO/Machine");
        let find = |name: &str| {
            sample_files(&sysvol, |n| n == name.to_lowercase())
                .first()
                .map(|p| std::fs::read(p).unwrap())
        };
        inputs.push((
            relative(&dir, &backup),
            find("registry.pol").unwrap(),
            None,
            find("GptTmpl.inf"),
            find("audit.csv"),
        ));
    }
    let mut generated: BTreeMap<&str, Vec<PathBuf>> = BTreeMap::new();
    for (i, (name, machine, user, inf, csv)) in inputs.iter().enumerate() {
        let files = gpo_backup::files(&input(
            machine,
            user.as_deref(),
            inf.as_deref(),
            csv.as_deref(),
        ))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        for (path, bytes) in files {
            let kind = ["manifest.xml", "Backup.xml", "bkupInfo.xml", "gpreport.xml"]
                .into_iter()
                .find(|k| path.ends_with(k));
            if let Some(kind) = kind {
                let out = tmp.path().join(format!("{i}-{kind}"));
                std::fs::write(&out, bytes).unwrap();
                generated.entry(kind).or_default().push(out);
            }
        }
    }
    for kind in ["manifest.xml", "Backup.xml", "bkupInfo.xml", "gpreport.xml"] {
        let samples = sample_files(&dir, |n| n == kind.to_lowercase());
        assert!(!samples.is_empty(), "no sample {kind}");
        let real = xml_shapes(&python, &samples);
        let ours = xml_shapes(&python, &generated[kind]);
        let real_paths: BTreeSet<String> = real.iter().flat_map(|(p, _)| p.clone()).collect();
        let real_namespaces: BTreeSet<String> = real.iter().flat_map(|(_, n)| n.clone()).collect();
        for (paths, namespaces) in &ours {
            // No sample has user settings; the user side reports them like the computer side.
            let extra: Vec<String> = paths
                .iter()
                .map(|p| p.replace(USER_EXTENSIONS, COMPUTER_EXTENSIONS))
                .filter(|p| !real_paths.contains(p))
                .filter(|p| !UNSEEN_REPORT_PATHS.iter().any(|u| p.ends_with(u)))
                .collect();
            assert!(
                extra.is_empty(),
                "{kind}: elements no real backup has: {extra:#?}"
            );
            // Report prefixes are numbered per document (q1, q2, …): compare the URIs there.
            let uri = |n: &String| n.split_once('=').map_or(n.clone(), |(_, u)| u.to_string());
            let declared = |n: &String| {
                if kind == "gpreport.xml" {
                    real_namespaces.iter().any(|r| uri(r) == uri(n))
                } else {
                    real_namespaces.contains(n)
                }
            };
            let extra: Vec<&String> = namespaces.iter().filter(|n| !declared(n)).collect();
            assert!(
                extra.is_empty(),
                "{kind}: namespaces no real backup has: {extra:?}"
            );
        }
        let core = |paths: &BTreeSet<String>| -> BTreeSet<String> {
            paths
                .iter()
                .filter(|p| {
                    let depth = p.matches("/{").count();
                    p.contains("GroupPolicyCoreSettings")
                        || p.contains("BackupInst")
                        || (kind == "Backup.xml" && depth <= 3)
                        || (kind == "gpreport.xml" && depth <= 2)
                })
                .cloned()
                .collect()
        };
        for (paths, namespaces) in &real {
            for (ours_paths, ours_namespaces) in &ours {
                assert_eq!(
                    core(ours_paths),
                    core(paths),
                    "{kind}: the core elements differ from a real backup"
                );
                if kind != "gpreport.xml" {
                    assert_eq!(
                        ours_namespaces, namespaces,
                        "{kind}: namespace declarations differ"
                    );
                }
            }
        }
    }
}

const USER_EXTENSIONS: &str = "}User/{http://www.microsoft.com/GroupPolicy/Settings}ExtensionData";
const COMPUTER_EXTENSIONS: &str =
    "}Computer/{http://www.microsoft.com/GroupPolicy/Settings}ExtensionData";

/// Report elements that hardbase writes but that no sample report shows (their shape in
/// GPMC reports is not verified): string values of extra registry settings, and the SDDL of
/// a service whose template sets one.
const UNSEEN_REPORT_PATHS: [&str; 2] = [
    "}Value/{http://www.microsoft.com/GroupPolicy/Settings/Registry}String",
    "}SecurityDescriptor/{http://www.microsoft.com/GroupPolicy/Types/Security}SDDL",
];

#[test]
fn gpo_security_descriptor_is_what_samba_reads() {
    let Some(python) = python_with(&["samba.ndr", "samba.dcerpc.security"]) else {
        return;
    };
    let (machine, ..) = backup_inputs();
    let files = gpo_backup::files(&input(&machine, None, None, None)).unwrap();
    let backup = text(&files[1].1);
    let start = backup.find("<SecurityDescriptor>").unwrap() + "<SecurityDescriptor>".len();
    let end = backup.find("</SecurityDescriptor>").unwrap();
    let script = r#"
import sys
from samba.ndr import ndr_unpack
from samba.dcerpc import security
sd = ndr_unpack(security.descriptor, bytes(int(x, 16) for x in sys.argv[1].split()))
ref = security.descriptor.from_sddl(sys.argv[2], security.dom_sid('S-1-5-21-1-2-3'))
print(sd.as_sddl() == ref.as_sddl(), hex(sd.type))
"#;
    let out = run_python(
        &python,
        script,
        [&backup[start..end], gpo_backup::SECURITY_DESCRIPTOR_SDDL],
    );
    assert_eq!(text(&out).trim(), "True 0x9c04");
}

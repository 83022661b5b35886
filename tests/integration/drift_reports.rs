//! The other renderings of `hardbase diff`, each read back by a real consumer: JUnit XML by
//! junitparser, SARIF by the official SARIF 2.1.0 JSON schema (python3-jsonschema), the filled
//! checklist in Japanese and English as Markdown, CSV (Python's csv) and xlsx (openpyxl); a
//! hostile snapshot value stays inert in each. Then the round trip to compliance: the kiosk's
//! built nftables ruleset loaded in a fresh network namespace, the built collect.sh run inside
//! it, and `hardbase diff` finds every nft setting compliant; one rule changed, exactly that
//! setting changes status.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{self, in_ci, is_root, python_with, require_tool, run_in, run_python, TempDir};

/// A sysctl value with a terminal escape, a bell and a leading formula character.
const HOSTILE: &str = "=1+2\u{1b}[31mred\u{7}";
/// How the reports show it: control characters made visible.
const HOSTILE_SHOWN: &str = "=1+2\\u{1b}[31mred\\u{7}";

/// The manual control the test profile attests and the control it waives.
const ATTESTED: &str = "FUN-BOOT-002";
const WAIVED: &str = "FUN-DEV-004";

/// The kiosk example with its layer copied into `dir`, plus an attestation and a waiver; the
/// profile file name, relative to `dir`.
fn audit_profile(dir: &Path) -> &'static str {
    let examples = util::root().join("examples/regional-bank");
    std::fs::copy(
        examples.join("bank-common.toml"),
        dir.join("bank-common.toml"),
    )
    .unwrap();
    let mut text = std::fs::read_to_string(examples.join("lobby-kiosk.toml"))
        .unwrap()
        .replacen(
            "extends = [\"bank-common.toml\"]\n",
            &format!("extends = [\"bank-common.toml\"]\nexclude = [\"{WAIVED}\"]\n"),
            1,
        );
    assert!(text.contains("exclude = "));
    text.push_str(&format!(
        r#"
[attest."{ATTESTED}"]
by = "Umeda branch manager"
on = 2026-11-02
evidence = "firmware photo FW-2026-77"

[waivers."{WAIVED}"]
reason = "the kiosk vendor's Bluetooth printer pairing is being replaced"
approved_by = "security office (CISO)"
ticket = "SEC-2026-077"
scope = "exclude"
compensating_control = "USB allow-list in force"
expires = 2027-03-31
"#
    ));
    std::fs::write(dir.join("lobby-kiosk.toml"), text).unwrap();
    "lobby-kiosk.toml"
}

/// Writes a snapshot folder in the collector's format: the files, and snapshot.json with
/// their SHA-256 (as tests/integration/drift.rs does).
fn write_snapshot(dir: &Path, files: &[(&str, String)]) {
    write_linux_snapshot(dir, "kiosk-umeda-01", "lobby-kiosk-umeda", files);
}

/// A Linux snapshot folder of `host`, recorded as collected for `profile`.
pub(crate) fn write_linux_snapshot(
    dir: &Path,
    host: &str,
    profile: &str,
    files: &[(&str, String)],
) {
    use sha2::{Digest, Sha256};
    let mut listed = serde_json::Map::new();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        let hash: String = Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        listed.insert(name.to_string(), Value::String(hash));
    }
    let info = serde_json::json!({
        "host": host,
        "collected_at": "2026-11-27T09:00:00+09:00",
        "collector": "hardbase-collect",
        "family": "linux",
        "profile": profile,
        "files": listed,
    });
    std::fs::write(dir.join("snapshot.json"), info.to_string()).unwrap();
}

/// `sysctl -a` and `systemctl list-unit-files` output in which every sysctl and unit of the
/// profile is as it says, except the sysctl values `change` returns for a key.
pub(crate) fn sysctl_and_units(
    profile: &Path,
    change: impl Fn(&str) -> Option<String>,
) -> (String, String) {
    use hardbase::catalog::setting::{RegData, SettingKind, UnitState};
    let state = util::resolve_profile(profile).expect("the profile resolves");
    let mut sysctl = String::new();
    let mut units = String::new();
    for s in state.settings() {
        match &s.kind {
            SettingKind::Sysctl(x) => {
                let key = x.key.replace('/', ".");
                let value = change(&key).unwrap_or_else(|| match &x.value {
                    RegData::Number(n) => n.to_string(),
                    RegData::Text(t) => t.clone(),
                    RegData::List(items) => items.join("\t"),
                });
                sysctl.push_str(&format!("{key} = {value}\n"));
            }
            SettingKind::SystemdUnit(u) => {
                let st = match u.state {
                    UnitState::Enabled => "enabled",
                    UnitState::Disabled => "disabled",
                    UnitState::Masked => "masked",
                };
                units.push_str(&format!("{} {st}\n", u.unit));
            }
            _ => {}
        }
    }
    (sysctl, units)
}

/// A hand-made snapshot of the kiosk: every sysctl and unit as the profile says, except
/// kernel.kptr_restrict (drift) and kernel.sysrq (a hostile value); a stray listener.
fn hand_made_snapshot(dir: &Path, profile: &Path) -> PathBuf {
    let (sysctl, units) = sysctl_and_units(profile, |key| match key {
        "kernel.kptr_restrict" => Some("0".to_string()),
        "kernel.sysrq" => Some(HOSTILE.to_string()),
        _ => None,
    });
    let snap = dir.join("snap");
    write_snapshot(
        &snap,
        &[
            ("sysctl.txt", sysctl),
            ("unit-files.txt", units),
            (
                "listening.txt",
                "tcp LISTEN 0 5 0.0.0.0:8080 0.0.0.0:* users:((\"python3\",pid=7,fd=3))\n".into(),
            ),
        ],
    );
    snap
}

/// `hardbase diff` in `dir` with the arguments after the profile and snapshot; exit status 1.
fn diff(dir: &Path, profile: &str, snap: &Path, extra: &[&str]) -> util::Run {
    let mut args = vec![
        "diff",
        profile,
        "--live",
        snap.to_str().unwrap(),
        "--at",
        "2026-11-27",
    ];
    args.extend_from_slice(extra);
    let run = run_in(dir, &args);
    assert_eq!(run.status, 1, "{}", run.stderr);
    run
}

/// A test folder with the audit profile, its hand-made snapshot and the JSON report.
struct Case {
    dir: TempDir,
    profile: &'static str,
    snap: PathBuf,
    json: Value,
}

impl Case {
    fn new(name: &str) -> Case {
        let dir = TempDir::new(name);
        let profile = audit_profile(dir.path());
        let snap = hand_made_snapshot(dir.path(), &dir.path().join(profile));
        let run = diff(dir.path(), profile, &snap, &["--format", "json"]);
        let json = serde_json::from_str(&run.stdout).unwrap();
        Case {
            dir,
            profile,
            snap,
            json,
        }
    }

    fn run(&self, extra: &[&str]) -> util::Run {
        diff(self.dir.path(), self.profile, &self.snap, extra)
    }

    fn controls(&self) -> &Vec<Value> {
        self.json["controls"].as_array().unwrap()
    }

    fn control(&self, id: &str) -> &Value {
        self.controls().iter().find(|c| c["id"] == id).unwrap()
    }

    fn unexpected(&self) -> &Vec<Value> {
        self.json["unexpected"].as_array().unwrap()
    }
}

fn is_finding(status: &str) -> bool {
    matches!(status, "drift" | "missing" | "unexpected" | "not-collected")
}

/// Whether a control has a finding, an unexpected thing it governs counted.
fn control_fails(case: &Case, c: &Value) -> bool {
    is_finding(c["status"].as_str().unwrap())
        || case.unexpected().iter().any(|u| u["control"] == c["id"])
}

#[test]
fn the_hand_made_snapshot_has_every_kind_of_control() {
    let case = Case::new("reports-kinds");
    assert_eq!(case.control("FUN-APP-005")["status"], "drift");
    assert_eq!(case.control(ATTESTED)["status"], "manual");
    assert_eq!(case.control(WAIVED)["status"], "waived");
    assert!(
        case.controls().iter().any(|c| c["status"] == "compliant"),
        "some control is all sysctl and units"
    );
    assert_eq!(case.unexpected()[0]["what"], "tcp 0.0.0.0:8080 (python3)");
}

const JUNIT_READER: &str = r#"
import json, sys
from junitparser import JUnitXml, Failure, Skipped, Error
xml = JUnitXml.fromfile(sys.argv[1])
declared = {"tests": xml.tests, "failures": xml.failures, "skipped": xml.skipped, "errors": xml.errors}
cases = []
for suite in xml:
    suite_declared = {"tests": suite.tests, "failures": suite.failures, "skipped": suite.skipped}
    for case in suite:
        results = case.result if isinstance(case.result, list) else [case.result]
        results = [r for r in results if r is not None]
        cases.append({
            "suite": suite.name, "classname": case.classname, "name": case.name,
            "failure": [{"type": r.type, "message": r.message, "text": r.text} for r in results if isinstance(r, Failure)],
            "skipped": [r.message for r in results if isinstance(r, Skipped)],
            "error": [r.message for r in results if isinstance(r, Error)],
        })
print(json.dumps({"declared": declared, "suite": suite_declared, "cases": cases}))
"#;

#[test]
fn junit_is_read_back_by_junitparser_with_matching_counts() {
    let Some(python) = python_with(&["junitparser"]) else {
        return;
    };
    let case = Case::new("reports-junit");
    let out = case.dir.path().join("drift.xml");
    case.run(&["--format", "junit", "--output", out.to_str().unwrap()]);
    let parsed: Value = serde_json::from_slice(&run_python(&python, JUNIT_READER, [&out])).unwrap();
    let cases = parsed["cases"].as_array().unwrap();

    let controls = case.controls();
    let ungoverned = case
        .unexpected()
        .iter()
        .filter(|u| !controls.iter().any(|c| c["id"] == u["control"]))
        .count();
    let want_failures = controls.iter().filter(|c| control_fails(&case, c)).count() + ungoverned;
    let want_skipped = controls
        .iter()
        .filter(|c| !control_fails(&case, c))
        .filter(|c| matches!(c["status"].as_str(), Some("manual" | "waived")))
        .count();
    let got_failures = cases
        .iter()
        .filter(|c| !c["failure"].as_array().unwrap().is_empty())
        .count();
    let got_skipped = cases
        .iter()
        .filter(|c| !c["skipped"].as_array().unwrap().is_empty())
        .count();
    eprintln!(
        "junitparser: {} tests, {got_failures} failures, {got_skipped} skipped (declared {})",
        cases.len(),
        parsed["declared"]
    );
    assert_eq!(cases.len(), controls.len() + ungoverned);
    assert_eq!(got_failures, want_failures);
    assert_eq!(got_skipped, want_skipped);
    for scope in ["declared", "suite"] {
        assert_eq!(parsed[scope]["tests"], cases.len(), "{scope}");
        assert_eq!(parsed[scope]["failures"], want_failures, "{scope}");
        assert_eq!(parsed[scope]["skipped"], want_skipped, "{scope}");
    }
    assert!(cases
        .iter()
        .all(|c| c["error"].as_array().unwrap().is_empty()));
    assert!(cases.iter().all(|c| c["suite"] == "lobby-kiosk-umeda"));

    // A test case per control, named by id and title, with its category as classname.
    let kptr = cases
        .iter()
        .find(|c| c["name"].as_str().unwrap().starts_with("FUN-APP-005 "))
        .unwrap();
    assert_eq!(kptr["classname"], "function");
    let failure = &kptr["failure"][0];
    assert_eq!(failure["type"], "drift");
    let text = failure["text"].as_str().unwrap();
    assert!(
        text.contains("drift sysctl kernel.kptr_restrict\n      expected: 2\n      actual:   0\n"),
        "{text}"
    );
    assert!(text.contains("<built-in>/baselines/"), "{text}");
    // The hostile sysctl value arrives as visible text: nothing a terminal would act on.
    let sysrq = cases
        .iter()
        .find(|c| {
            c["failure"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["text"].as_str().unwrap_or("").contains("kernel.sysrq"))
        })
        .unwrap();
    let text = sysrq["failure"][0]["text"].as_str().unwrap();
    assert!(text.contains(HOSTILE_SHOWN), "{text}");
    assert!(!text.contains('\u{1b}') && !text.contains('\u{7}'));
    let attested = cases
        .iter()
        .find(|c| c["name"].as_str().unwrap().starts_with(ATTESTED))
        .unwrap();
    assert!(attested["skipped"][0]
        .as_str()
        .unwrap()
        .contains("attested by Umeda branch manager"));
    let waived = cases
        .iter()
        .find(|c| c["name"].as_str().unwrap().starts_with(WAIVED))
        .unwrap();
    assert!(waived["skipped"][0]
        .as_str()
        .unwrap()
        .contains("SEC-2026-077"));
    // The firewall control governs the stray listener: it fails with it.
    let fw = cases
        .iter()
        .find(|c| c["name"].as_str().unwrap().starts_with("COM-FW-010 "))
        .unwrap();
    assert!(fw["failure"][0]["text"]
        .as_str()
        .unwrap()
        .contains("unexpected listening-port tcp 0.0.0.0:8080 (python3)"));
}

/// The official SARIF 2.1.0 schema: `HARDBASE_SARIF_SCHEMA`, or where .ci/run puts it.
fn sarif_schema() -> Option<PathBuf> {
    let path = std::env::var_os("HARDBASE_SARIF_SCHEMA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/local/share/sarif/sarif-schema-2.1.0.json"));
    if path.is_file() {
        return Some(path);
    }
    let message = format!(
        "the SARIF 2.1.0 schema {} is missing (.ci/run extracts it from the npm package @microsoft/sarif-multitool-linux)",
        path.display()
    );
    if in_ci() {
        panic!("{message}; CI must not skip this test");
    }
    eprintln!("SKIPPED: {message}");
    None
}

const SARIF_VALIDATOR: &str = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1], encoding="utf-8"))
doc = json.load(open(sys.argv[2], encoding="utf-8"))
assert "SARIF" in schema["title"] and "2.1.0" in schema["title"], schema["title"]
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
errors = sorted(cls(schema, format_checker=jsonschema.FormatChecker()).iter_errors(doc), key=str)
for e in errors:
    print(list(e.absolute_path), e.message)
print(json.dumps({"validator": cls.__name__, "errors": len(errors), "results": len(doc["runs"][0]["results"])}))
"#;

#[test]
fn sarif_is_valid_against_the_official_schema() {
    let (Some(python), Some(schema)) = (python_with(&["jsonschema"]), sarif_schema()) else {
        return;
    };
    let case = Case::new("reports-sarif");
    let out = case.dir.path().join("drift.sarif");
    case.run(&["--format", "sarif", "-o", out.to_str().unwrap()]);
    let verdict = String::from_utf8(run_python(
        &python,
        SARIF_VALIDATOR,
        [schema.as_path(), out.as_path()],
    ))
    .unwrap();
    eprintln!("SARIF schema: {}", verdict.trim());
    let summary: Value = serde_json::from_str(verdict.lines().last().unwrap()).unwrap();
    assert_eq!(summary["errors"], 0, "{verdict}");

    let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "hardbase");
    let results = run["results"].as_array().unwrap();
    // One result per non-compliant setting, per control finding and per unexpected thing.
    let settings: Vec<&Value> = case
        .controls()
        .iter()
        .flat_map(|c| c["settings"].as_array().unwrap())
        .filter(|s| is_finding(s["status"].as_str().unwrap()))
        .collect();
    let findings: usize = case
        .controls()
        .iter()
        .map(|c| c["findings"].as_array().unwrap().len())
        .sum();
    assert_eq!(
        results.len(),
        settings.len() + findings + case.unexpected().len()
    );
    // The rules are exactly the controls that have results, and each result points at its rule.
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let mut used: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    used.sort_unstable();
    used.dedup();
    let mut sorted = rules.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, used);
    for r in results {
        let i = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[i], r["ruleId"]);
        let want = if r["properties"]["status"] == "not-collected" {
            "warning"
        } else {
            "error"
        };
        assert_eq!(r["level"], want, "{r}");
    }
    let kptr = results
        .iter()
        .find(|r| r["properties"]["target"] == "sysctl kernel.kptr_restrict")
        .unwrap();
    assert_eq!(kptr["ruleId"], "FUN-APP-005");
    assert_eq!(
        kptr["message"]["text"],
        "drift sysctl kernel.kptr_restrict: expected 2, actual 0"
    );
    let catalog = &kptr["locations"][0]["physicalLocation"];
    assert_eq!(catalog["artifactLocation"]["uriBaseId"], "HARDBASE_CATALOG");
    assert!(catalog["artifactLocation"]["uri"]
        .as_str()
        .unwrap()
        .starts_with("baselines/"));
    assert!(catalog["region"]["startLine"].as_u64().unwrap() > 1);
    // The profile value behind a setting, at its line and column, with the path as given.
    let profile_text = std::fs::read_to_string(case.dir.path().join("lobby-kiosk.toml")).unwrap();
    let (line, text_of_line) = profile_text
        .lines()
        .enumerate()
        .find(|(_, l)| l.starts_with("kiosk_usb_ids"))
        .unwrap();
    let line = line + 1;
    // The span is the value's.
    let column = text_of_line.find('"').unwrap() + 1;
    let usb = results
        .iter()
        .find(|r| {
            r["properties"]["target"]
                .as_str()
                .unwrap_or("")
                .contains("0eef:0001")
        })
        .unwrap();
    let profile_loc = usb["locations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["physicalLocation"])
        .find(|l| l["artifactLocation"]["uri"] == "lobby-kiosk.toml")
        .unwrap_or_else(|| panic!("{usb}"));
    assert_eq!(profile_loc["region"]["startLine"], line);
    assert_eq!(profile_loc["region"]["startColumn"], column);
    // Snapshot values are carried exactly; JSON escaping keeps them inert.
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains('\u{1b}'));
    assert!(results.iter().any(|r| r["properties"]["actual"] == HOSTILE));
}

const CHECKLIST_READER: &str = r#"
import csv, io, json, sys
import openpyxl
with open(sys.argv[1], encoding="utf-8-sig", newline="") as f:
    rows = list(csv.reader(f))
wb = openpyxl.load_workbook(sys.argv[2])
ws = wb.active
cells = [[(c.value, c.data_type) for c in row] for row in ws.iter_rows()]
print(json.dumps({"csv": rows, "xlsx": cells}))
"#;

#[test]
fn the_filled_checklist_in_japanese_and_english() {
    let Some(python) = python_with(&["openpyxl"]) else {
        return;
    };
    let case = Case::new("reports-checklist");
    // The expected 確認結果 of every control, from the JSON report.
    let verdict = |c: &Value, lang: &str| -> &'static str {
        let ja = lang == "ja";
        let attested = !c["attestation"].is_null();
        match c["status"].as_str().unwrap() {
            _ if control_fails(&case, c) => {
                if ja {
                    "未達"
                } else {
                    "Not achieved"
                }
            }
            "manual" if attested => {
                if ja {
                    "達成"
                } else {
                    "Achieved"
                }
            }
            "manual" => {
                if ja {
                    "未達"
                } else {
                    "Not achieved"
                }
            }
            "waived" => {
                if ja {
                    "例外承認"
                } else {
                    "Exception approved"
                }
            }
            _ => {
                if ja {
                    "達成"
                } else {
                    "Achieved"
                }
            }
        }
    };
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for lang in ["ja", "en"] {
        let csv = case.dir.path().join(format!("filled.{lang}.csv"));
        let xlsx = case.dir.path().join(format!("filled.{lang}.xlsx"));
        case.run(&[
            "--format",
            "csv",
            "--lang",
            lang,
            "-o",
            csv.to_str().unwrap(),
        ]);
        case.run(&[
            "--format",
            "xlsx",
            "--lang",
            lang,
            "-o",
            xlsx.to_str().unwrap(),
        ]);
        let md = case.run(&["--format", "md", "--lang", lang]).stdout;
        let read: Value =
            serde_json::from_slice(&run_python(&python, CHECKLIST_READER, [&csv, &xlsx])).unwrap();
        let csv_rows = read["csv"].as_array().unwrap();
        let xlsx_rows = read["xlsx"].as_array().unwrap();
        let (result_col, remarks_col) = (6, 7);
        assert_eq!(
            csv_rows[0][result_col],
            if lang == "ja" {
                "確認結果"
            } else {
                "Result"
            }
        );
        assert_eq!(csv_rows.len(), case.controls().len() + 1);
        assert_eq!(xlsx_rows.len(), csv_rows.len());
        for (row, cells) in csv_rows.iter().zip(xlsx_rows).skip(1) {
            let measure = row[3].as_str().unwrap();
            let c = case
                .controls()
                .iter()
                .find(|c| {
                    measure.contains(&format!("{}）", c["id"].as_str().unwrap()))
                        || measure.contains(&format!("{})", c["id"].as_str().unwrap()))
                })
                .unwrap_or_else(|| panic!("no control for {measure}"));
            let want = verdict(c, lang);
            assert_eq!(row[result_col], want, "{lang} {}", c["id"]);
            assert_eq!(cells[result_col][0], want, "{lang} xlsx {}", c["id"]);
            *counts.entry(format!("{lang} {want}")).or_default() += 1;
            for (cell, value) in row
                .as_array()
                .unwrap()
                .iter()
                .zip(cells.as_array().unwrap())
            {
                // Every xlsx cell is a string equal to the CSV cell less its quote prefix.
                assert_eq!(value[1], "s", "{value}");
                let cell = cell.as_str().unwrap();
                assert_eq!(cell.strip_prefix('\'').unwrap_or(cell), value[0]);
                assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell}");
                assert!(!cell.contains(['\u{1b}', '\u{7}']), "{cell}");
            }
        }
        let remarks = |id: &str| -> String {
            csv_rows
                .iter()
                .find(|r| r[3].as_str().unwrap().contains(id))
                .unwrap()[remarks_col]
                .as_str()
                .unwrap()
                .to_string()
        };
        let kptr = remarks("FUN-APP-005");
        let sysrq = remarks("FUN-KIO-004");
        if lang == "ja" {
            assert!(
                kptr.starts_with(
                    "設定8件中7件適合。相違: sysctl kernel.kptr_restrict（期待値: 2／実際: 0）"
                ),
                "{kptr}"
            );
            assert!(remarks(WAIVED).contains("チケット: SEC-2026-077"));
            assert!(remarks(ATTESTED).contains("確認済み: Umeda branch manager"));
            assert!(md.contains("| 確認結果 |"));
        } else {
            assert!(
                kptr.starts_with("7 of 8 settings compliant; drift: sysctl kernel.kptr_restrict (expected 2; actual 0)"),
                "{kptr}"
            );
            assert!(remarks(WAIVED).contains("ticket SEC-2026-077"));
            assert!(md.contains("| Result |"));
        }
        // The hostile sysctl value is visible text in every rendering.
        assert!(sysrq.contains(HOSTILE_SHOWN), "{sysrq}");
        assert!(!md.contains(['\u{1b}', '\u{7}']));
        assert!(md.contains("\\\\u{1b}"), "markdown escapes the backslash");
    }
    eprintln!("filled checklist verdicts: {counts:?}");
    for want in [
        "達成",
        "未達",
        "例外承認",
        "Achieved",
        "Not achieved",
        "Exception approved",
    ] {
        let lang = if want.is_ascii() { "en" } else { "ja" };
        assert!(
            counts.contains_key(&format!("{lang} {want}")),
            "{want}: {counts:?}"
        );
    }
}

#[test]
fn a_hostile_snapshot_value_is_inert_in_text_and_csv_cells() {
    let case = Case::new("reports-hostile");
    let text = case.run(&["--format", "text"]).stdout;
    assert!(!text.contains(['\u{1b}', '\u{7}']), "{text:?}");
    assert!(
        text.contains(&format!("      actual:   {HOSTILE_SHOWN}\n")),
        "{text}"
    );
    assert!(!text.lines().any(|l| l.starts_with('=')));
    // A cell that starts with the value is neutralized with `'` (the same writer as above).
    let cell = hardbase::report::checklist::neutralize(HOSTILE);
    assert!(cell.starts_with("'=1+2"));
    // The JUnit escaping drops what XML 1.0 cannot carry.
    let xml = hardbase::report::junit::xml_text(HOSTILE);
    assert!(!xml.contains(['\u{1b}', '\u{7}']));
}

// ------------------------------------------------------------- round trip in a namespace

/// A network namespace, deleted when dropped.
struct Netns {
    ip: PathBuf,
    name: String,
}

impl Netns {
    fn exec(&self, program: &Path, args: &[&str]) -> std::process::Output {
        let out = Command::new(&self.ip)
            .args(["netns", "exec", &self.name])
            .arg(program)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{} {args:?}: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new(&self.ip)
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// The nft settings of a JSON report: target → status.
fn nft_statuses(report: &Value) -> BTreeMap<String, String> {
    report["controls"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["settings"].as_array().unwrap())
        .filter(|s| matches!(s["kind"].as_str(), Some("nft_policy" | "nft_rule")))
        .map(|s| {
            (
                s["target"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn round_trip_to_compliance_in_a_network_namespace() {
    let (Some(ip), Some(nft)) = (require_tool("ip"), require_tool("nft")) else {
        return;
    };
    if !is_root() {
        assert!(!in_ci(), "CI runs as root; the namespace test needs root");
        eprintln!("SKIPPED: the network-namespace round trip needs root");
        return;
    }
    let dir = TempDir::new("reports-roundtrip");
    let profile = util::root().join("examples/regional-bank/lobby-kiosk.toml");
    let dist = dir.path().join("dist");
    let build = util::run(&[
        "build",
        profile.to_str().unwrap(),
        "--out",
        dist.to_str().unwrap(),
    ]);
    assert_eq!(build.status, 0, "{}", build.stderr);
    let linux = dist.join("lobby-kiosk-umeda/linux");
    let ruleset = linux.join("nftables.conf");
    let collect = linux.join("collect.sh");
    let bash = PathBuf::from("/bin/bash");

    let ns = Netns {
        ip: ip.clone(),
        name: format!("hbrt{}", std::process::id()),
    };
    let added = Command::new(&ip)
        .args(["netns", "add", &ns.name])
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    ns.exec(&nft, &["-f", ruleset.to_str().unwrap()]);

    let collect_and_diff = |name: &str| -> BTreeMap<String, String> {
        let snap = dir.path().join(name);
        ns.exec(
            &bash,
            &[collect.to_str().unwrap(), "--out", snap.to_str().unwrap()],
        );
        let run = util::run(&[
            "diff",
            profile.to_str().unwrap(),
            "--live",
            snap.to_str().unwrap(),
            "--format",
            "json",
        ]);
        assert!(matches!(run.status, 0 | 1), "{}", run.stderr);
        let report: Value = serde_json::from_str(&run.stdout).unwrap();
        assert!(
            !report["unexpected"]
                .as_array()
                .unwrap()
                .iter()
                .any(|u| u["kind"] == "nft-accept-rule"),
            "{}",
            report["unexpected"]
        );
        nft_statuses(&report)
    };

    let before = collect_and_diff("before");
    eprintln!("nft settings, the built ruleset loaded:");
    for (target, status) in &before {
        eprintln!("  {status:10} {target}");
    }
    assert!(before.len() >= 8, "3 policies and 5 rules: {before:?}");
    assert!(before.keys().any(|t| t.contains("policy")));
    assert!(
        before.values().all(|s| s == "compliant"),
        "every nft setting compliant: {before:?}"
    );

    // One rule changed: the host flow's port 7000 becomes 7001.
    let text = std::fs::read_to_string(&ruleset).unwrap();
    assert_eq!(text.matches("tcp dport 7000 ").count(), 1, "{text}");
    let changed = dir.path().join("changed.nft");
    std::fs::write(&changed, text.replace("tcp dport 7000 ", "tcp dport 7001 ")).unwrap();
    ns.exec(&nft, &["-f", changed.to_str().unwrap()]);
    let after = collect_and_diff("after");
    eprintln!("nft settings, the host rule's port changed to 7001:");
    for (target, status) in &after {
        eprintln!("  {status:10} {target}");
    }
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    let differ: Vec<(&String, &String)> = after.iter().filter(|(t, s)| before[*t] != **s).collect();
    assert_eq!(
        differ.len(),
        1,
        "exactly one nft setting changed: {differ:?}"
    );
    let (target, status) = differ[0];
    assert_eq!(target, "nftables rule kiosk-host-out");
    assert!(matches!(status.as_str(), "drift" | "missing"), "{status}");
}

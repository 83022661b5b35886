//! `hardbase audit` on fleets of snapshots: every host mapped (by the mapping file's patterns,
//! by the profile its collector recorded), each host's control statuses the same as `hardbase
//! diff` gives for that snapshot alone, hosts that cannot be audited reported without stopping
//! the others, the same bytes whatever the number of workers, the workbook read back by
//! openpyxl, hostile snapshot text inert, and input errors at their line with nothing written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::drift_network::device_config;
use crate::network_ios::build_router;
use crate::util::{self, python_with, run, run_python, TempDir};

const BANK: &str = "examples/regional-bank";
const KIOSK: &str = "examples/regional-bank/lobby-kiosk.toml";
const ROUTER: &str = "examples/regional-bank/branch-router-shinjuku.toml";
/// A host name with a terminal escape, markup and a leading formula character.
const HOSTILE_HOST: &str = "=HYPERLINK(\"x\")\u{1b}[31m<script>alert(1)</script>";

/// The kiosk's sysctl and unit files as its profile says; `drift` sets kernel.kptr_restrict
/// to 0.
fn kiosk_files(drift: bool) -> Vec<(&'static str, String)> {
    let (sysctl, units) =
        crate::drift_reports::sysctl_and_units(&util::root().join(KIOSK), |key| {
            (drift && key == "kernel.kptr_restrict").then(|| "0".to_string())
        });
    vec![("sysctl.txt", sysctl), ("unit-files.txt", units)]
}

/// A router's running configuration under another host name.
fn router_config(generated: &str, host: &str, drifted: bool) -> String {
    device_config(generated, drifted).replacen(
        "hostname shinjuku-rtr-01\n",
        &format!("hostname {host}\n"),
        1,
    )
}

struct Fleet {
    tmp: TempDir,
    snapshots: PathBuf,
    map: PathBuf,
}

impl Fleet {
    /// Kiosks mapped by their recorded profile and by pattern, routers by pattern, a kiosk
    /// with drift, one snapshot with a changed file, one host no rule maps, one with a hostile
    /// name.
    fn new(name: &str, extra_kiosks: usize) -> Fleet {
        let tmp = TempDir::new(name);
        let snapshots = tmp.path().join("snapshots");
        let generated = std::fs::read_to_string(build_router(&tmp.path().join("dist"))).unwrap();
        let routers = snapshots.join("routers");
        std::fs::create_dir_all(&routers).unwrap();
        for (host, drifted) in [
            ("shinjuku-rtr-01", false),
            ("shinjuku-rtr-02", true),
            ("shinjuku-rtr-03", false),
        ] {
            std::fs::write(
                routers.join(format!("{host}.cfg")),
                router_config(&generated, host, drifted),
            )
            .unwrap();
        }
        let ok = kiosk_files(false);
        crate::drift_reports::write_linux_snapshot(
            &snapshots.join("kiosk-01"),
            "kiosk-01",
            "lobby-kiosk-umeda",
            &ok,
        );
        crate::drift_reports::write_linux_snapshot(
            &snapshots.join("kiosk-02"),
            "kiosk-02",
            "lobby-kiosk-umeda",
            &kiosk_files(true),
        );
        for i in 0..extra_kiosks {
            let host = format!("kiosk-{:03}", 100 + i);
            crate::drift_reports::write_linux_snapshot(
                &snapshots.join(&host),
                &host,
                "lobby-kiosk-umeda",
                &ok,
            );
        }
        crate::drift_reports::write_linux_snapshot(
            &snapshots.join("kiosk-03"),
            "kiosk-03",
            "lobby-kiosk-umeda",
            &ok,
        );
        std::fs::write(snapshots.join("kiosk-03/sysctl.txt"), "kernel.sysrq = 1\n").unwrap();
        crate::drift_reports::write_linux_snapshot(
            &snapshots.join("stray"),
            "stray-01",
            "lobby-kiosk-umeda",
            &ok,
        );
        crate::drift_reports::write_linux_snapshot(
            &snapshots.join("zz-hostile"),
            HOSTILE_HOST,
            "lobby-kiosk-umeda",
            &ok,
        );
        let map = tmp.path().join("fleet.toml");
        std::fs::write(
            &map,
            "# which profile audits which host\n\
             [[host]]\nmatch = \"shinjuku-rtr-*\"\nprofile = \"branch-router-shinjuku\"\n\n\
             [[host]]\nmatch = \"KIOSK-*\"\nprofile = \"lobby-kiosk-umeda\"\n\n\
             [[host]]\nmatch = \"?hyperlink*\"\nprofile = \"lobby-kiosk-umeda\"\n",
        )
        .unwrap();
        Fleet {
            tmp,
            snapshots,
            map,
        }
    }

    fn audit(&self, out: &str, extra: &[&str]) -> util::Run {
        let out = self.tmp.path().join(out);
        let mut args = vec![
            "audit",
            "--profiles",
            BANK,
            "--snapshots",
            self.snapshots.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--at",
            "2026-11-27",
        ];
        if !extra.contains(&"--progress") {
            args.extend_from_slice(&["--progress", "never"]);
        }
        args.extend_from_slice(extra);
        run(&args)
    }

    fn out(&self, out: &str) -> PathBuf {
        self.tmp.path().join(out)
    }
}

fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Per host, in file order: the host record and its control records.
fn by_host(records: &[Value]) -> Vec<(Value, Vec<Value>)> {
    let mut out: Vec<(Value, Vec<Value>)> = Vec::new();
    for r in records {
        match r["record"].as_str().unwrap() {
            "host" => out.push((r.clone(), Vec::new())),
            "control" => {
                let last = out.last_mut().expect("a control record follows its host");
                assert_eq!(last.0["snapshot"], r["snapshot"]);
                last.1.push(r.clone());
            }
            other => panic!("unknown record {other}"),
        }
    }
    out
}

#[test]
fn every_host_is_mapped_audited_and_agrees_with_diff() {
    let fleet = Fleet::new("audit-fleet", 0);
    let map = fleet.map.to_str().unwrap();
    let r = fleet.audit("out", &["--map", map, "--lang", "en"]);
    // A snapshot that cannot be audited makes the exit status 2, after every report is written.
    assert_eq!(r.status, 2, "{}\n{}", r.stdout, r.stderr);
    let hosts = by_host(&records(&fleet.out("out/audit.jsonl")));
    let snapshots: Vec<&str> = hosts
        .iter()
        .map(|(h, _)| h["snapshot"].as_str().unwrap())
        .collect();
    assert_eq!(
        snapshots,
        [
            "kiosk-01",
            "kiosk-02",
            "kiosk-03",
            "routers/shinjuku-rtr-01.cfg",
            "routers/shinjuku-rtr-02.cfg",
            "routers/shinjuku-rtr-03.cfg",
            "stray",
            "zz-hostile"
        ],
        "sorted by path"
    );
    let host = |s: &str| hosts.iter().find(|(h, _)| h["snapshot"] == s).unwrap();
    // The changed file: an error naming the file, no control records.
    let (broken, controls) = host("kiosk-03");
    assert_eq!(broken["status"], "error");
    let error = broken["error"].as_str().unwrap();
    assert!(
        error.contains("kiosk-03/sysctl.txt") && error.contains("SHA-256"),
        "{error}"
    );
    assert!(controls.is_empty());
    // No rule matches stray-01: an error that names the mapping file.
    let (stray, controls) = host("stray");
    assert_eq!(stray["status"], "error");
    assert!(stray["error"]
        .as_str()
        .unwrap()
        .contains("matches no [[host]] rule of"));
    assert!(controls.is_empty());
    // The routers by pattern, the kiosks by pattern (case-insensitive).
    for (h, _) in &hosts {
        let want = match h["snapshot"].as_str().unwrap() {
            s if s.starts_with("routers/") => "branch-router-shinjuku",
            "kiosk-01" | "kiosk-02" | "zz-hostile" => "lobby-kiosk-umeda",
            _ => continue,
        };
        assert_eq!(h["profile"], want, "{h}");
    }
    assert_eq!(host("routers/shinjuku-rtr-01.cfg").0["status"], "compliant");
    assert_ne!(host("routers/shinjuku-rtr-02.cfg").0["status"], "compliant");
    assert_eq!(
        host("zz-hostile").0["host"],
        HOSTILE_HOST,
        "JSON keeps the text exactly"
    );

    // Each audited host's controls: exactly what `hardbase diff` says of that snapshot alone.
    for (h, controls) in hosts.iter().filter(|(h, _)| h["status"] != "error") {
        let snapshot = fleet.snapshots.join(h["snapshot"].as_str().unwrap());
        let profile = if h["profile"] == "lobby-kiosk-umeda" {
            KIOSK
        } else {
            ROUTER
        };
        let d = run(&[
            "diff",
            profile,
            "--live",
            snapshot.to_str().unwrap(),
            "--at",
            "2026-11-27",
            "--format",
            "json",
        ]);
        let report: Value = serde_json::from_str(&d.stdout).unwrap();
        let governs: Vec<&str> = report["unexpected"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|u| u["control"].as_str())
            .collect();
        let mut want: BTreeMap<String, String> = BTreeMap::new();
        for c in report["controls"].as_array().unwrap() {
            let id = c["id"].as_str().unwrap();
            let mut status = c["status"].as_str().unwrap().to_string();
            if governs.contains(&id)
                && matches!(
                    status.as_str(),
                    "compliant" | "waived" | "manual" | "not-collected"
                )
            {
                status = "unexpected".into();
            }
            want.insert(id.to_string(), status);
        }
        let got: BTreeMap<String, String> = controls
            .iter()
            .map(|c| {
                (
                    c["control"].as_str().unwrap().to_string(),
                    c["status"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(got, want, "{}", h["snapshot"]);
        // Every finding of the diff is a finding of the audit, with its evidence.
        let findings: usize = controls
            .iter()
            .map(|c| c["findings"].as_array().unwrap().len())
            .sum();
        let not_compliant = report["controls"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["settings"].as_array().unwrap())
            .filter(|s| s["status"] != "compliant")
            .count();
        assert_eq!(findings, not_compliant, "{}", h["snapshot"]);
        assert_eq!(
            h["settings"]["unexpected"].as_u64().unwrap() as usize,
            report["unexpected"].as_array().unwrap().len()
        );
    }
    // The drifted kiosk differs from the clean one in exactly kernel.kptr_restrict.
    let finding_targets = |s: &str| -> Vec<(String, String)> {
        host(s)
            .1
            .iter()
            .flat_map(|c| c["findings"].as_array().unwrap().clone())
            .map(|f| {
                (
                    f["target"].as_str().unwrap().to_string(),
                    f["status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let clean = finding_targets("kiosk-01");
    let drifted = finding_targets("kiosk-02");
    let extra: Vec<_> = drifted.iter().filter(|f| !clean.contains(f)).collect();
    assert_eq!(extra.len(), 1, "{extra:?}");
    assert!(extra[0].0.contains("kptr_restrict") && extra[0].1 == "drift");
    let kptr = host("kiosk-02")
        .1
        .iter()
        .flat_map(|c| c["findings"].as_array().unwrap())
        .find(|f| f["target"].as_str().unwrap().contains("kptr_restrict"))
        .unwrap()
        .clone();
    assert_eq!(kptr["actual"], "0");
    assert!(kptr["catalog_line"]
        .as_str()
        .unwrap()
        .starts_with("<built-in>/baselines/"));

    // The summary: totals, the failing controls, the errors; snapshot text escaped.
    let out = &r.stdout;
    assert!(
        out.contains("fleet audit: 8 snapshots / 9 profiles (evaluated as of 2026-11-27)"),
        "{out}"
    );
    assert!(
        out.contains("2 compliant, 4 with findings, 2 not audited"),
        "{out}"
    );
    assert!(
        out.contains("stray: the host `stray-01` matches no [[host]] rule of"),
        "{out}"
    );
    assert!(
        !out.contains('\u{1b}'),
        "a snapshot's escape sequence reached the terminal"
    );
    assert!(out.contains("\\u{1b}[31m<script>"), "{out}");
    assert!(out.contains(&format!(
        "wrote {} ({} records)",
        fleet.out("out/audit.jsonl").display(),
        records(&fleet.out("out/audit.jsonl")).len()
    )));
}

#[test]
fn the_reports_are_the_same_bytes_whatever_the_number_of_workers() {
    let fleet = Fleet::new("audit-jobs", 40);
    let map = fleet.map.to_str().unwrap();
    let one = fleet.audit("one", &["--map", map, "--jobs", "1"]);
    let four = fleet.audit("four", &["--map", map, "--jobs", "4"]);
    assert_eq!(one.status, 2, "{}", one.stderr);
    assert_eq!(one.stdout.replace("/one/", "/four/"), four.stdout);
    let mut names: Vec<String> = std::fs::read_dir(fleet.out("one"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["audit.html", "audit.jsonl", "audit.xlsx", "manifest.json"]
    );
    for name in &names {
        let a = std::fs::read(fleet.out("one").join(name)).unwrap();
        let b = std::fs::read(fleet.out("four").join(name)).unwrap();
        assert!(a == b, "{name} differs between --jobs 1 and --jobs 4");
    }
    // 48 snapshots, in order.
    let hosts = by_host(&records(&fleet.out("one/audit.jsonl")));
    assert_eq!(hosts.len(), 48);
    let order: Vec<&str> = hosts
        .iter()
        .map(|(h, _)| h["snapshot"].as_str().unwrap())
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
}

#[test]
fn a_compliant_fleet_exits_zero_and_one_drifted_host_exits_one() {
    let tmp = TempDir::new("audit-exit");
    let generated = std::fs::read_to_string(build_router(&tmp.path().join("dist"))).unwrap();
    let snapshots = tmp.path().join("snapshots");
    std::fs::create_dir_all(&snapshots).unwrap();
    // The profile named like the host maps it when nothing else does.
    for host in ["branch-router-shinjuku", "BRANCH-ROUTER-SHINJUKU"] {
        std::fs::write(
            snapshots.join(format!("{host}-running.txt")),
            router_config(&generated, host, false),
        )
        .unwrap();
    }
    std::fs::write(snapshots.join("README.md"), "not a snapshot\n").unwrap();
    let out = tmp.path().join("out");
    let audit = |formats: &str| {
        run(&[
            "audit",
            "--profiles",
            ROUTER,
            "--snapshots",
            snapshots.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--at",
            "2026-11-27",
            "--formats",
            formats,
            "--lang",
            "en",
        ])
    };
    let r = audit("jsonl");
    assert_eq!(r.status, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r
        .stdout
        .contains("hosts: 2 compliant, 0 with findings, 0 not audited"));
    assert!(
        r.stderr.contains(
            "README.md is neither a snapshot folder nor a running configuration; skipped"
        ),
        "{}",
        r.stderr
    );
    assert!(!out.join("audit.xlsx").exists() && out.join("audit.jsonl").exists());
    std::fs::write(
        snapshots.join("branch-router-shinjuku-running.txt"),
        router_config(&generated, "branch-router-shinjuku", true),
    )
    .unwrap();
    let r = audit("jsonl,xlsx");
    assert_eq!(r.status, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r
        .stdout
        .contains("hosts: 1 compliant, 1 with findings, 0 not audited"));
    // The folder was replaced as a whole: the new workbook, no stale file.
    assert!(out.join("audit.xlsx").exists());
}

#[test]
fn input_errors_point_at_their_line_and_write_nothing() {
    let fleet = Fleet::new("audit-errors", 0);
    let bad = fleet.tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[host]]\nmatch = \"kiosk-*\"\nprofile = \"lobby-kiosk\"\n\n[[host]]\nmatch = \"a b\"\nprofile = \"management\"\nextra = 1\n",
    )
    .unwrap();
    let r = fleet.audit("out", &["--map", bad.to_str().unwrap()]);
    assert_eq!(r.status, 2);
    let file = bad.display().to_string();
    assert!(
        r.stderr
            .contains("no profile named `lobby-kiosk` under --profiles"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("help: did you mean `lobby-kiosk-umeda`?"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(&format!("{file}:3:11")), "{}", r.stderr);
    assert!(
        r.stderr.contains("`a b` is not a host name pattern"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(&format!("{file}:6:9")), "{}", r.stderr);
    assert!(r.stderr.contains("unknown key `extra`"), "{}", r.stderr);
    assert!(
        !fleet.out("out").exists(),
        "nothing is written on an input error"
    );
    // A folder that is not hardbase output is never replaced.
    std::fs::create_dir_all(fleet.out("mine")).unwrap();
    std::fs::write(fleet.out("mine/notes.txt"), "keep").unwrap();
    let r = fleet.audit("mine", &["--map", fleet.map.to_str().unwrap()]);
    assert_eq!(r.status, 2);
    assert!(
        r.stderr.contains("has no hardbase manifest.json"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(fleet.out("mine/notes.txt")).unwrap(),
        "keep"
    );
    // A missing snapshots folder.
    let r = run(&[
        "audit",
        "--profiles",
        KIOSK,
        "--snapshots",
        fleet.tmp.path().join("nowhere").to_str().unwrap(),
        "--out",
        fleet.out("x").to_str().unwrap(),
    ]);
    assert_eq!(r.status, 2);
    assert!(
        r.stderr.contains("nowhere is not a folder of snapshots"),
        "{}",
        r.stderr
    );
    assert!(!fleet.out("x").exists());
}

#[test]
fn the_workbook_reads_back_with_the_jsonl_counts() {
    let Some(python) = python_with(&["openpyxl"]) else {
        return;
    };
    let fleet = Fleet::new("audit-xlsx", 0);
    let map = fleet.map.to_str().unwrap();
    let r = fleet.audit(
        "out",
        &["--map", map, "--lang", "ja", "--formats", "jsonl,xlsx"],
    );
    assert_eq!(r.status, 2, "{}", r.stderr);
    let script = r#"
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
out = {"sheets": wb.sheetnames}
for ws in wb.worksheets:
    out[ws.title] = [[c.value for c in row] for row in ws.iter_rows()]
    out[ws.title + ":quoted"] = [c.coordinate for row in ws.iter_rows() for c in row if c.quotePrefix]
print(json.dumps(out, ensure_ascii=False))
"#;
    let xlsx = fleet.out("out/audit.xlsx");
    let book: Value =
        serde_json::from_slice(&run_python(&python, script, [xlsx.to_str().unwrap()])).unwrap();
    assert_eq!(book["sheets"], serde_json::json!(["概要", "端末", "結果"]));
    let all = records(&fleet.out("out/audit.jsonl"));
    let controls: Vec<&Value> = all.iter().filter(|r| r["record"] == "control").collect();
    let hosts: Vec<&Value> = all.iter().filter(|r| r["record"] == "host").collect();
    let results = book["結果"].as_array().unwrap();
    assert_eq!(
        results.len() - 1,
        controls.len(),
        "one row per host × control"
    );
    // (openpyxl leaves control characters in OOXML's `_x001B_` form.)
    let xl = |v: &Value| v.as_str().unwrap().replace('\u{1b}', "_x001B_");
    for (row, rec) in results[1..].iter().zip(&controls) {
        assert_eq!(row[0].as_str().unwrap(), xl(&rec["host"]));
        assert_eq!(row[3], rec["control"]);
        assert_eq!(
            row[9].as_f64().unwrap() as u64,
            rec["settings"].as_u64().unwrap()
        );
    }
    let host_rows = book["端末"].as_array().unwrap();
    assert_eq!(host_rows.len() - 1, hosts.len());
    // The hostile host name is text with Excel's quote prefix, never a formula.
    let hostile_row = host_rows
        .iter()
        .position(|r| r[0] == HOSTILE_HOST.replace('\u{1b}', "_x001B_"))
        .expect("the hostile host is a row");
    assert!(book["端末:quoted"]
        .as_array()
        .unwrap()
        .contains(&Value::String(format!("A{}", hostile_row + 1))));
    // The summary sheet: per control, hosts per status as the JSON Lines tally them.
    let summary = book["概要"].as_array().unwrap();
    let header: Vec<&str> = summary[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        header,
        [
            "対策ID",
            "対策",
            "分類",
            "区分",
            "端末数",
            "適合",
            "免除",
            "手動確認",
            "未収集",
            "想定外",
            "欠落",
            "相違"
        ]
    );
    let ids = [
        "compliant",
        "waived",
        "manual",
        "not-collected",
        "unexpected",
        "missing",
        "drift",
    ];
    let mut checked = 0;
    for row in summary[1..].iter().take_while(|r| r[0].is_string()) {
        let id = row[0].as_str().unwrap();
        for (k, status) in ids.iter().enumerate() {
            let want = controls
                .iter()
                .filter(|c| c["control"] == id && c["status"] == *status)
                .count();
            assert_eq!(row[5 + k].as_f64().unwrap() as usize, want, "{id} {status}");
        }
        checked += 1;
    }
    let distinct: std::collections::BTreeSet<&str> = controls
        .iter()
        .map(|c| c["control"].as_str().unwrap())
        .collect();
    assert_eq!(checked, distinct.len());
}

#[test]
fn progress_is_drawn_on_stderr_when_asked() {
    let fleet = Fleet::new("audit-progress", 0);
    let map = fleet.map.to_str().unwrap();
    let r = fleet.audit(
        "out",
        &["--map", map, "--formats", "jsonl", "--progress", "always"],
    );
    assert!(r.stderr.contains("8/8 hosts 100%"), "{}", r.stderr);
    let quiet = fleet.audit("out2", &["--map", map, "--formats", "jsonl"]);
    assert!(!quiet.stderr.contains("hosts"), "{}", quiet.stderr);
}

#[test]
fn the_audit_commands_html_report_opens_in_chromium() {
    let Some(browser) = crate::audit_html::browser() else {
        return;
    };
    let fleet = Fleet::new("audit-e2e-html", 0);
    let map = fleet.map.to_str().unwrap();
    let r = fleet.audit("out", &["--map", map, "--lang", "en", "--formats", "html"]);
    assert_eq!(r.status, 2, "{}", r.stderr);
    let page = fleet.out("out/audit.html");
    let verdict = crate::audit_html::run_browser(
        &browser,
        fleet.tmp.path(),
        &page,
        serde_json::json!([
            { "do": "search", "text": "kiosk-02" },
            { "do": "click", "selector": "#hb-hostlist button" },
            { "do": "search", "text": "HYPERLINK" },
            { "do": "click", "selector": "#hb-hostlist button" },
            { "do": "search", "text": "stray" },
            { "do": "click", "selector": "#hb-hostlist button" },
        ]),
    );
    assert_eq!(verdict["consoleErrors"], serde_json::json!([]));
    assert_eq!(verdict["pageErrors"], serde_json::json!([]));
    assert_eq!(verdict["cspViolations"], serde_json::json!([]));
    assert_eq!(verdict["requests"], serde_json::json!([verdict["pageUrl"]]));
    assert_eq!(verdict["pwned"], "undefined");
    assert_eq!(verdict["activeElements"], 0);
    assert_eq!(verdict["initial"]["shownHosts"], 8);
    let steps = verdict["steps"].as_array().unwrap();
    let kiosk = steps[1]["detailText"].as_str().unwrap();
    assert_eq!(steps[1]["detailTitle"], "kiosk-02");
    assert!(kiosk.contains("kernel.kptr_restrict"), "{kiosk}");
    assert!(
        kiosk.contains("examples/regional-bank/lobby-kiosk.toml") || kiosk.contains("baselines/"),
        "{kiosk}"
    );
    let hostile = steps[3]["detailTitle"].as_str().unwrap();
    assert!(hostile.contains("<script>alert(1)</script>"), "{hostile}");
    let stray = steps[5]["detailText"].as_str().unwrap();
    assert!(stray.contains("matches no [[host]] rule"), "{stray}");
}

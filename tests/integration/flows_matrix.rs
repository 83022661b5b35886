//! The flow matrix: the example bank's flows merged across profiles, xlsx against CSV, hostile
//! values, determinism.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::util::{python_with, root, run, run_python, TempDir};

const BANK: &str = "examples/regional-bank";
const AT: [&str; 2] = ["--at", "2026-11-27"];

fn flows(args: &[&str]) -> crate::util::Run {
    let mut all = vec!["flows"];
    all.extend_from_slice(args);
    all.extend_from_slice(&AT);
    run(&all)
}

fn json(run: &crate::util::Run) -> Value {
    assert_eq!(run.status, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn set(v: &Value) -> BTreeSet<String> {
    strings(v).into_iter().collect()
}

/// What `check` reports of one declared flow.
struct Declared {
    direction: String,
    protocol: String,
    peers: BTreeSet<String>,
    ports: Vec<u64>,
}

/// Every flow `check --format json` reports, by (profile, flow id).
fn checked_flows(target: &str) -> BTreeMap<(String, String), Declared> {
    let mut args = vec!["check", target, "--format", "json"];
    args.extend_from_slice(&AT);
    let check = json(&run(&args));
    let mut out = BTreeMap::new();
    for p in check["profiles"].as_array().unwrap() {
        let profile = p["name"].as_str().unwrap().to_string();
        for f in p["flows"].as_array().unwrap() {
            let mut ports: Vec<u64> = f["ports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_u64().unwrap())
                .collect();
            ports.sort_unstable();
            ports.dedup();
            let previous = out.insert(
                (profile.clone(), f["id"].as_str().unwrap().to_string()),
                Declared {
                    direction: f["direction"].as_str().unwrap().to_string(),
                    protocol: f["protocol"].as_str().unwrap().to_string(),
                    peers: set(&f["peers"]),
                    ports,
                },
            );
            assert!(previous.is_none(), "one flow id per profile");
        }
    }
    assert!(!out.is_empty());
    out
}

#[test]
fn the_bank_matrix_holds_exactly_the_flows_check_reports_merged_across_profiles() {
    let expected = checked_flows(BANK);
    let matrix = json(&flows(&[BANK, "--format", "json"]));
    let rows = matrix["flows"].as_array().unwrap();
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut keys = BTreeSet::new();
    for row in rows {
        let ports: Vec<u64> = row["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap())
            .collect();
        // Deduplicated: one row per source, destination, protocol and ports.
        assert!(
            keys.insert((
                strings(&row["source"]),
                strings(&row["destination"]),
                row["protocol"].as_str().unwrap().to_string(),
                ports.clone(),
            )),
            "duplicate row {row}"
        );
        let declared_by = row["declared_by"].as_array().unwrap();
        assert!(!declared_by.is_empty(), "{row}");
        let mut profiles = BTreeSet::new();
        let (mut outbound, mut inbound) = (false, false);
        for d in declared_by {
            let key = (
                d["profile"].as_str().unwrap().to_string(),
                d["flow"].as_str().unwrap().to_string(),
            );
            let flow = expected
                .get(&key)
                .unwrap_or_else(|| panic!("{key:?} is not a flow check reports"));
            assert_eq!(d["direction"], flow.direction.as_str());
            assert_eq!(row["protocol"], flow.protocol.as_str(), "{key:?}");
            assert_eq!(ports, flow.ports, "{key:?}");
            // Oriented from the initiator: an outbound flow's peers are the destination, an
            // inbound flow's peers hold the source.
            if flow.direction == "outbound" {
                outbound = true;
                assert_eq!(set(&row["destination"]), flow.peers, "{key:?}");
            } else {
                inbound = true;
                if row["direction"] == "inbound" {
                    assert_eq!(set(&row["source"]), flow.peers, "{key:?}");
                }
            }
            profiles.insert(key.0.clone());
            *seen.entry(key).or_default() += 1;
        }
        let direction = match (outbound, inbound) {
            (true, false) => "outbound",
            (false, true) => "inbound",
            _ => "outbound-and-inbound",
        };
        assert_eq!(row["direction"], direction, "{row}");
        assert_eq!(set(&row["profiles"]), profiles, "{row}");
    }
    // Every flow of every profile is in the matrix; an outbound flow in exactly one row.
    assert_eq!(
        seen.keys().cloned().collect::<BTreeSet<_>>(),
        expected.keys().cloned().collect::<BTreeSet<_>>()
    );
    for (key, n) in &seen {
        if expected[key].direction == "outbound" {
            assert_eq!(*n, 1, "{key:?} is shown once");
        }
    }
    // The same connection seen from both ends is one row, listing both sides.
    let row_of = |profile: &str, flow: &str| {
        rows.iter()
            .find(|r| {
                r["declared_by"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|d| d["profile"] == profile && d["flow"] == flow)
            })
            .unwrap_or_else(|| panic!("{profile} {flow}"))
    };
    // Each branch's ATMs (and the branch router that carries them) from their own network; the
    // relays' inbound flow joins each.
    let host = row_of("branch-atm-shinjuku", "host");
    for p in [
        "branch-atm-shinjuku",
        "branch-router-shinjuku",
        "relay-primary",
        "relay-secondary",
    ] {
        assert!(set(&host["profiles"]).contains(p), "{p} in {host}");
    }
    assert_eq!(
        strings(&host["source"]),
        ["10.50.1.0/24"],
        "the Shinjuku ATM network"
    );
    let umeda = row_of("branch-atm-umeda", "host");
    assert_eq!(
        strings(&umeda["source"]),
        ["10.50.2.0/24"],
        "the Umeda ATM network"
    );
    assert!(set(&umeda["profiles"]).contains("relay-primary"), "{umeda}");
    assert!(
        !set(&umeda["profiles"]).contains("branch-router-shinjuku"),
        "{umeda}"
    );
    assert_eq!(strings(&host["destination"]), ["10.10.1.10", "10.10.1.11"]);
    assert_eq!(host["direction"], "outbound-and-inbound");
    assert!(strings(&host["controls"]).contains(&"COM-FW-002".to_string()));
    let wec = row_of("branch-atm-umeda", "log-forwarding");
    assert!(set(&wec["profiles"]).contains("monitoring-wec"), "{wec}");
    let syslog = row_of("lobby-kiosk-umeda", "log-forwarding");
    assert!(
        set(&syslog["profiles"]).contains("monitoring-syslog"),
        "{syslog}"
    );
    assert!(
        !set(&syslog["profiles"]).contains("monitoring-wec"),
        "{syslog}"
    );
}

#[test]
fn the_table_has_one_line_per_row_in_every_format() {
    let matrix = json(&flows(&[BANK, "--format", "json"]));
    let n = matrix["flows"].as_array().unwrap().len();
    for lang in ["ja", "en"] {
        let csv = flows(&[BANK, "--format", "csv", "--lang", lang]);
        assert_eq!(csv.status, 0, "{}", csv.stderr);
        assert!(csv.bytes.starts_with("\u{feff}".as_bytes()), "UTF-8 BOM");
        assert_eq!(csv.stdout.matches("\r\n").count(), n + 1);
        let md = flows(&[BANK, "--format", "md", "--lang", lang]);
        assert_eq!(md.status, 0, "{}", md.stderr);
        assert_eq!(
            md.stdout.lines().filter(|l| l.starts_with('|')).count(),
            n + 2
        );
    }
    let en = flows(&[BANK, "--format", "csv", "--lang", "en"]);
    assert!(en.stdout.starts_with(
        "\u{feff}Source,Destination,Protocol,Ports,Direction,Purpose,Profiles,Controls\r\n"
    ));
    let ja = flows(&[BANK, "--format", "csv"]);
    assert!(ja
        .stdout
        .contains("ATM ネットワークから中継サーバへの取引電文"));
}

#[test]
fn xlsx_needs_an_output_file() {
    let r = flows(&[BANK, "--format", "xlsx"]);
    assert_eq!(r.status, 2);
    assert!(r.stderr.contains("--output"), "{}", r.stderr);
    assert!(r.bytes.is_empty());
}

/// Reads an xlsx with openpyxl and a CSV with Python's csv module, as JSON.
const READ_BOTH: &str = r#"
import csv, json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb.worksheets[0]
rows = [[{"v": c.value, "t": c.data_type, "q": bool(c.quotePrefix)} for c in row] for row in ws.iter_rows()]
with open(sys.argv[2], newline="", encoding="utf-8-sig") as f:
    table = list(csv.reader(f))
print(json.dumps({"rows": rows, "csv": table, "freeze": ws.freeze_panes, "filter": ws.auto_filter.ref, "sheets": len(wb.worksheets)}))
"#;

/// Writes the matrix of `args` as xlsx and CSV and reads both back.
fn xlsx_and_csv(python: &std::path::Path, dir: &TempDir, args: &[&str], lang: &str) -> Value {
    let xlsx = dir.path().join(format!("flows-{lang}.xlsx"));
    let csv = dir.path().join(format!("flows-{lang}.csv"));
    for (format, path) in [("xlsx", &xlsx), ("csv", &csv)] {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--lang", lang, "--format", format, "-o"]);
        all.push(path.to_str().unwrap());
        let r = flows(&all);
        assert_eq!(r.status, 0, "{}", r.stderr);
    }
    serde_json::from_slice(&run_python(python, READ_BOTH, [&xlsx, &csv])).unwrap()
}

fn assert_same_cells(sheet: &Value) {
    let rows = sheet["rows"].as_array().unwrap();
    let csv = sheet["csv"].as_array().unwrap();
    assert_eq!(rows.len(), csv.len());
    assert!(rows.len() > 1);
    for (row, csv_row) in rows.iter().zip(csv) {
        let (row, csv_row) = (row.as_array().unwrap(), csv_row.as_array().unwrap());
        assert_eq!(row.len(), 8);
        assert_eq!(csv_row.len(), 8);
        for (cell, csv_cell) in row.iter().zip(csv_row) {
            crate::util::assert_xlsx_cell_matches_csv(cell, csv_cell.as_str().unwrap());
        }
    }
    assert_eq!(sheet["freeze"], "A2");
    assert_eq!(sheet["filter"], format!("A1:H{}", rows.len()).as_str());
    assert_eq!(sheet["sheets"], 1);
}

#[test]
fn xlsx_read_back_by_openpyxl_has_the_same_cells_as_csv() {
    let Some(python) = python_with(&["openpyxl"]) else {
        return;
    };
    let dir = TempDir::new("flows-xlsx");
    for lang in ["ja", "en"] {
        let sheet = xlsx_and_csv(&python, &dir, &[BANK], lang);
        assert_same_cells(&sheet);
    }
}

/// A profile named `-1` (formula-like) extending the example ATM, with the `time` flow
/// redefined to carry a hostile purpose.
fn hostile_bank(dir: &TempDir) {
    let baselines = dir.path().join("baselines");
    std::fs::create_dir_all(&baselines).unwrap();
    std::fs::write(
        baselines.join("flows.toml"),
        r#"[[flow]]
id = "time"
roles = ["atm-terminal"]
direction = "outbound"
protocol = "udp"
peers = ["${ntp_server}"]
ports = [123]
purpose = { en = "=HYPERLINK(\"http://example.invalid/x\",\"open me\") | <b>x</b>\nsecond line", ja = "@SUM(1,2)|改行\nあり" }
"#,
    )
    .unwrap();
    let example = root().join(BANK).join("branch-atm-shinjuku.toml");
    std::fs::write(
        dir.path().join("evil.toml"),
        format!(
            "[profile]\nname = \"-1\"\nextends = [{:?}]\n",
            example.display().to_string()
        ),
    )
    .unwrap();
}

fn hostile_args(dir: &TempDir) -> [String; 3] {
    [
        "--baselines".to_string(),
        dir.path().join("baselines").display().to_string(),
        dir.path().join("evil.toml").display().to_string(),
    ]
}

#[test]
fn hostile_purposes_and_profile_names_are_inert() {
    let dir = TempDir::new("flows-hostile");
    hostile_bank(&dir);
    let args = hostile_args(&dir);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let mut csv_args = args.clone();
    csv_args.extend_from_slice(&["--lang", "en", "--format", "csv"]);
    let csv = flows(&csv_args);
    assert_eq!(csv.status, 0, "{}", csv.stderr);
    assert!(
        csv.stdout.contains(
            "\"'=HYPERLINK(\"\"http://example.invalid/x\"\",\"\"open me\"\") | <b>x</b>\nsecond line\""
        ),
        "{}",
        csv.stdout
    );
    assert!(csv.stdout.contains(",'-1,"), "{}", csv.stdout);
    assert!(!csv.stdout.contains(",=") && !csv.stdout.contains(",-1,"));
    let mut ja_args = args.clone();
    ja_args.extend_from_slice(&["--lang", "ja", "--format", "csv"]);
    let ja = flows(&ja_args);
    assert!(
        ja.stdout.contains("\"'@SUM(1,2)|改行\nあり\""),
        "{}",
        ja.stdout
    );

    let mut md_args = args.clone();
    md_args.extend_from_slice(&["--lang", "en", "--format", "md"]);
    let md = flows(&md_args);
    assert_eq!(md.status, 0, "{}", md.stderr);
    let line = md
        .stdout
        .lines()
        .find(|l| l.contains("HYPERLINK"))
        .expect("the hostile purpose is on one table line");
    assert!(
        line.contains(r#"=HYPERLINK("http://example.invalid/x","open me") \| &lt;b&gt;x&lt;/b&gt; second line"#),
        "{line}"
    );
    let unescaped = line.replace("\\|", "");
    assert_eq!(unescaped.matches('|').count(), 9, "eight cells: {line}");
    assert!(!md.stdout.contains("<b>"));

    let mut json_args = args.clone();
    json_args.extend_from_slice(&["--format", "json"]);
    let doc = json(&flows(&json_args));
    let time = doc["flows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ports"] == serde_json::json!([123]))
        .unwrap();
    assert!(time["purpose"]["en"]
        .as_str()
        .unwrap()
        .starts_with("=HYPERLINK("));
    assert_eq!(strings(&time["profiles"]), ["-1"]);

    if let Some(python) = python_with(&["openpyxl"]) {
        for lang in ["en", "ja"] {
            let sheet = xlsx_and_csv(&python, &dir, &args, lang);
            assert_same_cells(&sheet);
            let rows = sheet["rows"].as_array().unwrap();
            let hostile = rows
                .iter()
                .find(|r| r[3]["v"] == "123")
                .expect("the time row");
            assert_eq!(hostile[5]["q"], true);
            assert_eq!(hostile[5]["t"], "s");
            assert_eq!(hostile[6]["v"], "-1");
            assert_eq!(hostile[6]["q"], true);
        }
    }
}

#[test]
fn two_runs_are_byte_identical() {
    let dir = TempDir::new("flows-twice");
    for format in ["csv", "md", "json", "xlsx"] {
        for lang in ["ja", "en"] {
            let out = |n: usize| {
                let path = dir.path().join(format!("{n}-{lang}.{format}"));
                let r = flows(&[
                    BANK,
                    "--format",
                    format,
                    "--lang",
                    lang,
                    "-o",
                    path.to_str().unwrap(),
                ]);
                assert_eq!(r.status, 0, "{}", r.stderr);
                std::fs::read(path).unwrap()
            };
            assert_eq!(out(1), out(2), "{format} {lang}");
        }
    }
}

/// The flow-matrix workbook as a package: every part well-formed XML with a content type, the
/// hidden filter-database name over the autofilter, the bold header on its fill, the sheet and
/// document titles; a purpose longer than a cell holds is cut with a note.
#[test]
fn the_workbook_is_a_well_formed_package() {
    let Some(python) = python_with(&["openpyxl"]) else {
        return;
    };
    let dir = TempDir::new("flows-package");
    hostile_bank(&dir);
    // The time flow's purpose, longer than an Excel cell holds.
    let flows_toml = dir.path().join("baselines").join("flows.toml");
    let text = std::fs::read_to_string(&flows_toml).unwrap();
    let long = format!("=cmd|{}", "x".repeat(40_000));
    let start = text.find("purpose = ").unwrap();
    let end = start + text[start..].find('\n').unwrap();
    let text = format!(
        "{}purpose = {{ en = {long:?}, ja = \"時刻同期\" }}{}",
        &text[..start],
        &text[end..]
    );
    std::fs::write(&flows_toml, text).unwrap();
    let args = hostile_args(&dir);
    for (lang, sheet, title) in [
        ("en", "Flows", "Flow matrix"),
        ("ja", "通信フロー", "通信フロー一覧"),
    ] {
        let path = dir.path().join(format!("package-{lang}.xlsx"));
        let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
        all.extend_from_slice(&["--lang", lang, "--format", "xlsx", "-o"]);
        all.push(path.to_str().unwrap());
        let r = flows(&all);
        assert_eq!(r.status, 0, "{}", r.stderr);
        let package = crate::util::read_xlsx_package(&python, &path);
        crate::util::assert_xlsx_package(&package);
        assert_eq!(package["sheets"], serde_json::json!([sheet]));
        assert_eq!(package["title"], title);
        let rows = package["rows"].as_array().unwrap();
        assert!(rows.len() > 2);
        assert_eq!(
            package["names"][0]["ref"],
            format!("'{sheet}'!$A$1:$H${}", rows.len()).as_str()
        );
        for cell in rows[0].as_array().unwrap() {
            assert_eq!(cell["b"], true, "{cell}");
            assert_eq!(cell["fill"], "FFD9E1F2", "{cell}");
        }
        let time = rows
            .iter()
            .find(|r| r[3]["v"] == "123")
            .expect("the time row");
        if lang == "en" {
            let purpose = time[5]["v"].as_str().unwrap();
            assert!(purpose.starts_with("=cmd|xxx"), "{}", &purpose[..20]);
            assert!(
                purpose.ends_with(" … (cut: longer than an Excel cell holds)"),
                "{}",
                &purpose[purpose.len() - 60..]
            );
            assert!(purpose.chars().count() <= 32_767);
            assert_eq!(time[5]["q"], true);
            assert_eq!(time[5]["t"], "s");
        } else {
            assert_eq!(time[5]["v"], "時刻同期");
        }
    }
}

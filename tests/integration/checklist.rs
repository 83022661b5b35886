//! The auditor's checklist: Markdown, CSV and xlsx, both languages, hostile text.

use serde_json::Value;

use crate::util::{fixtures, python_with, run, run_in, TempDir};

fn checklist(case: &str, extra_catalogs: &[&str], args: &[&str]) -> crate::util::Run {
    let mut all = vec!["--no-builtin", "--baselines", "../catalog"];
    for c in extra_catalogs {
        all.push("--baselines");
        all.push(c);
    }
    all.push("checklist");
    all.extend_from_slice(args);
    all.extend_from_slice(&["--at", "2026-11-27"]);
    run_in(&fixtures().join(case), &all)
}

/// The hostile fixture's checklist as xlsx in `lang`, written to `out`.
fn hostile_xlsx(lang: &str, out: &str) -> crate::util::Run {
    checklist(
        "hostile",
        &["hostile-catalog"],
        &[
            "profile.toml",
            "--lang",
            lang,
            "--format",
            "xlsx",
            "--output",
            out,
        ],
    )
}

const JA_MD: &str = r#"# セキュリティ対策チェックリスト — test-atm

| プロファイル | test-atm |
|---|---|
| 対象 | ATM端末 |
| プラットフォーム | Windows 10 IoT Enterprise LTSC 2021 |
| 対象の区分 | 取り組みやすい対策、コストパフォーマンスの良い対策 |
| 項目数 | 4件（うち手動確認 1件、適用除外 1件） |

| 項番 | 対象 | 分類 | 対策例 | 達成基準 | 区分 | 確認結果 | 備考 |
|---|---|---|---|---|---|---|---|
| 1 | ATM端末 | 通信の最小化 | ログ転送の送信を許可する（TST-FW-001） | ログ収集サーバへの送信許可ルールが存在すること。 | 取り組みやすい対策、短期の対応 |  | hardbaseが自動設定する項目（1件） |
| 2 | ATM端末 | 機能の最小化 | 自動実行を無効化する（TST-REG-001） | NoAutorun が 1 であること。 | 取り組みやすい対策 |  | 適用除外（免除: vendor installer needs AutoRun during the pilot／承認: security office／チケット: SEC-1042／代替策: USB ports sealed／期限: 2027-03-31） |
| 3 | ATM端末 | 権限の最小化 | アカウントロックアウト（TST-ACC-001） | LockoutBadCount が 5 以下であること。 | 取り組みやすい対策 |  | hardbaseが自動設定する項目（2件） |
| 4 | ATM端末 | 物理 | PC 収納部の施錠（TST-PHY-001） | 上部収納部が固有の鍵で施錠されていること。 | 取り組みやすい対策 |  | 手動確認項目（確認済み: branch manager、2026-11-01） |

確認結果欄には、達成基準を満たすことを確認した結果（適合／不適合／対象外）と確認者・確認日を記入してください。
"#;

const EN_MD: &str = r#"# Security countermeasure checklist — test-atm

| Profile | test-atm |
|---|---|
| Target | ATM terminal |
| Platform | Windows 10 IoT Enterprise LTSC 2021 |
| Tiers | Easy, Cost-effective |
| Items | 4 (1 manual, 1 excluded) |

| No. | Target | Category | Countermeasure | Achievement criterion | Tier | Result | Remarks |
|---|---|---|---|---|---|---|---|
| 1 | ATM terminal | Communication minimization | Log forwarding allowed out (TST-FW-001) | An outbound allow rule to the log collector exists. | Easy, Short-term |  | Set automatically by hardbase (1 setting) |
| 2 | ATM terminal | Function minimization | AutoRun off (TST-REG-001) | NoAutorun is 1. | Easy |  | Excluded (waiver: vendor installer needs AutoRun during the pilot; approved by security office; ticket SEC-1042; compensating control: USB ports sealed; expires 2027-03-31) |
| 3 | ATM terminal | Privilege minimization | Account lockout (TST-ACC-001) | LockoutBadCount is at most 5. | Easy |  | Set automatically by hardbase (2 settings) |
| 4 | ATM terminal | Physical | PC compartment locked (TST-PHY-001) | The upper compartment has a unique lock. | Easy |  | Manual check (attested by branch manager on 2026-11-01) |

In the Result column, record whether the achievement criterion is met (compliant / non-compliant / not applicable), who checked it and when.
"#;

#[test]
fn markdown_in_japanese() {
    let r = checklist("valid", &[], &["atm.toml", "--lang", "ja"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(r.stdout, JA_MD);
}

#[test]
fn markdown_in_english() {
    let r = checklist(
        "valid",
        &[],
        &["atm.toml", "--lang", "en", "--format", "md"],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(r.stdout, EN_MD);
}

#[test]
fn csv_has_a_bom_crlf_and_quoted_cells() {
    let r = checklist(
        "valid",
        &[],
        &["atm.toml", "--lang", "en", "--format", "csv"],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(r.bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 BOM");
    let text = String::from_utf8(r.bytes[3..].to_vec()).unwrap();
    assert!(text.ends_with("\r\n"));
    assert!(
        !text.replace("\r\n", "").contains('\n'),
        "every line ends in CRLF"
    );
    let lines: Vec<&str> = text.trim_end().split("\r\n").collect();
    assert_eq!(
        lines,
        [
            r#"No.,Target,Category,Countermeasure,Achievement criterion,Tier,Result,Remarks"#,
            r#"1,ATM terminal,Communication minimization,Log forwarding allowed out (TST-FW-001),An outbound allow rule to the log collector exists.,"Easy, Short-term",,Set automatically by hardbase (1 setting)"#,
            r#"2,ATM terminal,Function minimization,AutoRun off (TST-REG-001),NoAutorun is 1.,Easy,,Excluded (waiver: vendor installer needs AutoRun during the pilot; approved by security office; ticket SEC-1042; compensating control: USB ports sealed; expires 2027-03-31)"#,
            r#"3,ATM terminal,Privilege minimization,Account lockout (TST-ACC-001),LockoutBadCount is at most 5.,Easy,,Set automatically by hardbase (2 settings)"#,
            r#"4,ATM terminal,Physical,PC compartment locked (TST-PHY-001),The upper compartment has a unique lock.,Easy,,Manual check (attested by branch manager on 2026-11-01)"#,
        ]
    );
    let ja = checklist(
        "valid",
        &[],
        &["atm.toml", "--lang", "ja", "--format", "csv"],
    );
    let ja = String::from_utf8(ja.bytes[3..].to_vec()).unwrap();
    assert!(ja.starts_with("項番,対象,分類,対策例,達成基準,区分,確認結果,備考\r\n"));
    assert!(
        ja.contains(",\"取り組みやすい対策、短期の対応\",")
            || ja.contains(",取り組みやすい対策、短期の対応,")
    );
}

#[test]
fn hostile_texts_are_neutralized_in_csv_and_escaped_in_markdown() {
    let csv = checklist(
        "hostile",
        &["hostile-catalog"],
        &["profile.toml", "--lang", "en", "--format", "csv"],
    );
    assert_eq!(csv.status, 0, "{}", csv.stderr);
    let text = String::from_utf8(csv.bytes[3..].to_vec()).unwrap();
    assert!(
        text.contains(r#""'=HYPERLINK(""http://example.invalid/x"",""open me"") (TST-EVIL-001)""#),
        "{text}"
    );
    assert!(text.contains(",'+1+1,"), "{text}");
    assert!(
        text.contains(",'-2+3 | <script>alert(1)</script> (TST-EVIL-002),"),
        "{text}"
    );
    assert!(text.contains(r#","a, ""quoted"" value","#), "{text}");
    for line in text.lines() {
        for cell in line.split(',') {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "formula cell {cell:?} in {line}"
            );
        }
    }
    let ja = checklist(
        "hostile",
        &["hostile-catalog"],
        &["profile.toml", "--lang", "ja", "--format", "csv"],
    );
    assert!(String::from_utf8(ja.bytes[3..].to_vec())
        .unwrap()
        .contains(r#","'@SUM(1,2)","#));
    let md = checklist(
        "hostile",
        &["hostile-catalog"],
        &["profile.toml", "--lang", "en"],
    );
    assert_eq!(md.status, 0);
    assert!(!md.stdout.contains("<script>"), "{}", md.stdout);
    assert!(
        md.stdout
            .contains("-2+3 \\| &lt;script&gt;alert(1)&lt;/script&gt; (TST-EVIL-002)"),
        "{}",
        md.stdout
    );
    let md_ja = checklist(
        "hostile",
        &["hostile-catalog"],
        &["profile.toml", "--lang", "ja"],
    );
    assert!(
        md_ja.stdout.contains("\\[link\\](javascript:alert(1))"),
        "{}",
        md_ja.stdout
    );
    // Every table row still has exactly eight cells: no unescaped pipe got through.
    for line in md
        .stdout
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains("(TST-"))
    {
        let cells = line.replace("\\|", "").matches('|').count();
        assert_eq!(cells, 9, "{line}");
    }
}

/// Reads an xlsx with openpyxl and returns its first sheet as JSON.
fn read_xlsx(python: &std::path::Path, path: &std::path::Path) -> Value {
    let script = r#"
import json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb.worksheets[0]
rows = [[{"v": c.value, "t": c.data_type, "q": bool(c.quotePrefix), "wrap": bool(c.alignment.wrap_text)} for c in row] for row in ws.iter_rows()]
widths = {k: v.width for k, v in ws.column_dimensions.items()}
print(json.dumps({"title": ws.title, "rows": rows, "freeze": ws.freeze_panes, "filter": ws.auto_filter.ref, "widths": widths, "sheets": len(wb.worksheets)}))
"#;
    serde_json::from_slice(&crate::util::run_python(python, script, [path])).unwrap()
}

fn csv_cells(bytes: &[u8]) -> Vec<Vec<String>> {
    // A small RFC 4180 reader for the tests: quotes, doubled quotes, CRLF.
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            ('"', true) => quoted = false,
            ('"', false) => quoted = true,
            (',', false) => row.push(std::mem::take(&mut cell)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => cell.push(c),
        }
    }
    rows
}

#[test]
fn xlsx_read_back_by_openpyxl_has_the_same_cells_as_csv() {
    let Some(python) = python_with(&["openpyxl"]) else {
        return;
    };
    let dir = TempDir::new("xlsx");
    for lang in ["ja", "en"] {
        let out = dir.path().join(format!("checklist-{lang}.xlsx"));
        let out_arg = out.to_str().unwrap();
        let r = hostile_xlsx(lang, out_arg);
        assert_eq!(r.status, 0, "{}", r.stderr);
        let first = std::fs::read(&out).unwrap();
        let again = hostile_xlsx(lang, out_arg);
        assert_eq!(again.status, 0);
        assert_eq!(
            first,
            std::fs::read(&out).unwrap(),
            "xlsx output is deterministic"
        );
        let sheet = read_xlsx(&python, &out);
        let csv = checklist(
            "hostile",
            &["hostile-catalog"],
            &["profile.toml", "--lang", lang, "--format", "csv"],
        );
        let expected = csv_cells(&csv.bytes);
        let rows = sheet["rows"].as_array().unwrap();
        assert_eq!(rows.len(), expected.len());
        assert_eq!(rows.len(), 7, "a header and six controls");
        for (row, csv_row) in rows.iter().zip(&expected) {
            let row = row.as_array().unwrap();
            assert_eq!(row.len(), 8);
            for (cell, csv_cell) in row.iter().zip(csv_row) {
                crate::util::assert_xlsx_cell_matches_csv(cell, csv_cell);
            }
        }
        let hostile = rows
            .iter()
            .find(|r| r[3]["v"].as_str().unwrap_or("").contains("TST-EVIL-001"))
            .unwrap();
        assert!(hostile[3]["v"].as_str().unwrap().starts_with("=HYPERLINK("));
        assert_eq!(hostile[3]["t"], "s");
        assert_eq!(sheet["freeze"], "A2");
        assert_eq!(sheet["filter"], "A1:H7");
        assert_eq!(sheet["sheets"], 1);
        assert_eq!(
            sheet["title"],
            if lang == "ja" {
                "チェックリスト"
            } else {
                "Checklist"
            }
        );
        let widths = sheet["widths"].as_object().unwrap();
        assert!(
            widths["D"].as_f64().unwrap() >= 40.0 && widths["E"].as_f64().unwrap() >= 40.0,
            "{widths:?}"
        );
        assert_eq!(rows[1][3]["wrap"], true);
    }
}

#[test]
fn xlsx_needs_an_output_file() {
    let r = checklist("valid", &[], &["atm.toml", "--format", "xlsx"]);
    assert_eq!(r.status, 2);
    assert_eq!(
        r.stderr,
        "error: an xlsx checklist is binary: write it to a file with --output FILE\n"
    );
}

/// The example bank's checklists, in both languages, with the built-in catalog.
#[test]
fn example_checklists_in_both_languages() {
    let check = run(&[
        "check",
        "examples/regional-bank/branch-atm-shinjuku.toml",
        "--format",
        "json",
        "--at",
        "2026-11-27",
    ]);
    assert_eq!(check.status, 0, "{}{}", check.stderr, check.stdout);
    let json: Value = serde_json::from_str(&check.stdout).unwrap();
    let controls = json["profiles"][0]["controls"].as_array().unwrap();
    for (lang, header, easy, short) in [
        ("ja", "| 項番 | 対象 | 分類 | 対策例 | 達成基準 | 区分 | 確認結果 | 備考 |", "取り組みやすい対策", "短期の対応"),
        ("en", "| No. | Target | Category | Countermeasure | Achievement criterion | Tier | Result | Remarks |", "Easy", "Short-term"),
    ] {
        let md = run(&["checklist", "examples/regional-bank/branch-atm-shinjuku.toml", "--lang", lang, "--at", "2026-11-27"]);
        assert_eq!(md.status, 0, "{}", md.stderr);
        assert!(md.stdout.contains(header), "{}", md.stdout);
        let rows: Vec<&str> = md.stdout.lines().filter(|l| l.starts_with("| ") && l.split(" | ").count() >= 8 && !l.starts_with(header)).collect();
        assert_eq!(rows.len(), controls.len(), "one row per selected control ({lang})");
        for (i, (row, control)) in rows.iter().zip(controls).enumerate() {
            let id = control["id"].as_str().unwrap();
            let title = control["title"][lang].as_str().unwrap();
            assert!(row.starts_with(&format!("| {} | ", i + 1)), "{row}");
            assert!(row.contains(id), "{row} names {id}");
            let escaped_title = hardbase::report::checklist::escape_markdown(title);
            assert!(row.contains(&escaped_title), "{row} has the {lang} title {title}");
            let criterion = hardbase::report::checklist::escape_markdown(control["criterion"][lang].as_str().unwrap());
            assert!(row.contains(&criterion), "{row} has the {lang} criterion");
            assert!(row.contains(easy) || control["tier"] == "cost-effective", "{row}");
            assert_eq!(row.contains(short), control["short_term"] == true, "{row}");
        }
        assert!(rows.iter().any(|r| r.contains(if lang == "ja" { "手動確認項目" } else { "Manual check" })));
    }
}

/// The checklist workbook as a package: every part well-formed XML with a content type, the
/// hidden filter-database name Excel keeps for the autofilter, the bold header on its fill,
/// borders, and the document title and date.
#[test]
fn xlsx_package_is_well_formed_with_the_filter_name_excel_expects() {
    let Some(python) = python_with(&["openpyxl"]) else {
        return;
    };
    let dir = TempDir::new("xlsx-package");
    for (lang, sheet, title) in [
        (
            "en",
            "Checklist",
            "Security countermeasure checklist — hostile",
        ),
        (
            "ja",
            "チェックリスト",
            "セキュリティ対策チェックリスト — hostile",
        ),
    ] {
        let out = dir.path().join(format!("checklist-{lang}.xlsx"));
        let r = hostile_xlsx(lang, out.to_str().unwrap());
        assert_eq!(r.status, 0, "{}", r.stderr);
        let package = crate::util::read_xlsx_package(&python, &out);
        crate::util::assert_xlsx_package(&package);
        assert_eq!(
            package["parts"],
            serde_json::json!([
                "[Content_Types].xml",
                "_rels/.rels",
                "docProps/app.xml",
                "docProps/core.xml",
                "xl/_rels/workbook.xml.rels",
                "xl/sharedStrings.xml",
                "xl/styles.xml",
                "xl/workbook.xml",
                "xl/worksheets/sheet1.xml"
            ])
        );
        assert_eq!(package["sheets"], serde_json::json!([sheet]));
        assert_eq!(
            package["names"][0]["ref"],
            format!("'{sheet}'!$A$1:$H$7").as_str()
        );
        assert_eq!(package["filter"], "A1:H7");
        assert_eq!(package["title"], title);
        assert!(
            package["created"]
                .as_str()
                .unwrap()
                .starts_with("2000-01-01T00:00:00"),
            "{}",
            package["created"]
        );
        let rows = package["rows"].as_array().unwrap();
        for cell in rows[0].as_array().unwrap() {
            assert_eq!(cell["b"], true, "bold header {cell}");
            assert_eq!(cell["fill"], "FFD9E1F2", "header fill {cell}");
            assert_eq!(cell["border"], "thin");
            assert_eq!(cell["wrap"], true);
            assert_eq!(cell["valign"], "top");
        }
        for cell in rows[1..].iter().flat_map(|r| r.as_array().unwrap()) {
            assert_eq!(cell["b"], false, "{cell}");
            assert_eq!(cell["fill"], Value::Null, "{cell}");
            // Empty cells (確認結果) keep their borders too.
            assert_eq!(cell["border"], "thin", "{cell}");
            assert_eq!(cell["wrap"], true, "{cell}");
            assert_eq!(cell["valign"], "top", "{cell}");
        }
    }
}

/// Whether Excel would read text as a formula (the cells that need the quote prefix).
fn formula_like(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// The table writer with hostile text everywhere: markup, quotes, control characters, a
/// literal `_x0041_`, formula-like cells, a cell longer than Excel holds, a title and a sheet
/// name Excel would refuse as they are.
#[test]
fn xlsx_table_keeps_hostile_text_inert_and_cuts_long_cells() {
    use hardbase::report::checklist::xlsx_table;
    let Some(python) = python_with(&["openpyxl"]) else {
        return;
    };
    const NOTE: &str = " … (cut: longer than an Excel cell holds)";
    let long = "長".repeat(40_000);
    let title = "Audit <b>&amp; \"quoted\" 'single' \u{1b}[31mred\u{7}\ttab\nline\r _x0041_ end";
    let header = ["Value", "Other", "Note"];
    let rows: Vec<Vec<&str>> = vec![
        vec![
            "<script>alert(1)</script> & \"x\" 'y'",
            "=HYPERLINK(\"http://example.invalid/x\",\"open me\")",
            "",
        ],
        vec!["\u{1b}[31mred\u{0}", "_x0041_ literal _x00", "+1+1"],
        vec!["tab\tand\nnewline", "\rcarriage", "@SUM(1,2)"],
        vec![&long, "-2+3", "  padded  "],
        vec!["😀 emoji", "\u{FFFE}\u{85}", "\tx_y"],
    ];
    let bytes = xlsx_table(title, "Bad/Name[1]:x?", &header, &[10.0, 40.0, 20.0], &rows).unwrap();
    assert_eq!(
        bytes,
        xlsx_table(title, "Bad/Name[1]:x?", &header, &[10.0, 40.0, 20.0], &rows).unwrap(),
        "the same table gives the same bytes"
    );
    let mut changed = rows.clone();
    changed[0][2] = "x";
    assert_ne!(
        bytes,
        xlsx_table(
            title,
            "Bad/Name[1]:x?",
            &header,
            &[10.0, 40.0, 20.0],
            &changed
        )
        .unwrap()
    );
    let dir = TempDir::new("xlsx-hostile-table");
    let path = dir.path().join("table.xlsx");
    std::fs::write(&path, &bytes).unwrap();
    let package = crate::util::read_xlsx_package(&python, &path);
    crate::util::assert_xlsx_package(&package);

    // The title as XML carries it: exact, but for the characters XML cannot hold at all,
    // which stay visible in OOXML's `_xHHHH_` form.
    assert_eq!(
        package["title"],
        "Audit <b>&amp; \"quoted\" 'single' _x001B_[31mred_x0007_\ttab\nline\r _x0041_ end"
    );
    assert_eq!(package["sheet_title"], "Bad_Name_1__x_");
    assert_eq!(package["names"][0]["ref"], "'Bad_Name_1__x_'!$A$1:$C$6");
    assert_eq!(package["filter"], "A1:C6");
    assert_eq!(package["freeze"], "A2");

    let read = package["rows"].as_array().unwrap();
    assert_eq!(read.len(), rows.len() + 1);
    for (cell, text) in read[0].as_array().unwrap().iter().zip(header) {
        assert_eq!(cell["v"], text);
        assert_eq!(
            (&cell["b"], &cell["fill"]),
            (&Value::Bool(true), &Value::from("FFD9E1F2"))
        );
    }
    for (read_row, row) in read[1..].iter().zip(&rows) {
        for (cell, text) in read_row.as_array().unwrap().iter().zip(row) {
            assert_eq!(cell["b"], false);
            assert_eq!(cell["border"], "thin", "{text:?}");
            if text.is_empty() {
                assert_eq!(cell["raw"], Value::Null);
                continue;
            }
            assert_eq!(cell["t"], "s", "{text:?} is a string, never a formula");
            assert_eq!(cell["q"], formula_like(text), "quote prefix of {text:?}");
            let value = cell["v"].as_str().unwrap();
            if text.chars().count() > 32_767 {
                assert!(value.ends_with(NOTE), "cut with the note");
                let kept = value.strip_suffix(NOTE).unwrap();
                assert!(text.starts_with(kept));
                let units = value.encode_utf16().count();
                assert!((32_767 - 2..=32_767).contains(&units), "{units} characters");
            } else {
                assert_eq!(value, *text, "{cell}");
            }
        }
    }
    // Control characters are never raw in the XML: openpyxl reads their `_xHHHH_` form, and a
    // literal `_x0041_` as written (it undoes the `_x005F_` escape, not the others).
    assert_eq!(read[2][0]["raw"], "_x001B_[31mred_x0000_");
    assert_eq!(read[2][1]["raw"], "_x0041_ literal _x00");
}

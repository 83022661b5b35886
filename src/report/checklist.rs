//! The auditor's checklist: 項番 / 対象 / 分類 / 対策例 / 達成基準 / 区分 / 確認結果 / 備考.
//!
//! One list of [`Row`]s is rendered three ways. Markdown goes through a
//! Handlebars template whose escape function is Markdown's (a `|` or `<` in a
//! control text cannot break the table). CSV is UTF-8 with a BOM (so Excel
//! reads Japanese correctly) and CRLF, and any cell that Excel would treat as
//! a formula (`= + - @`, tab, carriage return) is prefixed with `'`. The xlsx
//! writes every cell as a string, marks formula-like text with Excel's quote
//! prefix, and fixes the document timestamp so output is deterministic.
//!
//! `hardbase diff` fills the same rows from a drift report ([`filled_rows`]): 確認結果 becomes
//! 達成 / 未達 / 例外承認 / 対象外 and 備考 the evidence, with snapshot values made visible
//! by the drift report's escaping before any of the three renderings sees them.

use std::fmt::Write as _;
use std::sync::OnceLock;

use handlebars::Handlebars;
use serde::Serialize;

use crate::catalog::taxonomy::{short_term_name, Lang};
use crate::drift::{ControlResult, DriftReport, Status, Unexpected};
use crate::model::{ControlState, ControlStatus, DesiredState};

const TEMPLATE: &str = include_str!("../../templates/checklist/checklist.md.hbs");

/// One line of the checklist.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Row {
    pub no: String,
    pub target: String,
    pub category: String,
    pub measure: String,
    pub criterion: String,
    pub tier: String,
    pub result: String,
    pub remarks: String,
}

impl Row {
    fn cells(&self) -> [&str; 8] {
        [
            &self.no,
            &self.target,
            &self.category,
            &self.measure,
            &self.criterion,
            &self.tier,
            &self.result,
            &self.remarks,
        ]
    }
}

/// Column headings.
pub fn columns(lang: Lang) -> [&'static str; 8] {
    match lang {
        Lang::Ja => [
            "項番",
            "対象",
            "分類",
            "対策例",
            "達成基準",
            "区分",
            "確認結果",
            "備考",
        ],
        Lang::En => [
            "No.",
            "Target",
            "Category",
            "Countermeasure",
            "Achievement criterion",
            "Tier",
            "Result",
            "Remarks",
        ],
    }
}

/// Widths (in characters) that keep the xlsx readable without resizing.
const WIDTHS: [f64; 8] = [6.0, 20.0, 18.0, 48.0, 60.0, 24.0, 12.0, 48.0];

struct Words {
    title: &'static str,
    profile: &'static str,
    target: &'static str,
    platform: &'static str,
    tiers: &'static str,
    counts: &'static str,
    footer: &'static str,
    manual: &'static str,
    not_attested: &'static str,
    attested: &'static str,
    excluded: &'static str,
    weakened: &'static str,
    waiver: &'static str,
    automated: &'static str,
    reboot: &'static str,
    sep: &'static str,
}

fn words(lang: Lang) -> Words {
    match lang {
        Lang::Ja => Words {
            title: "セキュリティ対策チェックリスト",
            profile: "プロファイル",
            target: "対象",
            platform: "プラットフォーム",
            tiers: "対象の区分",
            counts: "項目数",
            footer: "確認結果欄には、達成基準を満たすことを確認した結果（適合／不適合／対象外）と確認者・確認日を記入してください。",
            manual: "手動確認項目",
            not_attested: "未確認",
            attested: "確認済み",
            excluded: "適用除外",
            weakened: "基準値を緩和して適用",
            waiver: "免除",
            automated: "hardbaseが自動設定する項目",
            reboot: "再起動が必要",
            sep: "、",
        },
        Lang::En => Words {
            title: "Security countermeasure checklist",
            profile: "Profile",
            target: "Target",
            platform: "Platform",
            tiers: "Tiers",
            counts: "Items",
            footer: "In the Result column, record whether the achievement criterion is met (compliant / non-compliant / not applicable), who checked it and when.",
            manual: "Manual check",
            not_attested: "not yet attested",
            attested: "attested",
            excluded: "Excluded",
            weakened: "Applied with weakened values",
            waiver: "waiver",
            automated: "Set automatically by hardbase",
            reboot: "reboot required",
            sep: ", ",
        },
    }
}

/// The checklist rows of a profile, in catalog order (category, then id).
pub fn rows(state: &DesiredState, lang: Lang) -> Vec<Row> {
    let w = words(lang);
    let target = state.profile.role.name(lang).to_string();
    state
        .controls
        .iter()
        .enumerate()
        .map(|(i, c)| Row {
            no: (i + 1).to_string(),
            target: target.clone(),
            category: c.control.category.name(lang).to_string(),
            measure: match lang {
                Lang::Ja => format!("{}（{}）", c.control.title.get(lang), c.control.id),
                Lang::En => format!("{} ({})", c.control.title.get(lang), c.control.id),
            },
            criterion: c.control.criterion.get(lang).to_string(),
            tier: if c.control.short_term {
                format!(
                    "{}{}{}",
                    c.control.tier.name(lang),
                    w.sep,
                    short_term_name(lang)
                )
            } else {
                c.control.tier.name(lang).to_string()
            },
            result: String::new(),
            remarks: remarks(c, lang, &w),
        })
        .collect()
}

fn remarks(c: &ControlState, lang: Lang, w: &Words) -> String {
    let waiver_text = |c: &ControlState| {
        c.waiver
            .as_ref()
            .map(|wv| match lang {
                Lang::Ja => format!(
                    "{}: {}／承認: {}／チケット: {}／代替策: {}／期限: {}",
                    w.waiver,
                    wv.reason,
                    wv.approved_by,
                    wv.ticket,
                    wv.compensating_control,
                    wv.expires.value
                ),
                Lang::En => format!(
                    "{}: {}; approved by {}; ticket {}; compensating control: {}; expires {}",
                    w.waiver,
                    wv.reason,
                    wv.approved_by,
                    wv.ticket,
                    wv.compensating_control,
                    wv.expires.value
                ),
            })
            .unwrap_or_default()
    };
    let (open, close) = match lang {
        Lang::Ja => ("（", "）"),
        Lang::En => (" (", ")"),
    };
    match c.status {
        ControlStatus::Excluded => format!("{}{open}{}{close}", w.excluded, waiver_text(c)),
        ControlStatus::Weakened => format!("{}{open}{}{close}", w.weakened, waiver_text(c)),
        ControlStatus::Manual => match &c.attestation {
            Some(a) => match lang {
                Lang::Ja => format!("{}（{}: {}、{}）", w.manual, w.attested, a.by, a.on.value),
                Lang::En => format!(
                    "{} ({} by {} on {})",
                    w.manual, w.attested, a.by, a.on.value
                ),
            },
            None => match lang {
                Lang::Ja => format!("{}（{}）", w.manual, w.not_attested),
                Lang::En => format!("{} ({})", w.manual, w.not_attested),
            },
        },
        ControlStatus::Enforced => {
            let reboot = c.settings.iter().any(|s| s.reboot);
            match (lang, reboot) {
                (Lang::Ja, false) => format!("{}（{}件）", w.automated, c.settings.len()),
                (Lang::Ja, true) => {
                    format!("{}（{}件、{}）", w.automated, c.settings.len(), w.reboot)
                }
                (Lang::En, false) => format!("{} ({})", w.automated, plural(c.settings.len())),
                (Lang::En, true) => format!(
                    "{} ({}, {})",
                    w.automated,
                    plural(c.settings.len()),
                    w.reboot
                ),
            }
        }
    }
}

/// The value of 確認結果 in a filled checklist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The criterion is met: every setting compliant, or a manual control attested.
    Achieved,
    /// A finding: drift, missing, unexpected, not collected, an expired waiver, or a manual
    /// control not attested.
    NotAchieved,
    /// Not enforced or weakened under a valid waiver.
    ExceptionApproved,
    /// The control has no result in the report.
    NotApplicable,
}

impl Verdict {
    pub fn name(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Verdict::Achieved, Lang::Ja) => "達成",
            (Verdict::NotAchieved, Lang::Ja) => "未達",
            (Verdict::ExceptionApproved, Lang::Ja) => "例外承認",
            (Verdict::NotApplicable, Lang::Ja) => "対象外",
            (Verdict::Achieved, Lang::En) => "Achieved",
            (Verdict::NotAchieved, Lang::En) => "Not achieved",
            (Verdict::ExceptionApproved, Lang::En) => "Exception approved",
            (Verdict::NotApplicable, Lang::En) => "Not applicable",
        }
    }

    /// A control's verdict; `unexpected` counts the things on the machine it governs.
    pub fn of(c: &ControlResult, unexpected: usize) -> Verdict {
        match c.status {
            _ if c.status.is_finding() || unexpected > 0 => Verdict::NotAchieved,
            Status::Manual if c.attestation.is_some() => Verdict::Achieved,
            Status::Manual => Verdict::NotAchieved,
            Status::Waived => Verdict::ExceptionApproved,
            _ => Verdict::Achieved,
        }
    }
}

/// How many findings the evidence in 備考 lists before "and N more".
const EVIDENCE_ITEMS: usize = 3;
/// Snapshot values longer than this are cut in 備考.
const EVIDENCE_CHARS: usize = 80;

/// A status in people's words: the stable id in English, the checklist's term in Japanese
/// (the fleet reports use the same words).
pub(crate) fn status_word(status: Status, lang: Lang) -> &'static str {
    match lang {
        Lang::En => status.id(),
        Lang::Ja => match status {
            Status::Compliant => "適合",
            Status::Waived => "免除",
            Status::Manual => "手動確認",
            Status::NotCollected => "未収集",
            Status::Unexpected => "想定外",
            Status::Missing => "欠落",
            Status::Drift => "相違",
        },
    }
}

/// A snapshot value for a cell: control characters made visible, cut to a readable length.
fn evidence_value(text: &str) -> String {
    let text = crate::report::drift::escape(text);
    if text.chars().count() > EVIDENCE_CHARS {
        let cut: String = text.chars().take(EVIDENCE_CHARS).collect();
        format!("{cut}…")
    } else {
        text
    }
}

/// 備考 of a filled row: the control's own remarks for a waiver or an attestation, then the
/// evidence: how many settings are compliant, and the first findings with expected and actual.
fn evidence(c: &ControlResult, unexpected: &[&Unexpected], original: &str, lang: Lang) -> String {
    let mut parts: Vec<String> = Vec::new();
    if matches!(c.status, Status::Waived | Status::Manual) || c.waiver.is_some() {
        parts.push(original.to_string());
    }
    if !c.settings.is_empty() {
        let ok = c
            .settings
            .iter()
            .filter(|s| s.status == Status::Compliant)
            .count();
        parts.push(match lang {
            Lang::Ja => format!("設定{}件中{ok}件適合", c.settings.len()),
            Lang::En => format!("{ok} of {} compliant", plural(c.settings.len())),
        });
    }
    for f in &c.findings {
        parts.push(evidence_value(f));
    }
    let mut items: Vec<String> = c
        .settings
        .iter()
        .filter(|s| s.status.is_finding())
        .map(|s| {
            let actual = match &s.actual {
                Some(a) => evidence_value(a),
                None => status_word(s.status, lang).to_string(),
            };
            match lang {
                Lang::Ja => format!(
                    "{}: {}（期待値: {}／実際: {actual}）",
                    status_word(s.status, lang),
                    evidence_value(&s.target),
                    evidence_value(&s.expected)
                ),
                Lang::En => format!(
                    "{}: {} (expected {}; actual {actual})",
                    status_word(s.status, lang),
                    evidence_value(&s.target),
                    evidence_value(&s.expected)
                ),
            }
        })
        .collect();
    items.extend(unexpected.iter().map(|u| {
        format!(
            "{}: {} {}",
            status_word(Status::Unexpected, lang),
            u.kind,
            evidence_value(&u.what)
        )
    }));
    let more = items.len().saturating_sub(EVIDENCE_ITEMS);
    items.truncate(EVIDENCE_ITEMS);
    parts.extend(items);
    if more > 0 {
        parts.push(match lang {
            Lang::Ja => format!("ほか{more}件"),
            Lang::En => format!("and {more} more"),
        });
    }
    match lang {
        Lang::Ja => parts.join("。"),
        Lang::En => parts.join("; "),
    }
}

/// The checklist rows filled from a drift report: 確認結果 is the control's [`Verdict`], 備考
/// the evidence. Rows keep the catalog order of [`rows`]; a control the report does not hold
/// is 対象外 (not applicable).
pub fn filled_rows(state: &DesiredState, report: &DriftReport, lang: Lang) -> Vec<Row> {
    let mut rows = rows(state, lang);
    for (row, c) in rows.iter_mut().zip(&state.controls) {
        let Some(result) = report.controls.iter().find(|r| r.id == c.control.id) else {
            row.result = Verdict::NotApplicable.name(lang).to_string();
            continue;
        };
        let governed: Vec<&Unexpected> = report
            .unexpected
            .iter()
            .filter(|u| u.control.as_deref() == Some(result.id.as_str()))
            .collect();
        row.result = Verdict::of(result, governed.len()).name(lang).to_string();
        row.remarks = evidence(result, &governed, &row.remarks, lang);
    }
    rows
}

fn filled_footer(report: &DriftReport, lang: Lang) -> String {
    let info = &report.snapshot;
    let host = evidence_value(if info.host.is_empty() {
        "?"
    } else {
        &info.host
    });
    let at = evidence_value(&info.collected_at);
    match lang {
        Lang::Ja => format!(
            "確認結果は、{host}で{at}に収集したスナップショットを hardbase diff が {} 時点で判定したものです（手動確認項目は確認記録による）。",
            report.evaluated_at
        ),
        Lang::En => format!(
            "Results were judged by hardbase diff as of {} from the snapshot of {host} collected {at} (manual items by their attestation).",
            report.evaluated_at
        ),
    }
}

/// The Markdown checklist filled from a drift report.
pub fn filled_markdown(state: &DesiredState, report: &DriftReport, lang: Lang) -> String {
    markdown_of(
        state,
        lang,
        &filled_rows(state, report, lang),
        &filled_footer(report, lang),
    )
}

/// The CSV checklist filled from a drift report.
pub fn filled_csv(state: &DesiredState, report: &DriftReport, lang: Lang) -> Vec<u8> {
    csv_of(lang, &filled_rows(state, report, lang))
}

/// The xlsx checklist filled from a drift report.
pub fn filled_xlsx(
    state: &DesiredState,
    report: &DriftReport,
    lang: Lang,
) -> std::io::Result<Vec<u8>> {
    xlsx_of(state, lang, &filled_rows(state, report, lang))
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 setting".to_string()
    } else {
        format!("{n} settings")
    }
}

/// Escapes text for a Markdown table cell: no pipes, no raw HTML, no links, one line.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '|' => out.push_str("\\|"),
            '\\' => out.push_str("\\\\"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '[' => out.push_str("\\["),
            ']' => out.push_str("\\]"),
            '`' => out.push_str("\\`"),
            '*' => out.push_str("\\*"),
            '_' => out.push_str("\\_"),
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The Markdown checklist.
pub fn markdown(state: &DesiredState, lang: Lang) -> String {
    markdown_of(state, lang, &rows(state, lang), words(lang).footer)
}

/// The Markdown, CSV and xlsx checklists of one language ([`markdown`], [`csv`], [`xlsx`]),
/// made from one list of rows, each handed to `put` with its file extension as soon as it is
/// made.
pub fn each<E: From<std::io::Error>>(
    state: &DesiredState,
    lang: Lang,
    mut put: impl FnMut(&'static str, Vec<u8>) -> Result<(), E>,
) -> Result<(), E> {
    let rows = rows(state, lang);
    put(
        "md",
        markdown_of(state, lang, &rows, words(lang).footer).into_bytes(),
    )?;
    put("csv", csv_of(lang, &rows))?;
    put("xlsx", xlsx_of(state, lang, &rows)?)
}

/// The Markdown template, compiled once per process.
fn markdown_registry() -> &'static Handlebars<'static> {
    static REGISTRY: OnceLock<Handlebars<'static>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(escape_markdown);
        let template = crate::target::compile(TEMPLATE, Some("checklist"))
            .expect("the built-in checklist template is valid");
        hb.register_template("checklist", template);
        hb
    })
}

fn markdown_of(state: &DesiredState, lang: Lang, rows: &[Row], footer: &str) -> String {
    let w = words(lang);
    let p = &state.profile;
    let counts = match lang {
        Lang::Ja => format!(
            "{}件（うち手動確認 {}件、適用除外 {}件）",
            rows.len(),
            state
                .controls
                .iter()
                .filter(|c| c.status == ControlStatus::Manual)
                .count(),
            state
                .controls
                .iter()
                .filter(|c| c.status == ControlStatus::Excluded)
                .count()
        ),
        Lang::En => format!(
            "{} ({} manual, {} excluded)",
            rows.len(),
            state
                .controls
                .iter()
                .filter(|c| c.status == ControlStatus::Manual)
                .count(),
            state
                .controls
                .iter()
                .filter(|c| c.status == ControlStatus::Excluded)
                .count()
        ),
    };
    let data = serde_json::json!({
        "title": format!("{} — {}", w.title, p.name),
        "labels": { "profile": w.profile, "target": w.target, "platform": w.platform, "tiers": w.tiers, "counts": w.counts },
        "profile": p.name,
        "target": p.role.name(lang),
        "platform": p.platform.name,
        "tiers": p.tiers.iter().map(|t| t.name(lang)).collect::<Vec<_>>().join(w.sep),
        "counts": counts,
        "columns": columns(lang),
        "rows": rows,
        "footer": footer,
    });
    markdown_registry()
        .render_with_context("checklist", &handlebars::Context::from(data))
        .expect("checklist data matches the template")
}

/// Whether Excel would read the cell as a formula or command.
pub(crate) fn formula_like(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Makes a cell safe for CSV consumers that evaluate formulas.
pub fn neutralize(cell: &str) -> String {
    if formula_like(cell) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

fn csv_field(cell: &str) -> String {
    let cell = neutralize(cell);
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell
    }
}

/// The CSV checklist: UTF-8 with BOM, CRLF line ends (RFC 4180).
pub fn csv(state: &DesiredState, lang: Lang) -> Vec<u8> {
    csv_of(lang, &rows(state, lang))
}

fn csv_of(lang: Lang, rows: &[Row]) -> Vec<u8> {
    csv_table(&columns(lang), rows.iter().map(|r| r.cells().to_vec()))
}

/// A CSV table: UTF-8 with BOM, CRLF line ends (RFC 4180), every cell neutralized and quoted
/// as needed.
pub(crate) fn csv_table<'a>(
    header: &[&str],
    rows: impl IntoIterator<Item = Vec<&'a str>>,
) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    let header: Vec<String> = header.iter().map(|c| csv_field(c)).collect();
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| csv_field(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// The xlsx checklist: a header row, frozen and filterable, wrapped text, fixed widths.
pub fn xlsx(state: &DesiredState, lang: Lang) -> std::io::Result<Vec<u8>> {
    xlsx_of(state, lang, &rows(state, lang))
}

fn xlsx_of(state: &DesiredState, lang: Lang, rows: &[Row]) -> std::io::Result<Vec<u8>> {
    let cells: Vec<[&str; 8]> = rows.iter().map(Row::cells).collect();
    xlsx_table(
        &format!("{} — {}", words(lang).title, state.profile.name),
        match lang {
            Lang::Ja => "チェックリスト",
            Lang::En => "Checklist",
        },
        &columns(lang),
        &WIDTHS,
        &cells,
    )
}

/// An xlsx table on one sheet: a bold header row on a light blue fill, frozen and filterable,
/// wrapped top-aligned text in thin borders, fixed column widths (in characters), every cell a
/// string (formula-like text with Excel's quote prefix; text longer than a cell holds cut with a
/// note), `title` as the document title and a fixed document date, so that the same rows give
/// the same bytes. An empty cell keeps its borders. The parts are stored, not deflated (see
/// [`crate::xlsx::stored_options`]); the sheet goes into the package a piece at a time and the
/// shared strings refer to the rows' own texts, so the table is not held twice.
pub fn xlsx_table<'r, R: AsRef<[&'r str]>>(
    title: &str,
    sheet_name: &str,
    header: &[&'r str],
    widths: &[f64],
    rows: &[R],
) -> std::io::Result<Vec<u8>> {
    use crate::xlsx::{self as sheet_xml, style, PIECE};
    use std::io::Write as _;

    let last_row = u32::try_from(rows.len() + 1)
        .ok()
        .filter(|n| *n <= sheet_xml::MAX_ROWS)
        .ok_or_else(|| std::io::Error::other("more rows than an Excel sheet holds"))?;
    let filter = sheet_xml::range(header.len(), last_row);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let sheets = [sheet_xml::SheetEntry {
        name: sheet_name,
        filter: &filter,
    }];
    sheet_xml::package_parts(&mut zip, title, "2000-01-01", &sheets)?;
    zip.start_file("xl/worksheets/sheet1.xml", sheet_xml::stored_options())
        .map_err(sheet_xml::zip_error)?;
    let mut strings = sheet_xml::SharedStrings::default();
    let mut sheet = String::with_capacity(PIECE + 4096);
    let widths = &widths[..widths.len().min(header.len())];
    sheet_xml::sheet_head(&mut sheet, widths, true, Some(&filter));
    sheet.push_str(r#"<row r="1">"#);
    for (col, title) in header.iter().enumerate() {
        let index = strings.get_lent(title);
        sheet_xml::shared_cell(&mut sheet, col, 1, style::BOXED_HEADER, index);
    }
    sheet.push_str("</row>");
    for (row, cells) in (2..).zip(rows) {
        let _ = write!(sheet, r#"<row r="{row}">"#);
        for (col, value) in cells.as_ref().iter().enumerate() {
            if value.is_empty() {
                sheet_xml::blank_cell(&mut sheet, col, row, style::BOXED);
                continue;
            }
            let style = if formula_like(value) {
                style::BOXED_QUOTED
            } else {
                style::BOXED
            };
            let index = strings.get_lent(value);
            sheet_xml::shared_cell(&mut sheet, col, row, style, index);
        }
        sheet.push_str("</row>");
        if sheet.len() >= PIECE {
            zip.write_all(sheet.as_bytes())?;
            sheet.clear();
        }
    }
    sheet_xml::sheet_tail(&mut sheet, &filter);
    zip.write_all(sheet.as_bytes())?;
    drop(sheet);
    zip.start_file("xl/sharedStrings.xml", sheet_xml::stored_options())
        .map_err(sheet_xml::zip_error)?;
    strings.write(&mut zip)?;
    Ok(zip.finish().map_err(sheet_xml::zip_error)?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralized() {
        for bad in ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx"] {
            assert!(neutralize(bad).starts_with('\''), "{bad}");
        }
        assert_eq!(neutralize("safe = text"), "safe = text");
        assert_eq!(csv_field("a,\"b\""), "\"a,\"\"b\"\"\"");
    }

    #[test]
    fn a_table_workbook_is_stored_with_each_text_shared_once() {
        let rows = vec![vec!["a", "=1+1", ""], vec!["a", "b", "c"]];
        let bytes = xlsx_table("t", "Sheet", &["H1", "H2", "H3"], &[10.0; 3], &rows).unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut part = |name: &str| {
            let mut file = zip.by_name(name).unwrap();
            assert_eq!(file.compression(), zip::CompressionMethod::Stored, "{name}");
            let mut text = String::new();
            std::io::Read::read_to_string(&mut file, &mut text).unwrap();
            text
        };
        let strings = part("xl/sharedStrings.xml");
        assert!(
            strings.contains(r#"count="8" uniqueCount="7""#),
            "{strings}"
        );
        assert_eq!(strings.matches("<si><t>a</t></si>").count(), 1, "{strings}");
        let sheet = part("xl/worksheets/sheet1.xml");
        // The formula-like text is quoted, the empty cell keeps its borders, row 3 reuses `a`.
        assert!(
            sheet.contains(r#"<c r="B2" s="6" t="s"><v>4</v></c><c r="C2" s="5"/>"#),
            "{sheet}"
        );
        assert!(
            sheet.contains(r#"<row r="3"><c r="A3" s="5" t="s"><v>3</v></c>"#),
            "{sheet}"
        );
        assert!(sheet.ends_with("</worksheet>"), "{sheet}");
    }

    #[test]
    fn markdown_escaping_keeps_one_cell() {
        assert_eq!(escape_markdown("a|b<script>\nc"), "a\\|b&lt;script&gt; c");
    }
}

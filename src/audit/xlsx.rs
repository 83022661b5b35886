//! The fleet workbook for auditors who work in Excel: a summary sheet (per control, hosts per
//! status, and the fleet totals), a hosts sheet (one row per snapshot) and a results sheet (one
//! row per host × control, the findings with their evidence).
//!
//! A fleet of 10,000 hosts gives a million result rows, so the workbook is streamed: the hosts
//! and results sheets are compressed as the hosts arrive, each into its own temporary zip
//! archive under the scratch folder, and [`Sink::finish`] writes the workbook's small parts and
//! copies those compressed entries into it without decompressing them. Memory stays flat and
//! no sheet is held whole. The package is the minimal SpreadsheetML one (ECMA-376 Part 1):
//! `[Content_Types].xml`, the package and workbook relationships, `xl/workbook.xml`,
//! `xl/styles.xml`, `xl/sharedStrings.xml` (the values that repeat on every row), one
//! `xl/worksheets/sheetN.xml` per sheet, and `docProps/core.xml` / `app.xml`; other strings are
//! inline strings.
//!
//! A results sheet holds at most Excel's 1,048,576 rows; the rows after that continue on
//! `Results 2`, `Results 3`… Every cell is a string or a number: formula-like text gets Excel's
//! quote prefix (a style with `quotePrefix`), characters XML cannot carry are written in
//! OOXML's `_xHHHH_` form, and text longer than a cell holds (32,767 characters) is cut with a
//! note. Entries carry a fixed timestamp, so the same fleet gives the same bytes.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::{status_index, words, Fleet, HostResult, Sink, Summary};
use crate::catalog::taxonomy::Lang;
use crate::drift::Status;

/// Excel's rows per sheet.
const MAX_ROWS: u32 = 1_048_576;
/// How many bytes of rows are collected before they go to the compressor.
const PENDING: usize = 1 << 18;
/// Excel's characters per cell.
const MAX_CELL: usize = 32_767;

/// Cell styles, as indexes of `cellXfs` in [`STYLES`].
const NORMAL: u8 = 0;
const HEADER: u8 = 1;
const QUOTED: u8 = 2;
const WRAPPED: u8 = 3;

const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font><font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts><fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill><fill><patternFill patternType="solid"><fgColor rgb="FFD9E1F2"/><bgColor indexed="64"/></patternFill></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment vertical="top"/></xf><xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1" applyAlignment="1"><alignment vertical="top"/></xf><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>
"#;

/// The status name people read (the checklist's words).
pub(crate) use crate::report::checklist::status_word as status_name;

/// The column letters of a zero-based column index (`0` → `A`, `26` → `AA`).
fn column(mut index: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// Whether `text` at `i` starts an `_xHHHH_` sequence Excel would decode.
fn is_escape_at(text: &[u8], i: usize) -> bool {
    text.len() >= i + 7
        && text[i] == b'_'
        && text[i + 1] == b'x'
        && text[i + 2..i + 6].iter().all(u8::is_ascii_hexdigit)
        && text[i + 6] == b'_'
}

/// Text as the content of an XML element in a shared or inline string: markup characters as
/// entities, characters XML 1.0 cannot carry (and a literal `_xHHHH_`) in OOXML's `_xHHHH_` form,
/// cut to what one cell holds.
pub fn cell_text(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    for (kept, (i, c)) in text.char_indices().enumerate() {
        if kept == MAX_CELL - 50 && text[i..].chars().count() > 50 {
            out.push_str(" … (cut: longer than an Excel cell holds)");
            return;
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '_' if is_escape_at(bytes, i) => out.push_str("_x005F_"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                let _ = write!(out, "_x{:04X}_", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// The workbook's shared strings: the values that repeat on every row (profile, role, control,
/// title, category, tier, status) are written once in `xl/sharedStrings.xml` and referenced by
/// index, which keeps a million-row results sheet small.
#[derive(Default)]
struct SharedStrings {
    index: std::collections::HashMap<String, u32>,
    list: Vec<String>,
}

impl SharedStrings {
    fn get(&mut self, text: &str) -> u32 {
        if let Some(i) = self.index.get(text) {
            return *i;
        }
        let i = self.list.len() as u32;
        self.list.push(text.to_string());
        self.index.insert(text.to_string(), i);
        i
    }

    fn xml(&self) -> String {
        let mut out = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{n}" uniqueCount="{n}">"#,
            n = self.list.len()
        );
        for text in &self.list {
            out.push_str(r#"<si><t xml:space="preserve">"#);
            cell_text(&mut out, text);
            out.push_str("</t></si>");
        }
        out.push_str("</sst>");
        out
    }
}

/// One sheet being streamed into its own temporary zip archive.
struct StreamedSheet {
    name: String,
    zip: ZipWriter<BufWriter<File>>,
    temp: PathBuf,
    columns: usize,
    /// The next row to write (1-based; row 1 is the header).
    row: u32,
    line: String,
    /// Rows not yet handed to the compressor.
    pending: Vec<u8>,
}

fn options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(1))
        .last_modified_time(zip::DateTime::default())
}

fn zip_error(e: zip::result::ZipError) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

impl StreamedSheet {
    fn new(
        scratch: &Path,
        file: &str,
        name: String,
        columns: &[(&str, f64)],
    ) -> std::io::Result<StreamedSheet> {
        let temp = scratch.join(format!("{file}.zip"));
        let mut zip = ZipWriter::new(BufWriter::new(File::create(&temp)?));
        zip.start_file(format!("xl/worksheets/{file}.xml"), options())
            .map_err(zip_error)?;
        let mut head = String::from(concat!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
            "\n",
            r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">"#,
            r#"<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews>"#,
            r#"<sheetFormatPr defaultRowHeight="15"/><cols>"#
        ));
        for (i, (_, width)) in columns.iter().enumerate() {
            let _ = write!(
                head,
                r#"<col min="{n}" max="{n}" width="{width}" customWidth="1"/>"#,
                n = i + 1
            );
        }
        head.push_str("</cols><sheetData>");
        zip.write_all(head.as_bytes())?;
        let mut sheet = StreamedSheet {
            name,
            zip,
            temp,
            columns: columns.len(),
            row: 1,
            line: String::new(),
            pending: Vec::with_capacity(PENDING + 4096),
        };
        sheet.begin_row();
        for (col, (title, _)) in columns.iter().enumerate() {
            sheet.text(col, title, HEADER);
        }
        sheet.end_row()?;
        Ok(sheet)
    }

    fn begin_row(&mut self) {
        self.line.clear();
        let _ = write!(self.line, r#"<row r="{}">"#, self.row);
    }

    /// A string cell; formula-like text gets the quote-prefix style.
    fn text(&mut self, col: usize, text: &str, style: u8) {
        if text.is_empty() {
            return;
        }
        let style = if style != HEADER && crate::report::checklist::formula_like(text) {
            QUOTED
        } else {
            style
        };
        let _ = write!(
            self.line,
            r#"<c r="{}{}" s="{style}" t="inlineStr"><is><t xml:space="preserve">"#,
            column(col),
            self.row
        );
        cell_text(&mut self.line, text);
        self.line.push_str("</t></is></c>");
    }

    /// A string cell from the shared strings (for values that repeat from row to row).
    fn shared(&mut self, col: usize, text: &str, table: &mut SharedStrings) {
        if text.is_empty() {
            return;
        }
        let style = if crate::report::checklist::formula_like(text) {
            QUOTED
        } else {
            NORMAL
        };
        let _ = write!(
            self.line,
            r#"<c r="{}{}" s="{style}" t="s"><v>{}</v></c>"#,
            column(col),
            self.row,
            table.get(text)
        );
    }

    fn number(&mut self, col: usize, n: usize) {
        let _ = write!(
            self.line,
            r#"<c r="{}{}"><v>{n}</v></c>"#,
            column(col),
            self.row
        );
    }

    fn end_row(&mut self) -> std::io::Result<()> {
        self.line.push_str("</row>");
        self.pending.extend_from_slice(self.line.as_bytes());
        self.row += 1;
        // The compressor is fed in large pieces: every write into it costs a pass over its
        // output buffer, whatever the size of the write.
        if self.pending.len() >= PENDING {
            self.zip.write_all(&self.pending)?;
            self.pending.clear();
        }
        Ok(())
    }

    fn is_full(&self) -> bool {
        self.row > MAX_ROWS
    }

    /// Closes the sheet's XML (with an autofilter over its rows) and its temporary archive.
    fn close(mut self) -> std::io::Result<(String, PathBuf)> {
        self.zip.write_all(&self.pending)?;
        let last = self.row.saturating_sub(1).max(1);
        let tail = format!(
            r#"</sheetData><autoFilter ref="A1:{}{last}"/><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>"#,
            column(self.columns - 1)
        );
        self.zip.write_all(tail.as_bytes())?;
        self.zip.finish().map_err(zip_error)?.flush()?;
        Ok((self.name, self.temp))
    }
}

/// Writes the workbook to `path` at [`Sink::finish`].
pub struct XlsxSink {
    path: PathBuf,
    scratch: PathBuf,
    lang: Lang,
    hosts: Option<StreamedSheet>,
    results: Option<StreamedSheet>,
    /// Closed sheets: (name, temporary archive), in workbook order after the summary.
    closed: Vec<(String, PathBuf)>,
    result_sheets: usize,
    shared: SharedStrings,
}

impl XlsxSink {
    /// A workbook written to `path`, its sheets streamed under `scratch` (an existing folder
    /// the caller removes).
    pub fn new(path: PathBuf, scratch: &Path, lang: Lang) -> std::io::Result<XlsxSink> {
        let hosts = StreamedSheet::new(
            scratch,
            "sheet2",
            words(lang, "Hosts", "端末").to_string(),
            &host_columns(lang),
        )?;
        let results = StreamedSheet::new(
            scratch,
            "sheet3",
            words(lang, "Results", "結果").to_string(),
            &result_columns(lang),
        )?;
        Ok(XlsxSink {
            path,
            scratch: scratch.to_path_buf(),
            lang,
            hosts: Some(hosts),
            results: Some(results),
            closed: Vec::new(),
            result_sheets: 1,
            shared: SharedStrings::default(),
        })
    }

    /// Makes sure the results sheet has room for a row: a new one when the current one is full.
    fn results(&mut self) -> std::io::Result<()> {
        if self.results.as_ref().is_some_and(StreamedSheet::is_full) {
            if let Some(full) = self.results.take() {
                let closed = full.close()?;
                self.closed.push(closed);
            }
            self.result_sheets += 1;
            let sheet = StreamedSheet::new(
                &self.scratch,
                &format!("sheet{}", self.result_sheets + 2),
                format!(
                    "{} {}",
                    words(self.lang, "Results", "結果"),
                    self.result_sheets
                ),
                &result_columns(self.lang),
            )?;
            self.results = Some(sheet);
        }
        Ok(())
    }

    fn write_host(&mut self, fleet: &Fleet, host: &HostResult) -> std::io::Result<()> {
        let lang = fleet.lang;
        let profile = host.profile.map(|p| &fleet.profiles[p]);
        let table = &mut self.shared;
        if let Some(sheet) = self.hosts.as_mut().filter(|s| !s.is_full()) {
            let status = host
                .status()
                .map_or(words(lang, "error", "エラー"), |s| status_name(s, lang));
            sheet.begin_row();
            sheet.text(0, &host.host, NORMAL);
            sheet.text(1, &host.snapshot, NORMAL);
            sheet.shared(2, profile.map_or("", |p| p.name.as_str()), table);
            sheet.shared(3, profile.map_or("", |p| p.role.name(lang)), table);
            sheet.text(4, &host.collected_at, NORMAL);
            sheet.shared(5, status, table);
            for (i, n) in host.setting_counts.iter().enumerate() {
                sheet.number(6 + i, *n);
            }
            sheet.text(13, host.error.as_deref().unwrap_or(""), WRAPPED);
            sheet.end_row()?;
        }
        let Some(profile) = profile else {
            return Ok(());
        };
        let mut findings = String::new();
        let mut unexpected = String::new();
        for c in &host.controls {
            let control = &fleet.controls[c.control];
            findings.clear();
            for f in &c.findings {
                if !findings.is_empty() {
                    findings.push('\n');
                }
                let _ = write!(
                    findings,
                    "[{}] {} {}: {} {} / {} {}",
                    status_name(f.status, lang),
                    f.kind,
                    f.target,
                    words(lang, "expected", "期待値"),
                    f.expected,
                    words(lang, "actual", "実際"),
                    f.actual.as_deref().unwrap_or("-"),
                );
                if let Some(note) = &f.note {
                    let _ = write!(findings, " ({note})");
                }
                if let Some(line) = &f.profile_line {
                    let _ = write!(findings, " @ {line}");
                }
            }
            unexpected.clear();
            for u in host
                .unexpected
                .iter()
                .filter(|u| u.control == Some(c.control))
            {
                if !unexpected.is_empty() {
                    unexpected.push('\n');
                }
                let _ = write!(unexpected, "{} {}", u.kind, u.what);
            }
            let record = c
                .waiver
                .as_deref()
                .or(c.attestation.as_deref())
                .unwrap_or("");
            self.results()?;
            let table = &mut self.shared;
            let Some(sheet) = self.results.as_mut() else {
                return Err(std::io::Error::other("the results sheet is closed"));
            };
            sheet.begin_row();
            sheet.text(0, &host.host, NORMAL);
            sheet.shared(1, &profile.name, table);
            sheet.shared(2, profile.role.name(lang), table);
            sheet.shared(3, &control.id, table);
            sheet.shared(4, control.title.get(lang), table);
            sheet.shared(5, control.category.name(lang), table);
            sheet.shared(6, control.tier.name(lang), table);
            sheet.shared(7, status_name(c.status, lang), table);
            sheet.text(8, record, NORMAL);
            sheet.number(9, c.settings);
            sheet.number(10, c.compliant);
            sheet.text(11, &findings, WRAPPED);
            sheet.text(12, &unexpected, WRAPPED);
            sheet.end_row()?;
        }
        Ok(())
    }

    /// The summary sheet, small enough to build in memory.
    fn summary_sheet(&self, fleet: &Fleet, summary: &Summary) -> String {
        let lang = fleet.lang;
        let mut columns = vec![
            (words(lang, "Control", "対策ID"), 14.0),
            (words(lang, "Title", "対策"), 50.0),
            (words(lang, "Category", "分類"), 16.0),
            (words(lang, "Tier", "区分"), 14.0),
            (words(lang, "Hosts", "端末数"), 9.0),
        ];
        columns.extend(Status::ALL.iter().map(|s| (status_name(*s, lang), 11.0)));
        let mut rows: Vec<Vec<Cell>> = vec![columns.iter().map(|(t, _)| Cell::Head(t)).collect()];
        for (i, c) in fleet.controls.iter().enumerate() {
            let counts = summary.control_hosts.get(i).copied().unwrap_or_default();
            // A control of profiles no audited host uses.
            if counts.iter().sum::<usize>() == 0 {
                continue;
            }
            let mut row = vec![
                Cell::Text(c.id.clone()),
                Cell::Text(c.title.get(lang).to_string()),
                Cell::Text(c.category.name(lang).to_string()),
                Cell::Text(c.tier.name(lang).to_string()),
                Cell::Number(counts.iter().sum()),
            ];
            row.extend(counts.iter().map(|n| Cell::Number(*n)));
            rows.push(row);
        }
        let filtered = rows.len();
        rows.push(Vec::new());
        let totals: [(&str, usize); 4] = [
            (words(lang, "Snapshots", "スナップショット"), summary.hosts),
            (words(lang, "Audited", "監査済み"), summary.audited),
            (
                words(lang, "Compliant hosts", "適合端末"),
                summary.compliant,
            ),
            (
                words(lang, "Not audited (errors)", "監査不能(エラー)"),
                summary.errors,
            ),
        ];
        for (label, n) in totals {
            rows.push(vec![
                Cell::Empty,
                Cell::Text(label.to_string()),
                Cell::Empty,
                Cell::Empty,
                Cell::Number(n),
            ]);
        }
        for s in Status::ALL {
            let label = format!(
                "{}: {}",
                words(lang, "Hosts whose worst status is", "最も悪い状態"),
                status_name(s, lang)
            );
            rows.push(vec![
                Cell::Empty,
                Cell::Text(label),
                Cell::Empty,
                Cell::Empty,
                Cell::Number(summary.hosts_per_status[status_index(s)]),
            ]);
        }
        rows.push(Vec::new());
        rows.push(vec![
            Cell::Empty,
            Cell::Text(format!(
                "{} {}",
                words(lang, "Evaluated as of", "評価基準日"),
                fleet.evaluated_at
            )),
        ]);
        let mut xml = String::from(concat!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
            "\n",
            r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">"#,
            r#"<sheetViews><sheetView tabSelected="1" workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews>"#,
            r#"<sheetFormatPr defaultRowHeight="15"/><cols>"#
        ));
        for (i, (_, width)) in columns.iter().enumerate() {
            let _ = write!(
                xml,
                r#"<col min="{n}" max="{n}" width="{width}" customWidth="1"/>"#,
                n = i + 1
            );
        }
        xml.push_str("</cols><sheetData>");
        for (r, row) in rows.iter().enumerate() {
            let r = r + 1;
            let _ = write!(xml, r#"<row r="{r}">"#);
            for (c, cell) in row.iter().enumerate() {
                let at = format!("{}{r}", column(c));
                match cell {
                    Cell::Empty => {}
                    Cell::Number(n) => {
                        let _ = write!(xml, r#"<c r="{at}"><v>{n}</v></c>"#);
                    }
                    Cell::Head("") => {}
                    Cell::Text(t) if t.is_empty() => {}
                    Cell::Head(t) => {
                        let _ = write!(
                            xml,
                            r#"<c r="{at}" s="{HEADER}" t="inlineStr"><is><t xml:space="preserve">"#
                        );
                        cell_text(&mut xml, t);
                        xml.push_str("</t></is></c>");
                    }
                    Cell::Text(t) => {
                        let style = if crate::report::checklist::formula_like(t) {
                            QUOTED
                        } else {
                            NORMAL
                        };
                        let _ = write!(
                            xml,
                            r#"<c r="{at}" s="{style}" t="inlineStr"><is><t xml:space="preserve">"#
                        );
                        cell_text(&mut xml, t);
                        xml.push_str("</t></is></c>");
                    }
                }
            }
            xml.push_str("</row>");
        }
        let _ = write!(
            xml,
            r#"</sheetData><autoFilter ref="A1:{}{}"/><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>"#,
            column(columns.len() - 1),
            filtered.max(2)
        );
        xml
    }

    fn package(&mut self, fleet: &Fleet, summary: &Summary) -> std::io::Result<()> {
        if let Some(sheet) = self.hosts.take() {
            let closed = sheet.close()?;
            self.closed.insert(0, closed);
        }
        if let Some(sheet) = self.results.take() {
            let closed = sheet.close()?;
            self.closed.push(closed);
        }
        let lang = fleet.lang;
        let summary_name = words(lang, "Summary", "概要");
        let mut names: Vec<&str> = vec![summary_name];
        names.extend(self.closed.iter().map(|(n, _)| n.as_str()));
        let mut out = ZipWriter::new(BufWriter::new(File::create(&self.path)?));
        let mut put = |name: &str, text: &str| -> std::io::Result<()> {
            out.start_file(name, options()).map_err(zip_error)?;
            out.write_all(text.as_bytes())
        };
        let head = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#;
        let mut types = format!(
            r#"{head}
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#
        );
        for i in 1..=names.len() {
            let _ = write!(
                types,
                r#"<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#
            );
        }
        types.push_str(r#"<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#);
        put("[Content_Types].xml", &types)?;
        put(
            "_rels/.rels",
            &format!(
                r#"{head}
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
            ),
        )?;
        put(
            "docProps/app.xml",
            &format!(
                r#"{head}
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><Application>hardbase</Application></Properties>"#
            ),
        )?;
        let mut title = String::new();
        cell_text(
            &mut title,
            &format!(
                "{} {}",
                words(lang, "hardbase fleet audit", "hardbase 一括監査"),
                fleet.evaluated_at
            ),
        );
        put(
            "docProps/core.xml",
            &format!(
                r#"{head}
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>{title}</dc:title><dc:creator>hardbase</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">{d}T00:00:00Z</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">{d}T00:00:00Z</dcterms:modified></cp:coreProperties>"#,
                d = fleet.evaluated_at
            ),
        )?;
        let mut workbook = format!(
            r#"{head}
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><bookViews><workbookView/></bookViews><sheets>"#
        );
        let mut rels = format!(
            r#"{head}
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#
        );
        for (i, name) in names.iter().enumerate() {
            let n = i + 1;
            let mut escaped = String::new();
            cell_text(&mut escaped, name);
            let _ = write!(
                workbook,
                r#"<sheet name="{escaped}" sheetId="{n}" r:id="rId{n}"/>"#
            );
            let _ = write!(
                rels,
                r#"<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>"#
            );
        }
        workbook.push_str("</sheets></workbook>");
        let _ = write!(
            rels,
            r#"<Relationship Id="rId{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
            names.len() + 1,
            names.len() + 2
        );
        put("xl/workbook.xml", &workbook)?;
        put("xl/_rels/workbook.xml.rels", &rels)?;
        put("xl/styles.xml", STYLES)?;
        put("xl/sharedStrings.xml", &self.shared.xml())?;
        put(
            "xl/worksheets/sheet1.xml",
            &self.summary_sheet(fleet, summary),
        )?;
        // The streamed sheets, copied compressed as they are (sheet2.xml, sheet3.xml, …).
        for (i, (_, temp)) in self.closed.iter().enumerate() {
            let mut archive =
                ZipArchive::new(std::io::BufReader::new(File::open(temp)?)).map_err(zip_error)?;
            let entry = archive.by_index_raw(0).map_err(zip_error)?;
            let want = format!("xl/worksheets/sheet{}.xml", i + 2);
            if entry.name() == want {
                out.raw_copy_file(entry).map_err(zip_error)?;
            } else {
                out.raw_copy_file_rename(entry, want).map_err(zip_error)?;
            }
        }
        out.finish().map_err(zip_error)?.flush()
    }
}

enum Cell<'a> {
    Empty,
    Head(&'a str),
    Text(String),
    Number(usize),
}

fn host_columns(lang: Lang) -> Vec<(&'static str, f64)> {
    let mut columns = vec![
        (words(lang, "Host", "端末"), 22.0),
        (words(lang, "Snapshot", "スナップショット"), 22.0),
        (words(lang, "Profile", "プロファイル"), 22.0),
        (words(lang, "Role", "役割"), 16.0),
        (words(lang, "Collected at", "収集日時"), 22.0),
        (words(lang, "Status", "状態"), 12.0),
    ];
    columns.extend(Status::ALL.iter().map(|s| (status_name(*s, lang), 11.0)));
    columns.push((words(lang, "Error", "エラー"), 60.0));
    columns
}

fn result_columns(lang: Lang) -> Vec<(&'static str, f64)> {
    vec![
        (words(lang, "Host", "端末"), 22.0),
        (words(lang, "Profile", "プロファイル"), 22.0),
        (words(lang, "Role", "役割"), 16.0),
        (words(lang, "Control", "対策ID"), 14.0),
        (words(lang, "Title", "対策"), 40.0),
        (words(lang, "Category", "分類"), 14.0),
        (words(lang, "Tier", "区分"), 12.0),
        (words(lang, "Status", "状態"), 12.0),
        (
            words(lang, "Waiver / attestation", "適用除外・確認記録"),
            30.0,
        ),
        (words(lang, "Settings", "設定数"), 9.0),
        (words(lang, "Compliant", "適合"), 9.0),
        (words(lang, "Findings", "指摘"), 80.0),
        (words(lang, "Unexpected", "想定外"), 40.0),
    ]
}

impl Sink for XlsxSink {
    fn begin(&mut self, _fleet: &Fleet) -> std::io::Result<()> {
        Ok(())
    }

    fn host(&mut self, fleet: &Fleet, host: &HostResult) -> std::io::Result<()> {
        self.write_host(fleet, host)
    }

    fn finish(&mut self, fleet: &Fleet, summary: &Summary) -> std::io::Result<()> {
        self.package(fleet, summary)
    }
}

#[cfg(test)]
mod tests {
    use super::{cell_text, column};

    #[test]
    fn columns_are_lettered_like_excel() {
        assert_eq!(column(0), "A");
        assert_eq!(column(12), "M");
        assert_eq!(column(25), "Z");
        assert_eq!(column(26), "AA");
        assert_eq!(column(701), "ZZ");
        assert_eq!(column(702), "AAA");
    }

    #[test]
    fn cell_text_escapes_markup_controls_and_literal_escapes() {
        let mut out = String::new();
        cell_text(&mut out, "<a & b>\u{1b}[31m\u{0}_x0041_ x_y\ttab\nline\r");
        assert_eq!(
            out,
            "&lt;a &amp; b&gt;_x001B_[31m_x0000__x005F_x0041_ x_y\ttab\nline_x000D_"
        );
        let mut long = String::new();
        cell_text(&mut long, &"x".repeat(40_000));
        assert!(long.chars().count() <= 32_767, "{}", long.chars().count());
        assert!(long.ends_with("(cut: longer than an Excel cell holds)"));
    }
}

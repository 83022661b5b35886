//! The fleet workbook for auditors who work in Excel: a summary sheet (per control, hosts per
//! status, and the fleet totals), a hosts sheet (one row per snapshot) and a results sheet (one
//! row per host × control, the findings with their evidence).
//!
//! A fleet of 10,000 hosts gives a million result rows, so the workbook is streamed: the hosts
//! and results sheets are compressed as the hosts arrive, each into its own temporary zip
//! archive under the scratch folder, and [`Sink::finish`] writes the workbook's small parts and
//! copies those compressed entries into it without decompressing them. Memory stays flat and
//! no sheet is held whole. The package is [`crate::xlsx`]'s: shared strings for the values that
//! repeat on every row, inline strings for the others.
//!
//! A results sheet holds at most Excel's 1,048,576 rows; the rows after that continue on
//! `Results 2`, `Results 3`… Every cell is a string or a number: formula-like text gets Excel's
//! quote prefix (a style with `quotePrefix`), and cell text is escaped and cut as
//! [`crate::xlsx::cell_text`] does. Entries carry a fixed timestamp, so the same fleet gives the
//! same bytes.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use zip::{ZipArchive, ZipWriter};

use super::{status_index, words, Fleet, HostResult, Sink, Summary};
use crate::catalog::taxonomy::Lang;
use crate::drift::Status;
use crate::xlsx::style::{HEADER, PLAIN, QUOTED, WRAPPED};
use crate::xlsx::{self as sheet_xml, SharedStrings, SheetEntry, MAX_ROWS};

/// How many bytes of rows are collected before they go to the compressor.
const PENDING: usize = 1 << 18;

/// The status name people read (the checklist's words).
pub(crate) use crate::report::checklist::status_word as status_name;

/// One sheet being streamed into its own temporary zip archive.
struct StreamedSheet {
    name: String,
    zip: ZipWriter<BufWriter<File>>,
    temp: PathBuf,
    columns: usize,
    /// The next row to write (1-based; row 1 is the header).
    row: u32,
    /// Rows not yet handed to the compressor.
    pending: String,
}

/// A streamed sheet once its XML is complete.
struct ClosedSheet {
    name: String,
    /// The range of its autofilter.
    filter: String,
    /// The temporary archive that holds it.
    temp: PathBuf,
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
        zip.start_file(
            format!("xl/worksheets/{file}.xml"),
            sheet_xml::part_options(None),
        )
        .map_err(sheet_xml::zip_error)?;
        let mut pending = String::with_capacity(PENDING + 4096);
        let widths: Vec<f64> = columns.iter().map(|(_, width)| *width).collect();
        sheet_xml::sheet_head(&mut pending, &widths, false, None);
        let mut sheet = StreamedSheet {
            name,
            zip,
            temp,
            columns: columns.len(),
            row: 1,
            pending,
        };
        sheet.begin_row();
        for (col, (title, _)) in columns.iter().enumerate() {
            sheet.text(col, title, HEADER);
        }
        sheet.end_row()?;
        Ok(sheet)
    }

    fn begin_row(&mut self) {
        self.pending.push_str(r#"<row r=""#);
        sheet_xml::push_number(&mut self.pending, u64::from(self.row));
        self.pending.push_str(r#"">"#);
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
        sheet_xml::inline_cell(&mut self.pending, col, self.row, style, text);
    }

    /// A string cell from the shared strings (for values that repeat from row to row).
    fn shared(&mut self, col: usize, text: &str, table: &mut SharedStrings) {
        if text.is_empty() {
            return;
        }
        let style = if crate::report::checklist::formula_like(text) {
            QUOTED
        } else {
            PLAIN
        };
        sheet_xml::shared_cell(&mut self.pending, col, self.row, style, table.get(text));
    }

    /// Like [`StreamedSheet::shared`], remembering the text's index and style in `slot` for the
    /// next row with the same text (the texts of a profile, a control or a status repeat on
    /// every row of theirs).
    fn shared_cached(
        &mut self,
        col: usize,
        text: &str,
        table: &mut SharedStrings,
        slot: &mut Option<(u32, u8)>,
    ) {
        if text.is_empty() {
            return;
        }
        let (index, style) = match *slot {
            Some((index, style)) => (table.again(index), style),
            None => {
                let style = if crate::report::checklist::formula_like(text) {
                    QUOTED
                } else {
                    PLAIN
                };
                let index = table.get(text);
                *slot = Some((index, style));
                (index, style)
            }
        };
        sheet_xml::shared_cell(&mut self.pending, col, self.row, style, index);
    }

    fn number(&mut self, col: usize, n: usize) {
        sheet_xml::number_cell(&mut self.pending, col, self.row, n);
    }

    fn end_row(&mut self) -> std::io::Result<()> {
        self.pending.push_str("</row>");
        self.row += 1;
        // The compressor is fed in large pieces: every write into it costs a pass over its
        // output buffer, whatever the size of the write.
        if self.pending.len() >= PENDING {
            self.zip.write_all(self.pending.as_bytes())?;
            self.pending.clear();
        }
        Ok(())
    }

    fn is_full(&self) -> bool {
        self.row > MAX_ROWS
    }

    /// Closes the sheet's XML (with an autofilter over its rows) and its temporary archive.
    fn close(mut self) -> std::io::Result<ClosedSheet> {
        let filter = sheet_xml::range(self.columns, self.row.saturating_sub(1));
        sheet_xml::sheet_tail(&mut self.pending, &filter);
        self.zip.write_all(self.pending.as_bytes())?;
        self.zip.finish().map_err(sheet_xml::zip_error)?.flush()?;
        Ok(ClosedSheet {
            name: self.name,
            filter,
            temp: self.temp,
        })
    }
}

/// Writes the workbook to `path` at [`Sink::finish`].
pub struct XlsxSink {
    path: PathBuf,
    scratch: PathBuf,
    lang: Lang,
    hosts: Option<StreamedSheet>,
    results: Option<StreamedSheet>,
    /// Closed sheets, in workbook order after the summary.
    closed: Vec<ClosedSheet>,
    result_sheets: usize,
    shared: SharedStrings<'static>,
    /// Remembered shared-string cells (see [`StreamedSheet::shared_cached`]), for the language
    /// of the fleet: per profile its name and role, per control its id, title, category and
    /// tier, per status its name (the last slot: `error`).
    profile_cells: Vec<[Option<(u32, u8)>; 2]>,
    control_cells: Vec<[Option<(u32, u8)>; 4]>,
    status_cells: [Option<(u32, u8)>; 8],
    /// The text of the findings and unexpected cells, reused from row to row.
    findings: String,
    unexpected: String,
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
            profile_cells: Vec::new(),
            control_cells: Vec::new(),
            status_cells: [None; 8],
            findings: String::new(),
            unexpected: String::new(),
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
        if self.profile_cells.len() < fleet.profiles.len() {
            self.profile_cells.resize(fleet.profiles.len(), [None; 2]);
        }
        if self.control_cells.len() < fleet.controls.len() {
            self.control_cells.resize(fleet.controls.len(), [None; 4]);
        }
        let table = &mut self.shared;
        if let Some(sheet) = self.hosts.as_mut().filter(|s| !s.is_full()) {
            let (status, slot) = match host.status() {
                None => (words(lang, "error", "エラー"), 7),
                Some(s) => (status_name(s, lang), status_index(s)),
            };
            sheet.begin_row();
            sheet.text(0, &host.host, PLAIN);
            sheet.text(1, &host.snapshot, PLAIN);
            match (host.profile, profile) {
                (Some(i), Some(p)) => {
                    let cells = &mut self.profile_cells[i];
                    sheet.shared_cached(2, &p.name, table, &mut cells[0]);
                    sheet.shared_cached(3, p.role.name(lang), table, &mut cells[1]);
                }
                _ => {
                    sheet.shared(2, "", table);
                    sheet.shared(3, "", table);
                }
            }
            sheet.text(4, &host.collected_at, PLAIN);
            sheet.shared_cached(5, status, table, &mut self.status_cells[slot]);
            for (i, n) in host.setting_counts.iter().enumerate() {
                sheet.number(6 + i, *n);
            }
            sheet.text(13, host.error.as_deref().unwrap_or(""), WRAPPED);
            sheet.end_row()?;
        }
        let (Some(profile_index), Some(profile)) = (host.profile, profile) else {
            return Ok(());
        };
        let mut findings = std::mem::take(&mut self.findings);
        let mut unexpected = std::mem::take(&mut self.unexpected);
        let written = (|| {
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
                let profile_cells = &mut self.profile_cells[profile_index];
                let control_cells = &mut self.control_cells[c.control];
                sheet.begin_row();
                sheet.text(0, &host.host, PLAIN);
                sheet.shared_cached(1, &profile.name, table, &mut profile_cells[0]);
                sheet.shared_cached(2, profile.role.name(lang), table, &mut profile_cells[1]);
                sheet.shared_cached(3, &control.id, table, &mut control_cells[0]);
                sheet.shared_cached(4, control.title.get(lang), table, &mut control_cells[1]);
                sheet.shared_cached(5, control.category.name(lang), table, &mut control_cells[2]);
                sheet.shared_cached(6, control.tier.name(lang), table, &mut control_cells[3]);
                sheet.shared_cached(
                    7,
                    status_name(c.status, lang),
                    table,
                    &mut self.status_cells[status_index(c.status)],
                );
                sheet.text(8, record, PLAIN);
                sheet.number(9, c.settings);
                sheet.number(10, c.compliant);
                sheet.text(11, &findings, WRAPPED);
                sheet.text(12, &unexpected, WRAPPED);
                sheet.end_row()?;
            }
            Ok(())
        })();
        self.findings = findings;
        self.unexpected = unexpected;
        written
    }

    /// The summary sheet, small enough to build in memory, and the range of its autofilter.
    fn summary_sheet(&self, fleet: &Fleet, summary: &Summary) -> (String, String) {
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
        let filter = sheet_xml::range(columns.len(), filtered.max(2) as u32);
        let mut xml = String::new();
        let widths: Vec<f64> = columns.iter().map(|(_, width)| *width).collect();
        sheet_xml::sheet_head(&mut xml, &widths, true, None);
        for (r, row) in rows.iter().enumerate() {
            let r = r as u32 + 1;
            let _ = write!(xml, r#"<row r="{r}">"#);
            for (c, cell) in row.iter().enumerate() {
                match cell {
                    Cell::Empty => {}
                    Cell::Number(n) => sheet_xml::number_cell(&mut xml, c, r, *n),
                    Cell::Head("") => {}
                    Cell::Text(t) if t.is_empty() => {}
                    Cell::Head(t) => sheet_xml::inline_cell(&mut xml, c, r, HEADER, t),
                    Cell::Text(t) => {
                        let style = if crate::report::checklist::formula_like(t) {
                            QUOTED
                        } else {
                            PLAIN
                        };
                        sheet_xml::inline_cell(&mut xml, c, r, style, t);
                    }
                }
            }
            xml.push_str("</row>");
        }
        sheet_xml::sheet_tail(&mut xml, &filter);
        (xml, filter)
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
        let (summary_xml, summary_filter) = self.summary_sheet(fleet, summary);
        let mut sheets = vec![SheetEntry {
            name: words(lang, "Summary", "概要"),
            filter: &summary_filter,
        }];
        sheets.extend(self.closed.iter().map(|c| SheetEntry {
            name: &c.name,
            filter: &c.filter,
        }));
        let title = format!(
            "{} {}",
            words(lang, "hardbase fleet audit", "hardbase 一括監査"),
            fleet.evaluated_at
        );
        let mut out = ZipWriter::new(BufWriter::new(File::create(&self.path)?));
        sheet_xml::package_parts(&mut out, &title, &fleet.evaluated_at.to_string(), &sheets)?;
        out.start_file("xl/sharedStrings.xml", sheet_xml::part_options(None))
            .map_err(sheet_xml::zip_error)?;
        self.shared.write(&mut out)?;
        sheet_xml::put(&mut out, "xl/worksheets/sheet1.xml", &summary_xml)?;
        // The streamed sheets, copied compressed as they are (sheet2.xml, sheet3.xml, …).
        for (i, closed) in self.closed.iter().enumerate() {
            let mut archive = ZipArchive::new(std::io::BufReader::new(File::open(&closed.temp)?))
                .map_err(sheet_xml::zip_error)?;
            let entry = archive.by_index_raw(0).map_err(sheet_xml::zip_error)?;
            let want = format!("xl/worksheets/sheet{}.xml", i + 2);
            if entry.name() == want {
                out.raw_copy_file(entry).map_err(sheet_xml::zip_error)?;
            } else {
                out.raw_copy_file_rename(entry, want)
                    .map_err(sheet_xml::zip_error)?;
            }
        }
        // On disk before the audit folder replaces the previous one.
        out.finish()
            .map_err(sheet_xml::zip_error)?
            .into_inner()
            .map_err(std::io::IntoInnerError::into_error)?
            .sync_all()
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

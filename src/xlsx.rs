//! The SpreadsheetML (ECMA-376 Part 1) pieces every workbook hardbase writes is made of: the
//! checklist and flow-matrix tables ([`crate::report::checklist::xlsx_table`]) and the streamed
//! fleet workbook ([`crate::audit::xlsx`]).
//!
//! A package is the minimal SpreadsheetML one: `[Content_Types].xml`, the package and workbook
//! relationships, `docProps/core.xml` and `app.xml`, `xl/workbook.xml` (with the hidden
//! `_xlnm._FilterDatabase` name of each sheet's autofilter), `xl/styles.xml` (one fixed style
//! sheet, [`STYLES`]), `xl/sharedStrings.xml` and one `xl/worksheets/sheetN.xml` per sheet.
//! Every entry has a fixed timestamp and no part holds a clock time, so the same content gives
//! the same bytes.
//!
//! Cell text is hostile input. [`cell_text`] writes markup characters as entities, characters
//! XML 1.0 cannot carry in OOXML's `_xHHHH_` form (and a literal `_xHHHH_` as `_x005F_xHHHH_`,
//! so that it reads back as written), and cuts text longer than a cell holds with a note. No
//! cell is ever written as a formula: text is a shared or inline string, and text Excel would
//! read as a formula when edited gets a style with `quotePrefix`.

use std::fmt::Write as _;
use std::io::{Seek, Write};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// Excel's rows per sheet.
pub const MAX_ROWS: u32 = 1_048_576;
/// Excel's characters (UTF-16 code units) per cell.
pub const MAX_CELL: usize = 32_767;
/// What ends a cell cut to [`MAX_CELL`].
pub const CUT_NOTE: &str = " … (cut: longer than an Excel cell holds)";
/// Excel's characters per sheet name.
const MAX_SHEET_NAME: usize = 31;

/// Cell styles, as indexes of `cellXfs` in [`STYLES`]. All are top-aligned.
pub mod style {
    /// Plain text or a number.
    pub const PLAIN: u8 = 0;
    /// A header cell: bold on a light blue fill, wrapped.
    pub const HEADER: u8 = 1;
    /// Formula-like text, shown as text (`quotePrefix`).
    pub const QUOTED: u8 = 2;
    /// Wrapped text.
    pub const WRAPPED: u8 = 3;
    /// [`HEADER`] with thin borders (the tables' header row).
    pub const BOXED_HEADER: u8 = 4;
    /// Wrapped text with thin borders (the tables' cells).
    pub const BOXED: u8 = 5;
    /// [`BOXED`] formula-like text (`quotePrefix`).
    pub const BOXED_QUOTED: u8 = 6;
}

/// The style sheet of every workbook: two fonts (regular, bold), the header fill (`D9E1F2`),
/// no border or thin ones, and the cell formats of [`style`].
pub const STYLES: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    "\n",
    r#"<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#,
    r#"<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>"#,
    r#"<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>"#,
    r#"<fills count="3"><fill><patternFill patternType="none"/></fill>"#,
    r#"<fill><patternFill patternType="gray125"/></fill>"#,
    r#"<fill><patternFill patternType="solid"><fgColor rgb="FFD9E1F2"/><bgColor indexed="64"/></patternFill></fill></fills>"#,
    r#"<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>"#,
    r#"<border><left style="thin"><color auto="1"/></left><right style="thin"><color auto="1"/></right>"#,
    r#"<top style="thin"><color auto="1"/></top><bottom style="thin"><color auto="1"/></bottom><diagonal/></border></borders>"#,
    r#"<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>"#,
    r#"<cellXfs count="7">"#,
    // PLAIN
    r#"<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment vertical="top"/></xf>"#,
    // HEADER
    r#"<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>"#,
    // QUOTED
    r#"<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1" applyAlignment="1"><alignment vertical="top"/></xf>"#,
    // WRAPPED
    r#"<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>"#,
    // BOXED_HEADER
    r#"<xf numFmtId="0" fontId="1" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>"#,
    // BOXED
    r#"<xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" applyBorder="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>"#,
    // BOXED_QUOTED
    r#"<xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" quotePrefix="1" applyBorder="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>"#,
    r#"</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"#,
    "\n"
);

const XML_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#;

/// Appends the column letters of a zero-based column index (`0` → `A`, `26` → `AA`).
pub fn push_column(out: &mut String, mut index: usize) {
    let mut letters = [0u8; 8];
    let mut start = letters.len();
    loop {
        start -= 1;
        letters[start] = b'A' + (index % 26) as u8;
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    for &b in &letters[start..] {
        out.push(char::from(b));
    }
}

/// The reference of a range from `A1` to the last column and row (`A1:H7`); a table without
/// columns or rows still covers `A1`.
pub fn range(columns: usize, last_row: u32) -> String {
    let mut out = String::from("A1:");
    push_column(&mut out, columns.saturating_sub(1));
    let _ = write!(out, "{}", last_row.max(1));
    out
}

/// Whether `text` at byte `i` starts an `_xHHHH_` sequence Excel would decode.
fn is_escape_at(text: &[u8], i: usize) -> bool {
    text.len() >= i + 7
        && text[i] == b'_'
        && text[i + 1] == b'x'
        && text[i + 2..i + 6].iter().all(u8::is_ascii_hexdigit)
        && text[i + 6] == b'_'
}

/// Characters XML 1.0 cannot carry (tab, line feed and carriage return aside), and the C1
/// controls it only tolerates.
fn unwritable(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{FFFE}' || c == '\u{FFFF}'
}

/// Where a text longer than a cell holds is cut (a byte index), or `None` when it fits.
fn cut_at(text: &str) -> Option<usize> {
    // A UTF-8 byte is at most one UTF-16 code unit: short texts need no counting.
    if text.len() <= MAX_CELL {
        return None;
    }
    let keep = MAX_CELL - CUT_NOTE.encode_utf16().count();
    let mut units = 0;
    let mut cut = None;
    for (i, c) in text.char_indices() {
        if cut.is_none() && units + c.len_utf16() > keep {
            cut = Some(i);
        }
        units += c.len_utf16();
        if units > MAX_CELL {
            return cut;
        }
    }
    None
}

/// Appends text as the content of a shared or inline string (`<t>`): `& < > "` as entities,
/// characters XML cannot carry (carriage return included, which XML would read as a line
/// feed) and a literal `_xHHHH_` in OOXML's `_xHHHH_` form, and text longer than a cell holds
/// cut with [`CUT_NOTE`].
pub fn cell_text(out: &mut String, text: &str) {
    let (text, cut) = match cut_at(text) {
        Some(at) => (&text[..at], true),
        None => (text, false),
    };
    let bytes = text.as_bytes();
    push_escaped(out, text, |i, c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '_' if is_escape_at(bytes, i) => Some("_x005F_"),
        '\r' => Some("_x000D_"),
        c if unwritable(c) => Some(""),
        _ => None,
    });
    if cut {
        out.push_str(CUT_NOTE);
    }
}

/// Appends text as XML character data or an attribute value outside cells (document
/// properties, sheet names, defined names), where no reader decodes `_xHHHH_`: `& < > "` as
/// entities, tab, line feed and carriage return as character references (so they survive in
/// attributes and are not normalized), and characters XML cannot carry in the visible
/// `_xHHHH_` form.
pub fn xml_text(out: &mut String, text: &str) {
    push_escaped(out, text, |_, c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '\t' => Some("&#9;"),
        '\n' => Some("&#10;"),
        '\r' => Some("&#13;"),
        c if unwritable(c) => Some(""),
        _ => None,
    });
}

/// Appends `text` with each character `escape` maps (by byte offset and character) replaced:
/// by the text it gives, or, when that is empty, by the character's `_xHHHH_` form.
fn push_escaped(
    out: &mut String,
    text: &str,
    escape: impl Fn(usize, char) -> Option<&'static str>,
) {
    let mut plain = 0;
    for (i, c) in text.char_indices() {
        let Some(escaped) = escape(i, c) else {
            continue;
        };
        out.push_str(&text[plain..i]);
        if escaped.is_empty() {
            let _ = write!(out, "_x{:04X}_", c as u32);
        } else {
            out.push_str(escaped);
        }
        plain = i + c.len_utf8();
    }
    out.push_str(&text[plain..]);
}

/// A name Excel accepts for a sheet: none of `\ / ? * [ ] :` nor control characters (each
/// becomes `_`), no `'` at either end, at most 31 characters, not empty and not the reserved
/// `History`.
pub fn sheet_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\\' | '/' | '?' | '*' | '[' | ']' | ':') {
                '_'
            } else {
                c
            }
        })
        .take(MAX_SHEET_NAME)
        .collect();
    let trimmed = out.trim_matches('\'');
    if trimmed.len() != out.len() {
        out = trimmed.to_string();
    }
    if out.is_empty() || out.eq_ignore_ascii_case("history") {
        out = "Sheet1".to_string();
    }
    out
}

/// The stored width of a column `chars` characters of Calibri 11 wide: Excel adds five pixels
/// of padding to the characters (seven pixels each) and keeps 1/256ths of a character.
pub fn column_width(chars: f64) -> f64 {
    ((chars.max(0.0) * 7.0 + 5.0) / 7.0 * 256.0).trunc() / 256.0
}

/// The shared strings of a workbook: each distinct text once, in the order first used, with
/// the number of cells that refer to one. Texts the caller lends for as long as the table lives
/// (`'t`) are not copied; others are copied once.
#[derive(Default)]
pub struct SharedStrings<'t> {
    index: std::collections::HashMap<std::borrow::Cow<'t, str>, u32>,
    /// How many cells refer to a shared string.
    count: u64,
}

impl<'t> SharedStrings<'t> {
    /// Counts one more cell referring to `index`, a value [`SharedStrings::get`] returned:
    /// for callers that remember the index of a text they use again.
    pub fn again(&mut self, index: u32) -> u32 {
        self.count += 1;
        index
    }

    /// The index of `text`, copied in if new.
    pub fn get(&mut self, text: &str) -> u32 {
        self.count += 1;
        if let Some(i) = self.index.get(text) {
            return *i;
        }
        self.insert(std::borrow::Cow::Owned(text.to_string()))
    }

    /// The index of `text`, lent to the table if new.
    pub fn get_lent(&mut self, text: &'t str) -> u32 {
        self.count += 1;
        if let Some(i) = self.index.get(text) {
            return *i;
        }
        self.insert(std::borrow::Cow::Borrowed(text))
    }

    fn insert(&mut self, text: std::borrow::Cow<'t, str>) -> u32 {
        let i = self.index.len() as u32;
        self.index.insert(text, i);
        i
    }

    /// Writes the `xl/sharedStrings.xml` part into `out`, a piece at a time.
    pub fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        let mut texts: Vec<(&std::borrow::Cow<'t, str>, u32)> =
            self.index.iter().map(|(text, i)| (text, *i)).collect();
        texts.sort_unstable_by_key(|(_, i)| *i);
        let mut piece = String::with_capacity(PIECE + 4096);
        let _ = write!(
            piece,
            r#"{XML_HEAD}
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{}" uniqueCount="{}">"#,
            self.count,
            texts.len()
        );
        for (text, _) in texts {
            piece.push_str("<si>");
            t_start(&mut piece, text);
            cell_text(&mut piece, text);
            piece.push_str("</t></si>");
            if piece.len() >= PIECE {
                out.write_all(piece.as_bytes())?;
                piece.clear();
            }
        }
        piece.push_str("</sst>");
        out.write_all(piece.as_bytes())
    }
}

/// How many bytes of a part are gathered before they go to the compressor.
pub const PIECE: usize = 1 << 14;

/// Appends the start of a worksheet up to `<sheetData>`: the used range when known, the header
/// row frozen (the pane at `A2`), the sheet selected or not, and the column widths (in
/// characters, see [`column_width`]).
pub fn sheet_head(out: &mut String, widths: &[f64], selected: bool, dimension: Option<&str>) {
    out.push_str(XML_HEAD);
    out.push_str(concat!(
        "\n",
        r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">"#
    ));
    if let Some(dimension) = dimension {
        let _ = write!(out, r#"<dimension ref="{dimension}"/>"#);
    }
    out.push_str(if selected {
        r#"<sheetViews><sheetView tabSelected="1" workbookViewId="0">"#
    } else {
        r#"<sheetViews><sheetView workbookViewId="0">"#
    });
    out.push_str(concat!(
        r#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#,
        r#"<selection pane="bottomLeft"/></sheetView></sheetViews>"#,
        r#"<sheetFormatPr defaultRowHeight="15"/>"#
    ));
    if !widths.is_empty() {
        out.push_str("<cols>");
        for (i, chars) in widths.iter().enumerate() {
            let _ = write!(
                out,
                r#"<col min="{n}" max="{n}" width="{}" customWidth="1"/>"#,
                column_width(*chars),
                n = i + 1
            );
        }
        out.push_str("</cols>");
    }
    out.push_str("<sheetData>");
}

/// Appends the end of a worksheet: the autofilter over `filter` (see [`range`]) and the page
/// margins.
pub fn sheet_tail(out: &mut String, filter: &str) {
    let _ = write!(
        out,
        r#"</sheetData><autoFilter ref="{filter}"/><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>"#
    );
}

/// Appends the start of a string's text element: `<t xml:space="preserve">` when the text
/// begins or ends with white space, which readers would otherwise drop, `<t>` otherwise.
fn t_start(out: &mut String, text: &str) {
    let edge = |b: Option<&u8>| b.is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
    out.push_str(
        if edge(text.as_bytes().first()) || edge(text.as_bytes().last()) {
            r#"<t xml:space="preserve">"#
        } else {
            "<t>"
        },
    );
}

/// Appends `<c r="{col}{row}"` (a cell's start and reference).
fn cell_start(out: &mut String, col: usize, row: u32) {
    out.push_str(r#"<c r=""#);
    push_column(out, col);
    push_number(out, row as u64);
    out.push('"');
}

/// Appends `n` in decimal, as `{n}` formats it, without the formatting machinery (it runs for
/// every cell of a streamed sheet).
pub fn push_number(out: &mut String, n: u64) {
    let mut digits = [0u8; 20];
    let at = decimal_digits(n, &mut digits);
    // Digit by digit: cheaper than checking the few bytes as UTF-8.
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

/// The ASCII digits of `n` in decimal, written into the end of `digits`.
pub fn decimal_bytes(n: u64, digits: &mut [u8; 20]) -> &[u8] {
    let at = decimal_digits(n, digits);
    &digits[at..]
}

/// Writes `n` in decimal into the end of `digits`; returns where it starts.
fn decimal_digits(mut n: u64, digits: &mut [u8; 20]) -> usize {
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return at;
        }
    }
}

/// Appends a cell holding a shared string.
pub fn shared_cell(out: &mut String, col: usize, row: u32, style: u8, index: u32) {
    cell_start(out, col, row);
    push_style(out, style);
    out.push_str(r#" t="s"><v>"#);
    push_number(out, u64::from(index));
    out.push_str("</v></c>");
}

/// Appends a cell holding an inline string.
pub fn inline_cell(out: &mut String, col: usize, row: u32, style: u8, text: &str) {
    cell_start(out, col, row);
    push_style(out, style);
    out.push_str(r#" t="inlineStr"><is>"#);
    t_start(out, text);
    cell_text(out, text);
    out.push_str("</t></is></c>");
}

/// Appends a cell holding a number.
pub fn number_cell(out: &mut String, col: usize, row: u32, n: usize) {
    cell_start(out, col, row);
    out.push_str("><v>");
    push_number(out, n as u64);
    out.push_str("</v></c>");
}

/// Appends an empty cell that keeps its style (borders).
pub fn blank_cell(out: &mut String, col: usize, row: u32, style: u8) {
    cell_start(out, col, row);
    push_style(out, style);
    out.push_str("/>");
}

/// Appends a cell's style attribute, left out for the default style (`s` is 0 when absent,
/// ECMA-376 Part 1, 18.3.1.4): a million-row results sheet is that much smaller to compress.
fn push_style(out: &mut String, style: u8) {
    if style != style::PLAIN {
        out.push_str(r#" s=""#);
        push_number(out, u64::from(style));
        out.push('"');
    }
}

/// The options of a part: stored when small (a compressor costs more to set up than a few
/// hundred bytes gain), otherwise deflated at the fastest level; a fixed timestamp either way.
pub fn part_options(len: Option<usize>) -> SimpleFileOptions {
    let options = SimpleFileOptions::default().last_modified_time(zip::DateTime::default());
    match len {
        Some(len) if len < 2048 => options.compression_method(CompressionMethod::Stored),
        _ => options
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(1)),
    }
}

/// The options of a part stored as it is: for the small workbooks of a build (a checklist, a
/// flow matrix: tens of KB of XML), where a compressor's tables (about 300 KB) and their set-up
/// would cost more than the bytes deflate saves. A fixed timestamp.
pub fn stored_options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .last_modified_time(zip::DateTime::default())
        .compression_method(CompressionMethod::Stored)
}

/// A zip error as an I/O error.
pub fn zip_error(e: zip::result::ZipError) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// Writes one part into the package.
pub fn put<W: Write + Seek>(zip: &mut ZipWriter<W>, name: &str, text: &str) -> std::io::Result<()> {
    zip.start_file(name, part_options(Some(text.len())))
        .map_err(zip_error)?;
    zip.write_all(text.as_bytes())
}

/// A sheet of the workbook: its name and the range of its autofilter.
pub struct SheetEntry<'a> {
    pub name: &'a str,
    pub filter: &'a str,
}

/// Writes the parts every package has, for `sheets` (the worksheets are
/// `xl/worksheets/sheet1.xml`… in this order; their names made ones Excel accepts, see
/// [`sheet_name`]) and a shared strings part: `[Content_Types].xml`, the relationships, the document properties (`title`, and `date`,
/// a `YYYY-MM-DD` day, as the creation and modification date), `xl/workbook.xml` and
/// `xl/styles.xml`. The worksheets and the shared strings are the caller's to write.
pub fn package_parts<W: Write + Seek>(
    zip: &mut ZipWriter<W>,
    title: &str,
    date: &str,
    sheets: &[SheetEntry],
) -> std::io::Result<()> {
    let mut types = format!(
        r#"{XML_HEAD}
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#
    );
    for i in 1..=sheets.len() {
        let _ = write!(
            types,
            r#"<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#
        );
    }
    types.push_str(r#"<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#);
    put(zip, "[Content_Types].xml", &types)?;
    put(
        zip,
        "_rels/.rels",
        &format!(
            r#"{XML_HEAD}
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/></Relationships>"#
        ),
    )?;
    put(
        zip,
        "docProps/app.xml",
        &format!(
            r#"{XML_HEAD}
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"><Application>hardbase</Application></Properties>"#
        ),
    )?;
    let mut core = format!(
        r#"{XML_HEAD}
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>"#
    );
    xml_text(&mut core, title);
    core.push_str(r#"</dc:title><dc:creator>hardbase</dc:creator><dcterms:created xsi:type="dcterms:W3CDTF">"#);
    xml_text(&mut core, date);
    core.push_str(r#"T00:00:00Z</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">"#);
    xml_text(&mut core, date);
    core.push_str("T00:00:00Z</dcterms:modified></cp:coreProperties>");
    put(zip, "docProps/core.xml", &core)?;

    let names: Vec<String> = sheets.iter().map(|s| sheet_name(s.name)).collect();
    let mut workbook = format!(
        r#"{XML_HEAD}
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><bookViews><workbookView/></bookViews><sheets>"#
    );
    let mut rels = format!(
        r#"{XML_HEAD}
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#
    );
    for (i, name) in names.iter().enumerate() {
        let n = i + 1;
        workbook.push_str(r#"<sheet name=""#);
        xml_text(&mut workbook, name);
        let _ = write!(workbook, r#"" sheetId="{n}" r:id="rId{n}"/>"#);
        let _ = write!(
            rels,
            r#"<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>"#
        );
    }
    workbook.push_str("</sheets>");
    // Excel keeps each autofilter's range in a hidden name local to its sheet.
    if !sheets.is_empty() {
        workbook.push_str("<definedNames>");
        for (i, (name, sheet)) in names.iter().zip(sheets).enumerate() {
            let _ = write!(
                workbook,
                r#"<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">"#
            );
            xml_text(&mut workbook, &sheet_reference(name, sheet.filter));
            workbook.push_str("</definedName>");
        }
        workbook.push_str("</definedNames>");
    }
    workbook.push_str("</workbook>");
    let _ = write!(
        rels,
        r#"<Relationship Id="rId{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
        sheets.len() + 1,
        sheets.len() + 2
    );
    put(zip, "xl/workbook.xml", &workbook)?;
    put(zip, "xl/_rels/workbook.xml.rels", &rels)?;
    put(zip, "xl/styles.xml", STYLES)
}

/// An absolute reference to `range` (`A1:H7`) on the named sheet: `'Sheet'!$A$1:$H$7`.
fn sheet_reference(sheet: &str, range: &str) -> String {
    let mut out = format!("'{}'!", sheet.replace('\'', "''"));
    for (i, corner) in range.split(':').enumerate() {
        if i > 0 {
            out.push(':');
        }
        let digits = corner
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(corner.len());
        let _ = write!(out, "${}${}", &corner[..digits], &corner[digits..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(index: usize) -> String {
        let mut out = String::new();
        push_column(&mut out, index);
        out
    }

    #[test]
    fn numbers_are_written_as_format_writes_them() {
        for n in [0, 7, 10, 99, 1000, 65_535, 1_048_576, u64::MAX] {
            let mut out = String::from("x");
            push_number(&mut out, n);
            assert_eq!(out, format!("x{n}"));
            assert_eq!(decimal_bytes(n, &mut [0; 20]), n.to_string().as_bytes());
        }
    }

    #[test]
    fn columns_are_lettered_like_excel() {
        assert_eq!(column(0), "A");
        assert_eq!(column(12), "M");
        assert_eq!(column(25), "Z");
        assert_eq!(column(26), "AA");
        assert_eq!(column(701), "ZZ");
        assert_eq!(column(702), "AAA");
        assert_eq!(column(16_383), "XFD");
        assert_eq!(range(8, 7), "A1:H7");
        assert_eq!(range(0, 0), "A1:A1");
    }

    #[test]
    fn cell_text_escapes_markup_controls_and_literal_escapes() {
        let mut out = String::new();
        cell_text(
            &mut out,
            "<a & \"b\">\u{1b}[31m\u{0}_x0041_ x_y _x12_ \u{85}\u{FFFE}\ttab\nline\r",
        );
        assert_eq!(
            out,
            "&lt;a &amp; &quot;b&quot;&gt;_x001B_[31m_x0000__x005F_x0041_ x_y _x12_ _x0085__xFFFE_\ttab\nline_x000D_"
        );
    }

    #[test]
    fn cell_text_cuts_what_a_cell_cannot_hold() {
        // Exactly a cell's worth: kept whole.
        let full = "x".repeat(MAX_CELL);
        let mut out = String::new();
        cell_text(&mut out, &full);
        assert_eq!(out, full);
        // One more: cut, the note included in the limit.
        for long in [
            "x".repeat(MAX_CELL + 1),
            "あ".repeat(40_000),
            // Characters outside the BMP count twice in Excel (UTF-16).
            "😀".repeat(MAX_CELL / 2 + 1),
        ] {
            let mut out = String::new();
            cell_text(&mut out, &long);
            assert!(out.ends_with(CUT_NOTE), "{}", &out[out.len() - 60..]);
            let units = out.encode_utf16().count();
            assert!(
                units <= MAX_CELL && units > MAX_CELL - 2 - CUT_NOTE.len(),
                "{units}"
            );
        }
        let mut out = String::new();
        cell_text(&mut out, &"😀".repeat(MAX_CELL / 2));
        assert!(!out.ends_with(CUT_NOTE));
    }

    #[test]
    fn text_outside_cells_keeps_whitespace_and_literal_escapes() {
        let mut out = String::new();
        xml_text(&mut out, "a<b>&\"c\"\t\n\r\u{7}_x0041_");
        assert_eq!(
            out,
            "a&lt;b&gt;&amp;&quot;c&quot;&#9;&#10;&#13;_x0007__x0041_"
        );
    }

    #[test]
    fn sheet_names_are_ones_excel_accepts() {
        assert_eq!(sheet_name("Checklist"), "Checklist");
        assert_eq!(sheet_name("a/b[c]:d?*\\e\u{1}"), "a_b_c__d___e_");
        assert_eq!(sheet_name("'quoted'"), "quoted");
        assert_eq!(sheet_name(""), "Sheet1");
        assert_eq!(sheet_name("History"), "Sheet1");
        assert_eq!(sheet_name(&"長".repeat(40)).chars().count(), 31);
        assert_eq!(
            sheet_reference("It's", "A1:H7"),
            "'It''s'!$A$1:$H$7".to_string()
        );
    }

    #[test]
    fn widths_are_stored_as_excel_stores_them() {
        assert_eq!(column_width(6.0), 6.7109375);
        assert_eq!(column_width(48.0), 48.7109375);
        assert_eq!(column_width(22.0), 22.7109375);
    }
}

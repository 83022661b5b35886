//! audit.csv (advanced audit policy, MS-GPAC): a writer in the GPMC form and a reader for both
//! the GPO form and `auditpol /backup` output.
//!
//! Written as UTF-8 without a BOM (Samba, one of the consumers tests use, would read a BOM as
//! part of the first column name) and CRLF, after the fixed header. A field is quoted, with
//! `"` doubled, when it contains `,`, `"`, a control character or a line separator, so every
//! row reads back exactly.
//!
//! Only the subcategory GUID and the setting value matter to the client (the names are for
//! people), so the reader checks those: a subcategory row needs a `{8-4-4-4-12}` GUID and a
//! numeric value. `Option:` rows and the `FileGlobalSacl` / `RegistryGlobalSacl` rows of an
//! `auditpol /backup` file carry no GUID. The reader takes LF or CRLF and an optional UTF-8 BOM.

use super::format_error::FormatError;

/// The header line, column for column.
pub const HEADER: [&str; 7] = [
    "Machine Name",
    "Policy Target",
    "Subcategory",
    "Subcategory GUID",
    "Inclusion Setting",
    "Exclusion Setting",
    "Setting Value",
];

/// One row of audit.csv.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AuditRow {
    pub machine_name: String,
    /// `System` for subcategory rows; empty for option and global-SACL rows.
    pub policy_target: String,
    /// The subcategory name (for people only), `Option:…`, or `FileGlobalSacl`/`RegistryGlobalSacl`.
    pub subcategory: String,
    /// `{0CCE9215-69AE-11D9-BED3-505054503030}` for subcategory rows; empty otherwise.
    pub guid: String,
    pub inclusion: String,
    pub exclusion: String,
    /// 0 none/unchanged, 1 success, 2 failure, 3 both (subcategory rows); raw text otherwise.
    pub value: String,
}

impl AuditRow {
    /// Whether this row sets an audit subcategory (rather than an option or a global SACL).
    pub fn is_subcategory(&self) -> bool {
        !self.subcategory.starts_with("Option:")
            && self.subcategory != "FileGlobalSacl"
            && self.subcategory != "RegistryGlobalSacl"
    }

    fn fields(&self) -> [&str; 7] {
        [
            &self.machine_name,
            &self.policy_target,
            &self.subcategory,
            &self.guid,
            &self.inclusion,
            &self.exclusion,
            &self.value,
        ]
    }
}

/// Whether `s` is a braced GUID, `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}`, in either case.
pub fn is_braced_guid(s: &str) -> bool {
    let Some(inner) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
        return false;
    };
    let groups: Vec<&str> = inner.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether a reader could end a record inside the field: a control character or a Unicode
/// line separator (Python's line splitting, which Samba's reader uses, breaks at those).
fn needs_quotes(field: &str) -> bool {
    field
        .chars()
        .any(|c| matches!(c, ',' | '"' | '\u{2028}' | '\u{2029}') || c.is_control())
}

fn push_field(out: &mut String, field: &str) {
    if needs_quotes(field) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

fn push_row(out: &mut String, fields: &[&str]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_field(out, field);
    }
    out.push_str("\r\n");
}

/// Writes audit.csv: UTF-8 without a BOM, CRLF, the header, then the rows in order.
pub fn write(rows: &[AuditRow]) -> Vec<u8> {
    let mut out = String::new();
    push_row(&mut out, &HEADER);
    for row in rows {
        push_row(&mut out, &row.fields());
    }
    out.into_bytes()
}

/// Reads audit.csv in the GPO form or the `auditpol /backup` form; errors name the line.
pub fn parse(bytes: &[u8]) -> Result<Vec<AuditRow>, FormatError> {
    let (text, base) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest, 3),
        None => (bytes, 0),
    };
    let text = std::str::from_utf8(text).map_err(|e| {
        let at = e.valid_up_to();
        let line = 1 + text[..at].iter().filter(|&&b| b == b'\n').count();
        FormatError::at_line(line, base + at, "not UTF-8 text")
    })?;
    let records = records(text, base)?;
    let mut records = records.into_iter();
    let Some(header) = records.next() else {
        return Err(FormatError::at_line(
            1,
            base,
            "empty file: the header line is missing",
        ));
    };
    if header.fields != HEADER {
        return Err(FormatError::at_line(
            header.line,
            header.offset,
            format!(
                "the header must be `{}`, found `{}`",
                HEADER.join(","),
                header.fields.join(",")
            ),
        ));
    }
    let mut rows = Vec::new();
    for record in records {
        let err = |message: String| FormatError::at_line(record.line, record.offset, message);
        let count = record.fields.len();
        let Ok([machine_name, policy_target, subcategory, guid, inclusion, exclusion, value]) =
            <[String; 7]>::try_from(record.fields)
        else {
            return Err(err(format!("{count} columns where the header has 7")));
        };
        let row = AuditRow {
            machine_name,
            policy_target,
            subcategory,
            guid,
            inclusion,
            exclusion,
            value,
        };
        if row.is_subcategory() {
            if !is_braced_guid(&row.guid) {
                return Err(err(format!(
                    "subcategory `{}`: `{}` is not a GUID in braces",
                    row.subcategory, row.guid
                )));
            }
            if row.value.parse::<u32>().is_err() {
                return Err(err(format!(
                    "subcategory `{}`: setting value `{}` is not a number",
                    row.subcategory, row.value
                )));
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

struct Record {
    line: usize,
    offset: usize,
    fields: Vec<String>,
}

/// Splits CSV text into records: fields separated by `,`, records by CRLF or LF, `"` quoting
/// with `""` for a quote (a quoted field may span lines). Empty lines are skipped.
fn records(text: &str, base: usize) -> Result<Vec<Record>, FormatError> {
    let mut out = Vec::new();
    let mut line = 1;
    let mut chars = text.char_indices().peekable();
    while chars.peek().is_some() {
        let (start, _) = *chars.peek().expect("peeked");
        let start_line = line;
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted_field = false;
        loop {
            let Some((i, c)) = chars.next() else {
                fields.push(std::mem::take(&mut field));
                break;
            };
            match c {
                '"' if field.is_empty() && !quoted_field => {
                    quoted_field = true;
                    loop {
                        match chars.next() {
                            None => {
                                return Err(FormatError::at_line(
                                    start_line,
                                    base + start,
                                    "a quoted field is not closed",
                                ))
                            }
                            Some((_, '"')) if chars.peek().map(|p| p.1) == Some('"') => {
                                chars.next();
                                field.push('"');
                            }
                            Some((_, '"')) => break,
                            Some((_, c)) => {
                                if c == '\n' {
                                    line += 1;
                                }
                                field.push(c);
                            }
                        }
                    }
                    match chars.peek().map(|p| p.1) {
                        None | Some(',' | '\r' | '\n') => {}
                        Some(_) => {
                            return Err(FormatError::at_line(
                                line,
                                base + i,
                                "text after the closing quote of a field",
                            ))
                        }
                    }
                }
                ',' => {
                    fields.push(std::mem::take(&mut field));
                    quoted_field = false;
                }
                '\r' if chars.peek().map(|p| p.1) == Some('\n') => {}
                '\n' => {
                    line += 1;
                    fields.push(std::mem::take(&mut field));
                    break;
                }
                '"' => {
                    return Err(FormatError::at_line(
                        line,
                        base + i,
                        "a `\"` inside an unquoted field",
                    ))
                }
                c => field.push(c),
            }
        }
        if !(fields.len() == 1 && fields[0].is_empty() && !quoted_field) {
            out.push(Record {
                line: start_line,
                offset: base + start,
                fields,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(subcategory: &str, guid: &str, inclusion: &str, value: &str) -> AuditRow {
        AuditRow {
            machine_name: String::new(),
            policy_target: "System".into(),
            subcategory: subcategory.into(),
            guid: guid.into(),
            inclusion: inclusion.into(),
            exclusion: String::new(),
            value: value.into(),
        }
    }

    #[test]
    fn writes_the_gpmc_form() {
        let rows = [row(
            "Audit Logon",
            "{0cce9215-69ae-11d9-bed3-505054503030}",
            "Success and Failure",
            "3",
        )];
        let bytes = write(&rows);
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            "Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,Exclusion Setting,Setting Value\r\n\
             ,System,Audit Logon,{0cce9215-69ae-11d9-bed3-505054503030},Success and Failure,,3\r\n"
        );
        assert_eq!(parse(&bytes).unwrap(), rows);
    }

    #[test]
    fn quotes_fields_that_need_it() {
        let mut r = row(
            "Audit \"x\", y",
            "{0cce9215-69ae-11d9-bed3-505054503030}",
            "a\r\nb",
            "1",
        );
        r.machine_name = "M,1".into();
        let bytes = write(std::slice::from_ref(&r));
        assert!(String::from_utf8_lossy(&bytes).contains("\"M,1\",System,\"Audit \"\"x\"\", y\""));
        assert_eq!(parse(&bytes).unwrap(), vec![r]);
    }

    #[test]
    fn reads_auditpol_backup_rows_with_lf_and_bom() {
        let text = "\u{feff}Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,Exclusion Setting,Setting Value\n\
                    PC,System,Logon,{0CCE9215-69AE-11D9-BED3-505054503030},Success and Failure,,3\n\
                    PC,,Option:CrashOnAuditFail,,Disabled,,0\n\
                    PC,,FileGlobalSacl,,,,\n";
        let rows = parse(text.as_bytes()).unwrap();
        assert_eq!(rows.len(), 3);
        assert!(rows[0].is_subcategory());
        assert!(!rows[1].is_subcategory() && !rows[2].is_subcategory());
    }

    #[test]
    fn errors_name_the_line() {
        let head = HEADER.join(",");
        let e =
            parse(format!("{head}\r\n,System,Audit Logon,{{0cce9215}},Success,,1\r\n").as_bytes())
                .unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().starts_with("line 2: "));
        let e = parse(format!("{head}\n\n,System,Audit Logon\n").as_bytes()).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("3 columns"));
        assert!(parse(b"Machine Name,Policy Target\r\n").is_err());
        assert!(parse(b"").is_err());
    }
}

//! A TOML document as a tree of spanned nodes, and a reader that checks it.
//!
//! Serde stops at the first problem in a file; an integrator fixing a profile
//! wants all of them. So files are parsed into [`Node`]s that keep every
//! key's and value's span, and typed values are pulled out through
//! [`Table`], which reports wrong types and missing keys as it goes and, when
//! [`Table::finish`] is called, every key nobody asked for — with a
//! "did you mean" drawn from the keys it does know.

use std::borrow::Cow;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::source::{FileId, Sp, Span};

/// A TOML date (datetimes and times are rejected where a date is expected).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Date {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Date> {
        let mut parts = text.split('-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        let date = Date {
            year: y.parse().ok()?,
            month: m.parse().ok()?,
            day: d.parse().ok()?,
        };
        date.is_valid().then_some(date)
    }

    fn is_valid(&self) -> bool {
        let leap = (self.year % 4 == 0 && self.year % 100 != 0) || self.year % 400 == 0;
        let days = match self.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return false,
        };
        self.day >= 1 && self.day <= days
    }

    /// Today's date in UTC.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        Date::from_days_since_epoch((secs / 86_400) as i64)
    }

    /// Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    pub fn from_days_since_epoch(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
        Date { year, month, day }
    }
}

/// A TOML value with its span.
#[derive(Clone, Debug)]
pub struct Node {
    pub span: Span,
    pub value: Value,
}

#[derive(Clone, Debug)]
pub enum Value {
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    /// A local date; other datetime forms keep their text.
    Date(Date),
    Datetime(String),
    Array(Vec<Node>),
    Table(Vec<(Sp<String>, Node)>),
}

impl Value {
    /// The TOML type name used in messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Boolean(_) => "a boolean",
            Value::Date(_) => "a date",
            Value::Datetime(_) => "a date-time",
            Value::Array(_) => "an array",
            Value::Table(_) => "a table",
        }
    }
}

/// Parses a TOML file; syntax errors go to `diags` (all of them) and yield `None`.
pub fn parse(file: FileId, text: &str, diags: &mut Diagnostics) -> Option<Node> {
    let (root, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        for e in errors {
            let range = e.span().unwrap_or(0..0);
            let message = first_line(e.message());
            diags.push(
                Diagnostic::error(Code::Syntax, format!("invalid TOML: {message}"))
                    .at(Span::new(file, clamp(range, text.len())), message),
            );
        }
        return None;
    }
    let span = Span::new(file, 0..text.len());
    Some(Node {
        span,
        value: convert_table(file, root.into_inner()),
    })
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or("").trim().to_string()
}

fn clamp(range: std::ops::Range<usize>, len: usize) -> std::ops::Range<usize> {
    let start = range.start.min(len);
    start..range.end.clamp(start, len)
}

fn convert_table(file: FileId, table: DeTable<'_>) -> Value {
    let mut entries: Vec<(Sp<String>, Node)> = table
        .into_iter()
        .map(|(k, v)| {
            let key_span = Span::new(file, k.span());
            (
                Sp::new(k.into_inner().into_owned(), key_span),
                convert(file, v),
            )
        })
        .collect();
    entries.sort_by_key(|(k, _)| k.span.start);
    Value::Table(entries)
}

fn convert(file: FileId, node: Spanned<DeValue<'_>>) -> Node {
    let span = Span::new(file, node.span());
    let value = match node.into_inner() {
        DeValue::String(s) => Value::String(Cow::into_owned(s)),
        DeValue::Integer(i) => {
            let digits: String = i.as_str().chars().filter(|c| *c != '_').collect();
            let digits = digits
                .trim_start_matches("0x")
                .trim_start_matches("0o")
                .trim_start_matches("0b");
            match i64::from_str_radix(digits, i.radix()) {
                Ok(v) => Value::Integer(v),
                Err(_) => Value::Float(f64::NAN),
            }
        }
        DeValue::Float(f) => Value::Float(f.as_str().replace('_', "").parse().unwrap_or(f64::NAN)),
        DeValue::Boolean(b) => Value::Boolean(b),
        DeValue::Datetime(d) => match (d.date, d.time, d.offset) {
            (Some(date), None, None) => Value::Date(Date {
                year: date.year,
                month: date.month,
                day: date.day,
            }),
            _ => Value::Datetime(d.to_string()),
        },
        DeValue::Array(items) => {
            Value::Array(items.into_iter().map(|v| convert(file, v)).collect())
        }
        DeValue::Table(t) => convert_table(file, t),
    };
    Node { span, value }
}

/// Reads the entries of one TOML table, reporting problems as it goes.
pub struct Table<'a> {
    /// How the table is named in messages, e.g. `[profile]` or `control COM-FW-001`.
    pub name: String,
    pub span: Span,
    entries: &'a [(Sp<String>, Node)],
    used: Vec<bool>,
}

impl<'a> Table<'a> {
    /// Views `node` as a table; reports `wrong-type` otherwise.
    pub fn of(
        node: &'a Node,
        name: impl Into<String>,
        diags: &mut Diagnostics,
    ) -> Option<Table<'a>> {
        let name = name.into();
        match &node.value {
            Value::Table(entries) => Some(Table {
                name,
                span: node.span,
                entries,
                used: vec![false; entries.len()],
            }),
            other => {
                diags.push(
                    Diagnostic::error(
                        Code::WrongType,
                        format!("expected a table for {name}, found {}", other.type_name()),
                    )
                    .at(node.span, "expected a table"),
                );
                None
            }
        }
    }

    /// The raw node under `key`, marking it as known.
    pub fn get(&mut self, key: &str) -> Option<&'a Node> {
        let i = self.entries.iter().position(|(k, _)| k.value == key)?;
        self.used[i] = true;
        Some(&self.entries[i].1)
    }

    /// The span of the key itself (for "missing" or "unknown" labels).
    pub fn key_span(&self, key: &str) -> Option<Span> {
        self.entries
            .iter()
            .find(|(k, _)| k.value == key)
            .map(|(k, _)| k.span)
    }

    /// Every entry, marking all as known (for free-form maps like `[params]`).
    pub fn all(&mut self) -> &'a [(Sp<String>, Node)] {
        self.used.iter_mut().for_each(|u| *u = true);
        self.entries
    }

    fn wrong_type(&self, key: &str, node: &Node, expected: &str, diags: &mut Diagnostics) {
        diags.push(
            Diagnostic::error(
                Code::WrongType,
                format!(
                    "expected {expected} for `{key}` in {}, found {}",
                    self.name,
                    node.value.type_name()
                ),
            )
            .at(node.span, format!("expected {expected}")),
        );
    }

    fn missing(&self, key: &str, diags: &mut Diagnostics) {
        diags.push(
            Diagnostic::error(
                Code::MissingKey,
                format!("missing key `{key}` in {}", self.name),
            )
            .at(self.header_span(), format!("`{key}` is required here")),
        );
    }

    /// A short span to point at for the table as a whole: its `[header]`, or else its first key.
    pub fn header_span(&self) -> Span {
        match self.entries.first() {
            // A `[table]` header's span ends before its keys; inline tables and the root contain them.
            Some((k, _)) if k.span.start < self.span.end => k.span,
            _ => self.span,
        }
    }

    pub fn string(&mut self, key: &str, diags: &mut Diagnostics) -> Option<Sp<String>> {
        let node = self.get(key)?;
        match &node.value {
            Value::String(s) => Some(Sp::new(s.clone(), node.span)),
            _ => {
                self.wrong_type(key, node, "a string", diags);
                None
            }
        }
    }

    pub fn req_string(&mut self, key: &str, diags: &mut Diagnostics) -> Option<Sp<String>> {
        if self.get(key).is_none() {
            self.missing(key, diags);
            return None;
        }
        self.string(key, diags)
    }

    pub fn int(&mut self, key: &str, diags: &mut Diagnostics) -> Option<Sp<i64>> {
        let node = self.get(key)?;
        match &node.value {
            Value::Integer(i) => Some(Sp::new(*i, node.span)),
            _ => {
                self.wrong_type(key, node, "an integer", diags);
                None
            }
        }
    }

    pub fn bool(&mut self, key: &str, diags: &mut Diagnostics) -> Option<Sp<bool>> {
        let node = self.get(key)?;
        match &node.value {
            Value::Boolean(b) => Some(Sp::new(*b, node.span)),
            _ => {
                self.wrong_type(key, node, "a boolean", diags);
                None
            }
        }
    }

    /// A date, written either as a TOML local date (`2027-03-31`) or a string.
    pub fn date(&mut self, key: &str, diags: &mut Diagnostics) -> Option<Sp<Date>> {
        let node = self.get(key)?;
        match &node.value {
            Value::Date(d) => Some(Sp::new(*d, node.span)),
            Value::String(s) => match Date::parse(s) {
                Some(d) => Some(Sp::new(d, node.span)),
                None => {
                    diags.push(
                        Diagnostic::error(
                            Code::InvalidValue,
                            format!("`{key}` in {} is not a date", self.name),
                        )
                        .at(node.span, "expected a date such as 2027-03-31"),
                    );
                    None
                }
            },
            _ => {
                self.wrong_type(key, node, "a date", diags);
                None
            }
        }
    }

    pub fn req_date(&mut self, key: &str, diags: &mut Diagnostics) -> Option<Sp<Date>> {
        if self.get(key).is_none() {
            self.missing(key, diags);
            return None;
        }
        self.date(key, diags)
    }

    /// An array of strings; a lone string is not accepted.
    pub fn strings(&mut self, key: &str, diags: &mut Diagnostics) -> Option<Sp<Vec<Sp<String>>>> {
        let node = self.get(key)?;
        match &node.value {
            Value::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    match &item.value {
                        Value::String(s) => out.push(Sp::new(s.clone(), item.span)),
                        _ => self.wrong_type(key, item, "a string", diags),
                    }
                }
                Some(Sp::new(out, node.span))
            }
            _ => {
                self.wrong_type(key, node, "an array of strings", diags);
                None
            }
        }
    }

    /// A nested table.
    pub fn table(&mut self, key: &str, diags: &mut Diagnostics) -> Option<Table<'a>> {
        let node = self.get(key)?;
        Table::of(node, format!("`{key}` in {}", self.name), diags)
    }

    /// Reports every key that was never asked for.
    pub fn finish(self, known: &[&str], diags: &mut Diagnostics) {
        for (i, (key, _)) in self.entries.iter().enumerate() {
            if self.used[i] {
                continue;
            }
            let mut d = Diagnostic::error(
                Code::UnknownKey,
                format!("unknown key `{}` in {}", key.value, self.name),
            )
            .at(key.span, "not a known key");
            let close = similar::get_close_matches(key.value.as_str(), known, 1, 0.6);
            if let Some(best) = close.first() {
                d = d.note(format!("help: did you mean `{best}`?"));
            } else if !known.is_empty() {
                d = d.note(format!("expected one of: {}", known.join(", ")));
            }
            diags.push(d);
        }
    }
}

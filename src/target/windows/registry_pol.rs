//! registry.pol (PReg version 1): a typed writer and a strict reader.
//!
//! Layout (MS-GPREG 2.2.1): the 8-byte header `PReg` + u32 LE 1, then instructions
//! `[key NUL ; value NUL ; type(u32 LE) ; size(u32 LE) ; data ]` where the brackets and
//! semicolons are UTF-16LE code units and type and size are raw little-endian integers. There
//! is no count and no terminator: the body ends at the end of the file, and a header-only file
//! (8 bytes) is a valid, empty policy.
//!
//! Key and value names are NUL-terminated and the data is sized, so `[`, `]` and `;` inside a
//! name or a string are plain characters and round-trip. What the format cannot carry is
//! refused by [`write`] instead: a NUL inside a name or a string (it would end it early), an
//! empty item in a REG_MULTI_SZ (it would end the list), control characters in key and value
//! names, empty key-path components, names longer than the registry allows, and data over the
//! 65535-byte limit of the specification.
//!
//! The reader accepts what Windows and GPMC write: REG_NONE "key only" records, REG_SZ with or
//! without the NUL terminator, and a REG_MULTI_SZ whose final extra NUL is missing. It rejects
//! anything it cannot read losslessly (another version, an unknown type, a NUL in the middle of
//! a string, broken UTF-16), naming the byte offset.

use super::format_error::FormatError;

/// The 8-byte header: `PReg` and version 1 as a 32-bit little-endian number.
pub const HEADER: [u8; 8] = *b"PReg\x01\x00\x00\x00";

/// The largest data size MS-GPREG allows in one instruction.
pub const MAX_DATA: usize = 0xFFFF;
/// The longest value name MS-GPREG allows, in UTF-16 code units.
pub const MAX_VALUE_NAME: usize = 259;
/// The longest registry key name (one path component), in UTF-16 code units.
pub const MAX_KEY_COMPONENT: usize = 255;

const OPEN: u16 = b'[' as u16;
const SEMI: u16 = b';' as u16;
const CLOSE: u16 = b']' as u16;

/// The data of one registry.pol instruction.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PolData {
    /// REG_NONE with no data: "create the key only".
    None,
    Sz(String),
    ExpandSz(String),
    Binary(Vec<u8>),
    Dword(u32),
    MultiSz(Vec<String>),
    Qword(u64),
}

impl PolData {
    /// The REG_* type code written in the instruction.
    pub fn type_code(&self) -> u32 {
        match self {
            PolData::None => 0,
            PolData::Sz(_) => 1,
            PolData::ExpandSz(_) => 2,
            PolData::Binary(_) => 3,
            PolData::Dword(_) => 4,
            PolData::MultiSz(_) => 7,
            PolData::Qword(_) => 11,
        }
    }

    /// The name Windows uses for the type, such as `REG_DWORD`.
    pub fn type_name(&self) -> &'static str {
        match self {
            PolData::None => "REG_NONE",
            PolData::Sz(_) => "REG_SZ",
            PolData::ExpandSz(_) => "REG_EXPAND_SZ",
            PolData::Binary(_) => "REG_BINARY",
            PolData::Dword(_) => "REG_DWORD",
            PolData::MultiSz(_) => "REG_MULTI_SZ",
            PolData::Qword(_) => "REG_QWORD",
        }
    }
}

/// One instruction: a key (without hive), a value name and its data.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PolEntry {
    pub key: String,
    pub value: String,
    pub data: PolData,
}

impl PolEntry {
    pub fn new(key: impl Into<String>, value: impl Into<String>, data: PolData) -> Self {
        PolEntry {
            key: key.into(),
            value: value.into(),
            data,
        }
    }

    /// `**delvals.`: delete every value under `key` before the values that follow are set.
    pub fn delete_values(key: impl Into<String>) -> Self {
        PolEntry::new(key, "**delvals.", PolData::Sz(" ".into()))
    }

    /// `**del.NAME`: delete one value.
    pub fn delete(key: impl Into<String>, name: &str) -> Self {
        PolEntry::new(key, format!("**del.{name}"), PolData::Sz(" ".into()))
    }
}

/// Writes a registry.pol: the header, then the instructions in the given order.
///
/// Refuses (naming the key and value) what the format cannot carry; see the module notes.
pub fn write(entries: &[PolEntry]) -> Result<Vec<u8>, String> {
    let mut out = HEADER.to_vec();
    for entry in entries {
        check(entry).map_err(|problem| {
            format!(
                "registry.pol: cannot write [{}] value `{}`: {problem}",
                entry.key.escape_debug(),
                entry.value.escape_debug()
            )
        })?;
        let data = encode_data(&entry.data);
        push_unit(&mut out, OPEN);
        push_str_nul(&mut out, &entry.key);
        push_unit(&mut out, SEMI);
        push_str_nul(&mut out, &entry.value);
        push_unit(&mut out, SEMI);
        out.extend_from_slice(&entry.data.type_code().to_le_bytes());
        push_unit(&mut out, SEMI);
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        push_unit(&mut out, SEMI);
        out.extend_from_slice(&data);
        push_unit(&mut out, CLOSE);
    }
    Ok(out)
}

fn check(entry: &PolEntry) -> Result<(), String> {
    if entry.key.is_empty() {
        return Err("the key is empty".into());
    }
    for component in entry.key.split('\\') {
        if component.is_empty() {
            return Err("the key has an empty path component".into());
        }
        if component.encode_utf16().count() > MAX_KEY_COMPONENT {
            return Err(format!(
                "a key name is longer than {MAX_KEY_COMPONENT} characters"
            ));
        }
    }
    if entry.key.chars().any(char::is_control) {
        return Err("the key contains a control character".into());
    }
    if entry.value.chars().any(char::is_control) {
        return Err("the value name contains a control character".into());
    }
    if entry.value.encode_utf16().count() > MAX_VALUE_NAME {
        return Err(format!(
            "the value name is longer than {MAX_VALUE_NAME} characters"
        ));
    }
    match &entry.data {
        PolData::Sz(s) | PolData::ExpandSz(s) if s.contains('\0') => {
            return Err("the string contains NUL, which would end it early".into());
        }
        PolData::MultiSz(items) => {
            if items.iter().any(|i| i.is_empty()) {
                return Err("a REG_MULTI_SZ item is empty, which would end the list".into());
            }
            if items.iter().any(|i| i.contains('\0')) {
                return Err("a REG_MULTI_SZ item contains NUL, which would split it".into());
            }
        }
        _ => {}
    }
    let size = encode_data(&entry.data).len();
    if size > MAX_DATA {
        return Err(format!(
            "the data is {size} bytes; registry.pol allows at most {MAX_DATA}"
        ));
    }
    Ok(())
}

fn push_unit(out: &mut Vec<u8>, unit: u16) {
    out.extend_from_slice(&unit.to_le_bytes());
}

fn push_str(out: &mut Vec<u8>, s: &str) {
    for unit in s.encode_utf16() {
        push_unit(out, unit);
    }
}

fn push_str_nul(out: &mut Vec<u8>, s: &str) {
    push_str(out, s);
    push_unit(out, 0);
}

fn encode_data(data: &PolData) -> Vec<u8> {
    let mut out = Vec::new();
    match data {
        PolData::None => {}
        PolData::Sz(s) | PolData::ExpandSz(s) => push_str_nul(&mut out, s),
        PolData::Binary(b) => out.extend_from_slice(b),
        PolData::Dword(n) => out.extend_from_slice(&n.to_le_bytes()),
        PolData::Qword(n) => out.extend_from_slice(&n.to_le_bytes()),
        PolData::MultiSz(items) => {
            for item in items {
                push_str_nul(&mut out, item);
            }
            push_unit(&mut out, 0);
        }
    }
    out
}

/// Reads a registry.pol strictly; the error names the byte offset of the problem.
pub fn parse(bytes: &[u8]) -> Result<Vec<PolEntry>, FormatError> {
    let mut reader = Reader { bytes, pos: 0 };
    reader.header()?;
    let mut entries = Vec::new();
    while reader.pos < bytes.len() {
        entries.push(reader.instruction()?);
    }
    Ok(entries)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn header(&mut self) -> Result<(), FormatError> {
        if self.bytes.is_empty() {
            return Err(FormatError::at_offset(
                0,
                "empty file: a registry.pol has at least the 8-byte PReg header",
            ));
        }
        if self.bytes.len() < 4 || &self.bytes[..4] != b"PReg" {
            return Err(FormatError::at_offset(
                0,
                "not a registry.pol file: the PReg signature is missing",
            ));
        }
        self.pos = 4;
        let version = self.u32("the version")?;
        if version != 1 {
            return Err(FormatError::at_offset(
                4,
                format!("unsupported registry.pol version {version} (only version 1 exists)"),
            ));
        }
        Ok(())
    }

    fn truncated(&self, what: &str) -> FormatError {
        FormatError::at_offset(self.pos, format!("truncated: the file ends before {what}"))
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&[u8], FormatError> {
        if self.bytes.len() - self.pos < n {
            return Err(self.truncated(what));
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    fn unit(&mut self, what: &str) -> Result<u16, FormatError> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, what: &str) -> Result<u32, FormatError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn expect(&mut self, unit: u16, what: &str) -> Result<(), FormatError> {
        let at = self.pos;
        let found = self.unit(what)?;
        if found != unit {
            return Err(FormatError::at_offset(
                at,
                format!(
                    "expected `{}` {what}, found 0x{found:04X}",
                    char::from(unit as u8)
                ),
            ));
        }
        Ok(())
    }

    /// A NUL-terminated UTF-16LE name.
    fn name(&mut self, what: &str) -> Result<String, FormatError> {
        let start = self.pos;
        let mut units = Vec::new();
        loop {
            let unit = self.unit(&format!("the NUL that ends {what}"))?;
            if unit == 0 {
                break;
            }
            units.push(unit);
        }
        decode(&units, start, what)
    }

    fn instruction(&mut self) -> Result<PolEntry, FormatError> {
        self.expect(OPEN, "at the start of an instruction")?;
        let key_at = self.pos;
        let key = self.name("the key")?;
        if key.is_empty() {
            return Err(FormatError::at_offset(key_at, "empty key"));
        }
        self.expect(SEMI, "after the key")?;
        let value = self.name("the value name")?;
        self.expect(SEMI, "after the value name")?;
        let type_at = self.pos;
        let reg_type = self.u32("the type")?;
        self.expect(SEMI, "after the type")?;
        let size_at = self.pos;
        let size = self.u32("the size")? as usize;
        self.expect(SEMI, "after the size")?;
        if self.bytes.len() - self.pos < size {
            return Err(FormatError::at_offset(
                size_at,
                format!(
                    "size {size} runs past the end of the file ({} bytes left)",
                    self.bytes.len() - self.pos
                ),
            ));
        }
        let data_at = self.pos;
        let raw = self.take(size, "the data")?;
        let data = data(reg_type, raw, type_at, data_at)?;
        self.expect(CLOSE, "at the end of an instruction")?;
        Ok(PolEntry { key, value, data })
    }
}

fn decode(units: &[u16], at: usize, what: &str) -> Result<String, FormatError> {
    String::from_utf16(units).map_err(|_| {
        let index = first_unpaired_surrogate(units);
        FormatError::at_offset(
            at + 2 * index,
            format!(
                "invalid UTF-16 in {what}: unpaired surrogate 0x{:04X}",
                units[index]
            ),
        )
    })
}

fn first_unpaired_surrogate(units: &[u16]) -> usize {
    let mut i = 0;
    while i < units.len() {
        match units[i] {
            0xD800..=0xDBFF if matches!(units.get(i + 1), Some(0xDC00..=0xDFFF)) => i += 2,
            0xD800..=0xDFFF => return i,
            _ => i += 1,
        }
    }
    0
}

fn units_of(raw: &[u8], at: usize, type_name: &str) -> Result<Vec<u16>, FormatError> {
    if raw.len() % 2 != 0 {
        return Err(FormatError::at_offset(
            at,
            format!(
                "{type_name} data has an odd size ({}); UTF-16 needs an even one",
                raw.len()
            ),
        ));
    }
    Ok(raw
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect())
}

fn data(reg_type: u32, raw: &[u8], type_at: usize, at: usize) -> Result<PolData, FormatError> {
    let fixed = |n: usize, name: &str| {
        if raw.len() == n {
            Ok(())
        } else {
            Err(FormatError::at_offset(
                at,
                format!("{name} data must be {n} bytes, found {}", raw.len()),
            ))
        }
    };
    Ok(match reg_type {
        0 => {
            if !raw.is_empty() {
                return Err(FormatError::at_offset(
                    at,
                    format!("REG_NONE with {} bytes of data", raw.len()),
                ));
            }
            PolData::None
        }
        1 | 2 => {
            let name = if reg_type == 1 {
                "REG_SZ"
            } else {
                "REG_EXPAND_SZ"
            };
            let units = units_of(raw, at, name)?;
            let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
            if let Some(i) = units[end..].iter().position(|&u| u != 0) {
                return Err(FormatError::at_offset(
                    at + 2 * (end + i),
                    format!("{name} data goes on after a NUL"),
                ));
            }
            let s = decode(&units[..end], at, name)?;
            if reg_type == 1 {
                PolData::Sz(s)
            } else {
                PolData::ExpandSz(s)
            }
        }
        3 => PolData::Binary(raw.to_vec()),
        4 => {
            fixed(4, "REG_DWORD")?;
            PolData::Dword(u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]))
        }
        7 => {
            let units = units_of(raw, at, "REG_MULTI_SZ")?;
            let mut items = Vec::new();
            let mut start = 0;
            let mut i = 0;
            while i < units.len() {
                if units[i] == 0 {
                    if i == start {
                        if let Some(j) = units[i..].iter().position(|&u| u != 0) {
                            return Err(FormatError::at_offset(
                                at + 2 * (i + j),
                                "REG_MULTI_SZ data goes on after the end of the list",
                            ));
                        }
                        break;
                    }
                    items.push(decode(&units[start..i], at + 2 * start, "REG_MULTI_SZ")?);
                    start = i + 1;
                }
                i += 1;
            }
            if i == units.len() && start < units.len() {
                return Err(FormatError::at_offset(
                    at + 2 * start,
                    "REG_MULTI_SZ item is not NUL-terminated",
                ));
            }
            PolData::MultiSz(items)
        }
        11 => {
            fixed(8, "REG_QWORD")?;
            let mut b = [0u8; 8];
            b.copy_from_slice(raw);
            PolData::Qword(u64::from_le_bytes(b))
        }
        other => {
            return Err(FormatError::at_offset(
                type_at,
                format!("unsupported registry type {other}"),
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_type() -> Vec<PolEntry> {
        vec![
            PolEntry::new(r"Software\Policies\A", "", PolData::None),
            PolEntry::new(r"Software\Policies\A", "Sz", PolData::Sz("Block".into())),
            PolEntry::new(
                r"Software\Policies\A",
                "Exp",
                PolData::ExpandSz(r"%windir%\x".into()),
            ),
            PolEntry::new(
                r"Software\Policies\A",
                "Bin",
                PolData::Binary(vec![0, 1, 255]),
            ),
            PolEntry::new(r"Software\Policies\A", "D", PolData::Dword(0xDEAD_BEEF)),
            PolEntry::new(
                r"Software\Policies\A",
                "M",
                PolData::MultiSz(vec!["a".into(), "b;c".into()]),
            ),
            PolEntry::new(r"Software\Policies\A", "M0", PolData::MultiSz(vec![])),
            PolEntry::new(r"Software\Policies\A", "Q", PolData::Qword(u64::MAX)),
            PolEntry::delete_values(r"Software\Policies\A"),
            PolEntry::delete(r"Software\Policies\A", "Old"),
        ]
    }

    #[test]
    fn header_only_is_an_empty_policy() {
        assert_eq!(write(&[]).unwrap(), HEADER);
        assert_eq!(parse(&HEADER).unwrap(), vec![]);
    }

    #[test]
    fn every_type_round_trips() {
        let entries = every_type();
        let bytes = write(&entries).unwrap();
        assert_eq!(parse(&bytes).unwrap(), entries);
    }

    #[test]
    fn strings_include_the_nul_in_their_size() {
        let bytes = write(&[PolEntry::new("K", "V", PolData::Sz("Block".into()))]).unwrap();
        // [ K NUL ; V NUL ; type ; size
        let size_at = 8 + 2 + 4 + 2 + 4 + 2 + 4 + 2;
        assert_eq!(&bytes[size_at..size_at + 4], &12u32.to_le_bytes());
        let del = write(&[PolEntry::delete("K", "X")]).unwrap();
        assert_eq!(parse(&del).unwrap()[0].value, "**del.X");
    }

    #[test]
    fn empty_and_wrong_files_are_errors_at_an_offset() {
        let e = parse(b"").unwrap_err();
        assert_eq!((e.line, e.offset), (0, 0));
        assert!(e.to_string().starts_with("byte offset 0: empty file"));
        assert!(parse(b"PRef\x01\0\0\0").is_err());
        let e = parse(b"PReg\x02\0\0\0").unwrap_err();
        assert_eq!(e.offset, 4);
        assert!(e.message.contains("version 2"));
        let e = parse(b"PReg\x01\0").unwrap_err();
        assert!(e.message.contains("truncated"));
    }

    #[test]
    fn truncation_anywhere_is_an_error() {
        let entries = every_type();
        let bytes = write(&entries).unwrap();
        let boundaries: Vec<usize> = (0..=entries.len())
            .map(|n| write(&entries[..n]).unwrap().len())
            .collect();
        for len in (1..bytes.len()).filter(|l| !boundaries.contains(l)) {
            let e = parse(&bytes[..len]);
            assert!(e.is_err(), "a file cut at {len} bytes parsed");
        }
    }

    #[test]
    fn size_past_the_end_names_the_size_field() {
        let mut bytes = write(&[PolEntry::new("K", "V", PolData::Dword(1))]).unwrap();
        let size_at = 8 + 2 + 4 + 2 + 4 + 2 + 4 + 2;
        bytes[size_at..size_at + 4].copy_from_slice(&1000u32.to_le_bytes());
        let e = parse(&bytes).unwrap_err();
        assert_eq!(e.offset, size_at);
    }

    #[test]
    fn the_writer_refuses_what_cannot_be_carried() {
        let refused = [
            PolEntry::new("", "V", PolData::Dword(1)),
            PolEntry::new(r"A\\B", "V", PolData::Dword(1)),
            PolEntry::new(r"A\", "V", PolData::Dword(1)),
            PolEntry::new("A\0B", "V", PolData::Dword(1)),
            PolEntry::new("A", "V\0", PolData::Dword(1)),
            PolEntry::new("A", "V", PolData::Sz("a\0b".into())),
            PolEntry::new("A", "V", PolData::MultiSz(vec!["".into()])),
            PolEntry::new("A", "V", PolData::MultiSz(vec!["a\0".into()])),
            PolEntry::new("A", "x".repeat(260), PolData::Dword(1)),
            PolEntry::new("A", "V", PolData::Binary(vec![0; MAX_DATA + 1])),
        ];
        for entry in refused {
            assert!(
                write(std::slice::from_ref(&entry)).is_err(),
                "{entry:?} was written"
            );
        }
        let brackets = PolEntry::new(r"A[1];]\B", "v;]", PolData::Sz("];[".into()));
        let bytes = write(std::slice::from_ref(&brackets)).unwrap();
        assert_eq!(parse(&bytes).unwrap(), vec![brackets]);
    }

    #[test]
    fn lenient_forms_windows_writes_are_read() {
        // REG_SZ without its NUL, and a multi-string without the final extra NUL.
        let mut bytes = HEADER.to_vec();
        for (ty, data) in [(1u32, "ab"), (7, "a\0")] {
            push_unit(&mut bytes, OPEN);
            push_str_nul(&mut bytes, "K");
            push_unit(&mut bytes, SEMI);
            push_str_nul(&mut bytes, "V");
            push_unit(&mut bytes, SEMI);
            bytes.extend_from_slice(&ty.to_le_bytes());
            push_unit(&mut bytes, SEMI);
            let mut d = Vec::new();
            push_str(&mut d, data);
            bytes.extend_from_slice(&(d.len() as u32).to_le_bytes());
            push_unit(&mut bytes, SEMI);
            bytes.extend_from_slice(&d);
            push_unit(&mut bytes, CLOSE);
        }
        let entries = parse(&bytes).unwrap();
        assert_eq!(entries[0].data, PolData::Sz("ab".into()));
        assert_eq!(entries[1].data, PolData::MultiSz(vec!["a".into()]));
    }

    #[test]
    fn broken_utf16_is_an_error() {
        let mut bytes = HEADER.to_vec();
        push_unit(&mut bytes, OPEN);
        let at = bytes.len();
        push_unit(&mut bytes, 0xD800);
        push_unit(&mut bytes, 0);
        let e = parse(&bytes).unwrap_err();
        assert_eq!(e.offset, at);
        assert!(e.message.contains("surrogate"));
    }
}

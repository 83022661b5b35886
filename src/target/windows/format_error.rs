//! The error the Windows policy-file readers return: where in the file the problem is, and what.
//!
//! Text formats (GptTmpl.inf, audit.csv) point at a 1-based line; registry.pol, which is
//! binary, points at a byte offset. A collector snapshot that cannot be read is reported with
//! this position, never treated as empty.

use std::fmt;

/// A malformed policy file: the position of the problem and a message for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError {
    /// 1-based line for text formats; 0 for binary formats.
    pub line: usize,
    /// Byte offset of the problem (for text formats, of the start of the line).
    pub offset: usize,
    pub message: String,
}

impl FormatError {
    /// A problem on a line of a text format.
    pub fn at_line(line: usize, offset: usize, message: impl Into<String>) -> Self {
        FormatError {
            line,
            offset,
            message: message.into(),
        }
    }

    /// A problem at a byte offset of a binary format.
    pub fn at_offset(offset: usize, message: impl Into<String>) -> Self {
        FormatError {
            line: 0,
            offset,
            message: message.into(),
        }
    }
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            write!(f, "byte offset {}: {}", self.offset, self.message)
        }
    }
}

impl std::error::Error for FormatError {}

#[cfg(test)]
mod tests {
    use super::FormatError;

    #[test]
    fn display_names_the_line_or_the_offset() {
        assert_eq!(
            FormatError::at_line(3, 40, "bad GUID").to_string(),
            "line 3: bad GUID"
        );
        assert_eq!(
            FormatError::at_offset(8, "truncated").to_string(),
            "byte offset 8: truncated"
        );
    }
}

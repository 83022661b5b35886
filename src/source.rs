//! The files hardbase has read, and positions inside them.
//!
//! Every value that comes from a TOML file carries a [`Span`]: the file it was
//! read from and a byte range. Diagnostics and the desired-state model point
//! back at the line a user has to change through these spans, so the source
//! text of every file stays in one [`SourceMap`] for the whole run.

use std::ops::Range;

use codespan_reporting::files::{Files, SimpleFiles};

/// Index of a file in the [`SourceMap`].
pub type FileId = usize;

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(file: FileId, range: Range<usize>) -> Self {
        Span {
            file,
            start: range.start,
            end: range.end,
        }
    }

    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }
}

/// A value together with the place it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sp<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Sp<T> {
    pub fn new(value: T, span: Span) -> Self {
        Sp { value, span }
    }
}

/// A resolved, human-readable location: `file:line:col`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// All source files read in one run, by id.
pub struct SourceMap {
    /// Built-in sources borrow the text embedded in the program; files read are owned.
    files: SimpleFiles<String, std::borrow::Cow<'static, str>>,
    count: usize,
}

impl Default for SourceMap {
    fn default() -> Self {
        SourceMap {
            files: SimpleFiles::new(),
            count: 0,
        }
    }
}

impl SourceMap {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file under the name shown in diagnostics.
    pub fn add(
        &mut self,
        name: impl Into<String>,
        text: impl Into<std::borrow::Cow<'static, str>>,
    ) -> FileId {
        self.count += 1;
        self.files.add(name.into(), text.into())
    }

    pub fn name(&self, file: FileId) -> &str {
        self.files
            .get(file)
            .map(|f| f.name().as_str())
            .unwrap_or("?")
    }

    pub fn text(&self, file: FileId) -> &str {
        self.files
            .get(file)
            .map(|f| f.source().as_ref())
            .unwrap_or("")
    }

    /// The text a span covers.
    pub fn snippet(&self, span: Span) -> &str {
        self.text(span.file).get(span.range()).unwrap_or("")
    }

    /// Line and column (both 1-based, columns counted in characters).
    pub fn location(&self, span: Span) -> Location {
        let (line, column) = match self.files.location(span.file, span.start) {
            Ok(loc) => (loc.line_number, loc.column_number),
            Err(_) => (1, 1),
        };
        Location {
            file: self.name(span.file).to_string(),
            line,
            column,
        }
    }

    pub(crate) fn files(&self) -> &SimpleFiles<String, std::borrow::Cow<'static, str>> {
        &self.files
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

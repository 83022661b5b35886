//! Diagnostics: every problem with user input, collected rather than thrown.
//!
//! Stages push [`Diagnostic`]s into a [`Diagnostics`] sink and carry on, so one
//! run reports every problem at once. Each diagnostic has a stable [`Code`]
//! (part of the JSON output contract), a message, a primary label pointing at
//! the offending TOML and optional secondary labels and notes. Rendering as
//! text goes through codespan-reporting with ASCII characters so the output is
//! the familiar `error[code]: message` / `--> file:line:col` shape.

use codespan_reporting::diagnostic::{
    Diagnostic as CsDiagnostic, Label as CsLabel, Severity as CsSeverity,
};
use codespan_reporting::term::{self, termcolor::WriteColor, Chars, Config, DisplayStyle};
use serde::Serialize;

use crate::source::{Location, SourceMap, Span};

/// Stable diagnostic codes. The string form is part of the JSON contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// The file cannot be read.
    Io,
    /// TOML syntax error.
    Syntax,
    /// A key that the format does not know.
    UnknownKey,
    /// A required key is missing.
    MissingKey,
    /// A value of the wrong TOML type.
    WrongType,
    /// A value of the right type that is not allowed (bad address, unknown role …).
    InvalidValue,
    /// A profile sets a parameter no selected control declares.
    UnknownParam,
    /// A required parameter has no value.
    MissingParam,
    /// A reference to a control id that does not exist.
    UnknownControl,
    /// `extends` chains back onto itself.
    ExtendsCycle,
    /// An `extends` entry names a file that does not exist.
    MissingExtends,
    /// A waiver whose expiry date has passed.
    ExpiredWaiver,
    /// A control is excluded without a waiver.
    UnwaivedExclusion,
    /// A parameter weakens a control without a waiver.
    UnwaivedWeakening,
    /// Two controls set the same thing to different values.
    ConflictingSettings,
    /// A `secret` parameter has a value in a profile file.
    SecretInProfile,
    /// A catalog entry is inconsistent (duplicate id, bad setting, undeclared parameter …).
    InvalidControl,
    /// A profile that cannot be built for its platform or role.
    InvalidProfile,
    /// Something declared that has no effect: a waiver, exclusion or attestation, or an entry of
    /// a network device's access list that no terminal behind it needs.
    UnusedEntry,
    /// A firewall default-deny leaves a declared flow without an allow rule.
    BlockedFlow,
    /// Lockdown features that cannot work together (Shell Launcher with Assigned Access, a
    /// device restriction that blocks the terminal's own peripherals …).
    LockdownConflict,
    /// Script enforcement (AllSigned, AppLocker script rules, WDAC) without script signing:
    /// hardbase's own scripts would stop running.
    UnsignedScripts,
}

impl Code {
    pub const ALL: [Code; 22] = [
        Code::Io,
        Code::Syntax,
        Code::UnknownKey,
        Code::MissingKey,
        Code::WrongType,
        Code::InvalidValue,
        Code::UnknownParam,
        Code::MissingParam,
        Code::UnknownControl,
        Code::ExtendsCycle,
        Code::MissingExtends,
        Code::ExpiredWaiver,
        Code::UnwaivedExclusion,
        Code::UnwaivedWeakening,
        Code::ConflictingSettings,
        Code::SecretInProfile,
        Code::InvalidControl,
        Code::InvalidProfile,
        Code::UnusedEntry,
        Code::BlockedFlow,
        Code::LockdownConflict,
        Code::UnsignedScripts,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::Io => "io",
            Code::Syntax => "syntax",
            Code::UnknownKey => "unknown-key",
            Code::MissingKey => "missing-key",
            Code::WrongType => "wrong-type",
            Code::InvalidValue => "invalid-value",
            Code::UnknownParam => "unknown-param",
            Code::MissingParam => "missing-param",
            Code::UnknownControl => "unknown-control",
            Code::ExtendsCycle => "extends-cycle",
            Code::MissingExtends => "missing-extends",
            Code::ExpiredWaiver => "expired-waiver",
            Code::UnwaivedExclusion => "unwaived-exclusion",
            Code::UnwaivedWeakening => "unwaived-weakening",
            Code::ConflictingSettings => "conflicting-settings",
            Code::SecretInProfile => "secret-in-profile",
            Code::InvalidControl => "invalid-control",
            Code::InvalidProfile => "invalid-profile",
            Code::UnusedEntry => "unused-entry",
            Code::BlockedFlow => "blocked-flow",
            Code::LockdownConflict => "lockdown-conflict",
            Code::UnsignedScripts => "unsigned-scripts",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A span with an optional message.
#[derive(Clone, Debug)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One problem found in the input.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    pub primary: Option<Label>,
    pub secondary: Vec<Label>,
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            primary: None,
            secondary: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Self::error(code, message)
        }
    }

    /// Points at the place the problem is.
    pub fn at(mut self, span: Span, message: impl Into<String>) -> Self {
        self.primary = Some(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Points at a related place (the parent layer that set a value first, the other control …).
    pub fn also(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Adds a note; text starting with `help:` is shown as help, anything else as a note.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        let note = note.into();
        if note.starts_with("help: ") {
            self.notes.push(note);
        } else {
            self.notes.push(format!("note: {note}"));
        }
        self
    }

    fn sort_key(&self) -> (Option<(usize, usize)>, Code) {
        (
            self.primary.as_ref().map(|l| (l.span.file, l.span.start)),
            self.code,
        )
    }
}

/// The sink every stage pushes its problems into.
#[derive(Default, Debug)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// Diagnostics in a stable order: by file, then position, then code; duplicates removed.
    pub fn sorted(&self) -> Vec<&Diagnostic> {
        let mut items: Vec<&Diagnostic> = self.items.iter().collect();
        items.sort_by_key(|d| d.sort_key());
        items.dedup_by(|a, b| {
            a.code == b.code && a.message == b.message && a.sort_key() == b.sort_key()
        });
        items
    }

    /// Renders every diagnostic as text: `error[code]: …`, `--> file:line:col`, the line, a caret.
    pub fn render_text(
        &self,
        sources: &SourceMap,
        out: &mut dyn WriteColor,
    ) -> std::io::Result<()> {
        let config = Config {
            display_style: DisplayStyle::Rich,
            chars: Chars::ascii(),
            ..Config::default()
        };
        for d in self.sorted() {
            let severity = match d.severity {
                Severity::Error => CsSeverity::Error,
                Severity::Warning => CsSeverity::Warning,
            };
            let mut labels = Vec::new();
            if let Some(p) = &d.primary {
                labels.push(CsLabel::primary(p.span.file, p.span.range()).with_message(&p.message));
            }
            for s in &d.secondary {
                labels
                    .push(CsLabel::secondary(s.span.file, s.span.range()).with_message(&s.message));
            }
            let cs = CsDiagnostic::new(severity)
                .with_code(d.code.as_str())
                .with_message(&d.message)
                .with_labels(labels)
                .with_notes(d.notes.clone());
            term::emit(out, &config, sources.files(), &cs)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
        }
        let errors = self.error_count();
        if errors > 0 {
            let noun = if errors == 1 { "error" } else { "errors" };
            writeln!(out, "error: {errors} {noun} found")?;
        }
        Ok(())
    }

    /// The diagnostics as JSON values with stable field names.
    pub fn to_json(&self, sources: &SourceMap) -> serde_json::Value {
        let items: Vec<JsonDiagnostic> = self
            .sorted()
            .into_iter()
            .map(|d| JsonDiagnostic {
                severity: d.severity,
                code: d.code.as_str(),
                message: d.message.clone(),
                location: d.primary.as_ref().map(|l| sources.location(l.span)),
                label: d.primary.as_ref().map(|l| l.message.clone()),
                related: d
                    .secondary
                    .iter()
                    .map(|l| JsonRelated {
                        location: sources.location(l.span),
                        message: l.message.clone(),
                    })
                    .collect(),
                notes: d.notes.clone(),
            })
            .collect();
        serde_json::json!({ "diagnostics": items })
    }
}

#[derive(Serialize)]
struct JsonDiagnostic {
    severity: Severity,
    code: &'static str,
    message: String,
    location: Option<Location>,
    label: Option<String>,
    related: Vec<JsonRelated>,
    notes: Vec<String>,
}

#[derive(Serialize)]
struct JsonRelated {
    location: Location,
    message: String,
}

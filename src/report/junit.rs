//! `hardbase diff --format junit`: a [`DriftReport`] as JUnit XML, so CI servers that already
//! show test results (Jenkins, GitLab, Azure Pipelines) show hardening drift the same way.
//!
//! One `<testsuite>` for the profile, one `<testcase>` per control with the control's category as
//! its `classname`. A control with a finding (drift, missing, not-collected, an expired waiver,
//! or an unexpected thing it governs) has a `<failure>` whose body lists each setting's expected
//! and actual values with the catalog and profile lines; a manual or waived control is
//! `<skipped>`. Unexpected things that no control governs are test cases of their own.
//!
//! Snapshot values are hostile input: they go through [`escape`] (control characters become
//! visible `\u{…}` text, as in the text report), then through XML escaping; [`xml_text`] also
//! drops anything XML 1.0 cannot carry, so the document always parses.

use std::fmt::Write as _;

use crate::drift::{ControlResult, DriftReport, Status, Unexpected};
use crate::model::DesiredState;
use crate::report::drift::{escape, setting_lines, unexpected_text};
use crate::source::SourceMap;

/// Whether XML 1.0 can carry the character at all (§2.2 `Char`).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Escapes text for XML element content and attribute values (both quote characters, and line
/// ends as character references so attribute values keep them); drops characters XML 1.0
/// cannot carry.
pub fn xml_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().filter(|c| xml_char(*c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

/// Element content: like [`xml_text`] but keeps line ends readable.
fn xml_body(text: &str) -> String {
    xml_text(text).replace("&#10;", "\n")
}

/// One test case before it is written.
struct Case {
    classname: String,
    name: String,
    /// `(type, message, body)` for a failure.
    failure: Option<(String, String, String)>,
    /// The reason a case is skipped.
    skipped: Option<String>,
}

/// The JUnit XML document.
pub fn to_junit(report: &DriftReport, state: &DesiredState, sources: &SourceMap) -> String {
    let category = |id: &str| {
        state
            .controls
            .iter()
            .find(|c| c.control.id == id)
            .map(|c| c.control.category.id())
            .unwrap_or("uncategorized")
    };
    let mut cases: Vec<Case> = report
        .controls
        .iter()
        .map(|c| control_case(c, category(&c.id), &report.unexpected, sources))
        .collect();
    for u in report.unexpected.iter().filter(|u| {
        !u.control
            .as_ref()
            .is_some_and(|id| report.controls.iter().any(|c| &c.id == id))
    }) {
        cases.push(Case {
            classname: "unexpected".into(),
            name: format!("{} {}", u.kind, escape(&u.what)),
            failure: Some((
                Status::Unexpected.id().into(),
                format!("on the machine, in no profile setting: {}", escape(&u.what)),
                unexpected_line(u),
            )),
            skipped: None,
        });
    }
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let skipped = cases.iter().filter(|c| c.skipped.is_some()).count();
    let info = &report.snapshot;

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"hardbase diff\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">",
        cases.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" hostname=\"{}\">",
        xml_text(&report.profile),
        cases.len(),
        xml_text(&escape(&info.host))
    );
    out.push_str("    <properties>\n");
    for (name, value) in [
        ("platform", report.platform.to_string()),
        ("evaluated_at", report.evaluated_at.to_string()),
        ("snapshot.host", escape(&info.host)),
        ("snapshot.collected_at", escape(&info.collected_at)),
        ("snapshot.collector", escape(&info.collector)),
        ("compliant", report.is_compliant().to_string()),
    ] {
        let _ = writeln!(
            out,
            "      <property name=\"{name}\" value=\"{}\"/>",
            xml_text(&value)
        );
    }
    out.push_str("    </properties>\n");
    for case in &cases {
        let head = format!(
            "    <testcase classname=\"{}\" name=\"{}\"",
            xml_text(&case.classname),
            xml_text(&case.name)
        );
        match (&case.failure, &case.skipped) {
            (Some((kind, message, body)), _) => {
                let _ = writeln!(
                    out,
                    "{head}>\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>",
                    xml_text(kind),
                    xml_text(message),
                    xml_body(body)
                );
            }
            (None, Some(reason)) => {
                let _ = writeln!(
                    out,
                    "{head}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                    xml_text(reason)
                );
            }
            (None, None) => {
                let _ = writeln!(out, "{head}/>");
            }
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn unexpected_line(u: &Unexpected) -> String {
    format!("unexpected {}\n", unexpected_text(u))
}

fn control_case(
    c: &ControlResult,
    category: &str,
    unexpected: &[Unexpected],
    sources: &SourceMap,
) -> Case {
    let name = format!("{} {}", c.id, c.title_en);
    let governed: Vec<&Unexpected> = unexpected
        .iter()
        .filter(|u| u.control.as_deref() == Some(c.id.as_str()))
        .collect();
    let failing = c.status.is_finding() || !governed.is_empty();
    if !failing {
        let skipped = match c.status {
            Status::Manual => Some(match &c.attestation {
                Some(a) => format!("manual: attested by {} on {}", escape(&a.by), a.on),
                None => "manual: not attested".to_string(),
            }),
            Status::Waived => Some(match &c.waiver {
                Some(w) => format!(
                    "waived ({}, ticket {}, approved by {}, expires {}): {}",
                    w.scope,
                    escape(&w.ticket),
                    escape(&w.approved_by),
                    w.expires,
                    escape(&w.reason)
                ),
                None => "waived".to_string(),
            }),
            _ => None,
        };
        return Case {
            classname: category.into(),
            name,
            failure: None,
            skipped,
        };
    }
    let mut body = String::new();
    for f in &c.findings {
        let _ = writeln!(body, "finding: {}", escape(f));
    }
    let findings: Vec<_> = c
        .settings
        .iter()
        .filter(|s| s.status.is_finding())
        .collect();
    for s in &findings {
        body.push_str(&setting_lines(s, sources));
    }
    for u in &governed {
        body.push_str(&unexpected_line(u));
    }
    let kind = if c.status.is_finding() {
        c.status
    } else {
        Status::Unexpected
    };
    let message = format!(
        "{}: {} of {} settings not compliant{}",
        kind.id(),
        findings.len(),
        c.settings.len(),
        if governed.is_empty() {
            String::new()
        } else {
            format!(", {} unexpected on the machine", governed.len())
        }
    );
    Case {
        classname: category.into(),
        name,
        failure: Some((kind.id().into(), message, body)),
        skipped: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_escapes_and_drops_what_xml_cannot_carry() {
        assert_eq!(
            xml_text("a<b>&\"'\u{0}\u{1b}\u{fffe}\nz"),
            "a&lt;b&gt;&amp;&quot;&apos;&#10;z"
        );
        assert_eq!(xml_body("x\ny"), "x\ny");
    }
}

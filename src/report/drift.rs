//! `hardbase diff`: a [`DriftReport`] as text for people and JSON for pipelines.
//!
//! Snapshot values are hostile input: a machine can hold a sysctl value, a file line or a
//! process name made of terminal escape sequences. Every string in the text report goes through
//! [`escape`], which turns every control character (C0, DEL, C1), the line and paragraph
//! separators and the bidirectional overrides and isolates into visible `\u{…}` text, so
//! nothing a snapshot holds can move the cursor, recolour the terminal or reorder what the
//! auditor reads. Colour, when asked for, is added afterwards around hardbase's own words.
//! JSON carries the values as they are (JSON string escaping makes them inert), with stable keys.

use std::fmt::Write as _;

use serde_json::{json, Value};

pub use crate::drift::escape;
use crate::drift::{ControlResult, DriftReport, FileDiff, SettingResult, Status, Unexpected};
use crate::source::{SourceMap, Span};

fn paint(text: &str, status: Status, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let code = match status {
        Status::Compliant => "32",
        Status::Waived | Status::Manual => "36",
        Status::NotCollected | Status::Unexpected => "33",
        Status::Missing | Status::Drift => "1;31",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

fn location(sources: &SourceMap, span: Span) -> String {
    escape(&sources.location(span).to_string())
}

/// The human report: controls worst first, each setting that is not compliant with its
/// expected and actual values and the catalog and profile lines behind it, then what is
/// unexpected, then the counts. `color` adds ANSI colours to the status words only.
pub fn to_text(report: &DriftReport, sources: &SourceMap, color: bool) -> String {
    let mut out = String::new();
    let info = &report.snapshot;
    let _ = writeln!(
        out,
        "profile {} ({}) against snapshot of {} collected {} by {}, evaluated as of {}",
        escape(&report.profile),
        report.platform,
        escape(or_unknown(&info.host)),
        escape(or_unknown(&info.collected_at)),
        escape(or_unknown(&info.collector)),
        report.evaluated_at
    );
    for c in &report.controls {
        out.push('\n');
        control_text(&mut out, c, sources, color);
    }
    for d in report.file_diffs.iter().filter(|d| d.has_changes()) {
        out.push('\n');
        file_diff_text(&mut out, d, color);
    }
    if !report.unexpected.is_empty() {
        out.push('\n');
        let _ = writeln!(
            out,
            "{} on the machine, in no profile setting:",
            paint("unexpected", Status::Unexpected, color)
        );
        for u in &report.unexpected {
            let _ = writeln!(out, "  {}", unexpected_text(u));
        }
    }
    out.push('\n');
    let counts = |map: std::collections::BTreeMap<Status, usize>| {
        map.iter()
            .rev()
            .filter(|(_, n)| **n > 0)
            .map(|(s, n)| format!("{n} {}", paint(s.id(), *s, color)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(out, "settings: {}", counts(report.setting_counts()));
    let _ = writeln!(out, "controls: {}", counts(report.control_counts()));
    let verdict = if report.is_compliant() {
        paint("compliant", Status::Compliant, color)
    } else {
        paint("NOT COMPLIANT", Status::Drift, color)
    };
    let _ = writeln!(out, "result: {verdict}");
    out
}

/// An unexpected thing as the text report lists it: kind, what (escaped), `[control]`, and
/// why, when the kind does not say it.
pub fn unexpected_text(u: &Unexpected) -> String {
    format!(
        "{} {}{}{}",
        u.kind,
        escape(&u.what),
        u.control
            .as_ref()
            .map(|c| format!(" [{}]", escape(c)))
            .unwrap_or_default(),
        u.note
            .as_ref()
            .map(|n| format!(" ({})", escape(n)))
            .unwrap_or_default()
    )
}

/// A file diff: a title line, then the unified diff (already escaped by the drift stage), its
/// `-`/`+` lines coloured like drift when asked.
fn file_diff_text(out: &mut String, d: &FileDiff, color: bool) {
    let _ = writeln!(
        out,
        "{} {} (hardbase's rendering against the machine's):",
        paint("[file]", Status::Drift, color),
        escape(&d.name)
    );
    for line in d.unified.lines() {
        let painted = match line.chars().next() {
            Some('-' | '+') if !line.starts_with("---") && !line.starts_with("+++") => {
                paint(line, Status::Drift, color)
            }
            _ => line.to_string(),
        };
        let _ = writeln!(out, "  {painted}");
    }
}

fn or_unknown(text: &str) -> &str {
    if text.is_empty() {
        "?"
    } else {
        text
    }
}

fn control_text(out: &mut String, c: &ControlResult, sources: &SourceMap, color: bool) {
    let _ = writeln!(
        out,
        "{} {} {}",
        paint(&format!("[{}]", c.status.id()), c.status, color),
        escape(&c.id),
        escape(&c.title_en)
    );
    for f in &c.findings {
        let _ = writeln!(out, "  finding: {}", escape(f));
    }
    if let Some(w) = &c.waiver {
        let _ = writeln!(
            out,
            "  waiver ({}, ticket {}, approved by {}, expires {}{}): {}",
            w.scope,
            escape(&w.ticket),
            escape(&w.approved_by),
            w.expires,
            if w.expired { ", EXPIRED" } else { "" },
            escape(&w.reason)
        );
        let _ = writeln!(out, "    --> {}", location(sources, w.origin));
    }
    if c.status == Status::Manual {
        match &c.attestation {
            Some(a) => {
                let _ = writeln!(
                    out,
                    "  attested by {} on {}{}",
                    escape(&a.by),
                    a.on,
                    a.evidence
                        .as_ref()
                        .map(|e| format!(" (evidence: {})", escape(e)))
                        .unwrap_or_default()
                );
            }
            None => out.push_str("  not attested\n"),
        }
    }
    let shown: Vec<&SettingResult> = c
        .settings
        .iter()
        .filter(|s| s.status != Status::Compliant)
        .collect();
    for s in &shown {
        setting_text(out, s, sources, color);
    }
    let compliant = c.settings.len() - shown.len();
    if compliant > 0 && !shown.is_empty() {
        let _ = writeln!(out, "  ({compliant} other settings compliant)");
    } else if compliant > 0 {
        let _ = writeln!(out, "  ({compliant} settings compliant)");
    }
}

/// One setting as the text report shows it, without colour: its status and target, expected
/// and actual values, note, and the catalog and profile lines (escaped; for JUnit bodies and
/// other plain-text renderings).
pub fn setting_lines(s: &SettingResult, sources: &SourceMap) -> String {
    let mut out = String::new();
    setting_text(&mut out, s, sources, false);
    out
}

fn setting_text(out: &mut String, s: &SettingResult, sources: &SourceMap, color: bool) {
    let _ = writeln!(
        out,
        "  {} {}",
        paint(s.status.id(), s.status, color),
        escape(&s.target)
    );
    let _ = writeln!(out, "      expected: {}", escape(&s.expected));
    let actual = match &s.actual {
        Some(a) => escape(a),
        None if s.status == Status::NotCollected => "(not collected)".into(),
        None => "(absent)".into(),
    };
    let _ = writeln!(out, "      actual:   {actual}");
    if let Some(n) = &s.note {
        let _ = writeln!(out, "      note:     {}", escape(n));
    }
    let _ = writeln!(
        out,
        "      --> {} (catalog setting)",
        location(sources, s.origin)
    );
    for (name, origin) in &s.params {
        match origin {
            Some(span) => {
                let _ = writeln!(
                    out,
                    "      --> {} (profile value of {})",
                    location(sources, *span),
                    escape(name)
                );
            }
            None => {
                let _ = writeln!(out, "      = {} is the catalog default", escape(name));
            }
        }
    }
}

fn counts_json(map: std::collections::BTreeMap<Status, usize>) -> Value {
    Value::Object(
        map.into_iter()
            .map(|(s, n)| (s.id().to_string(), json!(n)))
            .collect(),
    )
}

/// The JSON report. Keys are stable; statuses use the kebab-case ids of [`Status::id`];
/// locations are `file:line:col`.
pub fn to_json(report: &DriftReport, sources: &SourceMap) -> Value {
    let info = &report.snapshot;
    json!({
        "profile": report.profile,
        "platform": report.platform,
        "family": report.family.id(),
        "evaluated_at": report.evaluated_at.to_string(),
        "snapshot": {
            "host": info.host,
            "collected_at": info.collected_at,
            "collector": info.collector,
            "family": info.family,
        },
        "compliant": report.is_compliant(),
        "exit_code": report.exit_code(),
        "counts": {
            "settings": counts_json(report.setting_counts()),
            "controls": counts_json(report.control_counts()),
        },
        "controls": report.controls.iter().map(|c| control_json(c, sources)).collect::<Vec<_>>(),
        "unexpected": report.unexpected.iter().map(|u| json!({
            "kind": u.kind,
            "what": u.what,
            "control": u.control,
            "note": u.note,
        })).collect::<Vec<_>>(),
        "file_diffs": report.file_diffs.iter().map(|d| json!({
            "name": d.name,
            "expected_label": d.expected_label,
            "actual_label": d.actual_label,
            "changed": d.has_changes(),
            "unified": d.unified,
        })).collect::<Vec<_>>(),
    })
}

fn control_json(c: &ControlResult, sources: &SourceMap) -> Value {
    let loc = |span: Span| sources.location(span).to_string();
    json!({
        "id": c.id,
        "title": { "en": c.title_en, "ja": c.title_ja },
        "status": c.status.id(),
        "source": loc(c.origin),
        "findings": c.findings,
        "waiver": c.waiver.as_ref().map(|w| json!({
            "scope": w.scope,
            "reason": w.reason,
            "approved_by": w.approved_by,
            "ticket": w.ticket,
            "expires": w.expires.to_string(),
            "expired": w.expired,
            "origin": loc(w.origin),
        })),
        "attestation": c.attestation.as_ref().map(|a| json!({
            "by": a.by,
            "on": a.on.to_string(),
            "evidence": a.evidence,
            "origin": loc(a.origin),
        })),
        "settings": c.settings.iter().map(|s| json!({
            "kind": s.kind,
            "target": s.target,
            "status": s.status.id(),
            "expected": s.expected,
            "actual": s.actual,
            "note": s.note,
            "origin": loc(s.origin),
            "params": s.params.iter().map(|(name, origin)| json!({
                "name": name,
                "origin": origin.map(loc),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

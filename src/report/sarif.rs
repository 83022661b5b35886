//! `hardbase diff --format sarif`: a [`DriftReport`] as SARIF 2.1.0, for code-scanning views
//! that show a finding at the line to change.
//!
//! One run; `tool.driver` is hardbase, and its `rules` are the controls that have a result. A
//! result is one setting that is not compliant (`error` for drift, missing and unexpected,
//! `warning` for not-collected), one control-level finding (an expired waiver), or one thing on
//! the machine that no profile asks for. Each result's locations are the catalog's
//! `[[control.setting]]` table and the profile lines that set its values, with line and column
//! as hardbase prints them; the built-in catalog's files are relative to the `HARDBASE_CATALOG`
//! base, the profile's paths are as given on the command line (relative, or `file:` URIs when
//! absolute). JSON string escaping keeps snapshot values inert.

use serde_json::{json, Value};

use crate::drift::{ControlResult, DriftReport, SettingResult, Status};
use crate::model::DesiredState;
use crate::source::{SourceMap, Span};

/// The schema URI SARIF consumers expect in `$schema`.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The `uriBaseId` of files in the built-in catalog.
const CATALOG_BASE: &str = "HARDBASE_CATALOG";
const BUILTIN_PREFIX: &str = "<built-in>/";

/// The SARIF log.
pub fn to_sarif(report: &DriftReport, state: &DesiredState, sources: &SourceMap) -> Value {
    let mut rules: Vec<Value> = Vec::new();
    let mut rule_ids: Vec<String> = Vec::new();
    let mut results: Vec<Value> = Vec::new();
    let mut rule_index = |id: &str, control: Option<&ControlResult>| -> usize {
        if let Some(i) = rule_ids.iter().position(|r| r == id) {
            return i;
        }
        rule_ids.push(id.to_string());
        rules.push(rule(id, control, state, sources));
        rule_ids.len() - 1
    };
    for c in &report.controls {
        for f in &c.findings {
            let index = rule_index(&c.id, Some(c));
            let locations: Vec<Value> = c
                .waiver
                .as_ref()
                .map(|w| location(sources, w.origin, "the waiver's expiry in the profile"))
                .into_iter()
                .collect();
            results.push(json!({
                "ruleId": c.id,
                "ruleIndex": index,
                "kind": "fail",
                "level": "error",
                "message": { "text": format!("{}: {f}", c.id) },
                "locations": locations,
                "properties": { "status": c.status.id() },
            }));
        }
        for s in c.settings.iter().filter(|s| s.status.is_finding()) {
            let index = rule_index(&c.id, Some(c));
            results.push(setting_result(c, s, index, sources));
        }
    }
    for u in &report.unexpected {
        let control = u
            .control
            .as_ref()
            .and_then(|id| report.controls.iter().find(|c| &c.id == id));
        let id = control.map_or("unexpected", |c| c.id.as_str());
        let index = rule_index(id, control);
        let locations: Vec<Value> = control
            .map(|c| location(sources, c.origin, "the control that governs it"))
            .into_iter()
            .collect();
        results.push(json!({
            "ruleId": id,
            "ruleIndex": index,
            "kind": "fail",
            "level": level(Status::Unexpected),
            "message": { "text": format!(
                "unexpected {} on the machine, in no profile setting: {}{}",
                u.kind,
                u.what,
                u.note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default()
            ) },
            "locations": locations,
            "properties": { "status": Status::Unexpected.id(), "unexpectedKind": u.kind },
        }));
    }
    let info = &report.snapshot;
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "hardbase",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "originalUriBaseIds": {
                CATALOG_BASE: { "description": { "text": "hardbase's built-in control catalog (the baselines folder compiled into the binary)" } },
            },
            "automationDetails": { "id": format!("hardbase-diff/{}/", report.profile) },
            "results": results,
            "properties": {
                "profile": report.profile,
                "platform": report.platform,
                "evaluatedAt": report.evaluated_at.to_string(),
                "compliant": report.is_compliant(),
                "snapshot": {
                    "host": info.host,
                    "collectedAt": info.collected_at,
                    "collector": info.collector,
                },
            },
        }],
    })
}

fn level(status: Status) -> &'static str {
    if status == Status::NotCollected {
        "warning"
    } else {
        "error"
    }
}

fn rule(
    id: &str,
    control: Option<&ControlResult>,
    state: &DesiredState,
    sources: &SourceMap,
) -> Value {
    let Some(c) = control else {
        return json!({
            "id": id,
            "shortDescription": { "text": "On the machine, in no profile setting" },
            "defaultConfiguration": { "level": "error" },
        });
    };
    let catalog = state.controls.iter().find(|s| s.control.id == c.id);
    let mut properties = json!({ "title_ja": c.title_ja });
    if let Some(s) = catalog {
        properties["category"] = json!(s.control.category.id());
        properties["tier"] = json!(s.control.tier.id());
        properties["criterion"] =
            json!({ "en": s.control.criterion.en, "ja": s.control.criterion.ja });
    }
    let loc = sources.location(c.origin);
    properties["source"] = json!(loc.to_string());
    json!({
        "id": c.id,
        "name": c.id.replace('-', ""),
        "shortDescription": { "text": c.title_en },
        "fullDescription": { "text": catalog.map_or(c.title_en.as_str(), |s| s.control.criterion.en.as_str()) },
        "defaultConfiguration": { "level": "error" },
        "properties": properties,
    })
}

fn setting_result(
    c: &ControlResult,
    s: &SettingResult,
    index: usize,
    sources: &SourceMap,
) -> Value {
    let actual = match &s.actual {
        Some(a) => a.clone(),
        None if s.status == Status::NotCollected => "(not collected)".into(),
        None => "(absent)".into(),
    };
    let mut text = format!(
        "{} {}: expected {}, actual {}",
        s.status.id(),
        s.target,
        s.expected,
        actual
    );
    if let Some(n) = &s.note {
        text.push_str(&format!(" ({n})"));
    }
    let mut locations = vec![location(sources, s.origin, "catalog setting")];
    for (name, origin) in &s.params {
        if let Some(span) = origin {
            locations.push(location(
                sources,
                *span,
                &format!("profile value of {name}"),
            ));
        }
    }
    json!({
        "ruleId": c.id,
        "ruleIndex": index,
        "kind": "fail",
        "level": level(s.status),
        "message": { "text": text },
        "locations": locations,
        "properties": {
            "status": s.status.id(),
            "settingKind": s.kind,
            "target": s.target,
            "expected": s.expected,
            "actual": s.actual,
        },
    })
}

fn location(sources: &SourceMap, span: Span, what: &str) -> Value {
    let loc = sources.location(span);
    let mut artifact = json!({});
    match loc.file.strip_prefix(BUILTIN_PREFIX) {
        Some(rest) => {
            artifact["uri"] = json!(uri_path(rest));
            artifact["uriBaseId"] = json!(CATALOG_BASE);
        }
        None => artifact["uri"] = json!(file_uri(&loc.file)),
    }
    json!({
        "physicalLocation": {
            "artifactLocation": artifact,
            "region": { "startLine": loc.line, "startColumn": loc.column },
        },
        "message": { "text": what },
    })
}

/// A path as a URI reference: relative paths stay relative, absolute ones become `file:` URIs
/// (Windows drive paths included); `\` separators become `/`.
fn file_uri(path: &str) -> String {
    let path = path.replace('\\', "/");
    let drive =
        path.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) && path[1..].starts_with(":/");
    if drive {
        format!("file:///{}:{}", &path[..1], uri_path(&path[2..]))
    } else if path.starts_with('/') {
        format!("file://{}", uri_path(&path))
    } else {
        uri_path(&path)
    }
}

/// Percent-encodes every byte that may not stand in a URI path (RFC 3986 `pchar` and `/`),
/// and the `:` of a relative path's first segment so it cannot read as a scheme.
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for (i, b) in path.bytes().enumerate() {
        let keep = b.is_ascii_alphanumeric()
            || b"-._~!$&'()*+,;=@/".contains(&b)
            || (b == b':' && path[..i].contains('/'));
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(file_uri("examples/a b.toml"), "examples/a%20b.toml");
        assert_eq!(file_uri("/srv/x#1.toml"), "file:///srv/x%231.toml");
        assert_eq!(file_uri("C:\\bank\\atm.toml"), "file:///C:/bank/atm.toml");
        assert_eq!(file_uri("a:b.toml"), "a%3Ab.toml");
        assert_eq!(file_uri("銀行.toml"), "%E9%8A%80%E8%A1%8C.toml");
    }
}

//! `hardbase check`: what a resolved profile would enforce, as text or JSON.

use std::fmt::Write as _;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{json, Value};

use crate::catalog::taxonomy::{short_term_name, Category, Lang, Tier};
use crate::load::profile::{Attestation, Waiver};
use crate::model::{ControlState, ControlStatus, DesiredSetting, DesiredState, ParamState};
use crate::source::{SourceMap, Span};

fn location(sources: &SourceMap, span: Span) -> String {
    sources.location(span).to_string()
}

fn status_name(s: ControlStatus) -> &'static str {
    match s {
        ControlStatus::Enforced => "enforced",
        ControlStatus::Weakened => "weakened",
        ControlStatus::Excluded => "excluded",
        ControlStatus::Manual => "manual",
    }
}

/// The JSON form of one resolved profile (keys sorted, so byte-identical for the same inputs).
pub fn to_json(state: &DesiredState, sources: &SourceMap) -> Value {
    let p = &state.profile;
    json!({
        "name": p.name,
        "description": p.description,
        "role": p.role.id(),
        "platform": { "id": p.platform.id, "family": p.platform.family.id(), "build": p.platform.build, "name": p.platform.name },
        "membership": p.membership.map(|m| m.id()),
        "tiers": p.tiers.iter().map(|t| t.id()).collect::<Vec<_>>(),
        "layers": p.layers,
        "evaluated_at": state.evaluated_at.to_string(),
        "controls": state.controls.iter().map(|c| control_json(c, sources)).collect::<Vec<_>>(),
        "params": state.params.iter().map(|p| json!({
            "name": p.name,
            "type": p.ty.id(),
            "value": p.value,
            "origin": p.origin.map(|s| location(sources, s)),
            "used_by": p.used_by,
        })).collect::<Vec<_>>(),
        "flows": state.flows,
        "secrets": state.secrets(),
        "local_principals": state.local_principals(),
        "summary": summary_json(state),
    })
}

/// [`to_json`] as pretty-printed text (without a final newline), optionally without
/// `evaluated_at`: the same bytes as `serde_json::to_string_pretty` of [`to_json`] (with the key
/// removed), written without building the JSON tree. Every object lists its keys in the sorted
/// order of a `serde_json::Map`; values of catalog types go through [`serde_json::to_value`], so
/// their own keys are sorted too.
pub fn to_json_text(
    state: &DesiredState,
    sources: &SourceMap,
    evaluated_at: bool,
) -> Result<String, serde_json::Error> {
    let mut out = Vec::with_capacity(64 * 1024);
    serde_json::to_writer_pretty(
        &mut out,
        &StateJson {
            state,
            sources,
            evaluated_at,
        },
    )?;
    // serde_json writes UTF-8 only.
    Ok(String::from_utf8(out).unwrap_or_default())
}

/// A value serialized as its `serde_json::Value` (keys sorted).
struct Sorted<'a, T: Serialize>(&'a T);

impl<T: Serialize> Serialize for Sorted<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde_json::to_value(self.0)
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }
}

/// A list of items, each serialized as what `f` makes of it.
struct List<'a, T, J>(&'a [T], &'a SourceMap, fn(&'a T, &'a SourceMap) -> J);

impl<T, J: Serialize> Serialize for List<'_, T, J> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(&(self.2)(item, self.1))?;
        }
        seq.end()
    }
}

struct StateJson<'a> {
    state: &'a DesiredState,
    sources: &'a SourceMap,
    evaluated_at: bool,
}

impl Serialize for StateJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (state, sources) = (self.state, self.sources);
        let p = &state.profile;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("controls", &List(&state.controls, sources, ControlJson))?;
        m.serialize_entry("description", &p.description)?;
        if self.evaluated_at {
            m.serialize_entry("evaluated_at", &state.evaluated_at.to_string())?;
        }
        m.serialize_entry("flows", &Sorted(&state.flows))?;
        m.serialize_entry("layers", &p.layers)?;
        m.serialize_entry("local_principals", &Sorted(&state.local_principals()))?;
        m.serialize_entry("membership", &p.membership.map(|m| m.id()))?;
        m.serialize_entry("name", &p.name)?;
        m.serialize_entry("params", &List(&state.params, sources, ParamJson))?;
        m.serialize_entry("platform", &PlatformJson(state))?;
        m.serialize_entry("role", p.role.id())?;
        m.serialize_entry("secrets", &Sorted(&state.secrets()))?;
        m.serialize_entry("summary", &SummaryJson(state))?;
        m.serialize_entry("tiers", &p.tiers.iter().map(|t| t.id()).collect::<Vec<_>>())?;
        m.end()
    }
}

struct PlatformJson<'a>(&'a DesiredState);

impl Serialize for PlatformJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let platform = &self.0.profile.platform;
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("build", &Sorted(&platform.build))?;
        m.serialize_entry("family", platform.family.id())?;
        m.serialize_entry("id", &Sorted(&platform.id))?;
        m.serialize_entry("name", &Sorted(&platform.name))?;
        m.end()
    }
}

struct ParamJson<'a>(&'a ParamState, &'a SourceMap);

impl Serialize for ParamJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (p, sources) = (self.0, self.1);
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("name", &p.name)?;
        m.serialize_entry("origin", &p.origin.map(|s| location(sources, s)))?;
        m.serialize_entry("type", &p.ty.id())?;
        m.serialize_entry("used_by", &p.used_by)?;
        m.serialize_entry("value", &Sorted(&p.value))?;
        m.end()
    }
}

struct SummaryJson<'a>(&'a DesiredState);

impl Serialize for SummaryJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let state = self.0;
        let count = |s: ControlStatus| state.controls.iter().filter(|c| c.status == s).count();
        let mut m = s.serialize_map(Some(7))?;
        m.serialize_entry("controls", &state.controls.len())?;
        m.serialize_entry("enforced", &count(ControlStatus::Enforced))?;
        m.serialize_entry("excluded", &count(ControlStatus::Excluded))?;
        m.serialize_entry("manual", &count(ControlStatus::Manual))?;
        m.serialize_entry("reboot_required", &state.settings().any(|s| s.reboot))?;
        m.serialize_entry("settings", &state.settings().count())?;
        m.serialize_entry("weakened", &count(ControlStatus::Weakened))?;
        m.end()
    }
}

struct ControlJson<'a>(&'a ControlState, &'a SourceMap);

impl Serialize for ControlJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (c, sources) = (self.0, self.1);
        let k = &c.control;
        let mut m = s.serialize_map(Some(14))?;
        m.serialize_entry(
            "attack_steps",
            &k.attack_steps.iter().map(|s| s.id()).collect::<Vec<_>>(),
        )?;
        m.serialize_entry(
            "attestation",
            &c.attestation.as_ref().map(|a| AttestationJson(a, sources)),
        )?;
        m.serialize_entry("category", k.category.id())?;
        m.serialize_entry("criterion", &Sorted(&k.criterion))?;
        m.serialize_entry("id", &k.id)?;
        m.serialize_entry("included_by", &c.included_by.map(|s| location(sources, s)))?;
        m.serialize_entry("references", &Sorted(&k.references))?;
        m.serialize_entry("settings", &List(&c.settings, sources, SettingJson))?;
        m.serialize_entry("short_term", &k.short_term)?;
        m.serialize_entry("source", &location(sources, k.span))?;
        m.serialize_entry("status", status_name(c.status))?;
        m.serialize_entry("tier", k.tier.id())?;
        m.serialize_entry("title", &Sorted(&k.title))?;
        m.serialize_entry("waiver", &c.waiver.as_ref().map(|w| WaiverJson(w, sources)))?;
        m.end()
    }
}

struct WaiverJson<'a>(&'a Waiver, &'a SourceMap);

impl Serialize for WaiverJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (w, sources) = (self.0, self.1);
        let mut m = s.serialize_map(Some(7))?;
        m.serialize_entry("approved_by", &w.approved_by)?;
        m.serialize_entry("compensating_control", &w.compensating_control)?;
        m.serialize_entry("expires", &w.expires.value.to_string())?;
        m.serialize_entry("origin", &location(sources, w.control.span))?;
        m.serialize_entry("reason", &w.reason)?;
        m.serialize_entry("scope", &Sorted(&w.scope))?;
        m.serialize_entry("ticket", &w.ticket)?;
        m.end()
    }
}

struct AttestationJson<'a>(&'a Attestation, &'a SourceMap);

impl Serialize for AttestationJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (a, sources) = (self.0, self.1);
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("by", &a.by)?;
        m.serialize_entry("evidence", &a.evidence)?;
        m.serialize_entry("on", &a.on.value.to_string())?;
        m.serialize_entry("origin", &location(sources, a.control.span))?;
        m.end()
    }
}

struct SettingJson<'a>(&'a DesiredSetting, &'a SourceMap);

impl Serialize for SettingJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (st, sources) = (self.0, self.1);
        let mut m = s.serialize_map(Some(12))?;
        m.serialize_entry("absent", &st.kind.is_absence())?;
        m.serialize_entry("kind", &Sorted(&st.kind.kind_name()))?;
        m.serialize_entry("max_build", &st.max_build)?;
        m.serialize_entry("min_build", &st.min_build)?;
        m.serialize_entry("origin", &location(sources, st.origin))?;
        m.serialize_entry("params", &List(&st.params, sources, SettingParamJson::new))?;
        m.serialize_entry("phase", &Sorted(&st.phase))?;
        m.serialize_entry("reboot", &st.reboot)?;
        m.serialize_entry("scope", &Sorted(&st.scope))?;
        m.serialize_entry("summary", &Sorted(&st.kind.summary()))?;
        m.serialize_entry("target", &st.target)?;
        m.serialize_entry("value", &Sorted(&st.kind))?;
        m.end()
    }
}

struct SettingParamJson<'a>(&'a String, Option<String>);

impl<'a> SettingParamJson<'a> {
    fn new((name, origin): &'a (String, Option<Span>), sources: &'a SourceMap) -> Self {
        SettingParamJson(name, origin.map(|o| location(sources, o)))
    }
}

impl Serialize for SettingParamJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("name", self.0)?;
        m.serialize_entry("origin", &self.1)?;
        m.end()
    }
}

fn summary_json(state: &DesiredState) -> Value {
    let count = |s: ControlStatus| state.controls.iter().filter(|c| c.status == s).count();
    json!({
        "controls": state.controls.len(),
        "enforced": count(ControlStatus::Enforced),
        "weakened": count(ControlStatus::Weakened),
        "excluded": count(ControlStatus::Excluded),
        "manual": count(ControlStatus::Manual),
        "settings": state.settings().count(),
        "reboot_required": state.settings().any(|s| s.reboot),
    })
}

fn control_json(c: &ControlState, sources: &SourceMap) -> Value {
    let k = &c.control;
    json!({
        "id": k.id,
        "title": k.title,
        "category": k.category.id(),
        "tier": k.tier.id(),
        "short_term": k.short_term,
        "status": status_name(c.status),
        "attack_steps": k.attack_steps.iter().map(|s| s.id()).collect::<Vec<_>>(),
        "criterion": k.criterion,
        "references": k.references,
        "source": location(sources, k.span),
        "included_by": c.included_by.map(|s| location(sources, s)),
        "waiver": c.waiver.as_ref().map(|w| json!({
            "scope": w.scope,
            "reason": w.reason,
            "approved_by": w.approved_by,
            "ticket": w.ticket,
            "compensating_control": w.compensating_control,
            "expires": w.expires.value.to_string(),
            "origin": location(sources, w.control.span),
        })),
        "attestation": c.attestation.as_ref().map(|a| json!({
            "by": a.by,
            "on": a.on.value.to_string(),
            "evidence": a.evidence,
            "origin": location(sources, a.control.span),
        })),
        "settings": c.settings.iter().map(|s| json!({
            "kind": s.kind.kind_name(),
            "target": s.target,
            "value": s.kind,
            "summary": s.kind.summary(),
            "phase": s.phase,
            "reboot": s.reboot,
            "scope": s.scope,
            "absent": s.kind.is_absence(),
            "min_build": s.min_build,
            "max_build": s.max_build,
            "origin": location(sources, s.origin),
            "params": s.params.iter().map(|(name, origin)| json!({
                "name": name,
                "origin": origin.map(|o| location(sources, o)),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// The text summary of one resolved profile.
pub fn to_text(state: &DesiredState, sources: &SourceMap) -> String {
    let p = &state.profile;
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "profile {}", p.name);
    if let Some(d) = &p.description {
        let _ = writeln!(w, "  {d}");
    }
    let _ = writeln!(
        w,
        "  role        {} ({})",
        p.role.id(),
        p.role.name(Lang::En)
    );
    let _ = writeln!(
        w,
        "  platform    {} ({}, build {})",
        p.platform.id, p.platform.name, p.platform.build
    );
    if let Some(m) = p.membership {
        let _ = writeln!(w, "  membership  {}", m.id());
    }
    let _ = writeln!(
        w,
        "  tiers       {}",
        p.tiers
            .iter()
            .map(|t| t.id())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(w, "  layers      {}", p.layers.join(" -> "));
    let _ = writeln!(w, "  evaluated   {}", state.evaluated_at);
    let count = |s: ControlStatus| state.controls.iter().filter(|c| c.status == s).count();
    let settings = state.settings().count();
    let _ = writeln!(
        w,
        "\n{} controls: {} enforced, {} weakened, {} excluded, {} manual; {} settings{}",
        state.controls.len(),
        count(ControlStatus::Enforced),
        count(ControlStatus::Weakened),
        count(ControlStatus::Excluded),
        count(ControlStatus::Manual),
        settings,
        if state.settings().any(|s| s.reboot) {
            " (a reboot is required)"
        } else {
            ""
        },
    );
    for category in Category::ALL {
        let in_cat: Vec<&ControlState> = state
            .controls
            .iter()
            .filter(|c| c.control.category == *category)
            .collect();
        if in_cat.is_empty() {
            continue;
        }
        let _ = writeln!(w, "\n{} ({})", category.id(), category.name(Lang::En));
        for tier in Tier::ALL {
            for c in in_cat.iter().filter(|c| c.control.tier == *tier) {
                let _ = writeln!(
                    w,
                    "  {:<12} {:<15} {:<9} {}{}{}",
                    c.control.id,
                    tier.id(),
                    status_name(c.status),
                    c.control.title.en,
                    if c.control.short_term {
                        format!(" [{}]", short_term_name(Lang::En).to_lowercase())
                    } else {
                        String::new()
                    },
                    match c.settings.len() {
                        0 => String::new(),
                        1 => " (1 setting)".to_string(),
                        n => format!(" ({n} settings)"),
                    },
                );
            }
        }
    }
    if !state.params.is_empty() {
        let _ = writeln!(w, "\nparameters");
        for param in &state.params {
            let origin = param
                .origin
                .map(|s| location(sources, s))
                .unwrap_or_else(|| {
                    if param.value == crate::catalog::param::ParamValue::Secret {
                        "supplied at apply time".into()
                    } else {
                        "default".into()
                    }
                });
            let _ = writeln!(w, "  {} = {}  ({origin})", param.name, param.value);
        }
    }
    if !state.flows.is_empty() {
        let _ = writeln!(w, "\nflows (kept open by the firewall rules above)");
        for f in &state.flows {
            let ports = f
                .ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let (dir, peer) = match f.direction {
                crate::catalog::flow::FlowDirection::Inbound => ("in ", "from"),
                crate::catalog::flow::FlowDirection::Outbound => ("out", "to"),
            };
            let _ = writeln!(
                w,
                "  {dir} {:<22} {} {} {peer} {}",
                f.id,
                format!("{:?}", f.protocol).to_lowercase(),
                if ports.is_empty() {
                    "any port".to_string()
                } else {
                    format!("port {ports}")
                },
                f.peers.join(", ")
            );
        }
    }
    let waived: Vec<&ControlState> = state
        .controls
        .iter()
        .filter(|c| c.waiver.is_some())
        .collect();
    if !waived.is_empty() {
        let _ = writeln!(w, "\nwaivers");
        for c in waived {
            let wv = c.waiver.as_ref().expect("filtered");
            let _ = writeln!(
                w,
                "  {} {:?} until {}: {} (approved by {}, ticket {}; compensating control: {})",
                c.control.id,
                wv.scope,
                wv.expires.value,
                wv.reason,
                wv.approved_by,
                wv.ticket,
                wv.compensating_control
            );
        }
    }
    let manual: Vec<&ControlState> = state
        .controls
        .iter()
        .filter(|c| c.status == ControlStatus::Manual)
        .collect();
    if !manual.is_empty() {
        let _ = writeln!(w, "\nattestations");
        for c in manual {
            match &c.attestation {
                Some(a) => {
                    let _ = writeln!(
                        w,
                        "  {} attested by {} on {}",
                        c.control.id, a.by, a.on.value
                    );
                }
                None => {
                    let _ = writeln!(w, "  {} not yet attested", c.control.id);
                }
            }
        }
    }
    let secrets = state.secrets();
    if !secrets.is_empty() {
        let _ = writeln!(
            w,
            "\nsecrets supplied at apply time: {}",
            secrets.join(", ")
        );
    }
    let locals = state.local_principals();
    if !locals.is_empty() {
        let _ = writeln!(
            w,
            "local accounts resolved at apply time: {}",
            locals.join(", ")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The streamed text is byte for byte what the JSON tree of [`to_json`] prints as.
    #[test]
    fn text_is_the_json_tree_printed() {
        use crate::resolve;
        let (catalog, mut sources, mut diags, options, dir) = crate::resolve::example_resolver();
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let Some(state) = resolve::resolve(&path, &catalog, &mut sources, &options, &mut diags)
            else {
                continue;
            };
            let mut tree = to_json(&state, &sources);
            let with = serde_json::to_string_pretty(&tree).unwrap();
            assert_eq!(to_json_text(&state, &sources, true).unwrap(), with);
            tree.as_object_mut().unwrap().remove("evaluated_at");
            let without = serde_json::to_string_pretty(&tree).unwrap();
            assert_eq!(to_json_text(&state, &sources, false).unwrap(), without);
            checked += 1;
        }
        assert!(checked >= 9, "{checked} example profiles");
    }
}

//! `hardbase check`: what a resolved profile would enforce, as text or JSON.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::catalog::taxonomy::{short_term_name, Category, Lang, Tier};
use crate::model::{ControlState, ControlStatus, DesiredState};
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

//! `hardbase explain`: one control, everything an integrator or auditor needs to know about it.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::catalog::taxonomy::{short_term_name, Lang};
use crate::catalog::Control;
use crate::source::SourceMap;

struct Labels {
    category: &'static str,
    tier: &'static str,
    roles: &'static str,
    platforms: &'static str,
    steps: &'static str,
    criterion: &'static str,
    references: &'static str,
    params: &'static str,
    settings: &'static str,
    manual: &'static str,
    defined: &'static str,
    required: &'static str,
    default: &'static str,
}

fn labels(lang: Lang) -> Labels {
    match lang {
        Lang::En => Labels {
            category: "category",
            tier: "tier",
            roles: "roles",
            platforms: "platforms",
            steps: "attack steps",
            criterion: "criterion",
            references: "references",
            params: "parameters",
            settings: "settings",
            manual:
                "manual control: checked by evidence and attested in the profile ([attest.\"ID\"])",
            defined: "defined at",
            required: "required",
            default: "default",
        },
        Lang::Ja => Labels {
            category: "分類",
            tier: "区分",
            roles: "対象",
            platforms: "プラットフォーム",
            steps: "攻撃段階",
            criterion: "達成基準",
            references: "参照",
            params: "パラメータ",
            settings: "設定",
            manual: "手動確認項目：証跡により確認し、プロファイルの [attest.\"ID\"] に記録する",
            defined: "定義箇所",
            required: "必須",
            default: "既定値",
        },
    }
}

/// Pads a label to a fixed display width (CJK characters count double).
fn pad(label: &str) -> String {
    let width: usize = label
        .chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum();
    format!("{label}{}", " ".repeat(16usize.saturating_sub(width)))
}

pub fn to_text(control: &Control, sources: &SourceMap, lang: Lang) -> String {
    let l = labels(lang);
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "{}  {}", control.id, control.title.get(lang));
    let _ = writeln!(
        w,
        "  {} {} ({})",
        pad(l.category),
        control.category.id(),
        control.category.name(lang)
    );
    let _ = writeln!(
        w,
        "  {} {} ({}){}",
        pad(l.tier),
        control.tier.id(),
        control.tier.name(lang),
        if control.short_term {
            format!(", {}", short_term_name(lang))
        } else {
            String::new()
        }
    );
    let roles: Vec<String> = control
        .roles
        .iter()
        .map(|r| format!("{} ({})", r.id(), r.name(lang)))
        .collect();
    let _ = writeln!(w, "  {} {}", pad(l.roles), roles.join(", "));
    if !control.platforms.is_empty() {
        let _ = writeln!(
            w,
            "  {} {}",
            pad(l.platforms),
            control
                .platforms
                .iter()
                .map(|f| f.id())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let steps: Vec<String> = control
        .attack_steps
        .iter()
        .map(|s| format!("{} ({})", s.id(), s.name(lang)))
        .collect();
    let _ = writeln!(w, "  {} {}", pad(l.steps), steps.join(", "));
    let _ = writeln!(w, "  {} {}", pad(l.criterion), control.criterion.get(lang));
    let r = &control.references;
    let mut refs = Vec::new();
    for (name, list) in [
        ("ATT&CK", &r.attack),
        ("CIS", &r.cis),
        ("PCI ATM", &r.pci_atm),
        ("FISC", &r.fisc),
        ("Other", &r.other),
    ] {
        if !list.is_empty() {
            refs.push(format!("{name}: {}", list.join(", ")));
        }
    }
    if !refs.is_empty() {
        let _ = writeln!(w, "  {} {}", pad(l.references), refs.join("; "));
    }
    if !control.params.is_empty() {
        let _ = writeln!(w, "  {}", l.params);
        for p in &control.params {
            let how = match &p.default {
                Some(d) => format!("{} {d}", l.default),
                None if p.ty == crate::catalog::param::ParamType::Secret => {
                    "apply time".to_string()
                }
                None => l.required.to_string(),
            };
            let _ = writeln!(
                w,
                "    {} ({}, {how}): {}",
                p.name,
                p.ty.id(),
                p.description
            );
        }
    }
    if control.is_manual() {
        let _ = writeln!(w, "  {}", l.manual);
    } else {
        let _ = writeln!(w, "  {}", l.settings);
        for s in &control.settings {
            let builds = match (s.min_build, s.max_build) {
                (None, None) => String::new(),
                (min, max) => format!(
                    " [builds {}-{}]",
                    min.map(|m| m.to_string()).unwrap_or_default(),
                    max.map(|m| m.to_string()).unwrap_or_default()
                ),
            };
            let _ = writeln!(w, "    {}: {}{builds}", s.family, s.raw_summary());
        }
    }
    let _ = writeln!(w, "  {} {}", pad(l.defined), sources.location(control.span));
    out
}

pub fn to_json(control: &Control, sources: &SourceMap) -> Value {
    json!({
        "id": control.id,
        "title": control.title,
        "category": control.category.id(),
        "tier": control.tier.id(),
        "short_term": control.short_term,
        "roles": control.roles.iter().map(|r| r.id()).collect::<Vec<_>>(),
        "platforms": control.platforms.iter().map(|f| f.id()).collect::<Vec<_>>(),
        "attack_steps": control.attack_steps.iter().map(|s| s.id()).collect::<Vec<_>>(),
        "criterion": control.criterion,
        "references": control.references,
        "manual": control.is_manual(),
        "params": control.params.iter().map(|p| json!({
            "name": p.name,
            "type": p.ty.id(),
            "default": p.default,
            "required": p.required(),
            "description": p.description,
        })).collect::<Vec<_>>(),
        "settings": control.settings.iter().map(|s| json!({
            "platform": s.family.id(),
            "kind": s.kind,
            "declared": s.raw_summary(),
            "min_build": s.min_build,
            "max_build": s.max_build,
        })).collect::<Vec<_>>(),
        "source": sources.location(control.span).to_string(),
    })
}

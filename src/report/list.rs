//! `hardbase list`: controls (filterable), roles and platforms.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::catalog::taxonomy::{self, Category, Lang, Role, Tier};
use crate::catalog::{Catalog, Control};

/// Which controls to list.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub role: Option<Role>,
    pub tier: Option<Tier>,
    pub category: Option<Category>,
    pub short_term: bool,
}

impl Filter {
    pub fn matches(&self, c: &Control) -> bool {
        self.role.is_none_or(|r| c.roles.contains(&r))
            && self.tier.is_none_or(|t| c.tier == t)
            && self.category.is_none_or(|k| c.category == k)
            && (!self.short_term || c.short_term)
    }
}

pub fn controls<'a>(catalog: &'a Catalog, filter: &Filter) -> Vec<&'a Control> {
    let mut out: Vec<&Control> = catalog
        .controls
        .values()
        .map(|c| &**c)
        .filter(|c| filter.matches(c))
        .collect();
    out.sort_by_key(|c| {
        (
            Category::ALL.iter().position(|k| *k == c.category),
            c.id.clone(),
        )
    });
    out
}

pub fn controls_text(list: &[&Control], lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12} {:<14} {:<15} {:<6} {:<7} TITLE",
        "ID", "CATEGORY", "TIER", "SHORT", "MANUAL"
    );
    for c in list {
        let _ = writeln!(
            out,
            "{:<12} {:<14} {:<15} {:<6} {:<7} {}",
            c.id,
            c.category.id(),
            c.tier.id(),
            if c.short_term { "yes" } else { "" },
            if c.is_manual() { "yes" } else { "" },
            c.title.get(lang)
        );
    }
    let _ = writeln!(out, "{} controls", list.len());
    out
}

pub fn controls_json(list: &[&Control]) -> Value {
    Value::Array(
        list.iter()
            .map(|c| {
                json!({
                    "id": c.id,
                    "title": c.title,
                    "category": c.category.id(),
                    "tier": c.tier.id(),
                    "short_term": c.short_term,
                    "manual": c.is_manual(),
                    "roles": c.roles.iter().map(|r| r.id()).collect::<Vec<_>>(),
                    "platforms": c.platforms.iter().map(|f| f.id()).collect::<Vec<_>>(),
                    "settings": c.settings.len(),
                })
            })
            .collect(),
    )
}

pub fn roles_text(lang: Lang) -> String {
    let mut out = String::new();
    for r in Role::ALL {
        let platforms: Vec<&str> = taxonomy::PLATFORMS
            .iter()
            .filter(|p| p.roles.contains(r))
            .map(|p| p.id)
            .collect();
        let _ = writeln!(
            out,
            "{:<18} {}  [{}]",
            r.id(),
            r.name(lang),
            platforms.join(", ")
        );
    }
    out
}

pub fn roles_json() -> Value {
    Value::Array(
        Role::ALL
            .iter()
            .map(|r| {
                json!({
                    "id": r.id(),
                    "name": { "en": r.name(Lang::En), "ja": r.name(Lang::Ja) },
                    "platforms": taxonomy::PLATFORMS.iter().filter(|p| p.roles.contains(r)).map(|p| p.id).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

pub fn platforms_text() -> String {
    let mut out = String::new();
    for p in taxonomy::PLATFORMS {
        let roles: Vec<&str> = p.roles.iter().map(|r| r.id()).collect();
        let build = if p.build == 0 {
            String::new()
        } else {
            format!("build {}", p.build)
        };
        let _ = writeln!(
            out,
            "{:<26} {:<8} {:<11} {}  [{}]",
            p.id,
            p.family.id(),
            build,
            p.name,
            roles.join(", ")
        );
    }
    out
}

pub fn platforms_json() -> Value {
    Value::Array(
        taxonomy::PLATFORMS
            .iter()
            .map(|p| {
                json!({
                    "id": p.id,
                    "family": p.family.id(),
                    "build": p.build,
                    "name": p.name,
                    "roles": p.roles.iter().map(|r| r.id()).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

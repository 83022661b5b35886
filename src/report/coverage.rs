//! `hardbase coverage`: what the catalog (or a set of profiles) covers.
//!
//! Two tables. The first counts controls per role × category × tier (easy / cost-effective,
//! short-term in brackets). The second shows, per role, which steps of an attack on an
//! unattended terminal the controls address: how many controls name the step and how many of
//! those are machine-checked (they have settings hardbase applies and diffs, as opposed to
//! manual controls checked by evidence). Without profiles the rows are the catalog's roles; with
//! profiles they are the profiles, counting the controls each one resolves to (excluded ones
//! left out, and only enforced or weakened controls with settings counted as machine-checked).

use std::fmt::Write as _;

use serde::Serialize;

use crate::catalog::taxonomy::{AttackStep, Category, Lang, Role, Tier, PLATFORMS};
use crate::catalog::{Catalog, Control};
use crate::model::{ControlStatus, DesiredState};

/// One counted control: what it is and whether it is machine-checked where it is counted.
struct Counted<'a> {
    control: &'a Control,
    machine: bool,
}

/// One row of both tables.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// The role id, or the profile name and its role.
    pub name: String,
    /// The profile, when the row is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(serialize_with = "role_id")]
    pub role: Role,
    /// Per category (in [`Category::ALL`] order): easy, cost-effective, short-term.
    pub categories: Vec<CategoryCell>,
    pub total: usize,
    pub machine_checked: usize,
    /// Per attack step (in [`AttackStep::ALL`] order).
    pub steps: Vec<StepCell>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CategoryCell {
    #[serde(serialize_with = "category_id")]
    pub category: Category,
    pub easy: usize,
    pub cost_effective: usize,
    pub short_term: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct StepCell {
    #[serde(serialize_with = "step_id")]
    pub step: AttackStep,
    /// Controls that name the step.
    pub controls: usize,
    /// Of those, the machine-checked ones.
    pub machine_checked: usize,
    /// Their ids, machine-checked first.
    pub ids: Vec<String>,
}

fn role_id<S: serde::Serializer>(r: &Role, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(r.id())
}

fn category_id<S: serde::Serializer>(c: &Category, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.id())
}

fn step_id<S: serde::Serializer>(a: &AttackStep, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(a.id())
}

/// Whether a control has a setting that applies to a machine of this role.
pub fn machine_checked_for(control: &Control, role: Role) -> bool {
    control.settings.iter().any(|s| {
        (s.roles.is_empty() || s.roles.contains(&role))
            && PLATFORMS
                .iter()
                .any(|p| p.family == s.family && p.roles.contains(&role))
    })
}

fn row(profile: Option<String>, role: Role, counted: &[Counted]) -> Row {
    let name = match &profile {
        Some(p) => format!("{p} ({})", role.id()),
        None => role.id().to_string(),
    };
    let categories = Category::ALL
        .iter()
        .map(|k| {
            let of: Vec<&Counted> = counted
                .iter()
                .filter(|c| c.control.category == *k)
                .collect();
            CategoryCell {
                category: *k,
                easy: of.iter().filter(|c| c.control.tier == Tier::Easy).count(),
                cost_effective: of
                    .iter()
                    .filter(|c| c.control.tier == Tier::CostEffective)
                    .count(),
                short_term: of.iter().filter(|c| c.control.short_term).count(),
            }
        })
        .collect();
    let steps = AttackStep::ALL
        .iter()
        .map(|step| {
            let mut of: Vec<&Counted> = counted
                .iter()
                .filter(|c| c.control.attack_steps.contains(step))
                .collect();
            of.sort_by_key(|c| (!c.machine, c.control.id.clone()));
            StepCell {
                step: *step,
                controls: of.len(),
                machine_checked: of.iter().filter(|c| c.machine).count(),
                ids: of.iter().map(|c| c.control.id.clone()).collect(),
            }
        })
        .collect();
    Row {
        name,
        profile,
        role,
        categories,
        total: counted.len(),
        machine_checked: counted.iter().filter(|c| c.machine).count(),
        steps,
    }
}

/// One row per role, from the catalog (imported, include-only controls left out).
pub fn of_catalog(catalog: &Catalog) -> Vec<Row> {
    Role::ALL
        .iter()
        .map(|role| {
            let counted: Vec<Counted> = catalog
                .controls
                .values()
                .filter(|c| !c.include_only && c.roles.contains(role))
                .map(|c| Counted {
                    control: c,
                    machine: machine_checked_for(c, *role),
                })
                .collect();
            row(None, *role, &counted)
        })
        .collect()
}

/// One row per resolved profile.
pub fn of_profiles(states: &[DesiredState]) -> Vec<Row> {
    states
        .iter()
        .map(|state| {
            let counted: Vec<Counted> = state
                .controls
                .iter()
                .filter(|c| c.status != ControlStatus::Excluded)
                .map(|c| Counted {
                    control: &c.control,
                    machine: matches!(c.status, ControlStatus::Enforced | ControlStatus::Weakened)
                        && !c.settings.is_empty(),
                })
                .collect();
            row(
                Some(state.profile.name.clone()),
                state.profile.role,
                &counted,
            )
        })
        .collect()
}

fn category_cell(c: &CategoryCell) -> String {
    if c.easy + c.cost_effective == 0 {
        return "-".into();
    }
    let mut s = format!("{}/{}", c.easy, c.cost_effective);
    if c.short_term > 0 {
        let _ = write!(s, " [{}]", c.short_term);
    }
    s
}

fn step_cell(c: &StepCell) -> String {
    if c.controls == 0 {
        "-".into()
    } else {
        format!("{}/{}", c.controls, c.machine_checked)
    }
}

fn headings(rows: &[Row], lang: Lang) -> (&'static str, &'static str, &'static str, &'static str) {
    let profiles = rows.iter().any(|r| r.profile.is_some());
    match (lang, profiles) {
        (Lang::En, false) => (
            "Controls per role, category and tier: easy/cost-effective [short-term]",
            "Attack steps per role: controls that address the step / of those machine-checked",
            "ROLE",
            "TOTAL (MACHINE)",
        ),
        (Lang::En, true) => (
            "Controls per profile, category and tier: easy/cost-effective [short-term]",
            "Attack steps per profile: controls that address the step / of those machine-checked",
            "PROFILE (ROLE)",
            "TOTAL (MACHINE)",
        ),
        (Lang::Ja, false) => (
            "役割・分類・区分ごとの対策数：取り組みやすい対策/コストパフォーマンスの良い対策 [短期の対応]",
            "役割ごとの攻撃段階への対応：対応する対策数/うち機械的に検査できる対策数",
            "役割",
            "合計（機械検査）",
        ),
        (Lang::Ja, true) => (
            "プロファイル・分類・区分ごとの対策数：取り組みやすい対策/コストパフォーマンスの良い対策 [短期の対応]",
            "プロファイルごとの攻撃段階への対応：対応する対策数/うち機械的に検査できる対策数",
            "プロファイル（役割）",
            "合計（機械検査）",
        ),
    }
}

/// Aligned text tables.
pub fn text(rows: &[Row], lang: Lang) -> String {
    let (first, second, role_head, total_head) = headings(rows, lang);
    let name_width = rows
        .iter()
        .map(|r| r.name.chars().count())
        .chain([role_head.chars().count(), 18])
        .max()
        .unwrap_or(18);
    let mut out = String::new();
    let _ = writeln!(out, "{first}\n");
    let _ = write!(out, "{role_head:<name_width$}");
    for k in Category::ALL {
        let _ = write!(out, "  {:<14}", k.id());
    }
    let _ = writeln!(out, "  {total_head}");
    for r in rows {
        let _ = write!(out, "{:<name_width$}", r.name);
        for c in &r.categories {
            let _ = write!(out, "  {:<14}", category_cell(c));
        }
        let _ = writeln!(out, "  {} ({})", r.total, r.machine_checked);
    }
    let _ = writeln!(out, "\n{second}\n");
    let _ = write!(out, "{role_head:<name_width$}");
    for s in AttackStep::ALL {
        let _ = write!(out, "  {:<7}", s.id());
    }
    let _ = writeln!(out);
    for r in rows {
        let _ = write!(out, "{:<name_width$}", r.name);
        for c in &r.steps {
            let _ = write!(out, "  {:<7}", step_cell(c));
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out);
    for s in AttackStep::ALL {
        let _ = writeln!(out, "{:<4} {}", s.id(), s.name(lang));
    }
    out.lines()
        .map(|l| l.trim_end().to_string() + "\n")
        .collect()
}

/// Markdown tables (the README shows these).
pub fn markdown(rows: &[Row], lang: Lang) -> String {
    let (first, second, role_head, total_head) = headings(rows, lang);
    let mut out = String::new();
    let _ = writeln!(out, "{first}\n");
    let _ = write!(out, "| {role_head} |");
    for k in Category::ALL {
        let _ = write!(out, " {} |", k.name(lang));
    }
    let _ = writeln!(out, " {total_head} |");
    let _ = writeln!(out, "|---|{}---|", "---|".repeat(Category::ALL.len()));
    for r in rows {
        let _ = write!(out, "| {} |", md_escape(&r.name));
        for c in &r.categories {
            let _ = write!(out, " {} |", category_cell(c));
        }
        let _ = writeln!(out, " {} ({}) |", r.total, r.machine_checked);
    }
    let _ = writeln!(out, "\n{second}\n");
    let _ = write!(out, "| {role_head} |");
    for s in AttackStep::ALL {
        let _ = write!(out, " {} |", s.id());
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "|---|{}", "---|".repeat(AttackStep::ALL.len()));
    for r in rows {
        let _ = write!(out, "| {} |", md_escape(&r.name));
        for c in &r.steps {
            let _ = write!(out, " {} |", step_cell(c));
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out);
    for s in AttackStep::ALL {
        let _ = writeln!(out, "- {}: {}", s.id(), s.name(lang));
    }
    out
}

fn md_escape(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The rows as JSON.
pub fn json(rows: &[Row]) -> serde_json::Value {
    serde_json::json!({ "rows": rows })
}

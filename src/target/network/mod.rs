//! The network-device target: one IOS / IOS XE configuration per profile,
//! `network/<profile>.cfg`.
//!
//! [`config`] orders the lines so that entering them one by one never cuts the management
//! session; [`acl`] builds access-list entries from the profile's flows. [`validate`] checks
//! what only the whole configuration reveals: every flow an access list names exists, every
//! applied access list is defined, and no line is both required and forbidden.

pub mod acl;
pub mod config;

use crate::catalog::setting::SettingKind;
use crate::model::{DesiredSetting, DesiredState};
use crate::output::TreeFiles;

/// The settings whose values the configuration could not carry, with the reason.
pub fn validate(state: &DesiredState) -> Vec<(&DesiredSetting, String)> {
    let mut problems = Vec::new();
    let defined: Vec<&str> = state
        .settings()
        .filter_map(|s| match &s.kind {
            SettingKind::IosAcl(a) => Some(a.name.as_str()),
            _ => None,
        })
        .collect();
    let required: Vec<&str> = state
        .settings()
        .filter_map(|s| match &s.kind {
            SettingKind::IosGlobal(g) => Some(g.lines.iter().map(String::as_str)),
            _ => None,
        })
        .flatten()
        .collect();
    for s in state.settings() {
        match &s.kind {
            SettingKind::IosAcl(a) => {
                if let Err(e) = acl::entries(a, &state.flows) {
                    problems.push((s, e));
                }
            }
            SettingKind::IosSection(sec) => {
                for line in &sec.lines {
                    if let Some(name) = config::referenced_list(line) {
                        if !defined.contains(&name) {
                            problems.push((
                                s,
                                format!("`{line}` applies access list {name}, which the profile does not define (an undefined list must never guard a management or terminal path)"),
                            ));
                        }
                    }
                }
            }
            SettingKind::IosForbidden(f) => {
                for line in &f.lines {
                    if required.contains(&line.as_str()) {
                        problems.push((s, format!("`{line}` is both required and forbidden")));
                    }
                }
                for p in &f.prefixes {
                    if let Some(l) = required.iter().find(|l| l.starts_with(p.as_str())) {
                        problems.push((
                            s,
                            format!("`{l}` is required, but lines beginning `{p}` are forbidden"),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    problems
}

/// The configuration file of a network-device profile.
pub fn emit(state: &DesiredState) -> Result<TreeFiles, String> {
    let has_settings = state.settings().any(|s| {
        matches!(
            s.kind,
            SettingKind::IosGlobal(_)
                | SettingKind::IosForbidden(_)
                | SettingKind::IosSection(_)
                | SettingKind::IosAcl(_)
        )
    });
    if !has_settings {
        return Ok(Vec::new());
    }
    let text = config::render(state)?;
    Ok(vec![(
        format!("network/{}.cfg", state.profile.name),
        text.into_bytes(),
    )])
}

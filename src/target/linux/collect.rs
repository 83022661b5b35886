//! collect.sh: read-only bash that gathers the snapshot folder `hardbase diff` reads (the
//! layout of [`crate::snapshot`]).
//!
//! The script is the same for every profile except two data tables: the absolute paths the
//! profile governs (every installed file's target and every `file` setting's path) and the
//! systemd units it governs (every `systemd_unit` setting's unit), written as POSIX
//! single-quoted words by [`super::scripts::shell_word`]. Everything else it reads is fixed by
//! the snapshot contract, so the template has no other profile value.

use std::sync::OnceLock;

use handlebars::Handlebars;
use serde_json::json;

use super::scripts::shell_word;
use super::InstallFile;
use crate::catalog::setting::SettingKind;
use crate::model::DesiredState;

const TEMPLATE: &str = include_str!("../../../templates/linux/collect.sh.hbs");

/// The absolute paths the profile governs, sorted and without duplicates.
pub fn governed_paths(state: &DesiredState) -> Result<Vec<String>, String> {
    governed_paths_of(state, &super::emit::install_files(state)?)
}

/// [`governed_paths`] of a profile that installs `installs`.
fn governed_paths_of(
    state: &DesiredState,
    installs: &[InstallFile],
) -> Result<Vec<String>, String> {
    let mut paths: Vec<String> = installs.iter().map(|f| f.target.clone()).collect();
    paths.extend(state.settings().filter_map(|s| match &s.kind {
        SettingKind::File(f) => Some(f.path.clone()),
        _ => None,
    }));
    paths.sort();
    paths.dedup();
    for p in &paths {
        let plain = p.starts_with('/')
            && !p.ends_with('/')
            && !p.split('/').any(|c| c == "." || c == "..")
            && !p.chars().any(|c| c.is_control() || c.is_whitespace());
        if !plain {
            return Err(format!(
                "`{}` is not a plain absolute path collect.sh can stat",
                p.escape_debug()
            ));
        }
    }
    Ok(paths)
}

/// The systemd units the profile governs, sorted and without duplicates. collect.sh passes them
/// to `systemctl list-unit-files` as patterns, which match unit names literally: a unit name
/// (checked when the catalog loads) has no `*`, `?` or `[`.
pub fn governed_units(state: &DesiredState) -> Vec<String> {
    let mut units: Vec<String> = state
        .settings()
        .filter_map(|s| match &s.kind {
            SettingKind::SystemdUnit(u) => Some(u.unit.clone()),
            _ => None,
        })
        .collect();
    units.sort();
    units.dedup();
    units
}

/// collect.sh for a resolved Linux profile.
pub fn script(state: &DesiredState) -> Result<String, String> {
    script_for(state, &super::emit::install_files(state)?)
}

/// [`script`] for a profile that installs `installs` ([`super::emit::install_files`]).
pub fn script_for(state: &DesiredState, installs: &[InstallFile]) -> Result<String, String> {
    let paths = governed_paths_of(state, installs)?;
    let units = governed_units(state);
    for word in paths.iter().chain(&units) {
        shell_word(word)?;
    }
    if let Some(u) = units.iter().find(|u| u.contains(['*', '?', '['])) {
        return Err(format!("unit name `{}` is a pattern", u.escape_debug()));
    }
    let data = json!({
        "profile": state.profile.name,
        "collector": format!("hardbase {} collect.sh", env!("CARGO_PKG_VERSION")),
        "paths": paths,
        "units": units,
    });
    shell_word(&state.profile.name)?;
    registry()?
        .render_with_context("collect", &handlebars::Context::from(data))
        .map_err(|e| format!("template collect.sh.hbs: {e}"))
}

/// collect.sh's template, compiled once per process.
fn registry() -> Result<&'static Handlebars<'static>, String> {
    static REGISTRY: OnceLock<Result<Handlebars<'static>, String>> = OnceLock::new();
    REGISTRY
        .get_or_init(|| {
            crate::target::one_template_registry(
                "collect",
                TEMPLATE,
                Some("collect"),
                // Every value was checked by shell_word before rendering, so quoting cannot fail.
                |text| shell_word(text).unwrap_or_else(|_| "''".to_string()),
                "template collect.sh.hbs",
            )
        })
        .as_ref()
        .map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    #[test]
    fn template_never_emits_raw_values() {
        assert!(!super::TEMPLATE.contains("{{{"));
    }
}

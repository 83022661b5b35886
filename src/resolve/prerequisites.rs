//! Lockdown features that need a Windows optional feature in the same profile.
//!
//! Shell Launcher, Keyboard Filter and the Unified Write Filter exist only once their feature is
//! enabled (windows-lockdown.md §1, §2, §3): `Client-EmbeddedShellLauncher`,
//! `Client-KeyboardFilter`, `Client-UnifiedWriteFilter`. The Features phase runs before the
//! kiosk-shell and write-filter phases, so a profile that sets the feature gets it in time; a
//! profile that leaves it out (or disables it) would fail at apply time on the terminal, after
//! the other phases changed the machine.

use crate::catalog::setting::{FeatureState, SettingKind};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{ControlState, ControlStatus};

/// The optional feature a lockdown kind needs, with the feature's display name.
fn needed_feature(kind: &SettingKind) -> Option<(&'static str, &'static str)> {
    match kind {
        SettingKind::KioskShell(_) => Some(("Client-EmbeddedShellLauncher", "Shell Launcher")),
        SettingKind::KeyboardFilter(_) => Some(("Client-KeyboardFilter", "Keyboard Filter")),
        SettingKind::WriteFilter(_) => Some(("Client-UnifiedWriteFilter", "Unified Write Filter")),
        _ => None,
    }
}

pub fn check(controls: &[ControlState], diags: &mut Diagnostics) {
    let active = || {
        controls
            .iter()
            .filter(|c| c.status != ControlStatus::Excluded)
            .flat_map(|c| c.settings.iter().map(move |s| (c, s)))
    };
    for (control, setting) in active() {
        let Some((feature, what)) = needed_feature(&setting.kind) else {
            continue;
        };
        let state = active().find_map(|(_, s)| match &s.kind {
            SettingKind::OptionalFeature(f) if f.name.eq_ignore_ascii_case(feature) => {
                Some((f.state, s.origin))
            }
            _ => None,
        });
        match state {
            Some((FeatureState::Enabled, _)) => {}
            Some((FeatureState::Disabled, at)) => diags.push(
                Diagnostic::error(
                    Code::LockdownConflict,
                    format!(
                        "control {} configures the {what}, but the profile removes its feature {feature}",
                        control.control.id
                    ),
                )
                .at(setting.origin, "needs the feature")
                .also(at, "the feature is disabled here"),
            ),
            None => diags.push(
                Diagnostic::error(
                    Code::LockdownConflict,
                    format!(
                        "control {} configures the {what}, but no setting of the profile enables its feature {feature}",
                        control.control.id
                    ),
                )
                .at(setting.origin, "needs the feature")
                .note(format!("add an `optional_feature` setting `{feature}` with state \"enabled\" (the Features phase runs before this one), or the phase fails on the terminal after the others changed it")),
            ),
        }
    }
}

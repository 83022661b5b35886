//! Lockdown combinations that would break the terminal they harden.
//!
//! A device-installation restriction must leave the terminal's own peripherals installable
//! (windows-lockdown.md section 5 and pitfall 4): every id in `peripheral_device_ids` is on the
//! allow list, and "Prevent installation of removable devices" is layered, because without
//! `AllowDenyLayered` every Prevent policy beats every Allow policy and USB peripherals are
//! removable. Removable-storage denials act on storage interfaces only, so they are not checked.

use std::collections::BTreeMap;

use crate::catalog::param::ParamValue;
use crate::catalog::setting::SettingKind;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{ControlState, ParamState};

/// Reports every peripheral that a device-installation restriction would stop installing.
pub fn check(
    controls: &[ControlState],
    params: &BTreeMap<String, ParamState>,
    diags: &mut Diagnostics,
) {
    let Some(peripherals) = params.get("peripheral_device_ids") else {
        return;
    };
    let ParamValue::List(ids) = &peripherals.value else {
        return;
    };
    let ids: Vec<&str> = ids
        .iter()
        .filter_map(|v| match v {
            ParamValue::String(s) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    if ids.is_empty() {
        return;
    }
    for control in controls {
        for setting in &control.settings {
            let SettingKind::DeviceInstall(d) = &setting.kind else {
                continue;
            };
            if !(d.deny_unspecified || d.deny_removable) {
                continue;
            }
            let at = |d: Diagnostic| match peripherals.origin {
                Some(span) => d
                    .at(span, "the terminal's peripherals")
                    .also(setting.origin, "the restriction"),
                None => d.at(setting.origin, "the restriction"),
            };
            // Hardware ids compare case-insensitively in PnP.
            let missing: Vec<&str> = ids
                .iter()
                .copied()
                .filter(|id| {
                    !d.allow_device_ids
                        .iter()
                        .any(|a| a.eq_ignore_ascii_case(id))
                })
                .collect();
            if d.deny_unspecified && !missing.is_empty() {
                diags.push(
                    at(Diagnostic::error(
                        Code::LockdownConflict,
                        format!(
                            "control {} prevents installing devices not on its allow list, which lacks the peripherals {}",
                            control.control.id,
                            missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
                        ),
                    ))
                    .note("the peripheral would stop working after a driver update or a port change; allow every id in `peripheral_device_ids`"),
                );
            }
            if d.deny_removable && !d.layered {
                diags.push(
                    at(Diagnostic::error(
                        Code::LockdownConflict,
                        format!(
                            "control {} prevents installing removable devices without layered evaluation, so the USB peripherals stay blocked even when allowed",
                            control.control.id
                        ),
                    ))
                    .note("set `layered = true` (AllowDenyLayered), or deny removable storage instead (RemovableStorageDevices)"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::setting::ApplyPhase;
    use crate::target::windows::powershell::WINDOWS_PHASES;

    /// UWF discards whatever is written after it is enabled, so it is always applied last.
    #[test]
    fn write_filter_is_the_last_windows_phase() {
        assert_eq!(WINDOWS_PHASES.last(), Some(&ApplyPhase::WriteFilter));
        assert!(WINDOWS_PHASES.windows(2).all(|w| w[0] < w[1]));
        assert!(WINDOWS_PHASES.iter().all(|p| *p <= ApplyPhase::WriteFilter));
    }
}

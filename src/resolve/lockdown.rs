//! Lockdown combinations that would break the terminal they harden.
//!
//! A device-installation restriction must leave the terminal's own peripherals installable
//! (windows-lockdown.md section 5 and pitfall 4): every id in `peripheral_device_ids` is on the
//! allow list, and "Prevent installation of removable devices" is layered, because without
//! `AllowDenyLayered` every Prevent policy beats every Allow policy and USB peripherals are
//! removable. Removable-storage denials act on storage interfaces only, so they are not checked.
//!
//! The kiosk lockdowns exclude each other (section 1 "Limitations", section 4, pitfall 7):
//! Microsoft does not support Shell Launcher and Assigned Access on the same system, and Shell
//! Launcher v1 (`WESL_UserSetting`, eshell.exe) and v2 (the `MDM_AssignedAccess.ShellLauncher`
//! XML, CustomShellHost.exe) are different mechanisms, so one profile uses one of them. v2 exists
//! from build 17763 (Windows 10 1809, LTSC 2019), where it still needs update KB4551853.

use std::collections::BTreeMap;

use crate::catalog::param::ParamValue;
use crate::catalog::setting::{SettingKind, ShellLauncherVersion};
use crate::catalog::taxonomy::Platform;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{ControlState, DesiredSetting, ParamState};

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

/// The first build with Shell Launcher v2; on this very build it needs KB4551853.
const SHELL_LAUNCHER_V2_BUILD: u32 = 17763;

/// Refuses kiosk lockdowns that cannot share a machine, and Shell Launcher v2 on a build
/// without it.
pub fn check_kiosk(
    controls: &[ControlState],
    platform: Option<&Platform>,
    diags: &mut Diagnostics,
) {
    let settings = || controls.iter().flat_map(|c| &c.settings);
    let shell = |version: ShellLauncherVersion| -> Option<&DesiredSetting> {
        settings().find(|s| matches!(&s.kind, SettingKind::KioskShell(k) if k.launcher == version))
    };
    let (v1, v2) = (
        shell(ShellLauncherVersion::V1),
        shell(ShellLauncherVersion::V2),
    );
    let assigned = settings().find(|s| matches!(s.kind, SettingKind::AssignedAccess(_)));
    // Two settings that cannot share a machine: the first is the primary location.
    let mut conflict = |(a, a_label): (&DesiredSetting, &str),
                        (b, b_label): (&DesiredSetting, &str),
                        message: String,
                        note: &str| {
        diags.push(
            Diagnostic::error(Code::LockdownConflict, message)
                .at(a.origin, a_label)
                .also(b.origin, b_label)
                .note(note),
        );
    };
    if let (Some(kiosk), Some(assigned)) = (v1.or(v2), assigned) {
        conflict(
            (kiosk, "Shell Launcher"),
            (assigned, "Assigned Access"),
            format!(
                "control {} sets a Shell Launcher shell and control {} sets Assigned Access, which cannot both be configured on one machine",
                kiosk.control, assigned.control
            ),
            "Microsoft does not support Shell Launcher and Assigned Access on the same system: use Shell Launcher for a desktop (Win32) ATM application, Assigned Access only for a single UWP app",
        );
    }
    if let (Some(v1), Some(v2)) = (v1, v2) {
        conflict(
            (v1, "Shell Launcher v1 (WESL_UserSetting)"),
            (v2, "Shell Launcher v2 (MDM_AssignedAccess.ShellLauncher)"),
            format!(
                "control {} uses Shell Launcher v1 and control {} uses Shell Launcher v2, which must not both be configured",
                v1.control, v2.control
            ),
            "v1 (eshell.exe) and v2 (CustomShellHost.exe) are different mechanisms: give every kiosk shell of the profile the same `launcher`",
        );
    }
    if let (Some(v2), Some(platform)) = (v2, platform) {
        if platform.build < SHELL_LAUNCHER_V2_BUILD {
            diags.push(
                Diagnostic::error(
                    Code::LockdownConflict,
                    format!(
                        "control {} uses Shell Launcher v2, which {} (build {}) does not have",
                        v2.control, platform.name, platform.build
                    ),
                )
                .at(v2.origin, "Shell Launcher v2")
                .note(format!("Shell Launcher v2 needs Windows 10 1809 (build {SHELL_LAUNCHER_V2_BUILD}) or later; use `launcher = \"v1\"`")),
            );
        } else if platform.build == SHELL_LAUNCHER_V2_BUILD {
            diags.push(
                Diagnostic::warning(
                    Code::LockdownConflict,
                    format!(
                        "control {} uses Shell Launcher v2, which on {} (build {}) needs update KB4551853",
                        v2.control, platform.name, platform.build
                    ),
                )
                .at(v2.origin, "Shell Launcher v2")
                .note("install KB4551853 on the image before Apply, or use `launcher = \"v1\"`"),
            );
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

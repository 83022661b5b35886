//! Settings that would strand an unattended terminal at a prompt nobody answers.
//!
//! BitLocker with TPM and PIN (windows-lockdown.md, pitfall 3) makes every restart wait for the
//! PIN at the console: a Shell Launcher `restart-device` exit action, the Unified Write Filter's
//! automatic restart when the overlay is full (Windows 10 19H1 and later) and update restarts
//! would leave the ATM dark until a technician comes. The profile may still choose it; `check`
//! says so, once, where the protector is set.

use crate::catalog::setting::{OsProtector, SettingKind, ShellExitAction};
use crate::catalog::taxonomy::Role;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{ControlState, ControlStatus};

pub fn check(controls: &[ControlState], role: Option<Role>, diags: &mut Diagnostics) {
    if !matches!(role, Some(Role::AtmTerminal | Role::KioskTerminal)) {
        return;
    }
    let active = || {
        controls
            .iter()
            .filter(|c| c.status != ControlStatus::Excluded)
            .flat_map(|c| c.settings.iter().map(move |s| (c, s)))
    };
    let restarts: Vec<&str> = active()
        .filter_map(|(_, s)| match &s.kind {
            SettingKind::KioskShell(k) if k.on_exit == ShellExitAction::RestartDevice => {
                Some("the kiosk shell restarts the device when the application exits")
            }
            SettingKind::WriteFilter(_) => {
                Some("the write filter restarts the device when its overlay is full")
            }
            _ => None,
        })
        .collect();
    for (control, setting) in active() {
        let SettingKind::Bitlocker(b) = &setting.kind else {
            continue;
        };
        if b.os_protector != OsProtector::TpmAndPin {
            continue;
        }
        let mut d = Diagnostic::warning(
            Code::LockdownConflict,
            format!(
                "control {} protects the system volume with TPM and PIN on an unattended terminal: every restart waits for the PIN at the console",
                control.control.id
            ),
        )
        .at(setting.origin, "TPM and PIN");
        for why in &restarts {
            d = d.note(format!("{why}, and would then stop at the PIN prompt"));
        }
        diags.push(d.note("update restarts stop there too; use the TPM alone (or Network Unlock on a wired branch network) unless someone is on site for every restart"));
    }
}

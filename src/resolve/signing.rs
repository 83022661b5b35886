//! Script enforcement needs signed scripts.
//!
//! A profile that makes Windows refuse unsigned PowerShell would stop hardbase's own Apply,
//! Restore, collector and acceptance kit the moment it takes effect — and with them the way
//! back. Three settings do that (windows-lockdown.md §7 and §10):
//!
//! * the "Turn on Script Execution" policy with `ExecutionPolicy` = `AllSigned`
//!   (`Software\Policies\Microsoft\Windows\PowerShell`), which beats `-ExecutionPolicy Bypass`;
//! * AppLocker script rules in enforce mode;
//! * a WDAC policy in enforce mode (script enforcement is on by default: scripts the policy does
//!   not allow run in Constrained Language Mode, where the scripts cannot work).
//!
//! Such a profile must say how the scripts are signed (`[signing]`).

use crate::catalog::setting::{AppLockerCollection, EnforcementMode, RegData, SettingKind};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::profile::Signing;
use crate::model::{ControlState, ControlStatus};

const POWERSHELL_POLICY_KEY: &str = r"Software\Policies\Microsoft\Windows\PowerShell";

/// Why a setting makes Windows refuse unsigned scripts, if it does.
pub fn enforces_signed_scripts(kind: &SettingKind) -> Option<&'static str> {
    match kind {
        SettingKind::Registry(r)
            if !r.absent
                && r.key.eq_ignore_ascii_case(POWERSHELL_POLICY_KEY)
                && r.value.eq_ignore_ascii_case("ExecutionPolicy")
                && matches!(&r.data, Some(RegData::Text(t)) if t.eq_ignore_ascii_case("AllSigned")) =>
        {
            Some("sets the PowerShell execution policy to AllSigned by Group Policy, which overrides `-ExecutionPolicy Bypass`")
        }
        SettingKind::Applocker(a)
            if a.collection == AppLockerCollection::Script && a.mode == EnforcementMode::Enforce =>
        {
            Some("enforces AppLocker script rules")
        }
        SettingKind::WdacPolicy(w) if w.mode == EnforcementMode::Enforce => Some(
            "enforces a WDAC policy, whose script enforcement runs unapproved scripts in Constrained Language Mode",
        ),
        _ => None,
    }
}

/// Reports every enforced setting that requires signed scripts when the profile has no `[signing]`.
pub fn check(controls: &[ControlState], signing: Option<&Signing>, diags: &mut Diagnostics) {
    if signing.is_some() {
        return;
    }
    for control in controls {
        if control.status == ControlStatus::Excluded {
            continue;
        }
        for setting in &control.settings {
            let Some(why) = enforces_signed_scripts(&setting.kind) else {
                continue;
            };
            diags.push(
                Diagnostic::error(
                    Code::UnsignedScripts,
                    format!(
                        "control {} {why}, but the profile does not sign its scripts",
                        control.control.id
                    ),
                )
                .at(setting.origin, "script enforcement")
                .note("hardbase's own Apply, Restore and collector would stop running once this takes effect, and with them the way back")
                .note("add a [signing] table: method = \"build-host\" (hardbase build --sign) or \"windows-host\" (Sign-Hardbase.ps1 with certificate_thumbprint), and allow that certificate's publisher in the script rules or the WDAC policy"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(toml_text: &str) -> SettingKind {
        toml::from_str(toml_text).expect("a setting")
    }

    #[test]
    fn only_enforcing_settings_need_signed_scripts() {
        let policy = |data: &str| {
            kind(&format!(
                "kind = \"registry\"\nhive = \"HKLM\"\nkey = 'SOFTWARE\\Policies\\Microsoft\\Windows\\PowerShell'\nvalue = \"executionpolicy\"\ntype = \"REG_SZ\"\ndata = \"{data}\""
            ))
        };
        assert!(enforces_signed_scripts(&policy("allsigned")).is_some());
        assert!(enforces_signed_scripts(&policy("RemoteSigned")).is_none());
        assert!(enforces_signed_scripts(&policy("Unrestricted")).is_none());
        let applocker = |collection: &str, mode: &str| {
            kind(&format!(
                "kind = \"applocker\"\ncollection = \"{collection}\"\nmode = \"{mode}\"\nrules = []"
            ))
        };
        assert!(enforces_signed_scripts(&applocker("script", "enforce")).is_some());
        assert!(enforces_signed_scripts(&applocker("script", "audit_only")).is_none());
        assert!(enforces_signed_scripts(&applocker("exe", "enforce")).is_none());
        let wdac = |mode: &str| {
            kind(&format!(
                "kind = \"wdac_policy\"\npolicy_id = \"{{4E7A1C52-9D3B-4F0A-8C61-2B7D5E9A0F13}}\"\npolicy_file = \"p.cip\"\nmode = \"{mode}\""
            ))
        };
        assert!(enforces_signed_scripts(&wdac("enforce")).is_some());
        assert!(enforces_signed_scripts(&wdac("audit_only")).is_none());
    }
}

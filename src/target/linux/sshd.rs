//! (being written)

use super::InstallFile;
use crate::model::DesiredState;

/// The files this module installs for a resolved Linux profile.
pub fn files(_state: &DesiredState) -> Result<Vec<InstallFile>, String> {
    Ok(Vec::new())
}

/// Rejects a setting value this module's files could not carry safely.
pub fn check(_setting: &crate::catalog::setting::SettingKind) -> Result<(), String> {
    Ok(())
}

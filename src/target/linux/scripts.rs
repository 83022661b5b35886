//! (being written)

use super::InstallFile;
use crate::model::DesiredState;

/// apply.sh for a resolved Linux profile that installs `files`.
pub fn apply(_state: &DesiredState, _files: &[InstallFile]) -> Result<String, String> {
    Ok(String::new())
}

/// restore.sh, which puts back what apply.sh backed up.
pub fn restore(_state: &DesiredState, _files: &[InstallFile]) -> Result<String, String> {
    Ok(String::new())
}

/// Rejects a setting value this module's files could not carry safely.
pub fn check(_setting: &crate::catalog::setting::SettingKind) -> Result<(), String> {
    Ok(())
}

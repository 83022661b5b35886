//! (being written)

use super::InstallFile;
use crate::model::DesiredState;

/// The files this module installs for a resolved Linux profile.
pub fn files(_state: &DesiredState) -> Result<Vec<InstallFile>, String> {
    Ok(Vec::new())
}

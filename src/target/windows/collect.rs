//! Collect-Hardbase.ps1: the read-only collector whose snapshot folder `hardbase diff` reads.
//!
//! It is rendered like Apply (same context, same escaping: every profile value is a
//! single-quoted literal made by [`super::powershell::quote`]) but from its own template,
//! `templates/windows/Collect-Hardbase.ps1.hbs`, which carries only the tables it needs (the
//! registry entries, the governed boot elements with the reading each value gives, the WDAC
//! destinations) and none of Apply's functions that write: the few readers it shares with Apply
//! (the BCD store) are its own read-only copies. The folder it writes is the contract described
//! in [`crate::snapshot`].

use super::powershell::{self, ScriptInput};

pub(super) const COLLECT: &str =
    include_str!("../../../templates/windows/Collect-Hardbase.ps1.hbs");

/// Collect-Hardbase.ps1 (LF line ends; [`powershell::encode`] makes the file).
pub fn collect(input: &ScriptInput) -> Result<String, String> {
    powershell::render(powershell::Script::Collect, input)
}

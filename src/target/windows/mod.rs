//! The Windows target: a GPO backup, firewall policy in the same store, and phased PowerShell 5.1.
//!
//! [`policy`] decides which channel carries each setting; the format modules write and read
//! registry.pol, GptTmpl.inf and audit.csv; [`gpo_backup`] wraps them in the folder Import-GPO
//! and `LGPO.exe /g` read; [`powershell`] writes Apply, Restore and the acceptance kit.

pub mod audit_csv;
pub mod collect;
pub mod emit;
pub mod firewall;
pub mod format_error;
pub mod gpo_backup;
pub mod gpttmpl_inf;
pub mod policy;
pub mod powershell;
pub mod registry_pol;
pub mod shell_launcher;
pub mod signing;

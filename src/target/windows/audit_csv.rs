//! audit.csv (advanced audit policy, MS-GPAC): a writer in the GPMC form and a reader for both
//! the GPO form and `auditpol /backup` output.

/// One row of audit.csv.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AuditRow {
    pub machine_name: String,
    /// `System` for subcategory rows; empty for option and global-SACL rows.
    pub policy_target: String,
    /// The subcategory name (for people only), `Option:…`, or `FileGlobalSacl`/`RegistryGlobalSacl`.
    pub subcategory: String,
    /// `{0CCE9215-69AE-11D9-BED3-505054503030}` for subcategory rows; empty otherwise.
    pub guid: String,
    pub inclusion: String,
    pub exclusion: String,
    /// 0 none/unchanged, 1 success, 2 failure, 3 both (subcategory rows); raw text otherwise.
    pub value: String,
}

//! The Linux target: configuration files, an nftables allow-list, and idempotent apply/restore
//! scripts for a live host or an offline image root.
//!
//! Each module turns the desired state into [`InstallFile`]s (what to put where on the machine,
//! with mode and owner); [`scripts`] writes apply.sh and restore.sh that install exactly those
//! files and run the service actions; [`emit`] assembles the `linux/` tree.

pub mod auditd;
pub mod collect;
pub mod emit;
pub mod files;
pub mod nftables;
pub mod scripts;
pub mod sshd;
pub mod usbguard;

/// A file hardbase installs on the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstallFile {
    /// Where it sits in the output tree, relative to `linux/` (`sysctl.d/60-hardbase.conf`).
    pub tree_path: String,
    /// The absolute path on the machine (`/etc/sysctl.d/60-hardbase.conf`).
    pub target: String,
    /// Permission bits, such as 0o644 (usbguard's rules file is 0o600).
    pub mode: u32,
    pub owner: String,
    pub group: String,
    pub bytes: Vec<u8>,
}

impl InstallFile {
    /// A root-only (0600) file holding `text`, or nothing when there is no text.
    pub fn root_only(tree_path: &str, target: &str, text: Option<String>) -> Vec<InstallFile> {
        text.map(|t| InstallFile::root(tree_path, target, 0o600, t.into_bytes()))
            .into_iter()
            .collect()
    }

    /// A root-owned file.
    pub fn root(
        tree_path: impl Into<String>,
        target: impl Into<String>,
        mode: u32,
        bytes: Vec<u8>,
    ) -> Self {
        InstallFile {
            tree_path: tree_path.into(),
            target: target.into(),
            mode,
            owner: "root".into(),
            group: "root".into(),
            bytes,
        }
    }
}

/// A module's check of one setting value.
type SettingCheck = fn(&crate::catalog::setting::SettingKind) -> Result<(), String>;

/// The settings whose values a Linux artefact could not carry, with the reason.
pub fn validate(
    state: &crate::model::DesiredState,
) -> Vec<(&crate::model::DesiredSetting, String)> {
    let checks: [SettingCheck; 6] = [
        files::check,
        nftables::check,
        sshd::check,
        auditd::check,
        usbguard::check,
        scripts::check,
    ];
    state
        .settings()
        .filter_map(|s| checks.iter().find_map(|c| c(&s.kind).err()).map(|e| (s, e)))
        .collect()
}

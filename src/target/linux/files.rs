//! The plain configuration files of the Linux target: the sysctl drop-in, the modprobe
//! drop-in, and the managed blocks of `file` and `login_defs` settings.
//!
//! Whole files are hardbase's own drop-ins (`/etc/sysctl.d/60-hardbase.conf`,
//! `/etc/modprobe.d/hardbase.conf`), installed as they are. Everything that edits a file
//! hardbase does not own is a *managed block*: its [`InstallFile`] lives under `blocks/` in the
//! tree and holds only the block's lines; apply.sh removes any earlier hardbase block from the
//! target, appends the new one between [`BLOCK_BEGIN`] and [`BLOCK_END`], and installs the
//! result only when it differs — so a second run converges instead of appending again.
//!
//! `/etc/login.defs` has no drop-in directory on Debian 12 (shadow 4.13) or RHEL 9 (shadow
//! 4.9), and PAM reads the first occurrence of a key while shadow reads the last, so its block
//! *takes over* its keys: apply.sh also drops the uncommented lines outside the block that set
//! a key the block sets (`blocks-keys/`). The replaced file is backed up and restore.sh puts
//! it back byte for byte.
//!
//! Mount options are not written here: editing `/etc/fstab` or a systemd mount unit can stop
//! a machine from booting, so apply.sh only reports them (see `scripts`).

use super::InstallFile;
use crate::catalog::setting::{RegData, SettingKind};
use crate::model::DesiredState;

/// The first line of a managed block (a `#` comment in every file hardbase edits).
pub const BLOCK_BEGIN: &str = "# BEGIN hardbase managed block: edit the profile, not this block";
/// The last line of a managed block.
pub const BLOCK_END: &str = "# END hardbase managed block";

/// Tree folder of managed blocks appended to their target.
pub const BLOCKS: &str = "blocks/";
/// Tree folder of managed blocks that also take over the keys they set (login.defs).
pub const BLOCKS_KEYS: &str = "blocks-keys/";

const HEADER: &str = "# Written by hardbase from profile ";

/// The files this module installs for a resolved Linux profile.
pub fn files(state: &DesiredState) -> Result<Vec<InstallFile>, String> {
    let profile = &state.profile.name;
    let mut sysctl: Vec<(String, String)> = Vec::new();
    let mut modules: Vec<String> = Vec::new();
    let mut login_defs: Vec<(String, String)> = Vec::new();
    let mut out = Vec::new();
    for setting in state.settings() {
        check(&setting.kind)?;
        match &setting.kind {
            SettingKind::Sysctl(s) => {
                let line = (s.key.replace('/', "."), sysctl_value(&s.value)?);
                if !sysctl.contains(&line) {
                    sysctl.push(line);
                }
            }
            SettingKind::KernelModule(m) => {
                let name = m.module.replace('-', "_");
                if !modules.iter().any(|n| n.replace('-', "_") == name) {
                    modules.push(m.module.clone());
                }
            }
            SettingKind::LoginDefs(l) => {
                let line = (l.key.clone(), l.value.clone());
                if !login_defs.contains(&line) {
                    login_defs.push(line);
                }
            }
            SettingKind::File(f) if !f.absent => {
                let mode = match &f.mode {
                    Some(m) => u32::from_str_radix(m, 8)
                        .map_err(|_| format!("file mode `{m}` is not octal"))?,
                    None => 0o644,
                };
                let mut bytes = String::new();
                for line in &f.lines {
                    bytes.push_str(line);
                    bytes.push('\n');
                }
                out.push(InstallFile {
                    tree_path: format!("{BLOCKS}{}", f.path.trim_start_matches('/')),
                    target: f.path.clone(),
                    mode,
                    owner: f.owner.clone().unwrap_or_else(|| "root".into()),
                    group: f.group.clone().unwrap_or_else(|| "root".into()),
                    bytes: bytes.into_bytes(),
                });
            }
            _ => {}
        }
    }
    if !sysctl.is_empty() {
        sysctl.sort();
        let mut text = format!("{HEADER}{profile}; read by systemd-sysctl at boot.\n");
        for (key, value) in &sysctl {
            text.push_str(&format!("{key} = {value}\n"));
        }
        out.push(InstallFile::root(
            "sysctl.d/60-hardbase.conf",
            "/etc/sysctl.d/60-hardbase.conf",
            0o644,
            text.into_bytes(),
        ));
    }
    if !modules.is_empty() {
        modules.sort();
        let mut text =
            format!("{HEADER}{profile}; these modules never load, not even on explicit request.\n");
        for m in &modules {
            text.push_str(&format!("install {m} /bin/false\nblacklist {m}\n"));
        }
        out.push(InstallFile::root(
            "modprobe.d/hardbase.conf",
            "/etc/modprobe.d/hardbase.conf",
            0o644,
            text.into_bytes(),
        ));
    }
    if !login_defs.is_empty() {
        login_defs.sort();
        let text: String = login_defs
            .iter()
            .map(|(k, v)| format!("{k} {v}\n"))
            .collect();
        out.push(InstallFile::root(
            format!("{BLOCKS_KEYS}etc/login.defs"),
            "/etc/login.defs",
            0o644,
            text.into_bytes(),
        ));
    }
    Ok(out)
}

fn sysctl_value(value: &RegData) -> Result<String, String> {
    match value {
        RegData::Number(n) => Ok(n.to_string()),
        RegData::Text(t) => Ok(t.clone()),
        RegData::List(_) => Err("a sysctl value is a number or a text, not a list".into()),
    }
}

/// Rejects a setting value this module's files could not carry safely.
pub fn check(setting: &SettingKind) -> Result<(), String> {
    match setting {
        SettingKind::Sysctl(s) => {
            let key = s.key.replace('/', ".");
            if key == "kernel.modules_disabled" {
                return Err("kernel.modules_disabled must never go into sysctl.d (it would stop the next boot from loading drivers)".into());
            }
            if key.is_empty()
                || key.starts_with('.')
                || !key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
            {
                return Err(format!(
                    "sysctl key `{}` may contain only letters, digits and `._-/`",
                    key.escape_debug()
                ));
            }
            let value = sysctl_value(&s.value)?;
            if value.trim().is_empty()
                || value.trim() != value
                || value
                    .chars()
                    .any(|c| c.is_control() || c == '#' || c == ';')
            {
                return Err(format!(
                    "sysctl value `{}` must be non-empty, without control characters, `#`, `;` or surrounding blanks",
                    value.escape_debug()
                ));
            }
            Ok(())
        }
        SettingKind::KernelModule(m) => {
            if m.module.is_empty()
                || m.module.starts_with('-')
                || !m
                    .module
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-".contains(c))
            {
                return Err(format!(
                    "module name `{}` may contain only letters, digits, `_` and `-`",
                    m.module.escape_debug()
                ));
            }
            Ok(())
        }
        SettingKind::LoginDefs(l) => {
            if l.key.is_empty()
                || !l
                    .key
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            {
                return Err(format!(
                    "login.defs key `{}` may contain only capital letters, digits and `_`",
                    l.key.escape_debug()
                ));
            }
            if l.value.is_empty()
                || l.value.starts_with('#')
                || l.value.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                return Err(format!(
                    "login.defs value `{}` must be one word without blanks or control characters",
                    l.value.escape_debug()
                ));
            }
            Ok(())
        }
        SettingKind::File(f) => {
            if !f.path.starts_with("/etc/") && !f.path.starts_with("/usr/local/") {
                return Err(format!(
                    "file `{}` must be under /etc/ or /usr/local/",
                    f.path.escape_debug()
                ));
            }
            if f.path.ends_with('/')
                || f.path.contains("//")
                || f.path.split('/').any(|part| part == "." || part == "..")
                || f.path.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                return Err(format!(
                    "file path `{}` must be a plain absolute path",
                    f.path.escape_debug()
                ));
            }
            if let Some(m) = &f.mode {
                if !(m.len() == 4 && m.bytes().all(|b| (b'0'..=b'7').contains(&b))) {
                    return Err(format!(
                        "file mode `{m}` must be four octal digits such as 0600"
                    ));
                }
            }
            for name in f.owner.iter().chain(&f.group) {
                check_account(name)?;
            }
            if f.absent && !f.lines.is_empty() {
                return Err("a file that must be absent has no `lines`".into());
            }
            for line in &f.lines {
                if line.chars().any(|c| c.is_control()) {
                    return Err(format!(
                        "file line `{}` contains a control character",
                        line.escape_debug()
                    ));
                }
                if line.trim() == BLOCK_BEGIN || line.trim() == BLOCK_END {
                    return Err("a file line must not be hardbase's own block marker".into());
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A POSIX user or group name (`root`, `_chrony`, `systemd-journal`).
fn check_account(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = name.len() <= 32
        && name
            .chars()
            .skip(1)
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-".contains(c));
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a user or group name (lower-case letters, digits, `_` and `-`)",
            name.escape_debug()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::setting::Sysctl;

    #[test]
    fn modules_disabled_is_rejected_in_either_spelling() {
        for key in ["kernel.modules_disabled", "kernel/modules_disabled"] {
            let kind = SettingKind::Sysctl(Sysctl {
                key: key.into(),
                value: RegData::Number(1),
            });
            assert!(check(&kind).is_err(), "{key}");
        }
    }

    #[test]
    fn sysctl_keys_with_equals_or_newlines_are_rejected() {
        for key in ["a=b", "a\nb", "", ".a"] {
            let kind = SettingKind::Sysctl(Sysctl {
                key: key.into(),
                value: RegData::Number(1),
            });
            assert!(check(&kind).is_err(), "{key:?}");
        }
    }
}

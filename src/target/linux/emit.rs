//! Assembles the `linux/` tree: every installed file, apply.sh and restore.sh.

use crate::model::DesiredState;
use crate::output::TreeFiles;

use super::{auditd, files, nftables, scripts, sshd, usbguard, InstallFile};

/// The files every module installs, in a stable order.
pub fn install_files(state: &DesiredState) -> Result<Vec<InstallFile>, String> {
    let mut all = Vec::new();
    all.extend(files::files(state)?);
    all.extend(nftables::files(state)?);
    all.extend(sshd::files(state)?);
    all.extend(auditd::files(state)?);
    all.extend(usbguard::files(state)?);
    all.sort_by(|a, b| a.tree_path.cmp(&b.tree_path));
    for pair in all.windows(2) {
        if pair[0].tree_path == pair[1].tree_path || pair[0].target == pair[1].target {
            return Err(format!("two Linux artefacts claim {}", pair[0].target));
        }
    }
    Ok(all)
}

/// The Linux artefacts of a resolved Linux profile.
pub fn emit(state: &DesiredState) -> Result<TreeFiles, String> {
    let installs = install_files(state)?;
    let mut out: TreeFiles = installs
        .iter()
        .map(|f| (format!("linux/{}", f.tree_path), f.bytes.clone()))
        .collect();
    let (apply, restore) = scripts::apply_and_restore(state, &installs)?;
    if !apply.is_empty() {
        out.push(("linux/apply.sh".into(), apply.into_bytes()));
        out.push(("linux/restore.sh".into(), restore.into_bytes()));
    }
    let collect = super::collect::script_for(state, &installs)?;
    out.push(("linux/collect.sh".into(), collect.into_bytes()));
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

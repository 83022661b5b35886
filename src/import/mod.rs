//! Import: existing Windows Group Policy turned into hardbase input, and two GPO backups
//! compared setting by setting.
//!
//! [`read_backup`] finds the Machine policy of a GPO backup (the `{BackupID}` folder with
//! `DomainSysvol\GPO\Machine`, a parent folder holding exactly one, or an LGPO-style
//! `GPO\Machine` folder; path components are matched case-insensitively, as Windows does)
//! and reads its registry.pol, GptTmpl.inf and audit.csv with the strict readers of
//! [`crate::target::windows`]. Every instruction, template line and audit row becomes an
//! [`Entry`]: the file it came from, a case-insensitive identity and its value as text.
//!
//! [`gpo`] turns the entries into a catalog file and a profile layer (see its notes for the
//! design); [`compare`] diffs the entries of two backups.

pub mod compare;
pub mod gpo;
pub mod snapshot;

use std::path::{Path, PathBuf};

use crate::target::windows::audit_csv::{self, AuditRow};
use crate::target::windows::gpttmpl_inf::{self, InfValue, SecurityTemplate};
use crate::target::windows::registry_pol::{self, PolData, PolEntry};

pub const REGISTRY_POL: &str = "registry.pol";
pub const GPTTMPL_INF: &str = "GptTmpl.inf";
pub const AUDIT_CSV: &str = "audit.csv";

/// The Machine policy files of one GPO backup, as read.
#[derive(Clone, Debug, Default)]
pub struct GpoFiles {
    /// The backup folder (the one holding `DomainSysvol`, or the LGPO `GPO` folder).
    pub folder: PathBuf,
    /// The GPO's display name from `bkupInfo.xml`, when there is one.
    pub display_name: Option<String>,
    pub registry: Vec<PolEntry>,
    pub template: SecurityTemplate,
    pub audit: Vec<AuditRow>,
    /// Entries of `User\registry.pol`; hardbase does not import user policy yet.
    pub user_registry: Vec<PolEntry>,
    /// Which of the three Machine files exist.
    pub present: Vec<&'static str>,
}

/// One setting of a backup, as a person and a diff see it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Entry {
    /// `registry.pol`, `GptTmpl.inf` or `audit.csv`.
    pub file: &'static str,
    /// registry.pol: the key; GptTmpl.inf: the section; audit.csv: `System` or the row kind.
    pub section: String,
    /// registry.pol: the value name; GptTmpl.inf: the key (or the whole line); audit.csv: the
    /// subcategory GUID (or the option name).
    pub name: String,
    /// The value as text (`REG_DWORD 1`, `*S-1-5-32-544`, `3`).
    pub value: String,
}

impl Entry {
    /// The identity two backups are compared by: case-insensitive.
    pub fn identity(&self) -> (String, String, String) {
        (
            self.file.to_string(),
            self.section.to_lowercase(),
            self.name.to_lowercase(),
        )
    }

    /// `registry.pol SOFTWARE\…\Name`, `GptTmpl.inf [System Access] Key`, `audit.csv {GUID}`.
    pub fn label(&self) -> String {
        let text = match self.file {
            REGISTRY_POL if self.name.is_empty() => format!("{} {}\\", self.file, self.section),
            REGISTRY_POL => format!("{} {}\\{}", self.file, self.section, self.name),
            GPTTMPL_INF => format!("{} [{}] {}", self.file, self.section, self.name),
            _ => format!("{} {}", self.file, self.name),
        };
        printable(&text)
    }
}

/// Text with control characters written as `\u{…}`, so a hostile value cannot drive a terminal.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The child of `dir` named `name`, compared case-insensitively.
fn child(dir: &Path, name: &str) -> Option<PathBuf> {
    let exact = dir.join(name);
    if exact.exists() {
        return Some(exact);
    }
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().eq_ignore_ascii_case(name))
        .map(|e| e.path())
}

fn descend(dir: &Path, parts: &[&str]) -> Option<PathBuf> {
    parts
        .iter()
        .try_fold(dir.to_path_buf(), |d, p| child(&d, p))
}

/// The `GPO` folder (holding `Machine`) of a backup folder, or of the one backup under it.
fn gpo_folder(dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    if let Some(gpo) = descend(dir, &["DomainSysvol", "GPO"]) {
        return Ok((dir.to_path_buf(), gpo));
    }
    if let Some(gpo) = child(dir, "GPO").filter(|g| child(g, "Machine").is_some()) {
        return Ok((dir.to_path_buf(), gpo));
    }
    if child(dir, "Machine").is_some() {
        return Ok((dir.to_path_buf(), dir.to_path_buf()));
    }
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut backups: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir() && descend(p, &["DomainSysvol", "GPO"]).is_some())
        .collect();
    backups.sort();
    match backups.as_slice() {
        [one] => gpo_folder(one),
        [] => Err(format!(
            "{} is not a GPO backup: no DomainSysvol\\GPO folder in it or in a folder under it",
            dir.display()
        )),
        many => Err(format!(
            "{} holds {} GPO backups; name one of them: {}",
            dir.display(),
            many.len(),
            many.iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// `<GPODisplayName><![CDATA[name]]></GPODisplayName>` of `bkupInfo.xml`.
fn display_name(folder: &Path) -> Option<String> {
    let text = std::fs::read_to_string(child(folder, "bkupInfo.xml")?).ok()?;
    let inner = text
        .split_once("<GPODisplayName>")?
        .1
        .split_once("</GPODisplayName>")?
        .0;
    let inner = inner
        .strip_prefix("<![CDATA[")
        .and_then(|s| s.strip_suffix("]]>"))
        .unwrap_or(inner);
    Some(inner.trim().to_string()).filter(|s| !s.is_empty())
}

/// Reads the Machine policy of a GPO backup; a file that cannot be read is an error naming it.
pub fn read_backup(dir: &Path) -> Result<GpoFiles, String> {
    let (folder, gpo) = gpo_folder(dir)?;
    let mut files = GpoFiles {
        display_name: display_name(&folder),
        folder,
        ..GpoFiles::default()
    };
    let read = |path: &Path| std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()));
    let machine = child(&gpo, "Machine");
    if let Some(path) = machine.as_ref().and_then(|m| child(m, REGISTRY_POL)) {
        files.registry =
            registry_pol::parse(&read(&path)?).map_err(|e| format!("{}: {e}", path.display()))?;
        files.present.push(REGISTRY_POL);
    }
    let nt = |leaf: &[&str]| {
        let mut parts = vec!["Microsoft", "Windows NT"];
        parts.extend_from_slice(leaf);
        machine.as_ref().and_then(|m| descend(m, &parts))
    };
    if let Some(path) = nt(&["SecEdit", GPTTMPL_INF]) {
        files.template =
            gpttmpl_inf::parse(&read(&path)?).map_err(|e| format!("{}: {e}", path.display()))?;
        files.present.push(GPTTMPL_INF);
    }
    if let Some(path) = nt(&["Audit", AUDIT_CSV]) {
        files.audit =
            audit_csv::parse(&read(&path)?).map_err(|e| format!("{}: {e}", path.display()))?;
        files.present.push(AUDIT_CSV);
    }
    if let Some(path) = descend(&gpo, &["User", REGISTRY_POL]) {
        files.user_registry =
            registry_pol::parse(&read(&path)?).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if files.present.is_empty() {
        return Err(format!(
            "{} has no Machine registry.pol, GptTmpl.inf or audit.csv",
            files.folder.display()
        ));
    }
    Ok(files)
}

/// A registry.pol value as text: `REG_DWORD 1`, `REG_SZ "text"`, `REG_NONE (key only)`.
pub fn pol_value(data: &PolData) -> String {
    let body = match data {
        PolData::None => "(key only)".to_string(),
        PolData::Sz(s) | PolData::ExpandSz(s) => format!("{s:?}"),
        PolData::Binary(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
        PolData::Dword(n) => n.to_string(),
        PolData::Qword(n) => n.to_string(),
        PolData::MultiSz(items) => format!("{items:?}"),
    };
    format!("{} {body}", data.type_name())
}

pub fn pol_entry(e: &PolEntry) -> Entry {
    Entry {
        file: REGISTRY_POL,
        section: e.key.clone(),
        name: e.value.clone(),
        value: pol_value(&e.data),
    }
}

pub fn inf_entry(section: &str, name: &str, value: String) -> Entry {
    Entry {
        file: GPTTMPL_INF,
        section: section.to_string(),
        name: name.to_string(),
        value,
    }
}

pub fn inf_value(v: &InfValue) -> String {
    match v {
        InfValue::Number(n) => n.to_string(),
        InfValue::Text(t) => format!("{t:?}"),
    }
}

pub fn audit_entry(row: &AuditRow) -> Entry {
    let (section, name) = if row.is_subcategory() {
        (row.policy_target.clone(), row.guid.to_ascii_uppercase())
    } else {
        (String::new(), row.subcategory.clone())
    };
    Entry {
        file: AUDIT_CSV,
        section,
        name,
        value: row.value.clone(),
    }
}

/// Every setting of the backup, in file order (registry.pol, GptTmpl.inf, audit.csv).
pub fn entries(files: &GpoFiles) -> Vec<Entry> {
    let mut out: Vec<Entry> = files.registry.iter().map(pol_entry).collect();
    let t = &files.template;
    for (k, v) in &t.system_access {
        out.push(inf_entry("System Access", k, inf_value(v)));
    }
    for (k, n) in &t.event_audit {
        out.push(inf_entry("Event Audit", k, n.to_string()));
    }
    for r in &t.registry_values {
        out.push(inf_entry(
            "Registry Values",
            &r.path,
            format!("{},{}", r.reg_type, r.data),
        ));
    }
    for (right, principals) in &t.privilege_rights {
        let mut p = principals.clone();
        p.sort_by_key(|s| s.to_ascii_uppercase());
        out.push(inf_entry("Privilege Rights", right, p.join(",")));
    }
    for s in &t.services {
        out.push(inf_entry(
            "Service General Setting",
            &s.name,
            format!("{},{:?}", s.mode, s.sddl),
        ));
    }
    for (section, lines) in &t.other {
        for line in lines {
            let (name, value) = line.split_once('=').unwrap_or((line.as_str(), ""));
            out.push(inf_entry(section, name.trim(), value.trim().to_string()));
        }
    }
    out.extend(files.audit.iter().map(audit_entry));
    out
}

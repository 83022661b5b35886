//! `hardbase verify`: a built folder against its manifest.
//!
//! A pipeline runs this before applying anything: every artefact the manifest lists must be
//! present with the recorded SHA-256 and size, and no file may have been added. Each
//! PowerShell script is reported signed or unsigned; with a [`Checker`] its Authenticode
//! signature must also verify.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::output::MANIFEST;
use crate::sign::{Checker, SignatureState};

/// The signature of one PowerShell script.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ScriptSignature {
    pub path: String,
    pub state: SignatureState,
    /// Whether the signature verified, when signatures were checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
    /// Why it did not verify.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// What verification found for one profile folder.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Verification {
    pub folder: String,
    pub profile: String,
    pub checked: usize,
    pub changed: Vec<String>,
    pub missing: Vec<String>,
    pub extra: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signatures: Vec<ScriptSignature>,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.changed.is_empty()
            && self.missing.is_empty()
            && self.extra.is_empty()
            && self.signatures.iter().all(|s| s.verified != Some(false))
    }
}

/// The profile folders under `dir`: itself if it has a manifest, else its subfolders that do.
pub fn folders(dir: &Path) -> Result<Vec<PathBuf>, String> {
    if dir.join(MANIFEST).is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join(MANIFEST).is_file())
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(format!(
            "{} holds no {MANIFEST} written by hardbase build",
            dir.display()
        ));
    }
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Verifies one profile folder; `checker` also verifies the scripts' signatures.
pub fn verify(folder: &Path, checker: Option<&Checker>) -> Result<Verification, String> {
    let manifest_path = folder.join(MANIFEST);
    let text = std::fs::read_to_string(&manifest_path)
        .map_err(|e| format!("cannot read {}: {e}", manifest_path.display()))?;
    let manifest: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not valid JSON: {e}", manifest_path.display()))?;
    if manifest.get("generator").and_then(|g| g.as_str()) != Some("hardbase") {
        return Err(format!(
            "{} was not written by hardbase",
            manifest_path.display()
        ));
    }
    let artifacts = manifest
        .get("artifacts")
        .and_then(|a| a.as_array())
        .ok_or_else(|| format!("{} has no artifact list", manifest_path.display()))?;
    let mut result = Verification {
        folder: folder.display().to_string(),
        profile: manifest
            .get("profile")
            .and_then(|p| p.as_str())
            .unwrap_or("")
            .to_string(),
        checked: 0,
        changed: Vec::new(),
        missing: Vec::new(),
        extra: Vec::new(),
        signatures: Vec::new(),
    };
    // Scripts signed on a Windows signing host after the build carry a signature block the
    // manifest cannot know: they are compared without it.
    let signed_after_build = manifest
        .get("signing")
        .and_then(|s| s.get("method"))
        .and_then(|m| m.as_str())
        == Some("windows-host");
    let mut listed = BTreeSet::new();
    for a in artifacts {
        let (Some(rel), Some(sha), Some(size)) = (
            a.get("path").and_then(|p| p.as_str()),
            a.get("sha256").and_then(|s| s.as_str()),
            a.get("size").and_then(|s| s.as_u64()),
        ) else {
            return Err(format!(
                "{} has a malformed artifact entry: {a}",
                manifest_path.display()
            ));
        };
        if rel.split('/').any(|c| c == ".." || c.is_empty()) || rel.starts_with('/') {
            return Err(format!(
                "{} lists an unsafe path `{rel}`",
                manifest_path.display()
            ));
        }
        listed.insert(rel.to_string());
        let path = rel.split('/').fold(folder.to_path_buf(), |p, c| p.join(c));
        result.checked += 1;
        let Ok(bytes) = std::fs::read(&path) else {
            result.missing.push(rel.to_string());
            continue;
        };
        let same = |b: &[u8]| b.len() as u64 == size && hex(b) == sha;
        let unsigned = &bytes[..crate::target::windows::signing::unsigned_len(&bytes)];
        if !(same(&bytes) || (signed_after_build && rel.ends_with(".ps1") && same(unsigned))) {
            result.changed.push(rel.to_string());
        }
        if rel.ends_with(".ps1") {
            result
                .signatures
                .push(script_signature(rel, &path, &bytes, checker));
        }
    }
    for entry in walkdir::WalkDir::new(folder)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
    {
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(folder)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        if rel != MANIFEST && !listed.contains(&rel) {
            result.extra.push(rel);
        }
    }
    Ok(result)
}

fn script_signature(
    rel: &str,
    path: &Path,
    bytes: &[u8],
    checker: Option<&Checker>,
) -> ScriptSignature {
    let state = crate::sign::state(bytes);
    let checked = checker.map(|c| match state {
        SignatureState::Unsigned => Err("the script is not signed".to_string()),
        SignatureState::Signed => c.check(path),
    });
    ScriptSignature {
        path: rel.to_string(),
        state,
        verified: checked.as_ref().map(Result::is_ok),
        problem: checked.and_then(Result::err),
    }
}

//! Reviewed snapshots of the example bank's Windows artefacts.
//!
//! Binary and UTF-16 files are rendered as text (registry.pol one instruction per line through
//! hardbase's reader, GptTmpl.inf decoded from UTF-16) so a change shows up as a readable diff.
//! A difference fails with a unified diff; `HARDBASE_UPDATE_SNAPSHOTS=1 cargo test snapshots`
//! rewrites the files, and the rewritten files are then read and reviewed in the commit diff.

use std::path::Path;

use hardbase::target::windows::registry_pol::{self, PolData};

use crate::util::{root, run, TempDir};

fn render_pol(bytes: &[u8]) -> String {
    let mut out = String::new();
    for e in registry_pol::parse(bytes).expect("hardbase reads its own registry.pol") {
        let data = match &e.data {
            PolData::None => "REG_NONE".to_string(),
            PolData::Sz(s) => format!("REG_SZ {s:?}"),
            PolData::ExpandSz(s) => format!("REG_EXPAND_SZ {s:?}"),
            PolData::Binary(b) => format!("REG_BINARY {b:02x?}"),
            PolData::Dword(n) => format!("REG_DWORD {n}"),
            PolData::MultiSz(l) => format!("REG_MULTI_SZ {l:?}"),
            PolData::Qword(n) => format!("REG_QWORD {n}"),
        };
        out.push_str(&format!("[{}] {} = {data}\n", e.key, e.value));
    }
    out
}

fn render_utf16(bytes: &[u8]) -> String {
    assert_eq!(&bytes[..2], &[0xFF, 0xFE], "UTF-16LE with BOM");
    let units: Vec<u16> = bytes[2..]
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    String::from_utf16(&units).unwrap().replace("\r\n", "\n")
}

fn render_utf8(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(bytes);
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .replace("\r\n", "\n")
}

/// The text rendering of every Windows artefact of a built profile, by relative path.
fn renderings(profile_dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(profile_dir.join("windows")).sort_by_file_name() {
        let entry = entry.unwrap();
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(profile_dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        // The backup folder name is a derived GUID; keep it out of snapshot file names.
        let name = rel
            .split('/')
            .map(|c| {
                if c.starts_with('{') && c.ends_with('}') {
                    "BACKUP"
                } else {
                    c
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let bytes = std::fs::read(entry.path()).unwrap();
        let text = if rel.ends_with(".pol") {
            render_pol(&bytes)
        } else if bytes.starts_with(&[0xFF, 0xFE]) {
            render_utf16(&bytes)
        } else {
            render_utf8(&bytes)
        };
        out.push((name.replace(' ', "_") + ".txt", text));
    }
    out
}

#[test]
fn example_windows_artefacts_match_the_reviewed_snapshots() {
    let dir = TempDir::new("snapshots");
    let dist = dir.path().join("dist");
    let r = run(&[
        "build",
        "examples/regional-bank/branch-atm-shinjuku.toml",
        "examples/regional-bank/relay-windows.toml",
        "--out",
        dist.to_str().unwrap(),
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let update = std::env::var_os("HARDBASE_UPDATE_SNAPSHOTS").is_some();
    let mut failures = Vec::new();
    for profile in ["branch-atm-shinjuku", "relay-secondary"] {
        let snapshot_dir = root().join("tests/snapshots").join(profile);
        let rendered = renderings(&dist.join(profile));
        assert!(rendered.len() >= 9, "{profile}: {rendered:?}");
        if update {
            let _ = std::fs::remove_dir_all(&snapshot_dir);
        }
        for (name, text) in &rendered {
            let path = snapshot_dir.join(name);
            if update {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, text).unwrap();
                continue;
            }
            let expected = std::fs::read_to_string(&path).unwrap_or_default();
            if &expected != text {
                let diff = similar::TextDiff::from_lines(&expected, text);
                failures.push(format!(
                    "{profile}/{name}:\n{}",
                    diff.unified_diff().context_radius(2)
                ));
            }
        }
        if !update {
            let on_disk = walkdir::WalkDir::new(&snapshot_dir)
                .into_iter()
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .count();
            assert_eq!(
                on_disk,
                rendered.len(),
                "{profile}: a snapshot file has no artefact any more"
            );
        }
    }
    assert!(
        failures.is_empty(),
        "the Windows artefacts differ from the reviewed snapshots (HARDBASE_UPDATE_SNAPSHOTS=1 rewrites them; review the diff):\n{}",
        failures.join("\n")
    );
}

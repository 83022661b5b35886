//! Finding the snapshots, auditing them on worker threads, and handing the results to the
//! sinks in order.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Condvar, Mutex};

use super::mapping::Mapping;
use super::{
    status_index, Finding, Fleet, FleetControl, FleetProfile, HostControl, HostResult, Sink,
    Summary, UnexpectedItem,
};
use crate::catalog::taxonomy::{Family, Lang};
use crate::drift::{DriftReport, Status};
use crate::live::LiveState;
use crate::load::document::Date;
use crate::model::DesiredState;
use crate::source::SourceMap;

/// One snapshot found under `--snapshots`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The path under the snapshots folder, with `/` separators.
    pub rel: String,
    pub path: PathBuf,
    /// A network device's `show running-config` file rather than a collector's folder.
    pub running_config: bool,
}

/// File names a network device's running configuration may have in a snapshots folder.
const CONFIG_EXTENSIONS: &[&str] = &["cfg", "txt", "conf"];

/// Finds the snapshots under `root`, sorted by path: every folder holding `snapshot.json`
/// (not looked into further), and every `*.cfg`, `*.txt` or `*.conf` file outside such a
/// folder (a running configuration). Returns the snapshots and the files that are neither.
pub fn discover(root: &Path) -> Result<(Vec<Entry>, Vec<String>), String> {
    if !root.is_dir() {
        return Err(format!("{} is not a folder of snapshots", root.display()));
    }
    // Most fleets are one folder of snapshot folders: its listing alone finds them all, without
    // opening each snapshot folder as the walk does. Anything else (a folder that is no
    // snapshot, a symbolic link, an error) is left to the walk, which finds the same snapshots
    // in the same order.
    match discover_flat(root) {
        Some(found) => Ok(found),
        None => discover_walk(root),
    }
}

/// [`discover`] by walking the whole tree.
fn discover_walk(root: &Path) -> Result<(Vec<Entry>, Vec<String>), String> {
    let mut entries = Vec::new();
    let mut skipped = Vec::new();
    // Symbolic links are followed (a fleet folder assembled from links to collected folders);
    // a link loop is an error.
    let mut walk = walkdir::WalkDir::new(root)
        .min_depth(1)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter();
    while let Some(item) = walk.next() {
        let item = item.map_err(|e| format!("cannot list {}: {e}", root.display()))?;
        let rel = relative(root, item.path());
        if item.file_type().is_dir() {
            if item.path().join(crate::snapshot::INFO_FILE).is_file() {
                entries.push(Entry {
                    rel,
                    path: item.into_path(),
                    running_config: false,
                });
                walk.skip_current_dir();
            }
            continue;
        }
        classify_file(rel, item.into_path(), &mut entries, &mut skipped);
    }
    Ok((entries, skipped))
}

/// [`discover`] from the listing of `root` alone: `None` unless every folder in it is a
/// snapshot folder, nothing in it is a symbolic link, and it can be listed.
fn discover_flat(root: &Path) -> Option<(Vec<Entry>, Vec<String>)> {
    let mut items = Vec::new();
    for item in std::fs::read_dir(root).ok()? {
        let item = item.ok()?;
        let kind = item.file_type().ok()?;
        if kind.is_symlink() {
            return None;
        }
        items.push((item.file_name(), item.path(), kind.is_dir()));
    }
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let mut entries = Vec::new();
    let mut skipped = Vec::new();
    for (_, path, is_dir) in items {
        let rel = relative(root, &path);
        if is_dir {
            if !path.join(crate::snapshot::INFO_FILE).is_file() {
                return None;
            }
            entries.push(Entry {
                rel,
                path,
                running_config: false,
            });
            continue;
        }
        classify_file(rel, path, &mut entries, &mut skipped);
    }
    Some((entries, skipped))
}

/// `path` under `root`, with `/` separators.
fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// A file outside any snapshot folder: a running configuration, or skipped.
fn classify_file(rel: String, path: PathBuf, entries: &mut Vec<Entry>, skipped: &mut Vec<String>) {
    let is_config = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| CONFIG_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
    if is_config && !rel.starts_with('.') && !rel.contains("/.") {
        entries.push(Entry {
            rel,
            path,
            running_config: true,
        });
    } else {
        skipped.push(rel);
    }
}

/// The fleet description from resolved profiles: each profile, and the union of their
/// controls sorted by category, then id.
pub fn fleet(states: &[DesiredState], files: &[String], evaluated_at: Date, lang: Lang) -> Fleet {
    let profiles = states
        .iter()
        .zip(files)
        .map(|(s, file)| FleetProfile {
            name: s.profile.name.clone(),
            file: file.clone(),
            role: s.profile.role,
            platform: s.profile.platform.id,
            family: s.profile.platform.family,
        })
        .collect();
    let mut controls: BTreeMap<(crate::catalog::taxonomy::Category, String), FleetControl> =
        BTreeMap::new();
    for c in states.iter().flat_map(|s| &s.controls) {
        let c = &c.control;
        controls
            .entry((c.category, c.id.clone()))
            .or_insert_with(|| FleetControl {
                id: c.id.clone(),
                title: c.title.clone(),
                category: c.category,
                tier: c.tier,
                short_term: c.short_term,
            });
    }
    Fleet {
        profiles,
        controls: controls.into_values().collect(),
        evaluated_at,
        lang,
        hosts: 0,
    }
}

/// Everything the workers share, read-only.
pub struct Plan<'a> {
    pub fleet: &'a Fleet,
    /// Parallel to `fleet.profiles`.
    pub states: &'a [DesiredState],
    /// Each profile prepared for diffing, parallel to `states`.
    pub prepared: &'a [crate::drift::Prepared],
    pub sources: &'a SourceMap,
    pub mapping: Option<&'a Mapping>,
    pub entries: &'a [Entry],
}

/// How far workers may run ahead of the host the sinks wait for, per worker.
const WINDOW_PER_JOB: usize = 32;

/// Audits every entry on `jobs` threads and feeds the sinks in entry order. `progress` is
/// called on the calling thread with (hosts done, hosts in all) after each host.
pub fn run(
    plan: &Plan<'_>,
    jobs: usize,
    sinks: &mut [&mut dyn Sink],
    progress: &mut dyn FnMut(usize, usize),
) -> std::io::Result<Summary> {
    let fleet = plan.fleet;
    for sink in sinks.iter_mut() {
        sink.begin(fleet)?;
    }
    let control_index: HashMap<&str, usize> = fleet
        .controls
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let total = plan.entries.len();
    let jobs = jobs.clamp(1, total.max(1));
    let window = WINDOW_PER_JOB * jobs;
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    // The index the sinks wait for next; workers do not start an entry `window` beyond it.
    let written = Mutex::new(0usize);
    let advanced = Condvar::new();
    let mut summary = Summary {
        hosts: total,
        control_hosts: vec![[0; 7]; fleet.controls.len()],
        ..Summary::default()
    };
    let result = std::thread::scope(|scope| -> std::io::Result<()> {
        let (tx, rx) = mpsc::sync_channel::<(usize, HostResult)>(window);
        for _ in 0..jobs {
            let tx = tx.clone();
            let (next, stop, written, advanced) = (&next, &stop, &written, &advanced);
            let control_index = &control_index;
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total || stop.load(Ordering::Relaxed) {
                    break;
                }
                {
                    let mut w = written.lock().unwrap_or_else(|e| e.into_inner());
                    while i >= *w + window && !stop.load(Ordering::Relaxed) {
                        w = advanced.wait(w).unwrap_or_else(|e| e.into_inner());
                    }
                }
                let entry = &plan.entries[i];
                let host = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    audit_one(plan, control_index, entry)
                }))
                .unwrap_or_else(|_| HostResult {
                    snapshot: entry.rel.clone(),
                    host: fallback_host(entry),
                    error: Some("internal error while auditing this snapshot".into()),
                    ..HostResult::default()
                });
                if tx.send((i, host)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut pending: BTreeMap<usize, HostResult> = BTreeMap::new();
        let mut at = 0usize;
        let outcome = (|| -> std::io::Result<()> {
            for (i, host) in rx.iter() {
                pending.insert(i, host);
                while let Some(host) = pending.remove(&at) {
                    count(&mut summary, &host);
                    for sink in sinks.iter_mut() {
                        sink.host(fleet, &host)?;
                    }
                    at += 1;
                    *written.lock().unwrap_or_else(|e| e.into_inner()) = at;
                    advanced.notify_all();
                    progress(at, total);
                }
            }
            Ok(())
        })();
        if outcome.is_err() {
            stop.store(true, Ordering::Relaxed);
            advanced.notify_all();
            drop(rx);
        }
        outcome
    });
    result?;
    for sink in sinks.iter_mut() {
        sink.finish(fleet, &summary)?;
    }
    Ok(summary)
}

fn count(summary: &mut Summary, host: &HostResult) {
    match host.status() {
        None => summary.errors += 1,
        Some(status) => {
            summary.audited += 1;
            summary.hosts_per_status[status_index(status)] += 1;
            if !status.is_finding() {
                summary.compliant += 1;
            }
            for c in &host.controls {
                if let Some(row) = summary.control_hosts.get_mut(c.control) {
                    row[status_index(c.status)] += 1;
                }
            }
        }
    }
}

/// The host name to show when the snapshot could not be read: the folder or file name.
fn fallback_host(entry: &Entry) -> String {
    entry
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| entry.rel.clone())
}

/// Loads, maps and diffs one snapshot.
fn audit_one(plan: &Plan<'_>, control_index: &HashMap<&str, usize>, entry: &Entry) -> HostResult {
    let mut host = HostResult {
        snapshot: entry.rel.clone(),
        host: fallback_host(entry),
        ..HostResult::default()
    };
    // The snapshot's texts borrow from its files' bytes, which are held while it is audited.
    let loaded = if entry.running_config {
        crate::snapshot::network::load(&entry.path)
            .map(|live| audit_live(plan, control_index, entry, &mut host, live))
    } else {
        crate::snapshot::load_with(&entry.path, |live| {
            audit_live(plan, control_index, entry, &mut host, live)
        })
        .map_err(|e| crate::snapshot::SnapshotError {
            file: format!("{}/{}", entry.rel, e.file),
            ..e
        })
    };
    if let Err(e) = loaded {
        host.error = Some(format!("the snapshot cannot be read: {e}"));
    }
    host
}

/// Maps and diffs one loaded snapshot into `host`.
fn audit_live(
    plan: &Plan<'_>,
    control_index: &HashMap<&str, usize>,
    entry: &Entry,
    host: &mut HostResult,
    live: LiveState<'_>,
) {
    if !live.info.host.is_empty() {
        host.host = live.info.host.clone();
    }
    host.collected_at = live.info.collected_at.clone();
    let profile = match choose_profile(plan, &live) {
        Ok(p) => p,
        Err(e) => {
            host.error = Some(e);
            return;
        }
    };
    host.profile = Some(profile);
    let state = &plan.states[profile];
    let want = state.profile.platform.family;
    let family_ok = match want {
        Family::Network => entry.running_config,
        _ => !entry.running_config && live.info.family == want.id(),
    };
    if !family_ok {
        let have = if entry.running_config {
            "network"
        } else {
            live.info.family.as_str()
        };
        host.error = Some(format!(
            "the snapshot is of a {have} machine and its profile `{}` is for {}",
            state.profile.name,
            want.id()
        ));
        return;
    }
    let report = crate::drift::diff_findings(state, &plan.prepared[profile], live);
    condense(host, report, plan.sources, control_index);
}

/// The profile for a snapshot: the mapping file's first matching rule; without one, the
/// profile the collector recorded, else the profile named like the host.
fn choose_profile(plan: &Plan<'_>, live: &LiveState<'_>) -> Result<usize, String> {
    let profiles = &plan.fleet.profiles;
    let host = &live.info.host;
    if let Some(mapping) = plan.mapping {
        return mapping.rule_for(host).map(|r| r.profile).ok_or_else(|| {
            format!(
                "the host `{}` matches no [[host]] rule of {}",
                host.escape_debug(),
                mapping.file
            )
        });
    }
    let recorded = &live.info.profile;
    if !recorded.is_empty() {
        return profiles
            .iter()
            .position(|p| &p.name == recorded)
            .ok_or_else(|| {
                format!(
                    "the snapshot was collected for the profile `{}`, which is not among --profiles",
                    recorded.escape_debug()
                )
            });
    }
    profiles
        .iter()
        .position(|p| p.name.eq_ignore_ascii_case(host))
        .ok_or_else(|| {
            format!(
                "no profile for the host `{}`: the snapshot names none and no profile has its name (give --map FILE)",
                host.escape_debug()
            )
        })
}

/// A drift report condensed to what the fleet reports show (its texts moved, not copied).
fn condense(
    host: &mut HostResult,
    report: DriftReport,
    sources: &SourceMap,
    control_index: &HashMap<&str, usize>,
) {
    let location = |span| sources.location(span).to_string();
    for (status, n) in report.setting_counts() {
        host.setting_counts[status_index(status)] = n;
    }
    host.unexpected = report
        .unexpected
        .into_iter()
        .map(|u| UnexpectedItem {
            kind: u.kind,
            control: u
                .control
                .as_deref()
                .and_then(|c| control_index.get(c).copied()),
            what: u.what,
            note: u.note,
        })
        .collect();
    let mut controls: Vec<HostControl> = report
        .controls
        .into_iter()
        .filter_map(|c| {
            let index = *control_index.get(c.id.as_str())?;
            let governs_unexpected = host.unexpected.iter().any(|u| u.control == Some(index));
            let status = if governs_unexpected {
                c.status.max(Status::Unexpected)
            } else {
                c.status
            };
            let settings = c.settings.len();
            let compliant = c
                .settings
                .iter()
                .filter(|s| s.status == Status::Compliant)
                .count();
            let findings = c
                .settings
                .into_iter()
                .filter(|s| s.status != Status::Compliant)
                .map(|s| {
                    let lines: Vec<String> = s
                        .params
                        .iter()
                        .filter_map(|(_, span)| span.map(location))
                        .collect();
                    Finding {
                        kind: s.kind,
                        target: s.target,
                        status: s.status,
                        expected: s.expected,
                        actual: s.actual,
                        note: s.note,
                        profile_line: (!lines.is_empty()).then(|| lines.join(", ")),
                        catalog_line: location(s.origin),
                    }
                })
                .collect();
            Some(HostControl {
                control: index,
                status,
                settings,
                compliant,
                findings,
                waiver: c.waiver.as_ref().map(|w| {
                    format!(
                        "{}: {} ({}, approved by {}, until {}{})",
                        w.scope,
                        w.reason,
                        w.ticket,
                        w.approved_by,
                        w.expires,
                        if w.expired { ", expired" } else { "" }
                    )
                }),
                attestation: c.attestation.as_ref().map(|a| {
                    format!(
                        "{} on {}{}",
                        a.by,
                        a.on,
                        a.evidence
                            .as_ref()
                            .map(|e| format!(", evidence: {e}"))
                            .unwrap_or_default()
                    )
                }),
                notes: c.findings,
            })
        })
        .collect();
    controls.sort_by_key(|c| c.control);
    host.controls = controls;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(list: &(Vec<Entry>, Vec<String>)) -> Vec<(String, bool)> {
        let mut out: Vec<(String, bool)> = list
            .0
            .iter()
            .map(|e| (e.rel.clone(), e.running_config))
            .collect();
        out.extend(list.1.iter().map(|s| (format!("skipped {s}"), false)));
        out
    }

    /// A flat folder of snapshots is found from its listing exactly as the walk finds it; a
    /// folder that is not a snapshot (here: a nested fleet) is left to the walk.
    #[test]
    fn the_flat_listing_finds_what_the_walk_finds() {
        let root = std::env::temp_dir().join(format!("hardbase-discover-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for host in ["b-host", "A-host", "c.host"] {
            std::fs::create_dir_all(root.join(host)).unwrap();
            std::fs::write(root.join(host).join("snapshot.json"), "{}").unwrap();
            std::fs::write(root.join(host).join("router.cfg"), "").unwrap();
        }
        for file in ["router-1.cfg", "SWITCH.TXT", ".hidden.cfg", "notes.md"] {
            std::fs::write(root.join(file), "").unwrap();
        }
        let flat = discover_flat(&root).expect("a flat folder");
        let walked = discover_walk(&root).unwrap();
        assert_eq!(found(&flat), found(&walked));
        assert_eq!(
            found(&flat),
            [
                ("A-host".to_string(), false),
                ("SWITCH.TXT".to_string(), true),
                ("b-host".to_string(), false),
                ("c.host".to_string(), false),
                ("router-1.cfg".to_string(), true),
                ("skipped .hidden.cfg".to_string(), false),
                ("skipped notes.md".to_string(), false),
            ]
        );
        std::fs::create_dir_all(root.join("branch/d-host")).unwrap();
        std::fs::write(root.join("branch/d-host/snapshot.json"), "{}").unwrap();
        assert!(discover_flat(&root).is_none());
        let nested = discover(&root).unwrap();
        assert!(found(&nested).contains(&("branch/d-host".to_string(), false)));
        std::fs::remove_dir_all(&root).unwrap();
    }
}

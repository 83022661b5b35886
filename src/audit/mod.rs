//! `hardbase audit`: a fleet of snapshots compared with their profiles, in parallel, streamed.
//!
//! The flow: every profile under `--profiles` is resolved once ([`Fleet`]); every snapshot under
//! `--snapshots` is found (a folder holding `snapshot.json`, or a network device's
//! `show running-config` file) and mapped to a profile (see [`mapping`]); worker threads load
//! and diff the snapshots and condense each [`crate::drift::DriftReport`] into a
//! [`HostResult`]; the main thread hands the results, **in the snapshots' sorted order**, to
//! the [`Sink`]s (JSON Lines, xlsx, HTML, the summary), which write them out as they arrive.
//! No sink keeps every result: memory grows with the number of hosts by a few bytes per host
//! and control (the heatmap's cells), not by the size of the snapshots or findings.

pub mod engine;
pub mod html;
pub mod jsonl;
pub mod mapping;
pub mod progress;
pub mod summary;
pub mod xlsx;

use crate::catalog::taxonomy::{Category, Family, Lang, Role, Text, Tier};
use crate::drift::Status;
use crate::load::document::Date;

/// What every sink knows before the first host: the profiles and the union of their controls.
#[derive(Clone, Debug)]
pub struct Fleet {
    pub profiles: Vec<FleetProfile>,
    /// Every control of any profile, in catalog order (category, then id).
    pub controls: Vec<FleetControl>,
    /// The date waivers were evaluated against.
    pub evaluated_at: Date,
    /// The language of titles and headings.
    pub lang: Lang,
    /// How many snapshots were found.
    pub hosts: usize,
}

/// One resolved profile of the fleet.
#[derive(Clone, Debug)]
pub struct FleetProfile {
    pub name: String,
    /// The profile file, as given or found under `--profiles`.
    pub file: String,
    pub role: Role,
    /// The platform id (`windows-10-ltsc-2021`, …).
    pub platform: &'static str,
    pub family: Family,
}

/// One control of the fleet (the union over all profiles).
#[derive(Clone, Debug)]
pub struct FleetControl {
    pub id: String,
    pub title: Text,
    pub category: Category,
    pub tier: Tier,
    pub short_term: bool,
}

/// One snapshot's result, condensed: what the reports show of it.
#[derive(Clone, Debug, Default)]
pub struct HostResult {
    /// The snapshot's path under `--snapshots`, with `/` separators.
    pub snapshot: String,
    /// The host name the snapshot records (or the running configuration's `hostname`).
    /// Snapshot text: hostile input.
    pub host: String,
    /// Index into [`Fleet::profiles`]; `None` when the snapshot could not be mapped.
    pub profile: Option<usize>,
    /// When the collector ran, as it wrote it (snapshot text).
    pub collected_at: String,
    /// Why the host could not be audited (unreadable snapshot, no profile, wrong family).
    /// When set, `controls` and `unexpected` are empty.
    pub error: Option<String>,
    /// The profile's controls, in [`Fleet::controls`] order.
    pub controls: Vec<HostControl>,
    /// What is on the machine and in no profile setting.
    pub unexpected: Vec<UnexpectedItem>,
    /// Settings (and unexpected items) per status, indexed as [`Status::ALL`].
    pub setting_counts: [usize; 7],
}

/// One control on one host.
#[derive(Clone, Debug)]
pub struct HostControl {
    /// Index into [`Fleet::controls`].
    pub control: usize,
    /// The control's status, made at least `unexpected` when something unexpected it governs
    /// was found.
    pub status: Status,
    /// How many settings the control has on this host, and how many are compliant.
    pub settings: usize,
    pub compliant: usize,
    /// Every setting that is not compliant (waived, manual, not-collected, missing, drift).
    pub findings: Vec<Finding>,
    /// The waiver, as one line (`ticket, approved by, until date[, expired]`).
    pub waiver: Option<String>,
    /// The attestation of a manual control, as one line (`by, on[, evidence]`).
    pub attestation: Option<String>,
    /// Control-level findings (an expired waiver).
    pub notes: Vec<String>,
}

/// One setting that is not compliant, with its evidence (serialized as the JSON Lines and the
/// HTML report carry it).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Finding {
    /// The setting kind (`registry_value`, `nft_rule`, …).
    pub kind: &'static str,
    pub target: String,
    pub status: Status,
    pub expected: String,
    /// What the machine has (snapshot text: hostile input).
    pub actual: Option<String>,
    pub note: Option<String>,
    /// Where the profile set the value (`file:line:col`); `None` for a catalog default.
    pub profile_line: Option<String>,
    /// The catalog's `[[control.setting]]` table (`file:line:col`).
    pub catalog_line: String,
}

/// Something on the machine that no profile setting asks for.
#[derive(Clone, Debug)]
pub struct UnexpectedItem {
    pub kind: &'static str,
    /// Snapshot text: hostile input.
    pub what: String,
    /// Index into [`Fleet::controls`] of the control that governs it.
    pub control: Option<usize>,
    pub note: Option<String>,
}

impl HostResult {
    /// The host's worst finding (`compliant` when it has none: waived and manual controls do
    /// not make a host non-compliant); `None` for a host that could not be audited.
    pub fn status(&self) -> Option<Status> {
        if self.error.is_some() {
            return None;
        }
        let worst = self
            .controls
            .iter()
            .map(|c| c.status)
            .filter(|s| s.is_finding())
            .max();
        let unexpected = (!self.unexpected.is_empty()).then_some(Status::Unexpected);
        Some(worst.max(unexpected).unwrap_or(Status::Compliant))
    }

    /// Compliant: audited, no control with a finding, nothing unexpected.
    pub fn is_compliant(&self) -> bool {
        self.status().is_some_and(|s| !s.is_finding())
    }
}

/// The fleet's totals, known when the last host has been written.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Snapshots found, audited, and that could not be audited.
    pub hosts: usize,
    pub audited: usize,
    pub errors: usize,
    /// Audited hosts without any finding.
    pub compliant: usize,
    /// Hosts per worst status, indexed as [`Status::ALL`].
    pub hosts_per_status: [usize; 7],
    /// Per control of [`Fleet::controls`]: hosts per status, indexed as [`Status::ALL`].
    pub control_hosts: Vec<[usize; 7]>,
    /// JSON Lines records written (0 when that format was not asked for).
    pub records: usize,
}

/// The English or the Japanese of a phrase.
pub(crate) fn words(lang: Lang, en: &'static str, ja: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Ja => ja,
    }
}

/// The index of a status in [`Status::ALL`] (and in the count arrays).
pub fn status_index(status: Status) -> usize {
    Status::ALL.iter().position(|s| *s == status).unwrap_or(0)
}

/// A report format fed host by host, in the snapshots' order.
pub trait Sink {
    /// Called once, before the first host.
    fn begin(&mut self, fleet: &Fleet) -> std::io::Result<()>;
    /// Called once per snapshot, in sorted snapshot order.
    fn host(&mut self, fleet: &Fleet, host: &HostResult) -> std::io::Result<()>;
    /// Called once, after the last host.
    fn finish(&mut self, fleet: &Fleet, summary: &Summary) -> std::io::Result<()>;
}

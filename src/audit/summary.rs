//! The summary `hardbase audit` prints on standard output: the fleet's totals, the controls
//! most hosts fail, the hosts with the most findings and the snapshots that could not be
//! audited. It keeps a bounded number of hosts, never all of them.

use std::fmt::Write as _;

use super::xlsx::status_name;
use super::{status_index, words, Fleet, HostResult, Sink, Summary};
use crate::catalog::taxonomy::Lang;
use crate::drift::{escape, Status};

/// How many hosts with findings, and how many errors, the summary names.
const SHOWN: usize = 10;

/// Collects what the summary names besides the totals.
#[derive(Default)]
pub struct TextSummary {
    /// (findings, host, snapshot), the most findings first; at most [`SHOWN`].
    worst: Vec<(usize, String, String)>,
    /// (snapshot, error) of the first hosts that could not be audited.
    errors: Vec<(String, String)>,
}

impl Sink for TextSummary {
    fn begin(&mut self, _fleet: &Fleet) -> std::io::Result<()> {
        Ok(())
    }

    fn host(&mut self, _fleet: &Fleet, host: &HostResult) -> std::io::Result<()> {
        if let Some(e) = &host.error {
            if self.errors.len() < SHOWN {
                self.errors.push((host.snapshot.clone(), e.clone()));
            }
            return Ok(());
        }
        let findings: usize = Status::ALL
            .iter()
            .zip(host.setting_counts)
            .filter(|(s, _)| s.is_finding())
            .map(|(_, n)| n)
            .sum();
        if findings == 0 {
            return Ok(());
        }
        // Ties keep the first host (the snapshots' order), so the list is deterministic.
        let at = self.worst.partition_point(|(n, _, _)| *n >= findings);
        if at < SHOWN {
            self.worst
                .insert(at, (findings, host.host.clone(), host.snapshot.clone()));
            self.worst.truncate(SHOWN);
        }
        Ok(())
    }

    fn finish(&mut self, _fleet: &Fleet, _summary: &Summary) -> std::io::Result<()> {
        Ok(())
    }
}

/// Counts as `3 drift, 1 missing`, worst first, zeros left out.
fn counts(row: &[usize; 7], lang: Lang) -> String {
    Status::ALL
        .iter()
        .rev()
        .filter(|s| row[status_index(**s)] > 0)
        .map(|s| format!("{} {}", row[status_index(*s)], status_name(*s, lang)))
        .collect::<Vec<_>>()
        .join(", ")
}

impl TextSummary {
    /// The summary text. Snapshot text (host names, errors) is escaped for the terminal.
    pub fn render(&self, fleet: &Fleet, summary: &Summary) -> String {
        let lang = fleet.lang;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {} {} / {} {} ({} {})",
            words(lang, "fleet audit", "一括監査"),
            summary.hosts,
            words(lang, "snapshots", "スナップショット"),
            fleet.profiles.len(),
            words(lang, "profiles", "プロファイル"),
            words(lang, "evaluated as of", "評価基準日"),
            fleet.evaluated_at
        );
        let with_findings = summary.audited - summary.compliant;
        let _ = writeln!(
            out,
            "{}: {} {}, {} {}, {} {}",
            words(lang, "hosts", "端末"),
            summary.compliant,
            words(lang, "compliant", "適合"),
            with_findings,
            words(lang, "with findings", "指摘あり"),
            summary.errors,
            words(lang, "not audited", "監査不能"),
        );
        if summary.audited > 0 {
            let _ = writeln!(
                out,
                "{}: {}",
                words(lang, "worst status per host", "端末ごとの最も悪い状態"),
                counts(&summary.hosts_per_status, lang)
            );
        }
        let mut failing: Vec<(usize, usize)> = summary
            .control_hosts
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let n = Status::ALL
                    .iter()
                    .filter(|s| s.is_finding())
                    .map(|s| row[status_index(*s)])
                    .sum();
                (i, n)
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        failing.sort_by_key(|(i, n)| (std::cmp::Reverse(*n), *i));
        if !failing.is_empty() {
            let _ = writeln!(
                out,
                "\n{}:",
                words(lang, "controls most hosts fail", "指摘の多い対策")
            );
            for (i, n) in failing.iter().take(SHOWN) {
                let c = &fleet.controls[*i];
                let _ = writeln!(
                    out,
                    "  {:<12} {:>6} {}  ({})  {}",
                    c.id,
                    n,
                    words(lang, "hosts", "台"),
                    counts(&summary.control_hosts[*i], lang),
                    c.title.get(lang)
                );
            }
        }
        if !self.worst.is_empty() {
            let _ = writeln!(
                out,
                "\n{}:",
                words(lang, "hosts with the most findings", "指摘の多い端末")
            );
            for (n, host, snapshot) in &self.worst {
                let _ = writeln!(
                    out,
                    "  {:<24} {:>6} {}  ({})",
                    escape(host),
                    n,
                    words(lang, "findings", "件"),
                    escape(snapshot)
                );
            }
        }
        if !self.errors.is_empty() {
            let _ = writeln!(
                out,
                "\n{}:",
                words(
                    lang,
                    "snapshots not audited",
                    "監査できなかったスナップショット"
                )
            );
            for (snapshot, error) in &self.errors {
                let _ = writeln!(out, "  {}: {}", escape(snapshot), escape(error));
            }
            if summary.errors > self.errors.len() {
                let _ = writeln!(
                    out,
                    "  … {} {}",
                    summary.errors - self.errors.len(),
                    words(
                        lang,
                        "more (see the hosts sheet or the JSON Lines)",
                        "件 (端末シートまたは JSON Lines を参照)"
                    )
                );
            }
        }
        out
    }
}

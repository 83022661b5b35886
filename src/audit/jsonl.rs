//! JSON Lines for a SIEM: per host, one `host` record, then one `control` record per control
//! of its profile, each a complete JSON object on one line with stable keys.
//!
//! ```json
//! {"record":"host","host":"ATM-SJK-0001","snapshot":"ATM-SJK-0001","profile":"branch-atm-shinjuku","role":"atm-terminal","platform":"windows-10-ltsc-2021","collected_at":"…","evaluated_at":"2026-11-27","status":"drift","error":null,"settings":{"compliant":512,…},"unexpected":[…]}
//! {"record":"control","host":"ATM-SJK-0001",…,"control":"COM-FW-001","title":"…","category":"communication","tier":"easy","status":"drift","settings":4,"compliant":3,"findings":[{"kind":"registry_value","target":"…","status":"drift","expected":"1","actual":"0","note":null,"profile_line":"atm.toml:12:5","catalog_line":"baselines/….toml:40:1"}],"unexpected":[],"waiver":null,"attestation":null,"notes":[]}
//! ```
//!
//! Values are the snapshot's own text; JSON string escaping makes them inert.

use std::io::{BufWriter, Write};

use serde::Serialize;

use super::{Fleet, HostControl, HostResult, Sink, Summary, UnexpectedItem};
use crate::drift::Status;

/// Writes the records to a file as hosts arrive.
pub struct JsonlSink<W: Write> {
    out: BufWriter<W>,
    /// Records written so far.
    pub records: usize,
}

impl<W: Write> JsonlSink<W> {
    pub fn new(out: W) -> Self {
        JsonlSink {
            out: BufWriter::with_capacity(1 << 20, out),
            records: 0,
        }
    }

    /// Flushes and returns the writer.
    pub fn into_inner(self) -> std::io::Result<W> {
        self.out.into_inner().map_err(|e| e.into_error())
    }

    fn line(&mut self, value: &impl Serialize) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")?;
        self.records += 1;
        Ok(())
    }
}

#[derive(Serialize)]
struct HostRecord<'a> {
    record: &'static str,
    host: &'a str,
    snapshot: &'a str,
    profile: Option<&'a str>,
    role: Option<&'static str>,
    platform: Option<&'static str>,
    collected_at: &'a str,
    evaluated_at: String,
    status: &'static str,
    error: Option<&'a str>,
    settings: serde_json::Map<String, serde_json::Value>,
    unexpected: Vec<Unexpected<'a>>,
}

#[derive(Serialize)]
struct Unexpected<'a> {
    kind: &'static str,
    what: &'a str,
    control: Option<&'a str>,
    note: Option<&'a str>,
}

#[derive(Serialize)]
struct ControlRecord<'a> {
    record: &'static str,
    host: &'a str,
    snapshot: &'a str,
    profile: &'a str,
    role: &'static str,
    control: &'a str,
    title: &'a str,
    category: &'static str,
    tier: &'static str,
    status: &'static str,
    settings: usize,
    compliant: usize,
    findings: &'a [super::Finding],
    unexpected: Vec<Unexpected<'a>>,
    waiver: Option<&'a str>,
    attestation: Option<&'a str>,
    notes: &'a [String],
}

fn unexpected<'a>(fleet: &'a Fleet, u: &'a UnexpectedItem) -> Unexpected<'a> {
    Unexpected {
        kind: u.kind,
        what: &u.what,
        control: u.control.map(|c| fleet.controls[c].id.as_str()),
        note: u.note.as_deref(),
    }
}

/// The host's status name: its worst status, or `error`.
pub fn host_status(host: &HostResult) -> &'static str {
    host.status().map_or("error", Status::id)
}

impl<W: Write> Sink for JsonlSink<W> {
    fn begin(&mut self, _fleet: &Fleet) -> std::io::Result<()> {
        Ok(())
    }

    fn host(&mut self, fleet: &Fleet, host: &HostResult) -> std::io::Result<()> {
        let profile = host.profile.map(|p| &fleet.profiles[p]);
        let settings = Status::ALL
            .iter()
            .zip(host.setting_counts)
            .map(|(s, n)| (s.id().to_string(), n.into()))
            .collect();
        self.line(&HostRecord {
            record: "host",
            host: &host.host,
            snapshot: &host.snapshot,
            profile: profile.map(|p| p.name.as_str()),
            role: profile.map(|p| p.role.id()),
            platform: profile.map(|p| p.platform),
            collected_at: &host.collected_at,
            evaluated_at: fleet.evaluated_at.to_string(),
            status: host_status(host),
            error: host.error.as_deref(),
            settings,
            unexpected: host
                .unexpected
                .iter()
                .map(|u| unexpected(fleet, u))
                .collect(),
        })?;
        let Some(profile) = profile else {
            return Ok(());
        };
        for c in &host.controls {
            self.line(&control_record(fleet, host, profile, c))?;
        }
        Ok(())
    }

    fn finish(&mut self, _fleet: &Fleet, _summary: &Summary) -> std::io::Result<()> {
        self.out.flush()
    }
}

fn control_record<'a>(
    fleet: &'a Fleet,
    host: &'a HostResult,
    profile: &'a super::FleetProfile,
    c: &'a HostControl,
) -> ControlRecord<'a> {
    let control = &fleet.controls[c.control];
    ControlRecord {
        record: "control",
        host: &host.host,
        snapshot: &host.snapshot,
        profile: &profile.name,
        role: profile.role.id(),
        control: &control.id,
        title: control.title.get(fleet.lang),
        category: control.category.id(),
        tier: control.tier.id(),
        status: c.status.id(),
        settings: c.settings,
        compliant: c.compliant,
        findings: &c.findings,
        unexpected: host
            .unexpected
            .iter()
            .filter(|u| u.control == Some(c.control))
            .map(|u| unexpected(fleet, u))
            .collect(),
        waiver: c.waiver.as_deref(),
        attestation: c.attestation.as_deref(),
        notes: &c.notes,
    }
}

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
    /// Per control of the fleet, once needed: its record's keys and values from `"control"`
    /// through `"tier"`, already escaped (they are the same on every host).
    control_parts: Vec<Option<Vec<u8>>>,
    /// The current host's control-record start, from `{` through `"role"`, already escaped.
    prefix: Vec<u8>,
}

impl<W: Write> JsonlSink<W> {
    pub fn new(out: W) -> Self {
        JsonlSink {
            out: BufWriter::with_capacity(1 << 20, out),
            records: 0,
            control_parts: Vec::new(),
            prefix: Vec::new(),
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
        self.prefix.clear();
        self.prefix
            .extend_from_slice(br#"{"record":"control","host":"#);
        json_str(&mut self.prefix, &host.host)?;
        self.prefix.extend_from_slice(br#","snapshot":"#);
        json_str(&mut self.prefix, &host.snapshot)?;
        self.prefix.extend_from_slice(br#","profile":"#);
        json_str(&mut self.prefix, &profile.name)?;
        self.prefix.extend_from_slice(br#","role":"#);
        json_str(&mut self.prefix, profile.role.id())?;
        if self.control_parts.len() < fleet.controls.len() {
            self.control_parts.resize(fleet.controls.len(), None);
        }
        for c in &host.controls {
            self.control_line(fleet, host, c)?;
        }
        Ok(())
    }

    fn finish(&mut self, _fleet: &Fleet, _summary: &Summary) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Appends `text` as a JSON string, escaped as `serde_json` escapes it.
fn json_str(out: &mut Vec<u8>, text: &str) -> std::io::Result<()> {
    serde_json::to_writer(out, text).map_err(std::io::Error::from)
}

impl<W: Write> JsonlSink<W> {
    /// Writes one control record, with the keys in the order of the module's example.
    fn control_line(
        &mut self,
        fleet: &Fleet,
        host: &HostResult,
        c: &HostControl,
    ) -> std::io::Result<()> {
        let control = &fleet.controls[c.control];
        if self.control_parts[c.control].is_none() {
            let mut part = Vec::new();
            part.extend_from_slice(br#","control":"#);
            json_str(&mut part, &control.id)?;
            part.extend_from_slice(br#","title":"#);
            json_str(&mut part, control.title.get(fleet.lang))?;
            part.extend_from_slice(br#","category":"#);
            json_str(&mut part, control.category.id())?;
            part.extend_from_slice(br#","tier":"#);
            json_str(&mut part, control.tier.id())?;
            self.control_parts[c.control] = Some(part);
        }
        let out = &mut self.out;
        out.write_all(&self.prefix)?;
        out.write_all(self.control_parts[c.control].as_deref().unwrap_or_default())?;
        out.write_all(br#","status":""#)?;
        out.write_all(c.status.id().as_bytes())?;
        out.write_all(br#"","settings":"#)?;
        write_number(out, c.settings)?;
        out.write_all(br#","compliant":"#)?;
        write_number(out, c.compliant)?;
        out.write_all(br#","findings":"#)?;
        serde_json::to_writer(&mut *out, &c.findings)?;
        out.write_all(br#","unexpected":"#)?;
        let mut first = true;
        out.write_all(b"[")?;
        for u in host
            .unexpected
            .iter()
            .filter(|u| u.control == Some(c.control))
        {
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            serde_json::to_writer(&mut *out, &unexpected(fleet, u))?;
        }
        out.write_all(br#"],"waiver":"#)?;
        serde_json::to_writer(&mut *out, &c.waiver)?;
        out.write_all(br#","attestation":"#)?;
        serde_json::to_writer(&mut *out, &c.attestation)?;
        out.write_all(br#","notes":"#)?;
        serde_json::to_writer(&mut *out, &c.notes)?;
        out.write_all(b"}\n")?;
        self.records += 1;
        Ok(())
    }
}

/// Writes `n` in decimal.
fn write_number(out: &mut impl Write, n: usize) -> std::io::Result<()> {
    out.write_all(crate::xlsx::decimal_bytes(n as u64, &mut [0; 20]))
}

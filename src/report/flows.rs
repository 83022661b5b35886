//! `hardbase flows`: the bank's flow matrix, for the carrier or the firewall team.
//!
//! One row per connection: source, destination, protocol, ports, direction, purpose, the
//! profiles that need it and the controls whose allow rules carry it. Rows come from the flows
//! every profile declares (`baselines/flows.toml`, with the profile's parameters):
//!
//! - **Ends.** A machine's own address is known when its profile sets the parameter that names
//!   it: the ATM networks (`atm_networks`) for terminals, `log_collector` for a monitoring
//!   server, `management_hosts` for a management server. Otherwise the profile name stands in.
//! - **Orientation.** Every row goes from the initiator to the responder. An outbound flow is
//!   the profile's own machine → its peers; an inbound flow is its peers → the machine.
//! - **Merging.** Outbound flows with the same source, destination, protocol and ports are one
//!   row. An inbound flow is the other end of an outbound flow of another profile when the
//!   protocol and ports are the same, no known address contradicts it (the initiator's own
//!   address lies in the inbound peers, the responder's own address in the outbound peers) and
//!   at least one of the two addresses is known and confirms it; it then joins that row (and
//!   every other it matches), so a connection is shown once with both profiles. An inbound flow
//!   nobody initiates in the given profiles keeps a row of its own.
//! - **Direction** says which ends declare the connection: `outbound` (the source's egress
//!   rule), `inbound` (the destination's ingress rule only) or both.
//! - **Controls** are those of the profile whose firewall allow rules (Windows firewall or
//!   nftables) carry the flow, matched as the lock-out guard matches them.
//!
//! Rows are sorted by source, destination (addresses numerically, names after), protocol and
//! ports. CSV and xlsx go through the checklist's writers (formula-like cells neutralized),
//! Markdown cells through its escaping.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;

use serde::Serialize;

use crate::catalog::flow::{address_covers, FlowDirection, FlowInstance};
use crate::catalog::param::ParamValue;
use crate::catalog::setting::Protocol;
use crate::catalog::taxonomy::{Lang, Role, Text};
use crate::model::DesiredState;
use crate::report::checklist::{csv_table, escape_markdown, xlsx_table};
use crate::resolve::flows::allows;

/// One connection of the matrix.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Row {
    /// The initiator: its own addresses, or its profile name when unknown.
    pub source: Vec<String>,
    /// The responder: addresses, or a profile name.
    pub destination: Vec<String>,
    #[serde(serialize_with = "protocol_id")]
    pub protocol: Protocol,
    /// Sorted; empty means any port.
    pub ports: Vec<u16>,
    /// Which ends declare the connection.
    pub direction: Declared,
    /// The purposes of the declared flows, initiator's first.
    pub purpose: Text,
    /// Sorted profile names.
    pub profiles: Vec<String>,
    /// Sorted ids of the controls whose allow rules carry the connection.
    pub controls: Vec<String>,
    /// Every declared flow the row stands for.
    pub declared_by: Vec<DeclaredFlow>,
}

/// Which ends of a connection declare it.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Declared {
    /// The source's profile (an outbound flow).
    Outbound,
    /// Only the destination's profile (an inbound flow).
    Inbound,
    /// Both.
    OutboundAndInbound,
}

impl Declared {
    pub fn name(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Declared::Outbound, Lang::En) => "outbound",
            (Declared::Inbound, Lang::En) => "inbound",
            (Declared::OutboundAndInbound, Lang::En) => "outbound + inbound",
            (Declared::Outbound, Lang::Ja) => "アウトバウンド",
            (Declared::Inbound, Lang::Ja) => "インバウンド",
            (Declared::OutboundAndInbound, Lang::Ja) => "アウトバウンド＋インバウンド",
        }
    }
}

/// A flow as one profile declares it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct DeclaredFlow {
    pub profile: String,
    pub flow: String,
    pub direction: FlowDirection,
}

fn protocol_id<S: serde::Serializer>(p: &Protocol, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(protocol_name(*p))
}

fn protocol_name(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Icmpv4 => "icmpv4",
        Protocol::Icmpv6 => "icmpv6",
        Protocol::Any => "any",
    }
}

/// The parameter that names a machine's own address or network, by role.
fn own_address_param(role: Role) -> Option<&'static str> {
    match role {
        Role::AtmTerminal | Role::KioskTerminal | Role::NetworkDevice => Some("atm_networks"),
        Role::MonitoringServer => Some("log_collector"),
        Role::ManagementServer => Some("management_hosts"),
        Role::RelayServer => None,
    }
}

/// The machine's own addresses, sorted, when its profile sets them.
fn own_addresses(state: &DesiredState) -> Option<Vec<String>> {
    let value = state
        .set_params
        .get(own_address_param(state.profile.role)?)?;
    let mut out: Vec<String> = match value {
        ParamValue::String(s) => vec![s.clone()],
        ParamValue::List(items) => items
            .iter()
            .filter_map(|i| match i {
                ParamValue::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    sort_addresses(&mut out);
    out.dedup();
    (!out.is_empty()).then_some(out)
}

/// How addresses sort: IPv4, then IPv6 (numerically, then by prefix), then anything else.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum AddressKey {
    V4(u32, u8),
    V6(u128, u8),
    Other(String),
}

fn address_key(text: &str) -> AddressKey {
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, l.parse::<u8>().ok()),
        None => (text, None),
    };
    match (addr.parse::<IpAddr>(), len) {
        (Ok(IpAddr::V4(a)), len) => AddressKey::V4(u32::from(a), len.unwrap_or(32)),
        (Ok(IpAddr::V6(a)), len) => AddressKey::V6(u128::from(a), len.unwrap_or(128)),
        _ => AddressKey::Other(text.to_string()),
    }
}

fn sort_addresses(list: &mut [String]) {
    list.sort_by_cached_key(|a| (address_key(a), a.clone()));
}

/// One end of a row: its addresses, or the profile name that stands in for them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum End {
    Addresses(Vec<AddressKey>, Vec<String>),
    Profile(String),
}

impl End {
    fn of(own: Option<&[String]>, profile: &str) -> End {
        match own {
            Some(list) => End::addresses(list),
            None => End::Profile(profile.to_string()),
        }
    }

    fn addresses(list: &[String]) -> End {
        let mut list = list.to_vec();
        sort_addresses(&mut list);
        list.dedup();
        End::Addresses(list.iter().map(|a| address_key(a)).collect(), list)
    }

    fn cells(&self) -> Vec<String> {
        match self {
            End::Addresses(_, list) => list.clone(),
            End::Profile(name) => vec![name.clone()],
        }
    }
}

/// A declared flow with what the matrix needs to know about its profile.
struct Declaration<'a> {
    profile: &'a str,
    own: Option<Vec<String>>,
    flow: &'a FlowInstance,
    ports: Vec<u16>,
    controls: Vec<String>,
}

type Key = (End, End, u8, Vec<u16>);

fn key(source: End, destination: End, protocol: Protocol, ports: &[u16]) -> Key {
    (source, destination, protocol as u8, ports.to_vec())
}

/// Whether every address of `own` lies in one of `peers`: `Some(true)` confirmed,
/// `Some(false)` contradicted, `None` unknown.
fn within(own: Option<&[String]>, peers: &[String]) -> Option<bool> {
    own.map(|own| {
        own.iter()
            .all(|a| peers.iter().any(|p| address_covers(p, a)))
    })
}

/// Whether the inbound declaration is the receiving end of the outbound one.
fn same_connection(inbound: &Declaration, outbound: &Declaration) -> bool {
    if inbound.profile == outbound.profile
        || inbound.flow.protocol != outbound.flow.protocol
        || inbound.ports != outbound.ports
    {
        return false;
    }
    let initiator = within(outbound.own.as_deref(), &inbound.flow.peers);
    let responder = within(inbound.own.as_deref(), &outbound.flow.peers);
    initiator != Some(false)
        && responder != Some(false)
        && (initiator == Some(true) || responder == Some(true))
}

#[derive(Default)]
struct Builder<'a> {
    outbound: Vec<&'a Declaration<'a>>,
    inbound: Vec<&'a Declaration<'a>>,
}

/// The flow matrix of a set of resolved profiles.
pub fn rows(states: &[DesiredState]) -> Vec<Row> {
    let declarations: Vec<Declaration> = states
        .iter()
        .flat_map(|state| {
            let own = own_addresses(state);
            state.flows.iter().map(move |flow| {
                let mut ports = flow.ports.clone();
                ports.sort_unstable();
                ports.dedup();
                let mut controls: Vec<String> = state
                    .controls
                    .iter()
                    .filter(|c| c.settings.iter().any(|s| allows(&s.kind, flow)))
                    .map(|c| c.control.id.clone())
                    .collect();
                controls.sort();
                controls.dedup();
                Declaration {
                    profile: &state.profile.name,
                    own: own.clone(),
                    flow,
                    ports,
                    controls,
                }
            })
        })
        .collect();
    let (outbound, inbound): (Vec<&Declaration>, Vec<&Declaration>) = declarations
        .iter()
        .partition(|d| d.flow.direction == FlowDirection::Outbound);
    let outbound_key = |d: &Declaration| {
        key(
            End::of(d.own.as_deref(), d.profile),
            End::addresses(&d.flow.peers),
            d.flow.protocol,
            &d.ports,
        )
    };
    let mut builders: BTreeMap<Key, Builder> = BTreeMap::new();
    for d in &outbound {
        builders
            .entry(outbound_key(d))
            .or_default()
            .outbound
            .push(d);
    }
    for d in &inbound {
        let mut matched = false;
        for o in outbound.iter().filter(|o| same_connection(d, o)) {
            matched = true;
            let row = builders.entry(outbound_key(o)).or_default();
            if !row.inbound.iter().any(|i| std::ptr::eq(*i, *d)) {
                row.inbound.push(d);
            }
        }
        if !matched {
            let k = key(
                End::addresses(&d.flow.peers),
                End::of(d.own.as_deref(), d.profile),
                d.flow.protocol,
                &d.ports,
            );
            builders.entry(k).or_default().inbound.push(d);
        }
    }
    builders
        .into_iter()
        .map(|((source, destination, _, ports), b)| {
            let all = || b.outbound.iter().chain(b.inbound.iter());
            let protocol = all().next().map_or(Protocol::Any, |d| d.flow.protocol);
            let direction = match (b.outbound.is_empty(), b.inbound.is_empty()) {
                (false, true) => Declared::Outbound,
                (true, _) => Declared::Inbound,
                (false, false) => Declared::OutboundAndInbound,
            };
            let mut purposes: Vec<&Text> = Vec::new();
            for d in all() {
                if !purposes.contains(&&d.flow.purpose) {
                    purposes.push(&d.flow.purpose);
                }
            }
            let join = |get: fn(&Text) -> &str, sep: &str| {
                purposes
                    .iter()
                    .map(|t| get(t))
                    .collect::<Vec<_>>()
                    .join(sep)
            };
            let purpose = Text {
                en: join(|t| &t.en, "; "),
                ja: join(|t| &t.ja, "／"),
            };
            let mut profiles: Vec<String> = all().map(|d| d.profile.to_string()).collect();
            profiles.sort();
            profiles.dedup();
            let mut controls: Vec<String> = all().flat_map(|d| d.controls.clone()).collect();
            controls.sort();
            controls.dedup();
            let mut declared_by: Vec<DeclaredFlow> = all()
                .map(|d| DeclaredFlow {
                    profile: d.profile.to_string(),
                    flow: d.flow.id.clone(),
                    direction: d.flow.direction,
                })
                .collect();
            declared_by.sort_by(|a, b| (&a.profile, &a.flow).cmp(&(&b.profile, &b.flow)));
            declared_by.dedup();
            Row {
                source: source.cells(),
                destination: destination.cells(),
                protocol,
                ports,
                direction,
                purpose,
                profiles,
                controls,
                declared_by,
            }
        })
        .collect()
}

/// Column headings.
pub fn columns(lang: Lang) -> [&'static str; 8] {
    match lang {
        Lang::Ja => [
            "送信元",
            "宛先",
            "プロトコル",
            "ポート",
            "方向",
            "用途",
            "プロファイル",
            "対策",
        ],
        Lang::En => [
            "Source",
            "Destination",
            "Protocol",
            "Ports",
            "Direction",
            "Purpose",
            "Profiles",
            "Controls",
        ],
    }
}

/// Widths (in characters) that keep the xlsx readable without resizing.
const WIDTHS: [f64; 8] = [26.0, 26.0, 10.0, 10.0, 16.0, 60.0, 36.0, 30.0];

fn title(lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => "通信フロー一覧",
        Lang::En => "Flow matrix",
    }
}

/// The text of each cell of a row, in column order.
pub fn cells(row: &Row, lang: Lang) -> [String; 8] {
    let ports = if row.ports.is_empty() {
        match lang {
            Lang::Ja => "すべて".to_string(),
            Lang::En => "any".to_string(),
        }
    } else {
        row.ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    [
        row.source.join(", "),
        row.destination.join(", "),
        protocol_name(row.protocol).to_string(),
        ports,
        row.direction.name(lang).to_string(),
        row.purpose.get(lang).to_string(),
        row.profiles.join(", "),
        row.controls.join(", "),
    ]
}

fn table(rows: &[Row], lang: Lang) -> Vec<[String; 8]> {
    rows.iter().map(|r| cells(r, lang)).collect()
}

/// The matrix as CSV: UTF-8 with BOM, CRLF, formula-like cells neutralized.
pub fn csv(rows: &[Row], lang: Lang) -> Vec<u8> {
    let table = table(rows, lang);
    csv_table(
        &columns(lang),
        table.iter().map(|r| r.iter().map(String::as_str).collect()),
    )
}

/// The matrix as an xlsx workbook: one sheet, every cell a string, header frozen and filterable.
pub fn xlsx(rows: &[Row], lang: Lang) -> std::io::Result<Vec<u8>> {
    let table = table(rows, lang);
    let cells: Vec<Vec<&str>> = table
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect();
    xlsx_table(
        title(lang),
        match lang {
            Lang::Ja => "通信フロー",
            Lang::En => "Flows",
        },
        &columns(lang),
        &WIDTHS,
        &cells,
    )
}

/// The matrix as a Markdown table, every cell escaped.
pub fn markdown(rows: &[Row], lang: Lang) -> String {
    let mut out = format!("# {}\n\n", title(lang));
    let header = columns(lang);
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    for row in table(rows, lang) {
        let escaped: Vec<String> = row.iter().map(|c| escape_markdown(c)).collect();
        let _ = writeln!(out, "| {} |", escaped.join(" | "));
    }
    out
}

/// The matrix as JSON: the rows with stable keys, and which declared flows each stands for.
pub fn json(rows: &[Row]) -> serde_json::Value {
    serde_json::json!({ "flows": rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_sort_numerically_then_by_name() {
        let mut list = vec![
            "relay".to_string(),
            "10.10.1.10".to_string(),
            "2001:db8::1".to_string(),
            "10.9.0.0/16".to_string(),
            "10.10.1.9".to_string(),
        ];
        sort_addresses(&mut list);
        assert_eq!(
            list,
            [
                "10.9.0.0/16",
                "10.10.1.9",
                "10.10.1.10",
                "2001:db8::1",
                "relay"
            ]
        );
    }

    #[test]
    fn a_match_needs_one_confirming_address_and_no_contradiction() {
        assert_eq!(within(None, &["10.0.0.0/8".into()]), None);
        assert_eq!(
            within(Some(&["10.1.0.0/16".into()]), &["10.0.0.0/8".into()]),
            Some(true)
        );
        assert_eq!(
            within(Some(&["192.0.2.1".into()]), &["10.0.0.0/8".into()]),
            Some(false)
        );
    }
}

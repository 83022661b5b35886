//! The terminals' firewalls against the access list of the network device in front of them.
//!
//! Each profile is consistent on its own, yet a terminal and its router are built from
//! separate profiles: a host port changed on one side only passes every single-profile check
//! and drops the terminal's traffic at the router. When one run is given a network device and
//! terminals behind it, this check compares the two sides.
//!
//! - **Behind.** A terminal (ATM or kiosk) is behind a device's inbound ATM list (an extended
//!   `ios_acl` without `replies`) when one of its own networks — its `atm_networks` value, the
//!   parameter the flow matrix reads too — lies inside one of the list's `sources`. A terminal
//!   whose network only overlaps a source (the bank-wide `10.50.0.0/16` against a branch's
//!   `10.50.1.0/24`) does not say where it is, and is left out.
//! - **Needs.** The entries a terminal needs are its declared outbound flows from its own
//!   networks, built by the access-list builder itself ([`acl::permits`]), so both sides are
//!   the same shape. A router entry carries a need when its protocol (or `ip`), source,
//!   destination (as networks) and port (or none) cover it.
//! - **Errors** (`blocked-flow`): a need whose flow the terminal's own firewall lets out (an
//!   allow rule that carries it, as the lock-out guard matches them) and no router entry carries.
//! - **Warnings** (`unused-entry`): a router entry, from a source some given terminal sits in,
//!   that no given terminal behind it needs. Sources with no terminal in the run are not judged.
//!
//! A router alone, or terminals alone, give nothing. Diagnostics follow the order of the
//! profiles given, then the list's entries and the terminals' flows, so output is stable.

use std::collections::BTreeSet;

use crate::catalog::flow::{address_covers, FlowDirection, FlowInstance};
use crate::catalog::param::ParamValue;
use crate::catalog::setting::{AclType, IosAcl, Protocol, SettingKind};
use crate::catalog::taxonomy::Role;
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{DesiredSetting, DesiredState};
use crate::target::network::acl::{self, Permit};

/// One entry a terminal needs through the device: its flow from one of its own networks.
struct Need<'a> {
    terminal: &'a DesiredState,
    flow: &'a FlowInstance,
    source: String,
    peer: String,
    port: Option<u16>,
    /// The terminal's allow rule that lets the flow out, if its firewall has one.
    rule: Option<&'a DesiredSetting>,
}

impl Need<'_> {
    fn permit(&self) -> Permit<'_> {
        Permit {
            flow: self.flow,
            source: &self.source,
            peer: &self.peer,
            port: self.port,
        }
    }
}

/// Compares every network device given with the terminals given behind it.
pub fn check<'a>(states: impl IntoIterator<Item = &'a DesiredState>, diags: &mut Diagnostics) {
    let states: Vec<&DesiredState> = states.into_iter().collect();
    let terminals: Vec<(&DesiredState, Vec<String>)> = states
        .iter()
        .filter(|s| matches!(s.profile.role, Role::AtmTerminal | Role::KioskTerminal))
        .map(|s| (*s, own_networks(s)))
        .filter(|(_, nets)| !nets.is_empty())
        .collect();
    if terminals.is_empty() {
        return;
    }
    for router in states
        .iter()
        .filter(|s| s.profile.role == Role::NetworkDevice)
    {
        for setting in router.settings() {
            let SettingKind::IosAcl(list) = &setting.kind else {
                continue;
            };
            if list.acl_type != AclType::Extended || list.replies {
                continue;
            }
            // A list the builder refuses is reported by the target's own validation.
            let Ok(permits) = acl::permits(list, &router.flows) else {
                continue;
            };
            check_list(router, setting, list, &permits, &terminals, diags);
        }
    }
}

fn check_list(
    router: &DesiredState,
    setting: &DesiredSetting,
    list: &IosAcl,
    permits: &[Permit<'_>],
    terminals: &[(&DesiredState, Vec<String>)],
    diags: &mut Diagnostics,
) {
    let behind: Vec<(&DesiredState, Vec<String>)> = terminals
        .iter()
        .map(|(t, nets)| {
            let inside = nets
                .iter()
                .filter(|n| list.sources.iter().any(|s| address_covers(s, n)))
                .cloned()
                .collect::<Vec<_>>();
            (*t, inside)
        })
        .filter(|(_, inside)| !inside.is_empty())
        .collect();
    if behind.is_empty() {
        return;
    }
    let needs: Vec<Need> = behind
        .iter()
        .flat_map(|(t, nets)| needs(t, nets, &list.name))
        .collect();
    let router_name = &router.profile.name;

    for need in &needs {
        let Some(rule) = need.rule else { continue };
        if permits.iter().any(|p| carries(p, &need.permit())) {
            continue;
        }
        let flow = need.flow;
        let mut d = Diagnostic::error(
            Code::BlockedFlow,
            format!(
                "the firewall of `{}` lets {} out (flow `{}`), but access list {} of `{router_name}` does not permit it",
                need.terminal.profile.name,
                connection(flow.protocol, &need.source, &need.peer, need.port),
                flow.id,
                list.name,
            ),
        )
        .at(rule.origin, format!("{} {} lets the `{}` flow out", rule.control, rule.target, flow.id))
        .also(
            setting.origin,
            format!("{} {} of `{router_name}` has no entry for it", setting.control, list.name),
        );
        let wanted = (need.source.as_str(), need.peer.as_str(), need.port);
        d = with_params(d, rule, need.terminal, wanted);
        d = with_params(d, setting, router, wanted);
        let mut same: Vec<String> = Vec::new();
        for p in permits.iter().filter(|p| p.flow.id == flow.id) {
            let entry = connection(p.flow.protocol, p.source, p.peer, p.port);
            if !same.contains(&entry) {
                same.push(entry);
            }
        }
        d = if same.is_empty() {
            d.note(format!(
                "access list {} does not carry the `{}` flow at all",
                list.name, flow.id
            ))
        } else {
            d.note(format!(
                "access list {} permits the `{}` flow as: {}",
                list.name,
                flow.id,
                same.join("; ")
            ))
        };
        diags.push(d.note(
            "help: give the terminal and the router the same addresses and ports (the router's access list follows its own parameters); a terminal behind a router with another value is cut off there",
        ));
    }

    let judged: Vec<&String> = list
        .sources
        .iter()
        .filter(|s| {
            behind
                .iter()
                .any(|(_, nets)| nets.iter().any(|n| address_covers(s, n)))
        })
        .collect();
    let names: Vec<String> = behind
        .iter()
        .map(|(t, nets)| format!("`{}` ({})", t.profile.name, nets.join(", ")))
        .collect();
    let mut seen = BTreeSet::new();
    for p in permits {
        if !judged.iter().any(|s| s.as_str() == p.source)
            || !seen.insert((protocol_name(p.flow.protocol), p.source, p.peer, p.port))
            || needs.iter().any(|n| carries(p, &n.permit()))
        {
            continue;
        }
        let d = Diagnostic::warning(
            Code::UnusedEntry,
            format!(
                "access list {} of `{router_name}` permits {} (flow `{}`), which no terminal given behind it needs",
                list.name,
                connection(p.flow.protocol, p.source, p.peer, p.port),
                p.flow.id,
            ),
        )
        .at(
            setting.origin,
            format!("{} {} permits an entry no terminal needs", setting.control, list.name),
        );
        diags.push(
            with_params(d, setting, router, (p.source, p.peer, p.port))
                .note(format!("the terminals behind it in this run: {}", names.join(", ")))
                .note("help: remove the value from the router's parameters if no terminal uses it, or check the profile of the terminal that should"),
        );
    }
}

/// The entries the terminal's outbound flows need from `nets`, built as the device's list
/// would write them. A flow an IPv4 access list cannot carry (ICMPv6, a peer named by host
/// name) is not compared.
fn needs<'a>(terminal: &'a DesiredState, nets: &[String], list: &str) -> Vec<Need<'a>> {
    let mut out = Vec::new();
    for flow in terminal
        .flows
        .iter()
        .filter(|f| f.direction == FlowDirection::Outbound)
    {
        let single = IosAcl {
            name: list.to_string(),
            acl_type: AclType::Extended,
            remark: None,
            permit: Vec::new(),
            sources: nets.to_vec(),
            flows: vec![flow.id.clone()],
            replies: false,
        };
        let Ok(permits) = acl::permits(&single, std::slice::from_ref(flow)) else {
            continue;
        };
        let rule = terminal
            .settings()
            .find(|s| super::flows::allows(&s.kind, flow));
        out.extend(permits.into_iter().map(|p| Need {
            terminal,
            flow,
            source: p.source.to_string(),
            peer: p.peer.to_string(),
            port: p.port,
            rule,
        }));
    }
    out
}

/// Whether a router entry carries an entry a terminal needs.
fn carries(router: &Permit<'_>, need: &Permit<'_>) -> bool {
    (router.flow.protocol == Protocol::Any || router.flow.protocol == need.flow.protocol)
        && address_covers(router.source, need.source)
        && address_covers(router.peer, need.peer)
        && (router.port.is_none() || router.port == need.port)
}

/// A terminal's own networks: the values of its `atm_networks` parameter.
fn own_networks(state: &DesiredState) -> Vec<String> {
    fn strings(value: &ParamValue) -> Vec<String> {
        match value {
            ParamValue::String(s) => vec![s.clone()],
            ParamValue::List(items) => items.iter().flat_map(strings).collect(),
            _ => Vec::new(),
        }
    }
    state
        .set_params
        .get("atm_networks")
        .map(strings)
        .unwrap_or_default()
}

/// Labels at the profile lines that set the values of a setting that make up the connection
/// (its source network, its destination or its port); the setting's other values are left out.
fn with_params(
    mut d: Diagnostic,
    setting: &DesiredSetting,
    state: &DesiredState,
    connection: (&str, &str, Option<u16>),
) -> Diagnostic {
    for (name, origin) in &setting.params {
        let (Some(span), Some(value)) = (origin, state.set_params.get(name)) else {
            continue;
        };
        if mentions(value, connection) {
            d = d.also(
                *span,
                format!("`{name}` of `{}` is set here", state.profile.name),
            );
        }
    }
    d
}

fn mentions(value: &ParamValue, (source, peer, port): (&str, &str, Option<u16>)) -> bool {
    match value {
        ParamValue::String(s) => s == source || s == peer,
        ParamValue::Int(n) => port.is_some_and(|p| i64::from(p) == *n),
        ParamValue::List(items) => items.iter().any(|i| mentions(i, (source, peer, port))),
        ParamValue::Bool(_) | ParamValue::Secret => false,
    }
}

fn protocol_name(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Icmpv4 => "icmp",
        Protocol::Icmpv6 => "icmpv6",
        Protocol::Any => "ip",
    }
}

/// `tcp from 10.50.1.0/24 to 10.10.1.10 port 7000`.
fn connection(protocol: Protocol, source: &str, peer: &str, port: Option<u16>) -> String {
    let port = match port {
        Some(p) => format!(" port {p}"),
        None => String::new(),
    };
    format!("{} from {source} to {peer}{port}", protocol_name(protocol))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::taxonomy::Text;

    fn flow(protocol: Protocol, peers: &[&str], ports: &[u16]) -> FlowInstance {
        FlowInstance {
            id: "host".into(),
            direction: FlowDirection::Outbound,
            protocol,
            peers: peers.iter().map(|p| p.to_string()).collect(),
            ports: ports.to_vec(),
            purpose: Text {
                en: String::new(),
                ja: String::new(),
            },
            span: None,
        }
    }

    fn permit<'a>(flow: &'a FlowInstance, source: &'a str) -> Permit<'a> {
        Permit {
            flow,
            source,
            peer: &flow.peers[0],
            port: flow.ports.first().copied(),
        }
    }

    #[test]
    fn a_router_entry_carries_what_it_covers() {
        let need = flow(Protocol::Tcp, &["10.10.1.10"], &[7000]);
        let need = permit(&need, "10.50.1.0/25");
        for (router, source, carried) in [
            (
                flow(Protocol::Tcp, &["10.10.1.10"], &[7000]),
                "10.50.1.0/24",
                true,
            ),
            (
                flow(Protocol::Tcp, &["10.10.1.0/24"], &[7000]),
                "10.50.0.0/16",
                true,
            ),
            (
                flow(Protocol::Tcp, &["10.10.1.10"], &[]),
                "10.50.1.0/24",
                true,
            ),
            (
                flow(Protocol::Any, &["10.10.1.10"], &[]),
                "10.50.1.0/24",
                true,
            ),
            (
                flow(Protocol::Tcp, &["10.10.1.10"], &[7001]),
                "10.50.1.0/24",
                false,
            ),
            (
                flow(Protocol::Udp, &["10.10.1.10"], &[7000]),
                "10.50.1.0/24",
                false,
            ),
            (
                flow(Protocol::Tcp, &["10.10.1.11"], &[7000]),
                "10.50.1.0/24",
                false,
            ),
            (
                flow(Protocol::Tcp, &["10.10.1.10"], &[7000]),
                "10.50.1.128/25",
                false,
            ),
        ] {
            assert_eq!(
                carries(&permit(&router, source), &need),
                carried,
                "{router:?} from {source}"
            );
        }
    }
}

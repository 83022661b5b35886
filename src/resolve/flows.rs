//! The lock-out guard: every flow the profile declares survives its firewall's default-deny.
//!
//! A flow is covered by an allow rule with the same direction and protocol (or any protocol),
//! whose ports include the flow's ports (no ports means any) and whose addresses cover every
//! peer (no addresses means any). Windows firewall rules and nftables rules are both checked.

use crate::catalog::flow::{address_covers, FlowDirection, FlowInstance};
use crate::catalog::setting::{
    Chain, ChainPolicy, Direction, FirewallAction, Protocol, SettingKind,
};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::ControlState;
use crate::source::Span;

fn covers_ports(rule: &[u16], flow: &[u16]) -> bool {
    rule.is_empty() || flow.iter().all(|p| rule.contains(p))
}

fn covers_peers(rule: &[String], flow: &[String]) -> bool {
    rule.is_empty()
        || flow
            .iter()
            .all(|peer| rule.iter().any(|r| address_covers(r, peer)))
}

fn covers_protocol(rule: Protocol, flow: Protocol) -> bool {
    rule == Protocol::Any || rule == flow
}

/// Where the default-deny for this direction is set, if anywhere.
fn default_deny(controls: &[ControlState], direction: FlowDirection) -> Option<(Span, String)> {
    controls
        .iter()
        .flat_map(|c| c.settings.iter())
        .find_map(|s| {
            let denies = match (&s.kind, direction) {
                (SettingKind::FirewallProfile(p), FlowDirection::Inbound) => {
                    p.enabled && p.default_inbound == FirewallAction::Block
                }
                (SettingKind::FirewallProfile(p), FlowDirection::Outbound) => {
                    p.enabled && p.default_outbound == FirewallAction::Block
                }
                (SettingKind::NftPolicy(p), FlowDirection::Inbound) => {
                    p.chain == Chain::Input && p.policy == ChainPolicy::Drop
                }
                (SettingKind::NftPolicy(p), FlowDirection::Outbound) => {
                    p.chain == Chain::Output && p.policy == ChainPolicy::Drop
                }
                _ => false,
            };
            denies.then(|| (s.origin, s.control.clone()))
        })
}

fn allowed(controls: &[ControlState], flow: &FlowInstance) -> bool {
    controls
        .iter()
        .flat_map(|c| c.settings.iter())
        .any(|s| allows(&s.kind, flow))
}

/// Whether a setting is an allow rule that carries the flow: a Windows firewall allow rule or an
/// nftables rule with the flow's direction, protocol (or any), ports and peers.
pub fn allows(kind: &SettingKind, flow: &FlowInstance) -> bool {
    match kind {
        SettingKind::FirewallRule(r) => {
            let direction = match r.direction {
                Direction::Inbound => FlowDirection::Inbound,
                Direction::Outbound => FlowDirection::Outbound,
            };
            let ports = match direction {
                FlowDirection::Inbound => &r.local_ports,
                FlowDirection::Outbound => &r.remote_ports,
            };
            direction == flow.direction
                && r.action == FirewallAction::Allow
                && covers_protocol(r.protocol, flow.protocol)
                && covers_ports(ports, &flow.ports)
                && covers_peers(&r.remote_addresses, &flow.peers)
        }
        SettingKind::NftRule(r) => {
            let direction = match r.chain {
                Chain::Input => FlowDirection::Inbound,
                Chain::Output => FlowDirection::Outbound,
                Chain::Forward => return false,
            };
            direction == flow.direction
                && covers_protocol(r.protocol, flow.protocol)
                && covers_ports(&r.ports, &flow.ports)
                && covers_peers(&r.addresses, &flow.peers)
        }
        _ => false,
    }
}

/// Reports each declared flow that a default-deny policy leaves without an allow rule.
pub fn check(
    flows: &[FlowInstance],
    controls: &[ControlState],
    profile: Span,
    diags: &mut Diagnostics,
) {
    for flow in flows {
        let Some((deny_span, deny_control)) = default_deny(controls, flow.direction) else {
            continue;
        };
        if allowed(controls, flow) {
            continue;
        }
        let ports = if flow.ports.is_empty() {
            String::new()
        } else {
            format!(
                " port {}",
                flow.ports
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            )
        };
        let direction = match flow.direction {
            FlowDirection::Inbound => ("inbound", "from"),
            FlowDirection::Outbound => ("outbound", "to"),
        };
        let mut d = Diagnostic::error(
            Code::BlockedFlow,
            format!(
                "the {} default-deny leaves the `{}` flow ({:?}{ports} {} {}) without an allow rule",
                direction.0,
                flow.id,
                flow.protocol,
                direction.1,
                flow.peers.join(", ")
            )
            .replace("Tcp", "tcp")
            .replace("Udp", "udp"),
        )
        .at(profile, format!("this profile would cut its own `{}` flow", flow.id))
        .also(deny_span, format!("{deny_control} sets the {} default to block", direction.0))
        .note(format!("the flow: {}", flow.purpose.en))
        .note("keep (or include) the control that allows this flow, or add an allow rule for it");
        if let Some(span) = flow.span {
            d = d.also(span, "the flow is declared here");
        }
        diags.push(d);
    }
}

/// User rights that would leave no one able to use the Remote Desktop flow the role declares.
///
/// A workgroup server is administered with local accounts, so denying Remote Desktop logon to
/// "Local account" (S-1-5-113) or "Local account and member of Administrators" (S-1-5-114), or
/// granting the Remote Desktop logon right to no one, cuts the administrative path over RDP.
pub fn check_admin_path(
    flows: &[FlowInstance],
    controls: &[ControlState],
    workgroup: bool,
    profile: Span,
    diags: &mut Diagnostics,
) {
    use crate::catalog::setting::{ListMode, Principal};
    let Some(rdp) = flows
        .iter()
        .find(|f| f.direction == FlowDirection::Inbound && f.ports.contains(&3389))
    else {
        return;
    };
    for s in controls.iter().flat_map(|c| c.settings.iter()) {
        let SettingKind::UserRight(u) = &s.kind else {
            continue;
        };
        let sid_in = |sids: &[&str]| {
            u.principals.iter().any(|p| matches!(p, Principal::WellKnownSid { sid, .. } if sids.contains(&sid.as_str())))
        };
        let problem = match u.right.as_str() {
            "SeDenyRemoteInteractiveLogonRight" if workgroup && sid_in(&["S-1-5-113", "S-1-5-114"]) => Some(
                "denies Remote Desktop logon to local accounts, and a workgroup server is administered with local accounts",
            ),
            "SeRemoteInteractiveLogonRight" if u.mode == ListMode::Replace && u.principals.is_empty() => {
                Some("grants Remote Desktop logon to no one")
            }
            _ => None,
        };
        if let Some(why) = problem {
            diags.push(
                Diagnostic::error(
                    Code::BlockedFlow,
                    format!("control {} {why}, which cuts the `{}` flow", s.control, rdp.id),
                )
                .at(profile, format!("this profile would lose its `{}` administrative path", rdp.id))
                .also(s.origin, format!("{} sets {}", s.control, u.right))
                .note("administer the server with domain accounts (membership = \"domain\"), or exclude the control under a waiver and keep a reviewed local administrative path"),
            );
        }
    }
}

/// Where Windows Event Forwarding sends events: the `Server=` URL of a subscription manager
/// entry (`Server=https://wec.example:5986/wsman/SubscriptionManager/WEC,Refresh=60`), as
/// (host, port). Without an explicit port, WinRM's defaults apply: 5985 for http, 5986 for https.
pub fn subscription_manager_target(entry: &str) -> Option<(String, u16)> {
    let server = entry
        .split(',')
        .find_map(|part| part.trim().strip_prefix("Server="))?;
    let (default_port, rest) = if let Some(r) = server.strip_prefix("https://") {
        (5986, r)
    } else if let Some(r) = server.strip_prefix("http://") {
        (5985, r)
    } else {
        return None;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && !h.ends_with(':') => (h, p.parse().ok()?),
        _ => (authority, default_port),
    };
    if host.is_empty() {
        return None;
    }
    Some((host.to_string(), port))
}

/// The event-forwarding subscription manager must be reachable through the profile's own
/// log-forwarding flow: the same port, and the same address when the URL names one. Otherwise
/// the firewall allow rule opens one port while the forwarder uses another, and a default-deny
/// silently stops the logs.
pub fn check_event_forwarding(
    flows: &[FlowInstance],
    controls: &[ControlState],
    diags: &mut Diagnostics,
) {
    let Some(flow) = flows.iter().find(|f| f.id == "log-forwarding") else {
        return;
    };
    for control in controls {
        for setting in &control.settings {
            let SettingKind::RegistryList(list) = &setting.kind else {
                continue;
            };
            if !list
                .key
                .to_ascii_lowercase()
                .ends_with(r"eventforwarding\subscriptionmanager")
            {
                continue;
            }
            let at = setting
                .params
                .iter()
                .find_map(|(_, origin)| *origin)
                .unwrap_or(setting.origin);
            for item in &list.items {
                let Some((host, port)) = subscription_manager_target(item) else {
                    continue;
                };
                let ip_literal = host.parse::<std::net::IpAddr>().is_ok();
                let port_ok = flow.ports.is_empty() || flow.ports.contains(&port);
                let host_ok = !ip_literal
                    || flow.peers.is_empty()
                    || flow.peers.iter().any(|p| address_covers(p, &host));
                if port_ok && host_ok {
                    continue;
                }
                let mut d = Diagnostic::error(
                    Code::BlockedFlow,
                    format!(
                        "control {} forwards events to {host} port {port}, but the `log-forwarding` flow is {} port {}",
                        control.control.id,
                        flow.peers.join(", "),
                        flow.ports.iter().map(u16::to_string).collect::<Vec<_>>().join(",")
                    ),
                )
                .at(at, "the subscription manager")
                .note("the firewall allow rule follows the flow (log_collector, log_port): set log_port to the subscription manager's port (5986 for https, 5985 for http) and log_collector to its address");
                if let Some(span) = flow.span {
                    d = d.also(span, "the flow is declared here");
                }
                diags.push(d);
            }
        }
    }
}

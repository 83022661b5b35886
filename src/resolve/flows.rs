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
        .any(|s| match &s.kind {
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
        })
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

//! Flows: the network paths a role needs (ATM → host, jump host → server, → log collector …).
//!
//! Flows are declared once in the catalog (`[[flow]]`) with parameter references, so a
//! profile's flows follow from its role and addresses. They serve two purposes: `check`
//! refuses a profile whose firewall default-deny leaves a declared flow without an allow rule
//! (the lock-out guard), and they are the rows of the bank's flow matrix.

use serde::{Deserialize, Serialize};

use super::param::ParamValue;
use super::setting::Protocol;
use super::taxonomy::{Role, Text};
use crate::source::Span;

/// Which way a flow goes, seen from the machine the profile describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlowDirection {
    Inbound,
    Outbound,
}

/// A flow as the catalog declares it.
#[derive(Clone, Debug)]
pub struct Flow {
    pub id: String,
    pub span: Span,
    pub roles: Vec<Role>,
    /// Platform families the flow exists on; empty means all.
    pub platforms: Vec<super::taxonomy::Family>,
    pub direction: FlowDirection,
    pub protocol: Protocol,
    pub purpose: Text,
    /// `${param}` references or literal addresses.
    pub peers: Vec<String>,
    /// `${param}` references or literal ports.
    pub ports: Vec<PortRef>,
    /// Parameters the flow refers to.
    pub uses: Vec<String>,
}

#[derive(Clone, Debug)]
pub enum PortRef {
    Literal(u16),
    Param(String),
}

/// A flow with the profile's addresses and ports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlowInstance {
    pub id: String,
    pub direction: FlowDirection,
    pub protocol: Protocol,
    pub peers: Vec<String>,
    pub ports: Vec<u16>,
    pub purpose: Text,
    #[serde(skip)]
    pub span: Option<Span>,
}

impl Flow {
    /// The flow with parameter values; `None` when a parameter it needs has no value.
    pub fn instantiate(
        &self,
        value_of: &dyn Fn(&str) -> Option<ParamValue>,
    ) -> Option<FlowInstance> {
        let mut peers = Vec::new();
        for p in &self.peers {
            match p.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                Some(name) => match value_of(name)? {
                    ParamValue::String(s) => peers.push(s),
                    ParamValue::List(items) => {
                        for i in items {
                            if let ParamValue::String(s) = i {
                                peers.push(s);
                            }
                        }
                    }
                    _ => return None,
                },
                None => peers.push(p.clone()),
            }
        }
        let mut ports = Vec::new();
        for p in &self.ports {
            match p {
                PortRef::Literal(n) => ports.push(*n),
                PortRef::Param(name) => match value_of(name)? {
                    ParamValue::Int(n) => ports.push(u16::try_from(n).ok()?),
                    ParamValue::List(items) => {
                        for i in items {
                            ports.push(u16::try_from(i.as_int()?).ok()?);
                        }
                    }
                    _ => return None,
                },
            }
        }
        if peers.is_empty() {
            return None;
        }
        Some(FlowInstance {
            id: self.id.clone(),
            direction: self.direction,
            protocol: self.protocol,
            peers,
            ports,
            purpose: self.purpose.clone(),
            span: Some(self.span),
        })
    }
}

/// Whether `rule` (an address or CIDR network, in canonical form) covers `peer` (the same).
pub fn address_covers(rule: &str, peer: &str) -> bool {
    if rule == peer {
        return true;
    }
    let Some((net, len)) = rule.split_once('/') else {
        return false;
    };
    let (peer_addr, peer_len) = match peer.split_once('/') {
        Some((a, l)) => (a, l.parse::<u32>().ok()),
        None => (peer, None),
    };
    let (Ok(net), Ok(len), Ok(addr)) = (
        net.parse::<std::net::IpAddr>(),
        len.parse::<u32>(),
        peer_addr.parse::<std::net::IpAddr>(),
    ) else {
        return false;
    };
    let (net_bits, addr_bits, width) = match (net, addr) {
        (std::net::IpAddr::V4(n), std::net::IpAddr::V4(a)) => {
            (u128::from(u32::from(n)), u128::from(u32::from(a)), 32)
        }
        (std::net::IpAddr::V6(n), std::net::IpAddr::V6(a)) => (u128::from(n), u128::from(a), 128),
        _ => return false,
    };
    if len > width || peer_len.is_some_and(|p| p < len) {
        return false;
    }
    let shift = width - len;
    shift >= 128 || (net_bits >> shift) == (addr_bits >> shift)
}

#[cfg(test)]
mod tests {
    use super::address_covers;

    #[test]
    fn cidr_coverage() {
        assert!(address_covers("10.50.0.0/16", "10.50.1.7"));
        assert!(address_covers("10.50.0.0/16", "10.50.1.0/24"));
        assert!(!address_covers("10.50.1.0/24", "10.50.0.0/16"));
        assert!(!address_covers("10.50.0.0/16", "10.51.0.1"));
        assert!(address_covers("0.0.0.0/0", "192.0.2.1"));
        assert!(address_covers("10.10.1.10", "10.10.1.10"));
        assert!(!address_covers("10.10.1.10", "10.10.1.11"));
        assert!(address_covers("2001:db8::/32", "2001:db8::1"));
        assert!(!address_covers("2001:db8::/32", "10.0.0.1"));
    }
}

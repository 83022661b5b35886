//! Access-list entries: a standard list from its permitted sources, an extended list from the
//! profile's flows.
//!
//! An extended list carries the terminal flows a network device routes: for each flow it
//! names (in the order it names them), each source network, each peer and each port, one
//! `permit` entry; with `replies`, the same flows seen from the peers (`established` for TCP).
//! Every list ends with a logged deny, so a flow nobody declared is dropped and recorded.
//! [`permits`] gives an extended list's permits as data, so a check comparing the list with
//! the terminals behind the device sees exactly what is written.

use std::net::Ipv4Addr;

use crate::catalog::flow::FlowInstance;
use crate::catalog::setting::{AclType, IosAcl, Protocol};

/// An address or network in IOS access-list form: `host A`, `any`, or `A wildcard`.
pub fn operand(address: &str) -> Result<String, String> {
    let (addr, len) = match address.split_once('/') {
        Some((a, l)) => (a, l.parse::<u32>().map_err(|_| bad(address))?),
        None => (address, 32),
    };
    let addr: Ipv4Addr = addr.parse().map_err(|_| bad(address))?;
    Ok(match len {
        0 => "any".to_string(),
        32 => format!("host {addr}"),
        1..=31 => format!("{addr} {}", wildcard(len)),
        _ => return Err(bad(address)),
    })
}

/// A source of a standard list: `A wildcard` (`0.0.0.0` for one host), the form the catalog
/// shows (`permit 10.20.0.0 0.0.0.255`).
fn standard_operand(address: &str) -> Result<String, String> {
    match operand(address)?.strip_prefix("host ") {
        Some(a) => Ok(format!("{a} 0.0.0.0")),
        None => operand(address),
    }
}

fn wildcard(len: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::MAX >> len)
}

fn bad(address: &str) -> String {
    format!("`{address}` is not an IPv4 address or network an IOS access list can name")
}

fn protocol(p: Protocol) -> Result<&'static str, String> {
    match p {
        Protocol::Tcp => Ok("tcp"),
        Protocol::Udp => Ok("udp"),
        Protocol::Icmpv4 => Ok("icmp"),
        Protocol::Any => Ok("ip"),
        Protocol::Icmpv6 => Err("an IPv4 access list cannot carry ICMPv6".into()),
    }
}

/// A port as IOS writes it: `ntp` for UDP 123 (as the catalog shows), the number otherwise.
fn port(protocol: Protocol, port: u16) -> String {
    match (protocol, port) {
        (Protocol::Udp, 123) => "ntp".to_string(),
        _ => port.to_string(),
    }
}

/// One permit of an extended list, seen from the sources: a flow from `source` to `peer`,
/// on `port` (`None` for a flow without ports). With `replies` the entry is written reversed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Permit<'a> {
    pub flow: &'a FlowInstance,
    pub source: &'a str,
    pub peer: &'a str,
    pub port: Option<u16>,
}

/// The permits of an extended list, in the order its entries are written: for each flow it
/// names, each source, each peer and each port. Fails on what the list cannot carry.
pub(crate) fn permits<'a>(
    acl: &'a IosAcl,
    flows: &'a [FlowInstance],
) -> Result<Vec<Permit<'a>>, String> {
    if acl.sources.is_empty() || acl.flows.is_empty() {
        return Err(format!(
            "access list {} needs `sources` and `flows`: an empty list never means any",
            acl.name
        ));
    }
    let mut out = Vec::new();
    for id in &acl.flows {
        let flow = flows.iter().find(|f| &f.id == id).ok_or_else(|| {
            format!(
                "access list {} names the flow `{id}`, which is not a flow of this profile (a flow of the network-device role whose parameters all have values)",
                acl.name
            )
        })?;
        protocol(flow.protocol)?;
        for source in &acl.sources {
            operand(source)?;
            for peer in &flow.peers {
                operand(peer)?;
                let ports: Vec<Option<u16>> = if flow.ports.is_empty() {
                    vec![None]
                } else {
                    flow.ports.iter().copied().map(Some).collect()
                };
                for port in ports {
                    out.push(Permit {
                        flow,
                        source,
                        peer,
                        port,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// The entries of `acl` (without its header line), the final deny included.
pub fn entries(acl: &IosAcl, flows: &[FlowInstance]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |line: String| {
        if !out.contains(&line) {
            out.push(line);
        }
    };
    if let Some(remark) = &acl.remark {
        push(format!("remark {remark}"));
    }
    match acl.acl_type {
        AclType::Standard => {
            if acl.permit.is_empty() {
                return Err(format!(
                    "access list {} permits no source: an empty list would deny every management session",
                    acl.name
                ));
            }
            for a in &acl.permit {
                push(format!("permit {}", standard_operand(a)?));
            }
            push("deny any log".to_string());
        }
        AclType::Extended => {
            for p in permits(acl, flows)? {
                let proto = protocol(p.flow.protocol)?;
                let (src, dst) = (operand(p.source)?, operand(p.peer)?);
                push(match (p.port, acl.replies, p.flow.protocol) {
                    (None, false, _) => format!("permit {proto} {src} {dst}"),
                    (None, true, _) => format!("permit {proto} {dst} {src}"),
                    (Some(n), false, _) => {
                        format!("permit {proto} {src} {dst} eq {}", port(p.flow.protocol, n))
                    }
                    (Some(n), true, Protocol::Tcp) => format!(
                        "permit {proto} {dst} eq {} {src} established",
                        port(p.flow.protocol, n)
                    ),
                    (Some(n), true, _) => {
                        format!("permit {proto} {dst} eq {} {src}", port(p.flow.protocol, n))
                    }
                });
            }
            push("deny ip any any log".to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operands() {
        assert_eq!(operand("10.50.1.0/24").unwrap(), "10.50.1.0 0.0.0.255");
        assert_eq!(operand("10.10.1.10").unwrap(), "host 10.10.1.10");
        assert_eq!(operand("10.10.1.10/32").unwrap(), "host 10.10.1.10");
        assert_eq!(operand("0.0.0.0/0").unwrap(), "any");
        assert_eq!(operand("10.0.0.0/8").unwrap(), "10.0.0.0 0.255.255.255");
        assert_eq!(
            standard_operand("10.10.2.10").unwrap(),
            "10.10.2.10 0.0.0.0"
        );
        assert_eq!(
            standard_operand("10.20.0.0/24").unwrap(),
            "10.20.0.0 0.0.0.255"
        );
        assert!(operand("2001:db8::1").is_err());
    }
}

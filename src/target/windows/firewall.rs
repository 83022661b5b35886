//! Windows Firewall rule strings (MS-GPFAS 2.2.2.19) and the schema version that fits a build.
//!
//! A rule is `v<major>.<minor>|Token=Value|…|`: it starts with `v` and ends with `|`. Values
//! cannot contain `|` (the model rejects it before any artefact is written), and backslashes
//! in program paths are written single, as real GPO backups do.

use crate::catalog::setting::{Direction, FirewallAction, FirewallRule, Protocol};

/// `wSchemaVersion` for a Windows build: v2.29 (0x021D) for 1809 / Server 2019, v2.30 (0x021E)
/// for 1903 and later (MS-GPFAS section 6; later versions are not in the specification).
pub fn schema_version(build: u32) -> u32 {
    if build >= 18362 {
        0x021E
    } else {
        0x021D
    }
}

/// The version prefix of rule strings, such as `v2.30`.
pub fn version_prefix(build: u32) -> String {
    let v = schema_version(build);
    format!("v{}.{}", v >> 8, v & 0xFF)
}

fn protocol_number(p: Protocol) -> Option<u8> {
    match p {
        Protocol::Tcp => Some(6),
        Protocol::Udp => Some(17),
        Protocol::Icmpv4 => Some(1),
        Protocol::Icmpv6 => Some(58),
        Protocol::Any => None,
    }
}

/// The REG_SZ rule string of one rule, for the given build.
pub fn rule_string(rule: &FirewallRule, build: u32) -> String {
    let mut out = version_prefix(build);
    let mut push = |token: &str, value: &str| {
        out.push('|');
        out.push_str(token);
        out.push('=');
        out.push_str(value);
    };
    push(
        "Action",
        match rule.action {
            FirewallAction::Allow => "Allow",
            FirewallAction::Block => "Block",
        },
    );
    push("Active", "TRUE");
    push(
        "Dir",
        match rule.direction {
            Direction::Inbound => "In",
            Direction::Outbound => "Out",
        },
    );
    if let Some(n) = protocol_number(rule.protocol) {
        push("Protocol", &n.to_string());
    }
    let ports_allowed = matches!(rule.protocol, Protocol::Tcp | Protocol::Udp);
    if ports_allowed {
        for p in &rule.local_ports {
            push("LPort", &p.to_string());
        }
        for p in &rule.remote_ports {
            push("RPort", &p.to_string());
        }
    }
    let icmp = match rule.protocol {
        Protocol::Icmpv4 => Some("ICMP4"),
        Protocol::Icmpv6 => Some("ICMP6"),
        _ => None,
    };
    if let Some(token) = icmp {
        for t in &rule.icmp_types {
            push(token, &format!("{t}:*"));
        }
    }
    for a in &rule.remote_addresses {
        push(if a.contains(':') { "RA6" } else { "RA4" }, a);
    }
    if let Some(app) = &rule.program {
        push("App", app);
    }
    if let Some(svc) = &rule.service {
        push("Svc", svc);
    }
    push("Name", &rule.name);
    push("Desc", &rule.purpose);
    out.push('|');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbound_rule_string() {
        let rule = FirewallRule {
            name: "HB-LOG-OUT".into(),
            direction: Direction::Outbound,
            action: FirewallAction::Allow,
            protocol: Protocol::Tcp,
            local_ports: vec![],
            remote_ports: vec![6514],
            remote_addresses: vec!["10.10.3.5".into(), "2001:db8::/32".into()],
            icmp_types: vec![],
            program: Some(r"C:\ATMApp\bin\atmapp.exe".into()),
            service: None,
            purpose: "logs".into(),
        };
        assert_eq!(
            rule_string(&rule, 19044),
            r"v2.30|Action=Allow|Active=TRUE|Dir=Out|Protocol=6|RPort=6514|RA4=10.10.3.5|RA6=2001:db8::/32|App=C:\ATMApp\bin\atmapp.exe|Name=HB-LOG-OUT|Desc=logs|"
        );
        assert!(rule_string(&rule, 17763).starts_with("v2.29|"));
    }
}

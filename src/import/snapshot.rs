//! `hardbase import snapshot`: a golden unit's snapshot turned into a *proposed* profile layer.
//!
//! A layer carries parameters, `include`/`exclude` lists and waivers, not settings, so the
//! proposal holds only what a layer can: the catalog parameters the snapshot can fill (Linux:
//! `management_port` from `sshd -T`, `kiosk_usb_ids` from usbguard `allow id` rules). Everything
//! else the unit shows is written as a commented inventory for the reviewer: listening sockets
//! with the catalog flow (and parameter value) each implies, enabled units or automatic
//! services, the accept rules of the current firewall, usbguard rules, local administrators by
//! SID, enabled optional features and the package count. A person reviews the file, keeps what
//! the bank wants and extends it from a profile; nothing here is applied as found.
//!
//! Every snapshot string is untrusted. Values written as TOML go through the `toml` crate, and
//! text in comments is made inert by [`inert`]: a newline would end the comment and start TOML,
//! and an escape sequence would reach the reviewer's terminal.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::json;

use super::printable;
use crate::catalog::flow::{FlowDirection, PortRef};
use crate::catalog::param::ParamValue;
use crate::catalog::setting::Protocol;
use crate::catalog::taxonomy::Family;
use crate::catalog::Catalog;
use crate::live::{Listener, LiveState};

/// The well-known SID of the local Administrators group.
const ADMINISTRATORS: &str = "S-1-5-32-544";

/// A catalog parameter the snapshot can fill.
#[derive(Clone, Debug, Serialize)]
pub struct ProposedParam {
    pub name: &'static str,
    pub value: toml::Value,
    /// Where the value was read, for the comment above it.
    pub reason: String,
}

/// One line of the inventory: what the unit showed, and what it implies for the profile.
#[derive(Clone, Debug, Serialize)]
pub struct Item {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub implies: Option<String>,
}

/// One part of the inventory; `items` is `None` when the snapshot did not collect its source.
#[derive(Clone, Debug, Serialize)]
pub struct Section {
    pub key: &'static str,
    pub title: &'static str,
    pub items: Option<Vec<Item>>,
}

/// What `import snapshot` proposes for one unit.
#[derive(Clone, Debug, Serialize)]
pub struct Proposal {
    pub source: String,
    pub host: String,
    pub collected_at: String,
    pub family: String,
    pub params: Vec<ProposedParam>,
    /// Parameters the snapshot could not fill, and why (comments in the layer).
    pub unfilled: Vec<(&'static str, String)>,
    pub sections: Vec<Section>,
    pub packages: Option<usize>,
}

/// Text safe inside a TOML comment and on a terminal: control characters, line and paragraph
/// separators, bidirectional controls and the byte-order mark written as `\u{…}`.
pub fn inert(s: &str) -> String {
    const INVISIBLE: &[char] = &[
        '\u{200e}', '\u{200f}', '\u{2028}', '\u{2029}', '\u{202a}', '\u{202b}', '\u{202c}',
        '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{feff}',
    ];
    let mut out = printable(s);
    for c in INVISIBLE {
        out = out.replace(*c, &format!("\\u{{{:x}}}", *c as u32));
    }
    out
}

/// Proposes a layer from a loaded snapshot; `source` names the folder in the header.
pub fn propose(live: &LiveState, source: &str, catalog: &Catalog) -> Proposal {
    let mut p = Proposal {
        source: source.to_string(),
        host: live.info.host.clone(),
        collected_at: live.info.collected_at.clone(),
        family: live.info.family.clone(),
        params: Vec::new(),
        unfilled: Vec::new(),
        sections: Vec::new(),
        packages: None,
    };
    if live.info.family == "windows" {
        windows(live, catalog, &mut p);
    } else {
        linux(live, catalog, &mut p);
    }
    p
}

fn linux(live: &LiveState, catalog: &Catalog, p: &mut Proposal) {
    let l = &live.linux;
    let mut known = BTreeMap::new();
    let sshd_port = l
        .sshd
        .as_ref()
        .and_then(|s| s.get("port"))
        .and_then(|v| v.first())
        .and_then(|v| v.parse::<u16>().ok());
    match sshd_port {
        Some(port) => {
            let listening = l.listening.as_ref().is_some_and(|ls| {
                ls.iter()
                    .any(|x| x.protocol == "tcp" && x.port == port && !loopback(&x.address))
            });
            let now = if listening {
                "sshd listens on it"
            } else {
                "nothing listens on it now"
            };
            known.insert("management_port".to_string(), port);
            p.params.push(ProposedParam {
                name: "management_port",
                value: toml::Value::Integer(port.into()),
                reason: format!("sshd -T: port {port} ({now}); the management-ssh flow"),
            });
        }
        None => p
            .unfilled
            .push(("management_port", "sshd -T was not collected".into())),
    }
    match &l.usbguard_rules {
        Some(rules) => {
            let ids: BTreeSet<String> = rules.iter().flat_map(|r| usb_ids(r)).collect();
            if ids.is_empty() {
                p.unfilled.push((
                    "kiosk_usb_ids",
                    "no usbguard `allow id` rule names a peripheral; list the kiosk's own devices (vendor:product)".into(),
                ));
            } else {
                p.params.push(ProposedParam {
                    name: "kiosk_usb_ids",
                    value: toml::Value::String(ids.iter().cloned().collect::<Vec<_>>().join(" ")),
                    reason: format!(
                        "usbguard allow rules: {} device id(s); hubs are left to the baseline's hub rule",
                        ids.len()
                    ),
                });
            }
        }
        None => p.unfilled.push((
            "kiosk_usb_ids",
            "usbguard's rules were not collected".into(),
        )),
    }
    p.sections.push(listening_section(
        "Listening sockets (ss -tlnup) and the catalog flow each implies",
        l.listening.as_deref(),
        catalog,
        Family::Linux,
        &known,
    ));
    p.sections.push(Section {
        key: "firewall_accept",
        title: "Accept rules of the current nftables ruleset (allowed flows today)",
        items: l.nft.as_ref().map(|nft| {
            nft.rules
                .iter()
                .filter(|r| r.verdict.as_deref() == Some("accept"))
                .filter(|r| !r.ports.is_empty() || !r.addresses.is_empty())
                .map(|r| {
                    let hook = nft
                        .chains
                        .iter()
                        .find(|c| c.family == r.family && c.table == r.table && c.name == r.chain)
                        .and_then(|c| c.hook.as_deref());
                    let direction = match hook {
                        Some("input") => Some(FlowDirection::Inbound),
                        Some("output") => Some(FlowDirection::Outbound),
                        _ => None,
                    };
                    let protocol = r.protocol.as_deref().unwrap_or("any");
                    let mut text = format!("{} {} {}: {protocol}", r.family, r.table, r.chain);
                    if !r.ports.is_empty() {
                        let ports: Vec<String> = r.ports.iter().map(u16::to_string).collect();
                        text.push_str(&format!(" dport {}", ports.join(",")));
                    }
                    if !r.addresses.is_empty() {
                        text.push_str(&format!(" peers {}", r.addresses.join(",")));
                    }
                    if let Some(c) = &r.comment {
                        text.push_str(&format!(" comment {c:?}"));
                    }
                    let flows: BTreeSet<String> = direction
                        .map(|d| {
                            r.ports
                                .iter()
                                .flat_map(|port| {
                                    implied_flows(
                                        catalog,
                                        Family::Linux,
                                        d,
                                        protocol,
                                        *port,
                                        &known,
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    Item {
                        text,
                        implies: (!flows.is_empty())
                            .then(|| flows.into_iter().collect::<Vec<_>>().join("; ")),
                    }
                })
                .collect()
        }),
    });
    p.sections.push(Section {
        key: "enabled_units",
        title: if live.info.governed_units_only {
            "Enabled systemd units, among those the collector's profile governs (collect.sh --all-units lists every unit; a layer cannot disable units: the role baseline's controls decide which must be off)"
        } else {
            "Enabled systemd units (a layer cannot disable units: the role baseline's controls decide which must be off)"
        },
        items: l.unit_files.as_ref().map(|units| {
            units
                .iter()
                .filter(|(_, state)| state.as_str() == "enabled")
                .map(|(unit, _)| Item {
                    text: unit.clone(),
                    implies: None,
                })
                .collect()
        }),
    });
    p.sections.push(Section {
        key: "usbguard_rules",
        title: "usbguard rules (the USB devices allowed today)",
        items: l.usbguard_rules.as_ref().map(|rules| {
            rules
                .iter()
                .map(|r| {
                    let ids = usb_ids(r);
                    Item {
                        text: r.clone(),
                        implies: (!ids.is_empty())
                            .then(|| format!("kiosk_usb_ids: {}", ids.join(" "))),
                    }
                })
                .collect()
        }),
    });
    p.packages = l.packages.as_ref().map(BTreeSet::len);
}

fn windows(live: &LiveState, catalog: &Catalog, p: &mut Proposal) {
    let w = &live.windows;
    p.sections.push(listening_section(
        "Listening ports (Get-NetTCPConnection, Get-NetUDPEndpoint) and the catalog flow each implies",
        w.listening.as_deref(),
        catalog,
        Family::Windows,
        &BTreeMap::new(),
    ));
    p.sections.push(Section {
        key: "automatic_services",
        title: "Services set to start automatically (Win32_Service StartMode Auto)",
        items: w.services.as_ref().map(|services| {
            services
                .values()
                .filter(|s| s.start_mode.eq_ignore_ascii_case("auto"))
                .map(|s| {
                    let delayed = if s.delayed_auto_start == Some(true) {
                        ", delayed"
                    } else {
                        ""
                    };
                    Item {
                        text: format!("{} ({}{delayed})", s.name, s.state),
                        implies: None,
                    }
                })
                .collect()
        }),
    });
    p.sections.push(Section {
        key: "local_administrators",
        title: "Members of the local Administrators group (S-1-5-32-544), by SID",
        items: w.groups.as_ref().map(|groups| {
            let names: BTreeMap<&str, (&str, bool)> = w
                .users
                .iter()
                .flatten()
                .map(|u| (u.sid.as_str(), (u.name.as_str(), u.disabled)))
                .collect();
            groups
                .iter()
                .filter(|g| g.sid.eq_ignore_ascii_case(ADMINISTRATORS))
                .flat_map(|g| g.members.iter())
                .map(|sid| {
                    let mut notes = Vec::new();
                    if let Some((name, disabled)) = names.get(sid.as_str()) {
                        notes.push(format!("local user {name:?}"));
                        if *disabled {
                            notes.push("disabled".into());
                        }
                    }
                    if sid.starts_with("S-1-5-21-") && sid.ends_with("-500") {
                        notes.push("the built-in Administrator (rename or disable it)".into());
                    }
                    Item {
                        text: sid.clone(),
                        implies: (!notes.is_empty()).then(|| notes.join(", ")),
                    }
                })
                .collect()
        }),
    });
    p.sections.push(Section {
        key: "enabled_features",
        title: "Optional features enabled (Get-WindowsOptionalFeature)",
        items: w.features.as_ref().map(|features| {
            features
                .iter()
                .filter(|(_, f)| f.state_name.as_deref() == Some("Enabled"))
                .map(|(name, _)| Item {
                    text: name.clone(),
                    implies: None,
                })
                .collect()
        }),
    });
}

fn loopback(address: &str) -> bool {
    address
        .parse::<std::net::IpAddr>()
        .is_ok_and(|a| a.is_loopback())
        || address == "localhost"
}

fn listening_section(
    title: &'static str,
    listeners: Option<&[Listener]>,
    catalog: &Catalog,
    family: Family,
    known: &BTreeMap<String, u16>,
) -> Section {
    Section {
        key: "listening",
        title,
        items: listeners.map(|ls| {
            ls.iter()
                .map(|x| listener_item(x, catalog, family, known))
                .collect()
        }),
    }
}

fn listener_item(
    x: &Listener,
    catalog: &Catalog,
    family: Family,
    known: &BTreeMap<String, u16>,
) -> Item {
    let process = x.process.as_deref().unwrap_or("process not shown");
    let text = format!("{} {}:{} ({process})", x.protocol, x.address, x.port);
    let implies = if loopback(&x.address) {
        "loopback only: no flow needed".to_string()
    } else {
        let flows = implied_flows(
            catalog,
            family,
            FlowDirection::Inbound,
            &x.protocol,
            x.port,
            known,
        );
        if flows.is_empty() {
            "no catalog flow: a default-deny firewall drops it (stop the service, or declare the flow)".to_string()
        } else {
            flows.join("; ")
        }
    };
    Item {
        text,
        implies: Some(implies),
    }
}

/// The catalog flows of `family` in `direction` that carry `port`: a literal port, or a
/// parameter whose proposed value (else its default) is that port.
fn implied_flows(
    catalog: &Catalog,
    family: Family,
    direction: FlowDirection,
    protocol: &str,
    port: u16,
    known: &BTreeMap<String, u16>,
) -> Vec<String> {
    let mut out = Vec::new();
    for flow in catalog.flows.values() {
        let protocol_matches = match flow.protocol {
            Protocol::Tcp => protocol.eq_ignore_ascii_case("tcp"),
            Protocol::Udp => protocol.eq_ignore_ascii_case("udp"),
            Protocol::Any => true,
            Protocol::Icmpv4 | Protocol::Icmpv6 => false,
        };
        if flow.direction != direction
            || !protocol_matches
            || !(flow.platforms.is_empty() || flow.platforms.contains(&family))
        {
            continue;
        }
        let roles: Vec<&str> = flow.roles.iter().map(|r| r.id()).collect();
        for p in &flow.ports {
            let param = match p {
                PortRef::Literal(n) if *n == port => None,
                PortRef::Literal(_) => continue,
                PortRef::Param(name) => {
                    let value = known.get(name).copied().or_else(|| {
                        match catalog
                            .param_decl(name)
                            .and_then(|(_, d)| d.default.clone())
                        {
                            Some(ParamValue::Int(n)) => u16::try_from(n).ok(),
                            _ => None,
                        }
                    });
                    if value != Some(port) {
                        continue;
                    }
                    Some(name)
                }
            };
            let param = param.map_or(String::new(), |name| format!("{name} = {port}; "));
            out.push(format!(
                "flow {} ({param}roles {})",
                flow.id,
                roles.join(", ")
            ));
        }
    }
    out
}

/// The vendor:product ids an `allow` rule names with `id`, except those of a rule that
/// allows only hubs (interface class 09), which the kiosk baseline allows by interface.
pub fn usb_ids(rule: &str) -> Vec<String> {
    let tokens: Vec<&str> = rule.split_whitespace().collect();
    if tokens.first() != Some(&"allow") {
        return Vec::new();
    }
    let values = |attribute: &str| -> Vec<&str> {
        let Some(at) = tokens.iter().position(|t| *t == attribute) else {
            return Vec::new();
        };
        let rest = &tokens[at + 1..];
        match rest.first() {
            Some(op) if op.ends_with("-of") || *op == "equals" || *op == "equals-ordered" => rest
                .iter()
                .skip(1)
                .skip_while(|t| **t == "{")
                .take_while(|t| **t != "}")
                .copied()
                .collect(),
            Some(one) => vec![*one],
            None => Vec::new(),
        }
    };
    let interfaces = values("with-interface");
    if !interfaces.is_empty() && interfaces.iter().all(|i| i.starts_with("09:")) {
        return Vec::new();
    }
    values("id")
        .into_iter()
        .filter(|id| is_usb_id(id))
        .map(str::to_ascii_lowercase)
        .collect()
}

/// `vvvv:pppp` in hex, or `vvvv:*`.
fn is_usb_id(id: &str) -> bool {
    let hex4 = |s: &str| s.len() == 4 && s.bytes().all(|b| b.is_ascii_hexdigit());
    id.split_once(':')
        .is_some_and(|(v, p)| hex4(v) && (hex4(p) || p == "*"))
}

/// The proposed layer: a description and the filled parameters as TOML, the rest as comments.
pub fn layer_toml(p: &Proposal) -> String {
    let mut out = format!(
        "# Proposed by `hardbase import snapshot` from {}\n# (host {}, collected {}, {}).\n",
        inert(&p.source),
        inert(&p.host),
        inert(&p.collected_at),
        inert(&p.family)
    );
    out.push_str(
        "# A proposal for review, not a finished layer: keep what the bank wants, move it into its\n\
         # own layers, and extend the reviewed file from a profile (`hardbase check` resolves it).\n\
         # Values are as the unit showed them; the inventory below is comments only.\n\n",
    );
    let description = format!("Proposed from the snapshot of {}", inert(&p.host));
    out.push_str(&format!(
        "[profile]\ndescription = {}\n\n[params]\n",
        toml::Value::String(description)
    ));
    for param in &p.params {
        out.push_str(&format!(
            "# {}\n{} = {}\n",
            inert(&param.reason),
            param.name,
            param.value
        ));
    }
    for (name, why) in &p.unfilled {
        out.push_str(&format!("# {name}: not proposed: {}\n", inert(why)));
    }
    out.push_str("\n# ---- Inventory of the unit (comments only)\n");
    for s in &p.sections {
        out.push_str(&format!("#\n# {}:\n", s.title));
        match &s.items {
            None => out.push_str("#   (not collected)\n"),
            Some(items) if items.is_empty() => out.push_str("#   (none)\n"),
            Some(items) => {
                for item in items {
                    out.push_str(&format!("#   - {}", inert(&item.text)));
                    if let Some(implies) = &item.implies {
                        out.push_str(&format!("  -> {}", inert(implies)));
                    }
                    out.push('\n');
                }
            }
        }
    }
    if p.family != "windows" {
        let packages = p
            .packages
            .map_or("not collected".to_string(), |n| n.to_string());
        out.push_str(&format!("#\n# Installed packages: {packages}\n"));
    }
    out
}

fn count(s: &Section) -> String {
    s.items
        .as_ref()
        .map_or("not collected".to_string(), |i| i.len().to_string())
}

/// The summary printed after writing the layer.
pub fn report_text(p: &Proposal, layer: &str) -> String {
    let mut out = format!(
        "proposed layer for {} ({}) -> {}\n",
        inert(&p.host),
        inert(&p.family),
        inert(layer)
    );
    let names: Vec<&str> = p.params.iter().map(|x| x.name).collect();
    out.push_str(&format!(
        "  parameters: {}{}\n",
        p.params.len(),
        if names.is_empty() {
            String::new()
        } else {
            format!(" ({})", names.join(", "))
        }
    ));
    for s in &p.sections {
        let mut line = format!("  {}: {}", s.key.replace('_', " "), count(s));
        if s.key == "listening" {
            if let Some(items) = &s.items {
                let with_flow = items
                    .iter()
                    .filter(|i| i.implies.as_deref().is_some_and(|x| x.starts_with("flow ")))
                    .count();
                line.push_str(&format!(" ({with_flow} with a catalog flow)"));
            }
        }
        out.push_str(&line);
        out.push('\n');
    }
    if p.family != "windows" {
        out.push_str(&format!(
            "  packages: {}\n",
            p.packages
                .map_or("not collected".to_string(), |n| n.to_string())
        ));
    }
    out.push_str("review it, then extend it from a profile and run `hardbase check`\n");
    out
}

/// The summary as JSON (stable keys): the proposal, the layer path and the counts.
pub fn report_json(p: &Proposal, layer: &str) -> serde_json::Value {
    let counts: serde_json::Map<String, serde_json::Value> = p
        .sections
        .iter()
        .map(|s| {
            (
                s.key.to_string(),
                s.items.as_ref().map_or(json!(null), |i| json!(i.len())),
            )
        })
        .collect();
    json!({
        "layer": layer,
        "proposal": p,
        "counts": counts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usb_ids_of_generated_and_hand_written_rules() {
        assert_eq!(
            usb_ids(r#"allow id 0eef:0001 serial "" name "eGalax" with-interface 03:00:00"#),
            ["0eef:0001"]
        );
        assert_eq!(
            usb_ids("allow id one-of { 0B05:1234 0c2e:* bad }"),
            ["0b05:1234", "0c2e:*"]
        );
        assert!(usb_ids("allow id 1d6b:0002 with-interface 09:00:00").is_empty());
        assert!(usb_ids("block id 0eef:0001").is_empty());
        assert!(usb_ids("allow with-interface equals { 09:00:* }").is_empty());
    }

    #[test]
    fn inert_text_cannot_end_a_comment_or_drive_a_terminal() {
        let s = inert("a\nb\r\"c\u{1b}[31m\u{2028}\u{202e}");
        assert_eq!(s, "a\\u{a}b\\u{d}\"c\\u{1b}[31m\\u{2028}\\u{202e}");
        assert!(!s.chars().any(|c| c.is_control()));
    }
}

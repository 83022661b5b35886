//! hardbase's nftables table: one self-contained ruleset that replaces only `table inet
//! hardbase` and leaves every other table of the host (a container runtime's, a vendor
//! agent's) alone.
//!
//! **Loading.** The file is installed at [`TARGET`] and loaded with `nft -f`. It begins with
//! `table inet hardbase {}` (creates the table when absent, changes nothing otherwise) and
//! `delete table inet hardbase`, then declares the table afresh. `nft -f` commits the whole
//! file as one transaction, so the first load works on a host without the table, a reload
//! never leaves a moment without the allow-list, a second load changes nothing, and a file the
//! kernel rejects leaves the previous table in place. The whole ruleset is never cleared.
//! **At boot** the distribution's main file loads it: Debian's `/etc/nftables.conf` and RHEL's
//! `/etc/sysconfig/nftables.conf` get [`INCLUDE_LINE`] (added by apply.sh, once).
//!
//! **Shape.** Every address list becomes a named interval set per rule and family
//! (`<rule>_v4`, `<rule>_v6`, the rule name with `-` turned into `_`); every rule has a
//! counter and the setting's purpose as its comment; each base chain ends with a named
//! counter (`input_policy` …) that counts the packets reaching the chain's policy, preceded by
//! a rate-limited log rule when the policy drops and `log_drops` is set. Chains with policy
//! drop also accept loopback traffic, IPv6 neighbour discovery, and established or related
//! connections, and drop invalid packets first.
//!
//! The text is written directly rather than through a template: every value is an enum, a
//! number, an address parsed again here, or a purpose that [`check`] restricted to what an nft
//! quoted string carries (nft strings have no escapes, so a value that needs one is refused).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::net::IpAddr;

use super::InstallFile;
use crate::catalog::setting::{Chain, ChainPolicy, NftPolicy, NftRule, Protocol, SettingKind};
use crate::model::DesiredState;

/// Where the ruleset sits in the output tree, relative to `linux/`.
pub const TREE_PATH: &str = "nftables.conf";
/// Where it is installed on the machine.
pub const TARGET: &str = "/etc/nftables.d/hardbase.nft";
/// The line the distribution's main nftables file needs to load the ruleset at boot.
pub const INCLUDE_LINE: &str = "include \"/etc/nftables.d/hardbase.nft\"";
/// hardbase's own table, in the `inet` family.
pub const TABLE: &str = "hardbase";

/// nft refuses comments longer than this many bytes.
const MAX_COMMENT_BYTES: usize = 128;
/// Keeps set names (`<rule>_v4`) well inside nft's limit.
const MAX_RULE_NAME: usize = 64;
/// Characters refused in a purpose: `"` ends an nft string (there is no escape), the others
/// have meaning to nft or to a shell and are never needed to describe a flow.
const PURPOSE_FORBIDDEN: &[char] = &['"', '\\', '$', '`', ';', '{', '}'];

/// The files this module installs for a resolved Linux profile: the ruleset, when the
/// profile has any nftables setting.
pub fn files(state: &DesiredState) -> Result<Vec<InstallFile>, String> {
    let Some(text) = ruleset(state)? else {
        return Ok(Vec::new());
    };
    // The distribution's nftables.service loads one file at boot; a managed block there
    // includes hardbase's table (after Debian's own `flush ruleset`, so it survives it).
    let (boot_file, boot_mode) = match state.profile.platform.id {
        "rhel-9" => ("/etc/sysconfig/nftables.conf", 0o600),
        _ => ("/etc/nftables.conf", 0o755),
    };
    Ok(vec![
        InstallFile::root(TREE_PATH, TARGET, 0o600, text.into_bytes()),
        InstallFile::root(
            format!(
                "{}{}",
                super::files::BLOCKS,
                boot_file.trim_start_matches('/')
            ),
            boot_file,
            boot_mode,
            format!("{INCLUDE_LINE}\n").into_bytes(),
        ),
    ])
}

/// Rejects a setting value this module's files could not carry safely.
pub fn check(setting: &SettingKind) -> Result<(), String> {
    let SettingKind::NftRule(rule) = setting else {
        return Ok(());
    };
    set_prefix(&rule.name)?;
    check_purpose(&rule.purpose)?;
    if rule.ports.contains(&0) {
        return Err(format!(
            "nftables rule {}: port 0 cannot be matched",
            rule.name
        ));
    }
    if !rule.ports.is_empty() && matches!(rule.protocol, Protocol::Icmpv4 | Protocol::Icmpv6) {
        return Err(format!(
            "nftables rule {}: ICMP has no ports; remove `ports` or use tcp or udp",
            rule.name
        ));
    }
    for address in &rule.addresses {
        let v6 = address_family(address)?;
        match (rule.protocol, v6) {
            (Protocol::Icmpv4, true) | (Protocol::Icmpv6, false) => {
                return Err(format!(
                    "nftables rule {}: address {address} is not of the family of protocol {:?}",
                    rule.name, rule.protocol
                ))
            }
            _ => {}
        }
    }
    Ok(())
}

/// The ruleset text, or `None` when the profile has no nftables setting.
pub fn ruleset(state: &DesiredState) -> Result<Option<String>, String> {
    let mut policies: BTreeMap<Chain, &NftPolicy> = BTreeMap::new();
    let mut rules: Vec<&NftRule> = Vec::new();
    for setting in state.settings() {
        match &setting.kind {
            // Two controls may declare the same policy; different ones are a resolver conflict.
            SettingKind::NftPolicy(p) => match policies.insert(p.chain, p) {
                Some(earlier) if earlier != p => {
                    return Err(format!(
                        "two different nftables policies for chain {}",
                        chain_name(p.chain)
                    ))
                }
                _ => {}
            },
            SettingKind::NftRule(r) => {
                check(&setting.kind)?;
                rules.push(r);
            }
            _ => {}
        }
    }
    if policies.is_empty() && rules.is_empty() {
        return Ok(None);
    }
    rules.sort_by(|a, b| (a.chain, &a.name).cmp(&(b.chain, &b.name)));
    // The same rule declared by two controls is written once.
    rules.dedup();
    let mut prefixes = BTreeSet::new();
    for r in &rules {
        if !prefixes.insert(set_prefix(&r.name)?) {
            return Err(format!(
                "nftables rules named like {} share the set name {} (`-` becomes `_`)",
                r.name,
                set_prefix(&r.name)?
            ));
        }
    }

    let mut out = String::new();
    let profile: String = state
        .profile
        .name
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    out.push_str("#!/usr/sbin/nft -f\n");
    let _ = writeln!(
        out,
        "# hardbase: the nftables table of profile {profile}. Generated: change the profile, not this file."
    );
    out.push_str("# Load with `nft -f`: it replaces table inet hardbase in one transaction and no other table.\n\n");
    let _ = writeln!(out, "table inet {TABLE} {{}}");
    let _ = writeln!(out, "delete table inet {TABLE}\n");
    let _ = writeln!(out, "table inet {TABLE} {{");

    for r in &rules {
        let (v4, v6) = split_addresses(&r.addresses)?;
        let prefix = set_prefix(&r.name)?;
        for (suffix, kind, list) in [("v4", "ipv4_addr", &v4), ("v6", "ipv6_addr", &v6)] {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\tset {prefix}_{suffix} {{");
            let _ = writeln!(out, "\t\ttype {kind}");
            out.push_str("\t\tflags interval\n\t\tauto-merge\n");
            let _ = writeln!(out, "\t\telements = {{ {} }}", list.join(", "));
            out.push_str("\t}\n\n");
        }
    }

    let chains: BTreeSet<Chain> = policies
        .keys()
        .copied()
        .chain(rules.iter().map(|r| r.chain))
        .collect();
    for chain in &chains {
        let _ = writeln!(out, "\tcounter {}_policy {{\n\t}}\n", chain_name(*chain));
    }
    let mut first = true;
    for chain in chains {
        if !first {
            out.push('\n');
        }
        first = false;
        let policy = policies.get(&chain).copied();
        let chain_rules: Vec<&NftRule> =
            rules.iter().copied().filter(|r| r.chain == chain).collect();
        write_chain(&mut out, chain, policy, &chain_rules)?;
    }
    out.push_str("}\n");
    Ok(Some(out))
}

fn write_chain(
    out: &mut String,
    chain: Chain,
    policy: Option<&NftPolicy>,
    rules: &[&NftRule],
) -> Result<(), String> {
    let name = chain_name(chain);
    let drops = policy.is_some_and(|p| p.policy == ChainPolicy::Drop);
    let verdict = if drops { "drop" } else { "accept" };
    let _ = writeln!(out, "\tchain {name} {{");
    let _ = writeln!(
        out,
        "\t\ttype filter hook {name} priority filter; policy {verdict};"
    );
    if drops {
        match chain {
            Chain::Input => out.push_str("\t\tiif \"lo\" counter accept comment \"loopback\"\n"),
            Chain::Output => out.push_str("\t\toif \"lo\" counter accept comment \"loopback\"\n"),
            Chain::Forward => {}
        }
        out.push_str("\t\tct state invalid counter drop comment \"invalid packets\"\n");
        out.push_str("\t\tct state established,related counter accept comment \"replies to allowed connections\"\n");
        match chain {
            Chain::Input => out.push_str("\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert } ip6 hoplimit 255 counter accept comment \"IPv6 neighbour discovery\"\n"),
            Chain::Output => out.push_str("\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit } ip6 hoplimit 255 counter accept comment \"IPv6 neighbour discovery\"\n"),
            Chain::Forward => {}
        }
    }
    for rule in rules {
        for line in rule_lines(rule)? {
            let _ = writeln!(out, "\t\t{line}");
        }
    }
    if drops && policy.is_some_and(|p| p.log_drops) {
        let tag = match chain {
            Chain::Input => "in",
            Chain::Output => "out",
            Chain::Forward => "fwd",
        };
        let _ = writeln!(
            out,
            "\t\tlimit rate 5/minute log prefix \"hardbase-drop-{tag}: \" level info"
        );
    }
    let _ = writeln!(
        out,
        "\t\tcounter name \"{name}_policy\" comment \"packets left to the {verdict} policy\""
    );
    out.push_str("\t}\n");
    Ok(())
}

/// One line per address family the rule names (one line when it names none: any peer).
fn rule_lines(rule: &NftRule) -> Result<Vec<String>, String> {
    let (v4, v6) = split_addresses(&rule.addresses)?;
    let prefix = set_prefix(&rule.name)?;
    let direction = match rule.chain {
        Chain::Input => "saddr",
        Chain::Output | Chain::Forward => "daddr",
    };
    let mut peers = Vec::new();
    if !v4.is_empty() {
        peers.push(format!("ip {direction} @{prefix}_v4 "));
    }
    if !v6.is_empty() {
        peers.push(format!("ip6 {direction} @{prefix}_v6 "));
    }
    if peers.is_empty() {
        peers.push(String::new());
    }
    let ports: BTreeSet<u16> = rule.ports.iter().copied().collect();
    let ports = match ports.len() {
        0 => String::new(),
        1 => ports.iter().map(u16::to_string).collect(),
        _ => format!(
            "{{ {} }}",
            ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let matcher = match (rule.protocol, ports.is_empty()) {
        (Protocol::Tcp, true) => "meta l4proto tcp ".to_string(),
        (Protocol::Tcp, false) => format!("tcp dport {ports} "),
        (Protocol::Udp, true) => "meta l4proto udp ".to_string(),
        (Protocol::Udp, false) => format!("udp dport {ports} "),
        (Protocol::Icmpv4, _) => "meta l4proto icmp ".to_string(),
        (Protocol::Icmpv6, _) => "meta l4proto ipv6-icmp ".to_string(),
        (Protocol::Any, true) => String::new(),
        (Protocol::Any, false) => format!("meta l4proto {{ tcp, udp }} th dport {ports} "),
    };
    Ok(peers
        .into_iter()
        .map(|peer| format!("{peer}{matcher}counter accept comment \"{}\"", rule.purpose))
        .collect())
}

/// The canonical addresses of a rule, IPv4 then IPv6, each without repeats.
fn split_addresses(addresses: &[String]) -> Result<(Vec<String>, Vec<String>), String> {
    let (mut v4, mut v6) = (Vec::new(), Vec::new());
    for a in addresses {
        let list = if address_family(a)? { &mut v6 } else { &mut v4 };
        if !list.contains(a) {
            list.push(a.clone());
        }
    }
    Ok((v4, v6))
}

/// Whether an address or CIDR network is IPv6; an error for anything else.
fn address_family(address: &str) -> Result<bool, String> {
    let (ip, prefix) = match address.split_once('/') {
        Some((ip, prefix)) => (ip, Some(prefix)),
        None => (address, None),
    };
    let ip: IpAddr = ip.parse().map_err(|_| {
        format!(
            "`{}` is not an IP address or network",
            address.escape_debug()
        )
    })?;
    if let Some(prefix) = prefix {
        let max = if ip.is_ipv6() { 128 } else { 32 };
        let ok = prefix.bytes().all(|b| b.is_ascii_digit())
            && prefix.parse::<u8>().is_ok_and(|p| p <= max);
        if !ok {
            return Err(format!(
                "`{}` has an invalid prefix length",
                address.escape_debug()
            ));
        }
    }
    Ok(ip.is_ipv6())
}

/// The rule name as an nft identifier: `[A-Za-z][A-Za-z0-9_]*` once `-` became `_`.
fn set_prefix(name: &str) -> Result<String, String> {
    let ident = name.replace('-', "_");
    let valid = ident.len() <= MAX_RULE_NAME
        && ident.starts_with(|c: char| c.is_ascii_alphabetic())
        && ident.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(ident)
    } else {
        Err(format!(
            "nftables rule name `{}` must start with a letter, hold only letters, digits, `_` and `-`, and have at most {MAX_RULE_NAME} characters",
            name.escape_debug()
        ))
    }
}

fn check_purpose(purpose: &str) -> Result<(), String> {
    if let Some(c) = purpose
        .chars()
        .find(|c| c.is_control() || PURPOSE_FORBIDDEN.contains(c))
    {
        return Err(format!(
            "nftables rule purpose \"{}\" contains {c:?}, which hardbase does not write into an nft comment",
            purpose.escape_debug()
        ));
    }
    if purpose.len() > MAX_COMMENT_BYTES {
        return Err(format!(
            "nftables rule purpose \"{}\" has {} bytes; an nft comment holds at most {MAX_COMMENT_BYTES}",
            purpose.escape_debug(),
            purpose.len()
        ));
    }
    Ok(())
}

fn chain_name(chain: Chain) -> &'static str {
    match chain {
        Chain::Input => "input",
        Chain::Output => "output",
        Chain::Forward => "forward",
    }
}

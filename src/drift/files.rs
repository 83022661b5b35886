//! Unified diffs of the configuration hardbase renders against the machine's, where a file view
//! helps an auditor more than a list of settings: the sshd drop-in, hardbase's nftables table
//! and the security template (GptTmpl.inf).
//!
//! Both sides of a diff are reduced to one normalized line form, so a machine that is as the
//! profile says gives no diff line at all and a changed value gives exactly one `-`/`+` pair:
//!
//! * **sshd**: the options the drop-in sets (the emitter's own text, comments dropped) as
//!   `keyword value`, keyword in lower case, against the same keywords of `sshd -T`. A value
//!   is lower-cased where sshd compares it without case (keyword values) and a time is written
//!   in seconds, as `sshd -T` prints them; a machine value the per-setting comparison finds
//!   equal is shown in hardbase's form.
//! * **nftables**: table `inet hardbase`, the emitter's ruleset read back into the facts the
//!   collector's parser keeps of `nft -j list ruleset`, so both sides pass through one
//!   rendering: per chain a `hook, policy` line and one line per accept rule (protocol,
//!   destination ports, peer addresses, comment), rules sorted (accept rules commute),
//!   addresses as the smallest prefixes covering them (nft merges interval-set elements),
//!   hardbase's built-in accept rules by their comment alone.
//! * **GptTmpl.inf**: the `[System Access]` and `[Privilege Rights]` lines of the security
//!   template the build writes, against the same keys of `secedit /export`, principals as
//!   sorted `*SID`s (names resolved as the per-setting comparison resolves them).
//!
//! A diff is made only when both sides are known; a source that was not collected is already
//! `not-collected` on every setting it holds. The diff is a view of the settings' facts and
//! never counts as a finding of its own.
//!
//! Every line is passed through [`escape`] before diffing, so [`FileDiff::unified`] holds no
//! control character but its line ends: a snapshot value can neither split a line (`\r` is a
//! line end to the differ) nor write to the terminal.

use std::collections::{BTreeMap, BTreeSet};

use similar::TextDiff;

use super::{
    address_range, escape, is_builtin_rule, squash, sshd_seconds, sshd_value_equal, windows,
    NFT_FAMILY, NFT_TABLE,
};
use crate::catalog::taxonomy::Family;
use crate::live::{LinuxState, LiveState, NftChain, NftRule, NftState, WindowsState};
use crate::model::DesiredState;
use crate::target::linux::{nftables, sshd};
use crate::target::windows::gpttmpl_inf::{InfValue, SecurityTemplate};

/// One configuration file as hardbase renders it against the machine's, as a unified diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDiff {
    /// The file (its path on the machine, or `GptTmpl.inf`).
    pub name: String,
    /// What the `-` side is (`---` header).
    pub expected_label: String,
    /// What the `+` side is (`+++` header); names the host, so snapshot text.
    pub actual_label: String,
    /// The unified diff with its `---`/`+++` header; empty when the two sides are the same.
    /// Every line already went through [`escape`]: print it as it is.
    pub unified: String,
}

impl FileDiff {
    /// Whether the machine's side differs from hardbase's.
    pub fn has_changes(&self) -> bool {
        !self.unified.is_empty()
    }

    pub(super) fn new(
        name: &str,
        expected_label: String,
        actual_label: String,
        expected: &[String],
        actual: &[String],
    ) -> FileDiff {
        let text = |lines: &[String]| -> String {
            lines.iter().map(|l| format!("{}\n", escape(l))).collect()
        };
        let (old, new) = (text(expected), text(actual));
        let unified = TextDiff::from_lines(&old, &new)
            .unified_diff()
            .header(&escape(&expected_label), &escape(&actual_label))
            .to_string();
        FileDiff {
            name: name.to_string(),
            expected_label,
            actual_label,
            unified,
        }
    }
}

/// The file diffs of a profile's platform family, in a fixed order.
pub(super) fn file_diffs(
    state: &DesiredState,
    template: Option<&SecurityTemplate>,
    live: &LiveState,
) -> Vec<FileDiff> {
    let host = if live.info.host.is_empty() {
        "the machine"
    } else {
        live.info.host.as_str()
    };
    match state.profile.platform.family {
        Family::Linux => [
            sshd_diff(state, &live.linux, host),
            nft_diff(state, &live.linux, host),
        ]
        .into_iter()
        .flatten()
        .collect(),
        Family::Windows => template
            .and_then(|t| gpttmpl_diff(t, &live.windows, host))
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------- sshd

/// An sshd value as `sshd -T` would print it: times in seconds, keyword values (letters,
/// digits, `-`) in lower case with single spaces; anything else as it is, so a control
/// character in a machine's value stays visible (escaped) in the diff.
fn sshd_canonical(value: &str) -> String {
    let squashed = squash(value);
    if squashed.chars().any(|c| c.is_ascii_alphabetic()) {
        if let Some(seconds) = sshd_seconds(&squashed) {
            return seconds.to_string();
        }
    }
    if squashed
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' ')
    {
        squashed.to_ascii_lowercase()
    } else {
        value.trim().to_string()
    }
}

fn sshd_diff(state: &DesiredState, linux: &LinuxState, host: &str) -> Option<FileDiff> {
    let text = sshd::render(state).ok()??;
    let live = linux.sshd.as_ref()?;
    let (mut expected, mut actual) = (Vec::new(), Vec::new());
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (keyword, value) = line.split_once(' ').unwrap_or((line, ""));
        let keyword = keyword.to_ascii_lowercase();
        let want = sshd_canonical(value);
        expected.push(format!("{keyword} {want}"));
        if let Some(values) = live.get(&keyword) {
            let have = values.join(" ");
            let shown = if sshd_value_equal(value, &squash(&have)) {
                want
            } else {
                sshd_canonical(&have)
            };
            actual.push(format!("{keyword} {shown}"));
        }
    }
    Some(FileDiff::new(
        sshd::TARGET,
        format!("hardbase {} (the options it sets)", sshd::TARGET),
        format!("{host} sshd -T (the same options)"),
        &expected,
        &actual,
    ))
}

// ---------------------------------------------------------------- nftables

fn nft_diff(state: &DesiredState, linux: &LinuxState, host: &str) -> Option<FileDiff> {
    let text = nftables::ruleset(state).ok()??;
    let live = linux.nft.as_ref()?;
    Some(FileDiff::new(
        nftables::TARGET,
        format!(
            "hardbase {} (table {NFT_FAMILY} {NFT_TABLE}: policies and accept rules)",
            nftables::TARGET
        ),
        format!("{host} nft -j list ruleset (table {NFT_FAMILY} {NFT_TABLE})"),
        &nft_lines(&read_ruleset(&text)),
        &nft_lines(live),
    ))
}

/// The normalized lines of table `inet hardbase`: per chain (by name) its hook and policy,
/// then its accept rules, sorted.
fn nft_lines(nft: &NftState) -> Vec<String> {
    let ours = |family: &str, table: &str| family == NFT_FAMILY && table == NFT_TABLE;
    let chains: BTreeMap<&str, Option<&NftChain>> = nft
        .rules
        .iter()
        .filter(|r| ours(&r.family, &r.table))
        .map(|r| (r.chain.as_str(), None))
        .chain(
            nft.chains
                .iter()
                .filter(|c| ours(&c.family, &c.table))
                .map(|c| (c.name.as_str(), Some(c))),
        )
        .collect();
    let mut out = Vec::new();
    for (name, chain) in chains {
        let hook = chain.and_then(|c| c.hook.as_deref());
        out.push(match hook {
            // A base chain without a policy accepts (nft's default).
            Some(h) => format!(
                "chain {name}: hook {h}, policy {}",
                chain.and_then(|c| c.policy.as_deref()).unwrap_or("accept")
            ),
            None => format!("chain {name}: no hook"),
        });
        let mut rules: Vec<String> = nft
            .rules
            .iter()
            .filter(|r| {
                ours(&r.family, &r.table)
                    && r.chain == name
                    && r.verdict.as_deref() == Some("accept")
            })
            .map(|r| format!("chain {name}: {}", rule_line(r, hook.unwrap_or(name))))
            .collect();
        rules.sort();
        out.extend(rules);
    }
    out
}

fn rule_line(r: &NftRule, hook: &str) -> String {
    let comment = r
        .comment
        .as_ref()
        .map(|c| format!(" comment \"{c}\""))
        .unwrap_or_default();
    if is_builtin_rule(r) {
        return format!("accept{comment}");
    }
    let mut line = String::from("accept");
    if let Some(p) = &r.protocol {
        // `meta l4proto ipv6-icmp` and an `icmpv6` match name the same protocol.
        line.push(' ');
        line.push_str(if p == "icmpv6" { "ipv6-icmp" } else { p });
    }
    if !r.ports.is_empty() {
        line.push_str(" dport ");
        line.push_str(&port_list(&r.ports));
    }
    if !r.addresses.is_empty() {
        let field = match hook {
            "input" | "prerouting" => "saddr",
            _ => "daddr",
        };
        line.push_str(&format!(" {field} {}", cover(&r.addresses).join(",")));
    }
    line + &comment
}

/// Sorted ports, runs written as ranges: `22,80,8000-8010`.
fn port_list(ports: &[u16]) -> String {
    let set: BTreeSet<u16> = ports.iter().copied().collect();
    let mut runs: Vec<(u16, u16)> = Vec::new();
    for p in set {
        match runs.last_mut() {
            Some((_, hi)) if u32::from(*hi) + 1 == u32::from(p) => *hi = p,
            _ => runs.push((p, p)),
        }
    }
    runs.iter()
        .map(|(lo, hi)| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// An address, prefix or `low-high` range as (IPv4?, first, last).
fn address_span(text: &str) -> Option<(bool, u128, u128)> {
    match text.split_once('-') {
        Some((lo, hi)) => {
            let (f1, lo, _) = address_range(lo)?;
            let (f2, _, hi) = address_range(hi)?;
            (f1 == f2 && lo <= hi).then_some((f1, lo, hi))
        }
        None => address_range(text),
    }
}

/// The smallest list of prefixes that covers exactly the addresses (IPv4 first), so
/// `10.0.0.10, 10.0.0.11` and nft's merged `10.0.0.10/31` read the same; text that is not an
/// address is kept as it is, after them.
fn cover(addresses: &[String]) -> Vec<String> {
    let mut families: [Vec<(u128, u128)>; 2] = [Vec::new(), Vec::new()];
    let mut other: Vec<String> = Vec::new();
    for a in addresses {
        match address_span(a) {
            Some((v4, lo, hi)) => families[usize::from(!v4)].push((lo, hi)),
            None => other.push(a.clone()),
        }
    }
    let mut out = Vec::new();
    for (i, ranges) in families.iter_mut().enumerate() {
        ranges.sort_unstable();
        let mut merged: Vec<(u128, u128)> = Vec::new();
        for &(lo, hi) in ranges.iter() {
            match merged.last_mut() {
                Some((_, last)) if lo <= last.saturating_add(1) => *last = (*last).max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        for (lo, hi) in merged {
            prefixes(i == 0, lo, hi, &mut out);
        }
    }
    other.sort();
    other.dedup();
    out.extend(other);
    out
}

/// Writes the prefixes covering `lo..=hi`, largest aligned block first.
fn prefixes(v4: bool, mut lo: u128, hi: u128, out: &mut Vec<String>) {
    let width: u32 = if v4 { 32 } else { 128 };
    let last = |lo: u128, bits: u32| {
        if bits >= 128 {
            u128::MAX
        } else {
            lo + ((1u128 << bits) - 1)
        }
    };
    loop {
        let mut bits = lo.trailing_zeros().min(width);
        while bits > 0 && last(lo, bits) > hi {
            bits -= 1;
        }
        let len = width - bits;
        let ip = if v4 {
            std::net::IpAddr::from(std::net::Ipv4Addr::from(lo as u32))
        } else {
            std::net::IpAddr::from(std::net::Ipv6Addr::from(lo))
        };
        out.push(if len == width {
            ip.to_string()
        } else {
            format!("{ip}/{len}")
        });
        let end = last(lo, bits);
        if end >= hi {
            break;
        }
        lo = end + 1;
    }
}

/// One token of a ruleset line: a word, a quoted string or a `{ … }` list.
enum Token {
    Word(String),
    Quoted(String),
    List(Vec<String>),
}

fn tokens(line: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() || c == ';' {
            chars.next();
        } else if c == '"' {
            chars.next();
            out.push(Token::Quoted(
                chars.by_ref().take_while(|c| *c != '"').collect(),
            ));
        } else if c == '{' {
            chars.next();
            let inner: String = chars.by_ref().take_while(|c| *c != '}').collect();
            out.push(Token::List(
                inner
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            ));
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == ';' {
                    break;
                }
                word.push(c);
                chars.next();
            }
            out.push(Token::Word(word));
        }
    }
    out
}

fn word(tokens: &[Token], i: usize) -> Option<&str> {
    match tokens.get(i) {
        Some(Token::Word(w)) => Some(w),
        _ => None,
    }
}

fn items(tokens: &[Token], i: usize) -> Vec<String> {
    match tokens.get(i) {
        Some(Token::Word(w) | Token::Quoted(w)) => vec![w.clone()],
        Some(Token::List(l)) => l.clone(),
        None => Vec::new(),
    }
}

/// The ruleset hardbase renders, read back into the facts the collector's parser keeps of
/// `nft -j list ruleset` (`snapshot::linux::nft`): chains with hook and policy, rules with
/// verdict, protocol, destination ports, peer addresses (sets resolved) and comment. It reads
/// the emitter's own dialect only (one statement per line), not nft syntax at large.
fn read_ruleset(text: &str) -> NftState {
    let mut state = NftState::default();
    let mut sets: BTreeMap<String, Vec<String>> = BTreeMap::new();
    // The open blocks: (`table`/`set`/`chain`/`counter`, name).
    let mut blocks: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "}" {
            blocks.pop();
            continue;
        }
        let t = tokens(line);
        if let Some(rest) = line.strip_suffix('{') {
            let words: Vec<&str> = rest.split_whitespace().collect();
            let kind = words.first().copied().unwrap_or_default();
            let name = words.last().copied().unwrap_or_default();
            if kind == "table" {
                state.tables.push((NFT_FAMILY.into(), name.into()));
            }
            if kind == "chain" {
                state.chains.push(NftChain {
                    family: NFT_FAMILY.into(),
                    table: NFT_TABLE.into(),
                    name: name.into(),
                    ..NftChain::default()
                });
            }
            blocks.push((kind.into(), name.into()));
            continue;
        }
        let Some((kind, name)) = blocks.last() else {
            continue;
        };
        match kind.as_str() {
            "set" if word(&t, 0) == Some("elements") => {
                sets.insert(name.clone(), items(&t, 2));
            }
            "chain" if word(&t, 0) == Some("type") => {
                let after = |key: &str| {
                    (0..t.len())
                        .find(|&i| word(&t, i) == Some(key))
                        .and_then(|i| word(&t, i + 1))
                        .map(str::to_string)
                };
                if let Some(c) = state.chains.last_mut() {
                    c.hook = after("hook");
                    c.policy = after("policy");
                }
            }
            "chain" => {
                let hook = state.chains.last().and_then(|c| c.hook.clone());
                state
                    .rules
                    .push(read_rule(&t, name, hook.as_deref(), &sets));
            }
            _ => {}
        }
    }
    state
}

fn read_rule(
    t: &[Token],
    chain: &str,
    hook: Option<&str>,
    sets: &BTreeMap<String, Vec<String>>,
) -> NftRule {
    // As the collector's parser: peers are sources on input, destinations on output.
    let wanted: &[&str] = match hook {
        Some("input" | "prerouting") => &["saddr"],
        Some("output" | "postrouting") => &["daddr"],
        _ => &["saddr", "daddr"],
    };
    let mut rule = NftRule {
        family: NFT_FAMILY.into(),
        table: NFT_TABLE.into(),
        chain: chain.into(),
        ..NftRule::default()
    };
    let mut i = 0;
    while i < t.len() {
        let Some(w) = word(t, i) else {
            i += 1;
            continue;
        };
        match w {
            "ip" | "ip6" => {
                if word(t, i + 1).is_some_and(|f| wanted.contains(&f)) {
                    for v in items(t, i + 2) {
                        match v.strip_prefix('@') {
                            Some(set) => rule
                                .addresses
                                .extend(sets.get(set).cloned().unwrap_or_default()),
                            None => rule.addresses.push(v),
                        }
                    }
                }
                i += 3;
            }
            "meta" => {
                if word(t, i + 1) == Some("l4proto") {
                    rule.protocol = items(t, i + 2).into_iter().next();
                }
                i += 3;
            }
            "tcp" | "udp" | "icmp" | "icmpv6" | "sctp" | "th" => {
                if w != "th" {
                    rule.protocol = Some(w.to_string());
                }
                if word(t, i + 1) == Some("dport") {
                    for p in items(t, i + 2) {
                        let (lo, hi) = p.split_once('-').unwrap_or((&p, &p));
                        if let (Ok(lo), Ok(hi)) = (lo.parse::<u16>(), hi.parse::<u16>()) {
                            rule.ports.extend(lo..=hi);
                        }
                    }
                }
                i += 3;
            }
            "iif" | "oif" | "iifname" | "oifname" => i += 2,
            "ct" => i += 3,
            "counter" if word(t, i + 1) == Some("name") => i += 3,
            "accept" | "drop" | "reject" => {
                rule.verdict = Some(w.to_string());
                i += 1;
            }
            "comment" => {
                rule.comment = items(t, i + 1).into_iter().next();
                i += 2;
            }
            _ => i += 1,
        }
    }
    rule.ports.sort_unstable();
    rule.ports.dedup();
    rule.addresses.sort();
    rule.addresses.dedup();
    rule
}

// ---------------------------------------------------------------- GptTmpl.inf

fn gpttmpl_diff(template: &SecurityTemplate, w: &WindowsState, host: &str) -> Option<FileDiff> {
    if template.system_access.is_empty() && template.privilege_rights.is_empty() {
        return None;
    }
    let (have_access, have_rights) = (w.system_access.as_ref()?, w.privilege_rights.as_ref()?);
    let (mut expected, mut actual) = (Vec::new(), Vec::new());
    if !template.system_access.is_empty() {
        for side in [&mut expected, &mut actual] {
            side.push("[System Access]".to_string());
        }
        for (key, value) in &template.system_access {
            let (want, text) = match value {
                InfValue::Number(n) => (windows::SystemAccess::Number(*n), n.to_string()),
                InfValue::Text(t) => (windows::SystemAccess::Text(t.clone()), format!("\"{t}\"")),
            };
            expected.push(format!("{key} = {text}"));
            let Some(have) = have_access.get(key) else {
                continue;
            };
            let shown = if windows::system_access_same(key, &want, have) {
                text
            } else if have.trim().parse::<i64>().is_ok() {
                have.trim().to_string()
            } else {
                format!("\"{have}\"")
            };
            actual.push(format!("{key} = {shown}"));
        }
    }
    if !template.privilege_rights.is_empty() {
        for side in [&mut expected, &mut actual] {
            side.push("[Privilege Rights]".to_string());
        }
        let line = |right: &str, principals: BTreeSet<String>| {
            if principals.is_empty() {
                format!("{right} =")
            } else {
                format!(
                    "{right} = {}",
                    principals.into_iter().collect::<Vec<_>>().join(",")
                )
            }
        };
        for (right, principals) in &template.privilege_rights {
            let as_sid = |p: &String| match windows::exported_sid(p, w) {
                Some(sid) => format!("*{sid}"),
                None => p.clone(),
            };
            expected.push(line(right, principals.iter().map(as_sid).collect()));
            // secedit leaves a right that no one holds out of the export.
            let exported = have_rights.get(right).cloned().unwrap_or_default();
            actual.push(line(right, exported.iter().map(as_sid).collect()));
        }
    }
    Some(FileDiff::new(
        "GptTmpl.inf",
        "hardbase GptTmpl.inf ([System Access], [Privilege Rights])".to_string(),
        format!("{host} secedit /export (the same keys)"),
        &expected,
        &actual,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_the_same_merged_or_not() {
        let list = |a: &[&str]| cover(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(list(&["10.0.0.10", "10.0.0.11"]), ["10.0.0.10/31"]);
        assert_eq!(list(&["10.0.0.10/31"]), ["10.0.0.10/31"]);
        assert_eq!(
            list(&["10.0.0.1-10.0.0.6"]),
            ["10.0.0.1", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6"]
        );
        assert_eq!(
            list(&["2001:db8::1", "10.0.0.0/24"]),
            ["10.0.0.0/24", "2001:db8::1"]
        );
        assert_eq!(list(&["::/0"]), ["::/0"]);
        assert_eq!(list(&["0.0.0.0/0"]), ["0.0.0.0/0"]);
    }

    #[test]
    fn ports_are_runs() {
        assert_eq!(
            port_list(&[80, 22, 8001, 8000, 8002, 22]),
            "22,80,8000-8002"
        );
        assert_eq!(port_list(&[65535]), "65535");
    }

    #[test]
    fn sshd_values_read_as_sshd_prints_them() {
        assert_eq!(sshd_canonical("VERBOSE"), "verbose");
        assert_eq!(sshd_canonical("1m"), "60");
        assert_eq!(sshd_canonical("/etc/Issue.net"), "/etc/Issue.net");
        assert_eq!(sshd_canonical("sha256"), "sha256");
    }

    #[test]
    fn the_rendered_ruleset_reads_back() {
        let text = "table inet hardbase {}\ndelete table inet hardbase\n\ntable inet hardbase {\n\tset ssh_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tauto-merge\n\t\telements = { 10.0.0.10, 10.0.0.11 }\n\t}\n\n\tcounter input_policy {\n\t}\n\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t\tiif \"lo\" counter accept comment \"loopback\"\n\t\tct state invalid counter drop comment \"invalid packets\"\n\t\tip saddr @ssh_v4 tcp dport { 22, 2222 } counter accept comment \"ssh\"\n\t\tcounter name \"input_policy\" comment \"packets left to the drop policy\"\n\t}\n}\n";
        let state = read_ruleset(text);
        assert_eq!(state.chains.len(), 1);
        assert_eq!(state.chains[0].policy.as_deref(), Some("drop"));
        assert_eq!(
            nft_lines(&state),
            [
                "chain input: hook input, policy drop",
                "chain input: accept comment \"loopback\"",
                "chain input: accept tcp dport 22,2222 saddr 10.0.0.10/31 comment \"ssh\"",
            ]
        );
    }
}

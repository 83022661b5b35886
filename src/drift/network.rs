//! Network-device drift: the configuration hardbase renders for the profile against the
//! device's `show running-config`.
//!
//! The expected side is the rendering itself: [`config::render`]'s text read back by the same
//! parser as the running configuration, so every line compared is a line the built file holds
//! (a setting whose lines the rendering does not hold is reported `not-collected`, never
//! compliant). Per setting:
//!
//! * `ios_global`: each line at the top level — all present compliant, otherwise `missing`
//!   naming the absent lines;
//! * `ios_forbidden`: a forbidden line, or a top-level line beginning with a forbidden prefix
//!   (`snmp-server community`), present is `drift`; absent (or in its `no` form) compliant;
//! * `ios_section`: the child lines under their parent (under each interface), a parent that is
//!   absent or a child that is absent `missing`;
//! * `ios_acl`: the list's entries exact and in order compliant, otherwise `drift` with what is
//!   absent and extra (and a diff of the entries in the report); a list that is absent `missing`.
//!
//! Unexpected: the entries of a profile's access list that the profile does not have, and the
//! access lines of the VTY sections (`transport input`, `access-class`, `password`, `login`,
//! `privilege level`, `autocommand`) that no VTY section of the profile has.
//!
//! Only what IOS is known to rewrite is normalized: runs of spaces (IOS aligns `deny   any`);
//! VTY lines split into ranges (`line vty 0 4` and `line vty 5 15` together are `line vty 0
//! 15`: a child line must be under every range that covers the profile's); the sequence numbers
//! IOS XE prints before access-list entries (`10 permit …`); and in a standard list a single
//! host, which IOS prints as the bare address (`permit 10.10.2.10` for `permit 10.10.2.10
//! 0.0.0.0` or `permit host 10.10.2.10`). Interface names are compared as written: the running
//! configuration spells them out in full, and no abbreviation is guessed. Default values that
//! `show running-config` omits (`logging trap informational`) are not guessed either: such a
//! line is reported missing unless the file comes from `show running-config all`.
//!
//! Secrets: a running-configuration line can carry one (`enable secret`, `password 7 …`,
//! `snmp-server community …`, keys). Everything after a word naming a password, secret, key,
//! community or authentication is masked in every value shown ([`shown`]), and long lines are
//! cut, before anything reaches a report.

use std::net::Ipv4Addr;

use super::{squash, FileDiff, Outcome, Status, Unexpected};
use crate::catalog::setting::{AclType, IosAcl, IosForbidden, IosGlobal, IosSection, SettingKind};
use crate::live::{IosLine, LiveState, NetworkState};
use crate::model::{DesiredSetting, DesiredState};
use crate::target::network::config;

/// What replaces a secret value.
const MASK: &str = "[masked]";
/// The longest value shown, in characters.
const LONGEST: usize = 240;
/// The access lines of a VTY section that count as unexpected when the profile lacks them.
const VTY_ACCESS: &[&str] = &[
    "transport input",
    "access-class",
    "ipv6 access-class",
    "password",
    "login",
    "no login",
    "privilege level",
    "autocommand",
];

/// The configuration hardbase renders for the profile, read back into lines.
pub(super) struct Rendered {
    lines: Result<Vec<IosLine>, String>,
}

impl Rendered {
    pub(super) fn new(state: &DesiredState) -> Rendered {
        let lines = config::render(state).and_then(|text| {
            crate::snapshot::network::parse_text("the rendered configuration", &text)
                .map_err(|e| e.to_string())
        });
        Rendered { lines }
    }
}

/// A running-configuration value as a report may show it: secrets masked, whitespace runs
/// as one space, cut after [`LONGEST`] characters. Still snapshot text: reports escape it.
pub(super) fn shown(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out: Vec<&str> = Vec::new();
    for (i, w) in words.iter().enumerate() {
        out.push(w);
        if is_secret_word(&w.to_ascii_lowercase()) && i + 1 < words.len() {
            out.push(MASK);
            break;
        }
    }
    let text = out.join(" ");
    if text.chars().count() > LONGEST {
        text.chars().take(LONGEST).collect::<String>() + "…"
    } else {
        text
    }
}

/// A word after which IOS writes a secret: `password`, `secret`, `key`, `key-string`,
/// `authentication-key`, `community`, SNMPv3 `auth` (the `priv` key follows it).
fn is_secret_word(word: &str) -> bool {
    word.contains("password")
        || word.contains("secret")
        || word.contains("community")
        || word.starts_with("key")
        || word.ends_with("key")
        || word == "auth"
}

/// Compares one network setting; `None` for the kinds of other families.
pub(super) fn compare(
    s: &DesiredSetting,
    rendered: &Rendered,
    live: &NetworkState,
) -> Option<Outcome> {
    use SettingKind::*;
    if !matches!(
        s.kind,
        IosGlobal(_) | IosForbidden(_) | IosSection(_) | IosAcl(_)
    ) {
        return None;
    }
    let rendered = match &rendered.lines {
        Ok(lines) => lines,
        Err(e) => {
            return Some(
                Outcome::new(Status::NotCollected, None)
                    .note(format!("the configuration cannot be rendered: {e}")),
            )
        }
    };
    let Some(running) = &live.running_config else {
        return Some(Outcome::not_collected("the running configuration"));
    };
    Some(match &s.kind {
        IosGlobal(g) => global(g, rendered, running),
        IosForbidden(f) => forbidden(f, rendered, running),
        IosSection(sec) => section(sec, rendered, running),
        IosAcl(a) => acl(a, rendered, running),
        _ => return None,
    })
}

/// The expected value of a network setting, in the lines the rendering holds.
pub(super) fn expected_text(kind: &SettingKind) -> Option<String> {
    Some(match kind {
        SettingKind::IosGlobal(g) => g.lines.join(" / "),
        SettingKind::IosForbidden(f) => {
            let mut parts: Vec<String> = Vec::new();
            if !f.lines.is_empty() {
                parts.push(format!("absent: {}", f.lines.join(" / ")));
            }
            parts.extend(
                f.prefixes
                    .iter()
                    .map(|p| format!("no line beginning `{p}`")),
            );
            parts.join("; ")
        }
        SettingKind::IosSection(sec) => format!(
            "{}: {}",
            parents(sec)
                .iter()
                .map(|p| p.join(" > "))
                .collect::<Vec<_>>()
                .join(", "),
            sec.lines.join(" / ")
        ),
        SettingKind::IosAcl(a) => format!(
            "ip access-list {} {}, its entries exact and in order",
            acl_kind(a),
            a.name
        ),
        _ => return None,
    })
}

fn not_rendered(what: &str) -> Outcome {
    Outcome::new(Status::NotCollected, None).note(format!(
        "`{what}` is not in the configuration hardbase renders for the profile"
    ))
}

/// The lines as a note lists them: each in backquotes, `; ` between.
fn quoted<S: AsRef<str>>(lines: &[S]) -> String {
    lines
        .iter()
        .map(|l| format!("`{}`", l.as_ref()))
        .collect::<Vec<_>>()
        .join("; ")
}

fn has_line(lines: &[IosLine], text: &str) -> bool {
    let want = squash(text);
    lines.iter().any(|l| squash(&l.text) == want)
}

/// The line at `path` (one text per level), compared without whitespace differences.
fn find_path<'a>(lines: &'a [IosLine], path: &[String]) -> Option<&'a IosLine> {
    let (first, rest) = path.split_first()?;
    let want = squash(first);
    let node = lines.iter().find(|l| squash(&l.text) == want)?;
    if rest.is_empty() {
        Some(node)
    } else {
        find_path(&node.children, rest)
    }
}

fn global(g: &IosGlobal, rendered: &[IosLine], running: &[IosLine]) -> Outcome {
    let (mut present, mut absent): (Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new());
    for l in &g.lines {
        if !has_line(rendered, l) {
            return not_rendered(l);
        }
        if has_line(running, l) {
            present.push(l);
        } else {
            absent.push(l);
        }
    }
    if absent.is_empty() {
        return Outcome::compliant(present.join(" / "));
    }
    Outcome::new(
        Status::Missing,
        (!present.is_empty()).then(|| present.join(" / ")),
    )
    .note(format!(
        "not in the running configuration: {}",
        quoted(&absent)
    ))
}

/// Whether `line` is `prefix` or begins with it followed by a space.
fn begins_with(line: &str, prefix: &str) -> bool {
    let (line, prefix) = (squash(line), squash(prefix));
    line == prefix || line.starts_with(&format!("{prefix} "))
}

fn forbidden(f: &IosForbidden, rendered: &[IosLine], running: &[IosLine]) -> Outcome {
    let mut found: Vec<String> = Vec::new();
    for l in &f.lines {
        let no = format!("no {l}");
        if !has_line(rendered, &no) {
            return not_rendered(&no);
        }
        found.extend(
            running
                .iter()
                .filter(|r| squash(&r.text) == squash(l))
                .map(|r| shown(&r.text)),
        );
    }
    for p in &f.prefixes {
        found.extend(
            running
                .iter()
                .filter(|r| begins_with(&r.text, p))
                .map(|r| shown(&r.text)),
        );
    }
    if found.is_empty() {
        return Outcome::compliant("absent");
    }
    Outcome::drift(found.join("; ")).note(format!(
        "present in the running configuration: {}",
        quoted(&found)
    ))
}

/// The parent paths of a section: its `parent`, or `interface NAME` for each interface (the
/// rendering's parent lines; [`section`] checks that the rendering holds them).
fn parents(sec: &IosSection) -> Vec<Vec<String>> {
    if sec.parent.is_empty() {
        sec.interfaces
            .iter()
            .map(|n| vec![format!("interface {n}")])
            .collect()
    } else {
        vec![sec.parent.clone()]
    }
}

/// The VTY lines a `line vty A B` (or `line vty A`) section covers.
fn vty_range(text: &str) -> Option<(u32, u32)> {
    let text = squash(text);
    let rest = text.strip_prefix("line vty ")?;
    let mut words = rest.split(' ');
    let first: u32 = words.next()?.parse().ok()?;
    let last: u32 = match words.next() {
        Some(w) => w.parse().ok()?,
        None => first,
    };
    (words.next().is_none() && first <= last).then_some((first, last))
}

/// The children of the running sections at `path`: for a VTY range, the children of every
/// running VTY section that overlaps it, provided they cover all of it; otherwise the one
/// section's. `None` when the parent is absent.
fn running_children<'a>(running: &'a [IosLine], path: &[String]) -> Option<Vec<&'a [IosLine]>> {
    if let (Some((lo, hi)), 1) = (vty_range(&path[0]), path.len()) {
        let sections: Vec<((u32, u32), &IosLine)> = running
            .iter()
            .filter_map(|l| vty_range(&l.text).map(|r| (r, l)))
            .filter(|((a, b), _)| *a <= hi && *b >= lo)
            .collect();
        let covered = (lo..=hi).all(|n| sections.iter().any(|((a, b), _)| *a <= n && n <= *b));
        return covered.then(|| {
            sections
                .iter()
                .map(|(_, l)| l.children.as_slice())
                .collect()
        });
    }
    find_path(running, path).map(|l| vec![l.children.as_slice()])
}

fn section(sec: &IosSection, rendered: &[IosLine], running: &[IosLine]) -> Outcome {
    let (mut present, mut absent, mut no_parent) = (Vec::new(), Vec::new(), Vec::new());
    for path in parents(sec) {
        let label = path.join(" > ");
        let Some(node) = find_path(rendered, &path) else {
            return not_rendered(&label);
        };
        if let Some(l) = sec.lines.iter().find(|l| !has_line(&node.children, l)) {
            return not_rendered(l);
        }
        match running_children(running, &path) {
            None => no_parent.push(label),
            Some(sections) => {
                let (here, gone): (Vec<&String>, Vec<&String>) = sec
                    .lines
                    .iter()
                    .partition(|l| sections.iter().all(|c| has_line(c, l)));
                if !here.is_empty() {
                    present.push(format!(
                        "{label}: {}",
                        here.iter()
                            .map(|l| l.as_str())
                            .collect::<Vec<_>>()
                            .join(" / ")
                    ));
                }
                absent.extend(gone.iter().map(|l| format!("{label}: {l}")));
            }
        }
    }
    if absent.is_empty() && no_parent.is_empty() {
        return Outcome::compliant(present.join("; "));
    }
    let mut notes = Vec::new();
    if !no_parent.is_empty() {
        notes.push(format!(
            "no section in the running configuration: {}",
            quoted(&no_parent)
        ));
    }
    if !absent.is_empty() {
        notes.push(format!("absent under their parent: {}", quoted(&absent)));
    }
    Outcome::new(
        Status::Missing,
        (!present.is_empty()).then(|| present.join("; ")),
    )
    .note(notes.join("; "))
}

fn acl_kind(a: &IosAcl) -> &'static str {
    match a.acl_type {
        AclType::Standard => "standard",
        AclType::Extended => "extended",
    }
}

/// `(kind, name)` of an `ip access-list KIND NAME` line.
fn acl_header(text: &str) -> Option<(String, String)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    match words.as_slice() {
        ["ip", "access-list", kind, name] => Some((kind.to_string(), name.to_string())),
        _ => None,
    }
}

/// An access-list entry in the form both sides are compared in: no IOS XE sequence number,
/// single spaces, and in a standard list a single host as its bare address.
fn acl_entry(text: &str, standard: bool) -> String {
    let mut words: Vec<&str> = text.split_whitespace().collect();
    if words.len() > 1 && words[0].bytes().all(|b| b.is_ascii_digit()) {
        words.remove(0);
    }
    if standard && matches!(words.first(), Some(&"permit" | &"deny")) {
        if words.get(1) == Some(&"host") {
            words.remove(1);
        } else if words.get(2) == Some(&"0.0.0.0")
            && words.get(1).is_some_and(|a| a.parse::<Ipv4Addr>().is_ok())
        {
            words.remove(2);
        }
    }
    words.join(" ")
}

/// A profile access list on both sides: the rendered entries and the running list (`None`
/// when the device has no list of that name), entries in comparison form.
struct AclSides<'a> {
    expected: Vec<String>,
    running: Option<(&'a IosLine, String, Vec<String>)>,
}

fn acl_sides<'a>(a: &IosAcl, rendered: &[IosLine], running: &'a [IosLine]) -> Option<AclSides<'a>> {
    let kind = acl_kind(a);
    let standard = a.acl_type == AclType::Standard;
    let want = rendered
        .iter()
        .find(|l| acl_header(&l.text) == Some((kind.to_string(), a.name.clone())))?;
    let expected = want
        .children
        .iter()
        .map(|c| acl_entry(&c.text, standard))
        .collect();
    let running = running
        .iter()
        .find_map(|l| {
            acl_header(&l.text)
                .filter(|(_, name)| *name == a.name)
                .map(|(k, _)| (l, k))
        })
        .map(|(l, k)| {
            let entries = l
                .children
                .iter()
                .map(|c| acl_entry(&c.text, standard))
                .collect();
            (l, k, entries)
        });
    Some(AclSides { expected, running })
}

fn acl(a: &IosAcl, rendered: &[IosLine], running: &[IosLine]) -> Outcome {
    let kind = acl_kind(a);
    let Some(sides) = acl_sides(a, rendered, running) else {
        return not_rendered(&format!("ip access-list {kind} {}", a.name));
    };
    let Some((_, live_kind, entries)) = sides.running else {
        return Outcome::missing().note(format!(
            "no `ip access-list {kind} {}` in the running configuration",
            a.name
        ));
    };
    if live_kind != kind {
        return Outcome::drift(format!("ip access-list {} {}", shown(&live_kind), a.name))
            .note(format!("the device's list is not {kind}"));
    }
    let count = |n: usize| format!("{n} entr{}", if n == 1 { "y" } else { "ies" });
    if entries == sides.expected {
        return Outcome::compliant(format!("{}, exact and in order", count(entries.len())));
    }
    let absent: Vec<&String> = sides
        .expected
        .iter()
        .filter(|e| !entries.contains(e))
        .collect();
    let extra: Vec<String> = entries
        .iter()
        .filter(|e| !sides.expected.contains(e))
        .map(|e| shown(e))
        .collect();
    let mut notes = Vec::new();
    if !absent.is_empty() {
        notes.push(format!("entries absent: {}", quoted(&absent)));
    }
    if !extra.is_empty() {
        notes.push(format!(
            "entries the profile does not have: {}",
            quoted(&extra)
        ));
    }
    if absent.is_empty() && extra.is_empty() {
        notes.push(
            "the same entries in another order (IOS applies the first entry that matches)".into(),
        );
    }
    Outcome::drift(count(entries.len())).note(notes.join("; "))
}

/// The profile's access lists, each name once, with the control that sets it.
fn profile_acls(state: &DesiredState) -> Vec<(&IosAcl, &str)> {
    let mut out: Vec<(&IosAcl, &str)> = Vec::new();
    for s in state.settings() {
        if let SettingKind::IosAcl(a) = &s.kind {
            if !out.iter().any(|(b, _)| b.name == a.name) {
                out.push((a, &s.control));
            }
        }
    }
    out
}

/// The entries of each profile access list the device holds, hardbase's against the device's,
/// in comparison form.
pub(super) fn acl_diffs(
    state: &DesiredState,
    rendered: &Rendered,
    live: &LiveState,
) -> Vec<FileDiff> {
    let (Ok(rendered), Some(running)) = (&rendered.lines, &live.network.running_config) else {
        return Vec::new();
    };
    let host = if live.info.host.is_empty() {
        "the device".to_string()
    } else {
        live.info.host.clone()
    };
    profile_acls(state)
        .into_iter()
        .filter_map(|(a, _)| {
            let sides = acl_sides(a, rendered, running)?;
            let (_, _, entries) = sides.running?;
            let entries: Vec<String> = entries.iter().map(|e| shown(e)).collect();
            Some(FileDiff::new(
                &format!("ip access-list {} {}", acl_kind(a), a.name),
                "hardbase (entries without sequence numbers)".into(),
                format!("{host} show running-config"),
                &sides.expected,
                &entries,
            ))
        })
        .collect()
}

/// What the device holds beyond the profile: entries of the profile's access lists, and access
/// lines of the VTY sections.
pub(super) fn unexpected(
    state: &DesiredState,
    rendered: &Rendered,
    live: &NetworkState,
) -> Vec<Unexpected> {
    let (Ok(rendered), Some(running)) = (&rendered.lines, &live.running_config) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (a, control) in profile_acls(state) {
        let Some(sides) = acl_sides(a, rendered, running) else {
            continue;
        };
        let Some((header, _, entries)) = sides.running else {
            continue;
        };
        for (entry, line) in entries.iter().zip(&header.children) {
            if !sides.expected.contains(entry) {
                out.push(Unexpected {
                    kind: "ios-acl-entry",
                    what: format!("{}: {}", shown(&header.text), shown(&line.text)),
                    control: Some(control.to_string()),
                    note: None,
                });
            }
        }
    }

    let vty: Vec<((u32, u32), &[String], &str)> = state
        .settings()
        .filter_map(|s| match &s.kind {
            SettingKind::IosSection(sec) if sec.parent.len() == 1 => {
                vty_range(&sec.parent[0]).map(|r| (r, sec.lines.as_slice(), s.control.as_str()))
            }
            _ => None,
        })
        .collect();
    if let Some((_, _, control)) = vty.first() {
        for section in running.iter() {
            let Some((a, b)) = vty_range(&section.text) else {
                continue;
            };
            for child in &section.children {
                if !VTY_ACCESS.iter().any(|k| begins_with(&child.text, k)) {
                    continue;
                }
                let declared = vty.iter().any(|((lo, hi), lines, _)| {
                    *lo <= b && *hi >= a && lines.iter().any(|l| squash(l) == squash(&child.text))
                });
                if !declared {
                    out.push(Unexpected {
                        kind: "ios-vty-line",
                        what: format!("{}: {}", shown(&section.text), shown(&child.text)),
                        control: Some(control.to_string()),
                        note: None,
                    });
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked() {
        assert_eq!(shown("enable secret 9 $9$abc"), "enable secret [masked]");
        assert_eq!(shown(" password 7  0822455D0A16"), "password [masked]");
        assert_eq!(
            shown("snmp-server community public RO"),
            "snmp-server community [masked]"
        );
        assert_eq!(
            shown("snmp-server user u G v3 auth sha A priv aes 128 B"),
            "snmp-server user u G v3 auth [masked]"
        );
        assert_eq!(shown("tacacs server T"), "tacacs server T");
        assert_eq!(
            shown("service password-encryption"),
            "service password-encryption"
        );
        assert_eq!(shown(" key 7 06575D72"), "key [masked]");
        assert_eq!(shown(&"x".repeat(500)).chars().count(), LONGEST + 1);
    }

    #[test]
    fn access_list_entries_as_ios_prints_them() {
        assert_eq!(acl_entry("10 permit 10.10.2.10", true), "permit 10.10.2.10");
        assert_eq!(
            acl_entry("permit 10.10.2.10 0.0.0.0", true),
            "permit 10.10.2.10"
        );
        assert_eq!(
            acl_entry("permit host 10.10.2.10", true),
            "permit 10.10.2.10"
        );
        assert_eq!(acl_entry("30 deny   any log", true), "deny any log");
        assert_eq!(
            acl_entry("permit 10.20.0.0 0.0.0.255", true),
            "permit 10.20.0.0 0.0.0.255"
        );
        assert_eq!(
            acl_entry("20 permit tcp host 10.10.1.10 eq 7000 any", false),
            "permit tcp host 10.10.1.10 eq 7000 any"
        );
    }

    #[test]
    fn vty_ranges() {
        assert_eq!(vty_range("line vty 0 15"), Some((0, 15)));
        assert_eq!(vty_range("line vty  5"), Some((5, 5)));
        assert_eq!(vty_range("line vty 4 0"), None);
        assert_eq!(vty_range("line con 0"), None);
    }
}

//! The IOS configuration text, in an order that is safe to enter line by line.
//!
//! A management session that drops half-way through a change must not leave the device
//! unreachable, so the blocks come in this order:
//!
//! 1. access lists, the ones the VTY lines use first — a list is defined (permitting the jump
//!    hosts) before anything applies it, and an access list does nothing until applied;
//! 2. global lines (`ip ssh version 2` among them), in catalog order;
//! 3. the `no` forms of the forbidden lines (`no ip http server` …);
//! 4. interface sections (`ip access-group` only now, after every list exists);
//! 5. other sections (`archive`, `line con 0` …);
//! 6. the VTY sections last: `transport input ssh` (which removes telnet) and `access-class`
//!    come after SSH version 2 and the management list.
//!
//! The text is written directly rather than through a template: every line has passed
//! [`crate::catalog::setting::ios::check_line`], names are checked, and addresses are parsed
//! again by [`super::acl`]. Lines end with LF whatever the host, and nothing depends on time.

use std::collections::BTreeSet;

use crate::catalog::setting::{AclType, IosAcl, SettingKind};
use crate::model::DesiredState;

use super::acl;

/// A line and the lines indented under it.
#[derive(Debug, Default)]
struct Block {
    line: String,
    children: Vec<Block>,
}

impl Block {
    fn child(&mut self, line: &str) -> &mut Block {
        let i = match self.children.iter().position(|c| c.line == line) {
            Some(i) => i,
            None => {
                self.children.push(Block {
                    line: line.to_string(),
                    children: Vec::new(),
                });
                self.children.len() - 1
            }
        };
        &mut self.children[i]
    }

    fn render(&self, depth: usize, out: &mut String) {
        out.push_str(&" ".repeat(depth));
        out.push_str(&self.line);
        out.push('\n');
        for c in &self.children {
            c.render(depth + 1, out);
        }
    }
}

/// Where a top-level section goes: interfaces, then other sections, then the VTY lines.
fn section_rank(parent: &str) -> usize {
    if parent.starts_with("interface ") {
        0
    } else if parent.starts_with("line vty") {
        2
    } else {
        1
    }
}

/// The access lists the VTY lines apply with `access-class NAME in`.
fn management_lists(state: &DesiredState) -> BTreeSet<String> {
    state
        .settings()
        .filter_map(|s| match &s.kind {
            SettingKind::IosSection(sec)
                if sec
                    .parent
                    .first()
                    .is_some_and(|p| p.starts_with("line vty")) =>
            {
                Some(sec.lines.iter().filter_map(|l| referenced_list(l)))
            }
            _ => None,
        })
        .flatten()
        .map(str::to_string)
        .collect()
}

/// The access list a line applies: `access-class NAME …` or `ip access-group NAME …`.
pub fn referenced_list(line: &str) -> Option<&str> {
    line.strip_prefix("access-class ")
        .or_else(|| line.strip_prefix("ip access-group "))
        .and_then(|rest| rest.split(' ').next())
}

/// The access lists of the profile, management lists first, each name once.
pub fn access_lists(state: &DesiredState) -> Vec<&IosAcl> {
    let management = management_lists(state);
    let mut lists: Vec<&IosAcl> = Vec::new();
    for s in state.settings() {
        if let SettingKind::IosAcl(a) = &s.kind {
            if !lists.iter().any(|l| l.name == a.name) {
                lists.push(a);
            }
        }
    }
    lists.sort_by_key(|l| !management.contains(&l.name));
    lists
}

/// The configuration of a network-device profile.
pub fn render(state: &DesiredState) -> Result<String, String> {
    let mut globals: Vec<&str> = Vec::new();
    let mut forbidden: Vec<String> = Vec::new();
    let mut prefixes: Vec<&str> = Vec::new();
    let mut sections: Vec<Block> = Vec::new();
    let mut controls: Vec<&str> = Vec::new();
    for s in state.settings() {
        let mut add_section = |path: &[String], lines: &[String]| {
            let Some((first, rest)) = path.split_first() else {
                return;
            };
            let i = match sections.iter().position(|b| &b.line == first) {
                Some(i) => i,
                None => {
                    sections.push(Block {
                        line: first.clone(),
                        children: Vec::new(),
                    });
                    sections.len() - 1
                }
            };
            let mut block = &mut sections[i];
            for p in rest {
                block = block.child(p);
            }
            for l in lines {
                block.child(l);
            }
        };
        match &s.kind {
            SettingKind::IosGlobal(g) => {
                for l in &g.lines {
                    if !globals.contains(&l.as_str()) {
                        globals.push(l);
                    }
                }
            }
            SettingKind::IosForbidden(f) => {
                for l in &f.lines {
                    let no = format!("no {l}");
                    if !forbidden.contains(&no) {
                        forbidden.push(no);
                    }
                }
                for p in &f.prefixes {
                    if !prefixes.contains(&p.as_str()) {
                        prefixes.push(p);
                    }
                }
            }
            SettingKind::IosSection(sec) if sec.parent.is_empty() => {
                for name in &sec.interfaces {
                    add_section(&[format!("interface {name}")], &sec.lines);
                }
            }
            SettingKind::IosSection(sec) => add_section(&sec.parent, &sec.lines),
            SettingKind::IosAcl(_) => {}
            _ => continue,
        }
        if !controls.contains(&s.control.as_str()) {
            controls.push(&s.control);
        }
    }
    sections.sort_by_key(|b| section_rank(&b.line));

    let profile = &state.profile;
    let mut out = String::new();
    let mut comment = |text: &str| {
        out.push('!');
        if !text.is_empty() {
            out.push(' ');
            out.push_str(text);
        }
        out.push('\n');
    };
    comment(&format!(
        "hardbase: hardening configuration of profile {} ({}, {})",
        profile.name,
        profile.role.id(),
        profile.platform.id
    ));
    comment(&format!("Controls: {}", controls.join(", ")));
    comment("");
    comment("This file holds the hardening lines only. Merge them into the device's complete");
    comment("configuration (interfaces, addresses, routing), copy the result to flash and replace");
    comment("the running configuration with a revert timer:");
    comment("  configure replace flash:<file> time <minutes>");
    comment("then, from a new SSH session through a jump host, keep it with");
    comment("  configure confirm");
    comment("Without the confirmation the device returns to its previous configuration when the");
    comment("timer runs out.");
    comment("");
    comment("The lines are ordered so that entering them one by one never cuts the management");
    comment("session: every access list is defined before it is applied, the management list");
    comment("(permitting the jump hosts) first; SSH version 2 is set before the VTY lines accept");
    comment("SSH only and before their access-class. Entered one by one they still take effect");
    comment("at once, without a revert timer, and an access list that already exists on the");
    comment("device is extended rather than replaced: prefer configure replace.");
    comment("");
    comment("Set on the device, never in this file: the break-glass user and the enable secret");
    comment("(algorithm-type scrypt), TACACS+ server keys, SNMPv3 user keys and NTP");
    comment("authentication keys. The device needs its SSH host key and must accept SSH before");
    comment("this configuration is applied.");
    for p in &prefixes {
        comment(&format!(
            "Must not be present (remove it with its value): {p} ..."
        ));
    }
    out.push_str("!\n");

    for list in access_lists(state) {
        let kind = match list.acl_type {
            AclType::Standard => "standard",
            AclType::Extended => "extended",
        };
        out.push_str(&format!("ip access-list {kind} {}\n", list.name));
        for entry in acl::entries(list, &state.flows)? {
            out.push(' ');
            out.push_str(&entry);
            out.push('\n');
        }
        out.push_str("!\n");
    }
    for l in &globals {
        out.push_str(l);
        out.push('\n');
    }
    for l in &forbidden {
        out.push_str(l);
        out.push('\n');
    }
    out.push_str("!\n");
    for block in &sections {
        block.render(0, &mut out);
        out.push_str("!\n");
    }
    out.push_str("end\n");
    Ok(out)
}

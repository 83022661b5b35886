//! File views of drift and what Windows holds beyond its profile: the unified diffs of the sshd
//! drop-in, hardbase's nftables table and GptTmpl.inf against hand-built machine states (and,
//! as root, against the kiosk's ruleset loaded in a network namespace and read back with
//! `nft -j`), and the Windows unexpected items: an extra inbound allow rule, an extra listening
//! port, an extra local administrator.

use std::collections::BTreeMap;
use std::process::Command;

use hardbase::catalog::setting::{
    Chain, ChainPolicy, Direction, FirewallAction, Protocol, SettingKind,
};
use hardbase::drift::{self, DriftReport, FileDiff, Status};
use hardbase::live::{
    FirewallRuleFact, LinuxState, Listener, LiveState, LocalGroupFact, LocalUserFact, NftChain,
    NftRule, NftState, WindowsState,
};
use hardbase::model::DesiredState;
use hardbase::snapshot::linux;
use hardbase::target::linux::nftables;
use hardbase::target::windows::gpttmpl_inf::InfValue;
use hardbase::target::windows::policy;

use crate::drift::{compliant_live, kiosk_path, resolve_audit};
use crate::util::{self, in_ci, is_root, require_tool, TempDir};

fn file_diff<'a>(report: &'a DriftReport, name: &str) -> &'a FileDiff {
    report
        .file_diffs
        .iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("no diff of {name} in {:?}", report.file_diffs))
}

/// The `-` and `+` lines of a unified diff, without the `---`/`+++` header.
fn changed_lines(d: &FileDiff) -> Vec<&str> {
    d.unified
        .lines()
        .filter(|l| {
            (l.starts_with('-') || l.starts_with('+'))
                && !l.starts_with("---")
                && !l.starts_with("+++")
        })
        .collect()
}

fn chain_name(c: Chain) -> &'static str {
    match c {
        Chain::Input => "input",
        Chain::Output => "output",
        Chain::Forward => "forward",
    }
}

fn live_rule(chain: &str, protocol: Option<&str>, comment: &str) -> NftRule {
    NftRule {
        family: "inet".into(),
        table: "hardbase".into(),
        chain: chain.into(),
        verdict: Some("accept".into()),
        protocol: protocol.map(str::to_string),
        comment: Some(comment.into()),
        packets: Some(3),
        ..NftRule::default()
    }
}

/// Table `inet hardbase` as the collector's parser reads `nft -j list ruleset` on a machine
/// that loaded the kiosk's ruleset: the built-in rules of each drop chain, one rule per
/// address family, the two SSH peers merged by nft into one prefix.
fn kiosk_nft(state: &DesiredState) -> NftState {
    let mut nft = NftState {
        tables: vec![("inet".into(), "hardbase".into())],
        ..NftState::default()
    };
    let mut policies = BTreeMap::new();
    for s in state.settings() {
        if let SettingKind::NftPolicy(p) = &s.kind {
            policies.insert(p.chain, p.policy);
        }
    }
    for (chain, policy) in &policies {
        let name = chain_name(*chain);
        nft.chains.push(NftChain {
            family: "inet".into(),
            table: "hardbase".into(),
            name: name.into(),
            hook: Some(name.into()),
            policy: Some(
                if *policy == ChainPolicy::Drop {
                    "drop"
                } else {
                    "accept"
                }
                .into(),
            ),
        });
        if *policy == ChainPolicy::Drop {
            if *chain != Chain::Forward {
                nft.rules.push(live_rule(name, None, "loopback"));
            }
            nft.rules
                .push(live_rule(name, None, "replies to allowed connections"));
            if *chain != Chain::Forward {
                nft.rules
                    .push(live_rule(name, Some("icmpv6"), "IPv6 neighbour discovery"));
            }
        }
    }
    for s in state.settings() {
        let SettingKind::NftRule(r) = &s.kind else {
            continue;
        };
        let (v4, v6): (Vec<String>, Vec<String>) =
            r.addresses.iter().cloned().partition(|a| !a.contains(':'));
        let families: Vec<Vec<String>> = if r.addresses.is_empty() {
            vec![Vec::new()]
        } else {
            [v4, v6].into_iter().filter(|l| !l.is_empty()).collect()
        };
        for addresses in families {
            let mut rule = live_rule(
                chain_name(r.chain),
                Some(match r.protocol {
                    Protocol::Tcp => "tcp",
                    Protocol::Udp => "udp",
                    Protocol::Icmpv4 => "icmp",
                    Protocol::Icmpv6 => "ipv6-icmp",
                    Protocol::Any => "tcp",
                }),
                &r.purpose,
            );
            rule.ports = r.ports.clone();
            rule.addresses = if addresses == ["10.10.2.10", "10.10.2.11"] {
                vec!["10.10.2.10/31".into()]
            } else {
                addresses
            };
            nft.rules.push(rule);
        }
    }
    nft
}

/// The kiosk, compliant, with its nftables table as `nft -j` shows it.
fn kiosk_live(state: &DesiredState) -> LiveState<'static> {
    let mut live = compliant_live(state);
    live.linux.nft = Some(kiosk_nft(state));
    live
}

#[test]
fn sshd_as_rendered_has_no_diff_and_one_changed_option_is_one_line_pair() {
    let (state, sources) = resolve_audit(&kiosk_path(), None);
    let live = kiosk_live(&state);
    let report = drift::diff(&state, &live);
    let sshd = file_diff(&report, "/etc/ssh/sshd_config.d/00-hardbase.conf");
    assert!(!sshd.has_changes(), "{}", sshd.unified);
    assert_eq!(sshd.unified, "");
    let nft = file_diff(&report, nftables::TARGET);
    assert!(!nft.has_changes(), "{}", nft.unified);
    let text = hardbase::report::drift::to_text(&report, &sources, false);
    assert!(
        !text.contains("[file]"),
        "files without changes are not shown"
    );

    // One option changed on the machine: exactly its `-`/`+` pair.
    let mut changed = live.clone();
    let options = changed.linux.sshd.as_mut().unwrap();
    assert_eq!(options["maxauthtries"], ["4"]);
    options.insert("maxauthtries".into(), vec!["6".into()]);
    let report = drift::diff(&state, &changed);
    let sshd = file_diff(&report, "/etc/ssh/sshd_config.d/00-hardbase.conf");
    assert_eq!(
        changed_lines(sshd),
        ["-maxauthtries 4", "+maxauthtries 6"],
        "{}",
        sshd.unified
    );
    assert!(sshd.unified.starts_with(
        "--- hardbase /etc/ssh/sshd_config.d/00-hardbase.conf (the options it sets)\n+++ kiosk-umeda-01 sshd -T (the same options)\n@@ "
    ));
    let text = hardbase::report::drift::to_text(&report, &sources, false);
    assert!(
        text.contains("[file] /etc/ssh/sshd_config.d/00-hardbase.conf (hardbase's rendering against the machine's):\n  --- hardbase"),
        "{text}"
    );
    assert!(
        text.contains("\n  -maxauthtries 4\n  +maxauthtries 6\n"),
        "{text}"
    );
    // After the controls, before the counts.
    let diff_at = text.find("[file]").unwrap();
    assert!(diff_at > text.rfind("\n[").unwrap_or(0) - 1);
    assert!(diff_at < text.find("settings: ").unwrap());

    let json = hardbase::report::drift::to_json(&report, &sources);
    let files = json["file_diffs"].as_array().unwrap();
    let sshd_json = files
        .iter()
        .find(|f| f["name"] == "/etc/ssh/sshd_config.d/00-hardbase.conf")
        .unwrap();
    assert_eq!(sshd_json["changed"], true);
    assert_eq!(sshd_json["unified"], sshd.unified);
    assert_eq!(
        sshd_json["actual_label"],
        "kiosk-umeda-01 sshd -T (the same options)"
    );
    let nft_json = files
        .iter()
        .find(|f| f["name"] == nftables::TARGET)
        .unwrap();
    assert_eq!(nft_json["changed"], false);
}

#[test]
fn the_nft_table_as_rendered_has_no_diff_and_one_changed_port_is_one_line_pair() {
    let (state, _) = resolve_audit(&kiosk_path(), None);
    let mut live = kiosk_live(&state);
    let report = drift::diff(&state, &live);
    assert!(!file_diff(&report, nftables::TARGET).has_changes());

    let nft = live.linux.nft.as_mut().unwrap();
    let ssh = nft.rules.iter_mut().find(|r| r.ports == [22]).unwrap();
    ssh.ports = vec![2222];
    let report = drift::diff(&state, &live);
    let d = file_diff(&report, nftables::TARGET);
    let lines = changed_lines(d);
    assert_eq!(lines.len(), 2, "{}", d.unified);
    assert!(
        lines[0].starts_with("-chain input: accept tcp dport 22 saddr 10.10.2.10/31 comment "),
        "{}",
        d.unified
    );
    assert_eq!(
        lines[1],
        lines[0]
            .replacen('-', "+", 1)
            .replace("dport 22 ", "dport 2222 ")
    );
    assert!(!file_diff(&report, "/etc/ssh/sshd_config.d/00-hardbase.conf").has_changes());
}

/// The real thing: the kiosk's ruleset loaded in a network namespace and read back with
/// `nft -j list ruleset` gives no diff; one rule's port changed with `nft` gives one pair.
#[test]
fn the_kiosk_ruleset_loaded_in_a_namespace_has_no_diff() {
    let (Some(ip), Some(nft)) = (require_tool("ip"), require_tool("nft")) else {
        return;
    };
    if !is_root() {
        assert!(!in_ci(), "CI runs as root; the namespace test needs root");
        eprintln!("SKIPPED: the network-namespace test needs root");
        return;
    }
    let (state, _) = resolve_audit(&kiosk_path(), None);
    let dir = TempDir::new("drift-files-nft");
    let ruleset = dir.path().join("hardbase.nft");
    let text = String::from_utf8(nftables::files(&state).unwrap()[0].bytes.clone()).unwrap();
    std::fs::write(&ruleset, &text).unwrap();
    let ns = format!("hbdiff{}", std::process::id());
    let run = |args: &[&str]| {
        let out = Command::new(&ip)
            .args(["netns", "exec", &ns])
            .arg(&nft)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let added = Command::new(&ip)
        .args(["netns", "add", &ns])
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let collect = || {
        let mut linux_state = LinuxState::default();
        let json = run(&["-j", "list", "ruleset"]);
        linux::parse("nft.json", &json, &mut linux_state).unwrap();
        let mut live = kiosk_live(&state);
        live.linux.nft = linux_state.nft;
        drift::diff(&state, &live)
    };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run(&["-f", ruleset.to_str().unwrap()]);
        let report = collect();
        let d = file_diff(&report, nftables::TARGET);
        assert!(!d.has_changes(), "{}", d.unified);

        // The SSH port changed on the machine.
        let changed = text.replace("tcp dport 22 ", "tcp dport 2222 ");
        assert_ne!(changed, text);
        std::fs::write(&ruleset, &changed).unwrap();
        run(&["-f", ruleset.to_str().unwrap()]);
        let report = collect();
        let d = file_diff(&report, nftables::TARGET);
        let lines = changed_lines(d);
        assert_eq!(lines.len(), 2, "{}", d.unified);
        assert!(lines[0].contains(" dport 22 ") && lines[1].contains(" dport 2222 "));
    }));
    let _ = Command::new(&ip).args(["netns", "del", &ns]).output();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn a_hostile_sshd_value_is_escaped_in_the_diff() {
    let (state, sources) = resolve_audit(&kiosk_path(), None);
    let mut live = kiosk_live(&state);
    live.linux.sshd.as_mut().unwrap().insert(
        "maxauthtries".into(),
        vec!["3\u{1b}[2J\rmaxauthtries 3".into()],
    );
    live.info.host = "evil\u{1b}]0;owned\u{7}".into();
    let report = drift::diff(&state, &live);
    let d = file_diff(&report, "/etc/ssh/sshd_config.d/00-hardbase.conf");
    assert_eq!(
        changed_lines(d),
        [
            "-maxauthtries 4",
            "+maxauthtries 3\\u{1b}[2J\\u{d}maxauthtries 3"
        ],
        "{}",
        d.unified
    );
    assert!(d.unified.contains("+++ evil\\u{1b}]0;owned\\u{7} sshd -T"));
    assert_eq!(
        d.actual_label,
        "evil\u{1b}]0;owned\u{7} sshd -T (the same options)"
    );
    let text = hardbase::report::drift::to_text(&report, &sources, false);
    assert!(!text.contains(['\u{1b}', '\r', '\u{7}']), "{text:?}");
    assert!(
        text.contains("  +maxauthtries 3\\u{1b}[2J\\u{d}maxauthtries 3\n"),
        "{text}"
    );
}

// ---------------------------------------------------------------- Windows

fn atm() -> (DesiredState, hardbase::source::SourceMap) {
    resolve_audit(
        &util::root().join("examples/regional-bank/branch-atm-shinjuku.toml"),
        None,
    )
}

/// A Windows machine whose security template, firewall rules, administrators and listening
/// ports are exactly the profile's.
fn atm_live(state: &DesiredState) -> LiveState<'static> {
    let mut live = LiveState::default();
    live.info.host = "ATM-SHINJUKU-01".into();
    live.info.family = "windows".into();
    let w: &mut WindowsState = &mut live.windows;
    let template = policy::build(state).template;
    w.system_access = Some(
        template
            .system_access
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    InfValue::Number(n) => n.to_string(),
                    InfValue::Text(t) => t.clone(),
                };
                (k.clone(), v)
            })
            .collect(),
    );
    w.privilege_rights = Some(
        template
            .privilege_rights
            .iter()
            .filter(|(_, p)| !p.is_empty())
            .cloned()
            .collect(),
    );
    let mut rules = Vec::new();
    for s in state.settings() {
        if let SettingKind::FirewallRule(r) = &s.kind {
            rules.push(FirewallRuleFact {
                id: r.name.clone().into(),
                display_name: r.purpose.clone().into(),
                enabled: 1,
                direction: if r.direction == Direction::Inbound {
                    1
                } else {
                    2
                },
                action: if r.action == FirewallAction::Allow {
                    2
                } else {
                    4
                },
                store_source: "GroupPolicy (LGPO)".into(),
                ..FirewallRuleFact::default()
            });
        }
    }
    // A rule that blocks, and one that is disabled, are not unexpected.
    rules.push(FirewallRuleFact {
        id: "CoreNet-Block".into(),
        enabled: 1,
        direction: 1,
        action: 4,
        ..FirewallRuleFact::default()
    });
    rules.push(FirewallRuleFact {
        id: "RemoteDesktop-UserMode-In-TCP".into(),
        enabled: 2,
        direction: 1,
        action: 2,
        ..FirewallRuleFact::default()
    });
    w.firewall_rules = Some(rules);
    w.groups = Some(vec![LocalGroupFact {
        sid: "S-1-5-32-544".into(),
        name: "Administrators".into(),
        members: vec!["S-1-5-21-1-2-3-500".into()],
    }]);
    w.users = Some(vec![
        LocalUserFact {
            sid: "S-1-5-21-1-2-3-500".into(),
            name: "Administrator".into(),
            disabled: true,
        },
        LocalUserFact {
            sid: "S-1-5-21-1-2-3-1002".into(),
            name: "vendor-tech".into(),
            disabled: false,
        },
    ]);
    w.listening = Some(vec![Listener {
        protocol: "tcp".into(),
        address: "127.0.0.1".into(),
        port: 5939,
        process: Some("loopback only".into()),
    }]);
    live
}

#[test]
fn gpttmpl_as_built_has_no_diff_and_one_changed_value_is_one_line_pair() {
    let (state, _) = atm();
    let template = policy::build(&state).template;
    assert!(template.system_access.len() >= 3 && !template.privilege_rights.is_empty());
    let mut live = atm_live(&state);
    let report = drift::diff(&state, &live);
    let d = file_diff(&report, "GptTmpl.inf");
    assert!(!d.has_changes(), "{}", d.unified);
    assert!(report.unexpected.is_empty(), "{:?}", report.unexpected);

    let (key, value) = template
        .system_access
        .iter()
        .find_map(|(k, v)| match v {
            InfValue::Number(n) => Some((k.clone(), *n)),
            InfValue::Text(_) => None,
        })
        .unwrap();
    live.windows
        .system_access
        .as_mut()
        .unwrap()
        .insert(key.clone(), (value + 1).to_string());
    let report = drift::diff(&state, &live);
    let d = file_diff(&report, "GptTmpl.inf");
    assert_eq!(
        changed_lines(d),
        [
            format!("-{key} = {value}"),
            format!("+{key} = {}", value + 1)
        ],
        "{}",
        d.unified
    );
    assert!(d.unified.contains(" [System Access]\n"), "{}", d.unified);
}

#[test]
fn an_extra_administrator_port_and_inbound_allow_rule_are_unexpected() {
    let (state, sources) = atm();
    let mut live = atm_live(&state);
    let w = &mut live.windows;
    w.groups.as_mut().unwrap()[0]
        .members
        .push("S-1-5-21-1-2-3-1002".into());
    w.listening.as_mut().unwrap().push(Listener {
        protocol: "tcp".into(),
        address: "0.0.0.0".into(),
        port: 5900,
        process: Some("winvnc".into()),
    });
    w.firewall_rules.as_mut().unwrap().push(FirewallRuleFact {
        id: "VNC-In".into(),
        display_name: "VNC".into(),
        enabled: 1,
        direction: 1,
        action: 2,
        protocol: Some("TCP".into()),
        local_ports: Some(vec!["5900".into()].into()),
        ..FirewallRuleFact::default()
    });
    let report = drift::diff(&state, &live);
    let kinds: Vec<(&str, &str)> = report
        .unexpected
        .iter()
        .map(|u| (u.kind, u.what.as_str()))
        .collect();
    assert_eq!(report.unexpected.len(), 3, "{kinds:?}");
    let find = |kind: &str| report.unexpected.iter().find(|u| u.kind == kind).unwrap();
    let admin = find("administrator");
    assert_eq!(
        admin.what,
        "S-1-5-21-1-2-3-1002 (vendor-tech) in Administrators (S-1-5-32-544)"
    );
    assert_eq!(
        admin.note.as_deref(),
        Some("no administrators declared by the profile")
    );
    assert_eq!(find("listening-port").what, "tcp 0.0.0.0:5900 (winvnc)");
    let rule = find("firewall-allow-rule");
    assert!(
        rule.what
            .starts_with("VNC-In \"VNC\": inbound allow tcp local ports 5900"),
        "{}",
        rule.what
    );
    assert!(rule.control.is_some(), "the firewall control governs it");
    assert_eq!(report.setting_counts()[&Status::Unexpected], 3);
    assert!(!report.is_compliant());
    assert_eq!(report.exit_code(), 1);
    let text = hardbase::report::drift::to_text(&report, &sources, false);
    assert!(
        text.contains(
            "  administrator S-1-5-21-1-2-3-1002 (vendor-tech) in Administrators (S-1-5-32-544)"
        ),
        "{text}"
    );
    assert!(
        text.contains("(no administrators declared by the profile)\n"),
        "{text}"
    );
    let json = hardbase::report::drift::to_json(&report, &sources);
    assert_eq!(json["exit_code"], 1);
    assert!(json["unexpected"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["kind"] == "administrator"
            && u["note"] == "no administrators declared by the profile"));
}

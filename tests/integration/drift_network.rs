//! Drift of the example router against a `show running-config` file: the generated lines merged
//! into a plausible device configuration (the way IOS XE prints it: numbered access-list
//! entries, a standard list's hosts as bare addresses, the VTY lines in two ranges, a banner,
//! secrets), with a known set of changes; hardbase's statuses per setting, the same findings as
//! hier_config's remediation from that running configuration to the generated one, every report
//! format, secrets masked, hostile content inert and malformed files refused at their line.

use std::path::Path;

use serde_json::Value;

use crate::network_ios::{build_router, ciscoconfparse2};
use crate::util::{run, run_python, TempDir};

const PROFILE: &str = "examples/regional-bank/branch-router-shinjuku.toml";

/// Secret values of the device configuration: none may appear in any report.
const SECRETS: &[&str] = &[
    "Sh1njukuRO",
    "0822455D0A16",
    "topsecretvalue",
    "breakglasssecret",
    "06575D72",
];

/// The device-specific part of the configuration, before the hardening lines.
const PREAMBLE: &str = "Building configuration...

Current configuration : 6123 bytes
!
! Last configuration change at 09:12:44 JST Fri Nov 27 2026 by netops
!
version 17.9
service timestamps debug datetime msec
platform qfp utilization monitor load 80
!
hostname shinjuku-rtr-01
!
boot-start-marker
boot-end-marker
!
enable secret 9 $9$nB0mXcQ3ZmNw1k$topsecretvalue
!
username breakglass privilege 15 secret 9 $9$breakglasssecret
!
ip domain name bank.example
clock timezone JST 9 0
!
tacacs server TAC1
 address ipv4 10.10.3.20
 key 7 06575D72
!
banner motd ^C
Authorised access only. Disconnect now
 end
if you are not authorised.
^C
!
interface GigabitEthernet0/0/0
 description WAN carrier line
 ip address 203.0.113.2 255.255.255.252
 negotiation auto
!
interface Loopback0
 ip address 10.50.255.1 255.255.255.255
!
ip route 0.0.0.0 0.0.0.0 203.0.113.1
";

/// The router's generated configuration merged into a device configuration as IOS XE prints it.
/// `drifted`: without `logging host 10.10.3.5`, with `ip http server`, an `snmp-server
/// community`, an extra ATM-IN entry, no BPDU guard on GigabitEthernet0/1/1 and a password on
/// `line vty 0 4`.
pub(crate) fn device_config(generated: &str, drifted: bool) -> String {
    let mut out = String::from(PREAMBLE);
    let mut top = String::new();
    let mut seq = 0;
    let mut vty: Vec<&str> = Vec::new();
    for line in generated
        .lines()
        .filter(|l| !l.starts_with('!') && *l != "end")
    {
        let child = line.starts_with(' ');
        if !child {
            top = line.to_string();
            seq = 0;
            if !top.starts_with("line vty")
                && ["interface", "line", "archive", "ip access-list"]
                    .iter()
                    .any(|k| top.starts_with(k))
            {
                out.push_str("!\n");
            }
        }
        if top.starts_with("line vty") {
            if child {
                vty.push(line);
            }
            continue;
        }
        if child && top.starts_with("ip access-list") {
            let entry = line.trim();
            seq += 10;
            if drifted && top == "ip access-list extended ATM-IN" && entry == "deny ip any any log"
            {
                out.push_str(&format!(
                    " {} permit tcp 10.50.1.0 0.0.0.255 any eq 23\n",
                    seq - 5
                ));
            }
            let entry = if top.starts_with("ip access-list standard") {
                entry
                    .replace(" 0.0.0.0", "")
                    .replace("deny any", "deny   any")
            } else {
                entry.to_string()
            };
            // IOS XE numbers the entries; ATM-OUT as an older release prints it, without.
            if top.ends_with("ATM-OUT") {
                out.push_str(&format!(" {entry}\n"));
            } else {
                out.push_str(&format!(" {seq} {entry}\n"));
            }
            continue;
        }
        if drifted {
            if line == "logging host 10.10.3.5" {
                continue;
            }
            if line == "no ip http server" {
                out.push_str("ip http server\n");
                continue;
            }
            if top == "interface GigabitEthernet0/1/1" && line == " spanning-tree bpduguard enable"
            {
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
        if line == "interface Vlan50" {
            out.push_str(" ip address 10.50.1.1 255.255.255.0\n");
        }
    }
    if drifted {
        out.push_str("snmp-server community Sh1njukuRO RO SNMP-MGR\n");
    }
    for (range, extra) in [
        ("0 4", drifted.then_some(" password 7 0822455D0A16")),
        ("5 15", None),
    ] {
        out.push_str(&format!("!\nline vty {range}\n"));
        for c in &vty {
            out.push_str(c);
            out.push('\n');
        }
        if let Some(e) = extra {
            out.push_str(e);
            out.push('\n');
        }
    }
    out.push_str("!\nend\n");
    out
}

/// Builds the router and writes its running configuration (`drifted` or not) to a file.
fn scenario(tmp: &TempDir, drifted: bool) -> (std::path::PathBuf, std::path::PathBuf) {
    let generated = build_router(&tmp.path().join("dist"));
    let text = std::fs::read_to_string(&generated).unwrap();
    let running = tmp.path().join("running-config.txt");
    std::fs::write(&running, device_config(&text, drifted)).unwrap();
    (generated, running)
}

fn diff(running: &Path, format: &str) -> crate::util::Run {
    run(&[
        "diff",
        PROFILE,
        "--live",
        running.to_str().unwrap(),
        "--format",
        format,
    ])
}

/// `(kind, target, status)` of every setting of a JSON report.
fn statuses(report: &Value) -> Vec<(String, String, String)> {
    report["controls"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["settings"].as_array().unwrap())
        .map(|s| {
            (
                s["kind"].as_str().unwrap().to_string(),
                s["target"].as_str().unwrap().to_string(),
                s["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_drifted_router_gets_a_status_per_setting_and_its_secrets_stay_hidden() {
    let tmp = TempDir::new("drift-network");
    let (_, running) = scenario(&tmp, true);
    let r = diff(&running, "json");
    assert_eq!(r.status, 1, "{}", r.stderr);
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["snapshot"]["host"], "shinjuku-rtr-01");
    assert_eq!(report["snapshot"]["collector"], "show running-config");
    let expected_findings = [
        ("ios_acl", "ios access-list ATM-IN", "drift"),
        (
            "ios_section",
            "ios section GigabitEthernet0/1/0,GigabitEthernet0/1/1 ",
            "missing",
        ),
        ("ios_global", "logging host 10.10.3.5", "missing"),
        ("ios_forbidden", "ip http server", "drift"),
        ("ios_forbidden", "snmp-server community", "drift"),
    ];
    let all = statuses(&report);
    assert_eq!(all.len(), 19, "{all:?}");
    for (kind, target, status) in &all {
        let want = expected_findings
            .iter()
            .find(|(k, t, _)| k == kind && target.contains(t))
            .map_or("compliant", |(_, _, s)| s);
        assert_eq!(status, want, "{kind} {target}");
    }
    // The normalisations: numbered entries and bare hosts (MGMT-ONLY), the split VTY lines.
    assert!(all
        .iter()
        .any(|(_, t, s)| t == "ios access-list MGMT-ONLY" && s == "compliant"));
    assert!(all
        .iter()
        .any(|(_, t, s)| t.starts_with("ios section line vty 0 15") && s == "compliant"));

    let unexpected: Vec<(&str, &str)> = report["unexpected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["kind"].as_str().unwrap(), u["what"].as_str().unwrap()))
        .collect();
    assert_eq!(
        unexpected,
        [
            (
                "ios-acl-entry",
                "ip access-list extended ATM-IN: 75 permit tcp 10.50.1.0 0.0.0.255 any eq 23"
            ),
            ("ios-vty-line", "line vty 0 4: password [masked]"),
        ]
    );

    let text = diff(&running, "text");
    assert_eq!(text.status, 1);
    assert!(
        text.stdout
            .contains("+permit tcp 10.50.1.0 0.0.0.255 any eq 23"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.contains("snmp-server community [masked]"),
        "{}",
        text.stdout
    );
    for format in ["text", "json", "junit", "sarif", "md", "csv"] {
        let r = diff(&running, format);
        assert_eq!(r.status, 1, "{format}: {}", r.stderr);
        for secret in SECRETS {
            assert!(!r.stdout.contains(secret), "{format} shows {secret}");
        }
    }
    let xlsx = tmp.path().join("audit.xlsx");
    let r = run(&[
        "diff",
        PROFILE,
        "--live",
        running.to_str().unwrap(),
        "--format",
        "xlsx",
        "-o",
        xlsx.to_str().unwrap(),
    ]);
    assert_eq!(r.status, 1, "{}", r.stderr);
    assert!(xlsx.is_file());
}

#[test]
fn a_compliant_router_exits_zero() {
    let tmp = TempDir::new("drift-network-ok");
    let (_, running) = scenario(&tmp, false);
    let r = diff(&running, "text");
    assert_eq!(r.status, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("settings: 19 compliant"), "{}", r.stdout);
    assert!(!r.stdout.contains("unexpected"), "{}", r.stdout);
}

/// hier_config's remediation from the running configuration to the generated one, as leaf
/// paths (`parent > child`), after the normalisations the comparison needs:
///
/// * both sides: comments, `end`, the `Building configuration` header and the banner body
///   dropped (hardbase skips them; the generated file's comments are not configuration);
///   access-list entries without sequence numbers and, in standard lists, a single host as its
///   bare address (what hardbase normalizes); the VTY ranges merged into `line vty 0 15` with
///   the children of each range (hardbase treats the ranges as one);
/// * the remediation: a `no` line is kept only where hardbase judges what is beyond the
///   profile — the generated file's own `no` lines, top-level lines beginning with a forbidden
///   prefix (read from the generated header), and entries of access lists and VTY lines. The
///   generated file holds the hardening lines only, so hier_config would also remove every
///   device-specific line (hostname, routes, addresses), which is not drift.
const REMEDIATION: &str = r#"
import json, re, sys
from hier_config import Host

running = open(sys.argv[1]).read()
generated = open(sys.argv[2]).read()
prefixes = re.findall(r"^! Must not be present \(remove it with its value\): (.+?) \.\.\.$", generated, re.M)

def normalise(text):
    out, vty, top, banner = [], [], "", False
    for line in text.splitlines():
        if banner:
            banner = line.strip() != "^C"
            continue
        if line.startswith("banner "):
            banner = True
            continue
        s = line.strip()
        if not s or s.startswith("!") or s == "end" or s.startswith("Building configuration") or s.startswith("Current configuration"):
            continue
        if not line.startswith(" "):
            top = s
            if not s.startswith("line vty"):
                out.append(s)
            continue
        if top.startswith("line vty"):
            if s not in vty:
                vty.append(s)
            continue
        if top.startswith("ip access-list"):
            words = s.split()
            if words[0].isdigit():
                words = words[1:]
            if " standard " in top and words[0] in ("permit", "deny"):
                if words[1] == "host":
                    del words[1]
                elif len(words) > 2 and words[2] == "0.0.0.0":
                    del words[2]
            s = " ".join(words)
        out.append(" " * (len(line) - len(line.lstrip(" "))) + s)
    if vty:
        out.append("line vty 0 15")
        out += [" " + c for c in vty]
    return "\n".join(out) + "\n"

host = Host("shinjuku-rtr-01", "iosxe")
host.load_running_config(normalise(running))
host.load_generated_config(normalise(generated))
wanted = {tuple(c.path()) for c in host.generated_config.all_children()}
leaves = []
for c in host.remediation_config().all_children_sorted():
    if c.children:
        continue
    path = list(c.path())
    text = path[-1]
    if text.startswith("no ") and tuple(path) not in wanted:
        rest = text[3:]
        beyond = len(path) == 1 and any(rest == p or rest.startswith(p + " ") for p in prefixes)
        section = path[0].startswith("ip access-list") or path[0].startswith("line vty")
        if not (beyond or section):
            continue
    leaves.append(" > ".join(path))
print(json.dumps(leaves))
"#;

/// What a finding says the remediation must hold.
#[derive(Debug)]
enum Line {
    /// This line.
    Exact(String),
    /// A line beginning so (a masked value follows).
    Masked(String),
    /// Some line under this parent (a list that differs).
    Under(String),
}

impl Line {
    fn matches(&self, leaf: &str) -> bool {
        match self {
            Line::Exact(l) => leaf == l,
            Line::Masked(p) | Line::Under(p) => leaf.starts_with(p.as_str()),
        }
    }
}

/// A line as hier_config writes it: masked values become a prefix.
fn line(text: String) -> Line {
    match text.split_once("[masked]") {
        Some((before, _)) => Line::Masked(before.to_string()),
        None => Line::Exact(text),
    }
}

/// The backquoted items of a note, each with the text before its group (`absent: `a`; `b``).
fn quoted_items(note: &str) -> Vec<(String, String)> {
    let mut context = String::new();
    let mut out = Vec::new();
    for (i, piece) in note.split('`').enumerate() {
        if i % 2 == 1 {
            out.push((context.clone(), piece.to_string()));
        } else if piece.contains(':') {
            context = piece.to_string();
        }
    }
    out
}

/// Without an IOS XE sequence number.
fn unnumbered(entry: &str) -> &str {
    match entry.split_once(' ') {
        Some((n, rest)) if n.bytes().all(|b| b.is_ascii_digit()) => rest,
        _ => entry,
    }
}

/// The remediation lines each finding of a JSON report names.
fn finding_lines(report: &Value) -> Vec<(String, Vec<Line>)> {
    let mut out = Vec::new();
    for s in report["controls"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["settings"].as_array().unwrap())
        .filter(|s| s["status"] != "compliant")
    {
        let kind = s["kind"].as_str().unwrap();
        let target = s["target"].as_str().unwrap();
        let note = s["note"].as_str().unwrap_or_default();
        let mut lines = Vec::new();
        for (context, item) in quoted_items(note) {
            lines.push(match kind {
                "ios_global" => line(item),
                "ios_forbidden" => line(format!("no {item}")),
                "ios_section" if context.contains("no section") => {
                    Line::Under(format!("{item} > "))
                }
                "ios_section" => {
                    let (parent, child) = item.split_once(": ").unwrap();
                    line(format!("{parent} > {child}"))
                }
                _ => continue,
            });
        }
        if kind == "ios_acl" {
            let name = target.trim_start_matches("ios access-list ");
            let header = report["file_diffs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["name"].as_str().unwrap())
                .find(|n| n.ends_with(&format!(" {name}")))
                .unwrap();
            lines.push(Line::Under(format!("{header} > ")));
        }
        out.push((format!("{kind} {target}"), lines));
    }
    for u in report["unexpected"].as_array().unwrap() {
        let what = u["what"].as_str().unwrap();
        let (parent, child) = what.split_once(": ").unwrap();
        let parent = if parent.starts_with("line vty") {
            "line vty 0 15"
        } else {
            parent
        };
        out.push((
            format!("unexpected {what}"),
            vec![line(format!("{parent} > no {}", unnumbered(child)))],
        ));
    }
    out
}

#[test]
fn the_findings_are_the_lines_of_hier_configs_remediation() {
    let Some(python) = ciscoconfparse2() else {
        return;
    };
    let tmp = TempDir::new("drift-network-hier");
    let (generated, running) = scenario(&tmp, true);
    let leaves: Vec<String> = serde_json::from_slice(&run_python(
        &python,
        REMEDIATION,
        [running.as_path(), generated.as_path()],
    ))
    .unwrap();
    assert!(!leaves.is_empty());
    let r = diff(&running, "json");
    let report: Value = serde_json::from_str(&r.stdout).unwrap();
    let findings = finding_lines(&report);
    assert_eq!(findings.len(), 7, "{findings:?}");
    for leaf in &leaves {
        assert!(
            findings.iter().any(|(_, lines)| lines
                .iter()
                .any(|l| !matches!(l, Line::Under(_)) && l.matches(leaf))),
            "hier_config remediates `{leaf}`, which no hardbase finding names: {findings:?}"
        );
    }
    for (finding, lines) in &findings {
        assert!(
            leaves
                .iter()
                .any(|leaf| lines.iter().any(|l| l.matches(leaf))),
            "hardbase finds {finding}, which hier_config does not remediate: {leaves:?}"
        );
    }
    // And a compliant running configuration needs no remediation at all.
    let (generated, running) = scenario(&tmp, false);
    let leaves: Vec<String> = serde_json::from_slice(&run_python(
        &python,
        REMEDIATION,
        [running.as_path(), generated.as_path()],
    ))
    .unwrap();
    assert_eq!(leaves, Vec::<String>::new());
}

#[test]
fn hostile_running_configuration_content_is_inert_in_every_report() {
    let tmp = TempDir::new("drift-network-hostile");
    let (_, running) = scenario(&tmp, false);
    let text = std::fs::read_to_string(&running).unwrap();
    let long = "A".repeat(20_000);
    let hostile = text
        .replace(
            "hostname shinjuku-rtr-01",
            "hostname r\x1b]0;owned\x07<script>alert(1)</script>",
        )
        .replace(
            " 80 deny ip any any log",
            &format!(
                " 75 remark \x1b[2J\x1b[31m<script>alert(1)</script>\r\n 76 permit tcp any any eq 23\rdeny ip any any\n 77 remark {long}\n 80 deny ip any any log"
            ),
        );
    assert_ne!(hostile, text);
    std::fs::write(&running, hostile).unwrap();
    for format in ["text", "json", "sarif", "md"] {
        let r = diff(&running, format);
        assert_eq!(r.status, 1, "{format}: {}", r.stderr);
        assert!(!r.stdout.contains('\x1b'), "{format}: an escape sequence");
        assert!(!r.stdout.contains('\x07'), "{format}: a bell");
        assert!(!r.stdout.contains('\r'), "{format}: a carriage return");
        assert!(!r.stdout.contains(&long), "{format}: the long line in full");
        if format == "md" {
            assert!(!r.stdout.contains("<script>"), "{}", r.stdout);
        }
        if format != "text" && format != "md" {
            serde_json::from_str::<Value>(&r.stdout).unwrap();
        }
    }
}

#[test]
fn a_malformed_running_configuration_is_an_error_at_its_line() {
    let tmp = TempDir::new("drift-network-malformed");
    let (_, running) = scenario(&tmp, false);
    let text = std::fs::read_to_string(&running).unwrap();
    let cases = [
        (format!("{text}shinjuku-rtr-01#\n"), "text after `end`"),
        (text.replace("!\nend\n", ""), "no `end` line"),
        (
            text.replace("^C\n!\ninterface", "!\ninterface"),
            "never ends",
        ),
        (format!(" ip ssh version 2\n{text}"), "no parent line"),
    ];
    for (content, message) in cases {
        std::fs::write(&running, &content).unwrap();
        let r = diff(&running, "text");
        assert_eq!(r.status, 2, "{message}: {}", r.stdout);
        assert!(r.stdout.is_empty());
        let path = running.display().to_string();
        assert!(
            r.stderr.starts_with(&format!("error[snapshot]: {path}:")),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains(message), "{}", r.stderr);
    }
    // The line number is the offending line's.
    std::fs::write(&running, format!("{text}router#\n")).unwrap();
    let r = diff(&running, "text");
    let line = text.lines().count() + 1;
    assert!(
        r.stderr
            .contains(&format!("{}:{line}: text after `end`", running.display())),
        "{}",
        r.stderr
    );
    // A folder is not a running configuration.
    let r = run(&["diff", PROFILE, "--live", tmp.path().to_str().unwrap()]);
    assert_eq!(r.status, 2);
    assert!(r.stderr.contains("is a folder"), "{}", r.stderr);
}

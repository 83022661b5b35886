//! The IOS configuration of a network device: the example router's file read back by
//! ciscoconfparse2 (its access-list entries exact and in order, the management lines present),
//! its order safe to enter line by line, byte-identical across builds, and hostile strings
//! (a `!` opening a description or banner, a banner delimiter inside the banner, newlines)
//! refused by `check` at the line that set them.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{in_ci, root, run, run_python, TempDir};

/// The interpreter of the venv `.ci/run` creates; another with `HARDBASE_IOS_PYTHON`.
const DEFAULT_PYTHON: &str = "/opt/hardbase-venv/bin/python3";

/// A Python with ciscoconfparse2, or `None` (outside CI) with a message; panics in CI.
pub fn ciscoconfparse2() -> Option<PathBuf> {
    let python = std::env::var_os("HARDBASE_IOS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PYTHON));
    let ok = Command::new(&python)
        .args(["-c", "import ciscoconfparse2"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    let message = format!("{} with ciscoconfparse2 is not installed", python.display());
    if in_ci() {
        panic!("{message}; .ci/run creates the venv and CI must not skip this test");
    }
    eprintln!(
        "SKIPPED: {message} (python3 -m venv /opt/hardbase-venv && /opt/hardbase-venv/bin/pip install ciscoconfparse2==0.9.18, or set HARDBASE_IOS_PYTHON)"
    );
    None
}

/// Reads a configuration with ciscoconfparse2: every top-level object with its children and
/// line numbers, as JSON.
const PARSE: &str = r#"
import json, sys
from ciscoconfparse2 import CiscoConfParse
parse = CiscoConfParse(sys.argv[1], syntax="ios")
def node(o):
    return {"text": o.text.strip(), "line": o.linenum, "children": [node(c) for c in o.children]}
print(json.dumps([node(o) for o in parse.objs if o.indent == 0]))
"#;

/// The parsed top-level objects of a configuration file.
pub fn parse(python: &Path, file: &Path) -> Vec<Value> {
    let out = run_python(python, PARSE, [file]);
    serde_json::from_slice::<Value>(&out)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

pub fn build_router(out: &Path) -> PathBuf {
    let profile = root().join("examples/regional-bank/branch-router-shinjuku.toml");
    let r = run(&[
        "build",
        profile.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    out.join("branch-router-shinjuku/network/branch-router-shinjuku.cfg")
}

fn find<'a>(objs: &'a [Value], text: &str) -> &'a Value {
    objs.iter()
        .find(|o| o["text"] == text)
        .unwrap_or_else(|| panic!("no `{text}` in the configuration"))
}

fn children(obj: &Value) -> Vec<&str> {
    obj["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["text"].as_str().unwrap())
        .collect()
}

fn line_of(obj: &Value, child: &str) -> u64 {
    obj["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["text"] == child)
        .unwrap_or_else(|| panic!("no `{child}` under `{}`", obj["text"]))["line"]
        .as_u64()
        .unwrap()
}

#[test]
fn the_router_configuration_parses_and_carries_its_flows_and_management_lines() {
    let tmp = TempDir::new("network-ios");
    let file = build_router(&tmp.path().join("dist"));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("configure replace flash:"), "{text}");
    assert!(text.contains("configure confirm"), "{text}");
    assert!(!text.contains('\r'), "LF line endings");
    for secret in [
        " secret ",
        " password ",
        "snmp-server user",
        "snmp-server community ",
    ] {
        assert!(
            !text
                .lines()
                .any(|l| !l.starts_with('!') && l.contains(secret)),
            "a secret line `{secret}` was written"
        );
    }
    let Some(python) = ciscoconfparse2() else {
        return;
    };
    let objs = parse(&python, &file);
    // The ATM access lists: exactly the terminals' flows from 10.50.1.0/24, in order (the
    // Shinjuku ATMs forward their events to the event collector, 10.10.3.6 port 5986).
    let atm_in = find(&objs, "ip access-list extended ATM-IN");
    assert_eq!(
        children(atm_in),
        [
            "remark ATM networks -> host, distribution, logging and NTP only",
            "permit tcp 10.50.1.0 0.0.0.255 host 10.10.1.10 eq 7000",
            "permit tcp 10.50.1.0 0.0.0.255 host 10.10.1.11 eq 7000",
            "permit tcp 10.50.1.0 0.0.0.255 host 10.10.2.10 eq 443",
            "permit tcp 10.50.1.0 0.0.0.255 host 10.10.2.11 eq 443",
            "permit tcp 10.50.1.0 0.0.0.255 host 10.10.3.6 eq 5986",
            "permit udp 10.50.1.0 0.0.0.255 host 10.10.3.1 eq ntp",
            "deny ip any any log",
        ]
    );
    let atm_out = find(&objs, "ip access-list extended ATM-OUT");
    assert_eq!(
        children(atm_out),
        [
            "remark replies of the permitted ATM flows only",
            "permit tcp host 10.10.1.10 eq 7000 10.50.1.0 0.0.0.255 established",
            "permit tcp host 10.10.1.11 eq 7000 10.50.1.0 0.0.0.255 established",
            "permit tcp host 10.10.2.10 eq 443 10.50.1.0 0.0.0.255 established",
            "permit tcp host 10.10.2.11 eq 443 10.50.1.0 0.0.0.255 established",
            "permit tcp host 10.10.3.6 eq 5986 10.50.1.0 0.0.0.255 established",
            "permit udp host 10.10.3.1 eq ntp 10.50.1.0 0.0.0.255",
            "deny ip any any log",
        ]
    );
    // The management list permits only the jump hosts.
    let mgmt = find(&objs, "ip access-list standard MGMT-ONLY");
    assert_eq!(
        children(mgmt),
        [
            "permit 10.10.2.10 0.0.0.0",
            "permit 10.10.2.11 0.0.0.0",
            "deny any log"
        ]
    );
    let vty = find(&objs, "line vty 0 15");
    for line in [
        "transport input ssh",
        "access-class MGMT-ONLY in",
        "exec-timeout 10 0",
    ] {
        line_of(vty, line);
    }
    line_of(find(&objs, "line con 0"), "exec-timeout 5 0");
    let svi = find(&objs, "interface Vlan50");
    line_of(svi, "ip access-group ATM-IN in");
    line_of(svi, "ip access-group ATM-OUT out");
    for port in ["GigabitEthernet0/1/0", "GigabitEthernet0/1/1"] {
        let port = find(&objs, &format!("interface {port}"));
        line_of(port, "switchport port-security violation shutdown");
        line_of(port, "switchport access vlan 50");
    }
    let parked = find(&objs, "interface GigabitEthernet0/1/2");
    assert_eq!(children(parked), ["switchport access vlan 999", "shutdown"]);
    let log_config = find(&objs, "archive")["children"][0].clone();
    assert_eq!(log_config["text"], "log config");
    assert_eq!(
        children(&log_config),
        [
            "logging enable",
            "notify syslog contenttype plaintext",
            "hidekeys"
        ]
    );
    for global in [
        "ip ssh version 2",
        "no ip http server",
        "no ip http secure-server",
        "no cdp run",
        "no service pad",
        "no ip source-route",
        "logging host 10.10.3.5",
        "aaa new-model",
        "login block-for 120 attempts 5 within 60",
        "snmp-server group NETOPS v3 priv access SNMP-MGR",
        "end",
    ] {
        find(&objs, global);
    }
    assert!(
        !objs.iter().any(|o| o["text"] == "ip http server"),
        "the http server is only ever removed"
    );
}

/// Entered one by one, the lines never cut the management session: the management list and
/// SSH version 2 come before the VTY lines that need them, every list before it is applied.
#[test]
fn the_router_configuration_is_safe_to_enter_line_by_line() {
    let Some(python) = ciscoconfparse2() else {
        return;
    };
    let tmp = TempDir::new("network-ios-order");
    let file = build_router(&tmp.path().join("dist"));
    let objs = parse(&python, &file);
    let at = |text: &str| find(&objs, text)["line"].as_u64().unwrap();
    let vty = find(&objs, "line vty 0 15");
    let access_class = line_of(vty, "access-class MGMT-ONLY in");
    let ssh_only = line_of(vty, "transport input ssh");
    let mgmt_end = find(&objs, "ip access-list standard MGMT-ONLY")["children"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["line"]
        .as_u64()
        .unwrap();
    assert!(
        mgmt_end < access_class,
        "the management list is complete before access-class"
    );
    assert!(
        at("ip ssh version 2") < ssh_only,
        "SSH version 2 before transport input ssh"
    );
    assert!(at("ip ssh version 2") < access_class);
    // The management list is the first list; every list precedes every access-group.
    let lists: Vec<u64> = objs
        .iter()
        .filter(|o| o["text"].as_str().unwrap().starts_with("ip access-list "))
        .map(|o| o["line"].as_u64().unwrap())
        .collect();
    assert_eq!(
        lists.first(),
        Some(&at("ip access-list standard MGMT-ONLY"))
    );
    let svi = find(&objs, "interface Vlan50");
    let applied = line_of(svi, "ip access-group ATM-IN in");
    assert!(lists.iter().all(|l| *l < applied));
    // The VTY lines are the last section.
    let last_section = objs
        .iter()
        .rfind(|o| !o["children"].as_array().unwrap().is_empty())
        .unwrap();
    assert_eq!(last_section["text"], "line vty 0 15");
}

#[test]
fn two_builds_of_the_router_are_byte_identical() {
    let tmp = TempDir::new("network-ios-twice");
    let first = std::fs::read(build_router(&tmp.path().join("one"))).unwrap();
    let second = std::fs::read(build_router(&tmp.path().join("two"))).unwrap();
    assert!(!first.is_empty());
    assert_eq!(first, second);
}

/// A profile extending the example router with `params`, checked with `--baselines extra`.
fn check_router(dir: &Path, params: &str, extra: Option<&str>) -> crate::util::Run {
    let router = root().join("examples/regional-bank/branch-router-shinjuku.toml");
    let text = format!(
        "[profile]\nname = \"hostile-router\"\nrole = \"network-device\"\nplatform = \"cisco-ios\"\nextends = [{:?}]\n\n[params]\n{params}",
        router.display().to_string()
    );
    std::fs::write(dir.join("hostile.toml"), text).unwrap();
    let mut args = vec!["check".to_string(), "hostile.toml".to_string()];
    if let Some(control) = extra {
        std::fs::create_dir_all(dir.join("extra")).unwrap();
        std::fs::write(dir.join("extra/banner.toml"), control).unwrap();
        args.extend(["--baselines".to_string(), "extra".to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    crate::util::run_in(dir, &args)
}

/// A control (for `--baselines`) whose login banner comes from a profile parameter.
const BANNER_CONTROL: &str = r#"
[[control]]
id = "OPS-NET-900"
category = "operations"
tier = "easy"
roles = ["network-device"]
platforms = ["network"]
attack_steps = ["LM"]
title = { en = "Login banner", ja = "ログインバナー" }
criterion = { en = "The login banner is set.", ja = "ログインバナーが設定されていること。" }
references = { attack = [], cis = [], pci_atm = [], fisc = [] }

[control.params.login_banner]
type = "string"
default = "Authorised access only"
description = "Text of the login banner"

[[control.setting]]
platform = "network"
kind = "ios_global"
lines = ["banner login #${login_banner}#"]
"#;

#[test]
fn hostile_strings_are_refused_at_check_with_their_line() {
    let tmp = TempDir::new("network-ios-hostile");
    let cases: [(&str, Option<&str>, &str); 6] = [
        (
            "atm_port_description = \"! ATM port\"\n",
            None,
            "the description in `description ! ATM port` starts with `!`",
        ),
        (
            "atm_port_description = \"ATM\\nhostname evil\"\n",
            None,
            "control character U+000A",
        ),
        (
            "atm_port_description = \"ATM port?\"\n",
            None,
            "contains `?`",
        ),
        (
            "atm_interfaces = [\"Vlan50 in\\r\"]\n",
            None,
            "control character U+000D",
        ),
        (
            "login_banner = \"Authorised # only\"\n",
            Some(BANNER_CONTROL),
            "contains its delimiter `#`",
        ),
        (
            "login_banner = \"!Authorised only\"\n",
            Some(BANNER_CONTROL),
            "starts with `!`",
        ),
    ];
    for (params, extra, message) in cases {
        let r = check_router(tmp.path(), params, extra);
        assert_eq!(r.status, 2, "{params}: {}", r.stderr);
        assert!(r.stderr.contains(message), "{params}: {}", r.stderr);
        // Pointed at the profile line (line 8, the first parameter), value column.
        assert!(
            r.stderr.contains("--> hostile.toml:8:"),
            "{params}: {}",
            r.stderr
        );
        let _ = std::fs::remove_dir_all(tmp.path().join("extra"));
    }
    // The banner control itself is fine with its default.
    let r = check_router(tmp.path(), "", Some(BANNER_CONTROL));
    assert_eq!(r.status, 0, "{}", r.stderr);
}

/// A catalog line that would write a secret is refused when the catalog loads.
#[test]
fn a_secret_never_reaches_a_configuration_line() {
    let tmp = TempDir::new("network-ios-secret");
    let control = BANNER_CONTROL.replace(
        "banner login #${login_banner}#",
        "username brk privilege 15 algorithm-type scrypt secret ${login_banner}",
    );
    let r = check_router(tmp.path(), "", Some(&control));
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(r.stderr.contains("carries a secret"), "{}", r.stderr);
    assert!(r.stderr.contains("banner.toml:"), "{}", r.stderr);
}

/// The branch router permits what the ATMs behind it send: every outbound flow of the Shinjuku
/// ATM's profile (destination, protocol, port) has a permit line in the router's ATM-IN list.
#[test]
fn the_router_permits_every_flow_of_the_atms_behind_it() {
    let check = crate::util::run(&[
        "check",
        "examples/regional-bank/branch-atm-shinjuku.toml",
        "examples/regional-bank/branch-router-shinjuku.toml",
        "--format",
        "json",
    ]);
    assert_eq!(check.status, 0, "{}", check.stderr);
    let json: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
    let atm = json["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "branch-atm-shinjuku")
        .unwrap();
    let tmp = crate::util::TempDir::new("router-vs-atm");
    let out = tmp.path().join("dist");
    let r = crate::util::run(&[
        "build",
        "examples/regional-bank/branch-router-shinjuku.toml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let cfg = std::fs::read_to_string(
        out.join("branch-router-shinjuku/network/branch-router-shinjuku.cfg"),
    )
    .unwrap();
    let permits: Vec<&str> = cfg
        .lines()
        .skip_while(|l| *l != "ip access-list extended ATM-IN")
        .take_while(|l| !l.starts_with('!'))
        .filter(|l| l.trim_start().starts_with("permit "))
        .collect();
    let mut checked = 0;
    for flow in atm["flows"].as_array().unwrap() {
        if flow["direction"] != "outbound" {
            continue;
        }
        let proto = flow["protocol"].as_str().unwrap().to_ascii_lowercase();
        for peer in flow["peers"].as_array().unwrap() {
            for port in flow["ports"].as_array().unwrap() {
                let port = port.as_u64().unwrap();
                let port_word = if proto == "udp" && port == 123 {
                    "ntp".to_string()
                } else {
                    port.to_string()
                };
                let want = format!(
                    "permit {proto} 10.50.1.0 0.0.0.255 host {} eq {port_word}",
                    peer.as_str().unwrap()
                );
                assert!(
                    permits.iter().any(|l| l.trim() == want),
                    "the router drops the ATM's flow {}: no `{want}` in\n{}",
                    flow["id"],
                    permits.join("\n")
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 6, "{checked} ATM flows checked");
}

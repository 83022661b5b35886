//! The nftables ruleset of Linux profiles, checked by the real `nft`: every example's ruleset
//! passes `nft -c -f`; the kiosk's ruleset, loaded in a network namespace, lets every declared
//! flow through and drops the rest; purposes an nft comment cannot carry are refused by
//! `hardbase check` at their catalog line.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use hardbase::catalog::flow::FlowDirection;
use hardbase::catalog::setting::{Protocol, SettingKind};
use hardbase::catalog::taxonomy::Family;
use hardbase::model::DesiredState;
use hardbase::target::linux::nftables;

use crate::util::{
    in_ci, is_root, python_with, require_tool, resolve_profile, root, run_in, TempDir,
};

/// The Linux example profiles, resolved.
fn linux_examples() -> Vec<(PathBuf, DesiredState)> {
    let dir = root().join("examples/regional-bank");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            text.contains("role =") && text.contains("platform =")
        })
        .collect();
    paths.sort();
    let out: Vec<(PathBuf, DesiredState)> = paths
        .into_iter()
        .map(|p| {
            let state = resolve_profile(&p).unwrap_or_else(|| panic!("{} resolves", p.display()));
            (p, state)
        })
        .filter(|(_, s)| s.profile.platform.family == Family::Linux)
        .collect();
    assert!(out.len() >= 2, "the kiosk and the relay are Linux examples");
    out
}

fn ruleset_text(state: &DesiredState) -> String {
    let files = nftables::files(state).unwrap();
    assert_eq!(
        files.len(),
        2,
        "{}: the ruleset and its include at boot",
        state.profile.name
    );
    assert_eq!(files[0].tree_path, nftables::TREE_PATH);
    assert_eq!(files[0].target, nftables::TARGET);
    // The distribution's boot-time file includes the table (a managed block appended to it).
    let boot = if state.profile.platform.id == "rhel-9" {
        "/etc/sysconfig/nftables.conf"
    } else {
        "/etc/nftables.conf"
    };
    assert_eq!(files[1].target, boot);
    assert!(files[1].tree_path.starts_with("blocks/"));
    assert_eq!(
        String::from_utf8(files[1].bytes.clone()).unwrap(),
        format!("{}\n", nftables::INCLUDE_LINE)
    );
    String::from_utf8(files[0].bytes.clone()).unwrap()
}

fn assert_ok(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn nft_check_accepts_every_linux_example() {
    let Some(nft) = require_tool("nft") else {
        return;
    };
    let dir = TempDir::new("nft-check");
    for (path, state) in linux_examples() {
        let text = ruleset_text(&state);
        let file = dir.path().join(format!("{}.nft", state.profile.name));
        std::fs::write(&file, &text).unwrap();
        // `nft -c` needs CAP_NET_ADMIN; unprivileged, a user and network namespace gives it.
        let out = if is_root() {
            Command::new(&nft).arg("-c").arg("-f").arg(&file).output()
        } else {
            Command::new("unshare")
                .arg("-rn")
                .arg(&nft)
                .arg("-c")
                .arg("-f")
                .arg(&file)
                .output()
        }
        .unwrap();
        assert_ok(&format!("nft -c -f for {}", path.display()), &out);
    }
}

#[test]
fn ruleset_replaces_only_its_own_table() {
    for (path, state) in linux_examples() {
        let text = ruleset_text(&state);
        assert!(
            !text.contains("flush ruleset") && !text.contains("flush"),
            "{}",
            path.display()
        );
        let head: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("table") || l.starts_with("delete"))
            .collect();
        assert_eq!(
            head,
            [
                "table inet hardbase {}",
                "delete table inet hardbase",
                "table inet hardbase {"
            ],
            "{}",
            path.display()
        );
        assert_eq!(text, ruleset_text(&state), "deterministic");
    }
}

#[test]
fn kiosk_ruleset_has_the_expected_rules() {
    let state = resolve_profile(&root().join("examples/regional-bank/lobby-kiosk.toml")).unwrap();
    let text = ruleset_text(&state);
    for line in [
        "type filter hook input priority filter; policy drop;",
        "type filter hook output priority filter; policy drop;",
        "type filter hook forward priority filter; policy drop;",
        "iif \"lo\" counter accept comment \"loopback\"",
        "oif \"lo\" counter accept comment \"loopback\"",
        "ct state invalid counter drop",
        "ct state established,related counter accept",
        "elements = { 10.10.2.10, 10.10.2.11 }",
        "ip saddr @mgmt_ssh_in_v4 tcp dport 22 counter accept comment \"SSH administration from the jump hosts only\"",
        "ip daddr @kiosk_host_out_v4 tcp dport 7000 counter accept",
        "ip daddr @kiosk_ntp_out_v4 udp dport 123 counter accept",
        "limit rate 5/minute log prefix \"hardbase-drop-in: \" level info",
        "limit rate 5/minute log prefix \"hardbase-drop-out: \" level info",
        "counter name \"output_policy\"",
    ] {
        assert!(text.contains(line), "missing `{line}` in\n{text}");
    }
    let windows = resolve_profile(&root().join("examples/regional-bank/relay-windows.toml"));
    if let Some(windows) = windows {
        assert!(nftables::files(&windows).unwrap().is_empty());
    }
}

// ------------------------------------------------------------------------ hostile purposes

const HOSTILE_CONTROL: &str = r#"[[control]]
id = "TST-NFT-001"
category = "communication"
tier = "easy"
roles = ["kiosk-terminal"]
platforms = ["linux"]
attack_steps = ["NW"]
title = { en = "test rule", ja = "test rule" }
criterion = { en = "test rule", ja = "test rule" }

[[control.setting]]
platform = "linux"
kind = "nft_rule"
name = "extra-out"
chain = "output"
protocol = "tcp"
ports = [8443]
addresses = ["10.10.3.9"]
purpose = PURPOSE
"#;

fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn check_with_purpose(dir: &Path, purpose: &str) -> crate::util::Run {
    let catalog = dir.join("catalog");
    std::fs::create_dir_all(&catalog).unwrap();
    let text = HOSTILE_CONTROL.replace("PURPOSE", &toml_string(purpose));
    std::fs::write(catalog.join("hostile.toml"), text).unwrap();
    let profile = root().join("examples/regional-bank/lobby-kiosk.toml");
    run_in(
        dir,
        &[
            "check",
            "--baselines",
            catalog.to_str().unwrap(),
            profile.to_str().unwrap(),
        ],
    )
}

#[test]
fn hostile_purposes_are_refused_at_their_line() {
    let dir = TempDir::new("nft-hostile");
    let clean = check_with_purpose(dir.path(), "Backup transfer to the archive server");
    assert_eq!(clean.status, 0, "{}", clean.stderr);
    // The setting's table and its purpose line: the report points into that range.
    let line_of = |prefix: &str| {
        HOSTILE_CONTROL
            .lines()
            .position(|l| l.starts_with(prefix))
            .unwrap()
            + 1
    };
    let lines = line_of("[[control.setting]]")..=line_of("purpose =");
    let long = "x".repeat(129);
    for purpose in [
        "say \"hi\"",
        "two\nlines",
        "run $(reboot)",
        "run `reboot`",
        "a; flush ruleset",
        "close } table",
        "bell \u{7}",
        long.as_str(),
    ] {
        let result = check_with_purpose(dir.path(), purpose);
        assert_eq!(result.status, 2, "{purpose:?} accepted:\n{}", result.stderr);
        // A control character is already refused by the catalog; the rest by nftables::check.
        if !purpose.contains(char::is_control) {
            assert!(
                result.stderr.contains("nftables rule purpose"),
                "{purpose:?}:\n{}",
                result.stderr
            );
        }
        let line: usize = result
            .stderr
            .split("hostile.toml:")
            .nth(1)
            .and_then(|rest| rest.split(':').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{purpose:?} has no hostile.toml:LINE:\n{}", result.stderr));
        assert!(
            lines.contains(&line),
            "{purpose:?} reported at line {line}, not in {lines:?}:\n{}",
            result.stderr
        );
    }
}

#[test]
fn check_refuses_what_nft_cannot_carry() {
    let rule = |name: &str, protocol: Protocol, ports: Vec<u16>, addresses: &[&str]| {
        SettingKind::NftRule(hardbase::catalog::setting::NftRule {
            name: name.into(),
            chain: hardbase::catalog::setting::Chain::Output,
            protocol,
            ports,
            addresses: addresses.iter().map(|a| a.to_string()).collect(),
            purpose: "fine".into(),
        })
    };
    assert!(nftables::check(&rule(
        "mgmt-ssh-in",
        Protocol::Tcp,
        vec![22],
        &["10.0.0.0/8"]
    ))
    .is_ok());
    assert!(nftables::check(&rule("v6-ok", Protocol::Icmpv6, vec![], &["2001:db8::/32"])).is_ok());
    for bad in [
        rule("9lives", Protocol::Tcp, vec![22], &[]),
        rule("a.b", Protocol::Tcp, vec![22], &[]),
        rule("port-zero", Protocol::Udp, vec![0], &[]),
        rule("icmp-ports", Protocol::Icmpv4, vec![7], &[]),
        rule("icmp-family", Protocol::Icmpv4, vec![], &["2001:db8::1"]),
        rule(
            "not-an-address",
            Protocol::Tcp,
            vec![1],
            &["10.0.0.1; drop"],
        ),
    ] {
        assert!(nftables::check(&bad).is_err(), "{bad:?}");
    }
}

// ------------------------------------------------------------------- network namespaces

/// The network of the namespace test: the kiosk is `.1`, every peer lives in the other
/// namespace; nothing outside the two namespaces is ever addressed.
const NET: &str = "10.231.0";
const KIOSK: &str = "10.231.0.1";
const JUMP_HOST: &str = "10.231.0.2";
const HOST: &str = "10.231.0.3";
const LOG_COLLECTOR: &str = "10.231.0.4";
const NTP_SERVER: &str = "10.231.0.5";
const STRANGER: &str = "10.231.0.6";
/// A port on the host address that the profile does not allow.
const BLOCKED_PORT: u16 = 7001;

/// Serves TCP and UDP on `proto:addr:port` arguments, answering `ok`, for at most 20 s.
const LISTENER: &str = r#"
import selectors, socket, sys, time
sel = selectors.DefaultSelector()
for spec in sys.argv[1:]:
    proto, addr, port = spec.split(":")
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    if proto == "tcp":
        s.listen(16)
    sel.register(s, selectors.EVENT_READ, proto)
print("ready", flush=True)
deadline = time.time() + 20
while time.time() < deadline:
    for key, _ in sel.select(timeout=0.5):
        s = key.fileobj
        if key.data == "tcp":
            c, _ = s.accept()
            c.sendall(b"ok\n")
            c.close()
        else:
            _, peer = s.recvfrom(512)
            s.sendto(b"ok\n", peer)
"#;

/// `proto src dst port`: exits 0 when the peer answers, 3 on a timeout, 4 when refused.
const CLIENT: &str = r#"
import socket, sys
proto, src, dst, port = sys.argv[1:5]
kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET, kind)
s.settimeout(1.5)
if src != "-":
    s.bind((src, 0))
try:
    if proto == "tcp":
        s.connect((dst, int(port)))
    else:
        s.sendto(b"hello", (dst, int(port)))
    data = s.recv(16)
    sys.exit(0 if data.startswith(b"ok") else 5)
except socket.timeout:
    sys.exit(3)
except OSError as e:
    print(e, file=sys.stderr)
    sys.exit(4)
"#;

/// Two namespaces and the listeners started in them; all removed when dropped.
struct Namespaces {
    ip: PathBuf,
    names: Vec<String>,
    listeners: Vec<Child>,
}

impl Namespaces {
    fn ip(&self, args: &[&str]) {
        let out = Command::new(&self.ip).args(args).output().unwrap();
        assert_ok(&format!("ip {}", args.join(" ")), &out);
    }

    fn exec(&self, ns: &str, program: &Path, args: &[&str]) -> Output {
        Command::new(&self.ip)
            .args(["netns", "exec", ns])
            .arg(program)
            .args(args)
            .output()
            .unwrap()
    }

    /// Starts the listener in `ns` and waits (at most 3 s) until it has bound every socket.
    fn listen(&mut self, ns: &str, python: &Path, specs: &[String]) {
        let mut child = Command::new(&self.ip)
            .args(["netns", "exec", ns])
            .arg(python)
            .arg("-c")
            .arg(LISTENER)
            .args(specs)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        self.listeners.push(child);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(3)).unwrap_or_default();
        assert_eq!(line.trim(), "ready", "listener in {ns} for {specs:?}");
    }

    /// The exit code of one probe: 0 answered, 3 timed out, 4 refused.
    fn probe(&self, ns: &str, python: &Path, proto: &str, src: &str, dst: &str, port: u16) -> i32 {
        let out = self.exec(
            ns,
            python,
            &["-c", CLIENT, proto, src, dst, &port.to_string()],
        );
        out.status.code().unwrap_or(-1)
    }

    fn counter(&self, ns: &str, nft: &Path, name: &str) -> u64 {
        let out = self.exec(ns, nft, &["list", "counter", "inet", "hardbase", name]);
        assert_ok("nft list counter", &out);
        let text = String::from_utf8_lossy(&out.stdout);
        text.split("packets ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no packet count in {text}"))
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for child in &mut self.listeners {
            let _ = child.kill();
            let _ = child.wait();
        }
        for name in &self.names {
            let _ = Command::new(&self.ip).args(["netns", "del", name]).output();
        }
    }
}

/// A kiosk profile whose every peer is an address of the test's own peer namespace.
fn netns_profile(dir: &Path) -> PathBuf {
    let base = root().join("examples/regional-bank/lobby-kiosk.toml");
    let text = format!(
        r#"[profile]
name = "netns-kiosk"
extends = [{base}]

[params]
host_addresses = ["{HOST}"]
log_collector = "{LOG_COLLECTOR}"
ntp_server = "{NTP_SERVER}"
management_hosts = ["{JUMP_HOST}"]
log_sources = ["{NET}.0/24"]
atm_networks = ["{NET}.0/24"]
distribution_clients = ["{NET}.0/24"]
"#,
        base = toml_string(base.to_str().unwrap())
    );
    let path = dir.join("netns-kiosk.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn kiosk_ruleset_in_a_network_namespace() {
    let (Some(ip), Some(nft)) = (require_tool("ip"), require_tool("nft")) else {
        return;
    };
    let Some(python) = python_with(&["selectors", "socket"]) else {
        return;
    };
    if !is_root() {
        assert!(!in_ci(), "CI runs as root; the namespace test needs root");
        eprintln!("SKIPPED: the network-namespace test needs root");
        return;
    }
    let dir = TempDir::new("nft-netns");
    let state = resolve_profile(&netns_profile(dir.path())).expect("the test profile resolves");
    // Only the namespaces' own addresses may ever be contacted.
    for s in state.settings() {
        if let SettingKind::NftRule(r) = &s.kind {
            for a in &r.addresses {
                assert!(
                    a.starts_with(&format!("{NET}.")),
                    "rule {} names {a}",
                    r.name
                );
            }
        }
    }
    let ruleset = dir.path().join("hardbase.nft");
    std::fs::write(&ruleset, ruleset_text(&state)).unwrap();

    let pid = std::process::id();
    let kiosk = format!("hbkiosk{pid}");
    let peer = format!("hbpeer{pid}");
    let mut ns = Namespaces {
        ip: ip.clone(),
        names: Vec::new(),
        listeners: Vec::new(),
    };
    for name in [&kiosk, &peer] {
        ns.ip(&["netns", "add", name]);
        ns.names.push(name.clone());
    }
    let (veth_k, veth_p) = (format!("hbk{pid}"), format!("hbp{pid}"));
    ns.ip(&[
        "link", "add", &veth_k, "type", "veth", "peer", "name", &veth_p,
    ]);
    ns.ip(&["link", "set", &veth_k, "netns", &kiosk]);
    ns.ip(&["link", "set", &veth_p, "netns", &peer]);
    ns.ip(&[
        "-n",
        &kiosk,
        "addr",
        "add",
        &format!("{KIOSK}/24"),
        "dev",
        &veth_k,
    ]);
    for a in [JUMP_HOST, HOST, LOG_COLLECTOR, NTP_SERVER, STRANGER] {
        ns.ip(&[
            "-n",
            &peer,
            "addr",
            "add",
            &format!("{a}/24"),
            "dev",
            &veth_p,
        ]);
    }
    for (name, veth) in [(&kiosk, &veth_k), (&peer, &veth_p)] {
        ns.ip(&["-n", name, "link", "set", "lo", "up"]);
        ns.ip(&["-n", name, "link", "set", veth, "up"]);
    }

    // Listeners: every outbound flow's peer and port, one port the profile does not allow,
    // and the kiosk's own inbound ports.
    let mut peer_specs = vec![format!("tcp:{HOST}:{BLOCKED_PORT}")];
    let mut kiosk_specs = Vec::new();
    let mut allowed = Vec::new();
    for flow in &state.flows {
        let proto = match flow.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            other => panic!("flow {} uses {other:?}; extend the probe", flow.id),
        };
        assert!(
            !flow.peers.is_empty() && !flow.ports.is_empty(),
            "{}",
            flow.id
        );
        for p in &flow.peers {
            assert!(
                p.starts_with(&format!("{NET}.")),
                "flow {} peer {p}",
                flow.id
            );
            for port in &flow.ports {
                match flow.direction {
                    FlowDirection::Outbound => peer_specs.push(format!("{proto}:{p}:{port}")),
                    FlowDirection::Inbound => kiosk_specs.push(format!("{proto}:{KIOSK}:{port}")),
                }
                allowed.push((flow.id.clone(), flow.direction, proto, p.clone(), *port));
            }
        }
    }
    peer_specs.sort();
    peer_specs.dedup();
    kiosk_specs.sort();
    kiosk_specs.dedup();
    ns.listen(&peer, &python, &peer_specs);
    ns.listen(&kiosk, &python, &kiosk_specs);
    let ssh_port = state
        .flows
        .iter()
        .find(|f| f.id == "management-ssh")
        .expect("the kiosk declares management SSH")
        .ports[0];

    // Control probes before the ruleset: the blocked port and the stranger do connect.
    assert_eq!(ns.probe(&kiosk, &python, "tcp", "-", HOST, BLOCKED_PORT), 0);
    assert_eq!(
        ns.probe(&peer, &python, "tcp", STRANGER, KIOSK, ssh_port),
        0
    );

    // Another table survives, and a second load changes nothing.
    let keep = ns.exec(&kiosk, &nft, &["add", "table", "inet", "keepme"]);
    assert_ok("nft add table", &keep);
    let ruleset_arg = ruleset.to_str().unwrap();
    let first = ns.exec(&kiosk, &nft, &["-f", ruleset_arg]);
    assert_ok("first nft -f", &first);
    // Stateless listings: counters move with background traffic (IPv6 neighbour discovery on
    // the veth pair), the rules themselves must not.
    let listed_once = ns.exec(&kiosk, &nft, &["-s", "list", "ruleset"]);
    let second = ns.exec(&kiosk, &nft, &["-f", ruleset_arg]);
    assert_ok("second nft -f", &second);
    let listed_twice = ns.exec(&kiosk, &nft, &["-s", "list", "ruleset"]);
    assert_eq!(
        listed_once.stdout, listed_twice.stdout,
        "the second load changes nothing"
    );
    let listed = String::from_utf8_lossy(&listed_twice.stdout).into_owned();
    assert!(listed.contains("table inet keepme"), "{listed}");

    // Every allowed flow connects.
    for (id, direction, proto, p, port) in &allowed {
        let code = match direction {
            FlowDirection::Outbound => ns.probe(&kiosk, &python, proto, "-", p, *port),
            FlowDirection::Inbound => ns.probe(&peer, &python, proto, p, KIOSK, *port),
        };
        assert_eq!(
            code, 0,
            "allowed flow {id} ({proto} {p}:{port}) did not connect"
        );
        eprintln!("allowed: {id} {proto} {p} port {port} connected");
    }

    // A port the profile does not allow times out, and the output policy counted it.
    let out_before = ns.counter(&kiosk, &nft, "output_policy");
    let code = ns.probe(&kiosk, &python, "tcp", "-", HOST, BLOCKED_PORT);
    let out_after = ns.counter(&kiosk, &nft, "output_policy");
    assert_eq!(code, 3, "tcp {HOST}:{BLOCKED_PORT} was not dropped");
    assert!(
        out_after > out_before,
        "output_policy {out_before} -> {out_after}"
    );
    eprintln!("dropped: tcp {HOST}:{BLOCKED_PORT}, output_policy {out_before} -> {out_after}");

    // SSH: allowed from the jump host, dropped from another address.
    assert_eq!(
        ns.probe(&peer, &python, "tcp", JUMP_HOST, KIOSK, ssh_port),
        0
    );
    let in_before = ns.counter(&kiosk, &nft, "input_policy");
    let code = ns.probe(&peer, &python, "tcp", STRANGER, KIOSK, ssh_port);
    let in_after = ns.counter(&kiosk, &nft, "input_policy");
    assert_eq!(code, 3, "SSH from {STRANGER} was not dropped");
    assert!(
        in_after > in_before,
        "input_policy {in_before} -> {in_after}"
    );
    eprintln!("dropped: SSH from {STRANGER}, input_policy {in_before} -> {in_after}");

    let listed = ns.exec(&kiosk, &nft, &["list", "table", "inet", "hardbase"]);
    eprintln!("{}", String::from_utf8_lossy(&listed.stdout));
}

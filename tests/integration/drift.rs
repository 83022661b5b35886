//! Drift: the kiosk profile resolved in-process and compared with hand-built machine states,
//! the reports it gives (text with hostile snapshot values, JSON), and `hardbase diff` end to end
//! on a snapshot folder in the collector's format.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use hardbase::catalog::setting::{Chain, ChainPolicy, Protocol, RegData, SettingKind, UnitState};
use hardbase::catalog::Catalog;
use hardbase::diag::Diagnostics;
use hardbase::drift::{self, audit_rule_canonical, DriftReport, Status};
use hardbase::live::{FileFact, Listener, LiveState, NftChain, NftRule, NftState};
use hardbase::load::document::Date;
use hardbase::model::DesiredState;
use hardbase::resolve::{self, Options};
use hardbase::source::SourceMap;

use crate::util::{self, TempDir};

pub(crate) fn kiosk_path() -> PathBuf {
    util::root().join("examples/regional-bank/lobby-kiosk.toml")
}

/// Resolves a profile as `hardbase diff` does (an expired waiver is a finding), with the
/// built-in catalog or a test catalog folder.
pub(crate) fn resolve_audit(path: &Path, catalog_dir: Option<&Path>) -> (DesiredState, SourceMap) {
    let mut sources = SourceMap::new();
    let mut diags = Diagnostics::new();
    let dirs: Vec<&Path> = catalog_dir.into_iter().collect();
    let catalog = Catalog::load(&mut sources, catalog_dir.is_none(), &dirs, &mut diags);
    let options = Options {
        at: Date::parse("2026-11-27").unwrap(),
        expired_waivers_are_findings: true,
    };
    let state = resolve::resolve(path, &catalog, &mut sources, &options, &mut diags);
    assert!(!diags.has_errors(), "the profile resolves for an audit");
    (state.expect("a resolved profile"), sources)
}

/// `-a … -k KEY` as `auditctl -l` prints it: `-F key=KEY`, `auid!=-1`, the syscall list in
/// another order; watched directories without their trailing `/`.
fn as_auditctl_prints(rule: &str) -> String {
    if rule.starts_with("-w") {
        return rule.replacen("/ -p", " -p", 1);
    }
    let mut words: Vec<String> = Vec::new();
    let mut it = rule.split_whitespace();
    while let Some(w) = it.next() {
        match w {
            "-k" => words.push(format!("-F key={}", it.next().unwrap())),
            "-S" => {
                let mut calls: Vec<&str> = it.next().unwrap().split(',').collect();
                calls.reverse();
                words.push(format!("-S {}", calls.join(",")));
            }
            other => words.push(other.replace("auid!=unset", "auid!=-1")),
        }
    }
    words.join(" ")
}

fn chain_name(c: Chain) -> &'static str {
    match c {
        Chain::Input => "input",
        Chain::Output => "output",
        Chain::Forward => "forward",
    }
}

/// A machine on which every setting of `state` holds, as the collector would describe it.
pub(crate) fn compliant_live(state: &DesiredState) -> LiveState<'static> {
    let mut live = LiveState::default();
    live.info.host = "kiosk-umeda-01".into();
    live.info.family = "linux".into();
    live.info.collected_at = "2026-11-27T09:00:00+09:00".into();
    live.info.collector = "hardbase-collect".into();
    let l = &mut live.linux;
    let mut sysctl = BTreeMap::from([("kernel.hostname".to_string(), "kiosk".to_string())]);
    let mut units = BTreeMap::from([("ssh.service".to_string(), "enabled".to_string())]);
    let mut sshd = BTreeMap::from([("port".to_string(), vec!["22".to_string()])]);
    let mut disabled = BTreeSet::new();
    let mut files = BTreeMap::new();
    let mut audit = Vec::new();
    let mut usb = Vec::new();
    let mut nft = NftState {
        tables: vec![("inet".into(), "hardbase".into())],
        ..NftState::default()
    };
    for (comment, protocol) in [
        ("loopback", None),
        ("replies to allowed connections", None),
        ("IPv6 neighbour discovery", Some("ipv6-icmp")),
    ] {
        nft.rules.push(NftRule {
            family: "inet".into(),
            table: "hardbase".into(),
            chain: "input".into(),
            verdict: Some("accept".into()),
            protocol: protocol.map(str::to_string),
            comment: Some(comment.into()),
            ..NftRule::default()
        });
    }
    let mut mounts = BTreeMap::from([("/".to_string(), vec!["rw".to_string()])]);
    let mut login_defs = BTreeMap::from([("UMASK".to_string(), "022".to_string())]);
    for s in state.settings() {
        match &s.kind {
            SettingKind::Sysctl(x) => {
                let v = match &x.value {
                    RegData::Number(n) => n.to_string(),
                    RegData::Text(t) => t.clone(),
                    RegData::List(items) => items.join("\t"),
                };
                sysctl.insert(x.key.replace('/', "."), v);
            }
            SettingKind::KernelModule(m) => {
                disabled.insert(m.module.replace('-', "_"));
            }
            SettingKind::SystemdUnit(u) => {
                let st = match u.state {
                    UnitState::Enabled => "enabled",
                    UnitState::Disabled => "disabled",
                    UnitState::Masked => "masked",
                };
                units.insert(u.unit.clone(), st.to_string());
            }
            SettingKind::PackageAbsent(_) => {}
            SettingKind::File(f) => {
                let mut content = String::from("# vendor default\n");
                for line in &f.lines {
                    content.push_str(line);
                    content.push('\n');
                }
                files.insert(
                    f.path.clone(),
                    FileFact {
                        exists: !f.absent,
                        mode: f.mode.as_ref().map(|m| u32::from_str_radix(m, 8).unwrap()),
                        owner: f.owner.clone(),
                        group: f.group.clone(),
                        content: Some(content),
                    },
                );
            }
            SettingKind::SshdOption(o) => {
                // sshd -T prints keywords lower-case, some values in its own case.
                sshd.insert(
                    o.option.to_ascii_lowercase(),
                    vec![o.value.to_ascii_lowercase()],
                );
            }
            SettingKind::AuditdRule(r) if r.rule == "-e 2" => l.audit_enabled = Some(2),
            SettingKind::AuditdRule(r) => audit.push(as_auditctl_prints(&r.rule)),
            SettingKind::UsbguardRule(r) => {
                if !usb.contains(&r.rule) {
                    usb.push(r.rule.clone());
                }
            }
            SettingKind::NftPolicy(p) => nft.chains.push(NftChain {
                family: "inet".into(),
                table: "hardbase".into(),
                name: chain_name(p.chain).into(),
                hook: Some(chain_name(p.chain).into()),
                policy: Some(
                    match p.policy {
                        ChainPolicy::Drop => "drop",
                        ChainPolicy::Accept => "accept",
                    }
                    .into(),
                ),
            }),
            SettingKind::NftRule(r) => nft.rules.push(NftRule {
                family: "inet".into(),
                table: "hardbase".into(),
                chain: chain_name(r.chain).into(),
                verdict: Some("accept".into()),
                protocol: Some(
                    match r.protocol {
                        Protocol::Tcp => "tcp",
                        Protocol::Udp => "udp",
                        _ => "icmp",
                    }
                    .into(),
                ),
                ports: r.ports.clone(),
                addresses: r.addresses.clone(),
                comment: Some(r.purpose.clone()),
                packets: Some(12),
            }),
            SettingKind::MountOptions(m) => {
                let mut options = vec!["rw".to_string(), "relatime".to_string()];
                options.extend(m.options.iter().cloned());
                mounts.insert(m.mount_point.clone(), options);
            }
            SettingKind::LoginDefs(d) => {
                login_defs.insert(d.key.clone(), d.value.clone());
            }
            other => panic!("the kiosk has no {} settings", other.kind_name()),
        }
    }
    l.sysctl = Some(sysctl);
    l.unit_files = Some(units);
    l.sshd = Some(sshd);
    l.nft = Some(nft);
    l.modules_loaded = Some(BTreeSet::from([
        "ext4".to_string(),
        "nf_tables".to_string(),
    ]));
    l.modules_blacklisted = Some(disabled.clone());
    l.modules_disabled = Some(disabled);
    l.audit_rules = Some(audit);
    l.usbguard_rules = Some(usb);
    l.packages = Some(BTreeSet::from(["bash".into(), "openssh-server".into()]));
    l.files = Some(files);
    l.login_defs = Some(login_defs);
    l.mounts = Some(mounts);
    l.listening = Some(vec![
        Listener {
            protocol: "tcp".into(),
            address: "0.0.0.0".into(),
            port: 22,
            process: Some("sshd".into()),
        },
        Listener {
            protocol: "udp".into(),
            address: "127.0.0.1".into(),
            port: 323,
            process: Some("chronyd".into()),
        },
    ]);
    l.users = Some(BTreeMap::from([("root".into(), 0)]));
    l.groups = Some(BTreeMap::new());
    live
}

fn statuses(report: &DriftReport) -> Vec<(String, String, Status)> {
    report
        .controls
        .iter()
        .flat_map(|c| c.settings.iter())
        .filter(|s| s.status != Status::Compliant)
        .map(|s| (s.control.clone(), s.target.clone(), s.status))
        .collect()
}

#[test]
fn a_machine_set_exactly_is_compliant_except_manual_controls() {
    let (state, sources) = resolve_audit(&kiosk_path(), None);
    let report = drift::diff(&state, &compliant_live(&state));
    assert_eq!(statuses(&report), Vec::new(), "every setting compliant");
    assert!(report.unexpected.is_empty(), "{:?}", report.unexpected);
    for c in &report.controls {
        let manual = state
            .controls
            .iter()
            .any(|s| s.control.id == c.id && s.control.is_manual());
        let want = if manual {
            Status::Manual
        } else {
            Status::Compliant
        };
        assert_eq!(c.status, want, "{}", c.id);
    }
    assert!(report.is_compliant());
    assert_eq!(report.exit_code(), 0);
    let counts = report.setting_counts();
    assert_eq!(counts[&Status::Compliant], state.settings().count());
    let text = hardbase::report::drift::to_text(&report, &sources, false);
    assert!(text.ends_with("result: compliant\n"), "{text}");
}

#[test]
fn one_changed_sysctl_is_exactly_one_drift_with_its_catalog_line() {
    let (state, sources) = resolve_audit(&kiosk_path(), None);
    let mut live = compliant_live(&state);
    live.linux
        .sysctl
        .as_mut()
        .unwrap()
        .insert("kernel.kptr_restrict".into(), "1".into());
    let report = drift::diff(&state, &live);
    assert_eq!(
        statuses(&report),
        vec![(
            "FUN-APP-005".to_string(),
            "sysctl kernel.kptr_restrict".to_string(),
            Status::Drift
        )]
    );
    let control = &report.controls[0];
    assert_eq!(
        (control.id.as_str(), control.status),
        ("FUN-APP-005", Status::Drift)
    );
    let setting = control
        .settings
        .iter()
        .find(|s| s.status == Status::Drift)
        .unwrap();
    assert_eq!(setting.expected, "2");
    assert_eq!(setting.actual.as_deref(), Some("1"));
    let origin = sources.location(setting.origin);
    assert_eq!(origin.file, "<built-in>/baselines/function.toml");
    let catalog_line = sources
        .text(setting.origin.file)
        .lines()
        .nth(origin.line - 1)
        .unwrap();
    assert_eq!(catalog_line, "[[control.setting]]");
    assert_eq!(report.exit_code(), 1);
    let text = hardbase::report::drift::to_text(&report, &sources, false);
    assert!(text.starts_with("profile lobby-kiosk-umeda"), "{text}");
    assert!(
        text.contains(&format!(
            "  drift sysctl kernel.kptr_restrict\n      expected: 2\n      actual:   1\n      --> {origin} (catalog setting)\n"
        )),
        "{text}"
    );
    assert!(text.contains("settings: 1 drift,"), "{text}");
    assert!(text.ends_with("result: NOT COMPLIANT\n"), "{text}");
}

#[test]
fn a_source_not_collected_is_never_compliant() {
    let (state, _) = resolve_audit(&kiosk_path(), None);
    let mut live = compliant_live(&state);
    live.linux.sysctl = None;
    let report = drift::diff(&state, &live);
    let sysctls: Vec<Status> = report
        .controls
        .iter()
        .flat_map(|c| &c.settings)
        .filter(|s| s.kind == "sysctl")
        .map(|s| s.status)
        .collect();
    assert!(!sysctls.is_empty());
    assert!(sysctls.iter().all(|s| *s == Status::NotCollected));
    assert_eq!(report.controls[0].status, Status::NotCollected);
    assert!(!report.is_compliant());
    assert_eq!(report.exit_code(), 1, "not-collected is a finding");
    // Nothing collected at all: no setting compliant.
    let empty = drift::diff(&state, &LiveState::default());
    assert_eq!(empty.setting_counts()[&Status::Compliant], 0);
    assert_eq!(
        empty.setting_counts()[&Status::NotCollected],
        state.settings().count()
    );
}

#[test]
fn missing_loaded_and_unexpected_things_are_findings() {
    let (state, _) = resolve_audit(&kiosk_path(), None);
    let mut live = compliant_live(&state);
    let l = &mut live.linux;
    l.modules_loaded
        .as_mut()
        .unwrap()
        .insert("usb_storage".into());
    l.sshd.as_mut().unwrap().remove("permitrootlogin");
    l.listening.as_mut().unwrap().extend([
        Listener {
            protocol: "tcp".into(),
            address: "*".into(),
            port: 8080,
            process: Some("python3".into()),
        },
        Listener {
            protocol: "tcp".into(),
            address: "::1".into(),
            port: 631,
            process: Some("cupsd".into()),
        },
    ]);
    l.nft.as_mut().unwrap().rules.push(NftRule {
        family: "inet".into(),
        table: "hardbase".into(),
        chain: "input".into(),
        verdict: Some("accept".into()),
        protocol: Some("tcp".into()),
        ports: vec![5900],
        ..NftRule::default()
    });
    let report = drift::diff(&state, &live);
    let found = statuses(&report);
    assert!(found.contains(&(
        "FUN-DEV-001".into(),
        "kernel module usb_storage".into(),
        Status::Drift
    )));
    let module = report
        .controls
        .iter()
        .flat_map(|c| &c.settings)
        .find(|s| s.target == "kernel module usb_storage")
        .unwrap();
    assert!(module.actual.as_deref().unwrap().starts_with("loaded"));
    assert!(found.contains(&(
        "COM-SVC-005".into(),
        "sshd option permitrootlogin".into(),
        Status::Missing
    )));
    let unexpected: Vec<(&str, &str)> = report
        .unexpected
        .iter()
        .map(|u| (u.kind, u.what.as_str()))
        .collect();
    assert_eq!(
        unexpected,
        vec![
            ("listening-port", "tcp *:8080 (python3)"),
            (
                "nft-accept-rule",
                "accept tcp port 5900 in chain input from any peer"
            ),
        ],
        "port 22 is an inbound flow, ::1 is loopback"
    );
    assert!(report
        .unexpected
        .iter()
        .all(|u| u.control.as_deref() == Some("COM-FW-010")));
    assert_eq!(report.setting_counts()[&Status::Unexpected], 2);
    assert_eq!(report.exit_code(), 1);
}

#[test]
fn audit_rules_compare_as_auditctl_prints_them() {
    let same = [
        (
            "-a always,exit -F arch=b64 -S execve -F auid>=1000 -F auid!=unset -k exec_user",
            "-a always,exit -F arch=b64 -S execve -F auid>=1000 -F auid!=-1 -F key=exec_user",
        ),
        (
            "-a always,exit -F arch=b64 -S adjtimex,settimeofday -k time-change",
            "-a exit,always -F arch=b64 -S settimeofday -S adjtimex -F key=time-change",
        ),
        (
            "-w /etc/audit/ -p wa -k audit_config",
            "-w /etc/audit -p wa -k audit_config",
        ),
        (
            "-w /etc/passwd -p wa -k identity",
            "-a always,exit -F path=/etc/passwd -F perm=wa -F key=identity",
        ),
        (
            "-a always,exit -F arch=b64 -S mount -F auid!=unset -F auid>=1000 -k m",
            "-a always,exit -F arch=b64 -S mount -F auid>=1000 -F auid!=4294967295 -F key=m",
        ),
    ];
    for (written, printed) in same {
        assert_eq!(
            audit_rule_canonical(written),
            audit_rule_canonical(printed),
            "{written} vs {printed}"
        );
        assert!(audit_rule_canonical(written).is_some());
    }
    let different = [
        (
            "-w /etc/passwd -p wa -k identity",
            "-w /etc/passwd -p w -k identity",
        ),
        (
            "-a always,exit -F arch=b64 -S execve -k x",
            "-a always,exit -F arch=b32 -S execve -k x",
        ),
        (
            "-a always,exit -F arch=b64 -S execve -k x",
            "-a never,exit -F arch=b64 -S execve -k x",
        ),
    ];
    for (a, b) in different {
        assert_ne!(
            audit_rule_canonical(a),
            audit_rule_canonical(b),
            "{a} vs {b}"
        );
    }
    assert_eq!(audit_rule_canonical("-e 2"), None, "a control option");
}

#[test]
fn hostile_snapshot_values_are_inert_in_text_and_exact_in_json() {
    let (state, sources) = resolve_audit(&kiosk_path(), None);
    let mut live = compliant_live(&state);
    let hostile = "=1+2\u{1b}[31m\r\u{7}\u{9b}2J\u{202e}\u{2028}x";
    // A unit state is compared as collected (sysctl and sshd values are whitespace-squashed).
    live.linux
        .unit_files
        .as_mut()
        .unwrap()
        .insert("cups.service".into(), hostile.into());
    live.info.host = "evil\u{1b}]0;owned\u{7}".into();
    let report = drift::diff(&state, &live);
    for color in [false, true] {
        let text = hardbase::report::drift::to_text(&report, &sources, color);
        let hostile_chars = ['\r', '\u{7}', '\u{9b}', '\u{202e}', '\u{2028}'];
        assert!(!text.contains(&hostile_chars[..]), "{text:?}");
        if !color {
            assert!(!text.contains('\u{1b}'), "{text:?}");
        }
        assert!(
            text.contains(
                "      actual:   =1+2\\u{1b}[31m\\u{d}\\u{7}\\u{9b}2J\\u{202e}\\u{2028}x\n"
            ),
            "{text}"
        );
        assert!(text.contains("snapshot of evil\\u{1b}]0;owned\\u{7} collected"));
        assert!(
            !text.lines().any(|l| l.starts_with('=')),
            "no line starts with a formula character"
        );
    }
    // JSON carries the value exactly and round-trips.
    let json = hardbase::report::drift::to_json(&report, &sources);
    let text = serde_json::to_string_pretty(&json).unwrap();
    assert!(!text.contains('\u{1b}'));
    let back: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(back, json);
    let actual = back["controls"][0]["settings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["status"] == "drift")
        .unwrap();
    assert_eq!(actual["actual"], hostile);
    assert_eq!(actual["expected"], "masked");
    assert!(actual["origin"]
        .as_str()
        .unwrap()
        .starts_with("<built-in>/baselines/communication.toml:"));
    for (status, n) in report.setting_counts() {
        assert_eq!(back["counts"]["settings"][status.id()], n, "{status:?}");
    }
    for (status, n) in report.control_counts() {
        assert_eq!(back["counts"]["controls"][status.id()], n, "{status:?}");
    }
    assert_eq!(back["compliant"], false);
    assert_eq!(back["exit_code"], 1);
    assert_eq!(back["snapshot"]["host"], "evil\u{1b}]0;owned\u{7}");
}

#[test]
fn an_expired_waiver_is_a_finding_not_a_crash() {
    let fixtures = util::fixtures();
    let (state, sources) = resolve_audit(
        &fixtures.join("expired-waiver/profile.toml"),
        Some(&fixtures.join("catalog")),
    );
    let report = drift::diff(&state, &LiveState::default());
    let control = report
        .controls
        .iter()
        .find(|c| c.id == "TST-REG-001")
        .unwrap();
    assert_eq!(control.status, Status::Drift);
    assert!(control.waiver.as_ref().unwrap().expired);
    assert!(
        control.findings[0].contains("expired on 2026-10-31"),
        "{:?}",
        control.findings
    );
    // Windows settings have no collector yet: never compliant.
    assert_eq!(report.setting_counts()[&Status::Compliant], 0);
    assert_eq!(report.exit_code(), 1);
    let text = hardbase::report::drift::to_text(&report, &sources, false);
    assert!(text.contains("EXPIRED"), "{text}");
}

/// Writes a snapshot folder in the collector's format: the files, and snapshot.json with
/// their SHA-256.
fn write_snapshot(dir: &Path, files: &[(&str, String)]) {
    use sha2::{Digest, Sha256};
    let mut listed = serde_json::Map::new();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        let hash: String = Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        listed.insert(name.to_string(), serde_json::Value::String(hash));
    }
    let info = serde_json::json!({
        "host": "kiosk-umeda-01",
        "collected_at": "2026-11-27T09:00:00+09:00",
        "collector": "hardbase-collect",
        "family": "linux",
        "files": listed,
    });
    std::fs::write(dir.join("snapshot.json"), info.to_string()).unwrap();
}

#[test]
fn hardbase_diff_on_a_snapshot_folder() {
    let (state, _) = resolve_audit(&kiosk_path(), None);
    let live = compliant_live(&state);
    let mut sysctl: String = live
        .linux
        .sysctl
        .as_ref()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{k} = {v}\n"))
        .collect();
    sysctl = sysctl.replace("kernel.kptr_restrict = 2\n", "kernel.kptr_restrict = 0\n");
    let dir = TempDir::new("drift-snapshot");
    let snap = dir.path().join("snap");
    write_snapshot(
        &snap,
        &[
            ("sysctl.txt", sysctl.clone()),
            (
                "listening.txt",
                "tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:((\"sshd\",pid=1,fd=3))\ntcp LISTEN 0 5 0.0.0.0:8080 0.0.0.0:* users:((\"python3\",pid=7,fd=3))\n".into(),
            ),
        ],
    );
    let profile = kiosk_path();
    let profile = profile.to_str().unwrap();
    let live_dir = snap.to_str().unwrap();
    let run = util::run(&[
        "diff",
        profile,
        "--live",
        live_dir,
        "--at",
        "2026-11-27",
        "--format",
        "json",
    ]);
    assert_eq!(run.status, 1, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let settings: Vec<&serde_json::Value> = doc["controls"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["settings"].as_array().unwrap())
        .collect();
    let kptr = settings
        .iter()
        .find(|s| s["target"] == "sysctl kernel.kptr_restrict")
        .unwrap();
    assert_eq!(kptr["status"], "drift");
    assert_eq!(kptr["actual"], "0");
    assert!(settings
        .iter()
        .filter(|s| s["kind"] == "sysctl" && s["target"] != "sysctl kernel.kptr_restrict")
        .all(|s| s["status"] == "compliant"));
    assert!(settings
        .iter()
        .filter(|s| s["kind"] == "sshd_option")
        .all(|s| s["status"] == "not-collected"));
    assert_eq!(doc["unexpected"][0]["what"], "tcp 0.0.0.0:8080 (python3)");

    // Text, no colour when not on a terminal.
    let run = util::run(&["diff", profile, "--live", live_dir, "--at", "2026-11-27"]);
    assert_eq!(run.status, 1);
    assert!(!run.stdout.contains('\u{1b}'));
    assert!(run.stdout.contains("  drift sysctl kernel.kptr_restrict\n"));

    // A file that cannot be parsed is an error at its line, never a pass.
    let bad = dir.path().join("bad");
    write_snapshot(&bad, &[("sysctl.txt", format!("{sysctl}garbage line\n"))]);
    let run = util::run(&[
        "diff",
        profile,
        "--live",
        bad.to_str().unwrap(),
        "--at",
        "2026-11-27",
    ]);
    assert_eq!(run.status, 2, "{}", run.stderr);
    let line = sysctl.lines().count() + 1;
    assert!(
        run.stderr.contains(&format!("sysctl.txt:{line}: ")),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
}

#[test]
fn usbguard_rules_are_compared_in_order_and_extra_allow_rules_are_unexpected() {
    let (state, _) = resolve_audit(&kiosk_path(), None);
    let mut live = compliant_live(&state);
    let rules = live.linux.usbguard_rules.as_mut().unwrap();
    // The block rule must come first: an allow rule before it would win for a storage device.
    rules.rotate_left(1);
    rules.push("allow id dead:beef".into());
    let report = drift::diff(&state, &live);
    let usb: Vec<(String, Status)> = report
        .controls
        .iter()
        .flat_map(|c| &c.settings)
        .filter(|s| s.kind == "usbguard_rule")
        .map(|s| (s.target.clone(), s.status))
        .collect();
    assert_eq!(
        usb,
        vec![
            (
                "usbguard rule block with-interface one-of { 08:*:* }".into(),
                Status::Compliant
            ),
            (
                "usbguard rule allow with-interface equals { 09:00:* }".into(),
                Status::Drift
            ),
            (
                "usbguard rule allow id one-of { 0eef:0001 }".into(),
                Status::Drift
            ),
        ]
    );
    let extra: Vec<(&str, &str)> = report
        .unexpected
        .iter()
        .map(|u| (u.kind, u.what.as_str()))
        .collect();
    assert_eq!(extra, vec![("usbguard-allow-rule", "allow id dead:beef")]);
}

//! The sshd drop-in, the usbguard rules and the audit rules of the Linux examples, read by the
//! real tools: `sshd -t`/`sshd -T` on a stock Debian 12 sshd_config with a competing vendor
//! drop-in, `usbguard-rule-parser` on every rule, and auditctl's own rule parser run in a new
//! user namespace (where the kernel refuses audit requests, so the host's audit configuration is
//! never touched). Loading the rules into a kernel is not tested: it would change the audit
//! configuration of the machine running the tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use hardbase::catalog::setting::SettingKind;
use hardbase::model::DesiredState;
use hardbase::target::linux::{auditd, sshd, usbguard, InstallFile};

use crate::util::{fixtures, require_tool, resolve_profile, root, run_in, TempDir};

const PROFILES: [&str; 2] = ["lobby-kiosk.toml", "relay-linux.toml"];

fn example(name: &str) -> DesiredState {
    let path = root().join("examples/regional-bank").join(name);
    resolve_profile(&path).unwrap_or_else(|| panic!("{name} resolves"))
}

fn one_file(files: Vec<InstallFile>, target: &str) -> InstallFile {
    assert_eq!(files.len(), 1, "one file for {target}");
    let file = files.into_iter().next().unwrap();
    assert_eq!(file.target, target);
    assert_eq!((file.mode, file.owner.as_str()), (0o600, "root"));
    file
}

/// The rule lines of a generated file (without comments and blank lines).
fn rule_lines(file: &InstallFile) -> Vec<String> {
    String::from_utf8(file.bytes.clone())
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------------- sshd

/// Runs sshd with `args`; without a privilege-separation directory (and as root) it runs in a
/// private mount namespace with its own `/run/sshd`, as DESIGN's validator table describes.
pub(crate) fn sshd(sshd: &Path, args: &[&str]) -> std::process::Output {
    let privsep_missing = !Path::new("/run/sshd").is_dir();
    let output = if privsep_missing {
        Command::new("unshare")
            .args(["-m", "sh", "-c"])
            .arg("mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd && exec \"$0\" \"$@\"")
            .arg(sshd)
            .args(args)
            .output()
    } else {
        Command::new(sshd).args(args).output()
    };
    output.expect("sshd runs")
}

/// A stock Debian 12 sshd_config whose `Include` reads `dir`, plus a host key, in `dir`'s parent.
pub(crate) struct MergedConfig {
    config: PathBuf,
    host_key: PathBuf,
}

pub(crate) fn merged_config(tmp: &Path, drop_ins: &[(&str, &[u8])]) -> MergedConfig {
    let dir = tmp.join("sshd_config.d");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in drop_ins {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let stock =
        std::fs::read_to_string(fixtures().join("linux-sshd/sshd_config.debian12")).unwrap();
    let include = "Include /etc/ssh/sshd_config.d/*.conf";
    let first_setting = stock
        .lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .unwrap();
    assert_eq!(
        first_setting, include,
        "the stock file includes the drop-ins first"
    );
    let config = tmp.join("sshd_config");
    std::fs::write(
        &config,
        stock.replace(include, &format!("Include {}/*.conf", dir.display())),
    )
    .unwrap();
    let host_key = tmp.join("ssh_host_ed25519_key");
    if !host_key.exists() {
        let status = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&host_key)
            .status()
            .expect("ssh-keygen runs");
        assert!(status.success());
    }
    MergedConfig { config, host_key }
}

/// `sshd -t` must accept the merged configuration; returns `sshd -T` as option → value.
pub(crate) fn effective(sshd_path: &Path, merged: &MergedConfig) -> BTreeMap<String, String> {
    let (config, key) = (
        merged.config.to_str().unwrap(),
        merged.host_key.to_str().unwrap(),
    );
    let test = sshd(sshd_path, &["-t", "-f", config, "-h", key]);
    assert!(
        test.status.success(),
        "sshd -t rejects the merged configuration:\n{}",
        String::from_utf8_lossy(&test.stderr)
    );
    let dump = sshd(
        sshd_path,
        &[
            "-T",
            "-f",
            config,
            "-h",
            key,
            "-C",
            "user=nobody,host=kiosk01,addr=192.0.2.10,laddr=192.0.2.1,lport=22",
        ],
    );
    assert!(
        dump.status.success(),
        "sshd -T fails:\n{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    String::from_utf8(dump.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const VENDOR_DROP_IN: &[u8] = b"# what cloud-init writes on an image built with password logins\n\
PasswordAuthentication yes\nPermitRootLogin yes\nX11Forwarding yes\n";

/// hardbase's drop-in sorts first, so every option it sets wins over the stock file and over
/// `50-cloud-init.conf`, in sshd's own effective configuration.
#[test]
fn sshd_drop_in_wins_over_the_stock_config_and_a_vendor_drop_in() {
    let Some(sshd_path) = require_tool("sshd") else {
        return;
    };
    for name in PROFILES {
        let state = example(name);
        let file = one_file(sshd::files(&state).unwrap(), sshd::TARGET);
        assert_eq!(file.tree_path, "ssh/sshd_config.d/00-hardbase.conf");
        let tmp = TempDir::new(&format!("sshd-{name}"));

        // Without hardbase the vendor drop-in decides: the test can tell the difference.
        let before = effective(
            &sshd_path,
            &merged_config(tmp.path(), &[("50-cloud-init.conf", VENDOR_DROP_IN)]),
        );
        assert_eq!(before["passwordauthentication"], "yes");
        assert_eq!(before["permitrootlogin"], "yes");

        let after = effective(
            &sshd_path,
            &merged_config(
                tmp.path(),
                &[
                    ("00-hardbase.conf", &file.bytes),
                    ("50-cloud-init.conf", VENDOR_DROP_IN),
                ],
            ),
        );
        let mut expected = 0;
        for s in state.settings() {
            let SettingKind::SshdOption(o) = &s.kind else {
                continue;
            };
            expected += 1;
            let key = o.option.to_ascii_lowercase();
            assert_eq!(
                after.get(&key).map(|v| v.to_ascii_lowercase()),
                Some(o.value.to_ascii_lowercase()),
                "{name}: {} {} (from {}) is not in effect",
                o.option,
                o.value,
                s.control
            );
        }
        assert!(expected >= 16, "{name} sets the COM-SVC-005 options");
    }
}

/// Option names are written in sshd's canonical spelling, each once, in a stable order.
#[test]
fn sshd_drop_in_is_stable_and_sets_each_option_once() {
    let state = example("lobby-kiosk.toml");
    let first = one_file(sshd::files(&state).unwrap(), sshd::TARGET);
    let again = one_file(sshd::files(&state).unwrap(), sshd::TARGET);
    assert_eq!(first.bytes, again.bytes);
    let lines = rule_lines(&first);
    let mut names: Vec<&str> = lines.iter().map(|l| l.split(' ').next().unwrap()).collect();
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(
        names.len(),
        count,
        "an option is written twice:\n{lines:#?}"
    );
    assert!(lines.contains(&"PermitRootLogin no".to_string()));
    assert!(lines.contains(&"LogLevel VERBOSE".to_string()));
}

/// Hostile values reaching an sshd option through a parameter are refused by `check`, at the
/// profile line that set them.
#[test]
fn hostile_sshd_values_are_refused_at_their_line() {
    let fixture = fixtures().join("linux-hostile-sshd");
    let catalog = fixture.join("catalog");
    let run = |dir: &Path| {
        run_in(
            dir,
            &[
                "--no-builtin",
                "--baselines",
                catalog.to_str().unwrap(),
                "check",
                "profile.toml",
            ],
        )
    };
    let fixture_run = run(&fixture);
    assert_eq!(fixture_run.status, 2, "{}", fixture_run.stderr);
    assert!(
        fixture_run.stderr.contains("error[invalid-value]")
            && fixture_run.stderr.contains("--> profile.toml:7:14")
            && fixture_run.stderr.contains("'#'"),
        "{}",
        fixture_run.stderr
    );

    let profile = std::fs::read_to_string(fixture.join("profile.toml")).unwrap();
    let tmp = TempDir::new("hostile-sshd");
    for value in [
        r#""/etc/issue.net\nPermitRootLogin yes""#,
        r#""$(reboot)""#,
        r#""`reboot`""#,
        r#""\"/etc/issue.net\"""#,
        r#""/etc/issue.net' x""#,
        r#""/etc/issue\\net""#,
        r#""/etc/issue.net\u001b[2J""#,
    ] {
        let text = profile.replace("\"/etc/issue.net # PermitRootLogin yes\"", value);
        assert_ne!(text, profile);
        std::fs::write(tmp.path().join("profile.toml"), text).unwrap();
        let r = run(tmp.path());
        assert_eq!(r.status, 2, "{value} was accepted:\n{}", r.stderr);
        assert!(
            r.stderr.contains("error[invalid-value]") && r.stderr.contains("--> profile.toml:7:14"),
            "{value}:\n{}",
            r.stderr
        );
    }

    // The same fixture with a plain path passes.
    std::fs::write(
        tmp.path().join("profile.toml"),
        profile.replace("/etc/issue.net # PermitRootLogin yes", "/etc/issue.net"),
    )
    .unwrap();
    let r = run(tmp.path());
    assert_eq!(r.status, 0, "{}", r.stderr);
}

// ---------------------------------------------------------------- usbguard

/// usbguard-rule-parser accepts every generated rule, one at a time and as a file; the kiosk's
/// rules keep the catalog's order (the first match wins).
#[test]
fn usbguard_rules_parse_with_usbguard_rule_parser() {
    let relay = example("relay-linux.toml");
    assert!(
        usbguard::files(&relay).unwrap().is_empty(),
        "no USB rules on a relay server"
    );

    let kiosk = example("lobby-kiosk.toml");
    let file = one_file(usbguard::files(&kiosk).unwrap(), usbguard::TARGET);
    assert_eq!(file.tree_path, "usbguard/rules.conf");
    let rules = rule_lines(&file);
    assert_eq!(
        rules,
        [
            "block with-interface one-of { 08:*:* }",
            "allow with-interface equals { 09:00:* }",
            "allow id one-of { 0eef:0001 }",
        ]
    );
    let Some(parser) = require_tool("usbguard-rule-parser") else {
        return;
    };
    for rule in &rules {
        let out = Command::new(&parser).arg(rule).output().unwrap();
        assert!(
            out.status.success(),
            "usbguard-rule-parser rejects `{rule}`:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let tmp = TempDir::new("usbguard");
    let path = tmp.path().join("rules.conf");
    std::fs::write(&path, &file.bytes).unwrap();
    let out = Command::new(&parser).arg("-f").arg(&path).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The oracle does reject a bad rule.
    let bad = Command::new(&parser)
        .arg("allow id one-of { 0eef:00001 }")
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

// ---------------------------------------------------------------- auditd

/// Runs auditctl's parser on one rule inside a new user namespace, where the kernel refuses
/// every audit request (ECONNREFUSED): nothing reaches the host's audit configuration. Returns
/// what auditctl says about the rule (its parse errors), or `None` when user namespaces are
/// unavailable.
pub(crate) fn auditctl_parse(auditctl: &Path, rule: &str) -> Option<String> {
    let out = Command::new("unshare")
        .arg("-Ur")
        .arg(auditctl)
        .args(rule.split_ascii_whitespace())
        .output()
        .ok()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("unshare failed") || stderr.contains("unshare:") {
        return None;
    }
    Some(
        stderr
            .lines()
            .filter(|l| *l != "The audit system is disabled")
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// The audit rules keep the catalog's order with `-e 2` last, pass hardbase's strict reader,
/// and (when auditctl and user namespaces are available) auditctl's own parser.
#[test]
fn audit_rules_parse_and_end_with_the_immutable_flag() {
    let mut all_rules = Vec::new();
    for name in PROFILES {
        let state = example(name);
        let file = one_file(auditd::files(&state).unwrap(), auditd::TARGET);
        assert_eq!(file.tree_path, "audit/rules.d/50-hardbase.rules");
        let rules = rule_lines(&file);
        assert_eq!(rules.last().map(String::as_str), Some("-e 2"), "{name}");
        assert_eq!(rules.iter().filter(|r| r.starts_with("-e ")).count(), 1);
        let declared: Vec<String> = state
            .settings()
            .filter_map(|s| match &s.kind {
                SettingKind::AuditdRule(r) if r.rule != "-e 2" => Some(r.rule.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            rules[..rules.len() - 1],
            declared[..],
            "{name}: declaration order"
        );
        for rule in &rules {
            auditd::parse_rule(rule).unwrap_or_else(|e| panic!("{rule}: {e}"));
        }
        all_rules.extend(rules);
    }

    // auditctl's own parser is the oracle for rule syntax; .ci/run installs auditd.
    let Some(auditctl) = crate::util::require_tool("auditctl") else {
        return;
    };
    let Some(bad) = auditctl_parse(&auditctl, "-a always,exit -F arch=b64 -S execvex -k x") else {
        assert!(
            !crate::util::in_ci(),
            "unshare -Ur failed: auditctl's parser cannot run in CI"
        );
        eprintln!(
            "SKIPPED: unshare -Ur failed (no user namespaces here): auditctl's parser not run"
        );
        return;
    };
    assert!(
        bad.contains("Syscall name unknown"),
        "the oracle reports errors: {bad}"
    );
    for rule in all_rules
        .iter()
        .filter(|r| r.starts_with("-a") || r.starts_with("-w"))
    {
        let said = auditctl_parse(&auditctl, rule).unwrap();
        assert!(said.is_empty(), "auditctl rejects `{rule}`: {said}");
    }
}

/// Hostile USB ids through the kiosk's parameter: refused by `check` at the value's line, or
/// written verbatim into a rules file usbguard's own parser accepts.
#[test]
fn hostile_usb_ids_are_refused_or_inert() {
    let dir = TempDir::new("usb-hostile");
    let kiosk = root().join("examples/regional-bank/lobby-kiosk.toml");
    let cases = [
        ("0eef:0001 } allow id *:* {", false),
        ("0eef:0001\nallow", false),
        ("0eef:0001 # comment", false),
        ("$(reboot)", false),
        ("`id`", false),
        ("0eef:0001\" allow", false),
        ("0eef:0001 1d6b:0002", true),
    ];
    for (ids, accepted) in cases {
        let path = dir.path().join("kiosk.toml");
        let mut params = toml::Table::new();
        params.insert("kiosk_usb_ids".into(), toml::Value::String(ids.into()));
        let text = format!(
            "[profile]\nname = \"k\"\nextends = [{kiosk:?}]\n\n{}",
            toml::to_string(&toml::Table::from_iter([(
                "params".to_string(),
                toml::Value::Table(params)
            )]))
            .unwrap()
        );
        std::fs::write(&path, text).unwrap();
        let check = run_in(dir.path(), &["check", "kiosk.toml"]);
        if !accepted {
            assert_eq!(check.status, 2, "{ids:?} must be refused");
            assert!(check.stderr.contains("error["), "{}", check.stderr);
            assert!(
                check.stderr.contains("--> kiosk.toml:"),
                "{ids:?}: points at the profile: {}",
                check.stderr
            );
            continue;
        }
        assert_eq!(check.status, 0, "{ids:?}: {}", check.stderr);
        let out = dir.path().join("dist");
        let build = run_in(
            dir.path(),
            &[
                "build",
                "kiosk.toml",
                "--out",
                out.to_str().unwrap(),
                "--force",
            ],
        );
        assert_eq!(build.status, 0, "{}", build.stderr);
        let rules = std::fs::read_to_string(out.join("k/linux/usbguard/rules.conf")).unwrap();
        assert!(
            rules
                .lines()
                .any(|l| l == format!("allow id one-of {{ {ids} }}")),
            "{rules}"
        );
        if let Some(parser) = require_tool("usbguard-rule-parser") {
            let parsed = std::process::Command::new(parser)
                .arg("-f")
                .arg(out.join("k/linux/usbguard/rules.conf"))
                .output()
                .unwrap();
            assert!(
                parsed.status.success(),
                "{}",
                String::from_utf8_lossy(&parsed.stderr)
            );
        }
    }
}

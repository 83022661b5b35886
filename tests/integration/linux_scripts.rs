//! apply.sh and restore.sh: linted with bash -n and shellcheck, run against an offline root
//! (apply, apply again, restore → the tree is byte for byte and mode for mode as before), in
//! dry-run mode, and fed hostile strings.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{fixtures, require_tool, root, run, run_in, Run, TempDir};

const LINUX_PROFILES: [&str; 2] = [
    "examples/regional-bank/lobby-kiosk.toml",
    "examples/regional-bank/relay-linux.toml",
];

/// Builds one profile into `out` and returns its `linux/` folder.
fn build(profile: &str, out: &Path, extra: &[&str]) -> PathBuf {
    let mut args: Vec<&str> = extra.to_vec();
    args.extend(["build", profile, "--out", out.to_str().unwrap()]);
    let r = run(&args);
    assert_eq!(r.status, 0, "build {profile}: {}", r.stderr);
    let folder = std::fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("linux").is_dir())
        .expect("a linux folder");
    folder.join("linux")
}

fn bash(script: &Path, args: &[&str]) -> Run {
    let r: Run = Command::new("bash")
        .arg(script)
        .args(args)
        .output()
        .expect("bash runs")
        .into();
    eprintln!(
        "$ {} {}\n{}{}[exit {}]",
        script.file_name().unwrap().to_string_lossy(),
        args.join(" "),
        r.stdout,
        r.stderr,
        r.status
    );
    r
}

#[test]
fn scripts_pass_bash_n_and_shellcheck() {
    let Some(shellcheck) = require_tool("shellcheck") else {
        return;
    };
    for (i, profile) in LINUX_PROFILES.iter().enumerate() {
        let out = TempDir::new(&format!("lint-{i}"));
        let linux = build(profile, out.path(), &[]);
        for script in ["apply.sh", "restore.sh"] {
            let path = linux.join(script);
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.starts_with("#!/usr/bin/env bash\n"), "{script}");
            assert!(text.contains("set -euo pipefail\numask 077\n"), "{script}");
            let syntax = Command::new("bash").arg("-n").arg(&path).output().unwrap();
            assert!(
                syntax.status.success(),
                "bash -n {profile} {script}: {}",
                String::from_utf8_lossy(&syntax.stderr)
            );
            let lint = Command::new(&shellcheck)
                .args(["-s", "bash", "-S", "warning"])
                .arg(&path)
                .output()
                .unwrap();
            assert!(
                lint.status.success(),
                "shellcheck {profile} {script}:\n{}",
                String::from_utf8_lossy(&lint.stdout)
            );
            eprintln!("{profile} {script}: bash -n and shellcheck -S warning clean");
        }
    }
}

/// A minimal Debian 12 root: os-release, stock login.defs, sshd_config, files hardbase edits,
/// unit stubs for the units the kiosk profile enables, one enabled unit it masks.
fn debian_root(dir: &Path) {
    let files: &[(&str, &str, u32)] = &[
        (
            "etc/os-release",
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n",
            0o644,
        ),
        (
            "etc/login.defs",
            "# /etc/login.defs - Configuration control definitions for the login package.\nMAIL_DIR        /var/mail\nPASS_MAX_DAYS\t99999\nENCRYPT_METHOD YESCRYPT\nUMASK\t\t022\n",
            0o644,
        ),
        (
            "etc/ssh/sshd_config",
            "Include /etc/ssh/sshd_config.d/*.conf\nKbdInteractiveAuthentication no\nUsePAM yes\n",
            0o644,
        ),
        ("etc/security/faillock.conf", "# deny = 3\n# unlock_time = 600\n", 0o644),
        ("etc/security/pwquality.conf", "# minlen = 8\n", 0o644),
        ("etc/sysctl.d/60-hardbase.conf", "kernel.sysrq = 1\n", 0o600),
        ("etc/usbguard/rules.conf", "allow\n", 0o644),
        ("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n", 0o644),
        ("etc/group", "root:x:0:\n", 0o644),
    ];
    for (path, text, mode) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(*mode)).unwrap();
    }
    for d in ["var/lib", "etc/systemd/system/multi-user.target.wants"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    let units = dir.join("usr/lib/systemd/system");
    std::fs::create_dir_all(&units).unwrap();
    for unit in [
        "nftables",
        "usbguard",
        "auditd",
        "cups",
        "avahi-daemon",
        "ssh",
    ] {
        std::fs::write(
            units.join(format!("{unit}.service")),
            format!("[Unit]\nDescription={unit}\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n"),
        )
        .unwrap();
    }
    std::os::unix::fs::symlink(
        "/usr/lib/systemd/system/cups.service",
        dir.join("etc/systemd/system/multi-user.target.wants/cups.service"),
    )
    .unwrap();
}

/// Every entry under `dir`: file bytes and mode, symlink targets, folder modes.
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for entry in walkdir::WalkDir::new(dir).min_depth(1) {
        let entry = entry.unwrap();
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let meta = std::fs::symlink_metadata(entry.path()).unwrap();
        let mode = meta.permissions().mode() & 0o7777;
        let value = if meta.file_type().is_symlink() {
            format!(
                "link -> {}",
                std::fs::read_link(entry.path()).unwrap().display()
            )
        } else if meta.is_dir() {
            format!("dir {mode:o}")
        } else {
            let bytes = std::fs::read(entry.path()).unwrap();
            format!(
                "file {mode:o} {}",
                String::from_utf8_lossy(&bytes).escape_debug()
            )
        };
        out.insert(rel, value);
    }
    out
}

fn assert_same(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) {
    let diff: Vec<String> = before
        .keys()
        .chain(after.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| format!("{k}: {:?} -> {:?}", before.get(k), after.get(k)))
        .collect();
    assert!(diff.is_empty(), "the tree changed:\n{}", diff.join("\n"));
}

#[test]
fn offline_root_apply_twice_then_restore_is_byte_identical() {
    let out = TempDir::new("offline-build");
    let linux = build(LINUX_PROFILES[0], out.path(), &[]);
    let tree = TempDir::new("offline-root");
    debian_root(tree.path());
    let before = snapshot(tree.path());
    let root_arg = tree.path().to_str().unwrap();

    let first = bash(&linux.join("apply.sh"), &["--root", root_arg]);
    assert_eq!(first.status, 0, "{}", first.stderr);
    assert!(first.stdout.contains("changes made"), "{}", first.stdout);
    let login_defs = std::fs::read_to_string(tree.path().join("etc/login.defs")).unwrap();
    assert!(
        login_defs.contains("ENCRYPT_METHOD SHA512\n"),
        "{login_defs}"
    );
    assert!(
        !login_defs.contains("YESCRYPT"),
        "login.defs block takes over its keys"
    );
    assert!(
        login_defs.contains("MAIL_DIR        /var/mail\n"),
        "{login_defs}"
    );
    let sysctl = tree.path().join("etc/sysctl.d/60-hardbase.conf");
    assert_eq!(
        std::fs::metadata(&sysctl).unwrap().permissions().mode() & 0o777,
        0o644
    );
    assert!(!std::fs::read_to_string(&sysctl)
        .unwrap()
        .contains("modules_disabled"));
    let masked = tree.path().join("etc/systemd/system/cups.service");
    assert_eq!(std::fs::read_link(masked).unwrap(), Path::new("/dev/null"));
    let applied = snapshot(tree.path());

    let second = bash(&linux.join("apply.sh"), &["--root", root_arg]);
    assert_eq!(second.status, 0, "{}", second.stderr);
    assert!(second.stdout.contains("no changes"), "{}", second.stdout);
    assert_same(&applied, &snapshot(tree.path()));

    let restore = bash(&linux.join("restore.sh"), &["--root", root_arg]);
    assert_eq!(restore.status, 0, "{}", restore.stderr);
    assert!(
        restore.stdout.contains("changes put back"),
        "{}",
        restore.stdout
    );
    assert_same(&before, &snapshot(tree.path()));

    let again = bash(&linux.join("restore.sh"), &["--root", root_arg]);
    assert_eq!(again.status, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("nothing to restore"),
        "{}",
        again.stdout
    );
}

#[test]
fn dry_run_changes_nothing() {
    let out = TempDir::new("dry-build");
    let linux = build(LINUX_PROFILES[0], out.path(), &[]);
    let tree = TempDir::new("dry-root");
    debian_root(tree.path());
    let before = snapshot(tree.path());
    let r = bash(
        &linux.join("apply.sh"),
        &["--dry-run", "--root", tree.path().to_str().unwrap()],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("would install /etc/login.defs"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("none made"), "{}", r.stdout);
    assert_same(&before, &snapshot(tree.path()));
}

#[test]
fn preflight_refuses_the_wrong_distribution_with_exit_2() {
    let out = TempDir::new("preflight-build");
    let linux = build(LINUX_PROFILES[1], out.path(), &[]); // rhel-9
    let tree = TempDir::new("preflight-root");
    debian_root(tree.path());
    let before = snapshot(tree.path());
    let r = bash(
        &linux.join("apply.sh"),
        &["--root", tree.path().to_str().unwrap()],
    );
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("profile relay-primary is for rhel-9"),
        "{}",
        r.stderr
    );
    assert_same(&before, &snapshot(tree.path()));
    let bad = bash(&linux.join("apply.sh"), &["--bogus"]);
    assert_eq!(bad.status, 2);
}

#[test]
fn hostile_file_lines_stay_data_and_hostile_names_are_rejected() {
    let fixture = fixtures().join("linux-hostile-file");
    let catalog = fixture.join("catalog");
    let catalog_arg = catalog.to_str().unwrap();
    let extra = ["--no-builtin", "--baselines", catalog_arg];

    // A line with quotes, $(...), backquotes and a backslash reaches only a tree file.
    let out = TempDir::new("hostile-build");
    let linux = build(
        fixture.join("profile.toml").to_str().unwrap(),
        out.path(),
        &extra,
    );
    let apply = std::fs::read_to_string(linux.join("apply.sh")).unwrap();
    assert!(
        !apply.contains("touch canary"),
        "a file line reached the script"
    );
    let tree = TempDir::new("hostile-root");
    debian_root(tree.path());
    let r = Command::new("bash")
        .arg(linux.join("apply.sh"))
        .args(["--root", tree.path().to_str().unwrap()])
        .current_dir(tree.path())
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let written = std::fs::read_to_string(tree.path().join("etc/hardbase-test.conf")).unwrap();
    assert!(
        written.contains("\nx'y\"z $(touch canary) `touch canary` ${HOME} \\\n"),
        "{written}"
    );
    assert!(!tree.path().join("canary").exists() && !root().join("canary").exists());

    // Values that would reach the script's data tables, or break a file, are rejected by check.
    let hostile_params = [
        ("unit_name", "cups.service'; touch canary; '"),
        ("unit_name", "$(touch canary).service"),
        ("unit_name", "-cups.service"),
        ("motd_line", "two\nlines"),
    ];
    for (param, value) in hostile_params {
        let dir = TempDir::new("hostile-profile");
        let (line, unit) = if param == "unit_name" {
            ("ok".to_string(), value.to_string())
        } else {
            (value.to_string(), "cups.service".to_string())
        };
        let profile = format!(
            "[profile]\nname = \"hostile-file\"\nrole = \"kiosk-terminal\"\nplatform = \"debian-12\"\n\n[params]\nmotd_line = {}\nunit_name = {}\n",
            toml_string(&line),
            toml_string(&unit)
        );
        std::fs::write(dir.path().join("profile.toml"), profile).unwrap();
        let r = run_in(
            dir.path(),
            &[&extra[..], &["check", "profile.toml"]].concat(),
        );
        assert_eq!(
            r.status, 2,
            "{param} = {value:?} must be rejected:\n{}",
            r.stderr
        );
        eprintln!(
            "{param} = {value:?} rejected: {}",
            r.stderr.lines().next().unwrap_or("")
        );
    }
}

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

#[test]
fn shell_words_round_trip_through_bash() {
    use hardbase::target::linux::scripts::shell_word;
    let hostile = [
        "plain",
        "",
        "it's",
        "'",
        "''",
        "$(touch canary)",
        "`touch canary`",
        "${HOME} $HOME \\ \" ; & | < > * ? [a] ~ #",
        "日本語 ＄（）",
    ];
    for value in hostile {
        let word = shell_word(value).unwrap();
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!("printf '%s' {word}"))
            .current_dir(std::env::temp_dir())
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8(out.stdout).unwrap(), value, "{word}");
    }
    for value in ["a\nb", "a\0b", "a\rb", "\u{1b}[31m"] {
        assert!(shell_word(value).is_err(), "{value:?}");
    }
}

//! linux/collect.sh and the snapshot parsers: the script passes `bash -n` and shellcheck and
//! writes only under its --out folder; run on this machine it produces a snapshot that
//! `snapshot::load` reads back with the machine's real values; every parser reports a cut or
//! corrupted file at its line; `nft -j` of the kiosk ruleset, loaded in a network namespace,
//! reduces to the profile's chains, ports and addresses; no input makes a parser panic.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use hardbase::catalog::setting::{Chain, SettingKind};
use hardbase::catalog::taxonomy::Family;
use hardbase::live::LinuxState;
use hardbase::model::DesiredState;
use hardbase::snapshot::{self, linux};
use hardbase::target::linux::{collect, nftables};
use proptest::prelude::*;

use crate::util::{in_ci, is_root, require_tool, resolve_profile, root, TempDir};

fn kiosk() -> DesiredState {
    resolve_profile(&root().join("examples/regional-bank/lobby-kiosk.toml")).unwrap()
}

fn linux_examples() -> Vec<DesiredState> {
    let out: Vec<DesiredState> = ["lobby-kiosk.toml", "relay-linux.toml"]
        .iter()
        .map(|n| resolve_profile(&root().join("examples/regional-bank").join(n)).unwrap())
        .collect();
    assert!(out
        .iter()
        .all(|s| s.profile.platform.family == Family::Linux));
    out
}

#[test]
fn collect_sh_passes_bash_n_and_shellcheck() {
    let dir = TempDir::new("collect-lint");
    for state in linux_examples() {
        let text = collect::script(&state).unwrap();
        assert_eq!(text, collect::script(&state).unwrap(), "deterministic");
        let file = dir
            .path()
            .join(format!("{}-collect.sh", state.profile.name));
        std::fs::write(&file, &text).unwrap();
        let out = Command::new("bash").arg("-n").arg(&file).output().unwrap();
        assert!(
            out.status.success(),
            "bash -n: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for path in collect::governed_paths(&state).unwrap() {
            assert!(
                text.contains(&format!("  '{path}'\n")),
                "{path} not in GOVERNED"
            );
        }
        if let Some(shellcheck) = require_tool("shellcheck") {
            let out = Command::new(shellcheck)
                .args(["-S", "warning", "-s", "bash"])
                .arg(&file)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "shellcheck {}:\n{}",
                state.profile.name,
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }
}

/// The words after `>`/`>>` outside comments and the usage text.
fn redirection_targets(script: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_heredoc = false;
    for (n, line) in script.lines().enumerate() {
        let code = line.trim_start();
        if in_heredoc {
            in_heredoc = code != "EOF";
            continue;
        }
        if code.starts_with('#') {
            continue;
        }
        in_heredoc = code.contains("<<'EOF'");
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'>' {
                let mut j = i + 1;
                if j < bytes.len() && bytes[j] == b'>' {
                    j += 1;
                }
                let rest = line[j..].trim_start();
                let word: String = rest
                    .chars()
                    .take_while(|c| !c.is_whitespace() && !matches!(c, ')' | ';' | '|'))
                    .collect();
                out.push((n + 1, word));
                i = j;
            } else {
                i += 1;
            }
        }
    }
    out
}

#[test]
fn collect_sh_writes_only_under_out() {
    for state in linux_examples() {
        let text = collect::script(&state).unwrap();
        let targets = redirection_targets(&text);
        assert!(targets.len() > 5, "{targets:?}");
        for (line, target) in targets {
            let ok =
                target.starts_with("\"$OUT") || target.starts_with('&') || target == "/dev/null";
            assert!(ok, "collect.sh:{line} writes to {target}");
        }
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            for write in [
                "mkdir", "mv", "rm", "cp", "tee", "ln", "touch", "chmod", "chown", "install",
            ] {
                if words.contains(&write) {
                    assert!(line.contains("\"$OUT"), "collect.sh:{}: {line}", n + 1);
                }
            }
            for changer in [
                "sysctl -w",
                "systemctl start",
                "systemctl enable",
                "nft -f",
                "modprobe -r",
            ] {
                assert!(!line.contains(changer), "collect.sh:{}: {line}", n + 1);
            }
        }
    }
}

fn not_collected(dir: &Path) -> serde_json::Map<String, serde_json::Value> {
    let info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("snapshot.json")).unwrap()).unwrap();
    info["not_collected"].as_object().unwrap().clone()
}

fn has_tool(name: &str) -> bool {
    Command::new("bash")
        .args([
            "-c",
            &format!("PATH=$PATH:/usr/sbin:/sbin command -v {name}"),
        ])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn real_collection_on_this_machine() {
    if in_ci() {
        assert!(is_root(), "CI runs as root");
    }
    let dir = TempDir::new("collect-real");
    let script = dir.path().join("collect.sh");
    std::fs::write(&script, collect::script(&kiosk()).unwrap()).unwrap();
    let out_dir = dir.path().join("snapshot");
    let started = Instant::now();
    let run = run_collect(&script, &out_dir, &[]);
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        run.status.success(),
        "collect.sh: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        out_dir.to_str().unwrap()
    );

    let live = snapshot::load(&out_dir).unwrap_or_else(|e| panic!("load: {e}"));
    let skipped = not_collected(&out_dir);
    let l = &live.linux;
    assert_eq!(live.info.family, "linux");
    assert!(live.info.collector.starts_with("hardbase "));
    assert!(live.info.collected_at.ends_with('Z') && live.info.collected_at.len() == 20);
    assert!(live.info.files.contains_key("files.tsv"));

    let sysctl = l.sysctl.as_ref().expect("sysctl -a is collected");
    let aslr = std::fs::read_to_string("/proc/sys/kernel/randomize_va_space").unwrap();
    assert_eq!(sysctl["kernel.randomize_va_space"], aslr.trim());

    match std::fs::read_to_string("/proc/modules") {
        Ok(text) => {
            let names: std::collections::BTreeSet<String> = text
                .lines()
                .filter_map(|l| l.split_whitespace().next())
                .map(str::to_string)
                .collect();
            // A module may load or unload between the two reads; the test tolerates neither.
            assert_eq!(l.modules_loaded.as_ref(), Some(&names));
        }
        Err(_) => {
            assert_eq!(l.modules_loaded, None);
            assert!(skipped.contains_key("proc-modules.txt"));
        }
    }
    // By default only the units the profile governs are listed, with the states systemctl gives
    // them in its full listing.
    assert!(live.info.governed_units_only);
    if has_tool("systemctl") && !skipped.contains_key("unit-files.txt") {
        let all = all_unit_files().expect("systemctl list-unit-files");
        let governed = collect::governed_units(&kiosk());
        assert!(!governed.is_empty());
        let expected: std::collections::BTreeMap<String, String> = all
            .iter()
            .filter(|(unit, _)| governed.contains(unit))
            .map(|(u, s)| (u.clone(), s.clone()))
            .collect();
        assert_eq!(l.unit_files.as_ref(), Some(&expected));
    } else {
        assert_eq!(l.unit_files, None);
        assert!(skipped.contains_key("unit-files.txt"));
    }
    // Every source is either parsed or recorded as not collected, never silently lost.
    for name in linux::FILES {
        assert!(
            live.info.files.contains_key(*name) != skipped.contains_key(*name),
            "{name}: listed {} / not collected {}",
            live.info.files.contains_key(*name),
            skipped.contains_key(*name)
        );
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    assert_eq!(
        l.users.as_ref().map(|u| u.len()),
        Some(passwd.lines().filter(|l| !l.is_empty()).count())
    );
    let files = l.files.as_ref().unwrap();
    for path in collect::governed_paths(&kiosk()).unwrap() {
        assert_eq!(files[&path].exists, Path::new(&path).exists(), "{path}");
    }
    let count = |n: Option<usize>| n.map_or("not collected".to_string(), |n| n.to_string());
    eprintln!(
        "collect.sh took {seconds:.2} s: {} files; sysctl {}, unit files {}, sshd {}, nft rules {}, modules {}, \
         audit rules {}, usbguard rules {}, packages {}, governed files {}, login.defs {}, mounts {}, \
         listening {}, users {}, groups {}; not collected: {:?}",
        live.info.files.len(),
        count(l.sysctl.as_ref().map(|m| m.len())),
        count(l.unit_files.as_ref().map(|m| m.len())),
        count(l.sshd.as_ref().map(|m| m.len())),
        count(l.nft.as_ref().map(|n| n.rules.len())),
        count(l.modules_loaded.as_ref().map(|m| m.len())),
        count(l.audit_rules.as_ref().map(|m| m.len())),
        count(l.usbguard_rules.as_ref().map(|m| m.len())),
        count(l.packages.as_ref().map(|m| m.len())),
        count(l.files.as_ref().map(|m| m.len())),
        count(l.login_defs.as_ref().map(|m| m.len())),
        count(l.mounts.as_ref().map(|m| m.len())),
        count(l.listening.as_ref().map(|m| m.len())),
        count(l.users.as_ref().map(|m| m.len())),
        count(l.groups.as_ref().map(|m| m.len())),
        skipped.keys().collect::<Vec<_>>(),
    );
    assert!(seconds < 60.0, "collect.sh took {seconds} s");

    // A second run into the same, now non-empty folder is refused and changes nothing.
    let again = run_collect(&script, &out_dir, &[]);
    assert_eq!(again.status.code(), Some(1));
    assert!(snapshot::load(&out_dir).is_ok());
}

/// Runs collect.sh `script` with `--out out` and `args`.
fn run_collect(script: &Path, out: &Path, args: &[&str]) -> std::process::Output {
    Command::new("bash")
        .arg(script)
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .unwrap()
}

/// Every unit file's state, as `systemctl list-unit-files` lists it (None without systemctl).
fn all_unit_files() -> Option<std::collections::BTreeMap<String, String>> {
    let out = Command::new("bash")
        .args([
            "-c",
            "PATH=$PATH:/usr/sbin:/sbin systemctl list-unit-files --no-legend --no-pager",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    Some(linux::unit_files(&out.stdout).unwrap())
}

/// `--all-units` lists every unit file, as systemctl does, and says so in snapshot.json; the
/// default listing says it holds only the governed units, and `import snapshot` tells the
/// reviewer which of the two its inventory shows.
#[test]
fn collect_sh_all_units_lists_every_unit_file() {
    let Some(all) = all_unit_files() else {
        assert!(!in_ci(), "CI has systemctl");
        eprintln!("skipped: systemctl is not installed");
        return;
    };
    let dir = TempDir::new("collect-all-units");
    let script = dir.path().join("collect.sh");
    std::fs::write(&script, collect::script(&kiosk()).unwrap()).unwrap();
    let catalog = crate::catalog::builtin();
    let mut titles = Vec::new();
    for (args, governed) in [(&["--all-units"][..], false), (&[][..], true)] {
        let out_dir = dir.path().join(format!("snapshot-{governed}"));
        let run = run_collect(&script, &out_dir, args);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let live = snapshot::load(&out_dir).unwrap();
        assert_eq!(live.info.governed_units_only, governed);
        if !governed {
            assert!(all.len() > collect::governed_units(&kiosk()).len());
            assert_eq!(live.linux.unit_files.as_ref(), Some(&all));
        }
        let proposal = hardbase::import::snapshot::propose(&live, "snapshot", &catalog);
        let section = proposal
            .sections
            .iter()
            .find(|s| s.key == "enabled_units")
            .unwrap();
        titles.push(section.title);
        let enabled: Vec<&str> = section
            .items
            .as_ref()
            .unwrap()
            .iter()
            .map(|i| i.text.as_str())
            .collect();
        let expected: Vec<&str> = live
            .linux
            .unit_files
            .as_ref()
            .unwrap()
            .iter()
            .filter(|(_, s)| s.as_str() == "enabled")
            .map(|(u, _)| u.as_str())
            .collect();
        assert_eq!(enabled, expected);
    }
    assert!(!titles[0].contains("--all-units"), "{}", titles[0]);
    assert!(
        titles[1].contains("collect.sh --all-units"),
        "{}",
        titles[1]
    );
}

/// systemctl exits 1 and prints nothing when none of the listed units is installed: the
/// collector records an empty listing (every governed unit absent), not a failure; a systemctl
/// that fails with a message is not collected, with the message.
#[test]
fn collect_sh_takes_no_installed_unit_as_an_empty_listing() {
    let governed = collect::governed_units(&kiosk());
    for (body, listed) in [
        // The fake checks it was asked for exactly the governed units.
        (
            format!(
                "[ \"$*\" = \"list-unit-files --no-legend --no-pager -- {}\" ] || {{ echo \"unexpected: $*\" >&2; exit 2; }}; exit 1",
                governed.join(" ")
            ),
            Some(0),
        ),
        (
            "echo 'Failed to connect to bus: No such file or directory' >&2; exit 1".to_string(),
            None,
        ),
    ] {
        let dir = TempDir::new("collect-no-units");
        let Some(bin) = tool_folder(
            dir.path(),
            &["cat", "mkdir", "mv", "rm", "sha256sum", "stat", "timeout"],
        ) else {
            return;
        };
        fake_tool(&bin, "systemctl", &body);
        let (out_dir, run, _) =
            collect_with_only(dir.path(), &bin, collect::script(&kiosk()).unwrap());
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let live = snapshot::load(&out_dir).unwrap();
        let skipped = not_collected(&out_dir);
        assert_eq!(live.linux.unit_files.as_ref().map(|u| u.len()), listed, "{skipped:?}");
        if listed.is_none() {
            assert_eq!(
                skipped["unit-files.txt"],
                format!(
                    "systemctl list-unit-files --no-legend --no-pager -- {} exited with 1: Failed to connect to bus: No such file or directory",
                    governed.join(" ")
                )
            );
        }
    }
}

/// Runs collect.sh `text` (`--out DIR/snapshot`) with only the tools of `bin` on its PATH;
/// returns the snapshot folder, the run and its seconds.
fn collect_with_only(dir: &Path, bin: &Path, text: String) -> (PathBuf, std::process::Output, f64) {
    let text = patch(
        &text,
        "\nPATH=$PATH:/usr/sbin:/sbin:/usr/bin:/bin\n",
        "\nPATH=$PATH\n",
    );
    let script = dir.join("collect.sh");
    std::fs::write(&script, text).unwrap();
    let out_dir = dir.join("snapshot");
    let started = Instant::now();
    let run = Command::new(require_tool("bash").unwrap())
        .arg(&script)
        .arg("--out")
        .arg(&out_dir)
        .env("PATH", bin)
        .output()
        .unwrap();
    (out_dir, run, started.elapsed().as_secs_f64())
}

/// `text` with `from` replaced by `to`, which must occur exactly once.
fn patch(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} in collect.sh");
    text.replacen(from, to, 1)
}

/// A PATH folder holding `names` as links to the real tools, beside the fakes a test writes.
fn tool_folder(dir: &Path, names: &[&str]) -> Option<PathBuf> {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for name in names {
        let real = require_tool(name)?;
        std::os::unix::fs::symlink(real, bin.join(name)).unwrap();
    }
    Some(bin)
}

fn fake_tool(bin: &Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = bin.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Every source runs on its own: with some tools missing, one failing, one failing for one
/// of its two commands and one hanging past the time limit, each of those is recorded in
/// not_collected with its reason (printable ASCII JSON), every other source is still
/// collected, and the folder holds exactly what snapshot.json lists.
#[test]
fn collect_sh_records_missing_failing_and_hung_tools_and_collects_the_rest() {
    let dir = TempDir::new("collect-tools");
    // Only these real tools (what collect.sh itself needs); sysctl, systemctl, modprobe,
    // dpkg-query and rpm are missing; sshd, nft, auditctl and ss are the fakes below.
    let Some(bin) = tool_folder(
        dir.path(),
        &[
            "cat",
            "mkdir",
            "mv",
            "rm",
            "sha256sum",
            "stat",
            "timeout",
            "sleep",
        ],
    ) else {
        return;
    };
    fake_tool(
        &bin,
        "sshd",
        r#"printf 'sshd: bad "quote" \\slash \303\251\ttab\nsecond line\n' >&2; echo partial; exit 3"#,
    );
    fake_tool(&bin, "nft", "echo '{\"nftables\": ['; exec sleep 30");
    fake_tool(
        &bin,
        "auditctl",
        r#"if [ "$1" = -l ]; then echo 'No rules'; else echo 'auditctl: permission denied' >&2; exit 1; fi"#,
    );
    fake_tool(
        &bin,
        "ss",
        r#"echo 'tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=1,fd=3))'"#,
    );
    let text = collect::script(&kiosk()).unwrap();
    let text = patch(&text, "\nTIMEOUT=120\n", "\nTIMEOUT=1\n");
    let (out_dir, run, seconds) = collect_with_only(dir.path(), &bin, text);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "collect.sh: {stderr}");
    assert!(seconds < 20.0, "the hung nft was not stopped: {seconds} s");

    let live = snapshot::load(&out_dir).unwrap_or_else(|e| panic!("load: {e}"));
    let skipped = not_collected(&out_dir);
    let reason = |name: &str| skipped.get(name).and_then(|v| v.as_str()).unwrap_or("");
    for (name, want) in [
        ("sysctl.txt", "sysctl is not installed"),
        ("unit-files.txt", "systemctl is not installed"),
        ("modprobe-config.txt", "modprobe is not installed"),
        ("packages.txt", "neither dpkg-query nor rpm is installed"),
        (
            "sshd-T.txt",
            r#"sshd -T exited with 3: sshd: bad "quote" \slash tab"#,
        ),
        ("nft.json", "nft -j list ruleset exited with 124: "),
        (
            "auditctl-s.txt",
            "auditctl -s exited with 1: auditctl: permission denied",
        ),
    ] {
        assert_eq!(reason(name), want, "{name}: {skipped:?}");
        assert!(!out_dir.join(name).exists(), "{name} left behind");
        assert!(
            stderr.contains(&format!("not collected: {name} (")),
            "{stderr}"
        );
    }
    let l = &live.linux;
    assert_eq!(
        l.audit_rules.as_deref(),
        Some(&[][..]),
        "auditctl -l still collected"
    );
    assert_eq!(l.listening.as_ref().map(|v| v.len()), Some(1));
    assert!(l.users.as_ref().is_some_and(|u| !u.is_empty()));
    assert!(l.files.is_some());
    // Every source is either collected or has a reason, and nothing else is in the folder.
    for name in linux::FILES {
        assert!(
            live.info.files.contains_key(*name) != skipped.contains_key(*name),
            "{name}"
        );
    }
    let mut names: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(
        names
            .iter()
            .all(|n| n == "snapshot.json" || n == "files" || live.info.files.contains_key(n)),
        "{names:?}"
    );
}

/// files.tsv and files/ for governed paths of every kind: a symbolic link (followed), a
/// dangling one, a folder, a file over the copy limit, and names the shell treats specially
/// (pattern characters, a dot file, a `.part` suffix). (A backslash in a name is left out:
/// `snapshot::load` reads it as a folder separator.)
#[test]
fn collect_sh_records_governed_paths_of_every_kind() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("collect-governed");
    let g = dir.path().join("governed");
    std::fs::create_dir_all(g.join("sub[dir]")).unwrap();
    let write = |name: &str, text: &str| {
        let path = g.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    };
    write("plain.conf", "plain\n");
    write("sub[dir]/star*?.conf", "pattern\n");
    write(".hidden", "hidden\n");
    write("half.part", "part\n");
    write("big.bin", &"x".repeat(300_000));
    std::os::unix::fs::symlink(g.join("plain.conf"), g.join("link.conf")).unwrap();
    std::os::unix::fs::symlink(g.join("nowhere"), g.join("dangling.conf")).unwrap();
    let g = g.to_str().unwrap().to_string();
    let paths: Vec<String> = [
        "plain.conf",
        "sub[dir]/star*?.conf",
        ".hidden",
        "half.part",
        "big.bin",
        "link.conf",
        "dangling.conf",
        "sub[dir]",
        "missing.conf",
    ]
    .iter()
    .map(|n| format!("{g}/{n}"))
    .collect();
    let text = collect::script(&kiosk()).unwrap();
    let start = text.find("\nGOVERNED=(\n").unwrap() + "\nGOVERNED=(\n".len();
    let end = start + text[start..].find("\n)\n").unwrap() + 1;
    let table: String = paths.iter().map(|p| format!("  '{p}'\n")).collect();
    let text = format!("{}{table}{}", &text[..start], &text[end..]);
    let script = dir.path().join("collect.sh");
    std::fs::write(&script, text).unwrap();
    let out_dir = dir.path().join("snapshot");
    let run = run_collect(&script, &out_dir, &[]);
    assert!(
        run.status.success(),
        "collect.sh: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let live = snapshot::load(&out_dir).unwrap_or_else(|e| panic!("load: {e}"));
    let files = live.linux.files.unwrap();
    let fact = |name: &str| files[&format!("{g}/{name}")].clone();
    for (name, content) in [
        ("plain.conf", "plain\n"),
        ("sub[dir]/star*?.conf", "pattern\n"),
        (".hidden", "hidden\n"),
        ("half.part", "part\n"),
        ("link.conf", "plain\n"),
    ] {
        let f = fact(name);
        assert!(f.exists, "{name}");
        assert_eq!(f.mode, Some(0o640), "{name}");
        assert_eq!(f.content.as_deref(), Some(content), "{name}");
    }
    let big = fact("big.bin");
    assert!(big.exists && big.content.is_none(), "over the copy limit");
    let folder = fact("sub[dir]");
    assert!(folder.exists && folder.content.is_none());
    assert!(!fact("dangling.conf").exists);
    assert!(!fact("missing.conf").exists);
    assert_eq!(files.len(), paths.len());
}

// ------------------------------------------------------------------------ parser robustness

/// A valid sample of every file: three or more lines, and a line that breaks it.
fn samples() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        ("sysctl.txt", "kernel.randomize_va_space = 2\nnet.ipv4.ip_forward = 0\nnet.ipv4.tcp_rmem = 4096\t131072\t6291456\n", "net.ipv4.ip_forward: 0"),
        ("unit-files.txt", "ssh.service                 enabled  enabled\ncups.socket masked enabled\nfoo.service static -\n", "ssh.service enabled enabled extra"),
        ("sshd-T.txt", "port 22\npermitrootlogin no\nciphers aes256-gcm@openssh.com,chacha20-poly1305@openssh.com\n", "PermitRootLogin no"),
        ("proc-modules.txt", "nf_tables 376832 0 - Live 0x0000000000000000\nip_tables 32768 0 - Live 0x0\nx_tables 65536 1 ip_tables, Live 0x0\n", "nf_tables"),
        ("modprobe-config.txt", "blacklist usb-storage\ninstall cramfs /bin/false\noptions snd index=0\n", "not-a-keyword usb_storage"),
        ("auditctl-l.txt", "-w /etc/passwd -p wa -k identity\n-a always,exit -F arch=b64 -S execve -k exec\n-w /etc/group -p wa -k identity\n", "w /etc/group -p wa"),
        ("auditctl-s.txt", "enabled 1\nfailure 1\npid 123\nrate_limit 0\n", "enabled"),
        ("usbguard-rules.conf", "allow id 1d6b:0002\nblock id *:*\nreject with-interface 08:*:*\n", "permit id 1d6b:0002"),
        ("packages.txt", "bash\tii \ncoreutils\tii \ntelnet\trc \n", "coreutils ii"),
        ("files.tsv", "/etc/login.defs\t1\t644\troot\troot\n/etc/nope\t0\t-\t-\t-\n/etc/shadow\t1\t640\troot\tshadow\n", "/etc/nope\t2\t-\t-\t-"),
        ("login.defs", "# comment\nPASS_MAX_DAYS\t90\nUMASK 027\nENCRYPT_METHOD SHA512\n", "PASS-MAX-DAYS 90"),
        ("mounts.txt", "proc /proc proc rw,nosuid 0 0\ntmpfs /tmp tmpfs rw,nosuid,nodev,noexec 0 0\n/dev/sda1 /mnt/with\\040space ext4 rw 0 0\n", "tmpfs /tmp tmpfs"),
        ("listening.txt", "tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:((\"sshd\",pid=1,fd=3))\nudp UNCONN 0 0 [::]:123 [::]:*\ntcp LISTEN 0 4096 127.0.0.53%lo:53 0.0.0.0:*\n", "tcp LISTEN 0 128 0.0.0.0:ssh 0.0.0.0:*"),
        ("passwd.txt", "root:x:0:0:root:/root:/bin/bash\nkiosk:x:1000:1000::/home/kiosk:/bin/sh\nnobody:x:65534:65534:nobody:/:/usr/sbin/nologin\n", "kiosk:x:thousand:1000::/home/kiosk:/bin/sh"),
        ("group.txt", "root:x:0:\nsudo:x:27:admin,ops\nkiosk:x:1000:\n", "sudo:x:27"),
        ("nft.json", "{\"nftables\": [\n{\"table\": {\"family\": \"inet\", \"name\": \"t\"}},\n{\"chain\": {\"family\": \"inet\", \"table\": \"t\", \"name\": \"input\", \"hook\": \"input\", \"policy\": \"drop\"}}\n]}\n", "{\"table\": {\"family\": \"inet\", \"name\": \"t\"}}},"),
    ]
}

#[test]
fn every_parser_has_a_sample() {
    let names: Vec<&str> = samples().iter().map(|s| s.0).collect();
    for name in linux::FILES {
        assert!(names.contains(name), "no sample for {name}");
    }
}

#[test]
fn samples_parse() {
    for (name, text, _) in samples() {
        let mut state = LinuxState::default();
        linux::parse(name, text.as_bytes(), &mut state).unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(state, LinuxState::default(), "{name}");
    }
    let mut state = LinuxState::default();
    linux::parse("mounts.txt", samples()[11].1.as_bytes(), &mut state).unwrap();
    assert!(state.mounts.unwrap().contains_key("/mnt/with space"));
}

#[test]
fn truncated_files_fail_at_the_cut_line() {
    for (name, text, _) in samples() {
        let lines: Vec<&str> = text.lines().collect();
        // Cut in the middle of the last line: every line before it is whole.
        let last = lines.len();
        let keep: usize = lines[..last - 1].iter().map(|l| l.len() + 1).sum::<usize>()
            + lines[last - 1].len() / 2;
        let cut = &text.as_bytes()[..keep];
        let e = linux::parse(name, cut, &mut LinuxState::default())
            .expect_err(&format!("{name} cut at byte {keep} parsed"));
        assert_eq!(e.file, name, "{e}");
        assert_eq!(e.line, last, "{name}: {e}");
    }
}

#[test]
fn corrupted_lines_fail_at_their_line() {
    for (name, text, bad) in samples() {
        let mut lines: Vec<&str> = text.lines().collect();
        lines[1] = bad;
        let corrupted = format!("{}\n", lines.join("\n"));
        let e = linux::parse(name, corrupted.as_bytes(), &mut LinuxState::default())
            .expect_err(&format!("{name} with `{bad}` parsed"));
        assert_eq!(e.file, name, "{e}");
        assert_eq!(e.line, 2, "{name}: {e}");
    }
    let e = linux::parse(
        "nft.json",
        b"{\"tables\": []}\n",
        &mut LinuxState::default(),
    )
    .unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("nft.json", 0));
    let e = linux::parse("auditctl-s.txt", b"failure 1\n", &mut LinuxState::default()).unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("auditctl-s.txt", 0));
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes a snapshot folder of the samples with a correct snapshot.json.
fn write_snapshot(dir: &Path) {
    let mut files = serde_json::Map::new();
    for (name, text, _) in samples() {
        std::fs::write(dir.join(name), text).unwrap();
        let hash = sha256_hex(text.as_bytes());
        files.insert(name.to_string(), hash.into());
    }
    std::fs::create_dir_all(dir.join("files/etc")).unwrap();
    std::fs::write(dir.join("files/etc/login.defs"), "UMASK 027\n").unwrap();
    let hash = sha256_hex(b"UMASK 027\n");
    files.insert("files/etc/login.defs".into(), hash.into());
    let info = serde_json::json!({
        "host": "kiosk-01", "collected_at": "2026-11-27T10:00:00Z",
        "collector": "hardbase 0.1.0 collect.sh", "family": "linux", "files": files,
        "not_collected": {},
    });
    std::fs::write(
        dir.join("snapshot.json"),
        serde_json::to_vec_pretty(&info).unwrap(),
    )
    .unwrap();
}

#[test]
fn load_verifies_snapshot_json_and_hashes() {
    let dir = TempDir::new("snapshot-load");
    let d = dir.path();
    write_snapshot(d);
    let live = snapshot::load(d).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(live.info.host, "kiosk-01");
    let files = live.linux.files.unwrap();
    assert_eq!(
        files["/etc/login.defs"].content.as_deref(),
        Some("UMASK 027\n")
    );
    assert_eq!(files["/etc/login.defs"].mode, Some(0o644));
    assert!(!files["/etc/nope"].exists);
    assert_eq!(
        live.linux.packages.unwrap().len(),
        2,
        "telnet only has its configuration left"
    );

    // A file changed after collection.
    std::fs::write(d.join("sysctl.txt"), "kernel.randomize_va_space = 0\n").unwrap();
    let e = snapshot::load(d).unwrap_err();
    assert_eq!(e.file, "sysctl.txt");
    assert!(e.message.contains("SHA-256"), "{e}");

    // A file nobody recorded.
    write_snapshot(d);
    std::fs::write(d.join("extra.txt"), "x\n").unwrap();
    assert_eq!(snapshot::load(d).unwrap_err().file, "extra.txt");
    std::fs::remove_file(d.join("extra.txt")).unwrap();

    // A recorded file that is gone.
    std::fs::remove_file(d.join("group.txt")).unwrap();
    assert_eq!(snapshot::load(d).unwrap_err().file, "group.txt");

    // snapshot.json itself: absent, not JSON, a field missing, a path escaping the folder.
    write_snapshot(d);
    let info = std::fs::read_to_string(d.join("snapshot.json")).unwrap();
    for broken in [
        info[..info.len() / 2].to_string(),
        info.replace("\"host\"", "\"hostname\""),
        info.replace("\"group.txt\"", "\"../group.txt\""),
        info.replace("\"linux\"", "\"solaris\""),
    ] {
        std::fs::write(d.join("snapshot.json"), &broken).unwrap();
        assert_eq!(
            snapshot::load(d).unwrap_err().file,
            "snapshot.json",
            "{broken}"
        );
    }
    std::fs::remove_file(d.join("snapshot.json")).unwrap();
    assert_eq!(snapshot::load(d).unwrap_err().file, "snapshot.json");

    // A present but malformed file fails the load at its line; an absent one is None.
    write_snapshot(d);
    let corrupted = "port 22\nPermitRootLogin no\n";
    std::fs::write(d.join("sshd-T.txt"), corrupted).unwrap();
    let hash = sha256_hex(corrupted.as_bytes());
    let mut info: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("snapshot.json")).unwrap()).unwrap();
    info["files"]["sshd-T.txt"] = hash.into();
    info["files"].as_object_mut().unwrap().remove("nft.json");
    std::fs::remove_file(d.join("nft.json")).unwrap();
    std::fs::write(d.join("snapshot.json"), serde_json::to_vec(&info).unwrap()).unwrap();
    let e = snapshot::load(d).unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("sshd-T.txt", 2), "{e}");
}

// ---------------------------------------------------------------- nft -j in a namespace

struct Netns {
    ip: PathBuf,
    name: String,
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new(&self.ip)
            .args(["netns", "del", &self.name])
            .output();
    }
}

/// Whether `network` (an address or prefix) contains `addr` (an address or prefix).
fn covers(network: &str, addr: &str) -> bool {
    let split = |s: &str| -> Option<(IpAddr, u32)> {
        let (a, len) = s.split_once('/').unwrap_or((s, ""));
        let a: IpAddr = a.parse().ok()?;
        let full = if a.is_ipv4() { 32 } else { 128 };
        Some((
            a,
            if len.is_empty() {
                full
            } else {
                len.parse().ok()?
            },
        ))
    };
    let (Some((n, nl)), Some((a, al))) = (split(network), split(addr)) else {
        return false;
    };
    let bits = |ip: IpAddr| -> u128 {
        match ip {
            IpAddr::V4(v) => u128::from(u32::from(v)) << 96,
            IpAddr::V6(v) => u128::from(v),
        }
    };
    if n.is_ipv4() != a.is_ipv4() || al < nl {
        return false;
    }
    let shift = if n.is_ipv4() { 32 - nl + 96 } else { 128 - nl };
    shift >= 128 || bits(n) >> shift == bits(a) >> shift
}

#[test]
fn nft_json_of_the_kiosk_ruleset_round_trips() {
    let (Some(ip), Some(nft)) = (require_tool("ip"), require_tool("nft")) else {
        return;
    };
    if !is_root() {
        assert!(!in_ci(), "CI runs as root; the namespace test needs root");
        eprintln!("SKIPPED: the network-namespace test needs root");
        return;
    }
    let state = kiosk();
    let dir = TempDir::new("collect-nft");
    let ruleset = dir.path().join("hardbase.nft");
    std::fs::write(&ruleset, &nftables::files(&state).unwrap()[0].bytes).unwrap();
    let ns = Netns {
        ip: ip.clone(),
        name: format!("hbcollect{}", std::process::id()),
    };
    let ok = |out: std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    ok(Command::new(&ip)
        .args(["netns", "add", &ns.name])
        .output()
        .unwrap());
    ok(Command::new(&ip)
        .args(["netns", "exec", &ns.name])
        .arg(&nft)
        .arg("-f")
        .arg(&ruleset)
        .output()
        .unwrap());
    let json = ok(Command::new(&ip)
        .args(["netns", "exec", &ns.name])
        .arg(&nft)
        .args(["-j", "list", "ruleset"])
        .output()
        .unwrap());
    let mut live = LinuxState::default();
    linux::parse("nft.json", &json, &mut live).unwrap_or_else(|e| panic!("{e}"));
    let parsed = live.nft.unwrap();
    assert_eq!(
        parsed.tables,
        [("inet".to_string(), "hardbase".to_string())]
    );
    for hook in ["input", "output", "forward"] {
        let chain = parsed.chains.iter().find(|c| c.name == hook).unwrap();
        assert_eq!(chain.hook.as_deref(), Some(hook));
        assert_eq!(chain.policy.as_deref(), Some("drop"), "{hook}");
    }
    let mut checked = 0;
    for s in state.settings() {
        let SettingKind::NftRule(want) = &s.kind else {
            continue;
        };
        let chain = match want.chain {
            Chain::Input => "input",
            Chain::Output => "output",
            Chain::Forward => "forward",
        };
        let rules: Vec<_> = parsed
            .rules
            .iter()
            .filter(|r| r.chain == chain && r.comment.as_deref() == Some(want.purpose.as_str()))
            .collect();
        assert!(!rules.is_empty(), "no rule for {}", want.name);
        for r in &rules {
            assert_eq!(r.verdict.as_deref(), Some("accept"));
            assert_eq!(r.ports, want.ports, "{}", want.name);
            assert_eq!(r.packets, Some(0));
        }
        for a in &want.addresses {
            assert!(
                rules
                    .iter()
                    .any(|r| r.addresses.iter().any(|n| covers(n, a))),
                "{}: {a} not in {:?}",
                want.name,
                rules.iter().map(|r| &r.addresses).collect::<Vec<_>>()
            );
        }
        checked += 1;
    }
    assert!(checked >= 4, "the kiosk declares SSH in and four flows out");
    let ssh = parsed.rules.iter().find(|r| r.ports == [22]).unwrap();
    assert_eq!(ssh.protocol.as_deref(), Some("tcp"));
    assert_eq!(
        ssh.addresses,
        ["10.10.2.10/31"],
        "saddr through the named set"
    );
    let policy = parsed
        .rules
        .iter()
        .find(|r| r.comment.as_deref() == Some("packets left to the drop policy"))
        .unwrap();
    assert_eq!(policy.packets, Some(0), "a named counter's packets");
}

// ------------------------------------------------------------------------ fuzz

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512), which in 0usize..16) {
        let name = linux::FILES[which % linux::FILES.len()];
        let _ = linux::parse(name, &bytes, &mut LinuxState::default());
        let _ = snapshot::parse_info(&bytes);
    }

    #[test]
    fn mutated_samples_never_panic(which in 0usize..16, at in 0usize..400, byte in any::<u8>()) {
        let samples = samples();
        let (name, text, _) = samples[which % samples.len()];
        let mut bytes = text.as_bytes().to_vec();
        let at = at % bytes.len();
        bytes[at] = byte;
        if let Err(e) = linux::parse(name, &bytes, &mut LinuxState::default()) {
            prop_assert_eq!(e.file, name);
        }
    }
}

/// The generated collector on this machine, then `hardbase diff` against the example kiosk:
/// the machine's real sysctl values appear as the actual values, and each status follows.
#[test]
fn real_diff_of_this_machine_against_the_kiosk_profile() {
    let dir = TempDir::new("real-diff");
    let out = dir.path().join("dist");
    let build = crate::util::run(&[
        "build",
        "examples/regional-bank/lobby-kiosk.toml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(build.status, 0, "{}", build.stderr);
    let snapshot = dir.path().join("snapshot");
    let started = std::time::Instant::now();
    let collect = run_collect(
        &out.join("lobby-kiosk-umeda/linux/collect.sh"),
        &snapshot,
        &[],
    );
    assert!(
        collect.status.success(),
        "{}",
        String::from_utf8_lossy(&collect.stderr)
    );
    let collected = started.elapsed();
    let diff = crate::util::run(&[
        "diff",
        "examples/regional-bank/lobby-kiosk.toml",
        "--live",
        snapshot.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let total = started.elapsed();
    let json: serde_json::Value = serde_json::from_str(&diff.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", diff.stdout, diff.stderr));
    // A development machine or CI runner is not a hardened kiosk: the diff says so.
    assert_eq!(diff.status, 1, "{}", diff.stderr);
    assert_eq!(json["exit_code"], 1);
    let settings: Vec<serde_json::Value> = json["controls"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["settings"].as_array().unwrap().clone())
        .collect();
    let mut checked = 0;
    for key in [
        "kernel.randomize_va_space",
        "kernel.kptr_restrict",
        "kernel.dmesg_restrict",
        "fs.suid_dumpable",
    ] {
        let proc_path = format!("/proc/sys/{}", key.replace('.', "/"));
        let Ok(real) = std::fs::read_to_string(&proc_path) else {
            continue;
        };
        let real = real.trim().to_string();
        let Some(s) = settings
            .iter()
            .find(|s| s["kind"] == "sysctl" && s["target"] == format!("sysctl {key}"))
        else {
            continue;
        };
        assert_eq!(
            s["actual"],
            real.as_str(),
            "{key}: the machine's own value is the actual value"
        );
        let expected_status = if s["expected"] == real.as_str() {
            "compliant"
        } else {
            "drift"
        };
        assert_eq!(s["status"], expected_status, "{key}: {s}");
        checked += 1;
    }
    assert!(
        checked >= 2,
        "the kiosk profile sets these sysctls and this kernel has them"
    );
    // Sources the machine lacks are not-collected, never compliant.
    for s in &settings {
        if s["status"] == "compliant" {
            assert!(
                !s["actual"].is_null(),
                "compliant needs an observed value: {s}"
            );
        }
    }
    let counts = &json["counts"]["settings"];
    let sum: u64 = counts
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    let listed = settings.len() as u64 + json["unexpected"].as_array().unwrap().len() as u64;
    assert_eq!(sum, listed, "counts add up: {counts}");
    eprintln!(
        "real diff of this machine vs lobby-kiosk-umeda: settings {counts}; collect {:.2} s, collect + diff {:.2} s",
        collected.as_secs_f64(),
        total.as_secs_f64()
    );
}

//! Every role on every platform it runs on, in its easy tier and in full, built with the
//! built-in catalog and put through the validators: Samba reads every Windows policy file and
//! tree-sitter-powershell parses every script; bash -n and shellcheck accept every Linux script,
//! `nft -c` the ruleset, `sshd -t` the drop-in on a stock sshd_config, auditctl every audit rule,
//! usbguard-rule-parser every USB rule. ciscoconfparse2 reads every network device's IOS
//! configuration.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{is_root, require_tool, root, run, TempDir};

/// The profile `name` of `role` on `platform` with `tiers`, extending the example bank's layers.
fn profile(dir: &Path, name: &str, role: &str, platform: &Value, tiers: &str) {
    let windows = platform["family"] == "windows";
    let examples = root().join("examples/regional-bank");
    let bank = examples.join(if windows {
        "bank-windows.toml"
    } else {
        "bank-common.toml"
    });
    let membership = if windows {
        "membership = \"workgroup\"\n"
    } else {
        ""
    };
    // The network devices route an ATM network of their own: one device's ATM list carries one
    // log transport, and the Windows ATMs (event forwarding) and Linux kiosks (syslog) here share
    // the bank-wide network, so a device in front of both would be refused as inconsistent.
    let network = if platform["family"] == "network" {
        "atm_networks = [\"10.60.0.0/16\"]\n"
    } else {
        ""
    };
    let text = format!(
        "[profile]\nname = \"{name}\"\nrole = \"{role}\"\nplatform = \"{}\"\n{membership}tiers = {tiers}\nextends = [{:?}]\n\n\
         [signing]\nmethod = \"windows-host\"\ncertificate_thumbprint = \"3F2A9C1B7D4E6F80A1B2C3D4E5F60718293A4B5C\"\n\n\
         [params]\natm_app_path = 'C:\\ATMApp\\bin\\atmapp.exe'\nperipheral_device_ids = ['USB\\VID_0B00&PID_0001']\n\
         wdac_policy_id = \"{{4E7A1C52-9D3B-4F0A-8C61-2B7D5E9A0F13}}\"\nwdac_policy_file = \"policies/atm.cip\"\nkiosk_usb_ids = \"0eef:0001\"\n{network}",
        platform["id"].as_str().unwrap(),
        bank.display().to_string()
    );
    std::fs::write(dir.join(format!("{name}.toml")), text).unwrap();
}

fn files_under(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| p.is_file() && p.to_string_lossy().ends_with(ext))
        .collect();
    out.sort();
    out
}

/// Every script parses as Windows PowerShell 5.1; Samba reads every policy file.
fn check_windows(folders: &[PathBuf]) {
    use crate::windows_powershell::{check_file_bytes, parse, ps7_constructs, syntax_problems};
    for folder in folders {
        let scripts = files_under(folder, ".ps1");
        assert!(scripts.len() >= 4, "{}: {scripts:?}", folder.display());
        for script in &scripts {
            let bytes = std::fs::read(script).unwrap();
            check_file_bytes(&script.display().to_string(), &bytes);
            let source = std::str::from_utf8(&bytes[3..]).unwrap();
            let tree = parse(source);
            let problems = syntax_problems(&tree, source);
            assert!(
                problems.is_empty(),
                "{}:\n{}",
                script.display(),
                problems.join("\n")
            );
            let ps7 = ps7_constructs(&tree, source);
            assert!(ps7.is_empty(), "{}:\n{}", script.display(), ps7.join("\n"));
        }
    }
    let Some(python) = crate::windows_formats::samba() else {
        return;
    };
    let pols: Vec<PathBuf> = folders
        .iter()
        .flat_map(|f| files_under(f, "Machine/registry.pol"))
        .collect();
    assert_eq!(
        pols.len(),
        folders.len(),
        "one Machine registry.pol per Windows profile"
    );
    for (dump, path) in crate::windows_formats::samba_dump(&python, "pol", &pols)
        .iter()
        .zip(&pols)
    {
        assert!(
            dump["count"].as_u64().unwrap() > 0,
            "{}: empty",
            path.display()
        );
    }
    let infs: Vec<PathBuf> = folders
        .iter()
        .flat_map(|f| files_under(f, "GptTmpl.inf"))
        .collect();
    assert_eq!(
        crate::windows_formats::samba_dump(&python, "inf", &infs).len(),
        infs.len()
    );
    let csvs: Vec<PathBuf> = folders
        .iter()
        .flat_map(|f| files_under(f, "audit.csv"))
        .collect();
    assert_eq!(
        crate::windows_formats::samba_dump(&python, "csv", &csvs).len(),
        csvs.len()
    );
}

/// bash -n and shellcheck on every script, `nft -c` on every ruleset, `sshd -t` on every
/// drop-in, usbguard-rule-parser on every USB rule.
fn check_linux(folders: &[PathBuf], tmp: &Path) {
    let mut scripts = Vec::new();
    for folder in folders {
        for script in ["apply.sh", "restore.sh", "collect.sh"] {
            let path = folder.join("linux").join(script);
            let out = Command::new("bash").arg("-n").arg(&path).output().unwrap();
            assert!(
                out.status.success(),
                "bash -n {}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            scripts.push(path);
        }
    }
    if let Some(shellcheck) = require_tool("shellcheck") {
        let out = Command::new(shellcheck)
            .args(["-S", "warning"])
            .args(&scripts)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "shellcheck:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    // auditctl's own parser on every distinct audit rule (in a user namespace: nothing reaches
    // the host's audit configuration).
    if let Some(auditctl) = require_tool("auditctl") {
        let mut rules = std::collections::BTreeSet::new();
        for folder in folders {
            let file = folder.join("linux/audit/rules.d/50-hardbase.rules");
            if let Ok(text) = std::fs::read_to_string(&file) {
                rules.extend(
                    text.lines()
                        .filter(|l| l.starts_with("-a") || l.starts_with("-w"))
                        .map(str::to_string),
                );
            }
        }
        assert!(!rules.is_empty(), "the Linux profiles carry audit rules");
        for rule in &rules {
            match crate::linux_services::auditctl_parse(&auditctl, rule) {
                Some(said) => assert!(said.is_empty(), "auditctl rejects `{rule}`: {said}"),
                None => {
                    assert!(
                        !crate::util::in_ci(),
                        "unshare -Ur failed: auditctl's parser cannot run in CI"
                    );
                    break;
                }
            }
        }
    }
    let nft = require_tool("nft");
    let sshd = require_tool("sshd");
    let usbguard = require_tool("usbguard-rule-parser");
    for (i, folder) in folders.iter().enumerate() {
        let linux = folder.join("linux");
        let ruleset = linux.join("nftables.conf");
        if let (true, Some(nft)) = (ruleset.is_file(), &nft) {
            let out = if is_root() {
                Command::new(nft).arg("-c").arg("-f").arg(&ruleset).output()
            } else {
                Command::new("unshare")
                    .arg("-rn")
                    .arg(nft)
                    .arg("-c")
                    .arg("-f")
                    .arg(&ruleset)
                    .output()
            }
            .unwrap();
            assert!(
                out.status.success(),
                "nft -c {}: {}",
                ruleset.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let drop_in = linux.join("ssh/sshd_config.d/00-hardbase.conf");
        if let (true, Some(sshd)) = (drop_in.is_file(), &sshd) {
            let bytes = std::fs::read(&drop_in).unwrap();
            let dir = tmp.join(format!("sshd-{i}"));
            std::fs::create_dir_all(&dir).unwrap();
            let merged =
                crate::linux_services::merged_config(&dir, &[("00-hardbase.conf", &bytes)]);
            let effective = crate::linux_services::effective(sshd, &merged);
            assert!(
                !effective.is_empty(),
                "{}: sshd -T printed nothing",
                drop_in.display()
            );
        }
        let usb = linux.join("usbguard/rules.conf");
        if let (true, Some(parser)) = (usb.is_file(), &usbguard) {
            for rule in std::fs::read_to_string(&usb).unwrap().lines() {
                if rule.trim().is_empty() || rule.starts_with('#') {
                    continue;
                }
                let out = Command::new(parser).arg(rule).output().unwrap();
                assert!(out.status.success(), "usbguard-rule-parser `{rule}`");
            }
        }
    }
}

#[test]
fn every_role_in_each_tier_builds_and_passes_the_validators() {
    let platforms = run(&["list", "platforms", "--format", "json"]);
    let platforms: Value = serde_json::from_str(&platforms.stdout).unwrap();
    let tmp = TempDir::new("role-matrix");
    std::fs::create_dir_all(tmp.path().join("policies")).unwrap();
    std::fs::write(tmp.path().join("policies/atm.cip"), b"compiled policy").unwrap();
    let mut names: Vec<(String, String)> = Vec::new();
    for platform in platforms.as_array().unwrap() {
        let id = platform["id"].as_str().unwrap();
        for role in platform["roles"].as_array().unwrap() {
            let role = role.as_str().unwrap();
            for (tier, tiers) in [
                ("easy", r#"["easy"]"#),
                ("full", r#"["easy", "cost-effective"]"#),
            ] {
                let name = format!("{role}-{id}-{tier}");
                profile(tmp.path(), &name, role, platform, tiers);
                names.push((name, platform["family"].as_str().unwrap().to_string()));
            }
        }
    }
    // 3 ATM + 2 × 3 Windows server + 2 × 4 Linux + 2 network platforms, each in two tiers.
    assert_eq!(names.len(), 2 * (3 + 6 + 8 + 2));
    // One build of every profile, as a pipeline would run it.
    let out = tmp.path().join("dist");
    let r = run(&[
        "build",
        tmp.path().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    for (name, _) in &names {
        for file in [
            "checklist.md",
            "checklist.en.md",
            "desired-state.json",
            "manifest.json",
        ] {
            assert!(out.join(name).join(file).is_file(), "{name}: {file}");
        }
    }
    let of = |family: &str| -> Vec<PathBuf> {
        names
            .iter()
            .filter(|(_, f)| f == family)
            .map(|(n, _)| out.join(n))
            .collect()
    };
    check_windows(&of("windows"));
    check_linux(&of("linux"), tmp.path());
    check_network(&of("network"));
}

/// ciscoconfparse2 reads every IOS configuration, which ends with `end` and carries the
/// management list before the VTY lines.
fn check_network(folders: &[PathBuf]) {
    let configs: Vec<PathBuf> = folders
        .iter()
        .flat_map(|f| files_under(f, ".cfg"))
        .collect();
    assert_eq!(
        configs.len(),
        folders.len(),
        "one configuration per network profile"
    );
    let Some(python) = crate::network_ios::ciscoconfparse2() else {
        return;
    };
    for config in &configs {
        let objs = crate::network_ios::parse(&python, config);
        let texts: Vec<&str> = objs
            .iter()
            .map(|o| o["text"].as_str().unwrap())
            .filter(|t| !t.is_empty())
            .collect();
        assert_eq!(texts.last(), Some(&"end"), "{}", config.display());
        let mgmt = texts
            .iter()
            .position(|t| *t == "ip access-list standard MGMT-ONLY");
        let vty = texts.iter().position(|t| *t == "line vty 0 15");
        assert!(mgmt.is_some() && mgmt < vty, "{}", config.display());
    }
}

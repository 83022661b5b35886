//! The built-in catalog as a whole: every control complete in both languages, every claimed
//! platform carried by settings, every attack step on a terminal addressed by a machine-checked
//! control, the coverage command counting what the catalog holds, and the example bank's
//! event forwarding consistent with its firewall.

use std::collections::BTreeSet;

use serde_json::Value;

use hardbase::catalog::taxonomy::{AttackStep, Role, PLATFORMS};
use hardbase::catalog::Catalog;
use hardbase::diag::Diagnostics;
use hardbase::source::SourceMap;

use crate::util::{run, run_in, TempDir};

pub(crate) fn builtin() -> Catalog {
    let mut sources = SourceMap::new();
    let mut diags = Diagnostics::new();
    let catalog = Catalog::load(&mut sources, true, &[], &mut diags);
    assert!(!diags.has_errors(), "the built-in catalog loads cleanly");
    catalog
}

/// Hiragana, katakana or CJK ideographs: the text is Japanese, not a copy of the English.
fn is_japanese(text: &str) -> bool {
    text.chars()
        .any(|c| matches!(c as u32, 0x3040..=0x30FF | 0x4E00..=0x9FFF | 0xFF01..=0xFF5E))
}

#[test]
fn every_control_is_complete_in_both_languages() {
    let catalog = builtin();
    let mut problems = Vec::new();
    for c in catalog.controls.values() {
        let mut bad = |what: &str| problems.push(format!("{}: {what}", c.id));
        for (what, text) in [("title", &c.title), ("criterion", &c.criterion)] {
            if text.en.trim().is_empty() {
                bad(&format!("no English {what}"));
            }
            if !is_japanese(&text.ja) {
                bad(&format!("the Japanese {what} is not Japanese"));
            }
            if text.en == text.ja {
                bad(&format!("the {what} is the same in both languages"));
            }
        }
        if c.roles.is_empty() {
            bad("no role");
        }
        if c.attack_steps.is_empty() {
            bad("no attack step");
        }
        let r = &c.references;
        if r.attack.is_empty()
            && r.cis.is_empty()
            && r.pci_atm.is_empty()
            && r.fisc.is_empty()
            && r.other.is_empty()
        {
            bad("no reference (ATT&CK, CIS, PCI ATM, FISC or other)");
        }
        // A claimed platform is carried by settings, unless the control is manual (checked by
        // evidence on the platforms it names).
        for family in &c.platforms {
            if !c.is_manual() && !c.settings.iter().any(|s| s.family == *family) {
                bad(&format!("claims {family} but has no setting for it"));
            }
        }
        for s in &c.settings {
            if !c.platforms.contains(&s.family) {
                bad(&format!(
                    "has a {} setting but does not claim {}",
                    s.family, s.family
                ));
            }
        }
        // Each role the control names can run a platform the control serves.
        if !c.platforms.is_empty() {
            for role in &c.roles {
                let served = PLATFORMS
                    .iter()
                    .any(|p| p.roles.contains(role) && c.platforms.contains(&p.family));
                if !served {
                    bad(&format!(
                        "names role {role}, which runs none of its platforms"
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        catalog.controls.len() >= 100,
        "{} controls",
        catalog.controls.len()
    );
    // Every role has controls of its own.
    for role in Role::ALL {
        assert!(
            catalog.controls.values().any(|c| c.roles.contains(role)),
            "no control for {role}"
        );
    }
}

/// Each step of an attack on an unattended terminal is addressed by at least one control of each
/// terminal role, and by at least one machine-checked control: every step has an OS setting
/// that blocks or detects it on both Windows ATMs and Linux kiosks (for physical access, the disk
/// encryption and device-connection auditing), so a manual control alone never counts.
#[test]
fn every_attack_step_on_a_terminal_has_a_machine_checked_control() {
    let r = run(&["coverage", "--format", "json"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    let rows = json["rows"].as_array().unwrap();
    for role in ["atm-terminal", "kiosk-terminal"] {
        let row = rows.iter().find(|r| r["role"] == role).unwrap();
        for cell in row["steps"].as_array().unwrap() {
            assert!(
                cell["machine_checked"].as_u64().unwrap() >= 1,
                "{role}: attack step {} has no machine-checked control ({})",
                cell["step"],
                cell["ids"]
            );
        }
    }
    // The same holds for the example bank's terminals as built.
    let r = run(&["coverage", "examples/regional-bank", "--format", "json"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    let mut terminals = 0;
    for row in json["rows"].as_array().unwrap() {
        if row["role"] != "atm-terminal" && row["role"] != "kiosk-terminal" {
            continue;
        }
        terminals += 1;
        for cell in row["steps"].as_array().unwrap() {
            assert!(
                cell["machine_checked"].as_u64().unwrap() >= 1,
                "{}: attack step {} has no enforced machine-checked control",
                row["name"],
                cell["step"]
            );
        }
    }
    assert_eq!(terminals, 3, "two ATMs and the lobby kiosk");
}

/// The coverage tables count what the catalog holds: recomputed here from the controls.
#[test]
fn coverage_counts_what_the_catalog_holds() {
    let catalog = builtin();
    let r = run(&["coverage", "--format", "json"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), Role::ALL.len());
    for role in Role::ALL {
        let row = rows.iter().find(|r| r["role"] == role.id()).unwrap();
        let of_role: Vec<_> = catalog
            .controls
            .values()
            .filter(|c| !c.include_only && c.roles.contains(role))
            .collect();
        assert_eq!(
            row["total"].as_u64().unwrap() as usize,
            of_role.len(),
            "{role}"
        );
        let categories: usize = row["categories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["easy"].as_u64().unwrap() + c["cost_effective"].as_u64().unwrap()) as usize)
            .sum();
        assert_eq!(
            categories,
            of_role.len(),
            "{role}: every control in one category and tier"
        );
        for cell in row["steps"].as_array().unwrap() {
            let step = AttackStep::from_id(cell["step"].as_str().unwrap()).unwrap();
            let want: BTreeSet<&str> = of_role
                .iter()
                .filter(|c| c.attack_steps.contains(&step))
                .map(|c| c.id.as_str())
                .collect();
            let got: BTreeSet<&str> = cell["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(got, want, "{role} {step}");
            // Manual controls are never machine-checked.
            let manual = of_role
                .iter()
                .filter(|c| c.attack_steps.contains(&step) && c.is_manual())
                .count();
            assert!(
                cell["machine_checked"].as_u64().unwrap() as usize <= want.len() - manual,
                "{role} {step}"
            );
        }
    }
    // The Markdown the README shows carries every category and step in Japanese.
    let md = run(&["coverage", "--format", "md", "--lang", "ja"]);
    assert_eq!(md.status, 0);
    for heading in [
        "通信の最小化",
        "機能の最小化",
        "権限の最小化",
        "OS機能による侵入・攻撃検知",
        "物理",
        "運用",
    ] {
        assert!(md.stdout.contains(heading), "{heading}");
    }
    for step in AttackStep::ALL {
        assert!(
            md.stdout.contains(&format!("| {} |", step.id()))
                || md.stdout.contains(&format!(" {} |", step.id()))
        );
    }
}

/// Profile mode: one row per profile, counting what each resolves to, excluded controls left out.
#[test]
fn coverage_of_the_example_bank_counts_its_profiles() {
    let r = run(&["coverage", "examples/regional-bank", "--format", "json"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let cov: Value = serde_json::from_str(&r.stdout).unwrap();
    let check = run(&["check", "examples/regional-bank", "--format", "json"]);
    let check: Value = serde_json::from_str(&check.stdout).unwrap();
    let profiles = check["profiles"].as_array().unwrap();
    let rows = cov["rows"].as_array().unwrap();
    assert_eq!(rows.len(), profiles.len());
    for p in profiles {
        let row = rows.iter().find(|r| r["profile"] == p["name"]).unwrap();
        let controls: Vec<&Value> = p["controls"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] != "excluded")
            .collect();
        assert_eq!(
            row["total"].as_u64().unwrap() as usize,
            controls.len(),
            "{}",
            p["name"]
        );
        let machine = controls
            .iter()
            .filter(|c| {
                (c["status"] == "enforced" || c["status"] == "weakened")
                    && !c["settings"].as_array().unwrap().is_empty()
            })
            .count();
        assert_eq!(
            row["machine_checked"].as_u64().unwrap() as usize,
            machine,
            "{}",
            p["name"]
        );
    }
    // The WDAC control of the ATMs is excluded under a waiver: not counted.
    let atm = rows
        .iter()
        .find(|r| r["profile"] == "branch-atm-shinjuku")
        .unwrap();
    assert!(!atm["steps"].as_array().unwrap().iter().any(|s| s["ids"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i == "FUN-APP-001")));
}

/// The example bank is complete: two ATM branches sharing the bank and fleet layers with their
/// own host addresses, a Linux kiosk, Windows and Linux relays, monitoring and management
/// servers and a branch router, all built by one command with checklists in both languages.
#[test]
fn the_example_bank_builds_every_role_with_one_command() {
    let tmp = TempDir::new("example-bank");
    let r = run_in(
        &crate::util::root(),
        &[
            "build",
            "examples/",
            "--out",
            tmp.path().join("dist").to_str().unwrap(),
        ],
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    let check = run(&["check", "examples/regional-bank", "--format", "json"]);
    let check: Value = serde_json::from_str(&check.stdout).unwrap();
    let profiles = check["profiles"].as_array().unwrap();
    let roles: BTreeSet<&str> = profiles
        .iter()
        .map(|p| p["role"].as_str().unwrap())
        .collect();
    let all: BTreeSet<&str> = Role::ALL.iter().map(|r| r.id()).collect();
    assert_eq!(roles, all, "every role has an example");
    let atms: Vec<&Value> = profiles
        .iter()
        .filter(|p| p["role"] == "atm-terminal")
        .collect();
    assert_eq!(atms.len(), 2);
    let hosts: Vec<&Value> = atms
        .iter()
        .map(|p| {
            &p["params"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["name"] == "host_addresses")
                .unwrap()["value"]
        })
        .collect();
    assert_ne!(hosts[0], hosts[1], "each branch has its own host addresses");
    for p in atms {
        let layers: Vec<&str> = p["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        assert!(
            layers.contains(&"examples/regional-bank/bank-common.toml"),
            "{layers:?}"
        );
        assert!(
            layers.contains(&"examples/regional-bank/atm-fleet.toml"),
            "{layers:?}"
        );
    }
    let families: BTreeSet<(&str, &str)> = profiles
        .iter()
        .filter(|p| p["role"] == "relay-server")
        .map(|p| {
            (
                p["role"].as_str().unwrap(),
                p["platform"]["family"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(families.len(), 2, "a Windows and a Linux relay");
    for p in profiles {
        let name = p["name"].as_str().unwrap();
        for file in [
            "checklist.md",
            "checklist.en.md",
            "checklist.xlsx",
            "checklist.en.xlsx",
        ] {
            assert!(
                tmp.path().join("dist").join(name).join(file).is_file(),
                "{name}/{file}"
            );
        }
    }
}

/// A Windows profile that forwards events by WEF must allow the subscription manager's port in
/// its own log-forwarding flow: the bank's Windows layer does; a profile that leaves the syslog
/// port in place is refused at the subscription manager's value.
#[test]
fn event_forwarding_goes_through_the_log_forwarding_flow() {
    let check = run(&["check", "examples/regional-bank", "--format", "json"]);
    let check: Value = serde_json::from_str(&check.stdout).unwrap();
    for p in check["profiles"].as_array().unwrap() {
        if p["platform"]["family"] != "windows" {
            continue;
        }
        let forwards = p["controls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "DET-LOG-001" && c["status"] == "enforced");
        let flow = p["flows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == "log-forwarding");
        match flow {
            Some(flow) => assert_eq!(flow["ports"], serde_json::json!([5986]), "{}", p["name"]),
            // The event collector itself forwards nothing.
            None => assert!(!forwards, "{}: forwards events without a flow", p["name"]),
        }
    }
    let tmp = TempDir::new("wef-port");
    for entry in std::fs::read_dir(crate::util::root().join("examples/regional-bank")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, tmp.path().join(path.file_name().unwrap())).unwrap();
    }
    let windows = tmp.path().join("bank-windows.toml");
    let text = std::fs::read_to_string(&windows).unwrap();
    std::fs::write(&windows, text.replace("log_port = 5986\n", "")).unwrap();
    let r = run_in(
        tmp.path(),
        &["check", "relay-windows.toml", "--color", "never"],
    );
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("error[blocked-flow]: control DET-LOG-001 forwards events to wec.example-bank.internal port 5986, but the `log-forwarding` flow is 10.10.3.6 port 6514\n"),
        "{}",
        r.stderr
    );
    let line = std::fs::read_to_string(&windows)
        .unwrap()
        .lines()
        .position(|l| l.starts_with("wef_subscription_manager"))
        .unwrap()
        + 1;
    assert!(
        r.stderr
            .contains(&format!("--> bank-windows.toml:{line}:28\n")),
        "{}",
        r.stderr
    );
}

/// Every Windows setting the catalog resolves to, checked against the real baselines under
/// `../shared/samples/windows` where they cover it: a registry value a sample sets has the
/// sample's type, an audit subcategory GUID is the one auditpol names the same way, a user
/// right and a `[System Access]` key are names a real template carries.
#[test]
fn windows_settings_agree_with_the_real_baselines() {
    use hardbase::catalog::setting::{RegType, SettingKind};
    use hardbase::target::windows::{audit_csv, gpttmpl_inf, registry_pol};
    use std::collections::BTreeMap;

    let Some(samples) = crate::util::samples_dir() else {
        return;
    };
    let files: Vec<std::path::PathBuf> = walkdir::WalkDir::new(&samples)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| p.is_file())
        .collect();
    let name = |p: &std::path::Path| {
        p.file_name()
            .unwrap()
            .to_string_lossy()
            .to_ascii_lowercase()
    };
    // (key, value) → registry type number, from registry.pol and [Registry Values].
    let mut types: BTreeMap<(String, String), u32> = BTreeMap::new();
    let mut rights = BTreeSet::new();
    let mut system_access = BTreeSet::new();
    // GUID → the names real files give it (auditpol's plain name and the GPO's "Audit …" name).
    let mut audit: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let n = name(f);
        if n.ends_with(".pol") {
            for e in registry_pol::parse(&bytes).unwrap() {
                use registry_pol::PolData::*;
                let t = match e.data {
                    Sz(_) => 1,
                    ExpandSz(_) => 2,
                    Dword(_) => 4,
                    MultiSz(_) => 7,
                    Qword(_) => 11,
                    Binary(_) | None => continue,
                };
                types.insert(
                    (e.key.to_ascii_lowercase(), e.value.to_ascii_lowercase()),
                    t,
                );
            }
        } else if n.ends_with(".inf") {
            let t = gpttmpl_inf::parse(&bytes).unwrap();
            rights.extend(t.privilege_rights.iter().map(|(r, _)| r.clone()));
            system_access.extend(t.system_access.iter().map(|(k, _)| k.clone()));
        } else if n.ends_with(".csv") {
            for row in audit_csv::parse(&bytes).unwrap() {
                if !row.guid.is_empty() {
                    audit
                        .entry(row.guid.to_ascii_uppercase())
                        .or_default()
                        .insert(row.subcategory.trim_start_matches("Audit ").to_string());
                }
            }
        }
    }
    assert!(
        types.len() > 50 && rights.len() > 20 && audit.len() > 50,
        "the samples were read"
    );

    let platforms = run(&["list", "platforms", "--format", "json"]);
    let platforms: Value = serde_json::from_str(&platforms.stdout).unwrap();
    let tmp = TempDir::new("catalog-samples");
    std::fs::create_dir_all(tmp.path().join("policies")).unwrap();
    std::fs::write(tmp.path().join("policies/atm.cip"), b"policy").unwrap();
    let bank = crate::util::root().join("examples/regional-bank/bank-windows.toml");
    let (mut compared, mut problems) = (0, Vec::new());
    for platform in platforms
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["family"] == "windows")
    {
        for role in platform["roles"].as_array().unwrap() {
            for membership in ["workgroup", "domain"] {
                let path = tmp.path().join("p.toml");
                std::fs::write(
                    &path,
                    format!(
                        "[profile]\nname = \"p\"\nrole = {role}\nplatform = {}\nmembership = \"{membership}\"\nextends = [{:?}]\n\n\
                         [signing]\nmethod = \"windows-host\"\ncertificate_thumbprint = \"3F2A9C1B7D4E6F80A1B2C3D4E5F60718293A4B5C\"\n\n\
                         [params]\natm_app_path = 'C:\\ATMApp\\bin\\atmapp.exe'\nperipheral_device_ids = ['USB\\VID_0B00&PID_0001']\n\
                         wdac_policy_id = \"{{4E7A1C52-9D3B-4F0A-8C61-2B7D5E9A0F13}}\"\nwdac_policy_file = \"policies/atm.cip\"\n",
                        platform["id"],
                        bank.display().to_string()
                    ),
                )
                .unwrap();
                let state = crate::util::resolve_profile(&path).expect("the profile resolves");
                for s in state.settings() {
                    let at = format!("{} ({})", s.control, s.target);
                    match &s.kind {
                        SettingKind::Registry(r) if !r.absent => {
                            let key = (r.key.to_ascii_lowercase(), r.value.to_ascii_lowercase());
                            if let (Some(have), Some(t)) = (types.get(&key), r.reg_type) {
                                compared += 1;
                                let want = match t {
                                    RegType::Sz => 1,
                                    RegType::ExpandSz => 2,
                                    RegType::Dword => 4,
                                    RegType::MultiSz => 7,
                                    RegType::Qword => 11,
                                };
                                if *have != want {
                                    problems
                                        .push(format!("{at}: type {want}, the samples say {have}"));
                                }
                            }
                        }
                        SettingKind::AuditSubcategory(a) => {
                            compared += 1;
                            match audit.get(&a.guid.to_ascii_uppercase()) {
                                Some(names)
                                    if names.contains(a.name.trim_start_matches("Audit ")) => {}
                                Some(names) => problems.push(format!(
                                    "{at}: named {}, the samples say {names:?}",
                                    a.name
                                )),
                                None => {
                                    problems.push(format!("{at}: GUID {} is in no sample", a.guid))
                                }
                            }
                        }
                        SettingKind::UserRight(u) => {
                            compared += 1;
                            if !rights.contains(&u.right) {
                                problems.push(format!("{at}: {} is in no real template", u.right));
                            }
                        }
                        SettingKind::SecurityOption(o) => {
                            compared += 1;
                            if !system_access.contains(&o.key) {
                                problems.push(format!("{at}: {} is in no real template", o.key));
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(compared > 100, "{compared} settings compared");
    eprintln!("{compared} Windows settings compared with the real baselines");
}

/// Whether a firewall setting of the profile allows `proto` to `port` at `host` in `direction`.
fn allowed(
    state: &hardbase::model::DesiredState,
    outbound: bool,
    proto: hardbase::catalog::setting::Protocol,
    port: u16,
    host: &str,
) -> bool {
    use hardbase::catalog::setting::{Chain, Direction, FirewallAction, Protocol, SettingKind};
    let covers = |addrs: &[String]| {
        addrs.is_empty()
            || host.parse::<std::net::IpAddr>().is_err()
            || addrs
                .iter()
                .any(|a| hardbase::catalog::flow::address_covers(a, host))
    };
    let proto_ok = |p: Protocol| p == proto || p == Protocol::Any;
    state.settings().any(|s| match &s.kind {
        SettingKind::FirewallRule(r) => {
            r.action == FirewallAction::Allow
                && (r.direction == Direction::Outbound) == outbound
                && proto_ok(r.protocol)
                && (if outbound {
                    &r.remote_ports
                } else {
                    &r.local_ports
                })
                .contains(&port)
                && covers(&r.remote_addresses)
        }
        SettingKind::NftRule(r) => {
            (r.chain == Chain::Output) == outbound
                && proto_ok(r.protocol)
                && r.ports.contains(&port)
                && covers(&r.addresses)
        }
        _ => false,
    })
}

/// Whether the profile's firewall drops what is not allowed in that direction.
fn default_deny(state: &hardbase::model::DesiredState, outbound: bool) -> bool {
    use hardbase::catalog::setting::{Chain, ChainPolicy, FirewallAction, SettingKind};
    state.settings().any(|s| match &s.kind {
        SettingKind::FirewallProfile(p) => {
            (if outbound {
                p.default_outbound
            } else {
                p.default_inbound
            }) == FirewallAction::Block
        }
        SettingKind::NftPolicy(p) => {
            p.policy == ChainPolicy::Drop && (p.chain == Chain::Output) == outbound
        }
        _ => false,
    })
}

/// A control that turns on time synchronisation, event forwarding or name resolution comes with
/// the flow and, under a default-deny, the allow rule it needs, in the same profile: the NTP
/// servers the Windows Time policy names, the event collector the subscription manager names,
/// the DNS servers the profile names. And every declared flow of every role is open.
#[test]
fn implied_flows_come_with_their_allow_rules() {
    use hardbase::catalog::setting::{Protocol, SettingKind};
    let platforms = run(&["list", "platforms", "--format", "json"]);
    let platforms: Value = serde_json::from_str(&platforms.stdout).unwrap();
    let tmp = TempDir::new("implied-flows");
    std::fs::create_dir_all(tmp.path().join("policies")).unwrap();
    std::fs::write(tmp.path().join("policies/atm.cip"), b"policy").unwrap();
    let examples = crate::util::root().join("examples/regional-bank");
    let mut implied = 0;
    for platform in platforms.as_array().unwrap() {
        let windows = platform["family"] == "windows";
        if platform["family"] == "network" {
            continue;
        }
        for role in platform["roles"].as_array().unwrap() {
            let bank = examples.join(if windows {
                "bank-windows.toml"
            } else {
                "bank-common.toml"
            });
            let path = tmp.path().join("p.toml");
            std::fs::write(
                &path,
                format!(
                    "[profile]\nname = \"p\"\nrole = {role}\nplatform = {}\n{}extends = [{:?}]\n\n\
                     [signing]\nmethod = \"windows-host\"\ncertificate_thumbprint = \"3F2A9C1B7D4E6F80A1B2C3D4E5F60718293A4B5C\"\n\n\
                     [params]\natm_app_path = 'C:\\ATMApp\\bin\\atmapp.exe'\nperipheral_device_ids = ['USB\\VID_0B00&PID_0001']\n\
                     wdac_policy_id = \"{{4E7A1C52-9D3B-4F0A-8C61-2B7D5E9A0F13}}\"\nwdac_policy_file = \"policies/atm.cip\"\n\
                     kiosk_usb_ids = \"0eef:0001\"\ndns_servers = [\"10.10.3.53\"]\n",
                    platform["id"],
                    if windows { "membership = \"workgroup\"\n" } else { "" },
                    bank.display().to_string()
                ),
            )
            .unwrap();
            let Some(state) = crate::util::resolve_profile(&path) else {
                // dns_servers is declared for the ATM only; the others resolve without it.
                let text = std::fs::read_to_string(&path).unwrap();
                std::fs::write(&path, text.replace("dns_servers = [\"10.10.3.53\"]\n", ""))
                    .unwrap();
                let state = crate::util::resolve_profile(&path).expect("the profile resolves");
                check_implied(&state, &mut implied);
                continue;
            };
            check_implied(&state, &mut implied);
        }
    }
    eprintln!("{implied} implied flows checked");
    assert!(implied >= 10, "{implied} implied flows checked");

    fn check_implied(state: &hardbase::model::DesiredState, implied: &mut usize) {
        let label = format!(
            "{} on {}",
            state.profile.role.id(),
            state.profile.platform.id
        );
        // What the settings turn on: (what, protocol, port, host).
        let mut needs: Vec<(String, Protocol, u16, String)> = Vec::new();
        for s in state.settings() {
            match &s.kind {
                SettingKind::Registry(r) if r.value.eq_ignore_ascii_case("NtpServer") => {
                    if let Some(hardbase::catalog::setting::RegData::Text(t)) = &r.data {
                        for server in t.split_whitespace() {
                            let host = server.split(',').next().unwrap().to_string();
                            needs.push((format!("{} (NTP)", s.control), Protocol::Udp, 123, host));
                        }
                    }
                }
                SettingKind::RegistryList(l)
                    if l.key.to_ascii_lowercase().ends_with("subscriptionmanager") =>
                {
                    for item in &l.items {
                        let server = item
                            .split(',')
                            .find_map(|p| p.trim().strip_prefix("Server="))
                            .unwrap();
                        let (default, rest) = match server.strip_prefix("https://") {
                            Some(r) => (5986, r),
                            None => (5985, server.trim_start_matches("http://")),
                        };
                        let authority = rest.split('/').next().unwrap();
                        let (host, port) = match authority.rsplit_once(':') {
                            Some((h, p)) => (h.to_string(), p.parse().unwrap()),
                            None => (authority.to_string(), default),
                        };
                        needs.push((
                            format!("{} (event forwarding)", s.control),
                            Protocol::Tcp,
                            port,
                            host,
                        ));
                    }
                }
                _ => {}
            }
        }
        if let Some(dns) = state.params.iter().find(|p| p.name == "dns_servers") {
            if let hardbase::catalog::param::ParamValue::List(items) = &dns.value {
                for item in items {
                    if let hardbase::catalog::param::ParamValue::String(host) = item {
                        needs.push((
                            "dns_servers (name resolution)".into(),
                            Protocol::Udp,
                            53,
                            host.clone(),
                        ));
                    }
                }
            }
        }
        for (what, proto, port, host) in &needs {
            *implied += 1;
            let flow = state.flows.iter().find(|f| {
                f.protocol == *proto
                    && f.ports.contains(port)
                    && (host.parse::<std::net::IpAddr>().is_err()
                        || f.peers
                            .iter()
                            .any(|p| hardbase::catalog::flow::address_covers(p, host)))
            });
            assert!(
                flow.is_some(),
                "{label}: {what} needs {proto:?} {port} to {host}, and no flow carries it"
            );
            if default_deny(state, true) {
                assert!(
                    allowed(state, true, *proto, *port, host),
                    "{label}: {what} needs {proto:?} {port} to {host}; the outbound default-deny has no allow rule for it"
                );
            }
        }
        // Every declared flow is open under the profile's default-deny.
        for f in &state.flows {
            let outbound = f.direction == hardbase::catalog::flow::FlowDirection::Outbound;
            if !default_deny(state, outbound) {
                continue;
            }
            for port in &f.ports {
                for peer in &f.peers {
                    assert!(
                        allowed(
                            state,
                            outbound,
                            f.protocol,
                            *port,
                            peer.split('/').next().unwrap()
                        ),
                        "{label}: flow {} ({port} {peer}) has no allow rule",
                        f.id
                    );
                }
            }
        }
    }
}

/// A control none of whose settings applies to the machine (a setting switched off by its
/// parameter, another build, role or membership) enforces nothing there: it is manual, checked
/// by evidence, and never counted or reported as enforced without a setting to show for it.
#[test]
fn a_control_that_applies_nothing_here_is_manual() {
    let check = run(&["check", "examples/regional-bank", "--format", "json"]);
    assert_eq!(check.status, 0, "{}", check.stderr);
    let json: Value = serde_json::from_str(&check.stdout).unwrap();
    let status_of = |json: &Value, profile: &str, id: &str| -> (String, usize) {
        let p = json["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == profile)
            .unwrap();
        let c = p["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap();
        (
            c["status"].as_str().unwrap().to_string(),
            c["settings"].as_array().unwrap().len(),
        )
    };
    for p in json["profiles"].as_array().unwrap() {
        for c in p["controls"].as_array().unwrap() {
            if c["status"] == "enforced" || c["status"] == "weakened" {
                assert!(
                    !c["settings"].as_array().unwrap().is_empty(),
                    "{} {}",
                    p["name"],
                    c["id"]
                );
            }
        }
    }
    // DHCP snooping is off for the statically addressed Shinjuku ATMs: manual there.
    assert_eq!(
        status_of(&json, "branch-router-shinjuku", "COM-NET-005"),
        ("manual".to_string(), 0)
    );
    // Switched on, the same control is enforced with its settings.
    let tmp = TempDir::new("manual-when-empty");
    let router = crate::util::root().join("examples/regional-bank/branch-router-shinjuku.toml");
    std::fs::write(
        tmp.path().join("router.toml"),
        format!(
            "[profile]\nname = \"router\"\nextends = [{:?}]\n\n[params]\natm_dhcp_snooping = true\n",
            router.display().to_string()
        ),
    )
    .unwrap();
    let r = run_in(tmp.path(), &["check", "router.toml", "--format", "json"]);
    assert_eq!(r.status, 0, "{}", r.stdout);
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    let (status, settings) = status_of(&json, "router", "COM-NET-005");
    assert_eq!(status, "enforced");
    assert!(settings > 0);
}

//! Resolution: layers, waivers, attestations, origins, determinism, and all problems at once.

use serde_json::Value;

use crate::util::{fixtures, run_in};

fn check_json(case: &str, profile: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "--no-builtin",
        "--baselines",
        "../catalog",
        "check",
        profile,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let run = run_in(&fixtures().join(case), &args);
    let json: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    (run.status, json)
}

fn codes(json: &Value) -> Vec<String> {
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_problem_is_reported_in_one_run() {
    let (status, json) = check_json("many-errors", "profile.toml", &["--at", "2026-11-27"]);
    assert_eq!(status, 2);
    assert_eq!(json["valid"], false);
    assert_eq!(json["profiles"], Value::Array(vec![]));
    let mut found = codes(&json);
    found.sort();
    assert_eq!(
        found,
        [
            "expired-waiver",
            "invalid-value",
            "missing-extends",
            "unknown-control",
            "unknown-key",
            "unknown-param"
        ]
    );
    let first = &json["diagnostics"][0];
    assert_eq!(first["severity"], "error");
    assert_eq!(first["location"]["file"], "profile.toml");
    assert!(first["location"]["line"].as_u64().unwrap() >= 1);
}

#[test]
fn an_override_points_into_the_parent_layer() {
    let (status, json) = check_json("parent-override", "profile.toml", &[]);
    assert_eq!(status, 2);
    let d = &json["diagnostics"][0];
    assert_eq!(d["code"], "invalid-value");
    assert_eq!(d["location"]["file"], "profile.toml");
    assert_eq!(d["location"]["line"], 8);
    assert_eq!(d["related"][0]["location"]["file"], "bank.toml");
    assert_eq!(d["related"][0]["location"]["line"], 3);
    assert_eq!(
        d["related"][0]["message"],
        "a parent layer sets it here; this profile overrides it"
    );
}

#[test]
fn a_valid_profile_resolves_with_origins() {
    let (status, json) = check_json("valid", "atm.toml", &["--at", "2026-11-27"]);
    assert_eq!(status, 0, "{json}");
    let p = &json["profiles"][0];
    assert_eq!(p["name"], "test-atm");
    assert_eq!(p["layers"], serde_json::json!(["bank.toml", "atm.toml"]));
    assert_eq!(p["membership"], "workgroup");
    assert_eq!(p["platform"]["build"], 19044);
    let control = |id: &str| {
        p["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("{id} selected"))
            .clone()
    };
    assert_eq!(control("TST-REG-001")["status"], "excluded");
    assert_eq!(control("TST-REG-001")["waiver"]["ticket"], "SEC-1042");
    assert_eq!(control("TST-REG-001")["settings"], serde_json::json!([]));
    assert_eq!(control("TST-PHY-001")["status"], "manual");
    assert_eq!(
        control("TST-PHY-001")["attestation"]["by"],
        "branch manager"
    );
    // TST-REG-002 belongs to another role and is not selected.
    assert!(p["controls"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["id"] != "TST-REG-002"));
    let fw = control("TST-FW-001");
    let setting = &fw["settings"][0];
    assert_eq!(setting["kind"], "firewall_rule");
    assert_eq!(
        setting["value"]["remote_addresses"],
        serde_json::json!(["10.30.0.5"])
    );
    assert_eq!(setting["value"]["remote_ports"], serde_json::json!([6514]));
    assert_eq!(setting["origin"], "../catalog/controls.toml:25:1");
    assert_eq!(setting["phase"], "firewall-rules");
    let params = p["params"].as_array().unwrap();
    let param = |n: &str| params.iter().find(|x| x["name"] == n).unwrap().clone();
    assert_eq!(param("log_collector")["origin"], "bank.toml:6:17");
    assert_eq!(param("log_port")["origin"], Value::Null);
    assert_eq!(param("lockout_threshold")["value"], 3);
    // The secret is named, never valued.
    assert_eq!(p["secrets"], serde_json::json!(["kiosk_password"]));
    assert_eq!(
        param("kiosk_password")["value"],
        "<secret: supplied at apply time>"
    );
    let lockout = control("TST-ACC-001");
    assert_eq!(lockout["settings"][0]["value"]["value"], 3);
    assert_eq!(
        lockout["settings"][1]["value"]["password"],
        serde_json::json!({ "secret": "kiosk_password" })
    );
}

#[test]
fn waivers_are_evaluated_as_of_the_given_day() {
    let (status, _) = check_json("expired-waiver", "profile.toml", &["--at", "2026-10-31"]);
    assert_eq!(status, 0, "valid on its last day");
    let (status, json) = check_json("expired-waiver", "profile.toml", &["--at", "2026-11-01"]);
    assert_eq!(status, 2);
    assert_eq!(codes(&json), ["expired-waiver"]);
    let (status, _) = check_json("valid", "atm.toml", &["--at", "2027-04-01"]);
    assert_eq!(
        status, 2,
        "the valid fixture's waiver expires on 2027-03-31"
    );
}

#[test]
fn check_json_is_byte_identical_across_runs() {
    let args = [
        "--no-builtin",
        "--baselines",
        "../catalog",
        "check",
        "atm.toml",
        "--format",
        "json",
        "--at",
        "2026-11-27",
    ];
    let a = run_in(&fixtures().join("valid"), &args);
    let b = run_in(&fixtures().join("valid"), &args);
    assert_eq!(a.status, 0);
    assert_eq!(a.bytes, b.bytes);
    // The built-in catalog and the example bank too.
    let root = crate::util::root();
    let args = [
        "check",
        "examples/regional-bank",
        "--format",
        "json",
        "--at",
        "2026-11-27",
    ];
    let a = run_in(&root, &args);
    let b = run_in(&root, &args);
    assert_eq!(a.status, 0, "{}{}", a.stderr, a.stdout);
    assert_eq!(a.bytes, b.bytes);
    assert!(a.stdout.contains("\"profiles\""));
}

#[test]
fn a_parameter_weakened_under_a_waiver_is_reported_as_weakened() {
    let dir = crate::util::TempDir::new("weakened");
    std::fs::write(
        dir.path().join("profile.toml"),
        r#"[profile]
role = "atm-terminal"
platform = "windows-10-iot-ltsc-2021"
membership = "workgroup"

[params]
log_collector = "10.30.0.5"
lockout_threshold = 10

[waivers."TST-ACC-001"]
reason = "shared maintenance account during migration"
approved_by = "CISO"
ticket = "SEC-7"
scope = "weaken"
compensating_control = "maintenance only under dual control"
expires = 2027-01-31
"#,
    )
    .unwrap();
    let catalog = fixtures().join("catalog");
    let run = run_in(
        dir.path(),
        &[
            "--no-builtin",
            "--baselines",
            catalog.to_str().unwrap(),
            "check",
            "profile.toml",
            "--format",
            "json",
            "--at",
            "2026-11-27",
        ],
    );
    assert_eq!(run.status, 0, "{}", run.stdout);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    let c = json["profiles"][0]["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "TST-ACC-001")
        .unwrap()
        .clone();
    assert_eq!(c["status"], "weakened");
    assert_eq!(c["settings"][0]["value"]["value"], 10);
}

/// Every role on every platform it runs on resolves against the built-in catalog with the
/// example bank's addresses: no conflicting settings, no catalog problem, nothing missing.
#[test]
fn every_role_and_platform_resolves_with_the_builtin_catalog() {
    let platforms = crate::util::run(&["list", "platforms", "--format", "json"]);
    let platforms: Value = serde_json::from_str(&platforms.stdout).unwrap();
    let dir = crate::util::TempDir::new("roles");
    let examples = crate::util::root().join("examples/regional-bank");
    // A compiled WDAC policy is an input file; any bytes do for resolution.
    std::fs::create_dir_all(dir.path().join("policies")).unwrap();
    std::fs::write(dir.path().join("policies/atm.cip"), b"policy").unwrap();
    let mut checked = 0;
    for platform in platforms.as_array().unwrap() {
        let id = platform["id"].as_str().unwrap();
        for role in platform["roles"].as_array().unwrap() {
            let role = role.as_str().unwrap();
            for tiers in [r#"["easy"]"#, r#"["easy", "cost-effective"]"#] {
                let membership = if platform["family"] == "windows" {
                    "membership = \"workgroup\"\n"
                } else {
                    ""
                };
                // Windows machines forward events to the event collector (bank-windows.toml).
                let bank = examples.join(if platform["family"] == "windows" {
                    "bank-windows.toml"
                } else {
                    "bank-common.toml"
                });
                let text = format!(
                    "[profile]\nname = \"p\"\nrole = \"{role}\"\nplatform = \"{id}\"\n{membership}tiers = {tiers}\nextends = [{bank:?}]\n\n[signing]\nmethod = \"windows-host\"\ncertificate_thumbprint = \"3F2A9C1B7D4E6F80A1B2C3D4E5F60718293A4B5C\"\n\n[params]\natm_app_path = 'C:\\ATMApp\\bin\\atmapp.exe'\nperipheral_device_ids = ['USB\\VID_0B00&PID_0001']\nwdac_policy_id = \"{{4E7A1C52-9D3B-4F0A-8C61-2B7D5E9A0F13}}\"\nwdac_policy_file = \"policies/atm.cip\"\nkiosk_usb_ids = \"0eef:0001\"\n",
                );
                let path = dir.path().join("p.toml");
                std::fs::write(&path, text).unwrap();
                let run = crate::util::run(&[
                    "check",
                    path.to_str().unwrap(),
                    "--format",
                    "json",
                    "--at",
                    "2026-11-27",
                ]);
                assert_eq!(run.status, 0, "{role} on {id} with {tiers}: {}", run.stdout);
                let json: Value = serde_json::from_str(&run.stdout).unwrap();
                assert_eq!(json["diagnostics"], serde_json::json!([]), "{role} on {id}");
                let controls = json["profiles"][0]["controls"].as_array().unwrap();
                assert!(!controls.is_empty(), "{role} on {id} has controls");
                if tiers.contains("cost") {
                    checked += 1;
                } else {
                    assert!(
                        controls.iter().all(|c| c["tier"] == "easy"),
                        "{role} on {id}: easy tier only"
                    );
                }
            }
        }
    }
    assert_eq!(checked, 19, "every role on every platform it runs on");
}

/// Settings switched on by a parameter (`when`): an empty DNS list never becomes "allow any".
#[test]
fn conditional_firewall_rules_follow_their_parameters() {
    let dir = crate::util::TempDir::new("when");
    let atm = crate::util::root().join("examples/regional-bank/branch-atm-shinjuku.toml");
    let rules = |extra: &str| -> (Vec<String>, Vec<String>) {
        let path = dir.path().join("atm.toml");
        std::fs::write(
            &path,
            format!("[profile]\nname = \"atm\"\nextends = [{atm:?}]\n\n[params]\n{extra}"),
        )
        .unwrap();
        let run = crate::util::run(&[
            "check",
            path.to_str().unwrap(),
            "--format",
            "json",
            "--at",
            "2026-11-27",
        ]);
        assert_eq!(run.status, 0, "{}", run.stdout);
        let json: Value = serde_json::from_str(&run.stdout).unwrap();
        let p = &json["profiles"][0];
        let names = p["controls"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["settings"].as_array().unwrap().clone())
            .filter(|s| s["kind"] == "firewall_rule")
            .map(|s| {
                format!(
                    "{} {}",
                    s["value"]["name"].as_str().unwrap(),
                    s["value"]["remote_addresses"]
                )
            })
            .collect();
        let flows = p["flows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect();
        (names, flows)
    };
    let (plain, flows) = rules("");
    assert!(
        plain.iter().all(|r| !r.starts_with("HB-ATM-DNS")
            && !r.starts_with("HB-ATM-DHCP")
            && !r.starts_with("HB-ATM-ND")),
        "{plain:?}"
    );
    assert!(!flows.contains(&"dns".to_string()));
    let (with, flows) =
        rules("dns_servers = [\"10.10.3.53\"]\nuses_dhcp = true\nipv6_enabled = true\n");
    assert!(
        with.contains(&"HB-ATM-DNS-OUT [\"10.10.3.53\"]".to_string()),
        "{with:?}"
    );
    assert!(
        with.iter().any(|r| r.starts_with("HB-ATM-DHCP-OUT")),
        "{with:?}"
    );
    assert!(
        with.iter().any(|r| r.starts_with("HB-ATM-ND-IN"))
            && with.iter().any(|r| r.starts_with("HB-ATM-ND-OUT"))
    );
    assert!(flows.contains(&"dns".to_string()), "{flows:?}");
}

/// A value the GPO backup's XML cannot carry is refused by `check`, at the profile line.
#[test]
fn a_value_no_windows_artefact_can_carry_is_refused_at_its_line() {
    let dir = crate::util::TempDir::new("cdata");
    let atm = crate::util::root().join("examples/regional-bank/branch-atm-shinjuku.toml");
    let path = dir.path().join("p.toml");
    std::fs::write(
        &path,
        format!("[profile]\nname = \"x\"\nextends = [{atm:?}]\n\n[params]\nwef_subscription_manager = \"Server=a]]>b\"\n"),
    )
    .unwrap();
    let run = crate::util::run(&["check", path.to_str().unwrap(), "--format", "json"]);
    assert_eq!(run.status, 2);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    let d = &json["diagnostics"][0];
    assert_eq!(d["code"], "invalid-value");
    assert!(d["message"].as_str().unwrap().contains("`]]>`"), "{d}");
    assert_eq!(d["location"]["line"], 6);
    assert!(d["location"]["file"].as_str().unwrap().ends_with("p.toml"));
    assert_eq!(
        json["diagnostics"].as_array().unwrap().len(),
        1,
        "one error, no cascade"
    );
}

/// Auditing resolves a profile whose waiver has expired: the waiver is a finding, not a crash.
#[test]
fn an_audit_reports_an_expired_waiver_as_a_finding() {
    use hardbase::catalog::Catalog;
    use hardbase::diag::{Diagnostics, Severity};
    use hardbase::load::document::Date;
    use hardbase::resolve::{resolve, Options};
    use hardbase::source::SourceMap;
    let dir = fixtures().join("expired-waiver");
    let catalog_dir = fixtures().join("catalog");
    for (audit, resolves) in [(false, false), (true, true)] {
        let mut sources = SourceMap::new();
        let mut diags = Diagnostics::new();
        let catalog = Catalog::load(&mut sources, false, &[catalog_dir.as_path()], &mut diags);
        let options = Options {
            at: Date::parse("2026-11-27").unwrap(),
            expired_waivers_are_findings: audit,
        };
        let state = resolve(
            &dir.join("profile.toml"),
            &catalog,
            &mut sources,
            &options,
            &mut diags,
        );
        assert_eq!(state.is_some(), resolves, "audit = {audit}");
        let d = diags
            .iter()
            .find(|d| d.code.as_str() == "expired-waiver")
            .expect("the expiry is reported");
        assert_eq!(
            d.severity,
            if audit {
                Severity::Warning
            } else {
                Severity::Error
            }
        );
        if let Some(state) = state {
            let c = state
                .controls
                .iter()
                .find(|c| c.control.id == "TST-REG-001")
                .unwrap();
            assert!(c.waiver_expired);
        }
    }
}

/// A waiver that justifies nothing (the control is neither excluded nor weakened) is a warning.
#[test]
fn a_waiver_without_its_exclusion_is_a_warning() {
    let dir = crate::util::TempDir::new("idle-waiver");
    std::fs::write(
        dir.path().join("profile.toml"),
        "[profile]\nrole = \"atm-terminal\"\nplatform = \"windows-10-iot-ltsc-2021\"\nmembership = \"workgroup\"\n\n[params]\nlog_collector = \"10.30.0.5\"\n\n[waivers.\"TST-REG-001\"]\nreason = \"pilot\"\napproved_by = \"security office\"\nticket = \"SEC-9\"\nscope = \"exclude\"\ncompensating_control = \"sealed ports\"\nexpires = 2027-03-31\n",
    )
    .unwrap();
    let catalog = fixtures().join("catalog");
    let run = run_in(
        dir.path(),
        &[
            "--no-builtin",
            "--baselines",
            catalog.to_str().unwrap(),
            "check",
            "profile.toml",
            "--at",
            "2026-11-27",
        ],
    );
    assert_eq!(
        run.status, 0,
        "a warning does not fail the check: {}",
        run.stderr
    );
    assert!(
        run.stderr.starts_with("warning[unused-entry]: the waiver for TST-REG-001 has scope \"exclude\", but TST-REG-001 is not excluded; add it to `exclude` in [profile]\n  --> profile.toml:9:10\n"),
        "{}",
        run.stderr
    );
}

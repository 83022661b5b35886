//! The other commands: explain, list, schema, completions, help and build.

use std::collections::BTreeMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::util::{fixtures, python_with, root, run, run_in, TempDir};

fn fixture(args: &[&str]) -> crate::util::Run {
    let mut all = vec!["--no-builtin", "--baselines", "../catalog"];
    all.extend_from_slice(args);
    run_in(&fixtures().join("valid"), &all)
}

#[test]
fn explain_shows_everything_about_a_control() {
    let r = fixture(&["explain", "tst-fw-001"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        r#"TST-FW-001  Log forwarding allowed out
  category         communication (Communication minimization)
  tier             easy (Easy), Short-term
  roles            atm-terminal (ATM terminal)
  platforms        windows
  attack steps     NW (Network tapping or man-in-the-middle to the host)
  criterion        An outbound allow rule to the log collector exists.
  references       ATT&CK: T1070
  parameters
    log_collector (ipv4, required): Address of the log collector
    log_port (port, default 6514): Port of the log collector
  settings
    windows: firewall_rule: name = "TST-LOG-OUT", direction = "outbound", action = "allow", protocol = "tcp", remote_ports = ["${log_port}"], remote_addresses = ["${log_collector}"], purpose = "log forwarding"
  defined at       ../catalog/controls.toml:4:6
"#
    );
    let ja = fixture(&["explain", "TST-FW-001", "--lang", "ja"]);
    assert!(
        ja.stdout
            .starts_with("TST-FW-001  ログ転送の送信を許可する\n"),
        "{}",
        ja.stdout
    );
    assert!(
        ja.stdout
            .contains("達成基準         ログ収集サーバへの送信許可ルールが存在すること。"),
        "{}",
        ja.stdout
    );
    let json: Value =
        serde_json::from_str(&fixture(&["explain", "TST-ACC-001", "--format", "json"]).stdout)
            .unwrap();
    // Parameters are listed in the order the catalog declares them.
    assert_eq!(json["params"][0]["name"], "lockout_threshold");
    assert_eq!(json["params"][0]["default"], 5);
    assert_eq!(json["params"][2]["name"], "kiosk_account");
    assert_eq!(json["params"][1]["type"], "secret");
    assert_eq!(json["params"][1]["required"], false);
    assert_eq!(json["manual"], false);
}

#[test]
fn explain_an_unknown_control_suggests_one() {
    let r = fixture(&["explain", "TST-FW-01"]);
    assert_eq!(r.status, 2);
    assert_eq!(r.stdout, "");
    assert_eq!(r.stderr, "error[unknown-control]: unknown control `TST-FW-01`\n = help: did you mean `TST-FW-001`?\n\nerror: 1 error found\n");
}

fn ids(args: &[&str]) -> Vec<String> {
    let mut all = vec!["list", "controls", "--format", "json"];
    all.extend_from_slice(args);
    let r = fixture(&all);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let json: Value = serde_json::from_str(&r.stdout).unwrap();
    json.as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn list_controls_filters_by_role_tier_category_and_short_term() {
    assert_eq!(
        ids(&[]),
        [
            "TST-FW-001",
            "TST-FW-002",
            "TST-REG-001",
            "TST-REG-002",
            "TST-ACC-001",
            "TST-PHY-001"
        ]
    );
    assert_eq!(
        ids(&["--role", "relay-server"]),
        ["TST-FW-002", "TST-REG-002"]
    );
    assert_eq!(ids(&["--tier", "cost-effective"]), ["TST-REG-002"]);
    assert_eq!(ids(&["--category", "physical"]), ["TST-PHY-001"]);
    assert_eq!(ids(&["--short-term"]), ["TST-FW-001"]);
    assert_eq!(
        ids(&[
            "--role",
            "atm-terminal",
            "--tier",
            "easy",
            "--category",
            "function"
        ]),
        ["TST-REG-001"]
    );
    let text = fixture(&["list", "controls", "--role", "atm-terminal", "--lang", "ja"]);
    assert!(
        text.stdout
            .contains("TST-PHY-001  physical       easy                   yes     PC 収納部の施錠"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.ends_with("4 controls\n"));
    let bad = fixture(&["list", "controls", "--role", "atm"]);
    assert_eq!(bad.status, 2);
    assert!(
        bad.stderr
            .starts_with("error[invalid-value]: `atm` is not a valid --role\n"),
        "{}",
        bad.stderr
    );
    assert!(
        bad.stderr.contains("help: did you mean `atm-terminal`?"),
        "{}",
        bad.stderr
    );
}

#[test]
fn list_roles_and_platforms() {
    let roles: Value =
        serde_json::from_str(&run(&["list", "roles", "--format", "json"]).stdout).unwrap();
    let role_ids: Vec<&str> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        role_ids,
        [
            "atm-terminal",
            "kiosk-terminal",
            "relay-server",
            "monitoring-server",
            "management-server",
            "network-device"
        ]
    );
    assert_eq!(roles[0]["name"]["ja"], "ATM端末");
    let platforms: Value =
        serde_json::from_str(&run(&["list", "platforms", "--format", "json"]).stdout).unwrap();
    let ltsc = platforms
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "windows-10-iot-ltsc-2021")
        .unwrap();
    assert_eq!(ltsc["build"], 19044);
    assert_eq!(ltsc["roles"], serde_json::json!(["atm-terminal"]));
    assert!(run(&["list", "roles", "--lang", "ja"])
        .stdout
        .contains("relay-server       間接サーバ（中継サーバ）"));
}

#[test]
fn completions_and_help_come_from_one_definition() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let r = run(&["completions", shell]);
        assert_eq!(r.status, 0);
        for word in ["checklist", "explain", "--baselines"] {
            assert!(r.stdout.contains(word), "{shell} completion lacks {word}");
        }
    }
    let help = run(&["--help"]);
    for command in [
        "check",
        "build",
        "explain",
        "list",
        "schema",
        "checklist",
        "completions",
    ] {
        assert!(
            help.stdout.contains(&format!("  {command} ")),
            "help lists {command}:\n{}",
            help.stdout
        );
    }
    let help = run(&["checklist", "--help"]);
    assert!(
        help.stdout.contains("--lang <LANG>") && help.stdout.contains("[possible values: en, ja]"),
        "{}",
        help.stdout
    );
}

/// Converts TOML files to JSON with Python's own TOML reader and validates them against the schema.
fn validate_with_jsonschema(
    python: &std::path::Path,
    schema: &str,
    files: &[std::path::PathBuf],
) -> Vec<(String, bool, String)> {
    let dir = TempDir::new("schema");
    let schema_path = dir.path().join("schema.json");
    std::fs::write(&schema_path, schema).unwrap();
    let script = r#"
import json, sys, tomllib, datetime, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
def plain(v):
    if isinstance(v, dict): return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list): return [plain(x) for x in v]
    if isinstance(v, (datetime.date, datetime.datetime)): return v.isoformat()
    return v
for path in sys.argv[2:]:
    doc = plain(tomllib.load(open(path, "rb")))
    errors = sorted(e.message for e in validator.iter_errors(doc))
    print(json.dumps([path, not errors, "; ".join(errors)]))
"#;
    let mut args = vec![schema_path.clone()];
    args.extend(files.iter().cloned());
    String::from_utf8(crate::util::run_python(python, script, &args))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<(String, bool, String)>(l).unwrap())
        .collect()
}

#[test]
fn schema_accepts_the_examples_and_rejects_mistakes() {
    let Some(python) = python_with(&["jsonschema"]) else {
        return;
    };
    let schema = run(&["schema"]);
    assert_eq!(schema.status, 0, "{}", schema.stderr);
    let parsed: Value = serde_json::from_str(&schema.stdout).unwrap();
    assert_eq!(
        parsed["properties"]["profile"]["properties"]["role"]["enum"][0],
        "atm-terminal"
    );
    let examples: Vec<std::path::PathBuf> = walkdir::WalkDir::new(root().join("examples"))
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    assert!(examples.len() >= 4);
    for (path, ok, errors) in validate_with_jsonschema(&python, &schema.stdout, &examples) {
        assert!(ok, "{path}: {errors}");
    }
    let dir = TempDir::new("schema-bad");
    let bad = [
        (
            "unknown-key.toml",
            "[profile]\nrol = \"atm-terminal\"\n",
            "Additional properties are not allowed ('rol' was unexpected)",
        ),
        (
            "bad-port.toml",
            "[params]\nlog_port = 70000\n",
            "70000 is greater than the maximum of 65535",
        ),
        (
            "bad-role.toml",
            "[profile]\nrole = \"atm\"\n",
            "'atm' is not one of",
        ),
        (
            "bad-ip.toml",
            "[params]\nlog_collector = \"10.0.0\"\n",
            "'10.0.0' is not a 'ipv4'",
        ),
        (
            "secret.toml",
            "[params]\nkiosk_password = \"x\"\n",
            "should not be valid",
        ),
    ];
    let files: Vec<std::path::PathBuf> = bad
        .iter()
        .map(|(name, text, _)| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        })
        .collect();
    let results = validate_with_jsonschema(&python, &schema.stdout, &files);
    for ((_, ok, errors), (name, _, expected)) in results.iter().zip(bad) {
        assert!(!ok, "{name} must be rejected");
        assert!(errors.contains(expected), "{name}: {errors}");
    }
}

fn tree(dir: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

#[test]
fn build_writes_a_verified_deterministic_tree_atomically() {
    let out = TempDir::new("build");
    let dist = out.path().join("dist");
    let dist_arg = dist.to_str().unwrap();
    let r = run(&["build", "examples/", "--out", dist_arg]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let first = tree(&dist);
    let profiles: Vec<&str> = first
        .keys()
        .filter(|k| k.ends_with("/manifest.json"))
        .map(|k| k.split('/').next().unwrap())
        .collect();
    assert!(profiles.len() >= 4, "{profiles:?}");
    for profile in &profiles {
        let manifest: Value =
            serde_json::from_slice(&first[&format!("{profile}/manifest.json")]).unwrap();
        assert_eq!(manifest["generator"], "hardbase");
        assert_eq!(manifest["profile"], *profile);
        let artifacts = manifest["artifacts"].as_array().unwrap();
        let names: Vec<&str> = artifacts
            .iter()
            .map(|a| a["path"].as_str().unwrap())
            .collect();
        for expected in [
            "checklist.md",
            "checklist.csv",
            "checklist.xlsx",
            "checklist.en.md",
            "checklist.en.csv",
            "checklist.en.xlsx",
            "desired-state.json",
        ] {
            assert!(names.contains(&expected), "{profile} lacks {expected}");
        }
        for a in artifacts {
            let bytes = &first[&format!("{profile}/{}", a["path"].as_str().unwrap())];
            let digest: String = Sha256::digest(bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(a["sha256"], digest.as_str());
            assert_eq!(a["size"], bytes.len());
        }
        // Every file in the tree is in the manifest (or is the manifest), and the build said
        // how many it wrote.
        assert_eq!(
            first
                .keys()
                .filter(|k| k.starts_with(&format!("{profile}/")))
                .count(),
            artifacts.len() + 1
        );
        let said = format!("built {profile} ({} files) -> ", artifacts.len() + 1);
        assert!(r.stderr.contains(&said), "{said}: {}", r.stderr);
        assert!(manifest["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["sha256"].as_str().unwrap().len() == 64));
    }
    // Same inputs, same bytes: a second build into another folder is identical.
    let dist2 = out.path().join("dist2");
    let r = run(&["build", "examples/", "--out", dist2.to_str().unwrap()]);
    assert_eq!(r.status, 0);
    assert_eq!(first, tree(&dist2));
    // Rebuilding over our own output works; a failed build leaves it untouched.
    assert_eq!(run(&["build", "examples/", "--out", dist_arg]).status, 0);
    let broken = out.path().join("broken.toml");
    std::fs::write(
        &broken,
        "[profile]\nname = \"x\"\nrole = \"atm-terminal\"\nplatform = \"nope\"\n",
    )
    .unwrap();
    let r = run(&[
        "build",
        "examples/",
        broken.to_str().unwrap(),
        "--out",
        dist_arg,
    ]);
    assert_eq!(r.status, 2);
    assert!(
        r.stderr
            .contains("error[invalid-value]: `nope` is not a valid platform"),
        "{}",
        r.stderr
    );
    assert_eq!(
        first,
        tree(&dist),
        "a failed build leaves the previous output intact"
    );
    // A folder hardbase did not write is never replaced without --force.
    let foreign = out.path().join("foreign");
    let target = foreign.join(profiles[0]);
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("notes.txt"), "keep me").unwrap();
    let r = run(&["build", "examples/", "--out", foreign.to_str().unwrap()]);
    assert_eq!(r.status, 2);
    assert!(
        r.stderr.contains(
            "has no hardbase manifest.json; refusing to overwrite it (use --force to replace it)"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(target.join("notes.txt")).unwrap(),
        "keep me"
    );
    let r = run(&[
        "build",
        "examples/",
        "--out",
        foreign.to_str().unwrap(),
        "--force",
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(!target.join("notes.txt").exists());
}

#[test]
fn verify_detects_changed_missing_and_extra_files() {
    let out = TempDir::new("verify");
    let dist = out.path().join("dist");
    let dist_arg = dist.to_str().unwrap();
    assert_eq!(
        run(&[
            "build",
            "examples/regional-bank/branch-atm-shinjuku.toml",
            "examples/regional-bank/lobby-kiosk.toml",
            "--out",
            dist_arg
        ])
        .status,
        0
    );
    let ok = run(&["verify", dist_arg]);
    assert_eq!(ok.status, 0, "{}{}", ok.stdout, ok.stderr);
    assert_eq!(
        ok.stdout
            .lines()
            .filter(|l| l.starts_with("verified: "))
            .count(),
        2,
        "{}",
        ok.stdout
    );
    let atm = dist.join("branch-atm-shinjuku");
    std::fs::write(atm.join("checklist.md"), "edited").unwrap();
    std::fs::remove_file(atm.join("checklist.en.csv")).unwrap();
    std::fs::write(atm.join("notes.txt"), "added").unwrap();
    let bad = run(&["verify", atm.to_str().unwrap(), "--format", "json"]);
    assert_eq!(bad.status, 1, "{}", bad.stderr);
    let json: Value = serde_json::from_str(&bad.stdout).unwrap();
    assert_eq!(json["ok"], false);
    let f = &json["folders"][0];
    assert_eq!(f["changed"], serde_json::json!(["checklist.md"]));
    assert_eq!(f["missing"], serde_json::json!(["checklist.en.csv"]));
    assert_eq!(f["extra"], serde_json::json!(["notes.txt"]));
    // The kiosk's folder is untouched and still verifies on its own.
    assert_eq!(
        run(&["verify", dist.join("lobby-kiosk-umeda").to_str().unwrap()]).status,
        0
    );
    let none = run(&["verify", out.path().to_str().unwrap()]);
    assert_eq!(none.status, 2);
    assert!(
        none.stderr
            .contains("holds no manifest.json written by hardbase build"),
        "{}",
        none.stderr
    );
}

/// The customer's compiled WDAC policy is found beside the file that names it, shipped in the
/// tree with its hash in the manifest, and a missing one is an error at its line.
#[test]
fn build_ships_the_wdac_policy_file() {
    let dir = TempDir::new("wdac");
    let bank = root().join("examples/regional-bank/bank-windows.toml");
    let profile = format!(
        "[profile]\nname = \"wdac-atm\"\nrole = \"atm-terminal\"\nplatform = \"windows-10-iot-ltsc-2021\"\nmembership = \"workgroup\"\nextends = [{bank:?}]\n\n[signing]\nmethod = \"windows-host\"\ncertificate_thumbprint = \"3F2A9C1B7D4E6F80A1B2C3D4E5F60718293A4B5C\"\n\n[params]\natm_app_path = 'C:\\ATMApp\\bin\\atmapp.exe'\nperipheral_device_ids = ['USB\\VID_0B00&PID_0001']\nwdac_policy_id = \"{{4E7A1C52-9D3B-4F0A-8C61-2B7D5E9A0F13}}\"\nwdac_policy_file = \"policies/atm.cip\"\n"
    );
    let path = dir.path().join("atm.toml");
    std::fs::write(&path, profile).unwrap();
    let out = dir.path().join("dist");
    let missing = run(&[
        "build",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(missing.status, 2);
    assert!(
        missing.stderr.contains("the WDAC policy file"),
        "{}",
        missing.stderr
    );
    assert!(
        missing.stderr.contains("atm.toml:16:20"),
        "{}",
        missing.stderr
    );
    assert!(!out.exists(), "nothing is written");
    std::fs::create_dir_all(dir.path().join("policies")).unwrap();
    let policy = b"\x01\x02compiled policy bytes";
    std::fs::write(dir.path().join("policies/atm.cip"), policy).unwrap();
    let built = run(&[
        "build",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(built.status, 0, "{}", built.stderr);
    assert_eq!(
        std::fs::read(out.join("wdac-atm/windows/wdac/atm.cip")).unwrap(),
        policy
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("wdac-atm/manifest.json")).unwrap())
            .unwrap();
    let digest: String = Sha256::digest(policy)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(manifest["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["path"] == "windows/wdac/atm.cip" && a["sha256"] == digest.as_str()));
    let apply = std::fs::read_to_string(out.join("wdac-atm/windows/Apply-Hardbase.ps1")).unwrap();
    assert!(
        apply.contains("'atm.cip'"),
        "Apply deploys the shipped file"
    );
}

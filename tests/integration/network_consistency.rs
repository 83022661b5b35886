//! The terminals' firewalls against the router's ATM access list, when one run is given both:
//! the example bank passes; an ATM whose host port differs from its router's is refused at the
//! ATM's allow rule and the router's list; a router entry no terminal needs is a warning; a
//! router alone, or an ATM alone, is checked as before.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{root, run, run_in, TempDir};

/// A copy of the example bank in `tmp/bank`.
fn copy_bank(tmp: &Path) -> PathBuf {
    let bank = tmp.join("bank");
    std::fs::create_dir_all(&bank).unwrap();
    for entry in std::fs::read_dir(root().join("examples/regional-bank")).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), bank.join(entry.file_name())).unwrap();
        }
    }
    bank
}

/// Adds `lines` at the top of the `[params]` table of `file`.
fn add_params(file: &Path, lines: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains("\n[params]\n"), "{}", file.display());
    let text = text.replacen("\n[params]\n", &format!("\n[params]\n{lines}"), 1);
    std::fs::write(file, text).unwrap();
}

/// The example bank (whose Shinjuku ATM sits in the router's ATM network, 10.50.1.0/24), plus
/// `atm` and `router` parameter lines.
fn placed_bank(tmp: &Path, atm: &str, router: &str) -> PathBuf {
    let bank = copy_bank(tmp);
    let atm_profile = std::fs::read_to_string(bank.join("branch-atm-shinjuku.toml")).unwrap();
    assert!(atm_profile.contains("atm_networks = [\"10.50.1.0/24\"]"));
    add_params(&bank.join("branch-atm-shinjuku.toml"), atm);
    add_params(&bank.join("branch-router-shinjuku.toml"), router);
    bank
}

/// `file:line:col` of the first occurrence of `needle` in `text` (1-based, as diagnostics show).
fn location(name: &str, text: &str, needle: &str) -> String {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("no `{needle}` in {name}"));
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').map_or(0, |n| n + 1) + 1;
    format!("{name}:{line}:{column}")
}

/// Where the `[[control.setting]]` table holding `key` starts in a built-in baseline.
fn setting_location(baseline: &str, key: &str) -> String {
    let text = std::fs::read_to_string(root().join("baselines").join(baseline)).unwrap();
    let at = text
        .find(key)
        .unwrap_or_else(|| panic!("no `{key}` in {baseline}"));
    let table = text[..at].rfind("[[control.setting]]").unwrap();
    location(
        &format!("<built-in>/baselines/{baseline}"),
        &text,
        &text[table..at + key.len()],
    )
}

fn diagnostics(stdout: &str) -> Vec<Value> {
    let json: Value = serde_json::from_str(stdout).unwrap();
    json["diagnostics"].as_array().unwrap().clone()
}

fn with_code<'a>(diags: &'a [Value], code: &str) -> Vec<&'a Value> {
    diags.iter().filter(|d| d["code"] == code).collect()
}

fn at(location: &Value) -> String {
    format!(
        "{}:{}:{}",
        location["file"].as_str().unwrap(),
        location["line"],
        location["column"]
    )
}

#[test]
fn the_example_bank_is_consistent() {
    let r = run(&["check", "examples/regional-bank"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("[blocked-flow]"), "{}", r.stderr);
    assert!(!r.stderr.contains("[unused-entry]"), "{}", r.stderr);

    // With the Shinjuku ATM placed in the router's network the pair is compared, and agrees.
    let tmp = TempDir::new("consistency-placed");
    placed_bank(tmp.path(), "", "");
    let r = run_in(tmp.path(), &["check", "bank", "--format", "json"]);
    assert_eq!(r.status, 0, "{}", r.stdout);
    assert_eq!(diagnostics(&r.stdout), Vec::<Value>::new());
}

#[test]
fn an_atm_host_port_the_router_does_not_permit_is_refused_at_both_ends() {
    let tmp = TempDir::new("consistency-host-port");
    let bank = placed_bank(tmp.path(), "host_port = 7001\n", "");
    let atm_text = std::fs::read_to_string(bank.join("branch-atm-shinjuku.toml")).unwrap();
    let router_text = std::fs::read_to_string(bank.join("branch-router-shinjuku.toml")).unwrap();
    let rule = setting_location("communication.toml", "name = \"HB-ATM-HOST-OUT\"");
    let list = setting_location("network.toml", "name = \"${atm_acl_in}\"");
    let port = location("bank/branch-atm-shinjuku.toml", &atm_text, "7001");
    let sources = location(
        "bank/branch-router-shinjuku.toml",
        &router_text,
        "[\"10.50.1.0/24\"]\natm_interfaces",
    );
    let message = |host: &str| {
        format!("the firewall of `branch-atm-shinjuku` lets tcp from 10.50.1.0/24 to {host} port 7001 out (flow `host`), but access list ATM-IN of `branch-router-shinjuku` does not permit it")
    };

    let r = run_in(tmp.path(), &["check", "bank"]);
    assert_eq!(r.status, 2, "{}", r.stderr);
    for host in ["10.10.1.10", "10.10.1.11"] {
        let head = format!("error[blocked-flow]: {}\n", message(host));
        let at = r
            .stderr
            .find(&head)
            .unwrap_or_else(|| panic!("no `{head}` in\n{}", r.stderr));
        let block = &r.stderr[at..];
        let block = &block[..block.find("\n\n").unwrap_or(block.len())];
        for (place, label) in [
            (
                &rule,
                "COM-FW-002 firewall rule HB-ATM-HOST-OUT lets the `host` flow out",
            ),
            (
                &list,
                "COM-NET-001 ATM-IN of `branch-router-shinjuku` has no entry for it",
            ),
            (&port, "`host_port` of `branch-atm-shinjuku` is set here"),
            (
                &sources,
                "`atm_networks` of `branch-router-shinjuku` is set here",
            ),
        ] {
            assert!(
                block.contains(&format!("--> {place}\n")),
                "no {place} in\n{block}"
            );
            assert!(block.contains(label), "no `{label}` in\n{block}");
        }
        assert!(
            block.contains("= note: access list ATM-IN permits the `host` flow as: tcp from 10.50.1.0/24 to 10.10.1.10 port 7000; tcp from 10.50.1.0/24 to 10.10.1.11 port 7000\n"),
            "{block}"
        );
    }
    assert!(
        r.stderr.ends_with("error: 2 errors found\n"),
        "{}",
        r.stderr
    );

    // The same in JSON: the allow rule is the primary location, the router's list the first
    // related one; the router's 7000 entries nobody needs now are warnings.
    let r = run_in(tmp.path(), &["check", "bank", "--format", "json"]);
    assert_eq!(r.status, 2, "{}", r.stdout);
    let diags = diagnostics(&r.stdout);
    let errors = with_code(&diags, "blocked-flow");
    assert_eq!(errors.len(), 2, "{diags:#?}");
    for (d, host) in errors.iter().zip(["10.10.1.10", "10.10.1.11"]) {
        assert_eq!(d["severity"], "error");
        assert_eq!(d["message"], message(host));
        assert_eq!(at(&d["location"]), rule);
        assert_eq!(at(&d["related"][0]["location"]), list);
        let related: Vec<String> = d["related"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| at(&l["location"]))
            .collect();
        assert!(related.contains(&port), "{related:?}");
        assert!(related.contains(&sources), "{related:?}");
    }
    let warnings: Vec<&str> = with_code(&diags, "unused-entry")
        .iter()
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        warnings,
        ["10.10.1.10", "10.10.1.11"].map(|h| format!("access list ATM-IN of `branch-router-shinjuku` permits tcp from 10.50.1.0/24 to {h} port 7000 (flow `host`), which no terminal given behind it needs"))
    );

    // `build` refuses the pair and writes nothing.
    let r = run_in(tmp.path(), &["build", "bank", "--out", "dist"]);
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(r.stderr.contains(&message("10.10.1.10")), "{}", r.stderr);
    assert!(!tmp.path().join("dist").exists());
}

#[test]
fn a_router_entry_no_terminal_behind_it_needs_is_a_warning() {
    let tmp = TempDir::new("consistency-extra-entry");
    let bank = placed_bank(
        tmp.path(),
        "",
        "host_addresses = [\"10.10.1.10\", \"10.10.1.11\", \"10.10.1.12\"]\n",
    );
    let router_text = std::fs::read_to_string(bank.join("branch-router-shinjuku.toml")).unwrap();
    let list = setting_location("network.toml", "name = \"${atm_acl_in}\"");
    let sources = location(
        "bank/branch-router-shinjuku.toml",
        &router_text,
        "[\"10.50.1.0/24\"]\natm_interfaces",
    );
    let message = "access list ATM-IN of `branch-router-shinjuku` permits tcp from 10.50.1.0/24 to 10.10.1.12 port 7000 (flow `host`), which no terminal given behind it needs";

    let r = run_in(tmp.path(), &["check", "bank"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let head = format!("warning[unused-entry]: {message}\n   --> {list}\n");
    assert!(r.stderr.starts_with(&head), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("--> {sources}\n")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(
            "= note: the terminals behind it in this run: `branch-atm-shinjuku` (10.50.1.0/24)\n"
        ),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("[blocked-flow]"), "{}", r.stderr);

    let r = run_in(tmp.path(), &["check", "bank", "--format", "json"]);
    assert_eq!(r.status, 0, "{}", r.stdout);
    let diags = diagnostics(&r.stdout);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(diags[0]["severity"], "warning");
    assert_eq!(diags[0]["code"], "unused-entry");
    assert_eq!(diags[0]["message"], message);
    assert_eq!(at(&diags[0]["location"]), list);
}

#[test]
fn a_router_alone_or_an_atm_alone_is_checked_as_before() {
    let tmp = TempDir::new("consistency-alone");
    let bank = placed_bank(
        tmp.path(),
        "host_port = 7001\n",
        "host_addresses = [\"10.10.1.10\", \"10.10.1.11\", \"10.10.1.12\"]\n",
    );
    for profile in ["branch-router-shinjuku.toml", "branch-atm-shinjuku.toml"] {
        let file = bank.join(profile);
        let r = run(&["check", file.to_str().unwrap(), "--format", "json"]);
        assert_eq!(r.status, 0, "{profile}: {}", r.stdout);
        assert_eq!(diagnostics(&r.stdout), Vec::<Value>::new(), "{profile}");
    }
}

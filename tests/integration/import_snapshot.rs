//! `hardbase import snapshot`: the example kiosk's collector runs on this machine, its snapshot
//! becomes a proposed layer that parses as TOML, that a kiosk profile extends and `check`
//! accepts, and whose inventory lists the machine's listening sockets; a hostile process name
//! in a hand-edited snapshot stays inside its comment, escaped; a Windows snapshot in the
//! collector's format gives a layer listing its local administrators and automatic services.

use std::path::{Path, PathBuf};
use std::process::Command;

use hardbase::import::snapshot::inert;
use serde_json::Value;

use crate::util::{root, run, run_in, TempDir};
use crate::windows_collect::{ps51_json, sample_files, write_snapshot};

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Builds the example kiosk and runs its collector on this machine into `<dir>/snapshot`.
fn collect_this_machine(dir: &Path) -> PathBuf {
    let out = dir.join("dist");
    let build = run(&[
        "build",
        "examples/regional-bank/lobby-kiosk.toml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(build.status, 0, "{}", build.stderr);
    let snapshot = dir.join("snapshot");
    let collect = Command::new("bash")
        .arg(out.join("lobby-kiosk-umeda/linux/collect.sh"))
        .arg("--out")
        .arg(&snapshot)
        .output()
        .unwrap();
    assert!(
        collect.status.success(),
        "{}",
        String::from_utf8_lossy(&collect.stderr)
    );
    snapshot
}

/// Runs `import snapshot` into `<dir>/proposed.toml` and returns the layer text.
fn import(dir: &Path, snapshot: &Path) -> (String, String) {
    let layer = dir.join("proposed.toml");
    let r = run(&[
        "import",
        "snapshot",
        snapshot.to_str().unwrap(),
        "--output",
        layer.to_str().unwrap(),
    ]);
    assert_eq!(r.status, 0, "{}{}", r.stdout, r.stderr);
    (std::fs::read_to_string(&layer).unwrap(), r.stdout)
}

/// Copies the example bank into `dir`, the profile extending the proposed layer after its own
/// layers, and returns `hardbase check --format json` of it.
fn check_extending(dir: &Path, example: &str) -> Value {
    let examples = root().join("examples/regional-bank");
    for entry in std::fs::read_dir(&examples).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
    }
    let text = std::fs::read_to_string(examples.join(example)).unwrap();
    // The profile's own layers first, then the proposal.
    let text = text
        .lines()
        .map(|l| {
            match l
                .strip_prefix("extends = [")
                .and_then(|r| r.strip_suffix(']'))
            {
                Some(layers) => format!("extends = [{layers}, \"proposed.toml\"]"),
                None => l.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains("proposed.toml"));
    std::fs::write(dir.join("profile.toml"), text).unwrap();
    let r = run_in(dir, &["check", "profile.toml"]);
    assert_eq!(r.status, 0, "{}{}", r.stdout, r.stderr);
    let r = run_in(dir, &["check", "profile.toml", "--format", "json"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

/// The layer is TOML holding only `[profile] description` and `[params]`.
fn parse_layer(text: &str) -> toml::Table {
    let table: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("the layer is TOML: {e}\n{text}"));
    let keys: Vec<&String> = table.keys().collect();
    assert_eq!(keys, ["params", "profile"], "{text}");
    let profile = table["profile"].as_table().unwrap();
    assert_eq!(
        profile.keys().collect::<Vec<_>>(),
        ["description"],
        "{text}"
    );
    table
}

#[test]
fn the_snapshot_of_this_machine_becomes_a_layer_a_kiosk_profile_extends() {
    let tmp = TempDir::new("import-snapshot-real");
    let snapshot = collect_this_machine(tmp.path());
    let (layer, summary) = import(tmp.path(), &snapshot);
    let table = parse_layer(&layer);
    let live = hardbase::snapshot::load(&snapshot).unwrap();
    let l = &live.linux;

    // Every listening socket the collector saw is in the inventory, with what it implies.
    let listening = l.listening.clone().unwrap_or_default();
    for x in &listening {
        let line = format!("#   - {} {}:{} (", x.protocol, inert(&x.address), x.port);
        assert!(layer.contains(&line), "{line} in\n{layer}");
    }
    if l.listening.is_some() {
        assert!(
            summary.contains(&format!("listening: {} (", listening.len())),
            "{summary}"
        );
    }
    // The sshd port becomes management_port, and port 22 implies the management-ssh flow.
    let sshd_port = l
        .sshd
        .as_ref()
        .and_then(|s| s.get("port"))
        .and_then(|v| v.first())
        .and_then(|p| p.parse::<i64>().ok());
    let params = table["params"].as_table().unwrap();
    assert_eq!(
        params
            .get("management_port")
            .and_then(toml::Value::as_integer),
        sshd_port,
        "{layer}"
    );
    for x in listening
        .iter()
        .filter(|x| x.port == 22 && x.protocol == "tcp")
    {
        if !["127.0.0.1", "::1"].contains(&x.address.as_str()) {
            let line = format!("{}:22 (", x.address);
            let at = layer.find(&line).unwrap();
            let rest = &layer[at..layer[at..].find('\n').unwrap() + at];
            assert!(
                rest.contains("flow management-ssh (management_port = 22"),
                "{rest}"
            );
        }
    }
    let enabled = l
        .unit_files
        .as_ref()
        .map(|u| u.values().filter(|s| s.as_str() == "enabled").count());
    if let Some(units) = &l.unit_files {
        for (unit, _) in units.iter().filter(|(_, s)| s.as_str() == "enabled") {
            assert!(
                layer.contains(&format!("#   - {}\n", inert(unit))),
                "{unit}"
            );
        }
    }
    if let Some(packages) = &l.packages {
        assert!(layer.contains(&format!("# Installed packages: {}\n", packages.len())));
    }

    // A kiosk profile that extends the proposal resolves, and takes its values from it.
    let doc = check_extending(tmp.path(), "lobby-kiosk.toml");
    let profile = &doc["profiles"][0];
    assert!(
        profile["layers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().ends_with("proposed.toml")),
        "{}",
        profile["layers"]
    );
    if sshd_port.is_some() {
        let param = profile["params"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "management_port")
            .unwrap();
        assert!(
            param["origin"]
                .as_str()
                .unwrap()
                .starts_with("proposed.toml:"),
            "{param}"
        );
    }
    eprintln!(
        "import snapshot of this machine: parameters {:?}; listening {}; enabled units {}; \
         nft accept rules with ports or peers {}; usbguard rules {}; packages {}",
        params.keys().collect::<Vec<_>>(),
        listening.len(),
        enabled.map_or("not collected".into(), |n| n.to_string()),
        l.nft.as_ref().map_or("not collected".into(), |n| n
            .rules
            .iter()
            .filter(|r| r.verdict.as_deref() == Some("accept")
                && (!r.ports.is_empty() || !r.addresses.is_empty()))
            .count()
            .to_string()),
        l.usbguard_rules
            .as_ref()
            .map_or("not collected".into(), |r| r.len().to_string()),
        l.packages
            .as_ref()
            .map_or("not collected".into(), |p| p.len().to_string()),
    );
}

/// Replaces (or adds) one file of a snapshot folder and records its new SHA-256.
fn rewrite(snapshot: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(snapshot.join(name), bytes).unwrap();
    let path = snapshot.join("snapshot.json");
    let mut info: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    info["files"][name] = sha256_hex(bytes).into();
    if let Some(skipped) = info["not_collected"].as_object_mut() {
        skipped.remove(name);
    }
    std::fs::write(&path, serde_json::to_vec_pretty(&info).unwrap()).unwrap();
}

#[test]
fn a_hostile_process_name_in_a_linux_snapshot_stays_inert() {
    let tmp = TempDir::new("import-snapshot-hostile");
    let snapshot = collect_this_machine(tmp.path());
    let hostile = "ev\"il\u{1b}]0;pwned\u{7}\u{1b}[2J\u{7f}\u{202e}[params]";
    let mut listening = std::fs::read(snapshot.join("listening.txt")).unwrap_or_default();
    listening.extend_from_slice(
        format!("tcp LISTEN 0 128 0.0.0.0:31337 0.0.0.0:* {hostile}\n").as_bytes(),
    );
    rewrite(&snapshot, "listening.txt", &listening);
    // usbguard ids are proposed as a parameter; a hostile rule is listed, never proposed.
    let rules = "allow id 0eef:0001 serial \"\" name \"touch\u{1b}[31m\" with-interface 03:00:00\n\
                 allow id 1d6b:0002 with-interface 09:00:00\n\
                 allow id 04b8:\"\u{1b}\" name \"x\"\n";
    rewrite(&snapshot, "usbguard-rules.conf", rules.as_bytes());

    let (layer, summary) = import(tmp.path(), &snapshot);
    let table = parse_layer(&layer);
    assert!(!layer.contains('\u{1b}') && !layer.contains('\u{7}') && !layer.contains('\u{202e}'));
    assert!(!summary.contains('\u{1b}'));
    let escaped = "ev\"il\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{7f}\\u{202e}[params]";
    let line = format!("#   - tcp 0.0.0.0:31337 ({escaped})  -> no catalog flow");
    assert!(layer.contains(&line), "{line} in\n{layer}");
    assert!(layer.contains("name \"touch\\u{1b}[31m\""), "{layer}");
    assert_eq!(
        table["params"]["kiosk_usb_ids"].as_str(),
        Some("0eef:0001"),
        "hubs and malformed ids are not proposed: {layer}"
    );

    // A newline cannot be smuggled into listening.txt: it is a line the parser rejects at its
    // number, and nothing is written.
    let mut broken = listening.clone();
    broken.extend_from_slice(b"tcp LISTEN 0 128 0.0.0.0:4444 0.0.0.0:* ev\nil\n");
    rewrite(&snapshot, "listening.txt", &broken);
    let out = tmp.path().join("broken.toml");
    let r = run(&[
        "import",
        "snapshot",
        snapshot.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.status, 2, "{}{}", r.stdout, r.stderr);
    let lines = broken.iter().filter(|b| **b == b'\n').count();
    assert!(
        r.stderr.contains(&format!("listening.txt:{lines}:")),
        "{}",
        r.stderr
    );
    assert!(!out.exists());

    // The layer still resolves under a kiosk profile.
    check_extending(tmp.path(), "lobby-kiosk.toml");
}

#[test]
fn a_windows_snapshot_lists_its_administrators_and_automatic_services() {
    let tmp = TempDir::new("import-snapshot-windows");
    let hostile = "svc\"\n[params]\nkiosk_account = \"x\"\u{1b}[31m";
    let listening = serde_json::json!([
        {"Protocol": "tcp", "Address": "0.0.0.0", "Port": 135, "Pid": 900, "Process": "svchost"},
        {"Protocol": "tcp", "Address": "0.0.0.0", "Port": 3389, "Pid": 1200, "Process": hostile},
        {"Protocol": "tcp", "Address": "127.0.0.1", "Port": 5939, "Pid": 1300, "Process": "agent"}
    ]);
    let groups = serde_json::json!({
        "Groups": [
            {"Sid": "S-1-5-32-544", "Name": "Administrators", "Members": [
                {"Sid": "S-1-5-21-1-2-3-500", "Name": "Administrator"},
                {"Sid": "S-1-5-21-1-2-3-1001", "Name": "atmkiosk"}]},
            {"Sid": "S-1-5-32-545", "Name": "Users", "Members": [{"Sid": "S-1-5-21-1-2-3-1002", "Name": "op"}]}
        ],
        "Users": [
            {"Sid": "S-1-5-21-1-2-3-500", "Name": "Administrator", "Disabled": true},
            {"Sid": "S-1-5-21-1-2-3-1001", "Name": "atmkiosk", "Disabled": false}
        ]
    });
    let mut files = sample_files();
    for (name, bytes) in files.iter_mut() {
        match *name {
            "listening.json" => *bytes = ps51_json(&listening).into_bytes(),
            "group-members.json" => *bytes = ps51_json(&groups).into_bytes(),
            _ => {}
        }
    }
    let snapshot = tmp.path().join("snapshot");
    write_snapshot(&snapshot, &files, serde_json::json!({}));

    let (layer, summary) = import(tmp.path(), &snapshot);
    let table = parse_layer(&layer);
    assert!(
        table["params"].as_table().unwrap().is_empty(),
        "nothing injected: {layer}"
    );
    assert!(!layer.contains('\u{1b}'));
    assert!(summary.contains("local administrators: 2"), "{summary}");
    assert!(summary.contains("automatic services: 1"), "{summary}");
    for line in [
        "#   - S-1-5-21-1-2-3-500  -> local user \"Administrator\", disabled, the built-in Administrator",
        "#   - S-1-5-21-1-2-3-1001  -> local user \"atmkiosk\"",
        "#   - MpsSvc (Running)\n",
        "#   - client-unifiedwritefilter\n",
        "#   - tcp 0.0.0.0:135 (svchost)  -> no catalog flow",
        "#   - tcp 127.0.0.1:5939 (agent)  -> loopback only",
        "#   - tcp 0.0.0.0:3389 (svc\"\\u{a}[params]\\u{a}kiosk_account = \"x\"\\u{1b}[31m)  -> flow management-rdp (roles relay-server",
    ] {
        assert!(layer.contains(line), "{line} in\n{layer}");
    }
    assert!(
        !layer.contains("S-1-5-21-1-2-3-1002"),
        "only administrators"
    );
    assert!(
        !layer.contains("RemoteRegistry"),
        "a disabled service is not automatic"
    );
    assert!(
        !layer.contains("smb1protocol"),
        "a disabled feature is not listed"
    );

    // The Windows ATM profile extends the proposal and checks.
    check_extending(tmp.path(), "branch-atm-shinjuku.toml");
}

//! Shell Launcher v2 and Assigned Access (windows-lockdown.md sections 1 and 4): the v2
//! configuration XML read back by Python's XML parser, the scripts that apply and restore both
//! parsed as Windows PowerShell 5.1, hostile values, and the `check` refusals of kiosk lockdowns
//! that cannot share a machine.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::util::{fixtures, python_with, root, run_in, run_python, TempDir};
use crate::windows_powershell::{
    check_file_bytes, parse, ps7_constructs, shape, string_values, syntax_problems,
    unchecked_native_calls,
};

const NS: &str = "http://schemas.microsoft.com/ShellLauncher/2018/Configuration";
const NS_V2: &str = "http://schemas.microsoft.com/ShellLauncher/2019/Configuration";

/// Prints the configuration as JSON: declared namespaces, profiles and configs, with attribute
/// names in `{namespace}name` form.
const READ_XML: &str = r#"
import json, sys
import xml.etree.ElementTree as ET

path = sys.argv[1]
namespaces = [ns for _, ns in ET.iterparse(path, events=('start-ns',))]
root = ET.parse(path).getroot()
N = '{http://schemas.microsoft.com/ShellLauncher/2018/Configuration}'

def element(e):
    return {'tag': e.tag, 'attrib': dict(e.attrib), 'children': [element(c) for c in e]}

print(json.dumps({
    'root': root.tag,
    'namespaces': namespaces,
    'children': [c.tag for c in root],
    'profiles': [element(p) for p in root.find(N + 'Profiles')],
    'configs': [element(c) for c in root.find(N + 'Configs')],
}))
"#;

/// `hardbase --baselines <fixture>/baselines ARGS` run in the fixture folder.
fn in_fixture(fixture: &str, args: &[&str]) -> crate::util::Run {
    let dir = fixtures().join(fixture);
    let mut all = vec!["--baselines", "baselines"];
    all.extend_from_slice(args);
    run_in(&dir, &all)
}

/// Builds a profile of a fixture folder into `out` and returns the profile's output folder.
fn build(fixture: &str, profile: &str, out: &Path, name: &str) -> PathBuf {
    let out_arg = out.display().to_string();
    let r = in_fixture(fixture, &["build", profile, "--out", &out_arg]);
    assert_eq!(r.status, 0, "build failed:\n{}", r.stderr);
    out.join(name)
}

fn read_xml(path: &Path) -> Option<Value> {
    let python = python_with(&["xml.etree.ElementTree"])?;
    Some(serde_json::from_slice(&run_python(&python, READ_XML, [path])).unwrap())
}

fn v2(attr: &str) -> String {
    format!("{{{NS_V2}}}{attr}")
}

fn n(tag: &str) -> String {
    format!("{{{NS}}}{tag}")
}

/// The whole profile element the configuration should hold for one shell.
fn expected_profile(id: &str, shell: Value) -> Value {
    json!({ "tag": n("Profile"), "attrib": { "Id": id }, "children": [shell] })
}

fn default_action(action: &str) -> Value {
    json!({ "tag": n("DefaultAction"), "attrib": { "Action": action }, "children": [] })
}

fn expected_config(account: Value, id: &str) -> Value {
    json!({
        "tag": n("Config"),
        "attrib": {},
        "children": [
            { "tag": n("Account"), "attrib": account, "children": [] },
            { "tag": n("Profile"), "attrib": { "Id": id }, "children": [] },
        ],
    })
}

fn profile_ids(read: &Value) -> Vec<String> {
    read["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["attrib"]["Id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn v2_configuration_holds_exactly_what_the_profile_asks_for() {
    let tmp = TempDir::new("kiosk-v2-xml");
    let dir = build("kiosk-v2", "atm.toml", tmp.path(), "kiosk-v2-atm");
    let path = dir.join("windows/ShellLauncher.xml");
    let bytes = std::fs::read(&path).expect("the v2 configuration is written");
    assert!(!bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "no BOM");
    let text = String::from_utf8(bytes.clone()).expect("UTF-8");
    assert!(text.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"));
    assert_eq!(
        text.matches('\n').count(),
        text.matches("\r\n").count(),
        "CRLF only"
    );
    // Apply carries the file's hash and refuses any other file.
    let apply = std::fs::read_to_string(dir.join("windows/Apply-Hardbase.ps1")).unwrap();
    let sha = hex_sha256(&bytes);
    assert!(
        apply.contains(&format!(
            "$ShellLauncherV2 = @{{ File = 'ShellLauncher.xml'; Sha256 = '{sha}'; Accounts = @("
        )),
        "the hash of the written file is not in Apply"
    );

    let Some(read) = read_xml(&path) else { return };
    let ids = profile_ids(&read);
    assert_eq!(ids.len(), 2, "{read:#}");
    assert_ne!(ids[0], ids[1]);
    for id in &ids {
        let guid = id
            .strip_prefix('{')
            .and_then(|g| g.strip_suffix('}'))
            .unwrap_or_else(|| panic!("{id} is not in braces"));
        let uuid = uuid::Uuid::parse_str(guid).unwrap();
        assert_eq!(uuid.get_version_num(), 5, "{id}");
        assert_eq!(guid, guid.to_ascii_uppercase());
    }
    assert_eq!(
        read,
        json!({
            "root": n("ShellLauncherConfiguration"),
            "namespaces": [["", NS], ["V2", NS_V2]],
            "children": [n("Profiles"), n("Configs")],
            "profiles": [
                expected_profile(&ids[0], json!({
                    "tag": n("Shell"),
                    "attrib": {
                        "Shell": r"C:\ATMApp\bin\atmapp.exe --kiosk",
                        v2("AppType"): "Desktop",
                        v2("AllAppsFullScreen"): "true",
                    },
                    "children": [default_action("RestartDevice")],
                })),
                expected_profile(&ids[1], json!({
                    "tag": n("Shell"),
                    "attrib": { "Shell": "explorer.exe" },
                    "children": [default_action("RestartShell")],
                })),
            ],
            "configs": [
                expected_config(json!({ "Name": "atmkiosk" }), &ids[0]),
                expected_config(json!({ "Sid": "S-1-5-32-544" }), &ids[1]),
            ],
        })
    );

    // The same inputs give the same bytes; another profile name gives other profile ids.
    let again = build(
        "kiosk-v2",
        "atm.toml",
        &tmp.path().join("again"),
        "kiosk-v2-atm",
    );
    assert_eq!(
        std::fs::read(again.join("windows/ShellLauncher.xml")).unwrap(),
        bytes
    );
    let other = build(
        "kiosk-v2",
        "atm-ltsc2019.toml",
        &tmp.path().join("other"),
        "kiosk-v2-atm-2019",
    );
    let other_ids = profile_ids(&read_xml(&other.join("windows/ShellLauncher.xml")).unwrap());
    assert!(
        other_ids.iter().all(|id| !ids.contains(id)),
        "{other_ids:?}"
    );
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// Apply, Restore, the collector and the acceptance kit of a built profile: each file parses
/// as Windows PowerShell 5.1 and checks every native exit code.
fn check_scripts(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for name in [
        "Apply-Hardbase.ps1",
        "Restore-Hardbase.ps1",
        "Collect-Hardbase.ps1",
        "acceptance/Invoke-HardbaseAcceptance.ps1",
    ] {
        let bytes = std::fs::read(dir.join("windows").join(name)).unwrap();
        check_file_bytes(name, &bytes);
        let source = std::str::from_utf8(&bytes[3..]).unwrap().to_string();
        let tree = parse(&source);
        let problems = syntax_problems(&tree, &source);
        assert!(problems.is_empty(), "{name}:\n{}", problems.join("\n"));
        let ps7 = ps7_constructs(&tree, &source);
        assert!(ps7.is_empty(), "{name}:\n{}", ps7.join("\n"));
        // The collector runs its readers as script blocks (`& $Read`), not native commands.
        if !name.starts_with("Collect") {
            let (_, unchecked) = unchecked_native_calls(&tree, &source);
            assert!(unchecked.is_empty(), "{name}:\n{}", unchecked.join("\n"));
        }
        out.push((name.to_string(), source));
    }
    out
}

/// The text of one function of a script, up to the next top-level `function`.
fn function<'a>(source: &'a str, name: &str) -> &'a str {
    let start = source
        .find(&format!("\nfunction {name} {{"))
        .unwrap_or_else(|| panic!("no function {name}"));
    let rest = &source[start + 1..];
    let end = rest[1..].find("\nfunction ").map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

#[test]
fn v2_scripts_parse_as_windows_powershell_5_1() {
    let tmp = TempDir::new("kiosk-v2-scripts");
    let dir = build("kiosk-v2", "atm.toml", tmp.path(), "kiosk-v2-atm");
    let scripts = check_scripts(&dir);
    let apply = &scripts[0].1;
    let restore = &scripts[1].1;
    // v2 shells are not v1 custom shells: the v1 table is empty.
    assert!(
        apply.contains("$KioskShells = @(\r\n)"),
        "v1 table not empty"
    );
    assert!(apply.contains("$ShellLauncherV2 = @{ File = 'ShellLauncher.xml'; Sha256 = '"));
    assert!(apply.contains("    @{ Sid = ''; Account = 'atmkiosk' }\r\n) }"));
    // The phase checks everything (SYSTEM first) before it changes anything.
    let phase = function(apply, "Invoke-KioskShellPhase");
    let first_change = [
        "Set-",
        ".Set",
        "Invoke-ShellLauncherV2",
        "Invoke-AssignedAccess",
    ]
    .iter()
    .filter_map(|c| phase.find(c))
    .min()
    .unwrap();
    assert!(
        phase.find("Get-KioskShellProblems").unwrap() < first_change,
        "{phase}"
    );
    let problems = function(apply, "Get-KioskShellProblems");
    assert!(problems.contains("if (-not (Test-RunningAsSystem)) {"));
    assert!(problems.contains("psexec -i -s"));
    assert!(problems.contains("Shell Launcher v1 is configured on this machine"));
    let v2 = function(apply, "Invoke-ShellLauncherV2");
    assert!(v2.contains("Test-SameShellLauncherXml -A $current -B $wanted"));
    assert!(
        v2.find("Save-ShellLauncherV2Prior").unwrap()
            < v2.find("Set-ShellLauncherV2 -Xml").unwrap(),
        "the prior configuration is recorded before the change"
    );
    assert!(apply.contains("$bridge.ShellLauncher = [System.Net.WebUtility]::HtmlEncode($Xml)"));
    assert!(apply.contains("$bridge.ShellLauncher = $null"));
    assert!(apply.contains(
        "Get-CimInstance -Namespace 'root\\cimv2\\mdm\\dmmap' -ClassName MDM_AssignedAccess"
    ));
    assert!(restore.contains("Set-ShellLauncherV2 -Xml $wanted"));
    assert!(
        apply.contains("$AssignedAccessApps = @(\r\n)"),
        "no Assigned Access"
    );
}

#[test]
fn assigned_access_scripts_parse_as_windows_powershell_5_1() {
    let tmp = TempDir::new("kiosk-aa-scripts");
    let dir = build(
        "kiosk-assigned-access",
        "atm.toml",
        tmp.path(),
        "kiosk-aa-atm",
    );
    assert!(!dir.join("windows/ShellLauncher.xml").exists());
    let scripts = check_scripts(&dir);
    let apply = &scripts[0].1;
    let restore = &scripts[1].1;
    assert!(apply.contains("$ShellLauncherV2 = $null\r\n"));
    assert!(apply.contains(
        "$AssignedAccessApps = @(\r\n    @{ Sid = ''; Account = 'atmkiosk'; AppUserModelId = 'Contoso.AtmFrontEnd_8wekyb3d8bbwe!App' }\r\n)"
    ));
    let set = function(apply, "Invoke-AssignedAccess");
    assert!(set.contains("$sid = Resolve-LocalAccountSid -Name $a.Account"));
    assert!(set.contains("Set-AssignedAccess -AppUserModelId $a.AppUserModelId -UserSID $sid"));
    assert!(set.find("Read-AssignedAccess").unwrap() < set.find("Set-AssignedAccess").unwrap());
    let prior = function(apply, "Save-PriorState");
    assert!(prior.contains("$prior.AssignedAccess = [ordered]@{ Present = $c.Present;"));
    let back = function(restore, "Restore-KioskShell");
    assert!(back.contains("Clear-AssignedAccess"));
    assert!(back.contains("Set-AssignedAccess -AppUserModelId ([string]$assigned.AppUserModelId)"));
}

// ---------------------------------------------------------------- hostile values

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The v2 ATM with the two values, in `dir/hostile.toml` (line 6 the shell, line 7 the account).
fn hostile_profile(dir: &Path, app: &str, account: &str) {
    let parent = fixtures().join("kiosk-v2/atm.toml");
    std::fs::write(
        dir.join("hostile.toml"),
        format!(
            "[profile]\nname = \"hostile-v2\"\nextends = [{}]\n\n[params]\natm_app_path = {}\nkiosk_account = {}\n",
            toml_string(&parent.display().to_string()),
            toml_string(app),
            toml_string(account)
        ),
    )
    .unwrap();
}

enum Outcome {
    /// `check` refused the value at this `line:col` of hostile.toml (and its stderr).
    Refused(String, String),
    /// Built: the configuration and Apply carry the values exactly.
    Inert,
}

fn hardbase_in(dir: &Path, args: &[&str]) -> crate::util::Run {
    let baselines = fixtures().join("kiosk-v2/baselines").display().to_string();
    let mut all = vec!["--baselines", baselines.as_str()];
    all.extend_from_slice(args);
    run_in(dir, &all)
}

fn hostile(app: &str, account: &str) -> Outcome {
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = TempDir::new(&format!("kiosk-hostile-{run}"));
    hostile_profile(tmp.path(), app, account);
    let r = hardbase_in(tmp.path(), &["check", "hostile.toml"]);
    if r.status != 0 {
        assert_eq!(r.status, 2, "{}", r.stderr);
        let at = r
            .stderr
            .lines()
            .find_map(|l| l.trim().strip_prefix("--> hostile.toml:"))
            .unwrap_or_else(|| panic!("no location in hostile.toml:\n{}", r.stderr));
        return Outcome::Refused(at.to_string(), r.stderr);
    }
    let r = hardbase_in(tmp.path(), &["build", "hostile.toml", "--out", "dist"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let windows = tmp.path().join("dist/hostile-v2/windows");
    if let Some(read) = read_xml(&windows.join("ShellLauncher.xml")) {
        let profile = &read["profiles"][0]["children"][0];
        assert_eq!(profile["attrib"]["Shell"], app, "{read:#}");
        assert_eq!(
            read["configs"][0]["children"][0]["attrib"],
            json!({ "Name": account })
        );
        assert_eq!(read["profiles"].as_array().unwrap().len(), 2);
    }
    // Apply keeps the account as one single-quoted literal and the same syntax tree.
    let bytes = std::fs::read(windows.join("Apply-Hardbase.ps1")).unwrap();
    let source = std::str::from_utf8(&bytes[3..]).unwrap();
    let tree = parse(source);
    assert!(syntax_problems(&tree, source).is_empty());
    let values = string_values(&tree, source).unwrap();
    assert!(
        values.iter().any(|v| v == account),
        "{account:?} is not a literal"
    );
    let benign = TempDir::new(&format!("kiosk-hostile-benign-{run}"));
    hostile_profile(benign.path(), r"C:\ATMApp\bin\atmapp.exe", "atmkiosk");
    let r = hardbase_in(benign.path(), &["build", "hostile.toml", "--out", "dist"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let reference = std::fs::read(
        benign
            .path()
            .join("dist/hostile-v2/windows/Apply-Hardbase.ps1"),
    )
    .unwrap();
    let reference = std::str::from_utf8(&reference[3..]).unwrap();
    assert_eq!(
        shape(&tree),
        shape(&parse(reference)),
        "a value changed the syntax tree"
    );
    Outcome::Inert
}

#[test]
fn hostile_values_are_refused_at_their_line_or_inert() {
    // Quotes, markup, `&`, `$(...)` and backticks are carried exactly.
    for (app, account) in [
        (r#"C:\ATM\a"b<c>&d'e`$(Get-Date).exe"#, "a&b(c)%!{x}~#"),
        ("C:\\ATM\\\u{2019}x\u{2018} & <y/> \"z\".exe", "k&lt.x&amp"),
    ] {
        if let Outcome::Refused(at, stderr) = hostile(app, account) {
            panic!("{app:?} / {account:?} refused at {at}:\n{stderr}");
        }
    }
    // `]]>` and control characters in the shell are refused at the shell path's own line.
    for (app, why) in [
        ("C:\\ATM\\a]]>b.exe", "contains `]]>`"),
        ("C:\\ATM\\a\nb.exe", "control character U+000A"),
        ("C:\\ATM\\a\rb.exe", "control character U+000D"),
    ] {
        match hostile(app, "atmkiosk") {
            Outcome::Refused(at, stderr) => {
                assert_eq!(at, "6:16", "{app:?}:\n{stderr}");
                assert!(stderr.starts_with("error[invalid-value]: "), "{stderr}");
                assert!(stderr.contains(why), "{stderr}");
            }
            Outcome::Inert => panic!("{app:?} was accepted"),
        }
    }
    // An account name Windows would not accept is refused at the account's line.
    for account in ["a\"b", "a<b>", "a$(x)", "a'b", "a\nb", "a]]>b"] {
        match hostile(r"C:\ATMApp\bin\atmapp.exe", account) {
            Outcome::Refused(at, stderr) => assert!(at.starts_with("7:"), "{account:?}:\n{stderr}"),
            Outcome::Inert => panic!("{account:?} was accepted"),
        }
    }
}

// ---------------------------------------------------------------- check refusals

#[test]
fn shell_launcher_with_assigned_access_is_refused() {
    let r = in_fixture("kiosk-conflict", &["check", "atm.toml"]);
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "\
error[lockdown-conflict]: control FUN-KIO-001 sets a Shell Launcher shell and control TST-KIO-002 sets Assigned Access, which cannot both be configured on one machine
   --> baselines/kiosk.toml:13:1
   |
13 | [[control.setting]]
   | ^^^^^^^^^^^^^^^^^^^ Shell Launcher
   .
37 | [[control.setting]]
   | ------------------- Assigned Access
   |
   = note: Microsoft does not support Shell Launcher and Assigned Access on the same system: use Shell Launcher for a desktop (Win32) ATM application, Assigned Access only for a single UWP app

error: 1 error found
"
    );
}

#[test]
fn shell_launcher_v1_with_v2_is_refused() {
    let r = in_fixture("kiosk-launchers", &["check", "atm.toml"]);
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "\
error[lockdown-conflict]: control FUN-KIO-001 uses Shell Launcher v1 and control TST-KIO-003 uses Shell Launcher v2, which must not both be configured
   --> baselines/kiosk.toml:13:1
   |
13 | [[control.setting]]
   | ^^^^^^^^^^^^^^^^^^^ Shell Launcher v1 (WESL_UserSetting)
   .
37 | [[control.setting]]
   | ------------------- Shell Launcher v2 (MDM_AssignedAccess.ShellLauncher)
   |
   = note: v1 (eshell.exe) and v2 (CustomShellHost.exe) are different mechanisms: give every kiosk shell of the profile the same `launcher`

error: 1 error found
"
    );
}

#[test]
fn shell_launcher_v2_on_ltsc_2019_needs_kb4551853() {
    let r = in_fixture("kiosk-v2", &["check", "atm-ltsc2019.toml"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "\
warning[lockdown-conflict]: control FUN-KIO-001 uses Shell Launcher v2, which on Windows 10 IoT Enterprise LTSC 2019 (build 17763) needs update KB4551853
   --> baselines/kiosk.toml:29:1
   |
29 | [[control.setting]]
   | ^^^^^^^^^^^^^^^^^^^ Shell Launcher v2
   |
   = note: install KB4551853 on the image before Apply, or use `launcher = \"v1\"`

"
    );
    // On LTSC 2021 there is nothing to say.
    let r = in_fixture("kiosk-v2", &["check", "atm.toml"]);
    assert_eq!((r.status, r.stderr.as_str()), (0, ""));
}

/// No built-in platform predates build 17763, so the refusal is checked on the resolved v2
/// profile with an earlier Windows 10 build.
#[test]
fn shell_launcher_v2_before_build_17763_is_refused() {
    use hardbase::catalog::taxonomy::{Family, Platform, Role};
    use hardbase::catalog::Catalog;
    use hardbase::diag::Diagnostics;
    use hardbase::load::document::Date;
    use hardbase::resolve::{self, lockdown, Options};
    use hardbase::source::SourceMap;

    let mut sources = SourceMap::new();
    let mut diags = Diagnostics::new();
    let baselines = Path::new("tests/fixtures/kiosk-v2/baselines");
    let catalog = Catalog::load(&mut sources, true, &[baselines], &mut diags);
    let options = Options {
        at: Date::parse("2026-11-27").unwrap(),
        expired_waivers_are_findings: false,
    };
    let state = resolve::resolve(
        &root().join("tests/fixtures/kiosk-v2/atm.toml"),
        &catalog,
        &mut sources,
        &options,
        &mut diags,
    )
    .expect("the v2 profile resolves");
    assert!(!diags.has_errors());
    let render = |build: u32| {
        let platform = Platform {
            id: "windows-10-test",
            family: Family::Windows,
            build,
            name: "Windows 10 1607",
            roles: &[Role::AtmTerminal],
        };
        let mut diags = Diagnostics::new();
        lockdown::check_kiosk(&state.controls, Some(&platform), &mut diags);
        let mut out = codespan_reporting::term::termcolor::NoColor::new(Vec::new());
        diags.render_text(&sources, &mut out).unwrap();
        (
            diags.has_errors(),
            String::from_utf8(out.into_inner()).unwrap(),
        )
    };
    let (errors, text) = render(14393);
    assert!(errors);
    assert_eq!(
        text,
        "\
error[lockdown-conflict]: control FUN-KIO-001 uses Shell Launcher v2, which Windows 10 1607 (build 14393) does not have
   --> tests/fixtures/kiosk-v2/baselines/kiosk.toml:29:1
   |
29 | [[control.setting]]
   | ^^^^^^^^^^^^^^^^^^^ Shell Launcher v2
   |
   = note: Shell Launcher v2 needs Windows 10 1809 (build 17763) or later; use `launcher = \"v1\"`

error: 1 error found
"
    );
    assert!(render(17762).0);
    let (errors, text) = render(17763);
    assert!(!errors);
    assert!(
        text.starts_with("warning[lockdown-conflict]: ") && text.contains("KB4551853"),
        "{text}"
    );
    assert_eq!(render(19044), (false, String::new()));
}

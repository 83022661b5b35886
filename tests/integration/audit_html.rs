//! The HTML fleet report in headless Chromium.
//!
//! A report is built through the library (an [`HtmlSink`] fed a hand-made fleet whose snapshot
//! values are hostile markup), then `tests/browser/audit_report.cjs` loads it from disk in
//! Debian's Chromium through playwright-core, acts like a person (points at and clicks a heatmap
//! cell, filters, searches, picks a host) and prints what it saw as JSON; the assertions are
//! here. In CI (`.ci/run` installs `chromium` and playwright-core under `/opt/hardbase-node`, or
//! `HARDBASE_PLAYWRIGHT_DIR`) a missing browser fails the tests; elsewhere they are skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use hardbase::audit::html::HtmlSink;
use hardbase::audit::{
    status_index, Finding, Fleet, FleetControl, FleetProfile, HostControl, HostResult, Sink,
    Summary, UnexpectedItem,
};
use hardbase::catalog::taxonomy::{Category, Family, Lang, Role, Text, Tier};
use hardbase::drift::Status;
use hardbase::load::document::Date;
use serde_json::{json, Value};

use crate::util::{in_ci, require_tool, root, TempDir};

const PWNED_SCRIPT: &str = "<script>window.__pwned=1</script>";
const PWNED_IMG: &str = "<img src=x onerror=\"window.__pwned=1\">";
const PWNED_SVG: &str = "\"><svg onload=window.__pwned=1>";

/// The heatmap rows (in snapshot order) of the hosts the tests point at.
const ROW_HOSTILE_ATM: usize = 1;
const ROW_ERROR: usize = 4;
/// The controls of the fixture, in catalog order: (id, category, tier, short-term).
const CONTROLS: [(&str, Category, Tier, bool); 10] = [
    ("COM-FW-001", Category::Communication, Tier::Easy, true),
    (
        "COM-FW-002",
        Category::Communication,
        Tier::CostEffective,
        false,
    ),
    ("COM-SVC-001", Category::Communication, Tier::Easy, false),
    ("FUN-USB-001", Category::Function, Tier::Easy, true),
    ("FUN-SVC-001", Category::Function, Tier::Easy, false),
    (
        "FUN-APP-001",
        Category::Function,
        Tier::CostEffective,
        false,
    ),
    ("PRV-ACC-001", Category::Privilege, Tier::Easy, false),
    (
        "PRV-RGT-001",
        Category::Privilege,
        Tier::CostEffective,
        false,
    ),
    ("DET-AUD-001", Category::Detection, Tier::Easy, true),
    ("PHY-LCK-001", Category::Physical, Tier::Easy, false),
];
/// The controls of the two profiles (indexes into [`CONTROLS`]).
const ATM_CONTROLS: [usize; 8] = [0, 1, 3, 4, 5, 6, 8, 9];
const RELAY_CONTROLS: [usize; 7] = [0, 1, 2, 4, 6, 7, 8];

fn fleet(lang: Lang, hosts: usize) -> Fleet {
    Fleet {
        profiles: vec![
            FleetProfile {
                name: "branch-atm".into(),
                file: "profiles/branch-atm.toml".into(),
                role: Role::AtmTerminal,
                platform: "windows-10-iot-ltsc-2021",
                family: Family::Windows,
            },
            FleetProfile {
                name: "relay".into(),
                file: "profiles/relay.toml".into(),
                role: Role::RelayServer,
                platform: "debian-12",
                family: Family::Linux,
            },
        ],
        controls: CONTROLS
            .iter()
            .map(|(id, category, tier, short_term)| FleetControl {
                id: id.to_string(),
                title: Text {
                    en: format!("{} control {id}", category.name(Lang::En)),
                    ja: format!("{}の対策 {id}", category.name(Lang::Ja)),
                },
                category: *category,
                tier: *tier,
                short_term: *short_term,
            })
            .collect(),
        evaluated_at: Date::parse("2026-11-27").unwrap(),
        lang,
        hosts,
    }
}

fn finding(status: Status, target: &str, actual: Option<&str>, note: Option<&str>) -> Finding {
    Finding {
        kind: "registry_value",
        target: target.into(),
        status,
        expected: "1".into(),
        actual: actual.map(Into::into),
        note: note.map(Into::into),
        profile_line: Some("profiles/branch-atm.toml:12:1".into()),
        catalog_line: "baselines/function.toml:40:1".into(),
    }
}

/// A host whose profile's controls are all compliant except `overrides`.
fn host(
    name: &str,
    profile: usize,
    overrides: Vec<(usize, Status, Vec<Finding>)>,
    unexpected: Vec<UnexpectedItem>,
) -> HostResult {
    let ids: &[usize] = if profile == 0 {
        &ATM_CONTROLS
    } else {
        &RELAY_CONTROLS
    };
    let mut setting_counts = [0; 7];
    let controls = ids
        .iter()
        .map(|&control| {
            let (status, findings) = overrides
                .iter()
                .find(|(c, _, _)| *c == control)
                .map(|(_, s, f)| (*s, f.clone()))
                .unwrap_or((Status::Compliant, Vec::new()));
            let settings = 2 + findings.len();
            setting_counts[status_index(Status::Compliant)] += settings - findings.len();
            for f in &findings {
                setting_counts[status_index(f.status)] += 1;
            }
            HostControl {
                control,
                status,
                settings,
                compliant: settings - findings.len(),
                findings,
                waiver: None,
                attestation: None,
                notes: Vec::new(),
            }
        })
        .collect();
    setting_counts[status_index(Status::Unexpected)] += unexpected.len();
    HostResult {
        snapshot: format!("snapshots/{name}"),
        host: name.into(),
        profile: Some(profile),
        collected_at: "2026-11-20T09:00:00Z".into(),
        error: None,
        controls,
        unexpected,
        setting_counts,
    }
}

/// Six snapshots: two clean-ish, three with findings and hostile values, one not audited.
fn hosts() -> Vec<HostResult> {
    let waived = finding(Status::Waived, "USBSTOR\\Start", Some("3"), None);
    let mut atm = host(
        "atm-shinjuku-01",
        0,
        vec![(3, Status::Waived, vec![waived])],
        Vec::new(),
    );
    atm.controls[2].waiver = Some("SEC-101, security office, until 2027-03-31".into());
    atm.controls[7].status = Status::Manual;
    atm.controls[7].attestation = Some("branch manager, 2026-11-01".into());

    let mut hostile = host(
        &format!("{PWNED_SCRIPT}atm-02"),
        0,
        vec![
            (
                0,
                Status::Drift,
                vec![finding(
                    Status::Drift,
                    "EnableFirewall",
                    Some(PWNED_IMG),
                    Some(&format!("{PWNED_SVG} line\u{2028}separator")),
                )],
            ),
            (
                4,
                Status::Missing,
                vec![finding(Status::Missing, "RemoteRegistry", None, None)],
            ),
        ],
        vec![
            UnexpectedItem {
                kind: "firewall_rule",
                what: PWNED_SCRIPT.into(),
                control: Some(0),
                note: Some(PWNED_IMG.into()),
            },
            UnexpectedItem {
                kind: "local_admin",
                what: format!("{PWNED_SVG}&amp;\nsecond line"),
                control: None,
                note: None,
            },
        ],
    );
    hostile.controls[0].notes = vec![format!("waiver expired {PWNED_SVG}")];
    hostile.collected_at = format!("2026-11-20T10:00:00Z{PWNED_IMG}");

    let relay_hostile = host(
        PWNED_SVG,
        1,
        vec![
            (
                2,
                Status::NotCollected,
                vec![finding(
                    Status::NotCollected,
                    "sshd",
                    None,
                    Some("no unit list"),
                )],
            ),
            (7, Status::Unexpected, Vec::new()),
        ],
        vec![UnexpectedItem {
            kind: "listening_port",
            what: "tcp/4444 </script><script>window.__pwned=1</script>".into(),
            control: Some(7),
            note: None,
        }],
    );
    let relay = host("relay-02", 1, Vec::new(), Vec::new());
    let broken = HostResult {
        snapshot: "snapshots/broken".into(),
        host: PWNED_IMG.into(),
        profile: None,
        collected_at: String::new(),
        error: Some(format!(
            "snapshot.json: expected value at line 1 column 1: {PWNED_SCRIPT}"
        )),
        ..HostResult::default()
    };
    let umeda = host(
        "atm-umeda-03",
        0,
        vec![
            (
                5,
                Status::Drift,
                vec![finding(Status::Drift, "AppLocker", Some("0"), None)],
            ),
            (
                6,
                Status::Missing,
                vec![finding(Status::Missing, "Administrator", None, None)],
            ),
        ],
        Vec::new(),
    );
    vec![atm, hostile, relay_hostile, relay, broken, umeda]
}

/// The totals `hardbase audit` computes from the same results.
fn summary(fleet: &Fleet, hosts: &[HostResult]) -> Summary {
    let mut summary = empty_summary(fleet);
    for host in hosts {
        count(&mut summary, host);
    }
    summary
}

fn empty_summary(fleet: &Fleet) -> Summary {
    Summary {
        control_hosts: vec![[0; 7]; fleet.controls.len()],
        ..Summary::default()
    }
}

fn count(summary: &mut Summary, host: &HostResult) {
    summary.hosts += 1;
    match host.status() {
        None => summary.errors += 1,
        Some(status) => {
            summary.audited += 1;
            summary.hosts_per_status[status_index(status)] += 1;
            summary.compliant += usize::from(host.is_compliant());
        }
    }
    for c in &host.controls {
        summary.control_hosts[c.control][status_index(c.status)] += 1;
    }
}

/// Writes the report of [`hosts`] to `dir/report.html` through the sink, as `hardbase audit`
/// does, and returns its path.
fn build(dir: &Path, lang: Lang) -> PathBuf {
    build_with(dir, lang, &hosts())
}

fn build_with(dir: &Path, lang: Lang, hosts: &[HostResult]) -> PathBuf {
    let fleet = fleet(lang, hosts.len());
    let output = dir.join("report.html");
    let scratch = dir.join("scratch");
    let mut sink = HtmlSink::new(&output, &scratch).unwrap();
    sink.begin(&fleet).unwrap();
    for host in hosts {
        sink.host(&fleet, host).unwrap();
    }
    sink.finish(&fleet, &summary(&fleet, hosts)).unwrap();
    std::fs::remove_dir_all(&scratch).unwrap();
    output
}

/// Node, Chromium and the playwright-core prefix, or `None` (outside CI) with a SKIPPED message.
pub(crate) struct Browser {
    node: PathBuf,
    chromium: PathBuf,
    playwright: PathBuf,
}

pub(crate) fn browser() -> Option<Browser> {
    let node = require_tool("node")?;
    let chromium = require_tool("chromium")?;
    let playwright = std::env::var_os("HARDBASE_PLAYWRIGHT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/hardbase-node"));
    if !playwright
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        let message = format!(
            "playwright-core is not installed under {} (set HARDBASE_PLAYWRIGHT_DIR)",
            playwright.display()
        );
        if in_ci() {
            panic!("{message}; .ci/run installs it and CI must not skip this test");
        }
        eprintln!("SKIPPED: {message}");
        return None;
    }
    Some(Browser {
        node,
        chromium,
        playwright,
    })
}

/// Runs the browser script on `page` with `steps` and returns its verdict.
pub(crate) fn run_browser(browser: &Browser, dir: &Path, page: &Path, steps: Value) -> Value {
    let profile = dir.join("chromium-profile");
    std::fs::create_dir_all(&profile).unwrap();
    let spec = dir.join("spec.json");
    let spec_json = json!({ "page": page, "userDataDir": profile, "steps": steps });
    std::fs::write(&spec, spec_json.to_string()).unwrap();
    let out = Command::new(&browser.node)
        .arg(root().join("tests/browser/audit_report.cjs"))
        .arg(&spec)
        .env("HARDBASE_PLAYWRIGHT_DIR", &browser.playwright)
        .env("HARDBASE_CHROMIUM", &browser.chromium)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "the browser script failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdict: Value = serde_json::from_slice(&out.stdout).expect("the verdict is JSON");
    eprintln!("browser verdict: {verdict:#}");
    verdict
}

/// What every run must show: no error, no request but the page, nothing injected, a drawn heatmap.
fn assert_clean(verdict: &Value) {
    assert_eq!(verdict["consoleErrors"], json!([]), "console errors");
    assert_eq!(verdict["pageErrors"], json!([]), "page errors");
    assert_eq!(verdict["cspViolations"], json!([]), "CSP violations");
    let url = verdict["pageUrl"].as_str().unwrap();
    assert!(
        url.starts_with("file:///") && url.ends_with("/report.html"),
        "{url}"
    );
    assert_eq!(
        verdict["requests"],
        json!([url]),
        "the page is the only request"
    );
    assert_eq!(verdict["pwned"], "undefined", "no injected script ran");
    assert_eq!(verdict["activeElements"], 0, "no injected element");
    assert_eq!(verdict["inlineScripts"], 1);
    assert_eq!(verdict["jsonScripts"], 3);
    for canvas in [&verdict["canvas"], &verdict["canvasAfter"]] {
        assert!(canvas["width"].as_u64().unwrap() > 300, "{canvas}");
        assert!(canvas["nonBackground"].as_u64().unwrap() > 1000, "{canvas}");
        assert!(canvas["colours"].as_u64().unwrap() > 5, "{canvas}");
    }
    assert!(
        verdict["canvas"]["driftPixels"].as_u64().unwrap() > 50,
        "the drift colour is drawn: {}",
        verdict["canvas"]
    );
    let initial = &verdict["initial"];
    assert_eq!(initial["shownHosts"], 6);
    assert_eq!(initial["shownControls"], 10);
    assert_eq!(initial["listItems"], 6);
    assert_eq!(initial["controlRows"], 10);
    assert_eq!(initial["detailVisible"], false);
}

#[track_caller]
fn assert_shown(step: &Value, hosts: u64, controls: u64) {
    assert_eq!(step["shownHosts"], hosts, "{}", step["step"]);
    assert_eq!(step["listItems"], hosts, "{}", step["step"]);
    assert_eq!(step["shownControls"], controls, "{}", step["step"]);
    assert_eq!(step["controlRows"], controls, "{}", step["step"]);
}

fn text(step: &Value) -> &str {
    step["detailText"].as_str().unwrap()
}

#[test]
fn report_in_chromium_en() {
    let Some(browser) = browser() else { return };
    let dir = TempDir::new("audit-html-en");
    let page = build(dir.path(), Lang::En);
    let shot = dir.path().join("report-en.png");
    let verdict = run_browser(
        &browser,
        dir.path(),
        &page,
        json!([
            { "do": "click-cell", "row": ROW_HOSTILE_ATM, "col": 0 },
            { "do": "screenshot", "path": shot },
            { "do": "select", "id": "hb-f-category", "value": "function" },
            { "do": "select", "id": "hb-f-status", "value": "drift" },
            { "do": "click", "selector": "#hb-f-reset" },
            { "do": "select", "id": "hb-f-role", "value": "relay-server" },
            { "do": "select", "id": "hb-f-tier", "value": "cost-effective" },
            { "do": "click", "selector": "#hb-f-reset" },
            { "do": "select", "id": "hb-f-status", "value": "finding" },
            { "do": "select", "id": "hb-f-status", "value": "compliant" },
            { "do": "select", "id": "hb-f-status", "value": "has-waived" },
            { "do": "click", "selector": "#hb-f-reset" },
            { "do": "search", "text": "ONERROR" },
            { "do": "click", "selector": "#hb-hostlist button" },
        ]),
    );
    assert_clean(&verdict);
    assert_eq!(verdict["lang"], "en");
    let steps = verdict["steps"].as_array().unwrap();

    // The clicked cell opens the hostile host, its control in focus, every value as text.
    let cell = &steps[0];
    assert_eq!(cell["detailVisible"], true);
    assert_eq!(cell["detailHost"], ROW_HOSTILE_ATM);
    assert_eq!(cell["detailTitle"], format!("{PWNED_SCRIPT}atm-02"));
    assert_eq!(cell["focusedControl"], "COM-FW-001");
    assert!(cell["hover"].as_str().unwrap().contains("COM-FW-001"));
    for hostile in [
        PWNED_SCRIPT,
        PWNED_IMG,
        PWNED_SVG,
        &format!("{PWNED_SVG} line\u{2028}separator"),
        &format!("{PWNED_SVG}&amp;\nsecond line"),
        &format!("2026-11-20T10:00:00Z{PWNED_IMG}"),
        &format!("waiver expired {PWNED_SVG}"),
    ] {
        assert!(
            text(cell).contains(hostile),
            "{hostile:?} in {}",
            text(cell)
        );
    }
    for evidence in [
        "EnableFirewall",
        "RemoteRegistry",
        "(absent)",
        "profiles/branch-atm.toml:12:1",
        "catalog: baselines/function.toml:40:1",
        "firewall_rule",
        "local_admin",
        "drift",
        "missing",
        "profiles/branch-atm.toml",
        "6 other controls of the profile are compliant.",
    ] {
        assert!(
            text(cell).contains(evidence),
            "{evidence:?} in {}",
            text(cell)
        );
    }

    // Filters: category and status together, role and tier, any finding.
    assert_shown(&steps[2], 6, 3);
    assert_shown(&steps[3], 1, 3);
    assert_shown(&steps[4], 6, 10);
    assert_shown(&steps[5], 2, 10);
    assert_shown(&steps[6], 2, 3);
    // Any finding: the two ATMs with drift and the relay; worst status compliant, as the totals
    // count it: the ATM with a waiver and a manual control, and the clean relay; a waived
    // control: that ATM.
    assert_shown(&steps[8], 3, 10);
    assert_shown(&steps[9], 2, 10);
    assert_shown(&steps[10], 1, 10);
    assert_shown(&steps[11], 6, 10);

    // Search (case-insensitive) finds the host that could not be audited; it shows its error.
    assert_shown(&steps[12], 1, 10);
    let broken = &steps[13];
    assert_eq!(broken["detailHost"], ROW_ERROR);
    assert_eq!(broken["detailTitle"], PWNED_IMG);
    assert!(text(broken).contains(&format!(
        "This host could not be audited: snapshot.json: expected value at line 1 column 1: {PWNED_SCRIPT}"
    )));
    assert!(text(broken).contains("(no profile)"));

    let bytes = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
    assert!(
        bytes > 20_000,
        "screenshot {} is {bytes} bytes",
        shot.display()
    );
    keep_screenshot(&shot);
}

#[test]
fn report_in_chromium_ja() {
    let Some(browser) = browser() else { return };
    let dir = TempDir::new("audit-html-ja");
    let page = build(dir.path(), Lang::Ja);
    let shot = dir.path().join("report-ja.png");
    let verdict = run_browser(
        &browser,
        dir.path(),
        &page,
        json!([
            { "do": "click-cell", "row": 2, "col": 7 },
            { "do": "select", "id": "hb-f-status", "value": "unexpected" },
            { "do": "select", "id": "hb-f-category", "value": "privilege" },
            { "do": "screenshot", "path": shot },
            { "do": "click", "selector": "#hb-totals button" },
        ]),
    );
    assert_clean(&verdict);
    assert_eq!(verdict["lang"], "ja");
    assert!(verdict["title"]
        .as_str()
        .unwrap()
        .starts_with("フリート監査レポート"));
    let body = verdict["initialText"].as_str().unwrap();
    for ja in [
        "全体の集計",
        "通信の最小化",
        "取り組みやすい対策",
        "コストパフォーマンスの良い対策",
        "短期の対応",
        "相違",
        "監査不能",
        "通信の最小化の対策 COM-FW-001",
    ] {
        assert!(body.contains(ja), "{ja:?} in the page");
    }

    let steps = verdict["steps"].as_array().unwrap();
    let cell = &steps[0];
    assert_eq!(cell["detailHost"], 2);
    assert_eq!(cell["detailTitle"], PWNED_SVG);
    assert_eq!(cell["focusedControl"], "PRV-RGT-001");
    for expected in [
        "想定外",
        "未収集",
        "tcp/4444 </script><script>window.__pwned=1</script>",
        "間接サーバ（中継サーバ）",
        "設定3件中2件適合",
    ] {
        assert!(
            text(cell).contains(expected),
            "{expected:?} in {}",
            text(cell)
        );
    }
    // Worst status unexpected: the relay (an unexpected port under PRV-RGT-001); the hostile ATM
    // has drift. Among the privilege controls the ATM's worst is its ungoverned unexpected item.
    assert_shown(&steps[1], 1, 10);
    assert_shown(&steps[2], 2, 2);
    // The first totals chip filters on compliant, still among the privilege controls.
    assert_shown(&steps[4], 2, 2);
    keep_screenshot(&shot);
}

/// Copies a screenshot to `target/audit-html/` so a person can look at it after the run.
fn keep_screenshot(shot: &Path) {
    let keep = root().join("target").join("audit-html");
    let _ = std::fs::create_dir_all(&keep);
    let _ = std::fs::copy(shot, keep.join(shot.file_name().unwrap()));
}

#[test]
fn report_is_deterministic_inert_and_offline() {
    let first = TempDir::new("audit-html-1");
    let second = TempDir::new("audit-html-2");
    let a = std::fs::read(build(first.path(), Lang::En)).unwrap();
    let b = std::fs::read(build(second.path(), Lang::En)).unwrap();
    assert!(a == b, "two runs give the same bytes");
    let html = String::from_utf8(a).unwrap();
    let lower = html.to_ascii_lowercase();

    for raw in [
        PWNED_SCRIPT,
        PWNED_IMG,
        PWNED_SVG,
        "<svg",
        "<img",
        "\u{2028}",
    ] {
        assert!(!html.contains(raw), "{raw:?} is escaped");
    }
    assert!(!lower.contains("http://") && !lower.contains("https://"));
    assert!(!lower.contains("url(") && !lower.contains("@import"));
    assert_eq!(lower.matches("<script").count(), 4);
    assert_eq!(lower.matches("</script").count(), 4);
    assert_eq!(lower.matches("<link").count(), 1);
    assert!(html.contains(r#"<link rel="icon" href="data:,">"#));
    let csp = html
        .split("http-equiv=\"Content-Security-Policy\" content=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSP meta element");
    assert!(
        csp.starts_with("default-src &apos;none&apos;; script-src &apos;sha256-"),
        "{csp}"
    );
    assert!(csp.contains("; style-src &apos;sha256-") && csp.contains("; img-src data:"));

    // The data blocks give back every hostile value exactly.
    let detail = html
        .split("<script type=\"application/json\" id=\"hb-data-detail\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .unwrap();
    let records: Vec<Value> = detail
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(records.len(), 6);
    assert_eq!(records[1]["host"], format!("{PWNED_SCRIPT}atm-02"));
    assert_eq!(
        records[1]["unexpected"][1]["what"],
        format!("{PWNED_SVG}&amp;\nsecond line")
    );
    assert_eq!(
        records[1]["controls"][0]["findings"][0]["note"],
        format!("{PWNED_SVG} line\u{2028}separator")
    );
    assert_eq!(records[4]["host"], PWNED_IMG);
    assert!(records[4]["error"]
        .as_str()
        .unwrap()
        .ends_with(PWNED_SCRIPT));
}

/// 10,000 hosts × 120 controls: the sink's output opens, draws and finds a host in Chromium.
#[test]
fn large_fleet_report_opens_in_chromium() {
    let Some(browser) = browser() else { return };
    let dir = TempDir::new("audit-html-large");
    let mut fleet = fleet(Lang::En, 10_000);
    fleet.controls = (0..120)
        .map(|i| {
            let (_, category, tier, short_term) = CONTROLS[i % CONTROLS.len()];
            FleetControl {
                id: format!("{}-{i:03}", &CONTROLS[i % CONTROLS.len()].0[..3]),
                title: Text {
                    en: format!("Control {i}"),
                    ja: format!("対策 {i}"),
                },
                category,
                tier,
                short_term,
            }
        })
        .collect();
    let output = dir.path().join("report.html");
    let scratch = dir.path().join("scratch");
    let mut sink = HtmlSink::new(&output, &scratch).unwrap();
    let mut summary = empty_summary(&fleet);
    sink.begin(&fleet).unwrap();
    for h in 0..10_000usize {
        let controls: Vec<HostControl> = (0..120)
            .filter(|c| (c + h) % 13 != 0)
            .map(|control| {
                let status = match (control * 7 + h * 3) % 29 {
                    0 => Status::Drift,
                    1 => Status::Missing,
                    2 => Status::NotCollected,
                    3 => Status::Waived,
                    _ => Status::Compliant,
                };
                let findings = if status == Status::Compliant {
                    Vec::new()
                } else {
                    vec![finding(status, &format!("Value{control}"), Some("0"), None)]
                };
                HostControl {
                    control,
                    status,
                    settings: 3,
                    compliant: 3 - findings.len(),
                    findings,
                    waiver: None,
                    attestation: None,
                    notes: Vec::new(),
                }
            })
            .collect();
        let host = HostResult {
            snapshot: format!("snapshots/host-{h:05}"),
            host: format!("host-{h:05}"),
            profile: Some(h % 2),
            collected_at: "2026-11-20T09:00:00Z".into(),
            error: (h % 997 == 0).then(|| "unreadable snapshot".to_string()),
            controls,
            ..HostResult::default()
        };
        let host = if host.error.is_some() {
            HostResult {
                controls: Vec::new(),
                ..host
            }
        } else {
            host
        };
        sink.host(&fleet, &host).unwrap();
        count(&mut summary, &host);
    }
    sink.finish(&fleet, &summary).unwrap();
    let size = std::fs::metadata(&output).unwrap().len();
    eprintln!("10,000 hosts × 120 controls: {size} bytes");

    let verdict = run_browser(
        &browser,
        dir.path(),
        &output,
        json!([
            { "do": "screenshot", "path": dir.path().join("report-large.png"), "fullPage": false },
            { "do": "search", "text": "host-09999" },
            { "do": "click", "selector": "#hb-hostlist button" },
            { "do": "click-cell", "row": 0, "col": 0 },
        ]),
    );
    assert_eq!(verdict["consoleErrors"], json!([]));
    assert_eq!(verdict["pageErrors"], json!([]));
    assert_eq!(verdict["requests"].as_array().unwrap().len(), 1);
    assert_eq!(verdict["initial"]["shownHosts"], 10_000);
    assert_eq!(
        verdict["initial"]["listItems"], 500,
        "the list shows the first 500"
    );
    assert!(verdict["canvas"]["driftPixels"].as_u64().unwrap() > 0);
    let ready = verdict["readyMs"].as_u64().unwrap();
    assert!(ready < 30_000, "ready after {ready} ms");
    let steps = verdict["steps"].as_array().unwrap();
    assert_shown(&steps[1], 1, 120);
    assert_eq!(steps[2]["detailHost"], 9_999);
    assert!(text(&steps[2]).contains("Value"));
    assert_eq!(steps[3]["detailHost"], 9_999);
    keep_screenshot(&dir.path().join("report-large.png"));
}

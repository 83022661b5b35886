//! Generates a synthetic fleet for the audit benchmark (`bench/fleet.sh`): a profiles folder, a
//! catalog folder for `--baselines`, and one snapshot folder per host in the collectors' format.
//!
//! ```text
//! cargo run --release --example fleetgen -- --out DIR [--hosts N] [--seed S] [--drift RATE]
//!     [--examples examples/regional-bank] [--at YYYY-MM-DD] [--jobs N] [--quiet]
//! ```
//!
//! * `DIR/profiles/`: the example bank's ATM profiles (Shinjuku on LTSC 2021, Umeda on LTSC
//!   2019) and Linux servers (the primary relay and the syslog collector), copied with the layers
//!   they extend, each leaf extending one more generated layer that `include`s the generated
//!   controls: ATM vendor policy values and services for the ATMs (as `hardbase import gpo`
//!   would bring them in), per-VLAN interface sysctls for the servers. Every host compares at
//!   least 500 settings.
//! * `DIR/baselines/`: the generated controls (`include_only`), for the global `--baselines`.
//! * `DIR/snapshots/HOST/`: `snapshot.json` naming the profile, and every file of the Windows or
//!   Linux collector contract (see `src/snapshot/mod.rs`), written as the collectors write them
//!   (Windows PowerShell 5.1 JSON, UTF-16LE secedit export, native Linux command output).
//!
//! Each host starts from the facts of a machine on which every desired setting of its resolved
//! profile holds, padded to 200 firewall rules and 300 services that are not findings (outbound
//! and disabled rules, a block list; services and units the profile does not govern). Drift is
//! then injected from a PRNG seeded by the seed and the host index: each drift candidate (a
//! registry value, audit subcategory, service, feature, firewall rule, sysctl, sshd option,
//! unit, package) changes with probability `--drift` (0.02 by default; one host in ten has
//! none), and a few hosts get an unexpected inbound allow rule, listening port or administrator.
//! The output is the same for the same seed, host count and inputs. Hosts are assigned round
//! robin by a hash of their index: 50% Shinjuku ATMs, 40% Umeda ATMs, 7% relays, 3% syslog
//! collectors.
//!
//! Files that a host does not change are the template's bytes (their SHA-256 computed once);
//! `snapshot.json` and the drifted files differ per host. At the end the first host of each
//! profile is loaded with `hardbase::snapshot::load` and compared with `hardbase::drift::diff`,
//! and the counts are printed, so a change in the collector contract shows here first.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use hardbase::catalog::flow::FlowDirection;
use hardbase::catalog::setting::{
    AuditdRule, BootObject, Chain, ChainPolicy, Direction, EncryptionMethod, FeatureState,
    FirewallAction, FirewallProfileName, ListMode, OsProtector, OverlayType, Principal, Protocol,
    RegData, SettingKind, ShellExitAction, StartMode, UnitState,
};
use hardbase::catalog::Catalog;
use hardbase::diag::Diagnostics;
use hardbase::drift::{self, Status};
use hardbase::load::document::Date;
use hardbase::model::DesiredState;
use hardbase::resolve::{self, Options};
use hardbase::source::SourceMap;
use hardbase::target::windows::gpttmpl_inf::{self, InfValue, SecurityTemplate};
use hardbase::target::windows::policy;
use hardbase::target::windows::registry_pol::PolData;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const FIREWALL_RULES: usize = 200;
const SERVICES: usize = 300;
const KIOSK_SID: &str = "S-1-5-21-3623811015-3361044348-30300820-1001";
const ADMIN_SID: &str = "S-1-5-21-3623811015-3361044348-30300820-500";
const GUEST_SID: &str = "S-1-5-21-3623811015-3361044348-30300820-501";
const VENDOR_SID: &str = "S-1-5-21-3623811015-3361044348-30300820-1002";

// ------------------------------------------------------------------------------------------
// command line

struct Args {
    out: PathBuf,
    hosts: usize,
    seed: u64,
    drift: f64,
    examples: PathBuf,
    at: String,
    jobs: usize,
    quiet: bool,
}

fn usage() -> ! {
    eprintln!(
        "usage: fleetgen --out DIR [--hosts N] [--seed S] [--drift RATE] [--examples DIR] [--at YYYY-MM-DD] [--jobs N] [--quiet]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args {
        out: PathBuf::new(),
        hosts: 1000,
        seed: 1,
        drift: 0.02,
        examples: PathBuf::from("examples/regional-bank"),
        at: "2026-11-27".into(),
        jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
        quiet: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--out" => args.out = PathBuf::from(value()),
            "--hosts" => args.hosts = value().parse().unwrap_or_else(|_| usage()),
            "--seed" => args.seed = value().parse().unwrap_or_else(|_| usage()),
            "--drift" => args.drift = value().parse().unwrap_or_else(|_| usage()),
            "--examples" => args.examples = PathBuf::from(value()),
            "--at" => args.at = value(),
            "--jobs" => args.jobs = value().parse().unwrap_or_else(|_| usage()),
            "--quiet" => args.quiet = true,
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    if args.out.as_os_str().is_empty() || args.jobs == 0 {
        usage();
    }
    args
}

// ------------------------------------------------------------------------------------------
// helpers

/// SplitMix64: small, fast and the same everywhere.
struct Rng(u64);

impl Rng {
    /// A stream per (seed, index): both go through the finalizer, so the streams of
    /// neighbouring indexes are not shifted copies of one another.
    fn new(seed: u64, index: u64) -> Rng {
        Rng(mix(mix(seed) ^ index.wrapping_add(0x632B_E59B_D9B4_E019)))
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// SplitMix64's finalizer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// JSON as Windows PowerShell 5.1 `ConvertTo-Json` writes it (as the tests model it): CRLF,
/// four-space indentation, two spaces after the colon, `'` `<` `>` `&` escaped.
fn ps51_json(value: &Value) -> String {
    let pretty = serde_json::to_string_pretty(value).expect("JSON");
    let mut out = String::with_capacity(pretty.len() * 2);
    for line in pretty.lines() {
        let indent = line.len() - line.trim_start().len();
        let body = line.trim_start().replacen("\": ", "\":  ", 1);
        for _ in 0..indent * 2 {
            out.push(' ');
        }
        out.push_str(&body);
        out.push_str("\r\n");
    }
    out.trim_end()
        .replace('\'', "\\u0027")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// One element of a top-level PowerShell 5.1 array, as it appears inside the array.
fn ps51_item(value: &Value) -> String {
    let whole = ps51_json(&Value::Array(vec![value.clone()]));
    whole
        .strip_prefix("[\r\n")
        .and_then(|s| s.strip_suffix("\r\n]"))
        .expect("an array")
        .to_string()
}

fn toml_str(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

fn reg_text(d: &RegData) -> String {
    match d {
        RegData::Number(n) => n.to_string(),
        RegData::Text(t) => t.clone(),
        RegData::List(l) => l.join("\t"),
    }
}

// ------------------------------------------------------------------------------------------
// the profiles and the generated catalog

const AREAS: &[&str] = &[
    "CardReader",
    "PinPad",
    "Dispenser",
    "Depository",
    "ReceiptPrinter",
    "JournalPrinter",
    "Camera",
    "Alarm",
    "Sensors",
    "Display",
    "FunctionKeys",
    "Journal",
    "EJournalUpload",
    "HostProtocol",
    "KeyManagement",
    "RemoteKeyLoading",
    "SoftwareUpdate",
    "Maintenance",
    "SupervisorMode",
    "Diagnostics",
    "Monitoring",
    "Agent",
    "Inventory",
    "Advertising",
    "Accessibility",
    "Audio",
    "Session",
    "Transactions",
    "CashManagement",
    "Reconciliation",
    "Tamper",
    "Power",
    "Network",
    "Crypto",
];

const VALUES: &[(&str, &str, u64)] = &[
    ("EnableEncryption", "REG_DWORD", 1),
    ("RequireSignedFirmware", "REG_DWORD", 1),
    ("AllowFirmwareDowngrade", "REG_DWORD", 0),
    ("AuditLevel", "REG_DWORD", 3),
    ("MaxRetries", "REG_DWORD", 3),
    ("TimeoutSeconds", "REG_DWORD", 30),
    ("LogToEventLog", "REG_DWORD", 1),
    ("DisableMaintenancePort", "REG_DWORD", 1),
    ("LockOnTamper", "REG_DWORD", 1),
    ("ReportIntervalMinutes", "REG_DWORD", 15),
];

const EXTRA_DISABLED_SERVICES: &[&str] = &[
    "DiagTrack",
    "dmwappushservice",
    "RetailDemo",
    "XblAuthManager",
    "XblGameSave",
    "XboxNetApiSvc",
    "XboxGipSvc",
    "WerSvc",
    "wisvc",
    "PhoneSvc",
    "Fax",
    "PrintNotify",
    "Spooler",
    "WalletService",
    "WpcMonSvc",
    "SEMgrSvc",
    "PcaSvc",
    "TrkWks",
    "WbioSrvc",
    "FrameServer",
    "stisvc",
    "WiaRpc",
    "RmSvc",
    "SensorService",
    "SensrSvc",
    "SensorDataService",
    "TabletInputService",
    "PushToInstall",
    "InstallService",
    "RasAuto",
    "RasMan",
    "SstpSvc",
    "iphlpsvc",
    "NetTcpPortSharing",
    "p2psvc",
    "p2pimsvc",
    "PNRPsvc",
    "PNRPAutoReg",
    "WFDSConMgrSvc",
    "wcncsvc",
];

const VLANS: usize = 25;
const IPV4_KEYS: &[(&str, u64)] = &[
    ("accept_redirects", 0),
    ("send_redirects", 0),
    ("accept_source_route", 0),
    ("rp_filter", 1),
    ("log_martians", 1),
    ("secure_redirects", 0),
    ("arp_ignore", 1),
    ("arp_announce", 2),
    ("proxy_arp", 0),
    ("bootp_relay", 0),
];
const IPV6_KEYS: &[(&str, u64)] = &[
    ("accept_ra", 0),
    ("accept_redirects", 0),
    ("accept_source_route", 0),
    ("autoconf", 0),
    ("forwarding", 0),
    ("router_solicitations", 0),
];

fn vlan(i: usize) -> String {
    format!("vlan{}", 100 + i * 10)
}

/// `baselines/fleet-atm-vendor.toml` and the ids it declares.
fn windows_catalog() -> (String, Vec<String>) {
    let mut ids = Vec::new();
    let mut out = String::from(
        "# Generated by bench/fleetgen.rs: ATM vendor policy values and services as `hardbase import gpo`\n# would bring them in from the vendor's GPO (include-only controls).\n",
    );
    for (i, area) in AREAS.iter().enumerate() {
        let id = format!("FLT-GPO-{:03}", i + 1);
        let _ = write!(
            out,
            "\n[[control]]\nid = \"{id}\"\ncategory = \"function\"\ntier = \"easy\"\ninclude_only = true\nroles = [\"atm-terminal\"]\nplatforms = [\"windows\"]\nattack_steps = [\"FD\"]\ntitle = {{ en = {}, ja = {} }}\ncriterion = {{ en = {}, ja = {} }}\n",
            toml_str(&format!("ATM vendor policy: {area}")),
            toml_str(&format!("ATM ベンダーポリシー：{area}")),
            toml_str(&format!("The {area} policy values under HKLM\\SOFTWARE\\Policies\\ExampleBank\\ATM\\{area} are as the vendor's GPO sets them.")),
            toml_str(&format!("HKLM\\SOFTWARE\\Policies\\ExampleBank\\ATM\\{area} のポリシー値がベンダーの GPO の設定どおりであること。")),
        );
        for (name, ty, data) in VALUES {
            let _ = write!(
                out,
                "\n[[control.setting]]\nplatform = \"windows\"\nkind = \"registry\"\nhive = \"HKLM\"\nkey = 'SOFTWARE\\Policies\\ExampleBank\\ATM\\{area}'\nvalue = \"{name}\"\ntype = \"{ty}\"\ndata = {data}\n"
            );
        }
        ids.push(id);
    }
    for (i, chunk) in EXTRA_DISABLED_SERVICES.chunks(10).enumerate() {
        let id = format!("FLT-SVC-{:03}", i + 1);
        let _ = write!(
            out,
            "\n[[control]]\nid = \"{id}\"\ncategory = \"function\"\ntier = \"easy\"\ninclude_only = true\nroles = [\"atm-terminal\"]\nplatforms = [\"windows\"]\nattack_steps = [\"LM\"]\ntitle = {{ en = {}, ja = {} }}\ncriterion = {{ en = {}, ja = {} }}\n",
            toml_str(&format!("Consumer and diagnostic services disabled (group {})", i + 1)),
            toml_str(&format!("不要なサービスの無効化（グループ {}）", i + 1)),
            toml_str(&format!("Win32_Service reports StartMode Disabled for {}.", chunk.join(", "))),
            toml_str(&format!("{} の StartMode が Disabled であること。", chunk.join("、"))),
        );
        for name in chunk {
            let _ = write!(
                out,
                "\n[[control.setting]]\nplatform = \"windows\"\nkind = \"service\"\nname = \"{name}\"\nstart = \"disabled\"\n"
            );
        }
        ids.push(id);
    }
    (out, ids)
}

/// `baselines/fleet-linux-vlans.toml` and the ids it declares.
fn linux_catalog() -> (String, Vec<String>) {
    let mut ids = Vec::new();
    let mut out = String::from(
        "# Generated by bench/fleetgen.rs: interface hardening of the data-centre VLANs (include-only controls).\n",
    );
    for i in 0..VLANS {
        let id = format!("FLT-NET-{:03}", i + 1);
        let iface = vlan(i);
        let _ = write!(
            out,
            "\n[[control]]\nid = \"{id}\"\ncategory = \"communication\"\ntier = \"easy\"\ninclude_only = true\nroles = [\"relay-server\", \"monitoring-server\", \"management-server\"]\nplatforms = [\"linux\"]\nattack_steps = [\"NW\"]\ntitle = {{ en = {}, ja = {} }}\ncriterion = {{ en = {}, ja = {} }}\n",
            toml_str(&format!("Interface {iface}: no redirects, source routes or router advertisements")),
            toml_str(&format!("インターフェース {iface}：リダイレクト・ソースルーティング・ルータ広告の無効化")),
            toml_str(&format!("sysctl -a shows the IPv4 and IPv6 settings of {iface} as listed.")),
            toml_str(&format!("sysctl -a で {iface} の IPv4・IPv6 設定が一覧どおりであること。")),
        );
        for (k, v) in IPV4_KEYS {
            let _ = write!(out, "\n[[control.setting]]\nplatform = \"linux\"\nkind = \"sysctl\"\nkey = \"net.ipv4.conf.{iface}.{k}\"\nvalue = {v}\n");
        }
        for (k, v) in IPV6_KEYS {
            let _ = write!(out, "\n[[control.setting]]\nplatform = \"linux\"\nkind = \"sysctl\"\nkey = \"net.ipv6.conf.{iface}.{k}\"\nvalue = {v}\n");
        }
        ids.push(id);
    }
    (out, ids)
}

fn layer(description: &str, ids: &[String]) -> String {
    let mut out = format!(
        "# Generated by bench/fleetgen.rs.\n\n[profile]\ndescription = {}\ninclude = [\n",
        toml_str(description)
    );
    for id in ids {
        let _ = writeln!(out, "  \"{id}\",");
    }
    out.push_str("]\n");
    out
}

/// Adds `layer` to the `extends` list of a profile's text.
fn extend_with(text: &str, layer: &str) -> String {
    let mut out = String::new();
    let mut done = false;
    for line in text.lines() {
        if !done && line.trim_start().starts_with("extends") && line.trim_end().ends_with(']') {
            let l = line.trim_end();
            out.push_str(&l[..l.len() - 1]);
            let _ = write!(out, ", \"{layer}\"]");
            done = true;
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    assert!(done, "no one-line `extends` in the profile");
    out
}

struct FleetProfile {
    file: &'static str,
    /// Share of the fleet, in percent.
    share: u64,
    prefix: &'static str,
}

const FLEET: &[FleetProfile] = &[
    FleetProfile {
        file: "branch-atm-shinjuku.toml",
        share: 50,
        prefix: "ATM-SJK",
    },
    FleetProfile {
        file: "branch-atm-umeda.toml",
        share: 40,
        prefix: "ATM-UMD",
    },
    FleetProfile {
        file: "relay-linux.toml",
        share: 7,
        prefix: "relay",
    },
    FleetProfile {
        file: "monitoring-syslog.toml",
        share: 3,
        prefix: "syslog",
    },
];

const LAYERS: &[&str] = &["bank-common.toml", "bank-windows.toml", "atm-fleet.toml"];

fn write_inputs(args: &Args) -> (PathBuf, PathBuf) {
    let profiles = args.out.join("profiles");
    let baselines = args.out.join("baselines");
    std::fs::create_dir_all(&profiles).expect("create profiles");
    std::fs::create_dir_all(&baselines).expect("create baselines");
    let read = |name: &str| {
        std::fs::read_to_string(args.examples.join(name)).unwrap_or_else(|e| {
            eprintln!("fleetgen: {}: {e}", args.examples.join(name).display());
            std::process::exit(2)
        })
    };
    for name in LAYERS {
        std::fs::write(profiles.join(name), read(name)).expect("write layer");
    }
    let (win, win_ids) = windows_catalog();
    let (lin, lin_ids) = linux_catalog();
    std::fs::write(baselines.join("fleet-atm-vendor.toml"), win).expect("write catalog");
    std::fs::write(baselines.join("fleet-linux-vlans.toml"), lin).expect("write catalog");
    std::fs::write(
        profiles.join("fleet-atm-vendor.toml"),
        layer("ATM vendor policy imported from the vendor's GPO", &win_ids),
    )
    .expect("write layer");
    std::fs::write(
        profiles.join("fleet-linux-vlans.toml"),
        layer("Interface hardening of the data-centre VLANs", &lin_ids),
    )
    .expect("write layer");
    for p in FLEET {
        let extra = if p.prefix.starts_with("ATM") {
            "fleet-atm-vendor.toml"
        } else {
            "fleet-linux-vlans.toml"
        };
        std::fs::write(profiles.join(p.file), extend_with(&read(p.file), extra))
            .expect("write profile");
    }
    (profiles, baselines)
}

fn resolve_profiles(args: &Args, profiles: &Path, baselines: &Path) -> Vec<DesiredState> {
    let mut sources = SourceMap::new();
    let mut diags = Diagnostics::new();
    let catalog = Catalog::load(&mut sources, true, &[baselines], &mut diags);
    let options = Options {
        at: Date::parse(&args.at).unwrap_or_else(|| usage()),
        expired_waivers_are_findings: true,
    };
    let mut out = Vec::new();
    for p in FLEET {
        let state = resolve::resolve(
            &profiles.join(p.file),
            &catalog,
            &mut sources,
            &options,
            &mut diags,
        );
        if let Some(s) = state {
            out.push(s);
        }
    }
    if diags.has_errors() || out.len() != FLEET.len() {
        let mut text = codespan_reporting::term::termcolor::NoColor::new(Vec::new());
        let _ = diags.render_text(&sources, &mut text);
        eprintln!("{}", String::from_utf8_lossy(&text.into_inner()));
        eprintln!("fleetgen: the fleet's profiles do not resolve");
        std::process::exit(2);
    }
    out
}

// ------------------------------------------------------------------------------------------
// templates: one machine per profile on which every setting holds, and its drift candidates

/// One file of a snapshot: a head, items joined by `sep`, a tail (items are what drift edits).
#[derive(Default)]
struct Doc {
    name: String,
    head: String,
    sep: String,
    tail: String,
    items: Vec<String>,
    /// UTF-16LE with a BOM (secedit.inf).
    utf16: bool,
    /// The whole file for documents that are not item lists.
    raw: Option<Vec<u8>>,
    bytes: Vec<u8>,
    hash: String,
}

impl Doc {
    fn list(name: &str, head: &str, sep: &str, tail: &str, items: Vec<String>) -> Doc {
        Doc {
            name: name.into(),
            head: head.into(),
            sep: sep.into(),
            tail: tail.into(),
            items,
            ..Doc::default()
        }
    }
    fn ps51_array(name: &str, values: &[Value]) -> Doc {
        Doc::list(
            name,
            "[\r\n",
            ",\r\n",
            "\r\n]",
            values.iter().map(ps51_item).collect(),
        )
    }
    fn lines(name: &str, lines: Vec<String>) -> Doc {
        Doc::list(
            name,
            "",
            "",
            "",
            lines.into_iter().map(|l| l + "\n").collect(),
        )
    }
    fn raw(name: &str, bytes: Vec<u8>) -> Doc {
        Doc {
            name: name.into(),
            raw: Some(bytes),
            ..Doc::default()
        }
    }
    fn render(&self, replaced: &BTreeMap<usize, &str>, appended: &[&str]) -> Vec<u8> {
        if let Some(raw) = &self.raw {
            return raw.clone();
        }
        let mut text = String::with_capacity(self.bytes.len() + 4096);
        text.push_str(&self.head);
        let mut first = true;
        let all = self
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| replaced.get(&i).copied().unwrap_or(item.as_str()))
            .chain(appended.iter().copied());
        for item in all {
            if !first {
                text.push_str(&self.sep);
            }
            first = false;
            text.push_str(item);
        }
        text.push_str(&self.tail);
        if self.utf16 {
            let mut out = vec![0xFF, 0xFE];
            for unit in text.encode_utf16() {
                out.extend_from_slice(&unit.to_le_bytes());
            }
            out
        } else {
            text.into_bytes()
        }
    }
    fn finish(mut self) -> Doc {
        self.bytes = self.render(&BTreeMap::new(), &[]);
        self.hash = sha256_hex(&self.bytes);
        self
    }
}

/// A change to a host's copy of a document.
#[derive(Clone)]
enum Change {
    Item(usize, usize, String),
    Append(usize, String),
    Replace(usize, Vec<u8>),
}

struct Event {
    probability: f64,
    change: Change,
}

struct Template {
    profile: String,
    family: &'static str,
    collector: &'static str,
    prefix: &'static str,
    docs: Vec<Doc>,
    /// Per-setting drift: applied each with the drift rate.
    candidates: Vec<Change>,
    /// Per-host events (unexpected rules, listeners, administrators).
    events: Vec<Event>,
    not_collected: BTreeMap<String, String>,
}

struct Builder {
    docs: Vec<Doc>,
    candidates: Vec<Change>,
    events: Vec<Event>,
}

impl Builder {
    fn add(&mut self, doc: Doc) -> usize {
        self.docs.push(doc);
        self.docs.len() - 1
    }
}

// ---------------------------------------------------------------- Windows

fn reg_record(key: &str, name: &str, data: &PolData) -> Option<Value> {
    let (kind, kind_name, data): (i32, &str, Vec<String>) = match data {
        PolData::Dword(n) => (4, "DWord", vec![n.to_string()]),
        PolData::Qword(n) => (11, "QWord", vec![n.to_string()]),
        PolData::Sz(t) => (1, "String", vec![t.clone()]),
        PolData::ExpandSz(t) => (2, "ExpandString", vec![t.clone()]),
        PolData::MultiSz(l) => (7, "MultiString", l.clone()),
        _ => return None,
    };
    Some(
        json!({"Hive": "HKLM", "Key": key, "Name": name, "Present": true, "Type": kind, "TypeName": kind_name, "Data": data}),
    )
}

/// A drifted copy of a registry record: another number, another text, or gone.
fn drifted_record(record: &Value, index: usize) -> Value {
    let mut r = record.clone();
    if index % 5 == 4 {
        r["Present"] = json!(false);
        r["Type"] = json!(0);
        r["TypeName"] = json!("");
        r["Data"] = json!([]);
        return r;
    }
    let old = r["Data"][0].as_str().unwrap_or("").to_string();
    let new = match r["Type"].as_i64() {
        Some(4 | 11) => {
            let n: u64 = old.parse().unwrap_or(0);
            if n == 0 {
                "1".to_string()
            } else if n == 1 {
                "0".to_string()
            } else {
                (n * 2).to_string()
            }
        }
        _ => format!("{old}.bak"),
    };
    r["Data"] = json!([new]);
    r
}

fn bcd_reading(element: &str, value: &str) -> String {
    match (element, value) {
        ("bootmenupolicy", "legacy") => "0".into(),
        ("bootmenupolicy", "standard") => "1".into(),
        ("bootstatuspolicy", "displayallfailures") => "0".into(),
        ("bootstatuspolicy", "ignoreallfailures") => "1".into(),
        (_, "yes" | "on" | "true") => "true".into(),
        (_, "no" | "off" | "false") => "false".into(),
        (_, n) => n.into(),
    }
}

const WINDOWS_SERVICES: &[&str] = &[
    "AarSvc",
    "AJRouter",
    "ALG",
    "AppHostSvc",
    "AppIDSvc",
    "Appinfo",
    "AppMgmt",
    "AppReadiness",
    "AppXSvc",
    "AudioEndpointBuilder",
    "Audiosrv",
    "autotimesvc",
    "AxInstSV",
    "BDESVC",
    "BFE",
    "BITS",
    "BrokerInfrastructure",
    "BTAGService",
    "BthAvctpSvc",
    "bthserv",
    "camsvc",
    "CDPSvc",
    "CertPropSvc",
    "ClipSVC",
    "COMSysApp",
    "CoreMessagingRegistrar",
    "CryptSvc",
    "CscService",
    "DcomLaunch",
    "defragsvc",
    "DeviceAssociationService",
    "DeviceInstall",
    "DevQueryBroker",
    "Dhcp",
    "diagnosticshub.standardcollector.service",
    "DiagTrack",
    "DispBrokerDesktopSvc",
    "DisplayEnhancementService",
    "DmEnrollmentSvc",
    "dmwappushservice",
    "Dnscache",
    "DoSvc",
    "dot3svc",
    "DPS",
    "DsmSvc",
    "DsSvc",
    "DusmSvc",
    "Eaphost",
    "EFS",
    "embeddedmode",
    "EntAppSvc",
    "EventLog",
    "EventSystem",
    "Fax",
    "fdPHost",
    "FDResPub",
    "fhsvc",
    "FontCache",
    "FrameServer",
    "gpsvc",
    "GraphicsPerfSvc",
    "hidserv",
    "HvHost",
    "icssvc",
    "IKEEXT",
    "InstallService",
    "iphlpsvc",
    "IpxlatCfgSvc",
    "KeyIso",
    "KtmRm",
    "LanmanServer",
    "LanmanWorkstation",
    "lfsvc",
    "LicenseManager",
    "lltdsvc",
    "lmhosts",
    "LSM",
    "LxpSvc",
    "MapsBroker",
    "MixedRealityOpenXRSvc",
    "mpssvc",
    "MSDTC",
    "MSiSCSI",
    "msiserver",
    "NaturalAuthentication",
    "NcaSvc",
    "NcbService",
    "NcdAutoSetup",
    "Netlogon",
    "Netman",
    "netprofm",
    "NetSetupSvc",
    "NetTcpPortSharing",
    "NgcCtnrSvc",
    "NgcSvc",
    "NlaSvc",
    "nsi",
    "p2pimsvc",
    "p2psvc",
    "PcaSvc",
    "PeerDistSvc",
    "perceptionsimulation",
    "PerfHost",
    "PhoneSvc",
    "pla",
    "PlugPlay",
    "PNRPAutoReg",
    "PNRPsvc",
    "PolicyAgent",
    "Power",
    "PrintNotify",
    "ProfSvc",
    "PushToInstall",
    "QWAVE",
    "RasAuto",
    "RasMan",
    "RemoteAccess",
    "RemoteRegistry",
    "RetailDemo",
    "RmSvc",
    "RpcEptMapper",
    "RpcLocator",
    "RpcSs",
    "SamSs",
    "SCardSvr",
    "ScDeviceEnum",
    "Schedule",
    "SCPolicySvc",
    "SDRSVC",
    "seclogon",
    "SEMgrSvc",
    "SENS",
    "SensorDataService",
    "SensorService",
    "SensrSvc",
    "SessionEnv",
    "SgrmBroker",
    "SharedAccess",
    "ShellHWDetection",
    "shpamsvc",
    "smphost",
    "SmsRouter",
    "SNMPTRAP",
    "spectrum",
    "Spooler",
    "sppsvc",
    "SSDPSRV",
    "ssh-agent",
    "SstpSvc",
    "StateRepository",
    "stisvc",
    "StorSvc",
    "svsvc",
    "swprv",
    "SysMain",
    "SystemEventsBroker",
    "TabletInputService",
    "TapiSrv",
    "TermService",
    "Themes",
    "TieringEngineService",
    "TimeBrokerSvc",
    "TokenBroker",
    "TrkWks",
    "TroubleshootingSvc",
    "TrustedInstaller",
    "tzautoupdate",
    "UevAgentService",
    "uhssvc",
    "UmRdpService",
    "upnphost",
    "UserManager",
    "UsoSvc",
    "VacSvc",
    "VaultSvc",
    "vds",
    "vmicguestinterface",
    "vmicheartbeat",
    "vmickvpexchange",
    "vmicrdv",
    "vmicshutdown",
    "vmictimesync",
    "vmicvmsession",
    "vmicvss",
    "VSS",
    "W32Time",
    "WaaSMedicSvc",
    "WalletService",
    "WarpJITSvc",
    "wbengine",
    "WbioSrvc",
    "Wcmsvc",
    "wcncsvc",
    "WdiServiceHost",
    "WdiSystemHost",
    "WdNisSvc",
    "WebClient",
    "Wecsvc",
    "WEPHOSTSVC",
    "wercplsupport",
    "WerSvc",
    "WFDSConMgrSvc",
    "WiaRpc",
    "WinDefend",
    "WinHttpAutoProxySvc",
    "Winmgmt",
    "WinRM",
    "wisvc",
    "WlanSvc",
    "wlidsvc",
    "wlpasvc",
    "WManSvc",
    "wmiApSrv",
    "WMPNetworkSvc",
    "workfolderssvc",
    "WpcMonSvc",
    "WPDBusEnum",
    "WpnService",
    "wscsvc",
    "WSearch",
    "wuauserv",
    "WwanSvc",
    "XblAuthManager",
    "XblGameSave",
    "XboxGipSvc",
    "XboxNetApiSvc",
    "uwfservice",
    "MsKeyboardFilter",
];

const WINDOWS_FEATURES: &[&str] = &[
    "Printing-PrintToPDFServices-Features",
    "Printing-XPSServices-Features",
    "SearchEngine-Client-Package",
    "MSRDC-Infrastructure",
    "NetFx3",
    "NetFx4-AdvSrvs",
    "WCF-Services45",
    "WCF-TCP-PortSharing45",
    "MediaPlayback",
    "WindowsMediaPlayer",
    "SmbDirect",
    "Printing-Foundation-Features",
    "Printing-Foundation-InternetPrinting-Client",
    "Printing-Foundation-LPDPrintService",
    "Printing-Foundation-LPRPortMonitor",
    "IIS-WebServerRole",
    "IIS-WebServer",
    "WorkFolders-Client",
    "Internet-Explorer-Optional-amd64",
    "Windows-Defender-Default-Definitions",
    "Client-DeviceLockdown",
    "Client-EmbeddedBootExp",
    "Client-EmbeddedLogon",
    "Containers-DisposableClientVM",
    "HypervisorPlatform",
    "VirtualMachinePlatform",
    "Microsoft-Hyper-V-All",
    "DirectoryServices-ADAM-Client",
    "SimpleTCP",
    "LegacyComponents",
    "DirectPlay",
    "MultiPoint-Connector",
    "AppServerClient",
    "DataCenterBridging",
    "ServicesForNFS-ClientOnly",
    "ClientForNFS-Infrastructure",
    "Windows-Identity-Foundation",
    "MSMQ-Container",
    "MSMQ-Server",
    "TIFFIFilter",
];

fn windows_template(
    state: &DesiredState,
    collector: &'static str,
) -> (Builder, BTreeMap<String, String>) {
    let mut b = Builder {
        docs: Vec::new(),
        candidates: Vec::new(),
        events: Vec::new(),
    };
    let pol = policy::build(state);

    // registry.json, registry-keys.json: every value the profile's registry.pol sets or deletes.
    let mut values: Vec<Value> = Vec::new();
    let mut keys: Vec<Value> = Vec::new();
    for e in &pol.machine {
        if e.value.eq_ignore_ascii_case("**delvals.") {
            keys.push(json!({"Hive": "HKLM", "Key": e.key, "Present": true, "Values": []}));
            continue;
        }
        if let Some(name) = e.value.strip_prefix("**del.") {
            values.push(json!({"Hive": "HKLM", "Key": e.key, "Name": name, "Present": false, "Type": 0, "TypeName": "", "Data": []}));
            continue;
        }
        if e.value.starts_with("**") {
            continue;
        }
        let Some(record) = reg_record(&e.key, &e.value, &e.data) else {
            continue;
        };
        match keys.iter_mut().find(|k| {
            k["Key"]
                .as_str()
                .is_some_and(|k| k.eq_ignore_ascii_case(&e.key))
        }) {
            Some(k) => k["Values"].as_array_mut().expect("values").push(record),
            None => values.push(record),
        }
    }
    let reg = b.add(Doc::ps51_array("registry.json", &values));
    for (i, v) in values.iter().enumerate() {
        // Firewall rule strings and deletions are not what a technician edits by hand.
        let key = v["Key"].as_str().unwrap_or("");
        if v["Present"] == json!(true) && !key.contains("FirewallRules") {
            b.candidates
                .push(Change::Item(reg, i, ps51_item(&drifted_record(v, i))));
        }
    }
    b.add(Doc::raw(
        "registry-keys.json",
        ps51_json(&Value::Array(keys)).into_bytes(),
    ));

    // auditpol.csv as `auditpol /backup` writes it.
    let mut rows = Vec::new();
    for row in &pol.audit {
        rows.push(format!(
            "ATM01,System,{},{},{},,{}\r\n",
            row.subcategory.trim_start_matches("Audit "),
            row.guid.to_ascii_uppercase(),
            row.inclusion,
            row.value
        ));
    }
    let audit_rows = rows.len();
    rows.push("ATM01,,Option:CrashOnAuditFail,,Disabled,,0\r\n".into());
    rows.push(",,FileGlobalSacl,,,,\r\n".into());
    rows.push(",,RegistryGlobalSacl,,,,\r\n".into());
    let audit = b.add(Doc::list(
        "auditpol.csv",
        "Machine Name,Policy Target,Subcategory,Subcategory GUID,Inclusion Setting,Exclusion Setting,Setting Value\r\n",
        "",
        "",
        rows.clone(),
    ));
    for (i, row) in pol.audit.iter().enumerate().take(audit_rows) {
        let value = match row.value.as_str() {
            "3" => "1",
            "1" => "0",
            "2" => "0",
            _ => "3",
        };
        let inclusion = match value {
            "1" => "Success",
            "3" => "Success and Failure",
            _ => "No Auditing",
        };
        b.candidates.push(Change::Item(
            audit,
            i,
            format!(
                "ATM01,System,{},{},{},,{}\r\n",
                row.subcategory.trim_start_matches("Audit "),
                row.guid.to_ascii_uppercase(),
                inclusion,
                value
            ),
        ));
    }

    // Local accounts and groups: the kiosk account, the built-in accounts disabled.
    let users = json!([
        {"Sid": ADMIN_SID, "Name": "Administrator", "Disabled": true},
        {"Sid": "S-1-5-21-3623811015-3361044348-30300820-503", "Name": "DefaultAccount", "Disabled": true},
        {"Sid": GUEST_SID, "Name": "Guest", "Disabled": true},
        {"Sid": KIOSK_SID, "Name": "atmkiosk", "Disabled": false},
        {"Sid": VENDOR_SID, "Name": "atmvendor", "Disabled": true},
        {"Sid": "S-1-5-21-3623811015-3361044348-30300820-504", "Name": "WDAGUtilityAccount", "Disabled": true}
    ]);
    let groups = |extra_admin: bool| {
        let mut admins = vec![json!({"Sid": ADMIN_SID, "Name": "Administrator"})];
        if extra_admin {
            admins.push(json!({"Sid": VENDOR_SID, "Name": "atmvendor"}));
        }
        json!({
            "Groups": [
                {"Sid": "S-1-5-32-544", "Name": "Administrators", "Members": admins},
                {"Sid": "S-1-5-32-551", "Name": "Backup Operators", "Members": []},
                {"Sid": "S-1-5-32-573", "Name": "Event Log Readers", "Members": []},
                {"Sid": "S-1-5-32-546", "Name": "Guests", "Members": [{"Sid": GUEST_SID, "Name": "Guest"}]},
                {"Sid": "S-1-5-32-547", "Name": "Power Users", "Members": []},
                {"Sid": "S-1-5-32-555", "Name": "Remote Desktop Users", "Members": []},
                {"Sid": "S-1-5-32-580", "Name": "Remote Management Users", "Members": []},
                {"Sid": "S-1-5-32-545", "Name": "Users", "Members": [
                    {"Sid": KIOSK_SID, "Name": "atmkiosk"}, {"Sid": VENDOR_SID, "Name": "atmvendor"},
                    {"Sid": "S-1-5-4", "Name": "INTERACTIVE"}, {"Sid": "S-1-5-11", "Name": "Authenticated Users"}]}
            ],
            "Users": users
        })
    };
    let gm = b.add(Doc::raw(
        "group-members.json",
        ps51_json(&groups(false)).into_bytes(),
    ));
    b.events.push(Event {
        probability: 0.01,
        change: Change::Replace(gm, ps51_json(&groups(true)).into_bytes()),
    });
    let sid_of = |p: &Principal| match p {
        Principal::WellKnownSid { sid, .. } => sid.to_ascii_uppercase(),
        Principal::LocalAccount { name } if name.eq_ignore_ascii_case("atmkiosk") => {
            KIOSK_SID.to_string()
        }
        Principal::LocalAccount { .. } => VENDOR_SID.to_string(),
    };

    // secedit.inf: [System Access], [Registry Values] and [Privilege Rights] as exported.
    let mut system_access: BTreeMap<String, InfValue> = [
        ("MinimumPasswordAge", 0),
        ("MaximumPasswordAge", 42),
        ("MinimumPasswordLength", 0),
        ("PasswordComplexity", 0),
        ("PasswordHistorySize", 0),
        ("LockoutBadCount", 0),
        ("RequireLogonToChangePassword", 0),
        ("ForceLogoffWhenHourExpire", 0),
        ("ClearTextPassword", 0),
        ("LSAAnonymousNameLookup", 0),
        ("EnableAdminAccount", 0),
        ("EnableGuestAccount", 0),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), InfValue::Number(v)))
    .collect();
    system_access.insert(
        "NewAdministratorName".into(),
        InfValue::Text("Administrator".into()),
    );
    system_access.insert("NewGuestName".into(), InfValue::Text("Guest".into()));
    for (k, v) in &pol.template.system_access {
        system_access.insert(k.clone(), v.clone());
    }
    let mut rights: BTreeMap<String, Vec<String>> = [
        (
            "SeNetworkLogonRight",
            vec![
                "*S-1-1-0",
                "*S-1-5-32-544",
                "*S-1-5-32-545",
                "*S-1-5-32-551",
            ],
        ),
        ("SeBackupPrivilege", vec!["*S-1-5-32-544", "*S-1-5-32-551"]),
        (
            "SeChangeNotifyPrivilege",
            vec![
                "*S-1-1-0",
                "*S-1-5-19",
                "*S-1-5-20",
                "*S-1-5-32-544",
                "*S-1-5-32-545",
                "*S-1-5-32-551",
            ],
        ),
        ("SeSystemtimePrivilege", vec!["*S-1-5-19", "*S-1-5-32-544"]),
        ("SeCreatePagefilePrivilege", vec!["*S-1-5-32-544"]),
        ("SeDebugPrivilege", vec!["*S-1-5-32-544"]),
        ("SeRemoteShutdownPrivilege", vec!["*S-1-5-32-544"]),
        ("SeAuditPrivilege", vec!["*S-1-5-19", "*S-1-5-20"]),
        (
            "SeIncreaseQuotaPrivilege",
            vec!["*S-1-5-19", "*S-1-5-20", "*S-1-5-32-544"],
        ),
        (
            "SeInteractiveLogonRight",
            vec!["*S-1-5-32-544", "*S-1-5-32-545", "*S-1-5-32-551"],
        ),
        ("SeLoadDriverPrivilege", vec!["*S-1-5-32-544"]),
        ("SeSecurityPrivilege", vec!["*S-1-5-32-544"]),
        (
            "SeShutdownPrivilege",
            vec!["*S-1-5-32-544", "*S-1-5-32-545", "*S-1-5-32-551"],
        ),
        ("SeTakeOwnershipPrivilege", vec!["*S-1-5-32-544"]),
        ("SeDenyInteractiveLogonRight", vec!["*S-1-5-32-546"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(str::to_string).collect()))
    .collect();
    for s in state.settings() {
        if let SettingKind::UserRight(u) = &s.kind {
            let principals: Vec<String> = u
                .principals
                .iter()
                .map(|p| format!("*{}", sid_of(p)))
                .collect();
            match u.mode {
                ListMode::Replace => {
                    rights.insert(u.right.clone(), principals);
                }
                ListMode::Add => {
                    let list = rights.entry(u.right.clone()).or_default();
                    for p in principals {
                        if !list.contains(&p) {
                            list.push(p);
                        }
                    }
                }
            }
        }
    }
    // secedit leaves a right that no one holds out of the export.
    rights.retain(|_, v| !v.is_empty());
    let template = SecurityTemplate {
        system_access: system_access.into_iter().collect(),
        registry_values: pol.template.registry_values.clone(),
        privilege_rights: rights.into_iter().collect(),
        ..SecurityTemplate::default()
    };
    b.add(Doc::raw(
        "secedit.inf",
        gpttmpl_inf::write(&template).expect("security template"),
    ));

    // Firewall profiles and rules (the profile's, then the built-in rules a unit has).
    let mut profiles = Vec::new();
    let mut governed_rules: Vec<Value> = Vec::new();
    for s in state.settings() {
        match &s.kind {
            SettingKind::FirewallProfile(p) => {
                let name = match p.profile {
                    FirewallProfileName::Domain => "Domain",
                    FirewallProfileName::Private => "Private",
                    FirewallProfileName::Public => "Public",
                };
                let action = |a: FirewallAction| if a == FirewallAction::Block { 4 } else { 2 };
                profiles.push(json!({
                    "Name": name, "Enabled": u32::from(p.enabled),
                    "DefaultInboundAction": action(p.default_inbound), "DefaultOutboundAction": action(p.default_outbound),
                    "AllowLocalFirewallRules": u32::from(p.allow_local_rules), "AllowLocalIPsecRules": u32::from(p.allow_local_ipsec_rules),
                    "NotifyOnListen": if p.notifications_off { 0 } else { 1 }, "LogBlocked": u32::from(p.log_dropped)
                }));
            }
            SettingKind::FirewallRule(r) => {
                if governed_rules
                    .iter()
                    .any(|g| g["InstanceID"].as_str() == Some(r.name.as_str()))
                {
                    continue;
                }
                let list = |v: Vec<String>| {
                    if v.is_empty() {
                        vec!["Any".to_string()]
                    } else {
                        v
                    }
                };
                let protocol = match r.protocol {
                    Protocol::Tcp => "TCP",
                    Protocol::Udp => "UDP",
                    Protocol::Icmpv4 => "ICMPv4",
                    Protocol::Icmpv6 => "ICMPv6",
                    Protocol::Any => "Any",
                };
                governed_rules.push(json!({
                    "InstanceID": r.name, "DisplayName": r.purpose, "Group": "hardbase", "Enabled": 1,
                    "Direction": if r.direction == Direction::Inbound { 1 } else { 2 },
                    "Action": if r.action == FirewallAction::Allow { 2 } else { 4 },
                    "Profiles": 0, "PolicyStoreSource": "GroupPolicy (LGPO)", "Protocol": protocol,
                    "LocalPort": list(r.local_ports.iter().map(u16::to_string).collect()),
                    "RemotePort": list(r.remote_ports.iter().map(u16::to_string).collect()),
                    "IcmpType": list(r.icmp_types.iter().map(u8::to_string).collect()),
                    "RemoteAddress": list(r.remote_addresses.clone()),
                    "Program": r.program.clone().unwrap_or_else(|| "Any".into()),
                    "Service": r.service.clone().unwrap_or_else(|| "Any".into())
                }));
            }
            _ => {}
        }
    }
    b.add(Doc::raw(
        "firewall-profiles.json",
        ps51_json(&Value::Array(profiles)).into_bytes(),
    ));
    let mut rules = governed_rules.clone();
    let groups_of_rules = [
        ("Core Networking", "@FirewallAPI.dll,-25000"),
        ("File and Printer Sharing", "@FirewallAPI.dll,-28502"),
        ("Remote Assistance", "@FirewallAPI.dll,-33002"),
        ("Network Discovery", "@FirewallAPI.dll,-32752"),
        ("Windows Remote Management", "@FirewallAPI.dll,-30267"),
        ("Remote Desktop", "@FirewallAPI.dll,-28752"),
        (
            "Windows Management Instrumentation (WMI)",
            "@FirewallAPI.dll,-34251",
        ),
        (
            "Delivery Optimization",
            "@%SystemRoot%\\system32\\dosvc.dll,-104",
        ),
        ("mDNS", "@%SystemRoot%\\system32\\firewallapi.dll,-37302"),
        ("Cast to Device functionality", "@FirewallAPI.dll,-36001"),
    ];
    let mut n = 0;
    while rules.len() < FIREWALL_RULES {
        let (group, resource) = groups_of_rules[n % groups_of_rules.len()];
        let inbound = n % 3 != 0;
        // Inbound rules of the built-in groups are there but disabled; outbound ones are
        // enabled (the profile's default outbound block still applies to them only if they
        // do not match). Neither is an unexpected inbound allow rule.
        let port = [
            53u16, 67, 68, 80, 135, 137, 138, 139, 443, 445, 547, 1900, 3389, 5353, 5355, 5985,
            5986,
        ][n % 17];
        let profiles_mask = [1u32, 2, 4, 6, 7][n % 5];
        rules.push(json!({
            "InstanceID": format!("{}-{}-{}", group.replace([' ', '(', ')'], ""), if inbound { "In" } else { "Out" }, n),
            "DisplayName": format!("{group} ({}-{})", if n % 2 == 0 { "TCP" } else { "UDP" }, if inbound { "In" } else { "Out" }),
            "Group": resource, "Enabled": if inbound { 2 } else { 1 }, "Direction": if inbound { 1 } else { 2 },
            "Action": 2, "Profiles": profiles_mask, "PolicyStoreSource": "PersistentStore",
            "Protocol": if n % 2 == 0 { "TCP" } else { "UDP" },
            "LocalPort": [if inbound { port.to_string() } else { "Any".to_string() }],
            "RemotePort": [if inbound { "Any".to_string() } else { port.to_string() }],
            "IcmpType": ["Any"], "RemoteAddress": [if n % 4 == 0 { "LocalSubnet" } else { "Any" }],
            "Program": if n % 3 == 1 { "%SystemRoot%\\system32\\svchost.exe" } else { "System" },
            "Service": if n % 3 == 1 { "Dnscache" } else { "Any" }
        }));
        n += 1;
    }
    let fw = b.add(Doc::ps51_array("firewall-rules.json", &rules));
    for (i, r) in governed_rules.iter().enumerate() {
        let mut d = r.clone();
        d["Enabled"] = json!(2);
        b.candidates.push(Change::Item(fw, i, ps51_item(&d)));
    }
    for (name, display, port, program) in [
        (
            "VNC-Server-In",
            "VNC Server",
            5900,
            "C:\\Program Files\\uvnc bvba\\UltraVNC\\winvnc.exe",
        ),
        (
            "RemoteSupport-In",
            "Remote support agent",
            8443,
            "C:\\Program Files\\RSAgent\\rsagent.exe",
        ),
    ] {
        b.events.push(Event {
            probability: 0.02,
            change: Change::Append(
                fw,
                ps51_item(&json!({
                    "InstanceID": name, "DisplayName": display, "Group": "", "Enabled": 1, "Direction": 1, "Action": 2,
                    "Profiles": 7, "PolicyStoreSource": "PersistentStore", "Protocol": "TCP", "LocalPort": [port.to_string()],
                    "RemotePort": ["Any"], "IcmpType": ["Any"], "RemoteAddress": ["Any"], "Program": program, "Service": "Any"
                })),
            ),
        });
    }

    // Services: the profile's start modes, then the rest of a unit's services.
    let mut services: Vec<Value> = Vec::new();
    let mut governed: BTreeSet<String> = BTreeSet::new();
    let mut service_drift: Vec<(usize, Value)> = Vec::new();
    for s in state.settings() {
        if let SettingKind::Service(svc) = &s.kind {
            if !governed.insert(svc.name.to_ascii_lowercase()) {
                continue;
            }
            let (mode, state_name, delayed) = match svc.start {
                StartMode::Automatic => ("Auto", "Running", false),
                StartMode::AutomaticDelayed => ("Auto", "Running", true),
                StartMode::Manual => ("Manual", "Stopped", false),
                StartMode::Disabled => ("Disabled", "Stopped", false),
            };
            let v = json!({"Name": svc.name, "StartMode": mode, "State": state_name, "DelayedAutoStart": delayed});
            let mut d = v.clone();
            if svc.start == StartMode::Disabled {
                d["StartMode"] = json!("Manual");
            } else {
                d["StartMode"] = json!("Disabled");
                d["State"] = json!("Stopped");
            }
            service_drift.push((services.len(), d));
            services.push(v);
        }
    }
    let mut k = 0;
    while services.len() < SERVICES {
        let name = match WINDOWS_SERVICES.get(k) {
            Some(n) => n.to_string(),
            None => format!("ATMVendorSvc{:03}", k - WINDOWS_SERVICES.len() + 1),
        };
        k += 1;
        if !governed.insert(name.to_ascii_lowercase()) {
            continue;
        }
        let (mode, st) = match k % 4 {
            0 => ("Auto", "Running"),
            1 | 2 => ("Manual", "Stopped"),
            _ => ("Manual", "Running"),
        };
        services.push(
            json!({"Name": name, "StartMode": mode, "State": st, "DelayedAutoStart": k % 7 == 0}),
        );
    }
    let svc = b.add(Doc::ps51_array("services.json", &services));
    for (i, d) in service_drift {
        b.candidates.push(Change::Item(svc, i, ps51_item(&d)));
    }

    // Listening sockets: what the inbound flows and rules allow, and loopback.
    let mut listening = vec![
        json!({"Protocol": "tcp", "Address": "127.0.0.1", "Port": 49664, "Pid": 712, "Process": "lsass"}),
        json!({"Protocol": "tcp", "Address": "::1", "Port": 49665, "Pid": 1228, "Process": "svchost"}),
        json!({"Protocol": "udp", "Address": "127.0.0.1", "Port": 1900, "Pid": 3312, "Process": "svchost"}),
    ];
    for f in state
        .flows
        .iter()
        .filter(|f| f.direction == FlowDirection::Inbound)
    {
        for p in &f.ports {
            let proto = if f.protocol == Protocol::Udp {
                "udp"
            } else {
                "tcp"
            };
            listening.push(json!({"Protocol": proto, "Address": "0.0.0.0", "Port": p, "Pid": 4, "Process": "System"}));
        }
    }
    let ls = b.add(Doc::ps51_array("listening.json", &listening));
    b.events.push(Event {
        probability: 0.02,
        change: Change::Append(
            ls,
            ps51_item(&json!({"Protocol": "tcp", "Address": "0.0.0.0", "Port": 5900, "Pid": 4412, "Process": "winvnc"})),
        ),
    });

    // Optional features.
    let mut features: Vec<Value> = Vec::new();
    let mut feature_drift = Vec::new();
    let mut seen = BTreeSet::new();
    for s in state.settings() {
        if let SettingKind::OptionalFeature(f) = &s.kind {
            if !seen.insert(f.name.to_ascii_lowercase()) {
                continue;
            }
            let (n, name, other) = match f.state {
                FeatureState::Enabled => (4, "Enabled", "Disabled"),
                FeatureState::Disabled => (2, "Disabled", "Enabled"),
            };
            feature_drift.push((
                features.len(),
                json!({"FeatureName": f.name, "State": if other == "Enabled" { 4 } else { 2 }, "StateName": other}),
            ));
            features.push(json!({"FeatureName": f.name, "State": n, "StateName": name}));
        }
    }
    for (i, name) in WINDOWS_FEATURES.iter().enumerate() {
        if seen.insert(name.to_ascii_lowercase()) {
            let on = i % 3 == 0;
            features.push(json!({"FeatureName": name, "State": if on { 4 } else { 2 }, "StateName": if on { "Enabled" } else { "Disabled" }}));
        }
    }
    let ft = b.add(Doc::ps51_array("features.json", &features));
    for (i, d) in feature_drift {
        b.candidates.push(Change::Item(ft, i, ps51_item(&d)));
    }

    // lockdown.json: Shell Launcher, Keyboard Filter, UWF, BitLocker and the boot elements.
    let mut shells = Vec::new();
    let mut keyboard_keys = vec![json!({"Id": "Alt+Esc", "Enabled": false})];
    let mut keyboard_settings = vec![json!({"Name": "ForceOffAccessibility", "Value": "false"})];
    let mut volumes = Vec::new();
    let mut overlays = Vec::new();
    let mut registry_filters = Vec::new();
    let mut boot = Vec::new();
    let mut bitlocker = Value::Null;
    let mut uwf = Value::Null;
    for s in state.settings() {
        match &s.kind {
            SettingKind::KioskShell(k) => {
                let action = match k.on_exit {
                    ShellExitAction::RestartShell => 0,
                    ShellExitAction::RestartDevice => 1,
                    ShellExitAction::ShutdownDevice => 2,
                    ShellExitAction::DoNothing => 3,
                };
                shells.push(
                    json!({"Sid": sid_of(&k.account), "Shell": k.shell, "DefaultAction": action}),
                );
                shells.push(
                    json!({"Sid": "S-1-5-32-544", "Shell": k.admin_shell, "DefaultAction": 0}),
                );
            }
            SettingKind::KeyboardFilter(k) => {
                for id in &k.blocked_keys {
                    keyboard_keys.push(json!({"Id": id, "Enabled": true}));
                }
                keyboard_settings.push(json!({"Name": "DisableKeyboardFilterForAdministrators", "Value": if k.disable_for_administrators { "true" } else { "false" }}));
            }
            SettingKind::WriteFilter(f) => {
                uwf = json!({"CurrentEnabled": true, "NextEnabled": true});
                let files: Vec<String> = f
                    .file_exclusions
                    .iter()
                    .map(|p| p.get(2..).unwrap_or(p).to_string())
                    .collect();
                volumes.push(json!({"CurrentSession": true, "DriveLetter": f.volume, "Protected": true, "Exclusions": null}));
                volumes.push(json!({"CurrentSession": false, "DriveLetter": f.volume, "Protected": true, "Exclusions": files}));
                let kind = if f.overlay_type == OverlayType::Disk {
                    1
                } else {
                    0
                };
                for current in [true, false] {
                    overlays.push(json!({"CurrentSession": current, "Type": kind, "MaximumSize": f.overlay_size_mb}));
                }
                let mut keys = f.registry_exclusions.clone();
                keys.push(r"HKLM\SYSTEM\CurrentControlSet\Control\BitlockerStatus".into());
                registry_filters.push(json!({"CurrentSession": false, "Exclusions": keys}));
            }
            SettingKind::Bitlocker(bl) => {
                let method = match bl.encryption_method {
                    EncryptionMethod::XtsAes128 => 6,
                    EncryptionMethod::XtsAes256 => 7,
                };
                let protector = match bl.os_protector {
                    OsProtector::Tpm => 1,
                    _ => 4,
                };
                bitlocker = json!({"DriveLetter": "C:", "ProtectionStatus": 1, "EncryptionMethod": method, "KeyProtectorTypes": [protector, 3]});
            }
            SettingKind::BootSetting(bs) => {
                let object = match bs.object {
                    BootObject::Bootmgr => "{bootmgr}",
                    BootObject::Default => "{default}",
                    BootObject::Globalsettings => "{globalsettings}",
                };
                let (value, desired) = match &bs.value {
                    Some(v) => (v.clone(), bcd_reading(&bs.element, v)),
                    None => (String::new(), String::new()),
                };
                boot.push(json!({"Object": object, "Element": bs.element, "Value": value, "Desired": desired,
                    "Present": bs.value.is_some(), "Actual": desired}));
            }
            _ => {}
        }
    }
    let lockdown = |filter: Value| {
        json!({
            "UwfFilter": filter, "UwfVolumes": volumes, "UwfOverlayConfig": overlays, "UwfRegistryFilter": registry_filters,
            "ShellLauncher": shells, "ShellLauncherEnabled": true,
            "KeyboardFilter": keyboard_keys, "KeyboardFilterSettings": keyboard_settings,
            "AssignedAccess": null, "BitLocker": bitlocker, "Boot": boot,
            "DeviceGuard": {"CodeIntegrityPolicyEnforcementStatus": 0, "UsermodeCodeIntegrityPolicyEnforcementStatus": 0},
            "WdacPolicies": [],
            "NotCollected": {"MDM_AssignedAccess": "the MDM Bridge WMI provider (root\\cimv2\\mdm\\dmmap) answers to SYSTEM only"}
        })
    };
    let ld = b.add(Doc::raw(
        "lockdown.json",
        ps51_json(&lockdown(uwf.clone())).into_bytes(),
    ));
    if !uwf.is_null() {
        // A technician who turned the write filter off for maintenance and forgot it.
        b.events.push(Event {
            probability: 0.01,
            change: Change::Replace(
                ld,
                ps51_json(&lockdown(
                    json!({"CurrentEnabled": false, "NextEnabled": false}),
                ))
                .into_bytes(),
            ),
        });
    }
    let _ = collector;
    (b, BTreeMap::new())
}

// ---------------------------------------------------------------- Linux

const LINUX_UNITS: &[&str] = &[
    "auditd.service",
    "chronyd.service",
    "crond.service",
    "dbus-broker.service",
    "dracut-shutdown.service",
    "getty@.service",
    "gssproxy.service",
    "import-state.service",
    "irqbalance.service",
    "kdump.service",
    "kmod-static-nodes.service",
    "ldconfig.service",
    "loadmodules.service",
    "lvm2-lvmpolld.service",
    "lvm2-monitor.service",
    "microcode.service",
    "NetworkManager-dispatcher.service",
    "NetworkManager-wait-online.service",
    "NetworkManager.service",
    "nis-domainname.service",
    "polkit.service",
    "qemu-guest-agent.service",
    "rc-local.service",
    "rescue.service",
    "rhsmcertd.service",
    "rsyslog.service",
    "selinux-autorelabel-mark.service",
    "sshd-keygen@.service",
    "sshd.service",
    "sssd.service",
    "systemd-ask-password-console.service",
    "systemd-binfmt.service",
    "systemd-boot-update.service",
    "systemd-firstboot.service",
    "systemd-fsck-root.service",
    "systemd-hwdb-update.service",
    "systemd-initctl.service",
    "systemd-journal-catalog-update.service",
    "systemd-journal-flush.service",
    "systemd-journald.service",
    "systemd-logind.service",
    "systemd-machine-id-commit.service",
    "systemd-modules-load.service",
    "systemd-network-generator.service",
    "systemd-pstore.service",
    "systemd-random-seed.service",
    "systemd-remount-fs.service",
    "systemd-sysctl.service",
    "systemd-sysusers.service",
    "systemd-tmpfiles-clean.service",
    "systemd-tmpfiles-setup-dev.service",
    "systemd-tmpfiles-setup.service",
    "systemd-udev-settle.service",
    "systemd-udev-trigger.service",
    "systemd-udevd.service",
    "systemd-update-done.service",
    "systemd-update-utmp-runlevel.service",
    "systemd-update-utmp.service",
    "systemd-user-sessions.service",
    "tuned.service",
    "user-runtime-dir@.service",
    "user@.service",
    "dm-event.socket",
    "dbus.socket",
    "lvm2-lvmpolld.socket",
    "sssd-kcm.socket",
    "systemd-coredump.socket",
    "systemd-initctl.socket",
    "systemd-journald-dev-log.socket",
    "systemd-journald.socket",
    "systemd-udevd-control.socket",
    "systemd-udevd-kernel.socket",
    "basic.target",
    "cryptsetup.target",
    "emergency.target",
    "getty.target",
    "graphical.target",
    "local-fs.target",
    "multi-user.target",
    "network-online.target",
    "network.target",
    "nss-lookup.target",
    "paths.target",
    "remote-fs.target",
    "rescue.target",
    "shutdown.target",
    "slices.target",
    "sockets.target",
    "swap.target",
    "sysinit.target",
    "time-sync.target",
    "timers.target",
    "dnf-makecache.timer",
    "fstrim.timer",
    "logrotate.timer",
    "systemd-tmpfiles-clean.timer",
    "unbound-anchor.timer",
    "dev-hugepages.mount",
    "dev-mqueue.mount",
    "proc-sys-fs-binfmt_misc.mount",
    "sys-fs-fuse-connections.mount",
    "sys-kernel-config.mount",
    "sys-kernel-debug.mount",
    "sys-kernel-tracing.mount",
    "tmp.mount",
    "proc-sys-fs-binfmt_misc.automount",
    "systemd-ask-password-console.path",
    "systemd-ask-password-wall.path",
    "-.slice",
    "machine.slice",
    "system.slice",
    "user.slice",
];

const LINUX_PACKAGES: &[&str] = &[
    "acl",
    "audit",
    "audit-libs",
    "authselect",
    "basesystem",
    "bash",
    "bzip2-libs",
    "ca-certificates",
    "chrony",
    "coreutils",
    "cpio",
    "cracklib",
    "cronie",
    "crypto-policies",
    "curl",
    "cyrus-sasl-lib",
    "dbus",
    "dbus-broker",
    "device-mapper",
    "diffutils",
    "dnf",
    "dracut",
    "e2fsprogs",
    "elfutils-libs",
    "ethtool",
    "expat",
    "file",
    "filesystem",
    "findutils",
    "firewalld-filesystem",
    "gawk",
    "glib2",
    "glibc",
    "gmp",
    "gnupg2",
    "gnutls",
    "grep",
    "grub2-common",
    "grub2-efi-x64",
    "gzip",
    "hostname",
    "hwdata",
    "initscripts-service",
    "iproute",
    "iptables-libs",
    "iputils",
    "irqbalance",
    "jansson",
    "kbd",
    "kernel",
    "kernel-core",
    "kernel-modules",
    "kexec-tools",
    "keyutils-libs",
    "kmod",
    "krb5-libs",
    "less",
    "libacl",
    "libattr",
    "libblkid",
    "libcap",
    "libcap-ng",
    "libcurl",
    "libdb",
    "libfdisk",
    "libffi",
    "libgcc",
    "libgcrypt",
    "libidn2",
    "libmount",
    "libnftnl",
    "libnl3",
    "libpwquality",
    "libseccomp",
    "libselinux",
    "libsemanage",
    "libsepol",
    "libsmartcols",
    "libssh",
    "libstdc++",
    "libtasn1",
    "libuuid",
    "libxml2",
    "libzstd",
    "logrotate",
    "lua-libs",
    "lvm2",
    "lz4-libs",
    "man-db",
    "mpfr",
    "ncurses",
    "ncurses-base",
    "nettle",
    "NetworkManager",
    "nftables",
    "nspr",
    "nss",
    "openldap",
    "openssh",
    "openssh-clients",
    "openssh-server",
    "openssl",
    "openssl-libs",
    "p11-kit",
    "pam",
    "passwd",
    "pcre2",
    "policycoreutils",
    "polkit",
    "popt",
    "procps-ng",
    "python3",
    "python3-libs",
    "qemu-guest-agent",
    "readline",
    "rootfiles",
    "rpm",
    "rpm-libs",
    "rsyslog",
    "rsyslog-gnutls",
    "sed",
    "selinux-policy",
    "selinux-policy-targeted",
    "setup",
    "shadow-utils",
    "sqlite-libs",
    "sssd-client",
    "sudo",
    "systemd",
    "systemd-libs",
    "systemd-udev",
    "tar",
    "tuned",
    "tzdata",
    "util-linux",
    "vim-minimal",
    "which",
    "xfsprogs",
    "xz",
    "xz-libs",
    "yum",
    "zlib",
];

fn linux_template(state: &DesiredState, relay: bool) -> (Builder, BTreeMap<String, String>) {
    let mut b = Builder {
        docs: Vec::new(),
        candidates: Vec::new(),
        events: Vec::new(),
    };
    let mut not_collected = BTreeMap::new();

    // sysctl -a: the desired values among a server's usual keys.
    let mut sysctl: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in [
        ("kernel.hostname", "relay"),
        ("kernel.osrelease", "5.14.0-427.13.1.el9_4.x86_64"),
        ("kernel.pid_max", "4194304"),
        ("kernel.panic", "0"),
        ("kernel.printk", "4\t4\t1\t7"),
        ("kernel.randomize_va_space", "2"),
        ("kernel.sysrq", "16"),
        (
            "kernel.core_pattern",
            "|/usr/lib/systemd/systemd-coredump %P %u %g %s %t %c %h",
        ),
        ("kernel.dmesg_restrict", "0"),
        ("kernel.kptr_restrict", "0"),
        ("kernel.perf_event_paranoid", "2"),
        ("kernel.yama.ptrace_scope", "0"),
        ("kernel.unprivileged_bpf_disabled", "2"),
        ("kernel.kexec_load_disabled", "0"),
        ("fs.file-max", "9223372036854775807"),
        ("fs.protected_hardlinks", "1"),
        ("fs.protected_symlinks", "1"),
        ("fs.protected_fifos", "1"),
        ("fs.protected_regular", "2"),
        ("fs.suid_dumpable", "0"),
        ("vm.swappiness", "30"),
        ("vm.overcommit_memory", "0"),
        ("vm.mmap_min_addr", "65536"),
        ("net.core.somaxconn", "4096"),
        ("net.core.rmem_max", "212992"),
        ("net.core.wmem_max", "212992"),
        ("net.core.bpf_jit_harden", "1"),
        ("net.ipv4.ip_forward", "0"),
        ("net.ipv4.tcp_syncookies", "1"),
        ("net.ipv4.tcp_rmem", "4096\t131072\t6291456"),
        ("net.ipv4.tcp_wmem", "4096\t16384\t4194304"),
        ("net.ipv4.icmp_echo_ignore_broadcasts", "1"),
        ("net.ipv4.icmp_ignore_bogus_error_responses", "1"),
        ("net.ipv4.ip_local_port_range", "32768\t60999"),
        ("net.ipv6.conf.all.forwarding", "0"),
    ] {
        sysctl.insert(k.into(), v.into());
    }
    for iface in ["all", "default", "lo", "ens192"]
        .into_iter()
        .map(str::to_string)
        .chain((0..VLANS).map(vlan))
    {
        for (k, v) in IPV4_KEYS {
            sysctl.insert(format!("net.ipv4.conf.{iface}.{k}"), v.to_string());
        }
        sysctl.insert(format!("net.ipv4.conf.{iface}.forwarding"), "0".into());
        sysctl.insert(format!("net.ipv4.conf.{iface}.mc_forwarding"), "0".into());
        for (k, v) in IPV6_KEYS {
            sysctl.insert(format!("net.ipv6.conf.{iface}.{k}"), v.to_string());
        }
        sysctl.insert(format!("net.ipv6.conf.{iface}.mtu"), "1500".into());
        sysctl.insert(format!("net.ipv6.conf.{iface}.disable_ipv6"), "0".into());
    }
    let mut sysctl_drift = BTreeSet::new();
    for s in state.settings() {
        if let SettingKind::Sysctl(x) = &s.kind {
            let key = x.key.replace('/', ".");
            sysctl.insert(key.clone(), reg_text(&x.value));
            sysctl_drift.insert(key);
        }
    }
    let keys: Vec<(&String, &String)> = sysctl.iter().collect();
    let lines: Vec<String> = keys.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    let sc = b.add(Doc::lines("sysctl.txt", lines));
    for (i, (k, v)) in keys.iter().enumerate() {
        if sysctl_drift.contains(*k) {
            let new = if v.as_str() == "0" {
                "1".to_string()
            } else if v.as_str() == "1" {
                "0".to_string()
            } else {
                format!("{v}0")
            };
            b.candidates
                .push(Change::Item(sc, i, format!("{k} = {new}\n")));
        }
    }

    // systemctl list-unit-files: the profile's states, then the rest of a server's units.
    let mut units: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut governed_units = BTreeSet::new();
    for s in state.settings() {
        if let SettingKind::SystemdUnit(u) = &s.kind {
            let st = match u.state {
                UnitState::Enabled => "enabled",
                UnitState::Disabled => "disabled",
                UnitState::Masked => "masked",
            };
            units.insert(u.unit.clone(), (st.into(), "enabled".into()));
            governed_units.insert(u.unit.clone());
        }
    }
    for (i, u) in LINUX_UNITS.iter().enumerate() {
        units.entry(u.to_string()).or_insert_with(|| {
            let st = if u.ends_with(".target") || u.ends_with(".slice") || u.contains('@') {
                "static"
            } else if i % 3 == 0 {
                "disabled"
            } else {
                "enabled"
            };
            (
                st.into(),
                if st == "static" {
                    "-".into()
                } else {
                    "enabled".into()
                },
            )
        });
    }
    let mut k = 0;
    while units.len() < SERVICES {
        k += 1;
        units.insert(
            format!("app-{:03}.service", k),
            (
                if k % 2 == 0 { "enabled" } else { "disabled" }.into(),
                "disabled".into(),
            ),
        );
    }
    let unit_list: Vec<(&String, &(String, String))> = units.iter().collect();
    let uf = b.add(Doc::lines(
        "unit-files.txt",
        unit_list
            .iter()
            .map(|(u, (st, preset))| format!("{u} {st} {preset}"))
            .collect(),
    ));
    for (i, (u, (st, preset))) in unit_list.iter().enumerate() {
        if governed_units.contains(*u) {
            let new = if st == "enabled" {
                "disabled"
            } else {
                "enabled"
            };
            b.candidates
                .push(Change::Item(uf, i, format!("{u} {new} {preset}\n")));
        }
    }

    // sshd -T.
    let mut sshd: BTreeMap<String, String> = [
        ("port", "22"),
        ("addressfamily", "any"),
        ("listenaddress", "0.0.0.0:22"),
        ("usepam", "yes"),
        ("logingracetime", "120"),
        ("x11displayoffset", "10"),
        ("maxauthtries", "6"),
        ("maxsessions", "10"),
        ("clientaliveinterval", "0"),
        ("clientalivecountmax", "3"),
        ("permitrootlogin", "without-password"),
        ("pubkeyauthentication", "yes"),
        ("passwordauthentication", "yes"),
        ("kbdinteractiveauthentication", "no"),
        ("x11forwarding", "no"),
        ("allowtcpforwarding", "yes"),
        ("allowagentforwarding", "yes"),
        ("loglevel", "INFO"),
        ("syslogfacility", "AUTHPRIV"),
        ("subsystem", "sftp /usr/libexec/openssh/sftp-server"),
        ("ciphers", "aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes256-ctr,aes128-gcm@openssh.com,aes128-ctr"),
        ("macs", "hmac-sha2-256-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-512-etm@openssh.com"),
        ("hostkey", "/etc/ssh/ssh_host_ecdsa_key"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let mut sshd_governed = BTreeSet::new();
    for s in state.settings() {
        if let SettingKind::SshdOption(o) = &s.kind {
            let key = o.option.to_ascii_lowercase();
            sshd.insert(key.clone(), o.value.clone());
            sshd_governed.insert(key);
        }
    }
    let sshd_list: Vec<(&String, &String)> = sshd.iter().collect();
    let sd = b.add(Doc::lines(
        "sshd-T.txt",
        sshd_list.iter().map(|(k, v)| format!("{k} {v}")).collect(),
    ));
    for (i, (k, v)) in sshd_list.iter().enumerate() {
        if sshd_governed.contains(*k) {
            let new = match v.to_ascii_lowercase().as_str() {
                "no" => "yes".to_string(),
                "yes" => "no".to_string(),
                _ => match v.parse::<u64>() {
                    Ok(n) => (n * 4 + 1).to_string(),
                    Err(_) => format!("{v},3des-cbc"),
                },
            };
            b.candidates
                .push(Change::Item(sd, i, format!("{k} {new}\n")));
        }
    }

    // nft -j list ruleset: table inet hardbase as nftables.conf loads it (named address sets,
    // named policy counters, the built-in rules), then a block list in a table of its own.
    let chain_name = |c: Chain| match c {
        Chain::Input => "input",
        Chain::Output => "output",
        Chain::Forward => "forward",
    };
    let mut items = vec![
        json!({"metainfo": {"version": "1.0.9", "release_name": "Old Doc Yak #3", "json_schema_version": 1}}),
    ];
    items.push(json!({"table": {"family": "inet", "name": "hardbase", "handle": 1}}));
    let mut chains = BTreeMap::new();
    for s in state.settings() {
        if let SettingKind::NftPolicy(p) = &s.kind {
            let policy = if p.policy == ChainPolicy::Drop {
                "drop"
            } else {
                "accept"
            };
            chains.insert(chain_name(p.chain), policy);
        }
    }
    let mut handle = 1u64;
    let mut nft_rules: Vec<(&'static str, &hardbase::catalog::setting::NftRule)> = Vec::new();
    let mut seen_rules = BTreeSet::new();
    for s in state.settings() {
        if let SettingKind::NftRule(r) = &s.kind {
            if seen_rules.insert(r.name.clone()) {
                nft_rules.push((chain_name(r.chain), r));
            }
        }
    }
    nft_rules.sort_by(|a, b| a.1.name.cmp(&b.1.name));
    let addr = |a: &str| -> Value {
        match a.split_once('/') {
            Some((ip, len)) => {
                json!({"prefix": {"addr": ip, "len": len.parse::<u64>().unwrap_or(32)}})
            }
            None => json!(a),
        }
    };
    for (_, r) in &nft_rules {
        if !r.addresses.is_empty() {
            handle += 1;
            items.push(json!({"set": {"family": "inet", "name": format!("{}_v4", r.name.replace('-', "_")), "table": "hardbase",
                "type": "ipv4_addr", "handle": handle, "flags": ["interval"], "elem": r.addresses.iter().map(|a| addr(a)).collect::<Vec<_>>()}}));
        }
    }
    let order = ["input", "output", "forward"];
    for c in order.iter().filter(|c| chains.contains_key(**c)) {
        handle += 1;
        items.push(json!({"counter": {"family": "inet", "name": format!("{c}_policy"), "table": "hardbase", "handle": handle, "packets": 112, "bytes": 6720}}));
    }
    for c in order.iter().filter(|c| chains.contains_key(**c)) {
        handle += 1;
        items.push(json!({"chain": {"family": "inet", "table": "hardbase", "name": c, "handle": handle, "type": "filter", "hook": c, "prio": 0, "policy": chains[c]}}));
    }
    fn rule(handle: &mut u64, chain: &str, exprs: Vec<Value>, comment: Option<&str>) -> Value {
        *handle += 1;
        let mut body = json!({"family": "inet", "table": "hardbase", "chain": chain, "handle": *handle, "expr": exprs});
        if let Some(c) = comment {
            body["comment"] = json!(c);
        }
        json!({"rule": body})
    }
    let counter = |n: u64| json!({"counter": {"packets": n, "bytes": n * 84}});
    for c in order.iter().filter(|c| chains.contains_key(**c)) {
        let c: &str = c;
        if c != "forward" {
            let key = if c == "input" { "iif" } else { "oif" };
            items.push(rule(
                &mut handle,
                c,
                vec![
                    json!({"match": {"op": "==", "left": {"meta": {"key": key}}, "right": "lo"}}),
                    counter(5120),
                    json!({"accept": null}),
                ],
                Some("loopback"),
            ));
        }
        items.push(rule(&mut handle, c, vec![json!({"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": "invalid"}}), counter(3), json!({"drop": null})], Some("invalid packets")));
        items.push(rule(&mut handle, c, vec![json!({"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": ["established", "related"]}}), counter(884_211), json!({"accept": null})], Some("replies to allowed connections")));
        if c != "forward" {
            let third = if c == "input" {
                "nd-router-advert"
            } else {
                "nd-router-solicit"
            };
            items.push(rule(&mut handle, c, vec![
                json!({"match": {"op": "==", "left": {"payload": {"protocol": "icmpv6", "field": "type"}}, "right": {"set": ["nd-neighbor-solicit", "nd-neighbor-advert", third]}}}),
                json!({"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "hoplimit"}}, "right": 255}}),
                counter(0), json!({"accept": null})], Some("IPv6 neighbour discovery")));
        }
        for (chain, r) in nft_rules.iter().filter(|(chain, _)| *chain == c) {
            let proto = match r.protocol {
                Protocol::Tcp => "tcp",
                Protocol::Udp => "udp",
                Protocol::Icmpv4 => "icmp",
                Protocol::Icmpv6 => "ipv6-icmp",
                Protocol::Any => "tcp",
            };
            let field = if *chain == "input" { "saddr" } else { "daddr" };
            let mut exprs = Vec::new();
            if !r.addresses.is_empty() {
                exprs.push(json!({"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": field}}, "right": format!("@{}_v4", r.name.replace('-', "_"))}}));
            }
            if !r.ports.is_empty() {
                let right = if r.ports.len() == 1 {
                    json!(r.ports[0])
                } else {
                    json!({"set": r.ports})
                };
                exprs.push(json!({"match": {"op": "==", "left": {"payload": {"protocol": proto, "field": "dport"}}, "right": right}}));
            } else {
                exprs.push(json!({"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": proto}}));
            }
            exprs.push(counter(1200 + handle));
            exprs.push(json!({"accept": null}));
            items.push(rule(&mut handle, c, exprs, Some(&r.purpose)));
        }
        let tag = match c {
            "input" => "in",
            "output" => "out",
            _ => "fwd",
        };
        items.push(rule(
            &mut handle,
            c,
            vec![
                json!({"limit": {"rate": 5, "burst": 5, "per": "minute"}}),
                json!({"log": {"prefix": format!("hardbase-drop-{tag}: "), "level": "info"}}),
            ],
            None,
        ));
        items.push(rule(
            &mut handle,
            c,
            vec![json!({"counter": format!("{c}_policy")})],
            Some("packets left to the drop policy"),
        ));
    }
    let hardbase_items = items.len();
    // A block list of known-bad addresses in its own table: drop rules, never findings.
    items.push(json!({"table": {"family": "inet", "name": "blocklist", "handle": 2}}));
    items.push(json!({"chain": {"family": "inet", "table": "blocklist", "name": "input", "handle": 1, "type": "filter", "hook": "input", "prio": -10, "policy": "accept"}}));
    let rules_so_far = items.iter().filter(|i| i.get("rule").is_some()).count();
    for n in 0..FIREWALL_RULES.saturating_sub(rules_so_far) {
        let a = format!("198.51.{}.{}", n / 250, n % 250 + 1);
        items.push(json!({"rule": {"family": "inet", "table": "blocklist", "chain": "input", "handle": 100 + n, "expr": [
            {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": a}},
            {"counter": {"packets": n % 7, "bytes": (n % 7) * 60}}, {"drop": null}]}}));
    }
    let nft_doc = |items: &[Value]| serde_json::to_vec(&json!({"nftables": items})).expect("JSON");
    let nf = b.add(Doc::raw("nft.json", {
        let mut v = nft_doc(&items);
        v.push(b'\n');
        v
    }));
    {
        // Someone opened a port for a test and left it.
        let mut extra = items.clone();
        let mut r = rule(
            &mut handle,
            "input",
            vec![
                json!({"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 8080}}),
                json!({"accept": null}),
            ],
            None,
        );
        r["rule"]["handle"] = json!(99);
        extra.insert(hardbase_items, r);
        let mut v = nft_doc(&extra);
        v.push(b'\n');
        b.events.push(Event {
            probability: 0.03,
            change: Change::Replace(nf, v),
        });
    }

    // Kernel modules: loaded ones, and the profile's disabled and blacklisted.
    let mut modprobe = vec![
        "alias net-pf-10 ipv6".to_string(),
        "alias char-major-10-229 fuse".to_string(),
        "options bonding max_bonds=0".to_string(),
        "blacklist pcspkr".to_string(),
    ];
    for s in state.settings() {
        if let SettingKind::KernelModule(m) = &s.kind {
            modprobe.push(format!("install {} /bin/false", m.module));
            modprobe.push(format!("blacklist {}", m.module));
        }
    }
    b.add(Doc::lines("modprobe-config.txt", modprobe));
    let loaded = [
        "nft_ct",
        "nf_tables",
        "nfnetlink",
        "vmxnet3",
        "vmw_pvscsi",
        "xfs",
        "libcrc32c",
        "sd_mod",
        "sg",
        "ata_generic",
        "ahci",
        "libahci",
        "crc32c_intel",
        "ghash_clmulni_intel",
        "dm_mirror",
        "dm_region_hash",
        "dm_log",
        "dm_mod",
        "fuse",
        "8021q",
        "garp",
        "mrp",
        "bonding",
        "tls",
    ];
    b.add(Doc::lines(
        "proc-modules.txt",
        loaded
            .iter()
            .enumerate()
            .map(|(i, m)| {
                format!(
                    "{m} {} {} - Live 0x0000000000000000",
                    16384 + i * 4096,
                    i % 3
                )
            })
            .collect(),
    ));

    // auditd.
    let mut audit_rules = Vec::new();
    let mut enabled = 1;
    for s in state.settings() {
        if let SettingKind::AuditdRule(AuditdRule { rule }) = &s.kind {
            let words: Vec<&str> = rule.split_whitespace().collect();
            if words.first() == Some(&"-e") && words.len() == 2 {
                enabled = words[1].parse().unwrap_or(1);
            } else if hardbase::drift::audit_rule_canonical(rule).is_some()
                && !audit_rules.contains(rule)
            {
                audit_rules.push(rule.clone());
            }
        }
    }
    if audit_rules.is_empty() {
        audit_rules.push("No rules".into());
    }
    b.add(Doc::lines("auditctl-l.txt", audit_rules));
    b.add(Doc::lines(
        "auditctl-s.txt",
        vec![
            format!("enabled {enabled}"),
            "failure 1".into(),
            "pid 812".into(),
            "rate_limit 0".into(),
            "backlog_limit 8192".into(),
            "lost 0".into(),
            "backlog 0".into(),
            "backlog_wait_time 60000".into(),
            "backlog_wait_time_actual 0".into(),
        ],
    ));
    let usb: Vec<String> = state
        .settings()
        .filter_map(|s| match &s.kind {
            SettingKind::UsbguardRule(r) => Some(r.rule.clone()),
            _ => None,
        })
        .collect();
    if usb.is_empty() {
        not_collected.insert(
            "usbguard-rules.conf".to_string(),
            "/etc/usbguard/rules.conf does not exist".to_string(),
        );
    } else {
        b.add(Doc::lines("usbguard-rules.conf", usb));
    }

    // Packages (rpm): a server's packages, none of the forbidden ones.
    let absent: BTreeSet<String> = state
        .settings()
        .filter_map(|s| match &s.kind {
            SettingKind::PackageAbsent(p) => Some(p.package.clone()),
            _ => None,
        })
        .collect();
    let pk = b.add(Doc::lines(
        "packages.txt",
        LINUX_PACKAGES
            .iter()
            .filter(|p| !absent.contains(**p))
            .map(|p| format!("{p}\tii"))
            .collect(),
    ));
    for p in absent
        .iter()
        .filter(|p| ["telnet", "gcc", "gdb", "tcpdump"].contains(&p.as_str()))
    {
        b.events.push(Event {
            probability: 0.02,
            change: Change::Append(pk, format!("{p}\tii\n")),
        });
    }

    // Governed files: hardbase's installed files as installed, and the `file` settings.
    let installs = hardbase::target::linux::emit::install_files(state).expect("install files");
    // path → (mode, owner, group, content); mode `-` for an absent file.
    type Fact = (String, String, String, Option<Vec<u8>>);
    let mut facts: BTreeMap<String, Fact> = BTreeMap::new();
    for f in &installs {
        facts.insert(
            f.target.clone(),
            (
                format!("{:o}", f.mode),
                f.owner.clone(),
                f.group.clone(),
                Some(f.bytes.clone()),
            ),
        );
    }
    for s in state.settings() {
        if let SettingKind::File(f) = &s.kind {
            if f.absent || facts.contains_key(&f.path) {
                continue;
            }
            let mut content = String::from("# vendor default\n");
            for l in &f.lines {
                content.push_str(l);
                content.push('\n');
            }
            let mode = f
                .mode
                .as_deref()
                .map(|m| m.trim_start_matches('0').to_string())
                .unwrap_or_else(|| "644".into());
            facts.insert(
                f.path.clone(),
                (
                    if mode.is_empty() { "0".into() } else { mode },
                    f.owner.clone().unwrap_or_else(|| "root".into()),
                    f.group.clone().unwrap_or_else(|| "root".into()),
                    Some(content.into_bytes()),
                ),
            );
        }
    }
    let mut tsv = Vec::new();
    for s in state.settings() {
        if let SettingKind::File(f) = &s.kind {
            if f.absent && !facts.contains_key(&f.path) {
                facts.insert(f.path.clone(), ("-".into(), "-".into(), "-".into(), None));
            }
        }
    }
    for (path, (mode, owner, group, content)) in &facts {
        if mode == "-" {
            tsv.push(format!("{path}\t0\t-\t-\t-"));
        } else {
            tsv.push(format!("{path}\t1\t{mode}\t{owner}\t{group}"));
        }
        if let Some(bytes) = content {
            b.add(Doc::raw(&format!("files{path}"), bytes.clone()));
        }
    }
    b.add(Doc::lines("files.tsv", tsv));

    // login.defs, mounts, sockets, accounts.
    let mut defs: BTreeMap<String, String> = [
        ("MAIL_DIR", "/var/spool/mail"),
        ("UMASK", "022"),
        ("HOME_MODE", "0700"),
        ("PASS_MAX_DAYS", "99999"),
        ("PASS_MIN_DAYS", "0"),
        ("PASS_WARN_AGE", "7"),
        ("UID_MIN", "1000"),
        ("UID_MAX", "60000"),
        ("SYS_UID_MIN", "201"),
        ("SYS_UID_MAX", "999"),
        ("GID_MIN", "1000"),
        ("GID_MAX", "60000"),
        ("CREATE_HOME", "yes"),
        ("USERGROUPS_ENAB", "yes"),
        ("ENCRYPT_METHOD", "SHA512"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for s in state.settings() {
        if let SettingKind::LoginDefs(l) = &s.kind {
            defs.insert(l.key.clone(), l.value.clone());
        }
    }
    let mut login = vec![
        "#".to_string(),
        "# Please note that the parameters in this configuration file control the".to_string(),
        "# behavior of the tools from the shadow-utils component.".to_string(),
        "#".to_string(),
    ];
    login.extend(defs.iter().map(|(k, v)| format!("{k}\t{v}")));
    b.add(Doc::lines("login.defs", login));
    let mut mounts: BTreeMap<String, (String, String, Vec<String>)> = BTreeMap::new();
    for (dev, point, fs, opts) in [
        (
            "/dev/mapper/rhel-root",
            "/",
            "xfs",
            "rw,relatime,seclabel,attr2,inode64,logbufs=8,logbsize=32k,noquota",
        ),
        (
            "/dev/sda1",
            "/boot",
            "xfs",
            "rw,relatime,seclabel,attr2,inode64,logbufs=8,logbsize=32k,noquota",
        ),
        ("proc", "/proc", "proc", "rw,nosuid,nodev,noexec,relatime"),
        (
            "sysfs",
            "/sys",
            "sysfs",
            "rw,seclabel,nosuid,nodev,noexec,relatime",
        ),
        (
            "devtmpfs",
            "/dev",
            "devtmpfs",
            "rw,seclabel,nosuid,size=4096k,nr_inodes=1048576,mode=755,inode64",
        ),
        (
            "tmpfs",
            "/dev/shm",
            "tmpfs",
            "rw,seclabel,nosuid,nodev,inode64",
        ),
        (
            "tmpfs",
            "/run",
            "tmpfs",
            "rw,seclabel,nosuid,nodev,size=1589620k,nr_inodes=819200,mode=755,inode64",
        ),
        (
            "tmpfs",
            "/tmp",
            "tmpfs",
            "rw,seclabel,nosuid,nodev,size=2097152k,inode64",
        ),
        (
            "/dev/mapper/rhel-var",
            "/var",
            "xfs",
            "rw,relatime,seclabel,attr2,inode64,logbufs=8,logbsize=32k,noquota",
        ),
    ] {
        mounts.insert(
            point.into(),
            (
                dev.into(),
                fs.into(),
                opts.split(',').map(str::to_string).collect(),
            ),
        );
    }
    for s in state.settings() {
        if let SettingKind::MountOptions(m) = &s.kind {
            let entry = mounts
                .entry(m.mount_point.clone())
                .or_insert_with(|| ("tmpfs".into(), "tmpfs".into(), vec!["rw".into()]));
            for o in &m.options {
                if !entry.2.contains(o) {
                    entry.2.push(o.clone());
                }
            }
        }
    }
    b.add(Doc::lines(
        "mounts.txt",
        mounts
            .iter()
            .map(|(p, (d, fs, o))| format!("{d} {p} {fs} {} 0 0", o.join(",")))
            .collect(),
    ));
    let mut listening = vec![
        "udp UNCONN 0 0 127.0.0.1:323 0.0.0.0:* users:((\"chronyd\",pid=702,fd=5))".to_string(),
        "udp UNCONN 0 0 [::1]:323 [::]:* users:((\"chronyd\",pid=702,fd=6))".to_string(),
    ];
    let mut ports = BTreeSet::new();
    for s in state.settings() {
        if let SettingKind::NftRule(r) = &s.kind {
            if r.chain == Chain::Input {
                for p in &r.ports {
                    ports.insert((
                        if r.protocol == Protocol::Udp {
                            "udp"
                        } else {
                            "tcp"
                        },
                        *p,
                    ));
                }
            }
        }
    }
    for f in state
        .flows
        .iter()
        .filter(|f| f.direction == FlowDirection::Inbound)
    {
        for p in &f.ports {
            ports.insert((
                if f.protocol == Protocol::Udp {
                    "udp"
                } else {
                    "tcp"
                },
                *p,
            ));
        }
    }
    for (proto, port) in &ports {
        let process = match port {
            22 => "sshd",
            514 | 6514 => "rsyslogd",
            _ => {
                if relay {
                    "switchd"
                } else {
                    "rsyslogd"
                }
            }
        };
        let state_word = if *proto == "udp" { "UNCONN" } else { "LISTEN" };
        listening.push(format!("{proto} {state_word} 0 128 0.0.0.0:{port} 0.0.0.0:* users:((\"{process}\",pid=1{port},fd=3))"));
    }
    let ls = b.add(Doc::lines("listening.txt", listening));
    b.events.push(Event {
        probability: 0.03,
        change: Change::Append(
            ls,
            "tcp LISTEN 0 5 0.0.0.0:8080 0.0.0.0:* users:((\"python3\",pid=40211,fd=3))\n".into(),
        ),
    });
    let app = if relay { "switchsvc" } else { "rsyslog" };
    b.add(Doc::lines(
        "passwd.txt",
        vec![
            "root:x:0:0:root:/root:/bin/bash".into(),
            "bin:x:1:1:bin:/bin:/sbin/nologin".into(),
            "daemon:x:2:2:daemon:/sbin:/sbin/nologin".into(),
            "adm:x:3:4:adm:/var/adm:/sbin/nologin".into(),
            "nobody:x:65534:65534:Kernel Overflow User:/:/sbin/nologin".into(),
            "systemd-coredump:x:999:997:systemd Core Dumper:/:/sbin/nologin".into(),
            "dbus:x:81:81:System message bus:/:/sbin/nologin".into(),
            "polkitd:x:998:996:User for polkitd:/:/sbin/nologin".into(),
            "sshd:x:74:74:Privilege-separated SSH:/usr/share/empty.sshd:/sbin/nologin".into(),
            "chrony:x:997:995:chrony system user:/var/lib/chrony:/sbin/nologin".into(),
            format!("{app}:x:990:990:{app}:/var/lib/{app}:/sbin/nologin"),
            "opsadmin:x:1000:1000:Operations:/home/opsadmin:/bin/bash".into(),
        ],
    ));
    b.add(Doc::lines(
        "group.txt",
        vec![
            "root:x:0:".into(),
            "bin:x:1:".into(),
            "daemon:x:2:".into(),
            "adm:x:4:".into(),
            "wheel:x:10:opsadmin".into(),
            "systemd-journal:x:190:".into(),
            "sshd:x:74:".into(),
            format!("{app}:x:990:"),
            "opsadmin:x:1000:".into(),
        ],
    ));
    (b, not_collected)
}

fn build_template(state: &DesiredState, prefix: &'static str) -> Template {
    let windows = prefix.starts_with("ATM");
    let (collector, family) = if windows {
        ("hardbase 0.1.0 Collect-Hardbase.ps1", "windows")
    } else {
        ("hardbase 0.1.0 collect.sh", "linux")
    };
    let (b, not_collected) = if windows {
        windows_template(state, collector)
    } else {
        linux_template(state, prefix == "relay")
    };
    Template {
        profile: state.profile.name.clone(),
        family,
        collector,
        prefix,
        docs: b.docs.into_iter().map(Doc::finish).collect(),
        candidates: b.candidates,
        events: b.events,
        not_collected,
    }
}

// ------------------------------------------------------------------------------------------
// hosts

/// The index into FLEET of host `i`.
fn profile_of(seed: u64, i: usize) -> usize {
    let mut r = Rng::new(seed ^ 0xF1EE7, i as u64);
    let mut roll = r.below(100);
    for (k, p) in FLEET.iter().enumerate() {
        if roll < p.share {
            return k;
        }
        roll -= p.share;
    }
    0
}

fn snapshot_json(t: &Template, host: &str, at: &str, files: &[(String, String)]) -> Vec<u8> {
    if t.family == "windows" {
        let listed: serde_json::Map<String, Value> =
            files.iter().map(|(n, h)| (n.clone(), json!(h))).collect();
        let info = json!({
            "host": host, "collected_at": at, "collector": t.collector, "family": t.family,
            "profile": t.profile, "files": listed, "not_collected": t.not_collected,
        });
        return ps51_json(&info).into_bytes();
    }
    // As collect.sh prints it.
    let mut out = String::with_capacity(files.len() * 100 + 512);
    let q = |s: &str| serde_json::to_string(s).expect("string");
    let _ = write!(
        out,
        "{{\n  \"host\": {},\n  \"collected_at\": {},\n  \"collector\": {},\n  \"family\": \"linux\",\n  \"profile\": {},\n  \"files\": {{",
        q(host),
        q(at),
        q(t.collector),
        q(&t.profile)
    );
    let mut sep = "";
    for (n, h) in files {
        let _ = write!(out, "{sep}\n    {}: \"{h}\"", q(n));
        sep = ",";
    }
    out.push_str("\n  },\n  \"not_collected\": {");
    sep = "";
    for (n, r) in &t.not_collected {
        let _ = write!(out, "{sep}\n    {}: {}", q(n), q(r));
        sep = ",";
    }
    out.push_str("\n  }\n}\n");
    out.into_bytes()
}

#[derive(Default, Clone, Copy)]
struct Totals {
    files: u64,
    bytes: u64,
    changed_files: u64,
    drifted: u64,
    events: u64,
}

fn write_host(
    args: &Args,
    t: &Template,
    snapshots: &Path,
    i: usize,
    totals: &mut Totals,
) -> std::io::Result<()> {
    let host = format!("{}-{:05}", t.prefix, i + 1);
    let dir = snapshots.join(&host);
    let mut rng = Rng::new(args.seed, i as u64);
    let rate = if rng.below(10) == 0 { 0.0 } else { args.drift };
    let mut changes: Vec<&Change> = Vec::new();
    for c in &t.candidates {
        if rng.chance(rate) {
            changes.push(c);
            totals.drifted += 1;
        }
    }
    for e in &t.events {
        if rate > 0.0 && rng.chance(e.probability) {
            changes.push(&e.change);
            totals.events += 1;
        }
    }
    let mut replaced: Vec<BTreeMap<usize, &str>> = vec![BTreeMap::new(); t.docs.len()];
    let mut appended: Vec<Vec<&str>> = vec![Vec::new(); t.docs.len()];
    let mut whole: Vec<Option<&Vec<u8>>> = vec![None; t.docs.len()];
    for c in changes {
        match c {
            Change::Item(d, k, text) => {
                replaced[*d].insert(*k, text);
            }
            Change::Append(d, text) => appended[*d].push(text),
            Change::Replace(d, bytes) => whole[*d] = Some(bytes),
        }
    }
    std::fs::create_dir_all(&dir)?;
    let mut listed = Vec::with_capacity(t.docs.len());
    for (k, doc) in t.docs.iter().enumerate() {
        let path = dir.join(&doc.name);
        if doc.name.contains('/') {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
        }
        let (bytes, hash): (std::borrow::Cow<[u8]>, String) = if let Some(b) = whole[k] {
            (b.as_slice().into(), sha256_hex(b))
        } else if replaced[k].is_empty() && appended[k].is_empty() {
            (doc.bytes.as_slice().into(), doc.hash.clone())
        } else {
            let b = doc.render(&replaced[k], &appended[k]);
            let h = sha256_hex(&b);
            (b.into(), h)
        };
        if hash != doc.hash {
            totals.changed_files += 1;
        }
        std::fs::write(&path, &bytes)?;
        totals.files += 1;
        totals.bytes += bytes.len() as u64;
        listed.push((doc.name.clone(), hash));
    }
    listed.sort();
    // Collected over one night, a few seconds apart.
    let secs = (i as u64 * 7) % 86_400;
    let at = format!(
        "2026-11-{:02}T{:02}:{:02}:{:02}Z",
        26 + (i / 12_343) % 2,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    );
    let info = snapshot_json(t, &host, &at, &listed);
    totals.files += 1;
    totals.bytes += info.len() as u64;
    std::fs::write(dir.join("snapshot.json"), info)
}

fn main() {
    let args = parse_args();
    let start = Instant::now();
    if args.out.exists() {
        eprintln!("fleetgen: {} exists; give a new folder", args.out.display());
        std::process::exit(2);
    }
    let (profiles, baselines) = write_inputs(&args);
    let states = resolve_profiles(&args, &profiles, &baselines);
    let templates: Vec<Template> = states
        .iter()
        .zip(FLEET)
        .map(|(s, p)| build_template(s, p.prefix))
        .collect();
    let prepared = start.elapsed();
    let snapshots = args.out.join("snapshots");
    std::fs::create_dir_all(&snapshots).expect("create snapshots");
    let assignment: Vec<usize> = (0..args.hosts).map(|i| profile_of(args.seed, i)).collect();
    let totals: Vec<Totals> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..args.jobs)
            .map(|job| {
                let (args, templates, snapshots, assignment) =
                    (&args, &templates, &snapshots, &assignment);
                scope.spawn(move || {
                    let mut totals = Totals::default();
                    for i in (job..args.hosts).step_by(args.jobs) {
                        if let Err(e) =
                            write_host(args, &templates[assignment[i]], snapshots, i, &mut totals)
                        {
                            eprintln!("fleetgen: host {i}: {e}");
                            std::process::exit(1);
                        }
                    }
                    totals
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("worker"))
            .collect()
    });
    let t = totals.iter().fold(Totals::default(), |a, b| Totals {
        files: a.files + b.files,
        bytes: a.bytes + b.bytes,
        changed_files: a.changed_files + b.changed_files,
        drifted: a.drifted + b.drifted,
        events: a.events + b.events,
    });
    let elapsed = start.elapsed();
    if args.quiet {
        return;
    }
    // A closed pipe (`| head`) is not an error worth a panic.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "fleetgen: {} hosts, {} files, {:.1} MB in {:.2} s (templates {:.2} s); {} drifted settings, {} unexpected items, {} files differ from their template",
        args.hosts,
        t.files,
        t.bytes as f64 / 1e6,
        elapsed.as_secs_f64(),
        prepared.as_secs_f64(),
        t.drifted,
        t.events,
        t.changed_files
    );
    // The first host of each profile, loaded and compared in-process.
    for (k, (state, template)) in states.iter().zip(&templates).enumerate() {
        let count = assignment.iter().filter(|a| **a == k).count();
        let Some(first) = assignment.iter().position(|a| *a == k) else {
            let _ = writeln!(out, "  {:<22} 0 hosts", template.profile);
            continue;
        };
        let dir = snapshots.join(format!("{}-{:05}", template.prefix, first + 1));
        let live = match hardbase::snapshot::load(&dir) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("fleetgen: {}: {e}", dir.display());
                std::process::exit(1);
            }
        };
        let report = drift::diff(state, &live);
        let counts = report.setting_counts();
        let c = |s: Status| counts.get(&s).copied().unwrap_or(0);
        let compared = c(Status::Compliant) + c(Status::Drift) + c(Status::Missing);
        let rules = live
            .windows
            .firewall_rules
            .as_ref()
            .map(Vec::len)
            .or(live.linux.nft.as_ref().map(|n| n.rules.len()))
            .unwrap_or(0);
        let services = live
            .windows
            .services
            .as_ref()
            .map(|s| s.len())
            .or(live.linux.unit_files.as_ref().map(|u| u.len()))
            .unwrap_or(0);
        let _ = writeln!(
        out,
            "  {:<22} {:>6} hosts; {}: {} settings compared ({} compliant, {} drift, {} missing), {} not-collected, {} waived, {} unexpected; {} firewall rules, {} services",
            template.profile,
            count,
            dir.file_name().and_then(|n| n.to_str()).unwrap_or(""),
            compared,
            c(Status::Compliant),
            c(Status::Drift),
            c(Status::Missing),
            c(Status::NotCollected),
            c(Status::Waived),
            report.unexpected.len(),
            rules,
            services
        );
    }
}

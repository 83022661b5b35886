//! LiveState: what a collector found on a machine, parsed from its native exports.
//!
//! A snapshot folder holds the native outputs a generated collector wrote (`sysctl -a`,
//! `nft -j list ruleset`, `sshd -T`, …) and `snapshot.json` (host, time, collector version,
//! SHA-256 of each file). Parsers turn each export into the typed facts below. Every source is
//! an `Option`: `None` means "not collected", which drift reports as `not-collected` — never
//! as compliant.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// The snapshot's own description (`snapshot.json`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SnapshotInfo {
    pub host: String,
    /// ISO 8601, as the collector wrote it.
    pub collected_at: String,
    pub collector: String,
    /// `linux` or `windows`.
    pub family: String,
    /// File name → SHA-256 (hex) as recorded by the collector.
    pub files: BTreeMap<String, String>,
}

/// A file's observed state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FileFact {
    pub exists: bool,
    /// Permission bits, such as 0o600.
    pub mode: Option<u32>,
    pub owner: Option<String>,
    pub group: Option<String>,
    /// The text, for the small configuration files the profile manages (absent for others).
    pub content: Option<String>,
}

/// One base chain of an nftables table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NftChain {
    pub family: String,
    pub table: String,
    pub name: String,
    /// `input`, `output`, `forward` … for base chains.
    pub hook: Option<String>,
    /// `accept` or `drop` for base chains.
    pub policy: Option<String>,
}

/// One nftables rule, reduced to what hardbase compares.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NftRule {
    pub family: String,
    pub table: String,
    pub chain: String,
    /// `accept`, `drop`, `reject`, … (the rule's verdict, if any).
    pub verdict: Option<String>,
    /// `tcp`, `udp`, … when the rule matches a layer-4 protocol.
    pub protocol: Option<String>,
    /// Destination ports matched (`dport`), expanded from sets and ranges of up to 1024 ports.
    pub ports: Vec<u16>,
    /// Addresses or networks matched as source (input) or destination (output), canonical form,
    /// resolved through named sets.
    pub addresses: Vec<String>,
    /// The rule's comment, if any.
    pub comment: Option<String>,
    /// Packets counted, when the rule has a counter.
    pub packets: Option<u64>,
}

/// nftables state from `nft -j list ruleset`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NftState {
    pub tables: Vec<(String, String)>,
    pub chains: Vec<NftChain>,
    pub rules: Vec<NftRule>,
}

/// A listening socket.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Listener {
    pub protocol: String,
    pub address: String,
    pub port: u16,
    pub process: Option<String>,
}

/// Linux facts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LinuxState {
    /// `sysctl -a`: key → value (whitespace normalized to single spaces).
    pub sysctl: Option<BTreeMap<String, String>>,
    /// `systemctl list-unit-files`: unit → state (`enabled`, `disabled`, `masked`, `static` …).
    pub unit_files: Option<BTreeMap<String, String>>,
    /// `sshd -T`: lower-case keyword → values in order (keywords that repeat keep every value).
    pub sshd: Option<BTreeMap<String, Vec<String>>>,
    pub nft: Option<NftState>,
    /// `/proc/modules`: loaded module names (with `_`, as the kernel writes them).
    pub modules_loaded: Option<BTreeSet<String>>,
    /// `modprobe --showconfig`: modules whose `install` command is /bin/false or /bin/true.
    pub modules_disabled: Option<BTreeSet<String>>,
    /// `modprobe --showconfig`: blacklisted modules.
    pub modules_blacklisted: Option<BTreeSet<String>>,
    /// `auditctl -l`: rules as auditctl prints them.
    pub audit_rules: Option<Vec<String>>,
    /// `auditctl -s`: the `enabled` flag (0, 1, 2).
    pub audit_enabled: Option<u32>,
    /// usbguard's rules file (or `usbguard list-rules`), one rule per entry.
    pub usbguard_rules: Option<Vec<String>>,
    /// Installed package names (dpkg-query or rpm).
    pub packages: Option<BTreeSet<String>>,
    /// Files the profile governs, by absolute path.
    pub files: Option<BTreeMap<String, FileFact>>,
    /// `/etc/login.defs`: effective key → value.
    pub login_defs: Option<BTreeMap<String, String>>,
    /// `/proc/mounts`: mount point → options.
    pub mounts: Option<BTreeMap<String, Vec<String>>>,
    /// `ss -Htlnup`: listening sockets.
    pub listening: Option<Vec<Listener>>,
    /// `/etc/passwd` user names with UID, `/etc/group` groups with members.
    pub users: Option<BTreeMap<String, u32>>,
    pub groups: Option<BTreeMap<String, Vec<String>>>,
}

/// Everything a snapshot holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LiveState {
    pub info: SnapshotInfo,
    pub linux: LinuxState,
}

/// A snapshot file that cannot be read: always an error naming the file and line, never a pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotError {
    pub file: String,
    /// 1-based line; 0 when the problem is the file as a whole.
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

impl std::error::Error for SnapshotError {}

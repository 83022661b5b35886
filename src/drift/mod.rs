//! Drift: a resolved profile ([`DesiredState`]) compared with what a collector found on the
//! machine ([`LiveState`]), setting by setting.
//!
//! The result is a [`DriftReport`]: one [`SettingResult`] per desired setting, grouped into
//! one [`ControlResult`] per control (a control is the worst of its settings), plus what is on
//! the machine but in no profile ([`Unexpected`]), plus unified diffs of the configuration
//! files where a file view helps ([`FileDiff`], see [`files`]). It keeps spans, not text, so
//! every report format (text, JSON, JUnit, SARIF and the filled checklist) renders the same
//! facts and points at the same catalog and profile lines.
//!
//! Three rules shape the comparisons:
//!
//! * **Absence of evidence is never compliance.** A source the collector did not write is
//!   `not-collected` (with the collector's reason when it gave one, such as the namespace of a
//!   lockdown feature that is not installed); so is every setting kind no collector reads, and
//!   every part of a setting that the snapshot holds no fact for. Every Windows kind is
//!   compared (see [`windows`]); an AppLocker collection that Apply sets itself (it names a
//!   local account) is the one Windows setting without a collected fact.
//! * **Known drift wins over unknowns**: a module that is loaded is drift even when the
//!   modprobe configuration was not collected.
//! * **Normalize only what the tools are known to rewrite**, and say so at each kind: `sysctl -a`
//!   and `sshd -T` change whitespace and case, `auditctl -l` rewrites rules (see
//!   [`audit_rule_canonical`]), `/proc/mounts` adds options; a network device's running
//!   configuration splits the VTY lines and numbers access-list entries (see [`network`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::catalog::flow::{address_covers, FlowDirection};
use crate::catalog::setting::{
    Chain, ChainPolicy, File, KernelModule, NftPolicy, NftRule, Protocol, RegData, SettingKind,
    SystemdUnit, UnitState,
};
use crate::catalog::taxonomy::Family;
use crate::live::{LinuxState, LiveState, NftRule as LiveRule, SnapshotInfo};
use crate::load::document::Date;
use crate::load::profile::{Attestation, Waiver};
use crate::model::{ControlState, ControlStatus, DesiredSetting, DesiredState};
use crate::source::Span;

pub mod files;
mod network;
mod windows;

pub use files::FileDiff;

/// hardbase's own nftables table (`table inet hardbase`).
const NFT_FAMILY: &str = "inet";
const NFT_TABLE: &str = crate::target::linux::nftables::TABLE;
/// The accept rules hardbase writes itself before the profile's rules in a drop chain, by
/// their comment (see `target::linux::nftables`).
const NFT_BUILTIN_COMMENTS: &[&str] = &[
    "loopback",
    "replies to allowed connections",
    "IPv6 neighbour discovery",
];

/// The result of one comparison, ordered from best to worst: a control is the worst of its
/// settings, and reports list the worst first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The machine is as the profile says.
    Compliant,
    /// Not enforced (or weakened) under a valid waiver.
    Waived,
    /// Checked by evidence and attestation, not on the machine.
    Manual,
    /// The snapshot holds no fact to compare with: never compliant.
    NotCollected,
    /// On the machine but in no profile (an extra inbound allow rule, an extra listening port).
    Unexpected,
    /// Absent on the machine.
    Missing,
    /// Present with another value than the profile's.
    Drift,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Compliant,
        Status::Waived,
        Status::Manual,
        Status::NotCollected,
        Status::Unexpected,
        Status::Missing,
        Status::Drift,
    ];

    /// The stable name used in every report format.
    pub fn id(self) -> &'static str {
        match self {
            Status::Compliant => "compliant",
            Status::Waived => "waived",
            Status::Manual => "manual",
            Status::NotCollected => "not-collected",
            Status::Unexpected => "unexpected",
            Status::Missing => "missing",
            Status::Drift => "drift",
        }
    }

    /// Whether this result makes the machine non-compliant (exit status 1).
    ///
    /// `not-collected` counts: a machine is compliant only on evidence. `manual` does not:
    /// manual controls are judged by their attestation, which the report shows.
    pub fn is_finding(self) -> bool {
        matches!(
            self,
            Status::NotCollected | Status::Unexpected | Status::Missing | Status::Drift
        )
    }
}

/// One desired setting compared with the machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingResult {
    pub control: String,
    /// The setting kind (`sysctl`, `nft_rule`, …).
    pub kind: &'static str,
    /// What the setting sets ([`SettingKind::target`]).
    pub target: String,
    pub status: Status,
    /// The profile's value, as a person reads it.
    pub expected: String,
    /// What the machine has; `None` when nothing was found or collected. Snapshot text:
    /// escape it before printing it to a terminal.
    pub actual: Option<String>,
    /// Why the status is what it is, when the values alone do not say it.
    pub note: Option<String>,
    /// The catalog's `[[control.setting]]` table.
    pub origin: Span,
    /// The profile values in the setting, with where each was set (`None`: catalog default).
    pub params: Vec<(String, Option<Span>)>,
}

/// A waiver as the report shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaiverInfo {
    pub scope: &'static str,
    pub reason: String,
    pub approved_by: String,
    pub ticket: String,
    pub expires: Date,
    /// The `expires` value in the profile.
    pub origin: Span,
    /// Expired on the evaluation day: a finding.
    pub expired: bool,
}

/// A manual control's attestation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttestationInfo {
    pub by: String,
    pub on: Date,
    pub evidence: Option<String>,
    pub origin: Span,
}

/// One control: the worst of its settings, with its waiver or attestation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlResult {
    pub id: String,
    pub title_en: String,
    pub title_ja: String,
    pub status: Status,
    pub settings: Vec<SettingResult>,
    pub waiver: Option<WaiverInfo>,
    pub attestation: Option<AttestationInfo>,
    /// The control's definition in the catalog.
    pub origin: Span,
    /// Control-level findings (an expired waiver), one sentence each.
    pub findings: Vec<String>,
}

/// What was found on the machine that no profile setting asks for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unexpected {
    /// `listening-port`, `nft-accept-rule`, `usbguard-allow-rule`, `firewall-allow-rule` or
    /// `administrator`.
    pub kind: &'static str,
    /// The thing itself, as the snapshot describes it (snapshot text: escape before printing).
    pub what: String,
    /// The control that governs this kind of thing, when the profile has one.
    pub control: Option<String>,
    /// Why it counts as unexpected, when the kind alone does not say it.
    pub note: Option<String>,
}

/// Everything `hardbase diff` found.
#[derive(Clone, Debug)]
pub struct DriftReport {
    pub profile: String,
    pub platform: &'static str,
    pub family: Family,
    pub evaluated_at: Date,
    pub snapshot: SnapshotInfo,
    /// Worst first, then in the profile's order.
    pub controls: Vec<ControlResult>,
    pub unexpected: Vec<Unexpected>,
    /// Unified diffs of the configuration hardbase renders against the machine's, one per
    /// file both sides of which are known (a view of the facts above: never counted again).
    pub file_diffs: Vec<FileDiff>,
}

impl DriftReport {
    /// Settings (and unexpected items) per status.
    pub fn setting_counts(&self) -> BTreeMap<Status, usize> {
        let mut counts: BTreeMap<Status, usize> = Status::ALL.iter().map(|s| (*s, 0)).collect();
        for s in self.controls.iter().flat_map(|c| &c.settings) {
            *counts.entry(s.status).or_default() += 1;
        }
        *counts.entry(Status::Unexpected).or_default() += self.unexpected.len();
        counts
    }

    /// Controls per status.
    pub fn control_counts(&self) -> BTreeMap<Status, usize> {
        let mut counts: BTreeMap<Status, usize> = Status::ALL.iter().map(|s| (*s, 0)).collect();
        for c in &self.controls {
            *counts.entry(c.status).or_default() += 1;
        }
        counts
    }

    /// Compliant means: no control with a finding and nothing unexpected.
    pub fn is_compliant(&self) -> bool {
        self.unexpected.is_empty() && self.controls.iter().all(|c| !c.status.is_finding())
    }

    /// The process exit status: 0 compliant, 1 any finding (drift, missing, unexpected,
    /// not-collected, an expired waiver). Errors (2) never reach a report.
    pub fn exit_code(&self) -> u8 {
        if self.is_compliant() {
            0
        } else {
            1
        }
    }
}

/// Characters that reorder or hide text without being control characters.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{2028}' | '\u{2029}'
        | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Makes text safe to print on a terminal: control characters and invisible format
/// characters become `\u{…}`, and `\` becomes `\\` so the result reads back unambiguously.
///
/// Snapshot values are hostile input: a machine can hold a sysctl value, a file line or a
/// process name made of terminal escape sequences. Every report escapes them with this; the
/// drift stage itself uses it for the one rendered text it makes, [`FileDiff::unified`].
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\\' {
            out.push_str("\\\\");
        } else if c.is_control() || is_invisible_format(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// What comparing a profile computes once, whatever the snapshot: each setting's expected
/// text, the registry.pol values of the Windows policy kinds, the security template and a
/// network device's rendered configuration. A fleet audit prepares each profile once and
/// diffs thousands of snapshots against it.
pub struct Prepared {
    /// Per setting, in the order of [`DesiredState::settings`].
    expected: Vec<String>,
    /// Per setting: the registry.pol values it writes (Windows policy kinds only, else empty).
    parts: Vec<Vec<windows::PolPart>>,
    /// Per setting: the lookup hash of the registry value a Windows registry setting reads
    /// (0 for other settings), the same for every snapshot.
    registry_hashes: Vec<u64>,
    /// The security template GptTmpl.inf holds (Windows).
    template: Option<crate::target::windows::gpttmpl_inf::SecurityTemplate>,
    rendered: Option<network::Rendered>,
}

/// Prepares a profile for [`diff_prepared`].
pub fn prepare(state: &DesiredState) -> Prepared {
    let family = state.profile.platform.family;
    let build = state.profile.platform.build;
    let rendered = (family == Family::Network).then(|| network::Rendered::new(state));
    let parts: Vec<Vec<windows::PolPart>> = state
        .settings()
        .map(|s| {
            if family == Family::Windows && windows::writes_policy_parts(&s.kind) {
                windows::policy_parts(s, build)
            } else {
                Vec::new()
            }
        })
        .collect();
    let expected = state
        .settings()
        .zip(&parts)
        .map(|(s, parts)| {
            match family {
                Family::Windows => windows::expected_text(s, parts),
                Family::Network => network::expected_text(&s.kind),
                _ => None,
            }
            .unwrap_or_else(|| expected_text(&s.kind))
        })
        .collect();
    let template =
        (family == Family::Windows).then(|| crate::target::windows::policy::build(state).template);
    let registry_hashes = state
        .settings()
        .map(|s| match &s.kind {
            SettingKind::Registry(r) => crate::snapshot::windows::registry_hash(&r.key, &r.value),
            _ => 0,
        })
        .collect();
    Prepared {
        expected,
        parts,
        registry_hashes,
        template,
        rendered,
    }
}

/// Compares a resolved profile with a snapshot.
pub fn diff(state: &DesiredState, live: &LiveState) -> DriftReport {
    diff_prepared(state, &prepare(state), live)
}

/// Compares a resolved profile, prepared by [`prepare`], with a snapshot.
pub fn diff_prepared(state: &DesiredState, prepared: &Prepared, live: &LiveState) -> DriftReport {
    let (controls, unexpected) = compare_all(state, prepared, live, Detail::Full);
    let file_diffs = match prepared.rendered.as_ref() {
        Some(r) => network::acl_diffs(state, r, live),
        None => files::file_diffs(state, prepared.template.as_ref(), live),
    };
    report(state, live.info.clone(), controls, unexpected, file_diffs)
}

/// Compares like [`diff_prepared`] for a fleet audit, which counts the compliant settings and
/// shows only the findings: a compliant setting's result holds its status, kind and origin
/// only (empty control, target and expected texts, no actual value, note or params), control
/// titles are left empty, and no file diffs are made.
pub fn diff_findings(state: &DesiredState, prepared: &Prepared, live: LiveState) -> DriftReport {
    let (controls, unexpected) = compare_all(state, prepared, &live, Detail::Findings);
    report(state, live.info, controls, unexpected, Vec::new())
}

/// How much of a setting's result [`compare_all`] keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Detail {
    /// Every field of every result.
    Full,
    /// Every field of results that are not compliant; only status, kind and origin of the
    /// compliant ones; no control titles.
    Findings,
}

fn report(
    state: &DesiredState,
    snapshot: SnapshotInfo,
    controls: Vec<ControlResult>,
    unexpected: Vec<Unexpected>,
    file_diffs: Vec<FileDiff>,
) -> DriftReport {
    DriftReport {
        profile: state.profile.name.clone(),
        platform: state.profile.platform.id,
        family: state.profile.platform.family,
        evaluated_at: state.evaluated_at,
        snapshot,
        controls,
        unexpected,
        file_diffs,
    }
}

/// Every control's result, worst first, and what is on the machine but in no profile.
fn compare_all(
    state: &DesiredState,
    prepared: &Prepared,
    live: &LiveState,
    detail: Detail,
) -> (Vec<ControlResult>, Vec<Unexpected>) {
    let family = state.profile.platform.family;
    let linux = &live.linux;
    let windows = &live.windows;
    let rendered = prepared.rendered.as_ref();
    let mut index = 0usize;
    let mut controls: Vec<ControlResult> = state
        .controls
        .iter()
        .map(|c| ControlResult {
            id: c.control.id.clone(),
            title_en: match detail {
                Detail::Full => c.control.title.en.clone(),
                Detail::Findings => String::new(),
            },
            title_ja: match detail {
                Detail::Full => c.control.title.ja.clone(),
                Detail::Findings => String::new(),
            },
            status: Status::Compliant,
            settings: c
                .settings
                .iter()
                .map(|s| {
                    let i = index;
                    index += 1;
                    compare(s, family, prepared, i, live, detail)
                })
                .collect(),
            waiver: c.waiver.as_ref().map(|w| waiver_info(w, c.waiver_expired)),
            attestation: c.attestation.as_ref().map(attestation_info),
            origin: c.control.span,
            findings: Vec::new(),
        })
        .collect();
    if family == Family::Linux {
        apply_usbguard(state, linux, &mut controls);
    }
    for (result, c) in controls.iter_mut().zip(&state.controls) {
        judge(result, c);
    }
    // Worst first; the sort is stable, so equal controls keep the profile's order.
    controls.sort_by_key(|c| std::cmp::Reverse(c.status));
    let unexpected = match family {
        Family::Linux => unexpected(state, linux),
        Family::Windows => windows::unexpected(state, windows),
        Family::Network => rendered
            .map(|r| network::unexpected(state, r, &live.network))
            .unwrap_or_default(),
    };
    (controls, unexpected)
}

/// A control's status: the worst of its settings, except that a manual control is `manual`, an
/// excluded control under a valid waiver is `waived` (a weakened one too when its weakened
/// settings hold), and an expired waiver makes the control at least `drift`.
fn judge(result: &mut ControlResult, c: &ControlState) {
    let worst = result
        .settings
        .iter()
        .map(|s| s.status)
        .max()
        .unwrap_or(Status::Compliant);
    result.status = match c.status {
        ControlStatus::Manual => Status::Manual,
        _ if c.waiver_expired => {
            let (ticket, expires) = result
                .waiver
                .as_ref()
                .map(|w| (w.ticket.clone(), w.expires.to_string()))
                .unwrap_or_default();
            result.findings.push(format!(
                "the waiver (ticket {ticket}) expired on {expires}: the control must be enforced again{}",
                if c.status == ControlStatus::Excluded {
                    "; its settings were not compared"
                } else {
                    ""
                }
            ));
            worst.max(Status::Drift)
        }
        ControlStatus::Excluded => Status::Waived,
        ControlStatus::Weakened if worst == Status::Compliant => Status::Waived,
        ControlStatus::Weakened | ControlStatus::Enforced => worst,
    };
}

fn waiver_info(w: &Waiver, expired: bool) -> WaiverInfo {
    WaiverInfo {
        scope: match w.scope {
            crate::load::profile::WaiverScope::Exclude => "exclude",
            crate::load::profile::WaiverScope::Weaken => "weaken",
        },
        reason: w.reason.clone(),
        approved_by: w.approved_by.clone(),
        ticket: w.ticket.clone(),
        expires: w.expires.value,
        origin: w.expires.span,
        expired,
    }
}

fn attestation_info(a: &Attestation) -> AttestationInfo {
    AttestationInfo {
        by: a.by.clone(),
        on: a.on.value,
        evidence: a.evidence.clone(),
        origin: a.on.span,
    }
}

/// The outcome of one comparison before it is attached to its setting.
struct Outcome {
    status: Status,
    actual: Option<String>,
    note: Option<String>,
}

impl Outcome {
    fn new(status: Status, actual: Option<String>) -> Self {
        Outcome {
            status,
            actual,
            note: None,
        }
    }
    fn compliant(actual: impl Into<String>) -> Self {
        Outcome::new(Status::Compliant, Some(actual.into()))
    }
    fn drift(actual: impl Into<String>) -> Self {
        Outcome::new(Status::Drift, Some(actual.into()))
    }
    fn missing() -> Self {
        Outcome::new(Status::Missing, None)
    }
    fn not_collected(source: &str) -> Self {
        Outcome::new(Status::NotCollected, None).note(format!("{source} was not collected"))
    }
    fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
    /// Compliant when `ok`, drift otherwise, with the machine's value either way.
    fn matches(ok: bool, actual: impl Into<String>) -> Self {
        if ok {
            Outcome::compliant(actual)
        } else {
            Outcome::drift(actual)
        }
    }
}

/// Compares the `i`-th setting of the prepared profile, `s`, with the snapshot.
fn compare(
    s: &DesiredSetting,
    family: Family,
    prepared: &Prepared,
    i: usize,
    live: &LiveState,
    detail: Detail,
) -> SettingResult {
    let parts = &prepared.parts[i];
    let expected = &prepared.expected[i];
    let outcome = match (family, prepared.rendered.as_ref()) {
        (Family::Linux, _) => compare_linux(&s.kind, &live.linux),
        (Family::Windows, _) => windows::compare(
            s,
            parts,
            &live.windows,
            detail == Detail::Findings,
            prepared.registry_hashes[i],
        ),
        (Family::Network, Some(rendered)) => network::compare(s, rendered, &live.network),
        _ => None,
    }
    .unwrap_or_else(|| {
        Outcome::new(Status::NotCollected, None)
            .note("hardbase has no collector for this setting kind yet")
    });
    let kind = s.kind.kind_name();
    // The usbguard results are compared again by their target once every rule is known.
    if detail == Detail::Findings
        && outcome.status == Status::Compliant
        && !matches!(s.kind, SettingKind::UsbguardRule(_))
    {
        return SettingResult {
            control: String::new(),
            kind,
            target: String::new(),
            status: outcome.status,
            expected: String::new(),
            actual: None,
            note: None,
            origin: s.origin,
            params: Vec::new(),
        };
    }
    SettingResult {
        control: s.control.clone(),
        kind,
        target: s.target.clone(),
        status: outcome.status,
        expected: expected.to_string(),
        actual: outcome.actual,
        note: outcome.note,
        origin: s.origin,
        params: s.params.clone(),
    }
}

/// Whitespace runs become one space; the ends are trimmed (as `sysctl -a` prints values).
fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn reg_data_text(value: &RegData) -> String {
    match value {
        RegData::Number(n) => n.to_string(),
        RegData::Text(t) => squash(t),
        RegData::List(items) => squash(&items.join(" ")),
    }
}

fn unit_state_name(state: UnitState) -> &'static str {
    match state {
        UnitState::Enabled => "enabled",
        UnitState::Disabled => "disabled",
        UnitState::Masked => "masked",
    }
}

fn chain_name(chain: Chain) -> &'static str {
    match chain {
        Chain::Input => "input",
        Chain::Output => "output",
        Chain::Forward => "forward",
    }
}

fn policy_name(policy: ChainPolicy) -> &'static str {
    match policy {
        ChainPolicy::Drop => "drop",
        ChainPolicy::Accept => "accept",
    }
}

fn protocol_name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Icmpv4 => "icmp",
        Protocol::Icmpv6 => "ipv6-icmp",
        Protocol::Any => "any",
    }
}

/// The expected value of a setting, in the words the actual value is given in.
fn expected_text(kind: &SettingKind) -> String {
    use SettingKind::*;
    match kind {
        Sysctl(s) => reg_data_text(&s.value),
        KernelModule(_) => "not loaded, install /bin/false, blacklisted".into(),
        SystemdUnit(u) => unit_state_name(u.state).into(),
        PackageAbsent(_) => "not installed".into(),
        File(f) => file_expected(f),
        SshdOption(o) => squash(&o.value),
        AuditdRule(r) if is_enable_rule(&r.rule) => {
            format!("enabled {}", r.rule.trim().trim_start_matches("-e").trim())
        }
        AuditdRule(r) => squash(&r.rule),
        UsbguardRule(r) => squash(&r.rule),
        NftPolicy(p) => format!(
            "chain with hook {} and policy {} in table {NFT_FAMILY} {NFT_TABLE}",
            chain_name(p.chain),
            policy_name(p.policy)
        ),
        NftRule(r) => nft_rule_expected(r),
        MountOptions(m) => m.options.join(","),
        LoginDefs(l) => squash(&l.value),
        other => other.summary(),
    }
}

fn file_expected(f: &File) -> String {
    if f.absent {
        return "absent".into();
    }
    let mut parts = vec!["present".to_string()];
    if let Some(m) = &f.mode {
        parts.push(format!("mode {m}"));
    }
    if let Some(o) = &f.owner {
        parts.push(format!("owner {o}"));
    }
    if let Some(g) = &f.group {
        parts.push(format!("group {g}"));
    }
    if !f.lines.is_empty() {
        parts.push(format!("lines {:?}", f.lines));
    }
    parts.join(", ")
}

fn nft_rule_expected(r: &NftRule) -> String {
    let mut ports: Vec<u16> = r.ports.clone();
    ports.sort_unstable();
    ports.dedup();
    format!(
        "accept {} {} in chain {} {} {}",
        protocol_name(r.protocol),
        if ports.is_empty() {
            "any port".to_string()
        } else {
            format!("port {}", join(&ports))
        },
        chain_name(r.chain),
        peer_word(chain_name(r.chain)),
        if r.addresses.is_empty() {
            "any peer".to_string()
        } else {
            r.addresses.join(", ")
        }
    )
}

/// Peers are sources in the input chain and destinations elsewhere.
fn peer_word(chain: &str) -> &'static str {
    if chain == "input" {
        "from"
    } else {
        "to"
    }
}

fn join<T: ToString>(items: &[T]) -> String {
    items.iter().map(T::to_string).collect::<Vec<_>>().join(",")
}

/// `None` for kinds that are not Linux settings.
fn compare_linux(kind: &SettingKind, linux: &LinuxState) -> Option<Outcome> {
    use SettingKind::*;
    Some(match kind {
        Sysctl(s) => {
            let key = s.key.replace('/', ".");
            match &linux.sysctl {
                None => Outcome::not_collected("sysctl.txt"),
                Some(map) => match map.get(&key) {
                    None => Outcome::missing().note(format!("`sysctl -a` has no key {key}")),
                    Some(v) => {
                        let actual = squash(v);
                        Outcome::matches(actual == reg_data_text(&s.value), actual)
                    }
                },
            }
        }
        KernelModule(m) => kernel_module(m, linux),
        SystemdUnit(u) => systemd_unit(u, linux),
        PackageAbsent(p) => match &linux.packages {
            None => Outcome::not_collected("packages.txt"),
            Some(set) if set.contains(&p.package) => Outcome::drift("installed"),
            Some(_) => Outcome::compliant("not installed"),
        },
        File(f) => file(f, linux),
        SshdOption(o) => {
            let key = o.option.to_ascii_lowercase();
            match &linux.sshd {
                None => Outcome::not_collected("sshd-T.txt"),
                Some(map) => match map.get(&key) {
                    None => Outcome::missing().note(format!("`sshd -T` prints no {key}")),
                    Some(values) => {
                        let actual = squash(&values.join(" "));
                        Outcome::matches(sshd_value_equal(&o.value, &actual), actual)
                    }
                },
            }
        }
        AuditdRule(r) if is_enable_rule(&r.rule) => {
            let want = r.rule.trim().trim_start_matches("-e").trim();
            match linux.audit_enabled {
                None => Outcome::not_collected("auditctl-s.txt"),
                Some(n) => Outcome::matches(n.to_string() == want, format!("enabled {n}")),
            }
        }
        AuditdRule(r) => audit_rule(&r.rule, linux),
        UsbguardRule(_) => {
            // Order matters to usbguard (the first matching rule wins): compared together.
            return Some(Outcome::not_collected("usbguard-rules.conf"));
        }
        NftPolicy(p) => nft_policy(p, linux),
        NftRule(r) => nft_rule(r, linux).0,
        MountOptions(m) => match &linux.mounts {
            None => Outcome::not_collected("mounts.txt"),
            Some(map) => match map.get(&m.mount_point) {
                None => Outcome::missing().note(format!("{} is not a mount point", m.mount_point)),
                Some(options) => {
                    let lacking: Vec<&String> =
                        m.options.iter().filter(|o| !options.contains(o)).collect();
                    let actual = options.join(",");
                    if lacking.is_empty() {
                        Outcome::compliant(actual)
                    } else {
                        Outcome::drift(actual).note(format!(
                            "lacks {}",
                            lacking
                                .iter()
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join(",")
                        ))
                    }
                }
            },
        },
        LoginDefs(l) => match &linux.login_defs {
            None => Outcome::not_collected("login.defs"),
            Some(map) => match map.get(&l.key) {
                None => Outcome::missing().note(format!("/etc/login.defs does not set {}", l.key)),
                Some(v) => {
                    let actual = squash(v);
                    let want = squash(&l.value);
                    // shadow reads yes/no case-insensitively; other values are compared as written.
                    let same =
                        actual == want || (is_yes_no(&want) && actual.eq_ignore_ascii_case(&want));
                    Outcome::matches(same, actual)
                }
            },
        },
        _ => return None,
    })
}

fn is_yes_no(value: &str) -> bool {
    value.eq_ignore_ascii_case("yes") || value.eq_ignore_ascii_case("no")
}

/// `sshd -T` prints keywords' values in its own case (`VERBOSE`, `no`) and times in seconds.
/// Keyword values (letters, digits, `-`) compare without case; `1m`/`2h` style times compare
/// as seconds; anything else compares exactly after whitespace squashing.
fn sshd_value_equal(expected: &str, actual: &str) -> bool {
    let want = squash(expected);
    if want == actual {
        return true;
    }
    let keyword = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' ')
    };
    if keyword(&want) && keyword(actual) && want.eq_ignore_ascii_case(actual) {
        return true;
    }
    matches!((sshd_seconds(&want), sshd_seconds(actual)), (Some(a), Some(b)) if a == b)
}

/// An sshd time value (`90`, `1m30s`, `2h`) in seconds.
fn sshd_seconds(text: &str) -> Option<u64> {
    let mut total = 0u64;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            'w' => 604800,
            _ => return None,
        };
        total = total.checked_add(number.parse::<u64>().ok()?.checked_mul(unit)?)?;
        number.clear();
    }
    if !number.is_empty() {
        total = total.checked_add(number.parse().ok()?)?;
    }
    Some(total)
}

fn kernel_module(m: &KernelModule, linux: &LinuxState) -> Outcome {
    let name = m.module.replace('-', "_");
    let has = |set: &Option<std::collections::BTreeSet<String>>| {
        set.as_ref()
            .map(|s| s.iter().any(|n| n.replace('-', "_") == name))
    };
    let loaded = has(&linux.modules_loaded);
    let disabled = has(&linux.modules_disabled);
    let blacklisted = has(&linux.modules_blacklisted);
    let describe = |loaded: Option<bool>| {
        let word = |v: Option<bool>, yes: &str, no: &str| match v {
            Some(true) => yes.to_string(),
            Some(false) => no.to_string(),
            None => "(not collected)".to_string(),
        };
        [
            word(loaded, "loaded", "not loaded"),
            word(disabled, "install /bin/false", "no install /bin/false"),
            word(blacklisted, "blacklisted", "not blacklisted"),
        ]
        .join(", ")
    };
    let actual = describe(loaded);
    match (loaded, disabled, blacklisted) {
        (Some(true), _, _) => Outcome::drift(actual).note("the module is loaded now"),
        (Some(false), Some(false), Some(false)) => Outcome::new(Status::Missing, Some(actual)),
        (_, Some(false), _) | (_, _, Some(false)) => Outcome::drift(actual),
        (Some(false), Some(true), Some(true)) => Outcome::compliant(actual),
        _ => Outcome::new(Status::NotCollected, Some(actual))
            .note("proc-modules.txt or modprobe-config.txt was not collected"),
    }
}

fn systemd_unit(u: &SystemdUnit, linux: &LinuxState) -> Outcome {
    let Some(units) = &linux.unit_files else {
        return Outcome::not_collected("unit-files.txt");
    };
    let actual = units.get(&u.unit).map(String::as_str);
    match (u.state, actual) {
        // A unit that is not installed cannot start; apply.sh masks even absent units, so an
        // absent unit that should be masked is missing, one that should be disabled is not.
        (UnitState::Disabled, None) => Outcome::compliant("not installed"),
        (_, None) => Outcome::missing().note(format!("{} is not in the unit files", u.unit)),
        (UnitState::Enabled, Some(a)) => Outcome::matches(a == "enabled", a),
        // Masked is stronger than disabled.
        (UnitState::Disabled, Some(a)) => Outcome::matches(a == "disabled" || a == "masked", a),
        // `masked-runtime` does not survive a reboot.
        (UnitState::Masked, Some(a)) => Outcome::matches(a == "masked", a),
    }
}

fn file(f: &File, linux: &LinuxState) -> Outcome {
    let Some(files) = &linux.files else {
        return Outcome::not_collected("files.tsv");
    };
    let Some(fact) = files.get(&f.path) else {
        return Outcome::new(Status::NotCollected, None)
            .note(format!("files.tsv has no entry for {}", f.path));
    };
    if f.absent {
        return Outcome::matches(!fact.exists, if fact.exists { "present" } else { "absent" });
    }
    if !fact.exists {
        return Outcome::new(Status::Missing, Some("absent".into()));
    }
    let mut parts = vec!["present".to_string()];
    let mut drift = Vec::new();
    let mut unknown = Vec::new();
    if let Some(m) = &f.mode {
        let want = u32::from_str_radix(m.trim_start_matches("0o"), 8).ok();
        match fact.mode {
            None => unknown.push("mode"),
            Some(have) => {
                parts.push(format!("mode {:04o}", have & 0o7777));
                if want != Some(have & 0o7777) {
                    drift.push("mode");
                }
            }
        }
    }
    for (what, want, have) in [
        ("owner", &f.owner, &fact.owner),
        ("group", &f.group, &fact.group),
    ] {
        if let Some(want) = want {
            match have {
                None => unknown.push(what),
                Some(have) => {
                    parts.push(format!("{what} {have}"));
                    if have != want {
                        drift.push(what);
                    }
                }
            }
        }
    }
    if !f.lines.is_empty() {
        match &fact.content {
            None => unknown.push("content"),
            Some(text) => {
                let present: Vec<&str> = text.lines().map(str::trim).collect();
                let lacking: Vec<&String> = f
                    .lines
                    .iter()
                    .filter(|l| !present.contains(&l.trim()))
                    .collect();
                if lacking.is_empty() {
                    parts.push("every line present".into());
                } else {
                    parts.push(format!("lines missing {lacking:?}"));
                    drift.push("content");
                }
            }
        }
    }
    let actual = parts.join(", ");
    if !drift.is_empty() {
        Outcome::drift(actual).note(format!("differs in {}", drift.join(", ")))
    } else if !unknown.is_empty() {
        Outcome::new(Status::NotCollected, Some(actual))
            .note(format!("not collected: {}", unknown.join(", ")))
    } else {
        Outcome::compliant(actual)
    }
}

fn is_enable_rule(rule: &str) -> bool {
    let mut words = rule.split_whitespace();
    words.next() == Some("-e") && words.next().is_some() && words.next().is_none()
}

fn audit_rule(rule: &str, linux: &LinuxState) -> Outcome {
    let Some(live) = &linux.audit_rules else {
        return Outcome::not_collected("auditctl-l.txt");
    };
    let Some(want) = audit_rule_canonical(rule) else {
        return Outcome::new(Status::NotCollected, None)
            .note("a control option, not a rule: `auditctl -l` does not show it");
    };
    let found = if linux.audit_rule_index.is_empty() {
        live.iter()
            .find(|l| audit_rule_canonical(l).as_ref() == Some(&want))
    } else {
        linux.audit_rule_index.get(&want).and_then(|i| live.get(*i))
    };
    match found {
        Some(found) => Outcome::compliant(found.clone()),
        None => Outcome::missing().note("`auditctl -l` does not list this rule"),
    }
}

/// The canonical text of an audit rule, so a rule as written in rules.d and as `auditctl -l`
/// prints it compare equal; `None` for control options (`-e`, `-b`, `-D` …), which are not rules.
///
/// Normalized: `-w PATH -p PERMS -k KEY` and `-a always,exit -F path=|dir=PATH -F perm=PERMS
/// -F key=KEY` (no `-S`) are the same watch, and a trailing `/` of a watched path is dropped;
/// `-a exit,always` is `-a always,exit`; `-k KEY` is `-F key=KEY`; the syscalls of all `-S`
/// options (comma lists or repeated) are one sorted set; the `-F`/`-C` fields are sorted (the
/// kernel ANDs them); the unset id written `unset`, `-1` or `4294967295` is `unset`; the
/// permission letters are sorted (`rwxa` order). Nothing else is rewritten: `arch=b64` and
/// `arch=x86_64` stay different.
pub fn audit_rule_canonical(rule: &str) -> Option<String> {
    let words: Vec<&str> = rule.split_whitespace().collect();
    let mut list_action: Option<String> = None;
    let mut watch: Option<String> = None;
    let mut perms: Option<String> = None;
    let mut keys: Vec<String> = Vec::new();
    let mut syscalls: Vec<String> = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let (option, value) = (words[i], words.get(i + 1).copied().unwrap_or(""));
        match option {
            "-a" | "-A" => {
                let mut parts: Vec<&str> = value.split(',').collect();
                parts.sort_by_key(|p| !matches!(*p, "always" | "never"));
                list_action = Some(parts.join(","));
            }
            "-w" => watch = Some(value.to_string()),
            "-p" => perms = Some(value.to_string()),
            "-k" => keys.push(value.to_string()),
            "-S" => syscalls.extend(value.split(',').map(str::to_string)),
            "-F" | "-C" => {
                let field = value;
                if let Some(k) = field.strip_prefix("key=") {
                    keys.push(k.to_string());
                } else if let Some(p) = field.strip_prefix("perm=") {
                    perms = Some(p.to_string());
                } else if let Some(p) = field
                    .strip_prefix("path=")
                    .or_else(|| field.strip_prefix("dir="))
                {
                    watch = Some(p.to_string());
                } else {
                    fields.push(format!("{option} {}", canonical_field(field)));
                }
            }
            _ => return None,
        }
        i += 2;
    }
    let perms = perms.map(|p| {
        "rwxa"
            .chars()
            .filter(|c| p.contains(*c))
            .collect::<String>()
    });
    keys.sort();
    let key_text: String = keys.iter().map(|k| format!(" -k {k}")).collect();
    let is_watch = watch.is_some()
        && syscalls.is_empty()
        && fields.is_empty()
        && list_action.as_deref().is_none_or(|a| a == "always,exit");
    if is_watch {
        let path = watch.unwrap_or_default();
        let path = match path.trim_end_matches('/') {
            "" => "/".to_string(),
            p => p.to_string(),
        };
        let perms = perms.map(|p| format!(" -p {p}")).unwrap_or_default();
        return Some(format!("-w {path}{perms}{key_text}"));
    }
    let list_action = list_action?;
    if let Some(path) = watch {
        fields.push(format!("-F path={path}"));
    }
    if let Some(p) = perms {
        fields.push(format!("-F perm={p}"));
    }
    fields.sort();
    syscalls.sort();
    syscalls.dedup();
    let syscall_text = if syscalls.is_empty() {
        String::new()
    } else {
        format!(" -S {}", syscalls.join(","))
    };
    Some(format!(
        "-a {list_action}{syscall_text}{}{key_text}",
        fields.iter().map(|f| format!(" {f}")).collect::<String>()
    ))
}

/// `auid!=-1` and `auid!=4294967295` are `auid!=unset`.
fn canonical_field(field: &str) -> String {
    for op in ["!=", "<=", ">=", "&=", "=", "<", ">", "&"] {
        if let Some((name, value)) = field.split_once(op) {
            let value = match value {
                "-1" | "4294967295" => "unset",
                v => v,
            };
            return format!("{name}{op}{value}");
        }
    }
    field.to_string()
}

fn nft_policy(p: &NftPolicy, linux: &LinuxState) -> Outcome {
    let Some(nft) = &linux.nft else {
        return Outcome::not_collected("nft.json");
    };
    let hook = chain_name(p.chain);
    let chain = nft.chains.iter().find(|c| {
        c.family == NFT_FAMILY && c.table == NFT_TABLE && c.hook.as_deref() == Some(hook)
    });
    match chain {
        None => Outcome::missing().note(format!(
            "table {NFT_FAMILY} {NFT_TABLE} has no base chain with hook {hook}"
        )),
        Some(c) => {
            let actual = c.policy.clone().unwrap_or_else(|| "accept".into());
            Outcome::matches(
                actual == policy_name(p.policy),
                format!("chain {} hook {hook} policy {actual}", c.name),
            )
        }
    }
}

fn live_protocol_matches(want: Protocol, have: Option<&str>) -> bool {
    match (want, have) {
        (Protocol::Any, None) => true,
        (Protocol::Icmpv6, Some(h)) => matches!(h, "ipv6-icmp" | "icmpv6"),
        (w, Some(h)) => protocol_name(w) == h,
        _ => false,
    }
}

fn accept_rules(linux: &LinuxState, chain: Chain) -> impl Iterator<Item = (usize, &LiveRule)> {
    linux
        .nft
        .iter()
        .flat_map(|n| n.rules.iter().enumerate())
        .filter(move |(_, r)| {
            r.family == NFT_FAMILY
                && r.table == NFT_TABLE
                && r.chain == chain_name(chain)
                && r.verdict.as_deref() == Some("accept")
        })
}

/// One of the accept rules hardbase writes itself in a drop chain (see [`NFT_BUILTIN_COMMENTS`]).
fn is_builtin_rule(r: &LiveRule) -> bool {
    r.comment
        .as_deref()
        .is_some_and(|c| NFT_BUILTIN_COMMENTS.contains(&c))
        && r.ports.is_empty()
        && r.addresses.is_empty()
}

fn live_rule_text(r: &LiveRule) -> String {
    format!(
        "accept {} {} in chain {} {} {}{}",
        r.protocol.as_deref().unwrap_or("any"),
        if r.ports.is_empty() {
            "any port".to_string()
        } else {
            format!("port {}", join(&r.ports))
        },
        r.chain,
        peer_word(&r.chain),
        if r.addresses.is_empty() {
            "any peer".to_string()
        } else {
            r.addresses.join(", ")
        },
        r.comment
            .as_ref()
            .map(|c| format!(" (comment {c:?})"))
            .unwrap_or_default()
    )
}

/// An address or prefix as an inclusive range of the 128-bit space (IPv4 mapped into the
/// top of it, so the families never meet), or `None` when it is not one.
fn address_range(text: &str) -> Option<(bool, u128, u128)> {
    let (addr, len) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l.parse::<u32>().ok()?)),
        None => (text, None),
    };
    let (v4, bits, width) = match addr.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(a) => (true, u128::from(u32::from(a)), 32),
        std::net::IpAddr::V6(a) => (false, u128::from(a), 128),
    };
    let len = len.unwrap_or(width);
    if len > width {
        return None;
    }
    let host_bits = width - len;
    let mask = if host_bits >= 128 {
        u128::MAX
    } else {
        (1u128 << host_bits) - 1
    };
    Some((v4, bits & !mask, bits | mask))
}

/// Whether the addresses together cover `peer`. nft merges the elements of an interval set
/// (`10.10.2.10, 10.10.2.11` lists as `10.10.2.10/31`), so a live prefix is covered by the
/// profile's addresses it is made of, and a profile address by any live prefix holding it.
fn covered_by_union(peer: &str, addresses: &[String]) -> bool {
    if addresses.iter().any(|a| address_covers(a, peer)) {
        return true;
    }
    let Some((family, mut lo, hi)) = address_range(peer) else {
        return false;
    };
    let mut ranges: Vec<(u128, u128)> = addresses
        .iter()
        .filter_map(|a| address_range(a))
        .filter(|(f, _, _)| *f == family)
        .map(|(_, l, h)| (l, h))
        .collect();
    ranges.sort_unstable();
    for (l, h) in ranges {
        if l > lo {
            break;
        }
        if h >= hi {
            return true;
        }
        lo = lo.max(h + 1);
    }
    false
}

/// Compares one allow rule: the live accept rules of the same chain with the same protocol and
/// exactly the profile's ports, none reaching a peer the profile does not name, must together
/// cover every address (the emitter writes one rule per address family). A broader rule does
/// not count. Returns the outcome and the indexes of the live rules that implement it.
fn nft_rule(r: &NftRule, linux: &LinuxState) -> (Outcome, Vec<usize>) {
    if linux.nft.is_none() {
        return (Outcome::not_collected("nft.json"), Vec::new());
    }
    let mut want_ports: Vec<u16> = r.ports.clone();
    want_ports.sort_unstable();
    want_ports.dedup();
    let matching: Vec<(usize, &LiveRule)> = accept_rules(linux, r.chain)
        .filter(|(_, l)| {
            let mut ports = l.ports.clone();
            ports.sort_unstable();
            ports.dedup();
            live_protocol_matches(r.protocol, l.protocol.as_deref())
                && ports == want_ports
                && (if r.addresses.is_empty() {
                    l.addresses.is_empty()
                } else {
                    !l.addresses.is_empty()
                        && l.addresses
                            .iter()
                            .all(|a| covered_by_union(a, &r.addresses))
                })
        })
        .collect();
    let live_addresses: Vec<String> = matching
        .iter()
        .flat_map(|(_, l)| l.addresses.iter().cloned())
        .collect();
    let covered = r
        .addresses
        .iter()
        .all(|w| covered_by_union(w, &live_addresses));
    let indexes: Vec<usize> = matching.iter().map(|(i, _)| *i).collect();
    if !matching.is_empty() && covered {
        let actual = matching
            .iter()
            .map(|(_, l)| live_rule_text(l))
            .collect::<Vec<_>>()
            .join("; ");
        return (Outcome::compliant(actual), indexes);
    }
    // A rule with the setting's purpose as its comment that no longer matches is drift.
    let same_comment: Vec<(usize, &LiveRule)> = accept_rules(linux, r.chain)
        .filter(|(_, l)| l.comment.as_deref() == Some(r.purpose.as_str()))
        .collect();
    if !same_comment.is_empty() || !matching.is_empty() {
        let rules: Vec<(usize, &LiveRule)> = if same_comment.is_empty() {
            matching
        } else {
            same_comment
        };
        let actual = rules
            .iter()
            .map(|(_, l)| live_rule_text(l))
            .collect::<Vec<_>>()
            .join("; ");
        let indexes = rules.iter().map(|(i, _)| *i).collect();
        return (
            Outcome::drift(actual).note("the accept rules differ from the profile's"),
            indexes,
        );
    }
    (
        Outcome::missing().note(format!(
            "no accept rule in chain {} of table {NFT_FAMILY} {NFT_TABLE} matches",
            chain_name(r.chain)
        )),
        Vec::new(),
    )
}

/// Compares the profile's usbguard rules as one ordered list: each must be present, and in
/// the profile's order (usbguard applies the first rule that matches a device).
fn usbguard_outcomes(rules: &[&str], linux: &LinuxState) -> Vec<Outcome> {
    let Some(live) = &linux.usbguard_rules else {
        return rules
            .iter()
            .map(|_| Outcome::not_collected("usbguard-rules.conf"))
            .collect();
    };
    let live: Vec<String> = live.iter().map(|l| squash(l)).collect();
    let positions: Vec<Option<usize>> = rules
        .iter()
        .map(|r| live.iter().position(|l| *l == squash(r)))
        .collect();
    positions
        .iter()
        .enumerate()
        .map(|(i, pos)| match pos {
            None => Outcome::missing().note("not in the usbguard rules"),
            Some(p) => {
                let before = positions[..i]
                    .iter()
                    .enumerate()
                    .find(|(_, q)| q.is_some_and(|q| q > *p));
                let actual = format!("rule {} of {}: {}", p + 1, live.len(), live[*p]);
                match before {
                    None => Outcome::compliant(actual),
                    Some((j, _)) => Outcome::drift(actual).note(format!(
                        "comes before `{}`, which the profile puts first",
                        squash(rules[j])
                    )),
                }
            }
        })
        .collect()
}

/// Applies the usbguard order comparison to the usbguard settings of every control.
fn apply_usbguard(state: &DesiredState, linux: &LinuxState, controls: &mut [ControlResult]) {
    let mut rules: Vec<&str> = Vec::new();
    for s in state.settings() {
        if let SettingKind::UsbguardRule(r) = &s.kind {
            if !rules.contains(&r.rule.as_str()) {
                rules.push(&r.rule);
            }
        }
    }
    if rules.is_empty() {
        return;
    }
    let outcomes = usbguard_outcomes(&rules, linux);
    for c in controls.iter_mut() {
        for s in c.settings.iter_mut().filter(|s| s.kind == "usbguard_rule") {
            let Some(i) = rules
                .iter()
                .position(|r| s.target == format!("usbguard rule {r}"))
            else {
                continue;
            };
            let o = &outcomes[i];
            s.status = o.status;
            s.actual = o.actual.clone();
            s.note = o.note.clone();
        }
    }
}

/// What is on the machine but in no profile setting: listening ports no inbound flow or rule
/// allows, accept rules in hardbase's input chain the profile does not declare, and usbguard
/// allow rules the profile does not declare.
fn unexpected(state: &DesiredState, linux: &LinuxState) -> Vec<Unexpected> {
    let mut out = Vec::new();
    let firewall_control = control_of(state, |k| {
        matches!(k, SettingKind::NftPolicy(p) if p.chain == Chain::Input)
            || matches!(k, SettingKind::NftRule(r) if r.chain == Chain::Input)
    });

    // Listening sockets: allowed when an inbound flow or an input-chain rule names the port.
    let mut allowed = inbound_flows(state);
    let mut declared_rules: Vec<usize> = Vec::new();
    for s in state.settings() {
        if let SettingKind::NftRule(r) = &s.kind {
            if r.chain == Chain::Input {
                allowed.push((r.protocol, r.ports.clone()));
            }
            declared_rules.extend(nft_rule(r, linux).1);
        }
    }
    out.extend(unexpected_listeners(
        linux.listening.iter().flatten(),
        &allowed,
        &firewall_control,
    ));

    // Accept rules in hardbase's input chain that no profile rule accounts for.
    for (i, r) in accept_rules(linux, Chain::Input) {
        if is_builtin_rule(r) || declared_rules.contains(&i) {
            continue;
        }
        out.push(Unexpected {
            kind: "nft-accept-rule",
            what: live_rule_text(r),
            control: firewall_control.clone(),
            note: None,
        });
    }

    // usbguard allow rules the profile does not declare.
    let declared: Vec<String> = state
        .settings()
        .filter_map(|s| match &s.kind {
            SettingKind::UsbguardRule(r) => Some(squash(&r.rule)),
            _ => None,
        })
        .collect();
    if !declared.is_empty() {
        let usb_control = control_of(state, |k| matches!(k, SettingKind::UsbguardRule(_)));
        for r in linux.usbguard_rules.iter().flatten() {
            let rule = squash(r);
            if rule.starts_with("allow") && !declared.contains(&rule) {
                out.push(Unexpected {
                    kind: "usbguard-allow-rule",
                    what: rule,
                    control: usb_control.clone(),
                    note: None,
                });
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The `(protocol, ports)` of the profile's inbound flows.
fn inbound_flows(state: &DesiredState) -> Vec<(Protocol, Vec<u16>)> {
    state
        .flows
        .iter()
        .filter(|f| f.direction == FlowDirection::Inbound)
        .map(|f| (f.protocol, f.ports.clone()))
        .collect()
}

/// The control of the first setting `pred` holds for.
fn control_of(state: &DesiredState, pred: impl Fn(&SettingKind) -> bool) -> Option<String> {
    state
        .settings()
        .find(|s| pred(&s.kind))
        .map(|s| s.control.clone())
}

/// Listening TCP and UDP sockets reachable from the network (not loopback) whose port no
/// `(protocol, ports)` in `allowed` names (no ports: every port of the protocol).
fn unexpected_listeners<'a>(
    listening: impl Iterator<Item = &'a crate::live::Listener>,
    allowed: &[(Protocol, Vec<u16>)],
    control: &Option<String>,
) -> Vec<Unexpected> {
    let mut out = Vec::new();
    for l in listening {
        let proto = l.protocol.to_ascii_lowercase();
        let proto = proto.trim_end_matches('6');
        if !matches!(proto, "tcp" | "udp") || is_loopback(&l.address) {
            continue;
        }
        let ok = allowed.iter().any(|(p, ports)| {
            (matches!(p, Protocol::Any) || protocol_name(*p) == proto)
                && (ports.is_empty() || ports.contains(&l.port))
        });
        if !ok {
            out.push(Unexpected {
                kind: "listening-port",
                what: format!(
                    "{proto} {}:{}{}",
                    l.address,
                    l.port,
                    l.process
                        .as_ref()
                        .map(|p| format!(" ({p})"))
                        .unwrap_or_default()
                ),
                control: control.clone(),
                note: None,
            });
        }
    }
    out
}

/// Loopback listeners (`127.0.0.0/8`, `::1`, or bound to `lo`) are not reachable from the network.
fn is_loopback(address: &str) -> bool {
    if address.ends_with("%lo") {
        return true;
    }
    let bare = address.trim_start_matches('[').trim_end_matches(']');
    let bare = bare.split('%').next().unwrap_or(bare);
    bare.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

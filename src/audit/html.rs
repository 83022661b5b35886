//! The self-contained HTML fleet report: one file that opens from disk with no network access
//! and no external assets, showing the fleet's totals, a hosts × controls heatmap, filters by
//! role, tier, category and status, and every host's evidence.
//!
//! Two facts shape it. **Scale**: a fleet is up to 10,000 hosts × ~120 controls, so the heatmap
//! is a `<canvas>` drawn from one status byte per cell, and a host's evidence is parsed only when
//! someone opens it. The sink keeps just those bytes and each host's name and profile in memory;
//! each host's evidence is streamed to a scratch file as the host arrives, one JSON line per
//! host, and [`Sink::finish`] streams the page out around a copy of that file. **Hostile
//! input**: every snapshot value (host names, actual values, notes, unexpected items, errors) is
//! written by the machine under audit. Data enters the page only as JSON inside
//! `<script type="application/json">`, with `<`, `>`, `&`, U+2028 and U+2029 escaped so no value
//! can end the element; the script renders data only as text (`textContent`, canvas `fillText`);
//! and a Content-Security-Policy lets nothing run or load but the report's own inline script and
//! style, named by their SHA-256, so even an injected element could do nothing.
//!
//! The page is `templates/audit/report.html` (a skeleton whose `{{key}}`s are UI texts from
//! [`LABELS`], escaped, and whose `@@style@@`, `@@data@@` and `@@script@@` are the slots for
//! `report.css`, the data and `report.js`), compiled in. The output is deterministic: the same
//! fleet and hosts give the same bytes.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{status_index, Fleet, HostResult, Sink, Summary};
use crate::catalog::taxonomy::{short_term_name, Category, Lang, Role, Tier};
use crate::drift::Status;
use crate::report::junit::xml_text as html_text;

const SKELETON: &str = include_str!("../../templates/audit/report.html");
const STYLE: &str = include_str!("../../templates/audit/report.css");
const SCRIPT: &str = include_str!("../../templates/audit/report.js");

/// The scratch file of host details under the scratch folder.
const DETAIL_FILE: &str = "audit-report-hosts.jsonl";

/// A heatmap cell of a control that is not in the host's profile.
const NOT_APPLICABLE: u8 = b'-';
/// A host's worst status when it could not be audited.
const NOT_AUDITED: u8 = b'e';

/// Every UI text of the report, in English and Japanese (key, en, ja): the skeleton's
/// `{{key}}`s and the script's `labels`. `{name}`s in a text are filled in by the script.
const LABELS: &[(&str, &str, &str)] = &[
    ("title", "Fleet audit report", "フリート監査レポート"),
    ("evaluated", "Waivers evaluated at", "免除の評価日"),
    (
        "noscript",
        "This report draws its heatmap and host details with JavaScript: allow scripts for this file to see them.",
        "このレポートはヒートマップとホストの詳細をJavaScriptで表示します。このファイルのスクリプトを許可してください。",
    ),
    (
        "meta_counts",
        "{hosts} hosts · {profiles} profiles · {controls} controls",
        "ホスト{hosts}台 · プロファイル{profiles}件 · 対策{controls}件",
    ),
    ("totals", "Fleet totals", "全体の集計"),
    (
        "totals_hint",
        "Hosts by their worst status (waived and manual controls are not findings). Click one to show those hosts.",
        "最も重い状態ごとのホスト数です（免除・手動確認の対策は指摘に数えません）。クリックすると、そのホストだけを表示します。",
    ),
    ("audited", "Audited", "監査済み"),
    ("error", "Could not be audited", "監査不能"),
    ("filters", "Filters", "絞り込み"),
    ("role", "Role", "役割"),
    ("tier", "Tier", "区分"),
    ("category", "Category", "分類"),
    ("status", "Status", "状態"),
    ("search", "Host name", "ホスト名"),
    ("reset", "Reset", "リセット"),
    ("all", "All", "すべて"),
    ("any_finding", "Any finding", "指摘あり"),
    ("has_status", "Has a control that is", "次の状態の対策を含む"),
    ("shown_hosts", "Hosts shown", "表示中のホスト"),
    ("shown_controls", "Controls shown", "表示中の対策"),
    ("heatmap", "Heatmap: hosts × controls", "ヒートマップ（ホスト × 対策）"),
    (
        "heatmap_hint",
        "Point at a cell to see its host, control and status; click it to open the host's evidence.",
        "セルにポインタを合わせるとホスト・対策・状態を表示し、クリックするとそのホストの証跡を開きます。",
    ),
    ("row_height", "Row height", "行の高さ"),
    ("not_applicable", "Not in the profile", "プロファイル対象外"),
    ("hosts_axis", "Hosts ↓", "ホスト ↓"),
    ("controls_axis", "Controls →", "対策 →"),
    ("no_hosts", "No host matches the filters.", "条件に合うホストはありません。"),
    ("hosts", "Hosts", "ホスト一覧"),
    (
        "more_hosts",
        "{n} more hosts: narrow the filters or the search.",
        "ほか{n}台：条件または検索で絞り込んでください。",
    ),
    ("unnamed", "(no host name)", "（ホスト名なし）"),
    ("detail", "Host detail", "ホストの詳細"),
    (
        "detail_empty",
        "Pick a host from the list or click a cell of the heatmap.",
        "一覧からホストを選ぶか、ヒートマップのセルをクリックしてください。",
    ),
    ("snapshot", "Snapshot", "スナップショット"),
    ("profile", "Profile", "プロファイル"),
    ("profile_file", "Profile file", "プロファイルのファイル"),
    ("collected_at", "Collected at", "収集日時"),
    ("worst_status", "Worst status", "最も重い状態"),
    ("no_profile", "(no profile)", "（プロファイルなし）"),
    (
        "could_not_audit",
        "This host could not be audited:",
        "このホストは監査できませんでした：",
    ),
    ("settings_per_status", "Settings per status", "状態ごとの設定数"),
    ("compliant_of", "{ok} of {n} settings compliant", "設定{n}件中{ok}件適合"),
    (
        "compliant_controls",
        "{n} other controls of the profile are compliant.",
        "プロファイルのほか{n}件の対策は適合しています。",
    ),
    ("control", "Control", "対策"),
    ("kind", "Kind", "種別"),
    ("target", "Target", "対象"),
    ("expected", "Expected", "期待値"),
    ("actual", "Actual", "実際の値"),
    ("note", "Note", "備考"),
    ("where", "Set at", "設定箇所"),
    ("catalog_default", "catalog default", "カタログの既定値"),
    ("catalog", "catalog", "カタログ"),
    ("absent", "(absent)", "（なし）"),
    ("waiver", "Waiver", "免除"),
    ("attestation", "Attestation", "確認記録"),
    ("notes", "Notes", "注記"),
    ("unexpected_items", "Unexpected items", "想定外の項目"),
    ("what", "What", "内容"),
    ("controls", "Controls", "対策ごとの集計"),
    (
        "controls_hint",
        "Failing hosts: hosts on which the control is not-collected, unexpected, missing or drift.",
        "不適合ホスト：対策の状態が未収集・想定外・欠落・相違のホストです。",
    ),
    ("id", "ID", "ID"),
    ("control_title", "Control", "対策"),
    ("failing_fleet", "Failing hosts (fleet)", "不適合ホスト（全体）"),
    ("failing_shown", "Failing hosts (shown)", "不適合ホスト（表示中）"),
    ("per_status", "Hosts per status (fleet)", "状態ごとのホスト数（全体）"),
];

/// The name of a status in the report's language (the checklist's words in Japanese).
use crate::report::checklist::status_word as status_name;

/// The HTML report, fed host by host.
///
/// Memory per host: its name, its profile, its worst status and one byte per control. Everything
/// else about a host goes to the scratch file as it arrives.
#[derive(Debug)]
pub struct HtmlSink {
    output: PathBuf,
    detail_path: PathBuf,
    detail: BufWriter<File>,
    /// How many controls the fleet has: the length of a host's row in `cells`.
    controls: usize,
    names: Vec<String>,
    profiles: Vec<Option<usize>>,
    /// Per host: `'0'`–`'6'` (the worst status's index in [`Status::ALL`]) or [`NOT_AUDITED`].
    worst: Vec<u8>,
    /// Per host: `'1'` when it has unexpected items that no control governs, else `'0'`.
    loose: Vec<u8>,
    /// Host-major, one byte per host and control: `'0'`–`'6'` or [`NOT_APPLICABLE`].
    cells: Vec<u8>,
}

impl HtmlSink {
    /// A report to be written to `output` by [`Sink::finish`] (the caller makes that atomic, as
    /// with every audit output); host details wait in a scratch file under `scratch_dir`
    /// (created if needed; the caller removes the folder).
    pub fn new(output: &Path, scratch_dir: &Path) -> io::Result<HtmlSink> {
        std::fs::create_dir_all(scratch_dir)?;
        let detail_path = scratch_dir.join(DETAIL_FILE);
        let detail = BufWriter::new(File::create(&detail_path)?);
        Ok(HtmlSink {
            output: output.to_path_buf(),
            detail_path,
            detail,
            controls: 0,
            names: Vec::new(),
            profiles: Vec::new(),
            worst: Vec::new(),
            loose: Vec::new(),
            cells: Vec::new(),
        })
    }
}

impl Sink for HtmlSink {
    fn begin(&mut self, fleet: &Fleet) -> io::Result<()> {
        self.controls = fleet.controls.len();
        self.names.reserve(fleet.hosts);
        self.profiles.reserve(fleet.hosts);
        self.worst.reserve(fleet.hosts);
        self.loose.reserve(fleet.hosts);
        self.cells
            .reserve(fleet.hosts.saturating_mul(self.controls));
        Ok(())
    }

    fn host(&mut self, fleet: &Fleet, host: &HostResult) -> io::Result<()> {
        let start = self.cells.len();
        self.cells.resize(start + self.controls, NOT_APPLICABLE);
        if host.error.is_none() {
            let row = &mut self.cells[start..];
            for control in &host.controls {
                if let Some(cell) = row.get_mut(control.control) {
                    *cell = status_byte(control.status);
                }
            }
        }
        self.names.push(host.host.clone());
        self.profiles.push(host.profile);
        self.worst
            .push(host.status().map(status_byte).unwrap_or(NOT_AUDITED));
        let loose = host.unexpected.iter().any(|u| u.control.is_none());
        self.loose.push(b'0' + u8::from(loose));
        let json =
            serde_json::to_string(&HostDetail::new(fleet, host)).map_err(io::Error::other)?;
        write_script_json(&mut self.detail, &json)?;
        self.detail.write_all(b"\n")
    }

    fn finish(&mut self, fleet: &Fleet, summary: &Summary) -> io::Result<()> {
        self.detail.flush()?;
        let mut out = BufWriter::new(File::create(&self.output)?);
        self.write_page(&mut out, fleet, summary)?;
        // On disk before the audit folder replaces the previous one.
        out.into_inner()
            .map_err(io::IntoInnerError::into_error)?
            .sync_all()?;
        std::fs::remove_file(&self.detail_path)
    }
}

impl HtmlSink {
    /// Streams the page: the skeleton with its texts, the style, the data and the script.
    fn write_page(&self, out: &mut impl Write, fleet: &Fleet, summary: &Summary) -> io::Result<()> {
        let [head, body, tail, end] = skeleton_parts();
        let texts = texts(fleet);
        write_template(out, head, &texts)?;
        out.write_all(STYLE.as_bytes())?;
        write_template(out, body, &texts)?;

        out.write_all(b"<script type=\"application/json\" id=\"hb-data-fleet\">")?;
        let data = FleetData::new(fleet, summary);
        write_script_json(
            out,
            &serde_json::to_string(&data).map_err(io::Error::other)?,
        )?;
        out.write_all(b"</script>\n<script type=\"application/json\" id=\"hb-data-hosts\">")?;
        self.write_hosts(out)?;
        out.write_all(b"</script>\n<script type=\"application/json\" id=\"hb-data-detail\">")?;
        io::copy(&mut File::open(&self.detail_path)?, out)?;
        out.write_all(b"</script>")?;

        write_template(out, tail, &texts)?;
        out.write_all(SCRIPT.as_bytes())?;
        write_template(out, end, &texts)
    }

    /// The heatmap's data: `{"names":[…],"profiles":[…],"worst":"…","loose":"…","cells":"…"}`,
    /// the last three one character per host (and control).
    fn write_hosts(&self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(b"{\"names\":[")?;
        for (i, name) in self.names.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            write_script_json(out, &serde_json::to_string(name).map_err(io::Error::other)?)?;
        }
        out.write_all(b"],\"profiles\":[")?;
        for (i, profile) in self.profiles.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            match profile {
                Some(p) => write!(out, "{p}")?,
                None => out.write_all(b"-1")?,
            }
        }
        // The three strings hold only the ASCII digits, `-` and `e`: nothing to escape.
        out.write_all(b"],\"worst\":\"")?;
        out.write_all(&self.worst)?;
        out.write_all(b"\",\"loose\":\"")?;
        out.write_all(&self.loose)?;
        out.write_all(b"\",\"cells\":\"")?;
        out.write_all(&self.cells)?;
        out.write_all(b"\"}")
    }
}

fn status_byte(status: Status) -> u8 {
    b'0' + status_index(status) as u8
}

/// The skeleton cut at its three slots: before the style, between the style and the data,
/// between the data and the script, after the script.
fn skeleton_parts() -> [&'static str; 4] {
    let (head, rest) = SKELETON
        .split_once("@@style@@")
        .expect("report.html has @@style@@");
    let (body, rest) = rest
        .split_once("@@data@@")
        .expect("report.html has @@data@@");
    let (tail, end) = rest
        .split_once("@@script@@")
        .expect("report.html has @@script@@");
    [head, body, tail, end]
}

/// The skeleton's `{{key}}` values: the labels in the fleet's language and a few facts.
fn texts(fleet: &Fleet) -> BTreeMap<&'static str, String> {
    let mut texts: BTreeMap<&'static str, String> = labels(fleet.lang)
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect();
    texts.insert("lang", lang_id(fleet.lang).to_string());
    texts.insert("csp", content_security_policy());
    texts.insert("generator", generator());
    texts.insert("evaluated_at", fleet.evaluated_at.to_string());
    texts
}

fn labels(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    let mut labels: BTreeMap<&'static str, &'static str> = LABELS
        .iter()
        .map(|(key, en, ja)| (*key, if lang == Lang::Ja { *ja } else { *en }))
        .collect();
    labels.insert("short_term", short_term_name(lang));
    labels
}

fn lang_id(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "en",
        Lang::Ja => "ja",
    }
}

fn generator() -> String {
    format!("hardbase {}", env!("CARGO_PKG_VERSION"))
}

/// Nothing but the report's own inline script and style (by hash) and `data:` images (the empty
/// icon that keeps the browser from asking for `/favicon.ico`); no base URL, no form target.
fn content_security_policy() -> String {
    format!(
        "default-src 'none'; script-src 'sha256-{}'; style-src 'sha256-{}'; img-src data:; base-uri 'none'; form-action 'none'",
        base64(&Sha256::digest(SCRIPT.as_bytes())),
        base64(&Sha256::digest(STYLE.as_bytes())),
    )
}

/// Writes template text, replacing each `{{key}}` with its value escaped for HTML text and
/// attribute values.
fn write_template(
    out: &mut impl Write,
    text: &str,
    values: &BTreeMap<&'static str, String>,
) -> io::Result<()> {
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.write_all(&rest.as_bytes()[..start])?;
        let after = &rest[start + 2..];
        let end = after.find("}}").expect("report.html: `{{` without `}}`");
        let key = &after[..end];
        let value = values
            .get(key)
            .unwrap_or_else(|| panic!("report.html: no text for {{{{{key}}}}}"));
        out.write_all(html_text(value).as_bytes())?;
        rest = &after[end + 2..];
    }
    out.write_all(rest.as_bytes())
}

/// Writes JSON for the inside of a `<script type="application/json">` element: `<`, `>`, `&`,
/// U+2028 and U+2029 (which can occur only inside JSON strings) as `\uXXXX` escapes, so no
/// value can end the element or open a comment, and the text stays valid JavaScript too.
fn write_script_json(out: &mut impl Write, json: &str) -> io::Result<()> {
    let mut start = 0;
    for (i, c) in json.char_indices() {
        let escaped = match c {
            '<' => "\\u003c",
            '>' => "\\u003e",
            '&' => "\\u0026",
            '\u{2028}' => "\\u2028",
            '\u{2029}' => "\\u2029",
            _ => continue,
        };
        out.write_all(&json.as_bytes()[start..i])?;
        out.write_all(escaped.as_bytes())?;
        start = i + c.len_utf8();
    }
    out.write_all(&json.as_bytes()[start..])
}

/// Standard base64 with padding (RFC 4648 §4), as CSP hash sources are written.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A vocabulary entry for the script: the stable id and the name in the report's language.
#[derive(Serialize)]
struct Named {
    id: &'static str,
    name: &'static str,
}

#[derive(Serialize)]
struct StatusData {
    id: &'static str,
    name: &'static str,
    /// Whether the status makes a host non-compliant ([`Status::is_finding`]).
    finding: bool,
}

/// What the script knows about the fleet: `hb-data-fleet`.
#[derive(Serialize)]
struct FleetData<'a> {
    lang: &'static str,
    evaluated_at: String,
    labels: BTreeMap<&'static str, &'static str>,
    statuses: Vec<StatusData>,
    roles: Vec<Named>,
    categories: Vec<Named>,
    tiers: Vec<Named>,
    profiles: Vec<ProfileData<'a>>,
    controls: Vec<ControlData<'a>>,
    summary: SummaryData<'a>,
}

#[derive(Serialize)]
struct ProfileData<'a> {
    name: &'a str,
    file: &'a str,
    role: &'static str,
    platform: &'static str,
}

#[derive(Serialize)]
struct ControlData<'a> {
    id: &'a str,
    title: &'a str,
    category: &'static str,
    tier: &'static str,
    short_term: bool,
}

#[derive(Serialize)]
struct SummaryData<'a> {
    hosts: usize,
    audited: usize,
    errors: usize,
    compliant: usize,
    hosts_per_status: &'a [usize; 7],
    control_hosts: &'a [[usize; 7]],
}

impl<'a> FleetData<'a> {
    fn new(fleet: &'a Fleet, summary: &'a Summary) -> FleetData<'a> {
        let lang = fleet.lang;
        FleetData {
            lang: lang_id(lang),
            evaluated_at: fleet.evaluated_at.to_string(),
            labels: labels(lang),
            statuses: Status::ALL
                .iter()
                .map(|s| StatusData {
                    id: s.id(),
                    name: status_name(*s, lang),
                    finding: s.is_finding(),
                })
                .collect(),
            roles: named(Role::ALL, |r| (r.id(), r.name(lang))),
            categories: named(Category::ALL, |c| (c.id(), c.name(lang))),
            tiers: named(Tier::ALL, |t| (t.id(), t.name(lang))),
            profiles: fleet
                .profiles
                .iter()
                .map(|p| ProfileData {
                    name: &p.name,
                    file: &p.file,
                    role: p.role.id(),
                    platform: p.platform,
                })
                .collect(),
            controls: fleet
                .controls
                .iter()
                .map(|c| ControlData {
                    id: &c.id,
                    title: c.title.get(lang),
                    category: c.category.id(),
                    tier: c.tier.id(),
                    short_term: c.short_term,
                })
                .collect(),
            summary: SummaryData {
                hosts: summary.hosts,
                audited: summary.audited,
                errors: summary.errors,
                compliant: summary.compliant,
                hosts_per_status: &summary.hosts_per_status,
                control_hosts: &summary.control_hosts,
            },
        }
    }
}

fn named<T: Copy>(all: &[T], f: impl Fn(T) -> (&'static str, &'static str)) -> Vec<Named> {
    all.iter()
        .map(|v| {
            let (id, name) = f(*v);
            Named { id, name }
        })
        .collect()
}

/// One host's evidence: one line of `hb-data-detail`, parsed by the script when shown.
#[derive(Serialize)]
struct HostDetail<'a> {
    host: &'a str,
    snapshot: &'a str,
    collected_at: &'a str,
    profile: Option<usize>,
    error: Option<&'a str>,
    /// Settings per status, indexed as [`Status::ALL`].
    settings: &'a [usize; 7],
    /// The controls with something to show: not compliant, or with a waiver, attestation or
    /// note.
    controls: Vec<ControlDetail<'a>>,
    /// How many of the host's controls are compliant with nothing to show.
    compliant: usize,
    unexpected: Vec<UnexpectedDetail<'a>>,
}

#[derive(Serialize)]
struct ControlDetail<'a> {
    control: usize,
    status: &'static str,
    settings: usize,
    compliant: usize,
    findings: &'a [super::Finding],
    waiver: Option<&'a str>,
    attestation: Option<&'a str>,
    notes: &'a [String],
}

#[derive(Serialize)]
struct UnexpectedDetail<'a> {
    kind: &'static str,
    what: &'a str,
    control: Option<usize>,
    note: Option<&'a str>,
}

impl<'a> HostDetail<'a> {
    fn new(fleet: &Fleet, host: &'a HostResult) -> HostDetail<'a> {
        let shown = |c: &super::HostControl| {
            c.status != Status::Compliant
                || c.waiver.is_some()
                || c.attestation.is_some()
                || !c.notes.is_empty()
                || !c.findings.is_empty()
        };
        HostDetail {
            host: &host.host,
            snapshot: &host.snapshot,
            collected_at: &host.collected_at,
            profile: host.profile.filter(|p| *p < fleet.profiles.len()),
            error: host.error.as_deref(),
            settings: &host.setting_counts,
            controls: host
                .controls
                .iter()
                .filter(|c| shown(c))
                .map(|c| ControlDetail {
                    control: c.control,
                    status: c.status.id(),
                    settings: c.settings,
                    compliant: c.compliant,
                    findings: &c.findings,
                    waiver: c.waiver.as_deref(),
                    attestation: c.attestation.as_deref(),
                    notes: &c.notes,
                })
                .collect(),
            compliant: host.controls.iter().filter(|c| !shown(c)).count(),
            unexpected: host
                .unexpected
                .iter()
                .map(|u| UnexpectedDetail {
                    kind: u.kind,
                    what: &u.what,
                    control: u.control,
                    note: u.note.as_deref(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
        assert_eq!(base64(&[0xfb, 0xff, 0xfe]), "+//+");
    }

    #[test]
    fn script_json_cannot_end_its_element() {
        let json = serde_json::to_string("</script><!-- & \u{2028}\u{2029} ok").unwrap();
        let mut out = Vec::new();
        write_script_json(&mut out, &json).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert_eq!(
            out,
            r#""\u003c/script\u003e\u003c!-- \u0026 \u2028\u2029 ok""#
        );
        let back: String = serde_json::from_str(&out).unwrap();
        assert_eq!(back, "</script><!-- & \u{2028}\u{2029} ok");
    }

    #[test]
    fn inline_script_and_style_cannot_end_their_elements() {
        assert!(!SCRIPT.to_ascii_lowercase().contains("</script"));
        assert!(!SCRIPT.contains("<!--"));
        assert!(!STYLE.to_ascii_lowercase().contains("</style"));
    }

    #[test]
    fn script_renders_no_markup() {
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
            "Function(",
            "setTimeout('",
        ] {
            assert!(!SCRIPT.contains(sink), "report.js uses {sink}");
        }
    }

    #[test]
    fn every_skeleton_text_has_a_value_in_both_languages() {
        for lang in [Lang::En, Lang::Ja] {
            let fleet = Fleet {
                profiles: Vec::new(),
                controls: Vec::new(),
                evaluated_at: crate::load::document::Date::parse("2026-11-27").unwrap(),
                lang,
                hosts: 0,
            };
            let texts = texts(&fleet);
            let mut out = Vec::new();
            for part in skeleton_parts() {
                write_template(&mut out, part, &texts).unwrap();
            }
        }
        let mut keys: Vec<&str> = LABELS.iter().map(|(k, _, _)| *k).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), LABELS.len(), "a label key is defined twice");
    }
}

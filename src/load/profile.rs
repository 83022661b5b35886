//! Profile files: one layer of a profile, as written, with every value's span.
//!
//! A leaf profile and the site layers it `extends` share one format. This
//! module only reads a file; merging layers, selecting controls and checking
//! parameters is the resolver's job.

use std::path::PathBuf;

use crate::catalog::invalid_choice;
use crate::catalog::taxonomy::{Membership, Tier};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::document::{self, Date, Node, Table};
use crate::source::{FileId, SourceMap, Sp, Span};

/// What a waiver allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WaiverScope {
    /// The control is not enforced at all.
    Exclude,
    /// The control is enforced with parameter values weaker than its baseline.
    Weaken,
}

#[derive(Clone, Debug)]
pub struct Waiver {
    pub control: Sp<String>,
    pub reason: String,
    pub approved_by: String,
    pub ticket: String,
    pub scope: WaiverScope,
    pub compensating_control: String,
    pub expires: Sp<Date>,
}

/// Where the generated PowerShell scripts get their Authenticode signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SigningMethod {
    /// `hardbase build --sign` signs them with osslsigncode; a build without `--sign` is refused.
    BuildHost,
    /// The build writes `Sign-Hardbase.ps1`, run on a Windows signing host
    /// (`Set-AuthenticodeSignature`) before the scripts are shipped.
    WindowsHost,
}

impl SigningMethod {
    pub const IDS: [&'static str; 2] = ["build-host", "windows-host"];

    pub fn id(self) -> &'static str {
        match self {
            SigningMethod::BuildHost => "build-host",
            SigningMethod::WindowsHost => "windows-host",
        }
    }
}

/// The profile's `[signing]` table.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Signing {
    pub method: SigningMethod,
    /// SHA-1 thumbprint (40 hex digits, upper case) of the code-signing certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_thumbprint: Option<String>,
    /// An RFC 3161 time-stamp server for `Set-AuthenticodeSignature -TimestampServer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_server: Option<String>,
    /// The `method` value.
    #[serde(skip)]
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Attestation {
    pub control: Sp<String>,
    pub by: String,
    pub on: Sp<Date>,
    pub evidence: Option<String>,
}

/// One profile file as written.
#[derive(Clone, Debug)]
pub struct Layer {
    pub file: FileId,
    pub path: PathBuf,
    /// The span to point at for the file as a whole (its `[profile]` table or first line).
    pub header: Span,
    pub name: Option<Sp<String>>,
    pub description: Option<Sp<String>>,
    pub role: Option<Sp<String>>,
    pub platform: Option<Sp<String>>,
    pub membership: Option<Sp<Membership>>,
    pub tiers: Option<Sp<Vec<Tier>>>,
    pub extends: Vec<Sp<String>>,
    pub include: Vec<Sp<String>>,
    pub exclude: Vec<Sp<String>>,
    pub params: Vec<(Sp<String>, Node)>,
    pub waivers: Vec<Waiver>,
    pub attestations: Vec<Attestation>,
    pub signing: Option<Sp<Signing>>,
}

pub const PROFILE_KEYS: &[&str] = &[
    "name",
    "description",
    "role",
    "platform",
    "membership",
    "extends",
    "tiers",
    "include",
    "exclude",
];
pub const TOP_KEYS: &[&str] = &["profile", "params", "waivers", "attest", "signing"];
pub const SIGNING_KEYS: &[&str] = &["method", "certificate_thumbprint", "timestamp_server"];
pub const WAIVER_KEYS: &[&str] = &[
    "reason",
    "approved_by",
    "ticket",
    "scope",
    "compensating_control",
    "expires",
];
pub const ATTEST_KEYS: &[&str] = &["by", "on", "evidence"];

/// Reads one profile file already added to `sources`. Returns `None` when it cannot be parsed.
pub fn load(
    sources: &SourceMap,
    file: FileId,
    path: PathBuf,
    diags: &mut Diagnostics,
) -> Option<Layer> {
    let root = document::parse(file, sources.text(file), diags)?;
    let mut top = Table::of(&root, "the profile file", diags)?;
    let mut layer = Layer {
        file,
        path,
        header: Span::new(file, 0..0),
        name: None,
        description: None,
        role: None,
        platform: None,
        membership: None,
        tiers: None,
        extends: Vec::new(),
        include: Vec::new(),
        exclude: Vec::new(),
        params: Vec::new(),
        waivers: Vec::new(),
        attestations: Vec::new(),
        signing: None,
    };
    let first_line_end = sources
        .text(file)
        .find('\n')
        .unwrap_or(sources.text(file).len());
    layer.header = Span::new(file, 0..first_line_end);
    if let Some(mut p) = top.table("profile", diags) {
        p.name = "[profile]".into();
        layer.header = p.header_span();
        layer.name = p.string("name", diags);
        layer.description = p.string("description", diags);
        layer.role = p.string("role", diags);
        layer.platform = p.string("platform", diags);
        if let Some(m) = p.string("membership", diags) {
            match Membership::from_id(&m.value) {
                Some(v) => layer.membership = Some(Sp::new(v, m.span)),
                None => invalid_choice("membership", &m, &Membership::ids(), diags),
            }
        }
        if let Some(list) = p.strings("tiers", diags) {
            let mut tiers = Vec::new();
            for s in &list.value {
                match Tier::from_id(&s.value) {
                    Some(t) if !tiers.contains(&t) => tiers.push(t),
                    Some(_) => {}
                    None => invalid_choice("tier", s, &Tier::ids(), diags),
                }
            }
            layer.tiers = Some(Sp::new(tiers, list.span));
        }
        layer.extends = p
            .strings("extends", diags)
            .map(|l| l.value)
            .unwrap_or_default();
        layer.include = p
            .strings("include", diags)
            .map(|l| l.value)
            .unwrap_or_default();
        layer.exclude = p
            .strings("exclude", diags)
            .map(|l| l.value)
            .unwrap_or_default();
        p.finish(PROFILE_KEYS, diags);
    }
    if let Some(mut p) = top.table("params", diags) {
        p.name = "[params]".into();
        layer.params = p.all().to_vec();
    }
    if let Some(mut w) = top.table("waivers", diags) {
        for (control, node) in w.all() {
            if let Some(waiver) = load_waiver(control, node, diags) {
                layer.waivers.push(waiver);
            }
        }
    }
    if let Some(mut a) = top.table("attest", diags) {
        for (control, node) in a.all() {
            let Some(mut t) = Table::of(node, format!("[attest.\"{}\"]", control.value), diags)
            else {
                continue;
            };
            let by = t.req_string("by", diags);
            let on = t.req_date("on", diags);
            let evidence = t.string("evidence", diags).map(|s| s.value);
            t.finish(ATTEST_KEYS, diags);
            if let (Some(by), Some(on)) = (by, on) {
                layer.attestations.push(Attestation {
                    control: control.clone(),
                    by: by.value,
                    on,
                    evidence,
                });
            }
        }
    }
    if let Some(mut t) = top.table("signing", diags) {
        t.name = "[signing]".into();
        layer.signing = load_signing(&mut t, diags).map(|s| {
            let span = s.span;
            Sp::new(s, span)
        });
        t.finish(SIGNING_KEYS, diags);
    }
    top.finish(TOP_KEYS, diags);
    Some(layer)
}

/// A value as the user wrote it, with only control characters escaped.
fn shown(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_debug().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn load_signing(t: &mut Table, diags: &mut Diagnostics) -> Option<Signing> {
    let span = t.header_span();
    let method_node = t.req_string("method", diags);
    let method_span = method_node.as_ref().map(|m| m.span).unwrap_or(span);
    let method = method_node.and_then(|m| match m.value.as_str() {
        "build-host" => Some(SigningMethod::BuildHost),
        "windows-host" => Some(SigningMethod::WindowsHost),
        _ => {
            invalid_choice("signing method", &m, &SigningMethod::IDS, diags);
            None
        }
    });
    let thumbprint_node = t.string("certificate_thumbprint", diags);
    let thumbprint_given = thumbprint_node.is_some();
    let thumbprint = thumbprint_node.and_then(|s| {
        let v = s.value.trim();
        if v.len() == 40 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
            Some(v.to_ascii_uppercase())
        } else {
            diags.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`{}` is not a certificate thumbprint", shown(&s.value)),
                )
                .at(
                    s.span,
                    "expected the 40 hexadecimal digits of the certificate's SHA-1 thumbprint",
                ),
            );
            None
        }
    });
    let timestamp = t.string("timestamp_server", diags).and_then(|s| {
        let v = &s.value;
        let scheme_ok = v.starts_with("http://") || v.starts_with("https://");
        let clean = v.len() <= 2048
            && v
                .chars()
                .all(|c| c.is_ascii_graphic() && !matches!(c, '\'' | '"' | '`' | '$' | '<' | '>'));
        if scheme_ok && clean {
            Some(v.clone())
        } else {
            diags.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`{}` is not a time-stamp server URL", shown(v)),
                )
                .at(s.span, "expected an http:// or https:// URL without spaces, quotes, `$`, backquotes or angle brackets"),
            );
            None
        }
    });
    let method = method?;
    if method == SigningMethod::WindowsHost && !thumbprint_given {
        diags.push(
            Diagnostic::error(
                Code::MissingKey,
                "missing key `certificate_thumbprint` in [signing]".to_string(),
            )
            .at(span, "the Windows signing host picks the certificate by its thumbprint")
            .note("Sign-Hardbase.ps1 looks the certificate up in Cert:\\CurrentUser\\My and Cert:\\LocalMachine\\My"),
        );
        // Still a signed profile: the error above stops the build, and script enforcement
        // needs no second report.
    }
    Some(Signing {
        method,
        certificate_thumbprint: thumbprint,
        timestamp_server: timestamp,
        span: method_span,
    })
}

fn load_waiver(control: &Sp<String>, node: &Node, diags: &mut Diagnostics) -> Option<Waiver> {
    let mut t = Table::of(node, format!("[waivers.\"{}\"]", control.value), diags)?;
    let reason = t.req_string("reason", diags);
    let approved_by = t.req_string("approved_by", diags);
    let ticket = t.req_string("ticket", diags);
    let compensating = t.req_string("compensating_control", diags);
    let expires = t.req_date("expires", diags);
    let scope = t
        .req_string("scope", diags)
        .and_then(|s| match s.value.as_str() {
            "exclude" => Some(WaiverScope::Exclude),
            "weaken" => Some(WaiverScope::Weaken),
            _ => {
                invalid_choice("waiver scope", &s, &["exclude", "weaken"], diags);
                None
            }
        });
    t.finish(WAIVER_KEYS, diags);
    let mut empty = false;
    for s in [&reason, &approved_by, &ticket, &compensating]
        .into_iter()
        .flatten()
    {
        if s.value.trim().is_empty() {
            empty = true;
            diags.push(
                Diagnostic::error(Code::InvalidValue, format!("waiver for {} has an empty field", control.value))
                    .at(s.span, "a waiver must say why, who approved it, under which ticket and what compensates"),
            );
        }
    }
    if empty {
        return None;
    }
    Some(Waiver {
        control: control.clone(),
        reason: reason?.value,
        approved_by: approved_by?.value,
        ticket: ticket?.value,
        scope: scope?,
        compensating_control: compensating?.value,
        expires: expires?,
    })
}

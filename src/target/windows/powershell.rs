//! Apply-Hardbase.ps1, Restore-Hardbase.ps1 and the acceptance kit (Windows PowerShell 5.1).
//!
//! The scripts are Handlebars templates (`templates/windows/*.ps1.hbs`) that share one partial,
//! `common.ps1.hbs`: the profile's data tables and the functions that read and write machine
//! state. The script logic is fixed text; the profile reaches it only as data, and every value
//! is a PowerShell single-quoted literal made by [`quote`]. The registry's escape function *is*
//! `quote`, so `{{x}}` cannot emit anything else; the `ps` helper writes numbers, booleans and
//! arrays (of quoted strings) for the data tables; triple-stash is used only for parameter
//! names this module derives and checks itself.
//!
//! What the scripts do, and the files they keep under `%ProgramData%\hardbase\<profile>\`
//! (`state.json`, `prior-state.json`, `prior\`, `last-run.json`), is described in
//! `templates/windows/README.md`.

use std::sync::OnceLock;

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::catalog::param::ParamValue;
use crate::catalog::setting::{
    AppLockerCollection, ApplyPhase, BootObject, EnforcementMode, FeatureState, FirewallAction,
    ListMode, OverlayType, Principal, SettingKind, ShellExitAction, ShellLauncherVersion,
    StartMode,
};
use crate::catalog::taxonomy::{Family, Role};
use crate::model::DesiredState;

use super::policy::WindowsPolicy;
use super::registry_pol::{PolData, PolEntry};
use super::shell_launcher;

const COMMON: &str = include_str!("../../../templates/windows/common.ps1.hbs");
const BCD: &str = include_str!("../../../templates/windows/bcd.ps1.hbs");
const APPLY: &str = include_str!("../../../templates/windows/Apply-Hardbase.ps1.hbs");
const RESTORE: &str = include_str!("../../../templates/windows/Restore-Hardbase.ps1.hbs");
const ACCEPTANCE: &str =
    include_str!("../../../templates/windows/Invoke-HardbaseAcceptance.ps1.hbs");

/// Everything the scripts are generated from.
pub struct ScriptInput<'a> {
    pub state: &'a DesiredState,
    pub policy: &'a WindowsPolicy,
    /// The folder name of the GPO backup beside the scripts (`windows/gpo/{BackupId}`).
    pub backup_id: &'a str,
}

/// The Windows apply phases, in DESIGN.md's order (the order of [`ApplyPhase`]).
pub const WINDOWS_PHASES: [ApplyPhase; 13] = [
    ApplyPhase::AuditPolicy,
    ApplyPhase::Accounts,
    ApplyPhase::Features,
    ApplyPhase::SecurityTemplate,
    ApplyPhase::RegistryPolicy,
    ApplyPhase::Services,
    ApplyPhase::FirewallRules,
    ApplyPhase::FirewallDefaults,
    ApplyPhase::BootSettings,
    ApplyPhase::DeviceRestrictions,
    ApplyPhase::AllowListing,
    ApplyPhase::KioskShell,
    ApplyPhase::WriteFilter,
];

/// The name a phase has in the scripts and their state files.
pub fn phase_name(phase: ApplyPhase) -> &'static str {
    match phase {
        ApplyPhase::AuditPolicy => "AuditPolicy",
        ApplyPhase::Accounts => "Accounts",
        ApplyPhase::Features => "Features",
        ApplyPhase::SecurityTemplate => "SecurityTemplate",
        ApplyPhase::RegistryPolicy => "RegistryPolicy",
        ApplyPhase::Services => "Services",
        ApplyPhase::FirewallRules => "FirewallRules",
        ApplyPhase::FirewallDefaults => "FirewallDefaults",
        ApplyPhase::BootSettings => "BootSettings",
        ApplyPhase::DeviceRestrictions => "DeviceRestrictions",
        ApplyPhase::AllowListing => "AllowListing",
        ApplyPhase::KioskShell => "KioskShell",
        ApplyPhase::WriteFilter => "WriteFilter",
        _ => "NotWindows",
    }
}

/// Apply-Hardbase.ps1 (LF line ends; [`encode`] makes the file).
pub fn apply(input: &ScriptInput) -> Result<String, String> {
    render(Script::Apply, input)
}

/// Restore-Hardbase.ps1 (LF line ends; [`encode`] makes the file).
pub fn restore(input: &ScriptInput) -> Result<String, String> {
    render(Script::Restore, input)
}

/// acceptance/Invoke-HardbaseAcceptance.ps1 (LF line ends; [`encode`] makes the file).
pub fn acceptance(input: &ScriptInput) -> Result<String, String> {
    render(Script::Acceptance, input)
}

/// The bytes of a script file: UTF-8 with a BOM (Windows PowerShell 5.1 reads BOM-less files in
/// the ANSI code page, CP932 on Japanese Windows) and CRLF line ends.
pub fn encode(script: &str) -> Vec<u8> {
    encode_pieces(&[script])
}

/// [`encode`] of the text the `pieces` make one after the other, without joining them first.
pub fn encode_pieces(pieces: &[&str]) -> Vec<u8> {
    let size: usize = pieces
        .iter()
        .map(|p| p.len() + p.bytes().filter(|b| *b == b'\n').count())
        .sum();
    let mut out = Vec::with_capacity(size + 3);
    out.extend_from_slice(&[0xEF, 0xBB, 0xBF]);
    // Every line end, LF or CRLF, becomes CRLF (the last line has none). A CR written last came
    // from the text right before this LF (an added one is always followed by its LF), also
    // when the CRLF is split between two pieces.
    for piece in pieces {
        let mut rest = piece.as_bytes();
        while let Some(at) = rest.iter().position(|b| *b == b'\n') {
            out.extend_from_slice(&rest[..at]);
            if out.last() != Some(&b'\r') {
                out.push(b'\r');
            }
            out.push(b'\n');
            rest = &rest[at + 1..];
        }
        out.extend_from_slice(rest);
    }
    out
}

/// Characters PowerShell treats as a single quote: `'` and U+2018 to U+201B.
const SINGLE_QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

/// A PowerShell single-quoted string literal whose value is `value`.
///
/// Every character PowerShell reads as a single quote is doubled (the tokenizer takes any two
/// of them in a row as one literal quote). NUL, CR, LF and other control characters are
/// rejected: a single-quoted string could carry them, but no profile value needs them and a
/// script, log or transcript line is clearer without.
pub fn quote(value: &str) -> Result<String, String> {
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(format!(
            "\"{}\" contains the control character U+{:04X}, which a generated PowerShell script does not carry",
            value.escape_debug(),
            c as u32
        ));
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if SINGLE_QUOTES.contains(&c) {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    Ok(out)
}

// ------------------------------------------------------------------ rendering

/// The scripts rendered from the one registry of [`registry`].
#[derive(Clone, Copy)]
pub(super) enum Script {
    Apply,
    Restore,
    Acceptance,
    Collect,
}

impl Script {
    const ALL: [Script; 4] = [
        Script::Apply,
        Script::Restore,
        Script::Acceptance,
        Script::Collect,
    ];

    /// The registry names of the script, and of its parts before and after `{{> common}}`.
    fn keys(self) -> [&'static str; 3] {
        match self {
            Script::Apply => ["apply", "apply.head", "apply.tail"],
            Script::Restore => ["restore", "restore.head", "restore.tail"],
            Script::Acceptance => ["acceptance", "acceptance.head", "acceptance.tail"],
            Script::Collect => ["collect", "collect.head", "collect.tail"],
        }
    }

    fn template(self) -> &'static str {
        match self {
            Script::Apply => APPLY,
            Script::Restore => RESTORE,
            Script::Acceptance => ACCEPTANCE,
            Script::Collect => super::collect::COLLECT,
        }
    }
}

/// The escape function of every script registry: [`quote`], whose error fails the render.
pub(super) fn escape(text: &str) -> String {
    match quote(text) {
        Ok(q) => q,
        Err(e) => {
            super::super::escape_error(e);
            // Never reached for a value the model accepted; the error fails the render.
            "$null".to_string()
        }
    }
}

/// The scripts' templates with their partials and the `ps` helper, compiled once per process.
struct Scripts {
    hb: Handlebars<'static>,
    /// Per [`Script::ALL`]: whether it is registered as the two parts around its `{{> common}}`
    /// (see [`Renderer`]) rather than whole.
    split: [bool; 4],
}

/// Every script template is compiled under the name `script`, the name its errors show.
fn registry() -> Result<&'static Scripts, String> {
    static REGISTRY: OnceLock<Result<Scripts, String>> = OnceLock::new();
    REGISTRY
        .get_or_init(|| {
            let mut hb = Handlebars::new();
            hb.set_strict_mode(true);
            hb.register_escape_fn(escape);
            hb.register_helper("ps", Box::new(ps_helper));
            // A partial is a template of its name.
            let common = super::super::compile(COMMON, Some("common"))
                .map_err(|e| format!("template common.ps1.hbs: {e}"))?;
            hb.register_template("common", common);
            let bcd = super::super::compile(BCD, Some("bcd"))
                .map_err(|e| format!("template bcd.ps1.hbs: {e}"))?;
            hb.register_template("bcd", bcd);
            let split = super::super::register_scripts(
                &mut hb,
                Script::ALL.map(|s| (s.template(), s.keys())),
                "PowerShell template",
            )?;
            Ok(Scripts { hb, split })
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Renders a profile's scripts from one context, `common` (which Apply, Restore and the
/// acceptance kit include) once: see [`super::super::SharedRender`].
pub(super) struct Renderer(super::super::SharedRender);

impl Renderer {
    pub(super) fn new(input: &ScriptInput) -> Result<Renderer, String> {
        Ok(Renderer(super::super::SharedRender::new(
            context(input)?,
            "common",
            "PowerShell template",
        )))
    }

    pub(super) fn render(&mut self, script: Script) -> Result<String, String> {
        self.render_with(script, |pieces| pieces.concat())
    }

    /// The bytes of the script's file ([`encode`]), made from the rendered pieces.
    pub(super) fn render_encoded(&mut self, script: Script) -> Result<Vec<u8>, String> {
        self.render_with(script, encode_pieces)
    }

    fn render_with<T>(
        &mut self,
        script: Script,
        finish: impl FnOnce(&[&str]) -> T,
    ) -> Result<T, String> {
        let scripts = registry()?;
        let [whole, head, tail] = script.keys();
        let parts = scripts.split[script as usize].then_some((head, tail));
        self.0.render_with(&scripts.hb, whole, parts, finish)
    }
}

pub(super) fn render(script: Script, input: &ScriptInput) -> Result<String, String> {
    Renderer::new(input)?.render(script)
}

/// `{{ps value}}`: a JSON value as a PowerShell literal (strings through [`quote`]).
fn ps_helper(
    h: &Helper,
    _: &Handlebars,
    _: &Context,
    _: &mut RenderContext,
    out: &mut dyn Output,
) -> HelperResult {
    let value = h
        .param(0)
        .ok_or_else(|| RenderErrorReason::ParamNotFoundForIndex("ps", 0))?
        .value();
    let text = ps_literal(value).map_err(RenderErrorReason::Other)?;
    out.write(&text)?;
    Ok(())
}

fn ps_literal(value: &Value) -> Result<String, String> {
    Ok(match value {
        Value::Null => "$null".into(),
        Value::Bool(true) => "$true".into(),
        Value::Bool(false) => "$false".into(),
        Value::Number(n) if n.is_u64() || n.is_i64() => n.to_string(),
        Value::Number(n) => return Err(format!("{n} is not an integer")),
        Value::String(s) => quote(s)?,
        Value::Array(items) => {
            let parts: Result<Vec<String>, String> = items.iter().map(ps_literal).collect();
            format!("@({})", parts?.join(", "))
        }
        Value::Object(_) => return Err("a table cannot be written as one literal".into()),
    })
}

// ------------------------------------------------------------------ data

/// Registry-policy entries whose delivery is checked in a later phase than RegistryPolicy.
fn pol_phase(key: &str) -> ApplyPhase {
    let k = key.to_ascii_lowercase();
    if k.starts_with(r"software\policies\microsoft\windowsfirewall\firewallrules") {
        ApplyPhase::FirewallRules
    } else if k.starts_with(r"software\policies\microsoft\windowsfirewall") {
        ApplyPhase::FirewallDefaults
    } else if k.starts_with(r"software\policies\microsoft\windows\deviceinstall")
        || k.starts_with(r"software\policies\microsoft\windows\removablestoragedevices")
    {
        ApplyPhase::DeviceRestrictions
    } else if k.starts_with(r"software\policies\microsoft\fve") {
        ApplyPhase::BootSettings
    } else if k.starts_with(r"software\policies\microsoft\windows\srpv2") {
        ApplyPhase::AllowListing
    } else {
        ApplyPhase::RegistryPolicy
    }
}

fn registry_entry(hive: &str, e: &PolEntry) -> Value {
    let (op, name) = if e.value.eq_ignore_ascii_case("**delvals.") {
        ("DeleteValues", String::new())
    } else if e.value.len() > 6 && e.value[..6].eq_ignore_ascii_case("**del.") {
        ("Delete", e.value[6..].to_string())
    } else if e.value.is_empty() && e.data == PolData::None {
        ("CreateKey", String::new())
    } else {
        ("Set", e.value.clone())
    };
    let (ty, data): (&str, Vec<String>) = match (&e.data, op) {
        (_, "Delete" | "DeleteValues" | "CreateKey") => ("None", vec![]),
        (PolData::None, _) => ("None", vec![]),
        (PolData::Sz(s), _) => ("String", vec![s.clone()]),
        (PolData::ExpandSz(s), _) => ("ExpandString", vec![s.clone()]),
        (PolData::Binary(b), _) => (
            "Binary",
            vec![b.iter().map(|x| format!("{x:02X}")).collect()],
        ),
        (PolData::Dword(n), _) => ("DWord", vec![n.to_string()]),
        (PolData::MultiSz(l), _) => ("MultiString", l.clone()),
        (PolData::Qword(n), _) => ("QWord", vec![n.to_string()]),
    };
    json!({
        "phase": phase_name(pol_phase(&e.key)),
        "hive": hive,
        "key": e.key,
        "name": name,
        "op": op,
        "type": ty,
        "data": data,
    })
}

/// BCD element type ids (BcdLibraryElementTypes, BcdOSLoaderElementTypes,
/// BcdBootMgrElementTypes), read through the BCD WMI provider instead of bcdedit's localized text.
fn boot_element(element: &str) -> Option<(u32, &'static str)> {
    Some(match element {
        "displaybootmenu" => (0x2600_0020, "Boolean"),
        "timeout" => (0x2500_0004, "Integer"),
        "bootmenupolicy" => (0x2500_00C2, "Integer"),
        "advancedoptions" => (0x1600_0040, "Boolean"),
        "optionsedit" => (0x1600_0041, "Boolean"),
        "recoveryenabled" => (0x1600_0009, "Boolean"),
        "bootstatuspolicy" => (0x2500_00E0, "Integer"),
        "debug" => (0x2600_00A0, "Boolean"),
        "bootdebug" => (0x1600_0010, "Boolean"),
        "testsigning" => (0x1600_0049, "Boolean"),
        "nointegritychecks" => (0x1600_0048, "Boolean"),
        "safeboot" => (0x2500_0080, "Integer"),
        _ => return None,
    })
}

/// The value the BCD WMI provider reports for a bcdedit value (`true`/`false` or a number).
fn boot_value(element: &str, kind: &str, value: &str) -> Option<String> {
    let v = value.to_ascii_lowercase();
    if kind == "Boolean" {
        return match v.as_str() {
            "yes" | "on" | "true" | "1" => Some("true".into()),
            "no" | "off" | "false" | "0" => Some("false".into()),
            _ => None,
        };
    }
    let named: &[&str] = match element {
        "bootmenupolicy" => &["legacy", "standard"],
        "bootstatuspolicy" => &[
            "displayallfailures",
            "ignoreallfailures",
            "ignoreshutdownfailures",
            "ignorebootfailures",
            "ignorecheckpointfailures",
            "displayshutdownfailures",
            "displaybootfailures",
            "displaycheckpointfailures",
        ],
        "safeboot" => &["minimal", "network", "dsrepair"],
        _ => &[],
    };
    if let Some(i) = named.iter().position(|n| *n == v) {
        return Some(i.to_string());
    }
    v.parse::<u64>().ok().map(|n| n.to_string())
}

fn principal_json(p: &Principal) -> Value {
    match p {
        Principal::WellKnownSid { sid, .. } => json!({ "sid": sid, "account": "" }),
        Principal::LocalAccount { name } => json!({ "sid": "", "account": name }),
    }
}

/// `kiosk_password` → `KioskPassword`: a parameter name derived here, never taken as written.
fn parameter_name(secret: &str) -> Result<String, String> {
    let ok = !secret.is_empty()
        && secret.starts_with(|c: char| c.is_ascii_alphabetic())
        && secret
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        return Err(format!(
            "secret parameter `{}` cannot be a PowerShell parameter name (letters, digits and `_`)",
            secret.escape_debug()
        ));
    }
    let name: String = secret
        .split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    // The scripts' own parameters and PowerShell's common ones are taken.
    const TAKEN: &[&str] = &[
        "LgpoPath",
        "AllowListingAuditOnly",
        "NoTranscript",
        "Reboot",
        "Reset",
        "WhatIf",
        "Confirm",
        "Verbose",
        "Debug",
        "ErrorAction",
        "WarningAction",
        "InformationAction",
        "ErrorVariable",
        "WarningVariable",
        "InformationVariable",
        "OutVariable",
        "OutBuffer",
        "PipelineVariable",
    ];
    if TAKEN.iter().any(|t| t.eq_ignore_ascii_case(&name)) {
        return Err(format!(
            "secret parameter `{secret}` would be the script parameter -{name}, which is taken"
        ));
    }
    Ok(name)
}

/// A GUID derived from `seed` (name-based, UUID version 5 layout over SHA-256), for AppLocker
/// rule ids: the same profile gives the same ids, so a second run finds its own rules.
fn derived_guid(seed: &str) -> String {
    let d = Sha256::digest(seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0F) | 0x50;
    b[8] = (b[8] & 0x3F) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{{{}-{}-{}-{}-{}}}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn param<'a>(state: &'a DesiredState, name: &str) -> Option<&'a ParamValue> {
    state
        .params
        .iter()
        .find(|p| p.name == name)
        .map(|p| &p.value)
}

/// The data every template renders from.
fn context(input: &ScriptInput) -> Result<Value, String> {
    let state = input.state;
    let policy = input.policy;
    let profile = &state.profile;
    if profile.platform.family != Family::Windows {
        return Err(format!(
            "profile `{}` is for {}, not Windows: it has no PowerShell scripts",
            profile.name, profile.platform.name
        ));
    }
    if profile.name.is_empty()
        || profile.name.starts_with('.')
        || !profile
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
    {
        return Err(format!(
            "profile name `{}` names a folder on the machine (%ProgramData%\\hardbase\\<name>): use letters, digits, `.`, `_` and `-`",
            profile.name.escape_debug()
        ));
    }
    let backup_ok = input.backup_id.len() == 38
        && input.backup_id.starts_with('{')
        && input.backup_id.ends_with('}')
        && input.backup_id[1..37]
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == '-');
    if !backup_ok {
        return Err(format!(
            "backup id `{}` is not a GUID in braces",
            input.backup_id.escape_debug()
        ));
    }
    let server = profile.platform.id.starts_with("windows-server");
    let editions: &[&str] = if server {
        &[
            "ServerStandard",
            "ServerDatacenter",
            "ServerStandardEval",
            "ServerDatacenterEval",
        ]
    } else {
        &["IoTEnterpriseS", "EnterpriseS", "EnterpriseSEval"]
    };

    let mut registry = Vec::new();
    for e in &policy.machine {
        registry.push(registry_entry("HKLM", e));
    }
    for e in &policy.user {
        registry.push(registry_entry("HKCU", e));
    }
    let firewall_rules: Vec<&str> = policy
        .machine
        .iter()
        .filter(|e| pol_phase(&e.key) == ApplyPhase::FirewallRules && !e.value.starts_with("**"))
        .map(|e| e.value.as_str())
        .collect();
    let firewall_used = policy.machine.iter().any(|e| {
        matches!(
            pol_phase(&e.key),
            ApplyPhase::FirewallRules | ApplyPhase::FirewallDefaults
        )
    });

    let audit: Vec<Value> = policy
        .audit
        .iter()
        .map(|r| {
            let value: u8 = r.value.parse().unwrap_or(0);
            json!({
                "guid": r.guid.to_ascii_uppercase(),
                "name": r.subcategory,
                "value": value,
                "success": value & 1 == 1,
                "failure": value & 2 == 2,
            })
        })
        .collect();

    let system_access: Vec<Value> = policy
        .template
        .system_access
        .iter()
        .map(|(key, v)| {
            let text = match v {
                super::gpttmpl_inf::InfValue::Number(n) => n.to_string(),
                super::gpttmpl_inf::InfValue::Text(t) => format!("\"{t}\""),
            };
            json!({ "key": key, "value": text })
        })
        .collect();

    let mut rights: Vec<Value> = policy
        .template
        .privilege_rights
        .iter()
        .map(|(right, sids)| {
            let sids: Vec<String> = sids
                .iter()
                .map(|s| s.trim_start_matches('*').to_string())
                .collect();
            json!({ "right": right, "mode": "Replace", "sids": sids, "accounts": [], "template": true })
        })
        .collect();

    let mut services: Vec<Value> = Vec::new();
    let delayed: Vec<String> = policy
        .apply_only
        .iter()
        .filter_map(|s| match &s.kind {
            SettingKind::Service(svc) if svc.start == StartMode::AutomaticDelayed => {
                Some(svc.name.to_ascii_lowercase())
            }
            _ => None,
        })
        .collect();
    for svc in &policy.template.services {
        let is_delayed = delayed.contains(&svc.name.to_ascii_lowercase());
        let (start, sc) = match (svc.mode, is_delayed) {
            (2, true) => ("AutomaticDelayed", "delayed-auto"),
            (2, false) => ("Automatic", "auto"),
            (3, _) => ("Manual", "demand"),
            _ => ("Disabled", "disabled"),
        };
        services.push(json!({
            "name": svc.name, "start": start, "value": svc.mode, "delayed": is_delayed, "sc": sc,
        }));
    }

    let mut features = Vec::new();
    let mut accounts = Vec::new();
    let mut boot = Vec::new();
    let mut applocker = Vec::new();
    let mut wdac = Vec::new();
    let mut kiosk = Vec::new();
    let mut assigned_access = Vec::new();
    let mut keyboard = Vec::new();
    let mut uwf = Vec::new();
    for s in &policy.apply_only {
        match &s.kind {
            SettingKind::OptionalFeature(f) => features.push(json!({
                "name": f.name,
                "state": match f.state { FeatureState::Enabled => "Enabled", FeatureState::Disabled => "Disabled" },
            })),
            SettingKind::LocalAccount(a) => {
                let (builtin, rid) = match a.builtin {
                    Some(crate::catalog::setting::BuiltinAccount::Administrator) => ("Administrator", 500),
                    Some(crate::catalog::setting::BuiltinAccount::Guest) => ("Guest", 501),
                    None => ("", 0),
                };
                let groups: Vec<Value> = a.not_member_of.iter().map(principal_json).collect();
                let secret = match &a.password {
                    Some(r) => parameter_name(&r.secret)?,
                    None => String::new(),
                };
                accounts.push(json!({
                    "builtin": builtin,
                    "rid": rid,
                    "name": a.name.clone().unwrap_or_default(),
                    "enabled": a.enabled,
                    "rename_to": a.rename_to.clone().unwrap_or_default(),
                    "not_member_of": groups,
                    "secret": secret,
                }));
            }
            SettingKind::UserRight(u) => {
                let mut sids = Vec::new();
                let mut names = Vec::new();
                for p in &u.principals {
                    match p {
                        Principal::WellKnownSid { sid, .. } => sids.push(sid.clone()),
                        Principal::LocalAccount { name } => names.push(name.clone()),
                    }
                }
                rights.push(json!({
                    "right": u.right,
                    "mode": match u.mode { ListMode::Replace => "Replace", ListMode::Add => "Add" },
                    "sids": sids,
                    "accounts": names,
                    "template": false,
                }));
            }
            SettingKind::BootSetting(b) => {
                let (type_id, kind) = boot_element(&b.element)
                    .ok_or_else(|| format!("boot element `{}` has no BCD element type", b.element))?;
                let desired = match &b.value {
                    Some(v) => boot_value(&b.element, kind, v).ok_or_else(|| {
                        format!("boot value `{v}` of `{}` cannot be represented", b.element)
                    })?,
                    None => String::new(),
                };
                boot.push(json!({
                    "object": match b.object {
                        BootObject::Bootmgr => "{bootmgr}",
                        BootObject::Default => "{default}",
                        BootObject::Globalsettings => "{globalsettings}",
                    },
                    "element": b.element,
                    "type_id": type_id,
                    "kind": kind,
                    "value": b.value.clone().unwrap_or_default(),
                    "desired": desired,
                    "absent": b.value.is_none(),
                }));
            }
            SettingKind::Applocker(a) => {
                let collection = match a.collection {
                    AppLockerCollection::Exe => "Exe",
                    AppLockerCollection::Dll => "Dll",
                    AppLockerCollection::Script => "Script",
                    AppLockerCollection::Msi => "Msi",
                    AppLockerCollection::Appx => "Appx",
                };
                let rules: Vec<Value> = a
                    .rules
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let principal = principal_json(&r.principal);
                        json!({
                            "id": derived_guid(&format!("hardbase applocker {} {collection} {i}", profile.name)),
                            "name": r.description,
                            "description": r.description,
                            "sid": principal["sid"],
                            "account": principal["account"],
                            "action": match r.action { FirewallAction::Allow => "Allow", FirewallAction::Block => "Deny" },
                            "path": r.path.clone().unwrap_or_default(),
                            "publisher": r.publisher.clone().unwrap_or_default(),
                        })
                    })
                    .collect();
                applocker.push(json!({
                    "collection": collection,
                    "mode": match a.mode { EnforcementMode::AuditOnly => "AuditOnly", EnforcementMode::Enforce => "Enabled" },
                    "rules": rules,
                }));
            }
            SettingKind::WdacPolicy(w) => {
                let file = w
                    .policy_file
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or_default()
                    .to_string();
                if file.is_empty() || file == "." || file == ".." {
                    return Err(format!("WDAC policy file `{}` has no file name", w.policy_file));
                }
                let multiple = profile.platform.build >= 18362;
                wdac.push(json!({
                    "policy_id": w.policy_id.to_ascii_uppercase(),
                    "source": file,
                    "destination": if multiple {
                        format!(r"CIPolicies\Active\{}.cip", w.policy_id.to_ascii_uppercase())
                    } else {
                        "SiPolicy.p7b".to_string()
                    },
                    "mode": match w.mode { EnforcementMode::AuditOnly => "AuditOnly", EnforcementMode::Enforce => "Enforce" },
                }));
            }
            // Shell Launcher v2 is one XML document for all its shells (below).
            SettingKind::KioskShell(k) if k.launcher == ShellLauncherVersion::V2 => {}
            SettingKind::KioskShell(k) => {
                let principal = principal_json(&k.account);
                kiosk.push(json!({
                    "sid": principal["sid"],
                    "account": principal["account"],
                    "shell": k.shell,
                    "action": match k.on_exit {
                        ShellExitAction::RestartShell => 0,
                        ShellExitAction::RestartDevice => 1,
                        ShellExitAction::ShutdownDevice => 2,
                        ShellExitAction::DoNothing => 3,
                    },
                    "admin_shell": k.admin_shell,
                }));
            }
            SettingKind::AssignedAccess(a) => {
                let principal = principal_json(&a.account);
                assigned_access.push(json!({
                    "sid": principal["sid"],
                    "account": principal["account"],
                    "app_user_model_id": a.app_user_model_id,
                }));
            }
            SettingKind::KeyboardFilter(k) => keyboard.push(json!({
                "keys": k.blocked_keys,
                "disable_for_administrators": if k.disable_for_administrators { "true" } else { "false" },
            })),
            SettingKind::WriteFilter(w) => uwf.push(json!({
                "volume": w.volume.to_ascii_uppercase(),
                "overlay_type": match w.overlay_type { OverlayType::Ram => "RAM", OverlayType::Disk => "DISK" },
                "overlay_type_id": match w.overlay_type { OverlayType::Ram => 0, OverlayType::Disk => 1 },
                "overlay_size": w.overlay_size_mb,
                "files": w.file_exclusions,
                "keys": w.registry_exclusions,
            })),
            // Delayed start is carried by the service table above.
            SettingKind::Service(_) => {}
            other => {
                return Err(format!(
                    "{} settings cannot be applied on Windows",
                    other.kind_name()
                ))
            }
        }
    }

    // Apply checks the file's hash before it hands the XML to the MDM bridge.
    let shell_launcher_v2 = match shell_launcher::xml(state)? {
        Some(xml) => json!({
            "file": shell_launcher::FILE,
            "sha256": Sha256::digest(xml.as_bytes())
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect::<String>(),
            "accounts": shell_launcher::v2_shells(state)
                .iter()
                .map(|k| principal_json(&k.account))
                .collect::<Vec<_>>(),
        }),
        None => Value::Null,
    };

    let mut secrets = Vec::new();
    for name in state.secrets() {
        secrets.push(json!({ "name": name, "parameter": parameter_name(&name)? }));
    }

    // The host channel the acceptance kit probes: the profile's host addresses and port.
    let addresses: Vec<String> = match param(state, "host_addresses") {
        Some(ParamValue::List(items)) => items
            .iter()
            .filter_map(|v| match v {
                ParamValue::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        Some(ParamValue::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    };
    let port = match param(state, "host_port") {
        Some(ParamValue::Int(n)) if (1..=65535).contains(n) => *n,
        _ => 0,
    };
    // An outbound allow rule bound to a program lets only that program through: a probe from
    // PowerShell is then expected to be blocked once the firewall policy is in force.
    let program_bound = state
        .settings()
        .filter_map(|s| match &s.kind {
            SettingKind::FirewallRule(r)
                if r.action == FirewallAction::Allow
                    && r.direction == crate::catalog::setting::Direction::Outbound
                    && r.remote_ports.iter().any(|p| i64::from(*p) == port)
                    && r.remote_addresses.iter().any(|a| addresses.contains(a)) =>
            {
                r.program.clone()
            }
            _ => None,
        })
        .next()
        .unwrap_or_default();

    Ok(json!({
        "profile": {
            "name": profile.name,
            "role": profile.role.id(),
            "terminal": profile.role == Role::AtmTerminal,
            "platform": profile.platform.id,
            "platform_name": profile.platform.name,
            "build": profile.platform.build,
            "product_type": if server { 3 } else { 1 },
            "editions": editions,
            "membership": profile.membership.map(|m| m.id()).unwrap_or(""),
        },
        "signing": {
            "method": profile.signing.as_ref().map(|s| s.method.id()).unwrap_or(""),
            "thumbprint": profile.signing.as_ref().and_then(|s| s.certificate_thumbprint.clone()).unwrap_or_default(),
        },
        "generator": format!("hardbase {}", env!("CARGO_PKG_VERSION")),
        "backup_id": input.backup_id,
        "phases": WINDOWS_PHASES.iter().map(|p| phase_name(*p)).collect::<Vec<_>>(),
        "secrets": secrets,
        "registry": registry,
        "firewall_used": firewall_used,
        "firewall_rules": firewall_rules,
        "has_user_policy": !policy.user.is_empty(),
        "audit": audit,
        "system_access": system_access,
        "rights": rights,
        "services": services,
        "features": features,
        "accounts": accounts,
        "boot": boot,
        "applocker": applocker,
        "wdac": wdac,
        "kiosk": kiosk,
        "shell_launcher_v2": shell_launcher_v2,
        "assigned_access": assigned_access,
        "keyboard": keyboard,
        "uwf": uwf,
        "probe": { "addresses": addresses, "port": port, "program": program_bound },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_doubles_every_single_quote_kind() {
        assert_eq!(quote("a'b").unwrap(), "'a''b'");
        assert_eq!(
            quote("\u{2018}x\u{2019}\u{201A}\u{201B}").unwrap(),
            "'\u{2018}\u{2018}x\u{2019}\u{2019}\u{201A}\u{201A}\u{201B}\u{201B}'"
        );
        assert_eq!(quote("$(x) `n \"y\" '@").unwrap(), "'$(x) `n \"y\" ''@'");
        assert_eq!(quote("日本語😀").unwrap(), "'日本語😀'");
        assert!(quote("a\0b").unwrap_err().contains("U+0000"));
        assert!(quote("a\nb").is_err());
        assert!(quote("a\rb").is_err());
    }

    #[test]
    fn encode_writes_bom_and_crlf() {
        assert_eq!(encode("a\nb\r\nc"), b"\xEF\xBB\xBFa\r\nb\r\nc".to_vec());
        // In pieces, as in one text: a CRLF split between two pieces, a lone CR, empty lines
        // and empty pieces.
        let text = "x\r\n\ny\rz\r\r\nend";
        for cut in 0..=text.len() {
            for second in cut..=text.len() {
                let pieces = [&text[..cut], "", &text[cut..second], &text[second..]];
                assert_eq!(encode_pieces(&pieces), encode(text), "{pieces:?}");
            }
        }
        assert_eq!(encode(text), b"\xEF\xBB\xBFx\r\n\r\ny\rz\r\r\nend".to_vec());
    }

    #[test]
    fn parameter_names_are_pascal_case() {
        assert_eq!(parameter_name("kiosk_password").unwrap(), "KioskPassword");
        assert!(parameter_name("x y").is_err());
        assert!(parameter_name("no_transcript").is_err());
    }

    #[test]
    fn boot_values_map_to_bcd_numbers() {
        assert_eq!(
            boot_value("bootmenupolicy", "Integer", "Standard").unwrap(),
            "1"
        );
        assert_eq!(
            boot_value("bootstatuspolicy", "Integer", "ignoreallfailures").unwrap(),
            "1"
        );
        assert_eq!(boot_value("debug", "Boolean", "off").unwrap(), "false");
        assert_eq!(boot_value("timeout", "Integer", "0").unwrap(), "0");
        assert!(boot_value("timeout", "Integer", "soon").is_none());
    }

    #[test]
    fn scripts_render_as_whole_templates() {
        use crate::resolve;
        let registry = registry().unwrap();
        // Apply, Restore and the acceptance kit include `common` at the top level.
        assert_eq!(registry.split, [true, true, true, false]);
        // The same registry with every script whole, as a partial include renders it.
        let mut whole = Handlebars::new();
        whole.set_strict_mode(true);
        whole.register_escape_fn(escape);
        whole.register_helper("ps", Box::new(ps_helper));
        whole.register_partial("common", COMMON).unwrap();
        whole.register_partial("bcd", BCD).unwrap();
        for script in Script::ALL {
            whole
                .register_template_string(script.keys()[0], script.template())
                .unwrap();
        }
        let (catalog, mut sources, mut diags, options, dir) = crate::resolve::example_resolver();
        for file in ["branch-atm-shinjuku.toml", "relay-windows.toml"] {
            let state = resolve::resolve(
                &dir.join(file),
                &catalog,
                &mut sources,
                &options,
                &mut diags,
            )
            .unwrap();
            let policy = super::super::policy::build(&state);
            let backup_id = super::super::gpo_backup::backup_id(&state.profile.name);
            let input = ScriptInput {
                state: &state,
                policy: &policy,
                backup_id: &backup_id,
            };
            let mut renderer = Renderer::new(&input).unwrap();
            let data = context(&input).unwrap();
            for script in Script::ALL {
                let expected = whole.render(script.keys()[0], &data).unwrap();
                assert!(renderer.render(script).unwrap() == expected, "{file}");
            }
        }
    }
}

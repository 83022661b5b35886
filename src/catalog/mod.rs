//! The control catalog: what hardbase knows how to enforce, with its sources.
//!
//! Controls are TOML files in `baselines/`, compiled into the binary so the
//! tool works from any directory; `--baselines DIR` adds files whose controls
//! add to or replace built-in ones by id. Loading checks every control fully
//! — parameter declarations, setting kinds, and each setting instantiated
//! with sample parameter values — so a broken catalog entry is reported at
//! its own line before any profile is resolved.

pub mod flow;
pub mod param;
pub mod setting;
pub mod taxonomy;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::document::{self, Node, Table, Value};
use crate::source::{SourceMap, Sp, Span};
use param::{ParamError, ParamType, ParamValue};
use setting::SettingKind;
use taxonomy::{AttackStep, Category, Family, Role, Text, Tier};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/baselines.rs"));
}

/// References to the frameworks a control implements.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct References {
    pub attack: Vec<String>,
    pub cis: Vec<String>,
    pub pci_atm: Vec<String>,
    pub fisc: Vec<String>,
    /// Other sources: guidance, advisories and incident reports (`CCDS 3.4`, `CISA AA20-239A` …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other: Vec<String>,
}

/// A parameter a control declares.
#[derive(Clone, Debug)]
pub struct ParamDecl {
    pub name: String,
    pub span: Span,
    pub ty: ParamType,
    pub default: Option<ParamValue>,
    pub description: String,
    /// Values below this weaken the control and need a waiver.
    pub weaker_below: Option<i64>,
    /// Values above this weaken the control and need a waiver.
    pub weaker_above: Option<i64>,
}

impl ParamDecl {
    pub fn required(&self) -> bool {
        self.default.is_none() && self.ty != ParamType::Secret
    }

    /// Whether `value` weakens the control compared with its baseline.
    pub fn weakens(&self, value: &ParamValue) -> Option<String> {
        let v = value.as_int()?;
        match (self.weaker_below, self.weaker_above) {
            (Some(min), _) if v < min => {
                Some(format!("{v} is below the baseline minimum of {min}"))
            }
            (_, Some(max)) if v > max => {
                Some(format!("{v} is above the baseline maximum of {max}"))
            }
            _ => None,
        }
    }
}

/// A setting as the catalog declares it, before parameters are substituted.
#[derive(Clone, Debug)]
pub struct SettingTemplate {
    pub span: Span,
    pub family: Family,
    pub kind: String,
    /// OS builds the setting applies to (inclusive); Windows builds or Linux major releases.
    pub min_build: Option<u32>,
    pub max_build: Option<u32>,
    /// A parameter that switches the setting on: it applies only when the value is true, a
    /// non-empty list or a non-empty string (an empty address list must never mean "any").
    pub when: Option<String>,
    /// Roles the setting applies to (a subset of the control's); empty means all of them.
    pub roles: Vec<Role>,
    /// Membership the setting applies to (Windows: domain or workgroup); `None` means both.
    pub membership: Option<taxonomy::Membership>,
    /// The kind-specific fields, `${param}` references unexpanded.
    fields: Vec<(String, Node)>,
    /// Parameters the fields refer to.
    pub uses: Vec<String>,
}

impl SettingTemplate {
    /// Whether the `when` condition holds for these parameter values.
    pub fn enabled(&self, value_of: &dyn Fn(&str) -> Option<ParamValue>) -> bool {
        let Some(name) = &self.when else { return true };
        match value_of(name) {
            Some(ParamValue::Bool(b)) => b,
            Some(ParamValue::List(items)) => !items.is_empty(),
            Some(ParamValue::String(s)) => !s.is_empty(),
            Some(ParamValue::Int(i)) => i != 0,
            Some(ParamValue::Secret) | None => false,
        }
    }

    /// Whether the setting applies to this role and membership.
    pub fn applies_to(&self, role: Role, membership: Option<taxonomy::Membership>) -> bool {
        (self.roles.is_empty() || self.roles.contains(&role))
            && self.membership.is_none_or(|m| Some(m) == membership)
    }

    pub fn applies_to_build(&self, build: u32) -> bool {
        self.min_build.is_none_or(|m| build >= m) && self.max_build.is_none_or(|m| build <= m)
    }

    /// The fields as written, `${param}` references kept, for explanations.
    pub fn raw_summary(&self) -> String {
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|(k, v)| format!("{k} = {}", raw_value(v)))
            .collect();
        format!("{}: {}", self.kind, fields.join(", "))
    }

    /// Substitutes parameter values and checks the result as a typed setting.
    pub fn instantiate(
        &self,
        value_of: &dyn Fn(&str) -> Option<ParamValue>,
    ) -> Result<SettingKind, String> {
        let mut object = serde_json::Map::new();
        object.insert("kind".into(), serde_json::Value::String(self.kind.clone()));
        for (key, node) in &self.fields {
            object.insert(key.clone(), substitute(node, value_of)?);
        }
        let setting: SettingKind =
            serde_json::from_value(serde_json::Value::Object(object)).map_err(|e| e.to_string())?;
        setting.validate()?;
        Ok(setting)
    }
}

/// One control of the catalog.
#[derive(Clone, Debug)]
pub struct Control {
    pub id: String,
    /// Where the control is defined (its `id` line).
    pub span: Span,
    pub source: String,
    pub title: Text,
    pub category: Category,
    pub tier: Tier,
    pub short_term: bool,
    pub roles: Vec<Role>,
    pub platforms: Vec<Family>,
    pub attack_steps: Vec<AttackStep>,
    pub criterion: Text,
    pub references: References,
    pub params: Vec<ParamDecl>,
    pub settings: Vec<SettingTemplate>,
    /// Not part of any role baseline: only a profile's `include` selects it (imported controls).
    pub include_only: bool,
}

impl Control {
    /// A manual control has no machine setting: it is checked by evidence and takes an attestation.
    pub fn is_manual(&self) -> bool {
        self.settings.is_empty()
    }

    /// Whether the control applies to a machine of this family.
    pub fn claims(&self, family: Family) -> bool {
        self.platforms.is_empty() || self.platforms.contains(&family)
    }

    pub fn param(&self, name: &str) -> Option<&ParamDecl> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// All controls and flows, by id.
#[derive(Default)]
pub struct Catalog {
    /// Shared with every resolved profile that includes the control.
    pub controls: BTreeMap<String, std::sync::Arc<Control>>,
    pub flows: BTreeMap<String, flow::Flow>,
}

impl Catalog {
    /// Loads the built-in baselines, then every `*.toml` under each override directory.
    pub fn load(
        sources: &mut SourceMap,
        builtin: bool,
        overrides: &[&Path],
        diags: &mut Diagnostics,
    ) -> Catalog {
        let mut catalog = Catalog::default();
        let mut builtin_ids = BTreeMap::new();
        let builtin_files = if builtin { builtin::FILES } else { &[] };
        for (name, text) in builtin_files {
            let file = sources.add(format!("<built-in>/{name}"), *text);
            let (controls, flows) = load_file(sources, file, diags);
            for control in controls {
                catalog.insert(control, diags, &mut builtin_ids, true);
            }
            catalog.insert_flows(flows);
        }
        for dir in overrides {
            let mut files: Vec<_> = walkdir::WalkDir::new(dir)
                .sort_by_file_name()
                .into_iter()
                .filter_map(|e| e.ok())
                .filter(|e| {
                    e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "toml")
                })
                .map(|e| e.into_path())
                .collect();
            files.sort();
            if !dir.is_dir() {
                diags.push(Diagnostic::error(
                    Code::Io,
                    format!(
                        "baselines directory {} does not exist or is not a directory",
                        dir.display()
                    ),
                ));
                continue;
            }
            let mut local_ids = BTreeMap::new();
            for path in files {
                match std::fs::read_to_string(&path) {
                    Ok(text) => {
                        let file = sources.add(path.display().to_string(), text);
                        let (controls, flows) = load_file(sources, file, diags);
                        for control in controls {
                            catalog.insert(control, diags, &mut local_ids, false);
                        }
                        catalog.insert_flows(flows);
                    }
                    Err(e) => diags.push(Diagnostic::error(
                        Code::Io,
                        format!("cannot read {}: {e}", path.display()),
                    )),
                }
            }
        }
        catalog.check_shared_params(diags);
        catalog.check_flow_params(diags);
        catalog
    }

    /// Flows replace flows of the same id (an override folder may redefine them).
    fn insert_flows(&mut self, flows: Vec<flow::Flow>) {
        for f in flows {
            self.flows.insert(f.id.clone(), f);
        }
    }

    /// Every parameter a flow names is declared by some control, with an address or port type.
    fn check_flow_params(&self, diags: &mut Diagnostics) {
        use param::ScalarType as S;
        for f in self.flows.values() {
            for name in &f.uses {
                let is_port = f
                    .ports
                    .iter()
                    .any(|p| matches!(p, flow::PortRef::Param(n) if n == name));
                let ok = match self.param_decl(name).map(|(_, d)| d.ty) {
                    None => Err("no control declares it".to_string()),
                    Some(ParamType::Scalar(S::Port) | ParamType::List(S::Port)) if is_port => {
                        Ok(())
                    }
                    Some(ParamType::Scalar(t) | ParamType::List(t))
                        if !is_port
                            && matches!(t, S::Ipv4 | S::Ipv6 | S::Ip | S::Cidr | S::Address) =>
                    {
                        Ok(())
                    }
                    Some(ty) => Err(format!("it is {}", ty.describe())),
                };
                if let Err(why) = ok {
                    diags.push(
                        Diagnostic::error(
                            Code::InvalidControl,
                            format!("flow `{}` refers to parameter `{name}`, but {why}", f.id),
                        )
                        .at(f.span, "in this flow"),
                    );
                }
            }
        }
    }

    fn insert(
        &mut self,
        control: Control,
        diags: &mut Diagnostics,
        seen: &mut BTreeMap<String, Span>,
        _builtin: bool,
    ) {
        if let Some(first) = seen.get(&control.id) {
            diags.push(
                Diagnostic::error(
                    Code::InvalidControl,
                    format!("control `{}` is defined twice", control.id),
                )
                .at(control.span, "defined again here")
                .also(*first, "first defined here"),
            );
            return;
        }
        seen.insert(control.id.clone(), control.span);
        // Overrides replace the built-in control of the same id as a whole.
        self.controls
            .insert(control.id.clone(), std::sync::Arc::new(control));
    }

    /// Two controls that declare a parameter of the same name must agree on its type and default.
    fn check_shared_params(&self, diags: &mut Diagnostics) {
        let mut first: BTreeMap<&str, (&Control, &ParamDecl)> = BTreeMap::new();
        for control in self.controls.values() {
            for p in &control.params {
                match first.get(p.name.as_str()) {
                    None => {
                        first.insert(&p.name, (control, p));
                    }
                    Some((other, q)) if q.ty != p.ty || q.default != p.default => {
                        diags.push(
                            Diagnostic::error(
                                Code::InvalidControl,
                                format!(
                                    "parameter `{}` is declared differently by {} and {}",
                                    p.name, other.id, control.id
                                ),
                            )
                            .at(p.span, format!("{} declares it as {}", control.id, p.ty.id()))
                            .also(q.span, format!("{} declares it as {}", other.id, q.ty.id()))
                            .note("controls that share a parameter must declare the same type and default"),
                        );
                    }
                    Some(_) => {}
                }
            }
        }
    }

    pub fn get(&self, id: &str) -> Option<&Control> {
        self.controls.get(id).map(|c| &**c)
    }

    /// The control `id`, to be shared by a resolved profile.
    pub fn shared(&self, id: &str) -> Option<&std::sync::Arc<Control>> {
        self.controls.get(id)
    }

    /// The declaration of a parameter, from the first control (by id) that declares it.
    pub fn param_decl(&self, name: &str) -> Option<(&Control, &ParamDecl)> {
        self.controls
            .values()
            .find_map(|c| c.param(name).map(|p| (&**c, p)))
    }

    /// Ids close to `id`, for "did you mean".
    pub fn suggest(&self, id: &str) -> Option<String> {
        let ids: Vec<&str> = self.controls.keys().map(String::as_str).collect();
        similar::get_close_matches(id, &ids, 1, 0.7)
            .first()
            .map(|s| s.to_string())
    }
}

const CONTROL_KEYS: &[&str] = &[
    "id",
    "title",
    "category",
    "tier",
    "short_term",
    "roles",
    "platforms",
    "attack_steps",
    "criterion",
    "references",
    "params",
    "setting",
    "include_only",
];

fn load_file(
    sources: &SourceMap,
    file: usize,
    diags: &mut Diagnostics,
) -> (Vec<Control>, Vec<flow::Flow>) {
    let Some(root) = document::parse(file, sources.text(file), diags) else {
        return (Vec::new(), Vec::new());
    };
    let Some(mut top) = Table::of(&root, "the catalog file", diags) else {
        return (Vec::new(), Vec::new());
    };
    let mut out = Vec::new();
    let mut flows = Vec::new();
    if let Some(node) = top.get("flow") {
        match &node.value {
            Value::Array(items) => {
                flows.extend(items.iter().filter_map(|item| load_flow(item, diags)))
            }
            other => diags.push(
                Diagnostic::error(
                    Code::WrongType,
                    format!("expected `[[flow]]` tables, found {}", other.type_name()),
                )
                .at(node.span, "write each flow as a [[flow]] table"),
            ),
        }
    }
    if let Some(node) = top.get("control") {
        match &node.value {
            Value::Array(items) => {
                for item in items {
                    if let Some(c) = load_control(sources, item, diags) {
                        out.push(c);
                    }
                }
            }
            other => diags.push(
                Diagnostic::error(
                    Code::WrongType,
                    format!("expected `[[control]]` tables, found {}", other.type_name()),
                )
                .at(node.span, "write each control as a [[control]] table"),
            ),
        }
    }
    top.finish(&["control", "flow"], diags);
    (out, flows)
}

const FLOW_KEYS: &[&str] = &[
    "id",
    "roles",
    "platforms",
    "direction",
    "protocol",
    "peers",
    "ports",
    "purpose",
];

fn load_flow(node: &Node, diags: &mut Diagnostics) -> Option<flow::Flow> {
    let mut t = Table::of(node, "[[flow]]", diags)?;
    let before = diags.error_count();
    let id = t.req_string("id", diags)?;
    t.name = format!("flow {}", id.value);
    let roles = enum_list(&mut t, "roles", Role::from_id, &Role::ids(), diags);
    let platforms = enum_list(&mut t, "platforms", Family::from_id, &Family::ids(), diags);
    let direction = t
        .req_string("direction", diags)
        .and_then(|d| match d.value.as_str() {
            "inbound" => Some(flow::FlowDirection::Inbound),
            "outbound" => Some(flow::FlowDirection::Outbound),
            _ => {
                invalid_choice("direction", &d, &["inbound", "outbound"], diags);
                None
            }
        });
    let protocols = ["tcp", "udp", "icmpv4", "icmpv6", "any"];
    let protocol = t.req_string("protocol", diags).and_then(|p| {
        match serde_json::from_value::<setting::Protocol>(serde_json::Value::String(
            p.value.clone(),
        )) {
            Ok(v) => Some(v),
            Err(_) => {
                invalid_choice("protocol", &p, &protocols, diags);
                None
            }
        }
    });
    let purpose = text(&mut t, "purpose", diags);
    let mut uses = Vec::new();
    let peers: Vec<String> = t
        .strings("peers", diags)
        .map(|l| l.value.into_iter().map(|s| s.value).collect())
        .unwrap_or_default();
    for p in &peers {
        match p.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
            Some(name) => uses.push(name.to_string()),
            None => {
                if param::normalize_address(param::ScalarType::Address, p).as_deref()
                    != Ok(p.as_str())
                {
                    diags.push(
                        Diagnostic::error(
                            Code::InvalidControl,
                            format!(
                                "flow peer `{p}` is neither `${{param}}` nor a canonical address"
                            ),
                        )
                        .at(id.span, "in this flow"),
                    );
                }
            }
        }
    }
    let mut ports = Vec::new();
    if let Some(node) = t.get("ports") {
        if let Value::Array(items) = &node.value {
            for item in items {
                match &item.value {
                    Value::Integer(n) if (1..=65535).contains(n) => {
                        ports.push(flow::PortRef::Literal(*n as u16))
                    }
                    Value::String(s) if s.starts_with("${") && s.ends_with('}') => {
                        let name = s[2..s.len() - 1].to_string();
                        uses.push(name.clone());
                        ports.push(flow::PortRef::Param(name));
                    }
                    _ => diags.push(
                        Diagnostic::error(
                            Code::InvalidControl,
                            "a flow port is a number 1-65535 or `${param}`",
                        )
                        .at(item.span, "invalid port"),
                    ),
                }
            }
        } else {
            diags.push(
                Diagnostic::error(Code::WrongType, "`ports` is an array")
                    .at(node.span, "expected an array"),
            );
        }
    }
    t.finish(FLOW_KEYS, diags);
    if roles.is_empty() || peers.is_empty() {
        diags.push(
            Diagnostic::error(
                Code::MissingKey,
                format!("flow {} needs `roles` and `peers`", id.value),
            )
            .at(id.span, "incomplete flow"),
        );
    }
    if diags.error_count() > before {
        return None;
    }
    Some(flow::Flow {
        id: id.value,
        span: id.span,
        roles,
        platforms,
        direction: direction?,
        protocol: protocol?,
        purpose: purpose?,
        peers,
        ports,
        uses,
    })
}

fn enum_value<T>(
    table: &mut Table<'_>,
    key: &str,
    parse: impl Fn(&str) -> Option<T>,
    allowed: &[&str],
    diags: &mut Diagnostics,
) -> Option<Sp<T>> {
    let s = table.string(key, diags)?;
    match parse(&s.value) {
        Some(v) => Some(Sp::new(v, s.span)),
        None => {
            invalid_choice(key, &s, allowed, diags);
            None
        }
    }
}

/// Reports a value that is not one of `allowed`, with a suggestion.
pub fn invalid_choice(key: &str, s: &Sp<String>, allowed: &[&str], diags: &mut Diagnostics) {
    let mut d = Diagnostic::error(
        Code::InvalidValue,
        format!("`{}` is not a valid {key}", s.value.escape_debug()),
    )
    .at(s.span, format!("expected one of: {}", allowed.join(", ")));
    if let Some(best) = closest(&s.value, allowed) {
        d = d.note(format!("help: did you mean `{best}`?"));
    }
    diags.push(d);
}

/// The allowed value closest to `value`: a similar spelling, or the only one it is a prefix of.
pub fn closest<'a>(value: &str, allowed: &[&'a str]) -> Option<&'a str> {
    if let Some(best) = similar::get_close_matches(value, allowed, 1, 0.6).first() {
        return Some(best);
    }
    let lower = value.to_ascii_lowercase();
    let mut prefixed = allowed
        .iter()
        .filter(|a| !lower.is_empty() && a.starts_with(&lower));
    match (prefixed.next(), prefixed.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    }
}

fn enum_list<T>(
    table: &mut Table<'_>,
    key: &str,
    parse: impl Fn(&str) -> Option<T>,
    allowed: &[&str],
    diags: &mut Diagnostics,
) -> Vec<T> {
    let mut out = Vec::new();
    if let Some(list) = table.strings(key, diags) {
        for s in &list.value {
            match parse(&s.value) {
                Some(v) => out.push(v),
                None => invalid_choice(key, s, allowed, diags),
            }
        }
    }
    out
}

fn text(table: &mut Table<'_>, key: &str, diags: &mut Diagnostics) -> Option<Text> {
    if table.get(key).is_none() {
        diags.push(
            Diagnostic::error(
                Code::MissingKey,
                format!("missing key `{key}` in {}", table.name),
            )
            .at(
                table.header_span(),
                format!("`{key}` (with `en` and `ja`) is required here"),
            ),
        );
        return None;
    }
    let mut t = table.table(key, diags)?;
    let en = t.req_string("en", diags);
    let ja = t.req_string("ja", diags);
    t.finish(&["en", "ja"], diags);
    let (en, ja) = (en?, ja?);
    for s in [&en, &ja] {
        if s.value.trim().is_empty() {
            diags.push(
                Diagnostic::error(Code::InvalidValue, format!("`{key}` must not be empty"))
                    .at(s.span, "empty text"),
            );
        }
    }
    Some(Text {
        en: en.value,
        ja: ja.value,
    })
}

fn valid_id(id: &str) -> bool {
    let mut parts = id.split('-');
    let first = parts.next().unwrap_or("");
    (2..=4).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_uppercase())
        && id.split('-').count() >= 2
        && parts.all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        })
}

fn load_control(sources: &SourceMap, node: &Node, diags: &mut Diagnostics) -> Option<Control> {
    let mut t = Table::of(node, "[[control]]", diags)?;
    let before = diags.error_count();
    let id = t.req_string("id", diags)?;
    if !valid_id(&id.value) {
        diags.push(
            Diagnostic::error(
                Code::InvalidControl,
                format!("`{}` is not a control id", id.value.escape_debug()),
            )
            .at(id.span, "expected an id such as COM-FW-001"),
        );
    }
    t.name = format!("control {}", id.value);
    let title = text(&mut t, "title", diags);
    let criterion = text(&mut t, "criterion", diags);
    let category = enum_value(
        &mut t,
        "category",
        Category::from_id,
        &Category::ids(),
        diags,
    );
    if t.get("category").is_none() {
        t.string("category", diags);
    }
    let tier = enum_value(&mut t, "tier", Tier::from_id, &Tier::ids(), diags);
    let short_term = t
        .bool("short_term", diags)
        .map(|b| b.value)
        .unwrap_or(false);
    let include_only = t
        .bool("include_only", diags)
        .map(|b| b.value)
        .unwrap_or(false);
    let roles = enum_list(&mut t, "roles", Role::from_id, &Role::ids(), diags);
    let platforms = enum_list(&mut t, "platforms", Family::from_id, &Family::ids(), diags);
    let attack_steps = enum_list(
        &mut t,
        "attack_steps",
        AttackStep::from_id,
        &AttackStep::ids(),
        diags,
    );
    for (key, missing) in [
        (
            "category",
            category.is_none() && t.key_span("category").is_none(),
        ),
        ("tier", tier.is_none() && t.key_span("tier").is_none()),
        ("roles", roles.is_empty()),
        ("attack_steps", attack_steps.is_empty()),
    ] {
        if missing {
            diags.push(
                Diagnostic::error(
                    Code::MissingKey,
                    format!("control {} needs `{key}`", id.value),
                )
                .at(id.span, format!("`{key}` is required")),
            );
        }
    }
    let mut references = References::default();
    if let Some(mut r) = t.table("references", diags) {
        let mut list = |key: &str, r: &mut Table<'_>| {
            r.strings(key, diags)
                .map(|l| l.value.into_iter().map(|s| s.value).collect())
                .unwrap_or_default()
        };
        references.attack = list("attack", &mut r);
        references.cis = list("cis", &mut r);
        references.pci_atm = list("pci_atm", &mut r);
        references.fisc = list("fisc", &mut r);
        references.other = list("other", &mut r);
        r.finish(&["attack", "cis", "pci_atm", "fisc", "other"], diags);
    }
    let mut params = Vec::new();
    if let Some(mut p) = t.table("params", diags) {
        for (name, node) in p.all() {
            if let Some(decl) = load_param(name, node, diags) {
                params.push(decl);
            }
        }
    }
    let mut settings = Vec::new();
    if let Some(node) = t.get("setting") {
        match &node.value {
            Value::Array(items) => {
                for item in items {
                    if let Some(s) = load_setting(&id.value, item, &params, diags) {
                        settings.push(s);
                    }
                }
            }
            other => diags.push(
                Diagnostic::error(
                    Code::WrongType,
                    format!(
                        "expected `[[control.setting]]` tables, found {}",
                        other.type_name()
                    ),
                )
                .at(
                    node.span,
                    "write each setting as a [[control.setting]] table",
                ),
            ),
        }
    }
    t.finish(CONTROL_KEYS, diags);
    for family in &platforms {
        if !settings.is_empty() && !settings.iter().any(|s| s.family == *family) {
            diags.push(
                Diagnostic::error(
                    Code::InvalidControl,
                    format!("control {} claims platform `{family}` but has no setting for it", id.value),
                )
                .at(id.span, "add a [[control.setting]] for it, remove it from `platforms`, or make the control manual"),
            );
        }
    }
    for s in &settings {
        if !platforms.contains(&s.family) {
            diags.push(
                Diagnostic::error(
                    Code::InvalidControl,
                    format!(
                        "control {} has a `{}` setting but does not list `{}` in `platforms`",
                        id.value, s.family, s.family
                    ),
                )
                .at(s.span, "setting for an unclaimed platform"),
            );
        }
    }
    for p in &params {
        if !settings.iter().any(|s| s.uses.contains(&p.name)) {
            diags.push(
                Diagnostic::warning(
                    Code::InvalidControl,
                    format!(
                        "control {} declares parameter `{}` but no setting uses it",
                        id.value, p.name
                    ),
                )
                .at(p.span, "unused parameter"),
            );
        }
    }
    if diags.error_count() > before {
        return None;
    }
    Some(Control {
        id: id.value,
        span: id.span,
        source: sources.name(id.span.file).to_string(),
        title: title?,
        category: category?.value,
        tier: tier?.value,
        short_term,
        roles,
        platforms,
        attack_steps,
        criterion: criterion?,
        references,
        params,
        settings,
        include_only,
    })
}

fn load_param(name: &Sp<String>, node: &Node, diags: &mut Diagnostics) -> Option<ParamDecl> {
    if !name
        .value
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        || name.value.is_empty()
    {
        diags.push(
            Diagnostic::error(
                Code::InvalidControl,
                format!("parameter name `{}` must be snake_case", name.value),
            )
            .at(name.span, "invalid parameter name"),
        );
        return None;
    }
    let mut t = Table::of(node, format!("parameter `{}`", name.value), diags)?;
    let ty_text = t.req_string("type", diags)?;
    let Some(ty) = ParamType::parse(&ty_text.value) else {
        let names = ParamType::names();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        invalid_choice("parameter type", &ty_text, &names, diags);
        return None;
    };
    let required = t.bool("required", diags);
    let description = t
        .req_string("description", diags)
        .map(|s| s.value)
        .unwrap_or_default();
    let weaker_below = t.int("weaker_below", diags).map(|v| v.value);
    let weaker_above = t.int("weaker_above", diags).map(|v| v.value);
    let default = match t.get("default") {
        Some(d) => match ty.check(d) {
            Ok(v) => Some(v),
            Err(e) => {
                report_param_error(&name.value, e, None, diags);
                None
            }
        },
        None => None,
    };
    t.finish(
        &[
            "type",
            "default",
            "required",
            "description",
            "weaker_below",
            "weaker_above",
        ],
        diags,
    );
    let required = required.map(|r| r.value).unwrap_or(false);
    match (ty, required, default.is_some()) {
        (ParamType::Secret, true, _) | (ParamType::Secret, _, true) => diags.push(
            Diagnostic::error(
                Code::InvalidControl,
                format!(
                    "secret parameter `{}` takes neither `default` nor `required`",
                    name.value
                ),
            )
            .at(name.span, "secrets are always supplied at apply time"),
        ),
        (ParamType::Secret, false, false) => {}
        (_, true, true) => diags.push(
            Diagnostic::error(
                Code::InvalidControl,
                format!(
                    "parameter `{}` has both `default` and `required = true`",
                    name.value
                ),
            )
            .at(name.span, "choose one"),
        ),
        (_, false, false) => diags.push(
            Diagnostic::error(
                Code::InvalidControl,
                format!(
                    "parameter `{}` needs a `default` or `required = true`",
                    name.value
                ),
            )
            .at(name.span, "no default"),
        ),
        _ => {}
    }
    Some(ParamDecl {
        name: name.value.clone(),
        span: name.span,
        ty,
        default,
        description,
        weaker_below,
        weaker_above,
    })
}

/// Turns a parameter check failure into a diagnostic at the value.
pub fn report_param_error(
    name: &str,
    e: ParamError,
    note_span: Option<(Span, String)>,
    diags: &mut Diagnostics,
) {
    let mut d = match e {
        ParamError::WrongType {
            expected,
            found,
            span,
        } => Diagnostic::error(
            Code::WrongType,
            format!("parameter `{name}` must be {expected}, found {found}"),
        )
        .at(span, format!("expected {expected}")),
        ParamError::Invalid { message, span } => Diagnostic::error(
            Code::InvalidValue,
            format!("invalid value for parameter `{name}`: {message}"),
        )
        .at(span, "invalid value"),
        ParamError::Secret => Diagnostic::error(
            Code::SecretInProfile,
            format!("parameter `{name}` is a secret"),
        ),
    };
    if let Some((span, message)) = note_span {
        d = d.also(span, message);
    }
    diags.push(d);
}

const SETTING_META: &[&str] = &[
    "platform",
    "kind",
    "min_build",
    "max_build",
    "when",
    "roles",
    "membership",
];

fn load_setting(
    control: &str,
    node: &Node,
    params: &[ParamDecl],
    diags: &mut Diagnostics,
) -> Option<SettingTemplate> {
    let mut t = Table::of(node, format!("a setting of {control}"), diags)?;
    let family = enum_value(&mut t, "platform", Family::from_id, &Family::ids(), diags);
    if t.key_span("platform").is_none() {
        t.req_string("platform", diags);
    }
    let kinds: Vec<&str> = setting::KINDS.iter().map(|(k, _)| *k).collect();
    let kind = t.req_string("kind", diags)?;
    let min_build = t
        .int("min_build", diags)
        .and_then(|v| u32::try_from(v.value).ok());
    let max_build = t
        .int("max_build", diags)
        .and_then(|v| u32::try_from(v.value).ok());
    let when = t.string("when", diags);
    let setting_roles = enum_list(&mut t, "roles", Role::from_id, &Role::ids(), diags);
    let setting_membership = enum_value(
        &mut t,
        "membership",
        taxonomy::Membership::from_id,
        &taxonomy::Membership::ids(),
        diags,
    )
    .map(|m| m.value);
    if let Some(w) = &when {
        let declared = params.iter().find(|p| p.name == w.value);
        if declared.is_none_or(|p| matches!(p.ty, ParamType::Secret)) {
            diags.push(
                Diagnostic::error(
                    Code::InvalidControl,
                    format!(
                        "`when` names `{}`, which is not a declared parameter of {control}",
                        w.value
                    ),
                )
                .at(
                    w.span,
                    "a `when` condition names a bool, list or string parameter of the control",
                ),
            );
            return None;
        }
    }
    let Some(kind_family) = setting::kind_family(&kind.value) else {
        invalid_choice("setting kind", &kind, &kinds, diags);
        return None;
    };
    let family = family?.value;
    if kind_family != family {
        diags.push(
            Diagnostic::error(
                Code::InvalidControl,
                format!(
                    "setting kind `{}` belongs to `{kind_family}`, not `{family}`",
                    kind.value
                ),
            )
            .at(kind.span, "wrong platform for this kind"),
        );
        return None;
    }
    let fields: Vec<(String, Node)> = t
        .all()
        .iter()
        .filter(|(k, _)| !SETTING_META.contains(&k.value.as_str()))
        .map(|(k, v)| (k.value.clone(), v.clone()))
        .collect();
    let mut uses = Vec::new();
    let mut ok = true;
    for (_, node) in &fields {
        collect_refs(node, &mut |name, span| {
            if !params.iter().any(|p| p.name == name) {
                ok = false;
                diags.push(
                    Diagnostic::error(
                        Code::InvalidControl,
                        format!("setting of {control} refers to undeclared parameter `{name}`"),
                    )
                    .at(span, "declare it under [control.params]"),
                );
            } else if !uses.iter().any(|u| u == name) {
                uses.push(name.to_string());
            }
        });
    }
    if !ok {
        return None;
    }
    if let Some(w) = &when {
        if !uses.contains(&w.value) {
            uses.push(w.value.clone());
        }
    }
    let template = SettingTemplate {
        span: node.span,
        family,
        kind: kind.value.clone(),
        min_build,
        max_build,
        when: when.map(|w| w.value),
        roles: setting_roles,
        membership: setting_membership,
        fields,
        uses,
    };
    // Type-check now with defaults or sample values, so catalog errors surface without a profile.
    let sample = |name: &str| {
        params
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.default.clone().unwrap_or_else(|| p.ty.sample()))
    };
    if let Err(e) = template.instantiate(&sample) {
        diags.push(
            Diagnostic::error(
                Code::InvalidControl,
                format!("invalid `{}` setting in {control}: {e}", kind.value),
            )
            .at(kind.span, "in this setting"),
        );
        return None;
    }
    Some(template)
}

fn raw_value(node: &Node) -> String {
    match &node.value {
        Value::String(s) => format!("{s:?}"),
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::Date(d) => d.to_string(),
        Value::Datetime(d) => d.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(raw_value).collect::<Vec<_>>().join(", ")
        ),
        Value::Table(entries) => format!(
            "{{ {} }}",
            entries
                .iter()
                .map(|(k, v)| format!("{} = {}", k.value, raw_value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Calls `f` for every `${name}` reference in string values under `node`.
fn collect_refs(node: &Node, f: &mut dyn FnMut(&str, Span)) {
    match &node.value {
        Value::String(s) => {
            for name in refs_in(s) {
                f(name, node.span);
            }
        }
        Value::Array(items) => items.iter().for_each(|n| collect_refs(n, f)),
        Value::Table(entries) => entries.iter().for_each(|(_, n)| collect_refs(n, f)),
        _ => {}
    }
}

fn refs_in(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                out.push(&after[..end]);
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// Converts a template node to JSON, expanding `${name}` references.
fn substitute(
    node: &Node,
    value_of: &dyn Fn(&str) -> Option<ParamValue>,
) -> Result<serde_json::Value, String> {
    Ok(match &node.value {
        Value::String(s) => {
            let refs = refs_in(s);
            if refs.len() == 1 && s.len() == refs[0].len() + 3 {
                let name = refs[0];
                let v = value_of(name).ok_or_else(|| format!("parameter `{name}` has no value"))?;
                v.to_json(name)
            } else {
                let mut out = s.clone();
                for name in refs {
                    let v =
                        value_of(name).ok_or_else(|| format!("parameter `{name}` has no value"))?;
                    let text = v
                        .to_text()
                        .ok_or_else(|| format!("parameter `{name}` is a list or a secret and cannot be part of a longer string"))?;
                    out = out.replace(&format!("${{{name}}}"), &text);
                }
                serde_json::Value::String(out)
            }
        }
        Value::Integer(i) => serde_json::Value::from(*i),
        Value::Float(f) => serde_json::Value::from(*f),
        Value::Boolean(b) => serde_json::Value::Bool(*b),
        Value::Date(d) => serde_json::Value::String(d.to_string()),
        Value::Datetime(d) => serde_json::Value::String(d.clone()),
        Value::Array(items) => {
            let mut out = Vec::new();
            for item in items {
                match substitute(item, value_of)? {
                    // A list parameter inside an array is spliced in.
                    serde_json::Value::Array(inner) if matches!(item.value, Value::String(_)) => {
                        out.extend(inner)
                    }
                    v => out.push(v),
                }
            }
            serde_json::Value::Array(out)
        }
        Value::Table(entries) => {
            let mut map = serde_json::Map::new();
            for (k, v) in entries {
                map.insert(k.value.clone(), substitute(v, value_of)?);
            }
            serde_json::Value::Object(map)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in catalog loads without a single diagnostic.
    #[test]
    fn builtin_catalog_is_clean() {
        let mut sources = SourceMap::new();
        let mut diags = Diagnostics::new();
        let catalog = Catalog::load(&mut sources, true, &[], &mut diags);
        let mut out = codespan_reporting::term::termcolor::NoColor::new(Vec::new());
        diags.render_text(&sources, &mut out).unwrap();
        let text = String::from_utf8(out.into_inner()).unwrap();
        assert!(diags.is_empty(), "{text}");
        assert!(!catalog.controls.is_empty());
    }
}

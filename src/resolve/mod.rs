//! Resolution: a profile file, the layers it extends and the role baseline → [`DesiredState`].
//!
//! The steps, each pushing every problem it finds into the diagnostics sink:
//!
//! 1. [`chain`]: load the profile and its `extends` layers (any depth), parents first,
//!    reporting cycles and missing files at the `extends` entry;
//! 2. merge the layers (a later layer wins, and the earlier value is kept for notes);
//! 3. select the controls: the role baseline for the platform family and tiers,
//!    plus `include`, minus `exclude` (which needs a waiver);
//! 4. check waivers (expiry as of `--at`) and attestations;
//! 5. type-check parameters and find missing required ones and unwaived weakening;
//! 6. instantiate every setting with the parameter values and find conflicts;
//! 7. refuse lockdowns that break the terminal ([`flows`], [`lockdown`]).

pub mod chain;
pub mod flows;
pub mod lockdown;
pub mod network_consistency;
mod prerequisites;
pub mod signing;
mod unattended;

use std::collections::BTreeMap;
use std::path::Path;

use crate::catalog::param::{ParamType, ParamValue};
use crate::catalog::setting::SettingKind;
use crate::catalog::taxonomy::{self, Category, Family, Role, Tier};
use crate::catalog::{report_param_error, Catalog, Control};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::document::{Date, Node};
use crate::load::profile::{Attestation, Layer, Waiver, WaiverScope};
use crate::model::{
    ControlState, ControlStatus, DesiredSetting, DesiredState, ParamState, ProfileInfo,
};
use crate::source::{SourceMap, Sp, Span};

pub use chain::{load_chain, Chain};

/// How to resolve.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Waivers are evaluated as of this day.
    pub at: Date,
    /// Auditing, not building: an expired waiver is a finding (a warning, and the control is
    /// marked) instead of an error that stops resolution.
    pub expired_waivers_are_findings: bool,
}

/// A value from some layer, with the layers that set it before.
struct Merged<T> {
    value: T,
    earlier: Vec<Span>,
}

fn merge_scalar<T: Clone>(slot: &mut Option<Merged<Sp<T>>>, value: &Option<Sp<T>>) {
    if let Some(v) = value {
        let earlier = slot
            .take()
            .map(|m| {
                let mut e = m.earlier;
                e.push(m.value.span);
                e
            })
            .unwrap_or_default();
        *slot = Some(Merged {
            value: v.clone(),
            earlier,
        });
    }
}

/// Resolves one profile. Returns `None` if it produced any error.
pub fn resolve(
    path: &Path,
    catalog: &Catalog,
    sources: &mut SourceMap,
    options: &Options,
    diags: &mut Diagnostics,
) -> Option<DesiredState> {
    let before = diags.error_count();
    let chain = load_chain(path, sources, diags)?;
    let state = resolve_chain(&chain, catalog, sources, options, diags);
    if diags.error_count() > before {
        None
    } else {
        state
    }
}

fn resolve_chain(
    chain: &Chain,
    catalog: &Catalog,
    sources: &SourceMap,
    options: &Options,
    diags: &mut Diagnostics,
) -> Option<DesiredState> {
    let layers = &chain.layers;
    let leaf = layers.last()?;
    // A note for problems found in a parent layer: where the profile pulled it in.
    let via = |layer: usize| -> Option<Span> { chain.via[layer] };

    // ---- merge
    let mut role = None;
    let mut platform = None;
    let mut membership = None;
    let mut tiers = None;
    let mut description = None;
    let mut signing = None;
    let mut params: BTreeMap<String, Vec<(Sp<String>, Node, usize)>> = BTreeMap::new();
    let mut waivers: BTreeMap<String, (Waiver, usize)> = BTreeMap::new();
    let mut attestations: BTreeMap<String, (Attestation, usize)> = BTreeMap::new();
    let mut include = Vec::new();
    let mut exclude = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        merge_scalar(&mut role, &layer.role);
        merge_scalar(&mut platform, &layer.platform);
        merge_scalar(&mut membership, &layer.membership);
        merge_scalar(&mut tiers, &layer.tiers);
        merge_scalar(&mut description, &layer.description);
        merge_scalar(&mut signing, &layer.signing);
        for (k, v) in &layer.params {
            params
                .entry(k.value.clone())
                .or_default()
                .push((k.clone(), v.clone(), i));
        }
        for w in &layer.waivers {
            waivers.insert(w.control.value.clone(), (w.clone(), i));
        }
        for a in &layer.attestations {
            attestations.insert(a.control.value.clone(), (a.clone(), i));
        }
        include.extend(layer.include.iter().cloned());
        exclude.extend(layer.exclude.iter().cloned());
    }

    // ---- identity
    let mut ok = true;
    let role = match role {
        None => {
            missing_profile_key(leaf, "role", &Role::ids(), diags);
            ok = false;
            None
        }
        Some(m) => match Role::from_id(&m.value.value) {
            Some(r) => Some((r, m.value.span)),
            None => {
                crate::catalog::invalid_choice("role", &m.value, &Role::ids(), diags);
                ok = false;
                None
            }
        },
    };
    let platform = match platform {
        None => {
            missing_profile_key(leaf, "platform", &taxonomy::platform_ids(), diags);
            ok = false;
            None
        }
        Some(m) => match taxonomy::platform(&m.value.value) {
            Some(p) => Some((p, m.value.span)),
            None => {
                crate::catalog::invalid_choice(
                    "platform",
                    &m.value,
                    &taxonomy::platform_ids(),
                    diags,
                );
                ok = false;
                None
            }
        },
    };
    // Without a role and platform no control can be selected, but everything else is still checked.
    let identity = match (role, platform) {
        (Some((role, role_span)), Some((platform, platform_span))) => {
            if !platform.roles.contains(&role) {
                let fitting: Vec<&str> = taxonomy::PLATFORMS
                    .iter()
                    .filter(|p| p.roles.contains(&role))
                    .map(|p| p.id)
                    .collect();
                diags.push(
                    Diagnostic::error(
                        Code::InvalidProfile,
                        format!(
                            "a {} cannot run on {}",
                            role.name(taxonomy::Lang::En),
                            platform.name
                        ),
                    )
                    .at(
                        platform_span,
                        format!("platforms for {role}: {}", fitting.join(", ")),
                    )
                    .also(role_span, "the role is set here"),
                );
                ok = false;
            }
            Some((role, platform))
        }
        _ => None,
    };
    let membership = membership.map(|m| m.value.value);
    if identity.is_some_and(|(_, p)| p.family == Family::Windows) && membership.is_none() {
        diags.push(
            Diagnostic::error(
                Code::MissingKey,
                format!("missing key `membership` in [profile] of {}", sources.name(leaf.file)),
            )
            .at(leaf.header, "a Windows profile must say `membership = \"workgroup\"` or `\"domain\"`")
            .note("membership decides how policy is delivered, where time comes from and how logs are forwarded"),
        );
        ok = false;
    }
    let tiers = tiers
        .map(|t| t.value.value)
        .unwrap_or_else(|| Tier::ALL.to_vec());
    let name = leaf
        .name
        .as_ref()
        .map(|n| n.value.clone())
        .unwrap_or_else(|| {
            leaf.path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "profile".into())
        });
    if let Some(n) = &leaf.name {
        if n.value.is_empty()
            || !n
                .value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        {
            diags.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!(
                        "profile name `{}` is not usable as a folder name",
                        n.value.escape_debug()
                    ),
                )
                .at(n.span, "use letters, digits, `-`, `_` and `.`"),
            );
            ok = false;
        }
    }

    // ---- select controls
    let family = identity.map(|(_, p)| p.family);
    let mut selected: BTreeMap<String, Option<Span>> = catalog
        .controls
        .values()
        .filter(|c| {
            !c.include_only
                && identity.is_some_and(|(role, p)| {
                    c.roles.contains(&role) && c.claims(p.family) && tiers.contains(&c.tier)
                })
        })
        .map(|c| (c.id.clone(), None))
        .collect();
    for inc in &include {
        match (catalog.get(&inc.value), family) {
            (None, _) => unknown_control(catalog, inc, "include", diags),
            (Some(_), None) => {}
            (Some(c), Some(family)) if !c.claims(family) => diags.push(
                Diagnostic::error(
                    Code::InvalidProfile,
                    format!(
                        "control {} has no settings for {family} and cannot be included",
                        c.id
                    ),
                )
                .at(
                    inc.span,
                    format!(
                        "{} claims: {}",
                        c.id,
                        c.platforms
                            .iter()
                            .map(|f| f.id())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
            ),
            (Some(c), Some(_)) => {
                selected.entry(c.id.clone()).or_insert(Some(inc.span));
            }
        }
    }
    // ---- waivers
    for (id, (w, layer)) in &waivers {
        let mut d = None;
        if catalog.get(id).is_none() {
            unknown_control(catalog, &w.control, "waiver", diags);
            continue;
        }
        if w.expires.value < options.at {
            let severity = if options.expired_waivers_are_findings {
                Diagnostic::warning
            } else {
                Diagnostic::error
            };
            d = Some(
                severity(
                    Code::ExpiredWaiver,
                    format!("the waiver for {id} expired on {}", w.expires.value),
                )
                .at(w.expires.span, format!("expired; evaluated as of {}", options.at))
                .note(format!(
                    "renew the waiver (ticket {}) or remove the exclusion; `--at DATE` evaluates as of another day",
                    w.ticket
                )),
            );
        } else if let Some((role, platform)) = identity.filter(|_| !selected.contains_key(id)) {
            d = Some(
                Diagnostic::warning(
                    Code::UnusedEntry,
                    format!("waiver for {id}, which is not part of this profile"),
                )
                .at(
                    w.control.span,
                    format!("{id} does not apply to a {role} on {}", platform.id),
                ),
            );
        }
        if let Some(mut d) = d {
            if let Some(v) = via(*layer) {
                d = d.also(v, "the layer with this waiver is extended here");
            }
            diags.push(d);
        }
    }
    let waiver_for = |id: &str, scope: WaiverScope| -> Option<&Waiver> {
        waivers.get(id).map(|(w, _)| w).filter(|w| w.scope == scope)
    };
    let mut excluded: BTreeMap<String, Span> = BTreeMap::new();
    for exc in &exclude {
        if catalog.get(&exc.value).is_none() {
            unknown_control(catalog, exc, "exclude", diags);
            continue;
        }
        if identity.is_none() {
            continue;
        }
        if !selected.contains_key(&exc.value) {
            diags.push(
                Diagnostic::warning(
                    Code::UnusedEntry,
                    format!("{} is excluded but is not part of this profile", exc.value),
                )
                .at(exc.span, "nothing to exclude"),
            );
            continue;
        }
        if waiver_for(&exc.value, WaiverScope::Exclude).is_none() {
            diags.push(
                Diagnostic::error(
                    Code::UnwaivedExclusion,
                    format!("control {} is excluded without a waiver", exc.value),
                )
                .at(exc.span, "excluding a control needs a waiver")
                .note(format!(
                    "add [waivers.\"{}\"] with reason, approved_by, ticket, scope = \"exclude\", compensating_control and expires",
                    exc.value
                )),
            );
        }
        excluded.insert(exc.value.clone(), exc.span);
    }
    for (id, (a, layer)) in &attestations {
        match catalog.get(id) {
            None => unknown_control(catalog, &a.control, "attestation", diags),
            Some(c) => {
                let problem = if identity.is_none() {
                    None
                } else if !selected.contains_key(id) {
                    Some(format!("{id} is not part of this profile"))
                } else if !c.is_manual() {
                    Some(format!(
                        "{id} has machine settings; hardbase checks it and needs no attestation"
                    ))
                } else {
                    None
                };
                if let Some(message) = problem {
                    let mut d = Diagnostic::warning(
                        Code::UnusedEntry,
                        format!("attestation has no effect: {message}"),
                    )
                    .at(a.control.span, "unused attestation");
                    if let Some(v) = via(*layer) {
                        d = d.also(v, "the layer with this attestation is extended here");
                    }
                    diags.push(d);
                }
            }
        }
    }

    // ---- parameters
    let active: Vec<&Control> = selected
        .keys()
        .filter(|id| !excluded.contains_key(*id))
        .filter_map(|id| catalog.get(id))
        .collect();
    let mut values: BTreeMap<String, (ParamValue, Span)> = BTreeMap::new();
    // Parameters whose profile value was rejected: settings and flows using them are skipped,
    // so one bad value gives one error, not a cascade of follow-on errors.
    let mut invalid: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for (name, entries) in &params {
        let (key, node, layer) = entries.last().expect("at least one entry");
        let Some((_, decl)) = catalog.param_decl(name) else {
            let mut names: Vec<&str> = catalog
                .controls
                .values()
                .flat_map(|c| c.params.iter().map(|p| p.name.as_str()))
                .collect();
            names.sort();
            names.dedup();
            let mut d =
                Diagnostic::error(Code::UnknownParam, format!("unknown parameter `{name}`"))
                    .at(key.span, "no control declares this parameter");
            if let Some(best) = similar::get_close_matches(name.as_str(), &names, 1, 0.6).first() {
                d = d.note(format!("help: did you mean `{best}`?"));
            }
            if let Some(v) = via(*layer) {
                d = d.also(v, "the layer setting it is extended here");
            }
            diags.push(d);
            continue;
        };
        if decl.ty == ParamType::Secret {
            diags.push(
                Diagnostic::error(
                    Code::SecretInProfile,
                    format!("parameter `{name}` is a secret and must not have a value in a profile"),
                )
                .at(node.span, "remove this value")
                .note("secrets are supplied when Apply runs and are never written into a profile, a manifest or a log"),
            );
            continue;
        }
        match decl.ty.check(node) {
            Ok(v) => {
                values.insert(name.clone(), (v, node.span));
            }
            Err(e) => {
                let related = if entries.len() > 1 {
                    let (_, earlier, _) = &entries[entries.len() - 2];
                    Some((
                        earlier.span,
                        "a parent layer sets it here; this profile overrides it".to_string(),
                    ))
                } else {
                    via(*layer).map(|v| (v, "the layer setting it is extended here".to_string()))
                };
                report_param_error(name, e, related, diags);
                invalid.insert(name.clone());
            }
        }
    }
    let mut param_states: BTreeMap<String, ParamState> = BTreeMap::new();
    for control in &active {
        for decl in &control.params {
            let entry = param_states.entry(decl.name.clone()).or_insert_with(|| {
                let (value, origin) = match (values.get(&decl.name), &decl.default, decl.ty) {
                    (_, _, ParamType::Secret) => (ParamValue::Secret, None),
                    (Some((v, span)), _, _) => (v.clone(), Some(*span)),
                    (None, Some(d), _) => (d.clone(), None),
                    (None, None, _) => (ParamValue::List(Vec::new()), None),
                };
                ParamState {
                    name: decl.name.clone(),
                    ty: decl.ty,
                    value,
                    origin,
                    used_by: Vec::new(),
                }
            });
            entry.used_by.push(control.id.clone());
        }
    }
    let mut missing: BTreeMap<String, Vec<&Control>> = BTreeMap::new();
    for control in &active {
        for decl in &control.params {
            if decl.required()
                && !values.contains_key(&decl.name)
                && !params.contains_key(&decl.name)
            {
                missing.entry(decl.name.clone()).or_default().push(control);
            }
        }
    }
    for (name, controls) in &missing {
        let decl = controls[0].param(name).expect("declared");
        let ids: Vec<&str> = controls.iter().map(|c| c.id.as_str()).collect();
        let files: Vec<&str> = layers.iter().map(|l| sources.name(l.file)).collect();
        diags.push(
            Diagnostic::error(
                Code::MissingParam,
                format!("missing required parameter `{name}`"),
            )
            .at(
                leaf.header,
                format!("this profile needs `{name}` ({})", decl.ty.describe()),
            )
            .also(
                decl.span,
                format!("declared by {}: {}", controls[0].id, decl.description),
            )
            .note(format!("required by {}", ids.join(", ")))
            .note(format!(
                "set it under [params] in one of: {}",
                files.join(", ")
            )),
        );
    }
    let mut weakened: BTreeMap<String, ()> = BTreeMap::new();
    for control in &active {
        for decl in &control.params {
            let Some((value, span)) = values.get(&decl.name) else {
                continue;
            };
            let Some(why) = decl.weakens(value) else {
                continue;
            };
            if waiver_for(&control.id, WaiverScope::Weaken).is_some() {
                weakened.insert(control.id.clone(), ());
            } else {
                diags.push(
                    Diagnostic::error(
                        Code::UnwaivedWeakening,
                        format!(
                            "parameter `{}` weakens control {} without a waiver",
                            decl.name, control.id
                        ),
                    )
                    .at(*span, why)
                    .also(decl.span, "the baseline is declared here")
                    .note(format!(
                        "add [waivers.\"{}\"] with scope = \"weaken\", or keep the baseline value",
                        control.id
                    )),
                );
            }
        }
    }
    // ---- waivers that do nothing: a waiver only justifies an exclusion or a weakening
    if identity.is_some() {
        for (id, (w, layer)) in &waivers {
            if !selected.contains_key(id) || w.expires.value < options.at {
                continue;
            }
            let message = match w.scope {
                WaiverScope::Exclude if !excluded.contains_key(id) => {
                    format!("the waiver for {id} has scope \"exclude\", but {id} is not excluded; add it to `exclude` in [profile]")
                }
                WaiverScope::Weaken if !weakened.contains_key(id) => {
                    format!(
                        "the waiver for {id} has scope \"weaken\", but no parameter weakens {id}"
                    )
                }
                _ => continue,
            };
            let mut d = Diagnostic::warning(Code::UnusedEntry, message)
                .at(w.control.span, "this waiver has no effect");
            if let Some(v) = via(*layer) {
                d = d.also(v, "the layer with this waiver is extended here");
            }
            diags.push(d);
        }
    }

    // ---- settings
    let value_of = |name: &str| param_states.get(name).map(|p| p.value.clone());
    let mut states = Vec::new();
    let mut targets: BTreeMap<String, (String, Span, String)> = BTreeMap::new();
    for (id, included_by) in &selected {
        let Some(control) = catalog.shared(id) else {
            continue;
        };
        let waiver = waivers.get(id).map(|(w, _)| w.clone());
        let attestation = attestations.get(id).map(|(a, _)| a.clone());
        let status = if excluded.contains_key(id) {
            ControlStatus::Excluded
        } else if control.is_manual() {
            ControlStatus::Manual
        } else if weakened.contains_key(id) {
            ControlStatus::Weakened
        } else {
            ControlStatus::Enforced
        };
        let mut settings = Vec::new();
        if status != ControlStatus::Excluded {
            for template in &control.settings {
                let Some((role, platform)) = identity else {
                    continue;
                };
                if template.uses.iter().any(|u| invalid.contains(u)) {
                    continue;
                }
                if template.family != platform.family
                    || !template.applies_to(role, membership)
                    || !template.applies_to_build(platform.build)
                    || !template.enabled(&value_of)
                {
                    continue;
                }
                match template.instantiate(&value_of) {
                    Ok(mut kind) => {
                        if let SettingKind::WdacPolicy(w) = &mut kind {
                            // The customer's compiled policy is an input: find it beside the
                            // file that named it, so the build can ship it and hash it.
                            let origin =
                                param_states.get("wdac_policy_file").and_then(|p| p.origin);
                            let base = origin.map(|o| o.file).unwrap_or(leaf.file);
                            let dir = std::path::Path::new(sources.name(base))
                                .parent()
                                .map(std::path::Path::to_path_buf)
                                .unwrap_or_default();
                            let path = chain::normalize(&dir.join(&w.policy_file));
                            if !path.is_file() {
                                let d = Diagnostic::error(
                                    Code::InvalidValue,
                                    format!("the WDAC policy file {} does not exist", chain::display_name(&path)),
                                )
                                .note("`wdac_policy_file` is relative to the file that sets it; compile the policy (ConvertFrom-CIPolicy) or exclude the control under a waiver until it exists");
                                diags.push(match origin {
                                    Some(span) => d.at(span, "no such file"),
                                    None => d.at(template.span, "no such file"),
                                });
                                continue;
                            }
                            w.policy_file = chain::display_name(&path);
                        }
                        let target = kind.target();
                        let value_text = kind.value_text();
                        // The same value from two controls is fine: each control keeps its
                        // setting (its criterion needs it) and emitters write it once.
                        if let Some((other, other_span, other_value)) = targets.get(&target) {
                            if *other_value != value_text {
                                diags.push(
                                    Diagnostic::error(
                                        Code::ConflictingSettings,
                                        format!("controls {other} and {id} set {target} to different values"),
                                    )
                                    .at(template.span, format!("{id} sets: {}", kind.summary()))
                                    .also(*other_span, format!("{other} sets it here"))
                                    .note("exclude one of the controls under a waiver, or give them parameters that agree"),
                                );
                                continue;
                            }
                        } else {
                            targets.insert(target.clone(), (id.clone(), template.span, value_text));
                        }
                        let used: Vec<(String, Option<Span>)> = template
                            .uses
                            .iter()
                            .map(|u| (u.clone(), param_states.get(u).and_then(|p| p.origin)))
                            .collect();
                        settings.push(DesiredSetting {
                            control: id.clone(),
                            phase: kind.phase(),
                            reboot: kind.needs_reboot(),
                            scope: kind.scope(),
                            target,
                            kind,
                            min_build: template.min_build,
                            max_build: template.max_build,
                            origin: template.span,
                            params: used,
                        });
                    }
                    Err(message) => {
                        // Blame the profile value without which the setting would be valid.
                        let culprit = template.uses.iter().find(|u| {
                            param_states.get(*u).is_some_and(|p| p.origin.is_some())
                                && template
                                    .instantiate(&|name: &str| {
                                        if name == u.as_str() {
                                            catalog.param_decl(name).map(|(_, d)| {
                                                d.default.clone().unwrap_or_else(|| d.ty.sample())
                                            })
                                        } else {
                                            value_of(name)
                                        }
                                    })
                                    .is_ok()
                        });
                        let origin = culprit
                            .or_else(|| {
                                template.uses.iter().find(|u| {
                                    param_states.get(*u).is_some_and(|p| p.origin.is_some())
                                })
                            })
                            .and_then(|u| param_states.get(u).and_then(|p| p.origin));
                        let d = Diagnostic::error(
                            Code::InvalidValue,
                            format!("control {id} cannot use the profile's parameters: {message}"),
                        );
                        let d = match origin {
                            Some(span) => d
                                .at(span, "this value")
                                .also(template.span, "in this setting"),
                            None => d.at(template.span, "in this setting"),
                        };
                        diags.push(d);
                    }
                }
            }
        }
        // A control none of whose settings applies to this machine (another build, role or
        // membership, or a setting switched off by its parameter) enforces nothing here: it is
        // checked by evidence like a manual control, never reported compliant without evidence.
        let status = if status == ControlStatus::Enforced && settings.is_empty() {
            ControlStatus::Manual
        } else {
            status
        };
        let waiver_expired = waiver
            .as_ref()
            .is_some_and(|w| w.expires.value < options.at);
        // A resolved state is held until its profile is built: without the room left by growing.
        settings.shrink_to_fit();
        states.push(ControlState {
            control: std::sync::Arc::clone(control),
            status,
            waiver,
            waiver_expired,
            attestation,
            settings,
            included_by: *included_by,
        });
    }
    states.shrink_to_fit();
    states.sort_by(|a, b| {
        (category_rank(a.control.category), &a.control.id)
            .cmp(&(category_rank(b.control.category), &b.control.id))
    });
    // ---- flows: the role's network paths must survive its own default-deny
    let flow_value = |name: &str| -> Option<ParamValue> {
        if invalid.contains(name) {
            return None;
        }
        values.get(name).map(|(v, _)| v.clone()).or_else(|| {
            catalog
                .param_decl(name)
                .and_then(|(_, d)| d.default.clone())
        })
    };
    let flow_instances: Vec<_> = identity
        .map(|(role, platform)| {
            catalog
                .flows
                .values()
                .filter(|f| f.roles.contains(&role))
                .filter(|f| f.platforms.is_empty() || f.platforms.contains(&platform.family))
                .filter_map(|f| f.instantiate(&flow_value))
                .collect()
        })
        .unwrap_or_default();
    // With a rejected value some allow rules were skipped: the guard would only add noise.
    if invalid.is_empty() {
        flows::check(&flow_instances, &states, leaf.header, diags);
        flows::check_event_forwarding(&flow_instances, &states, diags);
    }
    if identity.is_some_and(|(_, p)| p.family == Family::Windows) {
        let workgroup = membership != Some(crate::catalog::taxonomy::Membership::Domain);
        flows::check_admin_path(&flow_instances, &states, workgroup, leaf.header, diags);
    }
    lockdown::check(&states, &param_states, diags);
    lockdown::check_kiosk(&states, identity.map(|(_, p)| p), diags);
    let signing = signing.map(|s| s.value.value);
    signing::check(&states, signing.as_ref(), diags);
    unattended::check(&states, identity.map(|(r, _)| r), diags);
    prerequisites::check(&states, diags);
    let (role, platform) = identity.filter(|_| ok)?;
    Some(DesiredState {
        profile: ProfileInfo {
            name,
            description: description.map(|d| d.value.value),
            role,
            platform,
            membership,
            tiers,
            signing,
            layers: layers
                .iter()
                .map(|l| sources.name(l.file).to_string())
                .collect(),
            span: leaf.header,
        },
        controls: states,
        params: param_states.into_values().collect(),
        set_params: values.into_iter().map(|(k, (v, _))| (k, v)).collect(),
        flows: flow_instances,
        evaluated_at: options.at,
    })
}

fn category_rank(c: Category) -> usize {
    Category::ALL
        .iter()
        .position(|x| *x == c)
        .unwrap_or(usize::MAX)
}

fn missing_profile_key(leaf: &Layer, key: &str, allowed: &[&str], diags: &mut Diagnostics) {
    diags.push(
        Diagnostic::error(
            Code::MissingKey,
            format!("missing key `{key}` in [profile]"),
        )
        .at(
            leaf.header,
            format!("the profile or a layer it extends must set `{key}`"),
        )
        .note(format!("expected one of: {}", allowed.join(", "))),
    );
}

fn unknown_control(catalog: &Catalog, id: &Sp<String>, context: &str, diags: &mut Diagnostics) {
    let mut d = Diagnostic::error(
        Code::UnknownControl,
        format!("unknown control `{}` in {context}", id.value),
    )
    .at(id.span, "no control has this id");
    if let Some(best) = catalog.suggest(&id.value) {
        d = d.note(format!("help: did you mean `{best}`?"));
    } else {
        d = d.note("`hardbase list controls` shows every control");
    }
    diags.push(d);
}

/// For unit tests: what resolving the example bank's profiles as of 2026-11-27 takes — the
/// built-in catalog, its sources, the diagnostics, the options and the examples folder.
#[cfg(test)]
pub(crate) fn example_resolver() -> (
    Catalog,
    crate::source::SourceMap,
    Diagnostics,
    Options,
    std::path::PathBuf,
) {
    let mut sources = crate::source::SourceMap::new();
    let mut diags = Diagnostics::new();
    let catalog = Catalog::load(&mut sources, true, &[], &mut diags);
    let options = Options {
        at: crate::load::document::Date::parse("2026-11-27").unwrap(),
        expired_waivers_are_findings: false,
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/regional-bank");
    (catalog, sources, diags, options, dir)
}

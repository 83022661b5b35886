//! `hardbase schema`: the JSON Schema (draft-07) of the profile format.
//!
//! Generated from the same vocabularies and parameter declarations the
//! loader uses, so an editor flags an unknown key, a misspelt role or a port
//! written as a string while the file is being typed. TOML dates appear as
//! `"format": "date"` strings, which is how TOML-aware editors map them.

use serde_json::{json, Map, Value};

use crate::catalog::param::{ParamType, ScalarType};
use crate::catalog::taxonomy::{self, Membership, Role, Tier};
use crate::catalog::Catalog;
use crate::load::profile::{ATTEST_KEYS, PROFILE_KEYS, WAIVER_KEYS};

fn scalar_schema(t: ScalarType) -> Value {
    match t {
        ScalarType::String => json!({ "type": "string", "minLength": 1 }),
        ScalarType::Int => json!({ "type": "integer" }),
        ScalarType::Port => json!({ "type": "integer", "minimum": 1, "maximum": 65535 }),
        ScalarType::Ipv4 => json!({ "type": "string", "format": "ipv4" }),
        ScalarType::Ipv6 => json!({ "type": "string", "format": "ipv6" }),
        ScalarType::Ip => {
            json!({ "type": "string", "anyOf": [{ "format": "ipv4" }, { "format": "ipv6" }] })
        }
        ScalarType::Cidr => json!({ "type": "string", "pattern": "^[0-9A-Fa-f:.]+/[0-9]{1,3}$" }),
        ScalarType::Address => {
            json!({ "type": "string", "pattern": "^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$" })
        }
        ScalarType::Bool => json!({ "type": "boolean" }),
        ScalarType::Guid => {
            json!({ "type": "string", "pattern": "^\\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\\}?$" })
        }
    }
}

fn param_schema(ty: ParamType, description: &str) -> Value {
    let mut schema = match ty {
        ParamType::Scalar(t) => scalar_schema(t),
        ParamType::List(t) => json!({ "type": "array", "items": scalar_schema(t) }),
        ParamType::Secret => json!({ "not": {}, "description": "" }),
    };
    let text = if ty == ParamType::Secret {
        format!("{description} (secret: supplied at apply time, never in a profile)")
    } else {
        format!("{description} ({})", ty.id())
    };
    schema["description"] = Value::String(text);
    schema
}

fn enum_of(ids: Vec<&str>) -> Value {
    json!({ "type": "string", "enum": ids })
}

fn closed(properties: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "additionalProperties": false, "properties": properties, "required": required })
}

/// The schema, with every parameter the catalog declares.
pub fn profile_schema(catalog: &Catalog) -> Value {
    let mut params = Map::new();
    for control in catalog.controls.values() {
        for p in &control.params {
            params
                .entry(p.name.clone())
                .or_insert_with(|| param_schema(p.ty, &p.description));
        }
    }
    let control_ids: Vec<&str> = catalog.controls.keys().map(String::as_str).collect();
    let control_list =
        json!({ "type": "array", "items": enum_of(control_ids.clone()), "uniqueItems": true });
    let text = json!({ "type": "string", "minLength": 1 });
    let date = json!({ "type": "string", "format": "date" });
    let profile = closed(
        json!({
            "name": { "type": "string", "pattern": "^[A-Za-z0-9._-]+$", "description": "Profile name; the output folder's name. Defaults to the file name." },
            "description": { "type": "string" },
            "role": enum_of(Role::ids()),
            "platform": enum_of(taxonomy::platform_ids()),
            "membership": enum_of(Membership::ids()),
            "extends": { "type": "array", "items": { "type": "string" }, "description": "Layers this profile builds on, relative to this file; later entries win." },
            "tiers": { "type": "array", "items": enum_of(Tier::ids()), "uniqueItems": true },
            "include": control_list,
            "exclude": control_list,
        }),
        &[],
    );
    debug_assert_eq!(
        profile["properties"].as_object().map(|o| o.len()),
        Some(PROFILE_KEYS.len())
    );
    let waiver = closed(
        json!({
            "reason": text, "approved_by": text, "ticket": text,
            "scope": enum_of(vec!["exclude", "weaken"]),
            "compensating_control": text,
            "expires": date,
        }),
        WAIVER_KEYS,
    );
    let attest = closed(
        json!({ "by": text, "on": date, "evidence": { "type": "string" } }),
        &ATTEST_KEYS[..2],
    );
    let keyed = |schema: Value| {
        json!({
            "type": "object",
            "propertyNames": enum_of(control_ids.clone()),
            "additionalProperties": schema,
        })
    };
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://hardbase.invalid/schema/profile.json",
        "title": "hardbase profile",
        "description": "A hardening profile (or a layer other profiles extend).",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "profile": profile,
            "params": { "type": "object", "additionalProperties": false, "properties": Value::Object(params) },
            "waivers": keyed(waiver),
            "attest": keyed(attest),
            "signing": closed(
                json!({
                    "method": enum_of(crate::load::profile::SigningMethod::IDS.to_vec()),
                    "certificate_thumbprint": { "type": "string", "pattern": "^[0-9A-Fa-f]{40}$" },
                    "timestamp_server": { "type": "string", "pattern": "^https?://[^\\s'\"`$<>\\\\]+$" },
                }),
                &["method"],
            ),
        },
    })
}

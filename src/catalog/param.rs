//! Typed parameters: the values a profile supplies to the controls that declare them.
//!
//! A control declares each parameter it uses with a type and a default or
//! `required = true`. Profile values are checked against that type here, so a
//! mistyped address is reported at the profile line rather than surfacing in
//! a generated firewall rule. Values are normalized (addresses in canonical
//! form) so that output is byte-identical however the user spelled them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use crate::load::document::{Node, Value};

/// The scalar types a parameter (or a list element) can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScalarType {
    String,
    Int,
    Port,
    Ipv4,
    Ipv6,
    /// An IPv4 or IPv6 address.
    Ip,
    /// A network in CIDR notation, host bits zero.
    Cidr,
    /// An address or a CIDR network.
    Address,
    Bool,
    /// A GUID in braces, such as a WDAC policy id.
    Guid,
}

impl ScalarType {
    const ALL: [ScalarType; 10] = [
        ScalarType::String,
        ScalarType::Int,
        ScalarType::Port,
        ScalarType::Ipv4,
        ScalarType::Ipv6,
        ScalarType::Ip,
        ScalarType::Cidr,
        ScalarType::Address,
        ScalarType::Bool,
        ScalarType::Guid,
    ];

    pub fn id(self) -> &'static str {
        match self {
            ScalarType::String => "string",
            ScalarType::Int => "int",
            ScalarType::Port => "port",
            ScalarType::Ipv4 => "ipv4",
            ScalarType::Ipv6 => "ipv6",
            ScalarType::Ip => "ip",
            ScalarType::Cidr => "cidr",
            ScalarType::Address => "address",
            ScalarType::Bool => "bool",
            ScalarType::Guid => "guid",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            ScalarType::String => "a string",
            ScalarType::Int => "an integer",
            ScalarType::Port => "a port number (1-65535)",
            ScalarType::Ipv4 => "an IPv4 address",
            ScalarType::Ipv6 => "an IPv6 address",
            ScalarType::Ip => "an IP address",
            ScalarType::Cidr => "a network in CIDR notation",
            ScalarType::Address => "an IP address or CIDR network",
            ScalarType::Bool => "a boolean",
            ScalarType::Guid => "a GUID in braces",
        }
    }

    /// A valid value of this type, used to type-check catalog settings before any profile exists.
    fn sample(self) -> ParamValue {
        match self {
            ScalarType::String => ParamValue::String("sample".into()),
            ScalarType::Int => ParamValue::Int(1),
            ScalarType::Port => ParamValue::Int(443),
            ScalarType::Ipv4 | ScalarType::Ip | ScalarType::Address => {
                ParamValue::String("192.0.2.1".into())
            }
            ScalarType::Ipv6 => ParamValue::String("2001:db8::1".into()),
            ScalarType::Cidr => ParamValue::String("192.0.2.0/24".into()),
            ScalarType::Bool => ParamValue::Bool(true),
            ScalarType::Guid => ParamValue::String("{00000000-0000-0000-0000-000000000001}".into()),
        }
    }
}

/// The declared type of a parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    Scalar(ScalarType),
    List(ScalarType),
    /// Supplied when Apply runs; never written into any file hardbase produces.
    Secret,
}

impl ParamType {
    /// Parses `ipv4`, `ipv4[]`, `secret` ….
    pub fn parse(text: &str) -> Option<ParamType> {
        if text == "secret" {
            return Some(ParamType::Secret);
        }
        let (base, list) = match text.strip_suffix("[]") {
            Some(base) => (base, true),
            None => (text, false),
        };
        let scalar = ScalarType::ALL.into_iter().find(|t| t.id() == base)?;
        Some(if list {
            ParamType::List(scalar)
        } else {
            ParamType::Scalar(scalar)
        })
    }

    /// Every spelling `parse` accepts.
    pub fn names() -> Vec<String> {
        let mut names: Vec<String> = ScalarType::ALL.iter().map(|t| t.id().to_string()).collect();
        names.extend(ScalarType::ALL.iter().map(|t| format!("{}[]", t.id())));
        names.push("secret".into());
        names
    }

    pub fn id(self) -> String {
        match self {
            ParamType::Scalar(t) => t.id().to_string(),
            ParamType::List(t) => format!("{}[]", t.id()),
            ParamType::Secret => "secret".to_string(),
        }
    }

    pub fn describe(self) -> String {
        match self {
            ParamType::Scalar(t) => t.describe().to_string(),
            ParamType::List(t) => format!("a list of {}", plural(t)),
            ParamType::Secret => "a secret supplied at apply time".to_string(),
        }
    }

    pub fn sample(self) -> ParamValue {
        match self {
            ParamType::Scalar(t) => t.sample(),
            ParamType::List(t) => ParamValue::List(vec![t.sample()]),
            ParamType::Secret => ParamValue::Secret,
        }
    }

    /// Checks a TOML value against this type and normalizes it.
    pub fn check(self, node: &Node) -> Result<ParamValue, ParamError> {
        match self {
            ParamType::Secret => Err(ParamError::Secret),
            ParamType::Scalar(t) => check_scalar(t, node),
            ParamType::List(t) => match &node.value {
                Value::Array(items) => {
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        out.push(check_scalar(t, item)?);
                    }
                    Ok(ParamValue::List(out))
                }
                other => Err(ParamError::WrongType {
                    expected: self.describe(),
                    found: other.type_name(),
                    span: node.span,
                }),
            },
        }
    }
}

fn plural(t: ScalarType) -> &'static str {
    match t {
        ScalarType::String => "strings",
        ScalarType::Int => "integers",
        ScalarType::Port => "port numbers",
        ScalarType::Ipv4 => "IPv4 addresses",
        ScalarType::Ipv6 => "IPv6 addresses",
        ScalarType::Ip => "IP addresses",
        ScalarType::Cidr => "CIDR networks",
        ScalarType::Address => "IP addresses or CIDR networks",
        ScalarType::Bool => "booleans",
        ScalarType::Guid => "GUIDs",
    }
}

/// Why a value does not fit its parameter type.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamError {
    /// The TOML type is wrong (a string where an integer is needed …).
    WrongType {
        expected: String,
        found: &'static str,
        span: crate::source::Span,
    },
    /// The TOML type is right but the value is not allowed.
    Invalid {
        message: String,
        span: crate::source::Span,
    },
    /// Secrets never have values in profile files.
    Secret,
}

/// A checked, normalized parameter value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum ParamValue {
    String(String),
    Int(i64),
    Bool(bool),
    List(Vec<ParamValue>),
    /// A secret's placeholder: its value exists only on the machine at apply time.
    #[serde(serialize_with = "serialize_secret")]
    Secret,
}

fn serialize_secret<S: serde::Serializer>(s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("<secret: supplied at apply time>")
}

impl ParamValue {
    /// The JSON value substituted into settings.
    pub fn to_json(&self, name: &str) -> serde_json::Value {
        match self {
            ParamValue::String(s) => serde_json::Value::String(s.clone()),
            ParamValue::Int(i) => serde_json::Value::from(*i),
            ParamValue::Bool(b) => serde_json::Value::Bool(*b),
            ParamValue::List(items) => items.iter().map(|v| v.to_json(name)).collect(),
            ParamValue::Secret => serde_json::json!({ "secret": name }),
        }
    }

    /// The text form used inside a larger string, if the value has one.
    pub fn to_text(&self) -> Option<String> {
        match self {
            ParamValue::String(s) => Some(s.clone()),
            ParamValue::Int(i) => Some(i.to_string()),
            ParamValue::Bool(b) => Some(b.to_string()),
            ParamValue::List(_) | ParamValue::Secret => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            ParamValue::Int(i) => Some(*i),
            _ => None,
        }
    }
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamValue::String(s) => write!(f, "{s:?}"),
            ParamValue::Int(i) => write!(f, "{i}"),
            ParamValue::Bool(b) => write!(f, "{b}"),
            ParamValue::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            ParamValue::Secret => f.write_str("<secret: supplied at apply time>"),
        }
    }
}

fn check_scalar(t: ScalarType, node: &Node) -> Result<ParamValue, ParamError> {
    let wrong = || ParamError::WrongType {
        expected: t.describe().to_string(),
        found: node.value.type_name(),
        span: node.span,
    };
    let invalid = |message: String| ParamError::Invalid {
        message,
        span: node.span,
    };
    match t {
        ScalarType::Int => match node.value {
            Value::Integer(i) => Ok(ParamValue::Int(i)),
            _ => Err(wrong()),
        },
        ScalarType::Port => match node.value {
            Value::Integer(i) if (1..=65535).contains(&i) => Ok(ParamValue::Int(i)),
            Value::Integer(i) => Err(invalid(format!("{i} is not a port number (1-65535)"))),
            _ => Err(wrong()),
        },
        ScalarType::Bool => match node.value {
            Value::Boolean(b) => Ok(ParamValue::Bool(b)),
            _ => Err(wrong()),
        },
        ScalarType::Guid => match &node.value {
            Value::String(s) => normalize_guid(s).map(ParamValue::String).map_err(invalid),
            _ => Err(wrong()),
        },
        ScalarType::String => match &node.value {
            Value::String(s) => {
                check_text(s).map_err(invalid)?;
                Ok(ParamValue::String(s.clone()))
            }
            _ => Err(wrong()),
        },
        _ => {
            let Value::String(s) = &node.value else {
                return Err(wrong());
            };
            normalize_address(t, s)
                .map(ParamValue::String)
                .map_err(invalid)
        }
    }
}

/// Rejects text no generated artefact can carry safely: control characters and empty strings.
pub fn check_text(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("the value is empty".into());
    }
    if let Some(c) = s.chars().find(|c| c.is_control()) {
        return Err(format!(
            "the value contains the control character U+{:04X}, which no generated file can carry safely",
            c as u32
        ));
    }
    Ok(())
}

/// Checks a GUID (`{8-4-4-4-12}` hex digits, braces optional) and writes it in braces, upper case.
pub fn normalize_guid(s: &str) -> Result<String, String> {
    let inner = s
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(s);
    let ok = inner.split('-').map(str::len).eq([8, 4, 4, 4, 12])
        && inner.chars().all(|c| c == '-' || c.is_ascii_hexdigit());
    if !ok {
        return Err(format!(
            "\"{}\" is not a GUID such as {{4E7A1C52-9D3B-4F0A-8C61-2B7D5E9A0F13}}",
            s.escape_debug()
        ));
    }
    if inner.chars().all(|c| c == '0' || c == '-') {
        return Err("the all-zero GUID is a placeholder, not a policy id".into());
    }
    Ok(format!("{{{}}}", inner.to_ascii_uppercase()))
}

/// Parses and normalizes an address of the given type.
pub fn normalize_address(t: ScalarType, s: &str) -> Result<String, String> {
    let show = |s: &str| s.escape_debug().to_string();
    match t {
        ScalarType::Ipv4 => s
            .parse::<Ipv4Addr>()
            .map(|a| a.to_string())
            .map_err(|_| format!("\"{}\" is not an IPv4 address", show(s))),
        ScalarType::Ipv6 => s
            .parse::<Ipv6Addr>()
            .map(|a| a.to_string())
            .map_err(|_| format!("\"{}\" is not an IPv6 address", show(s))),
        ScalarType::Ip => s
            .parse::<IpAddr>()
            .map(|a| a.to_string())
            .map_err(|_| format!("\"{}\" is not an IP address", show(s))),
        ScalarType::Cidr => parse_cidr(s),
        ScalarType::Address => {
            if s.contains('/') {
                parse_cidr(s)
            } else {
                s.parse::<IpAddr>()
                    .map(|a| a.to_string())
                    .map_err(|_| format!("\"{}\" is not an IP address or CIDR network", show(s)))
            }
        }
        _ => Ok(s.to_string()),
    }
}

fn parse_cidr(s: &str) -> Result<String, String> {
    let bad = || {
        format!(
            "\"{}\" is not a network in CIDR notation (such as 10.20.0.0/16)",
            s.escape_debug()
        )
    };
    let (addr, len) = s.split_once('/').ok_or_else(bad)?;
    let addr: IpAddr = addr.parse().map_err(|_| bad())?;
    if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) || len.len() > 3 {
        return Err(bad());
    }
    let len: u32 = len.parse().map_err(|_| bad())?;
    let (bits, max) = match addr {
        IpAddr::V4(a) => (u128::from(u32::from(a)) << 96, 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    };
    if len > max {
        return Err(format!(
            "prefix length /{len} is longer than {max} bits in \"{s}\""
        ));
    }
    let host_mask = if len == 0 {
        u128::MAX
    } else {
        u128::MAX >> len
    };
    let host_bits = match addr {
        IpAddr::V4(_) => (bits >> 96) & (host_mask >> 96),
        IpAddr::V6(_) => bits & host_mask,
    };
    if host_bits != 0 {
        return Err(format!(
            "\"{s}\" has host bits set; write the network address (the address with all host bits zero)"
        ));
    }
    Ok(format!("{addr}/{len}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_requires_network_address() {
        assert_eq!(parse_cidr("10.20.0.0/16").unwrap(), "10.20.0.0/16");
        assert!(parse_cidr("10.20.0.1/16").is_err());
        assert!(parse_cidr("10.20.0.0/33").is_err());
        assert_eq!(parse_cidr("2001:db8::/32").unwrap(), "2001:db8::/32");
        assert!(parse_cidr("2001:db8::1/32").is_err());
        assert_eq!(parse_cidr("0.0.0.0/0").unwrap(), "0.0.0.0/0");
    }

    #[test]
    fn type_names_round_trip() {
        for name in ParamType::names() {
            assert_eq!(ParamType::parse(&name).unwrap().id(), name);
        }
        assert!(ParamType::parse("ipv5").is_none());
    }
}

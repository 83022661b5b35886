//! The usbguard rule set: `/etc/usbguard/rules.conf`, root-only 0600 (usbguard-daemon refuses
//! a rules file others can read or write).
//!
//! usbguard applies the *first* rule that matches a device, so the rules keep their declaration
//! order (controls by category and id, then the order in each control). What happens to a device
//! no rule matches is `ImplicitPolicyTarget` in usbguard-daemon.conf, not this file.
//!
//! [`check`] refuses a rule that does not start with `allow`, `block` or `reject`, that spans
//! lines, that holds a `#` (usbguard silently drops the rest of the line as a comment), a
//! backslash or unbalanced quotes or braces, or a malformed `id` (`vvvv:pppp`). The integration
//! tests run `usbguard-rule-parser` on every generated rule.

use super::InstallFile;
use crate::catalog::setting::SettingKind;
use crate::model::DesiredState;

pub const TREE_PATH: &str = "usbguard/rules.conf";
pub const TARGET: &str = "/etc/usbguard/rules.conf";

/// Set operators that may follow an attribute name.
const SET_OPERATORS: &[&str] = &[
    "all-of",
    "one-of",
    "none-of",
    "equals",
    "equals-ordered",
    "match-all",
];

/// A USB `vendor:product` ID as usbguard writes it: four hex digits each, or `*`.
fn usb_id(text: &str) -> bool {
    let hex4 = |s: &str| s.len() == 4 && s.bytes().all(|b| b.is_ascii_hexdigit());
    match text.split_once(':') {
        Some(("*", "*")) => true,
        Some((v, "*")) => hex4(v),
        Some((v, p)) => hex4(v) && hex4(p),
        None => false,
    }
}

/// Splits a rule into words, a quoted string or a `{`/`}` being one word each.
fn words(rule: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut rest = rule.trim_start();
    while !rest.is_empty() {
        let end = if let Some(quoted) = rest.strip_prefix('"') {
            quoted
                .find('"')
                .map(|i| i + 2)
                .ok_or("has an unterminated quoted string")?
        } else if rest.starts_with(['{', '}']) {
            1
        } else {
            rest.find([' ', '{', '}', '"']).unwrap_or(rest.len())
        };
        out.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    Ok(out)
}

/// Rule attributes (usbguard-rules.conf(5)).
const ATTRIBUTES: &[&str] = &[
    "id",
    "hash",
    "parent-hash",
    "name",
    "serial",
    "via-port",
    "with-interface",
    "with-connect-type",
    "label",
    "if",
];

/// Checks one usbguard rule line: `target (attribute [operator] (value | { value… }))*`.
pub fn parse_rule(rule: &str) -> Result<(), String> {
    if let Some(c) = rule
        .chars()
        .find(|c| !(c.is_ascii_graphic() || *c == ' ') || ['#', '\\'].contains(c))
    {
        return Err(format!(
            "contains {c:?}; usbguard rules are one line of printable ASCII without `#` (a comment) or backslashes"
        ));
    }
    let words = words(rule)?;
    if !matches!(words.first(), Some(&"allow" | &"block" | &"reject")) {
        return Err("must start with allow, block or reject".into());
    }
    let mut i = 1;
    while i < words.len() {
        let attribute = words[i];
        if !ATTRIBUTES.contains(&attribute) {
            return Err(format!(
                "`{attribute}` is not a usbguard rule attribute ({})",
                ATTRIBUTES.join(", ")
            ));
        }
        i += 1;
        if words.get(i).is_some_and(|w| SET_OPERATORS.contains(w)) {
            i += 1;
        }
        let values: &[&str] = match words.get(i) {
            Some(&"{") => {
                let close = words[i..]
                    .iter()
                    .position(|w| *w == "}")
                    .ok_or("has an unclosed `{`")?;
                let values = &words[i + 1..i + close];
                if values.is_empty() || values.contains(&"{") {
                    return Err(format!("`{attribute}` has an empty or nested set"));
                }
                i += close + 1;
                values
            }
            Some(v) if *v != "}" => {
                i += 1;
                &words[i - 1..i]
            }
            _ => return Err(format!("`{attribute}` needs a value")),
        };
        if attribute == "id" {
            if let Some(v) = values.iter().find(|v| !usb_id(v)) {
                return Err(format!(
                    "`{v}` is not a USB vendor:product ID (four hex digits each, such as 0b05:1234)"
                ));
            }
        }
    }
    Ok(())
}

/// Rejects a usbguard rule this module could not write as one rules.conf line.
pub fn check(setting: &SettingKind) -> Result<(), String> {
    let SettingKind::UsbguardRule(r) = setting else {
        return Ok(());
    };
    parse_rule(&r.rule).map_err(|e| format!("usbguard rule `{}` {e}", r.rule.escape_debug()))
}

/// The rules in settings order, each once (the first occurrence decides, as in usbguard).
pub fn render(state: &DesiredState) -> Result<Option<String>, String> {
    let mut seen: Vec<&str> = Vec::new();
    let mut body = String::new();
    let mut current_control = "";
    for s in state.settings() {
        let SettingKind::UsbguardRule(r) = &s.kind else {
            continue;
        };
        check(&s.kind)?;
        let rule = r.rule.trim();
        if seen.contains(&rule) {
            continue;
        }
        if s.control != current_control {
            current_control = &s.control;
            body.push_str(&format!("\n# {}\n", s.control));
        }
        body.push_str(rule);
        body.push('\n');
        seen.push(rule);
    }
    if seen.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "# Generated by hardbase: do not edit, the next apply overwrites this file.\n\
         # The first matching rule decides; devices no rule matches get usbguard-daemon.conf's\n\
         # ImplicitPolicyTarget.\n{body}"
    )))
}

/// The rules file, when the profile declares usbguard rules (mode 0600, root).
pub fn files(state: &DesiredState) -> Result<Vec<InstallFile>, String> {
    Ok(InstallFile::root_only(TREE_PATH, TARGET, render(state)?))
}

#[cfg(test)]
mod tests {
    use super::parse_rule;

    #[test]
    fn accepts_usbguard_rules() {
        for rule in [
            "block with-interface one-of { 08:*:* }",
            "allow with-interface equals { 09:00:* }",
            "allow id one-of { 0eef:0001 0c2e:0b61 }",
            "allow id 0eef:0001 serial \"A1 B2\" name \"Touch {Screen}\"",
            "allow id 0eef:* via-port \"1-2\"",
            "reject",
            "allow with-interface one-of { 03:*:* 08:*:* } if !rule-applied",
        ] {
            parse_rule(rule).unwrap_or_else(|e| panic!("{rule}: {e}"));
        }
    }

    #[test]
    fn rejects_what_usbguard_would_misread() {
        for rule in [
            "",
            "permit id 0eef:0001",
            "allow id one-of { 0eef:00001 }",
            "allow id one-of { 0eef:0001 } } allow",
            "allow id one-of { 0eef:0001",
            "allow id one-of { 0eef:0001 } # allow everything",
            "allow id 0eef:0001\nallow",
            "allow name \"unterminated",
            "allow name \"a\\\"b\"",
            "allow id $(reboot)",
            "allow id one-of { 0eef:0001 } allow id *:* { }",
            "allow id one-of { }",
            "allow id",
            "allow colour red",
        ] {
            assert!(parse_rule(rule).is_err(), "{rule:?} was accepted");
        }
    }
}

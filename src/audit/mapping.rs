//! Which profile audits which snapshot.
//!
//! With a mapping file (`--map FILE`), its rules decide, first match wins:
//!
//! ```toml
//! [[host]]
//! match = "ATM-SJK-*"             # the host name: exact, or with * and ? (case-insensitive)
//! profile = "branch-atm-shinjuku" # a profile under --profiles, by its name
//! ```
//!
//! A host no rule matches cannot be audited (an error for that host, never a guess). Without a
//! mapping file, a snapshot is audited with the profile its collector was generated for (the
//! `profile` its `snapshot.json` records), else with the profile named like the host.

use std::path::Path;

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::document::{self, Table, Value};
use crate::source::{SourceMap, Span};

/// One `[[host]]` rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// The pattern, lower-cased.
    pub pattern: String,
    /// Index of the profile it names.
    pub profile: usize,
    /// The rule's `match` value.
    pub span: Span,
}

/// The rules of a mapping file, in order.
#[derive(Clone, Debug, Default)]
pub struct Mapping {
    pub rules: Vec<Rule>,
    /// How the file is named in messages.
    pub file: String,
}

/// Names Windows and IOS accept in host names, plus the wildcards.
fn valid_pattern(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 255
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '*' | '?'))
}

impl Mapping {
    /// Reads a mapping file; problems go to `diags` with their lines. `profiles` are the
    /// fleet's profile names, in order.
    pub fn load(
        path: &Path,
        sources: &mut SourceMap,
        profiles: &[&str],
        diags: &mut Diagnostics,
    ) -> Option<Mapping> {
        let name = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                diags.push(Diagnostic::error(
                    Code::Io,
                    format!("cannot read the mapping file {name}: {e}"),
                ));
                return None;
            }
        };
        let file = sources.add(name.clone(), text.clone());
        let root = document::parse(file, &text, diags)?;
        let errors = diags.error_count();
        let mut top = Table::of(&root, format!("the mapping file {name}"), diags)?;
        let mut rules = Vec::new();
        match top.get("host") {
            Some(node) => match &node.value {
                Value::Array(items) => {
                    for item in items {
                        let Some(mut t) = Table::of(item, "[[host]]", diags) else {
                            continue;
                        };
                        let pattern = t.req_string("match", diags);
                        let profile = t.req_string("profile", diags);
                        t.finish(&["match", "profile"], diags);
                        let (Some(pattern), Some(profile)) = (pattern, profile) else {
                            continue;
                        };
                        if !valid_pattern(&pattern.value) {
                            diags.push(
                                Diagnostic::error(
                                    Code::InvalidValue,
                                    format!(
                                        "`{}` is not a host name pattern",
                                        pattern.value.escape_debug()
                                    ),
                                )
                                .at(pattern.span, "letters, digits, - _ . and the wildcards * ?")
                                .note("help: `*` matches any run of characters, `?` one character"),
                            );
                            continue;
                        }
                        let Some(index) = profiles.iter().position(|p| *p == profile.value) else {
                            let mut d = Diagnostic::error(
                                Code::InvalidValue,
                                format!(
                                    "no profile named `{}` under --profiles",
                                    profile.value.escape_debug()
                                ),
                            )
                            .at(profile.span, "unknown profile");
                            let close = similar::get_close_matches(
                                profile.value.as_str(),
                                profiles,
                                1,
                                0.6,
                            );
                            d = match close.first() {
                                Some(best) => d.note(format!("help: did you mean `{best}`?")),
                                None => d.note(format!("the profiles: {}", profiles.join(", "))),
                            };
                            diags.push(d);
                            continue;
                        };
                        rules.push(Rule {
                            pattern: pattern.value.to_ascii_lowercase(),
                            profile: index,
                            span: pattern.span,
                        });
                    }
                }
                other => diags.push(
                    Diagnostic::error(
                        Code::WrongType,
                        format!(
                            "expected an array of [[host]] tables, found {}",
                            other.type_name()
                        ),
                    )
                    .at(node.span, "expected [[host]] tables"),
                ),
            },
            None => diags.push(
                Diagnostic::error(
                    Code::MissingKey,
                    format!("the mapping file {name} has no [[host]] rule"),
                )
                .at(root.span, "add [[host]] tables with `match` and `profile`"),
            ),
        }
        top.finish(&["host"], diags);
        (diags.error_count() == errors).then_some(Mapping { rules, file: name })
    }

    /// The first rule whose pattern matches the host name (case-insensitive).
    pub fn rule_for(&self, host: &str) -> Option<&Rule> {
        let host = host.to_ascii_lowercase();
        self.rules.iter().find(|r| glob(&r.pattern, &host))
    }
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters (none included)
/// and `?` exactly one. Linear backtracking over the last `*`, no recursion.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn glob_matches_runs_and_single_characters() {
        assert!(glob("atm-sjk-*", "atm-sjk-0001"));
        assert!(glob("atm-sjk-*", "atm-sjk-"));
        assert!(!glob("atm-sjk-*", "atm-umd-0001"));
        assert!(glob("atm-???-01", "atm-sjk-01"));
        assert!(!glob("atm-???-01", "atm-sjkx-01"));
        assert!(glob("*-01", "kiosk-umeda-01"));
        assert!(glob("a*b*c", "aXXbYYc"));
        assert!(!glob("a*b*c", "aXXbYY"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
        assert!(glob("*", ""));
    }
}

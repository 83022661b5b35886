//! Emitters: the desired state turned into the files each platform consumes.
//!
//! [`validate`] runs after resolution and before anything is written: a value that a target
//! format cannot carry becomes a diagnostic at the profile (or catalog) line it came from.
//! [`emit`] then produces the platform's files for the output tree.

pub mod linux;
pub mod network;
pub mod windows;

use crate::catalog::taxonomy::Family;
use crate::diag::{Code, Diagnostic};
use crate::model::DesiredState;
use crate::output::TreeFiles;

/// Problems that only a target format reveals, each at the setting's origin.
pub fn validate(state: &DesiredState) -> Vec<Diagnostic> {
    let problems = match state.profile.platform.family {
        Family::Windows => windows::emit::validate(state),
        Family::Linux => linux::validate(state),
        Family::Network => network::validate(state),
    };
    let platform = match state.profile.platform.family {
        Family::Windows => "Windows",
        Family::Linux => "Linux",
        Family::Network => "the network device",
    };
    problems
        .into_iter()
        .map(|(setting, message)| {
            let d = Diagnostic::error(
                Code::InvalidValue,
                format!(
                    "control {} cannot be written for {platform}: {message}",
                    setting.control
                ),
            );
            // Point at the parameter whose value the message quotes, else at the first one.
            let quoted = setting.params.iter().find_map(|(name, origin)| {
                let value = state.params.iter().find(|p| &p.name == name)?;
                let mut texts = Vec::new();
                collect_strings(&value.value, &mut texts);
                texts
                    .iter()
                    .any(|t| {
                        !t.is_empty()
                            && (message.contains(t.as_str())
                                || message.contains(&t.escape_debug().to_string()))
                    })
                    .then_some(*origin)
                    .flatten()
            });
            match quoted.or_else(|| setting.params.iter().find_map(|(_, origin)| *origin)) {
                Some(span) => d
                    .at(span, "this value")
                    .also(setting.origin, "in this setting"),
                None => d.at(setting.origin, "in this setting"),
            }
        })
        .collect()
}

fn collect_strings(value: &crate::catalog::param::ParamValue, out: &mut Vec<String>) {
    use crate::catalog::param::ParamValue;
    match value {
        ParamValue::String(s) => out.push(s.clone()),
        ParamValue::List(items) => items.iter().for_each(|i| collect_strings(i, out)),
        _ => {}
    }
}

/// The platform files of one profile (paths relative to its output folder).
pub fn emit(state: &DesiredState) -> Result<TreeFiles, String> {
    match state.profile.platform.family {
        Family::Windows => windows::emit::emit(state),
        Family::Linux => linux::emit::emit(state),
        Family::Network => network::emit(state),
    }
}

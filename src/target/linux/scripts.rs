//! apply.sh and restore.sh: idempotent bash that installs the Linux artefacts on a live host
//! or into an offline image root, backs up what it replaces, and puts it back.
//!
//! The scripts are Handlebars templates (`templates/linux/*.sh.hbs`) rendered by a registry
//! whose escape function turns every value into one POSIX single-quoted shell word
//! (`'` → `'\''`) and refuses NUL, newlines and other control characters. Profile values
//! reach the scripts only that way, in data tables (bash arrays) at the top; the code below
//! the tables is the same for every profile.
//!
//! Options: `--root DIR` (offline image: every path under DIR, `systemctl --root`, no live
//! sysctl/nft/service calls, packages only reported), `--dry-run`, `--help`.
//! State: `<root>/var/lib/hardbase/<profile>/` holds `manifest` (tab-separated records, the
//! first record for a target wins so the original survives repeated runs) and `backup/<target>`
//! copies made with `cp -a`. Exit codes: 0 done or nothing to do, 1 failure, 2 preflight
//! refused, 3 done but a reboot is required (auditd rules immutable, a blocked module loaded).

use std::sync::OnceLock;

use handlebars::Handlebars;
use serde_json::{json, Value};

use super::files::{BLOCKS, BLOCKS_KEYS, BLOCK_BEGIN, BLOCK_END};
use super::InstallFile;
use crate::catalog::setting::{SettingKind, UnitState};
use crate::model::DesiredState;

const APPLY: &str = include_str!("../../../templates/linux/apply.sh.hbs");
const RESTORE: &str = include_str!("../../../templates/linux/restore.sh.hbs");
const COMMON: &str = include_str!("../../../templates/linux/common.sh.hbs");

/// apply.sh for a resolved Linux profile that installs `files`.
pub fn apply(state: &DesiredState, files: &[InstallFile]) -> Result<String, String> {
    Ok(both(state, files, &[Script::Apply])?.remove(0))
}

/// restore.sh, which puts back what apply.sh backed up.
pub fn restore(state: &DesiredState, files: &[InstallFile]) -> Result<String, String> {
    Ok(both(state, files, &[Script::Restore])?.remove(0))
}

/// apply.sh and restore.sh, in that order ([`apply`], [`restore`]), rendered from one context.
pub fn apply_and_restore(
    state: &DesiredState,
    files: &[InstallFile],
) -> Result<(String, String), String> {
    let mut both = both(state, files, &[Script::Apply, Script::Restore])?;
    let restore = both.pop().unwrap_or_default();
    let apply = both.pop().unwrap_or_default();
    Ok((apply, restore))
}

#[derive(Clone, Copy)]
enum Script {
    Apply,
    Restore,
}

impl Script {
    const ALL: [Script; 2] = [Script::Apply, Script::Restore];

    /// The registry names of the script, and of its parts before and after `{{> common}}`.
    fn keys(self) -> [&'static str; 3] {
        match self {
            Script::Apply => ["apply", "apply.head", "apply.tail"],
            Script::Restore => ["restore", "restore.head", "restore.tail"],
        }
    }

    fn template(self) -> &'static str {
        match self {
            Script::Apply => APPLY,
            Script::Restore => RESTORE,
        }
    }
}

/// `value` as one POSIX single-quoted shell word; NUL, newlines and control characters are refused.
pub fn shell_word(value: &str) -> Result<String, String> {
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(format!(
            "\"{}\" contains the control character U+{:04X}, which a shell script cannot carry safely",
            value.escape_debug(),
            c as u32
        ));
    }
    Ok(format!("'{}'", value.replace('\'', r"'\''")))
}

/// What apply.sh does after a file of this kind changed.
fn service_of(target: &str) -> &'static str {
    let prefixes: [(&str, &str); 7] = [
        ("/etc/nftables", "nft"),
        ("/etc/ssh/sshd_config", "sshd"),
        ("/etc/audit/", "auditd"),
        ("/etc/usbguard/", "usbguard"),
        ("/etc/sysctl.d/", "sysctl"),
        ("/etc/modprobe.d/", "modprobe"),
        ("/etc/systemd/", "systemd"),
    ];
    prefixes
        .iter()
        .find(|(p, _)| target.starts_with(p))
        .map_or("none", |(_, s)| s)
}

fn check_target(target: &str) -> Result<(), String> {
    if !target.starts_with('/')
        || target.ends_with('/')
        || target.split('/').any(|p| p == "." || p == "..")
        || target.chars().any(|c| c.is_control() || c.is_whitespace())
        || target.starts_with("/var/lib/hardbase")
    {
        return Err(format!(
            "`{}` is not a plain absolute path apply.sh can install",
            target.escape_debug()
        ));
    }
    Ok(())
}

fn context(state: &DesiredState, files: &[InstallFile]) -> Result<Value, String> {
    let profile = &state.profile.name;
    if profile.is_empty()
        || profile.starts_with('.')
        || profile.contains('/')
        || profile.chars().any(|c| c.is_control())
    {
        return Err(format!(
            "profile name \"{}\" cannot name a state folder",
            profile.escape_debug()
        ));
    }
    let platform = state.profile.platform;
    let family = platform
        .id
        .split('-')
        .next()
        .unwrap_or(platform.id)
        .to_string();
    let mut rows = Vec::new();
    let mut firewall = false;
    for f in files {
        check_target(&f.target)?;
        let kind = if f.tree_path.starts_with(BLOCKS_KEYS) {
            "block-keys"
        } else if f.tree_path.starts_with(BLOCKS) {
            "block"
        } else {
            "file"
        };
        let service = service_of(&f.target);
        firewall |= service == "nft";
        rows.push(json!({
            "tree": f.tree_path, "target": f.target, "mode": format!("{:o}", f.mode),
            "owner": f.owner, "group": f.group, "kind": kind, "service": service,
        }));
    }
    let mut units: Vec<(String, &str)> = Vec::new();
    let mut remove = Vec::new();
    let mut packages = Vec::new();
    let mut modules = Vec::new();
    let mut mounts = Vec::new();
    for s in state.settings() {
        check(&s.kind)?;
        match &s.kind {
            SettingKind::SystemdUnit(u) => {
                let want = match u.state {
                    UnitState::Enabled => "enabled",
                    UnitState::Disabled => "disabled",
                    UnitState::Masked => "masked",
                };
                if !units.iter().any(|(n, _)| *n == u.unit) {
                    units.push((u.unit.clone(), want));
                }
            }
            SettingKind::File(f) if f.absent => {
                check_target(&f.path)?;
                if files.iter().any(|i| i.target == f.path) {
                    return Err(format!("{} is both installed and absent", f.path));
                }
                if !remove.contains(&f.path) {
                    remove.push(f.path.clone());
                }
            }
            SettingKind::PackageAbsent(p) if !packages.contains(&p.package) => {
                packages.push(p.package.clone());
            }
            SettingKind::KernelModule(m) => {
                let name = m.module.replace('-', "_");
                if !modules.contains(&name) {
                    modules.push(name);
                }
            }
            SettingKind::MountOptions(m) => {
                mounts.push(json!({ "point": m.mount_point, "options": m.options.join(",") }))
            }
            _ => {}
        }
    }
    // DESIGN.md: firewalld is masked wherever hardbase's nftables file is used directly.
    if firewall && !units.iter().any(|(n, _)| n == "firewalld.service") {
        units.push(("firewalld.service".into(), "masked"));
    }
    let units: Vec<Value> = units
        .iter()
        .map(|(u, s)| json!({ "unit": u, "state": s }))
        .collect();
    Ok(json!({
        "profile": profile,
        "platform_id": platform.id,
        "family": family,
        "major": platform.build.to_string(),
        "block_begin": BLOCK_BEGIN,
        "block_end": BLOCK_END,
        "files": rows,
        "remove": remove,
        "units": units,
        "packages": packages,
        "modules": modules,
        "mounts": mounts,
    }))
}

/// The escape function of the script registries: [`shell_word`], whose error fails the render.
fn escape(text: &str) -> String {
    match shell_word(text) {
        Ok(word) => word,
        Err(e) => {
            crate::target::escape_error(e);
            // Never reached for a value the model accepted; the error fails the render.
            "''".to_string()
        }
    }
}

/// apply.sh and restore.sh with their partial, compiled once per process; each template is
/// compiled under the name `script`, the name its errors show, and registered as the parts
/// around its `{{> common}}` when it can be (per [`Script::ALL`], whether it is).
fn registry() -> Result<&'static (Handlebars<'static>, [bool; 2]), String> {
    static REGISTRY: OnceLock<Result<(Handlebars<'static>, [bool; 2]), String>> = OnceLock::new();
    REGISTRY
        .get_or_init(|| {
            let mut hb = Handlebars::new();
            hb.set_strict_mode(true);
            hb.register_escape_fn(escape);
            // A partial is a template of its name.
            let common = crate::target::compile(COMMON, Some("common"))
                .map_err(|e| format!("template common.sh.hbs: {e}"))?;
            hb.register_template("common", common);
            let split = crate::target::register_scripts(
                &mut hb,
                Script::ALL.map(|s| (s.template(), s.keys())),
                "shell template",
            )?;
            Ok((hb, split))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// `scripts` rendered from one context, `common` once (see [`crate::target::SharedRender`]).
fn both(
    state: &DesiredState,
    files: &[InstallFile],
    scripts: &[Script],
) -> Result<Vec<String>, String> {
    let mut shared =
        crate::target::SharedRender::new(context(state, files)?, "common", "shell template");
    let (hb, split) = registry()?;
    scripts
        .iter()
        .map(|script| {
            let [whole, head, tail] = script.keys();
            shared.render(hb, whole, split[*script as usize].then_some((head, tail)))
        })
        .collect()
}

/// Rejects a setting value this module's files could not carry safely.
pub fn check(setting: &SettingKind) -> Result<(), String> {
    let word = |what: &str, text: &str, extra: &str| -> Result<(), String> {
        if text.is_empty()
            || text.starts_with('-')
            || !text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
        {
            return Err(format!(
                "{what} `{}` must not start with `-` and may contain only letters, digits and `{extra}`",
                text.escape_debug()
            ));
        }
        Ok(())
    };
    match setting {
        SettingKind::SystemdUnit(u) => {
            word("unit name", &u.unit, "@._-\\:")?;
            const SUFFIXES: [&str; 11] = [
                ".service",
                ".socket",
                ".target",
                ".timer",
                ".mount",
                ".automount",
                ".path",
                ".device",
                ".swap",
                ".slice",
                ".scope",
            ];
            if !SUFFIXES.iter().any(|s| u.unit.ends_with(s)) {
                return Err(format!(
                    "unit name `{}` needs a unit type suffix such as .service",
                    u.unit.escape_debug()
                ));
            }
            Ok(())
        }
        SettingKind::PackageAbsent(p) => word("package name", &p.package, "._+-"),
        SettingKind::MountOptions(m) => {
            for o in &m.options {
                word("mount option", o, "=_-")?;
            }
            shell_word(&m.mount_point).map(|_| ())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_single_quoted() {
        assert_eq!(shell_word("a'b").unwrap(), r"'a'\''b'");
        assert_eq!(shell_word("$(x) `y`").unwrap(), "'$(x) `y`'");
        assert!(shell_word("a\nb").is_err());
        assert!(shell_word("a\0b").is_err());
    }

    #[test]
    fn templates_never_emit_raw_values() {
        for t in [APPLY, RESTORE, COMMON] {
            assert!(
                !t.contains("{{{"),
                "a triple-stash would bypass shell quoting"
            );
        }
    }

    #[test]
    fn scripts_render_as_whole_templates() {
        use crate::resolve;
        let (_, split) = registry().unwrap();
        // apply.sh and restore.sh include `common` at the top level.
        assert_eq!(*split, [true, true]);
        let mut whole = Handlebars::new();
        whole.set_strict_mode(true);
        whole.register_escape_fn(escape);
        whole.register_partial("common", COMMON).unwrap();
        for script in Script::ALL {
            whole
                .register_template_string(script.keys()[0], script.template())
                .unwrap();
        }
        let (catalog, mut sources, mut diags, options, dir) = crate::resolve::example_resolver();
        for file in [
            "relay-linux.toml",
            "lobby-kiosk.toml",
            "monitoring-syslog.toml",
        ] {
            let state = resolve::resolve(
                &dir.join(file),
                &catalog,
                &mut sources,
                &options,
                &mut diags,
            )
            .unwrap();
            let installs = super::super::emit::install_files(&state).unwrap();
            let data = context(&state, &installs).unwrap();
            let (apply, restore) = apply_and_restore(&state, &installs).unwrap();
            assert!(apply == whole.render("apply", &data).unwrap(), "{file}");
            assert!(restore == whole.render("restore", &data).unwrap(), "{file}");
        }
    }
}

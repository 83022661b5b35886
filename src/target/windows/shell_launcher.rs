//! Shell Launcher v2: the configuration XML Apply hands to the `MDM_AssignedAccess` bridge.
//!
//! v2 is configured by one XML document (windows-lockdown.md section 1): the two namespaces,
//! one `Profile` per kiosk account whose `Shell` runs full screen as a desktop app, and one
//! `Config` per account naming its profile. BUILTIN\Administrators (S-1-5-32-544) get their own
//! profile with the admin shell (Explorer), as v1's `SetCustomShell("S-1-5-32-544", …)` does.
//! Every shell has a `DefaultAction`: without one, nothing happens when the app exits.
//!
//! The document is built once from the profile, so the file beside the scripts and the hash
//! Apply checks before using it always agree. Profile ids are UUID v5 of the profile name and
//! the account, so a rebuild writes the same bytes and a second Apply finds nothing to change.
//! Values are XML-escaped; a control character is refused (no generated file carries one).

use crate::catalog::setting::{
    KioskShell, Principal, SettingKind, ShellExitAction, ShellLauncherVersion,
};
use crate::model::DesiredState;

use super::gpo_backup::{derived_guid, escape};

/// The file name under `windows/`.
pub const FILE: &str = "ShellLauncher.xml";

/// The default (2018) namespace of the configuration.
pub const NAMESPACE: &str = "http://schemas.microsoft.com/ShellLauncher/2018/Configuration";

/// The v2 (2019) namespace: without it the configuration means the legacy eshell.exe launcher.
pub const NAMESPACE_V2: &str = "http://schemas.microsoft.com/ShellLauncher/2019/Configuration";

/// BUILTIN\Administrators, who keep the admin shell.
pub const ADMINISTRATORS: &str = "S-1-5-32-544";

/// The first build with Shell Launcher v2 (Windows 10 1809, which needs KB4551853).
pub const V2_MIN_BUILD: u32 = 17763;

/// The kiosk shells of the profile that use Shell Launcher v2, one per account.
pub fn v2_shells(state: &DesiredState) -> Vec<&KioskShell> {
    let mut out: Vec<&KioskShell> = Vec::new();
    for s in state.settings() {
        if let SettingKind::KioskShell(k) = &s.kind {
            // The same value from two controls is one shell.
            if k.launcher == ShellLauncherVersion::V2 && !out.iter().any(|o| o.account == k.account)
            {
                out.push(k);
            }
        }
    }
    out
}

/// The configuration XML (UTF-8, CRLF line ends, no BOM), or `None` when the profile has no
/// Shell Launcher v2 shell.
pub fn xml(state: &DesiredState) -> Result<Option<String>, String> {
    let shells = v2_shells(state);
    let Some(first) = shells.first() else {
        return Ok(None);
    };
    if let Some(other) = shells.iter().find(|k| k.admin_shell != first.admin_shell) {
        return Err(format!(
            "the Shell Launcher v2 shells give administrators two shells, `{}` and `{}`",
            first.admin_shell, other.admin_shell
        ));
    }
    let name = &state.profile.name;
    let mut profiles = Vec::new();
    let mut configs = Vec::new();
    for k in &shells {
        let (account, key) = match &k.account {
            Principal::LocalAccount { name } => (
                format!("<Account Name=\"{}\"/>", attr(name)?),
                format!("local:{name}"),
            ),
            Principal::WellKnownSid { sid, .. } => {
                if sid == ADMINISTRATORS {
                    return Err("the Shell Launcher v2 kiosk account cannot be BUILTIN\\Administrators, who keep the admin shell".into());
                }
                (format!("<Account Sid=\"{}\"/>", attr(sid)?), sid.clone())
            }
        };
        let id = derived_guid("shell-launcher", &format!("{name}/{key}"));
        profiles.push(format!(
            "    <Profile Id=\"{id}\">\r\n      <Shell Shell=\"{}\" V2:AppType=\"Desktop\" V2:AllAppsFullScreen=\"true\">\r\n        <DefaultAction Action=\"{}\"/>\r\n      </Shell>\r\n    </Profile>\r\n",
            attr(&k.shell)?,
            action(k.on_exit)
        ));
        configs.push(format!(
            "    <Config>\r\n      {account}\r\n      <Profile Id=\"{id}\"/>\r\n    </Config>\r\n"
        ));
    }
    let admin = derived_guid("shell-launcher", &format!("{name}/{ADMINISTRATORS}"));
    profiles.push(format!(
        "    <Profile Id=\"{admin}\">\r\n      <Shell Shell=\"{}\">\r\n        <DefaultAction Action=\"RestartShell\"/>\r\n      </Shell>\r\n    </Profile>\r\n",
        attr(&first.admin_shell)?
    ));
    configs.push(format!(
        "    <Config>\r\n      <Account Sid=\"{ADMINISTRATORS}\"/>\r\n      <Profile Id=\"{admin}\"/>\r\n    </Config>\r\n"
    ));
    Ok(Some(format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<ShellLauncherConfiguration xmlns=\"{NAMESPACE}\" xmlns:V2=\"{NAMESPACE_V2}\">\r\n  <Profiles>\r\n{}  </Profiles>\r\n  <Configs>\r\n{}  </Configs>\r\n</ShellLauncherConfiguration>\r\n",
        profiles.concat(),
        configs.concat()
    )))
}

/// The action names of the v2 schema.
fn action(a: ShellExitAction) -> &'static str {
    match a {
        ShellExitAction::RestartShell => "RestartShell",
        ShellExitAction::RestartDevice => "RestartDevice",
        ShellExitAction::ShutdownDevice => "ShutdownDevice",
        ShellExitAction::DoNothing => "DoNothing",
    }
}

/// A double-quoted attribute value.
fn attr(value: &str) -> Result<String, String> {
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(format!(
            "\"{}\" contains the control character U+{:04X}, which the Shell Launcher configuration does not carry",
            value.escape_debug(),
            c as u32
        ));
    }
    Ok(escape(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_escaped_and_controls_refused() {
        assert_eq!(
            attr(r#"C:\a "b" <c> & 'd' ]]> $(x)"#).unwrap(),
            r"C:\a &quot;b&quot; &lt;c&gt; &amp; &apos;d&apos; ]]&gt; $(x)"
        );
        assert!(attr("a\nb").unwrap_err().contains("U+000A"));
    }

    #[test]
    fn actions_use_the_schema_names() {
        assert_eq!(action(ShellExitAction::RestartShell), "RestartShell");
        assert_eq!(action(ShellExitAction::DoNothing), "DoNothing");
    }
}

//! The sshd drop-in: `/etc/ssh/sshd_config.d/00-hardbase.conf`.
//!
//! sshd keeps the *first* value it reads for an option, and the stock `sshd_config` of
//! Debian 12 and RHEL 9 starts with `Include /etc/ssh/sshd_config.d/*.conf`, so a drop-in
//! whose name sorts first wins over the rest of the main file and over vendor drop-ins such as
//! `50-cloud-init.conf` or `50-redhat.conf`. The integration tests check exactly that with
//! `sshd -T` on a merged stock configuration.
//!
//! [`check`] accepts only the keywords sshd knows (written back in their canonical spelling)
//! and values sshd reads as plain words: no comment sign, quotes, `$`, backslashes or control
//! characters, so a value can neither end early nor smuggle a second line.

use super::InstallFile;
use crate::catalog::setting::SettingKind;
use crate::model::DesiredState;

/// Where the drop-in sits in the output tree and on the machine.
pub const TREE_PATH: &str = "ssh/sshd_config.d/00-hardbase.conf";
pub const TARGET: &str = "/etc/ssh/sshd_config.d/00-hardbase.conf";

/// The server keywords of OpenSSH 9.x (servconf.c), with the GSSAPI key-exchange keywords of
/// the Debian and RHEL builds; obsolete aliases and ignored keywords are left out.
const KEYWORDS: &[&str] = &[
    "AcceptEnv",
    "AddressFamily",
    "AllowAgentForwarding",
    "AllowGroups",
    "AllowStreamLocalForwarding",
    "AllowTcpForwarding",
    "AllowUsers",
    "AuthenticationMethods",
    "AuthorizedKeysCommand",
    "AuthorizedKeysCommandUser",
    "AuthorizedKeysFile",
    "AuthorizedPrincipalsCommand",
    "AuthorizedPrincipalsCommandUser",
    "AuthorizedPrincipalsFile",
    "Banner",
    "CASignatureAlgorithms",
    "ChannelTimeout",
    "ChrootDirectory",
    "Ciphers",
    "ClientAliveCountMax",
    "ClientAliveInterval",
    "Compression",
    "DenyGroups",
    "DenyUsers",
    "DisableForwarding",
    "ExposeAuthInfo",
    "FingerprintHash",
    "ForceCommand",
    "GSSAPIAuthentication",
    "GSSAPICleanupCredentials",
    "GSSAPIKexAlgorithms",
    "GSSAPIKeyExchange",
    "GSSAPIStoreCredentialsOnRekey",
    "GSSAPIStrictAcceptorCheck",
    "GatewayPorts",
    "HostCertificate",
    "HostKey",
    "HostKeyAgent",
    "HostKeyAlgorithms",
    "HostbasedAcceptedAlgorithms",
    "HostbasedAuthentication",
    "HostbasedUsesNameFromPacketOnly",
    "IPQoS",
    "IgnoreRhosts",
    "IgnoreUserKnownHosts",
    "KbdInteractiveAuthentication",
    "KerberosAuthentication",
    "KerberosGetAFSToken",
    "KerberosOrLocalPasswd",
    "KerberosTicketCleanup",
    "KexAlgorithms",
    "ListenAddress",
    "LogLevel",
    "LogVerbose",
    "LoginGraceTime",
    "MACs",
    "MaxAuthTries",
    "MaxSessions",
    "MaxStartups",
    "ModuliFile",
    "PasswordAuthentication",
    "PerSourceMaxStartups",
    "PerSourceNetBlockSize",
    "PermitEmptyPasswords",
    "PermitListen",
    "PermitOpen",
    "PermitRootLogin",
    "PermitTTY",
    "PermitTunnel",
    "PermitUserEnvironment",
    "PermitUserRC",
    "PidFile",
    "Port",
    "PrintLastLog",
    "PrintMotd",
    "PubkeyAcceptedAlgorithms",
    "PubkeyAuthOptions",
    "PubkeyAuthentication",
    "RDomain",
    "RekeyLimit",
    "RequiredRSASize",
    "RevokedKeys",
    "SecurityKeyProvider",
    "SetEnv",
    "StreamLocalBindMask",
    "StreamLocalBindUnlink",
    "StrictModes",
    "Subsystem",
    "SyslogFacility",
    "TCPKeepAlive",
    "TrustedUserCAKeys",
    "UnusedConnectionTimeout",
    "UseDNS",
    "UsePAM",
    "VersionAddendum",
    "X11DisplayOffset",
    "X11Forwarding",
    "X11UseLocalhost",
    "XAuthLocation",
];

/// Obsolete spellings sshd still reads, with the keyword to write instead.
const ALIASES: &[(&str, &str)] = &[
    (
        "ChallengeResponseAuthentication",
        "KbdInteractiveAuthentication",
    ),
    ("SkeyAuthentication", "KbdInteractiveAuthentication"),
    ("DSAAuthentication", "PubkeyAuthentication"),
    ("PubkeyAcceptedKeyTypes", "PubkeyAcceptedAlgorithms"),
    ("HostbasedAcceptedKeyTypes", "HostbasedAcceptedAlgorithms"),
    ("HostDSAKey", "HostKey"),
    ("KeepAlive", "TCPKeepAlive"),
];

/// Characters sshd would read as a comment, a quoted or escaped word, or that a shell that
/// later sees the value (ForceCommand, AuthorizedKeysCommand) would expand.
const FORBIDDEN_IN_VALUE: &[char] = &['#', '"', '\'', '`', '$', '\\'];

/// The canonical spelling of an sshd keyword (sshd compares keywords case-insensitively).
pub fn keyword(option: &str) -> Result<&'static str, String> {
    if let Some(k) = KEYWORDS.iter().find(|k| k.eq_ignore_ascii_case(option)) {
        return Ok(k);
    }
    if ["Match", "Include"]
        .iter()
        .any(|k| k.eq_ignore_ascii_case(option))
    {
        return Err(format!(
            "sshd option `{option}` would make every later line of the drop-in conditional or pull in other files; hardbase writes plain options only"
        ));
    }
    if let Some((_, new)) = ALIASES.iter().find(|(a, _)| a.eq_ignore_ascii_case(option)) {
        return Err(format!(
            "sshd option `{option}` is an obsolete alias; write `{new}`"
        ));
    }
    Err(format!(
        "`{}` is not an sshd option (OpenSSH 9 server keywords, see sshd_config(5))",
        option.escape_debug()
    ))
}

fn check_value(option: &str, value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("sshd option {option} has an empty value"));
    }
    if value.trim() != value {
        return Err(format!(
            "the value \"{}\" of sshd option {option} begins or ends with white space",
            value.escape_debug()
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_graphic() || *c == ' ') || FORBIDDEN_IN_VALUE.contains(c))
    {
        return Err(format!(
            "the value \"{}\" of sshd option {option} contains {c:?}; sshd values are written as plain words (printable ASCII without `#`, quotes, `$`, backquotes or backslashes)",
            value.escape_debug()
        ));
    }
    Ok(())
}

/// Rejects an sshd option sshd would not accept or a value the drop-in could not carry safely.
pub fn check(setting: &SettingKind) -> Result<(), String> {
    let SettingKind::SshdOption(o) = setting else {
        return Ok(());
    };
    let k = keyword(&o.option)?;
    check_value(k, &o.value)
}

/// The drop-in text: one line per option, in settings order (controls by category and id, then
/// declaration order), each option once under the first control that sets it.
pub fn render(state: &DesiredState) -> Result<Option<String>, String> {
    let mut written: Vec<(&'static str, &str, &str)> = Vec::new();
    let mut body = String::new();
    let mut current_control = "";
    for s in state.settings() {
        let SettingKind::SshdOption(o) = &s.kind else {
            continue;
        };
        let k = keyword(&o.option)?;
        check_value(k, &o.value)?;
        if s.control != current_control {
            current_control = &s.control;
            body.push_str(&format!("\n# {}\n", s.control));
        }
        match written.iter().find(|(w, _, _)| *w == k) {
            Some((_, v, _)) if *v == o.value => {
                body.push_str(&format!("#   {k} {} (set above)\n", o.value));
            }
            Some((_, v, by)) => {
                return Err(format!(
                    "sshd option {k} is set to `{v}` by {by} and to `{}` by {}",
                    o.value, s.control
                ));
            }
            None => {
                body.push_str(&format!("{k} {}\n", o.value));
                written.push((k, &o.value, &s.control));
            }
        }
    }
    if written.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "# Generated by hardbase: do not edit, the next apply overwrites this file.\n\
         # sshd keeps the first value it reads; this drop-in sorts first in sshd_config.d,\n\
         # which the stock sshd_config includes before its own settings.\n{body}"
    )))
}

/// The drop-in, when the profile sets any sshd option (mode 0600, root).
pub fn files(state: &DesiredState) -> Result<Vec<InstallFile>, String> {
    Ok(InstallFile::root_only(TREE_PATH, TARGET, render(state)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::setting::SshdOption;

    fn option(option: &str, value: &str) -> SettingKind {
        SettingKind::SshdOption(SshdOption {
            option: option.into(),
            value: value.into(),
        })
    }

    #[test]
    fn keywords_are_sorted_and_unique() {
        let mut sorted = KEYWORDS.to_vec();
        sorted.sort_by_key(|k| k.to_ascii_lowercase());
        sorted.dedup();
        assert_eq!(sorted.len(), KEYWORDS.len());
    }

    #[test]
    fn accepts_plain_options_in_any_case() {
        assert_eq!(keyword("permitrootlogin").unwrap(), "PermitRootLogin");
        check(&option("PermitRootLogin", "no")).unwrap();
        check(&option(
            "AuthorizedKeysFile",
            ".ssh/authorized_keys %h/.ssh/extra",
        ))
        .unwrap();
        check(&option(
            "Ciphers",
            "aes256-gcm@openssh.com,chacha20-poly1305@openssh.com",
        ))
        .unwrap();
    }

    #[test]
    fn rejects_unknown_options_and_hostile_values() {
        for (o, v) in [
            ("PermitRootLogn", "no"),
            ("Match", "User root"),
            ("Include", "/tmp/x.conf"),
            ("ChallengeResponseAuthentication", "no"),
            ("Permit-RootLogin", "no"),
            ("Banner", "/etc/issue\nPermitRootLogin yes"),
            ("Banner", "/etc/issue # x"),
            ("ForceCommand", "$(reboot)"),
            ("ForceCommand", "`reboot`"),
            ("Banner", "\"/etc/issue\""),
            ("Banner", "it's"),
            ("Banner", ""),
            ("Banner", " /etc/issue"),
            ("Banner", "/etc/\u{1b}[31m"),
            ("Banner", "/etc/ｉｓｓｕｅ"),
        ] {
            assert!(check(&option(o, v)).is_err(), "{o} {v:?} was accepted");
        }
    }

    #[test]
    fn other_kinds_pass() {
        let rule = SettingKind::UsbguardRule(crate::catalog::setting::UsbguardRule {
            rule: "allow\n#".into(),
        });
        check(&rule).unwrap();
    }
}

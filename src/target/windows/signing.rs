//! `signing/Sign-Hardbase.ps1`: the script a Windows signing host runs to sign a profile's
//! PowerShell scripts with `Set-AuthenticodeSignature`, for profiles whose `[signing]` method is
//! `windows-host`.
//!
//! The script carries the SHA-256 of every script as built, so the signing host signs exactly
//! what hardbase wrote and refuses anything changed since. A signature block is appended after
//! the script's last line (`\r\n# SIG # Begin signature block\r\n` … `# SIG # End signature
//! block\r\n`, as osslsigncode writes it too); [`unsigned_len`] finds where the built bytes end,
//! which is how `hardbase verify` and the signing script compare a signed script with the build.

use std::sync::OnceLock;

use handlebars::Handlebars;
use serde_json::json;

use super::powershell;
use crate::load::profile::SigningMethod;
use crate::model::DesiredState;

const TEMPLATE: &str = include_str!("../../../templates/windows/Sign-Hardbase.ps1.hbs");

/// Where the signing script goes in the profile's output tree (outside `windows/`, which is
/// what reaches the terminal).
pub const PATH: &str = "signing/Sign-Hardbase.ps1";

const MARKER: &[u8] = b"\r\n# SIG # Begin signature block\r\n";

/// The length of a script without the signature block appended to it (the whole length when it
/// has none).
pub fn unsigned_len(bytes: &[u8]) -> usize {
    bytes
        .windows(MARKER.len())
        .rposition(|w| w == MARKER)
        .unwrap_or(bytes.len())
}

/// The signing script's template, compiled once per process without a name (as a template
/// rendered from its text), escaped like the other scripts by [`powershell::quote`].
fn registry() -> Result<&'static Handlebars<'static>, String> {
    static REGISTRY: OnceLock<Result<Handlebars<'static>, String>> = OnceLock::new();
    REGISTRY
        .get_or_init(|| {
            crate::target::one_template_registry(
                "sign",
                TEMPLATE,
                None,
                powershell::escape,
                "Sign-Hardbase.ps1 template",
            )
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The signing script for `scripts` (tree path and SHA-256 hex of each script as built, sorted
/// by path), or `None` when the profile is not signed on a Windows host.
pub fn script(
    state: &DesiredState,
    scripts: &[(String, String)],
) -> Result<Option<Vec<u8>>, String> {
    let Some(signing) = &state.profile.signing else {
        return Ok(None);
    };
    if signing.method != SigningMethod::WindowsHost {
        return Ok(None);
    }
    let thumbprint = signing
        .certificate_thumbprint
        .clone()
        .ok_or("the [signing] table has no certificate_thumbprint")?;
    let list: Vec<serde_json::Value> = scripts
        .iter()
        .map(|(path, sha)| json!({ "path": path.replace('/', "\\"), "sha256": sha }))
        .collect();
    let data = json!({
        "profile_name": state.profile.name,
        "thumbprint": thumbprint,
        "timestamp_server": signing.timestamp_server.clone().unwrap_or_default(),
        "scripts": list,
    });
    let text = super::super::render_escaped(
        registry()?,
        "sign",
        &handlebars::Context::from(data),
        "Sign-Hardbase.ps1 template",
    )?;
    Ok(Some(powershell::encode(&text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_len_finds_the_appended_block() {
        let built = b"\xEF\xBB\xBFWrite-Host 1\r\n".to_vec();
        let mut signed = built.clone();
        signed.extend_from_slice(
            b"\r\n# SIG # Begin signature block\r\n# MIIx\r\n# SIG # End signature block\r\n",
        );
        assert_eq!(unsigned_len(&signed), built.len());
        assert_eq!(unsigned_len(&built), built.len());
        // The marker text inside the script body (no preceding CRLF) is not a signature block.
        let body = b"Write-Host '# SIG # Begin signature block'\r\n";
        assert_eq!(unsigned_len(body), body.len());
    }
}

//! Authenticode signatures on the generated PowerShell scripts, made and checked with
//! `osslsigncode` so a Linux build host can sign for machines that run `AllSigned`.
//!
//! Signing is a step between emitting and writing: the signed bytes replace the script in
//! the output tree before the manifest is computed, so the manifest records what is shipped.
//! osslsigncode appends the `# SIG # Begin signature block` comment with CRLF line ends and
//! keeps the UTF-8 BOM, so a signed script still has the encoding Windows PowerShell 5.1 needs.
//!
//! The signature carries a signing-time attribute. Unless `SOURCE_DATE_EPOCH` fixes it, two
//! builds therefore differ in the signature block (only there); with it they are byte-identical.
//! Private-key passwords reach osslsigncode on its standard input, never on a command line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::output::TreeFiles;

/// The signing tool; Debian ships it as the package of the same name.
const TOOL: &str = "osslsigncode";
const BEGIN: &str = "# SIG # Begin signature block";
const END: &str = "# SIG # End signature block";

/// Where the signing certificate and key come from.
#[derive(Debug)]
pub enum Credentials {
    /// A certificate file (PEM or DER) and a PEM private key.
    CertKey { cert: PathBuf, key: PathBuf },
    /// A PKCS#12 container holding both.
    Pkcs12 { file: PathBuf },
}

/// Signs scripts with one set of credentials.
pub struct Signer {
    credentials: Credentials,
    /// Read from the environment variable the user named; never printed.
    password: Option<String>,
    timestamp_url: Option<String>,
    signing_time: Option<u64>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("credentials", &self.credentials)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("timestamp_url", &self.timestamp_url)
            .field("signing_time", &self.signing_time)
            .finish()
    }
}

fn tool_missing(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::NotFound {
        format!("`{TOOL}` is not installed (Debian: apt-get install {TOOL})")
    } else {
        format!("cannot run {TOOL}: {e}")
    }
}

/// Fails with a clear message unless osslsigncode runs.
fn require_tool() -> Result<(), String> {
    Command::new(TOOL)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|_| ())
        .map_err(|e| tool_missing(&e))
}

fn require_file(path: &Path, what: &str) -> Result<(), String> {
    if path.is_file() {
        Ok(())
    } else {
        Err(format!("{what} {} does not exist", path.display()))
    }
}

impl Signer {
    /// Checks the tool, the credential files and the password variable before anything is built.
    /// `SOURCE_DATE_EPOCH`, when set, fixes the signing time so builds are reproducible.
    pub fn new(
        credentials: Credentials,
        password_env: Option<&str>,
        timestamp_url: Option<String>,
    ) -> Result<Signer, String> {
        match &credentials {
            Credentials::CertKey { cert, key } => {
                require_file(cert, "signing certificate")?;
                require_file(key, "signing key")?;
            }
            Credentials::Pkcs12 { file } => require_file(file, "PKCS#12 file")?,
        }
        let password = match password_env {
            Some(var) => Some(std::env::var(var).map_err(|_| {
                format!("the environment variable `{var}` named by --sign-password-env is not set")
            })?),
            None => None,
        };
        let signing_time = match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(v) => Some(v.trim().parse::<u64>().map_err(|_| {
                format!("SOURCE_DATE_EPOCH `{v}` is not a number of seconds since 1970")
            })?),
            Err(_) => None,
        };
        require_tool()?;
        Ok(Signer {
            credentials,
            password,
            timestamp_url,
            signing_time,
        })
    }

    /// The signing time the signatures carry, when it is fixed.
    pub fn signing_time(&self) -> Option<u64> {
        self.signing_time
    }

    /// Replaces every `.ps1` file in `files` with its signed bytes.
    pub fn sign_scripts(&self, files: &mut TreeFiles) -> Result<(), String> {
        let work = WorkDir::new()?;
        for (i, (path, bytes)) in files.iter_mut().enumerate() {
            if !path.ends_with(".ps1") {
                continue;
            }
            *bytes = self
                .sign_one(&work.0, i, bytes)
                .map_err(|e| format!("cannot sign {path}: {e}"))?;
        }
        Ok(())
    }

    fn sign_one(&self, work: &Path, i: usize, bytes: &[u8]) -> Result<Vec<u8>, String> {
        let input = work.join(format!("{i}.ps1"));
        let output = work.join(format!("{i}.signed.ps1"));
        std::fs::write(&input, bytes).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(TOOL);
        cmd.arg("sign");
        match &self.credentials {
            Credentials::CertKey { cert, key } => {
                cmd.arg("-certs").arg(cert).arg("-key").arg(key);
            }
            Credentials::Pkcs12 { file } => {
                cmd.arg("-pkcs12").arg(file);
            }
        }
        if self.password.is_some() {
            cmd.args(["-readpass", "-"]);
        }
        if let Some(url) = &self.timestamp_url {
            cmd.arg("-ts").arg(url);
        }
        if let Some(t) = self.signing_time {
            cmd.arg("-time").arg(t.to_string());
        }
        cmd.args(["-h", "sha256", "-in"])
            .arg(&input)
            .arg("-out")
            .arg(&output)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| tool_missing(&e))?;
        if let Some(mut stdin) = child.stdin.take() {
            if let Some(password) = &self.password {
                stdin
                    .write_all(password.as_bytes())
                    .map_err(|e| e.to_string())?;
            }
        }
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!(
                "{TOOL} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        std::fs::read(&output).map_err(|e| e.to_string())
    }
}

/// A private scratch folder for the scripts being signed, removed when dropped.
struct WorkDir(PathBuf);

impl WorkDir {
    fn new() -> Result<WorkDir, String> {
        let base = std::env::temp_dir();
        for n in 0..100 {
            let dir = base.join(format!("hardbase-sign-{}-{n}", std::process::id()));
            if std::fs::create_dir(&dir).is_ok() {
                return Ok(WorkDir(dir));
            }
        }
        Err(format!(
            "cannot create a scratch folder in {}",
            base.display()
        ))
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Whether a script carries a PowerShell signature block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureState {
    Signed,
    Unsigned,
}

impl SignatureState {
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureState::Signed => "signed",
            SignatureState::Unsigned => "unsigned",
        }
    }
}

/// Signed when a `# SIG # Begin signature block` line is followed by the closing
/// `# SIG # End signature block` line that ends the file.
pub fn state(bytes: &[u8]) -> SignatureState {
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
    let begun = lines.any(|l| l == BEGIN);
    let ended = text.lines().last().map(|l| l.trim_end_matches('\r')) == Some(END);
    if begun && ended {
        SignatureState::Signed
    } else {
        SignatureState::Unsigned
    }
}

/// Checks signatures with `osslsigncode verify`, trusting `ca` (or osslsigncode's default
/// CA bundle when `None`).
#[derive(Debug)]
pub struct Checker {
    ca: Option<PathBuf>,
}

impl Checker {
    pub fn new(ca: Option<PathBuf>) -> Result<Checker, String> {
        if let Some(ca) = &ca {
            require_file(ca, "CA file")?;
        }
        require_tool()?;
        Ok(Checker { ca })
    }

    /// `Ok(())` when the signature of `file` verifies; otherwise osslsigncode's reason.
    pub fn check(&self, file: &Path) -> Result<(), String> {
        let mut cmd = Command::new(TOOL);
        cmd.arg("verify").arg("-in").arg(file);
        if let Some(ca) = &self.ca {
            cmd.arg("-CAfile").arg(ca);
        }
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .map_err(|e| tool_missing(&e))?;
        if out.status.success() {
            return Ok(());
        }
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut reasons: Vec<String> = Vec::new();
        for line in text.lines() {
            let reason = if line.contains("MISMATCH") {
                "message digest mismatch (the script changed after signing)".to_string()
            } else if let Some((_, why)) = line.rsplit_once("Verify error:") {
                format!("certificate not trusted: {}", why.trim())
            } else if line.trim() == "Signature verification: failed" {
                "signature verification failed".to_string()
            } else {
                continue;
            };
            if !reasons.contains(&reason) {
                reasons.push(reason);
            }
        }
        Err(if reasons.is_empty() {
            format!("{TOOL} verify failed")
        } else {
            reasons.join("; ")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_signature_block() {
        assert_eq!(
            state(b"\xEF\xBB\xBFWrite-Host 1\r\n"),
            SignatureState::Unsigned
        );
        let signed = b"Write-Host 1\r\n\r\n# SIG # Begin signature block\r\n# MIIx\r\n# SIG # End signature block\r\n";
        assert_eq!(state(signed), SignatureState::Signed);
        let cut = b"Write-Host 1\r\n# SIG # Begin signature block\r\n# MIIx\r\n";
        assert_eq!(state(cut), SignatureState::Unsigned);
    }
}

//! `build --sign` and `verify` with Authenticode signatures, checked by osslsigncode itself.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::util::{require_tool, root, run, Run, TempDir};

const ATM: &str = "examples/regional-bank/branch-atm-shinjuku.toml";
const BEGIN: &[u8] = b"\r\n# SIG # Begin signature block\r\n";

/// A self-signed code-signing certificate and key (`cert.pem`, `key.pem`) in `dir`, or `None`
/// when openssl or osslsigncode is missing outside CI.
fn test_certificate(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let openssl = require_tool("openssl")?;
    require_tool("osslsigncode")?;
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let out = Command::new(openssl)
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        ])
        .args(["-subj", "/CN=hardbase-test"])
        .args(["-addext", "extendedKeyUsage=codeSigning"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some((cert, key))
}

/// Runs `hardbase ARGS` in the repository root with extra environment variables.
fn run_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hardbase"));
    cmd.args(args)
        .current_dir(root())
        .env_remove("SOURCE_DATE_EPOCH");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the hardbase binary runs").into()
}

fn build_signed(out: &Path, cert: &Path, key: &Path, env: &[(&str, &str)]) -> PathBuf {
    let r = run_env(
        &[
            "build",
            ATM,
            "--out",
            out.to_str().unwrap(),
            "--sign",
            "--sign-cert",
            cert.to_str().unwrap(),
            "--sign-key",
            key.to_str().unwrap(),
        ],
        env,
    );
    assert_eq!(r.status, 0, "{}", r.stderr);
    out.join("branch-atm-shinjuku")
}

/// osslsigncode's verdict on one file: success and its output.
fn osslsigncode_verify(file: &Path, ca: &Path) -> (bool, String) {
    let out = Command::new("osslsigncode")
        .arg("verify")
        .arg("-in")
        .arg(file)
        .arg("-CAfile")
        .arg(ca)
        .output()
        .expect("osslsigncode runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn scripts(folder: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = walkdir::WalkDir::new(folder)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "ps1"))
        .collect();
    out.sort();
    out
}

#[test]
fn signed_scripts_verify_and_a_changed_byte_fails() {
    let tmp = TempDir::new("sign-verify");
    let Some((cert, key)) = test_certificate(tmp.path()) else {
        return;
    };
    let atm = build_signed(&tmp.path().join("dist"), &cert, &key, &[]);
    let unsigned = tmp.path().join("plain");
    assert_eq!(
        run(&["build", ATM, "--out", unsigned.to_str().unwrap()]).status,
        0
    );
    let all = scripts(&atm);
    // Apply, Restore, the collector, the acceptance kit and the Windows-host signing script.
    assert_eq!(all.len(), 5, "{all:?}");
    for script in &all {
        let (ok, verdict) = osslsigncode_verify(script, &cert);
        eprintln!("osslsigncode verify {}:\n{verdict}", script.display());
        assert!(ok, "{verdict}");
        assert!(verdict.contains("Signature verification: ok"), "{verdict}");
        // The signature block is appended to the unchanged script: still UTF-8 with BOM, CRLF.
        let bytes = std::fs::read(script).unwrap();
        let rel = script.strip_prefix(&atm).unwrap();
        let plain = std::fs::read(unsigned.join("branch-atm-shinjuku").join(rel)).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        assert!(bytes.starts_with(&plain), "{}", rel.display());
        assert!(bytes[plain.len()..].starts_with(BEGIN));
        assert!(bytes.ends_with(b"# SIG # End signature block\r\n"));
        assert_eq!(
            bytes.iter().filter(|&&b| b == b'\n').count(),
            bytes.windows(2).filter(|w| w == b"\r\n").count(),
            "{} has a bare LF",
            rel.display()
        );
    }
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(atm.join("manifest.json")).unwrap()).unwrap();
    assert!(manifest["signatures"]["note"].is_string(), "{manifest}");

    let atm_arg = atm.to_str().unwrap();
    let ca = cert.to_str().unwrap();
    let ok = run(&["verify", atm_arg, "--check-signatures", "--ca", ca]);
    assert_eq!(ok.status, 0, "{}{}", ok.stdout, ok.stderr);
    let signed: Vec<&str> = ok
        .stdout
        .lines()
        .filter(|l| l.starts_with("signed: "))
        .collect();
    assert_eq!(signed.len(), 5, "{}", ok.stdout);
    assert!(signed.iter().all(|l| l.ends_with(", signature verified")));

    // One byte of the script body changes: osslsigncode and hardbase verify both refuse it.
    let apply = atm.join("windows/Apply-Hardbase.ps1");
    let mut bytes = std::fs::read(&apply).unwrap();
    let at = bytes.windows(6).position(|w| w == b"param(").unwrap() + 1;
    bytes[at] ^= 0x20;
    std::fs::write(&apply, &bytes).unwrap();
    let (ok, verdict) = osslsigncode_verify(&apply, &cert);
    eprintln!("osslsigncode verify after a changed byte:\n{verdict}");
    assert!(!ok, "{verdict}");
    assert!(verdict.contains("MISMATCH"), "{verdict}");

    let bad = run(&[
        "verify",
        atm_arg,
        "--check-signatures",
        "--ca",
        ca,
        "--format",
        "json",
    ]);
    assert_eq!(bad.status, 1, "{}", bad.stderr);
    let json: Value = serde_json::from_str(&bad.stdout).unwrap();
    let f = &json["folders"][0];
    assert_eq!(
        f["changed"],
        serde_json::json!(["windows/Apply-Hardbase.ps1"])
    );
    let sig = f["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"] == "windows/Apply-Hardbase.ps1")
        .unwrap();
    assert_eq!(sig["state"], "signed");
    assert_eq!(sig["verified"], false);
    assert!(
        sig["problem"].as_str().unwrap().contains("digest mismatch"),
        "{sig}"
    );

    // An untrusted CA fails the signature check even for unchanged scripts.
    let other = TempDir::new("sign-other-ca");
    let (other_cert, _) = test_certificate(other.path()).unwrap();
    let untrusted = run(&[
        "verify",
        atm_arg,
        "--check-signatures",
        "--ca",
        other_cert.to_str().unwrap(),
    ]);
    assert_eq!(untrusted.status, 1, "{}", untrusted.stdout);
    assert!(
        untrusted
            .stdout
            .contains("Collect-Hardbase.ps1, signature INVALID: "),
        "{}",
        untrusted.stdout
    );
}

#[test]
fn unsigned_scripts_are_reported_and_fail_a_signature_check() {
    let tmp = TempDir::new("sign-unsigned");
    if require_tool("osslsigncode").is_none() {
        return;
    }
    let dist = tmp.path().join("dist");
    assert_eq!(
        run(&["build", ATM, "--out", dist.to_str().unwrap()]).status,
        0
    );
    let atm = dist.join("branch-atm-shinjuku");
    let plain = run(&["verify", atm.to_str().unwrap()]);
    assert_eq!(plain.status, 0, "{}", plain.stdout);
    assert_eq!(
        plain
            .stdout
            .lines()
            .filter(|l| l.starts_with("unsigned: "))
            .count(),
        5,
        "{}",
        plain.stdout
    );
    let checked = run(&["verify", atm.to_str().unwrap(), "--check-signatures"]);
    assert_eq!(checked.status, 1, "{}", checked.stdout);
    assert!(
        checked
            .stdout
            .contains("signature INVALID: the script is not signed"),
        "{}",
        checked.stdout
    );
}

/// The signing time is the only thing that varies: fixed by SOURCE_DATE_EPOCH, two signed
/// builds are byte-identical; without it they differ only inside the signature blocks.
#[test]
fn signed_builds_are_reproducible_with_source_date_epoch() {
    let tmp = TempDir::new("sign-determinism");
    let Some((cert, key)) = test_certificate(tmp.path()) else {
        return;
    };
    let epoch = [("SOURCE_DATE_EPOCH", "1767225600")];
    let a = build_signed(&tmp.path().join("a"), &cert, &key, &epoch);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b = build_signed(&tmp.path().join("b"), &cert, &key, &epoch);
    for entry in walkdir::WalkDir::new(&a).into_iter().filter_map(Result::ok) {
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(&a).unwrap();
            assert_eq!(
                std::fs::read(entry.path()).unwrap(),
                std::fs::read(b.join(rel)).unwrap(),
                "{} differs between builds",
                rel.display()
            );
        }
    }
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(a.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["signatures"]["signing_time"], 1767225600);

    let c = build_signed(&tmp.path().join("c"), &cert, &key, &[]);
    for script in scripts(&a) {
        let rel = script.strip_prefix(&a).unwrap();
        let (x, y) = (
            std::fs::read(&script).unwrap(),
            std::fs::read(c.join(rel)).unwrap(),
        );
        let body = |s: &[u8]| s.windows(BEGIN.len()).position(|w| w == BEGIN).unwrap();
        assert_eq!(x[..body(&x)], y[..body(&y)], "{}", rel.display());
        assert_ne!(x, y, "the signing time should differ: {}", rel.display());
    }
}

#[test]
fn pkcs12_password_comes_from_the_environment_and_is_never_printed() {
    let tmp = TempDir::new("sign-pkcs12");
    let Some((cert, key)) = test_certificate(tmp.path()) else {
        return;
    };
    let p12 = tmp.path().join("signer.p12");
    let password = "pw-7f3a-do-not-print";
    let out = Command::new("openssl")
        .args(["pkcs12", "-export", "-passout"])
        .arg(format!("pass:{password}"))
        .arg("-in")
        .arg(&cert)
        .arg("-inkey")
        .arg(&key)
        .arg("-out")
        .arg(&p12)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dist = tmp.path().join("dist");
    let args = [
        "build",
        ATM,
        "--out",
        dist.to_str().unwrap(),
        "--sign",
        "--sign-pkcs12",
        p12.to_str().unwrap(),
        "--sign-password-env",
        "HB_SIGN_PW",
    ];
    let missing = run_env(&args, &[]);
    assert_eq!(missing.status, 2);
    assert!(
        missing
            .stderr
            .contains("`HB_SIGN_PW` named by --sign-password-env is not set"),
        "{}",
        missing.stderr
    );
    let wrong = run_env(&args, &[("HB_SIGN_PW", "not-the-password")]);
    assert_eq!(wrong.status, 2);
    assert!(wrong.stderr.contains("cannot sign"), "{}", wrong.stderr);
    assert!(
        !wrong.stderr.contains("not-the-password"),
        "{}",
        wrong.stderr
    );
    let good = run_env(&args, &[("HB_SIGN_PW", password)]);
    assert_eq!(good.status, 0, "{}", good.stderr);
    assert!(!good.stdout.contains(password) && !good.stderr.contains(password));
    let apply = dist.join("branch-atm-shinjuku/windows/Apply-Hardbase.ps1");
    let (ok, verdict) = osslsigncode_verify(&apply, &cert);
    assert!(ok, "{verdict}");
}

#[test]
fn signing_errors_name_what_is_missing() {
    let tmp = TempDir::new("sign-errors");
    let dist = tmp.path().join("dist");
    let out = dist.to_str().unwrap();
    let no_cert = run(&[
        "build",
        ATM,
        "--out",
        out,
        "--sign",
        "--sign-cert",
        "nowhere/cert.pem",
        "--sign-key",
        "nowhere/key.pem",
    ]);
    assert_eq!(no_cert.status, 2);
    assert!(
        no_cert
            .stderr
            .contains("signing certificate nowhere/cert.pem does not exist"),
        "{}",
        no_cert.stderr
    );
    let no_credentials = run(&["build", ATM, "--out", out, "--sign"]);
    assert_eq!(no_credentials.status, 2);
    assert!(
        no_credentials
            .stderr
            .contains("--sign needs --sign-cert FILE with --sign-key FILE, or --sign-pkcs12 FILE"),
        "{}",
        no_credentials.stderr
    );
    std::fs::write(tmp.path().join("cert.pem"), "x").unwrap();
    std::fs::write(tmp.path().join("key.pem"), "x").unwrap();
    let no_tool = run_env(
        &[
            "build",
            ATM,
            "--out",
            out,
            "--sign",
            "--sign-cert",
            tmp.path().join("cert.pem").to_str().unwrap(),
            "--sign-key",
            tmp.path().join("key.pem").to_str().unwrap(),
        ],
        &[("PATH", tmp.path().to_str().unwrap())],
    );
    assert_eq!(no_tool.status, 2);
    assert!(
        no_tool
            .stderr
            .contains("`osslsigncode` is not installed (Debian: apt-get install osslsigncode)"),
        "{}",
        no_tool.stderr
    );
    assert!(
        !dist.exists(),
        "nothing is written when signing cannot start"
    );
}

// ---------------------------------------------------------------- the profile's [signing]

const SIGNING_TABLE: &str = "[signing]\nmethod = \"windows-host\"\ncertificate_thumbprint = \"3F2A9C1B7D4E6F80A1B2C3D4E5F60718293A4B5C\"\n";

/// A copy of the example bank in `dir` with the ATM fleet layer's `[signing]` table replaced by
/// `signing` (which may be empty): the Shinjuku ATM profile and the fleet layer.
fn bank_with_signing(dir: &Path, signing: &str) -> (PathBuf, PathBuf) {
    let src = root().join("examples/regional-bank");
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    let fleet = dir.join("atm-fleet.toml");
    let text = std::fs::read_to_string(&fleet).unwrap();
    assert!(
        text.contains(SIGNING_TABLE),
        "the example ATM fleet signs on a Windows host"
    );
    std::fs::write(&fleet, text.replace(SIGNING_TABLE, signing)).unwrap();
    (dir.join("branch-atm-shinjuku.toml"), fleet)
}

/// 1-based line of the `[[control.setting]]` header of the first setting after `needle` in a
/// built-in baseline file.
fn setting_line(baseline: &str, needle: &str) -> usize {
    let text = std::fs::read_to_string(root().join("baselines").join(baseline)).unwrap();
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} in {baseline}"));
    text[..at]
        .rfind("[[control.setting]]")
        .map(|h| text[..h].lines().count() + 1)
        .unwrap()
}

#[test]
fn script_enforcement_without_signing_is_refused_at_the_setting() {
    let tmp = TempDir::new("signing-required");
    let (atm, _) = bank_with_signing(tmp.path(), "");
    let r = run(&["check", atm.to_str().unwrap(), "--color", "never"]);
    assert_eq!(r.status, 2, "{}", r.stderr);
    let all_signed = setting_line("function.toml", "data = \"AllSigned\"");
    let applocker = setting_line("function.toml", "collection = \"script\"");
    let first = "error[unsigned-scripts]: control FUN-APP-007 sets the PowerShell execution policy to AllSigned by Group Policy, which overrides `-ExecutionPolicy Bypass`, but the profile does not sign its scripts\n";
    assert!(r.stderr.contains(first), "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "--> <built-in>/baselines/function.toml:{all_signed}:1\n"
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(
            "error[unsigned-scripts]: control FUN-APP-003 enforces AppLocker script rules, but the profile does not sign its scripts\n"
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!(
            "--> <built-in>/baselines/function.toml:{applocker}:1\n"
        )),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("= note: hardbase's own Apply, Restore and collector would stop running once this takes effect, and with them the way back"), "{}", r.stderr);
    assert!(r.stderr.contains("add a [signing] table"), "{}", r.stderr);
    // WDAC (FUN-APP-001) is excluded under a waiver: it enforces nothing, so it is not reported.
    assert_eq!(
        r.stderr.matches("error[unsigned-scripts]").count(),
        2,
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.ends_with("error: 2 errors found\n"),
        "{}",
        r.stderr
    );

    // The same profile with its [signing] table back is accepted.
    let again = TempDir::new("signing-required-signed");
    let (signed, _) = bank_with_signing(again.path(), SIGNING_TABLE);
    assert_eq!(run(&["check", signed.to_str().unwrap()]).status, 0);
}

#[test]
fn a_profile_signed_on_the_build_host_is_not_built_unsigned() {
    let tmp = TempDir::new("signing-build-host");
    let (atm, fleet) = bank_with_signing(tmp.path(), "[signing]\nmethod = \"build-host\"\n");
    let out = tmp.path().join("dist");
    let r = run(&[
        "build",
        atm.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--color",
        "never",
    ]);
    assert_eq!(r.status, 2, "{}", r.stderr);
    let text = std::fs::read_to_string(&fleet).unwrap();
    let line = text
        .lines()
        .position(|l| l == "method = \"build-host\"")
        .unwrap()
        + 1;
    let expected = format!(
        "error[unsigned-scripts]: profile `branch-atm-shinjuku` is signed on the build host, but the build was not asked to sign\n   --> {}:{line}:10\n",
        fleet.display()
    );
    assert!(r.stderr.starts_with(&expected), "{}", r.stderr);
    assert!(r.stderr.contains("nothing was written"), "{}", r.stderr);
    assert!(
        !out.exists(),
        "nothing is written when the build is refused"
    );
}

#[test]
fn hostile_signing_values_are_refused_at_their_line() {
    let tmp = TempDir::new("signing-hostile");
    let (atm, fleet) = bank_with_signing(
        tmp.path(),
        "[signing]\nmethod = \"windows-host\"\ncertificate_thumbprint = \"3F2A'; Remove-Item C:\\\\ -Recurse #\"\ntimestamp_server = \"http://ts.example/$(Stop-Computer)\"\n",
    );
    let r = run(&["check", atm.to_str().unwrap(), "--color", "never"]);
    assert_eq!(r.status, 2, "{}", r.stderr);
    let text = std::fs::read_to_string(&fleet).unwrap();
    let line_of = |key: &str| text.lines().position(|l| l.starts_with(key)).unwrap() + 1;
    assert!(
        r.stderr.contains(&format!(
            "error[invalid-value]: `3F2A'; Remove-Item C:\\ -Recurse #` is not a certificate thumbprint\n   --> {}:{}:26\n",
            fleet.display(),
            line_of("certificate_thumbprint")
        )),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!(
            "error[invalid-value]: `http://ts.example/$(Stop-Computer)` is not a time-stamp server URL\n   --> {}:{}:20\n",
            fleet.display(),
            line_of("timestamp_server")
        )),
        "{}",
        r.stderr
    );
    // The two values, and nothing in consequence of them.
    assert!(
        r.stderr.ends_with("error: 2 errors found\n"),
        "{}",
        r.stderr
    );

    // A Windows signing host without a thumbprint cannot pick a certificate.
    let tmp = TempDir::new("signing-no-thumbprint");
    let (atm, _) = bank_with_signing(tmp.path(), "[signing]\nmethod = \"windows-host\"\n");
    let r = run(&["check", atm.to_str().unwrap(), "--color", "never"]);
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .starts_with("error[missing-key]: missing key `certificate_thumbprint` in [signing]\n"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.ends_with("error: 1 error found\n"), "{}", r.stderr);
}

/// The `'…'` literals of `$Scripts` entries in Sign-Hardbase.ps1: (path, sha256).
fn signing_list(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim().strip_prefix("@{ Path = '")?;
            let (path, rest) = l.split_once("'; Sha256 = '")?;
            let (sha, _) = rest.split_once('\'')?;
            Some((path.replace('\\', "/"), sha.to_string()))
        })
        .collect()
}

/// Signs one file in place with osslsigncode (the same block layout Set-AuthenticodeSignature
/// appends to a script).
fn sign_in_place(file: &Path, cert: &Path, key: &Path) {
    let signed = file.with_extension("signed");
    let out = Command::new("osslsigncode")
        .args(["sign", "-h", "sha256", "-certs"])
        .arg(cert)
        .arg("-key")
        .arg(key)
        .arg("-in")
        .arg(file)
        .arg("-out")
        .arg(&signed)
        .output()
        .expect("osslsigncode runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::rename(&signed, file).unwrap();
}

#[test]
fn the_windows_signing_host_script_covers_every_script_and_verify_accepts_its_signatures() {
    let tmp = TempDir::new("signing-windows-host");
    let dist = tmp.path().join("dist");
    let r = run(&["build", ATM, "--out", dist.to_str().unwrap()]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let atm = dist.join("branch-atm-shinjuku");
    let bytes = std::fs::read(atm.join("signing/Sign-Hardbase.ps1")).unwrap();
    crate::windows_powershell::check_file_bytes("Sign-Hardbase.ps1", &bytes);
    let source = std::str::from_utf8(&bytes[3..]).unwrap();
    let tree = crate::windows_powershell::parse(source);
    let problems = crate::windows_powershell::syntax_problems(&tree, source);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let ps7 = crate::windows_powershell::ps7_constructs(&tree, source);
    assert!(ps7.is_empty(), "{}", ps7.join("\n"));
    assert!(source.contains("$Thumbprint = '3F2A9C1B7D4E6F80A1B2C3D4E5F60718293A4B5C'"));
    assert!(source.contains("Set-AuthenticodeSignature @arguments"));

    // Every script that reaches the terminal is listed with the SHA-256 of the built bytes.
    let listed = signing_list(source);
    let shipped: Vec<String> = scripts(&atm.join("windows"))
        .iter()
        .map(|p| {
            p.strip_prefix(&atm)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    assert_eq!(
        listed.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(),
        shipped
    );
    for (path, sha) in &listed {
        let digest: String = sha2_hex(&std::fs::read(atm.join(path)).unwrap());
        assert_eq!(&digest, sha, "{path}");
    }
    // Apply refuses to start unless those scripts are signed by the profile's certificate.
    let apply = std::fs::read_to_string(atm.join("windows/Apply-Hardbase.ps1")).unwrap();
    assert!(apply.contains("$SigningMethod = 'windows-host'"));
    assert!(apply.contains("$SigningThumbprint = '3F2A9C1B7D4E6F80A1B2C3D4E5F60718293A4B5C'"));
    assert!(apply.contains("if (-not $NoSignatureCheck) { foreach ($p in @(Get-SignatureProblems)) { $problems.Add($p) } }"));
    assert!(apply.contains("    $problems = Get-PreflightProblems\r\n"));
    // Restore is the way back: it runs whenever PowerShell lets it run.
    let restore = std::fs::read_to_string(atm.join("windows/Restore-Hardbase.ps1")).unwrap();
    assert!(restore.contains("    $problems = Get-PreflightProblems -NoSignatureCheck\r\n"));
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(atm.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["signing"]["method"], "windows-host");

    let Some((cert, key)) = test_certificate(tmp.path()) else {
        return;
    };
    for (path, _) in &listed {
        sign_in_place(&atm.join(path), &cert, &key);
    }
    let r = run(&[
        "verify",
        atm.to_str().unwrap(),
        "--check-signatures",
        "--ca",
        cert.to_str().unwrap(),
    ]);
    for (path, _) in &listed {
        let line = format!("signed: {}/{path}, signature verified\n", atm.display());
        assert!(r.stdout.contains(&line), "{line}\n{}", r.stdout);
    }
    assert!(!r.stdout.contains("changed: "), "{}", r.stdout);
    // The signing script itself stays on the signing host, unsigned: the only finding.
    assert!(r.stdout.contains("unsigned: "), "{}", r.stdout);
    assert_eq!(
        r.stdout.matches("signature INVALID").count(),
        1,
        "{}",
        r.stdout
    );

    // A byte changed in a signed script's body is a changed artefact, signature or not.
    let apply_path = atm.join("windows/Apply-Hardbase.ps1");
    let mut signed = std::fs::read(&apply_path).unwrap();
    let at = signed.windows(7).position(|w| w == b"$Phases").unwrap();
    signed[at + 1] = b'Q';
    std::fs::write(&apply_path, &signed).unwrap();
    let r = run(&["verify", atm.to_str().unwrap()]);
    assert_eq!(r.status, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains(&format!(
            "changed: {}/windows/Apply-Hardbase.ps1\n",
            atm.display()
        )),
        "{}",
        r.stdout
    );
}

fn sha2_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

//! BitLocker on an unattended terminal: TPM and PIN is allowed but `check` warns where it is set,
//! naming the restarts that would stop at the PIN prompt.

use crate::util::{atm_profile, override_baseline, run_in, TempDir};

/// The example ATM with FUN-DSK-001 overridden under `--baselines` to use `protector`; the
/// arguments of `check` and the override's line of the `[[control.setting]]` header.
fn with_protector(tmp: &TempDir, protector: &str) -> (Vec<String>, usize) {
    atm_profile(tmp.path(), "");
    let kind_line = override_baseline(
        tmp.path(),
        "function.toml",
        "FUN-DSK-001",
        "kind = \"bitlocker\"",
        &format!("kind = \"bitlocker\"\nencryption_method = \"xts-aes-256\"\nos_protector = \"{protector}\"\nrequire_recovery_escrow = true"),
    );
    let baselines = tmp.path().join("baselines");
    (
        vec![
            "--baselines".into(),
            baselines.display().to_string(),
            "check".into(),
            "atm.toml".into(),
            "--color".into(),
            "never".into(),
        ],
        kind_line - 2,
    )
}

#[test]
fn tpm_and_pin_on_an_atm_is_a_warning_naming_the_restarts() {
    let tmp = TempDir::new("bitlocker-pin");
    let (args, kind_line) = with_protector(&tmp, "tpm-and-pin");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run_in(tmp.path(), &args);
    // A warning: the profile is still accepted.
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("warning[lockdown-conflict]: control FUN-DSK-001 protects the system volume with TPM and PIN on an unattended terminal: every restart waits for the PIN at the console\n"),
        "{}",
        r.stderr
    );
    let at = format!("override.toml:{kind_line}:1\n");
    assert!(r.stderr.contains(&at), "{at}\n{}", r.stderr);
    // The example ATM has a write filter (FUN-DSK-003) and a kiosk shell that restarts the shell,
    // not the device: only the filter's restart is named.
    assert!(r.stderr.contains("= note: the write filter restarts the device when its overlay is full, and would then stop at the PIN prompt"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("kiosk shell restarts the device"),
        "{}",
        r.stderr
    );
    assert_eq!(
        r.stderr.matches("warning[lockdown-conflict]").count(),
        1,
        "{}",
        r.stderr
    );

    let tmp = TempDir::new("bitlocker-tpm");
    let (args, _) = with_protector(&tmp, "tpm");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run_in(tmp.path(), &args);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("lockdown-conflict"), "{}", r.stderr);
}

//! Every diagnostic code, with its whole stderr asserted.
//!
//! Each case is a folder under `tests/fixtures/` checked against the small
//! test catalog in `tests/fixtures/catalog` (the built-in catalog is left out
//! with `--no-builtin`, so these expectations do not move when it grows).

use crate::util::{fixtures, run_in};

fn check_case(case: &str) -> crate::util::Run {
    run_in(
        &fixtures().join(case),
        &[
            "--no-builtin",
            "--baselines",
            "../catalog",
            "check",
            "profile.toml",
            "--at",
            "2026-11-27",
        ],
    )
}

fn assert_stderr(case: &str, expected: &str) {
    let run = check_case(case);
    assert_eq!(run.status, 2, "{case}: exit status");
    assert_eq!(run.stdout, "", "{case}: nothing on stdout");
    assert_eq!(run.stderr, expected, "{case}: stderr");
}

#[test]
fn syntax() {
    assert_stderr(
        "syntax",
        r#"error[syntax]: invalid TOML: invalid basic string, expected `"`
  --> profile.toml:2:21
  |
2 | role = "atm-terminal
  |                     ^ invalid basic string, expected `"`

error: 1 error found
"#,
    );
}

#[test]
fn unknown_key() {
    assert_stderr(
        "unknown-key",
        r#"error[unknown-key]: unknown key `colour` in [profile]
  --> profile.toml:5:1
  |
5 | colour = "blue"
  | ^^^^^^ not a known key
  |
  = note: expected one of: name, description, role, platform, membership, extends, tiers, include, exclude

error: 1 error found
"#,
    );
}

#[test]
fn wrong_type() {
    assert_stderr(
        "wrong-type",
        r#"error[wrong-type]: parameter `log_port` must be a port number (1-65535), found a string
  --> profile.toml:8:12
  |
8 | log_port = "6514"
  |            ^^^^^^ expected a port number (1-65535)

error: 1 error found
"#,
    );
}

#[test]
fn unknown_param() {
    assert_stderr(
        "unknown-param",
        r#"error[unknown-param]: unknown parameter `log_colector`
  --> profile.toml:8:1
  |
8 | log_colector = "10.30.0.6"
  | ^^^^^^^^^^^^ no control declares this parameter
  |
  = help: did you mean `log_collector`?

error: 1 error found
"#,
    );
}

#[test]
fn missing_param() {
    assert_stderr(
        "missing-param",
        r#"error[missing-param]: missing required parameter `log_collector`
   --> profile.toml:1:1
   |
 1 | [profile]
   | ^^^^^^^^^ this profile needs `log_collector` (an IPv4 address)
   |
   --> ../catalog/controls.toml:15:17
   |
15 | [control.params.log_collector]
   |                 ------------- declared by TST-FW-001: Address of the log collector
   |
   = note: required by TST-FW-001
   = note: set it under [params] in one of: bank.toml, profile.toml

error: 1 error found
"#,
    );
}

#[test]
fn unknown_control() {
    assert_stderr(
        "unknown-control",
        r#"error[unknown-control]: unknown control `TST-FW-01` in include
  --> profile.toml:5:12
  |
5 | include = ["TST-FW-01"]
  |            ^^^^^^^^^^^ no control has this id
  |
  = help: did you mean `TST-FW-001`?

error: 1 error found
"#,
    );
}

#[test]
fn extends_cycle() {
    assert_stderr(
        "extends-cycle",
        r#"error[extends-cycle]: `extends` forms a cycle through layers/site.toml
  --> bank.toml:2:12
  |
2 | extends = ["layers/site.toml"]
  |            ^^^^^^^^^^^^^^^^^^ this entry closes the cycle
  |
  = note: cycle: layers/site.toml -> bank.toml -> layers/site.toml

error: 1 error found
"#,
    );
}

#[test]
fn missing_extends() {
    assert_stderr(
        "missing-extends",
        r#"error[missing-extends]: cannot find the layer `../common/bank.toml`
  --> profile.toml:5:12
  |
5 | extends = ["../common/bank.toml"]
  |            ^^^^^^^^^^^^^^^^^^^^^ no such file
  |
  = note: `extends` paths are relative to the file that contains them

error: 1 error found
"#,
    );
}

#[test]
fn expired_waiver() {
    assert_stderr(
        "expired-waiver",
        r#"error[expired-waiver]: the waiver for TST-REG-001 expired on 2026-10-31
   --> profile.toml:16:11
   |
16 | expires = 2026-10-31
   |           ^^^^^^^^^^ expired; evaluated as of 2026-11-27
   |
   = note: renew the waiver (ticket SEC-1042) or remove the exclusion; `--at DATE` evaluates as of another day

error: 1 error found
"#,
    );
}

#[test]
fn unwaived_exclusion() {
    assert_stderr(
        "unwaived-exclusion",
        r#"error[unwaived-exclusion]: control TST-REG-001 is excluded without a waiver
  --> profile.toml:5:12
  |
5 | exclude = ["TST-REG-001"]
  |            ^^^^^^^^^^^^^ excluding a control needs a waiver
  |
  = note: add [waivers."TST-REG-001"] with reason, approved_by, ticket, scope = "exclude", compensating_control and expires

error: 1 error found
"#,
    );
}

#[test]
fn conflicting_settings() {
    assert_stderr(
        "conflicting-settings",
        r#"error[conflicting-settings]: controls TST-REG-001 and TST-REG-002 set registry HKLM\software\microsoft\windows\currentversion\policies\explorer\noautorun to different values
   --> ../catalog/controls.toml:65:1
   |
46 | [[control.setting]]
   | ------------------- TST-REG-001 sets it here
   .
65 | [[control.setting]]
   | ^^^^^^^^^^^^^^^^^^^ TST-REG-002 sets: HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\Explorer\NoAutorun = 0 (REG_DWORD)
   |
   = note: exclude one of the controls under a waiver, or give them parameters that agree

error: 1 error found
"#,
    );
}

#[test]
fn unwaived_weakening() {
    assert_stderr(
        "unwaived-weakening",
        r#"error[unwaived-weakening]: parameter `lockout_threshold` weakens control TST-ACC-001 without a waiver
   --> profile.toml:8:21
   |
 8 | lockout_threshold = 10
   |                     ^^ 10 is above the baseline maximum of 5
   |
   --> ../catalog/controls.toml:84:17
   |
84 | [control.params.lockout_threshold]
   |                 ----------------- the baseline is declared here
   |
   = note: add [waivers."TST-ACC-001"] with scope = "weaken", or keep the baseline value

error: 1 error found
"#,
    );
}

#[test]
fn secret_in_profile() {
    assert_stderr(
        "secret-in-profile",
        r#"error[secret-in-profile]: parameter `kiosk_password` is a secret and must not have a value in a profile
  --> profile.toml:8:18
  |
8 | kiosk_password = "hunter2"
  |                  ^^^^^^^^^ remove this value
  |
  = note: secrets are supplied when Apply runs and are never written into a profile, a manifest or a log

error: 1 error found
"#,
    );
}

#[test]
fn invalid_value() {
    assert_stderr(
        "invalid-value",
        r#"error[invalid-value]: invalid value for parameter `log_collector`: "10.30.0.256" is not an IPv4 address
  --> profile.toml:7:17
  |
7 | log_collector = "10.30.0.256"
  |                 ^^^^^^^^^^^^^ invalid value

error: 1 error found
"#,
    );
}

/// A firewall default-deny that would cut a flow the role declares is refused.
#[test]
fn blocked_flow() {
    let dir = fixtures().join("blocked-flow");
    let args = [
        "--no-builtin",
        "--baselines",
        "catalog",
        "check",
        "profile.toml",
        "--at",
        "2026-11-27",
    ];
    let run = run_in(&dir, &args);
    assert_eq!(run.status, 2);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        r#"error[blocked-flow]: the outbound default-deny leaves the `log-forwarding` flow (tcp port 6514 to 10.10.3.5) without an allow rule
   --> profile.toml:1:1
   |
 1 | [profile]
   | ^^^^^^^^^ this profile would cut its own `log-forwarding` flow
   |
   --> catalog/controls.toml:4:6
   |
 4 | id = "log-forwarding"
   |      ---------------- the flow is declared here
   .
22 | [[control.setting]]
   | ------------------- TST-FW-010 sets the outbound default to block
   |
   = note: the flow: Logs forwarded to the monitoring server
   = note: keep (or include) the control that allows this flow, or add an allow rule for it

error: 1 error found
"#
    );
    // With the control that allows the flow kept, the same default-deny is fine.
    let ok = run_in(
        &dir,
        &[
            "--no-builtin",
            "--baselines",
            "catalog",
            "check",
            "allowed.toml",
            "--at",
            "2026-11-27",
        ],
    );
    assert_eq!(ok.status, 0, "{}", ok.stderr);
}

/// User rights that would cut the Remote Desktop administrative path of a workgroup server.
#[test]
fn blocked_admin_path() {
    let dir = fixtures().join("admin-path");
    let run = run_in(
        &dir,
        &[
            "--no-builtin",
            "--baselines",
            "catalog",
            "check",
            "workgroup.toml",
        ],
    );
    assert_eq!(run.status, 2);
    assert!(
        run.stderr.starts_with("error[blocked-flow]: control TST-PRV-005 denies Remote Desktop logon to local accounts, and a workgroup server is administered with local accounts, which cuts the `management-rdp` flow\n"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--> workgroup.toml:1:1\n"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("TST-PRV-005 sets SeDenyRemoteInteractiveLogonRight"),
        "{}",
        run.stderr
    );
    // A domain member is administered with domain accounts: the same rights are fine.
    let ok = run_in(
        &dir,
        &[
            "--no-builtin",
            "--baselines",
            "catalog",
            "check",
            "domain.toml",
        ],
    );
    assert_eq!(ok.status, 0, "{}", ok.stderr);
}

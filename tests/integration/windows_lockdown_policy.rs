//! The registry-backed lockdown settings of the example ATM, read back by Samba from the
//! built registry.pol and compared with the facts of windows-lockdown.md (key, value, type and
//! data as the ADMX files define them), plus the `check` refusals that keep the lockdown kinds
//! from mixing GUID families or excluding what the write filter must protect.

use serde_json::Value;

use crate::util::{
    atm_profile, override_baseline, python_with, root, run, run_in, run_python, TempDir,
};

/// Every Machine registry.pol entry as `[key, value, type, data]` (Samba's reading).
const DUMP: &str = r#"
import json, sys
from samba.ndr import ndr_unpack
from samba.dcerpc import preg
f = ndr_unpack(preg.file, open(sys.argv[1], 'rb').read())
print(json.dumps([[e.keyname, e.valuename, e.type, e.data] for e in f.entries]))
"#;

const REG_SZ: u64 = 1;
const REG_DWORD: u64 = 4;

fn machine_pol_entries(python: &std::path::Path, profile_dir: &std::path::Path) -> Vec<Value> {
    let gpo = profile_dir.join("windows/gpo");
    let backup = std::fs::read_dir(&gpo)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .expect("a GPO backup folder");
    let pol = backup.join("DomainSysvol/GPO/Machine/registry.pol");
    let out = run_python(python, DUMP, [pol.as_os_str()]);
    serde_json::from_slice::<Vec<Value>>(&out).unwrap()
}

/// The entry for `key`\`value` (names compare without case, as Windows does).
fn find<'a>(entries: &'a [Value], key: &str, value: &str) -> Option<&'a Value> {
    entries.iter().find(|e| {
        e[0].as_str().unwrap().eq_ignore_ascii_case(key)
            && e[1].as_str().unwrap().eq_ignore_ascii_case(value)
    })
}

fn expect(entries: &[Value], key: &str, value: &str, ty: u64, data: Value) {
    let e =
        find(entries, key, value).unwrap_or_else(|| panic!("registry.pol has no {key}\\{value}"));
    assert_eq!(e[2].as_u64(), Some(ty), "{key}\\{value} type");
    assert_eq!(e[3], data, "{key}\\{value} data");
}

#[test]
fn the_example_atm_lockdown_is_in_registry_pol_as_the_reference_defines_it() {
    let Some(python) = python_with(&["samba.ndr", "samba.dcerpc.preg"]) else {
        return;
    };
    let tmp = TempDir::new("lockdown-policy");
    let out = tmp.path().join("dist");
    let r = run(&[
        "build",
        "examples/regional-bank/branch-atm-shinjuku.toml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let entries = machine_pol_entries(&python, &out.join("branch-atm-shinjuku"));

    // §5 DeviceInstallation.admx: flags are REG_DWORD 1; lists are values 1, 2, … (REG_SZ) in
    // the same-named subkey, replaced as a whole (`**delvals.` first).
    let restrictions = r"Software\Policies\Microsoft\Windows\DeviceInstall\Restrictions";
    expect(
        &entries,
        restrictions,
        "DenyUnspecified",
        REG_DWORD,
        1.into(),
    );
    expect(
        &entries,
        restrictions,
        "AllowDeviceIDs",
        REG_DWORD,
        1.into(),
    );
    let list = format!(r"{restrictions}\AllowDeviceIDs");
    let at = |v: &str| {
        entries
            .iter()
            .position(|e| {
                e[0].as_str().unwrap().eq_ignore_ascii_case(&list)
                    && e[1].as_str().unwrap().eq_ignore_ascii_case(v)
            })
            .unwrap_or_else(|| panic!("{list}\\{v}"))
    };
    assert!(
        at("**delvals.") < at("1"),
        "the list is cleared before it is written"
    );
    for (i, id) in [
        "USB\\VID_0B00&PID_0001",
        "USB\\VID_0B00&PID_0002",
        "USB\\VID_0B00&PID_0003",
        "USB\\VID_0B00&PID_0004",
    ]
    .iter()
    .enumerate()
    {
        expect(&entries, &list, &(i + 1).to_string(), REG_SZ, (*id).into());
    }

    // §5 RemovableStorage.admx: "All Removable Storage classes: Deny all access".
    expect(
        &entries,
        r"Software\Policies\Microsoft\Windows\RemovableStorageDevices",
        "Deny_All",
        REG_DWORD,
        1.into(),
    );

    // §6 AutoPlay.admx: Turn off Autoplay on all drives (255), no AutoRun commands (1), no
    // AutoPlay for non-volume devices.
    let explorer = r"Software\Microsoft\Windows\CurrentVersion\Policies\Explorer";
    expect(
        &entries,
        explorer,
        "NoDriveTypeAutoRun",
        REG_DWORD,
        255.into(),
    );
    expect(&entries, explorer, "NoAutorun", REG_DWORD, 1.into());
    expect(
        &entries,
        r"Software\Policies\Microsoft\Windows\Explorer",
        "NoAutoplayfornonVolume",
        REG_DWORD,
        1.into(),
    );

    // §8 VolumeEncryption.admx: XTS-AES 256 is 7; TPM only = additional authentication
    // required (UseAdvancedStartup 1), TPM required (1), the PIN and key options not allowed (0).
    let fve = r"Software\Policies\Microsoft\FVE";
    expect(
        &entries,
        fve,
        "EncryptionMethodWithXtsOs",
        REG_DWORD,
        7.into(),
    );
    expect(&entries, fve, "UseAdvancedStartup", REG_DWORD, 1.into());
    expect(&entries, fve, "EnableBDEWithNoTPM", REG_DWORD, 0.into());
    expect(&entries, fve, "UseTPM", REG_DWORD, 1.into());
    for v in ["UseTPMPIN", "UseTPMKey", "UseTPMKeyPIN"] {
        expect(&entries, fve, v, REG_DWORD, 0.into());
    }

    // §7 AppLocker in registry.pol: SrpV2\<Collection> EnforcementMode (1 = Enabled),
    // AllowWindows 0, one subkey per rule holding its XML in `Value` (REG_SZ).
    let script = r"Software\Policies\Microsoft\Windows\SrpV2\Script";
    expect(&entries, script, "EnforcementMode", REG_DWORD, 1.into());
    expect(&entries, script, "AllowWindows", REG_DWORD, 0.into());
    let rules: Vec<&Value> = entries
        .iter()
        .filter(|e| {
            let k = e[0].as_str().unwrap();
            k.len() > script.len() + 1
                && k[..script.len()].eq_ignore_ascii_case(script)
                && e[1] == "Value"
        })
        .collect();
    assert_eq!(rules.len(), 3, "{rules:?}");
    for rule in rules {
        assert_eq!(rule[2].as_u64(), Some(REG_SZ));
        assert!(
            rule[3].as_str().unwrap().starts_with("<FilePathRule "),
            "{rule}"
        );
    }

    // §10 PowerShellExecutionPolicy.admx: "Turn on Script Execution", "Allow only signed scripts".
    let ps = r"Software\Policies\Microsoft\Windows\PowerShell";
    expect(&entries, ps, "EnableScripts", REG_DWORD, 1.into());
    expect(&entries, ps, "ExecutionPolicy", REG_SZ, "AllSigned".into());

    // GUID families never mix (pitfall 5): no storage-interface GUID under DeviceInstall, no
    // setup-class GUID under RemovableStorageDevices.
    for e in &entries {
        let (k, v) = (
            e[0].as_str().unwrap().to_ascii_lowercase(),
            e[3].to_string().to_ascii_lowercase(),
        );
        if k.contains(r"\deviceinstall\") {
            assert!(!k.contains("53f563") && !v.contains("53f563"), "{e}");
        }
        if k.contains(r"\removablestoragedevices\") {
            assert!(!k.contains("-e325-11ce-bfc1-08002be10318"), "{e}");
        }
    }
}

/// The example ATM with one baseline control's setting replaced under `--baselines`.
fn override_setting(tmp: &TempDir, control: &str, from: &str, setting: &str) -> Vec<String> {
    atm_profile(tmp.path(), "");
    override_baseline(tmp.path(), "function.toml", control, from, setting);
    vec![
        "--baselines".into(),
        tmp.path().join("baselines").display().to_string(),
        "--color".into(),
        "never".into(),
    ]
}

#[test]
fn per_class_storage_denials_use_the_reference_interface_guids() {
    let Some(python) = python_with(&["samba.ndr", "samba.dcerpc.preg"]) else {
        return;
    };
    let tmp = TempDir::new("lockdown-storage-classes");
    let mut args = override_setting(
        &tmp,
        "FUN-DEV-001",
        "kind = \"removable_storage\"",
        "kind = \"removable_storage\"\nclass = \"wpd\"\ndeny_read = true\ndeny_write = true\n\n[[control.setting]]\nplatform = \"windows\"\nkind = \"removable_storage\"\nclass = \"removable-disk\"\ndeny_read = true\ndeny_write = true\ndeny_execute = true",
    );
    args.extend([
        "build".into(),
        "atm.toml".into(),
        "--out".into(),
        "dist".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run_in(tmp.path(), &args);
    assert_eq!(r.status, 0, "{}", r.stderr);
    let entries = machine_pol_entries(&python, &tmp.path().join("dist/atm"));
    let base = r"Software\Policies\Microsoft\Windows\RemovableStorageDevices";
    // WPD is written under both of its keys; no Deny_Execute exists for it.
    for wpd in [
        "{6AC27878-A6FA-4155-BA85-F98F491D4F33}",
        "{F33FDC04-D1AC-4E8E-9A30-19BBD4B108AE}",
    ] {
        let key = format!(r"{base}\{wpd}");
        expect(&entries, &key, "Deny_Read", REG_DWORD, 1.into());
        expect(&entries, &key, "Deny_Write", REG_DWORD, 1.into());
        assert!(find(&entries, &key, "Deny_Execute").is_none());
    }
    let disk = format!(r"{base}\{{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}}");
    for v in ["Deny_Read", "Deny_Write", "Deny_Execute"] {
        expect(&entries, &disk, v, REG_DWORD, 1.into());
    }
    assert!(find(&entries, base, "Deny_All").is_none());
}

#[test]
fn a_storage_interface_guid_is_not_a_device_setup_class() {
    let tmp = TempDir::new("lockdown-guid-family");
    let mut args = override_setting(
        &tmp,
        "FUN-DEV-002",
        "kind = \"device_install\"",
        "kind = \"device_install\"\nlayered = true\ndeny_unspecified = false\nallow_device_ids = [\"${peripheral_device_ids}\"]\ndeny_classes = [\"{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}\"]",
    );
    args.extend(["check".into(), "atm.toml".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run_in(tmp.path(), &args);
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("`{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}` is the removable disk storage interface GUID of the removable-storage policy, not a device setup class"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("override.toml:"), "{}", r.stderr);
}

#[test]
fn the_write_filter_never_excludes_what_windows_needs_protected() {
    let example = root().join("examples/regional-bank/branch-atm-shinjuku.toml");
    let cases = [
        (
            r"C:\Windows\System32\config",
            "the registry hives in System32\\config cannot be excluded",
        ),
        (
            r"C:\Windows",
            "the Windows, System32 and Drivers folders cannot be excluded",
        ),
        (r"C:\", "a volume root cannot be excluded"),
        (
            r"C:\Users\atmkiosk",
            "it holds a user's NTUSER.DAT, which cannot be excluded",
        ),
        (
            r"C:\Windows\bootstat.dat",
            "NTUSER.DAT and BOOTSTAT.DAT cannot be excluded",
        ),
        (r"C:\pagefile.sys", "paging files cannot be excluded"),
        (r"D:\journal", "is not on the protected volume C:"),
        (r"C:\ATMApp\..\Windows", "contains `.` or `..`"),
        (
            "C:\\ATMApp\\$(Stop-Computer)",
            "may not contain quotes, `$`, wildcards",
        ),
    ];
    for (path, why) in cases {
        let tmp = TempDir::new("lockdown-uwf");
        std::fs::write(
            tmp.path().join("atm.toml"),
            format!(
                "[profile]\nname = \"atm\"\nextends = [{:?}]\n\n[params]\nuwf_file_exclusions = ['C:\\ATMApp\\journal', '{path}']\n",
                example.display().to_string()
            ),
        )
        .unwrap();
        let r = run_in(tmp.path(), &["check", "atm.toml", "--color", "never"]);
        assert_eq!(r.status, 2, "{path}: {}", r.stderr);
        assert!(r.stderr.contains(why), "{path}: {}", r.stderr);
        // At the profile's own value, not only at the catalog.
        assert!(
            r.stderr.contains("--> atm.toml:6:23"),
            "{path}: {}",
            r.stderr
        );
    }
    // The declared application folders pass.
    let tmp = TempDir::new("lockdown-uwf-ok");
    std::fs::write(
        tmp.path().join("atm.toml"),
        format!(
            "[profile]\nname = \"atm\"\nextends = [{:?}]\n\n[params]\nuwf_file_exclusions = ['C:\\ATMApp\\journal', 'C:\\ATMApp\\logs']\n",
            example.display().to_string()
        ),
    )
    .unwrap();
    let r = run_in(tmp.path(), &["check", "atm.toml"]);
    assert_eq!(r.status, 0, "{}", r.stderr);
}

#[test]
fn the_write_filter_needs_its_feature_in_the_same_profile() {
    // The feature removed instead of enabled: refused at both settings.
    let tmp = TempDir::new("lockdown-feature-disabled");
    let mut args = override_setting(
        &tmp,
        "FUN-DSK-003",
        "kind = \"optional_feature\"",
        "kind = \"optional_feature\"\nname = \"Client-UnifiedWriteFilter\"\nstate = \"disabled\"",
    );
    args.extend(["check".into(), "atm.toml".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run_in(tmp.path(), &args);
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("error[lockdown-conflict]: control FUN-DSK-003 configures the Unified Write Filter, but the profile removes its feature Client-UnifiedWriteFilter\n"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("the feature is disabled here"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.ends_with("error: 1 error found\n"), "{}", r.stderr);

    // The feature left out: refused with the fix.
    let tmp = TempDir::new("lockdown-feature-missing");
    let mut args = override_setting(
        &tmp,
        "FUN-DSK-003",
        "kind = \"optional_feature\"",
        "kind = \"optional_feature\"\nname = \"WorkFolders-Client\"\nstate = \"disabled\"",
    );
    args.extend(["check".into(), "atm.toml".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run_in(tmp.path(), &args);
    assert_eq!(r.status, 2, "{}", r.stderr);
    assert!(
        r.stderr.starts_with("error[lockdown-conflict]: control FUN-DSK-003 configures the Unified Write Filter, but no setting of the profile enables its feature Client-UnifiedWriteFilter\n"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("add an `optional_feature` setting `Client-UnifiedWriteFilter`"),
        "{}",
        r.stderr
    );
}

/// Apply turns the write filter on only after every other phase of the cycle completed: in the
/// phase loop, the `Invoke-Phase` call is preceded by a guard that, for the WriteFilter phase,
/// reports the phases not completed as `blocked` and skips it.
#[test]
fn apply_turns_the_write_filter_on_only_after_every_other_phase() {
    use crate::windows_powershell::{all_nodes, command_name, examples, parse, text};
    let (_, state) = examples()
        .into_iter()
        .find(|(f, _)| f.starts_with("branch-atm"))
        .unwrap();
    let policy = hardbase::target::windows::policy::build(&state);
    let backup_id = hardbase::target::windows::gpo_backup::backup_id(&state.profile.name);
    let input = hardbase::target::windows::powershell::ScriptInput {
        state: &state,
        policy: &policy,
        backup_id: &backup_id,
    };
    let apply = hardbase::target::windows::powershell::apply(&input).unwrap();
    let tree = parse(&apply);
    let nodes = all_nodes(&tree);
    let loop_ = nodes
        .iter()
        .find(|n| {
            n.kind() == "foreach_statement"
                && text(**n, &apply).starts_with("foreach ($phase in $Phases)")
        })
        .expect("the phase loop");
    let inside = |n: &tree_sitter::Node| {
        n.start_byte() >= loop_.start_byte() && n.end_byte() <= loop_.end_byte()
    };
    let invoke = nodes
        .iter()
        .find(|n| {
            inside(n)
                && n.kind() == "command"
                && command_name(**n, &apply).as_deref() == Some("Invoke-Phase")
        })
        .expect("Invoke-Phase in the loop");
    let guard = nodes
        .iter()
        .find(|n| {
            inside(n)
                && n.kind() == "if_statement"
                && text(**n, &apply).starts_with("if ($phase -eq 'WriteFilter'")
        })
        .expect("a WriteFilter guard in the loop");
    assert!(
        guard.end_byte() < invoke.start_byte(),
        "the guard runs before the phase"
    );
    let body = text(*guard, &apply);
    assert!(body.contains("-not $completed.Contains($_)"), "{body}");
    assert!(body.contains("-Status 'blocked'"), "{body}");
    assert!(body.contains("continue"), "{body}");
    // WriteFilter is the last phase of the list the loop walks.
    assert!(
        apply.contains("'KioskShell', 'WriteFilter')"),
        "WriteFilter is the last phase"
    );
}

/// Recovery passwords never reach a log, a snapshot or any output: no generated script reads a
/// key protector's recovery password or external key, by property or by method.
#[test]
fn no_script_reads_bitlocker_key_material() {
    use crate::windows_powershell::{all_nodes, examples, parse, text};
    const FORBIDDEN: &[&str] = &[
        "RecoveryPassword",
        "GetKeyProtectorNumericalPassword",
        "GetKeyProtectorExternalKey",
        "BackupRecoveryInformationToActiveDirectory",
        "Backup-BitLockerKeyProtector",
        "BackupToAAD-BitLockerKeyProtector",
        "manage-bde",
    ];
    let mut looked_at = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for (profile, state) in examples() {
        let files = hardbase::target::emit(&state).unwrap();
        for (path, bytes) in files.iter().filter(|(p, _)| p.ends_with(".ps1")) {
            let source = std::str::from_utf8(&bytes[3..]).unwrap();
            let tree = parse(source);
            for node in all_nodes(&tree) {
                if !matches!(
                    node.kind(),
                    "member_name"
                        | "simple_name"
                        | "command_name"
                        | "string_literal"
                        | "generic_token"
                ) {
                    continue;
                }
                looked_at += 1;
                kinds.insert(node.kind());
                let t = text(node, source);
                for word in FORBIDDEN {
                    assert!(
                        !t.to_ascii_lowercase().contains(&word.to_ascii_lowercase()),
                        "{profile} {path}: `{t}` touches BitLocker key material"
                    );
                }
            }
            // The protector information any script takes is its type only.
            if source.contains("KeyProtector") {
                for line in source.lines().filter(|l| l.contains(".KeyProtector")) {
                    assert!(
                        line.contains("KeyProtectorType"),
                        "{profile} {path}: {line}"
                    );
                }
            }
        }
    }
    assert!(
        looked_at > 1000,
        "the scripts were walked ({looked_at} names)"
    );
    // Property and method names, commands and strings were all seen.
    for kind in ["member_name", "command_name", "string_literal"] {
        assert!(kinds.contains(kind), "{kind} not seen: {kinds:?}");
    }
}

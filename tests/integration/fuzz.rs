//! Bounded-time mutation fuzzing of every parser, on the stable toolchain (no cargo-fuzz).
//!
//! Each `#[ignore]`d test takes seed inputs (the real Windows samples, files hardbase's writers
//! produce, the built-in catalog and example profiles, typical collector output), mutates them
//! with bit flips, byte changes, insertions of format tokens, deletions, truncations,
//! duplications and splices, and feeds each result to one parser for `FUZZ_SECONDS` (default
//! 10), asserting that it returns instead of panicking. The generator is a xorshift64* seeded
//! from `FUZZ_SEED` (or the clock, printed so a run can be repeated). An input that panics, or
//! takes more than two seconds, is saved under `target/fuzz-crashes/` and fails the test;
//! keep it as a regression case in a non-ignored test.
//!
//! `fuzz/run.sh` runs them all: `FUZZ_SECONDS=20 fuzz/run.sh`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hardbase::snapshot::linux;
use hardbase::target::windows::audit_csv::{self, AuditRow};
use hardbase::target::windows::gpttmpl_inf::{self, InfRegistryValue, InfValue, SecurityTemplate};
use hardbase::target::windows::registry_pol::{self, PolData, PolEntry};

use crate::util::{root, TempDir};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Tokens that matter to one of the formats: delimiters, UTF-16 units, numbers at the edges.
const TOKENS: &[&[u8]] = &[
    b"[",
    b"]",
    b";",
    b"=",
    b",",
    b"\"",
    b"'",
    b"\\",
    b"\r\n",
    b"\n",
    b"\t",
    b" ",
    b"\0",
    b"[\0",
    b";\0",
    b"]\0",
    b"\0\0",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\xff\xff\xff\xff",
    b"\x00\x00\x01\x00",
    b"{",
    b"}",
    b"-",
    b"-1",
    b"0",
    b"4294967296",
    b"99999999999999999999",
    b"*S-1-5-32-544",
    b"#",
    b"${",
    b"[[",
    b"]]",
    b"\"\"\"",
    b"\xc3",
    b"\xe3\x81\x82",
    b"\xd8\x00",
    b"Option:",
    b"{0CCE9215-69AE-11D9-BED3-505054503030}",
    b"**del.",
    b"**delvals.",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(8) {
        let len = data.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = rng.next() as u8;
            }
            2 => {
                let i = rng.below(len + 1);
                data.insert(i, rng.next() as u8);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                data.drain(i..i + n);
            }
            4 => data.truncate(rng.below(len + 1)),
            5 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(256));
                let chunk = data[i..i + n].to_vec();
                let at = rng.below(len + 1);
                data.splice(at..at, chunk);
            }
            6 | 7 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                let at = rng.below(len + 1);
                data.splice(at..at, token.iter().copied());
            }
            _ => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let i = rng.below(other.len());
                    let n = 1 + rng.below((other.len() - i).min(512));
                    let at = rng.below(len + 1);
                    data.splice(at..at, other[i..i + n].iter().copied());
                }
            }
        }
    }
    data
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Feeds mutated seeds to `target` for the time budget; panics on the first crashing input.
fn fuzz(name: &str, seeds: Vec<Vec<u8>>, target: impl Fn(&[u8])) {
    assert!(!seeds.is_empty(), "{name}: no seeds");
    let seconds: f64 = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);
    let seed: u64 = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    let mut rng = Rng(seed.max(1)
        ^ name
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))));
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut iterations = 0u64;
    let mut queue: Vec<Vec<u8>> = seeds.clone();
    while start.elapsed() < budget {
        let input = queue.pop().unwrap_or_else(|| mutate(&mut rng, &seeds));
        let began = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| target(&input)));
        let slow = began.elapsed() > Duration::from_secs(2);
        if outcome.is_err() || slow {
            let dir = root().join("target").join("fuzz-crashes");
            let _ = std::fs::create_dir_all(&dir);
            let file = dir.join(format!("{name}-{seed}-{iterations}.bin"));
            let _ = std::fs::write(&file, &input);
            panic!(
                "FUZZ {name}: {} on input {} (seed {seed}, iteration {iterations}, {} bytes): {}",
                if slow { "took over 2 s" } else { "panic" },
                file.display(),
                input.len(),
                hex(&input[..input.len().min(512)])
            );
        }
        iterations += 1;
    }
    println!(
        "FUZZ {name}: {iterations} iterations in {:.1} s (FUZZ_SEED={seed})",
        start.elapsed().as_secs_f64()
    );
}

fn sample_files(ext: &str) -> Vec<Vec<u8>> {
    let dir = root().join("../shared/samples/windows");
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_type().is_file()
                && e.path()
                    .extension()
                    .is_some_and(|x| x.eq_ignore_ascii_case(ext))
        })
        .filter_map(|e| std::fs::read(e.path()).ok())
        .collect()
}

fn toml_files(dir: &Path) -> Vec<Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "toml"))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .collect()
}

#[test]
#[ignore = "fuzzing: run with fuzz/run.sh"]
fn fuzz_registry_pol() {
    let mut seeds = sample_files("pol");
    seeds.push(
        registry_pol::write(&[
            PolEntry::new(r"Software\Policies\A", "Sz", PolData::Sz("text".into())),
            PolEntry::new(
                r"Software\Policies\A",
                "X",
                PolData::ExpandSz("%windir%".into()),
            ),
            PolEntry::new(r"Software\Policies\A", "B", PolData::Binary(vec![0, 1, 2])),
            PolEntry::new(r"Software\Policies\A", "D", PolData::Dword(7)),
            PolEntry::new(
                r"Software\Policies\A",
                "M",
                PolData::MultiSz(vec!["a".into()]),
            ),
            PolEntry::new(r"Software\Policies\A", "Q", PolData::Qword(u64::MAX)),
            PolEntry::new(r"Software\Policies\A", "", PolData::None),
            PolEntry::delete_values(r"Software\Policies\L"),
            PolEntry::delete(r"Software\Policies\A", "Old"),
        ])
        .unwrap(),
    );
    fuzz("registry_pol", seeds, |b| {
        let _ = registry_pol::parse(b);
    });
}

#[test]
#[ignore = "fuzzing: run with fuzz/run.sh"]
fn fuzz_gpttmpl_inf() {
    let mut seeds = sample_files("inf");
    let template = SecurityTemplate {
        system_access: vec![
            ("MinimumPasswordLength".into(), InfValue::Number(14)),
            ("NewGuestName".into(), InfValue::Text("Visitor".into())),
        ],
        event_audit: vec![("AuditLogonEvents".into(), 3)],
        registry_values: vec![
            InfRegistryValue::dword(r"MACHINE\System\A\B", 1),
            InfRegistryValue::string(r"MACHINE\System\A\C", "x"),
            InfRegistryValue::multi_sz(r"MACHINE\System\A\M", &["a,b", "c"]).unwrap(),
        ],
        privilege_rights: vec![
            ("SeTcbPrivilege".into(), vec![]),
            ("SeBackupPrivilege".into(), vec!["*S-1-5-32-544".into()]),
        ],
        services: vec![gpttmpl_inf::InfService {
            name: "Spooler".into(),
            mode: 4,
            sddl: String::new(),
        }],
        other: vec![],
    };
    seeds.push(gpttmpl_inf::write(&template).unwrap());
    fuzz("gpttmpl_inf", seeds, |b| {
        let _ = gpttmpl_inf::parse(b);
    });
}

#[test]
#[ignore = "fuzzing: run with fuzz/run.sh"]
fn fuzz_audit_csv() {
    let mut seeds = sample_files("csv");
    seeds.push(audit_csv::write(&[AuditRow {
        machine_name: String::new(),
        policy_target: "System".into(),
        subcategory: "Audit Logon".into(),
        guid: "{0cce9215-69ae-11d9-bed3-505054503030}".into(),
        inclusion: "Success, \"and\" Failure".into(),
        exclusion: String::new(),
        value: "3".into(),
    }]));
    fuzz("audit_csv", seeds, |b| {
        let _ = audit_csv::parse(b);
    });
}

/// Typical collector output for each Linux snapshot file, plus this machine's own copy where
/// there is one.
fn linux_seeds(name: &str) -> Vec<Vec<u8>> {
    let typical: &str = match name {
        "sysctl.txt" => "kernel.kptr_restrict = 2\nnet.ipv4.ip_forward = 0\nkernel.domainname = \n",
        "unit-files.txt" => "ssh.service enabled enabled\ncups.service masked disabled\nfoo@.service static -\n",
        "sshd-T.txt" => "permitrootlogin no\nciphers aes256-gcm@openssh.com,aes128-ctr\nport 22\nlistenaddress 0.0.0.0:22\n",
        "nft.json" => r#"{"nftables":[{"metainfo":{"version":"1.0.6","json_schema_version":1}},{"table":{"family":"inet","name":"hardbase","handle":1}},{"chain":{"family":"inet","table":"hardbase","name":"input","handle":1,"type":"filter","hook":"input","prio":0,"policy":"drop"}},{"rule":{"family":"inet","table":"hardbase","chain":"input","handle":4,"comment":"ssh","expr":[{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":22}},{"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"saddr"}},"right":{"prefix":{"addr":"10.0.0.0","len":8}}}},{"accept":null}]}}]}"#,
        "proc-modules.txt" => "usb_storage 81920 0 - Live 0x0000000000000000\nuas 32768 0 usb_storage, Live 0x0000000000000000\n",
        "modprobe-config.txt" => "install usb_storage /bin/false\nblacklist firewire_core\noptions snd index=0\nalias pci:v* foo\n",
        "auditctl-l.txt" => "-w /etc/passwd -p wa -k identity\n-a always,exit -F arch=b64 -S execve -k exec\n",
        "auditctl-s.txt" => "enabled 2\nfailure 1\npid 123\nrate_limit 0\n",
        "usbguard-rules.conf" => "# comment\nallow id 1d6b:0002 serial \"\" name \"xHCI Host Controller\"\nblock\n",
        "packages.txt" => "openssh-server\tii \ntelnet\trc \nrsh-client\tn \n",
        "files.tsv" => "/etc/ssh/sshd_config\t1\t0600\troot\troot\n/etc/hosts.equiv\t0\t-\t-\t-\n",
        "login.defs" => "PASS_MAX_DAYS 90\nUMASK 027\n# comment\nENCRYPT_METHOD SHA512\n",
        "mounts.txt" => "/dev/sda1 / ext4 rw,relatime 0 0\ntmpfs /tmp tmpfs rw,nosuid,nodev,noexec 0 0\n",
        "listening.txt" => "tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:((\"sshd\",pid=1,fd=3))\nudp UNCONN 0 0 [::]:123 [::]:*\n",
        "passwd.txt" => "root:x:0:0:root:/root:/bin/bash\natm:x:1000:1000::/home/atm:/usr/sbin/nologin\n",
        "group.txt" => "root:x:0:\nsudo:x:27:admin,ops\n",
        other => panic!("no seeds for {other}"),
    };
    let mut seeds = vec![typical.as_bytes().to_vec()];
    let local = match name {
        "proc-modules.txt" => Some("/proc/modules"),
        "login.defs" => Some("/etc/login.defs"),
        "mounts.txt" => Some("/proc/mounts"),
        "passwd.txt" => Some("/etc/passwd"),
        "group.txt" => Some("/etc/group"),
        _ => None,
    };
    if let Some(bytes) = local.and_then(|p| std::fs::read(p).ok()) {
        seeds.push(bytes);
    }
    seeds
}

fn fuzz_snapshot(name: &str) {
    fuzz(&format!("snapshot_{name}"), linux_seeds(name), |b| {
        let mut state = hardbase::live::LinuxState::default();
        let _ = linux::parse(name, b, &mut state);
    });
}

macro_rules! snapshot_targets {
    ($($test:ident => $file:literal,)*) => {
        $(
            #[test]
            #[ignore = "fuzzing: run with fuzz/run.sh"]
            fn $test() {
                fuzz_snapshot($file);
            }
        )*
        /// The snapshot files that have a fuzz target.
        const FUZZED_SNAPSHOT_FILES: &[&str] = &[$($file),*];
    };
}

snapshot_targets! {
    fuzz_snapshot_sysctl => "sysctl.txt",
    fuzz_snapshot_unit_files => "unit-files.txt",
    fuzz_snapshot_sshd => "sshd-T.txt",
    fuzz_snapshot_nft => "nft.json",
    fuzz_snapshot_proc_modules => "proc-modules.txt",
    fuzz_snapshot_modprobe_config => "modprobe-config.txt",
    fuzz_snapshot_auditctl_rules => "auditctl-l.txt",
    fuzz_snapshot_auditctl_status => "auditctl-s.txt",
    fuzz_snapshot_usbguard_rules => "usbguard-rules.conf",
    fuzz_snapshot_packages => "packages.txt",
    fuzz_snapshot_files_tsv => "files.tsv",
    fuzz_snapshot_login_defs => "login.defs",
    fuzz_snapshot_mounts => "mounts.txt",
    fuzz_snapshot_listening => "listening.txt",
    fuzz_snapshot_passwd => "passwd.txt",
    fuzz_snapshot_group => "group.txt",
}

/// Every Windows snapshot parser, seeded with files in the collector's format and with the
/// real `secedit /export` and `auditpol /backup` samples when they are present.
#[test]
#[ignore = "fuzzing: run with fuzz/run.sh"]
fn fuzz_snapshot_windows() {
    let mut seeds: Vec<(&str, Vec<u8>)> = crate::windows_collect::sample_files();
    seeds.push(("registry.json", br#"[{"Hive":"HKLM","Key":"SOFTWARE\\X","Name":"A","Present":true,"Type":4,"TypeName":"DWord","Data":["1"]}]"#.to_vec()));
    // Every lockdown.json section, as the collector writes them.
    seeds.push(("lockdown.json", br#"{"UwfFilter":{"CurrentEnabled":true,"NextEnabled":true},"UwfVolumes":[{"CurrentSession":false,"DriveLetter":"C:","Protected":true,"Exclusions":["\\ATMApp\\journal"]}],"UwfOverlayConfig":[{"CurrentSession":false,"Type":1,"MaximumSize":2048}],"UwfRegistryFilter":{"CurrentSession":false,"Exclusions":["HKLM\\SOFTWARE\\X"]},"ShellLauncher":[{"Sid":"S-1-5-32-544","Shell":"explorer.exe","DefaultAction":0}],"ShellLauncherEnabled":true,"KeyboardFilter":[{"Id":"Ctrl+Alt+Del","Enabled":true}],"KeyboardFilterSettings":[{"Name":"DisableKeyboardFilterForAdministrators","Value":"false"}],"AssignedAccess":{"ShellLauncher":"\u003cx/\u003e","ShellLauncherConfig":{"Profiles":[{"Id":"{A}","Default":false,"Shell":"a.exe","DefaultAction":"RestartShell"}],"Accounts":{"value":[{"Name":"k","Sid":"","AutoLogon":false,"ProfileId":"{A}"}],"Count":1}},"KioskModeApp":"{\"Account\":\"k\",\"AUMID\":\"A_b!C\"}","Configuration":null},"BitLocker":{"DriveLetter":"C:","ProtectionStatus":1,"EncryptionMethod":7,"KeyProtectorTypes":[1,3]},"Boot":[{"Object":"{default}","Element":"safeboot","Value":"","Desired":"","Present":false,"Actual":""}],"DeviceGuard":{"CodeIntegrityPolicyEnforcementStatus":2,"UsermodeCodeIntegrityPolicyEnforcementStatus":2},"WdacPolicies":[{"PolicyId":"{A}","Destination":"SiPolicy.p7b","Present":true,"Sha256":"00"}],"NotCollected":{"MDM_AssignedAccess":"SYSTEM only"}}"#.to_vec()));
    let samples = root().join("../shared/samples/windows");
    for (name, rel) in [
        ("secedit.inf", "secedit-export-jebr"),
        ("auditpol.csv", "auditpol-backup-sos"),
    ] {
        for entry in walkdir::WalkDir::new(samples.join(rel))
            .into_iter()
            .filter_map(Result::ok)
        {
            if entry.file_type().is_file() {
                seeds.push((name, std::fs::read(entry.path()).unwrap()));
            }
        }
    }
    for file in hardbase::snapshot::windows::FILES {
        let mine: Vec<Vec<u8>> = seeds
            .iter()
            .filter(|(n, _)| n == file)
            .map(|(_, b)| b.clone())
            .collect();
        let mine = if mine.is_empty() {
            vec![b"[]".to_vec()]
        } else {
            mine
        };
        fuzz(&format!("snapshot_windows_{file}"), mine, |b| {
            let texts = hardbase::snapshot::TextArena::new();
            let mut state = hardbase::live::WindowsState::default();
            let _ = hardbase::snapshot::windows::parse(file, b, &texts, &mut state);
        });
    }
}

#[test]
fn fuzz_snapshot_files_cover_every_parser() {
    // Not a fuzz target: fails when the collector contract gains a file the harness misses.
    for file in linux::FILES {
        assert!(
            FUZZED_SNAPSHOT_FILES.contains(file),
            "no fuzz target for {file}"
        );
    }
}

#[test]
#[ignore = "fuzzing: run with fuzz/run.sh"]
fn fuzz_catalog_loader() {
    use hardbase::catalog::Catalog;
    use hardbase::diag::Diagnostics;
    use hardbase::source::SourceMap;
    let tmp = TempDir::new("fuzz-catalog");
    let dir = tmp.path().join("baselines");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("fuzz.toml");
    let seeds = toml_files(&root().join("baselines"));
    fuzz("catalog_loader", seeds, |b| {
        std::fs::write(&file, b).unwrap();
        let mut sources = SourceMap::new();
        let mut diags = Diagnostics::new();
        let _ = Catalog::load(&mut sources, false, &[dir.as_path()], &mut diags);
        let mut out = codespan_reporting::term::termcolor::NoColor::new(Vec::new());
        let _ = diags.render_text(&sources, &mut out);
    });
}

#[test]
#[ignore = "fuzzing: run with fuzz/run.sh"]
fn fuzz_profile_loader() {
    use hardbase::catalog::Catalog;
    use hardbase::diag::Diagnostics;
    use hardbase::load::document::Date;
    use hardbase::resolve::{self, Options};
    use hardbase::source::SourceMap;
    let examples = root().join("examples").join("regional-bank");
    let tmp = TempDir::new("fuzz-profile");
    // The example bank beside the mutated profile, so `extends` resolves.
    for e in std::fs::read_dir(&examples).unwrap().filter_map(Result::ok) {
        std::fs::copy(e.path(), tmp.path().join(e.file_name())).unwrap();
    }
    let mut seeds = toml_files(&examples);
    seeds.extend(toml_files(&root().join("tests").join("fixtures")));
    let profile: PathBuf = tmp.path().join("fuzz-profile.toml");
    let options = Options {
        at: Date::parse("2026-11-27").unwrap(),
        expired_waivers_are_findings: false,
    };
    fuzz("profile_loader", seeds, |b| {
        std::fs::write(&profile, b).unwrap();
        // The catalog's spans point into the source map, so each run loads it afresh.
        let mut sources = SourceMap::new();
        let mut diags = Diagnostics::new();
        let catalog = Catalog::load(&mut sources, true, &[], &mut diags);
        if let Some(state) =
            resolve::resolve(&profile, &catalog, &mut sources, &options, &mut diags)
        {
            let _ = hardbase::target::validate(&state);
        }
        let mut out = codespan_reporting::term::termcolor::NoColor::new(Vec::new());
        let _ = diags.render_text(&sources, &mut out);
    });
}

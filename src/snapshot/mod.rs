//! Reading a snapshot folder written by a generated collector into a [`LiveState`].
//!
//! The folder layout is the contract between the collectors (`linux/collect.sh`,
//! `windows/Collect-Hardbase.ps1`) and these parsers. Linux:
//!
//! | file | written from | parsed into |
//! |---|---|---|
//! | `snapshot.json` | the collector: `host`, `collected_at` (ISO 8601 UTC), `collector`, `family`, `profile` (the profile the collector was generated for), `units` (Linux: `governed` when `unit-files.txt` lists only the units the profile governs, `all` with `--all-units`), `files` (every other file of the folder → SHA-256), `not_collected` (file → reason) | [`crate::live::SnapshotInfo`] |
//! | `sysctl.txt` | `sysctl -a` | `sysctl` |
//! | `unit-files.txt` | `systemctl list-unit-files --no-legend --no-pager` | `unit_files` |
//! | `sshd-T.txt` | `sshd -T` | `sshd` |
//! | `nft.json` | `nft -j list ruleset` | `nft` |
//! | `proc-modules.txt` | `/proc/modules` | `modules_loaded` |
//! | `modprobe-config.txt` | `modprobe --showconfig` | `modules_disabled`, `modules_blacklisted` |
//! | `auditctl-l.txt`, `auditctl-s.txt` | `auditctl -l`, `auditctl -s` | `audit_rules`, `audit_enabled` |
//! | `usbguard-rules.conf` | `/etc/usbguard/rules.conf` | `usbguard_rules` |
//! | `packages.txt` | `dpkg-query -W -f '${Package}\t${db:Status-Abbrev}\n'` or `rpm -qa --qf '%{NAME}\tii\n'` | `packages` |
//! | `files.tsv` + `files/<path>` | `stat -L -c '%a\t%U\t%G'` of each governed path as `path<TAB>exists(0/1)<TAB>mode<TAB>owner<TAB>group` (`-` when absent); copies of governed regular files under 256 KiB | `files` |
//! | `login.defs` | `/etc/login.defs` | `login_defs` |
//! | `mounts.txt` | `/proc/mounts` | `mounts` |
//! | `listening.txt` | `ss -Htlnup` | `listening` |
//! | `passwd.txt`, `group.txt` | `/etc/passwd`, `/etc/group` | `users`, `groups` |
//!
//! Windows (`windows/Collect-Hardbase.ps1`, Windows PowerShell 5.1; JSON from `ConvertTo-Json`
//! with enums as numbers, UTF-8 without a BOM):
//!
//! | file | written from | parsed into |
//! |---|---|---|
//! | `secedit.inf` | `secedit /export /cfg … /areas SECURITYPOLICY USER_RIGHTS` (UTF-16LE, as secedit writes it) | `system_access`, `privilege_rights`, `security_registry_values` |
//! | `auditpol.csv` | `auditpol /backup /file:…` | `audit` (subcategory GUID → setting value) |
//! | `registry.json` | every HKLM value the profile's registry.pol sets or deletes: `[{Hive, Key, Name, Present, Type (RegistryValueKind number), TypeName, Data: [text…]}]` | `registry` |
//! | `registry-keys.json` | every HKLM key the profile replaces as a whole: `[{Hive, Key, Present, Values: [value…]}]` | `registry_keys` |
//! | `firewall-profiles.json` | `Get-NetFirewallProfile -PolicyStore ActiveStore`, raw CIM numbers | `firewall_profiles` |
//! | `firewall-rules.json` | `Get-NetFirewallRule -PolicyStore ActiveStore` joined on InstanceID with the port, address, application and service filters (one bulk query each) | `firewall_rules` |
//! | `services.json` | `Win32_Service` (CIM): `Name, StartMode, State, DelayedAutoStart` | `services` |
//! | `group-members.json` | `{Groups: [{Sid, Name, Members: [{Sid, Name}]}], Users: [{Sid, Name, Disabled}]}` (local groups and users by SID) | `groups`, `users` |
//! | `listening.json` | `Get-NetTCPConnection -State Listen`, `Get-NetUDPEndpoint`, process names | `listening` |
//! | `features.json` | `Get-WindowsOptionalFeature -Online`: `FeatureName, State (number), StateName` | `features` |
//! | `lockdown.json` | one section per source, `null` where it could not be read, and `NotCollected` (source → reason): `UwfFilter` (`UWF_Filter` CurrentEnabled, NextEnabled), `UwfVolumes` (`UWF_Volume` CurrentSession, DriveLetter, Protected, next-session `Exclusions` from `GetExclusions`), `UwfOverlayConfig` (`UWF_OverlayConfig` CurrentSession, Type, MaximumSize), `UwfRegistryFilter` (`UWF_RegistryFilter` CurrentSession, next-session `Exclusions`), `ShellLauncher` (`WESL_UserSetting` Sid, Shell, DefaultAction), `ShellLauncherEnabled` (`IsEnabled()`), `KeyboardFilter` (`WEKF_PredefinedKey` Id, Enabled), `KeyboardFilterSettings` (`WEKF_Settings` Name, Value), `AssignedAccess` (`MDM_AssignedAccess` as SYSTEM only: ShellLauncher XML as returned and parsed into `ShellLauncherConfig` {Profiles [{Id, Default, Shell, DefaultAction}], Accounts [{Name, Sid, AutoLogon, ProfileId}]}, KioskModeApp, Configuration), `BitLocker` (`Win32_EncryptableVolume` of the system drive: DriveLetter, ProtectionStatus, EncryptionMethod, KeyProtectorTypes — numbers only, never key material), `Boot` (the governed BCD elements through the BCD WMI provider: Object, Element, Value and Desired as generated, Present, Actual), `DeviceGuard` (`Win32_DeviceGuard` CodeIntegrityPolicyEnforcementStatus, UsermodeCodeIntegrityPolicyEnforcementStatus), `WdacPolicies` (PolicyId, Destination, Present, Sha256 of each deployed policy binary) | `lockdown` |
//!
//! A file that is absent means its source was not collected (`None`). A file that is present but
//! malformed or truncated is an error naming the file and line, never a pass. `snapshot.json` is
//! required, and the folder must hold exactly the files it lists, each with the recorded SHA-256:
//! a changed, missing or unlisted file is an error naming it. The parsers are in [`linux`] and
//! [`windows`].
//!
//! A network device has no snapshot folder: its live state is one `show running-config` file,
//! read by [`network::load`].

use std::collections::BTreeMap;
use std::path::{Component, Path};

use serde_json::Value;
use sha2::{Digest, Sha256};

pub use crate::live::SnapshotError;
use crate::live::{LiveState, SnapshotInfo};

mod json;
pub mod linux;
pub mod network;
pub mod windows;

/// The snapshot's own description, required in every snapshot folder.
pub const INFO_FILE: &str = "snapshot.json";

fn error(file: &str, line: usize, message: impl Into<String>) -> SnapshotError {
    SnapshotError {
        file: file.to_string(),
        line,
        message: message.into(),
    }
}

/// Loads a snapshot folder: reads `snapshot.json`, checks that the folder holds exactly the
/// files it lists with the SHA-256 it records, then parses every file of the contract.
pub fn load(dir: &Path) -> Result<LiveState<'static>, SnapshotError> {
    load_with(dir, |live| live.into_owned())
}

/// The texts of a snapshot that are not in its files as they are (JSON strings with escapes),
/// kept together for as long as the snapshot's bytes: one allocation for many texts.
#[derive(Default)]
pub struct TextArena(bumpalo::Bump);

impl TextArena {
    pub fn new() -> TextArena {
        TextArena::default()
    }

    /// A copy of `text` that lives as long as the arena.
    pub fn keep(&self, text: &str) -> &str {
        self.0.alloc_str(text)
    }
}

/// Loads a snapshot folder as [`load`] does and hands the state to `use_state` while the
/// files' bytes, which its texts borrow, are still held.
pub fn load_with<R>(
    dir: &Path,
    use_state: impl FnOnce(LiveState<'_>) -> R,
) -> Result<R, SnapshotError> {
    let bytes = std::fs::read(dir.join(INFO_FILE))
        .map_err(|e| error(INFO_FILE, 0, format!("cannot read: {e}")))?;
    let root = info_json(&bytes)?;
    let info = info_from(&root)?;
    // Each file is read once: hashed, then parsed from the same bytes.
    let contents = verify(dir, &info)?;
    let texts = TextArena::new();
    let result = {
        let mut live = LiveState::default();
        match parse_contents(&info, &root, &contents, &texts, &mut live) {
            Ok(()) => {
                live.info = info;
                Ok(use_state(live))
            }
            Err(e) => Err(e),
        }
    };
    recycle(contents.into_iter());
    result
}

/// The bytes of the file `name` among `contents`, which [`verify`] read in the order of
/// `names` (the sorted names of `info.files`).
fn content<'c>(names: &[&str], contents: &'c [Vec<u8>], name: &str) -> Option<&'c [u8]> {
    let i = names.binary_search(&name).ok()?;
    contents.get(i).map(Vec::as_slice)
}

/// Parses the verified files of a snapshot into `live`, in the order of the family's contract.
fn parse_contents<'c>(
    info: &SnapshotInfo,
    info_json: &Value,
    contents: &'c [Vec<u8>],
    texts: &'c TextArena,
    live: &mut LiveState<'c>,
) -> Result<(), SnapshotError> {
    let names: Vec<&str> = info.files.keys().map(String::as_str).collect();
    if info.family == "windows" {
        live.windows.not_collected = windows::not_collected_in(info_json);
        for name in windows::FILES {
            if let Some(bytes) = content(&names, contents, name) {
                windows::parse(name, bytes, texts, &mut live.windows)?;
            }
        }
        return Ok(());
    }
    if info.family != "linux" {
        return Ok(());
    }
    for name in linux::FILES {
        if let Some(bytes) = content(&names, contents, name) {
            linux::parse(name, bytes, &mut live.linux)?;
        }
    }
    if let Some(facts) = live.linux.files.as_mut() {
        linux::attach_contents(facts, |path| {
            content(&names, contents, &format!("files{path}")).map(<[u8]>::to_vec)
        });
    }
    Ok(())
}

/// How many read buffers a thread keeps for the next snapshot, and the largest it keeps: a
/// fleet audit reads the same dozen files of every snapshot, so the buffers are reused instead
/// of allocated anew for each file.
const SPARE_BUFFERS: usize = 64;
const SPARE_BUFFER_MAX: usize = 4 << 20;

thread_local! {
    static SPARE: std::cell::RefCell<Vec<Vec<u8>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Gives buffers back to this thread's spares.
fn recycle(buffers: impl Iterator<Item = Vec<u8>>) {
    SPARE.with(|spare| {
        let mut spare = spare.borrow_mut();
        for buffer in buffers {
            if spare.len() < SPARE_BUFFERS && buffer.capacity() <= SPARE_BUFFER_MAX {
                spare.push(buffer);
            }
        }
    });
}

fn read(dir: &Path, name: &str) -> Result<Vec<u8>, SnapshotError> {
    let mut buffer = SPARE
        .with(|spare| spare.borrow_mut().pop())
        .unwrap_or_default();
    buffer.clear();
    // Through `take`, so that the read does not first ask the file system for the file's size
    // (two system calls per file): a reused buffer usually holds the file already.
    let result = std::fs::File::open(dir.join(name)).and_then(|file| {
        std::io::Read::read_to_end(&mut std::io::Read::take(file, u64::MAX), &mut buffer)
    });
    match result {
        Ok(_) => Ok(buffer),
        Err(e) => {
            recycle(std::iter::once(buffer));
            Err(error(name, 0, format!("cannot read: {e}")))
        }
    }
}

/// Lower-case hex of a digest.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xF)] as char);
    }
    out
}

/// Parses `snapshot.json`: host, collected_at, collector, family and `files` (name → SHA-256).
pub fn parse_info(bytes: &[u8]) -> Result<SnapshotInfo, SnapshotError> {
    info_from(&info_json(bytes)?)
}

/// `snapshot.json` as JSON.
fn info_json(bytes: &[u8]) -> Result<Value, SnapshotError> {
    // Windows PowerShell may have saved it with a UTF-8 BOM.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    serde_json::from_slice(bytes)
        .map_err(|e| error(INFO_FILE, e.line(), format!("not valid JSON: {e}")))
}

/// The description [`parse_info`] reads from `snapshot.json`'s JSON.
fn info_from(root: &Value) -> Result<SnapshotInfo, SnapshotError> {
    let text = |key: &str| -> Result<String, SnapshotError> {
        root.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .ok_or_else(|| error(INFO_FILE, 0, format!("no `{key}` string")))
    };
    let family = text("family")?;
    if family != "linux" && family != "windows" {
        return Err(error(
            INFO_FILE,
            0,
            format!("family `{family}` is neither linux nor windows"),
        ));
    }
    let listed = root
        .get("files")
        .and_then(Value::as_object)
        .ok_or_else(|| error(INFO_FILE, 0, "no `files` object"))?;
    let mut files = BTreeMap::new();
    for (name, hash) in listed {
        let hash = hash
            .as_str()
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| error(INFO_FILE, 0, format!("`{name}` has no SHA-256")))?;
        let safe = !name.is_empty()
            && name != INFO_FILE
            && Path::new(name)
                .components()
                .all(|c| matches!(c, Component::Normal(_)));
        if !safe {
            return Err(error(
                INFO_FILE,
                0,
                format!("`{name}` is not a file name inside the snapshot"),
            ));
        }
        files.insert(name.clone(), hash.to_ascii_lowercase());
    }
    Ok(SnapshotInfo {
        host: text("host")?,
        collected_at: text("collected_at")?,
        collector: text("collector")?,
        family,
        profile: root
            .get("profile")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        governed_units_only: root.get("units").and_then(Value::as_str) == Some("governed"),
        files,
    })
}

/// Every listed file is present with its recorded SHA-256, and no file is unlisted. Returns
/// the listed files' bytes in the order of `info.files`.
fn verify(dir: &Path, info: &SnapshotInfo) -> Result<Vec<Vec<u8>>, SnapshotError> {
    let mut contents = Vec::with_capacity(info.files.len());
    let checked = (|| {
        for (name, want) in &info.files {
            let bytes = read(dir, name)?;
            let got = hex(&Sha256::digest(&bytes));
            contents.push(bytes);
            if &got != want {
                return Err(error(
                    name,
                    0,
                    format!("SHA-256 is {got}, snapshot.json records {want}"),
                ));
            }
        }
        Ok(())
    })();
    if let Err(e) = checked {
        recycle(contents.into_iter());
        return Err(e);
    }
    match first_unlisted_flat(dir, info) {
        Some(None) => return Ok(contents),
        Some(Some(name)) => {
            recycle(contents.into_iter());
            return Err(error(&name, 0, "present but not recorded in snapshot.json"));
        }
        None => {}
    }
    for entry in walkdir::WalkDir::new(dir).min_depth(1) {
        let entry =
            entry.map_err(|e| error(INFO_FILE, 0, format!("cannot list the folder: {e}")))?;
        if entry.file_type().is_dir() {
            continue;
        }
        let name = entry
            .path()
            .strip_prefix(dir)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .replace('\\', "/");
        if name != INFO_FILE && !info.files.contains_key(&name) {
            recycle(contents.into_iter());
            return Err(error(&name, 0, "present but not recorded in snapshot.json"));
        }
    }
    Ok(contents)
}

/// The first file of `dir` that `snapshot.json` does not list, found with one listing of the
/// folder (`Some(None)`: every file is listed). `None` when the folder has a subfolder before
/// such a file, or cannot be listed this way: the caller then walks the whole tree, which
/// reports the same first file or the listing's error.
fn first_unlisted_flat(dir: &Path, info: &SnapshotInfo) -> Option<Option<String>> {
    for entry in std::fs::read_dir(dir).ok()? {
        let entry = entry.ok()?;
        if entry.file_type().ok()?.is_dir() {
            return None;
        }
        let name = entry.file_name().to_string_lossy().replace('\\', "/");
        if name != INFO_FILE && !info.files.contains_key(&name) {
            return Some(Some(name));
        }
    }
    Some(None)
}

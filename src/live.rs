//! LiveState: what a collector found on a machine, parsed from its native exports.
//!
//! A snapshot folder holds the native outputs a generated collector wrote (`sysctl -a`,
//! `nft -j list ruleset`, `sshd -T`, …) and `snapshot.json` (host, time, collector version,
//! SHA-256 of each file). Parsers turn each export into the typed facts below. Every source is
//! an `Option`: `None` means "not collected", which drift reports as `not-collected` — never
//! as compliant.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// The snapshot's own description (`snapshot.json`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SnapshotInfo {
    pub host: String,
    /// ISO 8601, as the collector wrote it.
    pub collected_at: String,
    pub collector: String,
    /// `linux`, `windows` or `network`.
    pub family: String,
    /// The profile whose collector took the snapshot, as the collector recorded it (empty when
    /// it did not say). Snapshot text: a fleet audit maps by it only when nothing else maps.
    pub profile: String,
    /// Linux: `unit-files.txt` lists only the units the profile governs (`"units": "governed"`,
    /// collect.sh's default), not every unit file (`"all"`, `--all-units`, or an older
    /// collector that did not say).
    pub governed_units_only: bool,
    /// File name → SHA-256 (hex) as recorded by the collector.
    pub files: BTreeMap<String, String>,
}

/// A file's observed state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FileFact {
    pub exists: bool,
    /// Permission bits, such as 0o600.
    pub mode: Option<u32>,
    pub owner: Option<String>,
    pub group: Option<String>,
    /// The text, for the small configuration files the profile manages (absent for others).
    pub content: Option<String>,
}

/// One base chain of an nftables table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NftChain {
    pub family: String,
    pub table: String,
    pub name: String,
    /// `input`, `output`, `forward` … for base chains.
    pub hook: Option<String>,
    /// `accept` or `drop` for base chains.
    pub policy: Option<String>,
}

/// One nftables rule, reduced to what hardbase compares.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NftRule {
    pub family: String,
    pub table: String,
    pub chain: String,
    /// `accept`, `drop`, `reject`, … (the rule's verdict, if any).
    pub verdict: Option<String>,
    /// `tcp`, `udp`, … when the rule matches a layer-4 protocol.
    pub protocol: Option<String>,
    /// Destination ports matched (`dport`), expanded from sets and ranges of up to 1024 ports.
    pub ports: Vec<u16>,
    /// Addresses or networks matched as source (input) or destination (output), canonical form,
    /// resolved through named sets.
    pub addresses: Vec<String>,
    /// The rule's comment, if any.
    pub comment: Option<String>,
    /// Packets counted, when the rule has a counter.
    pub packets: Option<u64>,
}

/// nftables state from `nft -j list ruleset`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NftState {
    pub tables: Vec<(String, String)>,
    pub chains: Vec<NftChain>,
    pub rules: Vec<NftRule>,
}

/// A listening socket.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Listener {
    pub protocol: String,
    pub address: String,
    pub port: u16,
    pub process: Option<String>,
}

/// Linux facts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LinuxState {
    /// `sysctl -a`: key → value (whitespace normalized to single spaces).
    pub sysctl: Option<BTreeMap<String, String>>,
    /// `systemctl list-unit-files`: unit → state (`enabled`, `disabled`, `masked`, `static` …).
    pub unit_files: Option<BTreeMap<String, String>>,
    /// `sshd -T`: lower-case keyword → values in order (keywords that repeat keep every value).
    pub sshd: Option<BTreeMap<String, Vec<String>>>,
    pub nft: Option<NftState>,
    /// `/proc/modules`: loaded module names (with `_`, as the kernel writes them).
    pub modules_loaded: Option<BTreeSet<String>>,
    /// `modprobe --showconfig`: modules whose `install` command is /bin/false or /bin/true.
    pub modules_disabled: Option<BTreeSet<String>>,
    /// `modprobe --showconfig`: blacklisted modules.
    pub modules_blacklisted: Option<BTreeSet<String>>,
    /// `auditctl -l`: rules as auditctl prints them.
    pub audit_rules: Option<Vec<String>>,
    /// `audit_rules` by canonical text (the first of equal rules), built when auditctl-l.txt
    /// is parsed; empty when the state was made otherwise.
    #[serde(skip)]
    pub audit_rule_index: std::collections::HashMap<String, usize>,
    /// `auditctl -s`: the `enabled` flag (0, 1, 2).
    pub audit_enabled: Option<u32>,
    /// usbguard's rules file (or `usbguard list-rules`), one rule per entry.
    pub usbguard_rules: Option<Vec<String>>,
    /// Installed package names (dpkg-query or rpm).
    pub packages: Option<BTreeSet<String>>,
    /// Files the profile governs, by absolute path.
    pub files: Option<BTreeMap<String, FileFact>>,
    /// `/etc/login.defs`: effective key → value.
    pub login_defs: Option<BTreeMap<String, String>>,
    /// `/proc/mounts`: mount point → options.
    pub mounts: Option<BTreeMap<String, Vec<String>>>,
    /// `ss -Htlnup`: listening sockets.
    pub listening: Option<Vec<Listener>>,
    /// `/etc/passwd` user names with UID, `/etc/group` groups with members.
    pub users: Option<BTreeMap<String, u32>>,
    pub groups: Option<BTreeMap<String, Vec<String>>>,
}

/// Snapshot text: borrowed from the file's bytes where the file holds it as it is (a JSON
/// string without escapes), else owned.
pub type Text<'a> = Cow<'a, str>;

/// A list of snapshot texts, which usually holds one: that one is kept without a list of its
/// own. Read it as a slice.
#[derive(Clone, Debug)]
pub enum Texts<'a> {
    One(Text<'a>),
    Many(Vec<Text<'a>>),
}

impl Default for Texts<'_> {
    fn default() -> Self {
        Texts::Many(Vec::new())
    }
}

impl<'a> Texts<'a> {
    pub fn push(&mut self, text: Text<'a>) {
        match self {
            Texts::Many(list) if list.is_empty() => *self = Texts::One(text),
            Texts::Many(list) => list.push(text),
            Texts::One(_) => {
                let Texts::One(first) = std::mem::take(self) else {
                    return;
                };
                *self = Texts::Many(vec![first, text]);
            }
        }
    }

    /// The same texts, copied out of the snapshot's bytes.
    pub fn into_owned(self) -> Texts<'static> {
        match self {
            Texts::One(text) => Texts::One(owned(text)),
            Texts::Many(list) => Texts::Many(owned_list(list)),
        }
    }
}

impl<'a> std::ops::Deref for Texts<'a> {
    type Target = [Text<'a>];

    fn deref(&self) -> &[Text<'a>] {
        match self {
            Texts::One(text) => std::slice::from_ref(text),
            Texts::Many(list) => list,
        }
    }
}

impl PartialEq for Texts<'_> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for Texts<'_> {}

impl<'a> From<Vec<Text<'a>>> for Texts<'a> {
    fn from(list: Vec<Text<'a>>) -> Self {
        Texts::Many(list)
    }
}

impl<'a> FromIterator<Text<'a>> for Texts<'a> {
    fn from_iter<I: IntoIterator<Item = Text<'a>>>(items: I) -> Self {
        let mut texts = Texts::default();
        for text in items {
            texts.push(text);
        }
        texts
    }
}

impl Serialize for Texts<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

/// A registry value the profile governs, as `Collect-Hardbase.ps1` read it (64-bit view).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RegistryValueFact<'a> {
    /// `HKLM` (the collector reads machine policy only).
    pub hive: Cow<'static, str>,
    pub key: Text<'a>,
    /// The value name (empty for the key's default value).
    pub name: Text<'a>,
    pub present: bool,
    /// `RegistryValueKind` as a number (1 String, 2 ExpandString, 3 Binary, 4 DWord,
    /// 7 MultiString, 11 QWord) and as its name.
    pub kind: i32,
    pub kind_name: Cow<'static, str>,
    /// The data as text: numbers unsigned decimal, strings as they are, one item per string of
    /// a multi-string, binary as upper-case hex.
    pub data: Texts<'a>,
}

/// A registry key read as a whole (the keys a profile replaces with `**delvals.`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RegistryKeyFact<'a> {
    pub hive: Cow<'static, str>,
    pub key: Text<'a>,
    pub present: bool,
    pub values: Vec<RegistryValueFact<'a>>,
}

/// A firewall profile in the active store (`MSFT_NetFirewallProfile`, raw CIM numbers).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FirewallProfileFact {
    /// `Domain`, `Private` or `Public`.
    pub name: String,
    /// GpoBoolean: 0 False, 1 True, 2 NotConfigured.
    pub enabled: Option<u32>,
    /// Action: 0 NotConfigured, 2 Allow, 4 Block.
    pub default_inbound: Option<u32>,
    pub default_outbound: Option<u32>,
    /// GpoBoolean.
    pub allow_local_rules: Option<u32>,
    pub allow_local_ipsec_rules: Option<u32>,
    pub notify_on_listen: Option<u32>,
    pub log_blocked: Option<u32>,
}

/// A firewall rule in the active store, joined with its port, address, application and
/// service filters (`None`: that filter was not found for the rule).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FirewallRuleFact<'a> {
    /// `InstanceID` (the `Name` PowerShell shows; the registry.pol value name for GPO rules).
    pub id: Text<'a>,
    pub display_name: Text<'a>,
    pub group: Text<'a>,
    /// 1 enabled, 2 disabled.
    pub enabled: u32,
    /// 1 inbound, 2 outbound.
    pub direction: u32,
    /// 2 Allow, 3 AllowBypass, 4 Block.
    pub action: u32,
    /// Bitmask: 0 any, 1 domain, 2 private, 4 public.
    pub profiles: u32,
    pub store_source: Cow<'static, str>,
    pub protocol: Option<Text<'a>>,
    pub local_ports: Option<Texts<'a>>,
    pub remote_ports: Option<Texts<'a>>,
    pub icmp_types: Option<Texts<'a>>,
    pub remote_addresses: Option<Texts<'a>>,
    pub program: Option<Text<'a>>,
    pub service: Option<Text<'a>>,
}

/// A service as `Win32_Service` reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ServiceFact<'a> {
    pub name: Text<'a>,
    /// `Boot`, `System`, `Auto`, `Manual` or `Disabled` (WMI's words, not localized).
    pub start_mode: Cow<'static, str>,
    pub state: Cow<'static, str>,
    /// `None` where Windows does not report it.
    pub delayed_auto_start: Option<bool>,
}

/// The services of a snapshot by name, as Windows tells service names apart: ASCII letters
/// in either case alike. Looking a name up copies nothing; a name listed twice keeps the last
/// row. It iterates, and serializes as a map, by lower-cased name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceMap<'a>(Vec<ServiceFact<'a>>);

/// `a` against `b` with ASCII letters lower-cased.
fn cmp_caseless(a: &str, b: &str) -> std::cmp::Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    // Byte by byte without copying; the same order as comparing the lower-cased texts.
    for (p, q) in x.iter().zip(y) {
        let (p, q) = (p.to_ascii_lowercase(), q.to_ascii_lowercase());
        if p != q {
            return p.cmp(&q);
        }
    }
    x.len().cmp(&y.len())
}

impl<'a> ServiceMap<'a> {
    /// The service named `name`, in any case.
    pub fn get(&self, name: &str) -> Option<&ServiceFact<'a>> {
        self.0
            .binary_search_by(|s| cmp_caseless(&s.name, name))
            .ok()
            .map(|i| &self.0[i])
    }

    /// The services by lower-cased name.
    pub fn values(&self) -> impl Iterator<Item = &ServiceFact<'a>> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The same services, their texts copied out of the snapshot's bytes.
    pub fn into_owned(self) -> ServiceMap<'static> {
        ServiceMap(
            self.0
                .into_iter()
                .map(|v| ServiceFact {
                    name: owned(v.name),
                    start_mode: v.start_mode,
                    state: v.state,
                    delayed_auto_start: v.delayed_auto_start,
                })
                .collect(),
        )
    }
}

impl<'a> FromIterator<ServiceFact<'a>> for ServiceMap<'a> {
    fn from_iter<I: IntoIterator<Item = ServiceFact<'a>>>(rows: I) -> Self {
        let mut rows: Vec<ServiceFact<'a>> = rows.into_iter().collect();
        // Stable: of equal names the rows stay in file order, and the last one is kept.
        rows.sort_by(|a, b| cmp_caseless(&a.name, &b.name));
        let mut kept: Vec<ServiceFact<'a>> = Vec::with_capacity(rows.len());
        for row in rows {
            match kept.last_mut() {
                Some(last) if cmp_caseless(&last.name, &row.name).is_eq() => *last = row,
                _ => kept.push(row),
            }
        }
        ServiceMap(kept)
    }
}

impl Serialize for ServiceMap<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for v in &self.0 {
            map.serialize_entry(&v.name.to_ascii_lowercase(), v)?;
        }
        map.end()
    }
}

/// A local group by SID, its members by SID.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LocalGroupFact {
    pub sid: String,
    /// Localized; for people only.
    pub name: String,
    pub members: Vec<String>,
}

/// A local user account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LocalUserFact {
    pub sid: String,
    pub name: String,
    pub disabled: bool,
}

/// An optional feature's state: the enum name (not localized) and its number.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FeatureFact {
    pub state: i64,
    pub state_name: Option<String>,
}

/// `UWF_Filter`: whether the write filter is on now and after the next restart.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UwfFilterFact {
    pub current_enabled: bool,
    pub next_enabled: bool,
}

/// A `UWF_Volume` instance: there is one per volume for the current and one for the next session.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UwfVolumeFact {
    pub current_session: bool,
    /// `C:` (empty for a volume bound by name).
    pub drive_letter: String,
    pub protected: bool,
    /// The file exclusions (`GetExclusions`), as UWF reports them; read for the next session
    /// only (`None` otherwise).
    pub exclusions: Option<Vec<String>>,
}

/// A `UWF_OverlayConfig` instance (current or next session).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UwfOverlayConfigFact {
    pub current_session: bool,
    /// 0 RAM, 1 disk.
    pub overlay_type: Option<u32>,
    /// MB.
    pub maximum_size: Option<u64>,
}

/// A `UWF_RegistryFilter` instance (current or next session).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UwfRegistryFilterFact {
    pub current_session: bool,
    /// The registry exclusions (`GetExclusions`); read for the next session only.
    pub exclusions: Option<Vec<String>>,
}

/// A `WESL_UserSetting` instance: Shell Launcher v1's shell for one SID.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ShellLauncherFact {
    pub sid: String,
    pub shell: String,
    /// 0 restart shell, 1 restart device, 2 shut down, 3 do nothing; `None` when unset.
    pub default_action: Option<i64>,
}

/// A `WEKF_PredefinedKey` instance (`enabled`: the combination is blocked).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KeyboardKeyFact {
    pub id: String,
    pub enabled: bool,
}

/// A `WEKF_Settings` instance.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KeyboardSettingFact {
    pub name: String,
    pub value: String,
}

/// One `Profile` (or the `DefaultProfile`) of the Shell Launcher v2 XML.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ShellProfileFact {
    pub id: String,
    pub default: bool,
    pub shell: String,
    /// The `DefaultAction` `Action` (`RestartShell` …); empty when there is none.
    pub default_action: String,
}

/// One account of the Shell Launcher v2 XML and the profile its configuration names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ShellAccountFact {
    /// `Account Name` (empty when the account is given by SID).
    pub name: String,
    /// `Account Sid`.
    pub sid: String,
    /// `AutoLogonAccount`.
    pub auto_logon: bool,
    pub profile_id: String,
}

/// The Shell Launcher v2 XML, as the collector's XML parser read it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ShellLauncherConfigFact {
    pub profiles: Vec<ShellProfileFact>,
    pub accounts: Vec<ShellAccountFact>,
}

/// The `MDM_AssignedAccess` instance of the MDM Bridge WMI provider (read as SYSTEM only).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AssignedAccessFact {
    /// The Shell Launcher v2 XML as the bridge returned it (empty: none).
    pub shell_launcher: String,
    /// That XML parsed; `None` when there is none or it is not well-formed XML.
    pub shell_launcher_config: Option<ShellLauncherConfigFact>,
    /// The single-app kiosk (`{"Account": …, "AUMID": …}`), when the instance has the property.
    pub kiosk_mode_app: Option<String>,
    /// The multi-app Assigned Access XML, when the instance has the property.
    pub configuration: Option<String>,
}

/// BitLocker on the system volume (`Win32_EncryptableVolume`): status numbers and the *types*
/// of its key protectors; never a protector id or any key material.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BitLockerFact {
    pub drive_letter: String,
    /// `GetProtectionStatus`: 0 off, 1 on, 2 unknown.
    pub protection_status: Option<u32>,
    /// `GetEncryptionMethod`: 6 XTS-AES 128, 7 XTS-AES 256 (3 and 4 AES-CBC).
    pub encryption_method: Option<u32>,
    /// Key protector types present (1 TPM, 3 numerical password, 4 TPM and PIN …).
    pub key_protector_types: Vec<u32>,
}

/// One boot configuration element the profile governs, read through the BCD WMI provider.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BootElementFact {
    /// `{bootmgr}`, `{default}` or `{globalsettings}`.
    pub object: String,
    pub element: String,
    /// The profile's value (bcdedit's word) the collector was generated with; empty: absent.
    pub value: String,
    /// That value as the BCD WMI provider reports it (`true`/`false` or a number).
    pub desired: String,
    pub present: bool,
    /// What the provider reports (`true`/`false` or a number); empty when absent.
    pub actual: String,
}

/// `Win32_DeviceGuard`: 0 off, 1 audit, 2 enforced.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeviceGuardFact {
    pub code_integrity: Option<u32>,
    pub usermode_code_integrity: Option<u32>,
}

/// A deployed App Control (WDAC) policy binary under `%windir%\System32\CodeIntegrity`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WdacPolicyFact {
    /// Upper case, in braces.
    pub policy_id: String,
    /// Relative to `%windir%\System32\CodeIntegrity`.
    pub destination: String,
    pub present: bool,
    /// Lower-case hex; empty when absent.
    pub sha256: String,
}

/// `lockdown.json`. A section is `None` when the collector could not read it: `not_collected`
/// then holds the reason under the WMI class (or source) name, such as `UWF_Filter` when the
/// namespace of an uninstalled feature does not exist.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LockdownState {
    pub uwf_filter: Option<UwfFilterFact>,
    pub uwf_volumes: Option<Vec<UwfVolumeFact>>,
    pub uwf_overlay_configs: Option<Vec<UwfOverlayConfigFact>>,
    pub uwf_registry_filters: Option<Vec<UwfRegistryFilterFact>>,
    pub shell_launcher: Option<Vec<ShellLauncherFact>>,
    /// `WESL_UserSetting.IsEnabled()`.
    pub shell_launcher_enabled: Option<bool>,
    pub keyboard_keys: Option<Vec<KeyboardKeyFact>>,
    pub keyboard_settings: Option<Vec<KeyboardSettingFact>>,
    pub assigned_access: Option<AssignedAccessFact>,
    pub bitlocker: Option<BitLockerFact>,
    pub boot: Option<Vec<BootElementFact>>,
    pub device_guard: Option<DeviceGuardFact>,
    pub wdac_policies: Option<Vec<WdacPolicyFact>>,
    /// Source → the collector's reason.
    pub not_collected: BTreeMap<String, String>,
}

/// Windows facts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WindowsState<'a> {
    /// `secedit /export` `[System Access]`: key → value (quotes removed).
    pub system_access: Option<BTreeMap<String, String>>,
    /// `secedit /export` `[Privilege Rights]`: right → principals as exported (`*SID` or a name).
    pub privilege_rights: Option<BTreeMap<String, Vec<String>>>,
    /// `secedit /export` `[Registry Values]`: `MACHINE\path\name` → `type,data`.
    pub security_registry_values: Option<BTreeMap<String, String>>,
    /// `auditpol /backup`: subcategory GUID (upper case, braced) → setting value (0–3).
    pub audit: Option<BTreeMap<String, u8>>,
    /// The registry values the profile governs.
    pub registry: Option<Vec<RegistryValueFact<'a>>>,
    /// `registry`'s HKLM entries by the hash of their lower-cased `key\\name` (the first of
    /// equal hashes, see [`crate::snapshot::windows::find_registry`]), built when registry.json
    /// is parsed; empty when the state was made otherwise.
    #[serde(skip)]
    pub registry_index: crate::snapshot::windows::RegistryIndex,
    /// The registry keys the profile replaces as a whole.
    pub registry_keys: Option<Vec<RegistryKeyFact<'a>>>,
    pub firewall_profiles: Option<Vec<FirewallProfileFact>>,
    pub firewall_rules: Option<Vec<FirewallRuleFact<'a>>>,
    /// The services by name, in any case.
    pub services: Option<ServiceMap<'a>>,
    pub groups: Option<Vec<LocalGroupFact>>,
    pub users: Option<Vec<LocalUserFact>>,
    pub listening: Option<Vec<Listener>>,
    /// Lower-case feature name → state.
    pub features: Option<BTreeMap<String, FeatureFact>>,
    /// `lockdown.json`: Shell Launcher, Assigned Access, Keyboard Filter, UWF, BitLocker, the
    /// boot configuration and App Control (WDAC), each section where the collector could read it.
    pub lockdown: Option<LockdownState>,
    /// `snapshot.json` `not_collected`: file → the collector's reason.
    pub not_collected: BTreeMap<String, String>,
}

/// One line of an IOS configuration with the lines indented under it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IosLine {
    /// The line without its indentation and line end (inner whitespace as the device wrote it).
    pub text: String,
    /// 1-based line number in the file.
    pub line: usize,
    pub children: Vec<IosLine>,
}

/// Network-device facts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NetworkState {
    /// `show running-config`: the top-level lines with their children, `!` separators,
    /// banner bodies and the final `end` left out. May hold secrets (`enable secret`, keys):
    /// drift masks them before anything reaches a report.
    pub running_config: Option<Vec<IosLine>>,
}

/// Everything a snapshot holds. Its texts may borrow from the bytes of the snapshot's files
/// (`'a`); [`LiveState::into_owned`] copies them out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LiveState<'a> {
    pub info: SnapshotInfo,
    pub linux: LinuxState,
    pub windows: WindowsState<'a>,
    pub network: NetworkState,
}

fn owned(text: Text<'_>) -> Text<'static> {
    Cow::Owned(text.into_owned())
}

fn owned_list(list: Vec<Text<'_>>) -> Vec<Text<'static>> {
    list.into_iter().map(owned).collect()
}

impl RegistryValueFact<'_> {
    /// The same value, its texts copied out of the snapshot's bytes.
    pub fn into_owned(self) -> RegistryValueFact<'static> {
        RegistryValueFact {
            hive: self.hive,
            key: owned(self.key),
            name: owned(self.name),
            present: self.present,
            kind: self.kind,
            kind_name: self.kind_name,
            data: self.data.into_owned(),
        }
    }
}

impl FirewallRuleFact<'_> {
    /// The same rule, its texts copied out of the snapshot's bytes.
    pub fn into_owned(self) -> FirewallRuleFact<'static> {
        FirewallRuleFact {
            id: owned(self.id),
            display_name: owned(self.display_name),
            group: owned(self.group),
            enabled: self.enabled,
            direction: self.direction,
            action: self.action,
            profiles: self.profiles,
            store_source: self.store_source,
            protocol: self.protocol.map(owned),
            local_ports: self.local_ports.map(Texts::into_owned),
            remote_ports: self.remote_ports.map(Texts::into_owned),
            icmp_types: self.icmp_types.map(Texts::into_owned),
            remote_addresses: self.remote_addresses.map(Texts::into_owned),
            program: self.program.map(owned),
            service: self.service.map(owned),
        }
    }
}

impl WindowsState<'_> {
    /// The same facts, their texts copied out of the snapshot's bytes.
    pub fn into_owned(self) -> WindowsState<'static> {
        WindowsState {
            system_access: self.system_access,
            privilege_rights: self.privilege_rights,
            security_registry_values: self.security_registry_values,
            audit: self.audit,
            registry: self
                .registry
                .map(|r| r.into_iter().map(RegistryValueFact::into_owned).collect()),
            registry_index: self.registry_index,
            registry_keys: self.registry_keys.map(|keys| {
                keys.into_iter()
                    .map(|k| RegistryKeyFact {
                        hive: k.hive,
                        key: owned(k.key),
                        present: k.present,
                        values: k
                            .values
                            .into_iter()
                            .map(RegistryValueFact::into_owned)
                            .collect(),
                    })
                    .collect()
            }),
            firewall_profiles: self.firewall_profiles,
            firewall_rules: self
                .firewall_rules
                .map(|r| r.into_iter().map(FirewallRuleFact::into_owned).collect()),
            services: self.services.map(ServiceMap::into_owned),
            groups: self.groups,
            users: self.users,
            listening: self.listening,
            features: self.features,
            lockdown: self.lockdown,
            not_collected: self.not_collected,
        }
    }
}

impl LiveState<'_> {
    /// The same state, its texts copied out of the snapshot's bytes.
    pub fn into_owned(self) -> LiveState<'static> {
        LiveState {
            info: self.info,
            linux: self.linux,
            windows: self.windows.into_owned(),
            network: self.network,
        }
    }
}

/// A snapshot file that cannot be read: always an error naming the file and line, never a pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotError {
    pub file: String,
    /// 1-based line; 0 when the problem is the file as a whole.
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

impl std::error::Error for SnapshotError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_are_found_in_any_case_and_the_last_row_of_a_name_is_kept() {
        let row = |name: &'static str, mode: &'static str| ServiceFact {
            name: name.into(),
            start_mode: mode.into(),
            ..ServiceFact::default()
        };
        let map: ServiceMap = [
            row("TermService", "Disabled"),
            row("MpsSvc", "Auto"),
            row("AB", "Manual"),
            row("a_x", "Manual"),
            row("TERMSERVICE", "Manual"),
        ]
        .into_iter()
        .collect();
        assert_eq!(map.len(), 4);
        assert_eq!(map.get("termservice").unwrap().start_mode, "Manual");
        assert_eq!(map.get("mpssvc").unwrap().name, "MpsSvc");
        assert!(map.get("MpsSv").is_none() && map.get("MpsSvcs").is_none());
        // By lower-cased name: `a_x` before `AB` (`_` sorts before `b`, though after `B`).
        let names: Vec<&str> = map.values().map(|s| &*s.name).collect();
        assert_eq!(names, ["a_x", "AB", "MpsSvc", "TERMSERVICE"]);
        let json = serde_json::to_string(&map).unwrap();
        assert!(json.starts_with(r#"{"a_x":{"name":"a_x""#), "{json}");
        assert!(
            json.contains(r#""termservice":{"name":"TERMSERVICE""#),
            "{json}"
        );
    }

    #[test]
    fn texts_read_as_the_list_they_hold() {
        let mut texts = Texts::default();
        assert!(texts.is_empty());
        texts.push("a".into());
        assert!(matches!(texts, Texts::One(_)));
        texts.push(String::from("b").into());
        texts.push("c".into());
        assert_eq!(*texts, ["a", "b", "c"]);
        assert_eq!(texts.join(","), "a,b,c");
        let one: Texts = ["x".into()].into_iter().collect();
        assert_eq!(one, Texts::Many(vec!["x".into()]));
        assert_eq!(one.clone().into_owned(), one);
        assert_eq!(serde_json::to_string(&texts).unwrap(), r#"["a","b","c"]"#);
        assert_eq!(serde_json::to_string(&one).unwrap(), r#"["x"]"#);
    }
}

//! Setting kinds: the typed things a control can declare for a platform.
//!
//! A control's `[[control.setting]]` tables are deserialized into
//! [`SettingKind`] after parameter substitution. Each kind knows the platform
//! family it belongs to, the *target* it sets (two settings with the same
//! target and different values conflict), the apply phase it belongs to (the
//! Windows phases follow DESIGN.md's order), whether it needs a reboot, and
//! whether it is machine- or user-scoped. `validate` rejects values that no
//! generated artefact could carry safely; emitters escape what remains.

use serde::{Deserialize, Serialize};

use super::taxonomy::Family;

/// A value supplied at apply time (`{ secret = "param_name" }` after substitution).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretRef {
    pub secret: String,
}

/// A principal in a user right, group or shell mapping.
///
/// Build artefacts may name only well-known SIDs; local accounts do not exist
/// at image build time and change at sysprep, so they are resolved when Apply
/// runs.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Principal {
    WellKnownSid { sid: String, name: String },
    LocalAccount { name: String },
}

impl Principal {
    /// Parses `*S-1-5-32-544`, `S-1-5-32-544` or `local:atmkiosk`.
    pub fn parse(text: &str) -> Result<Principal, String> {
        if let Some(name) = text.strip_prefix("local:") {
            check_account_name(name)?;
            return Ok(Principal::LocalAccount {
                name: name.to_string(),
            });
        }
        let sid = text.strip_prefix('*').unwrap_or(text).to_ascii_uppercase();
        match well_known_sid(&sid) {
            Some(name) => Ok(Principal::WellKnownSid {
                sid,
                name: name.to_string(),
            }),
            None if sid.starts_with("S-1-5-21-") => Err(format!(
                "\"{text}\" is a machine- or domain-specific SID; build output may name only well-known SIDs, write `local:NAME` for a local account resolved when Apply runs"
            )),
            None => Err(format!(
                "\"{text}\" is neither a well-known SID nor `local:NAME`"
            )),
        }
    }

    pub fn display(&self) -> String {
        match self {
            Principal::WellKnownSid { sid, name } => format!("*{sid} ({name})"),
            Principal::LocalAccount { name } => {
                format!("local account {name} (resolved at apply time)")
            }
        }
    }
}

impl<'de> Deserialize<'de> for Principal {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Principal::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Well-known SIDs that are identical on every Windows machine.
pub const WELL_KNOWN_SIDS: &[(&str, &str)] = &[
    ("S-1-1-0", "Everyone"),
    ("S-1-5-6", "SERVICE"),
    ("S-1-5-7", "ANONYMOUS LOGON"),
    ("S-1-5-9", "ENTERPRISE DOMAIN CONTROLLERS"),
    ("S-1-5-11", "Authenticated Users"),
    ("S-1-5-18", "SYSTEM"),
    ("S-1-5-19", "LOCAL SERVICE"),
    ("S-1-5-20", "NETWORK SERVICE"),
    ("S-1-5-32-544", "Administrators"),
    ("S-1-5-32-545", "Users"),
    ("S-1-5-32-546", "Guests"),
    ("S-1-5-32-547", "Power Users"),
    ("S-1-5-32-551", "Backup Operators"),
    ("S-1-5-32-555", "Remote Desktop Users"),
    ("S-1-5-32-559", "Performance Log Users"),
    ("S-1-5-32-562", "Distributed COM Users"),
    ("S-1-5-32-568", "IIS_IUSRS"),
    ("S-1-5-32-573", "Event Log Readers"),
    ("S-1-5-32-578", "Hyper-V Administrators"),
    ("S-1-5-32-580", "Remote Management Users"),
    ("S-1-5-113", "Local account"),
    (
        "S-1-5-114",
        "Local account and member of Administrators group",
    ),
    ("S-1-5-80-0", "All Services"),
    ("S-1-5-83-0", "Virtual Machines"),
    ("S-1-5-90-0", "Window Manager Group"),
];

pub fn well_known_sid(sid: &str) -> Option<&'static str> {
    WELL_KNOWN_SIDS
        .iter()
        .find(|(s, _)| *s == sid)
        .map(|(_, n)| *n)
}

fn check_account_name(name: &str) -> Result<(), String> {
    const FORBIDDEN: &[char] = &[
        '"', '/', '\\', '[', ']', ':', ';', '|', '=', ',', '+', '*', '?', '<', '>', '@', '\'', '`',
        '$',
    ];
    if name.is_empty() || name.chars().count() > 20 {
        return Err(format!(
            "local account name \"{}\" must have 1 to 20 characters",
            name.escape_debug()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_control() || FORBIDDEN.contains(c))
    {
        return Err(format!(
            "local account name \"{}\" contains the character {c:?}, which Windows does not allow",
            name.escape_debug()
        ));
    }
    Ok(())
}

/// When a setting is applied. Windows phases follow DESIGN.md's order; Linux phases follow apply.sh.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApplyPhase {
    AuditPolicy,
    Accounts,
    Features,
    SecurityTemplate,
    RegistryPolicy,
    Services,
    FirewallRules,
    FirewallDefaults,
    BootSettings,
    DeviceRestrictions,
    AllowListing,
    KioskShell,
    WriteFilter,
    Packages,
    KernelModules,
    KernelParameters,
    Files,
    Mounts,
    Ssh,
    Audit,
    UsbDevices,
    Firewall,
    Units,
    AccessLists,
    DeviceConfig,
}

/// Whether a setting applies to the machine or to a user's profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Machine,
    User,
}

// ---------------------------------------------------------------- Windows

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Hive {
    #[serde(rename = "HKLM")]
    LocalMachine,
    #[serde(rename = "HKCU")]
    CurrentUser,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum RegType {
    #[serde(rename = "REG_SZ")]
    Sz,
    #[serde(rename = "REG_EXPAND_SZ")]
    ExpandSz,
    #[serde(rename = "REG_DWORD")]
    Dword,
    #[serde(rename = "REG_QWORD")]
    Qword,
    #[serde(rename = "REG_MULTI_SZ")]
    MultiSz,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RegData {
    Number(u64),
    Text(String),
    List(Vec<String>),
}

/// A policy registry value (→ registry.pol), or a value that must be absent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    pub hive: Hive,
    pub key: String,
    pub value: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub reg_type: Option<RegType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<RegData>,
    /// The value must not exist (e.g. `Winlogon\DefaultPassword`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub absent: bool,
}

/// A policy key holding a numbered list of values (`1`, `2` …), replaced as a whole (`**delvals.`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryList {
    pub hive: Hive,
    pub key: String,
    pub items: Vec<String>,
}

/// A `[System Access]` entry of the security template (GptTmpl.inf).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityOption {
    pub key: String,
    pub value: RegData,
}

pub const SYSTEM_ACCESS_KEYS: &[&str] = &[
    "MinimumPasswordAge",
    "MaximumPasswordAge",
    "MinimumPasswordLength",
    "PasswordComplexity",
    "PasswordHistorySize",
    "ClearTextPassword",
    "RequireLogonToChangePassword",
    "LockoutBadCount",
    "ResetLockoutCount",
    "LockoutDuration",
    "ForceLogoffWhenHourExpire",
    "LSAAnonymousNameLookup",
    "EnableAdminAccount",
    "EnableGuestAccount",
    "NewAdministratorName",
    "NewGuestName",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ListMode {
    /// The right holds exactly these principals.
    Replace,
    /// These principals are added to whatever the right holds.
    Add,
}

/// A user right (`[Privilege Rights]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRight {
    pub right: String,
    pub principals: Vec<Principal>,
    pub mode: ListMode,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditSetting {
    None,
    Success,
    Failure,
    SuccessAndFailure,
}

/// An advanced audit subcategory, keyed by GUID (names are localized, GUIDs are not).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSubcategory {
    pub guid: String,
    pub name: String,
    pub setting: AuditSetting,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartMode {
    Automatic,
    AutomaticDelayed,
    Manual,
    Disabled,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub name: String,
    pub start: StartMode,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FirewallProfileName {
    Domain,
    Private,
    Public,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FirewallAction {
    Allow,
    Block,
}

/// Firewall profile defaults (→ registry.pol under `WindowsFirewall\<Profile>Profile`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallProfile {
    pub profile: FirewallProfileName,
    pub enabled: bool,
    pub default_inbound: FirewallAction,
    pub default_outbound: FirewallAction,
    /// Whether rules in the local store are merged; off means one delivery channel.
    pub allow_local_rules: bool,
    pub allow_local_ipsec_rules: bool,
    #[serde(default = "default_true")]
    pub notifications_off: bool,
    #[serde(default)]
    pub log_dropped: bool,
}

fn default_true() -> bool {
    true
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Inbound,
    Outbound,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
    Icmpv4,
    Icmpv6,
    Any,
}

/// A firewall rule in the policy store (→ registry.pol FirewallRules and PowerShell).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FirewallRule {
    pub name: String,
    pub direction: Direction,
    pub action: FirewallAction,
    pub protocol: Protocol,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub local_ports: Vec<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remote_ports: Vec<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remote_addresses: Vec<String>,
    /// ICMP types (with protocol icmpv4 or icmpv6), any code.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub icmp_types: Vec<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// Why the flow exists (shown in the checklist and the flow matrix).
    pub purpose: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeatureState {
    Enabled,
    Disabled,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionalFeature {
    pub name: String,
    pub state: FeatureState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuiltinAccount {
    Administrator,
    Guest,
}

/// A local account: a built-in one (by RID, so renames and localized names do not matter) or a named one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalAccount {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builtin: Option<BuiltinAccount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rename_to: Option<String>,
    /// Groups (well-known SIDs) the account must not belong to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_member_of: Vec<Principal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretRef>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppLockerCollection {
    Exe,
    Dll,
    Script,
    Msi,
    Appx,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnforcementMode {
    AuditOnly,
    Enforce,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppLockerRule {
    pub action: FirewallAction,
    pub principal: Principal,
    /// A path condition (`%PROGRAMFILES%\Vendor\*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A publisher condition: `O=VENDOR, L=…, C=JP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    pub description: String,
}

/// AppLocker rules for one collection (→ registry.pol SrpV2, AppIDSvc automatic).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppLocker {
    pub collection: AppLockerCollection,
    pub mode: EnforcementMode,
    pub rules: Vec<AppLockerRule>,
}

/// Deployment of a customer-supplied WDAC (App Control) policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WdacPolicy {
    pub policy_id: String,
    /// Path of the compiled policy binary on the build server, relative to the profile.
    pub policy_file: String,
    pub mode: EnforcementMode,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EncryptionMethod {
    #[serde(rename = "xts-aes-128")]
    XtsAes128,
    #[serde(rename = "xts-aes-256")]
    XtsAes256,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OsProtector {
    /// TPM only: unattended machines reboot without anyone typing a PIN.
    Tpm,
    TpmAndPin,
    NetworkUnlock,
}

/// BitLocker policy for the OS volume.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bitlocker {
    pub encryption_method: EncryptionMethod,
    pub os_protector: OsProtector,
    pub require_recovery_escrow: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BootObject {
    Bootmgr,
    Default,
    Globalsettings,
}

/// One boot configuration element (BCD), set or removed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootSetting {
    pub object: BootObject,
    pub element: String,
    /// The value; absent when the element must be deleted (e.g. `safeboot`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

pub const BOOT_ELEMENTS: &[&str] = &[
    "displaybootmenu",
    "timeout",
    "bootmenupolicy",
    "advancedoptions",
    "optionsedit",
    "recoveryenabled",
    "bootstatuspolicy",
    "debug",
    "bootdebug",
    "testsigning",
    "nointegritychecks",
    "safeboot",
];

/// Device-installation restrictions (→ registry.pol `DeviceInstall\Restrictions`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceInstall {
    /// Evaluate allow and prevent policies in layered order (Windows 10 2004 and later).
    pub layered: bool,
    pub deny_unspecified: bool,
    #[serde(default)]
    pub deny_removable: bool,
    /// Hardware ids of the terminal's own peripherals (card reader, PIN pad, dispenser, printer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_device_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_classes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny_classes: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StorageClass {
    All,
    CdDvd,
    Floppy,
    RemovableDisk,
    Tape,
    Wpd,
}

/// Removable-storage access denial per class.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemovableStorage {
    pub class: StorageClass,
    pub deny_read: bool,
    pub deny_write: bool,
    #[serde(default)]
    pub deny_execute: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ShellExitAction {
    RestartShell,
    RestartDevice,
    ShutdownDevice,
    DoNothing,
}

/// Shell Launcher: the ATM application as the shell of its account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KioskShell {
    pub account: Principal,
    pub shell: String,
    pub on_exit: ShellExitAction,
    /// Administrators keep Explorer.
    pub admin_shell: String,
    /// Which Shell Launcher: v1 (`WESL_UserSetting`, eshell.exe; every supported build) or v2
    /// (the `MDM_AssignedAccess.ShellLauncher` XML, CustomShellHost.exe; build 17763 and later,
    /// applied as SYSTEM).
    #[serde(default)]
    pub launcher: ShellLauncherVersion,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShellLauncherVersion {
    #[default]
    V1,
    V2,
}

/// Assigned Access: a single UWP app, full screen above the lock screen, for one user
/// (`Set-AssignedAccess`). Never together with Shell Launcher.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignedAccess {
    /// A user (a local account); Assigned Access cannot be given to a group.
    pub account: Principal,
    /// The app's AppUserModelId (`PackageFamilyName!AppId`).
    pub app_user_model_id: String,
}

/// Keyboard Filter: predefined key combinations to block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyboardFilter {
    pub blocked_keys: Vec<String>,
    pub disable_for_administrators: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OverlayType {
    Ram,
    Disk,
}

/// Unified Write Filter, enabled last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteFilter {
    pub volume: String,
    pub overlay_type: OverlayType,
    pub overlay_size_mb: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub file_exclusions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registry_exclusions: Vec<String>,
}

/// Event log size and retention (→ registry.pol `EventLog\<log>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventLog {
    pub log: String,
    pub max_size_kb: u32,
}

// ---------------------------------------------------------------- Linux

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sysctl {
    pub key: String,
    pub value: RegData,
}

/// A kernel module that must never load (`install M /bin/false` + `blacklist M`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KernelModule {
    pub module: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitState {
    Enabled,
    Disabled,
    Masked,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemdUnit {
    pub unit: String,
    pub state: UnitState,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageAbsent {
    pub package: String,
}

/// A file's content, mode and owner, or its absence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Lines that must be present (managed as a block).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub absent: bool,
}

/// One sshd option, written to a drop-in that sorts first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SshdOption {
    pub option: String,
    #[serde(deserialize_with = "text_or_number")]
    pub value: String,
}

/// Accepts a string or a number (a lone `${port}` parameter substitutes as a number).
fn text_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum TextOrNumber {
        Text(String),
        Number(i64),
    }
    Ok(match TextOrNumber::deserialize(d)? {
        TextOrNumber::Text(t) => t,
        TextOrNumber::Number(n) => n.to_string(),
    })
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditdRule {
    pub rule: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsbguardRule {
    pub rule: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Chain {
    Input,
    Output,
    Forward,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainPolicy {
    Drop,
    Accept,
}

/// The policy of one base chain in hardbase's own `inet` table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NftPolicy {
    pub chain: Chain,
    pub policy: ChainPolicy,
    pub log_drops: bool,
}

/// An allow rule in hardbase's own `inet` table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NftRule {
    pub name: String,
    pub chain: Chain,
    pub protocol: Protocol,
    pub ports: Vec<u16>,
    /// Peer addresses: source for input, destination for output.
    pub addresses: Vec<String>,
    pub purpose: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MountOptions {
    pub mount_point: String,
    pub options: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginDefs {
    pub key: String,
    #[serde(deserialize_with = "text_or_number")]
    pub value: String,
}

// ---------------------------------------------------------------- Network (Cisco IOS / IOS XE)

/// Global configuration lines that must be present (`ip ssh version 2`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IosGlobal {
    pub lines: Vec<String>,
}

/// Global configuration that must not be present.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IosForbidden {
    /// Whole lines, written in their `no` form (`ip http server` → `no ip http server`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<String>,
    /// Beginnings no line may have (`snmp-server community`): never written, since removing
    /// such a line needs the value the device holds; the configuration header lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefixes: Vec<String>,
}

/// A configuration section: child lines under a parent line (`line vty 0 15`), under a path
/// of parents (`archive` → `log config`), or under each named interface.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IosSection {
    /// The parent line, or the path of parent lines from the outermost.
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub parent: Vec<String>,
    /// Interface names: the same child lines under `interface <name>` for each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<String>,
    pub lines: Vec<String>,
}

/// Accepts one string or a list of strings.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AclType {
    /// Sources only (`permit 10.20.0.0 0.0.0.255`), ending with `deny any log`.
    Standard,
    /// Entries built from the profile's flows, ending with `deny ip any any log`.
    Extended,
}

/// A named access list. A standard list permits the `permit` sources; an extended list
/// permits exactly the listed flows of the profile from the `sources` networks (or, with
/// `replies`, their replies back to those networks). Both end with a logged deny.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IosAcl {
    pub name: String,
    #[serde(rename = "type")]
    pub acl_type: AclType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// Standard: the addresses or networks permitted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub permit: Vec<String>,
    /// Extended: the networks the flows come from (the terminals behind the device).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// Extended: ids of the profile's flows (`baselines/flows.toml`) the list permits, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flows: Vec<String>,
    /// Extended: permit the replies of the flows (TCP with `established`) instead of the requests.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replies: bool,
}

/// Every kind of setting a control can declare.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SettingKind {
    Registry(Registry),
    RegistryList(RegistryList),
    SecurityOption(SecurityOption),
    UserRight(UserRight),
    AuditSubcategory(AuditSubcategory),
    Service(Service),
    FirewallProfile(FirewallProfile),
    FirewallRule(FirewallRule),
    OptionalFeature(OptionalFeature),
    LocalAccount(LocalAccount),
    Applocker(AppLocker),
    WdacPolicy(WdacPolicy),
    Bitlocker(Bitlocker),
    BootSetting(BootSetting),
    DeviceInstall(DeviceInstall),
    RemovableStorage(RemovableStorage),
    KioskShell(KioskShell),
    KeyboardFilter(KeyboardFilter),
    WriteFilter(WriteFilter),
    EventLog(EventLog),
    AssignedAccess(AssignedAccess),
    Sysctl(Sysctl),
    KernelModule(KernelModule),
    SystemdUnit(SystemdUnit),
    PackageAbsent(PackageAbsent),
    File(File),
    SshdOption(SshdOption),
    AuditdRule(AuditdRule),
    UsbguardRule(UsbguardRule),
    NftPolicy(NftPolicy),
    NftRule(NftRule),
    MountOptions(MountOptions),
    LoginDefs(LoginDefs),
    IosGlobal(IosGlobal),
    IosForbidden(IosForbidden),
    IosSection(IosSection),
    IosAcl(IosAcl),
}

/// The `kind` names, with their platform family, in declaration order.
pub const KINDS: &[(&str, Family)] = &[
    ("registry", Family::Windows),
    ("registry_list", Family::Windows),
    ("security_option", Family::Windows),
    ("user_right", Family::Windows),
    ("audit_subcategory", Family::Windows),
    ("service", Family::Windows),
    ("firewall_profile", Family::Windows),
    ("firewall_rule", Family::Windows),
    ("optional_feature", Family::Windows),
    ("local_account", Family::Windows),
    ("applocker", Family::Windows),
    ("wdac_policy", Family::Windows),
    ("bitlocker", Family::Windows),
    ("boot_setting", Family::Windows),
    ("device_install", Family::Windows),
    ("removable_storage", Family::Windows),
    ("kiosk_shell", Family::Windows),
    ("keyboard_filter", Family::Windows),
    ("write_filter", Family::Windows),
    ("event_log", Family::Windows),
    ("assigned_access", Family::Windows),
    ("sysctl", Family::Linux),
    ("kernel_module", Family::Linux),
    ("systemd_unit", Family::Linux),
    ("package_absent", Family::Linux),
    ("file", Family::Linux),
    ("sshd_option", Family::Linux),
    ("auditd_rule", Family::Linux),
    ("usbguard_rule", Family::Linux),
    ("nft_policy", Family::Linux),
    ("nft_rule", Family::Linux),
    ("mount_options", Family::Linux),
    ("login_defs", Family::Linux),
    ("ios_global", Family::Network),
    ("ios_forbidden", Family::Network),
    ("ios_section", Family::Network),
    ("ios_acl", Family::Network),
];

pub fn kind_family(kind: &str) -> Option<Family> {
    KINDS.iter().find(|(k, _)| *k == kind).map(|(_, f)| *f)
}

impl SettingKind {
    pub fn kind_name(&self) -> &'static str {
        let i = match self {
            SettingKind::Registry(_) => 0,
            SettingKind::RegistryList(_) => 1,
            SettingKind::SecurityOption(_) => 2,
            SettingKind::UserRight(_) => 3,
            SettingKind::AuditSubcategory(_) => 4,
            SettingKind::Service(_) => 5,
            SettingKind::FirewallProfile(_) => 6,
            SettingKind::FirewallRule(_) => 7,
            SettingKind::OptionalFeature(_) => 8,
            SettingKind::LocalAccount(_) => 9,
            SettingKind::Applocker(_) => 10,
            SettingKind::WdacPolicy(_) => 11,
            SettingKind::Bitlocker(_) => 12,
            SettingKind::BootSetting(_) => 13,
            SettingKind::DeviceInstall(_) => 14,
            SettingKind::RemovableStorage(_) => 15,
            SettingKind::KioskShell(_) => 16,
            SettingKind::KeyboardFilter(_) => 17,
            SettingKind::WriteFilter(_) => 18,
            SettingKind::EventLog(_) => 19,
            SettingKind::AssignedAccess(_) => 20,
            SettingKind::Sysctl(_) => 21,
            SettingKind::KernelModule(_) => 22,
            SettingKind::SystemdUnit(_) => 23,
            SettingKind::PackageAbsent(_) => 24,
            SettingKind::File(_) => 25,
            SettingKind::SshdOption(_) => 26,
            SettingKind::AuditdRule(_) => 27,
            SettingKind::UsbguardRule(_) => 28,
            SettingKind::NftPolicy(_) => 29,
            SettingKind::NftRule(_) => 30,
            SettingKind::MountOptions(_) => 31,
            SettingKind::LoginDefs(_) => 32,
            SettingKind::IosGlobal(_) => 33,
            SettingKind::IosForbidden(_) => 34,
            SettingKind::IosSection(_) => 35,
            SettingKind::IosAcl(_) => 36,
        };
        KINDS[i].0
    }

    pub fn family(&self) -> Family {
        kind_family(self.kind_name()).unwrap_or(Family::Windows)
    }

    /// What the setting sets. Two settings with the same target and different values conflict.
    pub fn target(&self) -> String {
        use SettingKind::*;
        match self {
            Registry(r) => format!(
                "registry {}\\{}\\{}",
                hive_name(r.hive),
                r.key.to_ascii_lowercase(),
                r.value.to_ascii_lowercase()
            ),
            RegistryList(r) => format!(
                "registry list {}\\{}",
                hive_name(r.hive),
                r.key.to_ascii_lowercase()
            ),
            SecurityOption(s) => format!("security option {}", s.key),
            UserRight(u) if u.mode == ListMode::Replace => format!("user right {}", u.right),
            UserRight(u) => format!(
                "user right {} (added principals {:?})",
                u.right, u.principals
            ),
            AuditSubcategory(a) => format!("audit subcategory {}", a.guid.to_ascii_uppercase()),
            Service(s) => format!("service {}", s.name.to_ascii_lowercase()),
            FirewallProfile(p) => format!("firewall profile {:?}", p.profile),
            FirewallRule(r) => format!("firewall rule {}", r.name),
            OptionalFeature(f) => format!("optional feature {}", f.name.to_ascii_lowercase()),
            LocalAccount(a) => match (&a.builtin, &a.name) {
                (Some(b), _) => format!("local account builtin {b:?}"),
                (None, Some(n)) => format!("local account {}", n.to_ascii_lowercase()),
                (None, None) => "local account".to_string(),
            },
            Applocker(a) => format!("applocker {:?}", a.collection),
            WdacPolicy(w) => format!("wdac policy {}", w.policy_id.to_ascii_uppercase()),
            Bitlocker(_) => "bitlocker os volume".to_string(),
            BootSetting(b) => format!("boot {:?} {}", b.object, b.element),
            DeviceInstall(_) => "device installation restrictions".to_string(),
            RemovableStorage(r) => format!("removable storage {:?}", r.class),
            KioskShell(k) => format!("kiosk shell {:?}", k.account),
            KeyboardFilter(_) => "keyboard filter".to_string(),
            WriteFilter(w) => format!("write filter {}", w.volume.to_ascii_uppercase()),
            EventLog(e) => format!("event log {}", e.log.to_ascii_lowercase()),
            // One kiosk per machine: Assigned Access replaces any other assignment.
            AssignedAccess(_) => "assigned access".to_string(),
            Sysctl(s) => format!("sysctl {}", s.key),
            KernelModule(m) => format!("kernel module {}", m.module.replace('-', "_")),
            SystemdUnit(u) => format!("systemd unit {}", u.unit),
            PackageAbsent(p) => format!("package {}", p.package),
            File(f) => format!("file {}", f.path),
            SshdOption(o) => format!("sshd option {}", o.option.to_ascii_lowercase()),
            AuditdRule(r) => format!("auditd rule {}", r.rule),
            UsbguardRule(r) => format!("usbguard rule {}", r.rule),
            NftPolicy(p) => format!("nftables policy {:?}", p.chain),
            NftRule(r) => format!("nftables rule {}", r.name),
            MountOptions(m) => format!("mount {}", m.mount_point),
            LoginDefs(l) => format!("login.defs {}", l.key),
            // Lines add up: only the same lines are the same setting.
            IosGlobal(g) => format!("ios global {}", g.lines.join(" / ")),
            IosForbidden(f) => format!(
                "ios forbidden {}",
                f.lines
                    .iter()
                    .chain(&f.prefixes)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" / ")
            ),
            IosSection(s) => format!(
                "ios section {}{} {}",
                s.parent.join(" > "),
                s.interfaces.join(","),
                s.lines.join(" / ")
            ),
            IosAcl(a) => format!("ios access-list {}", a.name),
        }
    }

    pub fn phase(&self) -> ApplyPhase {
        use SettingKind::*;
        match self {
            AuditSubcategory(_) => ApplyPhase::AuditPolicy,
            LocalAccount(_) => ApplyPhase::Accounts,
            OptionalFeature(_) => ApplyPhase::Features,
            SecurityOption(_) | UserRight(_) => ApplyPhase::SecurityTemplate,
            Registry(_) | RegistryList(_) | EventLog(_) => ApplyPhase::RegistryPolicy,
            Service(_) => ApplyPhase::Services,
            FirewallRule(_) => ApplyPhase::FirewallRules,
            FirewallProfile(_) => ApplyPhase::FirewallDefaults,
            Bitlocker(_) | BootSetting(_) => ApplyPhase::BootSettings,
            DeviceInstall(_) | RemovableStorage(_) => ApplyPhase::DeviceRestrictions,
            Applocker(_) | WdacPolicy(_) => ApplyPhase::AllowListing,
            KioskShell(_) | KeyboardFilter(_) | AssignedAccess(_) => ApplyPhase::KioskShell,
            WriteFilter(_) => ApplyPhase::WriteFilter,
            PackageAbsent(_) => ApplyPhase::Packages,
            KernelModule(_) => ApplyPhase::KernelModules,
            Sysctl(_) => ApplyPhase::KernelParameters,
            File(_) | LoginDefs(_) => ApplyPhase::Files,
            MountOptions(_) => ApplyPhase::Mounts,
            SshdOption(_) => ApplyPhase::Ssh,
            AuditdRule(_) => ApplyPhase::Audit,
            UsbguardRule(_) => ApplyPhase::UsbDevices,
            NftPolicy(_) | NftRule(_) => ApplyPhase::Firewall,
            SystemdUnit(_) => ApplyPhase::Units,
            IosAcl(_) => ApplyPhase::AccessLists,
            IosGlobal(_) | IosForbidden(_) | IosSection(_) => ApplyPhase::DeviceConfig,
        }
    }

    /// Whether the setting takes effect only after a reboot.
    pub fn needs_reboot(&self) -> bool {
        use SettingKind::*;
        match self {
            OptionalFeature(_) | BootSetting(_) | WriteFilter(_) | KioskShell(_)
            | AssignedAccess(_) | MountOptions(_) => true,
            WdacPolicy(_) => true,
            // `-e 2` makes the rules immutable until the next boot.
            AuditdRule(r) => r.rule.trim() == "-e 2",
            _ => false,
        }
    }

    pub fn scope(&self) -> Scope {
        match self {
            SettingKind::Registry(r) if r.hive == Hive::CurrentUser => Scope::User,
            SettingKind::RegistryList(r) if r.hive == Hive::CurrentUser => Scope::User,
            _ => Scope::Machine,
        }
    }

    /// Whether the setting requires something to be absent.
    pub fn is_absence(&self) -> bool {
        match self {
            SettingKind::Registry(r) => r.absent,
            SettingKind::File(f) => f.absent,
            SettingKind::PackageAbsent(_) | SettingKind::IosForbidden(_) => true,
            SettingKind::BootSetting(b) => b.value.is_none(),
            _ => false,
        }
    }

    /// The local accounts the setting names; they are resolved when Apply runs.
    pub fn local_principals(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut add = |p: &Principal| {
            if let Principal::LocalAccount { name } = p {
                out.push(name.clone());
            }
        };
        match self {
            SettingKind::UserRight(u) => u.principals.iter().for_each(&mut add),
            SettingKind::KioskShell(k) => add(&k.account),
            SettingKind::AssignedAccess(a) => add(&a.account),
            SettingKind::Applocker(a) => a.rules.iter().for_each(|r| add(&r.principal)),
            _ => {}
        }
        out
    }

    /// The names of secret parameters the setting needs at apply time.
    pub fn secrets(&self) -> Vec<String> {
        match self {
            SettingKind::LocalAccount(LocalAccount {
                password: Some(s), ..
            }) => vec![s.secret.clone()],
            _ => Vec::new(),
        }
    }

    /// The value part, for conflict messages.
    pub fn value_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// One line a person can read.
    pub fn summary(&self) -> String {
        use SettingKind::*;
        match self {
            Registry(r) if r.absent => format!("{}\\{}\\{} must be absent", hive_name(r.hive), r.key, r.value),
            Registry(r) => format!(
                "{}\\{}\\{} = {} ({})",
                hive_name(r.hive),
                r.key,
                r.value,
                r.data.as_ref().map(reg_data_text).unwrap_or_default(),
                r.reg_type.map(reg_type_name).unwrap_or("?")
            ),
            RegistryList(r) => format!("{}\\{} holds exactly [{}]", hive_name(r.hive), r.key, r.items.join(", ")),
            SecurityOption(s) => format!("[System Access] {} = {}", s.key, reg_data_text(&s.value)),
            UserRight(u) => format!(
                "{} {} {}",
                u.right,
                if u.mode == ListMode::Replace { "is exactly" } else { "includes" },
                if u.principals.is_empty() {
                    "no one".to_string()
                } else {
                    u.principals.iter().map(Principal::display).collect::<Vec<_>>().join(", ")
                }
            ),
            AuditSubcategory(a) => format!("audit {} {} = {:?}", a.name, a.guid, a.setting),
            Service(s) => format!("service {} start = {:?}", s.name, s.start),
            FirewallProfile(p) => format!(
                "firewall {:?} profile: enabled={}, inbound={:?}, outbound={:?}, local rules merged={}",
                p.profile, p.enabled, p.default_inbound, p.default_outbound, p.allow_local_rules
            ),
            FirewallRule(r) => format!(
                "firewall rule {}: {:?} {:?} {:?} local ports {:?} remote ports {:?} remote {:?} ({})",
                r.name, r.direction, r.action, r.protocol, r.local_ports, r.remote_ports, r.remote_addresses, r.purpose
            ),
            OptionalFeature(f) => format!("optional feature {} {:?}", f.name, f.state),
            LocalAccount(a) => format!(
                "local account {}: enabled={}{}",
                a.builtin.map(|b| format!("built-in {b:?}")).or(a.name.clone()).unwrap_or_default(),
                a.enabled,
                a.rename_to.as_ref().map(|n| format!(", renamed to {n}")).unwrap_or_default()
            ),
            Applocker(a) => format!("AppLocker {:?} rules ({}), mode {:?}", a.collection, a.rules.len(), a.mode),
            WdacPolicy(w) => format!("WDAC policy {} from {} in {:?} mode", w.policy_id, w.policy_file, w.mode),
            Bitlocker(b) => format!("BitLocker {:?} with {:?} protector", b.encryption_method, b.os_protector),
            BootSetting(b) => match &b.value {
                Some(v) => format!("BCD {{{:?}}} {} = {v}", b.object, b.element).to_lowercase(),
                None => format!("BCD {{{:?}}} {} must be absent", b.object, b.element).to_lowercase(),
            },
            DeviceInstall(d) => format!(
                "device installation: layered={}, deny unspecified={}, allowed ids [{}]",
                d.layered, d.deny_unspecified, d.allow_device_ids.join(", ")
            ),
            RemovableStorage(r) => format!("removable storage {:?}: deny read={}, write={}, execute={}", r.class, r.deny_read, r.deny_write, r.deny_execute),
            KioskShell(k) => format!("shell of {} is {} ({:?} on exit)", k.account.display(), k.shell, k.on_exit),
            KeyboardFilter(k) => format!("keyboard filter blocks {}", k.blocked_keys.join(", ")),
            WriteFilter(w) => format!("UWF on {} ({:?} overlay, {} MB)", w.volume, w.overlay_type, w.overlay_size_mb),
            EventLog(e) => format!("event log {} max size {} KB", e.log, e.max_size_kb),
            AssignedAccess(a) => format!("assigned access: {} runs {}", a.account.display(), a.app_user_model_id),
            Sysctl(s) => format!("sysctl {} = {}", s.key, reg_data_text(&s.value)),
            KernelModule(m) => format!("kernel module {} never loads", m.module),
            SystemdUnit(u) => format!("unit {} {:?}", u.unit, u.state),
            PackageAbsent(p) => format!("package {} absent", p.package),
            File(f) if f.absent => format!("file {} absent", f.path),
            File(f) => format!(
                "file {}{}{}",
                f.path,
                f.mode.as_ref().map(|m| format!(" mode {m}")).unwrap_or_default(),
                f.owner.as_ref().map(|o| format!(" owner {o}")).unwrap_or_default()
            ),
            SshdOption(o) => format!("sshd {} {}", o.option, o.value),
            AuditdRule(r) => format!("auditd {}", r.rule),
            UsbguardRule(r) => format!("usbguard {}", r.rule),
            NftPolicy(p) => format!("nftables {:?} policy {:?}", p.chain, p.policy),
            NftRule(r) => format!("nftables {:?} accept {:?} ports {:?} peers {:?} ({})", r.chain, r.protocol, r.ports, r.addresses, r.purpose),
            MountOptions(m) => format!("mount {} with {}", m.mount_point, m.options.join(",")),
            LoginDefs(l) => format!("login.defs {} {}", l.key, l.value),
            IosGlobal(g) => format!("IOS: {}", g.lines.join(" / ")),
            IosForbidden(f) => format!(
                "IOS must not have: {}",
                f.lines.iter().chain(&f.prefixes).cloned().collect::<Vec<_>>().join(" / ")
            ),
            IosSection(s) if s.parent.is_empty() => format!(
                "IOS interfaces {}: {}",
                s.interfaces.join(", "),
                s.lines.join(" / ")
            ),
            IosSection(s) => format!("IOS {}: {}", s.parent.join(" > "), s.lines.join(" / ")),
            IosAcl(a) if a.acl_type == AclType::Standard => format!(
                "IOS standard access list {} permits [{}], then deny any log",
                a.name,
                a.permit.join(", ")
            ),
            IosAcl(a) => format!(
                "IOS extended access list {} permits the {} of flows [{}] from [{}], then deny ip any any log",
                a.name,
                if a.replies { "replies" } else { "requests" },
                a.flows.join(", "),
                a.sources.join(", ")
            ),
        }
    }

    /// Rejects values that no artefact could carry safely or that are wrong for the kind.
    pub fn validate(&self) -> Result<(), String> {
        use SettingKind::*;
        let json = serde_json::to_value(self).map_err(|e| e.to_string())?;
        check_strings(&json)?;
        match self {
            Registry(r) => {
                check_reg_key(&r.key)?;
                check_reg_name(&r.value)?;
                match (r.absent, &r.reg_type, &r.data) {
                    (true, None, None) => Ok(()),
                    (true, _, _) => {
                        Err("a value that must be absent has no `type` or `data`".into())
                    }
                    (false, Some(t), Some(d)) => check_reg_data(*t, d),
                    (false, _, _) => {
                        Err("a registry value needs `type` and `data` (or `absent = true`)".into())
                    }
                }
            }
            RegistryList(r) => check_reg_key(&r.key),
            SecurityOption(s) => {
                if !SYSTEM_ACCESS_KEYS.contains(&s.key.as_str()) {
                    return Err(format!(
                        "`{}` is not a [System Access] key; known keys: {}",
                        s.key,
                        SYSTEM_ACCESS_KEYS.join(", ")
                    ));
                }
                Ok(())
            }
            UserRight(u) => {
                if !(u.right.starts_with("Se")
                    && (u.right.ends_with("Privilege") || u.right.ends_with("Right")))
                    || !u.right.chars().all(|c| c.is_ascii_alphanumeric())
                {
                    return Err(format!(
                        "`{}` is not a user right name (SeXxxPrivilege or SeXxxRight)",
                        u.right
                    ));
                }
                Ok(())
            }
            AuditSubcategory(a) => check_guid(&a.guid),
            Service(s) => check_identifier(&s.name, "service name", "_-."),
            FirewallRule(r) => {
                check_identifier(&r.name, "rule name", "_-.")?;
                // `|` separates the tokens of a firewall rule string (MS-GPFAS 2.2.2.19).
                for (what, text) in [
                    ("purpose", Some(&r.purpose)),
                    ("program", r.program.as_ref()),
                    ("service", r.service.as_ref()),
                ] {
                    if let Some(text) = text {
                        if text.contains('|') {
                            return Err(format!("firewall rule {what} `{text}` contains `|`, which a firewall rule string cannot carry"));
                        }
                    }
                }
                if let Some(svc) = &r.service {
                    check_identifier(svc, "service name", "_-.")?;
                }
                if !r.icmp_types.is_empty()
                    && !matches!(r.protocol, Protocol::Icmpv4 | Protocol::Icmpv6)
                {
                    return Err("`icmp_types` needs protocol icmpv4 or icmpv6".into());
                }
                if (!r.local_ports.is_empty() || !r.remote_ports.is_empty())
                    && !matches!(r.protocol, Protocol::Tcp | Protocol::Udp)
                {
                    return Err("ports need protocol tcp or udp".into());
                }
                for a in &r.remote_addresses {
                    check_address(a)?;
                }
                check_ports(&r.local_ports)?;
                check_ports(&r.remote_ports)
            }
            OptionalFeature(f) => check_identifier(&f.name, "feature name", "_-."),
            LocalAccount(a) => match (&a.builtin, &a.name) {
                (Some(_), None) | (None, Some(_)) => {
                    if let Some(n) = &a.name {
                        check_account_name(n)?;
                    }
                    if let Some(n) = &a.rename_to {
                        check_account_name(n)?;
                    }
                    Ok(())
                }
                _ => Err("a local account names exactly one of `builtin` or `name`".into()),
            },
            Applocker(a) => {
                for r in &a.rules {
                    if r.path.is_some() == r.publisher.is_some() {
                        return Err(
                            "each AppLocker rule has exactly one of `path` or `publisher`".into(),
                        );
                    }
                }
                Ok(())
            }
            WdacPolicy(w) => check_guid(&w.policy_id),
            BootSetting(b) => {
                if !BOOT_ELEMENTS.contains(&b.element.as_str()) {
                    return Err(format!(
                        "`{}` is not a supported boot element; supported: {}",
                        b.element,
                        BOOT_ELEMENTS.join(", ")
                    ));
                }
                if let Some(v) = &b.value {
                    check_identifier(v, "boot value", "")?;
                }
                Ok(())
            }
            DeviceInstall(d) => {
                for c in d.allow_classes.iter().chain(&d.deny_classes) {
                    check_guid(c)?;
                    if let Some((_, name)) = STORAGE_INTERFACE_GUIDS
                        .iter()
                        .find(|(g, _)| g.eq_ignore_ascii_case(c))
                    {
                        return Err(format!("`{c}` is the {name} storage interface GUID of the removable-storage policy, not a device setup class: deny that class with a `removable_storage` setting, or use its setup class GUID here"));
                    }
                }
                Ok(())
            }
            KeyboardFilter(k) => {
                for key in &k.blocked_keys {
                    check_identifier(key, "key combination", "+-")?;
                }
                Ok(())
            }
            WriteFilter(w) => {
                let v = w.volume.as_bytes();
                if !(v.len() == 2 && v[0].is_ascii_alphabetic() && v[1] == b':') {
                    return Err(format!("`{}` is not a volume such as C:", w.volume));
                }
                // windows-lockdown.md §2: a disk overlay needs at least 1024 MB.
                if w.overlay_type == OverlayType::Disk && w.overlay_size_mb < 1024 {
                    return Err(format!(
                        "a disk overlay of {} MB is too small: UWF needs at least 1024 MB",
                        w.overlay_size_mb
                    ));
                }
                if w.overlay_size_mb == 0 {
                    return Err("the overlay size must be more than 0 MB".into());
                }
                for f in &w.file_exclusions {
                    check_uwf_file_exclusion(&w.volume, f)?;
                }
                for k in &w.registry_exclusions {
                    check_uwf_registry_exclusion(k)?;
                }
                Ok(())
            }
            EventLog(e) => check_identifier(&e.log, "event log name", "-/ "),
            AssignedAccess(a) => {
                if !matches!(a.account, Principal::LocalAccount { .. }) {
                    return Err("Assigned Access is given to one user account, not to a group or a well-known SID".into());
                }
                // PackageFamilyName (Name_PublisherId) `!` AppId.
                let (family, app) = a.app_user_model_id.split_once('!').ok_or_else(|| {
                    format!(
                        "`{}` is not an AppUserModelId (PackageFamilyName!AppId)",
                        a.app_user_model_id
                    )
                })?;
                if family.is_empty() || app.is_empty() || !family.contains('_') {
                    return Err(format!(
                        "`{}` is not an AppUserModelId (PackageFamilyName!AppId)",
                        a.app_user_model_id
                    ));
                }
                check_identifier(family, "package family name", "._-")?;
                check_identifier(app, "application id", "._-")
            }
            Sysctl(s) => {
                if s.key == "kernel.modules_disabled" {
                    return Err("kernel.modules_disabled must never go into sysctl.d (it would stop the next boot from loading drivers); set it from a late boot unit instead".into());
                }
                check_identifier(&s.key, "sysctl key", "._-/")
            }
            KernelModule(m) => check_identifier(&m.module, "module name", "_-"),
            SystemdUnit(u) => check_identifier(&u.unit, "unit name", "@._-\\:"),
            PackageAbsent(p) => check_identifier(&p.package, "package name", "._+-"),
            File(f) => {
                check_abs_path(&f.path)?;
                if let Some(m) = &f.mode {
                    if !(m.len() == 4 && m.bytes().all(|b| (b'0'..=b'7').contains(&b))) {
                        return Err(format!(
                            "file mode `{m}` must be four octal digits such as 0600"
                        ));
                    }
                }
                Ok(())
            }
            SshdOption(o) => check_identifier(&o.option, "sshd option", ""),
            NftRule(r) => {
                check_identifier(&r.name, "rule name", "_-")?;
                for a in &r.addresses {
                    check_address(a)?;
                }
                check_ports(&r.ports)
            }
            MountOptions(m) => {
                check_abs_path(&m.mount_point)?;
                for o in &m.options {
                    check_identifier(o, "mount option", "=_-")?;
                }
                Ok(())
            }
            LoginDefs(l) => check_identifier(&l.key, "login.defs key", "_"),
            IosGlobal(g) => g.lines.iter().try_for_each(|l| ios::check_line(l)),
            IosForbidden(f) => {
                for l in &f.lines {
                    ios::check_line(l)?;
                    if l.starts_with("no ") {
                        return Err(format!("forbidden line `{l}` is written without `no`: the `no` form is what hardbase writes"));
                    }
                }
                f.prefixes.iter().try_for_each(|l| ios::check_line(l))
            }
            IosSection(s) => {
                if !s.parent.is_empty() && !s.interfaces.is_empty() {
                    return Err("a section has either `parent` or `interfaces`, not both".into());
                }
                s.parent.iter().try_for_each(|l| ios::check_line(l))?;
                s.interfaces
                    .iter()
                    .try_for_each(|i| ios::check_interface(i))?;
                s.lines.iter().try_for_each(|l| ios::check_line(l))
            }
            IosAcl(a) => {
                ios::check_acl_name(&a.name)?;
                if let Some(r) = &a.remark {
                    ios::check_line(&format!("remark {r}"))?;
                }
                for addr in a.permit.iter().chain(&a.sources) {
                    check_address(addr)?;
                    if addr.contains(':') {
                        return Err(format!(
                            "address `{addr}` is IPv6: IOS IPv6 access lists are not supported yet"
                        ));
                    }
                }
                for f in &a.flows {
                    check_identifier(f, "flow id", "-_")?;
                }
                match a.acl_type {
                    AclType::Standard if !a.flows.is_empty() || !a.sources.is_empty() || a.replies => {
                        Err("a standard access list takes `permit` only; flows need `type = \"extended\"`".into())
                    }
                    AclType::Extended if !a.permit.is_empty() => {
                        Err("an extended access list is built from `flows` and `sources`, not `permit`".into())
                    }
                    _ => Ok(()),
                }
            }
            FirewallProfile(_) | Bitlocker(_) | RemovableStorage(_) | KioskShell(_)
            | AuditdRule(_) | UsbguardRule(_) | NftPolicy(_) => Ok(()),
        }
    }
}

pub fn hive_name(h: Hive) -> &'static str {
    match h {
        Hive::LocalMachine => "HKLM",
        Hive::CurrentUser => "HKCU",
    }
}

pub fn reg_type_name(t: RegType) -> &'static str {
    match t {
        RegType::Sz => "REG_SZ",
        RegType::ExpandSz => "REG_EXPAND_SZ",
        RegType::Dword => "REG_DWORD",
        RegType::Qword => "REG_QWORD",
        RegType::MultiSz => "REG_MULTI_SZ",
    }
}

pub fn reg_data_text(d: &RegData) -> String {
    match d {
        RegData::Number(n) => n.to_string(),
        RegData::Text(t) => format!("{t:?}"),
        RegData::List(l) => format!("{l:?}"),
    }
}

fn check_strings(v: &serde_json::Value) -> Result<(), String> {
    match v {
        serde_json::Value::String(s) => {
            if let Some(c) = s.chars().find(|c| c.is_control()) {
                return Err(format!(
                    "\"{}\" contains the control character U+{:04X}, which no generated file can carry safely",
                    s.escape_debug(),
                    c as u32
                ));
            }
            Ok(())
        }
        serde_json::Value::Array(items) => items.iter().try_for_each(check_strings),
        serde_json::Value::Object(map) => map.values().try_for_each(check_strings),
        _ => Ok(()),
    }
}

fn check_reg_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.starts_with('\\') || key.ends_with('\\') || key.contains("\\\\") {
        return Err(format!("registry key `{key}` must be a relative path without leading, trailing or doubled backslashes"));
    }
    let upper = key.to_ascii_uppercase();
    if upper.starts_with("HKLM") || upper.starts_with("HKEY_") || upper.starts_with("HKCU") {
        return Err(format!(
            "registry key `{key}` must not repeat the hive; set `hive` instead"
        ));
    }
    if key.contains(['[', ']', ';']) {
        return Err(format!(
            "registry key `{key}` contains `[`, `]` or `;`, which registry.pol cannot carry"
        ));
    }
    Ok(())
}

fn check_reg_name(name: &str) -> Result<(), String> {
    // Value names end at a NUL in registry.pol, so `\`, `[`, `]` and `;` are carried intact:
    // UNC hardened paths such as `\\*\NETLOGON` are value names.
    if name.is_empty() {
        return Err("a registry value name must not be empty".into());
    }
    if name.starts_with("**") {
        return Err(format!("registry value name `{name}` must not start with `**` (reserved for registry.pol directives)"));
    }
    Ok(())
}

fn check_reg_data(t: RegType, d: &RegData) -> Result<(), String> {
    match (t, d) {
        (RegType::Dword, RegData::Number(n)) if *n <= u64::from(u32::MAX) => Ok(()),
        (RegType::Dword, RegData::Number(n)) => Err(format!("{n} does not fit in a REG_DWORD")),
        (RegType::Qword, RegData::Number(_)) => Ok(()),
        (RegType::Sz | RegType::ExpandSz, RegData::Text(_)) => Ok(()),
        (RegType::MultiSz, RegData::List(items)) => {
            if items.iter().any(|i| i.is_empty()) {
                return Err("REG_MULTI_SZ items must not be empty".into());
            }
            Ok(())
        }
        (t, d) => Err(format!(
            "data {} does not fit type {}",
            reg_data_text(d),
            reg_type_name(t)
        )),
    }
}

fn check_guid(g: &str) -> Result<(), String> {
    let inner = g
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(g);
    let groups: Vec<&str> = inner.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    let ok = groups.len() == 5
        && groups
            .iter()
            .zip(lens)
            .all(|(g, l)| g.len() == l && g.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{g}` is not a GUID such as {{0CCE922B-69AE-11D9-BED3-505054503030}}"
        ))
    }
}

/// RemovableStorageDevices keys are storage *interface* GUIDs (windows-lockdown.md §5 and
/// pitfall 5); they never name a device setup class.
const STORAGE_INTERFACE_GUIDS: &[(&str, &str)] = &[
    ("{53f5630d-b6bf-11d0-94f2-00a0c91efb8b}", "removable disk"),
    ("{53f56308-b6bf-11d0-94f2-00a0c91efb8b}", "CD and DVD"),
    ("{53f56311-b6bf-11d0-94f2-00a0c91efb8b}", "floppy"),
    ("{53f5630b-b6bf-11d0-94f2-00a0c91efb8b}", "tape"),
    ("{6AC27878-A6FA-4155-BA85-F98F491D4F33}", "WPD"),
    ("{F33FDC04-D1AC-4E8E-9A30-19BBD4B108AE}", "WPD"),
];

/// A UWF file exclusion: a folder or file on the protected volume that is not one UWF must keep
/// protecting (windows-lockdown.md §2: volume roots, `\Windows`, `\Windows\System32`,
/// `\Windows\System32\Drivers`, the registry hives in `System32\config`, NTUSER.DAT, every
/// BOOTSTAT.DAT, paging files; nor a folder holding one of them).
fn check_uwf_file_exclusion(volume: &str, path: &str) -> Result<(), String> {
    if path
        .chars()
        .any(|c| c.is_control() || "\"'`$*?<>|".contains(c))
        || path.contains('/')
    {
        return Err(format!("UWF file exclusion `{}` may not contain quotes, `$`, wildcards, `/` or control characters", path.escape_debug()));
    }
    let lower = path.to_ascii_lowercase();
    let Some(rest) = lower.strip_prefix(&format!("{}\\", volume.to_ascii_lowercase())) else {
        return Err(format!(
            "UWF file exclusion `{path}` is not on the protected volume {volume}"
        ));
    };
    let parts: Vec<&str> = rest.split('\\').filter(|p| !p.is_empty()).collect();
    if parts.iter().any(|p| *p == "." || *p == "..") {
        return Err(format!("UWF file exclusion `{path}` contains `.` or `..`"));
    }
    let refuse = |why: &str| Err(format!("UWF must keep protecting `{path}`: {why}"));
    match parts.as_slice() {
        [] => return refuse("a volume root cannot be excluded"),
        ["windows"] | ["windows", "system32"] | ["windows", "system32", "drivers"] => {
            return refuse("the Windows, System32 and Drivers folders cannot be excluded")
        }
        ["windows", "system32", "config", ..] => {
            return refuse("the registry hives in System32\\config cannot be excluded")
        }
        ["users"] | ["users", _] => {
            return refuse("it holds a user's NTUSER.DAT, which cannot be excluded")
        }
        [file] if ["pagefile.sys", "swapfile.sys"].contains(file) => {
            return refuse("paging files cannot be excluded")
        }
        _ => {}
    }
    if parts
        .iter()
        .any(|p| *p == "ntuser.dat" || *p == "bootstat.dat")
    {
        return refuse("NTUSER.DAT and BOOTSTAT.DAT cannot be excluded (excluding bootstat.dat stops Windows with 0x7E)");
    }
    Ok(())
}

/// A UWF registry exclusion: under one of the roots UWF allows, never the machine account
/// secret (windows-lockdown.md §2).
fn check_uwf_registry_exclusion(key: &str) -> Result<(), String> {
    const ROOTS: &[&str] = &[
        "HKLM\\BCD00000000",
        "HKLM\\SYSTEM",
        "HKLM\\SOFTWARE",
        "HKLM\\SAM",
        "HKLM\\SECURITY",
        "HKLM\\COMPONENTS",
    ];
    if key.chars().any(|c| c.is_control() || "\"'`$".contains(c)) {
        return Err(format!(
            "UWF registry exclusion `{}` may not contain quotes, `$` or control characters",
            key.escape_debug()
        ));
    }
    let upper = key.to_ascii_uppercase();
    let under_root = ROOTS
        .iter()
        .any(|r| upper == *r || upper.starts_with(&format!("{r}\\")));
    if !under_root {
        return Err(format!(
            "UWF can exclude registry keys only under {}; `{key}` is not",
            ROOTS.join(", ")
        ));
    }
    const SECRET: &str = "HKLM\\SECURITY\\POLICY\\SECRETS\\$MACHINE.ACC";
    if SECRET.starts_with(&upper) {
        return Err(format!("UWF registry exclusion `{key}` would exclude the machine account secret (HKLM\\SECURITY\\Policy\\Secrets\\$MACHINE.ACC), which must never be excluded"));
    }
    Ok(())
}

fn check_identifier(s: &str, what: &str, extra: &str) -> Result<(), String> {
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
    {
        let allowed = if extra.is_empty() {
            "letters and digits".to_string()
        } else {
            format!("letters, digits and `{extra}`")
        };
        return Err(format!(
            "{what} `{}` may contain only {allowed}",
            s.escape_debug()
        ));
    }
    Ok(())
}

fn check_abs_path(p: &str) -> Result<(), String> {
    if !p.starts_with('/')
        || p.contains("/../")
        || p.ends_with("/..")
        || p.contains(['\'', '"', '$', '`', '\\', ' '])
    {
        return Err(format!("`{p}` must be an absolute path without `..`, quotes, spaces, `$`, backquotes or backslashes"));
    }
    Ok(())
}

fn check_address(a: &str) -> Result<(), String> {
    use super::param::{normalize_address, ScalarType};
    let normalized = normalize_address(ScalarType::Address, a)?;
    if normalized != a {
        return Err(format!(
            "address `{a}` is not in canonical form (`{normalized}`)"
        ));
    }
    Ok(())
}

/// What an IOS configuration line may carry.
///
/// A line reaches the device as typed input: it must be one line of printable ASCII without
/// leading or trailing blanks (indentation is the section structure), `?` (CLI help when
/// pasted) or a leading `!` (a comment); it must not leave configuration mode (`end`, `do`),
/// and it must not carry a secret, which is set on the device and never written into a file.
pub mod ios {
    /// Checks one configuration line (a global line, a parent or a child line).
    pub fn check_line(line: &str) -> Result<(), String> {
        let shown = line.escape_debug();
        if line.is_empty() || line.trim() != line {
            return Err(format!(
                "IOS line `{shown}` is empty or starts or ends with a blank"
            ));
        }
        if let Some(c) = line.chars().find(|c| !(' '..='~').contains(c)) {
            return Err(format!(
                "IOS line `{shown}` contains {c:?}: only printable ASCII reaches an IOS configuration"
            ));
        }
        if line.contains('?') {
            return Err(format!(
                "IOS line `{line}` contains `?`, which the IOS command line takes as a request for help"
            ));
        }
        if line.starts_with('!') || line.starts_with('#') {
            return Err(format!(
                "IOS line `{line}` starts with `{}`, which makes it a comment",
                &line[..1]
            ));
        }
        let words: Vec<&str> = line.split(' ').filter(|w| !w.is_empty()).collect();
        if matches!(words[0], "end" | "do") {
            return Err(format!(
                "IOS line `{line}` leaves configuration mode or runs an exec command"
            ));
        }
        for (i, w) in words.iter().enumerate() {
            let secret = match *w {
                "secret" | "password" => true,
                // `ntp server A key 1` names a key by number; a key value is a secret.
                "key" => {
                    !(i + 2 == words.len() && words[i + 1].bytes().all(|b| b.is_ascii_digit()))
                }
                _ => false,
            };
            if secret
                || line.starts_with("snmp-server user ")
                || line.starts_with("ntp authentication-key ")
            {
                return Err(format!(
                    "IOS line `{line}` carries a secret: secrets are set on the device, never written into a configuration (name an IOS key by its number only)"
                ));
            }
        }
        for keyword in ["description", "remark"] {
            if words[0] == keyword && words.get(1).is_some_and(|w| w.starts_with('!')) {
                return Err(format!(
                    "the {keyword} in `{line}` starts with `!`, which IOS reads as a comment"
                ));
            }
        }
        if words[0] == "banner" {
            check_banner(line)?;
        }
        Ok(())
    }

    /// `banner <kind> <d>text<d>`: one line, the delimiter a punctuation character that the
    /// text does not contain, the text not starting with `!`.
    fn check_banner(line: &str) -> Result<(), String> {
        let rest = line["banner".len()..].trim_start();
        let Some((kind, body)) = rest.split_once(' ') else {
            return Err(format!("banner `{line}` has no delimited text"));
        };
        if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
            return Err(format!(
                "banner `{line}` has no banner kind such as login or motd"
            ));
        }
        let body = body.trim_start();
        let mut chars = body.chars();
        let Some(delimiter) = chars.next().filter(|c| c.is_ascii_punctuation()) else {
            return Err(format!(
                "banner `{line}` must begin its text with a punctuation delimiter such as #"
            ));
        };
        let text = chars.as_str();
        let Some(text) = text.strip_suffix(delimiter) else {
            return Err(format!(
                "banner `{line}` does not end with its delimiter `{delimiter}`"
            ));
        };
        if text.contains(delimiter) {
            return Err(format!(
                "banner text `{text}` contains its delimiter `{delimiter}`, which would end the banner early"
            ));
        }
        if text.trim_start().starts_with('!') {
            return Err(format!("banner text `{text}` starts with `!`"));
        }
        Ok(())
    }

    /// An access-list name: a letter, then letters, digits, `-`, `_` or `.` (a name starting
    /// with a digit would be read as a numbered list).
    pub fn check_acl_name(name: &str) -> Result<(), String> {
        let ok = name.len() <= 64
            && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if ok {
            Ok(())
        } else {
            Err(format!(
                "access-list name `{}` must start with a letter and contain only letters, digits, `-`, `_` and `.` (at most 64)",
                name.escape_debug()
            ))
        }
    }

    /// An interface name such as `GigabitEthernet1/0/5`, `Vlan50` or `GigabitEthernet0/0/1.50`.
    pub fn check_interface(name: &str) -> Result<(), String> {
        let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/.:-".contains(c));
        if ok {
            Ok(())
        } else {
            Err(format!(
                "interface name `{}` must start with a letter and contain only letters, digits, `/`, `.`, `:` and `-`",
                name.escape_debug()
            ))
        }
    }
}

fn check_ports(ports: &[u16]) -> Result<(), String> {
    if ports.contains(&0) {
        return Err("port 0 is not a port".into());
    }
    Ok(())
}

//! The GPO backup folder that `Import-GPO` and `LGPO.exe /g` read.
//!
//! The layout and the XML follow GPMC backups: `manifest.xml` beside one `{BackupId}` folder
//! holding `Backup.xml` (UTF-8 with a declaration), `bkupInfo.xml` (one line, no declaration),
//! `gpreport.xml` (UTF-16LE with a BOM) and the policy files under `DomainSysvol\GPO`. Values
//! are wrapped in CDATA as GPMC does, so a value containing `]]>` is refused; text and
//! attributes elsewhere are entity-escaped, and characters XML 1.0 cannot carry are refused.
//!
//! A generated backup has no source domain, so it names the reserved `hardbase.invalid`
//! domain, lists no security groups, and carries a security descriptor of well-known SIDs
//! only. The backup and GPO GUIDs are UUID v5 of the profile name and the time is given by
//! the caller, so the same input gives the same bytes. `MachineExtensionGuids` lists a
//! `[{CSE}{tool}…]` group only for the parts present, sorted by CSE GUID (MS-GPOL: processing
//! stops at the first GUID out of order). `gpreport.xml` is the settings report GPMC shows:
//! it lists the values of the files, without the ADMX display names only Windows knows.

use uuid::Uuid;

use super::audit_csv::{self, AuditRow};
use super::gpttmpl_inf::{self, InfValue, SecurityTemplate};
use super::registry_pol::{self, PolData, PolEntry};
use crate::output::TreeFiles;

/// What goes into one backup.
#[derive(Clone, Copy, Debug)]
pub struct BackupInput<'a> {
    /// The GPO name shown by GPMC and matched by `Import-GPO -BackupGpoName`.
    pub display_name: &'a str,
    /// The profile the GUIDs are derived from.
    pub profile_name: &'a str,
    /// The backup comment (tab and LF allowed; a CR would not survive XML).
    pub description: &'a str,
    /// `yyyy-MM-ddTHH:mm:ss`, written as the backup, creation and modification time.
    pub backup_time: &'a str,
    pub machine_registry_pol: &'a [u8],
    pub user_registry_pol: Option<&'a [u8]>,
    pub gpttmpl_inf: Option<&'a [u8]>,
    pub audit_csv: Option<&'a [u8]>,
}

/// The namespace of every GUID hardbase derives.
const NAMESPACE: Uuid = Uuid::from_u128(0x2518e9f5_8cbe_4047_b1a8_65565452faf2);

const DOMAIN: &str = "hardbase.invalid";
const DOMAIN_CONTROLLER: &str = "dc.hardbase.invalid";

const REGISTRY_CSE: &str = "{35378EAC-683F-11D2-A89A-00C04FBBCFA2}";
const REGISTRY_MACHINE_TOOL: &str = "{0F6B957D-509E-11D1-A7CC-0000F87571E3}";
const REGISTRY_USER_TOOL: &str = "{0F6B957E-509E-11D1-A7CC-0000F87571E3}";
const FIREWALL_TOOL: &str = "{B05566AC-FE9C-4368-BE01-7A4CBB6CBA11}";
const SECURITY_CSE: &str = "{827D319E-6EAC-11D2-A4EA-00C04F79F83A}";
const SECURITY_TOOL: &str = "{803E14A0-B4FB-11D0-A0D0-00A0C90F574B}";
const AUDIT_CSE: &str = "{F3CCC681-B74C-4060-9F26-CD84525DCA2A}";
const AUDIT_TOOL: &str = "{0F3F3735-573D-9804-99E4-AB2A69BA5FD4}";
const UNKNOWN_EXTENSION: &str = "{F15C46CD-82A0-4C2D-A210-5D0D3182A418}";

const BACKUP_NS: &str = "http://www.microsoft.com/GroupPolicy/GPOOperations";
const MANIFEST_NS: &str = "http://www.microsoft.com/GroupPolicy/GPOOperations/Manifest";
const SETTINGS_NS: &str = "http://www.microsoft.com/GroupPolicy/Settings";
const TYPES_NS: &str = "http://www.microsoft.com/GroupPolicy/Types";
const SECURITY_TYPES_NS: &str = "http://www.microsoft.com/GroupPolicy/Types/Security";

const SECEDIT_DIR: &str = r"microsoft\windows nt\SecEdit";
const AUDIT_DIR: &str = r"microsoft\windows nt\Audit";

/// The GPO's security descriptor (self-relative, DACL only): Authenticated Users read and
/// apply, Enterprise Domain Controllers read, Administrators, SYSTEM and CREATOR OWNER full
/// control; the GPMC default with the domain groups replaced by BUILTIN\Administrators.
const SECURITY_DESCRIPTOR: [u8; 172] = [
    0x01, 0x00, 0x04, 0x9c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x14, 0x00, 0x00, 0x00, 0x04, 0x00, 0x98, 0x00, 0x06, 0x00, 0x00, 0x00, 0x05, 0x02, 0x28, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x8f, 0xfd, 0xac, 0xed, 0xb3, 0xff, 0xd1, 0x11,
    0xb4, 0x1d, 0x00, 0xa0, 0xc9, 0x68, 0xf9, 0x39, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
    0x0b, 0x00, 0x00, 0x00, 0x00, 0x02, 0x18, 0x00, 0xff, 0x00, 0x0f, 0x00, 0x01, 0x02, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x05, 0x20, 0x00, 0x00, 0x00, 0x20, 0x02, 0x00, 0x00, 0x00, 0x02, 0x14, 0x00,
    0x94, 0x00, 0x02, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x09, 0x00, 0x00, 0x00,
    0x00, 0x02, 0x14, 0x00, 0x94, 0x00, 0x02, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
    0x0b, 0x00, 0x00, 0x00, 0x00, 0x02, 0x14, 0x00, 0xff, 0x00, 0x0f, 0x00, 0x01, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x05, 0x12, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x14, 0x00, 0xff, 0x00, 0x0f, 0x00,
    0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
];

/// [`SECURITY_DESCRIPTOR`] in SDDL, as gpreport.xml shows it.
pub const SECURITY_DESCRIPTOR_SDDL: &str =
    "D:PAI(OA;CI;CR;edacfd8f-ffb3-11d1-b41d-00a0c968f939;;AU)\
(A;CI;CCDCLCSWRPWPDTLOSDRCWDWO;;;BA)(A;CI;LCRPLORC;;;ED)(A;CI;LCRPLORC;;;AU)\
(A;CI;CCDCLCSWRPWPDTLOSDRCWDWO;;;SY)(A;CIIO;CCDCLCSWRPWPDTLOSDRCWDWO;;;CO)";

/// `{UPPERCASE-GUID}`: UUID v5 of `kind:` + the profile name in hardbase's namespace.
pub(super) fn derived_guid(kind: &str, profile_name: &str) -> String {
    let id = Uuid::new_v5(&NAMESPACE, format!("{kind}:{profile_name}").as_bytes());
    format!("{{{}}}", id.hyphenated().to_string().to_uppercase())
}

/// The backup ID (the folder name): `{UPPERCASE-GUID}`, UUID v5 of `backup:` + the profile name.
pub fn backup_id(profile_name: &str) -> String {
    derived_guid("backup", profile_name)
}

/// The ID of the GPO the backup claims to come from: UUID v5 of `gpo:` + the profile name.
pub fn gpo_id(profile_name: &str) -> String {
    derived_guid("gpo", profile_name)
}

/// The files of the backup folder (`windows/gpo/`), paths relative to it with `/`.
pub fn files(input: &BackupInput) -> Result<TreeFiles, String> {
    let gpo = Gpo::read(input)?;
    let id = backup_id(input.profile_name);
    let sysvol = format!("{id}/DomainSysvol/GPO");
    let mut files: TreeFiles = vec![
        ("manifest.xml".into(), gpo.manifest_xml().into_bytes()),
        (format!("{id}/Backup.xml"), gpo.backup_xml().into_bytes()),
        (
            format!("{id}/bkupInfo.xml"),
            gpo.bkup_info_xml().into_bytes(),
        ),
        (format!("{id}/gpreport.xml"), gpo.gpreport_xml()?),
        (
            format!("{sysvol}/Machine/registry.pol"),
            input.machine_registry_pol.to_vec(),
        ),
    ];
    if let Some(inf) = input.gpttmpl_inf {
        files.push((
            format!(
                "{sysvol}/Machine/{}/GptTmpl.inf",
                SECEDIT_DIR.replace('\\', "/")
            ),
            inf.to_vec(),
        ));
    }
    if let Some(csv) = input.audit_csv {
        files.push((
            format!(
                "{sysvol}/Machine/{}/audit.csv",
                AUDIT_DIR.replace('\\', "/")
            ),
            csv.to_vec(),
        ));
    }
    if let Some(user) = input.user_registry_pol {
        files.push((format!("{sysvol}/User/registry.pol"), user.to_vec()));
    }
    Ok(files)
}

/// The input, read back and checked.
struct Gpo<'a> {
    input: &'a BackupInput<'a>,
    gpo_id: String,
    backup_id: String,
    machine: Vec<PolEntry>,
    user: Option<Vec<PolEntry>>,
    template: Option<SecurityTemplate>,
    audit: Option<Vec<AuditRow>>,
}

/// Whether XML 1.0 can carry `c` in text; `allowed` lists the control characters that may be
/// kept (a CR in CDATA would be read back as LF, so only text nodes escape it).
fn xml_char_ok(c: char, allowed: &[char]) -> bool {
    (!c.is_control() || allowed.contains(&c)) && c != '\u{FFFE}' && c != '\u{FFFF}'
}

fn check_text(what: &str, text: &str, allowed: &[char]) -> Result<(), String> {
    if let Some(c) = text.chars().find(|&c| !xml_char_ok(c, allowed)) {
        return Err(format!(
            "GPO backup: {what} `{}` contains {:?}, which it cannot carry",
            text.escape_debug(),
            c
        ));
    }
    Ok(())
}

fn check_cdata(what: &str, text: &str, allowed: &[char]) -> Result<(), String> {
    check_text(what, text, allowed)?;
    if text.contains("]]>") {
        return Err(format!(
            "GPO backup: {what} `{}` contains `]]>`, which ends a CDATA section",
            text.escape_debug()
        ));
    }
    Ok(())
}

const TEXT_CONTROLS: [char; 3] = ['\t', '\r', '\n'];

fn is_backup_time(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 19
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            _ => c.is_ascii_digit(),
        })
}

impl<'a> Gpo<'a> {
    fn read(input: &'a BackupInput<'a>) -> Result<Self, String> {
        if input.display_name.trim().is_empty() {
            return Err("GPO backup: the display name is empty".into());
        }
        check_cdata("display name", input.display_name, &[])?;
        check_cdata("description", input.description, &['\t', '\n'])?;
        if !is_backup_time(input.backup_time) {
            return Err(format!(
                "GPO backup: backup time `{}` is not yyyy-MM-ddTHH:mm:ss",
                input.backup_time.escape_debug()
            ));
        }
        let pol = |bytes: &[u8], side: &str| {
            registry_pol::parse(bytes).map_err(|e| format!("{side} registry.pol: {e}"))
        };
        let gpo = Gpo {
            input,
            gpo_id: gpo_id(input.profile_name),
            backup_id: backup_id(input.profile_name),
            machine: pol(input.machine_registry_pol, "Machine")?,
            user: input
                .user_registry_pol
                .map(|b| pol(b, "User"))
                .transpose()?,
            template: input
                .gpttmpl_inf
                .map(|b| gpttmpl_inf::parse(b).map_err(|e| format!("GptTmpl.inf: {e}")))
                .transpose()?,
            audit: input
                .audit_csv
                .map(|b| audit_csv::parse(b).map_err(|e| format!("audit.csv: {e}")))
                .transpose()?,
        };
        Ok(gpo)
    }

    fn user_settings(&self) -> bool {
        self.user.as_ref().is_some_and(|u| !u.is_empty())
    }

    fn machine_extension_guids(&self) -> String {
        let mut groups: Vec<Vec<&str>> = Vec::new();
        if !self.machine.is_empty() {
            let mut registry = vec![REGISTRY_CSE, REGISTRY_MACHINE_TOOL];
            let firewall = self.machine.iter().any(|e| {
                e.key
                    .to_ascii_lowercase()
                    .starts_with(r"software\policies\microsoft\windowsfirewall")
            });
            if firewall {
                registry.push(FIREWALL_TOOL);
            }
            groups.push(registry);
        }
        if self.template.is_some() {
            groups.push(vec![SECURITY_CSE, SECURITY_TOOL]);
        }
        if self.audit.is_some() {
            groups.push(vec![AUDIT_CSE, AUDIT_TOOL]);
        }
        extension_list(groups)
    }

    fn user_extension_guids(&self) -> String {
        if self.user_settings() {
            extension_list(vec![vec![REGISTRY_CSE, REGISTRY_USER_TOOL]])
        } else {
            String::new()
        }
    }

    /// The `<BackupInst>` children shared by manifest.xml and bkupInfo.xml.
    fn backup_inst(&self) -> String {
        [
            ("GPOGuid", self.gpo_id.as_str()),
            ("GPODomain", DOMAIN),
            ("GPODomainGuid", domain_guid().as_str()),
            ("GPODomainController", DOMAIN_CONTROLLER),
            ("BackupTime", self.input.backup_time),
            ("ID", self.backup_id.as_str()),
            ("Comment", self.input.description),
            ("GPODisplayName", self.input.display_name),
        ]
        .iter()
        .map(|(name, value)| format!("<{name}>{}</{name}>", cdata(value)))
        .collect()
    }

    fn manifest_xml(&self) -> String {
        format!(
            "<Backups xmlns=\"{MANIFEST_NS}\" xmlns:mfst=\"{MANIFEST_NS}\" mfst:version=\"1.0\"><BackupInst>{}</BackupInst></Backups>",
            self.backup_inst()
        )
    }

    fn bkup_info_xml(&self) -> String {
        format!(
            "<BackupInst xmlns=\"{MANIFEST_NS}\">{}</BackupInst>\r\n",
            self.backup_inst()
        )
    }

    fn source_path(&self, side: &str, relative: &str) -> String {
        format!(
            r"\\{DOMAIN_CONTROLLER}\sysvol\{DOMAIN}\Policies\{}\{side}{}{relative}",
            self.gpo_id,
            if relative.is_empty() { "" } else { "\\" }
        )
    }

    fn fs_object(&self, element: &str, side: &str, relative: &str, extra: &str) -> String {
        let variable = if side == "Machine" {
            "%GPO_MACH_FSPATH%"
        } else {
            "%GPO_USER_FSPATH%"
        };
        format!(
            "<{element} bkp:Path=\"{}\" bkp:SourceExpandedPath=\"{}\"{extra} bkp:Location=\"{}\"/>",
            escape(&format!(r"{variable}\{relative}")),
            escape(&self.source_path(side, relative)),
            escape(&format!(r"DomainSysvol\GPO\{side}\{relative}")),
        )
    }

    fn backup_xml(&self) -> String {
        let hex: Vec<String> = SECURITY_DESCRIPTOR
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let core = [
            ("ID", cdata(&self.gpo_id)),
            ("Domain", cdata(DOMAIN)),
            ("SecurityDescriptor", hex.join(" ")),
            ("DisplayName", cdata(self.input.display_name)),
            (
                "Options",
                cdata(if self.user_settings() { "0" } else { "1" }),
            ),
            (
                "UserVersionNumber",
                cdata(if self.user_settings() { "65537" } else { "0" }),
            ),
            ("MachineVersionNumber", cdata("65537")),
            (
                "MachineExtensionGuids",
                cdata(&self.machine_extension_guids()),
            ),
            ("UserExtensionGuids", cdata(&self.user_extension_guids())),
            ("WMIFilter", String::new()),
        ]
        .iter()
        .map(|(name, value)| {
            if value.is_empty() || value == "<![CDATA[]]>" {
                format!("<{name}/>")
            } else {
                format!("<{name}>{value}</{name}>")
            }
        })
        .collect::<String>();
        let mut out = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><GroupPolicyBackupScheme bkp:version=\"2.0\" bkp:type=\"GroupPolicyBackupTemplate\" xmlns:bkp=\"{BACKUP_NS}\" xmlns=\"{BACKUP_NS}\">\r\n    <GroupPolicyObject><SecurityGroups/><FilePaths/><GroupPolicyCoreSettings>{core}</GroupPolicyCoreSettings>\r\n"
        );
        out.push_str(&format!(
            "        <GroupPolicyExtension bkp:ID=\"{REGISTRY_CSE}\" bkp:DescName=\"Registry\">\r\n"
        ));
        out.push_str(&format!(
            "            {}\r\n",
            self.fs_object("FSObjectFile", "Machine", "registry.pol", "")
        ));
        if self.user.is_some() {
            out.push_str(&format!(
                "            {}\r\n",
                self.fs_object("FSObjectFile", "User", "registry.pol", "")
            ));
        }
        out.push_str(&format!(
            "            <FSObjectFile bkp:Path=\"%GPO_FSPATH%\\Adm\\*.*\" bkp:SourceExpandedPath=\"{}\"/>\r\n        </GroupPolicyExtension>\r\n",
            escape(&format!(
                r"\\{DOMAIN_CONTROLLER}\sysvol\{DOMAIN}\Policies\{}\Adm\*.*",
                self.gpo_id
            ))
        ));
        if self.template.is_some() {
            out.push_str(&format!(
                "        <GroupPolicyExtension bkp:ID=\"{SECURITY_CSE}\" bkp:DescName=\"Security\">\r\n            {}\r\n        </GroupPolicyExtension>\r\n",
                self.fs_object(
                    "FSObjectFile",
                    "Machine",
                    &format!(r"{SECEDIT_DIR}\GptTmpl.inf"),
                    " bkp:ReEvaluateFunction=\"SecurityValidateSettings\""
                )
            ));
        }
        let mut others: Vec<(&str, String)> = Vec::new();
        if self.template.is_some() || self.audit.is_some() {
            others.push(("FSObjectDir", "microsoft".into()));
            others.push(("FSObjectDir", r"microsoft\windows nt".into()));
        }
        if self.audit.is_some() {
            others.push(("FSObjectDir", AUDIT_DIR.into()));
            others.push(("FSObjectFile", format!(r"{AUDIT_DIR}\audit.csv")));
        }
        if self.template.is_some() {
            others.push(("FSObjectDir", SECEDIT_DIR.into()));
        }
        others.sort_by_key(|(_, path)| path.to_lowercase());
        if !others.is_empty() {
            out.push_str(&format!(
                "    <GroupPolicyExtension bkp:ID=\"{UNKNOWN_EXTENSION}\" bkp:DescName=\"Unknown Extension\">"
            ));
            for (element, path) in &others {
                out.push_str(&self.fs_object(element, "Machine", path, ""));
            }
            out.push_str("</GroupPolicyExtension>");
        }
        out.push_str("</GroupPolicyObject>\r\n</GroupPolicyBackupScheme>");
        out
    }

    fn gpreport_xml(&self) -> Result<Vec<u8>, String> {
        let mut r = Report::default();
        r.line("<?xml version=\"1.0\" encoding=\"utf-16\"?>");
        r.open(&format!(
            "GPO xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns=\"{SETTINGS_NS}\""
        ));
        r.open("Identifier");
        r.leaf_ns("Identifier", TYPES_NS, &self.gpo_id)?;
        r.leaf_ns("Domain", TYPES_NS, DOMAIN)?;
        r.close("Identifier");
        r.leaf("Name", self.input.display_name)?;
        r.leaf("IncludeComments", "true")?;
        r.leaf("CreatedTime", self.input.backup_time)?;
        r.leaf("ModifiedTime", self.input.backup_time)?;
        r.leaf("ReadTime", &format!("{}.0000000Z", self.input.backup_time))?;
        security_descriptor_report(&mut r)?;
        r.leaf("FilterDataAvailable", "true")?;
        r.open("Computer");
        r.leaf("VersionDirectory", "1")?;
        r.leaf("VersionSysvol", "1")?;
        r.leaf("Enabled", "true")?;
        if let Some(t) = &self.template {
            security_report(&mut r, t)?;
        }
        if let Some(rows) = &self.audit {
            audit_report(&mut r, rows)?;
        }
        if !self.machine.is_empty() {
            registry_report(&mut r, &self.machine)?;
        }
        r.close("Computer");
        r.open("User");
        let version = if self.user_settings() { "1" } else { "0" };
        r.leaf("VersionDirectory", version)?;
        r.leaf("VersionSysvol", version)?;
        r.leaf(
            "Enabled",
            if self.user_settings() {
                "true"
            } else {
                "false"
            },
        )?;
        if let Some(user) = self.user.as_ref().filter(|u| !u.is_empty()) {
            registry_report(&mut r, user)?;
        }
        r.close("User");
        r.close("GPO");
        let text = r.out.trim_end_matches("\r\n");
        let mut bytes = vec![0xFF, 0xFE];
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        Ok(bytes)
    }
}

fn domain_guid() -> String {
    derived_guid("domain", DOMAIN)
}

/// `[{CSE}{tool}…]` groups, sorted by CSE GUID, tools sorted inside each group.
fn extension_list(mut groups: Vec<Vec<&str>>) -> String {
    for g in &mut groups {
        g[1..].sort_by_key(|t| t.to_ascii_uppercase());
    }
    groups.sort_by_key(|g| g[0].to_ascii_uppercase());
    groups.iter().map(|g| format!("[{}]", g.concat())).collect()
}

fn cdata(value: &str) -> String {
    format!("<![CDATA[{value}]]>")
}

/// Escapes text for an XML text node or a double-quoted attribute.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            c => out.push(c),
        }
    }
    out
}

/// An indented, CRLF-separated XML document, as GPMC writes gpreport.xml.
#[derive(Default)]
struct Report {
    out: String,
    depth: usize,
    prefixes: usize,
}

impl Report {
    fn line(&mut self, text: &str) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
        self.out.push_str(text);
        self.out.push_str("\r\n");
    }

    fn open(&mut self, tag_and_attributes: &str) {
        self.line(&format!("<{tag_and_attributes}>"));
        self.depth += 1;
    }

    fn close(&mut self, tag: &str) {
        self.depth -= 1;
        self.line(&format!("</{tag}>"));
    }

    fn leaf(&mut self, tag: &str, text: &str) -> Result<(), String> {
        check_text(&format!("report value <{tag}>"), text, &TEXT_CONTROLS)?;
        self.line(&format!("<{tag}>{}</{tag}>", escape(text)));
        Ok(())
    }

    fn leaf_ns(&mut self, tag: &str, ns: &str, text: &str) -> Result<(), String> {
        check_text(&format!("report value <{tag}>"), text, &TEXT_CONTROLS)?;
        self.line(&format!("<{tag} xmlns=\"{ns}\">{}</{tag}>", escape(text)));
        Ok(())
    }

    /// Opens `<ExtensionData><Extension …>` with the next `qN` prefix; returns the prefix.
    fn extension(&mut self, ns: &str, type_name: &str, empty: bool) -> String {
        self.prefixes += 1;
        let q = format!("q{}", self.prefixes);
        self.open("ExtensionData");
        let head = format!("Extension xmlns:{q}=\"{ns}\" xsi:type=\"{q}:{type_name}\"");
        if empty {
            self.line(&format!("<{head} />"));
        } else {
            self.open(&head);
        }
        q
    }

    fn end_extension(&mut self, name: &str, empty: bool) -> Result<(), String> {
        if !empty {
            self.close("Extension");
        }
        self.leaf("Name", name)?;
        self.close("ExtensionData");
        Ok(())
    }
}

fn security_descriptor_report(r: &mut Report) -> Result<(), String> {
    r.open("SecurityDescriptor");
    r.leaf_ns("SDDL", SECURITY_TYPES_NS, SECURITY_DESCRIPTOR_SDDL)?;
    r.leaf_ns("PermissionsPresent", SECURITY_TYPES_NS, "true")?;
    r.open(&format!("Permissions xmlns=\"{SECURITY_TYPES_NS}\""));
    r.leaf("InheritsFromParent", "false")?;
    let trustees = [
        (
            "S-1-5-32-544",
            r"BUILTIN\Administrators",
            "Edit, delete, modify security",
        ),
        (
            "S-1-5-9",
            r"NT AUTHORITY\ENTERPRISE DOMAIN CONTROLLERS",
            "Read",
        ),
        (
            "S-1-5-18",
            r"NT AUTHORITY\SYSTEM",
            "Edit, delete, modify security",
        ),
        (
            "S-1-5-11",
            r"NT AUTHORITY\Authenticated Users",
            "Apply Group Policy",
        ),
    ];
    for (sid, name, access) in trustees {
        r.open("TrusteePermissions");
        r.open("Trustee");
        r.leaf_ns("SID", TYPES_NS, sid)?;
        r.leaf_ns("Name", TYPES_NS, name)?;
        r.close("Trustee");
        r.open("Type xsi:type=\"PermissionType\"");
        r.leaf("PermissionType", "Allow")?;
        r.close("Type");
        r.leaf("Inherited", "false")?;
        r.open("Applicability");
        r.leaf("ToSelf", "true")?;
        r.leaf("ToDescendantObjects", "false")?;
        r.leaf("ToDescendantContainers", "true")?;
        r.leaf("ToDirectDescendantsOnly", "false")?;
        r.close("Applicability");
        r.open("Standard");
        r.leaf("GPOGroupedAccessEnum", access)?;
        r.close("Standard");
        r.leaf("AccessMask", "0")?;
        r.close("TrusteePermissions");
    }
    r.close("Permissions");
    r.leaf_ns("AuditingPresent", SECURITY_TYPES_NS, "false")?;
    r.close("SecurityDescriptor");
    Ok(())
}

const PASSWORD_POLICY: [&str; 6] = [
    "ClearTextPassword",
    "MaximumPasswordAge",
    "MinimumPasswordAge",
    "MinimumPasswordLength",
    "PasswordComplexity",
    "PasswordHistorySize",
];
const LOCKOUT_POLICY: [&str; 3] = ["LockoutBadCount", "LockoutDuration", "ResetLockoutCount"];
const BOOLEAN_POLICY: [&str; 2] = ["ClearTextPassword", "PasswordComplexity"];

fn security_report(r: &mut Report, t: &SecurityTemplate) -> Result<(), String> {
    let q = r.extension(
        "http://www.microsoft.com/GroupPolicy/Settings/Security",
        "SecuritySettings",
        false,
    );
    let is = |list: &[&str], key: &str| list.iter().any(|k| k.eq_ignore_ascii_case(key));
    let mut accounts: Vec<&(String, InfValue)> = t
        .system_access
        .iter()
        .filter(|(k, _)| is(&PASSWORD_POLICY, k) || is(&LOCKOUT_POLICY, k))
        .collect();
    accounts.sort_by_key(|(k, _)| k.to_lowercase());
    for (key, value) in accounts {
        r.open(&format!("{q}:Account"));
        r.leaf(&format!("{q}:Name"), key)?;
        match value {
            InfValue::Number(n) if is(&BOOLEAN_POLICY, key) => r.leaf(
                &format!("{q}:SettingBoolean"),
                if *n != 0 { "true" } else { "false" },
            )?,
            // GPMC shows -1 ("never") as the unsigned 32-bit value.
            InfValue::Number(n) => {
                r.leaf(&format!("{q}:SettingNumber"), &(*n as u32).to_string())?
            }
            InfValue::Text(s) => r.leaf(&format!("{q}:SettingString"), &format!("\"{s}\""))?,
        }
        let kind = if is(&LOCKOUT_POLICY, key) {
            "Account Lockout"
        } else {
            "Password"
        };
        r.leaf(&format!("{q}:Type"), kind)?;
        r.close(&format!("{q}:Account"));
    }
    let mut rights: Vec<&(String, Vec<String>)> = t.privilege_rights.iter().collect();
    rights.sort_by_key(|(k, _)| k.to_lowercase());
    for (right, principals) in rights {
        r.open(&format!("{q}:UserRightsAssignment"));
        r.leaf(&format!("{q}:Name"), right)?;
        for p in principals {
            r.open(&format!("{q}:Member"));
            match p.strip_prefix('*') {
                Some(sid) => r.leaf_ns("SID", TYPES_NS, sid)?,
                None => r.leaf_ns("Name", TYPES_NS, p)?,
            }
            r.close(&format!("{q}:Member"));
        }
        r.close(&format!("{q}:UserRightsAssignment"));
    }
    let mut values: Vec<_> = t.registry_values.iter().collect();
    values.sort_by_key(|v| v.path.to_lowercase());
    for v in values {
        r.open(&format!("{q}:SecurityOptions"));
        r.leaf(&format!("{q}:KeyName"), &v.path)?;
        let setting = if v.reg_type == 4 {
            "SettingNumber"
        } else {
            "SettingString"
        };
        r.leaf(&format!("{q}:{setting}"), &v.data)?;
        r.close(&format!("{q}:SecurityOptions"));
    }
    let mut options: Vec<&(String, InfValue)> = t
        .system_access
        .iter()
        .filter(|(k, _)| !is(&PASSWORD_POLICY, k) && !is(&LOCKOUT_POLICY, k))
        .collect();
    options.sort_by_key(|(k, _)| k.to_lowercase());
    for (key, value) in options {
        r.open(&format!("{q}:SecurityOptions"));
        r.leaf(&format!("{q}:SystemAccessPolicyName"), key)?;
        match value {
            InfValue::Number(n) => r.leaf(&format!("{q}:SettingNumber"), &n.to_string())?,
            InfValue::Text(s) => r.leaf(&format!("{q}:SettingString"), &format!("\"{s}\""))?,
        }
        r.close(&format!("{q}:SecurityOptions"));
    }
    for s in &t.services {
        r.open(&format!("{q}:SystemServices"));
        r.leaf(&format!("{q}:Name"), &s.name)?;
        let mode = match s.mode {
            2 => "Automatic".to_string(),
            3 => "Manual".to_string(),
            4 => "Disabled".to_string(),
            n => n.to_string(),
        };
        r.leaf(&format!("{q}:StartupMode"), &mode)?;
        r.open(&format!("{q}:SecurityDescriptor"));
        if !s.sddl.is_empty() {
            r.leaf_ns("SDDL", SECURITY_TYPES_NS, &s.sddl)?;
        }
        let present = if s.sddl.is_empty() { "false" } else { "true" };
        r.leaf_ns("PermissionsPresent", SECURITY_TYPES_NS, present)?;
        r.leaf_ns("AuditingPresent", SECURITY_TYPES_NS, "false")?;
        r.close(&format!("{q}:SecurityDescriptor"));
        r.close(&format!("{q}:SystemServices"));
    }
    r.leaf(&format!("{q}:Blocked"), "false")?;
    r.end_extension("Security", false)
}

fn audit_report(r: &mut Report, rows: &[AuditRow]) -> Result<(), String> {
    let subcategories: Vec<&AuditRow> = rows.iter().filter(|row| row.is_subcategory()).collect();
    let empty = subcategories.is_empty();
    let q = r.extension(
        "http://www.microsoft.com/GroupPolicy/Settings/Auditing",
        "AuditSettings",
        empty,
    );
    for row in subcategories {
        r.open(&format!("{q}:AuditSetting"));
        r.leaf(&format!("{q}:PolicyTarget"), &row.policy_target)?;
        r.leaf(&format!("{q}:SubcategoryName"), &row.subcategory)?;
        r.leaf(&format!("{q}:SubcategoryGuid"), &row.guid.to_lowercase())?;
        r.leaf(&format!("{q}:SettingValue"), &row.value)?;
        r.close(&format!("{q}:AuditSetting"));
    }
    r.end_extension("Advanced Audit Configuration", empty)
}

fn registry_report(r: &mut Report, entries: &[PolEntry]) -> Result<(), String> {
    let q = r.extension(
        "http://www.microsoft.com/GroupPolicy/Settings/Registry",
        "RegistrySettings",
        false,
    );
    for e in entries {
        r.open(&format!("{q}:RegistrySetting"));
        r.leaf(&format!("{q}:KeyPath"), &e.key)?;
        r.leaf(&format!("{q}:AdmSetting"), "false")?;
        let strings: Vec<String> = match &e.data {
            PolData::None => Vec::new(),
            PolData::Sz(s) | PolData::ExpandSz(s) => vec![s.clone()],
            PolData::MultiSz(items) => items.clone(),
            PolData::Binary(b) => vec![b.iter().map(|x| format!("{x:02x}")).collect()],
            PolData::Dword(_) | PolData::Qword(_) => Vec::new(),
        };
        if !matches!(e.data, PolData::None) {
            r.open(&format!("{q}:Value"));
            r.leaf(&format!("{q}:Name"), &e.value)?;
            match e.data {
                PolData::Dword(n) => r.leaf(&format!("{q}:Number"), &n.to_string())?,
                PolData::Qword(n) => r.leaf(&format!("{q}:Number"), &n.to_string())?,
                _ => {
                    for s in &strings {
                        r.leaf(&format!("{q}:String"), s)?;
                    }
                }
            }
            r.close(&format!("{q}:Value"));
        }
        r.close(&format!("{q}:RegistrySetting"));
    }
    r.leaf(&format!("{q}:Blocked"), "false")?;
    r.end_extension("Registry", false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(machine: &'a [u8]) -> BackupInput<'a> {
        BackupInput {
            display_name: "hardbase branch-atm",
            profile_name: "branch-atm",
            description: "",
            backup_time: "2026-01-01T00:00:00",
            machine_registry_pol: machine,
            user_registry_pol: None,
            gpttmpl_inf: None,
            audit_csv: None,
        }
    }

    #[test]
    fn guids_are_uppercase_braced_and_stable() {
        let id = backup_id("branch-atm");
        assert_eq!(id.len(), 38);
        assert!(id.starts_with('{') && id.ends_with('}'));
        assert_eq!(id, id.to_uppercase());
        assert_eq!(id, backup_id("branch-atm"));
        assert_ne!(id, gpo_id("branch-atm"));
        assert_ne!(id, backup_id("branch-atm-2"));
    }

    #[test]
    fn extension_groups_are_sorted_by_cse() {
        let list = extension_list(vec![
            vec![AUDIT_CSE, AUDIT_TOOL],
            vec![REGISTRY_CSE, FIREWALL_TOOL, REGISTRY_MACHINE_TOOL],
            vec![SECURITY_CSE, SECURITY_TOOL],
        ]);
        assert_eq!(
            list,
            "[{35378EAC-683F-11D2-A89A-00C04FBBCFA2}{0F6B957D-509E-11D1-A7CC-0000F87571E3}{B05566AC-FE9C-4368-BE01-7A4CBB6CBA11}]\
             [{827D319E-6EAC-11D2-A4EA-00C04F79F83A}{803E14A0-B4FB-11D0-A0D0-00A0C90F574B}]\
             [{F3CCC681-B74C-4060-9F26-CD84525DCA2A}{0F3F3735-573D-9804-99E4-AB2A69BA5FD4}]"
        );
    }

    #[test]
    fn refuses_what_xml_cannot_carry() {
        let pol = registry_pol::HEADER;
        for name in ["a]]>b", "a\u{1}b", "a\nb", " "] {
            let i = BackupInput {
                display_name: name,
                ..input(&pol)
            };
            assert!(files(&i).is_err(), "{name:?}");
        }
        let i = BackupInput {
            backup_time: "2026-01-01 00:00",
            ..input(&pol)
        };
        assert!(files(&i).is_err());
        let i = BackupInput {
            machine_registry_pol: b"",
            ..input(&pol)
        };
        assert!(files(&i)
            .unwrap_err()
            .contains("Machine registry.pol: byte offset 0"));
    }

    #[test]
    fn names_are_escaped_or_carried_in_cdata() {
        let pol = registry_pol::write(&[PolEntry::new(
            r"Software\Policies\<x>",
            "a&b",
            PolData::Sz("'\"".into()),
        )])
        .unwrap();
        let i = BackupInput {
            display_name: "ATM <&> 'x'",
            ..input(&pol)
        };
        let files = files(&i).unwrap();
        let backup = String::from_utf8(files[1].1.clone()).unwrap();
        assert!(backup.contains("<DisplayName><![CDATA[ATM <&> 'x']]></DisplayName>"));
        let report = &files[3].1;
        let units: Vec<u16> = report[2..]
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let report = String::from_utf16(&units).unwrap();
        assert!(report.contains("<Name>ATM &lt;&amp;&gt; &apos;x&apos;</Name>"));
        assert!(report.contains(r"Software\Policies\&lt;x&gt;"));
        assert!(report.contains("<q1:String>&apos;&quot;</q1:String>"));
    }
}

//! The command line: one definition from which help text and shell completions are generated.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::catalog::taxonomy::Lang;

/// Compile TOML hardening profiles for ATMs, unattended terminals, their servers and network
/// devices, and give auditors a checklist they can sign.
#[derive(Parser, Debug)]
#[command(
    name = "hardbase",
    version,
    propagate_version = true,
    max_term_width = 100
)]
#[command(
    after_help = "Exit status: 0 success, 2 invalid input or an error.\nDocumentation: README.md and `hardbase <command> --help`."
)]
pub struct Cli {
    /// Add or override controls from every *.toml under DIR (repeatable; later wins).
    #[arg(long, global = true, value_name = "DIR")]
    pub baselines: Vec<PathBuf>,

    /// Do not load the built-in catalog; use only the controls under --baselines.
    #[arg(long, global = true)]
    pub no_builtin: bool,

    /// When to colour diagnostics.
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto)]
    pub color: ColorWhen,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Validate profiles and show what would be enforced: controls by category and tier,
    /// parameters, waivers and attestations.
    Check(CheckArgs),
    /// Write the artefacts of each profile into one folder per profile.
    Build(BuildArgs),
    /// Check a built folder against its manifest: every artefact present with its SHA-256 and
    /// size, nothing added. Exit status 1 when anything differs.
    Verify(VerifyArgs),
    /// Explain one control: its purpose, criterion, references, parameters and settings.
    Explain(ExplainArgs),
    /// List controls, roles or platforms.
    List(ListArgs),
    /// Print the coverage tables: controls per role × category × tier, and which attack steps
    /// each role's controls address (and how many of them are machine-checked). With profiles,
    /// one row per profile instead of per role.
    Coverage(CoverageArgs),
    /// Print the JSON Schema of the profile format (for TOML editors such as Taplo or Even Better TOML).
    Schema,
    /// Write the auditor's checklist for one profile.
    Checklist(ChecklistArgs),
    /// Write the flow matrix of a set of profiles for the carrier or the firewall team: one row
    /// per connection (source, destination, protocol, ports, direction, purpose, the profiles
    /// that need it, the controls whose allow rules carry it), shown once from its initiator.
    Flows(FlowsArgs),
    /// Compare a profile with a snapshot a collector took of a machine: each setting compliant,
    /// drift, missing, waived, not-collected or manual, and what is on the machine but in no
    /// profile. Exit status 0 compliant, 1 any finding (not-collected included), 2 an error.
    Diff(DiffArgs),
    /// Audit a fleet: every snapshot under a folder compared with its profile, in parallel.
    /// Writes JSON Lines (one record per host and control, for a SIEM), an xlsx workbook and a
    /// self-contained HTML report into --out, and a summary on standard output. Exit status 0
    /// every host compliant, 1 any finding, 2 an error (a snapshot that cannot be audited
    /// included; the reports are written all the same).
    Audit(AuditArgs),
    /// Turn existing Windows policy or a golden unit's snapshot into hardbase input, or compare
    /// two GPO backups.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Print a shell completion script.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Args, Debug, Clone)]
pub struct ResolveArgs {
    /// Evaluate waiver expiry as of this date (YYYY-MM-DD) instead of today.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub at: Option<crate::load::document::Date>,
}

fn parse_date(s: &str) -> Result<crate::load::document::Date, String> {
    crate::load::document::Date::parse(s)
        .ok_or_else(|| format!("`{s}` is not a date such as 2027-03-31"))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TextOrJson {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Profile files, or folders whose profiles (files no other file extends) are checked.
    #[arg(required = true, value_name = "PROFILE")]
    pub profiles: Vec<PathBuf>,
    /// Output format; JSON uses stable keys and diagnostic codes.
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
    #[command(flatten)]
    pub resolve: ResolveArgs,
}

#[derive(Args, Debug)]
pub struct BuildArgs {
    /// Profile files, or folders whose profiles (files no other file extends) are built.
    #[arg(required = true, value_name = "PROFILE")]
    pub profiles: Vec<PathBuf>,
    /// Output folder; each profile gets <OUT>/<profile name>/.
    #[arg(long, short, value_name = "DIR", default_value = "dist")]
    pub out: PathBuf,
    /// Replace output folders even if they were not written by hardbase.
    #[arg(long)]
    pub force: bool,
    /// Sign every generated PowerShell script with Authenticode (needs osslsigncode and
    /// --sign-cert with --sign-key, or --sign-pkcs12). Without SOURCE_DATE_EPOCH the signing
    /// time makes signed scripts differ from build to build.
    #[arg(long)]
    pub sign: bool,
    /// The code-signing certificate (PEM or DER).
    #[arg(long, value_name = "FILE", requires_all = ["sign", "sign_key"], conflicts_with = "sign_pkcs12")]
    pub sign_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires_all = ["sign", "sign_cert"])]
    pub sign_key: Option<PathBuf>,
    /// A PKCS#12 file holding the code-signing certificate and its key.
    #[arg(long, value_name = "FILE", requires = "sign")]
    pub sign_pkcs12: Option<PathBuf>,
    /// The environment variable that holds the PKCS#12 or key password (the password itself
    /// is never given on the command line).
    #[arg(long, value_name = "VAR", requires = "sign")]
    pub sign_password_env: Option<String>,
    /// An RFC 3161 time-stamp authority to countersign with (off by default; needs network).
    #[arg(long, value_name = "URL", requires = "sign")]
    pub sign_timestamp: Option<String>,
    #[command(flatten)]
    pub resolve: ResolveArgs,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// A profile folder written by `hardbase build`, or the output folder holding several.
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
    /// Also verify each PowerShell script's Authenticode signature with osslsigncode; an
    /// unsigned or invalid script makes verification fail.
    #[arg(long)]
    pub check_signatures: bool,
    /// Trusted certificates (PEM) for --check-signatures; default: osslsigncode's CA bundle.
    #[arg(long, value_name = "FILE", requires = "check_signatures")]
    pub ca: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The control id, for example COM-FW-001.
    pub control: String,
    /// Language of titles and criteria.
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[arg(value_enum)]
    pub what: ListWhat,
    /// Only controls for this role (atm-terminal, kiosk-terminal, relay-server, …).
    #[arg(long)]
    pub role: Option<String>,
    /// Only controls of this tier (easy, cost-effective).
    #[arg(long)]
    pub tier: Option<String>,
    /// Only controls of this category (communication, function, privilege, detection, physical, operations).
    #[arg(long)]
    pub category: Option<String>,
    /// Only short-term controls.
    #[arg(long)]
    pub short_term: bool,
    /// Language of titles.
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CoverageFormat {
    Text,
    Md,
    Json,
}

#[derive(Args, Debug)]
pub struct CoverageArgs {
    /// Profile files or folders; without any, the built-in catalog (and --baselines) per role.
    #[arg(value_name = "PROFILE")]
    pub profiles: Vec<PathBuf>,
    /// Language of the headings and category names.
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
    #[arg(long, value_enum, default_value_t = CoverageFormat::Text)]
    pub format: CoverageFormat,
    #[command(flatten)]
    pub resolve: ResolveArgs,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ListWhat {
    Controls,
    Roles,
    Platforms,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ChecklistFormat {
    Md,
    Csv,
    Xlsx,
}

#[derive(Args, Debug)]
pub struct ChecklistArgs {
    /// The profile file.
    pub profile: PathBuf,
    /// Language of the checklist.
    #[arg(long, value_enum, default_value_t = Lang::Ja)]
    pub lang: Lang,
    #[arg(long, value_enum, default_value_t = ChecklistFormat::Md)]
    pub format: ChecklistFormat,
    /// Write to FILE instead of standard output (required for xlsx).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub resolve: ResolveArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FlowsFormat {
    Csv,
    Xlsx,
    Md,
    Json,
}

#[derive(Args, Debug)]
pub struct FlowsArgs {
    /// Profile files, or folders whose profiles (files no other file extends) are included.
    #[arg(required = true, value_name = "PROFILE")]
    pub profiles: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = FlowsFormat::Csv)]
    pub format: FlowsFormat,
    /// Language of the headings and purposes.
    #[arg(long, value_enum, default_value_t = Lang::Ja)]
    pub lang: Lang,
    /// Write to FILE instead of standard output (required for xlsx).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub resolve: ResolveArgs,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The profile file (not with --gpo).
    #[arg(required_unless_present = "gpo")]
    pub profile: Option<PathBuf>,
    /// The snapshot folder written by the generated collector (linux/collect.sh); for a
    /// network device, the `show running-config` output as a text file.
    #[arg(long, value_name = "SNAPSHOT", required_unless_present = "gpo")]
    pub live: Option<PathBuf>,
    /// Compare two GPO backups setting by setting instead, as `hardbase import compare-gpo A B`
    /// does (format text or json). Exit status 0 equal, 1 different.
    #[arg(long, num_args = 2, value_names = ["A", "B"], conflicts_with_all = ["live", "profile"])]
    pub gpo: Option<Vec<PathBuf>>,
    /// Output format: text, JSON with stable keys, JUnit XML, SARIF 2.1.0, or the checklist
    /// filled with the results (md, csv, xlsx).
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// Language of the filled checklist.
    #[arg(long, value_enum, default_value_t = Lang::Ja)]
    pub lang: Lang,
    /// Write to FILE instead of standard output (required for xlsx).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub resolve: ResolveArgs,
}

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Profile files, or folders whose profiles (files no other file extends) the snapshots
    /// are audited against (repeatable).
    #[arg(long, required = true, num_args = 1.., value_name = "PROFILE")]
    pub profiles: Vec<PathBuf>,
    /// The folder of snapshots: each folder in it holding a snapshot.json (written by a
    /// generated collector), and each *.cfg, *.txt or *.conf file (a network device's
    /// `show running-config`), searched recursively.
    #[arg(long, value_name = "DIR")]
    pub snapshots: PathBuf,
    /// A TOML file of [[host]] rules (`match` = host name or pattern with * and ?, `profile` =
    /// profile name), first match wins. Without it, a snapshot is audited with the profile its
    /// collector was generated for, else with the profile named like its host.
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
    /// Output folder for audit.jsonl, audit.xlsx and audit.html (replaced as a whole).
    #[arg(long, short, value_name = "DIR", default_value = "audit")]
    pub out: PathBuf,
    /// Replace the output folder even if it was not written by hardbase.
    #[arg(long)]
    pub force: bool,
    /// Which reports to write (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [AuditFormat::Jsonl, AuditFormat::Xlsx, AuditFormat::Html])]
    pub formats: Vec<AuditFormat>,
    /// Language of the reports and the summary (titles, headings, status names).
    #[arg(long, value_enum, default_value_t = Lang::Ja)]
    pub lang: Lang,
    /// Worker threads (default: one more than the number of CPUs).
    #[arg(long, short, value_name = "N")]
    pub jobs: Option<std::num::NonZeroUsize>,
    /// When to show the progress bar on standard error.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto)]
    pub progress: ColorWhen,
    #[command(flatten)]
    pub resolve: ResolveArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// audit.jsonl: one JSON object per line, per host and per host × control.
    Jsonl,
    /// audit.xlsx: a summary sheet, a hosts sheet and one row per host × control.
    Xlsx,
    /// audit.html: one self-contained page with the heatmap, filters and per-host detail.
    Html,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
    Junit,
    Sarif,
    Md,
    Csv,
    Xlsx,
}

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Read a GPO backup (its Machine registry.pol, GptTmpl.inf and audit.csv) and write a
    /// profile layer that reproduces it, with a catalog file for the settings no built-in
    /// control carries. Every entry that cannot be represented is listed.
    Gpo(ImportGpoArgs),
    /// Compare two GPO backups setting by setting. Exit status 0 equal, 1 different.
    CompareGpo(CompareGpoArgs),
    /// Propose a profile layer from a golden unit's snapshot (taken by the generated collector)
    /// for review: the parameters the snapshot can fill, and as comments the listening ports
    /// with the flows they imply, enabled services, USB devices, local administrators, features.
    Snapshot(ImportSnapshotArgs),
}

#[derive(Args, Debug)]
pub struct ImportSnapshotArgs {
    /// The snapshot folder written by linux/collect.sh or windows/Collect-Hardbase.ps1.
    #[arg(value_name = "SNAPSHOT")]
    pub snapshot: PathBuf,
    /// The layer to write (default: proposed-<host>.toml).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Format of the summary on standard output.
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
}

#[derive(Args, Debug)]
pub struct ImportGpoArgs {
    /// The backup folder ({BackupID} with DomainSysvol), or a folder holding one backup.
    #[arg(value_name = "BACKUP_DIR")]
    pub backup: PathBuf,
    /// The layer to write; the catalog file goes to baselines/imported-<name>.toml beside it.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The name used in file names and control ids (default: the GPO's display name).
    #[arg(long)]
    pub name: Option<String>,
    /// Format of the report on standard output.
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
}

#[derive(Args, Debug)]
pub struct CompareGpoArgs {
    /// The first backup folder.
    pub a: PathBuf,
    /// The second backup folder.
    pub b: PathBuf,
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
}

//! The one place the stages are wired together and output is written.
//!
//! Each command loads the catalog, resolves what it needs, and hands the
//! model to a pure report function. Diagnostics go to stderr as text (or into
//! the JSON document where a command prints JSON); input problems exit with
//! status 2, and nothing is written when any profile has an error.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::CommandFactory;
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use sha2::{Digest, Sha256};

use crate::catalog::taxonomy::{Category, Lang, Role, Tier};
use crate::catalog::Catalog;
use crate::cli::{
    BuildArgs, CheckArgs, ChecklistArgs, ChecklistFormat, Cli, ColorWhen, Command, DiffFormat,
    ExplainArgs, ListArgs, ListWhat, ResolveArgs, TextOrJson, VerifyArgs,
};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::document::Date;
use crate::model::DesiredState;
use crate::output;
use crate::report;
use crate::resolve::{self, chain};
use crate::source::SourceMap;

/// Exit status for invalid input and errors.
const INVALID: u8 = 2;

/// Everything a command needs: the sources read so far, the catalog and the diagnostics.
pub struct Session {
    pub sources: SourceMap,
    pub catalog: Catalog,
    pub diags: Diagnostics,
    color: ColorWhen,
}

impl Session {
    /// Loads the built-in catalog and any overrides.
    pub fn new(cli: &Cli) -> Session {
        let (baselines, color) = (&cli.baselines, cli.color);
        let mut sources = SourceMap::new();
        let mut diags = Diagnostics::new();
        let dirs: Vec<&Path> = baselines.iter().map(PathBuf::as_path).collect();
        let catalog = Catalog::load(&mut sources, !cli.no_builtin, &dirs, &mut diags);
        Session {
            sources,
            catalog,
            diags,
            color,
        }
    }

    /// Resolves profiles (files or folders) as of a date; `None` entries failed.
    pub fn resolve_all(
        &mut self,
        inputs: &[PathBuf],
        args: &ResolveArgs,
    ) -> Vec<Option<DesiredState>> {
        self.resolve_with(inputs, args, false)
    }

    /// Resolves profiles for an audit: an expired waiver is a finding, not an error.
    pub fn resolve_for_audit(
        &mut self,
        inputs: &[PathBuf],
        args: &ResolveArgs,
    ) -> Vec<Option<DesiredState>> {
        self.resolve_with(inputs, args, true)
    }

    fn resolve_with(
        &mut self,
        inputs: &[PathBuf],
        args: &ResolveArgs,
        audit: bool,
    ) -> Vec<Option<DesiredState>> {
        let options = resolve::Options {
            at: args.at.unwrap_or_else(Date::today),
            expired_waivers_are_findings: audit,
        };
        let profiles = expand_profiles(inputs, &mut self.diags);
        profiles
            .iter()
            .map(|p| {
                let state = resolve::resolve(
                    p,
                    &self.catalog,
                    &mut self.sources,
                    &options,
                    &mut self.diags,
                )?;
                // Values a target format cannot carry are input errors too, at their lines.
                let problems = crate::target::validate(&state);
                let ok = problems.is_empty();
                problems.into_iter().for_each(|d| self.diags.push(d));
                ok.then_some(state)
            })
            .collect()
    }

    /// Prints diagnostics to stderr.
    pub fn report(&self) {
        if self.diags.is_empty() {
            return;
        }
        let choice = match self.color {
            ColorWhen::Always => ColorChoice::Always,
            ColorWhen::Never => ColorChoice::Never,
            ColorWhen::Auto
                if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() =>
            {
                ColorChoice::Auto
            }
            ColorWhen::Auto => ColorChoice::Never,
        };
        let mut stderr = StandardStream::stderr(choice);
        let _ = self.diags.render_text(&self.sources, &mut stderr);
    }
}

/// Expands folders into the profiles they hold: the TOML files no other file there extends.
pub fn expand_profiles(inputs: &[PathBuf], diags: &mut Diagnostics) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for input in inputs {
        if !input.is_dir() {
            out.push(input.clone());
            continue;
        }
        let files: Vec<PathBuf> = walkdir::WalkDir::new(input)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "toml")
            })
            .map(|e| chain::normalize(e.path()))
            .collect();
        let mut extended = std::collections::BTreeSet::new();
        for file in &files {
            let Ok(text) = std::fs::read_to_string(file) else {
                continue;
            };
            let Ok(table) = text.parse::<toml::Table>() else {
                continue;
            };
            let parents = table
                .get("profile")
                .and_then(|p| p.get("extends"))
                .and_then(|e| e.as_array())
                .cloned()
                .unwrap_or_default();
            let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
            for parent in parents.iter().filter_map(|p| p.as_str()) {
                extended.insert(chain::normalize(&base.join(parent)));
            }
        }
        let before = out.len();
        out.extend(files.into_iter().filter(|f| !extended.contains(f)));
        if out.len() == before {
            diags.push(Diagnostic::error(
                Code::Io,
                format!("no profiles found in {}", input.display()),
            ));
        }
    }
    out
}

/// Runs the command line and returns the process exit status.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, "hardbase", &mut buf);
            return print(&buf);
        }
        Command::Check(ref args) => check(&cli, args),
        Command::Build(ref args) => build(&cli, args),
        Command::Verify(ref args) => verify(args),
        Command::Explain(ref args) => explain(&cli, args),
        Command::List(ref args) => list(&cli, args),
        Command::Coverage(ref args) => coverage(&cli, args),
        Command::Schema => schema(&cli),
        Command::Checklist(ref args) => checklist(&cli, args),
        Command::Flows(ref args) => flows(&cli, args),
        Command::Diff(ref args) => diff(&cli, args),
        Command::Audit(ref args) => audit(&cli, args),
        Command::Import(ref what) => import(&cli, what),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e}");
        ExitCode::from(INVALID)
    })
}

type CmdResult = Result<ExitCode, Box<dyn std::error::Error>>;

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn print(bytes: &[u8]) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            ExitCode::from(INVALID)
        }
    }
}

fn check(cli: &Cli, args: &CheckArgs) -> CmdResult {
    let mut session = Session::new(cli);
    let states = session.resolve_all(&args.profiles, &args.resolve);
    resolve::network_consistency::check(states.iter().flatten(), &mut session.diags);
    let failed = session.diags.has_errors();
    match args.format {
        TextOrJson::Json => {
            let profiles: Vec<serde_json::Value> = if failed {
                Vec::new()
            } else {
                states
                    .iter()
                    .flatten()
                    .map(|s| report::check::to_json(s, &session.sources))
                    .collect()
            };
            let mut doc = session.diags.to_json(&session.sources);
            doc["profiles"] = serde_json::Value::Array(profiles);
            doc["valid"] = serde_json::Value::Bool(!failed);
            let mut text = serde_json::to_string_pretty(&doc)?;
            text.push('\n');
            let code = print(text.as_bytes());
            Ok(if failed {
                ExitCode::from(INVALID)
            } else {
                code
            })
        }
        TextOrJson::Text => {
            session.report();
            if failed {
                return Ok(ExitCode::from(INVALID));
            }
            let texts: Vec<String> = states
                .iter()
                .flatten()
                .map(|s| report::check::to_text(s, &session.sources))
                .collect();
            Ok(print(texts.join("\n").as_bytes()))
        }
    }
}

fn explain(cli: &Cli, args: &ExplainArgs) -> CmdResult {
    let mut session = Session::new(cli);
    let id = args.control.to_ascii_uppercase();
    let Some(control) = session.catalog.get(&id) else {
        let mut d = Diagnostic::error(
            Code::UnknownControl,
            format!("unknown control `{}`", args.control),
        );
        d = match session.catalog.suggest(&id) {
            Some(best) => d.note(format!("help: did you mean `{best}`?")),
            None => d.note("`hardbase list controls` shows every control"),
        };
        session.diags.push(d);
        session.report();
        return Ok(ExitCode::from(INVALID));
    };
    let text = match args.format {
        TextOrJson::Text => report::explain::to_text(control, &session.sources, args.lang),
        TextOrJson::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&report::explain::to_json(control, &session.sources))?
        ),
    };
    session.report();
    let code = print(text.as_bytes());
    Ok(if session.diags.has_errors() {
        ExitCode::from(INVALID)
    } else {
        code
    })
}

fn parse_filter<T>(
    value: &Option<String>,
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
    ids: &[&str],
    diags: &mut Diagnostics,
) -> Option<T> {
    let v = value.as_ref()?;
    let parsed = parse(v);
    if parsed.is_none() {
        let mut d = Diagnostic::error(Code::InvalidValue, format!("`{v}` is not a valid --{what}"))
            .note(format!("expected one of: {}", ids.join(", ")));
        if let Some(best) = crate::catalog::closest(v, ids) {
            d = d.note(format!("help: did you mean `{best}`?"));
        }
        diags.push(d);
    }
    parsed
}

fn coverage(cli: &Cli, args: &crate::cli::CoverageArgs) -> CmdResult {
    use crate::cli::CoverageFormat;
    let mut session = Session::new(cli);
    let rows = if args.profiles.is_empty() {
        report::coverage::of_catalog(&session.catalog)
    } else {
        let states = session.resolve_all(&args.profiles, &args.resolve);
        session.report();
        if session.diags.has_errors() {
            return Ok(ExitCode::from(INVALID));
        }
        let states: Vec<DesiredState> = states.into_iter().flatten().collect();
        report::coverage::of_profiles(&states)
    };
    session.report();
    if session.diags.has_errors() {
        return Ok(ExitCode::from(INVALID));
    }
    let text = match args.format {
        CoverageFormat::Text => report::coverage::text(&rows, args.lang),
        CoverageFormat::Md => report::coverage::markdown(&rows, args.lang),
        CoverageFormat::Json => {
            serde_json::to_string_pretty(&report::coverage::json(&rows))? + "\n"
        }
    };
    Ok(print(text.as_bytes()))
}

fn list(cli: &Cli, args: &ListArgs) -> CmdResult {
    let mut session = Session::new(cli);
    let filter = report::list::Filter {
        role: parse_filter(
            &args.role,
            "role",
            Role::from_id,
            &Role::ids(),
            &mut session.diags,
        ),
        tier: parse_filter(
            &args.tier,
            "tier",
            Tier::from_id,
            &Tier::ids(),
            &mut session.diags,
        ),
        category: parse_filter(
            &args.category,
            "category",
            Category::from_id,
            &Category::ids(),
            &mut session.diags,
        ),
        short_term: args.short_term,
    };
    session.report();
    if session.diags.has_errors() {
        return Ok(ExitCode::from(INVALID));
    }
    let json = args.format == TextOrJson::Json;
    let text = match args.what {
        ListWhat::Controls => {
            let list = report::list::controls(&session.catalog, &filter);
            if json {
                serde_json::to_string_pretty(&report::list::controls_json(&list))? + "\n"
            } else {
                report::list::controls_text(&list, args.lang)
            }
        }
        ListWhat::Roles if json => {
            serde_json::to_string_pretty(&report::list::roles_json())? + "\n"
        }
        ListWhat::Roles => report::list::roles_text(args.lang),
        ListWhat::Platforms if json => {
            serde_json::to_string_pretty(&report::list::platforms_json())? + "\n"
        }
        ListWhat::Platforms => report::list::platforms_text(),
    };
    Ok(print(text.as_bytes()))
}

fn schema(cli: &Cli) -> CmdResult {
    let session = Session::new(cli);
    session.report();
    if session.diags.has_errors() {
        return Ok(ExitCode::from(INVALID));
    }
    let text =
        serde_json::to_string_pretty(&report::schema::profile_schema(&session.catalog))? + "\n";
    Ok(print(text.as_bytes()))
}

fn checklist(cli: &Cli, args: &ChecklistArgs) -> CmdResult {
    let mut session = Session::new(cli);
    let states = session.resolve_all(std::slice::from_ref(&args.profile), &args.resolve);
    session.report();
    let Some(Some(state)) = states
        .into_iter()
        .next()
        .filter(|_| !session.diags.has_errors())
    else {
        return Ok(ExitCode::from(INVALID));
    };
    let bytes = match args.format {
        ChecklistFormat::Md => report::checklist::markdown(&state, args.lang).into_bytes(),
        ChecklistFormat::Csv => report::checklist::csv(&state, args.lang),
        ChecklistFormat::Xlsx => report::checklist::xlsx(&state, args.lang)?,
    };
    write_or_print(
        args.output.as_deref(),
        &bytes,
        (args.format == ChecklistFormat::Xlsx).then_some("checklist"),
    )
}

/// Writes `bytes` to `output`, or prints them; a binary document (`binary` names it) is never
/// printed.
fn write_or_print(output: Option<&Path>, bytes: &[u8], binary: Option<&str>) -> CmdResult {
    match (output, binary) {
        (Some(path), _) => {
            output::write_file(path, bytes)?;
            Ok(ExitCode::SUCCESS)
        }
        (None, Some(what)) => {
            Err(format!("an xlsx {what} is binary: write it to a file with --output FILE").into())
        }
        (None, None) => Ok(print(bytes)),
    }
}

/// `hardbase flows`: the flow matrix of every profile given; nothing is written when any
/// profile has an error.
fn flows(cli: &Cli, args: &crate::cli::FlowsArgs) -> CmdResult {
    use crate::cli::FlowsFormat;
    let mut session = Session::new(cli);
    let states = session.resolve_all(&args.profiles, &args.resolve);
    session.report();
    if session.diags.has_errors() {
        return Ok(ExitCode::from(INVALID));
    }
    let states: Vec<DesiredState> = states.into_iter().flatten().collect();
    let rows = report::flows::rows(&states);
    let bytes = match args.format {
        FlowsFormat::Csv => report::flows::csv(&rows, args.lang),
        FlowsFormat::Xlsx => report::flows::xlsx(&rows, args.lang)?,
        FlowsFormat::Md => report::flows::markdown(&rows, args.lang).into_bytes(),
        FlowsFormat::Json => {
            (serde_json::to_string_pretty(&report::flows::json(&rows))? + "\n").into_bytes()
        }
    };
    write_or_print(
        args.output.as_deref(),
        &bytes,
        (args.format == FlowsFormat::Xlsx).then_some("flow matrix"),
    )
}

/// `hardbase diff`: resolves the profile as an audit (an expired waiver is a finding, not an
/// error), loads the snapshot (a file that cannot be parsed is an error at its line, exit 2),
/// compares and prints. Exit status 0 compliant, 1 any finding, 2 an error. With `--gpo A B`
/// it is `import compare-gpo A B`.
fn diff(cli: &Cli, args: &crate::cli::DiffArgs) -> CmdResult {
    let (profile, live_dir) = match (&args.gpo, &args.profile, &args.live) {
        (Some(backups), _, _) => {
            let format = match args.format {
                DiffFormat::Text => TextOrJson::Text,
                DiffFormat::Json => TextOrJson::Json,
                other => {
                    let name = clap::ValueEnum::to_possible_value(&other)
                        .map_or(String::new(), |v| v.get_name().to_string());
                    return Err(
                        format!("`diff --gpo` writes text or json, not `--format {name}`").into(),
                    );
                }
            };
            let [a, b] = backups.as_slice() else {
                return Err("--gpo takes two backup folders: --gpo A B".into());
            };
            return compare_gpo(a, b, format, args.output.as_deref());
        }
        (None, Some(profile), Some(live)) => (profile, live),
        _ => return Err("diff needs PROFILE and --live SNAPSHOT, or --gpo A B".into()),
    };
    let mut session = Session::new(cli);
    let options = resolve::Options {
        at: args.resolve.at.unwrap_or_else(Date::today),
        expired_waivers_are_findings: true,
    };
    let state = resolve::resolve(
        profile,
        &session.catalog,
        &mut session.sources,
        &options,
        &mut session.diags,
    );
    if let Some(state) = &state {
        crate::target::validate(state)
            .into_iter()
            .for_each(|d| session.diags.push(d));
    }
    session.report();
    let Some(state) = state.filter(|_| !session.diags.has_errors()) else {
        return Ok(ExitCode::from(INVALID));
    };
    // A network device's live state is one `show running-config` file, not a folder.
    let loaded = if state.profile.platform.family == crate::catalog::taxonomy::Family::Network {
        crate::snapshot::network::load(live_dir)
    } else {
        // The file inside the snapshot folder, so the message names a path that exists.
        crate::snapshot::load(live_dir).map_err(|e| crate::snapshot::SnapshotError {
            file: live_dir.join(&e.file).display().to_string(),
            ..e
        })
    };
    let live = match loaded {
        Ok(live) => live,
        Err(e) => {
            eprintln!("error[snapshot]: {}", report::drift::escape(&e.to_string()));
            return Ok(ExitCode::from(INVALID));
        }
    };
    let family = state.profile.platform.family.id();
    if !live.info.family.is_empty() && live.info.family != family {
        eprintln!(
            "error[snapshot]: the snapshot is of a {} machine and the profile is for {family}",
            report::drift::escape(&live.info.family)
        );
        return Ok(ExitCode::from(INVALID));
    }
    let drift = crate::drift::diff(&state, &live);
    let sources = &session.sources;
    let bytes = match args.format {
        DiffFormat::Json => {
            (serde_json::to_string_pretty(&report::drift::to_json(&drift, sources))? + "\n")
                .into_bytes()
        }
        DiffFormat::Text => {
            let color = args.output.is_none()
                && match cli.color {
                    ColorWhen::Always => true,
                    ColorWhen::Never => false,
                    ColorWhen::Auto => {
                        std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                    }
                };
            report::drift::to_text(&drift, sources, color).into_bytes()
        }
        DiffFormat::Junit => report::junit::to_junit(&drift, &state, sources).into_bytes(),
        DiffFormat::Sarif => {
            (serde_json::to_string_pretty(&report::sarif::to_sarif(&drift, &state, sources))?
                + "\n")
                .into_bytes()
        }
        DiffFormat::Md => {
            report::checklist::filled_markdown(&state, &drift, args.lang).into_bytes()
        }
        DiffFormat::Csv => report::checklist::filled_csv(&state, &drift, args.lang),
        DiffFormat::Xlsx => report::checklist::filled_xlsx(&state, &drift, args.lang)?,
    };
    let code = match &args.output {
        Some(path) => {
            output::write_file(path, &bytes)?;
            ExitCode::SUCCESS
        }
        None if args.format == DiffFormat::Xlsx => {
            return Err("an xlsx checklist is binary: write it to a file with --output FILE".into())
        }
        None => print(&bytes),
    };
    Ok(if drift.is_compliant() {
        code
    } else {
        ExitCode::from(drift.exit_code())
    })
}

/// `hardbase audit`: resolve the profiles, find and map the snapshots, audit them in parallel
/// into a staging folder, then swap it in place of --out.
fn audit(cli: &Cli, args: &crate::cli::AuditArgs) -> CmdResult {
    use crate::audit::{engine, html::HtmlSink, jsonl::JsonlSink, summary::TextSummary};
    use crate::cli::AuditFormat;
    let mut session = Session::new(cli);
    let files = expand_profiles(&args.profiles, &mut session.diags);
    let resolved = session.resolve_for_audit(&files, &args.resolve);
    unique_names(
        resolved.iter().flatten(),
        &mut session.diags,
        "snapshots are mapped to profiles by name; give them distinct `name`s",
    );
    let (states, files): (Vec<DesiredState>, Vec<String>) = resolved
        .into_iter()
        .zip(&files)
        .filter_map(|(s, f)| s.map(|s| (s, f.display().to_string())))
        .unzip();
    let profile_names: Vec<&str> = states.iter().map(|s| s.profile.name.as_str()).collect();
    let mapping = match &args.map {
        Some(path) => crate::audit::mapping::Mapping::load(
            path,
            &mut session.sources,
            &profile_names,
            &mut session.diags,
        ),
        None => None,
    };
    session.report();
    if session.diags.has_errors() || states.is_empty() {
        return Ok(ExitCode::from(INVALID));
    }
    let (entries, skipped) = engine::discover(&args.snapshots)?;
    for rel in &skipped {
        eprintln!(
            "warning: {} is neither a snapshot folder nor a running configuration; skipped",
            report::drift::escape(&args.snapshots.join(rel).display().to_string())
        );
    }
    let evaluated_at = args.resolve.at.unwrap_or_else(Date::today);
    let mut fleet = engine::fleet(&states, &files, evaluated_at, args.lang);
    fleet.hosts = entries.len();
    let staged = output::StagedDir::new(&args.out, args.force)?;
    let scratch = staged.path().join(".work");
    std::fs::create_dir(&scratch)?;
    let mut jsonl = args
        .formats
        .contains(&AuditFormat::Jsonl)
        .then(|| {
            // Synced every 16 MiB as it grows, so the sync at the end waits for the last part only.
            std::fs::File::create(staged.path().join("audit.jsonl"))
                .map(|f| JsonlSink::new(output::SyncingFile::new(f, 16 << 20)))
        })
        .transpose()?;
    let mut xlsx = args
        .formats
        .contains(&AuditFormat::Xlsx)
        .then(|| {
            crate::audit::xlsx::XlsxSink::new(staged.path().join("audit.xlsx"), &scratch, args.lang)
        })
        .transpose()?;
    let mut html = args
        .formats
        .contains(&AuditFormat::Html)
        .then(|| HtmlSink::new(&staged.path().join("audit.html"), &scratch))
        .transpose()?;
    let mut text = TextSummary::default();
    let mut sinks: Vec<&mut dyn crate::audit::Sink> = vec![&mut text];
    if let Some(s) = jsonl.as_mut() {
        sinks.push(s);
    }
    if let Some(s) = xlsx.as_mut() {
        sinks.push(s);
    }
    if let Some(s) = html.as_mut() {
        sinks.push(s);
    }
    let show_progress = match args.progress {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => std::io::stderr().is_terminal(),
    };
    let mut progress = crate::audit::progress::Progress::new(show_progress);
    // One worker more than CPUs by default: this thread writes the reports in bursts and a
    // worker waits on the file system now and then, so CPUs workers alone leave CPU time unused.
    let jobs = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()) + 1,
        |n| n.get(),
    );
    let prepared: Vec<crate::drift::Prepared> = states.iter().map(crate::drift::prepare).collect();
    let plan = engine::Plan {
        fleet: &fleet,
        states: &states,
        prepared: &prepared,
        sources: &session.sources,
        mapping: mapping.as_ref(),
        entries: &entries,
    };
    let mut summary = engine::run(&plan, jobs, &mut sinks, &mut |done, total| {
        progress.update(done, total)
    })?;
    drop(sinks);
    if let Some(sink) = jsonl.take() {
        summary.records = sink.records;
        sink.into_inner()?.finish()?;
    }
    drop((xlsx, html));
    std::fs::remove_dir_all(&scratch)?;
    let mut written: Vec<String> = std::fs::read_dir(staged.path())?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    let manifest = serde_json::json!({
        "generator": "hardbase",
        "version": env!("CARGO_PKG_VERSION"),
        "kind": "audit",
        "evaluated_at": evaluated_at.to_string(),
        "snapshots": summary.hosts,
        "files": written,
    });
    // Every report, the manifest and the folder's entries are on disk before the folder
    // replaces the previous audit, and the swap is on disk before the summary says so.
    output::write_synced(
        &staged.path().join(output::MANIFEST),
        (serde_json::to_string_pretty(&manifest)? + "\n").as_bytes(),
    )?;
    output::sync_dir(staged.path())?;
    staged.commit()?;
    let parent = args.out.parent().filter(|p| !p.as_os_str().is_empty());
    output::sync_dir(parent.unwrap_or(Path::new(".")))?;
    let mut out = text.render(&fleet, &summary);
    let shown: Vec<String> = written
        .iter()
        .map(|f| args.out.join(f).display().to_string())
        .collect();
    let _ = writeln_summary(&mut out, &shown, summary.records);
    let code = print(out.as_bytes());
    if code != ExitCode::SUCCESS {
        return Ok(code);
    }
    Ok(ExitCode::from(if summary.errors > 0 {
        INVALID
    } else if summary.compliant < summary.audited {
        1
    } else {
        0
    }))
}

fn writeln_summary(out: &mut String, files: &[String], records: usize) -> std::fmt::Result {
    use std::fmt::Write as _;
    writeln!(out)?;
    for f in files {
        if f.ends_with(".jsonl") {
            writeln!(
                out,
                "wrote {} ({records} records)",
                report::drift::escape(f)
            )?;
        } else {
            writeln!(out, "wrote {}", report::drift::escape(f))?;
        }
    }
    Ok(())
}

/// `hardbase import gpo`, `import compare-gpo` and `import snapshot`.
fn import(cli: &Cli, what: &crate::cli::ImportCommand) -> CmdResult {
    use crate::cli::ImportCommand;
    use crate::import::{self, gpo};
    match what {
        ImportCommand::Gpo(args) => {
            let session = Session::new(cli);
            session.report();
            if session.diags.has_errors() {
                return Ok(ExitCode::from(INVALID));
            }
            let files = import::read_backup(&args.backup)?;
            let name = gpo::slug(args.name.as_deref().unwrap_or_else(|| {
                files.display_name.as_deref().unwrap_or_else(|| {
                    files
                        .folder
                        .file_name()
                        .and_then(|n| n.to_str())
                        .unwrap_or("gpo")
                })
            }));
            let result = gpo::import(&files, &name, &session.catalog);
            let layer = args
                .output
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("{name}.toml")));
            let catalog_rel = format!("baselines/imported-{name}.toml");
            let catalog_path = layer.parent().unwrap_or(Path::new("")).join(&catalog_rel);
            output::write_file(&catalog_path, gpo::catalog_toml(&result).as_bytes())?;
            output::write_file(&layer, gpo::layer_toml(&result, &catalog_rel).as_bytes())?;
            let (layer, catalog) = (
                layer.display().to_string(),
                catalog_path.display().to_string(),
            );
            let text = match args.format {
                TextOrJson::Json => {
                    serde_json::to_string_pretty(&gpo::report_json(&result, &layer, &catalog))?
                        + "\n"
                }
                TextOrJson::Text => gpo::report_text(&result, &layer, &catalog),
            };
            Ok(print(text.as_bytes()))
        }
        ImportCommand::CompareGpo(args) => compare_gpo(&args.a, &args.b, args.format, None),
        ImportCommand::Snapshot(args) => import_snapshot(cli, args),
    }
}

/// `hardbase import compare-gpo A B` and `hardbase diff --gpo A B`: exit 0 equal, 1 different.
fn compare_gpo(a: &Path, b: &Path, format: TextOrJson, output: Option<&Path>) -> CmdResult {
    use crate::import::{self, compare};
    let ea = import::entries(&import::read_backup(a)?);
    let eb = import::entries(&import::read_backup(b)?);
    let c = compare::compare(&ea, &eb);
    let (na, nb) = (a.display().to_string(), b.display().to_string());
    let text = match format {
        TextOrJson::Json => serde_json::to_string_pretty(&compare::to_json(&c, &na, &nb))? + "\n",
        TextOrJson::Text => compare::to_text(&c, &na, &nb),
    };
    let code = match output {
        Some(path) => {
            output::write_file(path, text.as_bytes())?;
            ExitCode::SUCCESS
        }
        None => print(text.as_bytes()),
    };
    Ok(if c.is_equal() {
        code
    } else {
        ExitCode::from(1)
    })
}

/// `hardbase import snapshot`: a golden unit's snapshot turned into a proposed layer.
fn import_snapshot(cli: &Cli, args: &crate::cli::ImportSnapshotArgs) -> CmdResult {
    use crate::import::{gpo, printable, snapshot};
    let session = Session::new(cli);
    session.report();
    if session.diags.has_errors() {
        return Ok(ExitCode::from(INVALID));
    }
    let live = match crate::snapshot::load(&args.snapshot) {
        Ok(live) => live,
        Err(e) => {
            let file = args.snapshot.join(&e.file).display().to_string();
            let e = crate::snapshot::SnapshotError { file, ..e };
            eprintln!("error[snapshot]: {}", printable(&e.to_string()));
            return Ok(ExitCode::from(INVALID));
        }
    };
    let source = args.snapshot.display().to_string();
    let proposal = snapshot::propose(&live, &source, &session.catalog);
    let layer = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("proposed-{}.toml", gpo::slug(&live.info.host))));
    output::write_file(&layer, snapshot::layer_toml(&proposal).as_bytes())?;
    let layer = layer.display().to_string();
    let text = match args.format {
        TextOrJson::Json => {
            serde_json::to_string_pretty(&snapshot::report_json(&proposal, &layer))? + "\n"
        }
        TextOrJson::Text => snapshot::report_text(&proposal, &layer),
    };
    Ok(print(text.as_bytes()))
}

/// The files of one profile's output tree (paths relative to the tree, `/`-separated).
pub fn profile_artifacts(
    state: &DesiredState,
    session: &Session,
) -> Result<output::TreeFiles, Box<dyn std::error::Error>> {
    let mut tree = Tree::Memory(Vec::new());
    signed_profile_artifacts(
        state,
        session,
        None,
        &CatalogHash::new(&session.sources),
        &mut tree,
    )
    .map_err(|e| e as Box<dyn std::error::Error>)?;
    Ok(match tree {
        Tree::Memory(files) => files,
        Tree::Disk { .. } => Vec::new(),
    })
}

/// Where a profile's artefacts go as they are made: kept (to be signed, or for a caller that
/// wants the files), or written at once into the profile's staging folder, so that a built
/// profile holds only the artefact being made rather than its whole tree.
enum Tree<'a> {
    Memory(output::TreeFiles),
    Disk {
        writer: output::FileWriter<'a>,
        /// Path, SHA-256 and size of each file written.
        written: Vec<(String, String, usize)>,
    },
}

impl Tree<'_> {
    fn put(&mut self, path: String, bytes: Vec<u8>) -> Result<(), SendError> {
        match self {
            Tree::Memory(files) => files.push((path, bytes)),
            Tree::Disk { writer, written } => {
                writer.write(&path, &bytes)?;
                written.push((path, output::sha256_hex(&bytes), bytes.len()));
            }
        }
        Ok(())
    }

    /// Path, SHA-256 and size of every file, sorted by path (files kept in memory are sorted
    /// too).
    fn listing(&mut self) -> Vec<(String, String, usize)> {
        match self {
            Tree::Memory(files) => {
                files.sort_by(|a, b| a.0.cmp(&b.0));
                files
                    .iter()
                    .map(|(path, bytes)| (path.clone(), output::sha256_hex(bytes), bytes.len()))
                    .collect()
            }
            Tree::Disk { written, .. } => {
                written.sort_by(|a, b| a.0.cmp(&b.0));
                written.clone()
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Tree::Memory(files) => files.len(),
            Tree::Disk { written, .. } => written.len(),
        }
    }
}

/// The `catalog_sha256` of the manifests: SHA-256 over every source that is not one of the
/// profile's layers (name, NUL, text, NUL). The built-in baselines at the start of the source
/// map are hashed by every profile, so their part is hashed once per build.
struct CatalogHash {
    prefix: Sha256,
    /// The first source not in `prefix`.
    next: usize,
}

impl CatalogHash {
    fn new(sources: &crate::source::SourceMap) -> CatalogHash {
        let mut prefix = Sha256::new();
        let mut next = 0;
        while next < sources.len() && sources.name(next).starts_with("<built-in>/") {
            Self::update(&mut prefix, sources, next);
            next += 1;
        }
        CatalogHash { prefix, next }
    }

    fn update(hash: &mut Sha256, sources: &crate::source::SourceMap, i: usize) {
        hash.update(sources.name(i).as_bytes());
        hash.update([0]);
        hash.update(sources.text(i).as_bytes());
        hash.update([0]);
    }

    /// The hex digest for a profile with these layers.
    fn of(&self, sources: &crate::source::SourceMap, layers: &[String]) -> String {
        let mut hash = self.prefix.clone();
        for i in self.next..sources.len() {
            let name = sources.name(i);
            if name.starts_with("<built-in>/") || !layers.iter().any(|l| l == name) {
                Self::update(&mut hash, sources, i);
            }
        }
        hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// [`profile_artifacts`] into `tree`, with the PowerShell scripts signed before the manifest is
/// computed (a tree to sign is [`Tree::Memory`]).
fn signed_profile_artifacts(
    state: &DesiredState,
    session: &Session,
    signer: Option<&crate::sign::Signer>,
    catalog: &CatalogHash,
    tree: &mut Tree<'_>,
) -> Result<(), SendError> {
    // Each part is handed to the tree as soon as it is made (and dropped when the tree writes
    // it), so the scripts are gone before the checklists are made.
    crate::target::emit_into(state, &mut |path, bytes| {
        tree.put(path, bytes).map_err(|e| e.to_string())
    })?;
    for (lang, suffix) in [(Lang::Ja, ""), (Lang::En, ".en")] {
        report::checklist::each(state, lang, |extension, bytes| {
            tree.put(format!("checklist{suffix}.{extension}"), bytes)
        })?;
    }
    // The evaluation day is not part of the artefact: the same inputs give the same bytes any day.
    let desired = report::check::to_json_text(state, &session.sources, false)?;
    tree.put("desired-state.json".into(), (desired + "\n").into_bytes())?;
    if let (Some(signer), Tree::Memory(files)) = (signer, &mut *tree) {
        files.sort_by(|a, b| a.0.cmp(&b.0));
        signer.sign_scripts(files)?;
    }
    let listing = tree.listing();
    let inputs: Vec<serde_json::Value> = state
        .profile
        .layers
        .iter()
        .map(|name| {
            let file = (0..session.sources.len()).find(|i| session.sources.name(*i) == name);
            let text = file.map(|f| session.sources.text(f)).unwrap_or("");
            serde_json::json!({ "path": name, "sha256": output::sha256_hex(text.as_bytes()) })
        })
        .collect();
    let catalog_digest = catalog.of(&session.sources, &state.profile.layers);
    let mut manifest = serde_json::json!({
        "generator": "hardbase",
        "version": env!("CARGO_PKG_VERSION"),
        "profile": state.profile.name,
        "role": state.profile.role.id(),
        "platform": state.profile.platform.id,
        "inputs": inputs,
        "catalog_sha256": catalog_digest,
        "artifacts": listing.iter().map(|(path, sha256, size)| serde_json::json!({
            "path": path,
            "sha256": sha256,
            "size": size,
        })).collect::<Vec<_>>(),
    });
    if let (Some(signing), Some(obj)) = (&state.profile.signing, manifest.as_object_mut()) {
        obj.insert(
            "signing".into(),
            serde_json::json!({
                "method": signing.method.id(),
                "certificate_thumbprint": signing.certificate_thumbprint,
                "note": if signer.is_some() {
                    "the scripts were signed by hardbase build; the .ps1 hashes are of the signed files"
                } else {
                    "the .ps1 hashes are of the scripts as built; hardbase verify compares a signed script without its signature block"
                },
            }),
        );
    }
    if let (Some(signer), Some(obj)) = (signer, manifest.as_object_mut()) {
        obj.insert(
            "signatures".into(),
            serde_json::json!({
                "scripts": "Authenticode (osslsigncode), SHA-256",
                "signing_time": signer.signing_time(),
                "note": "the .ps1 hashes are of the signed files; without SOURCE_DATE_EPOCH \
                         (signing_time null) the signing time differs from build to build",
            }),
        );
    }
    tree.put(
        output::MANIFEST.into(),
        (serde_json::to_string_pretty(&manifest)? + "\n").into_bytes(),
    )
}

/// An error for each profile whose name an earlier one already has; `why` says what the names
/// are used for.
fn unique_names<'a>(
    states: impl Iterator<Item = &'a DesiredState>,
    diags: &mut Diagnostics,
    why: &str,
) {
    let mut names = std::collections::BTreeMap::new();
    for state in states {
        if let Some(first) = names.insert(state.profile.name.clone(), state.profile.span) {
            diags.push(
                Diagnostic::error(
                    Code::InvalidProfile,
                    format!("two profiles are named `{}`", state.profile.name),
                )
                .at(state.profile.span, "this profile")
                .also(first, "has the same name as this one")
                .note(why),
            );
        }
    }
}

fn build(cli: &Cli, args: &BuildArgs) -> CmdResult {
    let mut session = Session::new(cli);
    let states = session.resolve_all(&args.profiles, &args.resolve);
    resolve::network_consistency::check(states.iter().flatten(), &mut session.diags);
    unique_names(
        states.iter().flatten(),
        &mut session.diags,
        "each profile is built into <out>/<name>/; give them distinct `name`s",
    );
    // A profile signed on the build host cannot be built without the signing credentials: its
    // unsigned scripts would stop at the terminal's script enforcement.
    for state in states.iter().flatten() {
        if let Some(signing) = &state.profile.signing {
            if signing.method == crate::load::profile::SigningMethod::BuildHost && !args.sign {
                session.diags.push(
                    Diagnostic::error(
                        Code::UnsignedScripts,
                        format!(
                            "profile `{}` is signed on the build host, but the build was not asked to sign",
                            state.profile.name
                        ),
                    )
                    .at(signing.span, "signing method build-host")
                    .note("pass --sign with --sign-cert and --sign-key (or --sign-pkcs12); nothing was written"),
                );
            }
        }
    }
    session.report();
    if session.diags.has_errors() {
        return Ok(ExitCode::from(INVALID));
    }
    let signer = args.sign.then(|| sign_with(args)).transpose()?;
    // Every profile's folder is staged first (a folder that is not hardbase output stops the
    // build here). Then each profile's tree is made and written into its staging folder, on as
    // many threads as there are CPUs (at most MAX_WORKERS), and dropped with the profile's
    // resolved state: a tree is in memory only while it is made and written. No folder is
    // replaced before every tree is written, and an error before that leaves nothing written.
    let states: Vec<DesiredState> = states.into_iter().flatten().collect();
    let mut staged = output::StagedTrees::new();
    let mut dirs = Vec::with_capacity(states.len());
    for state in &states {
        let dir = args.out.join(&state.profile.name);
        let staging = staged.add(&dir, args.force)?;
        dirs.push((state.profile.name.clone(), dir, staging));
    }
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_WORKERS)
        .min(states.len().max(1));
    // The Windows profiles, the largest, come last: by then the states of the others are
    // dropped, which lowers the peak memory.
    let (windows, mut order): (Vec<usize>, Vec<usize>) = (0..states.len()).partition(|i| {
        states[*i].profile.platform.family == crate::catalog::taxonomy::Family::Windows
    });
    order.extend(windows);
    let states: Vec<std::sync::Mutex<Option<DesiredState>>> = states
        .into_iter()
        .map(|s| std::sync::Mutex::new(Some(s)))
        .collect();
    let catalog = CatalogHash::new(&session.sources);
    let built = in_parallel(order.len(), workers, |k| {
        let i = order[k];
        let state = states[i]
            .lock()
            .ok()
            .and_then(|mut s| s.take())
            .ok_or("a profile was built twice")?;
        let mut tree = if signer.is_some() {
            Tree::Memory(Vec::new())
        } else {
            Tree::Disk {
                writer: output::FileWriter::new(&dirs[i].2),
                written: Vec::new(),
            }
        };
        signed_profile_artifacts(&state, &session, signer.as_ref(), &catalog, &mut tree)?;
        drop(state);
        if let Tree::Memory(files) = &tree {
            output::write_files(&dirs[i].2, files)?;
        }
        Ok((i, tree.len()))
    })?;
    let mut counts = vec![0; dirs.len()];
    for (i, count) in built {
        counts[i] = count;
    }
    staged.commit(|i| {
        let (name, dir, _) = &dirs[i];
        eprintln!("built {name} ({} files) -> {}", counts[i], dir.display());
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The most threads a build makes trees on (each holds a tree in memory).
const MAX_WORKERS: usize = 4;

type SendError = Box<dyn std::error::Error + Send + Sync>;

/// `job(0)` to `job(n - 1)` on `workers` threads (this one included), the results in order.
/// The jobs are started in order and none after one failed; the error is that of the first job
/// that failed, as if they had run one after the other.
fn in_parallel<T: Send>(
    n: usize,
    workers: usize,
    job: impl Fn(usize) -> Result<T, SendError> + Sync,
) -> Result<Vec<T>, Box<dyn std::error::Error>> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Vec<std::sync::Mutex<Option<Result<T, SendError>>>> =
        (0..n).map(|_| std::sync::Mutex::new(None)).collect();
    let work = || {
        while !failed.load(Ordering::SeqCst) {
            let i = next.fetch_add(1, Ordering::SeqCst);
            if i >= n {
                break;
            }
            let result = job(i);
            if result.is_err() {
                failed.store(true, Ordering::SeqCst);
            }
            if let Ok(mut slot) = results[i].lock() {
                *slot = Some(result);
            }
        }
    };
    std::thread::scope(|scope| {
        for _ in 1..workers {
            // A thread that cannot be made leaves its share to the others.
            let _ = std::thread::Builder::new().spawn_scoped(scope, work);
        }
        work();
    });
    // Every job started before the first failure ran to its end, so the results are in order
    // up to the first error.
    let mut out = Vec::with_capacity(n);
    for slot in results {
        match slot.into_inner().ok().flatten() {
            Some(Ok(value)) => out.push(value),
            Some(Err(e)) => return Err(e),
            None => return Err("a build worker stopped without a result".into()),
        }
    }
    Ok(out)
}

/// The signer `build --sign` asked for.
fn sign_with(args: &BuildArgs) -> Result<crate::sign::Signer, String> {
    use crate::sign::Credentials;
    let credentials = match (&args.sign_cert, &args.sign_key, &args.sign_pkcs12) {
        (Some(cert), Some(key), None) => Credentials::CertKey {
            cert: cert.clone(),
            key: key.clone(),
        },
        (None, None, Some(file)) => Credentials::Pkcs12 { file: file.clone() },
        _ => {
            return Err(
                "--sign needs --sign-cert FILE with --sign-key FILE, or --sign-pkcs12 FILE".into(),
            )
        }
    };
    crate::sign::Signer::new(
        credentials,
        args.sign_password_env.as_deref(),
        args.sign_timestamp.clone(),
    )
}

fn verify(args: &VerifyArgs) -> CmdResult {
    let checker = args
        .check_signatures
        .then(|| crate::sign::Checker::new(args.ca.clone()))
        .transpose()?;
    let mut results = Vec::new();
    for dir in &args.dirs {
        for folder in crate::verify::folders(dir)? {
            results.push(crate::verify::verify(&folder, checker.as_ref())?);
        }
    }
    let ok = results.iter().all(|r| r.ok());
    let text = match args.format {
        TextOrJson::Json => {
            serde_json::to_string_pretty(&serde_json::json!({ "ok": ok, "folders": results }))?
                + "\n"
        }
        TextOrJson::Text => {
            let mut out = String::new();
            for r in &results {
                for (what, list) in [
                    ("changed", &r.changed),
                    ("missing", &r.missing),
                    ("extra", &r.extra),
                ] {
                    for path in list {
                        out.push_str(&format!("{what}: {}/{path}\n", r.folder));
                    }
                }
                for s in &r.signatures {
                    let checked = match (s.verified, &s.problem) {
                        (Some(true), _) => ", signature verified".to_string(),
                        (Some(false), Some(why)) => format!(", signature INVALID: {why}"),
                        _ => String::new(),
                    };
                    out.push_str(&format!(
                        "{}: {}/{}{checked}\n",
                        s.state.as_str(),
                        r.folder,
                        s.path
                    ));
                }
                let verdict = if r.ok() { "verified" } else { "DIFFERS" };
                out.push_str(&format!(
                    "{verdict}: {} ({} artefacts checked)\n",
                    r.folder, r.checked
                ));
            }
            out
        }
    };
    let code = print(text.as_bytes());
    Ok(if ok { code } else { ExitCode::from(1) })
}

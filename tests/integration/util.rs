//! Running the real binary against fixture folders.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures() -> PathBuf {
    root().join("tests").join("fixtures")
}

/// The result of one run.
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    pub bytes: Vec<u8>,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            status: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            bytes: o.stdout,
        }
    }
}

/// Runs `hardbase ARGS` in `dir`.
pub fn run_in(dir: &Path, args: &[&str]) -> Run {
    Command::new(env!("CARGO_BIN_EXE_hardbase"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("the hardbase binary runs")
        .into()
}

/// Runs `hardbase` in the repository root.
pub fn run(args: &[&str]) -> Run {
    run_in(&root(), args)
}

/// Whether tests run in CI, where every external validator must be present.
pub fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A Python 3 with the given modules, or `None` (outside CI) with a message; panics in CI.
pub fn python_with(modules: &[&str]) -> Option<PathBuf> {
    for candidate in ["/usr/bin/python3", "python3"] {
        let check = Command::new(candidate)
            .arg("-c")
            .arg(format!("import {}", modules.join(", ")))
            .output();
        if check.is_ok_and(|o| o.status.success()) {
            return Some(PathBuf::from(candidate));
        }
    }
    let message = format!("python3 with {} is not installed", modules.join(", "));
    if in_ci() {
        panic!("{message}; .ci/run installs it and CI must not skip this test");
    }
    eprintln!("SKIPPED: {message} (pip install {})", modules.join(" "));
    None
}

/// Runs a Python script with arguments and returns its standard output; panics if it fails.
pub fn run_python<I, S>(python: &Path, script: &str, args: I) -> Vec<u8>
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A fresh temporary folder, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("hardbase-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The real Windows policy files in `../shared/samples/windows` beside the repository, or
/// `None` (outside CI) with a message; panics in CI, where they must be present.
pub fn samples_dir() -> Option<PathBuf> {
    let dir = root().join("../shared/samples/windows");
    if dir.is_dir() {
        return Some(dir);
    }
    let message = format!("the Windows sample folder {} is missing", dir.display());
    if in_ci() {
        panic!("{message}; CI must not skip this test");
    }
    eprintln!("SKIPPED: {message}");
    None
}

/// Resolves a profile in-process with the built-in catalog, as of 2026-11-27; `None` (with the
/// diagnostics on stderr) when check would reject it.
pub fn resolve_profile(path: &Path) -> Option<hardbase::model::DesiredState> {
    use hardbase::catalog::Catalog;
    use hardbase::diag::Diagnostics;
    use hardbase::load::document::Date;
    use hardbase::resolve::{self, Options};
    use hardbase::source::SourceMap;
    let mut sources = SourceMap::new();
    let mut diags = Diagnostics::new();
    let catalog = Catalog::load(&mut sources, true, &[], &mut diags);
    let options = Options {
        at: Date::parse("2026-11-27").unwrap(),
        expired_waivers_are_findings: false,
    };
    let state = resolve::resolve(path, &catalog, &mut sources, &options, &mut diags);
    if diags.has_errors() {
        let mut out = codespan_reporting::term::termcolor::NoColor::new(Vec::new());
        let _ = diags.render_text(&sources, &mut out);
        eprintln!("{}", String::from_utf8_lossy(&out.into_inner()));
        return None;
    }
    state
}

/// The path of an external tool (searched in PATH, then the sbin folders), or `None` (outside
/// CI) with a SKIPPED message; panics in CI, where `.ci/run` installs every validator.
pub fn require_tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        let message = format!("`{name}` is not installed");
        if in_ci() {
            panic!("{message}; .ci/run installs it and CI must not skip this test");
        }
        eprintln!("SKIPPED: {message}");
    }
    found
}

/// Whether the tests run as root (network namespaces and nft need it).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Writes `dir/baselines/override.toml`: the built-in control `control` of `baselines/<file>`
/// with the setting text from `from` up to the next blank line replaced by `setting`. Passed
/// with `--baselines`, it overrides the built-in control of the same id. Returns the 1-based
/// line of the override file where `from` (now `setting`) starts.
pub fn override_baseline(
    dir: &Path,
    file: &str,
    control: &str,
    from: &str,
    setting: &str,
) -> usize {
    let baselines = dir.join("baselines");
    std::fs::create_dir_all(&baselines).unwrap();
    let text = std::fs::read_to_string(root().join("baselines").join(file)).unwrap();
    let start = text
        .find(&format!("id = \"{control}\""))
        .unwrap_or_else(|| panic!("{control} in {file}"));
    let start = text[..start].rfind("[[control]]").unwrap();
    let end = text[start + 1..]
        .find("[[control]]")
        .map(|i| start + 1 + i)
        .unwrap_or(text.len());
    let body = &text[start..end];
    let at = body
        .find(from)
        .unwrap_or_else(|| panic!("{from} in {control}"));
    let stop = body[at..]
        .find("\n\n")
        .map(|i| at + i)
        .unwrap_or(body.len());
    let replaced = format!("{}{setting}{}", &body[..at], &body[stop..]);
    std::fs::write(baselines.join("override.toml"), replaced).unwrap();
    body[..at].lines().count() + 1
}

/// Writes `dir/atm.toml`: a profile named `atm` extending the example ATM, with `extra` appended.
pub fn atm_profile(dir: &Path, extra: &str) {
    let example = root().join("examples/regional-bank/branch-atm-shinjuku.toml");
    std::fs::write(
        dir.join("atm.toml"),
        format!(
            "[profile]\nname = \"atm\"\nextends = [{:?}]\n{extra}",
            example.display().to_string()
        ),
    )
    .unwrap();
}

/// One xlsx cell (as the openpyxl dump gives it: `v` value, `t` type, `q` quote prefix) against
/// the CSV cell of the same export: the CSV neutralizes formula-like text with an apostrophe,
/// the xlsx keeps the text as a string cell with Excel's quote prefix instead.
pub fn assert_xlsx_cell_matches_csv(cell: &serde_json::Value, csv_cell: &str) {
    let value = cell["v"].as_str().unwrap_or("");
    if let Some(stripped) = csv_cell.strip_prefix('\'') {
        assert_eq!(value, stripped);
        assert_eq!(cell["q"], true, "quote prefix on {value:?}");
    } else {
        assert_eq!(value, csv_cell);
    }
    if !value.is_empty() {
        assert_eq!(cell["t"], "s", "{value:?} is a string, never a formula");
    }
}

/// Reads an xlsx package back with Python: every zip entry parsed as XML by `xml.dom.minidom`
/// (the script fails on the first part that is not well-formed), the sheets and defined names
/// of `xl/workbook.xml`, each sheet's autofilter range, the parts `[Content_Types].xml` gives a
/// type, and, through openpyxl, the document properties and the first sheet's cells with their
/// style. `v` is a string cell's text as the sheet's XML holds it with OOXML's `_xHHHH_`
/// escapes decoded (openpyxl leaves control characters in that form), `raw` what openpyxl
/// reads.
const XLSX_PACKAGE_READER: &str = r#"
import json, re, sys, zipfile
import xml.etree.ElementTree as ET
from xml.dom import minidom
import openpyxl

M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
T = "{http://schemas.openxmlformats.org/package/2006/content-types}"
path = sys.argv[1]
parts = {}
with zipfile.ZipFile(path) as z:
    for info in z.infolist():
        data = z.read(info.filename)
        minidom.parseString(data)
        parts[info.filename] = data
book = ET.fromstring(parts["xl/workbook.xml"])
sheets = [s.get("name") for s in book.iter(M + "sheet")]
names = [{"name": d.get("name"), "sheet": d.get("localSheetId"), "hidden": d.get("hidden"), "ref": d.text} for d in book.iter(M + "definedName")]
filters = []
for i in range(len(sheets)):
    f = ET.fromstring(parts["xl/worksheets/sheet%d.xml" % (i + 1)]).find(M + "autoFilter")
    filters.append(None if f is None else f.get("ref"))
types = ET.fromstring(parts["[Content_Types].xml"])
typed = [o.get("PartName").lstrip("/") for o in types.iter(T + "Override")]
defaults = [d.get("Extension") for d in types.iter(T + "Default")]
def decode(text):
    return re.sub("_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)
def joined(node):
    return decode("".join(t.text or "" for t in node.iter(M + "t")))
shared = []
if "xl/sharedStrings.xml" in parts:
    shared = [joined(si) for si in ET.fromstring(parts["xl/sharedStrings.xml"]).iter(M + "si")]
texts = {}
for c in ET.fromstring(parts["xl/worksheets/sheet1.xml"]).iter(M + "c"):
    if c.get("t") == "s":
        texts[c.get("r")] = shared[int(c.find(M + "v").text)]
    elif c.get("t") == "inlineStr":
        texts[c.get("r")] = joined(c)
wb = openpyxl.load_workbook(path)
ws = wb.worksheets[0]
def cell(c):
    raw = c.value
    return {
        "v": texts.get(c.coordinate, raw),
        "raw": raw,
        "t": c.data_type,
        "q": bool(c.quotePrefix),
        "b": bool(c.font.b),
        "fill": c.fill.fgColor.rgb if c.fill.fill_type == "solid" else None,
        "border": c.border.left.style,
        "wrap": bool(c.alignment.wrap_text),
        "valign": c.alignment.vertical,
    }
print(json.dumps({
    "parts": sorted(parts),
    "typed": typed,
    "defaults": defaults,
    "sheets": sheets,
    "names": names,
    "filters": filters,
    "title": wb.properties.title,
    "created": wb.properties.created.isoformat() if wb.properties.created else None,
    "sheet_title": ws.title,
    "freeze": ws.freeze_panes,
    "filter": ws.auto_filter.ref,
    "rows": [[cell(c) for c in row] for row in ws.iter_rows()],
}))
"#;

/// An xlsx package as [`XLSX_PACKAGE_READER`] reads it.
pub fn read_xlsx_package(python: &Path, path: &Path) -> serde_json::Value {
    serde_json::from_slice(&run_python(python, XLSX_PACKAGE_READER, [path])).unwrap()
}

/// Asserts what every workbook hardbase writes holds: each part (relationships aside) typed
/// in `[Content_Types].xml` and each typed part present, and for each sheet the hidden `_xlnm._FilterDatabase` name local to
/// it whose absolute range is the sheet's autofilter.
pub fn assert_xlsx_package(package: &serde_json::Value) {
    let typed: Vec<&str> = package["typed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    for part in package["parts"].as_array().unwrap() {
        let part = part.as_str().unwrap();
        assert!(
            part == "[Content_Types].xml" || part.ends_with(".rels") || typed.contains(&part),
            "{part} has no content type: {typed:?}"
        );
    }
    for part in &typed {
        assert!(
            package["parts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p == part),
            "{part} is typed but missing"
        );
    }
    let sheets = package["sheets"].as_array().unwrap();
    let names = package["names"].as_array().unwrap();
    assert_eq!(names.len(), sheets.len(), "{names:?}");
    for (i, (sheet, filter)) in sheets
        .iter()
        .zip(package["filters"].as_array().unwrap())
        .enumerate()
    {
        let filter = filter.as_str().expect("every sheet has an autofilter");
        let name = names
            .iter()
            .find(|n| n["sheet"] == i.to_string().as_str())
            .unwrap_or_else(|| panic!("no defined name for sheet {i}: {names:?}"));
        assert_eq!(name["name"], "_xlnm._FilterDatabase");
        assert_eq!(name["hidden"], "1");
        let absolute: Vec<String> = filter
            .split(':')
            .map(|corner| {
                let digits = corner.find(|c: char| c.is_ascii_digit()).unwrap();
                format!("${}${}", &corner[..digits], &corner[digits..])
            })
            .collect();
        let quoted = format!(
            "'{}'!{}",
            sheet.as_str().unwrap().replace('\'', "''"),
            absolute.join(":")
        );
        assert_eq!(name["ref"], quoted.as_str(), "sheet {sheet}");
    }
}

//! The generated PowerShell (Apply, Restore, acceptance kit) read back with tree-sitter-powershell:
//! it parses without error, is UTF-8 with a BOM and CRLF, uses Windows PowerShell 5.1 syntax only,
//! routes every change through ShouldProcess and every native command through an exit-code
//! check, keeps DESIGN's phase order, never touches a secret parameter, and carries every profile
//! value only inside a single-quoted string that decodes to exactly that value.

use std::path::Path;

use hardbase::catalog::setting::ApplyPhase;
use hardbase::model::DesiredState;
use hardbase::target::windows::{gpo_backup, policy, powershell};
use proptest::prelude::*;
use tree_sitter::{Node, Parser, Tree};

use crate::util::{resolve_profile, root, TempDir};

const BACKUP_ID: &str = "{6B1D5C0E-2F4A-5B3C-9D8E-7F6A5B4C3D2E}";

/// Windows PowerShell's single-quote characters: `'` and U+2018 to U+201B.
const SINGLE_QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

/// The native programs whose exit codes must be checked.
pub(crate) const NATIVE: &[&str] = &[
    "secedit",
    "auditpol",
    "lgpo",
    "bcdedit",
    "sc",
    "uwfmgr",
    "gpupdate",
    "manage-bde",
    "dism",
    "reagentc",
    "powershell",
    "cmd",
];

pub(crate) fn examples() -> Vec<(&'static str, DesiredState)> {
    let dir = root().join("examples").join("regional-bank");
    ["branch-atm-shinjuku.toml", "relay-windows.toml"]
        .into_iter()
        .map(|f| {
            (
                f,
                resolve_profile(&dir.join(f)).expect("the example resolves"),
            )
        })
        .collect()
}

/// Apply, Restore and the acceptance kit of a profile, as text (LF) and as file bytes.
fn scripts(state: &DesiredState) -> Vec<(&'static str, String, Vec<u8>)> {
    let policy = policy::build(state);
    let backup_id = gpo_backup::backup_id(&state.profile.name);
    let input = powershell::ScriptInput {
        state,
        policy: &policy,
        backup_id: &backup_id,
    };
    let mut out = Vec::new();
    for (name, text) in [
        ("Apply-Hardbase.ps1", powershell::apply(&input)),
        ("Restore-Hardbase.ps1", powershell::restore(&input)),
        (
            "Invoke-HardbaseAcceptance.ps1",
            powershell::acceptance(&input),
        ),
    ] {
        let text = text.unwrap_or_else(|e| panic!("{name}: {e}"));
        let bytes = powershell::encode(&text);
        out.push((name, text, bytes));
    }
    out
}

pub(crate) fn parse(text: &str) -> Tree {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("the PowerShell grammar loads");
    parser
        .parse(text, None)
        .expect("tree-sitter returns a tree")
}

pub(crate) fn all_nodes(tree: &Tree) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        out.push(node);
        let mut cursor = node.walk();
        let children: Vec<Node> = node.children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    out
}

pub(crate) fn text<'a>(node: Node, source: &'a str) -> &'a str {
    node.utf8_text(source.as_bytes()).unwrap()
}

pub(crate) fn line_of(node: Node) -> usize {
    node.start_position().row + 1
}

fn inside(node: Node, kinds: &[&str]) -> bool {
    let mut n = node.parent();
    while let Some(p) = n {
        if kinds.contains(&p.kind()) {
            return true;
        }
        n = p.parent();
    }
    false
}

/// The value of a verbatim (single-quoted) string token, decoded as Windows PowerShell does:
/// any single-quote character followed by another one is one literal quote (the second); a
/// lone one would end the string, so the token would not be one string in PowerShell at all.
fn decode_verbatim(token: &str) -> Result<String, String> {
    let inner = token
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .ok_or_else(|| format!("not a single-quoted string: {token}"))?;
    let mut out = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if SINGLE_QUOTES.contains(&c) {
            match chars.next() {
                Some(d) if SINGLE_QUOTES.contains(&d) => out.push(d),
                _ => return Err(format!("a lone quote {c:?} ends the string early: {token}")),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// Every problem tree-sitter finds: ERROR and MISSING nodes, with their lines.
pub(crate) fn syntax_problems(tree: &Tree, source: &str) -> Vec<String> {
    all_nodes(tree)
        .into_iter()
        .filter(|n| n.is_error() || n.is_missing())
        .map(|n| {
            format!(
                "line {}: {} {:?}",
                line_of(n),
                if n.is_missing() { "MISSING" } else { "ERROR" },
                text(n, source).chars().take(80).collect::<String>()
            )
        })
        .collect()
}

/// Constructs Windows PowerShell 5.1 does not have (or that hardbase does not allow).
pub(crate) fn ps7_constructs(tree: &Tree, source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for n in all_nodes(tree) {
        let t = text(n, source);
        let in_literal = inside(n, &["string_literal", "comment"])
            || matches!(n.kind(), "string_literal" | "comment");
        match n.kind() {
            "pipeline_chain_tail" => found.push(format!("line {}: `{t}`", line_of(n))),
            "class_statement" | "enum_statement" => found.push(format!(
                "line {}: a class (DSC class resources are not allowed)",
                line_of(n)
            )),
            "command_parameter" => {
                let p = t.to_ascii_lowercase();
                if [
                    "-enumsasstrings",
                    "-ashashtable",
                    "-parallel",
                    "-asarray",
                    "-escapehandling",
                ]
                .iter()
                .any(|x| p.starts_with(x))
                {
                    found.push(format!("line {}: parameter {t}", line_of(n)));
                }
            }
            "command_name" => {
                let c = t.to_ascii_lowercase();
                if c == "using" || c == "configuration" {
                    found.push(format!("line {}: `{t}`", line_of(n)));
                }
            }
            _ => {}
        }
        // `??`, `?.`, `?[`, ternary `? :` and `&&`/`||` outside strings and comments.
        if n.child_count() == 0
            && !in_literal
            && n.kind() != "verbatim_string_characters"
            && (t.contains('?') || t == "&&" || t == "||")
        {
            found.push(format!("line {}: token `{t}`", line_of(n)));
        }
    }
    found
}

pub(crate) fn command_name(node: Node, source: &str) -> Option<String> {
    let name = node.child_by_field_name("command_name")?;
    Some(text(name, source).to_string())
}

/// The statement that contains `node` directly in a statement list, and the one after it.
fn next_statement(node: Node) -> Option<Node> {
    let mut n = node;
    loop {
        let parent = n.parent()?;
        if parent.kind() == "statement_list" {
            let mut s = n.next_named_sibling();
            while let Some(x) = s {
                if x.kind() != "comment" {
                    return Some(x);
                }
                s = x.next_named_sibling();
            }
            return None;
        }
        n = parent;
    }
}

fn mentions_exit_code(node: Node, source: &str) -> bool {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.kind() == "variable" && text(n, source).eq_ignore_ascii_case("$LASTEXITCODE") {
            return true;
        }
        let mut cursor = n.walk();
        stack.extend(n.children(&mut cursor));
    }
    false
}

/// Native commands (by name, or run through `&` from a variable) not followed by an exit-code check.
pub(crate) fn unchecked_native_calls(tree: &Tree, source: &str) -> (usize, Vec<String>) {
    let mut checked = 0;
    let mut problems = Vec::new();
    for n in all_nodes(tree)
        .into_iter()
        .filter(|n| n.kind() == "command")
    {
        let Some(name) = command_name(n, source) else {
            continue;
        };
        let base = name
            .trim_matches(['\'', '"'])
            .rsplit(['\\', '/'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let base = base.strip_suffix(".exe").unwrap_or(&base).to_string();
        let through_variable = name.starts_with('$')
            && n.child(0)
                .is_some_and(|c| c.kind() == "command_invokation_operator");
        if !(NATIVE.contains(&base.as_str()) || through_variable) {
            continue;
        }
        // A scriptblock held in a variable is not a native command.
        if through_variable && name.eq_ignore_ascii_case("$step.Run") {
            continue;
        }
        match next_statement(n) {
            Some(next) if mentions_exit_code(next, source) => checked += 1,
            _ => problems.push(format!("line {}: `{}`", line_of(n), text(n, source))),
        }
    }
    (checked, problems)
}

/// `Invoke-Native -FilePath X` names only native programs of the list.
pub(crate) fn native_wrapper_targets(tree: &Tree, source: &str) -> Vec<String> {
    let mut out = Vec::new();
    for n in all_nodes(tree)
        .into_iter()
        .filter(|n| n.kind() == "command")
    {
        if command_name(n, source).as_deref() != Some("Invoke-Native") {
            continue;
        }
        let elements = text(n, source);
        if let Some(rest) = elements.split("-FilePath ").nth(1) {
            out.push(rest.split_whitespace().next().unwrap_or("").to_string());
        }
    }
    out
}

/// The string literals of `$Phases = @(...)`, in order.
fn phase_list(tree: &Tree, source: &str) -> Vec<String> {
    for n in all_nodes(tree)
        .into_iter()
        .filter(|n| n.kind() == "assignment_expression")
    {
        let Some(left) = n.child(0) else { continue };
        if text(left, source).trim() != "$Phases" {
            continue;
        }
        return all_nodes_of(n)
            .into_iter()
            .filter(|x| x.kind() == "verbatim_string_characters")
            .map(|x| decode_verbatim(text(x, source)).unwrap())
            .collect();
    }
    Vec::new()
}

fn all_nodes_of(node: Node) -> Vec<Node> {
    let mut out = Vec::new();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        out.push(n);
        let mut cursor = n.walk();
        let children: Vec<Node> = n.children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    out
}

fn design_phases() -> Vec<String> {
    powershell::WINDOWS_PHASES
        .iter()
        .map(|p| powershell::phase_name(*p).to_string())
        .collect()
}

pub(crate) fn check_file_bytes(name: &str, bytes: &[u8]) {
    assert!(
        bytes.starts_with(&[0xEF, 0xBB, 0xBF]),
        "{name}: no UTF-8 BOM"
    );
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            assert!(
                i > 0 && bytes[i - 1] == b'\r',
                "{name}: bare LF at byte {i}"
            );
        }
        if *b == b'\r' {
            assert_eq!(
                bytes.get(i + 1),
                Some(&b'\n'),
                "{name}: bare CR at byte {i}"
            );
        }
    }
    std::str::from_utf8(&bytes[3..]).unwrap_or_else(|e| panic!("{name}: not UTF-8: {e}"));
}

#[test]
fn every_script_parses_as_windows_powershell_5_1() {
    for (profile, state) in examples() {
        for (name, _, bytes) in scripts(&state) {
            check_file_bytes(name, &bytes);
            let source = std::str::from_utf8(&bytes[3..]).unwrap();
            let tree = parse(source);
            let problems = syntax_problems(&tree, source);
            assert!(
                problems.is_empty(),
                "{profile} {name}:\n{}",
                problems.join("\n")
            );
            let ps7 = ps7_constructs(&tree, source);
            assert!(ps7.is_empty(), "{profile} {name}:\n{}", ps7.join("\n"));
        }
    }
}

#[test]
fn scripts_support_whatif_and_check_every_native_exit_code() {
    for (profile, state) in examples() {
        for (name, text_lf, _) in scripts(&state) {
            let tree = parse(&text_lf);
            let root = tree.root_node();
            // The script's own param block is declared with SupportsShouldProcess.
            let mut cursor = root.walk();
            let attribute = all_nodes(&tree)
                .into_iter()
                .find(|n| n.kind() == "attribute" && text(*n, &text_lf).contains("CmdletBinding"))
                .unwrap_or_else(|| panic!("{profile} {name}: no [CmdletBinding()]"));
            assert!(
                text(attribute, &text_lf).contains("SupportsShouldProcess"),
                "{profile} {name}: CmdletBinding without SupportsShouldProcess"
            );
            assert!(
                root.children(&mut cursor)
                    .any(|c| c.kind() == "param_block"),
                "{profile} {name}: the script has no top-level param block"
            );
            assert!(text_lf.contains("Set-StrictMode -Version Latest"));
            assert!(text_lf.contains("$ErrorActionPreference = 'Stop'"));
            assert!(text_lf.contains("$script:Cmdlet.ShouldProcess("));

            let (checked, problems) = unchecked_native_calls(&tree, &text_lf);
            assert!(
                problems.is_empty(),
                "{profile} {name}: native commands without an exit-code check:\n{}",
                problems.join("\n")
            );
            assert!(
                checked > 0,
                "{profile} {name}: the native-command runner was not found"
            );
            for target in native_wrapper_targets(&tree, &text_lf) {
                let t = target.trim_matches('\'').to_ascii_lowercase();
                let base = t.strip_suffix(".exe").unwrap_or(&t);
                assert!(
                    NATIVE.contains(&base) || t == "$script:lgpo",
                    "{profile} {name}: Invoke-Native runs {target}, not a known native program"
                );
            }
            // Every native change is a -Change call (so ShouldProcess sees it).
            for n in all_nodes(&tree)
                .into_iter()
                .filter(|n| n.kind() == "command")
            {
                let call = text(n, &text_lf);
                if command_name(n, &text_lf).as_deref() == Some("Invoke-Native")
                    && [
                        "/set",
                        "/configure",
                        "/restore",
                        "config",
                        "/g",
                        "/deletevalue",
                        "/target:computer",
                        "filter",
                        "overlay",
                        "volume",
                        "add-exclusion",
                    ]
                    .iter()
                    .any(|verb| call.contains(&format!("'{verb}'")))
                {
                    assert!(
                        call.contains("-Change"),
                        "{profile} {name} line {}: a change without -Change: {call}",
                        line_of(n)
                    );
                }
            }
        }
    }
}

#[test]
fn phases_run_in_design_order() {
    let expected: Vec<ApplyPhase> = vec![
        ApplyPhase::AuditPolicy,
        ApplyPhase::Accounts,
        ApplyPhase::Features,
        ApplyPhase::SecurityTemplate,
        ApplyPhase::RegistryPolicy,
        ApplyPhase::Services,
        ApplyPhase::FirewallRules,
        ApplyPhase::FirewallDefaults,
        ApplyPhase::BootSettings,
        ApplyPhase::DeviceRestrictions,
        ApplyPhase::AllowListing,
        ApplyPhase::KioskShell,
        ApplyPhase::WriteFilter,
    ];
    let mut sorted = expected.clone();
    sorted.sort();
    assert_eq!(sorted, expected, "ApplyPhase's order is DESIGN's order");
    let names: Vec<String> = expected
        .iter()
        .map(|p| powershell::phase_name(*p).to_string())
        .collect();
    assert_eq!(design_phases(), names);
    for (profile, state) in examples() {
        for (name, text_lf, _) in scripts(&state) {
            let tree = parse(&text_lf);
            assert_eq!(phase_list(&tree, &text_lf), names, "{profile} {name}");
        }
        // Apply dispatches each phase in a switch whose clauses follow the same order.
        let (_, apply, _) = &scripts(&state)[0];
        let mut last = 0;
        for phase in &names {
            let at = apply
                .find(&format!("'{phase}' {{ Invoke-{phase}Phase }}"))
                .unwrap_or_else(|| panic!("{profile}: no dispatch for {phase}"));
            assert!(at > last, "{profile}: {phase} is dispatched out of order");
            last = at;
        }
    }
}

#[test]
fn secret_parameters_are_never_read_except_as_securestrings() {
    for (profile, state) in examples() {
        let secrets = state.secrets();
        for (name, text_lf, _) in scripts(&state) {
            assert!(
                !text_lf.contains("<secret"),
                "{profile} {name}: a secret placeholder"
            );
            let tree = parse(&text_lf);
            for secret in &secrets {
                let parameter: String = secret
                    .split('_')
                    .map(|p| p[..1].to_ascii_uppercase() + &p[1..])
                    .collect();
                let variable = format!("${parameter}");
                let mut declared = false;
                for n in all_nodes(&tree)
                    .into_iter()
                    .filter(|n| n.kind() == "variable")
                {
                    if !text(n, &text_lf).eq_ignore_ascii_case(&variable) {
                        continue;
                    }
                    assert!(
                        inside(n, &["param_block"]),
                        "{profile} {name} line {}: the secret {variable} is used outside the param block",
                        line_of(n)
                    );
                    declared = true;
                }
                if name != "Restore-Hardbase.ps1" {
                    assert!(
                        declared,
                        "{profile} {name}: no SecureString parameter {variable}"
                    );
                    assert!(text_lf.contains(&format!("[System.Security.SecureString] {variable}")));
                }
            }
            // SecureStrings are handed to the account cmdlets only, never converted.
            for forbidden in [
                "ConvertFrom-SecureString",
                "SecureStringToBSTR",
                "PtrToString",
                "GetNetworkCredential",
                "-AsPlainText",
            ] {
                assert!(
                    !text_lf.contains(forbidden),
                    "{profile} {name}: {forbidden}"
                );
            }
        }
        if !secrets.is_empty() {
            let (_, apply, _) = &scripts(&state)[0];
            assert!(apply.contains("New-LocalUser -Name $a.Name -Password $secret"));
            assert!(
                apply.contains("[Environment]::CommandLine"),
                "secrets on the command line are refused"
            );
        }
    }
}

#[test]
fn windows_profiles_only() {
    let dir = root().join("examples").join("regional-bank");
    let state = resolve_profile(&dir.join("relay-linux.toml")).unwrap();
    let policy = policy::build(&state);
    let input = powershell::ScriptInput {
        state: &state,
        policy: &policy,
        backup_id: BACKUP_ID,
    };
    let err = powershell::apply(&input).unwrap_err();
    assert!(err.contains("not Windows"), "{err}");
}

// ---------------------------------------------------------------- hostile values

/// The verbatim string tokens of a script, decoded.
pub(crate) fn string_values(tree: &Tree, source: &str) -> Result<Vec<String>, String> {
    all_nodes(tree)
        .into_iter()
        .filter(|n| n.kind() == "verbatim_string_characters")
        .map(|n| decode_verbatim(text(n, source)))
        .collect()
}

/// The tree's shape with string contents left out: hostile values must not change it.
pub(crate) fn shape(tree: &Tree) -> Vec<&'static str> {
    all_nodes(tree).into_iter().map(|n| n.kind()).collect()
}

fn toml_string(s: &str) -> String {
    let mut t = toml::Table::new();
    t.insert("x".into(), toml::Value::String(s.into()));
    toml::to_string(&t)
        .unwrap()
        .trim_start_matches("x = ")
        .trim_end()
        .to_string()
}

const HOSTILE_PROFILE: &str = "[profile]\nname = \"hostile-atm\"\nrole = \"atm-terminal\"\nplatform = \"windows-10-iot-ltsc-2021\"\nmembership = \"workgroup\"\nextends = [\"bank-windows.toml\"]\n\n[signing]\nmethod = \"windows-host\"\ncertificate_thumbprint = \"3F2A9C1B7D4E6F80A1B2C3D4E5F60718293A4B5C\"\n\n[params]\nwdac_policy_id = \"{4E7A1C52-9D3B-4F0A-8C61-2B7D5E9A0F13}\"\nwdac_policy_file = \"policies/atm-wdac.cip\"\nperipheral_device_ids = ['USB\\VID_0B00&PID_0001']\n";

/// Resolves the hostile ATM profile with the three values; `None` when check rejects it.
pub(crate) fn hostile_state(
    dir: &Path,
    app: &str,
    account: &str,
    wef: &str,
) -> Option<DesiredState> {
    for layer in ["bank-common.toml", "bank-windows.toml"] {
        std::fs::copy(
            root().join("examples/regional-bank").join(layer),
            dir.join(layer),
        )
        .unwrap();
    }
    // The compiled WDAC policy is an input file the build ships; any bytes do here.
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    std::fs::write(dir.join("policies/atm-wdac.cip"), b"policy").unwrap();
    let text = format!(
        "{HOSTILE_PROFILE}atm_app_path = {}\nkiosk_account = {}\nwef_subscription_manager = {}\n",
        toml_string(app),
        toml_string(account),
        toml_string(wef)
    );
    let path = dir.join("hostile.toml");
    std::fs::write(&path, text).unwrap();
    resolve_profile(&path)
}

/// Either check rejects the values, or every script carries each of them only as a whole
/// single-quoted string that decodes to exactly it, with the syntax tree unchanged.
fn check_hostile(app: &str, account: &str, wef: &str) -> Result<(), String> {
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = TempDir::new(&format!("ps-hostile-{run}"));
    let benign = hostile_state(
        dir.path(),
        r"C:\ATMApp\bin\atmapp.exe",
        "atmkiosk",
        "Server=https://wec.example:5986/wsman/SubscriptionManager/WEC,Refresh=60",
    )
    .expect("the benign profile resolves");
    let Some(state) = hostile_state(dir.path(), app, account, wef) else {
        return Ok(());
    };
    let benign_scripts = scripts(&benign);
    for (i, (name, text_lf, bytes)) in scripts(&state).into_iter().enumerate() {
        check_file_bytes(name, &bytes);
        let source = std::str::from_utf8(&bytes[3..]).unwrap();
        let tree = parse(source);
        let problems = syntax_problems(&tree, source);
        if !problems.is_empty() {
            return Err(format!("{name}: {}", problems.join("; ")));
        }
        let reference = parse(&benign_scripts[i].1);
        if shape(&tree) != shape(&reference) {
            return Err(format!("{name}: a value changed the syntax tree"));
        }
        let values = string_values(&tree, source)?;
        // The profile data is shared by all three scripts: each carries every value.
        for (what, value) in [
            ("atm_app_path", app),
            ("kiosk_account", account),
            ("wef_subscription_manager", wef),
        ] {
            if !values.iter().any(|v| v == value) {
                return Err(format!(
                    "{name}: no string literal decodes to {what} {value:?}"
                ));
            }
        }
        if text_lf.contains('\r') {
            return Err(format!("{name}: a CR in the generated text"));
        }
    }
    Ok(())
}

const FRAGMENTS: &[&str] = &[
    "'",
    "''",
    "\u{2018}",
    "\u{2019}",
    "\u{201A}",
    "\u{201B}",
    "\"",
    "\u{201C}",
    "$(whoami)",
    "${env:x}",
    "$x",
    "`",
    "`n",
    "\r",
    "\n",
    "\r\n",
    "'@",
    "@'",
    "\"@",
    "]",
    "[",
    "|",
    ";",
    "=",
    "\0",
    "😀",
    "日本語",
    "#",
    "<#",
    "#>",
    "{",
    "}",
    "\\",
    "&",
    ",",
    " ",
    "-",
    "..",
    "%WINDIR%",
];

fn hostile() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            3 => proptest::sample::select(FRAGMENTS).prop_map(str::to_string),
            1 => "[a-zA-Z0-9 ]{0,6}",
            1 => any::<String>(),
        ],
        1..6,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn hostile_values_stay_inside_single_quoted_strings(
        app in hostile().prop_map(|s| format!(r"C:\ATM{s}\app.exe")),
        account in hostile().prop_map(|s| s.chars().take(12).collect::<String>()),
        wef in hostile(),
    ) {
        let outcome = check_hostile(&app, &account, &wef);
        prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
    }
}

#[test]
fn every_quote_kind_survives_in_a_path() {
    // Accepted by check (no control character, no `|`): each must come back exactly.
    for value in [
        "C:\\ATM'App\\app.exe",
        "C:\\ATM\u{2018}\u{2019}\u{201A}\u{201B}\\app.exe",
        "C:\\ATM$(Remove-Item C:\\)\\`n'@\\app.exe",
        "C:\\ATM]\\;=\\😀日本語\\app.exe",
        "C:\\ATM''\u{2019}'\\app.exe",
    ] {
        check_hostile(value, "atm\u{2019}kiosk", "Server=x'\u{2018};$(y)").unwrap();
        let dir = TempDir::new("ps-quote-kinds");
        let state = hostile_state(dir.path(), value, "atm\u{2019}kiosk", "w'").expect("accepted");
        let (_, apply, _) = &scripts(&state)[0];
        let literal = powershell::quote(value).unwrap();
        assert!(apply.contains(&literal), "{literal} not in the script");
    }
    // Rejected at check time with a diagnostic.
    let dir = TempDir::new("ps-rejected");
    for (app, account, wef) in [
        ("C:\\ATM\r\n\\app.exe", "atmkiosk", "w"),
        ("C:\\ATM\0\\app.exe", "atmkiosk", "w"),
        ("C:\\ATM|x\\app.exe", "atmkiosk", "w"),
        ("C:\\ATM\\app.exe", "atm'kiosk", "w"),
        ("C:\\ATM\\app.exe", "atm]kiosk", "w"),
        ("C:\\ATM\\app.exe", "atmkiosk", "w\nx"),
    ] {
        assert!(
            hostile_state(dir.path(), app, account, wef).is_none(),
            "{app:?} {account:?} {wef:?} accepted"
        );
    }
}

#[test]
fn decoding_follows_powershell() {
    assert_eq!(decode_verbatim("'a''b'").unwrap(), "a'b");
    assert_eq!(
        decode_verbatim("'a\u{2019}\u{2019}b'").unwrap(),
        "a\u{2019}b"
    );
    assert!(
        decode_verbatim("'a\u{2019}b'").is_err(),
        "a lone curly quote ends a PowerShell string"
    );
}

#[test]
fn the_checks_catch_what_they_look_for() {
    for bad in [
        "Get-Item x && Get-Item y\n",
        "$a = $b ?? 'c'\n",
        "$a = $b ? 'c' : 'd'\n",
        "$x = $y?.Name\n",
        "$o = ConvertFrom-Json -InputObject $t -AsHashtable\n",
        "ConvertTo-Json -InputObject $o -EnumsAsStrings\n",
        "1..3 | ForEach-Object -Parallel { $_ }\n",
        "class Foo { [string] $Bar }\n",
    ] {
        let tree = parse(bad);
        assert!(
            !ps7_constructs(&tree, bad).is_empty() || !syntax_problems(&tree, bad).is_empty(),
            "not caught: {bad}"
        );
    }
    let ok = "$s = 'a && b ?? c'\n# x && y\n";
    assert!(ps7_constructs(&parse(ok), ok).is_empty());

    let unterminated = "$a = 'it''s\n";
    assert!(!syntax_problems(&parse(unterminated), unterminated).is_empty());

    let unchecked = "secedit.exe /export /cfg x.inf\nWrite-Host done\n";
    assert_eq!(
        unchecked_native_calls(&parse(unchecked), unchecked).1.len(),
        1
    );
    let checked = "& sc.exe config x start= disabled\nif ($LASTEXITCODE -ne 0) { throw 'sc' }\n";
    assert_eq!(
        unchecked_native_calls(&parse(checked), checked),
        (1, vec![])
    );
}

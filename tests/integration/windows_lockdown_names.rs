//! Every WMI/CIM name the generated PowerShell uses is one the lockdown reference states.
//!
//! The Windows example profiles are built with the real binary and every emitted `.ps1` is read
//! with tree-sitter-powershell. Three kinds of name are taken from it: namespaces (`root\...` in
//! any string or bare word), classes (`-ClassName X`, `-Class X`, the positional class of
//! `Get-CimInstance`/`Get-WmiObject`, `FROM X` in `-Query`, `[wmiclass]'...:X'`) and methods
//! invoked on a WMI object (`Invoke-CimMethod -MethodName X`, `Invoke-WmiMethod -Name X`, and
//! `$obj.X(...)` where `$obj` is known to hold a WMI object, see [`WmiFlow`]). Each must appear
//! as a whole word in `../shared/reference/windows-lockdown.md`, or in [`VERIFIED_ELSEWHERE`],
//! which says for each name where it is documented. A name in neither is a misspelling or an
//! API nobody has checked; a class given through a variable cannot be checked and fails too.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use tree_sitter::{Node, Tree};

use crate::util::{in_ci, root, run, TempDir};
use crate::windows_powershell::{all_nodes, command_name, line_of, parse, text};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Kind {
    Namespace,
    Class,
    Method,
}

/// A WMI name used by a script, and where.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Use {
    kind: Kind,
    name: String,
    line: usize,
}

/// Names the scripts use that windows-lockdown.md does not state, each with where it is
/// documented. An entry must be used by some emitted script and must not be in the lockdown
/// reference (the test fails on a stale or redundant entry).
const VERIFIED_ELSEWHERE: &[(Kind, &str, &str)] = &[
    // Standard CIM classes of the root\cimv2 default namespace (preflight and the collector's
    // inventories).
    (
        Kind::Class,
        "Win32_OperatingSystem",
        "reference/domain/CATALOG.md (patch-level check reads Win32_OperatingSystem.BuildNumber); \
         learn.microsoft.com/windows/win32/cimwin32prov/win32-operatingsystem",
    ),
    (
        Kind::Class,
        "Win32_Service",
        "reference/domain/CATALOG.md (service inventory through Get-CimInstance Win32_Service); \
         learn.microsoft.com/windows/win32/cimwin32prov/win32-service",
    ),
    (
        Kind::Class,
        "Win32_ComputerSystem",
        "in no reference file; learn.microsoft.com/windows/win32/cimwin32prov/win32-computersystem \
         (PartOfDomain); unverified here",
    ),
    (
        Kind::Class,
        "Win32_Group",
        "in no reference file; learn.microsoft.com/windows/win32/cimwin32prov/win32-group; \
         unverified here",
    ),
    (
        Kind::Class,
        "Win32_UserAccount",
        "in no reference file; learn.microsoft.com/windows/win32/cimwin32prov/win32-useraccount; \
         unverified here",
    ),
    // The BCD WMI provider, read instead of bcdedit's localized text.
    (
        Kind::Namespace,
        r"root\wmi",
        "in no reference file; BCD WMI provider, \
         learn.microsoft.com/previous-versions/windows/desktop/bcd/bcd-wmi-provider; unverified here",
    ),
    (
        Kind::Class,
        "BcdStore",
        "in no reference file; learn.microsoft.com/previous-versions/windows/desktop/bcd/bcdstore; \
         unverified here",
    ),
    (
        Kind::Method,
        "OpenStore",
        "in no reference file; BcdStore.OpenStore, \
         learn.microsoft.com/previous-versions/windows/desktop/bcd/openstore-bcdstore; unverified here",
    ),
    (
        Kind::Method,
        "OpenObject",
        "in no reference file; BcdStore.OpenObject, \
         learn.microsoft.com/previous-versions/windows/desktop/bcd/openobject-bcdstore; unverified here",
    ),
    (
        Kind::Method,
        "GetElement",
        "in no reference file; BcdObject.GetElement, \
         learn.microsoft.com/previous-versions/windows/desktop/bcd/getelement-bcdobject; unverified here",
    ),
    (
        Kind::Method,
        "SetBooleanElement",
        "in no reference file; BcdObject.SetBooleanElement, \
         learn.microsoft.com/previous-versions/windows/desktop/bcd/setbooleanelement-bcdobject; \
         unverified here",
    ),
    (
        Kind::Method,
        "SetIntegerElement",
        "in no reference file; BcdObject.SetIntegerElement, \
         learn.microsoft.com/previous-versions/windows/desktop/bcd/setintegerelement-bcdobject; \
         unverified here",
    ),
    (
        Kind::Method,
        "DeleteElement",
        "in no reference file; BcdObject.DeleteElement, \
         learn.microsoft.com/previous-versions/windows/desktop/bcd/deleteelement-bcdobject; \
         unverified here",
    ),
    // Win32_EncryptableVolume methods besides GetKeyProtectors (which the reference states).
    (
        Kind::Method,
        "GetProtectionStatus",
        "in no reference file; Win32_EncryptableVolume.GetProtectionStatus, \
         learn.microsoft.com/windows/win32/secprov/getprotectionstatus-win32-encryptablevolume; \
         unverified here",
    ),
    (
        Kind::Method,
        "GetEncryptionMethod",
        "in no reference file; Win32_EncryptableVolume.GetEncryptionMethod, \
         learn.microsoft.com/windows/win32/secprov/getencryptionmethod-win32-encryptablevolume; \
         unverified here",
    ),
    (
        Kind::Method,
        "DisableKeyProtectors",
        "in no reference file; Win32_EncryptableVolume.DisableKeyProtectors, \
         learn.microsoft.com/windows/win32/secprov/disablekeyprotectors-win32-encryptablevolume; \
         unverified here",
    ),
];

/// Methods every .NET object has; calling one on a WMI object names no WMI method.
const OBJECT_METHODS: &[&str] = &["ToString", "GetType", "Equals", "GetHashCode"];

/// Cmdlets whose output is a WMI/CIM object (or a method's out-parameters).
const WMI_SOURCES: &[&str] = &[
    "get-ciminstance",
    "get-wmiobject",
    "invoke-cimmethod",
    "invoke-wmimethod",
    "new-ciminstance",
    "get-cimclass",
];

/// Cmdlets that name a class, and which of them take it as their first positional argument.
const CLASS_COMMANDS: &[&str] = &[
    "get-ciminstance",
    "get-wmiobject",
    "invoke-cimmethod",
    "invoke-wmimethod",
    "new-ciminstance",
    "get-cimclass",
    "remove-wmiobject",
    "set-wmiinstance",
    "register-cimindicationevent",
];
const POSITIONAL_CLASS: &[&str] = &["get-ciminstance", "get-wmiobject", "get-cimclass"];

/// Switch parameters of those cmdlets (they take no argument).
const SWITCHES: &[&str] = &[
    "-list",
    "-shallow",
    "-keyonly",
    "-amended",
    "-recurse",
    "-directread",
    "-enableallprivileges",
    "-asjob",
    "-clientonly",
];

/// windows-lockdown.md beside the repository, or `None` (outside CI) with a message.
fn lockdown_reference() -> Option<String> {
    let dir = root().join("../shared/reference");
    if !dir.is_dir() {
        let message = format!("the reference folder {} is missing", dir.display());
        if in_ci() {
            panic!("{message}; CI must not skip this test");
        }
        eprintln!("SKIPPED: {message}");
        return None;
    }
    let path = dir.join("windows-lockdown.md");
    Some(
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{} cannot be read: {e}", path.display())),
    )
}

/// The example profiles whose platform is Windows.
fn windows_examples() -> Vec<PathBuf> {
    let dir = root().join("examples").join("regional-bank");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        let table: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
        let platform = table
            .get("profile")
            .and_then(|p| p.get("platform"))
            .and_then(|p| p.as_str())
            .unwrap_or("");
        if platform.starts_with("windows") {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn ps1_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            ps1_files(&path, out);
        } else if path.extension().and_then(|e| e.to_str()) == Some("ps1") {
            out.push(path);
        }
    }
}

/// Every `.ps1` `hardbase build` writes for the Windows examples: (name, text without the BOM).
fn emitted_scripts(out: &Path) -> Vec<(String, String)> {
    let examples = windows_examples();
    assert!(
        examples.len() >= 2,
        "the ATM and the Windows relay examples: {examples:?}"
    );
    let mut args = vec!["build".to_string(), "--at".into(), "2026-11-27".into()];
    args.extend(examples.iter().map(|p| p.display().to_string()));
    args.extend(["-o".into(), out.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = run(&args);
    assert_eq!(result.status, 0, "hardbase build: {}", result.stderr);
    let mut files = Vec::new();
    ps1_files(out, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
            let name = path.strip_prefix(out).unwrap().display().to_string();
            (name, String::from_utf8(body.to_vec()).unwrap())
        })
        .collect()
}

// ---------------------------------------------------------------- where WMI objects flow

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `$script:Name` → `name`: the variable a token names, lower-case, without scope prefix.
fn variable_name(token: &str) -> Option<String> {
    let t = token.strip_prefix('$')?;
    let t = t.split_once(':').map_or(t, |(scope, rest)| {
        if ["script", "global", "local", "private"].contains(&scope.to_ascii_lowercase().as_str()) {
            rest
        } else {
            t
        }
    });
    (!t.is_empty() && t.chars().all(is_word)).then(|| t.to_ascii_lowercase())
}

/// The leading variable of an expression (`$v`, `$v.X`, `$v | ...`), if it starts with one.
fn leading_variable(text: &str) -> Option<String> {
    let rest = text.strip_prefix('$')?;
    let end = rest
        .find(|c: char| !(is_word(c) || c == ':'))
        .unwrap_or(rest.len());
    variable_name(&text[..end + 1])
}

/// Which variables hold WMI objects, per function, and which functions return one. Sources are
/// `[wmiclass]`, the CIM/WMI cmdlets, a method's result on a WMI object, a WMI-returning
/// function, and a function parameter bound to a WMI object at a call site. A name belongs to
/// the function that assigns it; a top-level name is seen in a function that does not assign it.
struct WmiFlow {
    /// Per scope (a function's node id, 0 for the top level): the names that hold WMI objects.
    variables: HashMap<usize, HashSet<String>>,
    /// Per scope: every name the scope assigns (parameters, assignments, foreach variables).
    local: HashMap<usize, HashSet<String>>,
    functions: HashSet<String>,
}

/// The function a node is in (its node id), or 0 for the script's top level.
fn scope_of(node: Node) -> usize {
    let mut n = node.parent();
    while let Some(p) = n {
        if p.kind() == "function_statement" {
            return p.id();
        }
        n = p.parent();
    }
    0
}

fn function_name_of(function: Node, source: &str) -> Option<String> {
    let mut cursor = function.walk();
    let name = function
        .children(&mut cursor)
        .find(|c| c.kind() == "function_name")?;
    Some(text(name, source).to_ascii_lowercase())
}

/// The arguments bound to named parameters in a command: (parameter without `-`, argument).
fn named_arguments<'t>(command: Node<'t>, source: &str) -> Vec<(String, Node<'t>)> {
    let items = command_items(command);
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if item.kind() != "command_parameter" {
            continue;
        }
        let parameter = text(*item, source).to_ascii_lowercase();
        if SWITCHES.contains(&parameter.as_str()) {
            continue;
        }
        if let Some(next) = items.get(i + 1).filter(|n| n.kind() != "command_parameter") {
            out.push((parameter.trim_start_matches('-').to_string(), *next));
        }
    }
    out
}

fn command_items(command: Node) -> Vec<Node> {
    let Some(elements) = command.child_by_field_name("command_elements") else {
        return Vec::new();
    };
    let mut cursor = elements.walk();
    let items: Vec<Node> = elements
        .children(&mut cursor)
        .filter(|c| c.kind() != "command_argument_sep")
        .collect();
    items
}

/// The arguments not bound to a parameter, in order.
fn positional_arguments<'t>(command: Node<'t>, source: &str) -> Vec<Node<'t>> {
    let items = command_items(command);
    let mut out = Vec::new();
    let mut i = 0;
    while i < items.len() {
        if items[i].kind() == "command_parameter" {
            let switch = SWITCHES.contains(&text(items[i], source).to_ascii_lowercase().as_str());
            let takes = !switch
                && items
                    .get(i + 1)
                    .is_some_and(|n| n.kind() != "command_parameter");
            i += if takes { 2 } else { 1 };
            continue;
        }
        out.push(items[i]);
        i += 1;
    }
    out
}

/// What the flow analysis reads from a script, once: (scope, name or parameter, expression).
#[derive(Default)]
struct Bindings {
    /// `$v = expr` and `foreach ($v in expr)`.
    assigned: Vec<(usize, String, String)>,
    /// `return expr` in a function: (function scope, function name, expr).
    returned: Vec<(usize, String, String)>,
    /// `Fn -Param expr` of a function of the script: (caller scope, callee scope, param, expr).
    bound: Vec<(usize, usize, String, String)>,
    parameters: Vec<(usize, String)>,
}

impl Bindings {
    fn read(tree: &Tree, source: &str) -> Bindings {
        let nodes = all_nodes(tree);
        let mut functions: HashMap<String, usize> = HashMap::new();
        let mut names: HashMap<usize, String> = HashMap::new();
        for n in nodes.iter().filter(|n| n.kind() == "function_statement") {
            if let Some(name) = function_name_of(*n, source) {
                functions.insert(name.clone(), n.id());
                names.insert(n.id(), name);
            }
        }
        let mut b = Bindings::default();
        for n in &nodes {
            match n.kind() {
                "assignment_expression" => {
                    let last = n.named_child_count().saturating_sub(1) as u32;
                    let (Some(left), Some(right)) = (n.child(0), n.named_child(last)) else {
                        continue;
                    };
                    if let Some(var) = variable_name(text(left, source).trim()) {
                        b.assigned
                            .push((scope_of(*n), var, text(right, source).to_string()));
                    }
                }
                "foreach_statement" => {
                    let mut cursor = n.walk();
                    let children: Vec<Node> = n.children(&mut cursor).collect();
                    let var = children.iter().find(|c| c.kind() == "variable");
                    let collection = children.iter().find(|c| c.kind() == "pipeline");
                    if let (Some(var), Some(collection)) = (var, collection) {
                        if let Some(var) = variable_name(text(*var, source)) {
                            b.assigned.push((
                                scope_of(*n),
                                var,
                                text(*collection, source).to_string(),
                            ));
                        }
                    }
                }
                "script_parameter" => {
                    let mut cursor = n.walk();
                    let var = n.children(&mut cursor).find(|c| c.kind() == "variable");
                    if let Some(var) = var.and_then(|v| variable_name(text(v, source))) {
                        b.parameters.push((scope_of(*n), var));
                    }
                }
                "flow_control_statement" => {
                    let statement = text(*n, source);
                    let scope = scope_of(*n);
                    if scope == 0 || !statement.to_ascii_lowercase().starts_with("return") {
                        continue;
                    }
                    if let Some(name) = names.get(&scope) {
                        b.returned
                            .push((scope, name.clone(), statement[6..].trim().to_string()));
                    }
                }
                "command" => {
                    let Some(name) = command_name(*n, source) else {
                        continue;
                    };
                    let Some(function) = functions.get(&name.to_ascii_lowercase()) else {
                        continue;
                    };
                    for (parameter, argument) in named_arguments(*n, source) {
                        b.bound.push((
                            scope_of(*n),
                            *function,
                            parameter,
                            text(argument, source).to_string(),
                        ));
                    }
                }
                _ => {}
            }
        }
        b
    }
}

impl WmiFlow {
    fn new(tree: &Tree, source: &str) -> WmiFlow {
        let b = Bindings::read(tree, source);
        let mut flow = WmiFlow {
            variables: HashMap::new(),
            local: HashMap::new(),
            functions: HashSet::new(),
        };
        for (scope, var, _) in &b.assigned {
            flow.local.entry(*scope).or_default().insert(var.clone());
        }
        for (scope, var) in &b.parameters {
            flow.local.entry(*scope).or_default().insert(var.clone());
        }
        loop {
            let mut changed = false;
            for (scope, var, expression) in &b.assigned {
                if flow.is_wmi(expression, *scope) {
                    changed |= flow
                        .variables
                        .entry(*scope)
                        .or_default()
                        .insert(var.clone());
                }
            }
            for (scope, name, expression) in &b.returned {
                if !expression.is_empty() && flow.is_wmi(expression, *scope) {
                    changed |= flow.functions.insert(name.clone());
                }
            }
            for (caller, callee, parameter, expression) in &b.bound {
                if flow.is_wmi(expression, *caller) {
                    changed |= flow
                        .variables
                        .entry(*callee)
                        .or_default()
                        .insert(parameter.clone());
                }
            }
            if !changed {
                return flow;
            }
        }
    }

    fn holds_wmi(&self, var: &str, scope: usize) -> bool {
        let owner = if scope != 0 && self.local.get(&scope).is_some_and(|l| l.contains(var)) {
            scope
        } else {
            0
        };
        self.variables.get(&owner).is_some_and(|v| v.contains(var))
    }

    /// Whether an expression's value is a WMI object (a cast to a .NET type is not).
    fn is_wmi(&self, expression: &str, scope: usize) -> bool {
        let t = expression.trim_start_matches(|c: char| c == '@' || c == '(' || c.is_whitespace());
        let lower = t.to_ascii_lowercase();
        if lower.starts_with("[wmiclass]") || lower.starts_with("[wmi]") {
            return true;
        }
        if lower.starts_with('[') {
            return false;
        }
        let starts_with_name = |name: &str| {
            lower.starts_with(name)
                && !lower[name.len()..].starts_with(|c: char| is_word(c) || c == '-')
        };
        if WMI_SOURCES.iter().any(|c| starts_with_name(c))
            || self.functions.iter().any(|f| starts_with_name(f))
        {
            return true;
        }
        leading_variable(t).is_some_and(|v| self.holds_wmi(&v, scope))
    }

    /// Whether a method's receiver is a WMI object: a WMI variable, a parenthesized WMI
    /// expression, or the `Object`/`Store` out-parameter of a BCD provider call on one.
    fn is_wmi_receiver(&self, receiver: &str, scope: usize) -> bool {
        let r = receiver.trim();
        if r.starts_with('(') {
            return self.is_wmi(r, scope);
        }
        let Some(var) = leading_variable(r) else {
            return false;
        };
        let rest = &r[r.find('.').unwrap_or(r.len())..];
        let members_ok = rest
            .split('.')
            .skip(1)
            .all(|m| m.eq_ignore_ascii_case("Object") || m.eq_ignore_ascii_case("Store"));
        members_ok && self.holds_wmi(&var, scope)
    }
}

// ---------------------------------------------------------------- the names a script uses

fn unquote(token: &str) -> &str {
    token.trim().trim_matches(|c| c == '\'' || c == '"')
}

/// `root\...` namespaces in a string, with the class after `:` where the string names one
/// (`\\.\root\wmi:BcdStore`).
fn namespaces_in(value: &str) -> Vec<(String, Option<String>)> {
    let lower = value.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = lower[from..].find(r"root\") {
        let start = from + at;
        from = start + 5;
        if value[..start].chars().next_back().is_some_and(is_word) {
            continue;
        }
        let end = value[start..]
            .find(|c: char| !(is_word(c) || c == '\\'))
            .map_or(value.len(), |e| start + e);
        let namespace = value[start..end].trim_end_matches('\\').to_string();
        let class = value[end..]
            .strip_prefix(':')
            .map(|c| c.chars().take_while(|c| is_word(*c)).collect::<String>())
            .filter(|c| !c.is_empty());
        out.push((namespace, class));
    }
    out
}

/// Every namespace, class and WMI method a script names, and the class names it gives in a form
/// that cannot be checked (a variable or an expression).
fn wmi_names(source: &str) -> (Vec<Use>, Vec<String>) {
    let tree = parse(source);
    let flow = WmiFlow::new(&tree, source);
    let mut uses = Vec::new();
    let mut unreadable = Vec::new();
    for n in all_nodes(&tree) {
        let line = line_of(n);
        match n.kind() {
            "verbatim_string_characters"
            | "expandable_string_literal"
            | "verbatim_here_string_characters"
            | "expandable_here_string_literal"
            | "generic_token" => {
                for (namespace, class) in namespaces_in(text(n, source)) {
                    uses.push(Use {
                        kind: Kind::Namespace,
                        name: namespace,
                        line,
                    });
                    if let Some(class) = class {
                        uses.push(Use {
                            kind: Kind::Class,
                            name: class,
                            line,
                        });
                    }
                }
            }
            "command" => {
                let Some(name) = command_name(n, source) else {
                    continue;
                };
                let name = name.to_ascii_lowercase();
                if !CLASS_COMMANDS.contains(&name.as_str()) {
                    continue;
                }
                let mut classes: Vec<Node> = Vec::new();
                for (parameter, argument) in named_arguments(n, source) {
                    let value = unquote(text(argument, source)).to_string();
                    match parameter.as_str() {
                        "classname" | "class" => classes.push(argument),
                        "methodname" => uses.push(Use {
                            kind: Kind::Method,
                            name: value,
                            line,
                        }),
                        "name" if name == "invoke-wmimethod" => uses.push(Use {
                            kind: Kind::Method,
                            name: value,
                            line,
                        }),
                        "query" => match value.to_ascii_lowercase().split_once(" from ") {
                            Some((_, rest)) => {
                                let start = value.len() - rest.len();
                                let class: String = value[start..]
                                    .trim()
                                    .chars()
                                    .take_while(|c| is_word(*c))
                                    .collect();
                                uses.push(Use {
                                    kind: Kind::Class,
                                    name: class,
                                    line,
                                });
                            }
                            None => unreadable
                                .push(format!("line {line}: a query without FROM: {value}")),
                        },
                        _ => {}
                    }
                }
                if POSITIONAL_CLASS.contains(&name.as_str()) {
                    classes.extend(positional_arguments(n, source).into_iter().take(1));
                }
                for class in classes {
                    let value = unquote(text(class, source));
                    if value.chars().all(is_word) && !value.is_empty() {
                        uses.push(Use {
                            kind: Kind::Class,
                            name: value.to_string(),
                            line,
                        });
                    } else {
                        unreadable.push(format!(
                            "line {line}: {name} names its class as `{value}`, which cannot be checked (write the class name)"
                        ));
                    }
                }
            }
            "invokation_expression" => {
                let mut cursor = n.walk();
                let children: Vec<Node> = n.children(&mut cursor).collect();
                let (Some(receiver), Some(member)) = (
                    children.first(),
                    children.iter().find(|c| c.kind() == "member_name"),
                ) else {
                    continue;
                };
                if !children.iter().any(|c| c.kind() == ".") {
                    continue;
                }
                let method = text(*member, source).to_string();
                if OBJECT_METHODS
                    .iter()
                    .any(|m| m.eq_ignore_ascii_case(&method))
                {
                    continue;
                }
                if flow.is_wmi_receiver(text(*receiver, source), scope_of(n)) {
                    uses.push(Use {
                        kind: Kind::Method,
                        name: method,
                        line,
                    });
                }
            }
            _ => {}
        }
    }
    (uses, unreadable)
}

/// Whether the reference states `name` as a whole word (a namespace also as a whole path:
/// `root\cimv2` is not stated by `root\cimv2\mdm\dmmap`).
fn stated(reference: &str, kind: Kind, name: &str) -> bool {
    let lower = reference.to_ascii_lowercase();
    let want = name.to_ascii_lowercase();
    if want.is_empty() {
        return false;
    }
    let mut from = 0;
    while let Some(at) = lower[from..].find(&want) {
        let start = from + at;
        let end = start + want.len();
        from = start + 1;
        let before = lower[..start].chars().next_back();
        let after = lower[end..].chars().next();
        let boundary_before = !before.is_some_and(is_word);
        let boundary_after = match kind {
            Kind::Namespace => !after.is_some_and(|c| is_word(c) || c == '\\'),
            _ => !after.is_some_and(is_word),
        };
        if boundary_before && boundary_after {
            return true;
        }
    }
    false
}

fn verified_elsewhere(kind: Kind, name: &str) -> bool {
    VERIFIED_ELSEWHERE
        .iter()
        .any(|(k, n, _)| *k == kind && n.eq_ignore_ascii_case(name))
}

/// The uses neither the reference nor the allow-list covers, as readable lines.
fn unverified(reference: &str, script: &str, source: &str) -> Vec<String> {
    let (uses, unreadable) = wmi_names(source);
    unverified_uses(reference, script, &uses, unreadable)
}

fn unverified_uses(
    reference: &str,
    script: &str,
    uses: &[Use],
    unreadable: Vec<String>,
) -> Vec<String> {
    let mut out: Vec<String> = unreadable
        .into_iter()
        .map(|p| format!("{script} {p}"))
        .collect();
    for u in uses {
        if !stated(reference, u.kind, &u.name) && !verified_elsewhere(u.kind, &u.name) {
            out.push(format!(
                "{script} line {}: {:?} `{}` is not in windows-lockdown.md nor in VERIFIED_ELSEWHERE",
                u.line, u.kind, u.name
            ));
        }
    }
    out
}

#[test]
fn every_wmi_name_in_the_emitted_scripts_is_in_the_lockdown_reference() {
    let Some(reference) = lockdown_reference() else {
        return;
    };
    let out = TempDir::new("lockdown-names");
    let scripts = emitted_scripts(out.path());
    let mut problems = Vec::new();
    let mut seen: BTreeSet<(Kind, String)> = BTreeSet::new();
    for (name, source) in &scripts {
        let (uses, unreadable) = wmi_names(source);
        problems.extend(unverified_uses(&reference, name, &uses, unreadable));
        seen.extend(
            uses.into_iter()
                .map(|u| (u.kind, u.name.to_ascii_lowercase())),
        );
    }
    assert!(
        problems.is_empty(),
        "WMI names not verified:\n{}",
        problems.join("\n")
    );
    // The extraction finds what the scripts are known to use: the check is not vacuous.
    for (kind, name) in [
        (Kind::Namespace, r"root\standardcimv2\embedded"),
        (Kind::Class, "WESL_UserSetting"),
        (Kind::Class, "WEKF_PredefinedKey"),
        (Kind::Class, "UWF_Volume"),
        (Kind::Class, "Win32_EncryptableVolume"),
        (Kind::Method, "SetCustomShell"),
        (Kind::Method, "IsEnabled"),
        (Kind::Method, "GetExclusions"),
        (Kind::Method, "GetElement"),
        (Kind::Method, "DisableKeyProtectors"),
    ] {
        assert!(
            seen.contains(&(kind, name.to_ascii_lowercase())),
            "{kind:?} {name} was not found in the emitted scripts; found: {seen:?}"
        );
    }
    // Every allow-list entry is still used, and is not one the reference states after all.
    for (kind, name, source) in VERIFIED_ELSEWHERE {
        assert!(
            seen.contains(&(*kind, name.to_ascii_lowercase())),
            "VERIFIED_ELSEWHERE lists {kind:?} {name}, which no emitted script uses"
        );
        assert!(
            !stated(&reference, *kind, name),
            "VERIFIED_ELSEWHERE lists {kind:?} {name} ({source}), but windows-lockdown.md states it"
        );
    }
}

#[test]
fn the_name_check_catches_misspelled_and_unverifiable_names() {
    let Some(reference) = lockdown_reference() else {
        return;
    };
    let script = r#"
$EmbeddedNamespace = 'root\standardcimv2\embeded'
function Get-Launcher {
    return [wmiclass]'\\.\root\standardcimv2\embedded:WESL_UserSettings'
}
function Set-Shell {
    param($Launcher)
    $null = $Launcher.SetCustomShel('S-1-5-32-544', 'explorer.exe')
}
$l = Get-Launcher
Set-Shell -Launcher $l
$k = Get-CimInstance -Namespace 'root\standardcimv2\embedded' -ClassName WEKF_PredefinedKeys
$v = Get-CimInstance -Namespace 'root\cimv2\Security\MicrosoftVolumeEncryption' -ClassName $name
$s = Invoke-CimMethod -InputObject $v -MethodName GetProtectionStatuss
$f = Get-WmiObject -Namespace 'root\standardcimv2\embedded' -Class UWF_Volume
$x = $f.GetExclusion()
$text = [string]$f.VolumeName
$y = $text.ToUpperInvariant()
"#;
    let found = unverified(&reference, "snippet", script);
    for wanted in [
        r"Namespace `root\standardcimv2\embeded`",
        "Class `WESL_UserSettings`",
        "Method `SetCustomShel`",
        "Class `WEKF_PredefinedKeys`",
        "names its class as `$name`",
        "Method `GetProtectionStatuss`",
        "Method `GetExclusion`",
    ] {
        assert!(
            found.iter().any(|f| f.contains(wanted)),
            "not caught: {wanted}\nfound:\n{}",
            found.join("\n")
        );
    }
    // A .NET method on a value read from a WMI object is not a WMI method.
    assert!(
        !found.iter().any(|f| f.contains("ToUpperInvariant")),
        "{found:?}"
    );
    assert_eq!(found.len(), 7, "{}", found.join("\n"));
    // The correct spellings pass.
    let fixed = script
        .replace("embeded", "embedded")
        .replace("WESL_UserSettings", "WESL_UserSetting")
        .replace("SetCustomShel(", "SetCustomShell(")
        .replace("WEKF_PredefinedKeys", "WEKF_PredefinedKey")
        .replace("-ClassName $name", "-ClassName Win32_EncryptableVolume")
        .replace("GetProtectionStatuss", "GetKeyProtectors")
        .replace("GetExclusion(", "GetExclusions(");
    let left = unverified(&reference, "fixed", &fixed);
    assert!(left.is_empty(), "{}", left.join("\n"));
}

#[test]
fn namespaces_are_read_from_strings_with_their_class() {
    assert_eq!(
        namespaces_in(r"\\.\root\wmi:BcdStore"),
        vec![(r"root\wmi".to_string(), Some("BcdStore".to_string()))]
    );
    assert_eq!(
        namespaces_in(r"root\cimv2\mdm\dmmap"),
        vec![(r"root\cimv2\mdm\dmmap".to_string(), None)]
    );
    assert!(namespaces_in(r"%SystemRoot%\System32").is_empty());
    let reference = r"namespace `root\cimv2\mdm\dmmap`, class `MDM_AssignedAccess`";
    assert!(stated(reference, Kind::Namespace, r"root\cimv2\mdm\dmmap"));
    assert!(!stated(reference, Kind::Namespace, r"root\cimv2"));
    assert!(stated(reference, Kind::Class, "MDM_AssignedAccess"));
    assert!(!stated(reference, Kind::Class, "MDM_Assigned"));
}

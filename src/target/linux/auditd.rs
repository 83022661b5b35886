//! The audit rules: `/etc/audit/rules.d/50-hardbase.rules`, loaded by `augenrules --load`.
//!
//! Rules keep their declaration order (controls by category and id, then the order in each
//! control); a lone `-D` goes first and the `-e` (enable) line goes last, as augenrules does
//! when it merges rules.d, because `-e 2` makes the loaded rules immutable until the next reboot
//! and any rule after it would fail to load.
//!
//! [`check`] is a strict reader of the auditctl rule syntax hardbase writes: the control
//! options (`-e`, `-b`, `-f`, `-r`, `--backlog_wait_time`, `--loginuid-immutable`, `-D`),
//! file watches (`-w PATH -p PERMS -k KEY`) and syscall rules (`-a list,action` with `-F`, `-C`,
//! `-S` and `-k`). Anything else, and any character a rules file or a shell could read
//! specially, is refused rather than escaped.

use super::InstallFile;
use crate::catalog::setting::SettingKind;
use crate::model::DesiredState;

pub const TREE_PATH: &str = "audit/rules.d/50-hardbase.rules";
pub const TARGET: &str = "/etc/audit/rules.d/50-hardbase.rules";

/// Fields auditctl accepts after `-F` (auditctl(8), audit userspace 3.x).
const FIELDS: &[&str] = &[
    "a0",
    "a1",
    "a2",
    "a3",
    "arch",
    "auid",
    "devmajor",
    "devminor",
    "dir",
    "egid",
    "euid",
    "exe",
    "exit",
    "field_compare",
    "filetype",
    "fsgid",
    "fstype",
    "fsuid",
    "gid",
    "inode",
    "key",
    "loginuid",
    "msgtype",
    "obj_gid",
    "obj_lev_high",
    "obj_lev_low",
    "obj_role",
    "obj_type",
    "obj_uid",
    "obj_user",
    "path",
    "perm",
    "pers",
    "pid",
    "ppid",
    "saddr_fam",
    "sessionid",
    "sgid",
    "subj_clr",
    "subj_role",
    "subj_sen",
    "subj_type",
    "subj_user",
    "success",
    "suid",
    "uid",
];

/// `-F` operators, longest first so `>=` is not read as `>`.
const OPERATORS: &[&str] = &["!=", "<=", ">=", "&=", "=", "<", ">", "&"];

/// Fields `-C` compares (auditctl(8)).
const COMPARABLE: &[&str] = &[
    "auid", "uid", "euid", "suid", "fsuid", "obj_uid", "gid", "egid", "sgid", "fsgid", "obj_gid",
];

fn is_word(s: &str, extra: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
}

fn number(value: Option<&str>, what: &str, max: u64) -> Result<(), String> {
    match value.and_then(|v| v.parse::<u64>().ok()) {
        Some(n) if n <= max => Ok(()),
        _ => Err(format!("{what} needs a number from 0 to {max}")),
    }
}

fn key(value: Option<&str>) -> Result<(), String> {
    match value {
        Some(k) if k.len() <= 64 && is_word(k, "_-.:") => Ok(()),
        _ => Err("-k needs a key of letters, digits and `_-.:` (at most 64)".into()),
    }
}

fn path(value: Option<&str>) -> Result<(), String> {
    match value {
        Some(p)
            if p.starts_with('/') && !p.split('/').any(|s| s == "..") && is_word(p, "/_-.+@:") =>
        {
            Ok(())
        }
        _ => Err("-w needs an absolute path of letters, digits and `/_-.+@:`, without `..`".into()),
    }
}

/// `field op value` of `-F`.
fn field(text: &str) -> Result<(), String> {
    let (at, op) = OPERATORS
        .iter()
        .filter_map(|op| text.find(op).map(|i| (i, *op)))
        .min_by_key(|(i, op)| (*i, std::cmp::Reverse(op.len())))
        .ok_or_else(|| format!("-F `{text}` has no operator (= != < > <= >= & &=)"))?;
    let (name, value) = (&text[..at], &text[at + op.len()..]);
    if !FIELDS.contains(&name) {
        return Err(format!("-F `{text}`: `{name}` is not an audit field"));
    }
    let value_ok = match name {
        "arch" => ["b32", "b64"].contains(&value) && (op == "=" || op == "!="),
        "path" | "dir" | "exe" => path(Some(value)).is_ok() && (op == "=" || op == "!="),
        "key" => key(Some(value)).is_ok() && op == "=",
        "perm" => is_word(value, "") && value.chars().all(|c| "rwxa".contains(c)),
        _ => is_word(value, "_-.:"),
    };
    if !value_ok {
        return Err(format!(
            "-F `{text}`: `{value}` is not a value auditctl reads for `{name}` with `{op}`"
        ));
    }
    Ok(())
}

/// `-C field op field`.
fn compare(text: &str) -> Result<(), String> {
    let (at, op) = ["!=", "="]
        .iter()
        .find_map(|op| text.find(op).map(|i| (i, *op)))
        .ok_or_else(|| format!("-C `{text}` needs `=` or `!=`"))?;
    let (a, b) = (&text[..at], &text[at + op.len()..]);
    if COMPARABLE.contains(&a) && COMPARABLE.contains(&b) {
        Ok(())
    } else {
        Err(format!(
            "-C `{text}` compares fields auditctl cannot compare"
        ))
    }
}

/// `-a list,action` (either order).
fn list_action(text: Option<&str>) -> Result<&str, String> {
    const LISTS: &[&str] = &["task", "exit", "user", "exclude", "filesystem", "io_uring"];
    let text = text.unwrap_or("");
    let parts: Vec<&str> = text.split(',').collect();
    let (list, action) = match parts.as_slice() {
        [a, b] if LISTS.contains(a) => (*a, *b),
        [a, b] => (*b, *a),
        _ => ("", ""),
    };
    if LISTS.contains(&list) && ["always", "never"].contains(&action) {
        Ok(list)
    } else {
        Err(format!(
            "-a needs `always|never,{}` (got `{text}`)",
            LISTS.join("|")
        ))
    }
}

/// Checks one auditctl rule line.
pub fn parse_rule(rule: &str) -> Result<(), String> {
    const SPECIAL: &[char] = &[
        ';', '|', '$', '`', '\'', '"', '\\', '(', ')', '{', '}', '[', ']', '#', '*', '?', '~', '^',
    ];
    if let Some(c) = rule
        .chars()
        .find(|c| !(c.is_ascii_graphic() || *c == ' ') || SPECIAL.contains(c))
    {
        return Err(format!(
            "contains {c:?}; audit rules are written as plain ASCII words without shell or comment characters"
        ));
    }
    let tokens: Vec<&str> = rule.split_ascii_whitespace().collect();
    let arg = |i: usize| tokens.get(i).copied();
    let alone = |n: usize, what: &str| -> Result<(), String> {
        if tokens.len() == n {
            Ok(())
        } else {
            Err(format!("{what} must be alone on its line"))
        }
    };
    match arg(0) {
        Some("-e") => {
            number(arg(1), "-e", 2)?;
            alone(2, "-e N")
        }
        Some("-f") => {
            number(arg(1), "-f", 2)?;
            alone(2, "-f N")
        }
        Some("-b") => {
            number(arg(1), "-b", u32::MAX.into())?;
            alone(2, "-b N")
        }
        Some("-r") => {
            number(arg(1), "-r", u32::MAX.into())?;
            alone(2, "-r N")
        }
        Some("--backlog_wait_time") => {
            number(arg(1), "--backlog_wait_time", 600_000)?;
            alone(2, "--backlog_wait_time N")
        }
        Some("--loginuid-immutable") => alone(1, "--loginuid-immutable"),
        Some("-D") => alone(1, "-D"),
        Some("-w") => {
            path(arg(1))?;
            let mut i = 2;
            while i < tokens.len() {
                match tokens[i] {
                    "-p" => match arg(i + 1) {
                        Some(p) if is_word(p, "") && p.chars().all(|c| "rwxa".contains(c)) => {}
                        _ => return Err("-p needs permissions from `rwxa`".into()),
                    },
                    "-k" => key(arg(i + 1))?,
                    other => return Err(format!("`{other}` is not an option of a -w watch")),
                }
                i += 2;
            }
            Ok(())
        }
        Some("-a") | Some("-A") => {
            let list = list_action(arg(1))?;
            let mut arch = false;
            let mut i = 2;
            while i < tokens.len() {
                let value = arg(i + 1);
                match tokens[i] {
                    "-F" => {
                        let f = value.ok_or("-F needs field, operator and value")?;
                        field(f)?;
                        arch |= f.starts_with("arch=");
                    }
                    "-C" => compare(value.ok_or("-C needs field, operator and field")?)?,
                    "-S" => {
                        if list != "exit" {
                            return Err(format!("-S belongs to the exit list, not `{list}`"));
                        }
                        if !arch {
                            return Err("-S must follow -F arch=b64 or -F arch=b32 (syscall numbers differ per architecture)".into());
                        }
                        match value {
                            Some(s) if s.split(',').all(|n| is_word(n, "_")) => {}
                            _ => return Err("-S needs syscall names separated by commas".into()),
                        }
                    }
                    "-k" => key(value)?,
                    other => return Err(format!("`{other}` is not an option of an -a rule")),
                }
                i += 2;
            }
            Ok(())
        }
        Some(other) => Err(format!(
            "`{other}` does not start an audit rule hardbase writes (-w, -a, -A, -e, -b, -f, -r, -D, --backlog_wait_time, --loginuid-immutable)"
        )),
        None => Err("is empty".into()),
    }
}

/// Rejects an auditd rule that is not a plain auditctl rule line.
pub fn check(setting: &SettingKind) -> Result<(), String> {
    let SettingKind::AuditdRule(r) = setting else {
        return Ok(());
    };
    parse_rule(&r.rule).map_err(|e| format!("audit rule `{}` {e}", r.rule.escape_debug()))
}

/// The rules file: `-D` first, then the rules in settings order (each once, under the first
/// control that declares it), then `-e`.
pub fn render(state: &DesiredState) -> Result<Option<String>, String> {
    let mut seen: Vec<String> = Vec::new();
    let mut delete_all = false;
    let mut enable: Option<(String, String)> = None;
    let mut body = String::new();
    let mut current_control = "";
    for s in state.settings() {
        let SettingKind::AuditdRule(r) = &s.kind else {
            continue;
        };
        check(&s.kind)?;
        let rule = r
            .rule
            .split_ascii_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if rule == "-D" {
            delete_all = true;
            continue;
        }
        if rule.starts_with("-e ") {
            match &enable {
                Some((e, by)) if *e != rule => {
                    return Err(format!(
                        "audit rules: {by} sets `{e}` and {} sets `{rule}`",
                        s.control
                    ))
                }
                Some(_) => {}
                None => enable = Some((rule, s.control.clone())),
            }
            continue;
        }
        if seen.contains(&rule) {
            continue;
        }
        if s.control != current_control {
            current_control = &s.control;
            body.push_str(&format!("\n# {}\n", s.control));
        }
        body.push_str(&rule);
        body.push('\n');
        seen.push(rule);
    }
    if seen.is_empty() && enable.is_none() && !delete_all {
        return Ok(None);
    }
    let mut out = String::from(
        "# Generated by hardbase: do not edit, the next apply overwrites this file.\n\
         # Loaded by augenrules --load, which merges /etc/audit/rules.d/*.rules.\n",
    );
    if delete_all {
        out.push_str("-D\n");
    }
    out.push_str(&body);
    if let Some((e, by)) = enable {
        out.push_str(&format!("\n# {by}"));
        if e == "-e 2" {
            out.push_str(": the rules stay immutable until the next reboot");
        }
        out.push('\n');
        out.push_str(&e);
        out.push('\n');
    }
    Ok(Some(out))
}

/// The rules file, when the profile declares audit rules (mode 0600, root).
pub fn files(state: &DesiredState) -> Result<Vec<InstallFile>, String> {
    Ok(InstallFile::root_only(TREE_PATH, TARGET, render(state)?))
}

#[cfg(test)]
mod tests {
    use super::parse_rule;

    #[test]
    fn accepts_the_rules_auditctl_reads() {
        for rule in [
            "-w /etc/passwd -p wa -k identity",
            "-w /etc/sudoers.d/ -p wa -k scope",
            "-a always,exit -F arch=b64 -S execve -F auid>=1000 -F auid!=unset -k exec_user",
            "-a exit,always -F arch=b32 -S init_module,finit_module,delete_module -k modules",
            "-a always,exit -F arch=b64 -S ptrace -F a0=0x4 -k code_injection",
            "-a always,exit -F arch=b64 -S execve -C uid!=euid -F euid=0 -k setuid",
            "-a always,exit -F dir=/media -F perm=x -k exec_removable",
            "-a never,exclude -F msgtype=CWD",
            "-e 2",
            "-b 8192",
            "-f 1",
            "--backlog_wait_time 60000",
            "--loginuid-immutable",
            "-D",
        ] {
            parse_rule(rule).unwrap_or_else(|e| panic!("{rule}: {e}"));
        }
    }

    #[test]
    fn rejects_what_auditctl_would_not_read_or_a_shell_would() {
        for rule in [
            "",
            "-e 3",
            "-e 2 -D",
            "-w etc/passwd -p wa",
            "-w /etc/passwd -p wz",
            "-w /etc/../shadow -p wa",
            "-a sometimes,exit -F arch=b64 -S execve",
            "-a always,exit -S execve",
            "-a always,exit -F arch=b64 -S execve -F auidx>=1000",
            "-a always,exit -F arch=x86 -S execve",
            "-a always,exit -F arch=b64 -S execve -k exec user",
            "-w /etc/passwd -p wa -k id; reboot",
            "-w /etc/passwd -p wa -k $(reboot)",
            "-w /etc/passwd -p wa -k `id`",
            "-w /etc/passwd -p wa # comment",
            "-w /etc/passwd -p wa\n-D",
            "-w \"/etc/passwd\" -p wa",
            "auditctl -D",
            "-W /etc/passwd",
        ] {
            assert!(parse_rule(rule).is_err(), "{rule:?} was accepted");
        }
    }
}

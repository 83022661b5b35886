//! Parsers for the native exports of `linux/collect.sh`, one per snapshot file.
//!
//! Every parser is strict: a present file whose text does not have the shape its command
//! prints is an error naming the file and the 1-based line, never a partial result, so a
//! truncated or edited snapshot can never pass as compliant. Line-based files must end with a
//! newline: a last line without one is how a cut file shows itself. Parsers take bytes, not
//! text, so that invalid UTF-8 is reported at its line too.

use std::collections::{BTreeMap, BTreeSet};

use super::json::{Json, NULL};

use crate::live::{FileFact, LinuxState, Listener, NftChain, NftRule, NftState, SnapshotError};

/// Every Linux snapshot file with a parser, in the order of the contract table.
pub const FILES: &[&str] = &[
    "sysctl.txt",
    "unit-files.txt",
    "sshd-T.txt",
    "nft.json",
    "proc-modules.txt",
    "modprobe-config.txt",
    "auditctl-l.txt",
    "auditctl-s.txt",
    "usbguard-rules.conf",
    "packages.txt",
    "files.tsv",
    "login.defs",
    "mounts.txt",
    "listening.txt",
    "passwd.txt",
    "group.txt",
];

/// Destination ports a rule may expand to; a wider match keeps `ports` empty (any port).
pub const MAX_PORTS: usize = 1024;

/// Parses one snapshot file into its field(s) of `state`; `name` must be one of [`FILES`].
pub fn parse(name: &str, bytes: &[u8], state: &mut LinuxState) -> Result<(), SnapshotError> {
    match name {
        "sysctl.txt" => state.sysctl = Some(sysctl(bytes)?),
        "unit-files.txt" => state.unit_files = Some(unit_files(bytes)?),
        "sshd-T.txt" => state.sshd = Some(sshd(bytes)?),
        "nft.json" => state.nft = Some(nft(bytes)?),
        "proc-modules.txt" => state.modules_loaded = Some(proc_modules(bytes)?),
        "modprobe-config.txt" => {
            let (disabled, blacklisted) = modprobe_config(bytes)?;
            state.modules_disabled = Some(disabled);
            state.modules_blacklisted = Some(blacklisted);
        }
        "auditctl-l.txt" => {
            let rules = auditctl_rules(bytes)?;
            let mut index = std::collections::HashMap::with_capacity(rules.len());
            for (i, rule) in rules.iter().enumerate() {
                if let Some(canonical) = crate::drift::audit_rule_canonical(rule) {
                    index.entry(canonical).or_insert(i);
                }
            }
            state.audit_rule_index = index;
            state.audit_rules = Some(rules);
        }
        "auditctl-s.txt" => state.audit_enabled = Some(auditctl_status(bytes)?),
        "usbguard-rules.conf" => state.usbguard_rules = Some(usbguard_rules(bytes)?),
        "packages.txt" => state.packages = Some(packages(bytes)?),
        "files.tsv" => state.files = Some(files_tsv(bytes)?),
        "login.defs" => state.login_defs = Some(login_defs(bytes)?),
        "mounts.txt" => state.mounts = Some(mounts(bytes)?),
        "listening.txt" => state.listening = Some(listening(bytes)?),
        "passwd.txt" => state.users = Some(passwd(bytes)?),
        "group.txt" => state.groups = Some(group(bytes)?),
        other => return Err(error(other, 0, "no parser for this file")),
    }
    Ok(())
}

fn error(file: &str, line: usize, message: impl Into<String>) -> SnapshotError {
    SnapshotError {
        file: file.to_string(),
        line,
        message: message.into(),
    }
}

/// The file's lines with their 1-based numbers; invalid UTF-8 or a missing final newline is
/// an error at its line.
fn lines<'a>(file: &str, bytes: &'a [u8]) -> Result<Vec<(usize, &'a str)>, SnapshotError> {
    let mut out = Vec::new();
    if bytes.is_empty() {
        return Ok(out);
    }
    let mut rest = bytes;
    let mut number = 0;
    while !rest.is_empty() {
        number += 1;
        let (line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => {
                return Err(error(
                    file,
                    number,
                    "truncated: the last line has no newline",
                ))
            }
        };
        let text = std::str::from_utf8(line)
            .map_err(|e| error(file, number, format!("invalid UTF-8: {e}")))?;
        if text.contains('\0') {
            return Err(error(file, number, "NUL byte"));
        }
        out.push((number, text.strip_suffix('\r').unwrap_or(text)));
        rest = next;
    }
    Ok(out)
}

/// `text` with its whitespace runs made single spaces and its ends trimmed.
fn squeeze(text: &str) -> String {
    let plain = |w: &[u8]| w[0] != b' ' || w[1] != b' ';
    let squeezed = !text.starts_with(char::is_whitespace)
        && !text.ends_with(char::is_whitespace)
        && text.as_bytes().windows(2).all(plain)
        && !text.contains(|c: char| c.is_whitespace() && c != ' ');
    if squeezed {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// `sysctl -a`: `key = value` (the value may be empty); whitespace in values normalized.
pub fn sysctl(bytes: &[u8]) -> Result<BTreeMap<String, String>, SnapshotError> {
    const F: &str = "sysctl.txt";
    let mut out = BTreeMap::new();
    for (n, line) in lines(F, bytes)? {
        if line.trim().is_empty() {
            continue;
        }
        let (key, value) = match line.split_once(" = ") {
            Some(kv) => kv,
            None => match line.strip_suffix(" =") {
                Some(key) => (key, ""),
                None => {
                    return Err(error(
                        F,
                        n,
                        format!("expected `key = value`, found `{line}`"),
                    ))
                }
            },
        };
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(error(F, n, format!("`{key}` is not a sysctl key")));
        }
        out.insert(key.to_string(), squeeze(value));
    }
    Ok(out)
}

const UNIT_STATES: &[&str] = &[
    "enabled",
    "enabled-runtime",
    "linked",
    "linked-runtime",
    "alias",
    "masked",
    "masked-runtime",
    "static",
    "disabled",
    "indirect",
    "generated",
    "transient",
    "bad",
];

/// `systemctl list-unit-files --no-legend --no-pager`: `unit state [preset]`.
pub fn unit_files(bytes: &[u8]) -> Result<BTreeMap<String, String>, SnapshotError> {
    const F: &str = "unit-files.txt";
    let mut out = BTreeMap::new();
    for (n, line) in lines(F, bytes)? {
        if line.trim().is_empty() {
            continue;
        }
        let mut cols = line.split_whitespace();
        let (unit, state) = (cols.next().unwrap_or(""), cols.next());
        let columns = 1 + usize::from(state.is_some()) + cols.count();
        let Some(state) = state.filter(|_| columns <= 3) else {
            return Err(error(
                F,
                n,
                format!("expected `unit state [preset]`, found {columns} columns"),
            ));
        };
        if !unit.contains('.') {
            return Err(error(F, n, format!("`{unit}` is not a unit name")));
        }
        if !UNIT_STATES.contains(&state) {
            return Err(error(F, n, format!("`{state}` is not a unit-file state")));
        }
        out.insert(unit.to_string(), state.to_string());
    }
    Ok(out)
}

/// `sshd -T`: `keyword value…`, keywords lower-case; repeated keywords keep every value.
pub fn sshd(bytes: &[u8]) -> Result<BTreeMap<String, Vec<String>>, SnapshotError> {
    const F: &str = "sshd-T.txt";
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (n, line) in lines(F, bytes)? {
        if line.trim().is_empty() {
            continue;
        }
        let (keyword, value) = line.split_once(' ').unwrap_or((line, ""));
        if keyword.is_empty()
            || !keyword
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        {
            return Err(error(
                F,
                n,
                format!("`{keyword}` is not an sshd -T keyword"),
            ));
        }
        out.entry(keyword.to_string())
            .or_default()
            .push(value.trim().to_string());
    }
    Ok(out)
}

/// `/proc/modules`: `name size refcount deps state address`.
pub fn proc_modules(bytes: &[u8]) -> Result<BTreeSet<String>, SnapshotError> {
    const F: &str = "proc-modules.txt";
    let mut out = BTreeSet::new();
    for (n, line) in lines(F, bytes)? {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 6 || cols[1].parse::<u64>().is_err() {
            return Err(error(
                F,
                n,
                format!("expected `name size refcount deps state address`, found `{line}`"),
            ));
        }
        out.insert(cols[0].to_string());
    }
    Ok(out)
}

/// `modprobe --showconfig`: (modules whose install command is /bin/false or /bin/true,
/// blacklisted modules), names with `_`.
pub fn modprobe_config(
    bytes: &[u8],
) -> Result<(BTreeSet<String>, BTreeSet<String>), SnapshotError> {
    const F: &str = "modprobe-config.txt";
    const KEYWORDS: [&str; 6] = [
        "alias",
        "options",
        "install",
        "remove",
        "blacklist",
        "softdep",
    ];
    let mut disabled = BTreeSet::new();
    let mut blacklisted = BTreeSet::new();
    for (n, line) in lines(F, bytes)? {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(&keyword) = words.first() else {
            continue;
        };
        if keyword.starts_with('#') {
            continue;
        }
        if !KEYWORDS.contains(&keyword) || words.len() < 2 {
            return Err(error(
                F,
                n,
                format!("expected a modprobe.d command, found `{line}`"),
            ));
        }
        let module = words[1].replace('-', "_");
        match keyword {
            "blacklist" => {
                blacklisted.insert(module);
            }
            "install" => {
                let command = words.get(2).copied().unwrap_or("");
                if ["/bin/false", "/bin/true", "/usr/bin/false", "/usr/bin/true"].contains(&command)
                {
                    disabled.insert(module);
                }
            }
            _ => {}
        }
    }
    Ok((disabled, blacklisted))
}

/// `auditctl -l`: one rule per line (`-a …`, `-w …`); `No rules` is an empty list.
pub fn auditctl_rules(bytes: &[u8]) -> Result<Vec<String>, SnapshotError> {
    const F: &str = "auditctl-l.txt";
    let mut out = Vec::new();
    for (n, line) in lines(F, bytes)? {
        let line = line.trim();
        if line.is_empty() || line == "No rules" {
            continue;
        }
        if !line.starts_with('-') {
            return Err(error(F, n, format!("`{line}` is not an audit rule")));
        }
        out.push(squeeze(line));
    }
    Ok(out)
}

/// `auditctl -s`: `key value` lines; the value of `enabled` (0, 1 or 2).
pub fn auditctl_status(bytes: &[u8]) -> Result<u32, SnapshotError> {
    const F: &str = "auditctl-s.txt";
    let mut enabled = None;
    for (n, line) in lines(F, bytes)? {
        if line.trim().is_empty() {
            continue;
        }
        let Some((key, value)) = line.trim().split_once(' ') else {
            return Err(error(F, n, format!("expected `key value`, found `{line}`")));
        };
        if key == "enabled" {
            match value.trim().parse::<u32>() {
                Ok(v) if v <= 2 => enabled = Some(v),
                _ => return Err(error(F, n, format!("`{value}` is not 0, 1 or 2"))),
            }
        }
    }
    enabled.ok_or_else(|| error(F, 0, "no `enabled` line"))
}

/// usbguard's rules file: one rule per line; comments and blank lines skipped.
pub fn usbguard_rules(bytes: &[u8]) -> Result<Vec<String>, SnapshotError> {
    const F: &str = "usbguard-rules.conf";
    let mut out = Vec::new();
    for (n, line) in lines(F, bytes)? {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let target = line.split_whitespace().next().unwrap_or("");
        if !["allow", "block", "reject"].contains(&target) {
            return Err(error(
                F,
                n,
                format!("`{target}` is not a usbguard rule target"),
            ));
        }
        out.push(line.to_string());
    }
    Ok(out)
}

/// `name<TAB>status`, status as dpkg's `db:Status-Abbrev` (`ii `); installed unless the
/// package is not installed (`n`) or only its configuration files remain (`c`).
pub fn packages(bytes: &[u8]) -> Result<BTreeSet<String>, SnapshotError> {
    const F: &str = "packages.txt";
    let mut out = BTreeSet::new();
    for (n, line) in lines(F, bytes)? {
        let (name, status) = line.split_once('\t').unwrap_or((line, ""));
        let mut flags = status.chars();
        let installed = flags.next().and(flags.next());
        match installed {
            Some(flag)
                if !name.is_empty()
                    && !name.contains(char::is_whitespace)
                    && !status.contains('\t') =>
            {
                if !matches!(flag, 'n' | 'c') {
                    out.insert(name.to_string());
                }
            }
            _ => {
                return Err(error(
                    F,
                    n,
                    format!("expected `package<TAB>status`, found `{line}`"),
                ))
            }
        }
    }
    Ok(out)
}

/// `files.tsv`: `path<TAB>exists(0|1)<TAB>mode(octal)<TAB>owner<TAB>group`, `-` for the
/// fields of an absent file. Contents are added by the loader from `files/<path>`.
pub fn files_tsv(bytes: &[u8]) -> Result<BTreeMap<String, FileFact>, SnapshotError> {
    const F: &str = "files.tsv";
    let mut out = BTreeMap::new();
    for (n, line) in lines(F, bytes)? {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() != 5 || !cols[0].starts_with('/') {
            return Err(error(
                F,
                n,
                format!("expected `path<TAB>exists<TAB>mode<TAB>owner<TAB>group`, found `{line}`"),
            ));
        }
        let fact = match cols[1] {
            "0" => FileFact::default(),
            "1" => FileFact {
                exists: true,
                mode: Some(
                    u32::from_str_radix(cols[2], 8)
                        .map_err(|_| error(F, n, format!("`{}` is not an octal mode", cols[2])))?,
                ),
                owner: Some(cols[3].to_string()),
                group: Some(cols[4].to_string()),
                content: None,
            },
            other => return Err(error(F, n, format!("exists is `{other}`, not 0 or 1"))),
        };
        out.insert(cols[0].to_string(), fact);
    }
    Ok(out)
}

/// `/etc/login.defs`: `KEY value`; the last occurrence of a key wins, as in shadow's getdef.
pub fn login_defs(bytes: &[u8]) -> Result<BTreeMap<String, String>, SnapshotError> {
    const F: &str = "login.defs";
    let mut out = BTreeMap::new();
    for (n, line) in lines(F, bytes)? {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        if !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(error(F, n, format!("`{key}` is not a login.defs key")));
        }
        out.insert(key.to_string(), squeeze(value.trim_matches('"')));
    }
    Ok(out)
}

/// Decodes the octal escapes (`\040`) the kernel writes in mount points.
fn unescape_octal(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            let digits = text.get(i + 1..i + 4)?;
            out.push(u8::from_str_radix(digits, 8).ok()?);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `/proc/mounts`: `device point type options 0 0`; the last mount on a point wins.
pub fn mounts(bytes: &[u8]) -> Result<BTreeMap<String, Vec<String>>, SnapshotError> {
    const F: &str = "mounts.txt";
    let mut out = BTreeMap::new();
    for (n, line) in lines(F, bytes)? {
        let cols: Vec<&str> = line.split(' ').collect();
        if cols.len() != 6 || !cols[1].starts_with('/') {
            return Err(error(
                F,
                n,
                format!("expected `device point type options 0 0`, found `{line}`"),
            ));
        }
        let point = unescape_octal(cols[1])
            .ok_or_else(|| error(F, n, format!("bad escape in `{}`", cols[1])))?;
        let options = cols[3].split(',').map(str::to_string).collect();
        out.insert(point, options);
    }
    Ok(out)
}

/// `ss -Htlnup`: `netid state recv-q send-q local peer [process]`.
pub fn listening(bytes: &[u8]) -> Result<Vec<Listener>, SnapshotError> {
    const F: &str = "listening.txt";
    let mut out = Vec::new();
    for (n, line) in lines(F, bytes)? {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split_whitespace().collect();
        let bad = |what: &str| error(F, n, format!("{what} in `{line}`"));
        if cols.len() < 6 {
            return Err(bad(
                "expected `netid state recv-q send-q local peer [process]`",
            ));
        }
        if !["tcp", "udp", "sctp", "raw", "mptcp"].contains(&cols[0]) {
            return Err(bad("unknown protocol"));
        }
        if cols[2].parse::<u64>().is_err() || cols[3].parse::<u64>().is_err() {
            return Err(bad("queue sizes are not numbers"));
        }
        let (address, port) = cols[4]
            .rsplit_once(':')
            .ok_or_else(|| bad("no `:port` in the local address"))?;
        let port: u16 = port
            .parse()
            .map_err(|_| bad("the local port is not a number"))?;
        let address = address.split('%').next().unwrap_or(address);
        let address = address
            .strip_prefix('[')
            .and_then(|a| a.strip_suffix(']'))
            .unwrap_or(address);
        if address.is_empty() {
            return Err(bad("empty local address"));
        }
        let process = cols.get(6).map(|p| p.to_string()).map(|p| {
            p.split("((\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .map_or(p.clone(), str::to_string)
        });
        out.push(Listener {
            protocol: cols[0].to_string(),
            address: address.to_string(),
            port,
            process,
        });
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// `/etc/passwd`: user → UID.
pub fn passwd(bytes: &[u8]) -> Result<BTreeMap<String, u32>, SnapshotError> {
    const F: &str = "passwd.txt";
    let mut out = BTreeMap::new();
    for (n, line) in lines(F, bytes)? {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split(':').collect();
        if cols.len() != 7 || cols[0].is_empty() {
            return Err(error(
                F,
                n,
                format!("expected 7 `:`-separated fields in `{line}`"),
            ));
        }
        let uid = cols[2]
            .parse()
            .map_err(|_| error(F, n, format!("UID `{}` is not a number", cols[2])))?;
        out.insert(cols[0].to_string(), uid);
    }
    Ok(out)
}

/// `/etc/group`: group → members.
pub fn group(bytes: &[u8]) -> Result<BTreeMap<String, Vec<String>>, SnapshotError> {
    const F: &str = "group.txt";
    let mut out = BTreeMap::new();
    for (n, line) in lines(F, bytes)? {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split(':').collect();
        if cols.len() != 4 || cols[0].is_empty() || cols[2].parse::<u32>().is_err() {
            return Err(error(
                F,
                n,
                format!("expected `name:x:GID:members` in `{line}`"),
            ));
        }
        let members = cols[3]
            .split(',')
            .filter(|m| !m.is_empty())
            .map(str::to_string)
            .collect();
        out.insert(cols[0].to_string(), members);
    }
    Ok(out)
}

// ----------------------------------------------------------------------------- nftables

/// `nft -j list ruleset`: tables, chains (hook, policy) and rules reduced to [`NftRule`].
pub fn nft(bytes: &[u8]) -> Result<NftState, SnapshotError> {
    const F: &str = "nft.json";
    let root =
        Json::from_slice(bytes).map_err(|e| error(F, e.line(), format!("not valid JSON: {e}")))?;
    let items = root
        .get("nftables")
        .and_then(Json::as_array)
        .ok_or_else(|| error(F, 0, "no `nftables` array"))?;
    fn text<'j>(obj: &'j Json, key: &str, what: &str) -> Result<&'j str, SnapshotError> {
        obj.get(key)
            .and_then(Json::as_str)
            .ok_or_else(|| error(F, 0, format!("a {what} without a `{key}` string")))
    }
    type Key<'j> = (&'j str, &'j str, &'j str);
    fn key<'j>(body: &'j Json, what: &str) -> Result<Key<'j>, SnapshotError> {
        Ok((
            text(body, "family", what)?,
            text(body, "table", what)?,
            text(body, "name", what)?,
        ))
    }
    let mut state = NftState::default();
    // (family, table, name) → elements, and → packets of named counters.
    let mut sets: BTreeMap<Key, &[Json]> = BTreeMap::new();
    let mut counters: BTreeMap<Key, u64> = BTreeMap::new();
    let mut rules = Vec::new();
    for item in items {
        let Some(obj) = item.as_object() else {
            return Err(error(F, 0, "an `nftables` entry that is not an object"));
        };
        for (kind, body) in obj {
            match &**kind {
                "table" => state.tables.push((
                    text(body, "family", "table")?.to_string(),
                    text(body, "name", "table")?.to_string(),
                )),
                "chain" => {
                    let (family, table, name) = key(body, "chain")?;
                    state.chains.push(NftChain {
                        family: family.to_string(),
                        table: table.to_string(),
                        name: name.to_string(),
                        hook: body.get("hook").and_then(Json::as_str).map(str::to_string),
                        policy: body
                            .get("policy")
                            .and_then(Json::as_str)
                            .map(str::to_string),
                    });
                }
                "set" => {
                    let elements = body.get("elem").and_then(Json::as_array).unwrap_or(&[]);
                    sets.insert(key(body, "set")?, elements);
                }
                "counter" => {
                    let packets = body.get("packets").and_then(Json::as_u64).unwrap_or(0);
                    counters.insert(key(body, "counter")?, packets);
                }
                "rule" => rules.push(body),
                _ => {}
            }
        }
    }
    for body in rules {
        let family = text(body, "family", "rule")?;
        let table = text(body, "table", "rule")?;
        let chain = text(body, "chain", "rule")?;
        let exprs = body.get("expr").and_then(Json::as_array).ok_or_else(|| {
            error(
                F,
                0,
                format!("rule in {family} {table} {chain} has no `expr`"),
            )
        })?;
        let hook = state
            .chains
            .iter()
            .find(|c| c.family == family && c.table == table && c.name == chain)
            .and_then(|c| c.hook.as_deref());
        let wanted_addr: &[&str] = match hook {
            Some("input" | "prerouting") => &["saddr"],
            Some("output" | "postrouting") => &["daddr"],
            _ => &["saddr", "daddr"],
        };
        let resolve = |name: &str| sets.get(&(family, table, name)).copied();
        let mut rule = NftRule {
            family: family.to_string(),
            table: table.to_string(),
            chain: chain.to_string(),
            comment: body
                .get("comment")
                .and_then(Json::as_str)
                .map(str::to_string),
            ..NftRule::default()
        };
        let mut too_many_ports = false;
        for expr in exprs {
            let Some((kind, arg)) = expr.as_object().and_then(|o| o.first()) else {
                return Err(error(
                    F,
                    0,
                    format!(
                        "rule in {family} {table} {chain}: an expression that is not an object"
                    ),
                ));
            };
            match &**kind {
                "accept" | "drop" | "reject" | "return" | "queue" | "continue" => {
                    rule.verdict = Some(kind.to_string())
                }
                "jump" | "goto" => {
                    let target = arg.get("target").and_then(Json::as_str).unwrap_or("");
                    rule.verdict = Some(format!("{kind} {target}"));
                }
                "counter" => {
                    rule.packets = match arg {
                        Json::String(name) => counters.get(&(family, table, &**name)).copied(),
                        other => other.get("packets").and_then(Json::as_u64),
                    }
                }
                "match" => {
                    if arg
                        .get("op")
                        .and_then(Json::as_str)
                        .is_some_and(|op| op == "!=")
                    {
                        continue;
                    }
                    let left = arg.get("left").unwrap_or(&NULL);
                    let right = arg.get("right").unwrap_or(&NULL);
                    let elements = flatten(right, &resolve);
                    if let Some(payload) = left.get("payload") {
                        let proto = payload.get("protocol").and_then(Json::as_str);
                        let field = payload.get("field").and_then(Json::as_str);
                        match (proto, field) {
                            (Some("ip" | "ip6"), Some(f)) if wanted_addr.contains(&f) => {
                                rule.addresses
                                    .extend(elements.iter().copied().filter_map(address));
                            }
                            (Some(p), Some(f)) => {
                                if p != "ip" && p != "ip6" && p != "th" && p != "ether" {
                                    rule.protocol = Some(p.to_string());
                                }
                                if f == "dport" {
                                    too_many_ports |= !expand_ports(&elements, &mut rule.ports);
                                }
                            }
                            _ => {}
                        }
                    } else if left
                        .get("meta")
                        .and_then(|m| m.get("key"))
                        .and_then(Json::as_str)
                        .is_some_and(|k| k == "l4proto")
                    {
                        if let Some(p) = elements.first().and_then(|e| e.as_str()) {
                            rule.protocol = Some(p.to_string());
                        }
                    }
                }
                _ => {}
            }
        }
        if too_many_ports {
            rule.ports.clear();
        }
        rule.ports.sort_unstable();
        rule.ports.dedup();
        rule.addresses.sort();
        rule.addresses.dedup();
        state.rules.push(rule);
    }
    Ok(state)
}

/// The elements a match's right-hand side stands for: a value, an anonymous set or a named
/// set (`@name`), with `{"elem": {"val": …}}` wrappers removed.
fn flatten<'j, 'a>(
    right: &'j Json<'a>,
    resolve: &dyn Fn(&str) -> Option<&'j [Json<'a>]>,
) -> Vec<&'j Json<'a>> {
    let unwrap =
        |v: &'j Json<'a>| -> &'j Json<'a> { v.get("elem").and_then(|e| e.get("val")).unwrap_or(v) };
    match right {
        Json::String(s) if s.starts_with('@') => resolve(&s[1..])
            .map(|els| els.iter().map(unwrap).collect())
            .unwrap_or_default(),
        Json::Object(_) if right.get("set").is_some() => match right.get("set") {
            Some(Json::Array(els)) => els.iter().map(unwrap).collect(),
            Some(other) => vec![unwrap(other)],
            None => Vec::new(),
        },
        other => vec![unwrap(other)],
    }
}

/// Adds the ports of `elements`; false when they are more than [`MAX_PORTS`] in all.
fn expand_ports(elements: &[&Json], ports: &mut Vec<u16>) -> bool {
    for e in elements {
        let (low, high) = if let Some(range) = e.get("range").and_then(Json::as_array) {
            match (
                range.first().and_then(Json::as_u64),
                range.get(1).and_then(Json::as_u64),
            ) {
                (Some(a), Some(b)) => (a, b),
                _ => continue,
            }
        } else if let Some(p) = e.as_u64() {
            (p, p)
        } else {
            continue;
        };
        if high > u64::from(u16::MAX) || low > high {
            continue;
        }
        if ports.len() as u64 + (high - low + 1) > MAX_PORTS as u64 {
            return false;
        }
        ports.extend((low..=high).map(|p| p as u16));
    }
    true
}

/// An address, prefix or range element in canonical form: `10.0.0.1`, `10.0.0.0/8`,
/// `10.0.0.1-10.0.0.9` (host prefixes /32 and /128 are plain addresses).
fn address(element: &Json) -> Option<String> {
    use std::net::IpAddr;
    let canonical = |s: &str| s.parse::<IpAddr>().ok().map(|a| a.to_string());
    if let Some(s) = element.as_str() {
        return canonical(s);
    }
    if let Some(p) = element.get("prefix") {
        let addr: IpAddr = p.get("addr")?.as_str()?.parse().ok()?;
        let len = p.get("len")?.as_u64()?;
        let full = if addr.is_ipv4() { 32 } else { 128 };
        return Some(if len == full {
            addr.to_string()
        } else {
            format!("{addr}/{len}")
        });
    }
    if let Some(r) = element.get("range").and_then(Json::as_array) {
        let low = canonical(r.first()?.as_str()?)?;
        let high = canonical(r.get(1)?.as_str()?)?;
        return Some(format!("{low}-{high}"));
    }
    None
}

/// Attaches the copies under `files/` to the facts of `files.tsv`: `read` returns a copy's
/// bytes; a copy that is not UTF-8 leaves `content` empty.
pub fn attach_contents(
    facts: &mut BTreeMap<String, FileFact>,
    read: impl Fn(&str) -> Option<Vec<u8>>,
) {
    for (path, fact) in facts.iter_mut() {
        if fact.exists {
            fact.content = read(path).and_then(|b| String::from_utf8(b).ok());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysctl_values_and_empty_values() {
        let m = sysctl(b"a.b = 1\nnet.x = 4096\t16384\nk.e =\n").unwrap();
        assert_eq!(m["a.b"], "1");
        assert_eq!(m["net.x"], "4096 16384");
        assert_eq!(m["k.e"], "");
        assert_eq!(sysctl(b"a.b = 1\nbroken\n").unwrap_err().line, 2);
        assert_eq!(sysctl(b"a.b = 1\na.c = 2").unwrap_err().line, 2);
    }

    #[test]
    fn squeeze_makes_single_spaces_of_any_whitespace() {
        for text in [
            "",
            "a",
            "a b",
            " a",
            "a ",
            "a  b",
            "a\tb",
            "4096\t16384",
            "a\u{3000}b",
            "a\u{a0}b",
            "  lead and trail  ",
            "x \n y",
            "全角 テキスト",
        ] {
            let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(squeeze(text), joined, "{text:?}");
        }
    }

    #[test]
    fn unit_files_and_packages_check_their_columns() {
        let units = unit_files(b"ssh.service enabled enabled\ncron.service disabled\n").unwrap();
        assert_eq!(units["ssh.service"], "enabled");
        assert_eq!(units["cron.service"], "disabled");
        for (bad, message) in [
            (&b"ssh.service\n"[..], "found 1 columns"),
            (b"ssh.service enabled enabled x\n", "found 4 columns"),
            (b"ssh enabled\n", "not a unit name"),
            (b"ssh.service on\n", "not a unit-file state"),
        ] {
            let e = unit_files(bad).unwrap_err();
            assert!(e.message.contains(message), "{e:?}");
        }
        let packages = packages(b"openssh-server\tii \nold\trc \ngone\tun \n").unwrap();
        assert_eq!(packages.into_iter().collect::<Vec<_>>(), ["openssh-server"]);
        for bad in [
            &b"name\n"[..],
            b"name\ti\n",
            b"\tii\n",
            b"two words\tii\n",
            b"name\tii\textra\n",
        ] {
            assert_eq!(super::packages(bad).unwrap_err().line, 1, "{bad:?}");
        }
    }

    #[test]
    fn ss_addresses() {
        let l = listening(
            b"tcp LISTEN 0 128 [::]:22 [::]:* users:((\"sshd\",pid=1,fd=3))\nudp UNCONN 0 0 127.0.0.53%lo:53 0.0.0.0:*\n",
        )
        .unwrap();
        assert_eq!(l[0].address, "::");
        assert_eq!(l[0].process.as_deref(), Some("sshd"));
        assert_eq!(l[1].address, "127.0.0.53");
        assert_eq!(l[1].port, 53);
        assert_eq!(l[1].process, None);
    }

    #[test]
    fn modprobe_disabled_and_blacklisted() {
        let (d, b) = modprobe_config(
            b"# comment\ninstall usb-storage /bin/false\ninstall x /sbin/modprobe --ignore-install x\nblacklist fire-wire\nalias a b\n",
        )
        .unwrap();
        assert_eq!(d.into_iter().collect::<Vec<_>>(), ["usb_storage"]);
        assert_eq!(b.into_iter().collect::<Vec<_>>(), ["fire_wire"]);
        assert_eq!(modprobe_config(b"bogus x\n").unwrap_err().line, 1);
    }

    #[test]
    fn nft_ports_and_named_sets() {
        let json = br#"{"nftables":[{"set":{"family":"inet","table":"t","name":"s","elem":[{"prefix":{"addr":"10.0.0.0","len":31}},"10.0.0.9"]}},
        {"chain":{"family":"inet","table":"t","name":"c","hook":"output","policy":"drop"}},
        {"rule":{"family":"inet","table":"t","chain":"c","comment":"x","expr":[
          {"match":{"op":"==","left":{"payload":{"protocol":"ip","field":"daddr"}},"right":"@s"}},
          {"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":{"set":[22,{"range":[8000,8002]}]}}},
          {"counter":{"packets":7,"bytes":0}},{"accept":null}]}},
        {"rule":{"family":"inet","table":"t","chain":"c","expr":[
          {"match":{"op":"==","left":{"payload":{"protocol":"udp","field":"dport"}},"right":{"range":[1,2000]}}},{"drop":null}]}}]}"#;
        let s = nft(json).unwrap();
        assert_eq!(s.chains[0].policy.as_deref(), Some("drop"));
        let r = &s.rules[0];
        assert_eq!(r.ports, [22, 8000, 8001, 8002]);
        assert_eq!(r.addresses, ["10.0.0.0/31", "10.0.0.9"]);
        assert_eq!(r.protocol.as_deref(), Some("tcp"));
        assert_eq!(r.verdict.as_deref(), Some("accept"));
        assert_eq!(r.packets, Some(7));
        assert!(s.rules[1].ports.is_empty(), "wider than MAX_PORTS");
        assert!(nft(b"{}").is_err());
        assert!(nft(b"{\"nftables\": [").is_err());
    }
}

//! `show running-config` of a Cisco IOS / IOS XE device, read into [`NetworkState`].
//!
//! A network team keeps the running configuration as a text file (a terminal log, `copy
//! running-config tftp:`, `show running-config | redirect …`), not as a collector's snapshot
//! folder, so `hardbase diff ROUTER-PROFILE --live running-config.txt` reads that one file. Its
//! SHA-256 is recorded in the snapshot description, its `hostname` line names the host, and the
//! collection time is unknown (the file does not say it).
//!
//! The structure is IOS's: a line indented deeper than the line before it is that line's child
//! (IOS indents one space per level); `!` lines at any depth are separators; the top-level `end`
//! closes the configuration and only blank lines may follow it. `Building configuration...` and
//! `Current configuration : N bytes` before the first line are skipped, and CRLF line ends are
//! read as LF. A banner (`banner motd ^C` … `^C`, any delimiter character, `^C` as IOS prints
//! ETX) and a macro (`macro name X` … `@`) are free text spanning lines: their bodies are skipped,
//! never read as configuration lines.
//!
//! A file that is not what `show running-config` prints is an error naming the file and line,
//! never a pass: invalid UTF-8, a tab or an indented line where no parent line is open, a banner
//! or macro with no end, text after `end`, no `end` at all (a truncated file), or no line at all.
//! Error messages never quote the line, which may hold a secret.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::error;
use crate::live::{IosLine, LiveState, NetworkState, SnapshotError, SnapshotInfo};

/// What the snapshot description names as the collector of a running-configuration file.
pub const COLLECTOR: &str = "show running-config";

/// Reads a running-configuration file. The error names `path` as given.
pub fn load(path: &Path) -> Result<LiveState<'static>, SnapshotError> {
    let name = path.display().to_string();
    if path.is_dir() {
        return Err(error(
            &name,
            0,
            "is a folder: the live state of a network device is its `show running-config` output as one text file",
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| error(&name, 0, format!("cannot read: {e}")))?;
    let config = parse(&name, &bytes)?;
    let host = config
        .iter()
        .find_map(|l| l.text.strip_prefix("hostname "))
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let file_name = path
        .file_name()
        .map_or_else(|| name.clone(), |n| n.to_string_lossy().into_owned());
    let sha: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(LiveState {
        info: SnapshotInfo {
            host,
            collected_at: String::new(),
            collector: COLLECTOR.to_string(),
            family: "network".to_string(),
            profile: String::new(),
            governed_units_only: false,
            files: BTreeMap::from([(file_name, sha)]),
        },
        network: NetworkState {
            running_config: Some(config),
        },
        ..LiveState::default()
    })
}

/// Parses the bytes of a running configuration; `file` names it in errors.
pub fn parse(file: &str, bytes: &[u8]) -> Result<Vec<IosLine>, SnapshotError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        error(file, line, "not UTF-8 text")
    })?;
    parse_text(file, text)
}

/// Parses the text of a running configuration (or of a configuration hardbase rendered).
pub fn parse_text(file: &str, text: &str) -> Result<Vec<IosLine>, SnapshotError> {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    // The open lines: (indentation, path of indexes from the top level).
    let mut top: Vec<IosLine> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut started = false;
    let mut ended = false;
    let mut i = 0;
    while i < lines.len() {
        let raw = lines[i];
        let number = i + 1;
        i += 1;
        let trimmed = raw.trim();
        if ended {
            if trimmed.is_empty() {
                continue;
            }
            return Err(error(file, number, "text after `end`"));
        }
        if trimmed.is_empty() || trimmed.starts_with('!') {
            continue;
        }
        if !started
            && (trimmed == "Building configuration..."
                || trimmed.starts_with("Current configuration :"))
        {
            continue;
        }
        started = true;
        let indent = raw.len() - raw.trim_start_matches(' ').len();
        if raw[indent..].starts_with('\t') {
            return Err(error(
                file,
                number,
                "indented with a tab (IOS indents with spaces)",
            ));
        }
        if indent == 0 && trimmed == "end" {
            ended = true;
            continue;
        }
        if indent == 0 {
            if let Some(end) = multi_line_end(trimmed) {
                i = skip_until(&lines, i, number, file, &end)?;
            }
        }
        // Close every open line at this depth or deeper.
        while open.last().is_some_and(|d| *d >= indent) {
            open.pop();
        }
        if indent > 0 && open.is_empty() {
            return Err(error(
                file,
                number,
                "an indented line with no parent line before it",
            ));
        }
        let node = IosLine {
            text: trimmed.to_string(),
            line: number,
            children: Vec::new(),
        };
        let mut siblings = &mut top;
        for _ in 0..open.len() {
            siblings = &mut siblings
                .last_mut()
                .expect("an open line exists at every depth")
                .children;
        }
        siblings.push(node);
        open.push(indent);
    }
    if !started {
        return Err(error(
            file,
            0,
            "holds no configuration line: is this `show running-config` output?",
        ));
    }
    if !ended {
        let last = lines
            .iter()
            .rposition(|l| !l.trim().is_empty())
            .map_or(0, |p| p + 1);
        return Err(error(
            file,
            last,
            "no `end` line: the configuration is truncated",
        ));
    }
    Ok(top)
}

/// What ends a top-level line's free-text body, when the line opens one: a banner's
/// delimiter (not when the banner closes on its own line) or a macro's `@`.
fn multi_line_end(line: &str) -> Option<String> {
    let mut words = line.splitn(3, ' ');
    match (words.next(), words.next(), words.next()) {
        (Some("banner"), Some(_kind), Some(rest)) => {
            let rest = rest.trim_start();
            let delimiter = if rest.starts_with("^C") {
                "^C".to_string()
            } else {
                rest.chars().next()?.to_string()
            };
            let body = &rest[delimiter.len()..];
            (!body.contains(delimiter.as_str())).then_some(delimiter)
        }
        (Some("macro"), Some("name"), Some(_)) => Some("@".to_string()),
        _ => None,
    }
}

/// The index of the line after the one holding `end`, searching from `from`; an error at
/// `opened` when no line holds it.
fn skip_until(
    lines: &[&str],
    from: usize,
    opened: usize,
    file: &str,
    end: &str,
) -> Result<usize, SnapshotError> {
    lines[from..]
        .iter()
        .position(|l| {
            if end == "@" {
                l.trim() == "@"
            } else {
                l.contains(end)
            }
        })
        .map(|p| from + p + 1)
        .ok_or_else(|| {
            error(
                file,
                opened,
                format!("a banner or macro opened here never ends (no closing `{end}`)"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[IosLine]) -> Vec<String> {
        lines
            .iter()
            .flat_map(|l| {
                std::iter::once(l.text.clone())
                    .chain(texts(&l.children).into_iter().map(|c| format!(">{c}")))
            })
            .collect()
    }

    #[test]
    fn sections_banners_and_separators() {
        let text = "Building configuration...\r\n\r\nCurrent configuration : 99 bytes\r\n!\r\nhostname r1\r\nbanner motd ^C\r\nAuthorised access only\r\n end\r\n^C\r\ninterface Vlan50\r\n ip address 10.50.1.1 255.255.255.0\r\n !\r\n no ip redirects\r\narchive\r\n log config\r\n  hidekeys\r\nbanner exec #one line#\r\nline vty 0 4\r\n transport input ssh\r\nend\r\n\r\n";
        let parsed = parse("r", text.as_bytes()).unwrap();
        assert_eq!(
            texts(&parsed),
            [
                "hostname r1",
                "banner motd ^C",
                "interface Vlan50",
                ">ip address 10.50.1.1 255.255.255.0",
                ">no ip redirects",
                "archive",
                ">log config",
                ">>hidekeys",
                "banner exec #one line#",
                "line vty 0 4",
                ">transport input ssh",
            ]
        );
        assert_eq!(parsed[2].line, 10);
    }

    #[test]
    fn malformed_input_names_the_line() {
        let cases: [(&[u8], usize, &str); 7] = [
            (b" ip ssh version 2\nend\n", 1, "no parent"),
            (b"hostname r\nbanner motd ^C\ntext\nend\n", 2, "never ends"),
            (b"hostname r\nend\nrouter#\n", 3, "after `end`"),
            (b"hostname r\ninterface Vlan1\n", 2, "truncated"),
            (b"hostname r\n\xff\nend\n", 2, "UTF-8"),
            (b"hostname r\ninterface X\n\tshutdown\nend\n", 3, "tab"),
            (b"!\n\n", 0, "no configuration line"),
        ];
        for (bytes, line, message) in cases {
            let e = parse("f", bytes).unwrap_err();
            assert_eq!(e.line, line, "{e}");
            assert!(e.message.contains(message), "{e}");
        }
    }
}

//! Loading a profile and its `extends` layers, depth first, parents before children.
//!
//! Each layer is loaded once even if several children extend it. A layer that
//! reaches itself again through `extends` is a cycle, reported at the entry
//! that closes it with the whole loop in a note.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::load::profile::{self, Layer};
use crate::source::{SourceMap, Span};

/// A profile and its layers, in the order they apply (parents first, the profile last).
pub struct Chain {
    pub layers: Vec<Layer>,
    /// For each layer, the `extends` entry that pulled it in (`None` for the profile itself).
    pub via: Vec<Option<Span>>,
}

/// Joins and cleans a path lexically (`a/b/../c` → `a/c`), keeping it relative if it was.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let last_is_normal =
                    matches!(out.components().next_back(), Some(Component::Normal(_)));
                if last_is_normal {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The name a file is shown under: its normalized path with `/` separators.
pub fn display_name(path: &Path) -> String {
    normalize(path).to_string_lossy().replace('\\', "/")
}

struct Loader<'a> {
    sources: &'a mut SourceMap,
    diags: &'a mut Diagnostics,
    stack: Vec<(PathBuf, String)>,
    done: HashMap<PathBuf, ()>,
    layers: Vec<Layer>,
    via: Vec<Option<Span>>,
}

/// Loads `path` and everything it extends. `None` if the profile itself cannot be read.
pub fn load_chain(path: &Path, sources: &mut SourceMap, diags: &mut Diagnostics) -> Option<Chain> {
    let mut loader = Loader {
        sources,
        diags,
        stack: Vec::new(),
        done: HashMap::new(),
        layers: Vec::new(),
        via: Vec::new(),
    };
    loader.visit(&normalize(path), None);
    // Keep going with the layers that did load, so one run reports every problem.
    // (The profile itself is pushed last; if it could not be read nothing was pushed.)
    if loader.layers.is_empty() {
        return None;
    }
    Some(Chain {
        layers: loader.layers,
        via: loader.via,
    })
}

impl Loader<'_> {
    fn visit(&mut self, path: &Path, via: Option<Span>) {
        let name = display_name(path);
        let canonical = match std::fs::canonicalize(path) {
            Ok(c) => c,
            Err(e) => {
                match via {
                    Some(span) => self.diags.push(
                        Diagnostic::error(
                            Code::MissingExtends,
                            format!("cannot find the layer `{name}`"),
                        )
                        .at(span, "no such file")
                        .note("`extends` paths are relative to the file that contains them"),
                    ),
                    None => self.diags.push(Diagnostic::error(
                        Code::Io,
                        format!("cannot read profile {name}: {e}"),
                    )),
                }
                return;
            }
        };
        if let Some(pos) = self.stack.iter().position(|(c, _)| *c == canonical) {
            let mut cycle: Vec<&str> = self.stack[pos..].iter().map(|(_, n)| n.as_str()).collect();
            cycle.push(&name);
            let mut d = Diagnostic::error(
                Code::ExtendsCycle,
                format!("`extends` forms a cycle through {name}"),
            )
            .note(format!("cycle: {}", cycle.join(" -> ")));
            if let Some(span) = via {
                d = d.at(span, "this entry closes the cycle");
            }
            self.diags.push(d);
            return;
        }
        if self.done.contains_key(&canonical) {
            return;
        }
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                let d = Diagnostic::error(Code::Io, format!("cannot read {name}: {e}"));
                self.diags.push(match via {
                    Some(span) => d.at(span, "extended here"),
                    None => d,
                });
                return;
            }
        };
        let file = self.sources.add(name.clone(), text);
        self.done.insert(canonical.clone(), ());
        let Some(layer) = profile::load(self.sources, file, path.to_path_buf(), self.diags) else {
            return;
        };
        self.stack.push((canonical, name));
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for ext in layer.extends.clone() {
            let target = normalize(&base.join(&ext.value));
            self.visit(&target, Some(ext.span));
        }
        self.stack.pop();
        self.layers.push(layer);
        self.via.push(via);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(
            normalize(Path::new("a/b/../c.toml")),
            PathBuf::from("a/c.toml")
        );
        assert_eq!(
            normalize(Path::new("./a/./c.toml")),
            PathBuf::from("a/c.toml")
        );
        assert_eq!(
            normalize(Path::new("../x.toml")),
            PathBuf::from("../x.toml")
        );
        assert_eq!(
            normalize(Path::new("a/../../x.toml")),
            PathBuf::from("../x.toml")
        );
    }
}

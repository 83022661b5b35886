//! Two GPO backups compared setting by setting.
//!
//! registry.pol entries are keyed by key and value name, GptTmpl.inf entries by section and
//! key, audit.csv rows by subcategory GUID (option rows by their name), all case-insensitively.
//! When a file sets the same thing twice the later entry wins, as it does when Windows applies
//! the file in order.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use super::{printable, Entry};

/// One setting set differently in the two backups.
#[derive(Clone, Debug, Serialize)]
pub struct Change {
    pub a: Entry,
    pub b: Entry,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Comparison {
    pub only_in_a: Vec<Entry>,
    pub only_in_b: Vec<Entry>,
    pub changed: Vec<Change>,
    pub same: usize,
}

impl Comparison {
    pub fn is_equal(&self) -> bool {
        self.only_in_a.is_empty() && self.only_in_b.is_empty() && self.changed.is_empty()
    }
}

fn keyed(entries: &[Entry]) -> BTreeMap<(String, String, String), &Entry> {
    entries.iter().map(|e| (e.identity(), e)).collect()
}

/// Compares the entries of backup A with those of backup B.
pub fn compare(a: &[Entry], b: &[Entry]) -> Comparison {
    let (a, b) = (keyed(a), keyed(b));
    let mut out = Comparison::default();
    for (id, ea) in &a {
        match b.get(id) {
            None => out.only_in_a.push((*ea).clone()),
            Some(eb) if eb.value == ea.value => out.same += 1,
            Some(eb) => out.changed.push(Change {
                a: (*ea).clone(),
                b: (*eb).clone(),
            }),
        }
    }
    out.only_in_b = b
        .iter()
        .filter(|(id, _)| !a.contains_key(*id))
        .map(|(_, e)| (*e).clone())
        .collect();
    out
}

pub fn to_json(c: &Comparison, a: &str, b: &str) -> serde_json::Value {
    json!({
        "a": a,
        "b": b,
        "equal": c.is_equal(),
        "same": c.same,
        "only_in_a": c.only_in_a,
        "only_in_b": c.only_in_b,
        "changed": c.changed,
    })
}

pub fn to_text(c: &Comparison, a: &str, b: &str) -> String {
    let mut out = format!("A: {}\nB: {}\n", printable(a), printable(b));
    for e in &c.only_in_a {
        out.push_str(&format!(
            "only in A  {} = {}\n",
            e.label(),
            printable(&e.value)
        ));
    }
    for e in &c.only_in_b {
        out.push_str(&format!(
            "only in B  {} = {}\n",
            e.label(),
            printable(&e.value)
        ));
    }
    for ch in &c.changed {
        out.push_str(&format!(
            "changed    {}: {} -> {}\n",
            ch.a.label(),
            printable(&ch.a.value),
            printable(&ch.b.value)
        ));
    }
    out.push_str(&format!(
        "{}: {} same, {} only in A, {} only in B, {} changed\n",
        if c.is_equal() { "equal" } else { "DIFFERENT" },
        c.same,
        c.only_in_a.len(),
        c.only_in_b.len(),
        c.changed.len()
    ));
    out
}

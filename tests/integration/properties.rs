//! Property tests: hostile parameter values never panic; each is accepted or rejected with a diagnostic.

use std::path::Path;

use hardbase::catalog::Catalog;
use hardbase::diag::Diagnostics;
use hardbase::load::document::Date;
use hardbase::resolve::{self, Options};
use hardbase::source::SourceMap;
use proptest::prelude::*;

use crate::util::{fixtures, TempDir};

const HEADER: &str = "[profile]\nrole = \"atm-terminal\"\nplatform = \"windows-10-iot-ltsc-2021\"\nmembership = \"workgroup\"\n\n";

/// Resolves `text` as a profile against the test catalog; checks the outcome is coherent.
fn resolve_text(dir: &Path, text: &str) -> (bool, usize, String) {
    let path = dir.join("profile.toml");
    std::fs::write(&path, text).unwrap();
    let mut sources = SourceMap::new();
    let mut diags = Diagnostics::new();
    let catalog_dir = fixtures().join("catalog");
    let catalog = Catalog::load(&mut sources, false, &[catalog_dir.as_path()], &mut diags);
    assert!(diags.is_empty(), "the test catalog is clean");
    let options = Options {
        at: Date::parse("2026-11-27").unwrap(),
        expired_waivers_are_findings: false,
    };
    let state = resolve::resolve(&path, &catalog, &mut sources, &options, &mut diags);
    // Rendering every diagnostic must work too (spans inside the text, valid UTF-8 slicing).
    let mut out = codespan_reporting::term::termcolor::NoColor::new(Vec::new());
    diags.render_text(&sources, &mut out).unwrap();
    let rendered = String::from_utf8(out.into_inner()).unwrap();
    let _ = diags.to_json(&sources);
    (state.is_some(), diags.error_count(), rendered)
}

fn toml_value(v: &toml::Value) -> String {
    let mut t = toml::Table::new();
    t.insert("x".into(), v.clone());
    let s = toml::to_string(&t).unwrap();
    s.trim_start_matches("x = ").trim_end().to_string()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, .. ProptestConfig::default() })]

    #[test]
    fn typed_values_are_accepted_or_diagnosed(
        collector in prop_oneof![any::<String>(), "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}"],
        port in prop_oneof![any::<i64>(), 0i64..70000],
        threshold in any::<i64>(),
        account in any::<String>(),
        hosts in proptest::collection::vec(prop_oneof![any::<String>(), "10\\.[0-9]{1,3}\\.0\\.0/[0-9]{1,2}"], 0..4),
    ) {
        let dir = TempDir::new("prop-typed");
        let text = format!(
            "{HEADER}[params]\nlog_collector = {}\nlog_port = {}\nlockout_threshold = {}\nkiosk_account = {}\nmanagement_hosts = {}\n",
            toml_value(&toml::Value::String(collector)),
            port,
            threshold,
            toml_value(&toml::Value::String(account)),
            toml_value(&toml::Value::Array(hosts.into_iter().map(toml::Value::String).collect())),
        );
        let (ok, errors, rendered) = resolve_text(dir.path(), &text);
        prop_assert_eq!(ok, errors == 0, "{}", rendered);
        if !ok {
            prop_assert!(rendered.contains("error["), "{}", rendered);
            prop_assert!(rendered.contains("--> "), "{}", rendered);
        }
    }

    #[test]
    fn raw_text_as_a_value_is_accepted_or_diagnosed(raw in any::<String>(), number in any::<f64>()) {
        let dir = TempDir::new("prop-raw");
        for value in [raw.clone(), number.to_string(), format!("[{raw}]")] {
            let text = format!("{HEADER}[params]\nlog_collector = \"10.30.0.5\"\nlog_port = {value}\n");
            let (ok, errors, rendered) = resolve_text(dir.path(), &text);
            prop_assert_eq!(ok, errors == 0, "{}", rendered);
        }
    }
}

#[test]
fn a_port_of_70000_and_a_control_character_are_rejected() {
    let dir = TempDir::new("prop-examples");
    let (ok, _, rendered) = resolve_text(
        dir.path(),
        &format!("{HEADER}[params]\nlog_collector = \"10.30.0.5\"\nlog_port = 70000\n"),
    );
    assert!(!ok);
    assert!(
        rendered.contains("70000 is not a port number"),
        "{rendered}"
    );
    let (ok, _, rendered) = resolve_text(
        dir.path(),
        &format!("{HEADER}[params]\nlog_collector = \"10.30.0.5\"\nkiosk_account = \"atm\\u001bkiosk\"\n"),
    );
    assert!(!ok);
    assert!(rendered.contains("control character U+001B"), "{rendered}");
}

//! Property tests: no configuration file, however broken (random bytes, truncated, wrong types,
//! token soup, deep nesting), makes parsing or loading panic; each gives an error naming the file
//! and, for syntax and type errors, a line inside the text.
//!
//! `PROPTEST_CASES=5000 cargo test -p hsof-core --test config_fuzz` searches harder.

use std::path::Path;

use hsof_core::config::{leaf_keys, load_or_create, parse, render, Config, ConfigError};
use proptest::prelude::*;

fn config(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

const PATH: &str = "/etc/hsof/config.toml";

/// Parses `text`: valid, or an error that names the file, with a line inside the text.
fn check(text: &str) -> Result<(), TestCaseError> {
    match parse(Path::new(PATH), text) {
        Ok(c) => prop_assert!(hsof_core::config::validate(&c).is_empty()),
        Err(e) => {
            let msg = e.to_string();
            prop_assert!(msg.contains(PATH), "{msg}");
            match &e {
                ConfigError::Parse { line, key, message, .. } => {
                    let lines = text.lines().count().max(1) + 1;
                    prop_assert!((1..=lines).contains(line), "line {line} of {lines}: {msg}");
                    prop_assert!(!key.is_empty() && !message.is_empty(), "{msg}");
                }
                ConfigError::Invalid { problems, .. } => prop_assert!(!problems.is_empty()),
                ConfigError::Io { .. } => prop_assert!(false, "parse does no I/O: {msg}"),
            }
        }
    }
    Ok(())
}

/// A TOML value of any type, including ones no key of the schema takes.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|v| v.to_string()),
        any::<f64>().prop_map(|v| format!("{v:?}")),
        prop::sample::select(vec![
            "true",
            "false",
            "nan",
            "-inf",
            "+inf",
            "1e400",
            "99999999999999999999",
            "-0",
            "0x7f",
            "0o17",
            "0b101",
            "1_000",
            "1979-05-27T07:32:00Z",
            "07:32:00",
            "1979-05-27",
            "[]",
            "[1, \"a\"]",
            "{}",
            "{ a = 1 }",
            "[[1], [2]]",
            "\"\"",
            "''",
            "\"\"\"\nmulti\n\"\"\"",
            "'''x'''",
            "\"\\u00e9\"",
            "\"\\uD800\"",
            "\"é日本😀\"",
            "\"#channel\"",
            "\"http://x\"",
            "\"25:99\"",
            "\"0m\"",
            "\"4294967296h\"",
            "\"\\x\"",
        ])
        .prop_map(str::to_string),
        "\\PC{0,12}".prop_map(|s| format!("{s:?}")),
        "\\PC{0,12}",
    ]
}

/// The default file, one line of which gets a random value.
fn with_wrong_value() -> impl Strategy<Value = String> {
    let text = render(&Config::default());
    let n = text.lines().count();
    (0..n, value()).prop_map(move |(i, v)| {
        text.lines()
            .enumerate()
            .map(|(j, l)| match l.split_once(" = ") {
                Some((k, _)) if j == i && !l.starts_with('#') => format!("{k} = {v}"),
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}

/// Random TOML-ish tokens.
fn token_soup() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        4 => prop::sample::select(vec![
            "[", "]", "[[", "]]", "{", "}", "=", " = ", ",", ".", "\"", "'", "\"\"\"", "'''", "#", "\n", "\r\n", " ",
            "\t", "\\", "cluster", "thresholds", "severities", "P0", "namespace", "escalation", "ui", "theme",
            "team", "timezone", "[cluster]", "[severities.P1]", "[[x]]", "a.b.c", "\"k\"", "1", "-", "+", "e",
            "nan", "inf", "true", "1979-05-27", "T", ":", "Z",
        ])
        .prop_map(str::to_string),
        1 => "\\PC{1,3}",
        1 => value(),
    ];
    prop::collection::vec(token, 0..80).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        check(&String::from_utf8_lossy(&bytes))?;
        // Through the file too, where invalid UTF-8 is the reader's error.
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, &bytes).expect("write");
        let loaded = load_or_create(&path);
        prop_assert!(loaded.problem.is_some() || hsof_core::config::validate(&loaded.config).is_empty());
        prop_assert_eq!(std::fs::read(&path).expect("read"), bytes, "a broken file is left as written");
    }

    #[test]
    fn truncated_files_never_panic(cut in any::<prop::sample::Index>(), junk in "\\PC{0,3}") {
        let text = render(&Config::default());
        // Any byte offset, so also inside a multi-byte character (read as the file would be).
        let at = cut.index(text.len() + 1);
        let mut bytes = text.as_bytes()[..at].to_vec();
        bytes.extend(junk.as_bytes());
        check(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn wrong_typed_values_never_panic(text in with_wrong_value()) {
        check(&text)?;
    }

    #[test]
    fn token_soup_never_panics(text in token_soup()) {
        check(&text)?;
    }

    #[test]
    fn unicode_near_an_error_never_panics(pre in "\\PC{0,6}", key in prop::sample::Index::arbitrary(), bad in value(), post in "\\PC{0,6}") {
        // An error whose offset may fall next to (or, with a buggy span, inside) a multi-byte character.
        let keys = leaf_keys(&Config::default());
        let key = &keys[key.index(keys.len())];
        let (table, leaf) = key.rsplit_once('.').unwrap_or(("", key.as_str()));
        let header = if table.is_empty() { String::new() } else { format!("[{table}]\n") };
        check(&format!("{header}{pre}{leaf} = {bad}{post}\n"))?;
    }
}

/// Nested arrays and tables deeper than any parser should recurse: an error (or a value), not a stack
/// overflow.
#[test]
fn deeply_nested_values_are_an_error_not_a_stack_overflow() {
    for depth in [200, 5_000, 100_000] {
        for text in [
            format!("x = {}{}", "[".repeat(depth), "]".repeat(depth)),
            format!("x = {}1{}", "{a = ".repeat(depth), "}".repeat(depth)),
            format!("x = {}", "[".repeat(depth)),
            format!("[{}]\n", vec!["a"; depth].join(".")),
        ] {
            let text = text.clone();
            // On a thread with the default 2 MiB test stack, as the app's config load would see.
            let outcome = std::thread::spawn(move || parse(Path::new(PATH), &text).map(|_| ()))
                .join()
                .expect("parsing deep nesting must not crash");
            assert!(outcome.is_err(), "depth {depth}: nested junk is not a valid configuration");
        }
    }
}

#[test]
fn a_parse_error_after_multibyte_text_points_at_its_line() {
    let text = "[cluster]\nnamespace = \"é日本😀\" 😀\n";
    match parse(Path::new(PATH), text) {
        Err(ConfigError::Parse { line, key, .. }) => {
            assert_eq!(line, 2);
            assert_eq!(key, "cluster.namespace");
        }
        other => panic!("{other:?}"),
    }
}

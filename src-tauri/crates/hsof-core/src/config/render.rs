//! Writes a [`Config`] as a commented TOML file.

use std::fmt::Write;

use super::{docs::doc_for, Config};

/// Renders `config` as TOML with a comment above every section and key.
pub fn render(config: &Config) -> String {
    let mut out = String::from(
        "# HSOF Control Center configuration.\n\
         # Every key is documented in docs/configuration.md; `hsofctl config validate` checks this file.\n\
         # Secrets (Slack webhook URL, tokens) are not kept here: see `hsofctl secret`.\n",
    );
    let value = toml::Value::try_from(config).unwrap_or_else(|_| toml::Value::Table(Default::default()));
    if let toml::Value::Table(t) = value {
        write_table(&mut out, "", &t);
    }
    out
}

fn write_table(out: &mut String, prefix: &str, table: &toml::Table) {
    if !prefix.is_empty() {
        out.push('\n');
        if let Some(doc) = doc_for(prefix) {
            let _ = writeln!(out, "# {doc}");
        }
        let _ = writeln!(out, "[{prefix}]");
    }
    let key_of = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    for (k, v) in table.iter().filter(|(_, v)| !v.is_table() && tables_of(v).is_none()) {
        if let Some(doc) = doc_for(&key_of(k)) {
            let _ = writeln!(out, "# {doc}");
        }
        let _ = writeln!(out, "{k} = {v}");
    }
    for (k, v) in table.iter() {
        if let toml::Value::Table(sub) = v {
            write_table(out, &key_of(k), sub);
        }
    }
    // Arrays of tables (`[[clusters]]`) last: a header per item, a comment on the first.
    for (k, items) in table.iter().filter_map(|(k, v)| tables_of(v).map(|t| (k, t))) {
        let key = key_of(k);
        for (i, item) in items.iter().enumerate() {
            out.push('\n');
            if i == 0 {
                if let Some(doc) = doc_for(&key) {
                    let _ = writeln!(out, "# {doc}");
                }
            }
            let _ = writeln!(out, "[[{key}]]");
            for (field, value) in item.iter() {
                if i == 0 {
                    if let Some(doc) = doc_for(&format!("{key}.{field}")) {
                        let _ = writeln!(out, "# {doc}");
                    }
                }
                let _ = writeln!(out, "{field} = {value}");
            }
        }
    }
}

/// The items of a non-empty array whose items are all tables.
fn tables_of(v: &toml::Value) -> Option<Vec<&toml::Table>> {
    let items = v.as_array().filter(|a| !a.is_empty())?;
    items.iter().map(toml::Value::as_table).collect()
}

/// Every leaf key of `config`, dotted, in file order.
pub fn leaf_keys(config: &Config) -> Vec<String> {
    fn walk(prefix: &str, t: &toml::Table, out: &mut Vec<String>) {
        for (k, v) in t {
            let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
            match v {
                toml::Value::Table(sub) => walk(&key, sub, out),
                _ => out.push(key),
            }
        }
    }
    let mut out = Vec::new();
    if let Ok(toml::Value::Table(t)) = toml::Value::try_from(config) {
        walk("", &t, &mut out);
    }
    out
}

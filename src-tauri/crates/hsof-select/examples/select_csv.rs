//! The whole pipeline on a CSV with options given as JSON, printing the report: for trying
//! engine options on real tables without building the CLI (`benches/compare_real_tables.py
//! --variants` uses it).
//! Usage: `cargo run --release -p hsof-select --example select_csv -- DATA.csv TARGET [OPTIONS_JSON] [THREADS]`
//! OPTIONS_JSON is a (partial) `SelectOptions`, e.g. `{"evaluate":{"size":{"fixed":15}}}`.

use std::path::PathBuf;

use hsof_select::{load_csv, run, CancelToken, LoadOptions, SelectOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, target, rest @ ..] = args.as_slice() else {
        return Err("usage: select_csv DATA.csv TARGET [OPTIONS_JSON] [THREADS]".into());
    };
    let mut opts: SelectOptions = match rest.first() {
        Some(j) => serde_json::from_str(j)?,
        None => SelectOptions::default(),
    };
    if let Some(t) = rest.get(1) {
        opts.threads = Some(t.parse()?);
    }
    let ds = load_csv(&PathBuf::from(path), target, &[], &LoadOptions::default())?;
    let report = run(&ds, &opts, &|_| {}, &CancelToken::new())?;
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

//! Stage 1 on a CSV, for `benches/compare_sklearn.py`: prints JSON with the selected column names and
//! the load and filter times.
//! Usage: `cargo run --release -p hsof-select --example stage1_csv -- DATA.csv TARGET K [THREADS]`

use std::path::PathBuf;
use std::time::Instant;

use hsof_select::{load_csv, stage1, CancelToken, CpuBackend, Ctl, FilterOptions, KeepCount, LoadOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, target, k, rest @ ..] = args.as_slice() else {
        return Err("usage: stage1_csv DATA.csv TARGET K [THREADS]".into());
    };
    if let Some(threads) = rest.first() {
        rayon::ThreadPoolBuilder::new().num_threads(threads.parse()?).build_global()?;
    }
    let t = Instant::now();
    let ds = load_csv(&PathBuf::from(path), target, &[], &LoadOptions::default())?;
    let load_seconds = t.elapsed().as_secs_f64();
    let opts = FilterOptions { keep: KeepCount::Count(k.parse()?), ..FilterOptions::default() };
    let cancel = CancelToken::new();
    let t = Instant::now();
    let out = stage1::filter(&ds, &opts, &CpuBackend, &Ctl::new(&|_| {}, &cancel))?;
    let filter_seconds = t.elapsed().as_secs_f64();
    let selected: Vec<&str> = out.columns.iter().map(|&c| ds.feature_names[c].as_str()).collect();
    let json = serde_json::json!({
        "selected": selected,
        "load_seconds": load_seconds,
        "filter_seconds": filter_seconds,
        "rows": ds.n_rows(),
        "features": ds.n_features(),
        "threads": rayon::current_num_threads(),
    });
    println!("{json}");
    Ok(())
}

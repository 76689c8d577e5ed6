//! Time-series store benchmark: 30 days of 15-second samples for 20 series (3.46 M rows),
//! then a downsampled 30-day chart of one series (300 buckets).
//! Run: `cargo bench -p hsof-store --bench timeseries` (numbers go to docs/benchmarks.md).

use std::time::Instant;

use hsof_store::{Store, STORE_FILE};

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join(STORE_FILE)).expect("open");
    let (series, step, days) = (20, 15_i64, 30_i64);
    let per_series = (days * 86_400 / step) as usize;
    let start = Instant::now();
    let mut ids = Vec::new();
    for s in 0..series {
        let id = store.series_id(&format!("bench.series_{s}")).expect("series");
        // One day per transaction, as the poller would flush in batches.
        let points: Vec<(i64, f64)> = (0..per_series).map(|i| (i as i64 * step, ((i * 7 + s) % 100) as f64)).collect();
        for chunk in points.chunks(5_760) {
            store.insert_samples(id, chunk).expect("insert");
        }
        ids.push(id);
    }
    let secs = start.elapsed().as_secs_f64();
    let rows = series * per_series;
    println!("insert: {rows} rows in {secs:.2} s = {:.0} rows/s", rows as f64 / secs);
    let size = std::fs::metadata(dir.path().join(STORE_FILE)).map(|m| m.len()).unwrap_or(0);
    println!("file: {:.1} MiB (+WAL)", size as f64 / (1 << 20) as f64);

    let to = days * 86_400;
    let mut times = Vec::new();
    for run in 0..15 {
        let id = ids[run % ids.len()];
        let t = Instant::now();
        let buckets = store.downsample(id, 0, to, to / 300).expect("downsample");
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(buckets.len() >= 300);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "30-day downsample to 300 buckets (one series of {per_series} rows): median {:.1} ms, min {:.1} ms, max {:.1} ms over {} runs",
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        times.len()
    );
}

//! Categorical groups: a text column's one-hot levels (`name=level`) are selected as one
//! feature — all of them or none — scored as a whole, and never judged redundant to each other.

use std::fmt::Write as _;

use hsof_select::{
    load_csv, run, CancelToken, EvaluateOptions, FinalSize, LoadOptions, SelectOptions, SelectionReport,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `n` rows: `city` (8 levels; three of them lean to class 1, the rest to class 0), `flag`
/// (yes/no, tied to the class), `color` (5 levels, noise), two numeric columns whose class means
/// differ, and `noise` numeric noise columns.
fn csv(n: usize, noise: usize, seed: u64) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = String::from("city,flag,color,m1,m2");
    for j in 0..noise {
        write!(out, ",n{j}").expect("write");
    }
    out.push_str(",y\n");
    let cities = ["ams", "ber", "cph", "dub", "edi", "fra", "gva", "hel"];
    for _ in 0..n {
        let city = rng.gen_range(0..cities.len());
        let lean = if city < 3 { 0.8 } else { 0.2 };
        let y = u8::from(rng.gen_bool(lean));
        let flag = if rng.gen_bool(if y == 1 { 0.7 } else { 0.3 }) { "yes" } else { "no" };
        let color = ["red", "green", "blue", "grey", "teal"][rng.gen_range(0..5)];
        let shift = f64::from(y) * 0.6;
        write!(
            out,
            "{},{flag},{color},{:.4},{:.4}",
            cities[city],
            rng.gen_range(-1.0..1.0) + shift,
            rng.gen_range(-1.0..1.0) - shift
        )
        .expect("write");
        for _ in 0..noise {
            write!(out, ",{:.4}", rng.gen_range(-1.0..1.0)).expect("write");
        }
        writeln!(out, ",{y}").expect("write");
    }
    out
}

fn select(text: &str, size: FinalSize) -> SelectionReport {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("customers.csv");
    std::fs::write(&path, text).expect("write csv");
    let ds = load_csv(&path, "y", &[], &LoadOptions::default()).expect("load");
    let opts = SelectOptions { evaluate: EvaluateOptions { size, ..Default::default() }, ..SelectOptions::default() };
    run(&ds, &opts, &|_| {}, &CancelToken::new()).expect("run")
}

fn levels<'a>(r: &'a SelectionReport, column: &str) -> Vec<&'a str> {
    let prefix = format!("{column}=");
    let mut v: Vec<&str> =
        r.final_results.selected_features.iter().map(|f| f.name.as_str()).filter(|n| n.starts_with(&prefix)).collect();
    v.sort_unstable();
    v
}

#[test]
fn a_text_column_is_selected_whole_and_counts_as_one_feature() {
    for seed in [1, 2] {
        let r = select(&csv(1200, 60, seed), FinalSize::Fixed(4));
        let names: Vec<&str> = r.final_results.selected_features.iter().map(|f| f.name.as_str()).collect();
        let city = levels(&r, "city");
        assert_eq!(city.len(), 8, "seed {seed}: every level of city or none, and it matters: {names:?}");
        // yes/no levels are perfectly anti-correlated: the redundancy step must not split them.
        let flag = levels(&r, "flag");
        assert!(flag.is_empty() || flag == ["flag=no", "flag=yes"], "seed {seed}: {names:?}");
        let color = levels(&r, "color");
        assert!(color.is_empty() || color.len() == 5, "seed {seed}: {names:?}");
        // Four features: a group is one, whatever its number of levels.
        let groups = [!city.is_empty(), !flag.is_empty(), !color.is_empty()].iter().filter(|g| **g).count();
        let plain = names.iter().filter(|n| !n.contains('=')).count();
        assert_eq!(groups + plain, 4, "seed {seed}: {names:?}");
        // The group's relevance is the whole code's, the same on each level.
        let rel: Vec<f64> = r
            .final_results
            .selected_features
            .iter()
            .filter(|f| f.name.starts_with("city="))
            .map(|f| f.relevance)
            .collect();
        assert!(rel.windows(2).all(|w| w[0] == w[1]), "{rel:?}");
    }
}

#[test]
fn a_range_of_sizes_counts_groups_as_one() {
    let r = select(&csv(900, 30, 5), FinalSize::Range { min: 1, max: 3 });
    let names: Vec<&str> = r.final_results.selected_features.iter().map(|f| f.name.as_str()).collect();
    let city = levels(&r, "city");
    assert!(city.is_empty() || city.len() == 8, "{names:?}");
    let mut units: Vec<&str> = names.iter().map(|n| n.split('=').next().unwrap_or(n)).collect();
    units.dedup();
    assert!((1..=3).contains(&units.len()), "{names:?}");
}

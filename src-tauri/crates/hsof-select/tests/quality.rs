//! Selection quality on hard data from our own generators (the acceptance data is different):
//! honest scores on random labels, Madelon-like clusters, a pure interaction pair, Friedman #1,
//! and column-order invariance. Default options throughout, as a user runs them.

mod common;

use common::{diffuse_linear, friedman1, madelon, random_labels, xor_pair};
use hsof_select::canonical;
use hsof_select::{run, CancelToken, Dataset, OuterValidation, SelectOptions, SelectionReport};

fn select(ds: &Dataset, opts: &SelectOptions) -> SelectionReport {
    run(ds, opts, &|_| {}, &CancelToken::new()).expect("run")
}

fn chosen(r: &SelectionReport) -> Vec<usize> {
    r.final_results.selected_features.iter().map(|f| f.index as usize).collect()
}

#[test]
fn random_labels_score_chance_on_held_out_rows() {
    for seed in [1, 2] {
        let ds = random_labels(300, 2000, seed);
        let r = select(&ds, &SelectOptions { seed, ..SelectOptions::default() });
        let f = &r.final_results;
        let v = &f.validation;
        assert_eq!(v.scheme, "nested_folds", "300 rows: outer folds");
        assert_eq!(v.fold_scores.len(), 3);
        assert_eq!(v.held_out_rows.iter().sum::<u32>(), 300, "every row held out once");
        assert!(f.score <= 0.60, "seed {seed}: random labels must score chance, got {} ({:?})", f.score, v.fold_scores);
        assert!(
            v.inner_score > f.score,
            "the inner score is the optimistic one: inner {} vs held out {}",
            v.inner_score,
            f.score
        );
        let metric = |name: &str| v.metrics.iter().find(|m| m.name == name).map(|m| m.value);
        // Equal folds: the pooled accuracy is the mean of the fold scores.
        assert!((metric("accuracy").unwrap_or(f64::NAN) - f.score).abs() < 1e-9);
        assert!(metric("balanced_accuracy") <= Some(0.60), "balanced accuracy {:?}", metric("balanced_accuracy"));
        if let Some(auc) = metric("roc_auc") {
            assert!(auc <= 0.65, "ROC-AUC on noise {auc}");
        }
        // Nothing is stable on noise: no feature chosen by every outer selection and the final one.
        assert!(f.selected_features.iter().all(|s| s.stability.is_some()));
        assert!(f.selected_features.iter().any(|s| s.stability < Some(1.0)));
    }
}

#[test]
fn madelon_like_data_selects_useful_columns() {
    let m = madelon(2000, 500, 5, 15, 0, 2, 1.0, 0.01, 3);
    let useful: Vec<usize> = m.informative.iter().chain(&m.redundant).copied().collect();
    let r = select(&m.ds, &SelectOptions::default());
    let picked = chosen(&r);
    let hits = picked.iter().filter(|c| useful.contains(c)).count();
    assert!(hits as f64 >= 0.8 * picked.len() as f64, "{hits} of {} useful", picked.len());
    assert_eq!(r.final_results.validation.scheme, "holdout", "2000 rows: a holdout");
    assert!(r.final_results.score > 0.85, "held-out accuracy {}", r.final_results.score);
}

#[test]
fn a_pure_interaction_pair_reaches_the_final_set() {
    for seed in [9, 10] {
        let x = xor_pair(1500, 300, 0.05, seed);
        let r = select(&x.ds, &SelectOptions { seed, ..SelectOptions::default() });
        let picked = chosen(&r);
        assert!(
            x.informative.iter().all(|c| picked.contains(c)),
            "seed {seed}: pair {:?} not in {picked:?}",
            x.informative
        );
        let pairs = r.stages[0].details.iter().find(|d| d.name == "interaction_pairs").map(|d| d.value);
        assert!(pairs >= Some(1.0), "the screen found it: {pairs:?}");
        assert!(r.final_results.score > 0.8, "held out {}", r.final_results.score);
    }
}

#[test]
fn friedman_one_finds_all_five_informative_columns() {
    let fr = friedman1(1500, 200, 1.0, 4);
    let r = select(&fr.ds, &SelectOptions::default());
    let picked = chosen(&r);
    assert!(fr.informative.iter().all(|c| picked.contains(c)), "{:?} not all in {picked:?}", fr.informative);
    assert!(r.final_results.score > 0.8, "held-out R² {}", r.final_results.score);
    let names: Vec<&str> = r.final_results.validation.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["r2", "rmse", "mae"]);
    let r2 = r.final_results.validation.metrics[0].value;
    assert!((r2 - r.final_results.score).abs() < 1e-9, "one holdout: the pooled R² is the score");
}

#[test]
fn the_final_size_follows_the_signal() {
    // Signal in five columns: five to eight are kept, the five among them.
    let fr = friedman1(1500, 200, 1.0, 8);
    let r = select(&fr.ds, &SelectOptions::default());
    let picked = chosen(&r);
    let choice = &r.final_results.size_choice;
    assert_eq!(choice.rule, "auto");
    assert!((5..=8).contains(&picked.len()), "{} kept: {}", picked.len(), choice.description);
    assert!(fr.informative.iter().all(|c| picked.contains(c)), "{:?} not all in {picked:?}", fr.informative);
    assert_eq!(choice.chosen as usize, picked.len());
    assert!(choice.curve.iter().any(|p| p.size as usize == picked.len()), "the chosen size is on the curve");
    // Diffuse signal over 30 columns: far more than a handful are kept, nearly all of them useful.
    let d = diffuse_linear(1200, 150, 30, 2.0, 9);
    let r = select(&d.ds, &SelectOptions::default());
    let picked = chosen(&r);
    let useful = picked.iter().filter(|c| d.informative.contains(c)).count();
    assert!(picked.len() >= 18, "{} kept: {}", picked.len(), r.final_results.size_choice.description);
    assert!(useful as f64 >= 0.8 * picked.len() as f64, "{useful} of {} useful", picked.len());
    // --k3 still fixes it.
    let mut fixed = SelectOptions::default();
    fixed.evaluate.size = hsof_select::FinalSize::Fixed(7);
    let r = select(&d.ds, &fixed);
    assert_eq!(r.final_results.selected_features.len(), 7);
    assert_eq!(r.final_results.size_choice.rule, "fixed");
}

#[test]
fn permuting_the_columns_changes_nothing() {
    let m = madelon(600, 120, 4, 6, 2, 2, 1.0, 0.02, 21);
    let opts = SelectOptions {
        evaluate: hsof_select::EvaluateOptions { outer: OuterValidation::Holdout(0.25), ..Default::default() },
        ..SelectOptions::default()
    };
    let a = select(&m.ds, &opts);
    // Reverse the columns, then rotate them.
    let f = m.ds.n_features();
    let order: Vec<usize> = (0..f).rev().map(|j| (j + 37) % f).collect();
    let b = select(&canonical::permuted(&m.ds, &order), &opts);
    let names =
        |r: &SelectionReport| r.final_results.selected_features.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&a), names(&b));
    assert_eq!(a.final_results.score, b.final_results.score);
    assert_eq!(a.final_results.validation, b.final_results.validation);
    // Indices are the input's positions: each name maps back through the permutation.
    for (sa, sb) in a.final_results.selected_features.iter().zip(&b.final_results.selected_features) {
        assert_eq!(order[sb.index as usize], sa.index as usize);
    }
}

//! Shared test helpers: a seeded synthetic generator in the manner of scikit-learn's
//! `make_classification`, and a linear "explained by" check.
#![allow(dead_code, clippy::needless_range_loop)] // index loops read clearer in the small solver

use hsof_select::{ColumnMatrix, Dataset, PrepSummary, ProblemType, Target};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A generated dataset and where its informative and redundant columns went after shuffling.
pub struct Synthetic {
    pub ds: Dataset,
    pub informative: Vec<usize>,
    pub redundant: Vec<usize>,
}

fn normal(rng: &mut ChaCha8Rng) -> f32 {
    // Box-Muller.
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen::<f64>();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}

/// `n` rows, `features` columns: `informative` columns whose class means differ (each by 0.3 to 0.8
/// standard deviations for two classes; uniform in ±0.6 per class otherwise) plus unit Gaussian
/// noise; `redundant` columns that are random linear combinations (weights in -1..1) of the
/// informative ones, as scikit-learn makes them; the rest pure noise. Column order is shuffled.
pub fn make_classification(
    n: usize,
    features: usize,
    informative: usize,
    redundant: usize,
    classes: usize,
    seed: u64,
) -> Synthetic {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut codes: Vec<u32> = (0..n).map(|i| (i % classes) as u32).collect();
    codes.shuffle(&mut rng);
    let centroids: Vec<Vec<f32>> = if classes == 2 {
        let s: Vec<f32> = (0..informative)
            .map(|_| rng.gen_range(0.15f32..0.4) * if rng.gen::<bool>() { 1.0 } else { -1.0 })
            .collect();
        vec![s.iter().map(|v| -v).collect(), s]
    } else {
        (0..classes).map(|_| (0..informative).map(|_| rng.gen_range(-0.6f32..0.6)).collect()).collect()
    };
    let mut cols: Vec<Vec<f32>> = Vec::with_capacity(features);
    for j in 0..informative {
        cols.push(codes.iter().map(|c| centroids[*c as usize][j] + normal(&mut rng)).collect());
    }
    for _ in 0..redundant {
        let w: Vec<f32> = (0..informative).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
        cols.push((0..n).map(|i| (0..informative).map(|j| w[j] * cols[j][i]).sum()).collect());
    }
    while cols.len() < features {
        cols.push((0..n).map(|_| normal(&mut rng)).collect());
    }
    let mut order: Vec<usize> = (0..features).collect();
    order.shuffle(&mut rng);
    // order[new] = old; find where each old column went.
    let mut position = vec![0; features];
    for (new, old) in order.iter().enumerate() {
        position[*old] = new;
    }
    let shuffled: Vec<Vec<f32>> = order.iter().map(|&old| cols[old].clone()).collect();
    let ds = Dataset {
        name: "synthetic".into(),
        source: "memory".into(),
        feature_names: (0..features).map(|j| format!("f{j}")).collect(),
        features: ColumnMatrix::from_columns(n, shuffled),
        target_name: "y".into(),
        target: Target::Classes { codes, labels: (0..classes).map(|c| c.to_string()).collect() },
        problem: if classes == 2 { ProblemType::BinaryClassification } else { ProblemType::MulticlassClassification },
        prep: PrepSummary::default(),
    };
    Synthetic {
        ds,
        informative: (0..informative).map(|j| position[j]).collect(),
        redundant: (informative..informative + redundant).map(|j| position[j]).collect(),
    }
}

/// R² of the least-squares fit of column `target` on `predictors` (with intercept).
pub fn r_squared(x: &ColumnMatrix, target: usize, predictors: &[usize]) -> f64 {
    let n = x.n_rows;
    let y: Vec<f64> = x.column(target).iter().map(|v| f64::from(*v)).collect();
    let mean_y = y.iter().sum::<f64>() / n as f64;
    let cols: Vec<Vec<f64>> = predictors
        .iter()
        .map(|&p| {
            let c: Vec<f64> = x.column(p).iter().map(|v| f64::from(*v)).collect();
            let m = c.iter().sum::<f64>() / n as f64;
            c.iter().map(|v| v - m).collect()
        })
        .collect();
    let d = cols.len();
    // Normal equations with a tiny ridge, solved by Gaussian elimination.
    let mut a = vec![vec![0.0; d + 1]; d];
    for i in 0..d {
        for j in 0..d {
            a[i][j] = cols[i].iter().zip(&cols[j]).map(|(p, q)| p * q).sum::<f64>() + if i == j { 1e-9 } else { 0.0 };
        }
        a[i][d] = cols[i].iter().zip(&y).map(|(p, q)| p * (q - mean_y)).sum();
    }
    for i in 0..d {
        let piv = (i..d).max_by(|r, s| a[*r][i].abs().total_cmp(&a[*s][i].abs())).unwrap_or(i);
        a.swap(i, piv);
        for r in 0..d {
            if r != i && a[i][i] != 0.0 {
                let f = a[r][i] / a[i][i];
                for c in i..=d {
                    a[r][c] -= f * a[i][c];
                }
            }
        }
    }
    let beta: Vec<f64> = (0..d).map(|i| if a[i][i] != 0.0 { a[i][d] / a[i][i] } else { 0.0 }).collect();
    let sst: f64 = y.iter().map(|v| (v - mean_y).powi(2)).sum();
    let sse: f64 = (0..n)
        .map(|r| {
            let pred: f64 = (0..d).map(|i| beta[i] * cols[i][r]).sum();
            (y[r] - mean_y - pred).powi(2)
        })
        .sum();
    1.0 - sse / sst
}

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

/// A standard normal draw (Box-Muller).
pub fn normal64(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

fn normal(rng: &mut ChaCha8Rng) -> f32 {
    normal64(rng) as f32
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
    let target = Target::Classes { codes, labels: (0..classes).map(|c| c.to_string()).collect() };
    let problem = if classes == 2 { ProblemType::BinaryClassification } else { ProblemType::MulticlassClassification };
    let (ds, position) = shuffled_dataset(n, cols, target, problem, &mut rng);
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

fn shuffled_dataset(
    n: usize,
    cols: Vec<Vec<f32>>,
    target: Target,
    problem: ProblemType,
    rng: &mut ChaCha8Rng,
) -> (Dataset, Vec<usize>) {
    let features = cols.len();
    let mut order: Vec<usize> = (0..features).collect();
    order.shuffle(rng);
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
        target,
        problem,
        prep: PrepSummary::default(),
        rows: Default::default(),
    };
    (ds, position)
}

/// Madelon-like data as scikit-learn's `make_classification` builds it (Guyon's generator):
/// for each class, `clusters` clusters of unit Gaussian points in `informative` dimensions,
/// centred on distinct vertices of the hypercube with side 2·`class_sep`, each cluster under
/// its own random linear map; `redundant` random linear combinations of the informative
/// columns, `repeated` copies of random informative or redundant ones, `flip` of the labels
/// flipped at random, the rest Gaussian noise, columns shuffled. `informative` in the result
/// lists the informative, `redundant` the redundant and repeated positions.
#[allow(clippy::too_many_arguments)]
pub fn madelon(
    n: usize,
    features: usize,
    informative: usize,
    redundant: usize,
    repeated: usize,
    clusters: usize,
    class_sep: f32,
    flip: f64,
    seed: u64,
) -> Synthetic {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let classes = 2;
    let k = informative;
    let total_clusters = classes * clusters;
    // Distinct hypercube vertices.
    let mut vertices: Vec<u64> = Vec::new();
    while vertices.len() < total_clusters {
        let v = rng.gen::<u64>() & ((1u64 << k.min(63)) - 1);
        if !vertices.contains(&v) {
            vertices.push(v);
        }
    }
    let mut codes = Vec::with_capacity(n);
    let mut inf: Vec<Vec<f32>> = vec![Vec::with_capacity(n); k];
    let maps: Vec<Vec<f32>> =
        (0..total_clusters).map(|_| (0..k * k).map(|_| rng.gen_range(-1.0f32..1.0)).collect()).collect();
    for i in 0..n {
        let cl = i % total_clusters;
        codes.push((cl / clusters) as u32);
        let z: Vec<f32> = (0..k).map(|_| normal(&mut rng)).collect();
        for d in 0..k {
            let mut v: f32 = (0..k).map(|e| z[e] * maps[cl][e * k + d]).sum();
            v += if vertices[cl] >> d & 1 == 1 { class_sep } else { -class_sep };
            inf[d].push(v);
        }
    }
    for c in codes.iter_mut() {
        if rng.gen_bool(flip) {
            *c = rng.gen_range(0..classes as u32);
        }
    }
    let mut cols = inf;
    for _ in 0..redundant {
        let w: Vec<f32> = (0..k).map(|_| rng.gen_range(-1.0f32..1.0)).collect();
        cols.push((0..n).map(|i| (0..k).map(|j| w[j] * cols[j][i]).sum()).collect());
    }
    for _ in 0..repeated {
        let src = rng.gen_range(0..k + redundant);
        cols.push(cols[src].clone());
    }
    while cols.len() < features {
        cols.push((0..n).map(|_| normal(&mut rng)).collect());
    }
    let target = Target::Classes { codes, labels: vec!["0".into(), "1".into()] };
    let (ds, position) = shuffled_dataset(n, cols, target, ProblemType::BinaryClassification, &mut rng);
    Synthetic {
        ds,
        informative: (0..k).map(|j| position[j]).collect(),
        redundant: (k..k + redundant + repeated).map(|j| position[j]).collect(),
    }
}

/// A pure interaction: the class is sign(x_a · x_b) (each uniform in ±1, so neither says
/// anything alone), with `flip` of the labels flipped, among `noise` uniform columns.
pub fn xor_pair(n: usize, noise: usize, flip: f64, seed: u64) -> Synthetic {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let cols: Vec<Vec<f32>> = (0..noise + 2).map(|_| (0..n).map(|_| rng.gen_range(-1.0f32..1.0)).collect()).collect();
    let codes: Vec<u32> = (0..n)
        .map(|i| {
            let c = u32::from(cols[0][i] * cols[1][i] > 0.0);
            if rng.gen_bool(flip) {
                1 - c
            } else {
                c
            }
        })
        .collect();
    let target = Target::Classes { codes, labels: vec!["neg".into(), "pos".into()] };
    let (ds, position) = shuffled_dataset(n, cols, target, ProblemType::BinaryClassification, &mut rng);
    Synthetic { ds, informative: vec![position[0], position[1]], redundant: Vec::new() }
}

/// Friedman #1 regression: y = 10·sin(π·x0·x1) + 20·(x2 - 0.5)² + 10·x3 + 5·x4 + N(0, noise²)
/// with every column uniform in 0..1 (x2 only acts through its square, x0 and x1 mostly through
/// their product), the rest noise.
pub fn friedman1(n: usize, features: usize, noise: f32, seed: u64) -> Synthetic {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let cols: Vec<Vec<f32>> = (0..features).map(|_| (0..n).map(|_| rng.gen::<f32>()).collect()).collect();
    let y: Vec<f32> = (0..n)
        .map(|i| {
            let x = |j: usize| cols[j][i];
            10.0 * (std::f32::consts::PI * x(0) * x(1)).sin()
                + 20.0 * (x(2) - 0.5).powi(2)
                + 10.0 * x(3)
                + 5.0 * x(4)
                + noise * normal(&mut rng)
        })
        .collect();
    let (ds, position) = shuffled_dataset(n, cols, Target::Continuous(y), ProblemType::Regression, &mut rng);
    Synthetic { ds, informative: (0..5).map(|j| position[j]).collect(), redundant: Vec::new() }
}

/// Balanced random labels on Gaussian noise: nothing to find.
pub fn random_labels(n: usize, features: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let cols: Vec<Vec<f32>> = (0..features).map(|_| (0..n).map(|_| normal(&mut rng)).collect()).collect();
    let mut codes: Vec<u32> = (0..n).map(|i| (i % 2) as u32).collect();
    codes.shuffle(&mut rng);
    let target = Target::Classes { codes, labels: vec!["0".into(), "1".into()] };
    shuffled_dataset(n, cols, target, ProblemType::BinaryClassification, &mut rng).0
}

/// Diffuse linear regression: y is the sum of `informative` unit Gaussian columns (each weight
/// 1, so each explains about 1 / (informative + noise²) of the variance) plus N(0, noise²),
/// among unit Gaussian noise columns: no handful of columns carries the signal.
pub fn diffuse_linear(n: usize, features: usize, informative: usize, noise: f32, seed: u64) -> Synthetic {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let cols: Vec<Vec<f32>> = (0..features).map(|_| (0..n).map(|_| normal(&mut rng)).collect()).collect();
    let y: Vec<f32> =
        (0..n).map(|i| (0..informative).map(|j| cols[j][i]).sum::<f32>() + noise * normal(&mut rng)).collect();
    let (ds, position) = shuffled_dataset(n, cols, Target::Continuous(y), ProblemType::Regression, &mut rng);
    Synthetic { ds, informative: (0..informative).map(|j| position[j]).collect(), redundant: Vec::new() }
}

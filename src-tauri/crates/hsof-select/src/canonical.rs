//! The order the stages see the columns in: a seeded, content-defined order, so that
//! permuting the input columns never changes a result.
//!
//! Every stage breaks ties by column position (two columns with the same relevance, two
//! subsets with the same score). Rather than make each tie-break order-free, the pipeline
//! puts the columns in one canonical order first: by a seeded 64-bit hash of the column's
//! name, then (for duplicate names) of its values, and maps the answer back to the input's
//! positions. Ties are thus broken by a seeded rule (another seed, another tie order), and
//! the same columns in any order give the same report.

use crate::data::{ColumnMatrix, Dataset};

/// FNV-1a over `bytes`, started from `seed`, finished with SplitMix64 so that similar
/// names land far apart.
fn hash(seed: u64, bytes: impl IntoIterator<Item = u8>) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Input positions in canonical order: `order[k]` is the input column at canonical `k`.
pub fn order(ds: &Dataset, seed: u64) -> Vec<usize> {
    let f = ds.n_features();
    let name_key: Vec<u64> = (0..f)
        .map(|j| hash(seed, ds.feature_names.get(j).map(String::as_bytes).unwrap_or_default().iter().copied()))
        .collect();
    let mut dup = vec![false; f];
    let mut sorted: Vec<usize> = (0..f).collect();
    sorted.sort_by_key(|&j| name_key[j]);
    for w in sorted.windows(2) {
        if name_key[w[0]] == name_key[w[1]] {
            dup[w[0]] = true;
            dup[w[1]] = true;
        }
    }
    // Values only where names collide: one pass over those columns.
    let value_key: Vec<u64> = (0..f)
        .map(|j| match dup[j] {
            true => hash(seed, ds.features.column(j).iter().flat_map(|v| v.to_bits().to_le_bytes())),
            false => 0,
        })
        .collect();
    let mut order: Vec<usize> = (0..f).collect();
    order.sort_by_key(|&j| (name_key[j], value_key[j], j));
    order
}

/// `ds` with its columns in `order` (a copy of the matrix; the rows are untouched).
pub fn permuted(ds: &Dataset, order: &[usize]) -> Dataset {
    let n = ds.n_rows();
    let mut values = Vec::with_capacity(ds.features.values.len());
    for &j in order {
        values.extend_from_slice(ds.features.column(j));
    }
    Dataset {
        feature_names: order.iter().map(|&j| ds.feature_names.get(j).cloned().unwrap_or_default()).collect(),
        features: ColumnMatrix { n_rows: n, n_cols: order.len(), values },
        ..ds.clone_without_features()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{PrepSummary, ProblemType, Target};

    fn ds(names: &[&str], cols: Vec<Vec<f32>>) -> Dataset {
        let n = cols[0].len();
        Dataset {
            name: "t".into(),
            source: "t".into(),
            feature_names: names.iter().map(|s| s.to_string()).collect(),
            features: ColumnMatrix::from_columns(n, cols),
            target_name: "y".into(),
            target: Target::Continuous((0..n).map(|i| i as f32).collect()),
            problem: ProblemType::Regression,
            prep: PrepSummary::default(),
            rows: Default::default(),
        }
    }

    #[test]
    fn the_order_follows_the_columns_not_their_positions() {
        let a = ds(&["a", "b", "c", "b"], vec![vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0, 6.0], vec![7.0, 8.0]]);
        let b = ds(&["b", "c", "b", "a"], vec![vec![7.0, 8.0], vec![5.0, 6.0], vec![3.0, 4.0], vec![1.0, 2.0]]);
        let (pa, pb) = (permuted(&a, &order(&a, 1)), permuted(&b, &order(&b, 1)));
        assert_eq!(pa.feature_names, pb.feature_names);
        assert_eq!(pa.features, pb.features);
        // Another seed, another (still column-defined) order.
        let orders: std::collections::HashSet<Vec<usize>> = (0..8).map(|s| order(&a, s)).collect();
        assert!(orders.len() > 1);
    }
}

//! Categorical groups: the one-hot level columns `name=level` of one text column are one
//! feature to the selection. Stage 1 scores the variable as a whole (the mutual information of
//! its level code with the target, not of each level alone) and keeps or drops it whole; stage
//! 3 builds its candidate subsets from whole groups and counts a group as one feature. A final
//! set therefore holds every level of a categorical column or none.
//!
//! Groups come from the dataset's names: the columns the loader encoded are listed in
//! [`crate::data::PrepSummary::encoded_columns`] and named `name=level`, so the grouping
//! survives any reordering or row subset of the dataset (canonical order, outer folds, shards).

use crate::data::Dataset;

/// Which columns of a dataset form one selection unit.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Groups {
    /// Unit of each column.
    unit: Vec<usize>,
    /// Columns of each unit, in column order.
    members: Vec<Vec<usize>>,
}

impl Groups {
    /// Groups of `ds`: each encoded text column's levels together, every other column alone.
    pub fn of(ds: &Dataset) -> Self {
        let f = ds.n_features();
        // The longest encoded name that prefixes a column's name (so `a` and `a=b`, both
        // encoded, do not claim each other's levels).
        let mut encoded: Vec<&str> = ds.prep.encoded_columns.iter().map(|e| e.name.as_str()).collect();
        encoded.sort_by_key(|n| std::cmp::Reverse(n.len()));
        let mut by_name: Vec<(usize, Vec<usize>)> = Vec::new();
        let mut unit = vec![usize::MAX; f];
        let mut members: Vec<Vec<usize>> = Vec::new();
        for (j, name) in ds.feature_names.iter().enumerate().take(f) {
            let owner = encoded
                .iter()
                .position(|e| name.len() > e.len() && name.starts_with(e) && name.as_bytes()[e.len()] == b'=');
            match owner {
                Some(o) => match by_name.iter().position(|(e, _)| *e == o) {
                    Some(g) => by_name[g].1.push(j),
                    None => by_name.push((o, vec![j])),
                },
                None => {
                    unit[j] = members.len();
                    members.push(vec![j]);
                }
            }
        }
        for (_, cols) in by_name {
            for &c in &cols {
                unit[c] = members.len();
            }
            members.push(cols);
        }
        for (j, u) in unit.iter_mut().enumerate() {
            if *u == usize::MAX {
                *u = members.len();
                members.push(vec![j]);
            }
        }
        Self { unit, members }
    }

    /// The same groups with the columns for which `keep` is false taken out of them (each
    /// left on its own): a level constant in these rows (low variance, no relevance) is not
    /// carried into a subset with its group.
    pub fn only(mut self, keep: impl Fn(usize) -> bool) -> Self {
        for j in 0..self.unit.len() {
            let u = self.unit[j];
            if !keep(j) && self.members[u].len() > 1 {
                self.members[u].retain(|&c| c != j);
                self.unit[j] = self.members.len();
                self.members.push(vec![j]);
            }
        }
        self
    }

    /// Groups of more than one column (the ones that change anything).
    pub fn multi(&self) -> impl Iterator<Item = &[usize]> {
        self.members.iter().filter(|m| m.len() > 1).map(Vec::as_slice)
    }

    /// True when every unit is a single column.
    pub fn is_trivial(&self) -> bool {
        self.multi().next().is_none()
    }

    /// The columns of `c`'s unit.
    pub fn members_of(&self, c: usize) -> &[usize] {
        self.unit.get(c).map(|&u| self.members[u].as_slice()).unwrap_or_default()
    }

    /// Number of units that `cols` touch.
    pub fn count_units(&self, cols: &[usize]) -> usize {
        let mut units: Vec<usize> = cols.iter().filter_map(|c| self.unit.get(*c).copied()).collect();
        units.sort_unstable();
        units.dedup();
        units.len()
    }

    /// Every column of every unit that `cols` touch, sorted.
    pub fn close(&self, cols: &[usize]) -> Vec<usize> {
        let mut out: Vec<usize> = cols.iter().flat_map(|&c| self.members_of(c).iter().copied()).collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The first `size` units met along `order`, as their columns (sorted).
    pub fn take_units(&self, order: &[usize], size: usize) -> Vec<usize> {
        let mut taken: Vec<usize> = Vec::new();
        let mut out = Vec::new();
        for &c in order {
            if taken.len() >= size {
                break;
            }
            let Some(&u) = self.unit.get(c) else { continue };
            if !taken.contains(&u) {
                taken.push(u);
                out.extend_from_slice(&self.members[u]);
            }
        }
        out.sort_unstable();
        out
    }

    /// `ranked` with each multi-column unit represented by its first column met (its other
    /// columns removed): the list the redundancy walk sees, so levels of one text column
    /// (correlated with each other by construction) are never judged redundant to each other.
    pub fn representatives(&self, ranked: &[usize]) -> Vec<usize> {
        let mut seen = vec![false; self.members.len()];
        ranked
            .iter()
            .copied()
            .filter(|&c| match self.unit.get(c) {
                Some(&u) if !seen[u] => {
                    seen[u] = true;
                    true
                }
                Some(_) => false,
                None => true,
            })
            .collect()
    }

    /// `kept` (representatives) with each one's unit expanded in place, keeping the order.
    pub fn expand_in_order(&self, kept: &[usize]) -> Vec<usize> {
        kept.iter().flat_map(|&c| self.members_of(c).iter().copied()).collect()
    }
}

/// Miller–Madow corrected mutual information (nats) of a one-hot group's level code with
/// class codes: a row's code is the level whose column is set, or "none" (a missing cell).
pub fn group_mutual_information(ds: &Dataset, members: &[usize], classes: &[u32], n_classes: usize) -> f64 {
    let n = ds.n_rows();
    let nb = members.len() + 1;
    let mut code = vec![members.len(); n];
    for (l, &c) in members.iter().enumerate() {
        for (r, v) in ds.features.column(c).iter().enumerate() {
            if *v > 0.5 {
                code[r] = l;
            }
        }
    }
    let mut counts = vec![0u32; nb * n_classes];
    for (b, k) in code.iter().zip(classes) {
        counts[b * n_classes + *k as usize] += 1;
    }
    crate::stage1::mi::mi_from_counts(&counts, nb, n_classes, n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{ColumnMatrix, EncodedColumn, ProblemType, Target};

    fn dataset(names: &[&str], encoded: &[&str]) -> Dataset {
        let n = 4;
        let columns = names.iter().map(|_| vec![0.0; n]).collect();
        let mut ds = Dataset {
            name: "t".into(),
            source: "t.csv".into(),
            feature_names: names.iter().map(|s| s.to_string()).collect(),
            features: ColumnMatrix::from_columns(n, columns),
            target_name: "y".into(),
            target: Target::Continuous(vec![0.0; n]),
            problem: ProblemType::Regression,
            prep: Default::default(),
            rows: Default::default(),
        };
        ds.prep.encoded_columns = encoded.iter().map(|e| EncodedColumn { name: e.to_string(), levels: 2 }).collect();
        ds
    }

    #[test]
    fn levels_of_one_text_column_form_one_unit_and_others_stay_alone() {
        let ds = dataset(&["x", "city=a", "age=missing", "city=b", "a=b=c", "a=d", "city=c"], &["city", "a", "a=b"]);
        let g = Groups::of(&ds);
        assert_eq!(g.members_of(3), &[1, 3, 6]);
        assert_eq!(g.members_of(2), &[2], "a numeric column's missing indicator is not a level");
        assert_eq!(g.members_of(4), &[4], "`a=b=c` belongs to the encoded column `a=b`, not to `a`");
        assert_eq!(g.members_of(5), &[5]);
        assert_eq!(g.count_units(&[0, 1, 6]), 2);
        assert_eq!(g.close(&[6, 0]), vec![0, 1, 3, 6]);
        assert_eq!(g.take_units(&[6, 2, 1, 0], 2), vec![1, 2, 3, 6]);
        assert_eq!(g.representatives(&[3, 0, 1, 6, 2]), vec![3, 0, 2]);
        assert_eq!(g.expand_in_order(&[3, 0, 2]), vec![1, 3, 6, 0, 2]);
        assert!(!g.is_trivial());
        let g = g.only(|c| c != 3);
        assert_eq!(g.close(&[1]), vec![1, 6]);
        assert_eq!(g.members_of(3), &[3]);
        assert!(Groups::of(&dataset(&["x", "y=1"], &[])).is_trivial());
    }
}

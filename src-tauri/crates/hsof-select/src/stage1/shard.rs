//! Stage 1 across processes (Kubernetes pods): each shard computes the per-column part of
//! stage 1 — statistics and relevance, [`super::column_facts`] — for its block of columns
//! and for every selection pass the run will make (each outer training part, then every
//! row), and writes it as JSON; the run that merges them does the cross-column part
//! (interaction screen, redundancy) and stages 2 and 3. The passes are planned from the
//! rows and the target alone ([`crate::outer::plan`]), so every shard plans the same ones,
//! and the facts are keyed by column name: the merged run keeps the same columns and
//! selects the same features as a run in one process with the same seed.
//!
//! Blocks are contiguous runs of the file's feature columns ([`blocks`]): each shard reads
//! only its columns (Parquet column-wise), so a shard's memory is its block's, and the
//! columns are where the work is (rows × columns, and columns grow fastest in this data).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::backend::{select_backend, ColumnStats};
use crate::data::Dataset;
use crate::error::{Result, SelectError};
use crate::options::SelectOptions;
use crate::progress::{CancelToken, Ctl, Progress, Stage};

/// One column's stage-1 facts in one pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnFacts {
    /// Mean.
    pub mean: f64,
    /// Population variance.
    pub variance: f64,
    /// Relevance to the target; absent for columns without enough variance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relevance: Option<f64>,
}

/// The facts of one selection pass (an outer training part, or every row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PassFacts {
    /// Rows the pass selects on.
    pub rows: usize,
    /// By feature name.
    pub columns: BTreeMap<String, ColumnFacts>,
}

impl PassFacts {
    /// Statistics and relevance (`NaN` when absent) for `names`, in that order; an error
    /// naming a column no shard covered.
    pub fn for_columns(&self, names: &[String], source: &str) -> Result<(Vec<ColumnStats>, Vec<f64>)> {
        let mut stats = Vec::with_capacity(names.len());
        let mut relevance = Vec::with_capacity(names.len());
        for n in names {
            let f = self.columns.get(n).ok_or_else(|| {
                SelectError::invalid(
                    source,
                    None,
                    format!("no stage-1 shard computed column `{n}`: the shards do not cover this file's columns"),
                )
            })?;
            stats.push(ColumnStats { mean: f.mean, variance: f.variance });
            relevance.push(f.relevance.unwrap_or(f64::NAN));
        }
        Ok((stats, relevance))
    }

    /// The facts of several shards' blocks of one pass, merged.
    fn merge(parts: impl IntoIterator<Item = PassFacts>) -> Result<Self> {
        let mut out: Option<PassFacts> = None;
        for p in parts {
            match &mut out {
                None => out = Some(p),
                Some(o) => {
                    if o.rows != p.rows {
                        return Err(SelectError::InvalidOptions {
                            option: "stage1 shards",
                            reason: format!("shards disagree on a pass's rows ({} and {}): were they run on the same file and options?", o.rows, p.rows),
                        });
                    }
                    for (k, v) in p.columns {
                        if o.columns.insert(k.clone(), v).is_some() {
                            return Err(SelectError::InvalidOptions {
                                option: "stage1 shards",
                                reason: format!("column `{k}` is in two shards"),
                            });
                        }
                    }
                }
            }
        }
        out.ok_or_else(|| SelectError::InvalidOptions { option: "stage1 shards", reason: "no shard".into() })
    }
}

/// What one shard writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardFacts {
    /// This shard's index, from 0.
    pub shard: u32,
    /// How many shards.
    pub shards: u32,
    /// The seed the passes were planned with.
    pub seed: u64,
    /// Source columns this shard read.
    pub source_columns: Vec<String>,
    /// One per selection pass, in the run's order.
    pub passes: Vec<PassFacts>,
}

/// The file name of shard `i` of `n` in the shards' folder.
pub fn file_name(i: u32, n: u32) -> String {
    format!("stage1-shard-{i}-of-{n}.json")
}

/// Shard `i`'s block of `columns` (the file's feature columns, in file order) when cut in
/// `n` contiguous blocks of sizes differing by at most one.
pub fn blocks(columns: &[String], i: u32, n: u32) -> Vec<String> {
    let (len, n, i) = (columns.len(), n.max(1) as usize, i as usize);
    let start = i * len / n;
    let end = (i + 1) * len / n;
    columns.get(start..end.min(len)).map(<[String]>::to_vec).unwrap_or_default()
}

/// Computes the facts of `dataset` (one shard's columns) for every pass the run with
/// `opts` will make.
pub fn facts(
    dataset: &Dataset,
    opts: &SelectOptions,
    progress: &dyn Fn(Progress),
    cancel: &CancelToken,
) -> Result<Vec<PassFacts>> {
    opts.validate()?;
    let backend = select_backend(opts.backend)?;
    let pool = crate::pipeline::thread_pool(opts.threads)?;
    let plan = crate::outer::plan(&dataset.target, &dataset.rows, opts.evaluate.outer, opts.seed);
    let holdout = plan.scheme == "holdout";
    let mut parts: Vec<Option<&Vec<usize>>> = plan.splits.iter().map(|(train, _)| Some(train)).collect();
    if !holdout {
        parts.push(None);
    }
    let total = parts.len();
    let mut out = Vec::with_capacity(total);
    for (i, rows) in parts.into_iter().enumerate() {
        let report = |p: Progress| {
            progress(Progress {
                stage: Stage::Filter,
                fraction: (i as f32 + p.fraction) / total as f32,
                message: format!("shard pass {}/{total}: {}", i + 1, p.message),
            })
        };
        let ctl = Ctl { progress: &report, cancel, pool: pool.as_ref() };
        let part;
        let ds = match rows {
            Some(r) => {
                part = dataset.take_rows(r);
                &part
            }
            None => dataset,
        };
        ctl.report(
            Stage::Filter,
            0.0,
            format!("statistics and relevance of {} columns on {} rows", ds.n_features(), ds.n_rows()),
        );
        let (stats, relevance) = super::column_facts(ds, &opts.filter, backend.as_ref(), &ctl)?;
        let columns = ds
            .feature_names
            .iter()
            .zip(stats.iter().zip(&relevance))
            .map(|(n, (s, r))| {
                (n.clone(), ColumnFacts { mean: s.mean, variance: s.variance, relevance: (!r.is_nan()).then_some(*r) })
            })
            .collect();
        out.push(PassFacts { rows: ds.n_rows(), columns });
        ctl.report(Stage::Filter, 1.0, String::from("done"));
    }
    Ok(out)
}

/// Reads the `n` shards' files from `dir` and merges them pass by pass; an error names a
/// missing, unreadable or mismatched shard.
pub fn read_merged(dir: &Path, n: u32, seed: u64) -> Result<Vec<PassFacts>> {
    let mut shards = Vec::with_capacity(n as usize);
    for i in 0..n {
        let path = dir.join(file_name(i, n));
        let text = std::fs::read_to_string(&path).map_err(|e| SelectError::io(&path, e))?;
        let s: ShardFacts = serde_json::from_str(&text).map_err(|e| {
            SelectError::invalid(&path.display().to_string(), None, format!("not a stage-1 shard file: {e}"))
        })?;
        if s.shard != i || s.shards != n || s.seed != seed {
            return Err(SelectError::invalid(
                &path.display().to_string(),
                None,
                format!(
                    "is shard {} of {} with seed {}, expected shard {i} of {n} with seed {seed}",
                    s.shard, s.shards, s.seed
                ),
            ));
        }
        shards.push(s);
    }
    let passes = shards.first().map_or(0, |s| s.passes.len());
    if shards.iter().any(|s| s.passes.len() != passes) {
        return Err(SelectError::InvalidOptions {
            option: "stage1 shards",
            reason: "the shards planned different passes: were they run with the same options?".into(),
        });
    }
    let mut per_pass: Vec<Vec<PassFacts>> = (0..passes).map(|_| Vec::new()).collect();
    for s in shards {
        for (k, p) in s.passes.into_iter().enumerate() {
            per_pass[k].push(p);
        }
    }
    per_pass.into_iter().map(PassFacts::merge).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cover_every_column_once_in_order() {
        let cols: Vec<String> = (0..10).map(|i| format!("c{i}")).collect();
        for n in 1..=12u32 {
            let all: Vec<String> = (0..n).flat_map(|i| blocks(&cols, i, n)).collect();
            assert_eq!(all, cols, "{n} shards");
            let sizes: Vec<usize> = (0..n).map(|i| blocks(&cols, i, n).len()).collect();
            assert!(sizes.iter().max().unwrap_or(&0) - sizes.iter().min().unwrap_or(&0) <= 1, "{sizes:?}");
        }
    }
}

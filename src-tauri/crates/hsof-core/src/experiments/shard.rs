//! One shard of a sharded stage 1 (what pod *i* of the Indexed Job runs): read this
//! shard's block of the file's feature columns, compute their stage-1 facts for every
//! selection pass, write them atomically to `DIR/stage1-shard-I-of-N.json`.

use std::path::Path;

use hsof_select::stage1::shard::{self, ShardFacts};
use hsof_select::{LoadOptions, SelectError};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::{memory_limit_bytes, off_thread, DatasetFormat, ExperimentRequest, Progress, Stage};
use crate::Error;

/// What a shard wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ShardWritten {
    /// This shard, from 0.
    pub shard: u32,
    /// Of how many.
    pub shards: u32,
    /// Source columns it read.
    pub columns: usize,
    /// Selection passes it computed.
    pub passes: usize,
    /// The file written.
    pub path: String,
}

/// Computes shard `index` of `shards` of `request`'s stage 1 and writes it into `dir`.
pub async fn run_stage1_shard(
    request: ExperimentRequest,
    index: u32,
    shards: u32,
    dir: &Path,
    progress: impl Fn(Progress) + Send + Sync + 'static,
    cancel: &CancellationToken,
) -> Result<ShardWritten, Error> {
    if shards < 1 || index >= shards {
        return Err(Error::InvalidInput(format!("shard {index} of {shards}: the index must be below the count")));
    }
    let plan = request.plan()?;
    if plan.format == DatasetFormat::DatasetYaml {
        return Err(Error::InvalidInput("a sharded stage 1 reads a CSV or Parquet file".into()));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::InvalidInput(format!("cannot create {}: {e}", dir.display())))?;
    let dir = dir.to_path_buf();
    let token = cancel.clone();
    off_thread(move || -> Result<ShardWritten, Error> {
        let columns = hsof_select::preview_columns(&plan.input)?;
        let features: Vec<String> = columns
            .into_iter()
            .map(|c| c.name)
            .filter(|n| {
                *n != plan.target
                    && !plan.id_columns.contains(n)
                    && plan.group_column.as_ref() != Some(n)
                    && plan.time_column.as_ref() != Some(n)
            })
            .collect();
        let block = shard::blocks(&features, index, shards);
        progress(Progress {
            stage: Stage::Load,
            fraction: 0.0,
            message: format!(
                "shard {index} of {shards}: reading {} of {} feature columns",
                block.len(),
                features.len()
            ),
        });
        let load = LoadOptions {
            memory_limit_bytes: memory_limit_bytes(),
            group_column: plan.group_column.clone(),
            time_column: plan.time_column.clone(),
            features: Some(block.clone()),
            ..LoadOptions::default()
        };
        let ids: Vec<&str> = plan.id_columns.iter().map(String::as_str).collect();
        let ds = match plan.format {
            DatasetFormat::Parquet => hsof_select::load_parquet(&plan.input, &plan.target, &ids, &load)?,
            _ => hsof_select::load_csv(&plan.input, &plan.target, &ids, &load)?,
        };
        progress(Progress {
            stage: Stage::Load,
            fraction: 1.0,
            message: format!("{} rows × {} features", ds.n_rows(), ds.n_features()),
        });
        let passes = shard::facts(&ds, &plan.options, &progress, &token)?;
        let written =
            ShardFacts { shard: index, shards, seed: plan.options.seed, source_columns: block.clone(), passes };
        let path = dir.join(shard::file_name(index, shards));
        let json = serde_json::to_vec(&written).map_err(|e| Error::Unavailable(e.to_string()))?;
        let io = |p: &Path, e: std::io::Error| SelectError::Io { path: p.display().to_string(), source: e };
        let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| io(&dir, e))?;
        std::io::Write::write_all(&mut tmp, &json).map_err(|e| io(&path, e))?;
        tmp.persist(&path).map_err(|e| io(&path, e.error))?;
        Ok(ShardWritten {
            shard: index,
            shards,
            columns: block.len(),
            passes: written.passes.len(),
            path: path.display().to_string(),
        })
    })
    .await?
}

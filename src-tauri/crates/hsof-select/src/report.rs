//! The result of a run, in the spirit of HSOF's results JSON, and its atomic writer.
//!
//! Counts are `u32` and scores `f64` so the TypeScript bindings (specta) are plain numbers. Times are
//! measured with a monotonic clock and only reported; they never influence the selection.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::data::{PrepSummary, ProblemType};
use crate::error::{Result, SelectError};
use crate::options::SelectOptions;
use crate::progress::Stage;
use crate::stage3::models::ModelFamily;

/// Everything a run produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SelectionReport {
    /// How the pipeline ran.
    pub pipeline_info: PipelineInfo,
    /// What it ran on.
    pub dataset_info: DatasetInfo,
    /// Stage 1, 2 and 3 in order.
    pub stages: Vec<StageReport>,
    /// The selected features and their score.
    pub final_results: FinalResults,
    /// Timings and throughput.
    pub performance: Performance,
    /// Options whose value had to be reduced to fit the data.
    pub clamps: Vec<Clamp>,
}

/// How the pipeline ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct PipelineInfo {
    /// Engine version (this crate's).
    pub version: String,
    /// Backend that ran the kernels: `cpu` (or `gpu` once it exists).
    pub backend: String,
    /// The options as given.
    pub options: SelectOptions,
    /// Worker threads used.
    pub threads: u32,
}

/// What the run ran on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct DatasetInfo {
    /// Dataset name.
    pub name: String,
    /// Path (or `path#table`).
    pub source: String,
    /// Rows used.
    pub rows: u32,
    /// Feature columns after preparation.
    pub features: u32,
    /// Target column.
    pub target: String,
    /// Problem type.
    pub problem_type: ProblemType,
    /// Class labels (empty for regression).
    pub classes: Vec<String>,
    /// What preparation did (missing values, encoded and skipped columns).
    pub preparation: PrepSummary,
}

/// One stage's counts and time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct StageReport {
    /// The stage.
    pub stage: Stage,
    /// Columns in.
    pub input_features: u32,
    /// Columns out.
    pub output_features: u32,
    /// Wall time.
    pub seconds: f64,
    /// Stage-specific facts, as `(name, value)` pairs in a stable order.
    pub details: Vec<Detail>,
}

/// A named number of a stage's details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Detail {
    /// What it is.
    pub name: String,
    /// Its value.
    pub value: f64,
}

impl Detail {
    pub(crate) fn new(name: &str, value: impl Into<f64>) -> Self {
        Self { name: name.to_string(), value: value.into() }
    }
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct FinalResults {
    /// Selected features, most important first.
    pub selected_features: Vec<SelectedFeature>,
    /// Model family that scored best.
    pub model: ModelFamily,
    /// `accuracy` or `r2`.
    pub metric: String,
    /// The honest score: measured on rows no selection decision saw (the mean over
    /// [`Validation::fold_scores`]); see [`FinalResults::validation`] for the scheme.
    pub score: f64,
    /// Standard deviation of the outer fold scores (0 for a single holdout).
    pub score_std: f64,
    /// Stage 3's folds (inner cross-validation).
    pub folds: u32,
    /// How the score was measured: the outer scheme, per-fold scores, and the inner
    /// (selection-biased) score of the final subset for comparison.
    #[serde(default)]
    pub validation: Validation,
    /// Every (subset, model) pair stage 3 evaluated.
    pub candidates: Vec<CandidateReport>,
    /// How the final size was chosen (empty in reports written before round 3).
    #[serde(default)]
    pub size_choice: SizeChoice,
}

/// How stage 3 chose the final size, for the report and the Experiments screen.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, specta::Type)]
pub struct SizeChoice {
    /// `fixed` (--k3), `range` (every size of a range) or `auto` (a grid up to a bound).
    pub rule: String,
    /// The choice in words.
    pub description: String,
    /// Each size tried and its best candidate's inner CV score (the selection's own rows).
    pub curve: Vec<SizePoint>,
    /// The best inner CV score over every size.
    pub best_score: f64,
    /// The bar a smaller size had to reach: the best score less one standard error.
    pub threshold: f64,
    /// The size chosen.
    pub chosen: u32,
}

/// One size of the size curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SizePoint {
    /// Features in the subset.
    pub size: u32,
    /// Its best candidate's mean inner CV score.
    pub score: f64,
    /// Standard deviation over the folds.
    pub score_std: f64,
    /// That candidate's model.
    pub model: ModelFamily,
    /// Where that subset came from.
    pub origin: String,
}

/// A selected feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SelectedFeature {
    /// Column name.
    pub name: String,
    /// Column index in the prepared dataset.
    pub index: u32,
    /// Permutation importance (mean score drop when shuffled).
    pub importance: f64,
    /// Stage-1 relevance (mutual information in nats).
    pub relevance: f64,
    /// Share of the outer folds whose own selection also chose this feature (selection
    /// stability, 0..=1); `None` when there were no outer folds (a single holdout).
    #[serde(default)]
    pub stability: Option<f64>,
}

/// How the reported score was measured.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, specta::Type)]
pub struct Validation {
    /// `nested_folds`, `holdout` or `none` (too few rows to hold any out).
    pub scheme: String,
    /// The scheme in words, e.g. "3 outer stratified folds around stages 1-3; each
    /// selection scored on its held-out fold".
    pub description: String,
    /// Score on each outer fold's held-out rows (one for a holdout).
    pub fold_scores: Vec<f64>,
    /// Rows held out per fold.
    pub held_out_rows: Vec<u32>,
    /// Stage 3's own cross-validated score of the final subset. It chose the subset on
    /// those folds, after stages 1 and 2 saw every row, so it is optimistic.
    pub inner_score: f64,
    /// Standard deviation of the inner fold scores.
    pub inner_score_std: f64,
    /// Metrics on the pooled held-out predictions ([`crate::metrics`]): accuracy, balanced
    /// accuracy, and ROC-AUC and log-loss when the model gives probabilities; or R², RMSE and
    /// MAE. Empty when no rows were held out.
    #[serde(default)]
    pub metrics: Vec<Detail>,
}

/// A stage-3 candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct CandidateReport {
    /// `greedy`, `search_order` or `search_best`.
    pub origin: String,
    /// Model family.
    pub model: ModelFamily,
    /// Feature names.
    pub features: Vec<String>,
    /// Mean CV score.
    pub score: f64,
    /// Standard deviation over folds.
    pub score_std: f64,
}

/// Timings and throughput.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Performance {
    /// Whole run.
    pub total_seconds: f64,
    /// Stage-1 matrix cells (rows x input columns) per second.
    pub filter_cells_per_second: f64,
}

/// An option reduced to what the data allows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Clamp {
    /// The option.
    pub option: String,
    /// Asked for.
    pub requested: u32,
    /// Used.
    pub used: u32,
}

/// Writes the report as pretty JSON atomically: to a temporary file in the same folder, flushed and
/// synced, then renamed over `path`, so a failed or cancelled run never leaves a half-written file.
pub fn write_report_json(path: &Path, report: &SelectionReport) -> Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file_name = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| "report".into());
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let json = serde_json::to_vec_pretty(report).map_err(|e| SelectError::io(path, std::io::Error::other(e)))?;
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&json)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        SelectError::io(path, e)
    })
}

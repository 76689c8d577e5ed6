//! Datasets: loading (CSV, Parquet, SQLite through HSOF's dataset YAML), preparation into a
//! column-major `f32` matrix, and a cheap column preview for the UI.
//!
//! Preparation rules (the same for every source, see [`builder`]):
//! - **Missing values**: empty cells, `NA`, `N/A`, `NaN`, `null`, `None`, `?` (any case), SQL `NULL`,
//!   and non-finite numbers (`inf`, `-inf`, and numbers beyond `f32`'s range of about ±3.4e38, which the
//!   `f32` matrix cannot hold) are missing. Numeric features get the column's median
//!   of finite values; each imputed cell is counted in [`PrepSummary::missing_values`]. A feature with
//!   no finite value at all is dropped and listed in [`PrepSummary::all_missing_columns`].
//! - **Rows with a missing target** are dropped and counted in [`PrepSummary::rows_dropped_missing_target`].
//! - **Text features**: a column with at most [`LoadOptions::one_hot_max_levels`] distinct values is
//!   one-hot encoded into `name=level` columns (a missing cell gives all zeros); a column with more
//!   levels is skipped and listed in [`PrepSummary::skipped_columns`].
//! - **Problem type** (when not given): a text target, or an integer-valued numeric target with at most
//!   [`LoadOptions::max_auto_classes`] distinct values, is classification (binary for two classes,
//!   multiclass otherwise); any other numeric target is regression.

pub(crate) mod builder;
pub mod csv;
pub mod parquet;
pub mod preview;
pub mod sqlite;

use serde::{Deserialize, Serialize};

/// Column-major matrix of `f32`: column `j` is `values[j * n_rows..(j + 1) * n_rows]`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ColumnMatrix {
    /// Number of rows.
    pub n_rows: usize,
    /// Number of columns.
    pub n_cols: usize,
    /// The values, one column after another.
    pub values: Vec<f32>,
}

impl ColumnMatrix {
    /// Builds a matrix from whole columns (all of length `n_rows`).
    pub fn from_columns(n_rows: usize, columns: Vec<Vec<f32>>) -> Self {
        let n_cols = columns.len();
        let mut values = Vec::with_capacity(n_rows * n_cols);
        for c in columns {
            debug_assert_eq!(c.len(), n_rows);
            values.extend(c);
        }
        Self { n_rows, n_cols, values }
    }

    /// Column `j` as a slice.
    pub fn column(&self, j: usize) -> &[f32] {
        &self.values[j * self.n_rows..(j + 1) * self.n_rows]
    }
}

/// What kind of learning problem the target defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ProblemType {
    /// Two classes.
    BinaryClassification,
    /// Three or more classes.
    MulticlassClassification,
    /// A continuous target.
    Regression,
}

impl ProblemType {
    /// HSOF's dataset YAML words (`binary_classification`, `multiclass_classification`, `regression`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "binary_classification" | "binary" => Some(Self::BinaryClassification),
            "multiclass_classification" | "multiclass" | "classification" => Some(Self::MulticlassClassification),
            "regression" => Some(Self::Regression),
            _ => None,
        }
    }

    /// True for both classification kinds.
    pub fn is_classification(self) -> bool {
        !matches!(self, Self::Regression)
    }
}

/// The prepared target.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Class codes `0..labels.len()` and the label of each code (sorted).
    Classes {
        /// One code per row.
        codes: Vec<u32>,
        /// Label of each code.
        labels: Vec<String>,
    },
    /// A continuous value per row.
    Continuous(Vec<f32>),
}

impl Target {
    /// Number of classes (0 for regression).
    pub fn n_classes(&self) -> usize {
        match self {
            Self::Classes { labels, .. } => labels.len(),
            Self::Continuous(_) => 0,
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Self::Classes { codes, .. } => codes.len(),
            Self::Continuous(v) => v.len(),
        }
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows of each class among `rows` (empty for a continuous target).
    pub fn class_counts(&self, rows: &[usize]) -> Vec<usize> {
        match self {
            Self::Classes { codes, labels } => {
                let mut counts = vec![0; labels.len()];
                for &r in rows {
                    counts[codes[r] as usize] += 1;
                }
                counts
            }
            Self::Continuous(_) => Vec::new(),
        }
    }

    /// The values at `rows`, in that order.
    pub fn take(&self, rows: &[usize]) -> Self {
        match self {
            Self::Classes { codes, labels } => {
                Self::Classes { codes: rows.iter().map(|&r| codes[r]).collect(), labels: labels.clone() }
            }
            Self::Continuous(y) => Self::Continuous(rows.iter().map(|&r| y[r]).collect()),
        }
    }
}

/// What preparation did to the raw table; copied into the report.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, specta::Type)]
pub struct PrepSummary {
    /// Data rows read from the source.
    pub rows_read: u32,
    /// Rows dropped because their target was missing.
    pub rows_dropped_missing_target: u32,
    /// Feature cells that were missing or non-finite and imputed (median for numeric).
    pub missing_values: u32,
    /// Numeric feature cells that were `inf`/`-inf` (also counted in `missing_values`).
    pub non_finite_values: u32,
    /// Text columns one-hot encoded, with the number of indicator columns each produced.
    pub encoded_columns: Vec<EncodedColumn>,
    /// Columns left out, with the reason (high cardinality, all missing, id column).
    pub skipped_columns: Vec<SkippedColumn>,
    /// Feature columns with no finite value at all (dropped).
    pub all_missing_columns: Vec<String>,
    /// Numeric columns with some missing cells that got a `<name>=missing` indicator
    /// column beside them (so missingness that carries signal can be selected).
    #[serde(default)]
    pub missing_indicators: Vec<String>,
}

/// A one-hot encoded text column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct EncodedColumn {
    /// The source column.
    pub name: String,
    /// Indicator columns produced (one per level).
    pub levels: u32,
}

/// A column that did not become a feature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct SkippedColumn {
    /// The source column.
    pub name: String,
    /// Why, in words.
    pub reason: String,
}

/// A dataset ready for selection.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Dataset name (file stem or the YAML's `name`).
    pub name: String,
    /// Where it came from (path, or `path#table` for SQLite).
    pub source: String,
    /// One name per feature column of [`Dataset::features`].
    pub feature_names: Vec<String>,
    /// Features, column-major.
    pub features: ColumnMatrix,
    /// The target column's name.
    pub target_name: String,
    /// The prepared target, one value per row.
    pub target: Target,
    /// Classification or regression.
    pub problem: ProblemType,
    /// What preparation did.
    pub prep: PrepSummary,
    /// How rows relate for validation (groups, or time order), when the source says.
    pub rows: RowOrder,
}

/// How the rows of a dataset relate, for validation: rows of one group (a patient, a
/// machine, a customer) are never split between training and held-out rows; rows in time
/// are held out after the rows they were trained on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RowOrder {
    /// The group column's name and each row's group code (0-based, by first appearance).
    pub groups: Option<(String, Vec<u32>)>,
    /// The time column's name and each row's time (seconds; any monotone unit).
    pub times: Option<(String, Vec<f64>)>,
}

impl RowOrder {
    /// The rows `rows` (in that order).
    pub fn take(&self, rows: &[usize]) -> Self {
        Self {
            groups: self.groups.as_ref().map(|(n, g)| (n.clone(), rows.iter().map(|&r| g[r]).collect())),
            times: self.times.as_ref().map(|(n, t)| (n.clone(), rows.iter().map(|&r| t[r]).collect())),
        }
    }

    /// Whether neither groups nor times are known.
    pub fn is_plain(&self) -> bool {
        self.groups.is_none() && self.times.is_none()
    }
}

impl Dataset {
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.features.n_rows
    }

    /// Number of feature columns.
    pub fn n_features(&self) -> usize {
        self.features.n_cols
    }

    /// Everything but the features (an empty matrix with the same rows), to build a
    /// variant of this dataset from.
    pub(crate) fn clone_without_features(&self) -> Self {
        Self {
            name: self.name.clone(),
            source: self.source.clone(),
            feature_names: Vec::new(),
            features: ColumnMatrix { n_rows: self.n_rows(), n_cols: 0, values: Vec::new() },
            target_name: self.target_name.clone(),
            target: self.target.clone(),
            problem: self.problem,
            prep: self.prep.clone(),
            rows: self.rows.clone(),
        }
    }

    /// The rows `rows` (in that order) of this dataset: features and target.
    pub fn take_rows(&self, rows: &[usize]) -> Self {
        let (n, f) = (self.n_rows(), self.n_features());
        let mut values = Vec::with_capacity(rows.len() * f);
        for j in 0..f {
            let col = &self.features.values[j * n..(j + 1) * n];
            values.extend(rows.iter().map(|&r| col[r]));
        }
        let target = self.target.take(rows);
        Self {
            feature_names: self.feature_names.clone(),
            features: ColumnMatrix { n_rows: rows.len(), n_cols: f, values },
            target,
            rows: self.rows.take(rows),
            ..self.clone_without_features()
        }
    }
}

/// Limits and rules for loading; the defaults are documented on each field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(default)]
pub struct LoadOptions {
    /// Refuse to load when the estimated memory need exceeds this (bytes). Default 4 GiB. The caller
    /// (the app or the CLI) passes what the machine can spare; this crate never reads system memory.
    #[specta(type = f64)]
    pub memory_limit_bytes: u64,
    /// Text columns with at most this many distinct values are one-hot encoded. Default 16.
    pub one_hot_max_levels: u32,
    /// Numeric integer targets with at most this many distinct values are classes. Default 20.
    pub max_auto_classes: u32,
    /// The problem type; `None` detects it (see the module documentation).
    pub problem: Option<ProblemType>,
    /// A column naming each row's group (not a feature): validation never puts rows of one
    /// group on both sides of a split.
    pub group_column: Option<String>,
    /// A column giving each row's time (numbers, or dates / RFC 3339 times; not a feature):
    /// validation scores on rows later than those it trained on.
    pub time_column: Option<String>,
    /// Only these source columns are read as features (the others are left to another
    /// process: a shard of stage 1); `None` reads every column.
    #[serde(default)]
    pub features: Option<Vec<String>>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            memory_limit_bytes: 4 << 30,
            one_hot_max_levels: 16,
            max_auto_classes: 20,
            problem: None,
            group_column: None,
            time_column: None,
            features: None,
        }
    }
}

/// True for the spellings of a missing cell (see the module documentation).
pub(crate) fn is_missing_token(s: &str) -> bool {
    let t = s.trim();
    t.is_empty() || ["na", "n/a", "nan", "null", "none", "?"].iter().any(|m| t.eq_ignore_ascii_case(m))
}

/// Bytes the loader and the pipeline need for `rows x cols` cells: the `f32` matrix, plus a working
/// copy of the same size for standardised columns and per-column scratch.
pub(crate) fn estimate_bytes(rows: u64, cols: u64) -> u64 {
    rows.saturating_mul(cols).saturating_mul(4 * 2)
}

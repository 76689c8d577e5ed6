//! HSOF feature selection on the CPU or an NVIDIA GPU: data loading, then three stages inside an
//! outer validation.
//!
//! 1. [`stage1`] filter: variance, relevance (mutual information with the class or the binned
//!    continuous target), an interaction screen of column pairs, redundancy (5000 -> 500 columns
//!    by default).
//! 2. [`stage2`] search: Monte Carlo tree search over subsets of the whole stage-1 pool, with a
//!    boosted-tree reward ([`gbt`]) that sees interactions (500 -> 50).
//! 3. [`stage3`] evaluation: stratified k-fold CV of candidate subsets with ridge, boosted trees
//!    and a random forest; best subset, permutation importance (50 -> 15).
//!
//! Around them, [`outer`]: the reported score comes from rows no selection decision saw (outer
//! folds or a holdout), with per-fold scores and each feature's selection stability; the columns
//! are first put in a seeded content-defined order ([`canonical`]) so their input order never
//! changes a result.
//!
//! No Tauri and no async runtime: [`run`] takes the data, the options (with the seed), a progress
//! callback and a cancellation token. Stage 1's heavy kernels go through [`Backend`]: [`CpuBackend`]
//! or [`cuda::CudaBackend`] (kernels in `kernels/*.cu`, compiled at run time by NVRTC).

#![warn(missing_docs)]

pub mod backend;
pub mod canonical;
mod cholesky;
#[allow(unsafe_code)] // kernel launches and loading the CUDA libraries; each `unsafe` says why it holds
pub mod cuda;
pub mod data;
mod error;
pub mod folds;
pub mod gbt;
pub mod groups;
pub mod metrics;
pub mod options;
pub mod outer;
mod pipeline;
mod progress;
pub mod report;
pub mod stage1;
pub mod stage2;
pub mod stage3;

pub use backend::{select_backend, Backend, ColumnStats, CpuBackend};
pub use data::csv::load_csv;
pub use data::parquet::load_parquet;
pub use data::preview::{preview_columns, ColumnKind, ColumnPreview};
pub use data::sqlite::{load_dataset_yaml, load_sqlite_table, DatasetConfig};
pub use data::{ColumnMatrix, Dataset, LoadOptions, PrepSummary, ProblemType, RowOrder, Target};
pub use error::{Result, SelectError};
pub use options::{
    BackendChoice, ClassWeight, EvaluateOptions, FilterOptions, FinalSize, KeepCount, OuterValidation, SearchOptions,
    SearchReward, SelectOptions,
};
pub use pipeline::{run, run_with_facts};
pub use progress::{CancelToken, Ctl, Progress, Stage};
pub use report::{write_report_json, SelectionReport};
pub use stage3::models::ModelFamily;

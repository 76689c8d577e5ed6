//! HSOF feature selection on the CPU or an NVIDIA GPU: data loading, then three stages.
//!
//! 1. [`stage1`] filter: variance, relevance (mutual information / F statistic), redundancy
//!    (5000 -> 500 columns by default).
//! 2. [`stage2`] search: Monte Carlo tree search over subsets with a fast cross-validated ridge
//!    evaluator (500 -> 50).
//! 3. [`stage3`] evaluation: stratified k-fold CV of candidate subsets with a ridge model and a random
//!    forest; best subset, score ± std, permutation importance (50 -> 15).
//!
//! No Tauri and no async runtime: [`run`] takes the data, the options (with the seed), a progress
//! callback and a cancellation token. Stage 1's heavy kernels go through [`Backend`]: [`CpuBackend`]
//! or [`cuda::CudaBackend`] (kernels in `kernels/*.cu`, compiled at run time by NVRTC).

#![warn(missing_docs)]

pub mod backend;
mod cholesky;
#[allow(unsafe_code)] // kernel launches and loading the CUDA libraries; each `unsafe` says why it holds
pub mod cuda;
pub mod data;
mod error;
pub mod folds;
pub mod options;
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
pub use data::{ColumnMatrix, Dataset, LoadOptions, PrepSummary, ProblemType, Target};
pub use error::{Result, SelectError};
pub use options::{BackendChoice, EvaluateOptions, FilterOptions, FinalSize, KeepCount, SearchOptions, SelectOptions};
pub use pipeline::run;
pub use progress::{CancelToken, Ctl, Progress, Stage};
pub use report::{write_report_json, SelectionReport};
pub use stage3::models::ModelFamily;

//! Turns a stream of raw cells (from CSV, Parquet or SQLite) into a [`Dataset`], applying the
//! preparation rules documented in [`crate::data`].

use std::collections::{HashMap, HashSet};

use super::{
    is_missing_token, ColumnMatrix, Dataset, EncodedColumn, LoadOptions, PrepSummary, ProblemType, RowOrder,
    SkippedColumn, Target,
};
use crate::error::{Result, SelectError};

/// Marks a missing text cell.
const MISSING_CODE: u32 = u32::MAX;

/// One raw cell as a source delivers it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    Missing,
    Num(f64),
    Text(&'a str),
}

enum Role {
    Feature(FeatureCol),
    Target,
    Id,
    /// A feature left to another process ([`LoadOptions::features`]): not read.
    Elsewhere,
    /// The group column: each row's group, as text.
    Group(Vec<Option<String>>),
    /// The time column: each row's time in seconds (`None`: missing or not a time).
    Time(Vec<Option<f64>>),
}

/// A time cell in seconds: a number as it is, or a date / date-time (RFC 3339, or
/// `YYYY-MM-DD[ HH:MM[:SS]]` taken as UTC).
fn time_of(cell: Cell<'_>) -> Option<f64> {
    use chrono::{NaiveDate, NaiveDateTime};
    match cell {
        Cell::Missing => None,
        Cell::Num(v) => v.is_finite().then_some(v),
        Cell::Text(s) => {
            if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
                return Some(t.timestamp() as f64 + f64::from(t.timestamp_subsec_millis()) / 1000.0);
            }
            for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
                if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
                    return Some(t.and_utc().timestamp() as f64);
                }
            }
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc().timestamp() as f64)
        }
    }
}

enum FeatureCol {
    /// Numeric so far; NaN marks a missing (or non-finite) cell.
    Numeric { values: Vec<f32>, non_finite: u32 },
    /// Text with few enough levels to one-hot encode.
    Text { index: HashMap<String, u32>, levels: Vec<String>, codes: Vec<u32> },
    /// Text with too many levels: values are not kept.
    HighCardinality,
}

enum TargetCell {
    Missing,
    Num(f64),
    Text(String),
}

pub(crate) struct TableBuilder {
    path: String,
    headers: Vec<String>,
    roles: Vec<Role>,
    target_name: String,
    target: Vec<TargetCell>,
    opts: LoadOptions,
    n_rows: usize,
}

impl TableBuilder {
    /// Checks the header (duplicates, target present, at least one other column).
    pub fn new(
        path: &str,
        headers: Vec<String>,
        target: &str,
        id_columns: &[&str],
        opts: &LoadOptions,
    ) -> Result<Self> {
        if headers.is_empty() || headers.iter().all(|h| h.trim().is_empty()) {
            return Err(SelectError::invalid(path, Some(1), "the file is empty (no header row)"));
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, h) in headers.iter().enumerate() {
            if let Some(first) = seen.insert(h.as_str(), i) {
                let (a, b) = (first + 1, i + 1);
                let reason = if h.is_empty() {
                    format!("duplicate column name `` (columns {a} and {b} both have an empty name)")
                } else {
                    format!("duplicate column name `{h}` (columns {a} and {b})")
                };
                return Err(SelectError::invalid(path, Some(1), reason));
            }
        }
        let Some(target_idx) = headers.iter().position(|h| h == target) else {
            let mut available: Vec<&str> = headers.iter().take(20).map(String::as_str).collect();
            if headers.len() > 20 {
                available.push("...");
            }
            return Err(SelectError::TargetMissing {
                path: path.to_string(),
                target: target.to_string(),
                available: available.join(", "),
            });
        };
        if headers.len() < 2 {
            return Err(SelectError::invalid(
                path,
                Some(1),
                "only one column: a dataset needs a target and at least one feature column",
            ));
        }
        if opts.group_column.is_some() && opts.time_column.is_some() {
            return Err(SelectError::InvalidOptions {
                option: "time_column",
                reason: "give a group column or a time column, not both".into(),
            });
        }
        for (what, col) in [("group", &opts.group_column), ("time", &opts.time_column)] {
            if let Some(c) = col {
                if !headers.iter().any(|h| h == c) {
                    return Err(SelectError::invalid(
                        path,
                        Some(1),
                        format!("the {what} column `{c}` is not in the file"),
                    ));
                }
                if c == target {
                    return Err(SelectError::invalid(path, Some(1), format!("the {what} column `{c}` is the target")));
                }
            }
        }
        let roles = headers
            .iter()
            .enumerate()
            .map(|(i, h)| {
                if i == target_idx {
                    Role::Target
                } else if opts.group_column.as_deref() == Some(h.as_str()) {
                    Role::Group(Vec::new())
                } else if opts.time_column.as_deref() == Some(h.as_str()) {
                    Role::Time(Vec::new())
                } else if id_columns.contains(&h.as_str()) {
                    Role::Id
                } else if opts.features.as_ref().is_some_and(|f| !f.iter().any(|c| c == h)) {
                    Role::Elsewhere
                } else {
                    Role::Feature(FeatureCol::Numeric { values: Vec::new(), non_finite: 0 })
                }
            })
            .collect();
        Ok(Self {
            path: path.to_string(),
            headers,
            roles,
            target_name: target.to_string(),
            target: Vec::new(),
            opts: opts.clone(),
            n_rows: 0,
        })
    }

    pub fn n_columns(&self) -> usize {
        self.headers.len()
    }

    /// Adds one cell of the current row to column `col`. Call for every column, then [`Self::end_row`].
    pub fn push(&mut self, col: usize, cell: Cell<'_>) {
        let cell = match cell {
            Cell::Text(s) if is_missing_token(s) => Cell::Missing,
            Cell::Text(s) => match s.trim().parse::<f64>() {
                Ok(v) if !v.is_nan() => Cell::Num(v),
                Ok(_) => Cell::Missing,
                Err(_) => Cell::Text(s.trim()),
            },
            Cell::Num(v) if v.is_nan() => Cell::Missing,
            c => c,
        };
        let max_levels = self.opts.one_hot_max_levels as usize;
        match &mut self.roles[col] {
            Role::Id | Role::Elsewhere => {}
            Role::Group(g) => g.push(match cell {
                Cell::Missing => None,
                Cell::Num(v) => Some(v.to_string()),
                Cell::Text(s) => Some(s.to_string()),
            }),
            Role::Time(t) => t.push(time_of(cell)),
            Role::Target => self.target.push(match cell {
                Cell::Missing => TargetCell::Missing,
                Cell::Num(v) if fits_f32(v) => TargetCell::Num(v),
                Cell::Num(_) => TargetCell::Missing,
                Cell::Text(s) => TargetCell::Text(s.to_string()),
            }),
            Role::Feature(f) => push_feature(f, cell, max_levels),
        }
    }

    pub fn end_row(&mut self) {
        self.n_rows += 1;
    }

    /// Applies the preparation rules and builds the dataset.
    pub fn finish(self, name: &str, source: &str) -> Result<Dataset> {
        let path = self.path.clone();
        if self.n_rows == 0 {
            return Err(SelectError::invalid(&path, Some(2), "the file has a header but no data rows"));
        }
        let keep: Vec<bool> = self.target.iter().map(|t| !matches!(t, TargetCell::Missing)).collect();
        let kept_rows = keep.iter().filter(|k| **k).count();
        let mut prep = PrepSummary {
            rows_read: to_u32(self.n_rows),
            rows_dropped_missing_target: to_u32(self.n_rows - kept_rows),
            ..PrepSummary::default()
        };
        if kept_rows == 0 {
            return Err(SelectError::invalid(
                &path,
                None,
                format!("target `{}` is missing on every row", self.target_name),
            ));
        }
        let (target, problem) = build_target(&path, &self.target_name, &self.target, &self.opts)?;
        let mut names = Vec::new();
        let mut columns: Vec<Vec<f32>> = Vec::new();
        let mut rows = RowOrder::default();
        // The source's line of a kept row (the header is line 1), for messages.
        let lines: Vec<u64> = keep.iter().enumerate().filter(|(_, k)| **k).map(|(i, _)| i as u64 + 2).collect();
        for (h, role) in self.headers.iter().zip(self.roles) {
            match role {
                Role::Target | Role::Elsewhere => {}
                Role::Group(values) => {
                    let kept: Vec<Option<String>> =
                        values.into_iter().zip(&keep).filter(|(_, k)| **k).map(|(v, _)| v).collect();
                    let mut index: HashMap<String, u32> = HashMap::new();
                    let mut codes = Vec::with_capacity(kept.len());
                    for (r, v) in kept.into_iter().enumerate() {
                        let v = v.ok_or_else(|| {
                            SelectError::invalid(
                                &path,
                                lines.get(r).copied(),
                                format!("the group column `{h}` is empty"),
                            )
                        })?;
                        let next = index.len() as u32;
                        codes.push(*index.entry(v).or_insert(next));
                    }
                    if index.len() < 2 {
                        let only = index.keys().next().cloned().unwrap_or_default();
                        return Err(SelectError::invalid(
                            &path,
                            None,
                            format!("the group column `{h}` has one group (`{only}`): grouped validation needs at least two"),
                        ));
                    }
                    rows.groups = Some((h.clone(), codes));
                }
                Role::Time(values) => {
                    let kept: Vec<Option<f64>> =
                        values.into_iter().zip(&keep).filter(|(_, k)| **k).map(|(v, _)| v).collect();
                    let mut times = Vec::with_capacity(kept.len());
                    for (r, v) in kept.into_iter().enumerate() {
                        times.push(v.ok_or_else(|| {
                            SelectError::invalid(
                                &path,
                                lines.get(r).copied(),
                                format!("the time column `{h}` is empty or not a time (a number, a date or an RFC 3339 time)"),
                            )
                        })?);
                    }
                    rows.times = Some((h.clone(), times));
                }
                Role::Id => prep.skipped_columns.push(SkippedColumn { name: h.clone(), reason: "id column".into() }),
                Role::Feature(FeatureCol::HighCardinality) => prep.skipped_columns.push(SkippedColumn {
                    name: h.clone(),
                    reason: format!("text with more than {} distinct values", self.opts.one_hot_max_levels),
                }),
                Role::Feature(FeatureCol::Numeric { values, non_finite }) => {
                    let mut col: Vec<f32> =
                        values.into_iter().zip(&keep).filter(|(_, k)| **k).map(|(v, _)| v).collect();
                    let missing = col.iter().filter(|v| v.is_nan()).count();
                    let Some(median) = median_of_finite(&col) else {
                        prep.all_missing_columns.push(h.clone());
                        continue;
                    };
                    // Missingness can carry signal (a sensor that drops out when it overheats):
                    // a column missing on at least 1 % of rows, and on at least 5 rows while
                    // present on 5 (fewer cannot show a pattern), gets an indicator beside it;
                    // the filter keeps it only when it is relevant.
                    let present = col.len() - missing;
                    let indicator = (missing * 100 >= col.len() && missing >= 5 && present >= 5)
                        .then(|| col.iter().map(|v| if v.is_nan() { 1.0 } else { 0.0 }).collect::<Vec<f32>>());
                    col.iter_mut().filter(|v| v.is_nan()).for_each(|v| *v = median);
                    prep.missing_values += to_u32(missing);
                    prep.non_finite_values += non_finite;
                    names.push(h.clone());
                    columns.push(col);
                    if let Some(ind) = indicator {
                        prep.missing_indicators.push(h.clone());
                        names.push(format!("{h}=missing"));
                        columns.push(ind);
                    }
                }
                Role::Feature(FeatureCol::Text { levels, codes, .. }) => {
                    let codes: Vec<u32> = codes.into_iter().zip(&keep).filter(|(_, k)| **k).map(|(c, _)| c).collect();
                    prep.missing_values += to_u32(codes.iter().filter(|c| **c == MISSING_CODE).count());
                    prep.encoded_columns.push(EncodedColumn { name: h.clone(), levels: to_u32(levels.len()) });
                    for (li, level) in levels.iter().enumerate() {
                        names.push(format!("{h}={level}"));
                        columns.push(codes.iter().map(|c| if *c == li as u32 { 1.0 } else { 0.0 }).collect());
                    }
                }
            }
        }
        if columns.is_empty() {
            let mut why: Vec<String> = prep
                .all_missing_columns
                .iter()
                .map(|c| format!("column `{c}` has no finite values (every cell is empty, NaN or ±Inf)"))
                .collect();
            why.extend(prep.skipped_columns.iter().map(|s| format!("column `{}` is skipped ({})", s.name, s.reason)));
            let reason = if why.is_empty() {
                "the file has no feature column besides the target".to_string()
            } else {
                name_list(&why, "; ")
            };
            return Err(SelectError::NoUsableFeatures { path, reason });
        }
        Ok(Dataset {
            name: name.to_string(),
            source: source.to_string(),
            feature_names: names,
            features: ColumnMatrix::from_columns(kept_rows, columns),
            target_name: self.target_name,
            target,
            problem,
            prep,
            rows,
        })
    }
}

fn push_feature(f: &mut FeatureCol, cell: Cell<'_>, max_levels: usize) {
    if let (FeatureCol::Numeric { values, .. }, Cell::Text(_)) = (&*f, cell) {
        // First text cell in a numeric column: the column becomes text; earlier numbers become levels.
        let mut index = HashMap::new();
        let mut levels = Vec::new();
        let mut codes = Vec::with_capacity(values.len() + 1);
        let mut too_many = false;
        for v in values {
            if v.is_nan() {
                codes.push(MISSING_CODE);
            } else {
                let code = level_code(&mut index, &mut levels, &v.to_string());
                too_many |= levels.len() > max_levels;
                codes.push(code);
            }
        }
        *f = if too_many { FeatureCol::HighCardinality } else { FeatureCol::Text { index, levels, codes } };
    }
    match f {
        FeatureCol::Numeric { values, non_finite } => match cell {
            Cell::Num(v) if fits_f32(v) => values.push(v as f32),
            Cell::Num(_) => {
                *non_finite += 1;
                values.push(f32::NAN);
            }
            _ => values.push(f32::NAN),
        },
        FeatureCol::Text { index, levels, codes } => {
            let code = match cell {
                Cell::Missing => MISSING_CODE,
                Cell::Num(v) => level_code(index, levels, &v.to_string()),
                Cell::Text(s) => level_code(index, levels, s),
            };
            codes.push(code);
            if levels.len() > max_levels {
                *f = FeatureCol::HighCardinality;
            }
        }
        FeatureCol::HighCardinality => {}
    }
}

/// True for a number that stays finite as an `f32` (the matrix type): beyond about ±3.4e38 a value
/// would become infinite, so it counts as non-finite like `inf`.
fn fits_f32(v: f64) -> bool {
    v.is_finite() && (v as f32).is_finite()
}

fn level_code(index: &mut HashMap<String, u32>, levels: &mut Vec<String>, s: &str) -> u32 {
    if let Some(c) = index.get(s) {
        return *c;
    }
    let c = levels.len() as u32;
    index.insert(s.to_string(), c);
    levels.push(s.to_string());
    c
}

fn median_of_finite(col: &[f32]) -> Option<f32> {
    let mut finite: Vec<f32> = col.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return None;
    }
    let mid = finite.len() / 2;
    let (_, m, _) = finite.select_nth_unstable_by(mid, f32::total_cmp);
    Some(*m)
}

fn build_target(path: &str, name: &str, cells: &[TargetCell], opts: &LoadOptions) -> Result<(Target, ProblemType)> {
    let any_text = cells.iter().any(|c| matches!(c, TargetCell::Text(_)));
    let nums: Vec<f64> =
        cells.iter().filter_map(|c| if let TargetCell::Num(v) = c { Some(*v) } else { None }).collect();
    let regression = match opts.problem {
        Some(ProblemType::Regression) if any_text => {
            return Err(SelectError::invalid(path, None, format!("regression target `{name}` has non-numeric values")));
        }
        Some(p) => !p.is_classification(),
        None => {
            let integer = nums.iter().all(|v| v.fract() == 0.0);
            let mut distinct: Vec<f64> = nums.clone();
            distinct.sort_by(f64::total_cmp);
            distinct.dedup();
            let few_integers = integer && distinct.len() <= opts.max_auto_classes as usize;
            !(any_text || few_integers)
        }
    };
    if regression {
        let first = nums.first().copied().unwrap_or(0.0);
        // Compared as f32, the type the target is kept in: values that differ only beyond f32's
        // precision are the same value to the models.
        if nums.iter().all(|v| *v as f32 == first as f32) {
            return Err(SelectError::ConstantTarget { target: name.to_string(), value: first.to_string() });
        }
        let values = nums.iter().map(|v| *v as f32).collect();
        return Ok((Target::Continuous(values), ProblemType::Regression));
    }
    // Classes: numeric labels sort numerically, text labels lexicographically (numbers first).
    let label = |c: &TargetCell| match c {
        TargetCell::Num(v) => Some(v.to_string()),
        TargetCell::Text(s) => Some(s.clone()),
        TargetCell::Missing => None,
    };
    let mut labels: Vec<String> = cells.iter().filter_map(label).collect::<HashSet<_>>().into_iter().collect();
    labels.sort_by(|a, b| match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        (Ok(_), Err(_)) => std::cmp::Ordering::Less,
        (Err(_), Ok(_)) => std::cmp::Ordering::Greater,
        _ => a.cmp(b),
    });
    if labels.len() < 2 {
        let value = labels.first().cloned().unwrap_or_default();
        return Err(SelectError::ConstantTarget { target: name.to_string(), value });
    }
    let index: HashMap<&str, u32> = labels.iter().enumerate().map(|(i, l)| (l.as_str(), i as u32)).collect();
    let codes = cells.iter().filter_map(label).map(|l| index.get(l.as_str()).copied().unwrap_or(0)).collect();
    let problem =
        if labels.len() == 2 { ProblemType::BinaryClassification } else { ProblemType::MulticlassClassification };
    Ok((Target::Classes { codes, labels }, problem))
}

/// At most the first 10 items joined with `sep`, then how many more there are.
pub(crate) fn name_list(items: &[String], sep: &str) -> String {
    const SHOWN: usize = 10;
    let mut out = items.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(sep);
    if items.len() > SHOWN {
        out.push_str(&format!("{sep}and {} more", items.len() - SHOWN));
    }
    out
}

pub(crate) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

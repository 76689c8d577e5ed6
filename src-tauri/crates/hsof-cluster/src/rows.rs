//! A watch cache that holds table rows instead of objects. Each watch event is turned into
//! the row a screen shows the moment it arrives (a pod's row is a few hundred bytes; the
//! pod object with its managed fields, spec and status is tens of kilobytes once
//! deserialised), and every change is numbered so that a screen can ask for what moved
//! since its last redraw instead of rebuilding the whole table.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use kube::runtime::watcher;
use serde::Serialize;

/// Changes remembered for [`RowCache::since`]; a reader further behind gets the whole table.
const LOG: usize = 65_536;

/// What changed since a sequence number.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct RowDelta<R> {
    /// The cache's sequence number now: pass it to the next call.
    #[specta(type = f64)]
    pub seq: u64,
    /// True when `rows` is the whole table (the reader was too far behind, or asked for it);
    /// then `removed` is empty.
    pub full: bool,
    /// Rows added or changed (all rows when `full`), by name.
    pub rows: Vec<R>,
    /// Names of rows gone since then.
    pub removed: Vec<String>,
}

/// Rows by name, kept current from a watcher's events.
#[derive(Debug)]
pub struct RowCache<R> {
    rows: BTreeMap<String, Arc<R>>,
    /// The rows of a re-list in progress (between `Init` and `InitDone`).
    relist: Option<BTreeMap<String, Arc<R>>>,
    /// `(seq, name)` of each change, oldest first.
    log: VecDeque<(u64, String)>,
    seq: u64,
    /// The oldest `since` the log can still answer.
    floor: u64,
}

impl<R> Default for RowCache<R> {
    fn default() -> Self {
        Self { rows: BTreeMap::new(), relist: None, log: VecDeque::new(), seq: 0, floor: 0 }
    }
}

impl<R: Clone + PartialEq> RowCache<R> {
    /// Applies one watcher event, `row` turning an object into its name and row. Returns
    /// true when a row changed (so a screen has something to redraw).
    pub fn apply<K>(&mut self, event: watcher::Event<K>, row: impl Fn(&K) -> (String, R)) -> bool {
        match event {
            watcher::Event::Init => {
                self.relist = Some(BTreeMap::new());
                false
            }
            watcher::Event::InitApply(obj) => {
                let (name, r) = row(&obj);
                self.relist.get_or_insert_with(BTreeMap::new).insert(name, Arc::new(r));
                false
            }
            watcher::Event::InitDone => {
                // The re-list is the truth now: what it lacks was deleted while the watch
                // was away, what differs changed.
                let fresh = self.relist.take().unwrap_or_default();
                let old = std::mem::take(&mut self.rows);
                let mut changed = false;
                for name in old.keys().filter(|n| !fresh.contains_key(*n)) {
                    self.note(name.clone());
                    changed = true;
                }
                for (name, r) in &fresh {
                    if old.get(name) != Some(r) {
                        self.note(name.clone());
                        changed = true;
                    }
                }
                self.rows = fresh;
                changed
            }
            watcher::Event::Apply(obj) => {
                let (name, r) = row(&obj);
                if self.rows.get(&name).is_some_and(|old| **old == r) {
                    return false;
                }
                self.rows.insert(name.clone(), Arc::new(r));
                self.note(name);
                true
            }
            watcher::Event::Delete(obj) => {
                let (name, _) = row(&obj);
                if self.rows.remove(&name).is_none() {
                    return false;
                }
                self.note(name);
                true
            }
        }
    }

    fn note(&mut self, name: String) {
        self.seq += 1;
        self.log.push_back((self.seq, name));
        while self.log.len() > LOG {
            if let Some((seq, _)) = self.log.pop_front() {
                self.floor = seq;
            }
        }
    }

    /// All rows, by name.
    pub fn rows(&self) -> Vec<R> {
        self.rows.values().map(|r| R::clone(r)).collect()
    }

    /// The sequence number of the last change.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// What changed after `since` (a `seq` this cache returned); the whole table for
    /// `None`, for a number the log no longer reaches, or for one from another cache
    /// (ahead of this one).
    pub fn since(&self, since: Option<u64>) -> RowDelta<R> {
        let full = || RowDelta { seq: self.seq, full: true, rows: self.rows(), removed: vec![] };
        let Some(since) = since else { return full() };
        if since < self.floor || since > self.seq {
            return full();
        }
        // The log is ordered by seq: skip to the first entry after `since`.
        let start = self.log.partition_point(|(s, _)| *s <= since);
        let names: BTreeSet<&String> = self.log.range(start..).map(|(_, n)| n).collect();
        let mut rows = Vec::new();
        let mut removed = Vec::new();
        for name in names {
            match self.rows.get(name) {
                Some(r) => rows.push(R::clone(r)),
                None => removed.push(name.clone()),
            }
        }
        RowDelta { seq: self.seq, full: false, rows, removed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use watcher::Event;

    type Obj = (&'static str, u32);
    fn row(o: &Obj) -> (String, u32) {
        (o.0.to_string(), o.1)
    }
    fn cache(objs: &[Obj]) -> RowCache<u32> {
        let mut c = RowCache::default();
        c.apply(Event::Init, row);
        for o in objs {
            c.apply(Event::InitApply(*o), row);
        }
        c.apply(Event::InitDone, row);
        c
    }

    #[test]
    fn a_delta_names_exactly_the_rows_changed_since_and_each_once() {
        let mut c = cache(&[("a", 1), ("b", 2), ("c", 3)]);
        let s = c.seq();
        assert!(!c.apply(Event::Apply(("b", 2)), row), "an unchanged row is no change");
        assert!(c.apply(Event::Apply(("b", 5)), row));
        assert!(c.apply(Event::Apply(("b", 6)), row));
        assert!(c.apply(Event::Apply(("d", 4)), row));
        assert!(c.apply(Event::Delete(("a", 1)), row));
        assert!(!c.apply(Event::Delete(("zz", 1)), row), "deleting an unknown row is no change");
        let d = c.since(Some(s));
        assert!(!d.full);
        assert_eq!(d.rows, [6, 4], "b once, at its latest, then d, by name");
        assert_eq!(d.removed, ["a"]);
        assert_eq!(c.rows(), [6, 3, 4]);
        let later = c.since(Some(d.seq));
        assert!(later.rows.is_empty() && later.removed.is_empty() && !later.full);
    }

    #[test]
    fn a_relist_after_a_gap_reports_what_changed_and_what_vanished_while_away() {
        let mut c = cache(&[("a", 1), ("b", 2), ("c", 3)]);
        let s = c.seq();
        c.apply(Event::Init, row);
        // Half-way through the re-list the old rows are still what readers see.
        c.apply(Event::InitApply(("a", 1)), row);
        assert_eq!(c.rows(), [1, 2, 3]);
        c.apply(Event::InitApply(("c", 9)), row);
        c.apply(Event::InitApply(("e", 5)), row);
        assert!(c.apply(Event::InitDone, row));
        let d = c.since(Some(s));
        assert_eq!((d.rows, d.removed), (vec![9, 5], vec!["b".to_string()]));
        assert_eq!(c.rows(), [1, 9, 5]);
    }

    #[test]
    fn a_reader_too_far_behind_or_from_elsewhere_gets_the_whole_table() {
        let mut c = cache(&[("a", 0)]);
        for i in 0..(LOG as u32 + 10) {
            c.apply(Event::Apply(("a", i + 1)), row);
        }
        assert!(c.since(Some(1)).full, "the log no longer reaches seq 1");
        assert!(c.since(Some(c.seq() + 5)).full, "a seq from another cache");
        assert!(c.since(None).full);
        let recent = c.since(Some(c.seq() - 3));
        assert!(!recent.full);
        assert_eq!(recent.rows, [LOG as u32 + 10]);
    }
}

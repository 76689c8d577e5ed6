//! Monte Carlo tree search over feature subsets.
//!
//! A node is a subset (sorted pool indices); its children add one feature. Every feature of the
//! whole pool can be added anywhere: a node's candidates are `width` features it does not hold,
//! drawn without replacement with probability proportional to a prior weight (Efraimidis–Spirakis
//! keys), which bounds the branching factor without fencing off the low-ranked columns.
//!
//! One iteration: **select** from the root by UCB1 (`mean + c·sqrt(ln N_parent / n_child)`) while
//! the node is fully expanded; **expand** one untried candidate; **roll out** by random completion,
//! adding features drawn from the whole pool by the prior until the subset has `depth` features;
//! **evaluate** it with the reward (memoised in a map keyed by the sorted subset);
//! **back-propagate** the score.
//!
//! Each tree owns its RNG (ChaCha8 seeded from the run seed and the tree number), its memo and its
//! statistics, so trees run in parallel (root parallelism) and the merged result is the same for any
//! number of threads.

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[derive(Debug, Clone)]
struct Node {
    subset: Vec<u16>,
    children: Vec<usize>,
    untried: Option<Vec<u16>>,
    visits: u32,
    value: f64,
}

/// One search tree and what it has learned.
#[derive(Debug, Clone)]
pub struct Tree {
    nodes: Vec<Node>,
    rng: ChaCha8Rng,
    memo: HashMap<Vec<u16>, f64>,
    /// Per pool feature: summed score and count of evaluated rollouts containing it.
    pub feature_sum: Vec<f64>,
    /// See `feature_sum`.
    pub feature_n: Vec<u32>,
    /// Summed score and count of all rollouts.
    pub total: (f64, u32),
    /// Best subset seen and its score.
    pub best: (f64, Vec<u16>),
    /// Distinct subsets evaluated.
    pub evaluations: u32,
    /// Rollouts answered from the memo.
    pub memo_hits: u32,
    /// Iterations run.
    pub iterations: u32,
}

/// Search parameters shared by the trees.
#[derive(Debug, Clone, Copy)]
pub struct Params<'a> {
    /// Subset size of a rollout (and tree depth).
    pub depth: usize,
    /// Candidates per node.
    pub width: usize,
    /// UCB1 exploration constant.
    pub exploration: f64,
    /// Prior weight of each pool feature (positive).
    pub prior: &'a [f64],
    /// Cumulative sums of `prior`, for drawing one feature.
    pub cdf: &'a [f64],
}

/// Cumulative sums of prior weights.
pub fn cdf(prior: &[f64]) -> Vec<f64> {
    let mut acc = 0.0;
    prior
        .iter()
        .map(|w| {
            acc += w;
            acc
        })
        .collect()
}

impl Tree {
    /// A tree over `pool` features, seeded from the run seed and its number.
    pub fn new(pool: usize, seed: u64, tree: u64) -> Self {
        let root = Node { subset: Vec::new(), children: Vec::new(), untried: None, visits: 0, value: 0.0 };
        Self {
            nodes: vec![root],
            rng: ChaCha8Rng::seed_from_u64(seed ^ tree.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            memo: HashMap::new(),
            feature_sum: vec![0.0; pool],
            feature_n: vec![0; pool],
            total: (0.0, 0),
            best: (f64::NEG_INFINITY, Vec::new()),
            evaluations: 0,
            memo_hits: 0,
            iterations: 0,
        }
    }

    /// Runs one select-expand-rollout-backpropagate iteration.
    pub fn iterate(&mut self, reward_of: &(dyn Fn(&[usize]) -> f64 + Sync), p: Params<'_>) {
        let pool = self.feature_n.len();
        let depth = p.depth.min(pool);
        let mut path = vec![0usize];
        let mut node = 0usize;
        while self.nodes[node].subset.len() < depth {
            if self.nodes[node].untried.is_none() {
                let w = weighted_sample(&self.nodes[node].subset, p.prior, p.width, &mut self.rng);
                self.nodes[node].untried = Some(w);
            }
            if let Some(f) = self.nodes[node].untried.as_mut().and_then(Vec::pop) {
                let mut subset = self.nodes[node].subset.clone();
                insert_sorted(&mut subset, f);
                self.nodes.push(Node { subset, children: Vec::new(), untried: None, visits: 0, value: 0.0 });
                let child = self.nodes.len() - 1;
                self.nodes[node].children.push(child);
                path.push(child);
                node = child;
                break;
            }
            let parent_visits = f64::from(self.nodes[node].visits.max(1));
            let Some(best) = self.nodes[node].children.iter().copied().max_by(|a, b| {
                ucb(&self.nodes[*a], parent_visits, p.exploration)
                    .total_cmp(&ucb(&self.nodes[*b], parent_visits, p.exploration))
                    .then(b.cmp(a))
            }) else {
                break;
            };
            path.push(best);
            node = best;
        }
        let mut subset = self.nodes[node].subset.clone();
        while subset.len() < depth {
            let Some(f) = draw(&subset, p.cdf, &mut self.rng) else { break };
            insert_sorted(&mut subset, f);
        }
        let reward = match self.memo.get(&subset) {
            Some(r) => {
                self.memo_hits += 1;
                *r
            }
            None => {
                let idx: Vec<usize> = subset.iter().map(|&f| usize::from(f)).collect();
                let r = reward_of(&idx);
                self.evaluations += 1;
                self.memo.insert(subset.clone(), r);
                r
            }
        };
        for &n in &path {
            self.nodes[n].visits += 1;
            self.nodes[n].value += reward.max(0.0);
        }
        for &f in &subset {
            self.feature_sum[usize::from(f)] += reward;
            self.feature_n[usize::from(f)] += 1;
        }
        self.total.0 += reward;
        self.total.1 += 1;
        if reward > self.best.0 || (reward == self.best.0 && subset < self.best.1) {
            self.best = (reward, subset);
        }
        self.iterations += 1;
    }
}

fn ucb(n: &Node, parent_visits: f64, c: f64) -> f64 {
    if n.visits == 0 {
        return f64::INFINITY;
    }
    let v = f64::from(n.visits);
    n.value / v + c * (parent_visits.ln() / v).sqrt()
}

/// `width` distinct pool features not in the sorted `subset`, drawn without replacement with
/// probability proportional to `prior` (Efraimidis–Spirakis: the largest `u^(1/w)` keys), in
/// the order `pop` expands them: the strongest draw first.
fn weighted_sample(subset: &[u16], prior: &[f64], width: usize, rng: &mut ChaCha8Rng) -> Vec<u16> {
    let mut keyed: Vec<(f64, u16)> = (0..prior.len() as u16)
        .filter(|f| subset.binary_search(f).is_err())
        .map(|f| (rng.gen::<f64>().max(f64::MIN_POSITIVE).ln() / prior[usize::from(f)], f))
        .collect();
    let take = width.min(keyed.len());
    if take == 0 {
        return Vec::new();
    }
    keyed.select_nth_unstable_by(take - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    keyed.truncate(take);
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
    keyed.into_iter().map(|(_, f)| f).collect()
}

/// One pool feature not in `subset`, drawn by the prior (`cdf` its cumulative sums).
fn draw(subset: &[u16], cdf: &[f64], rng: &mut ChaCha8Rng) -> Option<u16> {
    let total = *cdf.last()?;
    for _ in 0..64 {
        let u = rng.gen::<f64>() * total;
        let f = cdf.partition_point(|c| *c <= u).min(cdf.len() - 1) as u16;
        if subset.binary_search(&f).is_err() {
            return Some(f);
        }
    }
    // The subset holds most of the prior's mass: the first free feature.
    (0..cdf.len() as u16).find(|f| subset.binary_search(f).is_err())
}

fn insert_sorted(subset: &mut Vec<u16>, f: u16) {
    if let Err(pos) = subset.binary_search(&f) {
        subset.insert(pos, f);
    }
}

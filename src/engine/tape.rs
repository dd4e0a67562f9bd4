//! Storage: the arena of nodes, and the checks that tie a [`NodeId`] or a
//! [`Mark`] to the graph (and the generation) it came from.
//!
//! Per node the arena holds its data (`f64`), its gradient (`f64`, only
//! once something needs it) and a 12-byte [`Node`]; `backward` adds an
//! `f64` adjoint and one bit. Labels, exponents that are not exact in an
//! `f32`, and the operand lists of n-ary nodes live in side tables that
//! only the nodes that need them pay for.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

use super::{Mark, NodeId, Op};

/// A node: the op that produced it, with its operands (indices of earlier
/// nodes). Reading a variant needs no decoder; n-ary nodes point into the
/// `args` side table.
///
/// Every operand index is below its node's own: the arena's invariant,
/// which the number sweep relies on to index without bounds checks. It is
/// checked when a node is appended (the forward rule reads every operand,
/// bounds-checked, from the `data` of the nodes before it), and kept by
/// everything that rewrites nodes afterwards: truncation drops a suffix,
/// [`Tape::compact`] keeps the order, a clone copies.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Node {
    /// An input.
    Leaf,
    Add(u32, u32),
    Sub(u32, u32),
    Mul(u32, u32),
    Div(u32, u32),
    /// `a ** b` with a node as exponent.
    Pow(u32, u32),
    Neg(u32),
    Exp(u32),
    Ln(u32),
    Tanh(u32),
    Relu(u32),
    Sigmoid(u32),
    Sqrt(u32),
    /// 0, standing for a derivative that PyTorch masks with `where`: see
    /// [`Op::Masked`].
    Masked(u32),
    /// `a ** p` with a constant exponent that is exact in an `f32` (2, 0.5,
    /// -1, ...: nearly all of them), stored in the node itself.
    PowF(u32, f32),
    /// `a ** consts[k]`: a constant exponent that needs all 64 bits.
    PowF64(u32, u32),
    /// `Σ args[at..at + n]`.
    Sum {
        at: u32,
        n: u32,
    },
    /// `Σ_k w_k x_k (+ b)` over `n` pairs. With `runs`, `args[at]` and
    /// `args[at + 1]` are the first ids of two runs of `n` consecutive
    /// nodes (weights, inputs); without, `args[at..at + 2n]` lists the `n`
    /// weights, then the `n` inputs. With `bias`, the bias id follows.
    Dot {
        at: u32,
        n: u32,
        runs: bool,
        bias: bool,
    },
}

// The record must not grow: it is most of the memory of a graph.
const _: () = assert!(std::mem::size_of::<Node>() == 12);

impl Node {
    /// The public name of the op.
    pub(super) fn op(self) -> Op {
        match self {
            Node::Leaf => Op::Leaf,
            Node::Add(..) => Op::Add,
            Node::Sub(..) => Op::Sub,
            Node::Mul(..) => Op::Mul,
            Node::Div(..) => Op::Div,
            Node::Pow(..) => Op::Pow,
            Node::Neg(_) => Op::Neg,
            Node::Exp(_) => Op::Exp,
            Node::Ln(_) => Op::Ln,
            Node::Tanh(_) => Op::Tanh,
            Node::Relu(_) => Op::Relu,
            Node::Sigmoid(_) => Op::Sigmoid,
            Node::Sqrt(_) => Op::Sqrt,
            Node::Masked(_) => Op::Masked,
            Node::PowF(..) | Node::PowF64(..) => Op::PowF,
            Node::Sum { .. } => Op::Sum,
            Node::Dot { .. } => Op::Dot,
        }
    }

    /// Calls `f` on each operand, in order (for a dot node: the weights,
    /// the inputs, then the bias).
    pub(super) fn for_each_operand(self, args: &[u32], mut f: impl FnMut(u32)) {
        match self {
            Node::Leaf => {}
            Node::Add(a, b)
            | Node::Sub(a, b)
            | Node::Mul(a, b)
            | Node::Div(a, b)
            | Node::Pow(a, b) => {
                f(a);
                f(b);
            }
            Node::Neg(a)
            | Node::Exp(a)
            | Node::Ln(a)
            | Node::Tanh(a)
            | Node::Relu(a)
            | Node::Sigmoid(a)
            | Node::Sqrt(a)
            | Node::Masked(a)
            | Node::PowF(a, _)
            | Node::PowF64(a, _) => f(a),
            Node::Sum { at, n } => args[at as usize..(at + n) as usize]
                .iter()
                .for_each(|&c| f(c)),
            Node::Dot { at, n, runs, bias } => {
                let at = at as usize;
                let rest = if runs {
                    let (w, x) = (args[at], args[at + 1]);
                    (w..w + n).chain(x..x + n).for_each(&mut f);
                    at + 2
                } else {
                    args[at..at + 2 * n as usize].iter().for_each(|&c| f(c));
                    at + 2 * n as usize
                };
                if bias {
                    f(args[rest]);
                }
            }
        }
    }

    /// The same node with its operands renamed through `remap` (old index
    /// to new), its side-table entries copied to the ends of `args` and
    /// `consts`. Every operand must already be remapped.
    pub(super) fn remapped(
        self,
        old_args: &[u32],
        old_consts: &[f64],
        remap: &[u32],
        args: &mut Vec<u32>,
        consts: &mut Vec<f64>,
    ) -> Node {
        let r = |i: u32| {
            let k = remap[i as usize];
            debug_assert!(k != u32::MAX, "operand #{i} was dropped");
            k
        };
        match self {
            Node::Leaf => Node::Leaf,
            Node::Add(a, b) => Node::Add(r(a), r(b)),
            Node::Sub(a, b) => Node::Sub(r(a), r(b)),
            Node::Mul(a, b) => Node::Mul(r(a), r(b)),
            Node::Div(a, b) => Node::Div(r(a), r(b)),
            Node::Pow(a, b) => Node::Pow(r(a), r(b)),
            Node::Neg(a) => Node::Neg(r(a)),
            Node::Exp(a) => Node::Exp(r(a)),
            Node::Ln(a) => Node::Ln(r(a)),
            Node::Tanh(a) => Node::Tanh(r(a)),
            Node::Relu(a) => Node::Relu(r(a)),
            Node::Sigmoid(a) => Node::Sigmoid(r(a)),
            Node::Sqrt(a) => Node::Sqrt(r(a)),
            Node::Masked(a) => Node::Masked(r(a)),
            Node::PowF(a, p) => Node::PowF(r(a), p),
            Node::PowF64(a, k) => {
                consts.push(old_consts[k as usize]);
                Node::PowF64(r(a), side_index(consts.len() - 1))
            }
            Node::Sum { at, n } => {
                let new_at = side_index(args.len());
                args.extend(
                    old_args[at as usize..(at + n) as usize]
                        .iter()
                        .map(|&c| r(c)),
                );
                Node::Sum { at: new_at, n }
            }
            Node::Dot { at, n, runs, bias } => {
                let new_at = side_index(args.len());
                let at = at as usize;
                // A run's nodes are all operands, so all kept, and nothing
                // between them: they stay consecutive.
                let listed = if runs { 2 } else { 2 * n as usize };
                args.extend(old_args[at..at + listed].iter().map(|&c| r(c)));
                if bias {
                    args.push(r(old_args[at + listed]));
                }
                Node::Dot {
                    at: new_at,
                    n,
                    runs,
                    bias,
                }
            }
        }
    }

    /// The constant exponent of a `PowF` node.
    pub(super) fn exponent(self, consts: &[f64]) -> Option<f64> {
        match self {
            Node::PowF(_, p) => Some(f64::from(p)),
            Node::PowF64(_, k) => Some(consts[k as usize]),
            _ => None,
        }
    }
}

/// Source of graph identities: every new graph (and every clone) gets the
/// next number, so ids from two graphs never look alike.
static NEXT_GRAPH: AtomicU32 = AtomicU32::new(1);

fn next_graph_id() -> u32 {
    NEXT_GRAPH.fetch_add(1, Ordering::Relaxed)
}

/// Where a graph came from, and what it has cut: enough to tell whether a
/// [`NodeId`] or [`Mark`] still names the node it named when it was made.
///
/// Generations count truncations. `cuts` is a stack of `(generation,
/// length)` records, both strictly increasing: a truncation to length `L`
/// pops every record at `L` or above (it cut less) and pushes its own, so a
/// loop that keeps truncating to one mark keeps one record. The node at
/// index `i` was created in the generation of the last record that cut at
/// or below `i` (0 if none): an id is valid when it names that generation.
#[derive(Clone, Debug)]
pub(super) struct Lineage {
    pub(super) graph: u32,
    generation: u32,
    cuts: Vec<(u32, u32)>,
    /// For a clone: the graph it was copied from, the length and the
    /// generation at the copy. Ids of those nodes stay valid on the copy.
    forks: Vec<Fork>,
}

#[derive(Clone, Copy, Debug)]
struct Fork {
    graph: u32,
    len: u32,
    generation: u32,
}

impl Default for Lineage {
    fn default() -> Self {
        Self {
            graph: next_graph_id(),
            generation: 0,
            cuts: Vec::new(),
            forks: Vec::new(),
        }
    }
}

impl Lineage {
    /// The generation that node `index` was created in.
    #[inline]
    pub(super) fn generation_of(&self, index: u32) -> u32 {
        // Fast path: below every cut (a model's parameters, below its mark).
        match self.cuts.first() {
            None => return 0,
            Some(&(_, len)) if index < len => return 0,
            _ => {}
        }
        self.cuts
            .iter()
            .rev()
            .find(|&&(_, len)| len <= index)
            .map_or(0, |&(g, _)| g)
    }

    /// Records a truncation to `len` nodes.
    fn cut(&mut self, len: u32) {
        self.generation = self
            .generation
            .checked_add(1)
            .expect("a graph can be truncated at most 2^32 - 1 times");
        while self.cuts.last().is_some_and(|&(_, l)| l >= len) {
            self.cuts.pop();
        }
        self.cuts.push((self.generation, len));
    }

    /// A copy for a cloned graph: a new identity that still accepts the ids
    /// of the `len` nodes it copied.
    fn fork(&self, len: u32) -> Self {
        let mut forks = self.forks.clone();
        forks.push(Fork {
            graph: self.graph,
            len,
            generation: self.generation,
        });
        Self {
            graph: next_graph_id(),
            generation: self.generation,
            cuts: self.cuts.clone(),
            forks,
        }
    }

    /// Whether something made by `graph` in generation `generation` about
    /// the first `len` nodes was made by this graph, or by a graph this one
    /// was copied from before the copy.
    #[inline]
    fn owns(&self, graph: u32, generation: u32, len: u32) -> bool {
        if graph == self.graph {
            return true;
        }
        match self.forks.as_slice() {
            // The common case: one copy (a training thread's graph).
            [f] => f.graph == graph && len <= f.len && generation <= f.generation,
            _ => self.owns_as_copy(graph, generation, len),
        }
    }

    fn owns_as_copy(&self, graph: u32, generation: u32, len: u32) -> bool {
        // Must have been shared with every copy made since.
        let Some(k) = self.forks.iter().position(|f| f.graph == graph) else {
            return false;
        };
        self.forks[k..]
            .iter()
            .all(|f| len <= f.len && generation <= f.generation)
            && generation <= self.forks[k].generation
    }

    /// Whether `id` names a live node of this graph of `len` nodes.
    #[inline]
    pub(super) fn is_live(&self, id: NodeId, len: usize) -> bool {
        id.index() < len
            && self.generation_of(id.index) == id.generation
            && self.owns(id.graph, id.generation, id.index + 1)
    }

    /// Why `id` does not name a live node of this graph of `len` nodes, or
    /// `None` when it does.
    pub(super) fn reject(&self, id: NodeId, len: usize) -> Option<String> {
        if !self.owns(id.graph, id.generation, id.index + 1) {
            return Some(format!(
                "node {id} belongs to another graph (graph {}, this is graph {})",
                id.graph, self.graph
            ));
        }
        if id.index() >= len || self.generation_of(id.index) != id.generation {
            return Some(format!(
                "node {id} is stale: the graph was truncated below it after the id was \
                 taken (the graph has {len} nodes now)"
            ));
        }
        None
    }

    /// Why `mark` cannot be truncated to in this graph of `len` nodes.
    fn reject_mark(&self, mark: Mark, len: usize) -> Option<String> {
        if !self.owns(mark.graph, mark.generation, mark.nodes) {
            return Some(format!(
                "the mark at {} nodes belongs to another graph (graph {}, this is graph {})",
                mark.nodes, mark.graph, self.graph
            ));
        }
        // Stale when a truncation after the mark cut below it.
        let cut_below = self
            .cuts
            .iter()
            .any(|&(g, l)| g > mark.generation && l < mark.nodes);
        if cut_below || mark.len() > len {
            return Some(format!(
                "the mark at {} nodes is stale: the graph was truncated further back after it \
                 was taken (the graph has {len} nodes now)",
                mark.nodes
            ));
        }
        None
    }
}

/// Everything a graph stores.
#[derive(Default)]
pub(super) struct Tape {
    pub(super) data: Vec<f64>,
    /// Gradients; may be shorter than `data` (missing entries are 0), so
    /// that building a graph never touches gradient memory.
    pub(super) grad: Vec<f64>,
    pub(super) nodes: Vec<Node>,
    pub(super) consts: Vec<f64>,
    pub(super) args: Vec<u32>,
    pub(super) labels: BTreeMap<u32, String>,
    pub(super) lineage: Lineage,
    /// `backward`'s buffers, kept to avoid reallocating them on each call.
    /// Every entry of `adj` from `adj_dirty` on is `-0.0`, where the next
    /// sweep's adjoints start (see `Tape::backward`).
    pub(super) adj: Vec<f64>,
    pub(super) adj_dirty: usize,
    pub(super) reached: Vec<u64>,
    /// Operand ids being collected for an n-ary op, kept for the same reason.
    pub(super) pending: Vec<u32>,
}

impl Clone for Tape {
    /// A copy of every node with a new graph identity that still accepts
    /// the ids and marks of the nodes copied.
    fn clone(&self) -> Self {
        Self {
            data: self.data.clone(),
            grad: self.grad.clone(),
            nodes: self.nodes.clone(),
            consts: self.consts.clone(),
            args: self.args.clone(),
            labels: self.labels.clone(),
            lineage: self.lineage.fork(self.data.len() as u32),
            adj: Vec::new(),
            adj_dirty: 0,
            reached: Vec::new(),
            pending: Vec::new(),
        }
    }
}

/// The most nodes a graph holds: indices are `u32`, and `u32::MAX` is kept
/// free (a marker for "dropped" in [`Tape::compact`]'s map).
const MAX_NODES: usize = u32::MAX as usize;

impl Tape {
    /// Appends a node whose data is given (a leaf).
    ///
    /// # Panics
    /// Past 2^32 - 1 nodes.
    #[inline]
    pub(super) fn push(&mut self, node: Node, data: f64) -> u32 {
        let i = u32::try_from(self.data.len())
            .ok()
            .filter(|&i| (i as usize) < MAX_NODES)
            .expect("a graph holds at most 2^32 - 1 nodes");
        self.data.push(data);
        self.nodes.push(node);
        i
    }

    /// Appends a computed node, its data from the forward rule.
    ///
    /// # Panics
    /// Past 2^32 - 1 nodes.
    #[inline(always)]
    pub(super) fn push_computed(&mut self, node: Node) -> u32 {
        // Room first, the number second: growing the arrays is a call, and
        // a number computed before it would be spilled to the stack and
        // reloaded on its way to `data`, adding a store and a load to the
        // latency of every node that feeds the next one. With room made
        // (rarely: out of line), the number and the record are written
        // without `push`'s own capacity tests, and without a placeholder
        // in `data` to overwrite: the forward pass is bound by its stores.
        let (i, j) = (self.data.len(), self.nodes.len());
        if i == self.data.capacity() || j == self.nodes.capacity() || i >= MAX_NODES {
            self.make_room();
        }
        let y = super::rules::forward(node, &self.data, &self.args, &self.consts);
        // SAFETY: both arrays have room for one more element (made above),
        // which is written before the length takes it in.
        unsafe {
            self.data.as_mut_ptr().add(i).write(y);
            self.data.set_len(i + 1);
            self.nodes.as_mut_ptr().add(j).write(node);
            self.nodes.set_len(j + 1);
        }
        i as u32
    }

    /// Room for one more node in `data` and `nodes`.
    ///
    /// # Panics
    /// Past 2^32 - 1 nodes.
    #[cold]
    #[inline(never)]
    fn make_room(&mut self) {
        assert!(
            self.data.len() < MAX_NODES,
            "a graph holds at most 2^32 - 1 nodes"
        );
        self.data.reserve(1);
        self.nodes.reserve(1);
    }

    /// The full id of the live node at `index`.
    #[inline]
    pub(super) fn id(&self, index: u32) -> NodeId {
        NodeId {
            index,
            graph: self.lineage.graph,
            generation: self.lineage.generation_of(index),
        }
    }

    /// The index of `id` in this arena.
    ///
    /// # Panics
    /// If `id` is from another graph or stale.
    #[inline]
    pub(super) fn check(&self, id: NodeId) -> u32 {
        if !self.lineage.is_live(id, self.data.len()) {
            self.refuse(id);
        }
        id.index
    }

    #[cold]
    #[inline(never)]
    fn refuse(&self, id: NodeId) -> ! {
        let why = self.lineage.reject(id, self.data.len());
        panic!("{}", why.unwrap_or_default());
    }

    pub(super) fn grad(&self, i: usize) -> f64 {
        self.grad.get(i).copied().unwrap_or(0.0)
    }

    pub(super) fn grads_full(&mut self) -> &mut [f64] {
        let n = self.data.len();
        if self.grad.len() < n {
            self.grad.resize(n, 0.0);
        }
        &mut self.grad
    }

    pub(super) fn mark(&self) -> Mark {
        Mark {
            nodes: self.data.len() as u32,
            consts: self.consts.len() as u32,
            args: self.args.len() as u32,
            graph: self.lineage.graph,
            generation: self.lineage.generation,
        }
    }

    /// # Panics
    /// If `mark` is from another graph or stale.
    pub(super) fn truncate(&mut self, mark: Mark) {
        if let Some(why) = self.lineage.reject_mark(mark, self.data.len()) {
            panic!("cannot truncate: {why}");
        }
        if mark.len() == self.data.len() {
            return;
        }
        self.lineage.cut(mark.nodes);
        self.data.truncate(mark.len());
        self.nodes.truncate(mark.len());
        self.grad.truncate(mark.len());
        self.consts.truncate(mark.consts as usize);
        self.args.truncate(mark.args as usize);
        if self.labels.range(mark.nodes..).next().is_some() {
            self.labels.split_off(&mark.nodes);
        }
    }
}

impl Tape {
    /// Drops every node that none of `roots` depends on (the roots
    /// included in what is kept) and slides the rest down, keeping their
    /// creation order, data, gradients and labels. Returns, for each old
    /// index, its new index (`u32::MAX` for a dropped node).
    ///
    /// Every id taken before is stale afterwards (the generation moves on,
    /// as after a truncation to 0), so an id that was not rewritten through
    /// the returned map is refused rather than read as another node.
    pub(super) fn compact(&mut self, roots: &[u32]) -> Vec<u32> {
        let n = self.data.len();
        let mut keep = vec![false; n];
        for &r in roots {
            keep[r as usize] = true;
        }
        // Creation order is topological: one reverse pass marks everything
        // a kept node reads.
        for i in (0..n).rev() {
            if keep[i] {
                self.nodes[i].for_each_operand(&self.args, |c| keep[c as usize] = true);
            }
        }
        self.grads_full();
        let mut remap = vec![u32::MAX; n];
        let mut args = Vec::with_capacity(self.args.len());
        let mut consts = Vec::new();
        let mut j = 0usize;
        for i in 0..n {
            if !keep[i] {
                continue;
            }
            remap[i] = j as u32;
            let node =
                self.nodes[i].remapped(&self.args, &self.consts, &remap, &mut args, &mut consts);
            // The arena's invariant (see `Node`): the order is kept.
            assert!(
                node_operands_below(node, &args, j as u32),
                "compact: node #{j} would read a later node"
            );
            self.nodes[j] = node;
            self.data[j] = self.data[i];
            self.grad[j] = self.grad[i];
            j += 1;
        }
        self.nodes.truncate(j);
        self.data.truncate(j);
        self.grad.truncate(j);
        self.args = args;
        self.consts = consts;
        self.labels = std::mem::take(&mut self.labels)
            .into_iter()
            .filter_map(|(i, l)| {
                let k = remap[i as usize];
                (k != u32::MAX).then_some((k, l))
            })
            .collect();
        self.lineage.cut(0);
        remap
    }
}

/// Whether every operand of `node` is below `index` (the arena's
/// invariant, see [`Node`]).
fn node_operands_below(node: Node, args: &[u32], index: u32) -> bool {
    let mut ok = true;
    node.for_each_operand(args, |c| ok &= c < index);
    ok
}

/// A side-table position or length as the `u32` a node holds.
///
/// # Panics
/// Past `u32::MAX`, instead of silently wrapping.
pub(super) fn side_index(n: usize) -> u32 {
    u32::try_from(n).expect("a graph's side tables hold at most 2^32 - 1 entries")
}

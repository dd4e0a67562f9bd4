//! [`Graph`]: the arena's public face. Creating inputs and n-ary nodes,
//! marks and truncation, gradients as numbers and as values.

use std::cell::RefCell;
use std::fmt;

use super::backward::grad_values;
use super::tape::{Node, Tape, side_index};
use super::{Mark, NodeId, Trace, Value};

/// An arena of scalar nodes: the expression graph (tape) that [`Value`]s
/// live in.
///
/// Create inputs with [`Graph::value`], combine them with operators and
/// methods on [`Value`], then call [`Value::backward`] (gradients as
/// numbers) or [`Graph::grad`] (gradients as new nodes, to differentiate
/// again).
///
/// In a training loop, create the parameters first, take a [`Graph::mark`],
/// and [`Graph::truncate`] back to it after each step: the arena's storage
/// is reused, so a million steps run in constant memory.
///
/// ```
/// use backprop::Graph;
///
/// let mut g = Graph::new();
/// let w = g.value(0.5).id();
/// let mark = g.mark();
/// for _ in 0..100 {
///     let loss = {
///         let w = g.get(w);
///         let loss = (w * 3 - 6).powf(2.0);
///         loss.backward();
///         loss.data()
///     };
///     let (data, grad) = g.data_and_grad_mut();
///     data[w.index()] -= 0.05 * grad[w.index()];
///     grad[w.index()] = 0.0;
///     g.truncate(mark);
///     assert!(loss.is_finite());
/// }
/// assert!((g.get(w).data() - 2.0).abs() < 1e-6);
/// assert_eq!(g.len(), 1);
/// ```
///
/// A `Graph` is `Send` but not `Sync`: one thread builds on it at a time.
/// To work on several threads, give each its own clone: a copy of every
/// node, with its own identity, on which the [`NodeId`]s and [`Mark`]s of
/// the copied nodes stay valid (as multi-threaded training does with the
/// parameters). Ids of nodes created after the copy, on either side, are
/// refused by the other.
#[derive(Clone, Default)]
pub struct Graph {
    pub(super) tape: RefCell<Tape>,
}

impl Graph {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty graph with room for `nodes` nodes before it reallocates.
    pub fn with_capacity(nodes: usize) -> Self {
        let g = Self::new();
        {
            let mut t = g.tape.borrow_mut();
            t.data.reserve(nodes);
            t.grad.reserve(nodes);
            t.nodes.reserve(nodes);
            t.adj.reserve(nodes);
            t.reached.reserve(nodes.div_ceil(64));
        }
        g
    }

    /// A new input node (a leaf) holding `data`, with gradient 0.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let x = g.value(3.0);
    /// assert_eq!(x.data(), 3.0);
    /// assert_eq!(x.grad(), 0.0);
    /// ```
    #[inline]
    pub fn value(&self, data: f64) -> Value<'_> {
        let i = self.tape.borrow_mut().push(Node::Leaf, data);
        Value::new(self, i)
    }

    /// Appends a computed node (its data from the forward rule). Inlined,
    /// so that each operator's `match` in the forward rule folds away.
    ///
    /// # Panics
    /// If the tape is borrowed (an engine bug: no borrow outlives the
    /// engine's own methods), or past 2^32 - 1 nodes.
    #[inline(always)]
    pub(super) fn push(&self, node: Node) -> Value<'_> {
        // The one place the tape is reached without `borrow_mut`, which
        // writes the borrow flag twice per node: two stores that the
        // forward pass, bound by its stores and their latency, paid 11 %
        // of its time for (W2, 8 interleaved rounds of 15 builds).
        // `try_borrow_mut().is_ok()` proves that no `Ref` or `RefMut` is
        // alive (and compiles to reading the flag).
        assert!(
            self.tape.try_borrow_mut().is_ok(),
            "the graph's tape is already borrowed"
        );
        // SAFETY: no borrow of the tape exists (just checked), and none
        // can be taken while `t` lives: `Graph` is not `Sync`, so no other
        // thread has it, and `push_computed` runs only the forward rule and
        // the arrays' growth, never code that could reach this graph.
        let t = unsafe { &mut *self.tape.as_ptr() };
        let i = t.push_computed(node);
        Value::new(self, i)
    }

    /// The handle of an existing node.
    ///
    /// # Panics
    /// If `id` is from another graph, or stale: its node was dropped by a
    /// [`Graph::truncate`] (even if a new node now sits at its index).
    ///
    /// ```should_panic
    /// let (a, b) = (backprop::Graph::new(), backprop::Graph::new());
    /// let x = a.value(1.0).id();
    /// b.value(2.0);
    /// b.get(x); // panics: node #0 belongs to another graph
    /// ```
    pub fn get(&self, id: NodeId) -> Value<'_> {
        let i = self.tape.borrow().check(id);
        Value::new(self, i)
    }

    /// Whether `id` names a live node of this graph (not from another
    /// graph, not dropped by a truncation).
    ///
    /// ```
    /// let mut g = backprop::Graph::new();
    /// let mark = g.mark();
    /// let x = g.value(1.0).id();
    /// assert!(g.contains(x));
    /// g.truncate(mark);
    /// g.value(2.0);
    /// assert!(!g.contains(x)); // a new node sits at its index
    /// ```
    pub fn contains(&self, id: NodeId) -> bool {
        let t = self.tape.borrow();
        t.lineage.reject(id, t.data.len()).is_none()
    }

    /// Checks that every id names a live node of this graph: what code
    /// that indexes [`Graph::data_and_grad_mut`] with ids calls first.
    ///
    /// # Panics
    /// On the first id from another graph or stale, with a message that
    /// says which.
    pub fn check_ids(&self, ids: &[NodeId]) {
        let t = self.tape.borrow();
        for &id in ids {
            t.check(id);
        }
    }

    /// The sum of `values` as one n-ary node (see [`Value::sum`]); a leaf
    /// holding 0 when there are none.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let xs = [g.value(1.0), g.value(2.0), g.value(3.0)];
    /// assert_eq!(g.sum(xs).data(), 6.0);
    /// assert_eq!(g.sum([]).data(), 0.0);
    /// ```
    ///
    /// # Panics
    /// If a value belongs to another graph.
    pub fn sum<'g>(&'g self, values: impl IntoIterator<Item = Value<'g>>) -> Value<'g> {
        let mut ids = std::mem::take(&mut self.tape.borrow_mut().pending);
        ids.clear();
        // Collect first: the iterator may itself build nodes on this graph.
        for v in values {
            self.check_same(v);
            ids.push(v.index);
        }
        let at = {
            let mut t = self.tape.borrow_mut();
            let at = side_index(t.args.len());
            t.args.extend_from_slice(&ids);
            at
        };
        let n = side_index(ids.len());
        self.tape.borrow_mut().pending = ids;
        self.push(Node::Sum { at, n })
    }

    /// The dot product `Σ w_i * x_i` as one n-ary [`Op::Dot`](super::Op::Dot)
    /// node (see [`Graph::linear`], which adds a bias).
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let w = [g.value(1.0), g.value(2.0)];
    /// let x = [g.value(3.0), g.value(4.0)];
    /// let y = g.dot(&w, &x);
    /// assert_eq!(y.data(), 11.0);
    /// y.backward();
    /// assert_eq!((w[1].grad(), x[1].grad()), (4.0, 2.0));
    /// ```
    ///
    /// # Panics
    /// If the slices differ in length or a value belongs to another graph.
    pub fn dot<'g>(&'g self, w: &[Value<'g>], x: &[Value<'g>]) -> Value<'g> {
        self.fused_dot(w, x, None)
    }

    /// A neuron's pre-activation `Σ w_i * x_i + b` as one
    /// [`Op::Dot`](super::Op::Dot) node.
    ///
    /// Forward `Σ w_i x_i + b`; derivatives `d/dw_i = x_i`, `d/dx_i = w_i`,
    /// `d/db = 1`. When the weights are consecutive nodes (created one after
    /// the other, as a layer's parameters are) and so are the inputs (the
    /// previous layer's outputs), the node stores just where each run
    /// starts, and forward and backward are loops over contiguous memory.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let w = [g.value(0.5), g.value(-1.0)];
    /// let b = g.value(0.25);
    /// let x = [g.value(2.0), g.value(3.0)];
    /// let y = g.linear(&w, &x, b);
    /// assert_eq!(y.data(), 0.5 * 2.0 - 1.0 * 3.0 + 0.25);
    /// y.backward();
    /// assert_eq!((w[0].grad(), x[1].grad(), b.grad()), (2.0, -1.0, 1.0));
    /// ```
    ///
    /// # Panics
    /// If the slices differ in length or a value belongs to another graph.
    pub fn linear<'g>(&'g self, w: &[Value<'g>], x: &[Value<'g>], b: Value<'g>) -> Value<'g> {
        self.fused_dot(w, x, Some(b))
    }

    /// [`Graph::linear`] over two runs of `n` consecutive nodes, given by
    /// where they start: `Σ_{i<n} w_{w+i} · x_{x+i} + b`.
    ///
    /// This is the contiguous case of `linear` without inspecting each
    /// operand, for callers that know their layout: a layer's weights are
    /// created one after the other, and so are its outputs.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let w = [g.value(0.5), g.value(-1.0)];
    /// let b = g.value(0.25);
    /// let x = [g.value(2.0), g.value(3.0)];
    /// let y = g.linear_runs(w[0].id(), x[0].id(), 2, b.id());
    /// assert_eq!(y.data(), g.linear(&w, &x, b).data());
    /// ```
    ///
    /// # Panics
    /// If `n` is 0, an id is from another graph or stale, or a run does not
    /// fit inside the graph.
    pub fn linear_runs(&self, w: NodeId, x: NodeId, n: usize, b: NodeId) -> Value<'_> {
        let mut t = self.tape.borrow_mut();
        let len = t.data.len();
        let (ws, xs, bi) = (t.check(w), t.check(x), t.check(b));
        assert!(
            n > 0 && ws as usize + n <= len && xs as usize + n <= len,
            "linear_runs: runs of {n} nodes at {w} and {x} do not fit in a graph of {len} nodes"
        );
        let at = side_index(t.args.len());
        t.args.extend([ws, xs, bi]);
        let i = t.push_computed(Node::Dot {
            at,
            n: side_index(n),
            runs: true,
            bias: true,
        });
        drop(t);
        Value::new(self, i)
    }

    /// A dense layer over runs, as [`Graph::linear_runs`] and an
    /// activation per neuron would build it (the same nodes in the same
    /// order: every pre-activation, then every activation), in one borrow
    /// with each id checked once. Neuron `k`'s weights are the run of `n`
    /// nodes at `params[k * (n + 1)]`, its bias `params[k * (n + 1) + n]`;
    /// the inputs are the run of `n` nodes at `x`; `act` is `Op::Relu`,
    /// `Op::Tanh` or `Op::Sigmoid`, or `None` for none. The outputs' ids
    /// are appended to `out`.
    ///
    /// # Panics
    /// As [`Graph::linear_runs`], or if `act` is another op.
    pub(crate) fn dense_runs(
        &self,
        params: &[NodeId],
        x: NodeId,
        n: usize,
        act: Option<super::Op>,
        out: &mut Vec<NodeId>,
    ) {
        let mut t = self.tape.borrow_mut();
        let xs = t.check(x);
        let fits = |t: &Tape, start: u32| n > 0 && start as usize + n <= t.data.len();
        assert!(
            fits(&t, xs),
            "linear_runs: a run of {n} inputs at {x} does not fit in the graph"
        );
        let first = t.data.len() as u32;
        for p in params.chunks_exact(n + 1) {
            let (ws, bi) = (t.check(p[0]), t.check(p[n]));
            assert!(
                fits(&t, ws),
                "linear_runs: a run of {n} weights at {} does not fit in the graph",
                p[0]
            );
            let at = side_index(t.args.len());
            t.args.extend([ws, xs, bi]);
            t.push_computed(Node::Dot {
                at,
                n: side_index(n),
                runs: true,
                bias: true,
            });
        }
        let end = t.data.len() as u32;
        for i in first..end {
            let i = match act {
                None => i,
                Some(super::Op::Relu) => t.push_computed(Node::Relu(i)),
                Some(super::Op::Tanh) => t.push_computed(Node::Tanh(i)),
                Some(super::Op::Sigmoid) => t.push_computed(Node::Sigmoid(i)),
                Some(op) => panic!("dense_runs: {op:?} is not an activation"),
            };
            out.push(t.id(i));
        }
    }

    fn fused_dot<'g>(
        &'g self,
        w: &[Value<'g>],
        x: &[Value<'g>],
        b: Option<Value<'g>>,
    ) -> Value<'g> {
        assert_eq!(
            w.len(),
            x.len(),
            "dot needs as many weights as inputs, got {} weights and {} inputs",
            w.len(),
            x.len()
        );
        for v in w.iter().chain(x).chain(&b) {
            self.check_same(*v);
        }
        let consecutive = |vs: &[Value<'g>]| vs.windows(2).all(|p| p[1].index == p[0].index + 1);
        let runs = !w.is_empty() && consecutive(w) && consecutive(x);
        let at = {
            let mut t = self.tape.borrow_mut();
            let at = side_index(t.args.len());
            if runs {
                t.args.extend([w[0].index, x[0].index]);
            } else {
                t.args.extend(w.iter().chain(x).map(|v| v.index));
            }
            t.args.extend(b.map(|b| b.index));
            at
        };
        self.push(Node::Dot {
            at,
            n: side_index(w.len()),
            runs,
            bias: b.is_some(),
        })
    }

    /// How many nodes the graph holds.
    pub fn len(&self) -> usize {
        self.tape.borrow().data.len()
    }

    /// Whether the graph holds no node.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of heap memory the graph holds now (allocated capacity of all
    /// its buffers, labels and the truncation records excluded).
    pub fn memory_bytes(&self) -> usize {
        use std::mem::size_of;
        let t = self.tape.borrow();
        t.data.capacity() * size_of::<f64>()
            + t.grad.capacity() * size_of::<f64>()
            + t.nodes.capacity() * size_of::<Node>()
            + t.consts.capacity() * size_of::<f64>()
            + t.args.capacity() * size_of::<u32>()
            + t.adj.capacity() * size_of::<f64>()
            + t.reached.capacity() * size_of::<u64>()
            + t.pending.capacity() * size_of::<u32>()
    }

    /// The current end of the arena: pass it to [`Graph::truncate`] to drop
    /// everything created after this call.
    pub fn mark(&self) -> Mark {
        self.tape.borrow().mark()
    }

    /// Drops every node created after `mark`, keeping the storage for reuse.
    /// Nodes before the mark keep their data, gradients, labels and ids;
    /// the [`NodeId`]s of dropped nodes become stale, and using one is
    /// caught (even after new nodes take their indices).
    ///
    /// Taking `&mut self` means no [`Value`] handle can outlive this call.
    ///
    /// # Panics
    /// If `mark` is from another graph, or stale (the graph was truncated
    /// below it after it was taken).
    ///
    /// ```should_panic
    /// let mut g = backprop::Graph::new();
    /// let m0 = g.mark();
    /// g.value(1.0);
    /// let m1 = g.mark();
    /// g.truncate(m0);
    /// g.value(2.0);
    /// g.truncate(m1); // panics: the mark at 1 nodes is stale
    /// ```
    pub fn truncate(&mut self, mark: Mark) {
        self.tape.get_mut().truncate(mark);
    }

    /// Drops every node that none of `roots` depends on, and rewrites
    /// `roots` to the kept nodes' new ids.
    ///
    /// The kept nodes keep their creation order (still a topological
    /// order), data, gradients, labels and ops; they slide down to close
    /// the gaps. This is how a graph without a truncation point stays
    /// small: the Python package compacts its graph when it has doubled,
    /// keeping the nodes that live Python objects can reach.
    ///
    /// Every [`NodeId`] and [`Mark`] taken before the call is stale
    /// afterwards, except the rewritten `roots`: using one is caught, as
    /// after [`Graph::truncate`].
    ///
    /// ```
    /// let mut g = backprop::Graph::new();
    /// let w = g.value(3.0).id();
    /// let old = (g.get(w) * 2.0).id(); // no longer needed
    /// let y = (g.get(w) * g.get(w)).id(); // y = w², dy/dw = 6
    /// let mut roots = [w, y];
    /// g.compact(&mut roots);
    /// let [w, y] = roots;
    /// assert_eq!(g.len(), 2); // w and w * w
    /// assert!(!g.contains(old));
    /// g.get(y).backward();
    /// assert_eq!(g.get(w).grad(), 6.0);
    /// ```
    ///
    /// # Panics
    /// If a root is from another graph or stale.
    pub fn compact(&mut self, roots: &mut [NodeId]) {
        let t = self.tape.get_mut();
        let indices: Vec<u32> = roots.iter().map(|&id| t.check(id)).collect();
        let remap = t.compact(&indices);
        for (id, i) in roots.iter_mut().zip(indices) {
            *id = t.id(remap[i as usize]);
        }
    }

    /// Removes every node, keeping the storage for reuse.
    pub fn clear(&mut self) {
        let t = self.tape.get_mut();
        let start = Mark {
            nodes: 0,
            consts: 0,
            args: 0,
            ..t.mark()
        };
        t.truncate(start);
    }

    /// Sets every gradient in the graph to 0.
    pub fn zero_grad(&self) {
        self.tape.borrow_mut().grad.fill(0.0);
    }

    /// All data and all gradients, indexed by [`NodeId::index`]: what an
    /// optimizer needs to update parameters in place without any lookup.
    /// Check foreign ids first with [`Graph::check_ids`].
    ///
    /// ```
    /// let mut g = backprop::Graph::new();
    /// let w = g.value(1.0).id();
    /// let (data, grad) = g.data_and_grad_mut();
    /// grad[w.index()] = 0.5;
    /// data[w.index()] -= 0.1 * grad[w.index()];
    /// assert_eq!(g.get(w).data(), 0.95);
    /// ```
    pub fn data_and_grad_mut(&mut self) -> (&mut [f64], &mut [f64]) {
        let t = self.tape.get_mut();
        t.grads_full();
        (&mut t.data, &mut t.grad)
    }

    /// The gradients `d output / d input` as numbers, fresh (not added to
    /// any [`Value::grad`]): PyTorch's `torch.autograd.grad(output,
    /// inputs)`, with 0 for an input the output does not depend on. The
    /// sign of a zero gradient is kept (`-0.0` where PyTorch has `-0.0`).
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let x = g.value(0.0);
    /// let y = (-(x * x)).exp();
    /// let d = g.gradients(y, &[x]);
    /// assert!(d[0] == 0.0 && d[0].is_sign_negative()); // PyTorch: -0.0
    /// assert_eq!(x.grad(), 0.0); // untouched
    /// ```
    ///
    /// # Panics
    /// If a value belongs to another graph.
    pub fn gradients<'g>(&'g self, output: Value<'g>, inputs: &[Value<'g>]) -> Vec<f64> {
        for v in inputs.iter().chain([&output]) {
            self.check_same(*v);
        }
        let mut t = self.tape.borrow_mut();
        t.backward::<false>(output.index as usize, false);
        inputs.iter().map(|v| t.adjoint(v.index as usize)).collect()
    }

    /// The gradients `d output / d input` as new nodes of this graph, which
    /// can be differentiated again: PyTorch's `torch.autograd.grad(output,
    /// inputs, create_graph=True)`.
    ///
    /// The backward computation is appended to the graph, built from the
    /// same chain rule as [`Value::backward`] (so the numbers agree to the
    /// bit), and only along paths from `output` to an input. An input that
    /// `output` does not depend on gets a constant 0 (PyTorch's
    /// `materialize_grads=True`).
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let x = g.value(3.0);
    /// let y = x.powf(3.0); // y' = 3x², y'' = 6x
    /// let dy = g.grad(y, &[x])[0];
    /// let d2y = g.grad(dy, &[x])[0];
    /// assert_eq!((dy.data(), d2y.data()), (27.0, 18.0));
    /// ```
    ///
    /// # Panics
    /// If a value belongs to another graph.
    pub fn grad<'g>(&'g self, output: Value<'g>, inputs: &[Value<'g>]) -> Vec<Value<'g>> {
        for v in inputs.iter().chain([&output]) {
            self.check_same(*v);
        }
        let inputs: Vec<u32> = inputs.iter().map(|v| v.index).collect();
        grad_values(self, output.index, &inputs)
    }

    /// The nodes and edges of the subgraph that leads to `root`, in creation
    /// order: what the notebook's `trace` computes, but deterministic and
    /// without recursion.
    ///
    /// ```
    /// let g = backprop::Graph::new();
    /// let a = g.value(2.0);
    /// let unrelated = g.value(5.0);
    /// let y = a * a + 1.0;
    /// let t = g.trace(y.id());
    /// assert_eq!(t.nodes.len(), 4); // a, a*a, the constant 1, y
    /// assert!(!t.nodes.contains(&unrelated.id()));
    /// assert_eq!(t.edges.len(), 3); // a->a*a once, a*a->y, 1->y
    /// ```
    ///
    /// # Panics
    /// If `root` is from another graph or stale.
    pub fn trace(&self, root: NodeId) -> Trace {
        let t = self.tape.borrow();
        let r = t.check(root) as usize;
        let mut reached = vec![false; r + 1];
        reached[r] = true;
        // `seen[c] == i + 1` once child `c` has an edge to parent `i`: drops
        // repeated operands (`a * a`) in linear time, even for wide nodes.
        let mut seen = vec![0usize; r + 1];
        let mut nodes = Vec::new();
        let mut edges = Vec::new();
        let mut children = Vec::new();
        for i in (0..=r).rev() {
            if !reached[i] {
                continue;
            }
            let parent = t.id(i as u32);
            nodes.push(parent);
            children.clear();
            t.nodes[i].for_each_operand(&t.args, |c| {
                let c = c as usize;
                reached[c] = true;
                if seen[c] != i + 1 {
                    seen[c] = i + 1;
                    children.push(c as u32);
                }
            });
            for &c in children.iter().rev() {
                edges.push((t.id(c), parent));
            }
        }
        nodes.reverse();
        edges.reverse();
        Trace { nodes, edges }
    }

    /// Nodes that carry a label, with their labels, in creation order.
    pub fn labels(&self) -> Vec<(NodeId, String)> {
        let t = self.tape.borrow();
        t.labels
            .iter()
            .map(|(&i, l)| (t.id(i), l.clone()))
            .collect()
    }

    #[inline]
    pub(super) fn check_same(&self, v: Value<'_>) {
        assert!(
            std::ptr::eq(self, v.graph()),
            "cannot combine values from two different graphs (node {} belongs to another graph)",
            v.id()
        );
    }
}

impl fmt::Debug for Graph {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Graph").field("len", &self.len()).finish()
    }
}

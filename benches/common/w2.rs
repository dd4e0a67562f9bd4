//! W2, shared by the `engine` and `workloads` benches: a graph of about
//! 1,000,000 scalar nodes of mixed ops.

use backprop::{Graph, NodeId, Value};

/// Target size of the benchmark graph.
pub const NODES: usize = 1_000_000;
const RING: usize = 64;

/// Builds the mixed-op graph on top of `leaves` and returns its root.
/// Each step adds six nodes: `m = x*y; s = m + x; t = tanh(s);
/// r = relu(t); p = r**2; x' = t + p`, and every node is an ancestor of
/// the root (a sum over the ring of latest values).
pub fn build<'g>(g: &'g Graph, leaves: &[NodeId]) -> Value<'g> {
    let mut ring: Vec<Value<'g>> = leaves.iter().map(|&id| g.get(id)).collect();
    let steps = (NODES - RING - 1) / 6;
    for i in 0..steps {
        let j = i % RING;
        let x = ring[j];
        let y = ring[(i * 7 + 3) % RING];
        let m = x * y;
        let s = m + x;
        let t = s.tanh();
        let p = t.relu().powf(2.0);
        ring[j] = t + p;
    }
    g.sum(ring)
}

/// The ring's initial values, as leaves of `g`.
pub fn leaves(g: &Graph) -> Vec<NodeId> {
    (0..RING)
        .map(|k| g.value(((k as f64) * 0.37).sin()).id())
        .collect()
}

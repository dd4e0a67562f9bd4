//! The fused, multi-threaded training step against an unfused,
//! single-graph reference: bit-identical results for any thread count, and
//! the same training within 1e-12 as micrograd's op-by-op formulation.

use backprop::data;
use backprop::nn::{Module, TrainConfig, Trainer};
use backprop::{Graph, NodeId, Value};

use crate::common::sgd_trainer;

fn trainer(threads: usize, batch_size: Option<usize>) -> Trainer {
    let config = TrainConfig {
        threads,
        batch_size,
        ..Default::default()
    };
    sgd_trainer(2, &[16, 16, 1], 1.0, config)
}

fn params(t: &Trainer) -> Vec<u64> {
    let g = t.graph();
    t.model()
        .parameters()
        .iter()
        .map(|&p| g.get(p).data().to_bits())
        .collect()
}

#[test]
fn results_are_bit_identical_for_any_thread_count() {
    let d = data::moons(100, 0.1, 1337);
    for batch in [None, Some(60), Some(7)] {
        let mut reference = trainer(1, batch);
        let want: Vec<u64> = (0..15)
            .map(|_| reference.step(&d).unwrap().loss.to_bits())
            .collect();
        for threads in [2, 3, 5, 8] {
            let mut t = trainer(threads, batch);
            assert_eq!(t.threads(), threads);
            let mut most_used = 1;
            let got: Vec<u64> = (0..15)
                .map(|_| {
                    let loss = t.step(&d).unwrap().loss.to_bits();
                    most_used = most_used.max(t.threads_used());
                    loss
                })
                .collect();
            assert_eq!(got, want, "losses, {threads} threads, batch {batch:?}");
            // The trainer times several threads against one in its first
            // steps, so several really ran (where the batch has two
            // chunks or more).
            let rows = batch.unwrap_or(d.len());
            assert_eq!(
                most_used,
                t.threads_for(rows),
                "{threads} threads, batch {batch:?}"
            );
            if rows >= 2 * backprop::nn::CHUNK_ROWS {
                assert!(most_used > 1);
            }
            assert_eq!(
                params(&t),
                params(&reference),
                "parameters, {threads} threads"
            );
        }
    }
}

/// micrograd's neuron: `b + Σ w_i x_i` one `*` and one `+` at a time.
fn unfused_loss<'g>(g: &'g Graph, layers: &[Vec<Vec<NodeId>>], d: &data::Dataset) -> Value<'g> {
    let n = d.len();
    let mut losses = Vec::new();
    for i in 0..n {
        let mut x: Vec<Value<'g>> = d.x(i).iter().map(|&v| g.value(v)).collect();
        for (li, layer) in layers.iter().enumerate() {
            x = layer
                .iter()
                .map(|neuron| {
                    let (w, b) = neuron.split_at(neuron.len() - 1);
                    let mut act = g.get(b[0]);
                    for (wi, xi) in w.iter().zip(&x) {
                        act += g.get(*wi) * *xi;
                    }
                    if li + 1 < layers.len() {
                        act.relu()
                    } else {
                        act
                    }
                })
                .collect();
        }
        let y = if d.label(i) == 1 { 1.0 } else { -1.0 };
        losses.push((1.0 + -y * x[0]).relu());
    }
    let data_loss = losses.into_iter().fold(g.value(0.0), |a, l| a + l) * (1.0 / n as f64);
    let ps: Vec<NodeId> = layers.iter().flatten().flatten().copied().collect();
    let reg = ps
        .iter()
        .fold(g.value(0.0), |a, &p| a + g.get(p) * g.get(p));
    data_loss + 1e-4 * reg
}

#[test]
fn fused_training_matches_unfused_within_1e_12() {
    let d = data::moons(100, 0.1, 1337);
    let mut t = trainer(2, None);
    // The same initial weights on a graph of their own.
    let mut g = Graph::new();
    let layers: Vec<Vec<Vec<NodeId>>> = t
        .model()
        .layers()
        .iter()
        .map(|l| {
            l.neurons()
                .iter()
                .map(|n| {
                    n.parameters()
                        .iter()
                        .map(|&p| g.value(t.graph().get(p).data()).id())
                        .collect()
                })
                .collect()
        })
        .collect();
    let flat: Vec<NodeId> = layers.iter().flatten().flatten().copied().collect();
    let mark = g.mark();
    for k in 0..20 {
        let fused = t.step(&d).unwrap();
        let loss = {
            let l = unfused_loss(&g, &layers, &d);
            l.backward();
            l.data()
        };
        assert!(
            (fused.loss - loss).abs() <= 1e-12,
            "step {k}: {} vs {loss}",
            fused.loss
        );
        let lr = 1.0 - 0.9 * k as f64 / 100.0;
        let (data, grad) = g.data_and_grad_mut();
        for &p in &flat {
            data[p.index()] -= lr * grad[p.index()];
            grad[p.index()] = 0.0;
        }
        g.truncate(mark);
        let fused_params = t.model().parameters();
        for (&a, &b) in fused_params.iter().zip(&flat) {
            let (a, b) = (t.graph().get(a).data(), g.get(b).data());
            assert!((a - b).abs() <= 1e-12, "step {k}: parameter {a} vs {b}");
        }
    }
}

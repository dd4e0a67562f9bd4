//! W2: a graph of about 1,000,000 scalar nodes of mixed ops (`*`, `+`,
//! `tanh`, `relu`, `powf`): forward (build) time, backward time, nodes per
//! second, and bytes per node, cold (a fresh graph) and in the steady state
//! of a training loop (storage reused after `truncate`).
//!
//! W2 also measures second order: a Hessian-vector product with respect to
//! the 64 leaves (`hvp`: forward, gradient as graph values, its dot with
//! `v`, and that product's gradient), next to one gradient (`gradient`:
//! forward and backward), both in the steady state.
//!
//! `cargo bench --bench engine`

use std::hint::black_box;
use std::time::{Duration, Instant};

use backprop::Graph;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "common/w2.rs"]
mod w2;
use w2::{NODES, build, leaves};

fn report_memory() {
    let mut g = Graph::new();
    let ids = leaves(&g);
    let mark = g.mark();
    let n = {
        let root = build(&g, &ids);
        root.backward();
        g.len()
    };
    let grown = g.memory_bytes();
    g.truncate(mark);
    {
        let root = build(&g, &ids);
        root.backward();
    }
    let steady = g.memory_bytes();
    let sized = Graph::with_capacity(n);
    let exact = {
        let ids = leaves(&sized);
        build(&sized, &ids).backward();
        sized.memory_bytes()
    };
    eprintln!(
        "graph: {n} nodes; bytes per node: {:.1} with capacity sized to the graph \
         (Graph::with_capacity), {:.1} after growing by doubling, {:.1} steady after truncate",
        exact as f64 / n as f64,
        grown as f64 / n as f64,
        steady as f64 / n as f64,
    );
}

fn bench(c: &mut Criterion) {
    report_memory();
    let mut group = c.benchmark_group("w2_1m_nodes");
    group.throughput(Throughput::Elements(NODES as u64));
    group.sample_size(20);
    group.measurement_time(Duration::from_secs(8));

    // Steady state: one graph, truncated back to the leaves each iteration.
    let mut g = Graph::new();
    let ids = leaves(&g);
    let mark = g.mark();
    build(&g, &ids).backward();
    g.truncate(mark);

    group.bench_function("forward_steady", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                black_box(build(&g, &ids).data());
                total += start.elapsed();
                g.truncate(mark);
            }
            total
        })
    });
    group.bench_function("backward_steady", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                {
                    let root = build(&g, &ids);
                    let start = Instant::now();
                    root.backward();
                    total += start.elapsed();
                }
                g.truncate(mark);
            }
            total
        })
    });
    group.bench_function("forward_backward_steady", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                {
                    let root = build(&g, &ids);
                    root.backward();
                }
                g.truncate(mark);
                total += start.elapsed();
            }
            total
        })
    });
    group.bench_function("forward_backward_cold", |b| {
        b.iter(|| {
            let g = Graph::new();
            let ids = leaves(&g);
            let root = build(&g, &ids);
            root.backward();
            black_box(g.get(ids[0]).grad())
        })
    });
    group.finish();

    let mut group = c.benchmark_group("w2_second_order");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    let v: Vec<f64> = (0..ids.len()).map(|k| ((k as f64) * 0.61).cos()).collect();
    group.bench_function("gradient", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                {
                    let xs: Vec<_> = ids.iter().map(|&id| g.get(id)).collect();
                    let root = build(&g, &ids);
                    black_box(g.gradients(root, &xs));
                }
                total += start.elapsed();
                g.truncate(mark);
            }
            total
        })
    });
    group.bench_function("hvp", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                {
                    let xs: Vec<_> = ids.iter().map(|&id| g.get(id)).collect();
                    let root = build(&g, &ids);
                    black_box(g.hvp(root, &xs, &v));
                }
                total += start.elapsed();
                g.truncate(mark);
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

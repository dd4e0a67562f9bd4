//! The lane program of a training step against the scalar graph it
//! replays: the same loss, accuracy and gradients to the last bit, for
//! every activation and loss, full batch and mini-batches, one thread and
//! several, and over many steps (so also the same parameters).

use backprop::data::{self, Dataset};
use backprop::nn::{Activation, Loss, Mlp, MlpConfig, StepStats, TrainConfig, Trainer};
use backprop::optim::Optimizer;
use backprop::{Graph, NodeId};
use std::cell::RefCell;
use std::rc::Rc;

/// Plain SGD that also records every step's gradients (as bits), so that
/// the two programs' gradients are compared, not only their effect.
struct Recording {
    lr: f64,
    grads: Rc<RefCell<Vec<Vec<u64>>>>,
}

impl Optimizer for Recording {
    fn step(&mut self, g: &mut Graph, params: &[NodeId]) {
        let (data, grad) = g.data_and_grad_mut();
        self.grads
            .borrow_mut()
            .push(params.iter().map(|p| grad[p.index()].to_bits()).collect());
        for p in params {
            data[p.index()] -= self.lr * grad[p.index()];
            grad[p.index()] = 0.0;
        }
    }
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
}

/// What a run gives: every step's loss and accuracy, every step's
/// gradients, and the final parameters, all as bits.
#[derive(Debug, PartialEq)]
struct Run {
    stats: Vec<Result<[u64; 2], String>>,
    grads: Vec<Vec<u64>>,
    params: Vec<u64>,
}

struct Setup {
    sizes: &'static [usize],
    mlp: MlpConfig,
    config: TrainConfig,
    lr: f64,
}

/// Trains `steps` steps on `d`, with the lane program or the scalar graph;
/// `prepare` may change the parameters first.
fn run(
    s: &Setup,
    d: &Dataset,
    lanes: bool,
    steps: usize,
    prepare: impl Fn(&mut Graph, &Mlp),
) -> Run {
    let mut g = Graph::new();
    let model = Mlp::new(&g, d.n_features(), s.sizes, &s.mlp).unwrap();
    prepare(&mut g, &model);
    let grads = Rc::new(RefCell::new(Vec::new()));
    let opt = Recording {
        lr: s.lr,
        grads: Rc::clone(&grads),
    };
    let mut t = Trainer::new(g, model, Box::new(opt), s.config);
    assert!(t.lane_program(), "Mlp::new's parameters are one run");
    t.set_lane_program(lanes);
    assert_eq!(t.lane_program(), lanes);
    // A diverging run must diverge at the same step with the same loss.
    let mut stats = Vec::new();
    for _ in 0..steps {
        match t.step(d) {
            Ok(StepStats { loss, accuracy, .. }) => {
                stats.push(Ok([loss.to_bits(), accuracy.to_bits()]))
            }
            Err(e) => {
                stats.push(Err(e.to_string()));
                break;
            }
        }
    }
    let g = t.graph();
    let params = t
        .model()
        .parameters()
        .iter()
        .map(|&p| g.get(p).data().to_bits())
        .collect();
    let grads = grads.take();
    Run {
        stats,
        grads,
        params,
    }
}

fn assert_same(s: &Setup, d: &Dataset, steps: usize, what: &str) {
    assert_same_with(s, d, steps, what, |_, _| {});
}

fn assert_same_with(
    s: &Setup,
    d: &Dataset,
    steps: usize,
    what: &str,
    prepare: impl Fn(&mut Graph, &Mlp) + Copy,
) {
    let want = run(s, d, false, steps, prepare);
    let got = run(s, d, true, steps, prepare);
    // Every setup here trains (the divergence check is compared too).
    let ok = want.stats.iter().filter(|s| s.is_ok()).count();
    assert!(ok >= steps / 2, "{what}: {:?}", want.stats);
    assert_eq!(
        want.grads.len(),
        ok,
        "{what}: the recorder saw every update"
    );
    assert_eq!(got.stats, want.stats, "{what}: losses and accuracies");
    for (k, (a, b)) in got.grads.iter().zip(&want.grads).enumerate() {
        assert_eq!(a, b, "{what}: gradients of step {k}");
    }
    assert_eq!(
        got.params, want.params,
        "{what}: parameters after {steps} steps"
    );
}

fn setup(
    sizes: &'static [usize],
    activation: Activation,
    output: Activation,
    config: TrainConfig,
    lr: f64,
) -> Setup {
    Setup {
        sizes,
        mlp: MlpConfig {
            activation,
            output_activation: output,
            ..Default::default()
        },
        config,
        lr,
    }
}

const HIDDEN: [Activation; 4] = [
    Activation::Relu,
    Activation::Tanh,
    Activation::Sigmoid,
    Activation::Linear,
];

#[test]
fn every_activation_and_binary_loss_matches_the_scalar_graph() {
    let d = data::moons(60, 0.1, 7);
    for act in HIDDEN {
        for loss in [Loss::Hinge, Loss::Mse, Loss::Bce] {
            for (batch, threads) in [(None, 1), (Some(20), 1), (None, 3), (Some(7), 2)] {
                let config = TrainConfig {
                    steps: 20,
                    batch_size: batch,
                    loss,
                    threads,
                    ..Default::default()
                };
                let lr = if loss == Loss::Mse { 0.01 } else { 0.1 };
                let s = setup(&[8, 6, 1], act, Activation::Linear, config, lr);
                let what = format!("{act:?} {loss} batch {batch:?} threads {threads}");
                assert_same(&s, &d, 20, &what);
            }
        }
    }
}

#[test]
fn output_activations_match_the_scalar_graph() {
    let d = data::moons(40, 0.1, 3);
    for output in HIDDEN {
        for loss in [Loss::Hinge, Loss::Mse, Loss::Bce] {
            let config = TrainConfig {
                steps: 20,
                loss,
                threads: 1,
                ..Default::default()
            };
            let s = setup(&[5, 1], Activation::Tanh, output, config, 0.5);
            assert_same(&s, &d, 20, &format!("output {output:?} {loss}"));
        }
    }
}

#[test]
fn cross_entropy_matches_the_scalar_graph() {
    let d = data::spiral(90, 3, 0.1, 11);
    for act in HIDDEN {
        for (batch, threads) in [(None, 1), (Some(32), 3)] {
            let config = TrainConfig {
                steps: 20,
                batch_size: batch,
                loss: Loss::CrossEntropy,
                threads,
                alpha: 1e-3,
                ..Default::default()
            };
            let s = setup(&[10, 10, 3], act, Activation::Linear, config, 0.2);
            assert_same(
                &s,
                &d,
                20,
                &format!("{act:?} cross-entropy batch {batch:?}"),
            );
        }
    }
}

#[test]
fn w3_and_no_regularisation_match_the_scalar_graph() {
    // W3's shape (2-64-64-1 on 200 moons), 8 chunks, 1 and 8 threads.
    let d = data::moons(200, 0.1, 1338);
    for (alpha, threads) in [(1e-4, 1), (1e-4, 8), (0.0, 2)] {
        let config = TrainConfig {
            steps: 20,
            alpha,
            threads,
            ..Default::default()
        };
        let s = setup(
            &[64, 64, 1],
            Activation::Relu,
            Activation::Linear,
            config,
            1.0,
        );
        assert_same(&s, &d, 20, &format!("W3 alpha {alpha} threads {threads}"));
    }
}

/// Sets the bias of neuron `k` of layer `l`.
fn set_bias(g: &mut Graph, m: &Mlp, l: usize, k: usize, b: f64) {
    let id = m.layers()[l].neurons()[k].bias();
    g.data_and_grad_mut().0[id.index()] = b;
}

#[test]
fn dead_relus_and_samples_past_the_hinge_pass_exact_zeros() {
    let d = data::moons(50, 0.1, 5);
    let config = TrainConfig {
        steps: 5,
        threads: 1,
        ..Default::default()
    };
    let s = setup(
        &[6, 6, 1],
        Activation::Relu,
        Activation::Linear,
        config,
        0.1,
    );
    // A neuron dead for every row in each hidden layer, and an output bias
    // that puts every row of class 1 past the margin.
    let prepare = |g: &mut Graph, m: &Mlp| {
        set_bias(g, m, 0, 2, -1e3);
        set_bias(g, m, 1, 4, -1e3);
        set_bias(g, m, 2, 0, 50.0);
    };
    assert_same_with(&s, &d, 5, "dead relus", prepare);
    // The dead neurons' weights and biases get their L2 term (2 alpha p)
    // and nothing else.
    let mut g = Graph::new();
    let m = Mlp::new(&g, 2, &[6, 6, 1], &s.mlp).unwrap();
    prepare(&mut g, &m);
    let first = run(&s, &d, true, 1, prepare);
    for (l, k) in [(0, 2), (1, 4)] {
        let n = &m.layers()[l].neurons()[k];
        for &w in n.weights().iter().chain([&n.bias()]) {
            let i = m.parameters().iter().position(|&p| p == w).unwrap();
            let got = f64::from_bits(first.grads[0][i]);
            assert_eq!(got, 2.0 * (1e-4 * g.get(w).data()), "layer {l} neuron {k}");
        }
    }
}

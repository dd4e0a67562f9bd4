//! Training runs end to end: micrograd's demo, spirals, constant memory.

use backprop::Graph;
use backprop::data;
use backprop::nn::{Loss, Mlp, MlpConfig, Module, TrainConfig, Trainer};
use backprop::optim::{Adam, AdamConfig, LrSchedule, Optimizer, Sgd, SgdConfig};

use crate::common::sgd_trainer;

/// The configuration `backprop train` runs with no arguments.
fn micrograd_demo(seed: u64) -> (Trainer, data::Dataset) {
    let d = data::moons(100, 0.1, seed);
    let g = Graph::new();
    let model = Mlp::new(
        &g,
        2,
        &[16, 16, 1],
        &MlpConfig {
            seed,
            ..Default::default()
        },
    )
    .unwrap();
    let opt = Sgd::new(SgdConfig {
        lr: 1.0,
        ..Default::default()
    });
    let t = Trainer::new(
        g,
        model,
        Box::new(opt),
        TrainConfig {
            seed,
            ..Default::default()
        },
    );
    (t, d)
}

#[test]
fn micrograd_demo_reaches_full_accuracy() {
    let (mut t, d) = micrograd_demo(1337);
    assert_eq!(t.model().num_parameters(), 337);
    let history = t.fit(&d, |_| {}).unwrap();
    assert_eq!(history.len(), 100);
    // micrograd's demo is at 100 % by step ~40.
    let first = history.iter().position(|s| s.accuracy == 1.0).unwrap();
    assert!(first <= 60, "first 100 % at step {first}");
    assert_eq!(history.last().unwrap().accuracy, 1.0);
    assert_eq!(t.accuracy(&d), 1.0);
    assert!(history[99].loss < 0.1 * history[0].loss);
    // micrograd's learning rate 1 - 0.9 k / 100.
    assert_eq!(history[0].lr, 1.0);
    assert!((history[50].lr - 0.55).abs() < 1e-12);
}

#[test]
fn memory_stays_constant_over_steps() {
    let (mut t, d) = micrograd_demo(1337);
    for _ in 0..3 {
        t.step(&d).unwrap();
    }
    let bytes = t.graph().memory_bytes();
    let len = t.graph().len();
    assert_eq!(len, 337, "only the parameters remain between steps");
    for _ in 0..20 {
        t.step(&d).unwrap();
        assert_eq!(t.graph().memory_bytes(), bytes);
        assert_eq!(t.graph().len(), len);
    }
}

#[test]
fn mini_batches_also_keep_memory_constant() {
    let d = data::moons(100, 0.1, 3);
    let config = TrainConfig {
        steps: 40,
        batch_size: Some(16),
        ..Default::default()
    };
    let mut t = sgd_trainer(2, &[8, 1], 0.5, config);
    for _ in 0..3 {
        t.step(&d).unwrap();
    }
    let bytes = t.graph().memory_bytes();
    for _ in 0..20 {
        let s = t.step(&d).unwrap();
        assert!(s.loss.is_finite());
        assert_eq!(t.graph().memory_bytes(), bytes);
    }
}

#[test]
fn spiral_with_cross_entropy_and_adam() {
    let d = data::spiral(150, 3, 0.1, 7);
    let g = Graph::new();
    let config = MlpConfig {
        seed: 7,
        init: backprop::nn::Init::KaimingUniform,
        ..Default::default()
    };
    let model = Mlp::new(&g, 2, &[24, 24, 3], &config).unwrap();
    let opt = Adam::new(AdamConfig {
        lr: 0.02,
        ..Default::default()
    });
    let train = TrainConfig {
        steps: 400,
        loss: Loss::CrossEntropy,
        alpha: 0.0,
        schedule: LrSchedule::Constant,
        ..Default::default()
    };
    let mut t = Trainer::new(g, model, Box::new(opt), train);
    let history = t.fit(&d, |_| {}).unwrap();
    let acc = t.accuracy(&d);
    eprintln!(
        "spiral accuracy {acc}, loss {}",
        history.last().unwrap().loss
    );
    assert!(acc >= 0.95, "accuracy {acc}");
}

#[test]
fn divergence_stops_with_the_step() {
    let d = data::moons(50, 0.1, 1);
    let config = TrainConfig {
        loss: Loss::Mse,
        schedule: LrSchedule::Constant,
        ..Default::default()
    };
    let mut t = sgd_trainer(2, &[16, 16, 1], 1e3, config);
    let err = t.fit(&d, |_| {}).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("training diverged at step "), "{msg}");
}

#[test]
fn a_loss_that_does_not_fit_is_an_error() {
    let d = data::spiral(30, 3, 0.1, 1);
    let t = sgd_trainer(2, &[4, 1], SgdConfig::default().lr, TrainConfig::default());
    assert_eq!(
        t.check(&d).unwrap_err().to_string(),
        "the hinge loss is for 2 classes, but the data has 3 (use cross-entropy)"
    );
}

/// QA defect 2: `fit` reserved room for every step's stats up front, so a
/// huge step count panicked (capacity overflow) before the first step.
#[test]
fn a_huge_step_count_does_not_allocate_up_front() {
    let d = data::moons(10, 0.1, 1);
    let config = TrainConfig {
        steps: usize::MAX,
        ..Default::default()
    };
    let mut t = sgd_trainer(2, &[4, 1], SgdConfig::default().lr, config);
    // Stop the endless run from the callback after the first step.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        t.fit(&d, |s| {
            if s.step == 0 {
                std::panic::panic_any("stop after one step")
            }
        })
    }));
    let payload = result.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"stop after one step"));
}

/// `step` checks the data against the model and the loss first: a binary
/// loss on three classes is an error, not a silent relabelling.
#[test]
fn step_rejects_data_that_does_not_fit() {
    let mut t = sgd_trainer(2, &[4, 1], SgdConfig::default().lr, TrainConfig::default());
    let spiral = backprop::data::spiral(30, 3, 0.1, 1);
    assert!(matches!(
        t.step(&spiral),
        Err(backprop::nn::NnError::LossClasses { .. })
    ));
    let three_features = backprop::data::Dataset::new(vec![0.0; 6], vec![0, 1], 3).unwrap();
    assert!(matches!(
        t.step(&three_features),
        Err(backprop::nn::NnError::FeatureCount { .. })
    ));
}

/// The optimizer's learning rate is the one used: SGD without momentum moves
/// every parameter by `-lr · grad`, so at the first step (same parameters,
/// same gradients) doubling `lr` doubles every move, with and without a
/// schedule (whose factor is 1 at step 0).
#[test]
fn the_optimizers_learning_rate_is_not_overridden() {
    let d = data::moons(40, 0.1, 3);
    let moves = |lr: f64, schedule: LrSchedule| {
        let g = Graph::new();
        let model = Mlp::new(&g, 2, &[4, 1], &MlpConfig::default()).unwrap();
        let before: Vec<f64> = model
            .parameters()
            .iter()
            .map(|&p| g.get(p).data())
            .collect();
        let opt = Sgd::new(SgdConfig {
            lr,
            ..Default::default()
        });
        let config = TrainConfig {
            schedule,
            ..Default::default()
        };
        let mut t = Trainer::new(g, model, Box::new(opt), config);
        let s = t.step(&d).unwrap();
        assert_eq!(s.lr, lr);
        let after = t
            .model()
            .parameters()
            .iter()
            .map(|&p| t.graph().get(p).data());
        after.zip(before).map(|(a, b)| a - b).collect::<Vec<f64>>()
    };
    for schedule in [LrSchedule::Constant, LrSchedule::MICROGRAD] {
        let small = moves(0.125, schedule);
        let large = moves(0.25, schedule);
        assert!(small.iter().any(|&m| m != 0.0));
        for (s, l) in small.iter().zip(&large) {
            // Up to the rounding of `p - lr · grad` (parameters are below 1).
            assert!((2.0 * s - l).abs() < 1e-12, "{s} and {l}");
        }
    }
}

/// The manual loop of the README (forward, loss, `zero_grad`, `backward`,
/// optimizer step, truncate to the mark) keeps memory flat: over 1,000
/// steps every step builds the same number of nodes, the graph is back to
/// the parameters after each, and its storage never grows after the first.
/// It also trains: the loss falls.
#[test]
fn the_manual_loop_keeps_the_graph_flat_over_1000_steps() {
    let d = data::moons(8, 0.1, 5);
    let mut g = Graph::new();
    let model = Mlp::new(&g, 2, &[4, 1], &MlpConfig::default()).unwrap();
    let mark = g.mark();
    let mut opt = Sgd::new(SgdConfig {
        lr: 0.05,
        ..Default::default()
    });
    let mut per_step = None;
    let mut bytes = None;
    let mut losses = Vec::new();
    for _ in 0..1000 {
        let scores: Vec<_> = (0..d.len())
            .map(|i| {
                let x: Vec<_> = d.x(i).iter().map(|&v| g.value(v)).collect();
                model.forward(&g, &x)[0]
            })
            .collect();
        let loss = Loss::Hinge.compute(&g, &scores, d.labels());
        model.zero_grad(&g);
        loss.backward();
        losses.push(loss.data());
        let built = g.len();
        assert_eq!(*per_step.get_or_insert(built), built);
        opt.step(&mut g, model.parameters());
        g.truncate(mark);
        assert_eq!(g.len(), model.parameters().len());
        let now = g.memory_bytes();
        assert_eq!(*bytes.get_or_insert(now), now);
    }
    assert!(per_step.unwrap() > 100, "{per_step:?} nodes per step");
    assert!(
        losses[999] < 0.5 * losses[0],
        "{} -> {}",
        losses[0],
        losses[999]
    );
}

//! Optimizers against numbers computed by hand from their formulas, and
//! against finite differences of the function they minimise.

use backprop::gradcheck::central_difference;
use backprop::optim::{
    Adam, AdamConfig, AdamW, AdamWConfig, LrSchedule, Optimizer, OptimizerKind, Sgd, SgdConfig,
};
use backprop::{Graph, NodeId};

/// Runs `opt` with the given gradients (set by hand, one per step) on one
/// parameter starting at `p0`, returning the parameter after each step.
fn run(opt: &mut dyn Optimizer, p0: f64, grads: &[f64]) -> Vec<f64> {
    let mut g = Graph::new();
    let p = g.value(p0).id();
    grads
        .iter()
        .map(|&grad| {
            g.get(p).set_grad(grad);
            opt.step(&mut g, &[p]);
            assert_eq!(g.get(p).grad(), 0.0, "the optimizer zeroes the gradient");
            g.get(p).data()
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

#[test]
fn sgd_is_p_minus_lr_grad() {
    let mut opt = Sgd::new(SgdConfig {
        lr: 0.1,
        ..Default::default()
    });
    let ps = run(&mut opt, 1.0, &[2.0, -4.0]);
    // 1 - 0.1 * 2 = 0.8; 0.8 + 0.4 = 1.2
    assert!(close(ps[0], 0.8) && close(ps[1], 1.2), "{ps:?}");
}

#[test]
fn sgd_momentum_by_hand() {
    // v1 = 2, p = 1 - 0.2 = 0.8
    // v2 = 0.9 * 2 + 2 = 3.8, p = 0.8 - 0.38 = 0.42
    // v3 = 0.9 * 3.8 - 1 = 2.42, p = 0.42 - 0.242 = 0.178
    let mut opt = Sgd::new(SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        ..Default::default()
    });
    let ps = run(&mut opt, 1.0, &[2.0, 2.0, -1.0]);
    for (p, want) in ps.iter().zip([0.8, 0.42, 0.178]) {
        assert!(close(*p, want), "{ps:?}");
    }
}

#[test]
fn sgd_weight_decay_adds_to_the_gradient() {
    // g = 1 + 0.5 * 2 = 2, p = 2 - 0.1 * 2 = 1.8
    let mut opt = Sgd::new(SgdConfig {
        lr: 0.1,
        weight_decay: 0.5,
        ..Default::default()
    });
    assert!(close(run(&mut opt, 2.0, &[1.0])[0], 1.8));
}

/// Adam as PyTorch documents it (`torch.optim.Adam` / `AdamW`), written out
/// for one parameter: the reference the optimizer is checked against.
fn adam_reference(p0: f64, grads: &[f64], lr: f64, decoupled_decay: f64) -> Vec<f64> {
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
    let (mut p, mut m, mut v) = (p0, 0.0, 0.0);
    let mut out = Vec::new();
    for (k, &g) in grads.iter().enumerate() {
        let t = k as i32 + 1;
        p *= 1.0 - lr * decoupled_decay;
        m = b1 * m + (1.0 - b1) * g;
        v = b2 * v + (1.0 - b2) * g * g;
        let (m_hat, v_hat) = (m / (1.0 - b1.powi(t)), v / (1.0 - b2.powi(t)));
        p -= lr * m_hat / (v_hat.sqrt() + eps);
        out.push(p);
    }
    out
}

#[test]
fn adam_first_steps_by_hand() {
    // t=1, g=0.5: m=0.05, v=0.00025, m̂=0.5, v̂=0.25, so
    // p = 1 - 0.1 * 0.5 / (0.5 + 1e-8) = 0.900000002 (to 1e-12).
    let mut opt = Adam::new(AdamConfig {
        lr: 0.1,
        ..Default::default()
    });
    let grads = [0.5, -1.0, 0.25];
    let ps = run(&mut opt, 1.0, &grads);
    assert!(close(ps[0], 0.900000002), "{ps:?}");
    for (p, want) in ps.iter().zip(adam_reference(1.0, &grads, 0.1, 0.0)) {
        assert!(close(*p, want), "{ps:?}");
    }
}

#[test]
fn adam_defaults_are_pytorchs() {
    let c = AdamConfig::default();
    assert_eq!(
        (c.lr, c.betas, c.eps, c.weight_decay),
        (1e-3, (0.9, 0.999), 1e-8, 0.0)
    );
    let w = AdamWConfig::default();
    assert_eq!(
        (w.lr, w.betas, w.eps, w.weight_decay),
        (1e-3, (0.9, 0.999), 1e-8, 1e-2)
    );
    assert_eq!(SgdConfig::default().momentum, 0.0);
}

#[test]
fn adamw_decays_then_steps() {
    // t=1: p = 2 (1 - 0.1 * 0.01) = 1.998, then the Adam step of
    // 0.1 * 0.5 / (0.5 + 1e-8): 1.898000002.
    let mut opt = AdamW::new(AdamWConfig {
        lr: 0.1,
        ..Default::default()
    });
    let grads = [0.5, -1.0];
    let ps = run(&mut opt, 2.0, &grads);
    assert!(close(ps[0], 1.898000002), "{ps:?}");
    for (p, want) in ps.iter().zip(adam_reference(2.0, &grads, 0.1, 0.01)) {
        assert!(close(*p, want), "{ps:?}");
    }
}

/// f(a, b) = (a - 1)² + 3 (b + 2)² + a b: the optimizers move against its
/// gradient, which we compare with central differences.
fn f(a: f64, b: f64) -> f64 {
    (a - 1.0).powi(2) + 3.0 * (b + 2.0).powi(2) + a * b
}

fn step_once(kind: OptimizerKind, lr: f64, start: [f64; 2]) -> [f64; 2] {
    let mut g = Graph::new();
    let ids: Vec<NodeId> = start.iter().map(|&v| g.value(v).id()).collect();
    let mark = g.mark();
    {
        let (a, b) = (g.get(ids[0]), g.get(ids[1]));
        ((a - 1.0).powf(2.0) + 3.0 * (b + 2.0).powf(2.0) + a * b).backward();
    }
    let mut opt = kind.build(lr, 0.0);
    opt.step(&mut g, &ids);
    g.truncate(mark);
    [g.get(ids[0]).data(), g.get(ids[1]).data()]
}

#[test]
fn sgd_follows_the_finite_difference_gradient() {
    let (a, b) = (0.3, -0.7);
    let da = central_difference(|x| f(x, b), a, 1e-6);
    let db = central_difference(|y| f(a, y), b, 1e-6);
    let [a1, b1] = step_once(OptimizerKind::Sgd, 0.01, [a, b]);
    assert!(
        ((a - a1) / 0.01 - da).abs() < 1e-6,
        "{da} vs {}",
        (a - a1) / 0.01
    );
    assert!(((b - b1) / 0.01 - db).abs() < 1e-6);
}

#[test]
fn adam_first_step_is_lr_times_the_sign_of_the_gradient() {
    let (a, b) = (0.3, -0.7);
    let da = central_difference(|x| f(x, b), a, 1e-6);
    let db = central_difference(|y| f(a, y), b, 1e-6);
    let [a1, b1] = step_once(OptimizerKind::Adam, 0.01, [a, b]);
    assert!((a1 - (a - 0.01 * da.signum())).abs() < 1e-9);
    assert!((b1 - (b - 0.01 * db.signum())).abs() < 1e-9);
}

#[test]
fn optimizers_minimise_a_quadratic() {
    // The minimum of f: ∂a: 2(a - 1) + b = 0, ∂b: 6(b + 2) + a = 0
    // -> b = 2 - 2a, 24 - 11a = 0: a = 24/11, b = -26/11.
    for (kind, lr, steps) in [
        (OptimizerKind::Sgd, 0.05, 2000),
        (OptimizerKind::Adam, 0.05, 3000),
    ] {
        let mut g = Graph::new();
        let ids: Vec<NodeId> = [0.0, 0.0].iter().map(|&v| g.value(v).id()).collect();
        let mark = g.mark();
        let mut opt = kind.build(lr, 0.0);
        for _ in 0..steps {
            {
                let (a, b) = (g.get(ids[0]), g.get(ids[1]));
                ((a - 1.0).powf(2.0) + 3.0 * (b + 2.0).powf(2.0) + a * b).backward();
            }
            opt.step(&mut g, &ids);
            g.truncate(mark);
        }
        let (a, b) = (g.get(ids[0]).data(), g.get(ids[1]).data());
        assert!(
            (a - 24.0 / 11.0).abs() < 1e-3 && (b + 26.0 / 11.0).abs() < 1e-3,
            "{kind}: {a} {b}"
        );
    }
}

#[test]
fn micrograd_learning_rate_schedule() {
    // micrograd: learning_rate = 1.0 - 0.9 * k / 100
    for k in [0, 1, 37, 99] {
        let want = 1.0 - 0.9 * k as f64 / 100.0;
        assert!((LrSchedule::MICROGRAD.factor(k, 100) - want).abs() < 1e-15);
    }
    assert_eq!(LrSchedule::Constant.factor(50, 100), 1.0);
    assert!((LrSchedule::Cosine.factor(50, 100) - 0.5).abs() < 1e-15);
    assert_eq!(
        "linear".parse::<LrSchedule>().unwrap(),
        LrSchedule::MICROGRAD
    );
    assert_eq!(
        "linear:0.5".parse::<LrSchedule>().unwrap(),
        LrSchedule::Linear { end: 0.5 }
    );
}

#[test]
fn set_lr_changes_the_step() {
    let mut opt = Sgd::new(SgdConfig {
        lr: 0.1,
        ..Default::default()
    });
    opt.set_lr(0.5);
    assert_eq!(opt.lr(), 0.5);
    assert!(close(run(&mut opt, 1.0, &[1.0])[0], 0.5));
}

/// QA defect 8: a linear schedule's END below 0 turns the learning rate
/// negative part-way through (training then climbs the loss), and a huge
/// END makes it grow; both were accepted.
#[test]
fn linear_schedule_end_must_be_between_0_and_1() {
    for bad in [
        "linear:-1",
        "linear:-0.1",
        "linear:1.5",
        "linear:1e300",
        "linear:nan",
    ] {
        let err = bad.parse::<LrSchedule>().unwrap_err();
        assert!(err.contains("between 0 and 1"), "{bad}: {err}");
    }
    for (good, end) in [("linear:0", 0.0), ("linear:1", 1.0), ("linear:0.25", 0.25)] {
        assert_eq!(good.parse(), Ok(LrSchedule::Linear { end }));
    }
    // With END = 0 the factor still stays positive to the last step
    // (k = steps - 1 gives 1/steps).
    let s: LrSchedule = "linear:0".parse().unwrap();
    assert!((s.factor(9, 10) - 0.1).abs() < 1e-15);
}

//! The engine and `nn` without the command line: fit `y = 2x - 1` with a
//! one-neuron MLP and SGD, then check the gradient of the notebook's
//! `L = (a*b + c) * f` example.

use backprop::Graph;
use backprop::nn::{Activation, Mlp, MlpConfig, mse};
use backprop::optim::{Optimizer, Sgd, SgdConfig};

fn main() {
    let mut g = Graph::new();
    let a = g.value(2.0);
    let b = g.value(-3.0);
    let c = g.value(10.0);
    let f = g.value(-2.0);
    let l = (a * b + c) * f;
    l.backward();
    assert_eq!(l.data(), -8.0);
    assert_eq!(
        (a.grad(), b.grad(), c.grad(), f.grad()),
        (6.0, -4.0, -2.0, 4.0)
    );
    g.clear();

    let config = MlpConfig {
        output_activation: Activation::Linear,
        ..Default::default()
    };
    let model = Mlp::new(&g, 1, &[1], &config).expect("valid sizes");
    let mark = g.mark();
    let mut opt = Sgd::new(SgdConfig {
        lr: 0.1,
        ..Default::default()
    });
    let xs = [-1.0, 0.0, 1.0, 2.0];
    let ys: Vec<f64> = xs.iter().map(|x| 2.0 * x - 1.0).collect();
    let mut loss = f64::INFINITY;
    for _ in 0..200 {
        let outputs: Vec<_> = xs
            .iter()
            .map(|&x| model.forward(&g, &[g.value(x)])[0])
            .collect();
        let l = mse(&g, &outputs, &ys);
        loss = l.data();
        model.zero_grad(&g);
        l.backward();
        opt.step(&mut g, model.parameters());
        g.truncate(mark);
    }
    assert!(loss < 1e-6, "loss {loss}");
    println!("lean dependent: ok, final loss {loss:.2e}");
}

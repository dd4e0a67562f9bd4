//! # 06: a loss with a gradient inside it
//!
//! A gradient taken with [`Graph::grad`] is made of graph nodes, so it can
//! sit inside a loss and be differentiated again. Here a small network
//! `f(x)` fits six noisy points, and the loss adds a penalty on the slope
//! `df/dx` over a grid `t_j` of 21 points across [-1, 1] (a gradient
//! penalty, as in Drucker and LeCun's "double backpropagation", 1992, and
//! WGAN-GP):
//!
//! `loss = mean (f(x_i) - y_i)² + λ mean (df/dx (t_j))²`
//!
//! One `backward` then gives each weight its gradient through both terms,
//! second derivatives included. Training with the penalty ends with a
//! flatter fit than training without it.
//!
//! `cargo run --release --example 06-gradient-penalty`

use backprop::Graph;
use backprop::nn::{Activation, Mlp, MlpConfig};
use backprop::optim::{Adam, AdamConfig, Optimizer};

const XS: [f64; 6] = [-1.0, -0.6, -0.2, 0.2, 0.6, 1.0];
const YS: [f64; 6] = [0.1, -0.3, 0.4, -0.2, 0.5, 0.0];
/// Points of the slope grid.
const GRID: usize = 21;

/// Trains a 1-16-16-1 tanh network with penalty weight `lambda`; returns
/// the final data loss and mean squared slope over the grid.
fn train(lambda: f64) -> (f64, f64) {
    let mut g = Graph::new();
    let config = MlpConfig {
        activation: Activation::Tanh,
        seed: 7,
        ..Default::default()
    };
    let model = Mlp::new(&g, 1, &[16, 16, 1], &config).expect("a valid size");
    let mut opt = Adam::new(AdamConfig {
        lr: 0.01,
        ..Default::default()
    });
    let mark = g.mark();
    let mut last = (0.0, 0.0);
    for _ in 0..1500 {
        {
            let n = XS.len() as f64;
            let mut fit = Vec::new();
            for (&x, &y) in XS.iter().zip(&YS) {
                let f = model.forward(&g, &[g.value(x)])[0];
                fit.push((f - y).powf(2.0));
            }
            let mut slope = Vec::new();
            for j in 0..GRID {
                let t = g.value(-1.0 + 2.0 * j as f64 / (GRID - 1) as f64);
                let f = model.forward(&g, &[t])[0];
                let dfdt = g.grad(f, &[t])[0];
                slope.push(dfdt * dfdt);
            }
            let fit = g.sum(fit) / n;
            let slope = g.sum(slope) / GRID as f64;
            let loss = fit + lambda * slope;
            loss.backward();
            last = (fit.data(), slope.data());
        }
        opt.step(&mut g, model.parameters());
        g.truncate(mark);
    }
    last
}

fn main() {
    let (fit0, slope0) = train(0.0);
    println!("without penalty: data loss {fit0:.4}, mean (df/dx)² on the grid {slope0:.4}");
    let (fit1, slope1) = train(0.1);
    println!("with penalty λ = 0.1: data loss {fit1:.4}, mean (df/dx)² on the grid {slope1:.4}");
    assert!(slope1 < slope0, "the penalty flattens the fit");
    assert!(
        fit1 > fit0,
        "at the price of fitting the points less closely"
    );
}

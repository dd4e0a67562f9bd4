//! # 13: The training loop by hand
//!
//! What [`Trainer`](backprop::nn::Trainer) does, written out as in micrograd
//! and PyTorch: forward, loss, `zero_grad`, `backward`, an optimizer step,
//! and then the graph truncated back to the mark taken after the model was
//! made, so that memory stays flat however many steps run. The model keeps
//! its parameters as `NodeId`s (`model.parameters()`), which survive the
//! truncation.
//!
//! Run with `cargo run --release --example 13-manual-loop`.

use backprop::nn::{Loss, Mlp, MlpConfig};
use backprop::optim::{LrSchedule, Optimizer, Sgd, SgdConfig};
use backprop::{Graph, data};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let d = data::moons(100, 0.1, 1337);
    let mut g = Graph::new();
    let model = Mlp::new(&g, 2, &[16, 16, 1], &MlpConfig::default())?;
    // The parameters are before the mark; each step's nodes after it.
    let mark = g.mark();
    let mut opt = Sgd::new(SgdConfig {
        lr: 1.0,
        ..Default::default()
    });
    let steps = 100;
    for step in 0..steps {
        // Forward: one score per sample, then the loss with L2 (micrograd's
        // `alpha * sum(p * p)`).
        let scores: Vec<_> = (0..d.len())
            .map(|i| {
                let x: Vec<_> = d.x(i).iter().map(|&v| g.value(v)).collect();
                model.forward(&g, &x)[0]
            })
            .collect();
        let params: Vec<_> = model.parameters().iter().map(|&p| g.get(p)).collect();
        let loss =
            Loss::Hinge.compute(&g, &scores, d.labels()) + backprop::nn::l2(&g, &params, 1e-4);
        let correct = scores
            .iter()
            .zip(d.labels())
            .filter(|&(s, &label)| usize::from(s.data() > 0.0) == label)
            .count();

        model.zero_grad(&g);
        loss.backward();
        if step % 10 == 0 || step == steps - 1 {
            println!(
                "step {step} loss {:.6}, accuracy {:.1}%, {} nodes",
                loss.data(),
                100.0 * correct as f64 / d.len() as f64,
                g.len()
            );
        }
        // micrograd's schedule, applied to the optimizer's learning rate.
        opt.set_lr(LrSchedule::MICROGRAD.factor(step, steps));
        opt.step(&mut g, model.parameters());
        g.truncate(mark);
    }
    println!("after the loop: {} nodes, the parameters", g.len());
    Ok(())
}

//! microgpt's lane program (`Gpt::loss_and_grad`, what `GptTrainer` steps
//! run) against the scalar graph it replaces: the same loss and the same
//! gradient for every parameter, to 1e-12, over model shapes that exercise
//! every path (several layers and heads, one head, a head of width 1, a
//! document cut at the block size, a document of one letter), and the same
//! training run step by step.

use backprop::Graph;
use backprop::nn::gpt::{Gpt, GptConfig, GptTrainer, NAMES, Tokenizer, TrainOptions, documents};

/// The scalar graph's loss and gradients, and the lane program's.
fn both(model: &Gpt, g: &mut Graph, tokens: &[usize]) -> ((f64, Vec<f64>), (f64, Vec<f64>)) {
    let grads = |g: &Graph| -> Vec<f64> {
        model
            .parameters()
            .iter()
            .map(|&p| g.get(p).grad())
            .collect()
    };
    g.zero_grad();
    let mark = g.mark();
    let scalar = {
        let loss = model.loss(g, tokens);
        loss.backward();
        (loss.data(), grads(g))
    };
    g.truncate(mark);
    g.zero_grad();
    let nodes = g.len();
    let lanes = (model.loss_and_grad(g, tokens), grads(g));
    assert_eq!(g.len(), nodes, "the lane program builds no nodes");
    (scalar, lanes)
}

fn assert_close(what: &str, a: f64, b: f64, scale: f64) {
    assert!(
        (a - b).abs() <= 1e-12 * scale,
        "{what}: scalar graph {b:e}, lane program {a:e}"
    );
}

#[test]
fn lane_program_matches_the_scalar_graph_to_1e_12() {
    let docs = ["emma", "olivia", "ava", "isabella", "x", "sophiaelizabeth"];
    let tok = Tokenizer::from_documents(&docs);
    let v = tok.vocab_size();
    let shapes = [
        (1, 16, 4, 16),
        (2, 8, 2, 8),
        (3, 6, 3, 5),
        (1, 4, 1, 4),
        (2, 4, 4, 3),
    ];
    let mut checked = 0;
    for (n_layer, n_embd, n_head, block_size) in shapes {
        let config = GptConfig {
            n_layer,
            n_embd,
            n_head,
            block_size,
            vocab_size: v,
        };
        for (seed, doc) in docs.iter().enumerate() {
            let mut g = Graph::new();
            let model = Gpt::new(&g, config, seed as u64 + 1).unwrap();
            let tokens = tok.document(doc, block_size);
            let ((l0, g0), (l1, g1)) = both(&model, &mut g, &tokens);
            let shape = format!("{n_layer}x{n_embd}/{n_head} block {block_size}, {doc:?}");
            assert_close(&format!("loss of {shape}"), l1, l0, l0.abs());
            let scale = g0.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            assert!(scale > 0.0, "{shape}: some gradient is nonzero");
            for (i, (a, b)) in g1.iter().zip(&g0).enumerate() {
                assert_close(&format!("{shape}: parameter {i}"), *a, *b, scale);
                // Parameters the document does not reach (other tokens'
                // embeddings, later positions) get exactly nothing.
                assert_eq!(
                    *a == 0.0,
                    *b == 0.0,
                    "{shape}: parameter {i}: {a:e} vs {b:e}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 10_000);
}

#[test]
fn lane_program_adds_to_the_gradients_already_there() {
    let tok = Tokenizer::from_documents(&["anna", "bob"]);
    let config = GptConfig {
        vocab_size: tok.vocab_size(),
        n_embd: 8,
        n_head: 2,
        ..GptConfig::default()
    };
    let mut g = Graph::new();
    let model = Gpt::new(&g, config, 9).unwrap();
    let (a, b) = (tok.document("anna", 16), tok.document("bob", 16));
    // Two documents' gradients, accumulated, are the sum of their graphs'.
    let mark = g.mark();
    (model.loss(&g, &a) + model.loss(&g, &b)).backward();
    let want: Vec<f64> = model
        .parameters()
        .iter()
        .map(|&p| g.get(p).grad())
        .collect();
    g.truncate(mark);
    g.zero_grad();
    model.loss_and_grad(&mut g, &a);
    model.loss_and_grad(&mut g, &b);
    for (i, (&p, w)) in model.parameters().iter().zip(&want).enumerate() {
        let got = g.get(p).grad();
        assert!((got - w).abs() <= 1e-12, "parameter {i}: {got} vs {w}");
    }
}

#[test]
fn training_with_and_without_the_lane_program_agrees() {
    let docs: Vec<String> = documents(NAMES.as_bytes()).unwrap()[..300].to_vec();
    let tok = Tokenizer::from_documents(&docs);
    let config = GptConfig {
        vocab_size: tok.vocab_size(),
        n_layer: 2,
        ..GptConfig::default()
    };
    let options = TrainOptions {
        steps: 30,
        ..Default::default()
    };
    let run = |lanes: bool| {
        let g = Graph::new();
        let model = Gpt::new(&g, config, 5).unwrap();
        let mut t = GptTrainer::new(g, model, &docs, &tok, options);
        t.set_lane_program(lanes);
        assert_eq!(t.lane_program(), lanes);
        let losses: Vec<f64> = (0..30).map(|_| t.step()).collect();
        (losses, t.model().weights(t.graph()))
    };
    let (fast, fast_w) = run(true);
    let (slow, slow_w) = run(false);
    for (k, (a, b)) in fast.iter().zip(&slow).enumerate() {
        assert!((a - b).abs() <= 1e-12 * b, "step {k}: {a} vs {b}");
    }
    for (name, a) in &fast_w {
        for (i, (x, y)) in a.data.iter().zip(&slow_w[name].data).enumerate() {
            assert!((x - y).abs() <= 1e-12, "{name}[{i}]: {x} vs {y}");
        }
    }
}

#[test]
#[should_panic(expected = "outside the model's vocabulary")]
fn a_token_outside_the_vocabulary_panics_as_the_graph_does() {
    let mut g = Graph::new();
    let config = GptConfig::default();
    let model = Gpt::new(&g, config, 1).unwrap();
    model.loss_and_grad(&mut g, &[26, 27, 26]);
}

#[test]
#[should_panic(expected = "a document needs 2 to block_size + 1")]
fn a_document_too_long_panics_as_the_graph_does() {
    let mut g = Graph::new();
    let config = GptConfig {
        block_size: 2,
        ..GptConfig::default()
    };
    let model = Gpt::new(&g, config, 1).unwrap();
    model.loss_and_grad(&mut g, &[26, 1, 2, 26]);
}

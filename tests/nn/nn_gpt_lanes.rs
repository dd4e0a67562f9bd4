//! microgpt's lane program (`Gpt::loss_and_grad`, what `GptTrainer` steps
//! run) against the scalar graph it replaces: the same loss and the same
//! gradient for every parameter, to 1e-12, over model shapes that exercise
//! every path (several layers and heads, one head, a head of width 1, a
//! document cut at the block size, a document of one letter), and the same
//! training run step by step.

use backprop::Graph;
use backprop::nn::gpt::{
    Gpt, GptConfig, GptError, GptTrainer, MAX_STEP_BYTES, NAMES, Tokenizer, TrainOptions, documents,
};

/// The scalar graph's loss and gradients (by `backward`, or with
/// `skip_zeros` by `backward_skip_zeros`), and the lane program's.
fn both_with(
    model: &Gpt,
    g: &mut Graph,
    tokens: &[usize],
    skip_zeros: bool,
) -> ((f64, Vec<f64>), (f64, Vec<f64>)) {
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
        if skip_zeros {
            loss.backward_skip_zeros();
        } else {
            loss.backward();
        }
        (loss.data(), grads(g))
    };
    g.truncate(mark);
    g.zero_grad();
    let nodes = g.len();
    let lanes = (model.loss_and_grad(g, tokens), grads(g));
    assert_eq!(g.len(), nodes, "the lane program builds no nodes");
    (scalar, lanes)
}

/// [`both_with`] against `backward`.
fn both(model: &Gpt, g: &mut Graph, tokens: &[usize]) -> ((f64, Vec<f64>), (f64, Vec<f64>)) {
    both_with(model, g, tokens, false)
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

#[test]
fn non_finite_weights_give_the_graphs_nans() {
    // A NaN or infinite weight makes the loss NaN; which gradients are NaN
    // and which finite still follows the graph's rules under
    // `backward_skip_zeros` (what training runs): a relu whose output is
    // NaN passes nothing on (`y > 0` is false), and neither does a node
    // whose adjoint is 0 (no `0 · ∞`).
    let tok = Tokenizer::from_documents(&["emma", "ava"]);
    let config = GptConfig {
        vocab_size: tok.vocab_size(),
        n_embd: 8,
        n_head: 2,
        ..GptConfig::default()
    };
    let tokens = tok.document("emma", config.block_size);
    // Parameters 0.. are wte, then wpe, lm_head, then layer 0's attn_wq,
    // wk, wv, wo and mlp_fc1: poison one entry of several tensors.
    let (v, e, b) = (config.vocab_size, config.n_embd, config.block_size);
    let fc1 = 2 * v * e + b * e + 4 * e * e;
    let wo = 2 * v * e + b * e + 3 * e * e;
    for (index, bad) in [
        (fc1, f64::NAN),
        (wo + 3, f64::INFINITY),
        (wo, f64::NEG_INFINITY),
    ] {
        let mut g = Graph::new();
        let model = Gpt::new(&g, config, 4).unwrap();
        let p = model.parameters()[index];
        g.data_and_grad_mut().0[p.index()] = bad;
        let ((l0, g0), (l1, g1)) = both_with(&model, &mut g, &tokens, true);
        assert!(l0.is_nan());
        assert!(g0.iter().any(|x| x.is_nan()) && g0.iter().any(|x| x.is_finite()));
        assert_eq!(
            l0.is_nan(),
            l1.is_nan(),
            "loss with {bad} at {index}: {l0} vs {l1}"
        );
        let finite = g0
            .iter()
            .filter(|x| x.is_finite())
            .fold(0.0f64, |m, x| m.max(x.abs()));
        for (i, (a, b)) in g1.iter().zip(&g0).enumerate() {
            if b.is_finite() {
                assert_close(
                    &format!("{bad} at {index}: parameter {i}"),
                    *a,
                    *b,
                    finite.max(1.0),
                );
            } else {
                assert_eq!(
                    a.is_nan(),
                    b.is_nan(),
                    "{bad} at {index}: parameter {i}: {a} vs {b}"
                );
            }
        }
    }
}

#[test]
#[should_panic(expected = "belongs to another graph")]
fn a_model_of_another_graph_is_refused() {
    let config = GptConfig::default();
    let g1 = Graph::new();
    let model = Gpt::new(&g1, config, 1).unwrap();
    let mut g2 = Graph::new();
    let _other = Gpt::new(&g2, config, 2).unwrap();
    model.loss_and_grad(&mut g2, &[26, 1, 26]);
}

#[test]
#[should_panic(expected = "belongs to another graph")]
fn a_trainer_refuses_a_model_of_another_graph() {
    let docs = vec!["ab".to_string()];
    let tok = Tokenizer::from_documents(&docs);
    let config = GptConfig {
        vocab_size: tok.vocab_size(),
        ..GptConfig::default()
    };
    let g1 = Graph::new();
    let model = Gpt::new(&g1, config, 1).unwrap();
    let g2 = Graph::new();
    let _other = Gpt::new(&g2, config, 2).unwrap();
    GptTrainer::new(g2, model, &docs, &tok, TrainOptions::default());
}

#[test]
fn step_memory_is_bounded_and_long_lines_are_cut_without_copying() {
    // 2 triangles of 1,024 heads × 1,024 × 1,025 / 2 weights, 8 bytes
    // each, dominate: about 8.6 GB, over the limit.
    let big = GptConfig {
        n_layer: 1,
        n_embd: 1024,
        n_head: 1024,
        block_size: 1024,
        vocab_size: 27,
    };
    let attention = 2 * 1024 * (1024 * 1025 / 2) * 8;
    assert!(big.step_bytes() >= attention && big.step_bytes() < attention + (1 << 30));
    match big.validate() {
        Err(GptError::StepTooLarge { bytes, max }) => {
            assert_eq!((bytes, max), (big.step_bytes(), MAX_STEP_BYTES));
        }
        other => panic!("expected StepTooLarge, got {other:?}"),
    }
    // One head fewer per... a config a quarter that size is accepted.
    let ok = GptConfig { n_head: 256, ..big };
    assert!(ok.validate().is_ok(), "{}", ok.step_bytes());
    // A document far longer than the block keeps only the block.
    let tok = Tokenizer::from_documents(&["ab"]);
    let line = "ab".repeat(500_000);
    let t = tok.document(&line, 16);
    assert_eq!(t.len(), 17);
    assert!(t.capacity() <= 18, "capacity {}", t.capacity());
}

//! Models: structure, saving, loading, predicting, and bad model files.

use backprop::Graph;
use backprop::data;
use backprop::nn::{
    Activation, Layer, Loss, Mlp, MlpConfig, NnError, Normalization, SavedModel, TrainConfig,
    Trainer,
};

use crate::common::sgd_trainer;

#[test]
fn parameters_are_contiguous_ranges() {
    let g = Graph::new();
    let m = Mlp::new(&g, 2, &[16, 16, 1], &MlpConfig::default()).unwrap();
    let p = m.parameters();
    assert_eq!(p.len(), 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1);
    for w in p.windows(2) {
        assert_eq!(w[1].index(), w[0].index() + 1);
    }
    let first = &m.layers()[0].neurons()[0];
    assert_eq!(first.weights().len(), 2);
    assert_eq!(first.bias().index(), first.weights()[1].index() + 1);
    assert_eq!(g.get(first.bias()).data(), 0.0);
}

#[test]
fn a_layer_of_one_neuron_is_still_a_layer() {
    let g = Graph::new();
    let m = Mlp::new(&g, 3, &[1], &MlpConfig::default()).unwrap();
    let out = m.forward(&g, &[g.value(1.0), g.value(2.0), g.value(3.0)]);
    assert_eq!(out.len(), 1);
    let layer: &Layer = &m.layers()[0];
    assert_eq!(
        layer
            .forward(&g, &[g.value(1.0), g.value(2.0), g.value(3.0)])
            .len(),
        1
    );
}

#[test]
fn neuron_forward_is_relu_of_w_dot_x_plus_b() {
    let g = Graph::new();
    let m = Mlp::new(
        &g,
        2,
        &[1],
        &MlpConfig {
            output_activation: Activation::Relu,
            ..Default::default()
        },
    )
    .unwrap();
    let p = m.parameters();
    let (w0, w1) = (g.get(p[0]).data(), g.get(p[1]).data());
    g.get(p[2]).set_data(0.25);
    let y = m.forward(&g, &[g.value(0.5), g.value(-1.5)])[0];
    assert_eq!(y.data(), (w0 * 0.5 + w1 * -1.5 + 0.25).max(0.0));
}

#[test]
fn initialisation_is_seeded_and_bounded() {
    let weights = |seed, init| {
        let g = Graph::new();
        let m = Mlp::new(
            &g,
            4,
            &[8, 2],
            &MlpConfig {
                seed,
                init,
                ..Default::default()
            },
        )
        .unwrap();
        m.parameters()
            .iter()
            .map(|&p| g.get(p).data())
            .collect::<Vec<_>>()
    };
    use backprop::nn::Init;
    assert_eq!(weights(1, Init::Uniform), weights(1, Init::Uniform));
    assert_ne!(weights(1, Init::Uniform), weights(2, Init::Uniform));
    assert!(weights(1, Init::Uniform).iter().all(|w| w.abs() <= 1.0));
    // Kaiming: √(6 / fan_in); fan_in 4 then 8.
    assert!(
        weights(3, Init::KaimingUniform)
            .iter()
            .all(|w| w.abs() <= (6.0f64 / 4.0).sqrt())
    );
    // Xavier: √(6 / (fan_in + fan_out)) <= √(6 / (4 + 8)).
    assert!(
        weights(3, Init::XavierUniform)
            .iter()
            .all(|w| w.abs() <= (6.0f64 / 10.0).sqrt())
    );
}

#[test]
fn zero_sizes_are_errors() {
    let g = Graph::new();
    let e = Mlp::new(&g, 2, &[0, 1], &MlpConfig::default()).unwrap_err();
    assert_eq!(e.to_string(), "layer 0 size must be at least 1, got 0");
    assert!(Mlp::new(&g, 0, &[1], &MlpConfig::default()).is_err());
    assert!(Mlp::new(&g, 2, &[], &MlpConfig::default()).is_err());
}

fn trained() -> (Trainer, data::Dataset) {
    let d = data::moons(60, 0.1, 4);
    let config = TrainConfig {
        steps: 20,
        ..Default::default()
    };
    let mut t = sgd_trainer(2, &[8, 8, 1], 0.5, config);
    t.fit(&d, |_| {}).unwrap();
    (t, d)
}

#[test]
fn save_load_predict_round_trip_gives_identical_scores() {
    let (t, d) = trained();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.json");
    let saved = SavedModel::from_mlp(t.graph(), t.model(), Loss::Hinge, 2, None);
    saved.save(&path).unwrap();
    let loaded = SavedModel::load(&path).unwrap();
    assert_eq!(loaded, saved);
    let g = t.graph();
    for i in 0..d.len() {
        // The trained model on its graph, value by value...
        let x: Vec<_> = d.x(i).iter().map(|&v| g.value(v)).collect();
        let on_graph = t.model().forward(g, &x)[0].data();
        // ...and the loaded model in plain f64: the same bits.
        assert_eq!(loaded.scores(d.x(i)).unwrap(), vec![on_graph]);
        // ...and the loaded model rebuilt on a fresh graph.
        let g2 = Graph::new();
        let m2 = loaded.to_mlp(&g2).unwrap();
        assert_eq!(m2.predict(&g2, d.x(i)), vec![on_graph]);
    }
    let e = loaded.evaluate(&d).unwrap();
    assert_eq!(e.accuracy, t.accuracy(&d));
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn normalization_is_applied_by_the_saved_model() {
    let d = data::blobs(30, 2, 0.3, 1);
    let n = Normalization::fit(&d);
    let z = n.apply(&d);
    let (mean, std) = z.mean_std();
    assert!(mean.iter().all(|m| m.abs() < 1e-12) && std.iter().all(|s| (s - 1.0).abs() < 1e-12));
    let g = Graph::new();
    let m = Mlp::new(&g, 2, &[3, 1], &MlpConfig::default()).unwrap();
    let saved = SavedModel::from_mlp(&g, &m, Loss::Hinge, 2, Some(n));
    assert_eq!(saved.scores(d.x(3)).unwrap(), m.predict(&g, z.x(3)));
}

#[test]
fn feature_count_mismatch_is_an_error() {
    let (t, _) = trained();
    let saved = SavedModel::from_mlp(t.graph(), t.model(), Loss::Hinge, 2, None);
    assert_eq!(
        saved.scores(&[1.0, 2.0, 3.0]).unwrap_err().to_string(),
        "the model takes 2 features, but the input has 3"
    );
}

/// The error and its sources, as `{:#}` of anyhow prints them.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s = format!("{s}: {c}");
        cur = c.source();
    }
    s
}

/// Some editors save UTF-8 with a byte-order mark: the model inside is the
/// same model.
#[test]
fn a_model_saved_with_a_byte_order_mark_loads_as_the_same_model() {
    let g = Graph::new();
    let m = Mlp::new(&g, 2, &[4, 1], &MlpConfig::default()).unwrap();
    let json = SavedModel::from_mlp(&g, &m, Loss::Hinge, 2, None).to_json();
    let plain = SavedModel::from_json(&json).unwrap();
    let marked = SavedModel::from_json(&format!("\u{feff}{json}")).unwrap();
    assert_eq!(marked.to_json(), plain.to_json());
    // Only at the start: a second mark is not JSON.
    assert!(SavedModel::from_json(&format!("\u{feff}\u{feff}{json}")).is_err());
}

#[test]
fn bad_model_files_name_the_field() {
    let g = Graph::new();
    let m = Mlp::new(&g, 2, &[16, 16, 1], &MlpConfig::default()).unwrap();
    let saved = SavedModel::from_mlp(&g, &m, Loss::Hinge, 2, None);
    let json = saved.to_json();
    let err = |text: &str| chain(&SavedModel::from_json(text).unwrap_err());

    let truncated = err(&json[..json.len() / 3]);
    assert!(
        truncated.contains("EOF while parsing") && truncated.contains("line"),
        "{truncated}"
    );

    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["layers"][1]["neurons"][3]["weights"]
        .as_array_mut()
        .unwrap()
        .pop();
    assert_eq!(
        err(&v.to_string()),
        "invalid model file: layer 1 neuron 3 has 15 weights, expected 16"
    );

    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v.as_object_mut().unwrap().remove("loss");
    assert!(err(&v.to_string()).contains("missing field `loss`"));

    let renamed = json.replacen("\"bias\"", "\"bais\"", 1);
    assert!(err(&renamed).contains("unknown field `bais`"));

    let typed = json.replacen("\"activation\": \"relu\"", "\"activation\": \"swish\"", 1);
    let e = err(&typed);
    assert!(
        e.contains("unknown variant `swish`") && e.contains("line"),
        "{e}"
    );

    // A hand-edited value of the wrong type: the message says which field.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["layers"][0]["neurons"][2]["bias"] = serde_json::Value::Null;
    let e = err(&v.to_string());
    assert!(
        e.starts_with("invalid model file, field layers[0].neurons[2].bias: invalid type: null"),
        "{e}"
    );
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["layers"][1]["neurons"][0]["weights"][4] = "0.5".into();
    let e = err(&v.to_string());
    assert!(
        e.contains("field layers[1].neurons[0].weights[4]: invalid type: string"),
        "{e}"
    );

    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["version"] = 7.into();
    assert_eq!(
        err(&v.to_string()),
        "invalid model file: version is 7, but this program reads version 1"
    );

    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["classes"] = 3.into();
    assert!(err(&v.to_string()).contains("loss hinge needs classes 2"));
}

#[test]
fn a_failed_save_keeps_the_previous_file() {
    let (t, _) = trained();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.json");
    std::fs::write(&path, "previous").unwrap();
    // A directory in the way of the rename: the save fails...
    let blocked = dir.path().join("blocked.json");
    std::fs::create_dir(&blocked).unwrap();
    std::fs::write(blocked.join("x"), "").unwrap();
    let saved = SavedModel::from_mlp(t.graph(), t.model(), Loss::Hinge, 2, None);
    assert!(saved.save(&blocked).is_err());
    // ...and leaves no temporary file; other files are untouched.
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "previous");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    saved.save(&path).unwrap();
    assert_eq!(SavedModel::load(&path).unwrap(), saved);
}

#[test]
fn display_summarises_the_network() {
    let g = Graph::new();
    let m = Mlp::new(&g, 2, &[16, 16, 1], &MlpConfig::default()).unwrap();
    assert_eq!(
        m.to_string(),
        "MLP of [Layer(2 -> 16, relu), Layer(16 -> 16, relu), Layer(16 -> 1, linear)], 337 parameters"
    );
    assert_eq!(m.layers()[2].neurons()[0].to_string(), "LinearNeuron(16)");
}

#[test]
fn zero_grad_clears_only_parameters() {
    let g = Graph::new();
    let m = Mlp::new(&g, 2, &[2, 1], &MlpConfig::default()).unwrap();
    {
        let y = m.forward(&g, &[g.value(1.0), g.value(1.0)])[0];
        (y * y).backward();
    }
    m.zero_grad(&g);
    assert!(m.parameters().iter().all(|&p| g.get(p).grad() == 0.0));
}

/// QA defect 10: I/O errors printed their cause twice, once in the message
/// and once as the source.
#[test]
fn io_errors_give_their_reason_once() {
    let err = SavedModel::load("/nonexistent/model.json").unwrap_err();
    assert_eq!(err.to_string(), "cannot read /nonexistent/model.json");
    let text = chain(&err);
    assert_eq!(text.matches("No such file").count(), 1, "{text}");
    let g = Graph::new();
    let m = Mlp::new(&g, 2, &[1], &MlpConfig::default()).unwrap();
    let saved = SavedModel::from_mlp(&g, &m, Loss::Hinge, 2, None);
    let err = saved.save("/nonexistent/model.json").unwrap_err();
    let text = chain(&err);
    assert_eq!(
        text.matches("the directory /nonexistent does not exist")
            .count(),
        1,
        "{text}"
    );
}

/// QA defect 5: a model with a non-finite standardisation was saved, and
/// could not be loaded again.
#[test]
fn save_refuses_a_model_that_would_not_load() {
    let g = Graph::new();
    let m = Mlp::new(&g, 2, &[1], &MlpConfig::default()).unwrap();
    let norm = Normalization {
        mean: vec![0.0, 0.0],
        std: vec![f64::INFINITY, 1.0],
    };
    let saved = SavedModel::from_mlp(&g, &m, Loss::Hinge, 2, Some(norm));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.json");
    let err = saved.save(&path).unwrap_err();
    assert!(err.to_string().contains("normalization"), "{err}");
    assert!(!path.exists());
}

/// QA defect 5: standardising features near ±f64::MAX gives finite values
/// (`(v - mean) / std` would overflow in `v - mean`), the same in training
/// and in prediction.
#[test]
fn standardising_huge_features_stays_finite() {
    let d = data::Dataset::new(vec![-1.7e308, 1.7e308, 1.7e308], vec![0, 1, 1], 1).unwrap();
    let n = Normalization::fit(&d);
    assert!(n.mean[0].is_finite() && n.std[0].is_finite() && n.std[0] > 0.0);
    let z = n.apply(&d);
    // Mean 1.7e308/3, deviation 1.7e308 · √(8/9): the z-scores of two
    // values above the mean and one below are 1/√2, 1/√2 and -√2.
    let expected = [-(2.0f64).sqrt(), 0.5f64.sqrt(), 0.5f64.sqrt()];
    for (got, want) in z.features().iter().zip(expected) {
        assert!((got - want).abs() < 1e-12, "{:?}", z.features());
    }
    assert_eq!(n.standardize(0, -1.7e308), z.features()[0]);
}

/// QA defect 13: a data label past the model's classes was reported as an
/// invalid model file.
#[test]
fn evaluate_blames_the_data_for_an_unknown_class() {
    let g = Graph::new();
    let m = Mlp::new(&g, 2, &[1], &MlpConfig::default()).unwrap();
    let saved = SavedModel::from_mlp(&g, &m, Loss::Hinge, 2, None);
    let d = data::Dataset::new(vec![0.0; 6], vec![0, 1, 2], 2).unwrap();
    let err = saved.evaluate(&d).unwrap_err();
    assert!(matches!(
        err,
        backprop::nn::NnError::UnknownClass {
            row: 3,
            class: 2,
            classes: 2
        }
    ));
    let text = err.to_string();
    assert!(!text.contains("invalid model file"), "{text}");
    assert_eq!(
        text,
        "row 3 of the data has class 2, but the model was trained for classes 0 to 1 only"
    );
}

/// QA defect 2: a huge layer size panicked (capacity overflow) or aborted
/// (allocation failure) instead of returning an error.
#[test]
fn huge_networks_are_an_error_not_a_crash() {
    let g = Graph::new();
    let err = Mlp::new(&g, 2, &[usize::MAX, 1], &MlpConfig::default()).unwrap_err();
    assert!(
        matches!(err, backprop::nn::NnError::TooLarge { .. }),
        "{err}"
    );
    let err = Mlp::new(&g, 2, &[100_000, 100_000], &MlpConfig::default()).unwrap_err();
    // (2 + 1)·1e5 + (1e5 + 1)·1e5 weights and biases.
    assert!(
        err.to_string()
            .starts_with("the network would have 10000400000 parameters"),
        "{err}"
    );
    assert_eq!(g.len(), 0, "nothing was made");
}

/// `SavedModel`'s fields are public: a model edited in code into an
/// inconsistent shape is an error from every method, never a panic.
#[test]
fn inconsistent_models_are_errors_not_panics() {
    let g = Graph::new();
    let m = Mlp::new(&g, 2, &[3, 1], &MlpConfig::default()).unwrap();
    let mut saved = SavedModel::from_mlp(&g, &m, Loss::Hinge, 2, None);
    saved.normalization = Some(Normalization {
        mean: vec![0.0],
        std: vec![1.0],
    });
    assert!(matches!(
        saved.scores(&[1.0, 2.0]),
        Err(NnError::InvalidModel(_))
    ));
    assert!(matches!(
        saved.predict(&[1.0, 2.0]),
        Err(NnError::InvalidModel(_))
    ));
    assert!(matches!(
        saved.evaluate(&backprop::data::moons(10, 0.1, 1)),
        Err(NnError::InvalidModel(_))
    ));
    saved.normalization = None;
    saved.layers.clear();
    assert!(matches!(
        saved.predict(&[1.0, 2.0]),
        Err(NnError::InvalidModel(_))
    ));
}

/// Every output of a layer is its neuron's `tanh(w · x + b)` computed in
/// plain numbers, and the outputs are consecutive nodes (what the next
/// layer's `linear` nodes read fastest), for narrow and wide layers.
#[test]
fn layer_outputs_are_their_neurons_whatever_the_width() {
    use rand::SeedableRng;
    for width in [3, 64, 65, 70] {
        let g = Graph::new();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(width as u64);
        let layer = Layer::new(
            &g,
            2,
            width,
            Activation::Tanh,
            backprop::nn::Init::Uniform,
            &mut rng,
        );
        let x = [g.value(0.5), g.value(-1.5)];
        let out = layer.forward(&g, &x);
        assert_eq!(out.len(), width);
        for (o, n) in out.iter().zip(layer.neurons()) {
            let w: Vec<f64> = n.weights().iter().map(|&p| g.get(p).data()).collect();
            let z = w[0] * 0.5 + w[1] * -1.5 + g.get(n.bias()).data();
            assert!((o.data() - z.tanh()).abs() < 1e-15, "width {width}");
        }
        let ids: Vec<usize> = out.iter().map(|v| v.id().index()).collect();
        assert!(ids.windows(2).all(|p| p[1] == p[0] + 1), "width {width}");
    }
}

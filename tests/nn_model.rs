//! Models: structure, saving, loading, predicting, and bad model files.

use backprop::Graph;
use backprop::data;
use backprop::nn::{
    Activation, Layer, Loss, Mlp, MlpConfig, Module, Normalization, SavedModel, TrainConfig,
    Trainer,
};
use backprop::optim::{Sgd, SgdConfig};

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
    let g = Graph::new();
    let model = Mlp::new(&g, 2, &[8, 8, 1], &MlpConfig::default()).unwrap();
    let mut t = Trainer::new(
        g,
        model,
        Box::new(Sgd::new(SgdConfig {
            lr: 0.5,
            ..Default::default()
        })),
        TrainConfig {
            steps: 20,
            ..Default::default()
        },
    );
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

#[test]
fn bad_model_files_name_the_field() {
    let g = Graph::new();
    let m = Mlp::new(&g, 2, &[16, 16, 1], &MlpConfig::default()).unwrap();
    let saved = SavedModel::from_mlp(&g, &m, Loss::Hinge, 2, None);
    let json = saved.to_json();
    let err = |text: &str| SavedModel::from_json(text).unwrap_err().to_string();

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
    let mut g = Graph::new();
    let m = Mlp::new(&g, 2, &[2, 1], &MlpConfig::default()).unwrap();
    {
        let y = m.forward(&g, &[g.value(1.0), g.value(1.0)])[0];
        (y * y).backward();
    }
    m.zero_grad(&mut g);
    assert!(m.parameters().iter().all(|&p| g.get(p).grad() == 0.0));
}

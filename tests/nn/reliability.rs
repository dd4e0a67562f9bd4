//! Library arguments and inputs that used to panic, abort, or give a
//! silent wrong answer: each is now an error (or a documented panic).

use backprop::Graph;
use backprop::data::{
    self, CsvOptions, DataError, Dataset, LabelColumn, parse_csv, parse_csv_bytes,
};
use backprop::expr::{EvalError, Program};
use backprop::gradcheck::{Tolerances, gradcheck, gradgradcheck};
use backprop::nn::{
    History, Init, Loss, Mlp, MlpConfig, NnError, SavedModel, StepStats, TrainConfig,
};
use backprop::optim::{LrSchedule, SgdConfig};

use crate::common::sgd_trainer;

#[test]
fn labels_that_overflow_or_need_absurd_class_counts_are_refused() {
    for label in [usize::MAX, 1 << 40, data::MAX_CLASSES] {
        let err = Dataset::new(vec![0.0, 1.0], vec![0, label], 1).unwrap_err();
        assert!(
            matches!(err, DataError::TooManyClasses { row: 2, .. }),
            "{label}: {err}"
        );
    }
    let ok = Dataset::new(vec![0.0, 1.0], vec![0, data::MAX_CLASSES - 1], 1).unwrap();
    assert_eq!(ok.n_classes(), data::MAX_CLASSES);
}

#[test]
fn generators_past_their_documented_size_panic_instead_of_aborting() {
    let huge = data::MAX_SAMPLES + 1;
    for (name, f) in [
        (
            "moons",
            Box::new(move || drop(data::moons(huge, 0.1, 1))) as Box<dyn Fn()>,
        ),
        (
            "circles",
            Box::new(move || drop(data::circles(huge, 0.1, 1))),
        ),
        ("xor", Box::new(move || drop(data::xor(huge, 0.1, 1)))),
        (
            "spiral",
            Box::new(|| drop(data::spiral(10, usize::MAX, 0.1, 1))),
        ),
        (
            "blobs",
            Box::new(|| drop(data::blobs(usize::MAX, 3, 0.1, 1))),
        ),
    ] {
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        let msg = caught.expect_err(name);
        let msg = msg.downcast_ref::<String>().unwrap();
        assert!(
            msg.contains("at most 1000000 samples and classes"),
            "{name}: {msg}"
        );
    }
    // Through `DatasetSpec::load`, an error.
    let spec: data::DatasetSpec = "spiral".parse().unwrap();
    assert!(
        spec.load(10, 0.1, usize::MAX, 1, &CsvOptions::default())
            .is_err()
    );
}

#[test]
fn init_with_zero_fan_in_gives_finite_weights() {
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    for init in [Init::Uniform, Init::KaimingUniform, Init::XavierUniform] {
        for (fan_in, fan_out) in [(0, 0), (0, 5), (1, 0)] {
            let w = init.sample(fan_in, fan_out, &mut rng);
            // Bounds with the fan taken as 1: sqrt(6).
            assert!(w.abs() <= 6f64.sqrt(), "{init:?} {fan_in} {fan_out}: {w}");
        }
    }
}

#[test]
fn a_batch_size_of_zero_is_an_error() {
    let d = data::moons(20, 0.1, 1);
    let config = TrainConfig {
        batch_size: Some(0),
        ..Default::default()
    };
    let mut t = sgd_trainer(2, &[8, 1], SgdConfig::default().lr, config);
    let err = t.fit(&d, |_| {}).unwrap_err();
    assert!(matches!(err, NnError::ZeroSize { .. }), "{err}");
    assert_eq!(err.to_string(), "batch_size must be at least 1, got 0");
    assert_eq!(t.steps_taken(), 0);
    // The learning rate is the optimizer's: a NaN one is refused too.
    let mut t = sgd_trainer(2, &[8, 1], f64::NAN, TrainConfig::default());
    assert!(t.step(&d).is_err());
}

#[test]
fn gradcheck_refuses_a_step_of_zero_or_less() {
    let p = Program::parse("x = 2; y = x * x").unwrap();
    for eps in [0.0, -1e-6, f64::NAN, f64::INFINITY] {
        let tol = Tolerances {
            eps,
            ..Default::default()
        };
        let err = p.gradcheck::<&str>(&[], tol).unwrap_err();
        assert!(matches!(err, EvalError::BadTolerance(_)), "{eps}: {err}");
        // The free function's misuse is a documented panic, not NaN.
        let caught = std::panic::catch_unwind(|| gradcheck(|_, x| x[0] * x[0], &[2.0], tol));
        assert!(caught.is_err(), "{eps}");
        let caught = std::panic::catch_unwind(|| gradgradcheck(|_, x| x[0] * x[0], &[2.0], tol));
        assert!(caught.is_err(), "{eps}");
    }
}

#[test]
fn gradcheck_is_refused_past_its_work_cap_before_any_work() {
    // 20,000 inputs summed: 2 x 20,000 evaluations of ~60,000 nodes.
    let n = 20_000;
    let mut src: String = (0..n).map(|i| format!("x{i} = 0.5\n")).collect();
    src.push_str("y = x0");
    for i in 1..n {
        src.push_str(&format!(" + x{i}"));
    }
    let p = Program::parse(&src).unwrap();
    assert_eq!(p.size(), n + (2 * n - 1));
    let start = std::time::Instant::now();
    let err = p.gradcheck::<&str>(&[], Tolerances::default()).unwrap_err();
    assert!(
        matches!(err, EvalError::CheckTooLarge { inputs: 20_000, .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("more than the limit of 1000000000"),
        "{err}"
    );
    // Refused, not attempted (an attempt takes minutes).
    assert!(start.elapsed().as_secs() < 30);
}

#[test]
fn a_loss_that_grows_a_thousandfold_is_divergence_even_if_finite() {
    // Features around 100, no standardisation, SGD at lr 1: the loss
    // climbs without becoming NaN for several steps.
    let base = data::moons(100, 0.1, 1);
    let features: Vec<f64> = base.features().iter().map(|v| v * 5.0 + 100.0).collect();
    let d = Dataset::new(features, base.labels().to_vec(), 2).unwrap();
    let config = TrainConfig {
        schedule: LrSchedule::Constant,
        ..Default::default()
    };
    let mut t = sgd_trainer(2, &[8, 1], 1.0, config);
    let mut losses = Vec::new();
    let err = t.fit(&d, |s| losses.push(s.loss)).unwrap_err();
    let NnError::Diverged { step, loss, first } = err else {
        panic!("{err}")
    };
    assert!(
        loss.is_finite() && loss > 1e3 * first.max(1.0),
        "{loss} {first}"
    );
    assert_eq!(first, losses[0]);
    assert_eq!(step, losses.len());
    // Every step before it was below the threshold.
    assert!(losses.iter().all(|&l| l <= 1e3 * first.max(1.0)));
}

#[test]
fn history_is_bounded_and_evenly_spaced() {
    let mut h = History::with_capacity(100);
    for step in 0..1_000_000 {
        h.push(StepStats {
            step,
            loss: step as f64,
            accuracy: 0.5,
            lr: 0.1,
        });
    }
    assert_eq!(h.steps(), 1_000_000);
    assert!(h.len() <= 101, "{}", h.len());
    assert!(h.len() > 50, "{}", h.len());
    assert_eq!(h[0].step, 0);
    assert_eq!(h.last().unwrap().step, 999_999);
    let gaps: Vec<usize> = h.windows(2).map(|w| w[1].step - w[0].step).collect();
    let stride = gaps[0];
    assert!(stride.is_power_of_two());
    assert!(
        gaps[..gaps.len() - 1].iter().all(|&g| g == stride),
        "{gaps:?}"
    );
}

#[test]
fn csv_quoting_bom_crlf_and_quoted_header_names() {
    let text = "\u{feff}\"x 1\",\"y, the second\",\"label\"\r\n\"1.5\",2,1\r\n-3,\"4e-1\",0\r\n";
    let by_name = CsvOptions {
        label: LabelColumn::Name("label".into()),
        ..Default::default()
    };
    let d = parse_csv(text, &by_name).unwrap();
    assert_eq!(d.features(), [1.5, 2.0, -3.0, 0.4]);
    assert_eq!(d.labels(), [1, 0]);
    let by_comma_name = CsvOptions {
        label: LabelColumn::Name("y, the second".into()),
        ..Default::default()
    };
    let d = parse_csv("x,\"y, the second\"\n0.5,1\n2,0\n", &by_comma_name).unwrap();
    assert_eq!((d.features(), d.labels()), (&[0.5, 2.0][..], &[1, 0][..]));
}

#[test]
fn duplicate_header_names_are_refused() {
    let err = parse_csv("x,y,x\n1,2,0\n3,4,1\n", &CsvOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 1: columns 1 and 3 are both named `x`; give each column its own name"
    );
    let err = backprop::data::parse_features("a,a\n1,2\n", Default::default()).unwrap_err();
    assert!(matches!(err, DataError::DuplicateColumn { .. }), "{err}");
}

#[test]
fn a_header_of_many_columns_is_checked_in_linear_time() {
    // The duplicate check once compared every name with every earlier one:
    // 200,000 columns took about 30 s in a release build before a word of
    // the data was read. 200,000 distinct names and then a repeat of the
    // first: the repeat is found, named with both columns, in well under
    // the bound (the quadratic check needs minutes in a debug build).
    let n = 200_000;
    let names: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
    let start = std::time::Instant::now();
    let dup = format!("{},c0\n", names.join(","));
    let err = backprop::data::parse_features(&dup, Default::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "line 1: columns 1 and {} are both named `c0`; give each column its own name",
            n + 1
        )
    );
    // Distinct names: the file loads, every column a feature but the last.
    let ones = vec!["1"; n].join(",");
    let text = format!("{},y\n{ones},0\n{ones},1\n", names.join(","));
    let d = parse_csv(&text, &CsvOptions::default()).unwrap();
    assert_eq!((d.features().len(), d.labels()), (2 * n, &[0, 1][..]));
    let took = start.elapsed();
    assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
}

#[test]
fn labels_mixing_numbers_and_words_or_not_finite_are_refused() {
    // These were read as word labels: `NaN` and `0` trained as two classes
    // named "0" and "NaN", and a stray `?` among 0/1 made a third class
    // (and switched the default loss to cross-entropy) without a word.
    let opts = CsvOptions::default();
    for (text, want) in [
        (
            "x,y\n1,0\n2,NaN\n",
            "line 3, column 2: label `NaN` is not a class index (use 0, 1, 2, ... or -1/1)",
        ),
        (
            "x,y\n1,inf\n2,cat\n",
            "line 2, column 2: label `inf` is not a class index (use 0, 1, 2, ... or -1/1)",
        ),
        (
            "x,y\n1,0\n2,1\n3,?\n",
            "line 4, column 2: label `?` is a word, but the label on line 2 (`0`) is a number: class labels must be all numbers or all words",
        ),
    ] {
        let err = parse_csv(text, &opts).unwrap_err();
        assert_eq!(err.to_string(), want, "{text:?}");
    }
    // All words, with digits inside them, are still words.
    let d = parse_csv("x,y\n1,1st\n2,2nd\n3,1st\n", &opts).unwrap();
    assert_eq!(d.labels(), [0, 1, 0]);
}

#[test]
fn word_labels_become_sorted_class_ids_and_are_kept_in_the_model() {
    let text = "w,h,animal\n4,30,dog\n3,25,cat\n5,50,dog\n1,10,mouse\n";
    let d = parse_csv(text, &CsvOptions::default()).unwrap();
    assert_eq!(d.labels(), [1, 0, 1, 2]);
    assert_eq!(d.class_names().unwrap(), ["cat", "dog", "mouse"]);
    assert_eq!(d.n_classes(), 3);

    // With a model's names, the data's own order does not matter, and a
    // word the model does not know is an error with its line.
    let names: Vec<String> = ["cat", "dog", "mouse"].map(String::from).to_vec();
    let known = CsvOptions {
        class_names: Some(names.clone()),
        ..Default::default()
    };
    let only_mice = parse_csv("w,h,animal\n1,10,mouse\n", &known).unwrap();
    assert_eq!((only_mice.labels(), only_mice.n_classes()), (&[2][..], 3));
    let err = parse_csv("w,h,animal\n1,10,fox\n", &known).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 2, column 3: label `fox` is not one of the classes (cat, dog, mouse)"
    );

    let g = Graph::new();
    let m = Mlp::new(&g, 2, &[3], &MlpConfig::default()).unwrap();
    let saved =
        SavedModel::from_mlp(&g, &m, Loss::CrossEntropy, 3, None).with_class_names(Some(names));
    let back = SavedModel::from_json(&saved.to_json()).unwrap();
    assert_eq!(back.class_name(1), "dog");
    assert_eq!(back, saved);
    // Files from before names were kept still load, with numbered classes.
    let mut old: serde_json::Value = serde_json::from_str(&saved.to_json()).unwrap();
    old.as_object_mut().unwrap().remove("class_names");
    let old = SavedModel::from_json(&old.to_string()).unwrap();
    assert_eq!(
        (old.class_names.clone(), old.class_name(1)),
        (None, "1".to_string())
    );
    // Names that do not fit the classes are an invalid model.
    let mut bad = saved.clone();
    bad.class_names = Some(vec!["a".into(), "a".into(), "b".into()]);
    assert!(
        bad.validate()
            .unwrap_err()
            .to_string()
            .contains("`a` twice")
    );
}

#[test]
fn text_that_is_not_utf8_is_reported_with_line_column_and_byte_offset() {
    let bytes = b"x,y,c\n1,2,0\n3,\xff4,1\n";
    let err = parse_csv_bytes(bytes, &CsvOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 3, column 2: the text is not UTF-8 (byte offset 14 in the file)"
    );
    assert_eq!(bytes[14], 0xff);
}

#[test]
fn more_rows_than_the_sample_limit_are_refused() {
    let mut text = String::with_capacity(7 * (data::MAX_SAMPLES + 2));
    for i in 0..=data::MAX_SAMPLES {
        text.push_str(if i % 2 == 0 { "0.5,0\n" } else { "1.5,1\n" });
    }
    let err = parse_csv(&text, &CsvOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 1000001: more than 1000000 data rows, the limit"
    );
    // Exactly the limit is fine.
    let cut = text.len() - "0.5,0\n".len();
    assert_eq!(
        parse_csv(&text[..cut], &CsvOptions::default())
            .unwrap()
            .len(),
        1_000_000
    );
}

//! Datasets: the generators' geometry from their formulas, reproducibility,
//! and CSV errors with line and column.

use backprop::data::{
    self, CsvOptions, DataError, DatasetSpec, Header, LabelColumn, parse_csv, read_csv,
};

#[test]
fn moons_without_noise_lie_on_the_half_circles() {
    let d = data::moons(101, 0.0, 5);
    assert_eq!(d.len(), 101);
    assert_eq!(d.labels().iter().filter(|&&c| c == 0).count(), 50); // n // 2 outer
    for i in 0..d.len() {
        let [x, y] = [d.x(i)[0], d.x(i)[1]];
        if d.label(i) == 0 {
            // (cos t, sin t), t in [0, π]
            assert!((x.hypot(y) - 1.0).abs() < 1e-12 && y >= -1e-12);
        } else {
            // (1 - cos t, 1 - sin t - 0.5)
            assert!(((x - 1.0).hypot(y - 0.5) - 1.0).abs() < 1e-12 && y <= 0.5 + 1e-12);
        }
    }
}

#[test]
fn generators_are_reproducible_and_seeded() {
    for make in [
        |s| data::moons(50, 0.1, s),
        |s| data::circles(50, 0.1, s),
        |s| data::spiral(50, 3, 0.1, s),
        |s| data::xor(50, 0.1, s),
        |s| data::blobs(50, 4, 0.5, s),
    ] {
        assert_eq!(make(1), make(1));
        assert_ne!(make(1), make(2));
    }
}

#[test]
fn noise_has_the_requested_deviation() {
    // Moons with noise minus the same moons without: the noise alone.
    let n = 20000;
    let clean = data::moons(n, 0.0, 9);
    let noisy = data::moons(n, 0.3, 9);
    let diffs: Vec<f64> = noisy
        .features()
        .iter()
        .zip(clean.features())
        .map(|(a, b)| a - b)
        .collect();
    let mean = diffs.iter().sum::<f64>() / diffs.len() as f64;
    let std = (diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / diffs.len() as f64).sqrt();
    assert!(
        mean.abs() < 0.01 && (std - 0.3).abs() < 0.01,
        "mean {mean} std {std}"
    );
}

#[test]
fn circles_spiral_blobs_shapes() {
    let c = data::circles(40, 0.0, 1);
    for i in 0..c.len() {
        let r = c.x(i)[0].hypot(c.x(i)[1]);
        assert!((r - [1.0, 0.5][c.label(i)]).abs() < 1e-12);
    }
    let s = data::spiral(300, 3, 0.0, 1);
    assert_eq!(s.n_classes(), 3);
    for i in 0..s.len() {
        assert!(s.x(i)[0].hypot(s.x(i)[1]) <= 1.0 + 1e-12);
    }
    let b = data::blobs(30, 3, 0.0, 1);
    assert_eq!(b.n_classes(), 3);
    let x = data::xor(100, 0.0, 2);
    assert_eq!(x.n_classes(), 2);
}

#[test]
fn csv_with_header_and_label_by_name_or_index() {
    let text = "# points\nx1, y, label ,x3\n1.5,2,1,0\n\n-3,4e-1,0,1\n";
    let by_name = CsvOptions {
        label: LabelColumn::Name("label".into()),
        ..Default::default()
    };
    let d = parse_csv(text, &by_name).unwrap();
    assert_eq!((d.len(), d.n_features()), (2, 3));
    assert_eq!(d.x(1), &[-3.0, 0.4, 1.0]);
    assert_eq!(d.labels(), &[1, 0]);
    let by_index = CsvOptions {
        label: LabelColumn::Index(2),
        ..Default::default()
    };
    assert_eq!(parse_csv(text, &by_index).unwrap(), d);
}

#[test]
fn csv_without_header_and_plus_minus_one_labels() {
    let d = parse_csv("1,2,-1\n3,4,1\n", &CsvOptions::default()).unwrap();
    assert_eq!(d.labels(), &[0, 1]);
    let no = CsvOptions {
        header: Header::No,
        ..Default::default()
    };
    assert!(matches!(
        parse_csv("a,b,c\n1,2,0\n", &no),
        Err(DataError::NotANumber {
            line: 1,
            column: 1,
            ..
        })
    ));
}

#[test]
fn csv_errors_say_where() {
    let err = |text: &str, o: &CsvOptions| parse_csv(text, o).unwrap_err().to_string();
    let def = CsvOptions::default();
    assert_eq!(
        err("x,y,c\n1,2,0\n3,abc,1\n", &def),
        "line 3, column 2: `abc` is not a finite number"
    );
    assert_eq!(
        err("1,2,0\n3,4\n", &def),
        "line 2: expected 3 fields, found 2"
    );
    assert_eq!(
        err("1,2,0\n3,4,0,5\n", &def),
        "line 2: expected 3 fields, found 4"
    );
    assert_eq!(
        err("1,2,0\n3,nan,1\n", &def),
        "line 2, column 2: `nan` is not a finite number"
    );
    assert!(
        err("1,2,0.5\n", &def).starts_with("line 1, column 3: label `0.5` is not a class index")
    );
    assert_eq!(err("", &def), "the dataset is empty");
    assert_eq!(err("x,y,c\n", &def), "the dataset is empty");
    let by_name = CsvOptions {
        label: LabelColumn::Name("class".into()),
        ..Default::default()
    };
    assert_eq!(
        err("x,y,c\n1,2,0\n", &by_name),
        "no column named `class` in the header (columns: x, y, c)"
    );
    let far = CsvOptions {
        label: LabelColumn::Index(7),
        ..Default::default()
    };
    assert_eq!(
        err("1,2,0\n", &far),
        "label column 7 does not exist: rows have 3 fields"
    );
}

#[test]
fn read_csv_reports_a_missing_file() {
    let err = read_csv("/nonexistent/points.csv", &CsvOptions::default()).unwrap_err();
    // The reason is the source, not repeated in the message (printing the
    // chain would show it twice).
    assert_eq!(err.to_string(), "cannot read /nonexistent/points.csv");
    let source = std::error::Error::source(&err).unwrap();
    assert_eq!(
        source.downcast_ref::<std::io::Error>().unwrap().kind(),
        std::io::ErrorKind::NotFound
    );
}

#[test]
fn dataset_names() {
    assert_eq!("moons".parse::<DatasetSpec>().unwrap(), DatasetSpec::Moons);
    assert_eq!("csv:a/b.csv".parse::<DatasetSpec>().unwrap().name(), "b");
    let err = "iris".parse::<DatasetSpec>().unwrap_err().to_string();
    assert!(err.starts_with("unknown dataset `iris`"), "{err}");
}

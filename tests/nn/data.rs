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

/// QA defect 5: squares of features from about 1e154 overflow, so the
/// deviation became infinite (and standardising zeroed the feature).
#[test]
fn mean_and_deviation_of_huge_and_tiny_features_are_finite() {
    let d = data::Dataset::new(vec![1e160, 3e160], vec![0, 1], 1).unwrap();
    let (mean, std) = d.mean_std();
    // Mean (1 + 3)/2 · 1e160, deviation √((1 + 1)/2) · 1e160.
    assert!((mean[0] / 2e160 - 1.0).abs() < 1e-14, "{mean:?}");
    assert!((std[0] / 1e160 - 1.0).abs() < 1e-14, "{std:?}");

    // Near f64::MAX the plain sum overflows too: -1e308, 1e308, 0 have
    // mean 0 and deviation √(2/3) · 1e308.
    let d = data::Dataset::new(vec![-1e308, 1e308, 0.0], vec![0, 1, 1], 1).unwrap();
    let (mean, std) = d.mean_std();
    assert!(mean[0].abs() < 1e292, "{mean:?}");
    let expected = (2.0f64 / 3.0).sqrt() * 1e308;
    assert!((std[0] / expected - 1.0).abs() < 1e-14, "{std:?}");

    // Squares of 1e-170 underflow to subnormals: the deviation of 1e-170
    // and 3e-170 is still 1e-170.
    let d = data::Dataset::new(vec![1e-170, 3e-170], vec![0, 1], 1).unwrap();
    let (_, std) = d.mean_std();
    assert!((std[0] / 1e-170 - 1.0).abs() < 1e-14, "{std:?}");

    // Ordinary data: the textbook formula, and a constant column gets 1.
    let d = data::Dataset::new(vec![1.0, 5.0, 3.0, 5.0], vec![0, 1], 2).unwrap();
    let (mean, std) = d.mean_std();
    assert_eq!((mean, std), (vec![2.0, 5.0], vec![1.0, 1.0]));
}

/// QA defect 7: a first row with `NaN`, a typo, or a byte order mark was
/// taken for a header and silently dropped.
#[test]
fn only_a_row_of_names_is_a_header() {
    let def = CsvOptions::default();
    let good: String = (0..50).map(|i| format!("0.{i},1,{}\n", i % 2)).collect();
    let err = |first: &str| {
        parse_csv(&format!("{first}\n{good}"), &def)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err("NaN,1,1"),
        "line 1, column 1: `NaN` is not a finite number"
    );
    assert_eq!(
        err("0.5,O.3,1"),
        "line 1, column 2: `O.3` is not a finite number"
    );
    assert_eq!(
        err("inf,2,0"),
        "line 1, column 1: `inf` is not a finite number"
    );
    assert_eq!(
        err("1..5,x,0"),
        "line 1, column 1: `1..5` is not a finite number"
    );
    // A real header is still recognised, also after a byte order mark.
    let with_names = format!("\u{feff}x,y,label\n{good}");
    assert_eq!(parse_csv(&with_names, &def).unwrap().len(), 50);
    let by_name = CsvOptions {
        label: LabelColumn::Name("label".into()),
        ..Default::default()
    };
    assert_eq!(parse_csv(&with_names, &by_name).unwrap().len(), 50);
    // A byte order mark before data is not a header either.
    assert_eq!(
        parse_csv(&format!("\u{feff}{good}"), &def).unwrap().len(),
        50
    );

    let rows = |text: &str| data::parse_features(text, Header::Auto);
    assert_eq!(
        rows("nan,2\n3,4\n").unwrap_err().to_string(),
        "line 1, column 1: `nan` is not a finite number"
    );
    assert_eq!(rows("\u{feff}1,2\n3,4\n").unwrap().0, [1.0, 2.0, 3.0, 4.0]);
    assert_eq!(rows("a,b\n1,2\n").unwrap(), (vec![1.0, 2.0], 2));
}

/// QA defect 6: labels {0, 999999} made a million-output network, labels
/// that are all one class trained to "100 %".
#[test]
fn training_needs_every_class_from_0_and_at_least_two() {
    let ds = |labels: Vec<usize>| {
        let n = labels.len();
        data::Dataset::new((0..n).map(|i| i as f64).collect(), labels, 1).unwrap()
    };
    let err = ds(vec![0, 999_999]).check_classes().unwrap_err();
    assert!(matches!(
        err,
        DataError::MissingClass {
            class: 1,
            largest: 999_999,
            distinct: 2
        }
    ));
    assert!(err.to_string().starts_with("no row has class 1"), "{err}");
    let err = ds(vec![5, 5, 5]).check_classes().unwrap_err();
    assert!(
        matches!(
            err,
            DataError::OneClass {
                class: 5,
                rows: 3,
                ..
            }
        ),
        "{err}"
    );
    let err = ds(vec![0, 0]).check_classes().unwrap_err();
    assert_eq!(
        err.to_string(),
        "all 2 rows have class 0: a classifier needs at least 2 classes"
    );
    assert!(ds(vec![2, 0, 1, 1]).check_classes().is_ok());
    assert_eq!(ds(vec![2, 0, 1, 1]).class_counts(), [1, 2, 1]);
}

/// QA defect 15: a training file (features and a label column) can be fed
/// to prediction by naming the column to leave out.
#[test]
fn features_without_a_column() {
    let text = "a,label,b\n1,0,2\n3,1,4\n";
    let by_name = LabelColumn::Name("label".into());
    let (values, width) = data::parse_features_without(text, Header::Auto, &by_name).unwrap();
    assert_eq!((values, width), (vec![1.0, 2.0, 3.0, 4.0], 2));
    let (values, width) =
        data::parse_features_without("1,2,0\n3,4,1\n", Header::Auto, &LabelColumn::Last).unwrap();
    assert_eq!((values, width), (vec![1.0, 2.0, 3.0, 4.0], 2));
    let err = data::parse_features_without(text, Header::Auto, &LabelColumn::Index(5)).unwrap_err();
    assert!(matches!(
        err,
        DataError::ColumnOutOfRange {
            index: 5,
            fields: 3
        }
    ));
    let err = data::parse_features_without("1,2\n", Header::Auto, &by_name).unwrap_err();
    assert!(matches!(err, DataError::NoHeader(_)));
}

/// An empty label cell was taken for a class named "" (a file of numbered
/// classes with one label missing became three word classes `""`, `0`,
/// `1`, and trained): a missing label is a mistake in the file, reported
/// with its line and column, with number labels and with word labels.
#[test]
fn an_empty_label_is_an_error_with_its_place() {
    let def = CsvOptions::default();
    let err = |text: &str| parse_csv(text, &def).unwrap_err().to_string();
    let expected = "line 3, column 3: the label is empty (every row needs a class)";
    assert_eq!(err("x,y,c\n1,2,1\n3,4,\n5,6,0\n"), expected);
    assert_eq!(err("x,y,c\n1,2,cat\n3,4,\n5,6,dog\n"), expected);
    assert_eq!(err("x,y,c\n1,2,cat\n3,4,\"\"\n5,6,dog\n"), expected);
    assert_eq!(err("x,y,c\n1,2,1\n3,4,  \n5,6,0\n"), expected);
    // The label column chosen by name, in the middle of the row.
    let by_name = CsvOptions {
        label: LabelColumn::Name("c".into()),
        ..Default::default()
    };
    assert_eq!(
        parse_csv("x,c,y\n1,0,2\n3,,4\n", &by_name)
            .unwrap_err()
            .to_string(),
        "line 3, column 2: the label is empty (every row needs a class)"
    );
    // A trailing comma makes an empty last column: that is the label.
    assert_eq!(
        err("a,b,c,\n1,2,0,\n3,4,1,\n"),
        "line 2, column 4: the label is empty (every row needs a class)"
    );
    assert!(matches!(
        parse_csv("1,2,\n3,4,1\n", &def),
        Err(DataError::EmptyLabel { line: 1, column: 3 })
    ));
    // Complete rows still load, with word labels too.
    let d = parse_csv("x,y,c\n1,2,cat\n3,4,dog\n", &def).unwrap();
    assert_eq!(d.labels(), [0, 1]);
}

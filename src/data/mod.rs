//! Datasets for classification: two moons, circles, spirals, XOR, Gaussian
//! blobs, and CSV files.
//!
//! Every generator takes a seed and is reproducible: the same arguments give
//! the same points on every machine (the RNG is ChaCha8, the Gaussian noise
//! Box–Muller on top of it).
//!
//! ```
//! use backprop::data;
//!
//! let d = data::moons(100, 0.1, 1337);
//! assert_eq!((d.len(), d.n_features(), d.n_classes()), (100, 2, 2));
//! assert_eq!(d.labels().iter().filter(|&&c| c == 1).count(), 50);
//! assert_eq!(d.x(0), data::moons(100, 0.1, 1337).x(0));
//! ```

mod csv;

use std::f64::consts::PI;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub use csv::{
    CsvOptions, Header, LabelColumn, MAX_CSV_BYTES, parse_csv, parse_csv_bytes, parse_features,
    parse_features_without, read_bytes, read_csv,
};

/// The most rows a dataset may have: CSV files past it are refused, and
/// the generators panic past it.
pub const MAX_SAMPLES: usize = 1_000_000;

/// The most classes a dataset may have (labels are below it): the network
/// has one output per class, and a label such as 2^40 would otherwise ask
/// for terabytes.
pub const MAX_CLASSES: usize = 1_000_000;

/// A mistake in a dataset's description or contents.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be read (the reason is the error's source).
    #[error("cannot read {path}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A cell that should hold a number does not.
    #[error("line {line}, column {column}: `{cell}` is not a finite number")]
    NotANumber {
        /// 1-based line number in the file.
        line: usize,
        /// 1-based column number.
        column: usize,
        /// The offending cell, trimmed.
        cell: String,
    },
    /// A row with a different number of fields than the first row.
    #[error("line {line}: expected {expected} fields, found {found}")]
    FieldCount {
        /// 1-based line number.
        line: usize,
        /// Fields in the first row.
        expected: usize,
        /// Fields in this row.
        found: usize,
    },
    /// A label that is not a class index (a non-negative integer, or ±1).
    #[error(
        "line {line}, column {column}: label `{label}` is not a class index (use 0, 1, 2, ... or -1/1)"
    )]
    BadLabel {
        /// 1-based line number.
        line: usize,
        /// 1-based column number.
        column: usize,
        /// The offending label.
        label: f64,
    },
    /// A label column with both numbers and words.
    #[error(
        "line {line}, column {column}: label `{word}` is a word, but the label on line {number_line} (`{number}`) is a number: class labels must be all numbers or all words"
    )]
    MixedLabels {
        /// 1-based line number of the first word.
        line: usize,
        /// 1-based column number.
        column: usize,
        /// The first word.
        word: String,
        /// 1-based line number of the first number.
        number_line: usize,
        /// The first number, as written.
        number: String,
    },
    /// A row whose label cell is empty (or only spaces).
    #[error("line {line}, column {column}: the label is empty (every row needs a class)")]
    EmptyLabel {
        /// 1-based line number.
        line: usize,
        /// 1-based column number.
        column: usize,
    },
    /// The label column named on the command line is not in the header.
    #[error("no column named `{name}` in the header (columns: {columns})")]
    NoSuchColumn {
        /// The requested name.
        name: String,
        /// The header's column names, comma separated.
        columns: String,
    },
    /// A label column index past the last column.
    #[error("label column {index} does not exist: rows have {fields} fields")]
    ColumnOutOfRange {
        /// The requested 0-based index.
        index: usize,
        /// Fields per row.
        fields: usize,
    },
    /// A label column chosen by name in a file without a header.
    #[error("label column `{0}` chosen by name, but the file has no header")]
    NoHeader(String),
    /// Fewer than two fields (at least one feature and the label).
    #[error("line {line}: need at least 2 fields (features and a label), found {found}")]
    TooFewFields {
        /// 1-based line number.
        line: usize,
        /// Fields found.
        found: usize,
    },
    /// Every row has the same class: nothing to tell apart.
    #[error("{}: a classifier needs at least 2 classes", match rows {
        1 => format!("the only row has class {name}"),
        _ => format!("all {rows} rows have class {name}"),
    })]
    OneClass {
        /// The only class.
        class: usize,
        /// The number of rows.
        rows: usize,
        /// The class as the data names it: its word label, or the number.
        name: String,
    },
    /// A class below the largest label that no row has: labels must be
    /// `0, 1, ..., k - 1` with every class present (the network gets one
    /// output per class, so a label of 999999 would mean a million outputs).
    #[error(
        "no row has class {class}, but the largest label is {largest}: labels must be 0, 1, 2, ... with every class present ({distinct} distinct labels found; renumber them)"
    )]
    MissingClass {
        /// The first missing class.
        class: usize,
        /// The largest label.
        largest: usize,
        /// How many different labels the data has.
        distinct: usize,
    },
    /// A file or generator with no data rows.
    #[error("the dataset is empty")]
    Empty,
    /// A CSV file the `csv` crate cannot read.
    #[error("line {line}: {message}")]
    Csv {
        /// 1-based line number.
        line: usize,
        /// The reader's message.
        message: String,
    },
    /// A quoted field whose closing quote never comes: the `csv` crate
    /// would read the rest of the file into it.
    #[error(
        "line {line}, column {column}: this quoted field is never closed (no closing `\"` before the end of the file)"
    )]
    UnclosedQuote {
        /// 1-based line number of its opening quote.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// A cell that is not UTF-8 text.
    #[error("line {line}, column {column}: the text is not UTF-8 (byte offset {byte} in the file)")]
    NotUtf8 {
        /// 1-based line number.
        line: usize,
        /// 1-based column number.
        column: usize,
        /// 0-based offset of the first bad byte in the file.
        byte: u64,
    },
    /// More rows than [`MAX_SAMPLES`].
    #[error("line {line}: more than {max} data rows, the limit")]
    TooManyRows {
        /// The line of the first row past the limit.
        line: usize,
        /// [`MAX_SAMPLES`].
        max: usize,
    },
    /// A word label that is not one of the known class names.
    #[error("line {line}, column {column}: label `{label}` is not one of the classes ({names})")]
    UnknownLabel {
        /// 1-based line number.
        line: usize,
        /// 1-based column number.
        column: usize,
        /// The label.
        label: String,
        /// The known class names, comma separated.
        names: String,
    },
    /// Two header columns with the same name.
    #[error(
        "line {line}: columns {first} and {second} are both named `{name}`; give each column its own name"
    )]
    DuplicateColumn {
        /// 1-based line number of the header.
        line: usize,
        /// The name.
        name: String,
        /// 1-based column of the first.
        first: usize,
        /// 1-based column of the second.
        second: usize,
    },
    /// A class label at or past [`MAX_CLASSES`].
    #[error("row {row} has label {label}, but labels must be below {max}, the limit on classes")]
    TooManyClasses {
        /// 1-based row.
        row: usize,
        /// The label.
        label: usize,
        /// [`MAX_CLASSES`].
        max: usize,
    },
    /// A generator argument out of range.
    #[error("{0}")]
    Invalid(String),
}

/// A labelled dataset: `len()` rows of `n_features()` numbers, each with a
/// class in `0..n_classes()`.
///
/// Features are stored row-major in one `Vec<f64>`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    features: Vec<f64>,
    labels: Vec<usize>,
    n_features: usize,
    n_classes: usize,
    class_names: Option<Vec<String>>,
    feature_names: Option<Vec<String>>,
}

impl Dataset {
    /// A dataset from row-major `features` (`labels.len()` rows) and class
    /// labels. `n_classes` is one more than the largest label (at least 2).
    ///
    /// ```
    /// let d = backprop::data::Dataset::new(vec![0.0, 1.0, 2.0, 3.0], vec![0, 1], 2).unwrap();
    /// assert_eq!(d.x(1), &[2.0, 3.0]);
    /// ```
    ///
    /// # Errors
    /// If the dataset is empty, `n_features` is 0, the feature count is not
    /// `labels.len() * n_features`, or a label is [`MAX_CLASSES`] or more
    /// ([`DataError::TooManyClasses`]).
    ///
    /// ```
    /// use backprop::data::Dataset;
    /// assert!(Dataset::new(vec![0.0, 1.0], vec![0, usize::MAX], 1).is_err());
    /// assert!(Dataset::new(vec![0.0, 1.0], vec![0, 1 << 40], 1).is_err());
    /// ```
    pub fn new(
        features: Vec<f64>,
        labels: Vec<usize>,
        n_features: usize,
    ) -> Result<Self, DataError> {
        if labels.is_empty() {
            return Err(DataError::Empty);
        }
        if n_features == 0 || features.len() != labels.len() * n_features {
            return Err(DataError::Invalid(format!(
                "{} feature values do not make {} rows of {n_features}",
                features.len(),
                labels.len()
            )));
        }
        if let Some(row) = labels.iter().position(|&c| c >= MAX_CLASSES) {
            return Err(DataError::TooManyClasses {
                row: row + 1,
                label: labels[row],
                max: MAX_CLASSES,
            });
        }
        let n_classes = labels.iter().max().map_or(2, |&m| (m + 1).max(2));
        Ok(Self {
            features,
            labels,
            n_features,
            n_classes,
            class_names: None,
            feature_names: None,
        })
    }

    /// The dataset with names for its classes (class `i` is `names[i]`);
    /// the number of classes becomes `names.len()` (at least 2, as for
    /// [`Dataset::new`]), which may be more than the labels use (data to
    /// evaluate a model on need not have every class). Data whose labels
    /// are all one word keep it as class 0's name, and
    /// [`check_classes`](Dataset::check_classes) says that a classifier
    /// needs at least 2 classes.
    ///
    /// ```
    /// use backprop::data::Dataset;
    /// let d = Dataset::new(vec![0.0, 1.0], vec![0, 1], 1).unwrap();
    /// let d = d.with_class_names(vec!["cat".into(), "dog".into(), "fox".into()]).unwrap();
    /// assert_eq!((d.n_classes(), d.class_name(1)), (3, "dog".to_string()));
    /// let one = Dataset::new(vec![0.0], vec![0], 1).unwrap();
    /// let one = one.with_class_names(vec!["cat".into()]).unwrap();
    /// assert_eq!(
    ///     one.check_classes().unwrap_err().to_string(),
    ///     "the only row has class cat: a classifier needs at least 2 classes"
    /// );
    /// ```
    ///
    /// # Errors
    /// [`DataError::Invalid`] for fewer names than the labels need, or a
    /// name given twice.
    pub fn with_class_names(mut self, names: Vec<String>) -> Result<Self, DataError> {
        let needed = self.labels.iter().max().map_or(0, |&m| m + 1);
        if names.len() < needed {
            return Err(DataError::Invalid(format!(
                "{} class names for {needed} classes",
                names.len(),
            )));
        }
        if let Some(j) = (1..names.len()).find(|&j| names[..j].contains(&names[j])) {
            return Err(DataError::Invalid(format!(
                "the class name `{}` is given twice",
                names[j]
            )));
        }
        self.n_classes = names.len().max(2);
        self.class_names = Some(names);
        Ok(self)
    }

    /// The dataset with names for its features (a CSV header's column
    /// names, without the label's), or `None` if `names` is not one name
    /// per feature.
    ///
    /// ```
    /// use backprop::data::Dataset;
    /// let d = Dataset::new(vec![0.0, 1.0], vec![0], 2).unwrap();
    /// let d = d.with_feature_names(vec!["height".into(), "weight".into()]).unwrap();
    /// assert_eq!(d.feature_names().unwrap()[1], "weight");
    /// ```
    pub fn with_feature_names(mut self, names: Vec<String>) -> Option<Self> {
        if names.len() != self.n_features {
            return None;
        }
        self.feature_names = Some(names);
        Some(self)
    }

    /// The names of the features, if the data came with them (a CSV file
    /// with a header).
    pub fn feature_names(&self) -> Option<&[String]> {
        self.feature_names.as_deref()
    }

    /// The names of the classes, if the labels were words.
    pub fn class_names(&self) -> Option<&[String]> {
        self.class_names.as_deref()
    }

    /// Class `c`'s name: its word label, or the number.
    pub fn class_name(&self, c: usize) -> String {
        match &self.class_names {
            Some(names) if c < names.len() => names[c].clone(),
            _ => c.to_string(),
        }
    }

    /// The same rows, labels and class names with other features (as
    /// many).
    ///
    /// # Errors
    /// [`DataError::Invalid`] if `features` does not have one value per
    /// feature of each row.
    pub fn with_features(&self, features: Vec<f64>) -> Result<Self, DataError> {
        if features.len() != self.features.len() {
            return Err(DataError::Invalid(format!(
                "{} feature values do not make {} rows of {}",
                features.len(),
                self.len(),
                self.n_features
            )));
        }
        Ok(Self {
            features,
            ..self.clone()
        })
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no rows (never true for a constructed dataset).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Numbers per row.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The number of classes (at least 2).
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Row `i`'s features.
    ///
    /// # Panics
    /// If `i >= len()`.
    pub fn x(&self, i: usize) -> &[f64] {
        &self.features[i * self.n_features..(i + 1) * self.n_features]
    }

    /// Row `i`'s class.
    ///
    /// # Panics
    /// If `i >= len()`.
    pub fn label(&self, i: usize) -> usize {
        self.labels[i]
    }

    /// All features, row-major.
    pub fn features(&self) -> &[f64] {
        &self.features
    }

    /// All labels.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// The smallest and largest value of each feature.
    pub fn bounds(&self) -> Vec<(f64, f64)> {
        (0..self.n_features)
            .map(|j| {
                (0..self.len())
                    .map(|i| self.x(i)[j])
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                        (lo.min(v), hi.max(v))
                    })
            })
            .collect()
    }

    /// How many rows each class has (index `c` for class `c`).
    ///
    /// ```
    /// let d = backprop::data::Dataset::new(vec![0.0, 1.0, 2.0], vec![0, 2, 2], 1).unwrap();
    /// assert_eq!(d.class_counts(), [1, 0, 2]);
    /// ```
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.n_classes];
        for &c in &self.labels {
            counts[c] += 1;
        }
        counts
    }

    /// Checks that the data can train a classifier: at least 2 classes,
    /// and every class in `0..n_classes()` has a row (so that no output of
    /// the network is wasted on a class that never occurs).
    ///
    /// ```
    /// use backprop::data::Dataset;
    ///
    /// let gap = Dataset::new(vec![0.0, 1.0], vec![0, 5], 1).unwrap();
    /// assert!(gap.check_classes().unwrap_err().to_string().starts_with("no row has class 1"));
    /// let one = Dataset::new(vec![0.0, 1.0], vec![1, 1], 1).unwrap();
    /// assert!(one.check_classes().is_err());
    /// ```
    ///
    /// # Errors
    /// [`DataError::OneClass`] or [`DataError::MissingClass`].
    pub fn check_classes(&self) -> Result<(), DataError> {
        let counts = self.class_counts();
        let distinct = counts.iter().filter(|&&n| n > 0).count();
        if distinct < 2 {
            return Err(DataError::OneClass {
                class: self.labels[0],
                rows: self.len(),
                name: self.class_name(self.labels[0]),
            });
        }
        match counts.iter().position(|&n| n == 0) {
            Some(class) => Err(DataError::MissingClass {
                class,
                largest: self.n_classes - 1,
                distinct,
            }),
            None => Ok(()),
        }
    }

    /// Per-feature mean and standard deviation (a zero deviation is
    /// reported as 1, so that dividing by it is harmless).
    ///
    /// Both are finite for any finite data: when the plain sums overflow
    /// (features near `f64::MAX`, or squares past it, from about 1e154) or
    /// the squares underflow (deviations below about 1e-145), they are
    /// computed again on values scaled by the largest magnitude.
    ///
    /// ```
    /// let d = backprop::data::Dataset::new(vec![1e160, 3e160], vec![0, 1], 1).unwrap();
    /// let (mean, std) = d.mean_std();
    /// assert!((mean[0] / 2e160 - 1.0).abs() < 1e-15 && (std[0] / 1e160 - 1.0).abs() < 1e-15);
    /// ```
    pub fn mean_std(&self) -> (Vec<f64>, Vec<f64>) {
        let n = self.len() as f64;
        let column = |j: usize| (0..self.len()).map(move |i| self.x(i)[j]);
        let mut mean = Vec::with_capacity(self.n_features);
        let mut std = Vec::with_capacity(self.n_features);
        for j in 0..self.n_features {
            // Scaled by the largest magnitude, every value is in [-1, 1],
            // the deviations in [-2, 2], and no sum overflows.
            let (lo, hi) = column(j).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
            let max = lo.abs().max(hi.abs());
            let mut m = column(j).sum::<f64>() / n;
            if !m.is_finite() {
                m = column(j).map(|v| v / max).sum::<f64>() / n * max;
            }
            let mut var = column(j).map(|v| (v - m).powi(2)).sum::<f64>() / n;
            let mut scale = 1.0;
            // Squares overflow from about 1e154, and below about 1e-154
            // they lose precision as subnormals or vanish.
            if !var.is_finite() || (var < 1e-290 && lo < hi) {
                scale = max;
                var = column(j)
                    .map(|v| (v / scale - m / scale).powi(2))
                    .sum::<f64>()
                    / n;
            }
            mean.push(m);
            // The deviation is at most half the range, so it is finite.
            std.push(if var > 0.0 { var.sqrt() * scale } else { 1.0 });
        }
        (mean, std)
    }
}

/// A standard normal sample by Box–Muller (rand 0.8 has no normal
/// distribution without `rand_distr`).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.r#gen::<f64>(); // in (0, 1]: ln is finite
    let u2: f64 = rng.r#gen();
    (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
}

/// `n` evenly spaced numbers from `a` to `b` inclusive (NumPy's `linspace`).
fn linspace(a: f64, b: f64, n: usize) -> impl Iterator<Item = f64> {
    let step = if n > 1 { (b - a) / (n - 1) as f64 } else { 0.0 };
    (0..n).map(move |i| a + step * i as f64)
}

/// Shuffles rows and adds Gaussian noise of standard deviation `noise`,
/// as scikit-learn's generators do.
fn finish(mut points: Vec<([f64; 2], usize)>, noise: f64, rng: &mut ChaCha8Rng) -> Dataset {
    points.shuffle(rng);
    let mut features = Vec::with_capacity(points.len() * 2);
    let mut labels = Vec::with_capacity(points.len());
    for ([x, y], c) in points {
        features.push(x + noise * normal(rng));
        features.push(y + noise * normal(rng));
        labels.push(c);
    }
    Dataset::new(features, labels, 2).expect("generators make non-empty datasets")
}

/// The generators' documented limit: a programmer error past it, caught
/// before any allocation (which would abort the process).
fn check_size(n: usize, classes: usize) {
    assert!(
        n <= MAX_SAMPLES && classes <= MAX_SAMPLES,
        "a generated dataset has at most {MAX_SAMPLES} samples and classes, got {n} samples and {classes} classes"
    );
}

fn at_least_one(n: usize) -> usize {
    n.max(1)
}

/// Two interleaving half circles, like scikit-learn's
/// `make_moons(n, noise=noise)`: `n / 2` points of class 0 on the outer
/// half circle `(cos t, sin t)` and the rest of class 1 on the inner one
/// `(1 - cos t, 1 - sin t - 0.5)`, `t` in `linspace(0, π)`, then shuffled
/// and moved by Gaussian noise of standard deviation `noise`.
///
/// ```
/// let d = backprop::data::moons(10, 0.0, 0);
/// for i in 0..d.len() {
///     let [x, y] = [d.x(i)[0], d.x(i)[1]];
///     let r = if d.label(i) == 0 { x.hypot(y) } else { (x - 1.0).hypot(y - 0.5) };
///     assert!((r - 1.0).abs() < 1e-12);
/// }
/// ```
///
/// `n` is raised to 2 if smaller (one point per moon).
///
/// # Panics
/// If `n` is more than [`MAX_SAMPLES`].
pub fn moons(n: usize, noise: f64, seed: u64) -> Dataset {
    check_size(n, 2);
    let n = n.max(2);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n_out = n / 2;
    let n_in = n - n_out;
    let mut points = Vec::with_capacity(n);
    points.extend(linspace(0.0, PI, n_out).map(|t| ([t.cos(), t.sin()], 0)));
    points.extend(linspace(0.0, PI, n_in).map(|t| ([1.0 - t.cos(), 1.0 - t.sin() - 0.5], 1)));
    finish(points, noise, &mut rng)
}

/// Two concentric circles, like scikit-learn's `make_circles(n, noise,
/// factor=0.5)`: class 0 on the unit circle, class 1 on the circle of
/// radius 0.5, angles evenly spaced in `[0, 2π)`.
///
/// ```
/// let d = backprop::data::circles(8, 0.0, 0);
/// let r = d.x(0)[0].hypot(d.x(0)[1]);
/// assert!((r - if d.label(0) == 0 { 1.0 } else { 0.5 }).abs() < 1e-12);
/// ```
///
/// `n` is raised to 2 if smaller (one point per circle).
///
/// # Panics
/// If `n` is more than [`MAX_SAMPLES`].
pub fn circles(n: usize, noise: f64, seed: u64) -> Dataset {
    check_size(n, 2);
    let n = n.max(2);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n_out = n / 2;
    let n_in = n - n_out;
    let ring = |k: usize, r: f64, c: usize| {
        (0..k).map(move |i| {
            let t = 2.0 * PI * i as f64 / k as f64;
            ([r * t.cos(), r * t.sin()], c)
        })
    };
    let points = ring(n_out, 1.0, 0).chain(ring(n_in, 0.5, 1)).collect();
    finish(points, noise, &mut rng)
}

/// Interleaved spirals, one arm per class (the CS231n dataset): for class
/// `j` and `i` in `0..m`, radius `r = i / (m - 1)` and angle
/// `t = 4j + 4r + noise·N(0, 1)` (in radians), point `(r sin t, r cos t)`.
/// The noise perturbs the angle, not the position.
///
/// ```
/// let d = backprop::data::spiral(90, 3, 0.0, 7);
/// assert_eq!(d.n_classes(), 3);
/// assert_eq!(d.labels().iter().filter(|&&c| c == 2).count(), 30);
/// ```
///
/// `classes` is raised to 2 and `n` to `classes` if smaller.
///
/// # Panics
/// If `n` or `classes` is more than [`MAX_SAMPLES`].
pub fn spiral(n: usize, classes: usize, noise: f64, seed: u64) -> Dataset {
    check_size(n, classes);
    let classes = classes.max(2);
    let n = n.max(classes);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut points = Vec::with_capacity(n);
    for j in 0..classes {
        let m = n / classes + usize::from(j < n % classes);
        for r in linspace(0.0, 1.0, at_least_one(m)) {
            let t = 4.0 * j as f64 + 4.0 * r + noise * normal(&mut rng);
            points.push(([r * t.sin(), r * t.cos()], j));
        }
    }
    // The noise is in the angle, already applied.
    finish(points, 0.0, &mut rng)
}

/// The XOR problem: points uniform in `[-1, 1]²`, class 1 when exactly one
/// coordinate is positive; labels come from the clean positions, then
/// Gaussian noise of standard deviation `noise` is added.
///
/// ```
/// let d = backprop::data::xor(50, 0.0, 3);
/// for i in 0..d.len() {
///     let x = d.x(i);
///     assert_eq!(d.label(i), usize::from((x[0] > 0.0) != (x[1] > 0.0)));
/// }
/// ```
///
/// `n` is raised to 2 if smaller.
///
/// # Panics
/// If `n` is more than [`MAX_SAMPLES`].
pub fn xor(n: usize, noise: f64, seed: u64) -> Dataset {
    check_size(n, 2);
    let n = n.max(2);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let points = (0..n)
        .map(|_| {
            let x: f64 = rng.gen_range(-1.0..1.0);
            let y: f64 = rng.gen_range(-1.0..1.0);
            ([x, y], usize::from((x > 0.0) != (y > 0.0)))
        })
        .collect();
    finish(points, noise, &mut rng)
}

/// Gaussian blobs: class `j`'s centre is at `3 (cos 2πj/k, sin 2πj/k)`,
/// points around it with standard deviation `std` in each coordinate;
/// rows are spread evenly over the `classes`.
///
/// ```
/// let d = backprop::data::blobs(40, 4, 0.0, 1);
/// assert_eq!(d.n_classes(), 4);
/// let c = d.label(0) as f64 * std::f64::consts::PI / 2.0;
/// assert!((d.x(0)[0] - 3.0 * c.cos()).abs() < 1e-12);
/// ```
///
/// `classes` is raised to 2 and `n` to `classes` if smaller.
///
/// # Panics
/// If `n` or `classes` is more than [`MAX_SAMPLES`].
pub fn blobs(n: usize, classes: usize, std: f64, seed: u64) -> Dataset {
    check_size(n, classes);
    let classes = classes.max(2);
    let n = n.max(classes);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let points = (0..n)
        .map(|i| {
            let j = i % classes;
            let a = 2.0 * PI * j as f64 / classes as f64;
            ([3.0 * a.cos(), 3.0 * a.sin()], j)
        })
        .collect();
    finish(points, std, &mut rng)
}

/// A dataset by name, as the command line spells it.
///
/// ```
/// use backprop::data::DatasetSpec;
///
/// let spec: DatasetSpec = "csv:points.csv".parse().unwrap();
/// assert_eq!(spec, DatasetSpec::Csv("points.csv".into()));
/// assert!("mooons".parse::<DatasetSpec>().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatasetSpec {
    /// [`moons`].
    Moons,
    /// [`circles`].
    Circles,
    /// [`spiral`].
    Spiral,
    /// [`xor`].
    Xor,
    /// [`blobs`].
    Blobs,
    /// A CSV file ([`read_csv`]).
    Csv(std::path::PathBuf),
}

impl DatasetSpec {
    /// The name used in messages and default file names (`moons`, the CSV
    /// file's stem, ...).
    pub fn name(&self) -> String {
        match self {
            DatasetSpec::Moons => "moons".into(),
            DatasetSpec::Circles => "circles".into(),
            DatasetSpec::Spiral => "spiral".into(),
            DatasetSpec::Xor => "xor".into(),
            DatasetSpec::Blobs => "blobs".into(),
            DatasetSpec::Csv(p) => p
                .file_stem()
                .map_or("csv".into(), |s| s.to_string_lossy().into_owned()),
        }
    }

    /// The default noise of a generator (0 for CSV): moons 0.1 (the
    /// micrograd demo), circles 0.05, spiral 0.1 (radians), xor 0.05,
    /// blobs 0.5.
    pub fn default_noise(&self) -> f64 {
        match self {
            DatasetSpec::Moons => 0.1,
            DatasetSpec::Circles | DatasetSpec::Xor => 0.05,
            DatasetSpec::Spiral => 0.1,
            DatasetSpec::Blobs => 0.5,
            DatasetSpec::Csv(_) => 0.0,
        }
    }

    /// The default number of classes: 3 for spiral and blobs, else 2.
    pub fn default_classes(&self) -> usize {
        match self {
            DatasetSpec::Spiral | DatasetSpec::Blobs => 3,
            _ => 2,
        }
    }

    /// Generates (or reads) the dataset. `classes` is used by spiral and
    /// blobs only; `csv` by CSV files only.
    ///
    /// # Errors
    /// A CSV file that cannot be read or parsed, or `n` or `classes` past
    /// [`MAX_SAMPLES`] ([`DataError::Invalid`]).
    pub fn load(
        &self,
        n: usize,
        noise: f64,
        classes: usize,
        seed: u64,
        csv: &CsvOptions,
    ) -> Result<Dataset, DataError> {
        if !matches!(self, DatasetSpec::Csv(_)) && (n > MAX_SAMPLES || classes > MAX_SAMPLES) {
            return Err(DataError::Invalid(format!(
                "a generated dataset has at most {MAX_SAMPLES} samples and classes, got {n} samples and {classes} classes"
            )));
        }
        Ok(match self {
            DatasetSpec::Moons => moons(n, noise, seed),
            DatasetSpec::Circles => circles(n, noise, seed),
            DatasetSpec::Spiral => spiral(n, classes, noise, seed),
            DatasetSpec::Xor => xor(n, noise, seed),
            DatasetSpec::Blobs => blobs(n, classes, noise, seed),
            DatasetSpec::Csv(path) => read_csv(path, csv)?,
        })
    }
}

impl std::str::FromStr for DatasetSpec {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self, DataError> {
        Ok(match s {
            "moons" => DatasetSpec::Moons,
            "circles" => DatasetSpec::Circles,
            "spiral" | "spirals" => DatasetSpec::Spiral,
            "xor" => DatasetSpec::Xor,
            "blobs" => DatasetSpec::Blobs,
            _ => match s.strip_prefix("csv:") {
                Some(p) if !p.is_empty() => DatasetSpec::Csv(p.into()),
                _ => {
                    return Err(DataError::Invalid(format!(
                        "unknown dataset `{s}` (expected moons, circles, spiral, xor, blobs or csv:PATH)"
                    )));
                }
            },
        })
    }
}

//! Trained models as files: JSON via serde, written atomically, validated
//! when read.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::mlp::dot_f64;
use super::{Activation, Layer, Loss, Mlp, Neuron, NnError};
use crate::data::Dataset;
use crate::{Graph, NodeId};

/// The `format` field of every model file.
pub const FORMAT: &str = "backprop-mlp";

/// The model file version this library writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// The largest model file [`SavedModel::load`] reads: 128 MiB, room for
/// [`Mlp::MAX_PARAMETERS`] numbers of up to 25 digits and their layout.
pub const MAX_MODEL_BYTES: u64 = 128 << 20;

/// A trained network and what prediction needs, as stored in a model file.
///
/// ```
/// use backprop::{Graph, nn::{Loss, Mlp, MlpConfig, SavedModel}};
///
/// let g = Graph::new();
/// let m = Mlp::new(&g, 2, &[3, 1], &MlpConfig::default()).unwrap();
/// let saved = SavedModel::from_mlp(&g, &m, Loss::Hinge, 2, None);
/// let json = saved.to_json();
/// let back = SavedModel::from_json(&json).unwrap();
/// assert_eq!(back, saved);
/// assert_eq!(back.scores(&[0.5, 0.2]).unwrap(), m.predict(&g, &[0.5, 0.2]));
///
/// let err = SavedModel::from_json(&json[..json.len() / 2]).unwrap_err();
/// // The field being read when the text ended, and serde's reason.
/// assert!(err.to_string().starts_with("invalid model file, field layers["));
/// let reason = std::error::Error::source(&err).unwrap().to_string();
/// assert!(reason.starts_with("EOF while parsing"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedModel {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`FORMAT_VERSION`] when written by this library.
    pub version: u32,
    /// The number of input features.
    pub inputs: usize,
    /// The loss the model was trained with: it decides how outputs become
    /// classes ([`Loss::predict`]).
    pub loss: Loss,
    /// The number of classes.
    pub classes: usize,
    /// Input standardisation applied before the network, if any.
    #[serde(default)]
    pub normalization: Option<Normalization>,
    /// The names of the classes when the training labels were words
    /// (class `i` is `class_names[i]`); absent for numeric labels and in
    /// files written before names were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class_names: Option<Vec<String>>,
    /// The layers, first to last.
    pub layers: Vec<SavedLayer>,
}

/// Per-feature standardisation `(x - mean) / std`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Normalization {
    /// The training data's mean of each feature.
    pub mean: Vec<f64>,
    /// The training data's standard deviation of each feature (non-zero).
    pub std: Vec<f64>,
}

impl Normalization {
    /// The standardisation that maps `data` to mean 0 and deviation 1.
    pub fn fit(data: &Dataset) -> Self {
        let (mean, std) = data.mean_std();
        Self { mean, std }
    }

    /// `data` with every row standardised.
    ///
    /// # Panics
    /// If `data` has more features than the normalisation has means.
    pub fn apply(&self, data: &Dataset) -> Dataset {
        let d = data.n_features();
        let features = data
            .features()
            .iter()
            .enumerate()
            .map(|(i, &v)| self.standardize(i % d, v))
            .collect();
        data.with_features(features)
            .expect("as many features as a valid dataset")
    }

    /// Feature `j`'s value `v` standardised: `(v - mean) / std`, or
    /// `v / std - mean / std` when `v - mean` overflows (features near
    /// `f64::MAX` with opposite signs).
    ///
    /// # Panics
    /// If `j` is not a feature index.
    pub fn standardize(&self, j: usize, v: f64) -> f64 {
        let (m, s) = (self.mean[j], self.std[j]);
        let z = (v - m) / s;
        if z.is_finite() || !v.is_finite() {
            z
        } else {
            v / s - m / s
        }
    }
}

/// One layer of a [`SavedModel`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedLayer {
    /// The neurons' activation.
    pub activation: Activation,
    /// The neurons.
    pub neurons: Vec<SavedNeuron>,
}

/// One neuron of a [`SavedLayer`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedNeuron {
    /// One weight per input.
    pub weights: Vec<f64>,
    /// The bias.
    pub bias: f64,
}

/// A prediction for one input: the class and the raw outputs.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// The predicted class.
    pub class: usize,
    /// The network's outputs (a score for binary losses, logits otherwise).
    pub scores: Vec<f64>,
}

/// The loss and accuracy of a model on a dataset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// The mean data loss (no regularisation).
    pub loss: f64,
    /// The fraction of rows classified correctly, in `[0, 1]`.
    pub accuracy: f64,
}

impl SavedModel {
    /// Captures `mlp`'s current weights from `g`.
    pub fn from_mlp(
        g: &Graph,
        mlp: &Mlp,
        loss: Loss,
        classes: usize,
        normalization: Option<Normalization>,
    ) -> Self {
        let data = |id: NodeId| g.get(id).data();
        Self {
            format: FORMAT.into(),
            version: FORMAT_VERSION,
            inputs: mlp.nin(),
            loss,
            classes,
            normalization,
            class_names: None,
            layers: mlp
                .layers()
                .iter()
                .map(|l| SavedLayer {
                    activation: l.activation(),
                    neurons: l
                        .neurons()
                        .iter()
                        .map(|n| SavedNeuron {
                            weights: n.weights().iter().map(|&w| data(w)).collect(),
                            bias: data(n.bias()),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// The model with names for its classes (see
    /// [`SavedModel::class_names`]; checked by [`SavedModel::validate`]).
    pub fn with_class_names(mut self, names: Option<Vec<String>>) -> Self {
        self.class_names = names;
        self
    }

    /// Class `c`'s name: its word label, or the number.
    pub fn class_name(&self, c: usize) -> String {
        match &self.class_names {
            Some(names) if c < names.len() => names[c].clone(),
            _ => c.to_string(),
        }
    }

    /// Recreates the network on `g` as new leaves (contiguous, as
    /// [`Mlp::new`] makes them).
    ///
    /// # Errors
    /// If the model does not pass [`SavedModel::validate`].
    pub fn to_mlp(&self, g: &Graph) -> Result<Mlp, NnError> {
        self.validate()?;
        let layers = self
            .layers
            .iter()
            .map(|l| {
                Layer::from_neurons(
                    l.neurons
                        .iter()
                        .map(|n| Neuron::from_weights(g, &n.weights, n.bias, l.activation))
                        .collect(),
                )
            })
            .collect();
        Ok(Mlp::from_layers(layers))
    }

    /// Checks what serde cannot: format and version, sizes that chain, one
    /// weight per input, finite numbers, an output layer that fits the loss.
    ///
    /// ```
    /// use backprop::{Graph, nn::{Loss, Mlp, MlpConfig, SavedModel}};
    ///
    /// let g = Graph::new();
    /// let m = Mlp::new(&g, 2, &[16, 16, 1], &MlpConfig::default()).unwrap();
    /// let mut saved = SavedModel::from_mlp(&g, &m, Loss::Hinge, 2, None);
    /// saved.layers[1].neurons[3].weights.pop();
    /// assert_eq!(
    ///     saved.validate().unwrap_err().to_string(),
    ///     "invalid model file: layer 1 neuron 3 has 15 weights, expected 16"
    /// );
    /// ```
    ///
    /// # Errors
    /// [`NnError::InvalidModel`] saying which field is wrong (layers and
    /// neurons counted from 0, as in the file's arrays).
    pub fn validate(&self) -> Result<(), NnError> {
        let bad = |m: String| Err(NnError::InvalidModel(m));
        if self.format != FORMAT {
            return bad(format!("format is `{}`, expected `{FORMAT}`", self.format));
        }
        if self.version != FORMAT_VERSION {
            return bad(format!(
                "version is {}, but this program reads version {FORMAT_VERSION}",
                self.version
            ));
        }
        if self.inputs == 0 {
            return bad("inputs is 0, expected at least 1".into());
        }
        if self.classes < 2 {
            return bad(format!("classes is {}, expected at least 2", self.classes));
        }
        if self.loss.is_binary() && self.classes != 2 {
            return bad(format!(
                "loss {} needs classes 2, found {}",
                self.loss, self.classes
            ));
        }
        if self.layers.is_empty() {
            return bad("layers is empty".into());
        }
        let mut nin = self.inputs;
        for (i, l) in self.layers.iter().enumerate() {
            if l.neurons.is_empty() {
                return bad(format!("layer {i} has no neurons"));
            }
            for (j, n) in l.neurons.iter().enumerate() {
                if n.weights.len() != nin {
                    return bad(format!(
                        "layer {i} neuron {j} has {} weights, expected {nin}",
                        n.weights.len()
                    ));
                }
                if let Some(k) = n.weights.iter().position(|w| !w.is_finite()) {
                    return bad(format!(
                        "layer {i} neuron {j} weight {k} is not a finite number"
                    ));
                }
                if !n.bias.is_finite() {
                    return bad(format!("layer {i} neuron {j} bias is not a finite number"));
                }
            }
            nin = l.neurons.len();
        }
        let expected = self.loss.outputs(self.classes);
        if nin != expected {
            return bad(format!(
                "the last layer has {nin} neurons, but loss {} with {} classes needs {expected}",
                self.loss, self.classes
            ));
        }
        if let Some(names) = &self.class_names {
            if names.len() != self.classes {
                return bad(format!(
                    "class_names has {} names, expected {} (classes)",
                    names.len(),
                    self.classes
                ));
            }
            if let Some(j) = (1..names.len()).find(|&j| names[..j].contains(&names[j])) {
                return bad(format!("class_names has `{}` twice", names[j]));
            }
        }
        if let Some(n) = &self.normalization {
            for (name, v) in [("mean", &n.mean), ("std", &n.std)] {
                if v.len() != self.inputs {
                    return bad(format!(
                        "normalization.{name} has {} values, expected {}",
                        v.len(),
                        self.inputs
                    ));
                }
            }
            if n.std.iter().any(|s| !(s.is_finite() && *s > 0.0))
                || n.mean.iter().any(|m| !m.is_finite())
            {
                return bad(
                    "normalization has a non-finite mean or a std that is not positive".into(),
                );
            }
        }
        Ok(())
    }

    /// The model as pretty-printed JSON (numbers round-trip exactly).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a model always serialises")
    }

    /// Parses and validates a model.
    ///
    /// # Errors
    /// [`NnError::Json`] (with serde's line, column and field name) or
    /// [`NnError::InvalidModel`].
    pub fn from_json(json: &str) -> Result<Self, NnError> {
        // A byte-order mark, as some editors save UTF-8, is not JSON but
        // says nothing against the model.
        let json = json.strip_prefix('\u{feff}').unwrap_or(json);
        let de = &mut serde_json::Deserializer::from_str(json);
        let m: SavedModel = serde_path_to_error::deserialize(de).map_err(|e| {
            not_a_model(json).unwrap_or_else(|| {
                let path = field_path(e.path());
                let source = e.into_inner();
                match non_json_number(json, source.line(), source.column()) {
                    Some(token) => NnError::InvalidModel(format!(
                        "field {path}: `{token}` at line {}, column {} is not a JSON number (a model's numbers are finite)",
                        source.line(),
                        source.column()
                    )),
                    None => NnError::Json { path, source },
                }
            })
        })?;
        m.validate()?;
        Ok(m)
    }

    /// Reads and validates a model file of at most [`MAX_MODEL_BYTES`].
    ///
    /// # Errors
    /// The file cannot be read, is too large or is not UTF-8
    /// ([`NnError::Io`]), or [`SavedModel::from_json`] fails.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, NnError> {
        let path = path.as_ref();
        let io = |source| NnError::Io {
            action: "cannot read",
            path: path.display().to_string(),
            source,
        };
        let bytes = crate::files::read_limited(path, MAX_MODEL_BYTES).map_err(io)?;
        if crate::files::looks_like_safetensors(&bytes) {
            return Err(NnError::InvalidModel(format!(
                "the file is safetensors (a GPT's weights, as `backprop gpt --save` writes), \
                 not a {FORMAT} model as `backprop train --save` writes"
            )));
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "the file is not UTF-8 text (byte offset {})",
                    e.utf8_error().valid_up_to()
                ),
            ))
        })?;
        Self::from_json(&text)
    }

    /// Writes the model atomically: to a temporary file in the same
    /// directory, synced, then renamed over `path`. An interrupted save
    /// leaves any previous file intact.
    ///
    /// # Errors
    /// The model does not pass [`SavedModel::validate`] (it could not be
    /// loaded again), or the temporary file cannot be written or renamed.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), NnError> {
        self.validate()?;
        let path = path.as_ref();
        crate::files::write_atomic(path, self.to_json().as_bytes()).map_err(|source| NnError::Io {
            action: "cannot write",
            path: path.display().to_string(),
            source,
        })
    }

    /// The network's outputs for one input (standardised first if the model
    /// has a [`Normalization`]), computed in plain `f64`.
    ///
    /// # Errors
    /// [`NnError::InvalidModel`] for a model that does not pass
    /// [`SavedModel::validate`], or [`NnError::FeatureCount`] if `x` does
    /// not have [`SavedModel::inputs`] values.
    pub fn scores(&self, x: &[f64]) -> Result<Vec<f64>, NnError> {
        // The fields are public: check them before trusting their shapes.
        self.validate()?;
        if x.len() != self.inputs {
            return Err(NnError::FeatureCount {
                expected: self.inputs,
                found: x.len(),
            });
        }
        let mut cur: Vec<f64> = match &self.normalization {
            Some(n) => x
                .iter()
                .enumerate()
                .map(|(i, &v)| n.standardize(i, v))
                .collect(),
            None => x.to_vec(),
        };
        for l in &self.layers {
            cur = l
                .neurons
                .iter()
                .map(|n| l.activation.apply_f64(dot_f64(&n.weights, &cur) + n.bias))
                .collect();
        }
        Ok(cur)
    }

    /// The class and outputs for one input.
    ///
    /// # Errors
    /// As [`SavedModel::scores`], and [`NnError::NanScore`] when an output
    /// is NaN: no class can be read from it (an infinite output still
    /// names one).
    pub fn predict(&self, x: &[f64]) -> Result<Prediction, NnError> {
        let scores = self.scores(x)?;
        if scores.iter().any(|s| s.is_nan()) {
            return Err(NnError::NanScore { row: None });
        }
        Ok(Prediction {
            class: self.loss.predict(&scores),
            scores,
        })
    }

    /// The mean data loss and the accuracy on `data` (raw features: the
    /// model's normalisation is applied).
    ///
    /// # Errors
    /// [`NnError::FeatureCount`] if the data's feature count differs from
    /// the model's, [`NnError::UnknownClass`] for a class the model does
    /// not know, [`NnError::InvalidModel`] for a model that does not
    /// pass [`SavedModel::validate`], or [`NnError::NanScore`] for a row
    /// whose output is NaN (it would count as some class).
    pub fn evaluate(&self, data: &Dataset) -> Result<Evaluation, NnError> {
        self.validate()?;
        if data.n_features() != self.inputs {
            return Err(NnError::FeatureCount {
                expected: self.inputs,
                found: data.n_features(),
            });
        }
        if let Some(i) = data.labels().iter().position(|&c| c >= self.classes) {
            return Err(NnError::UnknownClass {
                row: i + 1,
                class: data.label(i),
                classes: self.classes,
            });
        }
        let data = match &self.normalization {
            Some(n) => n.apply(data),
            None => data.clone(),
        };
        let g = Graph::new();
        let mlp = self.to_mlp(&g)?;
        let mut outputs = Vec::with_capacity(data.len() * mlp.nout());
        let mut xs = Vec::with_capacity(data.n_features());
        let mut correct = 0;
        for i in 0..data.len() {
            xs.clear();
            xs.extend(data.x(i).iter().map(|&v| g.value(v)));
            let out = mlp.forward(&g, &xs);
            let scores: Vec<f64> = out.iter().map(|v| v.data()).collect();
            if scores.iter().any(|s| s.is_nan()) {
                return Err(NnError::NanScore { row: Some(i + 1) });
            }
            correct += usize::from(self.loss.predict(&scores) == data.label(i));
            outputs.extend_from_slice(&out);
        }
        let loss = self.loss.compute(&g, &outputs, data.labels()).data();
        Ok(Evaluation {
            loss,
            accuracy: correct as f64 / data.len() as f64,
        })
    }

    /// The total number of weights and biases.
    pub fn num_parameters(&self) -> usize {
        self.layers
            .iter()
            .flat_map(|l| &l.neurons)
            .map(|n| n.weights.len() + 1)
            .sum()
    }
}

/// The `NaN`, `Infinity` or `-Infinity` (as Python's `json.dump` writes
/// them) where serde stopped, at 1-based `line` and byte `column` (after
/// the minus sign of `-Infinity`).
fn non_json_number(json: &str, line: usize, column: usize) -> Option<&'static str> {
    let text = json.lines().nth(line.checked_sub(1)?)?;
    let at = column.checked_sub(1)?;
    let rest = text.get(at..)?;
    let negative = at > 0 && text.as_bytes()[at - 1] == b'-';
    ["NaN", "Infinity"]
        .into_iter()
        .find(|t| rest.starts_with(t))
        .map(|t| match (t, negative) {
            ("Infinity", true) => "-Infinity",
            _ => t,
        })
}

/// `layers[0].neurons[2].bias`: the known part of a path (an unknown
/// segment, where a truncated file ends, and all after it are left out).
fn field_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => break,
        }
    }
    out
}

/// Checks, before any long work, that a file can be written at `path` the
/// way [`SavedModel::save`] and the plots write it
/// ([`crate::files::check_writable`]). `path` itself is not touched.
///
/// ```
/// let dir = std::env::temp_dir();
/// assert!(backprop::nn::check_writable(&dir.join("model.json")).is_ok());
/// assert!(backprop::nn::check_writable(&dir).is_err());
/// assert!(backprop::nn::check_writable("/nonexistent/dir/model.json".as_ref()).is_err());
/// ```
///
/// # Errors
/// The reason the file could not be written.
pub fn check_writable(path: &Path) -> std::io::Result<()> {
    crate::files::check_writable(path)
}

/// For JSON that does not parse as a model: if it is an object whose
/// `format` is missing or another one (a GPT's weights as JSON, the
/// summary `train --json` prints), an error that says so, instead of
/// serde's complaint about the first field it did not expect.
fn not_a_model(json: &str) -> Option<NnError> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    let obj = value.as_object()?;
    let what = match obj.get("format") {
        Some(serde_json::Value::String(f)) if f == FORMAT => return None,
        Some(f) => format!("its format is {f}"),
        None => "it has no `format` field".to_string(),
    };
    let hint = if obj.contains_key("final_loss") {
        " (it looks like the summary `backprop train --json` prints)"
    } else if obj.contains_key("wte") {
        " (it looks like a GPT's weights)"
    } else {
        ""
    };
    Some(NnError::InvalidModel(format!(
        "not a {FORMAT} model as `backprop train --save` writes: {what}{hint}"
    )))
}

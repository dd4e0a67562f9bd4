//! GPT weights in files: safetensors (read and written) and JSON (read).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use super::{GptConfig, GptError, Tokenizer};

/// The `format` entry of the metadata of the safetensors files written here.
pub const FORMAT: &str = "backprop-gpt";

/// A tensor: its shape and its values, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// The shape (`[rows, cols]` for every GPT parameter).
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values, row-major.
    pub data: Vec<f64>,
}

/// The contents of a weight file: tensors by name and, when the file says,
/// the configuration and vocabulary.
///
/// Safetensors files written by [`GptWeights::to_safetensors`] hold every
/// tensor as `F64` `[rows, cols]`, and in the metadata `format`
/// (`backprop-gpt`), `vocab` (the characters, in token order), `n_layer`,
/// `n_embd`, `n_head`, `block_size` and `vocab_size`, so that Python loads
/// them with `safetensors.torch.load_file` and finds the vocabulary with
/// `safe_open(...).metadata()`. JSON files are an object of tensor name to
/// a list of rows.
///
/// ```
/// use backprop::nn::gpt::{GptConfig, GptWeights, Tensor, Tokenizer};
///
/// let json = r#"{"wte": [[0.5, -1], [2, 3]]}"#;
/// let w = GptWeights::from_json(json).unwrap();
/// assert_eq!(w.tensors["wte"], Tensor { shape: vec![2, 2], data: vec![0.5, -1.0, 2.0, 3.0] });
///
/// let tok = Tokenizer::from_documents(&["ab"]);
/// let config = GptConfig { vocab_size: 3, ..Default::default() };
/// let bytes = GptWeights::to_safetensors(&config, &tok, &w.tensors).unwrap();
/// let back = GptWeights::from_safetensors(&bytes).unwrap();
/// assert_eq!(back.tensors, w.tensors);
/// assert_eq!(back.config, Some(config));
/// assert_eq!(back.vocab, Some(tok));
/// ```
#[derive(Clone, Debug, Default)]
pub struct GptWeights {
    /// The sizes, if the file records them.
    pub config: Option<GptConfig>,
    /// The vocabulary, if the file records it.
    pub vocab: Option<Tokenizer>,
    /// The tensors by name.
    pub tensors: BTreeMap<String, Tensor>,
}

impl GptWeights {
    /// Reads a `.safetensors` or `.json` file (by extension).
    ///
    /// # Errors
    /// [`GptError::Format`] for an unreadable file, an unknown extension or
    /// contents that are not a weight file (the message names the file).
    pub fn load(path: &Path) -> Result<Self, GptError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let shown = path.display();
        let bytes = crate::files::read_limited(path, super::MAX_WEIGHT_BYTES).map_err(|e| {
            if e.kind() == std::io::ErrorKind::FileTooLarge {
                GptError::Format(format!("{shown}: {e}"))
            } else {
                GptError::Format(format!("cannot read {shown}: {e}"))
            }
        })?;
        if ext.as_deref() != Some("safetensors") && crate::files::looks_like_safetensors(&bytes) {
            return Err(GptError::Format(format!(
                "{shown}: the file is safetensors: name it .safetensors"
            )));
        }
        let result = match ext.as_deref() {
            Some("safetensors") => Self::from_safetensors(&bytes),
            Some("json") => match std::str::from_utf8(&bytes) {
                Ok(text) => Self::from_json(text),
                Err(e) => Err(GptError::Format(format!(
                    "not UTF-8 at byte {}",
                    e.valid_up_to()
                ))),
            },
            _ => {
                return Err(GptError::Format(format!(
                    "{shown}: use a .safetensors or .json file"
                )));
            }
        };
        result.map_err(|e| match e {
            GptError::Format(m) => GptError::Format(format!("{shown}: {m}")),
            e => e,
        })
    }

    /// Parses a JSON object of tensor name to a list of rows (lists of
    /// numbers of equal length).
    ///
    /// # Errors
    /// [`GptError::Format`] naming the tensor and row that is wrong.
    pub fn from_json(text: &str) -> Result<Self, GptError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| GptError::Format(format!("not JSON: {e}")))?;
        let obj = value.as_object().ok_or_else(|| {
            GptError::Format("expected a JSON object of tensor name to a list of rows".into())
        })?;
        if let Some(format) = obj.get("format").and_then(|f| f.as_str()) {
            let made_by = if format == crate::nn::FORMAT {
                " (a model that `backprop train --save` writes: use it with predict, eval, \
                 explain or draw)"
            } else {
                ""
            };
            return Err(GptError::Format(format!(
                "not GPT weights: a `{format}` file{made_by}"
            )));
        }
        let mut tensors = BTreeMap::new();
        for (name, rows) in obj {
            let bad = |why: String| GptError::Format(format!("tensor {name}: {why}"));
            let rows = rows
                .as_array()
                .ok_or_else(|| bad("expected a list of rows".into()))?;
            let mut data = Vec::new();
            let mut cols = None;
            for (r, row) in rows.iter().enumerate() {
                let row = row
                    .as_array()
                    .ok_or_else(|| bad(format!("row {r} is not a list of numbers")))?;
                if *cols.get_or_insert(row.len()) != row.len() {
                    return Err(bad(format!(
                        "row {r} has {} values, row 0 has {}",
                        row.len(),
                        cols.unwrap_or(0)
                    )));
                }
                for (c, v) in row.iter().enumerate() {
                    let v = v
                        .as_f64()
                        .ok_or_else(|| bad(format!("[{r}, {c}] is not a number")))?;
                    data.push(v);
                }
            }
            tensors.insert(
                name.clone(),
                Tensor {
                    shape: vec![rows.len(), cols.unwrap_or(0)],
                    data,
                },
            );
        }
        Ok(Self {
            config: None,
            vocab: None,
            tensors,
        })
    }

    /// Parses a safetensors file: `F64` or `F32` tensors, and the
    /// configuration and vocabulary if its metadata has them.
    ///
    /// # Errors
    /// [`GptError::Format`] for a file that is not safetensors, a tensor of
    /// another type or with non-finite values, or metadata that does not
    /// parse.
    pub fn from_safetensors(bytes: &[u8]) -> Result<Self, GptError> {
        let bad = |e: String| GptError::Format(format!("not a safetensors file: {e}"));
        let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| bad(e.to_string()))?;
        let st = SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
        let mut tensors = BTreeMap::new();
        for (name, view) in st.iter() {
            let raw = view.data();
            let data: Vec<f64> = match view.dtype() {
                Dtype::F64 => raw
                    .chunks_exact(8)
                    .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
                    .collect(),
                Dtype::F32 => raw
                    .chunks_exact(4)
                    .map(|b| f64::from(f32::from_le_bytes(b.try_into().expect("4 bytes"))))
                    .collect(),
                d => {
                    return Err(GptError::Format(format!(
                        "tensor {name} is {d:?}; F64 or F32 tensors are expected"
                    )));
                }
            };
            if let Some(i) = data.iter().position(|v| !v.is_finite()) {
                return Err(GptError::Format(format!(
                    "tensor {name} holds a non-finite value at flat index {i}"
                )));
            }
            tensors.insert(
                name.to_string(),
                Tensor {
                    shape: view.shape().to_vec(),
                    data,
                },
            );
        }
        let mut w = Self {
            config: None,
            vocab: None,
            tensors,
        };
        if let Some(m) = meta.metadata() {
            w.read_metadata(m)?;
        }
        Ok(w)
    }

    fn read_metadata(&mut self, m: &HashMap<String, String>) -> Result<(), GptError> {
        if let Some(v) = m.get("vocab") {
            self.vocab = Some(Tokenizer::from_chars(v.chars().collect())?);
        }
        let size = |key: &str| -> Result<Option<usize>, GptError> {
            m.get(key)
                .map(|s| {
                    s.parse().map_err(|_| {
                        GptError::Format(format!("metadata {key} = {s:?} is not a whole number"))
                    })
                })
                .transpose()
        };
        let sizes = [
            size("n_layer")?,
            size("n_embd")?,
            size("n_head")?,
            size("block_size")?,
        ];
        if let [Some(n_layer), Some(n_embd), Some(n_head), Some(block_size)] = sizes {
            let vocab_size = match (size("vocab_size")?, &self.vocab) {
                (Some(n), _) => n,
                (None, Some(t)) => t.vocab_size(),
                (None, None) => {
                    return Err(GptError::Format(
                        "the metadata has no vocab_size and no vocab".into(),
                    ));
                }
            };
            if let Some(t) = &self.vocab
                && t.vocab_size() != vocab_size
            {
                return Err(GptError::Format(format!(
                    "the metadata's vocab has {} characters + BOS, but vocab_size is {vocab_size}",
                    t.chars().len()
                )));
            }
            self.config = Some(GptConfig {
                n_layer,
                n_embd,
                n_head,
                block_size,
                vocab_size,
            });
        }
        Ok(())
    }

    /// A safetensors file of these tensors (`F64`), with the configuration
    /// and vocabulary in its metadata.
    ///
    /// # Errors
    /// [`GptError::Format`] if a tensor's data does not fit its shape.
    pub fn to_safetensors(
        config: &GptConfig,
        vocab: &Tokenizer,
        tensors: &BTreeMap<String, Tensor>,
    ) -> Result<Vec<u8>, GptError> {
        let bytes: Vec<(&String, Vec<u8>, &Vec<usize>)> = tensors
            .iter()
            .map(|(n, t)| {
                (
                    n,
                    t.data.iter().flat_map(|v| v.to_le_bytes()).collect(),
                    &t.shape,
                )
            })
            .collect();
        let views = bytes
            .iter()
            .map(|(n, b, shape)| {
                TensorView::new(Dtype::F64, shape.to_vec(), b)
                    .map(|v| (n.as_str(), v))
                    .map_err(|e| GptError::Format(format!("tensor {n}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let meta = HashMap::from([
            ("format".to_string(), FORMAT.to_string()),
            ("vocab".to_string(), vocab.as_string()),
            ("n_layer".to_string(), config.n_layer.to_string()),
            ("n_embd".to_string(), config.n_embd.to_string()),
            ("n_head".to_string(), config.n_head.to_string()),
            ("block_size".to_string(), config.block_size.to_string()),
            ("vocab_size".to_string(), config.vocab_size.to_string()),
        ]);
        safetensors::serialize(views, Some(meta))
            .map_err(|e| GptError::Format(format!("cannot write safetensors: {e}")))
    }
}

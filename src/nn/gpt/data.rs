//! Documents and the character tokenizer of microgpt.

use super::GptError;

/// makemore's `names.txt`: 32,033 lowercase first names, one per line
/// (MIT license; the license and source note are in `data/names/`).
pub const NAMES: &str = include_str!("../../../data/names/names.txt");

/// The documents of a text: one per line, each stripped of surrounding
/// whitespace (Python's `str.strip`, as microgpt does), blank lines
/// skipped. A UTF-8 byte order mark at the start of the text (as Windows
/// editors write) is an encoding mark, not a character, and is dropped.
///
/// ```
/// let docs = backprop::nn::gpt::documents(b"emma\n\n  olivia \r\nava").unwrap();
/// assert_eq!(docs, ["emma", "olivia", "ava"]);
/// let marked = backprop::nn::gpt::documents("\u{feff}emma".as_bytes()).unwrap();
/// assert_eq!(marked, ["emma"]);
/// ```
///
/// # Errors
/// [`GptError::NotUtf8`] naming the first line that is not UTF-8, and
/// [`GptError::NoDocuments`] when nothing but blank lines is left.
pub fn documents(bytes: &[u8]) -> Result<Vec<String>, GptError> {
    let mut docs = Vec::new();
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // Columns count the mark's bytes, as they are in the file.
    let mark = bytes.len() - text.len();
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        let line = std::str::from_utf8(line).map_err(|e| GptError::NotUtf8 {
            line: i + 1,
            column: e.valid_up_to() + 1 + if i == 0 { mark } else { 0 },
        })?;
        let line = line.trim();
        if !line.is_empty() {
            docs.push(line.to_string());
        }
    }
    if docs.is_empty() {
        return Err(GptError::NoDocuments);
    }
    Ok(docs)
}

/// microgpt's tokenizer: one token per distinct character of the data, in
/// sorted (code point) order, plus a `BOS` token whose id is the number of
/// characters. `BOS` both starts and ends a document.
///
/// ```
/// use backprop::nn::gpt::Tokenizer;
///
/// let t = Tokenizer::from_documents(&["emma", "ava"]);
/// assert_eq!(t.chars(), &['a', 'e', 'm', 'v']);
/// assert_eq!(t.bos(), 4);
/// assert_eq!(t.vocab_size(), 5);
/// assert_eq!(t.encode("ma").unwrap(), [2, 0]);
/// assert_eq!(t.document("ava", 16), [4, 0, 3, 0, 4]);
/// assert_eq!(t.decode(&[0, 3, 0]), "ava");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tokenizer {
    chars: Vec<char>,
}

impl Tokenizer {
    /// The tokenizer of these documents: their sorted distinct characters.
    pub fn from_documents<S: AsRef<str>>(docs: &[S]) -> Self {
        let mut chars: Vec<char> = docs.iter().flat_map(|d| d.as_ref().chars()).collect();
        chars.sort_unstable();
        chars.dedup();
        Self { chars }
    }

    /// A tokenizer over these characters, as stored in a model file.
    ///
    /// # Errors
    /// [`GptError::Format`] if the characters are not sorted and distinct.
    pub fn from_chars(chars: Vec<char>) -> Result<Self, GptError> {
        if chars.windows(2).any(|w| w[0] >= w[1]) {
            return Err(GptError::Format(
                "the vocabulary is not a sorted list of distinct characters".into(),
            ));
        }
        Ok(Self { chars })
    }

    /// The characters, in token id order.
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    /// The characters as one string (what a model file stores).
    pub fn as_string(&self) -> String {
        self.chars.iter().collect()
    }

    /// The id of `BOS` (beginning and end of a document).
    pub fn bos(&self) -> usize {
        self.chars.len()
    }

    /// Characters plus `BOS`.
    pub fn vocab_size(&self) -> usize {
        self.chars.len() + 1
    }

    /// The token of one character.
    pub fn token(&self, c: char) -> Option<usize> {
        self.chars.binary_search(&c).ok()
    }

    /// The tokens of `text`.
    ///
    /// # Errors
    /// [`GptError::UnknownChars`] naming every character of `text` that is
    /// not in the vocabulary.
    pub fn encode(&self, text: &str) -> Result<Vec<usize>, GptError> {
        let mut unknown: Vec<char> = text.chars().filter(|&c| self.token(c).is_none()).collect();
        if !unknown.is_empty() {
            unknown.dedup();
            let mut seen = Vec::new();
            unknown.retain(|c| {
                let new = !seen.contains(c);
                seen.push(*c);
                new
            });
            return Err(GptError::UnknownChars {
                chars: unknown
                    .iter()
                    .map(|c| format!("{c:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                vocab: self.as_string(),
            });
        }
        Ok(text.chars().filter_map(|c| self.token(c)).collect())
    }

    /// A training document: `[BOS] + tokens + [BOS]`, cut to
    /// `block_size + 1` tokens (so at most `block_size` predictions).
    /// Characters outside the vocabulary are skipped (a tokenizer built
    /// from the documents knows them all).
    pub fn document(&self, text: &str, block_size: usize) -> Vec<usize> {
        // Only what is kept is read and stored (a line may be far longer
        // than the block).
        let mut t = Vec::with_capacity(text.len().min(block_size) + 2);
        t.push(self.bos());
        t.extend(text.chars().filter_map(|c| self.token(c)).take(block_size));
        t.push(self.bos());
        t.truncate(block_size + 1);
        t
    }

    /// The text of some tokens (`BOS` and unknown ids are skipped).
    pub fn decode(&self, tokens: &[usize]) -> String {
        tokens.iter().filter_map(|&t| self.chars.get(t)).collect()
    }
}

//! CSV datasets, read with the `csv` crate: quoted fields, CRLF line ends
//! and a UTF-8 byte order mark are handled; blank lines and lines starting
//! with `#` are skipped.

use std::path::Path;

use super::{DataError, Dataset, MAX_CLASSES, MAX_SAMPLES};

/// Whether the first row is a header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Header {
    /// A header when the first row looks like names: no cell is a number
    /// (`nan` and `inf` count as numbers) or starts like one (a digit,
    /// `+`, `-` or `.`). A first row such as `0.5,O.3,1` is data with a
    /// typo, and reported as such, not skipped.
    #[default]
    Auto,
    /// The first row is a header.
    Yes,
    /// The first row is data.
    No,
}

/// Which column holds the class label.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LabelColumn {
    /// The last column.
    #[default]
    Last,
    /// The column at this 0-based index.
    Index(usize),
    /// The column with this name in the header.
    Name(String),
}

impl std::str::FromStr for LabelColumn {
    type Err = std::convert::Infallible;

    /// A number is an index, anything else a name; `last` is the last column.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "last" => LabelColumn::Last,
            _ => s
                .parse()
                .map_or_else(|_| LabelColumn::Name(s.to_string()), LabelColumn::Index),
        })
    }
}

/// How to read a CSV file ([`read_csv`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CsvOptions {
    /// Which column holds the label (default: the last).
    pub label: LabelColumn,
    /// Whether the first row is a header (default: detect).
    pub header: Header,
    /// The class names that word labels stand for, class `i` being
    /// `class_names[i]` (a saved model's [`class_names`]); `None` takes them
    /// from the data, sorted.
    ///
    /// [`class_names`]: crate::nn::SavedModel::class_names
    pub class_names: Option<Vec<String>>,
}

/// The largest CSV file [`read_csv`] reads: 256 MiB (a million rows of a
/// few hundred characters each).
pub const MAX_CSV_BYTES: u64 = 256 << 20;

/// Reads a dataset from a CSV file (see [`parse_csv`]), at most
/// [`MAX_CSV_BYTES`] long and with at most [`MAX_SAMPLES`] data rows.
///
/// # Errors
/// The file cannot be read or is too large (both [`DataError::Io`]), or
/// [`parse_csv`] fails.
pub fn read_csv(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Dataset, DataError> {
    let path = path.as_ref();
    let bytes = read_bytes(path)?;
    parse_csv_bytes(&bytes, options)
}

/// The bytes of a CSV file, at most [`MAX_CSV_BYTES`] of them.
///
/// # Errors
/// [`DataError::Io`] for a file that cannot be read or is too large.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, DataError> {
    crate::files::read_limited(path, MAX_CSV_BYTES).map_err(|source| DataError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Parses a CSV dataset: every column but the label column is a feature
/// (a finite number). Quoted fields, CRLF line ends and a UTF-8 byte order
/// mark are handled (by the `csv` crate); blank lines and lines starting
/// with `#` are skipped; cells are trimmed.
///
/// Labels are class indices `0, 1, 2, ...`, or -1 and 1 (micrograd's
/// convention; -1 becomes class 0), or names: when any label is not a
/// number, every label is a name, and the names sorted are classes 0, 1,
/// ... (kept in [`Dataset::class_names`]); with
/// [`CsvOptions::class_names`] given, those names are used instead.
///
/// ```
/// use backprop::data::{CsvOptions, LabelColumn, parse_csv};
///
/// let text = "x,y,class\n0.5,1.5,1\n-1,2,0\n";
/// let d = parse_csv(text, &CsvOptions::default()).unwrap();
/// assert_eq!((d.len(), d.x(0), d.label(1)), (2, &[0.5, 1.5][..], 0));
///
/// let opts = CsvOptions { label: LabelColumn::Name("class".into()), ..Default::default() };
/// assert_eq!(parse_csv(text, &opts).unwrap(), d);
///
/// let pets = parse_csv("\"w\",\"kind\"\r\n4,dog\r\n\"3.5\",cat\r\n", &CsvOptions::default()).unwrap();
/// assert_eq!(pets.labels(), [1, 0]);
/// assert_eq!(pets.class_names().unwrap(), ["cat", "dog"]);
///
/// let err = parse_csv("1,2,0\n1,x,1\n", &CsvOptions::default()).unwrap_err();
/// assert_eq!(err.to_string(), "line 2, column 2: `x` is not a finite number");
/// ```
///
/// # Errors
/// A cell that is not a finite number, a row with a different number of
/// fields, a label that is empty or not a class index or name, an unknown label
/// column, duplicate header names, text that is not UTF-8, more than
/// [`MAX_SAMPLES`] rows, or no data rows; each with its line (and
/// column, or byte offset).
pub fn parse_csv(text: &str, options: &CsvOptions) -> Result<Dataset, DataError> {
    parse_csv_bytes(text.as_bytes(), options)
}

/// As [`parse_csv`], from bytes (which must be UTF-8).
///
/// # Errors
/// As [`parse_csv`].
pub fn parse_csv_bytes(bytes: &[u8], options: &CsvOptions) -> Result<Dataset, DataError> {
    let mut rows = Rows::new(bytes);
    let Some((first_line, first)) = rows.next().transpose()? else {
        return Err(DataError::Empty);
    };
    let fields = first.len();
    if fields < 2 {
        return Err(DataError::TooFewFields {
            line: first_line,
            found: fields,
        });
    }
    let has_header = match options.header {
        Header::Yes => true,
        Header::No => false,
        Header::Auto => looks_like_header(&first),
    };
    let names = if has_header {
        check_names(first_line, &first)?;
        Some(first.clone())
    } else {
        None
    };
    let name_refs: Option<Vec<&str>> = names
        .as_ref()
        .map(|n| n.iter().map(String::as_str).collect());
    let label_col = options.label.resolve(fields, name_refs.as_deref())?;
    let mut features = Vec::new();
    let mut raw_labels: Vec<(usize, String)> = Vec::new();
    let first_row = (!has_header).then_some(Ok((first_line, first)));
    for row in first_row.into_iter().chain(rows) {
        let (line, cells) = row?;
        if cells.len() != fields {
            return Err(DataError::FieldCount {
                line,
                expected: fields,
                found: cells.len(),
            });
        }
        if raw_labels.len() == MAX_SAMPLES {
            return Err(DataError::TooManyRows {
                line,
                max: MAX_SAMPLES,
            });
        }
        let mut label = String::new();
        for (j, cell) in cells.into_iter().enumerate() {
            if j == label_col {
                if cell.is_empty() {
                    return Err(DataError::EmptyLabel {
                        line,
                        column: j + 1,
                    });
                }
                label = cell;
            } else {
                features.push(number(line, j, &cell)?);
            }
        }
        raw_labels.push((line, label));
    }
    if raw_labels.is_empty() {
        return Err(DataError::Empty);
    }
    let column = label_col + 1;
    let (labels, class_names) = labels(raw_labels, column, options.class_names.as_deref())?;
    let mut d = Dataset::new(features, labels, fields - 1)?;
    if let Some(mut names) = names {
        names.remove(label_col);
        d = d
            .with_feature_names(names)
            .expect("one name per column, less the label's");
    }
    match class_names {
        Some(names) => d.with_class_names(names),
        None => Ok(d),
    }
}

/// Class ids for the label cells, and the class names if they are words.
fn labels(
    raw: Vec<(usize, String)>,
    column: usize,
    known: Option<&[String]>,
) -> Result<(Vec<usize>, Option<Vec<String>>), DataError> {
    let numbers: Option<Vec<f64>> = raw
        .iter()
        .map(|(_, c)| parse_number(c))
        .collect::<Option<_>>();
    match (numbers, known) {
        (Some(values), None) => {
            let plus_minus_one = values.iter().all(|&v| v == 1.0 || v == -1.0);
            let labels = values
                .into_iter()
                .zip(&raw)
                .map(|(v, (line, _))| match v {
                    -1.0 if plus_minus_one => Ok(0),
                    v if v >= 0.0 && v.fract() == 0.0 && v < MAX_CLASSES as f64 => Ok(v as usize),
                    label => Err(DataError::BadLabel {
                        line: *line,
                        column,
                        label,
                    }),
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((labels, None))
        }
        (_, names) => {
            if names.is_none() {
                check_word_labels(&raw, column)?;
            }
            let names: Vec<String> = match names {
                Some(n) => n.to_vec(),
                None => {
                    let set: std::collections::BTreeSet<&str> =
                        raw.iter().map(|(_, c)| c.as_str()).collect();
                    set.into_iter().map(str::to_string).collect()
                }
            };
            let index: std::collections::HashMap<&str, usize> = names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.as_str(), i))
                .collect();
            let labels = raw
                .iter()
                .map(|(line, c)| {
                    index
                        .get(c.as_str())
                        .copied()
                        .ok_or_else(|| DataError::UnknownLabel {
                            line: *line,
                            column,
                            label: c.clone(),
                            names: names.join(", "),
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((labels, Some(names)))
        }
    }
}

/// Labels read as words must all be words: a number that is not finite
/// (`nan`, `inf`: a missing value, most likely) or a column that mixes
/// numbers and words (`0`, `1` and a stray `?`) would otherwise become
/// classes of their own without a word.
fn check_word_labels(raw: &[(usize, String)], column: usize) -> Result<(), DataError> {
    let mut number = None;
    let mut word = None;
    for (line, c) in raw {
        match c.parse::<f64>() {
            Ok(label) if !label.is_finite() => {
                return Err(DataError::BadLabel {
                    line: *line,
                    column,
                    label,
                });
            }
            Ok(_) => number = number.or(Some((*line, c))),
            Err(_) => word = word.or(Some((*line, c))),
        }
    }
    match (number, word) {
        (Some((number_line, number)), Some((line, word))) => Err(DataError::MixedLabels {
            line,
            column,
            word: word.clone(),
            number_line,
            number: number.clone(),
        }),
        _ => Ok(()),
    }
}

/// Header names must differ: a label column chosen by a repeated name
/// would be a guess. One pass with a map of first occurrences, so that a
/// header of many columns costs linear time, not quadratic.
fn check_names(line: usize, names: &[String]) -> Result<(), DataError> {
    let mut seen: std::collections::HashMap<&str, usize> =
        std::collections::HashMap::with_capacity(names.len());
    for (j, n) in names.iter().enumerate() {
        if let Some(&k) = seen.get(n.as_str()) {
            return Err(DataError::DuplicateColumn {
                line,
                name: n.clone(),
                first: k + 1,
                second: j + 1,
            });
        }
        seen.insert(n.as_str(), j);
    }
    Ok(())
}

fn number(line: usize, j: usize, cell: &str) -> Result<f64, DataError> {
    parse_number(cell).ok_or_else(|| DataError::NotANumber {
        line,
        column: j + 1,
        cell: cell.to_string(),
    })
}

fn parse_number(cell: &str) -> Option<f64> {
    cell.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The data records of a CSV text with their line numbers (from 1),
/// trimmed and unquoted: no blank lines, no `#` comments, no byte order
/// mark.
struct Rows<'a> {
    bytes: &'a [u8],
    reader: csv::Reader<&'a [u8]>,
    record: csv::ByteRecord,
    /// Bytes removed from the front (a byte order mark), for offsets.
    skipped: u64,
}

impl<'a> Rows<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        let (bytes, skipped) = match bytes.strip_prefix(b"\xef\xbb\xbf") {
            Some(rest) => (rest, 3),
            None => (bytes, 0),
        };
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(bytes);
        Self {
            bytes,
            reader,
            record: csv::ByteRecord::new(),
            skipped,
        }
    }
}

impl Iterator for Rows<'_> {
    type Item = Result<(usize, Vec<String>), DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => return None,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line() as usize);
                    return Some(Err(DataError::Csv {
                        line,
                        message: e.to_string(),
                    }));
                }
                Ok(true) => {}
            }
            let pos = self
                .record
                .position()
                .expect("a read record has a position");
            let line = pos.line() as usize;
            // The `csv` crate ends a quoted field left open at the end of
            // the input without an error, as if the rest of the file were
            // in it: say where it opens instead of reading that as a cell.
            if self.reader.position().byte() as usize >= self.bytes.len() {
                let start = pos.byte() as usize;
                if let Some((open, column)) = self.bytes.get(start..).and_then(unclosed_quote) {
                    let before = &self.bytes[start..start + open];
                    let lines = before.iter().filter(|&&b| b == b'\n').count();
                    return Some(Err(DataError::UnclosedQuote {
                        line: line + lines,
                        column,
                    }));
                }
            }
            // A line of spaces is one empty field: blank, skipped.
            if self.record.len() == 1 && self.record[0].is_empty() {
                continue;
            }
            let mut cells = Vec::with_capacity(self.record.len());
            for (j, field) in self.record.iter().enumerate() {
                match std::str::from_utf8(field) {
                    Ok(s) => cells.push(s.to_string()),
                    Err(_) => {
                        // The record's earlier fields are valid: its first
                        // bad byte is in this field.
                        let start = pos.byte() as usize;
                        let bad = self.bytes.get(start..).map_or(0, |rest| {
                            std::str::from_utf8(rest).map_or_else(|e| e.valid_up_to(), |_| 0)
                        });
                        return Some(Err(DataError::NotUtf8 {
                            line,
                            column: j + 1,
                            byte: self.skipped + (start + bad) as u64,
                        }));
                    }
                }
            }
            return Some(Ok((line, cells)));
        }
    }
}

/// Where the quoted field left open at the end of `record` (the bytes of
/// the last record, to the end of the input) begins, and its column (from
/// 1), reading as the `csv` crate does: a `"` opens a quoted field only
/// as a field's first byte, and `""` inside one is a quote.
fn unclosed_quote(record: &[u8]) -> Option<(usize, usize)> {
    #[derive(Clone, Copy)]
    enum State {
        FieldStart,
        Field,
        Quoted(usize),
        QuoteInQuoted(usize),
    }
    let mut state = State::FieldStart;
    let mut column = 1;
    for (i, &b) in record.iter().enumerate() {
        state = match (state, b) {
            (State::FieldStart, b'"') => State::Quoted(i),
            (State::FieldStart | State::Field | State::QuoteInQuoted(_), b',') => {
                column += 1;
                State::FieldStart
            }
            // The record ends: it was not the last one after all.
            (State::FieldStart | State::Field | State::QuoteInQuoted(_), b'\n' | b'\r') => {
                return None;
            }
            (State::FieldStart | State::Field, _) => State::Field,
            (State::Quoted(open), b'"') => State::QuoteInQuoted(open),
            (State::Quoted(open), _) => State::Quoted(open),
            (State::QuoteInQuoted(open), b'"') => State::Quoted(open),
            (State::QuoteInQuoted(_), _) => State::Field,
        };
    }
    match state {
        State::Quoted(open) => Some((open, column)),
        _ => None,
    }
}

/// Whether a first row is a header ([`Header::Auto`]): every cell looks
/// like a name, none like a number or a mistyped one.
fn looks_like_header(cells: &[String]) -> bool {
    cells.iter().all(|c| {
        c.parse::<f64>().is_err()
            && !c.starts_with(|ch: char| ch.is_ascii_digit() || matches!(ch, '+' | '-' | '.'))
    })
}

impl LabelColumn {
    /// The 0-based index of this column in rows of `fields` fields, with
    /// the header's `names` if there is a header.
    ///
    /// ```
    /// use backprop::data::LabelColumn;
    ///
    /// assert_eq!(LabelColumn::Last.resolve(3, None).unwrap(), 2);
    /// let names = ["x", "y", "class"];
    /// assert_eq!(LabelColumn::Name("y".into()).resolve(3, Some(&names)).unwrap(), 1);
    /// assert!(LabelColumn::Index(3).resolve(3, None).is_err());
    /// ```
    ///
    /// # Errors
    /// [`DataError::ColumnOutOfRange`], [`DataError::NoHeader`] or
    /// [`DataError::NoSuchColumn`].
    pub fn resolve(&self, fields: usize, names: Option<&[&str]>) -> Result<usize, DataError> {
        match self {
            LabelColumn::Last => Ok(fields - 1),
            &LabelColumn::Index(index) if index < fields => Ok(index),
            &LabelColumn::Index(index) => Err(DataError::ColumnOutOfRange { index, fields }),
            LabelColumn::Name(name) => {
                let names = names.ok_or_else(|| DataError::NoHeader(name.clone()))?;
                names
                    .iter()
                    .position(|n| n == name)
                    .ok_or_else(|| DataError::NoSuchColumn {
                        name: name.clone(),
                        columns: names.join(", "),
                    })
            }
        }
    }
}

/// Parses unlabelled numeric rows (for prediction) from UTF-8 text (a
/// `&str` or bytes; read as [`parse_csv`] reads): returns the values
/// row-major and the number of fields per row. A first row that looks like
/// names is a header (with [`Header::Auto`]) and skipped.
///
/// ```
/// use backprop::data::{Header, parse_features};
///
/// let (values, width) = parse_features("x,y\n1,2\n3,4\n", Header::Auto).unwrap();
/// assert_eq!((values, width), (vec![1.0, 2.0, 3.0, 4.0], 2));
/// // A NaN in the first row is bad data, not a header.
/// assert!(parse_features("nan,2\n3,4\n", Header::Auto).is_err());
/// ```
///
/// # Errors
/// A cell that is not a finite number, rows of different lengths, or no
/// rows; each with its line (and column).
pub fn parse_features(
    text: impl AsRef<[u8]>,
    header: Header,
) -> Result<(Vec<f64>, usize), DataError> {
    parse_rows(text.as_ref(), header, None)
}

/// As [`parse_features`], but drops the column `skip` (a training file's
/// label column, say): returns the other values row-major and their
/// number per row.
///
/// ```
/// use backprop::data::{Header, LabelColumn, parse_features_without};
///
/// let text = "x,y,class\n1,2,0\n3,4,1\n";
/// let (values, width) = parse_features_without(text, Header::Auto, &LabelColumn::Last).unwrap();
/// assert_eq!((values, width), (vec![1.0, 2.0, 3.0, 4.0], 2));
/// let by_name = LabelColumn::Name("x".into());
/// assert_eq!(parse_features_without(text, Header::Auto, &by_name).unwrap().0, [2.0, 0.0, 4.0, 1.0]);
/// ```
///
/// # Errors
/// As [`parse_features`], and a column that does not exist (see
/// [`LabelColumn::resolve`]) or is the only one.
pub fn parse_features_without(
    text: impl AsRef<[u8]>,
    header: Header,
    skip: &LabelColumn,
) -> Result<(Vec<f64>, usize), DataError> {
    parse_rows(text.as_ref(), header, Some(skip))
}

fn parse_rows(
    text: &[u8],
    header: Header,
    skip: Option<&LabelColumn>,
) -> Result<(Vec<f64>, usize), DataError> {
    let mut rows = Rows::new(text);
    let Some((first_line, first)) = rows.next().transpose()? else {
        return Err(DataError::Empty);
    };
    let fields = first.len();
    let has_header = match header {
        Header::Yes => true,
        Header::No => false,
        Header::Auto => looks_like_header(&first),
    };
    if has_header {
        check_names(first_line, &first)?;
    }
    let skip = match skip {
        Some(column) => {
            let names: Option<Vec<&str>> =
                has_header.then(|| first.iter().map(String::as_str).collect());
            if fields < 2 {
                return Err(DataError::TooFewFields {
                    line: first_line,
                    found: fields,
                });
            }
            Some(column.resolve(fields, names.as_deref())?)
        }
        None => None,
    };
    let mut values = Vec::new();
    let first_row = (!has_header).then_some(Ok((first_line, first)));
    for (count, row) in first_row.into_iter().chain(rows).enumerate() {
        let (line, cells) = row?;
        if cells.len() != fields {
            return Err(DataError::FieldCount {
                line,
                expected: fields,
                found: cells.len(),
            });
        }
        if count == MAX_SAMPLES {
            return Err(DataError::TooManyRows {
                line,
                max: MAX_SAMPLES,
            });
        }
        for (j, cell) in cells.iter().enumerate() {
            if Some(j) != skip {
                values.push(number(line, j, cell)?);
            }
        }
    }
    if values.is_empty() {
        return Err(DataError::Empty);
    }
    Ok((values, fields - usize::from(skip.is_some())))
}

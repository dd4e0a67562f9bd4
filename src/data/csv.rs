//! A small CSV reader for numeric datasets: comma separated, one row per
//! line, no quoting (numbers need none). Blank lines and lines starting
//! with `#` are skipped, and so is a UTF-8 byte order mark.

use std::path::Path;

use super::{DataError, Dataset};

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
}

/// Reads a dataset from a CSV file (see [`parse_csv`]).
///
/// # Errors
/// The file cannot be read, or [`parse_csv`] fails.
pub fn read_csv(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Dataset, DataError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| DataError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse_csv(&text, options)
}

/// Parses a numeric CSV dataset: every column but the label column is a
/// feature. Labels are class indices `0, 1, 2, ...`; a label column that
/// holds only -1 and 1 (micrograd's convention) maps -1 to class 0.
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
/// let err = parse_csv("1,2,0\n1,x,1\n", &CsvOptions::default()).unwrap_err();
/// assert_eq!(err.to_string(), "line 2, column 2: `x` is not a finite number");
/// ```
///
/// # Errors
/// A cell that is not a finite number, a row with a different number of
/// fields, a label that is not a class index, an unknown label column, or
/// no data rows; each with its line (and column).
pub fn parse_csv(text: &str, options: &CsvOptions) -> Result<Dataset, DataError> {
    let mut rows = data_lines(text).peekable();
    let Some(&(first_line, first)) = rows.peek() else {
        return Err(DataError::Empty);
    };
    let first_cells: Vec<&str> = first.split(',').map(str::trim).collect();
    let fields = first_cells.len();
    if fields < 2 {
        return Err(DataError::TooFewFields {
            line: first_line,
            found: fields,
        });
    }
    let has_header = match options.header {
        Header::Yes => true,
        Header::No => false,
        Header::Auto => looks_like_header(&first_cells),
    };
    let names: Option<Vec<&str>> = has_header.then(|| first_cells.clone());
    if has_header {
        rows.next();
    }
    let label_col = options.label.resolve(fields, names.as_deref())?;
    let mut features = Vec::new();
    let mut raw_labels = Vec::new();
    for (line, row) in rows {
        let mut found = 0;
        for (j, cell) in row.split(',').enumerate() {
            found += 1;
            if found > fields {
                continue;
            }
            let cell = cell.trim();
            let v = parse_number(cell).ok_or_else(|| DataError::NotANumber {
                line,
                column: j + 1,
                cell: cell.to_string(),
            })?;
            if j == label_col {
                raw_labels.push((v, line));
            } else {
                features.push(v);
            }
        }
        if found != fields {
            return Err(DataError::FieldCount {
                line,
                expected: fields,
                found,
            });
        }
    }
    let plus_minus_one = raw_labels.iter().all(|&(v, _)| v == 1.0 || v == -1.0);
    let labels = raw_labels
        .into_iter()
        .map(|(v, line)| match v {
            -1.0 if plus_minus_one => Ok(0),
            v if v >= 0.0 && v.fract() == 0.0 && v < 1e6 => Ok(v as usize),
            label => Err(DataError::BadLabel {
                line,
                column: label_col + 1,
                label,
            }),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Dataset::new(features, labels, fields - 1)
}

fn parse_number(cell: &str) -> Option<f64> {
    cell.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The data lines of a CSV text, numbered from 1 and trimmed: no blank
/// lines, no `#` comments, no byte order mark.
fn data_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
}

/// Whether a first row is a header ([`Header::Auto`]): every cell looks
/// like a name, none like a number or a mistyped one.
fn looks_like_header(cells: &[&str]) -> bool {
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

/// Parses unlabelled numeric rows (for prediction): returns the values
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
pub fn parse_features(text: &str, header: Header) -> Result<(Vec<f64>, usize), DataError> {
    parse_rows(text, header, None)
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
    text: &str,
    header: Header,
    skip: &LabelColumn,
) -> Result<(Vec<f64>, usize), DataError> {
    parse_rows(text, header, Some(skip))
}

fn parse_rows(
    text: &str,
    header: Header,
    skip: Option<&LabelColumn>,
) -> Result<(Vec<f64>, usize), DataError> {
    let mut rows = data_lines(text).peekable();
    let Some(&(first_line, first)) = rows.peek() else {
        return Err(DataError::Empty);
    };
    let first_cells: Vec<&str> = first.split(',').map(str::trim).collect();
    let fields = first_cells.len();
    let has_header = match header {
        Header::Yes => true,
        Header::No => false,
        Header::Auto => looks_like_header(&first_cells),
    };
    let skip = match skip {
        Some(column) => {
            let names = has_header.then_some(first_cells.as_slice());
            if fields < 2 {
                return Err(DataError::TooFewFields {
                    line: first_line,
                    found: fields,
                });
            }
            Some(column.resolve(fields, names)?)
        }
        None => None,
    };
    if has_header {
        rows.next();
    }
    let mut values = Vec::new();
    for (line, row) in rows {
        let mut found = 0;
        for (j, cell) in row.split(',').enumerate() {
            found += 1;
            let cell = cell.trim();
            if found <= fields && Some(j) != skip {
                values.push(parse_number(cell).ok_or_else(|| DataError::NotANumber {
                    line,
                    column: j + 1,
                    cell: cell.to_string(),
                })?);
            }
        }
        if found != fields {
            return Err(DataError::FieldCount {
                line,
                expected: fields,
                found,
            });
        }
    }
    if values.is_empty() {
        return Err(DataError::Empty);
    }
    Ok((values, fields - usize::from(skip.is_some())))
}

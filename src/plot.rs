//! Training plots: the decision boundary with the data points, and the loss
//! and accuracy curves, as PNG or SVG.
//!
//! Text is drawn with an embedded copy of DejaVu Sans (see
//! `assets/DejaVuSans-LICENSE.txt`), so no system font library is needed.
//!
//! ```no_run
//! use backprop::{data, plot::{TrainingPlot, save_training_plot}};
//!
//! let d = data::moons(100, 0.1, 1);
//! let plot = TrainingPlot {
//!     title: "moons".into(),
//!     data: &d,
//!     classify: Some(&|x: &[f64]| usize::from(x[1] < 0.25)),
//!     loss: &[1.0, 0.5, 0.2],
//!     accuracy: &[0.5, 0.8, 1.0],
//! };
//! save_training_plot("moons.png", &plot).unwrap();
//! ```

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::data::Dataset;

/// The embedded font (DejaVu Sans, Bitstream Vera license).
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// A plot that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The file name does not end in `.png` or `.svg`.
    #[error("cannot tell the image format of {0} (use a .png or .svg file name)")]
    Format(String),
    /// Drawing or encoding failed.
    #[error("cannot draw {path}: {message}")]
    Draw {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// The file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// A classifier for the background shading: a point's features to a class.
pub type Classify<'a> = &'a dyn Fn(&[f64]) -> usize;

/// What [`save_training_plot`] draws.
pub struct TrainingPlot<'a> {
    /// The title over the decision boundary.
    pub title: String,
    /// The (training) data, drawn as points coloured by class.
    pub data: &'a Dataset,
    /// The model's class for a point, to shade the plane; `None`, or data
    /// without exactly 2 features, leaves the background blank.
    pub classify: Option<Classify<'a>>,
    /// The loss at each step.
    pub loss: &'a [f64],
    /// The accuracy (in `[0, 1]`) at each step.
    pub accuracy: &'a [f64],
}

/// The image format, from the file name's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageFormat {
    /// A PNG bitmap.
    Png,
    /// An SVG drawing.
    Svg,
}

impl ImageFormat {
    /// The format of `path` (`.png` or `.svg`, any case).
    ///
    /// ```
    /// use backprop::plot::ImageFormat;
    /// assert_eq!(ImageFormat::from_path("a/moons.SVG".as_ref()), Some(ImageFormat::Svg));
    /// assert_eq!(ImageFormat::from_path("moons.jpg".as_ref()), None);
    /// ```
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "png" => Some(ImageFormat::Png),
            "svg" => Some(ImageFormat::Svg),
            _ => None,
        }
    }
}

/// Colours of classes 0, 1, 2, ... (matplotlib's `tab10`).
const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
];

fn class_color(c: usize) -> RGBColor {
    PALETTE[c % PALETTE.len()]
}

/// A class colour mixed with white, for the shaded regions.
fn light(c: RGBColor) -> RGBColor {
    let mix = |v: u8| (f64::from(v) * 0.3 + 255.0 * 0.7) as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font, checked by the tests.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Draws the decision boundary (left) and the loss and accuracy curves
/// (right) to `path`, a `.png` (1200×600) or `.svg` file, atomically: the
/// image is written to a temporary file in the same directory and renamed.
///
/// # Errors
/// An unknown extension, a drawing failure, or a file that cannot be
/// written.
pub fn save_training_plot(
    path: impl AsRef<Path>,
    plot: &TrainingPlot<'_>,
) -> Result<(), PlotError> {
    let path = path.as_ref();
    let shown = path.display().to_string();
    let format = ImageFormat::from_path(path).ok_or_else(|| PlotError::Format(shown.clone()))?;
    register_font();
    let draw_err = |e: String| PlotError::Draw {
        path: shown.clone(),
        message: e,
    };
    let io_err = |source| PlotError::Io {
        path: shown.clone(),
        source,
    };
    match format {
        ImageFormat::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
                draw(&root, plot, 70).map_err(|e| draw_err(e.to_string()))?;
                root.present().map_err(|e| draw_err(e.to_string()))?;
            }
            crate::nn::write_atomically(path, svg.as_bytes()).map_err(io_err)
        }
        ImageFormat::Png => {
            let dir = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            let stem = path
                .file_stem()
                .map_or("plot".into(), |s| s.to_string_lossy().into_owned());
            // The bitmap encoder picks the format from the extension, so
            // the temporary file keeps `.png`.
            let tmp = dir.join(format!(".{stem}.tmp-{}.png", std::process::id()));
            let result = (|| {
                let root = BitMapBackend::new(&tmp, SIZE).into_drawing_area();
                draw(&root, plot, 150).map_err(|e| draw_err(e.to_string()))?;
                root.present().map_err(|e| draw_err(e.to_string()))?;
                drop(root);
                std::fs::rename(&tmp, path).map_err(io_err)
            })();
            if result.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            result
        }
    }
}

const SIZE: (u32, u32) = (1200, 600);

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    plot: &TrainingPlot<'_>,
    cells: usize,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(SIZE.1);
    let (top, bottom) = right.split_vertically(SIZE.1 / 2);
    draw_boundary(&left, plot, cells)?;
    let steps = plot.loss.len().max(1);
    draw_curve(&top, "loss", plot.loss, steps, None, RGBColor(31, 119, 180))?;
    let acc: Vec<f64> = plot.accuracy.iter().map(|a| a * 100.0).collect();
    draw_curve(
        &bottom,
        "accuracy (%)",
        &acc,
        steps,
        Some((0.0, 100.0)),
        RGBColor(44, 160, 44),
    )
}

fn draw_boundary<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    plot: &TrainingPlot<'_>,
    cells: usize,
) -> DrawResult<DB> {
    let d = plot.data;
    let two_d = d.n_features() == 2;
    let (xr, yr) = if two_d {
        let b = d.bounds();
        let pad = |(lo, hi): (f64, f64)| {
            let p = 0.1 * (hi - lo).max(1e-9) + 0.25;
            (lo - p, hi + p)
        };
        (pad(b[0]), pad(b[1]))
    } else {
        ((0.0, 1.0), (0.0, 1.0))
    };
    let mut chart = ChartBuilder::on(area)
        .caption(&plot.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(44)
        .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .label_style(("sans-serif", 14))
        .x_desc("x1")
        .y_desc("x2")
        .draw()?;
    if !two_d {
        chart.draw_series(std::iter::once(Text::new(
            format!("no decision boundary: {} features", d.n_features()),
            (0.05, 0.5),
            ("sans-serif", 18),
        )))?;
        return Ok(());
    }
    if let Some(classify) = plot.classify {
        let (dx, dy) = ((xr.1 - xr.0) / cells as f64, (yr.1 - yr.0) / cells as f64);
        let mut rects = Vec::with_capacity(cells * cells);
        for i in 0..cells {
            for j in 0..cells {
                let (x, y) = (xr.0 + i as f64 * dx, yr.0 + j as f64 * dy);
                let c = classify(&[x + dx / 2.0, y + dy / 2.0]);
                rects.push(Rectangle::new(
                    [(x, y), (x + dx, y + dy)],
                    light(class_color(c)).filled(),
                ));
            }
        }
        chart.draw_series(rects)?;
    }
    chart.draw_series((0..d.len()).map(|i| {
        let x = d.x(i);
        Circle::new((x[0], x[1]), 4, class_color(d.label(i)).filled())
    }))?;
    chart.draw_series((0..d.len()).map(|i| {
        let x = d.x(i);
        Circle::new((x[0], x[1]), 4, BLACK.stroke_width(1))
    }))?;
    Ok(())
}

fn draw_curve<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    name: &str,
    values: &[f64],
    steps: usize,
    range: Option<(f64, f64)>,
    color: RGBColor,
) -> DrawResult<DB> {
    let (lo, hi) = range.unwrap_or_else(|| {
        let hi = values
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
        (0.0, if hi > 0.0 { hi * 1.05 } else { 1.0 })
    });
    let mut chart = ChartBuilder::on(area)
        .caption(name, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..(steps.saturating_sub(1).max(1)) as f64, lo..hi)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(RGBColor(225, 225, 225))
        .label_style(("sans-serif", 13))
        .x_labels(8)
        .y_labels(6)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| {
            if range.is_some() {
                format!("{v:.0}")
            } else {
                format!("{v:.2}")
            }
        })
        .x_desc("step")
        .draw()?;
    chart.draw_series(LineSeries::new(
        values.iter().enumerate().map(|(i, &v)| (i as f64, v)),
        color.stroke_width(2),
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_font_is_valid() {
        assert!(plotters::style::register_font("test-font", FontStyle::Normal, FONT).is_ok());
    }

    #[test]
    fn an_unknown_extension_is_an_error() {
        let d = crate::data::moons(4, 0.0, 0);
        let plot = TrainingPlot {
            title: String::new(),
            data: &d,
            classify: None,
            loss: &[],
            accuracy: &[],
        };
        let err = save_training_plot("x.gif", &plot).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot tell the image format of x.gif (use a .png or .svg file name)"
        );
    }
}

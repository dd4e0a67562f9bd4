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

use crate::FONT;

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
    /// The file could not be written (the reason is the error's source).
    #[error("cannot write {path}")]
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
    // Both formats are drawn in memory and written with
    // `files::write_atomic`: an interrupted or failed write leaves no partial
    // image, and I/O errors come back as plain `io::Error`s.
    let bytes = match format {
        ImageFormat::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
                draw(&root, plot, 70).map_err(|e| draw_err(e.to_string()))?;
                root.present().map_err(|e| draw_err(e.to_string()))?;
            }
            svg.into_bytes()
        }
        ImageFormat::Png => {
            let (w, h) = SIZE;
            let mut rgb = vec![0u8; w as usize * h as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
                draw(&root, plot, 150).map_err(|e| draw_err(e.to_string()))?;
                root.present().map_err(|e| draw_err(e.to_string()))?;
            }
            encode_png(&rgb, w, h).map_err(|e| draw_err(format!("cannot encode the PNG: {e}")))?
        }
    };
    crate::files::write_atomic(path, &bytes).map_err(io_err)
}

/// `rgb`, `w`×`h` pixels of 8-bit red, green and blue, row by row, as a PNG
/// file's bytes.
fn encode_png(rgb: &[u8], w: u32, h: u32) -> Result<Vec<u8>, png::EncodingError> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(bytes)
}

/// Draws a loss curve (per step, in a light colour) with its running mean
/// over the last 50 steps (dark) under `title` to `path`, a `.png` or
/// `.svg` file (900×450), atomically like [`save_training_plot`]. This is
/// the plot of `backprop gpt`, whose data has no plane to draw and whose
/// loss, one document per step, is noisy.
///
/// ```no_run
/// backprop::plot::save_loss_plot("loss.png", "microgpt on names", &[3.3, 2.9, 2.5]).unwrap();
/// ```
///
/// # Errors
/// As [`save_training_plot`].
pub fn save_loss_plot(path: impl AsRef<Path>, title: &str, loss: &[f64]) -> Result<(), PlotError> {
    const LOSS_SIZE: (u32, u32) = (900, 450);
    let path = path.as_ref();
    let shown = path.display().to_string();
    let format = ImageFormat::from_path(path).ok_or_else(|| PlotError::Format(shown.clone()))?;
    register_font();
    let draw_err = |e: String| PlotError::Draw {
        path: shown.clone(),
        message: e,
    };
    let bytes = match format {
        ImageFormat::Svg => {
            let mut svg = String::new();
            {
                let root = SVGBackend::with_string(&mut svg, LOSS_SIZE).into_drawing_area();
                root.fill(&WHITE).map_err(|e| draw_err(e.to_string()))?;
                draw_loss(&root, title, loss).map_err(|e| draw_err(e.to_string()))?;
                root.present().map_err(|e| draw_err(e.to_string()))?;
            }
            svg.into_bytes()
        }
        ImageFormat::Png => {
            let (w, h) = LOSS_SIZE;
            let mut rgb = vec![0u8; w as usize * h as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut rgb, LOSS_SIZE).into_drawing_area();
                root.fill(&WHITE).map_err(|e| draw_err(e.to_string()))?;
                draw_loss(&root, title, loss).map_err(|e| draw_err(e.to_string()))?;
                root.present().map_err(|e| draw_err(e.to_string()))?;
            }
            encode_png(&rgb, w, h).map_err(|e| draw_err(format!("cannot encode the PNG: {e}")))?
        }
    };
    crate::files::write_atomic(path, &bytes).map_err(|source| PlotError::Io {
        path: shown.clone(),
        source,
    })
}

/// The running mean of the last `window` values at each step.
fn running_mean(values: &[f64], window: usize) -> Vec<f64> {
    let mut sum = 0.0;
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            sum += v;
            if i >= window {
                sum -= values[i - window];
            }
            sum / (i + 1).min(window) as f64
        })
        .collect()
}

fn draw_loss<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    loss: &[f64],
) -> DrawResult<DB> {
    let steps = loss.len().max(1);
    draw_curve(area, title, loss, steps, None, RGBColor(170, 200, 230))?;
    // The same axes again (same range), with the smoothed curve on top.
    let mean = running_mean(loss, 50);
    let hi = loss
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let hi = if hi > 0.0 {
        (hi * 1.05).min(f64::MAX)
    } else {
        1.0
    };
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..(steps.saturating_sub(1).max(1)) as f64, 0.0..hi)?;
    chart
        .draw_series(LineSeries::new(
            mean.iter().enumerate().map(|(i, &v)| (i as f64, v)),
            RGBColor(31, 119, 180).stroke_width(3),
        ))?
        .label("mean of the last 50 steps")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RGBColor(31, 119, 180)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(("sans-serif", 14))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    Ok(())
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
    let ranges = if d.n_features() == 2 {
        let b = d.bounds();
        padded(b[0]).zip(padded(b[1])).ok_or_else(|| {
            "no decision boundary: the features' range is too wide to draw".to_string()
        })
    } else {
        Err(format!(
            "no decision boundary: the data has {} feature{} (it needs 2)",
            d.n_features(),
            if d.n_features() == 1 { "" } else { "s" }
        ))
    };
    let (xr, yr) = match ranges {
        Ok(r) => r,
        Err(why) => {
            // Only a caption and the reason: an empty pair of axes would
            // suggest a plot that is not there.
            let area = area.titled(&plot.title, ("sans-serif", 22))?;
            let (_, h) = area.dim_in_pixel();
            area.draw(&Text::new(
                why,
                (20, h as i32 / 2),
                ("sans-serif", 18).into_font(),
            ))?;
            return Ok(());
        }
    };
    let mut chart = ChartBuilder::on(area)
        .caption(&plot.title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(32)
        .y_label_area_size(72)
        .build_cartesian_2d(xr.0..xr.1, yr.0..yr.1)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .label_style(("sans-serif", 14))
        .x_labels(6)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .x_desc(axis_name(d, 0))
        .y_desc(axis_name(d, 1))
        .draw()?;
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

/// Feature `j`'s axis label: its column name, or `x1`, `x2` (1-based).
fn axis_name(d: &Dataset, j: usize) -> String {
    d.feature_names()
        .and_then(|n| n.get(j).map(|s| crate::format::shown_name(s)))
        .unwrap_or_else(|| format!("x{}", j + 1))
}

/// A feature's range `(lo, hi)` with a margin, or `None` if it cannot be
/// drawn: not finite, or so wide that its width overflows (plotters would
/// loop forever looking for tick marks).
fn padded((lo, hi): (f64, f64)) -> Option<(f64, f64)> {
    let p = 0.1 * (hi - lo).max(1e-9) + 0.25;
    let (mut a, mut b) = (lo - p, hi + p);
    if b - a <= 1e-9 * a.abs().max(b.abs()) {
        // A margin that vanishes next to the values (all near 1e300, say).
        let m = 0.1 * a.abs().max(b.abs());
        (a, b) = (lo - m, hi + m);
    }
    ((b - a).is_finite() && b > a).then_some((a, b))
}

/// An axis label: plain for ordinary magnitudes, exponent notation for
/// very large or small ones (instead of hundreds of digits).
fn tick(v: f64) -> String {
    if v != 0.0 && !(1e-3..1e5).contains(&v.abs()) {
        format!("{v:.1e}")
    } else {
        format!("{v:.2}")
    }
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
        // At most f64::MAX: an infinite range would never end.
        (
            0.0,
            if hi > 0.0 {
                (hi * 1.05).min(f64::MAX)
            } else {
                1.0
            },
        )
    });
    let mut chart = ChartBuilder::on(area)
        .caption(name, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(60)
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
                tick(*v)
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

    /// QA defect 4: a feature range whose width overflows made plotters
    /// look for tick marks forever.
    #[test]
    fn ranges_too_wide_to_draw_are_skipped() {
        assert_eq!(padded((-1e308, 1e308)), None);
        assert_eq!(padded((-8e307, 8e307)), None, "the margin overflows");
        assert_eq!(padded((0.0, 1.0)), Some((-0.35, 1.35)));
        // All values near 1e300: a margin of 0.25 would vanish.
        let (a, b) = padded((1e300, 1e300)).unwrap();
        assert!(a < 1e300 && b > 1e300);
        let d = Dataset::new(vec![-1e308, 0.0, 1e308, 1.0], vec![0, 1], 2).unwrap();
        let plot = TrainingPlot {
            title: "wide".into(),
            data: &d,
            classify: Some(&|_: &[f64]| 0),
            loss: &[f64::MAX, 1.0],
            accuracy: &[0.5, 1.0],
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wide.svg");
        save_training_plot(&path, &plot).unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.contains("too wide to draw"));
    }

    /// Both PNG plots decode (with the `image` crate's decoder) to their
    /// size in 8-bit RGB, with more than one colour in them.
    #[test]
    fn png_plots_decode_to_their_size() {
        let d = crate::data::moons(20, 0.1, 1);
        let plot = TrainingPlot {
            title: "moons".into(),
            data: &d,
            classify: Some(&|x: &[f64]| usize::from(x[1] < 0.25)),
            loss: &[1.0, 0.5],
            accuracy: &[0.5, 1.0],
        };
        let dir = tempfile::tempdir().unwrap();
        let training = dir.path().join("t.png");
        save_training_plot(&training, &plot).unwrap();
        let loss = dir.path().join("l.png");
        save_loss_plot(&loss, "loss", &[3.0, 2.0, 1.0]).unwrap();
        for (path, size) in [(training, (1200, 600)), (loss, (900, 450))] {
            let bytes = std::fs::read(&path).unwrap();
            let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png).unwrap();
            assert_eq!(img.color(), image::ColorType::Rgb8);
            let img = img.to_rgb8();
            assert_eq!(img.dimensions(), size);
            let first = img.get_pixel(0, 0);
            assert!(img.pixels().any(|p| p != first), "{}", path.display());
        }
    }

    /// QA defect 20: a PNG that cannot be written gave plotters' Debug
    /// output; now an `io::Error` is the source, and no file is left.
    #[test]
    fn write_errors_are_io_errors() {
        let d = crate::data::moons(4, 0.0, 0);
        let plot = TrainingPlot {
            title: String::new(),
            data: &d,
            classify: None,
            loss: &[1.0],
            accuracy: &[1.0],
        };
        let err = save_training_plot("/nonexistent/dir/p.png", &plot).unwrap_err();
        assert_eq!(err.to_string(), "cannot write /nonexistent/dir/p.png");
        let source = std::error::Error::source(&err).unwrap();
        assert!(
            source.downcast_ref::<std::io::Error>().is_some(),
            "{source}"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.png");
        save_training_plot(&path, &plot).unwrap();
        assert_eq!(&std::fs::read(&path).unwrap()[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn running_means_average_the_last_window() {
        let m = running_mean(&[1.0, 3.0, 5.0, 7.0], 2);
        assert_eq!(m, [1.0, 2.0, 4.0, 6.0]);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loss.svg");
        save_loss_plot(&path, "loss", &[3.0, 2.0, f64::NAN, 1.0]).unwrap();
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("mean of the last 50 steps")
        );
    }

    #[test]
    fn ticks_use_exponents_for_extreme_magnitudes() {
        assert_eq!(tick(0.5), "0.50");
        assert_eq!(tick(0.0), "0.00");
        assert_eq!(tick(-1e300), "-1.0e300");
        assert_eq!(tick(2.5e-7), "2.5e-7");
    }
}

//! SVG and PNG rendering: Graphviz when it is installed; otherwise the
//! pure-Rust `layout-rs` crate lays out an SVG and `resvg` rasterizes it to
//! PNG with the embedded font; and atomic file writes.

use std::io::{self, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
#[cfg(feature = "layout")]
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[cfg(feature = "layout")]
use layout::backends::svg::SVGWriter;
#[cfg(feature = "layout")]
use layout::core::base::Orientation;
#[cfg(feature = "layout")]
use layout::core::color::Color;
#[cfg(feature = "layout")]
use layout::core::style::StyleAttr;
#[cfg(feature = "layout")]
use layout::std_shapes::render::get_shape_size;
#[cfg(feature = "layout")]
use layout::std_shapes::shapes::{Arrow, Element, RecordDef, ShapeKind};
#[cfg(feature = "layout")]
use layout::topo::layout::VisualGraph;

#[cfg(feature = "layout")]
use super::RankDir;
use super::{DotOptions, to_dot, views};
use crate::{Graph, NodeId};

/// The largest drawing (record nodes plus op nodes) the built-in layout
/// accepts. Its time grows faster than quadratically with the size, and
/// most with values used far downstream (a parameter shared by every
/// step). Measured (release build, one core): a chain like
/// `x = tanh(x*0.5 + 0.1)` takes 0.015 s at 320 drawn nodes and 0.84 s at
/// 1,280; a sum of products `x = x + a*b` 0.2 s at 150 and 0.94 s at 220;
/// a chain reusing one weight `x = tanh(x*w + 0.1)` 0.74 s at 177 and
/// 2.6 s at 253. Past this size, use Graphviz or DOT output.
pub const BUILTIN_MAX_NODES: usize = 250;

/// The most path steps the built-in layout may have to walk. `layout-rs` checks that the graph is acyclic
/// after adding each edge, with a depth-first search that does not
/// remember finished nodes, so its time follows the number of *paths*,
/// which grows exponentially when values are reused a few steps
/// downstream: `y{i} = y{i-1}*x + y{i-1} + y{i-2} + y{i-3}` takes 2.5 s
/// at 115 drawn nodes (6e9 steps), 15 s at 131 (4.5e10) and minutes at
/// 187. Measured at about 2.5e9 steps a second; this limit is about 2 s.
pub const BUILTIN_MAX_WORK: f64 = 5e9;

/// The largest drawing (record nodes plus op nodes) handed to Graphviz.
/// Its time grows about quadratically: a chain `x{i} = x{i-1} + 1` takes
/// 1 s at 3,000 drawn nodes and 4.6 s at 6,000; at 300,000 `dot` crashes.
/// Past this size, write DOT and render it yourself.
pub const GRAPHVIZ_MAX_NODES: usize = 10_000;

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Graphviz DOT text.
    Dot,
    /// An SVG image.
    Svg,
    /// A PNG image.
    Png,
}

impl Format {
    /// The format a file name asks for, by its extension (`.dot`/`.gv`,
    /// `.svg`, `.png`, any case).
    ///
    /// ```
    /// use backprop::viz::Format;
    /// assert_eq!(Format::from_path("out/neuron.SVG".as_ref()), Some(Format::Svg));
    /// assert_eq!(Format::from_path("neuron.jpg".as_ref()), None);
    /// ```
    pub fn from_path(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "dot" | "gv" => Some(Format::Dot),
            "svg" => Some(Format::Svg),
            "png" => Some(Format::Png),
            _ => None,
        }
    }

    /// Graphviz's name for the format (`-T` argument).
    pub fn name(self) -> &'static str {
        match self {
            Format::Dot => "dot",
            Format::Svg => "svg",
            Format::Png => "png",
        }
    }
}

/// Which layout engine draws SVG and PNG.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Renderer {
    /// Graphviz when `dot` is on the `PATH`, the built-in layout otherwise.
    #[default]
    Auto,
    /// Always the built-in, pure-Rust layout (SVG, and PNG rasterized by
    /// `resvg`).
    Builtin,
    /// Always Graphviz's `dot`.
    Graphviz,
}

/// An error rendering a picture.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VizError {
    /// Graphviz is needed but not installed.
    #[error(
        "{0} output with Graphviz needs its `dot` program, which is not on the PATH; install \
         Graphviz (`apt-get install graphviz` or `brew install graphviz`)"
    )]
    GraphvizMissing(&'static str),
    /// The graph has too many nodes for the built-in layout.
    #[error(
        "the graph has {nodes} nodes to draw, more than the built-in layout handles in \
         reasonable time ({max}); use Graphviz (`apt-get install graphviz` or \
         `brew install graphviz`) for SVG and PNG, or write .dot"
    )]
    TooLarge {
        /// Record and op nodes in the drawing.
        nodes: usize,
        /// [`BUILTIN_MAX_NODES`].
        max: usize,
    },
    /// The graph reuses values so much that the built-in layout would take
    /// too long (see [`BUILTIN_MAX_WORK`]).
    #[error(
        "the graph has only {nodes} nodes to draw, but its values are reused so often that \
         the built-in layout would walk about {work:.1e} paths, more than it does in \
         reasonable time ({max:.0e}); use Graphviz (`apt-get install graphviz` or \
         `brew install graphviz`) for SVG and PNG, or write .dot"
    )]
    TooTangled {
        /// Record and op nodes in the drawing.
        nodes: usize,
        /// The estimated number of path steps.
        work: f64,
        /// [`BUILTIN_MAX_WORK`].
        max: f64,
    },
    /// The graph is too big for Graphviz.
    #[error(
        "the graph has {nodes} nodes to draw, more than Graphviz draws in reasonable time \
         ({max}); write .dot and render the parts you need"
    )]
    TooLargeForGraphviz {
        /// Record and op nodes in the drawing.
        nodes: usize,
        /// [`GRAPHVIZ_MAX_NODES`].
        max: usize,
    },
    /// The layout did not finish in the time allowed.
    #[error(
        "{engine} did not finish drawing the graph within {} s; write .dot instead",
        .limit.as_secs_f64()
    )]
    Timeout {
        /// "the built-in layout" or "graphviz `dot`".
        engine: &'static str,
        /// The time allowed.
        limit: Duration,
    },
    /// What is needed is not compiled into this build of the library.
    #[error(
        "{what} is not part of this build of backprop (its cargo feature `{feature}` is off); \
         install Graphviz, or write .dot"
    )]
    NotBuilt {
        /// What is missing, like "the built-in layout".
        what: &'static str,
        /// The cargo feature that adds it.
        feature: &'static str,
    },
    /// The SVG could not be rasterized to PNG.
    #[error("cannot rasterize the SVG to PNG: {0}")]
    Raster(String),
    /// Graphviz failed.
    #[error(
        "graphviz `dot -T{format}` failed ({status}){}; write .dot instead",
        if .stderr.is_empty() { String::new() } else { format!(": {}", .stderr) }
    )]
    Graphviz {
        /// The requested format.
        format: &'static str,
        /// How `dot` exited.
        status: String,
        /// What it printed on stderr (trimmed; may be empty).
        stderr: String,
    },
    /// Running Graphviz failed.
    #[error("cannot run graphviz `dot`: {0}")]
    Io(#[from] io::Error),
}

/// Whether Graphviz's `dot` can be run (it is on the `PATH`).
pub fn graphviz_available() -> bool {
    Command::new("dot")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs Graphviz's `dot -T<format>` on DOT text and returns its output.
///
/// # Errors
/// [`VizError::GraphvizMissing`] if `dot` is not installed,
/// [`VizError::Graphviz`] if it fails.
pub fn graphviz(dot: &str, format: Format) -> Result<Vec<u8>, VizError> {
    graphviz_within(dot, format, None)
}

/// [`graphviz`], killing `dot` once `limit` has passed.
fn graphviz_within(
    dot: &str,
    format: Format,
    limit: Option<Duration>,
) -> Result<Vec<u8>, VizError> {
    let mut child = match Command::new("dot")
        .arg(format!("-T{}", format.name()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(VizError::GraphvizMissing(format.name()));
        }
        Err(e) => return Err(e.into()),
    };
    // Feed stdin and drain stdout and stderr from other threads, so that
    // neither a big output nor a big input can block `dot`, and this thread
    // is free to watch the clock.
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = dot.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let out_reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        stdout.read_to_end(&mut out).map(|_| out)
    });
    let status = match limit {
        None => Some(child.wait()?),
        Some(limit) => wait_within(&mut child, limit)?,
    };
    let Some(status) = status else {
        // Killing `dot` closes its pipes, so the threads finish.
        let _ = child.kill();
        let _ = child.wait();
        let _ = (writer.join(), err_reader.join(), out_reader.join());
        return Err(VizError::Timeout {
            engine: "graphviz `dot`",
            limit: limit.unwrap_or_default(),
        });
    };
    let write_result = writer.join().unwrap_or(Ok(()));
    let stderr = err_reader.join().unwrap_or_default();
    let out = out_reader
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("the reader thread panicked")));
    if !status.success() {
        return Err(VizError::Graphviz {
            format: format.name(),
            status: status.to_string(),
            stderr: stderr.trim().to_string(),
        });
    }
    write_result?;
    Ok(out?)
}

/// Waits for `child` to exit, for at most `limit`; `None` if it has not.
fn wait_within(child: &mut Child, limit: Duration) -> io::Result<Option<std::process::ExitStatus>> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let left = limit.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Ok(None);
        }
        std::thread::sleep(left.min(Duration::from_millis(5)));
    }
}

#[cfg(feature = "layout")]
/// How many steps the built-in layout's acyclicity checks walk: after each
/// of the `E` edges is added, one depth-first search per edge that counts
/// every path from the edge's head. So about `E * sum over edges (u, v) of
/// paths(v)`, where `paths(v) = 1 + sum of paths(w)` over `v`'s successors.
/// The drawing's nodes are numbered in creation order, op node before its
/// record, which is a topological order of the drawn edges.
fn builtin_layout_work(nodes: &[super::NodeView], edges: &[(NodeId, NodeId)]) -> f64 {
    let mut record = std::collections::HashMap::new();
    let mut op = std::collections::HashMap::new();
    let mut drawn: Vec<(usize, usize)> = Vec::new();
    let mut k = 0;
    for n in nodes {
        if n.op.is_some() {
            op.insert(n.id, k);
            drawn.push((k, k + 1));
            k += 1;
        }
        record.insert(n.id, k);
        k += 1;
    }
    drawn.extend(edges.iter().map(|(c, p)| (record[c], op[p])));
    let mut succ = vec![Vec::new(); k];
    for &(a, b) in &drawn {
        succ[a].push(b);
    }
    let mut paths = vec![0.0f64; k];
    for v in (0..k).rev() {
        paths[v] = 1.0 + succ[v].iter().map(|&w| paths[w]).sum::<f64>();
    }
    let per_check: f64 = drawn.iter().map(|&(_, b)| paths[b]).sum();
    per_check * drawn.len() as f64
}

/// Draws the subgraph that leads to `root` as SVG with the built-in,
/// pure-Rust layout (no Graphviz needed). Needs the `layout` cargo feature
/// (on by default).
///
/// # Errors
/// [`VizError::TooLarge`] past [`BUILTIN_MAX_NODES`] drawn nodes,
/// [`VizError::TooTangled`] past [`BUILTIN_MAX_WORK`].
///
/// # Panics
/// If `root` is not a node of `g`.
///
/// ```
/// let g = backprop::Graph::new();
/// let x = g.value(0.5).with_label("x");
/// let y = x.tanh().with_label("y");
/// y.backward();
/// let svg = backprop::viz::render_svg_builtin(&g, y.id(), &Default::default())?;
/// assert!(svg.contains("<svg") && svg.contains("tanh") && svg.contains("grad 0.7864"));
/// # Ok::<(), backprop::viz::VizError>(())
/// ```
#[cfg(feature = "layout")]
pub fn render_svg_builtin(g: &Graph, root: NodeId, opts: &DotOptions) -> Result<String, VizError> {
    builtin_within(g, root, opts, None)
}

/// [`render_svg_builtin`], giving up after `limit` (the layout then keeps
/// running on its own thread until it is done, since it cannot be stopped).
#[cfg(feature = "layout")]
fn builtin_within(
    g: &Graph,
    root: NodeId,
    opts: &DotOptions,
    limit: Option<Duration>,
) -> Result<String, VizError> {
    let (nodes, edges) = views(g, root);
    let count = nodes.len() + nodes.iter().filter(|n| n.op.is_some()).count();
    if count > BUILTIN_MAX_NODES {
        return Err(VizError::TooLarge {
            nodes: count,
            max: BUILTIN_MAX_NODES,
        });
    }
    let work = builtin_layout_work(&nodes, &edges);
    if work > BUILTIN_MAX_WORK {
        return Err(VizError::TooTangled {
            nodes: count,
            work,
            max: BUILTIN_MAX_WORK,
        });
    }
    let dir = match opts.rankdir {
        RankDir::LeftToRight => Orientation::LeftToRight,
        RankDir::TopToBottom => Orientation::TopToBottom,
    };
    let mut vg = VisualGraph::new(dir);
    let font = 14;
    let look = || StyleAttr::new(Color::fast("black"), 1, Some(Color::fast("white")), 0, font);
    // As in layout-rs's own DOT reader: shapes are created with the flipped
    // orientation (a record's fields run across the flow).
    let shape_dir = dir.flip();
    let element = |shape: ShapeKind| {
        let size = get_shape_size(shape_dir, &shape, font, false);
        Element::create(shape, look(), shape_dir, size)
    };
    // Records of `{a|b|c}` parse to a one-element array holding the fields.
    let mut record_of = std::collections::HashMap::new();
    let mut op_of = std::collections::HashMap::new();
    for n in &nodes {
        let fields = n
            .fields(opts.show_grad)
            .into_iter()
            // layout-rs sizes an empty field as nothing; keep a blank.
            .map(|f| RecordDef::new_text(if f.is_empty() { " " } else { &f }))
            .collect();
        let rec = vg.add_node(element(ShapeKind::Record(RecordDef::Array(vec![
            RecordDef::Array(fields),
        ]))));
        record_of.insert(n.id, rec);
        if let Some(op) = &n.op {
            let h = vg.add_node(element(ShapeKind::Circle(op.clone())));
            vg.add_edge(Arrow::simple(""), h, rec);
            op_of.insert(n.id, h);
        }
    }
    for (child, parent) in &edges {
        vg.add_edge(Arrow::simple(""), record_of[child], op_of[parent]);
    }
    let layout = move || {
        let mut vg = vg;
        let mut svg = SVGWriter::new();
        vg.do_it(false, false, false, &mut svg);
        svg.finalize()
    };
    let Some(limit) = limit else {
        return Ok(layout());
    };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(layout());
    });
    rx.recv_timeout(limit).map_err(|_| VizError::Timeout {
        engine: "the built-in layout",
        limit,
    })
}

/// Draws the subgraph that leads to `root` in `format`.
///
/// DOT is always available. SVG and PNG use Graphviz if the renderer is
/// [`Renderer::Graphviz`], or [`Renderer::Auto`] and `dot` is installed;
/// otherwise the built-in layout draws the SVG, and for PNG [`svg_to_png`]
/// rasterizes it.
///
/// # Errors
/// [`VizError::GraphvizMissing`] for [`Renderer::Graphviz`] without
/// Graphviz; [`VizError::TooLarge`] or [`VizError::TooTangled`]
/// for a graph the built-in layout would take too long on,
/// [`VizError::TooLargeForGraphviz`] past [`GRAPHVIZ_MAX_NODES`];
/// [`VizError::Graphviz`] if `dot` fails.
///
/// # Panics
/// If `root` is not a node of `g`.
///
/// ```
/// use backprop::viz::{Format, Renderer, render};
/// let g = backprop::Graph::new();
/// let y = (g.value(1.0) + 2.0).with_label("y");
/// let dot = render(&g, y.id(), &Default::default(), Format::Dot, Renderer::Auto)?;
/// assert!(String::from_utf8(dot).unwrap().starts_with("digraph {"));
/// # Ok::<(), backprop::viz::VizError>(())
/// ```
pub fn render(
    g: &Graph,
    root: NodeId,
    opts: &DotOptions,
    format: Format,
    renderer: Renderer,
) -> Result<Vec<u8>, VizError> {
    render_impl(g, root, opts, format, renderer, None)
}

/// [`render`] with a time limit for the layout: past `limit`, Graphviz is
/// killed and [`VizError::Timeout`] returned.
///
/// The built-in layout cannot be stopped: it is run on a thread of its own,
/// which is abandoned at the limit and keeps a core busy until it is done
/// (a command-line program exits anyway). The size checks make that rare.
///
/// # Errors
/// As [`render`], and [`VizError::Timeout`].
///
/// # Panics
/// If `root` is not a node of `g`.
///
/// ```
/// use std::time::Duration;
/// use backprop::viz::{Format, Renderer, render_within};
/// let g = backprop::Graph::new();
/// let y = (g.value(1.0) + 2.0).with_label("y");
/// let svg = render_within(&g, y.id(), &Default::default(), Format::Svg, Renderer::Builtin,
///                         Duration::from_secs(10))?;
/// assert!(String::from_utf8(svg).unwrap().contains("<svg"));
/// # Ok::<(), backprop::viz::VizError>(())
/// ```
pub fn render_within(
    g: &Graph,
    root: NodeId,
    opts: &DotOptions,
    format: Format,
    renderer: Renderer,
    limit: Duration,
) -> Result<Vec<u8>, VizError> {
    render_impl(g, root, opts, format, renderer, Some(limit))
}

fn render_impl(
    g: &Graph,
    root: NodeId,
    opts: &DotOptions,
    format: Format,
    renderer: Renderer,
    limit: Option<Duration>,
) -> Result<Vec<u8>, VizError> {
    let use_graphviz = match (format, renderer) {
        (Format::Dot, _) => return Ok(to_dot(g, root, opts).into_bytes()),
        (_, Renderer::Graphviz) => true,
        (_, Renderer::Builtin) => false,
        (_, Renderer::Auto) => graphviz_available(),
    };
    if use_graphviz {
        let (nodes, _) = views(g, root);
        let count = nodes.len() + nodes.iter().filter(|n| n.op.is_some()).count();
        if count > GRAPHVIZ_MAX_NODES {
            return Err(VizError::TooLargeForGraphviz {
                nodes: count,
                max: GRAPHVIZ_MAX_NODES,
            });
        }
        return graphviz_within(&to_dot(g, root, opts), format, limit);
    }
    #[cfg(feature = "layout")]
    {
        let svg = builtin_within(g, root, opts, limit)?;
        match format {
            Format::Png => svg_to_png(&svg, PNG_SCALE),
            _ => Ok(svg.into_bytes()),
        }
    }
    #[cfg(not(feature = "layout"))]
    {
        let _ = limit;
        Err(VizError::NotBuilt {
            what: "the built-in layout",
            feature: "layout",
        })
    }
}

/// How many PNG pixels the built-in renderer draws per SVG unit: about
/// what Graphviz's 96 dpi PNGs show, and sharp on high-density screens.
#[cfg(feature = "layout")]
const PNG_SCALE: f32 = 2.0;

/// Rasterizes an SVG to PNG with `resvg` on a white background, `scale`
/// pixels per SVG unit. Text is set in the embedded DejaVu Sans (whatever
/// family the SVG names), so no system fonts are needed. Needs the `png`
/// cargo feature (on by default).
///
/// # Errors
/// [`VizError::Raster`] if the SVG does not parse or the image would be
/// empty or too large for memory; [`VizError::NotBuilt`] without the `png`
/// feature.
///
/// ```
/// let svg = r#"<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">
///   <text x="2" y="15" font-size="12">a</text></svg>"#;
/// let png = backprop::viz::svg_to_png(svg, 2.0)?;
/// assert!(png.starts_with(b"\x89PNG"));
/// # Ok::<(), backprop::viz::VizError>(())
/// ```
pub fn svg_to_png(svg: &str, scale: f32) -> Result<Vec<u8>, VizError> {
    #[cfg(feature = "png")]
    {
        use resvg::{tiny_skia, usvg};
        let mut options = usvg::Options::default();
        let fonts = options.fontdb_mut();
        fonts.load_font_data(crate::FONT.to_vec());
        // Every generic family, and any family not found, is DejaVu Sans.
        for set in [
            usvg::fontdb::Database::set_serif_family,
            usvg::fontdb::Database::set_sans_serif_family,
            usvg::fontdb::Database::set_monospace_family,
            usvg::fontdb::Database::set_cursive_family,
            usvg::fontdb::Database::set_fantasy_family,
        ] {
            set(fonts, "DejaVu Sans");
        }
        options.font_family = "DejaVu Sans".into();
        let tree =
            usvg::Tree::from_str(svg, &options).map_err(|e| VizError::Raster(e.to_string()))?;
        let size = tree
            .size()
            .to_int_size()
            .scale_by(scale)
            .ok_or_else(|| VizError::Raster(format!("cannot scale the picture by {scale}")))?;
        let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).ok_or_else(|| {
            VizError::Raster(format!(
                "a {} x {} picture is empty or too large",
                size.width(),
                size.height()
            ))
        })?;
        pixmap.fill(tiny_skia::Color::WHITE);
        resvg::render(
            &tree,
            tiny_skia::Transform::from_scale(scale, scale),
            &mut pixmap.as_mut(),
        );
        pixmap
            .encode_png()
            .map_err(|e| VizError::Raster(e.to_string()))
    }
    #[cfg(not(feature = "png"))]
    {
        let _ = (svg, scale);
        Err(VizError::NotBuilt {
            what: "PNG rasterization",
            feature: "png",
        })
    }
}

/// Writes `bytes` to `path` atomically: to a temporary file in the same
/// directory, then renamed over `path`, so that a reader never sees half a
/// file and a failure leaves any old file intact.
///
/// # Errors
/// Any I/O error; the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    crate::files::write_atomic(path, bytes)
}

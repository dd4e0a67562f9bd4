//! SVG and PNG rendering: Graphviz when it is installed, the pure-Rust
//! `layout-rs` crate for SVG otherwise; and atomic file writes.

use std::io::{self, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use layout::backends::svg::SVGWriter;
use layout::core::base::Orientation;
use layout::core::color::Color;
use layout::core::style::StyleAttr;
use layout::std_shapes::render::get_shape_size;
use layout::std_shapes::shapes::{Arrow, Element, RecordDef, ShapeKind};
use layout::topo::layout::VisualGraph;

use super::{DotOptions, RankDir, to_dot, views};
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

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Graphviz DOT text.
    Dot,
    /// An SVG image.
    Svg,
    /// A PNG image (needs Graphviz).
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
    /// Always the built-in, pure-Rust layout (SVG only).
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
        "{0} output needs Graphviz's `dot`, which is not on the PATH: install Graphviz \
         (`apt-get install graphviz` or `brew install graphviz`), or write .svg (drawn without \
         Graphviz) or .dot instead"
    )]
    GraphvizMissing(&'static str),
    /// The graph is too big for the built-in layout.
    #[error(
        "the graph has {nodes} nodes to draw, more than the built-in layout handles in \
         reasonable time ({max}); install Graphviz (`apt-get install graphviz` or \
         `brew install graphviz`) for SVG and PNG, or write .dot"
    )]
    TooLarge {
        /// Record and op nodes in the drawing.
        nodes: usize,
        /// [`BUILTIN_MAX_NODES`].
        max: usize,
    },
    /// The built-in layout cannot draw this format.
    #[error("the built-in layout only draws SVG, not {0} (install Graphviz for it)")]
    Unsupported(&'static str),
    /// Graphviz failed.
    #[error("graphviz `dot -T{format}` failed ({status}): {stderr}")]
    Graphviz {
        /// The requested format.
        format: &'static str,
        /// How `dot` exited.
        status: String,
        /// What it printed on stderr.
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
    // Feed stdin from another thread so that a big output cannot block
    // `dot` while we are still writing.
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = dot.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut out = Vec::new();
    child
        .stdout
        .take()
        .expect("stdout is piped")
        .read_to_end(&mut out)?;
    let status = child.wait()?;
    let write_result = writer.join().unwrap_or(Ok(()));
    let stderr = err_reader.join().unwrap_or_default();
    if !status.success() {
        return Err(VizError::Graphviz {
            format: format.name(),
            status: status.to_string(),
            stderr: stderr.trim().to_string(),
        });
    }
    write_result?;
    Ok(out)
}

/// Draws the subgraph that leads to `root` as SVG with the built-in,
/// pure-Rust layout (no Graphviz needed).
///
/// # Errors
/// [`VizError::TooLarge`] past [`BUILTIN_MAX_NODES`] drawn nodes.
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
pub fn render_svg_builtin(g: &Graph, root: NodeId, opts: &DotOptions) -> Result<String, VizError> {
    let (nodes, edges) = views(g, root);
    let count = nodes.len() + nodes.iter().filter(|n| n.op.is_some()).count();
    if count > BUILTIN_MAX_NODES {
        return Err(VizError::TooLarge {
            nodes: count,
            max: BUILTIN_MAX_NODES,
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
    let mut svg = SVGWriter::new();
    vg.do_it(false, false, false, &mut svg);
    Ok(svg.finalize())
}

/// Draws the subgraph that leads to `root` in `format`.
///
/// DOT is always available. SVG uses Graphviz if the renderer is
/// [`Renderer::Graphviz`], or [`Renderer::Auto`] and `dot` is installed;
/// otherwise the built-in layout. PNG needs Graphviz.
///
/// # Errors
/// [`VizError::GraphvizMissing`] for PNG (or [`Renderer::Graphviz`])
/// without Graphviz, [`VizError::TooLarge`] for a big graph on the built-in
/// layout, [`VizError::Graphviz`] if `dot` fails.
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
    let use_graphviz = match (format, renderer) {
        (Format::Dot, _) => return Ok(to_dot(g, root, opts).into_bytes()),
        (_, Renderer::Graphviz) => true,
        (Format::Png, Renderer::Builtin) => return Err(VizError::Unsupported("png")),
        (_, Renderer::Builtin) => false,
        (Format::Png, Renderer::Auto) => true,
        (Format::Svg, Renderer::Auto) => graphviz_available(),
    };
    if use_graphviz {
        graphviz(&to_dot(g, root, opts), format)
    } else {
        Ok(render_svg_builtin(g, root, opts)?.into_bytes())
    }
}

/// Writes `bytes` to `path` atomically: to a temporary file in the same
/// directory, then renamed over `path`, so that a reader never sees half a
/// file and a failure leaves any old file intact.
///
/// # Errors
/// Any I/O error; the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

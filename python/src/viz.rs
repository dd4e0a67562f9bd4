//! Pictures and explanations from Python: `draw_dot` (the step-through
//! page inline in Jupyter, and the static SVG) and `explain`.

use std::sync::Mutex;

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyAny, PyDict};

use backprop::explain::{self as bexplain, Explanation, TextOptions};
use backprop::viz::{self, DotOptions, Format, RankDir, Renderer};
use backprop::{Graph, NodeId};

use crate::stale_error;
use crate::value::PyValue;

/// A copy of the subgraph under a root, taken when it was drawn: later
/// changes to the values (another `backward()`) do not change a drawing.
struct Snapshot {
    graph: Graph,
    root: NodeId,
}

impl Snapshot {
    fn of(v: &PyValue) -> PyResult<Self> {
        let s = v.g.lock();
        let root = s
            .node(v.slot, v.epoch)
            .ok_or_else(|| stale_error(&v.g))?
            .id();
        // A clone accepts the original's ids; compacting it to the root
        // keeps just the subgraph.
        let mut graph = s.graph.clone();
        drop(s);
        let mut roots = [root];
        graph.compact(&mut roots);
        // Inputs made without a label carry '' (see `Value.__init__`): name
        // them v1, v2, ... in creation order, so that explanations and
        // drawings show them as inputs, with gradients, not as constants.
        let mut k = 0;
        for (id, label) in graph.labels() {
            let v = graph.get(id);
            if label.is_empty() && v.op() == backprop::Op::Leaf {
                k += 1;
                v.set_label(format!("v{k}"));
            }
        }
        Ok(Self {
            graph,
            root: roots[0],
        })
    }

    fn explanation(&self) -> Explanation {
        bexplain::explain(self.graph.get(self.root))
    }
}

/// The largest graph (in nodes) whose static SVG goes into a notebook cell
/// beside the step-through page: laying out a larger one takes seconds (27 s
/// for 6,000 nodes with Graphviz), which Jupyter would spend on every
/// display although it shows the page. `.svg()` and `.save()` draw any size.
pub const SVG_IN_CELL_NODES: usize = 400;

/// What `draw_dot(root)` returns: Jupyter shows the interactive
/// step-through page (`text/html`, an `<iframe srcdoc>`: no server, no
/// network), with the static drawing (`image/svg+xml`) beside it for
/// viewers without scripts when the graph is small (see
/// [`SVG_IN_CELL_NODES`]).
#[pyclass(frozen, name = "Drawing", module = "backprop")]
pub struct Drawing {
    snap: Mutex<Snapshot>,
    opts: DotOptions,
    title: String,
}

impl Drawing {
    pub fn of(v: &PyValue, opts: DotOptions) -> PyResult<Self> {
        let snap = Snapshot::of(v)?;
        let title = snap
            .graph
            .get(snap.root)
            .label()
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| "backprop".into());
        Ok(Self {
            snap: Mutex::new(snap),
            opts,
            title,
        })
    }

    /// The page inside an `<iframe srcdoc>`.
    fn iframe(&self) -> PyResult<String> {
        Ok(format!(
            "<iframe srcdoc=\"{}\" style=\"width: 100%; height: 640px; border: 1px solid #ccc;\" \
             sandbox=\"allow-scripts\" title=\"{}\"></iframe>",
            attribute(&self.page()?),
            attribute(&self.title)
        ))
    }

    fn nodes(&self) -> usize {
        self.snap
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .graph
            .len()
    }

    fn page(&self) -> PyResult<String> {
        let snap = self.snap.lock().unwrap_or_else(|e| e.into_inner());
        bexplain::to_html(&snap.explanation(), None, &self.title).map_err(|e| match e {
            bexplain::PageError::TooLarge { nodes, max } => PyValueError::new_err(format!(
                "the graph has {nodes} nodes, more than the step-through page's limit of {max}: \
                 draw it statically with .svg() or .save('graph.svg'), or draw a smaller part"
            )),
        })
    }

    fn svg(&self) -> PyResult<String> {
        let snap = self.snap.lock().unwrap_or_else(|e| e.into_inner());
        let bytes = viz::render(
            &snap.graph,
            snap.root,
            &self.opts,
            Format::Svg,
            Renderer::Auto,
        )
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        String::from_utf8(bytes).map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }
}

/// `text` escaped for a double-quoted HTML attribute.
fn attribute(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[pymethods]
impl Drawing {
    /// The step-through page in an iframe, for Jupyter, VS Code and Colab
    /// output cells.
    fn _repr_html_(&self) -> PyResult<String> {
        self.iframe()
    }

    /// What Jupyter displays (IPython's `_repr_mimebundle_`): `text/html`,
    /// the step-through page in an iframe, and `image/svg+xml`, the static
    /// drawing, only for a graph of at most `SVG_IN_CELL_NODES` nodes, when
    /// the page is refused as too large, or when `include` asks for it by
    /// name (laying out a large graph takes seconds that every display
    /// would pay). `include` and `exclude` are IPython's: collections of
    /// MIME types to keep or to leave out.
    #[pyo3(signature = (include = None, exclude = None))]
    fn _repr_mimebundle_<'py>(
        &self,
        py: Python<'py>,
        include: Option<&Bound<'py, PyAny>>,
        exclude: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        const HTML: &str = "text/html";
        const SVG: &str = "image/svg+xml";
        let listed = |set: Option<&Bound<'py, PyAny>>, mime: &str| -> PyResult<bool> {
            set.map_or(Ok(false), |s| s.contains(mime))
        };
        let wanted = |mime: &str| -> PyResult<bool> {
            Ok((include.is_none() || listed(include, mime)?) && !listed(exclude, mime)?)
        };
        let bundle = PyDict::new(py);
        let mut page_shown = false;
        if wanted(HTML)? {
            match self.iframe() {
                Ok(html) => {
                    bundle.set_item(HTML, html)?;
                    page_shown = true;
                }
                // Too large for the page: the drawing stands in for it.
                Err(e) if e.is_instance_of::<PyValueError>(py) => {}
                Err(e) => return Err(e),
            }
        }
        if wanted(SVG)?
            && (listed(include, SVG)? || !page_shown || self.nodes() <= SVG_IN_CELL_NODES)
        {
            bundle.set_item(SVG, self.svg()?)?;
        }
        Ok(bundle)
    }

    /// The step-through page: one self-contained HTML file.
    fn html(&self) -> PyResult<String> {
        self.page()
    }

    /// The static drawing as SVG text.
    #[pyo3(name = "svg")]
    fn py_svg(&self) -> PyResult<String> {
        self.svg()
    }

    /// The drawing in Graphviz's DOT language (micrograd's `Digraph.source`).
    #[getter]
    fn source(&self) -> String {
        let snap = self.snap.lock().unwrap_or_else(|e| e.into_inner());
        viz::to_dot(&snap.graph, snap.root, &self.opts)
    }

    /// Writes the drawing to `path`, in the format its extension names
    /// (`.html` the page, `.svg`, `.dot`), replacing the file whole or not
    /// at all.
    fn save(&self, path: std::path::PathBuf) -> PyResult<()> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase());
        let text = match ext.as_deref() {
            Some("html" | "htm") => self.page()?,
            Some("svg") => self.svg()?,
            Some("dot" | "gv") => self.source(),
            _ => {
                return Err(PyValueError::new_err(format!(
                    "cannot tell the format of {}: use a name ending in .html, .svg or .dot",
                    path.display()
                )));
            }
        };
        viz::write_atomic(&path, text.as_bytes())
            .map_err(|e| PyOSError::new_err(format!("cannot write {}: {e}", path.display())))
    }

    fn __repr__(&self) -> String {
        let snap = self.snap.lock().unwrap_or_else(|e| e.into_inner());
        format!(
            "<backprop.Drawing of {:?}, {} nodes>",
            self.title,
            snap.graph.len()
        )
    }
}

/// micrograd's `draw_dot(root, format='svg', rankdir='LR')`: a drawing of
/// the graph under `root`, with each node's `label | data | grad`.
#[pyfunction]
#[pyo3(signature = (root, format = "svg", rankdir = "LR"))]
pub fn draw_dot(root: &Bound<'_, PyValue>, format: &str, rankdir: &str) -> PyResult<Drawing> {
    if !format.eq_ignore_ascii_case("svg") {
        return Err(PyValueError::new_err(format!(
            "draw_dot draws SVG (format='svg'), got format={format:?}; save the page with \
             .save('graph.html')"
        )));
    }
    let rankdir: RankDir = rankdir.parse().map_err(PyValueError::new_err)?;
    Drawing::of(
        root.get(),
        DotOptions {
            rankdir,
            show_grad: true,
        },
    )
}

/// The forward and backward pass of a graph, step by step: `str()` gives
/// the text of `backprop explain`, `to_dict()` its `--json` data.
#[pyclass(frozen, name = "Explanation", module = "backprop")]
pub struct PyExplanation {
    e: Explanation,
}

#[pymethods]
impl PyExplanation {
    fn __str__(&self) -> String {
        self.e.to_text(&TextOptions::default())
    }

    fn __repr__(&self) -> String {
        format!(
            "<backprop.Explanation of {:?}: {} nodes, {} backward steps>",
            self.e.output,
            self.e.nodes.len(),
            self.e.steps.len()
        )
    }

    /// The explanation as JSON text (what `backprop explain --json` prints).
    fn to_json(&self) -> String {
        self.e.to_json()
    }

    /// The explanation as Python data (dicts and lists).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py.import("json")?
            .call_method1("loads", (self.e.to_json(),))
    }

    /// Each labelled input's gradient, by name.
    #[getter]
    fn grads(&self) -> Vec<(String, f64)> {
        self.e.grads.clone()
    }

    /// The output's value.
    #[getter]
    fn value(&self) -> f64 {
        self.e.value
    }

    fn _repr_html_(&self) -> String {
        format!("<pre>{}</pre>", attribute(&self.__str__()))
    }
}

/// The explanation of the graph under `root` (see `Explanation`).
#[pyfunction]
pub fn explain(root: &Bound<'_, PyValue>) -> PyResult<PyExplanation> {
    let snap = Snapshot::of(root.get())?;
    Ok(PyExplanation {
        e: snap.explanation(),
    })
}

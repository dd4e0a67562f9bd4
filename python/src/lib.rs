//! `backprop._backprop`: the Python extension module of the `backprop-rs`
//! package. The Python package `backprop` (in `python/backprop/`) re-exports
//! it under micrograd's module names (`backprop.engine`, `backprop.nn`).
//!
//! Threads: a `Value` may be passed to and used from any Python thread. Each
//! graph is behind a lock that is only taken with the GIL held and only over
//! Rust code, so two threads never interleave inside one operation; to build
//! in parallel, give each thread its own `backprop.Graph`.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

mod gpt;
mod graph;
mod nn;
mod value;
mod viz;

use graph::Shared;
use value::PyValue;

static DEFAULT: OnceLock<Arc<Shared>> = OnceLock::new();

thread_local! {
    /// The graphs entered with `with backprop.Graph():` on this thread.
    static ENTERED: RefCell<Vec<Arc<Shared>>> = const { RefCell::new(Vec::new()) };
}

fn default_shared() -> Arc<Shared> {
    DEFAULT.get_or_init(Shared::new).clone()
}

/// The graph new `Value`s go to: the innermost `with backprop.Graph()` of
/// this thread, else the default graph.
pub(crate) fn current_graph() -> Arc<Shared> {
    ENTERED
        .with(|e| e.borrow().last().cloned())
        .unwrap_or_else(default_shared)
}

/// The error for a value whose graph was reset after it was made.
pub(crate) fn stale_error(g: &Shared) -> PyErr {
    PyRuntimeError::new_err(format!(
        "this Value belongs to graph {}, which was reset after the value was made \
         (Graph.reset() drops every value of the graph); make it again",
        g.serial
    ))
}

/// A graph that values live in. Values go to the default graph unless a
/// `with Graph():` block is open on the thread. Nodes that no Python object
/// can reach are freed automatically; `reset()` frees every node at once.
#[pyclass(frozen, name = "Graph", module = "backprop")]
pub struct PyGraph {
    pub(crate) g: Arc<Shared>,
}

#[pymethods]
impl PyGraph {
    #[new]
    fn py_new() -> Self {
        Self { g: Shared::new() }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        let g = slf.get().g.clone();
        ENTERED.with(|e| e.borrow_mut().push(g));
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyTuple>) -> bool {
        ENTERED.with(|e| {
            let mut e = e.borrow_mut();
            if let Some(k) = e.iter().rposition(|g| Arc::ptr_eq(g, &self.g)) {
                e.remove(k);
            }
        });
        false
    }

    /// Drops every node of the graph: values made before are refused
    /// afterwards (a `RuntimeError` names the reset).
    fn reset(&self) {
        self.g.lock().reset();
    }

    /// Drops every node that no Python object can reach now (done
    /// automatically when the graph has doubled).
    fn compact(&self) {
        self.g.lock().compact();
    }

    /// How many nodes the graph holds now.
    fn __len__(&self) -> usize {
        self.g.lock().graph.len()
    }

    /// How many nodes Python objects hold directly.
    #[getter]
    fn live_values(&self) -> usize {
        self.g.lock().live_slots()
    }

    /// Bytes of memory the graph's arena holds.
    #[getter]
    fn memory_bytes(&self) -> usize {
        self.g.lock().graph.memory_bytes()
    }

    /// How many times the graph was compacted.
    #[getter]
    fn compactions(&self) -> u64 {
        self.g.lock().compactions
    }

    fn __repr__(&self) -> String {
        let s = self.g.lock();
        format!(
            "Graph(id={}, nodes={}, values={})",
            self.g.serial,
            s.graph.len(),
            s.live_slots()
        )
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyGraph>()
            .is_ok_and(|o| Arc::ptr_eq(&o.get().g, &self.g))
    }

    fn __hash__(&self) -> u64 {
        self.g.serial
    }
}

/// The graph new values go to now.
#[pyfunction]
fn current() -> PyGraph {
    PyGraph { g: current_graph() }
}

/// The graph every value goes to outside `with Graph():` blocks.
#[pyfunction]
fn default_graph() -> PyGraph {
    PyGraph {
        g: default_shared(),
    }
}

/// The graph of `v`.
#[pyfunction]
fn graph_of(v: &Bound<'_, PyValue>) -> PyGraph {
    PyGraph {
        g: v.get().g.clone(),
    }
}

/// One `Value` or a sequence of them, as a list of borrowed values.
fn values<'py>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Vec<Bound<'py, PyValue>>> {
    if let Ok(v) = obj.cast::<PyValue>() {
        return Ok(vec![v.clone()]);
    }
    let items: Vec<Bound<'py, PyAny>> = obj
        .try_iter()
        .map_err(|_| {
            PyTypeError::new_err(format!("{what} must be a Value or a sequence of Values"))
        })?
        .collect::<PyResult<_>>()?;
    items
        .into_iter()
        .enumerate()
        .map(|(k, x)| {
            x.cast_into::<PyValue>().map_err(|e| {
                PyTypeError::new_err(format!(
                    "{what}[{k}] must be a Value, got {}",
                    e.into_inner()
                        .get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                ))
            })
        })
        .collect()
}

/// Checks that every value is of `g`'s graph and epoch; their slots.
fn slots_of(g: &Arc<Shared>, vs: &[Bound<'_, PyValue>]) -> PyResult<Vec<u32>> {
    let epoch = g.lock().epoch;
    vs.iter()
        .map(|v| {
            let v = v.get();
            if !Arc::ptr_eq(&v.g, g) {
                return Err(PyValueError::new_err(format!(
                    "cannot combine values from two different graphs (graph {} and graph {})",
                    g.serial, v.g.serial
                )));
            }
            if v.epoch != epoch {
                return Err(stale_error(g));
            }
            Ok(v.slot)
        })
        .collect()
}

fn wrap_ids(g: &Arc<Shared>, ids: Vec<backprop::NodeId>) -> Vec<PyValue> {
    let mut s = g.lock();
    let epoch = s.epoch;
    ids.into_iter()
        .map(|id| PyValue {
            g: g.clone(),
            slot: s.hold(id),
            epoch,
        })
        .collect()
}

fn to_tuple<'py>(py: Python<'py>, vs: Vec<PyValue>) -> PyResult<Bound<'py, PyTuple>> {
    let objs: Vec<Bound<'py, PyValue>> = vs
        .into_iter()
        .map(|v| Bound::new(py, v))
        .collect::<PyResult<_>>()?;
    PyTuple::new(py, objs)
}

/// `torch.autograd.grad(outputs, inputs, create_graph=False)`: the
/// gradients of `outputs` (one Value) with respect to each of `inputs`, as
/// a tuple of Values. With `create_graph=True` they are nodes of the graph,
/// to differentiate again; without, new inputs holding the numbers. An
/// input the output does not depend on gets 0. `.grad` fields are not
/// touched.
#[pyfunction]
#[pyo3(signature = (outputs, inputs, create_graph = false, retain_graph = None))]
fn grad<'py>(
    py: Python<'py>,
    outputs: &Bound<'py, PyAny>,
    inputs: &Bound<'py, PyAny>,
    create_graph: bool,
    retain_graph: Option<bool>,
) -> PyResult<Bound<'py, PyTuple>> {
    let _ = retain_graph; // graphs are always kept
    let out = values(outputs, "outputs")?;
    if out.len() != 1 {
        return Err(PyValueError::new_err(format!(
            "grad needs one output Value (a scalar), got {}",
            out.len()
        )));
    }
    let ins = values(inputs, "inputs")?;
    let g = out[0].get().g.clone();
    let out_slot = slots_of(&g, &out)?[0];
    let in_slots = slots_of(&g, &ins)?;
    let ids = {
        let mut s = g.lock();
        s.maybe_compact();
        let y = s.node(out_slot, s.epoch).expect("checked");
        let xs: Vec<_> = in_slots
            .iter()
            .map(|&k| s.node(k, s.epoch).expect("checked"))
            .collect();
        if create_graph {
            s.graph
                .grad(y, &xs)
                .iter()
                .map(|v| v.id())
                .collect::<Vec<_>>()
        } else {
            let numbers = s.graph.gradients(y, &xs);
            numbers.into_iter().map(|d| s.graph.value(d).id()).collect()
        }
    };
    to_tuple(py, wrap_ids(&g, ids))
}

/// The Hessian of `output` with respect to `inputs`, as a list of rows of
/// floats: `H[i][j] = d² output / d inputs[i] d inputs[j]`
/// (`torch.autograd.functional.hessian` of the same function).
#[pyfunction]
fn hessian(output: &Bound<'_, PyValue>, inputs: &Bound<'_, PyAny>) -> PyResult<Vec<Vec<f64>>> {
    let ins = values(inputs, "inputs")?;
    let g = output.get().g.clone();
    let out_slot = slots_of(&g, std::slice::from_ref(output))?[0];
    let in_slots = slots_of(&g, &ins)?;
    let mut s = g.lock();
    s.maybe_compact();
    let y = s.node(out_slot, s.epoch).expect("checked");
    let xs: Vec<_> = in_slots
        .iter()
        .map(|&k| s.node(k, s.epoch).expect("checked"))
        .collect();
    Ok(s.graph.hessian(y, &xs))
}

/// The Jacobian `J[i][j] = d outputs[i] / d inputs[j]`, as rows of floats.
#[pyfunction]
fn jacobian(outputs: &Bound<'_, PyAny>, inputs: &Bound<'_, PyAny>) -> PyResult<Vec<Vec<f64>>> {
    let outs = values(outputs, "outputs")?;
    let ins = values(inputs, "inputs")?;
    let Some(first) = outs.first() else {
        return Ok(Vec::new());
    };
    let g = first.get().g.clone();
    let out_slots = slots_of(&g, &outs)?;
    let in_slots = slots_of(&g, &ins)?;
    let s = g.lock();
    let ys: Vec<_> = out_slots
        .iter()
        .map(|&k| s.node(k, s.epoch).expect("checked"))
        .collect();
    let xs: Vec<_> = in_slots
        .iter()
        .map(|&k| s.node(k, s.epoch).expect("checked"))
        .collect();
    Ok(s.graph.jacobian(&ys, &xs))
}

/// An operand list for `linear`: Values of one graph, or numbers (which
/// become inputs of that graph).
enum Item {
    Slot(u32),
    Number(f64),
}

fn items(g: &Arc<Shared>, obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<Item>> {
    let epoch = g.lock().epoch;
    let mut out = Vec::new();
    for (k, x) in obj.try_iter()?.enumerate() {
        let x = x?;
        if let Ok(v) = x.cast::<PyValue>() {
            let v = v.get();
            if !Arc::ptr_eq(&v.g, g) {
                return Err(PyValueError::new_err(format!(
                    "cannot combine values from two different graphs ({what}[{k}] is of graph {}, \
                     the weights of graph {})",
                    v.g.serial, g.serial
                )));
            }
            if v.epoch != epoch {
                return Err(stale_error(g));
            }
            out.push(Item::Slot(v.slot));
        } else {
            let n = x.extract::<f64>().map_err(|_| {
                PyTypeError::new_err(format!("{what}[{k}] must be a Value or a number"))
            })?;
            out.push(Item::Number(n));
        }
    }
    Ok(out)
}

/// `Σ w[i] * x[i] + b` as one node (a neuron's pre-activation), with
/// `act` ('relu', 'tanh', 'sigmoid' or None) applied: what
/// `backprop.nn.Neuron` computes, in one call.
#[pyfunction]
#[pyo3(signature = (w, x, b = None, act = None))]
fn linear(
    w: &Bound<'_, PyAny>,
    x: &Bound<'_, PyAny>,
    b: Option<&Bound<'_, PyValue>>,
    act: Option<&str>,
) -> PyResult<PyValue> {
    let ws = values(w, "w")?;
    let Some(first) = ws.first() else {
        return Err(PyValueError::new_err("linear needs at least one weight"));
    };
    let g = first.get().g.clone();
    let w_slots = slots_of(&g, &ws)?;
    let xs = items(&g, x, "x")?;
    if xs.len() != ws.len() {
        return Err(PyValueError::new_err(format!(
            "linear needs as many inputs as weights: {} weights, {} inputs",
            ws.len(),
            xs.len()
        )));
    }
    let b_slot = match b {
        Some(b) => Some(slots_of(&g, std::slice::from_ref(b))?[0]),
        None => None,
    };
    let act = parse_act(act)?;
    let mut s = g.lock();
    s.maybe_compact();
    let id = {
        let e = s.epoch;
        let wv: Vec<_> = w_slots
            .iter()
            .map(|&k| s.node(k, e).expect("checked"))
            .collect();
        let xv: Vec<_> = xs
            .iter()
            .map(|it| match *it {
                Item::Slot(k) => s.node(k, e).expect("checked"),
                Item::Number(n) => s.graph.value(n),
            })
            .collect();
        let y = match b_slot {
            Some(k) => s.graph.linear(&wv, &xv, s.node(k, e).expect("checked")),
            None => s.graph.dot(&wv, &xv),
        };
        activate(y, act).id()
    };
    let slot = s.hold(id);
    Ok(PyValue {
        g: g.clone(),
        slot,
        epoch: s.epoch,
    })
}

/// The slot of a `Value` of graph `g` at `epoch`, or an error naming
/// `what[k]`.
fn slot_in(
    x: &Bound<'_, PyAny>,
    g: &Arc<Shared>,
    epoch: u64,
    what: &str,
    k: usize,
) -> PyResult<u32> {
    let v = x
        .cast::<PyValue>()
        .map_err(|_| PyTypeError::new_err(format!("{what}[{k}] must be a Value")))?;
    let v = v.get();
    if !Arc::ptr_eq(&v.g, g) {
        return Err(PyValueError::new_err(format!(
            "cannot combine values from two different graphs ({what}[{k}] is of graph {}, \
             the layer's of graph {})",
            v.g.serial, g.serial
        )));
    }
    if v.epoch != epoch {
        return Err(stale_error(g));
    }
    Ok(v.slot)
}

/// A dense layer in one call: neuron `k` computes
/// `act(Σ_i w[k][i] * x[i] + b[k])`. What `backprop.nn.Layer` calls: the
/// same nodes as one `linear` per neuron (all pre-activations, then all
/// activations, so the outputs are consecutive and the next layer's dot
/// products run over contiguous memory).
#[pyfunction]
#[pyo3(signature = (w, b, x, act = None))]
fn layer<'py>(
    py: Python<'py>,
    w: &Bound<'py, PyList>,
    b: &Bound<'py, PyList>,
    x: &Bound<'py, PyAny>,
    act: Option<&str>,
) -> PyResult<Bound<'py, PyList>> {
    let act = parse_act(act)?;
    let nout = w.len();
    if nout == 0 || b.len() != nout {
        return Err(PyValueError::new_err(format!(
            "layer needs one bias per neuron and at least one neuron: {nout} weight rows, {} biases",
            b.len()
        )));
    }
    let first_row = w.get_item(0)?;
    let first = first_row
        .try_iter()?
        .next()
        .transpose()?
        .ok_or_else(|| PyValueError::new_err("layer needs at least one weight per neuron"))?;
    let g = first
        .cast::<PyValue>()
        .map_err(|_| PyTypeError::new_err("w[0][0] must be a Value"))?
        .get()
        .g
        .clone();
    let epoch = g.lock().epoch;
    let xs = items(&g, x, "x")?;
    let nin = xs.len();
    let mut w_slots = Vec::with_capacity(nout * nin);
    for (k, row) in w.iter().enumerate() {
        let before = w_slots.len();
        for (i, v) in row.try_iter()?.enumerate() {
            w_slots.push(slot_in(&v?, &g, epoch, &format!("w[{k}]"), i)?);
        }
        if w_slots.len() - before != nin {
            return Err(PyValueError::new_err(format!(
                "neuron {k} has {} weights but the input has {nin} values",
                w_slots.len() - before
            )));
        }
    }
    let b_slots: Vec<u32> = b
        .iter()
        .enumerate()
        .map(|(k, v)| slot_in(&v, &g, epoch, "b", k))
        .collect::<PyResult<_>>()?;
    let outs: Vec<PyValue> = {
        let mut s = g.lock();
        s.maybe_compact();
        let ids: Vec<backprop::NodeId> = {
            let e = s.epoch;
            let xv: Vec<_> = xs
                .iter()
                .map(|it| match *it {
                    Item::Slot(k) => s.node(k, e).expect("checked"),
                    Item::Number(n) => s.graph.value(n),
                })
                .collect();
            let mut wv = Vec::with_capacity(nin);
            let pre: Vec<_> = (0..nout)
                .map(|k| {
                    wv.clear();
                    wv.extend(
                        w_slots[k * nin..(k + 1) * nin]
                            .iter()
                            .map(|&j| s.node(j, e).expect("checked")),
                    );
                    s.graph
                        .linear(&wv, &xv, s.node(b_slots[k], e).expect("checked"))
                })
                .collect();
            pre.into_iter().map(|y| activate(y, act).id()).collect()
        };
        ids.into_iter()
            .map(|id| PyValue {
                g: g.clone(),
                slot: s.hold(id),
                epoch: s.epoch,
            })
            .collect()
    };
    let objs: Vec<Bound<'py, PyValue>> = outs
        .into_iter()
        .map(|v| Bound::new(py, v))
        .collect::<PyResult<_>>()?;
    PyList::new(py, objs)
}

fn parse_act(act: Option<&str>) -> PyResult<Option<backprop::Op>> {
    match act {
        None => Ok(None),
        Some("relu") => Ok(Some(backprop::Op::Relu)),
        Some("tanh") => Ok(Some(backprop::Op::Tanh)),
        Some("sigmoid") => Ok(Some(backprop::Op::Sigmoid)),
        Some(other) => Err(PyValueError::new_err(format!(
            "unknown activation {other:?} (expected 'relu', 'tanh', 'sigmoid' or None)"
        ))),
    }
}

fn activate(y: backprop::Value<'_>, act: Option<backprop::Op>) -> backprop::Value<'_> {
    match act {
        None => y,
        Some(backprop::Op::Relu) => y.relu(),
        Some(backprop::Op::Tanh) => y.tanh(),
        Some(_) => y.sigmoid(),
    }
}

/// Drops every node of the current graph (the default one outside `with
/// Graph():`): a documented boundary for loops that want memory back at once. Values
/// made before are refused afterwards.
#[pyfunction]
fn reset() {
    current_graph().lock().reset();
}

#[pymodule]
fn _backprop(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyValue>()?;
    m.add_class::<PyGraph>()?;
    m.add_class::<viz::Drawing>()?;
    m.add_class::<viz::PyExplanation>()?;
    m.add_function(wrap_pyfunction!(current, m)?)?;
    m.add_function(wrap_pyfunction!(default_graph, m)?)?;
    m.add_function(wrap_pyfunction!(graph_of, m)?)?;
    m.add_function(wrap_pyfunction!(grad, m)?)?;
    m.add_function(wrap_pyfunction!(hessian, m)?)?;
    m.add_function(wrap_pyfunction!(jacobian, m)?)?;
    m.add_function(wrap_pyfunction!(linear, m)?)?;
    m.add_function(wrap_pyfunction!(layer, m)?)?;
    m.add_function(wrap_pyfunction!(reset, m)?)?;
    m.add_function(wrap_pyfunction!(viz::draw_dot, m)?)?;
    m.add_function(wrap_pyfunction!(viz::explain, m)?)?;
    m.add_function(wrap_pyfunction!(nn::fit_mlp, m)?)?;
    m.add_class::<gpt::PyGpt>()?;
    m.add_function(wrap_pyfunction!(gpt::gpt_train, m)?)?;
    m.add_function(wrap_pyfunction!(gpt::gpt_read_documents, m)?)?;
    Ok(())
}

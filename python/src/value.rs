//! `backprop.Value`: micrograd's `Value` over the Rust engine.

use std::sync::Arc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PySet, PyString};

use backprop::{Op, Value};

use crate::graph::{Shared, State};
use crate::{current_graph, stale_error};

/// A scalar in a graph, with micrograd's API: `.data`, `.grad`, `.label`,
/// `_op`, `_prev`, the operators and `backward()`.
#[pyclass(frozen, subclass, name = "Value", module = "backprop")]
pub struct PyValue {
    pub g: Arc<Shared>,
    pub slot: u32,
    pub epoch: u64,
}

impl Drop for PyValue {
    fn drop(&mut self) {
        self.g.release(self.slot, self.epoch);
    }
}

/// An operand: a value of some graph, or a number.
enum Operand<'a> {
    Value(&'a PyValue),
    Number(f64),
}

/// `obj` as an operand, or `None` when it is neither a `Value` nor a real
/// number (the operator then returns `NotImplemented`, as Python expects).
fn operand<'a>(obj: &'a Bound<'_, PyAny>) -> Option<Operand<'a>> {
    if let Ok(v) = obj.cast::<PyValue>() {
        return Some(Operand::Value(v.get()));
    }
    if obj.is_instance_of::<PyString>() {
        return None;
    }
    obj.extract::<f64>().ok().map(Operand::Number)
}

impl PyValue {
    /// Runs `f` on this value's node, with the graph locked.
    pub fn with<R>(&self, f: impl FnOnce(&State, Value<'_>) -> R) -> PyResult<R> {
        let s = self.g.lock();
        let v = s
            .node(self.slot, self.epoch)
            .ok_or_else(|| stale_error(&self.g))?;
        Ok(f(&s, v))
    }

    /// A new Python object for node `id` of `state`, holding its slot.
    fn wrap(g: &Arc<Shared>, s: &mut State, id: backprop::NodeId) -> PyValue {
        let slot = s.hold(id);
        PyValue {
            g: g.clone(),
            slot,
            epoch: s.epoch,
        }
    }

    /// Builds a node from this value alone.
    pub fn unary(&self, f: impl for<'g> FnOnce(Value<'g>) -> Value<'g>) -> PyResult<PyValue> {
        let mut s = self.g.lock();
        if s.epoch != self.epoch {
            return Err(stale_error(&self.g));
        }
        s.maybe_compact();
        let id = {
            let x = s.node(self.slot, self.epoch).expect("epoch checked");
            f(x).id()
        };
        Ok(Self::wrap(&self.g, &mut s, id))
    }

    /// Builds a node from this value and `other` (`self op other`, or
    /// `other op self` when `reflected`); `None` for an operand of another
    /// type.
    fn binary(
        &self,
        other: &Bound<'_, PyAny>,
        reflected: bool,
        f: impl for<'g> FnOnce(Value<'g>, Value<'g>) -> Value<'g>,
    ) -> PyResult<Option<PyValue>> {
        let Some(other) = operand(other) else {
            return overflow_or_none(other);
        };
        if let Operand::Value(o) = &other {
            check_same_graph(self, o)?;
        }
        let mut s = self.g.lock();
        if s.epoch != self.epoch {
            return Err(stale_error(&self.g));
        }
        if let Operand::Value(o) = &other
            && o.epoch != s.epoch
        {
            return Err(stale_error(&self.g));
        }
        s.maybe_compact();
        let id = {
            let x = s.node(self.slot, self.epoch).expect("epoch checked");
            let y = match other {
                Operand::Value(o) => s.node(o.slot, o.epoch).expect("epoch checked"),
                Operand::Number(c) => s.graph.value(c),
            };
            let (a, b) = if reflected { (y, x) } else { (x, y) };
            f(a, b).id()
        };
        Ok(Some(Self::wrap(&self.g, &mut s, id)))
    }
}

/// `None` (the operator returns `NotImplemented`), or an `OverflowError`
/// for an int too large for a float (which Python would otherwise report
/// as an unsupported operand type).
fn overflow_or_none(obj: &Bound<'_, PyAny>) -> PyResult<Option<PyValue>> {
    if obj.is_instance_of::<pyo3::types::PyInt>() {
        return Err(pyo3::exceptions::PyOverflowError::new_err(
            "int too large to convert to float",
        ));
    }
    Ok(None)
}

/// Refuses to combine values of two graphs.
pub fn check_same_graph(a: &PyValue, b: &PyValue) -> PyResult<()> {
    if Arc::ptr_eq(&a.g, &b.g) {
        Ok(())
    } else {
        Err(PyValueError::new_err(format!(
            "cannot combine values from two different graphs (graph {} and graph {}); \
             build an expression from values of one backprop.Graph",
            a.g.serial, b.g.serial
        )))
    }
}

/// The new value as a Python object, or `NotImplemented` for an operand
/// of another type (so that Python tries the other operand, then raises
/// `TypeError`).
fn not_implemented(py: Python<'_>, v: Option<PyValue>) -> PyResult<Py<PyAny>> {
    match v {
        Some(v) => Ok(Bound::new(py, v)?.into_any().unbind()),
        None => Ok(py.NotImplemented()),
    }
}

/// A Python float's `repr`, as micrograd's `__repr__` prints it.
fn float_repr(py: Python<'_>, x: f64) -> PyResult<String> {
    Ok(PyFloat::new(py, x).repr()?.to_string())
}

/// micrograd's name for an op: `+`, `*`, `**2`, `ReLU`, `tanh`, `exp`, ...
fn op_name(op: Op, exponent: Option<f64>) -> String {
    match (op, exponent) {
        (Op::Leaf, _) => String::new(),
        (Op::PowF, Some(p)) if p.fract() == 0.0 && p.abs() < 1e15 => format!("**{}", p as i64),
        (Op::PowF, Some(p)) => format!("**{p}"),
        (Op::Relu, _) => "ReLU".into(),
        (op, _) => op.symbol().into(),
    }
}

#[pymethods]
impl PyValue {
    /// `Value(data, label='')`: a new input in the current graph.
    #[new]
    #[pyo3(signature = (data, _children = None, _op = None, label = None))]
    fn py_new(
        data: &Bound<'_, PyAny>,
        _children: Option<&Bound<'_, PyAny>>,
        _op: Option<&Bound<'_, PyAny>>,
        label: Option<String>,
    ) -> PyResult<Self> {
        if let Some(c) = _children
            && c.len().unwrap_or(1) != 0
        {
            return Err(PyTypeError::new_err(
                "Value(data, _children=...) is not needed: backprop records the operands of \
                 every operation itself",
            ));
        }
        let x = match operand(data) {
            Some(Operand::Number(x)) => x,
            Some(Operand::Value(_)) => {
                return Err(PyTypeError::new_err(
                    "Value() needs a number (int or float), got a Value; use the Value itself",
                ));
            }
            None if data.is_instance_of::<pyo3::types::PyInt>() => {
                return Err(pyo3::exceptions::PyOverflowError::new_err(
                    "Value() got an int too large to convert to a float",
                ));
            }
            None => {
                let ty = data.get_type().name()?.to_string();
                let shown = data.repr().map(|r| r.to_string()).unwrap_or_default();
                let shown: String = shown.chars().take(60).collect();
                return Err(PyTypeError::new_err(format!(
                    "Value() needs a real number (int or float), got {ty} {shown}"
                )));
            }
        };
        let g = current_graph();
        let mut s = g.lock();
        s.maybe_compact();
        let id = {
            // Every input made here carries a label, '' when none is given:
            // that is how explanations tell it from the constants that
            // operators make for number operands (which have none).
            let v = s.graph.value(x);
            v.set_label(label.unwrap_or_default());
            v.id()
        };
        Ok(Self::wrap(&g, &mut s, id))
    }

    /// The number this node holds.
    #[getter]
    fn get_data(&self) -> PyResult<f64> {
        self.with(|_, v| v.data())
    }

    #[setter]
    fn set_data(&self, x: f64) -> PyResult<()> {
        self.with(|_, v| v.set_data(x))
    }

    /// d(output)/d(this node), set by `backward()`.
    #[getter]
    fn get_grad(&self) -> PyResult<f64> {
        self.with(|_, v| v.grad())
    }

    #[setter]
    fn set_grad(&self, x: f64) -> PyResult<()> {
        self.with(|_, v| v.set_grad(x))
    }

    /// The name shown in drawings and explanations ('' for none).
    #[getter]
    fn get_label(&self) -> PyResult<String> {
        self.with(|_, v| v.label().unwrap_or_default())
    }

    #[setter]
    fn set_label(&self, label: String) -> PyResult<()> {
        self.with(|_, v| v.set_label(label))
    }

    /// The op that made this node, as micrograd names it ('' for an input).
    #[getter]
    fn _op(&self) -> PyResult<String> {
        self.with(|_, v| op_name(v.op(), v.exponent()))
    }

    /// The operands of the op that made this node, as a set (micrograd's
    /// `_prev`); empty for an input.
    #[getter]
    fn _prev<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PySet>> {
        let children: Vec<PyValue> = {
            let mut s = self.g.lock();
            let ids: Vec<_> = s
                .node(self.slot, self.epoch)
                .ok_or_else(|| stale_error(&self.g))?
                .children()
                .iter()
                .map(|c| c.id())
                .collect();
            ids.into_iter()
                .map(|id| Self::wrap(&self.g, &mut s, id))
                .collect()
        };
        let set = PySet::empty(py)?;
        for c in children {
            set.add(Bound::new(py, c)?)?;
        }
        Ok(set)
    }

    /// Back-propagates from this value: `self.grad` becomes 1 and every node
    /// it depends on gets d(self)/d(node) added to its `.grad`, as in
    /// micrograd.
    fn backward(&self) -> PyResult<()> {
        self.with(|_, v| {
            v.set_grad(0.0);
            v.backward();
        })
    }

    fn relu(&self) -> PyResult<PyValue> {
        self.unary(|x| x.relu())
    }

    fn tanh(&self) -> PyResult<PyValue> {
        self.unary(|x| x.tanh())
    }

    fn exp(&self) -> PyResult<PyValue> {
        self.unary(|x| x.exp())
    }

    fn log(&self) -> PyResult<PyValue> {
        self.unary(|x| x.ln())
    }

    fn sigmoid(&self) -> PyResult<PyValue> {
        self.unary(|x| x.sigmoid())
    }

    fn sqrt(&self) -> PyResult<PyValue> {
        self.unary(|x| x.sqrt())
    }

    fn __neg__(&self) -> PyResult<PyValue> {
        self.unary(|x| -x)
    }

    fn __pos__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __add__(&self, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        not_implemented(o.py(), self.binary(o, false, |a, b| a + b)?)
    }

    fn __radd__(&self, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        not_implemented(o.py(), self.binary(o, true, |a, b| a + b)?)
    }

    fn __sub__(&self, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        not_implemented(o.py(), self.binary(o, false, |a, b| a - b)?)
    }

    fn __rsub__(&self, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        not_implemented(o.py(), self.binary(o, true, |a, b| a - b)?)
    }

    fn __mul__(&self, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        not_implemented(o.py(), self.binary(o, false, |a, b| a * b)?)
    }

    fn __rmul__(&self, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        not_implemented(o.py(), self.binary(o, true, |a, b| a * b)?)
    }

    fn __truediv__(&self, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        not_implemented(o.py(), self.binary(o, false, |a, b| a / b)?)
    }

    fn __rtruediv__(&self, o: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        not_implemented(o.py(), self.binary(o, true, |a, b| a / b)?)
    }

    /// `self ** p`: a constant number `p` gives one `**p` node (micrograd's
    /// op); a `Value` exponent differentiates through both. A negative base
    /// with a fractional exponent gives NaN, as the engine and PyTorch do
    /// (no complex numbers).
    fn __pow__(&self, o: &Bound<'_, PyAny>, modulo: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if !modulo.is_none() {
            return Err(PyTypeError::new_err(
                "pow() with a modulus is not defined for Value",
            ));
        }
        let r = match operand(o) {
            Some(Operand::Number(p)) => Some(self.unary(|x| x.powf(p))?),
            Some(Operand::Value(_)) => self.binary(o, false, |a, b| a.pow(b))?,
            None => return overflow_or_none(o).and_then(|r| not_implemented(o.py(), r)),
        };
        not_implemented(o.py(), r)
    }

    fn __rpow__(&self, o: &Bound<'_, PyAny>, modulo: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if !modulo.is_none() {
            return Err(PyTypeError::new_err(
                "pow() with a modulus is not defined for Value",
            ));
        }
        not_implemented(o.py(), self.binary(o, true, |a, b| a.pow(b))?)
    }

    /// Same node (values wrap nodes; two wrappers of one node are equal).
    /// Ordering comparisons are not defined, as in micrograd.
    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other.cast::<PyValue>().is_ok_and(|o| {
            let o = o.get();
            Arc::ptr_eq(&self.g, &o.g) && self.slot == o.slot && self.epoch == o.epoch
        })
    }

    fn __hash__(&self) -> u64 {
        (self.g.serial << 40) ^ (self.epoch << 32) ^ u64::from(self.slot)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        match self.with(|_, v| (v.data(), v.grad())) {
            Ok((d, g)) => Ok(format!(
                "Value(data={}, grad={})",
                float_repr(py, d)?,
                float_repr(py, g)?
            )),
            Err(_) => Ok(format!("Value(<graph {} was reset>)", self.g.serial)),
        }
    }

    /// Pickling and `copy`: an input is saved as its data, label and grad
    /// (it becomes a new input of the current graph when loaded). A
    /// computed value cannot be, as in PyTorch ("only tensors created
    /// explicitly by the user support the deepcopy protocol"): its graph
    /// does not travel with it.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let (leaf, data, label, grad) = slf.get().with(|_, v| {
            (
                v.op() == Op::Leaf,
                v.data(),
                v.label().unwrap_or_default(),
                v.grad(),
            )
        })?;
        if !leaf {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "only inputs (Values made with Value(...)) can be copied or pickled: a computed \
                 value's graph does not travel with it",
            ));
        }
        let cls = slf.get_type();
        (cls, (data,), (label, grad))
            .into_pyobject(py)
            .map(|t| t.into_any())
    }

    fn __setstate__(&self, state: (String, f64)) -> PyResult<()> {
        self.with(|_, v| {
            v.set_label(state.0);
            v.set_grad(state.1);
        })
    }

    fn __copy__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let reduced = Self::__reduce__(slf)?;
        let (cls, args, state): (
            Bound<'py, PyAny>,
            Bound<'py, pyo3::types::PyTuple>,
            (String, f64),
        ) = reduced.extract()?;
        let new = cls.call1(args)?;
        new.cast::<PyValue>()?.get().__setstate__(state)?;
        Ok(new)
    }

    fn __deepcopy__<'py>(
        slf: &Bound<'py, Self>,
        _memo: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Self::__copy__(slf)
    }
}

//! Ids and marks know their graph and generation: a foreign or stale
//! `NodeId` or `Mark` is a clear panic at every entry point, never a silent
//! read of another node. Clones keep accepting the ids of the nodes they
//! copied (multi-threaded training relies on it).

use std::panic::{AssertUnwindSafe, catch_unwind};

use backprop::Graph;
use backprop::nn::{Mlp, MlpConfig, TrainConfig, Trainer};
use backprop::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};

/// The panic message of `f`.
fn panic_message(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

fn assert_foreign(msg: &str) {
    assert!(msg.contains("belongs to another graph"), "message: {msg}");
}

fn assert_stale(msg: &str) {
    assert!(msg.contains("is stale"), "message: {msg}");
}

/// Two graphs whose nodes sit at the same indices: the classic silent read.
fn twins() -> (Graph, Graph) {
    let (a, b) = (Graph::new(), Graph::new());
    for k in 0..4 {
        a.value(k as f64);
        b.value(100.0 + k as f64);
    }
    (a, b)
}

#[test]
fn get_refuses_a_foreign_id() {
    let (a, b) = twins();
    let id = a.get(a.value(1.0).id()).id();
    b.value(5.0);
    assert!(!b.contains(id));
    assert_foreign(&panic_message(|| {
        b.get(id);
    }));
}

#[test]
fn get_refuses_a_stale_id_even_when_its_index_is_reused() {
    let mut g = Graph::new();
    let keep = g.value(1.0).id();
    let mark = g.mark();
    let gone = g.value(2.0).id();
    g.truncate(mark);
    let new = g.value(3.0).id();
    assert_eq!(gone.index(), new.index());
    assert_ne!(gone, new);
    assert!(g.contains(keep) && g.contains(new) && !g.contains(gone));
    assert_stale(&panic_message(|| {
        g.get(gone);
    }));
    assert_eq!(g.get(new).data(), 3.0);
}

#[test]
fn ids_before_the_mark_survive_many_truncations() {
    let mut g = Graph::new();
    let w = g.value(1.0).id();
    let mark = g.mark();
    for step in 0..1000 {
        let x = g.value(step as f64);
        let _ = g.get(w) * x;
        g.truncate(mark);
    }
    assert_eq!(g.get(w).data(), 1.0);
    // An id taken in the loop's last generation is still refused afterwards.
    let inner = g.value(0.0).id();
    g.truncate(mark);
    assert_stale(&panic_message(|| {
        g.get(inner);
    }));
}

#[test]
fn truncate_refuses_foreign_and_stale_marks() {
    let (mut a, b) = twins();
    let foreign = b.mark();
    assert_foreign(&panic_message(|| a.truncate(foreign)));

    let mut g = Graph::new();
    let m0 = g.mark();
    g.value(1.0);
    g.value(2.0);
    let m2 = g.mark();
    g.truncate(m0);
    g.value(3.0);
    g.value(4.0);
    g.value(5.0);
    // The graph is longer than m2 again, but its first nodes are not m2's.
    assert_stale(&panic_message(|| g.truncate(m2)));
    g.truncate(m0);
    assert!(g.is_empty());
}

#[test]
fn linear_runs_refuses_foreign_ids() {
    let (a, b) = twins();
    let w = a.value(1.0).id();
    assert_foreign(&panic_message(|| {
        b.linear_runs(w, w, 1, w);
    }));
}

#[test]
fn optimizers_refuse_foreign_and_stale_ids() {
    let (mut a, b) = twins();
    let p = b.value(1.0).id();
    let mut sgd = Sgd::new(SgdConfig::default());
    assert_foreign(&panic_message(|| sgd.step(&mut a, &[p])));
    let mut adam = Adam::new(AdamConfig::default());
    assert_foreign(&panic_message(|| adam.step(&mut a, &[p])));

    let mut g = Graph::new();
    let mark = g.mark();
    let p = g.value(1.0).id();
    g.truncate(mark);
    g.value(7.0);
    assert_stale(&panic_message(|| sgd.step(&mut g, &[p])));
    assert_eq!(g.get(g.value(0.0).id()).data(), 0.0);
}

#[test]
fn mlp_forward_predict_and_zero_grad_refuse_another_graph() {
    let a = Graph::new();
    let model = Mlp::new(&a, 2, &[3, 1], &MlpConfig::default()).unwrap();
    let b = Graph::new();
    for k in 0..100 {
        b.value(k as f64);
    }
    assert_foreign(&panic_message(|| {
        model.predict(&b, &[1.0, 2.0]);
    }));
    assert_foreign(&panic_message(|| {
        let x = [b.value(1.0), b.value(2.0)];
        model.forward(&b, &x);
    }));
    assert_foreign(&panic_message(|| {
        // Inputs not consecutive: the per-value path.
        let x = [b.value(1.0), b.value(0.0) * 2.0];
        model.forward(&b, &x);
    }));
    assert_foreign(&panic_message(|| model.zero_grad(&b)));
    // On its own graph it works.
    assert_eq!(model.predict(&a, &[1.0, 2.0]).len(), 1);
}

#[test]
fn trainer_refuses_a_model_from_another_graph() {
    let a = Graph::new();
    let model = Mlp::new(&a, 2, &[3, 1], &MlpConfig::default()).unwrap();
    let b = Graph::new();
    for k in 0..100 {
        b.value(k as f64);
    }
    let opt = Box::new(Sgd::new(SgdConfig::default()));
    assert_foreign(&panic_message(|| {
        Trainer::new(b, model, opt, TrainConfig::default());
    }));
}

#[test]
fn clones_accept_the_ids_they_copied_and_nothing_newer() {
    let mut g = Graph::new();
    let w = g.value(2.0).id();
    let mark = g.mark();
    let mut c = g.clone();
    // Ids and marks of copied nodes work on the copy.
    assert_eq!(c.get(w).data(), 2.0);
    let on_copy = c.value(5.0).id();
    let on_source = g.value(6.0).id();
    assert_eq!(on_copy.index(), on_source.index());
    // Nodes made after the copy, on either side, are not the other's.
    assert_foreign(&panic_message(|| {
        g.get(on_copy);
    }));
    assert_foreign(&panic_message(|| {
        c.get(on_source);
    }));
    c.truncate(mark);
    g.truncate(mark);
    assert_eq!((c.len(), g.len()), (1, 1));
    // A clone of a clone still accepts the first graph's ids.
    let cc = c.clone();
    assert_eq!(cc.get(w).data(), 2.0);
}

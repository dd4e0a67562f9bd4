//! A training step allocates nothing once its buffers have grown: counted
//! with a global allocator (this test binary only), on the thread that
//! trains, so that the test harness's own threads cannot disturb the count.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use backprop::Graph;
use backprop::data;
use backprop::nn::{Mlp, MlpConfig, TrainConfig, Trainer};
use backprop::optim::{Sgd, SgdConfig};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Whether allocations on this thread are counted.
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

fn count() {
    if COUNTED.with(Cell::get) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn steady_state_training_step_does_not_allocate() {
    let d = data::moons(100, 0.1, 1337);
    let g = Graph::new();
    let model = Mlp::new(&g, 2, &[16, 16, 1], &MlpConfig::default()).unwrap();
    let opt = Sgd::new(SgdConfig {
        lr: 1.0,
        ..Default::default()
    });
    // One thread: every allocation of a step happens on this one.
    let config = TrainConfig {
        threads: 1,
        ..TrainConfig::default()
    };
    let mut t = Trainer::new(g, model, Box::new(opt), config);
    for _ in 0..3 {
        t.step(&d).unwrap();
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    COUNTED.with(|c| c.set(true));
    for _ in 0..10 {
        t.step(&d).unwrap();
    }
    COUNTED.with(|c| c.set(false));
    assert_eq!(ALLOCATIONS.load(Ordering::Relaxed) - before, 0);
}

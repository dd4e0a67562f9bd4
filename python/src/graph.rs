//! Where Python's values live: a [`Graph`] behind a lock, with a table of
//! slots that Python objects hold (see "How values live in the graph" in
//! the engine's docs).
//!
//! A Python `Value` holds a slot number, and the slot holds the node's
//! [`NodeId`]. Each node has at most one slot, shared by every Python
//! object that wraps it and counted, so the slot number is a stable
//! identity for `__hash__` and `__eq__`. When the arena has doubled since
//! the last compaction, [`State::compact`] drops every node that no live
//! slot depends on and rewrites the slots: a loop that rebuilds its graph
//! each step keeps memory proportional to what Python can still reach.
//!
//! Locking. Every method runs with the GIL held, and the lock is only held
//! over plain Rust code (no Python call, no allocation of a Python object,
//! nothing that can run a finalizer): so only the thread holding the GIL
//! ever takes the lock, it is never contended, and no finalizer can try to
//! take it again on the same thread. A finalizer that still finds it taken
//! (it cannot, but a failure here must not deadlock) leaves its slot on a
//! queue that the next lock drains.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use backprop::{Graph, NodeId, Value};

/// Compaction is not worth it below this many nodes.
const MIN_COMPACT: usize = 1 << 15;

/// No slot for this node.
const NO_SLOT: u32 = u32::MAX;

static NEXT_SERIAL: AtomicU64 = AtomicU64::new(1);

struct Slot {
    id: NodeId,
    /// Python objects holding this slot; 0 for a free slot.
    refs: u32,
}

/// A graph and its slot table.
pub struct State {
    pub graph: Graph,
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// The slot of each node, by node index (shorter than the graph when
    /// the last nodes have none).
    slot_of: Vec<u32>,
    compact_at: usize,
    /// Bumped by [`State::reset`]: a Python value made before it is refused.
    pub epoch: u64,
    pub compactions: u64,
}

/// A graph shared by the Python objects that live in it.
pub struct Shared {
    /// A number for messages and for telling graphs apart.
    pub serial: u64,
    state: Mutex<State>,
    deferred: Mutex<Vec<(u32, u64)>>,
    /// Whether `deferred` may hold slots: checked on every lock, so that
    /// the common case takes one lock, not two.
    has_deferred: AtomicBool,
}

impl Shared {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            serial: NEXT_SERIAL.fetch_add(1, Ordering::Relaxed),
            state: Mutex::new(State {
                graph: Graph::new(),
                slots: Vec::new(),
                free: Vec::new(),
                slot_of: Vec::new(),
                compact_at: MIN_COMPACT,
                epoch: 0,
                compactions: 0,
            }),
            deferred: Mutex::new(Vec::new()),
            has_deferred: AtomicBool::new(false),
        })
    }

    /// The state, with the slots that finalizers could not release yet
    /// released. A panic while the lock was held (a bug) leaves the state
    /// as it was; it is used anyway, as the engine's own checks still hold.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if self.has_deferred.swap(false, Ordering::Acquire) {
            let pending =
                std::mem::take(&mut *self.deferred.lock().unwrap_or_else(|e| e.into_inner()));
            for (slot, epoch) in pending {
                s.release(slot, epoch);
            }
        }
        s
    }

    /// Releases one Python object's hold on `slot` (its finalizer).
    pub fn release(&self, slot: u32, epoch: u64) {
        match self.state.try_lock() {
            Ok(mut s) => s.release(slot, epoch),
            Err(_) => {
                self.deferred
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((slot, epoch));
                self.has_deferred.store(true, Ordering::Release);
            }
        }
    }
}

impl State {
    /// The node of `slot`, for a value made in `epoch`; `None` when the
    /// graph was reset after it was made.
    pub fn node(&self, slot: u32, epoch: u64) -> Option<Value<'_>> {
        (epoch == self.epoch).then(|| self.graph.get(self.slots[slot as usize].id))
    }

    /// The id of `slot`'s node (same epoch checked by the caller).
    pub fn id(&self, slot: u32) -> NodeId {
        self.slots[slot as usize].id
    }

    /// A hold on the slot of node `id`, made if it has none.
    pub fn hold(&mut self, id: NodeId) -> u32 {
        let i = id.index();
        if self.slot_of.len() <= i {
            self.slot_of.resize(i + 1, NO_SLOT);
        }
        let s = self.slot_of[i];
        if s != NO_SLOT {
            self.slots[s as usize].refs += 1;
            return s;
        }
        let s = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Slot { id, refs: 1 };
                s
            }
            None => {
                self.slots.push(Slot { id, refs: 1 });
                (self.slots.len() - 1) as u32
            }
        };
        self.slot_of[i] = s;
        s
    }

    fn release(&mut self, slot: u32, epoch: u64) {
        if epoch != self.epoch {
            return; // the slot table was cleared by a reset
        }
        let s = &mut self.slots[slot as usize];
        s.refs -= 1;
        if s.refs == 0 {
            let i = s.id.index();
            if let Some(k) = self.slot_of.get_mut(i) {
                *k = NO_SLOT;
            }
            self.free.push(slot);
        }
    }

    /// Compacts the graph when it has doubled since the last compaction:
    /// call before building nodes, never while holding a `Value` of it.
    pub fn maybe_compact(&mut self) {
        if self.graph.len() >= self.compact_at {
            self.compact();
        }
    }

    /// Drops every node that no live slot depends on.
    pub fn compact(&mut self) {
        let live: Vec<u32> = (0..self.slots.len() as u32)
            .filter(|&s| self.slots[s as usize].refs > 0)
            .collect();
        let mut roots: Vec<NodeId> = live.iter().map(|&s| self.slots[s as usize].id).collect();
        self.graph.compact(&mut roots);
        self.slot_of.clear();
        self.slot_of.resize(self.graph.len(), NO_SLOT);
        for (&s, id) in live.iter().zip(roots) {
            self.slots[s as usize].id = id;
            self.slot_of[id.index()] = s;
        }
        self.compact_at = (2 * self.graph.len()).max(MIN_COMPACT);
        self.compactions += 1;
    }

    /// Drops every node and every slot: the values made so far are refused
    /// from now on.
    pub fn reset(&mut self) {
        self.graph.clear();
        self.slots.clear();
        self.free.clear();
        self.slot_of.clear();
        self.compact_at = MIN_COMPACT;
        self.epoch += 1;
    }

    /// How many slots Python objects hold.
    pub fn live_slots(&self) -> usize {
        self.slots.len() - self.free.len()
    }
}

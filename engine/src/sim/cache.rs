//! The action-observation cache: O(1) lookup and eviction, with an eviction-policy seam.
//!
//! Entries live in a slab; an intrusive doubly linked list orders them for eviction and an
//! index finds them by page: the slots' pages scanned for small caches, a hash map (Fx,
//! deterministic, never iterated for output) for large ones. The
//! [`EvictionPolicy`] trait decides what an access does to the order and which entry goes
//! when the cache is full: [`Lru`] (the reference code's `OrderedDict`) and [`Fifo`] ship.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::sim::site::PageId;

const NIL: u32 = u32::MAX;

/// The eviction order of slots: a doubly linked list, most recently inserted at the head.
/// `links[slot]` is `[prev, next]`: both ends of an update share a cache line.
#[derive(Clone, Debug)]
pub struct OrderList {
    links: Vec<[u32; 2]>,
    head: u32,
    tail: u32,
}

impl Default for OrderList {
    fn default() -> Self {
        OrderList {
            links: Vec::new(),
            head: NIL,
            tail: NIL,
        }
    }
}

impl OrderList {
    /// An empty list with room for slots `0..n`.
    pub fn with_slots(n: usize) -> Self {
        OrderList {
            links: vec![[NIL; 2]; n],
            ..OrderList::default()
        }
    }

    /// Empties the list.
    pub fn clear(&mut self) {
        self.head = NIL;
        self.tail = NIL;
    }

    /// Links `slot` at the head.
    #[inline]
    pub fn push_front(&mut self, slot: u32) {
        let s = slot as usize;
        if s >= self.links.len() {
            self.grow(s + 1);
        }
        self.links[s] = [NIL, self.head];
        match self.links.get_mut(self.head as usize) {
            Some(h) => h[0] = slot,
            None => self.tail = slot, // the list was empty (head is NIL)
        }
        self.head = slot;
    }

    /// Room for slots `0..n`: rare (caches are created with room for their entries), so
    /// kept out of line to let `push_front` inline where it is used.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, n: usize) {
        self.links.resize(n, [NIL; 2]);
    }

    /// Unlinks `slot`.
    #[inline]
    pub fn unlink(&mut self, slot: u32) {
        let [p, n] = self.links[slot as usize];
        match self.links.get_mut(p as usize) {
            Some(l) => l[1] = n,
            None => self.head = n,
        }
        match self.links.get_mut(n as usize) {
            Some(l) => l[0] = p,
            None => self.tail = p,
        }
    }

    /// The slot at the tail (oldest), if any.
    pub fn back(&self) -> Option<u32> {
        (self.tail != NIL).then_some(self.tail)
    }
}

/// What an eviction policy must answer. Slots are small integers owned by the cache.
pub trait EvictionPolicy {
    /// A new entry was stored in `slot`.
    fn inserted(&mut self, slot: u32);
    /// The entry in `slot` was used.
    fn accessed(&mut self, slot: u32);
    /// The entry in `slot` left the cache.
    fn removed(&mut self, slot: u32);
    /// The slot to evict next.
    fn victim(&self) -> Option<u32>;
    /// Forgets every entry.
    fn clear(&mut self);
}

/// Least recently used: an access moves the entry to the head.
#[derive(Clone, Debug, Default)]
pub struct Lru(OrderList);

/// First in, first out: accesses do not change the order.
#[derive(Clone, Debug, Default)]
pub struct Fifo(OrderList);

impl EvictionPolicy for Lru {
    #[inline]
    fn inserted(&mut self, slot: u32) {
        self.0.push_front(slot);
    }
    #[inline]
    fn accessed(&mut self, slot: u32) {
        // Already the most recent: moving it to the head would change nothing.
        if self.0.head != slot {
            self.0.unlink(slot);
            self.0.push_front(slot);
        }
    }
    fn removed(&mut self, slot: u32) {
        self.0.unlink(slot);
    }
    fn victim(&self) -> Option<u32> {
        self.0.back()
    }
    fn clear(&mut self) {
        self.0.clear();
    }
}

impl EvictionPolicy for Fifo {
    fn inserted(&mut self, slot: u32) {
        self.0.push_front(slot);
    }
    fn accessed(&mut self, _slot: u32) {}
    fn removed(&mut self, slot: u32) {
        self.0.unlink(slot);
    }
    fn victim(&self) -> Option<u32> {
        self.0.back()
    }
    fn clear(&mut self) {
        self.0.clear();
    }
}

/// The eviction policies a scenario can name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvictionKind {
    /// Least recently used (default, as the reference code).
    #[default]
    Lru,
    /// First in, first out.
    Fifo,
}

/// The order in which a draft's ranked list enters the cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListOrder {
    /// Worst rank first, so the best guess is the most recent use and a cache smaller than
    /// the list keeps the best guesses (default; `shared/spec/model.md`). Fetches still start
    /// best rank first, and a page the list itself evicts before its fetch started is not
    /// fetched.
    #[default]
    WorstFirst,
    /// Best rank first, each page fetched as it enters (the rule before version 0.2): with a
    /// cache smaller than the list the worst guesses evict the best. Kept to study that
    /// artefact.
    BestFirst,
}

/// Static dispatch over the shipped policies.
#[derive(Clone, Debug)]
pub enum AnyEviction {
    /// LRU.
    Lru(Lru),
    /// FIFO.
    Fifo(Fifo),
}

impl AnyEviction {
    /// A fresh policy of the given kind.
    pub fn new(kind: EvictionKind) -> Self {
        Self::with_slots(kind, 0)
    }

    /// A fresh policy with room for slots `0..n` (it grows past them as needed).
    pub fn with_slots(kind: EvictionKind, n: usize) -> Self {
        match kind {
            EvictionKind::Lru => AnyEviction::Lru(Lru(OrderList::with_slots(n))),
            EvictionKind::Fifo => AnyEviction::Fifo(Fifo(OrderList::with_slots(n))),
        }
    }
}

macro_rules! delegate {
    ($self:ident, $p:ident => $e:expr) => {
        match $self {
            AnyEviction::Lru($p) => $e,
            AnyEviction::Fifo($p) => $e,
        }
    };
}

impl EvictionPolicy for AnyEviction {
    #[inline]
    fn inserted(&mut self, slot: u32) {
        delegate!(self, p => p.inserted(slot))
    }
    #[inline]
    fn accessed(&mut self, slot: u32) {
        delegate!(self, p => p.accessed(slot))
    }
    #[inline]
    fn removed(&mut self, slot: u32) {
        delegate!(self, p => p.removed(slot))
    }
    #[inline]
    fn victim(&self) -> Option<u32> {
        delegate!(self, p => p.victim())
    }
    fn clear(&mut self) {
        delegate!(self, p => p.clear())
    }
}

/// Most entries a cache allocates room for when it is created; larger ones grow.
const ROOM_MAX: usize = 1024;

/// Capacities up to this use a linear index: for the reference code's 10 entries a scan of
/// a few cache lines beats hashing.
const LINEAR_MAX: usize = 32;

/// Page -> slot index: for small caches the page of each slot, scanned; a hash map for
/// large ones.
#[derive(Clone, Debug)]
enum Index {
    /// `v[slot]` is the page stored in `slot`, or [`NIL`] while the slot is free: a lookup
    /// scans a few cache lines of page ids, and an insertion, a removal or a repointing
    /// writes one element in place.
    BySlot(Vec<PageId>),
    Hashed(FxHashMap<PageId, u32>),
}

impl Index {
    /// The index of a cache of `capacity` entries, with room for `room` of them.
    fn with_capacity(capacity: usize, room: usize) -> Self {
        if capacity <= LINEAR_MAX {
            Index::BySlot(Vec::with_capacity(room))
        } else {
            let mut m = FxHashMap::default();
            m.reserve(room);
            Index::Hashed(m)
        }
    }

    #[inline]
    fn get(&self, page: PageId) -> Option<u32> {
        match self {
            Index::BySlot(v) => v.iter().position(|&p| p == page).map(|i| i as u32),
            Index::Hashed(m) => m.get(&page).copied(),
        }
    }

    /// Maps `page` (absent) to `slot` (free: at most one past the slots in use).
    #[inline]
    fn insert(&mut self, page: PageId, slot: u32) {
        match self {
            Index::BySlot(v) => match v.get_mut(slot as usize) {
                Some(p) => *p = page,
                None => v.push(page),
            },
            Index::Hashed(m) => {
                m.insert(page, slot);
            }
        }
    }

    #[inline]
    fn remove(&mut self, page: PageId) -> Option<u32> {
        match self {
            Index::BySlot(v) => {
                let i = v.iter().position(|&p| p == page)?;
                v[i] = NIL;
                Some(i as u32)
            }
            Index::Hashed(m) => m.remove(&page),
        }
    }

    /// Maps `new` to `slot` in place of `old` (which maps to `slot`).
    #[inline]
    fn repoint(&mut self, old: PageId, new: PageId, slot: u32) {
        match self {
            Index::BySlot(v) => v[slot as usize] = new,
            Index::Hashed(m) => {
                m.remove(&old);
                m.insert(new, slot);
            }
        }
    }

    fn clear(&mut self) {
        match self {
            Index::BySlot(v) => v.clear(),
            Index::Hashed(m) => m.clear(),
        }
    }
}

#[derive(Clone, Debug)]
struct Entry<V> {
    page: PageId,
    value: V,
}

/// A bounded map from page to `V` with pluggable eviction.
#[derive(Clone, Debug)]
pub struct Cache<V, P = AnyEviction> {
    capacity: usize,
    len: usize,
    map: Index,
    slots: Vec<Option<Entry<V>>>,
    free: Vec<u32>,
    policy: P,
}

impl<V> Cache<V, AnyEviction> {
    /// An empty cache of `capacity` entries using the named policy.
    pub fn with_kind(capacity: usize, kind: EvictionKind) -> Self {
        Self::with_room(capacity, kind, capacity)
    }

    /// [`Cache::with_kind`] with room allocated at once for `expected` entries (at most the
    /// capacity and 1,024): caches are created by the thousand (one per session, and
    /// a sweep builds new ones for every cell), and growing each slot by slot cost more than
    /// their whole use; room for entries never stored would only cost memory.
    pub fn with_room(capacity: usize, kind: EvictionKind, expected: usize) -> Self {
        let room = capacity.min(expected).min(ROOM_MAX);
        Cache::with_policy_room(capacity, AnyEviction::with_slots(kind, room), room)
    }
}

impl<V, P: EvictionPolicy> Cache<V, P> {
    /// An empty cache of `capacity` entries (0 stores nothing).
    pub fn new(capacity: usize, policy: P) -> Self {
        Self::with_policy_room(capacity, policy, 0)
    }

    fn with_policy_room(capacity: usize, policy: P, room: usize) -> Self {
        Cache {
            capacity,
            len: 0,
            map: Index::with_capacity(capacity, room),
            slots: Vec::with_capacity(room),
            free: Vec::new(),
            policy,
        }
    }

    /// Maximum number of entries.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Removes every entry, keeping allocations.
    pub fn clear(&mut self) {
        self.len = 0;
        self.map.clear();
        self.slots.clear();
        self.free.clear();
        self.policy.clear();
    }

    /// The entry for `page` without counting it as an access.
    #[inline]
    pub fn peek(&self, page: PageId) -> Option<&V> {
        let s = self.map.get(page)?;
        self.slots[s as usize].as_ref().map(|e| &e.value)
    }

    /// Mutable access without counting it as an access.
    #[inline]
    pub fn peek_mut(&mut self, page: PageId) -> Option<&mut V> {
        let s = self.map.get(page)?;
        self.slots[s as usize].as_mut().map(|e| &mut e.value)
    }

    /// The entry for `page`, counted as an access (LRU moves it to the front).
    #[inline]
    pub fn get(&mut self, page: PageId) -> Option<&mut V> {
        let s = self.map.get(page)?;
        self.policy.accessed(s);
        self.slots[s as usize].as_mut().map(|e| &mut e.value)
    }

    /// True if `page` has an entry.
    #[inline]
    pub fn contains(&self, page: PageId) -> bool {
        self.map.get(page).is_some()
    }

    /// Stores `value` for `page`. Returns the entries that left: the victim evicted to make
    /// room, or `(page, value)` itself when the capacity is 0. Replacing an existing entry
    /// returns the old value and counts as an access.
    pub fn insert(&mut self, page: PageId, value: V) -> Option<(PageId, V)> {
        if self.capacity == 0 {
            return Some((page, value));
        }
        if let Some(s) = self.map.get(page) {
            self.policy.accessed(s);
            let e = self.slots[s as usize]
                .as_mut()
                .expect("mapped slot is full");
            let old = std::mem::replace(&mut e.value, value);
            return Some((page, old));
        }
        self.insert_absent(page, value)
    }

    /// [`Cache::insert`] of a page the caller knows has no entry (it just looked), without
    /// looking again.
    #[inline]
    pub fn insert_absent(&mut self, page: PageId, value: V) -> Option<(PageId, V)> {
        debug_assert!(!self.contains(page), "page {page} is cached already");
        if self.capacity == 0 {
            return Some((page, value));
        }
        debug_assert!(page != NIL, "page {NIL} is reserved");
        if self.len >= self.capacity {
            if let Some(s) = self.policy.victim() {
                return self.replace_victim(s, page, value);
            }
        }
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(Entry { page, value });
                s
            }
            None => {
                self.slots.push(Some(Entry { page, value }));
                (self.slots.len() - 1) as u32
            }
        };
        self.map.insert(page, slot);
        self.len += 1;
        self.policy.inserted(slot);
        None
    }

    /// Evicts the entry in slot `s` and stores `(page, value)` in that very slot, as freeing
    /// the slot and taking it back from the free list would, in one step: the index entry
    /// of the victim is rewritten rather than removed and added.
    #[inline]
    fn replace_victim(&mut self, s: u32, page: PageId, value: V) -> Option<(PageId, V)> {
        let e = self.slots[s as usize]
            .as_mut()
            .expect("the victim slot is full");
        let old_page = std::mem::replace(&mut e.page, page);
        let old = std::mem::replace(&mut e.value, value);
        self.map.repoint(old_page, page, s);
        self.policy.removed(s);
        self.policy.inserted(s);
        Some((old_page, old))
    }

    /// Removes the entry for `page`.
    pub fn remove(&mut self, page: PageId) -> Option<V> {
        let s = self.map.remove(page)?;
        self.len -= 1;
        self.policy.removed(s);
        self.free.push(s);
        self.slots[s as usize].take().map(|e| e.value)
    }

    /// Visits every entry in slot order (deterministic for a given history).
    pub fn for_each(&self, mut f: impl FnMut(PageId, &V)) {
        for e in self.slots.iter().flatten() {
            f(e.page, &e.value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_evicts_least_recently_used() {
        let mut c = Cache::with_kind(2, EvictionKind::Lru);
        assert!(c.insert(1, 'a').is_none());
        assert!(c.insert(2, 'b').is_none());
        c.get(1);
        assert_eq!(c.insert(3, 'c'), Some((2, 'b')));
        assert!(c.contains(1) && c.contains(3));
    }

    #[test]
    fn fifo_ignores_accesses() {
        let mut c = Cache::with_kind(2, EvictionKind::Fifo);
        c.insert(1, ());
        c.insert(2, ());
        c.get(1);
        assert_eq!(c.insert(3, ()), Some((1, ())));
    }

    #[test]
    fn zero_capacity_stores_nothing() {
        let mut c = Cache::with_kind(0, EvictionKind::Lru);
        assert_eq!(c.insert(7, 1), Some((7, 1)));
        assert!(c.is_empty());
    }

    #[test]
    fn remove_then_reinsert_reuses_slots() {
        let mut c = Cache::with_kind(2, EvictionKind::Lru);
        c.insert(1, 10);
        c.insert(2, 20);
        assert_eq!(c.remove(1), Some(10));
        assert!(c.insert(3, 30).is_none());
        assert_eq!(c.insert(4, 40), Some((2, 20)));
        assert_eq!(c.peek(3), Some(&30));
        assert_eq!(c.len(), 2);
    }

    proptest::proptest! {
        /// The O(1) LRU against a naive model: a Vec ordered from least to most recent. Small
        /// capacities (linear index) and ones past `LINEAR_MAX` (hashed index), each over
        /// about twice as many pages as it holds, so that evictions are frequent.
        #[test]
        fn lru_matches_a_naive_model(
            cap in proptest::prop_oneof![0usize..6, LINEAR_MAX + 1..LINEAR_MAX + 4],
            ops in proptest::collection::vec((0u8..3, 0u32..1000), 0..400),
        ) {
            let pages = 2 * cap as u32 + 3;
            let ops = ops.into_iter().map(|(op, p)| (op, p % pages));
            let mut fast = Cache::with_kind(cap, EvictionKind::Lru);
            let mut naive: Vec<(u32, u32)> = Vec::new();
            for (i, (op, page)) in ops.into_iter().enumerate() {
                let val = i as u32;
                match op {
                    0 => {
                        let got = fast.insert(page, val);
                        let want = if cap == 0 {
                            Some((page, val))
                        } else if let Some(pos) = naive.iter().position(|e| e.0 == page) {
                            let old = naive.remove(pos);
                            naive.push((page, val));
                            Some(old)
                        } else {
                            let ev = (naive.len() >= cap).then(|| naive.remove(0));
                            naive.push((page, val));
                            ev
                        };
                        proptest::prop_assert_eq!(got, want);
                    }
                    1 => {
                        let got = fast.get(page).copied();
                        let want = naive.iter().position(|e| e.0 == page).map(|pos| {
                            let e = naive.remove(pos);
                            naive.push(e);
                            e.1
                        });
                        proptest::prop_assert_eq!(got, want);
                    }
                    _ => {
                        let got = fast.remove(page);
                        let want = naive
                            .iter()
                            .position(|e| e.0 == page)
                            .map(|pos| naive.remove(pos).1);
                        proptest::prop_assert_eq!(got, want);
                    }
                }
                proptest::prop_assert_eq!(fast.len(), naive.len());
            }
        }
    }
}

//! The hash maps and sets of the front end (resolution and checking), with a fast hasher.
//!
//! Their keys are names and declaration ids from the files being compiled, hashed many times
//! per declaration; the standard library's SipHash, made to resist keys chosen to collide, cost
//! about a fourteenth of a whole `flowc check` (7.0 M of 98.5 M instructions on a 1,000-step
//! file). foldhash's fast hasher, with a fixed seed, is made for short keys and needs no such
//! resistance here. Iteration order is never relied on: the index maps keep insertion order,
//! and the hash maps and sets are only looked up (or sorted before use).

/// The hasher of every map and set in this module.
pub type FastState = foldhash::fast::FixedState;

/// An insertion-ordered map with the fast hasher; make one with `IndexMap::default()`.
pub type IndexMap<K, V> = indexmap::IndexMap<K, V, FastState>;

/// A hash map with the fast hasher; make one with `HashMap::default()`.
pub type HashMap<K, V> = std::collections::HashMap<K, V, FastState>;

/// A hash set with the fast hasher; make one with `HashSet::default()`.
pub type HashSet<T> = std::collections::HashSet<T, FastState>;

//! The tasks a DAG task waits for (`dependentTasks` of a leaf or a group): names kept sorted
//! in a vector. A task waits for one or two others, so a vector with room for them is all the
//! memory it takes; a `BTreeSet` allocated a node of eleven names (about 280 bytes) for the
//! first one. The order, the iteration and the JSON array are those of a `BTreeSet<String>`.

use serde::{Serialize, Serializer};

/// Distinct names in sorted order (`String`'s order, as a `BTreeSet` keeps them).
#[derive(Clone, Debug, Default)]
pub(super) struct SortedSet(Vec<String>);

impl SortedSet {
    /// An empty set.
    pub(super) fn new() -> Self {
        SortedSet(Vec::new())
    }

    /// Adds `name` in its place; false when it was there.
    pub(super) fn insert(&mut self, name: String) -> bool {
        match self.0.binary_search(&name) {
            Ok(_) => false,
            Err(at) => {
                if self.0.is_empty() {
                    // Room for the one most tasks have; a vector grown from empty holds four.
                    self.0.reserve_exact(1);
                }
                self.0.insert(at, name);
                true
            }
        }
    }

    /// Whether there is no name.
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The names in sorted order.
    pub(super) fn iter(&self) -> std::slice::Iter<'_, String> {
        self.0.iter()
    }
}

impl Serialize for SortedSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::SortedSet;
    use std::collections::BTreeSet;

    #[test]
    fn keeps_the_order_and_the_json_of_a_btree_set() {
        let names = ["b", "a", "b-2", "B", "a", "é", "b"];
        let mut set = SortedSet::new();
        let mut tree = BTreeSet::new();
        for n in names {
            assert_eq!(set.insert(n.to_string()), tree.insert(n.to_string()));
        }
        assert!(set.iter().eq(tree.iter()));
        assert_eq!(
            serde_json::to_string(&set).unwrap(),
            serde_json::to_string(&tree).unwrap()
        );
        assert!(SortedSet::new().is_empty() && !set.is_empty());
    }
}

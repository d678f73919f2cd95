//! A leaf's maps by name (its input wiring, its component's input and output definitions, the
//! inputs it leaves out): a vector of pairs in insertion order, searched from the start. A
//! leaf has the few names its callee declares, so a scan costs less than hashing the name, and
//! an empty map allocates nothing; an `IndexMap` held a hash table and an entries vector for
//! each of them, about 1.5 KB of fresh memory a leaf.

/// Names to values in insertion order, as `IndexMap::insert` keeps them.
#[derive(Clone, Debug)]
pub(super) struct SmallMap<V>(Vec<(String, V)>);

impl<V> Default for SmallMap<V> {
    fn default() -> Self {
        SmallMap(Vec::new())
    }
}

impl<V> SmallMap<V> {
    /// An empty map.
    pub(super) fn new() -> Self {
        SmallMap(Vec::new())
    }

    /// Room for `more` entries, and no more: a vector grown from empty holds four entries,
    /// and most leaves have one or two names.
    pub(super) fn reserve_exact(&mut self, more: usize) {
        self.0.reserve_exact(more);
    }

    /// Sets `key` to `value`: in its place when the key is there (returning the value it
    /// had), at the end otherwise.
    pub(super) fn insert(&mut self, key: String, value: V) -> Option<V> {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => Some(std::mem::replace(v, value)),
            None => {
                self.0.push((key, value));
                None
            }
        }
    }

    /// The value of `key`.
    pub(super) fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Whether `key` is there.
    pub(super) fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The entries in insertion order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&String, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// The names in insertion order.
    pub(super) fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }
}

impl<'a, V> IntoIterator for &'a SmallMap<V> {
    type Item = (&'a String, &'a V);
    type IntoIter =
        std::iter::Map<std::slice::Iter<'a, (String, V)>, fn(&'a (String, V)) -> Self::Item>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<V> IntoIterator for SmallMap<V> {
    type Item = (String, V);
    type IntoIter = std::vec::IntoIter<(String, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::SmallMap;

    #[test]
    fn keeps_insertion_order_and_replaces_in_place() {
        let mut m = SmallMap::new();
        assert_eq!(m.insert("b".to_string(), 1), None);
        assert_eq!(m.insert("a".to_string(), 2), None);
        assert_eq!(m.insert("b".to_string(), 3), Some(1));
        let entries: Vec<(&String, &i32)> = m.iter().collect();
        assert_eq!(entries, [(&"b".to_string(), &3), (&"a".to_string(), &2)]);
        assert_eq!(m.get("a"), Some(&2));
        assert!(m.contains_key("b") && !m.contains_key("c"));
    }
}

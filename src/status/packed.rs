//! A map from work package id to a value, as the saved status fold keeps it
//! ([`super::cache`]): read back from the file as one buffer of records,
//! sorted by id, and decoded one entry at a time when it is looked at.
//!
//! A command reading the saved fold of a 5,000-WP mission looks at a few
//! WPs (the one it moves, its dependencies) and changes one or two. Decoding
//! every entry into owned strings was most of a claim's instructions: here a
//! lookup is a binary search over the records, a change copies that one
//! entry out into a small map of its own ([`WpMap::with_entry`]) that shadows the
//! record, and a walk over every entry ([`WpMap::iter`]) merges the two in id
//! order without allocating.
//!
//! The records are checked once, when the map is read: each is whole, its
//! id is UTF-8, the ids are strictly increasing, and its value passes
//! [`Pack::valid`]. A buffer that fails is refused (the saved fold is then
//! ignored and the log folded again), so later lookups never meet a bad
//! record.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::de::{Deserializer, Error as _, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A value kept packed in a [`WpMap`].
pub(super) trait Pack: Clone + Default + PartialEq {
    /// Append the packed bytes of `self` to `out`.
    fn pack(&self, out: &mut Vec<u8>);
    /// Whether `bytes` are a packed value (checked once, when a map is read).
    fn valid(bytes: &[u8]) -> bool;
    /// The value packed in `bytes` (which passed [`Pack::valid`]; anything
    /// else gives the default).
    fn unpack(bytes: &[u8]) -> Self;
}

/// Records `[id length u32][id][value length u32][value]` (little-endian),
/// sorted by id, and where each begins.
#[derive(Default)]
struct Records {
    bytes: Vec<u8>,
    starts: Vec<u32>,
}

/// The `u32` length at `at` and the `len` bytes after it.
fn field(bytes: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let head = bytes.get(at..at.checked_add(4)?)?;
    let len = u32::from_le_bytes(head.try_into().ok()?) as usize;
    let from = at + 4;
    let to = from.checked_add(len)?;
    Some((bytes.get(from..to)?, to))
}

/// Append `s` as a length-prefixed field.
fn put(out: &mut Vec<u8>, s: &[u8]) {
    // Ids, actors and times are far below 4 GiB: a longer one (it cannot be
    // read from a log line, whose length is capped) is cut to the cap.
    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&s[..len as usize]);
}

/// Whether `b` is UTF-8: ASCII (ids, times, most actors) is checked a word
/// at a time first.
pub(super) fn utf8(b: &[u8]) -> bool {
    b.is_ascii() || std::str::from_utf8(b).is_ok()
}

impl Records {
    /// Records read back: None when any is cut short, its id is not UTF-8,
    /// the ids are not strictly increasing, or a value fails `valid`.
    fn read(bytes: Vec<u8>, valid: impl Fn(&[u8]) -> bool) -> Option<Records> {
        let mut starts = Vec::new();
        let mut at = 0;
        let mut prev: Option<&[u8]> = None;
        while at < bytes.len() {
            let start = u32::try_from(at).ok()?;
            let (id, next) = field(&bytes, at)?;
            let (value, next) = field(&bytes, next)?;
            if !utf8(id) || prev.is_some_and(|p| p >= id) || !valid(value) {
                return None;
            }
            prev = Some(id);
            starts.push(start);
            at = next;
        }
        Some(Records { bytes, starts })
    }

    fn len(&self) -> usize {
        self.starts.len()
    }

    /// The id and value bytes of record `i`.
    fn at(&self, i: usize) -> (&str, &[u8]) {
        let start = self.starts.get(i).map_or(usize::MAX, |s| *s as usize);
        let Some((id, next)) = field(&self.bytes, start) else {
            return ("", &[]);
        };
        let value = field(&self.bytes, next).map_or(&[][..], |(v, _)| v);
        (std::str::from_utf8(id).unwrap_or_default(), value)
    }

    /// The value bytes of every record, in id order.
    fn values(&self) -> impl Iterator<Item = &[u8]> {
        self.starts.iter().map(|&s| {
            field(&self.bytes, s as usize)
                .and_then(|(_, next)| field(&self.bytes, next))
                .map_or(&[][..], |(v, _)| v)
        })
    }

    /// The value bytes of `id`'s record.
    fn get(&self, id: &str) -> Option<&[u8]> {
        let i = self
            .starts
            .binary_search_by(|&s| {
                let rec = field(&self.bytes, s as usize).map_or(&[][..], |(k, _)| k);
                rec.cmp(id.as_bytes())
            })
            .ok()?;
        Some(self.at(i).1)
    }
}

/// A map from WP id to `V`: packed records read from a saved fold, and the
/// entries changed or added since, which shadow them.
pub(super) struct WpMap<V> {
    packed: Arc<Records>,
    own: Arc<BTreeMap<String, V>>,
}

impl<V> Clone for WpMap<V> {
    /// Two counts: a fold handed out shares both parts until one changes.
    fn clone(&self) -> Self {
        WpMap {
            packed: Arc::clone(&self.packed),
            own: Arc::clone(&self.own),
        }
    }
}

impl<V> Default for WpMap<V> {
    fn default() -> Self {
        WpMap {
            packed: Arc::default(),
            own: Arc::default(),
        }
    }
}

/// One entry of a [`WpMap`]: changed since it was read, or still packed.
#[derive(Debug, Clone, Copy)]
pub(super) enum Item<'a, V> {
    Own(&'a V),
    Packed(&'a [u8]),
}

impl<'a, V: Pack> Item<'a, V> {
    /// The value, copied out of its record when packed.
    pub fn value(self) -> Cow<'a, V> {
        match self {
            Item::Own(v) => Cow::Borrowed(v),
            Item::Packed(b) => Cow::Owned(V::unpack(b)),
        }
    }
}

impl<V: Pack> WpMap<V> {
    /// The entry of `id`, if any.
    pub fn item(&self, id: &str) -> Option<Item<'_, V>> {
        match self.own.get(id) {
            Some(v) => Some(Item::Own(v)),
            None => self.packed.get(id).map(Item::Packed),
        }
    }

    pub fn get(&self, id: &str) -> Option<Cow<'_, V>> {
        self.item(id).map(Item::value)
    }

    pub fn contains_key(&self, id: &str) -> bool {
        self.own.contains_key(id) || self.packed.get(id).is_some()
    }

    /// Change the value of `id` in place with `f`: copied out of its record
    /// (or the default, for a new id) the first time. An id already changed
    /// costs a lookup, no allocation.
    pub fn with_entry<R>(&mut self, id: &str, f: impl FnOnce(&mut V) -> R) -> R {
        let own = Arc::make_mut(&mut self.own);
        match own.get_mut(id) {
            Some(v) => f(v),
            None => {
                let v = self.packed.get(id).map(V::unpack).unwrap_or_default();
                f(own.entry(id.to_string()).or_insert(v))
            }
        }
    }

    /// `f` of every entry's value, with no id read or compared: each record's
    /// bytes and each changed entry, minus (`-1`) each record a changed entry
    /// shadows. For a count over every WP (the summary of lanes) that reads
    /// one byte of each record.
    pub fn tally(&self, mut f: impl FnMut(Item<'_, V>, i64)) {
        for b in self.packed.values() {
            f(Item::Packed(b), 1);
        }
        for (id, v) in self.own.iter() {
            if let Some(b) = self.packed.get(id) {
                f(Item::Packed(b), -1);
            }
            f(Item::Own(v), 1);
        }
    }

    /// How many entries changed or were added since the map was read.
    pub fn changed(&self) -> usize {
        self.own.len()
    }

    /// The ids of those entries, in order.
    pub fn changed_ids(&self) -> impl Iterator<Item = &str> {
        self.own.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        let added = self
            .own
            .keys()
            .filter(|k| self.packed.get(k).is_none())
            .count();
        self.packed.len() + added
    }

    pub fn is_empty(&self) -> bool {
        self.own.is_empty() && self.packed.len() == 0
    }

    /// Every entry, in id order.
    pub fn iter(&self) -> Iter<'_, V> {
        Iter {
            packed: &self.packed,
            next: 0,
            own: self.own.iter().peekable(),
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.iter().map(|(k, _)| k)
    }

    /// Every value, copied out of its record when packed.
    #[cfg(test)]
    pub fn values(&self) -> impl Iterator<Item = Cow<'_, V>> {
        self.iter().map(|(_, v)| v.value())
    }

    /// Every value changed in place (each copied out of its record first):
    /// for tests that damage a fold.
    #[cfg(test)]
    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        let ids: Vec<String> = self.keys().map(str::to_string).collect();
        for id in &ids {
            self.with_entry(id, |_| ());
        }
        Arc::make_mut(&mut self.own).values_mut()
    }

    /// The records of every entry, in id order.
    fn pack_all(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.packed.bytes.len() + self.own.len() * 128);
        let mut value = Vec::new();
        for (id, item) in self.iter() {
            put(&mut out, id.as_bytes());
            match item {
                Item::Packed(b) => put(&mut out, b),
                Item::Own(v) => {
                    value.clear();
                    v.pack(&mut value);
                    put(&mut out, &value);
                }
            }
        }
        out
    }
}

/// [`WpMap::iter`]: the records and the own entries merged in id order, an
/// own entry shadowing the record of the same id.
pub(super) struct Iter<'a, V> {
    packed: &'a Records,
    next: usize,
    own: std::iter::Peekable<std::collections::btree_map::Iter<'a, String, V>>,
}

impl<'a, V> Iterator for Iter<'a, V> {
    type Item = (&'a str, Item<'a, V>);

    fn next(&mut self) -> Option<Self::Item> {
        let rec = (self.next < self.packed.len()).then(|| self.packed.at(self.next));
        match (rec, self.own.peek()) {
            (None, None) => None,
            (Some((id, b)), None) => {
                self.next += 1;
                Some((id, Item::Packed(b)))
            }
            (None, Some(_)) => self.own.next().map(|(k, v)| (k.as_str(), Item::Own(v))),
            (Some((id, b)), Some((k, _))) => match id.cmp(k.as_str()) {
                std::cmp::Ordering::Less => {
                    self.next += 1;
                    Some((id, Item::Packed(b)))
                }
                std::cmp::Ordering::Equal => {
                    self.next += 1;
                    self.own.next().map(|(k, v)| (k.as_str(), Item::Own(v)))
                }
                std::cmp::Ordering::Greater => {
                    self.own.next().map(|(k, v)| (k.as_str(), Item::Own(v)))
                }
            },
        }
    }
}

impl<V: Pack> PartialEq for WpMap<V> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other.iter())
                .all(|((a, x), (b, y))| a == b && x.value() == y.value())
    }
}

impl<V: Pack + fmt::Debug> fmt::Debug for WpMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(k, v)| (k, v.value())))
            .finish()
    }
}

impl<V: Pack> FromIterator<(String, V)> for WpMap<V> {
    fn from_iter<I: IntoIterator<Item = (String, V)>>(iter: I) -> Self {
        WpMap {
            packed: Arc::default(),
            own: Arc::new(iter.into_iter().collect()),
        }
    }
}

impl<V: Pack> Serialize for WpMap<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.pack_all())
    }
}

impl<'de, V: Pack> Deserialize<'de> for WpMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Bytes;
        impl Visitor<'_> for Bytes {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("packed records")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
        }
        let bytes = d.deserialize_byte_buf(Bytes)?;
        let records =
            Records::read(bytes, V::valid).ok_or_else(|| D::Error::custom("bad records"))?;
        Ok(WpMap {
            packed: Arc::new(records),
            own: Arc::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Default, PartialEq)]
    struct Word(String);

    impl Pack for Word {
        fn pack(&self, out: &mut Vec<u8>) {
            out.extend_from_slice(self.0.as_bytes());
        }
        fn valid(bytes: &[u8]) -> bool {
            std::str::from_utf8(bytes).is_ok()
        }
        fn unpack(bytes: &[u8]) -> Self {
            Word(String::from_utf8_lossy(bytes).into_owned())
        }
    }

    fn reread(m: &WpMap<Word>) -> WpMap<Word> {
        let bytes = postcard::to_allocvec(m).unwrap();
        postcard::from_bytes(&bytes).unwrap()
    }

    fn pairs(m: &WpMap<Word>) -> Vec<(String, String)> {
        m.iter()
            .map(|(k, v)| (k.to_string(), v.value().0.clone()))
            .collect()
    }

    #[test]
    fn changes_shadow_records_and_walks_merge_in_order() {
        let m: WpMap<Word> = [("WP02", "b"), ("WP04", "d"), ("WP06", "f")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), Word(v.into())))
            .collect();
        let mut m = reread(&m);
        assert_eq!(m.get("WP04").unwrap().0, "d");
        assert!(m.get("WP05").is_none());
        m.with_entry("WP04", |w| w.0.push('!'));
        m.with_entry("WP01", |w| w.0.push('a'));
        m.with_entry("WP07", |w| w.0.push('g'));
        assert_eq!(m.len(), 5);
        let want = [
            ("WP01", "a"),
            ("WP02", "b"),
            ("WP04", "d!"),
            ("WP06", "f"),
            ("WP07", "g"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()));
        assert_eq!(pairs(&m), want);
        // Saved and read again: the same map, all packed.
        let again = reread(&m);
        assert_eq!(pairs(&again), want);
        assert_eq!(again, m);
        assert_eq!(again.own.len(), 0);
    }

    #[test]
    fn records_out_of_order_cut_or_not_utf8_are_refused() {
        let rec = |id: &[u8], v: &[u8]| {
            let mut out = Vec::new();
            put(&mut out, id);
            put(&mut out, v);
            out
        };
        let good = [rec(b"WP01", b"a"), rec(b"WP02", b"b")].concat();
        assert!(Records::read(good.clone(), Word::valid).is_some());
        let cases: [Vec<u8>; 5] = [
            [rec(b"WP02", b"b"), rec(b"WP01", b"a")].concat(),
            [rec(b"WP01", b"a"), rec(b"WP01", b"b")].concat(),
            good[..good.len() - 1].to_vec(),
            [rec(b"WP\xff", b"a")].concat(),
            [rec(b"WP01", b"\xff")].concat(),
        ];
        for bad in cases {
            assert!(Records::read(bad.clone(), Word::valid).is_none(), "{bad:?}");
        }
        // A length past the end, and one at u32::MAX.
        let mut huge = Vec::new();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        huge.extend_from_slice(b"WP01");
        assert!(Records::read(huge, Word::valid).is_none());
    }
}

//! LtHash16: a homomorphic multiset hash (Bellare–Micciancio lattice hash, as in Facebook's
//! Folly and Solana's account hash).
//!
//! An element is expanded with BLAKE3's extendable output to 1024 sixteen-bit lanes; a set's
//! hash is the lane-wise sum modulo 2^16. Adding and removing elements are O(1) whatever the
//! size of the set, and the result does not depend on order: the state hash of a database can
//! follow each changed row instead of rescanning every table. Elements must be unique (lore
//! hashes table, key and row together), since an element added 2^16 times cancels out.

/// Lanes in an accumulator.
pub const LANES: usize = 1024;
/// Bytes in an accumulator's serialised form (little-endian lanes).
pub const BYTES: usize = LANES * 2;

/// A multiset hash accumulator.
#[derive(Clone, PartialEq, Eq)]
pub struct LtHash {
    lanes: Box<[u16; LANES]>,
}

impl std::fmt::Debug for LtHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LtHash({})", &self.checksum_hex()[..16])
    }
}

impl Default for LtHash {
    fn default() -> Self {
        LtHash::new()
    }
}

impl LtHash {
    /// The hash of the empty set.
    pub fn new() -> LtHash {
        LtHash {
            lanes: Box::new([0; LANES]),
        }
    }

    /// Reads a serialised accumulator; `None` if `bytes` has the wrong length.
    pub fn from_bytes(bytes: &[u8]) -> Option<LtHash> {
        if bytes.len() != BYTES {
            return None;
        }
        let mut h = LtHash::new();
        for (lane, pair) in h.lanes.iter_mut().zip(bytes.chunks_exact(2)) {
            *lane = u16::from_le_bytes([pair[0], pair[1]]);
        }
        Some(h)
    }

    /// The serialised form: 2048 bytes, lanes little-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(BYTES);
        for lane in self.lanes.iter() {
            out.extend_from_slice(&lane.to_le_bytes());
        }
        out
    }

    /// Adds the element whose canonical bytes are `element`.
    pub fn add(&mut self, element: &[u8]) {
        let e = expand(element);
        for (a, b) in self.lanes.iter_mut().zip(e.iter()) {
            *a = a.wrapping_add(*b);
        }
    }

    /// Removes the element whose canonical bytes are `element`.
    pub fn remove(&mut self, element: &[u8]) {
        let e = expand(element);
        for (a, b) in self.lanes.iter_mut().zip(e.iter()) {
            *a = a.wrapping_sub(*b);
        }
    }

    /// Adds every element of another accumulator.
    pub fn add_all(&mut self, other: &LtHash) {
        for (a, b) in self.lanes.iter_mut().zip(other.lanes.iter()) {
            *a = a.wrapping_add(*b);
        }
    }

    /// Removes every element of another accumulator.
    pub fn remove_all(&mut self, other: &LtHash) {
        for (a, b) in self.lanes.iter_mut().zip(other.lanes.iter()) {
            *a = a.wrapping_sub(*b);
        }
    }

    /// A short fingerprint for messages: BLAKE3 of the serialised form, in hex.
    pub fn checksum_hex(&self) -> String {
        blake3::hash(&self.to_bytes()).to_hex().to_string()
    }
}

fn expand(element: &[u8]) -> [u16; LANES] {
    let mut bytes = [0u8; BYTES];
    let mut hasher = blake3::Hasher::new();
    hasher.update(element);
    hasher.finalize_xof().fill(&mut bytes);
    let mut lanes = [0u16; LANES];
    for (lane, pair) in lanes.iter_mut().zip(bytes.chunks_exact(2)) {
        *lane = u16::from_le_bytes([pair[0], pair[1]]);
    }
    lanes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_does_not_matter_and_removal_undoes_addition() {
        let mut a = LtHash::new();
        a.add(b"x");
        a.add(b"y");
        let mut b = LtHash::new();
        b.add(b"y");
        b.add(b"x");
        assert_eq!(a, b);
        b.add(b"z");
        assert_ne!(a, b);
        b.remove(b"z");
        assert_eq!(a, b);
        b.remove(b"x");
        b.remove(b"y");
        assert_eq!(b, LtHash::new());
    }

    #[test]
    fn serialisation_round_trips_and_sums_combine() {
        let mut a = LtHash::new();
        a.add(b"row 1");
        let back = LtHash::from_bytes(&a.to_bytes()).unwrap();
        assert_eq!(a, back);
        assert!(LtHash::from_bytes(&[0; 3]).is_none());
        let mut b = LtHash::new();
        b.add(b"row 2");
        let mut both = LtHash::new();
        both.add(b"row 1");
        both.add(b"row 2");
        let mut sum = a.clone();
        sum.add_all(&b);
        assert_eq!(sum, both);
        sum.remove_all(&b);
        assert_eq!(sum, a);
    }

    #[test]
    fn the_expansion_is_blake3_xof() {
        // First lane of lt("abc") is the first two XOF bytes of BLAKE3("abc"), little-endian.
        let mut h = LtHash::new();
        h.add(b"abc");
        let mut first = [0u8; 2];
        blake3::Hasher::new()
            .update(b"abc")
            .finalize_xof()
            .fill(&mut first);
        assert_eq!(h.to_bytes()[..2], first);
    }
}

//! A list of strings that a step reads in place: one block of bytes and the end of
//! each string (u32 little-endian), so that decoding the prepared index costs the same
//! for ten strings as for ten thousand.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// Strings stored end to end.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strings<'a> {
    /// The strings' bytes, one after the other.
    #[serde(borrow)]
    bytes: Cow<'a, [u8]>,
    /// Where each string ends in `bytes`.
    #[serde(borrow)]
    ends: Cow<'a, [u8]>,
}

impl Strings<'static> {
    /// The list of `items`, in order.
    pub fn new<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Self {
        let mut bytes = Vec::new();
        let mut ends = Vec::new();
        for item in items {
            bytes.extend_from_slice(item.as_ref().as_bytes());
            let end = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
            ends.extend_from_slice(&end.to_le_bytes());
        }
        Self {
            bytes: Cow::Owned(bytes),
            ends: Cow::Owned(ends),
        }
    }
}

impl Strings<'_> {
    /// How many strings there are.
    pub fn len(&self) -> usize {
        self.ends.len() / 4
    }

    /// The bytes of string `i` (empty past the end, or in a damaged index).
    pub fn bytes(&self, i: usize) -> &[u8] {
        let end = |i: usize| -> usize {
            let mut b = [0u8; 4];
            match self.ends.get(i * 4..i * 4 + 4) {
                Some(s) => b.copy_from_slice(s),
                None => return 0,
            }
            u32::from_le_bytes(b) as usize
        };
        let start = if i == 0 { 0 } else { end(i - 1) };
        self.bytes.get(start..end(i)).unwrap_or_default()
    }

    /// String `i`, if there is one (and it is text).
    pub fn get(&self, i: usize) -> Option<&str> {
        if i >= self.len() {
            return None;
        }
        std::str::from_utf8(self.bytes(i)).ok()
    }

    /// The strings, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_reads_in_place() {
        let s = Strings::new(["退款", "", "refund"]);
        let bytes = postcard::to_allocvec(&s).unwrap();
        let read: Strings<'_> = postcard::from_bytes(&bytes).unwrap();
        assert!(matches!(read.bytes, Cow::Borrowed(_)));
        assert_eq!(read.len(), 3);
        assert_eq!(read.iter().collect::<Vec<_>>(), ["退款", "", "refund"]);
        assert_eq!(read.get(3), None);
        assert_eq!(read.bytes(7), b"");
        assert_eq!(Strings::new(Vec::<String>::new()).len(), 0);
    }
}

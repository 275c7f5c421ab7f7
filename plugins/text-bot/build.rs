//! Packs the two tables the text bot reads in place, into `$OUT_DIR`:
//!
//! - `dict.bin`, jieba's Chinese dictionary (the `dict.txt` that ships inside the
//!   `jieba-rs` crate: about 350,000 words, each with its frequency in a large corpus and
//!   its part of speech), as sorted arrays of fixed-width keys, one per word length, with
//!   each word's log-probability and its class (function word, noun, other);
//! - `t2s.bin`, OpenCC's traditional-to-simplified character table (from `hanconv`);
//! - `longest.bin`, for each character of the basic CJK block, the length of the longest
//!   word it starts, so that a step looks up no longer words than there are.
//!
//! jieba-rs itself cannot load its dictionary inside a module: parsing it and building
//! its trie takes more than the fuel `prepare` is given, and a step could never afford
//! it. Packed here once, the dictionary costs a step nothing to load: it is part of the
//! component's memory image, and a lookup is a binary search.
//!
//! See `src/dict.rs` for the layout, which these functions and that reader share.

// A build script reports failure by panicking with a message; that is its interface.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The jieba-rs release whose dictionary is packed (the workspace pins it exactly).
const JIEBA: (&str, &str) = ("jieba-rs", "0.11.0");
/// Longest word kept, in characters (jieba's longest has 16).
const MAX_LEN: usize = 16;
/// Log-probabilities are stored as `-ln p × SCALE`, rounded, in a u16.
const SCALE: f64 = 1000.0;
/// jieba's part-of-speech tags of function words: particles, modal particles,
/// interjections, onomatopoeia, conjunctions, prepositions, pronouns, suffixes,
/// measure words, numerals, directions and adverbs.
const FUNCTION_TAGS: &[&str] = &[
    "u", "uj", "ul", "uv", "ud", "uz", "ug", "y", "e", "o", "c", "p", "r", "rr", "rz", "rg", "k",
    "q", "mq", "m", "mg", "f", "d", "dg", "df",
];
/// jieba's tags of nouns and names: common, personal, place, organisation and other
/// proper nouns, noun morphemes, nominal verbs and adjectives, places, abbreviations.
const NOUN_TAGS: &[&str] = &[
    "n", "nr", "nrt", "nrfg", "ns", "nt", "nz", "ng", "vn", "an", "s", "j",
];

/// A word's class, as stored: the module weighs function words little, and counts a
/// noun it does not know as a topic of its own, however common.
fn class(tag: &str) -> u8 {
    if FUNCTION_TAGS.contains(&tag) {
        1
    } else if NOUN_TAGS.contains(&tag) {
        2
    } else {
        0
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    let t2s = traditional_to_simplified();
    let dict = fs::read_to_string(dictionary_path()).expect("reading jieba's dict.txt");
    let (packed, longest) = pack_dictionary(&dict, &t2s);
    fs::write(out.join("dict.bin"), packed).expect("writing dict.bin");
    fs::write(out.join("longest.bin"), longest).expect("writing longest.bin");
    let mut table = Vec::with_capacity(t2s.len() * 8);
    for (t, s) in &t2s {
        table.extend_from_slice(&u32::from(*t).to_le_bytes());
        table.extend_from_slice(&u32::from(*s).to_le_bytes());
    }
    fs::write(out.join("t2s.bin"), table).expect("writing t2s.bin");
}

/// Where cargo unpacked jieba-rs's sources: `cargo metadata` is the only place cargo
/// says where a dependency lives (it is a build-dependency so that it is fetched and
/// checked against `Cargo.lock` before this script runs).
fn dictionary_path() -> PathBuf {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(&manifest_dir)
        .output()
        .expect("running cargo metadata");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let manifest = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == JIEBA.0 && p["version"] == JIEBA.1)
        .and_then(|p| p["manifest_path"].as_str())
        .unwrap_or_else(|| panic!("{} {} is not among the dependencies", JIEBA.0, JIEBA.1));
    let path = Path::new(manifest)
        .parent()
        .expect("a manifest is in a folder")
        .join("src/data/dict.txt");
    assert!(path.is_file(), "{} has no dictionary", path.display());
    path
}

/// OpenCC's character table: traditional → its first simplified form, when they differ.
fn traditional_to_simplified() -> BTreeMap<char, char> {
    let mut table = BTreeMap::new();
    for (traditional, simplified) in hanconv::RawDictionary::TSCharacters.iter() {
        let mut t = traditional.chars();
        let mut s = simplified.chars();
        if let (Some(t), None, Some(s), None) = (t.next(), t.next(), s.next(), s.next())
            && t != s
        {
            table.insert(t, s);
        }
    }
    table
}

/// One word of the dictionary, as stored: its cost and its class.
struct Word {
    cost: u16,
    class: u8,
}

/// The first character of the basic CJK block, and its size.
const CJK_FIRST: u32 = 0x4E00;
const CJK_COUNT: usize = 0x5200;

/// The dictionary's binary form (see `src/dict.rs`), and the longest word each
/// character of the basic CJK block starts.
fn pack_dictionary(text: &str, t2s: &BTreeMap<char, char>) -> (Vec<u8>, Vec<u8>) {
    let mut entries: Vec<(&str, u64, &str)> = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let (Some(word), Some(freq)) = (fields.next(), fields.next()) else {
            continue;
        };
        let freq: u64 = freq.parse().expect("a frequency is a number");
        entries.push((word, freq, fields.next().unwrap_or("")));
    }
    let total: u64 = entries.iter().map(|e| e.1).sum();
    let ln_total = (total as f64).ln();
    let cost = |freq: u64| -> u16 {
        let c = (ln_total - (freq.max(1) as f64).ln()) * SCALE;
        u16::try_from(c.round() as i64).expect("costs fit in u16")
    };

    let mut buckets: Vec<BTreeMap<Vec<u16>, Word>> =
        (0..MAX_LEN).map(|_| BTreeMap::new()).collect();
    for (word, freq, tag) in entries {
        let chars: Vec<char> = word.chars().collect();
        // Words of Chinese characters only, and only in simplified form: the module
        // simplifies what it reads before looking words up.
        let han = chars.iter().all(|&c| is_han(c) && !t2s.contains_key(&c));
        let Some(key) = chars
            .iter()
            .map(|&c| u16::try_from(u32::from(c)).ok())
            .collect::<Option<Vec<u16>>>()
        else {
            continue;
        };
        if !han || freq == 0 || chars.len() > MAX_LEN {
            continue;
        }
        buckets[chars.len() - 1].insert(
            key,
            Word {
                cost: cost(freq),
                class: class(tag),
            },
        );
    }

    // Header: magic, the cost of an unknown character, the bucket count, then per
    // bucket its word count and where its keys, its costs and its classes start.
    let mut out = Vec::new();
    out.extend_from_slice(b"KDC2");
    out.extend_from_slice(&u32::from(cost(1)).to_le_bytes());
    out.extend_from_slice(&(MAX_LEN as u32).to_le_bytes());
    let header = out.len() + MAX_LEN * 16;
    let mut body = Vec::new();
    for bucket in &buckets {
        let keys_at = header + body.len();
        for key in bucket.keys() {
            for unit in key {
                body.extend_from_slice(&unit.to_le_bytes());
            }
        }
        let costs_at = header + body.len();
        for word in bucket.values() {
            body.extend_from_slice(&word.cost.to_le_bytes());
        }
        let classes_at = header + body.len();
        body.extend(bucket.values().map(|w| w.class));
        for n in [bucket.len(), keys_at, costs_at, classes_at] {
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
    }
    out.extend_from_slice(&body);

    let mut longest = vec![0u8; CJK_COUNT];
    for (i, bucket) in buckets.iter().enumerate() {
        for key in bucket.keys() {
            if let Some(at) = u32::from(key[0])
                .checked_sub(CJK_FIRST)
                .map(|at| at as usize)
                .filter(|&at| at < CJK_COUNT)
            {
                longest[at] = longest[at].max((i + 1) as u8);
            }
        }
    }
    (out, longest)
}

/// CJK unified ideographs (the basic block and extension A): the dictionary's script.
fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

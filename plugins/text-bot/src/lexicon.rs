//! A small built-in thesaurus of everyday words that name the same thing, for any
//! shop: words of one language each (a Chinese question meets the Chinese version of a
//! FAQ, an English one the English version), applied like the configured synonym groups,
//! which come first. It holds no vocabulary of a trade: the shop's own words are the
//! admin's `synonyms`.
//!
//! Chosen on the tuning halves of the quality test sets (`tests/modules/data/`): a
//! group is here because a tuning message needed it, and no word comes from a held-out
//! message.

/// The groups; a group's first member is what the others are read as.
pub const GROUPS: &[&[&str]] = &[
    &["早餐", "早饭"],
    &["失败", "报错"],
    &["延误", "晚点"],
    &["开发票", "开票"],
    &["儿童", "小孩"],
    &["child", "children", "kid"],
    &["infant", "baby"],
    &["baggage", "luggage", "bag", "suitcase"],
    &["login", "log in", "sign in", "log on"],
    &["contact", "reach", "get in touch"],
    &["price", "cost", "fare", "fee", "charge"],
    &["coupon", "voucher", "promo code", "discount code"],
    &["warranty", "guarantee"],
    &["member", "membership", "vip"],
    &["refund", "money back"],
    &["method", "option"],
];

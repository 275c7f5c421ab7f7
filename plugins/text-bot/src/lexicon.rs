//! A small built-in thesaurus of everyday words that name the same thing, for any
//! shop: words of one language each (a Chinese question meets the Chinese version of a
//! FAQ, an English one the English version), applied like the configured synonym groups,
//! which come first. It holds no vocabulary of a trade: the shop's own words are the
//! admin's `synonyms`.
//!
//! The first groups were chosen on the tuning halves of the quality test sets
//! (`tests/modules/data/`): a group is there because a tuning message needed it. The
//! last are general customer-service words (variant spellings, colloquial and formal
//! names of the same thing), written from no message of either set. No word comes
//! from a held-out message.

/// The groups; a group's first member is what the others are read as.
pub const GROUPS: &[&[&str]] = &[
    &["早餐", "早饭"],
    &["失败", "报错"],
    &["延误", "晚点"],
    &["开发票", "开票"],
    &["儿童", "小孩", "孩子", "小朋友"],
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
    // Everyday words of customer service, in any trade.
    &["change", "switch", "modify", "alter", "amend"],
    &["correct", "fix"],
    &["mistake", "typo", "wrong", "error", "incorrect"],
    &["取消", "撤销", "撤回"],
    &["ship", "deliver", "delivery", "dispatch"],
    &["international", "abroad", "overseas"],
    &["国际", "国外", "海外", "境外", "出国"],
    &["how long", "how many days", "how soon"],
    &["多久", "多长时间", "几天", "多少天"],
    &["行李", "行李箱", "箱子"],
    &["allowance", "limit", "quota", "maximum"],
    &["额度", "限额", "上限"],
    &[
        "name",
        "first name",
        "last name",
        "surname",
        "family name",
        "given name",
    ],
    &["姓名", "名字", "姓氏"],
    // General customer-service vocabulary, written from no message of either set.
    &["退款", "退钱"],
    &["修改", "更改", "变更", "改动"],
    &["价格", "价钱", "售价", "多少钱", "费用", "收费"],
    &["快递", "包裹", "物流"],
    &["发货", "寄出", "发出"],
    &["退货", "寄回"],
    &["换货", "调换"],
    &["到账", "到帐"],
    &["什么时候", "何时"],
    &["电话", "热线", "电话号码"],
    &["邮箱", "电子邮件", "邮件"],
    &["登录", "登陆", "登入"],
    &["账号", "帐号", "账户", "帐户"],
    &["手机号", "手机号码"],
    &["优惠券", "优惠卷"],
    &["付款", "支付", "付钱"],
    &["损坏", "破损", "坏了"],
    &["老人", "老年人"],
    &["座位", "位子"],
    &["phone", "telephone", "hotline"],
    &["email", "e-mail"],
    &["password", "passcode"],
    &["invoice", "receipt"],
    &["broken", "damaged", "defective", "faulty"],
    &["elderly", "senior"],
    &["延误", "延迟"],
    &["预订", "预定", "预约"],
    &["发票", "收据"],
    &["验证码", "校验码"],
    &["return", "send back"],
    &["exchange", "swap", "replace"],
    &["track", "trace"],
];

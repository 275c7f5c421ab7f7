use super::*;

fn plain() -> Analyzer<'static> {
    Analyzer::new([])
}

/// The terms of `text`, as `kind:text` for the Chinese ones.
fn kinds(text: &str) -> Vec<&'static str> {
    terms(&plain().normalize(text))
        .iter()
        .map(|t| match t.kind {
            Kind::Word => "w",
            Kind::Inner => "i",
            Kind::Char => "c",
            Kind::Piece => "p",
            Kind::Latin => "l",
            Kind::Number => "n",
            Kind::Joined => "j",
        })
        .collect()
}

#[test]
fn stop_words_are_sorted_for_binary_search() {
    assert!(EN_STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
    assert!(ZH_STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
    assert!(EN_IRREGULAR.windows(2).all(|w| w[0].0 < w[1].0));
}

#[test]
fn cuts_chinese_into_words_with_their_characters() {
    // 我 | 要 | 退款 (with 退 and 款) | 吗
    assert_eq!(kinds("我要退款吗？"), ["c", "c", "w", "p", "p", "c"]);
    let t = terms("退款");
    assert_eq!(t[0].hash, hash_str("退款"));
    assert_eq!(t[1].hash, hash_char('退'));
    // A function word is a term, but gives no characters.
    let how = terms("怎么");
    assert_eq!(how.len(), 1);
    assert!(how[0].function);
    // Search mode: the words inside a long one.
    assert_eq!(
        kinds("笔记本电脑"),
        ["w", "i", "i", "i", "p", "p", "p", "p", "p"]
    );
    // Rarity: common words tell little when the knowledge base lacks them, nouns and
    // rare words much.
    let rarity = |text: &str| terms(text)[0].rarity;
    assert!(rarity("红烧肉") > 0.9, "{}", rarity("红烧肉"));
    assert!(rarity("看") < 0.1, "{}", rarity("看"));
    assert!(rarity("北京") >= 0.7, "{}", rarity("北京"));
    assert_eq!(rarity("吗"), 0.0);
    // Politeness and asking carry no topic, whatever the dictionary says.
    assert_eq!(rarity("请问"), 0.0);
    assert_eq!(rarity("怎么办"), 0.0);
    assert!(terms("您好").iter().all(|t| t.function));
    // 有 is a light verb, like "have".
    assert!(terms("有")[0].function);
}

#[test]
fn splits_latin_words_and_drops_stop_words() {
    let t = terms(&plain().normalize("How do I get my REFUNDS?"));
    let words: Vec<_> = t.iter().filter(|t| t.kind != Kind::Joined).collect();
    assert_eq!(words.len(), 1);
    assert_eq!(
        (words[0].hash, words[0].kind),
        (hash_str("refund"), Kind::Latin)
    );
    assert_eq!(kinds("iPhone 15 电池"), ["l", "n", "w", "p", "p"]);
    // A verb and its particle also give their closed compound.
    assert_eq!(kinds("check in"), ["l", "j"]);
    let joined = |text: &str| {
        terms(&plain().normalize(text))
            .iter()
            .any(|t| t.kind == Kind::Joined && t.hash == hash_str("checkin"))
    };
    assert!(joined("Online check-in"));
    assert!(joined("checking in"));
    assert!(!joined("check 3 in"));
}

#[test]
fn reads_variants_of_the_same_text_alike() {
    let a = plain();
    // Traditional characters, full width, case and punctuation.
    assert_eq!(a.normalize("退貨，發票？"), a.normalize("退货 发票"));
    assert_eq!(a.normalize("ＰａｙＰａｌ　２"), "paypal 2");
    // Separable verbs, closed.
    assert_eq!(a.normalize("退一下钱"), a.normalize("退钱"));
    assert_eq!(a.normalize("换个货"), "换货");
    assert_eq!(a.normalize("一个人"), "一个人");
    // Contractions, plurals and tenses.
    assert_eq!(a.normalize("can't"), "can not");
    assert_eq!(a.normalize("Won't it?"), "will not it");
    assert_eq!(a.normalize("it's my points'"), "it my point");
    assert_eq!(
        a.normalize("cancelled bookings"),
        a.normalize("cancel booking")
    );
    assert_eq!(stem("warranties"), stem("warranty"));
    // Irregular ones.
    assert_eq!(a.normalize("children paid"), a.normalize("child pays"));
    assert_eq!(a.normalize("tickets bought"), a.normalize("ticket buying"));
    assert_eq!(stem("退款"), "退款");
}

#[test]
fn replaces_synonyms_by_their_group_s_first_member() {
    let groups = [
        vec!["退款".to_owned(), "退钱".to_owned()],
        vec![
            "sweater".to_owned(),
            "jumper".to_owned(),
            "pull over".to_owned(),
        ],
    ];
    let a = Analyzer::new(groups.iter().map(Vec::as_slice));
    assert_eq!(a.normalize("退錢"), "退款");
    // Members are stemmed like messages.
    assert_eq!(a.normalize("Jumpers"), "sweater");
    assert_eq!(a.normalize("a pull-over"), "a sweater");
    assert_eq!(a.normalize("blog input"), "blog input");
}

#[test]
fn corrects_words_the_knowledge_base_knows() {
    let a = plain().with_speller(["How do I track my parcel?", "收货地址"], []);
    assert_eq!(
        a.normalize("trak my parcle"),
        a.normalize("track my parcel")
    );
}

#[test]
fn dice_of_similar_phrasings() {
    let a = grams("退款多久到账");
    let b = grams("退款什么时候到账");
    let c = grams("修改收货地址");
    assert!(dice(&a, &a) > 0.99);
    assert!(dice(&a, &b) > 0.3);
    assert!(dice(&a, &c) < 0.01);
    assert_eq!(dice(&[], &[]), 0.0);
    // Latin words compare by their letter pairs, stop words left out.
    assert!(dice(&grams("the refund"), &grams("refund")) > 0.99);
}

#[test]
fn corrects_a_misspelt_built_in_synonym() {
    let no_groups: [&[String]; 0] = [];
    let a = Analyzer::new(no_groups).with_speller(["Is a bag included?"], no_groups);
    assert_eq!(a.normalize("suitcse"), a.normalize("baggage"));
}

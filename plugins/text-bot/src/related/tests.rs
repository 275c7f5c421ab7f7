use super::*;

/// The term a thesaurus member stands for, if it is one.
fn member_term(analyzer: &Analyzer<'_>, m: &str) -> Option<u64> {
    match member(analyzer, m) {
        Some(Member::Term(h)) => Some(h),
        _ => None,
    }
}

#[test]
fn relates_only_to_terms_of_the_knowledge_base() {
    let analyzer = Analyzer::new(std::iter::empty());
    let pet = member_term(&analyzer, "宠物").unwrap();
    let flight = member_term(&analyzer, "flight").unwrap();
    let (related, words) = Related::build(&analyzer, |h| h == pet || h == flight);
    let dog = member_term(&analyzer, "狗狗").unwrap();
    assert_eq!(
        related.of(dog).collect::<Vec<_>>(),
        [(pet, Relation::Broader)]
    );
    // "planes" is read as "plane", a near-synonym of "flight".
    let plane = member_term(&analyzer, "planes").unwrap();
    assert_eq!(
        related.of(plane).collect::<Vec<_>>(),
        [(flight, Relation::Near)]
    );
    assert!(words.contains(&"狗狗") && words.contains(&"plane"));
    assert_eq!(related.of(pet).count(), 0);
    let bytes = postcard::to_allocvec(&related).unwrap();
    let read: Related<'_> = postcard::from_bytes(&bytes).unwrap();
    assert!(matches!(read.pairs, Cow::Borrowed(_)));
    assert_eq!(read.of(dog).count(), 1);
}

#[test]
fn reads_a_phrase_of_several_words_as_one_term() {
    let analyzer = Analyzer::new(std::iter::empty());
    let invoice = member_term(&analyzer, "发票").unwrap();
    assert!(matches!(
        member(&analyzer, "行程单"),
        Some(Member::Phrase(_))
    ));
    let (related, _) = Related::build(&analyzer, |h| h == invoice);
    let found = related.phrases_in("行程单在哪打印");
    assert_eq!(found.len(), 1);
    assert_eq!(
        related.of(found[0].hash).collect::<Vec<_>>(),
        [(invoice, Relation::Near)]
    );
    assert!(related.phrases_in("在哪打印").is_empty());
}

#[test]
fn finds_an_english_phrase_on_word_boundaries() {
    let analyzer = Analyzer::new(std::iter::empty());
    let child = member_term(&analyzer, "child").unwrap();
    let (related, _) = Related::build(&analyzer, |h| h == child);
    let year_old = hash_str("year old");
    let found = |text: &str| related.phrases_in(text).iter().any(|t| t.hash == year_old);
    assert!(found("book for my 3 year old"));
    assert!(found("year old kid"));
    assert!(!found("a year older"));
    assert!(!found("ayear old"));
}

/// Every member of the thesaurus reads as a term or a phrase: a function word or a
/// stop word could never be matched.
#[test]
fn every_member_is_a_word_or_a_phrase() {
    let analyzer = Analyzer::new(std::iter::empty());
    let members =
        thesaurus::NEAR
            .iter()
            .flat_map(|g| g.iter().copied())
            .chain(thesaurus::BROADER.iter().flat_map(|(head, narrower)| {
                std::iter::once(*head).chain(narrower.iter().copied())
            }));
    let unusable: Vec<&str> = members.filter(|m| member(&analyzer, m).is_none()).collect();
    assert!(
        unusable.is_empty(),
        "neither a word nor a phrase: {unusable:?}"
    );
}

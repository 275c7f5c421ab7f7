use super::*;

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

/// Every member of the thesaurus reads as one term: a member that reads as several
/// could never be matched.
#[test]
fn every_member_is_one_word() {
    let analyzer = Analyzer::new(std::iter::empty());
    let members =
        thesaurus::NEAR
            .iter()
            .flat_map(|g| g.iter().copied())
            .chain(thesaurus::BROADER.iter().flat_map(|(head, narrower)| {
                std::iter::once(*head).chain(narrower.iter().copied())
            }));
    let unusable: Vec<&str> = members
        .filter(|m| member_term(&analyzer, m).is_none())
        .collect();
    assert!(unusable.is_empty(), "not one word: {unusable:?}");
}

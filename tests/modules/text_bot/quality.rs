//! The answer quality on the two evaluation sets of `data/` (see `data/README.md`):
//! every message is sent, in a fresh session, through the real component with the
//! default thresholds, and the figures of each set's `tune` and `held_out` halves are
//! printed (`cargo test -p kefu-tests --test modules text_bot::quality -- --nocapture`).
//!
//! The matching's weights and the default thresholds were chosen looking at the `tune`
//! halves only: the test lists the misses of those, and only counts the others, whose
//! figures show how the choice generalises.
//!
//! - **Top-1** counts only direct answers with the right FAQ: a "did you mean" menu,
//!   even with the right FAQ first, is not a hit (the user had to do more).
//! - **Right language**: of the direct answers whose FAQ the knowledge base has in the
//!   user's language, those given in it; a "did you mean" menu is wrong when it offers
//!   a FAQ twice or labels one in another language than the user's, when it has it.
//! - **Off-topic false answers**: off-topic messages answered directly with any FAQ.
//! - **Agent questions kept**: questions that mention an agent without asking for one,
//!   not transferred; **agent requests**: requests for one, transferred.

use std::collections::HashSet;

use kefu::flow::Trigger;
use kefu::plugin::FailureKind;
use kefu_tests::modules::{Conversation, Harness, Step};
use serde_json::Value;

use super::answered;

/// One evaluation set: a knowledge base (a node configuration) and its messages.
struct Set {
    name: &'static str,
    config: Value,
    queries: Value,
}

fn sets() -> [Set; 2] {
    let parse = |text: &str| -> Value { serde_json::from_str(text).unwrap() };
    [
        Set {
            name: "shop set",
            config: parse(include_str!("../data/text_bot_kb.json")),
            queries: parse(include_str!("../data/text_bot_queries.json")),
        },
        Set {
            name: "travel set",
            config: parse(include_str!("../data/text_bot_travel_kb.json")),
            queries: parse(include_str!("../data/text_bot_travel_queries.json")),
        },
    ]
}

/// How one half of a set fared.
#[derive(Default)]
struct Tally {
    questions: usize,
    hits: usize,
    suggested: usize,
    in_language: usize,
    right_language: usize,
    menus: usize,
    bad_menus: usize,
    off_topic: usize,
    false_answers: usize,
    mentions: usize,
    mentions_kept: usize,
    requests: usize,
    requests_transferred: usize,
}

fn percent(part: usize, whole: usize) -> f64 {
    100.0 * part as f64 / whole.max(1) as f64
}

impl Tally {
    fn top1(&self) -> f64 {
        percent(self.hits, self.questions)
    }

    fn line(&self, name: &str) -> String {
        let mut line = format!(
            "{name}: top-1 {:.1}% ({}/{}), right FAQ under \"did you mean\" {}, right language {:.1}% ({}/{}), \
             menus offering a FAQ twice or in another language {}/{}, off-topic false answers {:.1}% ({}/{})",
            self.top1(),
            self.hits,
            self.questions,
            self.suggested,
            percent(self.right_language, self.in_language),
            self.right_language,
            self.in_language,
            self.bad_menus,
            self.menus,
            percent(self.false_answers, self.off_topic),
            self.false_answers,
            self.off_topic,
        );
        if self.mentions + self.requests > 0 {
            line.push_str(&format!(
                ", agent questions not transferred {:.1}% ({}/{}), agent requests transferred {}/{}",
                percent(self.mentions_kept, self.mentions),
                self.mentions_kept,
                self.mentions,
                self.requests_transferred,
                self.requests,
            ));
        }
        line
    }
}

/// The language a text is written in, as the module tells it: Chinese when it has a
/// Chinese character.
fn language(text: &str) -> &'static str {
    let chinese = text
        .chars()
        .any(|c| ('\u{3400}'..='\u{9FFF}').contains(&c) || ('\u{F900}'..='\u{FAFF}').contains(&c));
    if chinese { "zh" } else { "en" }
}

/// The languages each FAQ of `config` is written in.
fn faq_languages(config: &Value, id: &str) -> HashSet<&'static str> {
    let faq = config["faqs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap();
    std::iter::once(faq)
        .chain(faq["translations"].as_array().into_iter().flatten())
        .map(|v| {
            v["lang"].as_str().map_or_else(
                || language(v["question"].as_str().unwrap()),
                |l| if l == "zh" { "zh" } else { "en" },
            )
        })
        .collect()
}

/// Which half a message belongs to: 0 for `tune`, 1 for `held_out`.
fn half(message: &Value) -> usize {
    match message["split"].as_str() {
        Some("tune") => 0,
        Some("held_out") => 1,
        other => panic!("{message}: split {other:?}"),
    }
}

/// Whether a "did you mean" menu offers each FAQ once, each in the user's language when
/// the FAQ has it.
fn menu_is_right(config: &Value, step: &Step, lang: &str) -> bool {
    let Some((_, choices)) = step.menu() else {
        return true;
    };
    let ids: HashSet<&str> = choices.iter().map(|(id, _)| id.as_str()).collect();
    ids.len() == choices.len()
        && choices
            .iter()
            .all(|(id, label)| !faq_languages(config, id).contains(lang) || language(label) == lang)
}

/// The session enters the node, or the user writes `text`: a step retried when a busy
/// machine kept it past its wall-clock deadline, since quality does not depend on speed
/// (the benchmark measures that).
async fn step(c: &mut Conversation<'_>, text: Option<&str>) -> Step {
    for _ in 0..3 {
        let result = match text {
            Some(text) => c.try_say(text).await,
            None => c.step(Trigger::Entered).await,
        };
        match result {
            Ok(step) => return step,
            Err(failure) if failure.kind == FailureKind::Deadline => continue,
            Err(failure) => panic!("{text:?}: {failure:?}"),
        }
    }
    panic!("{text:?}: past the deadline three times")
}

/// Runs one set; returns its halves and the misses of the `tune` half.
async fn run(h: &Harness, set: &Set) -> ([Tally; 2], Vec<String>) {
    let mut c = h.conversation("text-bot", set.config.clone()).await;
    let mut halves = [Tally::default(), Tally::default()];
    let mut misses = Vec::new();
    let q = &set.queries;
    for m in q["questions"].as_array().unwrap() {
        let (text, want) = (m["text"].as_str().unwrap(), m["faq"].as_str().unwrap());
        let lang = language(text);
        let part = &mut halves[half(m)];
        part.questions += 1;
        step(&mut c, None).await;
        let step = step(&mut c, Some(text)).await;
        let mut miss = None;
        match answered(&step) {
            Some(got) => {
                if faq_languages(&set.config, &got).contains(lang) {
                    part.in_language += 1;
                    let answer = step.texts().concat();
                    if language(&answer) == lang {
                        part.right_language += 1;
                    } else {
                        miss = Some(format!("{text:?}: answered {got} in another language"));
                    }
                }
                if got == want {
                    part.hits += 1;
                } else {
                    miss = Some(format!("{text:?}: answered {got}, expected {want}"));
                }
            }
            None if step.menu().is_some() => {
                part.menus += 1;
                if !menu_is_right(&set.config, &step, lang) {
                    part.bad_menus += 1;
                }
                let (_, choices) = step.menu().unwrap();
                let offered: Vec<&str> = choices.iter().map(|(id, _)| id.as_str()).collect();
                if offered.contains(&want) {
                    part.suggested += 1;
                }
                miss = Some(format!("{text:?}: offered {offered:?}, expected {want}"));
            }
            None => miss = Some(format!("{text:?}: not understood, expected {want}")),
        }
        if let Some(miss) = miss.filter(|_| half(m) == 0) {
            misses.push(miss);
        }
    }
    for m in q["off_topic"].as_array().unwrap() {
        let text = m["text"].as_str().unwrap();
        let part = &mut halves[half(m)];
        part.off_topic += 1;
        step(&mut c, None).await;
        if let Some(got) = answered(&step(&mut c, Some(text)).await) {
            part.false_answers += 1;
            if half(m) == 0 {
                misses.push(format!("{text:?} (off-topic): answered {got}"));
            }
        }
    }
    for (kind, transfer_wanted) in [("agent_mentions", false), ("agent_requests", true)] {
        for m in q[kind].as_array().into_iter().flatten() {
            let text = m["text"].as_str().unwrap();
            let part = &mut halves[half(m)];
            step(&mut c, None).await;
            let transferred = step(&mut c, Some(text)).await.exit() == Some("transfer");
            if transfer_wanted {
                part.requests += 1;
                part.requests_transferred += usize::from(transferred);
            } else {
                part.mentions += 1;
                part.mentions_kept += usize::from(!transferred);
            }
            if transferred != transfer_wanted && half(m) == 0 {
                misses.push(format!("{text:?} ({kind}): transferred {transferred}"));
            }
        }
    }
    (halves, misses)
}

#[tokio::test]
async fn answer_quality_on_the_evaluation_sets() {
    let h = Harness::new();
    let [shop, travel] = sets();
    assert!(shop.queries["questions"].as_array().unwrap().len() >= 160);
    let travel_questions = travel.queries["questions"].as_array().unwrap();
    let faqs: HashSet<&str> = travel_questions
        .iter()
        .map(|q| q["faq"].as_str().unwrap())
        .collect();
    assert!(travel_questions.len() >= 300 && faqs.len() >= 20);
    assert!(travel.queries["off_topic"].as_array().unwrap().len() >= 100);
    assert!(travel.queries["agent_mentions"].as_array().unwrap().len() >= 30);

    println!("text-bot quality");
    let mut results = Vec::new();
    for set in [&shop, &travel] {
        let (halves, misses) = run(&h, set).await;
        println!("  {}", set.name);
        println!("    {}", halves[0].line("tune"));
        println!("    {}", halves[1].line("held-out"));
        for miss in &misses {
            println!("      [tune] {miss}");
        }
        results.push(halves);
    }

    // The travel set's held-out half, against the targets: the right language
    // always, no menu offering a FAQ twice, off-topic false answers <= 3 %, questions
    // that mention an agent kept >= 90 %, and every request transferred. Top-1 is below
    // the 85 % (78.5 %, 128/163, when this was written; 77.9 % before what a
    // question asks for counted, 74.8 % before the built-in thesaurus of related words,
    // 68.1 % before answers counted more, the everyday customer-service synonyms,
    // irregular English forms, closed compounds and colloquial Chinese): the floor
    // catches a regression, or a retuning that only fits the tuning half.
    let held_out = &results[1][1];
    assert!(
        held_out.top1() >= 78.0,
        "top-1 {:.1}% < 78%",
        held_out.top1()
    );
    assert_eq!(
        held_out.right_language, held_out.in_language,
        "answers in another language"
    );
    assert_eq!(
        held_out.bad_menus, 0,
        "menus offering a FAQ twice or in another language"
    );
    assert!(percent(held_out.false_answers, held_out.off_topic) <= 3.0);
    assert!(percent(held_out.mentions_kept, held_out.mentions) >= 90.0);
    assert_eq!(held_out.requests_transferred, held_out.requests);
    // The shop set, with the same floors: 88.4 % top-1 (191/216) and 4 % off-topic false
    // answers (2/50) on the whole, 84.4 % (81/96) on its held-out half, when written;
    // 86.5 % (83/96) on the held-out half once what a question asks for counted.
    let (tune, held) = (&results[0][0], &results[0][1]);
    let top1 = percent(tune.hits + held.hits, tune.questions + held.questions);
    assert!(top1 >= 88.0, "shop set top-1 {top1:.1}% < 88%");
    assert!(
        percent(
            tune.false_answers + held.false_answers,
            tune.off_topic + held.off_topic
        ) <= 5.0
    );
    assert!(
        held.top1() >= 85.0,
        "shop set held-out top-1 {:.1}%",
        held.top1()
    );
    assert_eq!(held.right_language, held.in_language);
}

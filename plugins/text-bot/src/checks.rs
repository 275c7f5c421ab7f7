//! The checks of a configuration that serde cannot express, each problem named by its
//! JSON pointer.

use std::collections::HashSet;

use kefu_flow_sdk::{ConfigProblem, Error};

use crate::analyze::{Analyzer, terms};
use crate::config::*;
use crate::lang::Lang;

impl Config {
    /// Every problem serde could not see, each with its JSON pointer.
    pub fn problems(&self) -> Result<Vec<ConfigProblem>, Error> {
        let faqs = self.faqs()?;
        let mut p = Problems::default();
        p.faqs(
            &faqs,
            &Analyzer::new(self.synonyms.iter().map(Vec::as_slice)),
        );
        let ids: HashSet<&str> = faqs.iter().map(|f| f.id.as_str()).collect();

        if self.hot_questions.len() > MAX_HOT_QUESTIONS {
            p.add(
                "/hot_questions",
                format!("at most {MAX_HOT_QUESTIONS} hot questions"),
            );
        }
        let mut hot = HashSet::new();
        for (i, id) in self.hot_questions.iter().enumerate() {
            let at = format!("/hot_questions/{i}");
            if !ids.contains(id.as_str()) {
                p.add(&at, format!("no FAQ has the id {id:?}"));
            } else if !hot.insert(id.as_str()) {
                p.add(&at, format!("{id:?} is listed twice"));
            }
        }

        p.text("/welcome", &self.welcome, MAX_MESSAGE_CHARS);
        p.text("/did_you_mean", &self.did_you_mean, MAX_MESSAGE_CHARS);
        p.text("/not_understood", &self.not_understood, MAX_MESSAGE_CHARS);
        for (field, message) in [
            ("/transfer_message", &self.transfer_message),
            ("/end_message", &self.end_message),
            ("/timeout_message", &self.timeout_message),
        ] {
            if let Some(m) = message {
                p.length(field, m, MAX_MESSAGE_CHARS);
            }
        }
        for (lang, texts) in &self.texts {
            for (field, message) in [
                ("did_you_mean", &texts.did_you_mean),
                ("not_understood", &texts.not_understood),
                ("transfer_message", &texts.transfer_message),
                ("end_message", &texts.end_message),
                ("timeout_message", &texts.timeout_message),
            ] {
                if let Some(m) = message {
                    p.length(
                        &format!("/texts/{}/{field}", lang.code()),
                        m,
                        MAX_MESSAGE_CHARS,
                    );
                }
            }
        }
        p.keywords("/transfer_keywords", &self.transfer_keywords);
        p.keywords("/end_keywords", &self.end_keywords);

        if self.max_misses > MAX_MISSES {
            p.add("/max_misses", format!("must be at most {MAX_MISSES}"));
        }
        let (min, max) = IDLE_TIMEOUT_SECS;
        if !(min..=max).contains(&self.idle_timeout_secs) {
            p.add(
                "/idle_timeout_secs",
                format!("must be between {min} and {max} seconds"),
            );
        }

        if self.synonyms.len() > MAX_SYNONYM_GROUPS {
            p.add(
                "/synonyms",
                format!("at most {MAX_SYNONYM_GROUPS} synonym groups"),
            );
        }
        for (i, group) in self.synonyms.iter().enumerate() {
            let at = format!("/synonyms/{i}");
            if !(2..=MAX_SYNONYMS_PER_GROUP).contains(&group.len()) {
                p.add(
                    &at,
                    format!("a group has 2 to {MAX_SYNONYMS_PER_GROUP} members"),
                );
            }
            for (j, word) in group.iter().enumerate() {
                p.keyword(&format!("{at}/{j}"), word);
            }
        }

        for (field, value) in [
            ("/answer_threshold", self.answer_threshold),
            ("/suggest_threshold", self.suggest_threshold),
            ("/ambiguity_margin", self.ambiguity_margin),
        ] {
            if !(0.0..=1.0).contains(&value) {
                p.add(field, "must be between 0 and 1");
            }
        }
        if self.suggest_threshold > self.answer_threshold {
            p.add("/suggest_threshold", "must not be above answer_threshold");
        }
        Ok(p.0)
    }
}

/// Collects problems.
#[derive(Default)]
struct Problems(Vec<ConfigProblem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigProblem::new(path, message));
    }

    /// The knowledge base: its size, ids, phrasings, answers and languages.
    fn faqs(&mut self, faqs: &[Faq], analyzer: &Analyzer<'_>) {
        if faqs.is_empty() {
            self.add("/faqs", "must have at least one FAQ");
        }
        if faqs.len() > MAX_FAQS {
            self.add(
                "/faqs",
                format!("has {} FAQs; at most {MAX_FAQS}", faqs.len()),
            );
        }
        let mut ids = HashSet::new();
        let mut entries = 0;
        for (i, faq) in faqs.iter().enumerate() {
            let at = format!("/faqs/{i}");
            self.text(&format!("{at}/id"), &faq.id, MAX_ID_CHARS);
            if !faq.id.trim().is_empty() && !ids.insert(faq.id.as_str()) {
                self.add(format!("{at}/id"), format!("duplicate FAQ id {:?}", faq.id));
            }
            if faq.translations.len() > MAX_TRANSLATIONS {
                self.add(
                    format!("{at}/translations"),
                    format!("at most {MAX_TRANSLATIONS} translation: one per other language"),
                );
            }
            let mut langs: Vec<Lang> = Vec::new();
            for (v, version) in faq.versions().iter().enumerate() {
                let at = match v {
                    0 => at.clone(),
                    _ => format!("{at}/translations/{}", v - 1),
                };
                self.version(&at, version, analyzer);
                entries += 2 + version.alternatives.len();
                if langs.contains(&version.lang) {
                    self.add(
                        format!("{at}/lang"),
                        format!(
                            "the FAQ is already in {:?}: one version per language",
                            version.lang.code()
                        ),
                    );
                }
                langs.push(version.lang);
            }
        }
        if entries > MAX_ENTRIES {
            self.add(
                "/faqs",
                format!("has {entries} questions, alternatives and answers in all; at most {MAX_ENTRIES}"),
            );
        }
    }

    /// One language version of a FAQ, at `at`.
    fn version(&mut self, at: &str, version: &Version<'_>, analyzer: &Analyzer<'_>) {
        self.phrase(&format!("{at}/question"), version.question, analyzer);
        if version.alternatives.len() > MAX_ALTERNATIVES {
            self.add(
                format!("{at}/alternatives"),
                format!("at most {MAX_ALTERNATIVES} alternatives"),
            );
        }
        for (j, alt) in version.alternatives.iter().enumerate() {
            self.phrase(&format!("{at}/alternatives/{j}"), alt, analyzer);
        }
        self.text(&format!("{at}/answer"), version.answer, MAX_ANSWER_CHARS);
    }

    /// A text that must not be blank, at most `max` characters.
    fn text(&mut self, path: &str, text: &str, max: usize) {
        if text.trim().is_empty() {
            self.add(path, "must not be empty");
        } else {
            self.length(path, text, max);
        }
    }

    fn length(&mut self, path: &str, text: &str, max: usize) {
        let n = text.chars().count();
        if n > max {
            self.add(path, format!("is {n} characters long; at most {max}"));
        }
    }

    /// A question or alternative: not blank, bounded, and with something to match on.
    fn phrase(&mut self, path: &str, text: &str, analyzer: &Analyzer<'_>) {
        if text.trim().is_empty() {
            self.add(path, "must not be empty");
        } else if text.chars().count() > MAX_QUESTION_CHARS {
            self.length(path, text, MAX_QUESTION_CHARS);
        } else if terms(&analyzer.normalize(text)).is_empty() {
            self.add(
                path,
                "has nothing to match on: only punctuation or words too common to tell questions apart",
            );
        }
    }

    fn keywords(&mut self, path: &str, words: &[String]) {
        if words.len() > MAX_KEYWORDS {
            self.add(path, format!("at most {MAX_KEYWORDS} keywords"));
        }
        for (i, word) in words.iter().enumerate() {
            self.keyword(&format!("{path}/{i}"), word);
        }
    }

    fn keyword(&mut self, path: &str, word: &str) {
        if kefu_flow_sdk::text::fold_and_strip(word).is_empty() {
            self.add(path, "must contain a letter, digit or character");
        } else {
            self.length(path, word, MAX_KEYWORD_CHARS);
        }
    }
}

#[cfg(test)]
mod tests;

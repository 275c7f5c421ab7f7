//! The JSON Schema (draft 2020-12) of the configuration, which `describe()` publishes.

use kefu_flow_sdk::{Value, json};

use crate::config::*;

/// The JSON Schema (draft 2020-12) of the configuration.
pub fn schema() -> Value {
    let text = |description: &str, max: usize| json!({ "type": "string", "minLength": 1, "maxLength": max, "description": description });
    let optional = |description: &str| json!({ "type": ["string", "null"], "maxLength": MAX_MESSAGE_CHARS, "description": description });
    let keywords = |description: &str, default: Vec<String>| {
        json!({
            "type": "array",
            "description": description,
            "maxItems": MAX_KEYWORDS,
            "items": { "type": "string", "minLength": 1, "maxLength": MAX_KEYWORD_CHARS },
            "default": default
        })
    };
    let texts = json!({
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "did_you_mean": optional("The did_you_mean title."),
            "not_understood": optional("The not_understood reply."),
            "transfer_message": optional("The transfer_message."),
            "end_message": optional("The end_message."),
            "timeout_message": optional("The timeout_message.")
        }
    });
    let lang = |description: &str| json!({ "type": "string", "enum": ["zh", "en"], "description": description });
    let alternatives = json!({
        "description": "Other ways users ask the question in this language (paraphrases, keywords).",
        "type": "array",
        "maxItems": MAX_ALTERNATIVES,
        "items": { "type": "string", "minLength": 1, "maxLength": MAX_QUESTION_CHARS },
        "default": []
    });
    let answer = text(
        "The answer; ${Name} placeholders are filled from the session's variables.",
        MAX_ANSWER_CHARS,
    );
    let fraction = |description: &str, default: f32| json!({ "type": "number", "minimum": 0, "maximum": 1, "default": default, "description": description });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Text bot",
        "type": "object",
        "required": ["faqs"],
        "additionalProperties": false,
        "properties": {
            "faqs": {
                "description": "The knowledge base: each FAQ with its question, other ways users ask it, and the answer.",
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_FAQS,
                "items": {
                    "type": "object",
                    "required": ["id", "question", "answer"],
                    "additionalProperties": false,
                    "properties": {
                        "id": text("Unique id of the FAQ; the menu choice id, and what hot_questions name.", MAX_ID_CHARS),
                        "question": text("The question, as menus show it; matched like the alternatives.", MAX_QUESTION_CHARS),
                        "alternatives": alternatives.clone(),
                        "answer": answer.clone(),
                        "lang": lang("The language of the question and answer; when absent, the question's (zh when it has a Chinese character, else en)."),
                        "translations": {
                            "description": "The same FAQ in another language: a user writing in it is answered, and offered the question, in it.",
                            "type": "array",
                            "maxItems": MAX_TRANSLATIONS,
                            "items": {
                                "type": "object",
                                "required": ["question", "answer"],
                                "additionalProperties": false,
                                "properties": {
                                    "question": text("The question in this language.", MAX_QUESTION_CHARS),
                                    "alternatives": alternatives,
                                    "answer": answer,
                                    "lang": lang("The language of this version; when absent, its question's.")
                                }
                            },
                            "default": []
                        }
                    }
                }
            },
            "welcome": {
                "description": "Sent on entry: the title of the hot-question menu, or a text alone when there are no hot questions.",
                "type": "string", "minLength": 1, "maxLength": MAX_MESSAGE_CHARS,
                "default": defaults::welcome()
            },
            "hot_questions": {
                "description": "Ids of FAQs offered as a menu on entry, in order. The user picks one by tapping it, by its number or by asking.",
                "type": "array", "maxItems": MAX_HOT_QUESTIONS, "uniqueItems": true,
                "items": { "type": "string" }, "default": []
            },
            "did_you_mean": {
                "description": "Title of the menu offering up to three close FAQs when the best match is not clear.",
                "type": "string", "minLength": 1, "maxLength": MAX_MESSAGE_CHARS,
                "default": defaults::did_you_mean()
            },
            "not_understood": {
                "description": "Sent when no FAQ matches (a miss).",
                "type": "string", "minLength": 1, "maxLength": MAX_MESSAGE_CHARS,
                "default": defaults::not_understood()
            },
            "transfer_keywords": keywords("A message that asks for an agent with one of these leaves by the transfer exit: the keyword alone, or with only words of asking (\"我要人工\", \"can I talk to a human?\"). A question that mentions one (\"人工客服几点下班\") is answered like any other. Latin keywords match whole words.", defaults::transfer_keywords()),
            "transfer_message": optional("Sent before leaving by transfer (keyword or too many misses)."),
            "end_keywords": keywords("A message that is exactly one of these (ignoring case, width and punctuation) leaves by the done exit.", defaults::end_keywords()),
            "end_message": optional("Sent before leaving by done."),
            "max_misses": {
                "description": "Consecutive messages not understood after which the module leaves by transfer; 0 never does. An answer resets the count.",
                "type": "integer", "minimum": 0, "maximum": MAX_MISSES, "default": defaults::max_misses()
            },
            "idle_timeout_secs": {
                "description": "How long to wait for the user's next message before leaving by timeout.",
                "type": "integer", "minimum": IDLE_TIMEOUT_SECS.0, "maximum": IDLE_TIMEOUT_SECS.1,
                "default": defaults::idle_timeout_secs()
            },
            "timeout_message": optional("Sent before leaving by timeout."),
            "texts": {
                "description": "The module's messages in other languages, by language code (zh, en): a user who writes in one gets them instead of the ones above.",
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "zh": texts.clone(),
                    "en": texts
                },
                "default": {}
            },
            "synonyms": {
                "description": "Groups of words or phrases meaning the same (e.g. [\"退款\", \"退钱\"], [\"sweater\", \"jumper\"]): every member is read as the first, ignoring case, width, punctuation, traditional characters and English inflections. For the shop's own vocabulary, the words its customers use for its products and services.",
                "type": "array", "maxItems": MAX_SYNONYM_GROUPS,
                "items": {
                    "type": "array", "minItems": 2, "maxItems": MAX_SYNONYMS_PER_GROUP,
                    "items": { "type": "string", "minLength": 1, "maxLength": MAX_KEYWORD_CHARS }
                },
                "default": []
            },
            "answer_threshold": fraction("Confidence (0-1) at or above which the best FAQ is answered directly (if clearly ahead of the runner-up).", defaults::answer_threshold()),
            "suggest_threshold": fraction("Confidence (0-1) at or above which a FAQ is offered under did_you_mean; below it for every FAQ, the message is a miss.", defaults::suggest_threshold()),
            "ambiguity_margin": fraction("How much more confident than the runner-up the best FAQ must be to be answered directly; otherwise the close ones are offered.", defaults::ambiguity_margin())
        }
    })
}

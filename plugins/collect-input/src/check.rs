//! Checking a reply against what the node expects, and normalising it.
//!
//! Each check answers the value to store, or the problem to tell the user (in the
//! users' language, for the `${problem}` placeholder of the re-prompt). Nothing here
//! calls the host, so that native unit tests exercise all of it.

use kefu_flow_sdk::{Value, text};
use regex::{Regex, RegexBuilder};

use crate::config::Expect;

/// The most a compiled pattern may take, in bytes.
const REGEX_SIZE_LIMIT: usize = 512 * 1024;
/// The deepest nesting of groups and repetitions a pattern may have.
const REGEX_NEST_LIMIT: u32 = 64;
/// Digits of the longest E.164 number.
const E164_MAX_DIGITS: usize = 15;
/// Digits of the shortest international number accepted (country code included).
const E164_MIN_DIGITS: usize = 7;

/// Checks a reply: the value to store, or what is wrong with it.
pub fn check(expect: &Expect, reply: &str) -> Result<Value, String> {
    match expect {
        Expect::Text {
            min_length,
            max_length,
        } => check_text(reply, *min_length, *max_length),
        Expect::Number { integer, min, max } => check_number(reply, *integer, *min, *max),
        Expect::Phone { international } => phone(reply, *international)
            .map(Value::String)
            .ok_or_else(|| {
                if *international {
                    "请输入正确的电话号码（国际号码请以 + 开头）".to_owned()
                } else {
                    "请输入正确的手机号码".to_owned()
                }
            }),
        Expect::Email {} => email(reply)
            .map(Value::String)
            .ok_or_else(|| "请输入正确的邮箱地址".to_owned()),
        Expect::Regex {
            pattern,
            ignore_case,
            hint,
        } => {
            let plain = plain(reply);
            let regex =
                compile(pattern, *ignore_case).map_err(|err| format!("invalid regex: {err}"))?;
            if regex.is_match(&plain) {
                Ok(Value::String(plain))
            } else {
                Err(hint.clone().unwrap_or_else(|| "格式不正确".to_owned()))
            }
        }
        Expect::Choice { options, .. } => choose(options, reply)
            .map(|i| Value::String(options[i].clone()))
            .ok_or_else(|| format!("请从以下选项中选择：{}", options.join(" / "))),
    }
}

/// The reply with full-width forms folded to half-width and its ends trimmed.
fn plain(reply: &str) -> String {
    let folded: String = reply.chars().map(text::fold_width).collect();
    folded.trim().to_owned()
}

/// A text as options compare: width, case, punctuation and spaces ignored.
pub fn compact(text: &str) -> String {
    text::fold_and_strip(text)
        .chars()
        .filter(|c| *c != ' ')
        .collect()
}

/// The number a compact text reads as: 1 to 3 ASCII digits.
pub fn as_number(compact: &str) -> Option<usize> {
    if compact.is_empty() || compact.len() > 3 || !compact.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    compact.parse().ok()
}

/// Compiles a pattern anchored at both ends (the whole reply must match), with the
/// module's size limits. The error is one line, e.g. `unclosed group (at character 1)`.
pub fn compile(pattern: &str, ignore_case: bool) -> Result<Regex, String> {
    // Checked alone first, so that positions in errors are the user's own.
    let build = |pattern: &str| {
        RegexBuilder::new(pattern)
            .case_insensitive(ignore_case)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .nest_limit(REGEX_NEST_LIMIT)
            .build()
            .map_err(describe_regex_error)
    };
    build(pattern)?;
    build(&format!("^(?:{pattern})$"))
}

fn describe_regex_error(err: regex::Error) -> String {
    match err {
        regex::Error::Syntax(message) => {
            let lines: Vec<&str> = message.lines().collect();
            let Some(what) = lines
                .iter()
                .find_map(|line| line.trim_start().strip_prefix("error: "))
            else {
                return message.split_whitespace().collect::<Vec<_>>().join(" ");
            };
            // The pattern is printed indented by four spaces, the carets under it.
            let column = lines
                .iter()
                .find(|line| {
                    line.trim_start().starts_with('^') && line.trim().chars().all(|c| c == '^')
                })
                .and_then(|line| line.find('^'))
                .and_then(|at| at.checked_sub(4));
            match column {
                Some(column) => format!("{what} (at character {})", column + 1),
                None => what.to_owned(),
            }
        }
        regex::Error::CompiledTooBig(limit) => {
            format!("the pattern is too large once compiled (over {limit} bytes)")
        }
        other => other.to_string(),
    }
}

fn check_text(reply: &str, min: u32, max: u32) -> Result<Value, String> {
    let value = reply.trim();
    let length = u32::try_from(value.chars().count()).unwrap_or(u32::MAX);
    if length == 0 && min > 0 {
        return Err("内容不能为空".to_owned());
    }
    if length < min {
        return Err(format!("请至少输入 {min} 个字"));
    }
    if length > max {
        return Err(format!("最多只能输入 {max} 个字"));
    }
    Ok(Value::String(value.to_owned()))
}

fn check_number(
    reply: &str,
    integer: bool,
    min: Option<f64>,
    max: Option<f64>,
) -> Result<Value, String> {
    let number = parse_number(reply).ok_or_else(|| "请输入数字".to_owned())?;
    if integer && !number.is_i64() && !number.is_u64() {
        return Err("请输入整数".to_owned());
    }
    let value = number.as_f64().unwrap_or(f64::NAN);
    if let Some(min) = min.filter(|min| value < *min) {
        return Err(format!("不能小于 {}", show(min)));
    }
    if let Some(max) = max.filter(|max| value > *max) {
        return Err(format!("不能大于 {}", show(max)));
    }
    Ok(Value::Number(number))
}

/// A configured bound as users read it: `10`, not `10.0`.
fn show(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{n:.0}")
    } else {
        n.to_string()
    }
}

/// Reads a number as users type it: full-width digits and signs, spaces, thousands
/// separators (`1,234.5`), a trailing full stop. A whole number is an integer (`3.0`
/// reads as `3`); anything else a decimal. Exponents, `inf` and `NaN` are refused.
pub fn parse_number(reply: &str) -> Option<serde_json::Number> {
    let mut text: String = text::fold(reply).chars().filter(|c| *c != ' ').collect();
    if let Some(stripped) = text.strip_suffix('。') {
        text = stripped.to_owned();
    }
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.strip_prefix('+').unwrap_or(&text)),
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (unsigned, ""),
    };
    let whole = without_separators(whole)?;
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(&whole) || !digits(fraction) {
        return None;
    }
    if fraction.bytes().all(|b| b == b'0') {
        let whole = if whole.is_empty() {
            "0"
        } else {
            whole.as_str()
        };
        if let Ok(n) = format!("{sign}{whole}").parse::<i64>() {
            return Some(n.into());
        }
    }
    let value: f64 = format!("{sign}{whole}.{fraction}0").parse().ok()?;
    serde_json::Number::from_f64(value).filter(|_| value.is_finite())
}

/// The digits of a whole part, without thousands separators; `None` when commas are
/// not where separators go (`12,34`).
fn without_separators(whole: &str) -> Option<String> {
    if !whole.contains(',') {
        return Some(whole.to_owned());
    }
    let mut groups = whole.split(',');
    let first = groups.next()?;
    let first_ok = (1..=3).contains(&first.len());
    let rest: Vec<&str> = groups.collect();
    if !first_ok || rest.iter().any(|group| group.len() != 3) {
        return None;
    }
    Some(whole.replace(',', ""))
}

/// A phone number as stored, or `None` when it is not one. Spaces, dashes, dots and
/// brackets are ignored; `+` or `00` begins an international number.
pub fn phone(reply: &str, international: bool) -> Option<String> {
    let folded: String = reply
        .chars()
        .map(text::fold_width)
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{2010}'..='\u{2015}'))
        .collect();
    let (prefixed, digits) = match folded.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => match folded.strip_prefix("00") {
            Some(rest) => (true, rest),
            None => (false, folded.as_str()),
        },
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mobile = if prefixed || digits.len() == 13 {
        digits.strip_prefix("86").filter(|m| is_chinese_mobile(m))
    } else {
        Some(digits).filter(|m| is_chinese_mobile(m))
    };
    match (mobile, international) {
        (Some(mobile), false) => Some(mobile.to_owned()),
        (Some(mobile), true) => Some(format!("+86{mobile}")),
        (None, true) if prefixed && is_e164(digits) => Some(format!("+{digits}")),
        (None, _) => None,
    }
}

/// `1[3-9]` and nine more digits.
fn is_chinese_mobile(digits: &str) -> bool {
    let bytes = digits.as_bytes();
    bytes.len() == 11
        && bytes[0] == b'1'
        && (b'3'..=b'9').contains(&bytes[1])
        && bytes.iter().all(u8::is_ascii_digit)
}

/// The digits of an E.164 number after its `+`: a country code not starting with 0,
/// 7 to 15 digits in all.
fn is_e164(digits: &str) -> bool {
    (E164_MIN_DIGITS..=E164_MAX_DIGITS).contains(&digits.len()) && !digits.starts_with('0')
}

/// An e-mail address as stored (domain in lower case), or `None` when it is not one.
pub fn email(reply: &str) -> Option<String> {
    let address = plain(reply);
    if address.len() > 254 || address.chars().any(char::is_whitespace) {
        return None;
    }
    let (local, domain) = address.rsplit_once('@')?;
    let local_ok = (1..=64).contains(&local.len())
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let domain = domain.to_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |label: &&str| {
        (1..=63).contains(&label.len())
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    let top = labels.last().copied().unwrap_or_default();
    let top_ok = top.starts_with("xn--")
        || (top.chars().count() >= 2 && top.chars().all(char::is_alphabetic));
    let domain_ok = labels.len() >= 2 && labels.iter().all(label_ok) && top_ok;
    (local_ok && domain_ok).then(|| format!("{local}@{domain}"))
}

/// The index of the option a reply picks: the option itself (width, case, punctuation
/// and spaces ignored), its number, or its number followed by it (`2 否`).
pub fn choose(options: &[String], reply: &str) -> Option<usize> {
    let said = compact(reply);
    if said.is_empty() {
        return None;
    }
    if let Some(i) = options.iter().position(|o| compact(o) == said) {
        return Some(i);
    }
    if let Some(n) = as_number(&said).filter(|n| (1..=options.len()).contains(n)) {
        return Some(n - 1);
    }
    options
        .iter()
        .enumerate()
        .position(|(i, o)| said == format!("{}{}", i + 1, compact(o)))
}
